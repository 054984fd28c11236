//! Timestamp authority benchmark: RFC 3161 timestamps per second from
//! `signet_ca::tsa::TimestampAuthority` beside `openssl ts -reply` on the same P-256 key and
//! certificate, in the same run.
//!
//! * Signet in process: `respond` on one thread (parse the request, TSTInfo, signed
//!   attributes with ESSCertIDv2, one ECDSA P-256 signature, encode), for BENCH_SECS.
//! * Signet over HTTP: `POST /api/v1/timestamp` (axum on loopback, 2 tokio workers, 16
//!   keep-alive reqwest clients), for BENCH_SECS.
//! * openssl: `openssl ts -reply -queryfile q -config tsa.cnf` invoked in a loop on one core
//!   for BENCH_SECS (one process per timestamp, which is how the openssl CLI answers one: its
//!   figure includes process start and key loading), with the same key, leaf, digest
//!   (SHA-256), policy and accuracy.
//!
//! The printed ratios are Signet in process (one thread) / `openssl ts -reply` (one core), and
//! Signet in process / `openssl speed ecdsap256` signatures per second (the ceiling: one
//! signature per timestamp).
//!
//! Run: `cargo bench -p signet-ca --bench tsa --profile dev` (env: BENCH_SECS, default 5).
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use signet_ca::signer::{CaCurve, FileSigner};
use signet_ca::tsa::{build_tsa_certificates, TimestampAuthority};
use signet_proto::keys::HashAlgorithm;
use signet_proto::timestamp::authority::encode_request;

fn pem(label: &str, der: &[u8]) -> String {
    pem::encode(&pem::Pem::new(label, der.to_vec()))
}

fn main() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let leaf_key = Arc::new(FileSigner::from_pkcs8_der(pkcs8.as_ref()).unwrap());
    let root_key = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let certs = build_tsa_certificates(
        "Bench",
        "bench",
        i64::try_from(now).unwrap() - 60,
        root_key,
        leaf_key.clone(),
        (&[1], &[2]),
    )
    .unwrap();
    let tsa = Arc::new(
        TimestampAuthority::new(
            leaf_key,
            vec![certs.leaf_der.clone(), certs.root_der.clone()],
            Arc::new(signet_ca::SystemClock),
        )
        .unwrap(),
    );
    let digest = HashAlgorithm::Sha256.hash(b"bench artifact signature");
    let request = encode_request(
        HashAlgorithm::Sha256,
        &digest,
        Some(&[1, 2, 3, 4, 5, 6, 7, 8]),
        true,
    );
    println!(
        "{} cores, {}",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("model name"))
            .unwrap_or("")
    );

    // 1. In process, one thread.
    for _ in 0..50 {
        assert_eq!(tsa.respond(&request).failure, None);
    }
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut n = 0u64;
    while Instant::now() < deadline {
        let r = tsa.respond(&request);
        assert_eq!(r.failure, None);
        n += 1;
    }
    let in_process = n as f64 / start.elapsed().as_secs_f64();
    println!("signet TSA in process, 1 thread: {n} timestamps, {in_process:.0}/s");

    // 2. Over HTTP.
    let http = http_rate(tsa.clone(), request.clone(), secs);
    println!("signet TSA over HTTP (2 workers, 16 clients): {http:.0}/s");

    // 3. openssl ts -reply, same key and leaf.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("leaf.pem"), pem("CERTIFICATE", &certs.leaf_der)).unwrap();
    std::fs::write(d.join("chain.pem"), pem("CERTIFICATE", &certs.leaf_der)).unwrap();
    std::fs::write(d.join("leaf.key"), pem("PRIVATE KEY", pkcs8.as_ref())).unwrap();
    std::fs::write(d.join("serial"), "01\n").unwrap();
    std::fs::write(d.join("q.tsq"), &request).unwrap();
    std::fs::write(
        d.join("tsa.cnf"),
        "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\ndir = .\nserial = ./serial\ncrypto_device = builtin\n\
         signer_cert = ./leaf.pem\ncerts = ./chain.pem\nsigner_key = ./leaf.key\nsigner_digest = sha256\n\
         default_policy = 1.3.6.1.4.1.57264.2\ndigests = sha256, sha384, sha512\naccuracy = secs:1\n\
         ordering = no\ntsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
    )
    .unwrap();
    let openssl_once = || {
        let out = std::process::Command::new("openssl")
            .args([
                "ts",
                "-reply",
                "-config",
                "tsa.cnf",
                "-queryfile",
                "q.tsq",
                "-out",
                "r.tsr",
            ])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl ts -reply: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl_once();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut m = 0u64;
    while Instant::now() < deadline {
        openssl_once();
        m += 1;
    }
    let openssl = m as f64 / start.elapsed().as_secs_f64();
    println!(
        "openssl ts -reply (one process per timestamp), 1 core: {m} timestamps, {openssl:.0}/s"
    );
    println!(
        "ratio signet in process / openssl ts -reply: {:.1}",
        in_process / openssl
    );
    // The ECDSA P-256 signing ceiling of one core (one signature per timestamp).
    let out = std::process::Command::new("openssl")
        .args(["speed", "-seconds", "3", "ecdsap256"])
        .output()
        .unwrap();
    let speed = String::from_utf8_lossy(&out.stdout);
    if let Some(line) = speed.lines().find(|l| l.contains("nistp256")) {
        println!(
            "openssl speed ecdsap256 (sign, verify, sign/s, verify/s): {}",
            line.trim()
        );
        let sign_per_s: Option<f64> = line
            .split_whitespace()
            .rev()
            .nth(1)
            .and_then(|v| v.parse().ok());
        if let Some(s) = sign_per_s {
            println!(
                "ratio signet in process / openssl ECDSA P-256 sign/s: {:.2}",
                in_process / s
            );
        }
    }
    println!(
        "loadavg: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
}

fn http_rate(tsa: Arc<TimestampAuthority>, request: Vec<u8>, secs: u64) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let app = signet_ca::tsa_http::router(tsa);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let url = format!("http://{addr}/api/v1/timestamp");
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(16)
            .build()
            .unwrap();
        let request = Arc::new(request);
        let deadline = Instant::now() + Duration::from_secs(secs);
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (client, url, request) = (client.clone(), url.clone(), request.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let r = client
                        .post(&url)
                        .header("Content-Type", "application/timestamp-query")
                        .body(request.as_ref().clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    r.bytes().await.unwrap();
                    n += 1;
                }
                n
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total as f64 / start.elapsed().as_secs_f64()
    })
}
