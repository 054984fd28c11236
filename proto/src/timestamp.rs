//! RFC 3161 timestamp responses: the DER parser of `TimeStampResp` and the CMS `SignedData`
//! token inside it, keeping the raw bytes that are hashed or signed.
//!
//! Specs: RFC 3161 (`TimeStampResp`, `TimeStampToken`, `TSTInfo`), RFC 5652 (CMS
//! `ContentInfo`/`SignedData`/`SignerInfo`, signed attributes §5.4 and §11), the DER forms of
//! X.690 and RFC 5280 §4.1.2.5.2 (`GeneralizedTime`).
//!
//! [`parse_response`] reads one TLV at a time with `asn1-rs` (via `x509-parser`) and returns
//! the parts a verifier needs ([`TimestampResponse`]): the `TSTInfo` bytes, imprint, `genTime`,
//! the `SignerInfo`'s `sid`, digest and signature algorithms, the signed attributes (whole
//! encoding, and the `contentType` and `messageDigest` values), the signature and the first
//! embedded certificate. It checks the structure only: the status is `granted` (0; as
//! rfc3161-client, `grantedWithMods` is refused), the token is `SignedData` encapsulating an
//! `id-ct-TSTInfo` with exactly one `SignerInfo`, `TSTInfo` version 1, signed attributes
//! present, `contentType` and `messageDigest` single-valued and not repeated. Like
//! rfc3161-client's DER parser, every structure with a fixed field list must end where its
//! fields end: unread bytes (say, next to the `eContent` octets, outside what the signed
//! `messageDigest` covers) make the response malformed. Only DER is read (X.690 §10, as
//! rfc3161-client's `asn1` parser): every TLV of the response and of the `TSTInfo`, down to
//! the embedded certificates' structure and including the parts the parser steps over, must
//! have a definite length and minimal identifier and length octets (`Reader::next`,
//! `check_der`); an INTEGER it reads must be minimal and an OBJECT IDENTIFIER a DER one
//! ([`is_der_oid`]).
//!
//! The TSA side (request parser, `TSTInfo`, signed attributes and response encoder) is
//! [`authority`].
//!
//! Not here: any cryptography or trust decision (imprint, `messageDigest`, signature, signer
//! and validity checks are `signet-verifier`'s `timestamp` module), nonces, policy OIDs,
//! accuracy, the ESS `signingCertificate(V2)` attribute, CRLs and unsigned attributes (skipped).

use std::borrow::Cow;

pub mod authority; // the TSA side: TimeStampReq parser, TSTInfo and TimeStampResp builder

use x509_parser::asn1_rs::{Any, Class, FromDer, Oid};

use crate::bundle::{days_from_civil, days_in_month};
use crate::keys::HashAlgorithm;

/// CMS `id-signedData`.
pub const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
/// `id-ct-TSTInfo`, the encapsulated content type of a timestamp token.
pub const OID_CT_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
/// The CMS `contentType` signed attribute.
pub const OID_ATTR_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
/// The CMS `messageDigest` signed attribute.
pub const OID_ATTR_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";

/// Why a `TimeStampResp` was refused by the parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampParseError {
    /// The response or token does not decode, or its structure is not the one RFC 3161 and
    /// RFC 5652 define (the reason names the field).
    #[error("malformed RFC 3161 timestamp response: {reason}")]
    Malformed {
        /// Why, naming the structure and field.
        reason: String,
    },
    /// The response status is not granted (0); grantedWithMods (1) is refused too, as
    /// rfc3161-client (sigstore-python) does.
    #[error("the timestamp response status is {status}, not granted (0)")]
    Status {
        /// `PKIStatus` value.
        status: u64,
    },
}

fn malformed(reason: impl Into<String>) -> TimestampParseError {
    TimestampParseError::Malformed {
        reason: reason.into(),
    }
}

/// The hash algorithm a digest `AlgorithmIdentifier` OID names, when it is SHA-256, SHA-384 or
/// SHA-512 (the ones a Sigstore timestamp uses).
#[must_use]
pub fn hash_algorithm(oid: &str) -> Option<HashAlgorithm> {
    match oid {
        "2.16.840.1.101.3.4.2.1" => Some(HashAlgorithm::Sha256),
        "2.16.840.1.101.3.4.2.2" => Some(HashAlgorithm::Sha384),
        "2.16.840.1.101.3.4.2.3" => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

/// Whether OBJECT IDENTIFIER content octets are a valid DER encoding (X.690 §8.19.2): at
/// least one octet, no sub-identifier that starts with the octet 0x80 (a non-minimal
/// base-128 encoding), and a last octet without the continuation bit (no truncated
/// sub-identifier). Every OID the timestamp parsers read goes through it.
#[must_use]
pub fn is_der_oid(content: &[u8]) -> bool {
    if content.last().is_none_or(|b| b & 0x80 != 0) {
        return false;
    }
    // A sub-identifier starts at offset 0 and after each octet without the continuation bit.
    let mut starts = true;
    for &b in content {
        if starts && b == 0x80 {
            return false;
        }
        starts = b & 0x80 == 0;
    }
    true
}

/// Whether INTEGER content octets are a minimal two's complement encoding (X.690 §8.3.2).
fn minimal_integer(content: &[u8]) -> bool {
    match content {
        [] => false,
        [0x00, next, ..] => next & 0x80 != 0,
        [0xff, next, ..] => next & 0x80 == 0,
        _ => true,
    }
}

/// The length of the minimal (DER, X.690 §10.1 and §8.1.2) identifier and length octets of a
/// TLV with this tag number and content length: one identifier octet below tag 31, else one
/// plus the base-128 digits of the tag; one length octet below 128, else one plus the
/// big-endian octets of the length, without leading zeros.
fn der_header_len(tag: u32, content_len: usize) -> usize {
    let identifier = if tag < 31 {
        1
    } else {
        1 + (u32::BITS - tag.leading_zeros()).div_ceil(7)
    };
    let length = if content_len < 0x80 {
        1
    } else {
        1 + (usize::BITS - content_len.leading_zeros()).div_ceil(8)
    };
    usize::try_from(identifier + length).unwrap_or(usize::MAX)
}

/// How deep [`check_der`] descends into constructed TLVs (a timestamp response with an
/// embedded certificate is about a dozen levels deep).
const MAX_DER_DEPTH: usize = 32;

/// Checks that `data` is a series of DER TLVs, descending into every constructed one (not
/// into primitive contents such as OCTET STRINGs): each must pass [`Reader::next`] (definite
/// length, minimal identifier and length octets, content within bounds). Structures the
/// parsers step over without reading (`digestAlgorithms`, a certificate, an issuer `Name`,
/// CRLs, unsigned attributes, `TSTInfo` fields past `genTime`) are held to DER too.
fn check_der(data: &[u8], what: &'static str) -> Result<(), TimestampParseError> {
    fn walk(data: &[u8], what: &'static str, depth: usize) -> Result<(), TimestampParseError> {
        let mut r = Reader::new(data, what);
        while !r.is_empty() {
            let t = r.next()?;
            if t.constructed {
                if depth == 0 {
                    return Err(malformed(format!(
                        "{what}: nested more than {MAX_DER_DEPTH} levels deep"
                    )));
                }
                walk(t.content, what, depth - 1)?;
            }
        }
        Ok(())
    }
    walk(data, what, MAX_DER_DEPTH)
}

/// One DER TLV: its header fields, its content and its whole encoding.
struct Tlv<'a> {
    class: Class,
    constructed: bool,
    tag: u32,
    content: &'a [u8],
    raw: &'a [u8],
}

/// Reads TLVs one after the other from a byte string.
struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8], what: &'static str) -> Self {
        Self { data, what }
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Ends a structure whose fields are all read: anything left over is an error (DER, like
    /// rfc3161-client's parser, admits no unread bytes).
    fn finish(self, name: &str) -> Result<(), TimestampParseError> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(malformed(format!(
                "{}: {} unread bytes after {name}",
                self.what,
                self.data.len()
            )))
        }
    }

    /// The next TLV. asn1-rs refuses indefinite lengths but takes non-minimal length octets
    /// (`04 81 20`, `30 82 00 36`) and identifier octets (`1f 02`, `9f 80 28`), which are BER
    /// and not DER: the header actually read must be as long as the minimal one.
    fn next(&mut self) -> Result<Tlv<'a>, TimestampParseError> {
        let input = self.data;
        let (rest, any) =
            Any::from_der(input).map_err(|e| malformed(format!("{}: {e}", self.what)))?;
        let used = input.len() - rest.len();
        let tag = any.header.tag().0;
        let header_len = used - any.data.len();
        if header_len != der_header_len(tag, any.data.len()) {
            return Err(malformed(format!(
                "{}: the header of a TLV (tag {tag}, {} content bytes) is {header_len} bytes, \
                 not its minimal DER encoding",
                self.what,
                any.data.len()
            )));
        }
        self.data = rest;
        Ok(Tlv {
            class: any.header.class(),
            constructed: any.header.is_constructed(),
            tag,
            content: any.data,
            raw: &input[..used],
        })
    }

    /// The next TLV, which must have this class, tag and form.
    fn expect(
        &mut self,
        class: Class,
        tag: u32,
        constructed: bool,
        name: &str,
    ) -> Result<Tlv<'a>, TimestampParseError> {
        let t = self.next()?;
        if t.class != class || t.tag != tag || t.constructed != constructed {
            return Err(malformed(format!(
                "{}: expected {name}, found class {:?} tag {} ({})",
                self.what,
                t.class,
                t.tag,
                if t.constructed {
                    "constructed"
                } else {
                    "primitive"
                }
            )));
        }
        Ok(t)
    }

    fn sequence(&mut self, name: &str) -> Result<Reader<'a>, TimestampParseError> {
        let t = self.expect(Class::Universal, 16, true, name)?;
        Ok(Reader::new(t.content, self.what))
    }

    fn set(&mut self, name: &str) -> Result<Reader<'a>, TimestampParseError> {
        let t = self.expect(Class::Universal, 17, true, name)?;
        Ok(Reader::new(t.content, self.what))
    }

    /// An OBJECT IDENTIFIER's content octets, which must be a DER OID ([`is_der_oid`]).
    fn oid_content(&mut self, name: &str) -> Result<&'a [u8], TimestampParseError> {
        let t = self.expect(Class::Universal, 6, false, name)?;
        if !is_der_oid(t.content) {
            return Err(malformed(format!(
                "{}: {name} is not a DER OBJECT IDENTIFIER",
                self.what
            )));
        }
        Ok(t.content)
    }

    /// An OBJECT IDENTIFIER in dotted form ([`Self::oid_content`]).
    fn oid(&mut self, name: &str) -> Result<String, TimestampParseError> {
        let content = self.oid_content(name)?;
        Ok(Oid::new(Cow::Borrowed(content)).to_id_string())
    }

    /// An INTEGER's content octets, which must be minimal (X.690 §8.3.2).
    fn integer(&mut self, name: &str) -> Result<&'a [u8], TimestampParseError> {
        let content = self.expect(Class::Universal, 2, false, name)?.content;
        if !minimal_integer(content) {
            return Err(malformed(format!(
                "{}: {name} is not a minimal DER INTEGER",
                self.what
            )));
        }
        Ok(content)
    }

    fn octets(&mut self, name: &str) -> Result<&'a [u8], TimestampParseError> {
        Ok(self.expect(Class::Universal, 4, false, name)?.content)
    }

    /// Whether the next TLV is context-specific `[tag]`.
    fn peek_context(&self, tag: u32) -> bool {
        let mut probe = Reader::new(self.data, self.what);
        probe
            .next()
            .is_ok_and(|t| t.class == Class::ContextSpecific && t.tag == tag)
    }

    /// `AlgorithmIdentifier`: its OID (parameters are ignored).
    fn algorithm(&mut self, name: &str) -> Result<String, TimestampParseError> {
        let mut seq = self.sequence(name)?;
        seq.oid(name)
    }
}

/// A small non-negative INTEGER content as `u64`.
fn small_uint(content: &[u8], what: &str) -> Result<u64, TimestampParseError> {
    let trimmed = content
        .iter()
        .position(|&b| b != 0)
        .map_or(&[][..], |i| &content[i..]);
    if content.first().is_some_and(|b| b & 0x80 != 0) || trimmed.len() > 8 {
        return Err(malformed(format!("{what} is out of range")));
    }
    Ok(trimmed
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// DER `GeneralizedTime` content (`YYYYMMDDHHMMSS[.f+]Z`, RFC 5280 §4.1.2.5.2 / RFC 3161
/// §2.4.2) as Unix seconds and nanoseconds (digits past the ninth are dropped).
fn generalized_time(content: &[u8]) -> Result<(i64, u32), TimestampParseError> {
    let bad = || malformed(format!("genTime {:?}", String::from_utf8_lossy(content)));
    let s = std::str::from_utf8(content).map_err(|_| bad())?;
    let s = s.strip_suffix('Z').ok_or_else(bad)?;
    let (main, frac) = s.split_once('.').unwrap_or((s, ""));
    if main.len() != 14
        || !main.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.ends_with('0')
        || (s.contains('.') && frac.is_empty())
    {
        return Err(bad());
    }
    let n = |r: std::ops::Range<usize>| main[r].parse::<i64>().map_err(|_| bad());
    let (y, mo, d, h, mi, se) = (
        n(0..4)?,
        n(4..6)?,
        n(6..8)?,
        n(8..10)?,
        n(10..12)?,
        n(12..14)?,
    );
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60
    {
        return Err(bad());
    }
    let nanos = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    Ok((
        days_from_civil(y, mo, d) * 86_400 + h * 3_600 + mi * 60 + se,
        nanos,
    ))
}

/// The parts of a `TimeStampResp` that verification needs, borrowed from the DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampResponse<'a> {
    /// `TSTInfo` DER (the `eContent` octets), which the `messageDigest` attribute covers.
    pub tst_info: &'a [u8],
    /// `TSTInfo.messageImprint.hashAlgorithm` OID.
    pub imprint_algorithm: String,
    /// `TSTInfo.messageImprint.hashedMessage`.
    pub imprint: &'a [u8],
    /// `TSTInfo.genTime` as Unix seconds and nanoseconds (digits past the ninth dropped).
    pub gen_time: (i64, u32),
    /// `SignerInfo.sid`.
    pub sid: SignerId<'a>,
    /// `SignerInfo.digestAlgorithm` OID.
    pub digest_algorithm: String,
    /// The `[0] IMPLICIT` signed attributes, whole encoding (see [`Self::signed_message`]).
    pub signed_attrs: &'a [u8],
    /// The `contentType` signed attribute's OID, when present.
    pub content_type_attr: Option<String>,
    /// The `messageDigest` signed attribute's octets, when present.
    pub message_digest_attr: Option<&'a [u8]>,
    /// `SignerInfo.signatureAlgorithm` OID.
    pub signature_algorithm: String,
    /// `SignerInfo.signature`.
    pub signature: &'a [u8],
    /// DER of the first certificate of `SignedData.certificates`, when there is one.
    pub first_certificate: Option<&'a [u8]>,
}

impl TimestampResponse<'_> {
    /// The bytes the `SignerInfo` signature covers: DER(SET OF signed attributes), i.e. the
    /// signed attributes with the EXPLICIT `SET OF` tag (0x31) instead of the IMPLICIT `[0]`
    /// (0xA0) they are sent with (RFC 5652 §5.4); the length bytes are the same.
    #[must_use]
    pub fn signed_message(&self) -> Vec<u8> {
        let mut message = self.signed_attrs.to_vec();
        if let Some(first) = message.first_mut() {
            *first = 0x31;
        }
        message
    }
}

/// `SignerInfo.sid`: which certificate signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerId<'a> {
    /// `issuerAndSerialNumber`: the issuer `Name` DER and the serial INTEGER content.
    IssuerSerial {
        /// The issuer `Name`, whole DER encoding.
        issuer: &'a [u8],
        /// The serial number INTEGER's content octets.
        serial: &'a [u8],
    },
    /// `[0] subjectKeyIdentifier`.
    KeyId(&'a [u8]),
}

/// Parses one DER `TimeStampResp` (the `signedTimestamp` of a Sigstore bundle).
///
/// # Errors
/// [`TimestampParseError::Status`] when the status is not granted;
/// [`TimestampParseError::Malformed`] naming the first structure that does not decode.
pub fn parse_response(der: &[u8]) -> Result<TimestampResponse<'_>, TimestampParseError> {
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo OPTIONAL }
    let mut top = Reader::new(der, "TimeStampResp");
    let outer = top.expect(Class::Universal, 16, true, "TimeStampResp")?;
    if !top.is_empty() {
        return Err(malformed("trailing bytes after TimeStampResp"));
    }
    check_der(outer.content, "TimeStampResp")?;
    let mut resp = Reader::new(outer.content, "TimeStampResp");
    let mut status_info = resp.sequence("PKIStatusInfo")?;
    let status = small_uint(status_info.integer("PKIStatus")?, "PKIStatus")?;
    // RFC 3161 also allows grantedWithMods (1); rfc3161-client (sigstore-python) accepts only
    // granted (0), and so does this verifier.
    if status != 0 {
        return Err(TimestampParseError::Status { status });
    }
    if resp.is_empty() {
        return Err(malformed("the response carries no timeStampToken"));
    }
    // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }
    let mut ci = resp.sequence("ContentInfo")?;
    if !resp.is_empty() {
        return Err(malformed("trailing bytes after timeStampToken"));
    }
    let ct = ci.oid("ContentInfo.contentType")?;
    if ct != OID_SIGNED_DATA {
        return Err(malformed(format!(
            "token content type {ct} is not signedData"
        )));
    }
    let wrapped = ci.expect(Class::ContextSpecific, 0, true, "[0] content")?;
    ci.finish("ContentInfo.content")?;
    let mut sd_outer = Reader::new(wrapped.content, "SignedData");
    let mut sd = sd_outer.sequence("SignedData")?;
    sd_outer.finish("SignedData")?;
    sd.integer("SignedData.version")?;
    sd.set("digestAlgorithms")?;
    let mut encap = sd.sequence("encapContentInfo")?;
    let ect = encap.oid("eContentType")?;
    if ect != OID_CT_TST_INFO {
        return Err(malformed(format!(
            "encapsulated content type {ect} is not id-ct-TSTInfo"
        )));
    }
    let econtent = encap.expect(Class::ContextSpecific, 0, true, "[0] eContent")?;
    encap.finish("eContent")?;
    // The eContent octets are hashed into the signed messageDigest, but bytes next to them
    // inside the [0] wrapper are not: refuse them.
    let mut econtent_reader = Reader::new(econtent.content, "eContent");
    let tst_info = econtent_reader.octets("eContent")?;
    econtent_reader.finish("the eContent OCTET STRING")?;
    // certificates [0] IMPLICIT CertificateSet OPTIONAL: the trust root's TSA chain is
    // authoritative; like rfc3161-client, only the first embedded certificate is looked at
    // (a verifier checks that it is the TSA leaf used).
    let mut first_certificate = None;
    if sd.peek_context(0) {
        let certs = sd.expect(Class::ContextSpecific, 0, true, "[0] certificates")?;
        let mut cr = Reader::new(certs.content, "certificates");
        if !cr.is_empty() {
            first_certificate = Some(cr.next()?.raw);
        }
    }
    if sd.peek_context(1) {
        sd.next()?; // crls
    }
    let mut signer_infos = sd.set("signerInfos")?;
    sd.finish("signerInfos")?;
    let mut si = signer_infos.sequence("SignerInfo")?;
    if !signer_infos.is_empty() {
        return Err(malformed("the token has more than one SignerInfo"));
    }

    // TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime, ... }
    check_der(tst_info, "TSTInfo")?;
    let mut tst_outer = Reader::new(tst_info, "TSTInfo");
    let mut tst = tst_outer.sequence("TSTInfo")?;
    tst_outer.finish("TSTInfo")?;
    let version = small_uint(tst.integer("TSTInfo.version")?, "TSTInfo.version")?;
    if version != 1 {
        return Err(malformed(format!("TSTInfo version {version} is not 1")));
    }
    tst.oid("TSTInfo.policy")?;
    let mut mi = tst.sequence("messageImprint")?;
    let imprint_algorithm = mi.algorithm("messageImprint.hashAlgorithm")?;
    let imprint = mi.octets("messageImprint.hashedMessage")?;
    mi.finish("messageImprint")?;
    tst.integer("TSTInfo.serialNumber")?;
    let gen_time = generalized_time(tst.expect(Class::Universal, 24, false, "genTime")?.content)?;

    // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, [0] signedAttrs,
    //                           signatureAlgorithm, signature, [1] unsignedAttrs OPTIONAL }
    si.integer("SignerInfo.version")?;
    let sid_tlv = si.next()?;
    let sid = match (sid_tlv.class, sid_tlv.tag, sid_tlv.constructed) {
        (Class::Universal, 16, true) => {
            let mut ias = Reader::new(sid_tlv.content, "issuerAndSerialNumber");
            let issuer = ias.expect(Class::Universal, 16, true, "issuer Name")?.raw;
            let serial = ias.integer("serialNumber")?;
            SignerId::IssuerSerial { issuer, serial }
        }
        (Class::ContextSpecific, 0, false) => SignerId::KeyId(sid_tlv.content),
        _ => {
            return Err(malformed(
                "SignerInfo.sid is neither issuerAndSerialNumber nor [0]",
            ))
        }
    };
    let digest_algorithm = si.algorithm("SignerInfo.digestAlgorithm")?;
    if !si.peek_context(0) {
        return Err(malformed("the SignerInfo has no signed attributes"));
    }
    let attrs = si.expect(Class::ContextSpecific, 0, true, "[0] signedAttrs")?;
    let mut content_type_attr = None;
    let mut message_digest_attr = None;
    let mut ar = Reader::new(attrs.content, "signedAttrs");
    while !ar.is_empty() {
        let mut attr = ar.sequence("Attribute")?;
        let oid = attr.oid("Attribute.attrType")?;
        let mut values = attr.set("Attribute.attrValues")?;
        let single = |values: &mut Reader<'_>| -> Result<(), TimestampParseError> {
            if values.is_empty() {
                Ok(())
            } else {
                Err(malformed(format!("attribute {oid} has several values")))
            }
        };
        if oid == OID_ATTR_CONTENT_TYPE {
            if content_type_attr.is_some() {
                return Err(malformed("duplicate contentType attribute"));
            }
            content_type_attr = Some(values.oid("contentType")?);
            single(&mut values)?;
        } else if oid == OID_ATTR_MESSAGE_DIGEST {
            if message_digest_attr.is_some() {
                return Err(malformed("duplicate messageDigest attribute"));
            }
            message_digest_attr = Some(values.octets("messageDigest")?);
            single(&mut values)?;
        }
    }
    let signature_algorithm = si.algorithm("SignerInfo.signatureAlgorithm")?;
    let signature = si.octets("SignerInfo.signature")?;
    if si.peek_context(1) {
        si.next()?; // unsignedAttrs
    }
    si.finish("SignerInfo")?;
    Ok(TimestampResponse {
        tst_info,
        imprint_algorithm,
        imprint,
        gen_time,
        sid,
        digest_algorithm,
        signed_attrs: attrs.raw,
        content_type_attr,
        message_digest_attr,
        signature_algorithm,
        signature,
        first_certificate,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::TimestampParseError;
    use super::{days_from_civil, generalized_time, parse_response, small_uint};

    /// One DER TLV with a short or long definite length.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(content);
        out
    }

    fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    const SHA256: &[u8] = &[
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
    ];

    /// Where a test puts extra bytes in an otherwise well-formed token.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Extra {
        None,
        AfterTstInfo,
        InEContentWrapper,
        AfterEContent,
        AfterSignedData,
        AfterSignerInfos,
        AfterSignerInfo,
        InMessageImprint,
        AfterContent,
    }

    /// A structurally complete `TimeStampResp` (its signature is not valid: only parsing is
    /// under test), with `extra` bytes `05 00` (a DER NULL) inserted at one place.
    fn token(extra: Extra) -> Vec<u8> {
        let null = vec![0x05, 0x00];
        let at = |e: Extra| if extra == e { null.clone() } else { Vec::new() };
        let alg = tlv(0x30, SHA256);
        let imprint = tlv(
            0x30,
            &cat(&[
                alg.clone(),
                tlv(0x04, &[7; 32]),
                at(Extra::InMessageImprint),
            ]),
        );
        let tst_info = tlv(
            0x30,
            &cat(&[
                tlv(0x02, &[1]),
                tlv(0x06, &[0x2a, 0x03]),
                imprint,
                tlv(0x02, &[0x2a]),
                tlv(0x18, b"20260513192333Z"),
            ]),
        );
        let econtent = tlv(
            0xa0,
            &cat(&[
                tlv(0x04, &cat(&[tst_info, at(Extra::AfterTstInfo)])),
                at(Extra::InEContentWrapper),
            ]),
        );
        let encap = tlv(
            0x30,
            &cat(&[
                tlv(
                    0x06,
                    &[
                        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
                    ],
                ),
                econtent,
                at(Extra::AfterEContent),
            ]),
        );
        let signer_info = tlv(
            0x30,
            &cat(&[
                tlv(0x02, &[1]),
                tlv(0x30, &cat(&[tlv(0x30, &[]), tlv(0x02, &[1])])),
                alg.clone(),
                tlv(0xa0, &[]),
                tlv(
                    0x30,
                    &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
                ),
                tlv(0x04, &[9; 8]),
                at(Extra::AfterSignerInfo),
            ]),
        );
        let signed_data = tlv(
            0x30,
            &cat(&[
                tlv(0x02, &[3]),
                tlv(0x31, &alg),
                encap,
                tlv(0x31, &signer_info),
                at(Extra::AfterSignerInfos),
            ]),
        );
        let content_info = tlv(
            0x30,
            &cat(&[
                tlv(
                    0x06,
                    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02],
                ),
                tlv(0xa0, &cat(&[signed_data, at(Extra::AfterSignedData)])),
                at(Extra::AfterContent),
            ]),
        );
        tlv(0x30, &cat(&[tlv(0x30, &tlv(0x02, &[0])), content_info]))
    }

    #[test]
    fn well_formed_token_parses() {
        let der = token(Extra::None);
        let t = parse_response(&der).unwrap();
        assert_eq!(t.gen_time, (1_778_700_213, 0));
        assert_eq!(t.imprint, &[7; 32]);
        assert_eq!(t.imprint_algorithm, "2.16.840.1.101.3.4.2.1");
        assert_eq!(t.signature, &[9; 8]);
        assert!(t.first_certificate.is_none());
    }

    /// Bytes that no field accounts for are refused wherever they sit, in particular next to
    /// the eContent octets, where the signed messageDigest would not cover them.
    #[test]
    fn unread_bytes_are_refused_at_every_level() {
        for extra in [
            Extra::AfterTstInfo,
            Extra::InEContentWrapper,
            Extra::AfterEContent,
            Extra::AfterSignedData,
            Extra::AfterSignerInfos,
            Extra::AfterSignerInfo,
            Extra::InMessageImprint,
            Extra::AfterContent,
        ] {
            match parse_response(&token(extra)) {
                Err(TimestampParseError::Malformed { reason }) => {
                    assert!(reason.contains("unread bytes"), "{extra:?}: {reason}");
                }
                Err(other) => panic!("{extra:?}: {other}"),
                Ok(_) => panic!("{extra:?}: accepted"),
            }
        }
    }

    #[test]
    fn generalized_time_parses_der_forms() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(generalized_time(b"19700101000000Z").unwrap(), (0, 0));
        assert_eq!(
            generalized_time(b"20260513192333Z").unwrap(),
            (1_778_700_213, 0)
        );
        assert_eq!(
            generalized_time(b"20260513192333.5Z").unwrap(),
            (1_778_700_213, 500_000_000)
        );
        assert_eq!(
            generalized_time(b"20260513192333.000000001Z").unwrap(),
            (1_778_700_213, 1)
        );
        assert_eq!(
            generalized_time(b"20260513192333.1234567891Z").unwrap(),
            (1_778_700_213, 123_456_789)
        );
        assert_eq!(
            generalized_time(b"20000229120000Z").unwrap(),
            (951_825_600, 0)
        );
        for bad in [
            &b"20260513192333"[..],
            b"2026051319233Z",
            b"20260513192333.50Z",
            b"20260513192333.Z",
            b"20261313192333Z",
            b"20260231120000Z",
            b"20250229120000Z",
            b"20260431120000Z",
            b"20260513192333+0100",
        ] {
            assert!(generalized_time(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn small_uint_bounds() {
        assert_eq!(small_uint(&[0], "x").unwrap(), 0);
        assert_eq!(small_uint(&[1], "x").unwrap(), 1);
        assert_eq!(small_uint(&[0, 0x80], "x").unwrap(), 128);
        assert!(small_uint(&[0x80], "x").is_err());
        assert!(small_uint(&[1; 9], "x").is_err());
    }

    /// A `TimeStampResp` with this status and, when given, this token (a `ContentInfo`).
    fn response(status: u8, token: Option<Vec<u8>>) -> Vec<u8> {
        let status = tlv(0x30, &tlv(0x02, &[status]));
        tlv(0x30, &cat(&[status, token.unwrap_or_default()]))
    }

    fn expect_malformed(der: &[u8], want: &str) {
        match parse_response(der) {
            Err(TimestampParseError::Malformed { reason }) => {
                assert!(reason.contains(want), "{reason:?} lacks {want:?}");
            }
            other => panic!("{want}: {other:?}"),
        }
    }

    /// A status other than granted is its own error, whether or not a token follows;
    /// grantedWithMods (1) included.
    #[test]
    fn status_other_than_granted_is_typed() {
        for status in [1u8, 2, 5] {
            assert_eq!(
                parse_response(&response(status, None)),
                Err(TimestampParseError::Status {
                    status: u64::from(status)
                })
            );
        }
        let granted = token(Extra::None);
        let mut with_mods = granted.clone();
        // The status INTEGER's content byte: 30 len 30 03 02 01 <status>.
        let at = granted
            .windows(5)
            .position(|w| w == [0x30, 0x03, 0x02, 0x01, 0x00])
            .unwrap();
        with_mods[at + 4] = 1;
        assert_eq!(
            parse_response(&with_mods),
            Err(TimestampParseError::Status { status: 1 })
        );
        expect_malformed(&response(0, None), "no timeStampToken");
    }

    /// Every truncation and every single-byte corruption of a well-formed response gives a
    /// typed error or (for corruptions of opaque contents) a parse, never a panic; truncations
    /// always fail.
    #[test]
    fn truncated_and_corrupted_responses_are_refused() {
        let der = token(Extra::None);
        for n in 0..der.len() {
            assert!(
                matches!(
                    parse_response(&der[..n]),
                    Err(TimestampParseError::Malformed { .. })
                ),
                "prefix of {n} bytes"
            );
        }
        for i in 0..der.len() {
            for x in [0x01u8, 0x80, 0xff] {
                let mut bad = der.clone();
                bad[i] ^= x;
                let _ = parse_response(&bad);
            }
        }
        let mut trailing = der.clone();
        trailing.push(0);
        expect_malformed(&trailing, "trailing bytes after TimeStampResp");
        expect_malformed(b"", "TimeStampResp");
        // Indefinite length (BER) is not DER.
        expect_malformed(&[0x30, 0x80, 0x00, 0x00], "TimeStampResp");
    }

    /// The structure RFC 3161 fixes is checked: signedData, id-ct-TSTInfo, one SignerInfo.
    #[test]
    fn wrong_structures_are_named() {
        let data_oid = tlv(
            0x06,
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01],
        );
        let not_signed_data = tlv(0x30, &cat(&[data_oid, tlv(0xa0, &tlv(0x30, &[]))]));
        expect_malformed(&response(0, Some(not_signed_data)), "is not signedData");

        let der = token(Extra::None);
        // id-ct-TSTInfo's last arc 4 -> 5 (another content type).
        let tst_oid = [
            0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
        ];
        let at = der.windows(11).position(|w| w == tst_oid).unwrap();
        let mut other = der.clone();
        other[at + 10] = 5;
        expect_malformed(&other, "is not id-ct-TSTInfo");

        // TSTInfo version 2.
        let mut v2 = der.clone();
        let at = der
            .windows(5)
            .position(|w| w == [0x02, 0x01, 0x01, 0x06, 0x02])
            .unwrap();
        v2[at + 2] = 2;
        expect_malformed(&v2, "TSTInfo version 2 is not 1");
    }

    /// Re-encodes `data` (a series of TLVs with one-byte tags) with minimal headers, except
    /// for TLV number `target` (in document order, counting from `*n`), whose length is given
    /// a non-minimal form: long form below 128, else a leading zero octet. Constructed TLVs
    /// and OCTET STRINGs holding one whole SEQUENCE (the eContent `TSTInfo`) are descended.
    fn non_minimal_length_at(data: &[u8], target: usize, n: &mut usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = data;
        while let Some((&tag, after)) = rest.split_first() {
            let (len, hdr) = match after[0] {
                l if l < 0x80 => (usize::from(l), 1),
                0x81 => (usize::from(after[1]), 2),
                0x82 => (usize::from(after[1]) << 8 | usize::from(after[2]), 3),
                l => panic!("length byte {l:02x}"),
            };
            let content = &after[hdr..hdr + len];
            rest = &after[hdr + len..];
            let index = *n;
            *n += 1;
            let descend = tag & 0x20 != 0
                || (tag == 0x04 && content.first() == Some(&0x30) && {
                    let mut probe = 0;
                    non_minimal_length_at(content, usize::MAX, &mut probe) == content
                });
            let content = if descend {
                non_minimal_length_at(content, target, n)
            } else {
                content.to_vec()
            };
            if index == target {
                out.push(tag);
                match content.len() {
                    l if l < 0x80 => out.extend([0x81, l as u8]),
                    l if l < 0x100 => out.extend([0x82, 0x00, l as u8]),
                    l => out.extend([0x83, 0x00, (l >> 8) as u8, l as u8]),
                }
                out.extend_from_slice(&content);
            } else {
                out.extend(tlv(tag, &content));
            }
        }
        out
    }

    /// BER is not DER: a length in a non-minimal form is refused wherever it is, whether the
    /// parser reads that field or steps over it (the `digestAlgorithms` SET's content, the
    /// signer's issuer `Name`), the `TSTInfo` inside the eContent octets included.
    #[test]
    fn a_non_minimal_length_anywhere_is_refused() {
        let der = token(Extra::None);
        let mut count = 0;
        assert_eq!(non_minimal_length_at(&der, usize::MAX, &mut count), der);
        assert!(count > 30, "{count} TLVs");
        for target in 0..count {
            let bad = non_minimal_length_at(&der, target, &mut 0);
            assert_ne!(bad, der);
            assert!(
                matches!(
                    parse_response(&bad),
                    Err(TimestampParseError::Malformed { .. })
                ),
                "TLV {target} with a non-minimal length is accepted"
            );
        }
    }

    /// The identifier octets must be minimal too: the high-tag-number form (`1f xx`) of a tag
    /// below 31, or with a leading 0x80 octet, is not DER.
    #[test]
    fn a_non_minimal_tag_is_refused() {
        // `TimeStampResp { PKIStatusInfo { 0 } }` with the PKIStatus INTEGER's tag as `1f 02`.
        expect_malformed(
            &[0x30, 0x06, 0x30, 0x04, 0x1f, 0x02, 0x01, 0x00],
            "TimeStampResp",
        );
        // Context tag [40] as `9f 80 28` instead of `9f 28`, then as `9f 28` (accepted by the
        // reader, refused for being unexpected).
        let mut r = super::Reader::new(&[0x9f, 0x80, 0x28, 0x00], "test");
        assert!(r.next().is_err());
        let mut r = super::Reader::new(&[0x9f, 0x28, 0x00], "test");
        assert_eq!(r.next().unwrap().tag, 40);
        // Lengths: `02 81 01 00`, `02 82 00 01 00` refused, `04 81 80 ..` accepted.
        assert!(super::Reader::new(&[0x02, 0x81, 0x01, 0x00], "t")
            .next()
            .is_err());
        assert!(super::Reader::new(&[0x02, 0x82, 0x00, 0x01, 0x00], "t")
            .next()
            .is_err());
        let long = [&[0x04, 0x81, 0x80][..], &[0; 128]].concat();
        assert_eq!(
            super::Reader::new(&long, "t").next().unwrap().content.len(),
            128
        );
        let long = [&[0x04, 0x82, 0x00, 0x80][..], &[0; 128]].concat();
        assert!(super::Reader::new(&long, "t").next().is_err());
    }

    /// An OID whose encoding X.690 §8.19.2 forbids (a sub-identifier starting with 0x80, a
    /// last octet with the continuation bit, no octets) is refused in a response too: as the
    /// `TSTInfo` policy, the imprint's hash algorithm, a signed attribute's type.
    #[test]
    fn invalid_oids_in_a_response_are_refused() {
        let der = token(Extra::None);
        // The TSTInfo policy `06 02 2a 03`.
        let at = der
            .windows(4)
            .position(|w| w == [0x06, 0x02, 0x2a, 0x03])
            .unwrap();
        for bad in [[0x80, 0x01], [0x2a, 0x83], [0x80, 0x7f]] {
            let mut d = der.clone();
            d[at + 2..at + 4].copy_from_slice(&bad);
            expect_malformed(&d, "TSTInfo.policy");
        }
        // The imprint's SHA-256 OID `60 86 48 ..` (the one after the policy) with its second
        // sub-identifier `86 48` as `80 48` (same length, leading 0x80).
        let mut d = der.clone();
        let imprint = at
            + d[at..]
                .windows(3)
                .position(|w| w == [0x60, 0x86, 0x48])
                .unwrap();
        d[imprint + 1] = 0x80;
        expect_malformed(&d, "messageImprint.hashAlgorithm");
    }

    /// INTEGERs the parser reads are minimal two's complement (X.690 §8.3.2).
    #[test]
    fn a_non_minimal_integer_is_refused() {
        // PKIStatus `02 02 00 00`.
        expect_malformed(
            &[0x30, 0x06, 0x30, 0x04, 0x02, 0x02, 0x00, 0x00],
            "PKIStatus",
        );
        expect_malformed(&[0x30, 0x04, 0x30, 0x02, 0x02, 0x00], "PKIStatus");
    }

    #[test]
    fn signed_message_is_the_set_of_encoding() {
        let der = token(Extra::None);
        let t = parse_response(&der).unwrap();
        assert_eq!(t.signed_attrs, &[0xa0, 0x00]);
        assert_eq!(t.signed_message(), vec![0x31, 0x00]);
        assert_eq!(
            t.sid,
            super::SignerId::IssuerSerial {
                issuer: &[0x30, 0x00],
                serial: &[1]
            }
        );
        assert_eq!(
            super::hash_algorithm(&t.digest_algorithm),
            Some(crate::keys::HashAlgorithm::Sha256)
        );
        assert_eq!(super::hash_algorithm("1.3.14.3.2.26"), None);
    }
}
