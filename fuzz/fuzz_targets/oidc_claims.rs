//! Fuzzes the CA's ID-token checks that run after a valid signature, on attacker-chosen
//! claims: `signet_ca::oidc::OidcVerifier::verify` for an issuer whose keys come from a
//! `jwks_file` (so no discovery or fetch: the future completes on its first poll). Each input
//! is a claims object that the target signs with the issuer's ES256 key (byte 0 picks the
//! header's `kid`: the issuer's, or one it does not have), exactly as an IdP would, so the
//! openidconnect claim checks and Signet's `nbf`/`iat` checks see arbitrary claims behind a
//! real signature; the claims then go to `principal_from_claims`.
//!
//! Asserts: verification never waits on I/O; an accepted token has this issuer's `iss`, the
//! configured audience, an `exp` not in the past and no `nbf`/`iat` in the future (with the
//! configured leeway), and was signed with the issuer's kid; the same token with one
//! signature byte changed is refused.
#![no_main]
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use signet_ca::config::CaConfig;
use signet_ca::identity::principal_from_claims;
use signet_ca::oidc::{OidcVerifier, VerifiedToken};
use signet_ca::FixedClock;

const ISSUER: &str = "https://issuer.example";
const KID: &str = "fuzz-key-1";
/// The verifier's clock, in seconds.
const NOW: i64 = 1_795_868_000;

struct Fixture {
    verifier: OidcVerifier,
    key: EcdsaKeyPair,
    rng: SystemRandom,
    leeway: i64,
    config: CaConfig,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("key generates");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("key parses");
        // Uncompressed point 04 || x || y.
        let point = key.public_key().as_ref();
        let jwks = serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": KID,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }]});
        let path =
            std::env::temp_dir().join(format!("signet-fuzz-jwks-{}.json", std::process::id()));
        std::fs::write(&path, jwks.to_string()).expect("JWKS file written");
        let config: CaConfig = serde_json::from_value(serde_json::json!({
            "issuers": [{"url": ISSUER, "type": "email", "jwks_file": path}],
        }))
        .expect("CA config");
        let clock = Arc::new(FixedClock::new(
            u64::try_from(NOW).expect("positive") * 1000,
        ));
        let verifier = OidcVerifier::new(&config, clock).expect("verifier builds");
        let _ = std::fs::remove_file(&path);
        Fixture {
            verifier,
            leeway: i64::try_from(config.clock_leeway_secs).expect("small leeway"),
            config,
            key,
            rng,
        }
    })
}

fn verify_now(f: &Fixture, token: &str) -> Result<VerifiedToken, signet_ca::oidc::OidcError> {
    let mut fut = Box::pin(f.verifier.verify(token));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => panic!("verification with a jwks_file waited on I/O"),
    }
}

fn seconds(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let [sel, claims_json @ ..] = data else {
        return;
    };
    let Ok(Value::Object(claims)) = signet_proto::json::from_slice::<Value>(claims_json) else {
        return;
    };
    let kid = if sel & 1 == 0 { KID } else { "another-key" };
    let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": kid}).to_string();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims_json)
    );
    let sig = f.key.sign(&f.rng, signing_input.as_bytes()).expect("signs");
    let mut sig = sig.as_ref().to_vec();
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&sig));

    if let Ok(v) = verify_now(f, &token) {
        check_accepted(f, kid, &claims, &v.claims);
        // One changed signature byte: refused.
        let i = usize::from(*sel >> 1) % sig.len();
        sig[i] ^= 0x01;
        let tampered = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&sig));
        assert!(
            verify_now(f, &tampered).is_err(),
            "a token with a changed signature verified"
        );
        if let Ok(p) = principal_from_claims(&f.config.issuers[0], &v.claims) {
            assert_eq!(p.issuer, ISSUER);
            assert!(!p.san.value().is_empty());
            assert_clean(&p);
        }
    }
});

fn check_accepted(f: &Fixture, kid: &str, sent: &Map<String, Value>, got: &Map<String, Value>) {
    assert_eq!(kid, KID, "a token signed under an unknown kid verified");
    assert_eq!(got, sent, "the verified claims are the signed ones");
    assert_eq!(got.get("iss").and_then(Value::as_str), Some(ISSUER));
    let audience = f.config.issuers[0].audience.as_str();
    let aud_ok = match got.get("aud") {
        Some(Value::String(a)) => a == audience,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    };
    assert!(aud_ok, "accepted audience {:?}", got.get("aud"));
    let now = NOW as f64;
    let leeway = f.leeway as f64;
    let exp = seconds(got.get("exp")).expect("an accepted token has a numeric exp");
    assert!(exp + leeway >= now, "accepted an expired token (exp {exp})");
    for claim in ["exp", "nbf", "iat"] {
        assert!(
            matches!(got.get(claim), None | Some(Value::Number(_))),
            "accepted a token whose {claim} is not a number: {:?}",
            got.get(claim)
        );
    }
    for claim in ["nbf", "iat"] {
        if let Some(t) = seconds(got.get(claim)) {
            assert!(
                t <= now + leeway + 1.0,
                "accepted {claim} {t} in the future"
            );
        }
    }
}

/// No certified value holds a control character (the CA refuses such claims).
fn assert_clean(p: &signet_ca::identity::Principal) {
    let values = std::iter::once(p.san.value())
        .chain(std::iter::once(p.subject.as_str()))
        .chain(p.extensions.iter().map(|(_, v)| v.as_str()));
    for v in values {
        assert!(
            !v.chars().any(char::is_control),
            "a principal holds a control character: {v:?}"
        );
    }
}
