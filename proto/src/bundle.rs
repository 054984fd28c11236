//! Sigstore bundle (v0.1, v0.2, v0.3) and the shared `sigstore_common` message types, in the
//! proto3 JSON mapping.
//!
//! Spec: sigstore/protobuf-specs `protos/sigstore_bundle.proto`, `sigstore_common.proto`,
//! `sigstore_rekor.proto` and `envelope.proto` (commit 104df670656f5b1995769260e62d9b0e04053561),
//! with the proto3 JSON rules of <https://protobuf.dev/programming-guides/json/>:
//!
//! * field names are lowerCamelCase; unknown fields are rejected;
//! * `bytes` are standard base64 on output; standard or URL-safe, padded or not, on input
//!   ([`Base64Bytes`]);
//! * `int64` are JSON strings on output; strings or integral numbers on input ([`int64`]);
//! * enums are their names on output; names or numbers on input;
//! * fields holding the proto3 default (empty string, empty list, zero, absent message) are
//!   omitted on output, except the REQUIRED `int64` counters `logIndex` and `treeSize`, which
//!   are always written (`"0"` is legal proto3 JSON and some clients check for presence);
//! * `null` for a field means its default value, as if it were absent (`null_as_default`);
//!   it is accepted for every field that may be absent (not for `mediaType` or the other
//!   fields this crate requires);
//! * `oneof` groups become Rust enums; exactly one member must be present.
//!
//! Parsing checks only the shape. The per-version rules of the bundle spec (v0.3 wants
//! `certificate`, v0.1 wants an inclusion promise, ...) are in [`Bundle::validate`]. Nothing
//! here verifies a signature, a certificate or a proof: that is `signet-verifier`'s job.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

// ---------------------------------------------------------------------------------------------
// proto3 JSON scalar helpers
// ---------------------------------------------------------------------------------------------

/// A proto3 `bytes` field: standard padded base64 on output; standard or URL-safe base64,
/// with or without padding, on input.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Base64Bytes(pub Vec<u8>);

impl Base64Bytes {
    /// Decodes base64 as proto3 JSON does (standard or URL-safe alphabet, padding optional).
    ///
    /// # Errors
    ///
    /// [`Base64Error`] if the text is not valid base64 in either alphabet.
    pub fn decode(text: &str) -> Result<Self, Base64Error> {
        let url = text.contains(['-', '_']);
        let padded = text.ends_with('=');
        let engine = match (url, padded) {
            (false, true) => &STANDARD,
            (false, false) => &STANDARD_NO_PAD,
            (true, true) => &URL_SAFE,
            (true, false) => &URL_SAFE_NO_PAD,
        };
        engine
            .decode(text)
            .map(Base64Bytes)
            .map_err(|e| Base64Error {
                reason: e.to_string(),
            })
    }

    /// Standard padded base64 of the bytes.
    #[must_use]
    pub fn encode(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// The raw bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Consumes the wrapper.
    #[must_use]
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

/// Invalid base64 text in a `bytes` field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid base64: {reason}")]
pub struct Base64Error {
    /// What the decoder objected to.
    pub reason: String,
}

impl fmt::Debug for Base64Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Base64Bytes({})", self.encode())
    }
}

impl From<Vec<u8>> for Base64Bytes {
    fn from(v: Vec<u8>) -> Self {
        Base64Bytes(v)
    }
}

impl From<&[u8]> for Base64Bytes {
    fn from(v: &[u8]) -> Self {
        Base64Bytes(v.to_vec())
    }
}

impl AsRef<[u8]> for Base64Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::Deref for Base64Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Base64Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Base64Bytes::decode(&s).map_err(serde::de::Error::custom)
    }
}

/// proto3 JSON: `null` for a field is its default value ("null is an accepted value for all
/// field types and treated as the default value of the corresponding field type",
/// <https://protobuf.dev/programming-guides/json/>). Exporters write `"operator": null` or
/// `"checkpointKeyId": null` for unset fields. Use with `#[serde(default, deserialize_with =
/// "null_as_default")]` on fields whose absence means their default; an `Option` field
/// already reads `null` as `None`.
///
/// # Errors
///
/// Those of `T`'s deserializer for a value that is not `null`.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// serde helpers for proto3 `int64` fields: written as a JSON string, read from a string or
/// an integral JSON number. Use with `#[serde(with = "int64")]`.
pub mod int64 {
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    /// Writes the value as a decimal JSON string.
    ///
    /// # Errors
    ///
    /// Only those of the serializer.
    #[allow(clippy::trivially_copy_pass_by_ref)]
    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Reads a decimal string or an integral JSON number that fits an `i64`; `null` is 0
    /// (the proto3 default).
    ///
    /// # Errors
    ///
    /// If the value is not an integer or does not fit in an `i64`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(Int64Visitor)
    }

    struct Int64Visitor;

    impl Visitor<'_> for Int64Visitor {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an int64 as a decimal string or an integral number")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom(format!("int64 overflow: {v}")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            Err(E::custom(format!("int64 must be an integer, got {v}")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
            Ok(0)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            let digits = v.strip_prefix('-').unwrap_or(v);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(E::custom(format!("invalid int64 string {v:?}")));
            }
            v.parse::<i64>()
                .map_err(|_| E::custom(format!("int64 overflow: {v}")))
        }
    }
}

/// Declares a proto3 enum: serialized as its name, parsed from its name or its number.
macro_rules! proto_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal / $num:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// The proto enum value name, as written in JSON.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text ),+ }
            }

            /// The proto enum number.
            #[must_use]
            pub fn number(self) -> i32 {
                match self { $( $name::$variant => $num ),+ }
            }

            /// Looks a value up by its proto name.
            #[must_use]
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $( $text => Some($name::$variant), )+ _ => None }
            }

            /// Looks a value up by its proto number.
            #[must_use]
            pub fn from_number(n: i64) -> Option<Self> {
                match n { $( $num => Some($name::$variant), )+ _ => None }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " name or number"))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::from_name(v).ok_or_else(|| {
                            E::custom(format!(concat!("unknown ", stringify!($name), " {:?}"), v))
                        })
                    }
                    fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> Result<$name, E> {
                        $name::from_number(v).ok_or_else(|| {
                            E::custom(format!(concat!("unknown ", stringify!($name), " number {}"), v))
                        })
                    }
                    fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> Result<$name, E> {
                        let n = i64::try_from(v).map_err(|_| E::custom("enum number overflow"))?;
                        self.visit_i64(n)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}
pub(crate) use proto_enum;

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

// ---------------------------------------------------------------------------------------------
// sigstore_common.proto
// ---------------------------------------------------------------------------------------------

proto_enum! {
    /// `dev.sigstore.common.v1.HashAlgorithm`.
    HashAlgorithm {
        /// `HASH_ALGORITHM_UNSPECIFIED`.
        #[default]
        Unspecified = "HASH_ALGORITHM_UNSPECIFIED" / 0,
        /// `SHA2_256`.
        Sha2_256 = "SHA2_256" / 1,
        /// `SHA2_384`.
        Sha2_384 = "SHA2_384" / 2,
        /// `SHA2_512`.
        Sha2_512 = "SHA2_512" / 3,
        /// `SHA3_256` (deprecated).
        Sha3_256 = "SHA3_256" / 4,
        /// `SHA3_384` (deprecated).
        Sha3_384 = "SHA3_384" / 5,
    }
}

proto_enum! {
    /// `dev.sigstore.common.v1.PublicKeyDetails`: key type and signature scheme.
    PublicKeyDetails {
        /// `PUBLIC_KEY_DETAILS_UNSPECIFIED`.
        #[default]
        Unspecified = "PUBLIC_KEY_DETAILS_UNSPECIFIED" / 0,
        /// `PKCS1_RSA_PKCS1V5` (deprecated).
        Pkcs1RsaPkcs1v5 = "PKCS1_RSA_PKCS1V5" / 1,
        /// `PKCS1_RSA_PSS` (deprecated).
        Pkcs1RsaPss = "PKCS1_RSA_PSS" / 2,
        /// `PKIX_RSA_PKCS1V5` (deprecated).
        PkixRsaPkcs1v5 = "PKIX_RSA_PKCS1V5" / 3,
        /// `PKIX_RSA_PSS` (deprecated).
        PkixRsaPss = "PKIX_RSA_PSS" / 4,
        /// `PKIX_ECDSA_P256_SHA_256`.
        PkixEcdsaP256Sha256 = "PKIX_ECDSA_P256_SHA_256" / 5,
        /// `PKIX_ECDSA_P256_HMAC_SHA_256` (deprecated).
        PkixEcdsaP256HmacSha256 = "PKIX_ECDSA_P256_HMAC_SHA_256" / 6,
        /// `PKIX_ED25519`.
        PkixEd25519 = "PKIX_ED25519" / 7,
        /// `PKIX_ED25519_PH`.
        PkixEd25519Ph = "PKIX_ED25519_PH" / 8,
        /// `PKIX_RSA_PKCS1V15_2048_SHA256`.
        PkixRsaPkcs1v15_2048Sha256 = "PKIX_RSA_PKCS1V15_2048_SHA256" / 9,
        /// `PKIX_RSA_PKCS1V15_3072_SHA256`.
        PkixRsaPkcs1v15_3072Sha256 = "PKIX_RSA_PKCS1V15_3072_SHA256" / 10,
        /// `PKIX_RSA_PKCS1V15_4096_SHA256`.
        PkixRsaPkcs1v15_4096Sha256 = "PKIX_RSA_PKCS1V15_4096_SHA256" / 11,
        /// `PKIX_ECDSA_P384_SHA_384`.
        PkixEcdsaP384Sha384 = "PKIX_ECDSA_P384_SHA_384" / 12,
        /// `PKIX_ECDSA_P521_SHA_512`.
        PkixEcdsaP521Sha512 = "PKIX_ECDSA_P521_SHA_512" / 13,
        /// `LMS_SHA256` (deprecated).
        LmsSha256 = "LMS_SHA256" / 14,
        /// `LMOTS_SHA256` (deprecated).
        LmotsSha256 = "LMOTS_SHA256" / 15,
        /// `PKIX_RSA_PSS_2048_SHA256`.
        PkixRsaPss2048Sha256 = "PKIX_RSA_PSS_2048_SHA256" / 16,
        /// `PKIX_RSA_PSS_3072_SHA256`.
        PkixRsaPss3072Sha256 = "PKIX_RSA_PSS_3072_SHA256" / 17,
        /// `PKIX_RSA_PSS_4096_SHA256`.
        PkixRsaPss4096Sha256 = "PKIX_RSA_PSS_4096_SHA256" / 18,
        /// `PKIX_ECDSA_P384_SHA_256` (deprecated).
        PkixEcdsaP384Sha256 = "PKIX_ECDSA_P384_SHA_256" / 19,
        /// `PKIX_ECDSA_P521_SHA_256` (deprecated).
        PkixEcdsaP521Sha256 = "PKIX_ECDSA_P521_SHA_256" / 20,
        /// `ML_DSA_65`.
        MlDsa65 = "ML_DSA_65" / 21,
        /// `ML_DSA_87`.
        MlDsa87 = "ML_DSA_87" / 22,
        /// `ML_DSA_44`.
        MlDsa44 = "ML_DSA_44" / 23,
    }
}

/// `HashOutput`: a digest and its algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HashOutput {
    /// The hash algorithm.
    #[serde(default, deserialize_with = "null_as_default")]
    pub algorithm: HashAlgorithm,
    /// The raw digest.
    #[serde(default, deserialize_with = "null_as_default")]
    pub digest: Base64Bytes,
}

/// `MessageSignature`: a signature over an artifact, with the artifact's digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageSignature {
    /// Digest of the artifact (sigstore-js requires it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_digest: Option<HashOutput>,
    /// The raw signature (for ECDSA: ASN.1 DER).
    #[serde(default, deserialize_with = "null_as_default")]
    pub signature: Base64Bytes,
}

/// `LogId`: a transparency log identifier (SHA-256 of the log key's SPKI DER).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogId {
    /// The key ID bytes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub key_id: Base64Bytes,
}

/// `RFC3161SignedTimestamp`: a DER `TimeStampResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rfc3161SignedTimestamp {
    /// DER-encoded RFC 3161 `TimeStampResponse`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub signed_timestamp: Base64Bytes,
}

/// `PublicKey` (common): a raw key with its algorithm and validity window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublicKey {
    /// DER-encoded SubjectPublicKeyInfo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_bytes: Option<Base64Bytes>,
    /// Key type and signature scheme.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_unspecified_key_details"
    )]
    pub key_details: PublicKeyDetails,
    /// When the key may be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_unspecified_key_details(v: &PublicKeyDetails) -> bool {
    *v == PublicKeyDetails::Unspecified
}

/// `PublicKeyIdentifier`: an opaque hint naming a key distributed out of band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublicKeyIdentifier {
    /// The key hint.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub hint: String,
}

/// `DistinguishedName`: organization and common name of a CA or TSA.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DistinguishedName {
    /// Organization (O).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub organization: String,
    /// Common name (CN).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub common_name: String,
}

/// `X509Certificate`: one DER certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct X509Certificate {
    /// DER bytes of the certificate.
    #[serde(default, deserialize_with = "null_as_default")]
    pub raw_bytes: Base64Bytes,
}

/// `X509CertificateChain`: DER certificates, leaf (or first intermediate) first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct X509CertificateChain {
    /// The certificates, in issuing order.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub certificates: Vec<X509Certificate>,
}

/// `TimeRange`: a validity window; `end` absent means open-ended.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimeRange {
    /// Start of the window (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Timestamp>,
    /// End of the window (inclusive); absent for "still valid".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
}

impl TimeRange {
    /// Whether the whole second `unix_seconds` falls inside the window: the interval is
    /// closed, `[start, end]`, and exact to the fraction of a second (a start of `…:00.5Z`
    /// excludes `…:00Z`). A missing end means "until forever"; a missing start is read as
    /// "since forever" here, although the spec requires it (verifiers refuse trust roots
    /// without one).
    #[must_use]
    pub fn contains(&self, unix_seconds: i64) -> bool {
        let t = (unix_seconds, 0);
        let after_start = self
            .start
            .as_ref()
            .is_none_or(|s| (s.unix_seconds(), s.nanos()) <= t);
        let before_end = self
            .end
            .as_ref()
            .is_none_or(|e| t <= (e.unix_seconds(), e.nanos()));
        after_start && before_end
    }
}

/// A `google.protobuf.Timestamp` in its JSON form, an RFC 3339 date-time such as
/// `2021-01-12T11:53:27Z` or `2022-12-31T23:59:59.999+00:00`.
///
/// The original text is kept and written back unchanged, so files round-trip byte for byte;
/// equality and ordering compare the instant.
#[derive(Clone)]
pub struct Timestamp {
    text: String,
    seconds: i64,
    nanos: u32,
}

/// Invalid RFC 3339 timestamp text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid RFC 3339 timestamp {text:?}: {reason}")]
pub struct TimestampError {
    /// The rejected text.
    pub text: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

/// Seconds from 0001-01-01T00:00:00Z to the Unix epoch (lower bound of protobuf Timestamp).
const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
/// Seconds from the Unix epoch to 9999-12-31T23:59:59Z (upper bound of protobuf Timestamp).
const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;

impl Timestamp {
    /// Parses an RFC 3339 date-time (`T` or `t` separator, `Z`/`z` or `±hh:mm` offset,
    /// 0 to 9 fractional digits), within the protobuf range 0001..=9999.
    ///
    /// # Errors
    ///
    /// [`TimestampError`] if the text is not such a date-time.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let err = |reason| TimestampError {
            text: text.to_owned(),
            reason,
        };
        let b = text.as_bytes();
        let num = |range: std::ops::Range<usize>| -> Result<i64, TimestampError> {
            let part = b.get(range).ok_or_else(|| err("too short"))?;
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(err("expected digits"));
            }
            Ok(part
                .iter()
                .fold(0_i64, |acc, d| acc * 10 + i64::from(d - b'0')))
        };
        let sep = |i: usize, allowed: &[u8]| -> Result<(), TimestampError> {
            match b.get(i) {
                Some(c) if allowed.contains(c) => Ok(()),
                _ => Err(err("bad separator")),
            }
        };
        let year = num(0..4)?;
        sep(4, b"-")?;
        let month = num(5..7)?;
        sep(7, b"-")?;
        let day = num(8..10)?;
        sep(10, b"Tt")?;
        let hour = num(11..13)?;
        sep(13, b":")?;
        let minute = num(14..16)?;
        sep(16, b":")?;
        let second = num(17..19)?;
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(err("field out of range"));
        }
        let mut i = 19;
        let mut nanos: i64 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let n = i - start;
            if n == 0 || n > 9 {
                return Err(err("fraction must have 1 to 9 digits"));
            }
            nanos = num(start..i)?;
            for _ in n..9 {
                nanos *= 10;
            }
        }
        let offset = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() => {
                let oh = num(i + 1..i + 3)?;
                sep(i + 3, b":")?;
                let om = num(i + 4..i + 6)?;
                if oh > 23 || om > 59 {
                    return Err(err("offset out of range"));
                }
                let o = oh * 3600 + om * 60;
                if *sign == b'-' {
                    -o
                } else {
                    o
                }
            }
            _ => return Err(err("expected Z or a ±hh:mm offset at the end")),
        };
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
                - offset;
        if !(MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&seconds) {
            return Err(err("outside 0001-01-01..9999-12-31"));
        }
        Ok(Timestamp {
            text: text.to_owned(),
            seconds,
            nanos: u32::try_from(nanos).map_err(|_| err("fraction out of range"))?,
        })
    }

    /// Builds a timestamp from Unix seconds, formatted `YYYY-MM-DDThh:mm:ssZ`.
    ///
    /// # Errors
    ///
    /// [`TimestampError`] if the time is outside the protobuf range 0001..=9999.
    pub fn from_unix(seconds: i64) -> Result<Self, TimestampError> {
        if !(MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&seconds) {
            return Err(TimestampError {
                text: seconds.to_string(),
                reason: "outside 0001-01-01..9999-12-31",
            });
        }
        let days = seconds.div_euclid(86_400);
        let rem = seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let text = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            (rem / 60) % 60,
            rem % 60
        );
        Ok(Timestamp {
            text,
            seconds,
            nanos: 0,
        })
    }

    /// Seconds since the Unix epoch (floor).
    #[must_use]
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// Nanoseconds past [`Self::unix_seconds`].
    #[must_use]
    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    /// The RFC 3339 text as it was parsed or built.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.text)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        (self.seconds, self.nanos) == (other.seconds, other.nanos)
    }
}
impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.seconds, self.nanos).cmp(&(other.seconds, other.nanos))
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// The number of days in month `m` (1-12) of proleptic Gregorian year `y`.
#[must_use]
pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). Shared by
/// every civil-time parser of the workspace (RFC 3339 here, DER `GeneralizedTime` in the
/// verifier); the date is not validated, see [`days_in_month`].
#[must_use]
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// ---------------------------------------------------------------------------------------------
// sigstore_rekor.proto
// ---------------------------------------------------------------------------------------------

/// `KindVersion`: the Rekor entry type of a log entry, e.g. `hashedrekord` / `0.0.1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KindVersion {
    /// Entry kind (`hashedrekord`, `dsse`, ...).
    #[serde(default, deserialize_with = "null_as_default")]
    pub kind: String,
    /// Entry schema version (`0.0.1`, ...).
    #[serde(default, deserialize_with = "null_as_default")]
    pub version: String,
}

/// `Checkpoint`: a signed-note checkpoint in text form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Checkpoint {
    /// The full signed note text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub envelope: String,
}

/// `InclusionProof`: an RFC 6962 audit path with the checkpoint it leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InclusionProof {
    /// Index of the entry in the log.
    #[serde(default, with = "int64")]
    pub log_index: i64,
    /// Root hash of the tree of size `tree_size`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub root_hash: Base64Bytes,
    /// Tree size the proof is for.
    #[serde(default, with = "int64")]
    pub tree_size: i64,
    /// Audit path, leaf to root.
    #[serde(default, deserialize_with = "null_as_default")]
    pub hashes: Vec<Base64Bytes>,
    /// Signed checkpoint committing to `root_hash` (required from bundle v0.2 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
}

/// `InclusionPromise`: the Rekor v1 signed entry timestamp (SET).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InclusionPromise {
    /// The log's signature over the canonical SET payload
    /// ([`crate::rekor::SetPayload`]).
    #[serde(default, deserialize_with = "null_as_default")]
    pub signed_entry_timestamp: Base64Bytes,
}

/// `TransparencyLogEntry`: everything needed to check a log entry offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransparencyLogEntry {
    /// Global index of the entry.
    #[serde(default, with = "int64")]
    pub log_index: i64,
    /// ID of the log that holds the entry.
    pub log_id: LogId,
    /// Entry kind and version.
    pub kind_version: KindVersion,
    /// Unix seconds at which the log integrated the entry (0 / absent for Rekor v2).
    #[serde(default, with = "int64", skip_serializing_if = "is_zero_i64")]
    pub integrated_time: i64,
    /// The SET, when the log issued one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_promise: Option<InclusionPromise>,
    /// The inclusion proof (required from bundle v0.2 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
    /// The canonicalized entry body, as Rekor's `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonicalized_body: Option<Base64Bytes>,
}

// ---------------------------------------------------------------------------------------------
// envelope.proto (DSSE)
// ---------------------------------------------------------------------------------------------

/// `io.intoto.Envelope`: a DSSE envelope. Note the field names are `payloadType` and `keyid`
/// exactly as in the DSSE spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DsseEnvelope {
    /// The payload bytes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub payload: Base64Bytes,
    /// The payload media type, e.g. `application/vnd.in-toto+json`.
    #[serde(rename = "payloadType", default, deserialize_with = "null_as_default")]
    pub payload_type: String,
    /// Signatures over the DSSE pre-authentication encoding.
    #[serde(default, deserialize_with = "null_as_default")]
    pub signatures: Vec<DsseSignature>,
}

/// `io.intoto.Signature`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DsseSignature {
    /// The signature bytes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub sig: Base64Bytes,
    /// Optional key hint; omitted when empty.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub keyid: String,
}

impl DsseEnvelope {
    /// The DSSE v1 pre-authentication encoding that the signatures cover:
    /// `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`.
    #[must_use]
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }
}

/// DSSE v1 pre-authentication encoding of `payload_type` and `payload`.
#[must_use]
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

// ---------------------------------------------------------------------------------------------
// sigstore_bundle.proto
// ---------------------------------------------------------------------------------------------

/// Bundle media type for v0.1.
pub const MEDIA_TYPE_V0_1: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
/// Bundle media type for v0.2.
pub const MEDIA_TYPE_V0_2: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
/// Bundle media type for v0.3 (the only spelling sigstore-rs accepts).
pub const MEDIA_TYPE_V0_3: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Older spelling of the v0.3 media type; accepted on input, never written.
pub const MEDIA_TYPE_V0_3_LEGACY: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

/// A bundle version, carried in JSON as the `mediaType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BundleVersion {
    /// `application/vnd.dev.sigstore.bundle+json;version=0.1`.
    V0_1,
    /// `application/vnd.dev.sigstore.bundle+json;version=0.2`.
    V0_2,
    /// `application/vnd.dev.sigstore.bundle.v0.3+json` (also read from
    /// `application/vnd.dev.sigstore.bundle+json;version=0.3`).
    V0_3,
}

impl BundleVersion {
    /// The media type written for this version.
    #[must_use]
    pub fn media_type(self) -> &'static str {
        match self {
            BundleVersion::V0_1 => MEDIA_TYPE_V0_1,
            BundleVersion::V0_2 => MEDIA_TYPE_V0_2,
            BundleVersion::V0_3 => MEDIA_TYPE_V0_3,
        }
    }

    /// Parses a bundle media type.
    ///
    /// # Errors
    ///
    /// [`BundleError::UnsupportedMediaType`] for anything but the four known spellings.
    pub fn from_media_type(media_type: &str) -> Result<Self, BundleError> {
        match media_type {
            MEDIA_TYPE_V0_1 => Ok(BundleVersion::V0_1),
            MEDIA_TYPE_V0_2 => Ok(BundleVersion::V0_2),
            MEDIA_TYPE_V0_3 | MEDIA_TYPE_V0_3_LEGACY => Ok(BundleVersion::V0_3),
            other => Err(BundleError::UnsupportedMediaType {
                media_type: other.to_owned(),
            }),
        }
    }
}

impl Serialize for BundleVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.media_type())
    }
}

impl<'de> Deserialize<'de> for BundleVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        BundleVersion::from_media_type(&s).map_err(serde::de::Error::custom)
    }
}

/// Errors from parsing or validating a bundle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The JSON does not match the bundle schema.
    #[error("malformed bundle JSON: {source}")]
    Json {
        /// The serde error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// `mediaType` is not a known bundle version.
    #[error("unsupported bundle media type {media_type:?}")]
    UnsupportedMediaType {
        /// The media type found.
        media_type: String,
    },
    /// A version-specific rule of the bundle spec is broken.
    #[error("bundle {version:?} rule broken: {rule}")]
    Invalid {
        /// The bundle version whose rules apply.
        version: BundleVersion,
        /// The rule that is broken.
        rule: &'static str,
    },
}

/// `TimestampVerificationData`: RFC 3161 timestamps over the signature.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimestampVerificationData {
    /// The timestamps.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rfc3161_timestamps: Vec<Rfc3161SignedTimestamp>,
}

/// The `content` oneof of `VerificationMaterial`: how the signing key is conveyed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationMaterialContent {
    /// `publicKey`: a hint naming a key known out of band.
    PublicKey(PublicKeyIdentifier),
    /// `x509CertificateChain`: leaf first (bundle v0.1 / v0.2).
    X509CertificateChain(X509CertificateChain),
    /// `certificate`: the leaf only (bundle v0.3).
    Certificate(X509Certificate),
}

/// `VerificationMaterial`: key material plus log and timestamp evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawVerificationMaterial", into = "RawVerificationMaterial")]
pub struct VerificationMaterial {
    /// The signing key or certificate.
    pub content: VerificationMaterialContent,
    /// Transparency log entries.
    pub tlog_entries: Vec<TransparencyLogEntry>,
    /// RFC 3161 timestamps, if any (`Some` with no timestamps round-trips as `{}`).
    pub timestamp_verification_data: Option<TimestampVerificationData>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawVerificationMaterial {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key: Option<PublicKeyIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x509_certificate_chain: Option<X509CertificateChain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate: Option<X509Certificate>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    tlog_entries: Vec<TransparencyLogEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timestamp_verification_data: Option<TimestampVerificationData>,
}

impl TryFrom<RawVerificationMaterial> for VerificationMaterial {
    type Error = String;
    fn try_from(r: RawVerificationMaterial) -> Result<Self, String> {
        let content = match (r.public_key, r.x509_certificate_chain, r.certificate) {
            (Some(k), None, None) => VerificationMaterialContent::PublicKey(k),
            (None, Some(c), None) => VerificationMaterialContent::X509CertificateChain(c),
            (None, None, Some(c)) => VerificationMaterialContent::Certificate(c),
            (None, None, None) => {
                return Err("verificationMaterial needs one of publicKey, x509CertificateChain, certificate".into())
            }
            _ => {
                return Err("verificationMaterial has more than one of publicKey, x509CertificateChain, certificate".into())
            }
        };
        Ok(VerificationMaterial {
            content,
            tlog_entries: r.tlog_entries,
            timestamp_verification_data: r.timestamp_verification_data,
        })
    }
}

impl From<VerificationMaterial> for RawVerificationMaterial {
    fn from(v: VerificationMaterial) -> Self {
        let mut r = RawVerificationMaterial {
            public_key: None,
            x509_certificate_chain: None,
            certificate: None,
            tlog_entries: v.tlog_entries,
            timestamp_verification_data: v.timestamp_verification_data,
        };
        match v.content {
            VerificationMaterialContent::PublicKey(k) => r.public_key = Some(k),
            VerificationMaterialContent::X509CertificateChain(c) => {
                r.x509_certificate_chain = Some(c);
            }
            VerificationMaterialContent::Certificate(c) => r.certificate = Some(c),
        }
        r
    }
}

/// The `content` oneof of `Bundle`: what was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleContent {
    /// `messageSignature`: a signature over an artifact's bytes.
    MessageSignature(MessageSignature),
    /// `dsseEnvelope`: a DSSE envelope (e.g. an in-toto attestation).
    DsseEnvelope(DsseEnvelope),
}

/// `Bundle`: a Sigstore bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawBundle", into = "RawBundle")]
pub struct Bundle {
    /// The bundle version (its `mediaType`).
    pub media_type: BundleVersion,
    /// Key material and log/timestamp evidence.
    pub verification_material: VerificationMaterial,
    /// The signed content.
    pub content: BundleContent,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawBundle {
    media_type: BundleVersion,
    verification_material: VerificationMaterial,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message_signature: Option<MessageSignature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dsse_envelope: Option<DsseEnvelope>,
}

impl TryFrom<RawBundle> for Bundle {
    type Error = String;
    fn try_from(r: RawBundle) -> Result<Self, String> {
        let content = match (r.message_signature, r.dsse_envelope) {
            (Some(m), None) => BundleContent::MessageSignature(m),
            (None, Some(d)) => BundleContent::DsseEnvelope(d),
            (None, None) => return Err("bundle needs messageSignature or dsseEnvelope".into()),
            (Some(_), Some(_)) => {
                return Err("bundle has both messageSignature and dsseEnvelope".into())
            }
        };
        Ok(Bundle {
            media_type: r.media_type,
            verification_material: r.verification_material,
            content,
        })
    }
}

impl From<Bundle> for RawBundle {
    fn from(b: Bundle) -> Self {
        let (message_signature, dsse_envelope) = match b.content {
            BundleContent::MessageSignature(m) => (Some(m), None),
            BundleContent::DsseEnvelope(d) => (None, Some(d)),
        };
        RawBundle {
            media_type: b.media_type,
            verification_material: b.verification_material,
            message_signature,
            dsse_envelope,
        }
    }
}

impl Bundle {
    /// Parses a bundle from JSON bytes (shape only; see [`Bundle::validate`]).
    ///
    /// # Errors
    ///
    /// [`BundleError::Json`] on malformed JSON, unknown fields, bad base64, int64 overflow,
    /// an unknown media type or a broken oneof.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BundleError> {
        crate::json::from_slice(bytes).map_err(|source| BundleError::Json { source })
    }

    /// Serializes to compact proto3 JSON.
    ///
    /// # Errors
    ///
    /// [`BundleError::Json`] only if serialization fails (it does not for these types).
    pub fn to_json(&self) -> Result<Vec<u8>, BundleError> {
        serde_json::to_vec(self).map_err(|source| BundleError::Json { source })
    }

    /// Serializes to indented proto3 JSON (the usual `.sigstore.json` file form).
    ///
    /// # Errors
    ///
    /// As [`Bundle::to_json`].
    pub fn to_json_pretty(&self) -> Result<Vec<u8>, BundleError> {
        serde_json::to_vec_pretty(self).map_err(|source| BundleError::Json { source })
    }

    /// The leaf certificate DER, from `certificate` or the first member of
    /// `x509CertificateChain`; `None` for a public-key bundle or an empty chain.
    #[must_use]
    pub fn leaf_certificate_der(&self) -> Option<&[u8]> {
        match &self.verification_material.content {
            VerificationMaterialContent::Certificate(c) => Some(c.raw_bytes.as_slice()),
            VerificationMaterialContent::X509CertificateChain(chain) => {
                chain.certificates.first().map(|c| c.raw_bytes.as_slice())
            }
            VerificationMaterialContent::PublicKey(_) => None,
        }
    }

    /// Checks the version-specific rules of the bundle spec and the structural rules that
    /// proto3 cannot express:
    ///
    /// * every bundle: at least one tlog entry or RFC 3161 timestamp; each tlog entry has a
    ///   kind, a version, a log ID and a non-negative index; a DSSE envelope has exactly one
    ///   signature; a message signature is not empty; an `x509CertificateChain` is not
    ///   empty (proof hashes, signatures and certificates are checked by the verifier, not
    ///   here);
    /// * v0.1: every tlog entry carries an inclusion promise; no `certificate` form;
    /// * v0.2: every tlog entry carries an inclusion proof with a checkpoint; no
    ///   `certificate` form;
    /// * v0.3: every tlog entry carries an inclusion proof with a checkpoint; no
    ///   `x509CertificateChain` form (the leaf goes in `certificate`).
    ///
    /// # Errors
    ///
    /// [`BundleError::Invalid`] naming the first rule broken.
    pub fn validate(&self) -> Result<(), BundleError> {
        let version = self.media_type;
        let invalid = |rule| Err(BundleError::Invalid { version, rule });
        let vm = &self.verification_material;
        let has_timestamps = vm
            .timestamp_verification_data
            .as_ref()
            .is_some_and(|t| !t.rfc3161_timestamps.is_empty());
        if vm.tlog_entries.is_empty() && !has_timestamps {
            return invalid("needs at least one tlog entry or RFC 3161 timestamp");
        }
        match (&vm.content, version) {
            (
                VerificationMaterialContent::Certificate(_),
                BundleVersion::V0_1 | BundleVersion::V0_2,
            ) => {
                return invalid(
                    "v0.1 and v0.2 carry certificates in x509CertificateChain, not certificate",
                );
            }
            (VerificationMaterialContent::X509CertificateChain(_), BundleVersion::V0_3) => {
                return invalid("v0.3 carries the leaf in certificate, not x509CertificateChain");
            }
            (VerificationMaterialContent::X509CertificateChain(c), _)
                if c.certificates.is_empty() =>
            {
                return invalid("x509CertificateChain is empty");
            }
            (VerificationMaterialContent::Certificate(c), _) if c.raw_bytes.is_empty() => {
                return invalid("certificate.rawBytes is empty");
            }
            _ => {}
        }
        for entry in &vm.tlog_entries {
            if entry.kind_version.kind.is_empty() || entry.kind_version.version.is_empty() {
                return invalid("tlog entry needs kindVersion.kind and kindVersion.version");
            }
            if entry.log_id.key_id.is_empty() {
                return invalid("tlog entry needs logId.keyId");
            }
            if entry.log_index < 0 {
                return invalid("tlog entry logIndex is negative");
            }
            match version {
                BundleVersion::V0_1 => {
                    if entry.inclusion_promise.is_none() {
                        return invalid("v0.1 tlog entries need an inclusionPromise");
                    }
                }
                BundleVersion::V0_2 | BundleVersion::V0_3 => match &entry.inclusion_proof {
                    None => return invalid("tlog entries need an inclusionProof from v0.2 on"),
                    Some(p) if p.checkpoint.is_none() => {
                        return invalid("inclusionProof needs a checkpoint from v0.2 on");
                    }
                    Some(p) if p.log_index < 0 || p.tree_size <= p.log_index => {
                        return invalid("inclusionProof logIndex must be in 0..treeSize");
                    }
                    Some(_) => {}
                },
            }
            if let Some(p) = &entry.inclusion_promise {
                if p.signed_entry_timestamp.is_empty() {
                    return invalid("inclusionPromise.signedEntryTimestamp is empty");
                }
            }
        }
        match &self.content {
            BundleContent::MessageSignature(m) => {
                if m.signature.is_empty() {
                    return invalid("messageSignature.signature is empty");
                }
            }
            BundleContent::DsseEnvelope(e) => {
                if e.signatures.len() != 1 {
                    return invalid("dsseEnvelope must have exactly one signature");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_parse_and_format() {
        let t = Timestamp::parse("2021-01-12T11:53:27Z").expect("parse");
        assert_eq!(t.unix_seconds(), 1_610_452_407);
        assert_eq!(
            Timestamp::from_unix(1_610_452_407).expect("fmt").as_str(),
            "2021-01-12T11:53:27Z"
        );
        let t = Timestamp::parse("2022-12-31T23:59:59.999Z").expect("parse");
        assert_eq!((t.unix_seconds(), t.nanos()), (1_672_531_199, 999_000_000));
        let t2 = Timestamp::parse("2023-01-01T01:59:59.999+02:00").expect("parse");
        assert_eq!(t, t2);
        assert_eq!(
            Timestamp::from_unix(0).expect("fmt").as_str(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp::from_unix(951_782_400).expect("fmt").as_str(),
            "2000-02-29T00:00:00Z"
        );
        for bad in [
            "2021-01-12 11:53:27Z",
            "2021-02-30T00:00:00Z",
            "2021-01-12T11:53:27",
            "2021-01-12T11:53:27.Z",
            "2021-01-12T11:53:27.1234567890Z",
            "2021-01-12T24:00:00Z",
            "2021-01-12T11:53:27Zjunk",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }
}
