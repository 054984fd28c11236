//! Log explorer latency at SIZE entries (BENCHMARKS.md "Log explorer"): a RocksDB log is built
//! to SIZE leaves (bulk import, no search postings) and then gets SIGNED hashedrekord entries
//! with certificates (100 identities, 100 keys) through the sequencer, with postings. The log's
//! router is served on loopback and one keep-alive client measures p50/p99 over REQUESTS
//! requests for each explorer search key, the entry view's JSON, the page, and, as the peer on
//! the same log, Rekor's own `POST /api/v1/index/retrieve` for the same digest and email.
//! The activity view is timed cold (counting every entry of the tree) and warm.
//!
//! usage: cargo run --example explorer_bench -- DATA_DIR [SIZE] [SIGNED] [REQUESTS]
//! With `SIGNET_EXPLORER_SERVE=1` it keeps serving after the figures (for the browser's first
//! render measurement, cli/tests/browser/render_time.py) until killed.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_log::entries::{validate_proposed, ValidEntry};
use signet_log::LogConfig;
use signet_proto::keys::EcdsaSigner;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Signer {
    email: String,
    key: EcdsaSigner,
    cert_pem_b64: String,
    fingerprint: String,
}

fn signers(n: usize) -> Vec<Signer> {
    let now = time::OffsetDateTime::now_utc();
    (0..n)
        .map(|k| {
            let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            let email = format!("user{k}@example.com");
            let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            p.subject_alt_names = vec![rcgen::SanType::Rfc822Name(
                email.as_str().try_into().unwrap(),
            )];
            p.not_before = now - time::Duration::hours(1);
            p.not_after = now + time::Duration::hours(23);
            let issuer = "https://issuer.example.com";
            let mut v = vec![0x0c, u8::try_from(issuer.len()).unwrap()];
            v.extend_from_slice(issuer.as_bytes());
            p.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 57264, 1, 8],
                v,
            )];
            let cert = p.self_signed(&kp).unwrap();
            let key = EcdsaSigner::from_pkcs8_der(&kp.serialize_der()).unwrap();
            let fingerprint = hex::encode(key.public_key().key_id());
            Signer {
                email,
                cert_pem_b64: B64.encode(cert.pem()),
                key,
                fingerprint,
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn measure(
    client: &reqwest::Client,
    name: &str,
    n: usize,
    mut req: impl FnMut(usize) -> reqwest::RequestBuilder,
) -> (f64, f64) {
    let _ = client; // requests are built by `req` on this client
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let r = req(i).send().await.unwrap();
        let status = r.status();
        let body = r.bytes().await.unwrap();
        times.push(t.elapsed());
        assert!(
            status.is_success(),
            "{name}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    times.sort();
    let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    println!("{name:<44} p50 {p50:>7.2} ms   p99 {p99:>7.2} ms");
    (p50, p99)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(
        args.get(1)
            .cloned()
            .unwrap_or_else(|| "/var/tmp/signet-explorer-bench".into()),
    );
    let size: u64 = args.get(2).map_or(1_000_000, |s| s.parse().unwrap());
    let signed: usize = args.get(3).map_or(20_000, |s| s.parse().unwrap());
    let requests: usize = args.get(4).map_or(500, |s| s.parse().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let cfg = LogConfig { data_dir: dir.clone(), ..LogConfig::default() };
        let log = signet_log::open_log(&cfg, "bench.test:1", Arc::new(signet_log::SystemClock)).unwrap();
        let t = Instant::now();
        let bulk = size.saturating_sub(signed as u64);
        let mut have = 0u64;
        while have < bulk {
            let m = 65_536u64.min(bulk - have);
            let part: Vec<ValidEntry> = (have..have + m)
                .map(|j| ValidEntry::new(format!("{{\"bulk\":{j}}}").into_bytes(), vec![]))
                .collect();
            have = log.bulk_append(&part, 65_536).unwrap();
        }
        println!("bulk import of {have} leaves: {:.1} s", t.elapsed().as_secs_f64());

        let t = Instant::now();
        let people = Arc::new(signers(100));
        let mut digests = Vec::with_capacity(signed);
        let mut valid = Vec::with_capacity(signed);
        for i in 0..signed {
            let s = &people[i % people.len()];
            let digest = signet_log::util::sha256(format!("explorer bench {i}").as_bytes());
            let sig = s.key.sign_digest(&digest).unwrap();
            let body = format!(
                r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
                hex::encode(digest), B64.encode(sig), s.cert_pem_b64
            );
            valid.push(validate_proposed(body.as_bytes()).unwrap());
            digests.push(hex::encode(digest));
        }
        let valid = Arc::new(valid);
        let mut tasks = Vec::new();
        for w in 0..256usize {
            let (log, valid) = (Arc::clone(&log), Arc::clone(&valid));
            tasks.push(tokio::spawn(async move {
                let mut i = w;
                while i < valid.len() {
                    log.submit(valid[i].clone()).await.unwrap();
                    i += 256;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let tree = log.head().unwrap().size;
        println!("{signed} signed entries with postings: {:.1} s; tree size {tree}", t.elapsed().as_secs_f64());
        let uuids: Vec<String> = (0..200u64)
            .map(|k| {
                let i = tree - 1 - k * (signed as u64 / 200);
                log.entry_by_index(i).unwrap().0
            })
            .collect();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The page verifies against the trust root, which `signet serve` serves; here, the log key.
        let key = log.identity().public_key();
        let trusted_root = serde_json::json!({"tlogs": [{
            "baseUrl": format!("http://{addr}"),
            "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": B64.encode(key.spki_der()), "keyDetails": "PKIX_ECDSA_P256_SHA_256"},
            "logId": {"keyId": B64.encode(key.key_id())},
        }]});
        let router = signet_log::http::router(Arc::clone(&log)).route(
            "/signet/v1/trusted_root.json",
            axum::routing::get(move || async move { axum::Json(trusted_root) }),
        );
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let base = format!("http://{addr}");
        let c = reqwest::Client::new();
        println!("{} cores; {requests} sequential requests per line over one keep-alive connection", std::thread::available_parallelism().unwrap());

        let pick = |i: usize, n: usize| (i.wrapping_mul(2_654_435_761) >> 3) % n;
        let d = digests.clone();
        let (ex_digest, _) = measure(&c, "explorer search: digest", requests, |i| {
            c.get(format!("{base}/signet/v1/explorer/search?kind=digest&q={}", d[pick(i, d.len())]))
        }).await;
        let (rekor_digest, _) = measure(&c, "peer: index/retrieve by digest", requests, |i| {
            c.post(format!("{base}/api/v1/index/retrieve"))
                .json(&serde_json::json!({"hash": format!("sha256:{}", d[pick(i, d.len())])}))
        }).await;
        let p = Arc::clone(&people);
        let (ex_email, _) = measure(&c, "explorer search: identity (200 entries each)", requests, |i| {
            c.get(format!("{base}/signet/v1/explorer/search?kind=identity&q={}", p[pick(i, p.len())].email))
        }).await;
        let (rekor_email, _) = measure(&c, "peer: index/retrieve by email", requests, |i| {
            c.post(format!("{base}/api/v1/index/retrieve"))
                .json(&serde_json::json!({"email": p[pick(i, p.len())].email}))
        }).await;
        measure(&c, "explorer search: key fingerprint", requests, |i| {
            c.get(format!("{base}/signet/v1/explorer/search?kind=key&q={}", p[pick(i, p.len())].fingerprint))
        }).await;
        measure(&c, "explorer search: log index", requests, |i| {
            c.get(format!("{base}/signet/v1/explorer/search?q={}", pick(i, tree as usize)))
        }).await;
        measure(&c, "explorer search: uuid", requests, |i| {
            c.get(format!("{base}/signet/v1/explorer/search?kind=uuid&q={}", uuids[pick(i, uuids.len())]))
        }).await;
        measure(&c, "explorer search: 64 hex, auto (digest+key+uuid)", requests, |i| {
            c.get(format!("{base}/signet/v1/explorer/search?q={}", d[pick(i, d.len())]))
        }).await;
        measure(&c, "explorer entry view JSON (signed entry)", requests, |i| {
            c.get(format!("{base}/signet/v1/explorer/entries/{}", tree - 1 - (pick(i, signed) as u64)))
        }).await;
        measure(&c, "Rekor entry with proof (what the page verifies)", requests, |i| {
            c.get(format!("{base}/api/v1/log/entries?logIndex={}", tree - 1 - (pick(i, signed) as u64)))
        }).await;
        measure(&c, "explorer latest page", requests, |_| c.get(format!("{base}/signet/v1/explorer/latest"))).await;
        measure(&c, "page GET /", requests, |_| c.get(format!("{base}/"))).await;
        measure(&c, "page GET /explorer/app.js", requests, |_| c.get(format!("{base}/explorer/app.js"))).await;

        let t = Instant::now();
        let mut rounds = 0;
        loop {
            rounds += 1;
            let v: serde_json::Value = c.get(format!("{base}/signet/v1/explorer/activity?hours=24")).send().await.unwrap().json().await.unwrap();
            if v["counted"] == v["treeSize"] {
                break;
            }
        }
        println!("activity, cold: counted {tree} entries in {:.1} s ({rounds} requests)", t.elapsed().as_secs_f64());
        measure(&c, "activity, warm (24 h)", requests, |_| c.get(format!("{base}/signet/v1/explorer/activity?hours=24"))).await;
        measure(&c, "activity, warm (1 year)", requests, |_| c.get(format!("{base}/signet/v1/explorer/activity?hours=8760"))).await;
        println!("ratios (explorer / peer index/retrieve, p50): digest {:.2}, email {:.2}", ex_digest / rekor_digest, ex_email / rekor_email);
        if std::env::var_os("SIGNET_EXPLORER_SERVE").is_some() {
            println!("serving {base} (entry {})", tree - 1);
            std::future::pending::<()>().await;
        }
    });
}
