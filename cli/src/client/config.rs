//! Service discovery for signing: which CA and which log to use.
//!
//! Spec: sigstore protobuf-specs `SigningConfig` v0.2
//! (`application/vnd.dev.sigstore.signingconfig.v0.2+json`), as written by `signet serve`. The
//! CA is taken from `caUrls`, the log from `rekorTlogUrls` (Rekor v1, `majorApiVersion` 1, or
//! Rekor v2, `majorApiVersion` 2). A service is eligible when the signing time falls inside its
//! `validFor` window; among eligible ones the newest `validFor.start` wins, and on a tie the
//! one listed first (as sigstore-js chooses). A Rekor v2 log gives no signing time, so it is
//! used only with a timestamp authority. `--ca-url` and `--log-url` (a Rekor v1 log) override
//! the file. A timestamp authority in `tsaUrls` (v1, valid now) is
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
    /// The chosen log is a Rekor v2 log but no timestamp authority is listed.
    #[error(
        "the signing config chooses the Rekor v2 log {url}, which records no signing time, but \
         lists no usable timestamp authority (tsaUrls): add one, or give --log-url with a \
         Rekor v1 log"
    )]
    V2WithoutTsa {
        /// The v2 log.
        url: String,
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
    /// Base URL of the log (no trailing slash).
    pub(crate) log_url: Option<String>,
    /// Whether `log_url` is a Rekor v2 log (`majorApiVersion` 2).
    pub(crate) log_v2: bool,
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

    /// The log, or an error naming the flag to pass (or, for a Rekor v2 log, the missing
    /// timestamp authority).
    pub(crate) fn log(&self) -> Result<LogTarget, ConfigError> {
        let url = self.log_url.clone().ok_or(ConfigError::NoService {
            what: "transparency log",
            flag: "log-url",
        })?;
        if self.log_v2 && self.tsa_url.is_none() {
            return Err(ConfigError::V2WithoutTsa { url });
        }
        Ok(LogTarget {
            url,
            v2: self.log_v2,
        })
    }
}

/// The transparency log a signing run records its entry in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogTarget {
    /// Base URL (no trailing slash).
    pub(crate) url: String,
    /// Rekor v2 (`POST /api/v2/log/entries`), else Rekor v1.
    pub(crate) v2: bool,
}

fn valid_at(s: &Service, now: i64) -> bool {
    s.valid_for.contains(now)
}

/// The eligible service with the newest `validFor.start`, the first listed on a tie, with its
/// major API version.
fn pick_versioned(services: &[Service], versions: &[u32], now: i64) -> Option<(String, u32)> {
    let start = |s: &Service| {
        s.valid_for
            .start
            .as_ref()
            .map_or(i64::MIN, Timestamp::unix_seconds)
    };
    let mut best: Option<&Service> = None;
    for s in services
        .iter()
        .filter(|s| versions.contains(&s.major_api_version) && valid_at(s, now))
    {
        if best.is_none_or(|b| start(s) > start(b)) {
            best = Some(s);
        }
    }
    best.map(|s| (s.url.trim_end_matches('/').to_owned(), s.major_api_version))
}

fn pick(services: &[Service], versions: &[u32], now: i64) -> Option<String> {
    pick_versioned(services, versions, now).map(|(url, _)| url)
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
        log_v2: false,
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
            if let Some((url, version)) = pick_versioned(&file.rekor_tlog_urls, &[1, 2], now) {
                services.log_url = Some(url);
                services.log_v2 = version == 2;
            }
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
        // The newest log is the Rekor v2 one, which needs a TSA the file does not list.
        assert!(matches!(
            s.log(),
            Err(ConfigError::V2WithoutTsa { url }) if url == "http://v2"
        ));
        let s = resolve_services(Some(&p), Some("http://x/"), None, now).unwrap();
        assert_eq!(s.ca().unwrap(), "http://x");
        let s = resolve_services(None, None, None, now).unwrap();
        assert!(matches!(
            s.ca(),
            Err(ConfigError::NoService { flag: "ca-url", .. })
        ));
    }

    /// A Rekor v2 log is chosen like any service (newest start, first listed on a tie) and
    /// then used with the TSA; a v1 log listed first on a tie is chosen instead.
    #[test]
    fn picks_rekor_v2_with_a_tsa_and_ties_go_to_the_first_listed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("signing_config.json");
        let write = |tlogs: &str| {
            std::fs::write(
                &p,
                format!(
                    r#"{{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
                "caUrls":[{{"url":"http://ca","majorApiVersion":1,"validFor":{{"start":"2024-01-01T00:00:00Z"}}}}],
                "oidcUrls":[],"rekorTlogUrls":[{tlogs}],
                "tsaUrls":[{{"url":"http://tsa/api/v1/timestamp","majorApiVersion":1,"validFor":{{"start":"2024-01-01T00:00:00Z"}}}}],
                "rekorTlogConfig":{{"selector":"ANY"}},"tsaConfig":{{"selector":"ANY"}}}}"#
                ),
            )
            .unwrap();
        };
        let v1 = r#"{"url":"http://log","majorApiVersion":1,"validFor":{"start":"2024-01-01T00:00:00Z"}}"#;
        let v2 = r#"{"url":"http://log/rekor-v2","majorApiVersion":2,"validFor":{"start":"2024-01-01T00:00:00Z"}}"#;
        let now = OffsetDateTime::parse("2026-01-01T00:00:00Z", &Rfc3339).unwrap();
        write(&format!("{v2},{v1}"));
        let s = resolve_services(Some(&p), None, None, now).unwrap();
        assert_eq!(
            s.log().unwrap(),
            LogTarget {
                url: "http://log/rekor-v2".to_owned(),
                v2: true
            }
        );
        assert_eq!(s.tsa_url.as_deref(), Some("http://tsa/api/v1/timestamp"));
        write(&format!("{v1},{v2}"));
        let s = resolve_services(Some(&p), None, None, now).unwrap();
        assert_eq!(
            s.log().unwrap(),
            LogTarget {
                url: "http://log".to_owned(),
                v2: false
            }
        );
        // --log-url names a v1 log whatever the file prefers.
        write(&format!("{v2},{v1}"));
        let s = resolve_services(Some(&p), None, Some("http://other/"), now).unwrap();
        assert!(!s.log().unwrap().v2);
    }
}
