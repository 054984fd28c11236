//! Encrypted signing keys for keyed mode (`signet generate-key-pair`, `sign --key`).
//!
//! The private key is an ECDSA P-256 key stored as standard encrypted PKCS#8
//! (`-----BEGIN ENCRYPTED PRIVATE KEY-----`, PBES2 with scrypt and AES-256-CBC), written and
//! read by [`signet_proto::keyfile`], the same format as the CA's keys: `openssl pkey -in
//! signet.key` reads it with the password, and keys encrypted by `openssl pkcs8 -topk8 -v2
//! aes-256-cbc [-scrypt]` load here. Keys in the client's former `ENCRYPTED SIGNET PRIVATE KEY`
//! format (scrypt and ChaCha20-Poly1305) still load. The public key is a plain `PUBLIC KEY`
//! PEM (SPKI DER).

use std::path::Path;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use signet_proto::keyfile::{self, KeyFileError, ScryptCost};

/// PEM label of the public key (SPKI).
pub(crate) const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// Errors of key generation, encryption and decryption.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum KeyError {
    /// The key file is malformed, of another kind, or its encryption is unsupported.
    #[error("{0}")]
    File(KeyFileError),
    /// The password is wrong or the file was modified.
    #[error("cannot decrypt the private key: wrong password or modified key file")]
    Decrypt,
    /// The decrypted key is not a P-256 PKCS#8 key.
    #[error("decrypted key is not an ECDSA P-256 PKCS#8 key (keyed signing uses P-256)")]
    KeyRejected,
    /// The crypto library failed.
    #[error("crypto failure: {what}")]
    Crypto {
        /// The operation that failed.
        what: &'static str,
    },
}

impl From<KeyFileError> for KeyError {
    fn from(e: KeyFileError) -> Self {
        match e {
            KeyFileError::WrongPassword => Self::Decrypt,
            other => Self::File(other),
        }
    }
}

/// A freshly generated key pair, PEM encoded.
pub(crate) struct GeneratedKeyPair {
    /// The encrypted private key PEM.
    pub(crate) private_pem: String,
    /// The public key PEM (SPKI).
    pub(crate) public_pem: String,
}

/// Generates a P-256 key pair and encrypts the private key under `password`.
pub(crate) fn generate(password: &[u8]) -> Result<GeneratedKeyPair, KeyError> {
    generate_with_cost(password, ScryptCost::DEFAULT)
}

fn generate_with_cost(password: &[u8], cost: ScryptCost) -> Result<GeneratedKeyPair, KeyError> {
    let key =
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(|_| KeyError::Crypto {
            what: "generate key",
        })?;
    let pkcs8 = key.to_pkcs8v1().map_err(|_| KeyError::Crypto {
        what: "export PKCS#8",
    })?;
    let private_pem = keyfile::encrypt_pem(pkcs8.as_ref(), password, cost, &SystemRandom::new())?;
    let public_pem = public_key_pem(&key)?;
    Ok(GeneratedKeyPair {
        private_pem,
        public_pem,
    })
}

/// The SPKI DER of a key pair's public key.
pub(crate) fn public_key_der(key: &EcdsaKeyPair) -> Result<Vec<u8>, KeyError> {
    let der = key.public_key().as_der().map_err(|_| KeyError::Crypto {
        what: "export SPKI",
    })?;
    Ok(der.as_ref().to_vec())
}

/// The `PUBLIC KEY` PEM of a key pair's public key.
pub(crate) fn public_key_pem(key: &EcdsaKeyPair) -> Result<String, KeyError> {
    let der = public_key_der(key)?;
    Ok(pem::encode_config(
        &pem::Pem::new(PUBLIC_KEY_LABEL, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    ))
}

/// Decrypts an encrypted private key PEM (any format [`signet_proto::keyfile`] reads) with
/// `password` into a P-256 signing key pair.
pub(crate) fn decrypt(pem_text: &str, password: &[u8]) -> Result<EcdsaKeyPair, KeyError> {
    let (der, _format) = keyfile::decrypt_pem(pem_text, password)?;
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &der)
        .map_err(|_| KeyError::KeyRejected)
}

/// Where a password comes from: `SIGNET_PASSWORD`, else an interactive prompt.
pub(crate) fn read_password(confirm: bool) -> anyhow::Result<String> {
    if let Ok(pw) = std::env::var("SIGNET_PASSWORD") {
        return Ok(pw);
    }
    let pw = rpassword::prompt_password("Enter password for private key: ")?;
    if confirm {
        let again = rpassword::prompt_password("Enter password for private key again: ")?;
        if again != pw {
            anyhow::bail!("passwords do not match");
        }
    }
    Ok(pw)
}

/// Reads and decrypts the private key file at `path` (password from env or prompt).
pub(crate) fn load_private_key(path: &Path) -> anyhow::Result<EcdsaKeyPair> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read private key {}: {e}", path.display()))?;
    let password = read_password(false)?;
    decrypt(&text, password.as_bytes())
        .map_err(|e| anyhow::anyhow!("private key {}: {e}", path.display()))
}

/// Parses a `PUBLIC KEY` PEM (or raw DER) into SPKI DER bytes.
pub(crate) fn read_public_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    let raw = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read public key {}: {e}", path.display()))?;
    if raw.starts_with(b"-----BEGIN") {
        let p =
            pem::parse(&raw).map_err(|e| anyhow::anyhow!("public key {}: {e}", path.display()))?;
        if p.tag() != PUBLIC_KEY_LABEL {
            anyhow::bail!(
                "public key {}: PEM label is {:?}, want {PUBLIC_KEY_LABEL:?}",
                path.display(),
                p.tag()
            );
        }
        Ok(p.into_contents())
    } else {
        Ok(raw)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};

    #[test]
    fn round_trip_signs_with_the_same_key() {
        let kp = generate_with_cost(b"correct horse", ScryptCost::TEST_ONLY).unwrap();
        assert!(kp
            .private_pem
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        let key = decrypt(&kp.private_pem, b"correct horse").unwrap();
        let sig = key.sign(&SystemRandom::new(), b"message").unwrap();
        let spki = pem::parse(&kp.public_pem).unwrap();
        assert_eq!(spki.contents(), public_key_der(&key).unwrap().as_slice());
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.public_key().as_ref())
            .verify(b"message", sig.as_ref())
            .unwrap();
    }

    #[test]
    fn wrong_password_is_rejected() {
        let kp = generate_with_cost(b"right", ScryptCost::TEST_ONLY).unwrap();
        assert!(matches!(
            decrypt(&kp.private_pem, b"wrong"),
            Err(KeyError::Decrypt)
        ));
    }

    #[test]
    fn former_client_format_still_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
        let text = std::fs::read_to_string(dir.join("client-v1.key")).unwrap();
        let public = std::fs::read_to_string(dir.join("client-v1.pub")).unwrap();
        let key = decrypt(&text, b"signet-test-vector").unwrap();
        assert_eq!(
            public_key_der(&key).unwrap(),
            pem::parse(public).unwrap().contents()
        );
    }

    #[test]
    fn wrong_label_and_p384_keys_are_rejected() {
        let kp = generate_with_cost(b"pw", ScryptCost::TEST_ONLY).unwrap();
        assert!(matches!(
            decrypt(&kp.public_pem, b"pw"),
            Err(KeyError::File(KeyFileError::UnknownLabel { .. }))
        ));
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
        let p384 = std::fs::read_to_string(dir.join("ca-v1-p384.key")).unwrap();
        assert!(matches!(
            decrypt(&p384, b"signet-test-vector"),
            Err(KeyError::KeyRejected)
        ));
    }
}
