//! The Notary Project's published envelopes (testdata/notary) through the parsers, and
//! structural refusals of edited copies.
#![allow(clippy::unwrap_used)]

use signet_proto::notary::{
    parse_envelope, EnvelopeError, EnvelopeFormat, SignatureAlgorithm, SigningScheme,
    MEDIA_TYPE_COSE, MEDIA_TYPE_JWS,
};

fn vector(name: &str) -> Vec<u8> {
    let path = format!("{}/../testdata/notary/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn published_envelopes_parse() {
    for (file, media_type, ts, digest) in [
        (
            "envelopes/jws_signature.sig",
            MEDIA_TYPE_JWS,
            false,
            "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
        ),
        (
            "envelopes/cose_signature.sig",
            MEDIA_TYPE_COSE,
            false,
            "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
        ),
        (
            "envelopes/jwsWithTimestamp.sig",
            MEDIA_TYPE_JWS,
            true,
            "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda",
        ),
        (
            "envelopes/coseWithTimestamp.sig",
            MEDIA_TYPE_COSE,
            true,
            "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda",
        ),
        (
            "envelopes/withoutTimestamp.sig",
            MEDIA_TYPE_JWS,
            false,
            "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda",
        ),
        (
            "envelopes/timestampAfterNotAfter.sig",
            MEDIA_TYPE_COSE,
            true,
            "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda",
        ),
    ] {
        let env =
            parse_envelope(media_type, &vector(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(env.algorithm, SignatureAlgorithm::Ps256, "{file}");
        assert_eq!(env.signing_scheme, SigningScheme::X509, "{file}");
        assert_eq!(env.timestamp_token.is_some(), ts, "{file}");
        assert_eq!(env.payload.target_artifact.digest, digest, "{file}");
        assert_eq!(env.certificate_chain.len(), 1, "{file}");
        assert_eq!(
            env.critical,
            vec!["io.cncf.notary.signingScheme".to_owned()],
            "{file}"
        );
        assert!(env.signing_time.is_some() && env.expiry.is_none(), "{file}");
        assert_eq!(env.signature.len(), 256, "{file}");
    }
    // The COSE vector's signing time is the tag 1 integer 1678769122; the JWS one is RFC 3339
    // with an offset, 2023-03-14T16:10:02+08:00.
    let cose = parse_envelope(MEDIA_TYPE_COSE, &vector("envelopes/cose_signature.sig")).unwrap();
    assert_eq!(cose.signing_time, Some(1_678_769_122));
    assert_eq!(cose.format, EnvelopeFormat::Cose);
    let jws = parse_envelope(MEDIA_TYPE_JWS, &vector("envelopes/jws_signature.sig")).unwrap();
    assert_eq!(jws.signing_time, Some(1_678_781_402));
    assert_eq!(jws.signing_agent.as_deref(), Some("Notation/1.0.0"));
}

#[test]
fn expiry_from_the_expired_signature_layout() {
    let blob = vector("oci-layout/e2e-expired-signature/blobs/sha256/b5f927564088f65dad86c81bcdd0b55415a8b4c9a0a5391107210e0cdb305cc7");
    let env = parse_envelope(MEDIA_TYPE_JWS, &blob).unwrap();
    // "io.cncf.notary.expiry":"2023-06-27T13:21:21+08:00"
    assert_eq!(env.expiry, Some(1_687_843_281));
    assert!(env.critical.contains(&"io.cncf.notary.expiry".to_owned()));
}

/// Rewrites the protected header of the JWS vector with `edit` (the signature no longer
/// matters here: these are structural refusals).
fn jws_with_protected(
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> Vec<u8> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut env: serde_json::Value =
        signet_proto::json::from_slice(&vector("envelopes/jws_signature.sig")).unwrap();
    let raw = URL_SAFE_NO_PAD
        .decode(env["protected"].as_str().unwrap())
        .unwrap();
    let mut protected: serde_json::Map<String, serde_json::Value> =
        signet_proto::json::from_slice(&raw).unwrap();
    edit(&mut protected);
    env["protected"] = URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&protected).unwrap())
        .into();
    serde_json::to_vec(&env).unwrap()
}

#[test]
fn structural_refusals_are_typed() {
    let e = parse_envelope(
        MEDIA_TYPE_JWS,
        &jws_with_protected(|p| {
            p.insert("alg".into(), "HS256".into());
        }),
    )
    .unwrap_err();
    assert!(
        matches!(e, EnvelopeError::UnsupportedAlgorithm { ref alg, .. } if alg == "HS256"),
        "{e}"
    );

    let e = parse_envelope(
        MEDIA_TYPE_JWS,
        &jws_with_protected(|p| {
            p.insert("cty".into(), "application/json".into());
        }),
    )
    .unwrap_err();
    assert!(matches!(e, EnvelopeError::ContentType { .. }), "{e}");

    let e = parse_envelope(
        MEDIA_TYPE_JWS,
        &jws_with_protected(|p| {
            p.remove("crit");
        }),
    )
    .unwrap_err();
    assert!(matches!(e, EnvelopeError::Critical { .. }), "{e}");

    let e = parse_envelope(
        MEDIA_TYPE_JWS,
        &jws_with_protected(|p| {
            p.insert(
                "io.cncf.notary.expiry".into(),
                "2099-01-01T00:00:00Z".into(),
            );
        }),
    )
    .unwrap_err();
    assert!(
        matches!(e, EnvelopeError::Critical { ref reason, .. } if reason.contains("expiry")),
        "{e}"
    );

    let e = parse_envelope(
        MEDIA_TYPE_JWS,
        &jws_with_protected(|p| {
            p.insert(
                "crit".into(),
                serde_json::json!(["io.cncf.notary.signingScheme", "io.example.absent"]),
            );
        }),
    )
    .unwrap_err();
    assert!(
        matches!(e, EnvelopeError::Critical { ref reason, .. } if reason.contains("io.example.absent")),
        "{e}"
    );

    let e = parse_envelope(
        MEDIA_TYPE_JWS,
        &jws_with_protected(|p| {
            p.insert(
                "io.cncf.notary.signingScheme".into(),
                "notary.default.x509".into(),
            );
        }),
    )
    .unwrap_err();
    assert!(matches!(e, EnvelopeError::SigningScheme { .. }), "{e}");

    let e = parse_envelope(
        MEDIA_TYPE_JWS,
        &jws_with_protected(|p| {
            p.remove("io.cncf.notary.signingTime");
        }),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            EnvelopeError::MissingHeader {
                name: "io.cncf.notary.signingTime",
                ..
            }
        ),
        "{e}"
    );

    let e = parse_envelope(
        MEDIA_TYPE_JWS,
        &jws_with_protected(|p| {
            p.insert("io.cncf.notary.signingTime".into(), "yesterday".into());
        }),
    )
    .unwrap_err();
    assert!(matches!(e, EnvelopeError::Time { .. }), "{e}");

    // A header given twice: the JSON is edited as text.
    let twice = {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let mut env: serde_json::Value =
            signet_proto::json::from_slice(&vector("envelopes/jws_signature.sig")).unwrap();
        let raw = URL_SAFE_NO_PAD
            .decode(env["protected"].as_str().unwrap())
            .unwrap();
        let text = String::from_utf8(raw)
            .unwrap()
            .replacen('{', r#"{"alg":"ES256","#, 1);
        env["protected"] = URL_SAFE_NO_PAD.encode(text).into();
        serde_json::to_vec(&env).unwrap()
    };
    let e = parse_envelope(MEDIA_TYPE_JWS, &twice).unwrap_err();
    assert!(
        matches!(e, EnvelopeError::Malformed { ref reason, .. } if reason.contains("twice")),
        "{e}"
    );

    // Extra top-level member, missing x5c, wrong media type, truncated COSE.
    let mut env: serde_json::Value =
        signet_proto::json::from_slice(&vector("envelopes/jws_signature.sig")).unwrap();
    env["signatures"] = serde_json::json!([]);
    assert!(matches!(
        parse_envelope(MEDIA_TYPE_JWS, &serde_json::to_vec(&env).unwrap()).unwrap_err(),
        EnvelopeError::Malformed { .. }
    ));
    let mut env: serde_json::Value =
        signet_proto::json::from_slice(&vector("envelopes/jws_signature.sig")).unwrap();
    env["header"].as_object_mut().unwrap().remove("x5c");
    assert!(matches!(
        parse_envelope(MEDIA_TYPE_JWS, &serde_json::to_vec(&env).unwrap()).unwrap_err(),
        EnvelopeError::NoCertificates { .. }
    ));
    assert!(matches!(
        parse_envelope("application/json", b"{}").unwrap_err(),
        EnvelopeError::UnsupportedMediaType { .. }
    ));
    let cose = vector("envelopes/cose_signature.sig");
    assert!(matches!(
        parse_envelope(MEDIA_TYPE_COSE, &cose[..cose.len() - 1]).unwrap_err(),
        EnvelopeError::Malformed {
            format: EnvelopeFormat::Cose,
            ..
        }
    ));
    let mut trailing = cose.clone();
    trailing.push(0);
    assert!(matches!(
        parse_envelope(MEDIA_TYPE_COSE, &trailing).unwrap_err(),
        EnvelopeError::Malformed { .. }
    ));
}

#[test]
fn trust_policy_rules() {
    use signet_proto::notary::policy::{
        Action, DistinguishedName, PolicyError, TrustPolicyDocument, TrustedIdentities,
    };
    let doc = |statement: &str| {
        TrustPolicyDocument::parse(
            format!(r#"{{"version":"1.0","trustPolicies":[{statement}]}}"#).as_bytes(),
        )
    };
    let ok = doc(r#"{"name":"a","registryScopes":["registry.example.com/team/app"],
        "signatureVerification":{"level":"permissive","override":{"revocation":"skip","authenticity":"log"}},
        "trustStores":["ca:acme","tsa:ts"],
        "trustedIdentities":["x509.subject: C=US, S=WA, O=Acme\\, Inc., CN=Builder"]}"#)
    .unwrap();
    let p = &ok.policies[0];
    assert_eq!(p.enforcement.revocation, Action::Skip);
    assert_eq!(p.enforcement.authenticity, Action::Log);
    assert_eq!(p.enforcement.expiry, Action::Log);
    let TrustedIdentities::Subjects(names) = &p.trusted_identities else {
        panic!("subjects")
    };
    assert_eq!(
        names[0].attributes,
        vec![
            ("C".to_owned(), "US".to_owned()),
            ("ST".to_owned(), "WA".to_owned()),
            ("O".to_owned(), "Acme, Inc.".to_owned()),
            ("CN".to_owned(), "Builder".to_owned()),
        ]
    );
    for (statement, needle) in [
        (
            r#"{"name":"a","registryScopes":["*"],"signatureVerification":{"level":"strict","override":{"expiry":"skip"}},"trustStores":["ca:x"],"trustedIdentities":["*"]}"#,
            "cannot be skipped",
        ),
        (
            r#"{"name":"a","registryScopes":["*"],"signatureVerification":{"level":"strict","override":{"integrity":"log"}},"trustStores":["ca:x"],"trustedIdentities":["*"]}"#,
            "integrity",
        ),
        (
            r#"{"name":"a","registryScopes":["*"],"signatureVerification":{"level":"skip"},"trustStores":["ca:x"],"trustedIdentities":["*"]}"#,
            "skip",
        ),
        (
            r#"{"name":"a","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:../x"],"trustedIdentities":["*"]}"#,
            "trust store name",
        ),
        (
            r#"{"name":"a","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["*","x509.subject: C=US, ST=WA, O=A"]}"#,
            "wildcard",
        ),
        (
            r#"{"name":"a","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["x509.subject: C=US, ST=WA, O=A","x509.subject: C=US, ST=WA, O=A, CN=B"]}"#,
            "overlapping",
        ),
        (
            r#"{"name":"a","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["x509.subject: C=US, O=A"]}"#,
            "ST",
        ),
        (
            r#"{"name":"a","registryScopes":["registry.example.com/app:v1"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["*"]}"#,
            "registry scope",
        ),
        (
            r#"{"name":"a","registryScopes":["*","registry.example.com/app"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["*"]}"#,
            "wildcard scope",
        ),
        (
            r#"{"name":"a","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["*"]},{"name":"a","registryScopes":["r.example/x"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["*"]}"#,
            "named",
        ),
        (
            r#"{"name":"a","registryScopes":["r.example/x"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["*"]},{"name":"b","registryScopes":["r.example/x"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["*"]}"#,
            "both statements",
        ),
        (
            r#"{"name":"a","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["*"],"extra":1}"#,
            "unknown field",
        ),
    ] {
        let e = doc(statement).unwrap_err();
        assert!(e.to_string().contains(needle), "{statement}: {e}");
        assert!(matches!(
            e,
            PolicyError::Invalid { .. } | PolicyError::Malformed { .. }
        ));
    }
    let dn = DistinguishedName::parse(r"C=US,ST=WA,O=\ spaced\ ,CN=a\\b").unwrap();
    assert_eq!(dn.attributes[2].1, " spaced ");
    assert_eq!(dn.attributes[3].1, r"a\b");
}
