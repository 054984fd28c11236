//! The record of a frozen log shard (`shards.json`, [`crate::shards`]): a leaf module, shared
//! by the shard rotation and the [`crate::service::Log`] that serves the shard.

use serde::{Deserialize, Serialize};

/// One frozen shard, as recorded by `signet log rotate` ([`crate::shards::rotate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenShard {
    /// Its tree id (decimal in Rekor's `treeID`).
    pub tree_id: u64,
    /// Its checkpoint origin.
    pub origin: String,
    /// Its final size.
    pub size: u64,
    /// Its final root, hex.
    pub root: String,
    /// Its final signed checkpoint.
    pub checkpoint: String,
    /// Its directory, relative to the log directory.
    pub dir: String,
    /// When its key came into use (Unix seconds): the start of its key's `validFor`.
    pub key_start: i64,
    /// When it became the active shard (Unix seconds).
    pub start: i64,
    /// When it was frozen (Unix seconds): the end of its key's `validFor`.
    pub end: i64,
}
