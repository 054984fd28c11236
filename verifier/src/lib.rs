//! Signet's offline verifier for Sigstore bundles.
//!
//! [`verify()`] checks a Sigstore bundle (v0.1 to v0.3, Rekor v1 `hashedrekord` 0.0.1,
//! `dsse` 0.0.1 and `intoto` 0.0.2 entries, Rekor v2 `hashedrekord` 0.0.2 entries with RFC 3161 timestamps)
//! against [`TrustMaterial`] built once from a `trusted_root.json`, a
//! [`Policy`] and an [`Artifact`], all together:
//!
//! * the leaf certificate chains to a trusted CA valid at the signing time, and follows the
//!   Fulcio leaf profile (digitalSignature, codeSigning, not a CA);
//! * its embedded SCT verifies against a CT log key of the trust root;
//! * the identity satisfies the policy (or, in keyed mode, the given key signed);
//! * the signature covers the artifact digest (`messageSignature`) or the DSSE envelope's PAE,
//!   whose in-toto subject names the artifact digest;
//! * the transparency log entry body matches the bundle;
//! * the inclusion proof recomputes the root of a checkpoint signed by that log's key;
//! * the SET (inclusion promise) verifies, making `integratedTime` a signing time, and/or an
//!   RFC 3161 timestamp over the signature verifies against a trusted TSA, making its
//!   `genTime` a signing time ([`timestamp`]); at least one verified time is required;
//! * every signing time falls inside the leaf's validity and the CA's and log key's
//!   `validFor`.
//!
//! The crate is pure: no network, no filesystem, no clock reads, no async runtime. The
//! verification time is an argument ([`UnixTime`]), as in webpki. Specs live in
//! `signet-proto`; this crate only composes them.
//!
//! Not supported yet: Rekor v2 `dsse` 0.0.2 entries, bundles with RFC 3161 timestamps but no
//! tlog entry, certificate chains longer than the trust root's, and bundles with several tlog
//! entries.

pub mod bundle; // structural checks: Bundle into CheckedBundle
mod crl; // the revocation types the trust material holds (leaf)
pub mod error; // layered verification errors
pub mod notary; // Notary Project (notation) signatures under notation's trust policy and store
pub mod policy; // who must have signed: identities, keys, anchored regexes
pub mod revocation; // RFC 5280 CRLs of the trusted CAs and the revoked-before-signing rule
pub mod timestamp; // RFC 3161 timestamp verification over proto's parsed response
pub mod trust; // the CAs, logs and CT logs a bundle may rely on
pub mod trusted_keys; // keyed signing: trusted keys with windows and revocations
pub mod verify; // the verification procedure: one call, every check

pub use bundle::CheckedBundle;
pub use error::{
    BundleError, CertificateError, CheckpointError, CosignError, NotValidAt, PolicyError, SctError,
    SetError, SignatureError, TimeError, TimestampError, TlogError, TrustError, VerificationError,
};
pub use notary::{verify_notary, NotaryError, NotaryTarget, NotaryTrustStore, VerifiedNotary};
pub use policy::{AnchoredRegex, Field, IdentityPolicy, Policy, StringMatch};
pub use timestamp::VerifiedTimestamp;
pub use trust::{TimestampAuthority, TrustMaterial, WitnessPolicy};
pub use verify::cosign::{verify_cosign, VerifiedCosign};
pub use verify::{verify, verify_checked, Artifact, EntryKind, VerifiedBundle};

/// A point in time, in whole seconds since the Unix epoch (UTC). The verifier never reads the
/// clock: callers pass the verification time in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(i64);

impl UnixTime {
    /// The time `seconds` after the epoch.
    #[must_use]
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Self(seconds)
    }

    /// Seconds since the epoch.
    #[must_use]
    pub const fn as_unix_seconds(self) -> i64 {
        self.0
    }

    /// Converts a [`std::time::SystemTime`] the caller obtained (times before the epoch
    /// become negative).
    #[must_use]
    pub fn from_system_time(t: std::time::SystemTime) -> Self {
        match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Self(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            Err(e) => Self(i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s)),
        }
    }
}
