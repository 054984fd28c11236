//! Signet keyless CA: turns a verified OIDC identity plus a proof of key possession into a
//! short-lived code-signing certificate with one embedded SCT (Fulcio v2 API).
//!
//! Module map (see `docs/ARCHITECTURE.md`):
//! * [`config`]: the serde config (issuers, validity, rate limit) and its validation.
//! * [`oidc`]: ID token verification with `openidconnect` (discovery, JWKS cache, refresh on
//!   unknown `kid`), clock passed in.
//! * [`identity`]: pure mapping of verified claims to a [`identity::Principal`] (SAN + Fulcio
//!   extensions) per issuer type.
//! * [`challenge`]: proof of possession (signature over the challenge claim, or a CSR).
//! * [`issue`]: the pure rcgen certificate builder (precertificate, final certificate).
//! * [`sct_source`]: the [`sct_source::SctSource`] trait (RFC 6962 `add-pre-chain` over HTTP,
//!   or an in-process signer for tests and single-binary deployments).
//! * [`signer`]: CA signing keys ([`signer::CaSigner`]): encrypted file keys and PKCS#11.
//! * [`init`]: `ca init` (root + intermediate creation).
//! * [`service`]: the issuance pipeline, rate limit and audit line.
//! * [`http`]: the axum router (thin).
//!
//! Not here: the transparency log itself (reached only over HTTP), TLS termination, revocation.

pub mod challenge;
pub mod config;
pub mod http;
pub mod identity;
pub mod init;
pub mod issue;
pub mod oidc;
pub mod sct_source;
pub mod service;
pub mod signer;

/// A source of the current time in milliseconds since the Unix epoch.
///
/// Library code never reads the system clock; [`SystemClock`] is the one adapter that does.
pub trait Clock: Send + Sync {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_millis(&self) -> u64;
}

/// The system clock (the adapter used by the server binary).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that returns a settable time (tests, benchmarks, replay).
#[derive(Debug, Default)]
pub struct FixedClock(std::sync::atomic::AtomicU64);

impl FixedClock {
    /// A clock frozen at `millis`.
    #[must_use]
    pub fn new(millis: u64) -> Self {
        Self(std::sync::atomic::AtomicU64::new(millis))
    }

    /// Moves the clock to `millis`.
    pub fn set(&self, millis: u64) {
        self.0.store(millis, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_millis(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Installs aws-lc-rs as the process's rustls crypto provider unless one is installed
/// already. reqwest is built without a provider of its own (docs/ARCHITECTURE.md, "Crypto
/// stack"), so every HTTP client this crate builds calls this first; binaries call it at
/// startup for their own clients and TLS listeners.
pub fn install_crypto_provider() {
    // An error only means another provider was installed first: that one stays.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
