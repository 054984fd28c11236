//! Load generator for `signet admission` (BENCHMARKS.md, "Admission webhook"): C concurrent
//! keep-alive connections post the same AdmissionReview N times in all and report the
//! latency distribution, the rate, and the CPU time per review of this process and (with
//! `--server-pid`) of the webhook, so the client's and the server's costs are told apart.
//!
//! usage: admission_loadgen URL BODY_FILE N C [--ca CA_PEM] [--server-pid PID] [--threads T]
//!
//! `URL` is the endpoint (`https://127.0.0.1:PORT/validate`, or `http://` for a webhook run
//! with `--insecure-http`). With `https://`, each connection is one TLS session (TLS 1.3,
//! ALPN `http/1.1`) kept alive for all its requests, as the API server keeps its connections
//! to a webhook; `--ca` names the PEM CA of the webhook's certificate.
//!
//! The request (headers and body) is encoded once, and all C connections are opened (TCP and
//! TLS handshakes), before the timed part: the clock and the CPU counters start when the last
//! one is ready, so the figures are a webhook's steady state. C tasks on a
//! `--threads` (default 1) tokio runtime each drive one connection: write the request, read
//! the status line, the headers and the `Content-Length` body. A review counts when the status
//! is 200 and the answer holds `"allowed":true` (the JSON the webhook writes has no spaces;
//! inside a JSON string the quotes would be escaped, so only the key itself matches). Any
//! other answer is printed (the first three) and makes the run exit with status 1.
//!
//! The last stdout line is `reviews=N failed=F concurrency=C seconds=S rate=R/s p50=..ms
//! p90=..ms p99=..ms max=..ms client_cpu=..s (.. us/review) [server_cpu=..s (.. us/review)]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

#[path = "../../log/examples/support/http1.rs"]
mod http1;
use http1::{contains, proc_cpu_total as proc_cpu, read_response};

struct Args {
    url: String,
    body: std::path::PathBuf,
    n: usize,
    conc: usize,
    ca: Option<std::path::PathBuf>,
    server_pid: Option<String>,
    threads: usize,
}

fn parse_args() -> Args {
    let mut pos = Vec::new();
    let (mut ca, mut server_pid, mut threads) = (None, None, 1);
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--ca" => ca = it.next().map(Into::into),
            "--server-pid" => server_pid = it.next(),
            "--threads" => threads = it.next().unwrap().parse().unwrap(),
            _ => pos.push(x),
        }
    }
    assert!(
        pos.len() == 4,
        "usage: admission_loadgen URL BODY_FILE N C [--ca CA_PEM] [--server-pid PID] [--threads T]"
    );
    Args {
        url: pos[0].clone(),
        body: pos[1].clone().into(),
        n: pos[2].parse().unwrap(),
        conc: pos[3].parse().unwrap(),
        ca,
        server_pid,
        threads,
    }
}

/// When the timed part started, and the CPU seconds used by then.
struct Start {
    at: Instant,
    cpu: f64,
    server_cpu: Option<f64>,
}

/// How each connection is opened.
#[derive(Clone)]
struct Target {
    addr: String,
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls::pki_types::ServerName<'static>,
    )>,
}

fn main() {
    let args = parse_args();
    let (tls, rest) = if let Some(r) = args.url.strip_prefix("https://") {
        (true, r)
    } else {
        (
            false,
            args.url
                .strip_prefix("http://")
                .expect("an http:// or https:// URL"),
        )
    };
    let (addr, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let body = std::fs::read(&args.body).unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\naccept: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let request: Arc<[u8]> = request.into();
    let tls = tls.then(|| {
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::read(args.ca.as_ref().expect("--ca for https:// URLs")).unwrap();
        for c in pem::parse_many(&pem).unwrap() {
            roots
                .add(rustls::pki_types::CertificateDer::from(
                    c.contents().to_vec(),
                ))
                .unwrap();
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
        let name = rustls::pki_types::ServerName::try_from(host.to_owned()).unwrap();
        (tokio_rustls::TlsConnector::from(Arc::new(config)), name)
    });
    let target = Target {
        addr: addr.to_owned(),
        tls,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .unwrap();
    // Every connection is opened (TCP and TLS handshake) before the timed part: the figures
    // are those of a webhook's steady state, as the API server keeps its connections open.
    // The clock and both CPU counters start when the last connection is ready.
    let started: Arc<std::sync::OnceLock<Start>> = Arc::default();
    let (mut lat, failed) = rt.block_on(async {
        let next = Arc::new(AtomicUsize::new(0));
        let ready = Arc::new(tokio::sync::Barrier::new(args.conc));
        let tasks: Vec<_> = (0..args.conc)
            .map(|_| {
                let ready = Arc::clone(&ready);
                let started = Arc::clone(&started);
                let server_pid = args.server_pid.clone();
                let (target, request, next) =
                    (target.clone(), Arc::clone(&request), Arc::clone(&next));
                tokio::spawn(async move {
                    let conn = connect(&target).await;
                    if ready.wait().await.is_leader() {
                        started.get_or_init(|| Start {
                            at: Instant::now(),
                            cpu: proc_cpu("self").unwrap_or(0.0),
                            server_cpu: server_pid.as_deref().and_then(proc_cpu),
                        });
                    }
                    client(target, conn, request, next, args.n).await
                })
            })
            .collect();
        let mut lat = Vec::with_capacity(args.n);
        let mut failed = 0;
        for t in tasks {
            let (l, f) = t.await.unwrap();
            lat.extend(l);
            failed += f;
        }
        (lat, failed)
    });
    let start = started.get().expect("every connection was opened");
    let server_before = start.server_cpu;
    let cpu_before = start.cpu;
    let start = start.at;
    let secs = start.elapsed().as_secs_f64();
    let cpu = proc_cpu("self").unwrap_or(0.0) - cpu_before;
    let server_after = args.server_pid.as_deref().and_then(proc_cpu);
    lat.sort_by(f64::total_cmp);
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let pct = |p: f64| {
        lat.get(((lat.len().max(1) - 1) as f64 * p) as usize)
            .map_or(0.0, |s| s * 1000.0)
    };
    #[allow(clippy::cast_precision_loss)]
    let per = |c: f64| c / lat.len().max(1) as f64 * 1e6;
    #[allow(clippy::cast_precision_loss)]
    let mut line = format!(
        "reviews={} failed={failed} concurrency={} seconds={secs:.2} rate={:.0}/s p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms client_cpu={cpu:.2}s ({:.1} us/review)",
        lat.len(),
        args.conc,
        lat.len() as f64 / secs,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0),
        per(cpu),
    );
    if let (Some(b), Some(a)) = (server_before, server_after) {
        line.push_str(&format!(
            " server_cpu={:.2}s ({:.1} us/review)",
            a - b,
            per(a - b)
        ));
    }
    println!("{line}");
    if failed > 0 {
        std::process::exit(1);
    }
}

trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

async fn connect(t: &Target) -> Box<dyn Conn> {
    let s = tokio::net::TcpStream::connect(&t.addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    match &t.tls {
        None => Box::new(s),
        Some((connector, name)) => Box::new(connector.connect(name.clone(), s).await.unwrap()),
    }
}

/// One keep-alive connection (`conn`, already open) taking requests until `n` were sent in
/// all: the latencies of admitted reviews and the number of other answers. A connection the
/// webhook closes is opened again, inside the timed part.
async fn client(
    target: Target,
    conn: Box<dyn Conn>,
    request: Arc<[u8]>,
    next: Arc<AtomicUsize>,
    n: usize,
) -> (Vec<f64>, usize) {
    let mut lat = Vec::new();
    let mut failed = 0usize;
    let mut conn = Some(conn);
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    while next.fetch_add(1, Ordering::Relaxed) < n {
        if conn.is_none() {
            conn = Some(connect(&target).await);
            buf.clear();
        }
        let s = conn.as_mut().unwrap();
        let t = Instant::now();
        s.write_all(&request).await.unwrap();
        s.flush().await.unwrap();
        let http1::Response {
            status,
            body,
            close,
        } = read_response(s, &mut buf).await;
        if status == 200 && contains(&body, b"\"allowed\":true") {
            lat.push(t.elapsed().as_secs_f64());
        } else {
            if failed < 3 {
                eprintln!(
                    "not admitted ({status}): {}",
                    String::from_utf8_lossy(&body[..body.len().min(600)])
                );
            }
            failed += 1;
        }
        if close {
            conn = None;
        }
    }
    (lat, failed)
}
