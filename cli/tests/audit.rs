//! `signet audit` of a real `signet serve` log of 100,000 hashedrekord entries (written with
//! the library's bulk path, then served): the audit passes; it stops and resumes (also against a
//! newer checkpoint); and after one stored byte of a level-0 tile and one of a level-1 tile are
//! flipped in RocksDB it fails, naming both tiles, the entry and the byte offsets.
//!
//! Timing on the 2-core machine: `signet audit` of 100,000 entries is printed by the test
//! (`cargo test -p signet-cli --test audit -- --nocapture`).
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use signet_log::entries::ValidEntry;
use signet_proto::keys::EcdsaSigner;
use support::tlog::{add_entry, flip, hashedrekord, new_key, serve_log, with_log};
use support::{free_port, run, signet, text};

const ENTRIES: usize = 100_000;

/// `n` canonical hashedrekord bodies, each a real ECDSA P-256 signature by one of 8 keys.
fn bodies(n: usize, tag: &str) -> Vec<Vec<u8>> {
    let keys: Vec<EcdsaSigner> = (0..8).map(|_| new_key()).collect();
    (0..n)
        .map(|i| hashedrekord(&keys[i % keys.len()], &format!("{tag} {i}")))
        .collect()
}

fn audit(url: &str, trusted_root: &Path, extra: &[&str]) -> Output {
    run(signet()
        .args(["audit", "--log", url, "--trusted-root"])
        .arg(trusted_root)
        .args(extra))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn add_over_http(url: &str, n: usize) {
    for b in bodies(n, &format!("http {}", std::process::id())) {
        add_entry(url, b);
    }
}

#[test]
fn audit_of_100k_entries_passes_resumes_and_fails_on_a_flipped_tile_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let port = free_port();
    let data = t.join("data");

    let t0 = Instant::now();
    let entries = bodies(ENTRIES, &format!("audit {}", std::process::id()));
    let size = with_log(&data, port, |log| {
        let valid: Vec<ValidEntry> = entries
            .into_iter()
            .map(|b| ValidEntry::new(b, vec![]))
            .collect();
        log.bulk_append(&valid, 16_384).unwrap()
    });
    assert_eq!(size, ENTRIES as u64);
    eprintln!(
        "built a {ENTRIES}-entry log in {:.1}s",
        t0.elapsed().as_secs_f64()
    );

    let server = serve_log(&data, port);
    let url = server.url.clone();
    let tr = data.join("trusted_root.json");

    let first_checkpoint = t.join("checkpoint-100k.txt");
    std::fs::write(
        &first_checkpoint,
        reqwest::blocking::get(format!("{url}/checkpoint"))
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();

    // A full audit passes.
    let t0 = Instant::now();
    let out = audit(&url, &tr, &[]);
    eprintln!(
        "signet audit of {ENTRIES} entries: {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        stdout(&out).contains(&format!("audit passed: {ENTRIES} entries")),
        "{}",
        text(&out)
    );

    // Interrupted after 100 bundles (25,600 entries), progress saved; the log grows; the
    // audit resumes against the newer checkpoint (proven consistent) and passes.
    let state = t.join("audit-state.json");
    let st = state.to_str().unwrap();
    let out = audit(&url, &tr, &["--state", st, "--max-bundles", "100"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let saved: Value = signet_proto::json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["done"]["size"], 25_600);
    // Ctrl-C (SIGINT) saves progress and exits 3; the next run finishes.
    let state2 = t.join("audit-sigint.json");
    let child = signet()
        .args(["audit", "--log", &url, "--trusted-root"])
        .arg(&tr)
        .arg("--state")
        .arg(&state2)
        .args(["--concurrency", "1", "--save-every", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the first progress was saved (4 bundles in), well before the end.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !state2.exists() {
        assert!(Instant::now() < deadline, "no progress saved");
        std::thread::sleep(Duration::from_millis(10));
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let saved: Value = signet_proto::json::from_slice(&std::fs::read(&state2).unwrap()).unwrap();
    let done = saved["done"]["size"].as_u64().unwrap();
    assert!(done > 0 && done < ENTRIES as u64, "{done}");
    let out = audit(&url, &tr, &["--state", state2.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("resuming at entry {done}")),
        "{}",
        text(&out)
    );

    add_over_http(&url, 3);
    let out = audit(&url, &tr, &["--state", st, "--save-every", "8"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("resuming at entry 25600"),
        "{}",
        text(&out)
    );
    assert!(
        stdout(&out).contains(&format!("audit passed: {} entries", ENTRIES + 3)),
        "{}",
        text(&out)
    );
    // The log has grown; an audit against the older checkpoint (--checkpoint) still passes.
    let out = audit(
        &url,
        &tr,
        &["--checkpoint", first_checkpoint.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        stdout(&out).contains(&format!("audit passed: {ENTRIES} entries")),
        "{}",
        text(&out)
    );
    drop(server);

    // One byte of level-0 tile 100 (entry 25,602's leaf hash) and one of level-1 tile 0.
    with_log(&data, port, |log| {
        flip(log, &signet_log::storage::keys::tile(0, 100), 77);
        flip(log, &signet_log::storage::keys::tile(1, 0), 40);
    });
    let server = serve_log(&data, port);
    let out = audit(&server.url, &tr, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = stdout(&out);
    let lines: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("MISMATCH"))
        .collect();
    assert_eq!(lines.len(), 2, "{report}");
    assert!(
        lines[0].contains("tile/0/100 bytes 64..96 (hash 2): entry 25602's leaf hash")
            && lines[0].contains("first differing byte at offset 77"),
        "{report}"
    );
    assert!(
        lines[1].contains("tile/1/000: differs from the recomputed tile at byte offset 40"),
        "{report}"
    );
    assert!(report.contains("audit FAILED: 2 mismatches"), "{report}");

    // A checkpoint signed by a key the trusted root does not hold fails the audit too.
    let mut root: Value = signet_proto::json::from_slice(&std::fs::read(&tr).unwrap()).unwrap();
    let other_data = t.join("other");
    let other = {
        let _o = serve_log(&other_data, free_port());
        let v: Value = signet_proto::json::from_slice(
            &std::fs::read(other_data.join("trusted_root.json")).unwrap(),
        )
        .unwrap();
        v
    };
    root["tlogs"][0]["publicKey"] = other["tlogs"][0]["publicKey"].clone();
    let bad = t.join("bad_root.json");
    std::fs::write(&bad, serde_json::to_vec(&root).unwrap()).unwrap();
    let out = audit(&server.url, &bad, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stdout(&out).contains("does not verify"), "{}", text(&out));
}
