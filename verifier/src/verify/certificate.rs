//! Who signed: the leaf certificate (chain to a trusted CA, Fulcio leaf profile, validity at
//! every signing time, embedded SCTs, the signer's identity against the policy), or in keyed
//! mode the policy's key.
//!
//! Specs: RFC 5280 path validation restricted to one leaf under a pre-verified CA (its chain
//! was verified when the trust material was built), RFC 5280 §4.2 (one extension of each
//! type, AKI required, unknown critical extensions refused), the Fulcio certificate profile
//! (digitalSignature, codeSigning, not a CA, a SAN naming the signer, issuer extensions
//! `.1.1` and `.1.8` agreeing), RFC 6962 §3.3 embedded SCTs (`signet_proto::sct`), verified
//! against the CT logs of the trust root and their `validFor`.
//!
//! Revocation: the leaf and the CA chain against the trust material's CRLs at the signing
//! time (`crate::revocation`).
//!
//! Not here: fetching CRLs, OCSP, chains longer than the trust root's, the artifact
//! signature (`signature`).

use signet_proto::cert::Identity;
use signet_proto::keys::{KeyAlgorithm, PublicKey};
use x509_parser::certificate::TbsCertificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::times::{time_window, SigningTime};
use crate::bundle::Material;
use crate::error::{
    BundleError, CertificateError, PolicyError, SctError, TimeError, VerificationError,
};
use crate::policy::{Policy, PolicyKind};
use crate::trust::{verify_certificate_signature, CertificateAuthority, TrustMaterial, Window};

/// The signer a bundle's verification material establishes under the policy.
pub(super) struct Signer<'a> {
    /// The key that signed the artifact.
    pub(super) key: PublicKey,
    /// The certificate identity (`None` in keyed mode).
    pub(super) identity: Option<Identity>,
    /// The trusted CA that issued the leaf (`None` in keyed mode).
    pub(super) ca_index: Option<usize>,
    /// The leaf certificate DER (`None` in keyed mode).
    pub(super) leaf_der: Option<&'a [u8]>,
}

/// Establishes the signer: in certificate mode the leaf is checked at every verified signing
/// time (`first`, then `others`) and its identity against the policy; in keyed mode the bundle
/// must carry a key hint and the policy's key is the signer.
///
/// # Errors
/// [`BundleError::MaterialMismatch`] when the material does not fit the policy, else the first
/// failing certificate, SCT or policy check.
pub(super) fn signer<'a>(
    policy: &Policy,
    material: &'a Material,
    trust: &TrustMaterial,
    first: SigningTime,
    others: &[SigningTime],
) -> Result<Signer<'a>, VerificationError> {
    match (&policy.kind, material) {
        (PolicyKind::Key(key), Material::PublicKey) => Ok(Signer {
            key: (**key).clone(),
            identity: None,
            ca_index: None,
            leaf_der: None,
        }),
        (PolicyKind::TrustedKeys(_), Material::Certificate(_)) => {
            Err(BundleError::MaterialMismatch(
                "verification with trusted keys was requested but the bundle carries a certificate"
                    .to_owned(),
            )
            .into())
        }
        (PolicyKind::TrustedKeys(_), Material::PublicKey) => Err(BundleError::MaterialMismatch(
            "trusted keys apply to Sigstore bundles only: pass --key with the signer's public key"
                .to_owned(),
        )
        .into()),
        (PolicyKind::Key(_), Material::Certificate(_)) => Err(BundleError::MaterialMismatch(
            "keyed verification was requested but the bundle carries a certificate".to_owned(),
        )
        .into()),
        (_, Material::PublicKey) => Err(BundleError::MaterialMismatch(
            "signed with a key, not a certificate: pass --key with the signer's public key instead \
             of identity flags"
                .to_owned(),
        )
        .into()),
        (_, Material::Certificate(der)) => {
            let (leaf, identity) = check_certificate(der, trust, first)?;
            // The certificate must also hold at every other verified time.
            for &t in others {
                check_certificate(der, trust, t)?;
            }
            if let PolicyKind::Identity(p) = &policy.kind {
                p.check(&identity)?;
            }
            Ok(Signer {
                key: leaf.key,
                identity: Some(identity),
                ca_index: Some(leaf.ca_index),
                leaf_der: Some(der.as_slice()),
            })
        }
    }
}

/// The leaf certificate after chain, profile, time and SCT checks.
struct CheckedLeaf {
    key: PublicKey,
    ca_index: usize,
}

const OID_EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";

/// Checks the leaf certificate `der` at `signing_time`, in this order: it parses (one
/// extension of each type, no unknown critical one), a trusted CA signed it, it follows the
/// leaf profile, the leaf, the CA chain and the CA's `validFor` cover the time, its key is not
/// RSA, its SCTs verify, and it names a signer whose issuer extensions agree.
fn check_certificate(
    der: &[u8],
    trust: &TrustMaterial,
    signing_time: SigningTime,
) -> Result<(CheckedLeaf, Identity), VerificationError> {
    let (rest, leaf) = X509Certificate::from_der(der).map_err(|e| CertificateError::Parse {
        reason: e.to_string(),
    })?;
    if !rest.is_empty() {
        return Err(CertificateError::Parse {
            reason: format!("{} trailing bytes", rest.len()),
        }
        .into());
    }
    let tbs = &leaf.tbs_certificate;
    let ext = LeafExtensions::read(tbs)?;
    let issuers = issuing_cas(&leaf, ext.aki, trust)?;
    ext.check_profile()?;
    // The one selection rule: of the CAs whose key signed the leaf, those valid at the time
    // (during a rotation both an old and a new listing may match; any one will do).
    let ca = crate::trust::valid_at("certificate authority", issuers, signing_time)
        .map_err(TimeError::from)?[0];

    // Times: the leaf and the chain must cover the signing time too.
    let v = &tbs.validity;
    time_window(
        || "leaf certificate".to_owned(),
        &Window::new(
            Some(v.not_before.timestamp()),
            Some(v.not_after.timestamp()),
        ),
        signing_time,
    )?;
    time_window(
        || format!("CA chain ({})", ca.subject),
        &ca.chain_validity,
        signing_time,
    )?;
    // Revoked before the signing time (CRLs of the trust material; `crate::revocation`).
    crate::revocation::check_chain(trust, ca, tbs.raw_serial(), signing_time)?;

    let key = PublicKey::from_spki_der(tbs.subject_pki.raw).map_err(|e| CertificateError::Key {
        reason: e.to_string(),
    })?;
    if matches!(key.algorithm(), KeyAlgorithm::Rsa { .. }) {
        return Err(CertificateError::Key {
            reason: "RSA leaf keys are not accepted".to_owned(),
        }
        .into());
    }

    verify_scts(der, ext.sct_list, ca, trust)?;
    let identity = signer_identity(&leaf, &ext.san_types)?;
    Ok((
        CheckedLeaf {
            key,
            ca_index: ca.index,
        },
        identity,
    ))
}

/// What the leaf profile needs from the leaf's extensions.
struct LeafExtensions<'a> {
    aki: Option<&'a [u8]>,
    key_usage_ok: bool,
    signs_certificates: bool,
    code_signing: bool,
    is_ca: bool,
    san_types: Vec<String>,
    sct_list: Option<&'a [u8]>,
}

impl<'a> LeafExtensions<'a> {
    /// Reads the extensions: each may appear only once, an unknown critical one or one that
    /// does not parse is refused.
    fn read(tbs: &'a TbsCertificate<'a>) -> Result<Self, CertificateError> {
        // An extension may appear only once (RFC 5280 section 4.2): with two, parsers disagree
        // on which one counts (sigstore-python refuses them).
        tbs.extensions_map().map_err(|e| CertificateError::Parse {
            reason: format!("extensions: {e}"),
        })?;
        let mut out = Self {
            aki: None,
            key_usage_ok: false,
            signs_certificates: false,
            code_signing: false,
            is_ca: false,
            san_types: Vec::new(),
            sct_list: None,
        };
        for ext in tbs.iter_extensions() {
            if ext.oid == x509_parser::oid_registry::OID_CT_LIST_SCT && out.sct_list.is_none() {
                out.sct_list = Some(ext.value);
            }
            match ext.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    out.aki = a.key_identifier.as_ref().map(|k| k.0)
                }
                ParsedExtension::KeyUsage(ku) => {
                    out.key_usage_ok = ku.digital_signature();
                    out.signs_certificates = ku.key_cert_sign() || ku.crl_sign();
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    out.code_signing = eku.code_signing
                        || eku
                            .other
                            .iter()
                            .any(|o| o.to_id_string() == OID_EKU_CODE_SIGNING);
                }
                ParsedExtension::BasicConstraints(bc) => out.is_ca = bc.ca,
                ParsedExtension::SubjectAlternativeName(san) => {
                    out.san_types = san.general_names.iter().map(general_name_type).collect();
                }
                ParsedExtension::UnsupportedExtension { .. } | ParsedExtension::Unparsed
                    if ext.critical =>
                {
                    return Err(CertificateError::Profile(format!(
                        "unknown critical extension {}",
                        ext.oid.to_id_string()
                    )));
                }
                ParsedExtension::ParseError { error } => {
                    return Err(CertificateError::Parse {
                        reason: format!("extension {}: {error}", ext.oid.to_id_string()),
                    });
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The Fulcio leaf profile: digitalSignature and codeSigning, no certificate or CRL
    /// signing, not a CA, a SAN, and an authority key identifier.
    fn check_profile(&self) -> Result<(), CertificateError> {
        let profile = |what: &str| Err(CertificateError::Profile(what.to_owned()));
        if !self.key_usage_ok {
            return profile("KeyUsage digitalSignature is missing");
        }
        if self.signs_certificates {
            return profile("KeyUsage allows signing certificates or CRLs, which a leaf must not");
        }
        if !self.code_signing {
            return profile("ExtKeyUsage codeSigning is missing");
        }
        if self.is_ca {
            return profile("the leaf is a CA certificate");
        }
        if self.san_types.is_empty() {
            return profile("no subject alternative name");
        }
        // RFC 5280 section 4.2.1.1 (and webpki's end-entity policy) require the AKI.
        if self.aki.is_none() {
            return profile("no authority key identifier");
        }
        Ok(())
    }
}

/// The trusted CAs whose key verifies the leaf's signature, among those with the leaf's
/// issuer name (and key identifier), in trusted-root order (one intermediate may be listed
/// under several `validFor` windows); their chains were verified when the trust material was
/// built.
fn issuing_cas<'a>(
    leaf: &X509Certificate<'a>,
    aki: Option<&'a [u8]>,
    trust: &'a TrustMaterial,
) -> Result<Vec<&'a CertificateAuthority>, CertificateError> {
    let issuer = &leaf.tbs_certificate.issuer;
    let mut last_err = None;
    let mut out = Vec::new();
    for ca in trust.issuers(issuer.as_raw(), aki) {
        match verify_certificate_signature(&ca.key, leaf) {
            Ok(()) => out.push(ca),
            Err(reason) => {
                last_err = Some(CertificateError::BadSignature {
                    ca: ca.subject.clone(),
                    reason,
                })
            }
        }
    }
    if !out.is_empty() {
        return Ok(out);
    }
    Err(last_err.unwrap_or_else(|| CertificateError::UnknownIssuer {
        issuer: issuer.to_string(),
    }))
}

/// The signer's identity: only an email, URI or Fulcio username SAN names a signer, and the
/// two issuer extensions, when both present, agree.
fn signer_identity(
    leaf: &X509Certificate<'_>,
    san_types: &[String],
) -> Result<Identity, VerificationError> {
    let identity = Identity::from_certificate(leaf).map_err(|e| PolicyError::Identity {
        reason: e.to_string(),
    })?;
    // Only an email, URI or Fulcio username SAN names a signer (`proto::cert::Identity` reads
    // no other type): a certificate with, say, only a dNSName is refused whatever the policy,
    // `any_identity_unsafe` included.
    if identity.san().is_none() {
        return Err(CertificateError::NoSigner {
            found: san_types.join(", "),
        }
        .into());
    }
    // sigstore-python reads the issuer from .1.1, sigstore-js and this verifier from .1.8: they
    // must agree.
    if let (Some(v1), Some(v2)) = (
        identity.extension(signet_proto::cert::OID_ISSUER_V1),
        identity.extension(signet_proto::cert::OID_ISSUER_V2),
    ) {
        if v1 != v2 {
            return Err(PolicyError::Identity {
                reason: format!("issuer extensions disagree: .1.1 {v1:?}, .1.8 {v2:?}"),
            }
            .into());
        }
    }
    Ok(identity)
}

/// The RFC 5280 name of a GeneralName's type, for messages.
fn general_name_type(name: &x509_parser::extensions::GeneralName<'_>) -> String {
    use x509_parser::extensions::GeneralName as G;
    match name {
        G::OtherName(oid, _) => format!("otherName {}", oid.to_id_string()),
        G::RFC822Name(_) => "rfc822Name".to_owned(),
        G::DNSName(_) => "dNSName".to_owned(),
        G::X400Address(_) => "x400Address".to_owned(),
        G::DirectoryName(_) => "directoryName".to_owned(),
        G::EDIPartyName(_) => "ediPartyName".to_owned(),
        G::URI(_) => "uniformResourceIdentifier".to_owned(),
        G::IPAddress(_) => "iPAddress".to_owned(),
        G::RegisteredID(_) => "registeredID".to_owned(),
        G::Invalid(tag, _) => format!("invalid [{}]", tag.0),
    }
}

/// Verifies the leaf's embedded SCTs. `sct_list` is the value of the leaf's SCT list
/// extension (the first one), taken from the parse [`check_certificate`] already did.
fn verify_scts(
    leaf_der: &[u8],
    sct_list: Option<&[u8]>,
    ca: &CertificateAuthority,
    trust: &TrustMaterial,
) -> Result<(), SctError> {
    use signet_proto::sct;
    let scts = sct::decode_sct_list_extension(sct_list.ok_or(SctError::Missing)?).map_err(|e| {
        SctError::Decode {
            reason: e.to_string(),
        }
    })?;
    if scts.is_empty() {
        return Err(SctError::Missing);
    }
    let tbs = sct::tbs_without_extensions(leaf_der, &[sct::OID_SCT_LIST, sct::OID_PRECERT_POISON])
        .map_err(|e| SctError::Decode {
            reason: e.to_string(),
        })?;
    let mut verified = 0usize;
    for s in &scts {
        // As in sigstore-js, an SCT from a log the trust root does not list fails.
        let logs = trust.ctlogs_with_id(&s.log_id);
        if logs.is_empty() {
            return Err(SctError::NoTrustedLog {
                count: 1,
                log_ids: hex::encode(s.log_id),
            });
        }
        // The logs listed with this ID whose key verifies the SCT, then the one selection
        // rule at the SCT's timestamp.
        let mut first_error = None;
        let signed: Vec<_> = logs
            .iter()
            .filter(
                |log| match s.verify_precert(&log.key, &ca.issuer_key_hash, &tbs) {
                    Ok(()) => true,
                    Err(e) => {
                        first_error.get_or_insert(SctError::BadSignature {
                            log_id: hex::encode(s.log_id),
                            reason: e.to_string(),
                        });
                        false
                    }
                },
            )
            .collect();
        if signed.is_empty() {
            return Err(first_error.unwrap_or(SctError::Missing));
        }
        let secs = i64::try_from(s.timestamp / 1000).unwrap_or(i64::MAX);
        let nanos = u32::try_from(s.timestamp % 1000).unwrap_or(0) * 1_000_000;
        crate::trust::valid_at("CT log", signed, (secs, nanos)).map_err(|source| {
            SctError::NotValidAt {
                log_id: hex::encode(s.log_id),
                source,
            }
        })?;
        verified += 1;
    }
    if verified == 0 {
        return Err(SctError::NoTrustedLog {
            count: scts.len(),
            log_ids: scts
                .iter()
                .map(|s| hex::encode(s.log_id))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(())
}
