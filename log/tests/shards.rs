//! Log shards (`signet_log::shards`) on a RocksDB store: a rotation interrupted after it was
//! recorded is finished by the next start; a second rotation while one is pending is refused;
//! the frozen shard answers with its own key and final checkpoint, the new tree with global
//! indexes (`logIndex` and the SET global, `inclusionProof.logIndex` within the shard); the
//! frozen shard refuses writes.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{call, plain_entries, test_config, HOST};
use signet_log::shards::{self, ShardError};
use signet_log::{LogConfig, LogError};
use signet_proto::merkle::{leaf_hash, verify_inclusion, Hash};
use signet_proto::rekor::LogEntryAnon;

fn config(dir: &std::path::Path) -> LogConfig {
    LogConfig {
        data_dir: dir.to_owned(),
        public_host: Some(HOST.into()),
        ..test_config()
    }
}

/// Checks `e`'s proof (at `local` within a tree of `size`) and its SET by `key`.
fn check(
    e: &LogEntryAnon,
    global: u64,
    local: u64,
    size: u64,
    key: &signet_proto::keys::PublicKey,
) {
    assert_eq!(u64::try_from(e.log_index).unwrap(), global);
    assert_eq!(e.log_id.as_slice(), key.key_id());
    let v = e.verification.as_ref().unwrap();
    let p = v.inclusion_proof.as_ref().unwrap();
    assert_eq!(u64::try_from(p.log_index).unwrap(), local);
    assert_eq!(u64::try_from(p.tree_size).unwrap(), size);
    let hashes: Vec<Hash> = p
        .hashes
        .iter()
        .map(|h| h.as_slice().try_into().unwrap())
        .collect();
    let root: Hash = p.root_hash.as_slice().try_into().unwrap();
    verify_inclusion(&leaf_hash(e.body.as_slice()), local, size, &hashes, &root).unwrap();
    let payload = e.set_payload().canonical_bytes().unwrap();
    key.verify(
        &payload,
        v.signed_entry_timestamp.as_ref().unwrap().as_slice(),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_rotation_is_finished_and_indexes_are_global() {
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("log");
    let clock: Arc<dyn signet_log::Clock> = Arc::new(signet_log::SystemClock);

    // An empty log is not frozen.
    let log = signet_log::open_log(&config(&log_dir), HOST, Arc::clone(&clock)).unwrap();
    drop(log);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(matches!(
        shards::rotate(&log_dir, 100, 200, true),
        Err(ShardError::Empty { .. })
    ));
    assert!(!log_dir.join(shards::SHARDS_FILE).exists());

    let log = signet_log::open_log(&config(&log_dir), HOST, Arc::clone(&clock)).unwrap();
    assert_eq!(log.bulk_append(&plain_entries(5, "old"), 256).unwrap(), 5);
    let old_key = log.identity().public_key().clone();
    let old_tree = log.identity().tree_id;
    // While the store is open, the rotation is refused (by another process: `Locked`, which
    // `cli/tests/log_rotation.rs` checks; in this one RocksDB says so in other words).
    assert!(matches!(
        shards::rotate(&log_dir, 100, 200, true),
        Err(ShardError::Store(_))
    ));
    assert!(!log_dir.join(shards::SHARDS_FILE).exists());
    drop(log);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let r = shards::rotate(&log_dir, 100, 200, true).unwrap();
    assert_eq!(r.frozen.size, 5);
    assert_eq!(r.frozen.end, 200);
    assert_eq!(r.frozen.key_start, 100);
    assert!(r.history.pending);
    assert!(matches!(
        shards::rotate(&log_dir, 100, 300, false),
        Err(ShardError::Pending { size: 5, .. })
    ));
    // Undo the moves, as a crash right after the record was written would have left them.
    let shard_dir = log_dir.join(&r.frozen.dir);
    std::fs::rename(shard_dir.join("db"), log_dir.join("db")).unwrap();
    std::fs::rename(
        log_dir.join("log_key.pem"),
        log_dir.join("log_key.pem.next"),
    )
    .unwrap();
    std::fs::copy(shard_dir.join("log_key.pem"), log_dir.join("log_key.pem")).unwrap();

    let history = shards::prepare(&log_dir, 100).unwrap();
    assert!(!history.pending);
    assert!(shard_dir.join("db").is_dir());
    assert!(!log_dir.join("log_key.pem.next").exists());
    assert_ne!(
        std::fs::read(log_dir.join("log_key.pem")).unwrap(),
        std::fs::read(shard_dir.join("log_key.pem")).unwrap(),
        "--new-key: the new tree has its own key"
    );

    let log = signet_log::open_log(&config(&log_dir), HOST, Arc::clone(&clock)).unwrap();
    assert_ne!(log.identity().tree_id, old_tree);
    let new_key = log.identity().public_key().clone();
    assert_ne!(new_key.key_id(), old_key.key_id());
    let frozen = shards::open_frozen(&log_dir, &history, HOST, Arc::clone(&clock)).unwrap();
    let frozen_log = Arc::clone(&frozen[0].log);
    log.attach_shards(frozen).unwrap();
    assert_eq!(log.bulk_append(&plain_entries(3, "new"), 256).unwrap(), 3);

    for global in 0..8u64 {
        let (uuid, e) = log.entry_by_index(global).unwrap();
        if global < 5 {
            check(&e, global, global, 5, &old_key);
        } else {
            check(&e, global, global - 5, 3, &new_key);
        }
        let (_, by_uuid) = log.entry_by_uuid(&uuid).unwrap();
        assert_eq!(by_uuid.log_index, e.log_index);
    }
    assert!(matches!(
        log.entry_by_index(8),
        Err(LogError::IndexNotInTree { index: 8, size: 8 })
    ));
    let info = log.log_info().unwrap();
    assert_eq!(info.inactive_shards.len(), 1);
    assert_eq!(info.inactive_shards[0].tree_id, old_tree.to_string());
    assert_eq!(info.inactive_shards[0].tree_size, 5);
    // The frozen shard takes no entry.
    let entry = plain_entries(1, "late").pop().unwrap();
    assert!(matches!(
        frozen_log.submit(entry).await,
        Err(LogError::Frozen { .. })
    ));
    assert_eq!(frozen_log.head().unwrap().size, 5);

    // `publicKey?treeID=` names a shard as the proof endpoint does: the frozen shard's key,
    // the active log's for its own id or none, 404 for an unknown one.
    let router = signet_log::http::router(Arc::clone(&log));
    for (tree, want) in [
        (Some(old_tree.to_string()), Some(old_key.to_pem())),
        (
            Some(log.identity().tree_id.to_string()),
            Some(new_key.to_pem()),
        ),
        (None, Some(new_key.to_pem())),
        (Some("1".to_owned()), None),
        (Some("abc".to_owned()), None),
    ] {
        let path = match &tree {
            Some(t) => format!("/api/v1/log/publicKey?treeID={t}"),
            None => "/api/v1/log/publicKey".to_owned(),
        };
        let (s, _, b) = call(&router, "GET", &path, None).await;
        match want {
            Some(pem) => {
                assert_eq!(s, 200, "{path}");
                assert_eq!(String::from_utf8(b).unwrap(), pem, "{path}");
            }
            None => {
                assert_eq!(s, 404, "{path}");
                assert!(
                    String::from_utf8_lossy(&b).contains("no shard with treeID"),
                    "{path}"
                );
            }
        }
    }
}
