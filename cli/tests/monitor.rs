//! `signet monitor` against real `signet serve` logs: trust on first use, growth, a watched
//! identity alert on stdout and at a webhook, `--max-entries-per-pass`, `--from-checkpoint`,
//! an unparseable entry, a tampered entry bundle, a log that stops answering, a checkpoint
//! that goes backwards, a fork (same keys, other entries), and a checkpoint signed by a key the
//! trusted root does not hold.
//!
//! `monitor_keeps_up_with_a_growing_log` (ignored) is the throughput benchmark recorded in
//! BENCHMARKS.md: `cargo test -p signet-cli --test monitor -- --ignored --nocapture`.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;
use signet_log::entries::ValidEntry;
use signet_proto::keys::EcdsaSigner;
use support::monitor::{alerts, watch_key_policy, EXIT_INTEGRITY, EXIT_RULES, EXIT_UNREACHABLE};
use support::tlog::{
    add_entry, add_hashedrekord, copy_dir, flip, hashedrekord, new_key, serve_log, with_log,
};
use support::{free_port, run, signet, text};

fn get(url: &str) -> String {
    let r = reqwest::blocking::get(url).unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.text().unwrap()
}

fn tree_size(url: &str) -> u64 {
    let v: Value = serde_json::from_str(&get(&format!("{url}/api/v1/log"))).unwrap();
    v["treeSize"].as_u64().unwrap()
}

fn monitor(url: &str, trusted_root: &Path, state: &Path, extra: &[&str]) -> Output {
    run(signet()
        .args(["monitor", "--once", "--log", url, "--trusted-root"])
        .arg(trusted_root)
        .arg("--state")
        .arg(state)
        .args(extra))
}

/// The state of the one log followed (`--log`) in the state file.
fn state_json(path: &Path) -> Value {
    let v: Value = signet_proto::json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    one_log(&v)
}

fn one_log(state: &Value) -> Value {
    let logs = state["logs"].as_object().unwrap();
    assert_eq!(logs.len(), 1, "{state}");
    logs.values().next().unwrap().clone()
}

fn analysed_size(state: &Path) -> u64 {
    state_json(state)["analysed"]["size"].as_u64().unwrap()
}

/// A one-thread HTTP server that records each request body and answers 200.
fn webhook() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let header_end = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(p + 4);
                }
            };
            let Some(header_end) = header_end else {
                continue;
            };
            let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < header_end + len {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            sink.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[header_end..]).into_owned());
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, got)
}

#[test]
fn first_run_growth_watch_alert_webhook_and_bounded_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let port = free_port();
    let data = t.join("data");
    let server = serve_log(&data, port);
    let url = server.url.clone();
    let tr = data.join("trusted_root.json");
    let state = t.join("monitor.json");
    let (watched, other) = (new_key(), new_key());
    for i in 0..2 {
        add_hashedrekord(&url, &other, &format!("before {i}"));
    }

    // First run: trust on first use, nothing analysed, no alert.
    let out = monitor(&url, &tr, &state, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(alerts(&out).is_empty(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("first run"));
    assert_eq!(analysed_size(&state), 2);

    // Growth with a watched key: one JSON alert on stdout and at the webhook; exit 5.
    let policy = watch_key_policy(t, &watched, Some("release key"));
    let (hook, received) = webhook();
    add_hashedrekord(&url, &other, "a");
    let watched_index = add_hashedrekord(&url, &watched, "b");
    add_hashedrekord(&url, &other, "c");
    let out = monitor(
        &url,
        &tr,
        &state,
        &["--policy", policy.to_str().unwrap(), "--webhook", &hook],
    );
    assert_eq!(out.status.code(), Some(EXIT_RULES), "{}", text(&out));
    let a = alerts(&out);
    assert_eq!(a.len(), 1, "{}", text(&out));
    assert_eq!(a[0]["alert"], "watched_identity");
    assert_eq!(a[0]["severity"], "info");
    assert_eq!(a[0]["log_index"], watched_index);
    assert_eq!(analysed_size(&state), 5);
    let posted = received.lock().unwrap().clone();
    assert_eq!(posted.len(), 1, "{posted:?}");
    let p: Value = serde_json::from_str(&posted[0]).unwrap();
    assert_eq!(p, a[0]);

    // No growth: nothing to say. The watched entry is not reported twice.
    let out = monitor(&url, &tr, &state, &["--policy", policy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(alerts(&out).is_empty());

    // A webhook that does not answer is reported on stderr and does not stop the monitor.
    add_hashedrekord(&url, &watched, "d");
    let dead = format!("http://127.0.0.1:{}/hook", free_port());
    let out = monitor(
        &url,
        &tr,
        &state,
        &["--policy", policy.to_str().unwrap(), "--webhook", &dead],
    );
    assert_eq!(out.status.code(), Some(EXIT_RULES), "{}", text(&out));
    assert_eq!(alerts(&out).len(), 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("webhook"),
        "{}",
        text(&out)
    );
    assert_eq!(analysed_size(&state), 6);

    // 300 more entries analysed 128 at a time: each pass proves its prefix with a
    // consistency proof to the signed checkpoint.
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (url, k) = (url.clone(), other.clone());
            std::thread::spawn(move || {
                for i in 0..75 {
                    add_hashedrekord(&url, &k, &format!("bulk {w} {i}"));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let size = tree_size(&url);
    assert_eq!(size, 306);
    let mut passes = 0;
    while analysed_size(&state) < size {
        let before = analysed_size(&state);
        let out = monitor(&url, &tr, &state, &["--max-entries-per-pass", "128"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(analysed_size(&state), (before + 128).min(size));
        passes += 1;
    }
    assert_eq!(passes, 3);
}

#[test]
fn from_checkpoint_analyses_the_entries_after_it() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    let server = serve_log(&data, free_port());
    let url = server.url.clone();
    let tr = data.join("trusted_root.json");
    let (watched, other) = (new_key(), new_key());
    add_hashedrekord(&url, &other, "x");
    add_hashedrekord(&url, &watched, "y");
    let cp = t.join("cp.txt");
    std::fs::write(&cp, get(&format!("{url}/checkpoint"))).unwrap();
    let i = add_hashedrekord(&url, &watched, "z");
    add_hashedrekord(&url, &other, "w");
    let policy = watch_key_policy(t, &watched, None);
    let state = t.join("m.json");
    let out = monitor(
        &url,
        &tr,
        &state,
        &[
            "--from-checkpoint",
            cp.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(EXIT_RULES), "{}", text(&out));
    let a = alerts(&out);
    assert_eq!(a.len(), 1, "{}", text(&out));
    assert_eq!(a[0]["log_index"], i);
    assert_eq!(analysed_size(&state), 4);
}

/// Signatures of `other` and `watched` over `pae` such that the watched one's base64 text
/// sorts after the other's (the log stores dsse signatures sorted by that text).
fn sorted_pair(other: &EcdsaSigner, watched: &EcdsaSigner, pae: &[u8]) -> (Vec<u8>, Vec<u8>) {
    loop {
        let (o, w) = (other.sign(pae).unwrap(), watched.sign(pae).unwrap());
        if B64.encode(&w) > B64.encode(&o) {
            return (o, w);
        }
    }
}

/// A proposed dsse entry over `payload` with the signatures and keys `signed`, in that order.
fn dsse_entry(payload: &[u8], signed: &[(&[u8], &EcdsaSigner)]) -> Vec<u8> {
    let sigs: Vec<Value> = signed
        .iter()
        .map(|(s, _)| serde_json::json!({"sig": B64.encode(s)}))
        .collect();
    let envelope = serde_json::json!({"payload": B64.encode(payload),
        "payloadType": "application/vnd.in-toto+json", "signatures": sigs});
    let verifiers: Vec<String> = signed
        .iter()
        .map(|(_, k)| B64.encode(k.public_key().to_pem()))
        .collect();
    serde_json::to_vec(&serde_json::json!({"apiVersion": "0.0.1", "kind": "dsse",
        "spec": {"proposedContent": {"envelope": envelope.to_string(), "verifiers": verifiers}}}))
    .unwrap()
}

/// A proposed intoto 0.0.2 entry over `payload`, as sigstore-js writes it, with the
/// signatures and keys `signed`, in that order.
fn intoto_entry(payload: &[u8], signed: &[(&[u8], &EcdsaSigner)]) -> Vec<u8> {
    let sigs: Vec<Value> = signed
        .iter()
        .map(|(s, k)| {
            serde_json::json!({"sig": B64.encode(B64.encode(s)),
                "publicKey": B64.encode(k.public_key().to_pem())})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"apiVersion": "0.0.2", "kind": "intoto",
        "spec": {"content": {
            "envelope": {"payload": B64.encode(B64.encode(payload)),
                "payloadType": "application/vnd.in-toto+json", "signatures": sigs},
            "hash": {"algorithm": "sha256", "value": "ab".repeat(32)}}}}))
    .unwrap()
}

/// Issue 15 A, end to end: the log accepts dsse and intoto entries with several signatures;
/// a watched key that signs second (as submitted, or after the log sorts dsse signatures) is
/// reported by `signet monitor` for every such entry.
#[test]
fn a_watched_key_signing_second_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    let server = serve_log(&data, free_port());
    let url = server.url.clone();
    let tr = data.join("trusted_root.json");
    let state = t.join("m.json");
    let out = monitor(&url, &tr, &state, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let (watched, other) = (new_key(), new_key());
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
    let pae = signet_proto::bundle::pae("application/vnd.in-toto+json", payload);
    let (o, w) = sorted_pair(&other, &watched, &pae);
    let (o2, w2) = sorted_pair(&other, &watched, &pae);
    let (o3, w3) = sorted_pair(&other, &watched, &pae);
    let mut want = vec![
        // Submitted second, stored second.
        add_entry(&url, dsse_entry(payload, &[(&o, &other), (&w, &watched)])),
        // Submitted first, stored second.
        add_entry(&url, dsse_entry(payload, &[(&w2, &watched), (&o2, &other)])),
        // intoto keeps the submitted order.
        add_entry(
            &url,
            intoto_entry(payload, &[(&o3, &other), (&w3, &watched)]),
        ),
    ];
    add_hashedrekord(&url, &other, "not watched");
    want.push(add_hashedrekord(&url, &watched, "watched, alone"));

    let policy = watch_key_policy(t, &watched, Some("release key"));
    let out = monitor(&url, &tr, &state, &["--policy", policy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(EXIT_RULES), "{}", text(&out));
    let a = alerts(&out);
    let got: Vec<(u64, u64)> = a
        .iter()
        .map(|x| {
            assert_eq!(x["alert"], "watched_identity", "{x}");
            assert_eq!(
                x["details"]["key_id"],
                hex::encode(watched.public_key().key_id())
            );
            (
                x["log_index"].as_u64().unwrap(),
                x["details"]["signer"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(want[0], 1), (want[1], 1), (want[2], 1), (want[3], 0)],
        "{}",
        text(&out)
    );
}

#[test]
fn polling_mode_reports_alerts_as_the_log_grows() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    let server = serve_log(&data, free_port());
    let url = server.url.clone();
    let watched = new_key();
    let policy = watch_key_policy(t, &watched, None);
    let mut child = signet()
        .args([
            "monitor",
            "--log",
            &url,
            "--interval",
            "200ms",
            "--trusted-root",
        ])
        .arg(data.join("trusted_root.json"))
        .arg("--state")
        .arg(t.join("m.json"))
        .arg("--policy")
        .arg(&policy)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    // Wait for the first pass (the state file appears), then sign twice, a while apart.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !t.join("m.json").exists() {
        assert!(Instant::now() < deadline, "no first pass");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut got = Vec::new();
    for n in 0..2 {
        let index = add_hashedrekord(&url, &watched, &format!("loop {n}"));
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["alert"], "watched_identity", "{line}");
        assert_eq!(v["log_index"], index);
        got.push(v);
    }
    assert!(child.try_wait().unwrap().is_none(), "the monitor stopped");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(got.len(), 2);
}

#[test]
fn unreachable_log_alerts_after_the_configured_time() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    let server = serve_log(&data, free_port());
    let url = server.url.clone();
    let tr = data.join("trusted_root.json");
    let state = t.join("m.json");
    add_hashedrekord(&url, &new_key(), "one");
    let out = monitor(&url, &tr, &state, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let before = std::fs::read(&state).unwrap();
    drop(server);

    let t0 = Instant::now();
    let out = monitor(&url, &tr, &state, &["--unreachable-after", "2s"]);
    let took = t0.elapsed();
    assert_eq!(out.status.code(), Some(EXIT_UNREACHABLE), "{}", text(&out));
    assert!(took >= Duration::from_secs(2), "alerted after {took:?}");
    let a = alerts(&out);
    assert_eq!(a.len(), 1, "{}", text(&out));
    assert_eq!(a[0]["alert"], "log_unreachable");
    assert_eq!(a[0]["severity"], "critical");
    // The outage start is kept; the verified checkpoint is not touched.
    let s = state_json(&state);
    assert!(s["unreachable_since"].is_i64());
    let old = one_log(&signet_proto::json::from_slice(&before).unwrap());
    assert_eq!(s["checkpoint"], old["checkpoint"]);
    assert_eq!(s["analysed"], old["analysed"]);

    // In loop mode too (no --once): the monitor exits 4 once the limit has passed.
    let out = run(signet()
        .args(["monitor", "--log", &url, "--trusted-root"])
        .arg(&tr)
        .arg("--state")
        .arg(t.join("loop.json"))
        .args(["--interval", "200ms", "--unreachable-after", "1s"]));
    assert_eq!(out.status.code(), Some(EXIT_UNREACHABLE), "{}", text(&out));
    assert_eq!(alerts(&out)[0]["alert"], "log_unreachable");
}

#[test]
fn once_against_an_unreachable_log_gives_up_in_seconds_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    let server = serve_log(&data, free_port());
    let url = server.url.clone();
    let tr = data.join("trusted_root.json");
    drop(server);

    // The default --unreachable-after is 5 minutes: --once does not wait for it.
    let t0 = Instant::now();
    let out = monitor(&url, &tr, &t.join("m.json"), &[]);
    let took = t0.elapsed();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(took < Duration::from_secs(20), "gave up after {took:?}");
    assert!(alerts(&out).is_empty(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with(&format!(
            "signet: error: the log {url} does not answer: GET {url}/checkpoint: "
        )),
        "{err}"
    );
    // The cause, once (not reqwest's message again as the next link of the chain).
    assert_eq!(lines[0].matches("Connection refused").count(), 1, "{err}");
    assert_eq!(
        lines[0].matches("error sending request").count(),
        1,
        "{err}"
    );
    assert!(lines[0].contains("--unreachable-after 300s"), "{err}");
}

#[test]
fn backwards_fork_inconsistent_and_bad_signature_are_integrity_alerts() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let port = free_port();
    let data_a = t.join("a");
    let k = new_key();
    {
        let a = serve_log(&data_a, port);
        add_hashedrekord(&a.url, &k, "shared 0");
        add_hashedrekord(&a.url, &k, "shared 1");
    }
    // The fork's base: a copy of A's store and keys at size 2, taken while A is down.
    let data_b = t.join("b");
    copy_dir(&data_a, &data_b);
    let tr = data_a.join("trusted_root.json");
    let state = t.join("m.json");
    {
        let a = serve_log(&data_a, port);
        for i in 0..3 {
            add_hashedrekord(&a.url, &k, &format!("a {i}"));
        }
        let out = monitor(&a.url, &tr, &state, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(analysed_size(&state), 5);
    }
    let saved = std::fs::read(&state).unwrap();

    // B, same port and keys, smaller: the checkpoint went backwards.
    let b = serve_log(&data_b, port);
    let out = monitor(&b.url, &tr, &state, &[]);
    assert_eq!(out.status.code(), Some(EXIT_INTEGRITY), "{}", text(&out));
    let a = alerts(&out);
    assert_eq!(a[0]["alert"], "checkpoint_backwards", "{}", text(&out));
    assert_eq!(a[0]["severity"], "critical");
    assert_eq!(std::fs::read(&state).unwrap(), saved, "state advanced");

    // B grown to the same size with other entries: two roots at one size.
    for i in 0..3 {
        add_hashedrekord(&b.url, &k, &format!("b {i}"));
    }
    let out = monitor(&b.url, &tr, &state, &[]);
    assert_eq!(out.status.code(), Some(EXIT_INTEGRITY), "{}", text(&out));
    assert_eq!(alerts(&out)[0]["alert"], "fork", "{}", text(&out));
    assert_eq!(std::fs::read(&state).unwrap(), saved, "state advanced");

    // B larger: its consistency proof from A's checkpoint cannot verify.
    add_hashedrekord(&b.url, &k, "b 3");
    let out = monitor(&b.url, &tr, &state, &[]);
    assert_eq!(out.status.code(), Some(EXIT_INTEGRITY), "{}", text(&out));
    let a = alerts(&out);
    assert_eq!(a[0]["alert"], "inconsistent_proof", "{}", text(&out));
    assert_eq!(a[0]["details"]["old_size"], 5);
    assert_eq!(a[0]["details"]["new_size"], 6);
    assert_eq!(std::fs::read(&state).unwrap(), saved, "state advanced");
    drop(b);

    // A again: still consistent with the saved state.
    let a_srv = serve_log(&data_a, port);
    add_hashedrekord(&a_srv.url, &k, "a 3");
    let out = monitor(&a_srv.url, &tr, &state, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(analysed_size(&state), 6);

    // A trusted root with another key under the same name: bad signature, on a first run and
    // on a later one.
    let other_data = t.join("other");
    let other_tr = {
        let _o = serve_log(&other_data, free_port());
        other_data.join("trusted_root.json")
    };
    let mut root: Value = signet_proto::json::from_slice(&std::fs::read(&tr).unwrap()).unwrap();
    let other: Value = signet_proto::json::from_slice(&std::fs::read(&other_tr).unwrap()).unwrap();
    root["tlogs"][0]["publicKey"] = other["tlogs"][0]["publicKey"].clone();
    root["tlogs"][0]["logId"] = other["tlogs"][0]["logId"].clone();
    let bad_tr = t.join("bad_trusted_root.json");
    std::fs::write(&bad_tr, serde_json::to_vec(&root).unwrap()).unwrap();
    for st in [t.join("fresh.json"), state.clone()] {
        let out = monitor(&a_srv.url, &bad_tr, &st, &[]);
        assert_eq!(out.status.code(), Some(EXIT_INTEGRITY), "{}", text(&out));
        let a = alerts(&out);
        assert_eq!(a[0]["alert"], "bad_signature", "{}", text(&out));
        assert_eq!(a[0]["severity"], "critical");
    }
    assert!(!t.join("fresh.json").exists());
}

#[test]
fn unparseable_entry_is_an_alert_and_a_tampered_bundle_a_root_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let port = free_port();
    let data = t.join("data");
    let tr = data.join("trusted_root.json");
    let state = t.join("m.json");
    {
        let s = serve_log(&data, port);
        let out = monitor(&s.url, &tr, &state, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(analysed_size(&state), 0);
    }
    // Entries the HTTP API would refuse, written with the library: 10 good, 1 without a spec.
    let k = new_key();
    with_log(&data, port, |log| {
        let mut entries: Vec<ValidEntry> = (0..10)
            .map(|i| ValidEntry::new(hashedrekord(&k, &format!("good {i}")), vec![]))
            .collect();
        entries.push(ValidEntry::new(
            br#"{"apiVersion":"0.0.1","kind":"hashedrekord"}"#.to_vec(),
            vec![],
        ));
        log.bulk_append(&entries, 64).unwrap();
    });
    let url = {
        let s = serve_log(&data, port);
        let out = monitor(&s.url, &tr, &state, &[]);
        assert_eq!(out.status.code(), Some(EXIT_RULES), "{}", text(&out));
        let a = alerts(&out);
        assert_eq!(a.len(), 1, "{}", text(&out));
        assert_eq!(a[0]["alert"], "entry_unparseable");
        assert_eq!(a[0]["log_index"], 10);
        assert_eq!(analysed_size(&state), 11);
        s.url.clone()
    };

    // More entries, then one byte of the last entry's stored body is changed (the partial
    // entry bundle is served from the entry records): the entries served no longer hash to
    // the signed root.
    with_log(&data, port, |log| {
        let more: Vec<ValidEntry> = (0..5)
            .map(|i| ValidEntry::new(hashedrekord(&k, &format!("more {i}")), vec![]))
            .collect();
        log.bulk_append(&more, 64).unwrap();
        let key = signet_log::storage::keys::entry(15);
        let len = log.db().raw().get(&key).unwrap().unwrap().len();
        flip(log, &key, len - 20); // inside the entry's body
    });
    let saved = std::fs::read(&state).unwrap();
    let s = serve_log(&data, port);
    assert_eq!(s.url, url);
    let out = monitor(&s.url, &tr, &state, &[]);
    assert_eq!(out.status.code(), Some(EXIT_INTEGRITY), "{}", text(&out));
    let a = alerts(&out);
    assert_eq!(
        a.last().unwrap()["alert"],
        "root_mismatch",
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read(&state).unwrap(), saved, "state advanced");
}

/// Throughput benchmark (BENCHMARKS.md, "Monitor and audit"): an in-process log grows at a
/// fixed rate (bulk appends of pre-signed hashedrekord entries with certificates, served over
/// loopback HTTP) while `signet monitor --interval 1s` with a policy follows it. Reports the
/// monitor's processing rate and its lag behind the log.
///
/// `SIGNET_BENCH_RATE` (entries/s, default 5000), `SIGNET_BENCH_SECONDS` (default 30).
#[test]
#[ignore = "benchmark; run by just bench-slow (BENCHMARKS.md)"]
fn monitor_keeps_up_with_a_growing_log() {
    let rate: u64 = std::env::var("SIGNET_BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let seconds: u64 = std::env::var("SIGNET_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let port = free_port();
    let data = t.join("data");
    // Write the trusted root: start and stop serve once on the data dir.
    {
        let _s = serve_log(&data, port);
    }
    let tr = data.join("trusted_root.json");
    let total = usize::try_from(rate * seconds).unwrap();
    let t0 = Instant::now();
    let bodies = bench_bodies(total);
    eprintln!(
        "bench: built {total} entries with certificates in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    let policy = t.join("policy.toml");
    // SIGNET_BENCH_POLICY: "full" (default: watch + digest + burst rules), "watch", "none".
    let policy_kind = std::env::var("SIGNET_BENCH_POLICY").unwrap_or_else(|_| "full".into());
    let policy_text = match policy_kind.as_str() {
        "none" => "",
        "watch" => "[[watch]]\nsan = \"watched@example.com\"\n",
        _ => "[[watch]]\nsan = \"watched@example.com\"\n\n[rules.digest_multiple_identities]\n\n[rules.burst]\nmax = 1000000\n",
    };
    std::fs::write(&policy, policy_text).unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let state = t.join("bench.json");
    let (result, log_rate) = rt.block_on(async {
        let cfg = signet_log::LogConfig {
            data_dir: data.join("log"),
            listen: format!("127.0.0.1:{port}").parse().unwrap(),
            public_host: Some(format!("127.0.0.1:{port}")),
            ..signet_log::LogConfig::default()
        };
        let bound = signet_log::bind(&cfg, std::sync::Arc::new(signet_log::SystemClock))
            .await
            .unwrap();
        let log = Arc::clone(bound.log());
        tokio::spawn(bound.serve());
        let url = format!("http://127.0.0.1:{port}");
        // The monitor starts at the empty log and follows it.
        let mut mon = tokio::process::Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(["monitor", "--log", &url, "--trusted-root"])
            .arg(&tr)
            .arg("--state")
            .arg(&state)
            .args(["--interval", "1s", "--policy"])
            .arg(&policy)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = mon.stderr.take().unwrap();
        let passes = Arc::new(Mutex::new(Vec::<(Instant, String)>::new()));
        let sink = Arc::clone(&passes);
        tokio::spawn(async move {
            use tokio::io::AsyncBufReadExt as _;
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                sink.lock().unwrap().push((Instant::now(), l));
            }
        });
        tokio::time::sleep(Duration::from_secs(2)).await;

        // Grow at `rate`: one bulk append every 100 ms.
        let per_tick = usize::try_from(rate / 10).unwrap();
        let grow_start = Instant::now();
        let mut next = 0usize;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        while next < bodies.len() {
            tick.tick().await;
            let part: Vec<ValidEntry> = bodies[next..(next + per_tick).min(bodies.len())]
                .iter()
                .map(|b| ValidEntry::new(b.clone(), vec![]))
                .collect();
            next += part.len();
            let log = Arc::clone(&log);
            tokio::task::spawn_blocking(move || log.bulk_append(&part, 65_536).unwrap())
                .await
                .unwrap();
        }
        let grow_secs = grow_start.elapsed().as_secs_f64();
        let final_size = log.head().unwrap().size;
        // Wait until the monitor has analysed everything.
        let deadline = Instant::now() + Duration::from_secs(120);
        let caught_up = loop {
            let done = std::fs::read(&state)
                .ok()
                .and_then(|b| signet_proto::json::from_slice::<Value>(&b).ok())
                .and_then(|v| {
                    v["logs"]
                        .as_object()
                        .and_then(|l| l.values().next())
                        .and_then(|l| l["analysed"]["size"].as_u64())
                })
                .unwrap_or(0);
            if done >= final_size {
                break Instant::now();
            }
            assert!(
                Instant::now() < deadline,
                "monitor did not catch up: {done}/{final_size}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let lag = caught_up.duration_since(grow_start).as_secs_f64() - grow_secs;
        mon.kill().await.unwrap();
        let lines = passes.lock().unwrap().clone();
        (
            (final_size, grow_secs, lag, lines),
            final_size as f64 / grow_secs,
        )
    });
    let (final_size, grow_secs, lag, lines) = result;
    // Busy time: the sum of pass durations that analysed entries.
    let mut busy = 0.0f64;
    let mut saving = 0.0f64;
    let mut analysed = 0u64;
    for (_, l) in &lines {
        if let Some(rest) = l.split("(+").nth(1) {
            let n: u64 = rest.split(' ').next().unwrap().parse().unwrap();
            let secs: f64 = rest
                .split(" entries in ")
                .nth(1)
                .unwrap()
                .split('s')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            busy += secs;
            analysed += n;
            if let Some(v) = l.split("state saved in ").nth(1) {
                saving += v.trim_end_matches('s').parse::<f64>().unwrap();
            }
        }
    }
    eprintln!("bench: policy {policy_kind:?}");
    eprintln!(
        "bench: log grew to {final_size} in {grow_secs:.1}s ({log_rate:.0} entries/s); monitor analysed {analysed} entries in {busy:.1}s of passes ({:.0} entries/s while busy, {saving:.1}s of it saving state), caught up {lag:.2}s after the last append; {} passes",
        analysed as f64 / busy,
        lines.iter().filter(|(_, l)| l.contains("pass ok")).count()
    );
    assert_eq!(analysed, final_size);
}

/// `n` hashedrekord bodies signed with keys that have Fulcio-style certificates (from a test
/// CA, rcgen), one identity per 100 entries; one in 1000 by the watched identity.
fn bench_bodies(n: usize) -> Vec<Vec<u8>> {
    use rcgen::{CertificateParams, CustomExtension, Issuer, KeyPair, SanType};
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = Issuer::new(ca_params, ca_key);
    let identities = n.div_ceil(100).max(2);
    let mut certs = Vec::new();
    for i in 0..identities.min(200) {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let email = if i == 0 {
            "watched@example.com".to_owned()
        } else {
            format!("user{i}@example.com")
        };
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.subject_alt_names = vec![SanType::Rfc822Name(
            rcgen::string::Ia5String::try_from(email).unwrap(),
        )];
        let issuer = b"https://accounts.example.com";
        let mut ext = vec![0x0c, u8::try_from(issuer.len()).unwrap()];
        ext.extend_from_slice(issuer);
        p.custom_extensions = vec![
            CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 57264, 1, 1], issuer.to_vec()),
            CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 57264, 1, 8], ext),
        ];
        let cert = p.signed_by(&key, &ca).unwrap();
        certs.push(B64.encode(cert.pem()));
    }
    let sig = B64.encode([0x30u8; 70]);
    let run = std::process::id();
    (0..n)
        .map(|i| {
            let c = if i % 1000 == 0 { 0 } else { 1 + (i / 100) % (certs.len() - 1) };
            let digest = aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                format!("bench {run} {i}").as_bytes(),
            );
            format!(
                r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{sig}","publicKey":{{"content":"{}"}}}}}}}}"#,
                hex::encode(digest.as_ref()),
                certs[c]
            )
            .into_bytes()
        })
        .collect()
}
