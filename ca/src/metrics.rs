//! Prometheus metrics of the CA, on the `prometheus` crate (text exposition format 0.0.4),
//! served at `GET /metrics` by [`crate::http::router`].
//!
//! Series:
//! * `signet_ca_certificates_issued_total{issuer}`: certificates issued, by configured issuer
//!   URL (a fixed set: never labelled by subject or identity).
//! * `signet_ca_issuance_duration_seconds`: histogram of the time to issue one certificate
//!   (token check, proof of possession, precertificate, SCT, final certificate), successful
//!   issuances only.
//! * `signet_ca_token_failures_total{reason}`: identity tokens refused, by
//!   [`OidcError::reason`] (`malformed`, `algorithm`, `unknown_issuer`, `unknown_key`,
//!   `issuer_unavailable`, `bad_signature`, `expired`, `not_yet_valid`, `audience`, `claim`),
//!   or `identity` when a verified token's claims map to no usable identity.
//! * `signet_ca_rate_limited_total`: requests refused by the per-identity rate limit.
//! * `signet_build_info{version,commit}` = 1 and, on Linux, the `process_*` series.
//!
//! Every label value is known at start and its series exists from then on, at 0. Each
//! [`CaMetrics`] has its own [`Registry`]; `signet serve` also registers the CA's series into
//! the log's registry ([`CaMetrics::register_into`]) so that one scrape answers both.

use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::config::IssuerConfig;
use crate::oidc::OidcError;

/// The version this binary was built from (`signet_build_info`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit of the build (`git rev-parse HEAD` at build time; `unknown` outside a
/// checkout), recorded by `build.rs`.
pub const COMMIT: &str = env!("SIGNET_GIT_COMMIT");

/// The `reason` of a token failure whose claims map to no identity.
pub const IDENTITY_REASON: &str = "identity";

/// The CA's metrics.
#[derive(Debug, Clone)]
pub struct CaMetrics {
    registry: Registry,
    issued: IntCounterVec,
    issuance_seconds: Histogram,
    token_failures: IntCounterVec,
    rate_limited: IntCounter,
}

impl CaMetrics {
    /// The CA's series, with a series per configured issuer and per failure reason, in a
    /// registry of their own together with `signet_build_info` and the `process_*` series.
    ///
    /// # Errors
    /// A registration error (a programming error: the names and label sets are fixed).
    pub fn new(issuers: &[IssuerConfig]) -> prometheus::Result<Self> {
        let issued = IntCounterVec::new(
            Opts::new(
                "signet_ca_certificates_issued_total",
                "Certificates issued, by configured OIDC issuer.",
            ),
            &["issuer"],
        )?;
        let issuance_seconds = Histogram::with_opts(HistogramOpts::new(
            "signet_ca_issuance_duration_seconds",
            "Time to issue one certificate (token, proof, precertificate, SCT, certificate).",
        ))?;
        let token_failures = IntCounterVec::new(
            Opts::new(
                "signet_ca_token_failures_total",
                "Identity tokens refused, by reason.",
            ),
            &["reason"],
        )?;
        let rate_limited = IntCounter::new(
            "signet_ca_rate_limited_total",
            "Certificate requests refused by the per-identity rate limit.",
        )?;
        for i in issuers {
            issued.with_label_values(&[i.url.as_str()]);
        }
        for r in OidcError::REASONS.iter().chain([&IDENTITY_REASON]) {
            token_failures.with_label_values(&[*r]);
        }
        let m = Self {
            registry: Registry::new(),
            issued,
            issuance_seconds,
            token_failures,
            rate_limited,
        };
        register_process_metrics(&m.registry)?;
        m.register_into(&m.registry)?;
        Ok(m)
    }

    /// Registers the CA's own series (not the process-wide ones) into `registry` too, so that
    /// its scrape answers them.
    ///
    /// # Errors
    /// If `registry` already holds series of these names.
    pub fn register_into(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.issued.clone()))?;
        registry.register(Box::new(self.issuance_seconds.clone()))?;
        registry.register(Box::new(self.token_failures.clone()))?;
        registry.register(Box::new(self.rate_limited.clone()))?;
        Ok(())
    }

    /// Records one successful issuance for the configured issuer `issuer_url`.
    pub fn issued(&self, issuer_url: &str, took: Duration) {
        self.issued.with_label_values(&[issuer_url]).inc();
        self.issuance_seconds.observe(took.as_secs_f64());
    }

    /// Counts an identity token refused for `reason` (one of [`OidcError::REASONS`] or
    /// [`IDENTITY_REASON`]).
    pub fn token_failure(&self, reason: &str) {
        self.token_failures.with_label_values(&[reason]).inc();
    }

    /// Counts a request refused by the per-identity rate limit.
    pub fn rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// Every series of the CA's registry in the Prometheus text format.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "encoding metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Registers `signet_build_info{version,commit}` = 1 and, on Linux, the `process_*` collector
/// into `registry` (the log's `signet_log::metrics::register_process_metrics` does the same
/// for a log); a second registration into the same registry is a no-op.
///
/// # Errors
/// A registration error other than "already registered".
pub fn register_process_metrics(registry: &Registry) -> prometheus::Result<()> {
    let info = IntGaugeVec::new(
        Opts::new(
            "signet_build_info",
            "The version and git commit Signet was built from (always 1).",
        ),
        &["version", "commit"],
    )?;
    info.with_label_values(&[VERSION, COMMIT]).set(1);
    ignore_already_registered(registry.register(Box::new(info)))?;
    #[cfg(target_os = "linux")]
    ignore_already_registered(registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    )))?;
    Ok(())
}

fn ignore_already_registered(r: prometheus::Result<()>) -> prometheus::Result<()> {
    match r {
        Err(prometheus::Error::AlreadyReg) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every token error maps to a listed reason, so its series exists from the start.
    #[test]
    fn every_token_error_has_a_listed_reason() {
        let all = [
            OidcError::Malformed { reason: "x" },
            OidcError::AlgNone,
            OidcError::Hmac {
                alg: "HS256".into(),
            },
            OidcError::UnsupportedAlg {
                alg: "PS256".into(),
            },
            OidcError::UnconfiguredIssuer { iss: "i".into() },
            OidcError::UnknownKey { kid: "k".into() },
            OidcError::Discovery { reason: "r".into() },
            OidcError::BadSignature,
            OidcError::Expired,
            OidcError::NotYetValid,
            OidcError::IssuedInFuture,
            OidcError::WrongAudience,
            OidcError::TimeClaimType { claim: "exp" },
            OidcError::Invalid { reason: "r".into() },
        ];
        for e in &all {
            assert!(OidcError::REASONS.contains(&e.reason()), "{e:?}");
        }
        let used: std::collections::BTreeSet<_> = all.iter().map(OidcError::reason).collect();
        assert_eq!(
            used.len(),
            OidcError::REASONS.len(),
            "a listed reason is never given"
        );
        let m = CaMetrics::new(&[]).unwrap();
        m.token_failure(OidcError::Expired.reason());
        assert!(m
            .render()
            .contains("signet_ca_token_failures_total{reason=\"expired\"} 1"));
    }
}
