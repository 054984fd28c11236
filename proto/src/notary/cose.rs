//! The COSE envelope (`signature-envelope-cose.md`): a `COSE_Sign1_Tagged` (RFC 9052, tag 18)
//! decoded with `coset`.
//!
//! Protected header: label 1 `alg`, label 2 `crit` (text labels), label 3 content type, and
//! the Notary headers as text labels, times as tag 1 epoch integers. Unprotected header: label
//! 33 `x5chain` (an array of DER byte strings, or one byte string), the
//! `io.cncf.notary.timestampSignature` byte string and the `io.cncf.notary.signingAgent`
//! text. The payload is attached (a detached payload is refused). The signed bytes are the
//! `Sig_structure` `["Signature1", protected bytes as received, h'', payload]`, built from the
//! protected header's original encoding.

use coset::cbor::value::Value;
use coset::iana::EnumI64;
use coset::{
    Algorithm, ContentType, CoseSign1, Header, Label, RegisteredLabelWithPrivate,
    TaggedCborSerializable,
};

use super::{
    parse_payload, CommonHeaders, Envelope, EnvelopeError, EnvelopeFormat, SignatureAlgorithm,
    HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY, HEADER_SIGNING_AGENT, HEADER_SIGNING_SCHEME,
    HEADER_SIGNING_TIME, HEADER_TIMESTAMP_SIGNATURE, MAX_ENVELOPE_BYTES,
};

const FORMAT: EnvelopeFormat = EnvelopeFormat::Cose;
/// `x5chain` (RFC 9360).
const X5CHAIN: i64 = 33;

fn malformed(reason: impl Into<String>) -> EnvelopeError {
    EnvelopeError::Malformed {
        format: FORMAT,
        reason: reason.into(),
    }
}

/// An epoch date/time: tag 1 around an integer (RFC 8949 §3.4.2).
fn epoch(name: &'static str, v: &Value) -> Result<i64, EnvelopeError> {
    match v {
        Value::Tag(1, inner) => match inner.as_ref() {
            Value::Integer(i) => i64::try_from(*i).map_err(|_| EnvelopeError::Time {
                name,
                reason: "is out of range".to_owned(),
            }),
            _ => Err(EnvelopeError::Time {
                name,
                reason: "is not an integer number of seconds (tag 1)".to_owned(),
            }),
        },
        _ => Err(EnvelopeError::Time {
            name,
            reason: "is not a tag 1 epoch date/time".to_owned(),
        }),
    }
}

fn text(name: &str, v: &Value) -> Result<String, EnvelopeError> {
    v.as_text()
        .map(str::to_owned)
        .ok_or_else(|| malformed(format!("header {name:?} is not a text string")))
}

fn certificates(v: &Value) -> Result<Vec<Vec<u8>>, EnvelopeError> {
    match v {
        Value::Bytes(b) => Ok(vec![b.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.as_bytes()
                    .cloned()
                    .ok_or_else(|| malformed(format!("x5chain[{i}] is not a byte string")))
            })
            .collect(),
        _ => Err(malformed("x5chain is neither a byte string nor an array")),
    }
}

fn find<'a>(h: &'a Header, name: &str) -> Option<&'a Value> {
    h.rest.iter().find_map(|(l, v)| match l {
        Label::Text(t) if t == name => Some(v),
        _ => None,
    })
}

/// Parses a COSE envelope.
///
/// # Errors
/// [`EnvelopeError`] naming the first rule broken.
pub fn parse(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    if bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(EnvelopeError::TooLarge {
            format: FORMAT,
            size: bytes.len(),
            max: MAX_ENVELOPE_BYTES,
        });
    }
    let sign1 = CoseSign1::from_tagged_slice(bytes)
        .map_err(|e| malformed(format!("not a COSE_Sign1_Tagged: {e}")))?;
    let p = &sign1.protected.header;
    if sign1.protected.original_data.is_none() {
        return Err(malformed("the protected header is empty"));
    }
    let alg = match &p.alg {
        None => {
            return Err(EnvelopeError::MissingHeader {
                format: FORMAT,
                name: "alg (label 1)",
            })
        }
        Some(Algorithm::Assigned(a)) => a.to_i64(),
        Some(Algorithm::PrivateUse(i)) => *i,
        Some(Algorithm::Text(t)) => {
            return Err(EnvelopeError::UnsupportedAlgorithm {
                format: FORMAT,
                alg: format!("{t:?}"),
            })
        }
    };
    let algorithm =
        SignatureAlgorithm::from_cose_id(alg).ok_or(EnvelopeError::UnsupportedAlgorithm {
            format: FORMAT,
            alg: alg.to_string(),
        })?;
    if !p.key_id.is_empty() || !p.iv.is_empty() || !p.partial_iv.is_empty() {
        return Err(malformed(
            "the protected header carries kid/IV parameters a Notary signature does not use",
        ));
    }
    let content_type = match &p.content_type {
        None => None,
        Some(ContentType::Text(t)) => Some(t.clone()),
        Some(ContentType::Assigned(a)) => Some(format!("CoAP content format {}", a.to_i64())),
    };
    let mut critical = Vec::new();
    for c in &p.crit {
        match c {
            RegisteredLabelWithPrivate::Text(t) => critical.push(t.clone()),
            other => {
                return Err(EnvelopeError::Critical {
                    format: FORMAT,
                    reason: format!(
                    "it lists the integer label {other:?}; only Notary text labels may be critical"
                ),
                })
            }
        }
    }
    let mut common = CommonHeaders {
        format: FORMAT,
        content_type,
        signing_scheme: None,
        signing_time: None,
        authentic_signing_time: None,
        expiry: None,
        critical: (!p.crit.is_empty()).then_some(critical),
        present: Vec::new(),
        extended: Vec::new(),
    };
    for (label, value) in &p.rest {
        let name = match label {
            Label::Text(t) => t.as_str(),
            Label::Int(X5CHAIN) => continue,
            Label::Int(i) => {
                return Err(malformed(format!(
                "the protected header has integer label {i}, which a Notary signature does not use"
            )))
            }
        };
        match name {
            HEADER_SIGNING_SCHEME => common.signing_scheme = Some(text(name, value)?),
            HEADER_SIGNING_TIME => common.signing_time = Some(epoch(HEADER_SIGNING_TIME, value)?),
            HEADER_AUTHENTIC_SIGNING_TIME => {
                common.authentic_signing_time = Some(epoch(HEADER_AUTHENTIC_SIGNING_TIME, value)?);
            }
            HEADER_EXPIRY => common.expiry = Some(epoch(HEADER_EXPIRY, value)?),
            other => common.extended.push(other.to_owned()),
        }
        common.present.push(name.to_owned());
    }
    let (signing_time, authentic_signing_time, expiry) = (
        common.signing_time,
        common.authentic_signing_time,
        common.expiry,
    );
    let (signing_scheme, critical, extended_attributes) = common.check()?;

    let u = &sign1.unprotected;
    let chain_value = u
        .rest
        .iter()
        .chain(p.rest.iter())
        .find_map(|(l, v)| (*l == Label::Int(X5CHAIN)).then_some(v));
    let certificate_chain = match chain_value {
        Some(v) => certificates(v)?,
        None => Vec::new(),
    };
    if certificate_chain.is_empty() {
        return Err(EnvelopeError::NoCertificates { format: FORMAT });
    }
    let timestamp_token = find(u, HEADER_TIMESTAMP_SIGNATURE)
        .map(|v| {
            v.as_bytes().cloned().ok_or_else(|| {
                malformed(format!("{HEADER_TIMESTAMP_SIGNATURE} is not a byte string"))
            })
        })
        .transpose()?;
    let signing_agent = find(u, HEADER_SIGNING_AGENT)
        .map(|v| text(HEADER_SIGNING_AGENT, v))
        .transpose()?;
    let payload_bytes = sign1
        .payload
        .clone()
        .ok_or_else(|| malformed("the payload is detached (nil); it must be in the envelope"))?;
    let payload = parse_payload(&payload_bytes)?;
    let signed_bytes = sign1.tbs_data(b"");
    // coset re-encodes the protected header only when it has no original bytes (checked
    // above), so the Sig_structure holds the bytes as signed.
    Ok(Envelope {
        format: FORMAT,
        algorithm,
        signing_scheme,
        signing_time,
        authentic_signing_time,
        expiry,
        critical,
        extended_attributes,
        payload_bytes,
        payload,
        signed_bytes,
        signature: sign1.signature,
        certificate_chain,
        timestamp_token,
        signing_agent,
    })
}
