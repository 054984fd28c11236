//! `signet verify-blob --key` over a bundle whose Rekor v1 entry is a P-384 hashedrekord over
//! the artifact's SHA-384 digest, what cosign's `--signing-algorithm ecdsa-sha2-384-nistp384`
//! logs (`signet sign-blob --key` itself signs with P-256 and RSA keys only, so the signature
//! is made by `openssl dgst -sha384`). The entry is posted to `signet serve`'s log, the bundle
//! is assembled from the log's answer (v0.3, `messageDigest` SHA2_384), and verify-blob
//! accepts it, and refuses another artifact and a bundle whose `messageDigest` is relabelled
//! SHA2_256.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};
use support::{openssl, run, signet, stack, text, Server};

fn b64_of_hex(h: &Value) -> String {
    B64.encode(hex::decode(h.as_str().unwrap()).unwrap())
}

/// A v0.3 keyed bundle from the log's answer to the entry's POST.
fn bundle(entry: &Value, digest: &[u8], signature: &[u8]) -> Value {
    let v = &entry["verification"];
    let p = &v["inclusionProof"];
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "publicKey": {"hint": ""},
            "tlogEntries": [{
                "logIndex": entry["logIndex"].as_u64().unwrap().to_string(),
                "logId": {"keyId": b64_of_hex(&entry["logID"])},
                "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                "integratedTime": entry["integratedTime"].as_u64().unwrap().to_string(),
                "inclusionPromise": {"signedEntryTimestamp": v["signedEntryTimestamp"]},
                "inclusionProof": {
                    "logIndex": p["logIndex"].as_u64().unwrap().to_string(),
                    "rootHash": b64_of_hex(&p["rootHash"]),
                    "treeSize": p["treeSize"].as_u64().unwrap().to_string(),
                    "hashes": p["hashes"].as_array().unwrap().iter().map(b64_of_hex).collect::<Vec<_>>(),
                    "checkpoint": {"envelope": p["checkpoint"]},
                },
                "canonicalizedBody": entry["body"],
            }],
        },
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_384", "digest": B64.encode(digest)},
            "signature": B64.encode(signature),
        },
    })
}

fn verify_blob(server: &Server, public: &Path, bundle: &Path, file: &Path) -> std::process::Output {
    run(signet()
        .arg("verify-blob")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--bundle")
        .arg(bundle)
        .arg("--key")
        .arg(public)
        .args(["--output", "json"])
        .arg(file))
}

#[test]
fn a_p384_sha384_hashedrekord_bundle_verifies_with_verify_blob() {
    let (_oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "key.pem",
        ],
    );
    openssl(d, &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"]);
    let artifact = d.join("artifact.txt");
    std::fs::write(&artifact, b"an artifact signed with P-384 over SHA-384\n").unwrap();
    let signature = openssl(d, &["dgst", "-sha384", "-sign", "key.pem", "artifact.txt"]);
    let digest = signet_proto::keys::HashAlgorithm::Sha384.hash(&std::fs::read(&artifact).unwrap());
    let public = std::fs::read(d.join("pub.pem")).unwrap();

    let proposed = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha384", "value": hex::encode(&digest)}},
            "signature": {"content": B64.encode(&signature), "publicKey": {"content": B64.encode(&public)}},
        },
    });
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/log/entries", server.url))
        .json(&proposed)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().unwrap_or_default());
    let answer: Value = r.json().unwrap();
    let entry = answer.as_object().unwrap().values().next().unwrap().clone();
    let body: Value =
        signet_proto::json::from_slice(&B64.decode(entry["body"].as_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(body["spec"]["data"]["hash"]["algorithm"], "sha384");

    let good = bundle(&entry, &digest, &signature);
    let bundle_path = d.join("artifact.txt.sigstore.json");
    std::fs::write(&bundle_path, serde_json::to_vec_pretty(&good).unwrap()).unwrap();
    let out = verify_blob(&server, &d.join("pub.pem"), &bundle_path, &artifact);
    assert!(out.status.success(), "{}", text(&out));

    // Another artifact: refused.
    let other = d.join("other.txt");
    std::fs::write(&other, b"another artifact\n").unwrap();
    let out = verify_blob(&server, &d.join("pub.pem"), &bundle_path, &other);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("digest"), "{}", text(&out));

    // The messageDigest relabelled SHA2_256 (with the SHA-256 digest): refused, naming both.
    let mut relabelled = good.clone();
    relabelled["messageSignature"]["messageDigest"] = json!({
        "algorithm": "SHA2_256",
        "digest": B64.encode(signet_proto::keys::HashAlgorithm::Sha256.hash(&std::fs::read(&artifact).unwrap())),
    });
    let relabelled_path = d.join("relabelled.sigstore.json");
    std::fs::write(&relabelled_path, serde_json::to_vec(&relabelled).unwrap()).unwrap();
    let out = verify_blob(&server, &d.join("pub.pem"), &relabelled_path, &artifact);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("SHA-384"),
        "the error names the entry's hash: {}",
        text(&out)
    );
}
