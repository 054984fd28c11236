//! Fuzzes the log's entry admission on arbitrary JSON: `signet_log::entries::validate_proposed`
//! (the body of `POST /api/v1/log/entries`: `hashedrekord` 0.0.1 with its fast typed path and
//! `dsse` 0.0.1 `proposedContent`, signatures verified), and `parse_signer` (the PEM
//! certificate or key a submission names).
//!
//! Asserts, for every accepted entry: the leaf hash is RFC 6962's of the body; the body is
//! RFC 8785 canonical JSON of a supported kind; postings are sorted and unique; a
//! `hashedrekord` body is itself a valid submission giving the same entry, and the general
//! `ProposedEntry` path canonicalizes the input to the same body as the fast path.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use signet_log::entries::{parse_signer, validate_proposed};
use signet_proto::merkle::leaf_hash;
use signet_proto::rekor::ProposedEntry;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = validate_proposed(data) {
        assert_eq!(v.leaf_hash, leaf_hash(&v.body));
        let body: Value = serde_json::from_slice(&v.body).expect("the body is JSON");
        assert_eq!(
            signet_proto::jcs::to_vec(&body).expect("canonicalizes"),
            v.body,
            "the body is RFC 8785 canonical"
        );
        assert_eq!(body["apiVersion"], "0.0.1");
        assert!(
            v.postings.windows(2).all(|w| w[0] < w[1]),
            "postings are sorted and unique"
        );
        match body["kind"].as_str() {
            Some("hashedrekord") => {
                let again =
                    validate_proposed(&v.body).expect("a stored body is a valid submission");
                assert_eq!(again, v);
                let general =
                    ProposedEntry::from_json(data).expect("the general path parses it too");
                general
                    .validate()
                    .expect("the general path validates it too");
                assert_eq!(
                    general.canonical_bytes().expect("canonicalizes"),
                    v.body,
                    "fast and general paths agree"
                );
            }
            Some("dsse") => {}
            other => panic!("unexpected kind {other:?}"),
        }
    }
    if let Ok(s) = parse_signer(data) {
        assert_eq!(s.pem, data);
        assert!(s.emails.iter().all(|e| !e.is_empty()));
    }
});
