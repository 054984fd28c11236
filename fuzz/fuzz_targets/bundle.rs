//! Fuzzes the JSON parsers of untrusted Sigstore documents: bundles, trusted roots and
//! Rekor entry submissions.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::{bundle::Bundle, rekor::ProposedEntry, trust::TrustedRoot};

fuzz_target!(|data: &[u8]| {
    let _ = Bundle::from_json(data);
    let _ = TrustedRoot::from_json(data);
    let _ = ProposedEntry::from_json(data);
});
