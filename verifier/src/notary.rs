//! Notary Project (notation) signature verification against notation's trust policy and
//! trust store.
//!
//! Specs (notaryproject/specifications): `trust-store-trust-policy.md` ("Signature
//! Verification" steps and "Certificate Revocation Evaluation"), `signature-specification.md`
//! (algorithms, "Certificate Requirements"), the envelope specs (parsed by
//! `signet_proto::notary`), RFC 3161 / RFC 5652 for the timestamp countersignature, RFC 5280
//! for certificates and CRLs.
//!
//! [`verify_notary`] runs the validations in the spec's order, each enforced or only logged as
//! the applicable [`TrustPolicy`]'s level and overrides say:
//!
//! * **integrity** (always enforced): the envelope parses; its `alg` is the one the signing
//!   certificate's key selects (RSA 2048/3072/4096 → PS256/384/512, P-256/384/521 →
//!   ES256/384/512); the signature verifies over the exact signed bytes; every critical header
//!   is one this verifier understands (plugin headers are refused: Signet runs no plugins);
//!   the payload's `targetArtifact` has the image's digest, media type and size;
//! * **authenticity**: the certificates meet the spec's requirements (leaf: critical
//!   keyUsage with digitalSignature only among the listed bits, no forbidden EKU, not a CA,
//!   RSA ≥ 2048 / EC ≥ 256 bits; CAs: critical basicConstraints with cA and a respected
//!   pathLen, critical keyUsage with keyCertSign; no SHA-1 signatures), form one ordered chain
//!   ending in a self-signed root, and one of them is a certificate of the policy's `ca:`
//!   stores (`signingAuthority:` stores under `notary.x509.signingAuthority`); the leaf's
//!   subject matches a trusted identity;
//! * **expiry**: the signer's `io.cncf.notary.expiry`, if any, is after the verification time;
//! * **authentic timestamp**: under `notary.x509`, when the policy has `tsa:` stores and
//!   `verifyTimestamp` asks for it, the RFC 3161 countersignature over the signature value
//!   verifies (imprint, `messageDigest`, signer certificate from the token with the critical
//!   timeStamping EKU, its chain to a `tsa:` store, `genTime` within that chain) and
//!   `genTime` ± accuracy lies within every signing certificate's validity; otherwise every
//!   signing certificate is valid at the verification time. Under
//!   `notary.x509.signingAuthority`, the authentic signing time lies within them;
//! * **revocation** (offline): for each certificate of the chain (and of the TSA chain when a
//!   timestamp was verified) that names CRL distribution points, a CRL among those given with
//!   the trust store, issued and signed by its issuer, current at the verification time, must
//!   not list it (an invalidity date after the verified timestamp does not revoke; `removeFromCRL`
//!   does not revoke). A certificate naming distribution points without such a CRL is
//!   "revocation unavailable", a failure like notation's when the CRL cannot be downloaded.
//!
//! The crate stays pure: certificates and CRLs come in as bytes ([`NotaryTrustStore`]), the
//! verification time is an argument. Not supported: OCSP (offline), delta and indirect CRLs
//! (ignored; a certificate with only those is "revocation unavailable"), the ESS
//! `signingCertificateV2` check of the timestamp token, verification plugins, blob
//! signatures, and level `skip` (the caller decides, see [`NotaryError::SkipLevel`]).

use std::collections::BTreeMap;

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use signet_proto::keys::HashAlgorithm;
use signet_proto::notary::policy::{
    Action, Enforcement, Level, TrustPolicy, TrustStoreName, TrustStoreType, TrustedIdentities,
    VerifyTimestamp,
};
use signet_proto::notary::{
    parse_envelope, Envelope, EnvelopeError, EnvelopeFormat, Payload, SignatureAlgorithm,
    SigningScheme, HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY, HEADER_SIGNING_SCHEME,
};
use signet_proto::timestamp::{parse_response, SignerId};
use x509_parser::asn1_rs::{Any, Class, FromDer as _};
use x509_parser::prelude::{X509Certificate, X509Name};
use x509_parser::public_key::PublicKey;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::UnixTime;

/// The certificates of notation's trust store (`x509/{ca,signingAuthority,tsa}/<name>/`) and
/// the CRL files given beside it, as bytes the caller read.
#[derive(Debug, Clone, Default)]
pub struct NotaryTrustStore {
    stores: BTreeMap<TrustStoreName, Vec<Vec<u8>>>,
    crls: Vec<Vec<u8>>,
}

impl NotaryTrustStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one DER certificate to a named store.
    ///
    /// # Errors
    /// [`NotaryError::TrustStore`] when the bytes are not one X.509 certificate.
    pub fn add_certificate(
        &mut self,
        store: TrustStoreName,
        der: Vec<u8>,
    ) -> Result<(), NotaryError> {
        match X509Certificate::from_der(&der) {
            Ok(([], _)) => {}
            Ok(_) => {
                return Err(NotaryError::TrustStore {
                    reason: format!("a certificate of {store} has trailing bytes"),
                })
            }
            Err(e) => {
                return Err(NotaryError::TrustStore {
                    reason: format!("a certificate of {store} does not parse: {e}"),
                })
            }
        }
        self.stores.entry(store).or_default().push(der);
        Ok(())
    }

    /// Adds one DER CRL (used for revocation checks of any chain).
    ///
    /// # Errors
    /// [`NotaryError::TrustStore`] when the bytes are not one CRL.
    pub fn add_crl(&mut self, der: Vec<u8>) -> Result<(), NotaryError> {
        match CertificateRevocationList::from_der(&der) {
            Ok(([], _)) => {}
            _ => {
                return Err(NotaryError::TrustStore {
                    reason: "a CRL file is not one DER CertificateRevocationList".to_owned(),
                })
            }
        }
        self.crls.push(der);
        Ok(())
    }

    /// The certificates of one named store (empty when it has none).
    #[must_use]
    pub fn certificates(&self, store: &TrustStoreName) -> &[Vec<u8>] {
        self.stores.get(store).map_or(&[], Vec::as_slice)
    }

    /// The named stores that hold certificates.
    pub fn names(&self) -> impl Iterator<Item = &TrustStoreName> {
        self.stores.keys()
    }
}

/// The artifact a signature must name: the image manifest's digest, media type and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotaryTarget<'a> {
    /// `sha256:…` of the manifest.
    pub digest: &'a str,
    /// The manifest's media type.
    pub media_type: &'a str,
    /// The manifest's size in bytes.
    pub size: u64,
}

/// Which validation a failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Validation {
    /// The signature and what it covers.
    Integrity,
    /// The chain, trust store and identity.
    Authenticity,
    /// The signing time within the chain's validity.
    AuthenticTimestamp,
    /// The signer's expiry.
    Expiry,
    /// CRLs.
    Revocation,
}

impl std::fmt::Display for Validation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Integrity => "integrity",
            Self::Authenticity => "authenticity",
            Self::AuthenticTimestamp => "authenticTimestamp",
            Self::Expiry => "expiry",
            Self::Revocation => "revocation",
        })
    }
}

/// Why a Notary signature failed (or, when only logged, what was found).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotaryError {
    /// The applicable statement's level is `skip`: nothing is verified, the caller decides.
    #[error("the trust policy statement {policy:?} has level skip: the signature is not verified")]
    SkipLevel {
        /// The statement.
        policy: String,
    },
    /// The envelope does not parse or breaks a structural rule.
    #[error("{0}")]
    Envelope(#[from] EnvelopeError),
    /// A certificate of the envelope or token does not parse or breaks a requirement.
    #[error("certificate {index} ({subject}): {reason}")]
    Certificate {
        /// Position in its chain (0 = signing certificate).
        index: usize,
        /// Its subject (or "?" when it does not parse).
        subject: String,
        /// Which requirement.
        reason: String,
    },
    /// The header's algorithm is not the one the signing key selects.
    #[error("the envelope says {alg} but the signing certificate's key ({key}) requires {expected}: algorithm substitution is refused")]
    AlgorithmMismatch {
        /// What `alg` said.
        alg: SignatureAlgorithm,
        /// The key.
        key: String,
        /// The algorithm the key selects.
        expected: String,
    },
    /// The signature does not verify with the signing certificate's key.
    #[error("the {format} signature does not verify with the signing certificate's key")]
    BadSignature {
        /// The envelope format.
        format: EnvelopeFormat,
    },
    /// A critical header this verifier does not understand (such as a verification plugin).
    #[error("the envelope marks {name:?} critical, which Signet does not process (verification plugins are not run)")]
    UnsupportedCritical {
        /// The header.
        name: String,
    },
    /// The signed payload names another artifact.
    #[error("the signature is for another artifact: signed {field} {signed:?}, the image has {expected:?}")]
    TargetMismatch {
        /// `digest`, `mediaType` or `size`.
        field: &'static str,
        /// What the payload says.
        signed: String,
        /// What the image is.
        expected: String,
    },
    /// The chain is not ordered leaf → root, or a link does not verify.
    #[error("certificate chain: {reason}")]
    Chain {
        /// Why.
        reason: String,
    },
    /// The trust policy names no store of the kind the signing scheme needs.
    #[error("the trust policy statement {policy:?} names no {kind} trust store, which signing scheme {scheme} needs")]
    NoTrustStore {
        /// The statement.
        policy: String,
        /// The store type.
        kind: &'static str,
        /// The scheme.
        scheme: &'static str,
    },
    /// No certificate of the chain is in the policy's trust stores.
    #[error("the signing chain ({root}) leads to no certificate of the trust stores {stores}")]
    Untrusted {
        /// The chain's root subject.
        root: String,
        /// The stores tried.
        stores: String,
    },
    /// The signer is not a trusted identity.
    #[error("signing certificate subject {subject:?} matches no trusted identity of the policy")]
    Identity {
        /// The leaf subject.
        subject: String,
    },
    /// The signer's expiry has passed.
    #[error("the signature expired at {expiry} (Unix seconds); verification time is {now}")]
    Expired {
        /// `io.cncf.notary.expiry`.
        expiry: i64,
        /// Verification time.
        now: i64,
    },
    /// A certificate is not valid at the time that matters.
    #[error("certificate {subject:?} is not valid at {what} ({time}): valid from {not_before} to {not_after} (Unix seconds)")]
    NotValidAt {
        /// Its subject.
        subject: String,
        /// Which time: "the verification time", "the timestamp", "the authentic signing time".
        what: &'static str,
        /// The time (Unix seconds).
        time: i64,
        /// notBefore.
        not_before: i64,
        /// notAfter.
        not_after: i64,
    },
    /// The timestamp countersignature is missing or does not verify.
    #[error("timestamp countersignature: {reason}")]
    Timestamp {
        /// Why.
        reason: String,
    },
    /// A certificate is revoked.
    #[error("certificate {subject:?} (serial {serial}) is revoked by its issuer's CRL")]
    Revoked {
        /// Its subject.
        subject: String,
        /// Its serial, hex.
        serial: String,
    },
    /// A certificate names CRL distribution points but no usable CRL was given.
    #[error("revocation status of {subject:?} is unavailable: {reason}; put its issuer's current CRL in the trust store's crl/ directory, or set override revocation: skip")]
    RevocationUnavailable {
        /// Its subject.
        subject: String,
        /// Why.
        reason: String,
    },
    /// A trust store file is unusable.
    #[error("notation trust store: {reason}")]
    TrustStore {
        /// Why.
        reason: String,
    },
}

/// A validation that failed but was only logged under the policy's level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedFailure {
    /// Which validation.
    pub validation: Validation,
    /// What failed.
    pub error: NotaryError,
}

/// A Notary signature that passed every enforced validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNotary {
    /// JWS or COSE.
    pub format: EnvelopeFormat,
    /// The algorithm.
    pub algorithm: SignatureAlgorithm,
    /// The scheme.
    pub signing_scheme: SigningScheme,
    /// The signing certificate's subject (RFC 4514 string).
    pub signer: String,
    /// SHA-256 thumbprints (hex) of the envelope's chain, leaf first.
    pub thumbprints: Vec<String>,
    /// The (unauthenticated) signing time, or the authentic one.
    pub signing_time: Option<i64>,
    /// The verified timestamp's `genTime`, when one was verified.
    pub timestamp: Option<i64>,
    /// The signer's expiry.
    pub expiry: Option<i64>,
    /// The trust policy statement used.
    pub policy: String,
    /// Its level.
    pub level: Level,
    /// The trust store certificate the chain led to, when authenticity passed.
    pub trust_store: Option<TrustStoreName>,
    /// The payload.
    pub payload: Payload,
    /// Failures only logged (permissive/audit levels, `log` overrides).
    pub logged: Vec<LoggedFailure>,
}

struct Cert<'a> {
    der: &'a [u8],
    x: X509Certificate<'a>,
}

impl Cert<'_> {
    fn subject(&self) -> String {
        self.x.subject().to_string()
    }
    fn not_before(&self) -> i64 {
        self.x.validity().not_before.timestamp()
    }
    fn not_after(&self) -> i64 {
        self.x.validity().not_after.timestamp()
    }
    fn valid_at(&self, t: i64) -> bool {
        self.not_before() <= t && t <= self.not_after()
    }
    fn not_valid(&self, what: &'static str, time: i64) -> NotaryError {
        NotaryError::NotValidAt {
            subject: self.subject(),
            what,
            time,
            not_before: self.not_before(),
            not_after: self.not_after(),
        }
    }
}

fn parse_cert(der: &[u8], index: usize) -> Result<Cert<'_>, NotaryError> {
    match X509Certificate::from_der(der) {
        Ok(([], x)) => Ok(Cert { der, x }),
        Ok(_) => Err(NotaryError::Certificate {
            index,
            subject: "?".to_owned(),
            reason: "trailing bytes after the certificate".to_owned(),
        }),
        Err(e) => Err(NotaryError::Certificate {
            index,
            subject: "?".to_owned(),
            reason: format!("does not parse: {e}"),
        }),
    }
}

const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";

/// The key: ("RSA", bits) or ("EC", curve bits), with the raw key bytes aws-lc-rs takes.
fn key_of<'a>(
    spki: &'a SubjectPublicKeyInfo<'a>,
) -> Result<(&'static str, usize, &'a [u8]), String> {
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let m = rsa.modulus;
            let m = m.iter().position(|b| *b != 0).map_or(&m[..0], |i| &m[i..]);
            let bits =
                (m.len() * 8).saturating_sub(m.first().map_or(8, |b| b.leading_zeros() as usize));
            Ok(("RSA", bits, &spki.subject_public_key.data))
        }
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .unwrap_or_default();
            let bits = match curve.as_str() {
                OID_P256 => 256,
                OID_P384 => 384,
                OID_P521 => 521,
                other => return Err(format!("EC key on unsupported curve {other}")),
            };
            Ok(("EC", bits, &spki.subject_public_key.data))
        }
        Ok(_) => Err(format!(
            "key algorithm {} is neither RSA nor EC",
            spki.algorithm.algorithm
        )),
        Err(e) => Err(format!("public key does not parse: {e}")),
    }
}

/// The Notary algorithm a key selects.
fn algorithm_for(kind: &str, bits: usize) -> Option<SignatureAlgorithm> {
    match (kind, bits) {
        ("RSA", 2048) => Some(SignatureAlgorithm::Ps256),
        ("RSA", 3072) => Some(SignatureAlgorithm::Ps384),
        ("RSA", 4096) => Some(SignatureAlgorithm::Ps512),
        ("EC", 256) => Some(SignatureAlgorithm::Es256),
        ("EC", 384) => Some(SignatureAlgorithm::Es384),
        ("EC", 521) => Some(SignatureAlgorithm::Es512),
        _ => None,
    }
}

fn envelope_algorithm(a: SignatureAlgorithm) -> &'static dyn VerificationAlgorithm {
    match a {
        SignatureAlgorithm::Ps256 => &sig::RSA_PSS_2048_8192_SHA256,
        SignatureAlgorithm::Ps384 => &sig::RSA_PSS_2048_8192_SHA384,
        SignatureAlgorithm::Ps512 => &sig::RSA_PSS_2048_8192_SHA512,
        SignatureAlgorithm::Es256 => &sig::ECDSA_P256_SHA256_FIXED,
        SignatureAlgorithm::Es384 => &sig::ECDSA_P384_SHA384_FIXED,
        SignatureAlgorithm::Es512 => &sig::ECDSA_P521_SHA512_FIXED,
    }
}

/// Verifies an X.509-style signature (certificate, CRL, CMS signer) by algorithm OID with an
/// issuer key. SHA-1 is refused; RSA-PSS certificates go through x509-parser's aws-lc path.
fn verify_x509_signature(
    alg_oid: &str,
    digest_hint: Option<HashAlgorithm>,
    message: &[u8],
    signature: &[u8],
    issuer: &SubjectPublicKeyInfo<'_>,
) -> Result<(), String> {
    let (kind, bits, key) = key_of(issuer)?;
    let alg: &'static dyn VerificationAlgorithm = match (alg_oid, kind, bits) {
        ("1.2.840.113549.1.1.11", "RSA", _) => &sig::RSA_PKCS1_2048_8192_SHA256,
        ("1.2.840.113549.1.1.12", "RSA", _) => &sig::RSA_PKCS1_2048_8192_SHA384,
        ("1.2.840.113549.1.1.13", "RSA", _) => &sig::RSA_PKCS1_2048_8192_SHA512,
        // rsaEncryption as a CMS signature algorithm: the digest algorithm applies.
        ("1.2.840.113549.1.1.1", "RSA", _) => match digest_hint {
            Some(HashAlgorithm::Sha256) => &sig::RSA_PKCS1_2048_8192_SHA256,
            Some(HashAlgorithm::Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
            Some(HashAlgorithm::Sha512) => &sig::RSA_PKCS1_2048_8192_SHA512,
            _ => return Err("rsaEncryption without a SHA-2 digest algorithm".to_owned()),
        },
        ("1.2.840.10045.4.3.2", "EC", 256) => &sig::ECDSA_P256_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", "EC", 256) => &sig::ECDSA_P256_SHA384_ASN1,
        ("1.2.840.10045.4.3.4", "EC", 256) => &sig::ECDSA_P256_SHA512_ASN1,
        ("1.2.840.10045.4.3.2", "EC", 384) => &sig::ECDSA_P384_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", "EC", 384) => &sig::ECDSA_P384_SHA384_ASN1,
        ("1.2.840.10045.4.3.4", "EC", 384) => &sig::ECDSA_P384_SHA512_ASN1,
        ("1.2.840.10045.4.3.2", "EC", 521) => &sig::ECDSA_P521_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", "EC", 521) => &sig::ECDSA_P521_SHA384_ASN1,
        ("1.2.840.10045.4.3.4", "EC", 521) => &sig::ECDSA_P521_SHA512_ASN1,
        ("1.2.840.113549.1.1.5" | "1.3.14.3.2.29" | "1.2.840.10045.4.1", _, _) => {
            return Err("SHA-1 signatures are not allowed".to_owned())
        }
        (oid, kind, bits) => {
            return Err(format!(
                "signature algorithm {oid} is not supported with a {kind} {bits}-bit key"
            ))
        }
    };
    UnparsedPublicKey::new(alg, key)
        .verify(message, signature)
        .map_err(|_| "the signature does not verify".to_owned())
}

/// Whether `child` was signed by `issuer` (name chaining and signature).
fn signed_by(child: &Cert<'_>, issuer: &Cert<'_>) -> Result<(), String> {
    if child.x.issuer().as_raw() != issuer.x.subject().as_raw() {
        return Err(format!(
            "its issuer {} is not the next certificate's subject {}",
            child.x.issuer(),
            issuer.subject()
        ));
    }
    let oid = child.x.signature_algorithm.algorithm.to_id_string();
    if oid == "1.2.840.113549.1.1.10" {
        // RSASSA-PSS certificate signatures: x509-parser reads the parameters.
        return child
            .x
            .verify_signature(Some(issuer.x.public_key()))
            .map_err(|e| format!("its RSA-PSS signature does not verify: {e}"));
    }
    verify_x509_signature(
        &oid,
        None,
        child.x.tbs_certificate.as_ref(),
        &child.x.signature_value.data,
        issuer.x.public_key(),
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    CodeSigning,
    Timestamping,
}

/// The spec's "Certificate Requirements" for one certificate of a chain.
fn check_requirements(
    c: &Cert<'_>,
    index: usize,
    len: usize,
    purpose: Purpose,
) -> Result<(), NotaryError> {
    let err = |reason: String| NotaryError::Certificate {
        index,
        subject: c.subject(),
        reason,
    };
    let is_leaf = index == 0;
    let bc =
        c.x.basic_constraints()
            .map_err(|e| err(format!("basicConstraints: {e}")))?;
    let ku = c.x.key_usage().map_err(|e| err(format!("keyUsage: {e}")))?;
    let eku =
        c.x.extended_key_usage()
            .map_err(|e| err(format!("extendedKeyUsage: {e}")))?;
    let (kind, bits, _) = key_of(c.x.public_key()).map_err(err)?;
    let min = if kind == "RSA" { 2048 } else { 256 };
    if bits < min {
        return Err(err(format!(
            "{kind} key of {bits} bits (at least {min} required)"
        )));
    }
    let ku = ku.ok_or_else(|| err("has no keyUsage extension".to_owned()))?;
    if purpose == Purpose::CodeSigning && !ku.critical {
        return Err(err("keyUsage is not critical".to_owned()));
    }
    if is_leaf {
        if bc.is_some_and(|b| b.value.ca) {
            return Err(err(
                "the signing certificate is a CA (basicConstraints cA true)".to_owned(),
            ));
        }
        let k = ku.value;
        if !k.digital_signature() {
            return Err(err("keyUsage lacks digitalSignature".to_owned()));
        }
        if k.key_encipherment()
            || k.data_encipherment()
            || k.key_agreement()
            || k.key_cert_sign()
            || k.encipher_only()
            || k.decipher_only()
            || k.crl_sign()
        {
            return Err(err(format!(
                "keyUsage {k} sets a bit a signing certificate must not have"
            )));
        }
        match (purpose, eku) {
            (Purpose::CodeSigning, Some(e)) => {
                let v = e.value;
                if v.any || v.server_auth || v.client_auth || v.email_protection || v.time_stamping
                {
                    return Err(err(
                        "extendedKeyUsage allows anyExtendedKeyUsage, serverAuth, clientAuth, emailProtection or timeStamping"
                            .to_owned(),
                    ));
                }
            }
            (Purpose::CodeSigning, None) => {}
            (Purpose::Timestamping, Some(e)) => {
                let v = e.value;
                if !e.critical
                    || !v.time_stamping
                    || v.any
                    || v.server_auth
                    || v.client_auth
                    || v.email_protection
                    || v.code_signing
                    || !v.other.is_empty()
                {
                    return Err(err(
                        "a TSA certificate needs a critical extendedKeyUsage of timeStamping only"
                            .to_owned(),
                    ));
                }
            }
            (Purpose::Timestamping, None) => {
                return Err(err(
                    "a TSA certificate needs a critical extendedKeyUsage of timeStamping"
                        .to_owned(),
                ))
            }
        }
    } else {
        let b = bc.ok_or_else(|| err("a CA certificate without basicConstraints".to_owned()))?;
        if !b.critical || !b.value.ca {
            return Err(err(
                "a CA certificate needs critical basicConstraints with cA true".to_owned(),
            ));
        }
        if let Some(max) = b.value.path_len_constraint {
            // CAs below this one in the chain (index-1 certificates sit below it, the leaf
            // among them is not a CA).
            let below = index.saturating_sub(1);
            if usize::try_from(max).unwrap_or(usize::MAX) < below {
                return Err(err(format!(
                    "pathLenConstraint {max} but {below} CA certificates below it"
                )));
            }
        }
        if !ku.value.key_cert_sign() {
            return Err(err(
                "a CA certificate's keyUsage lacks keyCertSign".to_owned()
            ));
        }
    }
    let _ = len;
    let oid = c.x.signature_algorithm.algorithm.to_id_string();
    if matches!(
        oid.as_str(),
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" | "1.2.840.10045.4.1"
    ) {
        return Err(err("signed with SHA-1".to_owned()));
    }
    Ok(())
}

/// Parses a chain leaf-first and checks that each certificate is signed by the next and the
/// last is self-signed.
fn check_chain<'a>(ders: &'a [Vec<u8>], purpose: Purpose) -> Result<Vec<Cert<'a>>, NotaryError> {
    let certs = ders
        .iter()
        .enumerate()
        .map(|(i, d)| parse_cert(d, i))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, c) in certs.iter().enumerate() {
        // A chain of one root certificate meets the leaf requirements (spec, "Other
        // requirements").
        check_requirements(c, i, certs.len(), purpose)?;
    }
    for (i, pair) in certs.windows(2).enumerate() {
        signed_by(&pair[0], &pair[1]).map_err(|reason| NotaryError::Chain {
            reason: format!("certificate {i} ({}): {reason}", pair[0].subject()),
        })?;
    }
    let root = certs.last().ok_or_else(|| NotaryError::Chain {
        reason: "empty".to_owned(),
    })?;
    signed_by(root, root).map_err(|reason| NotaryError::Chain {
        reason: format!(
            "the last certificate ({}) is not a self-signed root: {reason}; the envelope must carry the whole chain",
            root.subject()
        ),
    })?;
    Ok(certs)
}

/// Upper-case attribute types and values of a subject, as trusted identities compare them.
fn subject_attributes(name: &X509Name<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rdn in name.iter() {
        for atv in rdn.iter() {
            let kind = match atv.attr_type().to_id_string().as_str() {
                "2.5.4.3" => "CN",
                "2.5.4.6" => "C",
                "2.5.4.7" => "L",
                "2.5.4.8" => "ST",
                "2.5.4.10" => "O",
                "2.5.4.11" => "OU",
                "2.5.4.5" => "SERIALNUMBER",
                "2.5.4.9" => "STREET",
                "2.5.4.17" => "POSTALCODE",
                "1.2.840.113549.1.9.1" => "EMAILADDRESS",
                _ => continue,
            };
            if let Ok(v) = atv.as_str() {
                out.push((kind.to_owned(), v.to_owned()));
            }
        }
    }
    out
}

/// Records a failure by the policy's action for its validation.
struct Outcome {
    logged: Vec<LoggedFailure>,
}

impl Outcome {
    fn apply(
        &mut self,
        action: Action,
        validation: Validation,
        r: Result<(), NotaryError>,
    ) -> Result<bool, NotaryError> {
        match (r, action) {
            (Ok(()), _) => Ok(true),
            (Err(_), Action::Skip) => Ok(false),
            (Err(e), Action::Enforce) => Err(e),
            (Err(error), Action::Log) => {
                self.logged.push(LoggedFailure { validation, error });
                Ok(false)
            }
        }
    }
}

/// Verifies one Notary signature envelope for an image under a trust policy statement.
///
/// `envelope_media_type` is the signature manifest's layer media type; `target` the image;
/// `policy` the statement that applies to the image's repository
/// ([`signet_proto::notary::policy::TrustPolicyDocument::applicable`]); `now` the
/// verification time.
///
/// # Errors
/// [`NotaryError`] for the first enforced validation that failed;
/// [`NotaryError::SkipLevel`] when the statement's level is `skip`.
pub fn verify_notary(
    envelope_media_type: &str,
    envelope: &[u8],
    target: &NotaryTarget<'_>,
    policy: &TrustPolicy,
    store: &NotaryTrustStore,
    now: UnixTime,
) -> Result<VerifiedNotary, NotaryError> {
    if policy.level == Level::Skip {
        return Err(NotaryError::SkipLevel {
            policy: policy.name.clone(),
        });
    }
    let now = now.as_unix_seconds();
    let enforcement: Enforcement = policy.enforcement;
    let mut outcome = Outcome { logged: Vec::new() };

    // 1. Integrity (always enforced).
    let env = parse_envelope(envelope_media_type, envelope)?;
    let leaf = parse_cert(&env.certificate_chain[0], 0)?;
    check_integrity(&env, &leaf, target)?;
    let thumbprints = env
        .certificate_chain
        .iter()
        .map(|c| hex::encode(HashAlgorithm::Sha256.hash(c)))
        .collect();

    // 2. Authenticity.
    let chain_result = check_chain(&env.certificate_chain, Purpose::CodeSigning);
    let mut trust_store = None;
    let authentic = chain_result.and_then(|chain| {
        let found = check_trust(&env, &chain, policy, store)?;
        trust_store = Some(found);
        check_identity(&leaf, policy)?;
        Ok(chain)
    });
    let chain = match authentic {
        Ok(chain) => chain,
        Err(e) => {
            outcome.apply(enforcement.authenticity, Validation::Authenticity, Err(e))?;
            // Logged: the other validations still need the parsed chain.
            env.certificate_chain
                .iter()
                .enumerate()
                .map(|(i, d)| parse_cert(d, i))
                .collect::<Result<Vec<_>, _>>()?
        }
    };

    // 3. Expiry.
    let expiry = match env.expiry {
        Some(expiry) if now >= expiry => Err(NotaryError::Expired { expiry, now }),
        _ => Ok(()),
    };
    outcome.apply(enforcement.expiry, Validation::Expiry, expiry)?;

    // 4. Authentic timestamp.
    let mut timestamp = None;
    let mut tsa_chain: Vec<Vec<u8>> = Vec::new();
    let times = check_times(
        &env,
        &chain,
        policy,
        store,
        now,
        &mut timestamp,
        &mut tsa_chain,
    );
    outcome.apply(
        enforcement.authentic_timestamp,
        Validation::AuthenticTimestamp,
        times,
    )?;

    // 5. Revocation.
    if enforcement.revocation != Action::Skip {
        let signing_time = timestamp.or(env.authentic_signing_time);
        let mut r = check_revocation(&chain, store, now, signing_time);
        if r.is_ok() && !tsa_chain.is_empty() {
            let tsa = tsa_chain
                .iter()
                .enumerate()
                .map(|(i, d)| parse_cert(d, i))
                .collect::<Result<Vec<_>, _>>()?;
            r = check_revocation(&tsa, store, now, None);
        }
        outcome.apply(enforcement.revocation, Validation::Revocation, r)?;
    }

    Ok(VerifiedNotary {
        format: env.format,
        algorithm: env.algorithm,
        signing_scheme: env.signing_scheme,
        signer: leaf.subject(),
        thumbprints,
        signing_time: env.signing_time.or(env.authentic_signing_time),
        timestamp,
        expiry: env.expiry,
        policy: policy.name.clone(),
        level: policy.level,
        trust_store,
        payload: env.payload,
        logged: outcome.logged,
    })
}

fn check_integrity(
    env: &Envelope,
    leaf: &Cert<'_>,
    target: &NotaryTarget<'_>,
) -> Result<(), NotaryError> {
    let (kind, bits, key) =
        key_of(leaf.x.public_key()).map_err(|reason| NotaryError::Certificate {
            index: 0,
            subject: leaf.subject(),
            reason,
        })?;
    let expected = algorithm_for(kind, bits);
    if expected != Some(env.algorithm) {
        return Err(NotaryError::AlgorithmMismatch {
            alg: env.algorithm,
            key: format!("{kind} {bits}-bit"),
            expected: expected.map_or_else(
                || "an algorithm the Notary Project does not allow".to_owned(),
                |a| a.to_string(),
            ),
        });
    }
    UnparsedPublicKey::new(envelope_algorithm(env.algorithm), key)
        .verify(&env.signed_bytes, &env.signature)
        .map_err(|_| NotaryError::BadSignature { format: env.format })?;
    if let Some(a) = env.extended_attributes.iter().find(|a| a.critical) {
        return Err(NotaryError::UnsupportedCritical {
            name: a.name.clone(),
        });
    }
    if let Some(c) = env.critical.iter().find(|c| {
        ![
            HEADER_SIGNING_SCHEME,
            HEADER_EXPIRY,
            HEADER_AUTHENTIC_SIGNING_TIME,
        ]
        .contains(&c.as_str())
    }) {
        return Err(NotaryError::UnsupportedCritical { name: c.clone() });
    }
    let d = &env.payload.target_artifact;
    if d.digest != target.digest {
        return Err(NotaryError::TargetMismatch {
            field: "digest",
            signed: d.digest.clone(),
            expected: target.digest.to_owned(),
        });
    }
    if d.media_type != target.media_type {
        return Err(NotaryError::TargetMismatch {
            field: "mediaType",
            signed: d.media_type.clone(),
            expected: target.media_type.to_owned(),
        });
    }
    if d.size != target.size {
        return Err(NotaryError::TargetMismatch {
            field: "size",
            signed: d.size.to_string(),
            expected: target.size.to_string(),
        });
    }
    Ok(())
}

fn check_trust(
    env: &Envelope,
    chain: &[Cert<'_>],
    policy: &TrustPolicy,
    store: &NotaryTrustStore,
) -> Result<TrustStoreName, NotaryError> {
    let (kind, scheme) = match env.signing_scheme {
        SigningScheme::X509 => (TrustStoreType::Ca, "notary.x509"),
        SigningScheme::X509SigningAuthority => (
            TrustStoreType::SigningAuthority,
            "notary.x509.signingAuthority",
        ),
    };
    let names: Vec<&TrustStoreName> = policy.stores(kind).collect();
    if names.is_empty() {
        return Err(NotaryError::NoTrustStore {
            policy: policy.name.clone(),
            kind: kind.as_str(),
            scheme,
        });
    }
    for name in &names {
        for trusted in store.certificates(name) {
            if chain.iter().any(|c| c.der == trusted.as_slice()) {
                return Ok((*name).clone());
            }
        }
    }
    Err(NotaryError::Untrusted {
        root: chain.last().map(Cert::subject).unwrap_or_default(),
        stores: names
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn check_identity(leaf: &Cert<'_>, policy: &TrustPolicy) -> Result<(), NotaryError> {
    match &policy.trusted_identities {
        TrustedIdentities::Any => Ok(()),
        TrustedIdentities::Subjects(names) => {
            let attrs = subject_attributes(leaf.x.subject());
            if names.iter().any(|n| n.matches(&attrs)) {
                Ok(())
            } else {
                Err(NotaryError::Identity {
                    subject: leaf.subject(),
                })
            }
        }
    }
}

fn check_times(
    env: &Envelope,
    chain: &[Cert<'_>],
    policy: &TrustPolicy,
    store: &NotaryTrustStore,
    now: i64,
    timestamp: &mut Option<i64>,
    tsa_chain: &mut Vec<Vec<u8>>,
) -> Result<(), NotaryError> {
    match env.signing_scheme {
        SigningScheme::X509SigningAuthority => {
            let t = env.authentic_signing_time.unwrap_or(i64::MIN);
            for c in chain {
                if !c.valid_at(t) {
                    return Err(c.not_valid("the authentic signing time", t));
                }
            }
            Ok(())
        }
        SigningScheme::X509 => {
            let has_tsa = policy.stores(TrustStoreType::Tsa).next().is_some();
            let expired = chain.iter().any(|c| !c.valid_at(now));
            let run = has_tsa
                && match policy.verify_timestamp {
                    VerifyTimestamp::Always => true,
                    VerifyTimestamp::AfterCertExpiry => expired,
                };
            if !run {
                for c in chain {
                    if !c.valid_at(now) {
                        return Err(c.not_valid("the verification time", now));
                    }
                }
                return Ok(());
            }
            let token = env.timestamp_token.as_deref().ok_or_else(|| NotaryError::Timestamp {
                reason: "the policy trusts a TSA but the envelope carries no io.cncf.notary.timestampSignature".to_owned(),
            })?;
            let (gen_time, accuracy, tsa) =
                verify_countersignature(token, &env.signature, policy, store)?;
            *tsa_chain = tsa;
            let (lo, hi) = (
                gen_time.saturating_sub(accuracy),
                gen_time.saturating_add(accuracy),
            );
            for c in chain {
                if !c.valid_at(lo) {
                    return Err(c.not_valid("the timestamp (genTime - accuracy)", lo));
                }
                if !c.valid_at(hi) {
                    return Err(c.not_valid("the timestamp (genTime + accuracy)", hi));
                }
            }
            *timestamp = Some(gen_time);
            Ok(())
        }
    }
}

/// The DER TLVs inside `content`, each as (element, whole encoding).
fn children(content: &[u8]) -> Result<Vec<(Any<'_>, &[u8])>, String> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (r, any) = Any::from_der(rest).map_err(|e| format!("DER: {e}"))?;
        let raw = &rest[..rest.len() - r.len()];
        out.push((any, raw));
        rest = r;
    }
    Ok(out)
}

/// The certificates embedded in a CMS `ContentInfo` holding `SignedData`.
fn token_certificates(token: &[u8]) -> Result<Vec<&[u8]>, String> {
    let top = children(token)?;
    let ci = top.first().ok_or("empty token")?;
    let ci_parts = children(ci.0.data)?;
    let wrapped = ci_parts.get(1).ok_or("ContentInfo without content")?;
    let sd = children(wrapped.0.data)?;
    let sd_parts = children(sd.first().ok_or("no SignedData")?.0.data)?;
    let mut out = Vec::new();
    for (any, _) in &sd_parts {
        if any.header.class() == Class::ContextSpecific && any.header.tag().0 == 0 {
            for (_, raw) in children(any.data)? {
                out.push(raw);
            }
        }
    }
    Ok(out)
}

/// `TSTInfo.accuracy` in whole seconds, rounded up (0 when absent).
fn accuracy_seconds(tst_info: &[u8]) -> Result<i64, String> {
    let top = children(tst_info)?;
    let fields = children(top.first().ok_or("empty TSTInfo")?.0.data)?;
    // version, policy, messageImprint, serialNumber, genTime, then accuracy (a SEQUENCE).
    let Some((acc, _)) = fields.get(5) else {
        return Ok(0);
    };
    if acc.header.class() != Class::Universal || acc.header.tag().0 != 16 {
        return Ok(0);
    }
    let mut micros: i64 = 0;
    for (part, _) in children(acc.data)? {
        let value = part.data.iter().take(8).fold(0i64, |v, b| {
            v.saturating_mul(256).saturating_add(i64::from(*b))
        });
        match (part.header.class(), part.header.tag().0) {
            (Class::Universal, 2) => {
                micros = micros.saturating_add(value.saturating_mul(1_000_000))
            }
            (Class::ContextSpecific, 0) => {
                micros = micros.saturating_add(value.saturating_mul(1_000))
            }
            (Class::ContextSpecific, 1) => micros = micros.saturating_add(value),
            _ => return Err("accuracy has an unknown field".to_owned()),
        }
    }
    Ok(micros.saturating_add(999_999) / 1_000_000)
}

/// Verifies the RFC 3161 token over `signature`; returns (genTime, accuracy in seconds, the
/// TSA chain leaf first).
fn verify_countersignature(
    token: &[u8],
    signature: &[u8],
    policy: &TrustPolicy,
    store: &NotaryTrustStore,
) -> Result<(i64, i64, Vec<Vec<u8>>), NotaryError> {
    let ts = |reason: String| NotaryError::Timestamp { reason };
    // proto parses TimeStampResp: wrap the token in one with status granted.
    let mut body = vec![0x30, 0x03, 0x02, 0x01, 0x00];
    body.extend_from_slice(token);
    let resp = der_sequence(&body);
    let tok = parse_response(&resp).map_err(|e| ts(e.to_string()))?;
    let imprint_hash =
        signet_proto::timestamp::hash_algorithm(&tok.imprint_algorithm).ok_or_else(|| {
            ts(format!(
                "imprint algorithm {} is not SHA-2",
                tok.imprint_algorithm
            ))
        })?;
    if imprint_hash.hash(signature) != tok.imprint {
        return Err(ts(
            "its message imprint is not the hash of this signature".to_owned()
        ));
    }
    if tok.content_type_attr.as_deref() != Some(signet_proto::timestamp::OID_CT_TST_INFO) {
        return Err(ts(
            "the contentType signed attribute is not id-ct-TSTInfo".to_owned()
        ));
    }
    let digest_hash =
        signet_proto::timestamp::hash_algorithm(&tok.digest_algorithm).ok_or_else(|| {
            ts(format!(
                "digest algorithm {} is not SHA-2",
                tok.digest_algorithm
            ))
        })?;
    if tok.message_digest_attr != Some(digest_hash.hash(tok.tst_info).as_slice()) {
        return Err(ts(
            "the messageDigest attribute is not the hash of TSTInfo".to_owned()
        ));
    }
    let embedded = token_certificates(token).map_err(ts)?;
    let certs = embedded
        .iter()
        .enumerate()
        .map(|(i, d)| parse_cert(d, i))
        .collect::<Result<Vec<_>, _>>()?;
    let signer = certs
        .iter()
        .find(|c| match tok.sid {
            SignerId::IssuerSerial { issuer, serial } => {
                c.x.issuer().as_raw() == issuer && c.x.raw_serial() == serial
            }
            SignerId::KeyId(kid) => {
                c.x.iter_extensions()
                    .find_map(|e| match e.parsed_extension() {
                        x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) => {
                            Some(k.0)
                        }
                        _ => None,
                    })
                    == Some(kid)
            }
        })
        .ok_or_else(|| ts("the token does not embed the certificate that signed it".to_owned()))?;
    verify_x509_signature(
        &tok.signature_algorithm,
        Some(digest_hash),
        &tok.signed_message(),
        tok.signature,
        signer.x.public_key(),
    )
    .map_err(|e| ts(format!("the TSA signature: {e}")))?;
    let (gen_time, _) = tok.gen_time;
    let accuracy = accuracy_seconds(tok.tst_info).map_err(ts)?;

    // Build the TSA chain: signer, then issuers among the embedded certificates and the
    // policy's tsa stores, until a store certificate is reached.
    let tsa_names: Vec<&TrustStoreName> = policy.stores(TrustStoreType::Tsa).collect();
    let roots: Vec<Cert<'_>> = tsa_names
        .iter()
        .flat_map(|n| store.certificates(n))
        .enumerate()
        .map(|(i, d)| parse_cert(d, i))
        .collect::<Result<_, _>>()?;
    let mut chain: Vec<&Cert<'_>> = vec![signer];
    let mut trusted = false;
    for _ in 0..8 {
        let cur = *chain.last().unwrap_or(&signer);
        if roots.iter().any(|r| r.der == cur.der) {
            trusted = true;
            break;
        }
        let next = certs
            .iter()
            .chain(roots.iter())
            .find(|c| c.der != cur.der && signed_by(cur, c).is_ok());
        match next {
            Some(n) => chain.push(n),
            None => break,
        }
    }
    if !trusted {
        return Err(ts(format!(
            "the TSA certificate {} leads to no certificate of the trust stores {}",
            signer.subject(),
            tsa_names
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for (i, c) in chain.iter().enumerate() {
        let is_root = i + 1 == chain.len() && i > 0;
        if i == 0 || !is_root {
            check_requirements(c, i, chain.len(), Purpose::Timestamping)?;
        }
        if !c.valid_at(gen_time) {
            return Err(c.not_valid("the timestamp's genTime (TSA chain)", gen_time));
        }
    }
    Ok((
        gen_time,
        accuracy,
        chain.iter().map(|c| c.der.to_vec()).collect(),
    ))
}

/// `SEQUENCE { body }` in DER.
fn der_sequence(body: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    let len = body.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | u8::try_from(bytes.len()).unwrap_or(0));
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(body);
    out
}

/// CRL distribution point URIs of a certificate (empty when it names none).
fn crl_points(c: &Cert<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for ext in c.x.iter_extensions() {
        if let x509_parser::extensions::ParsedExtension::CRLDistributionPoints(points) =
            ext.parsed_extension()
        {
            for p in points.iter() {
                if let Some(x509_parser::extensions::DistributionPointName::FullName(names)) =
                    &p.distribution_point
                {
                    for n in names {
                        if let x509_parser::extensions::GeneralName::URI(u) = n {
                            out.push((*u).to_owned());
                        }
                    }
                }
            }
        }
    }
    out
}

/// The revocation check of a chain (leaf first) with the CRLs of the store.
fn check_revocation(
    chain: &[Cert<'_>],
    store: &NotaryTrustStore,
    now: i64,
    signing_time: Option<i64>,
) -> Result<(), NotaryError> {
    // Root to leaf, as the spec orders it; the root itself has no issuer to revoke it.
    for i in (0..chain.len().saturating_sub(1)).rev() {
        let cert = &chain[i];
        let issuer = &chain[i + 1];
        let points = crl_points(cert);
        if points.is_empty() {
            continue; // names no CRL: not revocable (the spec's rule)
        }
        let unavailable = |reason: String| NotaryError::RevocationUnavailable {
            subject: cert.subject(),
            reason,
        };
        let mut usable = None;
        let mut why = format!(
            "no CRL issued by {} was given (distribution points: {})",
            issuer.subject(),
            points.join(", ")
        );
        for der in &store.crls {
            let Ok((_, crl)) = CertificateRevocationList::from_der(der) else {
                continue;
            };
            if crl.issuer().as_raw() != issuer.x.subject().as_raw() {
                continue;
            }
            let delta = crl
                .extensions()
                .iter()
                .any(|e| e.oid.to_id_string() == "2.5.29.27");
            if delta {
                why = "only a delta CRL was given (delta CRLs are not supported)".to_owned();
                continue;
            }
            if let Some(e) = crl.extensions().iter().find(|e| {
                e.critical && !["2.5.29.20", "2.5.29.28"].contains(&e.oid.to_id_string().as_str())
            }) {
                why = format!("the CRL has an unsupported critical extension {}", e.oid);
                continue;
            }
            let oid = crl.signature_algorithm.algorithm.to_id_string();
            let verified = if oid == "1.2.840.113549.1.1.10" {
                crl.verify_signature(issuer.x.public_key())
                    .map_err(|e| e.to_string())
            } else {
                verify_x509_signature(
                    &oid,
                    None,
                    crl.tbs_cert_list.as_ref(),
                    &crl.signature_value.data,
                    issuer.x.public_key(),
                )
            };
            if let Err(e) = verified {
                why = format!("the CRL from {} does not verify: {e}", issuer.subject());
                continue;
            }
            usable = Some(crl);
            break;
        }
        let crl = usable.ok_or_else(|| unavailable(why))?;
        let listed = crl
            .iter_revoked_certificates()
            .find(|r| r.raw_serial() == cert.x.raw_serial());
        let current = crl.last_update().timestamp() <= now
            && crl.next_update().is_some_and(|n| now < n.timestamp());
        if let Some(r) = listed {
            let reason = r.reason_code().map(|(_, c)| c.0);
            if reason == Some(8) {
                continue; // removeFromCRL
            }
            let invalid_after_signing = match (r.invalidity_date(), signing_time) {
                (Some((_, d)), Some(t)) => d.timestamp() > t,
                _ => false,
            };
            if !invalid_after_signing {
                return Err(NotaryError::Revoked {
                    subject: cert.subject(),
                    serial: hex::encode(cert.x.raw_serial()),
                });
            }
        }
        if !current {
            return Err(unavailable(format!(
                "the CRL from {} is not current (thisUpdate {}, nextUpdate {:?}, now {now})",
                issuer.subject(),
                crl.last_update().timestamp(),
                crl.next_update().map(|n| n.timestamp())
            )));
        }
    }
    Ok(())
}
