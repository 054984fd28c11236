//! The log explorer in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, driven by Selenium from PyPI with the installed driver) against a running
//! `signet serve` holding entries from `signet sign-blob`, sigstore-python and a keyed
//! hashedrekord. `cli/tests/browser/explorer.py` searches by every key, opens an entry and
//! waits for the proof to be verified in the browser, checks the checkpoint view, the activity
//! chart and the identity links, a phone-sized screen, keyboard-only use, axe-core's WCAG 2.1
//! AA rules on every view, and that a proof or checkpoint tampered by a proxy shows a failure.
//!
//! Also here: the explorer's JSON API answers bad input with 4xx JSON, and its page carries a
//! content security policy that forbids loading anything from elsewhere.
//!
//! A missing tool (chromium, chromedriver, selenium, axe-core, sigstore) fails the test.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::tlog::{add_entry, add_hashedrekord, new_key};
use support::{json_out, require_tools, run, signet, stack, text, Server};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const CAROL: &str = "carol@example.com";
const SLSA: &str = "https://slsa.dev/provenance/v1";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn sign_blob(server: &Server, token: &str, file: &Path) -> Value {
    let out = run(signet()
        .arg("sign-blob")
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--identity-token", token, "--output", "json"])
        .arg(file));
    assert!(out.status.success(), "sign-blob: {}", text(&out));
    json_out(&out)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

fn get_json(url: &str) -> (u16, Value) {
    let r = reqwest::blocking::get(url).unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

const WORKFLOW: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";

/// The claims of [`ci_entry`]'s certificate: (Fulcio OID arc, value).
const CI_CLAIMS: &[(&str, &str)] = &[
    ("8", "https://token.actions.githubusercontent.com"),
    ("11", "github-hosted"),
    ("12", "https://github.com/acme/app"),
    ("13", "8f2d1c0a9b7e6d5c4b3a29180f7e6d5c4b3a2918"),
    ("14", "refs/heads/main"),
    (
        "18",
        "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
    ),
    ("20", "push"),
    (
        "21",
        "https://github.com/acme/app/actions/runs/42/attempts/1",
    ),
];

/// A hashedrekord over `artifact` signed with a key whose certificate (self-signed: the log
/// does not check chains) names [`WORKFLOW`] and carries [`CI_CLAIMS`].
fn ci_entry(artifact: &str) -> Vec<u8> {
    use base64::Engine as _;
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.subject_alt_names = vec![rcgen::SanType::URI(WORKFLOW.try_into().unwrap())];
    p.custom_extensions = CI_CLAIMS
        .iter()
        .map(|(arc, value)| {
            let oid = format!("1.3.6.1.4.1.57264.1.{arc}");
            let arcs: Vec<u64> = oid.split('.').map(|a| a.parse().unwrap()).collect();
            let der = signet_proto::cert::encode_extension_value(&oid, value).unwrap();
            rcgen::CustomExtension::from_oid_content(&arcs, der)
        })
        .collect();
    let cert = p.self_signed(&kp).unwrap();
    let key = signet_proto::keys::EcdsaSigner::from_pkcs8_der(&kp.serialize_der()).unwrap();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, artifact.as_bytes());
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
        hex::encode(digest.as_ref()),
        b64.encode(key.sign_digest(digest.as_ref()).unwrap()),
        b64.encode(cert.pem())
    )
    .into_bytes()
}

/// Index of the `kind` entry whose artifact digest is `digest`.
fn index_of_digest(server: &Server, digest: &str, kind: &str) -> u64 {
    let (status, v) = get_json(&format!(
        "{}/signet/v1/explorer/search?kind=digest&q=sha256:{digest}",
        server.url
    ));
    assert_eq!(status, 200, "{v}");
    let hits: Vec<u64> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .map(|e| e["logIndex"].as_u64().unwrap())
        .collect();
    assert_eq!(hits.len(), 1, "{v}");
    hits[0]
}

#[test]
fn the_explorer_works_in_a_real_browser() {
    require_tools(&["chromium", "chromedriver", "python3", "sigstore"]);
    let axe = browser_dir().join("node_modules/axe-core/axe.min.js");
    assert!(
        axe.is_file(),
        "{} is missing: run ./x (npm ci in cli/tests/browser)",
        axe.display()
    );
    let (oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();

    // Two blobs by alice and one by bob with signet, one by carol with sigstore-python.
    let mut digests = Vec::new();
    for (who, content) in [(ALICE, "first"), (ALICE, "second"), (BOB, "third")] {
        let file = dir.path().join(format!("{content}.txt"));
        std::fs::write(&file, content).unwrap();
        sign_blob(&server, &oidc.token(who), &file);
        digests.push(sha256_hex(content.as_bytes()));
    }
    let py = dir.path().join("python.txt");
    std::fs::write(&py, "signed by sigstore-python").unwrap();
    let out = run(Command::new("sigstore")
        .arg("--trust-config")
        .arg(server.trust_config())
        .args(["sign", "--identity-token", &oidc.token(CAROL), "--bundle"])
        .arg(dir.path().join("python.sigstore.json"))
        .arg(&py));
    assert!(out.status.success(), "sigstore sign: {}", text(&out));
    // An attestation by sigstore-python, for the predicate type.
    let predicate = dir.path().join("predicate.json");
    std::fs::write(
        &predicate,
        r#"{"buildDefinition":{"buildType":"https://example.com/build","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.com/builder"}}}"#,
    )
    .unwrap();
    let out = run(Command::new("sigstore")
        .arg("--trust-config")
        .arg(server.trust_config())
        .args(["attest", "--identity-token", &oidc.token(CAROL)])
        .args(["--predicate-type", SLSA, "--predicate"])
        .arg(&predicate)
        .arg("--bundle")
        .arg(dir.path().join("python-attest.sigstore.json"))
        .arg(&py));
    assert!(out.status.success(), "sigstore attest: {}", text(&out));
    // A CI workload's signature: a URI identity and GitHub Actions claims in the certificate.
    let ci = add_entry(&server.url, ci_entry("built by CI"));
    // A keyed entry, for the key fingerprint search.
    let key = new_key();
    let keyed = add_hashedrekord(&server.url, &key, "keyed artifact");
    let fingerprint = hex::encode(key.public_key().key_id());

    let alice_first = index_of_digest(&server, &digests[0], "hashedrekord");
    let py_digest = sha256_hex(b"signed by sigstore-python");
    let carol = index_of_digest(&server, &py_digest, "hashedrekord");
    let attestation = index_of_digest(&server, &py_digest, "dsse");
    let (status, described) = get_json(&format!(
        "{}/signet/v1/explorer/entries/{attestation}",
        server.url
    ));
    assert_eq!(status, 200, "{described}");
    assert_eq!(described["predicateType"], SLSA, "{described}");
    let (_, described) = get_json(&format!(
        "{}/signet/v1/explorer/entries/{carol}",
        server.url
    ));
    assert!(described.get("predicateType").is_none(), "{described}");
    let size = server.tree_size();
    let (_, entry) = get_json(&format!(
        "{}/api/v1/log/entries?logIndex={alice_first}",
        server.url
    ));
    let uuid = entry.as_object().unwrap().keys().next().unwrap().clone();

    let shots = dir.path().join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let cases = serde_json::json!({
        "url": server.url,
        "screenshots": shots,
        "axe": axe,
        "entries": size,
        "entry": alice_first,
        "identity": ALICE,
        "entry_texts": [ALICE, oidc.url, "hashedrekord 0.0.1", format!("sha256:{}", digests[0])],
        "attestation": {"entry": attestation, "texts": [CAROL, "dsse 0.0.1", SLSA]},
        "ci": {"entry": ci, "claims": {
            "Repository": "https://github.com/acme/app",
            "Workflow": WORKFLOW,
            "Ref": "refs/heads/main",
            "Commit": "8f2d1c0a9b7e6d5c4b3a29180f7e6d5c4b3a2918",
            "Trigger": "push",
            "Runner": "github-hosted",
            "Run": "https://github.com/acme/app/actions/runs/42/attempts/1",
        }},
        "searches": [
            {"q": format!("sha256:{}", digests[0]), "kind": "auto", "expect": [alice_first]},
            {"q": digests[0], "kind": "digest", "expect": [alice_first]},
            {"q": ALICE, "kind": "auto", "expect": [alice_first]},
            {"q": "Alice@Example.com", "kind": "identity", "expect": [alice_first]},
            {"q": CAROL, "kind": "identity", "expect": [carol]},
            {"q": WORKFLOW, "kind": "auto", "expect": [ci]},
            {"q": fingerprint, "kind": "key", "expect": [keyed]},
            {"q": fingerprint, "kind": "auto", "expect": [keyed]},
            {"q": keyed.to_string(), "kind": "auto", "expect": [keyed]},
            {"q": uuid, "kind": "uuid", "expect": [alice_first]},
            {"q": uuid, "kind": "auto", "expect": [alice_first]},
        ],
    });
    let cases_file = dir.path().join("cases.json");
    std::fs::write(&cases_file, serde_json::to_vec(&cases).unwrap()).unwrap();
    let out = run(Command::new("python3")
        .arg(browser_dir().join("explorer.py"))
        .arg(&cases_file));
    assert!(out.status.success(), "browser test failed: {}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let seen: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no JSON summary ({e}): {}", text(&out)));
    assert_eq!(seen["chart_total"].as_u64(), Some(size), "{seen}");
    assert_eq!(seen["searches"].as_array().unwrap().len(), 11, "{seen}");
    assert_eq!(
        seen["axe_pages"].as_array().unwrap().len(),
        5,
        "axe ran on every view: {seen}"
    );
    assert_eq!(
        seen["console_errors"],
        serde_json::json!([]),
        "console errors (a CSP violation or a failed load): {seen}"
    );
    for name in ["entry", "activity", "entry-narrow", "tampered-proof"] {
        let png = std::fs::read(shots.join(format!("{name}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}.png is not a PNG");
    }
    // SIGNET_EXPLORER_SCREENSHOTS=DIR keeps the screenshots (the README's comes from here).
    if let Some(keep) = std::env::var_os("SIGNET_EXPLORER_SCREENSHOTS") {
        for e in std::fs::read_dir(&shots).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), Path::new(&keep).join(e.file_name())).unwrap();
        }
    }
    eprintln!("browser saw: {seen}");
}

#[test]
fn the_explorer_api_refuses_bad_input_with_json() {
    let (_oidc, server) = stack();
    for (path, status, needle) in [
        ("/signet/v1/explorer/search?q=", 400, "empty search"),
        ("/signet/v1/explorer/search?q=%20%20", 400, "empty search"),
        (
            "/signet/v1/explorer/search?q=hello",
            400,
            "cannot tell what",
        ),
        (
            "/signet/v1/explorer/search?q=abc&kind=digest",
            400,
            "not an artifact digest",
        ),
        (
            "/signet/v1/explorer/search?q=zz&kind=key",
            400,
            "not a key fingerprint",
        ),
        (
            "/signet/v1/explorer/search?q=-1&kind=index",
            400,
            "not a log index",
        ),
        (
            "/signet/v1/explorer/search?q=1&kind=nope",
            400,
            "unknown search kind",
        ),
        ("/signet/v1/explorer/search?q=1&page=x", 400, ""),
        ("/signet/v1/explorer/search", 400, ""),
        ("/signet/v1/explorer/entries/999999", 404, "not in"),
        ("/signet/v1/explorer/entries/x", 400, ""),
        (
            "/signet/v1/explorer/activity?hours=0",
            400,
            "window must be",
        ),
        (
            "/signet/v1/explorer/activity?hours=99999999",
            400,
            "window must be",
        ),
        ("/explorer/../../etc/passwd", 404, ""),
        ("/explorer/nope.js", 404, "no such explorer asset"),
    ] {
        let (got, v) = get_json(&format!("{}{path}", server.url));
        assert_eq!(got, status, "{path}: {v}");
        assert_eq!(v["code"].as_u64(), Some(u64::from(status)), "{path}: {v}");
        assert!(
            v["message"].as_str().unwrap_or_default().contains(needle),
            "{path}: {v}"
        );
    }
    let long = "a".repeat(3000);
    let (got, v) = get_json(&format!(
        "{}/signet/v1/explorer/search?q={long}",
        server.url
    ));
    assert_eq!(got, 400, "{v}");
    // Searches that match nothing are answers, not errors.
    let (got, v) = get_json(&format!(
        "{}/signet/v1/explorer/search?q=nobody@example.com",
        server.url
    ));
    assert_eq!((got, v["total"].as_u64()), (200, Some(0)), "{v}");

    // The page: HTML with a policy that forbids anything from elsewhere.
    let r = reqwest::blocking::get(format!("{}/", server.url)).unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let html = r.text().unwrap();
    assert!(html.contains("explorer/app.js"), "{html}");
    for asset in ["app.js", "app.css"] {
        let r = reqwest::blocking::get(format!("{}/explorer/{asset}", server.url)).unwrap();
        assert_eq!(r.status().as_u16(), 200, "{asset}");
        // The one absolute URL allowed is the SVG namespace name, which is never fetched.
        let body = r.text().unwrap().replace("http://www.w3.org/2000/svg", "");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{asset} names an outside URL"
        );
    }
}
