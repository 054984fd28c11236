//! The JWS envelope (`signature-envelope-jws.md`): RFC 7515 JSON serialization, flattened,
//! with exactly the members `payload`, `protected`, `header` and `signature`.
//!
//! The protected header is base64url (unpadded) JSON with `alg`, `cty`, `crit` and the Notary
//! headers (times in RFC 3339); a header name appearing twice is refused (JSON parsers differ
//! on which copy wins). The unprotected `header` carries `x5c` (standard base64 DER),
//! `io.cncf.notary.timestampSignature` (standard base64 `TimeStampToken`) and
//! `io.cncf.notary.signingAgent`; other unprotected members are unsigned and ignored.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::{
    parse_payload, CommonHeaders, Envelope, EnvelopeError, EnvelopeFormat, SignatureAlgorithm,
    HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY, HEADER_SIGNING_SCHEME, HEADER_SIGNING_TIME,
    HEADER_TIMESTAMP_SIGNATURE, MAX_ENVELOPE_BYTES,
};

const FORMAT: EnvelopeFormat = EnvelopeFormat::Jws;

/// The JWS registered header names (RFC 7515 §4.1), which `crit` must not list.
const REGISTERED: &[&str] = &[
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Flattened {
    payload: String,
    protected: String,
    header: Unprotected,
    signature: String,
}

#[derive(Deserialize)]
struct Unprotected {
    #[serde(default)]
    x5c: Option<Vec<String>>,
    #[serde(rename = "io.cncf.notary.timestampSignature", default)]
    timestamp: Option<String>,
    #[serde(rename = "io.cncf.notary.signingAgent", default)]
    signing_agent: Option<String>,
}

/// A JSON object read as its members in order, duplicates kept (so they can be refused).
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn malformed(reason: impl Into<String>) -> EnvelopeError {
    EnvelopeError::Malformed {
        format: FORMAT,
        reason: reason.into(),
    }
}

fn b64url(field: &str, s: &str) -> Result<Vec<u8>, EnvelopeError> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| malformed(format!("{field} is not unpadded base64url: {e}")))
}

fn rfc3339(name: &'static str, v: &Value) -> Result<i64, EnvelopeError> {
    let s = v.as_str().ok_or_else(|| EnvelopeError::Time {
        name,
        reason: "is not a string".to_owned(),
    })?;
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(time::OffsetDateTime::unix_timestamp)
        .map_err(|e| EnvelopeError::Time {
            name,
            reason: format!("{s:?} is not an RFC 3339 date-time: {e}"),
        })
}

/// Parses a JWS envelope.
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
    let env: Flattened = crate::json::from_slice(bytes)
        .map_err(|e| malformed(format!("not a flattened JWS: {e}")))?;
    let protected_raw = b64url("protected", &env.protected)?;
    let payload_bytes = b64url("payload", &env.payload)?;
    let signature = b64url("signature", &env.signature)?;
    let Members(members) = crate::json::from_slice(&protected_raw)
        .map_err(|e| malformed(format!("the protected header is not a JSON object: {e}")))?;

    let mut alg = None;
    let mut common = CommonHeaders {
        format: FORMAT,
        content_type: None,
        signing_scheme: None,
        signing_time: None,
        authentic_signing_time: None,
        expiry: None,
        critical: None,
        present: Vec::new(),
        extended: Vec::new(),
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &members {
        if seen.contains(&name.as_str()) {
            return Err(malformed(format!(
                "the protected header has {name:?} twice"
            )));
        }
        seen.push(name);
        let text = |v: &Value| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| malformed(format!("protected header {name:?} is not a string")))
        };
        match name.as_str() {
            "alg" => alg = Some(text(value)?),
            "cty" => common.content_type = Some(text(value)?),
            "crit" => {
                let list = value
                    .as_array()
                    .ok_or_else(|| malformed("crit is not an array"))?
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| malformed("crit holds a value that is not a string"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if let Some(r) = list.iter().find(|c| REGISTERED.contains(&c.as_str())) {
                    return Err(EnvelopeError::Critical {
                        format: FORMAT,
                        reason: format!("it lists the registered JWS header {r:?}"),
                    });
                }
                common.critical = Some(list);
            }
            HEADER_SIGNING_SCHEME => common.signing_scheme = Some(text(value)?),
            HEADER_SIGNING_TIME => common.signing_time = Some(rfc3339(HEADER_SIGNING_TIME, value)?),
            HEADER_AUTHENTIC_SIGNING_TIME => {
                common.authentic_signing_time =
                    Some(rfc3339(HEADER_AUTHENTIC_SIGNING_TIME, value)?);
            }
            HEADER_EXPIRY => common.expiry = Some(rfc3339(HEADER_EXPIRY, value)?),
            other if REGISTERED.contains(&other) => {}
            other => common.extended.push(other.to_owned()),
        }
        if !REGISTERED.contains(&name.as_str()) {
            common.present.push(name.clone());
        }
    }
    let alg = alg.ok_or(EnvelopeError::MissingHeader {
        format: FORMAT,
        name: "alg",
    })?;
    let algorithm = SignatureAlgorithm::from_jws_name(&alg).ok_or_else(|| {
        EnvelopeError::UnsupportedAlgorithm {
            format: FORMAT,
            alg: alg.clone(),
        }
    })?;
    let (signing_time, authentic_signing_time, expiry) = (
        common.signing_time,
        common.authentic_signing_time,
        common.expiry,
    );
    let (signing_scheme, critical, extended_attributes) = common.check()?;

    let x5c = env.header.x5c.unwrap_or_default();
    if x5c.is_empty() {
        return Err(EnvelopeError::NoCertificates { format: FORMAT });
    }
    let certificate_chain = x5c
        .iter()
        .enumerate()
        .map(|(i, c)| {
            STANDARD
                .decode(c)
                .map_err(|e| malformed(format!("x5c[{i}] is not base64: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let timestamp_token = env
        .header
        .timestamp
        .map(|t| {
            STANDARD
                .decode(t)
                .map_err(|e| malformed(format!("{HEADER_TIMESTAMP_SIGNATURE} is not base64: {e}")))
        })
        .transpose()?;
    let payload = parse_payload(&payload_bytes)?;
    let mut signed_bytes = Vec::with_capacity(env.protected.len() + 1 + env.payload.len());
    signed_bytes.extend_from_slice(env.protected.as_bytes());
    signed_bytes.push(b'.');
    signed_bytes.extend_from_slice(env.payload.as_bytes());
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
        signature,
        certificate_chain,
        timestamp_token,
        signing_agent: env.header.signing_agent,
    })
}
