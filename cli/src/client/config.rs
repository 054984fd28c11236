//! Service discovery for signing: which CA and which log to use.
//!
//! Spec: sigstore protobuf-specs `SigningConfig` v0.2
//! (`application/vnd.dev.sigstore.signingconfig.v0.2+json`), as written by `signet serve`. The
//! CA is taken from `caUrls`, the log from `rekorTlogUrls` (only Rekor v1, `majorApiVersion`
//! 1, is spoken by this client). A service is eligible when the signing time falls inside its
//! `validFor` window; among eligible ones the newest `validFor.start` wins. `--ca-url` and
//! `--log-url` override the file. A timestamp authority in `tsaUrls` (v1, valid now) is
//! used by every signing command (`super::timestamp`). OIDC URLs are read but unused: this
//! client takes the token from the command line, the environment or the CI.

use std::path::Path;

use signet_proto::bundle::Timestamp;
use signet_proto::trust::{Service, SigningConfig};
use time::OffsetDateTime;

/// Errors while choosing services.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ConfigError {
    /// The file could not be read.
    #[error("cannot read signing config {path}: {}", crate::errors::chain(cause))]
    Read {
        /// The path.
        path: String,
        /// The I/O error (shown in the message, not a `source`: see [`crate::errors`]).
        cause: std::io::Error,
    },
    /// The file is not a v0.2 signing config.
    #[error("invalid signing config {path}: {reason}")]
    Invalid {
        /// The path.
        path: String,
        /// Why.
        reason: String,
    },
    /// No service of a kind is usable.
    #[error("no usable {what} URL: give --{flag} or a --signing-config listing one valid now")]
    NoService {
        /// Which service.
        what: &'static str,
        /// The override flag.
        flag: &'static str,
    },
}

/// The servers a signing run talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Services {
    /// Base URL of the Fulcio v2-compatible CA (no trailing slash).
    pub(crate) ca_url: Option<String>,
    /// Base URL of the Rekor v1-compatible log (no trailing slash).
    pub(crate) log_url: Option<String>,
    /// Full URL of an RFC 3161 timestamp authority (`tsaUrls`, `majorApiVersion` 1), when
    /// the signing config lists one valid now: bundles then carry its timestamp.
    pub(crate) tsa_url: Option<String>,
}

impl Services {
    /// The CA URL, or an error naming the flag to pass.
    pub(crate) fn ca(&self) -> Result<&str, ConfigError> {
        self.ca_url.as_deref().ok_or(ConfigError::NoService {
            what: "CA",
            flag: "ca-url",
        })
    }

    /// The log URL, or an error naming the flag to pass.
    pub(crate) fn log(&self) -> Result<&str, ConfigError> {
        self.log_url.as_deref().ok_or(ConfigError::NoService {
            what: "transparency log",
            flag: "log-url",
        })
    }
}

fn valid_at(s: &Service, now: i64) -> bool {
    s.valid_for.contains(now)
}

fn pick(services: &[Service], versions: &[u32], now: i64) -> Option<String> {
    services
        .iter()
        .filter(|s| versions.contains(&s.major_api_version) && valid_at(s, now))
        .max_by_key(|s| {
            s.valid_for
                .start
                .as_ref()
                .map_or(i64::MIN, Timestamp::unix_seconds)
        })
        .map(|s| s.url.trim_end_matches('/').to_owned())
}

/// Chooses the CA and log: overrides first, then the signing config valid at `now`.
pub(crate) fn resolve_services(
    signing_config: Option<&Path>,
    ca_override: Option<&str>,
    log_override: Option<&str>,
    now: OffsetDateTime,
) -> Result<Services, ConfigError> {
    let mut services = Services {
        ca_url: ca_override.map(|s| s.trim_end_matches('/').to_owned()),
        log_url: log_override.map(|s| s.trim_end_matches('/').to_owned()),
        tsa_url: None,
    };
    if let Some(path) = signing_config {
        let shown = path.display().to_string();
        let raw = std::fs::read(path).map_err(|cause| ConfigError::Read {
            path: shown.clone(),
            cause,
        })?;
        let file = SigningConfig::from_json(&raw).map_err(|e| ConfigError::Invalid {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let now = now.unix_timestamp();
        if services.ca_url.is_none() {
            // Fulcio's v2 HTTP API is `majorApiVersion: 1` in signing configs.
            services.ca_url = pick(&file.ca_urls, &[1], now);
        }
        if services.log_url.is_none() {
            services.log_url = pick(&file.rekor_tlog_urls, &[1], now);
        }
        services.tsa_url = pick(&file.tsa_urls, &[1], now);
    }
    Ok(services)
}

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::format_description::well_known::Rfc3339;

    #[test]
    fn picks_valid_v1_services_and_honours_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("signing_config.json");
        std::fs::write(
            &p,
            r#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls":[{"url":"http://old/","majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z","end":"2021-01-01T00:00:00Z"}},
                      {"url":"http://ca:1/","majorApiVersion":1,"validFor":{"start":"2024-01-01T00:00:00Z"}}],
            "oidcUrls":[],
            "rekorTlogUrls":[{"url":"http://v2","majorApiVersion":2,"validFor":{"start":"2025-01-01T00:00:00Z"}},
                             {"url":"http://log:2","majorApiVersion":1,"validFor":{"start":"2024-01-01T00:00:00Z"}}],
            "tsaUrls":[],"rekorTlogConfig":{"selector":"ANY"},"tsaConfig":{"selector":"ANY"}}"#,
        )
        .unwrap();
        let now = OffsetDateTime::parse("2026-01-01T00:00:00Z", &Rfc3339).unwrap();
        let s = resolve_services(Some(&p), None, None, now).unwrap();
        assert_eq!(s.ca().unwrap(), "http://ca:1");
        assert_eq!(s.log().unwrap(), "http://log:2");
        let s = resolve_services(Some(&p), Some("http://x/"), None, now).unwrap();
        assert_eq!(s.ca().unwrap(), "http://x");
        let s = resolve_services(None, None, None, now).unwrap();
        assert!(matches!(
            s.ca(),
            Err(ConfigError::NoService { flag: "ca-url", .. })
        ));
    }
}
