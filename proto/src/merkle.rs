//! RFC 6962 / RFC 9162 Merkle tree hashing, proof generation and proof verification.
//!
//! * Hashing (RFC 6962 §2.1): [`leaf_hash`] = SHA-256(0x00 ‖ data), [`node_hash`] =
//!   SHA-256(0x01 ‖ left ‖ right), and [`EMPTY_ROOT`] = SHA-256("").
//! * Proof generation ([`tree_root`], [`prove_inclusion`], [`prove_consistency`]) reads the
//!   tree through a [`TileReader`] laid out as C2SP tlog-tiles hash tiles (height 8, tile
//!   coordinates [`TileId`] in the submodule `tile`). Each operation works out every tile it needs first and then asks the
//!   reader for all of them in one [`TileReader::read_tiles`] call: O(log n) tiles, never the
//!   whole tree. The `*_tiles` functions ([`tree_root_tiles`], [`inclusion_proof_tiles`],
//!   [`consistency_proof_tiles`]) list those tiles up front, so an asynchronous caller can
//!   fetch them first and then run the operation over a preloaded reader.
//! * [`prove_inclusion_cached`] and [`prove_consistency_cached`] give the same proofs with the
//!   complete subtrees inside tiles looked up in an [`InteriorCache`] of [`TileInterior`]s
//!   (immutable once complete), so a reader that keeps them serves a proof with a few lookups.
//! * Proof verification ([`verify_inclusion`], [`root_from_inclusion_proof`],
//!   [`verify_consistency`]) follows RFC 9162 §2.1.3.2 and §2.1.4.2, with the proof length
//!   checked up front and the edge cases (old size 0, equal sizes) handled as
//!   transparency-dev/merkle's `proof` package does (commit
//!   417fb0c314750d94e53942e9f92e79b6d35915db).
//! * [`root_from_leaves`] and [`Frontier`] compute roots from a full, in-order list of leaf
//!   hashes (for fsck, audits and tests).
//!
//! This module does no I/O, stores nothing, and neither parses tile paths nor knows entry
//! bundles or integration ([`crate::tiles`], built on this module). It only supports SHA-256.

use std::sync::Arc;

use aws_lc_rs::digest;

mod batch;
mod interior;
mod tile;
pub use batch::BatchProver;
pub use interior::{InteriorCache, TileInterior};
pub(crate) use tile::{push_index, push_index_and_width, row_len};
pub use tile::{tile_width, TileId, TILE_HEIGHT, TILE_WIDTH};

/// [`TILE_WIDTH`] as a `u64` (2^8 = 256).
const TILE_WIDTH_U64: u64 = 1 << TILE_HEIGHT;

/// A SHA-256 Merkle tree hash.
pub type Hash = [u8; 32];

/// Size of a [`Hash`](type@Hash) in bytes.
pub const HASH_SIZE: usize = 32;

/// The root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1).
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

fn digest_to_hash(d: &digest::Digest) -> Hash {
    let mut out = [0u8; HASH_SIZE];
    out.copy_from_slice(d.as_ref());
    out
}

/// RFC 6962 leaf hash: SHA-256(0x00 ‖ data).
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[0x00]);
    ctx.update(data);
    digest_to_hash(&ctx.finish())
}

/// RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right).
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 1 + 2 * HASH_SIZE];
    buf[0] = 0x01;
    buf[1..=HASH_SIZE].copy_from_slice(left);
    buf[1 + HASH_SIZE..].copy_from_slice(right);
    digest_to_hash(&digest::digest(&digest::SHA256, &buf))
}

/// Converts a byte slice (for example a decoded base64 proof element) into a [`Hash`](type@Hash).
///
/// # Errors
///
/// [`ProofError::BadHashLength`] if `bytes` is not exactly 32 bytes long.
pub fn hash_from_slice(bytes: &[u8]) -> Result<Hash, ProofError> {
    Hash::try_from(bytes).map_err(|_| ProofError::BadHashLength { got: bytes.len() })
}

/// Synchronous access to stored hash tiles (C2SP tlog-tiles layout, height 8).
///
/// Tile `(level L, index N)` holds at position `i` the hash of the complete subtree of height
/// `8*L` whose leftmost leaf is `(N*256 + i) * 256^L`. A partial tile of width `w` is the
/// first `w*32` bytes of the stored (newest) version of that tile.
pub trait TileReader {
    /// The reader's own error type (storage or network failure, missing tile, ...).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Returns the contents of each requested tile, in request order, each exactly
    /// `width * 32` bytes long.
    ///
    /// # Errors
    ///
    /// Whatever the underlying store reports, for example a missing tile.
    fn read_tiles(&self, tiles: &[TileId]) -> Result<Vec<Vec<u8>>, Self::Error>;
}

impl<T: TileReader + ?Sized> TileReader for &T {
    type Error = T::Error;
    fn read_tiles(&self, tiles: &[TileId]) -> Result<Vec<Vec<u8>>, Self::Error> {
        (**self).read_tiles(tiles)
    }
}

/// Why a proof was rejected, or why proof arguments are invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof has the wrong number of hashes for these sizes/indexes.
    #[error("wrong proof size: got {got} hashes, want {want}")]
    WrongProofSize {
        /// Number of hashes in the proof.
        got: usize,
        /// Number of hashes required.
        want: usize,
    },
    /// The old tree size is larger than the new tree size.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizeOrder {
        /// The old (first) tree size.
        old_size: u64,
        /// The new (second) tree size.
        new_size: u64,
    },
    /// A consistency proof from the empty tree was given or requested (meaningless, as in
    /// transparency-dev/merkle).
    #[error("consistency proof from the empty tree is meaningless")]
    EmptyOldTree,
    /// The root recomputed from the proof does not match the expected (new) root.
    #[error(
        "root mismatch: calculated {}, expected {}",
        hex::encode(calculated),
        hex::encode(expected)
    )]
    RootMismatch {
        /// The root hash the caller expected.
        expected: Hash,
        /// The root hash recomputed from the proof.
        calculated: Hash,
    },
    /// The consistency proof does not reproduce the old tree's root.
    #[error(
        "old root mismatch: calculated {}, expected {}",
        hex::encode(calculated),
        hex::encode(expected)
    )]
    OldRootMismatch {
        /// The old root hash the caller gave.
        expected: Hash,
        /// The old root hash recomputed from the proof.
        calculated: Hash,
    },
    /// A hash was not 32 bytes long (see [`hash_from_slice`]).
    #[error("hash has {got} bytes, want 32")]
    BadHashLength {
        /// Length of the rejected value.
        got: usize,
    },
}

/// Failure of a tree operation that reads tiles ([`tree_root`], [`prove_inclusion`],
/// [`prove_consistency`], [`crate::tiles::integrate`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError<E: std::error::Error + 'static> {
    /// The tile reader failed.
    #[error("tile reader: {0}")]
    Reader(#[source] E),
    /// The reader returned a different number of tiles than requested.
    #[error("tile reader returned {got} tiles, {want} requested")]
    TileCount {
        /// Tiles returned.
        got: usize,
        /// Tiles requested.
        want: usize,
    },
    /// The reader returned a tile with the wrong length.
    #[error("tile {} has {got} bytes, want {want}", tile.path())]
    TileLength {
        /// The tile requested.
        tile: TileId,
        /// Bytes returned.
        got: usize,
        /// Bytes expected (`width * 32`).
        want: usize,
    },
    /// The arguments are invalid (index out of range, sizes in the wrong order, ...).
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// Appending the leaves would overflow the 64-bit tree size.
    #[error("tree size overflow: {old_size} + {added}")]
    SizeOverflow {
        /// Size before the append.
        old_size: u64,
        /// Number of leaves appended.
        added: usize,
    },
}

// ---------------------------------------------------------------------------------------------
// Tree geometry.

/// A complete (perfect) subtree: the node at height `level` covering leaves
/// `[index << level, (index + 1) << level)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeId {
    pub(crate) level: u32,
    pub(crate) index: u64,
}

/// Largest power of two strictly smaller than `n`; `n` must be at least 2.
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The complete subtrees whose concatenation is the RFC 6962 subtree `[lo, hi)`, left to right.
///
/// `lo` must be aligned as in the RFC recursion over `[0, size)` (a multiple of the smallest
/// power of two not less than `hi - lo`), which holds for every range a proof uses. Then the
/// subtree hash is the right fold of the returned nodes (see [`fold_right`]).
fn range_nodes(lo: u64, hi: u64, out: &mut Vec<NodeId>) {
    let mut start = lo;
    let len = hi - lo;
    for level in (0..64u32).rev() {
        if len & (1u64 << level) != 0 {
            out.push(NodeId {
                level,
                index: start >> level,
            });
            start += 1u64 << level;
        }
    }
}

/// Hash of `[l0, l1, ..., lk]` as `H(l0, H(l1, ... H(lk-1, lk)))`; [`EMPTY_ROOT`] when empty.
pub(crate) fn fold_right(hashes: &[Hash]) -> Hash {
    match hashes.split_last() {
        None => EMPTY_ROOT,
        Some((last, rest)) => rest.iter().rev().fold(*last, |acc, l| node_hash(l, &acc)),
    }
}

/// The ranges (as RFC 6962 subtrees) whose hashes form PATH(index, D[0:size]), bottom-up.
fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut hi) = (0u64, size);
    let mut out = Vec::new();
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
        }
    }
    out.reverse();
    out
}

/// The ranges whose hashes form PROOF(old, D[0:new]) (RFC 9162 §2.1.4.1), in proof order.
/// Requires `0 < old <= new`.
fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut hi, mut m, mut b) = (0u64, new, old, true);
    let mut out = Vec::new();
    loop {
        if m == hi - lo {
            if !b {
                out.push((lo, hi));
            }
            break;
        }
        let k = split_point(hi - lo);
        if m <= k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            m -= k;
            lo += k;
            b = false;
        }
    }
    out.reverse();
    out
}

/// The tile holding the hashes that make up `node`, at the width it has in a tree of `size`,
/// plus the node's offset (in hashes) and span inside it.
fn node_tile(node: NodeId, size: u64) -> (TileId, usize, usize) {
    let tile_level = node.level / TILE_HEIGHT;
    let r = node.level % TILE_HEIGHT;
    let first = node.index << r; // index of the first covered hash on the tile's level
    let tile_index = first >> TILE_HEIGHT;
    let row_len = size >> (tile_level * TILE_HEIGHT);
    let in_tile = row_len - (tile_index << TILE_HEIGHT);
    let width = in_tile.min(TILE_WIDTH_U64);
    // Both values are below 256, so these conversions are lossless.
    let offset = usize::from(u8::try_from(first & 0xff).unwrap_or(u8::MAX));
    (
        TileId {
            level: u8::try_from(tile_level).unwrap_or(u8::MAX),
            index: tile_index,
            width: u16::try_from(width).unwrap_or(u16::MAX),
        },
        offset,
        1usize << r,
    )
}

/// Merkle root of `count` consecutive hashes (a power of two) stored back to back in `bytes`.
pub(crate) fn subtree_root(bytes: &[u8]) -> Hash {
    let mut level: Vec<Hash> = bytes
        .chunks_exact(HASH_SIZE)
        .map(|c| {
            let mut h = [0u8; HASH_SIZE];
            h.copy_from_slice(c);
            h
        })
        .collect();
    let mut n = level.len();
    while n > 1 {
        for i in 0..n / 2 {
            level[i] = node_hash(&level[2 * i], &level[2 * i + 1]);
        }
        n /= 2;
    }
    level.first().copied().unwrap_or(EMPTY_ROOT)
}

/// Tiles needed to hash `nodes` in a tree of `size`, deduplicated, in first-use order.
fn tiles_for_nodes(nodes: &[NodeId], size: u64) -> Vec<TileId> {
    let mut tiles: Vec<TileId> = Vec::new();
    for n in nodes {
        let (t, _, _) = node_tile(*n, size);
        if !tiles.contains(&t) {
            tiles.push(t);
        }
    }
    tiles
}

/// Reads the tiles for `nodes` with one `read_tiles` call and returns each node's hash.
fn read_nodes<R: TileReader>(
    nodes: &[NodeId],
    size: u64,
    reader: &R,
) -> Result<Vec<Hash>, MerkleError<R::Error>> {
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let tiles = tiles_for_nodes(nodes, size);
    let data = reader.read_tiles(&tiles).map_err(MerkleError::Reader)?;
    check_tiles(&tiles, &data)?;
    let mut out = Vec::with_capacity(nodes.len());
    for n in nodes {
        let (t, offset, span) = node_tile(*n, size);
        // `tiles` contains every tile of `nodes`, and `check_tiles` verified the lengths,
        // so the lookup and the slice below always succeed.
        let pos = tiles.iter().position(|x| *x == t).unwrap_or(0);
        let bytes = &data[pos][offset * HASH_SIZE..(offset + span) * HASH_SIZE];
        out.push(subtree_root(bytes));
    }
    Ok(out)
}

/// Checks that a reader answered `tiles` with one buffer of `width * 32` bytes each.
pub(crate) fn check_tiles<E: std::error::Error + 'static>(
    tiles: &[TileId],
    data: &[Vec<u8>],
) -> Result<(), MerkleError<E>> {
    if data.len() != tiles.len() {
        return Err(MerkleError::TileCount {
            got: data.len(),
            want: tiles.len(),
        });
    }
    for (t, d) in tiles.iter().zip(data) {
        let want = usize::from(t.width) * HASH_SIZE;
        if d.len() != want {
            return Err(MerkleError::TileLength {
                tile: *t,
                got: d.len(),
                want,
            });
        }
    }
    Ok(())
}

/// Nodes for a list of ranges, plus where each range's nodes start and end.
fn nodes_for_ranges(ranges: &[(u64, u64)]) -> (Vec<NodeId>, Vec<(usize, usize)>) {
    let mut nodes = Vec::new();
    let mut spans = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges {
        let start = nodes.len();
        range_nodes(lo, hi, &mut nodes);
        spans.push((start, nodes.len()));
    }
    (nodes, spans)
}

/// [`read_nodes`] with tile interiors looked up in (and added to) `cache`: only the tiles of
/// nodes the cache cannot answer are read, in one `read_tiles` call.
fn read_nodes_cached<R: TileReader, C: InteriorCache>(
    nodes: &[NodeId],
    size: u64,
    reader: &R,
    cache: &C,
) -> Result<Vec<Hash>, MerkleError<R::Error>> {
    let mut out: Vec<Option<Hash>> = Vec::with_capacity(nodes.len());
    let mut tiles: Vec<TileId> = Vec::new();
    for n in nodes {
        let (t, offset, span) = node_tile(*n, size);
        let height = span.trailing_zeros();
        let hit = cache
            .get(t.level, t.index)
            .and_then(|int| int.node(height, offset));
        if hit.is_none() && !tiles.contains(&t) {
            tiles.push(t);
        }
        out.push(hit);
    }
    if tiles.is_empty() {
        return Ok(out.into_iter().flatten().collect());
    }
    let data = reader.read_tiles(&tiles).map_err(MerkleError::Reader)?;
    check_tiles(&tiles, &data)?;
    let mut computed: Vec<Option<Arc<TileInterior>>> = vec![None; tiles.len()];
    let mut hashes = Vec::with_capacity(nodes.len());
    for (n, hit) in nodes.iter().zip(out) {
        if let Some(h) = hit {
            hashes.push(h);
            continue;
        }
        let (t, offset, span) = node_tile(*n, size);
        let height = span.trailing_zeros();
        // Every missed node's tile is in `tiles`, whose lengths `check_tiles` verified.
        let pos = tiles.iter().position(|x| *x == t).unwrap_or(0);
        let bytes = &data[pos][offset * HASH_SIZE..(offset + span) * HASH_SIZE];
        let from = cache.keep_from(t.level);
        if height < from {
            hashes.push(subtree_root(bytes));
            continue;
        }
        let int = computed[pos].get_or_insert_with(|| {
            let int = Arc::new(TileInterior::new(&data[pos], from));
            cache.insert(t.level, t.index, Arc::clone(&int));
            int
        });
        hashes.push(
            int.node(height, offset)
                .unwrap_or_else(|| subtree_root(bytes)),
        );
    }
    Ok(hashes)
}

fn hashes_for_ranges_cached<R: TileReader, C: InteriorCache>(
    ranges: &[(u64, u64)],
    size: u64,
    reader: &R,
    cache: &C,
) -> Result<Vec<Hash>, MerkleError<R::Error>> {
    let (nodes, spans) = nodes_for_ranges(ranges);
    let hashes = read_nodes_cached(&nodes, size, reader, cache)?;
    Ok(spans
        .iter()
        .map(|&(a, b)| fold_right(&hashes[a..b]))
        .collect())
}

fn hashes_for_ranges<R: TileReader>(
    ranges: &[(u64, u64)],
    size: u64,
    reader: &R,
) -> Result<Vec<Hash>, MerkleError<R::Error>> {
    let (nodes, spans) = nodes_for_ranges(ranges);
    let hashes = read_nodes(&nodes, size, reader)?;
    Ok(spans
        .iter()
        .map(|&(a, b)| fold_right(&hashes[a..b]))
        .collect())
}

fn tiles_for_ranges(ranges: &[(u64, u64)], size: u64) -> Vec<TileId> {
    let (nodes, _) = nodes_for_ranges(ranges);
    tiles_for_nodes(&nodes, size)
}

fn check_inclusion_args(index: u64, size: u64) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    Ok(())
}

fn check_consistency_args(old_size: u64, new_size: u64) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizeOrder { old_size, new_size });
    }
    if old_size == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Operations over a TileReader.

/// The tiles [`tree_root`] reads for a tree of `size` (at most one partial tile per level plus
/// nothing else; empty for size 0).
#[must_use]
pub fn tree_root_tiles(size: u64) -> Vec<TileId> {
    tiles_for_ranges(&[(0, size)], size)
}

/// The root hash of the tree of `size` leaves (RFC 6962 MTH), from its right-edge tiles.
///
/// # Errors
///
/// [`MerkleError::Reader`] when the reader fails, `TileCount`/`TileLength` when it returns
/// malformed data.
pub fn tree_root<R: TileReader>(size: u64, reader: &R) -> Result<Hash, MerkleError<R::Error>> {
    let hashes = hashes_for_ranges(&[(0, size)], size, reader)?;
    Ok(hashes.first().copied().unwrap_or(EMPTY_ROOT))
}

/// The tiles [`prove_inclusion`] reads.
///
/// # Errors
///
/// [`ProofError::IndexOutOfRange`] if `index >= size`.
pub fn inclusion_proof_tiles(index: u64, size: u64) -> Result<Vec<TileId>, ProofError> {
    check_inclusion_args(index, size)?;
    Ok(tiles_for_ranges(&inclusion_ranges(index, size), size))
}

/// The RFC 9162 inclusion proof (audit path) for leaf `index` in the tree of `size`,
/// bottom-up.
///
/// # Errors
///
/// `MerkleError::Proof(ProofError::IndexOutOfRange)` if `index >= size`; reader errors as in
/// [`tree_root`].
pub fn prove_inclusion<R: TileReader>(
    index: u64,
    size: u64,
    reader: &R,
) -> Result<Vec<Hash>, MerkleError<R::Error>> {
    check_inclusion_args(index, size)?;
    hashes_for_ranges(&inclusion_ranges(index, size), size, reader)
}

/// [`prove_inclusion`] with tile interiors from `cache`: the same proof, but each node inside a
/// tile whose interior the cache holds is a lookup instead of up to 255 hash computations,
/// and only tiles the cache cannot answer for are read (in one `read_tiles` call). Interiors
/// computed on the way are offered to the cache.
///
/// # Errors
///
/// As [`prove_inclusion`].
pub fn prove_inclusion_cached<R: TileReader, C: InteriorCache>(
    index: u64,
    size: u64,
    reader: &R,
    cache: &C,
) -> Result<Vec<Hash>, MerkleError<R::Error>> {
    check_inclusion_args(index, size)?;
    hashes_for_ranges_cached(&inclusion_ranges(index, size), size, reader, cache)
}

/// [`prove_consistency`] with tile interiors from `cache` (as [`prove_inclusion_cached`]).
///
/// # Errors
///
/// As [`prove_consistency`].
pub fn prove_consistency_cached<R: TileReader, C: InteriorCache>(
    old_size: u64,
    new_size: u64,
    reader: &R,
    cache: &C,
) -> Result<Vec<Hash>, MerkleError<R::Error>> {
    check_consistency_args(old_size, new_size)?;
    hashes_for_ranges_cached(
        &consistency_ranges(old_size, new_size),
        new_size,
        reader,
        cache,
    )
}

/// The tiles [`prove_consistency`] reads.
///
/// # Errors
///
/// As [`prove_consistency`]'s argument errors.
pub fn consistency_proof_tiles(old_size: u64, new_size: u64) -> Result<Vec<TileId>, ProofError> {
    check_consistency_args(old_size, new_size)?;
    Ok(tiles_for_ranges(
        &consistency_ranges(old_size, new_size),
        new_size,
    ))
}

/// The RFC 9162 consistency proof between the trees of `old_size` and `new_size` leaves.
///
/// Equal sizes give an empty proof.
///
/// # Errors
///
/// `MerkleError::Proof` with [`ProofError::SizeOrder`] if `old_size > new_size`, or
/// [`ProofError::EmptyOldTree`] if `old_size == 0` (as transparency-dev/merkle); reader
/// errors as in [`tree_root`].
pub fn prove_consistency<R: TileReader>(
    old_size: u64,
    new_size: u64,
    reader: &R,
) -> Result<Vec<Hash>, MerkleError<R::Error>> {
    check_consistency_args(old_size, new_size)?;
    hashes_for_ranges(&consistency_ranges(old_size, new_size), new_size, reader)
}

// ---------------------------------------------------------------------------------------------
// Verification.

fn bit_len(x: u64) -> usize {
    // At most 64, so the conversion is lossless.
    usize::from(u8::try_from(64 - x.leading_zeros()).unwrap_or(u8::MAX))
}

fn ones(x: u64) -> usize {
    usize::from(u8::try_from(x.count_ones()).unwrap_or(u8::MAX))
}

/// Splits the inclusion proof of `index` in a tree of `size` into its inner part (below the
/// point where the paths to `index` and `size - 1` diverge) and border part.
fn decomp_incl_proof(index: u64, size: u64) -> (usize, usize) {
    let inner = bit_len(index ^ (size - 1));
    let border = ones(
        index
            .checked_shr(u32::try_from(inner).unwrap_or(64))
            .unwrap_or(0),
    );
    (inner, border)
}

fn chain_inner(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    proof.iter().enumerate().fold(seed, |acc, (i, h)| {
        if (index >> i) & 1 == 0 {
            node_hash(&acc, h)
        } else {
            node_hash(h, &acc)
        }
    })
}

fn chain_inner_right(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    proof.iter().enumerate().fold(seed, |acc, (i, h)| {
        if (index >> i) & 1 == 1 {
            node_hash(h, &acc)
        } else {
            acc
        }
    })
}

fn chain_border_right(seed: Hash, proof: &[Hash]) -> Hash {
    proof.iter().fold(seed, |acc, h| node_hash(h, &acc))
}

/// Recomputes the root of the tree of `size` from leaf `index`'s hash and its inclusion proof.
///
/// # Errors
///
/// [`ProofError::IndexOutOfRange`] if `index >= size`, [`ProofError::WrongProofSize`] if the
/// proof length does not match `index` and `size`.
pub fn root_from_inclusion_proof(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    check_inclusion_args(index, size)?;
    let (inner, border) = decomp_incl_proof(index, size);
    if proof.len() != inner + border {
        return Err(ProofError::WrongProofSize {
            got: proof.len(),
            want: inner + border,
        });
    }
    let res = chain_inner(*leaf, &proof[..inner], index);
    Ok(chain_border_right(res, &proof[inner..]))
}

/// Verifies that `leaf` is the leaf hash at `index` in the tree of `size` with root `root`.
///
/// # Errors
///
/// As [`root_from_inclusion_proof`], plus [`ProofError::RootMismatch`].
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let calculated = root_from_inclusion_proof(leaf, index, size, proof)?;
    if calculated != *root {
        return Err(ProofError::RootMismatch {
            expected: *root,
            calculated,
        });
    }
    Ok(())
}

/// Verifies a consistency proof between the tree of `old_size` with `old_root` and the tree of
/// `new_size` with `new_root` (RFC 9162 §2.1.4.2).
///
/// Edge cases follow transparency-dev/merkle: `old_size == 0` is rejected
/// ([`ProofError::EmptyOldTree`]); equal sizes need an empty proof and equal roots.
///
/// # Errors
///
/// [`ProofError::SizeOrder`], [`ProofError::EmptyOldTree`], [`ProofError::WrongProofSize`],
/// [`ProofError::OldRootMismatch`] or [`ProofError::RootMismatch`].
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    check_consistency_args(old_size, new_size)?;
    let calculated = if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofSize {
                got: proof.len(),
                want: 0,
            });
        }
        *old_root
    } else {
        root_from_consistency_proof(old_size, new_size, old_root, proof)?
    };
    if calculated != *new_root {
        return Err(ProofError::RootMismatch {
            expected: *new_root,
            calculated,
        });
    }
    Ok(())
}

/// Requires `0 < old < new`. Checks the proof against `old_root` and returns the new root.
fn root_from_consistency_proof(
    old: u64,
    new: u64,
    old_root: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    // Split the proof where the paths to leaves old-1 and new-1 diverge.
    let (fork_level, border) = decomp_incl_proof(old - 1, new);
    // Height of the largest perfect subtree ending at `old`: the proof starts at this level.
    let shift = old.trailing_zeros();
    let shift_us = usize::from(u8::try_from(shift).unwrap_or(u8::MAX));
    // fork_level > shift whenever old < new.
    let inner = fork_level.saturating_sub(shift_us);
    // If the old tree is perfect, its root is the seed and is not part of the proof.
    let perfect = old == 1u64 << shift;
    let p_start = usize::from(!perfect);
    let want = p_start + inner + border;
    if proof.len() != want {
        return Err(ProofError::WrongProofSize {
            got: proof.len(),
            want,
        });
    }
    let (seed, rest) = if perfect {
        (*old_root, proof)
    } else {
        (proof[0], &proof[1..])
    };
    let mask = (old - 1) >> shift;
    if !perfect {
        // Recompute the old root from the left-hand nodes of the proof.
        let height = bit_len(old - 1);
        let sub_inner = height.min(fork_level) - shift_us;
        let hash1 = chain_inner_right(seed, &rest[..sub_inner], mask);
        let hash1 = chain_border_right(hash1, &rest[inner..]);
        if hash1 != *old_root {
            return Err(ProofError::OldRootMismatch {
                expected: *old_root,
                calculated: hash1,
            });
        }
    }
    let hash2 = chain_inner(seed, &rest[..inner], mask);
    Ok(chain_border_right(hash2, &rest[inner..]))
}

// ---------------------------------------------------------------------------------------------
// Roots from full leaf lists.

/// The compact range `[0, size)`: the roots of the perfect subtrees that make up a tree, as in
/// transparency-dev/merkle's `compact.Range` starting at 0. Appending is amortised O(1) hashes
/// per leaf and memory is O(log n), so it suits streaming over all leaves (fsck, audits).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Perfect subtree roots, largest (leftmost) first.
    nodes: Vec<Hash>,
}

impl Frontier {
    /// The empty tree.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves appended so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash.
    ///
    /// # Panics
    ///
    /// Never in practice: only if 2^64 - 1 leaves were already appended.
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut s = self.size;
        while s & 1 == 1 {
            if let Some(left) = self.nodes.pop() {
                h = node_hash(&left, &h);
            }
            s >>= 1;
        }
        self.nodes.push(h);
        self.size += 1;
    }

    /// The RFC 6962 root of the leaves appended so far ([`EMPTY_ROOT`] when none).
    #[must_use]
    pub fn root(&self) -> Hash {
        fold_right(&self.nodes)
    }
}

/// The RFC 6962 root of a tree given all its leaf hashes in order.
#[must_use]
pub fn root_from_leaves(leaves: &[Hash]) -> Hash {
    let mut f = Frontier::new();
    for l in leaves {
        f.push(*l);
    }
    f.root()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            EMPTY_ROOT,
            digest_to_hash(&digest::digest(&digest::SHA256, b""))
        );
    }

    #[test]
    fn split_point_values() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn range_nodes_of_seven() {
        let mut v = Vec::new();
        range_nodes(0, 7, &mut v);
        assert_eq!(
            v,
            vec![
                NodeId { level: 2, index: 0 },
                NodeId { level: 1, index: 2 },
                NodeId { level: 0, index: 6 }
            ]
        );
    }

    #[test]
    fn node_tile_geometry() {
        // Level 9 node 3 covers level-8 hashes 6 and 7, in level-1 tile 0.
        let (t, off, span) = node_tile(NodeId { level: 9, index: 3 }, 2048);
        assert_eq!((t.level, t.index, t.width, off, span), (1, 0, 8, 6, 2));
        let (t, off, span) = node_tile(
            NodeId {
                level: 0,
                index: 300,
            },
            1000,
        );
        assert_eq!((t.level, t.index, t.width, off, span), (0, 1, 256, 44, 1));
        let (t, _, _) = node_tile(
            NodeId {
                level: 0,
                index: 600,
            },
            601,
        );
        assert_eq!((t.level, t.index, t.width), (0, 2, 89));
    }
}
