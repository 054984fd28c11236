//! Inclusion proofs with memoized subtree hashes.
//!
//! `signet_proto::merkle::prove_inclusion` recomputes every sibling subtree from the hashes in
//! its tile: up to 255 node hashes per tile level, about 0.3 ms per proof at 10^6 leaves on
//! this machine. The sequencer answers every submission with a proof, so for a batch of a
//! thousand entries that cost would dominate ingest. [`BatchProver`] computes the same RFC 6962 /
//! RFC 9162 audit path for many leaves of one tree size, memoizing complete-subtree hashes
//! across the proofs: the entries of one batch are adjacent, so their proofs share almost
//! every node and a whole batch costs O(batch + log n) hashes. Single proofs on the read path
//! use [`super::prove_inclusion`] directly (a per-request memo would not help).
//!
//! The path decomposition (split at the largest power of two below the range size, complete
//! nodes folded right to left) follows RFC 9162 §2.1.3.1 exactly as [`super::prove_inclusion`]
//! does; the tests cross-check every proof against it.
//!
//! What this module does not do: consistency proofs ([`super::prove_consistency`]), caching
//! across tree sizes, I/O of its own (tiles come through a [`TileReader`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::{
    node_hash, tile_width, Hash, MerkleError, ProofError, TileId, TileReader, EMPTY_ROOT, HASH_SIZE,
};

/// A hasher for the memo keys (small tuples of tree coordinates, not attacker-chosen): a
/// multiply-rotate mix instead of SipHash, which showed up in the sequencer's profile.
#[derive(Default)]
struct CoordHasher(u64);

impl Hasher for CoordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.write_u64(u64::from(v));
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type Memo<K, V> = HashMap<K, V, BuildHasherDefault<CoordHasher>>;

/// Computes inclusion proofs for many leaves of one tree size, sharing subtree hashes.
pub struct BatchProver<'a, R: TileReader> {
    reader: &'a R,
    size: u64,
    tiles: Memo<(u8, u64), Vec<u8>>,
    /// Complete-subtree hashes by (level, index).
    local: Memo<(u32, u64), Hash>,
    /// Hashes of the (possibly incomplete) ranges of the audit paths: the right-edge ranges
    /// are the same for every leaf of a batch.
    ranges: Memo<(u64, u64), Hash>,
}

impl<'a, R: TileReader> BatchProver<'a, R> {
    /// A prover for the tree of `size` leaves readable through `reader`.
    pub fn new(reader: &'a R, size: u64) -> Self {
        Self {
            reader,
            size,
            tiles: Memo::default(),
            local: Memo::default(),
            ranges: Memo::default(),
        }
    }

    /// The inclusion proof (audit path, bottom-up) of leaf `index`.
    ///
    /// # Errors
    /// [`ProofError::IndexOutOfRange`] (wrapped) if `index >= size`; reader errors.
    pub fn prove(&mut self, index: u64) -> Result<Vec<Hash>, MerkleError<R::Error>> {
        if index >= self.size {
            return Err(ProofError::IndexOutOfRange {
                index,
                size: self.size,
            }
            .into());
        }
        let (mut lo, mut hi) = (0u64, self.size);
        let mut ranges = Vec::new();
        while hi - lo > 1 {
            let k = 1u64 << (63 - (hi - lo - 1).leading_zeros());
            if index < lo + k {
                ranges.push((lo + k, hi));
                hi = lo + k;
            } else {
                ranges.push((lo, lo + k));
                lo += k;
            }
        }
        ranges.reverse();
        let mut out = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            out.push(self.range_hash(lo, hi)?);
        }
        Ok(out)
    }

    /// Hash of the RFC 6962 subtree `[lo, hi)` (complete nodes, right fold).
    fn range_hash(&mut self, lo: u64, hi: u64) -> Result<Hash, MerkleError<R::Error>> {
        if let Some(h) = self.ranges.get(&(lo, hi)) {
            return Ok(*h);
        }
        let h = self.range_hash_uncached(lo, hi)?;
        self.ranges.insert((lo, hi), h);
        Ok(h)
    }

    fn range_hash_uncached(&mut self, lo: u64, hi: u64) -> Result<Hash, MerkleError<R::Error>> {
        let mut nodes = Vec::new();
        let mut start = lo;
        let len = hi - lo;
        for level in (0..64u32).rev() {
            if len & (1u64 << level) != 0 {
                nodes.push((level, start >> level));
                start += 1u64 << level;
            }
        }
        let mut hashes = Vec::with_capacity(nodes.len());
        for (level, idx) in nodes {
            hashes.push(self.node(level, idx)?);
        }
        let Some((last, rest)) = hashes.split_last() else {
            return Ok(EMPTY_ROOT);
        };
        Ok(rest.iter().rev().fold(*last, |acc, l| node_hash(l, &acc)))
    }

    fn node(&mut self, level: u32, index: u64) -> Result<Hash, MerkleError<R::Error>> {
        if let Some(h) = self.local.get(&(level, index)) {
            return Ok(*h);
        }
        let h = if level.is_multiple_of(8) {
            self.stored(level / 8, index)?
        } else {
            let l = self.node(level - 1, 2 * index)?;
            let r = self.node(level - 1, 2 * index + 1)?;
            node_hash(&l, &r)
        };
        self.local.insert((level, index), h);
        Ok(h)
    }

    /// The hash stored at position `index` of tile level `tile_level`.
    fn stored(&mut self, tile_level: u32, index: u64) -> Result<Hash, MerkleError<R::Error>> {
        let level =
            u8::try_from(tile_level).map_err(|_| MerkleError::TileCount { got: 0, want: 1 })?;
        let tile_index = index >> 8;
        let offset = usize::try_from(index & 0xff).unwrap_or(0);
        if !self.tiles.contains_key(&(level, tile_index)) {
            let width =
                tile_width(level, tile_index, self.size).ok_or(ProofError::IndexOutOfRange {
                    index,
                    size: self.size,
                })?;
            let id = TileId {
                level,
                index: tile_index,
                width,
            };
            let mut data = self.reader.read_tiles(&[id]).map_err(MerkleError::Reader)?;
            let data = data.pop().unwrap_or_default();
            if data.len() != id.byte_len() {
                return Err(MerkleError::TileLength {
                    tile: id,
                    got: data.len(),
                    want: id.byte_len(),
                });
            }
            self.tiles.insert((level, tile_index), data);
        }
        let data = self
            .tiles
            .get(&(level, tile_index))
            .map_or(&[][..], Vec::as_slice);
        let bytes = data
            .get(offset * HASH_SIZE..(offset + 1) * HASH_SIZE)
            .ok_or(ProofError::IndexOutOfRange {
                index,
                size: self.size,
            })?;
        let mut h = [0u8; 32];
        h.copy_from_slice(bytes);
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::merkle::{leaf_hash, prove_inclusion};
    use crate::tiles::{integrate, MemTiles};

    #[test]
    fn matches_proto_prover() {
        let mut tiles = MemTiles::new();
        let mut size = 0u64;
        // Uneven batches so that partial tiles at several levels are exercised.
        for batch in [1usize, 2, 3, 250, 7, 300, 1000, 65536 - 1563, 1, 513, 70000] {
            let leaves: Vec<Hash> = (size..size + batch as u64)
                .map(|i| leaf_hash(&i.to_be_bytes()))
                .collect();
            let integ = integrate(size, &leaves, &tiles).unwrap();
            tiles.apply(&integ);
            size = integ.size;
            let mut p = BatchProver::new(&tiles, size);
            for idx in [0, size / 3, size / 2, size.saturating_sub(257), size - 1] {
                assert_eq!(
                    p.prove(idx).unwrap(),
                    prove_inclusion(idx, size, &tiles).unwrap(),
                    "index {idx} size {size}"
                );
            }
        }
        assert!(BatchProver::new(&tiles, size).prove(size).is_err());
    }
}
