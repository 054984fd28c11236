//! CA key in SoftHSM2 over PKCS#11: the intermediate key is generated inside a fresh token
//! (non-extractable), the CA issues a certificate for a real OIDC token, and the leaf's
//! signature verifies under the token's public key. Fails if the SoftHSM2 module is not
//! installed.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use signet_ca::config::{CaConfig, IssuerType};
use signet_ca::signer::{CaCurve, CaSigner, Pkcs11KeyRef, Pkcs11Signer};
use x509_parser::prelude::*;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

#[tokio::test]
async fn ca_key_in_softhsm2() {
    assert!(
        Path::new(MODULE).exists(),
        "{MODULE} is missing (apt-get install -y softhsm2)"
    );
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    // This test binary holds a single test, so setting the variable cannot race other tests.
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let st = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            "signet-test",
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .status()
        .expect("softhsm2-util");
    assert!(st.success());

    let key_ref = Pkcs11KeyRef {
        module: MODULE.into(),
        token_label: "signet-test".into(),
        pin: "1234".into(),
        key_label: "signet-intermediate".into(),
    };
    // Wrong PIN is refused (checked before any session of this process is logged in).
    let bad = Pkcs11KeyRef {
        pin: "0000".into(),
        ..key_ref.clone()
    };
    assert!(matches!(
        Pkcs11Signer::generate(&bad, CaCurve::P256),
        Err(signet_ca::signer::SignerError::Pkcs11 { op: "C_Login", .. })
    ));
    let hsm = Arc::new(Pkcs11Signer::generate(&key_ref, CaCurve::P256).unwrap());
    // Re-opening finds the same key by label.
    let reopened = Pkcs11Signer::open(&key_ref).unwrap();
    assert_eq!(reopened.spki_der(), hsm.spki_der());

    let idp = MockOidc::start("ES256");
    let ca = build_ca(
        CaConfig::with_issuers(vec![issuer(&idp.url, IssuerType::Email)]),
        Some(hsm.clone()),
    );
    let token = idp
        .token(&[
            ("sub", "u1"),
            ("email", "hsm@example.com"),
            ("email_verified", "true"),
            ("aud", "sigstore"),
        ])
        .await;
    let key = client_key();
    let r = sign_cert(&ca, &key_request(&token, &key, "hsm@example.com")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let chain = chain_der(&r);
    let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();
    let (_, inter) = X509Certificate::from_der(&chain[1]).unwrap();
    let (_, root) = X509Certificate::from_der(&chain[2]).unwrap();
    assert_eq!(inter.tbs_certificate.subject_pki.raw, hsm.spki_der());
    leaf.verify_signature(Some(inter.public_key())).unwrap();
    inter.verify_signature(Some(root.public_key())).unwrap();
    root.verify_signature(None).unwrap();
    // The private key object is non-extractable and sensitive.
    let out = Command::new("pkcs11-tool")
        .args([
            "--module",
            MODULE,
            "--token-label",
            "signet-test",
            "--login",
            "--pin",
            "1234",
            "--list-objects",
            "--type",
            "privkey",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .output();
    if let Ok(out) = out {
        let text = String::from_utf8_lossy(&out.stdout);
        if out.status.success() {
            assert!(text.contains("signet-intermediate"), "{text}");
            assert!(
                text.contains("never extractable") || text.contains("sensitive"),
                "{text}"
            );
        }
    }
}
