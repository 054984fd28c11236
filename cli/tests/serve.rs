//! `signet serve` as a user runs it: embedded defaults, keys generated once and reused,
//! trust files written and served, config errors, and a graceful shutdown under load that
//! loses nothing it acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn signet serve");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("signet serve exited before listening")
            .unwrap();
        if let Some(u) = line.strip_prefix("signet listening on ") {
            break u.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[test]
fn defaults_generate_keys_once_and_serve_trust_files() {
    let dir = tempfile::tempdir().unwrap();
    let first = {
        let s = start(dir.path(), &["--oidc-issuer", "https://issuer.example"]);
        let c = client();
        assert_eq!(
            c.get(format!("{}/healthz", s.url)).send().unwrap().status(),
            200
        );
        assert_eq!(
            c.get(format!("{}/readyz", s.url)).send().unwrap().status(),
            200
        );
        let served: Value = c
            .get(format!("{}/signet/v1/trusted_root.json", s.url))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let written: Value = signet_proto::json::from_slice(
            &std::fs::read(dir.path().join("trusted_root.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(served, written);
        assert_eq!(
            written["mediaType"],
            "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
        );
        // The Rekor v1 log, then the Rekor v2 log (docs/REKOR_V2.md).
        assert_eq!(written["tlogs"].as_array().unwrap().len(), 2);
        assert_eq!(
            written["tlogs"][1]["baseUrl"],
            format!("{}/rekor-v2", s.url)
        );
        assert_eq!(written["ctlogs"].as_array().unwrap().len(), 1);
        assert_eq!(
            written["certificateAuthorities"].as_array().unwrap().len(),
            1
        );
        assert_eq!(written["tlogs"][0]["baseUrl"], s.url.as_str());
        let signing: Value = signet_proto::json::from_slice(
            &std::fs::read(dir.path().join("signing_config.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(signing["caUrls"][0]["url"], s.url.as_str());
        assert_eq!(signing["rekorTlogUrls"][0]["url"], s.url.as_str());
        assert_eq!(signing["oidcUrls"][0]["url"], "https://issuer.example");
        assert!(dir.path().join("trust_config.json").exists());
        let cfg: Value = c
            .get(format!("{}/api/v2/configuration", s.url))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert!(cfg.to_string().contains("https://issuer.example"), "{cfg}");
        let info: Value = c
            .get(format!("{}/api/v1/log", s.url))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert!(info["treeSize"].as_u64().is_some(), "{info}");
        // One scrape answers the log's and the CA's series, and the process-wide ones once.
        let text = c
            .get(format!("{}/metrics", s.url))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let m = support::metrics::parse_metrics(&text);
        let metric = |name, labels| support::metrics::metric(&m, name, labels);
        assert!(metric("signet_log_tree_size", &[]) >= 0.0);
        assert_eq!(
            metric(
                "signet_log_http_requests_total",
                &[("route", "/api/v1/log"), ("status", "200")]
            ),
            1.0
        );
        assert_eq!(
            metric(
                "signet_ca_certificates_issued_total",
                &[("issuer", "https://issuer.example")]
            ),
            0.0
        );
        assert_eq!(metric("signet_ca_rate_limited_total", &[]), 0.0);
        assert_eq!(
            m.iter().filter(|s| s.name == "signet_build_info").count(),
            1,
            "{text}"
        );
        assert!(metric("process_cpu_seconds_total", &[]) >= 0.0);
        (
            written["tlogs"][0]["publicKey"]["rawBytes"].clone(),
            written["certificateAuthorities"][0]["certChain"].clone(),
        )
    };
    // Restart on the same data directory: the same keys and CA come back.
    let s = start(dir.path(), &[]);
    let again: Value = client()
        .get(format!("{}/signet/v1/trusted_root.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(again["tlogs"][0]["publicKey"]["rawBytes"], first.0);
    assert_eq!(again["certificateAuthorities"][0]["certChain"], first.1);
}

#[test]
fn print_config_shows_flags_and_check_config_rejects_bad_values() {
    let out = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args([
            "serve",
            "--print-config",
            "--listen",
            "127.0.0.1:4444",
            "--oidc-issuer",
            "https://a.example",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listen = \"127.0.0.1:4444\""), "{text}");
    assert!(text.contains("https://a.example"), "{text}");
    assert!(text.contains("batch_max_entries = 1024"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.toml");
    std::fs::write(&p, "only = \"ca\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["serve", "--check-config", "--config"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ca.log_url"), "{err}");
}

/// An explicit public URL on a loopback or cluster-internal host is refused at start, naming
/// why and the override, before anything is written; with the override (flag, environment or
/// key) `serve` starts and announces that URL. The default `http://<listen>` needs none.
#[test]
fn internal_public_url_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "http://127.0.0.1:3000",
        "http://signet.signet.svc.cluster.local",
    ] {
        let data = dir.path().join("refused");
        let out = Command::new(env!("CARGO_BIN_EXE_signet"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--public-url",
                url,
                "--data-dir",
            ])
            .arg(&data)
            .env_remove("SIGNET_ALLOW_INTERNAL_PUBLIC_URL")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}");
        let err = String::from_utf8_lossy(&out.stderr);
        for needle in [
            "public_url",
            url,
            "checkpoint origin",
            "allow_internal_public_url = true",
            "--allow-internal-public-url",
        ] {
            assert!(err.contains(needle), "{needle:?} not in {err}");
        }
        assert!(!data.exists(), "{url}: the data directory was created");
    }
    let port = support::free_port();
    let public = format!("http://localhost:{port}");
    let s = start(
        &dir.path().join("allowed"),
        &["--public-url", &public, "--allow-internal-public-url"],
    );
    assert_eq!(s.url, public);
}

/// `--listen` takes a host name (resolved, here to loopback) and refuses garbage naming the
/// expected form.
#[test]
fn listen_takes_a_host_name_and_refuses_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["serve", "--listen", "localhost:0", "--data-dir"])
        .arg(dir.path())
        .args(["--oidc-issuer", "https://issuer.example"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("signet serve exited before listening")
            .unwrap();
        if let Some(u) = line.strip_prefix("signet listening on ") {
            break u.trim().to_owned();
        }
    };
    let server = Server { child, url };
    assert!(
        server.url.starts_with("http://127.0.0.1:") || server.url.starts_with("http://[::1]:"),
        "{}",
        server.url
    );
    assert_eq!(
        client()
            .get(format!("{}/healthz", server.url))
            .send()
            .unwrap()
            .status(),
        200
    );

    for (bad, reason) in [
        ("localhost", "no port"),
        (
            "local host:3000",
            "the host must be an IP address or a host name",
        ),
        ("http://localhost:3000", "a listen address has no scheme"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(["serve", "--listen", bad, "--data-dir"])
            .arg(dir.path().join("unused"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad}: serve started");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("invalid listen address {bad:?}: {reason}"))
                && err.contains("write HOST:PORT, e.g. 127.0.0.1:3000, [::1]:3000, 0.0.0.0:3000 or localhost:3000"),
            "{bad}: {err}"
        );
        assert!(
            !dir.path().join("unused").exists(),
            "{bad}: wrote the data directory"
        );
    }
}

/// A second `serve` on a data directory in use says that another process serves it and what
/// to do (not RocksDB's "While lock file: …LOCK: Resource temporarily unavailable").
#[test]
fn data_dir_in_use_names_the_other_process() {
    let dir = tempfile::tempdir().unwrap();
    let _first = start(dir.path(), &["--oidc-issuer", "https://issuer.example"]);
    let out = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--oidc-issuer", "https://issuer.example"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a second serve started");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "another process is serving the data directory {} (the log store {} is locked by it): stop that process first, or give this server another --data-dir",
            dir.path().display(),
            dir.path().join("log").join("db").display()
        )),
        "{err}"
    );
    assert!(!err.contains("While lock file"), "{err}");
}

/// A data directory whose `log` or `ca` part (or which itself) is a file: `serve` names that
/// file and says it must be a directory, before writing anything.
#[test]
fn data_dir_part_that_is_a_file_is_named() {
    for blocked in ["log", "ca", ""] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let file = if blocked.is_empty() {
            data.clone()
        } else {
            std::fs::create_dir(&data).unwrap();
            data.join(blocked)
        };
        std::fs::write(&file, b"not a directory\n").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{blocked:?}: serve started");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{} exists and is not a directory", file.display())),
            "{blocked:?}: {err}"
        );
        assert!(!err.contains("File exists"), "{blocked:?}: {err}");
        if !blocked.is_empty() {
            let left: Vec<_> = std::fs::read_dir(&data)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(
                left,
                [std::ffi::OsString::from(blocked)],
                "{blocked:?}: wrote {left:?}"
            );
        }
    }
}

/// A hashedrekord entry signed by a fresh P-256 key.
fn entry(key: &signet_proto::keys::EcdsaSigner, n: u64) -> Value {
    let artifact = format!("artifact {n} {}", std::process::id());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, artifact.as_bytes());
    let sig = key.sign(artifact.as_bytes()).unwrap();
    json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest.as_ref())}},
            "signature": {
                "content": B64.encode(sig),
                "publicKey": {"content": B64.encode(key.public_key().to_pem())}
            }
        }
    })
}

#[test]
fn sigterm_under_load_answers_what_it_accepted_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let url = server.url.clone();
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let key = signet_proto::keys::EcdsaSigner::generate(signet_proto::keys::EcdsaCurve::P256, &rng)
        .unwrap();
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u64, String)>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4u64 {
        let (url, key, acked, stop) = (url.clone(), key.clone(), acked.clone(), stop.clone());
        workers.push(std::thread::spawn(move || {
            let c = client();
            let mut n = w * 1_000_000;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                n += 1;
                let Ok(resp) = c
                    .post(format!("{url}/api/v1/log/entries"))
                    .json(&entry(&key, n))
                    .send()
                else {
                    break; // the server has closed its listener
                };
                if resp.status() == 201 {
                    let v: Value = resp.json().unwrap();
                    let (uuid, e) = v.as_object().unwrap().iter().next().unwrap();
                    acked
                        .lock()
                        .unwrap()
                        .push((e["logIndex"].as_u64().unwrap(), uuid.clone()));
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let pid = server.child.id();
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut server = server;
    let exit = server.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    assert!(
        exit.success(),
        "signet serve exited with {exit} after SIGTERM"
    );
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 10,
        "only {} entries acknowledged",
        acked.len()
    );

    // Restart: every acknowledged entry is there, at its index, exactly once.
    let s = start(dir.path(), &[]);
    let c = client();
    let info: Value = c
        .get(format!("{}/api/v1/log", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let size = info["treeSize"].as_u64().unwrap();
    assert!(
        size >= acked.len() as u64,
        "tree {size} < acked {}",
        acked.len()
    );
    let mut seen = std::collections::HashSet::new();
    for (index, uuid) in &acked {
        assert!(seen.insert(*index), "index {index} acknowledged twice");
        let v: Value = c
            .get(format!("{}/api/v1/log/entries/{uuid}", s.url))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let e = v.as_object().unwrap().values().next().unwrap();
        assert_eq!(e["logIndex"].as_u64().unwrap(), *index);
    }
}

/// A body declared larger than a route's limit is refused at once, unread: every body-taking
/// route of `signet serve` (Rekor v1, CT, Rekor v2, Fulcio v2 and v1, the timestamp
/// authority) answers 413 in its API's error shape without a `100 Continue`, closes the
/// connection, and stores nothing. A body sent without a declared length is still cut at the
/// limit.
#[test]
fn declared_oversized_bodies_are_refused_before_they_are_sent() {
    use support::raw_http::{assert_refused_at_once, declare_body, send_chunked};
    let tmp = tempfile::tempdir().unwrap();
    let server = start(tmp.path(), &[]);
    let http = client();
    let sizes = || {
        let v1: Value = http
            .get(format!("{}/api/v1/log", server.url))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let v2 = http
            .get(format!("{}/rekor-v2/checkpoint", server.url))
            .send()
            .unwrap()
            .text()
            .unwrap();
        (
            v1["treeSize"].clone(),
            v2.lines().nth(1).unwrap().to_owned(),
        )
    };
    let before = sizes();
    let declared = 1u64 << 30;
    let v1_message = "request body too large (limit 1048576 bytes)";
    for path in [
        "/api/v1/log/entries",
        "/api/v1/log/entries/retrieve",
        "/api/v1/index/retrieve",
        "/ct/v1/add-pre-chain",
    ] {
        let r = declare_body(&server.url, path, "application/json", declared);
        assert_refused_at_once(&r, path);
        assert_eq!(
            r.json(),
            json!({"code": 413, "message": v1_message}),
            "{path}"
        );
    }
    for path in [
        "/rekor-v2/api/v2/log/entries",
        "/api/v2/signingCert",
        "/api/v1/signingCert",
    ] {
        let r = declare_body(&server.url, path, "application/json", declared);
        assert_refused_at_once(&r, path);
        let body = r.json();
        assert_eq!(body["code"], 8, "{path}: RESOURCE_EXHAUSTED: {body}");
        assert_eq!(body["details"], json!([]), "{path}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("request body too large (limit "),
            "{path}: {body}"
        );
    }
    // The timestamp authority refuses requests as RFC 3161 has it, with a TimeStampResp
    // (status rejection, badRequest), as it does a body found too large while read.
    let r = declare_body(
        &server.url,
        "/api/v1/timestamp",
        "application/timestamp-query",
        declared,
    );
    assert_refused_at_once(&r, "timestamp");
    assert_eq!(
        r.header("content-type"),
        Some("application/timestamp-reply"),
        "{}",
        r.text
    );
    assert!(
        r.body().contains("the request is larger than 4096 bytes"),
        "{}",
        r.text
    );
    // Just over the limit is refused too; at the limit the body is read (and judged).
    let r = declare_body(
        &server.url,
        "/api/v1/log/entries",
        "application/json",
        1_048_577,
    );
    assert_refused_at_once(&r, "limit + 1");

    // Within the limit, an `Expect: 100-continue` client is still asked for its body.
    {
        use std::io::{Read as _, Write as _};
        let addr = server.url.strip_prefix("http://").unwrap();
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "POST /api/v1/log/entries HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap();
        let interim = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");
        s.write_all(b"{}").unwrap();
        let mut rest = String::new();
        s.read_to_string(&mut rest).unwrap();
        let answer = format!("{interim}{rest}");
        assert!(answer.contains("HTTP/1.1 400 "), "{answer}");
    }

    // A chunked body (no declared length) over the limit: cut while read, the same 413.
    let r = send_chunked(
        &server.url,
        "/api/v1/log/entries",
        "application/json",
        1200 * 1024,
    );
    assert!(r.status_line().starts_with("HTTP/1.1 413 "), "{}", r.text);
    assert_eq!(r.json(), json!({"code": 413, "message": v1_message}));
    let r = send_chunked(
        &server.url,
        "/rekor-v2/api/v2/log/entries",
        "application/json",
        1200 * 1024,
    );
    assert!(r.status_line().starts_with("HTTP/1.1 413 "), "{}", r.text);
    assert_eq!(r.json()["code"], 8, "{}", r.text);

    assert_eq!(sizes(), before, "nothing was stored");
}
