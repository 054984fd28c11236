//! What a Rekor v2 log stores per entry: the entry record, the dedup key and the entry
//! bundles, and no search postings (a v2 log serves no search, as rekor-tiles keeps no index
//! beside the tiles), for a public-key verifier and for a certificate with an email SAN; a
//! resubmitted entry still gets 409 naming its index. The v1 log over the same store type
//! does write postings for the same signer, so the scan below sees them when they exist.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::*;
use signet_log::storage::{LogStore, MemStore};
use signet_log::LogConfig;
use signet_proto::keys::EcdsaSigner;

/// A `hashedRekordRequestV002` over `artifact`, with the key or, given `cert`, the certificate
/// as verifier.
fn v2_request(signer: &EcdsaSigner, cert: Option<&[u8]>, artifact: &[u8]) -> Vec<u8> {
    let digest = sha256(artifact);
    let sig = signer.sign_digest(&digest).unwrap();
    let verifier = match cert {
        None => serde_json::json!({
            "publicKey": {"rawBytes": B64.encode(signer.public_key().spki_der())},
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        }),
        Some(der) => serde_json::json!({
            "x509Certificate": {"rawBytes": B64.encode(der)},
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        }),
    };
    serde_json::to_vec(&serde_json::json!({"hashedRekordRequestV002": {
        "digest": B64.encode(digest),
        "signature": {"content": B64.encode(sig), "verifier": verifier},
    }}))
    .unwrap()
}

/// A Rekor v2 log over a `MemStore` and its router.
fn v2_log() -> (TestLog, axum::Router) {
    let v2 = mem_log(
        &LogConfig {
            rekor_v2: true,
            ..test_config()
        },
        vec![],
    );
    let router = signet_log::v2::router(Arc::clone(&v2.log));
    (v2, router)
}

/// The keys of `store` starting with `prefix`.
fn count(store: &MemStore, prefix: &[u8]) -> usize {
    store.scan(prefix, prefix, usize::MAX).unwrap().len()
}

#[tokio::test]
async fn the_v2_log_stores_no_search_postings_and_still_refuses_duplicates() {
    let (v2, router) = v2_log();
    let signer = new_signer();
    let ca = TestCa::new();
    let leaf_key = rcgen::KeyPair::try_from(signer.to_pkcs8_der().unwrap().as_slice()).unwrap();
    let cert = ca.final_cert(
        &leaf_key,
        "someone@example.com",
        "https://issuer.example",
        7,
        validity(),
        vec![0x04, 0x00],
    );
    let by_key = v2_request(&signer, None, b"v2 artifact by key");
    let by_cert = v2_request(&signer, Some(&cert), b"v2 artifact by certificate");
    for body in [&by_key, &by_cert] {
        let (s, _, b) = call(&router, "POST", "/api/v2/log/entries", Some(body.clone())).await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    }
    // Resubmitted: 409 naming the first index, nothing new stored.
    let (s, h, b) = call(&router, "POST", "/api/v2/log/entries", Some(by_key)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{}", String::from_utf8_lossy(&b));
    assert_eq!(h.get("x-log-index").unwrap(), "0");
    assert_eq!(v2.log.head().unwrap().size, 2);
    assert_eq!(count(&v2.store, b"E"), 2, "entry records");
    assert_eq!(count(&v2.store, b"H"), 2, "dedup keys");
    assert_eq!(count(&v2.store, b"I"), 0, "search postings in a v2 log");
    // The entry bundle (partial) still serves both entries.
    let (s, _, b) = call(&router, "GET", "/tile/entries/000.p/2", None).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));

    // The v1 log indexes the same signer (artifact digest, key; email for the certificate):
    // the scan finds postings where they are written.
    let v1 = mem_log(&test_config(), vec![]);
    let (s, _, b) = post_entry(&v1.router, hashedrekord(&signer, b"v1 artifact")).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    assert!(count(&v1.store, b"I") >= 2, "v1 postings");
}

/// The v2 API answers the log's own conditions as the v1 API classifies them (one
/// classification, `http::classify`), in grpc-gateway's shape: a frozen v2 log refuses a write
/// with 409 and gRPC code 9 (FAILED_PRECONDITION) naming the condition, not a 500, and stores
/// nothing.
#[tokio::test]
async fn a_frozen_v2_log_refuses_writes_in_the_grpc_shape() {
    let (v2, router) = v2_log();
    let signer = new_signer();
    let (s, _, b) = call(
        &router,
        "POST",
        "/api/v2/log/entries",
        Some(v2_request(&signer, None, b"before")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    v2.log.freeze(0);
    let (s, _, b) = call(
        &router,
        "POST",
        "/api/v2/log/entries",
        Some(v2_request(&signer, None, b"after")),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{}", String::from_utf8_lossy(&b));
    let err: serde_json::Value = signet_proto::json::from_slice(&b).unwrap();
    assert_eq!(err["code"], 9, "{err}");
    assert_eq!(err["details"], serde_json::json!([]), "{err}");
    assert!(err["message"].as_str().unwrap().contains("frozen"), "{err}");
    assert_eq!(v2.log.head().unwrap().size, 1);
    assert_eq!(count(&v2.store, b"E"), 1, "entry records");
}
