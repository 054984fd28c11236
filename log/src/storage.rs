//! Storage: a small key-value trait ([`LogStore`]), two implementations, and the typed key
//! layout the rest of the log uses ([`LogDb`]).
//!
//! * [`RocksStore`]: RocksDB, no compression, every sequencer commit one `WriteBatch` written
//!   with `sync = true`.
//! * [`MemStore`]: a `BTreeMap` with a fault hook ([`FaultHook`]) so tests can make a commit
//!   fail before or after it is applied ("failed, not persisted" / "failed but persisted").
//!
//! Key layout (one keyspace, a one-byte prefix per record type, integers big-endian so that
//! byte order is numeric order):
//!
//! | key | value |
//! |---|---|
//! | `M head` | tree size (u64) ‖ root hash (32) of the newest signed checkpoint |
//! | `M published` | with witnesses only: tree size (u64) ‖ root hash (32) ‖ the published checkpoint note text (log-signed and cosigned by the witness quorum), replaced in one synced write before that checkpoint is served; never smaller than the one it replaces |
//! | `M treeid` | tree id (u64) |
//! | `C` size | signed checkpoint note text for that size (every batch's checkpoint is kept) |
//! | `T` level(u8) index(u64) | newest version of hash tile (level, index); a partial tile of width w is its first 32·w bytes |
//! | `B` index(u64) | full entry bundle `index` (C2SP tlog-tiles, u16-prefixed entries), written once when its 256th entry is integrated; a partial bundle is never stored but assembled from the `E` records on read ([`LogDb::entry_bundle`]) |
//! | `E` index(u64) | integrated time (u64 seconds) ‖ canonical entry body |
//! | `H` leaf hash(32) | log index (u64): the dedup index and the Rekor UUID index |
//! | `I` kind(u8) SHA-256(value)(32) index(u64) | empty: one search-index posting (none in a Rekor v2 log, which serves no search) |
//! | `P` index(u64) | an attestation's in-toto `predicateType` (UTF-8), which its canonical body does not keep |
//!
//! What this module does not do: no Merkle math (that is `signet_proto::merkle` /
//! `signet_proto::tiles`), no signing, no validation. RocksDB types never leave this module.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use signet_proto::merkle::{Hash, TileReader};
use signet_proto::tiles::TileId;

/// Errors from a [`LogStore`].
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (I/O, RocksDB error, injected fault).
    #[error("storage backend error: {0}")]
    Backend(String),
    /// Another process has the store open (RocksDB's `LOCK` file is held): only one process
    /// may serve a data directory.
    #[error(
        "the store {path} is in use by another process (its LOCK file is held): stop the process serving it, or use another data directory"
    )]
    Locked {
        /// The store directory.
        path: String,
    },
    /// Stored data does not have the expected shape.
    #[error("corrupt record {key}: {reason}")]
    Corrupt {
        /// Hex of the key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A shared backend (object storage, etcd) cannot be reached or has no quorum: nothing
    /// was committed by this call, retry later (503).
    #[error("shared storage unavailable: {reason}")]
    Unavailable {
        /// What failed.
        reason: String,
    },
    /// Distributed mode: this instance does not hold the sequencer lease (a standby or a
    /// reader, or a leader that lost its lease); nothing was written (503, send writes to the
    /// sequencer).
    #[error("this instance is not the log's sequencer: {reason}")]
    NotLeader {
        /// Why (standby, reader, lease lost, fenced by a newer head).
        reason: String,
    },
    /// A tile that the tree size says must exist is missing or too short.
    #[error("tile level {level} index {index} missing or shorter than width {width}")]
    MissingTile {
        /// Tile level.
        level: u8,
        /// Tile index.
        index: u64,
        /// Requested width.
        width: u32,
    },
}

/// One write in a [`Batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Set `key` to `value`.
    Put(Vec<u8>, Vec<u8>),
    /// Delete `key`.
    Delete(Vec<u8>),
}

/// An atomic group of writes: all of them land or none does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// The writes, applied in order.
    pub ops: Vec<Op>,
}

impl Batch {
    /// Adds a put.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push(Op::Put(key, value));
    }
    /// Number of writes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    /// True if there are no writes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Key-value pairs returned by [`LogStore::scan`].
pub type KvPairs = Vec<(Vec<u8>, Vec<u8>)>;

type MemMap = BTreeMap<Vec<u8>, Vec<u8>>;

/// A byte-oriented, ordered key-value store with atomic batches.
///
/// Implementations must make [`LogStore::write`] atomic, and durable before it returns when
/// `sync` is true.
pub trait LogStore: Send + Sync + 'static {
    /// Reads one key.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on backend failure.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Reads several keys, in order.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on backend failure.
    fn multi_get(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(k)).collect()
    }
    /// Up to `limit` pairs whose key starts with `prefix` and is `>= start` (`start` includes
    /// the prefix), in key order.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on backend failure.
    fn scan(&self, prefix: &[u8], start: &[u8], limit: usize) -> Result<KvPairs, StoreError>;
    /// Reads hash tiles, each at least `width` hashes long when present. The default reads
    /// the newest stored version (`T` keys are not versioned); stores that keep one object per
    /// tile width (the distributed store) read exactly the width asked.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on backend failure.
    fn get_tiles(&self, ids: &[TileId]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let keys: Vec<Vec<u8>> = ids.iter().map(|t| keys::tile(t.level, t.index)).collect();
        self.multi_get(&keys)
    }
    /// Applies `batch` atomically; durable before returning if `sync`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the batch could not be written (it may or may not have been
    /// applied; callers reload their state from the store).
    fn write(&self, batch: &Batch, sync: bool) -> Result<(), StoreError>;
    /// Whether this process may write the log now and so publish checkpoints: always for an
    /// embedded store; in the distributed mode only while it holds the sequencer lease (the
    /// witness client asks nothing of a standby or a reader).
    fn is_writer(&self) -> bool {
        true
    }
}

/// RocksDB-backed [`LogStore`].
#[cfg(feature = "rocksdb")]
pub struct RocksStore {
    db: rocksdb::DB,
}

#[cfg(feature = "rocksdb")]
impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStore")
            .field("path", &self.db.path())
            .finish()
    }
}

#[cfg(feature = "rocksdb")]
impl RocksStore {
    /// Opens (creating if needed) the database in `dir`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if RocksDB cannot open it.
    pub fn open(dir: &std::path::Path) -> Result<Self, StoreError> {
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        opts.set_compression_type(rocksdb::DBCompressionType::None);
        opts.set_max_background_jobs(2);
        // Bounded memory: two 32 MiB memtables and one 32 MiB block cache, whatever the size
        // of the log.
        opts.set_write_buffer_size(32 << 20);
        opts.set_max_write_buffer_number(2);
        let mut bopts = rocksdb::BlockBasedOptions::default();
        let cache = rocksdb::Cache::new_lru_cache(32 << 20);
        bopts.set_block_cache(&cache);
        bopts.set_bloom_filter(10.0, false);
        // Index and filter blocks live in (and are bounded by) the block cache.
        bopts.set_cache_index_and_filter_blocks(true);
        bopts.set_pin_l0_filter_and_index_blocks_in_cache(true);
        opts.set_block_based_table_factory(&bopts);
        let db = rocksdb::DB::open(&opts, dir).map_err(|e| {
            // RocksDB's POSIX env: "IO error: While lock file: <dir>/LOCK: <errno text>".
            if e.kind() == rocksdb::ErrorKind::IOError && e.as_ref().contains("While lock file") {
                StoreError::Locked {
                    path: dir.display().to_string(),
                }
            } else {
                StoreError::Backend(e.to_string())
            }
        })?;
        Ok(Self { db })
    }
}

#[cfg(feature = "rocksdb")]
fn be(e: &rocksdb::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

#[cfg(feature = "rocksdb")]
impl LogStore for RocksStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db.get(key).map_err(|e| be(&e))
    }

    fn multi_get(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.db
            .multi_get(keys)
            .into_iter()
            .map(|r| r.map_err(|e| be(&e)))
            .collect()
    }

    fn scan(&self, prefix: &[u8], start: &[u8], limit: usize) -> Result<KvPairs, StoreError> {
        let mut out = Vec::new();
        let it = self.db.iterator(rocksdb::IteratorMode::From(
            start,
            rocksdb::Direction::Forward,
        ));
        for item in it {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(|e| be(&e))?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    fn write(&self, batch: &Batch, sync: bool) -> Result<(), StoreError> {
        let mut wb = rocksdb::WriteBatch::default();
        for op in &batch.ops {
            match op {
                Op::Put(k, v) => wb.put(k, v),
                Op::Delete(k) => wb.delete(k),
            }
        }
        let mut wo = rocksdb::WriteOptions::default();
        wo.set_sync(sync);
        self.db.write_opt(wb, &wo).map_err(|e| be(&e))
    }
}

/// What the [`MemStore`] fault hook decides for one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Apply the batch normally.
    Apply,
    /// Do not apply it, and return an error ("failed, not persisted").
    FailBefore,
    /// Apply it, then return an error ("failed but persisted").
    FailAfter,
}

/// A fault hook: called with every batch before it is applied.
pub type FaultHook = Arc<dyn Fn(&Batch) -> Fault + Send + Sync>;

/// In-memory [`LogStore`] for tests, with an optional fault hook.
#[derive(Default)]
pub struct MemStore {
    map: RwLock<MemMap>,
    hook: Mutex<Option<FaultHook>>,
}

impl std::fmt::Debug for MemStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemStore").finish_non_exhaustive()
    }
}

impl MemStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Installs (or with `None` removes) the fault hook.
    pub fn set_fault_hook(&self, hook: Option<FaultHook>) {
        if let Ok(mut h) = self.hook.lock() {
            *h = hook;
        }
    }
    fn map_read(&self) -> Result<std::sync::RwLockReadGuard<'_, MemMap>, StoreError> {
        self.map
            .read()
            .map_err(|_| StoreError::Backend("poisoned lock".into()))
    }
}

impl LogStore for MemStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.map_read()?.get(key).cloned())
    }

    fn scan(&self, prefix: &[u8], start: &[u8], limit: usize) -> Result<KvPairs, StoreError> {
        Ok(self
            .map_read()?
            .range(start.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn write(&self, batch: &Batch, _sync: bool) -> Result<(), StoreError> {
        let hook = self
            .hook
            .lock()
            .map_err(|_| StoreError::Backend("poisoned lock".into()))?
            .clone();
        let decision = hook.map_or(Fault::Apply, |h| h(batch));
        if decision == Fault::FailBefore {
            return Err(StoreError::Backend("injected fault before write".into()));
        }
        {
            let mut map = self
                .map
                .write()
                .map_err(|_| StoreError::Backend("poisoned lock".into()))?;
            for op in &batch.ops {
                match op {
                    Op::Put(k, v) => {
                        map.insert(k.clone(), v.clone());
                    }
                    Op::Delete(k) => {
                        map.remove(k);
                    }
                }
            }
        }
        if decision == Fault::FailAfter {
            return Err(StoreError::Backend("injected fault after write".into()));
        }
        Ok(())
    }
}

/// The search indexes kept for every entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum IndexKind {
    /// Artifact SHA-256 (lower-case hex), hashedrekord data hash or dsse payload hash.
    ArtifactSha256 = 1,
    /// SHA-256 of the signer's SubjectPublicKeyInfo DER (key or certificate key).
    PublicKey = 2,
    /// A certificate identity: email or URI SAN, as written in the certificate.
    Identity = 3,
    /// Email SAN lower-cased (Rekor searches emails case-insensitively).
    EmailLower = 4,
    /// Artifact SHA-384 (lower-case hex), a hashedrekord `sha384` data hash (Rekor's
    /// `sha384:<hex>` index key; Rekor's `SearchIndex.hash` pattern does not let it be
    /// searched).
    ArtifactSha384 = 5,
    /// Artifact SHA-512 (lower-case hex), a hashedrekord `sha512` data hash (Rekor's
    /// `sha512:<hex>` index key).
    ArtifactSha512 = 6,
}

impl IndexKind {
    /// The artifact-digest index of `algorithm`.
    #[must_use]
    pub fn artifact(algorithm: signet_proto::rekor::RekorHashAlgorithm) -> Self {
        use signet_proto::rekor::RekorHashAlgorithm as A;
        match algorithm {
            A::Sha384 => Self::ArtifactSha384,
            A::Sha512 => Self::ArtifactSha512,
            _ => Self::ArtifactSha256,
        }
    }
}

/// The newest signed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// Key builders (see the module docs for the layout).
pub mod keys {
    use super::IndexKind;

    /// `M head`.
    pub const HEAD: &[u8] = b"Mhead";
    /// `M treeid`.
    pub const TREE_ID: &[u8] = b"Mtreeid";
    /// `M published`.
    pub const PUBLISHED: &[u8] = b"Mpublished";

    /// Predicate type key for the entry at `index`.
    #[must_use]
    pub fn predicate_type(index: u64) -> Vec<u8> {
        let mut k = vec![b'P'];
        k.extend_from_slice(&index.to_be_bytes());
        k
    }

    /// Checkpoint key for `size`.
    #[must_use]
    pub fn checkpoint(size: u64) -> Vec<u8> {
        let mut k = vec![b'C'];
        k.extend_from_slice(&size.to_be_bytes());
        k
    }
    /// Tile key.
    #[must_use]
    pub fn tile(level: u8, index: u64) -> Vec<u8> {
        let mut k = vec![b'T', level];
        k.extend_from_slice(&index.to_be_bytes());
        k
    }
    /// Entry bundle key.
    #[must_use]
    pub fn bundle(index: u64) -> Vec<u8> {
        let mut k = vec![b'B'];
        k.extend_from_slice(&index.to_be_bytes());
        k
    }
    /// Entry key.
    #[must_use]
    pub fn entry(index: u64) -> Vec<u8> {
        let mut k = vec![b'E'];
        k.extend_from_slice(&index.to_be_bytes());
        k
    }
    /// Leaf-hash (dedup/UUID) key.
    #[must_use]
    pub fn leaf(hash: &[u8; 32]) -> Vec<u8> {
        let mut k = vec![b'H'];
        k.extend_from_slice(hash);
        k
    }
    /// Search posting prefix for a value.
    #[must_use]
    pub fn index_prefix(kind: IndexKind, value: &[u8]) -> Vec<u8> {
        let mut k = vec![b'I', kind as u8];
        k.extend_from_slice(&crate::util::sha256(value));
        k
    }
    /// Search posting key.
    #[must_use]
    pub fn index(kind: IndexKind, value: &[u8], log_index: u64) -> Vec<u8> {
        let mut k = index_prefix(kind, value);
        k.extend_from_slice(&log_index.to_be_bytes());
        k
    }
}

fn u64_of(key: &[u8], v: &[u8]) -> Result<u64, StoreError> {
    let arr: [u8; 8] =
        v.get(..8)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| StoreError::Corrupt {
                key: hex::encode(key),
                reason: "expected 8-byte integer".into(),
            })?;
    Ok(u64::from_be_bytes(arr))
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// Log index.
    pub index: u64,
    /// Integration time, seconds since the Unix epoch.
    pub integrated_time: u64,
    /// Canonical body bytes (the Merkle leaf data).
    pub body: Vec<u8>,
}

/// Typed access to a [`LogStore`] with the layout in the module docs.
#[derive(Clone)]
pub struct LogDb {
    store: Arc<dyn LogStore>,
}

impl std::fmt::Debug for LogDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogDb").finish_non_exhaustive()
    }
}

impl LogDb {
    /// Wraps a store.
    #[must_use]
    pub fn new(store: Arc<dyn LogStore>) -> Self {
        Self { store }
    }

    /// See [`LogStore::is_writer`].
    #[must_use]
    pub fn is_writer(&self) -> bool {
        self.store.is_writer()
    }

    /// The underlying store (for fsck tests and raw repair tools).
    #[must_use]
    pub fn raw(&self) -> &Arc<dyn LogStore> {
        &self.store
    }

    /// The newest committed head, `None` for a fresh store.
    ///
    /// # Errors
    /// Backend or corrupt record.
    pub fn head(&self) -> Result<Option<Head>, StoreError> {
        let Some(v) = self.store.get(keys::HEAD)? else {
            return Ok(None);
        };
        if v.len() != 40 {
            return Err(StoreError::Corrupt {
                key: hex::encode(keys::HEAD),
                reason: "head must be 40 bytes".into(),
            });
        }
        let size = u64_of(keys::HEAD, &v)?;
        let mut root = [0u8; 32];
        root.copy_from_slice(&v[8..40]);
        Ok(Some(Head { size, root }))
    }

    /// Encodes a head value.
    #[must_use]
    pub fn head_value(head: &Head) -> Vec<u8> {
        let mut v = head.size.to_be_bytes().to_vec();
        v.extend_from_slice(&head.root);
        v
    }

    /// The published (witness-cosigned) head and its checkpoint note, `None` if none was
    /// ever stored.
    ///
    /// # Errors
    /// Backend or corrupt record.
    pub fn published(&self) -> Result<Option<(Head, String)>, StoreError> {
        let Some(v) = self.store.get(keys::PUBLISHED)? else {
            return Ok(None);
        };
        let corrupt = |reason: &str| StoreError::Corrupt {
            key: hex::encode(keys::PUBLISHED),
            reason: reason.into(),
        };
        if v.len() <= 40 {
            return Err(corrupt("published head must be more than 40 bytes"));
        }
        let size = u64_of(keys::PUBLISHED, &v)?;
        let mut root = [0u8; 32];
        root.copy_from_slice(&v[8..40]);
        let checkpoint = String::from_utf8(v[40..].to_vec())
            .map_err(|_| corrupt("published checkpoint is not UTF-8"))?;
        Ok(Some((Head { size, root }, checkpoint)))
    }

    /// Encodes a published head value (see [`LogDb::published`]).
    #[must_use]
    pub fn published_value(head: &Head, checkpoint: &str) -> Vec<u8> {
        let mut v = Self::head_value(head);
        v.extend_from_slice(checkpoint.as_bytes());
        v
    }

    /// The tree id, if one has been stored.
    ///
    /// # Errors
    /// Backend or corrupt record.
    pub fn tree_id(&self) -> Result<Option<u64>, StoreError> {
        self.store
            .get(keys::TREE_ID)?
            .map(|v| u64_of(keys::TREE_ID, &v))
            .transpose()
    }

    /// The signed checkpoint stored for `size`.
    ///
    /// # Errors
    /// Backend.
    pub fn checkpoint(&self, size: u64) -> Result<Option<String>, StoreError> {
        Ok(self
            .store
            .get(&keys::checkpoint(size))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Entry at `index`.
    ///
    /// # Errors
    /// Backend or corrupt record.
    pub fn entry(&self, index: u64) -> Result<Option<StoredEntry>, StoreError> {
        let key = keys::entry(index);
        let Some(v) = self.store.get(&key)? else {
            return Ok(None);
        };
        let integrated_time = u64_of(&key, &v)?;
        Ok(Some(StoredEntry {
            index,
            integrated_time,
            body: v[8..].to_vec(),
        }))
    }

    /// Entries `[start, start+count)` that exist, in order.
    ///
    /// # Errors
    /// Backend or corrupt record.
    pub fn entries(&self, start: u64, count: usize) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = self.store.scan(b"E", &keys::entry(start), count)?;
        rows.into_iter()
            .map(|(k, v)| {
                let index = u64_of(&k, &k[1..])?;
                let integrated_time = u64_of(&k, &v)?;
                Ok(StoredEntry {
                    index,
                    integrated_time,
                    body: v[8..].to_vec(),
                })
            })
            .collect()
    }

    /// Log index of the leaf with this leaf hash.
    ///
    /// # Errors
    /// Backend or corrupt record.
    pub fn index_of_leaf(&self, leaf: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        let key = keys::leaf(leaf);
        self.store.get(&key)?.map(|v| u64_of(&key, &v)).transpose()
    }

    /// Log indexes of several leaf hashes.
    ///
    /// # Errors
    /// Backend or corrupt record.
    pub fn indexes_of_leaves(&self, leaves: &[[u8; 32]]) -> Result<Vec<Option<u64>>, StoreError> {
        let keys: Vec<Vec<u8>> = leaves.iter().map(keys::leaf).collect();
        let vals = self.store.multi_get(&keys)?;
        keys.iter()
            .zip(vals)
            .map(|(k, v)| v.map(|v| u64_of(k, &v)).transpose())
            .collect()
    }

    /// Every log index posted under `(kind, value)`, ascending. Complete: pages through the
    /// whole posting list.
    ///
    /// # Errors
    /// Backend or corrupt record.
    pub fn search(&self, kind: IndexKind, value: &[u8]) -> Result<Vec<u64>, StoreError> {
        let prefix = keys::index_prefix(kind, value);
        let mut start = prefix.clone();
        let mut out = Vec::new();
        loop {
            let rows = self.store.scan(&prefix, &start, 4096)?;
            let n = rows.len();
            for (k, _) in &rows {
                out.push(u64_of(k, &k[prefix.len()..])?);
            }
            match rows.last() {
                Some((k, _)) if n == 4096 => {
                    start = k.clone();
                    start.push(0);
                }
                _ => break,
            }
        }
        Ok(out)
    }

    /// The in-toto `predicateType` recorded for the entry at `index`, if any.
    ///
    /// # Errors
    /// Backend.
    pub fn predicate_type(&self, index: u64) -> Result<Option<String>, StoreError> {
        Ok(self
            .store
            .get(&keys::predicate_type(index))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Raw stored tile bytes (newest version) for `(level, index)`.
    ///
    /// # Errors
    /// Backend.
    pub fn tile_raw(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.get(&keys::tile(level, index))
    }

    /// Raw stored entry bundle: only full bundles are stored (see the module docs).
    ///
    /// # Errors
    /// Backend.
    pub fn bundle_raw(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.get(&keys::bundle(index))
    }

    /// Entry bundle `index` with its first `width` entries (1..=256), encoded as C2SP
    /// tlog-tiles serves it: the stored record for a full bundle, assembled from the `E`
    /// records otherwise. `None` if any of those entries is not stored.
    ///
    /// # Errors
    /// Backend or corrupt record.
    pub fn entry_bundle(&self, index: u64, width: u16) -> Result<Option<Vec<u8>>, StoreError> {
        if width == 256 {
            return self.bundle_raw(index);
        }
        let start = index.saturating_mul(256);
        let entries = self.entries(start, usize::from(width))?;
        if entries.len() != usize::from(width)
            || entries.iter().zip(start..).any(|(e, i)| e.index != i)
        {
            return Ok(None);
        }
        signet_proto::tiles::encode_entry_bundle(
            &entries
                .iter()
                .map(|e| e.body.as_slice())
                .collect::<Vec<_>>(),
        )
        .map(Some)
        .map_err(|e| StoreError::Corrupt {
            key: hex::encode(keys::bundle(index)),
            reason: e.to_string(),
        })
    }

    /// Reads tiles, each truncated to exactly `width*32` bytes.
    ///
    /// # Errors
    /// [`StoreError::MissingTile`] if a tile is absent or too short.
    pub fn read_tiles(&self, ids: &[TileId]) -> Result<Vec<Vec<u8>>, StoreError> {
        let vals = self.store.get_tiles(ids)?;
        ids.iter()
            .zip(vals)
            .map(|(t, v)| {
                let want = t.byte_len();
                match v {
                    Some(mut v) if v.len() >= want => {
                        v.truncate(want);
                        Ok(v)
                    }
                    _ => Err(StoreError::MissingTile {
                        level: t.level,
                        index: t.index,
                        width: u32::from(t.width),
                    }),
                }
            })
            .collect()
    }

    /// Writes a batch.
    ///
    /// # Errors
    /// Backend.
    pub fn write(&self, batch: &Batch, sync: bool) -> Result<(), StoreError> {
        self.store.write(batch, sync)
    }
}

impl TileReader for LogDb {
    type Error = StoreError;
    fn read_tiles(&self, ids: &[TileId]) -> Result<Vec<Vec<u8>>, StoreError> {
        LogDb::read_tiles(self, ids)
    }
}

/// A tile reader that serves the tiles of one batch from memory and everything else from the
/// store, caching what it read (one batch's proofs touch the same few tiles).
pub struct OverlayReader<'a> {
    db: &'a LogDb,
    overlay: Mutex<std::collections::HashMap<(u8, u64), Vec<u8>>>,
}

impl<'a> OverlayReader<'a> {
    /// A reader over `db` with `tiles` (newest versions) layered on top.
    #[must_use]
    pub fn new(db: &'a LogDb, tiles: &[(TileId, Vec<u8>)]) -> Self {
        let overlay = tiles
            .iter()
            .map(|(t, d)| ((t.level, t.index), d.clone()))
            .collect();
        Self {
            db,
            overlay: Mutex::new(overlay),
        }
    }
}

impl TileReader for OverlayReader<'_> {
    type Error = StoreError;
    fn read_tiles(&self, ids: &[TileId]) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut cache = self
            .overlay
            .lock()
            .map_err(|_| StoreError::Backend("poisoned lock".into()))?;
        let missing: Vec<TileId> = ids
            .iter()
            .filter(|t| !cache.contains_key(&(t.level, t.index)))
            .copied()
            .collect();
        if !missing.is_empty() {
            for (t, v) in missing.iter().zip(self.db.store.get_tiles(&missing)?) {
                if let Some(v) = v {
                    cache.insert((t.level, t.index), v);
                }
            }
        }
        ids.iter()
            .map(|t| {
                let want = t.byte_len();
                match cache.get(&(t.level, t.index)) {
                    Some(v) if v.len() >= want => Ok(v[..want].to_vec()),
                    _ => Err(StoreError::MissingTile {
                        level: t.level,
                        index: t.index,
                        width: u32::from(t.width),
                    }),
                }
            })
            .collect()
    }
}
