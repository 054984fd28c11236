//! OIDC ID token verification for the configured issuers.
//!
//! Uses `openidconnect` 4.1 for the JWS signature, `iss`, `aud` and `exp` checks, limited to
//! RS256, ES256 and EdDSA. Around it (CRATES.md pitfalls):
//! * discovery is fetched here (GitHub's document lacks fields `openidconnect` requires) and
//!   only `issuer` and `jwks_uri` are used; keys are loaded with `CoreJsonWebKeySet::fetch_async`;
//! * the JWKS is cached per issuer; a token whose `kid` is not in the cache triggers one
//!   refresh, at most once per `jwks_min_refresh_secs`; after a failed fetch the issuer is
//!   not fetched again for 5 s (requests meanwhile get the cached keys or that failure);
//! * `alg: none` and HMAC are rejected before any key lookup;
//! * `nbf` and `iat` are checked here, `exp` by `openidconnect`, all with the configured
//!   leeway, against the injected [`Clock`].
//!
//! Not here: nonce checks (CI tokens have none), token introspection or revocation, issuer
//! wildcards.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    ClaimsVerificationError, ClientId, IssuerUrl, JsonWebKeySetUrl, Nonce,
    SignatureVerificationError,
};
use serde_json::{Map, Value};

use crate::config::{CaConfig, IssuerConfig};
use crate::Clock;

/// The signature algorithms accepted in ID tokens.
pub const ALLOWED_ALGS: [&str; 3] = ["RS256", "ES256", "EdDSA"];

/// Token verification errors. All but [`OidcError::Malformed`] mean "bad token" (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// Not a JWS compact serialization with JSON header and payload.
    #[error("malformed token: {reason}")]
    Malformed {
        /// Detail.
        reason: &'static str,
    },
    /// `alg: none`.
    #[error("unsigned token (alg none)")]
    AlgNone,
    /// An HMAC algorithm (a public key must never be used as an HMAC secret).
    #[error("HMAC token algorithm {alg} is not accepted")]
    Hmac {
        /// The alg.
        alg: String,
    },
    /// Any other algorithm outside [`ALLOWED_ALGS`].
    #[error("token algorithm {alg} is not accepted")]
    UnsupportedAlg {
        /// The alg.
        alg: String,
    },
    /// The token's `iss` is not configured.
    #[error("issuer {iss:?} is not configured")]
    UnconfiguredIssuer {
        /// The `iss` claim.
        iss: String,
    },
    /// No key with the token's `kid`, even after a JWKS refresh (or refresh rate-limited).
    #[error("no key for kid {kid:?}")]
    UnknownKey {
        /// The `kid` header.
        kid: String,
    },
    /// Discovery or JWKS fetch failed.
    #[error("issuer discovery failed: {reason}")]
    Discovery {
        /// Detail.
        reason: String,
    },
    /// The signature does not verify.
    #[error("token signature does not verify")]
    BadSignature,
    /// `exp` is in the past.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `aud` does not include the configured audience.
    #[error("token audience does not match")]
    WrongAudience,
    /// A time claim (`exp`, `nbf`, `iat`) is present but not a JSON number.
    #[error("token claim {claim} is not a number of seconds")]
    TimeClaimType {
        /// The claim name.
        claim: &'static str,
    },
    /// Another claim check failed.
    #[error("token rejected: {reason}")]
    Invalid {
        /// Detail.
        reason: String,
    },
}

impl OidcError {
    /// Every value [`OidcError::reason`] gives (the `reason` label of
    /// `signet_ca_token_failures_total`).
    pub const REASONS: [&'static str; 10] = [
        "malformed",
        "algorithm",
        "unknown_issuer",
        "unknown_key",
        "issuer_unavailable",
        "bad_signature",
        "expired",
        "not_yet_valid",
        "audience",
        "claim",
    ];

    /// A short, fixed name for the kind of failure (a metrics label: one of
    /// [`OidcError::REASONS`], never anything the token says).
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "malformed",
            Self::AlgNone | Self::Hmac { .. } | Self::UnsupportedAlg { .. } => "algorithm",
            Self::UnconfiguredIssuer { .. } => "unknown_issuer",
            Self::UnknownKey { .. } => "unknown_key",
            Self::Discovery { .. } => "issuer_unavailable",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid | Self::IssuedInFuture => "not_yet_valid",
            Self::WrongAudience => "audience",
            Self::TimeClaimType { .. } | Self::Invalid { .. } => "claim",
        }
    }
}

/// A verified token: its issuer's configuration and all its claims.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// The matching issuer configuration.
    pub issuer: IssuerConfig,
    /// The payload claims (signature-checked).
    pub claims: Map<String, Value>,
}

struct IssuerState {
    config: IssuerConfig,
    /// The client of this issuer's discovery and JWKS: the shared one, or one that also
    /// trusts the issuer's `ca_file`.
    http: reqwest::Client,
    jwks: RwLock<Option<Arc<CoreJsonWebKeySet>>>,
    /// Keys from `jwks_file`: never fetched, never refreshed.
    fixed: bool,
    last_fetch_ms: Mutex<Option<u64>>,
    /// When the last fetch failed and why: no new attempt for [`FAILED_FETCH_BACKOFF_MS`].
    last_failure: Mutex<Option<(u64, String)>>,
    /// Fetch attempts, failed ones included.
    fetches: std::sync::atomic::AtomicU64,
    fetch_lock: tokio::sync::Mutex<()>,
}

/// After a failed discovery or JWKS fetch, how long an issuer's keys are not fetched again:
/// tokens naming an issuer that is down (or unreachable) must not each cause a fetch, which
/// would queue every request behind the fetch timeout.
const FAILED_FETCH_BACKOFF_MS: u64 = 5_000;

/// Verifies ID tokens of the configured issuers, caching their keys.
pub struct OidcVerifier {
    issuers: HashMap<String, Arc<IssuerState>>,
    clock: Arc<dyn Clock>,
    leeway_secs: u64,
    min_refresh_ms: u64,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn decode_json(part: &str) -> Result<Map<String, Value>, OidcError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| OidcError::Malformed {
            reason: "base64url",
        })?;
    match signet_proto::json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(OidcError::Malformed {
            reason: "not a JSON object",
        }),
    }
}

/// Reads the time claim `name` (`exp`, `nbf`, `iat`): absent is `None`, a JSON number is its
/// whole seconds, anything else (a string, `null`, a bool, an object) rejects the token, as a
/// claim that cannot be checked must not be ignored.
fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, OidcError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))),
        Some(_) => Err(OidcError::TimeClaimType { claim: name }),
    }
}

/// Reads an issuer's `jwks_file`: a JWKS with at least one key.
fn read_jwks_file(path: &std::path::Path) -> Result<CoreJsonWebKeySet, OidcError> {
    let bad = |reason: String| OidcError::Discovery {
        reason: format!("jwks_file {}: {reason}", path.display()),
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let set: CoreJsonWebKeySet =
        signet_proto::json::from_slice(&bytes).map_err(|e| bad(format!("not a JWKS: {e}")))?;
    if set.keys().is_empty() {
        return Err(bad("the JWKS has no keys".to_owned()));
    }
    Ok(set)
}

impl OidcVerifier {
    /// A verifier for `config.issuers`, reading time from `clock`. The `jwks_file` of an
    /// issuer that has one is read here.
    ///
    /// # Errors
    /// [`OidcError::Discovery`] if the HTTP client cannot be built, or a `jwks_file` cannot be
    /// read or is not a JWKS with at least one key (the reason names the file).
    pub fn new(config: &CaConfig, clock: Arc<dyn Clock>) -> Result<Self, OidcError> {
        // Discovery and JWKS: the process's roots (the system's and `--ca-certs`), plus an
        // issuer's own `ca_file` for that issuer only; no redirects, 10 s.
        let client = |builder: reqwest::ClientBuilder| {
            builder
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .map_err(|e| OidcError::Discovery {
                    reason: signet_net::chain(&e),
                })
        };
        let http = client(signet_net::client_builder())?;
        let issuers = config
            .issuers
            .iter()
            .map(|c| {
                let fixed = c.jwks_file.as_deref().map(read_jwks_file).transpose()?;
                let http = match &c.ca_file {
                    Some(path) => client(signet_net::client_builder_with(path).map_err(|e| {
                        OidcError::Discovery {
                            reason: format!("issuer {}: ca_file: {e}", c.url),
                        }
                    })?)?,
                    None => http.clone(),
                };
                Ok((
                    c.url.clone(),
                    Arc::new(IssuerState {
                        config: c.clone(),
                        http,
                        fixed: fixed.is_some(),
                        jwks: RwLock::new(fixed.map(Arc::new)),
                        last_fetch_ms: Mutex::new(None),
                        last_failure: Mutex::new(None),
                        fetches: std::sync::atomic::AtomicU64::new(0),
                        fetch_lock: tokio::sync::Mutex::new(()),
                    }),
                ))
            })
            .collect::<Result<_, OidcError>>()?;
        Ok(Self {
            issuers,
            clock,
            leeway_secs: config.clock_leeway_secs,
            min_refresh_ms: config.jwks_min_refresh_secs.saturating_mul(1000),
        })
    }

    /// How many times discovery and the JWKS of `issuer` have been fetched, failed attempts
    /// included (for tests and metrics).
    #[must_use]
    pub fn jwks_fetch_count(&self, issuer: &str) -> u64 {
        self.issuers
            .get(issuer)
            .map_or(0, |s| s.fetches.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Verifies `token` and returns its claims.
    ///
    /// # Errors
    /// [`OidcError`] describing the first failed check.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, OidcError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(_s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(OidcError::Malformed {
                reason: "not a JWS compact serialization",
            });
        };
        let header = decode_json(h)?;
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("none");
        if alg.eq_ignore_ascii_case("none") {
            return Err(OidcError::AlgNone);
        }
        if alg.starts_with("HS") {
            return Err(OidcError::Hmac {
                alg: alg.to_owned(),
            });
        }
        if !ALLOWED_ALGS.contains(&alg) {
            return Err(OidcError::UnsupportedAlg {
                alg: alg.to_owned(),
            });
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let claims = decode_json(p)?;
        // Every time claim must have the type its check needs before anything else is read:
        // a string `nbf` would otherwise be skipped as if absent.
        let nbf = time_claim(&claims, "nbf")?;
        let iat = time_claim(&claims, "iat")?;
        time_claim(&claims, "exp")?;
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(OidcError::Malformed { reason: "no iss" })?;
        let state = self
            .issuers
            .get(iss)
            .ok_or_else(|| OidcError::UnconfiguredIssuer {
                iss: iss.to_owned(),
            })?
            .clone();

        let jwks = self.jwks(&state, false).await?;
        match self.check(&state, token, jwks) {
            Err(OidcError::UnknownKey { .. }) => {
                let fresh = self.jwks(&state, true).await?;
                self.check(&state, token, fresh).map_err(|e| match e {
                    OidcError::UnknownKey { .. } => OidcError::UnknownKey { kid: kid.clone() },
                    other => other,
                })?;
            }
            other => other?,
        }
        let now = i64::try_from(self.clock.now_millis() / 1000).unwrap_or(i64::MAX);
        let leeway = i64::try_from(self.leeway_secs).unwrap_or(0);
        if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return Err(OidcError::NotYetValid);
        }
        if iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
            return Err(OidcError::IssuedInFuture);
        }
        Ok(VerifiedToken {
            issuer: state.config.clone(),
            claims,
        })
    }

    fn check(
        &self,
        state: &IssuerState,
        token: &str,
        jwks: Arc<CoreJsonWebKeySet>,
    ) -> Result<(), OidcError> {
        let cfg = &state.config;
        let issuer_url = IssuerUrl::new(cfg.url.clone()).map_err(|e| OidcError::Discovery {
            reason: e.to_string(),
        })?;
        let now = i64::try_from(self.clock.now_millis() / 1000).unwrap_or(i64::MAX);
        let shifted = now.saturating_sub(i64::try_from(self.leeway_secs).unwrap_or(0));
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new(cfg.audience.clone()),
            issuer_url,
            (*jwks).clone(),
        )
        .set_allowed_algs([
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            CoreJwsSigningAlgorithm::EdDsa,
        ])
        // As Fulcio (go-oidc): the configured audience must be among the token's audiences;
        // other audiences beside it are allowed.
        .set_other_audience_verifier_fn(|_| true)
        .set_time_fn(move || {
            chrono::DateTime::<chrono::Utc>::from_timestamp(shifted, 0).unwrap_or_default()
        });
        let parsed: CoreIdToken =
            serde_json::from_value(Value::String(token.to_owned())).map_err(|_| {
                OidcError::Invalid {
                    reason: "token claims do not parse (missing sub/aud/exp/iat?)".to_owned(),
                }
            })?;
        match parsed.claims(&verifier, |_: Option<&Nonce>| Ok(())) {
            Ok(_) => Ok(()),
            Err(ClaimsVerificationError::Expired(_)) => Err(OidcError::Expired),
            Err(ClaimsVerificationError::InvalidAudience(_)) => Err(OidcError::WrongAudience),
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => Err(OidcError::UnknownKey { kid: String::new() }),
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::CryptoError(_),
            )) => Err(OidcError::BadSignature),
            Err(ClaimsVerificationError::SignatureVerification(e)) => Err(OidcError::Invalid {
                reason: e.to_string(),
            }),
            Err(e) => Err(OidcError::Invalid {
                reason: e.to_string(),
            }),
        }
    }

    async fn jwks(
        &self,
        state: &IssuerState,
        refresh: bool,
    ) -> Result<Arc<CoreJsonWebKeySet>, OidcError> {
        let read = || state.jwks.read().ok().and_then(|g| g.clone());
        if state.fixed {
            return read().ok_or_else(|| OidcError::Discovery {
                reason: "the configured JWKS is missing".to_owned(),
            });
        }
        if !refresh {
            if let Some(j) = read() {
                return Ok(j);
            }
        }
        let _guard = state.fetch_lock.lock().await;
        let now = self.clock.now_millis();
        let last = state.last_fetch_ms.lock().ok().and_then(|g| *g);
        if let Some(j) = read() {
            // Another request fetched while we waited, or the refresh is rate-limited.
            if !refresh || last.is_some_and(|l| now.saturating_sub(l) < self.min_refresh_ms) {
                return Ok(j);
            }
        }
        let failed = state.last_failure.lock().ok().and_then(|g| g.clone());
        if let Some((at, reason)) = failed {
            if now.saturating_sub(at) < FAILED_FETCH_BACKOFF_MS {
                // The issuer failed a moment ago: answer from the cache, or with that failure.
                return read().ok_or_else(|| OidcError::Discovery {
                    reason: format!(
                        "{reason} (not retried for {} s)",
                        FAILED_FETCH_BACKOFF_MS / 1000
                    ),
                });
            }
        }
        state
            .fetches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let fetched = match fetch(&state.http, &state.config.url).await {
            Ok(f) => Arc::new(f),
            Err(e) => {
                if let Ok(mut g) = state.last_failure.lock() {
                    *g = Some((now, e.to_string()));
                }
                return Err(e);
            }
        };
        if let Ok(mut g) = state.last_failure.lock() {
            *g = None;
        }
        if let Ok(mut g) = state.last_fetch_ms.lock() {
            *g = Some(now);
        }
        if let Ok(mut g) = state.jwks.write() {
            *g = Some(fetched.clone());
        }
        Ok(fetched)
    }
}

/// Fetches `issuer`'s discovery document and the JWKS it names, with `http`.
async fn fetch(http: &reqwest::Client, issuer: &str) -> Result<CoreJsonWebKeySet, OidcError> {
    let disc = |reason: String| OidcError::Discovery { reason };
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let resp = http
        .get(&url)
        .send()
        .await
        .map_err(|e| disc(signet_net::chain(&e)))?;
    if !resp.status().is_success() {
        return Err(disc(format!("{url}: HTTP {}", resp.status())));
    }
    let body = resp.bytes().await.map_err(|e| disc(e.to_string()))?;
    let doc: Map<String, Value> =
        signet_proto::json::from_slice(&body).map_err(|e| disc(format!("discovery JSON: {e}")))?;
    if doc.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err(disc("discovery issuer does not match".to_owned()));
    }
    let jwks_uri = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| disc("discovery has no jwks_uri".to_owned()))?;
    let jwks_url = JsonWebKeySetUrl::new(jwks_uri.to_owned()).map_err(|e| disc(e.to_string()))?;
    CoreJsonWebKeySet::fetch_async(&jwks_url, http)
        .await
        .map_err(|e| disc(format!("JWKS: {}", signet_net::chain(&e))))
}
