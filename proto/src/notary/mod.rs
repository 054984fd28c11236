//! Notary Project (notation) signatures: the envelope parsers and the signed payload.
//!
//! Specs (notaryproject/specifications, `specs/`): `signature-specification.md` (payload,
//! signed and unsigned attributes, algorithms), `signature-envelope-jws.md` (flattened JWS JSON
//! serialization, `application/jose+json`), `signature-envelope-cose.md` (`COSE_Sign1_Tagged`,
//! `application/cose`, RFC 9052) and `trust-store-trust-policy.md` ([`policy`]).
//!
//! [`parse_envelope`] turns the bytes of a signature blob into one format-neutral
//! [`Envelope`]: the algorithm named by the protected header, the signing scheme, the signing
//! time, authentic signing time and expiry, the critical header names, the payload (its
//! `targetArtifact` descriptor), the exact bytes the signature covers (the JWS signing input,
//! or the COSE `Sig_structure`), the signature, the `x5c`/`x5chain` certificates and the RFC
//! 3161 `TimeStampToken` countersignature when present. Structural rules are checked here:
//! `cty` is the Notary payload type, `crit` names `io.cncf.notary.signingScheme`, every header
//! it lists is present, and `expiry`/`authenticSigningTime` are listed when present; the
//! scheme's required time is present; a protected header appears once.
//!
//! Not here: any cryptography or trust decision (signature, certificate chain, trust store,
//! trust policy, timestamp and revocation checks are `signet-verifier`'s `notary` module), and
//! whether a critical header is one a verifier understands (the verifier refuses those it does
//! not, such as plugin headers).

pub mod cose; // COSE_Sign1_Tagged envelopes (application/cose)
pub mod jws; // flattened JWS JSON envelopes (application/jose+json)
pub mod policy; // notation's trustpolicy.json and trust store names

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The media type of a JWS envelope blob (the signature manifest's layer).
pub const MEDIA_TYPE_JWS: &str = "application/jose+json";
/// The media type of a COSE envelope blob.
pub const MEDIA_TYPE_COSE: &str = "application/cose";
/// The only payload content type: `cty` (JWS) or label 3 (COSE).
pub const MEDIA_TYPE_PAYLOAD: &str = "application/vnd.cncf.notary.payload.v1+json";
/// The `artifactType` of a signature manifest, or its `config.mediaType` in the older form.
pub const ARTIFACT_TYPE_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
/// The annotation listing the SHA-256 thumbprints of the envelope's certificate chain.
pub const ANNOTATION_THUMBPRINTS: &str = "io.cncf.notary.x509chain.thumbprint#S256";

/// Protected header: the signing scheme (critical, required).
pub const HEADER_SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
/// Protected header: the (unauthenticated) signing time, `notary.x509` only.
pub const HEADER_SIGNING_TIME: &str = "io.cncf.notary.signingTime";
/// Protected header: the authentic signing time (critical), `notary.x509.signingAuthority`.
pub const HEADER_AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
/// Protected header: the signer's "best by use" time (critical when present).
pub const HEADER_EXPIRY: &str = "io.cncf.notary.expiry";
/// Protected header: a verification plugin Signet does not run (critical).
pub const HEADER_VERIFICATION_PLUGIN: &str = "io.cncf.notary.verificationPlugin";
/// Protected header: the plugin's minimum version (critical).
pub const HEADER_VERIFICATION_PLUGIN_MIN_VERSION: &str =
    "io.cncf.notary.verificationPluginMinVersion";
/// Unprotected header: the RFC 3161 `TimeStampToken` over the signature value.
pub const HEADER_TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";
/// Unprotected header: the software that signed (informational).
pub const HEADER_SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";

/// Largest envelope accepted (a chain of a few certificates and a timestamp token fit in far
/// less; notation itself caps signature blobs at 32 MiB, registries' manifests at 4 MiB).
pub const MAX_ENVELOPE_BYTES: usize = 4 * 1024 * 1024;

/// Which envelope format a signature uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnvelopeFormat {
    /// JWS JSON serialization, flattened (`application/jose+json`).
    Jws,
    /// `COSE_Sign1_Tagged` (`application/cose`).
    Cose,
}

impl EnvelopeFormat {
    /// The format a blob media type names, if it is one of the two.
    #[must_use]
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            MEDIA_TYPE_JWS => Some(Self::Jws),
            MEDIA_TYPE_COSE => Some(Self::Cose),
            _ => None,
        }
    }

    /// The blob media type of this format.
    #[must_use]
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Jws => MEDIA_TYPE_JWS,
            Self::Cose => MEDIA_TYPE_COSE,
        }
    }
}

impl std::fmt::Display for EnvelopeFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Jws => "JWS",
            Self::Cose => "COSE",
        })
    }
}

/// The signature algorithms the Notary Project allows (`signature-specification.md`,
/// "Signature Algorithm Requirements"). The certificate's key must match the one named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PSS with SHA-256 (RSA 2048).
    Ps256,
    /// RSASSA-PSS with SHA-384 (RSA 3072).
    Ps384,
    /// RSASSA-PSS with SHA-512 (RSA 4096).
    Ps512,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384.
    Es384,
    /// ECDSA P-521 with SHA-512.
    Es512,
}

impl SignatureAlgorithm {
    /// The JWS `alg` value.
    #[must_use]
    pub fn jws_name(self) -> &'static str {
        match self {
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
        }
    }

    /// The algorithm a JWS `alg` names, when allowed.
    #[must_use]
    pub fn from_jws_name(name: &str) -> Option<Self> {
        [
            Self::Ps256,
            Self::Ps384,
            Self::Ps512,
            Self::Es256,
            Self::Es384,
            Self::Es512,
        ]
        .into_iter()
        .find(|a| a.jws_name() == name)
    }

    /// The COSE algorithm identifier (IANA "COSE Algorithms").
    #[must_use]
    pub fn cose_id(self) -> i64 {
        match self {
            Self::Ps256 => -37,
            Self::Ps384 => -38,
            Self::Ps512 => -39,
            Self::Es256 => -7,
            Self::Es384 => -35,
            Self::Es512 => -36,
        }
    }

    /// The algorithm a COSE identifier names, when allowed.
    #[must_use]
    pub fn from_cose_id(id: i64) -> Option<Self> {
        [
            Self::Ps256,
            Self::Ps384,
            Self::Ps512,
            Self::Es256,
            Self::Es384,
            Self::Es512,
        ]
        .into_iter()
        .find(|a| a.cose_id() == id)
    }
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.jws_name())
    }
}

/// The signing scheme (`signing-scheme.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningScheme {
    /// `notary.x509`: a CA-issued signing certificate, an unauthenticated signing time, an
    /// optional RFC 3161 countersignature.
    X509,
    /// `notary.x509.signingAuthority`: a signing authority vouches for the authentic signing
    /// time.
    X509SigningAuthority,
}

impl SigningScheme {
    /// The header value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::X509 => "notary.x509",
            Self::X509SigningAuthority => "notary.x509.signingAuthority",
        }
    }
}

/// An OCI descriptor as the payload's `targetArtifact` carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// The target's media type.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// `algorithm:hex`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Optional `artifactType`.
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// User annotations the signer added.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The signed payload (`application/vnd.cncf.notary.payload.v1+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// What was signed.
    #[serde(rename = "targetArtifact")]
    pub target_artifact: Descriptor,
}

/// A signed protected header other than the ones this module reads into fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedAttribute {
    /// The header name.
    pub name: String,
    /// Whether `crit` lists it (a verifier must understand it, else refuse the signature).
    pub critical: bool,
}

/// A parsed envelope: what the signature covers and the attributes around it. Nothing in it
/// is verified yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// JWS or COSE.
    pub format: EnvelopeFormat,
    /// The protected `alg`.
    pub algorithm: SignatureAlgorithm,
    /// `io.cncf.notary.signingScheme`.
    pub signing_scheme: SigningScheme,
    /// `io.cncf.notary.signingTime` in Unix seconds (required under `notary.x509`).
    pub signing_time: Option<i64>,
    /// `io.cncf.notary.authenticSigningTime` (required under `notary.x509.signingAuthority`).
    pub authentic_signing_time: Option<i64>,
    /// `io.cncf.notary.expiry`, when the signer set one.
    pub expiry: Option<i64>,
    /// The names `crit` lists, in order.
    pub critical: Vec<String>,
    /// Other protected headers (not `alg`, `cty`, `crit` nor the Notary ones read above).
    pub extended_attributes: Vec<ExtendedAttribute>,
    /// The payload bytes, as signed.
    pub payload_bytes: Vec<u8>,
    /// The payload, parsed.
    pub payload: Payload,
    /// The exact bytes the signature is over: ASCII(protected "." payload) for JWS, the
    /// CBOR `Sig_structure` for COSE.
    pub signed_bytes: Vec<u8>,
    /// The signature value (ECDSA as fixed-width r||s, RSA-PSS as the modulus-sized octets).
    pub signature: Vec<u8>,
    /// DER certificates, signing certificate first.
    pub certificate_chain: Vec<Vec<u8>>,
    /// The RFC 3161 `TimeStampToken` (a CMS `ContentInfo`), when present.
    pub timestamp_token: Option<Vec<u8>>,
    /// `io.cncf.notary.signingAgent` (never used for decisions).
    pub signing_agent: Option<String>,
}

/// Why an envelope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The blob's media type is neither `application/jose+json` nor `application/cose`.
    #[error("signature envelope media type {media_type:?} is neither application/jose+json nor application/cose")]
    UnsupportedMediaType {
        /// What the manifest said.
        media_type: String,
    },
    /// The envelope is larger than [`MAX_ENVELOPE_BYTES`].
    #[error("the {format} signature envelope is {size} bytes, more than the {max} accepted")]
    TooLarge {
        /// Format.
        format: EnvelopeFormat,
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes do not decode as the format's structure (the reason names the field).
    #[error("malformed {format} signature envelope: {reason}")]
    Malformed {
        /// Format.
        format: EnvelopeFormat,
        /// Which field, and why.
        reason: String,
    },
    /// `alg` is missing or not one of PS256/384/512, ES256/384/512.
    #[error("the {format} envelope's algorithm {alg} is not one the Notary Project allows (PS256, PS384, PS512, ES256, ES384, ES512)")]
    UnsupportedAlgorithm {
        /// Format.
        format: EnvelopeFormat,
        /// What the header said.
        alg: String,
    },
    /// The payload content type is not `application/vnd.cncf.notary.payload.v1+json`.
    #[error(
        "the payload content type is {found:?}, not application/vnd.cncf.notary.payload.v1+json"
    )]
    ContentType {
        /// What the header said (empty when missing).
        found: String,
    },
    /// A required header is missing.
    #[error("the {format} envelope has no {name} header")]
    MissingHeader {
        /// Format.
        format: EnvelopeFormat,
        /// The header.
        name: &'static str,
    },
    /// `crit` breaks a rule (missing, names an absent header, leaves out a required one).
    #[error("the {format} envelope's crit header is invalid: {reason}")]
    Critical {
        /// Format.
        format: EnvelopeFormat,
        /// Which rule.
        reason: String,
    },
    /// The signing scheme is not `notary.x509` or `notary.x509.signingAuthority`.
    #[error("signing scheme {found:?} is not notary.x509 or notary.x509.signingAuthority")]
    SigningScheme {
        /// What the header said.
        found: String,
    },
    /// A time header does not parse (RFC 3339 for JWS, a tag 1 epoch integer for COSE).
    #[error("the {name} header {reason}")]
    Time {
        /// The header.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The envelope carries no certificate.
    #[error("the {format} envelope carries no certificate chain (x5c / x5chain)")]
    NoCertificates {
        /// Format.
        format: EnvelopeFormat,
    },
    /// The payload is not a Notary payload with a complete `targetArtifact` descriptor.
    #[error("the signed payload is not a Notary Project payload: {reason}")]
    Payload {
        /// Why.
        reason: String,
    },
}

/// Parses a signature envelope blob, choosing the format by the blob's media type (the
/// signature manifest's layer `mediaType`).
///
/// # Errors
/// [`EnvelopeError`] naming the first rule the bytes break.
pub fn parse_envelope(media_type: &str, bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    match EnvelopeFormat::from_media_type(media_type) {
        Some(EnvelopeFormat::Jws) => jws::parse(bytes),
        Some(EnvelopeFormat::Cose) => cose::parse(bytes),
        None => Err(EnvelopeError::UnsupportedMediaType {
            media_type: media_type.to_owned(),
        }),
    }
}

/// Parses the signed payload bytes (after the content type was checked).
///
/// # Errors
/// [`EnvelopeError::Payload`] when it is not JSON with a `targetArtifact` holding
/// `mediaType`, `digest` and `size`.
pub fn parse_payload(bytes: &[u8]) -> Result<Payload, EnvelopeError> {
    let payload: Payload = crate::json::from_slice(bytes).map_err(|e| EnvelopeError::Payload {
        reason: e.to_string(),
    })?;
    let d = &payload.target_artifact;
    if d.media_type.is_empty() {
        return Err(EnvelopeError::Payload {
            reason: "targetArtifact.mediaType is empty".to_owned(),
        });
    }
    match d.digest.split_once(':') {
        Some((alg, hex))
            if !alg.is_empty()
                && !hex.is_empty()
                && alg.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b)
                })
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b)) => {}
        _ => {
            return Err(EnvelopeError::Payload {
                reason: format!(
                    "targetArtifact.digest {:?} is not algorithm:encoded",
                    d.digest
                ),
            })
        }
    }
    Ok(payload)
}

/// The rules common to both formats once their headers are read: content type, signing
/// scheme and its time, `crit`.
pub(crate) struct CommonHeaders {
    pub(crate) format: EnvelopeFormat,
    pub(crate) content_type: Option<String>,
    pub(crate) signing_scheme: Option<String>,
    pub(crate) signing_time: Option<i64>,
    pub(crate) authentic_signing_time: Option<i64>,
    pub(crate) expiry: Option<i64>,
    /// `crit` as listed (None when absent).
    pub(crate) critical: Option<Vec<String>>,
    /// Every protected header name present (for `crit`), registered ones included.
    pub(crate) present: Vec<String>,
    /// Names of the protected headers that are not read into fields.
    pub(crate) extended: Vec<String>,
}

impl CommonHeaders {
    /// Applies the shared rules; returns (scheme, crit, extended attributes).
    pub(crate) fn check(
        self,
    ) -> Result<(SigningScheme, Vec<String>, Vec<ExtendedAttribute>), EnvelopeError> {
        let format = self.format;
        match self.content_type.as_deref() {
            Some(MEDIA_TYPE_PAYLOAD) => {}
            other => {
                return Err(EnvelopeError::ContentType {
                    found: other.unwrap_or_default().to_owned(),
                })
            }
        }
        let scheme = match self.signing_scheme.as_deref() {
            None => {
                return Err(EnvelopeError::MissingHeader {
                    format,
                    name: HEADER_SIGNING_SCHEME,
                })
            }
            Some("notary.x509") => SigningScheme::X509,
            Some("notary.x509.signingAuthority") => SigningScheme::X509SigningAuthority,
            Some(other) => {
                return Err(EnvelopeError::SigningScheme {
                    found: other.to_owned(),
                })
            }
        };
        match scheme {
            SigningScheme::X509 if self.signing_time.is_none() => {
                return Err(EnvelopeError::MissingHeader {
                    format,
                    name: HEADER_SIGNING_TIME,
                })
            }
            SigningScheme::X509SigningAuthority if self.authentic_signing_time.is_none() => {
                return Err(EnvelopeError::MissingHeader {
                    format,
                    name: HEADER_AUTHENTIC_SIGNING_TIME,
                })
            }
            _ => {}
        }
        let critical = self.critical.unwrap_or_default();
        let crit_err = |reason: String| EnvelopeError::Critical { format, reason };
        if critical.is_empty() {
            return Err(crit_err(
                "it is missing or empty; it must list io.cncf.notary.signingScheme".to_owned(),
            ));
        }
        for (i, name) in critical.iter().enumerate() {
            if critical[..i].contains(name) {
                return Err(crit_err(format!("it lists {name:?} twice")));
            }
            if !self.present.contains(name) {
                return Err(crit_err(format!(
                    "it lists {name:?}, which is not a protected header"
                )));
            }
        }
        let mut required = vec![HEADER_SIGNING_SCHEME];
        if self.authentic_signing_time.is_some() {
            required.push(HEADER_AUTHENTIC_SIGNING_TIME);
        }
        if self.expiry.is_some() {
            required.push(HEADER_EXPIRY);
        }
        for name in required {
            if !critical.iter().any(|c| c == name) {
                return Err(crit_err(format!(
                    "{name} is present but not marked critical"
                )));
            }
        }
        let extended = self
            .extended
            .into_iter()
            .map(|name| ExtendedAttribute {
                critical: critical.contains(&name),
                name,
            })
            .collect();
        Ok((scheme, critical, extended))
    }
}
