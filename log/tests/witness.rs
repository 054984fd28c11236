//! The log's witness client: checkpoints are published only with a quorum of cosignatures.
//!
//! The witnesses here are small axum servers around the pure witness logic of
//! `signet_proto::witness` (the same functions `signet witness` serves), so the HTTP protocol
//! runs for real: 409 size discovery, consistency proofs, cosignature/v1 lines.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use axum::http::StatusCode;
use common::{call, check_entry, error_message, hashedrekord, new_signer, parse_entry, HOST};
use signet_log::service::Log;
use signet_log::storage::{LogDb, MemStore};
use signet_proto::checkpoint::SignedCheckpoint;
use signet_proto::keys::Ed25519Signer;
use signet_proto::note::{CosignatureV1Signer, Ed25519NoteVerifier, Verifiers};
use signet_proto::witness::{
    check_add_checkpoint, cosign, size_body, AddCheckpoint, LogState, SIZE_CONTENT_TYPE,
};

struct TestWitness {
    name: String,
    signer: CosignatureV1Signer,
    log_keys: Verifiers,
    state: Mutex<Option<LogState>>,
    /// When false the witness answers 500 to everything.
    up: AtomicBool,
    requests: AtomicU64,
}

/// Starts a witness for the log whose C2SP note key is `log_key`; returns it and its URL.
async fn witness(name: &str, log_key: &Ed25519Signer) -> (Arc<TestWitness>, String) {
    let signer =
        CosignatureV1Signer::new(name, Ed25519Signer::generate(&SystemRandom::new()).unwrap())
            .unwrap();
    let log_keys =
        Verifiers::new().with(Ed25519NoteVerifier::new(HOST, &log_key.public_key_raw()).unwrap());
    let w = Arc::new(TestWitness {
        name: name.to_owned(),
        signer,
        log_keys,
        state: Mutex::new(None),
        up: AtomicBool::new(true),
        requests: AtomicU64::new(0),
    });
    let state = Arc::clone(&w);
    let app = axum::Router::new().route(
        "/add-checkpoint",
        axum::routing::post(move |body: axum::body::Bytes| {
            let w = Arc::clone(&state);
            async move { add_checkpoint(&w, &body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (w, url)
}

fn add_checkpoint(
    w: &TestWitness,
    body: &[u8],
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    w.requests.fetch_add(1, Ordering::Relaxed);
    let text = [("content-type", "text/plain")];
    if !w.up.load(Ordering::Relaxed) {
        return (StatusCode::INTERNAL_SERVER_ERROR, text, "down\n".into());
    }
    let req = match AddCheckpoint::parse(body) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, text, e.to_string()),
    };
    let mut state = w.state.lock().unwrap();
    match check_add_checkpoint(&req, Some(&w.log_keys), state.as_ref()) {
        Ok((cp, new_state)) => {
            *state = Some(new_state);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            (StatusCode::OK, text, cosign(&cp, &w.signer, now).unwrap())
        }
        Err(rej) => {
            let status = StatusCode::from_u16(rej.status()).unwrap();
            match rej {
                signet_proto::witness::WitnessRejection::Conflict { witness_size } => (
                    status,
                    [("content-type", SIZE_CONTENT_TYPE)],
                    size_body(witness_size),
                ),
                other => (status, text, other.to_string()),
            }
        }
    }
}

/// A policy file for `witnesses` with `quorum`; returns its temp dir (keep it alive) and path.
fn policy(
    witnesses: &[(&TestWitness, &str)],
    quorum: usize,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("# test witnesses\n");
    for (w, url) in witnesses {
        text.push_str(&format!(
            "witness {} {} {url}\n",
            w.name.replace('/', "-"),
            w.signer.to_vkey()
        ));
    }
    text.push_str(&format!("quorum {quorum}\n"));
    let path = dir.path().join("witnesses.policy");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn cosigners(checkpoint: &str, witnesses: &[&TestWitness]) -> usize {
    let mut v = Verifiers::new();
    for w in witnesses {
        v.push(w.signer.verifier().unwrap());
    }
    let cp = signet_proto::checkpoint::UnverifiedCheckpoint::parse(checkpoint.as_bytes()).unwrap();
    cp.note()
        .verify_threshold(&v, 0)
        .map_or(0, |n| n.verified().len())
}

fn start_log(
    store: &Arc<MemStore>,
    keys: &signet_log::LogKeys,
    policy: &std::path::Path,
) -> (Arc<Log>, axum::Router) {
    let cfg = signet_log::LogConfig {
        witness_policy: Some(policy.to_path_buf()),
        witness_timeout_ms: 1000,
        ..common::test_config()
    };
    let log = Log::start(LogDb::new(store.clone()), keys.clone(), HOST, vec![], &cfg).unwrap();
    let router = signet_log::http::router(Arc::clone(&log));
    (log, router)
}

async fn checkpoint(router: &axum::Router) -> String {
    let (s, _, b) = call(router, "GET", "/checkpoint", None).await;
    assert_eq!(s, StatusCode::OK);
    String::from_utf8(b).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_three_witnesses_cosign_every_published_checkpoint() {
    let keys = signet_log::LogKeys::generate().unwrap();
    let (w1, u1) = witness("w.test/one", &keys.witness).await;
    let (w2, u2) = witness("w.test/two", &keys.witness).await;
    let (w3, u3) = witness("w.test/three", &keys.witness).await;
    w3.up.store(false, Ordering::Relaxed);
    let (_d, path) = policy(&[(&w1, &u1), (&w2, &u2), (&w3, &u3)], 2);
    let store = Arc::new(MemStore::new());
    let (_log, router) = start_log(&store, &keys, &path);
    let signer = new_signer();
    for i in 0..5 {
        let (s, _, b) = call(
            &router,
            "POST",
            "/api/v1/log/entries",
            Some(hashedrekord(&signer, format!("artifact {i}").as_bytes())),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
        let (uuid, e) = parse_entry(&b);
        let (_, size, root) = check_entry(&keys, HOST, &uuid, &e);
        // The checkpoint in the answer carries the two live witnesses' cosignatures.
        let cp = &e
            .verification
            .as_ref()
            .unwrap()
            .inclusion_proof
            .as_ref()
            .unwrap()
            .checkpoint;
        assert_eq!(cosigners(cp, &[&w1, &w2, &w3]), 2, "{cp}");
        assert_eq!(w1.state.lock().unwrap().as_ref().unwrap().size, size);
        assert_eq!(w2.state.lock().unwrap().as_ref().unwrap().root, root);
    }
    let published = checkpoint(&router).await;
    assert_eq!(cosigners(&published, &[&w1, &w2, &w3]), 2, "{published}");
    assert!(w3.state.lock().unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_quorum_nothing_is_published_until_witnesses_return() {
    let keys = signet_log::LogKeys::generate().unwrap();
    let (w, url) = witness("w.test/only", &keys.witness).await;
    let (_d, path) = policy(&[(&w, &url)], 1);
    let store = Arc::new(MemStore::new());
    let (log, router) = start_log(&store, &keys, &path);
    let signer = new_signer();
    let entry = |i: u32| hashedrekord(&signer, format!("artifact {i}").as_bytes());
    let (s, _, _) = call(&router, "POST", "/api/v1/log/entries", Some(entry(0))).await;
    assert_eq!(s, StatusCode::CREATED);
    let before = checkpoint(&router).await;
    assert!(before.lines().nth(1) == Some("1"), "{before}");

    // The witness goes down: the batch is stored but not published, and the client gets 503.
    w.up.store(false, Ordering::Relaxed);
    let second = entry(1);
    let (s, headers, b) = call(&router, "POST", "/api/v1/log/entries", Some(second.clone())).await;
    assert_eq!(
        s,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&b)
    );
    assert!(headers.contains_key("retry-after"));
    let (_, msg) = error_message(&b);
    assert!(msg.contains("witnesses"), "{msg}");
    assert_eq!(
        checkpoint(&router).await,
        before,
        "nothing new was handed out"
    );
    assert_eq!(log.head().size, 1);
    assert_eq!(log.integrated_head().size, 2, "the entry itself is durable");
    let (s, _, _) = call(&router, "GET", "/api/v1/log/entries?logIndex=1", None).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "unpublished entries are not served"
    );

    // The witness returns: the sequencer publishes on its own, with a consistency proof 1 -> 2.
    w.up.store(true, Ordering::Relaxed);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while log.head().size < 2 {
        assert!(tokio::time::Instant::now() < deadline, "never republished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = checkpoint(&router).await;
    assert_eq!(cosigners(&after, &[&w]), 1, "{after}");
    let (s, _, b) = call(&router, "GET", "/api/v1/log/entries?logIndex=1", None).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    // Submitting the same entry again finds it (never a second leaf).
    let (s, _, _) = call(&router, "POST", "/api/v1/log/entries", Some(second)).await;
    assert_eq!(s, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_log_learns_the_witness_size_from_409() {
    let keys = signet_log::LogKeys::generate().unwrap();
    let (w, url) = witness("w.test/only", &keys.witness).await;
    let (_d, path) = policy(&[(&w, &url)], 1);
    let store = Arc::new(MemStore::new());
    let signer = new_signer();
    {
        let (log, router) = start_log(&store, &keys, &path);
        for i in 0..3 {
            let (s, _, _) = call(
                &router,
                "POST",
                "/api/v1/log/entries",
                Some(hashedrekord(&signer, format!("a{i}").as_bytes())),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED);
        }
        assert_eq!(log.head().size, 3);
    }
    let before = w.requests.load(Ordering::Relaxed);
    // A new process over the same store: it starts believing the witness is at 0.
    let (log, router) = start_log(&store, &keys, &path);
    let (s, _, b) = call(
        &router,
        "POST",
        "/api/v1/log/entries",
        Some(hashedrekord(&signer, b"after restart")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    assert_eq!(log.head().size, 4);
    assert_eq!(w.state.lock().unwrap().as_ref().unwrap().size, 4);
    assert!(
        w.requests.load(Ordering::Relaxed) > before + 1,
        "a 409 round was needed"
    );
    let published = checkpoint(&router).await;
    let cp = SignedCheckpoint::open(
        published.as_bytes(),
        &Verifiers::new().with(w.signer.verifier().unwrap()),
    )
    .unwrap();
    assert_eq!(cp.checkpoint().size, 4);
}
