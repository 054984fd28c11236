//! `GET /metrics` of the CA after issuances, refused tokens of two kinds and a rate-limited
//! request, parsed with the Prometheus reference parser: each count is exact, every reason
//! and configured issuer has its series from the start, and the build and process series are
//! there. The mock OIDC provider is npm oauth2-mock-server, as in `oidc_e2e.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::metrics::*;
use common::*;
use signet_ca::config::{CaConfig, IssuerType};

fn email_fields(email: &str) -> Vec<(&str, &str)> {
    vec![
        ("sub", "user-123"),
        ("email", email),
        ("email_verified", "true"),
        ("aud", "sigstore"),
    ]
}

async fn scrape(ca: &TestCa) -> Vec<MetricSample> {
    let r = call(ca, "GET", "/metrics", Vec::new()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.content_type
            .as_deref()
            .unwrap_or_default()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        r.content_type
    );
    parse_metrics(std::str::from_utf8(&r.bytes).unwrap())
}

#[tokio::test]
async fn issuance_token_failures_and_rate_limit_are_counted() {
    let idp = MockOidc::start("ES256");
    let other_idp = "https://accounts.example.com";
    let mut config = CaConfig::with_issuers(vec![
        issuer(&idp.url, IssuerType::Email),
        issuer(other_idp, IssuerType::Email),
    ]);
    config.rate_limit.max_per_window = 2;
    config.rate_limit.window_secs = 3600;
    let ca = build_ca(config, None);
    let key = client_key();

    // Before any request: every configured issuer and every reason is there, at 0.
    let m = scrape(&ca).await;
    for url in [idp.url.as_str(), other_idp] {
        let l = [("issuer", url)];
        assert_eq!(metric(&m, "signet_ca_certificates_issued_total", &l), 0.0);
    }
    for reason in signet_ca::oidc::OidcError::REASONS
        .iter()
        .chain([&signet_ca::metrics::IDENTITY_REASON])
    {
        assert_eq!(
            metric(&m, "signet_ca_token_failures_total", &[("reason", reason)]),
            0.0
        );
    }
    assert_eq!(metric(&m, "signet_ca_rate_limited_total", &[]), 0.0);
    assert_eq!(
        metric(&m, "signet_ca_issuance_duration_seconds_count", &[]),
        0.0
    );

    // Two certificates, then the rate limit.
    let token = idp.token(&email_fields("carol@example.com")).await;
    for _ in 0..2 {
        let r = sign_cert(&ca, &key_request(&token, &key, "carol@example.com")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    }
    let r = sign_cert(&ca, &key_request(&token, &key, "carol@example.com")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);

    // An expired token, twice; a token whose signature does not verify, once.
    let now = now_secs();
    let claims =
        serde_json::json!({"exp": now - 3600, "iat": now - 7200, "nbf": now - 7200}).to_string();
    let mut f = email_fields("dave@example.com");
    f.push(("claims", &claims));
    let expired = idp.token(&f).await;
    for _ in 0..2 {
        let r = sign_cert(&ca, &key_request(&expired, &key, "dave@example.com")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.json);
    }
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut sig = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
    let last = sig.len() - 5;
    sig[last] ^= 0x01;
    parts[2] = URL_SAFE_NO_PAD.encode(sig);
    let r = sign_cert(
        &ca,
        &key_request(&parts.join("."), &key, "carol@example.com"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.json);

    let m = scrape(&ca).await;
    assert_eq!(
        metric_kind(&m, "signet_ca_certificates_issued_total"),
        "counter"
    );
    for (url, n) in [(idp.url.as_str(), 2.0), (other_idp, 0.0)] {
        let l = [("issuer", url)];
        assert_eq!(metric(&m, "signet_ca_certificates_issued_total", &l), n);
    }
    assert_eq!(
        metric_kind(&m, "signet_ca_issuance_duration_seconds_count"),
        "histogram"
    );
    assert_eq!(
        metric(&m, "signet_ca_issuance_duration_seconds_count", &[]),
        2.0
    );
    assert_eq!(
        metric(
            &m,
            "signet_ca_issuance_duration_seconds_bucket",
            &[("le", "+Inf")]
        ),
        2.0
    );
    assert!(metric(&m, "signet_ca_issuance_duration_seconds_sum", &[]) > 0.0);
    for (reason, n) in [
        ("expired", 2.0),
        ("bad_signature", 1.0),
        ("audience", 0.0),
        ("unknown_issuer", 0.0),
        ("identity", 0.0),
    ] {
        assert_eq!(
            metric(&m, "signet_ca_token_failures_total", &[("reason", reason)]),
            n,
            "{reason}"
        );
    }
    assert_eq!(metric(&m, "signet_ca_rate_limited_total", &[]), 1.0);
    assert_eq!(
        metric(
            &m,
            "signet_build_info",
            &[
                ("version", env!("CARGO_PKG_VERSION")),
                ("commit", signet_ca::metrics::COMMIT)
            ]
        ),
        1.0
    );
    assert_eq!(metric_kind(&m, "signet_build_info"), "gauge");
    assert!(metric(&m, "process_open_fds", &[]) > 0.0);
    assert!(metric(&m, "process_resident_memory_bytes", &[]) > 0.0);
}

/// The router without `/metrics` (for `signet serve` with the log) leaves it to the router it
/// is mounted beside, and the CA's series can be registered into that router's registry.
#[tokio::test]
async fn api_router_leaves_metrics_to_a_shared_registry() {
    use tower::ServiceExt as _;
    let ca = build_ca(
        CaConfig::with_issuers(vec![issuer("https://idp.example", IssuerType::Email)]),
        None,
    );
    let req = axum::http::Request::get("/metrics")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = signet_ca::http::api_router(ca.service.clone())
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let shared = prometheus::Registry::new();
    ca.service.metrics().register_into(&shared).unwrap();
    let mut text = Vec::new();
    prometheus::Encoder::encode(&prometheus::TextEncoder::new(), &shared.gather(), &mut text)
        .unwrap();
    let m = parse_metrics(std::str::from_utf8(&text).unwrap());
    assert_eq!(metric(&m, "signet_ca_rate_limited_total", &[]), 0.0);
    assert_eq!(
        metric(
            &m,
            "signet_ca_certificates_issued_total",
            &[("issuer", "https://idp.example")]
        ),
        0.0
    );
    // A second registration of the same series is refused, not duplicated.
    assert!(ca.service.metrics().register_into(&shared).is_err());
}
