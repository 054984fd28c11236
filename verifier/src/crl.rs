//! The revocation types the trust material holds (a leaf module: [`crate::trust`] and
//! [`crate::revocation`] both use it); the rules are in [`crate::revocation`].

/// One revoked serial number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedSerial {
    /// The serial number's content octets without leading zero bytes.
    pub serial: Vec<u8>,
    /// The instant from which the certificate is not trusted (Unix seconds): the earlier of
    /// `revocationDate` and `invalidityDate`.
    pub from: i64,
    /// The RFC 5280 reason name, when the entry has one.
    pub reason: Option<&'static str>,
}

/// A CRL whose signature verified with a trusted CA certificate.
#[derive(Debug, Clone)]
pub struct VerifiedCrl {
    /// The issuer's subject, for messages.
    pub issuer: String,
    /// The SPKI DER of the certificate that signed it.
    pub(crate) issuer_spki: Vec<u8>,
    /// Its entries.
    pub revoked: Vec<RevokedSerial>,
}

/// A certificate of a trusted CA chain, as revocation needs it.
#[derive(Debug, Clone)]
pub(crate) struct ChainCert {
    /// Serial number content octets, without leading zero bytes.
    pub(crate) serial: Vec<u8>,
    /// Subject DER.
    pub(crate) subject_der: Vec<u8>,
    /// Subject, for messages.
    pub(crate) subject: String,
    /// SPKI DER.
    pub(crate) spki: Vec<u8>,
    /// Whether it may sign CRLs (no keyUsage, or keyUsage with cRLSign).
    pub(crate) crl_sign: bool,
}

impl ChainCert {
    pub(crate) fn of(cert: &x509_parser::certificate::X509Certificate<'_>) -> Self {
        let crl_sign = match cert.tbs_certificate.key_usage() {
            Ok(Some(ku)) => ku.value.crl_sign(),
            Ok(None) => true,
            Err(_) => false,
        };
        Self {
            serial: strip_zeros(cert.tbs_certificate.raw_serial()).to_vec(),
            subject_der: cert.tbs_certificate.subject.as_raw().to_vec(),
            subject: cert.tbs_certificate.subject.to_string(),
            spki: cert.tbs_certificate.subject_pki.raw.to_vec(),
            crl_sign,
        }
    }
}

pub(crate) fn strip_zeros(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|x| **x == 0).count();
    &b[n.min(b.len().saturating_sub(1))..]
}
