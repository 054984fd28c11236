//! The log's three signing keys, loaded from PEM files or generated.
//!
//! * log key: ECDSA P-256, signs checkpoints (Rekor-style note line) and SETs; its SHA-256
//!   SPKI digest is the Rekor `logID`;
//! * witness key: Ed25519, signs the C2SP signed-note line of each checkpoint;
//! * CT key: ECDSA P-256, signs RFC 6962 SCTs (a separate key, as Sigstore's CT log is
//!   separate from Rekor).
//!
//! Keys are PEM PKCS#8 files (`-----BEGIN PRIVATE KEY-----`); ECDSA keys may also be SEC1
//! `EC PRIVATE KEY`. Generated files are written with mode 0600. What this module does not do:
//! HSM keys, encrypted key files.

use std::io::Write;
use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use signet_proto::keys::{EcdsaCurve, EcdsaSigner, Ed25519Signer, KeyError};

use crate::config::LogConfig;

/// Errors loading or writing key files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not hold a usable key.
    #[error("key file {path}: {reason}")]
    Invalid {
        /// The path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Key generation failed.
    #[error("key generation failed: {0}")]
    Generate(#[from] KeyError),
}

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410), followed by the 32-byte seed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The log's signing keys.
#[derive(Debug, Clone)]
pub struct LogKeys {
    /// ECDSA P-256 log key (checkpoints, SETs).
    pub log: EcdsaSigner,
    /// Ed25519 key for the C2SP checkpoint signature line.
    pub witness: Ed25519Signer,
    /// ECDSA P-256 CT key (SCTs).
    pub ct: EcdsaSigner,
}

impl LogKeys {
    /// Generates three fresh keys.
    ///
    /// # Errors
    /// [`KeyFileError::Generate`] if the system RNG fails.
    pub fn generate() -> Result<Self, KeyFileError> {
        let rng = SystemRandom::new();
        Ok(Self {
            log: EcdsaSigner::generate(EcdsaCurve::P256, &rng)?,
            witness: Ed25519Signer::generate(&rng)?,
            ct: EcdsaSigner::generate(EcdsaCurve::P256, &rng)?,
        })
    }

    /// Loads the keys named by `cfg`; with `cfg.generate_keys`, missing files are generated
    /// and written first.
    ///
    /// # Errors
    /// [`KeyFileError`] for unreadable, invalid or (without `generate_keys`) missing files.
    pub fn load_or_generate(cfg: &LogConfig) -> Result<Self, KeyFileError> {
        let rng = SystemRandom::new();
        let log_path = cfg.log_key_path();
        let witness_path = cfg.witness_key_path();
        let ct_path = cfg.ct_key_path();
        if cfg.generate_keys {
            for (path, is_ed) in [(&log_path, false), (&witness_path, true), (&ct_path, false)] {
                if !path.exists() {
                    let pem = if is_ed {
                        ed25519_to_pem(&Ed25519Signer::generate(&rng)?)
                    } else {
                        EcdsaSigner::generate(EcdsaCurve::P256, &rng)?.to_pkcs8_pem()?
                    };
                    write_secret(path, pem.as_bytes())?;
                }
            }
        }
        Ok(Self {
            log: load_ecdsa(&log_path)?,
            witness: load_ed25519(&witness_path)?,
            ct: load_ecdsa(&ct_path)?,
        })
    }

    /// Writes the three keys as PEM files (mode 0600), refusing to overwrite.
    ///
    /// # Errors
    /// [`KeyFileError::Io`] (including when a file exists).
    pub fn write_files(&self, log: &Path, witness: &Path, ct: &Path) -> Result<(), KeyFileError> {
        write_secret(log, self.log.to_pkcs8_pem()?.as_bytes())?;
        write_secret(witness, ed25519_to_pem(&self.witness).as_bytes())?;
        write_secret(ct, self.ct.to_pkcs8_pem()?.as_bytes())?;
        Ok(())
    }
}

/// PEM PKCS#8 encoding of an Ed25519 key.
#[must_use]
pub fn ed25519_to_pem(key: &Ed25519Signer) -> String {
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    der.extend_from_slice(key.seed());
    pem::encode(&pem::Pem::new("PRIVATE KEY", der))
}

fn read(path: &Path) -> Result<String, KeyFileError> {
    std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn load_ecdsa(path: &Path) -> Result<EcdsaSigner, KeyFileError> {
    let key = EcdsaSigner::from_pem(&read(path)?).map_err(|e| KeyFileError::Invalid {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    if key.curve() != EcdsaCurve::P256 {
        return Err(KeyFileError::Invalid {
            path: path.display().to_string(),
            reason: "log and CT keys must be ECDSA P-256".into(),
        });
    }
    Ok(key)
}

fn load_ed25519(path: &Path) -> Result<Ed25519Signer, KeyFileError> {
    let invalid = |reason: String| KeyFileError::Invalid {
        path: path.display().to_string(),
        reason,
    };
    let p = pem::parse(read(path)?).map_err(|e| invalid(e.to_string()))?;
    if p.tag() != "PRIVATE KEY" {
        return Err(invalid(format!(
            "expected PRIVATE KEY PEM, found {}",
            p.tag()
        )));
    }
    Ed25519Signer::from_pkcs8_der(p.contents()).map_err(|e| invalid(e.to_string()))
}

fn write_secret(path: &Path, data: &[u8]) -> Result<(), KeyFileError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            if let Some(file) = crate::util::non_directory_ancestor(dir) {
                return Err(KeyFileError::Invalid {
                    path: path.display().to_string(),
                    reason: format!(
                        "{} exists and is not a directory (the key is written inside it)",
                        file.display()
                    ),
                });
            }
            std::fs::create_dir_all(dir).map_err(io)?;
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    f.write_all(data).map_err(io)?;
    f.sync_all().map_err(io)
}
