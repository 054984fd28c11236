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
//! * [`rotate`]: `ca rotate` (a new intermediate or root; `authorities.json`, the windows).
//! * [`crl`]: `ca revoke` (RFC 5280 CRLs signed by the issuing CA).
//! * [`generations`]: the history of any other rotating key (TSA, CT) with its windows;
//!   [`tsa_rotate`] rotates the generated TSA with it.
//! * [`service`]: the issuance pipeline, rate limit and audit line.
//! * [`metrics`]: Prometheus series (issuance, token failures, rate limit, build, process).
//! * [`http`]: the axum router (thin).
//! * [`tsa`]: the RFC 3161 timestamp authority (key, chain, policy) and its certificates;
//!   [`tsa_http`] its `POST /api/v1/timestamp` router (thin).
//!
//! Not here: the transparency log itself (reached only over HTTP), TLS termination, revocation checking (the verifier's).

pub mod challenge; // proof of possession of the key to be certified
pub mod config; // the CA's serde config and its validation
pub mod crl; // ca revoke: RFC 5280 CRLs signed by the issuing CA
pub mod generations; // the history of a rotating key (TSA, CT): generations and windows
pub mod http; // Fulcio v2 and legacy v1 HTTP API: extract, one call, map
pub mod identity; // verified OIDC claims to a certificate identity
pub mod init; // ca init: a root and an intermediate CA
pub mod issue; // pure certificate builder: Fulcio leaf profile, precertificate
pub mod metrics; // Prometheus metrics of the CA
pub mod oidc; // ID token verification for the configured issuers
pub mod rotate; // ca rotate: a new intermediate (or root), the history of windows
pub mod sct_source; // where SCTs come from (in process or over HTTP)
pub mod service; // the issuance pipeline the HTTP layer calls
pub mod signer; // CA signing keys: encrypted file or PKCS#11
pub mod tsa; // RFC 3161 timestamp authority: request in, signed TimeStampResp out
pub mod tsa_http; // POST /api/v1/timestamp: extract, one call, map
pub mod tsa_rotate; // tsa rotate: a new TSA key and chain, the history of windows

/// The clock the CA reads (one trait for the log and the CA, defined in `signet-proto`).
pub use signet_proto::clock::{Clock, FixedClock, SystemClock};

/// Installs aws-lc-rs as the process's rustls crypto provider unless one is installed
/// already (docs/ARCHITECTURE.md, "Crypto stack"). Binaries call it at startup for their TLS
/// listeners; HTTP clients come from `signet_net::client_builder`, which names aws-lc-rs
/// itself.
pub fn install_crypto_provider() {
    // An error only means another provider was installed first: that one stays.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
