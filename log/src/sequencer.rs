//! The sequencer: batches queued entries, integrates them, signs one checkpoint, and commits
//! everything in one synced write before answering anyone in the batch.
//!
//! One task drains a bounded queue (see [`crate::service::Log::submit`]; a full queue is
//! pushback, 503). A batch closes at `batch_max_entries`, at `batch_max_delay_ms` after its
//! oldest entry was queued, or as soon as nothing more is on its way: the queue is empty and
//! no request is between reading its body and queueing its entry (`Arrivals`). Waiting
//! then would only add latency (and, with clients that wait for their answer before sending
//! again, leave the CPU idle); under a steady stream the batch still fills up to the limits.
//! Committing a batch (`commit_batch`, on a blocking thread):
//! 1. dedup: leaf hashes already in the store, and repeats inside the batch, become
//!    `Duplicate` answers pointing at the existing index (never a second leaf);
//! 2. `signet_proto::tiles::integrate` over the stored right-edge tiles;
//! 3. one checkpoint signed (Rekor-style ECDSA line + C2SP Ed25519 line);
//! 4. one `Batch` with entries, entry bundles, tiles, dedup keys, search postings, the
//!    checkpoint and the head, written with `sync = true`;
//! 5. only then inclusion proofs against the new checkpoint are handed to the waiting
//!    requests. If the write fails, every request of the batch gets an error and the head is
//!    reloaded from the store (the write may have landed: then a retry gets 409).
//!
//! The tree size only moves forward: the head in the store is the only source of the next
//! index. What this module does not do: validation (done before queueing, outside any lock,
//! in parallel on the request tasks), SET signing (done per request after the commit).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use signet_proto::merkle::{BatchProver, Hash};
use signet_proto::tiles::{append_bundle_entry, integrate};
use tokio::sync::{mpsc, oneshot};

use crate::entries::ValidEntry;
use crate::service::{Log, LogError, Outcome, SignedHead};
use crate::storage::{keys, Batch, Head, LogDb, OverlayReader};

/// A queued entry and where to send the answer.
pub(crate) struct Pending {
    pub(crate) entry: ValidEntry,
    pub(crate) reply: oneshot::Sender<Result<Outcome, LogError>>,
    pub(crate) enqueued: tokio::time::Instant,
}

/// Counts requests that are on their way to the queue (body read, entry being validated),
/// so that the sequencer can close a batch early when none is.
#[derive(Debug, Default)]
pub(crate) struct Arrivals {
    count: AtomicUsize,
    none: tokio::sync::Notify,
}

impl Arrivals {
    /// Marks one request as on its way until the guard is dropped (queued or rejected).
    pub(crate) fn arriving(self: &Arc<Self>) -> ArrivalGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        ArrivalGuard(Arc::clone(self))
    }
    fn idle(&self) -> bool {
        self.count.load(Ordering::SeqCst) == 0
    }
}

/// See [`Arrivals::arriving`].
pub(crate) struct ArrivalGuard(Arc<Arrivals>);

impl Drop for ArrivalGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            // A stored permit only makes the sequencer re-check; never a missed wake-up.
            self.0.none.notify_one();
        }
    }
}

/// The sequencer loop; ends when the log is dropped.
pub(crate) async fn run(
    log: Weak<Log>,
    mut rx: mpsc::Receiver<Pending>,
    arrivals: Arc<Arrivals>,
    max: usize,
    delay: Duration,
) {
    // With witnesses, the stored head may never have been cosigned (first start, or a crash
    // between commit and cosigning): publish it first.
    let mut unpublished = log.upgrade().is_some_and(|l| l.witnesses.is_some());
    // At start, an unpublished head is cosigned at once, not after a first idle retry period.
    let mut starting = unpublished;
    loop {
        let first = if std::mem::take(&mut starting) {
            rx.try_recv().ok()
        } else if unpublished {
            match tokio::time::timeout(PUBLISH_RETRY, rx.recv()).await {
                Ok(Some(p)) => Some(p),
                Ok(None) => return,
                Err(_) => None,
            }
        } else {
            match rx.recv().await {
                Some(p) => Some(p),
                None => return,
            }
        };
        let mut batch = Vec::new();
        if let Some(first) = first {
            // The batch closes `delay` after its oldest entry was queued: entries that waited
            // through the previous commit do not wait again.
            let deadline = first.enqueued + delay;
            batch.push(first);
            while batch.len() < max {
                match rx.try_recv() {
                    Ok(p) => {
                        batch.push(p);
                        continue;
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                    Err(mpsc::error::TryRecvError::Empty) => {}
                }
                if delay.is_zero() || arrivals.idle() {
                    break;
                }
                tokio::select! {
                    p = rx.recv() => match p {
                        Some(p) => batch.push(p),
                        None => break,
                    },
                    () = arrivals.none.notified() => {}
                    () = tokio::time::sleep_until(deadline) => break,
                }
            }
        }
        let Some(log) = log.upgrade() else {
            return;
        };
        let mut deliveries = Vec::new();
        if !batch.is_empty() {
            let committer = Arc::clone(&log);
            match tokio::task::spawn_blocking(move || commit_batch(&committer, batch)).await {
                Ok(d) => deliveries = d,
                Err(e) => tracing::error!(error = %e, "sequencer batch task failed"),
            }
        }
        if log.witnesses.is_some() {
            let integrated = log.integrated_head();
            let published = log.head().ok();
            if unpublished || published.is_none_or(|p| p.size != integrated.size) {
                unpublished = !publish(&log, &integrated, &mut deliveries).await;
            }
            answer_with_published(&log, &mut deliveries);
        }
        for (reply, answer) in deliveries {
            let _ = reply.send(answer);
        }
    }
}

/// How often the sequencer retries cosigning an unpublished head while idle.
const PUBLISH_RETRY: Duration = Duration::from_secs(1);

/// Gathers witness cosignatures for `head`, makes the cosigned checkpoint durable as the
/// published one (`M published`, synced) and only then publishes it. On failure (no quorum,
/// or the write failed) nothing new is served and the batch's new entries are answered with
/// [`LogError::Witness`] (by [`answer_with_published`]). Returns whether `head` was
/// published.
async fn publish(log: &Arc<Log>, head: &Arc<SignedHead>, deliveries: &mut [Delivery]) -> bool {
    let Some(witnesses) = log.witnesses.clone() else {
        return true;
    };
    let failed = |message: String, deliveries: &mut [Delivery]| {
        tracing::error!(error = %message, size = head.size, "checkpoint not published");
        log.metrics.witness_failure();
        for (_, answer) in deliveries.iter_mut() {
            if matches!(answer, Ok(Outcome::Added { .. })) {
                *answer = Err(LogError::Witness(message.clone()));
            }
        }
        false
    };
    let checkpoint = match witnesses.cosign(log, head).await {
        Ok(c) => c,
        Err(LogError::Witness(m)) => return failed(m, deliveries),
        Err(other) => return failed(other.to_string(), deliveries),
    };
    let published = Arc::new(SignedHead {
        size: head.size,
        root: head.root,
        checkpoint,
    });
    // The same rule a restart applies to the stored record: never publish what it would
    // refuse.
    if let Err(m) = witnesses.publishable(&log.ident, &published) {
        return failed(m, deliveries);
    }
    let db_log = Arc::clone(log);
    let stored = Arc::clone(&published);
    match tokio::task::spawn_blocking(move || db_log.store_published(&stored)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return failed(format!("storing the cosigned checkpoint: {e}"), deliveries),
        Err(e) => return failed(format!("storing the cosigned checkpoint: {e}"), deliveries),
    }
    log.set_head(published);
    true
}

/// With witnesses, a batch's answers carry only the published checkpoint: an added entry
/// inside the published tree gets its inclusion proof against it (the cosigned checkpoint of
/// its own batch, or a later one), an entry beyond it a [`LogError::Witness`] answer (it is
/// stored and published later).
fn answer_with_published(log: &Log, deliveries: &mut [Delivery]) {
    let published = log.head().ok();
    for (_, answer) in deliveries.iter_mut() {
        let Ok(Outcome::Added {
            index, proof, head, ..
        }) = answer
        else {
            continue;
        };
        let Some(p) = published.as_ref().filter(|p| *index < p.size) else {
            *answer = Err(LogError::Witness(
                "the entry is stored but its checkpoint has not been cosigned yet".into(),
            ));
            continue;
        };
        if p.size != head.size || p.root != head.root {
            match log.prove(*index, p) {
                Ok(new_proof) => *proof = new_proof,
                Err(e) => {
                    *answer = Err(e);
                    continue;
                }
            }
        }
        *head = Arc::clone(p);
    }
}

/// A request's reply channel and its answer.
type Delivery = (
    oneshot::Sender<Result<Outcome, LogError>>,
    Result<Outcome, LogError>,
);

enum Slot {
    Existing(u64),
    New(u64),
    InBatch(u64),
}

/// Commits one batch (see the module docs) and returns every request's answer.
fn commit_batch(log: &Log, batch: Vec<Pending>) -> Vec<Delivery> {
    let started = Instant::now();
    let n = batch.len();
    let _guard = log
        .commit_lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (entries, replies): (Vec<ValidEntry>, Vec<_>) =
        batch.into_iter().map(|p| (p.entry, p.reply)).unzip();
    let out = match commit_entries(log, &entries) {
        Ok(answers) => replies
            .into_iter()
            .zip(answers.into_iter().map(Ok))
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, batch = n, "batch commit failed");
            replies
                .into_iter()
                .map(|r| (r, Err(LogError::Internal("batch commit failed".into()))))
                .collect()
        }
    };
    log.metrics.batch(
        n,
        started.elapsed().as_secs_f64(),
        log.head().map_or(0, |h| h.size),
    );
    out
}

fn commit_entries(log: &Log, entries: &[ValidEntry]) -> Result<Vec<Outcome>, LogError> {
    let head = log.integrated_head();
    let hashes: Vec<Hash> = entries.iter().map(|e| e.leaf_hash).collect();
    let existing = log.db.indexes_of_leaves(&hashes)?;
    let mut slots = Vec::with_capacity(entries.len());
    let mut seen: HashMap<Hash, u64> = HashMap::new();
    let mut fresh: Vec<&ValidEntry> = Vec::new();
    for (e, ex) in entries.iter().zip(existing) {
        if let Some(i) = ex {
            slots.push(Slot::Existing(i));
        } else if let Some(i) = seen.get(&e.leaf_hash) {
            slots.push(Slot::InBatch(*i));
        } else {
            let idx = head.size + fresh.len() as u64;
            seen.insert(e.leaf_hash, idx);
            fresh.push(e);
            slots.push(Slot::New(idx));
        }
    }
    let mut new_head = Arc::clone(&head);
    let integrated_time = crate::util::now_secs();
    let mut proofs: HashMap<u64, Vec<Hash>> = HashMap::new();
    if !fresh.is_empty() {
        match append(log, &head, &fresh, integrated_time, true, true) {
            Ok((h, tiles)) => {
                new_head = Arc::new(h);
                log.set_integrated((*new_head).clone());
                let overlay = OverlayReader::new(&log.db, &tiles);
                let mut prover = BatchProver::new(&overlay, new_head.size);
                for i in head.size..new_head.size {
                    let p = prover
                        .prove(i)
                        .map_err(|e| LogError::Internal(format!("proof for {i}: {e}")))?;
                    proofs.insert(i, p);
                }
            }
            Err(e) => {
                reload_head(log);
                return Err(e);
            }
        }
    }
    Ok(slots
        .into_iter()
        .map(|s| match s {
            Slot::Existing(index) | Slot::InBatch(index) => Outcome::Duplicate { index },
            Slot::New(index) => Outcome::Added {
                index,
                integrated_time,
                proof: proofs.remove(&index).unwrap_or_default(),
                head: Arc::clone(&new_head),
            },
        })
        .collect())
}

/// After a failed write: the store is the truth (the write may or may not have landed).
fn reload_head(log: &Log) {
    match log.db.head() {
        Ok(Some(h)) if h.size != log.integrated_head().size => match log.db.checkpoint(h.size) {
            Ok(Some(checkpoint)) => log.set_integrated(SignedHead {
                size: h.size,
                root: h.root,
                checkpoint,
            }),
            other => tracing::error!(?other, "cannot reload checkpoint after failed commit"),
        },
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "cannot reload head after failed commit"),
    }
}

/// Appends `fresh` after `head`: integrates, signs, writes one batch. Returns the new head and
/// the tiles written.
fn append(
    log: &Log,
    head: &SignedHead,
    fresh: &[&ValidEntry],
    integrated_time: u64,
    with_indexes: bool,
    sync: bool,
) -> Result<(SignedHead, TileWrites), LogError> {
    let leaves: Vec<Hash> = fresh.iter().map(|e| e.leaf_hash).collect();
    let integ = integrate(head.size, &leaves, &log.db)
        .map_err(|e| LogError::Internal(format!("integrate: {e}")))?;
    let checkpoint = log.ident.sign_checkpoint(integ.size, integ.root)?;
    let mut batch = Batch::default();
    write_entries(
        &log.db,
        &mut batch,
        head.size,
        fresh,
        integrated_time,
        with_indexes,
    )?;
    for (t, data) in &integ.tiles {
        batch.put(keys::tile(t.level, t.index), data.clone());
    }
    batch.put(
        keys::checkpoint(integ.size),
        checkpoint.clone().into_bytes(),
    );
    batch.put(
        keys::HEAD.to_vec(),
        LogDb::head_value(&Head {
            size: integ.size,
            root: integ.root,
        }),
    );
    log.db.write(&batch, sync)?;
    Ok((
        SignedHead {
            size: integ.size,
            root: integ.root,
            checkpoint,
        },
        integ.tiles,
    ))
}

/// Tiles written by one append.
type TileWrites = Vec<(signet_proto::tiles::TileId, Vec<u8>)>;

/// Adds entry records, dedup keys, (optionally) search postings, and the entry bundles that
/// this batch completes. A bundle is written once, when its 256th entry arrives; partial
/// bundles are assembled from the `E` records on read ([`LogDb::entry_bundle`]), so a batch
/// never rewrites the entries of earlier batches.
fn write_entries(
    db: &LogDb,
    batch: &mut Batch,
    old_size: u64,
    fresh: &[&ValidEntry],
    integrated_time: u64,
    with_indexes: bool,
) -> Result<(), LogError> {
    for (k, e) in fresh.iter().enumerate() {
        let index = old_size + k as u64;
        let mut rec = Vec::with_capacity(8 + e.body.len());
        rec.extend_from_slice(&integrated_time.to_be_bytes());
        rec.extend_from_slice(&e.body);
        batch.put(keys::entry(index), rec);
        batch.put(keys::leaf(&e.leaf_hash), index.to_be_bytes().to_vec());
        if with_indexes {
            for (kind, value) in &e.postings {
                batch.put(keys::index(*kind, value, index), Vec::new());
            }
        }
        if index % 256 == 255 {
            let start = index - 255;
            let mut bundle = Vec::new();
            let mut add = |body: &[u8]| {
                append_bundle_entry(&mut bundle, body)
                    .map_err(|err| LogError::Internal(format!("entry bundle: {err}")))
            };
            if start < old_size {
                let want = usize::try_from(old_size - start).unwrap_or(usize::MAX);
                let stored = db.entries(start, want)?;
                if stored.len() != want || stored.iter().zip(start..).any(|(s, i)| s.index != i) {
                    return Err(LogError::Internal(format!(
                        "entries of bundle {} missing from the store",
                        index / 256
                    )));
                }
                for s in &stored {
                    add(&s.body)?;
                }
            }
            let first_fresh = usize::try_from(start.max(old_size) - old_size).unwrap_or(0);
            for f in &fresh[first_fresh..=k] {
                add(&f.body)?;
            }
            batch.put(keys::bundle(index / 256), bundle);
        }
    }
    Ok(())
}

/// The bulk path for building large trees quickly (benchmarks, imports): appends `entries`
/// in chunks of `chunk` leaves, each chunk one unsynced batch with one signed checkpoint,
/// without search postings, then syncs the last one. Not for serving traffic: it bypasses the
/// queue (it takes the commit lock, so it is safe next to a running sequencer).
///
/// # Errors
/// Storage or signing errors.
pub fn bulk_append(log: &Log, entries: &[ValidEntry], chunk: usize) -> Result<u64, LogError> {
    let _guard = log
        .commit_lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let now = crate::util::now_secs();
    let mut head = (*log.integrated_head()).clone();
    let parts: Vec<&[ValidEntry]> = entries.chunks(chunk.max(1)).collect();
    for (k, part) in parts.iter().enumerate() {
        let hashes: Vec<Hash> = part.iter().map(|e| e.leaf_hash).collect();
        let existing = log.db.indexes_of_leaves(&hashes)?;
        let mut seen = std::collections::HashSet::new();
        let fresh: Vec<&ValidEntry> = part
            .iter()
            .zip(existing)
            .filter(|(e, ex)| ex.is_none() && seen.insert(e.leaf_hash))
            .map(|(e, _)| e)
            .collect();
        if fresh.is_empty() {
            continue;
        }
        let last = k + 1 == parts.len();
        let (h, _) = append(log, &head, &fresh, now, false, last)?;
        head = h;
        log.set_integrated(head.clone());
    }
    Ok(head.size)
}
