//! The timestamp authority's side of RFC 3161: the DER parser of `TimeStampReq` and the
//! encoders of `TSTInfo`, the CMS signed attributes (RFC 5652 §5.3, with the ESS
//! `signingCertificateV2` attribute of RFC 5816 / RFC 5035) and `TimeStampResp`, granted or
//! rejected.
//!
//! Specs: RFC 3161 §2.4.1 (`TimeStampReq`), §2.4.2 (`TimeStampResp`, `PKIStatusInfo`,
//! `PKIFailureInfo`, `TSTInfo`), RFC 5652 (`SignedData`, `SignerInfo`), RFC 5816
//! (`ESSCertIDv2` in timestamp tokens), X.690 DER.
//!
//! [`parse_request`] refuses with the `PKIFailureInfo` a TSA answers: `badDataFormat` for
//! bytes that are not one DER `TimeStampReq` (BER such as a non-minimal length or tag, a
//! non-minimal INTEGER, an OID that is not DER, or a digest of the wrong length), `badAlg` for
//! a hash algorithm other than SHA-256/384/512, `badRequest` for a version other than 1,
//! `unacceptedExtension` for any extension (none is supported). The encoders take every
//! value (time, serial, signature) from the caller: no clock, no randomness and no key here;
//! the TSA service (`signet-ca`'s `tsa`) signs [`signed_attributes`]' bytes and passes the
//! signature to [`encode_granted`].

use x509_parser::asn1_rs::Class;

use super::{check_der, hash_algorithm, is_der_oid, minimal_integer, Reader, TimestampParseError};
use crate::bundle::civil_from_days;
use crate::keys::HashAlgorithm;

/// The largest `TimeStampReq` the parser reads: a SHA-512 imprint, a policy OID and a 20-byte
/// nonce fit in about 150 bytes, so anything above this is not a timestamp request.
pub const MAX_REQUEST_BYTES: usize = 4096;

/// The largest nonce accepted, in content bytes (openssl sends 8, rfc3161-client 8).
pub const MAX_NONCE_BYTES: usize = 64;

/// `id-ct-TSTInfo` content octets.
const OID_CT_TST_INFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];
/// `id-signedData` content octets.
const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// `contentType` attribute.
const OID_ATTR_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
/// `messageDigest` attribute.
const OID_ATTR_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
/// `signingTime` attribute.
const OID_ATTR_SIGNING_TIME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
/// `id-aa-signingCertificateV2` (RFC 5035).
const OID_ATTR_SIGNING_CERTIFICATE_V2: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
];

/// The policy Sigstore's timestamp-authority puts in tokens when the request names none
/// (`1.3.6.1.4.1.57264.2`), as OID content octets.
pub const SIGSTORE_TSA_POLICY: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x02];

/// `PKIFailureInfo` bits (RFC 3161 §2.4.2) a TSA sets when it rejects a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureInfo {
    /// `badAlg` (0): unrecognized or unsupported algorithm identifier.
    BadAlg,
    /// `badRequest` (2): transaction not permitted or supported.
    BadRequest,
    /// `badDataFormat` (5): the data submitted has the wrong format.
    BadDataFormat,
    /// `unacceptedPolicy` (15): the requested policy is not supported.
    UnacceptedPolicy,
    /// `unacceptedExtension` (16): the requested extension is not supported.
    UnacceptedExtension,
    /// `systemFailure` (25): the request cannot be handled due to a system failure.
    SystemFailure,
}

impl FailureInfo {
    /// The bit number in the `PKIFailureInfo` BIT STRING.
    #[must_use]
    pub fn bit(self) -> u8 {
        match self {
            Self::BadAlg => 0,
            Self::BadRequest => 2,
            Self::BadDataFormat => 5,
            Self::UnacceptedPolicy => 15,
            Self::UnacceptedExtension => 16,
            Self::SystemFailure => 25,
        }
    }

    /// The ASN.1 name of the bit (`badAlg`, ...), for messages and logs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::BadAlg => "badAlg",
            Self::BadRequest => "badRequest",
            Self::BadDataFormat => "badDataFormat",
            Self::UnacceptedPolicy => "unacceptedPolicy",
            Self::UnacceptedExtension => "unacceptedExtension",
            Self::SystemFailure => "systemFailure",
        }
    }
}

/// Why a `TimeStampReq` is refused, with the failure info the rejection carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timestamp request refused ({}): {reason}", failure.name())]
pub struct RequestError {
    /// The `PKIFailureInfo` bit of the rejection.
    pub failure: FailureInfo,
    /// What is wrong, naming the field.
    pub reason: String,
}

fn refuse(failure: FailureInfo, reason: impl Into<String>) -> RequestError {
    RequestError {
        failure,
        reason: reason.into(),
    }
}

fn bad_format(e: TimestampParseError) -> RequestError {
    let reason = match e {
        TimestampParseError::Malformed { reason } => reason,
        other => other.to_string(),
    };
    refuse(FailureInfo::BadDataFormat, reason)
}

/// A parsed `TimeStampReq`, borrowing from the request bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampRequest<'a> {
    /// `messageImprint.hashAlgorithm`.
    pub hash_algorithm: HashAlgorithm,
    /// `messageImprint.hashedMessage` (its length is the algorithm's digest length).
    pub hashed_message: &'a [u8],
    /// `reqPolicy`, as OID content octets, when present.
    pub policy: Option<&'a [u8]>,
    /// `nonce`, as INTEGER content octets (minimal two's complement), when present.
    pub nonce: Option<&'a [u8]>,
    /// `certReq`: whether the token must carry the TSA's certificate chain.
    pub cert_req: bool,
}

/// Parses one DER `TimeStampReq`.
///
/// # Errors
/// [`RequestError`] with the failure info a TSA answers (see the module docs).
pub fn parse_request(der: &[u8]) -> Result<TimestampRequest<'_>, RequestError> {
    if der.len() > MAX_REQUEST_BYTES {
        return Err(refuse(
            FailureInfo::BadRequest,
            format!(
                "the request is {} bytes, more than the {MAX_REQUEST_BYTES} a TimeStampReq can need",
                der.len()
            ),
        ));
    }
    // DER only: every TLV (the extensions' included) with minimal identifier and length
    // octets; BER is badDataFormat.
    check_der(der, "TimeStampReq").map_err(bad_format)?;
    // TimeStampReq ::= SEQUENCE { version INTEGER { v1(1) }, messageImprint MessageImprint,
    //   reqPolicy TSAPolicyId OPTIONAL, nonce INTEGER OPTIONAL,
    //   certReq BOOLEAN DEFAULT FALSE, extensions [0] IMPLICIT Extensions OPTIONAL }
    let mut top = Reader::new(der, "TimeStampReq");
    let mut req = top.sequence("TimeStampReq").map_err(bad_format)?;
    top.finish("TimeStampReq").map_err(bad_format)?;
    let version = req.integer("TimeStampReq.version").map_err(bad_format)?;
    if version != [1] {
        return Err(refuse(
            FailureInfo::BadRequest,
            "TimeStampReq.version is not 1 (v1)",
        ));
    }
    // MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }
    let mut mi = req.sequence("messageImprint").map_err(bad_format)?;
    let mut alg = mi
        .sequence("messageImprint.hashAlgorithm")
        .map_err(bad_format)?;
    let alg_oid = alg
        .oid("messageImprint.hashAlgorithm")
        .map_err(bad_format)?;
    // Parameters: absent or NULL (both spellings are in use for SHA-2).
    if !alg.is_empty() {
        let params = alg.next().map_err(bad_format)?;
        if params.class != Class::Universal || params.tag != 5 || !params.content.is_empty() {
            return Err(refuse(
                FailureInfo::BadAlg,
                "the hash algorithm has parameters other than NULL",
            ));
        }
        alg.finish("hashAlgorithm parameters").map_err(bad_format)?;
    }
    let hashed_message = mi
        .octets("messageImprint.hashedMessage")
        .map_err(bad_format)?;
    mi.finish("messageImprint").map_err(bad_format)?;
    let hash_algorithm = hash_algorithm(&alg_oid).ok_or_else(|| {
        refuse(
            FailureInfo::BadAlg,
            format!("hash algorithm {alg_oid} is not supported (SHA-256, SHA-384 or SHA-512)"),
        )
    })?;
    if hashed_message.len() != hash_algorithm.output_len() {
        return Err(refuse(
            FailureInfo::BadDataFormat,
            format!(
                "the {hash_algorithm:?} digest is {} bytes, not {}",
                hashed_message.len(),
                hash_algorithm.output_len()
            ),
        ));
    }
    let mut policy = None;
    let mut nonce = None;
    let mut cert_req = false;
    let mut last = 0u8; // order of the optional fields seen: 1 policy, 2 nonce, 3 certReq, 4 ext
    while !req.is_empty() {
        let t = req.next().map_err(bad_format)?;
        let field = match (t.class, t.tag, t.constructed) {
            (Class::Universal, 6, false) => 1,
            (Class::Universal, 2, false) => 2,
            (Class::Universal, 1, false) => 3,
            (Class::ContextSpecific, 0, true) => 4,
            _ => {
                return Err(refuse(
                    FailureInfo::BadDataFormat,
                    format!("TimeStampReq: unexpected field with tag {}", t.tag),
                ))
            }
        };
        if field <= last {
            return Err(refuse(
                FailureInfo::BadDataFormat,
                "TimeStampReq: optional fields repeated or out of order",
            ));
        }
        last = field;
        match field {
            1 => {
                // The policy is copied into the signed TSTInfo: only a DER OID.
                if !is_der_oid(t.content) {
                    return Err(refuse(
                        FailureInfo::BadDataFormat,
                        "reqPolicy is not a DER OBJECT IDENTIFIER",
                    ));
                }
                policy = Some(t.content);
            }
            2 => {
                if !minimal_integer(t.content) {
                    return Err(refuse(
                        FailureInfo::BadDataFormat,
                        "the nonce is not a DER INTEGER",
                    ));
                }
                if t.content.len() > MAX_NONCE_BYTES {
                    return Err(refuse(
                        FailureInfo::BadRequest,
                        format!(
                            "the nonce is {} bytes, more than {MAX_NONCE_BYTES}",
                            t.content.len()
                        ),
                    ));
                }
                nonce = Some(t.content);
            }
            3 => {
                cert_req = match t.content {
                    [0xff] => true,
                    [0x00] => false,
                    _ => {
                        return Err(refuse(
                            FailureInfo::BadDataFormat,
                            "certReq is not a DER BOOLEAN",
                        ))
                    }
                };
            }
            _ => {
                return Err(refuse(
                    FailureInfo::UnacceptedExtension,
                    "request extensions are not supported",
                ))
            }
        }
    }
    Ok(TimestampRequest {
        hash_algorithm,
        hashed_message,
        policy,
        nonce,
        cert_req,
    })
}

/// Encodes a `TimeStampReq` (version 1, no policy, no extensions), as a client sends it:
/// `hashed_message` under `hash_algorithm`, the `nonce` magnitude (big-endian; encoded as a
/// non-negative INTEGER) when given, and `certReq`.
#[must_use]
pub fn encode_request(
    hash_algorithm: HashAlgorithm,
    hashed_message: &[u8],
    nonce: Option<&[u8]>,
    cert_req: bool,
) -> Vec<u8> {
    let mut parts = vec![
        tlv(0x02, &[1]),
        seq(&[
            &digest_algorithm(hash_algorithm),
            &tlv(0x04, hashed_message),
        ]),
    ];
    if let Some(nonce) = nonce {
        parts.push(uint(nonce));
    }
    if cert_req {
        parts.push(tlv(0x01, &[0xff]));
    }
    tlv(0x30, &parts.concat())
}

// ---------------------------------------------------------------------------------------------
// DER encoding
// ---------------------------------------------------------------------------------------------

/// One DER TLV with a definite length (short or long form).
#[must_use]
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | u8::try_from(bytes.len() - skip).unwrap_or(0));
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn oid(content: &[u8]) -> Vec<u8> {
    tlv(0x06, content)
}

/// A non-negative INTEGER from big-endian magnitude bytes (leading zeros trimmed, a 0x00
/// prepended when the top bit is set).
fn uint(magnitude: &[u8]) -> Vec<u8> {
    let start = magnitude
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(magnitude.len());
    let trimmed = &magnitude[start..];
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(0x02, &content)
}

/// The `AlgorithmIdentifier` OID content of a SHA-2 digest.
fn digest_oid(alg: HashAlgorithm) -> &'static [u8] {
    match alg {
        HashAlgorithm::Sha256 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
        HashAlgorithm::Sha384 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02],
        HashAlgorithm::Sha512 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03],
    }
}

/// A digest `AlgorithmIdentifier` (parameters absent, RFC 5754 §2).
fn digest_algorithm(alg: HashAlgorithm) -> Vec<u8> {
    seq(&[&oid(digest_oid(alg))])
}

/// The signature scheme of the TSA key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsaSignatureScheme {
    /// ECDSA P-256 with SHA-256 (`ecdsa-with-SHA256`).
    EcdsaP256Sha256,
    /// ECDSA P-384 with SHA-384 (`ecdsa-with-SHA384`).
    EcdsaP384Sha384,
}

impl TsaSignatureScheme {
    /// The digest of the signed attributes (and of `messageDigest`).
    #[must_use]
    pub fn digest(self) -> HashAlgorithm {
        match self {
            Self::EcdsaP256Sha256 => HashAlgorithm::Sha256,
            Self::EcdsaP384Sha384 => HashAlgorithm::Sha384,
        }
    }

    fn algorithm_identifier(self) -> Vec<u8> {
        let content: &[u8] = match self {
            Self::EcdsaP256Sha256 => &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
            Self::EcdsaP384Sha384 => &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
        };
        seq(&[&oid(content)])
    }
}

/// `Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL,
/// micros [1] INTEGER (1..999) OPTIONAL }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accuracy {
    /// Whole seconds.
    pub seconds: u32,
    /// Milliseconds (0 to 999; 0 is left out).
    pub millis: u16,
}

impl Accuracy {
    fn encode(self) -> Vec<u8> {
        let mut parts = Vec::new();
        if self.seconds > 0 {
            parts.push(uint(&self.seconds.to_be_bytes()));
        }
        if self.millis > 0 {
            let int = uint(&self.millis.min(999).to_be_bytes());
            parts.push(tlv(0x80, &int[2..]));
        }
        tlv(0x30, &parts.concat())
    }
}

/// Encodes a `GeneralizedTime` (`YYYYMMDDHHMMSS[.fff]Z`, fraction without trailing zeros,
/// RFC 3161 §2.4.2) of Unix milliseconds.
///
/// # Panics
/// Never: the year of any `u64` millisecond count below 10^14 has four digits, and larger
/// values are clamped to 9999-12-31.
#[must_use]
pub fn generalized_time(unix_millis: u64) -> Vec<u8> {
    // 253402300799999 ms is 9999-12-31T23:59:59.999Z.
    let ms = unix_millis.min(253_402_300_799_999);
    let secs = i64::try_from(ms / 1000).unwrap_or(0);
    let frac = ms % 1000;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let tod = secs.rem_euclid(86_400);
    let mut text = format!(
        "{y:04}{mo:02}{d:02}{:02}{:02}{:02}",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    );
    if frac > 0 {
        let f = format!("{frac:03}");
        text.push('.');
        text.push_str(f.trim_end_matches('0'));
    }
    text.push('Z');
    tlv(0x18, text.as_bytes())
}

/// The values of one `TSTInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo<'a> {
    /// The policy, OID content octets (the request's, or the TSA's own).
    pub policy: &'a [u8],
    /// The imprint's hash algorithm (the request's).
    pub hash_algorithm: HashAlgorithm,
    /// The imprint (the request's `hashedMessage`).
    pub hashed_message: &'a [u8],
    /// The token's serial number, big-endian magnitude (unique per token).
    pub serial: &'a [u8],
    /// `genTime`, Unix milliseconds.
    pub gen_time_millis: u64,
    /// The accuracy of `genTime`.
    pub accuracy: Accuracy,
    /// The request's nonce (INTEGER content octets), echoed.
    pub nonce: Option<&'a [u8]>,
    /// `tsa [0] GeneralName`: the signing certificate's subject `Name` DER, sent as a
    /// `directoryName`.
    pub tsa_name: Option<&'a [u8]>,
}

/// Encodes a `TSTInfo` (version 1, `ordering` left out, i.e. false).
#[must_use]
pub fn encode_tst_info(info: &TstInfo<'_>) -> Vec<u8> {
    let imprint = seq(&[
        &digest_algorithm(info.hash_algorithm),
        &tlv(0x04, info.hashed_message),
    ]);
    let mut parts = vec![
        tlv(0x02, &[1]),
        oid(info.policy),
        imprint,
        uint(info.serial),
        generalized_time(info.gen_time_millis),
        info.accuracy.encode(),
    ];
    if let Some(nonce) = info.nonce {
        parts.push(tlv(0x02, nonce));
    }
    if let Some(name) = info.tsa_name {
        // tsa [0] GeneralName; GeneralName's directoryName is [4] EXPLICIT Name.
        parts.push(tlv(0xa0, &tlv(0xa4, name)));
    }
    tlv(0x30, &parts.concat())
}

/// The signing certificate, as the `SignerInfo` and the ESS attribute name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningCertificate<'a> {
    /// The whole certificate DER (hashed into `ESSCertIDv2.certHash`).
    pub der: &'a [u8],
    /// The issuer `Name`, whole DER.
    pub issuer: &'a [u8],
    /// The serial number INTEGER's content octets.
    pub serial: &'a [u8],
}

/// The signed attributes as the DER `SET OF Attribute` that the signature covers (RFC 5652
/// §5.4): `contentType` id-ct-TSTInfo, `signingTime`, `messageDigest` (the `scheme`'s digest
/// of `tst_info`) and `signingCertificateV2` with one `ESSCertIDv2` (SHA-256 of the
/// certificate, with its issuer and serial), sorted as DER sorts a SET OF.
#[must_use]
pub fn signed_attributes(
    tst_info: &[u8],
    cert: &SigningCertificate<'_>,
    scheme: TsaSignatureScheme,
    signing_time_millis: u64,
) -> Vec<u8> {
    let attribute = |attr_oid: &[u8], value: &[u8]| seq(&[&oid(attr_oid), &tlv(0x31, value)]);
    // signingTime is a UTCTime from 1950 through 2049 (RFC 5652 §11.3), whole seconds.
    let gt = generalized_time(signing_time_millis - signing_time_millis % 1000);
    let text = &gt[2..];
    let utc =
        (text.starts_with(b"20") && text[2] < b'5') || (text.starts_with(b"19") && text[2] >= b'5');
    let signing_time = if utc {
        tlv(0x17, &text[2..])
    } else {
        gt.clone()
    };
    // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256 (so left out), certHash,
    //   issuerSerial IssuerSerial }; IssuerSerial ::= SEQUENCE { issuer GeneralNames,
    //   serialNumber }; the issuer is one directoryName.
    let issuer_serial = seq(&[&seq(&[&tlv(0xa4, cert.issuer)]), &tlv(0x02, cert.serial)]);
    let ess_cert_id = seq(&[
        &tlv(0x04, &HashAlgorithm::Sha256.hash(cert.der)),
        &issuer_serial,
    ]);
    let signing_certificate = seq(&[&seq(&[&ess_cert_id])]);
    let mut attrs = [
        attribute(OID_ATTR_CONTENT_TYPE, &oid(OID_CT_TST_INFO)),
        attribute(OID_ATTR_SIGNING_TIME, &signing_time),
        attribute(
            OID_ATTR_MESSAGE_DIGEST,
            &tlv(0x04, &scheme.digest().hash(tst_info)),
        ),
        attribute(OID_ATTR_SIGNING_CERTIFICATE_V2, &signing_certificate),
    ];
    attrs.sort();
    tlv(0x31, &attrs.concat())
}

/// `PKIStatusInfo` of a granted response.
fn granted_status() -> Vec<u8> {
    seq(&[&tlv(0x02, &[0])])
}

/// Encodes a granted `TimeStampResp`: status granted, and a `SignedData` token with
/// `tst_info`, the certificates `certificates` (in DER SET OF order; empty unless the
/// request asked with `certReq`), one `SignerInfo` naming `cert` by issuer and serial, the
/// `signed_attrs` (as [`signed_attributes`] returns them) and `signature` (the DER ECDSA
/// signature over `signed_attrs`).
#[must_use]
pub fn encode_granted(
    tst_info: &[u8],
    signed_attrs: &[u8],
    signature: &[u8],
    scheme: TsaSignatureScheme,
    cert: &SigningCertificate<'_>,
    certificates: &[&[u8]],
) -> Vec<u8> {
    let digest_alg = digest_algorithm(scheme.digest());
    // The signed attributes travel as [0] IMPLICIT: same content, tag 0xA0.
    let mut implicit_attrs = signed_attrs.to_vec();
    if let Some(first) = implicit_attrs.first_mut() {
        *first = 0xa0;
    }
    let signer_info = seq(&[
        &tlv(0x02, &[1]),
        &seq(&[cert.issuer, &tlv(0x02, cert.serial)]),
        &digest_alg,
        &implicit_attrs,
        &scheme.algorithm_identifier(),
        &tlv(0x04, signature),
    ]);
    let encap = seq(&[&oid(OID_CT_TST_INFO), &tlv(0xa0, &tlv(0x04, tst_info))]);
    let mut sd_parts: Vec<Vec<u8>> = vec![tlv(0x02, &[3]), tlv(0x31, &digest_alg), encap];
    if !certificates.is_empty() {
        // CertificateSet is a SET OF: DER sorts its elements by their encodings (rfc3161-client
        // refuses another order).
        let mut sorted = certificates.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sd_parts.push(tlv(0xa0, &sorted.concat()));
    }
    sd_parts.push(tlv(0x31, &signer_info));
    let signed_data = tlv(0x30, &sd_parts.concat());
    let content_info = seq(&[&oid(OID_SIGNED_DATA), &tlv(0xa0, &signed_data)]);
    seq(&[&granted_status(), &content_info])
}

/// Encodes a rejected `TimeStampResp` (status 2, `rejection`) with `text` as its
/// `statusString` and `failure` as its one `PKIFailureInfo` bit; no token.
#[must_use]
pub fn encode_rejection(failure: FailureInfo, text: &str) -> Vec<u8> {
    let bit = failure.bit();
    let mut bits = vec![0u8; usize::from(bit / 8) + 1];
    bits[usize::from(bit / 8)] = 0x80 >> (bit % 8);
    let mut content = vec![7 - bit % 8]; // unused bits: DER drops trailing zero bits
    content.extend_from_slice(&bits);
    let free_text = seq(&[&tlv(0x0c, text.as_bytes())]);
    let status = seq(&[&tlv(0x02, &[2]), &free_text, &tlv(0x03, &content)]);
    seq(&[&status])
}

/// A parsed `TimeStampResp` status: (`PKIStatus`, failure info bits set), for tests and
/// clients reading a rejection. `None` when the bytes are not a `TimeStampResp`.
#[must_use]
pub fn response_status(der: &[u8]) -> Option<(u64, Vec<u8>)> {
    let mut top = Reader::new(der, "TimeStampResp");
    let mut resp = top.sequence("TimeStampResp").ok()?;
    let mut status = resp.sequence("PKIStatusInfo").ok()?;
    let code = super::small_uint(status.integer("PKIStatus").ok()?, "PKIStatus").ok()?;
    let mut bits = Vec::new();
    while !status.is_empty() {
        let t = status.next().ok()?;
        if t.class == Class::Universal && t.tag == 3 {
            let (&unused, data) = t.content.split_first()?;
            for (i, byte) in data.iter().enumerate() {
                for b in 0..8u8 {
                    if byte & (0x80 >> b) != 0 {
                        bits.push(u8::try_from(i * 8).ok()? + b);
                    }
                }
            }
            let _ = unused;
        }
    }
    Some((code, bits))
}

/// The `policy` (OID content octets) and `nonce` (INTEGER content octets, when present) of a
/// `TSTInfo` DER, for a client checking that its request was answered (RFC 3161 §2.4.2:
/// the nonce must be echoed). `None` when the bytes are not a `TSTInfo`.
#[must_use]
pub fn tst_info_policy_and_nonce(tst_info: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    check_der(tst_info, "TSTInfo").ok()?;
    let mut top = Reader::new(tst_info, "TSTInfo");
    let mut tst = top.sequence("TSTInfo").ok()?;
    top.finish("TSTInfo").ok()?;
    tst.integer("version").ok()?;
    let policy = tst.oid_content("policy").ok()?;
    tst.sequence("messageImprint").ok()?;
    tst.integer("serialNumber").ok()?;
    tst.expect(Class::Universal, 24, false, "genTime").ok()?;
    while !tst.is_empty() {
        let t = tst.next().ok()?;
        if t.class == Class::Universal && t.tag == 2 {
            return minimal_integer(t.content).then_some((policy, Some(t.content)));
        }
    }
    Some((policy, None))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `openssl ts -query -sha256 -digest 00..00 -cert` with a fixed nonce, as openssl encodes
    /// it (parameters NULL).
    fn openssl_style(nonce: bool, cert: bool) -> Vec<u8> {
        let alg = seq(&[&oid(digest_oid(HashAlgorithm::Sha256)), &[0x05, 0x00]]);
        let mi = seq(&[&alg, &tlv(0x04, &[0xab; 32])]);
        let mut parts = vec![tlv(0x02, &[1]), mi];
        if nonce {
            parts.push(tlv(
                0x02,
                &[0x00, 0x9a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71],
            ));
        }
        if cert {
            parts.push(tlv(0x01, &[0xff]));
        }
        tlv(0x30, &parts.concat())
    }

    #[test]
    fn a_request_parses_with_nonce_and_cert_req() {
        let der = openssl_style(true, true);
        let r = parse_request(&der).unwrap();
        assert_eq!(r.hash_algorithm, HashAlgorithm::Sha256);
        assert_eq!(r.hashed_message, &[0xab; 32]);
        assert_eq!(
            r.nonce,
            Some(&[0x00, 0x9a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71][..])
        );
        assert!(r.cert_req);
        assert_eq!(r.policy, None);
        let plain = openssl_style(false, false);
        let r = parse_request(&plain).unwrap();
        assert!(!r.cert_req);
        assert_eq!(r.nonce, None);
    }

    #[test]
    fn encoded_requests_parse_back() {
        let der = encode_request(HashAlgorithm::Sha512, &[4; 64], Some(&[0x80, 0]), true);
        let r = parse_request(&der).unwrap();
        assert_eq!(r.hash_algorithm, HashAlgorithm::Sha512);
        assert_eq!(r.nonce, Some(&[0, 0x80, 0][..]));
        assert!(r.cert_req);
    }

    #[test]
    fn a_policy_is_read() {
        let alg = seq(&[&oid(digest_oid(HashAlgorithm::Sha384))]);
        let mi = seq(&[&alg, &tlv(0x04, &[1; 48])]);
        let der = seq(&[&tlv(0x02, &[1]), &mi, &oid(&[0x2a, 0x03, 0x04])]);
        let r = parse_request(&der).unwrap();
        assert_eq!(r.policy, Some(&[0x2a, 0x03, 0x04][..]));
        assert_eq!(r.hash_algorithm, HashAlgorithm::Sha384);
    }

    fn failure(der: &[u8]) -> FailureInfo {
        parse_request(der).unwrap_err().failure
    }

    #[test]
    fn bad_requests_get_their_failure_info() {
        // Not DER at all, truncated, trailing bytes.
        assert_eq!(failure(b"hello"), FailureInfo::BadDataFormat);
        let good = openssl_style(true, true);
        assert_eq!(failure(&good[..good.len() - 1]), FailureInfo::BadDataFormat);
        assert_eq!(
            failure(&[good.clone(), vec![0]].concat()),
            FailureInfo::BadDataFormat
        );
        // SHA-1 (1.3.14.3.2.26) and MD5 are not supported.
        let sha1 = seq(&[&oid(&[0x2b, 0x0e, 0x03, 0x02, 0x1a])]);
        let der = seq(&[&tlv(0x02, &[1]), &seq(&[&sha1, &tlv(0x04, &[0; 20])])]);
        assert_eq!(failure(&der), FailureInfo::BadAlg);
        // A SHA-256 imprint of 31 bytes.
        let alg = seq(&[&oid(digest_oid(HashAlgorithm::Sha256))]);
        let der = seq(&[&tlv(0x02, &[1]), &seq(&[&alg, &tlv(0x04, &[0; 31])])]);
        assert_eq!(failure(&der), FailureInfo::BadDataFormat);
        // Version 2.
        let der = seq(&[&tlv(0x02, &[2]), &seq(&[&alg, &tlv(0x04, &[0; 32])])]);
        assert_eq!(failure(&der), FailureInfo::BadRequest);
        // Extensions.
        let der = seq(&[
            &tlv(0x02, &[1]),
            &seq(&[&alg, &tlv(0x04, &[0; 32])]),
            &tlv(0xa0, &seq(&[])),
        ]);
        assert_eq!(failure(&der), FailureInfo::UnacceptedExtension);
        // Non-minimal nonce, nonce after certReq, a BOOLEAN that is not DER.
        let mi = seq(&[&alg, &tlv(0x04, &[0; 32])]);
        let der = seq(&[&tlv(0x02, &[1]), &mi, &tlv(0x02, &[0, 1])]);
        assert_eq!(failure(&der), FailureInfo::BadDataFormat);
        let der = seq(&[&tlv(0x02, &[1]), &mi, &tlv(0x01, &[0xff]), &tlv(0x02, &[1])]);
        assert_eq!(failure(&der), FailureInfo::BadDataFormat);
        let der = seq(&[&tlv(0x02, &[1]), &mi, &tlv(0x01, &[1])]);
        assert_eq!(failure(&der), FailureInfo::BadDataFormat);
        // Oversized.
        assert_eq!(
            failure(&vec![0x30; MAX_REQUEST_BYTES + 1]),
            FailureInfo::BadRequest
        );
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The probe's policy `06 03 2a 80 01` (a sub-identifier with a leading 0x80 byte, X.690
    /// §8.19.2) and the other OID encodings DER forbids are refused wherever the request
    /// carries an OID (reqPolicy, the hash algorithm), never copied into a token.
    #[test]
    fn requests_with_invalid_oids_are_bad_data_format() {
        let alg = seq(&[&oid(digest_oid(HashAlgorithm::Sha256))]);
        let mi = seq(&[&alg, &tlv(0x04, &[1; 32])]);
        for bad in [
            &[0x2a, 0x80, 0x01][..],
            &[0x80, 0x01],
            &[0x2a, 0x03, 0x84],
            &[],
            &[0x2b, 0x06, 0x80, 0x80, 0x01],
        ] {
            let der = seq(&[&tlv(0x02, &[1]), &mi, &oid(bad)]);
            assert_eq!(
                failure(&der),
                FailureInfo::BadDataFormat,
                "policy {bad:02x?}"
            );
            let bad_alg = seq(&[&oid(bad)]);
            let der = seq(&[&tlv(0x02, &[1]), &seq(&[&bad_alg, &tlv(0x04, &[1; 32])])]);
            assert_eq!(
                failure(&der),
                FailureInfo::BadDataFormat,
                "hashAlgorithm {bad:02x?}"
            );
        }
        // The probe's request: `openssl ts -query -sha256 -cert` with that policy.
        let probe = seq(&[
            &tlv(0x02, &[1]),
            &seq(&[
                &seq(&[&oid(digest_oid(HashAlgorithm::Sha256)), &[0x05, 0x00]]),
                &tlv(0x04, &[0xab; 32]),
            ]),
            &[0x06, 0x03, 0x2a, 0x80, 0x01],
            &tlv(0x02, &[0x01, 0x02]),
            &tlv(0x01, &[0xff]),
        ]);
        assert_eq!(failure(&probe), FailureInfo::BadDataFormat);
        // A valid policy with a multi-byte arc still parses.
        let der = seq(&[&tlv(0x02, &[1]), &mi, &oid(SIGSTORE_TSA_POLICY)]);
        assert_eq!(
            parse_request(&der).unwrap().policy,
            Some(SIGSTORE_TSA_POLICY)
        );
    }

    /// BER that is not DER is refused with badDataFormat: long-form lengths below 128
    /// (the probe's request `04 81 20`, an outer `30 81 LL`, a version `02 81 01 01`), leading
    /// zero length octets, the high-tag-number form for a low tag, and a non-minimal INTEGER.
    #[test]
    fn ber_requests_are_bad_data_format() {
        // The probe's request: hashedMessage `04 81 20`.
        let probe = hex(
            "30370201013032300d060960864801650304020105000481205891b5b522d5df086d0ff0b110fbd9d2\
             1bb4fc7163af34d08286a2e846f6be03",
        );
        assert_eq!(failure(&probe), FailureInfo::BadDataFormat);
        // The same request in DER is granted.
        let der = hex("30360201013031300d060960864801650304020105000420\
             5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
        assert!(parse_request(&der).is_ok());
        let inner = &der[2..];
        // Outer SEQUENCE `30 81 36`.
        let outer_long = [&[0x30, 0x81, 0x36][..], inner].concat();
        assert_eq!(failure(&outer_long), FailureInfo::BadDataFormat);
        // Outer SEQUENCE `30 82 00 36` (leading zero length octet).
        let outer_zero = [&[0x30, 0x82, 0x00, 0x36][..], inner].concat();
        assert_eq!(failure(&outer_zero), FailureInfo::BadDataFormat);
        // Version `02 81 01 01`.
        let rest = &der[5..];
        let version_long = seq(&[&[0x02, 0x81, 0x01, 0x01], rest]);
        assert_eq!(failure(&version_long), FailureInfo::BadDataFormat);
        // Version `02 02 00 01` (INTEGER with a redundant leading zero).
        let version_padded = seq(&[&[0x02, 0x02, 0x00, 0x01], rest]);
        assert_eq!(failure(&version_padded), FailureInfo::BadDataFormat);
        // Version with the tag in high-tag-number form (`1f 02`, tag 2 < 31).
        let version_high_tag = seq(&[&[0x1f, 0x02, 0x01, 0x01], rest]);
        assert_eq!(failure(&version_high_tag), FailureInfo::BadDataFormat);
        // A nonce `02 81 01 05` and a certReq `01 81 01 ff`.
        let nonce_long = seq(&[inner, &[0x02, 0x81, 0x01, 0x05]]);
        assert_eq!(failure(&nonce_long), FailureInfo::BadDataFormat);
        let cert_req_long = seq(&[inner, &[0x01, 0x81, 0x01, 0xff]]);
        assert_eq!(failure(&cert_req_long), FailureInfo::BadDataFormat);
        // A 200-byte digest (length 0x81 0xc8 is minimal) is still read: refused for its
        // length, not its encoding.
        let alg = seq(&[&oid(digest_oid(HashAlgorithm::Sha256))]);
        let long_digest = seq(&[&tlv(0x02, &[1]), &seq(&[&alg, &tlv(0x04, &[0; 200])])]);
        let e = parse_request(&long_digest).unwrap_err();
        assert!(e.reason.contains("200 bytes"), "{e}");
    }

    /// A `TSTInfo` whose policy is not a DER OID is not read as one.
    #[test]
    fn a_tst_info_with_an_invalid_policy_is_refused() {
        let info = |policy: &[u8]| {
            encode_tst_info(&TstInfo {
                policy,
                hash_algorithm: HashAlgorithm::Sha256,
                hashed_message: &[5; 32],
                serial: &[1],
                gen_time_millis: 1_778_700_213_000,
                accuracy: Accuracy {
                    seconds: 1,
                    millis: 0,
                },
                nonce: None,
                tsa_name: None,
            })
        };
        assert_eq!(
            tst_info_policy_and_nonce(&info(SIGSTORE_TSA_POLICY)),
            Some((SIGSTORE_TSA_POLICY, None))
        );
        assert_eq!(tst_info_policy_and_nonce(&info(&[0x2a, 0x80, 0x01])), None);
        assert_eq!(tst_info_policy_and_nonce(&info(&[0x2a, 0x83])), None);
    }

    #[test]
    fn rejections_carry_the_failure_bit() {
        for f in [
            FailureInfo::BadAlg,
            FailureInfo::BadRequest,
            FailureInfo::BadDataFormat,
            FailureInfo::UnacceptedExtension,
            FailureInfo::SystemFailure,
        ] {
            let der = encode_rejection(f, "no");
            assert_eq!(response_status(&der), Some((2, vec![f.bit()])));
            // The verifier's parser refuses it as not granted.
            assert_eq!(
                crate::timestamp::parse_response(&der),
                Err(TimestampParseError::Status { status: 2 })
            );
        }
        // badDataFormat is bit 5: one byte, 2 unused bits.
        let der = encode_rejection(FailureInfo::BadDataFormat, "x");
        assert!(der.ends_with(&[0x03, 0x02, 0x02, 0x04]));
    }

    #[test]
    fn generalized_time_drops_trailing_zeros() {
        assert_eq!(
            &generalized_time(1_778_700_213_000)[2..],
            b"20260513192333Z"
        );
        assert_eq!(
            &generalized_time(1_778_700_213_120)[2..],
            b"20260513192333.12Z"
        );
        assert_eq!(
            super::super::generalized_time(&generalized_time(1_778_700_213_007)[2..]).unwrap(),
            (1_778_700_213, 7_000_000)
        );
    }

    #[test]
    fn a_granted_response_parses_back() {
        let tst = encode_tst_info(&TstInfo {
            policy: SIGSTORE_TSA_POLICY,
            hash_algorithm: HashAlgorithm::Sha256,
            hashed_message: &[5; 32],
            serial: &[0x80, 1, 2],
            gen_time_millis: 1_778_700_213_500,
            accuracy: Accuracy {
                seconds: 1,
                millis: 0,
            },
            nonce: Some(&[0x01, 0x02]),
            tsa_name: None,
        });
        let issuer = seq(&[]);
        let cert = SigningCertificate {
            der: b"not really a certificate",
            issuer: &issuer,
            serial: &[7],
        };
        let attrs = signed_attributes(&tst, &cert, TsaSignatureScheme::EcdsaP256Sha256, 0);
        let der = encode_granted(
            &tst,
            &attrs,
            &[9; 70],
            TsaSignatureScheme::EcdsaP256Sha256,
            &cert,
            &[],
        );
        let parsed = crate::timestamp::parse_response(&der).unwrap();
        assert_eq!(parsed.tst_info, &tst[..]);
        assert_eq!(parsed.imprint, &[5; 32]);
        assert_eq!(parsed.gen_time, (1_778_700_213, 500_000_000));
        assert_eq!(parsed.signed_message(), attrs);
        assert_eq!(
            parsed.message_digest_attr,
            Some(&HashAlgorithm::Sha256.hash(&tst)[..])
        );
        assert_eq!(
            parsed.content_type_attr.as_deref(),
            Some(crate::timestamp::OID_CT_TST_INFO)
        );
        assert_eq!(
            parsed.sid,
            crate::timestamp::SignerId::IssuerSerial {
                issuer: &issuer,
                serial: &[7]
            }
        );
        assert_eq!(parsed.signature, &[9; 70]);
        assert_eq!(response_status(&der), Some((0, vec![])));
        assert_eq!(
            tst_info_policy_and_nonce(&tst),
            Some((SIGSTORE_TSA_POLICY, Some(&[0x01, 0x02][..])))
        );
    }
}
