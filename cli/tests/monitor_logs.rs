//! `signet monitor` following every log of the trust root (issues 19 and 20), against real
//! `signet serve --only log` servers (the v1 log at the public URL, the Rekor v2 log at
//! `/rekor-v2`):
//! * with no `--log`, both logs are followed: watched-key hits are reported from each (the
//!   alert's `log` names it), and a forked v2 checkpoint (the same keys serving another tree of
//!   the same size) is a `fork` alert naming the v2 log;
//! * a frozen shard (a tlog whose `validFor` has ended) is verified up to its final
//!   checkpoint, raises nothing while it stays so, and `frozen_log_grew` when it grows;
//! * a trusted key revoked with `signet keys revoke` (`trusted_keys.json` beside the trusted
//!   root) raises `revoked_signer` for entries integrated after the revocation: exactly, from
//!   the v1 log's integration time (an entry just before is not reported); from the bounds of
//!   the checkpoints seen for the v2 log (certain when seen after the revocation, a warning
//!   saying the order is unknown when the revocation falls between two checkpoints);
//! * the trust is refreshed while the monitor runs: a key revoked after it started is
//!   reported without a restart.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};
use signet_proto::keys::EcdsaSigner;
use support::monitor::{alerts, watch_key_policy, EXIT_INTEGRITY, EXIT_RULES};
use support::tlog::{copy_dir, hashedrekord, new_key, serve_log};
use support::{free_port, rfc3339, run, signet, text, unix_now};

/// `signet monitor --once` over every log of `trusted_root` (no `--log`).
fn monitor_all(trusted_root: &Path, state: &Path, extra: &[&str]) -> Output {
    run(signet()
        .args(["monitor", "--once", "--trusted-root"])
        .arg(trusted_root)
        .arg("--state")
        .arg(state)
        .args(extra))
}

/// Sleeps until the clock reads at least Unix second `t`.
fn wait_until(t: i64) {
    while unix_now() < t {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Adds a keyed hashedrekord 0.0.1 entry to the v1 log; returns (index, integratedTime).
fn add_v1(url: &str, key: &EcdsaSigner, artifact: &str) -> (u64, i64) {
    let r = reqwest::blocking::Client::new()
        .post(format!("{url}/api/v1/log/entries"))
        .header("Content-Type", "application/json")
        .body(hashedrekord(key, artifact))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().unwrap_or_default());
    let v: Value = r.json().unwrap();
    let e = v.as_object().unwrap().values().next().unwrap();
    (
        e["logIndex"].as_u64().unwrap(),
        e["integratedTime"].as_i64().unwrap(),
    )
}

/// Adds a keyed `hashedRekordRequestV002` to the v2 log (`<url>/rekor-v2`); returns its index.
fn add_v2(url: &str, key: &EcdsaSigner, artifact: &str) -> u64 {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, artifact.as_bytes());
    let sig = key.sign_digest(digest.as_ref()).unwrap();
    let req = json!({"hashedRekordRequestV002": {
        "digest": B64.encode(digest.as_ref()),
        "signature": {"content": B64.encode(&sig), "verifier": {
            "publicKey": {"rawBytes": B64.encode(key.public_key().spki_der())},
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        }},
    }});
    let r = reqwest::blocking::Client::new()
        .post(format!("{url}/rekor-v2/api/v2/log/entries"))
        .json(&req)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().unwrap_or_default());
    let tle: Value = r.json().unwrap();
    tle["logIndex"].as_str().unwrap().parse().unwrap()
}

/// The trusted root of a `serve --only log` data directory lists both logs.
fn check_two_logs(trusted_root: &Path, url: &str) {
    let root: Value =
        signet_proto::json::from_slice(&std::fs::read(trusted_root).unwrap()).unwrap();
    let urls: Vec<&str> = root["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["baseUrl"].as_str().unwrap())
        .collect();
    assert_eq!(urls, vec![url.to_owned(), format!("{url}/rekor-v2")]);
}

#[test]
fn follows_the_v1_and_v2_logs_and_a_forked_v2_checkpoint_is_a_fork() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let port = free_port();
    let data_a = t.join("a");
    let watched = new_key();
    let other = new_key();
    let policy = watch_key_policy(t, &watched, None);
    let policy_arg = policy.to_str().unwrap();
    let tr = data_a.join("trusted_root.json");
    let state = t.join("m.json");
    let url;
    {
        let a = serve_log(&data_a, port);
        url = a.url.clone();
        check_two_logs(&tr, &url);
        // The first run trusts both logs' current checkpoints.
        add_v1(&url, &other, "before");
        let out = monitor_all(&tr, &state, &["--policy", policy_arg]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        // Entries in both logs, the watched key in each.
        add_v1(&url, &other, "v1 other");
        let (i1, _) = add_v1(&url, &watched, "v1 watched");
        add_v2(&url, &other, "v2 other");
        let i2 = add_v2(&url, &watched, "v2 watched");
        let out = monitor_all(&tr, &state, &["--policy", policy_arg]);
        assert_eq!(out.status.code(), Some(EXIT_RULES), "{}", text(&out));
        let a = alerts(&out);
        let hits: Vec<(&str, u64)> = a
            .iter()
            .filter(|a| a["alert"] == "watched_identity")
            .map(|a| (a["log"].as_str().unwrap(), a["log_index"].as_u64().unwrap()))
            .collect();
        let v2 = format!("{url}/rekor-v2");
        assert_eq!(
            hits,
            vec![(url.as_str(), i1), (v2.as_str(), i2)],
            "{}",
            text(&out)
        );
        let s: Value = signet_proto::json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
        assert_eq!(s["logs"][&url]["analysed"]["size"], 3, "{s}");
        assert_eq!(s["logs"][&v2]["analysed"]["size"], 2, "{s}");
    }
    // The fork's base: a copy of the store and keys, taken while the server is down.
    let data_b = t.join("b");
    copy_dir(&data_a, &data_b);
    {
        let a = serve_log(&data_a, port);
        add_v2(&a.url, &other, "only in a");
        let out = monitor_all(&tr, &state, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let saved = std::fs::read(&state).unwrap();
    // B: the same keys and port, another v2 entry at the same index: two v2 roots at one size.
    let b = serve_log(&data_b, port);
    add_v2(&b.url, &other, "only in b");
    let out = monitor_all(&tr, &state, &[]);
    assert_eq!(out.status.code(), Some(EXIT_INTEGRITY), "{}", text(&out));
    let a = alerts(&out);
    assert_eq!(a.len(), 1, "{}", text(&out));
    assert_eq!(a[0]["alert"], "fork", "{}", text(&out));
    assert_eq!(a[0]["log"], format!("{url}/rekor-v2"));
    assert_eq!(a[0]["details"]["new_size"], 3);
    assert_eq!(std::fs::read(&state).unwrap(), saved, "state advanced");
    // One more v2 entry in B: its tiles prove no consistency with A's v2 tree.
    add_v2(&b.url, &other, "b grows");
    let out = monitor_all(&tr, &state, &[]);
    assert_eq!(out.status.code(), Some(EXIT_INTEGRITY), "{}", text(&out));
    let a = alerts(&out);
    assert_eq!(a[0]["alert"], "inconsistent_proof", "{}", text(&out));
    assert_eq!(a[0]["log"], format!("{url}/rekor-v2"));
}

/// A copy of `trusted_root` whose v1 tlog's key window ended at `end` (a frozen shard).
fn freeze_v1(trusted_root: &Path, out: &Path, end: i64) {
    let mut root: Value =
        signet_proto::json::from_slice(&std::fs::read(trusted_root).unwrap()).unwrap();
    root["tlogs"][0]["publicKey"]["validFor"]["end"] = json!(rfc3339(end));
    std::fs::write(out, serde_json::to_vec_pretty(&root).unwrap()).unwrap();
}

#[test]
fn a_frozen_shard_is_verified_to_its_final_checkpoint_and_must_not_grow() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    let s = serve_log(&data, free_port());
    let k = new_key();
    for i in 0..3 {
        add_v1(&s.url, &k, &format!("before the freeze {i}"));
    }
    add_v2(&s.url, &k, "v2");
    let trust = t.join("trust");
    std::fs::create_dir_all(&trust).unwrap();
    let tr = trust.join("trusted_root.json");
    let end = unix_now() - 1;
    freeze_v1(&data.join("trusted_root.json"), &tr, end);
    let state = t.join("m.json");
    // The state exists before the monitor meets the logs: both are analysed from entry 0.
    std::fs::write(&state, br#"{"version":2,"logs":{}}"#).unwrap();
    let out = monitor_all(&tr, &state, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("is frozen") && text(&out).contains("final checkpoint size 3"),
        "{}",
        text(&out)
    );
    let st: Value = signet_proto::json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(st["logs"][&s.url]["analysed"]["size"], 3, "{st}");
    assert_eq!(st["logs"][&s.url]["final_size"], 3, "{st}");
    // It stops growing: no alarm, pass after pass; the live v2 log goes on.
    for i in 0..2 {
        add_v2(&s.url, &k, &format!("v2 {i}"));
        let out = monitor_all(&tr, &state, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(alerts(&out).is_empty(), "{}", text(&out));
    }
    // It grows after its end: an integrity alert naming it.
    add_v1(&s.url, &k, "after the freeze");
    let out = monitor_all(&tr, &state, &[]);
    assert_eq!(out.status.code(), Some(EXIT_INTEGRITY), "{}", text(&out));
    let a = alerts(&out);
    assert_eq!(a[0]["alert"], "frozen_log_grew", "{}", text(&out));
    assert_eq!(a[0]["log"], s.url.as_str());
    assert_eq!(a[0]["details"]["final_size"], 3);
    assert_eq!(a[0]["details"]["size"], 4);
}

fn keys(args: &[&str], data: &Path) -> String {
    let out = run(signet().arg("keys").args(args).arg("--data-dir").arg(data));
    assert!(out.status.success(), "signet keys {args:?}: {}", text(&out));
    text(&out)
}

fn revoked_alerts(out: &Output) -> Vec<Value> {
    alerts(out)
        .into_iter()
        .filter(|a| a["alert"] == "revoked_signer")
        .collect()
}

#[test]
fn a_revoked_trusted_key_signing_after_its_revocation_is_an_alert() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    let s = serve_log(&data, free_port());
    let url = s.url.clone();
    let v2 = format!("{url}/rekor-v2");
    let k = new_key();
    let public = t.join("release.pub");
    std::fs::write(&public, k.public_key().to_pem()).unwrap();
    keys(
        &[
            "add",
            "--name",
            "release",
            "--start",
            &rfc3339(unix_now() - 3600),
            "--key",
            public.to_str().unwrap(),
        ],
        &data,
    );
    let tr = data.join("trusted_root.json");
    let state = t.join("m.json");
    let out = monitor_all(&tr, &state, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Before any revocation: nothing to report.
    add_v2(&url, &k, "d");
    let out = monitor_all(&tr, &state, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A (v1, integration time known) and E (v2) before the revocation, which takes effect
    // from the next second; the monitor has not seen them yet.
    let (ia, ta) = add_v1(&url, &k, "a");
    let ie = add_v2(&url, &k, "e");
    let revoked_at = unix_now().max(ta) + 1;
    wait_until(revoked_at);
    keys(
        &[
            "revoke",
            "--name",
            "release",
            "--reason",
            "keyCompromise",
            "--time",
            &rfc3339(revoked_at),
        ],
        &data,
    );
    let out = monitor_all(&tr, &state, &[]);
    assert_eq!(out.status.code(), Some(EXIT_RULES), "{}", text(&out));
    let r = revoked_alerts(&out);
    // A is exactly before the revocation: no alert. E lies between two checkpoints around
    // it: a warning that says the order is unknown.
    assert_eq!(r.len(), 1, "{}", text(&out));
    assert_eq!(
        (&r[0]["log"], &r[0]["log_index"], &r[0]["severity"]),
        (&json!(v2), &json!(ie), &json!("warning")),
        "{}",
        text(&out)
    );
    assert_eq!(r[0]["details"]["certain"], false);
    assert!(
        !alerts(&out)
            .iter()
            .any(|a| a["log_index"] == ia && a["log"] == url),
        "{}",
        text(&out)
    );
    // After the revocation (and after a checkpoint seen after it): B (v1) and C (v2) are
    // certain, critical alerts.
    let (ib, tb) = add_v1(&url, &k, "b");
    assert!(tb >= revoked_at);
    let ic = add_v2(&url, &k, "c");
    let out = monitor_all(&tr, &state, &[]);
    assert_eq!(out.status.code(), Some(EXIT_RULES), "{}", text(&out));
    let r = revoked_alerts(&out);
    let got: Vec<(&Value, &Value, &Value, &Value)> = r
        .iter()
        .map(|a| {
            (
                &a["log"],
                &a["log_index"],
                &a["severity"],
                &a["details"]["certain"],
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (&json!(url), &json!(ib), &json!("critical"), &json!(true)),
            (&json!(v2), &json!(ic), &json!("critical"), &json!(true)),
        ],
        "{}",
        text(&out)
    );
    assert_eq!(r[0]["details"]["integrated_time"], tb);
    assert!(
        r[0]["message"]
            .as_str()
            .unwrap()
            .contains("the trusted key \"release\""),
        "{}",
        r[0]
    );
}

/// The monitor, polling, picks up a revocation written after it started (the trust refresh
/// re-reads `trusted_keys.json` beside the trusted root) and reports the next signature.
#[test]
fn a_running_monitor_refreshes_its_trust() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    let s = serve_log(&data, free_port());
    let k = new_key();
    let public = t.join("k.pub");
    std::fs::write(&public, k.public_key().to_pem()).unwrap();
    keys(
        &[
            "add",
            "--name",
            "k",
            "--start",
            &rfc3339(unix_now() - 3600),
            "--key",
            public.to_str().unwrap(),
        ],
        &data,
    );
    let state = t.join("m.json");
    let mut child = signet()
        .args(["monitor", "--interval", "300ms", "--trust-refresh", "1"])
        .arg("--trusted-root")
        .arg(data.join("trusted_root.json"))
        .arg("--state")
        .arg(&state)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = child.stderr.take().unwrap();
    let (etx, erx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if etx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_err = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Ok(l) = erx.recv_timeout(Duration::from_millis(200)) {
                if l.contains(want) {
                    return;
                }
                seen.push(l);
            }
        }
        panic!("no {want:?} on the monitor's stderr: {seen:#?}");
    };
    wait_err("pass ok");
    let revoked_at = unix_now() + 1;
    wait_until(revoked_at);
    keys(
        &["revoke", "--name", "k", "--time", &rfc3339(revoked_at)],
        &data,
    );
    wait_err("trust refreshed");
    let (i, _) = add_v1(&s.url, &k, "after");
    let deadline = Instant::now() + Duration::from_secs(30);
    let alert = loop {
        assert!(Instant::now() < deadline, "no revoked_signer alert");
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            let v: Value = serde_json::from_str(&l).unwrap();
            if v["alert"] == "revoked_signer" {
                break v;
            }
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(alert["log_index"], i);
    assert_eq!(alert["log"], s.url.as_str());
    assert_eq!(alert["severity"], "critical");
}
