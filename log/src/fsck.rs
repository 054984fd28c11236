//! fsck: re-verifies a whole store against its newest checkpoint.
//!
//! Checks, streaming (memory stays O(one tile + log n) however large the log is):
//! 1. the head record and the stored checkpoint agree, and the checkpoint's signatures verify
//!    with the log's public key (Rekor-style line) and, if given, the Ed25519 key;
//! 2. every entry `0..size` exists, nothing exists at `size`; each entry bundle holds exactly
//!    the stored entries; each level-0 tile holds exactly their leaf hashes; each leaf hash
//!    maps back to its index in the dedup/UUID index;
//! 3. every hash in every tile of level >= 1 equals the root of the 256 hashes below it;
//! 4. the root recomputed from all leaves (`signet_proto::merkle::Frontier`) and the root
//!    computed from the tiles (`tree_root`) both equal the checkpoint's root;
//! 5. with witnesses, the published checkpoint record (`M published`) is within the tree,
//!    signed by the log, and states the tree's root at its size (its cosignatures are the
//!    witnesses' business: fsck has no policy).
//!
//! What this module does not do: repair anything, check search postings (they are derived
//! data that a rebuild can recreate), re-verify entry signatures.

use signet_proto::checkpoint::UnverifiedCheckpoint;
use signet_proto::keys::PublicKey;
use signet_proto::merkle::{leaf_hash, root_from_leaves, tree_root, Frontier, Hash};
use signet_proto::note::{Ed25519NoteVerifier, RekorNoteVerifier, Verifiers};
use signet_proto::tiles::{decode_entry_bundle, tile_width};

use crate::storage::{LogDb, StoreError};

/// What fsck found wrong (the first problem).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsckError {
    /// Storage could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The checkpoint is missing, malformed, badly signed or disagrees with the head.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// An entry, bundle or index disagrees with the tree.
    #[error("entry {index}: {reason}")]
    Entry {
        /// Log index.
        index: u64,
        /// What is wrong.
        reason: String,
    },
    /// A tile disagrees with the data below it.
    #[error("tile level {level} index {index}: {reason}")]
    Tile {
        /// Tile level.
        level: u8,
        /// Tile index.
        index: u64,
        /// What is wrong.
        reason: String,
    },
    /// The recomputed root differs from the checkpoint.
    #[error("root mismatch: checkpoint {checkpoint}, recomputed {computed}")]
    Root {
        /// Root in the checkpoint (hex).
        checkpoint: String,
        /// Recomputed root (hex).
        computed: String,
    },
}

/// Summary of a successful run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsckReport {
    /// Tree size checked.
    pub size: u64,
    /// Entries checked.
    pub entries: u64,
    /// Tiles checked.
    pub tiles: u64,
}

/// Runs every check in the module docs.
///
/// `log_key` verifies the checkpoint's Rekor-style line; `witness_key` (raw Ed25519) the C2SP
/// line when given. The signer name is taken from the checkpoint's origin (`<name> - <id>`).
///
/// # Errors
/// The first [`FsckError`] found.
pub fn fsck(
    db: &LogDb,
    log_key: &PublicKey,
    witness_key: Option<&[u8; 32]>,
) -> Result<FsckReport, FsckError> {
    let cperr = |m: String| FsckError::Checkpoint(m);
    let head = db.head()?.ok_or_else(|| cperr("no head record".into()))?;
    let text = db
        .checkpoint(head.size)?
        .ok_or_else(|| cperr(format!("no checkpoint stored for size {}", head.size)))?;
    let unverified =
        UnverifiedCheckpoint::parse(text.as_bytes()).map_err(|e| cperr(e.to_string()))?;
    let name = unverified
        .origin_unverified()
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut verifiers = Verifiers::new();
    verifiers
        .push(RekorNoteVerifier::new(&name, log_key.clone()).map_err(|e| cperr(e.to_string()))?);
    if let Some(w) = witness_key {
        verifiers.push(Ed25519NoteVerifier::new(&name, w).map_err(|e| cperr(e.to_string()))?);
    }
    let threshold = verifiers.len();
    let signed = unverified
        .verify_threshold(&verifiers, threshold)
        .map_err(|e| cperr(format!("signature: {e}")))?;
    let cp = signed.checkpoint();
    if cp.size != head.size || cp.root != head.root {
        return Err(cperr(format!(
            "checkpoint says size {} root {}, head record says size {} root {}",
            cp.size,
            hex::encode(cp.root),
            head.size,
            hex::encode(head.root)
        )));
    }
    let size = head.size;
    let mut tiles = 0u64;

    // 2. entries, bundles, level-0 tiles, dedup index; streaming root.
    let mut frontier = Frontier::new();
    let bundles = size.div_ceil(256);
    for b in 0..bundles {
        let start = b * 256;
        let width = tile_width(0, b, size).unwrap_or(0);
        let entries = db.entries(start, usize::from(width))?;
        if entries.len() != usize::from(width) {
            return Err(FsckError::Entry {
                index: start,
                reason: format!(
                    "bundle {b} should have {width} entries, found {}",
                    entries.len()
                ),
            });
        }
        let mut leaves: Vec<Hash> = Vec::with_capacity(entries.len());
        for (k, e) in entries.iter().enumerate() {
            let want = start + k as u64;
            if e.index != want {
                return Err(FsckError::Entry {
                    index: want,
                    reason: "missing".into(),
                });
            }
            let lh = leaf_hash(&e.body);
            match db.index_of_leaf(&lh)? {
                Some(i) if i == want => {}
                other => {
                    return Err(FsckError::Entry {
                        index: want,
                        reason: format!("dedup index points at {other:?}"),
                    })
                }
            }
            frontier.push(lh);
            leaves.push(lh);
        }
        // Full bundles are stored once; a partial one is assembled from the entries on read.
        if width == 256 {
            let bundle = db.bundle_raw(b)?.ok_or_else(|| FsckError::Entry {
                index: start,
                reason: format!("entry bundle {b} missing"),
            })?;
            let decoded = decode_entry_bundle(&bundle).map_err(|e| FsckError::Entry {
                index: start,
                reason: format!("entry bundle {b}: {e}"),
            })?;
            if decoded.len() != entries.len()
                || decoded.iter().zip(&entries).any(|(d, e)| *d != e.body)
            {
                return Err(FsckError::Entry {
                    index: start,
                    reason: format!("entry bundle {b} differs from the stored entries"),
                });
            }
        }
        check_tile(db, 0, b, &leaves)?;
        tiles += 1;
    }
    if db.entry(size)?.is_some() {
        return Err(FsckError::Entry {
            index: size,
            reason: "entry stored beyond the tree size".into(),
        });
    }

    // 3. higher tiles: each hash is the root of the full tile below.
    let mut level: u8 = 1;
    while let Some(_w) = tile_width(level, 0, size) {
        let mut n = 0u64;
        while let Some(width) = tile_width(level, n, size) {
            let mut expect = Vec::with_capacity(usize::from(width));
            for i in 0..u64::from(width) {
                let below = n * 256 + i;
                let data = db
                    .tile_raw(level - 1, below)?
                    .ok_or_else(|| FsckError::Tile {
                        level: level - 1,
                        index: below,
                        reason: "missing".into(),
                    })?;
                if data.len() < 256 * 32 {
                    return Err(FsckError::Tile {
                        level: level - 1,
                        index: below,
                        reason: format!("full tile has only {} bytes", data.len()),
                    });
                }
                let hashes: Vec<Hash> = data[..256 * 32]
                    .chunks_exact(32)
                    .map(|c| {
                        let mut h = [0u8; 32];
                        h.copy_from_slice(c);
                        h
                    })
                    .collect();
                expect.push(root_from_leaves(&hashes));
            }
            check_tile(db, level, n, &expect)?;
            tiles += 1;
            n += 1;
        }
        level += 1;
    }

    // 4. roots.
    for computed in [
        frontier.root(),
        tree_root(size, db).map_err(|e| FsckError::Tile {
            level: 0,
            index: 0,
            reason: e.to_string(),
        })?,
    ] {
        if computed != cp.root {
            return Err(FsckError::Root {
                checkpoint: hex::encode(cp.root),
                computed: hex::encode(computed),
            });
        }
    }
    // 5. the published (witness-cosigned) checkpoint, if any: within the tree, with the
    // tree's root at its size, and signed like the head's.
    if let Some((published, text)) = db.published()? {
        let perr = |m: String| FsckError::Checkpoint(format!("published checkpoint: {m}"));
        if published.size > size {
            return Err(perr(format!(
                "size {} is beyond the tree size {size}",
                published.size
            )));
        }
        let signed = UnverifiedCheckpoint::parse(text.as_bytes())
            .map_err(|e| perr(e.to_string()))?
            .verify_threshold(&verifiers, threshold)
            .map_err(|e| perr(format!("signature: {e}")))?;
        let pcp = signed.checkpoint();
        let root = tree_root(published.size, db).map_err(|e| perr(e.to_string()))?;
        if pcp.size != published.size || pcp.root != published.root || root != published.root {
            return Err(perr(format!(
                "record says size {} root {}, its checkpoint size {} root {}, the tree's root \
                 there is {}",
                published.size,
                hex::encode(published.root),
                pcp.size,
                hex::encode(pcp.root),
                hex::encode(root)
            )));
        }
    }
    Ok(FsckReport {
        size,
        entries: size,
        tiles,
    })
}

fn check_tile(db: &LogDb, level: u8, index: u64, expect: &[Hash]) -> Result<(), FsckError> {
    let data = db.tile_raw(level, index)?.ok_or_else(|| FsckError::Tile {
        level,
        index,
        reason: "missing".into(),
    })?;
    if data.len() < expect.len() * 32 {
        return Err(FsckError::Tile {
            level,
            index,
            reason: format!("{} bytes, need {}", data.len(), expect.len() * 32),
        });
    }
    for (i, h) in expect.iter().enumerate() {
        if data[i * 32..(i + 1) * 32] != h[..] {
            return Err(FsckError::Tile {
                level,
                index,
                reason: format!("hash {i} does not match the data below it"),
            });
        }
    }
    Ok(())
}
