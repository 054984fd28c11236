//! C2SP tlog-tiles: tile and entry-bundle paths, the entry-bundle codec, and tile integration.
//!
//! Spec: <https://c2sp.org/tlog-tiles>. Hash tiles have height 8: tile `(L, N)` holds at
//! position `i` the RFC 6962 hash of the subtree of height `8*L` whose leftmost leaf is
//! `(N*256 + i) * 256^L`; a partial tile of width `w < 256` is the first `w` hashes.
//!
//! * [`TileId`] / [`TileId::path`] / [`tile_width`] (the tile geometry, defined with the
//!   Merkle proofs that address the tree by it in [`crate::merkle`] and re-exported here) /
//!   [`parse_tile_path`]: `tile/<L>/<N>[.p/<W>]` and
//!   `tile/entries/<N>[.p/<W>]`, with `<N>` in 3-digit groups (`x001/x234/067`). The parser is
//!   strict: it accepts exactly the canonical form.
//! * [`encode_entry_bundle`] / [`decode_entry_bundle`]: big-endian uint16 length-prefixed
//!   entries.
//! * [`integrate`]: pure tile integration. Given the old size, new leaf hashes and a
//!   [`TileReader`] over the current tiles, it returns the new size, root and every tile that
//!   changed; the caller writes them atomically.
//! * [`MemTiles`]: an in-memory tile store and reader (tests, benches, small tools).
//!
//! This module does no I/O and no HTTP, does not sign or parse checkpoints (see
//! [`crate::checkpoint`]), and does not implement pruning or compression.

use std::collections::HashMap;

use crate::merkle::{
    check_tiles, fold_right, push_index, push_index_and_width, row_len, subtree_root, Hash,
    MerkleError, TileReader, HASH_SIZE,
};
pub use crate::merkle::{tile_width, TileId, TILE_HEIGHT, TILE_WIDTH};

/// Size of a full hash tile in bytes (256 * 32).
pub const FULL_TILE_BYTES: usize = 256 * HASH_SIZE;

/// Highest tile level a path may name (C2SP: 0 to 63).
pub const MAX_TILE_LEVEL: u8 = 63;

/// Number of tile levels a tree with a `u64` size can have (levels 0 to 7).
const TREE_TILE_LEVELS: u32 = 8;

/// The path of an entry bundle: `tile/entries/<N>[.p/<W>]`.
#[must_use]
pub fn entry_bundle_path(index: u64, width: u16) -> String {
    let mut s = String::from("tile/entries/");
    push_index_and_width(&mut s, index, width);
    s
}

/// A parsed tile path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePath {
    /// A hash tile `tile/<L>/<N>[.p/<W>]`.
    Hash(TileId),
    /// An entry bundle `tile/entries/<N>[.p/<W>]`.
    Entries {
        /// Bundle index `N` (covers leaves `N*256 ..`).
        index: u64,
        /// Number of entries, 1..=256 (256 = full bundle).
        width: u16,
    },
}

impl TilePath {
    /// The canonical path string.
    #[must_use]
    pub fn path(&self) -> String {
        match self {
            Self::Hash(t) => t.path(),
            Self::Entries { index, width } => entry_bundle_path(*index, *width),
        }
    }
}

/// Why a tile path was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TilePathError {
    /// The path does not start with `tile/`, or has no index part.
    #[error("not a tile path")]
    NotTilePath,
    /// The level is not a canonical decimal number in 0..=63.
    #[error("bad tile level {component:?}")]
    BadLevel {
        /// The offending path component.
        component: String,
    },
    /// The index is not in canonical 3-digit-group form, or overflows 64 bits.
    #[error("bad tile index {component:?}")]
    BadIndex {
        /// The offending index part.
        component: String,
    },
    /// The partial width is not a canonical decimal number in 1..=255.
    #[error("bad partial tile width {component:?}")]
    BadWidth {
        /// The offending width part.
        component: String,
    },
}

/// Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (no leading slash, no prefix).
///
/// Only the canonical form is accepted: level 0..=63 without leading zeros, index groups of
/// exactly three digits with `x` on all but the last and no leading all-zero group, width
/// 1..=255 without leading zeros.
///
/// # Errors
///
/// A [`TilePathError`] naming the part that is wrong.
pub fn parse_tile_path(path: &str) -> Result<TilePath, TilePathError> {
    let rest = path
        .strip_prefix("tile/")
        .ok_or(TilePathError::NotTilePath)?;
    let (first, rest) = rest.split_once('/').ok_or(TilePathError::NotTilePath)?;
    let level = if first == "entries" {
        None
    } else {
        Some(parse_level(first)?)
    };
    let (index_part, width) = match rest.split_once(".p/") {
        Some((i, w)) => (i, parse_width(w)?),
        None => (rest, TILE_WIDTH),
    };
    let index = parse_index(index_part)?;
    Ok(match level {
        Some(level) => TilePath::Hash(TileId {
            level,
            index,
            width,
        }),
        None => TilePath::Entries { index, width },
    })
}

fn is_canonical_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && !(s.len() > 1 && s.starts_with('0'))
}

fn parse_level(s: &str) -> Result<u8, TilePathError> {
    let bad = || TilePathError::BadLevel {
        component: s.to_owned(),
    };
    if !is_canonical_decimal(s) || s.len() > 2 {
        return Err(bad());
    }
    let level: u8 = s.parse().map_err(|_| bad())?;
    if level > MAX_TILE_LEVEL {
        return Err(bad());
    }
    Ok(level)
}

fn parse_width(s: &str) -> Result<u16, TilePathError> {
    let bad = || TilePathError::BadWidth {
        component: s.to_owned(),
    };
    if !is_canonical_decimal(s) || s.len() > 3 {
        return Err(bad());
    }
    let w: u16 = s.parse().map_err(|_| bad())?;
    if w == 0 || w >= TILE_WIDTH {
        return Err(bad());
    }
    Ok(w)
}

fn parse_index(s: &str) -> Result<u64, TilePathError> {
    let bad = || TilePathError::BadIndex {
        component: s.to_owned(),
    };
    let groups: Vec<&str> = s.split('/').collect();
    let last = groups.len() - 1;
    let mut n: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let digits = if i < last {
            g.strip_prefix('x').ok_or_else(bad)?
        } else {
            g
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let v: u64 = digits.parse().map_err(|_| bad())?;
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(v))
            .ok_or_else(bad)?;
    }
    // Reject non-canonical forms such as a leading `x000/` group.
    let mut canonical = String::with_capacity(s.len());
    push_index(&mut canonical, n);
    if canonical != s {
        return Err(bad());
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Entry bundles.

/// Entry-bundle encoding or decoding failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// An entry is longer than a uint16 length prefix can express.
    #[error("entry {index} is {len} bytes, more than 65535")]
    EntryTooLarge {
        /// Position of the entry in the bundle.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// The bundle ends inside a length prefix or an entry.
    #[error("entry bundle truncated at offset {offset}: need {need} bytes, {have} left")]
    Truncated {
        /// Offset of the length prefix or entry that is cut short.
        offset: usize,
        /// Bytes needed from that offset.
        need: usize,
        /// Bytes available from that offset.
        have: usize,
    },
}

/// Appends one length-prefixed entry to a bundle being built.
///
/// # Errors
///
/// [`BundleError::EntryTooLarge`] (with `index` 0) if the entry exceeds 65535 bytes.
pub fn append_bundle_entry(bundle: &mut Vec<u8>, entry: &[u8]) -> Result<(), BundleError> {
    let len = u16::try_from(entry.len()).map_err(|_| BundleError::EntryTooLarge {
        index: 0,
        len: entry.len(),
    })?;
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
    Ok(())
}

/// Encodes entries as an entry bundle (big-endian uint16 length, then the bytes, each).
///
/// # Errors
///
/// [`BundleError::EntryTooLarge`] if an entry exceeds 65535 bytes.
pub fn encode_entry_bundle<T: AsRef<[u8]>>(entries: &[T]) -> Result<Vec<u8>, BundleError> {
    let total: usize = entries.iter().map(|e| e.as_ref().len() + 2).sum();
    let mut out = Vec::with_capacity(total);
    for (index, e) in entries.iter().enumerate() {
        append_bundle_entry(&mut out, e.as_ref()).map_err(|_| BundleError::EntryTooLarge {
            index,
            len: e.as_ref().len(),
        })?;
    }
    Ok(out)
}

/// Decodes an entry bundle into its entries.
///
/// # Errors
///
/// [`BundleError::Truncated`] if the data ends inside a length prefix or an entry.
pub fn decode_entry_bundle(data: &[u8]) -> Result<Vec<Vec<u8>>, BundleError> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    while offset < data.len() {
        let have = data.len() - offset;
        let Some(prefix) = data.get(offset..offset + 2) else {
            return Err(BundleError::Truncated {
                offset,
                need: 2,
                have,
            });
        };
        let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        let start = offset + 2;
        let Some(entry) = data.get(start..start + len) else {
            return Err(BundleError::Truncated {
                offset: start,
                need: len,
                have: data.len() - start,
            });
        };
        out.push(entry.to_vec());
        offset = start + len;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Tree geometry helpers.

/// The partial tiles on the right edge of a tree of `size` leaves, lowest level first (at most
/// one per level; none at levels where the row length is a multiple of 256).
#[must_use]
pub fn right_edge_tiles(size: u64) -> Vec<TileId> {
    let mut out = Vec::new();
    for level in 0..TREE_TILE_LEVELS {
        let row = row_len(level, size);
        if row == 0 {
            break;
        }
        let w = row % u64::from(TILE_WIDTH);
        if w != 0 {
            out.push(TileId {
                level: u8::try_from(level).unwrap_or(u8::MAX),
                index: row / u64::from(TILE_WIDTH),
                width: u16::try_from(w).unwrap_or(TILE_WIDTH),
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Integration.

/// The result of [`integrate`]: the new tree and every tile that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    /// New tree size.
    pub size: u64,
    /// New root hash.
    pub root: Hash,
    /// Every tile (full or partial, at every level) that is new or grew, with its complete
    /// contents at the new size (`tile.width * 32` bytes), ordered by level then index.
    pub tiles: Vec<(TileId, Vec<u8>)>,
}

/// Appends `new_leaves` (leaf hashes) to the tree of `old_size` leaves stored in `reader`.
///
/// Reads only the old tree's right-edge partial tiles (at most 8, in one `read_tiles` call;
/// none when `old_size` is a multiple of 256 at every level) and hashes each new full tile
/// once, so the cost is O(new leaves + log n). Nothing is written: the caller stores the
/// returned tiles (for example in one atomic batch).
///
/// # Errors
///
/// [`MerkleError::SizeOverflow`] if the size would overflow; reader errors and malformed
/// tiles as in [`crate::merkle::tree_root`].
pub fn integrate<R: TileReader>(
    old_size: u64,
    new_leaves: &[Hash],
    reader: &R,
) -> Result<Integration, MerkleError<R::Error>> {
    let overflow = || MerkleError::SizeOverflow {
        old_size,
        added: new_leaves.len(),
    };
    let added = u64::try_from(new_leaves.len()).map_err(|_| overflow())?;
    let new_size = old_size.checked_add(added).ok_or_else(overflow)?;

    let reads = right_edge_tiles(old_size);
    let data = if reads.is_empty() {
        Vec::new()
    } else {
        reader.read_tiles(&reads).map_err(MerkleError::Reader)?
    };
    check_tiles(&reads, &data)?;
    let old_edge = |level: u32| -> Option<&[u8]> {
        reads
            .iter()
            .position(|t| u32::from(t.level) == level)
            .map(|i| data[i].as_slice())
    };

    let mut tiles: Vec<(TileId, Vec<u8>)> = Vec::new();
    // Partial tile contents at each level for the new size (used for the root).
    let mut new_edge: Vec<Vec<u8>> = vec![Vec::new(); 8];
    // Hashes appended at the current level, back to back.
    let mut incoming: Vec<u8> = new_leaves.concat();
    for level in 0..TREE_TILE_LEVELS {
        let old_row = row_len(level, old_size);
        let new_row = row_len(level, new_size);
        if new_row == 0 {
            break;
        }
        let level_u8 = u8::try_from(level).unwrap_or(u8::MAX);
        let slot = &mut new_edge[usize::from(level_u8)];
        if new_row == old_row {
            // Nothing appended at this level (nor above): the old partial tile stays.
            if let Some(old) = old_edge(level) {
                *slot = old.to_vec();
            }
            continue;
        }
        let first = old_row / u64::from(TILE_WIDTH);
        let mut buf = Vec::with_capacity(incoming.len() + FULL_TILE_BYTES);
        if let Some(old) = old_edge(level) {
            buf.extend_from_slice(old);
        }
        buf.extend_from_slice(&incoming);
        let mut next = Vec::with_capacity(buf.len() / FULL_TILE_BYTES * HASH_SIZE);
        for (index, chunk) in (first..).zip(buf.chunks(FULL_TILE_BYTES)) {
            let width = u16::try_from(chunk.len() / HASH_SIZE).unwrap_or(TILE_WIDTH);
            tiles.push((
                TileId {
                    level: level_u8,
                    index,
                    width,
                },
                chunk.to_vec(),
            ));
            if width == TILE_WIDTH {
                next.extend_from_slice(&subtree_root(chunk));
            } else {
                *slot = chunk.to_vec();
            }
        }
        incoming = next;
    }

    Ok(Integration {
        size: new_size,
        root: root_from_edge(&new_edge),
        tiles,
    })
}

/// The tree root from the right-edge partial tiles (index = level) of a tree.
fn root_from_edge(edge: &[Vec<u8>]) -> Hash {
    let mut nodes = Vec::new();
    for tile in edge.iter().rev() {
        let width = tile.len() / HASH_SIZE;
        let mut offset = 0usize;
        for r in (0..TILE_HEIGHT).rev() {
            let span = 1usize << r;
            if width & span != 0 {
                nodes.push(subtree_root(
                    &tile[offset * HASH_SIZE..(offset + span) * HASH_SIZE],
                ));
                offset += span;
            }
        }
    }
    fold_right(&nodes)
}

// ---------------------------------------------------------------------------------------------
// In-memory store.

/// Error from [`MemTiles`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemTilesError {
    /// The tile is not stored, or is stored narrower than requested.
    #[error("tile {tile} missing (stored bytes: {stored})")]
    Missing {
        /// The tile requested.
        tile: TileId,
        /// Bytes stored under its level and index (0 if none).
        stored: usize,
    },
}

/// An in-memory tile store keeping the newest version of each tile, as the storage contract
/// in `docs/ARCHITECTURE.md` describes. Implements [`TileReader`].
#[derive(Debug, Clone, Default)]
pub struct MemTiles {
    tiles: HashMap<(u8, u64), Vec<u8>>,
}

impl MemTiles {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores one tile version (replacing any narrower one).
    pub fn insert(&mut self, tile: TileId, data: Vec<u8>) {
        self.tiles.insert((tile.level, tile.index), data);
    }

    /// Stores every tile of an [`Integration`].
    pub fn apply(&mut self, integration: &Integration) {
        for (t, d) in &integration.tiles {
            self.insert(*t, d.clone());
        }
    }

    /// The stored (newest) contents of tile `(level, index)`.
    #[must_use]
    pub fn get(&self, level: u8, index: u64) -> Option<&[u8]> {
        self.tiles.get(&(level, index)).map(Vec::as_slice)
    }

    /// Number of stored tiles.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// Whether nothing is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }
}

impl TileReader for MemTiles {
    type Error = MemTilesError;

    fn read_tiles(&self, tiles: &[TileId]) -> Result<Vec<Vec<u8>>, Self::Error> {
        tiles
            .iter()
            .map(|t| {
                let stored = self.tiles.get(&(t.level, t.index));
                match stored.and_then(|d| d.get(..t.byte_len())) {
                    Some(prefix) => Ok(prefix.to_vec()),
                    None => Err(MemTilesError::Missing {
                        tile: *t,
                        stored: stored.map_or(0, Vec::len),
                    }),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c2sp_example_index() {
        assert_eq!(TileId::full(0, 1_234_067).path(), "tile/0/x001/x234/067");
        assert_eq!(
            TileId {
                level: 2,
                index: 5,
                width: 17
            }
            .path(),
            "tile/2/005.p/17"
        );
        assert_eq!(entry_bundle_path(1000, 256), "tile/entries/x001/000");
    }

    #[test]
    fn c2sp_example_size_70000() {
        // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial
        // level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width
        // 17, and one partial level 2 tile of width 1."
        let edge = right_edge_tiles(70_000);
        assert_eq!(
            edge,
            vec![
                TileId {
                    level: 0,
                    index: 273,
                    width: 112
                },
                TileId {
                    level: 1,
                    index: 1,
                    width: 17
                },
                TileId {
                    level: 2,
                    index: 0,
                    width: 1
                },
            ]
        );
        assert_eq!(tile_width(1, 0, 70_000), Some(256));
        assert_eq!(tile_width(0, 272, 70_000), Some(256));
        assert_eq!(tile_width(0, 274, 70_000), None);
        assert_eq!(tile_width(3, 0, 70_000), None);
    }
}
