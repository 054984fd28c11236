//! The tile coordinates of a Merkle tree, as C2SP tlog-tiles lays the tree out: tile height
//! 8, [`TileId`] with its path `tile/<L>/<N>[.p/<W>]`, and the width a tile has at a tree size.
//!
//! Spec: <https://c2sp.org/tlog-tiles>. The geometry is what [`super::TileReader`] and the
//! proof generation of [`super`] address the tree by; [`crate::tiles`] builds on it (path
//! parsing, entry bundles, integration) and re-exports these items. This module hashes
//! nothing and parses nothing.

use std::fmt::Write as _;

use super::HASH_SIZE;

/// Tile height: each tile spans 8 levels of the Merkle tree.
pub const TILE_HEIGHT: u32 = 8;

/// Width of a full tile, in hashes (or entries, for entry bundles).
pub const TILE_WIDTH: u16 = 256;

/// One hash tile, at a given width.
///
/// Valid values have `level <= 63` and `1 <= width <= 256` (256 = full tile);
/// [`crate::tiles::parse_tile_path`] only returns such values and [`crate::tiles::integrate`]
/// only produces them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Tile level `L` (0 holds leaf hashes).
    pub level: u8,
    /// Tile index `N` within the level.
    pub index: u64,
    /// Number of hashes, 1..=256.
    pub width: u16,
}

impl TileId {
    /// A full (256-wide) tile.
    #[must_use]
    pub fn full(level: u8, index: u64) -> Self {
        Self {
            level,
            index,
            width: TILE_WIDTH,
        }
    }

    /// Whether this is a full tile (width 256).
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The tile's path: `tile/<L>/<N>[.p/<W>]`, `<N>` in C2SP 3-digit groups.
    #[must_use]
    pub fn path(&self) -> String {
        let mut s = format!("tile/{}/", self.level);
        push_index_and_width(&mut s, self.index, self.width);
        s
    }

    /// Number of bytes this tile holds (`width * 32`).
    #[must_use]
    pub fn byte_len(&self) -> usize {
        usize::from(self.width) * HASH_SIZE
    }
}

impl std::fmt::Display for TileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path())
    }
}

/// Appends `<N>[.p/<W>]` (the index in 3-digit groups, the width when partial).
pub(crate) fn push_index_and_width(s: &mut String, index: u64, width: u16) {
    push_index(s, index);
    if width != TILE_WIDTH {
        // Writing to a String cannot fail.
        let _ = write!(s, ".p/{width}");
    }
}

/// Appends `n` as zero-padded 3-digit groups, all but the last prefixed with `x`.
pub(crate) fn push_index(s: &mut String, mut n: u64) {
    let mut groups = Vec::with_capacity(7);
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let last = groups.len() - 1;
    for (i, g) in groups.iter().rev().enumerate() {
        if i > 0 {
            s.push('/');
        }
        if i < last {
            s.push('x');
        }
        // Writing to a String cannot fail.
        let _ = write!(s, "{g:03}");
    }
}

/// Number of hashes at tile level `level` in a tree of `size` leaves (`size / 256^level`).
pub(crate) fn row_len(level: u32, size: u64) -> u64 {
    size.checked_shr(level * TILE_HEIGHT).unwrap_or(0)
}

/// Width of tile `(level, index)` (or of entry bundle `index` when `level` is 0) in a tree of
/// `size` leaves; `None` if that tile does not exist yet.
#[must_use]
pub fn tile_width(level: u8, index: u64, size: u64) -> Option<u16> {
    let row = row_len(u32::from(level), size);
    let start = index.checked_mul(u64::from(TILE_WIDTH))?;
    if row <= start {
        return None;
    }
    u16::try_from((row - start).min(u64::from(TILE_WIDTH))).ok()
}
