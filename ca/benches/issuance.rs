//! CA issuance benchmark over the whole request path: HTTP (axum on a loopback socket,
//! reqwest keep-alive clients), OIDC verification with the JWKS cached (real token from
//! oauth2-mock-server), proof of possession, precertificate, SCT (in-process CT signer via
//! `LocalSctSource`), final certificate. CA key: ECDSA P-256 file key. Runtime: 2 worker
//! threads. Also runs `openssl speed -seconds 3 ecdsap256` as the signing ceiling.
//!
//! Run: `cargo bench -p signet-ca --bench issuance` (env: BENCH_SECS, BENCH_CONCURRENCY).
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use signet_ca::config::{CaConfig, IssuerType};
use signet_ca::signer::{CaCurve, CaSigner, FileSigner};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let conc: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let idp = MockOidc::start("ES256");
    let mut config = CaConfig::with_issuers(vec![issuer(&idp.url, IssuerType::Email)]);
    config.rate_limit.max_per_window = 0;
    config.validity_secs = 86400;
    let inter: Arc<dyn CaSigner> = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
    let ca = build_ca(config, Some(inter));
    let app = signet_ca::http::router(ca.service.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = format!("http://{addr}/api/v2/signingCert");

    let token = idp
        .token(&[
            ("sub", "bench"),
            ("email", "bench@example.com"),
            ("email_verified", "true"),
            ("aud", "sigstore"),
        ])
        .await;
    let key = client_key();
    let body =
        Arc::new(serde_json::to_vec(&key_request(&token, &key, "bench@example.com")).unwrap());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conc)
        .build()
        .unwrap();

    // Warm-up (also fills the JWKS cache).
    for _ in 0..20 {
        let r = client
            .post(&url)
            .body(body.as_ref().clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.bytes().await.unwrap();
    }
    let fetches_before = ca.service.oidc().jwks_fetch_count(&idp.url);

    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let client = client.clone();
        let url = url.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .body(body.as_ref().clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                r.bytes().await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        all[i].as_secs_f64() * 1000.0
    };
    let n = all.len();
    assert_eq!(
        ca.service.oidc().jwks_fetch_count(&idp.url),
        fetches_before,
        "JWKS stayed cached"
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "CA issuance: {n} certificates in {elapsed:.2} s, concurrency {conc}, 2 worker threads"
    );
    println!("certificates/s: {:.0}", n as f64 / elapsed);
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    println!("loadavg during run: {}", load.trim());

    let out = std::process::Command::new("openssl")
        .args(["speed", "-seconds", "3", "ecdsap256"])
        .output();
    match out {
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout);
            for line in text
                .lines()
                .filter(|l| l.contains("sign") || l.contains("nistp256"))
            {
                println!("openssl: {line}");
            }
        }
        Err(e) => println!("openssl speed unavailable: {e}"),
    }
}
