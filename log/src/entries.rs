//! Entry validation: everything checked before an entry is queued.
//!
//! * `hashedrekord` 0.0.1 (sigstore/rekor `pkg/types/hashedrekord/v0.0.1`): the digest is
//!   `sha256`, `sha384` or `sha512` (the schema's enum), lowercase hex of that algorithm's
//!   length; the key is a PEM certificate or PEM public key; the signature is verified over
//!   the digest (prehashed) with the key and the stated hash, as Rekor does (its
//!   `Verify(..., WithDigest, WithCryptoSignerOpts(alg))`): ECDSA P-256 or P-384 with any of
//!   the three hashes (cosign's `ecdsa-sha2-384-nistp384` writes P-384 with sha384) and
//!   RSA >= 2048 (PKCS#1 v1.5 with the stated hash). Ed25519 is refused: PureEdDSA signs the
//!   whole artifact, which a hashedrekord entry does not carry (Rekor also takes Ed25519ph
//!   signatures here; Signet does not). The canonical body keeps the algorithm given, and the
//!   digest is indexed under that algorithm (Rekor's `<alg>:<hex>` index key): see
//!   [`IndexKind::artifact`].
//! * `dsse` 0.0.1 (`pkg/types/dsse/v0.0.1`): every envelope signature must verify over the DSSE
//!   PAE with one of the submitted verifiers. The stored body is Rekor's canonical form:
//!   `envelopeHash` = `signet_proto::rekor::dsse_envelope_hash` (SHA-256 of the envelope's
//!   RFC 8785 JSON, `keyid`s kept: the one form the verifier recomputes from a bundle, and
//!   what sigstore-rs recomputes), `payloadHash` = SHA-256 of the payload, signatures sorted.
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
//!   the envelope hash is not indexed (Rekor neither). By design the log keeps no copy of
//!   the payload (Rekor's optional attestation storage): it records that an attestation was
//!   signed, and the signer keeps the envelope in its bundle.
//! * `precert` 0.0.1, this log's own kind for CT precertificates recorded by
//!   `add-pre-chain` (see [`crate::ct`]): body
//!   `{"apiVersion":"0.0.1","kind":"precert","spec":{"chain":["<b64 DER>",...]}}` in RFC 8785
//!   form, the precertificate first and the chain up to (and including, when the submitter sent
//!   it) the root. It cannot be submitted through `POST /api/v1/log/entries`.
//!
//! Keys and certificates (hashedrekord `publicKey.content`, dsse `verifiers`, intoto
//! `publicKey`) are read strictly ([`parse_signer`]): exactly one PEM block, `CERTIFICATE` or
//! `PUBLIC KEY`, no PEM headers, nothing but white space around it, and DER with no trailing
//! bytes. They are stored re-encoded in the canonical form Rekor's `CanonicalValue` writes
//! (64-character base64 lines, LF line ends, a final LF), which is also what sigstore-python,
//! sigstore-js and the `signet` client submit: a submission that differs only in white space
//! (CRLF, no final newline, other line lengths) gets the same leaf as the canonical one, so
//! dedup by leaf hash holds, and text the parser would skip cannot be logged.
//!
//! DSSE work is bounded before any signature check: at most [`MAX_SIGNATURES`] signatures,
//! [`MAX_VERIFIERS`] verifiers and [`MAX_SIGNATURE_CHECKS`] (signature, verifier) pairs, no two
//! signatures or verifiers identical, and a stored body that can fit [`MAX_ENTRY_BYTES`]; each
//! pair is checked at most once. An intoto signature (at most [`MAX_SIGNATURES`]) is checked
//! only against its own key, after its stored body is built and bounded.
//!
//! Validation produces the canonical body (the Merkle leaf data), its leaf hash and the
//! search-index postings. What this module does not do: store anything, check certificate
//! chains or validity periods for hashedrekord/dsse/intoto (Rekor v1 does not either).

use signet_proto::bundle::DsseEnvelope;
use signet_proto::cert::{Identity, SubjectAltName};
use signet_proto::keys::{KeyAlgorithm, PublicKey};
use signet_proto::merkle::{leaf_hash, Hash};
use signet_proto::rekor::{
    DsseCanonical, DsseSignatureVerifier, DsseV001, HashedRekordV001, IntotoV002, ProposedEntry,
    RekorError,
};
use x509_parser::prelude::FromDer;

use crate::limits::MAX_ENTRY_BYTES;
use crate::storage::IndexKind;
use crate::util::sha256;

/// Kind name of recorded CT precertificates.
pub use signet_proto::observe::KIND_PRECERT;

pub use crate::error::{EntryError, EntryErrorClass, KeyError, KeyField};

/// A validated entry ready to be sequenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidEntry {
    /// Canonical body (RFC 8785), the Merkle leaf data.
    pub body: Vec<u8>,
    /// RFC 6962 leaf hash of `body`.
    pub leaf_hash: Hash,
    /// Search postings `(index, value)`.
    pub postings: Vec<(IndexKind, Vec<u8>)>,
    /// For an in-toto attestation (dsse or intoto entry), the statement's `predicateType`,
    /// kept beside the entry because the canonical body keeps only the payload's hash.
    pub predicate_type: Option<String>,
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
            predicate_type: None,
        }
    }
}

/// The longest `predicateType` kept (a URI; longer ones are not recorded).
pub const MAX_PREDICATE_TYPE_BYTES: usize = 1024;

/// The `predicateType` of an in-toto statement, when it is a string of printable ASCII no
/// longer than [`MAX_PREDICATE_TYPE_BYTES`].
fn intoto_predicate_type(payload: &[u8]) -> Option<String> {
    let v = signet_proto::json::from_slice::<serde_json::Value>(payload).ok()?;
    let t = v.get("predicateType")?.as_str()?;
    (t.len() <= MAX_PREDICATE_TYPE_BYTES
        && !t.is_empty()
        && t.bytes().all(|b| b.is_ascii_graphic()))
    .then(|| t.to_owned())
}

fn rekor_err(e: RekorError) -> EntryError {
    let reason = e.to_string();
    match e {
        RekorError::UnsupportedKind { .. } | RekorError::UnsupportedApiVersion { .. } => {
            EntryError::Unsupported { reason }
        }
        RekorError::InvalidSpec { .. } => EntryError::InvalidSpec { reason },
        _ => EntryError::Malformed { reason },
    }
}

/// A [`KeyError`] of the one key field of the input.
fn key_err(error: KeyError) -> EntryError {
    EntryError::Key {
        field: KeyField::Key,
        error,
    }
}

/// `e`, if it is about the key field, as about `field` instead.
fn in_field(e: EntryError, field: KeyField) -> EntryError {
    match e {
        EntryError::Key { error, .. } => EntryError::Key { field, error },
        other => other,
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
    /// The canonical PEM text (see [`parse_signer`]); empty when built from DER.
    pub pem: Vec<u8>,
}

impl Signer {
    pub(crate) fn postings(&self, out: &mut Vec<(IndexKind, Vec<u8>)>) {
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

/// Most signatures accepted in one dsse or intoto entry (Sigstore clients write one). With
/// [`MAX_VERIFIERS`] this bounds the signature checks of one entry.
pub const MAX_SIGNATURES: usize = 16;

/// Most verifiers (keys or certificates) accepted in one dsse entry.
pub const MAX_VERIFIERS: usize = 16;

/// Most (signature, verifier) pairs of one dsse entry, the bound on its signature checks
/// (32 P-384 verifications, the slowest allowed key, take about 35 ms on the 2-core benchmark
/// machine; Sigstore clients submit 1 x 1).
pub const MAX_SIGNATURE_CHECKS: usize = 32;

/// The PEM labels a key field may carry.
const PEM_CERTIFICATE: &str = "CERTIFICATE";
const PEM_PUBLIC_KEY: &str = "PUBLIC KEY";

/// Whitespace allowed around and inside a PEM block (what the `pem` crate skips between
/// lines): space, tab, CR, LF.
fn is_pem_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Feeds the canonical PEM encoding of `der` under `label`, piece by piece, to `f` (stopping
/// when it returns `false`); returns whether every piece was accepted. The canonical form is
/// RFC 7468's strict one, as Go's `pem.EncodeToMemory` (Rekor's `CanonicalValue`),
/// OpenSSL/pyca `cryptography` (sigstore-python), sigstore-js `pem.fromDER` and the `signet`
/// client write it: `-----BEGIN <label>-----` LF, standard base64 in 64-character lines each
/// ended by LF, `-----END <label>-----` LF. No allocation.
fn canonical_pem_pieces(label: &str, der: &[u8], mut f: impl FnMut(&[u8]) -> bool) -> bool {
    use base64::Engine as _;
    if !(f(b"-----BEGIN ") && f(label.as_bytes()) && f(b"-----\n")) {
        return false;
    }
    let mut line = [0u8; 64];
    for chunk in der.chunks(48) {
        // 48 bytes always fit in 64 base64 characters.
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(chunk, &mut line)
            .unwrap_or(0);
        if !(f(&line[..n]) && f(b"\n")) {
            return false;
        }
    }
    f(b"-----END ") && f(label.as_bytes()) && f(b"-----\n")
}

/// Whether `input` is exactly the canonical PEM encoding of `der` under `label`.
fn is_canonical_pem(input: &[u8], label: &str, der: &[u8]) -> bool {
    let mut rest = input;
    canonical_pem_pieces(label, der, |piece| match rest.strip_prefix(piece) {
        Some(r) => {
            rest = r;
            true
        }
        None => false,
    }) && rest.is_empty()
}

/// Whether `input` equals the canonical PEM encoding of `der` under `label` once all
/// [`is_pem_space`] bytes are removed from both: it differs only in line breaks, line lengths,
/// CRLF line ends or surrounding blank space, and holds no other text.
fn same_pem_but_space(input: &[u8], label: &str, der: &[u8]) -> bool {
    let mut rest = input.iter().copied().filter(|b| !is_pem_space(*b));
    canonical_pem_pieces(label, der, |piece| {
        piece
            .iter()
            .copied()
            .filter(|b| !is_pem_space(*b))
            .all(|b| rest.next() == Some(b))
    }) && rest.next().is_none()
}

/// The canonical PEM encoding of `der` under `label` (see [`canonical_pem_pieces`]).
fn canonical_pem(label: &str, der: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(label.len() * 2 + 32 + der.len().div_ceil(48) * 65);
    canonical_pem_pieces(label, der, |piece| {
        out.extend_from_slice(piece);
        true
    });
    out
}

/// How a key field's PEM text is stored.
enum StoredPem {
    /// The submitted text is already canonical: store it as is.
    AsSubmitted,
    /// The submitted text differed only in white space: store this canonical re-encoding.
    Reencoded(Vec<u8>),
}

/// Parses a key field strictly: exactly one PEM block, `CERTIFICATE` or `PUBLIC KEY`, no
/// headers, no text around it but white space, and DER with no trailing bytes. Returns the
/// signer (with an empty `pem`) and how its PEM is to be stored.
fn parse_key_field(input: &[u8]) -> Result<(Signer, StoredPem), EntryError> {
    let mut blocks = pem::parse_many(input).map_err(|e| {
        key_err(KeyError::NotPem {
            reason: e.to_string(),
        })
    })?;
    let block = match blocks.len() {
        1 => blocks.swap_remove(0),
        0 => return Err(key_err(KeyError::NoPemBlock)),
        _ => {
            let labels = blocks.iter().map(|b| b.tag().to_owned()).collect();
            return Err(key_err(KeyError::SeveralPemBlocks { labels }));
        }
    };
    if block.headers().iter().next().is_some() {
        return Err(key_err(KeyError::PemHeaders));
    }
    let (label, signer) = match block.tag() {
        PEM_CERTIFICATE => (PEM_CERTIFICATE, signer_from_cert_der(block.contents())?),
        PEM_PUBLIC_KEY => (
            PEM_PUBLIC_KEY,
            Signer {
                key: PublicKey::from_spki_der(block.contents()).map_err(|e| {
                    key_err(KeyError::BadKey {
                        reason: e.to_string(),
                    })
                })?,
                emails: Vec::new(),
                uris: Vec::new(),
                pem: Vec::new(),
            },
        ),
        other => {
            return Err(key_err(KeyError::WrongLabel {
                label: other.to_owned(),
            }))
        }
    };
    let der = block.contents();
    if is_canonical_pem(input, label, der) {
        return Ok((signer, StoredPem::AsSubmitted));
    }
    if same_pem_but_space(input, label, der) {
        return Ok((signer, StoredPem::Reencoded(canonical_pem(label, der))));
    }
    let trimmed = input.trim_ascii();
    Err(key_err(if !trimmed.starts_with(b"-----BEGIN ") {
        KeyError::TextBefore
    } else if !trimmed.ends_with(b"-----") {
        KeyError::TextAfter
    } else {
        KeyError::TextInside
    }))
}

/// Parses a PEM `CERTIFICATE` or `PUBLIC KEY` (as carried, base64-decoded, in entries),
/// strictly: exactly one PEM block of one of those labels, no PEM headers, nothing but white
/// space around it, and DER with no trailing bytes. [`Signer::pem`] is the canonical
/// re-encoding (the text as submitted when it already is canonical), which is what entries
/// store.
///
/// # Errors
/// [`EntryError::Key`] naming the problem ([`KeyError`]): not PEM, several blocks, headers,
/// text around the block, another label, malformed DER or trailing bytes, or a key outside
/// the allowlist.
pub fn parse_signer(pem_bytes: &[u8]) -> Result<Signer, EntryError> {
    let (mut signer, stored) = parse_key_field(pem_bytes)?;
    signer.pem = match stored {
        StoredPem::AsSubmitted => pem_bytes.to_vec(),
        StoredPem::Reencoded(c) => c,
    };
    Ok(signer)
}

/// Parses a DER certificate (no trailing bytes) and its subject public key.
fn parse_cert_der(
    der: &[u8],
) -> Result<(x509_parser::certificate::X509Certificate<'_>, PublicKey), EntryError> {
    let (rest, cert) = x509_parser::certificate::X509Certificate::from_der(der).map_err(|e| {
        key_err(KeyError::BadCertificate {
            reason: e.to_string(),
        })
    })?;
    if !rest.is_empty() {
        return Err(key_err(KeyError::CertificateTrailingBytes {
            len: rest.len(),
        }));
    }
    let key = PublicKey::from_spki_der(cert.public_key().raw).map_err(|e| {
        key_err(KeyError::CertificateKey {
            reason: e.to_string(),
        })
    })?;
    Ok((cert, key))
}

/// Parses a DER certificate's key only, for a log that keeps no identity index (Rekor v2):
/// the same checks as [`signer_from_cert_der`] without reading the SANs.
///
/// # Errors
/// [`EntryError::Key`] for a malformed certificate or unsupported key.
pub fn key_from_cert_der(der: &[u8]) -> Result<PublicKey, EntryError> {
    parse_cert_der(der).map(|(_, key)| key)
}

/// Parses a DER certificate's key and email/URI SANs.
///
/// # Errors
/// [`EntryError::Key`] for a malformed certificate or unsupported key.
pub fn signer_from_cert_der(der: &[u8]) -> Result<Signer, EntryError> {
    let (cert, key) = parse_cert_der(der)?;
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
    if let Ok(req) = signet_proto::json::from_slice::<HashedRekordRequest>(json) {
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
            if p.verifiers.len() > MAX_VERIFIERS {
                return Err(EntryError::TooManyVerifiers {
                    count: p.verifiers.len(),
                    max: MAX_VERIFIERS,
                });
            }
            let env = p.parse_envelope().map_err(|e| EntryError::DsseEnvelope {
                reason: e.to_string(),
            })?;
            check_signature_count("dsse", env.signatures.len())?;
            if env.signatures.len() * p.verifiers.len() > MAX_SIGNATURE_CHECKS {
                return Err(EntryError::TooManySignatureChecks {
                    signatures: env.signatures.len(),
                    verifiers: p.verifiers.len(),
                    max: MAX_SIGNATURE_CHECKS,
                });
            }
            let verifiers = p
                .verifiers
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    parse_signer(v.as_slice()).map_err(|e| in_field(e, KeyField::DsseVerifier(i)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            validate_dsse(env, &verifiers)
        }
        ProposedEntry::DsseV001(_) => Err(EntryError::DsseNotProposed),
        ProposedEntry::IntotoV002(spec) => validate_intoto(&spec),
        _ => Err(EntryError::OtherType),
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

/// RFC 8785 form of a hashedrekord 0.0.1 entry, written directly, with the algorithm given
/// (as Rekor's `Canonicalize` keeps `data.hash` as submitted). Only valid when the digest
/// value is lowercase hex (checked by `HashValue::digest`): hex, the algorithm names and
/// standard base64 contain no character JSON escapes, and the keys below are in RFC 8785
/// order.
fn hashedrekord_canonical(h: &HashedRekordV001) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = &base64::engine::general_purpose::STANDARD;
    let sig = h.signature.content.as_slice();
    let key = h.signature.public_key.content.as_slice();
    let mut out =
        String::with_capacity(160 + h.data.hash.value.len() + (sig.len() + key.len()) * 4 / 3 + 8);
    out.push_str(
        r#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":""#,
    );
    out.push_str(h.data.hash.algorithm.name());
    out.push_str(r#"","value":""#);
    out.push_str(&h.data.hash.value);
    out.push_str(r#""}},"signature":{"content":""#);
    b64.encode_string(sig, &mut out);
    out.push_str(r#"","publicKey":{"content":""#);
    b64.encode_string(key, &mut out);
    out.push_str(r#""}}}}"#);
    out.into_bytes()
}

fn validate_hashedrekord(mut h: HashedRekordV001) -> Result<ValidEntry, EntryError> {
    let algorithm = h.data.hash.algorithm;
    let digest = h
        .data
        .hash
        .digest()
        .map_err(|reason| EntryError::Digest { reason })?;
    let (signer, stored) = parse_key_field(h.signature.public_key.content.as_slice())?;
    if signer.key.algorithm() == KeyAlgorithm::Ed25519 {
        return Err(EntryError::Ed25519Hashedrekord);
    }
    signer
        .key
        .verify_prehashed_with(
            algorithm.hash_algorithm(),
            &digest,
            h.signature.content.as_slice(),
        )
        .map_err(|e| EntryError::HashedrekordSignature {
            hash: algorithm.name(),
            reason: e.to_string(),
        })?;
    let mut postings = vec![(
        IndexKind::artifact(algorithm),
        hex::encode(&digest).into_bytes(),
    )];
    signer.postings(&mut postings);
    if let StoredPem::Reencoded(canonical) = stored {
        h.signature.public_key.content = signet_proto::bundle::Base64Bytes(canonical);
    }
    // `digest()` above checked that the value is lowercase hex of the algorithm's length.
    let body = hashedrekord_canonical(&h);
    Ok(ValidEntry::new(body, postings))
}

/// Refuses more than [`MAX_SIGNATURES`] signatures.
fn check_signature_count(kind: &'static str, n: usize) -> Result<(), EntryError> {
    if n > MAX_SIGNATURES {
        return Err(EntryError::TooManySignatures {
            kind,
            count: n,
            max: MAX_SIGNATURES,
        });
    }
    Ok(())
}

/// The first pair of equal items, as indexes.
fn first_duplicate<T: PartialEq>(items: &[T]) -> Option<(usize, usize)> {
    items
        .iter()
        .enumerate()
        .find_map(|(j, b)| items[..j].iter().position(|a| a == b).map(|i| (i, j)))
}

/// Length of the standard (padded) base64 encoding of `n` bytes.
fn base64_len(n: usize) -> usize {
    n.div_ceil(3).saturating_mul(4)
}

/// Checks a dsse entry (at most [`MAX_SIGNATURES`] signatures, [`MAX_VERIFIERS`] verifiers
/// and [`MAX_SIGNATURE_CHECKS`] pairs, already checked by the caller): distinct signatures and
/// verifiers, a stored body that can fit [`MAX_ENTRY_BYTES`], then every signature against the
/// verifiers, each (signature, verifier) pair at most once.
fn validate_dsse(env: DsseEnvelope, verifiers: &[Signer]) -> Result<ValidEntry, EntryError> {
    if let Some((i, j)) =
        first_duplicate(&env.signatures.iter().map(|s| &s.sig).collect::<Vec<_>>())
    {
        return Err(EntryError::DuplicateSignatures {
            kind: "dsse",
            first: i,
            second: j,
        });
    }
    if let Some((i, j)) = first_duplicate(&verifiers.iter().map(|v| &v.pem).collect::<Vec<_>>()) {
        return Err(EntryError::DuplicateVerifiers {
            first: i,
            second: j,
        });
    }
    // Each stored signature carries its signature and its verifier's PEM, base64: a lower bound
    // of the stored body's size, known before any signature check.
    let smallest_verifier = verifiers
        .iter()
        .map(|v| base64_len(v.pem.len()))
        .min()
        .unwrap_or(0);
    let at_least: usize = env
        .signatures
        .iter()
        .map(|s| base64_len(s.sig.as_slice().len()) + smallest_verifier)
        .sum();
    if at_least > MAX_ENTRY_BYTES {
        return Err(EntryError::DsseTooLarge {
            at_least,
            limit: MAX_ENTRY_BYTES,
        });
    }
    let pae = env.pae();
    let mut sigs = Vec::new();
    let mut postings = Vec::new();
    for (i, s) in env.signatures.iter().enumerate() {
        let Some(v) = verifiers
            .iter()
            .find(|v| v.key.verify(&pae, s.sig.as_slice()).is_ok())
        else {
            return Err(EntryError::DsseSignature { index: i });
        };
        v.postings(&mut postings);
        sigs.push(DsseSignatureVerifier {
            signature: s.sig.clone(),
            verifier: signet_proto::bundle::Base64Bytes(v.key_pem_or_cert()),
        });
    }
    // `envelopeHash` is proto's one canonical envelope form (keyids kept), which the verifier
    // recomputes from the bundle's envelope.
    let canonical = DsseCanonical::new(&env, sigs).map_err(|e| EntryError::DsseEnvelope {
        reason: e.to_string(),
    })?;
    postings.push((
        IndexKind::ArtifactSha256,
        canonical.payload_hash.value.clone().into_bytes(),
    ));
    postings.push((
        IndexKind::ArtifactSha256,
        canonical.envelope_hash.value.clone().into_bytes(),
    ));
    let mut predicate_type = None;
    if env.payload_type == "application/vnd.in-toto+json" {
        for d in intoto_subject_digests(env.payload.as_slice()) {
            postings.push((IndexKind::ArtifactSha256, d.into_bytes()));
        }
        predicate_type = intoto_predicate_type(env.payload.as_slice());
    }
    let body = ProposedEntry::DsseV001(DsseV001::Canonical(canonical))
        .canonical_bytes()
        .map_err(rekor_err)?;
    Ok(ValidEntry {
        predicate_type,
        ..ValidEntry::new(body, postings)
    })
}

/// Validates a proposed intoto 0.0.2 entry (see the module docs) and builds its stored body.
fn validate_intoto(spec: &IntotoV002) -> Result<ValidEntry, EntryError> {
    if !spec.is_proposed() {
        return Err(EntryError::IntotoNotProposed);
    }
    let env = &spec.content.envelope;
    check_signature_count("intoto", env.signatures.len())?;
    if let Some((i, j)) =
        first_duplicate(&env.signatures.iter().map(|s| &s.sig).collect::<Vec<_>>())
    {
        return Err(EntryError::DuplicateSignatures {
            kind: "intoto",
            first: i,
            second: j,
        });
    }
    let payload = env.payload_bytes().map_err(rekor_err)?;
    let mut signers = Vec::with_capacity(env.signatures.len());
    let mut raw_sigs = Vec::with_capacity(env.signatures.len());
    for (i, s) in env.signatures.iter().enumerate() {
        raw_sigs.push(s.signature_bytes().map_err(rekor_err)?);
        signers.push(
            parse_signer(s.public_key.as_slice())
                .map_err(|e| in_field(e, KeyField::IntotoSignature(i)))?,
        );
    }
    let mut canonical = spec.canonical(&payload);
    let Some(payload_hash) = canonical.content.payload_hash.clone() else {
        return Err(EntryError::PayloadHashMissing);
    };
    if let Some(given) = &spec.content.payload_hash {
        if *given != payload_hash {
            return Err(EntryError::PayloadHashMismatch {
                given: given.value.clone(),
                computed: payload_hash.value,
            });
        }
    }
    // The stored keys are the canonical PEMs.
    for (stored, signer) in canonical
        .content
        .envelope
        .signatures
        .iter_mut()
        .zip(&signers)
    {
        stored.public_key = signet_proto::bundle::Base64Bytes(signer.pem.clone());
    }
    // The stored body is known before any signature check: bound it first.
    let body = ProposedEntry::IntotoV002(canonical)
        .canonical_bytes()
        .map_err(rekor_err)?;
    if body.len() > MAX_ENTRY_BYTES {
        return Err(EntryError::IntotoTooLarge {
            bytes: body.len(),
            limit: MAX_ENTRY_BYTES,
        });
    }
    let pae = signet_proto::bundle::pae(&env.payload_type, &payload);
    let mut postings = Vec::new();
    for (i, (signer, sig)) in signers.iter().zip(&raw_sigs).enumerate() {
        signer
            .key
            .verify(&pae, sig)
            .map_err(|e| EntryError::IntotoSignature {
                index: i,
                reason: e.to_string(),
            })?;
        signer.postings(&mut postings);
    }
    postings.push((IndexKind::ArtifactSha256, payload_hash.value.into_bytes()));
    let mut predicate_type = None;
    if env.payload_type == "application/vnd.in-toto+json" {
        for d in intoto_subject_digests(&payload) {
            postings.push((IndexKind::ArtifactSha256, d.into_bytes()));
        }
        for d in slsa_material_digests(&payload) {
            postings.push((IndexKind::ArtifactSha256, d.into_bytes()));
        }
        predicate_type = intoto_predicate_type(&payload);
    }
    Ok(ValidEntry {
        predicate_type,
        ..ValidEntry::new(body, postings)
    })
}

/// SHA-256 digests of a SLSA provenance predicate's `materials` (Rekor's intoto `IndexKeys`).
fn slsa_material_digests(payload: &[u8]) -> Vec<String> {
    let Ok(v) = signet_proto::json::from_slice::<serde_json::Value>(payload) else {
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
    /// The verifier text stored in dsse bodies: the canonical PEM.
    fn key_pem_or_cert(&self) -> Vec<u8> {
        if self.pem.is_empty() {
            self.key.to_pem().into_bytes()
        } else {
            self.pem.clone()
        }
    }
}

fn intoto_subject_digests(payload: &[u8]) -> Vec<String> {
    let Ok(v) = signet_proto::json::from_slice::<serde_json::Value>(payload) else {
        return Vec::new();
    };
    sha256_digests(v.get("subject"))
}

/// Builds the canonical `precert` body for a DER chain (precertificate first).
///
/// # Errors
/// None today (the body is built, not parsed); the `Result` keeps room for checks.
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
    #[test]
    fn predicate_types_are_kept_only_when_printable_and_short() {
        let st = |t: &serde_json::Value| {
            intoto_predicate_type(
                serde_json::json!({"predicateType": t})
                    .to_string()
                    .as_bytes(),
            )
        };
        assert_eq!(
            st(&"https://slsa.dev/provenance/v1".into()).as_deref(),
            Some("https://slsa.dev/provenance/v1")
        );
        assert_eq!(st(&"a b".into()), None, "spaces");
        assert_eq!(st(&"caf\u{e9}".into()), None, "non-ASCII");
        assert_eq!(st(&"".into()), None, "empty");
        assert_eq!(
            st(&"x".repeat(MAX_PREDICATE_TYPE_BYTES + 1).into()),
            None,
            "too long"
        );
        assert_eq!(st(&serde_json::json!(7)), None, "not a string");
        assert_eq!(intoto_predicate_type(b"not json"), None);
    }

    use super::*;
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    use signet_proto::keys::{EcdsaCurve, EcdsaSigner};

    fn hashedrekord_json(order_spec_first: bool) -> (Vec<u8>, HashedRekordV001) {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let signer = EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap();
        let digest = sha256(b"artifact");
        let sig = signer.sign_digest(&digest).unwrap();
        // As clients write it (LF line ends), the form stored as submitted.
        let pem = canonical_pem(PEM_PUBLIC_KEY, signer.public_key().spki_der());
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

    /// A P-384 key over a SHA-384 digest (cosign's `ecdsa-sha2-384-nistp384`): the direct
    /// writer keeps the algorithm and equals the RFC 8785 serializer, both paths agree, and
    /// the digest is indexed under SHA-384.
    #[test]
    fn sha384_body_keeps_its_algorithm() {
        use signet_proto::rekor::RekorHashAlgorithm;
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let signer = EcdsaSigner::generate(EcdsaCurve::P384, &rng).unwrap();
        let digest = signet_proto::keys::HashAlgorithm::Sha384.hash(b"artifact");
        let sig = signer.sign_digest(&digest).unwrap();
        let pem = canonical_pem(PEM_PUBLIC_KEY, signer.public_key().spki_der());
        let spec = HashedRekordV001::with_digest(RekorHashAlgorithm::Sha384, &digest, sig, pem);
        let entry = ProposedEntry::HashedRekordV001(spec.clone());
        let want = entry.canonical_bytes().unwrap();
        assert_eq!(hashedrekord_canonical(&spec), want);
        assert!(String::from_utf8_lossy(&want).contains(r#"{"algorithm":"sha384","value":""#));
        let got = validate_proposed(&serde_json::to_vec(&entry).unwrap()).unwrap();
        assert_eq!(got.body, want);
        assert_eq!(validate_hashedrekord(spec).unwrap(), got);
        assert!(got
            .postings
            .contains(&(IndexKind::ArtifactSha384, hex::encode(&digest).into_bytes())));
        assert!(!got
            .postings
            .iter()
            .any(|(k, _)| *k == IndexKind::ArtifactSha256));
    }

    /// Inputs the fast path does not take still get the general path's answers.
    #[test]
    fn fast_path_falls_back_for_odd_inputs() {
        let (json, _) = hashedrekord_json(false);
        let text = String::from_utf8(json).unwrap();
        let v2 = text.replace(r#""apiVersion":"0.0.1""#, r#""apiVersion":"0.0.2""#);
        assert!(matches!(
            validate_proposed(v2.as_bytes()),
            Err(EntryError::Unsupported { .. })
        ));
        let extra = text.replacen('{', r#"{"extra":1,"#, 1);
        assert!(matches!(
            validate_proposed(extra.as_bytes()),
            Err(EntryError::Malformed { .. })
        ));
        // Text that is not UTF-8 is refused, with a reason naming it, wherever the bytes are.
        let mut bad = text.replacen('{', r#"{"extra":""#, 1).into_bytes();
        bad.splice(10..10, *b"\xa8\",");
        let Err(EntryError::Malformed { reason }) = validate_proposed(&bad) else {
            panic!("invalid UTF-8 accepted: {}", String::from_utf8_lossy(&bad))
        };
        assert!(reason.contains("UTF-8"), "{reason}");
        let upper = text.replace(
            &hex::encode(sha256(b"artifact")),
            &hex::encode_upper(sha256(b"artifact")),
        );
        assert!(matches!(
            validate_proposed(upper.as_bytes()),
            Err(EntryError::InvalidSpec { .. })
        ));
        let other = text.replace(
            &hex::encode(sha256(b"artifact")),
            &hex::encode(sha256(b"other")),
        );
        assert!(matches!(
            validate_proposed(other.as_bytes()),
            Err(EntryError::HashedrekordSignature { .. })
        ));
    }

    const CLIENT_CERT_PEM: &[u8] =
        include_bytes!("../../testdata/sigstore/fake-hashedrekord/leaf.pem");

    /// The encoder is byte-identical to the `pem` crate with LF line ends (as the `signet`
    /// client and CA write PEM), and real clients' PEMs are canonical as they are.
    #[test]
    fn canonical_pem_matches_clients() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        for curve in [EcdsaCurve::P256, EcdsaCurve::P384] {
            let spki = EcdsaSigner::generate(curve, &rng)
                .unwrap()
                .public_key()
                .spki_der()
                .to_vec();
            let lf = pem::encode_config(
                &pem::Pem::new("PUBLIC KEY", spki.clone()),
                pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
            );
            assert_eq!(canonical_pem(PEM_PUBLIC_KEY, &spki), lf.as_bytes());
            assert!(is_canonical_pem(lf.as_bytes(), PEM_PUBLIC_KEY, &spki));
        }
        // sigstore-python (OpenSSL), sigstore-js and the signet client's certificates, and
        // upstream Rekor's test key: already canonical, stored unchanged.
        let mut fields = vec![CLIENT_CERT_PEM.to_vec()];
        for body in [
            &include_bytes!("../../testdata/sigstore/fake-hashedrekord/canonicalized_body.json")[..],
            include_bytes!("../../testdata/sigstore/rekor/hashedrekord_proposed.json"),
        ] {
            let v: serde_json::Value = signet_proto::json::from_slice(body).unwrap();
            let b64 = v["spec"]["signature"]["publicKey"]["content"]
                .as_str()
                .unwrap();
            fields.push(B64.decode(b64).unwrap());
        }
        for field in fields {
            let (_, stored) = parse_key_field(&field).unwrap();
            assert!(matches!(stored, StoredPem::AsSubmitted));
            assert_eq!(parse_signer(&field).unwrap().pem, field);
        }
    }

    fn invalid_message(field: &[u8]) -> String {
        match parse_signer(field) {
            Err(EntryError::Key {
                field: KeyField::Key,
                error,
            }) => error.to_string(),
            other => panic!("expected a key error, got {other:?}"),
        }
    }

    /// White-space variants are re-encoded; anything else around or inside the block is
    /// refused with a message naming it.
    #[test]
    fn key_field_is_strict_and_canonicalized() {
        let text = std::str::from_utf8(CLIENT_CERT_PEM).unwrap();
        let canonical = CLIENT_CERT_PEM.to_vec();
        let crlf = text.replace('\n', "\r\n");
        let no_final_newline = text.trim_end().to_owned();
        let padded = format!("\n  {text}\n\n");
        let one_line = {
            let lines: Vec<&str> = text.lines().collect();
            format!(
                "{}\n{}\n{}\n",
                lines[0],
                lines[1..lines.len() - 1].concat(),
                lines[lines.len() - 1]
            )
        };
        for variant in [&crlf, &no_final_newline, &padded, &one_line] {
            let (_, stored) = parse_key_field(variant.as_bytes()).unwrap();
            let StoredPem::Reencoded(c) = stored else {
                panic!("not re-encoded: {variant:?}")
            };
            assert_eq!(c, canonical);
            assert_eq!(parse_signer(variant.as_bytes()).unwrap().pem, canonical);
        }

        let lines: Vec<&str> = text.lines().collect();
        let cases: Vec<(String, &str)> = vec![
            (format!("preamble\n{text}"), "text before the PEM block"),
            (format!("{text}trailer\n"), "text after the PEM block"),
            (
                format!(
                    "{}\nX-Header: value\n\n{}\n",
                    lines[0],
                    lines[1..].join("\n")
                ),
                "PEM headers are not allowed",
            ),
            (
                format!("{text}{text}"),
                "2 PEM blocks (CERTIFICATE, CERTIFICATE)",
            ),
            (
                text.replace("BEGIN CERTIFICATE", "BEGIN X509 CRL")
                    .replace("END CERTIFICATE", "END X509 CRL"),
                "expected a PEM CERTIFICATE or PUBLIC KEY, found X509 CRL",
            ),
            ("no pem here".into(), "no PEM block found"),
            (
                "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".into(),
                "not a valid PEM block",
            ),
        ];
        for (field, want) in cases {
            let m = invalid_message(field.as_bytes());
            assert!(m.contains(want), "{want:?} not in {m:?}");
        }
        // DER with trailing bytes, in a canonical PEM.
        let der = pem::parse(CLIENT_CERT_PEM).unwrap().into_contents();
        let mut long = der.clone();
        long.extend_from_slice(&[0, 0]);
        let m = invalid_message(&canonical_pem(PEM_CERTIFICATE, &long));
        assert!(m.contains("2 bytes after the certificate DER"), "{m}");
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut spki = EcdsaSigner::generate(EcdsaCurve::P256, &rng)
            .unwrap()
            .public_key()
            .spki_der()
            .to_vec();
        spki.push(0);
        let m = invalid_message(&canonical_pem(PEM_PUBLIC_KEY, &spki));
        assert!(m.contains("trailing"), "{m}");
    }

    /// A CRLF key (as `PublicKey::to_pem` writes it) is stored as the LF encoding: the same
    /// leaf as the LF submission.
    #[test]
    fn hashedrekord_stores_the_canonical_key() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let signer = EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap();
        let digest = sha256(b"artifact");
        let sig = signer.sign_digest(&digest).unwrap();
        let lf = canonical_pem(PEM_PUBLIC_KEY, signer.public_key().spki_der());
        let crlf = signer.public_key().to_pem().into_bytes();
        assert_ne!(lf, crlf);
        let entry = |pem: Vec<u8>| {
            let spec = HashedRekordV001::new(&digest, sig.clone(), pem);
            let json = serde_json::to_vec(&ProposedEntry::HashedRekordV001(spec)).unwrap();
            validate_proposed(&json).unwrap()
        };
        let a = entry(lf.clone());
        assert_eq!(a, entry(crlf));
        let want = ProposedEntry::HashedRekordV001(HashedRekordV001::new(&digest, sig.clone(), lf))
            .canonical_bytes()
            .unwrap();
        assert_eq!(a.body, want);
    }
}
