//! Rekor entry bodies, SET payload and REST API types.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use signet_proto::bundle::{Base64Bytes, Bundle};
use signet_proto::rekor::{
    entry_id, entry_uuid, ApiError, ConsistencyProof, DsseV001, HexBytes, LogEntry, LogInfo,
    ProposedEntry, RekorError, SearchIndex, SearchKeyFormat, SearchLogQuery, SearchOperator,
    SetPayload,
};
use std::path::PathBuf;

fn testdata(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/sigstore")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// rekor's own `pkg/generated/models/testdata` requests parse, and re-serialize to the same
/// JSON value.
#[test]
fn rekor_testdata_requests() {
    for name in [
        "rekor/hashedrekord_proposed.json",
        "rekor/dsse_proposed.json",
    ] {
        let bytes = testdata(name);
        let entry = ProposedEntry::from_json(&bytes).unwrap();
        entry.validate().unwrap();
        let original: Value = signet_proto::json::from_slice(&bytes).unwrap();
        assert_eq!(entry.to_value().unwrap(), original, "{name}");
    }
    let dsse = ProposedEntry::from_json(&testdata("rekor/dsse_proposed.json")).unwrap();
    let ProposedEntry::DsseV001(DsseV001::Proposed(p)) = &dsse else {
        panic!("proposed form")
    };
    let env = p.parse_envelope().unwrap();
    assert_eq!(env.payload_type, "application/vnd.in-toto+json");
    assert_eq!(env.signatures.len(), 1);
    assert!(p.verifiers[0].starts_with(b"-----BEGIN PUBLIC KEY-----"));
}

/// The canonical form is sorted, compact JSON; rekor's example is not, so the bytes differ
/// while the value is the same.
#[test]
fn canonical_bytes_are_jcs() {
    let entry = ProposedEntry::from_json(&testdata("rekor/hashedrekord_proposed.json")).unwrap();
    let bytes = entry.canonical_bytes().unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.starts_with(r#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"c98c24b6"#));
    assert!(!text.contains(' ') && !text.contains('\n'));
    assert_eq!(ProposedEntry::from_json(&bytes).unwrap(), entry);
}

fn entry_err(v: &Value) -> RekorError {
    ProposedEntry::from_json(&serde_json::to_vec(v).unwrap()).unwrap_err()
}

#[test]
fn proposed_entry_errors() {
    let base: Value =
        signet_proto::json::from_slice(&testdata("rekor/hashedrekord_proposed.json")).unwrap();

    let mut v = base.clone();
    v["kind"] = json!("rekord");
    assert!(matches!(entry_err(&v), RekorError::UnsupportedKind { kind } if kind == "rekord"));

    let mut v = base.clone();
    v["apiVersion"] = json!("0.0.2");
    let e = entry_err(&v);
    assert!(
        matches!(&e, RekorError::UnsupportedApiVersion { kind, api_version } if kind == "hashedrekord" && api_version == "0.0.2")
    );
    assert!(e.to_string().contains("unsupported apiVersion \"0.0.2\""));

    let mut v = base.clone();
    v.as_object_mut().unwrap().remove("kind");
    assert!(matches!(
        entry_err(&v),
        RekorError::MissingField { field: "kind" }
    ));
    let mut v = base.clone();
    v.as_object_mut().unwrap().remove("spec");
    assert!(matches!(
        entry_err(&v),
        RekorError::MissingField { field: "spec" }
    ));
    let mut v = base.clone();
    v["apiVersion"] = json!(1);
    assert!(matches!(
        entry_err(&v),
        RekorError::MissingField {
            field: "apiVersion"
        }
    ));

    let mut v = base.clone();
    v["extra"] = json!(1);
    assert!(entry_err(&v).to_string().contains("unknown field `extra`"));
    let mut v = base.clone();
    v["spec"]["signature"]["format"] = json!("x509");
    assert!(entry_err(&v).to_string().contains("unknown field `format`"));
    let mut v = base.clone();
    v["spec"]["data"]["hash"]["algorithm"] = json!("md5");
    assert!(matches!(entry_err(&v), RekorError::Json { .. }));
    let mut v = base.clone();
    v["spec"]["signature"]["content"] = json!("%%%");
    assert!(entry_err(&v).to_string().contains("invalid base64"));

    // Schema-valid but semantically wrong: validate() catches it.
    let mut v = base.clone();
    v["spec"]["data"]["hash"]["value"] =
        json!("C98C24B677EFF44860AFEA6F493BBAEC5BB1C4CBB209C6FC2BBB47F66FF2AD31");
    let e = ProposedEntry::from_json(&serde_json::to_vec(&v).unwrap())
        .unwrap()
        .validate()
        .unwrap_err();
    assert!(e.to_string().contains("not lowercase hex"), "{e}");
    let mut v = base;
    v["spec"]["data"]["hash"]["value"] = json!("abcd");
    let e = ProposedEntry::from_json(&serde_json::to_vec(&v).unwrap())
        .unwrap()
        .validate()
        .unwrap_err();
    assert!(e.to_string().contains("needs 32"), "{e}");
}

#[test]
fn dsse_spec_forms_are_exclusive() {
    let mut v: Value =
        signet_proto::json::from_slice(&testdata("rekor/dsse_proposed.json")).unwrap();
    v["spec"]["payloadHash"] = json!({"algorithm": "sha256", "value": "00"});
    assert!(entry_err(&v).to_string().contains("not both"));
    let v = json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {"payloadHash": {"algorithm": "sha256", "value": "00"}}});
    assert!(entry_err(&v).to_string().contains("either proposedContent"));
    let v = json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": {"envelope": "{}", "verifiers": []}}});
    let e = ProposedEntry::from_json(&serde_json::to_vec(&v).unwrap())
        .unwrap()
        .validate()
        .unwrap_err();
    assert!(e.to_string().contains("verifiers"), "{e}");
}

#[test]
fn set_payload_canonical_form() {
    let p = SetPayload {
        body: Base64Bytes(b"{}".to_vec()),
        integrated_time: 1_712_085_549,
        log_id: HexBytes(vec![0xd3, 0x2f]),
        log_index: 0,
    };
    assert_eq!(
        p.canonical_bytes().unwrap(),
        br#"{"body":"e30=","integratedTime":1712085549,"logID":"d32f","logIndex":0}"#.to_vec()
    );
}

#[test]
fn entry_ids() {
    let body = testdata("fake-hashedrekord/canonicalized_body.json");
    let uuid = entry_uuid(&body);
    let mut leaf = vec![0u8];
    leaf.extend_from_slice(&body);
    assert_eq!(
        uuid,
        hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &leaf))
    );
    let id = entry_id(0x24_296f_b24b_8ad7, &body);
    assert_eq!(id.len(), 80);
    assert_eq!(&id[..16], "0024296fb24b8ad7");
    assert_eq!(&id[16..], uuid);
}

/// A `GET /api/v1/log/entries/{uuid}` response built from our fixture bundle: parses,
/// round-trips, and its SET payload is the bundle's.
#[test]
fn log_entry_response() {
    let bundle =
        Bundle::from_json(&testdata("fake-hashedrekord/artifact.txt.sigstore.json")).unwrap();
    let e = &bundle.verification_material.tlog_entries[0];
    let proof = e.inclusion_proof.as_ref().unwrap();
    let body = e.canonicalized_body.as_ref().unwrap();
    let response = json!({
        entry_uuid(body): {
            "body": body.encode(),
            "integratedTime": e.integrated_time,
            "logID": hex::encode(&e.log_id.key_id),
            "logIndex": e.log_index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": proof.checkpoint.as_ref().unwrap().envelope,
                    "hashes": proof.hashes.iter().map(hex::encode).collect::<Vec<_>>(),
                    "logIndex": proof.log_index,
                    "rootHash": hex::encode(&proof.root_hash),
                    "treeSize": proof.tree_size,
                },
                "signedEntryTimestamp": e.inclusion_promise.as_ref().unwrap().signed_entry_timestamp.encode(),
            }
        }
    });
    let parsed: LogEntry = serde_json::from_value(response.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), response);
    let anon = parsed.values().next().unwrap();
    let rp = anon
        .verification
        .as_ref()
        .unwrap()
        .inclusion_proof
        .as_ref()
        .unwrap();
    assert_eq!(rp.root_hash.as_slice(), proof.root_hash.as_slice());
    assert_eq!(rp.hashes.len(), proof.hashes.len());
    assert_eq!(anon.set_payload().log_index, e.log_index);
    assert_eq!(anon.set_payload().body, *body);

    let mut bad = response.clone();
    bad[entry_uuid(body)]["logID"] = json!("zz");
    assert!(serde_json::from_value::<LogEntry>(bad)
        .unwrap_err()
        .to_string()
        .contains("invalid hex"));
    let mut bad = response;
    bad[entry_uuid(body)]["verification"]["extra"] = json!(1);
    assert!(serde_json::from_value::<LogEntry>(bad).is_err());
}

#[test]
fn log_info_and_consistency_proof() {
    // Shape of rekor.sigstore.dev's GET /api/v1/log.
    let info = json!({
        "inactiveShards": [{
            "rootHash": "aa".repeat(32),
            "signedTreeHead": "rekor.sigstore.dev - 2605736670972794746\n1\nqg==\n\n— rekor.sigstore.dev x\n",
            "treeID": "2605736670972794746",
            "treeSize": 1
        }],
        "rootHash": "bb".repeat(32),
        "signedTreeHead": "rekor.sigstore.dev - 1193050959916656506\n2\nuw==\n\n— rekor.sigstore.dev y\n",
        "treeID": "1193050959916656506",
        "treeSize": 2
    });
    let parsed: LogInfo = serde_json::from_value(info.clone()).unwrap();
    assert_eq!(parsed.tree_size, 2);
    assert_eq!(parsed.inactive_shards[0].tree_id, "2605736670972794746");
    assert_eq!(serde_json::to_value(&parsed).unwrap(), info);
    // Upper-case hex is read, lower-case is written.
    let cp: ConsistencyProof =
        serde_json::from_value(json!({"rootHash": "AB".repeat(32), "hashes": ["cd".repeat(32)]}))
            .unwrap();
    assert_eq!(
        serde_json::to_value(&cp).unwrap(),
        json!({"rootHash": "ab".repeat(32), "hashes": ["cd".repeat(32)]})
    );
    assert!(serde_json::from_value::<ConsistencyProof>(json!({"rootHash": "ab"})).is_err());
}

#[test]
fn search_requests_and_errors() {
    let idx = json!({"hash": format!("sha256:{}", "ab".repeat(32)), "publicKey": {"format": "x509", "content": "LS0t"}, "email": "a@b.c", "operator": "and"});
    let parsed: SearchIndex = serde_json::from_value(idx.clone()).unwrap();
    assert_eq!(
        parsed.public_key.as_ref().unwrap().format,
        SearchKeyFormat::X509
    );
    assert_eq!(parsed.operator, Some(SearchOperator::And));
    assert_eq!(serde_json::to_value(&parsed).unwrap(), idx);
    assert!(
        serde_json::from_value::<SearchIndex>(json!({"publicKey": {"format": "gpg"}})).is_err()
    );
    assert_eq!(
        serde_json::to_value(SearchIndex::default()).unwrap(),
        json!({})
    );

    let entry: Value =
        signet_proto::json::from_slice(&testdata("rekor/hashedrekord_proposed.json")).unwrap();
    let q = json!({"entryUUIDs": ["ab".repeat(32)], "logIndexes": [0, 7], "entries": [entry]});
    let parsed: SearchLogQuery = serde_json::from_value(q.clone()).unwrap();
    assert_eq!(parsed.log_indexes, vec![0, 7]);
    assert_eq!(parsed.entries[0].kind(), "hashedrekord");
    assert_eq!(serde_json::to_value(&parsed).unwrap(), q);
    let bad = json!({"entries": [{"apiVersion": "0.0.1", "kind": "rpm", "spec": {}}]});
    assert!(serde_json::from_value::<SearchLogQuery>(bad)
        .unwrap_err()
        .to_string()
        .contains("unsupported entry kind"));

    let e: ApiError = serde_json::from_value(json!({"code": 400, "message": "bad"})).unwrap();
    assert_eq!(e.code, Some(400));
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"code": 400, "message": "bad"})
    );
}
