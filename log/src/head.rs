//! The signed tree head: a tree size, its root and the signed checkpoint note for them.
//!
//! A leaf module shared by the sequencer (which produces heads), the witness client (which
//! gets them cosigned) and the service (which serves them). What this module does not do:
//! sign or verify checkpoints (see [`crate::identity`] and `signet_proto::checkpoint`).

use signet_proto::merkle::Hash;

/// A signed tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHead {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// Signed checkpoint note text.
    pub checkpoint: String,
}
