//! Fulcio v2 API JSON.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use signet_proto::fulcio::{
    Configuration, CreateSigningCertificateRequest, IssuerUrl, KeyRequest, PublicKeyAlgorithm,
    SigningCertificate, TrustBundle,
};

const PEM_KEY: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwr\nkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==\n-----END PUBLIC KEY-----\n";

fn req(v: &Value) -> Result<CreateSigningCertificateRequest, String> {
    CreateSigningCertificateRequest::from_json(&serde_json::to_vec(v).unwrap())
        .map_err(|e| e.to_string())
}

/// The request cosign sends (public key plus proof of possession).
#[test]
fn public_key_request() {
    let v = json!({
        "credentials": {"oidcIdentityToken": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": PEM_KEY},
            "proofOfPossession": "MEUCIQDdz3Hn9a1pJuh5CPJkr2Bx0bwvQ0A5ys8u9n7YFZ0rOAIgKnGlr+bC+3Rp1O3z1SbYkwr7PcKjGZ/qtBHWUa3+6x8="
        }
    });
    let r = req(&v).unwrap();
    assert_eq!(
        r.credentials.as_ref().unwrap().oidc_identity_token,
        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
    );
    let KeyRequest::PublicKey(pk) = &r.key else {
        panic!("public key form")
    };
    assert_eq!(pk.public_key.algorithm, PublicKeyAlgorithm::Ecdsa);
    assert_eq!(pk.public_key.content, PEM_KEY);
    assert_eq!(pk.proof_of_possession.len(), 71);
    assert_eq!(serde_json::to_value(&r).unwrap(), v);
    // `algorithm` is optional (and ignored by Fulcio); absent stays absent.
    let mut v2 = v.clone();
    v2["publicKeyRequest"]["publicKey"]
        .as_object_mut()
        .unwrap()
        .remove("algorithm");
    let r2 = req(&v2).unwrap();
    assert_eq!(serde_json::to_value(&r2).unwrap(), v2);
}

/// The request sigstore-python sends (a PEM CSR, base64 in JSON).
#[test]
fn csr_request() {
    let csr_pem = b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
    let v = json!({
        "credentials": {"oidcIdentityToken": "t"},
        "certificateSigningRequest": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, csr_pem),
    });
    let r = req(&v).unwrap();
    let KeyRequest::CertificateSigningRequest(csr) = &r.key else {
        panic!("csr form")
    };
    assert_eq!(csr.as_slice(), csr_pem);
    assert_eq!(serde_json::to_value(&r).unwrap(), v);
}

#[test]
fn request_rejections() {
    let both = json!({
        "credentials": {"oidcIdentityToken": "t"},
        "certificateSigningRequest": "AAAA",
        "publicKeyRequest": {"publicKey": {"content": "k"}, "proofOfPossession": "AAAA"}
    });
    assert!(req(&both).unwrap_err().contains("both"));
    let none = json!({"credentials": {"oidcIdentityToken": "t"}});
    assert!(req(&none).unwrap_err().contains("needs publicKeyRequest"));
    let unknown = json!({"credentials": {"oidcIdentityToken": "t", "x": 1}, "certificateSigningRequest": "AAAA"});
    assert!(req(&unknown).unwrap_err().contains("unknown field `x`"));
    let snake =
        json!({"credentials": {"oidc_identity_token": "t"}, "certificateSigningRequest": "AAAA"});
    assert!(req(&snake).is_err());
    let bad_b64 =
        json!({"credentials": {"oidcIdentityToken": "t"}, "certificateSigningRequest": "A"});
    assert!(req(&bad_b64).unwrap_err().contains("invalid base64"));
    let bad_alg = json!({
        "credentials": {"oidcIdentityToken": "t"},
        "publicKeyRequest": {"publicKey": {"algorithm": "DSA", "content": "k"}, "proofOfPossession": "AAAA"}
    });
    assert!(req(&bad_alg)
        .unwrap_err()
        .contains("unknown PublicKeyAlgorithm"));
}

#[test]
fn signing_certificate_responses() {
    let embedded = json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": ["LEAF", "INTER", "ROOT"]}}});
    let r = SigningCertificate::from_json(&serde_json::to_vec(&embedded).unwrap()).unwrap();
    assert!(matches!(r, SigningCertificate::EmbeddedSct(_)));
    assert_eq!(r.chain().certificates, vec!["LEAF", "INTER", "ROOT"]);
    assert_eq!(serde_json::to_value(&r).unwrap(), embedded);

    let detached = json!({"signedCertificateDetachedSct": {"chain": {"certificates": ["LEAF"]}, "signedCertificateTimestamp": "eyJ9"}});
    let r = SigningCertificate::from_json(&serde_json::to_vec(&detached).unwrap()).unwrap();
    let SigningCertificate::DetachedSct(d) = &r else {
        panic!("detached")
    };
    assert_eq!(d.signed_certificate_timestamp.as_slice(), b"{\"}");
    assert_eq!(serde_json::to_value(&r).unwrap(), detached);

    assert!(SigningCertificate::from_json(b"{}").is_err());
    let mut both = embedded.clone();
    both["signedCertificateDetachedSct"] = detached["signedCertificateDetachedSct"].clone();
    assert!(SigningCertificate::from_json(&serde_json::to_vec(&both).unwrap()).is_err());
}

#[test]
fn trust_bundle_and_configuration() {
    let tb = json!({"chains": [{"certificates": ["INTER", "ROOT"]}]});
    let parsed: TrustBundle = serde_json::from_value(tb.clone()).unwrap();
    assert_eq!(parsed.chains[0].certificates.len(), 2);
    assert_eq!(serde_json::to_value(&parsed).unwrap(), tb);

    let cfg = json!({"issuers": [
        {"issuerUrl": "https://accounts.google.com", "audience": "sigstore", "challengeClaim": "email", "issuerType": "email"},
        {"wildcardIssuerUrl": "https://oidc.eks.*.amazonaws.com/id/*", "audience": "sigstore", "challengeClaim": "sub", "issuerType": "kubernetes"},
        {"issuerUrl": "https://token.actions.githubusercontent.com", "audience": "sigstore", "challengeClaim": "sub", "issuerType": "ci-provider"},
        {"issuerUrl": "https://spiffe.example", "audience": "sigstore", "challengeClaim": "sub", "spiffeTrustDomain": "example.com", "issuerType": "spiffe"},
        {"issuerUrl": "https://u.example", "audience": "sigstore", "subjectDomain": "example.com", "issuerType": "username", "skipEmailVerification": true}
    ]});
    let parsed: Configuration = serde_json::from_value(cfg.clone()).unwrap();
    assert_eq!(
        parsed.issuers[1].issuer,
        IssuerUrl::Wildcard("https://oidc.eks.*.amazonaws.com/id/*".into())
    );
    assert_eq!(parsed.issuers[3].spiffe_trust_domain, "example.com");
    assert!(parsed.issuers[4].skip_email_verification);
    assert_eq!(serde_json::to_value(&parsed).unwrap(), cfg);

    let both = json!({"issuers": [{"issuerUrl": "a", "wildcardIssuerUrl": "b"}]});
    assert!(serde_json::from_value::<Configuration>(both).is_err());
    let neither = json!({"issuers": [{"audience": "sigstore"}]});
    assert!(serde_json::from_value::<Configuration>(neither).is_err());
}

/// The token may be left out of a v2 body (it then comes as `Authorization: Bearer`).
#[test]
fn credentials_are_optional() {
    let v = json!({"certificateSigningRequest": "AAAA"});
    let r = req(&v).unwrap();
    assert!(r.credentials.is_none());
    assert_eq!(serde_json::to_value(&r).unwrap(), v);
}

/// The legacy v1 request (cosign's Fulcio client) becomes the v2 request Fulcio makes of it.
#[test]
fn legacy_request_into_v2() {
    use signet_proto::fulcio::LegacyCertificateRequest;
    let legacy = |v: serde_json::Value| {
        LegacyCertificateRequest::from_json(serde_json::to_vec(&v).unwrap().as_slice())
    };
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    use base64::Engine as _;
    // DER key bytes: base64 in the v2 `content`; the proof carried over.
    let der = [0x30u8, 0x03, 0x02, 0x01, 0x00];
    let r = legacy(json!({"publicKey": {"algorithm": "ecdsa", "content": b64(&der)}, "signedEmailAddress": b64(b"sig")}))
        .unwrap()
        .into_v2()
        .unwrap();
    assert!(r.credentials.is_none());
    let KeyRequest::PublicKey(pk) = &r.key else {
        panic!("public key form")
    };
    assert_eq!(pk.public_key.content, b64(&der));
    assert_eq!(pk.proof_of_possession.0, b"sig");
    // PEM key bytes stay PEM text.
    let r = legacy(json!({"publicKey": {"content": b64(PEM_KEY.as_bytes())}}))
        .unwrap()
        .into_v2()
        .unwrap();
    let KeyRequest::PublicKey(pk) = &r.key else {
        panic!("public key form")
    };
    assert_eq!(pk.public_key.content, PEM_KEY);
    assert!(
        pk.proof_of_possession.0.is_empty(),
        "no proof: an empty one, which fails later"
    );
    // A CSR wins over a key; neither is an error; unknown fields are refused.
    let r = legacy(
        json!({"publicKey": {"content": b64(&der)}, "certificateSigningRequest": b64(b"csr")}),
    )
    .unwrap()
    .into_v2()
    .unwrap();
    assert!(matches!(&r.key, KeyRequest::CertificateSigningRequest(c) if c.0 == b"csr"));
    let e = legacy(json!({})).unwrap().into_v2().unwrap_err();
    assert_eq!(
        e.to_string(),
        "request needs publicKey or certificateSigningRequest"
    );
    assert!(legacy(json!({"credentials": {"oidcIdentityToken": "t"}})).is_err());
}
