//! Structural checks that turn a parsed `proto::bundle::Bundle` into a [`CheckedBundle`].
//!
//! Spec: sigstore/protobuf-specs `sigstore_bundle.proto` (the per-version rules are applied by
//! `proto::bundle::Bundle::validate`). This module decodes what verification needs into
//! fixed-size types (32-byte hashes, `u64` indexes) and rejects shapes the verifier does not
//! support: zero or several tlog entries, entries without a canonicalized body, inclusion
//! proof or checkpoint, more than [`MAX_TIMESTAMPS`] RFC 3161 timestamps or a duplicate one
//! (the limits sigstore-python and sigstore-go apply). Rekor v2 entries (no integrated time,
//! no SET) are accepted here; they need a verified RFC 3161 timestamp later.
//!
//! Nothing here verifies a signature, a certificate, a timestamp or a proof.

use signet_proto::bundle::{
    Bundle, BundleContent, BundleVersion, DsseEnvelope, HashAlgorithm, VerificationMaterialContent,
};

use crate::error::{BundleError, TimestampError, VerificationError};

/// The most RFC 3161 timestamps a bundle may carry (sigstore-go's and sigstore-python's
/// `MAX_ALLOWED_TIMESTAMP`).
pub const MAX_TIMESTAMPS: usize = 32;

/// A digest of the artifact and the hash function that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageDigest {
    /// The hash function (SHA-256, SHA-384 or SHA-512).
    pub(crate) hash: signet_proto::keys::HashAlgorithm,
    /// The digest, [`signet_proto::keys::HashAlgorithm::output_len`] bytes.
    pub(crate) digest: Vec<u8>,
}

impl MessageDigest {
    /// A SHA-256 digest.
    pub(crate) fn sha256(digest: &[u8; 32]) -> Self {
        Self {
            hash: signet_proto::keys::HashAlgorithm::Sha256,
            digest: digest.to_vec(),
        }
    }
}

/// What the signature in the bundle covers.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// `messageSignature`: a signature over the artifact (its digest, SHA-256 unless the log
    /// entry states SHA-384 or SHA-512).
    Message {
        /// The `messageDigest`, when the bundle carries one (`SHA2_256`, `SHA2_384` or
        /// `SHA2_512`).
        digest: Option<MessageDigest>,
        /// The signature bytes.
        signature: Vec<u8>,
    },
    /// `dsseEnvelope` with exactly one signature.
    Dsse {
        /// The envelope as carried by the bundle.
        envelope: DsseEnvelope,
    },
}

/// The signer's verification material.
#[derive(Debug, Clone)]
pub(crate) enum Material {
    /// A leaf certificate (DER); for v0.1/v0.2 chains, the first certificate.
    Certificate(Vec<u8>),
    /// A public key hint (keyed signing).
    PublicKey,
}

/// The inclusion proof, decoded.
#[derive(Debug, Clone)]
pub(crate) struct Proof {
    pub(crate) index: u64,
    pub(crate) size: u64,
    pub(crate) root: [u8; 32],
    pub(crate) hashes: Vec<[u8; 32]>,
    pub(crate) checkpoint: String,
}

/// The single log entry (Rekor v1 or v2), decoded.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) log_index: u64,
    pub(crate) log_id: Vec<u8>,
    pub(crate) kind: String,
    pub(crate) version: String,
    pub(crate) integrated_time: i64,
    pub(crate) set: Option<Vec<u8>>,
    pub(crate) body: Vec<u8>,
    pub(crate) proof: Proof,
}

/// A bundle whose structure has been checked and decoded; verification still has to happen
/// with [`crate::verify_checked`].
#[derive(Debug, Clone)]
pub struct CheckedBundle {
    pub(crate) version: BundleVersion,
    pub(crate) material: Material,
    pub(crate) content: Content,
    pub(crate) entry: Entry,
    /// DER `TimeStampResp`s from `timestampVerificationData.rfc3161Timestamps`.
    pub(crate) timestamps: Vec<Vec<u8>>,
}

impl CheckedBundle {
    /// The bundle version.
    #[must_use]
    pub fn version(&self) -> BundleVersion {
        self.version
    }

    /// The number of RFC 3161 timestamps the bundle carries.
    #[must_use]
    pub fn timestamp_count(&self) -> usize {
        self.timestamps.len()
    }

    /// The leaf certificate DER, unless the bundle is keyed.
    #[must_use]
    pub fn certificate_der(&self) -> Option<&[u8]> {
        match &self.material {
            Material::Certificate(d) => Some(d),
            Material::PublicKey => None,
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> VerificationError {
    BundleError::Invalid {
        field,
        reason: reason.into(),
    }
    .into()
}

fn hash32(field: &'static str, bytes: &[u8]) -> Result<[u8; 32], VerificationError> {
    <[u8; 32]>::try_from(bytes)
        .map_err(|_| invalid(field, format!("{} bytes, expected 32", bytes.len())))
}

impl TryFrom<&Bundle> for CheckedBundle {
    type Error = VerificationError;

    fn try_from(bundle: &Bundle) -> Result<Self, Self::Error> {
        let vm = &bundle.verification_material;
        if vm.tlog_entries.len() != 1 {
            return Err(BundleError::TlogEntryCount {
                count: vm.tlog_entries.len(),
            }
            .into());
        }
        let e = &vm.tlog_entries[0];
        let timestamps: Vec<Vec<u8>> = vm
            .timestamp_verification_data
            .as_ref()
            .map(|t| {
                t.rfc3161_timestamps
                    .iter()
                    .map(|ts| ts.signed_timestamp.to_vec())
                    .collect()
            })
            .unwrap_or_default();
        if timestamps.len() > MAX_TIMESTAMPS {
            return Err(TimestampError::TooMany {
                count: timestamps.len(),
                max: MAX_TIMESTAMPS,
            }
            .into());
        }
        for (i, t) in timestamps.iter().enumerate() {
            if timestamps[..i].contains(t) {
                return Err(TimestampError::Duplicate.into());
            }
        }
        bundle
            .validate()
            .map_err(|err| invalid("bundle", err.to_string()))?;

        let material = match &vm.content {
            VerificationMaterialContent::Certificate(c) => {
                Material::Certificate(c.raw_bytes.to_vec())
            }
            VerificationMaterialContent::X509CertificateChain(chain) => Material::Certificate(
                chain
                    .certificates
                    .first()
                    .ok_or(BundleError::Missing {
                        field: "verificationMaterial.x509CertificateChain.certificates[0]",
                    })?
                    .raw_bytes
                    .to_vec(),
            ),
            VerificationMaterialContent::PublicKey(_) => Material::PublicKey,
            #[allow(unreachable_patterns)]
            _ => {
                return Err(invalid(
                    "verificationMaterial",
                    "unknown kind of verification material",
                ));
            }
        };

        let content = match &bundle.content {
            BundleContent::MessageSignature(m) => {
                let digest = match &m.message_digest {
                    None => None,
                    Some(d) => {
                        use signet_proto::keys::HashAlgorithm as H;
                        let hash = match d.algorithm {
                            HashAlgorithm::Sha2_256 => H::Sha256,
                            HashAlgorithm::Sha2_384 => H::Sha384,
                            HashAlgorithm::Sha2_512 => H::Sha512,
                            other => {
                                return Err(crate::error::SignatureError::DigestAlgorithm {
                                    algorithm: format!("{other:?}"),
                                }
                                .into())
                            }
                        };
                        if d.digest.len() != hash.output_len() {
                            return Err(invalid(
                                "messageSignature.messageDigest.digest",
                                format!(
                                    "{} bytes, expected {} for {:?}",
                                    d.digest.len(),
                                    hash.output_len(),
                                    d.algorithm
                                ),
                            ));
                        }
                        Some(MessageDigest {
                            hash,
                            digest: d.digest.to_vec(),
                        })
                    }
                };
                Content::Message {
                    digest,
                    signature: m.signature.to_vec(),
                }
            }
            BundleContent::DsseEnvelope(env) => {
                if env.signatures.len() != 1 {
                    return Err(crate::error::SignatureError::DsseSignatureCount {
                        count: env.signatures.len(),
                    }
                    .into());
                }
                Content::Dsse {
                    envelope: env.clone(),
                }
            }
            #[allow(unreachable_patterns)]
            _ => return Err(invalid("content", "unknown bundle content")),
        };

        let log_index = u64::try_from(e.log_index)
            .map_err(|_| invalid("tlogEntries[0].logIndex", "negative"))?;
        let body = e
            .canonicalized_body
            .as_ref()
            .ok_or(BundleError::Missing {
                field: "tlogEntries[0].canonicalizedBody",
            })?
            .to_vec();
        let p = e
            .inclusion_proof
            .as_ref()
            .ok_or(crate::error::TlogError::MissingProof)?;
        let checkpoint = p
            .checkpoint
            .as_ref()
            .ok_or(crate::error::CheckpointError::Missing)?
            .envelope
            .clone();
        let proof = Proof {
            index: u64::try_from(p.log_index)
                .map_err(|_| invalid("tlogEntries[0].inclusionProof.logIndex", "negative"))?,
            size: u64::try_from(p.tree_size)
                .map_err(|_| invalid("tlogEntries[0].inclusionProof.treeSize", "negative"))?,
            root: hash32("tlogEntries[0].inclusionProof.rootHash", &p.root_hash)?,
            hashes: p
                .hashes
                .iter()
                .map(|h| hash32("tlogEntries[0].inclusionProof.hashes[]", h))
                .collect::<Result<_, _>>()?,
            checkpoint,
        };
        let entry = Entry {
            log_index,
            log_id: e.log_id.key_id.to_vec(),
            kind: e.kind_version.kind.clone(),
            version: e.kind_version.version.clone(),
            integrated_time: e.integrated_time,
            set: e
                .inclusion_promise
                .as_ref()
                .map(|p| p.signed_entry_timestamp.to_vec()),
            body,
            proof,
        };
        Ok(Self {
            version: bundle.media_type,
            material,
            content,
            entry,
            timestamps,
        })
    }
}
