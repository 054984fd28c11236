//! Log configuration: one serde struct with explicit defaults, checked by
//! [`LogConfig::validate`] before serving.
//!
//! Secrets are referred to by file path. What this module does not do: read environment
//! variables or command-line flags (that is the CLI's job).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Configuration of one log instance.
///
/// Keys (TOML/JSON field names as written here):
/// * `data_dir`: directory of the RocksDB database (created if missing).
/// * `listen`: socket address to bind (default `127.0.0.1:3000`; port 0 picks a free port).
/// * `public_host`: `host:port` clients use to reach the log; it is the checkpoint signer
///   name and the first word of the origin (`<public_host> - <tree id>`). Default: the bound
///   address. sigstore-js requires it to match the trust root's `baseUrl` host.
/// * `log_key`: PEM PKCS#8 (or SEC1) ECDSA P-256 key signing checkpoints and SETs. Default
///   `<data_dir>/log_key.pem`.
/// * `witness_key`: PEM PKCS#8 Ed25519 key for the C2SP checkpoint line. Default
///   `<data_dir>/witness_key.pem`.
/// * `ct_key`: PEM ECDSA P-256 key signing SCTs. Default `<data_dir>/ct_key.pem`.
/// * `ct_roots`: PEM files of CA certificates `add-pre-chain` accepts as chain anchors.
/// * `generate_keys`: create missing key files (default true). With false a missing key is
///   an error.
/// * `batch_max_entries` (1024), `batch_max_delay_ms` (20): sequencer batching limits.
/// * `queue_capacity` (16384): pending entries before new submissions get 503.
/// * `retry_after_secs` (1): the `Retry-After` value sent with 503.
/// * `max_body_bytes` (262144): request body cap.
/// * `witness_policy`: a witness policy file (`witness NAME VKEY URL` lines, `quorum K`; see
///   `signet_proto::witness`). With it, every checkpoint is published only once K witnesses
///   cosigned it ([`crate::witness`]).
/// * `witness_timeout_ms` (5000): how long one round of cosignature requests may take.
/// * `rekor_v2` (false): a Rekor v2 (rekor-tiles) log ([`crate::v2`]): the checkpoint origin
///   is `public_host` itself (no tree id) and checkpoints carry only the C2SP Ed25519 line
///   (the witness key), whose C2SP key ID is the log ID; no SETs, no witness policy yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Database directory.
    pub data_dir: PathBuf,
    /// Address to bind.
    pub listen: SocketAddr,
    /// `host:port` in checkpoints (signer name and origin); default: the bound address.
    pub public_host: Option<String>,
    /// ECDSA P-256 log key file.
    pub log_key: Option<PathBuf>,
    /// Ed25519 witness-style checkpoint key file.
    pub witness_key: Option<PathBuf>,
    /// ECDSA P-256 CT (SCT) key file.
    pub ct_key: Option<PathBuf>,
    /// CA certificate PEM files accepted as roots by `add-pre-chain`.
    pub ct_roots: Vec<PathBuf>,
    /// Generate missing key files.
    pub generate_keys: bool,
    /// Maximum entries per sequencer batch.
    pub batch_max_entries: usize,
    /// Maximum time the sequencer waits to fill a batch, in milliseconds.
    pub batch_max_delay_ms: u64,
    /// Capacity of the pending-entry queue.
    pub queue_capacity: usize,
    /// `Retry-After` seconds for 503 answers.
    pub retry_after_secs: u64,
    /// Request body cap in bytes.
    pub max_body_bytes: usize,
    /// Witness policy file; checkpoints are cosigned by its quorum before publication.
    pub witness_policy: Option<PathBuf>,
    /// Time allowed for one round of witness requests, in milliseconds.
    pub witness_timeout_ms: u64,
    /// A Rekor v2 log: origin `public_host`, checkpoints signed by the Ed25519 key only.
    pub rekor_v2: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("signet-log-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_host: None,
            log_key: None,
            witness_key: None,
            ct_key: None,
            ct_roots: Vec::new(),
            generate_keys: true,
            batch_max_entries: 1024,
            batch_max_delay_ms: 20,
            queue_capacity: 16384,
            retry_after_secs: 1,
            max_body_bytes: 256 * 1024,
            witness_policy: None,
            witness_timeout_ms: 5000,
            rekor_v2: false,
        }
    }
}

/// An invalid configuration value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("invalid log config `{field}`: {reason}")]
pub struct ConfigError {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl LogConfig {
    /// Checks value ranges.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field, reason: &str| {
            Err(ConfigError {
                field,
                reason: reason.into(),
            })
        };
        if self.batch_max_entries == 0 || self.batch_max_entries > 65536 {
            return bad("batch_max_entries", "must be 1..=65536");
        }
        if self.batch_max_delay_ms > 10_000 {
            return bad("batch_max_delay_ms", "must be at most 10000");
        }
        if self.queue_capacity == 0 {
            return bad("queue_capacity", "must be positive");
        }
        if self.max_body_bytes < 1024 || self.max_body_bytes > 64 << 20 {
            return bad("max_body_bytes", "must be 1 KiB..=64 MiB");
        }
        if self.witness_timeout_ms == 0 || self.witness_timeout_ms > 600_000 {
            return bad("witness_timeout_ms", "must be 1..=600000");
        }
        if self.rekor_v2 && self.witness_policy.is_some() {
            return bad(
                "witness_policy",
                "a Rekor v2 log (rekor_v2) does not gather cosignatures yet",
            );
        }
        if let Some(h) = &self.public_host {
            if h.is_empty() || h.contains(char::is_whitespace) || h.contains('+') {
                return bad("public_host", "must be a host:port without spaces or '+'");
            }
        }
        Ok(())
    }

    /// Path of the log key file.
    #[must_use]
    pub fn log_key_path(&self) -> PathBuf {
        self.log_key
            .clone()
            .unwrap_or_else(|| self.data_dir.join("log_key.pem"))
    }
    /// Path of the Ed25519 checkpoint key file.
    #[must_use]
    pub fn witness_key_path(&self) -> PathBuf {
        self.witness_key
            .clone()
            .unwrap_or_else(|| self.data_dir.join("witness_key.pem"))
    }
    /// Path of the CT key file.
    #[must_use]
    pub fn ct_key_path(&self) -> PathBuf {
        self.ct_key
            .clone()
            .unwrap_or_else(|| self.data_dir.join("ct_key.pem"))
    }
}
