//! Rekor v1 entry bodies, the signed entry timestamp (SET) payload and the Rekor v1 REST API
//! JSON types.
//!
//! Specs (sigstore/rekor at eee7d8d644f5713e3c1ace419425aa3ceadc46d7):
//! * `pkg/types/hashedrekord/v0.0.1/hashedrekord_v0_0_1_schema.json`;
//! * `pkg/types/dsse/v0.0.1/dsse_v0_0_1_schema.json` and `entry.go` (the request form
//!   `proposedContent {envelope, verifiers}` and the stored canonical form
//!   `{envelopeHash, payloadHash, signatures[{signature, verifier}]}`);
//! * `pkg/types/intoto/v0.0.2/intoto_v0_0_2_schema.json` and `entry.go` (one type for both
//!   forms, [`IntotoV002`]: `content {envelope {payload?, payloadType, signatures[{keyid?, sig,
//!   publicKey}]}, hash, payloadHash}`; the stored form drops `payload`). Its quirks, as Rekor
//!   and sigstore-js (`legacyCompatibility`) write them: `payload` is base64 of the envelope's
//!   base64 payload text, `sig` is base64 of the base64 signature text, and `publicKey` is
//!   base64 of a PEM key or certificate; an empty `keyid` is left out;
//! * `openapi.yaml` (`LogEntry`, `LogInfo`, `ConsistencyProof`, `SearchIndex`,
//!   `SearchLogQuery`, `Error`).
//!
//! Rekor stores each entry body as RFC 8785 JSON ([`crate::jcs`]); the log's Merkle leaf is
//! that byte string and the SET is a signature over the canonical
//! `{"body","integratedTime","logID","logIndex"}` object ([`SetPayload`]).
//!
//! What this module does not do: verify entry signatures, fetch anything, or compute Merkle
//! proofs. Only the `hashedrekord` and `dsse` kinds at `0.0.1` and `intoto` at `0.0.2` are
//! modelled; other kinds are rejected with [`RekorError::UnsupportedKind`] / [`RekorError::UnsupportedApiVersion`].
//! Unknown fields are rejected everywhere (Rekor itself ignores some of them).

use crate::bundle::{Base64Bytes, DsseEnvelope};
use crate::jcs::{self, JcsError};
use aws_lc_rs::digest::{digest, SHA256};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// `kind` of a hashedrekord entry.
pub const KIND_HASHEDREKORD: &str = "hashedrekord";
/// `kind` of a dsse entry.
pub const KIND_DSSE: &str = "dsse";
/// `kind` of an intoto entry.
pub const KIND_INTOTO: &str = "intoto";
/// The `apiVersion` modelled for hashedrekord and dsse.
pub const API_VERSION_0_0_1: &str = "0.0.1";
/// The `apiVersion` modelled for intoto.
pub const API_VERSION_0_0_2: &str = "0.0.2";

/// Errors from parsing or building Rekor entries.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RekorError {
    /// The JSON does not match the expected schema.
    #[error("malformed Rekor JSON: {source}")]
    Json {
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A required top-level field of a proposed entry is missing or not a string.
    #[error("proposed entry is missing field {field:?}")]
    MissingField {
        /// The field name.
        field: &'static str,
    },
    /// The entry `kind` is not one we accept.
    #[error("unsupported entry kind {kind:?} (supported: hashedrekord, dsse, intoto)")]
    UnsupportedKind {
        /// The kind found.
        kind: String,
    },
    /// The `apiVersion` is not supported for that kind.
    #[error(
        "unsupported apiVersion {api_version:?} for kind {kind:?} (supported: {})",
        supported_api_version(.kind)
    )]
    UnsupportedApiVersion {
        /// The entry kind.
        kind: String,
        /// The version found.
        api_version: String,
    },
    /// A spec field has an invalid value.
    #[error("invalid {kind} entry: {reason}")]
    InvalidSpec {
        /// The entry kind.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Canonicalization failed.
    #[error(transparent)]
    Jcs(#[from] JcsError),
}

/// The `apiVersion` modelled for a known `kind` (`0.0.1` for unknown kinds, which are refused
/// before their version is looked at).
fn supported_api_version(kind: &str) -> &'static str {
    if kind == KIND_INTOTO {
        API_VERSION_0_0_2
    } else {
        API_VERSION_0_0_1
    }
}

fn json_err(source: serde_json::Error) -> RekorError {
    RekorError::Json { source }
}

/// Bytes written as lowercase hex (read in either case), as Rekor's API does for hashes and
/// log IDs.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HexBytes(pub Vec<u8>);

impl HexBytes {
    /// Lowercase hex of the bytes.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// The raw bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for HexBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HexBytes({})", self.to_hex())
    }
}

impl From<Vec<u8>> for HexBytes {
    fn from(v: Vec<u8>) -> Self {
        HexBytes(v)
    }
}

impl From<&[u8]> for HexBytes {
    fn from(v: &[u8]) -> Self {
        HexBytes(v.to_vec())
    }
}

impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        hex::decode(s.as_ref())
            .map(HexBytes)
            .map_err(|e| serde::de::Error::custom(format!("invalid hex {s:?}: {e}")))
    }
}

/// SHA-256 of `data`.
fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, data).as_ref());
    out
}

/// The Rekor entry UUID of a canonical body: lowercase hex of its RFC 6962 leaf hash
/// SHA-256(0x00 ‖ body).
#[must_use]
pub fn entry_uuid(body: &[u8]) -> String {
    let mut buf = Vec::with_capacity(body.len() + 1);
    buf.push(0u8);
    buf.extend_from_slice(body);
    hex::encode(sha256(&buf))
}

/// The Rekor entry ID: the tree ID as 16 hex digits followed by [`entry_uuid`].
#[must_use]
pub fn entry_id(tree_id: i64, body: &[u8]) -> String {
    format!("{tree_id:016x}{}", entry_uuid(body))
}

// ---------------------------------------------------------------------------------------------
// Entry bodies
// ---------------------------------------------------------------------------------------------

/// Hash algorithm names used inside Rekor entry specs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RekorHashAlgorithm {
    /// `sha256`.
    Sha256,
    /// `sha384` (hashedrekord only).
    Sha384,
    /// `sha512` (hashedrekord only).
    Sha512,
}

impl RekorHashAlgorithm {
    /// Digest length in bytes.
    #[must_use]
    pub fn digest_len(self) -> usize {
        match self {
            RekorHashAlgorithm::Sha256 => 32,
            RekorHashAlgorithm::Sha384 => 48,
            RekorHashAlgorithm::Sha512 => 64,
        }
    }

    /// The name as written in entry specs (`sha256`, `sha384`, `sha512`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            RekorHashAlgorithm::Sha256 => "sha256",
            RekorHashAlgorithm::Sha384 => "sha384",
            RekorHashAlgorithm::Sha512 => "sha512",
        }
    }

    /// The same function as a [`crate::keys::HashAlgorithm`].
    #[must_use]
    pub fn hash_algorithm(self) -> crate::keys::HashAlgorithm {
        match self {
            RekorHashAlgorithm::Sha256 => crate::keys::HashAlgorithm::Sha256,
            RekorHashAlgorithm::Sha384 => crate::keys::HashAlgorithm::Sha384,
            RekorHashAlgorithm::Sha512 => crate::keys::HashAlgorithm::Sha512,
        }
    }
}

/// `{algorithm, value}` with `value` a lowercase hex digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashValue {
    /// The hash algorithm.
    pub algorithm: RekorHashAlgorithm,
    /// The digest as lowercase hex, kept verbatim.
    pub value: String,
}

impl HashValue {
    /// A SHA-256 value.
    #[must_use]
    pub fn sha256(digest: &[u8; 32]) -> Self {
        HashValue {
            algorithm: RekorHashAlgorithm::Sha256,
            value: hex::encode(digest),
        }
    }

    /// A value of `algorithm` (the digest length is not checked here: see
    /// [`HashValue::digest`]).
    #[must_use]
    pub fn new(algorithm: RekorHashAlgorithm, digest: &[u8]) -> Self {
        HashValue {
            algorithm,
            value: hex::encode(digest),
        }
    }

    /// Decodes `value`, checking it is lowercase hex of the algorithm's length.
    ///
    /// # Errors
    ///
    /// A description of the problem.
    pub fn digest(&self) -> Result<Vec<u8>, String> {
        if self.value.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!("hash value {:?} is not lowercase hex", self.value));
        }
        let bytes =
            hex::decode(&self.value).map_err(|e| format!("hash value {:?}: {e}", self.value))?;
        if bytes.len() != self.algorithm.digest_len() {
            return Err(format!(
                "hash value has {} bytes, {:?} needs {}",
                bytes.len(),
                self.algorithm,
                self.algorithm.digest_len()
            ));
        }
        Ok(bytes)
    }
}

/// hashedrekord 0.0.1 `spec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashedRekordV001 {
    /// The artifact digest.
    pub data: HashedRekordData,
    /// The signature and the key or certificate that verifies it.
    pub signature: HashedRekordSignature,
}

/// hashedrekord `spec.data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashedRekordData {
    /// Digest of the artifact.
    pub hash: HashValue,
}

/// hashedrekord `spec.signature`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HashedRekordSignature {
    /// The raw signature (ECDSA: ASN.1 DER).
    pub content: Base64Bytes,
    /// The verifier.
    pub public_key: HashedRekordPublicKey,
}

/// hashedrekord `spec.signature.publicKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashedRekordPublicKey {
    /// PEM public key or PEM certificate (then base64 again in JSON).
    pub content: Base64Bytes,
}

impl HashedRekordV001 {
    /// Builds the spec for a SHA-256 artifact digest, a signature and a PEM key or
    /// certificate.
    #[must_use]
    pub fn new(sha256_digest: &[u8; 32], signature: Vec<u8>, public_key_pem: Vec<u8>) -> Self {
        HashedRekordV001 {
            data: HashedRekordData {
                hash: HashValue::sha256(sha256_digest),
            },
            signature: HashedRekordSignature {
                content: Base64Bytes(signature),
                public_key: HashedRekordPublicKey {
                    content: Base64Bytes(public_key_pem),
                },
            },
        }
    }

    /// Builds the spec for an artifact digest of `algorithm` (sha256, sha384 or sha512, as
    /// Rekor's hashedrekord 0.0.1 schema allows), a signature and a PEM key or certificate.
    #[must_use]
    pub fn with_digest(
        algorithm: RekorHashAlgorithm,
        digest: &[u8],
        signature: Vec<u8>,
        public_key_pem: Vec<u8>,
    ) -> Self {
        HashedRekordV001 {
            data: HashedRekordData {
                hash: HashValue::new(algorithm, digest),
            },
            signature: HashedRekordSignature {
                content: Base64Bytes(signature),
                public_key: HashedRekordPublicKey {
                    content: Base64Bytes(public_key_pem),
                },
            },
        }
    }

    /// Checks the values the schema cannot: a well-formed digest and non-empty signature
    /// and key.
    ///
    /// # Errors
    ///
    /// [`RekorError::InvalidSpec`].
    pub fn validate(&self) -> Result<(), RekorError> {
        let invalid = |reason: String| RekorError::InvalidSpec {
            kind: KIND_HASHEDREKORD,
            reason,
        };
        self.data.hash.digest().map_err(invalid)?;
        if self.signature.content.is_empty() {
            return Err(invalid("empty signature".into()));
        }
        if self.signature.public_key.content.is_empty() {
            return Err(invalid("empty public key".into()));
        }
        Ok(())
    }
}

/// dsse 0.0.1 `spec.proposedContent`: what a client submits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DsseProposedContent {
    /// The DSSE envelope as a JSON string.
    pub envelope: String,
    /// PEM keys or certificates that may verify the envelope's signatures.
    pub verifiers: Vec<Base64Bytes>,
}

impl DsseProposedContent {
    /// Parses the embedded envelope.
    ///
    /// # Errors
    ///
    /// [`RekorError::Json`] if the string is not a DSSE envelope.
    pub fn parse_envelope(&self) -> Result<DsseEnvelope, RekorError> {
        serde_json::from_str(&self.envelope).map_err(json_err)
    }
}

/// One `{signature, verifier}` of the stored dsse form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DsseSignatureVerifier {
    /// The envelope signature.
    pub signature: Base64Bytes,
    /// The PEM key or certificate that verified it.
    pub verifier: Base64Bytes,
}

/// dsse 0.0.1 stored (canonical) form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DsseCanonical {
    /// SHA-256 of the envelope JSON.
    pub envelope_hash: HashValue,
    /// SHA-256 of the decoded payload.
    pub payload_hash: HashValue,
    /// The signatures with their verifiers, sorted by base64 signature text.
    pub signatures: Vec<DsseSignatureVerifier>,
}

/// The canonical envelope bytes whose SHA-256 is a dsse 0.0.1 entry's `envelopeHash`
/// ([`dsse_envelope_hash`]): the RFC 8785 JSON of the envelope as [`DsseEnvelope`] serializes
/// it, so `payload`, `payloadType` and every signature's `sig` and `keyid`, an empty `keyid`
/// left out (`{"payload":"..","payloadType":"..","signatures":[{"keyid":"k","sig":".."}]}`).
///
/// Rekor hashes the envelope string exactly as the client submitted it, which a verifier
/// holding only the bundle cannot reproduce; sigstore-rs recomputes the hash over the RFC 8785
/// JSON of the envelope, keyids included. Signet's log writes, and Signet's verifier checks,
/// this one form: a `keyid` is part of the envelope the signer handed in and of the bundle it
/// gets back, so it is kept on both sides (sigstore-python does not check `envelopeHash`).
///
/// # Errors
/// [`RekorError::Jcs`] if canonicalization fails (not expected: the envelope holds strings).
pub fn dsse_envelope_canonical_bytes(envelope: &DsseEnvelope) -> Result<Vec<u8>, RekorError> {
    Ok(jcs::canonicalize(envelope)?)
}

/// A dsse 0.0.1 entry's `envelopeHash` for `envelope`: SHA-256 of
/// [`dsse_envelope_canonical_bytes`]. The one definition the log (writing entries) and the
/// verifier (checking a bundle's envelope against its entry) share.
///
/// # Errors
/// As [`dsse_envelope_canonical_bytes`].
pub fn dsse_envelope_hash(envelope: &DsseEnvelope) -> Result<[u8; 32], RekorError> {
    Ok(sha256(&dsse_envelope_canonical_bytes(envelope)?))
}

impl DsseCanonical {
    /// Builds the stored form of `envelope` with its verified `(signature, verifier)` pairs:
    /// `envelopeHash` is [`dsse_envelope_hash`], `payloadHash` the SHA-256 of the payload, and
    /// the pairs are sorted by base64 signature text, as Rekor does.
    ///
    /// # Errors
    /// As [`dsse_envelope_hash`].
    pub fn new(
        envelope: &DsseEnvelope,
        mut signatures: Vec<DsseSignatureVerifier>,
    ) -> Result<Self, RekorError> {
        signatures.sort_by_cached_key(|s| s.signature.encode());
        Ok(DsseCanonical {
            envelope_hash: HashValue::sha256(&dsse_envelope_hash(envelope)?),
            payload_hash: HashValue::sha256(&sha256(&envelope.payload)),
            signatures,
        })
    }
}

/// dsse 0.0.1 `spec`: either the request form or the stored form (exactly one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawDsseV001", into = "RawDsseV001")]
#[non_exhaustive]
pub enum DsseV001 {
    /// `proposedContent`, as submitted.
    Proposed(DsseProposedContent),
    /// `envelopeHash`, `payloadHash`, `signatures`, as stored.
    Canonical(DsseCanonical),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawDsseV001 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proposed_content: Option<DsseProposedContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    envelope_hash: Option<HashValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payload_hash: Option<HashValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signatures: Option<Vec<DsseSignatureVerifier>>,
}

impl TryFrom<RawDsseV001> for DsseV001 {
    type Error = String;
    fn try_from(r: RawDsseV001) -> Result<Self, String> {
        match (r.proposed_content, r.envelope_hash, r.payload_hash, r.signatures) {
            (Some(p), None, None, None) => Ok(DsseV001::Proposed(p)),
            (None, Some(envelope_hash), Some(payload_hash), Some(signatures)) => {
                Ok(DsseV001::Canonical(DsseCanonical {
                    envelope_hash,
                    payload_hash,
                    signatures,
                }))
            }
            _ => Err(
                "dsse spec needs either proposedContent or envelopeHash, payloadHash and signatures, not both"
                    .into(),
            ),
        }
    }
}

impl From<DsseV001> for RawDsseV001 {
    fn from(d: DsseV001) -> Self {
        match d {
            DsseV001::Proposed(p) => RawDsseV001 {
                proposed_content: Some(p),
                envelope_hash: None,
                payload_hash: None,
                signatures: None,
            },
            DsseV001::Canonical(c) => RawDsseV001 {
                proposed_content: None,
                envelope_hash: Some(c.envelope_hash),
                payload_hash: Some(c.payload_hash),
                signatures: Some(c.signatures),
            },
        }
    }
}

impl DsseV001 {
    /// Checks the rules of Rekor's `Unmarshal`: a proposed entry has at least one verifier
    /// and a parseable envelope with signatures; a stored entry has SHA-256 hashes and at
    /// least one signature.
    ///
    /// # Errors
    ///
    /// [`RekorError::InvalidSpec`].
    pub fn validate(&self) -> Result<(), RekorError> {
        let invalid = |reason: String| RekorError::InvalidSpec {
            kind: KIND_DSSE,
            reason,
        };
        match self {
            DsseV001::Proposed(p) => {
                if p.verifiers.is_empty() || p.verifiers.iter().any(|v| v.is_empty()) {
                    return Err(invalid("proposedContent needs non-empty verifiers".into()));
                }
                let env = p
                    .parse_envelope()
                    .map_err(|e| invalid(format!("envelope: {e}")))?;
                if env.signatures.is_empty() {
                    return Err(invalid("envelope has no signatures".into()));
                }
            }
            DsseV001::Canonical(c) => {
                for h in [&c.envelope_hash, &c.payload_hash] {
                    if h.algorithm != RekorHashAlgorithm::Sha256 {
                        return Err(invalid("dsse hashes must be sha256".into()));
                    }
                    h.digest().map_err(invalid)?;
                }
                if c.signatures.is_empty() {
                    return Err(invalid("no signatures".into()));
                }
            }
        }
        Ok(())
    }
}

/// intoto 0.0.2 `spec.content.envelope.signatures[]` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntotoV002Signature {
    /// The signature's key ID (left out when empty, as Rekor's `omitempty` does).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// The envelope's base64 signature *text* (the JSON value is base64 of it).
    pub sig: Base64Bytes,
    /// A PEM public key or certificate (the JSON value is base64 of the PEM).
    pub public_key: Base64Bytes,
}

impl IntotoV002Signature {
    /// Decodes the signature text to the raw signature, as go-securesystemslib's DSSE
    /// verifier does: standard base64, else URL-safe base64 (both padded).
    ///
    /// # Errors
    ///
    /// [`RekorError::InvalidSpec`] if the text is not base64.
    pub fn signature_bytes(&self) -> Result<Vec<u8>, RekorError> {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        use base64::Engine as _;
        STANDARD
            .decode(self.sig.as_slice())
            .or_else(|_| URL_SAFE.decode(self.sig.as_slice()))
            .map_err(|e| RekorError::InvalidSpec {
                kind: KIND_INTOTO,
                reason: format!(
                    "signatures[].sig must be base64 of the base64 signature text: {e}"
                ),
            })
    }
}

/// intoto 0.0.2 `spec.content.envelope`: a DSSE envelope with the keys inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntotoV002Envelope {
    /// The envelope's base64 payload *text* (the JSON value is base64 of it). Present in a
    /// proposed entry, absent from the stored form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Base64Bytes>,
    /// The DSSE payload type.
    pub payload_type: String,
    /// The signatures with their keys, in submission order.
    pub signatures: Vec<IntotoV002Signature>,
}

impl IntotoV002Envelope {
    /// Decodes the payload text to the raw payload, as Rekor does (standard base64).
    ///
    /// # Errors
    ///
    /// [`RekorError::InvalidSpec`] if the payload is absent, empty or not base64.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, RekorError> {
        use base64::engine::general_purpose::STANDARD;
        use base64::Engine as _;
        let invalid = |reason: String| RekorError::InvalidSpec {
            kind: KIND_INTOTO,
            reason,
        };
        let text = match &self.payload {
            Some(p) if !p.is_empty() => p.as_slice(),
            _ => return Err(invalid("missing envelope payload".into())),
        };
        STANDARD.decode(text).map_err(|e| {
            invalid(format!(
                "envelope payload must be base64 of the base64 payload text: {e}"
            ))
        })
    }
}

/// intoto 0.0.2 `spec.content`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntotoV002Content {
    /// The envelope.
    pub envelope: IntotoV002Envelope,
    /// The hash of the whole envelope, as the client computed it (Rekor cannot recompute it:
    /// there is no canonical envelope form; it requires it and stores it as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<HashValue>,
    /// SHA-256 of the decoded payload (Rekor computes it; required in the stored form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hash: Option<HashValue>,
}

/// intoto 0.0.2 `spec`, proposed (with `payload`) or stored (without).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntotoV002 {
    /// `content`.
    pub content: IntotoV002Content,
}

impl IntotoV002 {
    /// Whether this is the proposed form (it carries the payload).
    #[must_use]
    pub fn is_proposed(&self) -> bool {
        self.content.envelope.payload.is_some()
    }

    /// The stored form Rekor's `Canonicalize` writes: the payload dropped and `payloadHash`
    /// set to SHA-256 of `payload`; `payloadType`, the signatures (in order) and `hash` kept.
    #[must_use]
    pub fn canonical(&self, payload: &[u8]) -> Self {
        IntotoV002 {
            content: IntotoV002Content {
                envelope: IntotoV002Envelope {
                    payload: None,
                    payload_type: self.content.envelope.payload_type.clone(),
                    signatures: self.content.envelope.signatures.clone(),
                },
                hash: self.content.hash.clone(),
                payload_hash: Some(HashValue::sha256(&sha256(payload))),
            },
        }
    }

    /// Checks the rules of Rekor's schema, `Canonicalize` and `Insertable`: a non-empty
    /// `payloadType`; at least one signature, each with a non-empty `sig` and `publicKey`;
    /// `hash` present (Rekor cannot canonicalize without it); `hash` and `payloadHash`, when
    /// present, SHA-256 as lowercase hex. A proposed entry has a non-empty payload; a stored
    /// one has a `payloadHash`. Signatures, keys and the payload hash's value are checked by
    /// the log, which has the crypto ([`IntotoV002Signature::signature_bytes`],
    /// [`IntotoV002Envelope::payload_bytes`]).
    ///
    /// # Errors
    ///
    /// [`RekorError::InvalidSpec`].
    pub fn validate(&self) -> Result<(), RekorError> {
        let invalid = |reason: String| RekorError::InvalidSpec {
            kind: KIND_INTOTO,
            reason,
        };
        let c = &self.content;
        if c.envelope.payload_type.is_empty() {
            return Err(invalid("missing envelope payloadType".into()));
        }
        if c.envelope.signatures.is_empty() {
            return Err(invalid("envelope has no signatures".into()));
        }
        for (i, s) in c.envelope.signatures.iter().enumerate() {
            if s.sig.is_empty() {
                return Err(invalid(format!("signature {i} has an empty sig")));
            }
            if s.public_key.is_empty() {
                return Err(invalid(format!("signature {i} has an empty publicKey")));
            }
        }
        let check = |h: &HashValue, what: &str| {
            if h.algorithm != RekorHashAlgorithm::Sha256 {
                return Err(invalid(format!("{what} must be sha256")));
            }
            h.digest()
                .map(|_| ())
                .map_err(|e| invalid(format!("{what}: {e}")))
        };
        match &c.hash {
            Some(h) => check(h, "content.hash")?,
            None => return Err(invalid("missing content.hash (the envelope digest)".into())),
        }
        match (&c.payload_hash, &c.envelope.payload) {
            (Some(h), _) => check(h, "content.payloadHash")?,
            (None, None) => {
                return Err(invalid(
                    "missing content.payloadHash (and no payload to compute it from)".into(),
                ))
            }
            (None, Some(_)) => {}
        }
        if c.envelope.payload.as_ref().is_some_and(|p| p.is_empty()) {
            return Err(invalid("missing envelope payload".into()));
        }
        Ok(())
    }
}

/// A Rekor entry body (`{"apiVersion","kind","spec"}`), as submitted to
/// `POST /api/v1/log/entries` or as stored (base64 `body` of a log entry).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProposedEntry {
    /// `hashedrekord` 0.0.1.
    HashedRekordV001(HashedRekordV001),
    /// `dsse` 0.0.1.
    DsseV001(DsseV001),
    /// `intoto` 0.0.2.
    IntotoV002(IntotoV002),
}

impl ProposedEntry {
    /// Parses entry JSON, dispatching on `kind` and `apiVersion`.
    ///
    /// # Errors
    ///
    /// [`RekorError::MissingField`], [`RekorError::UnsupportedKind`],
    /// [`RekorError::UnsupportedApiVersion`] or [`RekorError::Json`] (malformed spec, unknown
    /// fields).
    pub fn from_json(bytes: &[u8]) -> Result<Self, RekorError> {
        let v: Value = crate::json::from_slice(bytes).map_err(json_err)?;
        Self::from_value(v)
    }

    /// As [`ProposedEntry::from_json`], from a parsed value.
    ///
    /// # Errors
    ///
    /// As [`ProposedEntry::from_json`].
    pub fn from_value(v: Value) -> Result<Self, RekorError> {
        let Value::Object(mut map) = v else {
            return Err(RekorError::MissingField { field: "kind" });
        };
        let kind = match map.remove("kind") {
            Some(Value::String(k)) => k,
            _ => return Err(RekorError::MissingField { field: "kind" }),
        };
        if ![KIND_HASHEDREKORD, KIND_DSSE, KIND_INTOTO].contains(&kind.as_str()) {
            return Err(RekorError::UnsupportedKind { kind });
        }
        let api_version = match map.remove("apiVersion") {
            Some(Value::String(a)) => a,
            _ => {
                return Err(RekorError::MissingField {
                    field: "apiVersion",
                })
            }
        };
        if api_version != supported_api_version(&kind) {
            return Err(RekorError::UnsupportedApiVersion { kind, api_version });
        }
        let spec = map
            .remove("spec")
            .ok_or(RekorError::MissingField { field: "spec" })?;
        if let Some(extra) = map.keys().next() {
            return Err(RekorError::Json {
                source: serde::de::Error::custom(format!("unknown field `{extra}` in entry")),
            });
        }
        match kind.as_str() {
            KIND_HASHEDREKORD => Ok(ProposedEntry::HashedRekordV001(
                serde_json::from_value(spec).map_err(json_err)?,
            )),
            KIND_DSSE => Ok(ProposedEntry::DsseV001(
                serde_json::from_value(spec).map_err(json_err)?,
            )),
            _ => Ok(ProposedEntry::IntotoV002(
                serde_json::from_value(spec).map_err(json_err)?,
            )),
        }
    }

    /// The entry kind.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            ProposedEntry::HashedRekordV001(_) => KIND_HASHEDREKORD,
            ProposedEntry::DsseV001(_) => KIND_DSSE,
            ProposedEntry::IntotoV002(_) => KIND_INTOTO,
        }
    }

    /// The entry `apiVersion`.
    #[must_use]
    pub fn api_version(&self) -> &'static str {
        match self {
            ProposedEntry::HashedRekordV001(_) | ProposedEntry::DsseV001(_) => API_VERSION_0_0_1,
            ProposedEntry::IntotoV002(_) => API_VERSION_0_0_2,
        }
    }

    /// The entry as a JSON value.
    ///
    /// # Errors
    ///
    /// [`RekorError::Json`] (not expected for these types).
    pub fn to_value(&self) -> Result<Value, RekorError> {
        let spec = match self {
            ProposedEntry::HashedRekordV001(s) => serde_json::to_value(s),
            ProposedEntry::DsseV001(s) => serde_json::to_value(s),
            ProposedEntry::IntotoV002(s) => serde_json::to_value(s),
        }
        .map_err(json_err)?;
        let mut map = serde_json::Map::new();
        map.insert(
            "apiVersion".into(),
            Value::String(self.api_version().into()),
        );
        map.insert("kind".into(), Value::String(self.kind().into()));
        map.insert("spec".into(), spec);
        Ok(Value::Object(map))
    }

    /// RFC 8785 bytes of the entry: Rekor's stored `body` and the Merkle leaf data.
    ///
    /// # Errors
    ///
    /// [`RekorError::Json`] or [`RekorError::Jcs`] (neither expected for these types).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, RekorError> {
        Ok(jcs::to_vec(&self.to_value()?)?)
    }

    /// Runs the kind's `validate`.
    ///
    /// # Errors
    ///
    /// [`RekorError::InvalidSpec`].
    pub fn validate(&self) -> Result<(), RekorError> {
        match self {
            ProposedEntry::HashedRekordV001(s) => s.validate(),
            ProposedEntry::DsseV001(s) => s.validate(),
            ProposedEntry::IntotoV002(s) => s.validate(),
        }
    }

    /// The `kindVersion` to put in a bundle's tlog entry.
    #[must_use]
    pub fn kind_version(&self) -> crate::bundle::KindVersion {
        crate::bundle::KindVersion {
            kind: self.kind().into(),
            version: self.api_version().into(),
        }
    }
}

impl Serialize for ProposedEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ProposedEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        ProposedEntry::from_value(v).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// SET payload
// ---------------------------------------------------------------------------------------------

/// The object a Rekor v1 signed entry timestamp signs:
/// `{"body":"<b64 body>","integratedTime":<int>,"logID":"<hex>","logIndex":<int>}`,
/// canonicalized with RFC 8785.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPayload {
    /// The canonical entry body.
    pub body: Base64Bytes,
    /// Integration time, Unix seconds.
    #[serde(rename = "integratedTime")]
    pub integrated_time: i64,
    /// Log ID (SHA-256 of the log key SPKI).
    #[serde(rename = "logID")]
    pub log_id: HexBytes,
    /// Index of the entry.
    #[serde(rename = "logIndex")]
    pub log_index: i64,
}

impl SetPayload {
    /// The RFC 8785 bytes the log signs.
    ///
    /// # Errors
    ///
    /// [`RekorError::Jcs`] (not expected for this type).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, RekorError> {
        Ok(jcs::canonicalize(self)?)
    }

    /// The same bytes as [`SetPayload::canonical_bytes`], written straight from the parts
    /// (the body already in standard base64): `{"body":"<b64>","integratedTime":<n>,
    /// "logID":"<hex>","logIndex":<n>}`. The keys are fixed and in RFC 8785 order, base64 and
    /// hex need no JSON escapes, and RFC 8785 writes an integer of magnitude at most 2^53 as
    /// its plain decimal. Returns `None` for integers beyond that (use `canonical_bytes`).
    /// This is the hot path of both the log (signing a SET per entry) and the verifier.
    #[must_use]
    pub fn canonical_bytes_from_parts(
        body_b64: &str,
        integrated_time: i64,
        log_id: &[u8],
        log_index: i64,
    ) -> Option<Vec<u8>> {
        const EXACT: u64 = 1 << 53;
        if integrated_time.unsigned_abs() > EXACT || log_index.unsigned_abs() > EXACT {
            return None;
        }
        let mut out = Vec::with_capacity(body_b64.len() + log_id.len() * 2 + 100);
        out.extend_from_slice(b"{\"body\":\"");
        out.extend_from_slice(body_b64.as_bytes());
        out.extend_from_slice(b"\",\"integratedTime\":");
        out.extend_from_slice(integrated_time.to_string().as_bytes());
        out.extend_from_slice(b",\"logID\":\"");
        out.extend_from_slice(hex::encode(log_id).as_bytes());
        out.extend_from_slice(b"\",\"logIndex\":");
        out.extend_from_slice(log_index.to_string().as_bytes());
        out.push(b'}');
        Some(out)
    }
}

// ---------------------------------------------------------------------------------------------
// REST API types
// ---------------------------------------------------------------------------------------------

/// `LogEntry`: Rekor returns `{ "<entry uuid or id>": LogEntryAnon }`.
pub type LogEntry = BTreeMap<String, LogEntryAnon>;

/// The value of a [`LogEntry`] map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogEntryAnon {
    /// The canonical entry body.
    pub body: Base64Bytes,
    /// Integration time, Unix seconds.
    pub integrated_time: i64,
    /// Log ID, hex.
    #[serde(rename = "logID")]
    pub log_id: HexBytes,
    /// Index of the entry.
    pub log_index: i64,
    /// Stored attestation, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<LogEntryAttestation>,
    /// Proof and promise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<LogEntryVerification>,
}

impl LogEntryAnon {
    /// The SET payload this entry's `signedEntryTimestamp` signs.
    #[must_use]
    pub fn set_payload(&self) -> SetPayload {
        SetPayload {
            body: self.body.clone(),
            integrated_time: self.integrated_time,
            log_id: self.log_id.clone(),
            log_index: self.log_index,
        }
    }
}

/// `LogEntry.attestation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntryAttestation {
    /// The attestation bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Base64Bytes>,
}

/// `LogEntry.verification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogEntryVerification {
    /// The inclusion proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<RekorInclusionProof>,
    /// The SET over [`LogEntryAnon::set_payload`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_entry_timestamp: Option<Base64Bytes>,
}

/// `InclusionProof` of the Rekor v1 API (hex hashes, unlike the bundle's base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RekorInclusionProof {
    /// Signed checkpoint text for `tree_size` / `root_hash`.
    pub checkpoint: String,
    /// Audit path, leaf to root.
    pub hashes: Vec<HexBytes>,
    /// Index of the entry.
    pub log_index: i64,
    /// Root hash.
    pub root_hash: HexBytes,
    /// Tree size.
    pub tree_size: i64,
}

/// `LogInfo` (`GET /api/v1/log`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogInfo {
    /// Current root hash.
    pub root_hash: HexBytes,
    /// Current tree size.
    pub tree_size: i64,
    /// Current signed checkpoint text.
    pub signed_tree_head: String,
    /// Tree ID, decimal digits.
    #[serde(rename = "treeID")]
    pub tree_id: String,
    /// Frozen earlier shards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inactive_shards: Vec<InactiveShardLogInfo>,
}

/// `InactiveShardLogInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InactiveShardLogInfo {
    /// Final root hash.
    pub root_hash: HexBytes,
    /// Final tree size.
    pub tree_size: i64,
    /// Final signed checkpoint text.
    pub signed_tree_head: String,
    /// Tree ID, decimal digits.
    #[serde(rename = "treeID")]
    pub tree_id: String,
}

/// `ConsistencyProof` (`GET /api/v1/log/proof`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsistencyProof {
    /// Root hash at the larger size.
    pub root_hash: HexBytes,
    /// Proof hashes.
    pub hashes: Vec<HexBytes>,
}

/// Public key formats of [`SearchIndexPublicKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SearchKeyFormat {
    /// `pgp`.
    Pgp,
    /// `x509` (PEM key or certificate).
    X509,
    /// `minisign`.
    Minisign,
    /// `ssh`.
    Ssh,
    /// `tuf`.
    Tuf,
}

/// `SearchIndex.publicKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchIndexPublicKey {
    /// Key format.
    pub format: SearchKeyFormat,
    /// The key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Base64Bytes>,
    /// URL of the key (older API versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `SearchIndex.operator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SearchOperator {
    /// All criteria must match.
    And,
    /// Any criterion may match.
    Or,
}

/// `SearchIndex` (`POST /api/v1/index/retrieve`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchIndex {
    /// Email SAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Any other SAN value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<SearchIndexPublicKey>,
    /// Artifact hash: `[sha256:]<64 hex>`, `[sha512:]<128 hex>` or `[sha1:]<40 hex>` (Rekor's
    /// pattern, which has no sha384).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// How to combine criteria.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<SearchOperator>,
}

/// `SearchLogQuery` (`POST /api/v1/log/entries/retrieve`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchLogQuery {
    /// Entry UUIDs (64 hex) or IDs (80 hex).
    #[serde(rename = "entryUUIDs", default, skip_serializing_if = "Vec::is_empty")]
    pub entry_uuids: Vec<String>,
    /// Log indexes.
    #[serde(rename = "logIndexes", default, skip_serializing_if = "Vec::is_empty")]
    pub log_indexes: Vec<i64>,
    /// Entries to look up by content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<ProposedEntry>,
}

/// Rekor's error body `{code, message}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiError {
    /// HTTP status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// Message.
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;

    /// An intoto 0.0.2 proposal as sigstore-js writes it (the signature is not checked here).
    fn proposal(keyid: &str) -> Value {
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
        let mut sig = serde_json::json!({
            "sig": B64.encode(B64.encode([0x30, 0x06, 1, 2, 3, 4, 5, 6])),
            "publicKey": B64.encode("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
        });
        if !keyid.is_empty() {
            sig["keyid"] = keyid.into();
        }
        serde_json::json!({"apiVersion": "0.0.2", "kind": "intoto", "spec": {"content": {
            "envelope": {"payloadType": "application/vnd.in-toto+json",
                "payload": B64.encode(B64.encode(payload)), "signatures": [sig]},
            "hash": {"algorithm": "sha256", "value": "ab".repeat(32)},
            "payloadHash": {"algorithm": "sha256", "value": hex::encode(sha256(payload))}}}})
    }

    #[test]
    fn intoto_v002_proposed_and_stored_forms() {
        let v = proposal("");
        let e = ProposedEntry::from_value(v.clone()).unwrap();
        assert_eq!((e.kind(), e.api_version()), ("intoto", "0.0.2"));
        e.validate().unwrap();
        // The proposal round-trips through its canonical bytes.
        let canon = e.canonical_bytes().unwrap();
        assert_eq!(ProposedEntry::from_json(&canon).unwrap(), e);
        assert_eq!(canon, jcs::to_vec(&v).unwrap());

        let ProposedEntry::IntotoV002(spec) = &e else {
            panic!("not intoto")
        };
        assert!(spec.is_proposed());
        let payload = spec.content.envelope.payload_bytes().unwrap();
        assert_eq!(payload, br#"{"_type":"https://in-toto.io/Statement/v1"}"#);
        let sig = spec.content.envelope.signatures[0]
            .signature_bytes()
            .unwrap();
        assert_eq!(sig, [0x30, 0x06, 1, 2, 3, 4, 5, 6]);

        // The stored form: payload dropped, payloadHash computed, the rest kept.
        let stored = spec.canonical(&payload);
        assert!(!stored.is_proposed());
        assert_eq!(stored.content.payload_hash, spec.content.payload_hash);
        stored.validate().unwrap();
        let body = ProposedEntry::IntotoV002(stored.clone())
            .canonical_bytes()
            .unwrap();
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(!text.contains("\"payload\""), "{text}");
        assert!(!text.contains("keyid"), "empty keyids are left out: {text}");
        assert_eq!(
            ProposedEntry::from_json(&body).unwrap(),
            ProposedEntry::IntotoV002(stored)
        );

        // A keyid is kept.
        let with_keyid = ProposedEntry::from_value(proposal("k1"))
            .unwrap()
            .canonical_bytes()
            .unwrap();
        assert!(String::from_utf8(with_keyid)
            .unwrap()
            .contains(r#""keyid":"k1""#));
    }

    /// The one envelope form behind `envelopeHash`: RFC 8785 JSON with keyids kept (an empty one
    /// left out), whatever order or spacing the submitted text had.
    #[test]
    fn dsse_envelope_hash_keeps_keyids() {
        use crate::bundle::DsseSignature;
        let env = |keyid: &str| DsseEnvelope {
            payload: Base64Bytes(b"{}".to_vec()),
            payload_type: "application/vnd.in-toto+json".into(),
            signatures: vec![DsseSignature {
                sig: Base64Bytes(vec![1, 2, 3]),
                keyid: keyid.into(),
            }],
        };
        assert_eq!(
            dsse_envelope_canonical_bytes(&env("")).unwrap(),
            br#"{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AQID"}]}"#
        );
        assert_eq!(
            dsse_envelope_canonical_bytes(&env("key-1")).unwrap(),
            br#"{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"key-1","sig":"AQID"}]}"#
        );
        // The hash binds the keyid, and does not depend on how the text was written.
        assert_ne!(
            dsse_envelope_hash(&env("")).unwrap(),
            dsse_envelope_hash(&env("key-1")).unwrap()
        );
        let submitted = r#" { "signatures" : [ { "sig":"AQID", "keyid":"key-1" } ],
            "payloadType":"application/vnd.in-toto+json", "payload":"e30=" }"#;
        let parsed: DsseEnvelope = serde_json::from_str(submitted).unwrap();
        assert_eq!(
            dsse_envelope_hash(&parsed).unwrap(),
            dsse_envelope_hash(&env("key-1")).unwrap()
        );
        let c = DsseCanonical::new(&parsed, vec![]).unwrap();
        assert_eq!(
            c.envelope_hash.value,
            hex::encode(dsse_envelope_hash(&parsed).unwrap())
        );
        assert_eq!(c.payload_hash.value, hex::encode(sha256(b"{}")));
    }

    #[test]
    fn intoto_v002_rules() {
        let invalid = |edit: &dyn Fn(&mut Value)| {
            let mut v = proposal("");
            edit(&mut v);
            match ProposedEntry::from_value(v) {
                Ok(e) => e.validate().unwrap_err().to_string(),
                Err(e) => e.to_string(),
            }
        };
        for (edit, want) in [
            (
                &(|v: &mut Value| {
                    v["spec"]["content"].as_object_mut().unwrap().remove("hash");
                }) as &dyn Fn(&mut Value),
                "missing content.hash",
            ),
            (
                &|v: &mut Value| {
                    let c = v["spec"]["content"].as_object_mut().unwrap();
                    c.remove("payloadHash");
                    c["envelope"].as_object_mut().unwrap().remove("payload");
                },
                "missing content.payloadHash",
            ),
            (
                &|v: &mut Value| {
                    v["spec"]["content"]["envelope"]["signatures"] = Value::Array(vec![])
                },
                "envelope has no signatures",
            ),
            (
                &|v: &mut Value| v["spec"]["content"]["envelope"]["payloadType"] = "".into(),
                "missing envelope payloadType",
            ),
            (
                &|v: &mut Value| v["spec"]["content"]["hash"]["value"] = "AB".repeat(32).into(),
                "not lowercase hex",
            ),
            (
                &|v: &mut Value| v["spec"]["content"]["payloadHash"]["algorithm"] = "sha384".into(),
                "content.payloadHash must be sha256",
            ),
            (
                &|v: &mut Value| v["apiVersion"] = "0.0.1".into(),
                r#"unsupported apiVersion "0.0.1" for kind "intoto" (supported: 0.0.2)"#,
            ),
            (
                &|v: &mut Value| v["spec"]["content"]["envelope"]["signatures"][0]["x"] = 1.into(),
                "unknown field",
            ),
        ] {
            let got = invalid(edit);
            assert!(got.contains(want), "{got:?} lacks {want:?}");
        }
        // hashedrekord and dsse stay at 0.0.1.
        let e = ProposedEntry::from_value(serde_json::json!({
            "apiVersion": "0.0.2", "kind": "dsse", "spec": {}}))
        .unwrap_err();
        assert!(e.to_string().contains("(supported: 0.0.1)"), "{e}");
        // Signature text that is not base64 (the signature encoded once).
        let mut v = proposal("");
        v["spec"]["content"]["envelope"]["signatures"][0]["sig"] =
            B64.encode([0x30, 0x81, 0xff, 0x00]).into();
        let ProposedEntry::IntotoV002(spec) = ProposedEntry::from_value(v).unwrap() else {
            panic!("not intoto")
        };
        assert!(spec.content.envelope.signatures[0]
            .signature_bytes()
            .unwrap_err()
            .to_string()
            .contains("base64 of the base64 signature text"));
    }
}
