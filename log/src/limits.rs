//! Size limits shared by validation, the log service and the HTTP layer.
//!
//! A leaf module (it imports nothing of this crate), so that [`crate::entries`] can bound what
//! it builds without reaching into the service. What this module does not hold: the HTTP body
//! cap (`max_body_bytes` in [`crate::LogConfig`]) or per-kind DSSE bounds (in
//! [`crate::entries`]).

/// Largest canonical body accepted (entry bundles length-prefix entries with a u16).
pub const MAX_ENTRY_BYTES: usize = 65535;

/// Most UUIDs/indexes/entries in one `entries/retrieve` query.
pub const MAX_RETRIEVE: usize = 100;

/// Most proposed entries in one `entries/retrieve` query (Rekor's openapi: `maxItems: 10`):
/// each is validated, signature checks included, before it can be looked up.
pub const MAX_RETRIEVE_ENTRIES: usize = 10;
