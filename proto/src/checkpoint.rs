//! Transparency log checkpoints: C2SP tlog-checkpoint (<https://c2sp.org/tlog-checkpoint>).
//!
//! A checkpoint is a signed note whose text is the origin line, the decimal tree size (no
//! leading zeros), the base64 RFC 6962 root hash, and optional non-empty extension lines.
//! [`Checkpoint`] is the body; [`UnverifiedCheckpoint`] is a parsed note whose body must not be
//! trusted yet; [`SignedCheckpoint`] is a body together with its note, either produced by
//! [`SignedCheckpoint::sign`] or verified by [`UnverifiedCheckpoint::verify`] /
//! [`SignedCheckpoint::open`].
//!
//! What this module does not do: no consistency checking between checkpoints (see
//! [`crate::merkle`]), no key-name-equals-origin rule (the spec only says SHOULD; callers that
//! want it use [`SignedCheckpoint::open_for_origin`]), no clock.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::note::{Note, NoteError, NoteSigner, VerifiedSignature, Verifiers};

/// Errors from parsing, signing and verifying checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The checkpoint text is malformed.
    #[error("malformed checkpoint (line {line}): {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// The signed note is malformed or did not verify.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The origin line is not the expected one.
    #[error("checkpoint origin {found:?} is not the expected {expected:?}")]
    OriginMismatch {
        /// Expected origin.
        expected: String,
        /// Origin found.
        found: String,
    },
}

/// A checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// Log identity (first line), non-empty.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// RFC 6962 root hash at `size`.
    pub root: [u8; 32],
    /// Extension lines (without newlines), each non-empty.
    pub extensions: Vec<String>,
}

fn malformed(line: usize, reason: &'static str) -> CheckpointError {
    CheckpointError::Malformed { line, reason }
}

fn check_line(line: &str, n: usize) -> Result<(), CheckpointError> {
    if line.is_empty() {
        return Err(malformed(n, "empty line"));
    }
    if line.chars().any(|c| c < ' ') {
        return Err(malformed(n, "control character or newline"));
    }
    Ok(())
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    #[must_use]
    pub fn new(origin: impl Into<String>, size: u64, root: [u8; 32]) -> Self {
        Self {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Checks the fields can be written as checkpoint text: origin and extension lines are
    /// non-empty and have no control characters (newlines included).
    ///
    /// # Errors
    /// [`CheckpointError::Malformed`] naming the offending line.
    pub fn validate(&self) -> Result<(), CheckpointError> {
        check_line(&self.origin, 1)?;
        for (i, e) in self.extensions.iter().enumerate() {
            check_line(e, i + 4)?;
        }
        Ok(())
    }

    /// The note text: origin, size, base64 root and extension lines, each ending in a newline.
    /// Call [`Checkpoint::validate`] first for fields from untrusted sources.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses checkpoint text (the note text, including the final newline).
    ///
    /// # Errors
    /// [`CheckpointError::Malformed`] if the text does not end with a newline, has fewer than
    /// three lines, an empty origin or extension line, a size that is not canonical decimal
    /// `u64`, or a root that is not canonical base64 of 32 bytes.
    pub fn parse_text(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed(1, "text does not end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        check_line(origin, 1)?;
        let size_line = lines
            .next()
            .ok_or_else(|| malformed(2, "missing tree size"))?;
        let size = parse_size(size_line)?;
        let root_line = lines
            .next()
            .ok_or_else(|| malformed(3, "missing root hash"))?;
        let root_bytes = B64
            .decode(root_line)
            .map_err(|_| malformed(3, "root hash is not base64"))?;
        let root: [u8; 32] = root_bytes
            .as_slice()
            .try_into()
            .map_err(|_| malformed(3, "root hash is not 32 bytes"))?;
        let mut extensions = Vec::new();
        for (i, e) in lines.enumerate() {
            check_line(e, i + 4)?;
            extensions.push(e.to_owned());
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

fn parse_size(s: &str) -> Result<u64, CheckpointError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(2, "tree size is not a decimal number"));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(malformed(2, "tree size has a leading zero"));
    }
    s.parse()
        .map_err(|_| malformed(2, "tree size does not fit in 64 bits"))
}

/// A parsed checkpoint note whose contents are not trusted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedCheckpoint {
    note: Note,
    checkpoint: Checkpoint,
}

impl UnverifiedCheckpoint {
    /// Parses a signed checkpoint note without verifying it.
    ///
    /// # Errors
    /// [`CheckpointError::Note`] for a malformed note, [`CheckpointError::Malformed`] for a
    /// malformed body.
    pub fn parse(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let note = Note::parse(bytes)?;
        let checkpoint = Checkpoint::parse_text(note.text())?;
        Ok(Self { note, checkpoint })
    }

    /// The claimed origin, for choosing which verifiers to use. Untrusted.
    #[must_use]
    pub fn origin_unverified(&self) -> &str {
        &self.checkpoint.origin
    }

    /// The claimed body. Untrusted.
    #[must_use]
    pub fn checkpoint_unverified(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The parsed note.
    #[must_use]
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// Verifies the note (at least one known key signed, no known key's signature is bad).
    ///
    /// # Errors
    /// [`CheckpointError::Note`] as [`Note::verify`].
    pub fn verify(self, known: &Verifiers) -> Result<SignedCheckpoint, CheckpointError> {
        self.verify_threshold(known, 1)
    }

    /// Verifies that at least `threshold` distinct keys of `known` signed (k-of-n).
    ///
    /// # Errors
    /// [`CheckpointError::Note`] as [`Note::verify_threshold`].
    pub fn verify_threshold(
        self,
        known: &Verifiers,
        threshold: usize,
    ) -> Result<SignedCheckpoint, CheckpointError> {
        let verified = self.note.verify_threshold(known, threshold)?;
        Ok(SignedCheckpoint {
            checkpoint: self.checkpoint,
            note: self.note,
            verified: verified.verified().to_vec(),
        })
    }
}

/// A checkpoint with its signed note, made by this process or verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
    verified: Vec<VerifiedSignature>,
}

impl SignedCheckpoint {
    /// Signs `checkpoint` with each signer, in order (for a Sigstore-compatible log: the
    /// Rekor-style ECDSA signer first, then the C2SP Ed25519 one).
    ///
    /// # Errors
    /// [`CheckpointError::Malformed`] if the checkpoint fails [`Checkpoint::validate`],
    /// [`CheckpointError::Note`] if a signer fails.
    pub fn sign(
        checkpoint: Checkpoint,
        signers: &[&dyn NoteSigner],
    ) -> Result<Self, CheckpointError> {
        checkpoint.validate()?;
        let note = Note::sign(checkpoint.to_text(), signers)?;
        Ok(Self {
            checkpoint,
            note,
            verified: Vec::new(),
        })
    }

    /// Parses and verifies a signed checkpoint against `known`.
    ///
    /// # Errors
    /// As [`UnverifiedCheckpoint::parse`] and [`UnverifiedCheckpoint::verify`].
    pub fn open(bytes: &[u8], known: &Verifiers) -> Result<Self, CheckpointError> {
        UnverifiedCheckpoint::parse(bytes)?.verify(known)
    }

    /// Like [`SignedCheckpoint::open`] but also requires the origin line to equal `origin`.
    ///
    /// # Errors
    /// [`CheckpointError::OriginMismatch`], then as [`SignedCheckpoint::open`].
    pub fn open_for_origin(
        bytes: &[u8],
        origin: &str,
        known: &Verifiers,
    ) -> Result<Self, CheckpointError> {
        let u = UnverifiedCheckpoint::parse(bytes)?;
        if u.origin_unverified() != origin {
            return Err(CheckpointError::OriginMismatch {
                expected: origin.to_owned(),
                found: u.origin_unverified().to_owned(),
            });
        }
        u.verify(known)
    }

    /// The checkpoint body.
    #[must_use]
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The signed note.
    #[must_use]
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// Signatures checked when this checkpoint was opened; empty for one made by
    /// [`SignedCheckpoint::sign`] (its signatures were made, not checked).
    #[must_use]
    pub fn verified(&self) -> &[VerifiedSignature] {
        &self.verified
    }

    /// Adds (or replaces) signatures, for example a witness cosignature.
    ///
    /// # Errors
    /// [`CheckpointError::Note`] as [`Note::add_signatures`].
    pub fn add_signatures(&mut self, signers: &[&dyn NoteSigner]) -> Result<(), CheckpointError> {
        self.note.add_signatures(signers)?;
        Ok(())
    }

    /// The serialized signed note.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.note.to_bytes()
    }
}
