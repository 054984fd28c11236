//! In-toto attestations about OCI images: `signet attest` signs a statement (DSSE, logged as a
//! `dsse` 0.0.1 entry) about an image in a real `docker-registry` and attaches the bundle as a
//! referrer; `signet verify-attestation` verifies the ones of a predicate type, offline.
//!
//! * the attestation verifies with its statement (subject = the manifest digest, the
//!   predicate as given) and sigstore-python accepts the same bundle for the manifest bytes;
//! * an attestation is not a signature: `signet verify` does not count it, and
//!   `verify-attestation` does not count signatures or attestations of another type;
//! * another identity, a predicate that is not JSON and an unknown `--type` fail with the
//!   reason named, and the failures before signing leave nothing in the log.
//!
//! Fails when a tool (node with oauth2-mock-server, docker-registry, umoci, skopeo,
//! sigstore-python) is missing.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Command, Output};

use serde_json::json;
use support::{
    json_out, require_tools, run, sign_image, signet, stack, text, verify_image, Server,
    TestRegistry,
};

const EMAIL: &str = "builder@example.com";
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

fn attest(
    server: &Server,
    token: &str,
    image: &str,
    predicate: &std::path::Path,
    extra: &[&str],
) -> Output {
    run(signet()
        .arg("attest")
        .arg(image)
        .arg("--predicate")
        .arg(predicate)
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--identity-token", token, "--output", "json"])
        .args(extra))
}

fn verify_attestation(
    server: &Server,
    issuer: &str,
    identity: &str,
    image: &str,
    ty: &str,
) -> Output {
    run(signet()
        .args(["verify-attestation", image, "--type", ty])
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .args([
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            issuer,
        ])
        .args(["--output", "json"]))
}

#[test]
fn attestations_are_signed_attached_and_verified_by_type() {
    require_tools(&["docker-registry", "umoci", "skopeo", "sigstore"]);
    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let digest = reg.push_image("built/app", "v1", "release 1");
    let image = format!("{}/built/app:v1", reg.addr);
    let token = oidc.token(EMAIL);
    let dir = tempfile::tempdir().unwrap();
    let predicate = json!({
        "buildDefinition": {
            "buildType": "https://example.com/build/v1",
            "externalParameters": {"ref": "refs/heads/main"},
        },
        "runDetails": {"builder": {"id": "https://example.com/builder"}},
    });
    let predicate_file = dir.path().join("provenance.json");
    std::fs::write(&predicate_file, predicate.to_string()).unwrap();
    let bundle_file = dir.path().join("attestation.sigstore.json");

    let out = attest(
        &server,
        &token,
        &image,
        &predicate_file,
        &[
            "--type",
            "slsaprovenance1",
            "--bundle",
            bundle_file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "attest: {}", text(&out));
    let a = json_out(&out);
    assert_eq!(a["digest"], digest.as_str());
    assert_eq!(a["predicateType"], SLSA_V1);

    // The attestation verifies, with its statement.
    let v = verify_attestation(&server, &oidc.url, EMAIL, &image, "slsaprovenance1");
    assert!(v.status.success(), "verify-attestation: {}", text(&v));
    let j = json_out(&v);
    assert_eq!(j["digest"], digest.as_str());
    let results = j["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{j}");
    assert_eq!(results[0]["identity"], EMAIL);
    let statement = &results[0]["statement"];
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], SLSA_V1);
    assert_eq!(statement["predicate"], predicate);
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        digest.strip_prefix("sha256:").unwrap()
    );
    // The full URI works as --type too.
    let v = verify_attestation(&server, &oidc.url, EMAIL, &image, SLSA_V1);
    assert!(
        v.status.success(),
        "verify-attestation by URI: {}",
        text(&v)
    );

    // Another predicate type: none found. Another identity: named policy failure.
    let v = verify_attestation(&server, &oidc.url, EMAIL, &image, "spdxjson");
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert_eq!(json_out(&v)["results"], json!([]));
    let v = verify_attestation(&server, &oidc.url, "someone@example.com", &image, SLSA_V1);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert_eq!(json_out(&v)["results"][0]["check"], "policy");

    // An attestation is not a signature of the image.
    let support_verify = |img: &str| verify_image(signet(), &server, EMAIL, &oidc.url, img);
    let v = support_verify(&image);
    assert_eq!(
        v.status.code(),
        Some(1),
        "only an attestation is attached: {}",
        text(&v)
    );
    assert_eq!(json_out(&v)["results"], json!([]));
    let out = sign_image(signet(), &server, &token, &image);
    assert!(out.status.success(), "sign: {}", text(&out));
    let v = support_verify(&image);
    assert!(v.status.success(), "{}", text(&v));
    assert_eq!(json_out(&v)["results"].as_array().unwrap().len(), 1);
    let v = verify_attestation(&server, &oidc.url, EMAIL, &image, SLSA_V1);
    assert_eq!(
        json_out(&v)["results"].as_array().unwrap().len(),
        1,
        "the signature is not an attestation"
    );

    // Bad input before signing: named, and nothing reaches the log.
    let before = server.tree_size();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "not json").unwrap();
    let out = attest(&server, &token, &image, &bad, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not JSON"),
        "{}",
        text(&out)
    );
    let out = attest(
        &server,
        &token,
        &image,
        &predicate_file,
        &["--type", "provenance"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--type \"provenance\""),
        "{}",
        text(&out)
    );
    assert_eq!(server.tree_size(), before, "nothing logged");

    // sigstore-python verifies the attestation bundle for the manifest bytes (whose SHA-256 is
    // the statement's subject digest).
    let raw = run(Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{image}")));
    assert!(raw.status.success(), "{}", text(&raw));
    let manifest = dir.path().join("manifest.json");
    std::fs::write(&manifest, &raw.stdout).unwrap();
    let tc = server.trusted_root().with_file_name("trust_config.json");
    let py = run(Command::new("sigstore")
        .arg("--trust-config")
        .arg(&tc)
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(&bundle_file)
        .args(["--cert-identity", EMAIL, "--cert-oidc-issuer", &oidc.url])
        .arg(&manifest));
    assert!(
        py.status.success(),
        "sigstore-python rejected the attestation: {}",
        text(&py)
    );
}
