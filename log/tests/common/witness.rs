//! In-process C2SP tlog-witnesses for the log's tests: small axum servers around the pure
//! witness logic of `signet_proto::witness` (the same functions `signet witness` serves), so
//! the HTTP protocol runs for real: 409 size discovery, consistency proofs, cosignature/v1
//! lines.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use axum::http::StatusCode;
use signet_proto::keys::Ed25519Signer;
use signet_proto::note::{CosignatureV1Signer, Ed25519NoteVerifier, Verifiers};
use signet_proto::witness::{
    check_add_checkpoint, cosign, size_body, AddCheckpoint, LogState, SIZE_CONTENT_TYPE,
};

use super::HOST;

pub struct TestWitness {
    pub name: String,
    pub signer: CosignatureV1Signer,
    pub log_keys: Verifiers,
    pub state: Mutex<Option<LogState>>,
    /// When false the witness answers 500 to everything.
    pub up: AtomicBool,
    pub requests: AtomicU64,
    /// How many requests it answered with 409 (the log's old size was not its size).
    pub conflicts: AtomicU64,
}

/// Starts a witness for the log named `log_name` whose C2SP note key is `log_key`; returns it
/// and its URL.
pub async fn witness_for(
    name: &str,
    log_name: &str,
    log_key: &Ed25519Signer,
) -> (Arc<TestWitness>, String) {
    let signer =
        CosignatureV1Signer::new(name, Ed25519Signer::generate(&SystemRandom::new()).unwrap())
            .unwrap();
    let log_keys = Verifiers::new()
        .with(Ed25519NoteVerifier::new(log_name, &log_key.public_key_raw()).unwrap());
    let w = Arc::new(TestWitness {
        name: name.to_owned(),
        signer,
        log_keys,
        state: Mutex::new(None),
        up: AtomicBool::new(true),
        requests: AtomicU64::new(0),
        conflicts: AtomicU64::new(0),
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

/// [`witness_for`] the log named [`HOST`].
pub async fn witness(name: &str, log_key: &Ed25519Signer) -> (Arc<TestWitness>, String) {
    witness_for(name, HOST, log_key).await
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
                signet_proto::witness::WitnessRejection::Conflict { witness_size } => {
                    w.conflicts.fetch_add(1, Ordering::Relaxed);
                    (
                        status,
                        [("content-type", SIZE_CONTENT_TYPE)],
                        size_body(witness_size),
                    )
                }
                other => (status, text, other.to_string()),
            }
        }
    }
}

/// A policy file for `witnesses` with `quorum`; returns its temp dir (keep it alive) and path.
pub fn policy(
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

/// How many of `witnesses` validly cosigned `checkpoint` (distinct keys).
pub fn cosigners(checkpoint: &str, witnesses: &[&TestWitness]) -> usize {
    let mut v = Verifiers::new();
    for w in witnesses {
        v.push(w.signer.verifier().unwrap());
    }
    let cp = signet_proto::checkpoint::UnverifiedCheckpoint::parse(checkpoint.as_bytes()).unwrap();
    cp.note()
        .verify_threshold(&v, 0)
        .map_or(0, |n| n.verified().len())
}
