//! PKIX public keys, signature verification and the signing keys the services use.
//!
//! Specifications: RFC 5280 §4.1.2.7 (SubjectPublicKeyInfo), RFC 5480 (ECDSA keys and
//! ASN.1 DER `ECDSA-Sig-Value` signatures), RFC 8410 (Ed25519 keys), RFC 8017 (RSA
//! PKCS#1 v1.5 and PSS). All cryptography is done by `aws-lc-rs`.
//!
//! * [`PublicKey`] parses a DER SubjectPublicKeyInfo (or a PEM `PUBLIC KEY` block) once and
//!   keeps the parsed `aws-lc-rs` key object, so verifying many signatures with the same key
//!   does not parse it again. Accepted keys form a fixed allowlist: ECDSA P-256 (SHA-256),
//!   ECDSA P-384 (SHA-384), Ed25519, and RSA with a modulus of 2048 to 8192 bits (PKCS#1 v1.5
//!   with SHA-256 by default, RSA-PSS with SHA-256 on request).
//! * [`PublicKey::verify_prehashed`] verifies a signature over a digest that the caller
//!   computed (hashedrekord entries carry only the artifact digest). It imports the digest
//!   with `aws_lc_rs::digest::Digest::import_less_safe`, the supported way to build a
//!   `Digest` from raw bytes, and calls `ParsedPublicKey::verify_digest_sig`. Ed25519 has
//!   no prehashed form (RFC 8032 PureEdDSA hashes the whole message twice), so it returns
//!   [`SignatureError::PrehashUnsupported`].
//! * [`EcdsaSigner`] (P-256/P-384) and [`Ed25519Signer`] are the signing keys used by the
//!   log (checkpoints, SETs), the CA and the CLI.
//!
//! What this module does not do: no X.509 certificate or chain handling, no key storage,
//! no HSM access, no ambient randomness (key generation takes an RNG argument; ECDSA signing
//! nonces are generated inside aws-lc, as with every aws-lc-rs signing call), no P-521, no
//! RSA signing.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::rand::SecureRandom;
use aws_lc_rs::signature::{
    self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, UnparsedPublicKey,
    VerificationAlgorithm,
};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_SIG_ED25519,
};
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

/// Smallest RSA modulus accepted, in bits.
pub const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits (the limit of aws-lc-rs' RSA verifiers).
pub const RSA_MAX_BITS: usize = 8192;

/// The size in bits of an RSA modulus given as big-endian bytes (leading zero bytes, as a DER
/// INTEGER may carry, ignored): the position of its highest set bit, not a whole number of
/// bytes.
fn modulus_bits(modulus: &[u8]) -> usize {
    let start = modulus
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(modulus.len());
    match modulus.get(start) {
        Some(&first) => (modulus.len() - start - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    }
}

/// The key types in the allowlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256; signatures use SHA-256.
    EcdsaP256,
    /// ECDSA on NIST P-384; signatures use SHA-384.
    EcdsaP384,
    /// Ed25519 (RFC 8032, PureEdDSA).
    Ed25519,
    /// RSA with the given modulus size in bits (2048 to 8192).
    Rsa {
        /// Modulus size in bits.
        bits: usize,
    },
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EcdsaP256 => f.write_str("ECDSA P-256"),
            Self::EcdsaP384 => f.write_str("ECDSA P-384"),
            Self::Ed25519 => f.write_str("Ed25519"),
            Self::Rsa { bits } => write!(f, "RSA-{bits}"),
        }
    }
}

/// Hash functions a prehashed signature may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256 (32-byte digests).
    Sha256,
    /// SHA-384 (48-byte digests).
    Sha384,
    /// SHA-512 (64-byte digests).
    Sha512,
}

impl HashAlgorithm {
    /// Length of a digest in bytes.
    #[must_use]
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The protobuf-specs `HashAlgorithm` name (`SHA2_256`, `SHA2_384`, `SHA2_512`), as Rekor
    /// v2 bodies and bundles write it.
    #[must_use]
    pub fn protobuf_name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA2_256",
            Self::Sha384 => "SHA2_384",
            Self::Sha512 => "SHA2_512",
        }
    }

    /// The algorithm of a protobuf-specs `HashAlgorithm` name; `None` for any other name.
    #[must_use]
    pub fn from_protobuf_name(name: &str) -> Option<Self> {
        [Self::Sha256, Self::Sha384, Self::Sha512]
            .into_iter()
            .find(|h| h.protobuf_name() == name)
    }

    fn aws(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        }
    }

    /// Hashes `data` with this algorithm.
    #[must_use]
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.aws(), data).as_ref().to_vec()
    }
}

/// RSA signature padding schemes (always with SHA-256 in this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RsaPadding {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the default for RSA keys).
    Pkcs1Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
    PssSha256,
}

/// Errors from parsing a public or private key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The PEM text could not be parsed.
    #[error("invalid PEM: {reason}")]
    Pem {
        /// What was wrong.
        reason: String,
    },
    /// The PEM block has an unexpected label.
    #[error("unexpected PEM label {found:?}, expected {expected}")]
    PemLabel {
        /// The label found.
        found: String,
        /// The label(s) accepted.
        expected: &'static str,
    },
    /// The DER structure could not be parsed.
    #[error("invalid DER SubjectPublicKeyInfo: {reason}")]
    Der {
        /// What was wrong.
        reason: String,
    },
    /// Bytes follow the DER structure.
    #[error("{count} trailing bytes after the DER structure")]
    TrailingData {
        /// Number of extra bytes.
        count: usize,
    },
    /// The key algorithm OID is not in the allowlist.
    #[error("unsupported public key algorithm {oid}")]
    UnsupportedAlgorithm {
        /// The algorithm OID, dotted.
        oid: String,
    },
    /// The elliptic curve is not in the allowlist.
    #[error("unsupported elliptic curve {curve}")]
    UnsupportedCurve {
        /// The curve OID, dotted, or a description.
        curve: String,
    },
    /// The EC public key is not a SEC 1 uncompressed point (`0x04 ‖ x ‖ y`).
    #[error("the EC public key is not an uncompressed point (0x04 || x || y); compressed and hybrid points are not accepted (Go's crypto/x509, which Sigstore's verifiers use, refuses them): export the key uncompressed")]
    CompressedPoint,
    /// The RSA modulus is outside 2048..=8192 bits.
    #[error("RSA modulus of {bits} bits is outside {min}..={max}")]
    RsaKeySize {
        /// Modulus size found.
        bits: usize,
        /// Smallest accepted.
        min: usize,
        /// Largest accepted.
        max: usize,
    },
    /// aws-lc rejected the key material (for example an EC point not on the curve).
    #[error("key rejected by aws-lc: {reason}")]
    Rejected {
        /// aws-lc's description.
        reason: String,
    },
    /// A raw key or seed has the wrong length.
    #[error("wrong key length {actual}, expected {expected}")]
    Length {
        /// Expected length in bytes.
        expected: usize,
        /// Length found.
        actual: usize,
    },
    /// The random number generator failed.
    #[error("random number generator failed")]
    Rng,
    /// aws-lc could not serialize the key.
    #[error("key serialization failed")]
    Encoding,
}

/// Errors from verifying or producing a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature does not verify (or is malformed).
    #[error("invalid {algorithm} signature")]
    Invalid {
        /// The key algorithm.
        algorithm: KeyAlgorithm,
    },
    /// The key type cannot verify a prehashed message.
    #[error("{algorithm} cannot verify or sign a prehashed message")]
    PrehashUnsupported {
        /// The key algorithm.
        algorithm: KeyAlgorithm,
    },
    /// The digest length does not match its hash algorithm.
    #[error("digest is {actual} bytes, {hash:?} digests are {expected}")]
    DigestLength {
        /// The hash algorithm.
        hash: HashAlgorithm,
        /// Expected length.
        expected: usize,
        /// Length given.
        actual: usize,
    },
    /// The requested scheme does not apply to this key (for example RSA padding on an EC key),
    /// or the hash is not allowed with it.
    #[error("{algorithm} key cannot be used with {requested}")]
    SchemeMismatch {
        /// The key algorithm.
        algorithm: KeyAlgorithm,
        /// The requested scheme.
        requested: &'static str,
    },
    /// aws-lc failed to produce a signature.
    #[error("signing failed")]
    SigningFailed,
}

/// The parsed key object kept for repeated verification.
#[derive(Clone)]
enum Inner {
    Ecdsa(ParsedPublicKey),
    Ed25519(ParsedPublicKey),
    Rsa {
        pkcs1: ParsedPublicKey,
        pss: ParsedPublicKey,
    },
}

/// A public key from the allowlist, parsed once for repeated verification.
///
/// Equality and hashing use the SPKI DER bytes.
#[derive(Clone)]
pub struct PublicKey {
    spki: Arc<[u8]>,
    algorithm: KeyAlgorithm,
    key_id: [u8; 32],
    inner: Inner,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm)
            .field("key_id", &hex::encode(self.key_id))
            .finish_non_exhaustive()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}
impl Eq for PublicKey {}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.spki.hash(state);
    }
}

fn rejected(e: &aws_lc_rs::error::KeyRejected) -> KeyError {
    KeyError::Rejected {
        reason: e.to_string(),
    }
}

impl PublicKey {
    /// Parses a DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// [`KeyError`] if the DER is malformed, has trailing bytes, names an algorithm or curve
    /// outside the allowlist, has an RSA modulus outside 2048..=8192 bits, or if aws-lc rejects
    /// the key material.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let (rest, spki) = SubjectPublicKeyInfo::from_der(der).map_err(|e| KeyError::Der {
            reason: e.to_string(),
        })?;
        if !rest.is_empty() {
            return Err(KeyError::TrailingData { count: rest.len() });
        }
        let oid = &spki.algorithm.algorithm;
        let params = spki.algorithm.parameters.as_ref();
        let (algorithm, inner) = if *oid == OID_KEY_TYPE_EC_PUBLIC_KEY {
            let curve =
                params
                    .and_then(|p| p.as_oid().ok())
                    .ok_or_else(|| KeyError::UnsupportedCurve {
                        curve: "missing namedCurve parameter".to_owned(),
                    })?;
            let (alg, verify): (KeyAlgorithm, &'static sig::EcdsaVerificationAlgorithm) =
                if curve == OID_EC_P256 {
                    (KeyAlgorithm::EcdsaP256, &sig::ECDSA_P256_SHA256_ASN1)
                } else if curve == OID_NIST_EC_P384 {
                    (KeyAlgorithm::EcdsaP384, &sig::ECDSA_P384_SHA384_ASN1)
                } else {
                    return Err(KeyError::UnsupportedCurve {
                        curve: curve.to_id_string(),
                    });
                };
            // SEC 1 uncompressed form only, as Go's crypto/x509 (rekor, sigstore-go) parses
            // keys: a compressed point is a second spelling of the same key, which would log
            // the same signature twice and could not be read by those verifiers.
            if spki.subject_public_key.data.first() != Some(&0x04) {
                return Err(KeyError::CompressedPoint);
            }
            let parsed = ParsedPublicKey::new(verify, der).map_err(|e| rejected(&e))?;
            (alg, Inner::Ecdsa(parsed))
        } else if *oid == OID_SIG_ED25519 {
            if params.is_some() {
                return Err(KeyError::Der {
                    reason: "Ed25519 AlgorithmIdentifier must not have parameters".to_owned(),
                });
            }
            let raw = spki.subject_public_key.data.as_ref();
            if raw.len() != 32 {
                return Err(KeyError::Length {
                    expected: 32,
                    actual: raw.len(),
                });
            }
            let parsed = ParsedPublicKey::new(&sig::ED25519, raw).map_err(|e| rejected(&e))?;
            (KeyAlgorithm::Ed25519, Inner::Ed25519(parsed))
        } else if *oid == OID_PKCS1_RSAENCRYPTION {
            let bits = match spki.parsed() {
                Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => modulus_bits(rsa.modulus),
                _ => {
                    return Err(KeyError::Der {
                        reason: "malformed RSAPublicKey".to_owned(),
                    })
                }
            };
            if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
                return Err(KeyError::RsaKeySize {
                    bits,
                    min: RSA_MIN_BITS,
                    max: RSA_MAX_BITS,
                });
            }
            let pkcs1 = ParsedPublicKey::new(&sig::RSA_PKCS1_2048_8192_SHA256, der)
                .map_err(|e| rejected(&e))?;
            let pss = ParsedPublicKey::new(&sig::RSA_PSS_2048_8192_SHA256, der)
                .map_err(|e| rejected(&e))?;
            (KeyAlgorithm::Rsa { bits }, Inner::Rsa { pkcs1, pss })
        } else {
            return Err(KeyError::UnsupportedAlgorithm {
                oid: oid.to_id_string(),
            });
        };
        let key_id = sha256(der);
        Ok(Self {
            spki: Arc::from(der),
            algorithm,
            key_id,
            inner,
        })
    }

    /// Parses a PEM `PUBLIC KEY` block (a SubjectPublicKeyInfo).
    ///
    /// # Errors
    /// [`KeyError::Pem`] or [`KeyError::PemLabel`] for bad PEM, then as
    /// [`PublicKey::from_spki_der`].
    pub fn from_pem(pem_text: &str) -> Result<Self, KeyError> {
        let block = pem::parse(pem_text).map_err(|e| KeyError::Pem {
            reason: e.to_string(),
        })?;
        if block.tag() != "PUBLIC KEY" {
            return Err(KeyError::PemLabel {
                found: block.tag().to_owned(),
                expected: "PUBLIC KEY",
            });
        }
        Self::from_spki_der(block.contents())
    }

    /// Builds the key from a raw 32-byte Ed25519 public key.
    ///
    /// # Errors
    /// [`KeyError`] if aws-lc rejects the key.
    pub fn from_ed25519_raw(raw: &[u8; 32]) -> Result<Self, KeyError> {
        let mut der = Vec::with_capacity(44);
        der.extend_from_slice(&ED25519_SPKI_PREFIX);
        der.extend_from_slice(raw);
        Self::from_spki_der(&der)
    }

    /// The DER SubjectPublicKeyInfo.
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// PEM `PUBLIC KEY` encoding of the SPKI.
    #[must_use]
    pub fn to_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.spki.to_vec()))
    }

    /// SHA-256 of the SPKI DER (the RFC 6962 / Rekor log ID).
    #[must_use]
    pub fn key_id(&self) -> [u8; 32] {
        self.key_id
    }

    /// The key type.
    #[must_use]
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The raw 32-byte public key if this is an Ed25519 key.
    #[must_use]
    pub fn ed25519_raw(&self) -> Option<[u8; 32]> {
        match &self.inner {
            Inner::Ed25519(k) => k.as_ref().try_into().ok(),
            _ => None,
        }
    }

    fn invalid(&self) -> SignatureError {
        SignatureError::Invalid {
            algorithm: self.algorithm,
        }
    }

    /// Verifies `signature` over `message` with the key's default scheme: ECDSA with SHA-256
    /// (P-256) or SHA-384 (P-384) and an ASN.1 DER signature, Ed25519, or RSA PKCS#1 v1.5
    /// with SHA-256.
    ///
    /// # Errors
    /// [`SignatureError::Invalid`] if the signature does not verify.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let key = match &self.inner {
            Inner::Ecdsa(k) | Inner::Ed25519(k) | Inner::Rsa { pkcs1: k, .. } => k,
        };
        key.verify_sig(message, signature)
            .map_err(|_| self.invalid())
    }

    /// Verifies an RSA signature with the given padding (SHA-256 in both cases).
    ///
    /// # Errors
    /// [`SignatureError::SchemeMismatch`] for a non-RSA key, [`SignatureError::Invalid`] if
    /// the signature does not verify.
    pub fn verify_rsa(
        &self,
        padding: RsaPadding,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let Inner::Rsa { pkcs1, pss } = &self.inner else {
            return Err(SignatureError::SchemeMismatch {
                algorithm: self.algorithm,
                requested: "RSA padding",
            });
        };
        let key = match padding {
            RsaPadding::Pkcs1Sha256 => pkcs1,
            RsaPadding::PssSha256 => pss,
        };
        key.verify_sig(message, signature)
            .map_err(|_| self.invalid())
    }

    /// The hash used by [`PublicKey::verify`] for this key, `None` for Ed25519.
    #[must_use]
    pub fn default_hash(&self) -> Option<HashAlgorithm> {
        match self.algorithm {
            KeyAlgorithm::EcdsaP384 => Some(HashAlgorithm::Sha384),
            KeyAlgorithm::Ed25519 => None,
            _ => Some(HashAlgorithm::Sha256),
        }
    }

    /// Verifies a signature over a message of which the caller only has the digest, computed
    /// with the key's default hash (SHA-256 for P-256 and RSA, SHA-384 for P-384). The result
    /// equals [`PublicKey::verify`] on the original message.
    ///
    /// # Errors
    /// [`SignatureError::PrehashUnsupported`] for Ed25519, [`SignatureError::DigestLength`]
    /// for a digest of the wrong size, [`SignatureError::Invalid`] if it does not verify.
    pub fn verify_prehashed(&self, digest: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let Some(hash) = self.default_hash() else {
            return Err(SignatureError::PrehashUnsupported {
                algorithm: self.algorithm,
            });
        };
        self.verify_prehashed_with(hash, digest, signature)
    }

    /// Like [`PublicKey::verify_prehashed`] with an explicit hash algorithm, for signers
    /// that pair a curve with another hash (for example P-384 with SHA-256). Combinations
    /// other than the key's default are parsed per call, so they are slower. RSA uses PKCS#1
    /// v1.5 with the given hash (SHA-256, SHA-384 or SHA-512, as Go's `rsa.VerifyPKCS1v15`
    /// behind Rekor's hashedrekord check).
    ///
    /// # Errors
    /// As [`PublicKey::verify_prehashed`].
    pub fn verify_prehashed_with(
        &self,
        hash: HashAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        if digest.len() != hash.output_len() {
            return Err(SignatureError::DigestLength {
                hash,
                expected: hash.output_len(),
                actual: digest.len(),
            });
        }
        let d = digest::Digest::import_less_safe(digest, hash.aws()).map_err(|_| {
            SignatureError::DigestLength {
                hash,
                expected: hash.output_len(),
                actual: digest.len(),
            }
        })?;
        match &self.inner {
            Inner::Ed25519(_) => Err(SignatureError::PrehashUnsupported {
                algorithm: self.algorithm,
            }),
            Inner::Rsa { pkcs1, .. } => {
                let alg: &'static dyn VerificationAlgorithm = match hash {
                    HashAlgorithm::Sha256 => {
                        return pkcs1
                            .verify_digest_sig(&d, signature)
                            .map_err(|_| self.invalid())
                    }
                    HashAlgorithm::Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                    HashAlgorithm::Sha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                };
                UnparsedPublicKey::new(alg, &self.spki[..])
                    .verify_digest(&d, signature)
                    .map_err(|_| self.invalid())
            }
            Inner::Ecdsa(parsed) => {
                if Some(hash) == self.default_hash() {
                    return parsed
                        .verify_digest_sig(&d, signature)
                        .map_err(|_| self.invalid());
                }
                let alg: &'static dyn VerificationAlgorithm = match (self.algorithm, hash) {
                    (KeyAlgorithm::EcdsaP256, HashAlgorithm::Sha384) => {
                        &sig::ECDSA_P256_SHA384_ASN1
                    }
                    (KeyAlgorithm::EcdsaP256, HashAlgorithm::Sha512) => {
                        &sig::ECDSA_P256_SHA512_ASN1
                    }
                    (KeyAlgorithm::EcdsaP384, HashAlgorithm::Sha256) => {
                        &sig::ECDSA_P384_SHA256_ASN1
                    }
                    (KeyAlgorithm::EcdsaP384, HashAlgorithm::Sha512) => {
                        &sig::ECDSA_P384_SHA512_ASN1
                    }
                    _ => {
                        return Err(SignatureError::SchemeMismatch {
                            algorithm: self.algorithm,
                            requested: "this hash",
                        })
                    }
                };
                UnparsedPublicKey::new(alg, &self.spki[..])
                    .verify_digest(&d, signature)
                    .map_err(|_| self.invalid())
            }
        }
    }
}

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), followed by the 32-byte key.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The NIST curves [`EcdsaSigner`] supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcdsaCurve {
    /// P-256 with SHA-256.
    P256,
    /// P-384 with SHA-384.
    P384,
}

impl EcdsaCurve {
    fn signing(self) -> &'static sig::EcdsaSigningAlgorithm {
        match self {
            Self::P256 => &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
            Self::P384 => &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
        }
    }

    /// The hash used with this curve.
    #[must_use]
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::P256 => HashAlgorithm::Sha256,
            Self::P384 => HashAlgorithm::Sha384,
        }
    }

    fn scalar_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }

    /// DER of the namedCurve OID (tag, length, value).
    fn oid_der(self) -> &'static [u8] {
        match self {
            Self::P256 => &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            Self::P384 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
        }
    }
}

/// An ECDSA signing key (P-256 or P-384) producing ASN.1 DER signatures.
///
/// Cloning is cheap (the key pair is reference counted).
#[derive(Clone)]
pub struct EcdsaSigner {
    key_pair: Arc<EcdsaKeyPair>,
    curve: EcdsaCurve,
    public: PublicKey,
}

impl fmt::Debug for EcdsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcdsaSigner")
            .field("curve", &self.curve)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl EcdsaSigner {
    fn from_key_pair(key_pair: EcdsaKeyPair, curve: EcdsaCurve) -> Result<Self, KeyError> {
        let spki = key_pair
            .public_key()
            .as_der()
            .map_err(|_| KeyError::Encoding)?;
        let public = PublicKey::from_spki_der(spki.as_ref())?;
        Ok(Self {
            key_pair: Arc::new(key_pair),
            curve,
            public,
        })
    }

    /// Parses an unencrypted PKCS#8 `PrivateKeyInfo` holding a P-256 or P-384 key.
    ///
    /// # Errors
    /// [`KeyError::Rejected`] if the DER is not such a key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::from_der_with(der, EcdsaKeyPair::from_pkcs8)
    }

    /// Parses an RFC 5915 `ECPrivateKey` (the PEM `EC PRIVATE KEY` body) or PKCS#8.
    ///
    /// # Errors
    /// [`KeyError::Rejected`] if the DER is not a P-256 or P-384 key.
    pub fn from_ec_private_key_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::from_der_with(der, EcdsaKeyPair::from_private_key_der)
    }

    fn from_der_with(
        der: &[u8],
        parse: fn(
            &'static sig::EcdsaSigningAlgorithm,
            &[u8],
        ) -> Result<EcdsaKeyPair, aws_lc_rs::error::KeyRejected>,
    ) -> Result<Self, KeyError> {
        let mut last = None;
        for curve in [EcdsaCurve::P256, EcdsaCurve::P384] {
            match parse(curve.signing(), der) {
                Ok(kp) => return Self::from_key_pair(kp, curve),
                Err(e) => last = Some(rejected(&e)),
            }
        }
        Err(last.unwrap_or(KeyError::Encoding))
    }

    /// Parses a PEM `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (RFC 5915) block.
    ///
    /// # Errors
    /// [`KeyError::Pem`]/[`KeyError::PemLabel`] for bad PEM, [`KeyError::Rejected`] for a key
    /// that is not P-256 or P-384.
    pub fn from_pem(pem_text: &str) -> Result<Self, KeyError> {
        let block = pem::parse(pem_text).map_err(|e| KeyError::Pem {
            reason: e.to_string(),
        })?;
        match block.tag() {
            "PRIVATE KEY" => Self::from_pkcs8_der(block.contents()),
            "EC PRIVATE KEY" => Self::from_ec_private_key_der(block.contents()),
            other => Err(KeyError::PemLabel {
                found: other.to_owned(),
                expected: "PRIVATE KEY or EC PRIVATE KEY",
            }),
        }
    }

    /// Generates a key from `rng`: the private scalar is drawn from `rng` (retrying on the
    /// negligible chance that it is zero or not below the group order), so a deterministic
    /// RNG yields a deterministic key.
    ///
    /// # Errors
    /// [`KeyError::Rng`] if the RNG fails.
    pub fn generate(curve: EcdsaCurve, rng: &dyn SecureRandom) -> Result<Self, KeyError> {
        let n = curve.scalar_len();
        for _ in 0..64 {
            let mut scalar = vec![0u8; n];
            rng.fill(&mut scalar).map_err(|_| KeyError::Rng)?;
            if let Ok(s) = Self::from_scalar(curve, &scalar) {
                return Ok(s);
            }
        }
        Err(KeyError::Rng)
    }

    /// Builds the key from a big-endian private scalar of the curve's size.
    ///
    /// # Errors
    /// [`KeyError::Length`] or [`KeyError::Rejected`] for an invalid scalar.
    pub fn from_scalar(curve: EcdsaCurve, scalar: &[u8]) -> Result<Self, KeyError> {
        let n = curve.scalar_len();
        if scalar.len() != n {
            return Err(KeyError::Length {
                expected: n,
                actual: scalar.len(),
            });
        }
        // RFC 5915 ECPrivateKey { version 1, privateKey, [0] namedCurve }; aws-lc derives the
        // public point.
        let oid = curve.oid_der();
        let params_len = oid.len();
        let body_len = 3 + 2 + n + 2 + params_len;
        let mut der = Vec::with_capacity(body_len + 2);
        der.push(0x30);
        der.push(u8::try_from(body_len).map_err(|_| KeyError::Encoding)?);
        der.extend_from_slice(&[0x02, 0x01, 0x01, 0x04]);
        der.push(u8::try_from(n).map_err(|_| KeyError::Encoding)?);
        der.extend_from_slice(scalar);
        der.push(0xa0);
        der.push(u8::try_from(params_len).map_err(|_| KeyError::Encoding)?);
        der.extend_from_slice(oid);
        let kp =
            EcdsaKeyPair::from_private_key_der(curve.signing(), &der).map_err(|e| rejected(&e))?;
        Self::from_key_pair(kp, curve)
    }

    /// Serializes the key as unencrypted PKCS#8 DER.
    ///
    /// # Errors
    /// [`KeyError::Encoding`] if aws-lc fails.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        self.key_pair
            .to_pkcs8v1()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| KeyError::Encoding)
    }

    /// Serializes the key as a PEM `PRIVATE KEY` block.
    ///
    /// # Errors
    /// [`KeyError::Encoding`] if aws-lc fails.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        Ok(pem::encode(&pem::Pem::new(
            "PRIVATE KEY",
            self.to_pkcs8_der()?,
        )))
    }

    /// The curve.
    #[must_use]
    pub fn curve(&self) -> EcdsaCurve {
        self.curve
    }

    /// The public key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `message` (hashed with the curve's hash), returning an ASN.1 DER signature.
    ///
    /// # Errors
    /// [`SignatureError::SigningFailed`] if aws-lc fails.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
        let d = digest::digest(self.curve.hash().aws(), message);
        self.key_pair
            .sign_digest(&d)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| SignatureError::SigningFailed)
    }

    /// Signs a digest computed with the curve's hash (SHA-256 for P-256, SHA-384 for P-384),
    /// returning an ASN.1 DER signature equal in kind to [`EcdsaSigner::sign`] over the message.
    ///
    /// # Errors
    /// [`SignatureError::DigestLength`] for a digest of the wrong size,
    /// [`SignatureError::SigningFailed`] if aws-lc fails.
    pub fn sign_digest(&self, digest_bytes: &[u8]) -> Result<Vec<u8>, SignatureError> {
        let hash = self.curve.hash();
        let d = digest::Digest::import_less_safe(digest_bytes, hash.aws()).map_err(|_| {
            SignatureError::DigestLength {
                hash,
                expected: hash.output_len(),
                actual: digest_bytes.len(),
            }
        })?;
        self.key_pair
            .sign_digest(&d)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| SignatureError::SigningFailed)
    }
}

/// An Ed25519 signing key built from a 32-byte seed.
///
/// Cloning is cheap (the key pair is reference counted).
#[derive(Clone)]
pub struct Ed25519Signer {
    key_pair: Arc<Ed25519KeyPair>,
    seed: Arc<[u8; 32]>,
    public: PublicKey,
    public_raw: [u8; 32],
}

impl fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("public", &hex::encode(self.public_raw))
            .finish_non_exhaustive()
    }
}

impl Ed25519Signer {
    /// Builds the key from its RFC 8032 32-byte seed.
    ///
    /// # Errors
    /// [`KeyError::Rejected`] if aws-lc rejects the seed.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, KeyError> {
        let key_pair = Ed25519KeyPair::from_seed_unchecked(seed).map_err(|e| rejected(&e))?;
        let public_raw: [u8; 32] =
            key_pair
                .public_key()
                .as_ref()
                .try_into()
                .map_err(|_| KeyError::Length {
                    expected: 32,
                    actual: key_pair.public_key().as_ref().len(),
                })?;
        let public = PublicKey::from_ed25519_raw(&public_raw)?;
        Ok(Self {
            key_pair: Arc::new(key_pair),
            seed: Arc::new(*seed),
            public,
            public_raw,
        })
    }

    /// Generates a key whose seed is drawn from `rng`.
    ///
    /// # Errors
    /// [`KeyError::Rng`] if the RNG fails.
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        rng.fill(&mut seed).map_err(|_| KeyError::Rng)?;
        Self::from_seed(&seed)
    }

    /// Parses an unencrypted PKCS#8 (v1 or v2) Ed25519 key.
    ///
    /// # Errors
    /// [`KeyError::Rejected`] if the DER is not an Ed25519 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|e| rejected(&e))?;
        let seed = kp.seed().map_err(|_| KeyError::Encoding)?;
        let seed_der = seed.as_be_bytes().map_err(|_| KeyError::Encoding)?;
        let seed_bytes: [u8; 32] = seed_der.as_ref().try_into().map_err(|_| KeyError::Length {
            expected: 32,
            actual: seed_der.as_ref().len(),
        })?;
        Self::from_seed(&seed_bytes)
    }

    /// The 32-byte seed (secret).
    #[must_use]
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// The public key as SPKI.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The raw 32-byte public key.
    #[must_use]
    pub fn public_key_raw(&self) -> [u8; 32] {
        self.public_raw
    }

    /// Signs `message` (RFC 8032 Ed25519).
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let s = self.key_pair.sign(message);
        let mut out = [0u8; 64];
        out.copy_from_slice(s.as_ref());
        out
    }
}
