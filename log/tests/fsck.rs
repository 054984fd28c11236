//! fsck passes on a healthy store and fails on any flipped byte.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use signet_log::entries::ValidEntry;
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
    let entries: Vec<ValidEntry> = (0..70_000u32)
        .map(|i| ValidEntry::new(format!("{{\"n\":{i}}}").into_bytes(), vec![]))
        .collect();
    signet_log::sequencer::bulk_append(&t.log, &entries, 8192).unwrap();
    let signer = new_signer();
    for i in 0..5u32 {
        let (s, _, _) = call(
            &t.router,
            "POST",
            "/api/v1/log/entries",
            Some(hashedrekord(&signer, &i.to_be_bytes())),
        )
        .await;
        assert_eq!(s.as_u16(), 201);
    }
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
