//! Proof of possession of the key to be certified, as Fulcio v2 does it.
//!
//! Either a signature by the submitted key over the challenge (the token's `sub`, or the
//! email for email issuers), or a self-signed PKCS#10 CSR whose signature verifies under its
//! own key. Keys are limited to the [`signet_proto::keys`] allowlist: ECDSA P-256/P-384,
//! Ed25519 and RSA >= 2048 bits.
//!
//! Not checked here: CSR subject or attributes (they are ignored; the identity comes only
//! from the token), key reuse across identities.

use aws_lc_rs::digest;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::keys::{HashAlgorithm, KeyAlgorithm, PublicKey, RsaPadding};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

/// Proof-of-possession errors (all map to HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// The public key is malformed or of a type outside the allowlist.
    #[error("unsupported or malformed public key: {reason}")]
    UnsupportedKey {
        /// Parser detail.
        reason: String,
    },
    /// The signature over the challenge does not verify.
    #[error("proof of possession does not verify")]
    BadProof,
    /// The CSR does not parse.
    #[error("malformed certificate signing request")]
    MalformedCsr,
    /// The CSR's self-signature does not verify.
    #[error("certificate signing request signature does not verify")]
    BadCsrSignature,
}

/// Parses a public key given as PEM (`PUBLIC KEY`) or base64 DER SPKI.
///
/// # Errors
/// [`ChallengeError::UnsupportedKey`].
pub fn parse_public_key(content: &str) -> Result<PublicKey, ChallengeError> {
    let unsupported = |reason: String| ChallengeError::UnsupportedKey { reason };
    if content.trim_start().starts_with("-----BEGIN") {
        PublicKey::from_pem(content).map_err(|e| unsupported(e.to_string()))
    } else {
        let der = B64
            .decode(content.trim())
            .map_err(|_| unsupported("neither PEM nor base64 DER".to_owned()))?;
        PublicKey::from_spki_der(&der).map_err(|e| unsupported(e.to_string()))
    }
}

/// Verifies `proof` (a signature by `key` over the UTF-8 bytes of `challenge`).
///
/// ECDSA proofs are ASN.1 DER over SHA-256 (what Fulcio and the Sigstore clients use for
/// every curve) or over the curve's own hash; Ed25519 is pure; RSA is PKCS#1 v1.5 or PSS
/// with SHA-256.
///
/// # Errors
/// [`ChallengeError::BadProof`].
pub fn verify_proof(key: &PublicKey, proof: &[u8], challenge: &str) -> Result<(), ChallengeError> {
    let msg = challenge.as_bytes();
    if key.verify(msg, proof).is_ok() {
        return Ok(());
    }
    let ok = match key.algorithm() {
        KeyAlgorithm::EcdsaP384 => {
            let d = digest::digest(&digest::SHA256, msg);
            key.verify_prehashed_with(HashAlgorithm::Sha256, d.as_ref(), proof)
                .is_ok()
        }
        KeyAlgorithm::Rsa { .. } => key.verify_rsa(RsaPadding::PssSha256, msg, proof).is_ok(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ChallengeError::BadProof)
    }
}

/// Parses a CSR (PEM text, or DER; the Fulcio JSON carries base64 of either), verifies its
/// self-signature and returns its key.
///
/// # Errors
/// [`ChallengeError::MalformedCsr`], [`ChallengeError::BadCsrSignature`] or
/// [`ChallengeError::UnsupportedKey`].
pub fn verify_csr(csr: &[u8]) -> Result<PublicKey, ChallengeError> {
    let der = if csr.starts_with(b"-----BEGIN") {
        pem::parse(csr)
            .map_err(|_| ChallengeError::MalformedCsr)?
            .into_contents()
    } else {
        csr.to_vec()
    };
    let (rest, req) =
        X509CertificationRequest::from_der(&der).map_err(|_| ChallengeError::MalformedCsr)?;
    if !rest.is_empty() {
        return Err(ChallengeError::MalformedCsr);
    }
    let spki = req.certification_request_info.subject_pki.raw;
    let key = PublicKey::from_spki_der(spki).map_err(|e| ChallengeError::UnsupportedKey {
        reason: e.to_string(),
    })?;
    // Verify the self-signature with our own allowlisted verifier over the signed bytes.
    let info_raw = req.certification_request_info.raw;
    let sig = req.signature_value.data.as_ref();
    let sig_ok = match key.algorithm() {
        KeyAlgorithm::EcdsaP384 => {
            // ecdsa-with-SHA256 or ecdsa-with-SHA384, per the CSR's algorithm OID.
            let oid = req.signature_algorithm.algorithm.to_id_string();
            if oid == "1.2.840.10045.4.3.2" {
                let d = digest::digest(&digest::SHA256, info_raw);
                key.verify_prehashed_with(HashAlgorithm::Sha256, d.as_ref(), sig)
                    .is_ok()
            } else {
                key.verify(info_raw, sig).is_ok()
            }
        }
        _ => key.verify(info_raw, sig).is_ok(),
    };
    if sig_ok {
        Ok(key)
    } else {
        Err(ChallengeError::BadCsrSignature)
    }
}
