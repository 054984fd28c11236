//! HTTP ingest benchmark: pre-signs N hashedrekord entries (ECDSA P-256, PEM public keys),
//! submits them with C concurrent keep-alive clients to a running log, and reports entries/s,
//! the submit-to-response (with inclusion proof) latency distribution, and the CPU time the
//! load generator itself used (and, with `--server-pid`, the server's CPU per entry).
//!
//! usage: cargo run --example loadgen -- BASE_URL [ENTRIES] [CONCURRENCY]
//!        [--reqwest] [--threads N] [--keys K] [--server-pid PID] [--v2] [--save-answer FILE]
//!
//! `--v2` writes to a Rekor v2 log instead (`signet-log serve --rekor-v2`, or `signet serve`'s
//! at `BASE_URL` = `http://HOST:PORT/rekor-v2`): `hashedRekordRequestV002` requests (digest,
//! signature, SPKI public key, `keyDetails`) to `<BASE_URL>/api/v2/log/entries`; a response
//! counts when it is 201 with a `TransparencyLogEntry` carrying an inclusion proof with a
//! checkpoint (there is no SET), so the latency is from the request to the TLE with proof.
//!
//! By default every request is encoded to raw HTTP/1.1 bytes before the timed part, and C
//! tasks on a `--threads` (default 1) tokio runtime each drive one TCP connection with a
//! minimal client: write the request bytes, read the status line, the headers and the
//! `Content-Length` body. A response counts when its status is 201 and its body carries an
//! inclusion proof with a checkpoint and a signed entry timestamp. `--reqwest` uses the
//! previous client (reqwest/hyper) instead.
//!
//! `--save-answer FILE` writes the body of the last good answer to FILE (raw client only):
//! `just bench-ingest-v2` has nginx answer that constant, as the floor of an HTTP exchange.
//!
//! Only `http://HOST:PORT` base URLs are supported (no TLS). Entries are signed with `--keys`
//! (default 16) distinct P-256 keys.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::keys::{EcdsaCurve, EcdsaSigner};
use tokio::io::AsyncWriteExt;

#[path = "support/http1.rs"]
mod http1;
use http1::{contains, proc_cpu, read_response};

/// User + system CPU seconds of this process (all threads), from `/proc/self/stat`.
fn self_cpu() -> f64 {
    http1::proc_cpu_total("self").unwrap_or(0.0)
}

struct Args {
    base: String,
    n: usize,
    conc: usize,
    reqwest: bool,
    threads: usize,
    keys: usize,
    server_pid: Option<String>,
    v2: bool,
    save_answer: Option<String>,
}

fn parse_args() -> Args {
    let mut pos = Vec::new();
    let mut a = Args {
        base: "http://127.0.0.1:3000".into(),
        n: 100_000,
        conc: 256,
        reqwest: false,
        threads: 1,
        keys: 16,
        server_pid: None,
        v2: false,
        save_answer: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--reqwest" => a.reqwest = true,
            "--threads" => a.threads = it.next().unwrap().parse().unwrap(),
            "--keys" => a.keys = it.next().unwrap().parse().unwrap(),
            "--server-pid" => a.server_pid = it.next(),
            "--v2" => a.v2 = true,
            "--save-answer" => a.save_answer = it.next(),
            _ => pos.push(x),
        }
    }
    if let Some(b) = pos.first() {
        a.base = b.trim_end_matches('/').to_string();
    }
    if let Some(n) = pos.get(1) {
        a.n = n.parse().unwrap();
    }
    if let Some(c) = pos.get(2) {
        a.conc = c.parse().unwrap();
    }
    a
}

fn main() {
    let args = parse_args();
    let n = args.n;
    let conc = args.conc;
    let run_id = signet_log::Clock::now_millis(&signet_log::SystemClock);
    let t0 = Instant::now();
    let rng = SystemRandom::new();
    let signers: Vec<EcdsaSigner> = (0..args.keys.max(1))
        .map(|_| EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap())
        .collect();
    let pems: Vec<String> = signers
        .iter()
        // LF line endings, as sigstore-python, sigstore-js and `signet sign` write them (the
        // log stores that form as is; CRLF would be re-encoded first).
        .map(|s| B64.encode(s.public_key().to_pem().replace("\r\n", "\n")))
        .collect();
    let spkis: Vec<String> = signers
        .iter()
        .map(|s| B64.encode(s.public_key().spki_der()))
        .collect();
    let (host, prefix) = {
        let rest = args
            .base
            .strip_prefix("http://")
            .expect("only http:// base URLs");
        match rest.find('/') {
            Some(p) => (rest[..p].to_string(), rest[p..].to_string()),
            None => (rest.to_string(), String::new()),
        }
    };
    let path = if args.v2 {
        format!("{prefix}/api/v2/log/entries")
    } else {
        format!("{prefix}/api/v1/log/entries")
    };
    let requests: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let artifact = format!("loadgen {run_id} {i}");
            let digest = signet_log::util::sha256(artifact.as_bytes());
            let k = i % signers.len();
            let sig = signers[k].sign_digest(&digest).unwrap();
            let body = if args.v2 {
                format!(
                    r#"{{"hashedRekordRequestV002":{{"digest":"{}","signature":{{"content":"{}","verifier":{{"publicKey":{{"rawBytes":"{}"}},"keyDetails":"PKIX_ECDSA_P256_SHA_256"}}}}}}}}"#,
                    B64.encode(digest),
                    B64.encode(sig),
                    spkis[k]
                )
            } else {
                format!(
                    r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
                    hex::encode(digest),
                    B64.encode(sig),
                    pems[k]
                )
            };
            if args.reqwest {
                body.into_bytes()
            } else {
                format!(
                    "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            }
        })
        .collect();
    eprintln!(
        "pre-signed and encoded {n} entries in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    let requests = Arc::new(requests);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .unwrap();
    let server_before = args.server_pid.as_deref().and_then(proc_cpu);
    let cpu_before = self_cpu();
    let start = Instant::now();
    let (mut lat, other, answer) = rt.block_on(async {
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..conc {
            let requests = Arc::clone(&requests);
            let next = Arc::clone(&next);
            if args.reqwest {
                let url = format!("http://{host}{path}");
                tasks.push(tokio::spawn(async move {
                    let (l, o) = reqwest_client(url, requests, next).await;
                    (l, o, None)
                }));
            } else {
                tasks.push(tokio::spawn(raw_client(
                    host.clone(),
                    requests,
                    next,
                    args.v2,
                )));
            }
        }
        let mut lat = Vec::with_capacity(n);
        let mut other = 0;
        let mut answer = None;
        for t in tasks {
            let (l, o, a) = t.await.unwrap();
            lat.extend(l);
            other += o;
            answer = a.or(answer);
        }
        (lat, other, answer)
    });
    if let Some(file) = &args.save_answer {
        std::fs::write(file, answer.expect("--save-answer: no good answer to save")).unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = self_cpu() - cpu_before;
    let server_after = args.server_pid.as_deref().and_then(proc_cpu);
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if lat.is_empty() {
            0.0
        } else {
            lat[((lat.len() as f64 - 1.0) * p) as usize] * 1000.0
        }
    };
    let mut line = format!(
        "api={} client={} entries={} non201={} concurrency={conc} seconds={secs:.2} rate={:.0}/s p50={:.1}ms p90={:.1}ms p99={:.1}ms max={:.1}ms client_cpu={cpu:.2}s ({:.2} cores, {:.1} us/entry)",
        if args.v2 { "v2" } else { "v1" },
        if args.reqwest { "reqwest" } else { "raw" },
        lat.len(),
        other,
        lat.len() as f64 / secs,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0),
        cpu / secs,
        cpu / lat.len().max(1) as f64 * 1e6,
    );
    if let (Some(b), Some(a)) = (server_before, server_after) {
        let (u, s) = (a.0 - b.0, a.1 - b.1);
        line.push_str(&format!(
            " server_cpu={:.2}s (user {u:.2}s, sys {s:.2}s; {:.2} cores, {:.1} us/entry)",
            u + s,
            (u + s) / secs,
            (u + s) / lat.len().max(1) as f64 * 1e6
        ));
    }
    println!("{line}");
}

/// One keep-alive connection: sends pre-encoded requests, returns latencies of good 201s, the
/// number of other answers and the body of the last good answer. A good v1 answer has a proof, a checkpoint and a SET; a good
/// v2 one a hashedrekord 0.0.2 TLE with a proof and a checkpoint.
async fn raw_client(
    host: String,
    requests: Arc<Vec<Vec<u8>>>,
    next: Arc<AtomicUsize>,
    v2: bool,
) -> (Vec<f64>, usize, Option<Vec<u8>>) {
    let mut lat = Vec::new();
    let mut other = 0usize;
    let mut last = None;
    let mut conn: Option<tokio::net::TcpStream> = None;
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= requests.len() {
            break;
        }
        if conn.is_none() {
            let s = tokio::net::TcpStream::connect(&host).await.unwrap();
            s.set_nodelay(true).unwrap();
            conn = Some(s);
            buf.clear();
        }
        let s = conn.as_mut().unwrap();
        let t = Instant::now();
        s.write_all(&requests[i]).await.unwrap();
        let http1::Response {
            status,
            body,
            close,
        } = read_response(s, &mut buf).await;
        let ok = status == 201
            && contains(&body, b"\"inclusionProof\"")
            && contains(&body, b"\"checkpoint\"")
            && if v2 {
                contains(&body, b"\"0.0.2\"")
            } else {
                contains(&body, b"\"signedEntryTimestamp\"")
            };
        if ok {
            lat.push(t.elapsed().as_secs_f64());
            last = Some(body);
        } else {
            if other < 3 {
                eprintln!(
                    "unexpected answer {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                );
            }
            other += 1;
        }
        if close {
            conn = None;
        }
    }
    (lat, other, last)
}

/// The previous client: reqwest with a connection pool.
async fn reqwest_client(
    url: String,
    bodies: Arc<Vec<Vec<u8>>>,
    next: Arc<AtomicUsize>,
) -> (Vec<f64>, usize) {
    let client = reqwest::Client::builder().build().unwrap();
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
}
