//! Tile interiors: the hashes of the complete subtrees inside a hash tile, kept so that a
//! proof looks them up instead of rehashing up to 255 nodes per tile level.
//!
//! A hash tile holds the 256 hashes of one tree level `8*L`; the seven levels above them up
//! to (not including) the next tile level are its interior. Every node of the interior that
//! covers only hashes inside the tile's width is a complete subtree, so its hash never
//! changes, even while the tile itself is still partial: a [`TileInterior`] computed at
//! width `w` stays valid for every larger width and every later tree size. That is what
//! makes caching safe; [`InteriorCache`] is the hook a caller implements (with its own
//! memory bound) and [`super::prove_inclusion_cached`] /
//! [`super::prove_consistency_cached`] use. This module holds no cache itself and does no
//! I/O.

use std::sync::Arc;

use super::{node_hash, Hash, HASH_SIZE, TILE_HEIGHT};

/// The interior hashes of one tile (at the width it had when they were computed), from
/// in-tile height `from` up to 7.
///
/// Height 0 is the tile's own hashes; height `r` holds `width >> r` hashes, the `i`-th being
/// the root of the tile's hashes `[i * 2^r, (i + 1) * 2^r)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileInterior {
    width: u16,
    from: u32,
    /// Heights `from..=7` back to back.
    hashes: Vec<Hash>,
    /// Start of each height's hashes in `hashes` (entries below `from` unused).
    starts: [usize; 8],
}

impl TileInterior {
    /// Computes the interior of a tile from its bytes (`width * 32` bytes, `1 <= width <=
    /// 256`), keeping heights `from..=7` (`from` is clamped to 7). Costs `width - 1` hash
    /// computations at most.
    ///
    /// Trailing bytes short of a whole hash are ignored.
    #[must_use]
    pub fn new(tile: &[u8], from: u32) -> Self {
        let from = from.min(TILE_HEIGHT - 1);
        let mut row: Vec<Hash> = tile
            .chunks_exact(HASH_SIZE)
            .take(256)
            .map(|c| {
                let mut h = [0u8; HASH_SIZE];
                h.copy_from_slice(c);
                h
            })
            .collect();
        let width = u16::try_from(row.len()).unwrap_or(u16::MAX);
        let mut hashes = Vec::new();
        let mut starts = [0usize; 8];
        for height in 0..TILE_HEIGHT {
            if height >= from {
                starts[usize::try_from(height).unwrap_or(0)] = hashes.len();
                hashes.extend_from_slice(&row);
            }
            if height + 1 < TILE_HEIGHT {
                row = row
                    .chunks_exact(2)
                    .map(|p| node_hash(&p[0], &p[1]))
                    .collect();
            }
        }
        hashes.shrink_to_fit();
        Self {
            width,
            from,
            hashes,
            starts,
        }
    }

    /// The tile width these hashes were computed at.
    #[must_use]
    pub fn width(&self) -> u16 {
        self.width
    }

    /// The lowest in-tile height kept.
    #[must_use]
    pub fn from_height(&self) -> u32 {
        self.from
    }

    /// Bytes of hash data held (for a cache's memory accounting).
    #[must_use]
    pub fn byte_len(&self) -> usize {
        self.hashes.len() * HASH_SIZE
    }

    /// The hash of the node at in-tile height `height` whose first tile hash is at `offset`
    /// (a multiple of `2^height`), or `None` when that height is not kept or the node is not
    /// complete at this width.
    #[must_use]
    pub fn node(&self, height: u32, offset: usize) -> Option<Hash> {
        if height < self.from || height >= TILE_HEIGHT {
            return None;
        }
        let span = 1usize << height;
        if !offset.is_multiple_of(span) || offset + span > usize::from(self.width) {
            return None;
        }
        let start = self.starts[usize::try_from(height).ok()?];
        self.hashes.get(start + (offset >> height)).copied()
    }
}

/// A store of [`TileInterior`]s keyed by tile coordinates `(level, index)`, shared by the
/// proofs served from one tree. Implementations bound their own memory (evicting is always
/// safe: a miss only costs the hashing again) and are called from many threads.
pub trait InteriorCache {
    /// The interior kept for tile `(level, index)`, if any (at whatever width it was
    /// computed; callers check [`TileInterior::node`]).
    fn get(&self, level: u8, index: u64) -> Option<Arc<TileInterior>>;

    /// Offers a freshly computed interior; the cache may keep it, keep a wider one it already
    /// has, or drop it.
    fn insert(&self, level: u8, index: u64, interior: Arc<TileInterior>);

    /// The lowest in-tile height worth keeping for tiles of `level`: nodes below it are
    /// hashed from the tile on every proof (at most `2^from - 1` hashes), nodes at or above
    /// it are looked up. 0 keeps the tile's own hashes too, so a proof need not read it.
    fn keep_from(&self, level: u8) -> u32;
}

impl<C: InteriorCache + ?Sized> InteriorCache for &C {
    fn get(&self, level: u8, index: u64) -> Option<Arc<TileInterior>> {
        (**self).get(level, index)
    }
    fn insert(&self, level: u8, index: u64, interior: Arc<TileInterior>) {
        (**self).insert(level, index, interior);
    }
    fn keep_from(&self, level: u8) -> u32 {
        (**self).keep_from(level)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{leaf_hash, subtree_root};
    use super::*;

    fn tile(width: usize) -> Vec<u8> {
        (0..width)
            .flat_map(|i| leaf_hash(&i.to_be_bytes()))
            .collect()
    }

    #[test]
    fn every_complete_node_matches_direct_hashing() {
        for width in [1usize, 2, 3, 7, 16, 100, 129, 255, 256] {
            let t = tile(width);
            for from in 0..8 {
                let int = TileInterior::new(&t, from);
                assert_eq!(usize::from(int.width()), width);
                for height in 0..8u32 {
                    let span = 1usize << height;
                    for offset in (0..256).step_by(span) {
                        let got = int.node(height, offset);
                        if height < from || offset + span > width {
                            assert_eq!(got, None, "w{width} from{from} h{height} o{offset}");
                        } else {
                            let want = subtree_root(&t[offset * 32..(offset + span) * 32]);
                            assert_eq!(got, Some(want), "w{width} h{height} o{offset}");
                        }
                    }
                    // Unaligned offsets are refused.
                    if height > 0 {
                        assert_eq!(int.node(height, 1), None);
                    }
                }
            }
        }
    }

    #[test]
    fn memory_is_the_kept_heights() {
        let t = tile(256);
        assert_eq!(TileInterior::new(&t, 0).byte_len(), 510 * 32);
        assert_eq!(TileInterior::new(&t, 4).byte_len(), (16 + 8 + 4 + 2) * 32);
        assert_eq!(TileInterior::new(&t, 7).byte_len(), 2 * 32);
        assert_eq!(TileInterior::new(&t, 9).from_height(), 7);
    }
}
