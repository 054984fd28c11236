//! The log's witness client: checkpoints are published only with a quorum of cosignatures, and
//! only once they are durable; restarts (on RocksDB) serve the published checkpoint, never the
//! newer uncosigned head.
//!
//! The witnesses are small axum servers around the pure witness logic of
//! `signet_proto::witness` (`common::witness`), so the HTTP protocol runs for real: 409 size
//! discovery, consistency proofs, cosignature/v1 lines.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::witness::{cosigners, policy, witness, TestWitness};
use common::{call, check_entry, error_message, hashedrekord, new_signer, parse_entry, HOST};
use signet_log::service::Log;
use signet_log::storage::{LogDb, MemStore};
use signet_proto::checkpoint::SignedCheckpoint;
use signet_proto::note::Verifiers;

fn start_log(
    store: &Arc<MemStore>,
    keys: &signet_log::LogKeys,
    policy: &std::path::Path,
) -> (Arc<Log>, axum::Router) {
    let cfg = signet_log::LogConfig {
        witness_policy: Some(policy.to_path_buf()),
        witness_timeout_ms: 1000,
        ..common::test_config()
    };
    let log = Log::start(
        LogDb::new(store.clone()),
        keys.clone(),
        HOST,
        vec![],
        &cfg,
        Arc::new(signet_log::SystemClock),
    )
    .unwrap();
    let router = signet_log::http::router(Arc::clone(&log));
    (log, router)
}

async fn checkpoint(router: &axum::Router) -> String {
    let (s, _, b) = call(router, "GET", "/checkpoint", None).await;
    assert_eq!(s, StatusCode::OK);
    String::from_utf8(b).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_three_witnesses_cosign_every_published_checkpoint() {
    let keys = signet_log::LogKeys::generate().unwrap();
    let (w1, u1) = witness("w.test/one", &keys.witness).await;
    let (w2, u2) = witness("w.test/two", &keys.witness).await;
    let (w3, u3) = witness("w.test/three", &keys.witness).await;
    w3.up.store(false, Ordering::Relaxed);
    let (_d, path) = policy(&[(&w1, &u1), (&w2, &u2), (&w3, &u3)], 2);
    let store = Arc::new(MemStore::new());
    let (_log, router) = start_log(&store, &keys, &path);
    let signer = new_signer();
    for i in 0..5 {
        let (s, _, b) = call(
            &router,
            "POST",
            "/api/v1/log/entries",
            Some(hashedrekord(&signer, format!("artifact {i}").as_bytes())),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
        let (uuid, e) = parse_entry(&b);
        let (_, size, root) = check_entry(&keys, HOST, &uuid, &e);
        // The checkpoint in the answer carries the two live witnesses' cosignatures.
        let cp = &e
            .verification
            .as_ref()
            .unwrap()
            .inclusion_proof
            .as_ref()
            .unwrap()
            .checkpoint;
        assert_eq!(cosigners(cp, &[&w1, &w2, &w3]), 2, "{cp}");
        assert_eq!(w1.state.lock().unwrap().as_ref().unwrap().size, size);
        assert_eq!(w2.state.lock().unwrap().as_ref().unwrap().root, root);
    }
    let published = checkpoint(&router).await;
    assert_eq!(cosigners(&published, &[&w1, &w2, &w3]), 2, "{published}");
    assert!(w3.state.lock().unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_quorum_nothing_is_published_until_witnesses_return() {
    let keys = signet_log::LogKeys::generate().unwrap();
    let (w, url) = witness("w.test/only", &keys.witness).await;
    let (_d, path) = policy(&[(&w, &url)], 1);
    let store = Arc::new(MemStore::new());
    let (log, router) = start_log(&store, &keys, &path);
    let signer = new_signer();
    let entry = |i: u32| hashedrekord(&signer, format!("artifact {i}").as_bytes());
    let (s, _, _) = call(&router, "POST", "/api/v1/log/entries", Some(entry(0))).await;
    assert_eq!(s, StatusCode::CREATED);
    let before = checkpoint(&router).await;
    assert!(before.lines().nth(1) == Some("1"), "{before}");

    // The witness goes down: the batch is stored but not published, and the client gets 503.
    w.up.store(false, Ordering::Relaxed);
    let second = entry(1);
    let (s, headers, b) = call(&router, "POST", "/api/v1/log/entries", Some(second.clone())).await;
    assert_eq!(
        s,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&b)
    );
    assert!(headers.contains_key("retry-after"));
    let (_, msg) = error_message(&b);
    assert!(msg.contains("witnesses"), "{msg}");
    assert_eq!(
        checkpoint(&router).await,
        before,
        "nothing new was handed out"
    );
    assert_eq!(log.head().unwrap().size, 1);
    assert_eq!(log.integrated_head().size, 2, "the entry itself is durable");
    let (s, _, _) = call(&router, "GET", "/api/v1/log/entries?logIndex=1", None).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "unpublished entries are not served"
    );

    // The witness returns: the sequencer publishes on its own, with a consistency proof 1 -> 2.
    w.up.store(true, Ordering::Relaxed);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while log.head().unwrap().size < 2 {
        assert!(tokio::time::Instant::now() < deadline, "never republished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = checkpoint(&router).await;
    assert_eq!(cosigners(&after, &[&w]), 1, "{after}");
    let (s, _, b) = call(&router, "GET", "/api/v1/log/entries?logIndex=1", None).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    // Submitting the same entry again finds it (never a second leaf).
    let (s, _, _) = call(&router, "POST", "/api/v1/log/entries", Some(second)).await;
    assert_eq!(s, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_log_learns_the_witness_size_from_its_published_checkpoint_or_a_409() {
    use signet_log::storage::{keys as db_keys, Batch, LogStore as _, Op};
    let keys = signet_log::LogKeys::generate().unwrap();
    let (w, url) = witness("w.test/only", &keys.witness).await;
    let (_d, path) = policy(&[(&w, &url)], 1);
    let store = Arc::new(MemStore::new());
    let signer = new_signer();
    {
        let (log, router) = start_log(&store, &keys, &path);
        for i in 0..3 {
            let (s, _, _) = call(
                &router,
                "POST",
                "/api/v1/log/entries",
                Some(hashedrekord(&signer, format!("a{i}").as_bytes())),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED);
        }
        assert_eq!(log.head().unwrap().size, 3);
    }
    // A new process over the same store learns the witness's size from the published
    // (cosigned) checkpoint: its first request carries the right proof, no 409 round.
    let conflicts = w.conflicts.load(Ordering::Relaxed);
    {
        let (log, router) = start_log(&store, &keys, &path);
        let (s, _, b) = call(
            &router,
            "POST",
            "/api/v1/log/entries",
            Some(hashedrekord(&signer, b"after restart")),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
        assert_eq!(log.head().unwrap().size, 4);
        assert_eq!(w.state.lock().unwrap().as_ref().unwrap().size, 4);
        assert_eq!(
            w.conflicts.load(Ordering::Relaxed),
            conflicts,
            "no 409: the requests were sized from the published checkpoint"
        );
    }
    // A crash after the witness cosigned size 4 but before the log recorded it: the new
    // process believes the witness is at 0 and learns its size from the 409.
    let mut lost = Batch::default();
    lost.ops.push(Op::Delete(db_keys::PUBLISHED.to_vec()));
    store.write(&lost, true).unwrap();
    let conflicts = w.conflicts.load(Ordering::Relaxed);
    let (log, router) = start_log(&store, &keys, &path);
    let (s, _, b) = call(
        &router,
        "POST",
        "/api/v1/log/entries",
        Some(hashedrekord(&signer, b"after a lost record")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    assert_eq!(log.head().unwrap().size, 5);
    assert_eq!(w.state.lock().unwrap().as_ref().unwrap().size, 5);
    assert!(
        w.conflicts.load(Ordering::Relaxed) > conflicts,
        "a 409 round was needed"
    );
    let published = checkpoint(&router).await;
    let cp = SignedCheckpoint::open(
        published.as_bytes(),
        &Verifiers::new().with(w.signer.verifier().unwrap()),
    )
    .unwrap();
    assert_eq!(cp.checkpoint().size, 5);
}

/// A log over a RocksDB store in `dir` with the witness policy `policy`.
fn start_rocks(
    dir: &std::path::Path,
    keys: &signet_log::LogKeys,
    policy: &std::path::Path,
) -> (Arc<Log>, axum::Router) {
    let cfg = signet_log::LogConfig {
        witness_policy: Some(policy.to_path_buf()),
        witness_timeout_ms: 1000,
        ..common::test_config()
    };
    let store = signet_log::storage::RocksStore::open(dir).unwrap();
    let log = Log::start(
        LogDb::new(Arc::new(store)),
        keys.clone(),
        HOST,
        vec![],
        &cfg,
        Arc::new(signet_log::SystemClock),
    )
    .unwrap();
    let router = signet_log::http::router(Arc::clone(&log));
    (log, router)
}

/// Stops a log as a process exit would: drops it and waits until its sequencer (which may be
/// in the middle of asking witnesses) has let go of it, so that its store is closed.
async fn stop(log: Arc<Log>, router: axum::Router) {
    let weak = Arc::downgrade(&log);
    drop(router);
    drop(log);
    wait_dropped(&weak, "the log never stopped").await;
}

/// Stops a log [`start_rocks`] opened and waits until its RocksDB store is closed, so that the
/// next open of the same directory does not find the lock still held: the sequencer can hold
/// the store (through its own handle) a little after the last `Log` handle is gone, while it
/// finishes a batch or a round of witness requests.
async fn stop_rocks(log: Arc<Log>, router: axum::Router) {
    let store = Arc::downgrade(log.db().raw());
    stop(log, router).await;
    wait_dropped(&store, "the log's store was never closed").await;
}

/// Waits (at most 10 s, else panics with `what`) until nothing holds `weak`'s value.
async fn wait_dropped<T: ?Sized>(weak: &std::sync::Weak<T>, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while weak.upgrade().is_some() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every checkpoint a client is shown: what `/checkpoint` and `/api/v1/log` serve. Each must
/// carry the quorum of `witnesses` (`quorum`), both must agree, and the size must never go
/// below `floor`. Returns the served size, or `None` while nothing is published (both answer
/// 503 then).
async fn served(
    router: &axum::Router,
    witnesses: &[&TestWitness],
    quorum: usize,
    floor: &mut u64,
) -> Option<u64> {
    let (s, headers, b) = call(router, "GET", "/checkpoint", None).await;
    let (s2, _, info) = call(router, "GET", "/api/v1/log", None).await;
    if s == StatusCode::SERVICE_UNAVAILABLE {
        assert!(headers.contains_key("retry-after"));
        assert_eq!(s2, StatusCode::SERVICE_UNAVAILABLE, "both or neither");
        assert!(error_message(&b).1.contains("witness quorum"), "{b:?}");
        return None;
    }
    assert_eq!(s, StatusCode::OK);
    assert_eq!(s2, StatusCode::OK);
    let cp = String::from_utf8(b).unwrap();
    assert!(
        cosigners(&cp, witnesses) >= quorum,
        "uncosigned checkpoint served: {cp}"
    );
    let info: serde_json::Value = signet_proto::json::from_slice(&info).unwrap();
    assert_eq!(
        info["signedTreeHead"],
        cp.as_str(),
        "/api/v1/log serves the same"
    );
    let size: u64 = cp.lines().nth(1).unwrap().parse().unwrap();
    assert!(size >= *floor, "the tree went back from {floor} to {size}");
    *floor = size;
    Some(size)
}

/// Waits until the log serves a cosigned checkpoint of at least `size`.
async fn await_published(
    router: &axum::Router,
    witnesses: &[&TestWitness],
    floor: &mut u64,
    size: u64,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if served(router, witnesses, 1, floor).await >= Some(size) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "size {size} was never published"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A 201's checkpoint carries the quorum.
fn answer_checkpoint(body: &[u8]) -> String {
    let (_, e) = parse_entry(body);
    e.verification.unwrap().inclusion_proof.unwrap().checkpoint
}

/// Issue 15 D, on RocksDB: a restart after an entry was sequenced but before its checkpoint
/// was cosigned serves the last cosigned checkpoint (and none of the unpublished entry), not
/// the newer uncosigned head; a restart after cosigning serves that cosigned checkpoint; a
/// fresh log whose witnesses are down serves nothing. Every checkpoint served on the way (in
/// `/checkpoint`, `/api/v1/log` and the 201 answers) carries the quorum, and the tree never
/// goes backwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_serve_only_cosigned_checkpoints() {
    let keys = signet_log::LogKeys::generate().unwrap();
    let (w, url) = witness("w.test/only", &keys.witness).await;
    let (_d, path) = policy(&[(&w, &url)], 1);
    let dir = tempfile::tempdir().unwrap();
    let signer = new_signer();
    let entry = |i: u32| hashedrekord(&signer, format!("restart {i}").as_bytes());
    let post = |router: axum::Router, body: Vec<u8>| async move {
        call(&router, "POST", "/api/v1/log/entries", Some(body)).await
    };
    let mut floor = 0u64;

    // 1. A fresh log, witness up: two entries published, each 201 cosigned.
    let (log, router) = start_rocks(dir.path(), &keys, &path);
    await_published(&router, &[&w], &mut floor, 0).await;
    for i in 0..2 {
        let (s, _, b) = post(router.clone(), entry(i)).await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
        assert_eq!(cosigners(&answer_checkpoint(&b), &[&w]), 1);
    }
    assert_eq!(served(&router, &[&w], 1, &mut floor).await, Some(2));
    // Sequenced, not cosigned: the witness is down.
    w.up.store(false, Ordering::Relaxed);
    let (s, _, _) = post(router.clone(), entry(2)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(log.integrated_head().size, 3);
    assert_eq!(served(&router, &[&w], 1, &mut floor).await, Some(2));
    stop_rocks(log, router).await;

    // 2. Restart after sequencing, before cosigning (witness still down): the cosigned size 2
    // is served, entry 2 is not, and no proof reaches size 3.
    let (log, router) = start_rocks(dir.path(), &keys, &path);
    assert_eq!(log.integrated_head().size, 3, "the entry itself is durable");
    assert_eq!(served(&router, &[&w], 1, &mut floor).await, Some(2));
    for (method, uri, want) in [
        (
            "GET",
            "/api/v1/log/entries?logIndex=2",
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            "/api/v1/log/proof?firstSize=1&lastSize=3",
            StatusCode::BAD_REQUEST,
        ),
        ("GET", "/tile/entries/000.p/3", StatusCode::NOT_FOUND),
        ("GET", "/api/v1/log/entries?logIndex=1", StatusCode::OK),
    ] {
        let (s, _, b) = call(&router, method, uri, None).await;
        assert_eq!(s, want, "{uri}: {}", String::from_utf8_lossy(&b));
        if s == StatusCode::OK {
            assert_eq!(cosigners(&answer_checkpoint(&b), &[&w]), 1, "{uri}");
        }
    }
    let (s, _, _) = post(router.clone(), entry(3)).await;
    assert_eq!(
        s,
        StatusCode::SERVICE_UNAVAILABLE,
        "nothing uncosigned in a 201"
    );
    assert_eq!(served(&router, &[&w], 1, &mut floor).await, Some(2));
    // The witness returns: the stored head (4 entries) is cosigned and published.
    w.up.store(true, Ordering::Relaxed);
    await_published(&router, &[&w], &mut floor, 4).await;
    let (s, _, b) = call(&router, "GET", "/api/v1/log/entries?logIndex=3", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(cosigners(&answer_checkpoint(&b), &[&w]), 1);
    stop_rocks(log, router).await;

    // 3. Restart after cosigning, witness down: the cosigned size 4, not less.
    w.up.store(false, Ordering::Relaxed);
    let (log, router) = start_rocks(dir.path(), &keys, &path);
    assert_eq!(served(&router, &[&w], 1, &mut floor).await, Some(4));
    stop_rocks(log, router).await;
    w.up.store(true, Ordering::Relaxed);

    // 4. A fresh store (another log, with its own witness) whose witness is down serves no
    // checkpoint at all, then the cosigned tree once it answers.
    let (w2, url2) = witness("w.test/fresh", &keys.witness).await;
    let (_d2, path2) = policy(&[(&w2, &url2)], 1);
    let fresh = tempfile::tempdir().unwrap();
    w2.up.store(false, Ordering::Relaxed);
    let (log, router) = start_rocks(fresh.path(), &keys, &path2);
    let mut fresh_floor = 0;
    assert_eq!(served(&router, &[&w2], 1, &mut fresh_floor).await, None);
    for uri in [
        "/api/v1/log/entries?logIndex=0",
        "/tile/0/000.p/1",
        "/api/v1/log/proof?firstSize=1",
    ] {
        let (s, _, _) = call(&router, "GET", uri, None).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
    }
    let (s, _, _) = post(router.clone(), entry(9)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    // Not ready either, so a load balancer or a Kubernetes Service sends it nothing yet.
    let (s, _, _) = call(&router, "GET", "/readyz", None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    w2.up.store(true, Ordering::Relaxed);
    await_published(&router, &[&w2], &mut fresh_floor, 1).await;
    let (s, _, _) = call(&router, "GET", "/readyz", None).await;
    assert_eq!(s, StatusCode::OK);
    stop_rocks(log, router).await;
}

/// Issue 15 D: the cosigned checkpoint is served only once it is durable. A write of the
/// published record that fails before landing serves nothing new (the batch gets 503); one
/// that fails after landing is served after a restart. A store written before the record
/// existed serves its stored checkpoint only if that carries the quorum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_published_checkpoint_is_durable_before_it_is_served() {
    use signet_log::storage::{keys as db_keys, Batch, Fault, LogStore as _, Op};
    let keys = signet_log::LogKeys::generate().unwrap();
    let (w, url) = witness("w.test/only", &keys.witness).await;
    let (_d, path) = policy(&[(&w, &url)], 1);
    let store = Arc::new(MemStore::new());
    let signer = new_signer();
    let entry = |i: u32| hashedrekord(&signer, format!("durable {i}").as_bytes());
    let mut floor = 0u64;
    let publishes = |b: &Batch| {
        b.ops
            .iter()
            .any(|op| matches!(op, Op::Put(k, _) if k == db_keys::PUBLISHED))
    };

    let (log, router) = start_log(&store, &keys, &path);
    let (s, _, _) = call(&router, "POST", "/api/v1/log/entries", Some(entry(0))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(served(&router, &[&w], 1, &mut floor).await, Some(1));

    // Cosigned, but the record does not land: nothing new is served.
    store.set_fault_hook(Some(Arc::new(move |b: &Batch| {
        if publishes(b) {
            Fault::FailBefore
        } else {
            Fault::Apply
        }
    })));
    let (s, _, b) = call(&router, "POST", "/api/v1/log/entries", Some(entry(1))).await;
    assert_eq!(
        s,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&b)
    );
    assert_eq!(served(&router, &[&w], 1, &mut floor).await, Some(1));
    assert_eq!(log.db().published().unwrap().unwrap().0.size, 1);

    // The record lands but the write reports a failure: still nothing new served now...
    store.set_fault_hook(Some(Arc::new(move |b: &Batch| {
        if publishes(b) {
            Fault::FailAfter
        } else {
            Fault::Apply
        }
    })));
    let (s, _, _) = call(&router, "POST", "/api/v1/log/entries", Some(entry(2))).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(served(&router, &[&w], 1, &mut floor).await, Some(1));
    let landed = log.db().published().unwrap().unwrap();
    assert_eq!(landed.0.size, 3);
    assert_eq!(cosigners(&landed.1, &[&w]), 1);
    stop(log, router).await;
    store.set_fault_hook(None);

    // ...and after a restart (witness down) the durable, cosigned size 3 is.
    w.up.store(false, Ordering::Relaxed);
    let (log, router) = start_log(&store, &keys, &path);
    assert_eq!(served(&router, &[&w], 1, &mut floor).await, Some(3));
    stop(log, router).await;

    // A store from before the record: the stored checkpoint of the head counts only if it
    // carries the quorum (then it is recorded as published).
    let mut b = Batch::default();
    b.ops.push(Op::Delete(db_keys::PUBLISHED.to_vec()));
    b.put(db_keys::checkpoint(3), landed.1.clone().into_bytes());
    store.write(&b, true).unwrap();
    let (log, router) = start_log(&store, &keys, &path);
    assert_eq!(served(&router, &[&w], 1, &mut floor).await, Some(3));
    assert_eq!(log.db().published().unwrap().unwrap().1, landed.1);
    stop(log, router).await;
    // The same checkpoint with the log's own signatures only.
    let uncosigned = landed
        .1
        .lines()
        .filter(|l| !l.starts_with("\u{2014} w.test/"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    assert_eq!(cosigners(&uncosigned, &[&w]), 0);
    let mut b = Batch::default();
    b.ops.push(Op::Delete(db_keys::PUBLISHED.to_vec()));
    b.put(db_keys::checkpoint(3), uncosigned.into_bytes());
    store.write(&b, true).unwrap();
    let (log, router) = start_log(&store, &keys, &path);
    let mut fresh_floor = 0;
    assert_eq!(served(&router, &[&w], 1, &mut fresh_floor).await, None);
    w.up.store(true, Ordering::Relaxed);
    await_published(&router, &[&w], &mut floor, 3).await;
    stop(log, router).await;
}

/// Issue 15 C, at the log: a policy listing one witness key under two names, or the log's own
/// key, is refused when the log starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_with_one_key_twice_or_the_logs_own_key_is_refused() {
    use base64::Engine as _;
    use signet_proto::note::{CosignatureV1Signer, CosignatureV1Verifier};
    let keys = signet_log::LogKeys::generate().unwrap();
    let (w, url) = witness("w.test/one", &keys.witness).await;
    // The witness's key under another key name: another vkey, another key hash.
    let vkey = w.signer.to_vkey();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(vkey.splitn(3, '+').nth(2).unwrap())
        .unwrap();
    let raw: [u8; 32] = raw[1..].try_into().unwrap();
    let again = CosignatureV1Verifier::new("w.test/again", &raw).unwrap();
    assert_ne!(again.to_vkey(), vkey);
    // The log's own C2SP note key as a cosignature/v1 witness key.
    let own = CosignatureV1Signer::new("w.test/self", keys.witness.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (text, want) in [
        (
            format!(
                "witness one {vkey} {url}\nwitness again {} {url}\nquorum 2\n",
                again.to_vkey()
            ),
            "same public key",
        ),
        (
            format!(
                "witness one {vkey} {url}\nwitness self {} {url}\nquorum 1\n",
                own.to_vkey()
            ),
            "log's own key",
        ),
    ] {
        let path = dir.path().join("p.policy");
        std::fs::write(&path, &text).unwrap();
        let cfg = signet_log::LogConfig {
            witness_policy: Some(path),
            ..common::test_config()
        };
        let err = Log::start(
            LogDb::new(Arc::new(MemStore::new())),
            keys.clone(),
            HOST,
            vec![],
            &cfg,
            Arc::new(signet_log::SystemClock),
        )
        .unwrap_err();
        assert!(err.to_string().contains(want), "{text}: {err}");
    }
}
