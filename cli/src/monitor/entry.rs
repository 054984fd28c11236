//! What the monitor sees in one log entry: its kind, the signer's identity, the artifact digest
//! and a time, read from the entry's canonical Rekor body.
//!
//! Sources: sigstore/rekor `pkg/types/hashedrekord/v0.0.1` and `pkg/types/dsse/v0.0.1` (modelled
//! in [`signet_proto::rekor`]); this log's own `precert` 0.0.1 kind
//! (`{"apiVersion":"0.0.1","kind":"precert","spec":{"chain":["<b64 DER>",...]}}`, see
//! `docs/ARCHITECTURE.md` and `signet_log::entries`), which records every certificate the CA
//! issues; the Fulcio certificate profile for the identity ([`signet_proto::cert::Identity`]:
//! first SAN and OIDC issuer extension).
//!
//! Field by kind:
//!
//! | kind | `san` / `issuer` | `digest` | `time` | `key_id` |
//! |---|---|---|---|---|
//! | hashedrekord, certificate | from the certificate | `data.hash` | cert notBefore | none |
//! | hashedrekord, public key | none | `data.hash` | none | SHA-256(SPKI) |
//! | dsse (stored form) | first signature's verifier | `payloadHash` | cert notBefore | key only |
//! | precert | precertificate (`chain[0]`) | none | notBefore | none |
//!
//! The time: C2SP tlog-tiles entry bundles carry only the entry bodies, not Rekor's
//! `integratedTime`, so the only time an entry holds is its certificate's notBefore. For
//! Fulcio-style short-lived certificates (10 minutes) that is the signing time within minutes.
//! Keyed entries carry no time at all (`time` is `None`); a caller that wants time-based rules
//! to cover them may fill in its own observation time.
//!
//! What this module does not do: verify signatures, certificate chains, validity periods or
//! SCTs (the log checked signatures when it accepted the entry), or look inside DSSE payloads
//! (the stored dsse form keeps only the payload's hash, so `digest` is the hash of the in-toto
//! statement, not of its subjects). A DSSE entry with several signatures reports the identity of
//! its first signature's verifier only (Sigstore clients write one).

// Until the monitor loop (crate::monitor) calls into this module, its items are used by tests
// only.
#![allow(dead_code)]

use aws_lc_rs::digest::{digest, SHA256};
use serde_json::Value;
use signet_proto::bundle::Base64Bytes;
use signet_proto::cert::{CertError, Identity};
use signet_proto::rekor::{
    DsseV001, HashValue, ProposedEntry, RekorError, RekorHashAlgorithm, API_VERSION_0_0_1,
    KIND_DSSE, KIND_HASHEDREKORD,
};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

/// `kind` of the log's recorded precertificates.
pub(crate) const KIND_PRECERT: &str = "precert";

/// The kind of a log entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum EntryKind {
    /// hashedrekord 0.0.1: a signature over an artifact digest.
    HashedRekord,
    /// dsse 0.0.1: a signed DSSE envelope (attestation).
    Dsse,
    /// precert 0.0.1: a certificate issued by the CA.
    Precert,
    /// Any other kind or version, as `"<kind>"` for an unknown kind or `"<kind> <apiVersion>"`
    /// for a known kind at an unknown version. Nothing else is read from it.
    Other(String),
}

impl EntryKind {
    /// The name used in alerts: `hashedrekord`, `dsse`, `precert` or the `Other` text.
    pub(crate) fn name(&self) -> &str {
        match self {
            Self::HashedRekord => KIND_HASHEDREKORD,
            Self::Dsse => KIND_DSSE,
            Self::Precert => KIND_PRECERT,
            Self::Other(s) => s,
        }
    }
}

/// What the monitor rules look at in one entry (see the module docs for each field by kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObservedEntry {
    /// Index of the entry in the log.
    pub(crate) index: u64,
    /// The entry kind.
    pub(crate) kind: EntryKind,
    /// The certificate's first SAN value; `None` for keyed entries (public key, no certificate).
    pub(crate) san: Option<String>,
    /// The OIDC issuer from the certificate's Fulcio extension (.1.8, else .1.1).
    pub(crate) issuer: Option<String>,
    /// `"<algorithm>:<hex>"` (normally `sha256:`): the hashedrekord data hash or the dsse
    /// payloadHash; `None` for precert.
    pub(crate) digest: Option<String>,
    /// Unix seconds: the certificate's notBefore. Entry bundles carry no integratedTime, and
    /// keyed entries have no time (`None`).
    pub(crate) time: Option<i64>,
    /// Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER, for keyed entries only.
    pub(crate) key_id: Option<String>,
}

impl ObservedEntry {
    /// Whether the entry carries a certificate (precert or a cert-bearing signature entry),
    /// even one without SAN or issuer: a known kind whose signer is not a key.
    pub(crate) fn has_certificate(&self) -> bool {
        match self.kind {
            EntryKind::Precert => true,
            EntryKind::HashedRekord | EntryKind::Dsse => self.key_id.is_none(),
            EntryKind::Other(_) => false,
        }
    }
}

/// Why an entry body could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum EntryError {
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
        /// The JSON field holding it.
        field: &'static str,
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
        /// The JSON field holding it.
        field: &'static str,
        /// The parse error.
        #[source]
        source: CertError,
    },
}

/// The signer of an entry, as read from a certificate or a key.
#[derive(Default)]
struct Signer {
    san: Option<String>,
    issuer: Option<String>,
    time: Option<i64>,
    key_id: Option<String>,
}

/// Reads an entry's canonical body.
///
/// Unknown kinds (and known kinds at an unknown `apiVersion`) are not errors: they come back as
/// [`EntryKind::Other`] with every other field `None`.
///
/// # Errors
/// [`EntryError`] naming the part that does not parse: the JSON, a top-level field, the spec,
/// a PEM block or a certificate.
pub(crate) fn observe(index: u64, body: &[u8]) -> Result<ObservedEntry, EntryError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|source| EntryError::Json { index, source })?;
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
        san: None,
        issuer: None,
        digest: None,
        time: None,
        key_id: None,
    };
    let known = [KIND_HASHEDREKORD, KIND_DSSE, KIND_PRECERT];
    if !known.contains(&kind) {
        return Ok(out);
    }
    if api_version != API_VERSION_0_0_1 {
        out.kind = EntryKind::Other(format!("{kind} {api_version}"));
        return Ok(out);
    }
    let signer = if kind == KIND_PRECERT {
        out.kind = EntryKind::Precert;
        observe_precert(index, map.get("spec"))?
    } else {
        let spec_err = |kind: &'static str, e: RekorError| EntryError::Spec {
            index,
            kind,
            reason: e.to_string(),
        };
        let parsed = ProposedEntry::from_value(value.clone()).map_err(|e| {
            spec_err(
                if kind == KIND_DSSE {
                    KIND_DSSE
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
                read_signer(
                    index,
                    KIND_HASHEDREKORD,
                    "signature.publicKey.content",
                    &h.signature.public_key.content,
                )?
            }
            ProposedEntry::DsseV001(d) => {
                out.kind = EntryKind::Dsse;
                let (payload_digest, verifier) = match &d {
                    DsseV001::Canonical(c) => (
                        digest_string(&c.payload_hash),
                        c.signatures.first().map(|s| &s.verifier),
                    ),
                    DsseV001::Proposed(p) => {
                        let env = p.parse_envelope().map_err(|e| spec_err(KIND_DSSE, e))?;
                        (
                            format!("sha256:{}", hex::encode(digest(&SHA256, &env.payload))),
                            p.verifiers.first(),
                        )
                    }
                    // DsseV001 is non_exhaustive: a future form carries no readable signer.
                    _ => {
                        return Err(EntryError::Spec {
                            index,
                            kind: KIND_DSSE,
                            reason: "unknown dsse spec form".into(),
                        })
                    }
                };
                out.digest = Some(payload_digest);
                let verifier = verifier.ok_or_else(|| EntryError::Spec {
                    index,
                    kind: KIND_DSSE,
                    reason: "no signatures".into(),
                })?;
                read_signer(index, KIND_DSSE, "verifier", verifier)?
            }
            // ProposedEntry is non_exhaustive: a future kind is reported as Other.
            _ => return Ok(out),
        }
    };
    out.san = signer.san;
    out.issuer = signer.issuer;
    out.time = signer.time;
    out.key_id = signer.key_id;
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

/// `spec` of a precert entry.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PrecertSpec {
    chain: Vec<Base64Bytes>,
}

fn observe_precert(index: u64, spec: Option<&Value>) -> Result<Signer, EntryError> {
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
    cert_signer(index, KIND_PRECERT, "chain[0]", first)
}

/// Reads a PEM `CERTIFICATE` or `PUBLIC KEY` (the bytes carried, base64, in the entry).
fn read_signer(
    index: u64,
    kind: &'static str,
    field: &'static str,
    pem_bytes: &[u8],
) -> Result<Signer, EntryError> {
    let pem_err = |reason: String| EntryError::Pem {
        index,
        kind,
        field,
        reason,
    };
    let block = pem::parse(pem_bytes).map_err(|e| pem_err(e.to_string()))?;
    match block.tag() {
        "CERTIFICATE" => cert_signer(index, kind, field, block.contents()),
        "PUBLIC KEY" => Ok(Signer {
            key_id: Some(hex::encode(digest(&SHA256, block.contents()))),
            ..Signer::default()
        }),
        other => Err(pem_err(format!("PEM block is {other:?}"))),
    }
}

fn cert_signer(
    index: u64,
    kind: &'static str,
    field: &'static str,
    der: &[u8],
) -> Result<Signer, EntryError> {
    let cert_err = |source: CertError| EntryError::Certificate {
        index,
        kind,
        field,
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
    Ok(Signer {
        san: identity.san().map(str::to_owned),
        issuer: identity.issuer,
        time: Some(cert.validity().not_before.timestamp()),
        key_id: None,
    })
}

/// Real certificates and Rekor bodies for the monitor's unit tests.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod testutil {
    use rcgen::{Issuer, KeyPair, PublicKeyData as _};
    use signet_ca::identity::{Principal, San};
    use signet_ca::issue::{build_precert, leaf_params, LeafSpec};
    use signet_proto::bundle::Base64Bytes;
    use signet_proto::rekor::{
        DsseCanonical, DsseSignatureVerifier, DsseV001, HashedRekordV001, ProposedEntry,
    };

    /// A CA that issues Fulcio-profile certificates (via `signet_ca::issue`).
    pub(crate) struct TestCa {
        issuer: Issuer<'static, KeyPair>,
    }

    impl TestCa {
        pub(crate) fn new() -> Self {
            let key = KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "monitor test CA");
            Self {
                issuer: Issuer::new(params, key),
            }
        }

        fn principal(san: &str, issuer: &str) -> Principal {
            let san = if san.contains('@') {
                San::Email(san.to_owned())
            } else {
                San::Uri(san.to_owned())
            };
            Principal {
                issuer: issuer.to_owned(),
                challenge: san.value().to_owned(),
                subject: san.value().to_owned(),
                san,
                extensions: Vec::new(),
            }
        }

        /// A (precertificate DER, certificate DER) pair for `san` / `issuer`, valid from
        /// `not_before` for 10 minutes.
        pub(crate) fn issue(&self, san: &str, issuer: &str, not_before: i64) -> (Vec<u8>, Vec<u8>) {
            let subject = KeyPair::generate().unwrap();
            let spki = subject.subject_public_key_info();
            let principal = Self::principal(san, issuer);
            let spec = LeafSpec {
                subject_spki_der: &spki,
                principal: &principal,
                not_before,
                validity_secs: 600,
                serial: &[0x01, 0x02, 0x03],
            };
            let precert = build_precert(&spec, &self.issuer).unwrap();
            let subject_key = rcgen::SubjectPublicKeyInfo::from_der(&spki).unwrap();
            let cert = leaf_params(&spec)
                .unwrap()
                .signed_by(&subject_key, &self.issuer)
                .unwrap()
                .der()
                .to_vec();
            (precert, cert)
        }
    }

    pub(crate) fn cert_pem(der: &[u8]) -> Vec<u8> {
        pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec())).into_bytes()
    }

    /// A PEM public key and its hex SHA-256(SPKI).
    pub(crate) fn public_key_pem() -> (Vec<u8>, String) {
        use aws_lc_rs::digest::{digest, SHA256};
        let key = KeyPair::generate().unwrap();
        let spki = key.subject_public_key_info();
        (
            pem::encode(&pem::Pem::new("PUBLIC KEY", spki.clone())).into_bytes(),
            hex::encode(digest(&SHA256, &spki)),
        )
    }

    /// A canonical hashedrekord body for `digest` signed by the PEM key or certificate.
    pub(crate) fn hashedrekord(digest: [u8; 32], verifier_pem: Vec<u8>) -> Vec<u8> {
        ProposedEntry::HashedRekordV001(HashedRekordV001::new(
            &digest,
            vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
            verifier_pem,
        ))
        .canonical_bytes()
        .unwrap()
    }

    /// A canonical (stored-form) dsse body for `payload` signed by the PEM key or certificate.
    pub(crate) fn dsse(payload: &[u8], verifier_pem: Vec<u8>) -> Vec<u8> {
        let canonical = DsseCanonical::new(
            b"{\"payload\":\"e30=\",\"payloadType\":\"application/vnd.in-toto+json\"}",
            payload,
            vec![DsseSignatureVerifier {
                signature: Base64Bytes(vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]),
                verifier: Base64Bytes(verifier_pem),
            }],
        );
        ProposedEntry::DsseV001(DsseV001::Canonical(canonical))
            .canonical_bytes()
            .unwrap()
    }

    /// A canonical precert body (as `signet_log::entries::precert_entry` writes it).
    pub(crate) fn precert(chain: &[&[u8]]) -> Vec<u8> {
        let chain: Vec<String> = chain
            .iter()
            .map(|c| Base64Bytes(c.to_vec()).encode())
            .collect();
        let v = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "precert",
            "spec": { "chain": chain },
        });
        signet_proto::jcs::to_vec(&v).unwrap()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::testutil::*;
    use super::*;

    const ISSUER: &str = "https://accounts.example.com";
    const NOT_BEFORE: i64 = 1_790_000_000;

    #[test]
    fn hashedrekord_with_certificate() {
        let ca = TestCa::new();
        let (_, cert) = ca.issue("alice@example.com", ISSUER, NOT_BEFORE);
        let body = hashedrekord([0xab; 32], cert_pem(&cert));
        let e = observe(7, &body).unwrap();
        assert_eq!(e.index, 7);
        assert_eq!(e.kind, EntryKind::HashedRekord);
        assert_eq!(e.san.as_deref(), Some("alice@example.com"));
        assert_eq!(e.issuer.as_deref(), Some(ISSUER));
        assert_eq!(e.digest, Some(format!("sha256:{}", "ab".repeat(32))));
        assert_eq!(e.time, Some(NOT_BEFORE));
        assert_eq!(e.key_id, None);
        assert!(e.has_certificate());
    }

    #[test]
    fn hashedrekord_with_public_key() {
        let (key, key_id) = public_key_pem();
        let body = hashedrekord([0x01; 32], key);
        let e = observe(0, &body).unwrap();
        assert_eq!(e.kind, EntryKind::HashedRekord);
        assert_eq!(e.san, None);
        assert_eq!(e.issuer, None);
        assert_eq!(e.time, None);
        assert_eq!(e.key_id.as_deref(), Some(key_id.as_str()));
        assert_eq!(e.digest, Some(format!("sha256:{}", "01".repeat(32))));
        assert!(!e.has_certificate());
    }

    #[test]
    fn dsse_with_certificate() {
        let ca = TestCa::new();
        let (_, cert) = ca.issue(
            "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
            "https://token.actions.githubusercontent.com",
            NOT_BEFORE + 60,
        );
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
        let body = dsse(payload, cert_pem(&cert));
        let e = observe(3, &body).unwrap();
        assert_eq!(e.kind, EntryKind::Dsse);
        assert_eq!(
            e.san.as_deref(),
            Some("https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main")
        );
        assert_eq!(
            e.issuer.as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
        assert_eq!(
            e.digest,
            Some(format!("sha256:{}", hex::encode(digest(&SHA256, payload))))
        );
        assert_eq!(e.time, Some(NOT_BEFORE + 60));
    }

    #[test]
    fn dsse_with_public_key() {
        let (key, key_id) = public_key_pem();
        let e = observe(4, &dsse(b"{}", key)).unwrap();
        assert_eq!(e.kind, EntryKind::Dsse);
        assert_eq!(e.key_id, Some(key_id));
        assert_eq!(e.san, None);
    }

    #[test]
    fn precert_identity_despite_poison() {
        let ca = TestCa::new();
        let (pre, _) = ca.issue("bob@example.com", ISSUER, NOT_BEFORE);
        // The poison extension is really there.
        let (_, parsed) = X509Certificate::from_der(&pre).unwrap();
        assert!(parsed
            .extensions()
            .iter()
            .any(|x| x.oid.to_id_string() == signet_proto::cert::OID_PRECERT_POISON));
        let body = precert(&[&pre, b"not parsed: only chain[0] is read"]);
        let e = observe(9, &body).unwrap();
        assert_eq!(e.kind, EntryKind::Precert);
        assert_eq!(e.san.as_deref(), Some("bob@example.com"));
        assert_eq!(e.issuer.as_deref(), Some(ISSUER));
        assert_eq!(e.digest, None);
        assert_eq!(e.key_id, None);
        assert_eq!(e.time, Some(NOT_BEFORE));
    }

    #[test]
    fn certificate_without_identity() {
        // Not a Fulcio certificate: no SAN, no issuer extension.
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.not_before = time::OffsetDateTime::from_unix_timestamp(NOT_BEFORE).unwrap();
        let cert = params.self_signed(&key).unwrap().der().to_vec();
        for body in [
            hashedrekord([2; 32], cert_pem(&cert)),
            dsse(b"{}", cert_pem(&cert)),
            precert(&[&cert]),
        ] {
            let e = observe(0, &body).unwrap();
            assert_eq!(
                (&e.san, &e.issuer, &e.key_id),
                (&None, &None, &None),
                "{:?}",
                e.kind
            );
            assert_eq!(e.time, Some(NOT_BEFORE));
            assert!(e.has_certificate(), "{:?}", e.kind);
        }
    }

    #[test]
    fn unknown_kinds_are_other() {
        let e = observe(1, br#"{"apiVersion":"0.0.1","kind":"rekord","spec":{}}"#).unwrap();
        assert_eq!(e.kind, EntryKind::Other("rekord".into()));
        let e = observe(
            1,
            br#"{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{}}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EntryKind::Other("hashedrekord 0.0.2".into()));
        assert_eq!(e.kind.name(), "hashedrekord 0.0.2");
        assert_eq!((&e.san, &e.digest, e.time), (&None, &None, None));
        assert!(!e.has_certificate());
    }

    #[test]
    fn garbage_is_an_error_naming_the_part() {
        let err = observe(5, b"\x00\x01 not json").unwrap_err();
        assert!(matches!(err, EntryError::Json { index: 5, .. }), "{err}");

        let err = observe(5, br#"{"apiVersion":"0.0.1","spec":{}}"#).unwrap_err();
        assert!(
            matches!(err, EntryError::MissingField { field: "kind", .. }),
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

        let body = hashedrekord([0; 32], b"-----BEGIN NONSENSE-----".to_vec());
        let err = observe(5, &body).unwrap_err();
        assert!(matches!(err, EntryError::Pem { .. }), "{err}");

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
                err,
                EntryError::Certificate {
                    kind: "precert",
                    field: "chain[0]",
                    ..
                }
            ),
            "{err}"
        );
    }
}
