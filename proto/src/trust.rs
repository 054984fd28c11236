//! Sigstore trust material: `trusted_root.json`, `signing_config.json` (v0.2) and the client
//! trust config that wraps both, in the proto3 JSON mapping.
//!
//! Spec: sigstore/protobuf-specs `protos/sigstore_trustroot.proto` (commit
//! 104df670656f5b1995769260e62d9b0e04053561); the JSON rules are those listed in
//! [`crate::bundle`]. Timestamps are [`Timestamp`](crate::bundle::Timestamp)s, which keep their RFC 3339 text so files
//! round-trip unchanged.
//!
//! What this module does not do: decide whether a key or certificate is trusted at a time
//! (that is `signet-verifier::trust`), parse the DER it carries, or fetch anything (TUF
//! lives in the CLI). Media types other than the ones named below are rejected, because
//! sigstore-python rejects them too.

use crate::bundle::{
    null_as_default, Base64Bytes, DistinguishedName, HashAlgorithm, LogId, PublicKey, TimeRange,
    X509CertificateChain,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Media type of a trusted root.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// Media type of a v0.2 signing config.
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
/// Media type of a client trust config.
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// Errors from parsing trust material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The JSON does not match the schema (includes wrong media types).
    #[error("malformed trust JSON: {source}")]
    Json {
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
}

macro_rules! media_type {
    ($(#[$meta:meta])* $name:ident = $konst:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name;

        impl $name {
            /// The media type string.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                $konst
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($konst)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                if s == $konst {
                    Ok($name)
                } else {
                    Err(serde::de::Error::custom(format!(
                        "unsupported media type {s:?}, expected {:?}",
                        $konst
                    )))
                }
            }
        }
    };
}

media_type!(
    /// The `mediaType` of a [`TrustedRoot`]; only
    /// `application/vnd.dev.sigstore.trustedroot+json;version=0.1` is accepted.
    TrustedRootMediaType = TRUSTED_ROOT_MEDIA_TYPE
);
media_type!(
    /// The `mediaType` of a [`SigningConfig`]; only
    /// `application/vnd.dev.sigstore.signingconfig.v0.2+json` is accepted.
    SigningConfigMediaType = SIGNING_CONFIG_MEDIA_TYPE
);
media_type!(
    /// The `mediaType` of a [`ClientTrustConfig`]; only
    /// `application/vnd.dev.sigstore.clienttrustconfig.v0.1+json` is accepted.
    ClientTrustConfigMediaType = CLIENT_TRUST_CONFIG_MEDIA_TYPE
);

/// `TransparencyLogInstance`: a Rekor log or a CT log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransparencyLogInstance {
    /// Base URL (sigstore-js matches the checkpoint signer name against it).
    #[serde(default, deserialize_with = "null_as_default")]
    pub base_url: String,
    /// Merkle tree hash algorithm.
    #[serde(default, deserialize_with = "null_as_default")]
    pub hash_algorithm: HashAlgorithm,
    /// The log's key.
    pub public_key: PublicKey,
    /// SHA-256 of the key's SPKI DER.
    pub log_id: LogId,
    /// Checkpoint key ID, when it differs from `log_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_key_id: Option<LogId>,
    /// Operator name.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub operator: String,
}

/// `CertificateAuthority`: a Fulcio CA or an RFC 3161 TSA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateAuthority {
    /// Subject of the CA.
    #[serde(default, deserialize_with = "null_as_default")]
    pub subject: DistinguishedName,
    /// Service URI.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub uri: String,
    /// DER chain: intermediates first, root last.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cert_chain: X509CertificateChain,
    /// When the CA may issue.
    #[serde(default, deserialize_with = "null_as_default")]
    pub valid_for: TimeRange,
    /// Operator name.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub operator: String,
}

/// `TrustedRoot`: the keys and CAs a verifier trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustedRoot {
    /// Always [`TRUSTED_ROOT_MEDIA_TYPE`].
    pub media_type: TrustedRootMediaType,
    /// Rekor logs.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tlogs: Vec<TransparencyLogInstance>,
    /// Fulcio CAs.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// CT logs.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ctlogs: Vec<TransparencyLogInstance>,
    /// RFC 3161 timestamp authorities.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

impl TrustedRoot {
    /// Parses a trusted root from JSON bytes.
    ///
    /// # Errors
    ///
    /// [`TrustError::Json`] on malformed JSON, unknown fields, a wrong media type, bad
    /// base64 or bad timestamps.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustError> {
        crate::json::from_slice(bytes).map_err(|source| TrustError::Json { source })
    }

    /// Serializes to indented JSON.
    ///
    /// # Errors
    ///
    /// [`TrustError::Json`] (not expected for these types).
    pub fn to_json_pretty(&self) -> Result<Vec<u8>, TrustError> {
        serde_json::to_vec_pretty(self).map_err(|source| TrustError::Json { source })
    }

    /// The transparency log whose `logId.keyId` equals `key_id`.
    #[must_use]
    pub fn tlog_by_key_id(&self, key_id: &[u8]) -> Option<&TransparencyLogInstance> {
        self.tlogs
            .iter()
            .find(|t| t.log_id.key_id.as_slice() == key_id)
    }

    /// The CT log whose `logId.keyId` equals `key_id`.
    #[must_use]
    pub fn ctlog_by_key_id(&self, key_id: &[u8]) -> Option<&TransparencyLogInstance> {
        self.ctlogs
            .iter()
            .find(|t| t.log_id.key_id.as_slice() == key_id)
    }
}

crate::bundle::proto_enum! {
    /// `ServiceSelector`: how many services of a list a client uses.
    ServiceSelector {
        /// `SERVICE_SELECTOR_UNDEFINED`.
        #[default]
        Undefined = "SERVICE_SELECTOR_UNDEFINED" / 0,
        /// `ALL`.
        All = "ALL" / 1,
        /// `ANY`.
        Any = "ANY" / 2,
        /// `EXACT` (use `count`).
        Exact = "EXACT" / 3,
    }
}

/// `Service`: one endpoint of a signing config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Service {
    /// Base URL.
    #[serde(default, deserialize_with = "null_as_default")]
    pub url: String,
    /// Major API version (Rekor v1 = 1, Rekor v2 = 2).
    #[serde(default, deserialize_with = "null_as_default")]
    pub major_api_version: u32,
    /// When the service may be used.
    #[serde(default, deserialize_with = "null_as_default")]
    pub valid_for: TimeRange,
    /// Operator name.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub operator: String,
}

/// `ServiceConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceConfiguration {
    /// Selection rule.
    #[serde(default, deserialize_with = "null_as_default")]
    pub selector: ServiceSelector,
    /// Number of services for [`ServiceSelector::Exact`].
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero_u32"
    )]
    pub count: u32,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

/// `SigningConfig` v0.2: where a signer finds its CA, OIDC provider, logs and TSAs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigningConfig {
    /// Always [`SIGNING_CONFIG_MEDIA_TYPE`].
    pub media_type: SigningConfigMediaType,
    /// Fulcio instances.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ca_urls: Vec<Service>,
    /// OIDC providers.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub oidc_urls: Vec<Service>,
    /// Rekor instances.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rekor_tlog_urls: Vec<Service>,
    /// How to choose among `rekor_tlog_urls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekor_tlog_config: Option<ServiceConfiguration>,
    /// Timestamp authorities.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tsa_urls: Vec<Service>,
    /// How to choose among `tsa_urls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa_config: Option<ServiceConfiguration>,
}

impl SigningConfig {
    /// A config naming no services (what sigstore-python accepts for offline verification).
    #[must_use]
    pub fn empty() -> Self {
        SigningConfig {
            media_type: SigningConfigMediaType,
            ca_urls: Vec::new(),
            oidc_urls: Vec::new(),
            rekor_tlog_urls: Vec::new(),
            rekor_tlog_config: None,
            tsa_urls: Vec::new(),
            tsa_config: None,
        }
    }

    /// Parses a signing config from JSON bytes.
    ///
    /// # Errors
    ///
    /// [`TrustError::Json`] on malformed JSON, unknown fields or a wrong media type.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustError> {
        crate::json::from_slice(bytes).map_err(|source| TrustError::Json { source })
    }
}

/// `ClientTrustConfig`: a trusted root and a signing config in one file
/// (`sigstore --trust-config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientTrustConfig {
    /// Always [`CLIENT_TRUST_CONFIG_MEDIA_TYPE`].
    pub media_type: ClientTrustConfigMediaType,
    /// The trusted root.
    pub trusted_root: TrustedRoot,
    /// The signing config.
    pub signing_config: SigningConfig,
}

impl ClientTrustConfig {
    /// Parses a client trust config from JSON bytes.
    ///
    /// # Errors
    ///
    /// [`TrustError::Json`] on malformed JSON, unknown fields or a wrong media type.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustError> {
        crate::json::from_slice(bytes).map_err(|source| TrustError::Json { source })
    }
}

/// Shorthand kept for callers that build trust roots: a DER SPKI as a common `PublicKey`.
#[must_use]
pub fn public_key(
    spki_der: Vec<u8>,
    details: crate::bundle::PublicKeyDetails,
    valid_for: TimeRange,
) -> PublicKey {
    PublicKey {
        raw_bytes: Some(Base64Bytes(spki_der)),
        key_details: details,
        valid_for: Some(valid_for),
    }
}
