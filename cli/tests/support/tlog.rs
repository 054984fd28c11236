//! Helpers of the tests that run `signet serve --only log` and look inside its store: starting
//! and restarting the server on one port, opening its log with the library while it is
//! stopped, canonical hashedrekord bodies, adding entries over HTTP, and tampering.

use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::keys::{EcdsaCurve, EcdsaSigner};

use super::{signet, spawn_until, Spawned};

/// A log-only `signet serve` on a fixed port (so that restarts keep the same name), with its
/// data in `data`.
pub fn serve_log(data: &Path, port: u16) -> Spawned {
    spawn_until(
        signet()
            .args(["serve", "--only", "log", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data),
        "signet listening on ",
    )
}

/// Opens the log of a stopped `signet serve` data dir with the library (same keys and tree,
/// the origin of [`serve_log`] on `port`) and runs `f` on it.
pub fn with_log<T>(data: &Path, port: u16, f: impl FnOnce(&signet_log::Log) -> T) -> T {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let out = rt.block_on(async {
        let cfg = signet_log::LogConfig {
            data_dir: data.join("log"),
            ..signet_log::LogConfig::default()
        };
        let log = signet_log::open_log(
            &cfg,
            &format!("127.0.0.1:{port}"),
            std::sync::Arc::new(signet_log::SystemClock),
        )
        .unwrap();
        let out = f(&log);
        drop(log);
        out
    });
    rt.shutdown_timeout(Duration::from_secs(5));
    out
}

/// A fresh ECDSA P-256 signing key.
pub fn new_key() -> EcdsaSigner {
    EcdsaSigner::generate(EcdsaCurve::P256, &aws_lc_rs::rand::SystemRandom::new()).unwrap()
}

/// The canonical (RFC 8785) hashedrekord body of a signature by `key` over `artifact`.
pub fn hashedrekord(key: &EcdsaSigner, artifact: &str) -> Vec<u8> {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, artifact.as_bytes());
    let sig = key.sign_digest(digest.as_ref()).unwrap();
    format!(
        r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
        hex::encode(digest.as_ref()),
        B64.encode(sig),
        B64.encode(key.public_key().to_pem())
    )
    .into_bytes()
}

/// POSTs the proposed entry `body` to the log at `url`, asserts 201 and returns its log index.
pub fn add_entry(url: &str, body: Vec<u8>) -> u64 {
    let r = reqwest::blocking::Client::new()
        .post(format!("{url}/api/v1/log/entries"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().unwrap_or_default());
    let v: serde_json::Value = r.json().unwrap();
    v.as_object().unwrap().values().next().unwrap()["logIndex"]
        .as_u64()
        .unwrap()
}

/// Adds the hashedrekord entry of `key` over `artifact` (see [`add_entry`]).
pub fn add_hashedrekord(url: &str, key: &EcdsaSigner, artifact: &str) -> u64 {
    add_entry(url, hashedrekord(key, artifact))
}

/// Flips the lowest bit of byte `at` of the stored value under `key`.
pub fn flip(log: &signet_log::Log, key: &[u8], at: usize) {
    let store = log.db().raw().clone();
    let mut v = store.get(key).unwrap().unwrap();
    v[at] ^= 0x01;
    let mut b = signet_log::storage::Batch::default();
    b.put(key.to_vec(), v);
    store.write(&b, true).unwrap();
}

/// Copies the directory tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}
