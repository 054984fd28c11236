//! Fulcio certificate extensions: the one OID table, and `Identity` extraction from a leaf.
//!
//! Source: sigstore/fulcio `docs/oid-info.md` (OIDs 1.3.6.1.4.1.57264.1.1 to .1.24) and its
//! "Mapping OIDC token claims to Fulcio OIDs" table; RFC 6962 for the SCT and poison OIDs;
//! RFC 5280 for the codeSigning EKU and the SAN. Extensions .1.1 to .1.6 hold raw UTF-8
//! bytes; .1.7 is an OtherName SAN type; .1.8 and later hold a DER UTF8String.
//!
//! This module does not verify signatures, chains, validity or SCTs (see [`crate::sct`] and
//! the verifier), and it does not apply identity policy; it only reads what the certificate
//! says.

use std::collections::BTreeMap;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

/// 1.3.6.1.4.1.57264.1.1: OIDC issuer, raw UTF-8 (deprecated but read by sigstore-python/-rs).
pub const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// 1.3.6.1.4.1.57264.1.2: GitHub workflow trigger (`event_name`), raw (deprecated).
pub const OID_GITHUB_WORKFLOW_TRIGGER: &str = "1.3.6.1.4.1.57264.1.2";
/// 1.3.6.1.4.1.57264.1.3: GitHub workflow SHA (`sha`), raw (deprecated).
pub const OID_GITHUB_WORKFLOW_SHA: &str = "1.3.6.1.4.1.57264.1.3";
/// 1.3.6.1.4.1.57264.1.4: GitHub workflow name (`workflow`), raw (deprecated).
pub const OID_GITHUB_WORKFLOW_NAME: &str = "1.3.6.1.4.1.57264.1.4";
/// 1.3.6.1.4.1.57264.1.5: GitHub workflow repository (`repository`), raw (deprecated).
pub const OID_GITHUB_WORKFLOW_REPOSITORY: &str = "1.3.6.1.4.1.57264.1.5";
/// 1.3.6.1.4.1.57264.1.6: GitHub workflow ref (`ref`), raw (deprecated).
pub const OID_GITHUB_WORKFLOW_REF: &str = "1.3.6.1.4.1.57264.1.6";
/// 1.3.6.1.4.1.57264.1.7: OtherName SAN type for username identities.
pub const OID_OTHERNAME_SAN: &str = "1.3.6.1.4.1.57264.1.7";
/// 1.3.6.1.4.1.57264.1.8: OIDC issuer, DER UTF8String.
pub const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// 1.3.6.1.4.1.57264.1.9: Build Signer URI.
pub const OID_BUILD_SIGNER_URI: &str = "1.3.6.1.4.1.57264.1.9";
/// 1.3.6.1.4.1.57264.1.10: Build Signer Digest.
pub const OID_BUILD_SIGNER_DIGEST: &str = "1.3.6.1.4.1.57264.1.10";
/// 1.3.6.1.4.1.57264.1.11: Runner Environment.
pub const OID_RUNNER_ENVIRONMENT: &str = "1.3.6.1.4.1.57264.1.11";
/// 1.3.6.1.4.1.57264.1.12: Source Repository URI.
pub const OID_SOURCE_REPOSITORY_URI: &str = "1.3.6.1.4.1.57264.1.12";
/// 1.3.6.1.4.1.57264.1.13: Source Repository Digest.
pub const OID_SOURCE_REPOSITORY_DIGEST: &str = "1.3.6.1.4.1.57264.1.13";
/// 1.3.6.1.4.1.57264.1.14: Source Repository Ref.
pub const OID_SOURCE_REPOSITORY_REF: &str = "1.3.6.1.4.1.57264.1.14";
/// 1.3.6.1.4.1.57264.1.15: Source Repository Identifier.
pub const OID_SOURCE_REPOSITORY_IDENTIFIER: &str = "1.3.6.1.4.1.57264.1.15";
/// 1.3.6.1.4.1.57264.1.16: Source Repository Owner URI.
pub const OID_SOURCE_REPOSITORY_OWNER_URI: &str = "1.3.6.1.4.1.57264.1.16";
/// 1.3.6.1.4.1.57264.1.17: Source Repository Owner Identifier.
pub const OID_SOURCE_REPOSITORY_OWNER_IDENTIFIER: &str = "1.3.6.1.4.1.57264.1.17";
/// 1.3.6.1.4.1.57264.1.18: Build Config URI.
pub const OID_BUILD_CONFIG_URI: &str = "1.3.6.1.4.1.57264.1.18";
/// 1.3.6.1.4.1.57264.1.19: Build Config Digest.
pub const OID_BUILD_CONFIG_DIGEST: &str = "1.3.6.1.4.1.57264.1.19";
/// 1.3.6.1.4.1.57264.1.20: Build Trigger.
pub const OID_BUILD_TRIGGER: &str = "1.3.6.1.4.1.57264.1.20";
/// 1.3.6.1.4.1.57264.1.21: Run Invocation URI.
pub const OID_RUN_INVOCATION_URI: &str = "1.3.6.1.4.1.57264.1.21";
/// 1.3.6.1.4.1.57264.1.22: Source Repository Visibility At Signing.
pub const OID_SOURCE_REPOSITORY_VISIBILITY: &str = "1.3.6.1.4.1.57264.1.22";
/// 1.3.6.1.4.1.57264.1.23: Deployment Environment.
pub const OID_DEPLOYMENT_ENVIRONMENT: &str = "1.3.6.1.4.1.57264.1.23";
/// 1.3.6.1.4.1.57264.1.24: the token's raw `sub` claim.
pub const OID_TOKEN_SUBJECT: &str = "1.3.6.1.4.1.57264.1.24";

/// RFC 6962 embedded SCT list (same value as [`crate::sct::OID_SCT_LIST`]).
pub const OID_SCT_LIST: &str = crate::sct::OID_SCT_LIST;
/// RFC 6962 precertificate poison (same value as [`crate::sct::OID_PRECERT_POISON`]).
pub const OID_PRECERT_POISON: &str = crate::sct::OID_PRECERT_POISON;
/// RFC 5280 id-kp-codeSigning.
pub const OID_EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";

/// How an extension's value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueEncoding {
    /// The extension value is the raw UTF-8 bytes (.1.1 to .1.6).
    RawUtf8,
    /// The extension value is a DER UTF8String (.1.8 and later).
    DerUtf8String,
}

/// One row of the Fulcio extension table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FulcioOid {
    /// Dotted OID.
    pub oid: &'static str,
    /// Name as in Fulcio's `oid-info.md`.
    pub name: &'static str,
    /// Value encoding.
    pub encoding: ValueEncoding,
}

const fn row(oid: &'static str, name: &'static str, encoding: ValueEncoding) -> FulcioOid {
    FulcioOid {
        oid,
        name,
        encoding,
    }
}

/// The Fulcio string-valued extensions (all except the .1.7 OtherName SAN type).
pub const FULCIO_OIDS: &[FulcioOid] = &[
    row(OID_ISSUER_V1, "Issuer (deprecated)", ValueEncoding::RawUtf8),
    row(
        OID_GITHUB_WORKFLOW_TRIGGER,
        "GitHub Workflow Trigger",
        ValueEncoding::RawUtf8,
    ),
    row(
        OID_GITHUB_WORKFLOW_SHA,
        "GitHub Workflow SHA",
        ValueEncoding::RawUtf8,
    ),
    row(
        OID_GITHUB_WORKFLOW_NAME,
        "GitHub Workflow Name",
        ValueEncoding::RawUtf8,
    ),
    row(
        OID_GITHUB_WORKFLOW_REPOSITORY,
        "GitHub Workflow Repository",
        ValueEncoding::RawUtf8,
    ),
    row(
        OID_GITHUB_WORKFLOW_REF,
        "GitHub Workflow Ref",
        ValueEncoding::RawUtf8,
    ),
    row(OID_ISSUER_V2, "Issuer (V2)", ValueEncoding::DerUtf8String),
    row(
        OID_BUILD_SIGNER_URI,
        "Build Signer URI",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_BUILD_SIGNER_DIGEST,
        "Build Signer Digest",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_RUNNER_ENVIRONMENT,
        "Runner Environment",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_SOURCE_REPOSITORY_URI,
        "Source Repository URI",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_SOURCE_REPOSITORY_DIGEST,
        "Source Repository Digest",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_SOURCE_REPOSITORY_REF,
        "Source Repository Ref",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_SOURCE_REPOSITORY_IDENTIFIER,
        "Source Repository Identifier",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_SOURCE_REPOSITORY_OWNER_URI,
        "Source Repository Owner URI",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_SOURCE_REPOSITORY_OWNER_IDENTIFIER,
        "Source Repository Owner Identifier",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_BUILD_CONFIG_URI,
        "Build Config URI",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_BUILD_CONFIG_DIGEST,
        "Build Config Digest",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_BUILD_TRIGGER,
        "Build Trigger",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_RUN_INVOCATION_URI,
        "Run Invocation URI",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_SOURCE_REPOSITORY_VISIBILITY,
        "Source Repository Visibility At Signing",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_DEPLOYMENT_ENVIRONMENT,
        "Deployment Environment",
        ValueEncoding::DerUtf8String,
    ),
    row(
        OID_TOKEN_SUBJECT,
        "Token Subject",
        ValueEncoding::DerUtf8String,
    ),
];

/// Looks up a Fulcio OID in [`FULCIO_OIDS`].
#[must_use]
pub fn fulcio_oid(oid: &str) -> Option<&'static FulcioOid> {
    FULCIO_OIDS.iter().find(|r| r.oid == oid)
}

/// Parses a dotted OID into its arcs (the form rcgen's `CustomExtension` takes).
///
/// # Errors
/// [`CertError::InvalidOid`] for text that is not dot-separated decimal arcs.
pub fn oid_arcs(dotted: &str) -> Result<Vec<u64>, CertError> {
    dotted
        .split('.')
        .map(|a| a.parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| CertError::InvalidOid {
            oid: dotted.to_owned(),
        })
}

/// Encodes `value` as the extension value for `oid` (raw bytes or a DER UTF8String, per
/// [`FULCIO_OIDS`]).
///
/// # Errors
/// [`CertError::UnknownOid`] if `oid` is not in the table.
pub fn encode_extension_value(oid: &str, value: &str) -> Result<Vec<u8>, CertError> {
    let row = fulcio_oid(oid).ok_or_else(|| CertError::UnknownOid {
        oid: oid.to_owned(),
    })?;
    Ok(match row.encoding {
        ValueEncoding::RawUtf8 => value.as_bytes().to_vec(),
        ValueEncoding::DerUtf8String => der_utf8_string(value),
    })
}

/// DER-encodes a UTF8String (tag 12).
#[must_use]
pub fn der_utf8_string(value: &str) -> Vec<u8> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + 6);
    out.push(0x0c);
    let len = bytes.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let be = len.to_be_bytes();
        let skip = be.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | u8::try_from(be.len() - skip).unwrap_or(0));
        out.extend_from_slice(&be[skip..]);
    }
    out.extend_from_slice(bytes);
    out
}

/// Decodes a DER UTF8String (tag 12, definite minimal length, no trailing bytes).
///
/// # Errors
/// [`CertError::BadExtensionValue`] (with an empty OID) if malformed.
pub fn parse_der_utf8_string(der: &[u8]) -> Result<String, CertError> {
    parse_utf8_string(der).ok_or_else(|| CertError::BadExtensionValue {
        oid: String::new(),
        reason: "not a DER UTF8String",
    })
}

fn parse_utf8_string(der: &[u8]) -> Option<String> {
    let (&tag, rest) = der.split_first()?;
    if tag != 0x0c {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n || rest[0] == 0 {
            return None;
        }
        let (lb, rest) = rest.split_at(n);
        let len = lb.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
        if len < 0x80 {
            return None;
        }
        (len, rest)
    };
    if rest.len() != len {
        return None;
    }
    String::from_utf8(rest.to_vec()).ok()
}

/// Errors from reading a certificate's identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// The certificate DER did not parse.
    #[error("certificate does not parse: {reason}")]
    Parse {
        /// Parser message.
        reason: String,
    },
    /// A Fulcio extension value is malformed.
    #[error("extension {oid} is malformed: {reason}")]
    BadExtensionValue {
        /// Dotted OID.
        oid: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An extension appears more than once.
    #[error("extension {oid} appears more than once")]
    DuplicateExtension {
        /// Dotted OID.
        oid: String,
    },
    /// An OID is not in the Fulcio table.
    #[error("OID {oid} is not a Fulcio extension")]
    UnknownOid {
        /// Dotted OID.
        oid: String,
    },
    /// Malformed dotted OID text.
    #[error("invalid OID {oid:?}")]
    InvalidOid {
        /// The text.
        oid: String,
    },
}

/// One Subject Alternative Name entry of a leaf that names a signer: only the types Sigstore
/// clients accept as a signer identity (sigstore-python's `Identity` policy, sigstore-go's
/// certificate summary, cosign): rfc822Name, uniformResourceIdentifier and Fulcio's username
/// OtherName. Other types (dNSName, iPAddress, registeredID, directoryName, other OtherName
/// types, ...) name no signer and are not read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubjectAltName {
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// Fulcio username OtherName (type 1.3.6.1.4.1.57264.1.7, UTF8String value).
    OtherName(String),
}

impl SubjectAltName {
    /// The SAN's string value.
    #[must_use]
    pub fn value(&self) -> &str {
        match self {
            Self::Email(s) | Self::Uri(s) | Self::OtherName(s) => s,
        }
    }
}

/// The identity a Fulcio-profile leaf certificate asserts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// The signer SAN entries (email, URI, Fulcio username OtherName) in certificate order;
    /// SANs of other types are left out (see [`SubjectAltName`]), so a certificate whose only
    /// SAN is, say, a dNSName has none and [`Identity::san`] is `None`.
    pub sans: Vec<SubjectAltName>,
    /// The OIDC issuer: .1.8 when present, else .1.1.
    pub issuer: Option<String>,
    /// Every Fulcio string extension present (.1.1 to .1.24 except .1.7), decoded per
    /// [`FULCIO_OIDS`], keyed by dotted OID.
    pub extensions: BTreeMap<String, String>,
}

impl Identity {
    /// Extracts the identity from a DER certificate.
    ///
    /// # Errors
    /// [`CertError::Parse`], or [`CertError::BadExtensionValue`] /
    /// [`CertError::DuplicateExtension`] for a malformed Fulcio extension.
    pub fn from_der(cert_der: &[u8]) -> Result<Self, CertError> {
        let (rest, cert) = X509Certificate::from_der(cert_der).map_err(|e| CertError::Parse {
            reason: e.to_string(),
        })?;
        if !rest.is_empty() {
            return Err(CertError::Parse {
                reason: format!("{} trailing bytes", rest.len()),
            });
        }
        Self::from_certificate(&cert)
    }

    /// Extracts the identity from a parsed certificate.
    ///
    /// # Errors
    /// As [`Identity::from_der`].
    pub fn from_certificate(cert: &X509Certificate<'_>) -> Result<Self, CertError> {
        let mut id = Self::default();
        for ext in cert.extensions() {
            let oid = ext.oid.to_id_string();
            if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
                for name in &san.general_names {
                    match name {
                        GeneralName::RFC822Name(s) => {
                            id.sans.push(SubjectAltName::Email((*s).to_owned()))
                        }
                        GeneralName::URI(s) => id.sans.push(SubjectAltName::Uri((*s).to_owned())),
                        GeneralName::OtherName(type_id, value)
                            if type_id.to_id_string() == OID_OTHERNAME_SAN =>
                        {
                            let v =
                                other_name_value(value).ok_or(CertError::BadExtensionValue {
                                    oid: OID_OTHERNAME_SAN.to_owned(),
                                    reason: "OtherName value is not [0] EXPLICIT UTF8String",
                                })?;
                            id.sans.push(SubjectAltName::OtherName(v));
                        }
                        // dNSName, iPAddress, registeredID, directoryName, other OtherName
                        // types...: not a signer identity to any Sigstore client.
                        _ => {}
                    }
                }
                continue;
            }
            let Some(row) = fulcio_oid(&oid) else {
                continue;
            };
            let value = match row.encoding {
                ValueEncoding::RawUtf8 => String::from_utf8(ext.value.to_vec()).ok(),
                ValueEncoding::DerUtf8String => parse_utf8_string(ext.value),
            }
            .ok_or_else(|| CertError::BadExtensionValue {
                oid: oid.clone(),
                reason: match row.encoding {
                    ValueEncoding::RawUtf8 => "not UTF-8",
                    ValueEncoding::DerUtf8String => "not a DER UTF8String",
                },
            })?;
            if id.extensions.insert(oid.clone(), value).is_some() {
                return Err(CertError::DuplicateExtension { oid });
            }
        }
        id.issuer = id
            .extensions
            .get(OID_ISSUER_V2)
            .or_else(|| id.extensions.get(OID_ISSUER_V1))
            .cloned();
        Ok(id)
    }

    /// The value of a Fulcio extension, if present.
    #[must_use]
    pub fn extension(&self, oid: &str) -> Option<&str> {
        self.extensions.get(oid).map(String::as_str)
    }

    /// The signer: the first signer SAN's value (Fulcio issues exactly one), `None` when the
    /// certificate has no email, URI or Fulcio username SAN.
    #[must_use]
    pub fn san(&self) -> Option<&str> {
        self.sans.first().map(SubjectAltName::value)
    }

    /// Build Signer URI (.1.9), e.g. the GitHub `job_workflow_ref` URL.
    #[must_use]
    pub fn build_signer_uri(&self) -> Option<&str> {
        self.extension(OID_BUILD_SIGNER_URI)
    }

    /// Source Repository URI (.1.12).
    #[must_use]
    pub fn source_repository_uri(&self) -> Option<&str> {
        self.extension(OID_SOURCE_REPOSITORY_URI)
    }

    /// Source Repository Ref (.1.14).
    #[must_use]
    pub fn source_repository_ref(&self) -> Option<&str> {
        self.extension(OID_SOURCE_REPOSITORY_REF)
    }

    /// Source Repository Digest (.1.13).
    #[must_use]
    pub fn source_repository_digest(&self) -> Option<&str> {
        self.extension(OID_SOURCE_REPOSITORY_DIGEST)
    }

    /// Build Trigger (.1.20).
    #[must_use]
    pub fn build_trigger(&self) -> Option<&str> {
        self.extension(OID_BUILD_TRIGGER)
    }

    /// The raw token `sub` (.1.24).
    #[must_use]
    pub fn token_subject(&self) -> Option<&str> {
        self.extension(OID_TOKEN_SUBJECT)
    }
}

/// x509-parser hands OtherName values either as the `[0] EXPLICIT` wrapper or its content.
fn other_name_value(value: &[u8]) -> Option<String> {
    if let Some(s) = parse_utf8_string(value) {
        return Some(s);
    }
    let (&tag, rest) = value.split_first()?;
    if tag != 0xa0 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let inner = if first < 0x80 {
        rest
    } else {
        let n = usize::from(first & 0x7f);
        rest.get(n..)?
    };
    parse_utf8_string(inner)
}
