//! The issuance pipeline: token -> identity -> proof of possession -> rate limit ->
//! precertificate -> SCT -> final certificate -> audit line.
//!
//! [`CaService`] holds the configuration, the OIDC verifier, the CA signer and chain, the
//! [`SctSource`] and the injected [`Clock`]. It performs no HTTP itself except through the
//! OIDC verifier and the SCT source; [`crate::http`] is a thin layer on top.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use rcgen::Issuer;
use signet_proto::fulcio::{
    CertificateChain, Configuration, CreateSigningCertificateRequest, IssuerUrl, KeyRequest,
    OidcIssuer, TrustBundle,
};
use signet_proto::keys::PublicKey;
use signet_proto::sct;

use crate::challenge::{self, ChallengeError};
use crate::config::{CaConfig, ConfigError};
use crate::identity::{self, IdentityError};
use crate::init::random_serial;
use crate::issue::{self, IssueError, LeafSpec};
use crate::metrics::{CaMetrics, IDENTITY_REASON};
use crate::oidc::{OidcError, OidcVerifier};
use crate::sct_source::{SctSource, SctSourceError};
use crate::signer::{CaSigner, RcgenKey};
use crate::Clock;

/// Issuance errors, grouped by the HTTP status they map to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// Malformed request (400).
    #[error("bad request: {reason}")]
    BadRequest {
        /// Detail.
        reason: String,
    },
    /// Token rejected (401; 400 if it is not even a JWT).
    #[error(transparent)]
    Token(#[from] OidcError),
    /// Claims do not map to an identity (401).
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Proof of possession or key type rejected (400).
    #[error(transparent)]
    Challenge(#[from] ChallengeError),
    /// Per-identity rate limit hit (429).
    #[error("rate limited, retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the window resets.
        retry_after_secs: u64,
    },
    /// The CT log failed (503).
    #[error("CT log: {0}")]
    Sct(#[from] SctSourceError),
    /// Internal error (500).
    #[error("internal: {reason}")]
    Internal {
        /// Detail (logged, not returned).
        reason: String,
    },
}

impl From<IssueError> for ServiceError {
    fn from(e: IssueError) -> Self {
        Self::Internal {
            reason: e.to_string(),
        }
    }
}

/// Construction errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The chain is empty or does not parse, or its first certificate does not match the key.
    #[error("CA chain: {reason}")]
    Chain {
        /// Detail.
        reason: String,
    },
    /// OIDC verifier setup.
    #[error(transparent)]
    Oidc(#[from] OidcError),
    /// The metrics registry refused a series (a programming error).
    #[error("metrics registry: {reason}")]
    Metrics {
        /// Detail.
        reason: String,
    },
}

/// The CA.
pub struct CaService {
    config: CaConfig,
    oidc: OidcVerifier,
    signer: Arc<dyn CaSigner>,
    issuer: Issuer<'static, RcgenKey>,
    chain_der: Vec<Vec<u8>>,
    chain_pem: Vec<String>,
    sct_source: Arc<dyn SctSource>,
    ct_log_key: Option<PublicKey>,
    /// The earliest notAfter of the CA chain (Unix seconds): no leaf outlives its chain.
    chain_not_after: u64,
    clock: Arc<dyn Clock>,
    rng: SystemRandom,
    windows: Mutex<HashMap<String, (u64, u32)>>,
    metrics: CaMetrics,
}

impl std::fmt::Debug for CaService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaService")
            .field("oidc", &self.oidc)
            .field("chain_len", &self.chain_der.len())
            .finish_non_exhaustive()
    }
}

fn pem_cert(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

impl CaService {
    /// Builds the service.
    ///
    /// * `chain_der`: the issuing CA certificate first, then up to the root.
    /// * `signer`: the issuing CA's key (must match `chain_der[0]`).
    /// * `ct_log_key`: when set, every SCT is verified against it before being embedded.
    ///
    /// # Errors
    /// [`SetupError`].
    pub fn new(
        config: CaConfig,
        signer: Arc<dyn CaSigner>,
        chain_der: Vec<Vec<u8>>,
        sct_source: Arc<dyn SctSource>,
        ct_log_key: Option<PublicKey>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SetupError> {
        config.validate()?;
        let first = chain_der.first().ok_or_else(|| SetupError::Chain {
            reason: "empty chain".to_owned(),
        })?;
        let (_, parsed) =
            x509_parser::parse_x509_certificate(first).map_err(|e| SetupError::Chain {
                reason: e.to_string(),
            })?;
        if parsed.tbs_certificate.subject_pki.raw != signer.spki_der() {
            return Err(SetupError::Chain {
                reason: "issuing certificate does not match the signing key".to_owned(),
            });
        }
        let issuer = Issuer::from_ca_cert_der(&first.clone().into(), RcgenKey(signer.clone()))
            .map_err(|e| SetupError::Chain {
                reason: e.to_string(),
            })?;
        let oidc = OidcVerifier::new(&config, clock.clone())?;
        let metrics = CaMetrics::new(&config.issuers).map_err(|e| SetupError::Metrics {
            reason: e.to_string(),
        })?;
        let chain_pem = chain_der.iter().map(|c| pem_cert(c)).collect();
        let mut chain_not_after = u64::MAX;
        for der in &chain_der {
            let (_, c) =
                x509_parser::parse_x509_certificate(der).map_err(|e| SetupError::Chain {
                    reason: e.to_string(),
                })?;
            let t = u64::try_from(c.validity().not_after.timestamp()).unwrap_or(0);
            chain_not_after = chain_not_after.min(t);
        }
        Ok(Self {
            config,
            oidc,
            signer,
            issuer,
            chain_der,
            chain_pem,
            sct_source,
            ct_log_key,
            chain_not_after,
            clock,
            rng: SystemRandom::new(),
            windows: Mutex::new(HashMap::new()),
            metrics,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &CaConfig {
        &self.config
    }

    /// The OIDC verifier (for JWKS statistics).
    #[must_use]
    pub fn oidc(&self) -> &OidcVerifier {
        &self.oidc
    }

    /// The metrics (`GET /metrics`).
    #[must_use]
    pub fn metrics(&self) -> &CaMetrics {
        &self.metrics
    }

    /// The CA chain as DER, issuing CA first.
    #[must_use]
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain_der
    }

    /// `GET /api/v2/trustBundle`.
    #[must_use]
    pub fn trust_bundle(&self) -> TrustBundle {
        TrustBundle {
            chains: vec![CertificateChain {
                certificates: self.chain_pem.clone(),
            }],
        }
    }

    /// `GET /api/v2/configuration`.
    #[must_use]
    pub fn configuration(&self) -> Configuration {
        Configuration {
            issuers: self
                .config
                .issuers
                .iter()
                .map(|i| OidcIssuer {
                    issuer: IssuerUrl::Exact(i.url.clone()),
                    audience: i.audience.clone(),
                    challenge_claim: i.issuer_type.challenge_claim().to_owned(),
                    spiffe_trust_domain: String::new(),
                    issuer_type: i.issuer_type.name().to_owned(),
                    subject_domain: i.subject_domain.clone().unwrap_or_default(),
                    skip_email_verification: false,
                })
                .collect(),
        }
    }

    fn rate_limit(&self, identity: &str, now_secs: u64) -> Result<(), ServiceError> {
        let rl = &self.config.rate_limit;
        if rl.max_per_window == 0 {
            return Ok(());
        }
        let mut w = self.windows.lock().map_err(|_| ServiceError::Internal {
            reason: "rate limiter lock poisoned".to_owned(),
        })?;
        if w.len() > 100_000 {
            w.retain(|_, (start, _)| now_secs < start.saturating_add(rl.window_secs));
        }
        let entry = w.entry(identity.to_owned()).or_insert((now_secs, 0));
        if now_secs >= entry.0.saturating_add(rl.window_secs) {
            *entry = (now_secs, 0);
        }
        if entry.1 >= rl.max_per_window {
            return Err(ServiceError::RateLimited {
                retry_after_secs: entry
                    .0
                    .saturating_add(rl.window_secs)
                    .saturating_sub(now_secs)
                    .max(1),
            });
        }
        entry.1 += 1;
        Ok(())
    }

    /// `POST /api/v2/signingCert`: returns the PEM chain, leaf first.
    ///
    /// The identity token is the body's `credentials.oidcIdentityToken`; when the body has
    /// none (or an empty one), `bearer`, the token of an `Authorization: Bearer` header, as
    /// Fulcio's HTTP gateway does.
    ///
    /// Counted in [`CaService::metrics`]: issuances and their duration, token failures by
    /// reason, rate-limit rejections.
    ///
    /// # Errors
    /// [`ServiceError`]; [`ServiceError::BadRequest`] when there is no token at all.
    pub async fn create_signing_certificate(
        &self,
        req: &CreateSigningCertificateRequest,
        bearer: Option<&str>,
    ) -> Result<Vec<String>, ServiceError> {
        let started = std::time::Instant::now();
        match self.issue(req, bearer).await {
            Ok((chain, issuer_url)) => {
                self.metrics.issued(&issuer_url, started.elapsed());
                Ok(chain)
            }
            Err(e) => {
                match &e {
                    ServiceError::Token(t) => self.metrics.token_failure(t.reason()),
                    ServiceError::Identity(_) => self.metrics.token_failure(IDENTITY_REASON),
                    ServiceError::RateLimited { .. } => self.metrics.rate_limited(),
                    _ => {}
                }
                Err(e)
            }
        }
    }

    /// [`CaService::create_signing_certificate`] without the metrics: the PEM chain and the
    /// configured URL of the issuer that vouched for the identity.
    async fn issue(
        &self,
        req: &CreateSigningCertificateRequest,
        bearer: Option<&str>,
    ) -> Result<(Vec<String>, String), ServiceError> {
        let raw = req
            .credentials
            .as_ref()
            .map(|c| c.oidc_identity_token.as_str())
            .filter(|t| !t.is_empty())
            .or(bearer.filter(|t| !t.is_empty()))
            .ok_or_else(|| ServiceError::BadRequest {
                reason: "no identity token: the body has no credentials.oidcIdentityToken \
                         and there is no Authorization: Bearer header"
                    .to_owned(),
            })?;
        let token = self.oidc.verify(raw).await?;
        let principal = identity::principal_from_claims(&token.issuer, &token.claims)?;
        let key = match &req.key {
            KeyRequest::PublicKey(pk) => {
                let key = challenge::parse_public_key(&pk.public_key.content)?;
                challenge::verify_proof(&key, &pk.proof_of_possession.0, &principal.challenge)?;
                key
            }
            KeyRequest::CertificateSigningRequest(csr) => challenge::verify_csr(&csr.0)?,
            _ => {
                return Err(ServiceError::BadRequest {
                    reason: "unsupported key request".to_owned(),
                })
            }
        };
        let now_ms = self.clock.now_millis();
        let now_secs = now_ms / 1000;
        let identity_key = format!("{}\n{}", principal.issuer, principal.san.value());
        self.rate_limit(&identity_key, now_secs)?;

        let serial = random_serial(&self.rng).map_err(|e| ServiceError::Internal {
            reason: e.to_string(),
        })?;
        // A leaf never outlives the chain that issued it (verifiers would refuse it after the
        // chain's end anyway); a chain that has ended issues nothing.
        let validity_secs = self
            .config
            .validity_secs
            .min(self.chain_not_after.saturating_sub(now_secs));
        if validity_secs == 0 {
            return Err(ServiceError::Internal {
                reason: "the CA certificate chain has expired".to_owned(),
            });
        }
        let spec = LeafSpec {
            subject_spki_der: key.spki_der(),
            principal: &principal,
            not_before: i64::try_from(now_secs).unwrap_or(i64::MAX),
            validity_secs,
            serial: &serial,
        };
        let precert = issue::build_precert(&spec, &self.issuer)?;
        let mut chain = Vec::with_capacity(self.chain_der.len() + 1);
        chain.push(precert);
        chain.extend(self.chain_der.iter().cloned());
        let got = self.sct_source.add_pre_chain(&chain).await?;
        if let Some(log_key) = &self.ct_log_key {
            let tbs = sct::tbs_without_extensions(&chain[0], &[sct::OID_PRECERT_POISON]).map_err(
                |e| ServiceError::Internal {
                    reason: e.to_string(),
                },
            )?;
            got.verify_precert(log_key, &sct::issuer_key_hash(self.signer.spki_der()), &tbs)
                .map_err(|e| ServiceError::Sct(SctSourceError::Sct(e)))?;
        }
        let leaf = issue::build_final(&spec, std::slice::from_ref(&got), &self.issuer)?;
        let fingerprint = digest::digest(&digest::SHA256, key.spki_der());
        tracing::info!(
            target: "signet_ca::audit",
            identity = principal.san.value(),
            issuer = principal.issuer.as_str(),
            subject = principal.subject.as_str(),
            serial = hex::encode(serial).as_str(),
            key_fingerprint = hex::encode(fingerprint.as_ref()).as_str(),
            key_algorithm = %key.algorithm(),
            not_before = now_secs,
            not_after = now_secs.saturating_add(validity_secs),
            sct_timestamp_ms = got.timestamp,
            time_ms = now_ms,
            "certificate issued"
        );
        let mut out = Vec::with_capacity(self.chain_pem.len() + 1);
        out.push(pem_cert(&leaf));
        out.extend(self.chain_pem.iter().cloned());
        Ok((out, token.issuer.url))
    }
}
