//! `ca revoke`: RFC 5280 certificate revocation lists signed by the issuing CA.
//!
//! A leaf certificate is revoked on the CRL of the intermediate that issued it; an
//! intermediate on the CRL of its root. The CA directory keeps what was revoked in
//! `revocations.json` (per issuer: its certificate, its key file, the last CRL number, the
//! entries and the signed CRL) and writes every current CRL into `crls.pem` (PEM `X509 CRL`
//! blocks), which the server publishes and distributes as a TUF target.
//!
//! Each CRL entry carries the serial number, `revocationDate` (when the revocation was made),
//! the `reasonCode` and, when the operator dates the revocation earlier (the time a key was
//! compromised), the `invalidityDate` (RFC 5280 §5.3.2). The verifier takes the earlier of
//! the two as the time from which signatures are refused. A CRL is version 2 with the
//! authority key identifier of its issuer and a CRL number one above the last one
//! (RFC 5280 §5.2.1, §5.2.3), `nextUpdate` a year on: offline verifiers learn of new CRLs
//! through TUF, whose metadata expires far sooner.
//!
//! Not here: checking revocation (`signet_verifier::revocation`), delta CRLs, OCSP.

use std::path::Path;
use std::sync::Arc;

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevocationReason, RevokedCertParams};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::init::{write, InitError};
use crate::rotate::{pem_cert, Authorities, RotateError};
use crate::signer::{FileSigner, RcgenKey};

/// The state file of revocations in a CA directory.
pub const REVOCATIONS_FILE: &str = "revocations.json";
/// Every current CRL, PEM, in a CA directory.
pub const CRLS_FILE: &str = "crls.pem";
/// `nextUpdate` is this long after `thisUpdate`.
const NEXT_UPDATE_SECS: i64 = 365 * 86400;

/// The RFC 5280 §5.3.1 reasons an operator may give (`removeFromCRL` only exists in delta
/// CRLs and is not offered).
pub const REASONS: [(&str, RevocationReason); 9] = [
    ("unspecified", RevocationReason::Unspecified),
    ("keyCompromise", RevocationReason::KeyCompromise),
    ("cACompromise", RevocationReason::CaCompromise),
    ("affiliationChanged", RevocationReason::AffiliationChanged),
    ("superseded", RevocationReason::Superseded),
    (
        "cessationOfOperation",
        RevocationReason::CessationOfOperation,
    ),
    ("certificateHold", RevocationReason::CertificateHold),
    ("privilegeWithdrawn", RevocationReason::PrivilegeWithdrawn),
    ("aACompromise", RevocationReason::AaCompromise),
];

/// One revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revoked {
    /// Serial number, lowercase hex of its minimal big-endian bytes.
    pub serial: String,
    /// When the revocation was made (Unix seconds): `revocationDate`.
    pub revoked_at: i64,
    /// The operator's earlier time, if any (`invalidityDate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_from: Option<i64>,
    /// An RFC 5280 reason name (see [`REASONS`]).
    pub reason: String,
}

/// The revocations of one issuing certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerRevocations {
    /// The issuing certificate, PEM.
    pub certificate: String,
    /// Its encrypted key file, relative to the CA directory.
    pub key: String,
    /// The number of the last CRL signed.
    pub crl_number: u64,
    /// What it revoked.
    pub revoked: Vec<Revoked>,
    /// The last CRL signed, PEM.
    pub crl: String,
}

/// `revocations.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocations {
    /// One entry per issuer that revoked anything.
    pub issuers: Vec<IssuerRevocations>,
}

fn dir_err(path: &Path, reason: impl Into<String>) -> RotateError {
    RotateError::Directory {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

impl Revocations {
    /// The revocations of `dir` (empty when it never revoked anything).
    ///
    /// # Errors
    /// [`RotateError::Directory`] for an unreadable or malformed file.
    pub fn load(dir: &Path) -> Result<Self, RotateError> {
        let path = dir.join(REVOCATIONS_FILE);
        match std::fs::read(&path) {
            Ok(b) => signet_proto::json::from_slice(&b)
                .map_err(|e| dir_err(&path, format!("malformed: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(dir_err(&path, e.to_string())),
        }
    }

    /// Every CRL, PEM blocks one after the other (what `crls.pem` holds).
    #[must_use]
    pub fn crls_pem(&self) -> String {
        self.issuers.iter().map(|i| i.crl.as_str()).collect()
    }
}

/// What to revoke.
#[derive(Debug, Clone)]
pub struct RevokeRequest {
    /// The certificate's serial number (big-endian bytes; leading zeros are ignored).
    pub serial: Vec<u8>,
    /// An RFC 5280 reason name (see [`REASONS`]).
    pub reason: String,
    /// When the revocation is made (Unix seconds).
    pub now: i64,
    /// The time from which the certificate is no longer trusted, if earlier than `now`.
    pub invalid_from: Option<i64>,
    /// For a leaf certificate: the generation (1 = first) of the intermediate that issued it;
    /// `None` for the one in use. Ignored when the serial is an intermediate's.
    pub generation: Option<usize>,
}

/// The result of a revocation.
#[derive(Debug, Clone)]
pub struct Revocation {
    /// The issuer's subject, for messages.
    pub issuer: String,
    /// Whether the revoked serial is one of the CA's intermediates.
    pub intermediate: bool,
    /// The number of the new CRL.
    pub crl_number: u64,
    /// Every CRL after the revocation (`crls.pem`).
    pub crls_pem: String,
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|x| **x == 0).count();
    &b[n.min(b.len().saturating_sub(1))..]
}

fn serial_of(der: &[u8]) -> Result<(Vec<u8>, String, Vec<u8>), RotateError> {
    let (_, c) = X509Certificate::from_der(der)
        .map_err(|e| dir_err(Path::new(crate::rotate::AUTHORITIES_FILE), e.to_string()))?;
    let ski = c
        .tbs_certificate
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        })
        .unwrap_or_default();
    Ok((
        strip_zeros(c.raw_serial()).to_vec(),
        c.subject().to_string(),
        ski,
    ))
}

fn odt(t: i64) -> Result<OffsetDateTime, RotateError> {
    OffsetDateTime::from_unix_timestamp(t).map_err(|_| RotateError::Init(InitError::Time))
}

/// Revokes a certificate of the CA in `dir` (history [`Authorities::load`]`(dir, created)`,
/// keys decrypted with `password`) and re-signs its issuer's CRL.
///
/// # Errors
/// [`RotateError`]: an unknown reason or generation, a serial already revoked by that issuer,
/// an `invalid_from` after `now`, a key that does not decrypt. On error nothing is written.
pub fn revoke(
    dir: &Path,
    created: i64,
    password: &[u8],
    req: &RevokeRequest,
) -> Result<Revocation, RotateError> {
    if !REASONS.iter().any(|(n, _)| *n == req.reason) {
        return Err(dir_err(
            dir,
            format!(
                "unknown revocation reason {:?}; one of: {}",
                req.reason,
                REASONS.map(|(n, _)| n).join(", ")
            ),
        ));
    }
    if req.invalid_from.is_some_and(|t| t > req.now) {
        return Err(dir_err(
            dir,
            "the revocation time is in the future: revoke when that time has come",
        ));
    }
    let serial = strip_zeros(&req.serial).to_vec();
    if serial.is_empty() || serial.len() > 20 {
        return Err(dir_err(dir, "a serial number has 1 to 20 bytes"));
    }
    let history = Authorities::load(dir, created)?;
    // An intermediate's serial: its root revokes it.
    let mut issuer = None;
    for g in &history.authorities {
        let chain = g.chain_der()?;
        if serial_of(&chain[0])?.0 == serial {
            let root = chain.last().cloned().unwrap_or_default();
            issuer = Some((root, g.root_key.clone(), true));
        }
    }
    let (issuer_der, key_file, intermediate) = match issuer {
        Some(i) => i,
        None => {
            let n = history.authorities.len();
            let g = req.generation.unwrap_or(n);
            let auth = g
                .checked_sub(1)
                .and_then(|i| history.authorities.get(i))
                .ok_or_else(|| {
                    dir_err(
                        dir,
                        format!("generation {g} does not exist: the CA has generations 1 to {n}"),
                    )
                })?;
            (auth.chain_der()?[0].clone(), auth.key.clone(), false)
        }
    };
    let (_, subject, ski) = serial_of(&issuer_der)?;
    let key = Arc::new(FileSigner::from_encrypted_pem(
        &std::fs::read_to_string(dir.join(&key_file))
            .map_err(|e| dir_err(&dir.join(&key_file), e.to_string()))?,
        password,
    )?);
    let mut state = Revocations::load(dir)?;
    let cert_pem = pem_cert(&issuer_der);
    let pos = match state.issuers.iter().position(|i| i.certificate == cert_pem) {
        Some(p) => p,
        None => {
            state.issuers.push(IssuerRevocations {
                certificate: cert_pem,
                key: key_file,
                crl_number: 0,
                revoked: Vec::new(),
                crl: String::new(),
            });
            state.issuers.len() - 1
        }
    };
    let entry = &mut state.issuers[pos];
    let hex_serial = hex::encode(&serial);
    if let Some(r) = entry.revoked.iter().find(|r| r.serial == hex_serial) {
        return Err(dir_err(
            &dir.join(REVOCATIONS_FILE),
            format!(
                "serial {hex_serial} is already revoked by {subject} (at {}, {})",
                r.invalid_from.unwrap_or(r.revoked_at),
                r.reason
            ),
        ));
    }
    entry.revoked.push(Revoked {
        serial: hex_serial,
        revoked_at: req.now,
        invalid_from: req.invalid_from,
        reason: req.reason.clone(),
    });
    entry.crl_number += 1;
    let mut revoked_certs = Vec::new();
    for r in &entry.revoked {
        let serial = hex::decode(&r.serial)
            .map_err(|e| dir_err(&dir.join(REVOCATIONS_FILE), e.to_string()))?;
        revoked_certs.push(RevokedCertParams {
            serial_number: rcgen::SerialNumber::from_slice(&serial),
            revocation_time: odt(r.revoked_at)?,
            reason_code: REASONS
                .iter()
                .find(|(n, _)| *n == r.reason)
                .map(|(_, x)| *x),
            invalidity_date: r.invalid_from.map(odt).transpose()?,
        });
    }
    let params = CertificateRevocationListParams {
        this_update: odt(req.now)?,
        next_update: odt(req.now + NEXT_UPDATE_SECS)?,
        crl_number: rcgen::SerialNumber::from_slice(&entry.crl_number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::PreSpecified(ski),
    };
    let issuer = rcgen::Issuer::from_ca_cert_der(&issuer_der.clone().into(), RcgenKey(key))
        .map_err(InitError::from)?;
    let crl = params.signed_by(&issuer).map_err(InitError::from)?;
    entry.crl = crl.pem().map_err(InitError::from)?;
    let crl_number = entry.crl_number;
    let json = serde_json::to_string_pretty(&state)
        .map_err(|e| dir_err(&dir.join(REVOCATIONS_FILE), e.to_string()))?;
    let crls_pem = state.crls_pem();
    write(&dir.join(REVOCATIONS_FILE), &(json + "\n"), false)?;
    write(&dir.join(CRLS_FILE), &crls_pem, false)?;
    Ok(Revocation {
        issuer: subject,
        intermediate,
        crl_number,
        crls_pem,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use x509_parser::prelude::parse_x509_crl;

    /// A leaf serial goes on the intermediate's CRL, an intermediate's on the root's; CRL
    /// numbers grow; the CRL verifies with its issuer's key (x509-parser) and `openssl crl`
    /// reads it; a second revocation of a serial is refused and writes nothing.
    #[test]
    fn revocations_go_on_the_issuers_crl() {
        let dir = tempfile::tempdir().unwrap();
        let opts =
            crate::init::InitOptions::new(crate::signer::CaCurve::P256, "Signet", "signet", 1_000);
        let certs = crate::init::init_to_dir(
            dir.path(),
            &opts,
            b"password",
            signet_proto::keyfile::ScryptCost::TEST_ONLY,
        )
        .unwrap();
        let req = |serial: Vec<u8>, now: i64, from: Option<i64>| RevokeRequest {
            serial,
            reason: "keyCompromise".to_owned(),
            now,
            invalid_from: from,
            generation: None,
        };
        let r = revoke(
            dir.path(),
            1_000,
            b"password",
            &req(vec![0, 0x12, 0x34], 5_000, Some(4_000)),
        )
        .unwrap();
        assert!(!r.intermediate);
        assert_eq!(r.crl_number, 1);
        let r = revoke(
            dir.path(),
            1_000,
            b"password",
            &req(vec![0x56], 6_000, None),
        )
        .unwrap();
        assert_eq!(r.crl_number, 2);
        let (inter_serial, _, _) = serial_of(&certs.intermediate_der).unwrap();
        let r = revoke(
            dir.path(),
            1_000,
            b"password",
            &req(inter_serial.clone(), 7_000, None),
        )
        .unwrap();
        assert!(r.intermediate);
        assert_eq!(r.crl_number, 1);
        let blocks = pem::parse_many(std::fs::read(dir.path().join(CRLS_FILE)).unwrap()).unwrap();
        assert_eq!(blocks.len(), 2);
        let (_, inter) = X509Certificate::from_der(&certs.intermediate_der).unwrap();
        let (_, root) = X509Certificate::from_der(&certs.root_der).unwrap();
        let (_, crl) = parse_x509_crl(blocks[0].contents()).unwrap();
        crl.verify_signature(inter.public_key()).unwrap();
        assert!(crl.verify_signature(root.public_key()).is_err());
        let revoked: Vec<_> = crl.iter_revoked_certificates().collect();
        assert_eq!(revoked.len(), 2);
        assert_eq!(revoked[0].raw_serial(), [0x12, 0x34]);
        assert_eq!(revoked[0].revocation_date.timestamp(), 5_000);
        assert_eq!(revoked[0].invalidity_date().unwrap().1.timestamp(), 4_000);
        assert_eq!(revoked[1].raw_serial(), [0x56]);
        assert!(revoked[1].invalidity_date().is_none());
        let (_, crl) = parse_x509_crl(blocks[1].contents()).unwrap();
        crl.verify_signature(root.public_key()).unwrap();
        assert_eq!(
            crl.iter_revoked_certificates().next().unwrap().raw_serial(),
            inter_serial.as_slice()
        );
        // Twice: refused, nothing changes.
        let before = std::fs::read(dir.path().join(REVOCATIONS_FILE)).unwrap();
        let err = revoke(
            dir.path(),
            1_000,
            b"password",
            &req(vec![0x56], 8_000, None),
        )
        .unwrap_err();
        assert!(err.to_string().contains("already revoked"), "{err}");
        let err = revoke(
            dir.path(),
            1_000,
            b"password",
            &req(vec![0x57], 8_000, Some(9_000)),
        )
        .unwrap_err();
        assert!(err.to_string().contains("in the future"), "{err}");
        let mut bad = req(vec![0x57], 8_000, None);
        bad.reason = "removeFromCRL".to_owned();
        let err = revoke(dir.path(), 1_000, b"password", &bad).unwrap_err();
        assert!(
            err.to_string().contains("unknown revocation reason"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(dir.path().join(REVOCATIONS_FILE)).unwrap(),
            before
        );
        // openssl reads the CRL and checks its signature with the intermediate.
        let crl_path = dir.path().join("one.crl.pem");
        std::fs::write(&crl_path, pem::encode(&blocks[0])).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["crl", "-noout", "-text", "-in"])
            .arg(&crl_path)
            .arg("-CAfile")
            .arg(dir.path().join("intermediate.pem"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("verify OK"), "{text}");
        assert!(text.contains("Key Compromise"), "{text}");
        assert!(
            text.contains("CRL Number: 2") || text.contains("CRL Number: \n                2"),
            "{text}"
        );
    }
}
