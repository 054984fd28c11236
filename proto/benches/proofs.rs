//! Proof generation and verification benchmarks (see BENCHMARKS.md, "Proof verification").
//!
//! * Real tree of 10^6 leaves, built with `tiles::integrate` into a `MemTiles` store in batches
//!   of 1000: proof generation, tree root, verification of generated proofs, and one
//!   1000-leaf `integrate` call at that size.
//! * Synthetic tree of about 2^40 leaves: random hashes as the proof, with the roots
//!   recomputed from them so that verification succeeds.
//!
//! Run: `cargo bench -p signet-proto --bench proofs --profile dev`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use signet_proto::merkle::{
    leaf_hash, prove_consistency, prove_inclusion, root_from_inclusion_proof, tree_root,
    verify_consistency, verify_inclusion, Hash, ProofError,
};
use signet_proto::tiles::{integrate, MemTiles};

const REAL_SIZE: u64 = 1_000_000;
const SYNTH_SIZE: u64 = (1 << 40) + 123_456_789;
const PROOFS: usize = 64;

/// splitmix64: deterministic pseudo-random numbers for the benchmark inputs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn hash(&mut self) -> Hash {
        let mut h = [0u8; 32];
        for c in h.chunks_mut(8) {
            c.copy_from_slice(&self.next().to_le_bytes());
        }
        h
    }
}

fn leaf(i: u64) -> Hash {
    leaf_hash(&i.to_be_bytes())
}

fn build_real() -> MemTiles {
    let mut store = MemTiles::new();
    let mut size = 0u64;
    while size < REAL_SIZE {
        let batch: Vec<Hash> = (size..(size + 1000).min(REAL_SIZE)).map(leaf).collect();
        let int = integrate(size, &batch, &store).unwrap();
        store.apply(&int);
        size = int.size;
    }
    store
}

struct Synthetic {
    inclusion: Vec<(Hash, u64, Vec<Hash>, Hash)>,
    consistency: Vec<(u64, Hash, Hash, Vec<Hash>)>,
}

/// Random proofs at `SYNTH_SIZE` whose roots are recomputed from them.
fn synthetic() -> Synthetic {
    let mut rng = Rng(2);
    let n = SYNTH_SIZE;
    let zero = [0u8; 32];
    let mut inclusion = Vec::new();
    let mut consistency = Vec::new();
    for _ in 0..PROOFS {
        let m = rng.next() % n;
        let leaf = rng.hash();
        let want = match verify_inclusion(&leaf, m, n, &[], &zero) {
            Err(ProofError::WrongProofSize { want, .. }) => want,
            other => panic!("{other:?}"),
        };
        let proof: Vec<Hash> = (0..want).map(|_| rng.hash()).collect();
        let root = root_from_inclusion_proof(&leaf, m, n, &proof).unwrap();
        verify_inclusion(&leaf, m, n, &proof, &root).unwrap();
        inclusion.push((leaf, m, proof, root));

        // Consistency: the verifier reports the roots it recomputes in its errors.
        let old = 1 + rng.next() % (n - 1);
        let want = match verify_consistency(old, n, &zero, &zero, &[]) {
            Err(ProofError::WrongProofSize { want, .. }) => want,
            other => panic!("{other:?}"),
        };
        let proof: Vec<Hash> = (0..want).map(|_| rng.hash()).collect();
        let old_root = match verify_consistency(old, n, &zero, &zero, &proof) {
            Err(ProofError::OldRootMismatch { calculated, .. }) => calculated,
            // A perfect old tree's root is not in the proof: any value works.
            Err(ProofError::RootMismatch { .. }) => rng.hash(),
            other => panic!("{other:?}"),
        };
        let new_root = match verify_consistency(old, n, &old_root, &zero, &proof) {
            Err(ProofError::RootMismatch { calculated, .. }) => calculated,
            other => panic!("{other:?}"),
        };
        verify_consistency(old, n, &old_root, &new_root, &proof).unwrap();
        consistency.push((old, old_root, new_root, proof));
    }
    Synthetic {
        inclusion,
        consistency,
    }
}

fn benches(c: &mut Criterion) {
    let store = build_real();
    let n = REAL_SIZE;
    let root = tree_root(n, &store).unwrap();
    let mut rng = Rng(1);
    let idx: Vec<u64> = (0..PROOFS).map(|_| rng.next() % n).collect();
    let olds: Vec<u64> = (0..PROOFS).map(|_| 1 + rng.next() % (n - 1)).collect();
    let incl: Vec<(Hash, u64, Vec<Hash>)> = idx
        .iter()
        .map(|&m| (leaf(m), m, prove_inclusion(m, n, &store).unwrap()))
        .collect();
    let cons: Vec<(u64, Hash, Vec<Hash>)> = olds
        .iter()
        .map(|&m| {
            (
                m,
                tree_root(m, &store).unwrap(),
                prove_consistency(m, n, &store).unwrap(),
            )
        })
        .collect();
    for (l, m, p) in &incl {
        verify_inclusion(l, *m, n, p, &root).unwrap();
    }
    for (m, r, p) in &cons {
        verify_consistency(*m, n, r, &root, p).unwrap();
    }
    let synth = synthetic();

    let mut i = 0usize;
    let mut next = move || {
        i = (i + 1) % PROOFS;
        i
    };

    c.bench_function("verify_inclusion/1e6", |b| {
        b.iter(|| {
            let (l, m, p) = &incl[next()];
            verify_inclusion(l, *m, n, black_box(p), &root).unwrap();
        });
    });
    c.bench_function("verify_consistency/1e6", |b| {
        b.iter(|| {
            let (m, r, p) = &cons[next()];
            verify_consistency(*m, n, r, &root, black_box(p)).unwrap();
        });
    });
    c.bench_function("verify_inclusion/2^40", |b| {
        b.iter(|| {
            let (l, m, p, r) = &synth.inclusion[next()];
            verify_inclusion(l, *m, SYNTH_SIZE, black_box(p), r).unwrap();
        });
    });
    c.bench_function("verify_consistency/2^40", |b| {
        b.iter(|| {
            let (m, r1, r2, p) = &synth.consistency[next()];
            verify_consistency(*m, SYNTH_SIZE, r1, r2, black_box(p)).unwrap();
        });
    });
    c.bench_function("prove_inclusion/1e6", |b| {
        b.iter(|| prove_inclusion(idx[next()], n, &store).unwrap());
    });
    c.bench_function("prove_consistency/1e6", |b| {
        b.iter(|| prove_consistency(olds[next()], n, &store).unwrap());
    });
    c.bench_function("tree_root/1e6", |b| {
        b.iter(|| tree_root(black_box(n), &store).unwrap());
    });
    let batch: Vec<Hash> = (n..n + 1000).map(leaf).collect();
    c.bench_function("integrate_1000/1e6", |b| {
        b.iter(|| integrate(n, black_box(&batch), &store).unwrap());
    });
}

criterion_group! {
    name = proofs;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(proofs);
