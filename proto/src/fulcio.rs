//! Fulcio v2 REST API request and response types (the grpc-gateway JSON of `fulcio.proto`).
//!
//! Spec: sigstore/fulcio `fulcio.proto` (commit eb10c98e186f1d8e78dd60a257d8897f66d5147a),
//! served as `POST /api/v2/signingCert`, `GET /api/v2/trustBundle` and
//! `GET /api/v2/configuration`. JSON follows the proto3 mapping described in
//! [`crate::bundle`]: camelCase names, base64 `bytes`, enum names, unknown fields rejected,
//! oneofs as Rust enums with exactly one member present.
//!
//! What this module does not do: verify the OIDC token or the proof of possession, parse
//! the CSR or the certificates (they stay PEM text / DER bytes), or talk HTTP.
//!
//! The legacy v1 request (`fulcio_legacy.proto`, `POST /api/v1/signingCert`, still what
//! cosign's Fulcio client sends) is read by [`LegacyCertificateRequest`] and turned into the
//! v2 request Fulcio's own legacy server builds from it; its answer is the PEM chain as text.

use crate::bundle::Base64Bytes;
use serde::{Deserialize, Serialize};

/// Errors from parsing Fulcio API JSON.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FulcioError {
    /// The JSON does not match the schema.
    #[error("malformed Fulcio JSON: {source}")]
    Json {
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
}

crate::bundle::proto_enum! {
    /// `PublicKeyAlgorithm` (informational: Fulcio infers the algorithm from the key).
    PublicKeyAlgorithm {
        /// `PUBLIC_KEY_ALGORITHM_UNSPECIFIED`.
        #[default]
        Unspecified = "PUBLIC_KEY_ALGORITHM_UNSPECIFIED" / 0,
        /// `RSA_PSS` (actually RSA PKCS#1 v1.5 in Fulcio).
        RsaPss = "RSA_PSS" / 1,
        /// `ECDSA`.
        Ecdsa = "ECDSA" / 2,
        /// `ED25519`.
        Ed25519 = "ED25519" / 3,
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_unspecified_alg(a: &PublicKeyAlgorithm) -> bool {
    *a == PublicKeyAlgorithm::Unspecified
}

/// `Credentials`: who is asking (the `credentials` oneof has one member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Credentials {
    /// The raw OIDC ID token (a JWS compact serialization).
    pub oidc_identity_token: String,
}

/// `PublicKey` (Fulcio): the key to certify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FulcioPublicKey {
    /// Declared algorithm (ignored by Fulcio).
    #[serde(default, skip_serializing_if = "is_unspecified_alg")]
    pub algorithm: PublicKeyAlgorithm,
    /// PEM (`PUBLIC KEY`) or base64 DER SubjectPublicKeyInfo, as a string.
    pub content: String,
}

/// `PublicKeyRequest`: a key plus proof of possession.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublicKeyRequest {
    /// The key.
    pub public_key: FulcioPublicKey,
    /// Signature by the key over the token's `sub` (or the configured challenge claim).
    pub proof_of_possession: Base64Bytes,
}

/// The `key` oneof of [`CreateSigningCertificateRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRequest {
    /// `publicKeyRequest`.
    PublicKey(PublicKeyRequest),
    /// `certificateSigningRequest`: PEM PKCS#10 CSR bytes (base64 in JSON).
    CertificateSigningRequest(Base64Bytes),
}

/// `CreateSigningCertificateRequest` (`POST /api/v2/signingCert`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "RawCreateSigningCertificateRequest",
    into = "RawCreateSigningCertificateRequest"
)]
pub struct CreateSigningCertificateRequest {
    /// The caller's identity token. Fulcio lets a client leave it out of the body and send
    /// it as `Authorization: Bearer <token>` instead (sigstore-python does), so it is
    /// optional here; the HTTP layer decides which one counts.
    pub credentials: Option<Credentials>,
    /// The key to certify.
    pub key: KeyRequest,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawCreateSigningCertificateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credentials: Option<Credentials>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key_request: Option<PublicKeyRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate_signing_request: Option<Base64Bytes>,
}

impl TryFrom<RawCreateSigningCertificateRequest> for CreateSigningCertificateRequest {
    type Error = String;
    fn try_from(r: RawCreateSigningCertificateRequest) -> Result<Self, String> {
        let key = match (r.public_key_request, r.certificate_signing_request) {
            (Some(p), None) => KeyRequest::PublicKey(p),
            (None, Some(c)) => KeyRequest::CertificateSigningRequest(c),
            (None, None) => {
                return Err("request needs publicKeyRequest or certificateSigningRequest".into())
            }
            (Some(_), Some(_)) => {
                return Err(
                    "request has both publicKeyRequest and certificateSigningRequest".into(),
                )
            }
        };
        Ok(CreateSigningCertificateRequest {
            credentials: r.credentials,
            key,
        })
    }
}

impl From<CreateSigningCertificateRequest> for RawCreateSigningCertificateRequest {
    fn from(r: CreateSigningCertificateRequest) -> Self {
        let (public_key_request, certificate_signing_request) = match r.key {
            KeyRequest::PublicKey(p) => (Some(p), None),
            KeyRequest::CertificateSigningRequest(c) => (None, Some(c)),
        };
        RawCreateSigningCertificateRequest {
            credentials: r.credentials,
            public_key_request,
            certificate_signing_request,
        }
    }
}

impl CreateSigningCertificateRequest {
    /// Parses a request body.
    ///
    /// # Errors
    ///
    /// [`FulcioError::Json`] on malformed JSON, unknown fields, bad base64 or a broken
    /// `key` oneof.
    pub fn from_json(bytes: &[u8]) -> Result<Self, FulcioError> {
        crate::json::from_slice(bytes).map_err(|source| FulcioError::Json { source })
    }
}

/// `fulcio_legacy.PublicKey`: the key as bytes (DER SubjectPublicKeyInfo, or PEM text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacyPublicKey {
    /// Informational, as in v2 (`"ecdsa"`, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub algorithm: String,
    /// The key's bytes.
    pub content: Base64Bytes,
}

/// `fulcio_legacy.CreateSigningCertificateRequest` (`POST /api/v1/signingCert`). The token
/// travels only in the `Authorization: Bearer` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacyCertificateRequest {
    /// The key to certify (with `signedEmailAddress`), unless a CSR is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<LegacyPublicKey>,
    /// Proof of possession: the key's signature over the challenge (the token's email or
    /// `sub`), despite the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_email_address: Option<Base64Bytes>,
    /// A PEM PKCS#10 CSR; when present it wins over `publicKey`, as in Fulcio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_signing_request: Option<Base64Bytes>,
}

/// Why a legacy request has no key to certify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("request needs publicKey or certificateSigningRequest")]
#[non_exhaustive]
pub struct LegacyNoKey;

impl LegacyCertificateRequest {
    /// Parses a request body.
    ///
    /// # Errors
    ///
    /// [`FulcioError::Json`] on malformed JSON, unknown fields or bad base64.
    pub fn from_json(bytes: &[u8]) -> Result<Self, FulcioError> {
        crate::json::from_slice(bytes).map_err(|source| FulcioError::Json { source })
    }

    /// The v2 request Fulcio's legacy server makes of this one (no credentials: the caller
    /// adds the Bearer token). A non-empty CSR wins; otherwise the key's bytes become the v2
    /// `content` string: PEM text as is, anything else (DER) as base64, which the v2 key
    /// parser reads either way. A missing `signedEmailAddress` is an empty proof, which then
    /// fails verification, as in Fulcio.
    ///
    /// # Errors
    ///
    /// [`LegacyNoKey`] when there is neither a CSR nor a key.
    pub fn into_v2(self) -> Result<CreateSigningCertificateRequest, LegacyNoKey> {
        let key = match (self.certificate_signing_request, self.public_key) {
            (Some(csr), _) if !csr.0.is_empty() => KeyRequest::CertificateSigningRequest(csr),
            (_, Some(pk)) => {
                let content = match std::str::from_utf8(&pk.content.0) {
                    Ok(text) if text.trim_start().starts_with("-----BEGIN") => text.to_owned(),
                    _ => {
                        use base64::Engine as _;
                        base64::engine::general_purpose::STANDARD.encode(&pk.content.0)
                    }
                };
                KeyRequest::PublicKey(PublicKeyRequest {
                    public_key: FulcioPublicKey {
                        algorithm: PublicKeyAlgorithm::Unspecified,
                        content,
                    },
                    proof_of_possession: self.signed_email_address.unwrap_or_default(),
                })
            }
            _ => return Err(LegacyNoKey),
        };
        Ok(CreateSigningCertificateRequest {
            credentials: None,
            key,
        })
    }
}

/// `CertificateChain`: PEM certificates, leaf first, root last.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateChain {
    /// PEM-encoded certificates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<String>,
}

/// `SigningCertificateEmbeddedSCT`: the chain, with the SCT inside the leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigningCertificateEmbeddedSct {
    /// Leaf, intermediates, root (PEM).
    #[serde(default)]
    pub chain: CertificateChain,
}

/// `SigningCertificateDetachedSCT`: the chain plus a separate SCT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigningCertificateDetachedSct {
    /// Leaf, intermediates, root (PEM).
    #[serde(default)]
    pub chain: CertificateChain,
    /// The CT log's `add-chain` response JSON, as bytes.
    #[serde(default)]
    pub signed_certificate_timestamp: Base64Bytes,
}

/// `SigningCertificate`: the response of `POST /api/v2/signingCert`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSigningCertificate", into = "RawSigningCertificate")]
#[non_exhaustive]
pub enum SigningCertificate {
    /// `signedCertificateDetachedSct`.
    DetachedSct(SigningCertificateDetachedSct),
    /// `signedCertificateEmbeddedSct`.
    EmbeddedSct(SigningCertificateEmbeddedSct),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSigningCertificate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_certificate_detached_sct: Option<SigningCertificateDetachedSct>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_certificate_embedded_sct: Option<SigningCertificateEmbeddedSct>,
}

impl TryFrom<RawSigningCertificate> for SigningCertificate {
    type Error = String;
    fn try_from(r: RawSigningCertificate) -> Result<Self, String> {
        match (
            r.signed_certificate_detached_sct,
            r.signed_certificate_embedded_sct,
        ) {
            (Some(d), None) => Ok(SigningCertificate::DetachedSct(d)),
            (None, Some(e)) => Ok(SigningCertificate::EmbeddedSct(e)),
            (None, None) => Err(
                "response needs signedCertificateDetachedSct or signedCertificateEmbeddedSct"
                    .into(),
            ),
            (Some(_), Some(_)) => Err(
                "response has both signedCertificateDetachedSct and signedCertificateEmbeddedSct"
                    .into(),
            ),
        }
    }
}

impl From<SigningCertificate> for RawSigningCertificate {
    fn from(s: SigningCertificate) -> Self {
        match s {
            SigningCertificate::DetachedSct(d) => RawSigningCertificate {
                signed_certificate_detached_sct: Some(d),
                signed_certificate_embedded_sct: None,
            },
            SigningCertificate::EmbeddedSct(e) => RawSigningCertificate {
                signed_certificate_detached_sct: None,
                signed_certificate_embedded_sct: Some(e),
            },
        }
    }
}

impl SigningCertificate {
    /// The PEM chain of either variant.
    #[must_use]
    pub fn chain(&self) -> &CertificateChain {
        match self {
            SigningCertificate::DetachedSct(d) => &d.chain,
            SigningCertificate::EmbeddedSct(e) => &e.chain,
        }
    }

    /// Parses a response body.
    ///
    /// # Errors
    ///
    /// [`FulcioError::Json`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, FulcioError> {
        crate::json::from_slice(bytes).map_err(|source| FulcioError::Json { source })
    }
}

/// `TrustBundle` (`GET /api/v2/trustBundle`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustBundle {
    /// PEM chains: intermediates then root.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chains: Vec<CertificateChain>,
}

/// The `issuer` oneof of [`OidcIssuer`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssuerUrl {
    /// `issuerUrl`: an exact issuer URL.
    Exact(String),
    /// `wildcardIssuerUrl`: an issuer URL pattern such as `https://oidc.eks.*.amazonaws.com/id/*`.
    Wildcard(String),
}

/// `OIDCIssuer`: one accepted OIDC issuer of `GET /api/v2/configuration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawOidcIssuer", into = "RawOidcIssuer")]
pub struct OidcIssuer {
    /// The issuer URL or pattern.
    pub issuer: IssuerUrl,
    /// Expected `aud`.
    pub audience: String,
    /// Claim signed for proof of possession (e.g. `sub`, `email`).
    pub challenge_claim: String,
    /// SPIFFE trust domain, for SPIFFE issuers.
    pub spiffe_trust_domain: String,
    /// Issuer type (`email`, `github-workflow`, `ci-provider`, ...).
    pub issuer_type: String,
    /// Subject domain, for username issuers.
    pub subject_domain: String,
    /// Whether `email_verified` is not required.
    pub skip_email_verification: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawOidcIssuer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issuer_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wildcard_issuer_url: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    audience: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    challenge_claim: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    spiffe_trust_domain: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    issuer_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    subject_domain: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    skip_email_verification: bool,
}

impl TryFrom<RawOidcIssuer> for OidcIssuer {
    type Error = String;
    fn try_from(r: RawOidcIssuer) -> Result<Self, String> {
        let issuer = match (r.issuer_url, r.wildcard_issuer_url) {
            (Some(u), None) => IssuerUrl::Exact(u),
            (None, Some(w)) => IssuerUrl::Wildcard(w),
            (None, None) => return Err("issuer needs issuerUrl or wildcardIssuerUrl".into()),
            (Some(_), Some(_)) => {
                return Err("issuer has both issuerUrl and wildcardIssuerUrl".into())
            }
        };
        Ok(OidcIssuer {
            issuer,
            audience: r.audience,
            challenge_claim: r.challenge_claim,
            spiffe_trust_domain: r.spiffe_trust_domain,
            issuer_type: r.issuer_type,
            subject_domain: r.subject_domain,
            skip_email_verification: r.skip_email_verification,
        })
    }
}

impl From<OidcIssuer> for RawOidcIssuer {
    fn from(o: OidcIssuer) -> Self {
        let (issuer_url, wildcard_issuer_url) = match o.issuer {
            IssuerUrl::Exact(u) => (Some(u), None),
            IssuerUrl::Wildcard(w) => (None, Some(w)),
        };
        RawOidcIssuer {
            issuer_url,
            wildcard_issuer_url,
            audience: o.audience,
            challenge_claim: o.challenge_claim,
            spiffe_trust_domain: o.spiffe_trust_domain,
            issuer_type: o.issuer_type,
            subject_domain: o.subject_domain,
            skip_email_verification: o.skip_email_verification,
        }
    }
}

/// `Configuration` (`GET /api/v2/configuration`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Configuration {
    /// Accepted issuers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issuers: Vec<OidcIssuer>,
}
