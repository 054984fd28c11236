//! Acceptance: a certificate issued by signet-ca (real OIDC token from oauth2-mock-server,
//! SCT from an in-process CT key listed in the trust root's `ctlogs`) inside a bundle built
//! here passes sigstore-python's offline verification (chain, SCT, identity, tlog).
//!
//! The tlog entry (hashedrekord 0.0.1, a one-leaf Merkle tree, checkpoint with a Rekor-style
//! ECDSA line, SET) is built in this test with aws-lc-rs, following
//! ../shared/peers/fake_sigstore.py; signet-log is not needed. A negative run (wrong
//! identity) checks that sigstore-python really verifies the identity.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use aws_lc_rs::digest;
use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::*;
use signet_ca::config::{CaConfig, IssuerType};
use signet_proto::keys::{EcdsaCurve, EcdsaSigner};

fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

#[tokio::test]
async fn sigstore_python_accepts_our_certificate() {
    let probe = Command::new("python3")
        .args(["-c", "import sigstore"])
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "sigstore-python is required for this test: pip install sigstore"
    );
    let idp = MockOidc::start("ES256");
    let ca = build_ca(
        CaConfig::with_issuers(vec![issuer(&idp.url, IssuerType::Email)]),
        None,
    );
    let email = "erin@example.com";
    let token = idp
        .token(&[
            ("sub", "erin"),
            ("email", email),
            ("email_verified", "true"),
            ("aud", "sigstore"),
        ])
        .await;
    let key = client_key();
    let r = sign_cert(&ca, &key_request(&token, &key, email)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let chain = chain_der(&r);
    // The same PEM text the CA returned (LF line endings, as Python's `cryptography` writes).
    let leaf_pem = r.json["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
        .as_str()
        .unwrap()
        .to_owned();

    // Artifact signature (ECDSA P-256 over SHA-256 of the artifact).
    let artifact = b"hello from signet-ca\n".to_vec();
    let artifact_digest = sha256(&artifact);
    let sig = key.sign(&artifact).unwrap();

    // Rekor v1 hashedrekord body, canonical JSON (sorted keys, compact).
    let body = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(&artifact_digest)}},
            "signature": {"content": B64.encode(&sig), "publicKey": {"content": B64.encode(leaf_pem.as_bytes())}},
        }
    });
    let body = serde_json::to_vec(&sort(&body)).unwrap();

    // One-leaf tree, checkpoint and SET signed by a fresh log key.
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let log = EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap();
    let log_id = log.public_key().key_id();
    let mut leaf_input = vec![0u8];
    leaf_input.extend_from_slice(&body);
    let root = sha256(&leaf_input);
    let origin = "127.0.0.1:3000 - 4242";
    let note_body = format!("{origin}\n1\n{}\n", B64.encode(&root));
    let mut hint_sig = log_id[..4].to_vec();
    hint_sig.extend_from_slice(&log.sign(note_body.as_bytes()).unwrap());
    let checkpoint = format!(
        "{note_body}\n\u{2014} 127.0.0.1:3000 {}\n",
        B64.encode(&hint_sig)
    );
    let integrated_time = now_secs() + 1;
    let set_payload = format!(
        r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":0}}"#,
        B64.encode(&body),
        integrated_time,
        hex::encode(log_id)
    );
    let set = log.sign(set_payload.as_bytes()).unwrap();

    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": B64.encode(&chain[0])},
            "tlogEntries": [{
                "logIndex": "0",
                "logId": {"keyId": B64.encode(log_id)},
                "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                "integratedTime": integrated_time.to_string(),
                "inclusionPromise": {"signedEntryTimestamp": B64.encode(&set)},
                "inclusionProof": {
                    "logIndex": "0",
                    "rootHash": B64.encode(&root),
                    "treeSize": "1",
                    "hashes": [],
                    "checkpoint": {"envelope": checkpoint},
                },
                "canonicalizedBody": B64.encode(&body),
            }],
            "timestampVerificationData": {},
        },
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(&artifact_digest)},
            "signature": B64.encode(&sig),
        }
    });
    let key_entry = |spki: &[u8], id: &[u8], url: &str| {
        serde_json::json!({
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": B64.encode(spki),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": "2020-01-01T00:00:00Z"},
            },
            "logId": {"keyId": B64.encode(id)},
        })
    };
    let trusted_root = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [key_entry(log.public_key().spki_der(), &log_id, "http://127.0.0.1:3000")],
        "certificateAuthorities": [{
            "subject": {"organization": "signet-test", "commonName": "signet"},
            "uri": "http://127.0.0.1:5555",
            "certChain": {"certificates": [
                {"rawBytes": B64.encode(&chain[1])},
                {"rawBytes": B64.encode(&chain[2])},
            ]},
            "validFor": {"start": "2020-01-01T00:00:00Z"},
        }],
        "ctlogs": [key_entry(
            ca.ct_key.public_key().spki_der(),
            &ca.ct_key.public_key().key_id(),
            "http://127.0.0.1:6962",
        )],
        "timestampAuthorities": [],
    });
    let trust_config = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": trusted_root,
        "signingConfig": {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json"},
    });
    let dir = tempfile::tempdir().unwrap();
    let art = dir.path().join("artifact.txt");
    std::fs::write(&art, &artifact).unwrap();
    let bundle_path = dir.path().join("artifact.txt.sigstore.json");
    std::fs::write(&bundle_path, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
    let tc = dir.path().join("trust_config.json");
    std::fs::write(&tc, serde_json::to_vec_pretty(&trust_config).unwrap()).unwrap();

    let run = |identity: &str| {
        Command::new("sigstore")
            .arg("--trust-config")
            .arg(&tc)
            .args(["verify", "identity", "--offline", "--bundle"])
            .arg(&bundle_path)
            .args(["--cert-identity", identity, "--cert-oidc-issuer", &idp.url])
            .arg(&art)
            .output()
            .expect("run sigstore")
    };
    let ok = run(email);
    assert!(
        ok.status.success(),
        "sigstore-python rejected the bundle:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    let wrong = run("mallory@example.com");
    assert!(!wrong.status.success(), "wrong identity must fail");
}

/// Recursively sorts object keys (canonical JSON for this ASCII-only body).
fn sort(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<_> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                out.insert(k.clone(), sort(&m[k]));
            }
            serde_json::Value::Object(out)
        }
        other => other.clone(),
    }
}
