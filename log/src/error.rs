//! The log's error types: why an entry, a CT chain, a query or a log operation failed.
//!
//! A leaf module (it imports only [`crate::storage`]'s error), so that every part of the log
//! can return these without importing the part that defines the operation. [`LogError`] is
//! what the service returns; [`crate::http`] maps each variant to an HTTP status (400 for
//! [`EntryError`], [`ChainError`] and [`QueryError`], 404 for what is not in the tree, 503 for
//! pushback, shutdown and witnesses, 500 with a generic message for the rest, whose detail is
//! logged only).
//!
//! What this module does not do: build HTTP answers (see [`crate::http`]).

use std::path::PathBuf;

use crate::storage::StoreError;

/// The four classes of entry errors (the prefix of their messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryErrorClass {
    /// The JSON is malformed or does not match the schema (`malformed entry: ...`).
    Malformed,
    /// Kind or apiVersion not supported.
    Unsupported,
    /// The key, certificate, digest or envelope is invalid (`invalid entry: ...`).
    Invalid,
    /// A signature does not verify (`signature verification failed: ...`).
    Signature,
}

/// Which key field of an entry a [`KeyError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyField {
    /// The one key of the input (hashedrekord `publicKey.content`, a search key, a CT
    /// precertificate).
    Key,
    /// dsse `verifiers[i]`.
    DsseVerifier(usize),
    /// intoto `signatures[i].publicKey`.
    IntotoSignature(usize),
}

impl std::fmt::Display for KeyField {
    /// The message prefix naming the field (empty for [`KeyField::Key`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Key => Ok(()),
            Self::DsseVerifier(i) => write!(f, "dsse verifier {i}: "),
            Self::IntotoSignature(i) => write!(f, "intoto signature {i}: "),
        }
    }
}

/// Why a key field (a PEM certificate or public key) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not PEM.
    #[error("public key: not a valid PEM block: {reason}")]
    NotPem {
        /// The PEM parser's complaint.
        reason: String,
    },
    /// No PEM block.
    #[error("public key: no PEM block found")]
    NoPemBlock,
    /// More than one PEM block.
    #[error(
        "public key: {} PEM blocks ({}); exactly one CERTIFICATE or PUBLIC KEY block is allowed",
        labels.len(),
        labels.join(", ")
    )]
    SeveralPemBlocks {
        /// The labels of the blocks, in order.
        labels: Vec<String>,
    },
    /// PEM headers (RFC 1421 `Name: value` lines).
    #[error("public key: PEM headers are not allowed")]
    PemHeaders,
    /// A label other than `CERTIFICATE` or `PUBLIC KEY`.
    #[error("public key: expected a PEM CERTIFICATE or PUBLIC KEY, found {label}")]
    WrongLabel {
        /// The label found.
        label: String,
    },
    /// Text before the block.
    #[error("public key: text before the PEM block is not allowed")]
    TextBefore,
    /// Text after the block.
    #[error("public key: text after the PEM block is not allowed")]
    TextAfter,
    /// Text other than base64 lines inside the block.
    #[error("public key: unexpected text in the PEM block (only base64 lines are allowed)")]
    TextInside,
    /// The `PUBLIC KEY` is not an accepted SPKI (malformed, trailing bytes, outside the
    /// allowlist).
    #[error("public key: {reason}")]
    BadKey {
        /// The key parser's complaint.
        reason: String,
    },
    /// The `CERTIFICATE` is not DER X.509.
    #[error("certificate: {reason}")]
    BadCertificate {
        /// The parser's complaint.
        reason: String,
    },
    /// Bytes follow the certificate's DER.
    #[error("certificate: {len} bytes after the certificate DER")]
    CertificateTrailingBytes {
        /// How many.
        len: usize,
    },
    /// The certificate's key is not accepted.
    #[error("certificate key: {reason}")]
    CertificateKey {
        /// The key parser's complaint.
        reason: String,
    },
}

/// Why an entry was rejected (always a client error, 400). [`EntryError::class`] gives its
/// class, which is also the start of its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The JSON is malformed or does not match the schema of its kind.
    #[error("malformed entry: {reason}")]
    Malformed {
        /// The parser's complaint.
        reason: String,
    },
    /// A kind or apiVersion this log does not accept.
    #[error("{reason}")]
    Unsupported {
        /// Which kind or version.
        reason: String,
    },
    /// A kind this log parses but does not accept through `POST /api/v1/log/entries`.
    #[error("unsupported entry type")]
    OtherType,
    /// The spec's fields are invalid for their kind.
    #[error("invalid entry: {reason}")]
    InvalidSpec {
        /// What is wrong.
        reason: String,
    },
    /// A key field is refused.
    #[error("invalid entry: {field}{error}")]
    Key {
        /// Which field.
        field: KeyField,
        /// Why.
        error: KeyError,
    },
    /// A hashedrekord digest value that is not lowercase hex of its algorithm's length.
    #[error("invalid entry: {reason}")]
    Digest {
        /// What is wrong with it.
        reason: String,
    },
    /// An Ed25519 key in a hashedrekord entry.
    #[error(
        "invalid entry: Ed25519 keys sign the whole artifact (PureEdDSA); a hashedrekord entry \
         carries only its digest, so it cannot be verified: use an ECDSA or RSA key, or a dsse \
         entry"
    )]
    Ed25519Hashedrekord,
    /// More signatures than accepted.
    #[error("invalid entry: {kind} envelope has {count} signatures, at most {max} are accepted")]
    TooManySignatures {
        /// `dsse` or `intoto`.
        kind: &'static str,
        /// How many were sent.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More dsse verifiers than accepted.
    #[error("invalid entry: dsse entry has {count} verifiers, at most {max} are accepted")]
    TooManyVerifiers {
        /// How many were sent.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More (signature, verifier) pairs than are checked.
    #[error(
        "invalid entry: dsse entry has {signatures} signatures and {verifiers} verifiers: {} \
         (signature, verifier) pairs, at most {max} are checked",
        signatures * verifiers
    )]
    TooManySignatureChecks {
        /// Signatures sent.
        signatures: usize,
        /// Verifiers sent.
        verifiers: usize,
        /// The limit on pairs.
        max: usize,
    },
    /// Two identical signatures.
    #[error("invalid entry: {kind} signatures {first} and {second} are identical")]
    DuplicateSignatures {
        /// `dsse` or `intoto`.
        kind: &'static str,
        /// The first one's position.
        first: usize,
        /// The repeat's position.
        second: usize,
    },
    /// Two identical dsse verifiers.
    #[error("invalid entry: dsse verifiers {first} and {second} are identical")]
    DuplicateVerifiers {
        /// The first one's position.
        first: usize,
        /// The repeat's position.
        second: usize,
    },
    /// A dsse entry in canonical (stored) form instead of proposed form.
    #[error(
        "invalid entry: dsse entries must be submitted as proposedContent {{envelope, verifiers}}"
    )]
    DsseNotProposed,
    /// An intoto entry without the envelope payload.
    #[error(
        "invalid entry: intoto entries must be submitted with the envelope payload \
         (spec.content.envelope.payload)"
    )]
    IntotoNotProposed,
    /// A submitted intoto `payloadHash` that is not the payload's.
    #[error(
        "invalid entry: intoto content.payloadHash {given} does not match the SHA-256 of the \
         envelope payload ({computed})"
    )]
    PayloadHashMismatch {
        /// The hash submitted.
        given: String,
        /// The payload's SHA-256.
        computed: String,
    },
    /// The stored dsse body cannot fit the entry limit.
    #[error(
        "invalid entry: the stored dsse entry would be at least {at_least} bytes, the limit is \
         {limit}"
    )]
    DsseTooLarge {
        /// A lower bound of the stored body's size.
        at_least: usize,
        /// [`crate::limits::MAX_ENTRY_BYTES`].
        limit: usize,
    },
    /// The stored intoto body exceeds the entry limit.
    #[error("invalid entry: the stored intoto entry would be {bytes} bytes, the limit is {limit}")]
    IntotoTooLarge {
        /// The stored body's size.
        bytes: usize,
        /// [`crate::limits::MAX_ENTRY_BYTES`].
        limit: usize,
    },
    /// A canonical body beyond the entry limit.
    #[error("invalid entry: canonical entry is {bytes} bytes, the limit is {limit}")]
    BodyTooLarge {
        /// The body's size.
        bytes: usize,
        /// [`crate::limits::MAX_ENTRY_BYTES`].
        limit: usize,
    },
    /// A dsse envelope that does not parse or cannot be canonicalized.
    #[error("malformed entry: dsse envelope: {reason}")]
    DsseEnvelope {
        /// The parser's complaint.
        reason: String,
    },
    /// The intoto payload hash could not be computed.
    #[error("malformed entry: intoto payload hash not computed")]
    PayloadHashMissing,
    /// The hashedrekord signature does not verify over the digest with the key.
    #[error(
        "signature verification failed: {reason}: the signature does not match the {hash} \
         artifact digest and key"
    )]
    HashedrekordSignature {
        /// The entry's hash algorithm (`sha256`, `sha384`, `sha512`).
        hash: &'static str,
        /// The verifier's complaint.
        reason: String,
    },
    /// A dsse signature verified by none of the verifiers.
    #[error(
        "signature verification failed: dsse signature {index} is not verified by any of the \
         submitted verifiers"
    )]
    DsseSignature {
        /// Its position.
        index: usize,
    },
    /// An intoto signature that does not verify with its key.
    #[error(
        "signature verification failed: intoto signature {index} does not verify over the DSSE \
         PAE with its publicKey: {reason}"
    )]
    IntotoSignature {
        /// Its position.
        index: usize,
        /// The verifier's complaint.
        reason: String,
    },
}

impl EntryError {
    /// The class of the error (the start of its message).
    #[must_use]
    pub fn class(&self) -> EntryErrorClass {
        match self {
            Self::Malformed { .. } | Self::DsseEnvelope { .. } | Self::PayloadHashMissing => {
                EntryErrorClass::Malformed
            }
            Self::Unsupported { .. } | Self::OtherType => EntryErrorClass::Unsupported,
            Self::HashedrekordSignature { .. }
            | Self::DsseSignature { .. }
            | Self::IntotoSignature { .. } => EntryErrorClass::Signature,
            Self::InvalidSpec { .. }
            | Self::Key { .. }
            | Self::Digest { .. }
            | Self::Ed25519Hashedrekord
            | Self::TooManySignatures { .. }
            | Self::TooManyVerifiers { .. }
            | Self::TooManySignatureChecks { .. }
            | Self::DuplicateSignatures { .. }
            | Self::DuplicateVerifiers { .. }
            | Self::DsseNotProposed
            | Self::IntotoNotProposed
            | Self::PayloadHashMismatch { .. }
            | Self::DsseTooLarge { .. }
            | Self::IntotoTooLarge { .. }
            | Self::BodyTooLarge { .. } => EntryErrorClass::Invalid,
        }
    }
}

/// Why a CT precertificate chain (`add-pre-chain`) was refused (a client error, 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// No certificate was sent.
    #[error("chain is empty")]
    Empty,
    /// More certificates than accepted.
    #[error("chain has more than {max} certificates")]
    TooLong {
        /// The limit ([`crate::ct::MAX_CHAIN`]).
        max: usize,
    },
    /// A chain element is not base64.
    #[error("chain[{index}] is not valid base64: {reason}")]
    Base64 {
        /// Position in the chain.
        index: usize,
        /// The decoder's complaint.
        reason: String,
    },
    /// A chain element is not a DER certificate.
    #[error("chain[{index}] is not a DER certificate: {reason}")]
    NotDer {
        /// Position in the chain.
        index: usize,
        /// The parser's complaint.
        reason: String,
    },
    /// Bytes follow a certificate's DER (they would make one precertificate loggable many
    /// times).
    #[error("chain[{index}] has {len} bytes after the certificate")]
    TrailingBytes {
        /// Position in the chain.
        index: usize,
        /// How many bytes follow.
        len: usize,
    },
    /// The first certificate has the poison extension, but not critical.
    #[error("precertificate poison extension must be critical")]
    PoisonNotCritical,
    /// The first certificate has no poison extension.
    #[error("chain[0] is not a precertificate (no poison extension 1.3.6.1.4.1.11129.2.4.3)")]
    NotPrecertificate,
    /// An issuer is not a CA certificate.
    #[error("chain[{index}] is not a CA certificate")]
    NotCa {
        /// Position of the issuer in the chain.
        index: usize,
    },
    /// A certificate is not signed by the next one.
    #[error("chain[{index}] is not signed by chain[{}]", index + 1)]
    BadSignature {
        /// Position of the certificate whose signature failed.
        index: usize,
    },
    /// The chain does not end at (or under) a configured root.
    #[error("chain does not lead to a root this log accepts")]
    NoRoot,
    /// The precertificate alone was sent and is itself a root.
    #[error("a precertificate cannot be a root")]
    PrecertificateIsRoot,
    /// The precertificate's key or identity cannot be read.
    #[error(transparent)]
    Leaf(EntryError),
    /// The precertificate's TBS cannot be rebuilt for the SCT.
    #[error("precertificate TBS: {reason}")]
    Tbs {
        /// The parser's complaint.
        reason: String,
    },
}

/// A malformed query: entry ids, proof sizes, `entries/retrieve` and `index/retrieve`
/// bodies (a client error, 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// An entry UUID or entry ID with a character that is not hex.
    #[error("entry UUID {id:?} is not hex")]
    EntryIdNotHex {
        /// The text given.
        id: String,
    },
    /// An entry UUID or entry ID of the wrong length.
    #[error("entry UUID must be 64 (or 80 with tree id) hex characters, got {len}")]
    EntryIdLength {
        /// Its length in bytes.
        len: usize,
    },
    /// A consistency proof asked beyond the tree.
    #[error("lastSize {last} is larger than the tree size {size}")]
    LastSizeBeyondTree {
        /// `lastSize` asked.
        last: u64,
        /// The published tree size.
        size: u64,
    },
    /// A consistency proof with `firstSize` > `lastSize`.
    #[error("firstSize {first} is larger than lastSize {last}")]
    FirstAfterLast {
        /// `firstSize` asked.
        first: u64,
        /// `lastSize` asked (or the tree size).
        last: u64,
    },
    /// A consistency proof from the empty tree.
    #[error("firstSize must be at least 1")]
    FirstSizeZero,
    /// Too many items in one `entries/retrieve` query.
    #[error("at most {max} items per query")]
    TooManyItems {
        /// The limit ([`crate::limits::MAX_RETRIEVE`]).
        max: usize,
    },
    /// Too many proposed entries in one `entries/retrieve` query.
    #[error("at most {max} entries per query")]
    TooManyEntries {
        /// The limit ([`crate::limits::MAX_RETRIEVE_ENTRIES`]).
        max: usize,
    },
    /// An explorer search or activity query that cannot be answered as asked.
    #[error("{reason}")]
    Explorer {
        /// What is wrong and what to give instead.
        reason: String,
    },
    /// A negative `logIndexes` item.
    #[error("logIndexes must be non-negative")]
    NegativeLogIndex,
    /// A proposed entry of a query that cannot be re-encoded.
    #[error("{reason}")]
    ProposedEntry {
        /// The encoder's complaint.
        reason: String,
    },
    /// `index/retrieve` `hash` outside Rekor's `SearchIndex.hash` pattern.
    #[error(
        "hash must be [sha256:]<64 hex digits>, [sha512:]<128 hex digits> or [sha1:]<40 hex \
         digits> (Rekor's SearchIndex pattern: sha384 digests cannot be searched)"
    )]
    HashFormat,
    /// `index/retrieve` `publicKey.format` other than x509.
    #[error("only publicKey.format x509 is supported")]
    KeyFormat,
    /// `index/retrieve` `publicKey` without `content`.
    #[error("publicKey.content is required")]
    KeyContentMissing,
    /// `index/retrieve` with no criterion.
    #[error("give at least one of hash, publicKey, email, subject")]
    NoCriteria,
}

/// Why a batch's checkpoint was not published with witness cosignatures (503; the entries
/// are stored and published with the next cosigned checkpoint).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The witnesses' answers do not make the quorum.
    #[error("{reason}{}", failures_suffix(.failures))]
    NoQuorum {
        /// Why the assembled checkpoint does not carry the quorum.
        reason: String,
        /// Each failing witness, `name: what went wrong`.
        failures: Vec<String>,
    },
    /// The cosigned checkpoint is not one this log may serve.
    #[error("the cosigned checkpoint cannot be published: {reason}")]
    NotPublishable {
        /// Why not.
        reason: String,
    },
    /// The cosigned checkpoint could not be made durable.
    #[error("storing the cosigned checkpoint: {reason}")]
    Store {
        /// The storage failure.
        reason: String,
    },
    /// The entry is stored, but the published checkpoint does not cover it yet.
    #[error("the entry is stored but its checkpoint has not been cosigned yet")]
    NotCosignedYet,
}

fn failures_suffix(failures: &[String]) -> String {
    if failures.is_empty() {
        String::new()
    } else {
        format!(" ({})", failures.join("; "))
    }
}

/// A witness policy file that cannot be used by a log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessConfigError {
    /// The file could not be read.
    #[error("witness policy {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not parse.
    #[error("witness policy {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Errors of log operations, mapped to HTTP statuses by [`crate::http`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The entry is invalid (400).
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// The CT precertificate chain is refused (400).
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The query is malformed (400).
    #[error(transparent)]
    Query(#[from] QueryError),
    /// A log index at or beyond the published tree size (404).
    #[error("log index {index} is not in the tree (size {size})")]
    IndexNotInTree {
        /// The index asked.
        index: u64,
        /// The published tree size.
        size: u64,
    },
    /// An entry ID whose tree id is not this log's (404).
    #[error("entry {id} belongs to another tree")]
    OtherTree {
        /// The entry ID asked.
        id: String,
    },
    /// No entry with this UUID in the published tree (404).
    #[error("no entry with UUID {uuid}")]
    NoSuchEntry {
        /// The UUID (or entry ID) asked.
        uuid: String,
    },
    /// A path under `/tile/` that is not a tlog-tiles path (404).
    #[error("not a tile path: {reason}")]
    NotATilePath {
        /// The parser's complaint.
        reason: String,
    },
    /// A tile or entry bundle beyond the published tree (404).
    #[error("{path} does not exist at tree size {size}")]
    NoSuchTile {
        /// The path asked (`tile/...`).
        path: String,
        /// The published tree size.
        size: u64,
    },
    /// A write to a frozen shard (409): it is read-only since `signet log rotate`.
    #[error("tree {tree_id} is a frozen shard: it takes no new entries")]
    Frozen {
        /// The frozen tree's id.
        tree_id: i64,
    },
    /// The queue is full (503 with Retry-After).
    #[error("the log is overloaded, retry later")]
    Pushback,
    /// The log is shutting down (503).
    #[error("the log is shutting down")]
    Shutdown,
    /// The witness quorum did not cosign the batch's checkpoint (503; the entries are stored
    /// and published with the next cosigned checkpoint).
    #[error("witness cosignatures unavailable: {0}")]
    Witness(#[from] WitnessError),
    /// With witnesses: no checkpoint has been cosigned by the quorum yet (a new log, or a
    /// store whose published checkpoint the current policy does not accept), so there is
    /// nothing to serve a proof against (503).
    #[error("no checkpoint has been cosigned by the witness quorum yet")]
    Unpublished,
    /// The witness policy cannot be used (at start; nothing is written).
    #[error(transparent)]
    WitnessPolicy(#[from] WitnessConfigError),
    /// A CT root file cannot be used (at start).
    #[error("ct root {}: {reason}", path.display())]
    CtRoots {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Storage failure (500; details logged only).
    #[error("storage: {0}")]
    Storage(#[from] StoreError),
    /// Signing a checkpoint, SET or SCT failed (500).
    #[error("signing the {what}: {reason}")]
    Signing {
        /// What was being signed.
        what: &'static str,
        /// The signer's error.
        reason: String,
    },
    /// Merkle tree computation (integration, proofs, roots) failed (500; a missing tile).
    #[error("{what}: {reason}")]
    Merkle {
        /// What was being computed, e.g. `inclusion proof for 7`.
        what: String,
        /// The error.
        reason: String,
    },
    /// The store contradicts itself (500; run `fsck`).
    #[error("the store is inconsistent: {what}")]
    Inconsistent {
        /// What is missing or wrong.
        what: String,
    },
    /// A refused publication: the published tree never goes backwards (500).
    #[error("refusing to publish size {size} below the published size {published}")]
    PublishBelow {
        /// The size offered.
        size: u64,
        /// The stored published size.
        published: u64,
    },
    /// A number beyond what the wire format carries (500).
    #[error("{what} {value} is out of range")]
    OutOfRange {
        /// Which number.
        what: &'static str,
        /// Its value.
        value: u64,
    },
    /// The batch holding the entry could not be committed (500; the detail is logged once
    /// for the batch).
    #[error("batch commit failed")]
    BatchFailed,
    /// Any other internal failure (500; details logged only).
    #[error("internal: {what}: {reason}")]
    Internal {
        /// What was being done.
        what: &'static str,
        /// The error.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed errors write the messages clients have always received.
    #[test]
    fn messages_are_the_established_ones() {
        let cases: Vec<(String, &str)> = vec![
            (
                ChainError::BadSignature { index: 0 }.to_string(),
                "chain[0] is not signed by chain[1]",
            ),
            (
                ChainError::Leaf(EntryError::Key {
                    field: KeyField::Key,
                    error: KeyError::CertificateTrailingBytes { len: 2 },
                })
                .to_string(),
                "invalid entry: certificate: 2 bytes after the certificate DER",
            ),
            (
                EntryError::Key {
                    field: KeyField::DsseVerifier(1),
                    error: KeyError::SeveralPemBlocks {
                        labels: vec!["CERTIFICATE".into(), "PUBLIC KEY".into()],
                    },
                }
                .to_string(),
                "invalid entry: dsse verifier 1: public key: 2 PEM blocks (CERTIFICATE, PUBLIC \
                 KEY); exactly one CERTIFICATE or PUBLIC KEY block is allowed",
            ),
            (
                EntryError::TooManySignatureChecks {
                    signatures: 3,
                    verifiers: 16,
                    max: 32,
                }
                .to_string(),
                "invalid entry: dsse entry has 3 signatures and 16 verifiers: 48 (signature, \
                 verifier) pairs, at most 32 are checked",
            ),
            (
                EntryError::DsseNotProposed.to_string(),
                "invalid entry: dsse entries must be submitted as proposedContent {envelope, \
                 verifiers}",
            ),
            (
                LogError::from(WitnessError::NoQuorum {
                    reason: "1 of 2".into(),
                    failures: vec!["w1: 500".into(), "w2: timeout".into()],
                })
                .to_string(),
                "witness cosignatures unavailable: 1 of 2 (w1: 500; w2: timeout)",
            ),
            (
                LogError::from(QueryError::EntryIdLength { len: 3 }).to_string(),
                "entry UUID must be 64 (or 80 with tree id) hex characters, got 3",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
        assert_eq!(
            EntryError::DsseSignature { index: 0 }.class(),
            EntryErrorClass::Signature
        );
    }
}
