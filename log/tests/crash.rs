//! SIGKILL under load: the log runs as a separate process (`signet-log serve`), concurrent
//! clients submit entries, the process is killed with SIGKILL mid-load, fsck runs on the
//! store, and the restarted log must hold every acknowledged entry (with a valid inclusion
//! proof), be consistent with every checkpoint handed out before the kill, and hold no entry
//! twice.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use signet_log::LogConfig;
use signet_proto::checkpoint::SignedCheckpoint;
use signet_proto::merkle::{verify_consistency, Hash};
use signet_proto::rekor::{ConsistencyProof, LogInfo};

const NAME: &str = "crash.test";

fn spawn(dir: &std::path::Path) -> (Child, String) {
    spawn_with(dir, &[])
}

/// `signet-log serve` over `dir` with `extra` arguments.
fn spawn_with(dir: &std::path::Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_signet-log"))
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--public-host",
            NAME,
            "--batch-delay-ms",
            "5",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    (child, format!("http://{addr}"))
}

#[derive(Default)]
struct Seen {
    acked: HashMap<String, u64>,
    checkpoints: Vec<String>,
}

async fn load(base: String, seen: Arc<Mutex<Seen>>, worker: u32, round: u32) {
    let client = reqwest::Client::new();
    let signer = new_signer();
    for i in 0u32.. {
        let artifact = format!("round {round} worker {worker} entry {i}");
        let r = client
            .post(format!("{base}/api/v1/log/entries"))
            .header("content-type", "application/json")
            .body(hashedrekord(&signer, artifact.as_bytes()))
            .send()
            .await;
        let Ok(r) = r else { return };
        if r.status().as_u16() != 201 {
            if r.status().as_u16() == 503 {
                continue;
            }
            return;
        }
        let Ok(b) = r.bytes().await else { return };
        let (uuid, e) = parse_entry(&b);
        let cp = e.verification.unwrap().inclusion_proof.unwrap().checkpoint;
        {
            let mut s = seen.lock().unwrap();
            s.acked.insert(uuid, u64::try_from(e.log_index).unwrap());
            s.checkpoints.push(cp);
        }
        if i % 16 == 0 {
            if let Ok(r) = client.get(format!("{base}/api/v1/log")).send().await {
                if let Ok(info) = r.json::<LogInfo>().await {
                    seen.lock().unwrap().checkpoints.push(info.signed_tree_head);
                }
            }
        }
    }
}

fn fsck_process(dir: &std::path::Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_signet-log"))
        .args(["fsck", "--data-dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fsck failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout).trim());
}

/// After a restart at `base` over `dir`: every acknowledged entry is there once, at its
/// index, with a valid proof against the current checkpoint, and every checkpoint handed out
/// before is consistent with it (never larger, one root per size). Returns the current size.
async fn check_restarted(base: &str, dir: &std::path::Path, seen: &Seen) -> u64 {
    let keys = signet_log::LogKeys::load_or_generate(&LogConfig {
        data_dir: dir.to_path_buf(),
        generate_keys: false,
        ..LogConfig::default()
    })
    .unwrap();
    let client = reqwest::Client::new();
    let info: LogInfo = client
        .get(format!("{base}/api/v1/log"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let size = u64::try_from(info.tree_size).unwrap();
    let new_root: Hash = info.root_hash.as_slice().try_into().unwrap();
    let mut indexes = std::collections::HashSet::new();
    for (uuid, index) in &seen.acked {
        let r = client
            .get(format!("{base}/api/v1/log/entries/{uuid}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            200,
            "acknowledged entry {uuid} missing"
        );
        let (u, e) = parse_entry(&r.bytes().await.unwrap());
        let (i, s, _) = check_entry(&keys, NAME, &u, &e);
        assert_eq!(i, *index);
        assert_eq!(s, size);
        assert!(indexes.insert(i), "two UUIDs at index {i}");
    }
    let verifiers = verifiers(&keys, NAME);
    let mut by_size: HashMap<u64, Hash> = HashMap::new();
    for cp in &seen.checkpoints {
        let c = SignedCheckpoint::open(cp.as_bytes(), &verifiers).unwrap();
        let (s, root) = (c.checkpoint().size, c.checkpoint().root);
        assert!(s <= size, "tree went backwards: {s} > {size}");
        if let Some(r) = by_size.insert(s, root) {
            assert_eq!(r, root, "two roots for size {s}");
        }
    }
    for (s, root) in &by_size {
        if *s == 0 {
            continue;
        }
        let p: ConsistencyProof = client
            .get(format!(
                "{base}/api/v1/log/proof?firstSize={s}&lastSize={size}"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let hashes: Vec<Hash> = p
            .hashes
            .iter()
            .map(|h| h.as_slice().try_into().unwrap())
            .collect();
        verify_consistency(*s, size, root, &new_root, &hashes).unwrap();
    }
    eprintln!(
        "checked {} acknowledged entries and {} distinct checkpoints against size {size}",
        seen.acked.len(),
        by_size.len()
    );
    size
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_load_loses_no_acknowledged_entry() {
    let dir = tempfile::tempdir().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    for round in 0..2u32 {
        let (mut child, base) = spawn(dir.path());
        let tasks: Vec<_> = (0..24)
            .map(|w| tokio::spawn(load(base.clone(), Arc::clone(&seen), w, round)))
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // std's Child::kill sends SIGKILL on Unix.
        child.kill().unwrap();
        child.wait().unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        let n = seen.lock().unwrap().acked.len();
        eprintln!("round {round}: {n} acknowledged entries so far");
        assert!(n > 100, "too little load before the kill: {n}");
        fsck_process(dir.path());
    }

    // Restart and check everything handed out before the kills.
    let (mut child, base) = spawn(dir.path());
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    check_restarted(&base, dir.path(), &seen).await;
    child.kill().unwrap();
    child.wait().unwrap();
    fsck_process(dir.path());
}

/// `size` of a checkpoint note.
fn size_of(cp: &str) -> u64 {
    cp.lines().nth(1).unwrap().parse().unwrap()
}

/// Issue 15 D: SIGKILL of a log with a witness, at several points: mid-load with the witness
/// answering, mid-load after the witness stopped answering (entries sequenced but never
/// cosigned), and right after the witness came back and cosigned. Every checkpoint ever
/// handed out (201 answers, `/api/v1/log`, `/checkpoint`, before and after each restart)
/// carries the witness's cosignature, the tree never goes backwards, and no acknowledged
/// entry is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_a_witness_never_serves_an_uncosigned_checkpoint() {
    use common::witness::{cosigners, policy, witness_for};
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let keys = signet_log::LogKeys::load_or_generate(&LogConfig {
        data_dir: dir.path().to_path_buf(),
        ..LogConfig::default()
    })
    .unwrap();
    let (w, url) = witness_for("w.test/crash", NAME, &keys.witness).await;
    let (_p, policy_path) = policy(&[(&w, &url)], 1);
    let args = [
        "--witness-policy",
        policy_path.to_str().unwrap(),
        "--witness-timeout-ms",
        "1000",
    ];
    let seen = Arc::new(Mutex::new(Seen::default()));
    let client = reqwest::Client::new();
    // Every checkpoint seen so far is cosigned; returns the largest size.
    let check_seen = |seen: &Seen| {
        for cp in &seen.checkpoints {
            assert_eq!(
                cosigners(cp, &[&w]),
                1,
                "uncosigned checkpoint handed out: {cp}"
            );
        }
        seen.checkpoints
            .iter()
            .map(|c| size_of(c))
            .max()
            .unwrap_or(0)
    };
    // What a restarted log serves first: cosigned, not below anything handed out before.
    let check_served = |base: String, floor: u64| {
        let client = client.clone();
        let w = Arc::clone(&w);
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
            loop {
                let r = client
                    .get(format!("{base}/checkpoint"))
                    .send()
                    .await
                    .unwrap();
                if r.status().as_u16() == 200 {
                    let cp = r.text().await.unwrap();
                    assert_eq!(cosigners(&cp, &[&w]), 1, "after restart: {cp}");
                    assert!(
                        size_of(&cp) >= floor,
                        "the tree went back below {floor}: {cp}"
                    );
                    return size_of(&cp);
                }
                assert_eq!(r.status().as_u16(), 503);
                assert!(tokio::time::Instant::now() < deadline, "nothing served");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };

    for round in 0..3u32 {
        let floor = check_seen(&seen.lock().unwrap());
        let (child, base) = spawn_with(dir.path(), &args);
        let mut child = KillOnDrop(child);
        let first = check_served(base.clone(), floor).await;
        eprintln!("round {round}: restarted at cosigned size {first}");
        if round == 2 {
            // Restarted with entries sequenced but never cosigned (the witness is down):
            // still the old cosigned head.
            assert!(first >= floor);
            w.up.store(true, Ordering::Relaxed);
        }
        let tasks: Vec<_> = (0..16)
            .map(|i| tokio::spawn(load(base.clone(), Arc::clone(&seen), i, round)))
            .collect();
        tokio::time::sleep(Duration::from_millis(700)).await;
        if round == 1 {
            w.up.store(false, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(800)).await;
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        let top = check_seen(&seen.lock().unwrap());
        eprintln!(
            "round {round}: {} acknowledged entries so far, largest checkpoint {top}",
            seen.lock().unwrap().acked.len()
        );
        fsck_process(dir.path());
    }
    assert!(
        seen.lock().unwrap().acked.len() > 20,
        "too little load before the kills"
    );

    // A final restart: everything handed out is there, consistent and cosigned (once the
    // stored head is cosigned, so that the size no longer moves while it is checked).
    let floor = check_seen(&seen.lock().unwrap());
    let (child, base) = spawn_with(dir.path(), &args);
    let mut child = KillOnDrop(child);
    let mut last = check_served(base.clone(), floor).await;
    let mut same = 0;
    while same < 5 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = check_served(base.clone(), last).await;
        same = if now == last { same + 1 } else { 0 };
        last = now;
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let size = check_restarted(&base, dir.path(), &seen).await;
    assert!(size >= floor);
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    fsck_process(dir.path());
}

/// A child process killed when dropped (so that a failing test leaves no server behind).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
