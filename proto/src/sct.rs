//! RFC 6962 signed certificate timestamps (SCTs) and precertificates.
//!
//! Implements RFC 6962 §3.2 (the `SignedCertificateTimestamp` TLS structure and the
//! `digitally-signed` data a CT log signs for a `precert_entry`), §3.3 (the
//! `SignedCertificateTimestampList` carried, wrapped in a DER OCTET STRING, in the X.509
//! extension 1.3.6.1.4.1.11129.2.4.2), and the §3.1 precertificate TBS rule: the signed
//! TBSCertificate is the certificate's TBS with the poison (1.3.6.1.4.1.11129.2.4.3) and SCT
//! list extensions removed. The TBS rewriting uses a small DER walker that re-encodes lengths;
//! it does not validate the rest of the certificate.
//!
//! It also holds the RFC 6962 §4.1 `add-pre-chain` JSON request/response types, so the CA and
//! the log share one definition.
//!
//! Not here: RFC 9162 (CT v2) SCTs, X.509 `x509_entry` SCTs, TLS-extension or OCSP SCT
//! delivery, and any notion of which logs to trust (that is the verifier's trust root).

use aws_lc_rs::digest;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::keys::{EcdsaSigner, KeyAlgorithm, PublicKey};

/// Dotted OID of the embedded SCT list extension (RFC 6962 §3.3).
pub const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
/// Dotted OID of the precertificate poison extension (RFC 6962 §3.1).
pub const OID_PRECERT_POISON: &str = "1.3.6.1.4.1.11129.2.4.3";
/// DER content of the poison extension's value: ASN.1 NULL.
pub const PRECERT_POISON_VALUE: [u8; 2] = [0x05, 0x00];

/// TLS `HashAlgorithm` value for SHA-256 (RFC 5246 §7.4.1.4.1).
pub const HASH_SHA256: u8 = 4;
/// TLS `HashAlgorithm` value for SHA-384.
pub const HASH_SHA384: u8 = 5;
/// TLS `HashAlgorithm` value for SHA-512.
pub const HASH_SHA512: u8 = 6;
/// TLS `SignatureAlgorithm` value for RSA (PKCS#1 v1.5).
pub const SIG_RSA: u8 = 1;
/// TLS `SignatureAlgorithm` value for ECDSA.
pub const SIG_ECDSA: u8 = 3;
/// TLS 1.3 `SignatureScheme` low byte used for Ed25519 (0x0807), as Sigstore clients accept it.
pub const SIG_ED25519: u8 = 7;
/// TLS `HashAlgorithm` byte paired with [`SIG_ED25519`] (0x0807 high byte "intrinsic").
pub const HASH_INTRINSIC: u8 = 8;

/// SCT version v1 (the only one defined by RFC 6962).
pub const SCT_VERSION_V1: u8 = 0;

/// Errors from SCT encoding, decoding and verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SctError {
    /// The input ended before a structure was complete.
    #[error("truncated {what}: need {need} more bytes")]
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// How many bytes were missing.
        need: usize,
    },
    /// Bytes were left over after a complete structure.
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes {
        /// The structure that was read.
        what: &'static str,
        /// Number of unexpected bytes.
        count: usize,
    },
    /// An SCT had a version other than v1.
    #[error("unsupported SCT version {version}")]
    UnsupportedVersion {
        /// The version byte.
        version: u8,
    },
    /// A length does not fit the TLS field it goes into.
    #[error("{what} too long: {len} bytes")]
    TooLong {
        /// The field.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// Malformed DER.
    #[error("malformed DER: {reason}")]
    Der {
        /// What went wrong.
        reason: &'static str,
    },
    /// An OID given as a dotted string could not be encoded.
    #[error("invalid OID {oid:?}")]
    InvalidOid {
        /// The offending text.
        oid: String,
    },
    /// Base64 in an RFC 6962 JSON response did not decode.
    #[error("invalid base64 in field {field}")]
    Base64 {
        /// The JSON field.
        field: &'static str,
    },
    /// The log ID in the JSON response is not 32 bytes.
    #[error("log id is {len} bytes, expected 32")]
    LogIdLength {
        /// The decoded length.
        len: usize,
    },
    /// The certificate carries no SCT list extension.
    #[error("certificate has no embedded SCT list")]
    NoSctList,
    /// No SCT in the list was issued by the given log.
    #[error("no SCT from log {log_id}")]
    NoSctFromLog {
        /// Hex log ID that was looked for.
        log_id: String,
    },
    /// The SCT's algorithms do not match the log key.
    #[error("SCT algorithms hash={hash_alg} sig={sig_alg} do not match the log key ({key})")]
    AlgorithmMismatch {
        /// TLS hash algorithm byte.
        hash_alg: u8,
        /// TLS signature algorithm byte.
        sig_alg: u8,
        /// The log key's algorithm.
        key: String,
    },
    /// The SCT signature does not verify.
    #[error("SCT signature does not verify")]
    BadSignature,
    /// Signing failed.
    #[error("SCT signing failed")]
    SigningFailed,
}

/// RFC 5246 `DigitallySigned`: algorithms plus an opaque signature (ASN.1 DER for ECDSA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitallySigned {
    /// TLS `HashAlgorithm` (4 = SHA-256).
    pub hash_alg: u8,
    /// TLS `SignatureAlgorithm` (3 = ECDSA).
    pub sig_alg: u8,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

impl DigitallySigned {
    /// TLS encoding: `hash_alg || sig_alg || u16 length || signature`.
    ///
    /// # Errors
    /// [`SctError::TooLong`] if the signature exceeds 65535 bytes.
    pub fn encode(&self) -> Result<Vec<u8>, SctError> {
        let mut out = Vec::with_capacity(4 + self.signature.len());
        out.push(self.hash_alg);
        out.push(self.sig_alg);
        put_u16_prefixed(&mut out, &self.signature, "signature")?;
        Ok(out)
    }

    /// Decodes the TLS encoding, rejecting trailing bytes.
    ///
    /// # Errors
    /// [`SctError::Truncated`] or [`SctError::TrailingBytes`].
    pub fn decode(bytes: &[u8]) -> Result<Self, SctError> {
        let mut r = Reader::new(bytes);
        let ds = Self::read(&mut r)?;
        r.finish("DigitallySigned")?;
        Ok(ds)
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SctError> {
        let hash_alg = r.u8("DigitallySigned")?;
        let sig_alg = r.u8("DigitallySigned")?;
        let signature = r.u16_prefixed("signature")?.to_vec();
        Ok(Self {
            hash_alg,
            sig_alg,
            signature,
        })
    }
}

/// An RFC 6962 v1 `SignedCertificateTimestamp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sct {
    /// SHA-256 of the log's SPKI DER.
    pub log_id: [u8; 32],
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// `CtExtensions` (empty in practice).
    pub extensions: Vec<u8>,
    /// The log's signature over [`precert_signed_data`].
    pub signature: DigitallySigned,
}

impl Sct {
    /// TLS encoding of the SCT (version v1).
    ///
    /// # Errors
    /// [`SctError::TooLong`] if the extensions or signature exceed 65535 bytes.
    pub fn encode(&self) -> Result<Vec<u8>, SctError> {
        let mut out =
            Vec::with_capacity(47 + self.extensions.len() + self.signature.signature.len());
        out.push(SCT_VERSION_V1);
        out.extend_from_slice(&self.log_id);
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        put_u16_prefixed(&mut out, &self.extensions, "extensions")?;
        out.extend_from_slice(&self.signature.encode()?);
        Ok(out)
    }

    /// Decodes one TLS-encoded SCT, rejecting trailing bytes and versions other than v1.
    ///
    /// # Errors
    /// [`SctError::Truncated`], [`SctError::TrailingBytes`] or
    /// [`SctError::UnsupportedVersion`].
    pub fn decode(bytes: &[u8]) -> Result<Self, SctError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("SCT")?;
        if version != SCT_VERSION_V1 {
            return Err(SctError::UnsupportedVersion { version });
        }
        let mut log_id = [0u8; 32];
        log_id.copy_from_slice(r.take(32, "SCT log id")?);
        let mut ts = [0u8; 8];
        ts.copy_from_slice(r.take(8, "SCT timestamp")?);
        let extensions = r.u16_prefixed("SCT extensions")?.to_vec();
        let signature = DigitallySigned::read(&mut r)?;
        r.finish("SCT")?;
        Ok(Self {
            log_id,
            timestamp: u64::from_be_bytes(ts),
            extensions,
            signature,
        })
    }

    /// Verifies this SCT as a precert SCT for `tbs_der` (the TBS without poison/SCT
    /// extensions) issued by the CA whose SPKI hashes to `issuer_key_hash`.
    ///
    /// The log ID must equal `log_key.key_id()` and the algorithms must match the key
    /// (ECDSA P-256 + SHA-256, ECDSA P-384 + SHA-384, Ed25519, RSA + SHA-256).
    ///
    /// # Errors
    /// [`SctError::NoSctFromLog`], [`SctError::AlgorithmMismatch`] or
    /// [`SctError::BadSignature`].
    pub fn verify_precert(
        &self,
        log_key: &PublicKey,
        issuer_key_hash: &[u8; 32],
        tbs_der: &[u8],
    ) -> Result<(), SctError> {
        if self.log_id != log_key.key_id() {
            return Err(SctError::NoSctFromLog {
                log_id: hex::encode(log_key.key_id()),
            });
        }
        let ok = match log_key.algorithm() {
            KeyAlgorithm::EcdsaP256 => {
                (self.signature.hash_alg, self.signature.sig_alg) == (HASH_SHA256, SIG_ECDSA)
            }
            KeyAlgorithm::EcdsaP384 => {
                (self.signature.hash_alg, self.signature.sig_alg) == (HASH_SHA384, SIG_ECDSA)
            }
            KeyAlgorithm::Ed25519 => self.signature.sig_alg == SIG_ED25519,
            KeyAlgorithm::Rsa { .. } => {
                (self.signature.hash_alg, self.signature.sig_alg) == (HASH_SHA256, SIG_RSA)
            }
        };
        if !ok {
            return Err(SctError::AlgorithmMismatch {
                hash_alg: self.signature.hash_alg,
                sig_alg: self.signature.sig_alg,
                key: log_key.algorithm().to_string(),
            });
        }
        let data = precert_signed_data(self.timestamp, issuer_key_hash, tbs_der, &self.extensions)?;
        log_key
            .verify(&data, &self.signature.signature)
            .map_err(|_| SctError::BadSignature)
    }

    /// Converts to the RFC 6962 §4.1 JSON response shape.
    ///
    /// # Errors
    /// [`SctError::TooLong`] if the signature cannot be TLS-encoded.
    pub fn to_add_chain_response(&self) -> Result<AddChainResponse, SctError> {
        Ok(AddChainResponse {
            sct_version: SCT_VERSION_V1,
            id: B64.encode(self.log_id),
            timestamp: self.timestamp,
            extensions: B64.encode(&self.extensions),
            signature: B64.encode(self.signature.encode()?),
        })
    }

    /// Parses the RFC 6962 §4.1 JSON response shape.
    ///
    /// # Errors
    /// [`SctError::UnsupportedVersion`], [`SctError::Base64`], [`SctError::LogIdLength`] or a
    /// decoding error of the signature.
    pub fn from_add_chain_response(resp: &AddChainResponse) -> Result<Self, SctError> {
        if resp.sct_version != SCT_VERSION_V1 {
            return Err(SctError::UnsupportedVersion {
                version: resp.sct_version,
            });
        }
        let id = B64
            .decode(&resp.id)
            .map_err(|_| SctError::Base64 { field: "id" })?;
        let log_id: [u8; 32] = id
            .as_slice()
            .try_into()
            .map_err(|_| SctError::LogIdLength { len: id.len() })?;
        let extensions = B64.decode(&resp.extensions).map_err(|_| SctError::Base64 {
            field: "extensions",
        })?;
        let sig = B64
            .decode(&resp.signature)
            .map_err(|_| SctError::Base64 { field: "signature" })?;
        Ok(Self {
            log_id,
            timestamp: resp.timestamp,
            extensions,
            signature: DigitallySigned::decode(&sig)?,
        })
    }
}

/// RFC 6962 §4.1 `add-chain` / `add-pre-chain` request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddChainRequest {
    /// Base64 DER certificates: the (pre)certificate first, then its issuers up to a root.
    pub chain: Vec<String>,
}

/// RFC 6962 §4.1 `add-chain` / `add-pre-chain` response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddChainResponse {
    /// SCT version (0 = v1).
    pub sct_version: u8,
    /// Base64 log ID (SHA-256 of the log's SPKI).
    pub id: String,
    /// Milliseconds since the epoch.
    pub timestamp: u64,
    /// Base64 `CtExtensions`.
    pub extensions: String,
    /// Base64 TLS-encoded `DigitallySigned`.
    pub signature: String,
}

/// RFC 6962 §3.3 `SignedCertificateTimestampList`: `u16 total || (u16 len || SCT)*`.
///
/// # Errors
/// [`SctError::TooLong`] if an SCT or the list exceeds 65535 bytes.
pub fn encode_sct_list(scts: &[Sct]) -> Result<Vec<u8>, SctError> {
    let mut body = Vec::new();
    for sct in scts {
        put_u16_prefixed(&mut body, &sct.encode()?, "SCT")?;
    }
    let mut out = Vec::with_capacity(body.len() + 2);
    put_u16_prefixed(&mut out, &body, "SCT list")?;
    Ok(out)
}

/// Decodes a TLS `SignedCertificateTimestampList`.
///
/// # Errors
/// Any decoding error of the list or of an SCT in it.
pub fn decode_sct_list(bytes: &[u8]) -> Result<Vec<Sct>, SctError> {
    let mut r = Reader::new(bytes);
    let body = r.u16_prefixed("SCT list")?;
    r.finish("SCT list")?;
    let mut inner = Reader::new(body);
    let mut out = Vec::new();
    while !inner.is_empty() {
        out.push(Sct::decode(inner.u16_prefixed("SCT")?)?);
    }
    Ok(out)
}

/// The X.509 extension value (DER OCTET STRING wrapping the TLS list) for
/// [`OID_SCT_LIST`].
///
/// # Errors
/// As [`encode_sct_list`].
pub fn encode_sct_list_extension(scts: &[Sct]) -> Result<Vec<u8>, SctError> {
    let list = encode_sct_list(scts)?;
    let mut out = Vec::with_capacity(list.len() + 4);
    out.push(0x04);
    push_der_len(&mut out, list.len());
    out.extend_from_slice(&list);
    Ok(out)
}

/// Decodes the X.509 extension value of [`OID_SCT_LIST`] (OCTET STRING around the TLS list).
///
/// # Errors
/// [`SctError::Der`] if it is not one OCTET STRING, then as [`decode_sct_list`].
pub fn decode_sct_list_extension(value: &[u8]) -> Result<Vec<Sct>, SctError> {
    let (tlv, rest) = Tlv::parse(value)?;
    if !rest.is_empty() {
        return Err(SctError::TrailingBytes {
            what: "SCT list OCTET STRING",
            count: rest.len(),
        });
    }
    if tlv.tag != 0x04 {
        return Err(SctError::Der {
            reason: "SCT list extension is not an OCTET STRING",
        });
    }
    decode_sct_list(tlv.content)
}

/// The bytes a CT log signs for a precert SCT (RFC 6962 §3.2 `digitally-signed struct`):
/// `version(0) || signature_type(certificate_timestamp = 0) || u64 timestamp ||
/// entry_type(precert_entry = 1) || issuer_key_hash[32] || u24 len || tbs || u16 len || ext`.
///
/// # Errors
/// [`SctError::TooLong`] if the TBS exceeds 2^24-1 bytes or the extensions 65535 bytes.
pub fn precert_signed_data(
    timestamp: u64,
    issuer_key_hash: &[u8; 32],
    tbs_der: &[u8],
    extensions: &[u8],
) -> Result<Vec<u8>, SctError> {
    let mut out = Vec::with_capacity(52 + tbs_der.len() + extensions.len());
    out.push(SCT_VERSION_V1);
    out.push(0); // certificate_timestamp
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
    out.extend_from_slice(issuer_key_hash);
    let len = u32::try_from(tbs_der.len())
        .ok()
        .filter(|l| *l < (1 << 24))
        .ok_or(SctError::TooLong {
            what: "TBSCertificate",
            len: tbs_der.len(),
        })?;
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(tbs_der);
    put_u16_prefixed(&mut out, extensions, "extensions")?;
    Ok(out)
}

/// SHA-256 of the issuing CA's SPKI DER (`issuer_key_hash` in [`precert_signed_data`]).
#[must_use]
pub fn issuer_key_hash(issuer_spki_der: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, issuer_spki_der);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Signs a precert SCT with an ECDSA log key (the SCT's `log_id` is the key's ID).
///
/// # Errors
/// [`SctError::TooLong`] or [`SctError::SigningFailed`].
pub fn sign_precert_sct(
    signer: &EcdsaSigner,
    timestamp: u64,
    issuer_key_hash: &[u8; 32],
    tbs_der: &[u8],
    extensions: &[u8],
) -> Result<Sct, SctError> {
    let data = precert_signed_data(timestamp, issuer_key_hash, tbs_der, extensions)?;
    let signature = signer.sign(&data).map_err(|_| SctError::SigningFailed)?;
    let hash_alg = match signer.public_key().algorithm() {
        KeyAlgorithm::EcdsaP384 => HASH_SHA384,
        _ => HASH_SHA256,
    };
    Ok(Sct {
        log_id: signer.public_key().key_id(),
        timestamp,
        extensions: extensions.to_vec(),
        signature: DigitallySigned {
            hash_alg,
            sig_alg: SIG_ECDSA,
            signature,
        },
    })
}

/// One X.509 extension as found in a certificate (borrowed from the DER).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawExtension<'a> {
    /// DER content octets of the OID (no tag/length).
    pub oid: &'a [u8],
    /// The `critical` flag (DEFAULT FALSE).
    pub critical: bool,
    /// The content octets of `extnValue` (inside the OCTET STRING).
    pub value: &'a [u8],
}

/// Encodes a dotted OID (e.g. `"1.3.6.1.4.1.11129.2.4.2"`) as DER content octets.
///
/// # Errors
/// [`SctError::InvalidOid`] for malformed text or fewer than two arcs.
pub fn oid_to_der(dotted: &str) -> Result<Vec<u8>, SctError> {
    let bad = || SctError::InvalidOid {
        oid: dotted.to_owned(),
    };
    let arcs = dotted
        .split('.')
        .map(|a| a.parse::<u64>().map_err(|_| bad()))
        .collect::<Result<Vec<_>, _>>()?;
    if arcs.len() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) {
        return Err(bad());
    }
    let first = arcs[0]
        .checked_mul(40)
        .and_then(|v| v.checked_add(arcs[1]))
        .ok_or_else(bad)?;
    let mut out = Vec::new();
    for arc in std::iter::once(first).chain(arcs[2..].iter().copied()) {
        let mut groups = Vec::new();
        let mut v = arc;
        loop {
            groups.push(low7(v));
            v >>= 7;
            if v == 0 {
                break;
            }
        }
        for (i, g) in groups.iter().enumerate().rev() {
            out.push(if i == 0 { *g } else { g | 0x80 });
        }
    }
    Ok(out)
}

fn low7(v: u64) -> u8 {
    // The mask keeps the value below 128, so the conversion cannot fail.
    u8::try_from(v & 0x7f).unwrap_or(0)
}

/// Lists the extensions of a DER certificate (`Certificate` or bare `TBSCertificate`).
///
/// # Errors
/// [`SctError::Der`] if the structure is malformed.
pub fn certificate_extensions(cert_der: &[u8]) -> Result<Vec<RawExtension<'_>>, SctError> {
    let tbs = tbs_of(cert_der)?;
    let mut out = Vec::new();
    let mut rest = tbs.content;
    while !rest.is_empty() {
        let (field, r) = Tlv::parse(rest)?;
        rest = r;
        if field.tag == 0xa3 {
            let (seq, trailing) = Tlv::parse(field.content)?;
            if seq.tag != 0x30 || !trailing.is_empty() {
                return Err(SctError::Der {
                    reason: "extensions are not one SEQUENCE",
                });
            }
            let mut exts = seq.content;
            while !exts.is_empty() {
                let (ext, r) = Tlv::parse(exts)?;
                exts = r;
                out.push(parse_extension(&ext)?);
            }
        }
    }
    Ok(out)
}

fn parse_extension<'a>(ext: &Tlv<'a>) -> Result<RawExtension<'a>, SctError> {
    if ext.tag != 0x30 {
        return Err(SctError::Der {
            reason: "extension is not a SEQUENCE",
        });
    }
    let (oid, rest) = Tlv::parse(ext.content)?;
    if oid.tag != 0x06 {
        return Err(SctError::Der {
            reason: "extension does not start with an OID",
        });
    }
    let (mut next, mut rest) = Tlv::parse(rest)?;
    let mut critical = false;
    if next.tag == 0x01 {
        critical = next.content == [0xff];
        (next, rest) = Tlv::parse(rest)?;
    }
    if next.tag != 0x04 || !rest.is_empty() {
        return Err(SctError::Der {
            reason: "extension value is not one OCTET STRING",
        });
    }
    Ok(RawExtension {
        oid: oid.content,
        critical,
        value: next.content,
    })
}

fn tbs_of(cert_der: &[u8]) -> Result<Tlv<'_>, SctError> {
    let (outer, rest) = Tlv::parse(cert_der)?;
    if outer.tag != 0x30 || !rest.is_empty() {
        return Err(SctError::Der {
            reason: "certificate is not one SEQUENCE",
        });
    }
    let (first, _) = Tlv::parse(outer.content)?;
    // A full Certificate starts with the TBS SEQUENCE; a bare TBS starts with [0] version
    // or the serial INTEGER. Whatever is taken as the TBS must start that way, so that a
    // rewritten TBS is read as a TBS again (never as a certificate).
    let tbs = if first.tag == 0x30 { first } else { outer };
    match Tlv::parse(tbs.content) {
        Ok((field, _)) if field.tag == 0xa0 || field.tag == 0x02 => Ok(tbs),
        _ => Err(SctError::Der {
            reason: "TBSCertificate does not start with a version or serial number",
        }),
    }
}

/// Re-encodes the TBSCertificate of `cert_der` (a `Certificate` or a bare `TBSCertificate`)
/// without the extensions whose dotted OIDs are listed; lengths are re-encoded in DER.
/// If no extension remains, the `[3] extensions` field is dropped.
///
/// For precert SCTs, remove [`OID_PRECERT_POISON`] and [`OID_SCT_LIST`].
///
/// # Errors
/// [`SctError::Der`] for malformed input, [`SctError::InvalidOid`] for bad OID text.
pub fn tbs_without_extensions(cert_der: &[u8], remove: &[&str]) -> Result<Vec<u8>, SctError> {
    let remove = remove
        .iter()
        .map(|o| oid_to_der(o))
        .collect::<Result<Vec<_>, _>>()?;
    let tbs = tbs_of(cert_der)?;
    if tbs.tag != 0x30 {
        return Err(SctError::Der {
            reason: "TBSCertificate is not a SEQUENCE",
        });
    }
    let mut body = Vec::with_capacity(tbs.content.len());
    let mut rest = tbs.content;
    while !rest.is_empty() {
        let (field, r) = Tlv::parse(rest)?;
        rest = r;
        if field.tag != 0xa3 {
            body.extend_from_slice(field.raw);
            continue;
        }
        let (seq, trailing) = Tlv::parse(field.content)?;
        if seq.tag != 0x30 || !trailing.is_empty() {
            return Err(SctError::Der {
                reason: "extensions are not one SEQUENCE",
            });
        }
        let mut kept = Vec::with_capacity(seq.content.len());
        let mut exts = seq.content;
        while !exts.is_empty() {
            let (ext, r) = Tlv::parse(exts)?;
            exts = r;
            let parsed = parse_extension(&ext)?;
            if !remove.iter().any(|o| o.as_slice() == parsed.oid) {
                kept.extend_from_slice(ext.raw);
            }
        }
        if !kept.is_empty() {
            let mut seq_enc = Vec::with_capacity(kept.len() + 4);
            seq_enc.push(0x30);
            push_der_len(&mut seq_enc, kept.len());
            seq_enc.extend_from_slice(&kept);
            body.push(0xa3);
            push_der_len(&mut body, seq_enc.len());
            body.extend_from_slice(&seq_enc);
        }
    }
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(0x30);
    push_der_len(&mut out, body.len());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Verifies the embedded SCT of `leaf_der` issued by `ct_log_key`, for a leaf issued by the CA
/// whose SPKI DER is `issuer_spki_der`. Returns the verified SCT.
///
/// # Errors
/// [`SctError::NoSctList`], [`SctError::NoSctFromLog`], decoding errors, or the errors of
/// [`Sct::verify_precert`].
pub fn verify_embedded_sct(
    leaf_der: &[u8],
    issuer_spki_der: &[u8],
    ct_log_key: &PublicKey,
) -> Result<Sct, SctError> {
    let sct_oid = oid_to_der(OID_SCT_LIST)?;
    let exts = certificate_extensions(leaf_der)?;
    let ext = exts
        .iter()
        .find(|e| e.oid == sct_oid.as_slice())
        .ok_or(SctError::NoSctList)?;
    let scts = decode_sct_list_extension(ext.value)?;
    let log_id = ct_log_key.key_id();
    let sct = scts
        .into_iter()
        .find(|s| s.log_id == log_id)
        .ok_or_else(|| SctError::NoSctFromLog {
            log_id: hex::encode(log_id),
        })?;
    let tbs = tbs_without_extensions(leaf_der, &[OID_SCT_LIST, OID_PRECERT_POISON])?;
    sct.verify_precert(ct_log_key, &issuer_key_hash(issuer_spki_der), &tbs)?;
    Ok(sct)
}

// ---------------------------------------------------------------------------------------------
// TLS and DER helpers
// ---------------------------------------------------------------------------------------------

fn put_u16_prefixed(out: &mut Vec<u8>, data: &[u8], what: &'static str) -> Result<(), SctError> {
    let len = u16::try_from(data.len()).map_err(|_| SctError::TooLong {
        what,
        len: data.len(),
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
    Ok(())
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], SctError> {
        if self.buf.len() < n {
            return Err(SctError::Truncated {
                what,
                need: n - self.buf.len(),
            });
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, SctError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16_prefixed(&mut self, what: &'static str) -> Result<&'a [u8], SctError> {
        let l = self.take(2, what)?;
        let n = usize::from(u16::from_be_bytes([l[0], l[1]]));
        self.take(n, what)
    }

    fn finish(&self, what: &'static str) -> Result<(), SctError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(SctError::TrailingBytes {
                what,
                count: self.buf.len(),
            })
        }
    }
}

fn push_der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let n = bytes.len() - skip;
    out.push(0x80 | u8::try_from(n).unwrap_or(0));
    out.extend_from_slice(&bytes[skip..]);
}

/// One DER TLV (single-byte tags only, as in X.509 certificates).
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    fn parse(input: &'a [u8]) -> Result<(Self, &'a [u8]), SctError> {
        let der = |reason| SctError::Der { reason };
        let (&tag, rest) = input.split_first().ok_or(der("empty input"))?;
        if tag & 0x1f == 0x1f {
            return Err(der("multi-byte tags are not supported"));
        }
        let (&first, rest) = rest.split_first().ok_or(der("missing length"))?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err(der("unsupported length form"));
            }
            if rest.len() < n {
                return Err(der("truncated length"));
            }
            let (lb, rest) = rest.split_at(n);
            if lb[0] == 0 {
                return Err(der("non-minimal length"));
            }
            let len = lb
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return Err(der("non-minimal length"));
            }
            (len, rest)
        };
        if rest.len() < len {
            return Err(der("truncated content"));
        }
        let (content, after) = rest.split_at(len);
        let raw_len = input.len() - after.len();
        Ok((
            Self {
                tag,
                content,
                raw: &input[..raw_len],
            },
            after,
        ))
    }
}
