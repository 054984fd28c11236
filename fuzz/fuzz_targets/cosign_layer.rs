//! Fuzzes `signet_proto::cosign`, the parser of cosign `.sig` / `.att` layers as a registry
//! serves them: the layer bytes (simple-signing payload or DSSE envelope), the annotations
//! (signature, certificate, chain, Rekor bundle, RFC 3161 timestamp) and the digest the
//! manifest declares.
//!
//! Input: either a JSON object `{"annotations": {...}, "payload": "..."}`, or the layer
//! bytes themselves (parsed with a fixed signature annotation).
//!
//! Asserts: a parsed layer's digest is the sha256 of its bytes and equals the declared one,
//! its predicate type the `predicateType` annotation;
//! bytes that are not the declared digest are always refused; a simple-signing layer has a
//! signature; a DSSE layer has exactly one envelope signature; a payload digest that decodes
//! is the one written.
#![no_main]
use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use signet_proto::cosign::{
    CosignError, CosignLayer, LayerContent, RekorBundle, SimpleSigning, ANNOTATION_PREDICATE_TYPE,
    ANNOTATION_SIGNATURE, DSSE_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE,
};
use signet_proto::oci::sha256_digest;

fn check(annotations: &BTreeMap<String, String>, payload: &[u8]) {
    let digest = sha256_digest(payload);
    for media_type in [
        SIMPLE_SIGNING_MEDIA_TYPE,
        DSSE_MEDIA_TYPE,
        "application/json",
    ] {
        match CosignLayer::parse(media_type, &digest, annotations, payload.to_vec()) {
            Ok(l) => {
                assert_eq!(l.digest, digest);
                assert_eq!(l.payload, payload);
                assert_eq!(
                    l.predicate_type.as_ref(),
                    annotations.get(ANNOTATION_PREDICATE_TYPE)
                );
                match &l.content {
                    LayerContent::SimpleSigning(s) => {
                        assert_eq!(media_type, SIMPLE_SIGNING_MEDIA_TYPE);
                        assert!(!l.signature.is_empty());
                        if let Some(d) = s.sha256() {
                            assert_eq!(
                                format!("sha256:{}", hex::encode(d)),
                                s.docker_manifest_digest.to_ascii_lowercase()
                            );
                        }
                    }
                    LayerContent::Dsse(env) => {
                        assert_eq!(media_type, DSSE_MEDIA_TYPE);
                        assert_eq!(env.signatures.len(), 1);
                    }
                }
            }
            Err(CosignError::LayerDigest { .. }) => panic!("the digest is the bytes' own"),
            Err(_) => {}
        }
        // Any other declared digest is refused before anything else.
        let other = sha256_digest(&[payload, b"x"].concat());
        assert!(matches!(
            CosignLayer::parse(media_type, &other, annotations, payload.to_vec()),
            Err(CosignError::LayerDigest { .. } | CosignError::TooLarge(_))
        ));
    }
    let _ = SimpleSigning::parse(payload);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = RekorBundle::parse(s);
    }
    let input = signet_proto::json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| {
            let a: BTreeMap<String, String> =
                serde_json::from_value(v.get("annotations")?.clone()).ok()?;
            Some((a, v.get("payload")?.as_str()?.to_owned()))
        });
    match input {
        Some((annotations, payload)) => check(&annotations, payload.as_bytes()),
        None => {
            let mut a = BTreeMap::new();
            a.insert(ANNOTATION_SIGNATURE.to_owned(), "MEUCIQ==".to_owned());
            check(&a, data);
        }
    }
});
