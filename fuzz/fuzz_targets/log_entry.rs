//! Fuzzes the log's entry admission on arbitrary JSON: `signet_log::entries::validate_proposed`
//! (the body of `POST /api/v1/log/entries`: `hashedrekord` 0.0.1 with its fast typed path,
//! `dsse` 0.0.1 `proposedContent` and `intoto` 0.0.2, signatures verified), and `parse_signer`
//! (the PEM certificate or key a submission names).
//!
//! Asserts, for every accepted entry: the leaf hash is RFC 6962's of the body; the body is
//! RFC 8785 canonical JSON of a supported kind at its version (0.0.1, intoto 0.0.2); postings
//! are sorted and unique; a `hashedrekord` body is itself a valid submission giving the same
//! entry, and the general `ProposedEntry` path canonicalizes the input to the same body as the
//! fast path once the key is in its canonical PEM form; an `intoto` body has no payload and is
//! refused as a submission. For `parse_signer`: the stored PEM is canonical (parsing it again
//! gives itself and the same key), and text before or after an accepted block is refused.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use signet_log::entries::{parse_signer, validate_proposed};
use signet_proto::bundle::Base64Bytes;
use signet_proto::merkle::leaf_hash;
use signet_proto::rekor::ProposedEntry;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = validate_proposed(data) {
        assert_eq!(v.leaf_hash, leaf_hash(&v.body));
        let body: Value = signet_proto::json::from_slice(&v.body).expect("the body is JSON");
        assert_eq!(
            signet_proto::jcs::to_vec(&body).expect("canonicalizes"),
            v.body,
            "the body is RFC 8785 canonical"
        );
        let want_version = if body["kind"] == "intoto" {
            "0.0.2"
        } else {
            "0.0.1"
        };
        assert_eq!(body["apiVersion"], want_version);
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
                let ProposedEntry::HashedRekordV001(mut h) = general else {
                    panic!("the general path reads another kind")
                };
                let key = parse_signer(h.signature.public_key.content.as_slice())
                    .expect("the submitted key parses");
                h.signature.public_key.content = Base64Bytes(key.pem);
                assert_eq!(
                    ProposedEntry::HashedRekordV001(h)
                        .canonical_bytes()
                        .expect("canonicalizes"),
                    v.body,
                    "fast and general paths agree"
                );
            }
            Some("dsse") => {}
            Some("intoto") => {
                assert!(
                    body["spec"]["content"]["envelope"].get("payload").is_none(),
                    "the stored intoto body has no payload"
                );
                assert!(
                    validate_proposed(&v.body).is_err(),
                    "a stored intoto body is not a submission"
                );
            }
            other => panic!("unexpected kind {other:?}"),
        }
    }
    if let Ok(s) = parse_signer(data) {
        let again = parse_signer(&s.pem).expect("the stored PEM parses");
        assert_eq!(again.pem, s.pem, "the stored PEM is canonical");
        assert_eq!(again.key.key_id(), s.key.key_id());
        assert!(s.emails.iter().all(|e| !e.is_empty()));
        let mut after = data.to_vec();
        after.extend_from_slice(b"x");
        assert!(parse_signer(&after).is_err(), "text after the block");
        let mut before = b"x".to_vec();
        before.extend_from_slice(data);
        assert!(parse_signer(&before).is_err(), "text before the block");
    }
});
