//! Multi-platform images: an OCI image index with a linux/amd64 and a linux/arm64 manifest,
//! built with umoci and pushed with `skopeo copy --all` to a real `docker-registry`, signed
//! keylessly (mock OIDC issuer, running `signet serve`).
//!
//! * `signet sign --recursive` signs the index and each manifest it lists (one log entry and
//!   one attached bundle each); each platform digest then verifies on its own;
//! * `signet verify --platform OS/ARCH` verifies the index entry for that platform, and names
//!   the problem (exit 2) for an unknown platform, a malformed value, or an image that is not
//!   an index;
//! * without `--recursive` only the index is signed: its platform manifests have no
//!   signatures (exit 1).
//!
//! Fails when a tool (node with oauth2-mock-server, docker-registry, umoci, skopeo) is
//! missing.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Command, Output};

use serde_json::{json, Value};
use support::{json_out, require_tools, run, signet, stack, text, Server, TestRegistry};

const EMAIL: &str = "release@example.com";
const REPO: &str = "multi/app";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

/// Builds, in a fresh OCI layout, one image per `(architecture, content)` and an index over
/// them tagged `index`, then pushes the index with all its manifests as `repo:tag`. Returns
/// the index digest (sha256 of the bytes the registry serves) and, per architecture, the
/// manifest digest.
fn push_index(
    reg: &TestRegistry,
    repo: &str,
    tag: &str,
    images: &[(&str, &str)],
) -> (String, Vec<(String, String)>) {
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    run(Command::new("umoci")
        .args(["init", "--layout"])
        .arg(&layout));
    for (arch, content) in images {
        let img = format!("{}:{arch}", layout.display());
        run(Command::new("umoci").args(["new", "--image", &img]));
        run(Command::new("umoci").args([
            "config",
            "--image",
            &img,
            "--os",
            "linux",
            "--architecture",
            arch,
        ]));
        let file = work.path().join(format!("{arch}.txt"));
        std::fs::write(&file, content).unwrap();
        run(Command::new("umoci")
            .args(["insert", "--image", &img])
            .arg(&file)
            .arg("/content.txt"));
    }
    // umoci names each image's manifest in index.json by the ref-name annotation.
    let index_path = layout.join("index.json");
    let mut top: Value =
        signet_proto::json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let mut manifests = Vec::new();
    let mut digests = Vec::new();
    for (arch, _) in images {
        let d = top["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == *arch)
            .unwrap_or_else(|| panic!("{arch} not in {top}"))
            .clone();
        assert_eq!(d["mediaType"], OCI_MANIFEST);
        digests.push(((*arch).to_owned(), d["digest"].as_str().unwrap().to_owned()));
        manifests.push(json!({
            "mediaType": OCI_MANIFEST,
            "digest": d["digest"],
            "size": d["size"],
            "platform": { "architecture": arch, "os": "linux" },
        }));
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    }))
    .unwrap();
    let hex = sha256_hex(&index);
    std::fs::write(layout.join("blobs/sha256").join(&hex), &index).unwrap();
    top["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": OCI_INDEX,
        "digest": format!("sha256:{hex}"),
        "size": index.len(),
        "annotations": { "org.opencontainers.image.ref.name": "index" },
    }));
    std::fs::write(&index_path, serde_json::to_vec(&top).unwrap()).unwrap();
    run(Command::new("skopeo")
        .args(["copy", "--all", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:index", layout.display()))
        .arg(format!("docker://{}/{repo}:{tag}", reg.addr)));
    // The digest of what the registry now serves for the tag, computed here from its bytes.
    let raw = run(Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/{repo}:{tag}", reg.addr)));
    assert!(raw.status.success(), "skopeo inspect --raw: {}", text(&raw));
    let served: Value = signet_proto::json::from_slice(&raw.stdout).unwrap();
    assert_eq!(
        served["manifests"].as_array().map(Vec::len),
        Some(images.len()),
        "{served}"
    );
    (format!("sha256:{}", sha256_hex(&raw.stdout)), digests)
}

/// `signet verify` of `image` (with `--platform` when given) as JSON.
fn verify(server: &Server, issuer: &str, image: &str, platform: Option<&str>) -> Output {
    let mut cmd = signet();
    cmd.arg("verify")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .args([
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            issuer,
        ])
        .args(["--output", "json", image]);
    if let Some(p) = platform {
        cmd.args(["--platform", p]);
    }
    run(&mut cmd)
}

/// `signet sign` of `image`, keyless with `token`, with `extra` options, as JSON.
fn sign(server: &Server, token: &str, image: &str, extra: &[&str]) -> Output {
    run(signet()
        .arg("sign")
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--identity-token", token, "--output", "json", image])
        .args(extra))
}

fn assert_error(out: &Output, what: &str, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(2), "{what}: {}", text(out));
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "{what}: expected {n:?} in: {}", text(out));
    }
}

#[test]
fn multi_platform_images_sign_recursively_and_verify_by_platform() {
    require_tools(&["docker-registry", "umoci", "skopeo"]);
    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let (index, platforms) = push_index(
        &reg,
        REPO,
        "v1",
        &[("amd64", "built for amd64"), ("arm64", "built for arm64")],
    );
    let amd64 = platforms[0].1.clone();
    let arm64 = platforms[1].1.clone();
    assert_ne!(amd64, arm64);
    let tag_ref = format!("{}/{REPO}:v1", reg.addr);
    let token = oidc.token(EMAIL);

    // --recursive: the index and both manifests, each its own log entry and referrer.
    let out = sign(&server, &token, &tag_ref, &["--recursive"]);
    assert!(out.status.success(), "sign --recursive: {}", text(&out));
    let s = json_out(&out);
    assert_eq!(s["digest"], index.as_str(), "the index itself is signed");
    let entries = s["manifests"].as_array().unwrap();
    let signed: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["platform"].as_str().unwrap(),
                e["digest"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        signed,
        vec![
            ("linux/amd64", amd64.as_str()),
            ("linux/arm64", arm64.as_str())
        ]
    );
    let mut indexes: Vec<u64> = entries
        .iter()
        .map(|e| e["logIndex"].as_u64().unwrap())
        .collect();
    indexes.push(s["logIndex"].as_u64().unwrap());
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(indexes.len(), 3, "three distinct log entries: {s}");

    // The index verifies by tag; each platform by --platform and by its own digest.
    let v = verify(&server, &oidc.url, &tag_ref, None);
    assert!(v.status.success(), "verify index: {}", text(&v));
    assert_eq!(json_out(&v)["digest"], index.as_str());
    for (platform, digest) in [("linux/amd64", &amd64), ("linux/arm64", &arm64)] {
        let v = verify(&server, &oidc.url, &tag_ref, Some(platform));
        assert!(
            v.status.success(),
            "verify --platform {platform}: {}",
            text(&v)
        );
        let j = json_out(&v);
        assert_eq!(j["digest"], digest.as_str());
        assert_eq!(j["index"], index.as_str());
        assert_eq!(j["platform"], platform);
        assert_eq!(j["results"][0]["identity"], EMAIL);
        let by_digest = format!("{}/{REPO}@{digest}", reg.addr);
        let v = verify(&server, &oidc.url, &by_digest, None);
        assert!(v.status.success(), "verify {by_digest}: {}", text(&v));
    }

    // Bad --platform values and non-index images are named errors.
    let out = verify(&server, &oidc.url, &tag_ref, Some("linux/s390x"));
    assert_error(
        &out,
        "unknown platform",
        &[
            "no manifest for platform linux/s390x",
            "linux/amd64, linux/arm64",
        ],
    );
    let out = verify(&server, &oidc.url, &tag_ref, Some("linux"));
    assert_error(
        &out,
        "malformed platform",
        &["invalid platform \"linux\"", "os/architecture"],
    );
    let single = format!("{}/{REPO}@{amd64}", reg.addr);
    let out = verify(&server, &oidc.url, &single, Some("linux/amd64"));
    assert_error(
        &out,
        "platform of a single manifest",
        &["not an image index"],
    );

    // Without --recursive only the index is signed: its platforms have no signatures.
    let (index2, platforms2) = push_index(
        &reg,
        REPO,
        "v2",
        &[("amd64", "second amd64"), ("arm64", "second arm64")],
    );
    let tag2 = format!("{}/{REPO}:v2", reg.addr);
    let out = sign(&server, &token, &tag2, &[]);
    assert!(out.status.success(), "sign: {}", text(&out));
    let s = json_out(&out);
    assert_eq!(s["digest"], index2.as_str());
    assert!(s.get("manifests").is_none(), "{s}");
    let v = verify(&server, &oidc.url, &tag2, None);
    assert!(v.status.success(), "verify index v2: {}", text(&v));
    let v = verify(&server, &oidc.url, &tag2, Some("linux/arm64"));
    assert_eq!(v.status.code(), Some(1), "unsigned platform: {}", text(&v));
    let j = json_out(&v);
    assert_eq!(j["digest"], platforms2[1].1.as_str());
    assert_eq!(j["ok"], false);
    assert_eq!(
        j["results"],
        json!([]),
        "no bundles for the platform manifest"
    );
}
