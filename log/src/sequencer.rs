//! The sequencer: batches queued entries, integrates them, signs one checkpoint, and commits
//! everything in one synced write before answering anyone in the batch.
//!
//! [`crate::service::Log`] owns the `Sequencer` (the committed and published heads, the
//! store, the signing identity, the witnesses) and drives it: it queues entries, and one task
//! (`run`) drains the bounded queue (see [`crate::service::Log::submit`]; a full queue is
//! pushback, 503). The sequencer never calls back into the log.
//!
//! A batch closes at `batch_max_entries`, at `batch_max_delay_ms` after its oldest entry
//! was queued, or as soon as nothing more is on its way: the queue is empty and no request
//! is between reading its body and queueing its entry (`Arrivals`). Waiting
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
//! index. Integration times come from the injected [`Clock`]; the monotonic
//! `std::time::Instant` / `tokio::time::Instant` measure commit latency and batch deadlines
//! only (they are never written anywhere).
//!
//! What this module does not do: validation (done before queueing, outside any lock, in
//! parallel on the request tasks), SET signing (done per request after the commit).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use signet_proto::clock::Clock;
use signet_proto::merkle::{BatchProver, Hash};
use signet_proto::tiles::{append_bundle_entry, integrate};
use tokio::sync::{mpsc, oneshot};

use crate::entries::ValidEntry;
use crate::error::{LogError, WitnessError};
use crate::head::SignedHead;
use crate::identity::Identity;
use crate::metrics::Metrics;
use crate::proofcache::ProofCache;
use crate::storage::{keys, Batch, Head, LogDb, OverlayReader, StoreError};
use crate::witness::Witnesses;

/// Result of a submission.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Appended in a batch whose checkpoint is `head`.
    Added {
        /// Log index.
        index: u64,
        /// Integration time.
        integrated_time: u64,
        /// Audit path against `head`.
        proof: Vec<Hash>,
        /// The batch's signed head.
        head: Arc<SignedHead>,
    },
    /// Identical to the entry at `index` (Rekor answers 409).
    Duplicate {
        /// Log index of the existing entry.
        index: u64,
    },
}

/// A queued entry and where to send the answer.
pub(crate) struct Pending {
    pub(crate) entry: ValidEntry,
    pub(crate) reply: oneshot::Sender<Result<Outcome, LogError>>,
    /// Monotonic: only the batch deadline is computed from it.
    pub(crate) enqueued: tokio::time::Instant,
}

/// What the sequencer commits to and publishes: the store, the signing identity, the
/// witnesses, and the two heads. The log owns it (and reads the heads through it); the
/// sequencer task holds only a weak reference, so it ends when the log is dropped.
pub(crate) struct Sequencer {
    db: LogDb,
    ident: Arc<Identity>,
    witnesses: Option<Arc<Witnesses>>,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    /// The published head: what readers see. With witnesses, always a checkpoint that
    /// carries the quorum and is durable in the store (`M published`), or `None` before the
    /// first one.
    published: RwLock<Option<Arc<SignedHead>>>,
    /// The integrated head: the newest tree committed to the store (the sequencer's base).
    integrated: RwLock<Arc<SignedHead>>,
    commit_lock: Mutex<()>,
    /// Interiors of the tiles served proofs touched (bounded; see [`ProofCache`]).
    proofs: ProofCache,
}

impl Sequencer {
    /// A sequencer over `db` whose committed head is `integrated` and whose published head is
    /// `published` (see [`crate::service::Log::start`]).
    pub(crate) fn new(
        db: LogDb,
        ident: Arc<Identity>,
        witnesses: Option<Arc<Witnesses>>,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
        integrated: Arc<SignedHead>,
        published: Option<Arc<SignedHead>>,
    ) -> Self {
        metrics.set_tree_size(published.as_ref().map_or(0, |h| h.size));
        Self {
            db,
            ident,
            witnesses,
            metrics,
            clock,
            published: RwLock::new(published),
            integrated: RwLock::new(integrated),
            commit_lock: Mutex::new(()),
            proofs: ProofCache::default(),
        }
    }

    /// The published head (see [`crate::service::Log::head`]).
    pub(crate) fn head(&self) -> Result<Arc<SignedHead>, LogError> {
        let h = self
            .published
            .read()
            .map_or_else(|p| p.into_inner().clone(), |h| h.clone());
        h.ok_or(LogError::Unpublished)
    }

    /// Publishes `h` to readers (with witnesses, only after [`Sequencer::store_published`]).
    fn set_head(&self, h: Arc<SignedHead>) {
        let size = h.size;
        match self.published.write() {
            Ok(mut g) => *g = Some(h),
            Err(p) => *p.into_inner() = Some(h),
        }
        self.metrics.set_tree_size(size);
    }

    /// Makes the cosigned head `h` durable as the published one (`M published`, one synced
    /// write) before it is served. A head smaller than the stored one is refused: the
    /// published tree never goes backwards, whatever the order of crashes and restarts.
    fn store_published(&self, h: &SignedHead) -> Result<(), LogError> {
        if let Some((stored, _)) = self.db.published()? {
            if stored.size > h.size {
                return Err(LogError::PublishBelow {
                    size: h.size,
                    published: stored.size,
                });
            }
        }
        let mut batch = Batch::default();
        batch.put(
            keys::PUBLISHED.to_vec(),
            LogDb::published_value(
                &Head {
                    size: h.size,
                    root: h.root,
                },
                &h.checkpoint,
            ),
        );
        self.db.write(&batch, true)?;
        Ok(())
    }

    /// The newest tree head committed to the store.
    pub(crate) fn integrated_head(&self) -> Arc<SignedHead> {
        self.integrated
            .read()
            .map_or_else(|p| Arc::clone(&p.into_inner()), |h| Arc::clone(&h))
    }

    /// Records a committed head; publishes it at once when no witnesses are configured.
    fn set_integrated(&self, h: SignedHead) {
        let h = Arc::new(h);
        match self.integrated.write() {
            Ok(mut g) => *g = Arc::clone(&h),
            Err(p) => *p.into_inner() = Arc::clone(&h),
        }
        if self.witnesses.is_none() {
            self.set_head(h);
        }
    }

    /// Inclusion proof of `index` against `head`.
    pub(crate) fn prove(&self, index: u64, head: &SignedHead) -> Result<Vec<Hash>, LogError> {
        signet_proto::merkle::prove_inclusion_cached(index, head.size, &self.db, &self.proofs)
            .map_err(|e| LogError::Merkle {
                what: format!("inclusion proof for {index} at size {}", head.size),
                reason: e.to_string(),
            })
    }

    /// [`Sequencer::prove`] without the tile-interior cache (every node rehashed from its
    /// tile), kept for tests and the benchmark's comparison.
    pub(crate) fn prove_uncached(
        &self,
        index: u64,
        head: &SignedHead,
    ) -> Result<Vec<Hash>, LogError> {
        signet_proto::merkle::prove_inclusion(index, head.size, &self.db).map_err(|e| {
            LogError::Merkle {
                what: format!("inclusion proof for {index} at size {}", head.size),
                reason: e.to_string(),
            }
        })
    }

    /// The tile-interior cache behind [`Sequencer::prove`].
    pub(crate) fn proof_cache(&self) -> &ProofCache {
        &self.proofs
    }

    /// The bulk path (see [`crate::service::Log::bulk_append`]).
    pub(crate) fn bulk_append(
        &self,
        entries: &[ValidEntry],
        chunk: usize,
    ) -> Result<u64, LogError> {
        let _guard = self
            .commit_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = self.clock.now_secs();
        let mut head = (*self.integrated_head()).clone();
        let parts: Vec<&[ValidEntry]> = entries.chunks(chunk.max(1)).collect();
        for (k, part) in parts.iter().enumerate() {
            let hashes: Vec<Hash> = part.iter().map(|e| e.leaf_hash).collect();
            let existing = self.db.indexes_of_leaves(&hashes)?;
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
            let (h, _) = append(self, &head, &fresh, now, false, last)?;
            head = h;
            self.set_integrated(head.clone());
        }
        Ok(head.size)
    }
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

/// The sequencer loop; ends when the log (the owner of the sequencer and of the queue's
/// sender) is dropped.
pub(crate) async fn run(
    seq: Weak<Sequencer>,
    mut rx: mpsc::Receiver<Pending>,
    arrivals: Arc<Arrivals>,
    max: usize,
    delay: Duration,
) {
    // With witnesses, the stored head may never have been cosigned (first start, or a crash
    // between commit and cosigning): publish it first.
    let witnessed = seq.upgrade().is_some_and(|s| s.witnesses.is_some());
    let mut unpublished = witnessed;
    // At start, an unpublished head is cosigned at once, not after a first idle retry period.
    let mut starting = unpublished;
    loop {
        let first = if std::mem::take(&mut starting) {
            rx.try_recv().ok()
        } else if witnessed {
            // Also when idle: a member that just became the sequencer (distributed mode) may
            // hold a committed head its predecessor never got cosigned.
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
        let Some(seq) = seq.upgrade() else {
            return;
        };
        let mut deliveries = Vec::new();
        if !batch.is_empty() {
            let committer = Arc::clone(&seq);
            match tokio::task::spawn_blocking(move || commit_batch(&committer, batch)).await {
                Ok(d) => deliveries = d,
                Err(e) => tracing::error!(error = %e, "sequencer batch task failed"),
            }
        }
        // Only the member that may write asks witnesses and publishes (distributed mode: the
        // lease holder; a standby or a reader follows what it published).
        if seq.witnesses.is_some() && seq.db.is_writer() {
            let integrated = seq.integrated_head();
            let published = seq.head().ok();
            if unpublished || published.is_none_or(|p| p.size != integrated.size) {
                unpublished = !publish(&seq, &integrated, &mut deliveries).await;
            }
            answer_with_published(&seq, &mut deliveries);
        } else if seq.witnesses.is_some() {
            answer_with_published(&seq, &mut deliveries);
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
async fn publish(
    seq: &Arc<Sequencer>,
    head: &Arc<SignedHead>,
    deliveries: &mut [Delivery],
) -> bool {
    let Some(witnesses) = seq.witnesses.clone() else {
        return true;
    };
    let failed = |error: WitnessError, deliveries: &mut [Delivery]| {
        tracing::error!(error = %error, size = head.size, "checkpoint not published");
        seq.metrics.witness_failure();
        for (_, answer) in deliveries.iter_mut() {
            if matches!(answer, Ok(Outcome::Added { .. })) {
                *answer = Err(LogError::Witness(error.clone()));
            }
        }
        false
    };
    let checkpoint = match witnesses.cosign(&seq.db, head).await {
        Ok(c) => c,
        Err(e) => return failed(e, deliveries),
    };
    let published = Arc::new(SignedHead {
        size: head.size,
        root: head.root,
        checkpoint,
    });
    // The same rule a restart applies to the stored record: never publish what it would
    // refuse.
    if let Err(reason) = witnesses.publishable(&seq.ident, &published) {
        return failed(WitnessError::NotPublishable { reason }, deliveries);
    }
    let db_seq = Arc::clone(seq);
    let stored = Arc::clone(&published);
    let reason = match tokio::task::spawn_blocking(move || db_seq.store_published(&stored)).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(reason) = reason {
        return failed(WitnessError::Store { reason }, deliveries);
    }
    seq.set_head(published);
    true
}

/// With witnesses, a batch's answers carry only the published checkpoint: an added entry
/// inside the published tree gets its inclusion proof against it (the cosigned checkpoint of
/// its own batch, or a later one), an entry beyond it a [`LogError::Witness`] answer (it is
/// stored and published later).
fn answer_with_published(seq: &Sequencer, deliveries: &mut [Delivery]) {
    let published = seq.head().ok();
    for (_, answer) in deliveries.iter_mut() {
        let Ok(Outcome::Added {
            index, proof, head, ..
        }) = answer
        else {
            continue;
        };
        let Some(p) = published.as_ref().filter(|p| *index < p.size) else {
            *answer = Err(LogError::Witness(WitnessError::NotCosignedYet));
            continue;
        };
        if p.size != head.size || p.root != head.root {
            match seq.prove(*index, p) {
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
fn commit_batch(seq: &Sequencer, batch: Vec<Pending>) -> Vec<Delivery> {
    // Monotonic, for the commit-latency metric only.
    let started = Instant::now();
    let n = batch.len();
    let _guard = seq
        .commit_lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (entries, replies): (Vec<ValidEntry>, Vec<_>) =
        batch.into_iter().map(|p| (p.entry, p.reply)).unzip();
    let out = match commit_entries(seq, &entries) {
        Ok(answers) => replies
            .into_iter()
            .zip(answers.into_iter().map(Ok))
            .collect(),
        Err(LogError::Storage(
            e @ (StoreError::Unavailable { .. } | StoreError::NotLeader { .. }),
        )) => {
            // Nothing of the batch was acknowledged; the client retries (503), here or at
            // the sequencer.
            tracing::warn!(error = %e, batch = n, "batch not committed");
            replies
                .into_iter()
                .map(|r| (r, Err(LogError::Storage(e.clone()))))
                .collect()
        }
        Err(e) => {
            tracing::error!(error = %e, batch = n, "batch commit failed");
            replies
                .into_iter()
                .map(|r| (r, Err(LogError::BatchFailed)))
                .collect()
        }
    };
    seq.metrics.batch(
        n,
        started.elapsed().as_secs_f64(),
        seq.head().map_or(0, |h| h.size),
    );
    out
}

fn commit_entries(seq: &Sequencer, entries: &[ValidEntry]) -> Result<Vec<Outcome>, LogError> {
    let head = seq.integrated_head();
    let hashes: Vec<Hash> = entries.iter().map(|e| e.leaf_hash).collect();
    let existing = seq.db.indexes_of_leaves(&hashes)?;
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
    let integrated_time = seq.clock.now_secs();
    let mut proofs: HashMap<u64, Vec<Hash>> = HashMap::new();
    if !fresh.is_empty() {
        match append(seq, &head, &fresh, integrated_time, true, true) {
            Ok((h, tiles)) => {
                new_head = Arc::new(h);
                seq.set_integrated((*new_head).clone());
                let overlay = OverlayReader::new(&seq.db, &tiles);
                let mut prover = BatchProver::new(&overlay, new_head.size);
                for i in head.size..new_head.size {
                    let p = prover.prove(i).map_err(|e| LogError::Merkle {
                        what: format!("inclusion proof for {i}"),
                        reason: e.to_string(),
                    })?;
                    proofs.insert(i, p);
                }
            }
            Err(e) => {
                reload_head(seq);
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

impl Sequencer {
    /// Takes the committed head from the store (distributed mode: after this instance became
    /// the sequencer, or as a reader following the shared store). Holds the commit lock, so
    /// no batch is integrated over the previous head meanwhile. Without witnesses the head is
    /// also published at once; with witnesses only the stored published one is.
    pub(crate) fn reload(&self) -> Result<(), LogError> {
        let _guard = self
            .commit_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // With witnesses, the published record is read first: the store never has it ahead
        // of the head read next.
        let published = match &self.witnesses {
            Some(_) => self.db.published()?,
            None => None,
        };
        let Some(h) = self.db.head()? else {
            return Ok(());
        };
        let current = self.integrated_head();
        if h.size != current.size || h.root != current.root {
            let checkpoint = self
                .db
                .checkpoint(h.size)?
                .ok_or_else(|| LogError::Inconsistent {
                    what: format!("checkpoint for the stored head (size {}) missing", h.size),
                })?;
            self.set_integrated(SignedHead {
                size: h.size,
                root: h.root,
                checkpoint,
            });
        }
        if let (Some(w), Some((p, checkpoint))) = (&self.witnesses, published) {
            self.follow_published(w, h.size, p, checkpoint);
        }
        Ok(())
    }

    /// Serves the published (cosigned) head another member recorded, if it is newer than the
    /// one served, within the committed tree (`committed` leaves) and acceptable to the
    /// witness policy (the rule a start applies); the witnesses learn their sizes from it.
    fn follow_published(&self, w: &Witnesses, committed: u64, p: Head, checkpoint: String) {
        let served = self.head().map_or(None, |h| Some(h.size));
        if served.is_some_and(|s| s >= p.size) || p.size > committed {
            return;
        }
        let head = SignedHead {
            size: p.size,
            root: p.root,
            checkpoint,
        };
        match w.publishable(&self.ident, &head) {
            Ok(_) => {
                w.learn(&head);
                self.set_head(Arc::new(head));
            }
            Err(reason) => {
                tracing::warn!(size = p.size, reason = %reason, "the stored published checkpoint is not acceptable");
            }
        }
    }
}

/// After a failed write: the store is the truth (the write may or may not have landed).
fn reload_head(seq: &Sequencer) {
    match seq.db.head() {
        Ok(Some(h)) if h.size != seq.integrated_head().size => match seq.db.checkpoint(h.size) {
            Ok(Some(checkpoint)) => seq.set_integrated(SignedHead {
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
    seq: &Sequencer,
    head: &SignedHead,
    fresh: &[&ValidEntry],
    integrated_time: u64,
    with_indexes: bool,
    sync: bool,
) -> Result<(SignedHead, TileWrites), LogError> {
    let leaves: Vec<Hash> = fresh.iter().map(|e| e.leaf_hash).collect();
    let integ = integrate(head.size, &leaves, &seq.db).map_err(|e| LogError::Merkle {
        what: format!("integrating {} leaves at size {}", leaves.len(), head.size),
        reason: e.to_string(),
    })?;
    let checkpoint = seq.ident.sign_checkpoint(integ.size, integ.root)?;
    let mut batch = Batch::default();
    write_entries(
        &seq.db,
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
    seq.db.write(&batch, sync)?;
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
        if let Some(t) = &e.predicate_type {
            batch.put(keys::predicate_type(index), t.as_bytes().to_vec());
        }
        if with_indexes {
            for (kind, value) in &e.postings {
                batch.put(keys::index(*kind, value, index), Vec::new());
            }
        }
        if index % 256 == 255 {
            let start = index - 255;
            let mut bundle = Vec::new();
            let mut add = |body: &[u8]| {
                append_bundle_entry(&mut bundle, body).map_err(|err| LogError::Internal {
                    what: "entry bundle",
                    reason: err.to_string(),
                })
            };
            if start < old_size {
                let want = usize::try_from(old_size - start).unwrap_or(usize::MAX);
                let stored = db.entries(start, want)?;
                if stored.len() != want || stored.iter().zip(start..).any(|(s, i)| s.index != i) {
                    return Err(LogError::Inconsistent {
                        what: format!("entries of bundle {} missing from the store", index / 256),
                    });
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
