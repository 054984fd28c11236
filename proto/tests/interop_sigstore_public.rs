//! Real public Sigstore files (bundles, trusted roots, signing config) must parse and
//! re-serialize without losing a field.
//!
//! The files are vendored in `testdata/sigstore/public/` (see its README for their source);
//! a missing file is a test failure.
#![allow(clippy::unwrap_used)]

use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
use serde_json::Value;
use signet_proto::bundle::{Bundle, BundleContent, BundleVersion, VerificationMaterialContent};
use signet_proto::rekor::{HexBytes, ProposedEntry, SetPayload};
use signet_proto::trust::{SigningConfig, TrustedRoot};
use std::path::PathBuf;

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/sigstore/public")
}

fn read(dir: &std::path::Path, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("test vector {}: {e}", path.display()))
}

/// Drops what proto3 JSON lets a serializer omit (empty strings and lists, zero, false,
/// null) and writes every number as a string (int64 may be a number or a string).
/// Objects are kept even when empty: a present message is not the same as an absent one.
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

fn assert_round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(
    name: &str,
    bytes: &[u8],
) -> T {
    let parsed: T = signet_proto::json::from_slice(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let original: Value = signet_proto::json::from_slice(bytes).unwrap();
    let again = serde_json::to_value(&parsed).unwrap();
    assert_eq!(
        normalise(&original),
        normalise(&again),
        "{name} lost or changed a field"
    );
    // And the re-serialized form parses to the same value again.
    let reparsed: T = serde_json::from_value(again.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&reparsed).unwrap(),
        again,
        "{name} not stable"
    );
    parsed
}

const BUNDLES: &[&str] = &[
    "bundle_v3_rekor1.json",
    "bundle_v3_rekor2_dsse.json",
    "sigstore_rs_bundle_v03.json",
];

#[test]
fn public_bundles_round_trip_and_validate() {
    let dir = folder();
    for name in BUNDLES {
        let bytes = read(&dir, name);
        let bundle: Bundle = assert_round_trip(name, &bytes);
        assert_eq!(bundle.media_type, BundleVersion::V0_3, "{name}");
        assert!(matches!(
            bundle.verification_material.content,
            VerificationMaterialContent::Certificate(_)
        ));
        bundle.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            Bundle::from_json(&bundle.to_json().unwrap()).unwrap(),
            bundle
        );
    }
}

#[test]
fn public_trust_material_round_trips() {
    let dir = folder();
    for name in ["trusted_root.json", "staging_trusted_root.json"] {
        let root: TrustedRoot = assert_round_trip(name, &read(&dir, name));
        assert!(!root.tlogs.is_empty() && !root.certificate_authorities.is_empty());
        assert!(!root.ctlogs.is_empty() && !root.timestamp_authorities.is_empty());
        // Timestamps keep their exact text (e.g. `2022-12-31T23:59:59.999Z`).
        let text = String::from_utf8(read(&dir, name)).unwrap();
        for ca in &root.certificate_authorities {
            let start = ca.valid_for.start.as_ref().unwrap();
            assert!(text.contains(&format!("\"start\": \"{}\"", start.as_str())));
        }
    }
    let cfg: SigningConfig = assert_round_trip(
        "signing_config.v0.2.json",
        &read(&dir, "signing_config.v0.2.json"),
    );
    assert_eq!(cfg.rekor_tlog_urls[0].major_api_version, 1);
    assert!(cfg.tsa_urls[0].valid_for.contains(1_800_000_000));
}

/// Rekor v1 entries: the canonicalized body re-parses and re-canonicalizes to the same bytes.
#[test]
fn public_canonicalized_bodies_are_byte_exact() {
    let dir = folder();
    let mut checked = 0;
    for name in BUNDLES {
        let bundle = Bundle::from_json(&read(&dir, name)).unwrap();
        for entry in &bundle.verification_material.tlog_entries {
            if entry.kind_version.version != "0.0.1" {
                continue; // Rekor v2 bodies (0.0.2) are not modelled.
            }
            let body = entry.canonicalized_body.as_ref().unwrap();
            let parsed = ProposedEntry::from_json(body).unwrap();
            assert_eq!(parsed.kind(), entry.kind_version.kind);
            parsed.validate().unwrap();
            assert_eq!(parsed.canonical_bytes().unwrap(), body.as_slice(), "{name}");
            checked += 1;
        }
        if let (BundleContent::DsseEnvelope(env), Some(entry)) = (
            &bundle.content,
            bundle.verification_material.tlog_entries.first(),
        ) {
            assert_eq!(env.signatures.len(), 1);
            if entry.kind_version.kind == "dsse" && entry.kind_version.version == "0.0.1" {
                let ProposedEntry::DsseV001(signet_proto::rekor::DsseV001::Canonical(c)) =
                    ProposedEntry::from_json(entry.canonicalized_body.as_ref().unwrap()).unwrap()
                else {
                    panic!("{name}: expected stored dsse form");
                };
                let payload_hash =
                    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &env.payload);
                assert_eq!(c.payload_hash.digest().unwrap(), payload_hash.as_ref());
                assert_eq!(c.signatures[0].signature, env.signatures[0].sig);
            }
        }
    }
    assert_eq!(checked, 2, "expected the two Rekor v1 bundles");
}

/// The SET of the Rekor v1 bundles verifies with the trust root's log key over our
/// canonical SET payload: proves `SetPayload` bytes match Rekor's.
#[test]
fn public_inclusion_promises_verify() {
    let dir = folder();
    for (bundle_name, root_name) in [
        ("bundle_v3_rekor1.json", "staging_trusted_root.json"),
        ("sigstore_rs_bundle_v03.json", "trusted_root.json"),
    ] {
        let bundle = Bundle::from_json(&read(&dir, bundle_name)).unwrap();
        let root = TrustedRoot::from_json(&read(&dir, root_name)).unwrap();
        let entry = &bundle.verification_material.tlog_entries[0];
        let log = root.tlog_by_key_id(&entry.log_id.key_id).unwrap();
        let payload = SetPayload {
            body: entry.canonicalized_body.clone().unwrap(),
            integrated_time: entry.integrated_time,
            log_id: HexBytes(entry.log_id.key_id.to_vec()),
            log_index: entry.log_index,
        };
        let msg = payload.canonical_bytes().unwrap();
        let key = log.public_key.raw_bytes.as_ref().unwrap();
        let set = &entry
            .inclusion_promise
            .as_ref()
            .unwrap()
            .signed_entry_timestamp;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.as_slice())
            .verify(&msg, set)
            .unwrap_or_else(|_| panic!("{bundle_name}: SET does not verify"));
        // A changed index must not verify.
        let wrong = SetPayload {
            log_index: entry.log_index + 1,
            ..payload
        };
        assert!(
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.as_slice())
                .verify(&wrong.canonical_bytes().unwrap(), set)
                .is_err()
        );
    }
}
