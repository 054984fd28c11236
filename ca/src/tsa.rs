//! An RFC 3161 timestamp authority, as Sigstore's timestamp-authority serves it: one
//! `TimeStampReq` in, one `TimeStampResp` out.
//!
//! A granted token carries the request's nonce, the request's policy or the TSA's own
//! (`1.3.6.1.4.1.57264.2`, Sigstore's), an accuracy, a fresh random serial, the `genTime`
//! from the injected clock, the signed attributes `contentType`, `signingTime`,
//! `messageDigest` and `signingCertificateV2` (RFC 5816: `ESSCertIDv2` of the signing
//! certificate), and, when the request sets `certReq`, the signing certificate (the chain
//! is published in the trusted root).
//! A request the parser refuses ([`signet_proto::timestamp::authority::parse_request`]) gets a
//! rejection with its `PKIFailureInfo` and nothing is signed.
//!
//! The key is any [`CaSigner`] (an encrypted key file or PKCS#11, as the CA's); its
//! certificate must be a leaf whose only, critical, extended key usage is `timeStamping`
//! (RFC 3161 §2.3), and must hold the signer's public key: [`TimestampAuthority::new`] checks
//! both. [`build_tsa_certificates`] and [`init_to_dir`] make such a chain (a root of its own
//! and the leaf).
//!
//! Not here: HTTP ([`crate::tsa_http`]), time sources other than the clock, `ordering`.

use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer,
    KeyUsagePurpose, SerialNumber,
};
use signet_proto::clock::Clock;
use signet_proto::timestamp::authority::{
    encode_granted, encode_rejection, encode_tst_info, parse_request, signed_attributes, Accuracy,
    FailureInfo, RequestError, SigningCertificate, TsaSignatureScheme, TstInfo,
    SIGSTORE_TSA_POLICY,
};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::init::{write, InitError};
use crate::signer::{CaCurve, CaSigner, FileSigner, RcgenKey};

/// `id-ce-extKeyUsage` (2.5.29.37).
const EXT_KEY_USAGE: [u64; 4] = [2, 5, 29, 37];

/// Why a TSA cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsaSetupError {
    /// The chain is empty or a certificate does not parse.
    #[error("TSA certificate chain: {reason}")]
    Chain {
        /// Detail.
        reason: String,
    },
    /// The leaf is not a timestamping certificate for this key.
    #[error("TSA leaf certificate: {reason}")]
    Leaf {
        /// What is wrong (EKU, key).
        reason: String,
    },
}

/// What the TSA answered: the DER `TimeStampResp` and whether it was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsaReply {
    /// `None` when granted, else the failure info of the rejection.
    pub failure: Option<FailureInfo>,
    /// The DER `TimeStampResp`.
    pub der: Vec<u8>,
}

/// The timestamp authority: key, chain, policy and clock.
pub struct TimestampAuthority {
    signer: Arc<dyn CaSigner>,
    scheme: TsaSignatureScheme,
    chain: Vec<Vec<u8>>,
    issuer: Vec<u8>,
    subject: Vec<u8>,
    serial: Vec<u8>,
    policy: Vec<u8>,
    accuracy: Accuracy,
    clock: Arc<dyn Clock>,
    rng: aws_lc_rs::rand::SystemRandom,
}

impl std::fmt::Debug for TimestampAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimestampAuthority")
            .field("scheme", &self.scheme)
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl TimestampAuthority {
    /// A TSA signing with `signer`, whose certificate is `chain[0]` (issuers after it).
    ///
    /// # Errors
    /// [`TsaSetupError`] when the chain is empty or does not parse, or the leaf lacks the
    /// critical `timeStamping` EKU (and only it), or certifies another key.
    pub fn new(
        signer: Arc<dyn CaSigner>,
        chain: Vec<Vec<u8>>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, TsaSetupError> {
        let leaf_der = chain.first().ok_or_else(|| TsaSetupError::Chain {
            reason: "no certificate".to_owned(),
        })?;
        for der in &chain {
            X509Certificate::from_der(der).map_err(|e| TsaSetupError::Chain {
                reason: e.to_string(),
            })?;
        }
        let (_, leaf) = X509Certificate::from_der(leaf_der).map_err(|e| TsaSetupError::Chain {
            reason: e.to_string(),
        })?;
        if leaf.public_key().raw != signer.spki_der() {
            return Err(TsaSetupError::Leaf {
                reason: "it certifies another key than the TSA signing key".to_owned(),
            });
        }
        let eku = leaf
            .extended_key_usage()
            .map_err(|e| TsaSetupError::Leaf {
                reason: e.to_string(),
            })?
            .ok_or_else(|| TsaSetupError::Leaf {
                reason: "no extended key usage (timeStamping is required)".to_owned(),
            })?;
        let only_time_stamping = eku.value.time_stamping
            && !eku.value.any
            && !eku.value.server_auth
            && !eku.value.client_auth
            && !eku.value.code_signing
            && !eku.value.email_protection
            && !eku.value.ocsp_signing
            && eku.value.other.is_empty();
        if !eku.critical || !only_time_stamping {
            return Err(TsaSetupError::Leaf {
                reason: "its extended key usage must be timeStamping alone, marked critical"
                    .to_owned(),
            });
        }
        let scheme = match signer.curve() {
            CaCurve::P384 => TsaSignatureScheme::EcdsaP384Sha384,
            _ => TsaSignatureScheme::EcdsaP256Sha256,
        };
        Ok(Self {
            issuer: leaf.tbs_certificate.issuer.as_raw().to_vec(),
            subject: leaf.tbs_certificate.subject.as_raw().to_vec(),
            serial: leaf.tbs_certificate.raw_serial().to_vec(),
            signer,
            scheme,
            chain,
            policy: SIGSTORE_TSA_POLICY.to_vec(),
            accuracy: Accuracy {
                seconds: 1,
                millis: 0,
            },
            clock,
            rng: aws_lc_rs::rand::SystemRandom::new(),
        })
    }

    /// The chain: the signing certificate first, its root last (DER).
    #[must_use]
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// Answers one DER `TimeStampReq`: a granted `TimeStampResp`, or a rejection carrying the
    /// failure info (`badDataFormat`, `badAlg`, `badRequest`, `unacceptedExtension`; and
    /// `systemFailure` when the key or the RNG fails).
    #[must_use]
    pub fn respond(&self, request: &[u8]) -> TsaReply {
        match self.grant(request) {
            Ok(der) => TsaReply { failure: None, der },
            Err(e) => TsaReply {
                failure: Some(e.failure),
                der: encode_rejection(e.failure, &e.reason),
            },
        }
    }

    fn grant(&self, request: &[u8]) -> Result<Vec<u8>, RequestError> {
        let req = parse_request(request)?;
        let system = |what: &str| RequestError {
            failure: FailureInfo::SystemFailure,
            reason: format!("the TSA could not {what}"),
        };
        let mut serial = [0u8; 16];
        aws_lc_rs::rand::SecureRandom::fill(&self.rng, &mut serial)
            .map_err(|_| system("draw a serial number"))?;
        serial[0] = (serial[0] & 0x7f) | 0x01;
        let now = self.clock.now_millis();
        let tst_info = encode_tst_info(&TstInfo {
            policy: req.policy.unwrap_or(&self.policy),
            hash_algorithm: req.hash_algorithm,
            hashed_message: req.hashed_message,
            serial: &serial,
            // Whole seconds (the accuracy is 1 s): DER drops a fraction's trailing zeros, and
            // sigstore-js reads a genTime only without a fraction or with exactly three digits.
            gen_time_millis: now / 1000 * 1000,
            accuracy: self.accuracy,
            nonce: req.nonce,
            tsa_name: Some(&self.subject),
        });
        let cert = SigningCertificate {
            der: &self.chain[0],
            issuer: &self.issuer,
            serial: &self.serial,
        };
        let attrs = signed_attributes(&tst_info, &cert, self.scheme, now);
        let signature = self.signer.sign(&attrs).map_err(|e| {
            tracing::error!(error = %e, "TSA signing failed");
            system("sign")
        })?;
        // certReq: the signing certificate (RFC 3161 §2.4.1 asks for it alone). Not the whole
        // chain: `certificates` is a DER SET OF, sorted by encoding, so a root could come
        // first, while rfc3161-client (sigstore-python) and this workspace's verifier take
        // the first certificate for the TSA leaf. The chain is in the trusted root.
        let chain: Vec<&[u8]> = if req.cert_req {
            vec![self.chain[0].as_slice()]
        } else {
            Vec::new()
        };
        Ok(encode_granted(
            &tst_info,
            &attrs,
            &signature,
            self.scheme,
            &cert,
            &chain,
        ))
    }
}

/// The TSA's root and leaf certificates (DER).
#[derive(Debug, Clone)]
pub struct TsaCertificates {
    /// Self-signed root.
    pub root_der: Vec<u8>,
    /// The timestamping leaf, signed by the root.
    pub leaf_der: Vec<u8>,
}

fn params(
    organization: &str,
    cn: &str,
    not_before: i64,
    validity: i64,
    serial: &[u8],
) -> Result<CertificateParams, InitError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, organization.to_owned());
    dn.push(DnType::CommonName, cn.to_owned());
    p.distinguished_name = dn;
    p.not_before = OffsetDateTime::from_unix_timestamp(not_before).map_err(|_| InitError::Time)?;
    p.not_after = OffsetDateTime::from_unix_timestamp(
        not_before.checked_add(validity).ok_or(InitError::Time)?,
    )
    .map_err(|_| InitError::Time)?;
    p.serial_number = Some(SerialNumber::from_slice(serial));
    Ok(p)
}

/// A ten-year root (CN `<common_name>-tsa-root`) and a ten-year leaf (CN
/// `<common_name>-tsa`, KeyUsage digitalSignature, the critical EKU `timeStamping`), both from
/// `not_before`.
///
/// # Errors
/// [`InitError`].
pub fn build_tsa_certificates(
    organization: &str,
    common_name: &str,
    not_before: i64,
    root_key: Arc<dyn CaSigner>,
    leaf_key: Arc<dyn CaSigner>,
    serials: (&[u8], &[u8]),
) -> Result<TsaCertificates, InitError> {
    let validity = 10 * 365 * 86_400;
    let mut root_params = params(
        organization,
        &format!("{common_name}-tsa-root"),
        not_before,
        validity,
        serials.0,
    )?;
    root_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let root_signing = RcgenKey(root_key);
    let root = root_params.self_signed(&root_signing)?;
    let mut leaf_params = params(
        organization,
        &format!("{common_name}-tsa"),
        not_before,
        validity,
        serials.1,
    )?;
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.use_authority_key_identifier_extension = true;
    // ExtKeyUsage SEQUENCE { id-kp-timeStamping (1.3.6.1.5.5.7.3.8) }, critical (RFC 3161 §2.3); rcgen's own EKU
    // extension is never critical.
    let mut eku = CustomExtension::from_oid_content(
        &EXT_KEY_USAGE,
        vec![
            0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08,
        ],
    );
    eku.set_criticality(true);
    leaf_params.custom_extensions = vec![eku];
    let issuer = Issuer::new(root_params, root_signing);
    let leaf = leaf_params.signed_by(&RcgenKey(leaf_key), &issuer)?;
    Ok(TsaCertificates {
        root_der: root.der().to_vec(),
        leaf_der: leaf.der().to_vec(),
    })
}

fn pem_cert(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// Creates a TSA in `dir` (created if missing): `tsa.key.enc.pem` (the leaf key, encrypted
/// with `password`), `chain.pem` (leaf, then root) and `root.pem`. The root key is used once
/// and not kept.
///
/// # Errors
/// [`InitError`].
pub fn init_to_dir(
    dir: &Path,
    curve: CaCurve,
    not_before: i64,
    password: &[u8],
    cost: signet_proto::keyfile::ScryptCost,
) -> Result<TsaCertificates, InitError> {
    std::fs::create_dir_all(dir).map_err(|e| InitError::Io {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let root_key = Arc::new(FileSigner::generate(curve)?);
    let leaf_key = Arc::new(FileSigner::generate(curve)?);
    let (s1, s2) = (
        crate::init::random_serial(&rng)?,
        crate::init::random_serial(&rng)?,
    );
    let certs = build_tsa_certificates(
        "Signet",
        "signet",
        not_before,
        root_key,
        leaf_key.clone(),
        (&s1, &s2),
    )?;
    write(
        &dir.join("tsa.key.enc.pem"),
        &leaf_key.to_encrypted_pem(password, cost)?,
        true,
    )?;
    write(&dir.join("root.pem"), &pem_cert(&certs.root_der), false)?;
    write(
        &dir.join("chain.pem"),
        &(pem_cert(&certs.leaf_der) + &pem_cert(&certs.root_der)),
        false,
    )?;
    Ok(certs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use signet_proto::clock::FixedClock;
    use signet_proto::keys::HashAlgorithm;
    use signet_proto::timestamp::authority::response_status;
    use signet_proto::timestamp::parse_response;

    fn tsa() -> (TimestampAuthority, TsaCertificates) {
        let root = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
        let leaf = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
        let certs =
            build_tsa_certificates("T", "t", 1_700_000_000, root, leaf.clone(), (&[1], &[2]))
                .unwrap();
        let t = TimestampAuthority::new(
            leaf,
            vec![certs.leaf_der.clone(), certs.root_der.clone()],
            Arc::new(FixedClock::new(1_778_700_213_250)),
        )
        .unwrap();
        (t, certs)
    }

    fn request(nonce: &[u8], cert_req: bool) -> Vec<u8> {
        let tlv = signet_proto::timestamp::authority::tlv;
        let alg = tlv(
            0x30,
            &tlv(
                0x06,
                &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
            ),
        );
        let mi = tlv(0x30, &[alg, tlv(0x04, &[3; 32])].concat());
        let mut parts = vec![tlv(0x02, &[1]), mi, tlv(0x02, nonce)];
        if cert_req {
            parts.push(tlv(0x01, &[0xff]));
        }
        tlv(0x30, &parts.concat())
    }

    #[test]
    fn a_granted_token_is_signed_by_the_leaf_and_carries_the_chain_when_asked() {
        let (t, certs) = tsa();
        let reply = t.respond(&request(&[0x42], true));
        assert_eq!(reply.failure, None);
        let parsed = parse_response(&reply.der).unwrap();
        assert_eq!(parsed.imprint, &[3; 32]);
        assert_eq!(parsed.gen_time, (1_778_700_213, 0), "whole seconds");
        assert_eq!(parsed.first_certificate, Some(&certs.leaf_der[..]));
        let (_, leaf) = X509Certificate::from_der(&certs.leaf_der).unwrap();
        let key = signet_proto::keys::PublicKey::from_spki_der(leaf.public_key().raw).unwrap();
        key.verify(&parsed.signed_message(), parsed.signature)
            .unwrap();
        assert_eq!(
            parsed.message_digest_attr,
            Some(&HashAlgorithm::Sha256.hash(parsed.tst_info)[..])
        );
        // Without certReq, no certificate.
        let reply = t.respond(&request(&[0x42], false));
        assert_eq!(parse_response(&reply.der).unwrap().first_certificate, None);
    }

    #[test]
    fn garbage_is_rejected_unsigned() {
        let (t, _) = tsa();
        let reply = t.respond(b"\x30\x03\x02\x01");
        assert_eq!(reply.failure, Some(FailureInfo::BadDataFormat));
        assert_eq!(
            response_status(&reply.der),
            Some((2, vec![FailureInfo::BadDataFormat.bit()]))
        );
    }

    #[test]
    fn a_leaf_without_the_critical_eku_is_refused() {
        let root = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
        let leaf = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
        let other = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
        let certs =
            build_tsa_certificates("T", "t", 1_700_000_000, root, leaf, (&[1], &[2])).unwrap();
        // The root has no EKU; the leaf certifies another key than `other`.
        let clock = Arc::new(FixedClock::new(0));
        assert!(TimestampAuthority::new(
            other.clone(),
            vec![certs.leaf_der.clone()],
            clock.clone()
        )
        .is_err());
        let root_key = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
        let c2 = build_tsa_certificates(
            "T",
            "t",
            1_700_000_000,
            root_key.clone(),
            other,
            (&[1], &[2]),
        )
        .unwrap();
        let err = TimestampAuthority::new(root_key, vec![c2.root_der.clone()], clock).unwrap_err();
        assert!(err.to_string().contains("another key") || err.to_string().contains("extended"));
    }
}
