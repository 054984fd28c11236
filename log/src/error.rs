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

/// Why an entry was rejected (always a client error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The JSON is malformed or does not match the schema.
    #[error("malformed entry: {0}")]
    Malformed(String),
    /// Kind or apiVersion not supported.
    #[error("{0}")]
    Unsupported(String),
    /// The key, certificate, digest or envelope is invalid.
    #[error("invalid entry: {0}")]
    Invalid(String),
    /// A signature does not verify.
    #[error("signature verification failed: {0}")]
    Signature(String),
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
    /// A negative `logIndexes` item.
    #[error("logIndexes must be non-negative")]
    NegativeLogIndex,
    /// A proposed entry of a query that cannot be re-encoded.
    #[error("{reason}")]
    ProposedEntry {
        /// The encoder's complaint.
        reason: String,
    },
    /// `index/retrieve` `hash` that is not a SHA-256 digest.
    #[error("hash must be sha256:<64 hex digits>")]
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
