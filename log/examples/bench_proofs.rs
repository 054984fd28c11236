//! Inclusion proofs per second per core at SIZE leaves (default 10^7), in both storage modes,
//! in one process (`just bench-proofs`; BENCHMARKS.md "Proofs served").
//!
//! The tree's hash tiles are built once (leaf hashes of the indexes, integrated in chunks of
//! 65,536 as the sequencer integrates batches) and written twice: into a RocksDB store
//! (`RocksStore`, the embedded mode's tile keys) and into an in-memory object store in the
//! distributed layout (`<prefix>/kv/T/<level‖index>.<width>`, every width a chunk produced),
//! read through `DistStore::fixed_reader`: the distributed reader's own read path (its object
//! cache, the hop to its storage runtime for every read) with no etcd and no Garage behind it.
//! Both are then proved through exactly what `Log::prove` runs
//! (`prove_inclusion_cached` over a `LogDb`, with a fresh `ProofCache` each), from one thread:
//! COUNT random indexes once to fill the caches, then the same indexes five times more (warm), then the
//! uncached path (`prove_inclusion`) as the peer. Every warm proof is checked against the
//! uncached one first. Figures: proofs/s of wall time from the one calling thread, and
//! proofs per CPU-second of the whole process (`getrusage`: the distributed path's reads run
//! on its runtime's threads, so per core means per CPU-second, not per thread).
//!
//! What it does not measure: HTTP, object-store latency (warm reads never reach the store;
//! cold ones here hit memory, not Garage), entries or SET signatures.
//!
//! Usage: `bench_proofs DIR [SIZE] [COUNT]` (DIR: a scratch directory for RocksDB).

#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use std::sync::Arc;
use std::time::Instant;

use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use signet_log::distributed::DistStore;
use signet_log::proofcache::ProofCache;
use signet_log::storage::{keys, Batch, Head, LogDb, LogStore, RocksStore};
use signet_proto::merkle::{leaf_hash, prove_inclusion, prove_inclusion_cached, Hash};
use signet_proto::tiles::integrate;

/// CPU time of the whole process so far (user + system, all threads), from
/// `/proc/self/stat` (fields 14 and 15, in clock ticks of 1/100 s: Linux's `USER_HZ`).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir =
        std::path::PathBuf::from(args.get(1).expect("usage: bench_proofs DIR [SIZE] [COUNT]"));
    let size: u64 = args.get(2).map_or(10_000_000, |s| s.parse().unwrap());
    let count: usize = args.get(3).map_or(20_000, |s| s.parse().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "{} cores, load average {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );

    // The tiles, once; written to both stores as they are produced.
    let rocks = LogDb::new(Arc::new(RocksStore::open(&dir).unwrap()) as Arc<dyn LogStore>);
    let objects = Arc::new(InMemory::new());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let prefix = "bench";
    let t0 = Instant::now();
    let mut n = 0u64;
    let mut root = [0u8; 32];
    while n < size {
        let chunk = (size - n).min(65_536);
        let leaves: Vec<Hash> = (n..n + chunk)
            .map(|i| leaf_hash(&i.to_be_bytes()))
            .collect();
        let int = integrate(n, &leaves, &rocks).unwrap();
        let mut batch = Batch::default();
        for (t, data) in &int.tiles {
            batch.put(keys::tile(t.level, t.index), data.clone());
        }
        n += chunk;
        root = int.root;
        batch.put(
            keys::HEAD.to_vec(),
            LogDb::head_value(&Head { size: n, root }),
        );
        rocks.write(&batch, false).unwrap();
        rt.block_on(async {
            for (t, data) in &int.tiles {
                let mut k = vec![t.level];
                k.extend_from_slice(&t.index.to_be_bytes());
                let path = Path::from(format!("{prefix}/kv/T/{}.{}", hex::encode(k), t.width));
                objects
                    .put(&path, PutPayload::from(data.clone()))
                    .await
                    .unwrap();
            }
        });
    }
    println!(
        "tiles of {size} leaves built and written to both stores: {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    let mut head = size.to_be_bytes().to_vec();
    head.extend_from_slice(&root);
    let dist = LogDb::new(
        DistStore::fixed_reader(objects as Arc<dyn ObjectStore>, prefix, head).unwrap()
            as Arc<dyn LogStore>,
    );

    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let indexes: Vec<u64> = (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % size
        })
        .collect();
    for (name, db) in [("rocksdb", &rocks), ("distributed", &dist)] {
        let cache = ProofCache::default();
        let timed = |what: &str, reps: usize, f: &dyn Fn(u64)| -> f64 {
            let (w0, c0) = (Instant::now(), cpu_secs());
            for _ in 0..reps {
                for &i in &indexes {
                    f(i);
                }
            }
            let (wall, cpu) = (w0.elapsed().as_secs_f64(), cpu_secs() - c0);
            let done = (count * reps) as f64;
            let rate = done / wall;
            println!(
                "BENCH {name} {what}: {done} proofs at {size}: {rate:.0} proofs/s (one calling thread), {:.0} proofs per CPU-second",
                done / cpu.max(1e-9)
            );
            rate
        };
        // The uncached pass first: the peer, and every tile read once (page cache).
        let uncached = timed("uncached (prove_inclusion)", 1, &|i| {
            prove_inclusion(i, size, db).unwrap();
        });
        timed("cached, filling the cache", 1, &|i| {
            prove_inclusion_cached(i, size, db, &cache).unwrap();
        });
        for &i in indexes.iter().take(2_000) {
            assert_eq!(
                prove_inclusion_cached(i, size, db, &cache).unwrap(),
                prove_inclusion(i, size, db).unwrap()
            );
        }
        let warm = timed("cached, warm (the same indexes, 5 times)", 5, &|i| {
            prove_inclusion_cached(i, size, db, &cache).unwrap();
        });
        println!(
            "BENCH {name}: warm/uncached {:.1}; interior cache {} tiles, {:.1} MiB",
            warm / uncached,
            cache.len(),
            cache.bytes() as f64 / (1 << 20) as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
