//! Revocation: RFC 5280 certificate revocation lists from the CAs of the trust material, and
//! the rule deciding whether a revoked certificate may still vouch for a signature.
//!
//! [`TrustMaterial::add_crl`] accepts a DER CRL (v1 or v2) only when it is signed by a
//! certificate of a trusted CA chain (the issuing intermediate for its leaves, the root for
//! its intermediates) whose subject is the CRL's issuer and which may sign CRLs (no
//! keyUsage, or keyUsage with cRLSign); a CRL with a critical extension (a delta CRL, an
//! issuing distribution point) or a critical entry extension is refused, as RFC 5280 §5.2
//! requires of an application that does not process it. Each entry keeps its serial, its
//! `revocationDate`, its `invalidityDate` (§5.3.2) and its `reasonCode`.
//!
//! The rule (`check_chain`): a certificate is revoked *from* the earlier of its
//! `invalidityDate` and `revocationDate`, whatever the reason. A signature whose verified
//! signing time (a SET-covered integrated time or a verified RFC 3161 time, as for validity
//! windows) is at or after that instant is refused; a signature made strictly before it
//! still verifies, because the log or the TSA proves when it was made. So an operator who
//! learns late that a key was compromised dates the revocation back to the compromise
//! (`signet ca revoke --time`), and everything signed since is refused. The leaf is checked
//! against the CRLs of its issuing intermediate, every chain certificate but the root
//! against those of the next one; all CRLs given for an issuer count (an entry is never
//! removed: `certificateHold` is final here). `nextUpdate` is not enforced: old signatures
//! are judged by what is known now, and CRLs reach offline verifiers through TUF, whose
//! metadata expiry gives freshness.
//!
//! Not here: fetching CRLs (the CLI's job), OCSP, delta CRLs, indirect CRLs.

use x509_parser::prelude::FromDer as _;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::crl::strip_zeros;
pub use crate::crl::{RevokedSerial, VerifiedCrl};
use crate::error::{CertificateError, RevokedCertificate, TrustError};
use crate::trust::{rfc3339, CertificateAuthority, TrustMaterial};

/// RFC 5280 §5.3.1 reason names by code.
fn reason_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => return None,
    })
}

fn crl_err(reason: impl Into<String>) -> TrustError {
    TrustError::Crl {
        reason: reason.into(),
    }
}

/// Parses a DER CRL and checks everything that does not need the trust material: no
/// trailing bytes, no critical extension, entries well formed. Returns the parsed CRL and
/// its entries.
///
/// # Errors
/// [`TrustError::Crl`] naming the problem.
pub fn parse_crl(
    der: &[u8],
) -> Result<(CertificateRevocationList<'_>, Vec<RevokedSerial>), TrustError> {
    let (rest, crl) = CertificateRevocationList::from_der(der)
        .map_err(|e| crl_err(format!("does not parse: {e}")))?;
    if !rest.is_empty() {
        return Err(crl_err(format!("{} trailing bytes", rest.len())));
    }
    if let Some(e) = crl.extensions().iter().find(|e| e.critical) {
        return Err(crl_err(format!(
            "critical extension {} (delta and partitioned CRLs are not supported)",
            e.oid.to_id_string()
        )));
    }
    let mut revoked = Vec::new();
    for r in crl.iter_revoked_certificates() {
        let serial = strip_zeros(r.raw_serial()).to_vec();
        if let Some(e) = r.extensions().iter().find(|e| e.critical) {
            return Err(crl_err(format!(
                "the entry for serial {} has a critical extension {}",
                hex::encode(&serial),
                e.oid.to_id_string()
            )));
        }
        let mut from = r.revocation_date.timestamp();
        if let Some((_, t)) = r.invalidity_date() {
            from = from.min(t.timestamp());
        }
        let reason = match r.reason_code() {
            Some((_, code)) => Some(reason_name(code.0).ok_or_else(|| {
                crl_err(format!(
                    "the entry for serial {} has an unknown reason code {}",
                    hex::encode(&serial),
                    code.0
                ))
            })?),
            None => None,
        };
        revoked.push(RevokedSerial {
            serial,
            from,
            reason,
        });
    }
    Ok((crl, revoked))
}

impl TrustMaterial {
    /// Adds a DER CRL, after verifying its signature with a certificate of a trusted CA
    /// chain (see the module docs). Returns the signer's subject.
    ///
    /// # Errors
    /// [`TrustError::Crl`] when it does not parse, has a critical extension, or no trusted
    /// CA certificate named as its issuer signed it.
    pub fn add_crl(&mut self, der: &[u8]) -> Result<String, TrustError> {
        let (crl, revoked) = parse_crl(der)?;
        let issuer_der = crl.issuer().as_raw();
        let mut named = false;
        let mut signer = None;
        for cert in self.cas.iter().flat_map(|ca| ca.chain.iter()) {
            if cert.subject_der != issuer_der || !cert.crl_sign {
                continue;
            }
            named = true;
            let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(&cert.spki) else {
                continue;
            };
            if crl.verify_signature(&spki).is_ok() {
                signer = Some(cert.clone());
                break;
            }
        }
        let Some(signer) = signer else {
            return Err(crl_err(if named {
                format!(
                    "the CRL of {} is not signed by that trusted CA certificate",
                    crl.issuer()
                )
            } else {
                format!(
                    "the CRL's issuer {} is no CA certificate of the trust root that may sign CRLs",
                    crl.issuer()
                )
            }));
        };
        self.crls.push(VerifiedCrl {
            issuer: signer.subject.clone(),
            issuer_spki: signer.spki,
            revoked,
        });
        Ok(signer.subject)
    }

    /// The CRLs added.
    #[must_use]
    pub fn crls(&self) -> &[VerifiedCrl] {
        &self.crls
    }

    /// The revocation of `serial` by the certificate with SPKI `issuer_spki`, if any (the
    /// earliest when several CRLs list it).
    fn revocation(
        &self,
        issuer_spki: &[u8],
        serial: &[u8],
    ) -> Option<(&VerifiedCrl, &RevokedSerial)> {
        self.crls
            .iter()
            .filter(|c| c.issuer_spki == issuer_spki)
            .flat_map(|c| c.revoked.iter().map(move |r| (c, r)))
            .filter(|(_, r)| r.serial == serial)
            .min_by_key(|(_, r)| r.from)
    }
}

/// A revocation that applies to a leaf certificate: the certificate revoked (the leaf or a CA
/// certificate of its chain) and from when. A signature by the leaf made at or after `from`
/// is refused (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedRevocation {
    /// "the signing certificate" or "the CA certificate `<subject>`".
    pub certificate: String,
    /// The revoked certificate's serial, hex.
    pub serial: String,
    /// The subject of the CRL's signer.
    pub issuer: String,
    /// Revoked from (Unix seconds).
    pub from: i64,
    /// The RFC 5280 reason name, `unspecified` when the entry has none.
    pub reason: String,
}

impl TrustMaterial {
    /// The earliest revocation that applies to `leaf_der`, a certificate issued by one of the
    /// trusted CAs (its issuer named by the CA's issuing certificate, which signed it): the
    /// leaf's own entry in the CRLs of that CA, or an entry for a CA certificate of the chain
    /// in the CRLs of the next one, as the chain check applies them. `None` when nothing
    /// applies, or when no trusted CA issued the certificate. For a monitor, which needs to know
    /// whether a logged signer was revoked before it signed.
    #[must_use]
    pub fn leaf_revocation(&self, leaf_der: &[u8]) -> Option<AppliedRevocation> {
        use x509_parser::certificate::X509Certificate;
        if self.crls.is_empty() {
            return None;
        }
        let (_, leaf) = X509Certificate::from_der(leaf_der).ok()?;
        let leaf_serial = strip_zeros(leaf.tbs_certificate.raw_serial());
        let mut best: Option<AppliedRevocation> = None;
        for ca in &self.cas {
            let Some(issuing) = ca.chain.first() else {
                continue;
            };
            if issuing.subject_der != leaf.tbs_certificate.issuer.as_raw() {
                continue;
            }
            let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(&issuing.spki) else {
                continue;
            };
            if leaf.verify_signature(Some(&spki)).is_err() {
                continue;
            }
            let mut checks = vec![("the signing certificate".to_owned(), leaf_serial, issuing)];
            for pair in ca.chain.windows(2) {
                checks.push((
                    format!("the CA certificate {}", pair[0].subject),
                    pair[0].serial.as_slice(),
                    &pair[1],
                ));
            }
            for (what, serial, issuer) in checks {
                if let Some((crl, r)) = self.revocation(&issuer.spki, serial) {
                    if best.as_ref().is_none_or(|b| r.from < b.from) {
                        best = Some(AppliedRevocation {
                            certificate: what,
                            serial: hex::encode(serial),
                            issuer: crl.issuer.clone(),
                            from: r.from,
                            reason: r.reason.unwrap_or("unspecified").to_owned(),
                        });
                    }
                }
            }
        }
        best
    }
}

/// Checks the leaf (serial `leaf_serial`, issued by `ca`) and `ca`'s chain against the CRLs
/// at the signing time `t` (seconds, nanoseconds): refused when revoked at or before it.
///
/// # Errors
/// [`CertificateError::Revoked`] naming the certificate, its revocation and the time.
pub(crate) fn check_chain(
    trust: &TrustMaterial,
    ca: &CertificateAuthority,
    leaf_serial: &[u8],
    t: (i64, u32),
) -> Result<(), CertificateError> {
    if trust.crls.is_empty() {
        return Ok(());
    }
    let leaf_serial = strip_zeros(leaf_serial);
    let mut checks = Vec::with_capacity(ca.chain.len());
    if let Some(issuing) = ca.chain.first() {
        checks.push(("the signing certificate".to_owned(), leaf_serial, issuing));
    }
    for pair in ca.chain.windows(2) {
        checks.push((
            format!("the CA certificate {}", pair[0].subject),
            pair[0].serial.as_slice(),
            &pair[1],
        ));
    }
    for (what, serial, issuer) in checks {
        if let Some((crl, r)) = trust.revocation(&issuer.spki, serial) {
            // Revocation times are whole seconds: revoked at or before the signing instant.
            if r.from <= t.0 {
                return Err(CertificateError::Revoked(Box::new(RevokedCertificate {
                    certificate: what,
                    serial: hex::encode(serial),
                    issuer: crl.issuer.clone(),
                    revoked: rfc3339(r.from, 0),
                    reason: r.reason.unwrap_or("unspecified").to_owned(),
                    signing_time: rfc3339(t.0, t.1),
                })));
            }
        }
    }
    Ok(())
}
