//! In-process benchmarks (no HTTP):
//! 1. sequencer ingest: validated hashedrekord entries through `Log::submit` (batching,
//!    integration, checkpoint signing, synced RocksDB commit, proofs), entries/s;
//! 2. validation alone (signature check + canonicalization), entries/s on one core;
//! 3. bulk integration to SIZE leaves (unsynced batches of 65,536), leaves/s;
//! 4. inclusion proofs served per second at SIZE (random indexes; uncached, cached cold and
//!    warm over the same indexes, and full entry with proof and SET), the cache's size and the
//!    process RSS.
//!
//! usage: cargo run --example bench_inproc -- DATA_DIR [SIZE] [--proofs-only]
//!
//! `--proofs-only` reuses the log already in DATA_DIR (a previous run's) and runs step 4 only.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_log::entries::{validate_proposed, ValidEntry};
use signet_log::LogConfig;
use signet_proto::keys::{EcdsaCurve, EcdsaSigner};

// The allocator of the `signet` and `signet-log` binaries, so that RSS figures match them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    kb / 1024.0
}

fn entries(n: usize, tag: &str) -> Vec<Vec<u8>> {
    let rng = SystemRandom::new();
    let signers: Vec<EcdsaSigner> = (0..8)
        .map(|_| EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap())
        .collect();
    let pems: Vec<String> = signers
        .iter()
        .map(|s| B64.encode(s.public_key().to_pem()))
        .collect();
    (0..n)
        .map(|i| {
            let digest = signet_log::util::sha256(format!("{tag} {i}").as_bytes());
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
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(
        args.get(1)
            .cloned()
            .unwrap_or_else(|| "/var/tmp/signet-bench".into()),
    );
    let size: u64 = args.get(2).map_or(1_000_000, |s| s.parse().unwrap());
    let proofs_only = args.iter().any(|a| a == "--proofs-only");
    if !proofs_only {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let tag = signet_log::Clock::now_millis(&signet_log::SystemClock).to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let cfg = LogConfig { data_dir: dir.clone(), ..LogConfig::default() };
        let log = signet_log::open_log(&cfg, "bench.test:1", std::sync::Arc::new(signet_log::SystemClock)).unwrap();

        if !proofs_only {
        // 2. validation on one core.
        let raw = entries(20_000, &tag);
        let t = Instant::now();
        let valid: Vec<ValidEntry> = raw.iter().map(|b| validate_proposed(b).unwrap()).collect();
        let v_rate = valid.len() as f64 / t.elapsed().as_secs_f64();
        println!("validate (1 core): {v_rate:.0} entries/s");
        stages(&raw[..5000]);
        drop(raw);

        // 1. sequencer ingest of pre-validated entries, 512 concurrent submitters.
        let valid = Arc::new(valid);
        let t = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..512usize {
            let log = Arc::clone(&log);
            let valid = Arc::clone(&valid);
            tasks.push(tokio::spawn(async move {
                let mut i = w;
                while i < valid.len() {
                    log.submit(valid[i].clone()).await.unwrap();
                    i += 512;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let s_rate = valid.len() as f64 / t.elapsed().as_secs_f64();
        drop(valid);
        println!("sequencer ingest (synced batches, proofs, no HTTP, no validation): {s_rate:.0} entries/s");
        println!("{}", log.render_metrics().lines().filter(|l| l.starts_with("signet_log_batch_size_sum") || l.starts_with("signet_log_batch_size_count") || l.starts_with("signet_log_batch_commit_seconds_sum")).collect::<Vec<_>>().join("\n"));

        // 3. bulk integration.
        let t = Instant::now();
        let mut have = log.head().unwrap().size;
        let chunk = 65_536u64;
        let mut n = 0u64;
        while have < size {
            let m = chunk.min(size - have);
            let part: Vec<ValidEntry> = (0..m)
                .map(|j| ValidEntry::new(format!("{{\"bulk\":{},\"tag\":\"{tag}\"}}", n + j).into_bytes(), vec![]))
                .collect();
            n += m;
            have = log.bulk_append(&part, 65_536).unwrap();
        }
        let secs = t.elapsed().as_secs_f64();
        println!("bulk integration to {have}: {secs:.1}s, {:.0} leaves/s, RSS {:.0} MiB", n as f64 / secs, rss_mib());

        }

        // 4. proofs per second at this size.
        let head = log.head().unwrap();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // The uncached path first (the interior cache is still empty), then the cached one over
        // the same random indexes: a cold pass (filling the cache) and a warm one.
        let k = 20_000u32;
        let picks: Vec<u64> = (0..k).map(|_| rnd() % head.size).collect();
        let time = |label: &str, f: &dyn Fn(u64)| {
            let t = Instant::now();
            for &i in &picks {
                f(i);
            }
            let rate = f64::from(k) / t.elapsed().as_secs_f64();
            println!("{label} at size {}: {rate:.0}/s (1 core), RSS {:.0} MiB", head.size, rss_mib());
            rate
        };
        // An untimed uncached pass first, so that every timed pass finds the same tiles in the
        // OS page cache (a fresh process would otherwise charge disk reads to the first one).
        for &i in &picks {
            log.prove_uncached(i, &head).unwrap();
        }
        let old = time("inclusion proof, uncached", &|i| {
            log.prove_uncached(i, &head).unwrap();
        });
        time("inclusion proof, cached (cold: filling the cache)", &|i| {
            log.prove(i, &head).unwrap();
        });
        let new = time("inclusion proof, cached (warm)", &|i| {
            log.prove(i, &head).unwrap();
        });
        for &i in picks.iter().take(2000) {
            assert_eq!(log.prove(i, &head).unwrap(), log.prove_uncached(i, &head).unwrap());
        }
        let (bytes, tiles) = log.proof_cache_usage();
        println!("cached/uncached proof rate: {:.1}x; cache {tiles} tiles, {:.1} MiB", new / old, bytes as f64 / 1048576.0);
        time("GET-entry work (entry + cached proof + SET)", &|i| {
            log.entry_by_index(i).unwrap();
        });
    });
}

/// Per-stage timing of hashedrekord validation (for the per-stage profile in docs/benchmarks-history.md, "HTTP ingest (hashedrekord, concurrent clients)").
#[allow(dead_code)]
pub fn stages(raw: &[Vec<u8>]) {
    use signet_proto::rekor::ProposedEntry;
    let n = raw.len() as f64;
    let t = Instant::now();
    let parsed: Vec<ProposedEntry> = raw
        .iter()
        .map(|b| ProposedEntry::from_json(b).unwrap())
        .collect();
    println!(
        "  stage json parse: {:.1} us/entry",
        t.elapsed().as_secs_f64() * 1e6 / n
    );
    let t = Instant::now();
    let mut keys = Vec::new();
    for p in &parsed {
        let ProposedEntry::HashedRekordV001(h) = p else {
            panic!()
        };
        keys.push(
            signet_log::entries::parse_signer(h.signature.public_key.content.as_slice()).unwrap(),
        );
    }
    println!(
        "  stage PEM + SPKI key parse: {:.1} us/entry",
        t.elapsed().as_secs_f64() * 1e6 / n
    );
    let t = Instant::now();
    for (p, k) in parsed.iter().zip(&keys) {
        let ProposedEntry::HashedRekordV001(h) = p else {
            panic!()
        };
        let d = h.data.hash.digest().unwrap();
        k.key
            .verify_prehashed_with(
                signet_proto::keys::HashAlgorithm::Sha256,
                &d,
                h.signature.content.as_slice(),
            )
            .unwrap();
    }
    println!(
        "  stage ECDSA P-256 verify: {:.1} us/entry",
        t.elapsed().as_secs_f64() * 1e6 / n
    );
    let t = Instant::now();
    for p in &parsed {
        let _ = p.canonical_bytes().unwrap();
    }
    println!(
        "  stage canonical JSON: {:.1} us/entry",
        t.elapsed().as_secs_f64() * 1e6 / n
    );
}
