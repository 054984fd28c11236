//! Log shard rotation end to end (issue 19), judged by Sigstore's own client: sigstore-python
//! 4.5.1, bootstrapped only from Signet's TUF `1.root.json` (`sigstore --instance URL/tuf
//! trust-instance`), signs and verifies against `signet serve` before and after `signet log
//! rotate --new-key`; the bundle signed before still verifies, with sigstore-python and with
//! `signet verify-blob` on its TUF-verified default root; the new one lands in the new shard
//! with a global log index. Rekor v1 reads reach the frozen shard by global index, UUID and
//! entry ID, with proofs against its final checkpoint; `GET /api/v1/log` lists it under
//! `inactiveShards`; `signet audit` resumes across the boundary without an alarm. Bad input
//! (a running server, a pending rotation, an unknown data directory, an empty log) is refused
//! with a clear message and changes nothing.
//!
//! Tests fail when a tool is missing (sigstore, openssl, node).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use base64::Engine as _;
use serde_json::Value;
use support::tuf_serve::{
    get, python_sign, python_verify, signet_verify, sigstore, TufServe as Serve,
};
use support::{require_tools, run, signet, text, Oidc};

const EMAIL: &str = "shards@example.com";

/// A bundle's tlog entry.
fn tlog_entry(bundle: &Path) -> Value {
    let b: Value = signet_proto::json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
    b["verificationMaterial"]["tlogEntries"][0].clone()
}

fn int(v: &Value) -> u64 {
    v.as_str()
        .map_or_else(|| v.as_u64().unwrap(), |s| s.parse().unwrap())
}

/// The entry UUID (hex RFC 6962 leaf hash) of a bundle's logged body.
fn uuid_of(entry: &Value) -> String {
    let body = base64::engine::general_purpose::STANDARD
        .decode(entry["canonicalizedBody"].as_str().unwrap())
        .unwrap();
    let mut leaf = vec![0u8];
    leaf.extend_from_slice(&body);
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &leaf))
}

/// The one `{uuid: entry}` of a Rekor answer.
fn only_entry(v: &Value) -> (String, Value) {
    let map = v.as_object().unwrap();
    assert_eq!(map.len(), 1, "{v}");
    let (k, e) = map.iter().next().unwrap();
    (k.clone(), e.clone())
}

fn audit(s: &Serve, state: &Path) -> (bool, String) {
    let out = run(signet()
        .args(["audit", "--log", &s.url, "--trusted-root"])
        .arg(s.data().join("trusted_root.json"))
        .arg("--state")
        .arg(state));
    (out.status.success(), text(&out))
}

/// One `signet monitor --once` pass over every log in the server's trusted root.
fn monitor(s: &Serve, state: &Path) -> (bool, String) {
    let out = run(signet()
        .args(["monitor", "--once", "--trusted-root"])
        .arg(s.data().join("trusted_root.json"))
        .arg("--state")
        .arg(state));
    (out.status.success(), text(&out))
}

fn rotate(data: &Path, extra: &[&str]) -> std::process::Output {
    run(signet()
        .args(["log", "rotate", "--data-dir"])
        .arg(data)
        .args(extra))
}

#[test]
fn sigstore_python_signs_and_verifies_across_a_log_shard_rotation() {
    require_tools(&["sigstore", "openssl", "node"]);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let work = tempfile::tempdir().unwrap();
    let mut s = Serve::new(work.path(), &oidc.url);
    let py = work.path().join("py");
    let home = work.path().join("signet-home");
    let file = work.path().join("artifact.txt");
    std::fs::write(&file, b"signed across a log shard rotation\n").unwrap();
    let root1 = s.data().join("tuf/1.root.json");

    // An empty log has nothing to freeze (the server must be stopped first, see below).
    s.stop();
    let out = rotate(&s.data(), &[]);
    assert!(!out.status.success(), "rotated an empty log");
    assert!(text(&out).contains("is empty"), "{}", text(&out));
    assert!(!s.data().join("log/shards.json").exists());
    s.start();

    // Bootstrapped from root.json alone.
    let out = run(sigstore(&py)
        .args(["--instance", &s.tuf_url(), "trust-instance"])
        .arg(&root1));
    assert!(out.status.success(), "trust-instance: {}", text(&out));
    let out = run(signet()
        .env("SIGNET_HOME", &home)
        .args(["trust", "init", "--mirror", &s.tuf_url(), "--root"])
        .arg(&root1));
    assert!(out.status.success(), "signet trust init: {}", text(&out));
    let before = python_sign(&s, &oidc, &py, &file, "before", EMAIL);
    let (ok, said) = python_verify(&s, &oidc, &py, &file, &before, EMAIL);
    assert!(ok, "sigstore verify: {said}");
    let (ok, said) = signet_verify(&home, &oidc, &file, &before, EMAIL);
    assert!(ok, "signet verify-blob: {said}");
    let old = tlog_entry(&before);
    let old_index = int(&old["logIndex"]);
    assert_eq!(old_index, int(&old["inclusionProof"]["logIndex"]));
    let old_uuid = uuid_of(&old);
    let info: Value = s.json("/api/v1/log");
    let frozen_size = int(&info["treeSize"]);
    let frozen_tree = info["treeID"].as_str().unwrap().to_owned();
    let frozen_checkpoint = info["signedTreeHead"].as_str().unwrap().to_owned();
    assert!(info.get("inactiveShards").is_none(), "{info}");
    let state = work.path().join("audit.json");
    let (ok, said) = audit(&s, &state);
    assert!(ok, "audit before the rotation: {said}");
    let monitor_state = work.path().join("monitor.json");
    let (ok, said) = monitor(&s, &monitor_state);
    assert!(ok, "monitor before the rotation: {said}");
    let tuf_version_before = s.json("/tuf/timestamp.json")["signed"]["version"].clone();

    // Bad input: a running server, an unknown data directory.
    let out = rotate(&s.data(), &[]);
    assert!(!out.status.success(), "rotated under a running server");
    assert!(text(&out).contains("stop it first"), "{}", text(&out));
    let out = rotate(&work.path().join("no-such-dir"), &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no-such-dir") && text(&out).contains("does not exist"),
        "{}",
        text(&out)
    );
    assert!(!s.data().join("log/shards.json").exists());

    // The rotation, with new keys; a second one before a start is refused.
    s.stop();
    let out = rotate(&s.data(), &["--new-key"]);
    assert!(out.status.success(), "log rotate: {}", text(&out));
    assert!(
        text(&out).contains(&format!("froze tree {frozen_tree}")),
        "{}",
        text(&out)
    );
    let out = rotate(&s.data(), &[]);
    assert!(!out.status.success(), "rotated twice while pending");
    assert!(text(&out).contains("already pending"), "{}", text(&out));
    s.start();

    // Both shards in the trusted root: the frozen key's window ends, the new one's is open.
    let root: Value = s.json("/signet/v1/trusted_root.json");
    let tlogs = root["tlogs"].as_array().unwrap();
    let frozen_base = format!("{}/shards/{frozen_tree}", s.url);
    let frozen_tlog = tlogs
        .iter()
        .find(|t| t["baseUrl"] == frozen_base.as_str())
        .unwrap_or_else(|| panic!("no tlog at {frozen_base}: {root}"));
    let active_tlog = tlogs
        .iter()
        .find(|t| t["baseUrl"] == s.url.as_str())
        .unwrap();
    let end = frozen_tlog["publicKey"]["validFor"]["end"]
        .as_str()
        .unwrap();
    let start = active_tlog["publicKey"]["validFor"]["start"]
        .as_str()
        .unwrap();
    assert!(active_tlog["publicKey"]["validFor"].get("end").is_none());
    assert_eq!(start, end, "the new key starts when the old one ends");
    assert_ne!(frozen_tlog["logId"], active_tlog["logId"], "--new-key");
    let old_log_id = base64::engine::general_purpose::STANDARD
        .decode(frozen_tlog["logId"]["keyId"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(old["logId"]["keyId"].as_str().unwrap())
            .unwrap(),
        old_log_id
    );
    assert!(
        s.json("/tuf/timestamp.json")["signed"]["version"].as_u64() > tuf_version_before.as_u64(),
        "the TUF metadata was not re-signed after the rotation"
    );

    // Rekor v1: the frozen shard listed, the new tree with another id and origin.
    let info: Value = s.json("/api/v1/log");
    assert_ne!(info["treeID"].as_str().unwrap(), frozen_tree);
    let inactive = info["inactiveShards"].as_array().unwrap();
    assert_eq!(inactive.len(), 1, "{info}");
    assert_eq!(inactive[0]["treeID"], frozen_tree.as_str());
    assert_eq!(int(&inactive[0]["treeSize"]), frozen_size);
    assert_eq!(inactive[0]["signedTreeHead"], frozen_checkpoint.as_str());
    let new_origin = info["signedTreeHead"]
        .as_str()
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert_ne!(new_origin, frozen_checkpoint.lines().next().unwrap());
    assert_eq!(
        get(&format!("{frozen_base}/checkpoint")).unwrap(),
        frozen_checkpoint.as_bytes()
    );

    // Signing after: sigstore-python (its TUF client refreshes) writes to the new shard.
    let after = python_sign(&s, &oidc, &py, &file, "after", EMAIL);
    let new = tlog_entry(&after);
    assert!(
        int(&new["logIndex"]) >= frozen_size,
        "global index: {new} (frozen size {frozen_size})"
    );
    assert_eq!(
        int(&new["logIndex"]) - frozen_size,
        int(&new["inclusionProof"]["logIndex"]),
        "inclusionProof.logIndex is the index within the shard"
    );
    assert_eq!(
        new["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap()
            .lines()
            .next()
            .unwrap(),
        new_origin
    );
    assert_eq!(new["logId"], active_tlog["logId"]);
    for b in [&before, &after] {
        let (ok, said) = python_verify(&s, &oidc, &py, &file, b, EMAIL);
        assert!(ok, "sigstore verify: {said}");
        let (ok, said) = signet_verify(&home, &oidc, &file, b, EMAIL);
        assert!(ok, "signet verify-blob: {said}");
    }

    // The frozen entry by global index, UUID and entry ID: its proof against the frozen
    // checkpoint, signed by the frozen key.
    let by_index: Value = s.json(&format!("/api/v1/log/entries?logIndex={old_index}"));
    let by_uuid: Value = s.json(&format!("/api/v1/log/entries/{old_uuid}"));
    let tree_hex = format!("{:016x}", frozen_tree.parse::<u64>().unwrap());
    let by_id: Value = s.json(&format!("/api/v1/log/entries/{tree_hex}{old_uuid}"));
    for v in [&by_index, &by_uuid, &by_id] {
        let (uuid, e) = only_entry(v);
        assert_eq!(uuid, old_uuid);
        assert_eq!(e["body"], old["canonicalizedBody"]);
        assert_eq!(int(&e["logIndex"]), old_index);
        assert_eq!(
            hex::decode(e["logID"].as_str().unwrap()).unwrap(),
            old_log_id
        );
        let proof = &e["verification"]["inclusionProof"];
        assert_eq!(int(&proof["treeSize"]), frozen_size);
        assert_eq!(proof["checkpoint"], frozen_checkpoint.as_str());
    }
    let new_uuid = uuid_of(&new);
    let (uuid, e) = only_entry(&s.json(&format!(
        "/api/v1/log/entries?logIndex={}",
        int(&new["logIndex"])
    )));
    assert_eq!(uuid, new_uuid);
    assert_eq!(e["body"], new["canonicalizedBody"]);
    let retrieved: Value = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/log/entries/retrieve", s.url))
        .json(&serde_json::json!({"logIndexes": [old_index, int(&new["logIndex"])]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let got: Vec<String> = retrieved
        .as_array()
        .unwrap()
        .iter()
        .map(|m| only_entry(m).0)
        .collect();
    assert_eq!(got, [old_uuid.clone(), new_uuid]);
    let beyond = reqwest::blocking::get(format!(
        "{}/api/v1/log/entries?logIndex={}",
        s.url,
        frozen_size + 1000
    ))
    .unwrap();
    assert_eq!(beyond.status(), 404);

    // Audit: the saved progress (of the tree now frozen) carries over without an alarm, then
    // a fresh audit checks both shards.
    let (ok, said) = audit(&s, &state);
    assert!(ok, "audit across the rotation: {said}");
    assert!(
        said.contains(&format!("frozen shard {frozen_tree}")),
        "{said}"
    );
    assert!(said.contains("frozen shards"), "{said}");
    let (ok, said) = audit(&s, &work.path().join("fresh-audit.json"));
    assert!(ok, "fresh audit after the rotation: {said}");

    // The monitor: the tree it followed at the log's URL is now the frozen shard (its state
    // moves there, no origin_changed alarm) and the new tree is followed from its first entry.
    let (ok, said) = monitor(&s, &monitor_state);
    assert!(ok, "monitor across the rotation: {said}");
    assert!(
        said.contains(&format!(
            "is the frozen shard {}/shards/{frozen_tree}",
            s.url
        )),
        "{said}"
    );
    let saved: Value =
        signet_proto::json::from_slice(&std::fs::read(&monitor_state).unwrap()).unwrap();
    let logs = saved["logs"].as_object().unwrap();
    // The active tree, the frozen shard and the Rekor v2 log.
    assert_eq!(logs.len(), 3, "{saved}");
    let shard_state = &logs[&format!("{}/shards/{frozen_tree}", s.url)];
    assert!(
        shard_state["checkpoint"]
            .as_str()
            .unwrap()
            .contains(&format!("\n{frozen_size}\n")),
        "{shard_state}"
    );
    // A second pass is quiet, and a fresh monitor follows both logs.
    let (ok, said) = monitor(&s, &monitor_state);
    assert!(ok, "second monitor pass: {said}");
    let (ok, said) = monitor(&s, &work.path().join("fresh-monitor.json"));
    assert!(ok, "fresh monitor after the rotation: {said}");
}
