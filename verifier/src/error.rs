//! Layered verification errors.
//!
//! One top-level [`VerificationError`] whose variants name the check that failed (bundle shape,
//! certificate chain, SCT, artifact signature, identity policy, log entry, checkpoint, SET,
//! time), each wrapping a typed error with structured fields that says why. The layering
//! follows sigstore-rs (`VerificationError::{Bundle, Certificate, Signature, Policy}`).
//!
//! This module does no checking itself; it only defines the error vocabulary. Building a
//! [`crate::trust::TrustMaterial`] fails with [`TrustError`] instead.

use thiserror::Error;

/// Why a bundle failed verification. Each variant names the check; the inner error says why.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VerificationError {
    /// The bundle is malformed or uses a shape this verifier does not accept.
    #[error("bundle: {0}")]
    Bundle(#[from] BundleError),
    /// The signing certificate does not chain to a trusted CA or violates the leaf profile.
    #[error("certificate: {0}")]
    Certificate(#[from] CertificateError),
    /// The embedded signed certificate timestamp is missing or does not verify.
    #[error("SCT: {0}")]
    Sct(#[from] SctError),
    /// The signature over the artifact (or DSSE envelope) does not verify or covers other data.
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    /// The certificate identity does not satisfy the policy.
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    /// The transparency log entry does not match the bundle or its inclusion proof fails.
    #[error("transparency log: {0}")]
    Tlog(#[from] TlogError),
    /// The checkpoint (signed tree head) is malformed, unsigned or disagrees with the proof.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The signed entry timestamp (inclusion promise) is missing or does not verify.
    #[error("signed entry timestamp (SET): {0}")]
    Set(#[from] SetError),
    /// A time check failed (signing time outside a validity window, or in the future).
    #[error("time: {0}")]
    Time(#[from] TimeError),
    /// An RFC 3161 signed timestamp does not verify.
    #[error("RFC 3161 timestamp: {0}")]
    Timestamp(#[from] TimestampError),
    /// A cosign `.sig` / `.att` signature is malformed or disagrees with itself or the image.
    #[error("cosign signature: {0}")]
    Cosign(#[from] CosignError),
    /// The bundle needs a feature this verifier does not implement yet.
    #[error("not yet supported: {feature}")]
    Unsupported {
        /// What is missing, e.g. "Rekor v2 dsse 0.0.2 entries".
        feature: String,
    },
}

/// Errors specific to cosign's OCI signature format (`sha256-<hex>.sig` / `.att` tags): the
/// layer's parts disagree with each other or with the image. The shared checks (certificate,
/// SCT, identity, signature, SET, entry body) report their own variants.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CosignError {
    /// The layer, its annotations or its payload are malformed (the bytes are not the layer
    /// digest, a PEM or base64 value does not decode, the payload is not cosign's JSON).
    #[error("{0}")]
    Format(#[from] signet_proto::cosign::CosignError),
    /// The signed payload names another image: the tag points elsewhere.
    #[error(
        "the signed payload names image {payload}, not {image}: this signature is for another \
         image (a signature tag copied or pointing elsewhere)"
    )]
    DigestMismatch {
        /// The digest the payload or statement names.
        payload: String,
        /// The image digest being verified.
        image: String,
    },
    /// A layer annotation disagrees with the layer or the log entry.
    #[error("annotation {annotation} disagrees with {with}")]
    AnnotationMismatch {
        /// The annotation key.
        annotation: &'static str,
        /// What it disagrees with.
        with: String,
    },
    /// No Rekor bundle annotation, and the policy requires a log entry.
    #[error(
        "the signature carries no Rekor bundle (dev.sigstore.cosign/bundle), so nothing proves \
         it was logged or when it was made; keyed signatures made without a log \
         (cosign --tlog-upload=false) verify only with --insecure-ignore-tlog"
    )]
    NoLogEntry,
    /// A certificate without a Rekor bundle: no verified signing time to check it at.
    #[error(
        "the signature carries a certificate but no Rekor bundle: there is no verified signing \
         time to check the certificate at (signatures from a private CA without a log are not \
         supported)"
    )]
    NoSigningTime,
}

/// Errors about the bundle's structure (before any cryptography).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The mediaType is not a known bundle version.
    #[error("unknown media type {media_type:?}")]
    MediaType {
        /// The value found.
        media_type: String,
    },
    /// A required field is absent.
    #[error("missing {field}")]
    Missing {
        /// The field, as a JSON path.
        field: &'static str,
    },
    /// The bundle does not carry exactly one transparency log entry.
    #[error("expected exactly one tlog entry, found {count}")]
    TlogEntryCount {
        /// How many entries the bundle has.
        count: usize,
    },
    /// A field does not decode.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field, as a JSON path.
        field: &'static str,
        /// Why it does not decode.
        reason: String,
    },
    /// The bundle's verification material does not fit the policy (certificate vs key).
    #[error("{0}")]
    MaterialMismatch(String),
}

/// Errors about the signing certificate and its chain.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The leaf certificate does not parse.
    #[error("leaf certificate does not parse: {reason}")]
    Parse {
        /// Parser message.
        reason: String,
    },
    /// No trusted CA's issuing certificate has the leaf's issuer name (and key identifier).
    #[error("no trusted CA issued this certificate (issuer {issuer})")]
    UnknownIssuer {
        /// The leaf's issuer distinguished name.
        issuer: String,
    },
    /// The leaf's signature does not verify with the issuing CA key.
    #[error("leaf signature does not verify with the key of CA {ca}: {reason}")]
    BadSignature {
        /// The CA's issuing certificate subject.
        ca: String,
        /// Why it failed.
        reason: String,
    },
    /// The leaf violates the Fulcio leaf profile.
    #[error("leaf profile: {0}")]
    Profile(String),
    /// The leaf's key is not an accepted signing key.
    #[error("leaf public key: {reason}")]
    Key {
        /// Why the key is rejected.
        reason: String,
    },
    /// The leaf names no signer: none of its subject alternative names is of a type Sigstore
    /// clients accept as a signer identity (email, URI, Fulcio's username otherName).
    #[error("the certificate names no signer: its subject alternative names ({found}) include no email, URI or Fulcio username (otherName 1.3.6.1.4.1.57264.1.7), the only types that identify a signer")]
    NoSigner {
        /// The SAN types the certificate has, e.g. `dNSName`.
        found: String,
    },
    /// A certificate of the chain was revoked at or before the signing time.
    #[error("{0}")]
    Revoked(Box<RevokedCertificate>),
}

impl From<crate::trusted_keys::KeyRefused> for PolicyError {
    fn from(e: crate::trusted_keys::KeyRefused) -> Self {
        Self::TrustedKey(Box::new(e))
    }
}

/// A certificate revoked at or before the signing time ([`CertificateError::Revoked`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{certificate} (serial {serial}) was revoked by {issuer} from {revoked} ({reason}), at or before the signing time {signing_time}")]
pub struct RevokedCertificate {
    /// Which certificate: the signing certificate or a CA certificate.
    pub certificate: String,
    /// Its serial number, hex.
    pub serial: String,
    /// The CRL's issuer.
    pub issuer: String,
    /// When the revocation takes effect (RFC 3339).
    pub revoked: String,
    /// The RFC 5280 reason.
    pub reason: String,
    /// The verified signing time (RFC 3339).
    pub signing_time: String,
}

/// Errors about the embedded signed certificate timestamps.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SctError {
    /// The leaf has no SCT list extension.
    #[error("the certificate has no embedded SCT")]
    Missing,
    /// The SCT list does not decode.
    #[error("the SCT list does not decode: {reason}")]
    Decode {
        /// Decoder message.
        reason: String,
    },
    /// An SCT from a log in the trust root does not verify.
    #[error("SCT from CT log {log_id} does not verify: {reason}")]
    BadSignature {
        /// Hex log ID.
        log_id: String,
        /// Why it failed.
        reason: String,
    },
    /// No SCT comes from a CT log in the trust root.
    #[error("none of the {count} SCT(s) is from a trusted CT log (log IDs: {log_ids})")]
    NoTrustedLog {
        /// Number of SCTs.
        count: usize,
        /// Their hex log IDs, comma separated.
        log_ids: String,
    },
    /// No CT log with the SCT's log ID is valid at the SCT's timestamp.
    #[error("SCT from CT log {log_id}: {source}")]
    NotValidAt {
        /// Hex log ID.
        log_id: String,
        /// The times and windows.
        source: NotValidAt,
    },
}

/// Errors about the artifact signature.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature does not verify with the signing key.
    #[error("the signature over the {what} does not verify: {reason}")]
    Invalid {
        /// What was signed: "artifact digest" or "DSSE envelope (PAE)".
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// The bundle's messageDigest differs from the artifact's digest.
    #[error("the bundle's message digest {bundle} differs from the artifact digest {artifact}")]
    DigestMismatch {
        /// Hex digest in the bundle.
        bundle: String,
        /// Hex digest of the artifact.
        artifact: String,
    },
    /// The message digest uses an algorithm other than SHA2_256, SHA2_384 or SHA2_512.
    #[error("unsupported message digest algorithm {algorithm}")]
    DigestAlgorithm {
        /// Algorithm named by the bundle.
        algorithm: String,
    },
    /// The bundle's messageDigest is of another hash than the one the log entry states.
    #[error(
        "the bundle's message digest is {bundle} but the log entry states a {entry} digest of \
         the artifact"
    )]
    DigestAlgorithmMismatch {
        /// The bundle's hash.
        bundle: String,
        /// The log entry's hash.
        entry: String,
    },
    /// The log entry states a digest other than SHA-256 and only the artifact's SHA-256
    /// digest was given.
    #[error(
        "the log entry states a {hash} digest of the artifact: give the artifact itself, not \
         only its SHA-256 digest"
    )]
    NeedsOtherDigest {
        /// The log entry's hash.
        hash: String,
    },
    /// The DSSE envelope does not carry exactly one signature.
    #[error("the DSSE envelope carries {count} signatures, expected exactly 1")]
    DsseSignatureCount {
        /// Number of signatures.
        count: usize,
    },
    /// The DSSE payload is not an in-toto statement naming the artifact.
    #[error("DSSE payload: {0}")]
    Statement(String),
    /// No in-toto subject carries the artifact digest.
    #[error("no in-toto subject has sha256 digest {artifact}")]
    SubjectMismatch {
        /// Hex artifact digest.
        artifact: String,
    },
    /// Ed25519 keys sign the message itself, so a digest alone cannot be checked.
    #[error("an Ed25519 signing key needs the artifact bytes, not only its digest")]
    NeedsArtifactBytes,
}

/// Errors about the identity policy.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The trusted keys refuse the key that signed, at the signing time.
    #[error(transparent)]
    TrustedKey(Box<crate::trusted_keys::KeyRefused>),
    /// A value in the certificate did not match the policy.
    #[error("{field} {actual:?} does not match {expected}{hint}")]
    Mismatch {
        /// The certificate field (SAN, issuer, or an extension name).
        field: String,
        /// What the certificate carries (or `"<absent>"`).
        actual: String,
        /// The policy's expectation, e.g. `exactly "x"` or `regex "x" (whole value)`.
        expected: String,
        /// Empty, or (starting with "; ") how to fix a near miss: a regex that matches only
        /// part of the value, with its substring form.
        hint: String,
    },
    /// No alternative of an any_of policy matched.
    #[error("none of {count} alternatives matched: {reasons}")]
    NoneMatched {
        /// Number of alternatives.
        count: usize,
        /// Each alternative's failure, separated by "; ".
        reasons: String,
    },
    /// A regular expression in the policy does not compile.
    #[error("invalid regular expression {pattern:?}: {reason}")]
    Regex {
        /// The pattern.
        pattern: String,
        /// Compiler message.
        reason: String,
    },
    /// The public key given for keyed verification does not parse.
    #[error("invalid public key: {reason}")]
    Key {
        /// Why.
        reason: String,
    },
    /// The identity could not be read from the certificate.
    #[error("cannot read the certificate identity: {reason}")]
    Identity {
        /// Why.
        reason: String,
    },
}

/// Errors about the transparency log entry and its inclusion proof.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TlogError {
    /// The entry's log ID is not a tlog in the trust root.
    #[error("log {log_id} is not in the trust root")]
    UnknownLog {
        /// Base64 log ID from the bundle.
        log_id: String,
    },
    /// The canonicalized body does not decode as a supported entry.
    #[error("entry body: {reason}")]
    Body {
        /// Why.
        reason: String,
    },
    /// The entry body disagrees with the bundle.
    #[error("entry body {field} does not match the bundle")]
    BodyMismatch {
        /// Which body field disagrees.
        field: &'static str,
    },
    /// The entry kind/version is not supported or disagrees with the body.
    #[error("entry kind {kind} {version}: {reason}")]
    Kind {
        /// kindVersion.kind.
        kind: String,
        /// kindVersion.version.
        version: String,
        /// Why it is rejected.
        reason: String,
    },
    /// The entry has no inclusion proof.
    #[error("the entry has no inclusion proof")]
    MissingProof,
    /// The inclusion proof does not recompute the claimed root.
    #[error("the inclusion proof for leaf {index} in a tree of {size} does not recompute the root: {reason}")]
    Inclusion {
        /// Leaf index.
        index: u64,
        /// Tree size.
        size: u64,
        /// Why.
        reason: String,
    },
}

/// Errors about the checkpoint.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The proof carries no checkpoint.
    #[error("the inclusion proof carries no checkpoint")]
    Missing,
    /// The signed note or checkpoint text does not parse.
    #[error("does not parse: {reason}")]
    Parse {
        /// Why.
        reason: String,
    },
    /// The note is not signed by the log's key.
    #[error("not signed by the log key of {log}: {reason}")]
    Signature {
        /// The log (base URL or ID).
        log: String,
        /// Why.
        reason: String,
    },
    /// The checkpoint's root or size differs from the inclusion proof's.
    #[error("checkpoint {field} {checkpoint} differs from the inclusion proof's {proof}")]
    Mismatch {
        /// "root hash" or "tree size".
        field: &'static str,
        /// Value in the checkpoint.
        checkpoint: String,
        /// Value in the proof.
        proof: String,
    },
    /// A known witness's cosignature does not verify.
    #[error("witness cosignature: {reason}")]
    WitnessSignature {
        /// Why.
        reason: String,
    },
    /// Too few witnesses cosigned the checkpoint.
    #[error("{valid} of the required {threshold} witness cosignatures verify")]
    Witnesses {
        /// Distinct witness keys with a valid cosignature.
        valid: usize,
        /// Required number.
        threshold: usize,
    },
    /// The witness policy can never be met as given: a threshold of 0, or more than its
    /// distinct witness keys (one key listed twice, or a log's own key, counts once or not at
    /// all).
    #[error("unusable witness policy: {reason}")]
    WitnessPolicy {
        /// Why.
        reason: String,
    },
}

/// Errors about the signed entry timestamp.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SetError {
    /// The entry has no inclusion promise.
    #[error("the entry has no inclusion promise; without a timestamp authority the integrated time cannot be trusted")]
    Missing,
    /// The SET does not verify with the log key.
    #[error("does not verify with the key of log {log}: {reason}")]
    Invalid {
        /// The log.
        log: String,
        /// Why.
        reason: String,
    },
}

/// No entry of one kind in the trusted root has a `validFor` window containing the verified
/// time: the one error of the selection rule (`trust::valid_at`), used for CAs,
/// transparency logs, CT logs and TSAs alike.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "no {kind} in the trusted root is valid at {time}: windows seen: {windows} (a signature \
     verifies only under trust material whose validFor contains its signing time; use a trusted \
     root that lists the entry valid then)"
)]
pub struct NotValidAt {
    /// The kind of entry: "certificate authority", "transparency log", "CT log",
    /// "timestamp authority".
    pub kind: &'static str,
    /// The verified time, RFC 3339 (UTC).
    pub time: String,
    /// The windows of the candidate entries, `[start, end]` in RFC 3339 ("open" for a
    /// missing bound), or "none".
    pub windows: String,
}

/// Errors about times and validity windows.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TimeError {
    /// The signing time lies outside a validity window.
    #[error("signing time {time} is outside the {what} validity window [{start}, {end}]")]
    OutsideWindow {
        /// Which window: "leaf certificate", "CA ...", "tlog key", ...
        what: String,
        /// The signing time (Unix seconds).
        time: i64,
        /// Start of the window (Unix seconds), or "open".
        start: String,
        /// End of the window (Unix seconds), or "open".
        end: String,
    },
    /// No verified signing time: the bundle has neither an integrated time covered by a SET
    /// nor an RFC 3161 timestamp that verifies.
    #[error("no verified signing time: {reason}")]
    NoVerifiedTime {
        /// What the bundle carries instead.
        reason: String,
    },
    /// No CA or transparency log of the trusted root is valid at the signing time.
    #[error(transparent)]
    NotValidAt(#[from] NotValidAt),
    /// The signing time is after the verification time.
    #[error("integrated time {integrated} is after the verification time {now}")]
    InFuture {
        /// The integrated time (Unix seconds).
        integrated: i64,
        /// The verification time passed in (Unix seconds).
        now: i64,
    },
}

/// Errors about an RFC 3161 signed timestamp (RFC 3161, RFC 5652).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The bundle carries more timestamps than a verifier accepts.
    #[error("{count} timestamps, at most {max} are accepted")]
    TooMany {
        /// Number of timestamps.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The same timestamp appears twice.
    #[error("duplicate timestamp")]
    Duplicate,
    /// The response or token does not decode.
    #[error("malformed: {reason}")]
    Malformed {
        /// Why.
        reason: String,
    },
    /// The response status is not granted (0); grantedWithMods (1) is refused too, as
    /// rfc3161-client (sigstore-python) does.
    #[error("the response status is {status}, not granted")]
    Status {
        /// PKIStatus value.
        status: u64,
    },
    /// A hash algorithm is not SHA-256/384/512.
    #[error("unsupported hash algorithm {oid}")]
    UnsupportedAlgorithm {
        /// The algorithm OID.
        oid: String,
    },
    /// The TSTInfo messageImprint is not the hash of the bundle's signature.
    #[error("the messageImprint ({algorithm}) is not the hash of the bundle's signature")]
    ImprintMismatch {
        /// The imprint's hash algorithm.
        algorithm: String,
    },
    /// The signed messageDigest attribute is not the hash of the encapsulated TSTInfo.
    #[error("the messageDigest signed attribute is not the hash of the TSTInfo")]
    ContentDigestMismatch,
    /// The trust root has no (usable) timestamp authorities, but the bundle has timestamps.
    #[error(
        "the bundle carries signed timestamps but the trust root has no usable timestamp authority"
    )]
    NoAuthorities,
    /// The token's signer is not a timestamp authority of the trust root.
    #[error("the signer ({signer}) is not a timestamp authority of the trust root")]
    UnknownAuthority {
        /// The SignerInfo's issuer and serial number (or key identifier).
        signer: String,
    },
    /// The token embeds certificates and the first is not the trusted TSA leaf that signed.
    #[error("the first certificate embedded in the token is not the certificate of TSA {tsa}")]
    EmbeddedCertificateMismatch {
        /// The trusted TSA certificate subject.
        tsa: String,
    },
    /// The SignerInfo signature does not verify with the TSA key.
    #[error("the signature does not verify with the key of TSA {tsa}: {reason}")]
    BadSignature {
        /// The TSA certificate subject.
        tsa: String,
        /// Why.
        reason: String,
    },
    /// No TSA that signed the token is valid (`validFor`) at its genTime.
    #[error(transparent)]
    NotValidAt(#[from] NotValidAt),
    /// genTime lies outside the TSA chain's validity.
    #[error("genTime {time} is outside the {what} validity window [{start}, {end}]")]
    OutsideValidity {
        /// Which window.
        what: String,
        /// genTime (Unix seconds).
        time: i64,
        /// Start of the window (Unix seconds), or "open".
        start: String,
        /// End of the window (Unix seconds), or "open".
        end: String,
    },
}

/// Errors building trust material from a trusted root.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrustError {
    /// A trusted keys document cannot be used.
    #[error("trusted keys: {reason}")]
    TrustedKeys {
        /// What is wrong.
        reason: String,
    },
    /// A certificate revocation list cannot be used.
    #[error("certificate revocation list: {reason}")]
    Crl {
        /// What is wrong.
        reason: String,
    },
    /// A CA certificate does not parse.
    #[error("certificate authority {ca} certificate {index} does not parse: {reason}")]
    CaParse {
        /// The CA's position in `certificateAuthorities`.
        ca: usize,
        /// Position in its chain.
        index: usize,
        /// Parser message.
        reason: String,
    },
    /// A CA chain link does not verify.
    #[error("certificate authority {ca}: certificate {index} is not signed by the next certificate in the chain: {reason}")]
    CaChain {
        /// The CA's position.
        ca: usize,
        /// Position of the child certificate.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A CA has an empty chain.
    #[error("certificate authority {ca} has no certificates")]
    EmptyChain {
        /// The CA's position.
        ca: usize,
    },
    /// A timestamp authority chain does not parse or verify, or its leaf is not a TSA
    /// certificate.
    #[error("timestamp authority {tsa}: certificate {index}: {reason}")]
    TsaChain {
        /// The TSA's position in `timestampAuthorities`.
        tsa: usize,
        /// Position in its chain.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A log key does not parse.
    #[error("{kind} log {index} key does not parse: {reason}")]
    LogKey {
        /// "transparency" or "CT".
        kind: &'static str,
        /// Position in the list.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A trust-root entry's `validFor` is malformed (no start, or an end before the start).
    #[error("invalid trusted root: {entry}: {reason}")]
    ValidFor {
        /// The entry, e.g. `transparency log 0 (https://rekor.sigstore.dev)`.
        entry: String,
        /// What is wrong.
        reason: String,
    },
    /// A validFor timestamp does not parse.
    #[error("invalid validFor time {value:?}: {reason}")]
    Time {
        /// The value.
        value: String,
        /// Why.
        reason: String,
    },
    /// Other malformed trust root content.
    #[error("{0}")]
    Invalid(String),
}
