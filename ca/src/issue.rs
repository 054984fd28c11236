//! Pure certificate builder (rcgen): the Fulcio leaf profile, precertificate and final
//! certificate.
//!
//! Profile (INTEROP.md "Certificate (Fulcio profile)"): empty subject, critical SAN, KeyUsage
//! digitalSignature (critical), ExtKeyUsage codeSigning, SKI + AKI, `CA:FALSE`, the issuer in
//! 1.3.6.1.4.1.57264.1.1 (raw) and .1.8 (UTF8String), the principal's Fulcio extensions,
//! then either the RFC 6962 poison (precertificate) or the SCT list (final certificate) as the
//! last extension. Both share serial, validity and every other extension, so the final
//! certificate's TBS minus the SCT list equals the precertificate's TBS minus the poison.
//!
//! The time and the serial are inputs: nothing here reads a clock or draws randomness. No
//! network: the SCT is fetched by the caller ([`crate::service`]).

use rcgen::string::Ia5String;
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyUsagePurpose, OtherNameValue, SanType, SerialNumber, SigningKey, SubjectPublicKeyInfo,
};
use signet_proto::cert;
use signet_proto::sct::{self, Sct};
use time::OffsetDateTime;

use crate::identity::{Principal, San};

/// Certificate building errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The subject public key could not be encoded.
    #[error("subject public key: {reason}")]
    SubjectKey {
        /// Detail.
        reason: String,
    },
    /// A SAN value cannot be encoded (not IA5).
    #[error("SAN {value:?} cannot be encoded")]
    San {
        /// The value.
        value: String,
    },
    /// A time is out of range.
    #[error("time out of range")]
    Time,
    /// rcgen failed (including the CA signer).
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// SCT encoding failed.
    #[error("SCT list: {0}")]
    Sct(#[from] sct::SctError),
    /// A Fulcio OID is not in the table.
    #[error("extension: {0}")]
    Extension(#[from] cert::CertError),
}

/// What to certify.
#[derive(Debug, Clone, Copy)]
pub struct LeafSpec<'a> {
    /// DER SubjectPublicKeyInfo of the key being certified.
    pub subject_spki_der: &'a [u8],
    /// The identity.
    pub principal: &'a Principal,
    /// notBefore, seconds since the epoch.
    pub not_before: i64,
    /// Lifetime in seconds (notAfter = notBefore + validity).
    pub validity_secs: u64,
    /// Serial number bytes (big-endian, positive; 20 random bytes with the top bit clear).
    pub serial: &'a [u8],
}

fn custom(oid: &str, content: Vec<u8>) -> Result<CustomExtension, IssueError> {
    Ok(CustomExtension::from_oid_content(
        &cert::oid_arcs(oid)?,
        content,
    ))
}

/// The rcgen parameters of the leaf, without poison or SCT list.
///
/// # Errors
/// [`IssueError`] for unencodable values.
pub fn leaf_params(spec: &LeafSpec<'_>) -> Result<CertificateParams, IssueError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.not_before =
        OffsetDateTime::from_unix_timestamp(spec.not_before).map_err(|_| IssueError::Time)?;
    let validity = i64::try_from(spec.validity_secs).map_err(|_| IssueError::Time)?;
    params.not_after = OffsetDateTime::from_unix_timestamp(
        spec.not_before
            .checked_add(validity)
            .ok_or(IssueError::Time)?,
    )
    .map_err(|_| IssueError::Time)?;
    params.serial_number = Some(SerialNumber::from_slice(spec.serial));
    let san_err = || IssueError::San {
        value: spec.principal.san.value().to_owned(),
    };
    params.subject_alt_names = vec![match &spec.principal.san {
        San::Email(e) => {
            SanType::Rfc822Name(Ia5String::try_from(e.as_str()).map_err(|_| san_err())?)
        }
        San::Uri(u) => SanType::URI(Ia5String::try_from(u.as_str()).map_err(|_| san_err())?),
        San::Username(u) => SanType::OtherName((
            cert::oid_arcs(cert::OID_OTHERNAME_SAN)?,
            OtherNameValue::Utf8String(u.clone()),
        )),
    }];
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    params.use_authority_key_identifier_extension = true;
    let issuer = &spec.principal.issuer;
    params.custom_extensions.push(custom(
        cert::OID_ISSUER_V1,
        cert::encode_extension_value(cert::OID_ISSUER_V1, issuer)?,
    )?);
    params.custom_extensions.push(custom(
        cert::OID_ISSUER_V2,
        cert::encode_extension_value(cert::OID_ISSUER_V2, issuer)?,
    )?);
    for (oid, value) in &spec.principal.extensions {
        params
            .custom_extensions
            .push(custom(oid, cert::encode_extension_value(oid, value)?)?);
    }
    Ok(params)
}

fn subject_key(spec: &LeafSpec<'_>) -> Result<SubjectPublicKeyInfo, IssueError> {
    SubjectPublicKeyInfo::from_der(spec.subject_spki_der).map_err(|e| IssueError::SubjectKey {
        reason: e.to_string(),
    })
}

/// Builds the precertificate (leaf profile + critical poison extension), signed by `issuer`.
///
/// # Errors
/// [`IssueError`].
pub fn build_precert(
    spec: &LeafSpec<'_>,
    issuer: &Issuer<'_, impl SigningKey>,
) -> Result<Vec<u8>, IssueError> {
    let mut params = leaf_params(spec)?;
    let mut poison = custom(cert::OID_PRECERT_POISON, sct::PRECERT_POISON_VALUE.to_vec())?;
    poison.set_criticality(true);
    params.custom_extensions.push(poison);
    Ok(params
        .signed_by(&subject_key(spec)?, issuer)?
        .der()
        .to_vec())
}

/// Builds the final certificate with `scts` embedded (RFC 6962 §3.3), signed by `issuer`.
///
/// # Errors
/// [`IssueError`].
pub fn build_final(
    spec: &LeafSpec<'_>,
    scts: &[Sct],
    issuer: &Issuer<'_, impl SigningKey>,
) -> Result<Vec<u8>, IssueError> {
    let mut params = leaf_params(spec)?;
    params.custom_extensions.push(custom(
        cert::OID_SCT_LIST,
        sct::encode_sct_list_extension(scts)?,
    )?);
    Ok(params
        .signed_by(&subject_key(spec)?, issuer)?
        .der()
        .to_vec())
}
