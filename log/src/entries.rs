//! Entry validation: everything checked before an entry is queued.
//!
//! * `hashedrekord` 0.0.1 (sigstore/rekor `pkg/types/hashedrekord/v0.0.1`): the digest must be
//!   SHA-256 hex; the key is a PEM certificate or PEM public key; the signature is verified
//!   over the digest (prehashed): ECDSA P-256 / P-384 (with SHA-256) and RSA >= 2048
//!   (PKCS#1 v1.5, SHA-256). Ed25519 is refused: PureEdDSA signs the whole artifact, which a
//!   hashedrekord entry does not carry.
//! * `dsse` 0.0.1 (`pkg/types/dsse/v0.0.1`): every envelope signature must verify over the DSSE
//!   PAE with one of the submitted verifiers. The stored body is Rekor's canonical form:
//!   `envelopeHash` = SHA-256 of the envelope's compact sorted-key JSON with `keyid`s
//!   dropped (what sigstore-rs recomputes), `payloadHash` = SHA-256 of the payload,
//!   signatures sorted.
//! * `intoto` 0.0.2 (`pkg/types/intoto/v0.0.2`, what sigstore-js writes for DSSE attestations
//!   with `legacyCompatibility`, as `npm publish --provenance` did): the proposed entry carries
//!   the envelope with each signature's key inline. Its double encodings are Rekor's:
//!   `payload` and `sig` are base64 of the envelope's base64 *text*, `publicKey` is base64 of
//!   a PEM key or certificate. Every signature must verify over the DSSE PAE with the key
//!   beside it (same key allowlist as dsse); Rekor accepts any listed key for any signature,
//!   Signet pairs each signature with its own key. `payloadHash` is computed (SHA-256 of the
//!   decoded payload); a submitted `payloadHash` that disagrees is refused, where Rekor
//!   silently overwrites it. `hash`, the envelope digest, is required (SHA-256 as lowercase
//!   hex, where Rekor takes any string) and stored as given: there is no canonical envelope
//!   form to recompute it from (Rekor does not either; sigstore-js hashes the RFC 8785 JSON
//!   of the envelope with `publicKey` in the signature).
//!   The stored body is Rekor's `Canonicalize` output in RFC 8785 form: the payload dropped,
//!   `payloadType`, the signatures in submission order (empty `keyid`s left out), `hash` and
//!   `payloadHash`. Search postings: each key and certificate identity, the payload hash, and
//!   for in-toto payloads the subject digests and SLSA `materials` digests (SHA-256 only);
//!   the envelope hash is not indexed (Rekor neither). Rekor's separate attestation storage
//!   (the payload kept by payload hash) is not implemented.
//! * `precert` 0.0.1, this log's own kind for CT precertificates recorded by
//!   `add-pre-chain` (see [`crate::ct`]): body
//!   `{"apiVersion":"0.0.1","kind":"precert","spec":{"chain":["<b64 DER>",...]}}` in RFC 8785
//!   form, the precertificate first and the chain up to (and including, when the submitter sent
//!   it) the root. It cannot be submitted through `POST /api/v1/log/entries`.
//!
//! Validation produces the canonical body (the Merkle leaf data), its leaf hash and the
//! search-index postings. What this module does not do: store anything, check certificate
//! chains or validity periods for hashedrekord/dsse/intoto (Rekor v1 does not either).

use signet_proto::bundle::DsseEnvelope;
use signet_proto::cert::{Identity, SubjectAltName};
use signet_proto::keys::{HashAlgorithm, KeyAlgorithm, PublicKey};
use signet_proto::merkle::{leaf_hash, Hash};
use signet_proto::rekor::{
    DsseCanonical, DsseSignatureVerifier, DsseV001, HashedRekordV001, IntotoV002, ProposedEntry,
    RekorError, RekorHashAlgorithm,
};
use x509_parser::prelude::FromDer;

use crate::storage::IndexKind;
use crate::util::sha256;

/// Kind name of recorded CT precertificates.
pub use signet_proto::observe::KIND_PRECERT;

/// Why an entry was rejected (always a client error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The JSON is malformed or does not match the schema.
    #[error("malformed entry: {0}")]
    Malformed(String),
    /// Kind or apiVersion not supported.
    #[error("{0}")]
    Unsupported(String),
    /// The key, certificate, digest or envelope is invalid.
    #[error("invalid entry: {0}")]
    Invalid(String),
    /// A signature does not verify.
    #[error("signature verification failed: {0}")]
    Signature(String),
}

/// A validated entry ready to be sequenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidEntry {
    /// Canonical body (RFC 8785), the Merkle leaf data.
    pub body: Vec<u8>,
    /// RFC 6962 leaf hash of `body`.
    pub leaf_hash: Hash,
    /// Search postings `(index, value)`.
    pub postings: Vec<(IndexKind, Vec<u8>)>,
}

impl ValidEntry {
    /// Builds an entry from its canonical body and postings.
    #[must_use]
    pub fn new(body: Vec<u8>, mut postings: Vec<(IndexKind, Vec<u8>)>) -> Self {
        postings.sort();
        postings.dedup();
        Self {
            leaf_hash: leaf_hash(&body),
            body,
            postings,
        }
    }
}

fn rekor_err(e: RekorError) -> EntryError {
    match e {
        RekorError::UnsupportedKind { .. } | RekorError::UnsupportedApiVersion { .. } => {
            EntryError::Unsupported(e.to_string())
        }
        RekorError::InvalidSpec { .. } => EntryError::Invalid(e.to_string()),
        other => EntryError::Malformed(other.to_string()),
    }
}

/// A signer parsed from a PEM certificate or public key.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The key.
    pub key: PublicKey,
    /// Email SANs of the certificate (empty for a bare key).
    pub emails: Vec<String>,
    /// URI SANs of the certificate.
    pub uris: Vec<String>,
    /// The PEM text as submitted (empty when built from DER).
    pub pem: Vec<u8>,
}

impl Signer {
    fn postings(&self, out: &mut Vec<(IndexKind, Vec<u8>)>) {
        out.push((IndexKind::PublicKey, self.key.key_id().to_vec()));
        for e in &self.emails {
            out.push((IndexKind::Identity, e.as_bytes().to_vec()));
            out.push((IndexKind::EmailLower, e.to_lowercase().into_bytes()));
        }
        for u in &self.uris {
            out.push((IndexKind::Identity, u.as_bytes().to_vec()));
        }
    }
}

/// Parses a PEM `CERTIFICATE` or `PUBLIC KEY` (as carried, base64-decoded, in entries).
///
/// # Errors
/// [`EntryError::Invalid`] if it is neither, or the key is not in the allowlist.
pub fn parse_signer(pem_bytes: &[u8]) -> Result<Signer, EntryError> {
    let p = pem::parse(pem_bytes)
        .map_err(|e| EntryError::Invalid(format!("public key is not PEM: {e}")))?;
    match p.tag() {
        "CERTIFICATE" => Ok(Signer {
            pem: pem_bytes.to_vec(),
            ..signer_from_cert_der(p.contents())?
        }),
        "PUBLIC KEY" => Ok(Signer {
            key: PublicKey::from_spki_der(p.contents())
                .map_err(|e| EntryError::Invalid(format!("public key: {e}")))?,
            emails: Vec::new(),
            uris: Vec::new(),
            pem: pem_bytes.to_vec(),
        }),
        other => Err(EntryError::Invalid(format!(
            "expected a PEM CERTIFICATE or PUBLIC KEY, found {other}"
        ))),
    }
}

/// Parses a DER certificate's key and email/URI SANs.
///
/// # Errors
/// [`EntryError::Invalid`] for a malformed certificate or unsupported key.
pub fn signer_from_cert_der(der: &[u8]) -> Result<Signer, EntryError> {
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|e| EntryError::Invalid(format!("certificate: {e}")))?;
    let key = PublicKey::from_spki_der(cert.public_key().raw)
        .map_err(|e| EntryError::Invalid(format!("certificate key: {e}")))?;
    // The SANs come from the one Fulcio-profile parser (proto::cert). A certificate whose
    // Fulcio extensions are malformed still gets logged (Rekor v1 does not check them); it is
    // then indexed by key only.
    let mut emails = Vec::new();
    let mut uris = Vec::new();
    match Identity::from_certificate(&cert) {
        Ok(id) => {
            for san in id.sans {
                match san {
                    SubjectAltName::Email(e) => emails.push(e),
                    SubjectAltName::Uri(u) => uris.push(u),
                    _ => {}
                }
            }
        }
        Err(e) => tracing::debug!(error = %e, "certificate identity not indexed"),
    }
    Ok(Signer {
        key,
        emails,
        uris,
        pem: Vec::new(),
    })
}

/// Validates a proposed entry (the JSON body of `POST /api/v1/log/entries`).
///
/// # Errors
/// [`EntryError`] describing the first problem.
pub fn validate_proposed(json: &[u8]) -> Result<ValidEntry, EntryError> {
    // Fast path for the common case: a well-formed hashedrekord 0.0.1 entry parses straight
    // into its typed spec (no `serde_json::Value` tree). Anything else, including every
    // malformed or unusual input, takes the general path below, which gives the same answer
    // for the inputs both accept and the established error messages otherwise.
    if let Ok(req) = serde_json::from_slice::<HashedRekordRequest>(json) {
        if req.kind == signet_proto::rekor::KIND_HASHEDREKORD
            && req.api_version == signet_proto::rekor::API_VERSION_0_0_1
        {
            req.spec.validate().map_err(rekor_err)?;
            return validate_hashedrekord(req.spec);
        }
    }
    let entry = ProposedEntry::from_json(json).map_err(rekor_err)?;
    entry.validate().map_err(rekor_err)?;
    match entry {
        ProposedEntry::HashedRekordV001(h) => validate_hashedrekord(h),
        ProposedEntry::DsseV001(DsseV001::Proposed(p)) => {
            let env = p
                .parse_envelope()
                .map_err(|e| EntryError::Malformed(format!("dsse envelope: {e}")))?;
            let verifiers = p
                .verifiers
                .iter()
                .map(|v| parse_signer(v.as_slice()))
                .collect::<Result<Vec<_>, _>>()?;
            validate_dsse(env, &verifiers)
        }
        ProposedEntry::DsseV001(_) => Err(EntryError::Invalid(
            "dsse entries must be submitted as proposedContent {envelope, verifiers}".into(),
        )),
        ProposedEntry::IntotoV002(spec) => validate_intoto(&spec),
        _ => Err(EntryError::Unsupported("unsupported entry type".into())),
    }
}

/// A proposed entry whose spec is typed as hashedrekord (the fast path of
/// [`validate_proposed`]).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HashedRekordRequest<'a> {
    #[serde(rename = "apiVersion", borrow)]
    api_version: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    kind: std::borrow::Cow<'a, str>,
    spec: HashedRekordV001,
}

/// RFC 8785 form of a hashedrekord 0.0.1 entry, written directly. Only valid when
/// `digest_hex` is lowercase hex (checked by `HashValue::digest`): hex and standard base64
/// contain no character JSON escapes, and the keys below are in RFC 8785 order.
fn hashedrekord_canonical(h: &HashedRekordV001) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = &base64::engine::general_purpose::STANDARD;
    let sig = h.signature.content.as_slice();
    let key = h.signature.public_key.content.as_slice();
    let mut out =
        String::with_capacity(160 + h.data.hash.value.len() + (sig.len() + key.len()) * 4 / 3 + 8);
    out.push_str(r#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":""#);
    out.push_str(&h.data.hash.value);
    out.push_str(r#""}},"signature":{"content":""#);
    b64.encode_string(sig, &mut out);
    out.push_str(r#"","publicKey":{"content":""#);
    b64.encode_string(key, &mut out);
    out.push_str(r#""}}}}"#);
    out.into_bytes()
}

fn validate_hashedrekord(h: HashedRekordV001) -> Result<ValidEntry, EntryError> {
    if h.data.hash.algorithm != RekorHashAlgorithm::Sha256 {
        return Err(EntryError::Invalid(
            "hashedrekord digest must be sha256".into(),
        ));
    }
    let digest = h.data.hash.digest().map_err(EntryError::Invalid)?;
    let signer = parse_signer(h.signature.public_key.content.as_slice())?;
    if signer.key.algorithm() == KeyAlgorithm::Ed25519 {
        return Err(EntryError::Invalid(
            "Ed25519 keys sign the whole artifact (PureEdDSA); a hashedrekord entry carries only \
             its digest, so it cannot be verified: use an ECDSA or RSA key, or a dsse entry"
                .into(),
        ));
    }
    signer
        .key
        .verify_prehashed_with(
            HashAlgorithm::Sha256,
            &digest,
            h.signature.content.as_slice(),
        )
        .map_err(|e| {
            EntryError::Signature(format!(
                "{e}: the signature does not match the artifact digest and key"
            ))
        })?;
    let mut postings = vec![(IndexKind::ArtifactSha256, hex::encode(&digest).into_bytes())];
    signer.postings(&mut postings);
    // `digest()` above checked that the value is lowercase SHA-256 hex.
    let body = hashedrekord_canonical(&h);
    Ok(ValidEntry::new(body, postings))
}

fn validate_dsse(mut env: DsseEnvelope, verifiers: &[Signer]) -> Result<ValidEntry, EntryError> {
    let pae = env.pae();
    let mut sigs = Vec::new();
    let mut postings = Vec::new();
    for (i, s) in env.signatures.iter().enumerate() {
        let Some(v) = verifiers
            .iter()
            .find(|v| v.key.verify(&pae, s.sig.as_slice()).is_ok())
        else {
            return Err(EntryError::Signature(format!(
                "dsse signature {i} is not verified by any of the submitted verifiers"
            )));
        };
        v.postings(&mut postings);
        sigs.push(DsseSignatureVerifier {
            signature: s.sig.clone(),
            verifier: signet_proto::bundle::Base64Bytes(v.key_pem_or_cert()),
        });
    }
    for s in &mut env.signatures {
        s.keyid.clear();
    }
    let env_bytes = signet_proto::jcs::canonicalize(&env)
        .map_err(|e| EntryError::Malformed(format!("dsse envelope: {e}")))?;
    let canonical = DsseCanonical::new(&env_bytes, env.payload.as_slice(), sigs);
    postings.push((
        IndexKind::ArtifactSha256,
        canonical.payload_hash.value.clone().into_bytes(),
    ));
    postings.push((
        IndexKind::ArtifactSha256,
        canonical.envelope_hash.value.clone().into_bytes(),
    ));
    if env.payload_type == "application/vnd.in-toto+json" {
        for d in intoto_subject_digests(env.payload.as_slice()) {
            postings.push((IndexKind::ArtifactSha256, d.into_bytes()));
        }
    }
    let body = ProposedEntry::DsseV001(DsseV001::Canonical(canonical))
        .canonical_bytes()
        .map_err(rekor_err)?;
    Ok(ValidEntry::new(body, postings))
}

/// Validates a proposed intoto 0.0.2 entry (see the module docs) and builds its stored body.
fn validate_intoto(spec: &IntotoV002) -> Result<ValidEntry, EntryError> {
    if !spec.is_proposed() {
        return Err(EntryError::Invalid(
            "intoto entries must be submitted with the envelope payload \
             (spec.content.envelope.payload)"
                .into(),
        ));
    }
    let env = &spec.content.envelope;
    let payload = env.payload_bytes().map_err(rekor_err)?;
    let pae = signet_proto::bundle::pae(&env.payload_type, &payload);
    let mut postings = Vec::new();
    for (i, s) in env.signatures.iter().enumerate() {
        let sig = s.signature_bytes().map_err(rekor_err)?;
        let signer = parse_signer(s.public_key.as_slice()).map_err(|e| match e {
            EntryError::Invalid(m) => EntryError::Invalid(format!("intoto signature {i}: {m}")),
            other => other,
        })?;
        signer.key.verify(&pae, &sig).map_err(|e| {
            EntryError::Signature(format!(
                "intoto signature {i} does not verify over the DSSE PAE with its publicKey: {e}"
            ))
        })?;
        signer.postings(&mut postings);
    }
    let canonical = spec.canonical(&payload);
    let Some(payload_hash) = canonical.content.payload_hash.clone() else {
        return Err(EntryError::Malformed(
            "intoto payload hash not computed".into(),
        ));
    };
    if let Some(given) = &spec.content.payload_hash {
        if *given != payload_hash {
            return Err(EntryError::Invalid(format!(
                "intoto content.payloadHash {} does not match the SHA-256 of the envelope \
                 payload ({})",
                given.value, payload_hash.value
            )));
        }
    }
    postings.push((IndexKind::ArtifactSha256, payload_hash.value.into_bytes()));
    if env.payload_type == "application/vnd.in-toto+json" {
        for d in intoto_subject_digests(&payload) {
            postings.push((IndexKind::ArtifactSha256, d.into_bytes()));
        }
        for d in slsa_material_digests(&payload) {
            postings.push((IndexKind::ArtifactSha256, d.into_bytes()));
        }
    }
    let body = ProposedEntry::IntotoV002(canonical)
        .canonical_bytes()
        .map_err(rekor_err)?;
    Ok(ValidEntry::new(body, postings))
}

/// SHA-256 digests of a SLSA provenance predicate's `materials` (Rekor's intoto `IndexKeys`).
fn slsa_material_digests(payload: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return Vec::new();
    };
    sha256_digests(v.get("predicate").and_then(|p| p.get("materials")))
}

/// The lowercase `digest.sha256` values of an array of in-toto resource descriptors.
fn sha256_digests(list: Option<&serde_json::Value>) -> Vec<String> {
    list.and_then(|s| s.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|s| s.get("digest")?.get("sha256")?.as_str())
                .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

impl Signer {
    /// The verifier text stored in dsse bodies: the PEM as submitted.
    fn key_pem_or_cert(&self) -> Vec<u8> {
        if self.pem.is_empty() {
            self.key.to_pem().into_bytes()
        } else {
            self.pem.clone()
        }
    }
}

fn intoto_subject_digests(payload: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return Vec::new();
    };
    sha256_digests(v.get("subject"))
}

/// Builds the canonical `precert` body for a DER chain (precertificate first).
///
/// # Errors
/// [`EntryError::Malformed`] if canonicalization fails (not expected).
pub fn precert_entry(chain: &[Vec<u8>], leaf: &Signer) -> Result<ValidEntry, EntryError> {
    let body = signet_proto::observe::precert_body(chain);
    let mut postings = Vec::new();
    leaf.postings(&mut postings);
    if let Some(first) = chain.first() {
        postings.push((
            IndexKind::ArtifactSha256,
            hex::encode(sha256(first)).into_bytes(),
        ));
    }
    Ok(ValidEntry::new(body, postings))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    use signet_proto::keys::{EcdsaCurve, EcdsaSigner};

    fn hashedrekord_json(order_spec_first: bool) -> (Vec<u8>, HashedRekordV001) {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let signer = EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap();
        let digest = sha256(b"artifact");
        let sig = signer.sign_digest(&digest).unwrap();
        let pem = signer.public_key().to_pem().into_bytes();
        let spec = HashedRekordV001::new(&digest, sig.clone(), pem.clone());
        let spec_json = format!(
            r#"{{"signature":{{"publicKey":{{"content":"{}"}},"content":"{}"}},"data":{{"hash":{{"value":"{}","algorithm":"sha256"}}}}}}"#,
            B64.encode(&pem),
            B64.encode(&sig),
            hex::encode(digest)
        );
        let json = if order_spec_first {
            format!(r#"{{"spec":{spec_json},"kind":"hashedrekord","apiVersion":"0.0.1"}}"#)
        } else {
            format!(r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{spec_json}}}"#)
        };
        (json.into_bytes(), spec)
    }

    /// The directly written canonical body is byte-identical to the RFC 8785 serializer's.
    #[test]
    fn fast_canonical_body_matches_jcs() {
        for first in [false, true] {
            let (json, spec) = hashedrekord_json(first);
            let want = ProposedEntry::HashedRekordV001(spec.clone())
                .canonical_bytes()
                .unwrap();
            assert_eq!(hashedrekord_canonical(&spec), want);
            let got = validate_proposed(&json).unwrap();
            assert_eq!(got.body, want);
            assert_eq!(got.leaf_hash, leaf_hash(&want));
            // The general path (through a JSON value) agrees.
            let slow = ProposedEntry::from_json(&json).unwrap();
            let ProposedEntry::HashedRekordV001(h) = slow else {
                panic!("not hashedrekord")
            };
            assert_eq!(validate_hashedrekord(h).unwrap(), got);
        }
    }

    /// Inputs the fast path does not take still get the general path's answers.
    #[test]
    fn fast_path_falls_back_for_odd_inputs() {
        let (json, _) = hashedrekord_json(false);
        let text = String::from_utf8(json).unwrap();
        let v2 = text.replace(r#""apiVersion":"0.0.1""#, r#""apiVersion":"0.0.2""#);
        assert!(matches!(
            validate_proposed(v2.as_bytes()),
            Err(EntryError::Unsupported(_))
        ));
        let extra = text.replacen('{', r#"{"extra":1,"#, 1);
        assert!(matches!(
            validate_proposed(extra.as_bytes()),
            Err(EntryError::Malformed(_))
        ));
        let upper = text.replace(
            &hex::encode(sha256(b"artifact")),
            &hex::encode_upper(sha256(b"artifact")),
        );
        assert!(matches!(
            validate_proposed(upper.as_bytes()),
            Err(EntryError::Invalid(_))
        ));
        let other = text.replace(
            &hex::encode(sha256(b"artifact")),
            &hex::encode(sha256(b"other")),
        );
        assert!(matches!(
            validate_proposed(other.as_bytes()),
            Err(EntryError::Signature(_))
        ));
    }
}
