//! The tile-interior cache behind served inclusion and consistency proofs
//! ([`signet_proto::merkle::InteriorCache`]): a proof at 10^7 entries is then a few lookups
//! and one tile read instead of about 250 hash computations per tile level.
//!
//! What it keeps: for every tile a proof touched, the hashes of its complete interior
//! subtrees ([`TileInterior`], immutable once complete, so no invalidation is ever needed),
//! keyed by tile coordinates. Level-0 tiles keep in-tile heights 4 to 7 (30 hashes, 960
//! bytes: a proof still hashes at most 11 nodes from the level-0 tile it reads); tiles of
//! level 1 and up (one per 256 level-0 tiles) keep everything from height 0, so a proof
//! never reads them.
//!
//! Memory is bounded: at most `max_bytes` of interiors plus a fixed per-entry overhead are
//! held, in 16 shards evicting first-in first-out. A full log of 10^7 entries needs about
//! 42 MiB to hold every interior ([`DEFAULT_MAX_BYTES`] is 64 MiB). This module reads and
//! writes no storage; it works for any [`signet_proto::merkle::TileReader`] (RocksDB or
//! distributed).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use signet_proto::merkle::{InteriorCache, TileInterior};

/// Default memory bound of a log's cache: 64 MiB.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// Bytes counted per cached tile beyond its hashes (map slot, queue slot, `Arc` header).
const ENTRY_OVERHEAD: usize = 96;

/// In-tile height from which level-0 tiles keep their interior.
const LEVEL0_FROM: u32 = 4;

const SHARDS: usize = 16;

type Key = (u8, u64);

#[derive(Default)]
struct Shard {
    map: HashMap<Key, Arc<TileInterior>>,
    /// Keys in insertion order (each once), for eviction.
    order: VecDeque<Key>,
    bytes: usize,
}

fn cost(int: &TileInterior) -> usize {
    int.byte_len() + ENTRY_OVERHEAD
}

/// A bounded, thread-safe cache of tile interiors (see the module documentation).
pub struct ProofCache {
    shards: Vec<Mutex<Shard>>,
    shard_budget: usize,
}

impl std::fmt::Debug for ProofCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofCache")
            .field("max_bytes", &(self.shard_budget * SHARDS))
            .field("bytes", &self.bytes())
            .finish_non_exhaustive()
    }
}

impl Default for ProofCache {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BYTES)
    }
}

impl ProofCache {
    /// A cache holding at most `max_bytes` (hashes plus per-entry overhead); 0 keeps nothing.
    #[must_use]
    pub fn new(max_bytes: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            shard_budget: max_bytes / SHARDS,
        }
    }

    fn shard(&self, key: Key) -> std::sync::MutexGuard<'_, Shard> {
        // Consecutive tiles of one level land in different shards.
        let i = usize::try_from((key.1 ^ (u64::from(key.0) << 5)) % SHARDS as u64).unwrap_or(0);
        self.shards[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bytes currently held (as counted against the bound).
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map_or(0, |s| s.bytes))
            .sum()
    }

    /// Number of tiles whose interiors are held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map_or(0, |s| s.map.len()))
            .sum()
    }

    /// Whether nothing is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl InteriorCache for ProofCache {
    fn get(&self, level: u8, index: u64) -> Option<Arc<TileInterior>> {
        self.shard((level, index)).map.get(&(level, index)).cloned()
    }

    fn insert(&self, level: u8, index: u64, interior: Arc<TileInterior>) {
        let key = (level, index);
        let add = cost(&interior);
        if add > self.shard_budget {
            return;
        }
        let mut shard = self.shard(key);
        let shard = &mut *shard;
        if let Some(old) = shard.map.get(&key) {
            // A wider interior (a partial tile that grew) replaces a narrower one, never the
            // other way round.
            if old.width() >= interior.width() {
                return;
            }
            shard.bytes -= cost(old);
            shard.map.remove(&key);
            shard.order.retain(|k| *k != key);
        }
        while shard.bytes + add > self.shard_budget {
            let Some(k) = shard.order.pop_front() else {
                break;
            };
            if let Some(old) = shard.map.remove(&k) {
                shard.bytes -= cost(&old);
            }
        }
        shard.bytes += add;
        shard.map.insert(key, interior);
        shard.order.push_back(key);
    }

    fn keep_from(&self, level: u8) -> u32 {
        if level == 0 {
            LEVEL0_FROM
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use signet_proto::merkle::{leaf_hash, prove_inclusion, prove_inclusion_cached};
    use signet_proto::tiles::{integrate, MemTiles};

    fn interior(width: usize, from: u32) -> Arc<TileInterior> {
        let t: Vec<u8> = (0..width)
            .flat_map(|i| leaf_hash(&i.to_be_bytes()))
            .collect();
        Arc::new(TileInterior::new(&t, from))
    }

    #[test]
    fn memory_bound_is_respected() {
        let max = 200_000;
        let cache = ProofCache::new(max);
        let full0 = interior(256, LEVEL0_FROM);
        let full1 = interior(256, 0);
        for i in 0..10_000u64 {
            cache.insert(0, i, Arc::clone(&full0));
            if i % 7 == 0 {
                cache.insert(1, i, Arc::clone(&full1));
            }
            assert!(
                cache.bytes() <= max,
                "{} bytes held after {i}",
                cache.bytes()
            );
        }
        // It holds about as much as fits, not nothing.
        assert!(cache.bytes() > max / 2, "{}", cache.bytes());
        assert_eq!(
            cache.bytes(),
            cache
                .shards
                .iter()
                .map(|s| s
                    .lock()
                    .unwrap()
                    .map
                    .values()
                    .map(|i| cost(i))
                    .sum::<usize>())
                .sum::<usize>()
        );
        // The newest entries are kept, the oldest evicted.
        assert!(cache.get(0, 9_999).is_some());
        assert!(cache.get(0, 0).is_none());
        // A zero budget keeps nothing.
        let none = ProofCache::new(0);
        none.insert(0, 1, full0);
        assert!(none.is_empty());
        assert_eq!(none.bytes(), 0);
    }

    #[test]
    fn a_wider_interior_replaces_a_narrower_one_only() {
        let cache = ProofCache::new(1 << 20);
        cache.insert(0, 3, interior(100, 4));
        cache.insert(0, 3, interior(200, 4));
        assert_eq!(cache.get(0, 3).unwrap().width(), 200);
        cache.insert(0, 3, interior(150, 4));
        assert_eq!(cache.get(0, 3).unwrap().width(), 200);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.bytes(), cost(&interior(200, 4)));
    }

    #[test]
    fn proofs_through_a_small_cache_equal_uncached_ones() {
        // 20,000 leaves grown in uneven batches; a cache too small for every tile.
        let mut store = MemTiles::new();
        let mut size = 0u64;
        let cache = ProofCache::new(16 * 4 * 1100);
        let mut x = 7u64;
        for batch in [1u64, 300, 4000, 255, 1, 9000, 6443] {
            let leaves: Vec<_> = (size..size + batch)
                .map(|i| leaf_hash(&i.to_be_bytes()))
                .collect();
            let int = integrate(size, &leaves, &store).unwrap();
            store.apply(&int);
            size += batch;
            for _ in 0..300 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = x % size;
                assert_eq!(
                    prove_inclusion_cached(i, size, &store, &cache).unwrap(),
                    prove_inclusion(i, size, &store).unwrap(),
                    "PATH({i}, {size})"
                );
            }
        }
        assert!(!cache.is_empty());
        assert!(cache.bytes() <= 16 * 4 * 1100);
    }
}
