//! CT add-pre-chain (chain checks, SCT, the precertificate recorded in the log) and the
//! sigstore-python acceptance test: a certificate from a test CA with this log's SCT, and a
//! hashedrekord entry answered by this log (checkpoint, inclusion proof, SET), verified by
//! sigstore-python's `Verifier` offline.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::*;
use signet_proto::keys::EcdsaSigner;
use signet_proto::sct::{
    encode_sct_list_extension, issuer_key_hash, tbs_without_extensions, AddChainResponse, Sct,
    OID_PRECERT_POISON, OID_SCT_LIST,
};
use x509_parser::prelude::FromDer;

const EMAIL: &str = "alice@example.com";
const ISSUER: &str = "https://issuer.example";

fn spki_of(der: &[u8]) -> Vec<u8> {
    let (_, c) = x509_parser::certificate::X509Certificate::from_der(der).unwrap();
    c.public_key().raw.to_vec()
}

async fn add_pre_chain(t: &TestLog, chain: &[&[u8]]) -> (StatusCode, Vec<u8>) {
    let req = serde_json::json!({"chain": chain.iter().map(|c| B64.encode(c)).collect::<Vec<_>>()});
    let (s, _, b) = call(
        &t.router,
        "POST",
        "/ct/v1/add-pre-chain",
        Some(serde_json::to_vec(&req).unwrap()),
    )
    .await;
    (s, b)
}

/// The SCT's timestamp and the precertificate entry's integration time are the log's clock.
#[tokio::test]
async fn sct_timestamp_is_the_log_clock() {
    let ca = TestCa::new();
    let clock = std::sync::Arc::new(signet_log::FixedClock::new(1_750_000_000_123));
    let t = mem_log_with_clock(&test_config(), vec![ca.der.clone()], clock);
    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let pre = ca.precert(&leaf_key, EMAIL, ISSUER, 7, validity());
    let (s, b) = add_pre_chain(&t, &[&pre[..], &ca.der[..]]).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let resp: AddChainResponse = signet_proto::json::from_slice(&b).unwrap();
    let sct = Sct::from_add_chain_response(&resp).unwrap();
    assert_eq!(sct.timestamp, 1_750_000_000_123);
    assert_eq!(
        t.log.db().entry(0).unwrap().unwrap().integrated_time,
        1_750_000_000
    );
}

#[tokio::test]
async fn add_pre_chain_checks_chain_and_records_precert() {
    let ca = TestCa::new();
    let t = mem_log(&test_config(), vec![ca.der.clone()]);
    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let v = validity();
    let pre = ca.precert(&leaf_key, EMAIL, ISSUER, 42, v);
    for chain in [vec![&pre[..], &ca.der[..]], vec![&pre[..]]] {
        let (s, b) = add_pre_chain(&t, &chain).await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
        let resp: AddChainResponse = signet_proto::json::from_slice(&b).unwrap();
        let sct = Sct::from_add_chain_response(&resp).unwrap();
        let tbs = tbs_without_extensions(&pre, &[OID_PRECERT_POISON, OID_SCT_LIST]).unwrap();
        sct.verify_precert(
            t.keys.ct.public_key(),
            &issuer_key_hash(&spki_of(&ca.der)),
            &tbs,
        )
        .unwrap();
    }
    // Recorded once (the second submission is the same chain once the root is appended).
    assert_eq!(t.log.head().unwrap().size, 1);
    let (s, _, b) = call(&t.router, "GET", "/api/v1/log/entries?logIndex=0", None).await;
    assert_eq!(s, StatusCode::OK);
    let (uuid, e) = parse_entry(&b);
    check_entry(&t.keys, HOST, &uuid, &e);
    let body: serde_json::Value = signet_proto::json::from_slice(e.body.as_slice()).unwrap();
    assert_eq!(body["kind"], "precert");
    assert_eq!(body["spec"]["chain"][0], B64.encode(&pre));
    assert_eq!(body["spec"]["chain"][1], B64.encode(&ca.der));
    // Searchable by the certificate identity.
    let q = serde_json::json!({"email": "Alice@Example.com"});
    let (_, _, b) = call(
        &t.router,
        "POST",
        "/api/v1/index/retrieve",
        Some(serde_json::to_vec(&q).unwrap()),
    )
    .await;
    let found: Vec<String> = signet_proto::json::from_slice(&b).unwrap();
    assert_eq!(found, vec![uuid]);

    // Rejections: other CA, final certificate (no poison), bad base64, empty chain.
    let other = TestCa::new();
    let pre2 = other.precert(&leaf_key, EMAIL, ISSUER, 43, v);
    let (s, b) = add_pre_chain(&t, &[&pre2, &other.der]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        error_message(&b).1.contains("root"),
        "{}",
        error_message(&b).1
    );
    let (s, b) = add_pre_chain(&t, &[&pre, &other.der]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{}", error_message(&b).1);
    // Bytes after any certificate of the chain: refused, so that one precertificate cannot
    // be logged again and again with different junk.
    let size = t.log.head().unwrap().size;
    let mut pre_junk = pre.clone();
    pre_junk.extend_from_slice(b"junk");
    let mut root_junk = ca.der.clone();
    root_junk.push(0);
    for (chain, at) in [
        (
            [pre_junk.as_slice(), ca.der.as_slice()],
            "chain[0] has 4 bytes after the certificate",
        ),
        (
            [pre.as_slice(), root_junk.as_slice()],
            "chain[1] has 1 bytes after the certificate",
        ),
    ] {
        let (s, b) = add_pre_chain(&t, &chain).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{}", error_message(&b).1);
        assert!(error_message(&b).1.contains(at), "{}", error_message(&b).1);
    }
    assert_eq!(t.log.head().unwrap().size, size, "nothing stored");
    let (s, b) = add_pre_chain(&t, &[&ca.der]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        error_message(&b).1.contains("not a precertificate"),
        "{}",
        error_message(&b).1
    );
    let (s, _, b) = call(
        &t.router,
        "POST",
        "/ct/v1/add-pre-chain",
        Some(br#"{"chain":["%%%"]}"#.to_vec()),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_message(&b).1.contains("base64"));
    let (s, _, _) = call(
        &t.router,
        "POST",
        "/ct/v1/add-pre-chain",
        Some(br#"{"chain":[]}"#.to_vec()),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(t.log.head().unwrap().size, 1);
    let (s, _, b) = call(&t.router, "GET", "/ct/v1/get-roots", None).await;
    assert_eq!(s, StatusCode::OK);
    let roots: serde_json::Value = signet_proto::json::from_slice(&b).unwrap();
    assert_eq!(roots["certificates"][0], B64.encode(&ca.der));
}

#[tokio::test]
async fn sigstore_python_verifies_our_entry_and_sct() {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import sigstore"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "sigstore-python is not installed: run `pip install sigstore` (this acceptance test needs it)"
    );
    let ca = TestCa::new();
    let t = mem_log(&test_config(), vec![ca.der.clone()]);
    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let v = validity();
    let pre = ca.precert(&leaf_key, EMAIL, ISSUER, 7, v);
    let (s, b) = add_pre_chain(&t, &[&pre, &ca.der]).await;
    assert_eq!(s, StatusCode::OK);
    let sct = Sct::from_add_chain_response(&signet_proto::json::from_slice(&b).unwrap()).unwrap();
    let cert = ca.final_cert(
        &leaf_key,
        EMAIL,
        ISSUER,
        7,
        v,
        encode_sct_list_extension(&[sct]).unwrap(),
    );
    assert_eq!(
        tbs_without_extensions(&cert, &[OID_SCT_LIST]).unwrap(),
        tbs_without_extensions(&pre, &[OID_PRECERT_POISON]).unwrap()
    );
    let cert_pem = pem::encode_config(
        &pem::Pem::new("CERTIFICATE", cert.clone()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    );

    let artifact = b"hello from signet-log\n";
    let signer = EcdsaSigner::from_pkcs8_der(&leaf_key.serialize_der()).unwrap();
    let sig = signer.sign(artifact).unwrap();
    let digest = sha256(artifact);
    let entry = hashedrekord_raw(cert_pem.as_bytes(), &sig, &hex::encode(digest));
    let (s, _, b) = call(&t.router, "POST", "/api/v1/log/entries", Some(entry)).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let (uuid, e) = parse_entry(&b);
    check_entry(&t.keys, HOST, &uuid, &e);
    let p = e
        .verification
        .as_ref()
        .unwrap()
        .inclusion_proof
        .as_ref()
        .unwrap();
    let set = e
        .verification
        .as_ref()
        .unwrap()
        .signed_entry_timestamp
        .as_ref()
        .unwrap();

    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": B64.encode(&cert)},
            "tlogEntries": [{
                "logIndex": e.log_index.to_string(),
                "logId": {"keyId": B64.encode(e.log_id.as_slice())},
                "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                "integratedTime": e.integrated_time.to_string(),
                "inclusionPromise": {"signedEntryTimestamp": B64.encode(set.as_slice())},
                "inclusionProof": {
                    "logIndex": p.log_index.to_string(),
                    "rootHash": B64.encode(p.root_hash.as_slice()),
                    "treeSize": p.tree_size.to_string(),
                    "hashes": p.hashes.iter().map(|h| B64.encode(h.as_slice())).collect::<Vec<_>>(),
                    "checkpoint": {"envelope": p.checkpoint},
                },
                "canonicalizedBody": B64.encode(e.body.as_slice()),
            }],
            "timestampVerificationData": {},
        },
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(digest)},
            "signature": B64.encode(&sig),
        },
    });
    let key = |k: &signet_proto::keys::PublicKey| {
        serde_json::json!({
            "rawBytes": B64.encode(k.spki_der()),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": "2020-01-01T00:00:00Z"},
        })
    };
    let trusted_root = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": format!("http://{HOST}"),
            "hashAlgorithm": "SHA2_256",
            "publicKey": key(t.keys.log.public_key()),
            "logId": {"keyId": B64.encode(t.keys.log.public_key().key_id())},
        }],
        "certificateAuthorities": [{
            "subject": {"organization": "signet-test", "commonName": "signet-test-root"},
            "uri": "http://ca.test",
            "certChain": {"certificates": [{"rawBytes": B64.encode(&ca.der)}]},
            "validFor": {"start": "2020-01-01T00:00:00Z"},
        }],
        "ctlogs": [{
            "baseUrl": format!("http://{HOST}"),
            "hashAlgorithm": "SHA2_256",
            "publicKey": key(t.keys.ct.public_key()),
            "logId": {"keyId": B64.encode(t.keys.ct.public_key().key_id())},
        }],
        "timestampAuthorities": [],
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("artifact.txt"), artifact).unwrap();
    std::fs::write(
        dir.path().join("artifact.txt.sigstore.json"),
        serde_json::to_vec_pretty(&bundle).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("trusted_root.json"),
        serde_json::to_vec_pretty(&trusted_root).unwrap(),
    )
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sigstore_verify.py");
    let run = |identity: &str| {
        std::process::Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .args([identity, ISSUER])
            .output()
            .unwrap()
    };
    let out = run(EMAIL);
    assert!(
        out.status.success(),
        "sigstore-python rejected the bundle:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And it does check: the wrong identity is refused.
    assert!(!run("mallory@example.com").status.success());
    // A tampered SET is refused.
    let mut bad = bundle.clone();
    let mut set_bytes = set.as_slice().to_vec();
    let last = set_bytes.len() - 5;
    set_bytes[last] ^= 1;
    bad["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"] =
        B64.encode(&set_bytes).into();
    std::fs::write(
        dir.path().join("artifact.txt.sigstore.json"),
        serde_json::to_vec_pretty(&bad).unwrap(),
    )
    .unwrap();
    assert!(!run(EMAIL).status.success(), "tampered SET accepted");
}
