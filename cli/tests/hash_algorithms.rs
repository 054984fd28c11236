//! SHA-384 hashedrekord entries from P-384 keys, what cosign's `--signing-algorithm
//! ecdsa-sha2-384-nistp384` and sigstore-go log:
//! * `signet verify-blob --key` over a bundle whose Rekor v1 entry is a P-384 hashedrekord over
//!   the artifact's SHA-384 digest, signed by `openssl dgst -sha384` and posted to `signet
//!   serve`'s log by hand (the bundle assembled from the log's answer, v0.3, `messageDigest`
//!   SHA2_384): accepted, and another artifact and a `messageDigest` relabelled SHA2_256 are
//!   refused;
//! * `signet sign-blob --key` with an openssl-made P-384 key (plain and encrypted PKCS#8)
//!   signs the SHA-384 digest: the entry says `sha384`, the bundle `SHA2_384`, verify-blob
//!   accepts it and `openssl dgst -sha384 -verify` the signature; into a Rekor v2 log the
//!   request's key details are `PKIX_ECDSA_P384_SHA_384` over the SHA-384 digest;
//! * with an image in a real registry, `signet sign --key` refuses the P-384 key naming the
//!   keys that sign images, logging nothing, and `signet attest --key` signs the DSSE envelope
//!   with it (SHA-384 over the PAE), which `verify-attestation --key` accepts, with a Rekor v1
//!   log (a dsse entry) and a Rekor v2 log (a hashedrekord 0.0.2 over the PAE's SHA-384 with
//!   `PKIX_ECDSA_P384_SHA_384`).
//!
//! Fails when a tool (node with oauth2-mock-server, openssl, docker-registry, umoci, skopeo)
//! is missing.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Stdio;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};
use support::{
    json_out, openssl, require_tools, run, signet, stack, text, Oidc, Server, TestRegistry,
};

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

/// A P-384 key pair made by openssl in `dir`: `p384.pem` (plain PKCS#8), `p384-enc.pem`
/// (PKCS#8 encrypted under `s3cret`, PBES2 AES-256-CBC) and `p384.pub`.
fn p384_key(dir: &Path) {
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "p384.pem",
        ],
    );
    openssl(
        dir,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "p384.pem",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:s3cret",
            "-out",
            "p384-enc.pem",
        ],
    );
    openssl(
        dir,
        &["pkey", "-in", "p384.pem", "-pubout", "-out", "p384.pub"],
    );
}

/// `signet sign-blob --key KEY` against `server`, with `SIGNET_PASSWORD=s3cret`.
fn sign_blob(server: &Server, key: &Path, file: &Path, bundle: &Path) -> std::process::Output {
    run(signet()
        .env_remove("COSIGN_PASSWORD")
        .env("SIGNET_PASSWORD", "s3cret")
        .stdin(Stdio::null())
        .arg("sign-blob")
        .arg("--signing-config")
        .arg(server.signing_config())
        .arg("--key")
        .arg(key)
        .arg("--bundle")
        .arg(bundle)
        .args(["--output", "json"])
        .arg(file))
}

fn read_json(path: &Path) -> Value {
    signet_proto::json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The bundle's one tlog entry's body, parsed.
fn entry_body(bundle: &Value) -> Value {
    let body = bundle["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
        .as_str()
        .unwrap();
    signet_proto::json::from_slice(&B64.decode(body).unwrap()).unwrap()
}

/// The bundle's message signature, decoded.
fn message_signature(bundle: &Value) -> (String, Vec<u8>, Vec<u8>) {
    let m = &bundle["messageSignature"];
    (
        m["messageDigest"]["algorithm"].as_str().unwrap().to_owned(),
        B64.decode(m["messageDigest"]["digest"].as_str().unwrap())
            .unwrap(),
        B64.decode(m["signature"].as_str().unwrap()).unwrap(),
    )
}

fn log_size(server: &Server) -> u64 {
    let v: Value = reqwest::blocking::get(format!("{}/api/v1/log", server.url))
        .unwrap()
        .json()
        .unwrap();
    v["treeSize"].as_u64().unwrap()
}

#[test]
fn sign_blob_signs_sha384_digests_with_a_p384_key() {
    let (_oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    p384_key(d);
    let artifact = d.join("artifact.txt");
    std::fs::write(&artifact, b"an artifact signet signs with P-384\n").unwrap();
    let sha384 = signet_proto::keys::HashAlgorithm::Sha384.hash(&std::fs::read(&artifact).unwrap());

    for key in ["p384.pem", "p384-enc.pem"] {
        let bundle_path = d.join(format!("{key}.sigstore.json"));
        let out = sign_blob(&server, &d.join(key), &artifact, &bundle_path);
        assert!(out.status.success(), "{key}: {}", text(&out));
        assert_eq!(json_out(&out)["signer"]["mode"], "keyed");
        let bundle = read_json(&bundle_path);
        let body = entry_body(&bundle);
        assert_eq!(body["kind"], "hashedrekord", "{key}");
        assert_eq!(body["spec"]["data"]["hash"]["algorithm"], "sha384", "{key}");
        assert_eq!(
            body["spec"]["data"]["hash"]["value"],
            hex::encode(&sha384),
            "{key}"
        );
        let (algorithm, digest, signature) = message_signature(&bundle);
        assert_eq!(algorithm, "SHA2_384", "{key}");
        assert_eq!(digest, sha384, "{key}");

        let out = verify_blob(&server, &d.join("p384.pub"), &bundle_path, &artifact);
        assert!(out.status.success(), "{key}: {}", text(&out));

        // openssl checks the signature on its own: ECDSA P-384 over the artifact's SHA-384.
        std::fs::write(d.join("sig.der"), &signature).unwrap();
        let ok = openssl(
            d,
            &[
                "dgst",
                "-sha384",
                "-verify",
                "p384.pub",
                "-signature",
                "sig.der",
                "artifact.txt",
            ],
        );
        assert!(
            String::from_utf8_lossy(&ok).contains("Verified OK"),
            "{key}"
        );

        // Another artifact: refused.
        let other = d.join("other.txt");
        std::fs::write(&other, b"another artifact\n").unwrap();
        let out = verify_blob(&server, &d.join("p384.pub"), &bundle_path, &other);
        assert!(!out.status.success(), "{key}: {}", text(&out));
    }
}

#[test]
fn sign_blob_with_a_p384_key_into_a_rekor_v2_log() {
    let oidc = Oidc::start(&support::oidc_js_dir());
    let server = Server::start_with(&oidc.url, "\n[log]\nprefer_rekor_v2 = true\n");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    p384_key(d);
    let artifact = d.join("artifact.txt");
    std::fs::write(&artifact, b"an artifact signed with P-384 into Rekor v2\n").unwrap();
    let sha384 = signet_proto::keys::HashAlgorithm::Sha384.hash(&std::fs::read(&artifact).unwrap());
    let bundle_path = d.join("artifact.txt.sigstore.json");
    let out = sign_blob(&server, &d.join("p384.pem"), &artifact, &bundle_path);
    assert!(out.status.success(), "{}", text(&out));
    let bundle = read_json(&bundle_path);
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["version"], "0.0.2", "{bundle}");
    let spec = &entry_body(&bundle)["spec"]["hashedRekordV002"];
    assert_eq!(spec["data"]["algorithm"], "SHA2_384", "{spec}");
    assert_eq!(spec["data"]["digest"], B64.encode(&sha384), "{spec}");
    assert_eq!(
        spec["signature"]["verifier"]["keyDetails"], "PKIX_ECDSA_P384_SHA_384",
        "{spec}"
    );
    let (algorithm, digest, _) = message_signature(&bundle);
    assert_eq!((algorithm.as_str(), digest), ("SHA2_384", sha384));
    let out = verify_blob(&server, &d.join("p384.pub"), &bundle_path, &artifact);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_p384_key_attests_images_and_is_refused_for_image_signatures() {
    require_tools(&["docker-registry", "umoci", "skopeo"]);
    let (_oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    p384_key(d);
    let reg = TestRegistry::start();
    let digest = reg.push_image("demo/p384", "v1", "attested with P-384");
    let image = format!("{}/demo/p384@{digest}", reg.addr);

    // An image signature signs the manifest's sha256 digest: refused, nothing logged.
    let before = log_size(&server);
    let out = run(signet()
        .stdin(Stdio::null())
        .arg("sign")
        .arg("--signing-config")
        .arg(server.signing_config())
        .arg("--key")
        .arg(d.join("p384.pem"))
        .args(["--output", "json", &image]));
    assert!(!out.status.success(), "{}", text(&out));
    for want in ["P-384", "P-256", "signet attest"] {
        assert!(text(&out).contains(want), "want {want:?}: {}", text(&out));
    }
    assert_eq!(log_size(&server), before);

    // An attestation signs the DSSE envelope with SHA-384, and verifies with the public key.
    let (bundle, _) = attest_and_verify(&server, d, &image);
    assert_eq!(entry_body(&bundle)["kind"], "dsse");
}

/// `signet attest --key p384.pem` about `image`: the envelope's signature is ECDSA P-384 over
/// the SHA-384 of its PAE, and `verify-attestation --key p384.pub` accepts it; returns the
/// bundle and the PAE.
fn attest_and_verify(server: &Server, d: &Path, image: &str) -> (Value, Vec<u8>) {
    let predicate = d.join("predicate.json");
    std::fs::write(&predicate, r#"{"builder":"p384-test"}"#).unwrap();
    let bundle_path = d.join("attestation.sigstore.json");
    let out = run(signet()
        .stdin(Stdio::null())
        .arg("attest")
        .arg("--signing-config")
        .arg(server.signing_config())
        .arg("--key")
        .arg(d.join("p384.pem"))
        .arg("--predicate")
        .arg(&predicate)
        .arg("--bundle")
        .arg(&bundle_path)
        .args(["--output", "json", image]));
    assert!(out.status.success(), "{}", text(&out));
    let bundle = read_json(&bundle_path);
    let envelope = &bundle["dsseEnvelope"];
    let payload = B64.decode(envelope["payload"].as_str().unwrap()).unwrap();
    let sig = B64
        .decode(envelope["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    let pae = signet_proto::bundle::pae(envelope["payloadType"].as_str().unwrap(), &payload);
    let public = signet_proto::keys::PublicKey::from_pem(
        &std::fs::read_to_string(d.join("p384.pub")).unwrap(),
    )
    .unwrap();
    public
        .verify_prehashed_with(
            signet_proto::keys::HashAlgorithm::Sha384,
            &signet_proto::keys::HashAlgorithm::Sha384.hash(&pae),
            &sig,
        )
        .unwrap();
    let out = run(signet()
        .arg("verify-attestation")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--key")
        .arg(d.join("p384.pub"))
        .args(["--output", "json", image]));
    assert!(out.status.success(), "{}", text(&out));
    (bundle, pae)
}

#[test]
fn a_p384_key_attests_into_a_rekor_v2_log() {
    require_tools(&["docker-registry", "umoci", "skopeo"]);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let server = Server::start_with(&oidc.url, "\n[log]\nprefer_rekor_v2 = true\n");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    p384_key(d);
    let reg = TestRegistry::start();
    let digest = reg.push_image("demo/p384v2", "v1", "attested with P-384 into Rekor v2");
    let image = format!("{}/demo/p384v2@{digest}", reg.addr);
    let (bundle, pae) = attest_and_verify(&server, d, &image);
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["version"], "0.0.2", "{bundle}");
    let spec = &entry_body(&bundle)["spec"]["hashedRekordV002"];
    assert_eq!(spec["data"]["algorithm"], "SHA2_384", "{spec}");
    assert_eq!(
        spec["data"]["digest"],
        B64.encode(signet_proto::keys::HashAlgorithm::Sha384.hash(&pae)),
        "{spec}"
    );
    assert_eq!(
        spec["signature"]["verifier"]["keyDetails"], "PKIX_ECDSA_P384_SHA_384",
        "{spec}"
    );
}
