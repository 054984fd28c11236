//! Fuzzes the CA's OIDC ID-token handling that runs on attacker-chosen bytes: the JWS compact
//! split, the base64url JSON header and claims, and the `alg` allowlist in
//! `signet_ca::oidc::OidcVerifier::verify` (no issuer is configured, so every token stops at
//! the issuer lookup, before any JWKS fetch or signature check, and the future completes on
//! its first poll without I/O); then the claims-to-identity mapping
//! `signet_ca::identity::principal_from_claims` for every issuer type, on the token's claims
//! segment or on the whole input as a JSON object.
//!
//! Asserts: no token verifies without a configured issuer; a principal names its issuer, a
//! non-empty SAN and challenge, and carries only Fulcio extensions that encode, in OID order.
#![no_main]
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use signet_ca::config::{CaConfig, IssuerConfig, IssuerType};
use signet_ca::identity::principal_from_claims;
use signet_ca::oidc::OidcVerifier;
use signet_ca::FixedClock;
use signet_proto::cert::{encode_extension_value, oid_arcs};

struct Fixture {
    verifier: OidcVerifier,
    issuers: Vec<IssuerConfig>,
}

fn issuer(url: &str, issuer_type: IssuerType, subject_domain: Option<&str>) -> IssuerConfig {
    IssuerConfig {
        url: url.to_owned(),
        audience: "sigstore".to_owned(),
        issuer_type,
        subject_domain: subject_domain.map(str::to_owned),
        server_url: None,
        jwks_file: None,
        ca_file: None,
    }
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let config: CaConfig =
            serde_json::from_value(serde_json::json!({ "issuers": [] })).expect("CA config");
        let clock = Arc::new(FixedClock::new(1_795_868_000_000));
        Fixture {
            verifier: OidcVerifier::new(&config, clock).expect("verifier builds"),
            issuers: vec![
                issuer("https://accounts.example", IssuerType::Email, None),
                issuer(
                    "https://token.actions.githubusercontent.com",
                    IssuerType::GithubWorkflow,
                    None,
                ),
                issuer("https://gitlab.com", IssuerType::GitlabPipeline, None),
                issuer(
                    "https://kubernetes.default.svc",
                    IssuerType::Kubernetes,
                    None,
                ),
                issuer(
                    "https://spiffe.example",
                    IssuerType::Uri,
                    Some("example.com"),
                ),
                issuer(
                    "https://users.example",
                    IssuerType::Username,
                    Some("example.com"),
                ),
            ],
        }
    })
}

fn check_claims(f: &Fixture, claims: &Map<String, Value>) {
    for cfg in &f.issuers {
        let Ok(p) = principal_from_claims(cfg, claims) else {
            continue;
        };
        assert_eq!(p.issuer, cfg.url);
        assert!(!p.san.value().is_empty(), "a principal has a SAN");
        assert!(!p.challenge.is_empty(), "a principal has a challenge");
        for v in std::iter::once(p.san.value()).chain(p.extensions.iter().map(|(_, v)| v.as_str()))
        {
            assert!(
                !v.chars().any(char::is_control),
                "a principal holds a control character: {v:?}"
            );
        }
        let keys: Vec<Vec<u64>> = p
            .extensions
            .iter()
            .map(|(oid, _)| oid_arcs(oid).expect("extension OIDs are dotted"))
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] <= w[1]),
            "extensions in OID order"
        );
        for (oid, value) in &p.extensions {
            encode_extension_value(oid, value).expect("principal extensions encode");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut fut = Box::pin(f.verifier.verify(text));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(_)) => panic!("a token verified without any configured issuer"),
        Poll::Ready(Err(_)) => {}
        Poll::Pending => panic!("token parsing reached I/O without a configured issuer"),
    }

    let claims = text
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| signet_proto::json::from_slice::<Value>(&b).ok())
        .or_else(|| serde_json::from_str::<Value>(text).ok());
    if let Some(Value::Object(claims)) = claims {
        check_claims(f, &claims);
    }
});
