//! Password-encrypted private-key files: one format for the CA and the client.
//!
//! Signet writes standard encrypted PKCS#8 (RFC 5958 `EncryptedPrivateKeyInfo`) as PEM with
//! label `ENCRYPTED PRIVATE KEY`, encrypted with PBES2 (RFC 8018): the key is derived with
//! scrypt (RFC 7914, `id-scrypt`) and the PKCS#8 DER is encrypted with AES-256-CBC. This is what
//! `openssl pkcs8 -topk8 -v2 aes-256-cbc -scrypt` writes, so OpenSSL reads Signet's keys
//! (`openssl pkey -in k.pem -passin pass:...`) and Signet reads OpenSSL's.
//!
//! ```text
//! EncryptedPrivateKeyInfo ::= SEQUENCE {
//!   encryptionAlgorithm SEQUENCE { pbes2 (1.2.840.113549.1.5.13), SEQUENCE {
//!     keyDerivationFunc SEQUENCE { id-scrypt (1.3.6.1.4.1.11591.4.11),
//!       SEQUENCE { salt OCTET STRING (16), N INTEGER, r INTEGER, p INTEGER } },
//!     encryptionScheme SEQUENCE { aes256-CBC (2.16.840.1.101.3.4.1.42), iv OCTET STRING (16) } } },
//!   encryptedData OCTET STRING }      -- AES-256-CBC, PKCS#7 padding, over PrivateKeyInfo DER
//! ```
//!
//! New files use [`ScryptCost::DEFAULT`] (N = 2^14, r = 8, p = 2): the same work as the older
//! formats' N = 2^15, r = 8, p = 1, in the 16 MiB that OpenSSL's scrypt allows by default
//! (OpenSSL refuses N = 2^15 with r = 8: it needs just over its 32 MiB limit).
//!
//! Read as well, so that no existing key is stranded:
//! - PBES2 with PBKDF2 (HMAC-SHA256 or HMAC-SHA1) instead of scrypt, and AES-128-CBC (what
//!   OpenSSL writes without `-scrypt`);
//! - `SIGNET ENCRYPTED PRIVATE KEY`, the CA's former format: `SGNK1\0`, log_n (u8), r and p
//!   (u32 big-endian), 16-byte salt, 12-byte nonce, then AES-256-GCM with the scrypt key and
//!   all the preceding bytes as associated data;
//! - `ENCRYPTED SIGNET PRIVATE KEY`, the client's former format: RFC 1421-style headers
//!   (`Version: 1`, `KDF: scrypt`, `KDF-Params: log_n=..,r=..,p=..`, `Salt`, `Cipher:
//!   chacha20-poly1305`, `Nonce`), then ChaCha20-Poly1305 with the header lines as associated
//!   data;
//! - cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` and `ENCRYPTED COSIGN PRIVATE KEY` (sigstore/sigstore
//!   `pkg/encrypted`): the PEM body is JSON `{"kdf":{"name":"scrypt","params":{"N","r","p"},
//!   "salt"},"cipher":{"name":"nacl/secretbox","nonce"},"ciphertext"}`; the 32-byte key is
//!   scrypt(password, salt, N, r, p) and the plaintext is the NaCl secretbox (XSalsa20-Poly1305)
//!   open of the ciphertext: PKCS#8, or RFC 5915 `ECPrivateKey` in some older files.
//!
//! Derivation costs are bounded when reading (scrypt memory at most 1 GiB, PBKDF2 at most ten
//! million iterations), so a hostile file cannot exhaust the machine. A wrong password is
//! [`KeyFileError::WrongPassword`]: with CBC a wrong key shows as bad padding or as plaintext
//! that is not a `PrivateKeyInfo`.
//!
//! Pure: no I/O; randomness is passed in. The result is the PKCS#8 `PrivateKeyInfo` DER;
//! callers parse it for the key type they expect.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, CHACHA20_POLY1305};
use aws_lc_rs::cipher::{
    DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey, AES_128, AES_256,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::rand::SecureRandom;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

/// PEM label of the standard format Signet writes.
pub const PKCS8_ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";
/// PEM label of the CA's former format (read only).
pub const LEGACY_CA_LABEL: &str = "SIGNET ENCRYPTED PRIVATE KEY";
/// PEM label of the client's former format (read only).
pub const LEGACY_CLIENT_LABEL: &str = "ENCRYPTED SIGNET PRIVATE KEY";
/// PEM label of cosign's encrypted keys (cosign 2.x and later, sigstore-go, sigstore-rs).
pub const SIGSTORE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM label of cosign's encrypted keys as cosign 1.x wrote them.
pub const COSIGN_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// Largest cosign key JSON read (real ones are about 500 bytes; RSA-4096 about 3.5 KiB).
const MAX_COSIGN_JSON: usize = 64 * 1024;

const LEGACY_CA_MAGIC: &[u8; 6] = b"SGNK1\0";

// OID contents (the bytes after tag 0x06 and the length).
const OID_PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const OID_PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
const OID_SCRYPT: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x04, 0x0b];
const OID_HMAC_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x07];
const OID_HMAC_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09];
const OID_AES128_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02];
const OID_AES256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];

/// Largest scrypt memory (128 · r · N bytes) accepted when reading: 1 GiB.
const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
/// OpenSSL's default scrypt memory limit (32 MiB); new files stay within it.
const OPENSSL_SCRYPT_MEMORY: u64 = 32 * 1024 * 1024;
/// Largest PBKDF2 iteration count accepted when reading.
const MAX_PBKDF2_ITERATIONS: u64 = 10_000_000;
const SALT_LEN: usize = 16;

/// Errors of reading, decrypting and writing key files. Each names the problem and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The text is not PEM.
    #[error("not a PEM key file: {reason}")]
    NotPem {
        /// The parser's complaint.
        reason: String,
    },
    /// The PEM block is not an encrypted private key.
    #[error(
        "PEM label {label:?} is not an encrypted private key: want {PKCS8_ENCRYPTED_LABEL:?}, \
         cosign's {SIGSTORE_LABEL:?} / {COSIGN_LABEL:?}, or the older {LEGACY_CA_LABEL:?} / \
         {LEGACY_CLIENT_LABEL:?}"
    )]
    UnknownLabel {
        /// The label found.
        label: String,
    },
    /// The key is a plain, unencrypted PKCS#8 key.
    #[error(
        "the private key is not encrypted (PEM label \"PRIVATE KEY\"): encrypt it with \
         `openssl pkcs8 -topk8 -v2 aes-256-cbc -scrypt`"
    )]
    Unencrypted,
    /// The structure is malformed.
    #[error("malformed encrypted key file: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// A well-formed file uses an algorithm Signet does not implement.
    #[error(
        "unsupported key encryption: {what}; Signet reads PBES2 with scrypt or \
         PBKDF2-HMAC-SHA256/SHA1 and AES-256-CBC or AES-128-CBC \
         (re-encrypt with `openssl pkcs8 -topk8 -v2 aes-256-cbc -scrypt`)"
    )]
    Unsupported {
        /// The unsupported algorithm or parameter.
        what: String,
    },
    /// The key-derivation parameters are out of the accepted range.
    #[error("key derivation parameters out of range: {reason}")]
    Cost {
        /// Which bound was crossed.
        reason: String,
    },
    /// The password is wrong, or the file was modified.
    #[error("cannot decrypt the private key: wrong password or modified key file")]
    WrongPassword,
    /// The crypto library or the random source failed.
    #[error("crypto failure: {what}")]
    Crypto {
        /// The operation that failed.
        what: &'static str,
    },
}

fn malformed(reason: &str) -> KeyFileError {
    KeyFileError::Malformed {
        reason: reason.to_owned(),
    }
}

/// The scrypt cost of a new key file: N = 2^`log_n`, block size `r`, parallelism `p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScryptCost {
    log_n: u8,
    r: u32,
    p: u32,
}

impl ScryptCost {
    /// N = 2^14, r = 8, p = 2: 16 MiB, about 0.1 s; readable by OpenSSL's defaults.
    pub const DEFAULT: Self = Self {
        log_n: 14,
        r: 8,
        p: 2,
    };
    /// N = 2^10, r = 8, p = 1: cheap, for tests only.
    pub const TEST_ONLY: Self = Self {
        log_n: 10,
        r: 8,
        p: 1,
    };

    /// A cost for new files. It must stay within OpenSSL's default scrypt memory limit
    /// (128 · r · (N + 2) + 128 · r · p ≤ 32 MiB) so that `openssl pkey` can read the file.
    ///
    /// # Errors
    /// [`KeyFileError::Cost`] if a parameter is zero or the memory exceeds that limit.
    pub fn new(log_n: u8, r: u32, p: u32) -> Result<Self, KeyFileError> {
        check_scrypt(log_n, r, p)?;
        let n = 1u64 << log_n;
        let memory = 128 * u64::from(r) * (n + 2) + 128 * u64::from(r) * u64::from(p);
        if memory > OPENSSL_SCRYPT_MEMORY {
            return Err(KeyFileError::Cost {
                reason: format!(
                    "scrypt N=2^{log_n}, r={r} needs {memory} bytes, over the 32 MiB that \
                     OpenSSL allows; lower log_n or r and raise p for more work"
                ),
            });
        }
        Ok(Self { log_n, r, p })
    }

    /// log2 of N.
    #[must_use]
    pub fn log_n(&self) -> u8 {
        self.log_n
    }
    /// The block size r.
    #[must_use]
    pub fn r(&self) -> u32 {
        self.r
    }
    /// The parallelism p.
    #[must_use]
    pub fn p(&self) -> u32 {
        self.p
    }
}

fn check_scrypt(log_n: u8, r: u32, p: u32) -> Result<(), KeyFileError> {
    let cost = |reason: String| Err(KeyFileError::Cost { reason });
    if !(1..=30).contains(&log_n) || r == 0 || p == 0 {
        return cost(format!("scrypt N=2^{log_n}, r={r}, p={p} is not valid"));
    }
    if r > 32 || p > 16 {
        return cost(format!("scrypt r={r}, p={p} (limits: r ≤ 32, p ≤ 16)"));
    }
    let memory = 128 * u64::from(r) * (1u64 << log_n);
    if memory > MAX_SCRYPT_MEMORY {
        return cost(format!(
            "scrypt N=2^{log_n}, r={r} needs {memory} bytes (limit 1 GiB)"
        ));
    }
    Ok(())
}

/// Which of the readable formats a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFileFormat {
    /// Standard encrypted PKCS#8 (PBES2), the format Signet writes.
    Pkcs8,
    /// The CA's former `SIGNET ENCRYPTED PRIVATE KEY`.
    LegacyCa,
    /// The client's former `ENCRYPTED SIGNET PRIVATE KEY`.
    LegacyClient,
    /// cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` / `ENCRYPTED COSIGN PRIVATE KEY` (scrypt and
    /// NaCl secretbox). The plaintext is whatever DER cosign encrypted: PKCS#8 for keys cosign
    /// generates, RFC 5915 `ECPrivateKey` for some older ones.
    Cosign,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kdf {
    Scrypt {
        salt: Vec<u8>,
        log_n: u8,
        r: u32,
        p: u32,
    },
    Pbkdf2 {
        salt: Vec<u8>,
        iterations: u32,
        sha256: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Cipher {
    AesCbc { key_len: usize, iv: [u8; 16] },
    Aes256Gcm { nonce: [u8; 12], aad: Vec<u8> },
    ChaCha20Poly1305 { nonce: [u8; 12], aad: Vec<u8> },
    SecretBox { nonce: [u8; 24] },
}

/// A parsed (not yet decrypted) encrypted key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedKeyFile {
    format: KeyFileFormat,
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: Vec<u8>,
}

impl EncryptedKeyFile {
    /// Parses a key file in any of the readable formats. Checks the structure and the
    /// derivation cost bounds; derives nothing.
    ///
    /// # Errors
    /// [`KeyFileError`] naming what is wrong with the file.
    pub fn parse(pem_text: &str) -> Result<Self, KeyFileError> {
        let block = pem::parse(pem_text).map_err(|e| KeyFileError::NotPem {
            reason: e.to_string(),
        })?;
        match block.tag() {
            PKCS8_ENCRYPTED_LABEL => parse_pkcs8(block.contents()),
            LEGACY_CA_LABEL => parse_legacy_ca(block.contents()),
            LEGACY_CLIENT_LABEL => parse_legacy_client(&block),
            SIGSTORE_LABEL | COSIGN_LABEL => parse_cosign(block.contents()),
            "PRIVATE KEY" | "EC PRIVATE KEY" => Err(KeyFileError::Unencrypted),
            other => Err(KeyFileError::UnknownLabel {
                label: other.to_owned(),
            }),
        }
    }

    /// The file's format.
    #[must_use]
    pub fn format(&self) -> KeyFileFormat {
        self.format
    }

    /// The scrypt cost `(log_n, r, p)` of the file, or `None` for PBKDF2.
    #[must_use]
    pub fn scrypt_cost(&self) -> Option<(u8, u32, u32)> {
        match &self.kdf {
            Kdf::Scrypt { log_n, r, p, .. } => Some((*log_n, *r, *p)),
            Kdf::Pbkdf2 { .. } => None,
        }
    }

    /// Decrypts with `password` and returns the PKCS#8 `PrivateKeyInfo` DER.
    ///
    /// # Errors
    /// [`KeyFileError::WrongPassword`] if the password is wrong or the file was modified.
    pub fn decrypt(&self, password: &[u8]) -> Result<Vec<u8>, KeyFileError> {
        let key_len = match &self.cipher {
            Cipher::AesCbc { key_len, .. } => *key_len,
            Cipher::Aes256Gcm { .. }
            | Cipher::ChaCha20Poly1305 { .. }
            | Cipher::SecretBox { .. } => 32,
        };
        let mut key = vec![0u8; key_len];
        derive(&self.kdf, password, &mut key)?;
        let mut buf = self.ciphertext.clone();
        let plain: Vec<u8> = match &self.cipher {
            Cipher::AesCbc { iv, .. } => {
                let alg = if key_len == 32 { &AES_256 } else { &AES_128 };
                let unbound = UnboundCipherKey::new(alg, &key)
                    .map_err(|_| KeyFileError::Crypto { what: "AES key" })?;
                let dec = PaddedBlockDecryptingKey::cbc_pkcs7(unbound).map_err(|_| {
                    KeyFileError::Crypto {
                        what: "AES-CBC key",
                    }
                })?;
                dec.decrypt(&mut buf, DecryptionContext::Iv128(FixedLength::from(*iv)))
                    .map_err(|_| KeyFileError::WrongPassword)?
                    .to_vec()
            }
            Cipher::Aes256Gcm { nonce, aad } => open_aead(&AES_256_GCM, &key, *nonce, aad, buf)?,
            Cipher::ChaCha20Poly1305 { nonce, aad } => {
                open_aead(&CHACHA20_POLY1305, &key, *nonce, aad, buf)?
            }
            Cipher::SecretBox { nonce } => {
                // The Poly1305 tag authenticates the plaintext, which may be PKCS#8 or SEC1.
                return open_secretbox(&key, nonce, &buf);
            }
        };
        if !looks_like_private_key_info(&plain) {
            return Err(KeyFileError::WrongPassword);
        }
        Ok(plain)
    }
}

/// Parses and decrypts a key file in any readable format; returns the PKCS#8 DER and the
/// format it was in.
///
/// # Errors
/// As [`EncryptedKeyFile::parse`] and [`EncryptedKeyFile::decrypt`].
pub fn decrypt_pem(
    pem_text: &str,
    password: &[u8],
) -> Result<(Vec<u8>, KeyFileFormat), KeyFileError> {
    let file = EncryptedKeyFile::parse(pem_text)?;
    let der = file.decrypt(password)?;
    Ok((der, file.format()))
}

/// Encrypts PKCS#8 `PrivateKeyInfo` DER under `password` into an `ENCRYPTED PRIVATE KEY` PEM
/// (PBES2, scrypt with `cost`, AES-256-CBC), with LF line endings.
///
/// # Errors
/// [`KeyFileError::Malformed`] if `pkcs8_der` is not a `PrivateKeyInfo`;
/// [`KeyFileError::Crypto`] if randomness or the cipher fails.
pub fn encrypt_pem(
    pkcs8_der: &[u8],
    password: &[u8],
    cost: ScryptCost,
    rng: &dyn SecureRandom,
) -> Result<String, KeyFileError> {
    if !looks_like_private_key_info(pkcs8_der) {
        return Err(malformed(
            "the key to encrypt is not PKCS#8 PrivateKeyInfo DER",
        ));
    }
    let mut salt = [0u8; SALT_LEN];
    let mut iv = [0u8; 16];
    rng.fill(&mut salt)
        .and_then(|()| rng.fill(&mut iv))
        .map_err(|_| KeyFileError::Crypto { what: "randomness" })?;
    let kdf = Kdf::Scrypt {
        salt: salt.to_vec(),
        log_n: cost.log_n,
        r: cost.r,
        p: cost.p,
    };
    let mut key = [0u8; 32];
    derive(&kdf, password, &mut key)?;
    let unbound = UnboundCipherKey::new(&AES_256, &key)
        .map_err(|_| KeyFileError::Crypto { what: "AES key" })?;
    let enc = PaddedBlockEncryptingKey::cbc_pkcs7(unbound).map_err(|_| KeyFileError::Crypto {
        what: "AES-CBC key",
    })?;
    let mut ct = pkcs8_der.to_vec();
    enc.less_safe_encrypt(&mut ct, EncryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| KeyFileError::Crypto {
            what: "AES-CBC encrypt",
        })?;

    let scrypt_params = seq(&[
        tlv(0x04, &salt),
        der_uint(1u64 << cost.log_n),
        der_uint(u64::from(cost.r)),
        der_uint(u64::from(cost.p)),
    ]);
    let kdf_alg = seq(&[tlv(0x06, OID_SCRYPT), scrypt_params]);
    let enc_alg = seq(&[tlv(0x06, OID_AES256_CBC), tlv(0x04, &iv)]);
    let pbes2 = seq(&[tlv(0x06, OID_PBES2), seq(&[kdf_alg, enc_alg])]);
    let der = seq(&[pbes2, tlv(0x04, &ct)]);
    Ok(pem::encode_config(
        &pem::Pem::new(PKCS8_ENCRYPTED_LABEL, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    ))
}

fn derive(kdf: &Kdf, password: &[u8], out: &mut [u8]) -> Result<(), KeyFileError> {
    match kdf {
        Kdf::Scrypt { salt, log_n, r, p } => {
            check_scrypt(*log_n, *r, *p)?;
            let params =
                scrypt::Params::new(*log_n, *r, *p, out.len()).map_err(|_| KeyFileError::Cost {
                    reason: format!("scrypt N=2^{log_n}, r={r}, p={p} rejected"),
                })?;
            scrypt::scrypt(password, salt, &params, out)
                .map_err(|_| KeyFileError::Crypto { what: "scrypt" })
        }
        Kdf::Pbkdf2 {
            salt,
            iterations,
            sha256,
        } => {
            let iterations = std::num::NonZeroU32::new(*iterations).ok_or(KeyFileError::Cost {
                reason: "PBKDF2 iteration count 0".to_owned(),
            })?;
            let alg = if *sha256 {
                aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256
            } else {
                aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA1
            };
            aws_lc_rs::pbkdf2::derive(alg, iterations, salt, password, out);
            Ok(())
        }
    }
}

fn open_aead(
    alg: &'static aws_lc_rs::aead::Algorithm,
    key: &[u8],
    nonce: [u8; 12],
    aad: &[u8],
    mut buf: Vec<u8>,
) -> Result<Vec<u8>, KeyFileError> {
    let key = LessSafeKey::new(
        UnboundKey::new(alg, key).map_err(|_| KeyFileError::Crypto { what: "AEAD key" })?,
    );
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf,
        )
        .map_err(|_| KeyFileError::WrongPassword)?;
    Ok(plain.to_vec())
}

/// `PrivateKeyInfo ::= SEQUENCE { version INTEGER (0|1), AlgorithmIdentifier, OCTET STRING, ... }`
/// spanning the whole input.
fn looks_like_private_key_info(der: &[u8]) -> bool {
    let check = || -> Result<bool, KeyFileError> {
        let mut outer = Der::new(der);
        let mut info = Der::new(outer.read(0x30)?);
        outer.finish()?;
        let version = der_to_u64(info.read(0x02)?)?;
        info.read(0x30)?;
        let key = info.read(0x04)?;
        Ok(version <= 1 && !key.is_empty())
    };
    check().unwrap_or(false)
}

/// cosign's key JSON (sigstore/sigstore `pkg/encrypted`): every field is required.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CosignJson {
    kdf: CosignKdf,
    cipher: CosignCipher,
    ciphertext: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CosignKdf {
    name: String,
    params: CosignScrypt,
    salt: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct CosignScrypt {
    N: u64,
    r: u32,
    p: u32,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CosignCipher {
    name: String,
    nonce: String,
}

fn parse_cosign(body: &[u8]) -> Result<EncryptedKeyFile, KeyFileError> {
    if body.len() > MAX_COSIGN_JSON {
        return Err(malformed("cosign key JSON is over 64 KiB"));
    }
    let json: CosignJson = crate::json::from_slice(body).map_err(|e| KeyFileError::Malformed {
        reason: format!("cosign key JSON: {e}"),
    })?;
    if json.kdf.name != "scrypt" {
        return Err(KeyFileError::Unsupported {
            what: format!("cosign key derivation {:?} (only scrypt)", json.kdf.name),
        });
    }
    if json.cipher.name != "nacl/secretbox" {
        return Err(KeyFileError::Unsupported {
            what: format!("cosign cipher {:?} (only nacl/secretbox)", json.cipher.name),
        });
    }
    let n = json.kdf.params.N;
    if !n.is_power_of_two() || n < 2 {
        return Err(KeyFileError::Cost {
            reason: format!("scrypt N={n} is not a power of two"),
        });
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| malformed("scrypt N"))?;
    let (r, p) = (json.kdf.params.r, json.kdf.params.p);
    check_scrypt(log_n, r, p)?;
    let b64 = |field: &str, text: &str| {
        B64.decode(text).map_err(|e| KeyFileError::Malformed {
            reason: format!("cosign key {field}: {e}"),
        })
    };
    let salt = b64("salt", &json.kdf.salt)?;
    if salt.is_empty() {
        return Err(malformed("cosign key salt is empty"));
    }
    let nonce: [u8; 24] = b64("nonce", &json.cipher.nonce)?
        .try_into()
        .map_err(|_| malformed("cosign key nonce is not 24 bytes"))?;
    let ciphertext = b64("ciphertext", &json.ciphertext)?;
    if ciphertext.len() <= SECRETBOX_TAG_LEN {
        return Err(malformed("cosign key ciphertext is shorter than its tag"));
    }
    Ok(EncryptedKeyFile {
        format: KeyFileFormat::Cosign,
        kdf: Kdf::Scrypt { salt, log_n, r, p },
        cipher: Cipher::SecretBox { nonce },
        ciphertext,
    })
}

const SECRETBOX_TAG_LEN: usize = 16;

/// NaCl `crypto_secretbox_open` (XSalsa20-Poly1305): tag first, then the ciphertext.
fn open_secretbox(key: &[u8], nonce: &[u8; 24], sealed: &[u8]) -> Result<Vec<u8>, KeyFileError> {
    use crypto_secretbox::aead::{Aead as _, KeyInit as _};
    let cipher = crypto_secretbox::XSalsa20Poly1305::new_from_slice(key).map_err(|_| {
        KeyFileError::Crypto {
            what: "secretbox key",
        }
    })?;
    cipher
        .decrypt(crypto_secretbox::Nonce::from_slice(nonce), sealed)
        .map_err(|_| KeyFileError::WrongPassword)
}

fn parse_pkcs8(der: &[u8]) -> Result<EncryptedKeyFile, KeyFileError> {
    let mut outer = Der::new(der);
    let mut epki = Der::new(outer.read(0x30)?);
    outer.finish()?;
    let mut alg = Der::new(epki.read(0x30)?);
    let ciphertext = epki.read(0x04)?.to_vec();
    epki.finish()?;
    let scheme = alg.read(0x06)?;
    if scheme != OID_PBES2 {
        return Err(KeyFileError::Unsupported {
            what: format!("encryption scheme OID {} (not PBES2)", oid_text(scheme)),
        });
    }
    let mut params = Der::new(alg.read(0x30)?);
    alg.finish()?;
    let mut kdf_alg = Der::new(params.read(0x30)?);
    let mut enc_alg = Der::new(params.read(0x30)?);
    params.finish()?;

    let enc_oid = enc_alg.read(0x06)?;
    let key_len = match enc_oid {
        OID_AES256_CBC => 32,
        OID_AES128_CBC => 16,
        other => {
            return Err(KeyFileError::Unsupported {
                what: format!("cipher OID {}", oid_text(other)),
            })
        }
    };
    let iv: [u8; 16] = enc_alg
        .read(0x04)?
        .try_into()
        .map_err(|_| malformed("AES-CBC IV is not 16 bytes"))?;
    enc_alg.finish()?;

    let kdf_oid = kdf_alg.read(0x06)?;
    let mut kp = Der::new(kdf_alg.read(0x30)?);
    kdf_alg.finish()?;
    let kdf = match kdf_oid {
        OID_SCRYPT => {
            let salt = kp.read(0x04)?.to_vec();
            let n = der_to_u64(kp.read(0x02)?)?;
            let r = der_to_u32(kp.read(0x02)?)?;
            let p = der_to_u32(kp.read(0x02)?)?;
            check_key_length(&mut kp, key_len)?;
            kp.finish()?;
            if n < 2 || !n.is_power_of_two() {
                return Err(KeyFileError::Cost {
                    reason: format!("scrypt N={n} is not a power of two above 1"),
                });
            }
            let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| malformed("scrypt N"))?;
            check_scrypt(log_n, r, p)?;
            Kdf::Scrypt { salt, log_n, r, p }
        }
        OID_PBKDF2 => {
            if kp.peek_tag() != Some(0x04) {
                return Err(KeyFileError::Unsupported {
                    what: "PBKDF2 salt from another source".to_owned(),
                });
            }
            let salt = kp.read(0x04)?.to_vec();
            let iterations = der_to_u64(kp.read(0x02)?)?;
            if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
                return Err(KeyFileError::Cost {
                    reason: format!(
                        "PBKDF2 iteration count {iterations} (limit 1..={MAX_PBKDF2_ITERATIONS})"
                    ),
                });
            }
            check_key_length(&mut kp, key_len)?;
            let sha256 = if kp.is_empty() {
                false // DEFAULT hmacWithSHA1
            } else {
                let mut prf = Der::new(kp.read(0x30)?);
                let oid = prf.read(0x06)?;
                if !prf.is_empty() {
                    prf.read(0x05)?; // NULL parameters
                }
                prf.finish()?;
                match oid {
                    OID_HMAC_SHA256 => true,
                    OID_HMAC_SHA1 => false,
                    other => {
                        return Err(KeyFileError::Unsupported {
                            what: format!("PBKDF2 PRF OID {}", oid_text(other)),
                        })
                    }
                }
            };
            kp.finish()?;
            Kdf::Pbkdf2 {
                salt,
                iterations: u32::try_from(iterations).map_err(|_| malformed("PBKDF2 count"))?,
                sha256,
            }
        }
        other => {
            return Err(KeyFileError::Unsupported {
                what: format!("key derivation OID {}", oid_text(other)),
            })
        }
    };
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(malformed(
            "AES-CBC ciphertext is not a whole number of blocks",
        ));
    }
    Ok(EncryptedKeyFile {
        format: KeyFileFormat::Pkcs8,
        kdf,
        cipher: Cipher::AesCbc { key_len, iv },
        ciphertext,
    })
}

/// The optional `keyLength INTEGER` of scrypt and PBKDF2 parameters must match the cipher.
fn check_key_length(d: &mut Der<'_>, key_len: usize) -> Result<(), KeyFileError> {
    if d.peek_tag() == Some(0x02) {
        let len = der_to_u64(d.read(0x02)?)?;
        if len != key_len as u64 {
            return Err(malformed("key length does not match the cipher"));
        }
    }
    Ok(())
}

fn parse_legacy_ca(data: &[u8]) -> Result<EncryptedKeyFile, KeyFileError> {
    const HEADER_LEN: usize = 6 + 1 + 4 + 4 + 16 + 12;
    if data.len() < HEADER_LEN + 16 || &data[..6] != LEGACY_CA_MAGIC {
        return Err(malformed("bad SGNK1 header"));
    }
    let log_n = data[6];
    let r = u32::from_be_bytes([data[7], data[8], data[9], data[10]]);
    let p = u32::from_be_bytes([data[11], data[12], data[13], data[14]]);
    check_scrypt(log_n, r, p)?;
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&data[31..43]);
    Ok(EncryptedKeyFile {
        format: KeyFileFormat::LegacyCa,
        kdf: Kdf::Scrypt {
            salt: data[15..31].to_vec(),
            log_n,
            r,
            p,
        },
        cipher: Cipher::Aes256Gcm {
            nonce,
            aad: data[..HEADER_LEN].to_vec(),
        },
        ciphertext: data[HEADER_LEN..].to_vec(),
    })
}

fn parse_legacy_client(block: &pem::Pem) -> Result<EncryptedKeyFile, KeyFileError> {
    let header = |name: &str| {
        block
            .headers()
            .get(name)
            .ok_or_else(|| KeyFileError::Malformed {
                reason: format!("header {name:?} is missing"),
            })
    };
    let bad = |name: &str| KeyFileError::Malformed {
        reason: format!("header {name:?} is invalid"),
    };
    for (name, want) in [
        ("Version", "1"),
        ("KDF", "scrypt"),
        ("Cipher", "chacha20-poly1305"),
    ] {
        if header(name)? != want {
            return Err(bad(name));
        }
    }
    let params = header("KDF-Params")?;
    let (mut log_n, mut r, mut p) = (None, None, None);
    for part in params.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| bad("KDF-Params"))?;
        match k {
            "log_n" => log_n = v.parse::<u8>().ok(),
            "r" => r = v.parse::<u32>().ok(),
            "p" => p = v.parse::<u32>().ok(),
            _ => return Err(bad("KDF-Params")),
        }
    }
    let (Some(log_n), Some(r), Some(p)) = (log_n, r, p) else {
        return Err(bad("KDF-Params"));
    };
    check_scrypt(log_n, r, p)?;
    let fixed = |name: &str, len: usize| -> Result<Vec<u8>, KeyFileError> {
        let raw = B64.decode(header(name)?.trim()).map_err(|_| bad(name))?;
        if raw.len() == len {
            Ok(raw)
        } else {
            Err(bad(name))
        }
    };
    let salt = fixed("Salt", 16)?;
    let nonce: [u8; 12] = fixed("Nonce", 12)?.try_into().map_err(|_| bad("Nonce"))?;
    // The associated data is the header block as the writer wrote it.
    let aad = format!(
        "Version: 1\nKDF: scrypt\nKDF-Params: log_n={log_n},r={r},p={p}\nSalt: {}\n\
         Cipher: chacha20-poly1305\nNonce: {}\n",
        B64.encode(&salt),
        B64.encode(nonce)
    )
    .into_bytes();
    Ok(EncryptedKeyFile {
        format: KeyFileFormat::LegacyClient,
        kdf: Kdf::Scrypt { salt, log_n, r, p },
        cipher: Cipher::ChaCha20Poly1305 { nonce, aad },
        ciphertext: block.contents().to_vec(),
    })
}

fn oid_text(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for b in oid {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (acc / 40).min(2);
                arcs.push(first);
                arcs.push(acc - 40 * first);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
        if acc > u64::MAX >> 8 {
            return format!("(hex {})", hex::encode(oid));
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

// ---- minimal strict DER ----

struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads one element with tag `tag` (definite, minimal length) and returns its content.
    fn read(&mut self, tag: u8) -> Result<&'a [u8], KeyFileError> {
        let (&t, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| malformed("DER ends early"))?;
        if t != tag {
            return Err(KeyFileError::Malformed {
                reason: format!("DER tag 0x{t:02x} where 0x{tag:02x} was expected"),
            });
        }
        let (&first, rest) = rest
            .split_first()
            .ok_or_else(|| malformed("DER length missing"))?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(malformed("DER length is indefinite or too long"));
            }
            let mut len = 0usize;
            for b in &rest[..n] {
                len = (len << 8) | usize::from(*b);
            }
            if rest[0] == 0 || len < 0x80 {
                return Err(malformed("DER length is not minimal"));
            }
            (len, &rest[n..])
        };
        if rest.len() < len {
            return Err(malformed("DER element runs past the end"));
        }
        let (content, rest) = rest.split_at(len);
        self.rest = rest;
        Ok(content)
    }

    fn finish(&self) -> Result<(), KeyFileError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(malformed("trailing bytes after a DER element"))
        }
    }
}

/// A non-negative, minimally encoded DER INTEGER that fits in a u64.
fn der_to_u64(content: &[u8]) -> Result<u64, KeyFileError> {
    match content {
        [] => Err(malformed("empty INTEGER")),
        [b, ..] if b & 0x80 != 0 => Err(malformed("negative INTEGER")),
        [0, b, ..] if b & 0x80 == 0 => Err(malformed("INTEGER is not minimal")),
        _ => {
            let digits = if content[0] == 0 {
                &content[1..]
            } else {
                content
            };
            if digits.len() > 8 {
                return Err(malformed("INTEGER too large"));
            }
            Ok(digits
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
        }
    }
}

fn der_to_u32(content: &[u8]) -> Result<u32, KeyFileError> {
    u32::try_from(der_to_u64(content)?).map_err(|_| malformed("INTEGER too large"))
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn der_uint(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    let mut content = bytes[skip..].to_vec();
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(0x02, &content)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const COSIGN_EMPTY: &str =
        include_str!("../../testdata/cosign/keys/policy-controller-cosign.key");
    const COSIGN_EMPTY_PUB: &str =
        include_str!("../../testdata/cosign/keys/policy-controller-cosign.pub");
    const SIGSTORE_HELLO: &str =
        include_str!("../../testdata/cosign/keys/cosign-keys_test-pemsigstorekey.key");
    const COSIGN_SEC1: &str =
        include_str!("../../testdata/cosign/keys/cosign-keys_test-pemcosigneckey.key");

    fn spki_of_pkcs8(der: &[u8]) -> Vec<u8> {
        use aws_lc_rs::encoding::AsDer as _;
        use aws_lc_rs::signature::KeyPair as _;
        let kp = aws_lc_rs::signature::EcdsaKeyPair::from_private_key_der(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            der,
        )
        .unwrap();
        kp.public_key().as_der().unwrap().as_ref().to_vec()
    }

    #[test]
    fn cosign_keys_decrypt_to_their_public_keys() {
        let file = EncryptedKeyFile::parse(COSIGN_EMPTY).unwrap();
        assert_eq!(file.format(), KeyFileFormat::Cosign);
        assert_eq!(file.scrypt_cost(), Some((15, 8, 1)));
        let der = file.decrypt(b"").unwrap();
        assert!(looks_like_private_key_info(&der));
        let public = pem::parse(COSIGN_EMPTY_PUB).unwrap();
        assert_eq!(spki_of_pkcs8(&der), public.contents());

        let (der, format) = decrypt_pem(SIGSTORE_HELLO, b"hello").unwrap();
        assert_eq!(format, KeyFileFormat::Cosign);
        assert!(looks_like_private_key_info(&der));
        // The SEC1 plaintext is returned as it is: the MAC authenticated it.
        let (der, _) = decrypt_pem(COSIGN_SEC1, b"hello").unwrap();
        assert!(!looks_like_private_key_info(&der));
        spki_of_pkcs8(&der);
    }

    #[test]
    fn cosign_wrong_password_and_tampering_are_refused() {
        assert_eq!(
            decrypt_pem(SIGSTORE_HELLO, b"hellO"),
            Err(KeyFileError::WrongPassword)
        );
        let block = pem::parse(COSIGN_EMPTY).unwrap();
        let mut json: serde_json::Value = crate::json::from_slice(block.contents()).unwrap();
        let ct = B64.decode(json["ciphertext"].as_str().unwrap()).unwrap();
        let mut flipped = ct.clone();
        flipped[20] ^= 1;
        json["ciphertext"] = B64.encode(&flipped).into();
        let tampered = pem::encode(&pem::Pem::new(COSIGN_LABEL, json.to_string()));
        assert_eq!(
            decrypt_pem(&tampered, b""),
            Err(KeyFileError::WrongPassword)
        );
    }

    #[test]
    fn cosign_json_is_checked_before_deriving() {
        let good: serde_json::Value =
            crate::json::from_slice(pem::parse(COSIGN_EMPTY).unwrap().contents()).unwrap();
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good.clone();
            f(&mut v);
            EncryptedKeyFile::parse(&pem::encode(&pem::Pem::new(SIGSTORE_LABEL, v.to_string())))
        };
        assert!(matches!(
            with(&|v| v["kdf"]["params"]["N"] = 1000.into()),
            Err(KeyFileError::Cost { .. })
        ));
        assert!(matches!(
            with(&|v| v["kdf"]["params"]["N"] = (1u64 << 40).into()),
            Err(KeyFileError::Cost { .. })
        ));
        assert!(matches!(
            with(&|v| v["kdf"]["params"]["N"] = 0.into()),
            Err(KeyFileError::Cost { .. })
        ));
        assert!(matches!(
            with(&|v| v["kdf"]["name"] = "argon2".into()),
            Err(KeyFileError::Unsupported { .. })
        ));
        assert!(matches!(
            with(&|v| v["cipher"]["name"] = "aes".into()),
            Err(KeyFileError::Unsupported { .. })
        ));
        assert!(matches!(
            with(&|v| v["cipher"]["nonce"] = "AAAA".into()),
            Err(KeyFileError::Malformed { .. })
        ));
        assert!(matches!(
            with(&|v| v["ciphertext"] = "AAAA".into()),
            Err(KeyFileError::Malformed { .. })
        ));
        assert!(matches!(
            with(&|v| v["extra"] = 1.into()),
            Err(KeyFileError::Malformed { .. })
        ));
        assert!(matches!(
            EncryptedKeyFile::parse(&pem::encode(&pem::Pem::new(COSIGN_LABEL, b"{".to_vec()))),
            Err(KeyFileError::Malformed { .. })
        ));
    }

    #[test]
    fn der_integers_round_trip_and_reject_non_minimal() {
        for v in [0u64, 1, 127, 128, 255, 256, 16384, u64::MAX] {
            let enc = der_uint(v);
            let mut d = Der::new(&enc);
            assert_eq!(der_to_u64(d.read(0x02).unwrap()).unwrap(), v);
        }
        assert!(der_to_u64(&[0x00, 0x01]).is_err());
        assert!(der_to_u64(&[0x80]).is_err());
        assert!(der_to_u64(&[]).is_err());
    }

    #[test]
    fn der_lengths_must_be_minimal_and_in_bounds() {
        assert!(Der::new(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5])
            .read(0x04)
            .is_err());
        assert!(Der::new(&[0x04, 0x80]).read(0x04).is_err());
        assert!(Der::new(&[0x04, 0x05, 1]).read(0x04).is_err());
        let long = tlv(0x04, &[7u8; 300]);
        assert_eq!(Der::new(&long).read(0x04).unwrap().len(), 300);
    }

    #[test]
    fn oid_text_names_the_arcs() {
        assert_eq!(oid_text(OID_SCRYPT), "1.3.6.1.4.1.11591.4.11");
        assert_eq!(oid_text(OID_AES256_CBC), "2.16.840.1.101.3.4.1.42");
        assert_eq!(oid_text(OID_PBES2), "1.2.840.113549.1.5.13");
    }

    #[test]
    fn cost_for_new_files_stays_within_openssl_limit() {
        assert!(ScryptCost::new(14, 8, 2).is_ok());
        assert!(matches!(
            ScryptCost::new(15, 8, 1),
            Err(KeyFileError::Cost { .. })
        ));
        assert!(ScryptCost::new(0, 8, 1).is_err());
        assert_eq!(ScryptCost::new(14, 8, 2).unwrap(), ScryptCost::DEFAULT);
    }
}
