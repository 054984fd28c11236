//! Existing Sigstore clients sign against Signet: sigstore-python (`sigstore sign`, `sigstore
//! attest`, configured only by the `trust_config.json` that `signet serve` writes) and
//! sigstore-js (npm `sigstore`, `cli/tests/js/sign.js`, given the server's URL as its Fulcio and
//! Rekor) get their certificate from Signet's Fulcio v2 API and record their entry in Signet's
//! Rekor v1 log, against a real OIDC issuer (oauth2-mock-server).
//!
//! Every bundle they write is then verified by `signet verify-blob`, by sigstore-python
//! (`sigstore verify identity --offline`) and by sigstore-js (`@sigstore/verify`,
//! `verifier/tests/js/verify.js`); each is also checked to be refused for another identity, so
//! the verifications are real. The log must have grown by the entries the clients made.
//!
//! What this found: sigstore-python sends the identity token only as `Authorization: Bearer`,
//! with no `credentials` in the body; the CA refused that with a 400 until it learned to read
//! the header, as Fulcio's HTTP gateway does.
//!
//! Tests fail when a tool is missing (node, `sigstore` on PATH, the npm packages).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::{require_tools, run, signet, stack, text, Oidc, Server};

const EMAIL: &str = "alice@example.com";

/// A finished bundle and what it should verify as.
struct Made {
    who: &'static str,
    bundle: PathBuf,
    /// `kind` of the tlog entry in the bundle.
    kind: &'static str,
    /// The bundle's `mediaType`.
    media_type: &'static str,
}

fn read_json(path: &Path) -> Value {
    signet_proto::json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// `signet verify-blob` of `bundle` over `file`, with `identity` (JSON output).
fn signet_verify(
    server: &Server,
    oidc: &Oidc,
    file: &Path,
    bundle: &Path,
    identity: &str,
) -> std::process::Output {
    run(signet()
        .arg("verify-blob")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--bundle")
        .arg(bundle)
        .args(["--certificate-identity", identity])
        .args(["--certificate-oidc-issuer", &oidc.url, "--output", "json"])
        .arg(file))
}

/// `sigstore verify identity --offline` (sigstore-python) of `bundle` over `file`.
fn python_verify(
    server: &Server,
    oidc: &Oidc,
    file: &Path,
    bundle: &Path,
    identity: &str,
) -> std::process::Output {
    run(Command::new("sigstore")
        .arg("--trust-config")
        .arg(server.trust_config())
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(bundle)
        .args(["--cert-identity", identity, "--cert-oidc-issuer", &oidc.url])
        .arg(file))
}

/// sigstore-js (`verifier/tests/js/verify.js`) of `bundle` over `file`.
fn js_verify(
    server: &Server,
    oidc: &Oidc,
    file: &Path,
    bundle: &Path,
    identity: &str,
) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../verifier/tests/js/verify.js");
    run(Command::new("node")
        .arg(script)
        .arg(bundle)
        .arg(server.trusted_root())
        .arg(file)
        .arg(identity)
        .arg(&oidc.url))
}

/// Every verifier accepts each bundle for `EMAIL` and refuses it for another identity; the
/// bundle has the expected shape.
fn check_all(server: &Server, oidc: &Oidc, file: &Path, made: &[Made]) {
    require_tools(&["sigstore"]);
    // js_verify runs verifier/tests/js/verify.js, which needs @sigstore/verify there.
    support::sigstore_js_dir();
    for m in made {
        let b = read_json(&m.bundle);
        assert_eq!(b["mediaType"], m.media_type, "{}: {b}", m.who);
        let entries = b["verificationMaterial"]["tlogEntries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{}", m.who);
        assert_eq!(entries[0]["kindVersion"]["kind"], m.kind, "{}", m.who);

        let out = signet_verify(server, oidc, file, &m.bundle, EMAIL);
        assert!(
            out.status.success(),
            "signet refused {}: {}",
            m.who,
            text(&out)
        );
        let v: Value = signet_proto::json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", m.who, text(&out)));
        assert!(
            v.to_string().contains(EMAIL),
            "{}: signer not reported: {v}",
            m.who
        );
        let out = signet_verify(server, oidc, file, &m.bundle, "mallory@example.com");
        assert!(
            !out.status.success(),
            "signet accepted {} for another identity",
            m.who
        );

        let out = python_verify(server, oidc, file, &m.bundle, EMAIL);
        assert!(
            out.status.success(),
            "sigstore-python refused {}: {}",
            m.who,
            text(&out)
        );
        let out = python_verify(server, oidc, file, &m.bundle, "mallory@example.com");
        assert!(
            !out.status.success(),
            "sigstore-python accepted {} for another identity",
            m.who
        );
        let out = js_verify(server, oidc, file, &m.bundle, EMAIL);
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).starts_with("OK"),
            "sigstore-js refused {}: {}",
            m.who,
            text(&out)
        );
        let out = js_verify(server, oidc, file, &m.bundle, "mallory@example.com");
        assert!(
            !out.status.success(),
            "sigstore-js accepted {} for another identity",
            m.who
        );
    }
}

/// An artifact and an in-toto statement about it (what `attest` signs for sigstore-js).
fn artifact(dir: &Path) -> (PathBuf, PathBuf) {
    let file = dir.join("artifact.txt");
    std::fs::write(&file, b"signed by a peer client\n").unwrap();
    let digest = hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        b"signed by a peer client\n",
    ));
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "artifact.txt", "digest": {"sha256": digest}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {"buildType": "https://example.com/build", "externalParameters": {}},
            "runDetails": {"builder": {"id": "https://example.com/builder"}}
        }
    });
    let stmt = dir.join("statement.json");
    std::fs::write(&stmt, serde_json::to_vec(&statement).unwrap()).unwrap();
    (file, stmt)
}

#[test]
fn sigstore_python_signs_and_attests_against_signet() {
    require_tools(&["sigstore"]);
    let (oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let (file, stmt) = artifact(dir.path());
    let predicate = dir.path().join("predicate.json");
    std::fs::write(
        &predicate,
        serde_json::to_vec(&read_json(&stmt)["predicate"]).unwrap(),
    )
    .unwrap();
    let token = oidc.token(EMAIL);
    let before = server.tree_size();

    let sig = dir.path().join("python.sigstore.json");
    let out = run(Command::new("sigstore")
        .arg("--trust-config")
        .arg(server.trust_config())
        .args(["sign", "--identity-token", &token, "--bundle"])
        .arg(&sig)
        .arg(&file));
    assert!(out.status.success(), "sigstore sign: {}", text(&out));

    let att = dir.path().join("python-attest.sigstore.json");
    let out = run(Command::new("sigstore")
        .arg("--trust-config")
        .arg(server.trust_config())
        .args(["attest", "--identity-token", &token])
        .args([
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
            "--predicate",
        ])
        .arg(&predicate)
        .arg("--bundle")
        .arg(&att)
        .arg(&file));
    assert!(out.status.success(), "sigstore attest: {}", text(&out));

    // Each signing records the precertificate and then the signature: four entries.
    assert_eq!(server.tree_size(), before + 4);
    check_all(
        &server,
        &oidc,
        &file,
        &[
            Made {
                who: "sigstore-python sign",
                bundle: sig,
                kind: "hashedrekord",
                media_type: "application/vnd.dev.sigstore.bundle.v0.3+json",
            },
            Made {
                who: "sigstore-python attest",
                bundle: att,
                kind: "dsse",
                media_type: "application/vnd.dev.sigstore.bundle.v0.3+json",
            },
        ],
    );
}

#[test]
fn sigstore_js_signs_and_attests_against_signet() {
    let js = support::sigstore_sign_js_dir();
    let (oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let (file, stmt) = artifact(dir.path());
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, oidc.token(EMAIL)).unwrap();
    let before = server.tree_size();

    let js_sign = |input: &Path, mode: &str, out: &Path, legacy: bool| {
        let mut cmd = Command::new("node");
        cmd.arg(js.join("sign.js"))
            .args([&server.url, &server.url])
            .arg(&token_file)
            .arg(input)
            .arg(mode)
            .arg(out);
        if legacy {
            cmd.arg("legacy");
        }
        let o = run(&mut cmd);
        assert!(
            o.status.success(),
            "sigstore-js {mode} (legacy {legacy}): {}",
            text(&o)
        );
    };
    let sig = dir.path().join("js.sigstore.json");
    js_sign(&file, "sign", &sig, false);
    let att = dir.path().join("js-attest.sigstore.json");
    js_sign(&stmt, "attest", &att, false);

    assert_eq!(server.tree_size(), before + 4);
    check_all(
        &server,
        &oidc,
        &file,
        &[
            Made {
                // sigstore-js 4 writes message signatures as bundle v0.2 with the whole chain.
                who: "sigstore-js sign",
                bundle: sig,
                kind: "hashedrekord",
                media_type: "application/vnd.dev.sigstore.bundle+json;version=0.2",
            },
            Made {
                who: "sigstore-js attest",
                bundle: att,
                kind: "dsse",
                media_type: "application/vnd.dev.sigstore.bundle.v0.3+json",
            },
        ],
    );
}

/// Issue 15 B, end to end: a DSSE signature carrying a `keyid`, signed with a certificate from
/// Signet's CA and logged as dsse 0.0.1 by Signet's log (RocksDB, `signet serve`). The log's
/// `envelopeHash` and the verifier's are one function (`signet_proto::rekor::
/// dsse_envelope_hash`), so `signet verify-blob` accepts the bundle (before, the log dropped
/// the keyid and the verifier kept it: the bundle never verified); sigstore-python and
/// sigstore-js still accept it.
#[test]
fn a_dsse_signature_with_a_keyid_verifies_everywhere() {
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    let (oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let (file, stmt) = artifact(dir.path());
    let client = reqwest::blocking::Client::new();

    // A certificate for a fresh key (proof of possession: a signature over the email).
    let key = signet_proto::keys::EcdsaSigner::generate(
        signet_proto::keys::EcdsaCurve::P256,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap();
    let request = serde_json::json!({
        "credentials": {"oidcIdentityToken": oidc.token(EMAIL)},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": B64.encode(key.sign(EMAIL.as_bytes()).unwrap()),
        },
    });
    let r = client
        .post(format!("{}/api/v2/signingCert", server.url))
        .json(&request)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "signingCert: {}", r.status());
    let answer: Value = r.json().unwrap();
    let leaf_pem = answer["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let leaf_der = pem::parse(&leaf_pem).unwrap().into_contents();

    // The envelope, its signature with a keyid, and its dsse entry.
    let payload = std::fs::read(&stmt).unwrap();
    let payload_type = "application/vnd.in-toto+json";
    let sig = key
        .sign(&signet_proto::bundle::pae(payload_type, &payload))
        .unwrap();
    let envelope = serde_json::json!({
        "payload": B64.encode(&payload),
        "payloadType": payload_type,
        "signatures": [{"keyid": "signet-test-key-1", "sig": B64.encode(&sig)}],
    });
    let entry = serde_json::json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {
        "proposedContent": {"envelope": envelope.to_string(),
            "verifiers": [B64.encode(leaf_pem.as_bytes())]}}});
    let r = client
        .post(format!("{}/api/v1/log/entries", server.url))
        .json(&entry)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "log: {}", r.text().unwrap());
    let logged: Value = r.json().unwrap();
    let (_, e) = logged.as_object().unwrap().iter().next().unwrap();
    let body: Value =
        signet_proto::json::from_slice(&B64.decode(e["body"].as_str().unwrap()).unwrap()).unwrap();
    let parsed: signet_proto::bundle::DsseEnvelope =
        serde_json::from_value(envelope.clone()).unwrap();
    assert_eq!(
        body["spec"]["envelopeHash"]["value"],
        hex::encode(signet_proto::rekor::dsse_envelope_hash(&parsed).unwrap()),
        "the log hashes the envelope with its keyid"
    );

    // The bundle (v0.3), as a client assembles it from the log's answer.
    let hex_to_b64 = |v: &Value| B64.encode(hex::decode(v.as_str().unwrap()).unwrap());
    let proof = &e["verification"]["inclusionProof"];
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": B64.encode(&leaf_der)},
            "tlogEntries": [{
                "logIndex": e["logIndex"].to_string(),
                "logId": {"keyId": hex_to_b64(&e["logID"])},
                "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                "integratedTime": e["integratedTime"].to_string(),
                "inclusionPromise": {"signedEntryTimestamp": e["verification"]["signedEntryTimestamp"]},
                "inclusionProof": {
                    "logIndex": proof["logIndex"].to_string(),
                    "rootHash": hex_to_b64(&proof["rootHash"]),
                    "treeSize": proof["treeSize"].to_string(),
                    "hashes": proof["hashes"].as_array().unwrap().iter().map(hex_to_b64).collect::<Vec<_>>(),
                    "checkpoint": {"envelope": proof["checkpoint"]},
                },
                "canonicalizedBody": e["body"],
            }],
        },
        "dsseEnvelope": envelope,
    });
    let path = dir.path().join("keyid.sigstore.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
    check_all(
        &server,
        &oidc,
        &file,
        &[Made {
            who: "a dsse signature with a keyid",
            bundle: path,
            kind: "dsse",
            media_type: "application/vnd.dev.sigstore.bundle.v0.3+json",
        }],
    );
}
