//! The log service: the [`Log`] object that owns the store, the identity, the sequencer and
//! its queue, and the domain operations the HTTP layer calls, one call per request: submit
//! (validate, count, queue, answer), read entries with proofs, consistency proofs, search,
//! tiles, log info, readiness.
//!
//! Each operation returns a typed result or a [`LogError`] ([`crate::error`]); the HTTP layer
//! only maps them. Wall-clock time comes from the injected [`Clock`].
//!
//! What this module does not do: HTTP (see [`crate::http`]), batching and publication (see
//! [`crate::sequencer`], which the log owns and feeds), CT chain checks (see [`crate::ct`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use signet_proto::bundle::Base64Bytes;
use signet_proto::clock::Clock;
use signet_proto::merkle::{leaf_hash, Hash, EMPTY_ROOT};
use signet_proto::note::{Ed25519NoteSigner, RekorNoteSigner};
use signet_proto::rekor::{
    HexBytes, LogEntry, LogEntryAnon, LogEntryVerification, LogInfo, RekorInclusionProof,
    SearchIndex, SearchKeyFormat, SearchLogQuery, SearchOperator,
};
use signet_proto::tiles::{parse_tile_path, tile_width, TilePath};
use tokio::sync::{mpsc, oneshot};

use crate::config::LogConfig;
use crate::entries::{parse_signer, validate_proposed, ValidEntry};
use crate::error::{EntryError, QueryError};
use crate::frozen::FrozenShard;
use crate::limits::{MAX_RETRIEVE, MAX_RETRIEVE_ENTRIES};
use crate::metrics::{EntryResult, Metrics};
use crate::sequencer::{self, Arrivals, Pending, Sequencer};
use crate::signing::LogKeys;
use crate::storage::{keys, Batch, Head, IndexKind, LogDb};
use crate::witness::Witnesses;

pub use crate::error::LogError;
pub use crate::head::SignedHead;
pub use crate::identity::Identity;
pub use crate::limits::MAX_ENTRY_BYTES;
pub use crate::sequencer::Outcome;

/// Maps a Merkle computation's error, naming `what` was computed.
fn merkle<E: std::fmt::Display>(what: String) -> impl FnOnce(E) -> LogError {
    move |e| LogError::Merkle {
        what,
        reason: e.to_string(),
    }
}

/// `v` as the signed integer Rekor's JSON carries.
fn to_i64(what: &'static str, v: u64) -> Result<i64, LogError> {
    i64::try_from(v).map_err(|_| LogError::OutOfRange { what, value: v })
}

/// Appends lowercase hex of `bytes`.
fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    out.resize(start + bytes.len() * 2, 0);
    // The slice has exactly twice the input's length, so this cannot fail.
    let _ = hex::encode_to_slice(bytes, &mut out[start..]);
}

/// The JSON of `{"<uuid>": LogEntryAnon}` for a just-added entry, written directly; the same
/// bytes `serde_json` writes for the [`Log::entry_json`] map (checked by a test).
#[allow(clippy::too_many_arguments)]
fn write_added_entry(
    uuid: &str,
    (global, index): (u64, u64),
    integrated_time: u64,
    body_b64: &str,
    log_id: &[u8; 32],
    proof: &[Hash],
    head: &SignedHead,
    set: &[u8],
) -> Result<Vec<u8>, LogError> {
    use base64::Engine as _;
    let (global, index, time, size) = (
        to_i64("logIndex", global)?,
        to_i64("logIndex", index)?,
        to_i64("integratedTime", integrated_time)?,
        to_i64("treeSize", head.size)?,
    );
    let json = |e: serde_json::Error| LogError::Internal {
        what: "writing the entry JSON",
        reason: e.to_string(),
    };
    let mut out =
        Vec::with_capacity(body_b64.len() + head.checkpoint.len() + proof.len() * 67 + 512);
    out.extend_from_slice(b"{");
    serde_json::to_writer(&mut out, uuid).map_err(json)?;
    out.extend_from_slice(b":{\"body\":\"");
    out.extend_from_slice(body_b64.as_bytes());
    out.extend_from_slice(b"\",\"integratedTime\":");
    out.extend_from_slice(time.to_string().as_bytes());
    out.extend_from_slice(b",\"logID\":\"");
    push_hex(&mut out, log_id);
    out.extend_from_slice(b"\",\"logIndex\":");
    out.extend_from_slice(global.to_string().as_bytes());
    out.extend_from_slice(b",\"verification\":{\"inclusionProof\":{\"checkpoint\":");
    serde_json::to_writer(&mut out, &head.checkpoint).map_err(json)?;
    out.extend_from_slice(b",\"hashes\":[");
    for (i, h) in proof.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        push_hex(&mut out, h);
        out.push(b'"');
    }
    out.extend_from_slice(b"],\"logIndex\":");
    out.extend_from_slice(index.to_string().as_bytes());
    out.extend_from_slice(b",\"rootHash\":\"");
    push_hex(&mut out, &head.root);
    out.extend_from_slice(b"\",\"treeSize\":");
    out.extend_from_slice(size.to_string().as_bytes());
    out.extend_from_slice(b"},\"signedEntryTimestamp\":\"");
    let mut set_b64 = String::with_capacity(set.len() * 4 / 3 + 4);
    base64::engine::general_purpose::STANDARD.encode_string(set, &mut set_b64);
    out.extend_from_slice(set_b64.as_bytes());
    out.extend_from_slice(b"\"}}}");
    Ok(out)
}

/// The answer to `POST /api/v1/log/entries` ([`Log::create_entry`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Created {
    /// Appended (201): the `{"<uuid>": LogEntryAnon}` JSON with the inclusion proof and SET.
    Added {
        /// The entry UUID (hex leaf hash).
        uuid: String,
        /// The JSON body of the answer.
        json: Vec<u8>,
    },
    /// An identical entry is already in the log (Rekor answers 409).
    Duplicate {
        /// The entry UUID (hex leaf hash).
        uuid: String,
        /// The log index of the existing entry.
        index: u64,
    },
}

/// A tile or entry bundle read by [`Log::tile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    /// The bytes (a hash tile truncated to the width asked).
    pub data: Vec<u8>,
    /// Whether it is full (256 wide), hence immutable and cacheable for ever.
    pub full: bool,
}

/// Whether the log can serve ([`Log::readiness`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Readiness {
    /// The store answers and a checkpoint is published.
    Ready,
    /// With witnesses: no checkpoint has been cosigned by the quorum yet.
    Unpublished,
    /// The store has no tree head.
    NoTreeHead,
    /// The store does not answer (the error is logged).
    StorageUnavailable,
}

/// A frozen shard opened read-only.
#[derive(Debug, Clone)]
pub struct FrozenLog {
    /// The shard as recorded.
    pub record: FrozenShard,
    /// Its log (read-only).
    pub log: Arc<Log>,
    /// The global index of its first entry.
    pub offset: u64,
}

/// A running log.
pub struct Log {
    pub(crate) db: LogDb,
    pub(crate) ident: Arc<Identity>,
    /// The heads, the commit path and publication; fed through `queue`.
    seq: Arc<Sequencer>,
    queue: mpsc::Sender<Pending>,
    pub(crate) arrivals: Arc<Arrivals>,
    pub(crate) metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    pub(crate) retry_after_secs: u64,
    pub(crate) max_body_bytes: usize,
    /// The global index of this tree's first entry (the size of the frozen shards before it).
    offset: AtomicU64,
    /// A frozen shard: no writes.
    read_only: AtomicBool,
    /// The active log's frozen shards, oldest first ([`Log::attach_shards`]).
    shards: OnceLock<Vec<FrozenLog>>,
    /// A Rekor v2 log's log ID in base64, computed on first use (`v2::log_id`).
    pub(crate) v2_log_id: OnceLock<String>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("ident", &self.ident)
            .finish_non_exhaustive()
    }
}

/// Loads PEM certificates (one or more per file) as DER.
///
/// # Errors
/// [`LogError::CtRoots`] naming the file if it is unreadable or holds no certificate.
pub fn load_ct_roots(paths: &[std::path::PathBuf]) -> Result<Vec<Vec<u8>>, LogError> {
    let mut out = Vec::new();
    for p in paths {
        let bad = |reason: String| LogError::CtRoots {
            path: p.clone(),
            reason,
        };
        let text = std::fs::read(p).map_err(|e| bad(e.to_string()))?;
        let pems = pem::parse_many(&text).map_err(|e| bad(e.to_string()))?;
        let n = out.len();
        out.extend(
            pems.into_iter()
                .filter(|p| p.tag() == "CERTIFICATE")
                .map(pem::Pem::into_contents),
        );
        if out.len() == n {
            return Err(bad("no CERTIFICATE".into()));
        }
    }
    Ok(out)
}

/// With witnesses: the head to serve at start. The durable published checkpoint (`M
/// published`) when the current policy still accepts it; for a store written before that
/// record existed, the stored checkpoint of the committed head if it carries the quorum (it
/// is then recorded as published); otherwise none, and nothing is served until the sequencer
/// gets the committed head cosigned.
fn initial_published(
    db: &LogDb,
    ident: &Identity,
    witnesses: &Witnesses,
    committed: &SignedHead,
) -> Result<Option<SignedHead>, LogError> {
    let candidate = match db.published()? {
        Some((h, checkpoint)) => Some((h.size, h.root, checkpoint, true)),
        None => db
            .checkpoint(committed.size)?
            .map(|c| (committed.size, committed.root, c, false)),
    };
    let Some((size, root, checkpoint, recorded)) = candidate else {
        return Ok(None);
    };
    if size > committed.size {
        return Err(LogError::Inconsistent {
            what: format!(
                "the published checkpoint (size {size}) is ahead of the committed tree (size {})",
                committed.size
            ),
        });
    }
    let head = SignedHead {
        size,
        root,
        checkpoint,
    };
    if let Err(reason) = witnesses.publishable(ident, &head) {
        tracing::warn!(
            size,
            reason = %reason,
            "the stored checkpoint cannot be published; waiting for a cosigned one"
        );
        return Ok(None);
    }
    if !recorded {
        let mut batch = Batch::default();
        batch.put(
            keys::PUBLISHED.to_vec(),
            LogDb::published_value(&Head { size, root }, &head.checkpoint),
        );
        db.write(&batch, true)?;
    }
    Ok(Some(head))
}

/// The committed head of `db`, signing (and storing) a checkpoint for the empty tree of a
/// fresh store, or re-signing the stored head under a new public name.
fn committed_head(db: &LogDb, ident: &Identity) -> Result<SignedHead, LogError> {
    let Some(h) = db.head()? else {
        let checkpoint = ident.sign_checkpoint(0, EMPTY_ROOT)?;
        let head = Head {
            size: 0,
            root: EMPTY_ROOT,
        };
        let mut batch = Batch::default();
        batch.put(keys::checkpoint(0), checkpoint.clone().into_bytes());
        batch.put(keys::HEAD.to_vec(), LogDb::head_value(&head));
        db.write(&batch, true)?;
        return Ok(SignedHead {
            size: 0,
            root: EMPTY_ROOT,
            checkpoint,
        });
    };
    let stored = db.checkpoint(h.size)?;
    let checkpoint = match stored {
        Some(c) if c.lines().next() == Some(ident.origin.as_str()) => c,
        _ => {
            // New public name (or missing text): re-sign the same tree head.
            let c = ident.sign_checkpoint(h.size, h.root)?;
            let mut batch = Batch::default();
            batch.put(keys::checkpoint(h.size), c.clone().into_bytes());
            db.write(&batch, true)?;
            c
        }
    };
    Ok(SignedHead {
        size: h.size,
        root: h.root,
        checkpoint,
    })
}

impl Log {
    /// Opens the log over `db` and starts its sequencer task on the current tokio runtime.
    ///
    /// `public_host` (`host:port`) names the checkpoint signer and origin. A fresh store gets
    /// a random tree id and a signed checkpoint for the empty tree. With a witness policy the
    /// head served first is the durable published one (see [`LogDb::published`]), or none
    /// until the sequencer gets a checkpoint cosigned. `clock` gives every wall-clock time the
    /// log writes (integration times, SCT timestamps): `SystemClock` in servers.
    ///
    /// # Errors
    /// Storage or signing failures; [`LogError::WitnessPolicy`] for an unusable witness policy
    /// (nothing is written then).
    ///
    /// # Panics
    /// If called outside a tokio runtime.
    pub fn start(
        db: LogDb,
        keys: LogKeys,
        public_host: &str,
        ct_roots: Vec<Vec<u8>>,
        cfg: &LogConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, LogError> {
        // The witness policy is checked before anything is written: the log's own keys (its
        // checkpoint signers) may not be listed as witnesses.
        let witnesses = match &cfg.witness_policy {
            Some(path) => Some(Arc::new(Witnesses::load(
                path,
                Duration::from_millis(cfg.witness_timeout_ms),
                &[keys.log.public_key(), keys.witness.public_key()],
            )?)),
            None => None,
        };
        let tree_id = if let Some(t) = db.tree_id()? {
            to_i64("tree id", t)?
        } else {
            let mut b = [0u8; 8];
            aws_lc_rs::rand::fill(&mut b).map_err(|e| LogError::Internal {
                what: "drawing a tree id",
                reason: e.to_string(),
            })?;
            let t = u64::from_be_bytes(b) >> 1;
            let mut batch = Batch::default();
            batch.put(keys::TREE_ID.to_vec(), t.to_be_bytes().to_vec());
            db.write(&batch, true)?;
            to_i64("tree id", t)?
        };
        let origin = if cfg.rekor_v2 {
            public_host.to_owned()
        } else {
            format!("{public_host} - {tree_id}")
        };
        let note_err = |e: signet_proto::note::VKeyError| LogError::Internal {
            what: "note signer",
            reason: e.to_string(),
        };
        let ident = Arc::new(Identity {
            name: public_host.to_string(),
            origin,
            tree_id,
            log_id: keys.log.public_key().key_id(),
            rekor_note: RekorNoteSigner::ecdsa(public_host, keys.log.clone()).map_err(note_err)?,
            ed_note: Ed25519NoteSigner::new(public_host, keys.witness.clone()).map_err(note_err)?,
            rekor_line: !cfg.rekor_v2,
            log_key: keys.log,
            ct_key: keys.ct,
            ct_roots,
        });
        let head = Arc::new(committed_head(&db, &ident)?);
        // What readers see first: without witnesses the committed head; with witnesses the
        // durable published checkpoint, never the committed head on its own (a crash between
        // committing and cosigning leaves it uncosigned).
        let published = match &witnesses {
            None => Some(Arc::clone(&head)),
            Some(w) => initial_published(&db, &ident, w, &head)?.map(|p| {
                w.learn(&p);
                Arc::new(p)
            }),
        };
        let metrics = if cfg.rekor_v2 {
            Metrics::rekor_v2()
        } else {
            Metrics::standalone()
        };
        let metrics = Arc::new(metrics.map_err(|e| LogError::Internal {
            what: "metrics registry",
            reason: e.to_string(),
        })?);
        let seq = Arc::new(Sequencer::new(
            db.clone(),
            Arc::clone(&ident),
            witnesses,
            Arc::clone(&metrics),
            Arc::clone(&clock),
            head,
            published,
        ));
        let (tx, rx) = mpsc::channel(cfg.queue_capacity);
        let arrivals = Arc::new(Arrivals::default());
        tokio::spawn(sequencer::run(
            Arc::downgrade(&seq),
            rx,
            Arc::clone(&arrivals),
            cfg.batch_max_entries,
            Duration::from_millis(cfg.batch_max_delay_ms),
        ));
        Ok(Arc::new(Self {
            db,
            ident,
            seq,
            queue: tx,
            arrivals,
            metrics,
            clock,
            retry_after_secs: cfg.retry_after_secs,
            max_body_bytes: cfg.max_body_bytes,
            offset: AtomicU64::new(0),
            read_only: AtomicBool::new(false),
            shards: OnceLock::new(),
            v2_log_id: OnceLock::new(),
        }))
    }

    /// Makes this log a frozen shard whose first entry has global index `offset`: it refuses
    /// writes ([`LogError::Frozen`]) and answers with global indexes.
    pub fn freeze(&self, offset: u64) {
        self.offset.store(offset, Ordering::SeqCst);
        self.read_only.store(true, Ordering::SeqCst);
    }

    /// Gives the active log its frozen shards (oldest first, as [`crate::shards::open_frozen`]
    /// opens them): its indexes then start after theirs, and reads by global index, UUID or
    /// search reach them too.
    ///
    /// # Errors
    /// [`LogError::Internal`] if shards were attached already.
    pub fn attach_shards(&self, frozen: Vec<FrozenLog>) -> Result<(), LogError> {
        let offset = frozen.iter().map(|f| f.record.size).sum();
        self.shards.set(frozen).map_err(|_| LogError::Internal {
            what: "attaching shards",
            reason: "attached already".into(),
        })?;
        self.offset.store(offset, Ordering::SeqCst);
        Ok(())
    }

    /// The global index of this tree's first entry.
    #[must_use]
    pub fn index_offset(&self) -> u64 {
        self.offset.load(Ordering::SeqCst)
    }

    /// The frozen shards (oldest first) of the active log; empty for a frozen one.
    #[must_use]
    pub fn frozen_shards(&self) -> &[FrozenLog] {
        self.shards.get().map_or(&[], Vec::as_slice)
    }

    /// Whether this log is a frozen shard.
    #[must_use]
    pub fn is_frozen(&self) -> bool {
        self.read_only.load(Ordering::SeqCst)
    }

    /// The global index of local index `index`.
    fn global(&self, index: u64) -> u64 {
        self.index_offset() + index
    }

    /// The published head: the newest checkpoint readers may see. With witnesses it carries
    /// the quorum's cosignatures.
    ///
    /// # Errors
    /// [`LogError::Unpublished`] with witnesses, until a checkpoint has been cosigned.
    pub fn head(&self) -> Result<Arc<SignedHead>, LogError> {
        self.seq.head()
    }

    /// The newest tree head committed to the store; ahead of [`Log::head`] only while its
    /// checkpoint waits for witness cosignatures.
    #[must_use]
    pub fn integrated_head(&self) -> Arc<SignedHead> {
        self.seq.integrated_head()
    }

    /// Re-reads the committed head from the store and serves it (distributed mode: a reader
    /// following the shared store, or a standby that just became the sequencer).
    ///
    /// # Errors
    /// Storage errors; [`LogError::Inconsistent`] if the head's checkpoint is missing.
    pub fn reload_from_store(&self) -> Result<(), LogError> {
        self.seq.reload()
    }

    /// The identity (keys, names).
    #[must_use]
    pub fn identity(&self) -> &Identity {
        &self.ident
    }

    /// The store.
    #[must_use]
    pub fn db(&self) -> &LogDb {
        &self.db
    }

    /// The metrics.
    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The clock the log reads wall-clock time from.
    #[must_use]
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// Entries waiting for the sequencer.
    #[must_use]
    pub fn queue_depth(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Makes this log's `GET /metrics` answer `other`'s series too (a Rekor v2 log's, labelled
    /// `api="v2"`, beside this v1 log's).
    pub fn link_metrics(&self, other: &Arc<Log>) {
        let weak = Arc::downgrade(other);
        self.metrics.link(
            other.metrics.as_ref().clone(),
            Arc::new(move || weak.upgrade().map_or(0, |l| l.queue_depth())),
        );
    }

    /// The Prometheus text of the log's metrics (`GET /metrics`).
    #[must_use]
    pub fn render_metrics(&self) -> String {
        self.metrics.render(self.queue_depth())
    }

    /// Whether the log can serve (`GET /readyz`): the store answers and a checkpoint is
    /// published (with witnesses, only once the quorum has cosigned one).
    #[must_use]
    pub fn readiness(&self) -> Readiness {
        match self.db.head() {
            Ok(Some(_)) if self.head().is_err() => Readiness::Unpublished,
            Ok(Some(_)) => Readiness::Ready,
            Ok(None) => Readiness::NoTreeHead,
            Err(e) => {
                tracing::error!(error = %e, "readiness check failed");
                Readiness::StorageUnavailable
            }
        }
    }

    /// Queues a validated entry and waits for its batch to be committed.
    ///
    /// # Errors
    /// [`LogError::Pushback`] when the queue is full; storage errors of the batch.
    pub async fn submit(&self, entry: ValidEntry) -> Result<Outcome, LogError> {
        self.submit_arriving(entry, None).await
    }

    /// [`Log::submit`] for a request marked with [`Arrivals::arriving`]: the mark is dropped
    /// once the entry is queued (or refused).
    pub(crate) async fn submit_arriving(
        &self,
        entry: ValidEntry,
        arriving: Option<sequencer::ArrivalGuard>,
    ) -> Result<Outcome, LogError> {
        if self.is_frozen() {
            return Err(LogError::Frozen {
                tree_id: self.ident.tree_id,
            });
        }
        if entry.body.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::BodyTooLarge {
                bytes: entry.body.len(),
                limit: MAX_ENTRY_BYTES,
            }
            .into());
        }
        let (tx, rx) = oneshot::channel();
        match self.queue.try_send(Pending {
            entry,
            reply: tx,
            // Monotonic: the batch deadline only.
            enqueued: tokio::time::Instant::now(),
        }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.metrics.entry(EntryResult::Pushback);
                return Err(LogError::Pushback);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(LogError::Shutdown),
        }
        drop(arriving);
        let out = rx.await.map_err(|_| LogError::Shutdown)??;
        self.metrics.entry(match out {
            Outcome::Added { .. } => EntryResult::Added,
            Outcome::Duplicate { .. } => EntryResult::Duplicate,
        });
        Ok(out)
    }

    /// `POST /api/v1/log/entries`: validates the proposed entry `body` (counted as rejected
    /// when invalid), queues it, and once its batch is committed builds the answer.
    ///
    /// # Errors
    /// [`LogError::Entry`] for an invalid entry; errors of [`Log::submit`]; signing errors.
    pub async fn create_entry(&self, body: &[u8]) -> Result<Created, LogError> {
        let arriving = self.arrivals.arriving();
        let entry = validate_proposed(body).inspect_err(|_| {
            self.metrics.entry(EntryResult::Rejected);
        })?;
        let uuid = hex::encode(entry.leaf_hash);
        let body = entry.body.clone();
        match self.submit_arriving(entry, Some(arriving)).await? {
            Outcome::Added {
                index,
                integrated_time,
                proof,
                head,
            } => {
                let json =
                    self.added_entry_response(&uuid, index, integrated_time, &body, &proof, &head)?;
                Ok(Created::Added { uuid, json })
            }
            Outcome::Duplicate { index } => Ok(Created::Duplicate {
                uuid,
                index: self.global(index),
            }),
        }
    }

    /// The bulk path for building large trees quickly (benchmarks, imports): appends
    /// `entries` in chunks of `chunk` leaves, each chunk one unsynced batch with one signed
    /// checkpoint, without search postings, then syncs the last one. Not for serving traffic:
    /// it bypasses the queue (it takes the commit lock, so it is safe next to a running
    /// sequencer). Returns the new tree size.
    ///
    /// # Errors
    /// Storage or signing errors.
    pub fn bulk_append(&self, entries: &[ValidEntry], chunk: usize) -> Result<u64, LogError> {
        self.seq.bulk_append(entries, chunk)
    }

    /// Builds the Rekor `LogEntryAnon` for a stored or just-committed entry.
    ///
    /// # Errors
    /// Signing failure.
    pub fn entry_json(
        &self,
        index: u64,
        integrated_time: u64,
        body: &[u8],
        proof: &[Hash],
        head: &SignedHead,
    ) -> Result<LogEntryAnon, LogError> {
        let global = self.global(index);
        let set = self.ident.sign_set(body, integrated_time, global)?;
        Ok(LogEntryAnon {
            body: Base64Bytes(body.to_vec()),
            integrated_time: to_i64("integratedTime", integrated_time)?,
            log_id: HexBytes(self.ident.log_id.to_vec()),
            log_index: to_i64("logIndex", global)?,
            attestation: None,
            verification: Some(LogEntryVerification {
                inclusion_proof: Some(RekorInclusionProof {
                    checkpoint: head.checkpoint.clone(),
                    hashes: proof.iter().map(|h| HexBytes(h.to_vec())).collect(),
                    log_index: to_i64("logIndex", index)?,
                    root_hash: HexBytes(head.root.to_vec()),
                    tree_size: to_i64("treeSize", head.size)?,
                }),
                signed_entry_timestamp: Some(Base64Bytes(set)),
            }),
        })
    }

    /// The JSON body of the 201 answer to `POST /api/v1/log/entries` for a just-added entry:
    /// `{"<uuid>": LogEntryAnon}` with the inclusion proof against `head` and a fresh SET
    /// (the same document as serializing [`Log::entry_json`]'s entry under `uuid`, written
    /// without the intermediate structs).
    ///
    /// # Errors
    /// Signing failure or out-of-range integers.
    pub fn added_entry_response(
        &self,
        uuid: &str,
        index: u64,
        integrated_time: u64,
        body: &[u8],
        proof: &[Hash],
        head: &SignedHead,
    ) -> Result<Vec<u8>, LogError> {
        use base64::Engine as _;
        let body_b64 = base64::engine::general_purpose::STANDARD.encode(body);
        let global = self.global(index);
        let set = self
            .ident
            .sign_set_b64(&body_b64, integrated_time, global)?;
        write_added_entry(
            uuid,
            (global, index),
            integrated_time,
            &body_b64,
            &self.ident.log_id,
            proof,
            head,
            &set,
        )
    }

    /// `GET /api/v1/log`: the published head and the tree id.
    ///
    /// # Errors
    /// [`LogError::Unpublished`] before a checkpoint is published.
    pub fn log_info(&self) -> Result<LogInfo, LogError> {
        let head = self.head()?;
        Ok(LogInfo {
            root_hash: HexBytes(head.root.to_vec()),
            tree_size: to_i64("tree size", head.size)?,
            signed_tree_head: head.checkpoint.clone(),
            tree_id: self.ident.tree_id.to_string(),
            inactive_shards: self
                .frozen_shards()
                .iter()
                .map(|f| {
                    Ok(signet_proto::rekor::InactiveShardLogInfo {
                        root_hash: HexBytes(hex::decode(&f.record.root).map_err(|e| {
                            LogError::Inconsistent {
                                what: format!("frozen shard root {}: {e}", f.record.root),
                            }
                        })?),
                        tree_size: to_i64("tree size", f.record.size)?,
                        signed_tree_head: f.record.checkpoint.clone(),
                        tree_id: f.record.tree_id.to_string(),
                    })
                })
                .collect::<Result<_, LogError>>()?,
        })
    }

    /// The shard holding global index `index` and the index within it: a frozen shard or
    /// this log.
    fn shard_of(&self, index: u64) -> (&Self, u64) {
        for f in self.frozen_shards() {
            if index >= f.offset && index - f.offset < f.record.size {
                return (&f.log, index - f.offset);
            }
        }
        (self, index.saturating_sub(self.index_offset()))
    }

    /// Entry `index` (a global index, across shards) with an inclusion proof against its
    /// shard's newest checkpoint and a SET. Returns the entry UUID (hex leaf hash) and the
    /// entry.
    ///
    /// # Errors
    /// [`LogError::IndexNotInTree`] if `index` is not in the log; storage errors.
    pub fn entry_by_index(&self, index: u64) -> Result<(String, LogEntryAnon), LogError> {
        if index < self.index_offset() && !self.is_frozen() {
            let (shard, local) = self.shard_of(index);
            return shard.entry_by_local_index(local);
        }
        let Some(local) = index.checked_sub(self.index_offset()) else {
            return Err(LogError::IndexNotInTree {
                index,
                size: self.global(self.head()?.size),
            });
        };
        self.entry_by_local_index(local).map_err(|e| match e {
            LogError::IndexNotInTree { size, .. } => LogError::IndexNotInTree {
                index,
                size: self.global(size),
            },
            e => e,
        })
    }

    /// Entry `index` of this tree (not a global index).
    fn entry_by_local_index(&self, index: u64) -> Result<(String, LogEntryAnon), LogError> {
        let head = self.head()?;
        if index >= head.size {
            return Err(LogError::IndexNotInTree {
                index,
                size: head.size,
            });
        }
        let e = self
            .db
            .entry(index)?
            .ok_or_else(|| LogError::Inconsistent {
                what: format!("entry {index} missing below tree size {}", head.size),
            })?;
        let proof = self.prove(index, &head)?;
        let uuid = hex::encode(leaf_hash(&e.body));
        Ok((
            uuid,
            self.entry_json(index, e.integrated_time, &e.body, &proof, &head)?,
        ))
    }

    /// The entry with UUID or entry ID `uuid` (see [`Log::index_of_uuid`]), as
    /// [`Log::entry_by_index`] returns it.
    ///
    /// # Errors
    /// As [`Log::index_of_uuid`] and [`Log::entry_by_index`].
    pub fn entry_by_uuid(&self, uuid: &str) -> Result<(String, LogEntryAnon), LogError> {
        let (shard, index) = self.locate_uuid(uuid)?;
        shard.entry_by_local_index(index)
    }

    /// The shard (this log or a frozen one) holding the entry with UUID or entry ID `uuid`,
    /// and its index there: an entry ID names its tree; a bare UUID is looked up in this
    /// tree, then in the frozen shards, newest first.
    fn locate_uuid(&self, uuid: &str) -> Result<(&Self, u64), LogError> {
        let mut first_err = match self.index_of_uuid(uuid) {
            Ok(i) => return Ok((self, i)),
            Err(e @ (LogError::OtherTree { .. } | LogError::NoSuchEntry { .. })) => e,
            Err(e) => return Err(e),
        };
        for f in self.frozen_shards().iter().rev() {
            match f.log.index_of_uuid(uuid) {
                Ok(i) => return Ok((&f.log, i)),
                Err(LogError::OtherTree { .. }) => {}
                Err(e @ LogError::NoSuchEntry { .. }) => first_err = e,
                Err(e) => return Err(e),
            }
        }
        Err(first_err)
    }

    /// Inclusion proof of `index` against `head`.
    ///
    /// # Errors
    /// [`LogError::Merkle`] (a missing tile).
    pub fn prove(&self, index: u64, head: &SignedHead) -> Result<Vec<Hash>, LogError> {
        self.seq.prove(index, head)
    }

    /// [`Log::prove`] without the tile-interior cache: the same proof, every node rehashed
    /// from its tile (for tests and the benchmark's comparison).
    ///
    /// # Errors
    /// As [`Log::prove`].
    pub fn prove_uncached(&self, index: u64, head: &SignedHead) -> Result<Vec<Hash>, LogError> {
        self.seq.prove_uncached(index, head)
    }

    /// Bytes and tiles held by the tile-interior cache behind [`Log::prove`].
    #[must_use]
    pub fn proof_cache_usage(&self) -> (usize, usize) {
        let c = self.seq.proof_cache();
        (c.bytes(), c.len())
    }

    /// Looks up an entry UUID (64 hex) or entry ID (16 hex tree id + 64 hex).
    ///
    /// # Errors
    /// [`LogError::Query`] for malformed text; [`LogError::OtherTree`] or
    /// [`LogError::NoSuchEntry`] if absent.
    pub fn index_of_uuid(&self, uuid: &str) -> Result<u64, LogError> {
        let not_hex = || QueryError::EntryIdNotHex { id: uuid.into() };
        // Checked first: every later step slices the text at byte offsets.
        if !uuid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_hex().into());
        }
        let hexpart = match uuid.len() {
            64 => uuid,
            80 => {
                let mut tree = [0u8; 8];
                hex::decode_to_slice(&uuid[..16], &mut tree).map_err(|_| not_hex())?;
                if i64::from_be_bytes(tree) != self.ident.tree_id {
                    return Err(LogError::OtherTree { id: uuid.into() });
                }
                &uuid[16..]
            }
            len => return Err(QueryError::EntryIdLength { len }.into()),
        };
        let mut leaf = [0u8; 32];
        hex::decode_to_slice(hexpart, &mut leaf).map_err(|_| not_hex())?;
        let no_such = || LogError::NoSuchEntry { uuid: uuid.into() };
        let index = self.db.index_of_leaf(&leaf)?.ok_or_else(no_such)?;
        if index >= self.head()?.size {
            return Err(no_such());
        }
        Ok(index)
    }

    /// Consistency proof between `first` and `last` (`last` defaults to the current size),
    /// with the root at `last`.
    ///
    /// # Errors
    /// [`LogError::Query`] for sizes out of range.
    pub fn consistency(
        &self,
        first: u64,
        last: Option<u64>,
    ) -> Result<(Hash, Vec<Hash>), LogError> {
        let head = self.head()?;
        let last = last.unwrap_or(head.size);
        if last > head.size {
            return Err(QueryError::LastSizeBeyondTree {
                last,
                size: head.size,
            }
            .into());
        }
        if first > last {
            return Err(QueryError::FirstAfterLast { first, last }.into());
        }
        if first == 0 {
            return Err(QueryError::FirstSizeZero.into());
        }
        let root = signet_proto::merkle::tree_root(last, &self.db)
            .map_err(merkle(format!("root at size {last}")))?;
        let proof = signet_proto::merkle::prove_consistency_cached(
            first,
            last,
            &self.db,
            self.seq.proof_cache(),
        )
        .map_err(merkle(format!("consistency proof {first} -> {last}")))?;
        Ok((root, proof))
    }

    /// Every entry index posted under `(kind, value)` within the current tree.
    ///
    /// # Errors
    /// Storage errors.
    pub fn search(&self, kind: IndexKind, value: &[u8]) -> Result<Vec<u64>, LogError> {
        let size = self.head()?.size;
        Ok(self
            .db
            .search(kind, value)?
            .into_iter()
            .filter(|i| *i < size)
            .collect())
    }

    /// `POST /api/v1/log/entries/retrieve`: the entries named by UUID, entry ID, log index or
    /// proposed entry (validated, signature checks included), each once, in the order first
    /// asked. Names of entries not in the tree are skipped.
    ///
    /// # Errors
    /// [`LogError::Query`] for too many items, a negative index, a malformed UUID;
    /// [`LogError::Entry`] for an invalid proposed entry.
    pub fn retrieve(&self, q: &SearchLogQuery) -> Result<Vec<LogEntry>, LogError> {
        if q.entry_uuids.len() + q.log_indexes.len() + q.entries.len() > MAX_RETRIEVE {
            return Err(QueryError::TooManyItems { max: MAX_RETRIEVE }.into());
        }
        if q.entries.len() > MAX_RETRIEVE_ENTRIES {
            return Err(QueryError::TooManyEntries {
                max: MAX_RETRIEVE_ENTRIES,
            }
            .into());
        }
        // Global indexes throughout.
        let size = self.global(self.head()?.size);
        let mut indexes = Vec::new();
        for u in &q.entry_uuids {
            match self.locate_uuid(u) {
                Ok((shard, i)) => indexes.push(shard.global(i)),
                Err(LogError::OtherTree { .. } | LogError::NoSuchEntry { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        for i in &q.log_indexes {
            let i = u64::try_from(*i).map_err(|_| QueryError::NegativeLogIndex)?;
            if i < size {
                indexes.push(i);
            }
        }
        let mut proposed: Vec<Vec<u8>> = Vec::with_capacity(q.entries.len());
        for e in &q.entries {
            let json = serde_json::to_vec(e).map_err(|e| QueryError::ProposedEntry {
                reason: e.to_string(),
            })?;
            // The same proposed entry twice is validated (signature checks) once.
            if proposed.contains(&json) {
                continue;
            }
            let v = validate_proposed(&json)?;
            proposed.push(json);
            for shard in std::iter::once(self).chain(self.frozen_shards().iter().map(|f| &*f.log)) {
                if let Some(i) = shard.db.index_of_leaf(&v.leaf_hash)? {
                    if i < shard.head()?.size {
                        indexes.push(shard.global(i));
                    }
                }
            }
        }
        // One answer (one SET signed) per distinct entry, in the order first asked: an index,
        // UUID, entry ID (any case) or proposed entry repeated, or one entry named several
        // ways, is answered once. Rekor (pkg/api/entries.go SearchLogQueryHandler) answers one
        // item per item asked, repeats included; the shape is the same array of
        // `{uuid: entry}` maps.
        let mut seen = std::collections::HashSet::with_capacity(indexes.len());
        indexes.retain(|i| seen.insert(*i));
        let mut out = Vec::with_capacity(indexes.len());
        for i in indexes {
            let (uuid, e) = self.entry_by_index(i)?;
            let mut map = LogEntry::new();
            map.insert(uuid, e);
            out.push(map);
        }
        Ok(out)
    }

    /// `POST /api/v1/index/retrieve`: the UUIDs of the entries matching the query's criteria
    /// (artifact hash, public key, email, subject), combined with `or` (default) or `and`,
    /// in log order.
    ///
    /// # Errors
    /// [`LogError::Query`] for a malformed or empty query; [`LogError::Entry`] for a public
    /// key that does not parse.
    pub fn search_index(&self, q: &SearchIndex) -> Result<Vec<String>, LogError> {
        let mut uuids = Vec::new();
        for f in self.frozen_shards() {
            uuids.extend(f.log.search_index(q)?);
        }
        uuids.extend(self.search_index_here(q)?);
        Ok(uuids)
    }

    /// [`Log::search_index`] within this tree.
    fn search_index_here(&self, q: &SearchIndex) -> Result<Vec<String>, LogError> {
        let mut sets: Vec<Vec<u64>> = Vec::new();
        if let Some(h) = &q.hash {
            sets.push(match search_hash(h)? {
                Some((kind, hexd)) => self.search(kind, hexd.as_bytes())?,
                // A SHA-1 digest: allowed by the pattern, indexed by no entry kind here.
                None => Vec::new(),
            });
        }
        if let Some(pk) = &q.public_key {
            if pk.format != SearchKeyFormat::X509 {
                return Err(QueryError::KeyFormat.into());
            }
            let content = pk.content.as_ref().ok_or(QueryError::KeyContentMissing)?;
            let signer = parse_signer(content.as_slice())?;
            sets.push(self.search(IndexKind::PublicKey, &signer.key.key_id())?);
        }
        if let Some(email) = &q.email {
            sets.push(self.search(IndexKind::EmailLower, email.to_lowercase().as_bytes())?);
        }
        if let Some(subject) = &q.subject {
            sets.push(self.search(IndexKind::Identity, subject.as_bytes())?);
        }
        let Some((first, rest)) = sets.split_first() else {
            return Err(QueryError::NoCriteria.into());
        };
        let and = q.operator == Some(SearchOperator::And);
        let mut result: Vec<u64> = first.clone();
        for s in rest {
            if and {
                let set: std::collections::HashSet<u64> = s.iter().copied().collect();
                result.retain(|i| set.contains(i));
            } else {
                result.extend_from_slice(s);
            }
        }
        result.sort_unstable();
        result.dedup();
        let mut uuids = Vec::with_capacity(result.len());
        for i in result {
            let e = self.db.entry(i)?.ok_or_else(|| LogError::Inconsistent {
                what: format!("entry {i} missing"),
            })?;
            uuids.push(hex::encode(leaf_hash(&e.body)));
        }
        Ok(uuids)
    }

    /// `GET /tile/<path>`: a hash tile (truncated to the width asked) or an entry bundle of
    /// the published tree. `path` is what follows `tile/`.
    ///
    /// # Errors
    /// [`LogError::NotATilePath`], [`LogError::NoSuchTile`] beyond the published tree;
    /// [`LogError::Inconsistent`] for a tile missing from the store.
    pub fn tile(&self, path: &str) -> Result<Tile, LogError> {
        let full_path = format!("tile/{path}");
        let parsed = parse_tile_path(&full_path).map_err(|e| LogError::NotATilePath {
            reason: e.to_string(),
        })?;
        let size = self.head()?.size;
        let not_found = || LogError::NoSuchTile {
            path: full_path.clone(),
            size,
        };
        let missing = |what: &str| LogError::Inconsistent {
            what: format!("{what} {full_path} missing"),
        };
        match parsed {
            TilePath::Hash(t) => {
                let have = tile_width(t.level, t.index, size).ok_or_else(not_found)?;
                if t.width > have {
                    return Err(not_found());
                }
                let mut data = self
                    .db
                    .tile_raw(t.level, t.index)?
                    .ok_or_else(|| missing("tile"))?;
                if data.len() < t.byte_len() {
                    return Err(LogError::Inconsistent {
                        what: format!("tile {full_path} short"),
                    });
                }
                data.truncate(t.byte_len());
                Ok(Tile {
                    data,
                    full: t.is_full(),
                })
            }
            TilePath::Entries { index, width } => {
                let have = tile_width(0, index, size).ok_or_else(not_found)?;
                if width > have {
                    return Err(not_found());
                }
                let data = self
                    .db
                    .entry_bundle(index, width)?
                    .ok_or_else(|| missing("bundle"))?;
                Ok(Tile {
                    data,
                    full: width == 256,
                })
            }
        }
    }
}

/// Reads a `SearchIndex.hash` as Rekor's OpenAPI pattern does:
/// `^(sha512:)?[0-9a-fA-F]{128}$|^(sha256:)?[0-9a-fA-F]{64}$|^(sha1:)?[0-9a-fA-F]{40}$`
/// (hex in either case, searched lower-cased, as Rekor's `PrefixSHA` + `ToLower`). Returns the
/// index and lowercase hex to look up, `None` for a SHA-1 digest (which no entry kind of this
/// log indexes: the answer is empty, as Rekor's for a digest it never stored). A `sha384:`
/// digest (or 96 bare hex digits) is outside the pattern, so a sha384 hashedrekord cannot be
/// found by its digest, exactly as with Rekor v1; search it by key or identity.
///
/// # Errors
/// [`QueryError::HashFormat`] outside the pattern.
fn search_hash(h: &str) -> Result<Option<(IndexKind, String)>, QueryError> {
    let (prefix, hexd) = match h.split_once(':') {
        Some((p, rest)) => (Some(p), rest),
        None => (None, h),
    };
    if !hexd.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(QueryError::HashFormat);
    }
    let kind = match (prefix, hexd.len()) {
        (None | Some("sha256"), 64) => Some(IndexKind::ArtifactSha256),
        (None | Some("sha512"), 128) => Some(IndexKind::ArtifactSha512),
        (None | Some("sha1"), 40) => None,
        _ => return Err(QueryError::HashFormat),
    };
    Ok(kind.map(|k| (k, hexd.to_ascii_lowercase())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn added_entry_bytes_match_serde() {
        let body = b"{\"k\":\"v\"}".to_vec();
        let log_id = [7u8; 32];
        let head = SignedHead {
            size: 1000,
            root: [9u8; 32],
            checkpoint: "origin - 1\n1000\nroot=\n\n\u{2014} name sig\"\\\n".into(),
        };
        let set = vec![1u8, 2, 3, 250];
        for proof in [
            vec![],
            vec![[1u8; 32]],
            vec![[2u8; 32], [3u8; 32], [4u8; 32]],
        ] {
            let mut map = LogEntry::new();
            map.insert(
                "ab".repeat(32),
                LogEntryAnon {
                    body: Base64Bytes(body.clone()),
                    integrated_time: 1_764_000_000,
                    log_id: HexBytes(log_id.to_vec()),
                    log_index: 999,
                    attestation: None,
                    verification: Some(LogEntryVerification {
                        inclusion_proof: Some(RekorInclusionProof {
                            checkpoint: head.checkpoint.clone(),
                            hashes: proof.iter().map(|h| HexBytes(h.to_vec())).collect(),
                            log_index: 999,
                            root_hash: HexBytes(head.root.to_vec()),
                            tree_size: 1000,
                        }),
                        signed_entry_timestamp: Some(Base64Bytes(set.clone())),
                    }),
                },
            );
            let want = serde_json::to_vec(&map).unwrap();
            let b64 = base64::engine::general_purpose::STANDARD.encode(&body);
            let got = write_added_entry(
                &"ab".repeat(32),
                (999, 999),
                1_764_000_000,
                &b64,
                &log_id,
                &proof,
                &head,
                &set,
            )
            .unwrap();
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
    }
}
