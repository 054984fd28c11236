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
    let keys = signet_log::LogKeys::load_or_generate(&LogConfig {
        data_dir: dir.path().to_path_buf(),
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
    let seen = std::mem::take(&mut *seen.lock().unwrap());
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
    child.kill().unwrap();
    child.wait().unwrap();
    fsck_process(dir.path());
}
