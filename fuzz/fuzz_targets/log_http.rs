//! Fuzzes the log's whole HTTP surface (`signet_log::http::router` over a `MemStore` log that
//! already holds 300 entries: full and partial tiles and entry bundles, several checkpoints):
//! the method, the path and query of every Rekor v1, C2SP tiles and CT route (or any path),
//! and the body, as one request through the router.
//!
//! Input: byte 0 picks the method, byte 1 one of the routes' path prefixes (or none), then
//! up to the first `\n` the rest of the path and query, and after it the body.
//!
//! Asserts: no request is answered 500 (with the router's catch-panic layer a panicking
//! handler would be one); every 4xx/5xx answer is JSON `{code, message}` with `code` equal to
//! the status and a non-empty message; the tree never shrinks.
#![no_main]
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use libfuzzer_sys::fuzz_target;
use signet_log::storage::{LogDb, MemStore};
use signet_log::{Log, LogConfig, LogKeys};
use signet_proto::keys::{EcdsaCurve, EcdsaSigner};
use tower::ServiceExt as _;

struct Fixture {
    rt: tokio::runtime::Runtime,
    log: Arc<Log>,
    router: Router,
}

const METHODS: [&str; 5] = ["GET", "POST", "HEAD", "PUT", "DELETE"];

const PREFIXES: [&str; 22] = [
    "",
    "/api/v1/log",
    "/api/v1/log/entries",
    "/api/v1/log/entries?logIndex=",
    "/api/v1/log/entries/",
    "/api/v1/log/entries/retrieve",
    "/api/v1/log/proof?firstSize=",
    "/api/v1/log/proof?lastSize=",
    "/api/v1/index/retrieve",
    "/api/v1/log/publicKey",
    "/checkpoint",
    "/tile/",
    "/tile/entries/",
    "/ct/v1/add-pre-chain",
    "/signet/v1/log_vkey",
    "/metrics",
    "/explorer/",
    "/signet/v1/explorer/search?q=",
    "/signet/v1/explorer/search?kind=",
    "/signet/v1/explorer/entries/",
    "/signet/v1/explorer/latest?page=",
    "/signet/v1/explorer/activity?hours=",
];

fn hashedrekord(signer: &EcdsaSigner, i: u32) -> Vec<u8> {
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    let artifact = format!("fuzz fixture {i}");
    let digest = signet_log::util::sha256(artifact.as_bytes());
    let sig = signer.sign_digest(&digest).expect("signs");
    format!(
        r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
        hex::encode(digest),
        B64.encode(sig),
        B64.encode(signer.public_key().to_pem())
    )
    .into_bytes()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let cfg = LogConfig {
            batch_max_delay_ms: 0,
            ..LogConfig::default()
        };
        let log = rt.block_on(async {
            Log::start(
                LogDb::new(Arc::new(MemStore::new())),
                LogKeys::generate().expect("keys"),
                "fuzz.test",
                Vec::new(),
                &cfg,
                Arc::new(signet_log::FixedClock::new(1_764_000_000_000)),
            )
            .expect("log starts")
        });
        let router = signet_log::http::router(Arc::clone(&log));
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let signer = EcdsaSigner::generate(EcdsaCurve::P256, &rng).expect("key");
        rt.block_on(async {
            for i in 0..300 {
                let req = Request::post("/api/v1/log/entries")
                    .header("content-type", "application/json")
                    .body(Body::from(hashedrekord(&signer, i)))
                    .expect("request");
                let resp = router.clone().oneshot(req).await.expect("infallible");
                assert_eq!(resp.status(), StatusCode::CREATED, "fixture entry {i}");
            }
        });
        Fixture { rt, log, router }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let [m, p, rest @ ..] = data else {
        return;
    };
    let (line, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(line) = std::str::from_utf8(line) else {
        return;
    };
    let method = METHODS[usize::from(*m) % METHODS.len()];
    let uri = format!("{}{line}", PREFIXES[usize::from(*p) % PREFIXES.len()]);
    // What hyper would refuse before routing is out of scope.
    let Ok(req) = Request::builder()
        .method(method)
        .uri(&uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
    else {
        return;
    };
    let size_before = f.log.head().expect("no witnesses: always published").size;
    let (status, bytes) = f.rt.block_on(async {
        let resp = f.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, bytes)
    });
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{method} {uri:?}: {}",
        String::from_utf8_lossy(&bytes)
    );
    if (status.is_client_error() || status.is_server_error()) && method != "HEAD" {
        let v: serde_json::Value = signet_proto::json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{method} {uri:?}: {status} answer is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_eq!(v["code"], status.as_u16(), "{method} {uri:?}: {v}");
        assert!(
            v["message"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {uri:?}: {v}"
        );
    }
    assert!(
        f.log.head().expect("no witnesses: always published").size >= size_before,
        "the tree shrank"
    );
});
