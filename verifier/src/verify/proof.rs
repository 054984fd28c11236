//! The entry is in the log: the inclusion proof recomputes its root, and the checkpoint that
//! states that root and size is signed by the log (and, when the trust material asks for it,
//! cosigned by enough witnesses).
//!
//! Specs: RFC 6962 / RFC 9162 inclusion proofs (`signet_proto::merkle`), C2SP signed-note and
//! tlog-checkpoint (`signet_proto::checkpoint`), C2SP tlog-cosignature with the shared quorum
//! rule (`signet_proto::witness::check_quorum`).
//!
//! Not here: fetching proofs or checkpoints (offline verifier), consistency between
//! checkpoints, what the leaf (the entry body) says (`body`).

use signet_proto::checkpoint::Checkpoint;
use signet_proto::keys::PublicKey;
use signet_proto::note::NoteVerifier as _;

use crate::bundle::Entry;
use crate::error::{CheckpointError, TlogError, VerificationError};
use crate::trust::{LogKey, TrustMaterial};

/// Checks that `entry`'s body is included, by its proof, in the tree of the checkpoint the
/// proof carries, signed by `log`; returns that checkpoint.
///
/// # Errors
/// [`TlogError::Inclusion`] when the proof does not recompute its root, [`CheckpointError`]
/// when the checkpoint does not parse or verify, or states another root or size.
pub(super) fn check_inclusion(
    entry: &Entry,
    log: &LogKey,
    trust: &TrustMaterial,
) -> Result<Checkpoint, VerificationError> {
    let proof = &entry.proof;
    let leaf = signet_proto::merkle::leaf_hash(&entry.body);
    signet_proto::merkle::verify_inclusion(
        &leaf,
        proof.index,
        proof.size,
        &proof.hashes,
        &proof.root,
    )
    .map_err(|e| TlogError::Inclusion {
        index: proof.index,
        size: proof.size,
        reason: e.to_string(),
    })?;

    let checkpoint = verify_checkpoint(&proof.checkpoint, log, trust)?;
    if checkpoint.root != proof.root {
        return Err(CheckpointError::Mismatch {
            field: "root hash",
            checkpoint: hex::encode(checkpoint.root),
            proof: hex::encode(proof.root),
        }
        .into());
    }
    if checkpoint.size != proof.size {
        return Err(CheckpointError::Mismatch {
            field: "tree size",
            checkpoint: checkpoint.size.to_string(),
            proof: proof.size.to_string(),
        }
        .into());
    }
    Ok(checkpoint)
}

/// The signer name of a note's first signature line (`— NAME SIG`).
fn rekor_v1_signer_name(envelope: &str) -> Option<&str> {
    let (_, sigs) = envelope.split_once("\n\n")?;
    let line = sigs.lines().next()?.strip_prefix("\u{2014} ")?;
    let (name, _) = line.split_once(' ')?;
    Some(name)
}

/// Parses the checkpoint note, verifies the log's signature on it and, when the trust material
/// asks for witnesses, their quorum.
fn verify_checkpoint(
    envelope: &str,
    log: &LogKey,
    trust: &TrustMaterial,
) -> Result<Checkpoint, CheckpointError> {
    use signet_proto::checkpoint::{CheckpointError as PE, UnverifiedCheckpoint};
    use signet_proto::note::NoteError;
    let verifiers = log
        .note_verifiers
        .as_ref()
        .map_err(|reason| CheckpointError::Signature {
            log: log.base_url.clone(),
            reason: format!("the log key cannot verify checkpoints: {reason}"),
        })?;
    let unverified =
        UnverifiedCheckpoint::parse(envelope.as_bytes()).map_err(|e| CheckpointError::Parse {
            reason: e.to_string(),
        })?;
    let map = |e: PE| match e {
        PE::Note(NoteError::Malformed { .. }) | PE::Malformed { .. } => CheckpointError::Parse {
            reason: e.to_string(),
        },
        other => CheckpointError::Signature {
            log: format!("{} (signer name {:?})", log.base_url, log.host()),
            reason: other.to_string(),
        },
    };
    let signed = match unverified.verify(verifiers) {
        Ok(s) => s,
        Err(first) => {
            // A Rekor v1 log names its checkpoint signer after its configured hostname (by
            // default the machine's, e.g. a container ID), not after the trust root's URL;
            // sigstore-go and cosign check only the key hint and the signature. Retry with
            // the note's own signer name, for the same trusted log key (Rekor v1 key hint).
            let Some(named) = rekor_v1_signer_name(envelope)
                .filter(|name| *name != log.host())
                .and_then(|name| {
                    signet_proto::note::RekorNoteVerifier::new(name, log.key.clone()).ok()
                })
                .filter(|v| {
                    v.key_hash()
                        == u32::from_be_bytes([
                            log.log_id[0],
                            log.log_id[1],
                            log.log_id[2],
                            log.log_id[3],
                        ])
                })
            else {
                return Err(map(first));
            };
            UnverifiedCheckpoint::parse(envelope.as_bytes())
                .map_err(|e| CheckpointError::Parse {
                    reason: e.to_string(),
                })?
                .verify(&signet_proto::note::Verifiers::new().with(named))
                .map_err(|_| map(first))?
        }
    };
    if let Some(w) = &trust.witnesses {
        // The shared quorum rule: distinct witness keys by key bytes, never a trusted
        // log's own key.
        use signet_proto::witness::{check_quorum, QuorumError};
        let log_keys: Vec<&PublicKey> = trust.tlogs.values().flatten().map(|l| &l.key).collect();
        match check_quorum(signed.note(), &w.witnesses, w.threshold, &log_keys) {
            Ok(_) => {}
            Err(QuorumError::NotMet { valid, quorum }) => {
                return Err(CheckpointError::Witnesses {
                    valid,
                    threshold: quorum,
                })
            }
            Err(e @ QuorumError::Unreachable { .. }) => {
                return Err(CheckpointError::WitnessPolicy {
                    reason: e.to_string(),
                })
            }
            Err(e) => {
                return Err(CheckpointError::WitnessSignature {
                    reason: e.to_string(),
                })
            }
        }
    }
    Ok(signed.checkpoint().clone())
}
