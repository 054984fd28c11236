//! Trusted root, signing config and client trust config.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use signet_proto::bundle::{PublicKeyDetails, TimeRange, Timestamp};
use signet_proto::trust::{
    ClientTrustConfig, ServiceSelector, SigningConfig, TrustedRoot, SIGNING_CONFIG_MEDIA_TYPE,
};
use std::path::PathBuf;

fn testdata(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/sigstore")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn root_value() -> Value {
    signet_proto::json::from_slice(&testdata("fake-hashedrekord/trusted_root.json")).unwrap()
}

fn root_err(v: &Value) -> String {
    TrustedRoot::from_json(&serde_json::to_vec(v).unwrap())
        .unwrap_err()
        .to_string()
}

#[test]
fn trusted_root_fields() {
    let root = TrustedRoot::from_json(&testdata("fake-hashedrekord/trusted_root.json")).unwrap();
    assert_eq!(root.tlogs.len(), 1);
    assert_eq!(root.tlogs[0].base_url, "http://127.0.0.1:3000");
    assert_eq!(
        root.tlogs[0].public_key.key_details,
        PublicKeyDetails::PkixEcdsaP256Sha256
    );
    assert_eq!(root.ctlogs.len(), 1);
    assert_eq!(
        root.certificate_authorities[0]
            .cert_chain
            .certificates
            .len(),
        2
    );
    assert!(root.timestamp_authorities.is_empty());
    let start = root.tlogs[0]
        .public_key
        .valid_for
        .as_ref()
        .unwrap()
        .start
        .as_ref()
        .unwrap();
    assert_eq!(start.as_str(), "2020-01-01T00:00:00Z");
    assert_eq!(start.unix_seconds(), 1_577_836_800);
    // The empty `timestampAuthorities: []` is omitted on output (proto3 default).
    let out: Value = serde_json::to_value(&root).unwrap();
    assert!(out.get("timestampAuthorities").is_none());
    let ed = TrustedRoot::from_json(&testdata("fake-dsse/trusted_root.json")).unwrap();
    assert_eq!(
        ed.tlogs[0].public_key.key_details,
        PublicKeyDetails::PkixEd25519
    );
}

#[test]
fn trusted_root_rejections() {
    let mut v = root_value();
    v["mediaType"] = json!("application/vnd.dev.sigstore.trustedroot.v0.2+json");
    assert!(root_err(&v).contains("unsupported media type"));
    let mut v = root_value();
    v["tlogs"][0]["publicKey"]["extra"] = json!(true);
    assert!(root_err(&v).contains("unknown field `extra`"));
    let mut v = root_value();
    v["tlogs"][0]["publicKey"]["rawBytes"] = json!("@@@");
    assert!(root_err(&v).contains("invalid base64"));
    let mut v = root_value();
    v["tlogs"][0]["publicKey"]["validFor"]["start"] = json!("2020-13-01T00:00:00Z");
    assert!(root_err(&v).contains("invalid RFC 3339 timestamp"));
    let mut v = root_value();
    v["tlogs"][0]["publicKey"]["keyDetails"] = json!("PKIX_ECDSA_P999");
    assert!(root_err(&v).contains("unknown PublicKeyDetails"));
}

#[test]
fn timestamps_keep_their_text() {
    let mut v = root_value();
    v["certificateAuthorities"][0]["validFor"] =
        json!({"start": "2021-03-07T03:20:29.000Z", "end": "2022-12-31T23:59:59.999+01:00"});
    let root = TrustedRoot::from_json(&serde_json::to_vec(&v).unwrap()).unwrap();
    let out = serde_json::to_value(&root).unwrap();
    assert_eq!(
        out["certificateAuthorities"][0]["validFor"],
        v["certificateAuthorities"][0]["validFor"]
    );
    let range = &root.certificate_authorities[0].valid_for;
    let end = range.end.as_ref().unwrap();
    assert_eq!(
        (end.unix_seconds(), end.nanos()),
        (1_672_527_599, 999_000_000)
    );
    assert!(range.contains(1_615_087_229));
    assert!(!range.contains(1_615_087_228));
    assert!(range.contains(1_672_527_599));
    assert!(!range.contains(1_672_527_600));
    assert!(TimeRange::default().contains(i64::MIN));
    // Closed and exact to the fraction: a start of `.5` excludes its whole second, an end
    // equal to the time includes it.
    let half: TimeRange = serde_json::from_value(
        json!({"start": "2023-07-12T15:56:35.5Z", "end": "2023-07-12T15:56:36Z"}),
    )
    .unwrap();
    assert!(!half.contains(1_689_177_395));
    assert!(half.contains(1_689_177_396));
    assert!(!half.contains(1_689_177_397));
    assert_eq!(
        Timestamp::from_unix(1_672_527_599).unwrap(),
        Timestamp::parse("2022-12-31T22:59:59Z").unwrap()
    );
}

#[test]
fn signing_config_fixture() {
    let bytes = testdata("signet_signing_config.json");
    let cfg = SigningConfig::from_json(&bytes).unwrap();
    assert_eq!(cfg.ca_urls[0].url, "http://127.0.0.1:5555");
    assert_eq!(
        cfg.rekor_tlog_config.as_ref().unwrap().selector,
        ServiceSelector::Exact
    );
    assert_eq!(cfg.rekor_tlog_config.as_ref().unwrap().count, 1);
    assert_eq!(
        cfg.tsa_config.as_ref().unwrap().selector,
        ServiceSelector::Any
    );
    assert!(cfg.tsa_urls.is_empty());
    let start = cfg.rekor_tlog_urls[0].valid_for.start.as_ref().unwrap();
    assert_eq!(start.unix_seconds(), 1_767_222_000); // 2026-01-01T00:00:00+01:00
                                                     // Round trip: identical JSON value (the fixture has no proto3 defaults to drop).
    let original: Value = signet_proto::json::from_slice(&bytes).unwrap();
    assert_eq!(serde_json::to_value(&cfg).unwrap(), original);
}

#[test]
fn signing_config_rejections() {
    let err = SigningConfig::from_json(
        br#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.1+json","caUrl":"x"}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("unsupported media type"), "{err}");
    let err = SigningConfig::from_json(
        format!(r#"{{"mediaType":"{SIGNING_CONFIG_MEDIA_TYPE}","tlogUrls":[]}}"#).as_bytes(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("unknown field `tlogUrls`"), "{err}");
    let err = SigningConfig::from_json(
        format!(
            r#"{{"mediaType":"{SIGNING_CONFIG_MEDIA_TYPE}","tsaConfig":{{"selector":"SOME"}}}}"#
        )
        .as_bytes(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("unknown ServiceSelector"), "{err}");
}

#[test]
fn client_trust_config() {
    let cfg =
        ClientTrustConfig::from_json(&testdata("fake-hashedrekord/trust_config.json")).unwrap();
    assert_eq!(cfg.signing_config, SigningConfig::empty());
    assert_eq!(
        cfg.trusted_root,
        TrustedRoot::from_json(&testdata("fake-hashedrekord/trusted_root.json")).unwrap()
    );
    let out = serde_json::to_value(&cfg).unwrap();
    assert_eq!(
        out["signingConfig"],
        json!({"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json"})
    );
    let mut v: Value =
        signet_proto::json::from_slice(&testdata("fake-hashedrekord/trust_config.json")).unwrap();
    v["mediaType"] = json!("application/vnd.dev.sigstore.clienttrustconfig.v0.2+json");
    assert!(ClientTrustConfig::from_json(&serde_json::to_vec(&v).unwrap()).is_err());
    v["mediaType"] = json!("application/vnd.dev.sigstore.clienttrustconfig.v0.1+json");
    v.as_object_mut().unwrap().remove("signingConfig");
    let err = ClientTrustConfig::from_json(&serde_json::to_vec(&v).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field `signingConfig`"), "{err}");
}

/// proto3 JSON: `null` for a field is its default value. Every field a trusted root may omit
/// reads `null` as if it were absent (the exported form of the conformance suite's roots has
/// `"checkpointKeyId": null` and `"operator": null`); the result equals the plain root, and a
/// required field (`mediaType`, `publicKey`) is still required.
#[test]
fn null_fields_are_defaults() {
    let plain = TrustedRoot::from_json(&serde_json::to_vec(&root_value()).unwrap()).unwrap();
    let mut v = root_value();
    for logs in ["tlogs", "ctlogs"] {
        let log = &mut v[logs][0];
        log["checkpointKeyId"] = Value::Null;
        log["operator"] = Value::Null;
        log["publicKey"]["validFor"]["end"] = Value::Null;
    }
    let ca = &mut v["certificateAuthorities"][0];
    ca["operator"] = Value::Null;
    ca["uri"] = Value::Null;
    ca["subject"]["organization"] = Value::Null;
    ca["validFor"]["end"] = Value::Null;
    v["timestampAuthorities"] = Value::Null;
    // What the exporter had: the root is equal to the plain one field by field.
    let with_nulls = TrustedRoot::from_json(&serde_json::to_vec(&v).unwrap())
        .unwrap_or_else(|e| panic!("nulls refused: {e}"));
    let mut expected = plain.clone();
    expected.certificate_authorities[0].uri = String::new();
    expected.certificate_authorities[0].subject.organization = String::new();
    assert_eq!(with_nulls, expected);
    // The nulls are not written back; the written root reads back the same (the trust_json
    // fuzz target's round trip).
    let again = with_nulls.to_json_pretty().unwrap();
    assert!(!String::from_utf8_lossy(&again).contains("null"));
    assert_eq!(TrustedRoot::from_json(&again).unwrap(), with_nulls);
    // The conformance suite's exported production root (nulls for checkpointKeyId, operator
    // and open ends) parses.
    let exported = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "../testdata/sigstore-conformance/bundle-verify/trust-root-tlog-validity-end-inclusive/trusted_root.json",
    );
    let exported = TrustedRoot::from_json(&std::fs::read(&exported).unwrap()).unwrap();
    assert!(exported
        .tlogs
        .iter()
        .all(|t| t.checkpoint_key_id.is_none() && t.operator.is_empty()));
    // Nulls everywhere else a default exists: base URL, hash algorithm, key details, raw
    // bytes, validFor, log ID bytes, certificate chain.
    let mut w = root_value();
    let log = &mut w["tlogs"][0];
    log["baseUrl"] = Value::Null;
    log["hashAlgorithm"] = Value::Null;
    log["publicKey"]["keyDetails"] = Value::Null;
    log["publicKey"]["rawBytes"] = Value::Null;
    log["publicKey"]["validFor"] = Value::Null;
    log["logId"]["keyId"] = Value::Null;
    w["certificateAuthorities"][0]["certChain"] = Value::Null;
    w["certificateAuthorities"][0]["validFor"] = Value::Null;
    let r = TrustedRoot::from_json(&serde_json::to_vec(&w).unwrap()).unwrap();
    assert_eq!(r.tlogs[0].base_url, "");
    assert!(r.tlogs[0].public_key.raw_bytes.is_none());
    assert!(r.tlogs[0].public_key.valid_for.is_none());
    assert_eq!(
        r.tlogs[0].public_key.key_details,
        PublicKeyDetails::Unspecified
    );
    assert!(r.tlogs[0].log_id.key_id.is_empty());
    assert!(r.certificate_authorities[0]
        .cert_chain
        .certificates
        .is_empty());
    assert!(r.certificate_authorities[0].valid_for.start.is_none());
    // Required fields stay required.
    for (path, field) in [
        ("", "mediaType"),
        ("tlogs/0", "publicKey"),
        ("tlogs/0", "logId"),
    ] {
        let mut x = root_value();
        let target = if path.is_empty() {
            &mut x
        } else {
            x.pointer_mut(&format!("/{path}")).unwrap()
        };
        target[field] = Value::Null;
        assert!(
            TrustedRoot::from_json(&serde_json::to_vec(&x).unwrap()).is_err(),
            "{path}/{field}: null accepted for a required field"
        );
    }
    // A signing config too.
    let cfg = SigningConfig::from_json(
        br#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls":[{"url":"https://ca","majorApiVersion":1,"validFor":{"start":"2024-01-01T00:00:00Z","end":null},"operator":null}],
            "oidcUrls":null,"rekorTlogConfig":null,"tsaConfig":{"selector":null,"count":null}}"#,
    )
    .unwrap();
    assert!(cfg.oidc_urls.is_empty() && cfg.rekor_tlog_config.is_none());
    assert_eq!(cfg.ca_urls[0].operator, "");
    assert_eq!(cfg.tsa_config.unwrap().selector, ServiceSelector::Undefined);
}
