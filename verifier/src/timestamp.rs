//! RFC 3161 signed timestamps: a trusted time for the bundle's signature.
//!
//! Specs: RFC 3161 (`TimeStampResp`, `TimeStampToken`, `TSTInfo`), RFC 5652 (CMS
//! `ContentInfo`/`SignedData`/`SignerInfo`, signed attributes §5.4 and §11), RFC 5280 for the
//! TSA certificate. The checks follow sigstore-python 4.x (`Verifier._verify_signed_timestamp`,
//! backed by rfc3161-client):
//!
//! * the response status is `granted` (rfc3161-client refuses `grantedWithMods` too) and
//!   carries a token;
//! * the token is CMS `SignedData` with exactly one `SignerInfo` and encapsulates a `TSTInfo`
//!   (`id-ct-TSTInfo`);
//! * the `TSTInfo` `messageImprint` is the hash (SHA-256/384/512, as the imprint names it) of
//!   the bundle's signature bytes;
//! * the signed attributes carry `contentType` = `id-ct-TSTInfo` and a `messageDigest` equal
//!   to the hash of the encapsulated `TSTInfo` under the signer's digest algorithm;
//! * the `SignerInfo` names (issuer and serial number, or subject key identifier) a TSA leaf of
//!   the trust root, whose key verifies the signature over DER(SET OF signed attributes); the
//!   TSA chain and the leaf's critical `timeStamping` EKU were checked when the trust material
//!   was built ([`crate::trust::TimestampAuthority`]);
//! * when the token embeds certificates, the first one is the trusted TSA leaf that signed
//!   (rfc3161-client `_verify_leaf_certs`; the others are ignored);
//! * `genTime` lies within every certificate of the TSA chain and the TSA's `validFor`
//!   (`start <= genTime < end`);
//! * every trusted TSA that the `sid` names is tried in trust-root order, as sigstore-python
//!   tries every authority; the first that passes is the result.
//!
//! DER is read with `asn1-rs` (via `x509-parser`): one TLV at a time, keeping the raw bytes
//! that are hashed or signed. Not here: nonces and policy OIDs (Sigstore requests none), the
//! ESS `signingCertificate(V2)` attribute (rfc3161-client does not read it either: the signer
//! is found by `sid` in the trust root), chains built from embedded certificates (the trust
//! root's TSA chain is authoritative), accuracy, and BER (indefinite lengths are rejected).
//! Like rfc3161-client's DER parser, every structure with a fixed field list must end where its
//! fields end: unread bytes (say, next to the `eContent` octets, outside what the signed
//! `messageDigest` covers) make the token malformed.

use std::borrow::Cow;

use signet_proto::bundle::{days_from_civil, days_in_month};
use signet_proto::keys::{HashAlgorithm, KeyAlgorithm, RsaPadding};
use x509_parser::asn1_rs::{Any, Class, FromDer, Oid};

use crate::error::TimestampError;
use crate::trust::{TimestampAuthority, TrustMaterial};

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_CT_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const OID_ATTR_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const OID_ATTR_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";

/// A timestamp that verified: its `genTime` and the TSA that signed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedTimestamp {
    /// `TSTInfo.genTime`, in Unix seconds (the fraction is in `gen_time_nanos`).
    pub gen_time: i64,
    /// The fraction of a second of `genTime`, in nanoseconds (digits past the ninth are
    /// dropped).
    pub gen_time_nanos: u32,
    /// The TSA's position in the trusted root's `timestampAuthorities`.
    pub tsa_index: usize,
}

fn malformed(reason: impl Into<String>) -> TimestampError {
    TimestampError::Malformed {
        reason: reason.into(),
    }
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
    fn finish(self, name: &str) -> Result<(), TimestampError> {
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

    fn next(&mut self) -> Result<Tlv<'a>, TimestampError> {
        let input = self.data;
        let (rest, any) =
            Any::from_der(input).map_err(|e| malformed(format!("{}: {e}", self.what)))?;
        let used = input.len() - rest.len();
        self.data = rest;
        Ok(Tlv {
            class: any.header.class(),
            constructed: any.header.is_constructed(),
            tag: any.header.tag().0,
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
    ) -> Result<Tlv<'a>, TimestampError> {
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

    fn sequence(&mut self, name: &str) -> Result<Reader<'a>, TimestampError> {
        let t = self.expect(Class::Universal, 16, true, name)?;
        Ok(Reader::new(t.content, self.what))
    }

    fn set(&mut self, name: &str) -> Result<Reader<'a>, TimestampError> {
        let t = self.expect(Class::Universal, 17, true, name)?;
        Ok(Reader::new(t.content, self.what))
    }

    fn oid(&mut self, name: &str) -> Result<String, TimestampError> {
        let t = self.expect(Class::Universal, 6, false, name)?;
        Ok(Oid::new(Cow::Borrowed(t.content)).to_id_string())
    }

    fn integer(&mut self, name: &str) -> Result<&'a [u8], TimestampError> {
        Ok(self.expect(Class::Universal, 2, false, name)?.content)
    }

    fn octets(&mut self, name: &str) -> Result<&'a [u8], TimestampError> {
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
    fn algorithm(&mut self, name: &str) -> Result<String, TimestampError> {
        let mut seq = self.sequence(name)?;
        seq.oid(name)
    }
}

/// A small non-negative INTEGER content as `u64`.
fn small_uint(content: &[u8], what: &str) -> Result<u64, TimestampError> {
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

fn hash_algorithm(oid: &str) -> Result<HashAlgorithm, TimestampError> {
    match oid {
        "2.16.840.1.101.3.4.2.1" => Ok(HashAlgorithm::Sha256),
        "2.16.840.1.101.3.4.2.2" => Ok(HashAlgorithm::Sha384),
        "2.16.840.1.101.3.4.2.3" => Ok(HashAlgorithm::Sha512),
        other => Err(TimestampError::UnsupportedAlgorithm {
            oid: other.to_owned(),
        }),
    }
}

/// DER `GeneralizedTime` content (`YYYYMMDDHHMMSS[.f+]Z`, RFC 5280 §4.1.2.5.2 / RFC 3161
/// §2.4.2) as Unix seconds and nanoseconds (digits past the ninth are dropped).
fn generalized_time(content: &[u8]) -> Result<(i64, u32), TimestampError> {
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

/// The parts of a `TimeStampResp` that verification needs.
struct ParsedToken<'a> {
    /// `TSTInfo` DER (the `eContent` octets).
    tst_info: &'a [u8],
    imprint_algorithm: String,
    imprint: &'a [u8],
    gen_time: (i64, u32),
    /// `SignerInfo.sid`: issuer Name DER and serial INTEGER content, or a key identifier.
    sid: SignerId<'a>,
    digest_algorithm: String,
    /// The `[0] IMPLICIT` signed attributes, whole encoding.
    signed_attrs: &'a [u8],
    content_type_attr: Option<String>,
    message_digest_attr: Option<&'a [u8]>,
    signature_algorithm: String,
    signature: &'a [u8],
    /// DER of the first certificate of `SignedData.certificates`, when there is one.
    first_certificate: Option<&'a [u8]>,
}

enum SignerId<'a> {
    IssuerSerial { issuer: &'a [u8], serial: &'a [u8] },
    KeyId(&'a [u8]),
}

fn parse_response(der: &[u8]) -> Result<ParsedToken<'_>, TimestampError> {
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo OPTIONAL }
    let mut top = Reader::new(der, "TimeStampResp");
    let mut resp = top.sequence("TimeStampResp")?;
    if !top.is_empty() {
        return Err(malformed("trailing bytes after TimeStampResp"));
    }
    let mut status_info = resp.sequence("PKIStatusInfo")?;
    let status = small_uint(status_info.integer("PKIStatus")?, "PKIStatus")?;
    // RFC 3161 also allows grantedWithMods (1); rfc3161-client (sigstore-python) accepts only
    // granted (0), and so does this verifier.
    if status != 0 {
        return Err(TimestampError::Status { status });
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
    // (it must be the TSA leaf used, checked in `verify_timestamp`).
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
        let single = |values: &mut Reader<'_>| -> Result<(), TimestampError> {
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
    Ok(ParsedToken {
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

/// Verifies the signature over DER(SET OF signed attributes) with the TSA leaf key.
fn verify_signer(tsa: &TimestampAuthority, tok: &ParsedToken<'_>) -> Result<(), String> {
    // RFC 5652 §5.4: the signature covers the attributes with an EXPLICIT SET OF tag (0x31)
    // instead of the IMPLICIT [0] (0xA0); the length bytes are the same.
    let mut message = tok.signed_attrs.to_vec();
    if let Some(first) = message.first_mut() {
        *first = 0x31;
    }
    let digest_hash = hash_algorithm(&tok.digest_algorithm).map_err(|e| e.to_string())?;
    let key = &tsa.key;
    let alg = tok.signature_algorithm.as_str();
    let ecdsa_hash = match alg {
        "1.2.840.10045.4.3.2" => Some(HashAlgorithm::Sha256),
        "1.2.840.10045.4.3.3" => Some(HashAlgorithm::Sha384),
        "1.2.840.10045.4.3.4" => Some(HashAlgorithm::Sha512),
        // id-ecPublicKey as a signature algorithm: the digest algorithm applies.
        "1.2.840.10045.2.1" => Some(digest_hash),
        _ => None,
    };
    match (ecdsa_hash, key.algorithm()) {
        (Some(h), KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384) => key
            .verify_prehashed_with(h, &h.hash(&message), tok.signature)
            .map_err(|e| e.to_string()),
        (None, KeyAlgorithm::Ed25519) if alg == "1.3.101.112" => key
            .verify(&message, tok.signature)
            .map_err(|e| e.to_string()),
        (None, KeyAlgorithm::Rsa { .. })
            if alg == "1.2.840.113549.1.1.11"
                || (alg == "1.2.840.113549.1.1.1" && digest_hash == HashAlgorithm::Sha256) =>
        {
            key.verify_rsa(RsaPadding::Pkcs1Sha256, &message, tok.signature)
                .map_err(|e| e.to_string())
        }
        _ => Err(format!(
            "signature algorithm {alg} is not allowed with a {} key",
            key.algorithm()
        )),
    }
}

/// Verifies one DER `TimeStampResp` for `signature` (the bundle's signature bytes) against the
/// trust material's timestamp authorities.
///
/// # Errors
/// [`TimestampError`] naming the first failed check.
pub(crate) fn verify_timestamp(
    der: &[u8],
    signature: &[u8],
    trust: &TrustMaterial,
) -> Result<VerifiedTimestamp, TimestampError> {
    let tok = parse_response(der)?;

    let imprint_hash = hash_algorithm(&tok.imprint_algorithm)?;
    if imprint_hash.hash(signature) != tok.imprint {
        return Err(TimestampError::ImprintMismatch {
            algorithm: format!("{imprint_hash:?}"),
        });
    }
    if tok.content_type_attr.as_deref() != Some(OID_CT_TST_INFO) {
        return Err(malformed(format!(
            "the contentType signed attribute is {:?}, expected id-ct-TSTInfo",
            tok.content_type_attr
        )));
    }
    let digest_hash = hash_algorithm(&tok.digest_algorithm)?;
    let md = tok
        .message_digest_attr
        .ok_or_else(|| malformed("the SignerInfo has no messageDigest attribute"))?;
    if digest_hash.hash(tok.tst_info) != md {
        return Err(TimestampError::ContentDigestMismatch);
    }

    if trust.tsas.is_empty() {
        return Err(TimestampError::NoAuthorities);
    }
    let names_signer = |t: &&TimestampAuthority| match tok.sid {
        SignerId::IssuerSerial { issuer, serial } => {
            t.leaf_issuer_der == issuer && t.leaf_serial == serial
        }
        SignerId::KeyId(kid) => t.leaf_key_id.as_deref() == Some(kid),
    };
    // Like sigstore-python, every trusted TSA that names the signer is tried (a TSA can be
    // listed twice with different validFor windows); the first that verifies wins, else the
    // first error is reported.
    let mut first_error = None;
    for tsa in trust.tsas.iter().filter(names_signer) {
        match verify_with(tsa, &tok) {
            Ok(v) => return Ok(v),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(
        first_error.unwrap_or_else(|| TimestampError::UnknownAuthority {
            signer: match tok.sid {
                SignerId::IssuerSerial { issuer, serial } => {
                    let name = x509_parser::x509::X509Name::from_der(issuer)
                        .map_or_else(|_| hex::encode(issuer), |(_, n)| n.to_string());
                    format!("{name}, serial {}", hex::encode(serial))
                }
                SignerId::KeyId(kid) => format!("key id {}", hex::encode(kid)),
            },
        }),
    )
}

/// The checks of one token against one trusted TSA that its `sid` names: embedded
/// certificate, signature, and `genTime` within the chain's validity and the TSA's `validFor`.
fn verify_with(
    tsa: &TimestampAuthority,
    tok: &ParsedToken<'_>,
) -> Result<VerifiedTimestamp, TimestampError> {
    // rfc3161-client `_verify_leaf_certs`: an embedded (first) certificate must be the
    // trusted TSA leaf itself.
    if let Some(embedded) = tok.first_certificate {
        if embedded != tsa.leaf_der.as_slice() {
            return Err(TimestampError::EmbeddedCertificateMismatch {
                tsa: tsa.subject.clone(),
            });
        }
    }
    verify_signer(tsa, tok).map_err(|reason| TimestampError::BadSignature {
        tsa: tsa.subject.clone(),
        reason,
    })?;

    let (t, nanos) = tok.gen_time;
    let outside = |what: &str, w: &crate::trust::Window| TimestampError::OutsideValidity {
        what: format!("{what} ({})", tsa.subject),
        time: t,
        start: w.describe_start(),
        end: w.describe_end(),
    };
    if !tsa.chain_validity.contains_at(t, nanos) {
        return Err(outside("TSA certificate chain", &tsa.chain_validity));
    }
    // validFor is closed, [start, end] (protobuf-specs TimeRange): genTime equal to the end
    // is inside.
    if !tsa.valid_for.contains_at(t, nanos) {
        return Err(outside("TSA validFor", &tsa.valid_for));
    }
    Ok(VerifiedTimestamp {
        gen_time: t,
        gen_time_nanos: nanos,
        tsa_index: tsa.index,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{days_from_civil, generalized_time, parse_response, small_uint};
    use crate::error::TimestampError;

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
                Err(TimestampError::Malformed { reason }) => {
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
}
