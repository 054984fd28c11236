//! Where SCTs come from: the [`SctSource`] trait.
//!
//! * [`HttpSctSource`]: RFC 6962 §4.1 `POST <log>/ct/v1/add-pre-chain` with
//!   `{"chain": [base64 DER precert, base64 DER issuer, ...]}`, answered by
//!   `{sct_version, id, timestamp, extensions, signature}` (types in [`signet_proto::sct`]).
//! * [`LocalSctSource`]: signs in-process with a CT log key via [`signet_proto::sct`]
//!   (tests, benchmarks, single-process deployments where the log is co-located). It does not
//!   log the precertificate anywhere.
//!
//! Neither checks the SCT it gets back; [`crate::service`] verifies it against the log key
//! before embedding it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::keys::EcdsaSigner;
use signet_proto::sct::{self, AddChainRequest, AddChainResponse, Sct};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::Clock;

/// Errors from obtaining an SCT.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SctSourceError {
    /// The chain is shorter than precert + issuer, or does not parse.
    #[error("bad precertificate chain: {reason}")]
    BadChain {
        /// Detail.
        reason: String,
    },
    /// The HTTP request failed.
    #[error("CT log request failed: {reason}")]
    Http {
        /// Detail.
        reason: String,
    },
    /// The log answered with a non-success status.
    #[error("CT log answered {status}")]
    Status {
        /// HTTP status.
        status: u16,
    },
    /// The response could not be decoded.
    #[error("CT log response: {0}")]
    Sct(#[from] sct::SctError),
}

/// A boxed SCT future.
pub type SctFuture<'a> = Pin<Box<dyn Future<Output = Result<Sct, SctSourceError>> + Send + 'a>>;

/// Something that logs a precertificate and returns an SCT for it.
pub trait SctSource: Send + Sync {
    /// Submits `chain` (precertificate DER first, then its issuer, then up to the root) and
    /// returns the log's SCT.
    fn add_pre_chain<'a>(&'a self, chain: &'a [Vec<u8>]) -> SctFuture<'a>;
}

/// RFC 6962 `add-pre-chain` over HTTP.
#[derive(Debug, Clone)]
pub struct HttpSctSource {
    client: reqwest::Client,
    endpoint: String,
}

impl HttpSctSource {
    /// A source for the log at `base_url` (the endpoint is `<base_url>/ct/v1/add-pre-chain`).
    ///
    /// # Errors
    /// [`SctSourceError::Http`] if the HTTP client cannot be built.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, SctSourceError> {
        let client = signet_net::client_builder()
            .timeout(timeout)
            // The configured log answers itself; a redirect would send the chain elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SctSourceError::Http {
                reason: e.to_string(),
            })?;
        Ok(Self {
            client,
            endpoint: format!("{}/ct/v1/add-pre-chain", base_url.trim_end_matches('/')),
        })
    }
}

impl SctSource for HttpSctSource {
    fn add_pre_chain<'a>(&'a self, chain: &'a [Vec<u8>]) -> SctFuture<'a> {
        Box::pin(async move {
            let body = AddChainRequest {
                chain: chain.iter().map(|c| B64.encode(c)).collect(),
            };
            let resp = self
                .client
                .post(&self.endpoint)
                .json(&body)
                .send()
                .await
                .map_err(|e| SctSourceError::Http {
                    reason: signet_net::chain(&e),
                })?;
            let status = resp.status();
            if !status.is_success() {
                return Err(SctSourceError::Status {
                    status: status.as_u16(),
                });
            }
            let bytes = resp.bytes().await.map_err(|e| SctSourceError::Http {
                reason: e.to_string(),
            })?;
            let parsed: AddChainResponse =
                signet_proto::json::from_slice(&bytes).map_err(|e| SctSourceError::Http {
                    reason: format!("response JSON: {e}"),
                })?;
            Ok(Sct::from_add_chain_response(&parsed)?)
        })
    }
}

/// An in-process CT signer.
#[derive(Clone)]
pub struct LocalSctSource {
    signer: EcdsaSigner,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LocalSctSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSctSource")
            .field("log_id", &hex::encode(self.signer.public_key().key_id()))
            .finish_non_exhaustive()
    }
}

impl LocalSctSource {
    /// Signs SCTs with `signer`, timestamped by `clock`.
    #[must_use]
    pub fn new(signer: EcdsaSigner, clock: Arc<dyn Clock>) -> Self {
        Self { signer, clock }
    }

    /// Signs an SCT for `chain` synchronously.
    ///
    /// # Errors
    /// [`SctSourceError`].
    pub fn sign_chain(&self, chain: &[Vec<u8>]) -> Result<Sct, SctSourceError> {
        let [precert, issuer, ..] = chain else {
            return Err(SctSourceError::BadChain {
                reason: "need the precertificate and its issuer".to_owned(),
            });
        };
        let (_, issuer_cert) =
            X509Certificate::from_der(issuer).map_err(|e| SctSourceError::BadChain {
                reason: e.to_string(),
            })?;
        let ikh = sct::issuer_key_hash(issuer_cert.tbs_certificate.subject_pki.raw);
        let tbs = sct::tbs_without_extensions(precert, &[sct::OID_PRECERT_POISON])?;
        Ok(sct::sign_precert_sct(
            &self.signer,
            self.clock.now_millis(),
            &ikh,
            &tbs,
            &[],
        )?)
    }
}

impl SctSource for LocalSctSource {
    fn add_pre_chain<'a>(&'a self, chain: &'a [Vec<u8>]) -> SctFuture<'a> {
        Box::pin(async move { self.sign_chain(chain) })
    }
}
