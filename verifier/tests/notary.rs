//! Notary Project signatures published by notation and notation-go (testdata/notary) through
//! `verify_notary`, and tampered copies of them, each refused with a specific error; and ECDSA
//! signatures made here (the Notary Project publishes none).
#![allow(clippy::unwrap_used)]

// The envelope builders, shared with the cli tests.
#[path = "common/notary.rs"]
mod envelopes;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use envelopes::{ecdsa, edit_jws};
use signet_proto::notary::policy::{
    Level, TrustPolicy, TrustPolicyDocument, TrustStoreName, TrustStoreType,
};
use signet_proto::notary::{MEDIA_TYPE_COSE, MEDIA_TYPE_JWS};
use signet_verifier::notary::{NotaryError, Validation};
use signet_verifier::{verify_notary, NotaryTarget, NotaryTrustStore, UnixTime};

fn path(name: &str) -> String {
    format!("{}/../testdata/notary/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// DER certificates of a PEM or DER file.
fn certs(bytes: &[u8]) -> Vec<Vec<u8>> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return vec![bytes.to_vec()];
    };
    if !text.contains("-----BEGIN") {
        return vec![bytes.to_vec()];
    }
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("-----BEGIN") {
            cur = Some(String::new());
        } else if line.starts_with("-----END") {
            out.push(STANDARD.decode(cur.take().unwrap()).unwrap());
        } else if let Some(c) = cur.as_mut() {
            c.push_str(line.trim());
        }
    }
    out
}

fn store_name(kind: TrustStoreType, name: &str) -> TrustStoreName {
    TrustStoreName {
        kind,
        name: name.to_owned(),
    }
}

/// The vendored trust store: ca:e2e, ca:alpine, tsa:globalsign.
fn trust_store() -> NotaryTrustStore {
    let mut s = NotaryTrustStore::new();
    for (kind, name, file) in [
        (TrustStoreType::Ca, "e2e", "truststore/x509/ca/e2e/e2e.crt"),
        (
            TrustStoreType::Ca,
            "alpine",
            "truststore/x509/ca/alpine/TestTimestamp.crt",
        ),
        (
            TrustStoreType::Tsa,
            "globalsign",
            "truststore/x509/tsa/globalsign/globalsignRoot.cer",
        ),
    ] {
        for der in certs(&vector(file)) {
            s.add_certificate(store_name(kind, name), der).unwrap();
        }
    }
    s
}

fn policy(json: &str) -> TrustPolicy {
    let doc = TrustPolicyDocument::parse(json.as_bytes()).unwrap();
    doc.policies[0].clone()
}

fn simple_policy(level: &str, overrides: &str, stores: &str, identities: &str) -> TrustPolicy {
    policy(&format!(
        r#"{{"version":"1.0","trustPolicies":[{{"name":"t","registryScopes":["*"],
        "signatureVerification":{{"level":"{level}"{overrides}}},
        "trustStores":[{stores}],"trustedIdentities":[{identities}]}}]}}"#
    ))
}

/// 2026-12-01T00:00:00Z.
const NOW: i64 = 1_796_083_200;

const IMAGE: NotaryTarget<'static> = NotaryTarget {
    digest: "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
    media_type: "application/vnd.oci.image.manifest.v1+json",
    size: 517,
};
const TS_IMAGE: NotaryTarget<'static> = NotaryTarget {
    digest: "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda",
    media_type: "application/vnd.docker.distribution.manifest.v2+json",
    size: 528,
};
const ALPINE_IMAGE: NotaryTarget<'static> = NotaryTarget {
    digest: "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
    media_type: "application/vnd.oci.image.manifest.v1+json",
    size: 481,
};

const E2E_VALID: &str = "oci-layout/e2e-valid-signature/blobs/sha256/c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50";
const E2E_EXPIRED: &str = "oci-layout/e2e-expired-signature/blobs/sha256/b5f927564088f65dad86c81bcdd0b55415a8b4c9a0a5391107210e0cdb305cc7";
const E2E_EXPIRED_CERT: &str = "oci-layout/e2e-with-expired-cert/blobs/sha256/8513a5ba473f32b78a87518b732700632c05cde0d59d179275c5c5a8096beeed";
const E2E_TESTCERT11: &str = "oci-layout/e2e-valid-multiple-signatures/blobs/sha256/a54333638acfa773a6b25429ee409b558d39c6f3c45dd14f714d72452bc36481";

fn strict_e2e() -> TrustPolicy {
    policy(std::str::from_utf8(&vector("trustpolicy/trustpolicy.json")).unwrap())
}

fn at(t: i64) -> UnixTime {
    UnixTime::from_unix_seconds(t)
}

/// The leaf certificate an envelope carries (JWS).
fn jws_leaf(envelope: &[u8]) -> Vec<u8> {
    let v: serde_json::Value = signet_proto::json::from_slice(envelope).unwrap();
    STANDARD
        .decode(v["header"]["x5c"][0].as_str().unwrap())
        .unwrap()
}

#[test]
fn notation_e2e_signature_verifies_under_its_own_trust_policy() {
    let v = verify_notary(
        MEDIA_TYPE_JWS,
        &vector(E2E_VALID),
        &IMAGE,
        &strict_e2e(),
        &trust_store(),
        at(NOW),
    )
    .unwrap();
    assert_eq!(v.signer, "C=US, ST=WA, L=Seattle, O=Notary, CN=e2e");
    assert_eq!(v.trust_store, Some(store_name(TrustStoreType::Ca, "e2e")));
    assert_eq!(v.signing_time, Some(1_687_843_833)); // 2023-06-27T13:30:33+08:00
    assert_eq!(v.level, Level::Strict);
    assert!(v.logged.is_empty());
    // The manifest's thumbprint annotation names the same certificate.
    assert_eq!(
        v.thumbprints,
        vec!["e38aea13f2b051f7183cca64a51ee676f4d4456f41d9fecf15eb367efc7343b9"]
    );

    // Trusted identities: a matching subject passes, another is refused.
    let ok = simple_policy(
        "strict",
        "",
        r#""ca:e2e""#,
        r#""x509.subject: C=US, ST=WA, O=Notary, CN=e2e""#,
    );
    verify_notary(
        MEDIA_TYPE_JWS,
        &vector(E2E_VALID),
        &IMAGE,
        &ok,
        &trust_store(),
        at(NOW),
    )
    .unwrap();
    let other = simple_policy(
        "strict",
        "",
        r#""ca:e2e""#,
        r#""x509.subject: C=US, ST=WA, O=Notary, CN=someone-else""#,
    );
    let e = verify_notary(
        MEDIA_TYPE_JWS,
        &vector(E2E_VALID),
        &IMAGE,
        &other,
        &trust_store(),
        at(NOW),
    )
    .unwrap_err();
    assert!(matches!(e, NotaryError::Identity { .. }), "{e}");

    // A store that does not hold the signer.
    let wrong_store = simple_policy("strict", "", r#""ca:alpine""#, r#""*""#);
    let e = verify_notary(
        MEDIA_TYPE_JWS,
        &vector(E2E_VALID),
        &IMAGE,
        &wrong_store,
        &trust_store(),
        at(NOW),
    )
    .unwrap_err();
    assert!(matches!(e, NotaryError::Untrusted { .. }), "{e}");
    // Audit logs authenticity, enforces integrity.
    let audit = simple_policy("audit", "", r#""ca:alpine""#, r#""*""#);
    let v = verify_notary(
        MEDIA_TYPE_JWS,
        &vector(E2E_VALID),
        &IMAGE,
        &audit,
        &trust_store(),
        at(NOW),
    )
    .unwrap();
    assert_eq!(v.logged.len(), 1);
    assert_eq!(v.logged[0].validation, Validation::Authenticity);
    // Skip is the caller's decision, never a silent pass.
    let skip = policy(std::str::from_utf8(&vector("trustpolicy/skip_trustpolicy.json")).unwrap());
    let e = verify_notary(
        MEDIA_TYPE_JWS,
        &vector(E2E_VALID),
        &IMAGE,
        &skip,
        &trust_store(),
        at(NOW),
    )
    .unwrap_err();
    assert!(matches!(e, NotaryError::SkipLevel { .. }), "{e}");
}

#[test]
fn another_image_is_refused_by_digest_media_type_and_size() {
    let p = strict_e2e();
    let s = trust_store();
    let env = vector(E2E_VALID);
    for (target, field) in [
        (
            NotaryTarget {
                digest: TS_IMAGE.digest,
                ..IMAGE
            },
            "digest",
        ),
        (
            NotaryTarget {
                media_type: "application/vnd.oci.image.index.v1+json",
                ..IMAGE
            },
            "mediaType",
        ),
        (NotaryTarget { size: 518, ..IMAGE }, "size"),
    ] {
        let e = verify_notary(MEDIA_TYPE_JWS, &env, &target, &p, &s, at(NOW)).unwrap_err();
        assert!(
            matches!(e, NotaryError::TargetMismatch { field: f, .. } if f == field),
            "{e}"
        );
    }
}

#[test]
fn tampered_jws_copies_fail_with_specific_errors() {
    let p = strict_e2e();
    let s = trust_store();
    let env = vector(E2E_VALID);
    let verify =
        |bytes: &[u8]| verify_notary(MEDIA_TYPE_JWS, bytes, &IMAGE, &p, &s, at(NOW)).unwrap_err();

    // One bit of the signature.
    let bad_sig = edit_jws(&env, |v| {
        let mut sig = URL_SAFE_NO_PAD
            .decode(v["signature"].as_str().unwrap())
            .unwrap();
        sig[10] ^= 1;
        v["signature"] = URL_SAFE_NO_PAD.encode(sig).into();
    });
    assert!(matches!(verify(&bad_sig), NotaryError::BadSignature { .. }));

    // The payload re-pointed at the size the verifier expects... of another artifact: the
    // signature no longer covers it.
    let other_payload = edit_jws(&env, |v| {
        let p = URL_SAFE_NO_PAD
            .decode(v["payload"].as_str().unwrap())
            .unwrap();
        let p = String::from_utf8(p).unwrap().replace("517", "518");
        v["payload"] = URL_SAFE_NO_PAD.encode(p).into();
    });
    let e = verify(&other_payload);
    assert!(matches!(e, NotaryError::BadSignature { .. }), "{e}");

    // A signed header changed (the signing time moved).
    let moved = edit_jws(&env, |v| {
        let h = URL_SAFE_NO_PAD
            .decode(v["protected"].as_str().unwrap())
            .unwrap();
        let h = String::from_utf8(h)
            .unwrap()
            .replace("13:30:33", "13:30:34");
        v["protected"] = URL_SAFE_NO_PAD.encode(h).into();
    });
    assert!(matches!(verify(&moved), NotaryError::BadSignature { .. }));

    // alg downgraded in the header: the key selects PS256, so ES256 is refused before any
    // signature check (and the header no longer verifies either).
    let es = edit_jws(&env, |v| {
        let h = URL_SAFE_NO_PAD
            .decode(v["protected"].as_str().unwrap())
            .unwrap();
        let h = String::from_utf8(h).unwrap().replace("PS256", "ES256");
        v["protected"] = URL_SAFE_NO_PAD.encode(h).into();
    });
    assert!(matches!(verify(&es), NotaryError::AlgorithmMismatch { .. }));

    // The signing certificate swapped for another trusted one: its key did not sign.
    let alpine =
        STANDARD.encode(certs(&vector("truststore/x509/ca/alpine/TestTimestamp.crt")).remove(0));
    let swapped = edit_jws(&env, |v| v["header"]["x5c"] = serde_json::json!([alpine]));
    let p2 = simple_policy("strict", "", r#""ca:alpine""#, r#""*""#);
    let e = verify_notary(MEDIA_TYPE_JWS, &swapped, &IMAGE, &p2, &s, at(NOW)).unwrap_err();
    assert!(matches!(e, NotaryError::BadSignature { .. }), "{e}");

    // The layer of e2e-invalid-signature is not an envelope at all.
    let not_env = vector("oci-layout/e2e-invalid-signature/blobs/sha256/9a8decdf3775708f4eed16859f19561d730cad40b1af0dcfc37ac1e5f879a934");
    assert!(matches!(verify(&not_env), NotaryError::Envelope(_)));
}

#[test]
fn expiry_is_enforced_by_strict_and_logged_by_permissive() {
    let env = vector(E2E_EXPIRED);
    let e = verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &strict_e2e(),
        &trust_store(),
        at(NOW),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            NotaryError::Expired {
                expiry: 1_687_843_281,
                ..
            }
        ),
        "{e}"
    );
    // Before the expiry it verifies.
    verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &strict_e2e(),
        &trust_store(),
        at(1_687_843_280),
    )
    .unwrap();
    let permissive =
        policy(std::str::from_utf8(&vector("trustpolicy/permissive_trustpolicy.json")).unwrap());
    let v = verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &permissive,
        &trust_store(),
        at(NOW),
    )
    .unwrap();
    assert_eq!(v.logged.len(), 1);
    assert_eq!(v.logged[0].validation, Validation::Expiry);
    // override_strict: strict with expiry: log.
    let custom = simple_policy(
        "strict",
        r#","override":{"expiry":"log"}"#,
        r#""ca:e2e""#,
        r#""*""#,
    );
    let v = verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &custom,
        &trust_store(),
        at(NOW),
    )
    .unwrap();
    assert_eq!(v.logged[0].validation, Validation::Expiry);
}

#[test]
fn expired_certificate_without_timestamp_fails_authentic_timestamp() {
    let env = vector(E2E_EXPIRED_CERT);
    let mut s = trust_store();
    s.add_certificate(store_name(TrustStoreType::Ca, "widgits"), jws_leaf(&env))
        .unwrap();
    let p = simple_policy("strict", "", r#""ca:widgits""#, r#""*""#);
    let e = verify_notary(MEDIA_TYPE_JWS, &env, &IMAGE, &p, &s, at(NOW)).unwrap_err();
    assert!(
        matches!(
            e,
            NotaryError::NotValidAt {
                what: "the verification time",
                not_after: 1_687_846_200,
                ..
            }
        ),
        "{e}"
    );
    // Within the certificate's day it verifies.
    verify_notary(MEDIA_TYPE_JWS, &env, &IMAGE, &p, &s, at(1_687_846_000)).unwrap();
    // Permissive logs it.
    let p = simple_policy("permissive", "", r#""ca:widgits""#, r#""*""#);
    let v = verify_notary(MEDIA_TYPE_JWS, &env, &IMAGE, &p, &s, at(NOW)).unwrap();
    assert_eq!(v.logged[0].validation, Validation::AuthenticTimestamp);

    // The second signature of e2e-valid-multiple-signatures: its signer is in no store.
    let e = verify_notary(
        MEDIA_TYPE_JWS,
        &vector(E2E_TESTCERT11),
        &IMAGE,
        &strict_e2e(),
        &trust_store(),
        at(NOW),
    )
    .unwrap_err();
    assert!(matches!(e, NotaryError::Untrusted { .. }), "{e}");
}

#[test]
fn cose_signature_verifies_and_tampered_cose_fails() {
    let env = vector("envelopes/cose_signature.sig");
    let mut s = trust_store();
    // The alpine certificate of this vector is the one in its x5chain (a chain of one).
    let jws = vector("envelopes/jws_signature.sig");
    s.add_certificate(store_name(TrustStoreType::Ca, "alpine2000"), jws_leaf(&jws))
        .unwrap();
    let p = simple_policy(
        "strict",
        "",
        r#""ca:alpine2000""#,
        r#""x509.subject: C=US, ST=WA, O=Notary""#,
    );
    let v = verify_notary(MEDIA_TYPE_COSE, &env, &ALPINE_IMAGE, &p, &s, at(NOW)).unwrap();
    assert_eq!(v.signer, "C=US, ST=WA, L=Seattle, O=Notary, CN=alpine");
    assert_eq!(v.signing_time, Some(1_678_769_122));
    // The JWS signature of the same artifact by the same key.
    verify_notary(MEDIA_TYPE_JWS, &jws, &ALPINE_IMAGE, &p, &s, at(NOW)).unwrap();

    // Last byte: inside the signature.
    let mut bad = env.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    let e = verify_notary(MEDIA_TYPE_COSE, &bad, &ALPINE_IMAGE, &p, &s, at(NOW)).unwrap_err();
    assert!(matches!(e, NotaryError::BadSignature { .. }), "{e}");
    // A digit of the payload's digest.
    let pos = env.windows(10).position(|w| w == b"19dbd2e48e").unwrap();
    let mut bad = env.clone();
    bad[pos] = b'2';
    let e = verify_notary(
        MEDIA_TYPE_COSE,
        &bad,
        &NotaryTarget {
            digest: "sha256:29dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
            ..ALPINE_IMAGE
        },
        &p,
        &s,
        at(NOW),
    )
    .unwrap_err();
    assert!(matches!(e, NotaryError::BadSignature { .. }), "{e}");
    // The COSE envelope given as JWS: a typed envelope error.
    let e = verify_notary(MEDIA_TYPE_JWS, &env, &ALPINE_IMAGE, &p, &s, at(NOW)).unwrap_err();
    assert!(matches!(e, NotaryError::Envelope(_)), "{e}");
}

fn ts_policy(level: &str, verify_timestamp: &str, stores: &str) -> TrustPolicy {
    // GlobalSign's TSA certificates name CRL distribution points: offline, without their
    // CRLs, revocation is unavailable, so these policies skip it (as a user would).
    simple_policy(
        level,
        &format!(r#","verifyTimestamp":"{verify_timestamp}","override":{{"revocation":"skip"}}"#),
        stores,
        r#""*""#,
    )
}

#[test]
fn rfc3161_countersignatures_verify_and_extend_an_expired_certificate() {
    let s = {
        let mut s = trust_store();
        s.add_certificate(
            store_name(TrustStoreType::Ca, "testtsa"),
            jws_leaf(&vector("envelopes/jwsExpiredWithTimestamp.sig")),
        )
        .unwrap();
        s
    };
    let p = ts_policy("strict", "always", r#""ca:alpine", "tsa:globalsign""#);
    let v = verify_notary(
        MEDIA_TYPE_JWS,
        &vector("envelopes/jwsWithTimestamp.sig"),
        &TS_IMAGE,
        &p,
        &s,
        at(NOW),
    )
    .unwrap();
    assert_eq!(v.timestamp, Some(1_718_692_177)); // 2024-06-18T06:29:37Z
    let v = verify_notary(
        MEDIA_TYPE_COSE,
        &vector("envelopes/coseWithTimestamp.sig"),
        &TS_IMAGE,
        &p,
        &s,
        at(NOW),
    )
    .unwrap();
    assert_eq!(v.timestamp, Some(1_718_692_036)); // 2024-06-18T06:27:16Z

    // A certificate valid for ten minutes in 2024: valid now only through the timestamp.
    let p = ts_policy("strict", "always", r#""ca:testtsa", "tsa:globalsign""#);
    let env = vector("envelopes/jwsExpiredWithTimestamp.sig");
    let v = verify_notary(MEDIA_TYPE_JWS, &env, &TS_IMAGE, &p, &s, at(NOW)).unwrap();
    assert!(v.timestamp.is_some());
    let p_after = ts_policy(
        "strict",
        "afterCertExpiry",
        r#""ca:testtsa", "tsa:globalsign""#,
    );
    verify_notary(MEDIA_TYPE_JWS, &env, &TS_IMAGE, &p_after, &s, at(NOW)).unwrap();
    // Without a tsa store the timestamp is not used: the certificate has expired.
    let p_no_tsa = ts_policy("strict", "always", r#""ca:testtsa""#);
    let e = verify_notary(MEDIA_TYPE_JWS, &env, &TS_IMAGE, &p_no_tsa, &s, at(NOW)).unwrap_err();
    assert!(
        matches!(
            e,
            NotaryError::NotValidAt {
                what: "the verification time",
                ..
            }
        ),
        "{e}"
    );

    // Without the countersignature, a policy trusting a TSA fails.
    let p = ts_policy("strict", "always", r#""ca:alpine", "tsa:globalsign""#);
    let e = verify_notary(
        MEDIA_TYPE_JWS,
        &vector("envelopes/withoutTimestamp.sig"),
        &TS_IMAGE,
        &p,
        &s,
        at(NOW),
    )
    .unwrap_err();
    assert!(matches!(e, NotaryError::Timestamp { .. }), "{e}");
    // afterCertExpiry with an unexpired certificate does not need it.
    let p = ts_policy(
        "strict",
        "afterCertExpiry",
        r#""ca:alpine", "tsa:globalsign""#,
    );
    verify_notary(
        MEDIA_TYPE_JWS,
        &vector("envelopes/withoutTimestamp.sig"),
        &TS_IMAGE,
        &p,
        &s,
        at(NOW),
    )
    .unwrap();
}

#[test]
fn timestamps_outside_the_certificate_and_tampered_tokens_fail() {
    let mut s = trust_store();
    let after = vector("envelopes/timestampAfterNotAfter.sig");
    let before = vector("envelopes/timestampBeforeNotBefore.sig");
    s.add_certificate(store_name(TrustStoreType::Ca, "before"), jws_leaf(&before))
        .unwrap();
    // The COSE vector's certificate: from its parsed chain.
    let cose = signet_proto::notary::parse_envelope(MEDIA_TYPE_COSE, &after).unwrap();
    s.add_certificate(
        store_name(TrustStoreType::Ca, "after"),
        cose.certificate_chain[0].clone(),
    )
    .unwrap();
    let p = ts_policy("strict", "always", r#""ca:after", "tsa:globalsign""#);
    let e = verify_notary(MEDIA_TYPE_COSE, &after, &TS_IMAGE, &p, &s, at(NOW)).unwrap_err();
    assert!(
        matches!(e, NotaryError::NotValidAt { what, .. } if what.starts_with("the timestamp")),
        "{e}"
    );
    let p = ts_policy("strict", "always", r#""ca:before", "tsa:globalsign""#);
    let e = verify_notary(MEDIA_TYPE_JWS, &before, &TS_IMAGE, &p, &s, at(NOW)).unwrap_err();
    assert!(
        matches!(e, NotaryError::NotValidAt { what, .. } if what.starts_with("the timestamp")),
        "{e}"
    );

    let p = ts_policy("strict", "always", r#""ca:alpine", "tsa:globalsign""#);
    let env = vector("envelopes/jwsWithTimestamp.sig");
    let token = |v: &serde_json::Value| {
        STANDARD
            .decode(
                v["header"]["io.cncf.notary.timestampSignature"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap()
    };
    // The countersignature of another signature (the unprotected header is not signed, so
    // only the imprint catches this).
    let other: serde_json::Value =
        signet_proto::json::from_slice(&vector("envelopes/jwsExpiredWithTimestamp.sig")).unwrap();
    let swapped = edit_jws(&env, |v| {
        v["header"]["io.cncf.notary.timestampSignature"] = STANDARD.encode(token(&other)).into()
    });
    let e = verify_notary(MEDIA_TYPE_JWS, &swapped, &TS_IMAGE, &p, &s, at(NOW)).unwrap_err();
    assert!(
        matches!(e, NotaryError::Timestamp { ref reason } if reason.contains("imprint")),
        "{e}"
    );
    // genTime edited inside TSTInfo ("20240618062937" → "20240618062938").
    let mine: serde_json::Value = signet_proto::json::from_slice(&env).unwrap();
    let mut t = token(&mine);
    let pos = t.windows(14).position(|w| w == b"20240618062937").unwrap();
    t[pos + 13] = b'8';
    let edited = edit_jws(&env, |v| {
        v["header"]["io.cncf.notary.timestampSignature"] = STANDARD.encode(&t).into()
    });
    let e = verify_notary(MEDIA_TYPE_JWS, &edited, &TS_IMAGE, &p, &s, at(NOW)).unwrap_err();
    assert!(
        matches!(e, NotaryError::Timestamp { ref reason } if reason.contains("messageDigest")),
        "{e}"
    );
    // The TSA's signature itself (last byte of the token's SignerInfo signature).
    let mut t = token(&mine);
    let n = t.len();
    t[n - 1] ^= 1;
    let edited = edit_jws(&env, |v| {
        v["header"]["io.cncf.notary.timestampSignature"] = STANDARD.encode(&t).into()
    });
    let e = verify_notary(MEDIA_TYPE_JWS, &edited, &TS_IMAGE, &p, &s, at(NOW)).unwrap_err();
    assert!(
        matches!(e, NotaryError::Timestamp { ref reason } if reason.contains("TSA signature")),
        "{e}"
    );
    // A TSA store that does not hold GlobalSign's root.
    let mut s2 = trust_store();
    s2.add_certificate(
        store_name(TrustStoreType::Tsa, "other"),
        certs(&vector("truststore/x509/ca/e2e/e2e.crt")).remove(0),
    )
    .unwrap();
    let p = ts_policy("strict", "always", r#""ca:alpine", "tsa:other""#);
    let e = verify_notary(MEDIA_TYPE_JWS, &env, &TS_IMAGE, &p, &s2, at(NOW)).unwrap_err();
    assert!(
        matches!(e, NotaryError::Timestamp { ref reason } if reason.contains("leads to no certificate")),
        "{e}"
    );
}

/// A JWS envelope signed with notation's CRL test chain (crl/leaf.key): no published
/// envelope uses that chain, so the test signs one (RSASSA-PSS SHA-256, as notation does).
fn crl_chain_envelope() -> Vec<u8> {
    envelopes::jws_ps256(
        &certs(&vector("crl/leaf.key")).remove(0),
        &certs(&vector("crl/certchain_with_crl.pem")),
        &IMAGE,
    )
}

#[test]
fn crl_revocation_offline() {
    let env = crl_chain_envelope();
    let root = certs(&vector("crl/root.crt")).remove(0);
    let store_with = |crls: &[&str]| {
        let mut s = NotaryTrustStore::new();
        s.add_certificate(store_name(TrustStoreType::Ca, "crl"), root.clone())
            .unwrap();
        for c in crls {
            let bytes = vector(&format!("crl/{c}"));
            for der in certs(&bytes) {
                s.add_crl(der).unwrap();
            }
        }
        s
    };
    let p = simple_policy(
        "strict",
        "",
        r#""ca:crl""#,
        r#""x509.subject: C=US, ST=State, O=Organization, CN=LeafCert""#,
    );
    let v = verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &p,
        &store_with(&["leaf.crl", "intermediate.crl"]),
        at(NOW),
    )
    .unwrap();
    assert_eq!(
        v.signer,
        "C=US, ST=State, L=City, O=Organization, OU=OrgUnit, CN=LeafCert"
    );

    let e = verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &p,
        &store_with(&["leaf_revoked.crl", "intermediate.crl"]),
        at(NOW),
    )
    .unwrap_err();
    assert!(
        matches!(e, NotaryError::Revoked { ref subject, ref serial } if subject.contains("LeafCert") && serial == "1000"),
        "{e}"
    );
    let e = verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &p,
        &store_with(&["leaf.crl", "intermediate_revoked.crl"]),
        at(NOW),
    )
    .unwrap_err();
    assert!(
        matches!(e, NotaryError::Revoked { ref subject, .. } if subject.contains("IntermediateCA")),
        "{e}"
    );
    // No CRL for the leaf: unavailable, as notation when the CRL cannot be fetched.
    let e = verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &p,
        &store_with(&["intermediate.crl"]),
        at(NOW),
    )
    .unwrap_err();
    assert!(
        matches!(e, NotaryError::RevocationUnavailable { ref subject, .. } if subject.contains("LeafCert")),
        "{e}"
    );
    // leaf_expired.crl names the same issuer but was signed by an earlier key of it (openssl
    // crl -CAfile also says "verify failure"): it is not used.
    let e = verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &p,
        &store_with(&["leaf_expired.crl", "intermediate.crl"]),
        at(NOW),
    )
    .unwrap_err();
    assert!(
        matches!(e, NotaryError::RevocationUnavailable { ref reason, .. } if reason.contains("does not verify")),
        "{e}"
    );
    // A CRL not yet issued at the verification time (thisUpdate 2024-11-11T05:30:52Z, one
    // second after the leaf's notBefore) is not current.
    let e = verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &p,
        &store_with(&["leaf.crl", "intermediate.crl"]),
        at(1_731_303_051),
    )
    .unwrap_err();
    assert!(
        matches!(e, NotaryError::RevocationUnavailable { ref reason, .. } if reason.contains("not current")),
        "{e}"
    );
    // A CRL signed by someone else (the intermediate's CRL is the root's, not the leaf
    // issuer's) is not used for the leaf: a forged "leaf.crl" made from another CRL's bytes
    // with one signature byte flipped is refused.
    let mut forged = vector("crl/leaf.crl");
    let n = forged.len();
    forged[n - 1] ^= 1;
    let mut s = store_with(&["intermediate.crl"]);
    s.add_crl(forged).unwrap();
    let e = verify_notary(MEDIA_TYPE_JWS, &env, &IMAGE, &p, &s, at(NOW)).unwrap_err();
    assert!(
        matches!(e, NotaryError::RevocationUnavailable { ref reason, .. } if reason.contains("does not verify")),
        "{e}"
    );

    // Permissive logs revocation; override revocation: skip does not check.
    let permissive = simple_policy("permissive", "", r#""ca:crl""#, r#""*""#);
    let v = verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &permissive,
        &store_with(&["leaf_revoked.crl", "intermediate.crl"]),
        at(NOW),
    )
    .unwrap();
    assert_eq!(v.logged[0].validation, Validation::Revocation);
    let skip = simple_policy(
        "strict",
        r#","override":{"revocation":"skip"}"#,
        r#""ca:crl""#,
        r#""*""#,
    );
    let v = verify_notary(
        MEDIA_TYPE_JWS,
        &env,
        &IMAGE,
        &skip,
        &store_with(&[]),
        at(NOW),
    )
    .unwrap();
    assert!(v.logged.is_empty());
}

#[test]
fn notation_trust_policies_parse_and_select() {
    for f in [
        "trustpolicy.json",
        "permissive_trustpolicy.json",
        "audit_trustpolicy.json",
        "skip_trustpolicy.json",
        "override_strict_trustpolicy.json",
        "override_permissive_trustpolicy.json",
        "registry_scope_trustpolicy.json",
        "multiple_registry_scope_trustpolicy.json",
        "timestamp_trustpolicy.json",
        "any_registry_scope_trust_policy.json",
    ] {
        TrustPolicyDocument::parse(&vector(&format!("trustpolicy/{f}")))
            .unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    // Valid, but covers only localhost:5000/invalid-test-repo.
    let doc = TrustPolicyDocument::parse(&vector(
        "trustpolicy/invalid_registry_scope_trustpolicy.json",
    ))
    .unwrap();
    assert!(doc.applicable("localhost:5000/e2e").is_err());
    assert!(doc.applicable("localhost:5000/invalid-test-repo").is_ok());
    let e = TrustPolicyDocument::parse(&vector(
        "trustpolicy/malformed_trust_store_trustpolicy.json",
    ))
    .unwrap_err();
    assert!(e.to_string().contains("trust store"), "{e}");
    let doc = TrustPolicyDocument::parse(
        br#"{"version":"1.0","trustPolicies":[
        {"name":"one","registryScopes":["localhost:5000/app"],"signatureVerification":{"level":"strict"},"trustStores":["ca:e2e"],"trustedIdentities":["*"]},
        {"name":"all","registryScopes":["*"],"signatureVerification":{"level":"audit"},"trustStores":["ca:e2e"],"trustedIdentities":["*"]}]}"#,
    )
    .unwrap();
    assert_eq!(doc.applicable("localhost:5000/app").unwrap().name, "one");
    assert_eq!(doc.applicable("localhost:5000/other").unwrap().name, "all");
    let only = TrustPolicyDocument::parse(
        br#"{"version":"1.0","trustPolicies":[{"name":"one","registryScopes":["localhost:5000/app"],"signatureVerification":{"level":"strict"},"trustStores":["ca:e2e"],"trustedIdentities":["*"]}]}"#,
    )
    .unwrap();
    assert!(only.applicable("localhost:5000/other").is_err());
}

#[test]
fn ecdsa_p256_and_p384_signatures_verify_and_tampered_copies_fail() {
    for curve in [256u16, 384] {
        let s = ecdsa::signer(curve, 2025, 2035);
        let mut store = NotaryTrustStore::new();
        store
            .add_certificate(store_name(TrustStoreType::Ca, "ec"), s.cert.clone())
            .unwrap();
        let p = simple_policy("strict", "", r#""ca:ec""#, r#""*""#);
        let now = at(NOW);
        for (media_type, env) in [
            (MEDIA_TYPE_JWS, ecdsa::jws(&s, &IMAGE, None)),
            (MEDIA_TYPE_COSE, ecdsa::cose(&s, &IMAGE)),
        ] {
            let v = verify_notary(media_type, &env, &IMAGE, &p, &store, now)
                .unwrap_or_else(|e| panic!("P-{curve} {media_type}: {e}"));
            assert_eq!(v.algorithm.to_string(), s.alg, "P-{curve} {media_type}");
            assert_eq!(v.signer, format!("CN=ecdsa-p{curve}"));
            assert!(v.logged.is_empty());

            // One byte of the payload (the envelope's last byte of payload text for JWS; a
            // payload byte inside the COSE structure).
            let tampered_payload = if media_type == MEDIA_TYPE_JWS {
                edit_jws(&env, |v| {
                    let p = URL_SAFE_NO_PAD
                        .decode(v["payload"].as_str().unwrap())
                        .unwrap();
                    let p = String::from_utf8(p).unwrap().replace("517", "518");
                    v["payload"] = URL_SAFE_NO_PAD.encode(p).into();
                })
            } else {
                let mut e = env.clone();
                let at = e.windows(3).position(|w| w == b"517").unwrap();
                e[at + 2] = b'8';
                e
            };
            let e =
                verify_notary(media_type, &tampered_payload, &IMAGE, &p, &store, now).unwrap_err();
            assert!(
                matches!(e, NotaryError::BadSignature { .. }),
                "P-{curve} {media_type}: {e}"
            );

            // One byte of the signature (its last byte, in both formats).
            let tampered_sig = if media_type == MEDIA_TYPE_JWS {
                edit_jws(&env, |v| {
                    let mut sig = URL_SAFE_NO_PAD
                        .decode(v["signature"].as_str().unwrap())
                        .unwrap();
                    *sig.last_mut().unwrap() ^= 1;
                    v["signature"] = URL_SAFE_NO_PAD.encode(sig).into();
                })
            } else {
                let mut e = env.clone();
                *e.last_mut().unwrap() ^= 1;
                e
            };
            let e = verify_notary(media_type, &tampered_sig, &IMAGE, &p, &store, now).unwrap_err();
            assert!(
                matches!(e, NotaryError::BadSignature { .. }),
                "P-{curve} {media_type}: {e}"
            );

            // A trust store without the signer.
            let wrong = trust_store();
            let p_e2e = simple_policy("strict", "", r#""ca:e2e""#, r#""*""#);
            let e = verify_notary(media_type, &env, &IMAGE, &p_e2e, &wrong, now).unwrap_err();
            assert!(
                matches!(e, NotaryError::Untrusted { .. }),
                "P-{curve} {media_type}: {e}"
            );

            // After the certificate's notAfter (no timestamp): authentic timestamp fails.
            let e =
                verify_notary(media_type, &env, &IMAGE, &p, &store, at(2_100_000_000)).unwrap_err();
            assert!(
                matches!(e, NotaryError::NotValidAt { .. }),
                "P-{curve} {media_type}: {e}"
            );
        }

        // The signer's expiry passed: refused by strict.
        let env = ecdsa::jws(&s, &IMAGE, Some("2026-06-01T00:00:00Z"));
        verify_notary(MEDIA_TYPE_JWS, &env, &IMAGE, &p, &store, at(1_767_225_600)).unwrap();
        let e = verify_notary(MEDIA_TYPE_JWS, &env, &IMAGE, &p, &store, at(NOW)).unwrap_err();
        assert!(matches!(e, NotaryError::Expired { .. }), "P-{curve}: {e}");

        // An expired certificate.
        let old = ecdsa::signer(curve, 2020, 2021);
        let mut old_store = NotaryTrustStore::new();
        old_store
            .add_certificate(store_name(TrustStoreType::Ca, "ec"), old.cert.clone())
            .unwrap();
        let e = verify_notary(
            MEDIA_TYPE_JWS,
            &ecdsa::jws(&old, &IMAGE, None),
            &IMAGE,
            &p,
            &old_store,
            at(NOW),
        )
        .unwrap_err();
        assert!(
            matches!(e, NotaryError::NotValidAt { .. }),
            "P-{curve}: {e}"
        );
    }

    // A P-256 key's header claiming ES384 is an algorithm substitution; a DER-encoded ECDSA
    // signature is not the r‖s JWS requires.
    let s = ecdsa::signer(256, 2025, 2035);
    let mut store = NotaryTrustStore::new();
    store
        .add_certificate(store_name(TrustStoreType::Ca, "ec"), s.cert.clone())
        .unwrap();
    let p = simple_policy("strict", "", r#""ca:ec""#, r#""*""#);
    let env = ecdsa::jws(&s, &IMAGE, None);
    let es384 = edit_jws(&env, |v| {
        let h = URL_SAFE_NO_PAD
            .decode(v["protected"].as_str().unwrap())
            .unwrap();
        let h = String::from_utf8(h).unwrap().replace("ES256", "ES384");
        v["protected"] = URL_SAFE_NO_PAD.encode(h).into();
    });
    let e = verify_notary(MEDIA_TYPE_JWS, &es384, &IMAGE, &p, &store, at(NOW)).unwrap_err();
    assert!(matches!(e, NotaryError::AlgorithmMismatch { .. }), "{e}");
    let der = ecdsa::jws_with_der_signature(&env);
    let e = verify_notary(MEDIA_TYPE_JWS, &der, &IMAGE, &p, &store, at(NOW)).unwrap_err();
    assert!(matches!(e, NotaryError::BadSignature { .. }), "{e}");
}
