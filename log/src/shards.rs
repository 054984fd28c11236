//! Log shards: freezing the current tree and starting a new one (`signet log rotate`), as
//! the public Rekor v1 does (its `ShardingConfig`: inactive trees, each with its length and
//! key, then the active tree).
//!
//! A log directory (`<data_dir>/log`) holds the active shard (`db/`, its key files) and:
//!
//! | path | what |
//! |---|---|
//! | `shards/<tree id>/db`, `shards/<tree id>/*.pem` | a frozen shard: its store and its keys (it still signs SETs for the entries it serves) |
//! | `shards.json` | [`ShardHistory`]: every frozen shard (final size, root, checkpoint, windows), the active shard's window, and whether a rotation is pending |
//! | `log_key.pem.next`, `witness_key.pem.next` | the new shard's keys (`--new-key`) until the rotation is finished |
//!
//! Indexes are global across shards: a frozen shard of size `n` placed after shards of total
//! size `o` holds global indexes `o..o+n`; the active shard's entry `i` is global `O + i`,
//! `O` the size of all frozen shards. Rekor answers carry the global index in `logIndex`
//! (and the SET), the index within the shard in `inclusionProof.logIndex` (as Rekor's
//! virtual index). A frozen shard is read-only: it serves its entries, final checkpoint,
//! tiles and proofs, and refuses writes ([`crate::LogError::Frozen`]).
//!
//! A rotation ([`rotate`]) is offline (the store must not be open) and takes effect at the
//! next start: it records the frozen shard in `shards.json` with `pending` set, then moves
//! the store away; [`prepare`] (run before the active log is opened) finishes whatever an
//! interrupted rotation left undone and clears `pending`.
//!
//! What this module does not do: HTTP (the log's router serves the global API; a frozen
//! shard's checkpoint and tiles are served by [`crate::http::shard_router`] under
//! [`SHARD_PATH_PREFIX`]), the trusted root (the server builds it from [`ShardHistory`]).

use std::path::{Path, PathBuf};
#[cfg(feature = "rocksdb")]
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use crate::frozen::FrozenShard;
pub use crate::service::FrozenLog;

/// The history file in a log directory.
pub const SHARDS_FILE: &str = "shards.json";
/// The directory of frozen shards in a log directory.
pub const SHARDS_DIR: &str = "shards";
/// Where a frozen shard's checkpoint and tiles are served: `<base>/shards/<tree id>`.
pub const SHARD_PATH_PREFIX: &str = "/shards";
/// Suffix of a new key file waiting for its rotation to finish.
const NEXT: &str = ".next";
/// The key files a `--new-key` rotation replaces (the CT key stays).
const ROTATED_KEYS: [&str; 2] = ["log_key.pem", "witness_key.pem"];
/// The key files a frozen shard keeps.
#[cfg(feature = "rocksdb")]
const SHARD_KEYS: [&str; 3] = ["log_key.pem", "witness_key.pem", "ct_key.pem"];

/// Errors of shard rotation and opening.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// A rotation was made and no server has started since.
    #[error(
        "a log rotation is already pending in {dir} (frozen tree {tree_id}, size {size}): start `signet serve` once to complete it before rotating again"
    )]
    Pending {
        /// The log directory.
        dir: PathBuf,
        /// The tree frozen by the pending rotation.
        tree_id: u64,
        /// Its size.
        size: u64,
    },
    /// No log store in the directory.
    #[error("{dir} holds no log (no db/): start `signet serve --data-dir DIR` once first, or check --data-dir")]
    NoLog {
        /// The log directory.
        dir: PathBuf,
    },
    /// The tree to freeze is empty.
    #[error("the log in {dir} is empty: there is nothing to freeze; sign something first or keep the tree")]
    Empty {
        /// The log directory.
        dir: PathBuf,
    },
    /// A file or directory is not as a rotation left it.
    #[error("{path}: {reason}")]
    Directory {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong and the fix.
        reason: String,
    },
    /// The store.
    #[error(transparent)]
    Store(#[from] crate::storage::StoreError),
    /// Key files.
    #[error(transparent)]
    Keys(#[from] crate::signing::KeyFileError),
    /// Opening a frozen shard.
    #[error("opening the frozen shard {tree_id}: {source}")]
    Open {
        /// Its tree id.
        tree_id: u64,
        /// The error.
        #[source]
        source: Box<crate::ServeError>,
    },
}

/// Every frozen shard of a log directory, oldest first, and the active shard's windows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardHistory {
    /// The frozen shards, oldest first.
    pub frozen: Vec<FrozenShard>,
    /// When the active shard started (Unix seconds).
    pub active_start: i64,
    /// When the active shard's key came into use (Unix seconds).
    pub active_key_start: i64,
    /// A rotation was recorded and no server has started since.
    pub pending: bool,
}

impl ShardHistory {
    /// The history of `log_dir`: its `shards.json`, or, for a log never rotated, one active
    /// shard started at `created`.
    ///
    /// # Errors
    /// [`ShardError::Directory`] for an unreadable or malformed file.
    pub fn load(log_dir: &Path, created: i64) -> Result<Self, ShardError> {
        let path = log_dir.join(SHARDS_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                signet_proto::json::from_slice(&bytes).map_err(|e| ShardError::Directory {
                    path,
                    reason: format!("malformed: {e}"),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                frozen: Vec::new(),
                active_start: created,
                active_key_start: created,
                pending: false,
            }),
            Err(e) => Err(ShardError::Directory {
                path,
                reason: e.to_string(),
            }),
        }
    }

    /// The global index of the active shard's first entry: the size of every frozen shard.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.frozen.iter().map(|s| s.size).sum()
    }

    fn save(&self, log_dir: &Path) -> Result<(), ShardError> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| ShardError::Directory {
            path: log_dir.join(SHARDS_FILE),
            reason: e.to_string(),
        })?;
        write_atomic(&log_dir.join(SHARDS_FILE), &bytes)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ShardError + '_ {
    move |e| ShardError::Directory {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

fn sync_dir(dir: &Path) -> Result<(), ShardError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io(dir))
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ShardError> {
    use std::io::Write as _;
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Copies `from` to `to` (owner-only, synced), refusing to overwrite.
#[cfg(feature = "rocksdb")]
fn copy_private(from: &Path, to: &Path) -> Result<(), ShardError> {
    use std::io::Write as _;
    let bytes = std::fs::read(from).map_err(io(from))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(to).map_err(io(to))?;
    f.write_all(&bytes)
        .and_then(|()| f.sync_all())
        .map_err(io(to))
}

/// What [`rotate`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rotated {
    /// The shard just frozen.
    pub frozen: FrozenShard,
    /// The history now recorded (`pending` set).
    pub history: ShardHistory,
    /// Whether the next shard gets new log and checkpoint keys.
    pub new_key: bool,
}

#[cfg(feature = "rocksdb")]
/// Freezes the active tree of the (stopped) log in `log_dir` at time `now`: records it in
/// `shards.json`, moves its store and a copy of its keys to `shards/<tree id>/`, and, with
/// `new_key`, stages new log and checkpoint keys. The next start ([`prepare`], then
/// [`crate::open_log`]) opens a new tree, with a new tree id and so a new origin. `created`
/// is when the log was first started (the first shard's window start).
///
/// # Errors
/// [`ShardError::Pending`] when a rotation awaits a start; [`ShardError::NoLog`] and
/// [`ShardError::Empty`]; [`ShardError::Store`] with `StoreError::Locked` while a server has
/// the store open; file errors. Nothing is changed on any of these.
pub fn rotate(
    log_dir: &Path,
    created: i64,
    now: i64,
    new_key: bool,
) -> Result<Rotated, ShardError> {
    let mut history = ShardHistory::load(log_dir, created)?;
    if history.pending {
        let last = history.frozen.last();
        return Err(ShardError::Pending {
            dir: log_dir.to_owned(),
            tree_id: last.map_or(0, |s| s.tree_id),
            size: last.map_or(0, |s| s.size),
        });
    }
    let db_dir = log_dir.join("db");
    if !db_dir.is_dir() {
        return Err(ShardError::NoLog {
            dir: log_dir.to_owned(),
        });
    }
    let (tree_id, head, checkpoint) = {
        let store = crate::storage::RocksStore::open(&db_dir)?;
        let db = crate::storage::LogDb::new(Arc::new(store));
        let tree_id = db.tree_id()?.ok_or_else(|| ShardError::NoLog {
            dir: log_dir.to_owned(),
        })?;
        let head = db.head()?.ok_or_else(|| ShardError::NoLog {
            dir: log_dir.to_owned(),
        })?;
        let checkpoint = db.checkpoint(head.size)?;
        (tree_id, head, checkpoint)
    };
    if head.size == 0 {
        return Err(ShardError::Empty {
            dir: log_dir.to_owned(),
        });
    }
    let checkpoint = checkpoint.ok_or_else(|| ShardError::Directory {
        path: db_dir.clone(),
        reason: format!(
            "no checkpoint stored for the tree head (size {}): run `fsck` on the store",
            head.size
        ),
    })?;
    let rel = format!("{SHARDS_DIR}/{tree_id}");
    let shard_dir = log_dir.join(&rel);
    if shard_dir.exists() {
        return Err(ShardError::Directory {
            path: shard_dir,
            reason: "exists already: this tree was frozen before (remove the directory only if it is not listed in shards.json)".into(),
        });
    }
    for k in ROTATED_KEYS {
        let next = log_dir.join(format!("{k}{NEXT}"));
        if next.exists() {
            return Err(ShardError::Directory {
                path: next,
                reason: "a new key left by an unfinished rotation: start `signet serve` once to finish it".into(),
            });
        }
    }
    // 1. The frozen shard's keys.
    std::fs::create_dir_all(&shard_dir).map_err(io(&shard_dir))?;
    for k in SHARD_KEYS {
        copy_private(&log_dir.join(k), &shard_dir.join(k))?;
    }
    sync_dir(&shard_dir)?;
    // 2. The next shard's keys, staged.
    if new_key {
        let fresh = crate::signing::LogKeys::generate()?;
        for (k, pem) in [
            (
                ROTATED_KEYS[0],
                fresh
                    .log
                    .to_pkcs8_pem()
                    .map_err(crate::signing::KeyFileError::from)?,
            ),
            (
                ROTATED_KEYS[1],
                crate::signing::ed25519_to_pem(&fresh.witness),
            ),
        ] {
            let next = log_dir.join(format!("{k}{NEXT}"));
            let tmp = log_dir.join(format!("{k}{NEXT}.tmp"));
            let _ = std::fs::remove_file(&tmp);
            copy_bytes_private(&tmp, pem.as_bytes())?;
            std::fs::rename(&tmp, &next).map_err(io(&next))?;
        }
        sync_dir(log_dir)?;
    }
    // 3. The record: from here on the rotation is decided, and `prepare` finishes it.
    let frozen = FrozenShard {
        tree_id,
        origin: checkpoint.lines().next().unwrap_or_default().to_owned(),
        size: head.size,
        root: hex::encode(head.root),
        checkpoint,
        dir: rel,
        key_start: history.active_key_start,
        start: history.active_start,
        end: now,
    };
    history.frozen.push(frozen.clone());
    history.active_start = now;
    if new_key {
        history.active_key_start = now;
    }
    history.pending = true;
    history.save(log_dir)?;
    // 4. The store and the keys.
    finish(log_dir, &history)?;
    Ok(Rotated {
        frozen,
        history,
        new_key,
    })
}

#[cfg(feature = "rocksdb")]
fn copy_bytes_private(path: &Path, bytes: &[u8]) -> Result<(), ShardError> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io(path))
}

/// Moves the active store of a pending rotation into its frozen shard's directory and the
/// staged keys into place (each step only if not done yet).
fn finish(log_dir: &Path, history: &ShardHistory) -> Result<(), ShardError> {
    let Some(last) = history.frozen.last() else {
        return Ok(());
    };
    let frozen_db = log_dir.join(&last.dir).join("db");
    let db = log_dir.join("db");
    if !frozen_db.exists() {
        if !db.is_dir() {
            return Err(ShardError::Directory {
                path: frozen_db,
                reason: format!(
                    "missing, and {} is not there either: the frozen tree's store is lost",
                    db.display()
                ),
            });
        }
        std::fs::rename(&db, &frozen_db).map_err(io(&frozen_db))?;
        sync_dir(log_dir)?;
    }
    for k in ROTATED_KEYS {
        let next = log_dir.join(format!("{k}{NEXT}"));
        if next.exists() {
            std::fs::rename(&next, log_dir.join(k)).map_err(io(&next))?;
        }
    }
    sync_dir(log_dir)
}

/// Before the active log of `log_dir` is opened: finishes a pending rotation (moves the
/// frozen store and staged keys if an interruption left them) and clears `pending`; checks
/// that every frozen shard's store is there. Returns the history.
///
/// # Errors
/// [`ShardError::Directory`] for a missing frozen store or an unreadable history.
pub fn prepare(log_dir: &Path, created: i64) -> Result<ShardHistory, ShardError> {
    let mut history = ShardHistory::load(log_dir, created)?;
    if history.pending {
        finish(log_dir, &history)?;
        history.pending = false;
        history.save(log_dir)?;
    }
    for s in &history.frozen {
        let db = log_dir.join(&s.dir).join("db");
        if !db.is_dir() {
            return Err(ShardError::Directory {
                path: db,
                reason: format!(
                    "the store of frozen shard {} (size {}) listed in {SHARDS_FILE} is missing: restore it from a backup",
                    s.tree_id, s.size
                ),
            });
        }
    }
    Ok(history)
}

#[cfg(feature = "rocksdb")]
/// Opens every frozen shard of `history` (in `log_dir`) read-only under `public_host`,
/// checking that each store still ends at its recorded size and root.
///
/// # Errors
/// [`ShardError::Open`] for a store or key that cannot be opened;
/// [`ShardError::Directory`] for a store that does not match its record.
///
/// # Panics
/// If called outside a tokio runtime.
pub fn open_frozen(
    log_dir: &Path,
    history: &ShardHistory,
    public_host: &str,
    clock: Arc<dyn crate::Clock>,
) -> Result<Vec<FrozenLog>, ShardError> {
    let mut out = Vec::with_capacity(history.frozen.len());
    let mut offset = 0u64;
    for s in &history.frozen {
        let dir = log_dir.join(&s.dir);
        let cfg = crate::LogConfig {
            data_dir: dir.clone(),
            public_host: Some(public_host.to_owned()),
            generate_keys: false,
            queue_capacity: 1,
            ..crate::LogConfig::default()
        };
        let open = |e: crate::ServeError| ShardError::Open {
            tree_id: s.tree_id,
            source: Box::new(e),
        };
        let log = crate::open_log(&cfg, public_host, Arc::clone(&clock)).map_err(open)?;
        let head = log.integrated_head();
        if head.size != s.size || hex::encode(head.root) != s.root {
            return Err(ShardError::Directory {
                path: dir,
                reason: format!(
                    "the frozen shard's store is at size {} root {}, its record says size {} root {}",
                    head.size,
                    hex::encode(head.root),
                    s.size,
                    s.root
                ),
            });
        }
        log.freeze(offset);
        out.push(FrozenLog {
            record: s.clone(),
            log,
            offset,
        });
        offset += s.size;
    }
    Ok(out)
}
