//! The log service: identity, newest signed head, the sequencer queue, and the domain
//! operations the HTTP layer calls (submit, read entries with proofs, consistency proofs,
//! search).
//!
//! What this module does not do: HTTP (see [`crate::http`]), batching (see
//! [`crate::sequencer`]), CT chain checks (see [`crate::ct`]).

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use signet_proto::bundle::Base64Bytes;
use signet_proto::checkpoint::{Checkpoint, SignedCheckpoint};
use signet_proto::keys::{EcdsaSigner, PublicKey};
use signet_proto::merkle::{leaf_hash, Hash, EMPTY_ROOT};
use signet_proto::note::{Ed25519NoteSigner, NoteSigner, RekorNoteSigner};
use signet_proto::rekor::{
    HexBytes, LogEntryAnon, LogEntryVerification, RekorInclusionProof, SetPayload,
};
use tokio::sync::{mpsc, oneshot};

use crate::config::LogConfig;
use crate::entries::{EntryError, ValidEntry};
use crate::metrics::{EntryResult, Metrics};
use crate::sequencer::{self, Pending};
use crate::signing::LogKeys;
use crate::storage::{keys, Batch, Head, IndexKind, LogDb, StoreError};

/// Largest canonical body accepted (entry bundles length-prefix entries with a u16).
pub const MAX_ENTRY_BYTES: usize = 65535;

/// Errors of log operations, mapped to HTTP statuses by [`crate::http`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The entry is invalid (400).
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// The queue is full (503 with Retry-After).
    #[error("the log is overloaded, retry later")]
    Pushback,
    /// Bad request parameters (400).
    #[error("{0}")]
    BadRequest(String),
    /// Not found (404).
    #[error("{0}")]
    NotFound(String),
    /// Storage failure (500; details logged only).
    #[error("storage: {0}")]
    Storage(#[from] StoreError),
    /// Any other internal failure (500; details logged only).
    #[error("internal: {0}")]
    Internal(String),
    /// The log is shutting down (503).
    #[error("the log is shutting down")]
    Shutdown,
    /// The witness quorum did not cosign the batch's checkpoint (503; the entries are stored
    /// and published with the next cosigned checkpoint).
    #[error("witness cosignatures unavailable: {0}")]
    Witness(String),
    /// With witnesses: no checkpoint has been cosigned by the quorum yet (a new log, or a
    /// store whose published checkpoint the current policy does not accept), so there is
    /// nothing to serve a proof against (503).
    #[error("no checkpoint has been cosigned by the witness quorum yet")]
    Unpublished,
}

/// The newest signed tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHead {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// Signed checkpoint note text.
    pub checkpoint: String,
}

/// The log's identity: names, keys, IDs.
pub struct Identity {
    /// Signer name, `host:port`.
    pub name: String,
    /// Checkpoint origin, `<name> - <tree id>`.
    pub origin: String,
    /// Tree id.
    pub tree_id: i64,
    /// Log key.
    pub log_key: EcdsaSigner,
    /// SHA-256 of the log key's SPKI DER (Rekor `logID`).
    pub log_id: [u8; 32],
    /// Rekor-style note signer.
    pub rekor_note: RekorNoteSigner,
    /// C2SP Ed25519 note signer.
    pub ed_note: Ed25519NoteSigner,
    /// CT key.
    pub ct_key: EcdsaSigner,
    /// CT roots: DER certificates accepted as chain anchors.
    pub ct_roots: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("origin", &self.origin)
            .field("log_id", &hex::encode(self.log_id))
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Signs a checkpoint for `(size, root)` with both note signers.
    ///
    /// # Errors
    /// [`LogError::Internal`] if signing fails.
    pub fn sign_checkpoint(&self, size: u64, root: Hash) -> Result<String, LogError> {
        let signers: [&dyn NoteSigner; 2] = [&self.rekor_note, &self.ed_note];
        let cp = SignedCheckpoint::sign(Checkpoint::new(self.origin.clone(), size, root), &signers)
            .map_err(|e| LogError::Internal(format!("checkpoint signing: {e}")))?;
        String::from_utf8(cp.to_bytes()).map_err(|e| LogError::Internal(e.to_string()))
    }

    /// The SET for an entry.
    ///
    /// # Errors
    /// [`LogError::Internal`] if signing fails.
    pub fn sign_set(
        &self,
        body: &[u8],
        integrated_time: u64,
        index: u64,
    ) -> Result<Vec<u8>, LogError> {
        use base64::Engine as _;
        let body_b64 = base64::engine::general_purpose::STANDARD.encode(body);
        self.sign_set_b64(&body_b64, integrated_time, index)
    }

    /// [`Identity::sign_set`] with the body already in standard base64.
    fn sign_set_b64(
        &self,
        body_b64: &str,
        integrated_time: u64,
        index: u64,
    ) -> Result<Vec<u8>, LogError> {
        let bytes = set_payload_bytes(body_b64, integrated_time, &self.log_id, index)?;
        self.log_key
            .sign(&bytes)
            .map_err(|e| LogError::Internal(e.to_string()))
    }

    /// The log public key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        self.log_key.public_key()
    }
}

/// Largest integer RFC 8785 writes exactly (2^53).
const JCS_MAX_SAFE: u64 = 1 << 53;

/// The RFC 8785 bytes of a [`SetPayload`] (`SetPayload::canonical_bytes_from_parts`), for the
/// unsigned integers the log has; integers beyond 2^53 are refused.
fn set_payload_bytes(
    body_b64: &str,
    integrated_time: u64,
    log_id: &[u8; 32],
    index: u64,
) -> Result<Vec<u8>, LogError> {
    if integrated_time > JCS_MAX_SAFE || index > JCS_MAX_SAFE {
        return Err(LogError::Internal(format!(
            "SET payload integer out of range (time {integrated_time}, index {index})"
        )));
    }
    let out_of_range = || LogError::Internal("SET payload integer out of range".into());
    let time = i64::try_from(integrated_time).map_err(|_| out_of_range())?;
    let index = i64::try_from(index).map_err(|_| out_of_range())?;
    SetPayload::canonical_bytes_from_parts(body_b64, time, log_id, index).ok_or_else(out_of_range)
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
    index: u64,
    integrated_time: u64,
    body_b64: &str,
    log_id: &[u8; 32],
    proof: &[Hash],
    head: &SignedHead,
    set: &[u8],
) -> Result<Vec<u8>, LogError> {
    use base64::Engine as _;
    let to_i64 = |v: u64| i64::try_from(v).map_err(|e| LogError::Internal(e.to_string()));
    let (index, time, size) = (to_i64(index)?, to_i64(integrated_time)?, to_i64(head.size)?);
    let mut out =
        Vec::with_capacity(body_b64.len() + head.checkpoint.len() + proof.len() * 67 + 512);
    out.extend_from_slice(b"{");
    serde_json::to_writer(&mut out, uuid).map_err(|e| LogError::Internal(e.to_string()))?;
    out.extend_from_slice(b":{\"body\":\"");
    out.extend_from_slice(body_b64.as_bytes());
    out.extend_from_slice(b"\",\"integratedTime\":");
    out.extend_from_slice(time.to_string().as_bytes());
    out.extend_from_slice(b",\"logID\":\"");
    push_hex(&mut out, log_id);
    out.extend_from_slice(b"\",\"logIndex\":");
    out.extend_from_slice(index.to_string().as_bytes());
    out.extend_from_slice(b",\"verification\":{\"inclusionProof\":{\"checkpoint\":");
    serde_json::to_writer(&mut out, &head.checkpoint)
        .map_err(|e| LogError::Internal(e.to_string()))?;
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

/// A running log.
pub struct Log {
    pub(crate) db: LogDb,
    pub(crate) ident: Identity,
    /// The published head: what readers see. With witnesses, always a checkpoint that
    /// carries the quorum and is durable in the store (`M published`), or `None` before the
    /// first one.
    head: RwLock<Option<Arc<SignedHead>>>,
    /// The integrated head: the newest tree committed to the store (the sequencer's base).
    integrated: RwLock<Arc<SignedHead>>,
    pub(crate) witnesses: Option<Arc<crate::witness::Witnesses>>,
    queue: mpsc::Sender<Pending>,
    pub(crate) arrivals: Arc<sequencer::Arrivals>,
    pub(crate) metrics: Metrics,
    pub(crate) commit_lock: Mutex<()>,
    pub(crate) retry_after_secs: u64,
    pub(crate) max_body_bytes: usize,
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
/// [`LogError::BadRequest`] naming the file if it is unreadable or holds no certificate.
pub fn load_ct_roots(paths: &[std::path::PathBuf]) -> Result<Vec<Vec<u8>>, LogError> {
    let mut out = Vec::new();
    for p in paths {
        let text = std::fs::read(p)
            .map_err(|e| LogError::BadRequest(format!("ct root {}: {e}", p.display())))?;
        let pems = pem::parse_many(&text)
            .map_err(|e| LogError::BadRequest(format!("ct root {}: {e}", p.display())))?;
        let n = out.len();
        out.extend(
            pems.into_iter()
                .filter(|p| p.tag() == "CERTIFICATE")
                .map(pem::Pem::into_contents),
        );
        if out.len() == n {
            return Err(LogError::BadRequest(format!(
                "ct root {}: no CERTIFICATE",
                p.display()
            )));
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
    witnesses: &crate::witness::Witnesses,
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
        return Err(LogError::Internal(format!(
            "the published checkpoint (size {size}) is ahead of the committed tree (size {})",
            committed.size
        )));
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

impl Log {
    /// Opens the log over `db` and starts its sequencer task on the current tokio runtime.
    ///
    /// `public_host` (`host:port`) names the checkpoint signer and origin. A fresh store gets
    /// a random tree id and a signed checkpoint for the empty tree. With a witness policy the
    /// head served first is the durable published one (see [`LogDb::published`]), or none
    /// until the sequencer gets a checkpoint cosigned.
    ///
    /// # Errors
    /// Storage or signing failures; [`LogError::BadRequest`] for an unusable witness policy
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
    ) -> Result<Arc<Self>, LogError> {
        // The witness policy is checked before anything is written: the log's own keys (its
        // checkpoint signers) may not be listed as witnesses.
        let witnesses = match &cfg.witness_policy {
            Some(path) => Some(Arc::new(
                crate::witness::Witnesses::load(
                    path,
                    Duration::from_millis(cfg.witness_timeout_ms),
                    &[keys.log.public_key(), keys.witness.public_key()],
                )
                .map_err(|e| LogError::BadRequest(e.to_string()))?,
            )),
            None => None,
        };
        let tree_id = if let Some(t) = db.tree_id()? {
            i64::try_from(t).map_err(|e| LogError::Internal(e.to_string()))?
        } else {
            let mut b = [0u8; 8];
            aws_lc_rs::rand::fill(&mut b).map_err(|e| LogError::Internal(e.to_string()))?;
            let t = u64::from_be_bytes(b) >> 1;
            let mut batch = Batch::default();
            batch.put(keys::TREE_ID.to_vec(), t.to_be_bytes().to_vec());
            db.write(&batch, true)?;
            i64::try_from(t).map_err(|e| LogError::Internal(e.to_string()))?
        };
        let origin = format!("{public_host} - {tree_id}");
        let note_err = |e: signet_proto::note::VKeyError| LogError::Internal(e.to_string());
        let ident = Identity {
            name: public_host.to_string(),
            origin,
            tree_id,
            log_id: keys.log.public_key().key_id(),
            rekor_note: RekorNoteSigner::ecdsa(public_host, keys.log.clone()).map_err(note_err)?,
            ed_note: Ed25519NoteSigner::new(public_host, keys.witness.clone()).map_err(note_err)?,
            log_key: keys.log,
            ct_key: keys.ct,
            ct_roots,
        };
        let head = match db.head()? {
            None => {
                let checkpoint = ident.sign_checkpoint(0, EMPTY_ROOT)?;
                let head = Head {
                    size: 0,
                    root: EMPTY_ROOT,
                };
                let mut batch = Batch::default();
                batch.put(keys::checkpoint(0), checkpoint.clone().into_bytes());
                batch.put(keys::HEAD.to_vec(), LogDb::head_value(&head));
                db.write(&batch, true)?;
                SignedHead {
                    size: 0,
                    root: EMPTY_ROOT,
                    checkpoint,
                }
            }
            Some(h) => {
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
                SignedHead {
                    size: h.size,
                    root: h.root,
                    checkpoint,
                }
            }
        };
        let (tx, rx) = mpsc::channel(cfg.queue_capacity);
        let metrics = Metrics::default();
        let head = Arc::new(head);
        // What readers see first: without witnesses the committed head; with witnesses the
        // durable published checkpoint, never the committed head on its own (a crash between
        // committing and cosigning leaves it uncosigned).
        let published = match &witnesses {
            None => Some(Arc::clone(&head)),
            Some(w) => initial_published(&db, &ident, w, &head)?.map(Arc::new),
        };
        metrics.set_tree_size(published.as_ref().map_or(0, |h| h.size));
        let arrivals = Arc::new(sequencer::Arrivals::default());
        let log = Arc::new(Self {
            db,
            ident,
            integrated: RwLock::new(Arc::clone(&head)),
            head: RwLock::new(published),
            witnesses,
            queue: tx,
            arrivals: Arc::clone(&arrivals),
            metrics,
            commit_lock: Mutex::new(()),
            retry_after_secs: cfg.retry_after_secs,
            max_body_bytes: cfg.max_body_bytes,
        });
        tokio::spawn(sequencer::run(
            Arc::downgrade(&log),
            rx,
            arrivals,
            cfg.batch_max_entries,
            Duration::from_millis(cfg.batch_max_delay_ms),
        ));
        Ok(log)
    }

    /// The published head: the newest checkpoint readers may see. With witnesses it carries
    /// the quorum's cosignatures.
    ///
    /// # Errors
    /// [`LogError::Unpublished`] with witnesses, until a checkpoint has been cosigned.
    pub fn head(&self) -> Result<Arc<SignedHead>, LogError> {
        let h = self
            .head
            .read()
            .map_or_else(|p| p.into_inner().clone(), |h| h.clone());
        h.ok_or(LogError::Unpublished)
    }

    /// Publishes `h` to readers (with witnesses, only after [`Log::store_published`]).
    pub(crate) fn set_head(&self, h: Arc<SignedHead>) {
        let size = h.size;
        match self.head.write() {
            Ok(mut g) => *g = Some(h),
            Err(p) => *p.into_inner() = Some(h),
        }
        self.metrics.set_tree_size(size);
    }

    /// Makes the cosigned head `h` durable as the published one (`M published`, one synced
    /// write) before it is served. A head smaller than the stored one is refused: the
    /// published tree never goes backwards, whatever the order of crashes and restarts.
    ///
    /// # Errors
    /// [`LogError::Internal`] for a smaller head; storage errors.
    pub(crate) fn store_published(&self, h: &SignedHead) -> Result<(), LogError> {
        if let Some((stored, _)) = self.db.published()? {
            if stored.size > h.size {
                return Err(LogError::Internal(format!(
                    "refusing to publish size {} below the published size {}",
                    h.size, stored.size
                )));
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

    /// The newest tree head committed to the store; ahead of [`Log::head`] only while its
    /// checkpoint waits for witness cosignatures.
    #[must_use]
    pub fn integrated_head(&self) -> Arc<SignedHead> {
        self.integrated
            .read()
            .map_or_else(|p| Arc::clone(&p.into_inner()), |h| Arc::clone(&h))
    }

    /// Records a committed head; publishes it at once when no witnesses are configured.
    pub(crate) fn set_integrated(&self, h: SignedHead) {
        let h = Arc::new(h);
        match self.integrated.write() {
            Ok(mut g) => *g = Arc::clone(&h),
            Err(p) => *p.into_inner() = Arc::clone(&h),
        }
        if self.witnesses.is_none() {
            self.set_head(h);
        }
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

    /// Entries waiting for the sequencer.
    #[must_use]
    pub fn queue_depth(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Queues a validated entry and waits for its batch to be committed.
    ///
    /// # Errors
    /// [`LogError::Pushback`] when the queue is full; storage errors of the batch.
    pub async fn submit(&self, entry: ValidEntry) -> Result<Outcome, LogError> {
        self.submit_arriving(entry, None).await
    }

    /// [`Log::submit`] for a request marked with [`sequencer::Arrivals::arriving`]: the mark
    /// is dropped once the entry is queued (or refused).
    pub(crate) async fn submit_arriving(
        &self,
        entry: ValidEntry,
        arriving: Option<sequencer::ArrivalGuard>,
    ) -> Result<Outcome, LogError> {
        if entry.body.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::Invalid(format!(
                "canonical entry is {} bytes, the limit is {MAX_ENTRY_BYTES}",
                entry.body.len()
            ))
            .into());
        }
        let (tx, rx) = oneshot::channel();
        match self.queue.try_send(Pending {
            entry,
            reply: tx,
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
        let set = self.ident.sign_set(body, integrated_time, index)?;
        let to_i64 = |v: u64| i64::try_from(v).map_err(|e| LogError::Internal(e.to_string()));
        Ok(LogEntryAnon {
            body: Base64Bytes(body.to_vec()),
            integrated_time: to_i64(integrated_time)?,
            log_id: HexBytes(self.ident.log_id.to_vec()),
            log_index: to_i64(index)?,
            attestation: None,
            verification: Some(LogEntryVerification {
                inclusion_proof: Some(RekorInclusionProof {
                    checkpoint: head.checkpoint.clone(),
                    hashes: proof.iter().map(|h| HexBytes(h.to_vec())).collect(),
                    log_index: to_i64(index)?,
                    root_hash: HexBytes(head.root.to_vec()),
                    tree_size: to_i64(head.size)?,
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
        let set = self.ident.sign_set_b64(&body_b64, integrated_time, index)?;
        write_added_entry(
            uuid,
            index,
            integrated_time,
            &body_b64,
            &self.ident.log_id,
            proof,
            head,
            &set,
        )
    }

    /// Entry `index` with an inclusion proof against the newest checkpoint and a SET.
    /// Returns the entry UUID (hex leaf hash) and the entry.
    ///
    /// # Errors
    /// [`LogError::NotFound`] if `index` is not in the tree; storage errors.
    pub fn entry_by_index(&self, index: u64) -> Result<(String, LogEntryAnon), LogError> {
        let head = self.head()?;
        if index >= head.size {
            return Err(LogError::NotFound(format!(
                "log index {index} is not in the tree (size {})",
                head.size
            )));
        }
        let e = self
            .db
            .entry(index)?
            .ok_or_else(|| LogError::Internal(format!("entry {index} missing below tree size")))?;
        let proof = self.prove(index, &head)?;
        let uuid = hex::encode(leaf_hash(&e.body));
        Ok((
            uuid,
            self.entry_json(index, e.integrated_time, &e.body, &proof, &head)?,
        ))
    }

    /// Inclusion proof of `index` against `head`.
    ///
    /// # Errors
    /// Storage errors (including missing tiles).
    pub fn prove(&self, index: u64, head: &SignedHead) -> Result<Vec<Hash>, LogError> {
        signet_proto::merkle::prove_inclusion(index, head.size, &self.db)
            .map_err(|e| LogError::Internal(e.to_string()))
    }

    /// Looks up an entry UUID (64 hex) or entry ID (16 hex tree id + 64 hex).
    ///
    /// # Errors
    /// [`LogError::BadRequest`] for malformed text, [`LogError::NotFound`] if absent.
    pub fn index_of_uuid(&self, uuid: &str) -> Result<u64, LogError> {
        // Checked first: every later step slices the text at byte offsets.
        if !uuid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LogError::BadRequest(format!(
                "entry UUID {uuid:?} is not hex"
            )));
        }
        let hexpart = match uuid.len() {
            64 => uuid,
            80 => {
                let mut tree = [0u8; 8];
                hex::decode_to_slice(&uuid[..16], &mut tree)
                    .map_err(|_| LogError::BadRequest(format!("invalid entry id {uuid:?}")))?;
                if i64::from_be_bytes(tree) != self.ident.tree_id {
                    return Err(LogError::NotFound(format!(
                        "entry {uuid} belongs to another tree"
                    )));
                }
                &uuid[16..]
            }
            _ => {
                return Err(LogError::BadRequest(format!(
                    "entry UUID must be 64 (or 80 with tree id) hex characters, got {}",
                    uuid.len()
                )))
            }
        };
        let mut leaf = [0u8; 32];
        hex::decode_to_slice(hexpart, &mut leaf)
            .map_err(|_| LogError::BadRequest(format!("entry UUID {uuid:?} is not hex")))?;
        let index = self
            .db
            .index_of_leaf(&leaf)?
            .ok_or_else(|| LogError::NotFound(format!("no entry with UUID {uuid}")))?;
        if index >= self.head()?.size {
            return Err(LogError::NotFound(format!("no entry with UUID {uuid}")));
        }
        Ok(index)
    }

    /// Consistency proof between `first` and `last` (`last` defaults to the current size),
    /// with the root at `last`.
    ///
    /// # Errors
    /// [`LogError::BadRequest`] for sizes out of range.
    pub fn consistency(
        &self,
        first: u64,
        last: Option<u64>,
    ) -> Result<(Hash, Vec<Hash>), LogError> {
        let head = self.head()?;
        let last = last.unwrap_or(head.size);
        if last > head.size {
            return Err(LogError::BadRequest(format!(
                "lastSize {last} is larger than the tree size {}",
                head.size
            )));
        }
        if first > last {
            return Err(LogError::BadRequest(format!(
                "firstSize {first} is larger than lastSize {last}"
            )));
        }
        if first == 0 {
            return Err(LogError::BadRequest("firstSize must be at least 1".into()));
        }
        let root = signet_proto::merkle::tree_root(last, &self.db)
            .map_err(|e| LogError::Internal(e.to_string()))?;
        let proof = signet_proto::merkle::prove_consistency(first, last, &self.db)
            .map_err(|e| LogError::Internal(e.to_string()))?;
        Ok((root, proof))
    }

    /// Every entry UUID posted under `(kind, value)` within the current tree.
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
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use signet_proto::rekor::{LogEntry, SetPayload};

    #[test]
    fn set_payload_bytes_match_jcs() {
        let body = br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}"#;
        let log_id = [0xa5u8; 32];
        for (time, index) in [(0u64, 0u64), (1_764_000_000, 12_345_678), (1, JCS_MAX_SAFE)] {
            let want = SetPayload {
                body: Base64Bytes(body.to_vec()),
                integrated_time: i64::try_from(time).unwrap(),
                log_id: HexBytes(log_id.to_vec()),
                log_index: i64::try_from(index).unwrap(),
            }
            .canonical_bytes()
            .unwrap();
            let b64 = base64::engine::general_purpose::STANDARD.encode(body);
            assert_eq!(set_payload_bytes(&b64, time, &log_id, index).unwrap(), want);
        }
        assert!(set_payload_bytes("", 1, &log_id, JCS_MAX_SAFE + 1).is_err());
    }

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
                999,
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
