//! fsck passes on a healthy store and fails on any flipped byte.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use signet_log::storage::{keys, Batch, LogStore};

fn flip(store: &dyn LogStore, key: &[u8], at: usize) {
    let mut v = store.get(key).unwrap().unwrap();
    v[at] ^= 0x01;
    let mut b = Batch::default();
    b.put(key.to_vec(), v);
    store.write(&b, true).unwrap();
}

#[tokio::test]
async fn fsck_passes_then_fails_on_flipped_bytes() {
    let t = mem_log(&test_config(), vec![]);
    // 70,000 leaves through the bulk path (three tile levels), then a few through the API.
    let entries = plain_entries(70_000, "n");
    t.log.bulk_append(&entries, 8192).unwrap();
    log_numbered(&t.router, &new_signer(), 0..5).await;
    let pk = t.keys.log.public_key().clone();
    let wk = t.keys.witness.public_key_raw();
    let report = signet_log::fsck::fsck(t.log.db(), &pk, Some(&wk)).unwrap();
    assert_eq!(report.size, 70_005);
    assert!(report.tiles > 274);

    let store = t.log.db().raw().clone();
    let cases: Vec<(&str, Vec<u8>, usize)> = vec![
        ("level-0 tile", keys::tile(0, 3), 100),
        ("partial level-0 tile", keys::tile(0, 273), 5),
        ("level-1 tile", keys::tile(1, 0), 31),
        ("level-2 tile", keys::tile(2, 0), 0),
        ("entry body", keys::entry(12_345), 12),
        ("entry bundle", keys::bundle(7), 40),
        ("checkpoint", keys::checkpoint(70_005), 30),
    ];
    for (name, key, at) in cases {
        flip(store.as_ref(), &key, at);
        let err = signet_log::fsck::fsck(t.log.db(), &pk, Some(&wk));
        assert!(err.is_err(), "{name}: fsck passed on a flipped byte");
        eprintln!("{name}: {}", err.unwrap_err());
        flip(store.as_ref(), &key, at);
        signet_log::fsck::fsck(t.log.db(), &pk, Some(&wk)).unwrap();
    }
    // A wrong key is refused too.
    let other = new_signer();
    assert!(signet_log::fsck::fsck(t.log.db(), other.public_key(), None).is_err());
}

/// Entry bundles are written once, when full, whatever the batch boundaries: chunks that start
/// mid-bundle, span several bundles, or end exactly on a bundle boundary; a stale partial
/// bundle record (as older versions stored) is never served.
#[tokio::test]
async fn entry_bundles_for_any_batch_boundaries() {
    let t = mem_log(&test_config(), vec![]);
    let all = plain_entries(1_000, "b");
    // 100 (mid-bundle end), 412 (ends exactly at 512), then 488 in chunks of 257.
    t.log.bulk_append(&all[..100], 100).unwrap();
    // A stale partial record for bundle 0, as an older version would have left it.
    let store = t.log.db().raw().clone();
    let mut b = Batch::default();
    b.put(keys::bundle(0), b"stale".to_vec());
    store.write(&b, true).unwrap();
    let partial = t.log.db().entry_bundle(0, 100).unwrap().unwrap();
    let want: Vec<&[u8]> = all[..100].iter().map(|e| e.body.as_slice()).collect();
    assert_eq!(
        partial,
        signet_proto::tiles::encode_entry_bundle(&want).unwrap()
    );
    t.log.bulk_append(&all[100..512], 412).unwrap();
    t.log.bulk_append(&all[512..], 257).unwrap();
    assert_eq!(t.log.integrated_head().size, 1_000);
    for bundle in 0..4u64 {
        let start = usize::try_from(bundle * 256).unwrap();
        let width = (1_000 - start).min(256);
        let want: Vec<&[u8]> = all[start..start + width]
            .iter()
            .map(|e| e.body.as_slice())
            .collect();
        let got = t
            .log
            .db()
            .entry_bundle(bundle, u16::try_from(width).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            got,
            signet_proto::tiles::encode_entry_bundle(&want).unwrap(),
            "bundle {bundle}"
        );
        assert_eq!(
            t.log.db().bundle_raw(bundle).unwrap().is_some(),
            width == 256
        );
    }
    let pk = t.keys.log.public_key().clone();
    let report = signet_log::fsck::fsck(t.log.db(), &pk, None).unwrap();
    assert_eq!(report.size, 1_000);
}
