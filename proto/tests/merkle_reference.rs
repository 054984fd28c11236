//! Cross-checks `merkle` and `tiles::integrate` against a plain recursive RFC 6962 / RFC 9162
//! reference (MTH, PATH, PROOF written straight from the RFC) and against `rs_merkle`.
//!
//! Trees are built in a `MemTiles` store by repeated `integrate` calls with random batch
//! splits, so every check here also tests integration.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use proptest::prelude::*;
use signet_proto::merkle::{
    consistency_proof_tiles, inclusion_proof_tiles, leaf_hash, node_hash, prove_consistency,
    prove_consistency_cached, prove_inclusion, prove_inclusion_cached, root_from_inclusion_proof,
    root_from_leaves, tree_root, tree_root_tiles, verify_consistency, verify_inclusion, Frontier,
    Hash, InteriorCache, MerkleError, ProofError, TileInterior, TileReader, EMPTY_ROOT,
};
use signet_proto::tiles::{integrate, right_edge_tiles, tile_width, MemTiles, TileId};

// ------------------------------------------------------------------------------------------
// RFC 6962 reference, memoised on (lo, hi).

struct Reference<'a> {
    d: &'a [Hash],
    memo: RefCell<HashMap<(usize, usize), Hash>>,
}

fn k_of(n: usize) -> usize {
    // Largest power of two strictly smaller than n (n > 1).
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

impl<'a> Reference<'a> {
    fn new(d: &'a [Hash]) -> Self {
        Self {
            d,
            memo: RefCell::new(HashMap::new()),
        }
    }

    /// MTH(D[lo:hi]).
    fn mth(&self, lo: usize, hi: usize) -> Hash {
        let n = hi - lo;
        if n == 0 {
            return EMPTY_ROOT;
        }
        if n == 1 {
            return self.d[lo];
        }
        if let Some(h) = self.memo.borrow().get(&(lo, hi)) {
            return *h;
        }
        let k = k_of(n);
        let h = node_hash(&self.mth(lo, lo + k), &self.mth(lo + k, hi));
        self.memo.borrow_mut().insert((lo, hi), h);
        h
    }

    /// PATH(m, D[lo:hi]).
    fn path(&self, m: usize, lo: usize, hi: usize) -> Vec<Hash> {
        let n = hi - lo;
        if n == 1 {
            return Vec::new();
        }
        let k = k_of(n);
        if m < k {
            let mut p = self.path(m, lo, lo + k);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.path(m - k, lo + k, hi);
            p.push(self.mth(lo, lo + k));
            p
        }
    }

    /// PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true).
    fn proof(&self, m: usize, n: usize) -> Vec<Hash> {
        self.subproof(m, 0, n, true)
    }

    fn subproof(&self, m: usize, lo: usize, hi: usize, b: bool) -> Vec<Hash> {
        let n = hi - lo;
        if m == n {
            return if b {
                Vec::new()
            } else {
                vec![self.mth(lo, hi)]
            };
        }
        let k = k_of(n);
        if m <= k {
            let mut p = self.subproof(m, lo, lo + k, b);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.subproof(m - k, lo + k, hi, false);
            p.push(self.mth(lo, lo + k));
            p
        }
    }
}

// ------------------------------------------------------------------------------------------
// rs_merkle oracle: RFC 6962 node hashing over pre-hashed (0x00) leaves.

#[derive(Clone)]
struct Rfc6962;

impl rs_merkle::Hasher for Rfc6962 {
    type Hash = [u8; 32];
    fn hash(data: &[u8]) -> [u8; 32] {
        // Only used by rs_merkle for leaves we never pass unhashed; plain SHA-256.
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
        d.as_ref().try_into().unwrap()
    }
    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(r) => node_hash(left, r),
            None => *left,
        }
    }
}

// ------------------------------------------------------------------------------------------
// Helpers.

fn leaves(n: usize, seed: u64) -> Vec<Hash> {
    (0..n as u64)
        .map(|i| leaf_hash(&[seed.to_be_bytes(), i.to_be_bytes()].concat()))
        .collect()
}

/// splitmix64, for deterministic batch splits in the non-proptest tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Expected contents of tile `t` in a tree over `d`: position i = MTH of the 256^L leaves
/// starting at (N*256+i)*256^L.
fn expected_tile(r: &Reference<'_>, t: TileId) -> Vec<u8> {
    let span = 1usize << (8 * u32::from(t.level));
    let mut out = Vec::new();
    for i in 0..usize::from(t.width) {
        let lo = (t.index as usize * 256 + i) * span;
        out.extend_from_slice(&r.mth(lo, lo + span));
    }
    out
}

/// Builds the tree over `d` with `integrate`, batch sizes from `batches` (cycled, 0 allowed),
/// checking after every batch: the root, that exactly the tiles whose width changed were
/// returned, and their contents.
fn build(d: &[Hash], batches: &[usize]) -> MemTiles {
    let r = Reference::new(d);
    let mut store = MemTiles::new();
    let mut size = 0usize;
    let mut bi = 0;
    while size < d.len() {
        let b = batches[bi % batches.len()].min(d.len() - size);
        bi += 1;
        let int = integrate(size as u64, &d[size..size + b], &store).unwrap();
        let new_size = size + b;
        assert_eq!(int.size, new_size as u64);
        assert_eq!(
            int.root,
            r.mth(0, new_size),
            "root after integrate to {new_size}"
        );
        // Exactly the tiles whose width changed, in (level, index) order, with the right data.
        let mut want = Vec::new();
        for level in 0..8u8 {
            let start = (size as u64 >> (8 * u32::from(level))) / 256;
            let mut index = start;
            while let Some(w) = tile_width(level, index, new_size as u64) {
                if tile_width(level, index, size as u64) != Some(w) {
                    want.push(TileId {
                        level,
                        index,
                        width: w,
                    });
                }
                index += 1;
            }
        }
        let got: Vec<TileId> = int.tiles.iter().map(|(t, _)| *t).collect();
        assert_eq!(got, want, "changed tiles {size} -> {new_size}");
        for (t, data) in &int.tiles {
            assert_eq!(data, &expected_tile(&r, *t), "tile {t}");
        }
        store.apply(&int);
        size = new_size;
    }
    store
}

fn check_inclusion(r: &Reference<'_>, store: &MemTiles, m: usize, n: usize) {
    let proof = prove_inclusion(m as u64, n as u64, store).unwrap();
    assert_eq!(proof, r.path(m, 0, n), "PATH({m}, {n})");
    let root = r.mth(0, n);
    verify_inclusion(&r.d[m], m as u64, n as u64, &proof, &root).unwrap();
}

fn check_consistency(r: &Reference<'_>, store: &MemTiles, m: usize, n: usize) {
    let proof = prove_consistency(m as u64, n as u64, store).unwrap();
    assert_eq!(proof, r.proof(m, n), "PROOF({m}, {n})");
    verify_consistency(m as u64, n as u64, &r.mth(0, m), &r.mth(0, n), &proof).unwrap();
}

/// A reader that counts calls, to check the one-batched-read property.
struct Counting<'a> {
    inner: &'a MemTiles,
    calls: RefCell<Vec<Vec<TileId>>>,
}

impl TileReader for Counting<'_> {
    type Error = <MemTiles as TileReader>::Error;
    fn read_tiles(&self, tiles: &[TileId]) -> Result<Vec<Vec<u8>>, Self::Error> {
        self.calls.borrow_mut().push(tiles.to_vec());
        self.inner.read_tiles(tiles)
    }
}

// ------------------------------------------------------------------------------------------
// Exhaustive and sampled checks up to 2000 leaves.

const N: usize = 2000;

#[test]
fn exhaustive_small_and_sampled_up_to_2000() {
    let d = leaves(N, 1);
    let mut rng = Rng(42);
    let batches: Vec<usize> = (0..64).map(|_| rng.below(300) as usize).collect();
    let store = build(&d, &batches);
    let r = Reference::new(&d);

    for n in 0..=N {
        assert_eq!(
            tree_root(n as u64, &store).unwrap(),
            r.mth(0, n),
            "root {n}"
        );
        assert_eq!(root_from_leaves(&d[..n]), r.mth(0, n));
    }
    // Every (m, n) for n <= 300.
    for n in 1..=300 {
        for m in 0..n {
            check_inclusion(&r, &store, m, n);
        }
        for m in 1..=n {
            check_consistency(&r, &store, m, n);
        }
    }
    // Sampled above that.
    for n in 301..=N {
        let mut ms = vec![0, 1, 255, 256, 257, n / 2, n - 2, n - 1];
        for _ in 0..4 {
            ms.push(rng.below(n as u64) as usize);
        }
        for &m in &ms {
            check_inclusion(&r, &store, m, n);
            check_consistency(&r, &store, m.max(1), n);
        }
        check_consistency(&r, &store, n, n);
    }
}

#[test]
fn rs_merkle_oracle() {
    let d = leaves(700, 2);
    let store = build(&d, &[1, 255, 3, 256, 17]);
    for n in 1..=d.len() {
        let t = rs_merkle::MerkleTree::<Rfc6962>::from_leaves(&d[..n]);
        assert_eq!(
            tree_root(n as u64, &store).unwrap(),
            t.root().unwrap(),
            "root {n}"
        );
        let ms: Vec<usize> = if n <= 80 {
            (0..n).collect()
        } else {
            vec![0, n / 3, n / 2, n - 1]
        };
        for m in ms {
            let want = t.proof(&[m]).proof_hashes().to_vec();
            assert_eq!(prove_inclusion(m as u64, n as u64, &store).unwrap(), want);
        }
    }
}

#[test]
fn one_batched_read_per_operation() {
    let d = leaves(1500, 3);
    let store = build(&d, &[1000, 500]);
    let reader = Counting {
        inner: &store,
        calls: RefCell::new(Vec::new()),
    };
    for (m, n) in [(0u64, 1500u64), (700, 1500), (1499, 1500), (3, 1029)] {
        reader.calls.borrow_mut().clear();
        prove_inclusion(m, n, &reader).unwrap();
        let calls = reader.calls.borrow().clone();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0], inclusion_proof_tiles(m, n).unwrap());
        let mut uniq = calls[0].clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), calls[0].len(), "no duplicate tiles");

        reader.calls.borrow_mut().clear();
        prove_consistency(m.max(1), n, &reader).unwrap();
        let calls = reader.calls.borrow().clone();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0], consistency_proof_tiles(m.max(1), n).unwrap());

        reader.calls.borrow_mut().clear();
        tree_root(n, &reader).unwrap();
        assert_eq!(*reader.calls.borrow(), vec![tree_root_tiles(n)]);
    }
    // Nothing to read for the empty tree; integrate at a tile boundary reads nothing.
    reader.calls.borrow_mut().clear();
    assert_eq!(tree_root(0, &reader).unwrap(), EMPTY_ROOT);
    assert!(reader.calls.borrow().is_empty());
    let int = integrate(256, &d[256..300], &reader).unwrap();
    assert_eq!(int.root, root_from_leaves(&d[..300]));
    // Level 1 has one hash at size 256: its partial tile is read (needed for the prefix).
    assert_eq!(*reader.calls.borrow(), vec![right_edge_tiles(256)]);
}

#[test]
fn frontier_matches_reference() {
    let d = leaves(1100, 4);
    let r = Reference::new(&d);
    let mut f = Frontier::new();
    assert_eq!(f.root(), EMPTY_ROOT);
    for (i, l) in d.iter().enumerate() {
        f.push(*l);
        assert_eq!(f.size(), i as u64 + 1);
        assert_eq!(f.root(), r.mth(0, i + 1));
    }
}

#[test]
fn argument_errors() {
    let d = leaves(10, 5);
    let store = build(&d, &[10]);
    assert!(matches!(
        prove_inclusion(10, 10, &store),
        Err(MerkleError::Proof(ProofError::IndexOutOfRange {
            index: 10,
            size: 10
        }))
    ));
    assert!(matches!(
        prove_consistency(5, 4, &store),
        Err(MerkleError::Proof(ProofError::SizeOrder {
            old_size: 5,
            new_size: 4
        }))
    ));
    assert!(matches!(
        prove_consistency(0, 4, &store),
        Err(MerkleError::Proof(ProofError::EmptyOldTree))
    ));
    assert_eq!(prove_consistency(4, 4, &store).unwrap(), Vec::<Hash>::new());
    // The store only has 10 leaves: asking for size 11 fails in the reader.
    assert!(matches!(tree_root(11, &store), Err(MerkleError::Reader(_))));
    // A reader returning the wrong number or length of tiles is caught.
    struct Bad(usize);
    impl TileReader for Bad {
        type Error = std::io::Error;
        fn read_tiles(&self, tiles: &[TileId]) -> Result<Vec<Vec<u8>>, std::io::Error> {
            Ok(tiles.iter().map(|_| vec![0u8; self.0]).collect())
        }
    }
    assert!(matches!(
        tree_root(3, &Bad(31)),
        Err(MerkleError::TileLength {
            got: 31,
            want: 96,
            ..
        })
    ));
    assert!(matches!(
        integrate(3, &d[3..4], &Bad(64)),
        Err(MerkleError::TileLength { .. })
    ));
    assert!(matches!(
        integrate(u64::MAX, &d[..1], &store),
        Err(MerkleError::SizeOverflow { .. })
    ));
    struct Short;
    impl TileReader for Short {
        type Error = std::io::Error;
        fn read_tiles(&self, _: &[TileId]) -> Result<Vec<Vec<u8>>, std::io::Error> {
            Ok(Vec::new())
        }
    }
    assert!(matches!(
        prove_inclusion(0, 2, &Short),
        Err(MerkleError::TileCount { got: 0, want: 1 })
    ));
}

// ------------------------------------------------------------------------------------------
// Tampering.

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut h = *h;
    h[bit / 8] ^= 1 << (bit % 8);
    h
}

#[test]
fn tampered_inclusion_proofs_are_rejected() {
    let d = leaves(1100, 6);
    let store = build(&d, &[333]);
    let r = Reference::new(&d);
    for (m, n) in [
        (0usize, 1usize),
        (0, 2),
        (5, 7),
        (6, 7),
        (255, 256),
        (256, 1100),
        (1099, 1100),
        (517, 1024),
    ] {
        let leaf = d[m];
        let root = r.mth(0, n);
        let proof = prove_inclusion(m as u64, n as u64, &store).unwrap();
        verify_inclusion(&leaf, m as u64, n as u64, &proof, &root).unwrap();
        for i in 0..proof.len() {
            for bit in 0..256 {
                let mut p = proof.clone();
                p[i] = flip(&p[i], bit);
                assert!(matches!(
                    verify_inclusion(&leaf, m as u64, n as u64, &p, &root),
                    Err(ProofError::RootMismatch { .. })
                ));
            }
        }
        for bit in 0..256 {
            assert!(
                verify_inclusion(&flip(&leaf, bit), m as u64, n as u64, &proof, &root).is_err()
            );
            assert!(
                verify_inclusion(&leaf, m as u64, n as u64, &proof, &flip(&root, bit)).is_err()
            );
        }
        // Wrong index (every other index in the tree), doubled size, out of range index.
        for other in 0..n {
            if other != m {
                assert!(verify_inclusion(&leaf, other as u64, n as u64, &proof, &root).is_err());
            }
        }
        assert!(matches!(
            verify_inclusion(&leaf, m as u64, 2 * n as u64, &proof, &root),
            Err(ProofError::WrongProofSize { .. })
        ));
        assert!(matches!(
            verify_inclusion(&leaf, n as u64, n as u64, &proof, &root),
            Err(ProofError::IndexOutOfRange { .. })
        ));
        // Truncated, extended, and with an element inserted or removed.
        let mut longer = proof.clone();
        longer.push(root);
        assert!(matches!(
            verify_inclusion(&leaf, m as u64, n as u64, &longer, &root),
            Err(ProofError::WrongProofSize { .. })
        ));
        if !proof.is_empty() {
            assert!(matches!(
                verify_inclusion(&leaf, m as u64, n as u64, &proof[1..], &root),
                Err(ProofError::WrongProofSize { .. })
            ));
            let mut inserted = proof.clone();
            inserted.insert(0, leaf);
            assert!(verify_inclusion(&leaf, m as u64, n as u64, &inserted, &root).is_err());
        }
        assert_eq!(
            root_from_inclusion_proof(&leaf, m as u64, n as u64, &proof).unwrap(),
            root
        );
    }
}

#[test]
fn tampered_consistency_proofs_are_rejected() {
    let d = leaves(1100, 7);
    let store = build(&d, &[64, 1000]);
    let r = Reference::new(&d);
    for (m, n) in [
        (1usize, 2usize),
        (3, 7),
        (4, 7),
        (6, 8),
        (255, 256),
        (256, 1100),
        (1000, 1100),
        (777, 1024),
    ] {
        let (r1, r2) = (r.mth(0, m), r.mth(0, n));
        let proof = prove_consistency(m as u64, n as u64, &store).unwrap();
        verify_consistency(m as u64, n as u64, &r1, &r2, &proof).unwrap();
        for i in 0..proof.len() {
            for bit in 0..256 {
                let mut p = proof.clone();
                p[i] = flip(&p[i], bit);
                assert!(verify_consistency(m as u64, n as u64, &r1, &r2, &p).is_err());
            }
        }
        for bit in 0..256 {
            assert!(verify_consistency(m as u64, n as u64, &flip(&r1, bit), &r2, &proof).is_err());
            assert!(verify_consistency(m as u64, n as u64, &r1, &flip(&r2, bit), &proof).is_err());
        }
        // Every other old size (same roots, same proof) is rejected.
        for other in 0..=n + 2 {
            if other != m {
                assert!(
                    verify_consistency(other as u64, n as u64, &r1, &r2, &proof).is_err(),
                    "old {other} for ({m},{n})"
                );
            }
        }
        // Another new size is rejected by length whenever its proofs have another length.
        // (When the shape is the same, RFC 9162 cannot tell: e.g. PROOF(3, 7) also checks as
        // PROOF(3, 5) with MTH(D[4:7]) standing in for leaf 4, since roots do not bind sizes.)
        for other in m.max(1)..=d.len() {
            let len = prove_consistency(m as u64, other as u64, &store)
                .unwrap()
                .len();
            if other != n && len != proof.len() {
                assert!(matches!(
                    verify_consistency(m as u64, other as u64, &r1, &r2, &proof),
                    Err(ProofError::WrongProofSize { .. })
                ));
            }
        }
        assert!(verify_consistency(n as u64, m as u64, &r2, &r1, &proof).is_err());
        assert!(verify_consistency(m as u64, n as u64, &r2, &r1, &proof).is_err());
        assert!(matches!(
            verify_consistency(m as u64, n as u64, &r1, &r2, &proof[1..]),
            Err(ProofError::WrongProofSize { .. })
        ));
        assert!(matches!(
            verify_consistency(m as u64, n as u64, &r1, &r2, &[]),
            Err(ProofError::WrongProofSize { got: 0, .. })
        ));
        let mut longer = proof.clone();
        longer.push(r2);
        assert!(matches!(
            verify_consistency(m as u64, n as u64, &r1, &r2, &longer),
            Err(ProofError::WrongProofSize { .. })
        ));
    }
    // Equal sizes: empty proof and equal roots only.
    let r5 = r.mth(0, 5);
    verify_consistency(5, 5, &r5, &r5, &[]).unwrap();
    assert!(verify_consistency(5, 5, &r5, &r.mth(0, 6), &[]).is_err());
    assert!(verify_consistency(5, 5, &r5, &r5, &[r5]).is_err());
    assert!(matches!(
        verify_consistency(0, 0, &EMPTY_ROOT, &EMPTY_ROOT, &[]),
        Err(ProofError::EmptyOldTree)
    ));
}

// ------------------------------------------------------------------------------------------
// Huge trees with identical leaves: every subtree hash depends only on its size, so the
// reference is cheap at any size and tile levels up to 7 are exercised.

struct Uniform {
    size: u64,
    by_len: RefCell<HashMap<u64, Hash>>,
}

impl Uniform {
    fn new(size: u64) -> Self {
        Self {
            size,
            by_len: RefCell::new(HashMap::new()),
        }
    }
    fn leaf() -> Hash {
        leaf_hash(b"uniform")
    }
    /// MTH of any `len` consecutive leaves.
    fn mth(&self, len: u64) -> Hash {
        if len == 0 {
            return EMPTY_ROOT;
        }
        if len == 1 {
            return Self::leaf();
        }
        if let Some(h) = self.by_len.borrow().get(&len) {
            return *h;
        }
        let k = 1u64 << (63 - (len - 1).leading_zeros());
        let h = node_hash(&self.mth(k), &self.mth(len - k));
        self.by_len.borrow_mut().insert(len, h);
        h
    }
    fn path(&self, m: u64, n: u64) -> Vec<Hash> {
        if n == 1 {
            return Vec::new();
        }
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        let (mut p, h) = if m < k {
            (self.path(m, k), self.mth(n - k))
        } else {
            (self.path(m - k, n - k), self.mth(k))
        };
        p.push(h);
        p
    }
    fn subproof(&self, m: u64, n: u64, b: bool) -> Vec<Hash> {
        if m == n {
            return if b { Vec::new() } else { vec![self.mth(n)] };
        }
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        let (mut p, h) = if m <= k {
            (self.subproof(m, k, b), self.mth(n - k))
        } else {
            (self.subproof(m - k, n - k, false), self.mth(k))
        };
        p.push(h);
        p
    }
}

#[derive(Debug, thiserror::Error)]
#[error("tile {0} does not exist at the reader's size")]
struct NoSuchTile(TileId);

impl TileReader for Uniform {
    type Error = NoSuchTile;
    fn read_tiles(&self, tiles: &[TileId]) -> Result<Vec<Vec<u8>>, NoSuchTile> {
        tiles
            .iter()
            .map(|t| {
                let w = tile_width(t.level, t.index, self.size).ok_or(NoSuchTile(*t))?;
                if w < t.width {
                    return Err(NoSuchTile(*t));
                }
                let h = self.mth(1u64 << (8 * u32::from(t.level)));
                Ok(h.repeat(usize::from(t.width)))
            })
            .collect()
    }
}

#[test]
fn huge_uniform_trees() {
    let mut rng = Rng(9);
    let mut sizes = vec![
        u64::MAX,
        u64::MAX - 1,
        1 << 63,
        (1 << 63) + 1,
        1 << 40,
        (1 << 40) + 12345,
        1 << 56,
        (1 << 56) - 1,
        10_000_000,
    ];
    for _ in 0..30 {
        sizes.push(rng.next() >> rng.below(60));
    }
    for n in sizes {
        if n == 0 {
            continue;
        }
        let u = Uniform::new(n);
        assert_eq!(tree_root(n, &u).unwrap(), u.mth(n), "root {n}");
        for m in [0, 1, n / 2, n - 1, rng.below(n), rng.below(n)] {
            let p = prove_inclusion(m, n, &u).unwrap();
            assert_eq!(p, u.path(m, n), "PATH({m},{n})");
            verify_inclusion(&Uniform::leaf(), m, n, &p, &u.mth(n)).unwrap();
            let old = m.max(1);
            let c = prove_consistency(old, n, &u).unwrap();
            assert_eq!(c, u.subproof(old, n, true), "PROOF({old},{n})");
            verify_consistency(old, n, &u.mth(old), &u.mth(n), &c).unwrap();
        }
        // integrate a few leaves onto a huge tree: only O(log n) right-edge tiles are read.
        if n < u64::MAX - 600 {
            let add = rng.below(600) as usize;
            let int = integrate(n, &vec![Uniform::leaf(); add], &u).unwrap();
            assert_eq!(int.root, u.mth(n + add as u64), "integrate {n} + {add}");
            for (t, data) in &int.tiles {
                assert_eq!(
                    data,
                    &u.mth(1 << (8 * u32::from(t.level)))
                        .repeat(usize::from(t.width))
                );
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Cached tile interiors: the same proofs as the uncached path, whatever the cache holds.

/// An unbounded map cache keeping heights `from..` (or dropping everything: `keep = false`).
struct MapCache {
    from: [u32; 2],
    keep: bool,
    map: RefCell<HashMap<(u8, u64), Arc<TileInterior>>>,
}

impl MapCache {
    fn new(from0: u32, from_up: u32, keep: bool) -> Self {
        Self {
            from: [from0, from_up],
            keep,
            map: RefCell::new(HashMap::new()),
        }
    }
}

impl InteriorCache for MapCache {
    fn get(&self, level: u8, index: u64) -> Option<Arc<TileInterior>> {
        self.map.borrow().get(&(level, index)).cloned()
    }
    fn insert(&self, level: u8, index: u64, interior: Arc<TileInterior>) {
        if self.keep {
            self.map.borrow_mut().insert((level, index), interior);
        }
    }
    fn keep_from(&self, level: u8) -> u32 {
        self.from[usize::from(level > 0)]
    }
}

fn check_cached(store: &impl TileReader, cache: &MapCache, m: u64, n: u64) {
    assert_eq!(
        prove_inclusion_cached(m, n, store, cache).unwrap(),
        prove_inclusion(m, n, store).unwrap(),
        "cached PATH({m}, {n})"
    );
    let old = m + 1;
    assert_eq!(
        prove_consistency_cached(old, n, store, cache).unwrap(),
        prove_consistency(old, n, store).unwrap(),
        "cached PROOF({old}, {n})"
    );
}

#[test]
fn cached_proofs_on_huge_uniform_trees() {
    let mut rng = Rng(23);
    for n in [10_000_000u64, 1 << 40, (1 << 40) + 12345, u64::MAX - 1] {
        let u = Uniform::new(n);
        let cache = MapCache::new(4, 0, true);
        for _ in 0..50 {
            let m = rng.below(n - 1);
            check_cached(&u, &cache, m, n);
            // Again, now from the cache.
            check_cached(&u, &cache, m, n);
        }
    }
}

#[test]
fn cached_proofs_read_only_uncached_tiles() {
    let d = leaves(70_000, 5);
    let store = build(&d, &[65_536, 4464]);
    let cache = MapCache::new(0, 0, true);
    let counting = Counting {
        inner: &store,
        calls: RefCell::new(Vec::new()),
    };
    let p = prove_inclusion_cached(1000, 70_000, &counting, &cache).unwrap();
    assert_eq!(p, Reference::new(&d).path(1000, 0, 70_000));
    assert_eq!(counting.calls.borrow().len(), 1);
    // Every tile's interior is kept from height 0: the same proof reads nothing.
    let q = prove_inclusion_cached(1000, 70_000, &counting, &cache).unwrap();
    assert_eq!(q, p);
    assert_eq!(counting.calls.borrow().len(), 1, "a second read");
}

// ------------------------------------------------------------------------------------------
// Property tests.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn prop_random_splits(
        n in 1usize..2000,
        batches in proptest::collection::vec(0usize..600, 1..12),
        seed in any::<u64>(),
        picks in proptest::collection::vec((any::<u64>(), any::<u64>()), 8),
    ) {
        prop_assume!(batches.iter().any(|b| *b > 0));
        let d = leaves(n, seed);
        let store = build(&d, &batches);
        let r = Reference::new(&d);
        for (a, b) in picks {
            let size = (a % n as u64) as usize + 1;
            let m = (b % size as u64) as usize;
            prop_assert_eq!(tree_root(size as u64, &store).unwrap(), r.mth(0, size));
            check_inclusion(&r, &store, m, size);
            check_consistency(&r, &store, m + 1, size);
        }
    }

    /// Cached proofs equal the reference at every size the tree passes through, with one
    /// cache shared across sizes (partial tiles' interiors grow), for several kept heights.
    #[test]
    fn prop_cached_equals_uncached(
        n in 1usize..3000,
        batches in proptest::collection::vec(1usize..700, 1..8),
        seed in any::<u64>(),
        from0 in 0u32..9,
        from_up in 0u32..9,
        keep in any::<bool>(),
        picks in proptest::collection::vec((any::<u64>(), any::<u64>()), 24),
    ) {
        let d = leaves(n, seed);
        let store = build(&d, &batches);
        let r = Reference::new(&d);
        let cache = MapCache::new(from0, from_up, keep);
        let mut sizes: Vec<usize> = picks.iter().map(|(a, _)| (a % n as u64) as usize + 1).collect();
        // Growing sizes first (as a live log), then the same sizes in random order.
        let shuffled = sizes.clone();
        sizes.sort_unstable();
        for (size, (_, b)) in sizes.into_iter().chain(shuffled).zip(picks.iter().cycle()) {
            let m = (b % size as u64) as usize;
            let p = prove_inclusion_cached(m as u64, size as u64, &store, &cache).unwrap();
            prop_assert_eq!(p, r.path(m, 0, size));
            // m < size, so m + 1 is a valid old size.
            let c = prove_consistency_cached(m as u64 + 1, size as u64, &store, &cache).unwrap();
            prop_assert_eq!(c, r.proof(m + 1, size));
        }
    }

    #[test]
    fn prop_verify_rejects_random_proofs(
        n in 2u64..1_000_000_000_000,
        m_frac in any::<u64>(),
        junk in proptest::collection::vec(any::<[u8; 32]>(), 0..45),
        leaf in any::<[u8; 32]>(),
        root in any::<[u8; 32]>(),
    ) {
        let m = m_frac % n;
        prop_assert!(verify_inclusion(&leaf, m, n, &junk, &root).is_err());
        prop_assert!(verify_consistency(m.max(1), n, &leaf, &root, &junk).is_err());
    }
}
