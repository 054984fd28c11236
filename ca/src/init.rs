//! `ca init`: create a root and an intermediate CA (ECDSA P-256 or P-384) and write the chain.
//!
//! The root key is only used here (it can then be kept offline); the intermediate signs
//! leaves. The intermediate carries `pathLen:0`, keyCertSign/cRLSign and ExtKeyUsage
//! codeSigning, like Fulcio's. Keys can be file keys (written encrypted, see
//! [`crate::signer`]) or any [`CaSigner`] (for example a PKCS#11 key for the intermediate).
//!
//! Files written by [`init_to_dir`]: `root.pem`, `intermediate.pem`, `chain.pem`
//! (intermediate then root, the order of trust bundles), `root.key.enc.pem`,
//! `intermediate.key.enc.pem` (0600 permissions).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyUsagePurpose, SerialNumber,
};
use time::OffsetDateTime;

use crate::signer::{CaCurve, CaSigner, FileSigner, RcgenKey, SignerError};

/// `ca init` options.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Key type of both CAs.
    pub curve: CaCurve,
    /// Subject organization (O).
    pub organization: String,
    /// Subject common name prefix: CNs are `<prefix>-root` and `<prefix>-intermediate`.
    pub common_name: String,
    /// notBefore of both certificates, seconds since the epoch.
    pub not_before: i64,
    /// Root lifetime in seconds.
    pub root_validity_secs: i64,
    /// Intermediate lifetime in seconds.
    pub intermediate_validity_secs: i64,
}

impl InitOptions {
    /// Ten-year root, five-year intermediate, starting at `not_before`.
    #[must_use]
    pub fn new(curve: CaCurve, organization: &str, common_name: &str, not_before: i64) -> Self {
        Self {
            curve,
            organization: organization.to_owned(),
            common_name: common_name.to_owned(),
            not_before,
            root_validity_secs: 10 * 365 * 86400,
            intermediate_validity_secs: 5 * 365 * 86400,
        }
    }
}

/// `ca init` errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// Key error.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// rcgen error.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// Time out of range.
    #[error("time out of range")]
    Time,
    /// File I/O.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Detail.
        reason: String,
    },
}

/// The result of creating the CA certificates.
#[derive(Debug, Clone)]
pub struct CaCertificates {
    /// Root certificate DER.
    pub root_der: Vec<u8>,
    /// Intermediate certificate DER.
    pub intermediate_der: Vec<u8>,
}

pub(crate) fn ca_params(
    opts: &InitOptions,
    cn: &str,
    validity: i64,
    path_len: Option<u8>,
    serial: &[u8],
) -> Result<CertificateParams, InitError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, opts.organization.clone());
    dn.push(DnType::CommonName, cn.to_owned());
    p.distinguished_name = dn;
    p.not_before =
        OffsetDateTime::from_unix_timestamp(opts.not_before).map_err(|_| InitError::Time)?;
    p.not_after = OffsetDateTime::from_unix_timestamp(
        opts.not_before
            .checked_add(validity)
            .ok_or(InitError::Time)?,
    )
    .map_err(|_| InitError::Time)?;
    p.serial_number = Some(SerialNumber::from_slice(serial));
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(p)
}

/// Creates the root (self-signed by `root_key`) and the intermediate (key `intermediate_key`,
/// signed by the root). `serials` are the two certificates' serial numbers.
///
/// # Errors
/// [`InitError`].
pub fn build_ca_certificates(
    opts: &InitOptions,
    root_key: Arc<dyn CaSigner>,
    intermediate_key: Arc<dyn CaSigner>,
    serials: (&[u8], &[u8]),
) -> Result<CaCertificates, InitError> {
    let root_params = ca_params(
        opts,
        &format!("{}-root", opts.common_name),
        opts.root_validity_secs,
        None,
        serials.0,
    )?;
    let root_signing = RcgenKey(root_key);
    let root = root_params.self_signed(&root_signing)?;
    let mut inter_params = ca_params(
        opts,
        &format!("{}-intermediate", opts.common_name),
        opts.intermediate_validity_secs,
        Some(0),
        serials.1,
    )?;
    inter_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    inter_params.use_authority_key_identifier_extension = true;
    let issuer = Issuer::new(root_params, root_signing);
    let inter = inter_params.signed_by(&RcgenKey(intermediate_key), &issuer)?;
    Ok(CaCertificates {
        root_der: root.der().to_vec(),
        intermediate_der: inter.der().to_vec(),
    })
}

fn pem_cert(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// Writes `data` to `path`, mode 0600 when `private` (the CA's and the TSA's files).
pub(crate) fn write(path: &Path, data: &str, private: bool) -> Result<(), InitError> {
    let io = |e: std::io::Error| InitError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    std::fs::write(path, data).map_err(io)?;
    if private {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(())
}

/// Random 20-byte positive serial number.
///
/// # Errors
/// [`SignerError::BadKey`] if the system RNG fails.
pub fn random_serial(rng: &dyn aws_lc_rs::rand::SecureRandom) -> Result<[u8; 20], SignerError> {
    let mut s = [0u8; 20];
    rng.fill(&mut s).map_err(|_| SignerError::BadKey {
        reason: "randomness failed".to_owned(),
    })?;
    s[0] = (s[0] & 0x7f) | 0x01;
    Ok(s)
}

/// `ca init` with file keys: generates both keys, creates the certificates and writes the
/// files listed in the module docs into `dir` (created if missing). Both keys are encrypted
/// with `password` (scrypt `cost`; see [`signet_proto::keyfile`]).
///
/// # Errors
/// [`InitError`].
pub fn init_to_dir(
    dir: &Path,
    opts: &InitOptions,
    password: &[u8],
    cost: signet_proto::keyfile::ScryptCost,
) -> Result<CaCertificates, InitError> {
    std::fs::create_dir_all(dir).map_err(|e| InitError::Io {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let root_key = Arc::new(FileSigner::generate(opts.curve)?);
    let inter_key = Arc::new(FileSigner::generate(opts.curve)?);
    let (s1, s2) = (random_serial(&rng)?, random_serial(&rng)?);
    let certs = build_ca_certificates(opts, root_key.clone(), inter_key.clone(), (&s1, &s2))?;
    write(
        &dir.join("root.key.enc.pem"),
        &root_key.to_encrypted_pem(password, cost)?,
        true,
    )?;
    write(
        &dir.join("intermediate.key.enc.pem"),
        &inter_key.to_encrypted_pem(password, cost)?,
        true,
    )?;
    write(&dir.join("root.pem"), &pem_cert(&certs.root_der), false)?;
    write(
        &dir.join("intermediate.pem"),
        &pem_cert(&certs.intermediate_der),
        false,
    )?;
    write(
        &dir.join("chain.pem"),
        &(pem_cert(&certs.intermediate_der) + &pem_cert(&certs.root_der)),
        false,
    )?;
    Ok(certs)
}
