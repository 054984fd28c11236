//! The whole flow against a running Signet (`signet serve` in a temporary data directory) with
//! a mock OIDC issuer, a real `docker-registry`, and the real Sigstore clients:
//!
//! * keyless `sign-blob` -> `verify-blob`, plus wrong identity / wrong issuer / modified file /
//!   tampered bundle failures, each naming its check;
//! * keyed `generate-key-pair` -> `sign-blob --key` -> `verify-blob --key`, and another key fails;
//! * `sign IMAGE` (by tag) -> `verify` by tag and by digest -> a second signature keeps the
//!   first -> the tag moves to other content -> verifying the tag fails, the old digest still
//!   verifies;
//! * the bundle from `sign-blob` verifies with sigstore-python (`sigstore verify identity
//!   --offline` with Signet's trust config) and sigstore-js (`@sigstore/verify`).
//!
//! Tests fail when a needed tool (node with oauth2-mock-server, docker-registry, umoci, skopeo,
//! sigstore, @sigstore/verify) is missing.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{
    json_out, require_tools, run, sign_image, signet, sigstore_js_dir, sigstore_sign_js_dir, stack,
    text, verify_image, Server, TestRegistry,
};

const EMAIL: &str = "alice@example.com";

fn sign_blob(server: &Server, token: &str, file: &Path, extra: &[&str]) -> std::process::Output {
    run(signet()
        .arg("sign-blob")
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--identity-token", token, "--output", "json"])
        .args(extra)
        .arg(file))
}

fn verify_blob(
    server: &Server,
    file: &Path,
    bundle: &Path,
    identity: &str,
    issuer: &str,
) -> std::process::Output {
    run(signet()
        .arg("verify-blob")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--bundle")
        .arg(bundle)
        .args([
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            issuer,
            "--output",
            "json",
        ])
        .arg(file))
}

#[test]
fn keyless_blob_sign_verify_and_failures() {
    let (oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("artifact.txt");
    std::fs::write(&file, b"hello signet\n").unwrap();
    let token = oidc.token(EMAIL);

    let out = sign_blob(&server, &token, &file, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let bundle = dir.path().join("artifact.txt.sigstore.json");
    let b: Value = signet_proto::json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        b["verificationMaterial"]["tlogEntries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        b["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"]
            .is_string()
    );
    assert!(
        b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"]
            .is_string()
    );
    assert_eq!(
        b["messageSignature"]["messageDigest"]["algorithm"],
        "SHA2_256"
    );

    let ok = verify_blob(&server, &file, &bundle, EMAIL, &oidc.url);
    assert!(ok.status.success(), "{}", text(&ok));
    let v = json_out(&ok);
    assert_eq!(v["ok"], true);
    assert_eq!(v["results"][0]["identity"], EMAIL);

    let wrong_id = verify_blob(&server, &file, &bundle, "mallory@example.com", &oidc.url);
    assert_eq!(wrong_id.status.code(), Some(1), "{}", text(&wrong_id));
    assert_eq!(json_out(&wrong_id)["results"][0]["check"], "policy");

    // An identity regexp matches the whole SAN; one that matches only a part of it says so
    // and shows its substring form.
    let part = run(signet()
        .arg("verify-blob")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--bundle")
        .arg(&bundle)
        .args([
            "--certificate-identity-regexp",
            "alice",
            "--certificate-oidc-issuer",
            &oidc.url,
            "--output",
            "json",
        ])
        .arg(&file));
    assert_eq!(part.status.code(), Some(1), "{}", text(&part));
    let r = &json_out(&part)["results"][0];
    assert_eq!(r["check"], "policy");
    assert_eq!(
        r["error"].as_str().unwrap_or_default(),
        format!("policy: SAN \"{EMAIL}\" does not match regex \"alice\" (whole value); the pattern matches only part of the SAN: patterns match the whole value, use '.*alice.*' if you meant a substring"),
        "{}",
        text(&part)
    );

    let wrong_iss = verify_blob(
        &server,
        &file,
        &bundle,
        EMAIL,
        "https://accounts.example.com",
    );
    assert_eq!(wrong_iss.status.code(), Some(1), "{}", text(&wrong_iss));
    assert_eq!(json_out(&wrong_iss)["results"][0]["check"], "policy");

    let other = dir.path().join("other.txt");
    std::fs::write(&other, b"hello signet?\n").unwrap();
    let wrong_file = verify_blob(&server, &other, &bundle, EMAIL, &oidc.url);
    assert_eq!(wrong_file.status.code(), Some(1), "{}", text(&wrong_file));
    assert_eq!(json_out(&wrong_file)["results"][0]["check"], "signature");

    // Tamper with the signature inside the bundle: verification must fail (text mode names it).
    let mut t = b.clone();
    let sig = t["messageSignature"]["signature"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut raw = base64_decode(&sig);
    let last = raw.len() - 3;
    raw[last] ^= 1;
    t["messageSignature"]["signature"] = Value::String(base64_encode(&raw));
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec(&t).unwrap()).unwrap();
    let bad = run(signet()
        .arg("verify-blob")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--bundle")
        .arg(&tampered)
        .args([
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            &oidc.url,
        ])
        .arg(&file));
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("verification failed"),
        "{}",
        text(&bad)
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn keyed_blob_sign_verify() {
    let (_oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    for prefix in ["a", "b"] {
        let st = run(signet()
            .args(["generate-key-pair", "--output-key-prefix"])
            .arg(dir.path().join(prefix))
            .env("SIGNET_PASSWORD", "pw"));
        assert!(st.status.success(), "{}", text(&st));
    }
    let file = dir.path().join("blob.bin");
    std::fs::write(&file, vec![42u8; 100_000]).unwrap();
    let key = dir.path().join("a.key").display().to_string();
    let out = run(signet()
        .arg("sign-blob")
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--key", &key])
        .env("SIGNET_PASSWORD", "pw")
        .arg(&file));
    assert!(out.status.success(), "{}", text(&out));
    let bundle = dir.path().join("blob.bin.sigstore.json");
    let verify = |pubkey: &str| {
        run(signet()
            .arg("verify-blob")
            .arg("--trusted-root")
            .arg(server.trusted_root())
            .arg("--bundle")
            .arg(&bundle)
            .args(["--key", pubkey, "--output", "json"])
            .arg(&file))
    };
    let ok = verify(&dir.path().join("a.pub").display().to_string());
    assert!(ok.status.success(), "{}", text(&ok));
    let bad = verify(&dir.path().join("b.pub").display().to_string());
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert_eq!(json_out(&bad)["results"][0]["check"], "signature");
    // Identity flags on a keyed bundle: the error says to pass --key.
    let keyless = run(signet()
        .arg("verify-blob")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--bundle")
        .arg(&bundle)
        .args([
            "--certificate-identity",
            "someone@example.com",
            "--certificate-oidc-issuer",
            "https://issuer.example.com",
        ])
        .arg(&file));
    assert_eq!(keyless.status.code(), Some(1), "{}", text(&keyless));
    assert!(
        text(&keyless).contains("signed with a key, not a certificate: pass --key"),
        "{}",
        text(&keyless)
    );
}

#[test]
fn image_sign_verify_by_tag_and_digest_then_move_tag() {
    require_tools(&["docker-registry", "umoci", "skopeo"]);
    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let digest = reg.push_image("demo/app", "v1", "first content");
    let tag_ref = format!("{}/demo/app:v1", reg.addr);
    let digest_ref = format!("{}/demo/app@{digest}", reg.addr);
    let token = oidc.token(EMAIL);

    let out = sign_image(signet(), &server, &token, &tag_ref);
    assert!(out.status.success(), "{}", text(&out));
    let s = json_out(&out);
    assert_eq!(
        s["digest"],
        digest.as_str(),
        "the tag must be resolved to the digest before signing"
    );
    assert_eq!(s["referrersMode"], "tag-schema");

    for r in [&tag_ref, &digest_ref] {
        let v = verify_image(signet(), &server, EMAIL, &oidc.url, r);
        assert!(v.status.success(), "{r}: {}", text(&v));
        assert_eq!(json_out(&v)["digest"], digest.as_str());
    }

    // A second signature is kept alongside the first.
    let out2 = sign_image(signet(), &server, &token, &digest_ref);
    assert!(out2.status.success(), "{}", text(&out2));
    let v = verify_image(signet(), &server, EMAIL, &oidc.url, &digest_ref);
    assert!(v.status.success(), "{}", text(&v));
    let results = json_out(&v)["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 2, "both signatures are listed: {results:?}");
    assert!(results.iter().all(|r| r["ok"] == true));

    // A wrong identity fails on every bundle.
    let wrong = run(signet()
        .arg("verify")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .args([
            "--certificate-identity",
            "mallory@example.com",
            "--certificate-oidc-issuer",
            &oidc.url,
            &digest_ref,
        ]));
    assert_eq!(wrong.status.code(), Some(1), "{}", text(&wrong));

    // Move the tag to other content: verifying by tag now fails, the digest still verifies.
    let moved = reg.push_image("demo/app", "v1", "second content");
    assert_ne!(moved, digest);
    let v = verify_image(signet(), &server, EMAIL, &oidc.url, &tag_ref);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    let j = json_out(&v);
    assert_eq!(j["digest"], moved.as_str());
    assert_eq!(j["ok"], false);
    let v = verify_image(signet(), &server, EMAIL, &oidc.url, &digest_ref);
    assert!(v.status.success(), "{}", text(&v));
}

fn trust_config(server: &Server, out: &Path) {
    let root: Value =
        signet_proto::json::from_slice(&std::fs::read(server.trusted_root()).unwrap()).unwrap();
    let cfg = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": root,
        "signingConfig": {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json"},
    });
    std::fs::write(out, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
}

/// sigstore-js verification script (CommonJS, evaluated with the JS dir as cwd).
const JS_VERIFY: &str = r#"
const fs = require('fs');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const [root, bundlePath, artifactPath, identity, issuer] = process.argv.slice(1);
const trustedRoot = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(root)));
const verifier = new Verifier(toTrustMaterial(trustedRoot), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
try {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath)));
  const esc = (s) => '^' + s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$';
  const signer = verifier.verify(toSignedEntity(bundle, fs.readFileSync(artifactPath)), { subjectAlternativeName: esc(identity), extensions: { issuer } });
  console.log('OK', signer.identity.subjectAlternativeName);
} catch (e) {
  console.log('FAIL', e.code || '', e.message);
  process.exit(1);
}
"#;

#[test]
fn blob_bundle_verifies_with_sigstore_python_and_js() {
    require_tools(&["sigstore"]);
    let js = sigstore_js_dir();
    let (oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("artifact.txt");
    std::fs::write(&file, b"interop payload\n").unwrap();
    let token = oidc.token(EMAIL);
    let out = sign_blob(&server, &token, &file, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let bundle = dir.path().join("artifact.txt.sigstore.json");

    let tc = dir.path().join("trust_config.json");
    trust_config(&server, &tc);
    let py = run(Command::new("sigstore")
        .arg("--trust-config")
        .arg(&tc)
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(&bundle)
        .args(["--cert-identity", EMAIL, "--cert-oidc-issuer", &oidc.url])
        .arg(&file));
    assert!(
        py.status.success(),
        "sigstore-python rejected the bundle: {}",
        text(&py)
    );

    let out = run(Command::new("node")
        .arg("-e")
        .arg(JS_VERIFY)
        .arg(server.trusted_root())
        .arg(&bundle)
        .arg(&file)
        .arg(EMAIL)
        .arg(&oidc.url)
        .current_dir(&js));
    assert!(
        out.status.success(),
        "sigstore-js rejected the bundle: {}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("OK"),
        "{}",
        text(&out)
    );
}

/// Signing latency benchmark (BENCHMARKS.md "Signing latency"): wall time of whole
/// `signet sign-blob` processes (keyless: token read, key generation, CA round trip, TSA
/// round trip, log round trip, bundle write) against local servers: into the v1 log, and into
/// the Rekor v2 log (a second server whose signing config prefers v2), interleaved with
/// sigstore-python and sigstore-js signing into v1. Every bundle carries the TSA's timestamp.
/// Run with
/// `cargo test -p signet-cli --test client_e2e -- --ignored --nocapture sign_blob_latency`.
#[test]
#[ignore = "benchmark; run by just bench-slow (BENCHMARKS.md)"]
fn sign_blob_latency() {
    require_tools(&["sigstore"]);
    let js = sigstore_sign_js_dir();
    let (oidc, server) = stack();
    let server_v2 = Server::start_with(&oidc.url, "\n[log]\nprefer_rekor_v2 = true\n");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("artifact.bin");
    std::fs::write(&file, vec![7u8; 1 << 20]).unwrap();
    let token = oidc.token(EMAIL);
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, &token).unwrap();
    let runs: usize = std::env::var("SIGNET_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    // The same signing, by signet and by Sigstore's own clients, against the same server,
    // interleaved so that they see the same machine.
    type Signer<'a> = Box<dyn Fn() -> std::process::Output + 'a>;
    let (server, server_v2, token, file, token_file) =
        (&server, &server_v2, &token, &file, &token_file);
    let py_bundle = dir.path().join("py.sigstore.json");
    let js_bundle = dir.path().join("js.sigstore.json");
    let signers: Vec<(&str, Signer<'_>)> = vec![
        (
            "signet sign-blob (v1 + TSA)",
            Box::new(move || sign_blob(server, token, file, &[])),
        ),
        (
            "signet sign-blob (Rekor v2 + TSA)",
            Box::new(move || sign_blob(server_v2, token, file, &[])),
        ),
        (
            "sigstore-python sign",
            Box::new(move || {
                let _ = std::fs::remove_file(&py_bundle);
                run(Command::new("sigstore")
                    .arg("--trust-config")
                    .arg(server.trust_config())
                    .args(["sign", "--identity-token", token, "--bundle"])
                    .arg(&py_bundle)
                    .arg(file))
            }),
        ),
        (
            "sigstore-js sign",
            Box::new(move || {
                run(Command::new("node")
                    .arg(js.join("sign.js"))
                    .args([&server.url, &server.url])
                    .arg(token_file)
                    .arg(file)
                    .arg("sign")
                    .arg(&js_bundle))
            }),
        ),
    ];
    // Warm-up (first connection, page cache, interpreter caches).
    for (name, sign) in &signers {
        let out = sign();
        assert!(out.status.success(), "{name}: {}", text(&out));
    }
    // What is timed is what the names say: a timestamp in both of signet's bundles, a v1
    // entry with a SET in one, a hashedrekord 0.0.2 entry without one in the other.
    for (srv, version) in [(server, "0.0.1"), (server_v2, "0.0.2")] {
        let out = sign_blob(srv, token, file, &[]);
        assert!(out.status.success(), "{}", text(&out));
        let bundle: serde_json::Value = signet_proto::json::from_slice(
            &std::fs::read(format!("{}.sigstore.json", file.display())).unwrap(),
        )
        .unwrap();
        let vm = &bundle["verificationMaterial"];
        let tle = &vm["tlogEntries"][0];
        assert_eq!(tle["kindVersion"]["version"], version, "{bundle}");
        assert_eq!(
            tle["inclusionPromise"].is_null(),
            version == "0.0.2",
            "{bundle}"
        );
        assert!(
            vm["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"].is_string(),
            "{bundle}"
        );
    }
    let mut ms = vec![Vec::with_capacity(runs); signers.len()];
    for _ in 0..runs {
        for (i, (name, sign)) in signers.iter().enumerate() {
            let t = std::time::Instant::now();
            let out = sign();
            ms[i].push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(out.status.success(), "{name}: {}", text(&out));
        }
    }
    let mut signet_mean = 0.0;
    for (i, (name, _)) in signers.iter().enumerate() {
        let ms = &mut ms[i];
        ms.sort_by(f64::total_cmp);
        let mean = ms.iter().sum::<f64>() / ms.len() as f64;
        if i == 0 {
            signet_mean = mean;
        }
        let p = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        println!(
            "{name}, keyless, 1 MiB file, {runs} runs: mean {mean:.1} ms, min {:.1}, median {:.1}, p90 {:.1}, max {:.1} ({:.2}x signet)",
            ms[0],
            p(0.5),
            p(0.9),
            ms[ms.len() - 1],
            mean / signet_mean
        );
    }
}
