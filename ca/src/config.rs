//! signet-ca configuration: one serde struct, explicit defaults, `validate()` before serving.
//!
//! Does not read files or environment variables itself (the binary does, and passes the
//! parsed struct in); secrets such as key passwords are referred to by path or variable name.

use serde::{Deserialize, Serialize};

/// Default certificate lifetime: 24 hours.
pub const DEFAULT_VALIDITY_SECS: u64 = 24 * 3600;
/// Default request body cap (Fulcio requests are a few KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// The CA configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaConfig {
    /// Trusted OIDC issuers. A token from any other issuer is rejected.
    pub issuers: Vec<IssuerConfig>,
    /// Leaf certificate lifetime in seconds (default 86400).
    #[serde(default = "default_validity")]
    pub validity_secs: u64,
    /// Per-identity issuance rate limit.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Largest accepted request body in bytes (default 65536).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Allowed clock skew in seconds for `exp`, `nbf` and `iat` (default 60).
    #[serde(default = "default_leeway")]
    pub clock_leeway_secs: u64,
    /// Minimum seconds between two JWKS refreshes of one issuer (default 30).
    #[serde(default = "default_jwks_refresh")]
    pub jwks_min_refresh_secs: u64,
}

fn default_validity() -> u64 {
    DEFAULT_VALIDITY_SECS
}
fn default_max_body() -> usize {
    DEFAULT_MAX_BODY_BYTES
}
fn default_leeway() -> u64 {
    60
}
fn default_jwks_refresh() -> u64 {
    30
}
fn default_audience() -> String {
    "sigstore".to_owned()
}

/// Per-identity rate limit: at most `max_per_window` certificates per identity per window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Certificates allowed per identity per window; 0 disables the limit (default 60).
    pub max_per_window: u32,
    /// Window length in seconds (default 60).
    pub window_secs: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            max_per_window: 60,
            window_secs: 60,
        }
    }
}

/// How an issuer's tokens map to certificate identities (Fulcio issuer types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerType {
    /// SAN = verified `email` claim; challenge = email.
    Email,
    /// GitHub Actions: SAN = URI of `job_workflow_ref`; Fulcio extensions .1.2-.1.24.
    GithubWorkflow,
    /// GitLab CI: SAN = `https://` + `ci_config_ref_uri`; Fulcio extensions.
    GitlabPipeline,
    /// Kubernetes service account: SAN = `https://kubernetes.io/namespaces/NS/serviceaccounts/SA`.
    Kubernetes,
    /// SAN = `sub` as a URI, whose host must be `subject_domain`.
    Uri,
    /// SAN = OtherName (1.3.6.1.4.1.57264.1.7) `sub!subject_domain`.
    Username,
}

impl IssuerType {
    /// The claim the proof of possession signs (Fulcio's `challengeClaim`).
    #[must_use]
    pub fn challenge_claim(self) -> &'static str {
        match self {
            Self::Email => "email",
            _ => "sub",
        }
    }

    /// The kebab-case name used in the config and in `/api/v2/configuration`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::GithubWorkflow => "github-workflow",
            Self::GitlabPipeline => "gitlab-pipeline",
            Self::Kubernetes => "kubernetes",
            Self::Uri => "uri",
            Self::Username => "username",
        }
    }
}

/// One trusted OIDC issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// Issuer URL; must equal the token's `iss` exactly.
    pub url: String,
    /// Expected `aud` (default `sigstore`).
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Identity mapping.
    #[serde(rename = "type")]
    pub issuer_type: IssuerType,
    /// For `uri` issuers: the host the `sub` URI must have (`example.com`: `https` or
    /// `spiffe` subjects), or a URL giving scheme and host (`https://example.com`, as Fulcio
    /// configures it); for `username` issuers: the domain appended to the username. Required
    /// for those two types.
    #[serde(default)]
    pub subject_domain: Option<String>,
    /// For `github-workflow`: the server URL prefix (default `https://github.com`).
    #[serde(default)]
    pub server_url: Option<String>,
    /// A JWKS file (`{"keys": [...]}`, as the issuer's `jwks_uri` serves it) used instead of
    /// discovery: the keys are read once at start and never fetched, for issuers the CA cannot
    /// reach (a private Kubernetes API server, an air-gapped site). Rotating them takes a new
    /// file and a restart; a token with an unknown `kid` is refused.
    #[serde(default)]
    pub jwks_file: Option<std::path::PathBuf>,
    /// A PEM file of CA certificates trusted for this issuer's discovery and JWKS only, on top
    /// of the process's roots: a Kubernetes API server's cluster CA
    /// (`/var/run/secrets/kubernetes.io/serviceaccount/ca.crt`, the `kube-root-ca.crt`
    /// ConfigMap).
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
}

/// Configuration errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An issuer URL is not an absolute http(s) URL.
    #[error("issuer url {url:?} is not an absolute http(s) URL")]
    BadIssuerUrl {
        /// The URL.
        url: String,
    },
    /// An issuer's `url`, `server_url` or `subject_domain` holds a control or format character.
    #[error("issuer {url:?}: {key} contains a control or invisible formatting character")]
    ControlCharacter {
        /// The issuer URL.
        url: String,
        /// The configuration key.
        key: &'static str,
    },
    /// The same issuer is configured twice.
    #[error("issuer {url} is configured twice")]
    DuplicateIssuer {
        /// The URL.
        url: String,
    },
    /// A `uri` or `username` issuer lacks `subject_domain`.
    #[error("issuer {url} of type {issuer_type} needs subject_domain")]
    MissingSubjectDomain {
        /// The URL.
        url: String,
        /// The type name.
        issuer_type: &'static str,
    },
    /// A numeric setting is out of range.
    #[error("{field} is out of range")]
    OutOfRange {
        /// The setting.
        field: &'static str,
    },
}

impl CaConfig {
    /// A config with the given issuers and all defaults.
    #[must_use]
    pub fn with_issuers(issuers: Vec<IssuerConfig>) -> Self {
        Self {
            issuers,
            validity_secs: DEFAULT_VALIDITY_SECS,
            rate_limit: RateLimitConfig::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            clock_leeway_secs: default_leeway(),
            jwks_min_refresh_secs: default_jwks_refresh(),
        }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.validity_secs == 0 || self.validity_secs > 366 * 24 * 3600 {
            return Err(ConfigError::OutOfRange {
                field: "validity_secs",
            });
        }
        if self.jwks_min_refresh_secs == 0 {
            // 0 would let every token with an unknown kid cause a JWKS fetch.
            return Err(ConfigError::OutOfRange {
                field: "jwks_min_refresh_secs",
            });
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::OutOfRange {
                field: "max_body_bytes",
            });
        }
        if self.rate_limit.max_per_window > 0 && self.rate_limit.window_secs == 0 {
            return Err(ConfigError::OutOfRange {
                field: "rate_limit.window_secs",
            });
        }
        let mut seen = std::collections::HashSet::new();
        for i in &self.issuers {
            let ok = url::Url::parse(&i.url)
                .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .unwrap_or(false);
            if !ok {
                return Err(ConfigError::BadIssuerUrl { url: i.url.clone() });
            }
            for (key, value) in [
                ("url", Some(i.url.as_str())),
                ("server_url", i.server_url.as_deref()),
                ("subject_domain", i.subject_domain.as_deref()),
            ] {
                // These go into certificates as written (issuer extensions, SANs): a URL
                // parser silently drops a tab or newline that the certificate would keep.
                if value.is_some_and(|v| v.chars().any(signet_proto::text::is_deceptive_char)) {
                    return Err(ConfigError::ControlCharacter {
                        url: i.url.clone(),
                        key,
                    });
                }
            }
            if !seen.insert(i.url.as_str()) {
                return Err(ConfigError::DuplicateIssuer { url: i.url.clone() });
            }
            if matches!(i.issuer_type, IssuerType::Uri | IssuerType::Username)
                && i.subject_domain.as_deref().is_none_or(str::is_empty)
            {
                return Err(ConfigError::MissingSubjectDomain {
                    url: i.url.clone(),
                    issuer_type: i.issuer_type.name(),
                });
            }
        }
        Ok(())
    }
}
