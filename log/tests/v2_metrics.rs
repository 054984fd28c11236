//! The Rekor v2 log exposes the v1 log's Prometheus series (entries, batch sizes, request
//! latency, tree size, queue depth), labelled `api="v2"`, in the v1 log's `/metrics` once
//! linked (as `signet serve` links them); the v1 series stay unlabelled and count only v1.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::metrics::*;
use common::*;
use signet_log::storage::{LogDb, MemStore};
use signet_log::{Log, LogConfig, LogKeys};

fn v2_request(signer: &signet_proto::keys::EcdsaSigner, artifact: &[u8]) -> Vec<u8> {
    let digest = sha256(artifact);
    let sig = signer.sign_digest(&digest).unwrap();
    serde_json::to_vec(&serde_json::json!({"hashedRekordRequestV002": {
        "digest": B64.encode(digest),
        "signature": {"content": B64.encode(sig), "verifier": {
            "publicKey": {"rawBytes": B64.encode(signer.public_key().spki_der())},
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        }},
    }}))
    .unwrap()
}

#[tokio::test]
async fn v2_series_are_labelled_and_answered_by_the_v1_scrape() {
    let v1 = mem_log(&test_config(), vec![]);
    let v2 = Log::start(
        LogDb::new(Arc::new(MemStore::new())),
        LogKeys::generate().unwrap(),
        "v2.log.test",
        vec![],
        &LogConfig {
            rekor_v2: true,
            ..test_config()
        },
        Arc::new(signet_log::SystemClock),
    )
    .unwrap();
    let v2_router = signet_log::v2::router(Arc::clone(&v2));
    v1.log.link_metrics(&v2);

    let signer = new_signer();
    let first = v2_request(&signer, b"v2 artifact 0");
    for i in 0..5 {
        let body = if i == 0 {
            first.clone()
        } else {
            v2_request(&signer, format!("v2 artifact {i}").as_bytes())
        };
        let (s, _, b) = call(&v2_router, "POST", "/api/v2/log/entries", Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    }
    // A duplicate and a refused request.
    let (s, _, _) = call(&v2_router, "POST", "/api/v2/log/entries", Some(first)).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _, _) = call(
        &v2_router,
        "POST",
        "/api/v2/log/entries",
        Some(b"{}".to_vec()),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = call(&v2_router, "GET", "/checkpoint", None).await;
    assert_eq!(s, StatusCode::OK);
    // Two v1 entries.
    for i in 0..2 {
        let (s, _, _) = post_entry(
            &v1.router,
            hashedrekord(&signer, format!("v1 {i}").as_bytes()),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
    }

    let (s, _, m) = call(&v1.router, "GET", "/metrics", None).await;
    assert_eq!(s, StatusCode::OK);
    let text = std::str::from_utf8(&m).unwrap();
    // One family per name: no repeated TYPE line.
    let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE ")).collect();
    let mut unique = types.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(types.len(), unique.len(), "{text}");
    let m = parse_metrics(text);
    let v2l = ("api", "v2");

    assert_eq!(
        metric(&m, "signet_log_entries_total", &[v2l, ("result", "added")]),
        5.0
    );
    assert_eq!(
        metric(
            &m,
            "signet_log_entries_total",
            &[v2l, ("result", "duplicate")]
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "signet_log_entries_total",
            &[v2l, ("result", "rejected")]
        ),
        1.0
    );
    assert_eq!(
        metric(&m, "signet_log_entries_total", &[("result", "added")]),
        2.0
    );
    assert_eq!(
        metric(&m, "signet_log_entries_total", &[("result", "duplicate")]),
        0.0
    );
    assert_eq!(metric(&m, "signet_log_tree_size", &[v2l]), 5.0);
    assert_eq!(metric(&m, "signet_log_tree_size", &[]), 2.0);
    // Batches count what reached the sequencer: the duplicate did (it is found there).
    assert_eq!(metric(&m, "signet_log_batch_size_sum", &[v2l]), 6.0);
    assert!(metric(&m, "signet_log_batch_size_count", &[v2l]) >= 1.0);
    assert!(metric(&m, "signet_log_batch_commit_seconds_count", &[v2l]) >= 1.0);
    assert_eq!(metric(&m, "signet_log_batch_size_sum", &[]), 2.0);
    assert_eq!(metric(&m, "signet_log_queue_depth", &[v2l]), 0.0);
    let route = ("route", "/api/v2/log/entries");
    assert_eq!(
        metric(
            &m,
            "signet_log_http_requests_total",
            &[v2l, route, ("status", "201")]
        ),
        5.0
    );
    assert_eq!(
        metric(
            &m,
            "signet_log_http_requests_total",
            &[v2l, route, ("status", "409")]
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "signet_log_http_requests_total",
            &[v2l, route, ("status", "400")]
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "signet_log_http_request_duration_seconds_count",
            &[v2l, route]
        ),
        7.0
    );
    assert_eq!(
        metric_kind(&m, "signet_log_http_request_duration_seconds_count"),
        "histogram"
    );
    let checkpoint = [v2l, ("route", "/checkpoint"), ("status", "200")];
    assert_eq!(
        metric(&m, "signet_log_http_requests_total", &checkpoint),
        1.0
    );
    // The process-wide series appear once, unlabelled.
    assert!(m.iter().filter(|s| s.name == "signet_build_info").count() == 1);
    assert!(!m
        .iter()
        .any(|s| s.name.starts_with("process_") && s.labels.contains_key("api")));
}
