//! Fuzzes the Rekor v2 write request parser (`signet_proto::rekor_v2::parse_create_entry_request`,
//! the body of `POST /api/v2/log/entries`) and the log's whole request check
//! (`signet_log::v2::validate_request`: key, key details, signature).
//!
//! Asserts: an accepted request has a non-empty signature and verifier, a known key details
//! name and a digest of its hash's length; its canonical body is a `hashedrekord` 0.0.2 body
//! that parses back (`parse_hashedrekord_v002`) to exactly the request's fields, and is
//! canonical (RFC 8785 of itself); the log accepts only what the parser accepts, and what it
//! logs is that canonical body, with no search postings (a v2 log keeps no index).
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::rekor_v2::{
    parse_create_entry_request, parse_hashedrekord_v002, KeyDetails, VerifierKey,
};

fuzz_target!(|data: &[u8]| {
    let parsed = parse_create_entry_request(data);
    let logged = signet_log::v2::validate_request(data);
    let Ok(req) = parsed else {
        assert!(
            logged.is_err(),
            "the log accepts only what the parser accepts"
        );
        return;
    };
    assert!(!req.signature.is_empty());
    assert_eq!(
        KeyDetails::from_name(req.key_details.name).expect("a known name"),
        req.key_details
    );
    assert_eq!(req.digest.len(), req.key_details.hash.output_len());
    let body = req.canonical_body();
    let value: serde_json::Value = signet_proto::json::from_slice(&body).expect("the body is JSON");
    assert_eq!(
        signet_proto::jcs::to_vec(&value).expect("canonicalizes"),
        body,
        "the body is canonical"
    );
    let h = parse_hashedrekord_v002(&body).expect("the body is a hashedrekord 0.0.2 body");
    assert_eq!(h.data.digest_bytes().expect("base64"), req.digest);
    assert_eq!(h.signature.content_bytes().expect("base64"), req.signature);
    assert_eq!(h.signature.verifier.key_details, req.key_details.name);
    assert_eq!(h.data.algorithm, req.key_details.hash_name());
    match &req.verifier {
        VerifierKey::PublicKey(der) => {
            assert_eq!(
                &h.signature
                    .verifier
                    .public_key_der()
                    .expect("a key")
                    .expect("base64"),
                der
            );
            assert!(h.signature.verifier.x509_certificate.is_none());
        }
        VerifierKey::Certificate(der) => {
            assert_eq!(
                &h.signature
                    .verifier
                    .certificate_der()
                    .expect("a certificate")
                    .expect("base64"),
                der
            );
            assert!(h.signature.verifier.public_key.is_none());
        }
    }
    if let Ok(entry) = logged {
        assert_eq!(entry.body, body, "the log records the canonical body");
        assert!(
            entry.postings.is_empty(),
            "a v2 entry has no search postings"
        );
    }
});
