//! The log's frozen shards in `signet serve` (`signet log rotate`, `signet_log::shards`):
//! completing a pending rotation before the active log opens, then opening each frozen shard
//! read-only, attaching it to the active log (global indexes, reads by UUID and index), its
//! checkpoint and tiles under `<public_url>/shards/<tree id>`, and its `tlogs[]` item.
//!
//! Trusted root windows: a frozen shard's key is valid from when it came into use until the
//! rotation; the active shard's from when its key came into use (the first start, or the
//! `--new-key` rotation). With one key for both, both windows start at the first start, so
//! whichever item a client keeps for the shared log ID (sigstore-go keeps the last, the
//! active one) covers every entry.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use serde_json::{json, Value};
use signet_log::shards::{ShardHistory, SHARD_PATH_PREFIX};

/// Finishes a pending rotation of the log in `log_dir` (before the active log is opened).
pub(super) fn prepare(log_dir: &Path, created: i64) -> anyhow::Result<ShardHistory> {
    signet_log::shards::prepare(log_dir, created)
        .with_context(|| format!("opening the log shards in {}", log_dir.display()))
}

/// The frozen shards' `tlogs[]` items and router.
pub(super) struct Shards {
    pub(super) tlogs: Vec<Value>,
    pub(super) router: Router,
}

/// Opens the frozen shards of `history`, attaches them to the active `log`, and returns what
/// the server publishes of them.
pub(super) fn attach(
    log: &Arc<signet_log::Log>,
    history: &ShardHistory,
    log_dir: &Path,
    host: &str,
    public_url: &str,
) -> anyhow::Result<Shards> {
    let frozen =
        signet_log::shards::open_frozen(log_dir, history, host, Arc::new(signet_ca::SystemClock))
            .with_context(|| format!("opening the frozen log shards in {}", log_dir.display()))?;
    let mut tlogs = Vec::with_capacity(frozen.len());
    let mut router = Router::new();
    for f in &frozen {
        let base = shard_base_url(public_url, f.record.tree_id);
        let mut item = super::trust::log_instance(
            &base,
            f.log.identity().public_key(),
            &super::rfc3339(f.record.key_start)?,
        )?;
        item["publicKey"]["validFor"]["end"] = json!(super::rfc3339(f.record.end)?);
        tlogs.push(item);
        router = router.nest(
            &format!("{SHARD_PATH_PREFIX}/{}", f.record.tree_id),
            signet_log::http::shard_router(Arc::clone(&f.log)),
        );
    }
    log.attach_shards(frozen)
        .context("attaching the frozen log shards")?;
    Ok(Shards { tlogs, router })
}

/// Where a frozen shard's checkpoint and tiles are served.
pub(super) fn shard_base_url(public_url: &str, tree_id: u64) -> String {
    format!("{public_url}{SHARD_PATH_PREFIX}/{tree_id}")
}

/// Whether `base_url` (a `tlogs[]` item's) is a frozen shard's.
pub(super) fn is_shard_base_url(base_url: &str) -> bool {
    base_url
        .trim_end_matches('/')
        .rsplit_once(SHARD_PATH_PREFIX)
        .is_some_and(|(_, id)| id.len() > 1 && id[1..].bytes().all(|b| b.is_ascii_digit()))
}
