//! Fuzzes the Rekor v1 JSON parsers of `signet-proto`: proposed entries (`hashedrekord` and
//! `dsse` 0.0.1, the body of `POST /api/v1/log/entries` and the stored canonical bodies),
//! DSSE envelopes with their PAE, the log's API responses a client reads (`LogEntry` maps,
//! `LogInfo`, `ConsistencyProof`) and the search requests the log reads (`SearchIndex`,
//! `SearchLogQuery`).
//!
//! Asserts: a proposed entry's RFC 8785 canonical bytes parse back to the same entry and are
//! a fixed point of canonicalization; `validate` gives the same answer on the canonical form;
//! DSSE envelopes and API responses survive a JSON round trip; the PAE has the DSSE v1 shape.
#![no_main]
use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use signet_proto::bundle::{pae, DsseEnvelope};
use signet_proto::rekor::{
    ConsistencyProof, LogEntryAnon, LogInfo, ProposedEntry, SearchIndex, SearchLogQuery,
};

#[path = "shared/json.rs"]
mod json;
use json::round_trip;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = ProposedEntry::from_json(data) {
        let canon = entry
            .canonical_bytes()
            .expect("a parsed entry canonicalizes");
        let again = ProposedEntry::from_json(&canon).expect("canonical bytes parse");
        assert_eq!(again, entry, "canonical round trip");
        assert_eq!(again.canonical_bytes().expect("canonicalizes"), canon);
        assert_eq!(
            entry.validate().is_ok(),
            again.validate().is_ok(),
            "validation does not depend on the JSON spelling"
        );
    }

    if let Ok(env) = signet_proto::json::from_slice::<DsseEnvelope>(data) {
        let json = serde_json::to_vec(&env).expect("an envelope serializes");
        assert_eq!(
            signet_proto::json::from_slice::<DsseEnvelope>(&json).expect("re-parses"),
            env
        );
        let p = env.pae();
        let head = format!(
            "DSSEv1 {} {} {} ",
            env.payload_type.len(),
            env.payload_type,
            env.payload.len()
        );
        assert!(p.starts_with(head.as_bytes()) && p.ends_with(&env.payload));
        assert_eq!(p.len(), head.len() + env.payload.len());
        assert_eq!(pae(&env.payload_type, &env.payload), p);
    }

    round_trip::<BTreeMap<String, LogEntryAnon>>(data);
    round_trip::<LogInfo>(data);
    round_trip::<ConsistencyProof>(data);
    round_trip::<SearchIndex>(data);
    round_trip::<SearchLogQuery>(data);
});
