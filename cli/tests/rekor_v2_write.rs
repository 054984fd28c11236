//! The Rekor v2 log of `signet serve` (`<public_url>/rekor-v2`, rekor-tiles' write API and the
//! C2SP read API), judged by Sigstore's own clients:
//! * the API itself: a keyed `hashedRekordRequestV002` is answered 201 with a
//!   `TransparencyLogEntry` (hashedrekord 0.0.2, rekor-tiles' canonical body, an inclusion
//!   proof whose checkpoint covers the entry, no integrated time, no SET), readable back from
//!   the entry bundle tile; a repeat gets 409 with `x-log-index`; bad requests get 400 JSON
//!   and leave the tree as it was;
//! * `signet sign-blob` through a signing config preferring v2: the bundle verifies with
//!   `signet verify-blob`, sigstore-python and sigstore-js; without its timestamp it is refused;
//! * `signet audit` follows the v2 log (checkpoint against the v2 key, tiles against it);
//! * sigstore-python 4.5.1 (`sign --rekor-version 2`) and sigstore-js (`@sigstore/sign`
//!   through the signing config) sign against it with Signet's TSA; their bundles verify with
//!   all three; sigstore-js's DSSE request (`dsseRequestV002`) is refused with a message
//!   saying what to send instead;
//! * `signet attest` through a signing config preferring v2: the DSSE attestation about an
//!   image in a real registry is logged in the v2 log (a hashedrekord 0.0.2 over the DSSE
//!   pre-authentication encoding), `signet verify-attestation` accepts it with its statement,
//!   and sigstore-python verifies the same bundle for the manifest bytes.
//!
//! Tests fail when a tool is missing (node, `sigstore`, the npm packages).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::{json, Value};
use signet_proto::keys::{EcdsaCurve, EcdsaSigner};
use support::{require_tools, run, signet, text, Oidc, Server, TestRegistry};

const EMAIL: &str = "v2@example.com";
const PREFER_V2: &str = "\n[log]\nprefer_rekor_v2 = true\n";

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn read_json(path: &Path) -> Value {
    signet_proto::json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The v2 log's `tlogs[]` item of the published trusted root.
fn v2_tlog(server: &Server) -> Value {
    let root = read_json(&server.trusted_root());
    let tlogs = root["tlogs"].as_array().unwrap();
    assert_eq!(tlogs.len(), 2, "the v1 and v2 logs: {root}");
    let v2 = tlogs[1].clone();
    assert_eq!(v2["baseUrl"], format!("{}/rekor-v2", server.url));
    assert_eq!(v2["publicKey"]["keyDetails"], "PKIX_ED25519");
    v2
}

/// The v2 log's tree size, from its checkpoint (C2SP read API).
fn v2_size(server: &Server) -> u64 {
    let cp = reqwest::blocking::get(format!("{}/rekor-v2/checkpoint", server.url))
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .unwrap();
    cp.lines().nth(1).unwrap().parse().unwrap()
}

fn post(server: &Server, body: &[u8]) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .post(format!("{}/rekor-v2/api/v2/log/entries", server.url))
        .header("Content-Type", "application/json")
        .body(body.to_vec())
        .send()
        .unwrap()
}

/// A keyed request for `artifact`, signed by `key`, and its expected canonical body (RFC 8785,
/// written out here by hand).
fn keyed_request(key: &EcdsaSigner, artifact: &[u8]) -> (Value, String) {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, artifact);
    let sig = key.sign_digest(digest.as_ref()).unwrap();
    let spki = key.public_key().spki_der().to_vec();
    let req = json!({"hashedRekordRequestV002": {
        "digest": b64(digest.as_ref()),
        "signature": {"content": b64(&sig), "verifier": {
            "publicKey": {"rawBytes": b64(&spki)},
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        }},
    }});
    let body = format!(
        r#"{{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{{"hashedRekordV002":{{"data":{{"algorithm":"SHA2_256","digest":"{}"}},"signature":{{"content":"{}","verifier":{{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{{"rawBytes":"{}"}}}}}}}}}}}}"#,
        b64(digest.as_ref()),
        b64(&sig),
        b64(&spki)
    );
    (req, body)
}

#[test]
fn the_v2_write_api_answers_as_rekor_tiles_and_refuses_bad_requests() {
    let server = Server::start_with("https://issuer.invalid", PREFER_V2);
    let tlog = v2_tlog(&server);
    let key =
        EcdsaSigner::generate(EcdsaCurve::P256, &aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let (req, want_body) = keyed_request(&key, b"v2 artifact");
    let before = v2_size(&server);

    let resp = post(&server, &serde_json::to_vec(&req).unwrap());
    assert_eq!(resp.status(), 201);
    let tle: Value = resp.json().unwrap();
    assert_eq!(
        tle["kindVersion"],
        json!({"kind": "hashedrekord", "version": "0.0.2"})
    );
    assert_eq!(tle["logId"]["keyId"], tlog["logId"]["keyId"], "{tle}");
    assert!(tle.get("integratedTime").is_none(), "{tle}");
    assert!(tle.get("inclusionPromise").is_none(), "{tle}");
    let body = base64::engine::general_purpose::STANDARD
        .decode(tle["canonicalizedBody"].as_str().unwrap())
        .unwrap();
    assert_eq!(String::from_utf8(body.clone()).unwrap(), want_body);
    let index: u64 = tle["logIndex"].as_str().unwrap().parse().unwrap();
    assert_eq!(index, before);
    let proof = &tle["inclusionProof"];
    assert_eq!(proof["logIndex"], tle["logIndex"]);
    let size: u64 = proof["treeSize"].as_str().unwrap().parse().unwrap();
    assert!(size > index);
    let checkpoint = proof["checkpoint"]["envelope"].as_str().unwrap();
    let origin = server.url.strip_prefix("http://").unwrap().to_owned();
    assert!(
        checkpoint.starts_with(&format!(
            "{origin}\n{size}\n{}\n\n",
            proof["rootHash"].as_str().unwrap()
        )),
        "{checkpoint}"
    );
    // One signature line, by the log's name, whose key hint starts the log ID.
    let sigs: Vec<&str> = checkpoint
        .lines()
        .filter(|l| l.starts_with('\u{2014}'))
        .collect();
    assert_eq!(sigs.len(), 1, "{checkpoint}");
    let line: Vec<&str> = sigs[0].split(' ').collect();
    assert_eq!(line[1], origin);
    let sig = base64::engine::general_purpose::STANDARD
        .decode(line[2])
        .unwrap();
    let log_id = base64::engine::general_purpose::STANDARD
        .decode(tlog["logId"]["keyId"].as_str().unwrap())
        .unwrap();
    assert_eq!(sig[..4], log_id[..4]);

    // The entry bundle tile holds the same body (C2SP: 2-byte big-endian length, then data).
    let tile = reqwest::blocking::get(format!(
        "{}/rekor-v2/tile/entries/000.p/{}",
        server.url,
        index + 1
    ))
    .unwrap()
    .error_for_status()
    .unwrap()
    .bytes()
    .unwrap();
    assert!(
        tile.windows(body.len()).any(|w| w == body.as_slice()),
        "the entry bundle holds the body"
    );

    // The same request again: 409 naming the index, as rekor-tiles answers.
    let resp = post(&server, &serde_json::to_vec(&req).unwrap());
    assert_eq!(resp.status(), 409);
    assert_eq!(
        resp.headers()["x-log-index"].to_str().unwrap(),
        index.to_string()
    );
    let err: Value = resp.json().unwrap();
    assert_eq!(err["code"], 6);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains(&format!("with index {index}")),
        "{err}"
    );

    // Bad requests: 400, gRPC code 3, a message naming the problem, and nothing stored.
    let size_now = v2_size(&server);
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = keyed_request(&key, b"another artifact").0;
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let p384 =
        EcdsaSigner::generate(EcdsaCurve::P384, &aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let other_sig = b64(&p384.sign_digest(&[7u8; 48]).unwrap());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not JSON",
            b"{".to_vec(),
            "not a Rekor v2 CreateEntryRequest",
        ),
        ("empty object", b"{}".to_vec(), "no hashedRekordRequestV002"),
        (
            "dsse",
            br#"{"dsseRequestV002": {"envelope": {}, "verifiers": []}}"#.to_vec(),
            "dsseRequestV002 is not accepted",
        ),
        (
            "unknown field",
            edit(&|v| v["hashedRekordRequestV002"]["extra"] = json!(1)),
            "unknown field",
        ),
        (
            "wrong digest",
            edit(&|v| v["hashedRekordRequestV002"]["digest"] = json!(b64(&[1u8; 32]))),
            "signature does not verify",
        ),
        (
            "short digest",
            edit(&|v| v["hashedRekordRequestV002"]["digest"] = json!(b64(&[1u8; 20]))),
            "digest is 20 bytes",
        ),
        (
            "other signature",
            edit(&|v| v["hashedRekordRequestV002"]["signature"]["content"] = json!(other_sig)),
            "signature does not verify",
        ),
        (
            "key details of another key",
            edit(&|v| {
                v["hashedRekordRequestV002"]["signature"]["verifier"]["keyDetails"] =
                    json!("PKIX_ECDSA_P384_SHA_384");
            }),
            "digest is 32 bytes",
        ),
        (
            "unknown key details",
            edit(&|v| {
                v["hashedRekordRequestV002"]["signature"]["verifier"]["keyDetails"] =
                    json!("PKIX_ED25519");
            }),
            "keyDetails \"PKIX_ED25519\" is not accepted",
        ),
        (
            "no verifier key",
            edit(&|v| {
                v["hashedRekordRequestV002"]["signature"]["verifier"]
                    .as_object_mut()
                    .unwrap()
                    .remove("publicKey");
            }),
            "publicKey or x509Certificate is missing",
        ),
        (
            "two verifier keys",
            edit(&|v| {
                v["hashedRekordRequestV002"]["signature"]["verifier"]["x509Certificate"] =
                    json!({"rawBytes": "MIIB"});
            }),
            "both publicKey and x509Certificate",
        ),
        (
            "not a key",
            edit(&|v| {
                v["hashedRekordRequestV002"]["signature"]["verifier"]["publicKey"]["rawBytes"] =
                    json!("AAAA");
            }),
            "verifier:",
        ),
        (
            "no signature",
            edit(&|v| v["hashedRekordRequestV002"]["signature"]["content"] = json!("")),
            "signature.content is missing",
        ),
        (
            "not base64",
            edit(&|v| v["hashedRekordRequestV002"]["digest"] = json!("%%")),
            "digest is not base64",
        ),
    ];
    // A valid signature whose certificate makes the canonical entry larger than an entry bundle
    // can hold (u16 length prefix): refused before it reaches the log, like every other
    // client mistake, never a 500.
    let big_cert = {
        let pkcs8 = key.to_pkcs8_der().unwrap();
        let kp = rcgen::KeyPair::try_from(pkcs8.as_slice()).unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 99999, 1],
            vec![b'A'; 60_000],
        )];
        p.self_signed(&kp).unwrap().der().to_vec()
    };
    let compressed = {
        // SEC 1 compressed spelling of the same P-256 key: 0x02/0x03 by the parity of y.
        let spki = key.public_key().spki_der().to_vec();
        let point = &spki[spki.len() - 65..];
        let mut der = vec![
            0x30, 0x39, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x22, 0x00,
        ];
        der.push(0x02 | (point[64] & 1));
        der.extend_from_slice(&point[1..33]);
        der
    };
    let cases = cases.into_iter().chain([
        (
            "certificate too large for an entry",
            edit(&|v| {
                let verifier = &mut v["hashedRekordRequestV002"]["signature"]["verifier"];
                verifier.as_object_mut().unwrap().remove("publicKey");
                verifier["x509Certificate"] = json!({"rawBytes": b64(&big_cert)});
            }),
            "the limit is 65535",
        ),
        (
            // The message names the value, cut short: no megabyte echoed back.
            "very long key details",
            edit(&|v| {
                v["hashedRekordRequestV002"]["signature"]["verifier"]["keyDetails"] =
                    json!("A".repeat(100_000));
            }),
            "bytes cut)",
        ),
        (
            "compressed point",
            edit(&|v| {
                v["hashedRekordRequestV002"]["signature"]["verifier"]["publicKey"]["rawBytes"] =
                    json!(b64(&compressed));
            }),
            "not an uncompressed point",
        ),
    ]);
    for (what, body, want) in cases {
        let resp = post(&server, &body);
        assert_eq!(resp.status(), 400, "{what}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{what}"
        );
        let err: Value = resp.json().unwrap();
        assert_eq!(err["code"], 3, "{what}: {err}");
        assert!(
            err["message"].as_str().unwrap().len() < 1100,
            "{what}: a message of {} bytes",
            err["message"].as_str().unwrap().len()
        );
        assert!(
            err["message"].as_str().unwrap().contains(want),
            "{what}: {err}"
        );
        assert_eq!(v2_size(&server), size_now, "{what} stored nothing");
    }
    // A P-384 key with its own key details is accepted (the allowlist, not just P-256).
    let digest = [9u8; 48];
    let sig = p384.sign_digest(&digest).unwrap();
    let req = json!({"hashedRekordRequestV002": {
        "digest": b64(&digest),
        "signature": {"content": b64(&sig), "verifier": {
            "publicKey": {"rawBytes": b64(p384.public_key().spki_der())},
            "keyDetails": "PKIX_ECDSA_P384_SHA_384",
        }},
    }});
    let resp = post(&server, &serde_json::to_vec(&req).unwrap());
    assert_eq!(resp.status(), 201);
    let tle: Value = resp.json().unwrap();
    let body = base64::engine::general_purpose::STANDARD
        .decode(tle["canonicalizedBody"].as_str().unwrap())
        .unwrap();
    let body: Value = signet_proto::json::from_slice(&body).unwrap();
    assert_eq!(
        body["spec"]["hashedRekordV002"]["data"]["algorithm"],
        "SHA2_384"
    );
    assert_eq!(v2_size(&server), size_now + 1);
    // The v1 log is untouched by all this.
    assert_eq!(server.tree_size(), 0);
}

/// `signet verify-blob`, sigstore-python and sigstore-js on `bundle` over `file`.
fn verify_everywhere(server: &Server, oidc: &Oidc, file: &Path, bundle: &Path, who: &str) {
    let out = run(signet()
        .arg("verify-blob")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--bundle")
        .arg(bundle)
        .args(["--certificate-identity", EMAIL])
        .args(["--certificate-oidc-issuer", &oidc.url])
        .arg(file));
    assert!(
        out.status.success(),
        "{who}: signet verify-blob: {}",
        text(&out)
    );
    let out = run(Command::new("sigstore")
        .arg("--trust-config")
        .arg(server.trust_config())
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(bundle)
        .args(["--cert-identity", EMAIL, "--cert-oidc-issuer", &oidc.url])
        .arg(file));
    assert!(
        out.status.success(),
        "{who}: sigstore-python: {}",
        text(&out)
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../verifier/tests/js/verify.js");
    let out = run(Command::new("node")
        .arg(script)
        .arg(bundle)
        .arg(server.trusted_root())
        .arg(file)
        .arg(EMAIL)
        .arg(&oidc.url));
    assert!(out.status.success(), "{who}: sigstore-js: {}", text(&out));
}

/// The shape every v2 bundle has: one hashedrekord 0.0.2 entry of the v2 log, no SET, no
/// integrated time, one RFC 3161 timestamp.
fn check_v2_bundle(server: &Server, bundle: &Path, who: &str) {
    let b = read_json(bundle);
    let entry = &b["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(
        entry["kindVersion"],
        json!({"kind": "hashedrekord", "version": "0.0.2"}),
        "{who}: {b}"
    );
    assert_eq!(
        entry["logId"]["keyId"],
        v2_tlog(server)["logId"]["keyId"],
        "{who}"
    );
    assert!(entry.get("inclusionPromise").is_none(), "{who}: {b}");
    assert!(
        entry.get("integratedTime").is_none() || entry["integratedTime"] == "0",
        "{who}: {b}"
    );
    assert_eq!(
        b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{who}: {b}"
    );
}

fn artifact(dir: &Path) -> PathBuf {
    let file = dir.join("release.txt");
    std::fs::write(&file, b"a release signed into a Rekor v2 log\n").unwrap();
    file
}

#[test]
fn signet_signs_into_the_v2_log_and_every_client_verifies() {
    require_tools(&["sigstore", "node"]);
    let (oidc, server) = {
        let oidc = Oidc::start(&support::oidc_js_dir());
        let server = Server::start_with(&oidc.url, PREFER_V2);
        (oidc, server)
    };
    let dir = tempfile::tempdir().unwrap();
    let file = artifact(dir.path());
    let bundle = dir.path().join("signet.sigstore.json");
    let v2_before = v2_size(&server);
    let out = run(signet()
        .arg("sign-blob")
        .arg(&file)
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--identity-token", &oidc.token(EMAIL)])
        .arg("--bundle")
        .arg(&bundle));
    assert!(out.status.success(), "signet sign-blob: {}", text(&out));
    assert_eq!(v2_size(&server), v2_before + 1);
    check_v2_bundle(&server, &bundle, "signet sign-blob");
    verify_everywhere(&server, &oidc, &file, &bundle, "signet sign-blob");

    // The auditor follows the v2 log over the C2SP read API: its checkpoint verifies with the
    // trusted root's v2 key and the tiles recompute to the signed root.
    let out = run(signet()
        .arg("audit")
        .arg("--log")
        .arg(format!("{}/rekor-v2", server.url))
        .arg("--trusted-root")
        .arg(server.trusted_root()));
    assert!(
        out.status.success(),
        "signet audit of the v2 log: {}",
        text(&out)
    );

    // Without its timestamp the bundle has no signing time at all: refused.
    let mut b = read_json(&bundle);
    b["verificationMaterial"]
        .as_object_mut()
        .unwrap()
        .remove("timestampVerificationData");
    let stripped = dir.path().join("no-timestamp.sigstore.json");
    std::fs::write(&stripped, serde_json::to_vec(&b).unwrap()).unwrap();
    let out = run(signet()
        .arg("verify-blob")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--bundle")
        .arg(&stripped)
        .args(["--certificate-identity", EMAIL])
        .args(["--certificate-oidc-issuer", &oidc.url])
        .arg(&file));
    assert!(
        !out.status.success(),
        "a v2 bundle without timestamp: {}",
        text(&out)
    );
}

#[test]
fn sigstore_python_and_sigstore_js_sign_into_the_v2_log() {
    require_tools(&["sigstore", "node"]);
    let js = support::sigstore_sign_js_dir();
    let oidc = Oidc::start(&support::oidc_js_dir());
    let server = Server::start_with(&oidc.url, PREFER_V2);
    let dir = tempfile::tempdir().unwrap();
    let file = artifact(dir.path());
    let token = oidc.token(EMAIL);
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, &token).unwrap();

    // sigstore-python, v2 forced on the command line.
    let py = dir.path().join("python.sigstore.json");
    let out = run(Command::new("sigstore")
        .arg("--trust-config")
        .arg(server.trust_config())
        .args([
            "sign",
            "--rekor-version",
            "2",
            "--identity-token",
            &token,
            "--bundle",
        ])
        .arg(&py)
        .arg(&file));
    assert!(out.status.success(), "sigstore sign: {}", text(&out));
    check_v2_bundle(&server, &py, "sigstore-python");
    verify_everywhere(&server, &oidc, &file, &py, "sigstore-python");

    // sigstore-js, through the signing config (which lists v2 first).
    let js_bundle = dir.path().join("js.sigstore.json");
    let out = run(Command::new("node")
        .arg(js.join("sign_config.js"))
        .arg(server.signing_config())
        .arg(&token_file)
        .arg(&file)
        .arg("sign")
        .arg(&js_bundle)
        .current_dir(&js));
    assert!(out.status.success(), "sigstore-js sign: {}", text(&out));
    check_v2_bundle(&server, &js_bundle, "sigstore-js");
    verify_everywhere(&server, &oidc, &file, &js_bundle, "sigstore-js");

    // sigstore-js's DSSE request is refused with a message saying what to send instead, and
    // nothing is logged.
    let size = v2_size(&server);
    let statement = dir.path().join("statement.json");
    std::fs::write(
        &statement,
        serde_json::to_vec(&json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "release.txt", "digest": {"sha256": "00".repeat(32)}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {},
        }))
        .unwrap(),
    )
    .unwrap();
    let out = run(Command::new("node")
        .arg(js.join("sign_config.js"))
        .arg(server.signing_config())
        .arg(&token_file)
        .arg(&statement)
        .arg("attest")
        .arg(dir.path().join("js-attest.sigstore.json"))
        .current_dir(&js));
    assert!(!out.status.success(), "sigstore-js attest: {}", text(&out));
    assert!(
        text(&out).contains("dsseRequestV002 is not accepted"),
        "{}",
        text(&out)
    );
    assert_eq!(v2_size(&server), size);
}

#[test]
fn signet_attests_into_the_v2_log_and_the_attestation_verifies() {
    require_tools(&["docker-registry", "umoci", "skopeo", "sigstore", "node"]);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let server = Server::start_with(&oidc.url, PREFER_V2);
    let reg = TestRegistry::start();
    let digest = reg.push_image("built/app", "v1", "release 1");
    let image = format!("{}/built/app:v1", reg.addr);
    let dir = tempfile::tempdir().unwrap();
    let predicate = json!({
        "buildDefinition": {"buildType": "https://example.com/build/v1"},
        "runDetails": {"builder": {"id": "https://example.com/builder"}},
    });
    let predicate_file = dir.path().join("provenance.json");
    std::fs::write(&predicate_file, predicate.to_string()).unwrap();
    let bundle = dir.path().join("attestation.sigstore.json");
    let v2_before = v2_size(&server);
    let out = run(signet()
        .arg("attest")
        .arg(&image)
        .arg("--predicate")
        .arg(&predicate_file)
        .args(["--type", "slsaprovenance1", "--signing-config"])
        .arg(server.signing_config())
        .args(["--identity-token", &oidc.token(EMAIL), "--bundle"])
        .arg(&bundle));
    assert!(out.status.success(), "signet attest: {}", text(&out));
    assert_eq!(v2_size(&server), v2_before + 1, "one entry in the v2 log");
    check_v2_bundle(&server, &bundle, "signet attest");
    assert!(
        read_json(&bundle).get("dsseEnvelope").is_some(),
        "not a DSSE bundle"
    );

    let out = run(signet()
        .args(["verify-attestation", &image, "--type", "slsaprovenance1"])
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .args(["--certificate-identity", EMAIL])
        .args(["--certificate-oidc-issuer", &oidc.url, "--output", "json"]));
    assert!(out.status.success(), "verify-attestation: {}", text(&out));
    let j: Value = signet_proto::json::from_slice(&out.stdout).unwrap();
    let results = j["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{j}");
    assert_eq!(results[0]["statement"]["predicate"], predicate);
    assert_eq!(
        results[0]["statement"]["subject"][0]["digest"]["sha256"],
        digest.strip_prefix("sha256:").unwrap()
    );

    // sigstore-python: the same bundle, for the manifest bytes (the subject's digest).
    let raw = run(Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{image}")));
    assert!(raw.status.success(), "{}", text(&raw));
    let manifest = dir.path().join("manifest.json");
    std::fs::write(&manifest, &raw.stdout).unwrap();
    let out = run(Command::new("sigstore")
        .arg("--trust-config")
        .arg(server.trust_config())
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(&bundle)
        .args(["--cert-identity", EMAIL, "--cert-oidc-issuer", &oidc.url])
        .arg(&manifest));
    assert!(out.status.success(), "sigstore-python: {}", text(&out));
}
