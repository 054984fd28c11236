//! Signed notes: C2SP signed-note, Rekor-style ECDSA note signatures and tlog-cosignature.
//!
//! Specifications:
//! * <https://c2sp.org/signed-note> (format, key names, key IDs, Ed25519 type `0x01`, and the
//!   `name+hash+base64` verifier-key (vkey) and `PRIVATE+KEY+...` signer-key (skey) encodings
//!   of golang.org/x/mod/sumdb/note).
//! * <https://c2sp.org/tlog-cosignature> (`cosignature/v1`, type `0x04`: an 8-byte big-endian
//!   timestamp followed by an Ed25519 signature over `cosignature/v1\ntime <ts>\n<body>`).
//! * Rekor v1 checkpoints (sigstore/rekor `pkg/util/signed_note.go`): the 4-byte key hint is
//!   the first 4 bytes of SHA-256 of the log key's DER SubjectPublicKeyInfo, and the signature
//!   is the raw ECDSA ASN.1 DER (or Ed25519) signature over the note text.
//!
//! Parsing ([`Note::parse`]) follows Go's `note.Open`: valid UTF-8, no ASCII control
//! characters other than newline, the text is everything up to and including the newline
//! before the last blank line, each signature line is `— <name> <base64>` with at least 5
//! decoded bytes, and at most [`MAX_SIGNATURES`] lines. A parsed note is untrusted: only
//! [`Note::verify`] and [`Note::verify_threshold`] produce a [`VerifiedNote`].
//!
//! What this module does not do: no checkpoint body parsing (see [`crate::checkpoint`]), no
//! ML-DSA (type `0x06`), no ECDSA type `0x02` note keys, no RFC 6962 tree-head type `0x05`,
//! no clock (cosignature timestamps are inputs and outputs, never compared with "now").

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::keys::{
    self, EcdsaSigner, Ed25519Signer, KeyAlgorithm, KeyError, PublicKey, SignatureError,
};

/// Largest number of signature lines [`Note::parse`] accepts (the spec requires at least 16;
/// this is Go's limit).
pub const MAX_SIGNATURES: usize = 100;

/// Signature type byte for plain Ed25519 note signatures.
pub const SIG_TYPE_ED25519: u8 = 0x01;
/// Signature type byte for `cosignature/v1` Ed25519 cosignatures.
pub const SIG_TYPE_COSIGNATURE_V1: u8 = 0x04;

const SIG_PREFIX: &str = "\u{2014} ";

/// Errors from parsing, signing and verifying notes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The bytes are not a well-formed signed note.
    #[error("malformed note: {reason}")]
    Malformed {
        /// What was wrong.
        reason: &'static str,
    },
    /// The note has more signature lines than allowed.
    #[error("note has more than {max} signatures")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// A key name is empty or contains a space or `+`.
    #[error("invalid key name {name:?}")]
    InvalidKeyName {
        /// The rejected name.
        name: String,
    },
    /// Several known verifiers share this name and key hash.
    #[error("ambiguous key {name}+{key_hash:08x}")]
    AmbiguousKey {
        /// Key name.
        name: String,
        /// Key hash.
        key_hash: u32,
    },
    /// A signature from a known key failed to verify.
    #[error("invalid signature for key {name}+{key_hash:08x}")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key hash.
        key_hash: u32,
    },
    /// No signature from a known key is present.
    #[error("note has no verifiable signatures")]
    NoVerifiedSignatures,
    /// Fewer distinct known keys signed than required.
    #[error("note is signed by {verified} of the required {required} known keys")]
    ThresholdNotMet {
        /// Distinct known keys whose signatures verified.
        verified: usize,
        /// Required number.
        required: usize,
    },
    /// A signer failed.
    #[error("signer {name} failed: {source}")]
    Signer {
        /// Signer key name.
        name: String,
        /// The cause.
        source: SignatureError,
    },
}

/// Errors from parsing verifier (vkey) and signer (skey) keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VKeyError {
    /// The text does not have the `name+hash+base64` (or `PRIVATE+KEY+...`) shape.
    #[error("malformed key: {reason}")]
    Malformed {
        /// What was wrong.
        reason: &'static str,
    },
    /// The key hash does not match the name and key.
    #[error("key hash {found:08x} does not match the key (expected {expected:08x})")]
    HashMismatch {
        /// Hash in the text.
        found: u32,
        /// Hash computed from the name and key.
        expected: u32,
    },
    /// The signature type byte is not supported here.
    #[error("unsupported key type 0x{found:02x}")]
    UnsupportedType {
        /// Type byte found.
        found: u8,
    },
    /// The key name is invalid.
    #[error("invalid key name {name:?}")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// The key material was rejected.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A validated note key name: non-empty, no Unicode white space, no `+`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyName(String);

impl KeyName {
    /// Validates `name`.
    ///
    /// # Errors
    /// [`NoteError::InvalidKeyName`] if it is empty or contains white space or `+`.
    pub fn new(name: impl Into<String>) -> Result<Self, NoteError> {
        let name = name.into();
        if is_valid_name(&name) {
            Ok(Self(name))
        } else {
            Err(NoteError::InvalidKeyName { name })
        }
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for KeyName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    /// Key name.
    pub name: KeyName,
    /// 32-bit key hash (first 4 decoded bytes, big-endian).
    pub key_hash: u32,
    /// Signature bytes after the key hash.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line without its trailing newline: `— <name> <base64(hash || sig)>`.
    #[must_use]
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_hash.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}", self.name, B64.encode(raw))
    }
}

/// A parsed signed note. Its text is untrusted until verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

fn check_chars(s: &str) -> Result<(), NoteError> {
    if s.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed {
            reason: "control character",
        });
    }
    Ok(())
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed {
            reason: "text does not end with a newline",
        });
    }
    check_chars(text)
}

impl Note {
    /// An unsigned note with `text`.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] if the text does not end with a newline or has control
    /// characters other than newline.
    pub fn new(text: impl Into<String>) -> Result<Self, NoteError> {
        let text = text.into();
        check_text(&text)?;
        Ok(Self {
            text,
            signatures: Vec::new(),
        })
    }

    /// Signs `text` with each signer, in order.
    ///
    /// # Errors
    /// As [`Note::new`] and [`Note::add_signatures`].
    pub fn sign(text: impl Into<String>, signers: &[&dyn NoteSigner]) -> Result<Self, NoteError> {
        let mut n = Self::new(text)?;
        n.add_signatures(signers)?;
        Ok(n)
    }

    /// Adds a signature from each signer, replacing existing signatures with the same name
    /// and key hash (as Go's `note.Sign`).
    ///
    /// # Errors
    /// [`NoteError::InvalidKeyName`] for a bad signer name, [`NoteError::Signer`] if a signer
    /// fails, [`NoteError::TooManySignatures`] if the result would exceed [`MAX_SIGNATURES`].
    pub fn add_signatures(&mut self, signers: &[&dyn NoteSigner]) -> Result<(), NoteError> {
        let mut new = Vec::with_capacity(signers.len());
        for s in signers {
            let name = KeyName::new(s.name())?;
            let signature = s
                .sign(self.text.as_bytes())
                .map_err(|source| NoteError::Signer {
                    name: name.0.clone(),
                    source,
                })?;
            new.push(NoteSignature {
                name,
                key_hash: s.key_hash(),
                signature,
            });
        }
        let replaced: HashSet<(&str, u32)> =
            new.iter().map(|s| (s.name.as_str(), s.key_hash)).collect();
        let mut kept: Vec<NoteSignature> = self
            .signatures
            .iter()
            .filter(|s| !replaced.contains(&(s.name.as_str(), s.key_hash)))
            .cloned()
            .collect();
        kept.extend(new);
        if kept.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        self.signatures = kept;
        Ok(())
    }

    /// Parses a signed note without verifying anything.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] for any syntax error, [`NoteError::InvalidKeyName`] for a bad
    /// name, [`NoteError::TooManySignatures`] beyond [`MAX_SIGNATURES`].
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        let s = std::str::from_utf8(bytes).map_err(|_| NoteError::Malformed {
            reason: "not UTF-8",
        })?;
        check_chars(s)?;
        let split = s.rfind("\n\n").ok_or(NoteError::Malformed {
            reason: "no blank line before the signatures",
        })?;
        let text = &s[..=split];
        let mut sigs = &s[split + 2..];
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(NoteError::Malformed {
                reason: "signature block empty or not newline-terminated",
            });
        }
        let mut signatures = Vec::new();
        while let Some(i) = sigs.find('\n') {
            let line = &sigs[..i];
            sigs = &sigs[i + 1..];
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures {
                    max: MAX_SIGNATURES,
                });
            }
            signatures.push(parse_sig_line(line)?);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note text (untrusted unless this note was verified), including its final newline.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    #[must_use]
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Serializes: text, blank line, one line per signature. A note without signatures
    /// serializes to text and a blank line, which [`Note::parse`] rejects.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.text.len() + 1 + 100 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
            out.push('\n');
        }
        out.into_bytes()
    }

    /// Verifies the note against `known`: signatures from unknown keys are ignored, every
    /// signature from a known key is checked (repeated signatures by the same key after the
    /// first are ignored, as in Go), and at least one must be present.
    ///
    /// # Errors
    /// [`NoteError::InvalidSignature`] if a known key's signature fails,
    /// [`NoteError::AmbiguousKey`] if several verifiers match a signature,
    /// [`NoteError::NoVerifiedSignatures`] if no known key signed.
    pub fn verify(&self, known: &Verifiers) -> Result<VerifiedNote, NoteError> {
        self.verify_threshold(known, 1)
    }

    /// Like [`Note::verify`] but requires signatures from at least `threshold` distinct known
    /// keys (for k-of-n witness policies). With `threshold == 0` a note without any known
    /// signature is accepted (bad signatures from known keys are still rejected).
    ///
    /// Keys are counted by their public key bytes ([`NoteVerifier::public_key`], SPKI DER),
    /// not by name or key hash: one key listed under two names (so two key hashes) verifies
    /// the same signature under both, yet counts once. Every known signature is still
    /// checked; [`VerifiedNote::verified`] holds the first valid signature of each distinct
    /// key, so its length is the count compared with `threshold`.
    ///
    /// # Errors
    /// As [`Note::verify`]; [`NoteError::ThresholdNotMet`] if fewer than `threshold` (>1)
    /// distinct known keys signed.
    pub fn verify_threshold(
        &self,
        known: &Verifiers,
        threshold: usize,
    ) -> Result<VerifiedNote, NoteError> {
        let mut seen: HashSet<(&str, u32)> = HashSet::new();
        let mut counted_keys: HashSet<&[u8]> = HashSet::new();
        let mut seen_unverified: HashSet<&NoteSignature> = HashSet::new();
        let mut verified = Vec::new();
        let mut unverified = Vec::new();
        for s in &self.signatures {
            let Some(v) = known.find(s.name.as_str(), s.key_hash)? else {
                if seen_unverified.insert(s) {
                    unverified.push(s.clone());
                }
                continue;
            };
            if !seen.insert((s.name.as_str(), s.key_hash)) {
                continue;
            }
            let info = v.verify(self.text.as_bytes(), &s.signature).map_err(|_| {
                NoteError::InvalidSignature {
                    name: s.name.0.clone(),
                    key_hash: s.key_hash,
                }
            })?;
            if !counted_keys.insert(v.public_key().spki_der()) {
                // The same key under another name: valid, but not another signer.
                continue;
            }
            verified.push(VerifiedSignature {
                name: s.name.clone(),
                key_hash: s.key_hash,
                signature: s.signature.clone(),
                timestamp: info.timestamp,
            });
        }
        if verified.is_empty() && threshold == 1 {
            return Err(NoteError::NoVerifiedSignatures);
        }
        if verified.len() < threshold {
            return Err(NoteError::ThresholdNotMet {
                verified: verified.len(),
                required: threshold,
            });
        }
        Ok(VerifiedNote {
            text: self.text.clone(),
            verified,
            unverified,
        })
    }
}

fn parse_sig_line(line: &str) -> Result<NoteSignature, NoteError> {
    let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed {
        reason: "signature line does not start with an em dash and a space",
    })?;
    let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed {
        reason: "signature line has no space after the key name",
    })?;
    let name = KeyName::new(name)?;
    let raw = B64.decode(b64).map_err(|_| NoteError::Malformed {
        reason: "signature is not valid base64",
    })?;
    if raw.len() < 5 {
        return Err(NoteError::Malformed {
            reason: "signature shorter than 5 bytes",
        });
    }
    let key_hash = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
    Ok(NoteSignature {
        name,
        key_hash,
        signature: raw[4..].to_vec(),
    })
}

/// A signature that verified against a known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Key name.
    pub name: KeyName,
    /// Key hash.
    pub key_hash: u32,
    /// Signature bytes (after the key hash).
    pub signature: Vec<u8>,
    /// Timestamp carried by the signature (cosignatures), seconds since the Unix epoch.
    pub timestamp: Option<u64>,
}

/// A note whose text was signed by at least the required number of known keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    text: String,
    verified: Vec<VerifiedSignature>,
    unverified: Vec<NoteSignature>,
}

impl VerifiedNote {
    /// The verified text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Signatures from known keys, in note order, one per key.
    #[must_use]
    pub fn verified(&self) -> &[VerifiedSignature] {
        &self.verified
    }

    /// Signatures from unknown keys (duplicates removed), in note order.
    #[must_use]
    pub fn unverified(&self) -> &[NoteSignature] {
        &self.unverified
    }

    /// The verified signature from the key `name`+`key_hash`, if any.
    #[must_use]
    pub fn signed_by(&self, name: &str, key_hash: u32) -> Option<&VerifiedSignature> {
        self.verified
            .iter()
            .find(|s| s.name.as_str() == name && s.key_hash == key_hash)
    }
}

/// What a verifier learned from a valid signature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureInfo {
    /// Timestamp carried by the signature (for `cosignature/v1`), seconds since the epoch.
    pub timestamp: Option<u64>,
}

impl SignatureInfo {
    /// Information for a signature that carries no timestamp.
    #[must_use]
    pub fn plain() -> Self {
        Self::default()
    }

    /// Information for a signature carrying `timestamp` (seconds since the epoch).
    #[must_use]
    pub fn with_timestamp(timestamp: u64) -> Self {
        Self {
            timestamp: Some(timestamp),
        }
    }
}

/// Verifies note signatures made by one key.
pub trait NoteVerifier: Send + Sync {
    /// The key name.
    fn name(&self) -> &str;
    /// The 32-bit key hash.
    fn key_hash(&self) -> u32;
    /// The public key itself: what identifies a signer when signatures are counted (a key
    /// listed under several names is still one signer, see [`Note::verify_threshold`]).
    fn public_key(&self) -> &PublicKey;
    /// Verifies `signature` (the bytes after the key hash) over `msg` (the note text).
    ///
    /// # Errors
    /// [`SignatureError`] if the signature does not verify.
    fn verify(&self, msg: &[u8], signature: &[u8]) -> Result<SignatureInfo, SignatureError>;
}

/// Signs notes with one key.
pub trait NoteSigner: Send + Sync {
    /// The key name.
    fn name(&self) -> &str;
    /// The 32-bit key hash.
    fn key_hash(&self) -> u32;
    /// Signs `msg` (the note text), returning the bytes that follow the key hash.
    ///
    /// # Errors
    /// [`SignatureError`] if signing fails.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignatureError>;
}

/// A set of known verifiers, looked up by name and key hash.
#[derive(Clone, Default)]
pub struct Verifiers {
    list: Vec<Arc<dyn NoteVerifier>>,
}

impl fmt::Debug for Verifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.list
                    .iter()
                    .map(|v| format!("{}+{:08x}", v.name(), v.key_hash())),
            )
            .finish()
    }
}

impl Verifiers {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a verifier.
    pub fn push(&mut self, v: impl NoteVerifier + 'static) {
        self.list.push(Arc::new(v));
    }

    /// Adds a shared verifier.
    pub fn push_arc(&mut self, v: Arc<dyn NoteVerifier>) {
        self.list.push(v);
    }

    /// Builder form of [`Verifiers::push`].
    #[must_use]
    pub fn with(mut self, v: impl NoteVerifier + 'static) -> Self {
        self.push(v);
        self
    }

    /// Number of verifiers.
    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The verifiers, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &dyn NoteVerifier> {
        self.list.iter().map(AsRef::as_ref)
    }

    /// The verifiers for which `keep` is true (sharing them, in order).
    #[must_use]
    pub fn filter(&self, keep: impl Fn(&dyn NoteVerifier) -> bool) -> Self {
        Self {
            list: self
                .list
                .iter()
                .filter(|v| keep(v.as_ref()))
                .map(Arc::clone)
                .collect(),
        }
    }

    /// The verifier for `name`+`key_hash`, `None` if unknown.
    ///
    /// # Errors
    /// [`NoteError::AmbiguousKey`] if several verifiers match.
    pub fn find(&self, name: &str, key_hash: u32) -> Result<Option<&dyn NoteVerifier>, NoteError> {
        let mut it = self
            .list
            .iter()
            .filter(|v| v.name() == name && v.key_hash() == key_hash);
        let first = it.next();
        if first.is_some() && it.next().is_some() {
            return Err(NoteError::AmbiguousKey {
                name: name.to_owned(),
                key_hash,
            });
        }
        Ok(first.map(AsRef::as_ref))
    }
}

/// Key ID per signed-note: first 4 bytes (big-endian) of SHA-256(name || `\n` || type || key).
#[must_use]
pub fn key_hash(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut buf = Vec::with_capacity(name.len() + 2 + public_key.len());
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    buf.push(sig_type);
    buf.extend_from_slice(public_key);
    let h = keys::sha256(&buf);
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// Rekor-style key hint: the first 4 bytes (big-endian) of SHA-256 of the SPKI DER.
#[must_use]
pub fn rekor_key_hash(key: &PublicKey) -> u32 {
    let id = key.key_id();
    u32::from_be_bytes([id[0], id[1], id[2], id[3]])
}

fn parse_hash_hex(s: &str) -> Result<u32, VKeyError> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(VKeyError::Malformed {
            reason: "key hash is not 8 hex digits",
        });
    }
    u32::from_str_radix(s, 16).map_err(|_| VKeyError::Malformed {
        reason: "key hash is not 8 hex digits",
    })
}

/// Splits a vkey `name+hash+base64(type || key)` into its parts, checking the name, the
/// base64 and the hash (type byte included).
fn split_vkey(vkey: &str) -> Result<(KeyName, u32, u8, Vec<u8>), VKeyError> {
    let (name, rest) = vkey.split_once('+').ok_or(VKeyError::Malformed {
        reason: "missing '+' after the name",
    })?;
    let (hash16, key64) = rest.split_once('+').ok_or(VKeyError::Malformed {
        reason: "missing '+' after the key hash",
    })?;
    let name = KeyName::new(name).map_err(|_| VKeyError::InvalidName {
        name: name.to_owned(),
    })?;
    let hash = parse_hash_hex(hash16)?;
    let key = B64.decode(key64).map_err(|_| VKeyError::Malformed {
        reason: "key is not valid base64",
    })?;
    let Some((&ty, material)) = key.split_first() else {
        return Err(VKeyError::Malformed {
            reason: "empty key",
        });
    };
    let expected = key_hash(name.as_str(), ty, material);
    if expected != hash {
        return Err(VKeyError::HashMismatch {
            found: hash,
            expected,
        });
    }
    Ok((name, hash, ty, material.to_vec()))
}

fn ed25519_material(material: &[u8]) -> Result<[u8; 32], VKeyError> {
    material.try_into().map_err(|_| {
        VKeyError::Key(KeyError::Length {
            expected: 32,
            actual: material.len(),
        })
    })
}

fn format_vkey(name: &KeyName, hash: u32, ty: u8, material: &[u8]) -> String {
    let mut raw = Vec::with_capacity(1 + material.len());
    raw.push(ty);
    raw.extend_from_slice(material);
    format!("{name}+{hash:08x}+{}", B64.encode(raw))
}

/// The checked name, key ID and parsed key of an Ed25519 verifier key of signature type
/// `sig_type`, shared by [`Ed25519NoteVerifier`] (signed-note, [`SIG_TYPE_ED25519`]) and
/// [`CosignatureV1Verifier`] (tlog-cosignature, [`SIG_TYPE_COSIGNATURE_V1`]): both encode the
/// key as 32 raw bytes and differ here only in the type byte hashed into the key ID.
///
/// # Errors
/// [`VKeyError::InvalidName`] for a bad name (checked first), then [`VKeyError::Key`] if the
/// key is rejected.
fn ed25519_verifier_key(
    name: &str,
    sig_type: u8,
    public_key: &[u8; 32],
) -> Result<(KeyName, u32, PublicKey), VKeyError> {
    let name = KeyName::new(name).map_err(|_| VKeyError::InvalidName {
        name: name.to_owned(),
    })?;
    let key = PublicKey::from_ed25519_raw(public_key)?;
    let key_hash = key_hash(name.as_str(), sig_type, public_key);
    Ok((name, key_hash, key))
}

/// Parses a vkey `name+hash+base64(sig_type || key)` whose type byte must be `sig_type` and
/// whose key must be 32 bytes (Ed25519); returns the name and the raw key.
///
/// # Errors
/// The [`split_vkey`] errors, then [`VKeyError::UnsupportedType`] for another type byte, then
/// [`VKeyError::Key`] with [`KeyError::Length`] for a key that is not 32 bytes.
fn ed25519_vkey(vkey: &str, sig_type: u8) -> Result<(KeyName, [u8; 32]), VKeyError> {
    let (name, _, ty, material) = split_vkey(vkey)?;
    if ty != sig_type {
        return Err(VKeyError::UnsupportedType { found: ty });
    }
    Ok((name, ed25519_material(&material)?))
}

/// Parses a vkey of a supported type (`0x01` Ed25519, `0x04` cosignature/v1) into a verifier.
///
/// # Errors
/// [`VKeyError`] for a malformed key, a hash mismatch or an unsupported type.
pub fn verifier_from_vkey(vkey: &str) -> Result<Arc<dyn NoteVerifier>, VKeyError> {
    let (_, _, ty, _) = split_vkey(vkey)?;
    match ty {
        SIG_TYPE_ED25519 => Ok(Arc::new(Ed25519NoteVerifier::from_vkey(vkey)?)),
        SIG_TYPE_COSIGNATURE_V1 => Ok(Arc::new(CosignatureV1Verifier::from_vkey(vkey)?)),
        found => Err(VKeyError::UnsupportedType { found }),
    }
}

/// Verifier for C2SP Ed25519 note signatures (type `0x01`).
#[derive(Debug, Clone)]
pub struct Ed25519NoteVerifier {
    name: KeyName,
    key_hash: u32,
    raw: [u8; 32],
    key: PublicKey,
}

impl Ed25519NoteVerifier {
    /// A verifier for `name` and the raw 32-byte public key.
    ///
    /// # Errors
    /// [`VKeyError`] if the name is invalid or the key is rejected.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, VKeyError> {
        let (name, key_hash, key) = ed25519_verifier_key(name, SIG_TYPE_ED25519, public_key)?;
        Ok(Self {
            name,
            key_hash,
            raw: *public_key,
            key,
        })
    }

    /// A verifier for `name` and an Ed25519 [`PublicKey`].
    ///
    /// # Errors
    /// [`VKeyError::UnsupportedType`] if the key is not Ed25519.
    pub fn from_public_key(name: &str, key: &PublicKey) -> Result<Self, VKeyError> {
        let raw = key.ed25519_raw().ok_or(VKeyError::UnsupportedType {
            found: SIG_TYPE_ED25519,
        })?;
        Self::new(name, &raw)
    }

    /// Parses a vkey `name+hash+base64(0x01 || key)`.
    ///
    /// # Errors
    /// [`VKeyError`] for a malformed key, hash mismatch or a type other than `0x01`.
    pub fn from_vkey(vkey: &str) -> Result<Self, VKeyError> {
        let (name, raw) = ed25519_vkey(vkey, SIG_TYPE_ED25519)?;
        Self::new(name.as_str(), &raw)
    }

    /// The vkey text.
    #[must_use]
    pub fn to_vkey(&self) -> String {
        format_vkey(&self.name, self.key_hash, SIG_TYPE_ED25519, &self.raw)
    }

    /// The raw public key.
    #[must_use]
    pub fn public_key_raw(&self) -> [u8; 32] {
        self.raw
    }
}

impl NoteVerifier for Ed25519NoteVerifier {
    fn name(&self) -> &str {
        self.name.as_str()
    }
    fn key_hash(&self) -> u32 {
        self.key_hash
    }
    fn public_key(&self) -> &PublicKey {
        &self.key
    }
    /// signed-note type `0x01`: the signature is a bare Ed25519 signature over the note text
    /// itself, and carries no timestamp.
    fn verify(&self, msg: &[u8], signature: &[u8]) -> Result<SignatureInfo, SignatureError> {
        self.key.verify(msg, signature)?;
        Ok(SignatureInfo::plain())
    }
}

/// Signer for C2SP Ed25519 note signatures (type `0x01`).
#[derive(Debug, Clone)]
pub struct Ed25519NoteSigner {
    name: KeyName,
    key_hash: u32,
    key: Ed25519Signer,
}

impl Ed25519NoteSigner {
    /// A signer for `name` from a 32-byte seed.
    ///
    /// # Errors
    /// [`VKeyError`] if the name is invalid or the seed is rejected.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, VKeyError> {
        Self::new(name, Ed25519Signer::from_seed(seed)?)
    }

    /// A signer for `name` using `key`.
    ///
    /// # Errors
    /// [`VKeyError::InvalidName`] if the name is invalid.
    pub fn new(name: &str, key: Ed25519Signer) -> Result<Self, VKeyError> {
        let name = KeyName::new(name).map_err(|_| VKeyError::InvalidName {
            name: name.to_owned(),
        })?;
        Ok(Self {
            key_hash: key_hash(name.as_str(), SIG_TYPE_ED25519, &key.public_key_raw()),
            name,
            key,
        })
    }

    /// Parses an skey `PRIVATE+KEY+name+hash+base64(0x01 || seed)`; the hash must match the
    /// derived public key.
    ///
    /// # Errors
    /// [`VKeyError`] for a malformed key, a hash mismatch or a type other than `0x01`.
    pub fn from_skey(skey: &str) -> Result<Self, VKeyError> {
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(VKeyError::Malformed {
                reason: "missing PRIVATE+KEY+ prefix",
            })?;
        let (name, rest) = rest.split_once('+').ok_or(VKeyError::Malformed {
            reason: "missing '+' after the name",
        })?;
        let (hash16, key64) = rest.split_once('+').ok_or(VKeyError::Malformed {
            reason: "missing '+' after the key hash",
        })?;
        let hash = parse_hash_hex(hash16)?;
        let key = B64.decode(key64).map_err(|_| VKeyError::Malformed {
            reason: "key is not valid base64",
        })?;
        let Some((&ty, seed)) = key.split_first() else {
            return Err(VKeyError::Malformed {
                reason: "empty key",
            });
        };
        if ty != SIG_TYPE_ED25519 {
            return Err(VKeyError::UnsupportedType { found: ty });
        }
        let signer = Self::from_seed(name, &ed25519_material(seed)?)?;
        if signer.key_hash != hash {
            return Err(VKeyError::HashMismatch {
                found: hash,
                expected: signer.key_hash,
            });
        }
        Ok(signer)
    }

    /// The skey text (secret).
    #[must_use]
    pub fn to_skey(&self) -> String {
        format!(
            "PRIVATE+KEY+{}",
            format_vkey(&self.name, self.key_hash, SIG_TYPE_ED25519, self.key.seed())
        )
    }

    /// The matching verifier.
    ///
    /// # Errors
    /// [`VKeyError`] if aws-lc rejects the public key (not expected).
    pub fn verifier(&self) -> Result<Ed25519NoteVerifier, VKeyError> {
        Ed25519NoteVerifier::new(self.name.as_str(), &self.key.public_key_raw())
    }

    /// The vkey text of the matching verifier.
    #[must_use]
    pub fn to_vkey(&self) -> String {
        format_vkey(
            &self.name,
            self.key_hash,
            SIG_TYPE_ED25519,
            &self.key.public_key_raw(),
        )
    }
}

impl NoteSigner for Ed25519NoteSigner {
    fn name(&self) -> &str {
        self.name.as_str()
    }
    fn key_hash(&self) -> u32 {
        self.key_hash
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignatureError> {
        Ok(self.key.sign(msg).to_vec())
    }
}

/// Verifier for Rekor-style note signatures: key hint = SHA-256(SPKI)[..4], signature = the
/// log key's signature over the note text (ECDSA ASN.1 DER with the curve's hash, or Ed25519).
#[derive(Debug, Clone)]
pub struct RekorNoteVerifier {
    name: KeyName,
    key_hash: u32,
    key: PublicKey,
}

impl RekorNoteVerifier {
    /// A verifier for the log key `key` under the signer name `name` (Rekor uses the log's
    /// host, for example `rekor.sigstore.dev`).
    ///
    /// # Errors
    /// [`VKeyError::InvalidName`] for a bad name; [`VKeyError::Key`] with
    /// [`KeyError::UnsupportedAlgorithm`] for RSA keys (Sigstore logs use ECDSA or Ed25519).
    pub fn new(name: &str, key: PublicKey) -> Result<Self, VKeyError> {
        let name = KeyName::new(name).map_err(|_| VKeyError::InvalidName {
            name: name.to_owned(),
        })?;
        if matches!(key.algorithm(), KeyAlgorithm::Rsa { .. }) {
            return Err(VKeyError::Key(KeyError::UnsupportedAlgorithm {
                oid: "rsaEncryption (not allowed for log keys)".to_owned(),
            }));
        }
        Ok(Self {
            key_hash: rekor_key_hash(&key),
            name,
            key,
        })
    }

    /// The log key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

impl NoteVerifier for RekorNoteVerifier {
    fn name(&self) -> &str {
        self.name.as_str()
    }
    fn key_hash(&self) -> u32 {
        self.key_hash
    }
    fn public_key(&self) -> &PublicKey {
        &self.key
    }
    fn verify(&self, msg: &[u8], signature: &[u8]) -> Result<SignatureInfo, SignatureError> {
        self.key.verify(msg, signature)?;
        Ok(SignatureInfo::default())
    }
}

#[derive(Debug, Clone)]
enum RekorKey {
    Ecdsa(EcdsaSigner),
    Ed25519(Ed25519Signer),
}

/// Signer for Rekor-style note signatures (key hint = SHA-256(SPKI)[..4]).
#[derive(Debug, Clone)]
pub struct RekorNoteSigner {
    name: KeyName,
    key_hash: u32,
    key: RekorKey,
}

impl RekorNoteSigner {
    /// An ECDSA signer (the signature is ASN.1 DER over the note text hashed with the
    /// curve's hash).
    ///
    /// # Errors
    /// [`VKeyError::InvalidName`] for a bad name.
    pub fn ecdsa(name: &str, key: EcdsaSigner) -> Result<Self, VKeyError> {
        let name = KeyName::new(name).map_err(|_| VKeyError::InvalidName {
            name: name.to_owned(),
        })?;
        Ok(Self {
            key_hash: rekor_key_hash(key.public_key()),
            name,
            key: RekorKey::Ecdsa(key),
        })
    }

    /// An Ed25519 signer with a Rekor-style (SPKI) key hint.
    ///
    /// # Errors
    /// [`VKeyError::InvalidName`] for a bad name.
    pub fn ed25519(name: &str, key: Ed25519Signer) -> Result<Self, VKeyError> {
        let name = KeyName::new(name).map_err(|_| VKeyError::InvalidName {
            name: name.to_owned(),
        })?;
        Ok(Self {
            key_hash: rekor_key_hash(key.public_key()),
            name,
            key: RekorKey::Ed25519(key),
        })
    }

    /// The public key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        match &self.key {
            RekorKey::Ecdsa(k) => k.public_key(),
            RekorKey::Ed25519(k) => k.public_key(),
        }
    }

    /// The matching verifier.
    ///
    /// # Errors
    /// Not expected (the key type is always allowed).
    pub fn verifier(&self) -> Result<RekorNoteVerifier, VKeyError> {
        RekorNoteVerifier::new(self.name.as_str(), self.public_key().clone())
    }
}

impl NoteSigner for RekorNoteSigner {
    fn name(&self) -> &str {
        self.name.as_str()
    }
    fn key_hash(&self) -> u32 {
        self.key_hash
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignatureError> {
        match &self.key {
            RekorKey::Ecdsa(k) => k.sign(msg),
            RekorKey::Ed25519(k) => Ok(k.sign(msg).to_vec()),
        }
    }
}

/// The message a `cosignature/v1` signature covers: `cosignature/v1\ntime <ts>\n` followed
/// by the checkpoint body.
#[must_use]
pub fn cosignature_v1_message(timestamp: u64, body: &[u8]) -> Vec<u8> {
    let header = format!("cosignature/v1\ntime {timestamp}\n");
    let mut msg = Vec::with_capacity(header.len() + body.len());
    msg.extend_from_slice(header.as_bytes());
    msg.extend_from_slice(body);
    msg
}

/// Largest timestamp a cosignature may carry (2^63 - 1).
pub const MAX_COSIGNATURE_TIMESTAMP: u64 = (1 << 63) - 1;

/// Verifier for `cosignature/v1` Ed25519 cosignatures (type `0x04`); returns the timestamp.
#[derive(Debug, Clone)]
pub struct CosignatureV1Verifier {
    name: KeyName,
    key_hash: u32,
    raw: [u8; 32],
    key: PublicKey,
}

impl CosignatureV1Verifier {
    /// A verifier for cosigner `name` with the raw 32-byte Ed25519 key.
    ///
    /// # Errors
    /// [`VKeyError`] if the name is invalid or the key rejected.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, VKeyError> {
        let (name, key_hash, key) =
            ed25519_verifier_key(name, SIG_TYPE_COSIGNATURE_V1, public_key)?;
        Ok(Self {
            name,
            key_hash,
            raw: *public_key,
            key,
        })
    }

    /// Parses a vkey `name+hash+base64(0x04 || key)`.
    ///
    /// # Errors
    /// [`VKeyError`] for a malformed key, hash mismatch or a type other than `0x04`.
    pub fn from_vkey(vkey: &str) -> Result<Self, VKeyError> {
        let (name, raw) = ed25519_vkey(vkey, SIG_TYPE_COSIGNATURE_V1)?;
        Self::new(name.as_str(), &raw)
    }

    /// The vkey text.
    #[must_use]
    pub fn to_vkey(&self) -> String {
        format_vkey(
            &self.name,
            self.key_hash,
            SIG_TYPE_COSIGNATURE_V1,
            &self.raw,
        )
    }
}

/// Splits a cosignature into its timestamp and Ed25519 signature.
///
/// # Errors
/// [`SignatureError::Invalid`] if it is not 72 bytes or the timestamp exceeds 2^63 - 1.
pub fn split_cosignature(signature: &[u8]) -> Result<(u64, &[u8]), SignatureError> {
    let invalid = SignatureError::Invalid {
        algorithm: KeyAlgorithm::Ed25519,
    };
    if signature.len() != 72 {
        return Err(invalid);
    }
    let (ts, sig) = signature.split_at(8);
    let ts = u64::from_be_bytes(ts.try_into().map_err(|_| invalid.clone())?);
    if ts > MAX_COSIGNATURE_TIMESTAMP {
        return Err(invalid);
    }
    Ok((ts, sig))
}

impl NoteVerifier for CosignatureV1Verifier {
    fn name(&self) -> &str {
        self.name.as_str()
    }
    fn key_hash(&self) -> u32 {
        self.key_hash
    }
    fn public_key(&self) -> &PublicKey {
        &self.key
    }
    /// tlog-cosignature type `0x04`: the signature is an 8-byte big-endian timestamp followed
    /// by an Ed25519 signature over `cosignature/v1\ntime <ts>\n<body>` (not over the note
    /// text alone); the timestamp is returned.
    fn verify(&self, msg: &[u8], signature: &[u8]) -> Result<SignatureInfo, SignatureError> {
        let (ts, sig) = split_cosignature(signature)?;
        self.key.verify(&cosignature_v1_message(ts, msg), sig)?;
        Ok(SignatureInfo::with_timestamp(ts))
    }
}

/// A `cosignature/v1` cosigner key. Use [`CosignatureV1Signer::at`] to sign at a time.
#[derive(Debug, Clone)]
pub struct CosignatureV1Signer {
    name: KeyName,
    key_hash: u32,
    key: Ed25519Signer,
}

impl CosignatureV1Signer {
    /// A cosigner `name` using `key`.
    ///
    /// # Errors
    /// [`VKeyError::InvalidName`] for a bad name.
    pub fn new(name: &str, key: Ed25519Signer) -> Result<Self, VKeyError> {
        let name = KeyName::new(name).map_err(|_| VKeyError::InvalidName {
            name: name.to_owned(),
        })?;
        Ok(Self {
            key_hash: key_hash(
                name.as_str(),
                SIG_TYPE_COSIGNATURE_V1,
                &key.public_key_raw(),
            ),
            name,
            key,
        })
    }

    /// A [`NoteSigner`] that cosigns with `timestamp` (seconds since the Unix epoch).
    #[must_use]
    pub fn at(&self, timestamp: u64) -> TimestampedCosigner<'_> {
        TimestampedCosigner {
            signer: self,
            timestamp,
        }
    }

    /// Cosignature bytes (timestamp || Ed25519 signature) over checkpoint `body`.
    ///
    /// # Errors
    /// [`SignatureError::SigningFailed`] if `timestamp` exceeds 2^63 - 1.
    pub fn sign_at(&self, timestamp: u64, body: &[u8]) -> Result<Vec<u8>, SignatureError> {
        if timestamp > MAX_COSIGNATURE_TIMESTAMP {
            return Err(SignatureError::SigningFailed);
        }
        let sig = self.key.sign(&cosignature_v1_message(timestamp, body));
        let mut out = Vec::with_capacity(72);
        out.extend_from_slice(&timestamp.to_be_bytes());
        out.extend_from_slice(&sig);
        Ok(out)
    }

    /// The matching verifier.
    ///
    /// # Errors
    /// Not expected.
    pub fn verifier(&self) -> Result<CosignatureV1Verifier, VKeyError> {
        CosignatureV1Verifier::new(self.name.as_str(), &self.key.public_key_raw())
    }

    /// The vkey text of the matching verifier.
    #[must_use]
    pub fn to_vkey(&self) -> String {
        format_vkey(
            &self.name,
            self.key_hash,
            SIG_TYPE_COSIGNATURE_V1,
            &self.key.public_key_raw(),
        )
    }
}

/// A cosigner bound to a timestamp; see [`CosignatureV1Signer::at`].
#[derive(Debug, Clone, Copy)]
pub struct TimestampedCosigner<'a> {
    signer: &'a CosignatureV1Signer,
    timestamp: u64,
}

impl NoteSigner for TimestampedCosigner<'_> {
    fn name(&self) -> &str {
        self.signer.name.as_str()
    }
    fn key_hash(&self) -> u32 {
        self.signer.key_hash
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignatureError> {
        self.signer.sign_at(self.timestamp, msg)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! The two Ed25519-based verifiers (signed-note type `0x01`, cosignature/v1 type `0x04`):
    //! the error each rejected input produces, and what each signs.

    use super::*;

    const NAME: &str = "example.com/key";

    fn key() -> Ed25519Signer {
        Ed25519Signer::from_seed(&[7u8; 32]).unwrap()
    }

    fn vkey_with(name: &str, ty: u8, material: &[u8]) -> String {
        let hash = key_hash(name, ty, material);
        format_vkey(&KeyName::new(name).unwrap(), hash, ty, material)
    }

    /// Every constructor error, for one type byte, through `new` and `from_vkey`.
    fn constructor_errors(
        ty: u8,
        other_ty: u8,
        new: impl Fn(&str, &[u8; 32]) -> Result<(), VKeyError>,
        from_vkey: impl Fn(&str) -> Result<(), VKeyError>,
    ) {
        let raw = key().public_key_raw();
        assert_eq!(
            new("bad name", &raw),
            Err(VKeyError::InvalidName {
                name: "bad name".to_owned()
            })
        );
        assert_eq!(new(NAME, &raw), Ok(()));
        assert_eq!(from_vkey(&vkey_with(NAME, ty, &raw)), Ok(()));
        assert_eq!(
            from_vkey(&vkey_with(NAME, other_ty, &raw)),
            Err(VKeyError::UnsupportedType { found: other_ty })
        );
        assert_eq!(
            from_vkey(&vkey_with(NAME, ty, &raw[..31])),
            Err(VKeyError::Key(KeyError::Length {
                expected: 32,
                actual: 31
            }))
        );
        let good = vkey_with(NAME, ty, &raw);
        let (_, rest) = good.split_once('+').unwrap();
        let (_, key64) = rest.split_once('+').unwrap();
        let expected = key_hash(NAME, ty, &raw);
        assert_eq!(
            from_vkey(&format!("{NAME}+{:08x}+{key64}", expected ^ 1)),
            Err(VKeyError::HashMismatch {
                found: expected ^ 1,
                expected
            })
        );
        assert_eq!(
            from_vkey(&format!("{NAME}+{expected:08x}+!!")),
            Err(VKeyError::Malformed {
                reason: "key is not valid base64"
            })
        );
    }

    #[test]
    fn ed25519_verifier_constructor_errors() {
        constructor_errors(
            SIG_TYPE_ED25519,
            SIG_TYPE_COSIGNATURE_V1,
            |n, k| Ed25519NoteVerifier::new(n, k).map(|_| ()),
            |v| Ed25519NoteVerifier::from_vkey(v).map(|_| ()),
        );
    }

    #[test]
    fn cosignature_verifier_constructor_errors() {
        constructor_errors(
            SIG_TYPE_COSIGNATURE_V1,
            SIG_TYPE_ED25519,
            |n, k| CosignatureV1Verifier::new(n, k).map(|_| ()),
            |v| CosignatureV1Verifier::from_vkey(v).map(|_| ()),
        );
    }

    #[test]
    fn key_ids_and_vkeys_differ_only_in_the_type_byte() {
        let raw = key().public_key_raw();
        let plain = Ed25519NoteVerifier::new(NAME, &raw).unwrap();
        let cosig = CosignatureV1Verifier::new(NAME, &raw).unwrap();
        assert_eq!(plain.key_hash(), key_hash(NAME, SIG_TYPE_ED25519, &raw));
        assert_eq!(
            cosig.key_hash(),
            key_hash(NAME, SIG_TYPE_COSIGNATURE_V1, &raw)
        );
        assert_ne!(plain.key_hash(), cosig.key_hash());
        assert_eq!(plain.to_vkey(), vkey_with(NAME, SIG_TYPE_ED25519, &raw));
        assert_eq!(
            cosig.to_vkey(),
            vkey_with(NAME, SIG_TYPE_COSIGNATURE_V1, &raw)
        );
        assert_eq!(
            Ed25519NoteVerifier::from_vkey(&plain.to_vkey())
                .unwrap()
                .public_key_raw(),
            raw
        );
        assert_eq!(
            CosignatureV1Verifier::from_vkey(&cosig.to_vkey())
                .unwrap()
                .to_vkey(),
            cosig.to_vkey()
        );
        assert_eq!(plain.name(), NAME);
        assert_eq!(cosig.name(), NAME);
    }

    #[test]
    fn ed25519_verify_signs_the_text_itself() {
        let msg = b"origin\n1\nroot\n";
        let signer = Ed25519NoteSigner::new(NAME, key()).unwrap();
        let v = signer.verifier().unwrap();
        let sig = signer.sign(msg).unwrap();
        assert_eq!(v.verify(msg, &sig), Ok(SignatureInfo::plain()));
        let invalid = Err(SignatureError::Invalid {
            algorithm: KeyAlgorithm::Ed25519,
        });
        assert_eq!(v.verify(b"origin\n2\nroot\n", &sig), invalid);
        assert_eq!(v.verify(msg, &sig[..63]), invalid);
        assert_eq!(v.verify(msg, &[]), invalid);
        let mut flipped = sig.clone();
        flipped[10] ^= 1;
        assert_eq!(v.verify(msg, &flipped), invalid);
        // A cosignature/v1 over the same text is not a plain signature.
        let cosig = CosignatureV1Signer::new(NAME, key())
            .unwrap()
            .sign_at(5, msg)
            .unwrap();
        assert_eq!(v.verify(msg, &cosig[8..]), invalid);
    }

    #[test]
    fn cosignature_verify_signs_the_timestamped_message() {
        let msg = b"origin\n1\nroot\n";
        let signer = CosignatureV1Signer::new(NAME, key()).unwrap();
        let v = signer.verifier().unwrap();
        let sig = signer.sign_at(1_700_000_000, msg).unwrap();
        assert_eq!(sig.len(), 72);
        assert_eq!(
            v.verify(msg, &sig),
            Ok(SignatureInfo::with_timestamp(1_700_000_000))
        );
        // The Ed25519 part covers `cosignature/v1\ntime <ts>\n<body>`, not the body.
        let plain_key = key();
        let over_body = plain_key.sign(msg);
        let mut plain_sig = 1_700_000_000u64.to_be_bytes().to_vec();
        plain_sig.extend_from_slice(&over_body);
        let invalid = Err(SignatureError::Invalid {
            algorithm: KeyAlgorithm::Ed25519,
        });
        assert_eq!(v.verify(msg, &plain_sig), invalid);
        let over_message = plain_key.sign(&cosignature_v1_message(1_700_000_000, msg));
        assert_eq!(over_message.as_slice(), &sig[8..]);
        // Another timestamp, a short or long signature, a too-large timestamp.
        let mut other_ts = sig.clone();
        other_ts[7] ^= 1;
        assert_eq!(v.verify(msg, &other_ts), invalid);
        assert_eq!(v.verify(msg, &sig[..71]), invalid);
        assert_eq!(v.verify(msg, &[sig.as_slice(), &[0]].concat()), invalid);
        assert_eq!(v.verify(msg, &sig[8..]), invalid);
        let mut big = sig.clone();
        big[..8].copy_from_slice(&(MAX_COSIGNATURE_TIMESTAMP + 1).to_be_bytes());
        assert_eq!(v.verify(msg, &big), invalid);
        assert_eq!(
            signer.sign_at(MAX_COSIGNATURE_TIMESTAMP + 1, msg),
            Err(SignatureError::SigningFailed)
        );
    }
}
