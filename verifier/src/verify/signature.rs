//! The artifact signature: a message signature over the artifact (digest), or a DSSE
//! envelope's signature over its PAE whose in-toto statement names the artifact digest.
//!
//! Specs: Sigstore bundle `messageSignature` (its `messageDigest` of `SHA2_256`, `SHA2_384`
//! or `SHA2_512`), DSSE v1 PAE (`signet_proto::bundle`), in-toto Statement v0.1 and v1
//! subjects (`sha256` digests).
//!
//! Not here: who the key belongs to (`certificate`), whether the log recorded this signature
//! (`body`).

use signet_proto::keys::{HashAlgorithm, KeyAlgorithm, PublicKey};

use super::{hash_name, Artifact, Digests};
use crate::bundle::{Content, MessageDigest};
use crate::error::SignatureError;

/// Verifies the bundle `content`'s signature with `key` for `artifact`, whose digests are
/// `digests`; returns the DSSE payload type and payload for an envelope.
///
/// # Errors
/// [`SignatureError`] naming the check that failed (digest, signature, envelope, statement).
pub(super) fn check_signature(
    content: &Content,
    artifact: Artifact<'_>,
    digests: &Digests,
    key: &PublicKey,
) -> Result<Option<(String, Vec<u8>)>, SignatureError> {
    let digest = &digests.sha256;
    match content {
        Content::Message {
            digest: bundle_digest,
            signature,
        } => {
            let message = &digests.message;
            if let Some(d) = bundle_digest {
                if d.hash != message.hash {
                    return Err(SignatureError::DigestAlgorithmMismatch {
                        bundle: hash_name(d.hash).to_owned(),
                        entry: hash_name(message.hash).to_owned(),
                    });
                }
                if d.digest != message.digest {
                    return Err(SignatureError::DigestMismatch {
                        bundle: hex::encode(&d.digest),
                        artifact: hex::encode(&message.digest),
                    });
                }
            }
            verify_message_signature(key, artifact, message, signature)?;
            Ok(None)
        }
        Content::Dsse { envelope } => {
            let sig = envelope
                .signatures
                .first()
                .ok_or(SignatureError::DsseSignatureCount { count: 0 })?;
            let pae = envelope.pae();
            key.verify(&pae, &sig.sig)
                .map_err(|e| SignatureError::Invalid {
                    what: "DSSE envelope (PAE)",
                    reason: e.to_string(),
                })?;
            check_in_toto_subject(&envelope.payload_type, &envelope.payload, digest)?;
            Ok(Some((
                envelope.payload_type.clone(),
                envelope.payload.to_vec(),
            )))
        }
    }
}

/// The signature over the artifact: over its bytes for Ed25519 (which signs the message
/// itself), over its digest `message` otherwise (SHA-256, or the SHA-384 or SHA-512 digest a
/// hashedrekord entry states), verified with that hash whatever the key's default.
pub(super) fn verify_message_signature(
    key: &PublicKey,
    artifact: Artifact<'_>,
    message: &MessageDigest,
    signature: &[u8],
) -> Result<(), SignatureError> {
    let what = match message.hash {
        HashAlgorithm::Sha384 => "artifact digest (SHA-384)",
        HashAlgorithm::Sha512 => "artifact digest (SHA-512)",
        _ => "artifact digest",
    };
    let res = match key.algorithm() {
        KeyAlgorithm::Ed25519 => match artifact {
            Artifact::Bytes(b) => key.verify(b, signature),
            Artifact::Sha256Digest(_) => return Err(SignatureError::NeedsArtifactBytes),
        },
        _ => key.verify_prehashed_with(message.hash, &message.digest, signature),
    };
    res.map_err(|e| SignatureError::Invalid {
        what,
        reason: e.to_string(),
    })
}

const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The DSSE payload must be an in-toto statement with a subject whose sha256 digest is the
/// artifact's.
pub(super) fn check_in_toto_subject(
    payload_type: &str,
    payload: &[u8],
    digest: &[u8; 32],
) -> Result<(), SignatureError> {
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(SignatureError::Statement(format!(
            "payload type {payload_type:?} is not {IN_TOTO_PAYLOAD_TYPE}"
        )));
    }
    let stmt: serde_json::Value = signet_proto::json::from_slice(payload)
        .map_err(|e| SignatureError::Statement(format!("not JSON: {e}")))?;
    let ty = stmt
        .get("_type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    if ty != "https://in-toto.io/Statement/v1" && ty != "https://in-toto.io/Statement/v0.1" {
        return Err(SignatureError::Statement(format!(
            "_type {ty:?} is not an in-toto statement"
        )));
    }
    let subjects = stmt
        .get("subject")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| SignatureError::Statement("no subject list".to_owned()))?;
    let want = hex::encode(digest);
    let found = subjects.iter().any(|s| {
        s.get("digest")
            .and_then(|d| d.get("sha256"))
            .and_then(serde_json::Value::as_str)
            .is_some_and(|h| h.eq_ignore_ascii_case(&want))
    });
    if found {
        Ok(())
    } else {
        Err(SignatureError::SubjectMismatch { artifact: want })
    }
}
