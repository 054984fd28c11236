//! What a log monitor sees in one entry: its kind, every signer's identity and time, and the
//! artifact digest, read from the entry's canonical Rekor body (as a tlog-tiles entry bundle holds
//! it, from a log that may be malicious).
//!
//! Sources: sigstore/rekor `pkg/types/hashedrekord/v0.0.1`, `pkg/types/dsse/v0.0.1` and
//! `pkg/types/intoto/v0.0.2` (modelled in [`crate::rekor`]; the stored and the proposed forms
//! are both read); the Signet
//! log's own `precert` 0.0.1 kind
//! (`{"apiVersion":"0.0.1","kind":"precert","spec":{"chain":["<b64 DER>",...]}}`, see
//! `docs/ARCHITECTURE.md` and `signet_log::entries`), which records every certificate the CA
//! issues; the Fulcio certificate profile for the identity ([`crate::cert::Identity`]: first SAN
//! and OIDC issuer extension).
//!
//! An entry has one signer per signature it records: every one is read, in the order of the
//! body, and reported in [`ObservedEntry::signers`] (a monitor rule that looked at the first
//! signer only would miss a watched key placed second, or sorted second by the log).
//!
//! Fields by kind:
//!
//! | kind | `signers` (`san` / `issuer` / `time` / `key_id` each) | `digest` |
//! |---|---|---|
//! | hashedrekord, certificate | one: from the certificate, cert notBefore | `data.hash` |
//! | hashedrekord, public key | one: SHA-256(SPKI) only | `data.hash` |
//! | dsse (stored form) | one per `signatures[]` entry, from its `verifier` | `payloadHash` |
//! | dsse (proposed form) | one per `verifiers[]` entry | SHA-256 of the payload |
//! | intoto 0.0.2 | one per envelope signature, from its `publicKey` | `payloadHash` (proposed form without it: SHA-256 of the payload) |
//! | precert | one: the precertificate (`chain[0]`; the rest of the chain are CAs) | none |
//! | hashedrekord 0.0.2 (Rekor v2, rekor-tiles) | one: `signature.verifier` (`x509Certificate` or `publicKey`, DER) | `data.digest` (`SHA2_256` as `sha256:`) |
//!
//! A signer is a certificate (`san`, `issuer`, `time` = notBefore, no `key_id`) or a public key
//! (`key_id` = lowercase hex SHA-256 of the SPKI DER, nothing else).
//!
//! The time: C2SP tlog-tiles entry bundles carry only the entry bodies, not Rekor's
//! `integratedTime`, so the only time an entry holds is its certificate's notBefore. For
//! Fulcio-style short-lived certificates (10 minutes) that is the signing time within minutes.
//! Keyed signers carry no time at all (`time` is `None`); a caller that wants time-based rules
//! to cover them may fill in its own observation time.
//!
//! What this module does not do: verify signatures, certificate chains, validity periods or
//! SCTs (the log checked signatures when it accepted the entry), or look inside DSSE payloads
//! (the stored dsse form keeps only the payload's hash, so `digest` is the hash of the in-toto
//! statement, not of its subjects). Signers are not deduplicated: the same certificate or key
//! under two signatures is reported twice (callers that count entries per identity dedupe).
//! A key or certificate that does not parse, in any position, makes the whole entry an error.
//! No I/O and no clock.
//!
//! intoto 0.0.2 entries are reported as `EntryKind::Other("intoto")` with the signers and
//! digest filled in (see [`EntryKind::Other`]), so that a rule watching an identity sees them;
//! a dedicated variant would break exhaustive matches of downstream crates.

use crate::bundle::Base64Bytes;
use crate::cert::{CertError, Identity};
use crate::rekor::{
    DsseV001, HashValue, ProposedEntry, RekorError, RekorHashAlgorithm, API_VERSION_0_0_1,
    API_VERSION_0_0_2, KIND_DSSE, KIND_HASHEDREKORD, KIND_INTOTO,
};
use aws_lc_rs::digest::{digest, SHA256};
use serde_json::Value;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

/// `kind` of the log's recorded precertificates.
pub const KIND_PRECERT: &str = "precert";

/// The canonical (RFC 8785) body of a `precert` 0.0.1 entry for `chain` (the precertificate
/// first, DER): `{"apiVersion":"0.0.1","kind":"precert","spec":{"chain":["<b64 DER>",...]}}`.
/// The one definition of the format: the log writes it, [`observe`] reads it.
#[must_use]
pub fn precert_body<C: AsRef<[u8]>>(chain: &[C]) -> Vec<u8> {
    let chain: Vec<String> = chain
        .iter()
        .map(|c| Base64Bytes(c.as_ref().to_vec()).encode())
        .collect();
    // Only strings, in a fixed shape: RFC 8785 cannot fail here, and the keys are in order.
    let mut out = String::from(r#"{"apiVersion":"0.0.1","kind":"precert","spec":{"chain":["#);
    for (i, c) in chain.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(c);
        out.push('"');
    }
    out.push_str("]}}");
    out.into_bytes()
}

/// The kind of a log entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// hashedrekord 0.0.1: a signature over an artifact digest.
    HashedRekord,
    /// dsse 0.0.1: a signed DSSE envelope (attestation).
    Dsse,
    /// precert 0.0.1: a certificate issued by the CA.
    Precert,
    /// Any other kind or version, as `"<kind>"` for an unknown kind or `"<kind> <apiVersion>"`
    /// for a known kind at an unknown version. Nothing else is read from it, except for
    /// `"intoto"` (intoto 0.0.2): its signers and digest are read like a dsse entry's.
    Other(String),
}

impl EntryKind {
    /// The name used in alerts: `hashedrekord`, `dsse`, `precert` or the `Other` text.
    pub fn name(&self) -> &str {
        match self {
            Self::HashedRekord => KIND_HASHEDREKORD,
            Self::Dsse => KIND_DSSE,
            Self::Precert => KIND_PRECERT,
            Self::Other(s) => s,
        }
    }
}

/// One signer of an entry: a certificate's identity or a public key (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedSigner {
    /// The certificate's first SAN value; `None` for a public key (or a certificate without
    /// SAN).
    pub san: Option<String>,
    /// The OIDC issuer from the certificate's Fulcio extension (.1.8, else .1.1).
    pub issuer: Option<String>,
    /// Unix seconds: the certificate's notBefore. Entry bundles carry no integratedTime, and
    /// public keys have no time (`None`).
    pub time: Option<i64>,
    /// Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER, for a public key only.
    pub key_id: Option<String>,
    /// Unix seconds: the certificate's notAfter (`None` for a public key).
    pub not_after: Option<i64>,
    /// The certificate's Fulcio extensions by dotted OID, decoded (empty for a public key).
    pub extensions: std::collections::BTreeMap<String, String>,
    /// The certificate (DER), for a certificate signer.
    pub certificate: Option<Vec<u8>>,
}

impl ObservedSigner {
    /// Whether this signer is a certificate (even one without SAN or issuer), not a key.
    #[must_use]
    pub fn has_certificate(&self) -> bool {
        self.key_id.is_none()
    }
}

/// What the monitor rules look at in one entry (see the module docs for each field by kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedEntry {
    /// Index of the entry in the log.
    pub index: u64,
    /// The entry kind.
    pub kind: EntryKind,
    /// `"<algorithm>:<hex>"` (normally `sha256:`): the hashedrekord data hash or the dsse
    /// payloadHash; `None` for precert.
    pub digest: Option<String>,
    /// Every signer of the entry, in the order of the body: at least one for a known kind
    /// (hashedrekord, dsse, precert, intoto), none for [`EntryKind::Other`] kinds.
    pub signers: Vec<ObservedSigner>,
}

/// Why an entry body could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The body is not a JSON object.
    #[error("entry {index}: body is not JSON: {source}")]
    Json {
        /// Log index.
        index: u64,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
    /// A top-level field is missing or not a string / object.
    #[error("entry {index}: field {field:?} is missing or has the wrong type")]
    MissingField {
        /// Log index.
        index: u64,
        /// The field.
        field: &'static str,
    },
    /// The spec does not match the kind's schema.
    #[error("entry {index}: {kind} spec does not parse: {reason}")]
    Spec {
        /// Log index.
        index: u64,
        /// The entry kind.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A key or certificate is not PEM, or a PEM block of another type.
    #[error("entry {index}: {kind} {field} is not a PEM certificate or public key: {reason}")]
    Pem {
        /// Log index.
        index: u64,
        /// The entry kind.
        kind: &'static str,
        /// The JSON field holding it, e.g. `signatures[1].verifier`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A certificate does not parse or has a malformed Fulcio extension.
    #[error("entry {index}: {kind} {field} certificate: {source}")]
    Certificate {
        /// Log index.
        index: u64,
        /// The entry kind.
        kind: &'static str,
        /// The JSON field holding it, e.g. `signatures[1].verifier`.
        field: String,
        /// The parse error.
        #[source]
        source: CertError,
    },
}

/// Reads an entry's canonical body.
///
/// Unknown kinds (and known kinds at an unknown `apiVersion`) are not errors: they come back as
/// [`EntryKind::Other`] with every other field `None`.
///
/// # Errors
/// [`EntryError`] naming the part that does not parse: the JSON, a top-level field, the spec,
/// a PEM block or a certificate.
pub fn observe(index: u64, body: &[u8]) -> Result<ObservedEntry, EntryError> {
    let value: Value =
        crate::json::from_slice(body).map_err(|source| EntryError::Json { index, source })?;
    let Value::Object(map) = &value else {
        return Err(EntryError::MissingField {
            index,
            field: "kind",
        });
    };
    let field = |name: &'static str| match map.get(name) {
        Some(Value::String(s)) => Ok(s.as_str()),
        _ => Err(EntryError::MissingField { index, field: name }),
    };
    let kind = field("kind")?;
    let api_version = field("apiVersion")?;
    let mut out = ObservedEntry {
        index,
        kind: EntryKind::Other(kind.to_owned()),
        digest: None,
        signers: Vec::new(),
    };
    let known = [KIND_HASHEDREKORD, KIND_DSSE, KIND_PRECERT, KIND_INTOTO];
    if !known.contains(&kind) {
        return Ok(out);
    }
    let supported_version = if kind == KIND_INTOTO {
        API_VERSION_0_0_2
    } else {
        API_VERSION_0_0_1
    };
    if kind == KIND_HASHEDREKORD && api_version == API_VERSION_0_0_2 {
        observe_hashedrekord_v002(index, body, &mut out)?;
        return Ok(out);
    }
    if api_version != supported_version {
        out.kind = EntryKind::Other(format!("{kind} {api_version}"));
        return Ok(out);
    }
    if kind == KIND_PRECERT {
        out.kind = EntryKind::Precert;
        out.signers.push(observe_precert(index, map.get("spec"))?);
        return Ok(out);
    }
    let spec_err = |kind: &'static str, e: RekorError| EntryError::Spec {
        index,
        kind,
        reason: e.to_string(),
    };
    let no_signatures = |kind: &'static str| EntryError::Spec {
        index,
        kind,
        reason: "no signatures".into(),
    };
    let parsed = ProposedEntry::from_value(value.clone()).map_err(|e| {
        spec_err(
            if kind == KIND_DSSE {
                KIND_DSSE
            } else if kind == KIND_INTOTO {
                KIND_INTOTO
            } else {
                KIND_HASHEDREKORD
            },
            e,
        )
    })?;
    match parsed {
        ProposedEntry::HashedRekordV001(h) => {
            out.kind = EntryKind::HashedRekord;
            out.digest = Some(digest_string(&h.data.hash));
            out.signers.push(read_signer(
                index,
                KIND_HASHEDREKORD,
                || "signature.publicKey.content".to_owned(),
                &h.signature.public_key.content,
            )?);
        }
        ProposedEntry::DsseV001(d) => {
            out.kind = EntryKind::Dsse;
            match &d {
                DsseV001::Canonical(c) => {
                    out.digest = Some(digest_string(&c.payload_hash));
                    for (i, s) in c.signatures.iter().enumerate() {
                        out.signers.push(read_signer(
                            index,
                            KIND_DSSE,
                            || format!("signatures[{i}].verifier"),
                            &s.verifier,
                        )?);
                    }
                }
                DsseV001::Proposed(p) => {
                    let env = p.parse_envelope().map_err(|e| spec_err(KIND_DSSE, e))?;
                    out.digest = Some(format!(
                        "sha256:{}",
                        hex::encode(digest(&SHA256, &env.payload))
                    ));
                    for (i, v) in p.verifiers.iter().enumerate() {
                        out.signers.push(read_signer(
                            index,
                            KIND_DSSE,
                            || format!("proposedContent.verifiers[{i}]"),
                            v,
                        )?);
                    }
                }
            }
            if out.signers.is_empty() {
                return Err(no_signatures(KIND_DSSE));
            }
        }
        ProposedEntry::IntotoV002(i) => {
            let c = &i.content;
            out.digest = Some(match (&c.payload_hash, &c.envelope.payload) {
                (Some(h), _) => digest_string(h),
                (None, Some(_)) => {
                    let payload = c
                        .envelope
                        .payload_bytes()
                        .map_err(|e| spec_err(KIND_INTOTO, e))?;
                    format!("sha256:{}", hex::encode(digest(&SHA256, &payload)))
                }
                (None, None) => {
                    return Err(EntryError::Spec {
                        index,
                        kind: KIND_INTOTO,
                        reason: "neither payloadHash nor payload".into(),
                    })
                }
            });
            for (i, s) in c.envelope.signatures.iter().enumerate() {
                out.signers.push(read_signer(
                    index,
                    KIND_INTOTO,
                    || format!("envelope.signatures[{i}].publicKey"),
                    &s.public_key,
                )?);
            }
            if out.signers.is_empty() {
                return Err(no_signatures(KIND_INTOTO));
            }
        }
    }
    Ok(out)
}

/// `"<algorithm>:<hex>"`, the hex lowercased.
fn digest_string(h: &HashValue) -> String {
    let alg = match h.algorithm {
        RekorHashAlgorithm::Sha384 => "sha384",
        RekorHashAlgorithm::Sha512 => "sha512",
        _ => "sha256",
    };
    format!("{alg}:{}", h.value.to_ascii_lowercase())
}

/// A Rekor v2 (rekor-tiles) `hashedrekord` 0.0.2 body: one signer, from
/// `signature.verifier` (`x509Certificate` or `publicKey`, DER), and the digest of `data`.
fn observe_hashedrekord_v002(
    index: u64,
    body: &[u8],
    out: &mut ObservedEntry,
) -> Result<(), EntryError> {
    const KIND: &str = "hashedrekord 0.0.2";
    let spec_err = |reason: String| EntryError::Spec {
        index,
        kind: KIND,
        reason,
    };
    let h = crate::rekor_v2::parse_hashedrekord_v002(body).map_err(|e| spec_err(e.to_string()))?;
    let alg = match h.data.algorithm.as_str() {
        "SHA2_256" => "sha256",
        "SHA2_384" => "sha384",
        "SHA2_512" => "sha512",
        other => return Err(spec_err(format!("unknown data.algorithm {other:?}"))),
    };
    let digest_bytes = h.data.digest_bytes().map_err(|e| spec_err(e.to_string()))?;
    out.kind = EntryKind::HashedRekord;
    out.digest = Some(format!("{alg}:{}", hex::encode(digest_bytes)));
    let verifier = &h.signature.verifier;
    let signer = match (verifier.certificate_der(), verifier.public_key_der()) {
        (Some(cert), None) => cert_signer(
            index,
            KIND,
            &|| "signature.verifier.x509Certificate".to_owned(),
            &cert.map_err(|e| spec_err(e.to_string()))?,
        )?,
        (None, Some(key)) => ObservedSigner {
            key_id: Some(hex::encode(digest(
                &SHA256,
                &key.map_err(|e| spec_err(e.to_string()))?,
            ))),
            ..ObservedSigner::default()
        },
        _ => {
            return Err(spec_err(
                "signature.verifier holds not exactly one of x509Certificate and publicKey"
                    .to_owned(),
            ))
        }
    };
    out.signers.push(signer);
    Ok(())
}

/// `spec` of a precert entry.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PrecertSpec {
    chain: Vec<Base64Bytes>,
}

fn observe_precert(index: u64, spec: Option<&Value>) -> Result<ObservedSigner, EntryError> {
    let spec = spec.ok_or(EntryError::MissingField {
        index,
        field: "spec",
    })?;
    let spec: PrecertSpec = serde_json::from_value(spec.clone()).map_err(|e| EntryError::Spec {
        index,
        kind: KIND_PRECERT,
        reason: e.to_string(),
    })?;
    let first = spec.chain.first().ok_or_else(|| EntryError::Spec {
        index,
        kind: KIND_PRECERT,
        reason: "empty chain".into(),
    })?;
    cert_signer(index, KIND_PRECERT, &|| "chain[0]".to_owned(), first)
}

/// Reads a PEM `CERTIFICATE` or `PUBLIC KEY` (the bytes carried, base64, in the entry);
/// `field` names where it is, for errors.
fn read_signer(
    index: u64,
    kind: &'static str,
    field: impl Fn() -> String,
    pem_bytes: &[u8],
) -> Result<ObservedSigner, EntryError> {
    let pem_err = |reason: String| EntryError::Pem {
        index,
        kind,
        field: field(),
        reason,
    };
    let block = pem::parse(pem_bytes).map_err(|e| pem_err(e.to_string()))?;
    match block.tag() {
        "CERTIFICATE" => cert_signer(index, kind, &field, block.contents()),
        "PUBLIC KEY" => Ok(ObservedSigner {
            key_id: Some(hex::encode(digest(&SHA256, block.contents()))),
            ..ObservedSigner::default()
        }),
        other => Err(pem_err(format!("PEM block is {other:?}"))),
    }
}

fn cert_signer(
    index: u64,
    kind: &'static str,
    field: &dyn Fn() -> String,
    der: &[u8],
) -> Result<ObservedSigner, EntryError> {
    let cert_err = |source: CertError| EntryError::Certificate {
        index,
        kind,
        field: field(),
        source,
    };
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| {
        cert_err(CertError::Parse {
            reason: e.to_string(),
        })
    })?;
    if !rest.is_empty() {
        return Err(cert_err(CertError::Parse {
            reason: format!("{} trailing bytes", rest.len()),
        }));
    }
    let identity = Identity::from_certificate(&cert).map_err(cert_err)?;
    Ok(ObservedSigner {
        san: identity.san().map(str::to_owned),
        issuer: identity.issuer,
        time: Some(cert.validity().not_before.timestamp()),
        key_id: None,
        not_after: Some(cert.validity().not_after.timestamp()),
        extensions: identity.extensions,
        certificate: Some(der.to_vec()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rekor::HashedRekordV001;

    /// The one signer of `e`.
    fn only(e: &ObservedEntry) -> &ObservedSigner {
        assert_eq!(e.signers.len(), 1, "{e:?}");
        &e.signers[0]
    }

    /// Fulcio-profile leaves and entry bodies from `testdata/sigstore` (identity
    /// alice@example.com, issuer http://127.0.0.1:8080/default).
    const HASHEDREKORD_BODY: &[u8] =
        include_bytes!("../../testdata/sigstore/fake-hashedrekord/canonicalized_body.json");
    const HASHEDREKORD_ARTIFACT: &[u8] =
        include_bytes!("../../testdata/sigstore/fake-hashedrekord/artifact.txt");
    const DSSE_BODY: &[u8] =
        include_bytes!("../../testdata/sigstore/fake-dsse/canonicalized_body.json");
    /// Its first certificate is a CA certificate: no SAN, no Fulcio extension.
    const CA_CHAIN_PEM: &[u8] =
        include_bytes!("../../testdata/sigstore/fake-hashedrekord/ca_chain.pem");
    /// Upstream Rekor's proposed entries: a keyed hashedrekord and a proposed dsse.
    const REKOR_HASHEDREKORD: &[u8] =
        include_bytes!("../../testdata/sigstore/rekor/hashedrekord_proposed.json");
    const REKOR_DSSE: &[u8] = include_bytes!("../../testdata/sigstore/rekor/dsse_proposed.json");
    /// `{"chain":["<b64 precertificate>"]}`: an OpenSSL precertificate with a critical poison
    /// extension, SAN alice@example.com and a .1.1 issuer extension.
    const PRECERT_CHAIN: &[u8] = include_bytes!("../../fuzz/corpus/ct_chain/precert-only");

    const ISSUER: &str = "http://127.0.0.1:8080/default";
    // notBefore values, as `openssl x509 -noout -startdate` prints them.
    /// Nov 28 12:27:58 2026 GMT.
    const HASHEDREKORD_NOT_BEFORE: i64 = 1_795_868_878;
    /// Nov 28 12:27:59 2026 GMT.
    const DSSE_NOT_BEFORE: i64 = 1_795_868_879;
    /// Nov 28 21:27:19 2026 GMT.
    const PRECERT_NOT_BEFORE: i64 = 1_795_901_239;
    /// Nov 27 12:28:03 2026 GMT.
    const CA_NOT_BEFORE: i64 = 1_795_782_483;

    fn ca_der() -> Vec<u8> {
        pem::parse_many(CA_CHAIN_PEM).unwrap()[0]
            .contents()
            .to_vec()
    }

    fn cert_pem(der: &[u8]) -> Vec<u8> {
        pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec())).into_bytes()
    }

    fn hashedrekord(digest: [u8; 32], verifier_pem: Vec<u8>) -> Vec<u8> {
        ProposedEntry::HashedRekordV001(HashedRekordV001::new(
            &digest,
            vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
            verifier_pem,
        ))
        .canonical_bytes()
        .unwrap()
    }

    /// The stored-form dsse body of `DSSE_BODY` with its verifier replaced.
    fn dsse(verifier_pem: &[u8]) -> Vec<u8> {
        let mut v: Value = crate::json::from_slice(DSSE_BODY).unwrap();
        v["spec"]["signatures"][0]["verifier"] =
            Value::String(Base64Bytes(verifier_pem.to_vec()).encode());
        crate::jcs::to_vec(&v).unwrap()
    }

    fn precert(chain: &[&[u8]]) -> Vec<u8> {
        super::precert_body(chain)
    }

    #[test]
    fn precert_body_is_canonical() {
        let chain: [&[u8]; 2] = [b"pre", b"issuer"];
        let body = super::precert_body(&chain);
        let v: Value = crate::json::from_slice(&body).unwrap();
        assert_eq!(crate::jcs::to_vec(&v).unwrap(), body);
        assert_eq!(v["kind"], "precert");
        assert_eq!(v["spec"]["chain"][1], "aXNzdWVy");
    }

    fn precert_der() -> Vec<u8> {
        let v: Value = crate::json::from_slice(PRECERT_CHAIN).unwrap();
        let b64: Base64Bytes = serde_json::from_value(v["chain"][0].clone()).unwrap();
        b64.0
    }

    fn sha256_hex(data: &[u8]) -> String {
        hex::encode(digest(&SHA256, data))
    }

    #[test]
    fn hashedrekord_with_certificate() {
        let e = observe(7, HASHEDREKORD_BODY).unwrap();
        assert_eq!(e.index, 7);
        assert_eq!(e.kind, EntryKind::HashedRekord);
        assert_eq!(e.kind.name(), "hashedrekord");
        assert_eq!(only(&e).san.as_deref(), Some("alice@example.com"));
        assert_eq!(only(&e).issuer.as_deref(), Some(ISSUER));
        assert_eq!(
            e.digest,
            Some(format!("sha256:{}", sha256_hex(HASHEDREKORD_ARTIFACT)))
        );
        assert_eq!(only(&e).time, Some(HASHEDREKORD_NOT_BEFORE));
        assert_eq!(only(&e).key_id, None);
        assert!(only(&e).has_certificate());
    }

    #[test]
    fn hashedrekord_with_public_key() {
        let e = observe(0, REKOR_HASHEDREKORD).unwrap();
        assert_eq!(e.kind, EntryKind::HashedRekord);
        assert_eq!(
            (&only(&e).san, &only(&e).issuer, only(&e).time),
            (&None, &None, None)
        );
        // `openssl pkey -pubin -outform DER | sha256sum` of the entry's public key.
        assert_eq!(
            only(&e).key_id.as_deref(),
            Some("d4371c17ac9488dd21fbab5fafe12d8d371ffb30bb203fe70a666774a67940ad")
        );
        assert_eq!(
            e.digest.as_deref(),
            Some("sha256:c98c24b677eff44860afea6f493bbaec5bb1c4cbb209c6fc2bbb47f66ff2ad31")
        );
        assert!(!only(&e).has_certificate());
    }

    #[test]
    fn hash_algorithms_and_case_in_the_digest() {
        let mut v: Value = crate::json::from_slice(HASHEDREKORD_BODY).unwrap();
        v["spec"]["data"]["hash"] =
            serde_json::json!({"algorithm": "sha384", "value": "AB".repeat(48)});
        let e = observe(1, &crate::jcs::to_vec(&v).unwrap()).unwrap();
        assert_eq!(e.digest, Some(format!("sha384:{}", "ab".repeat(48))));
    }

    #[test]
    fn dsse_with_certificate() {
        let e = observe(3, DSSE_BODY).unwrap();
        assert_eq!(e.kind, EntryKind::Dsse);
        assert_eq!(only(&e).san.as_deref(), Some("alice@example.com"));
        assert_eq!(only(&e).issuer.as_deref(), Some(ISSUER));
        let v: Value = crate::json::from_slice(DSSE_BODY).unwrap();
        let payload_hash = v["spec"]["payloadHash"]["value"].as_str().unwrap();
        assert_eq!(e.digest, Some(format!("sha256:{payload_hash}")));
        assert_eq!(only(&e).time, Some(DSSE_NOT_BEFORE));
        assert!(only(&e).has_certificate());
    }

    /// The public key PEM of upstream Rekor's hashedrekord test entry.
    fn rekor_public_key_pem() -> Vec<u8> {
        let v: Value = crate::json::from_slice(REKOR_HASHEDREKORD).unwrap();
        let b64: Base64Bytes =
            serde_json::from_value(v["spec"]["signature"]["publicKey"]["content"].clone()).unwrap();
        b64.0
    }

    #[test]
    fn dsse_with_public_key() {
        let e = observe(4, &dsse(&rekor_public_key_pem())).unwrap();
        assert_eq!(e.kind, EntryKind::Dsse);
        assert_eq!(
            only(&e).key_id.as_deref(),
            Some("d4371c17ac9488dd21fbab5fafe12d8d371ffb30bb203fe70a666774a67940ad")
        );
        assert_eq!((&only(&e).san, only(&e).time), (&None, None));
        assert!(!only(&e).has_certificate());
    }

    #[test]
    fn dsse_proposed_form() {
        let e = observe(2, REKOR_DSSE).unwrap();
        assert_eq!(e.kind, EntryKind::Dsse);
        // SHA-256 of the envelope's payload (the in-toto statement).
        assert_eq!(
            e.digest.as_deref(),
            Some("sha256:7ebff188cca1e3300b2e21f4a40b5b5b8c7e8f786bb95ea0c957a2e516636d5d")
        );
        assert!(only(&e).key_id.is_some());
        assert!(!only(&e).has_certificate());
    }

    #[test]
    fn precert_identity_despite_poison() {
        let pre = precert_der();
        let (_, parsed) = X509Certificate::from_der(&pre).unwrap();
        assert!(parsed
            .extensions()
            .iter()
            .any(|x| x.oid.to_id_string() == crate::cert::OID_PRECERT_POISON));
        let body = precert(&[&pre, b"not parsed: only chain[0] is read"]);
        let e = observe(9, &body).unwrap();
        assert_eq!(e.kind, EntryKind::Precert);
        assert_eq!(e.kind.name(), KIND_PRECERT);
        assert_eq!(only(&e).san.as_deref(), Some("alice@example.com"));
        // Fulcio's legacy .1.1 extension holds the issuer unencoded; the fixture's OpenSSL
        // config put a DER UTF8String (tag 0x0c, length 0x16) there, read as raw bytes.
        assert_eq!(
            only(&e).issuer.as_deref(),
            Some("\u{c}\u{16}https://issuer.example")
        );
        assert_eq!(e.digest, None);
        assert_eq!(only(&e).key_id, None);
        assert_eq!(only(&e).time, Some(PRECERT_NOT_BEFORE));
        assert!(only(&e).has_certificate());
    }

    #[test]
    fn certificate_without_identity() {
        let cert = ca_der();
        for body in [
            hashedrekord([2; 32], cert_pem(&cert)),
            dsse(&cert_pem(&cert)),
            precert(&[&cert]),
        ] {
            let e = observe(0, &body).unwrap();
            assert_eq!(
                (&only(&e).san, &only(&e).issuer, &only(&e).key_id),
                (&None, &None, &None),
                "{:?}",
                e.kind
            );
            assert_eq!(only(&e).time, Some(CA_NOT_BEFORE));
            assert!(only(&e).has_certificate(), "{:?}", e.kind);
        }
    }

    /// intoto 0.0.2 as sigstore-js submits it and as the Signet log stores it (certificate for
    /// alice@example.com, issuer http://127.0.0.1:39553, notBefore Nov 29 02:08:46 2026 GMT).
    const INTOTO_STORED: &[u8] = include_bytes!("../../fuzz/fixtures/intoto_stored_body.json");
    const INTOTO_PROPOSED: &[u8] =
        include_bytes!("../../fuzz/fixtures/intoto_sigstore_js_proposed.json");
    const INTOTO_PAYLOAD_HASH: &str =
        "696255e5d18b910b564cb89fe122c1f16aa9ac0f724c43367f980910a7ab7b0e";

    #[test]
    fn intoto_signer_and_payload_hash() {
        for body in [INTOTO_STORED, INTOTO_PROPOSED] {
            let e = observe(6, body).unwrap();
            assert_eq!(e.kind, EntryKind::Other("intoto".into()));
            assert_eq!(e.kind.name(), "intoto");
            assert_eq!(only(&e).san.as_deref(), Some("alice@example.com"));
            assert_eq!(only(&e).issuer.as_deref(), Some("http://127.0.0.1:39553"));
            assert_eq!(e.digest, Some(format!("sha256:{INTOTO_PAYLOAD_HASH}")));
            assert_eq!(only(&e).time, Some(1_795_918_126));
            assert_eq!(only(&e).key_id, None);
            assert!(only(&e).has_certificate());
        }
        // The proposed form without payloadHash: the hash of the payload.
        let mut v: Value = crate::json::from_slice(INTOTO_PROPOSED).unwrap();
        v["spec"]["content"]
            .as_object_mut()
            .unwrap()
            .remove("payloadHash");
        let e = observe(6, &crate::jcs::to_vec(&v).unwrap()).unwrap();
        assert_eq!(e.digest, Some(format!("sha256:{INTOTO_PAYLOAD_HASH}")));

        // A keyed signature: the key, no identity.
        let mut v: Value = crate::json::from_slice(INTOTO_STORED).unwrap();
        v["spec"]["content"]["envelope"]["signatures"][0]["publicKey"] =
            Value::String(Base64Bytes(rekor_public_key_pem()).encode());
        let e = observe(6, &crate::jcs::to_vec(&v).unwrap()).unwrap();
        assert_eq!(
            only(&e).key_id.as_deref(),
            Some("d4371c17ac9488dd21fbab5fafe12d8d371ffb30bb203fe70a666774a67940ad")
        );
        assert_eq!((&only(&e).san, only(&e).time), (&None, None));
        assert!(!only(&e).has_certificate());

        // Another version is not read; a broken intoto body is an error naming the kind.
        let mut v: Value = crate::json::from_slice(INTOTO_STORED).unwrap();
        v["apiVersion"] = "0.0.1".into();
        let e = observe(6, &crate::jcs::to_vec(&v).unwrap()).unwrap();
        assert_eq!(e.kind, EntryKind::Other("intoto 0.0.1".into()));
        assert_eq!((&e.signers, &e.digest), (&vec![], &None));
        let mut v: Value = crate::json::from_slice(INTOTO_STORED).unwrap();
        v["spec"]["content"]["envelope"]["signatures"] = serde_json::json!([]);
        let err = observe(6, &crate::jcs::to_vec(&v).unwrap()).unwrap_err();
        assert!(
            matches!(err, EntryError::Spec { kind: "intoto", .. }),
            "{err}"
        );
    }

    /// The certificate of the intoto fixture: alice@example.com from another issuer
    /// (http://127.0.0.1:39553) than the dsse and hashedrekord ones.
    fn intoto_cert_pem() -> Vec<u8> {
        let v: Value = crate::json::from_slice(INTOTO_STORED).unwrap();
        let b64: Base64Bytes = serde_json::from_value(
            v["spec"]["content"]["envelope"]["signatures"][0]["publicKey"].clone(),
        )
        .unwrap();
        b64.0
    }

    const REKOR_KEY_ID: &str = "d4371c17ac9488dd21fbab5fafe12d8d371ffb30bb203fe70a666774a67940ad";

    /// Every signer of a multi-signature entry is reported, in body order, in each form the
    /// log could serve: a watched key or another identity second is not hidden behind the first.
    #[test]
    fn every_signer_of_multi_signature_entries() {
        let key = rekor_public_key_pem();
        let other = intoto_cert_pem();
        let check = |e: &ObservedEntry, first_issuer: &str| {
            assert_eq!(e.signers.len(), 3, "{e:?}");
            assert_eq!(e.signers[0].san.as_deref(), Some("alice@example.com"));
            assert_eq!(e.signers[0].issuer.as_deref(), Some(first_issuer));
            assert!(e.signers[0].has_certificate());
            assert_eq!(e.signers[1].key_id.as_deref(), Some(REKOR_KEY_ID));
            assert_eq!((&e.signers[1].san, e.signers[1].time), (&None, None));
            assert!(!e.signers[1].has_certificate());
            assert_eq!(
                e.signers[2].issuer.as_deref(),
                Some("http://127.0.0.1:39553")
            );
            assert_eq!(e.signers[2].time, Some(1_795_918_126));
        };
        let b64 = |pem: &[u8]| Value::String(Base64Bytes(pem.to_vec()).encode());

        // dsse, stored form: signatures[1] and [2] carry the key and the other certificate.
        let mut v: Value = crate::json::from_slice(DSSE_BODY).unwrap();
        let first = v["spec"]["signatures"][0].clone();
        let sig = |n: u8, pem: &[u8]| serde_json::json!({"signature": Base64Bytes(vec![0x30, n]).encode(), "verifier": b64(pem)});
        v["spec"]["signatures"] = serde_json::json!([first, sig(1, &key), sig(2, &other)]);
        let e = observe(3, &crate::jcs::to_vec(&v).unwrap()).unwrap();
        assert_eq!(e.kind, EntryKind::Dsse);
        check(&e, ISSUER);

        // dsse, proposed form: every verifier.
        let mut v: Value = crate::json::from_slice(REKOR_DSSE).unwrap();
        let dsse_cert = {
            let d: Value = crate::json::from_slice(DSSE_BODY).unwrap();
            d["spec"]["signatures"][0]["verifier"].clone()
        };
        v["spec"]["proposedContent"]["verifiers"] =
            serde_json::json!([dsse_cert, b64(&key), b64(&other)]);
        let e = observe(2, &crate::jcs::to_vec(&v).unwrap()).unwrap();
        check(&e, ISSUER);

        // intoto, stored and proposed forms: every envelope signature's publicKey.
        for body in [INTOTO_STORED, INTOTO_PROPOSED] {
            let mut v: Value = crate::json::from_slice(body).unwrap();
            let sigs = &mut v["spec"]["content"]["envelope"]["signatures"];
            let mut s1 = sigs[0].clone();
            s1["publicKey"] = b64(&key);
            let mut s2 = sigs[0].clone();
            s2["publicKey"] = b64(&other);
            let mut s0 = sigs[0].clone();
            s0["publicKey"] = dsse_cert.clone();
            *sigs = serde_json::json!([s0, s1, s2]);
            let e = observe(6, &crate::jcs::to_vec(&v).unwrap()).unwrap();
            assert_eq!(e.kind, EntryKind::Other("intoto".into()));
            check(&e, ISSUER);
        }

        // A signer that does not parse, second: the entry is an error naming its position.
        let mut v: Value = crate::json::from_slice(DSSE_BODY).unwrap();
        let first = v["spec"]["signatures"][0].clone();
        v["spec"]["signatures"] = serde_json::json!([first, sig(1, b"not PEM")]);
        let err = observe(3, &crate::jcs::to_vec(&v).unwrap()).unwrap_err();
        assert!(
            matches!(&err, EntryError::Pem { kind: "dsse", field, .. } if field == "signatures[1].verifier"),
            "{err}"
        );
        let mut v: Value = crate::json::from_slice(INTOTO_STORED).unwrap();
        let sigs = &mut v["spec"]["content"]["envelope"]["signatures"];
        let mut bad = sigs[0].clone();
        bad["publicKey"] = b64(&cert_pem(&[0x30, 0x03, 1, 2, 3]));
        sigs.as_array_mut().unwrap().push(bad);
        let err = observe(6, &crate::jcs::to_vec(&v).unwrap()).unwrap_err();
        assert!(
            matches!(&err, EntryError::Certificate { kind: "intoto", field, .. } if field == "envelope.signatures[1].publicKey"),
            "{err}"
        );
    }

    /// A rekor-tiles hashedrekord 0.0.2 body (the form Signet's v2 log stores, see
    /// `signet_log::v2`): its key signer and digest; a body with both verifiers or neither,
    /// or an unknown digest algorithm, is an error.
    #[test]
    fn hashedrekord_v002_bodies() {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let spki = b"not really an SPKI, only hashed";
        let body = |verifier: String, alg: &str| {
            format!(
                r#"{{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{{"hashedRekordV002":{{"data":{{"algorithm":"{alg}","digest":"{}"}},"signature":{{"content":"MEUC","verifier":{{{verifier}}}}}}}}}}}"#,
                b64(&[0xab; 32])
            )
        };
        let keyed = format!(
            r#""keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{{"rawBytes":"{}"}}"#,
            b64(spki)
        );
        let e = observe(4, body(keyed.clone(), "SHA2_256").as_bytes()).unwrap();
        assert_eq!(e.kind, EntryKind::HashedRekord);
        assert_eq!(e.digest, Some(format!("sha256:{}", "ab".repeat(32))));
        assert_eq!(
            only(&e).key_id,
            Some(hex::encode(digest(&SHA256, spki.as_slice())))
        );
        assert!(observe(4, body(keyed, "MD5").as_bytes()).is_err());
        let neither = r#""keyDetails":"PKIX_ECDSA_P256_SHA_256""#.to_owned();
        assert!(observe(4, body(neither, "SHA2_256").as_bytes()).is_err());
        let bad_cert = format!(
            r#""keyDetails":"PKIX_ECDSA_P256_SHA_256","x509Certificate":{{"rawBytes":"{}"}}"#,
            b64(b"junk")
        );
        assert!(observe(4, body(bad_cert, "SHA2_256").as_bytes()).is_err());
    }

    #[test]
    fn unknown_kinds_are_other() {
        let e = observe(1, br#"{"apiVersion":"0.0.1","kind":"rekord","spec":{}}"#).unwrap();
        assert_eq!(e.kind, EntryKind::Other("rekord".into()));
        let e = observe(
            1,
            br#"{"apiVersion":"0.0.3","kind":"hashedrekord","spec":{}}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EntryKind::Other("hashedrekord 0.0.3".into()));
        assert_eq!(e.kind.name(), "hashedrekord 0.0.3");
        assert_eq!((&e.signers, &e.digest), (&vec![], &None));
    }

    #[test]
    fn garbage_is_an_error_naming_the_part() {
        let err = observe(5, b"\x00\x01 not json").unwrap_err();
        assert!(matches!(err, EntryError::Json { index: 5, .. }), "{err}");

        let err = observe(5, b"[]").unwrap_err();
        assert!(
            matches!(err, EntryError::MissingField { field: "kind", .. }),
            "{err}"
        );
        let err = observe(5, br#"{"apiVersion":"0.0.1","spec":{}}"#).unwrap_err();
        assert!(
            matches!(err, EntryError::MissingField { field: "kind", .. }),
            "{err}"
        );
        let err = observe(5, br#"{"apiVersion":1,"kind":"dsse"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "entry 5: field \"apiVersion\" is missing or has the wrong type"
        );
        let err = observe(5, br#"{"apiVersion":"0.0.1","kind":"precert"}"#).unwrap_err();
        assert!(
            matches!(err, EntryError::MissingField { field: "spec", .. }),
            "{err}"
        );

        let err = observe(
            5,
            br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"x":1}}"#,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                EntryError::Spec {
                    kind: "hashedrekord",
                    ..
                }
            ),
            "{err}"
        );

        let mut v: Value = crate::json::from_slice(DSSE_BODY).unwrap();
        v["spec"]["signatures"] = serde_json::json!([]);
        let err = observe(5, &crate::jcs::to_vec(&v).unwrap()).unwrap_err();
        assert!(
            matches!(err, EntryError::Spec { kind: "dsse", .. }),
            "{err}"
        );

        let body = hashedrekord([0; 32], b"-----BEGIN NONSENSE-----".to_vec());
        let err = observe(5, &body).unwrap_err();
        assert!(matches!(err, EntryError::Pem { .. }), "{err}");
        let other = pem::encode(&pem::Pem::new("PRIVATE KEY", vec![1, 2, 3]));
        let err = observe(5, &hashedrekord([0; 32], other.into_bytes())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "entry 5: hashedrekord signature.publicKey.content is not a PEM certificate or public key: PEM block is \"PRIVATE KEY\""
        );

        let bad_cert = pem::encode(&pem::Pem::new("CERTIFICATE", vec![0x30, 0x03, 1, 2, 3]));
        let err = observe(5, &hashedrekord([0; 32], bad_cert.into_bytes())).unwrap_err();
        assert!(
            matches!(
                err,
                EntryError::Certificate {
                    kind: "hashedrekord",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("entry 5"), "{err}");

        let mut trailing = ca_der();
        trailing.push(0);
        let err = observe(5, &precert(&[&trailing])).unwrap_err();
        assert!(err.to_string().ends_with("1 trailing bytes"), "{err}");

        let err = observe(5, &precert(&[])).unwrap_err();
        assert!(
            matches!(
                err,
                EntryError::Spec {
                    kind: "precert",
                    ..
                }
            ),
            "{err}"
        );
        let err = observe(5, &precert(&[b"\x30\x00"])).unwrap_err();
        assert!(
            matches!(
                &err,
                EntryError::Certificate {
                    kind: "precert",
                    field,
                    ..
                } if field == "chain[0]"
            ),
            "{err}"
        );
    }
}
