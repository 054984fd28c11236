//! Rekor v2 entry bodies: `hashedrekord` 0.0.2, in the JSON form of protobuf-specs
//! `rekor/v2/entry.proto` (rekor-tiles writes the canonicalized body of a bundle's tlog entry
//! this way).
//!
//! Spec: protobuf-specs `protos/sigstore_rekor/v2/{entry,hashedrekord,verifier}.proto` and the
//! protobuf JSON mapping (field names in lowerCamelCase, `bytes` as base64). The body is
//! `{"apiVersion": "0.0.2", "kind": "hashedrekord", "spec": {"hashedRekordV002": {"data":
//! HashOutput, "signature": {"content": bytes, "verifier": Verifier}}}}`.
//!
//! [`parse_hashedrekord_v002`] refuses unknown fields everywhere, any other `kind` or
//! `apiVersion`, and the `dsseV002` spec (sigstore-python 4.x rejects it too). The `bytes`
//! fields are kept as their JSON text and decoded on demand ([`decode_bytes`], which accepts
//! what protobuf JSON parsers accept: standard or URL-safe base64, padded or not), so that a
//! verifier can compare the fields in the order it chooses.
//!
//! The write side: [`parse_create_entry_request`] reads the body of rekor-tiles'
//! `POST /api/v2/log/entries` (`CreateEntryRequest` with `hashedRekordRequestV002`, in
//! protobuf JSON: lowerCamelCase or the proto field names, `bytes` in either base64
//! alphabet), and [`HashedRekordRequest::canonical_body`] writes the entry body rekor-tiles
//! stores for it (RFC 8785 JSON of the `Entry`, `bytes` re-encoded as padded standard base64,
//! `data.algorithm` from the key details). `dsseRequestV002` is refused with
//! [`RekorV2Error::DsseRequest`]: Rekor v2 records a DSSE envelope as a hashedrekord over its
//! pre-authentication encoding (rekor-tiles `CLIENTS.md`, what sigstore-python 4 and
//! sigstore-go send), and rekor-tiles refuses the dsse request too.
//!
//! Not here: what the fields must equal (the bundle's signature, digest and certificate: that
//! is `signet-verifier`), the signature check of a request (the log does it, with
//! [`crate::keys::PublicKey`]), Rekor v2 `dsse` 0.0.2 bodies.

use serde::{Deserialize, Serialize};

use crate::keys::{HashAlgorithm, KeyAlgorithm};

/// `kind` of a hashedrekord entry.
pub const KIND_HASHEDREKORD: &str = "hashedrekord";
/// The `apiVersion` of Rekor v2 entries.
pub const API_VERSION_0_0_2: &str = "0.0.2";

/// Why a Rekor v2 body was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RekorV2Error {
    /// The JSON does not match the `hashedrekord` 0.0.2 schema (unknown or missing field,
    /// wrong type, another spec).
    #[error("not a hashedrekord 0.0.2 body: {source}")]
    Json {
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// The body is well formed but of another kind or version.
    #[error("body is {kind} {api_version}, expected hashedrekord 0.0.2")]
    Kind {
        /// The `kind` found.
        kind: String,
        /// The `apiVersion` found.
        api_version: String,
    },
    /// A `bytes` field is not base64.
    #[error("{field} is not base64")]
    Base64 {
        /// The field, as a JSON path.
        field: &'static str,
    },
    /// A create-entry request is not JSON of the `CreateEntryRequest` schema.
    #[error("not a Rekor v2 CreateEntryRequest: {source}")]
    RequestJson {
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A create-entry request names two specs.
    #[error("the request has both hashedRekordRequestV002 and dsseRequestV002; give one")]
    TwoSpecs,
    /// A create-entry request names no spec.
    #[error("the request has no hashedRekordRequestV002")]
    NoSpec,
    /// A `dsseRequestV002`: not accepted (see the module documentation).
    #[error(
        "dsseRequestV002 is not accepted: this Rekor v2 log records a DSSE envelope as a \
         hashedRekordRequestV002 whose digest is the hash of the envelope's pre-authentication \
         encoding and whose signature is the envelope's signature (as sigstore-python 4 and \
         sigstore-go send it); or use the Rekor v1 log of the signing config"
    )]
    DsseRequest,
    /// A required field is missing or empty.
    #[error("{field} is missing or empty")]
    Missing {
        /// The field, as a JSON path.
        field: &'static str,
    },
    /// The verifier has both a public key and a certificate.
    #[error("verifier has both publicKey and x509Certificate; give one")]
    TwoVerifiers,
    /// `keyDetails` names no algorithm this log accepts.
    #[error(
        "keyDetails {name:?} is not accepted; accepted: PKIX_ECDSA_P256_SHA_256, \
         PKIX_ECDSA_P384_SHA_384, PKIX_RSA_PKCS1V15_{{2048,3072,4096}}_SHA256"
    )]
    KeyDetails {
        /// The value given.
        name: String,
    },
    /// The digest length does not fit the hash of `keyDetails`.
    #[error("digest is {actual} bytes; {key_details} signs a {expected}-byte digest")]
    DigestLength {
        /// The key details.
        key_details: &'static str,
        /// Expected length.
        expected: usize,
        /// Length given.
        actual: usize,
    },
}

/// The signing algorithms a Rekor v2 hashedrekord may state (`keyDetails`), each with the key
/// type it needs and the hash its signature is over: rekor-tiles' default allowlist
/// (`AllowedClientSigningAlgorithms`) less P-521 and Ed25519ph, which this crate's keys do
/// not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDetails {
    /// The protobuf `PublicKeyDetails` name.
    pub name: &'static str,
    /// The key type it needs.
    pub algorithm: KeyAlgorithm,
    /// The hash the signature is over (the `data.algorithm` recorded).
    pub hash: HashAlgorithm,
}

/// See [`KeyDetails`].
const ACCEPTED_KEY_DETAILS: [KeyDetails; 5] = [
    KeyDetails {
        name: "PKIX_ECDSA_P256_SHA_256",
        algorithm: KeyAlgorithm::EcdsaP256,
        hash: HashAlgorithm::Sha256,
    },
    KeyDetails {
        name: "PKIX_ECDSA_P384_SHA_384",
        algorithm: KeyAlgorithm::EcdsaP384,
        hash: HashAlgorithm::Sha384,
    },
    KeyDetails {
        name: "PKIX_RSA_PKCS1V15_2048_SHA256",
        algorithm: KeyAlgorithm::Rsa { bits: 2048 },
        hash: HashAlgorithm::Sha256,
    },
    KeyDetails {
        name: "PKIX_RSA_PKCS1V15_3072_SHA256",
        algorithm: KeyAlgorithm::Rsa { bits: 3072 },
        hash: HashAlgorithm::Sha256,
    },
    KeyDetails {
        name: "PKIX_RSA_PKCS1V15_4096_SHA256",
        algorithm: KeyAlgorithm::Rsa { bits: 4096 },
        hash: HashAlgorithm::Sha256,
    },
];

impl KeyDetails {
    /// The accepted algorithm named `name`.
    ///
    /// # Errors
    /// [`RekorV2Error::KeyDetails`] for any other name.
    pub fn from_name(name: &str) -> Result<Self, RekorV2Error> {
        ACCEPTED_KEY_DETAILS
            .iter()
            .find(|k| k.name == name)
            .copied()
            .ok_or_else(|| RekorV2Error::KeyDetails {
                name: name.to_owned(),
            })
    }

    /// The protobuf `HashAlgorithm` name of [`Self::hash`] (`SHA2_256`, ...).
    #[must_use]
    pub fn hash_name(&self) -> &'static str {
        self.hash.protobuf_name()
    }
}

/// What verifies a request's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifierKey {
    /// A PKIX public key (SPKI DER).
    PublicKey(Vec<u8>),
    /// An X.509 certificate (DER).
    Certificate(Vec<u8>),
}

/// A decoded `hashedRekordRequestV002` (see [`parse_create_entry_request`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedRekordRequest {
    /// The signed digest.
    pub digest: Vec<u8>,
    /// The signature over it.
    pub signature: Vec<u8>,
    /// The key or certificate.
    pub verifier: VerifierKey,
    /// The signing algorithm stated.
    pub key_details: KeyDetails,
}

impl HashedRekordRequest {
    /// The entry body rekor-tiles records for this request: the RFC 8785 JSON of `{"apiVersion":
    /// "0.0.2", "kind": "hashedrekord", "spec": {"hashedRekordV002": {"data": {"algorithm",
    /// "digest"}, "signature": {"content", "verifier": {"keyDetails", "publicKey" |
    /// "x509Certificate": {"rawBytes"}}}}}}`, every `bytes` field padded standard base64.
    #[must_use]
    pub fn canonical_body(&self) -> Vec<u8> {
        use base64::engine::general_purpose::STANDARD;
        use base64::Engine as _;
        // Written directly in RFC 8785 order (keys sorted, no whitespace). Every string is a
        // constant or standard base64, none needs escaping; the test
        // `canonical_body_is_the_jcs_of_the_entry` checks the bytes against
        // `jcs::canonicalize` of the `Entry` for both verifiers and every key type.
        let (field, der) = match &self.verifier {
            VerifierKey::PublicKey(der) => ("publicKey", der),
            VerifierKey::Certificate(der) => ("x509Certificate", der),
        };
        let b64_len = |n: usize| n.div_ceil(3) * 4;
        let mut out = String::with_capacity(
            200 + b64_len(self.digest.len()) + b64_len(self.signature.len()) + b64_len(der.len()),
        );
        out.push_str("{\"apiVersion\":\"");
        out.push_str(API_VERSION_0_0_2);
        out.push_str("\",\"kind\":\"");
        out.push_str(KIND_HASHEDREKORD);
        out.push_str("\",\"spec\":{\"hashedRekordV002\":{\"data\":{\"algorithm\":\"");
        out.push_str(self.key_details.hash_name());
        out.push_str("\",\"digest\":\"");
        STANDARD.encode_string(&self.digest, &mut out);
        out.push_str("\"},\"signature\":{\"content\":\"");
        STANDARD.encode_string(&self.signature, &mut out);
        out.push_str("\",\"verifier\":{\"keyDetails\":\"");
        out.push_str(self.key_details.name);
        out.push_str("\",\"");
        out.push_str(field);
        out.push_str("\":{\"rawBytes\":\"");
        STANDARD.encode_string(der, &mut out);
        out.push_str("\"}}}}}}");
        out.into_bytes()
    }

    /// [`Self::canonical_body`] through the `Entry` types and `jcs::canonicalize`: the
    /// reference the direct writer is tested against.
    #[cfg(test)]
    fn canonical_body_jcs(&self) -> Vec<u8> {
        use base64::engine::general_purpose::STANDARD;
        use base64::Engine as _;
        let raw = |der: &[u8]| RawBytes {
            raw_bytes: STANDARD.encode(der),
        };
        let (public_key, x509_certificate) = match &self.verifier {
            VerifierKey::PublicKey(der) => (Some(raw(der)), None),
            VerifierKey::Certificate(der) => (None, Some(raw(der))),
        };
        let entry = Entry {
            api_version: API_VERSION_0_0_2.to_owned(),
            kind: KIND_HASHEDREKORD.to_owned(),
            spec: Spec {
                hashed_rekord_v002: HashedRekordV002 {
                    data: HashOutput {
                        algorithm: self.key_details.hash_name().to_owned(),
                        digest: STANDARD.encode(&self.digest),
                    },
                    signature: Signature {
                        content: STANDARD.encode(&self.signature),
                        verifier: Verifier {
                            public_key,
                            x509_certificate,
                            key_details: self.key_details.name.to_owned(),
                        },
                    },
                },
            },
        };
        // Strings and objects only: canonicalization cannot fail.
        crate::jcs::canonicalize(&entry).unwrap_or_default()
    }
}

/// `CreateEntryRequest` as protobuf JSON: either field spelling.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateEntryRequestJson {
    #[serde(
        rename = "hashedRekordRequestV002",
        alias = "hashed_rekord_request_v002"
    )]
    hashed: Option<HashedRekordRequestJson>,
    #[serde(rename = "dsseRequestV002", alias = "dsse_request_v002")]
    dsse: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HashedRekordRequestJson {
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    signature: Option<SignatureJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureJson {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    verifier: Option<VerifierJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifierJson {
    #[serde(default, rename = "publicKey", alias = "public_key")]
    public_key: Option<RawBytesJson>,
    #[serde(default, rename = "x509Certificate", alias = "x509_certificate")]
    x509_certificate: Option<RawBytesJson>,
    #[serde(default, rename = "keyDetails", alias = "key_details")]
    key_details: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBytesJson {
    #[serde(default, rename = "rawBytes", alias = "raw_bytes")]
    raw_bytes: Option<String>,
}

/// Decodes a non-empty `bytes` field.
fn required(v: Option<&str>, field: &'static str) -> Result<Vec<u8>, RekorV2Error> {
    let bytes = decode_bytes(v.unwrap_or_default(), field)?;
    if bytes.is_empty() {
        return Err(RekorV2Error::Missing { field });
    }
    Ok(bytes)
}

/// Parses the body of `POST /api/v2/log/entries`: a `CreateEntryRequest` holding a
/// `hashedRekordRequestV002`, with every field present and decoded, and `keyDetails` one of
/// the accepted algorithms whose hash has the digest's length. The signature is not checked
/// here.
///
/// # Errors
/// [`RekorV2Error::RequestJson`] (not the schema), [`RekorV2Error::DsseRequest`],
/// [`RekorV2Error::NoSpec`], [`RekorV2Error::Missing`], [`RekorV2Error::Base64`],
/// [`RekorV2Error::TwoVerifiers`], [`RekorV2Error::KeyDetails`],
/// [`RekorV2Error::DigestLength`].
pub fn parse_create_entry_request(body: &[u8]) -> Result<HashedRekordRequest, RekorV2Error> {
    let req: CreateEntryRequestJson =
        crate::json::from_slice(body).map_err(|source| RekorV2Error::RequestJson { source })?;
    let hr = match (req.hashed, req.dsse) {
        (Some(_), Some(_)) => return Err(RekorV2Error::TwoSpecs),
        (None, Some(_)) => return Err(RekorV2Error::DsseRequest),
        (None, None) => return Err(RekorV2Error::NoSpec),
        (Some(hr), None) => hr,
    };
    let sig = hr
        .signature
        .ok_or(RekorV2Error::Missing { field: "signature" })?;
    let signature = required(sig.content.as_deref(), "signature.content")?;
    let v = sig.verifier.ok_or(RekorV2Error::Missing {
        field: "signature.verifier",
    })?;
    let digest = required(hr.digest.as_deref(), "digest")?;
    let verifier = match (v.public_key, v.x509_certificate) {
        (Some(_), Some(_)) => return Err(RekorV2Error::TwoVerifiers),
        (Some(k), None) => VerifierKey::PublicKey(required(
            k.raw_bytes.as_deref(),
            "signature.verifier.publicKey.rawBytes",
        )?),
        (None, Some(c)) => VerifierKey::Certificate(required(
            c.raw_bytes.as_deref(),
            "signature.verifier.x509Certificate.rawBytes",
        )?),
        (None, None) => {
            return Err(RekorV2Error::Missing {
                field: "signature.verifier.publicKey or x509Certificate",
            })
        }
    };
    let key_details = KeyDetails::from_name(v.key_details.as_deref().unwrap_or_default())?;
    if digest.len() != key_details.hash.output_len() {
        return Err(RekorV2Error::DigestLength {
            key_details: key_details.name,
            expected: key_details.hash.output_len(),
            actual: digest.len(),
        });
    }
    Ok(HashedRekordRequest {
        digest,
        signature,
        verifier,
        key_details,
    })
}

/// A Rekor v2 entry body (`rekor.v2.Entry`) with the `hashedRekordV002` spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Entry {
    /// `apiVersion` (`0.0.2`).
    pub api_version: String,
    /// `kind` (`hashedrekord`).
    pub kind: String,
    /// `spec`.
    pub spec: Spec,
}

/// `rekor.v2.Spec`: only `hashedRekordV002` is modelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    /// `hashedRekordV002`.
    pub hashed_rekord_v002: HashedRekordV002,
}

/// `rekor.v2.HashedRekordLogEntryV002`: a signature over a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HashedRekordV002 {
    /// The signed digest.
    pub data: HashOutput,
    /// The signature and its verifier.
    pub signature: Signature,
}

/// `HashOutput`: a protobuf `HashAlgorithm` name (`SHA2_256`, ...) and the base64 digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HashOutput {
    /// The protobuf `HashAlgorithm` enum name.
    pub algorithm: String,
    /// The digest, base64 (see [`Self::digest_bytes`]).
    pub digest: String,
}

impl HashOutput {
    /// The decoded digest.
    ///
    /// # Errors
    /// [`RekorV2Error::Base64`] if it is not base64.
    pub fn digest_bytes(&self) -> Result<Vec<u8>, RekorV2Error> {
        decode_bytes(&self.digest, "spec.hashedRekordV002.data.digest")
    }
}

/// `rekor.v2.Signature`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Signature {
    /// The signature, base64 (see [`Self::content_bytes`]).
    pub content: String,
    /// The key or certificate that verifies it.
    pub verifier: Verifier,
}

impl Signature {
    /// The decoded signature.
    ///
    /// # Errors
    /// [`RekorV2Error::Base64`] if it is not base64.
    pub fn content_bytes(&self) -> Result<Vec<u8>, RekorV2Error> {
        decode_bytes(&self.content, "spec.hashedRekordV002.signature.content")
    }
}

/// `rekor.v2.Verifier`: a public key or an X.509 certificate, with its key details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Verifier {
    /// `publicKey` (PKIX SPKI DER), in keyed mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<RawBytes>,
    /// `x509Certificate` (DER), in certificate mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate: Option<RawBytes>,
    /// The protobuf `PublicKeyDetails` enum name (see [`key_details`]).
    pub key_details: String,
}

impl Verifier {
    /// The decoded `x509Certificate.rawBytes`, when present.
    ///
    /// # Errors
    /// [`RekorV2Error::Base64`] if it is not base64.
    pub fn certificate_der(&self) -> Option<Result<Vec<u8>, RekorV2Error>> {
        self.x509_certificate
            .as_ref()
            .map(|c| decode_bytes(&c.raw_bytes, "verifier.x509Certificate.rawBytes"))
    }

    /// The decoded `publicKey.rawBytes`, when present.
    ///
    /// # Errors
    /// [`RekorV2Error::Base64`] if it is not base64.
    pub fn public_key_der(&self) -> Option<Result<Vec<u8>, RekorV2Error>> {
        self.public_key
            .as_ref()
            .map(|k| decode_bytes(&k.raw_bytes, "verifier.publicKey.rawBytes"))
    }
}

/// `{"rawBytes": bytes}` (`PublicKey`, `X509Certificate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawBytes {
    /// The DER, base64.
    pub raw_bytes: String,
}

/// Parses a Rekor v2 entry body that must be `hashedrekord` 0.0.2 and returns its spec.
///
/// # Errors
/// [`RekorV2Error::Json`] if it does not fit the schema, [`RekorV2Error::Kind`] if it is
/// another kind or version.
pub fn parse_hashedrekord_v002(body: &[u8]) -> Result<HashedRekordV002, RekorV2Error> {
    let e: Entry = crate::json::from_slice(body).map_err(|source| RekorV2Error::Json { source })?;
    if e.kind != KIND_HASHEDREKORD || e.api_version != API_VERSION_0_0_2 {
        return Err(RekorV2Error::Kind {
            kind: e.kind,
            api_version: e.api_version,
        });
    }
    Ok(e.spec.hashed_rekord_v002)
}

/// Protobuf JSON `bytes`: standard or URL-safe base64, padded or not. `field` names the field
/// in the error.
///
/// # Errors
/// [`RekorV2Error::Base64`] if `s` is none of these.
pub fn decode_bytes(s: &str, field: &'static str) -> Result<Vec<u8>, RekorV2Error> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
        .ok_or(RekorV2Error::Base64 { field })
}

/// The protobuf `PublicKeyDetails` name of a key algorithm, as a `verifier.keyDetails` states
/// it (sigstore-python's `_get_key_details`); algorithms without one give `unknown (...)`,
/// which no body carries.
#[must_use]
pub fn key_details(algorithm: KeyAlgorithm) -> String {
    match algorithm {
        KeyAlgorithm::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256".to_owned(),
        KeyAlgorithm::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384".to_owned(),
        KeyAlgorithm::Ed25519 => "PKIX_ED25519".to_owned(),
        KeyAlgorithm::Rsa { bits } => format!("PKIX_RSA_PKCS1V15_{bits}_SHA256"),
        // `KeyAlgorithm` is non-exhaustive: a key type added later has no name here yet.
        #[allow(unreachable_patterns)]
        other => format!("unknown ({other})"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn canonical_body_is_the_jcs_of_the_entry() {
        for kd in &ACCEPTED_KEY_DETAILS {
            for (n, verifier) in [
                VerifierKey::PublicKey(vec![0x30, 0x59, 0xfb, 0xff]),
                VerifierKey::Certificate((0..=255).collect()),
                VerifierKey::PublicKey(Vec::new()),
            ]
            .into_iter()
            .enumerate()
            {
                let req = HashedRekordRequest {
                    digest: vec![0xfe; kd.hash.output_len()],
                    signature: (0..70 + n)
                        .map(|i| u8::try_from(i % 256).unwrap())
                        .collect(),
                    verifier,
                    key_details: *kd,
                };
                let direct = req.canonical_body();
                assert_eq!(
                    String::from_utf8(direct.clone()).unwrap(),
                    String::from_utf8(req.canonical_body_jcs()).unwrap(),
                    "{}",
                    kd.name
                );
            }
        }
    }

    fn body(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut v = serde_json::json!({
            "apiVersion": "0.0.2",
            "kind": "hashedrekord",
            "spec": {"hashedRekordV002": {
                "data": {"algorithm": "SHA2_256", "digest": "qqqq"},
                "signature": {"content": "MEUC", "verifier": {
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "x509Certificate": {"rawBytes": "MIIB"}
                }}
            }}
        });
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn parses_and_decodes() {
        let h = parse_hashedrekord_v002(&body(|_| {})).unwrap();
        assert_eq!(h.data.algorithm, "SHA2_256");
        assert_eq!(h.data.digest_bytes().unwrap(), vec![0xaa; 3]);
        assert_eq!(h.signature.content_bytes().unwrap(), vec![0x30, 0x45, 0x02]);
        assert_eq!(
            h.signature.verifier.certificate_der().unwrap().unwrap(),
            vec![0x30, 0x82, 0x01]
        );
        assert!(h.signature.verifier.public_key_der().is_none());
        // The parsed entry serializes back to what parses to the same value.
        let e = Entry {
            api_version: API_VERSION_0_0_2.to_owned(),
            kind: KIND_HASHEDREKORD.to_owned(),
            spec: Spec {
                hashed_rekord_v002: h.clone(),
            },
        };
        let again = parse_hashedrekord_v002(&serde_json::to_vec(&e).unwrap()).unwrap();
        assert_eq!(again, h);
    }

    /// Protobuf JSON accepts both base64 alphabets, padded or not; anything else is a typed
    /// error naming the field.
    #[test]
    fn bytes_decode_as_protobuf_json_does() {
        for s in ["-_8=", "-_8", "+/8=", "+/8"] {
            assert_eq!(decode_bytes(s, "f").unwrap(), vec![0xfb, 0xff], "{s}");
        }
        assert!(matches!(
            decode_bytes("not base64!", "f"),
            Err(RekorV2Error::Base64 { field: "f" })
        ));
        let h = parse_hashedrekord_v002(&body(|v| {
            v["spec"]["hashedRekordV002"]["data"]["digest"] = "%%".into();
        }))
        .unwrap();
        assert_eq!(
            h.data.digest_bytes().unwrap_err().to_string(),
            "spec.hashedRekordV002.data.digest is not base64"
        );
    }

    /// Unknown fields, missing fields, other kinds, versions and specs are refused with a
    /// typed error.
    #[test]
    fn malformed_bodies_are_typed_errors() {
        let json_errors: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"{".to_vec(),
            b"[]".to_vec(),
            body(|v| v["extra"] = 1.into()),
            body(|v| v["spec"]["hashedRekordV002"]["extra"] = 1.into()),
            body(|v| v["spec"]["hashedRekordV002"]["signature"]["verifier"]["x"] = 1.into()),
            body(|v| {
                v["spec"]["hashedRekordV002"]
                    .as_object_mut()
                    .unwrap()
                    .remove("data");
            }),
            body(|v| v["spec"] = serde_json::json!({"dsseV002": {}})),
            body(|v| v["spec"]["hashedRekordV002"]["data"]["digest"] = 1.into()),
        ];
        for b in json_errors {
            let e = parse_hashedrekord_v002(&b).unwrap_err();
            assert!(matches!(e, RekorV2Error::Json { .. }), "{e}");
            assert!(e.to_string().starts_with("not a hashedrekord 0.0.2 body"));
        }
        for (kind, version) in [("dsse", "0.0.2"), ("hashedrekord", "0.0.1")] {
            let e = parse_hashedrekord_v002(&body(|v| {
                v["kind"] = kind.into();
                v["apiVersion"] = version.into();
            }))
            .unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("body is {kind} {version}, expected hashedrekord 0.0.2")
            );
        }
    }

    #[test]
    fn key_details_names() {
        assert_eq!(
            key_details(KeyAlgorithm::EcdsaP256),
            "PKIX_ECDSA_P256_SHA_256"
        );
        assert_eq!(
            key_details(KeyAlgorithm::Rsa { bits: 3072 }),
            "PKIX_RSA_PKCS1V15_3072_SHA256"
        );
    }

    fn request(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut v = serde_json::json!({"hashedRekordRequestV002": {
            "digest": "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=",
            "signature": {"content": "MEUC", "verifier": {
                "publicKey": {"rawBytes": "MFkw"},
                "keyDetails": "PKIX_ECDSA_P256_SHA_256"
            }}
        }});
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    /// A request parses in either field spelling and alphabet; its canonical body is
    /// rekor-tiles' (sorted keys, padded standard base64, the hash named by keyDetails) and
    /// parses back as a body with the same fields.
    #[test]
    fn requests_parse_and_give_the_canonical_body() {
        let r = parse_create_entry_request(&request(|_| {})).unwrap();
        assert_eq!(r.digest, vec![0xaa; 32]);
        assert_eq!(r.verifier, VerifierKey::PublicKey(vec![0x30, 0x59, 0x30]));
        assert_eq!(r.key_details.name, "PKIX_ECDSA_P256_SHA_256");
        let snake = br#"{"hashed_rekord_request_v002": {"digest": "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo", "signature": {"content": "MEUC", "verifier": {"public_key": {"raw_bytes": "MFkw"}, "key_details": "PKIX_ECDSA_P256_SHA_256"}}}}"#;
        assert_eq!(parse_create_entry_request(snake).unwrap(), r);
        let body = r.canonical_body();
        assert_eq!(
            String::from_utf8(body.clone()).unwrap(),
            r#"{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo="},"signature":{"content":"MEUC","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"MFkw"}}}}}}"#
        );
        let h = parse_hashedrekord_v002(&body).unwrap();
        assert_eq!(h.data.digest_bytes().unwrap(), r.digest);
    }

    /// Each malformed request is a typed error naming the problem.
    #[test]
    fn malformed_requests_are_typed_errors() {
        let hr = |v: &mut serde_json::Value| v["hashedRekordRequestV002"].clone();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"[]".to_vec(), "not a Rekor v2 CreateEntryRequest"),
            (b"{}".to_vec(), "no hashedRekordRequestV002"),
            (
                br#"{"dsseRequestV002": {}}"#.to_vec(),
                "dsseRequestV002 is not accepted",
            ),
            (
                request(|v| v["dsseRequestV002"] = hr(v)),
                "both hashedRekordRequestV002 and dsseRequestV002",
            ),
            (
                request(|v| v["hashedRekordRequestV002"]["digest"] = "".into()),
                "digest is missing",
            ),
            (
                request(|v| v["hashedRekordRequestV002"]["digest"] = "qqo=".into()),
                "digest is 2 bytes",
            ),
            (
                request(|v| {
                    v["hashedRekordRequestV002"]["signature"]["verifier"]["keyDetails"] =
                        "PKIX_ECDSA_P521_SHA_512".into();
                }),
                "not accepted",
            ),
            (
                request(|v| {
                    v["hashedRekordRequestV002"]["signature"]["verifier"]["x509Certificate"] =
                        serde_json::json!({"rawBytes": "MIIB"});
                }),
                "both publicKey and x509Certificate",
            ),
            (
                request(|v| {
                    v["hashedRekordRequestV002"]["signature"]
                        .as_object_mut()
                        .unwrap()
                        .remove("verifier");
                }),
                "signature.verifier is missing",
            ),
        ];
        for (body, want) in cases {
            let e = parse_create_entry_request(&body).unwrap_err().to_string();
            assert!(e.contains(want), "{}: {e}", String::from_utf8_lossy(&body));
        }
    }
}
