//! signet-ca against a real OIDC provider (npm oauth2-mock-server, started on a free loopback
//! port): every case from issue 4 with its exact HTTP outcome, plus the certificate profile
//! checked with x509-parser and the embedded SCT checked with `signet_proto::sct`.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use base64::Engine as _;
use common::*;
use signet_ca::config::{CaConfig, IssuerType};
use signet_proto::cert::{self, Identity, SubjectAltName};
use signet_proto::keys::PublicKey;
use signet_proto::sct;
use x509_parser::prelude::*;

fn email_fields<'a>(email: &'a str, aud: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("sub", "user-123"),
        ("email", email),
        ("email_verified", "true"),
        ("aud", aud),
    ]
}

fn spki_of(der: &[u8]) -> Vec<u8> {
    let (_, c) = X509Certificate::from_der(der).unwrap();
    c.tbs_certificate.subject_pki.raw.to_vec()
}

/// Checks the common Fulcio profile and returns the parsed identity.
fn check_profile(ca: &TestCa, chain: &[Vec<u8>], client_spki: &[u8]) -> Identity {
    assert_eq!(chain.len(), 3, "leaf, intermediate, root");
    assert_eq!(chain[1], ca.intermediate_der);
    assert_eq!(chain[2], ca.root_der);
    let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();
    let (_, inter) = X509Certificate::from_der(&chain[1]).unwrap();
    leaf.verify_signature(Some(inter.public_key())).unwrap();
    assert_eq!(leaf.tbs_certificate.subject_pki.raw, client_spki);
    assert_eq!(leaf.subject().iter_rdn().count(), 0, "empty subject");
    assert_eq!(
        leaf.validity().not_after.timestamp() - leaf.validity().not_before.timestamp(),
        86400
    );
    let now = now_secs();
    assert!((leaf.validity().not_before.timestamp() - now).abs() < 60);
    let san = leaf.subject_alternative_name().unwrap().unwrap();
    assert!(san.critical, "SAN must be critical with an empty subject");
    let ku = leaf.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.digital_signature() && !ku.value.key_cert_sign());
    let eku = leaf.extended_key_usage().unwrap().unwrap();
    assert!(eku.value.code_signing && !eku.value.server_auth);
    let bc = leaf.basic_constraints().unwrap().unwrap();
    assert!(!bc.value.ca);
    let mut ski = None;
    let mut aki = None;
    let mut inter_ski = None;
    for e in leaf.extensions() {
        match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0.to_vec()),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki = a.key_identifier.as_ref().map(|k| k.0.to_vec());
            }
            _ => {}
        }
    }
    for e in inter.extensions() {
        if let ParsedExtension::SubjectKeyIdentifier(k) = e.parsed_extension() {
            inter_ski = Some(k.0.to_vec());
        }
    }
    assert!(ski.is_some(), "SKI present");
    assert_eq!(aki, inter_ski, "AKI = issuer SKI");
    // Exactly one embedded SCT, from our CT key, verifying over the precert TBS.
    let sct_oid = sct::oid_to_der(sct::OID_SCT_LIST).unwrap();
    let exts = sct::certificate_extensions(&chain[0]).unwrap();
    let sct_ext: Vec<_> = exts
        .iter()
        .filter(|e| e.oid == sct_oid.as_slice())
        .collect();
    assert_eq!(sct_ext.len(), 1);
    assert_eq!(
        sct::decode_sct_list_extension(sct_ext[0].value)
            .unwrap()
            .len(),
        1
    );
    assert!(exts
        .iter()
        .all(|e| e.oid != sct::oid_to_der(sct::OID_PRECERT_POISON).unwrap().as_slice()));
    let log_key = PublicKey::from_spki_der(ca.ct_key.public_key().spki_der()).unwrap();
    let got = sct::verify_embedded_sct(&chain[0], &spki_of(&chain[1]), &log_key).unwrap();
    assert!((i64::try_from(got.timestamp / 1000).unwrap() - now).abs() < 60);
    // A different CT key does not verify it.
    let other = client_key();
    assert!(sct::verify_embedded_sct(&chain[0], &spki_of(&chain[1]), other.public_key()).is_err());
    // Python cryptography agrees the leaf parses and carries one SCT (independent parser).
    Identity::from_der(&chain[0]).unwrap()
}

#[tokio::test]
async fn oidc_cases() {
    let mut email_idp = MockOidc::start("ES256");
    let gh_idp = MockOidc::start("RS256");
    let mut config = CaConfig::with_issuers(vec![
        issuer(&email_idp.url, IssuerType::Email),
        issuer(&gh_idp.url, IssuerType::GithubWorkflow),
    ]);
    config.jwks_min_refresh_secs = 1;
    config.rate_limit.max_per_window = 1000;
    let ca = build_ca(config, None);

    // --- valid email token ------------------------------------------------------------
    let token = email_idp
        .token(&email_fields("alice@example.com", "sigstore"))
        .await;
    let key = client_key();
    let r = sign_cert(&ca, &key_request(&token, &key, "alice@example.com")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let chain = chain_der(&r);
    let id = check_profile(&ca, &chain, key.public_key().spki_der());
    assert_eq!(
        id.sans,
        vec![SubjectAltName::Email("alice@example.com".into())]
    );
    assert_eq!(id.issuer.as_deref(), Some(email_idp.url.as_str()));
    assert_eq!(
        id.extension(cert::OID_ISSUER_V1),
        Some(email_idp.url.as_str())
    );
    assert_eq!(
        id.extension(cert::OID_ISSUER_V2),
        Some(email_idp.url.as_str())
    );
    assert_eq!(id.token_subject(), Some("user-123"));
    assert_eq!(ca.service.oidc().jwks_fetch_count(&email_idp.url), 1);

    // The precertificate the log signed and the final certificate differ only by
    // poison vs SCT list: rebuild the precert TBS from the final certificate and check
    // the SCT signature again through the lower-level API.
    let tbs = sct::tbs_without_extensions(&chain[0], &[sct::OID_SCT_LIST]).unwrap();
    let scts = sct::decode_sct_list_extension(
        sct::certificate_extensions(&chain[0])
            .unwrap()
            .iter()
            .find(|e| e.oid == sct::oid_to_der(sct::OID_SCT_LIST).unwrap().as_slice())
            .unwrap()
            .value,
    )
    .unwrap();
    scts[0]
        .verify_precert(
            ca.ct_key.public_key(),
            &sct::issuer_key_hash(&spki_of(&chain[1])),
            &tbs,
        )
        .unwrap();

    // --- CSR instead of a public key + proof ----------------------------------------------
    let csr_key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .serialize_request(&csr_key)
        .unwrap()
        .pem()
        .unwrap();
    let body = serde_json::json!({
        "credentials": {"oidcIdentityToken": token},
        "certificateSigningRequest": B64.encode(csr.as_bytes()),
    });
    let r = sign_cert(&ca, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    check_profile(
        &ca,
        &chain_der(&r),
        &rcgen::PublicKeyData::subject_public_key_info(&csr_key),
    );

    // --- JWKS cached: a second valid request does not refetch ------------------------------
    assert_eq!(ca.service.oidc().jwks_fetch_count(&email_idp.url), 1);

    // --- wrong audience ----------------------------------------------------------------
    let t = email_idp
        .token(&email_fields("alice@example.com", "not-sigstore"))
        .await;
    let r = sign_cert(&ca, &key_request(&t, &key, "alice@example.com")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Fulcio's (grpc-gateway's) error shape: the gRPC code, and `details`.
    assert_eq!(r.json["code"], 16, "Unauthenticated");
    assert_eq!(r.json["details"], serde_json::json!([]));
    assert_message(&r, "invalid identity token: token audience does not match");

    // --- expired -----------------------------------------------------------------------
    let now = now_secs();
    let claims =
        serde_json::json!({"exp": now - 3600, "iat": now - 7200, "nbf": now - 7200}).to_string();
    let mut f = email_fields("alice@example.com", "sigstore");
    f.push(("claims", &claims));
    let idp_expired_token = email_idp.token(&f).await;
    let r = sign_cert(
        &ca,
        &key_request(&idp_expired_token, &key, "alice@example.com"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_message(&r, "invalid identity token: token expired");

    // --- not yet valid (nbf in the future beyond leeway) -----------------------------------
    let claims = serde_json::json!({"nbf": now + 3600}).to_string();
    let mut f = email_fields("alice@example.com", "sigstore");
    f.push(("claims", &claims));
    let t = email_idp.token(&f).await;
    let r = sign_cert(&ca, &key_request(&t, &key, "alice@example.com")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // --- time claims of the wrong JSON type: refused, never skipped ---------------------------
    for (claim, value) in [
        ("nbf", serde_json::json!((now + 3600).to_string())),
        ("nbf", serde_json::json!(now.to_string())),
        ("nbf", serde_json::Value::Null),
        ("nbf", serde_json::json!({"t": now})),
        ("nbf", serde_json::json!(true)),
        ("iat", serde_json::json!(now.to_string())),
        ("exp", serde_json::json!((now + 600).to_string())),
    ] {
        let claims = serde_json::json!({ claim: value }).to_string();
        let mut f = email_fields("alice@example.com", "sigstore");
        f.push(("claims", &claims));
        let t = email_idp.token(&f).await;
        let r = sign_cert(&ca, &key_request(&t, &key, "alice@example.com")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{claim}: {value}");
        assert_message(
            &r,
            &format!("invalid identity token: token claim {claim} is not a number of seconds"),
        );
    }

    // --- several audiences: accepted when the configured one is among them (as Fulcio) -------
    let claims = serde_json::json!({"aud": ["other-client", "sigstore"]}).to_string();
    let mut f = email_fields("alice@example.com", "sigstore");
    f.push(("claims", &claims));
    let t = email_idp.token(&f).await;
    let r = sign_cert(&ca, &key_request(&t, &key, "alice@example.com")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let claims = serde_json::json!({"aud": ["other-client", "not-sigstore"]}).to_string();
    let mut f = email_fields("alice@example.com", "sigstore");
    f.push(("claims", &claims));
    let t = email_idp.token(&f).await;
    let r = sign_cert(&ca, &key_request(&t, &key, "alice@example.com")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_message(&r, "invalid identity token: token audience does not match");

    // --- a verified email with a control character: nothing issued ------------------------
    for bad in [
        "alice\u{0}@example.com",
        "alice@example.com\n",
        "ali\u{202e}ce@example.com",
    ] {
        let t = email_idp.token(&email_fields(bad, "sigstore")).await;
        let r = sign_cert(&ca, &key_request(&t, &key, bad)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad:?}");
        assert_message(
            &r,
            "identity token does not carry a usable identity: claim email contains a control character",
        );
    }

    // --- unconfigured issuer (validly signed, but iss is not in the config) ----------------
    let claims = serde_json::json!({"iss": "https://unconfigured.example.com"}).to_string();
    let mut f = email_fields("alice@example.com", "sigstore");
    f.push(("claims", &claims));
    let t = email_idp.token(&f).await;
    let r = sign_cert(&ca, &key_request(&t, &key, "alice@example.com")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_message(
        &r,
        "invalid identity token: issuer \"https://unconfigured.example.com\" is not configured",
    );

    // --- unverified email --------------------------------------------------------------------
    let t = email_idp
        .token(&[
            ("sub", "u"),
            ("email", "bob@example.com"),
            ("email_verified", "false"),
            ("aud", "sigstore"),
        ])
        .await;
    let r = sign_cert(&ca, &key_request(&t, &key, "bob@example.com")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_message(
        &r,
        "identity token does not carry a usable identity: email is not verified",
    );

    // --- tampered signature ----------------------------------------------------------------
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut sig = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
    let last = sig.len() - 5;
    sig[last] ^= 0x01;
    parts[2] = URL_SAFE_NO_PAD.encode(sig);
    let r = sign_cert(
        &ca,
        &key_request(&parts.join("."), &key, "alice@example.com"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_message(
        &r,
        "invalid identity token: token signature does not verify",
    );

    // --- tampered payload (signature kept) ---------------------------------------------------
    let payload: serde_json::Value = signet_proto::json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let mut evil = payload.clone();
    evil["email"] = "mallory@example.com".into();
    let forged = format!(
        "{}.{}.{}",
        token.split('.').next().unwrap(),
        URL_SAFE_NO_PAD.encode(evil.to_string()),
        token.split('.').nth(2).unwrap()
    );
    let r = sign_cert(&ca, &key_request(&forged, &key, "mallory@example.com")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // --- alg none and HMAC -------------------------------------------------------------------
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"HS256","typ":"JWT","kid":"x"}"#,
    ] {
        let t = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(b"sig")
        );
        let r = sign_cert(&ca, &key_request(&t, &key, "alice@example.com")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{header}");
    }

    // --- not a JWT at all: 400 -------------------------------------------------------------
    let r = sign_cert(&ca, &key_request("not-a-jwt", &key, "alice@example.com")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_message(&r, "malformed identity token: malformed token: ");

    // --- bad proof of possession -------------------------------------------------------------
    let r = sign_cert(&ca, &key_request(&token, &key, "someone-else@example.com")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_message(
        &r,
        "proof of possession failed: proof of possession does not verify",
    );
    let other = client_key();
    let mut body = key_request(&token, &other, "alice@example.com");
    body["publicKeyRequest"]["publicKey"]["content"] = key.public_key().to_pem().into();
    let r = sign_cert(&ca, &body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // --- unsupported key type (ECDSA P-521) ---------------------------------------------------
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let p521 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        &rng,
    )
    .unwrap();
    let kp = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
        &aws_lc_rs::signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        p521.as_ref(),
    )
    .unwrap();
    let point = aws_lc_rs::signature::KeyPair::public_key(&kp)
        .as_ref()
        .to_vec();
    let mut alg = vec![
        0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00,
        0x23,
    ];
    alg.splice(0..0, [0x30, 0x10]);
    let mut bits = vec![0x03, 0x81, u8::try_from(point.len() + 1).unwrap(), 0x00];
    bits.extend_from_slice(&point);
    let mut spki = vec![0x30, 0x81, u8::try_from(alg.len() + bits.len()).unwrap()];
    spki.extend_from_slice(&alg);
    spki.extend_from_slice(&bits);
    let proof = kp.sign(&rng, b"alice@example.com").unwrap();
    let body = serde_json::json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": ::pem::encode(&::pem::Pem::new("PUBLIC KEY", spki))},
            "proofOfPossession": B64.encode(proof.as_ref()),
        }
    });
    let r = sign_cert(&ca, &body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_message(
        &r,
        "unsupported public key: unsupported or malformed public key",
    );

    // --- unknown kid followed by a JWKS rotation -------------------------------------------
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let new_kid = email_idp.rotate("ES256");
    let rotated = email_idp
        .token_signed_with(&new_kid, &email_fields("alice@example.com", "sigstore"))
        .await;
    let before = ca.service.oidc().jwks_fetch_count(&email_idp.url);
    let r = sign_cert(&ca, &key_request(&rotated, &key, "alice@example.com")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(
        ca.service.oidc().jwks_fetch_count(&email_idp.url),
        before + 1,
        "refreshed once"
    );
    // A kid that exists nowhere right after: the refresh is rate-limited, so no new fetch.
    let t = email_idp
        .token(&[
            ("sub", "user-123"),
            ("email", "alice@example.com"),
            ("email_verified", "true"),
            ("aud", "sigstore"),
            ("header_kid", "no-such-kid"),
        ])
        .await;
    let r = sign_cert(&ca, &key_request(&t, &key, "alice@example.com")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        ca.service.oidc().jwks_fetch_count(&email_idp.url),
        before + 1,
        "rate-limited refresh"
    );

    // --- valid GitHub workflow token, every extension checked -----------------------------
    let gh_claims = serde_json::json!({
        "job_workflow_ref": "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
        "job_workflow_sha": "1111111111111111111111111111111111111111",
        "runner_environment": "github-hosted",
        "repository": "octo-org/octo-repo",
        "repository_id": "74",
        "repository_owner": "octo-org",
        "repository_owner_id": "65",
        "repository_visibility": "public",
        "workflow": "example-workflow",
        "workflow_ref": "octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main",
        "workflow_sha": "2222222222222222222222222222222222222222",
        "sha": "3333333333333333333333333333333333333333",
        "ref": "refs/heads/main",
        "event_name": "push",
        "run_id": "1536140711",
        "run_attempt": "2",
        "environment": "production",
    })
    .to_string();
    let sub = "repo:octo-org/octo-repo:environment:production";
    let t = gh_idp
        .token(&[("sub", sub), ("aud", "sigstore"), ("claims", &gh_claims)])
        .await;
    let r = sign_cert(&ca, &key_request(&t, &key, sub)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let chain = chain_der(&r);
    let id = check_profile(&ca, &chain, key.public_key().spki_der());
    let signer_uri =
        "https://github.com/octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main";
    assert_eq!(id.sans, vec![SubjectAltName::Uri(signer_uri.into())]);
    let expect = [
        (cert::OID_ISSUER_V1, gh_idp.url.as_str()),
        (cert::OID_GITHUB_WORKFLOW_TRIGGER, "push"),
        (
            cert::OID_GITHUB_WORKFLOW_SHA,
            "3333333333333333333333333333333333333333",
        ),
        (cert::OID_GITHUB_WORKFLOW_NAME, "example-workflow"),
        (cert::OID_GITHUB_WORKFLOW_REPOSITORY, "octo-org/octo-repo"),
        (cert::OID_GITHUB_WORKFLOW_REF, "refs/heads/main"),
        (cert::OID_ISSUER_V2, gh_idp.url.as_str()),
        (cert::OID_BUILD_SIGNER_URI, signer_uri),
        (
            cert::OID_BUILD_SIGNER_DIGEST,
            "1111111111111111111111111111111111111111",
        ),
        (cert::OID_RUNNER_ENVIRONMENT, "github-hosted"),
        (
            cert::OID_SOURCE_REPOSITORY_URI,
            "https://github.com/octo-org/octo-repo",
        ),
        (
            cert::OID_SOURCE_REPOSITORY_DIGEST,
            "3333333333333333333333333333333333333333",
        ),
        (cert::OID_SOURCE_REPOSITORY_REF, "refs/heads/main"),
        (cert::OID_SOURCE_REPOSITORY_IDENTIFIER, "74"),
        (
            cert::OID_SOURCE_REPOSITORY_OWNER_URI,
            "https://github.com/octo-org",
        ),
        (cert::OID_SOURCE_REPOSITORY_OWNER_IDENTIFIER, "65"),
        (
            cert::OID_BUILD_CONFIG_URI,
            "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main",
        ),
        (
            cert::OID_BUILD_CONFIG_DIGEST,
            "2222222222222222222222222222222222222222",
        ),
        (cert::OID_BUILD_TRIGGER, "push"),
        (
            cert::OID_RUN_INVOCATION_URI,
            "https://github.com/octo-org/octo-repo/actions/runs/1536140711/attempts/2",
        ),
        (cert::OID_SOURCE_REPOSITORY_VISIBILITY, "public"),
        (cert::OID_DEPLOYMENT_ENVIRONMENT, "production"),
        (cert::OID_TOKEN_SUBJECT, sub),
    ];
    for (oid, want) in expect {
        assert_eq!(id.extension(oid), Some(want), "{oid}");
    }
    assert_eq!(
        id.extensions.len(),
        expect.len(),
        "no unexpected Fulcio extensions"
    );
    // Raw encodings: .1.1-.1.6 raw bytes, .1.8+ DER UTF8String.
    let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();
    for e in leaf.extensions() {
        let oid = e.oid.to_id_string();
        if let Some(row) = cert::fulcio_oid(&oid) {
            assert!(!e.critical, "{oid} must not be critical");
            match row.encoding {
                cert::ValueEncoding::RawUtf8 => {
                    assert_ne!(e.value.first(), Some(&0x0c), "{oid} raw")
                }
                _ => assert_eq!(e.value.first(), Some(&0x0c), "{oid} UTF8String"),
            }
        }
    }
    // A GitHub token lacking workflow claims is refused (401).
    let t = gh_idp.token(&[("sub", sub), ("aud", "sigstore")]).await;
    let r = sign_cert(&ca, &key_request(&t, &key, sub)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // --- trust bundle and configuration ----------------------------------------------------
    let r = call(&ca, "GET", "/api/v2/trustBundle", vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    let certs = r.json["chains"][0]["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(
        ::pem::parse(certs[1].as_str().unwrap()).unwrap().contents(),
        ca.root_der.as_slice()
    );
    let r = call(&ca, "GET", "/api/v2/configuration", vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["issuers"][0]["issuerUrl"], email_idp.url.as_str());
    assert_eq!(r.json["issuers"][0]["challengeClaim"], "email");
    assert_eq!(r.json["issuers"][1]["challengeClaim"], "sub");

    // --- malformed JSON and oversized body -------------------------------------------------
    let r = call(&ca, "POST", "/api/v2/signingCert", b"{".to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json["code"], 3, "InvalidArgument");
    assert_message(&r, "invalid request: ");
    assert!(r.json["message"].as_str().unwrap().len() > "invalid request: ".len());
    let mut no_credentials = key_request(&token, &key, "alice@example.com");
    no_credentials
        .as_object_mut()
        .unwrap()
        .remove("credentials");
    let r = sign_cert(&ca, &no_credentials).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_message(&r, "invalid request: no identity token: the body has no credentials.oidcIdentityToken and there is no Authorization: Bearer header");

    // --- the token in an `Authorization: Bearer` header instead (as sigstore-python sends it,
    // and as Fulcio's HTTP gateway accepts) --------------------------------------------------
    let body = serde_json::to_vec(&no_credentials).unwrap();
    let bearer = format!("Bearer {token}");
    let r = call_with_headers(
        &ca,
        "POST",
        "/api/v2/signingCert",
        &[("authorization", &bearer)],
        body.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let id = check_profile(&ca, &chain_der(&r), key.public_key().spki_der());
    assert_eq!(
        id.sans,
        vec![SubjectAltName::Email("alice@example.com".into())]
    );
    // The scheme is case-insensitive (RFC 9110 section 11.1).
    let lower = format!("bearer {token}");
    let r = call_with_headers(
        &ca,
        "POST",
        "/api/v2/signingCert",
        &[("authorization", &lower)],
        body.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    // A token in the body wins over the header, as in Fulcio: a bad one there is refused even
    // with a good header.
    let mut bad_body = key_request("not-a-jwt", &key, "alice@example.com");
    let r = call_with_headers(
        &ca,
        "POST",
        "/api/v2/signingCert",
        &[("authorization", &bearer)],
        serde_json::to_vec(&bad_body).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_message(&r, "malformed identity token: ");
    // An empty token in the body counts as none.
    bad_body["credentials"]["oidcIdentityToken"] = serde_json::json!("");
    let r = call_with_headers(
        &ca,
        "POST",
        "/api/v2/signingCert",
        &[("authorization", &bearer)],
        serde_json::to_vec(&bad_body).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    // Another scheme, or a Bearer with nothing after it, is no token.
    for value in ["Basic YWxpY2U6c2VjcmV0", "Bearer ", "Bearer"] {
        let r = call_with_headers(
            &ca,
            "POST",
            "/api/v2/signingCert",
            &[("authorization", value)],
            body.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{value}: {}", r.json);
        assert_message(&r, "invalid request: no identity token");
    }
    // A bad token in the header is checked like one in the body.
    let expired = format!("Bearer {idp_expired_token}");
    let r = call_with_headers(
        &ca,
        "POST",
        "/api/v2/signingCert",
        &[("authorization", &expired)],
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.json);
    assert_message(&r, "invalid identity token: token expired");

    // --- Fulcio's legacy v1 API (cosign's client): token only as Bearer, PEM text back ----
    let proof = B64.encode(key.sign(b"alice@example.com").unwrap());
    let pem_reply = |r: &Reply| -> Vec<Vec<u8>> {
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.bytes)
        );
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/pem-certificate-chain")
        );
        ::pem::parse_many(&r.bytes)
            .unwrap()
            .into_iter()
            .map(|p| p.into_contents())
            .collect()
    };
    for content in [
        B64.encode(key.public_key().spki_der()),
        B64.encode(key.public_key().to_pem()),
    ] {
        let v1 = serde_json::json!({
            "publicKey": {"algorithm": "ecdsa", "content": content},
            "signedEmailAddress": proof,
        });
        let r = call_with_headers(
            &ca,
            "POST",
            "/api/v1/signingCert",
            &[("authorization", &bearer)],
            serde_json::to_vec(&v1).unwrap(),
        )
        .await;
        let chain = pem_reply(&r);
        assert_eq!(chain.len(), 3, "leaf, intermediate, root");
        let id = check_profile(&ca, &chain, key.public_key().spki_der());
        assert_eq!(
            id.sans,
            vec![SubjectAltName::Email("alice@example.com".into())]
        );
        // The same request without the header has no token.
        let r = call(
            &ca,
            "POST",
            "/api/v1/signingCert",
            serde_json::to_vec(&v1).unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_message(&r, "invalid request: no identity token");
    }
    let v1_csr = serde_json::json!({"certificateSigningRequest": B64.encode(csr.as_bytes())});
    let r = call_with_headers(
        &ca,
        "POST",
        "/api/v1/signingCert",
        &[("authorization", &bearer)],
        serde_json::to_vec(&v1_csr).unwrap(),
    )
    .await;
    let chain = pem_reply(&r);
    check_profile(
        &ca,
        &chain,
        &rcgen::PublicKeyData::subject_public_key_info(&csr_key),
    );
    // A proof over something else, no key at all, unknown fields: 400 with the reason.
    let wrong = serde_json::json!({
        "publicKey": {"content": B64.encode(key.public_key().spki_der())},
        "signedEmailAddress": B64.encode(key.sign(b"mallory@example.com").unwrap()),
    });
    for (body, prefix) in [
        (wrong, "proof of possession failed: "),
        (
            serde_json::json!({}),
            "invalid request: request needs publicKey or certificateSigningRequest",
        ),
        (
            serde_json::json!({"publicKey": {"content": "AA=="}, "extra": 1}),
            "invalid request: malformed Fulcio JSON: unknown field `extra`",
        ),
    ] {
        let r = call_with_headers(
            &ca,
            "POST",
            "/api/v1/signingCert",
            &[("authorization", &bearer)],
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.json);
        assert_message(&r, prefix);
    }
    let r = call(&ca, "GET", "/api/v1/rootCert", vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/pem-certificate-chain")
    );
    let roots = ::pem::parse_many(&r.bytes).unwrap();
    assert_eq!(roots.len(), 2);
    assert_eq!(roots[1].contents(), ca.root_der.as_slice());
    let r = call(&ca, "POST", "/api/v2/signingCert", vec![b' '; 200 * 1024]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json["code"], 8, "ResourceExhausted");
    assert_message(&r, "request body too large (limit ");
    // A method an endpoint does not serve: a JSON 405 naming it.
    for (method, path) in [
        ("GET", "/api/v2/signingCert"),
        ("POST", "/api/v2/trustBundle"),
        ("DELETE", "/api/v2/configuration"),
    ] {
        let r = call(&ca, method, path, vec![]).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(r.json["code"], 12, "Unimplemented");
        assert_message(&r, &format!("{method} is not allowed"));
    }
}

/// The error message starts with `prefix` (a stable kind, then the detail).
fn assert_message(r: &Reply, prefix: &str) {
    let m = r.json["message"].as_str().unwrap_or_default();
    assert!(
        m.starts_with(prefix),
        "expected {prefix:?}..., got {:?}",
        r.json
    );
}

#[tokio::test]
async fn rate_limit_per_identity() {
    let idp = MockOidc::start("EdDSA");
    let mut config = CaConfig::with_issuers(vec![issuer(&idp.url, IssuerType::Email)]);
    config.rate_limit.max_per_window = 2;
    config.rate_limit.window_secs = 3600;
    let ca = build_ca(config, None);
    let key = client_key();
    let t = idp
        .token(&email_fields("carol@example.com", "sigstore"))
        .await;
    for _ in 0..2 {
        let r = sign_cert(&ca, &key_request(&t, &key, "carol@example.com")).await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "EdDSA token accepted: {}",
            r.json
        );
    }
    let r = sign_cert(&ca, &key_request(&t, &key, "carol@example.com")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.retry_after.unwrap().parse().unwrap();
    assert!(retry > 3500 && retry <= 3600, "{retry}");
    // Another identity is not affected.
    let t = idp
        .token(&email_fields("dave@example.com", "sigstore"))
        .await;
    let r = sign_cert(&ca, &key_request(&t, &key, "dave@example.com")).await;
    assert_eq!(r.status, StatusCode::CREATED);
}

/// An issuer configured with a `jwks_file` (its keys as `jwks_uri` serves them, saved ahead of
/// time) is verified without any discovery or JWKS fetch; a key the file lacks is refused
/// without a fetch (the file is authoritative); a file that is missing, not a JWKS, or
/// without keys stops the verifier from starting, naming the file.
#[tokio::test]
async fn jwks_file_replaces_discovery() {
    let mut idp = MockOidc::start("ES256");
    let http = reqwest::Client::new();
    let discovery: serde_json::Value = http
        .get(format!("{}/.well-known/openid-configuration", idp.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks = http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("jwks.json");
    std::fs::write(&file, &jwks).unwrap();

    let mut cfg = issuer(&idp.url, IssuerType::Email);
    cfg.jwks_file = Some(file.clone());
    let mut config = CaConfig::with_issuers(vec![cfg.clone()]);
    config.jwks_min_refresh_secs = 1;
    let ca = build_ca(config, None);
    let key = client_key();
    let token = idp
        .token(&email_fields("carol@example.com", "sigstore"))
        .await;
    let r = sign_cert(&ca, &key_request(&token, &key, "carol@example.com")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let id = Identity::from_der(&chain_der(&r)[0]).unwrap();
    assert_eq!(
        id.sans,
        vec![SubjectAltName::Email("carol@example.com".into())]
    );
    assert_eq!(ca.service.oidc().jwks_fetch_count(&idp.url), 0);

    // The IdP rotates: its new key is not in the file, and nothing is fetched to find it.
    // (The mock signs round-robin: take a token signed with the new key.)
    let new_kid = idp.rotate("ES256");
    let rotated = idp
        .token_signed_with(&new_kid, &email_fields("carol@example.com", "sigstore"))
        .await;
    let r = sign_cert(&ca, &key_request(&rotated, &key, "carol@example.com")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.json);
    assert_message(&r, "invalid identity token: no key for kid");
    assert_eq!(ca.service.oidc().jwks_fetch_count(&idp.url), 0);

    // Files that cannot serve: the verifier does not start, and says which file.
    let missing = tmp.path().join("absent.json");
    let not_json = tmp.path().join("not.json");
    std::fs::write(&not_json, "keys: []").unwrap();
    let no_keys = tmp.path().join("empty.json");
    std::fs::write(&no_keys, r#"{"keys": []}"#).unwrap();
    for (path, needle) in [
        (&missing, "absent.json"),
        (&not_json, "not a JWKS"),
        (&no_keys, "has no keys"),
    ] {
        let mut c = cfg.clone();
        c.jwks_file = Some(path.clone());
        let e = signet_ca::oidc::OidcVerifier::new(
            &CaConfig::with_issuers(vec![c]),
            std::sync::Arc::new(signet_ca::SystemClock),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains(&path.display().to_string()) && e.contains(needle),
            "{path:?}: {e}"
        );
    }
}

/// An issuer that cannot be reached is not fetched once per request: after a failure the CA
/// answers from that failure for a while (503), then tries again.
#[tokio::test]
async fn unreachable_issuer_is_not_fetched_per_request() {
    // Nothing listens on this port.
    let url = format!("http://127.0.0.1:{}", free_port());
    let mut config = CaConfig::with_issuers(vec![issuer(&url, IssuerType::Email)]);
    config.rate_limit.max_per_window = 1000;
    let ca = build_ca(config, None);
    let now = now_secs();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iss": url, "aud": "sigstore", "sub": "alice", "email": "alice@example.com",
        "email_verified": true, "iat": now, "exp": now + 600,
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let token = format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode([7u8; 64]));
    let key = client_key();
    for i in 0..20 {
        let r = sign_cert(&ca, &key_request(&token, &key, "alice@example.com")).await;
        assert_eq!(
            r.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "request {i}: {}",
            r.json
        );
        assert_message(&r, "identity provider unavailable");
    }
    assert_eq!(
        ca.service.oidc().jwks_fetch_count(&url),
        1,
        "one fetch attempt for 20 requests within the back-off"
    );
    // The zero refresh interval that would allow a fetch per unknown kid is refused.
    let mut zero = CaConfig::with_issuers(vec![issuer(&url, IssuerType::Email)]);
    zero.jwks_min_refresh_secs = 0;
    assert!(zero.validate().is_err());
}

/// A leaf never outlives the chain that issues it, and an expired chain issues nothing.
#[tokio::test]
async fn leaf_never_outlives_the_chain() {
    let idp = MockOidc::start("ES256");
    let token = idp
        .token(&email_fields("alice@example.com", "sigstore"))
        .await;
    let key = client_key();
    // The intermediate ends in one hour; the configured validity is 24 h.
    let start = now_secs() - 86400;
    let mut opts =
        signet_ca::init::InitOptions::new(signet_ca::signer::CaCurve::P384, "t", "t", start);
    opts.intermediate_validity_secs = 86400 + 3600;
    let ca = build_ca_with(
        CaConfig::with_issuers(vec![issuer(&idp.url, IssuerType::Email)]),
        None,
        &opts,
    );
    let r = sign_cert(&ca, &key_request(&token, &key, "alice@example.com")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let chain = chain_der(&r);
    let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();
    let (_, inter) = X509Certificate::from_der(&chain[1]).unwrap();
    assert_eq!(
        leaf.validity().not_after.timestamp(),
        inter.validity().not_after.timestamp()
    );
    assert!(leaf.validity().not_after.timestamp() <= now_secs() + 3600);
    // A chain that has ended: 500, nothing issued.
    opts.intermediate_validity_secs = 3600;
    let expired = build_ca_with(
        CaConfig::with_issuers(vec![issuer(&idp.url, IssuerType::Email)]),
        None,
        &opts,
    );
    let r = sign_cert(&expired, &key_request(&token, &key, "alice@example.com")).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.json);
    assert_message(&r, "internal error");
}
