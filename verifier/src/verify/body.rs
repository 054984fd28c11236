//! Log-entry body matching: the entry's kind fits the bundle, and its body states the
//! bundle's digest, signature and certificate (or key), field by field.
//!
//! Specs: Rekor v1 `hashedrekord` 0.0.1 and `dsse` 0.0.1 bodies and `intoto` 0.0.2 stored
//! bodies (typed by `signet_proto::rekor`), Rekor v2 `hashedrekord` 0.0.2 bodies (parsed by
//! `signet_proto::rekor_v2`), RFC 7468 strict PEM for the certificate a v1 body carries.
//!
//! * [`entry_kind`]: the entry's kind and version are supported and fit the bundle content; a
//!   Rekor v2 entry's `logIndex` is its proof's leaf index and it carries no SET;
//! * [`check_entry_body`]: for `hashedrekord` 0.0.2, which Rekor v2 also uses for DSSE
//!   envelopes: the digest of the artifact or of the DSSE PAE, the signature and the verifier
//!   certificate or key, compared field by field; for `intoto` 0.0.2, which sigstore-js
//!   writes for DSSE envelopes in `legacyCompatibility` mode: the payload hash, payload type,
//!   the one signature and its certificate or key, as sigstore-js's `verifyIntoto002TLogBody`
//!   does plus the key (the client-computed envelope `hash` has no canonical form to recompute
//!   and is not checked, as in sigstore-js); for `dsse` 0.0.1: the payload hash, the one
//!   signature and its verifier, and `envelopeHash` recomputed with
//!   `signet_proto::rekor::dsse_envelope_hash`, the form Signet's log writes; for
//!   `hashedrekord` 0.0.1: the digest (and its algorithm: `sha256`, or `sha384`/`sha512` as
//!   Rekor v1 accepts, see [`message_hash`]), the signature and the certificate or key, with a
//!   byte-for-byte fast path for the canonical keyless body.
//!
//! Not here: whether the signature verifies (`signature`), the inclusion of the body in the
//! log (`proof`), Rekor v2 `dsse` 0.0.2 entries.

use signet_proto::keys::{HashAlgorithm, KeyAlgorithm, PublicKey};
use signet_proto::rekor_v2;

use super::{Digests, EntryKind};
use crate::bundle::{CheckedBundle, Content, MessageDigest};
use crate::error::{TlogError, VerificationError};
use crate::trust::sha256;

/// The kind of the bundle's log entry, after checking that this verifier supports it, that it
/// fits the bundle content and, for a Rekor v2 entry (no SET covers its `logIndex`), that the
/// `logIndex` is the inclusion proof's leaf index and no integrated time with a SET is claimed.
///
/// # Errors
/// [`TlogError::Kind`] or [`TlogError::Inclusion`].
pub(super) fn entry_kind(bundle: &CheckedBundle) -> Result<EntryKind, VerificationError> {
    let entry = &bundle.entry;
    let kind = match (entry.kind.as_str(), entry.version.as_str()) {
        ("hashedrekord", "0.0.1") => EntryKind::HashedRekord,
        ("dsse", "0.0.1") => EntryKind::Dsse,
        ("intoto", "0.0.2") => EntryKind::IntotoV002,
        ("hashedrekord", "0.0.2") => EntryKind::HashedRekordV002,
        (k, v) => {
            return Err(TlogError::Kind {
                kind: k.to_owned(),
                version: v.to_owned(),
                reason: "only hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2 and hashedrekord 0.0.2 \
                         are supported"
                    .to_owned(),
            }
            .into())
        }
    };
    match (&bundle.content, kind) {
        (Content::Message { .. }, EntryKind::HashedRekord)
        | (Content::Dsse { .. }, EntryKind::Dsse | EntryKind::IntotoV002)
        | (_, EntryKind::HashedRekordV002) => {}
        _ => {
            return Err(TlogError::Kind {
                kind: entry.kind.clone(),
                version: entry.version.clone(),
                reason: "the entry kind does not match the bundle content".to_owned(),
            }
            .into())
        }
    }
    let v2 = kind == EntryKind::HashedRekordV002;
    // No SET covers a Rekor v2 logIndex: it must be the proof's leaf index.
    if v2 && entry.log_index != entry.proof.index {
        return Err(TlogError::Inclusion {
            index: entry.proof.index,
            size: entry.proof.size,
            reason: format!(
                "tlog entry logIndex {} is not the inclusion proof's {}",
                entry.log_index, entry.proof.index
            ),
        }
        .into());
    }
    if v2 && entry.integrated_time != 0 && entry.set.is_some() {
        // sigstore-python: integrated time is only defined for 0.0.1 entries.
        return Err(TlogError::Kind {
            kind: entry.kind.clone(),
            version: entry.version.clone(),
            reason: "an integrated time with a SET is only defined for 0.0.1 entries".to_owned(),
        }
        .into());
    }
    Ok(kind)
}

/// The hash a message signature of `content` is over, as the `kind` entry `body` states it:
/// a hashedrekord 0.0.1 `spec.data.hash.algorithm` of `sha384` or `sha512` (Rekor v1 takes
/// them; cosign's `ecdsa-sha2-384-nistp384` and sigstore-go with P-384 keys write `sha384`),
/// a hashedrekord 0.0.2 `data.algorithm` of `SHA2_384` or `SHA2_512`; SHA-256 otherwise, and
/// for DSSE content. The body is only read here: [`check_entry_body`] then compares it field
/// by field (the algorithm included) and the inclusion proof covers it, so a body that does
/// not parse falls back to SHA-256 and fails there with the parse error.
pub(super) fn message_hash(kind: EntryKind, body: &[u8], content: &Content) -> HashAlgorithm {
    #[derive(serde::Deserialize)]
    struct V1 {
        spec: V1Spec,
    }
    #[derive(serde::Deserialize)]
    struct V1Spec {
        data: V1Data,
    }
    #[derive(serde::Deserialize)]
    struct V1Data {
        hash: V1Hash,
    }
    #[derive(serde::Deserialize)]
    struct V1Hash {
        algorithm: signet_proto::rekor::RekorHashAlgorithm,
    }
    if !matches!(content, Content::Message { .. }) {
        return HashAlgorithm::Sha256;
    }
    match kind {
        EntryKind::HashedRekord => signet_proto::json::from_slice::<V1>(body)
            .map_or(HashAlgorithm::Sha256, |b| {
                b.spec.data.hash.algorithm.hash_algorithm()
            }),
        EntryKind::HashedRekordV002 => rekor_v2::parse_hashedrekord_v002(body)
            .ok()
            .and_then(|h| HashAlgorithm::from_protobuf_name(&h.data.algorithm))
            .unwrap_or(HashAlgorithm::Sha256),
        _ => HashAlgorithm::Sha256,
    }
}

/// Compares the entry body of `kind` with the bundle `content`, whose artifact digests are
/// `digests`, signed by `key` (from the leaf certificate `leaf_der`, or keyed when `None`).
///
/// # Errors
/// [`TlogError::Body`] when the body does not parse as its kind, [`TlogError::BodyMismatch`]
/// naming the first field that differs.
pub(super) fn check_entry_body(
    kind: EntryKind,
    body: &[u8],
    content: &Content,
    digests: &Digests,
    leaf_der: Option<&[u8]>,
    key: &PublicKey,
) -> Result<(), TlogError> {
    match (kind, content) {
        (EntryKind::HashedRekordV002, _) => check_body_v002(body, content, digests, leaf_der, key),
        (EntryKind::IntotoV002, Content::Dsse { envelope }) => {
            check_body_intoto(body, envelope, leaf_der, key)
        }
        _ => check_body(body, content, &digests.message, leaf_der, key),
    }
}

/// The `envelopeHash` Rekor v1 (Go) writes for a dsse 0.0.1 entry: SHA-256 of Go's
/// `json.Marshal` of the envelope, fields in the order `payloadType`, `payload`,
/// `signatures[{keyid, sig}]` with `keyid` always present, and `<`, `>`, `&`, U+2028, U+2029
/// escaped as Go does (public-good Rekor, cosign's attestations). The keyid stays bound.
fn rekor_go_envelope_hash(envelope: &signet_proto::bundle::DsseEnvelope) -> Vec<u8> {
    use base64::Engine as _;
    #[derive(serde::Serialize)]
    struct Sig<'a> {
        keyid: &'a str,
        sig: String,
    }
    #[derive(serde::Serialize)]
    struct Env<'a> {
        #[serde(rename = "payloadType")]
        payload_type: &'a str,
        payload: String,
        signatures: Vec<Sig<'a>>,
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let env = Env {
        payload_type: &envelope.payload_type,
        payload: b64.encode(&envelope.payload),
        signatures: envelope
            .signatures
            .iter()
            .map(|s| Sig {
                keyid: &s.keyid,
                sig: b64.encode(&s.sig),
            })
            .collect(),
    };
    let json = serde_json::to_string(&env).unwrap_or_default();
    let mut go = String::with_capacity(json.len());
    for ch in json.chars() {
        match ch {
            '<' => go.push_str("\\u003c"),
            '>' => go.push_str("\\u003e"),
            '&' => go.push_str("\\u0026"),
            '\u{2028}' => go.push_str("\\u2028"),
            '\u{2029}' => go.push_str("\\u2029"),
            c => go.push(c),
        }
    }
    sha256(go.as_bytes()).to_vec()
}

/// A Rekor v2 body that `signet_proto::rekor_v2` refuses (its message names the field).
fn body_error(e: rekor_v2::RekorV2Error) -> TlogError {
    TlogError::Body {
        reason: e.to_string(),
    }
}

/// Whether `pem` is exactly the RFC 7468 strict encoding of the certificate `der` (64
/// base64 characters a line, LF line ends, the final LF optional), as Sigstore clients
/// write it. Checked without decoding or allocating; `false` only means "not in this exact
/// form" (the caller then parses the PEM).
pub(super) fn is_strict_certificate_pem(pem: &[u8], der: &[u8]) -> bool {
    use base64::Engine as _;
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----\n";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let Some(mut rest) = pem.strip_prefix(BEGIN) else {
        return false;
    };
    let mut line = [0u8; 64];
    for chunk in der.chunks(48) {
        let Ok(n) = base64::engine::general_purpose::STANDARD.encode_slice(chunk, &mut line) else {
            return false;
        };
        match rest
            .strip_prefix(&line[..n])
            .and_then(|r| r.strip_prefix(b"\n"))
        {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.strip_suffix(b"\n").unwrap_or(rest) == END
}

/// Appends the RFC 7468 strict PEM encoding of the certificate `der` to `out` (64 base64
/// characters a line, LF line ends, a final LF), the form [`is_strict_certificate_pem`]
/// accepts.
fn push_strict_certificate_pem(out: &mut Vec<u8>, der: &[u8]) {
    use base64::Engine as _;
    out.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
    let mut line = [0u8; 64];
    for chunk in der.chunks(48) {
        // 48 bytes always fit in 64 characters.
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(chunk, &mut line)
            .unwrap_or(0);
        out.extend_from_slice(&line[..n]);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END CERTIFICATE-----\n");
}

/// The canonical (RFC 8785) `hashedrekord` 0.0.1 body that a keyless bundle implies: its
/// artifact digest (with its algorithm), its signature and its leaf certificate as strict PEM. The keys are
/// fixed and written in JCS order; the values are lowercase hex and standard base64,
/// which JSON does not escape. The test `canonical_hashedrekord_body_matches_proto` checks it against
/// `proto::rekor::ProposedEntry::canonical_bytes`.
pub(super) fn canonical_hashedrekord_body(
    digest: &MessageDigest,
    signature: &[u8],
    leaf_der: &[u8],
) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = &base64::engine::general_purpose::STANDARD;
    let mut pem = Vec::with_capacity(leaf_der.len() * 4 / 3 + 96);
    push_strict_certificate_pem(&mut pem, leaf_der);
    let mut out = Vec::with_capacity(pem.len() * 4 / 3 + signature.len() * 4 / 3 + 240);
    out.extend_from_slice(
        b"{\"apiVersion\":\"0.0.1\",\"kind\":\"hashedrekord\",\"spec\":{\"data\":{\"hash\":\
          {\"algorithm\":\"",
    );
    out.extend_from_slice(match digest.hash {
        HashAlgorithm::Sha384 => b"sha384",
        HashAlgorithm::Sha512 => b"sha512",
        _ => b"sha256",
    });
    out.extend_from_slice(b"\",\"value\":\"");
    out.extend_from_slice(hex::encode(&digest.digest).as_bytes());
    out.extend_from_slice(b"\"}},\"signature\":{\"content\":\"");
    let push_b64 = |out: &mut Vec<u8>, data: &[u8]| {
        let at = out.len();
        out.resize(at + data.len().div_ceil(3) * 4, 0);
        let n = b64.encode_slice(data, &mut out[at..]).unwrap_or(0);
        out.truncate(at + n);
    };
    push_b64(&mut out, signature);
    out.extend_from_slice(b"\",\"publicKey\":{\"content\":\"");
    push_b64(&mut out, &pem);
    out.extend_from_slice(b"\"}}}}");
    out
}

/// The body's `publicKey`/`verifier`: a PEM certificate (keyless) or a PEM public key
/// (keyed). It must be the bundle's leaf certificate or the policy's key.
pub(super) fn check_verifier(
    pem: &[u8],
    leaf_der: Option<&[u8]>,
    key: &PublicKey,
    what: &'static str,
) -> Result<(), TlogError> {
    // Fast path: the leaf in its strict PEM form (what clients send).
    if leaf_der.is_some_and(|leaf| is_strict_certificate_pem(pem, leaf)) {
        return Ok(());
    }
    let pem = std::str::from_utf8(pem).map_err(|_| TlogError::Body {
        reason: format!("{what} is not PEM"),
    })?;
    match leaf_der {
        Some(leaf) => {
            let (_, p) =
                x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| TlogError::Body {
                    reason: format!("{what} is not a PEM certificate: {e}"),
                })?;
            if p.label != "CERTIFICATE" || p.contents != leaf {
                return Err(TlogError::BodyMismatch { field: what });
            }
        }
        None => {
            let k = PublicKey::from_pem(pem).map_err(|e| TlogError::Body {
                reason: format!("{what} is not a PEM public key: {e}"),
            })?;
            if k.spki_der() != key.spki_der() {
                return Err(TlogError::BodyMismatch { field: what });
            }
        }
    }
    Ok(())
}

fn sha256_of(h: &signet_proto::rekor::HashValue, what: &'static str) -> Result<Vec<u8>, TlogError> {
    if h.algorithm != signet_proto::rekor::RekorHashAlgorithm::Sha256 {
        return Err(TlogError::Body {
            reason: format!("{what} is not sha256"),
        });
    }
    h.digest().map_err(|reason| TlogError::Body {
        reason: format!("{what}: {reason}"),
    })
}

/// Compares a Rekor v2 `hashedrekord` 0.0.2 body with the bundle, field by field (what
/// sigstore-python's `_validate_hashedrekord_v002_entry_body` and
/// `_validate_hashedrekord_v002_dsse_entry_body` compare):
/// * message signatures: `data` is the artifact's digest under the hash the body states
///   (`SHA2_256`, `SHA2_384` or `SHA2_512`, see [`message_hash`]), `signature.content` the
///   signature;
/// * DSSE envelopes (rekor-v2-spec §6.1.4): `data` is the digest of the PAE under the
///   signing algorithm's externalized hash (SHA2_256 for P-256, SHA2_384 for P-384; pure
///   Ed25519 has none and is rejected), `signature.content` the envelope's only signature;
/// * `signature.verifier` is the bundle's leaf certificate DER (or, keyed, the policy key's
///   SPKI) with the key's `keyDetails`.
pub(super) fn check_body_v002(
    body: &[u8],
    content: &Content,
    digests: &Digests,
    leaf_der: Option<&[u8]>,
    key: &PublicKey,
) -> Result<(), TlogError> {
    let h = rekor_v2::parse_hashedrekord_v002(body).map_err(body_error)?;
    let (algorithm, expected_digest, signature): (&str, Vec<u8>, &[u8]) = match content {
        Content::Message { signature, .. } => (
            digests.message.hash.protobuf_name(),
            digests.message.digest.clone(),
            signature,
        ),
        Content::Dsse { envelope } => {
            let [sig] = envelope.signatures.as_slice() else {
                return Err(TlogError::BodyMismatch {
                    field: "spec.hashedRekordV002.signature (the envelope needs one signature)",
                });
            };
            let (name, hash) = match key.algorithm() {
                KeyAlgorithm::EcdsaP256 | KeyAlgorithm::Rsa { .. } => {
                    ("SHA2_256", HashAlgorithm::Sha256)
                }
                KeyAlgorithm::EcdsaP384 => ("SHA2_384", HashAlgorithm::Sha384),
                other => {
                    return Err(TlogError::Kind {
                        kind: rekor_v2::KIND_HASHEDREKORD.to_owned(),
                        version: rekor_v2::API_VERSION_0_0_2.to_owned(),
                        reason: format!(
                            "{other} has no externalized hash for a DSSE hashedrekord entry"
                        ),
                    })
                }
            };
            (name, hash.hash(&envelope.pae()), sig.sig.as_slice())
        }
    };
    if h.data.algorithm != algorithm {
        return Err(TlogError::BodyMismatch {
            field: "spec.hashedRekordV002.data.algorithm",
        });
    }
    if h.data.digest_bytes().map_err(body_error)? != expected_digest {
        return Err(TlogError::BodyMismatch {
            field: "spec.hashedRekordV002.data.digest",
        });
    }
    if h.signature.content_bytes().map_err(body_error)? != signature {
        return Err(TlogError::BodyMismatch {
            field: "spec.hashedRekordV002.signature.content",
        });
    }
    let v = &h.signature.verifier;
    if v.key_details != rekor_v2::key_details(key.algorithm()) {
        return Err(TlogError::BodyMismatch {
            field: "spec.hashedRekordV002.signature.verifier.keyDetails",
        });
    }
    let matches = match (leaf_der, v.certificate_der(), v.public_key_der()) {
        (Some(leaf), Some(c), None) => c.map_err(body_error)? == leaf,
        (None, None, Some(k)) => k.map_err(body_error)? == key.spki_der(),
        _ => false,
    };
    if !matches {
        return Err(TlogError::BodyMismatch {
            field: "spec.hashedRekordV002.signature.verifier",
        });
    }
    Ok(())
}

/// The `{"apiVersion", "kind", "spec"}` wrapper of a Rekor v1 entry body.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Body<S> {
    api_version: String,
    kind: String,
    spec: S,
}

/// Parses a body of the expected kind straight into its `proto::rekor` spec type (the
/// same types `ProposedEntry::from_json` uses, without the intermediate JSON value).
fn parse_body<S: serde::de::DeserializeOwned>(
    body: &[u8],
    kind: &'static str,
) -> Result<S, TlogError> {
    parse_body_version(body, kind, signet_proto::rekor::API_VERSION_0_0_1)
}

/// As [`parse_body`], for a given `apiVersion`.
fn parse_body_version<S: serde::de::DeserializeOwned>(
    body: &[u8],
    kind: &'static str,
    version: &'static str,
) -> Result<S, TlogError> {
    let b: Body<S> = signet_proto::json::from_slice(body).map_err(|e| TlogError::Body {
        reason: format!("not a {kind} {version} body: {e}"),
    })?;
    if b.kind != kind || b.api_version != version {
        return Err(TlogError::Body {
            reason: format!(
                "body is {} {}, expected {kind} {version}",
                b.kind, b.api_version
            ),
        });
    }
    Ok(b.spec)
}

/// Compares a Rekor v1 `intoto` 0.0.2 body (the stored form: no payload) with the
/// bundle's DSSE envelope:
/// * `payloadHash` is SHA-256 of the envelope's payload (sigstore-js: "DSSE payload hash
///   mismatch"); a body that still carries `payload` must carry this payload;
/// * `payloadType` is the envelope's;
/// * exactly one signature on each side (sigstore-js: "signature count mismatch"), and the
///   body's `sig`, base64 of the base64 signature text, decodes to the envelope's
///   signature (sigstore-js: "tlog entry signature mismatch");
/// * its `publicKey` is the bundle's leaf certificate (or, keyed, the policy's key), which
///   sigstore-js does not compare but the dsse 0.0.1 check does.
///
/// The envelope `hash` is the submitting client's own digest of the envelope (no
/// canonical form exists); like sigstore-js it is only checked to be SHA-256 hex.
pub(super) fn check_body_intoto(
    body: &[u8],
    envelope: &signet_proto::bundle::DsseEnvelope,
    leaf_der: Option<&[u8]>,
    key: &PublicKey,
) -> Result<(), TlogError> {
    use signet_proto::rekor::{IntotoV002, API_VERSION_0_0_2, KIND_INTOTO};
    let spec: IntotoV002 = parse_body_version(body, KIND_INTOTO, API_VERSION_0_0_2)?;
    spec.validate().map_err(|e| TlogError::Body {
        reason: e.to_string(),
    })?;
    let c = &spec.content;
    let payload_hash = c.payload_hash.as_ref().ok_or_else(|| TlogError::Body {
        reason: "intoto body has no payloadHash".to_owned(),
    })?;
    if sha256_of(payload_hash, "spec.content.payloadHash")? != sha256(&envelope.payload) {
        return Err(TlogError::BodyMismatch {
            field: "spec.content.payloadHash",
        });
    }
    if c.envelope.payload.is_some() {
        let p = c.envelope.payload_bytes().map_err(|e| TlogError::Body {
            reason: e.to_string(),
        })?;
        if p != envelope.payload.as_slice() {
            return Err(TlogError::BodyMismatch {
                field: "spec.content.envelope.payload",
            });
        }
    }
    if c.envelope.payload_type != envelope.payload_type {
        return Err(TlogError::BodyMismatch {
            field: "spec.content.envelope.payloadType",
        });
    }
    let ([s], [env_sig]) = (
        c.envelope.signatures.as_slice(),
        envelope.signatures.as_slice(),
    ) else {
        return Err(TlogError::BodyMismatch {
            field: "spec.content.envelope.signatures (count)",
        });
    };
    let sig = s.signature_bytes().map_err(|e| TlogError::Body {
        reason: e.to_string(),
    })?;
    if sig != env_sig.sig.as_slice() {
        return Err(TlogError::BodyMismatch {
            field: "spec.content.envelope.signatures[0].sig",
        });
    }
    check_verifier(
        &s.public_key,
        leaf_der,
        key,
        "spec.content.envelope.signatures[0].publicKey",
    )
}

/// Compares the canonicalized entry body with the bundle (Rekor `hashedrekord` 0.0.1 and
/// `dsse` 0.0.1 schemas, typed by `proto::rekor`).
pub(super) fn check_body(
    body: &[u8],
    content: &Content,
    digest: &MessageDigest,
    leaf_der: Option<&[u8]>,
    key: &PublicKey,
) -> Result<(), TlogError> {
    use signet_proto::rekor::{DsseV001, HashedRekordV001, ProposedEntry};
    // Fast path: a keyless hashedrekord body byte-for-byte equal to the canonical body of
    // this bundle (what Rekor and Signet log for clients that write strict PEM) matches
    // every field by construction. Any other body is parsed and compared field by field.
    if let (Content::Message { signature, .. }, Some(leaf)) = (content, leaf_der) {
        if body == canonical_hashedrekord_body(digest, signature, leaf).as_slice() {
            return Ok(());
        }
    }
    let entry = match content {
        Content::Message { .. } => ProposedEntry::HashedRekordV001(parse_body::<HashedRekordV001>(
            body,
            signet_proto::rekor::KIND_HASHEDREKORD,
        )?),
        Content::Dsse { .. } => ProposedEntry::DsseV001(parse_body::<DsseV001>(
            body,
            signet_proto::rekor::KIND_DSSE,
        )?),
    };
    match (content, &entry) {
        (Content::Message { signature, .. }, ProposedEntry::HashedRekordV001(h)) => {
            // The hash the signature was checked with (see `message_hash`) is the body's.
            if h.data.hash.algorithm.hash_algorithm() != digest.hash {
                return Err(TlogError::BodyMismatch {
                    field: "spec.data.hash.algorithm",
                });
            }
            let logged = h.data.hash.digest().map_err(|reason| TlogError::Body {
                reason: format!("spec.data.hash: {reason}"),
            })?;
            if logged != digest.digest {
                return Err(TlogError::BodyMismatch {
                    field: "spec.data.hash (artifact digest)",
                });
            }
            if h.signature.content.as_slice() != signature.as_slice() {
                return Err(TlogError::BodyMismatch {
                    field: "spec.signature.content",
                });
            }
            check_verifier(
                &h.signature.public_key.content,
                leaf_der,
                key,
                "spec.signature.publicKey.content",
            )
        }
        (Content::Dsse { envelope }, ProposedEntry::DsseV001(DsseV001::Canonical(c))) => {
            if sha256_of(&c.payload_hash, "spec.payloadHash")? != sha256(&envelope.payload) {
                return Err(TlogError::BodyMismatch {
                    field: "spec.payloadHash",
                });
            }
            // The one canonical envelope form the log hashes (keyids kept).
            let env_hash =
                signet_proto::rekor::dsse_envelope_hash(envelope).map_err(|e| TlogError::Body {
                    reason: format!("envelope: {e}"),
                })?;
            let logged = sha256_of(&c.envelope_hash, "spec.envelopeHash")?;
            if logged != env_hash && logged != rekor_go_envelope_hash(envelope) {
                return Err(TlogError::BodyMismatch {
                    field: "spec.envelopeHash",
                });
            }
            let [s] = c.signatures.as_slice() else {
                return Err(TlogError::BodyMismatch {
                    field: "spec.signatures (count)",
                });
            };
            if envelope.signatures.len() != 1
                || s.signature.as_slice() != envelope.signatures[0].sig.as_slice()
            {
                return Err(TlogError::BodyMismatch {
                    field: "spec.signatures[0].signature",
                });
            }
            check_verifier(&s.verifier, leaf_der, key, "spec.signatures[0].verifier")
        }
        (_, e) => Err(TlogError::Body {
            reason: format!(
                "a {} {} body does not fit the bundle content",
                e.kind(),
                e.api_version()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{
        canonical_hashedrekord_body, check_body, check_body_intoto, check_body_v002,
        check_verifier, is_strict_certificate_pem,
    };
    use crate::bundle::{Content, MessageDigest};
    use crate::error::TlogError;
    use crate::verify::Digests;
    use base64::Engine as _;

    /// An `intoto` 0.0.2 body (stored form) for `envelope`'s first signature and `key_pem`, as
    /// the log writes it; `edit` changes the JSON first.
    fn intoto_body(
        envelope: &signet_proto::bundle::DsseEnvelope,
        key_pem: &str,
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> Vec<u8> {
        let b64 = &base64::engine::general_purpose::STANDARD;
        let mut v = serde_json::json!({
            "apiVersion": "0.0.2", "kind": "intoto",
            "spec": {"content": {
                "envelope": {"payloadType": envelope.payload_type, "signatures": [{
                    "publicKey": b64.encode(key_pem),
                    "sig": b64.encode(b64.encode(envelope.signatures[0].sig.as_slice())),
                }]},
                "hash": {"algorithm": "sha256", "value": "ab".repeat(32)},
                "payloadHash": {"algorithm": "sha256",
                    "value": hex::encode(crate::trust::sha256(&envelope.payload))},
            }}
        });
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    /// `intoto` 0.0.2 bodies are compared with the bundle's envelope as sigstore-js does
    /// (payload hash, one signature, double-base64 `sig`) plus payloadType and the key; each
    /// changed field is named.
    #[test]
    fn intoto_v002_bodies() {
        use crate::error::TlogError;
        use signet_proto::bundle::{Base64Bytes, DsseEnvelope, DsseSignature};
        let b64 = &base64::engine::general_purpose::STANDARD;
        let signer = signet_proto::keys::EcdsaSigner::generate(
            signet_proto::keys::EcdsaCurve::P256,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap();
        let key = signer.public_key().clone();
        let key_pem = key.to_pem();
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#.to_vec();
        let mut envelope = DsseEnvelope {
            payload: Base64Bytes(payload),
            payload_type: "application/vnd.in-toto+json".to_owned(),
            signatures: vec![],
        };
        envelope.signatures.push(DsseSignature {
            sig: Base64Bytes(signer.sign(&envelope.pae()).unwrap()),
            keyid: String::new(),
        });
        let check = |body: &[u8]| check_body_intoto(body, &envelope, None, &key);
        check(&intoto_body(&envelope, &key_pem, |_| {})).unwrap();
        // A body that still carries the (same) payload matches too.
        let with_payload = intoto_body(&envelope, &key_pem, |v| {
            v["spec"]["content"]["envelope"]["payload"] =
                b64.encode(b64.encode(envelope.payload.as_slice())).into();
        });
        check(&with_payload).unwrap();

        let other_key = fresh_p256_key().to_pem();
        let mismatches: Vec<(Vec<u8>, &str)> = vec![
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"]["payloadHash"]["value"] = "00".repeat(32).into();
                }),
                "spec.content.payloadHash",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"]["envelope"]["payload"] =
                        b64.encode(b64.encode(b"other")).into();
                }),
                "spec.content.envelope.payload",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"]["envelope"]["payloadType"] = "text/plain".into();
                }),
                "spec.content.envelope.payloadType",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    let mut sig = envelope.signatures[0].sig.to_vec();
                    sig[10] ^= 1;
                    v["spec"]["content"]["envelope"]["signatures"][0]["sig"] =
                        b64.encode(b64.encode(sig)).into();
                }),
                "spec.content.envelope.signatures[0].sig",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    let first = v["spec"]["content"]["envelope"]["signatures"][0].clone();
                    v["spec"]["content"]["envelope"]["signatures"]
                        .as_array_mut()
                        .unwrap()
                        .push(first);
                }),
                "spec.content.envelope.signatures (count)",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"]["envelope"]["signatures"][0]["publicKey"] =
                        b64.encode(&other_key).into();
                }),
                "spec.content.envelope.signatures[0].publicKey",
            ),
        ];
        for (body, field) in mismatches {
            match check(&body) {
                Err(TlogError::BodyMismatch { field: f }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        // An envelope with two signatures does not fit a one-signature body either.
        let mut two = envelope.clone();
        two.signatures.push(two.signatures[0].clone());
        assert!(matches!(
            check_body_intoto(&intoto_body(&envelope, &key_pem, |_| {}), &two, None, &key),
            Err(TlogError::BodyMismatch {
                field: "spec.content.envelope.signatures (count)"
            })
        ));

        let malformed: Vec<(Vec<u8>, &str)> = vec![
            (
                intoto_body(&envelope, &key_pem, |v| v["apiVersion"] = "0.0.1".into()),
                "expected intoto 0.0.2",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| v["kind"] = "dsse".into()),
                "expected intoto 0.0.2",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    // The signature base64 once: not base64 of the base64 text.
                    v["spec"]["content"]["envelope"]["signatures"][0]["sig"] =
                        b64.encode(envelope.signatures[0].sig.as_slice()).into();
                }),
                "base64 of the base64 signature text",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"].as_object_mut().unwrap().remove("hash");
                }),
                "missing content.hash",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"]
                        .as_object_mut()
                        .unwrap()
                        .remove("payloadHash");
                }),
                "missing content.payloadHash",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| v["spec"]["extra"] = 1.into()),
                "unknown field",
            ),
        ];
        for (body, want) in malformed {
            match check(&body) {
                Err(TlogError::Body { reason }) => {
                    assert!(reason.contains(want), "{reason:?} lacks {want:?}");
                }
                other => panic!("{want}: {other:?}"),
            }
        }
    }

    /// The public half of a new ECDSA P-256 key.
    fn fresh_p256_key() -> signet_proto::keys::PublicKey {
        signet_proto::keys::EcdsaSigner::generate(
            signet_proto::keys::EcdsaCurve::P256,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap()
        .public_key()
        .clone()
    }

    /// PEM text of `der` with the given line width and line end.
    fn pem_of(der: &[u8], width: usize, eol: &str) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut s = format!("-----BEGIN CERTIFICATE-----{eol}");
        for line in b64.as_bytes().chunks(width) {
            s.push_str(std::str::from_utf8(line).unwrap());
            s.push_str(eol);
        }
        s.push_str(&format!("-----END CERTIFICATE-----{eol}"));
        s
    }

    /// The strict-PEM fast path accepts exactly what the PEM parser decodes to the same DER in
    /// the strict layout, and nothing else; other layouts still pass through the parser.
    #[test]
    fn strict_certificate_pem_fast_path() {
        let key = fresh_p256_key();
        // Lengths around the 48-byte line boundary, including a partial last line.
        for len in [1usize, 47, 48, 49, 96, 700, 701, 702] {
            let der: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
            let strict = pem_of(&der, 64, "\n");
            let (_, parsed) = x509_parser::pem::parse_x509_pem(strict.as_bytes()).unwrap();
            assert_eq!(parsed.contents, der);
            assert!(is_strict_certificate_pem(strict.as_bytes(), &der));
            assert!(is_strict_certificate_pem(
                strict.trim_end_matches('\n').as_bytes(),
                &der
            ));
            check_verifier(strict.as_bytes(), Some(&der), &key, "test").unwrap();

            let mut other = der.clone();
            other[len / 2] ^= 1;
            assert!(!is_strict_certificate_pem(strict.as_bytes(), &other));
            assert!(check_verifier(strict.as_bytes(), Some(&other), &key, "test").is_err());
            let mut longer = der.clone();
            longer.push(0);
            assert!(!is_strict_certificate_pem(strict.as_bytes(), &longer));
            assert!(!is_strict_certificate_pem(
                strict.as_bytes(),
                &der[..len - 1]
            ));
            assert!(!is_strict_certificate_pem(
                format!("{strict}trailing").as_bytes(),
                &der
            ));

            // Other layouts are not strict but the parser accepts them.
            for (width, eol) in [(64, "\r\n"), (76, "\n")] {
                let loose = pem_of(&der, width, eol);
                if loose != strict {
                    assert!(!is_strict_certificate_pem(loose.as_bytes(), &der));
                }
                check_verifier(loose.as_bytes(), Some(&der), &key, "test").unwrap();
            }
            let key_pem = strict.replace("CERTIFICATE", "PUBLIC KEY");
            assert!(!is_strict_certificate_pem(key_pem.as_bytes(), &der));
            assert!(check_verifier(key_pem.as_bytes(), Some(&der), &key, "test").is_err());
        }
    }

    /// The keyless hashedrekord fast path writes exactly `proto::rekor`'s canonical body (for
    /// each hash a body may state), and bodies in other forms still pass through the typed
    /// comparison.
    #[test]
    fn canonical_hashedrekord_body_matches_proto() {
        use signet_proto::keys::HashAlgorithm;
        use signet_proto::rekor::{HashedRekordV001, ProposedEntry, RekorHashAlgorithm};
        let key = fresh_p256_key();
        let hashes = [
            (HashAlgorithm::Sha256, RekorHashAlgorithm::Sha256),
            (HashAlgorithm::Sha384, RekorHashAlgorithm::Sha384),
            (HashAlgorithm::Sha512, RekorHashAlgorithm::Sha512),
        ];
        for (hash, rekor_hash) in hashes {
            for (len, sig_len) in [(1usize, 1usize), (48, 70), (700, 71), (701, 72), (702, 104)] {
                let der: Vec<u8> = (0..len).map(|i| u8::try_from(i % 253).unwrap()).collect();
                let sig: Vec<u8> = (0..sig_len).map(|i| u8::try_from(i % 7).unwrap()).collect();
                let digest = MessageDigest {
                    hash,
                    digest: vec![0xa5u8; hash.output_len()],
                };
                let fast = canonical_hashedrekord_body(&digest, &sig, &der);
                let pem = pem_of(&der, 64, "\n").into_bytes();
                let canonical = ProposedEntry::HashedRekordV001(HashedRekordV001::with_digest(
                    rekor_hash,
                    &digest.digest,
                    sig.clone(),
                    pem,
                ))
                .canonical_bytes()
                .unwrap();
                assert_eq!(
                    String::from_utf8(fast.clone()).unwrap(),
                    String::from_utf8(canonical).unwrap()
                );

                let content = Content::Message {
                    digest: Some(digest.clone()),
                    signature: sig.clone(),
                };
                check_body(&fast, &content, &digest, Some(&der), &key).unwrap();
                // The same body, not canonical (pretty-printed): parsed, still accepted.
                let v: serde_json::Value = signet_proto::json::from_slice(&fast).unwrap();
                let pretty = serde_json::to_vec_pretty(&v).unwrap();
                check_body(&pretty, &content, &digest, Some(&der), &key).unwrap();
                // Another digest, signature or certificate: rejected on both paths.
                let other_digest = MessageDigest {
                    hash,
                    digest: vec![0x5au8; hash.output_len()],
                };
                assert!(check_body(&fast, &content, &other_digest, Some(&der), &key).is_err());
                let mut other_der = der.clone();
                other_der[0] ^= 1;
                assert!(check_body(&fast, &content, &digest, Some(&other_der), &key).is_err());
                assert!(check_body(&pretty, &content, &digest, Some(&other_der), &key).is_err());
                let other_sig = Content::Message {
                    digest: Some(digest.clone()),
                    signature: vec![9; sig_len],
                };
                assert!(check_body(&fast, &other_sig, &digest, Some(&der), &key).is_err());
                // The same bytes under another hash: the algorithm differs.
                for other in [
                    HashAlgorithm::Sha256,
                    HashAlgorithm::Sha384,
                    HashAlgorithm::Sha512,
                ] {
                    if other == hash {
                        continue;
                    }
                    let relabelled = MessageDigest {
                        hash: other,
                        digest: digest.digest.clone(),
                    };
                    assert!(matches!(
                        check_body(&pretty, &content, &relabelled, Some(&der), &key),
                        Err(TlogError::BodyMismatch {
                            field: "spec.data.hash.algorithm"
                        })
                    ));
                }
            }
        }
    }

    /// Rekor v2 `hashedrekord` 0.0.2 bodies for message signatures, in certificate and keyed
    /// mode: every field is compared, unknown fields and other kinds are rejected.
    #[test]
    fn hashedrekord_v002_message_bodies() {
        use crate::error::TlogError;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let key = fresh_p256_key();
        let digest = [0x11u8; 32];
        let sig = vec![0x30, 0x06, 1, 2, 3, 4, 5, 6];
        let leaf = vec![0x30, 0x03, 1, 2, 3];
        let content = Content::Message {
            digest: Some(MessageDigest::sha256(&digest)),
            signature: sig.clone(),
        };
        let body = |verifier: serde_json::Value| {
            serde_json::to_vec(&serde_json::json!({
                "apiVersion": "0.0.2",
                "kind": "hashedrekord",
                "spec": {"hashedRekordV002": {
                    "data": {"algorithm": "SHA2_256", "digest": b64(&digest)},
                    "signature": {"content": b64(&sig), "verifier": verifier}
                }}
            }))
            .unwrap()
        };
        let cert_verifier = serde_json::json!({
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "x509Certificate": {"rawBytes": b64(&leaf)}
        });
        let key_verifier = serde_json::json!({
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "publicKey": {"rawBytes": b64(key.spki_der())}
        });
        check_body_v002(
            &body(cert_verifier.clone()),
            &content,
            &Digests::sha256(digest),
            Some(&leaf),
            &key,
        )
        .unwrap();
        check_body_v002(
            &body(key_verifier.clone()),
            &content,
            &Digests::sha256(digest),
            None,
            &key,
        )
        .unwrap();

        let mismatch = |r: Result<(), TlogError>| match r {
            Err(TlogError::BodyMismatch { field }) => field,
            other => panic!("{other:?}"),
        };
        // Another digest, signature, certificate, key or key details.
        assert_eq!(
            mismatch(check_body_v002(
                &body(cert_verifier.clone()),
                &content,
                &Digests::sha256([0x22; 32]),
                Some(&leaf),
                &key
            )),
            "spec.hashedRekordV002.data.digest"
        );
        let other_sig = Content::Message {
            digest: Some(MessageDigest::sha256(&digest)),
            signature: vec![0x30, 0x00],
        };
        assert_eq!(
            mismatch(check_body_v002(
                &body(cert_verifier.clone()),
                &other_sig,
                &Digests::sha256(digest),
                Some(&leaf),
                &key
            )),
            "spec.hashedRekordV002.signature.content"
        );
        assert_eq!(
            mismatch(check_body_v002(
                &body(cert_verifier.clone()),
                &content,
                &Digests::sha256(digest),
                Some(&[0x30, 0x00]),
                &key
            )),
            "spec.hashedRekordV002.signature.verifier"
        );
        // A certificate body does not satisfy keyed mode, nor a key body certificate mode.
        assert!(check_body_v002(
            &body(cert_verifier),
            &content,
            &Digests::sha256(digest),
            None,
            &key
        )
        .is_err());
        assert!(check_body_v002(
            &body(key_verifier),
            &content,
            &Digests::sha256(digest),
            Some(&leaf),
            &key
        )
        .is_err());
        let p384 = serde_json::json!({
            "keyDetails": "PKIX_ECDSA_P384_SHA_384",
            "x509Certificate": {"rawBytes": b64(&leaf)}
        });
        assert_eq!(
            mismatch(check_body_v002(
                &body(p384),
                &content,
                &Digests::sha256(digest),
                Some(&leaf),
                &key
            )),
            "spec.hashedRekordV002.signature.verifier.keyDetails"
        );
        // Unknown fields, a dsseV002 spec and another version are not hashedrekord 0.0.2.
        let mut v: serde_json::Value = signet_proto::json::from_slice(&body(serde_json::json!({
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "x509Certificate": {"rawBytes": b64(&leaf)}
        })))
        .unwrap();
        v["spec"]["hashedRekordV002"]["extra"] = serde_json::json!(1);
        let extra = serde_json::to_vec(&v).unwrap();
        assert!(matches!(
            check_body_v002(
                &extra,
                &content,
                &Digests::sha256(digest),
                Some(&leaf),
                &key
            ),
            Err(TlogError::Body { .. })
        ));
        let dsse = serde_json::to_vec(&serde_json::json!({
            "apiVersion": "0.0.2", "kind": "dsse", "spec": {"dsseV002": {}}
        }))
        .unwrap();
        assert!(matches!(
            check_body_v002(&dsse, &content, &Digests::sha256(digest), Some(&leaf), &key),
            Err(TlogError::Body { .. })
        ));
        v["spec"]["hashedRekordV002"]
            .as_object_mut()
            .unwrap()
            .remove("extra");
        v["apiVersion"] = serde_json::json!("0.0.1");
        assert!(matches!(
            check_body_v002(
                &serde_json::to_vec(&v).unwrap(),
                &content,
                &Digests::sha256(digest),
                Some(&leaf),
                &key
            ),
            Err(TlogError::Body { .. })
        ));
    }
}
