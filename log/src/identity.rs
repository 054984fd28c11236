//! The log's identity: its names, tree id and keys, and the signatures made with them
//! (checkpoints, SETs).
//!
//! A leaf module (it imports only [`crate::error`]): the sequencer signs checkpoints with it,
//! the witness client checks the log's own signature with it, the service signs SETs. What
//! this module does not do: load or generate key files (see [`crate::signing`]), SCTs (see
//! [`crate::ct`]).

use signet_proto::checkpoint::{Checkpoint, SignedCheckpoint};
use signet_proto::keys::{EcdsaSigner, PublicKey};
use signet_proto::merkle::Hash;
use signet_proto::note::{Ed25519NoteSigner, NoteSigner, RekorNoteSigner};
use signet_proto::rekor::SetPayload;

use crate::error::LogError;

/// The log's identity: names, keys, IDs.
pub struct Identity {
    /// Signer name, `host:port`.
    pub name: String,
    /// Checkpoint origin, `<name> - <tree id>`.
    pub origin: String,
    /// Tree id.
    pub tree_id: i64,
    /// Log key.
    pub log_key: EcdsaSigner,
    /// SHA-256 of the log key's SPKI DER (Rekor `logID`).
    pub log_id: [u8; 32],
    /// Rekor-style note signer.
    pub rekor_note: RekorNoteSigner,
    /// C2SP Ed25519 note signer.
    pub ed_note: Ed25519NoteSigner,
    /// Whether checkpoints carry the Rekor-style ECDSA line (`rekor_note`) before the C2SP
    /// one: true for a Rekor v1 log, false for a Rekor v2 log (C2SP line only).
    pub rekor_line: bool,
    /// CT key.
    pub ct_key: EcdsaSigner,
    /// CT roots: DER certificates accepted as chain anchors.
    pub ct_roots: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("origin", &self.origin)
            .field("log_id", &hex::encode(self.log_id))
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Signs a checkpoint for `(size, root)` with both note signers (the C2SP one only
    /// without [`Identity::rekor_line`]).
    ///
    /// # Errors
    /// [`LogError::Signing`] if signing fails.
    pub fn sign_checkpoint(&self, size: u64, root: Hash) -> Result<String, LogError> {
        let signing = |reason: String| LogError::Signing {
            what: "checkpoint",
            reason,
        };
        let both: [&dyn NoteSigner; 2] = [&self.rekor_note, &self.ed_note];
        let signers = if self.rekor_line {
            &both[..]
        } else {
            &both[1..]
        };
        let cp = SignedCheckpoint::sign(Checkpoint::new(self.origin.clone(), size, root), signers)
            .map_err(|e| signing(e.to_string()))?;
        String::from_utf8(cp.to_bytes()).map_err(|e| signing(e.to_string()))
    }

    /// The SET for an entry.
    ///
    /// # Errors
    /// [`LogError::Signing`] if signing fails, [`LogError::OutOfRange`] for integers beyond
    /// 2^53.
    pub fn sign_set(
        &self,
        body: &[u8],
        integrated_time: u64,
        index: u64,
    ) -> Result<Vec<u8>, LogError> {
        use base64::Engine as _;
        let body_b64 = base64::engine::general_purpose::STANDARD.encode(body);
        self.sign_set_b64(&body_b64, integrated_time, index)
    }

    /// [`Identity::sign_set`] with the body already in standard base64.
    pub(crate) fn sign_set_b64(
        &self,
        body_b64: &str,
        integrated_time: u64,
        index: u64,
    ) -> Result<Vec<u8>, LogError> {
        let bytes = set_payload_bytes(body_b64, integrated_time, &self.log_id, index)?;
        self.log_key.sign(&bytes).map_err(|e| LogError::Signing {
            what: "SET",
            reason: e.to_string(),
        })
    }

    /// The log public key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        self.log_key.public_key()
    }
}

/// Largest integer RFC 8785 writes exactly (2^53).
const JCS_MAX_SAFE: u64 = 1 << 53;

/// The RFC 8785 bytes of a [`SetPayload`] (`SetPayload::canonical_bytes_from_parts`), for the
/// unsigned integers the log has; integers beyond 2^53 are refused.
fn set_payload_bytes(
    body_b64: &str,
    integrated_time: u64,
    log_id: &[u8; 32],
    index: u64,
) -> Result<Vec<u8>, LogError> {
    let checked = |what, value: u64| {
        if value > JCS_MAX_SAFE {
            return Err(LogError::OutOfRange { what, value });
        }
        i64::try_from(value).map_err(|_| LogError::OutOfRange { what, value })
    };
    let time = checked("SET integratedTime", integrated_time)?;
    let index_i = checked("SET logIndex", index)?;
    SetPayload::canonical_bytes_from_parts(body_b64, time, log_id, index_i).ok_or(
        LogError::OutOfRange {
            what: "SET payload integer",
            value: index,
        },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use signet_proto::bundle::Base64Bytes;
    use signet_proto::rekor::HexBytes;

    #[test]
    fn set_payload_bytes_match_jcs() {
        let body = br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}"#;
        let log_id = [0xa5u8; 32];
        for (time, index) in [(0u64, 0u64), (1_764_000_000, 12_345_678), (1, JCS_MAX_SAFE)] {
            let want = SetPayload {
                body: Base64Bytes(body.to_vec()),
                integrated_time: i64::try_from(time).unwrap(),
                log_id: HexBytes(log_id.to_vec()),
                log_index: i64::try_from(index).unwrap(),
            }
            .canonical_bytes()
            .unwrap();
            let b64 = base64::engine::general_purpose::STANDARD.encode(body);
            assert_eq!(set_payload_bytes(&b64, time, &log_id, index).unwrap(), want);
        }
        assert!(matches!(
            set_payload_bytes("", 1, &log_id, JCS_MAX_SAFE + 1),
            Err(LogError::OutOfRange {
                what: "SET logIndex",
                ..
            })
        ));
    }
}
