//! Signing keys for keyed mode (`signet generate-key-pair`, `sign --key`, `public-key`,
//! `verify --key`).
//!
//! `generate-key-pair` writes an ECDSA P-256 key as standard encrypted PKCS#8
//! (`-----BEGIN ENCRYPTED PRIVATE KEY-----`, PBES2 with scrypt and AES-256-CBC), written and
//! read by [`signet_proto::keyfile`], the same format as the CA's keys: `openssl pkey -in
//! signet.key` reads it with the password. The public key is a plain `PUBLIC KEY` PEM (SPKI).
//!
//! `--key` for signing takes, in this order:
//! * a KMS URI (`awskms://`, `gcpkms://`, `azurekms://`, `hashivault://`, `k8s://`): refused,
//!   naming the PKCS#11 alternative;
//! * a PKCS#11 URI (RFC 7512, [`signet_proto::pkcs11_uri`]): the key stays in the token and
//!   signs there through the CA's [`signet_ca::signer::Pkcs11Signer`]; module from
//!   `module-path` or `$SIGNET_PKCS11_MODULE`, PIN from `pin-value`, `pin-source` (a file) or
//!   `$SIGNET_PKCS11_PIN`;
//! * a file: `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1) as they are; encrypted PKCS#8,
//!   cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` / `ENCRYPTED COSIGN PRIVATE KEY`, and Signet's
//!   former formats with the password from `$SIGNET_PASSWORD`, else `$COSIGN_PASSWORD`, else a
//!   prompt when standard input is a terminal.
//!
//! Keys that sign: ECDSA P-256 and RSA (2048 to 8192 bits, PKCS#1 v1.5) over SHA-256 digests,
//! and ECDSA P-384 over SHA-384 digests (`ECDSA_P384_SHA384`, as cosign and sigstore-go sign
//! with P-384 keys: the hashedrekord entry then carries a `sha384` digest); in a PKCS#11 token,
//! P-256 and P-384 keys alike. Ed25519 keys cannot sign a digest (PureEdDSA), so they are
//! refused for signing with that reason; `public-key` prints theirs.

use std::io::IsTerminal as _;
use std::path::Path;

use aws_lc_rs::digest::{Digest, SHA256, SHA384};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING,
    ECDSA_P384_SHA384_ASN1_SIGNING, RSA_PKCS1_SHA256,
};
use signet_ca::signer::{CaCurve, CaSigner as _, Pkcs11Selector, Pkcs11Signer};
use signet_proto::keyfile::{self, KeyFileError, ScryptCost};
use signet_proto::keys::HashAlgorithm;
use signet_proto::pkcs11_uri::{self, Pkcs11Uri};

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
    #[error("decrypted key is not an ECDSA P-256 PKCS#8 key")]
    #[cfg_attr(not(test), allow(dead_code))]
    KeyRejected,
    /// The key is of a kind that cannot sign a hashedrekord digest.
    #[error(
        "the key is {kind}: Signet signs with ECDSA P-256, ECDSA P-384 or RSA keys (a \
         hashedrekord entry carries a digest{why}); create one with `signet generate-key-pair`"
    )]
    CannotSign {
        /// The key type.
        kind: &'static str,
        /// Why, if there is more to say.
        why: &'static str,
    },
    /// The DER is no private key Signet knows.
    #[error("not a private key Signet reads (PKCS#8 or SEC1 EC PRIVATE KEY: ECDSA, Ed25519, RSA)")]
    UnknownKey,
    /// The PKCS#11 token refused to sign.
    #[error("PKCS#11 signing failed: {reason}")]
    Pkcs11 {
        /// The token's answer.
        reason: String,
    },
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
#[cfg(test)]
fn decrypt(pem_text: &str, password: &[u8]) -> Result<EcdsaKeyPair, KeyError> {
    let (der, _format) = keyfile::decrypt_pem(pem_text, password)?;
    EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_ASN1_SIGNING, &der)
        .map_err(|_| KeyError::KeyRejected)
}

/// A private key in memory, of any kind Signet reads.
enum PrivateKey {
    /// ECDSA P-256.
    P256(EcdsaKeyPair),
    /// ECDSA P-384.
    P384(EcdsaKeyPair),
    /// Ed25519 (public key only).
    Ed25519(Ed25519KeyPair),
    /// RSA.
    Rsa(RsaKeyPair),
}

/// Parses plaintext private key DER: PKCS#8 (v1 or v2) or SEC1 `ECPrivateKey`.
fn parse_private_der(der: &[u8]) -> Result<PrivateKey, KeyError> {
    if let Ok(k) = EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_ASN1_SIGNING, der) {
        return Ok(PrivateKey::P256(k));
    }
    if let Ok(k) = EcdsaKeyPair::from_private_key_der(&ECDSA_P384_SHA384_ASN1_SIGNING, der) {
        return Ok(PrivateKey::P384(k));
    }
    if let Ok(k) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
        return Ok(PrivateKey::Ed25519(k));
    }
    if let Ok(k) = RsaKeyPair::from_pkcs8(der) {
        return Ok(PrivateKey::Rsa(k));
    }
    if let Ok(k) = RsaKeyPair::from_der(der) {
        return Ok(PrivateKey::Rsa(k));
    }
    Err(KeyError::UnknownKey)
}

impl PrivateKey {
    fn spki_der(&self) -> Result<Vec<u8>, KeyError> {
        let err = |_| KeyError::Crypto {
            what: "export SPKI",
        };
        Ok(match self {
            Self::P256(k) | Self::P384(k) => {
                k.public_key().as_der().map_err(err)?.as_ref().to_vec()
            }
            Self::Ed25519(k) => k.public_key().as_der().map_err(err)?.as_ref().to_vec(),
            Self::Rsa(k) => k.public_key().as_der().map_err(err)?.as_ref().to_vec(),
        })
    }
}

/// A key that signs digests: in memory, or in a PKCS#11 token.
pub(crate) enum SigningKey {
    /// ECDSA P-256 in memory (SHA-256 digests).
    P256(EcdsaKeyPair),
    /// ECDSA P-384 in memory (SHA-384 digests).
    P384(EcdsaKeyPair),
    /// RSA in memory (PKCS#1 v1.5 with SHA-256).
    Rsa(RsaKeyPair),
    /// An ECDSA P-256 or P-384 key inside a token (SHA-256 or SHA-384 digests).
    Pkcs11(Box<Pkcs11Signer>),
}

impl SigningKey {
    /// The public key, SPKI DER.
    pub(crate) fn spki_der(&self) -> Result<Vec<u8>, KeyError> {
        match self {
            Self::P256(k) | Self::P384(k) => public_key_der(k),
            Self::Rsa(k) => k
                .public_key()
                .as_der()
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| KeyError::Crypto {
                    what: "export SPKI",
                }),
            Self::Pkcs11(k) => Ok(k.spki_der().to_vec()),
        }
    }

    /// The hash whose digests the key signs: SHA-384 for a P-384 key (`ECDSA_P384_SHA384`,
    /// as cosign and sigstore-go pair them), SHA-256 for the others.
    pub(crate) fn hash(&self) -> HashAlgorithm {
        match self {
            Self::P384(_) => HashAlgorithm::Sha384,
            Self::Pkcs11(k) if k.curve() == CaCurve::P384 => HashAlgorithm::Sha384,
            Self::P256(_) | Self::Rsa(_) | Self::Pkcs11(_) => HashAlgorithm::Sha256,
        }
    }

    /// Signs `digest`, of [`SigningKey::hash`]; the signature is ASN.1 DER (ECDSA) or PKCS#1
    /// v1.5 (RSA).
    ///
    /// # Errors
    /// [`KeyError::Crypto`] for a digest of another length or a failure of the crypto
    /// library, [`KeyError::Pkcs11`] when the token refuses.
    pub(crate) fn sign_prehashed(&self, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        let crypto = |_| KeyError::Crypto {
            what: "sign digest",
        };
        if digest.len() != self.hash().output_len() {
            return Err(KeyError::Crypto {
                what: "sign a digest of the key's hash",
            });
        }
        match self {
            Self::P256(k) => {
                let d = Digest::import_less_safe(digest, &SHA256).map_err(crypto)?;
                Ok(k.sign_digest(&d).map_err(crypto)?.as_ref().to_vec())
            }
            Self::P384(k) => {
                let d = Digest::import_less_safe(digest, &SHA384).map_err(crypto)?;
                Ok(k.sign_digest(&d).map_err(crypto)?.as_ref().to_vec())
            }
            Self::Rsa(k) => {
                let d = Digest::import_less_safe(digest, &SHA256).map_err(crypto)?;
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign_digest(&RSA_PKCS1_SHA256, &d, &mut sig)
                    .map_err(crypto)?;
                Ok(sig)
            }
            Self::Pkcs11(k) => k.sign_digest(digest).map_err(|e| KeyError::Pkcs11 {
                reason: e.to_string(),
            }),
        }
    }
}

/// The environment variables a key password is read from, in order.
pub(crate) const PASSWORD_VARS: [&str; 2] = ["SIGNET_PASSWORD", "COSIGN_PASSWORD"];

/// Where a password came from, for the wrong-password message.
#[derive(Debug, Clone, Copy)]
enum PasswordOrigin {
    Env(&'static str),
    Prompt,
}

/// A password from `SIGNET_PASSWORD`, else `COSIGN_PASSWORD` (either may be empty: cosign's
/// keys often have an empty password), else a prompt when standard input is a terminal.
fn password_with_origin(confirm: bool) -> anyhow::Result<(String, PasswordOrigin)> {
    for var in PASSWORD_VARS {
        if let Ok(pw) = std::env::var(var) {
            return Ok((pw, PasswordOrigin::Env(var)));
        }
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "no password for the private key: set SIGNET_PASSWORD (or COSIGN_PASSWORD) in the \
             environment; standard input is not a terminal, so there is no prompt"
        );
    }
    let prompt = |text: &str| {
        rpassword::prompt_password(text).map_err(|e| {
            anyhow::anyhow!(
                "cannot prompt for the password ({e}): set SIGNET_PASSWORD (or COSIGN_PASSWORD)"
            )
        })
    };
    let pw = prompt("Enter password for private key: ")?;
    if confirm {
        let again = prompt("Enter password for private key again: ")?;
        if again != pw {
            anyhow::bail!("passwords do not match");
        }
    }
    Ok((pw, PasswordOrigin::Prompt))
}

/// Where a password comes from: `SIGNET_PASSWORD`, `COSIGN_PASSWORD`, else a terminal prompt.
pub(crate) fn read_password(confirm: bool) -> anyhow::Result<String> {
    password_with_origin(confirm).map(|(pw, _)| pw)
}

/// KMS URI schemes cosign accepts and Signet does not.
const KMS_SCHEMES: [&str; 5] = [
    "awskms://",
    "gcpkms://",
    "azurekms://",
    "hashivault://",
    "k8s://",
];

/// Refuses a KMS URI with the alternatives.
fn refuse_kms(spec: &str) -> anyhow::Result<()> {
    if let Some(scheme) = KMS_SCHEMES
        .iter()
        .find(|s| spec.len() >= s.len() && spec[..s.len()].eq_ignore_ascii_case(s))
    {
        anyhow::bail!(
            "--key {}…: KMS keys are not supported by Signet; keep the key in an HSM and pass \
             a PKCS#11 URI (--key 'pkcs11:token=LABEL;object=KEY?module-path=/path/to/module.so\
             &pin-source=/path/to/pin'), or use a key file (signet generate-key-pair)",
            scheme.trim_end_matches("//")
        );
    }
    Ok(())
}

/// Reads the PIN a PKCS#11 URI names: `pin-value`, `pin-source` (a path or `file:` URI),
/// else `$SIGNET_PKCS11_PIN`.
fn pkcs11_pin(uri: &Pkcs11Uri) -> anyhow::Result<String> {
    if let Some(pin) = &uri.pin_value {
        return Ok(pin.clone());
    }
    if let Some(source) = &uri.pin_source {
        let path = source
            .strip_prefix("file://")
            .or_else(|| source.strip_prefix("file:"))
            .unwrap_or(source);
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!("cannot read the PKCS#11 PIN from pin-source {path}: {e}")
        })?;
        return Ok(text.trim_end_matches(['\r', '\n']).to_owned());
    }
    if let Ok(pin) = std::env::var("SIGNET_PKCS11_PIN") {
        return Ok(pin);
    }
    anyhow::bail!(
        "{}: no PIN: add pin-value=… or pin-source=FILE to the URI's query, or set SIGNET_PKCS11_PIN",
        uri.redacted()
    )
}

/// Opens the key a PKCS#11 URI names.
pub(crate) fn open_pkcs11(spec: &str) -> anyhow::Result<Pkcs11Signer> {
    let uri = Pkcs11Uri::parse(spec).map_err(|e| anyhow::anyhow!("--key: {e}"))?;
    let shown = uri.redacted();
    let module = match (&uri.module_path, std::env::var("SIGNET_PKCS11_MODULE")) {
        (Some(m), _) => m.clone(),
        (None, Ok(m)) if !m.is_empty() => m,
        _ => anyhow::bail!(
            "{shown}: no PKCS#11 module: add module-path=/path/to/module.so to the URI's query, \
             or set SIGNET_PKCS11_MODULE"
        ),
    };
    let selector = Pkcs11Selector {
        token_label: uri.token.clone(),
        slot_id: uri.slot_id,
        key_label: uri.object.clone(),
        key_id: uri.id.clone(),
    };
    let pin = pkcs11_pin(&uri)?;
    Pkcs11Signer::open_selected(Path::new(&module), &pin, &selector)
        .map_err(|e| anyhow::anyhow!("{shown}: {e}"))
}

/// A private key file's plaintext DER: plain PKCS#8 or SEC1 as it is, anything encrypted with
/// the password from the environment or a prompt.
fn read_private_der(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read private key {}: {e}", path.display()))?;
    let block = pem::parse(&text)
        .map_err(|e| anyhow::anyhow!("private key {}: not PEM: {e}", path.display()))?;
    if matches!(
        block.tag(),
        "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY"
    ) {
        return Ok(block.into_contents());
    }
    // Refuse what is not an encrypted key before asking for a password.
    keyfile::EncryptedKeyFile::parse(&text)
        .map_err(|e| anyhow::anyhow!("private key {}: {e}", path.display()))?;
    let (password, origin) = password_with_origin(false)?;
    keyfile::decrypt_pem(&text, password.as_bytes())
        .map(|(der, _)| der)
        .map_err(|e| match e {
            KeyFileError::WrongPassword => {
                let from = match origin {
                    PasswordOrigin::Env(var) => format!("the password in {var}"),
                    PasswordOrigin::Prompt => "the password typed".to_owned(),
                };
                anyhow::anyhow!(
                    "cannot decrypt private key {}: wrong password or modified key file ({from} \
                     does not open it; set SIGNET_PASSWORD, or COSIGN_PASSWORD, to the key's \
                     password)",
                    path.display()
                )
            }
            other => anyhow::anyhow!("private key {}: {other}", path.display()),
        })
}

fn is_uri_text(path: &Path) -> Option<&str> {
    path.to_str()
}

/// Loads the signing key `--key` names (file, PKCS#11 URI; KMS URIs refused).
pub(crate) fn load_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    if let Some(spec) = is_uri_text(path) {
        refuse_kms(spec)?;
        if pkcs11_uri::is_pkcs11_uri(spec) {
            return Ok(SigningKey::Pkcs11(Box::new(open_pkcs11(spec)?)));
        }
    }
    let der = read_private_der(path)?;
    let key = parse_private_der(&der)
        .map_err(|e| anyhow::anyhow!("private key {}: {e}", path.display()))?;
    let refuse = |kind, why| {
        anyhow::anyhow!(
            "private key {}: {}",
            path.display(),
            KeyError::CannotSign { kind, why }
        )
    };
    match key {
        PrivateKey::P256(k) => Ok(SigningKey::P256(k)),
        PrivateKey::Rsa(k) => Ok(SigningKey::Rsa(k)),
        PrivateKey::P384(k) => Ok(SigningKey::P384(k)),
        PrivateKey::Ed25519(_) => Err(refuse(
            "Ed25519",
            ", and Ed25519 (PureEdDSA) cannot sign a digest",
        )),
    }
}

/// The SPKI DER of the public key of `--key` (a private key file or a PKCS#11 URI).
pub(crate) fn public_key_of(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(spec) = is_uri_text(path) {
        refuse_kms(spec)?;
        if pkcs11_uri::is_pkcs11_uri(spec) {
            return Ok(open_pkcs11(spec)?.spki_der().to_vec());
        }
    }
    let der = read_private_der(path)?;
    let key = parse_private_der(&der)
        .map_err(|e| anyhow::anyhow!("private key {}: {e}", path.display()))?;
    Ok(key.spki_der()?)
}

/// Parses a `PUBLIC KEY` PEM (or raw DER) into SPKI DER bytes; a PKCS#11 URI yields the
/// token key's public key; a KMS URI is refused.
pub(crate) fn read_public_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(spec) = is_uri_text(path) {
        refuse_kms(spec)?;
        if pkcs11_uri::is_pkcs11_uri(spec) {
            return Ok(open_pkcs11(spec)?.spki_der().to_vec());
        }
    }
    let raw = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read public key {}: {e}", path.display()))?;
    if raw.starts_with(b"-----BEGIN") {
        let p =
            pem::parse(&raw).map_err(|e| anyhow::anyhow!("public key {}: {e}", path.display()))?;
        if p.tag() != PUBLIC_KEY_LABEL {
            anyhow::bail!(
                "public key {}: PEM label is {:?}, want {PUBLIC_KEY_LABEL:?} (print a private \
                 key's public key with `signet public-key --key FILE`)",
                path.display(),
                p.tag()
            );
        }
        Ok(p.into_contents())
    } else {
        Ok(raw)
    }
}

/// PEM-encodes SPKI DER as `PUBLIC KEY` with LF line endings.
pub(crate) fn spki_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(PUBLIC_KEY_LABEL, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
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
    fn a_p384_key_signs_sha384_digests_only() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
        let text = std::fs::read_to_string(dir.join("ca-v1-p384.key")).unwrap();
        let (der, _) = keyfile::decrypt_pem(&text, b"signet-test-vector").unwrap();
        let PrivateKey::P384(k) = parse_private_der(&der).unwrap() else {
            panic!("not read as a P-384 key");
        };
        let key = SigningKey::P384(k);
        assert_eq!(key.hash(), HashAlgorithm::Sha384);
        let public =
            signet_proto::keys::PublicKey::from_spki_der(&key.spki_der().unwrap()).unwrap();
        let digest = HashAlgorithm::Sha384.hash(b"artifact");
        let sig = key.sign_prehashed(&digest).unwrap();
        public.verify(b"artifact", &sig).unwrap();
        assert!(public.verify(b"another artifact", &sig).is_err());
        // A SHA-256 digest is refused, not signed as a truncated or padded SHA-384.
        assert!(matches!(
            key.sign_prehashed(&HashAlgorithm::Sha256.hash(b"artifact")),
            Err(KeyError::Crypto { .. })
        ));
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
