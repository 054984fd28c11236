//! Distributed mode: the log's records on S3-compatible object storage, its tree head and
//! the sequencer's lease in etcd, so that several `signet serve` processes share one log:
//! one sequencer at a time (elected through an etcd lease), standbys ready to take over, and
//! readers that hold no state. The design, its guarantees and its limits are in
//! `docs/distributed.md`; this module implements it as a [`LogStore`](crate::storage::LogStore) ([`DistStore`]) plus
//! the election and follower loop ([`run_member`]), so the sequencer, the HTTP API and the
//! proofs are the same code as in the embedded (RocksDB) mode.
//!
//! Object layout (`<prefix>/` in the bucket), every object written once with content that
//! depends only on its name and the committed sequence, so a rewrite by anyone (a retry, a
//! deposed leader waking up, the next leader's recovery) writes the same bytes. Correctness
//! never relies on conditional writes (Garage ignores `If-None-Match`/`If-Match` on PUT):
//!
//! | object | content |
//! |---|---|
//! | `kv/T/<hex level‖index>.<width>` | hash tile `(level, index)` at exactly `width` hashes (one object per width: a partial tile is never overwritten by a wider or narrower one) |
//! | `kv/<c>/<hex rest of key>` | the record of [`crate::storage`]'s layout whose key starts with byte `c` (`E`, `B`, `H`, `C`, `P`); `I` postings as `kv/I/<hex kind‖value hash>/<hex index>` so a search is one listing |
//! | `wal/<sha256>` | one committed batch (every record it writes), content-addressed: the redo log a new sequencer replays |
//!
//! etcd keys (`/<prefix>/`): `leader` (the sequencer's node id, attached to its lease),
//! `head` (tree size ‖ root of the sequenced tree) with `wal` (the hash of the batch that made
//! it), `applied` (the head whose records are all in object storage: what readers serve),
//! `meta/<hex key>` (the tree id; the published head).
//!
//! With a witness policy, only the lease holder asks witnesses to cosign (the heads it
//! committed through the fenced transaction, or inherited at election) and records the
//! cosigned checkpoint as `meta/<hex "Mpublished">` in a transaction fenced by the same lease;
//! every other member serves the newest such record ([`crate::witness`]).
//!
//! What this module does not do: deletion (objects are never deleted), TLS client
//! certificates for etcd.

mod etcd;
mod store;

pub use store::{DistConfig, DistStore, Role};

use std::sync::Arc;
use std::time::Duration;

use crate::service::Log;

/// Runs this member's part for as long as the log lives: a reader follows the applied head;
/// a sequencer candidate follows it while standby, campaigns for the lease, and as the
/// sequencer takes the committed head from the store before writing, and goes back to
/// standby if it loses the lease. Never returns while the log is alive.
pub async fn run_member(store: Arc<DistStore>, log: std::sync::Weak<Log>) {
    let follow = Duration::from_millis(300);
    loop {
        let Some(l) = log.upgrade() else {
            return;
        };
        if store.is_leader() {
            // Just elected (or still leader): serve the head this store committed.
            if let Err(e) = l.reload_from_store() {
                tracing::error!(error = %e, "cannot load the sequenced head; stepping down");
                store.step_down("cannot load the sequenced head").await;
                continue;
            }
            drop(l);
            store.lost().await;
            tracing::warn!("sequencer lease lost: now a standby");
            continue;
        }
        match store.refresh().await {
            Ok(()) => {
                if let Err(e) = l.reload_from_store() {
                    tracing::warn!(error = %e, "cannot follow the applied head");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the applied head"),
        }
        drop(l);
        if store.role() == Role::Sequencer {
            match store.try_acquire().await {
                Ok(true) => {
                    tracing::info!(node = store.node_id(), "elected sequencer");
                    continue;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "campaign failed"),
            }
        }
        tokio::time::sleep(follow).await;
    }
}
