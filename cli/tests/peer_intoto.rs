//! sigstore-js with `legacyCompatibility` (the mode `npm publish --provenance` used) records
//! DSSE attestations as Rekor `intoto` 0.0.2 entries. Against `signet serve` and a real OIDC
//! issuer (oauth2-mock-server), `cli/tests/js/sign.js attest ... legacy` must get its entry
//! logged, and the bundle it writes (v0.2, the whole chain) must verify with `signet
//! verify-blob` and with sigstore-js (`@sigstore/verify`, `verifier/tests/js/verify.js`).
//!
//! sigstore-python 4.5.1 refuses every `intoto` entry by design ("Integrated time only
//! supported for dsse/hashedrekord 0.0.1 types", and `verify_dsse` accepts only dsse 0.0.1 and
//! hashedrekord 0.0.2); the test asserts exactly that refusal, so a sigstore-python that learns
//! the kind shows up here.
//!
//! Refusals checked with real bundles: another identity, a changed payload (signature), a
//! changed entry body (SET), and a bundle whose envelope and certificate come from one
//! attestation and whose tlog entry comes from another attestation of the same statement:
//! every signature and proof holds, only the entry body disagrees with the envelope.
//!
//! Fails when node, the npm packages or `sigstore` are missing.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};
use support::{require_tools, run, signet, stack, text, Oidc, Server};

const EMAIL: &str = "alice@example.com";

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref())
}

fn read_json(path: &Path) -> Value {
    signet_proto::json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// `node sign.js URL URL TOKEN STATEMENT attest OUT legacy` in `cli/tests/js`.
fn js_attest_legacy(js_dir: &Path, server: &Server, token: &Path, statement: &Path, out: &Path) {
    let o = run(Command::new("node")
        .current_dir(js_dir)
        .arg("sign.js")
        .args([&server.url, &server.url])
        .arg(token)
        .arg(statement)
        .arg("attest")
        .arg(out)
        .arg("legacy"));
    assert!(
        o.status.success(),
        "sigstore-js attest failed: {}",
        text(&o)
    );
}

/// `signet verify-blob` of `bundle` over `file` for `identity` (JSON output).
fn signet_verify(
    server: &Server,
    oidc: &Oidc,
    file: &Path,
    bundle: &Path,
    identity: &str,
) -> Output {
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

/// sigstore-js (`verifier/tests/js/verify.js`) of `bundle` over `file`.
fn js_verify(server: &Server, oidc: &Oidc, file: &Path, bundle: &Path, identity: &str) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../verifier/tests/js/verify.js");
    run(Command::new("node")
        .arg(script)
        .arg(bundle)
        .arg(server.trusted_root())
        .arg(file)
        .arg(identity)
        .arg(&oidc.url))
}

/// `sigstore verify identity --offline` (sigstore-python) of `bundle` over `file`.
fn python_verify(server: &Server, oidc: &Oidc, file: &Path, bundle: &Path) -> Output {
    run(Command::new("sigstore")
        .env("COLUMNS", "400")
        .arg("--trust-config")
        .arg(server.trust_config())
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(bundle)
        .args(["--cert-identity", EMAIL, "--cert-oidc-issuer", &oidc.url])
        .arg(file))
}

/// The decoded `canonicalizedBody` of the bundle's one tlog entry.
fn entry_body(bundle: &Value) -> Value {
    let b64 = bundle["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
        .as_str()
        .unwrap();
    signet_proto::json::from_slice(&B64.decode(b64).unwrap()).unwrap()
}

/// Asserts signet refuses `bundle` and names `why` in its output.
fn signet_refuses(server: &Server, oidc: &Oidc, file: &Path, bundle: &Path, why: &str) {
    let out = signet_verify(server, oidc, file, bundle, EMAIL);
    assert!(!out.status.success(), "signet accepted {why}");
    assert!(
        text(&out).contains(why),
        "refusal does not name {why:?}: {}",
        text(&out)
    );
}

fn write_json(path: PathBuf, v: &Value) -> PathBuf {
    std::fs::write(&path, serde_json::to_vec(v).unwrap()).unwrap();
    path
}

#[test]
fn sigstore_js_legacy_attestations_are_logged_as_intoto_and_verified() {
    require_tools(&["sigstore"]);
    let js_sign = support::sigstore_sign_js_dir();
    // js_verify runs verifier/tests/js/verify.js, which needs @sigstore/verify there.
    support::sigstore_js_dir();
    let (oidc, server) = stack();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pkg.tgz");
    std::fs::write(&file, b"the package bytes\n").unwrap();
    let statement = serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "pkg.tgz", "digest": {"sha256": sha256_hex(&std::fs::read(&file).unwrap())}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"buildType": "https://example.com/t"}}
    }))
    .unwrap();
    let stmt_path = dir.path().join("statement.json");
    std::fs::write(&stmt_path, &statement).unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, oidc.token(EMAIL)).unwrap();

    let first = dir.path().join("first.sigstore.json");
    js_attest_legacy(&js_sign, &server, &token, &stmt_path, &first);
    let bundle = read_json(&first);

    // The bundle: v0.2 (legacy), an intoto 0.0.2 entry whose stored body has no payload, the
    // computed payload hash, and sig/publicKey in Rekor's double encodings.
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle+json;version=0.2"
    );
    let tlog = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(
        tlog["kindVersion"],
        json!({"kind": "intoto", "version": "0.0.2"})
    );
    let body = entry_body(&bundle);
    assert_eq!(body["kind"], "intoto");
    assert_eq!(body["apiVersion"], "0.0.2");
    let content = &body["spec"]["content"];
    assert!(content["envelope"].get("payload").is_none(), "{body}");
    assert_eq!(content["payloadHash"]["value"], sha256_hex(&statement));
    let env_sig = bundle["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap();
    let body_sig = content["envelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap();
    assert_eq!(B64.decode(body_sig).unwrap(), env_sig.as_bytes());
    let leaf = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"][0]
        ["rawBytes"]
        .as_str()
        .unwrap();
    let body_key = String::from_utf8(
        B64.decode(
            content["envelope"]["signatures"][0]["publicKey"]
                .as_str()
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(
        body_key.starts_with("-----BEGIN CERTIFICATE-----"),
        "{body_key}"
    );
    assert_eq!(
        pem::parse(&body_key).unwrap().contents(),
        B64.decode(leaf).unwrap().as_slice()
    );

    // The log serves the same body at that index and finds it by the subject digest.
    let index = tlog["logIndex"].as_str().unwrap();
    let served: Value = reqwest::blocking::get(format!(
        "{}/api/v1/log/entries?logIndex={index}",
        server.url
    ))
    .unwrap()
    .error_for_status()
    .unwrap()
    .json()
    .unwrap();
    let (uuid, e) = served.as_object().unwrap().iter().next().unwrap();
    assert_eq!(e["body"], tlog["canonicalizedBody"]);
    let found: Vec<String> = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/index/retrieve", server.url))
        .json(&json!({"hash": format!("sha256:{}", sha256_hex(&std::fs::read(&file).unwrap()))}))
        .send()
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .unwrap();
    assert!(found.contains(uuid), "{found:?} lacks {uuid}");

    // signet verifies it (and reports the signer and the statement), not for someone else.
    let out = signet_verify(&server, &oidc, &file, &first, EMAIL);
    assert!(out.status.success(), "signet refused: {}", text(&out));
    let v: Value = signet_proto::json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["results"][0]["identity"], EMAIL, "{v}");
    assert_eq!(
        v["results"][0]["statement"]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    let out = signet_verify(&server, &oidc, &file, &first, "mallory@example.com");
    assert!(!out.status.success(), "signet accepted another identity");

    let out = js_verify(&server, &oidc, &file, &first, EMAIL);
    assert!(out.status.success(), "sigstore-js refused: {}", text(&out));
    let out = js_verify(&server, &oidc, &file, &first, "mallory@example.com");
    assert!(
        !out.status.success(),
        "sigstore-js accepted another identity"
    );
    let out = python_verify(&server, &oidc, &file, &first);
    let t = text(&out);
    assert!(
        !out.status.success(),
        "sigstore-python accepted intoto 0.0.2 now: {t}"
    );
    let flat = t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Integrated time only supported for")
            && flat.contains("dsse/hashedrekord 0.0.1"),
        "sigstore-python refused intoto 0.0.2 for another reason: {t}"
    );

    // Tampered bundles.
    // 1. Another payload: the envelope signature no longer verifies.
    let mut t1 = bundle.clone();
    let other_statement = String::from_utf8(statement.clone())
        .unwrap()
        .replace("example.com/t", "example.com/u");
    t1["dsseEnvelope"]["payload"] = B64.encode(&other_statement).into();
    let t1 = write_json(dir.path().join("t1.json"), &t1);
    signet_refuses(&server, &oidc, &file, &t1, "DSSE envelope (PAE)");

    // 2. Another entry body (payloadHash of the other payload): the SET no longer covers it.
    let mut t2 = bundle.clone();
    let mut body2 = body.clone();
    body2["spec"]["content"]["payloadHash"]["value"] =
        sha256_hex(other_statement.as_bytes()).into();
    t2["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"] =
        B64.encode(serde_json::to_vec(&body2).unwrap()).into();
    let t2 = write_json(dir.path().join("t2.json"), &t2);
    signet_refuses(
        &server,
        &oidc,
        &file,
        &t2,
        "signed entry timestamp (SET): does not verify",
    );

    // 3. The envelope and certificate of this attestation with the (genuine, logged) entry of
    //    a second attestation of the same statement: only the body check can catch it.
    let second = dir.path().join("second.sigstore.json");
    js_attest_legacy(&js_sign, &server, &token, &stmt_path, &second);
    let second = read_json(&second);
    let mut t3 = bundle.clone();
    t3["verificationMaterial"]["tlogEntries"] =
        second["verificationMaterial"]["tlogEntries"].clone();
    let t3 = write_json(dir.path().join("t3.json"), &t3);
    signet_refuses(
        &server,
        &oidc,
        &file,
        &t3,
        "entry body spec.content.envelope.signatures[0].sig does not match the bundle",
    );
    // sigstore-js refuses it too ("tlog entry signature mismatch").
    let out = js_verify(&server, &oidc, &file, &t3, EMAIL);
    assert!(
        !out.status.success(),
        "sigstore-js accepted the swapped entry"
    );
    assert!(text(&out).contains("signature mismatch"), "{}", text(&out));
    // The second bundle itself is fine.
    let second_path = write_json(dir.path().join("second2.json"), &second);
    let out = signet_verify(&server, &oidc, &file, &second_path, EMAIL);
    assert!(
        out.status.success(),
        "signet refused the second bundle: {}",
        text(&out)
    );
}
