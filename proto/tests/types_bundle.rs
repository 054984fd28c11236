//! Bundle types against our own fixtures (`testdata/sigstore/fake-*`, made by
//! `fake_sigstore.py`), plus the rejections and version rules.
#![allow(clippy::unwrap_used)]

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ED25519};
use serde_json::{json, Value};
use signet_proto::bundle::{
    Base64Bytes, Bundle, BundleContent, BundleError, BundleVersion, VerificationMaterialContent,
    X509Certificate, X509CertificateChain, MEDIA_TYPE_V0_3,
};
use signet_proto::rekor::{
    DsseCanonical, DsseSignatureVerifier, DsseV001, HashedRekordV001, HexBytes, ProposedEntry,
    SetPayload,
};
use signet_proto::trust::{ClientTrustConfig, TrustedRoot};
use std::path::PathBuf;

fn fixture(dir: &str, name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/sigstore")
        .join(dir)
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// See `interop_sigstore_public.rs`: proto3 JSON may omit defaults and write int64 either way.
fn normalise(v: &Value) -> Option<Value> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::Number(n) => {
            let s = n.to_string();
            (s != "0").then_some(Value::String(s))
        }
        Value::String(s) if s.is_empty() || s == "0" => None,
        Value::Array(a) if a.is_empty() => None,
        Value::Array(a) => Some(Value::Array(
            a.iter()
                .map(|x| normalise(x).unwrap_or(Value::Null))
                .collect(),
        )),
        Value::Object(m) => Some(Value::Object(
            m.iter()
                .filter_map(|(k, v)| normalise(v).map(|v| (k.clone(), v)))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(bytes: &[u8]) -> T {
    let parsed: T = signet_proto::json::from_slice(bytes).unwrap();
    let original: Value = signet_proto::json::from_slice(bytes).unwrap();
    assert_eq!(
        normalise(&original),
        normalise(&serde_json::to_value(&parsed).unwrap())
    );
    parsed
}

const FIXTURES: &[&str] = &["fake-hashedrekord", "fake-dsse"];

#[test]
fn fixtures_round_trip() {
    for dir in FIXTURES {
        let bundle: Bundle = round_trip(&fixture(dir, "artifact.txt.sigstore.json"));
        bundle.validate().unwrap();
        // `timestampVerificationData: {}` is a present-but-empty message and stays.
        assert!(bundle
            .verification_material
            .timestamp_verification_data
            .is_some());
        let out: Value = signet_proto::json::from_slice(&bundle.to_json().unwrap()).unwrap();
        assert_eq!(
            out["verificationMaterial"]["timestampVerificationData"],
            json!({})
        );
        assert_eq!(
            out["verificationMaterial"]["tlogEntries"][0]["logIndex"],
            json!("3")
        );
        let _: TrustedRoot = round_trip(&fixture(dir, "trusted_root.json"));
        let _: ClientTrustConfig = round_trip(&fixture(dir, "trust_config.json"));
    }
}

/// Rebuild the hashedrekord body from its parts and compare bytes with what the Python
/// reference log stored.
#[test]
fn hashedrekord_body_is_byte_exact() {
    let bundle =
        Bundle::from_json(&fixture("fake-hashedrekord", "artifact.txt.sigstore.json")).unwrap();
    let want = fixture("fake-hashedrekord", "canonicalized_body.json");
    let entry = &bundle.verification_material.tlog_entries[0];
    assert_eq!(
        entry.canonicalized_body.as_ref().unwrap().as_slice(),
        want.as_slice()
    );

    let BundleContent::MessageSignature(ms) = &bundle.content else {
        panic!("not a message signature")
    };
    let artifact = fixture("fake-hashedrekord", "artifact.txt");
    let d: [u8; 32] = digest(&SHA256, &artifact).as_ref().try_into().unwrap();
    assert_eq!(ms.message_digest.as_ref().unwrap().digest.as_slice(), d);
    let built = ProposedEntry::HashedRekordV001(HashedRekordV001::new(
        &d,
        ms.signature.to_vec(),
        fixture("fake-hashedrekord", "leaf.pem"),
    ));
    assert_eq!(built.canonical_bytes().unwrap(), want);
    // Parse, re-canonicalize: same bytes.
    let parsed = ProposedEntry::from_json(&want).unwrap();
    assert_eq!(parsed, built);
    assert_eq!(parsed.canonical_bytes().unwrap(), want);
    assert_eq!(parsed.kind_version(), entry.kind_version);
}

/// Rebuild the dsse stored form from the envelope and compare bytes.
#[test]
fn dsse_body_is_byte_exact() {
    let bundle = Bundle::from_json(&fixture("fake-dsse", "artifact.txt.sigstore.json")).unwrap();
    let want = fixture("fake-dsse", "canonicalized_body.json");
    let BundleContent::DsseEnvelope(env) = &bundle.content else {
        panic!("not dsse")
    };
    let canonical = DsseCanonical::new(
        env,
        vec![DsseSignatureVerifier {
            signature: env.signatures[0].sig.clone(),
            verifier: Base64Bytes(fixture("fake-dsse", "leaf.pem")),
        }],
    )
    .unwrap();
    let built = ProposedEntry::DsseV001(DsseV001::Canonical(canonical));
    built.validate().unwrap();
    assert_eq!(built.canonical_bytes().unwrap(), want);
    assert_eq!(
        ProposedEntry::from_json(&want)
            .unwrap()
            .canonical_bytes()
            .unwrap(),
        want
    );
    // The envelope signature covers the DSSE PAE; check it with the leaf key.
    let leaf = pem::parse(fixture("fake-dsse", "leaf.pem")).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.contents()).unwrap();
    let spki = cert.public_key().raw;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, spki)
        .verify(&env.pae(), &env.signatures[0].sig)
        .unwrap();
}

/// SET over our canonical payload verifies with the fixture's log key (ECDSA and Ed25519).
#[test]
fn fixture_inclusion_promises_verify() {
    for dir in FIXTURES {
        let bundle = Bundle::from_json(&fixture(dir, "artifact.txt.sigstore.json")).unwrap();
        let root = TrustedRoot::from_json(&fixture(dir, "trusted_root.json")).unwrap();
        let entry = &bundle.verification_material.tlog_entries[0];
        let log = root.tlog_by_key_id(&entry.log_id.key_id).unwrap();
        let key = log.public_key.raw_bytes.as_ref().unwrap();
        let msg = SetPayload {
            body: entry.canonicalized_body.clone().unwrap(),
            integrated_time: entry.integrated_time,
            log_id: HexBytes(entry.log_id.key_id.to_vec()),
            log_index: entry.log_index,
        }
        .canonical_bytes()
        .unwrap();
        let set = &entry
            .inclusion_promise
            .as_ref()
            .unwrap()
            .signed_entry_timestamp;
        let result = if *dir == "fake-dsse" {
            // Ed25519 SPKI: the raw key is the last 32 bytes.
            UnparsedPublicKey::new(&ED25519, &key[key.len() - 32..]).verify(&msg, set)
        } else {
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.as_slice()).verify(&msg, set)
        };
        result.unwrap_or_else(|_| panic!("{dir}: SET does not verify"));
        // The log ID is SHA-256 of the SPKI.
        assert_eq!(
            digest(&SHA256, key).as_ref(),
            entry.log_id.key_id.as_slice()
        );
    }
}

fn base_bundle() -> Value {
    signet_proto::json::from_slice(&fixture("fake-hashedrekord", "artifact.txt.sigstore.json"))
        .unwrap()
}

fn parse(v: &Value) -> Result<Bundle, BundleError> {
    Bundle::from_json(&serde_json::to_vec(v).unwrap())
}

fn assert_rejected(v: &Value, needle: &str) {
    let err = parse(v).unwrap_err().to_string();
    assert!(
        err.contains(needle),
        "error {err:?} does not mention {needle:?}"
    );
}

#[test]
fn rejects_unknown_fields() {
    let mut v = base_bundle();
    v["extra"] = json!(1);
    assert_rejected(&v, "unknown field `extra`");
    let mut v = base_bundle();
    v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["bogus"] = json!("x");
    assert_rejected(&v, "unknown field `bogus`");
    let mut v = base_bundle();
    v["messageSignature"]["messageDigest"]["alg"] = json!("x");
    assert_rejected(&v, "unknown field `alg`");
}

#[test]
fn rejects_wrong_media_type() {
    let mut v = base_bundle();
    v["mediaType"] = json!("application/vnd.dev.sigstore.bundle.v0.4+json");
    assert_rejected(&v, "unsupported bundle media type");
    let mut v = base_bundle();
    v.as_object_mut().unwrap().remove("mediaType");
    assert_rejected(&v, "missing field `mediaType`");
}

#[test]
fn accepts_legacy_v03_spelling_and_writes_canonical() {
    let mut v = base_bundle();
    v["mediaType"] = json!("application/vnd.dev.sigstore.bundle+json;version=0.3");
    let b = parse(&v).unwrap();
    assert_eq!(b.media_type, BundleVersion::V0_3);
    let out: Value = signet_proto::json::from_slice(&b.to_json().unwrap()).unwrap();
    assert_eq!(out["mediaType"], json!(MEDIA_TYPE_V0_3));
}

#[test]
fn base64_rules() {
    let mut v = base_bundle();
    v["messageSignature"]["signature"] = json!("not base64!");
    assert_rejected(&v, "invalid base64");
    let mut v = base_bundle();
    v["verificationMaterial"]["tlogEntries"][0]["logId"]["keyId"] = json!("abc=d");
    assert_rejected(&v, "invalid base64");
    // URL-safe and unpadded input is accepted (proto3 JSON); output is standard, padded.
    let mut v = base_bundle();
    v["messageSignature"]["signature"] = json!("-_8");
    let b = parse(&v).unwrap();
    let BundleContent::MessageSignature(ms) = &b.content else {
        panic!()
    };
    assert_eq!(ms.signature.as_slice(), [0xfb, 0xff]);
    let out: Value = signet_proto::json::from_slice(&b.to_json().unwrap()).unwrap();
    assert_eq!(out["messageSignature"]["signature"], json!("+/8="));
}

#[test]
fn int64_rules() {
    let mut v = base_bundle();
    v["verificationMaterial"]["tlogEntries"][0]["logIndex"] = json!("9223372036854775808");
    assert_rejected(&v, "int64 overflow");
    let mut v = base_bundle();
    v["verificationMaterial"]["tlogEntries"][0]["integratedTime"] =
        json!(9_223_372_036_854_775_808_u64);
    assert_rejected(&v, "int64 overflow");
    let mut v = base_bundle();
    v["verificationMaterial"]["tlogEntries"][0]["logIndex"] = json!("3.0");
    assert_rejected(&v, "invalid int64 string");
    let mut v = base_bundle();
    v["verificationMaterial"]["tlogEntries"][0]["logIndex"] = json!(1.5);
    assert_rejected(&v, "int64 must be an integer");
    // Numbers are accepted on input and written back as strings.
    let mut v = base_bundle();
    v["verificationMaterial"]["tlogEntries"][0]["logIndex"] = json!(9_223_372_036_854_775_807_i64);
    let b = parse(&v).unwrap();
    assert_eq!(b.verification_material.tlog_entries[0].log_index, i64::MAX);
    let out: Value = signet_proto::json::from_slice(&b.to_json().unwrap()).unwrap();
    assert_eq!(
        out["verificationMaterial"]["tlogEntries"][0]["logIndex"],
        json!("9223372036854775807")
    );
}

#[test]
fn enums_by_name_or_number() {
    let mut v = base_bundle();
    v["messageSignature"]["messageDigest"]["algorithm"] = json!(1);
    let b = parse(&v).unwrap();
    let out: Value = signet_proto::json::from_slice(&b.to_json().unwrap()).unwrap();
    assert_eq!(
        out["messageSignature"]["messageDigest"]["algorithm"],
        json!("SHA2_256")
    );
    let mut v = base_bundle();
    v["messageSignature"]["messageDigest"]["algorithm"] = json!("SHA2_257");
    assert_rejected(&v, "unknown HashAlgorithm");
}

#[test]
fn oneofs_need_exactly_one_member() {
    let mut v = base_bundle();
    v["dsseEnvelope"] = json!({"payload": "", "payloadType": "x", "signatures": []});
    assert_rejected(&v, "both messageSignature and dsseEnvelope");
    let mut v = base_bundle();
    v.as_object_mut().unwrap().remove("messageSignature");
    assert_rejected(&v, "needs messageSignature or dsseEnvelope");
    let mut v = base_bundle();
    v["verificationMaterial"]["publicKey"] = json!({"hint": "k"});
    assert_rejected(&v, "more than one of publicKey");
    let mut v = base_bundle();
    v["verificationMaterial"]
        .as_object_mut()
        .unwrap()
        .remove("certificate");
    assert_rejected(&v, "needs one of publicKey");
}

fn invalid_rule(b: &Bundle) -> &'static str {
    match b.validate() {
        Err(BundleError::Invalid { rule, .. }) => rule,
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

#[test]
fn version_rules() {
    let good = parse(&base_bundle()).unwrap();
    let leaf = good.leaf_certificate_der().unwrap().to_vec();

    // v0.3 must not use x509CertificateChain.
    let mut b = good.clone();
    b.verification_material.content =
        VerificationMaterialContent::X509CertificateChain(X509CertificateChain {
            certificates: vec![X509Certificate {
                raw_bytes: Base64Bytes(leaf.clone()),
            }],
        });
    assert!(invalid_rule(&b).contains("v0.3 carries the leaf in certificate"));
    // ... which is exactly right for v0.2, and the leaf is still found.
    b.media_type = BundleVersion::V0_2;
    b.validate().unwrap();
    assert_eq!(b.leaf_certificate_der().unwrap(), leaf.as_slice());
    // v0.2 needs a checkpoint in the inclusion proof.
    let mut c = b.clone();
    c.verification_material.tlog_entries[0]
        .inclusion_proof
        .as_mut()
        .unwrap()
        .checkpoint = None;
    assert!(invalid_rule(&c).contains("checkpoint"));
    // v0.1 needs an inclusion promise, and not an inclusion proof.
    let mut c = b.clone();
    c.media_type = BundleVersion::V0_1;
    c.verification_material.tlog_entries[0].inclusion_proof = None;
    c.validate().unwrap();
    c.verification_material.tlog_entries[0].inclusion_promise = None;
    assert!(invalid_rule(&c).contains("inclusionPromise"));
    // v0.1/v0.2 must not use the bare certificate form.
    let mut c = good.clone();
    c.media_type = BundleVersion::V0_2;
    assert!(invalid_rule(&c).contains("not certificate"));
    // v0.3 needs an inclusion proof.
    let mut c = good.clone();
    c.verification_material.tlog_entries[0].inclusion_proof = None;
    assert!(invalid_rule(&c).contains("inclusionProof"));
    // No tlog entry and no timestamp.
    let mut c = good.clone();
    c.verification_material.tlog_entries.clear();
    assert!(invalid_rule(&c).contains("at least one"));
    // Index outside the tree.
    let mut c = good.clone();
    c.verification_material.tlog_entries[0]
        .inclusion_proof
        .as_mut()
        .unwrap()
        .tree_size = 3;
    assert!(invalid_rule(&c).contains("0..treeSize"));
}

#[test]
fn dsse_needs_exactly_one_signature() {
    let mut b = Bundle::from_json(&fixture("fake-dsse", "artifact.txt.sigstore.json")).unwrap();
    b.validate().unwrap();
    let BundleContent::DsseEnvelope(env) = &mut b.content else {
        panic!()
    };
    let sig = env.signatures[0].clone();
    env.signatures.push(sig);
    assert!(invalid_rule(&b).contains("exactly one signature"));
}

#[test]
fn pae_matches_dsse_spec() {
    assert_eq!(
        signet_proto::bundle::pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
    );
}

/// proto3 JSON: `null` for a field is its default value, in bundles as in trust roots: a
/// `null` oneof member or optional message is absent, a `null` int64 is 0, and required fields
/// (`mediaType`, `verificationMaterial`) stay required.
#[test]
fn null_fields_are_defaults() {
    let mut base = base_bundle();
    base["verificationMaterial"]
        .as_object_mut()
        .unwrap()
        .remove("timestampVerificationData");
    let plain = parse(&base).unwrap();
    let mut v = base.clone();
    v["dsseEnvelope"] = Value::Null;
    v["verificationMaterial"]["publicKey"] = Value::Null;
    v["verificationMaterial"]["x509CertificateChain"] = Value::Null;
    v["verificationMaterial"]["timestampVerificationData"] = Value::Null;
    assert_eq!(parse(&v).unwrap(), plain);

    let mut v = base.clone();
    v["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = Value::Null;
    v["messageSignature"]["messageDigest"]["algorithm"] = Value::Null;
    let b = parse(&v).unwrap();
    assert_eq!(b.verification_material.tlog_entries[0].integrated_time, 0);
    let BundleContent::MessageSignature(ms) = &b.content else {
        panic!()
    };
    assert_eq!(
        ms.message_digest.as_ref().unwrap().algorithm,
        signet_proto::bundle::HashAlgorithm::Unspecified
    );

    for field in ["mediaType", "verificationMaterial"] {
        let mut v = base.clone();
        v[field] = Value::Null;
        assert!(parse(&v).is_err(), "null accepted for required {field}");
    }
}
