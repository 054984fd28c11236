//! HTTP ingest benchmark: pre-signs N hashedrekord entries (ECDSA P-256, PEM public keys),
//! submits them with C concurrent clients to a running log, and reports entries/s and the
//! submit-to-response (with inclusion proof) latency distribution.
//!
//! usage: cargo run --example loadgen -- BASE_URL [ENTRIES] [CONCURRENCY]
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::keys::{EcdsaCurve, EcdsaSigner};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:3000".into());
    let n: usize = args.get(2).map_or(100_000, |s| s.parse().unwrap());
    let conc: usize = args.get(3).map_or(256, |s| s.parse().unwrap());
    let run_id = signet_log::util::now_millis();
    let t0 = Instant::now();
    let rng = SystemRandom::new();
    let signers: Vec<EcdsaSigner> = (0..16)
        .map(|_| EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap())
        .collect();
    let pems: Vec<String> = signers
        .iter()
        .map(|s| B64.encode(s.public_key().to_pem()))
        .collect();
    let bodies: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let artifact = format!("loadgen {run_id} {i}");
            let digest = signet_log::util::sha256(artifact.as_bytes());
            let k = i % signers.len();
            let sig = signers[k].sign_digest(&digest).unwrap();
            format!(
                r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
                hex::encode(digest),
                B64.encode(sig),
                pems[k]
            )
            .into_bytes()
        })
        .collect();
    eprintln!(
        "pre-signed {n} entries in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    let bodies = Arc::new(bodies);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(conc)
            .build()
            .unwrap();
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..conc {
            let client = client.clone();
            let bodies = Arc::clone(&bodies);
            let next = Arc::clone(&next);
            let url = format!("{base}/api/v1/log/entries");
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut other = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bodies.len() {
                        break;
                    }
                    let t = Instant::now();
                    let r = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(bodies[i].clone())
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    let _ = r.bytes().await.unwrap();
                    if status == 201 {
                        lat.push(t.elapsed().as_secs_f64());
                    } else {
                        other += 1;
                    }
                }
                (lat, other)
            }));
        }
        let mut lat = Vec::new();
        let mut other = 0;
        for t in tasks {
            let (l, o) = t.await.unwrap();
            lat.extend(l);
            other += o;
        }
        let secs = start.elapsed().as_secs_f64();
        lat.sort_by(f64::total_cmp);
        let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p) as usize] * 1000.0;
        println!(
            "entries={} non201={} concurrency={conc} seconds={secs:.2} rate={:.0}/s p50={:.1}ms p90={:.1}ms p99={:.1}ms max={:.1}ms",
            lat.len(),
            other,
            lat.len() as f64 / secs,
            pct(0.5),
            pct(0.9),
            pct(0.99),
            pct(1.0)
        );
    });
}
