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
use support::{have_tools, require, run, signet, stack, text, Oidc, Server};

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
    serde_json::from_slice(&std::fs::read(path).unwrap())
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
    let python = require(
        have_tools(&["sigstore"]),
        "sigstore-python (`sigstore` on PATH)",
    );
    let js = require(
        support::sigstore_js_dir().is_some(),
        "node_modules/@sigstore/verify (npm ci in verifier/tests/js)",
    );
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
        let v: Value = serde_json::from_slice(&out.stdout)
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

        if python {
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
        }
        if js {
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
    if !require(
        have_tools(&["sigstore"]),
        "sigstore-python (`sigstore` on PATH)",
    ) {
        return;
    }
    let Some((oidc, server)) = stack() else {
        return;
    };
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
    let Some(js) = support::sigstore_sign_js_dir() else {
        require(false, "node_modules/sigstore (npm ci in cli/tests/js)");
        return;
    };
    let Some((oidc, server)) = stack() else {
        return;
    };
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
