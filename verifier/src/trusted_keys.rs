//! Trusted keys for keyed signing: a document listing the public keys an organization
//! accepts, each with a validity window and an optional revocation, and the rule applying it
//! at the verified signing time.
//!
//! The document (`trusted_keys.json`, distributed as a TUF target; `signet keys` writes it):
//!
//! ```json
//! {
//!   "mediaType": "application/vnd.dev.signet.trustedkeys.v1+json",
//!   "keys": [
//!     {
//!       "name": "release-2026",
//!       "publicKey": {"rawBytes": "<base64 DER SubjectPublicKeyInfo>"},
//!       "validFor": {"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"},
//!       "revoked": {"time": "2026-06-01T12:00:00Z", "reason": "keyCompromise"}
//!     }
//!   ]
//! }
//! ```
//!
//! `validFor` is a closed interval as in a trusted root (a start is required, an end may be
//! omitted); `revoked` is optional. Unknown fields, a key that does not parse, a window
//! ending before it starts, two entries with the same key or the same name are refused.
//!
//! The rule ([`TrustedKeys::check`]): the key that made the signature must be listed, every
//! verified signing time must lie in its `validFor`, and every one must be strictly before
//! its revocation time: a signature made at or after the revocation is refused, one made
//! before still verifies (the log or a TSA proves when it was made), as for certificates
//! (`crate::revocation`).
//!
//! Not here: reading the file or fetching it (the CLI), the signature itself (`verify`).

use serde::{Deserialize, Serialize};
use signet_proto::bundle::{TimeRange, Timestamp};
use signet_proto::keys::PublicKey;

use crate::error::TrustError;
use crate::trust::{rfc3339, Window};

/// The media type of the document.
pub const MEDIA_TYPE: &str = "application/vnd.dev.signet.trustedkeys.v1+json";

/// The document as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustedKeysDocument {
    /// [`MEDIA_TYPE`].
    pub media_type: String,
    /// The keys.
    pub keys: Vec<TrustedKeyEntry>,
}

/// One key of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustedKeyEntry {
    /// A name for messages (unique in the document).
    pub name: String,
    /// The key.
    pub public_key: RawKey,
    /// When signatures by it are accepted.
    pub valid_for: TimeRange,
    /// Its revocation, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<KeyRevocation>,
}

/// A public key as base64 DER SubjectPublicKeyInfo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawKey {
    /// Base64 (standard alphabet) of the SPKI DER.
    pub raw_bytes: String,
}

/// A key's revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyRevocation {
    /// From when signatures by the key are refused.
    pub time: Timestamp,
    /// Why (free text; RFC 5280 reason names by convention).
    pub reason: String,
}

/// A parsed, checked key.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// Its name.
    pub name: String,
    /// The key.
    pub key: PublicKey,
    /// Its window.
    pub valid_for: Window,
    /// Revocation time (Unix seconds, nanoseconds) and reason.
    pub revoked: Option<((i64, u32), String)>,
}

/// The keys of a checked document.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
}

/// Why a signature by a listed key is refused at its signing time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRefused {
    /// No listed key verifies the signature: the signing key is not in the document (or the
    /// signature is bad).
    #[error("no trusted key verifies the signature: the signing key is not one of the trusted keys, or the signature is bad")]
    Unknown,
    /// A signing time lies outside the key's window.
    #[error(
        "the trusted key {name:?} is valid from {start} to {end}; the signature was made at {time}"
    )]
    OutsideWindow {
        /// The key's name.
        name: String,
        /// The window's start.
        start: String,
        /// The window's end, or "open".
        end: String,
        /// The signing time.
        time: String,
    },
    /// The key was revoked at or before a signing time.
    #[error("the trusted key {name:?} was revoked from {revoked} ({reason}), at or before the signing time {time}")]
    Revoked {
        /// The key's name.
        name: String,
        /// The revocation time.
        revoked: String,
        /// The reason.
        reason: String,
        /// The signing time.
        time: String,
    },
}

fn bad(reason: impl Into<String>) -> TrustError {
    TrustError::TrustedKeys {
        reason: reason.into(),
    }
}

impl TrustedKeys {
    /// Parses and checks a `trusted_keys.json` document.
    ///
    /// # Errors
    /// [`TrustError::TrustedKeys`] naming the first problem (and the entry).
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustError> {
        let doc: TrustedKeysDocument = signet_proto::json::from_slice(bytes)
            .map_err(|e| bad(format!("not a trusted keys document: {e}")))?;
        Self::from_document(&doc)
    }

    /// Checks a parsed document.
    ///
    /// # Errors
    /// [`TrustError::TrustedKeys`] naming the first problem (and the entry).
    pub fn from_document(doc: &TrustedKeysDocument) -> Result<Self, TrustError> {
        use base64::Engine as _;
        if doc.media_type != MEDIA_TYPE {
            return Err(bad(format!(
                "mediaType is {:?}, expected {MEDIA_TYPE:?}",
                doc.media_type
            )));
        }
        let mut keys: Vec<TrustedKey> = Vec::with_capacity(doc.keys.len());
        for (i, e) in doc.keys.iter().enumerate() {
            let entry = |what: String| bad(format!("key {i} ({:?}): {what}", e.name));
            if e.name.is_empty() || e.name.chars().any(char::is_control) {
                return Err(entry(
                    "the name is empty or holds a control character".to_owned(),
                ));
            }
            let der = base64::engine::general_purpose::STANDARD
                .decode(&e.public_key.raw_bytes)
                .map_err(|err| entry(format!("publicKey.rawBytes is not base64: {err}")))?;
            let key =
                PublicKey::from_spki_der(&der).map_err(|err| entry(format!("publicKey: {err}")))?;
            let Some(start) = &e.valid_for.start else {
                return Err(entry("validFor has no start".to_owned()));
            };
            if e.valid_for.end.as_ref().is_some_and(|end| end < start) {
                return Err(entry("validFor ends before it starts".to_owned()));
            }
            if let Some(other) = keys
                .iter()
                .find(|k| k.key.spki_der() == key.spki_der() || k.name == e.name)
            {
                return Err(entry(format!(
                    "the same key or name as {:?} (list a key once; a new window is a new key)",
                    other.name
                )));
            }
            keys.push(TrustedKey {
                name: e.name.clone(),
                key,
                valid_for: Window::from_time_range(&e.valid_for),
                revoked: e
                    .revoked
                    .as_ref()
                    .map(|r| ((r.time.unix_seconds(), r.time.nanos()), r.reason.clone())),
            });
        }
        Ok(Self { keys })
    }

    /// The keys.
    #[must_use]
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// Checks that `key` is listed, valid at every signing time in `times` (seconds,
    /// nanoseconds) and not revoked at or before any of them.
    ///
    /// # Errors
    /// [`KeyRefused`].
    pub fn check(&self, key: &PublicKey, times: &[(i64, u32)]) -> Result<&TrustedKey, KeyRefused> {
        let k = self
            .keys
            .iter()
            .find(|k| k.key.spki_der() == key.spki_der())
            .ok_or(KeyRefused::Unknown)?;
        for &t in times {
            if !k.valid_for.contains_at(t.0, t.1) {
                return Err(KeyRefused::OutsideWindow {
                    name: k.name.clone(),
                    start: k.valid_for.describe_start(),
                    end: k.valid_for.describe_end(),
                    time: rfc3339(t.0, t.1),
                });
            }
            if let Some((r, reason)) = &k.revoked {
                if t >= *r {
                    return Err(KeyRefused::Revoked {
                        name: k.name.clone(),
                        revoked: rfc3339(r.0, r.1),
                        reason: reason.clone(),
                        time: rfc3339(t.0, t.1),
                    });
                }
            }
        }
        Ok(k)
    }
}
