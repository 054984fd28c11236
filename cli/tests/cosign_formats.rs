//! cosign's formats, end to end: every fixture of `testdata/cosign/` (signatures cosign really
//! produced) is pushed to a local docker-registry as cosign stores it (`sha256-<hex>.sig` /
//! `.att` tags, bundle referrers under the referrers tag schema, since docker-registry 2.8
//! has no referrers API) and verified with `signet verify` / `verify-attestation`, each with
//! its trust root; tampered copies fail with their own message.
//!
//! The public-good fixtures verify at the current time: certificates are checked at the SET's
//! integrated time (the signing time), never at the verification time.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::admission::{validate, Webhook};
use support::push::{build_sig_manifest, Pusher};
use support::{json_out, require_tools, run, signet, text, TestRegistry};

const BUNDLE_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/cosign")
        .join(name)
}

fn read(fixture: &str, file: &str) -> Vec<u8> {
    let p = dir(fixture).join(file);
    std::fs::read(&p).unwrap_or_else(|e| panic!("test vector {}: {e}", p.display()))
}

fn fixture(name: &str) -> Value {
    signet_proto::json::from_slice(&read(name, "fixture.json")).unwrap()
}

fn sha256(b: &[u8]) -> String {
    signet_proto::oci::sha256_digest(b)
}

fn public_good_root() -> PathBuf {
    dir("../sigstore/public/trusted_root.json")
}

/// The layers of a `.sig`/`.att` fixture as (media type, payload, annotations).
fn fixture_layers(name: &str) -> Vec<(String, Vec<u8>, BTreeMap<String, String>)> {
    let f = fixture(name);
    f["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let payload = read(name, l["payload"].as_str().unwrap());
            let annotations =
                signet_proto::json::from_slice(&read(name, l["annotations"].as_str().unwrap()))
                    .unwrap();
            (
                l["media_type"].as_str().unwrap().to_owned(),
                payload,
                annotations,
            )
        })
        .collect()
}

/// Pushes the fixture's subject image when it is complete (config and layers present).
fn push_subject(p: &Pusher, repo: &str, name: &str) {
    let f = fixture(name);
    let Some(config) = f["image_config"].as_str() else {
        return;
    };
    p.blob(repo, &read(name, config));
    for l in f["image_layers"].as_array().into_iter().flatten() {
        p.blob(repo, &read(name, l.as_str().unwrap()));
    }
    let m = read(name, f["image_manifest"].as_str().unwrap());
    let d = p.manifest(repo, "subject", &m);
    assert_eq!(d, f["image_digest"].as_str().unwrap());
}

/// Pushes a `.sig`/`.att` fixture under its tag; the exact manifest when the fixture has one.
fn push_cosign_tag(p: &Pusher, repo: &str, name: &str, suffix: &str) {
    let f = fixture(name);
    let digest = f["image_digest"].as_str().unwrap();
    let tag = format!("{}.{suffix}", digest.replace(':', "-"));
    let exact = f[format!("{suffix}_manifest")].as_str().map(str::to_owned);
    let manifest = match exact {
        Some(m) => {
            p.blob(
                repo,
                &read(name, f[format!("{suffix}_config")].as_str().unwrap()),
            );
            for (_, payload, _) in fixture_layers(name) {
                p.blob(repo, &payload);
            }
            read(name, &m)
        }
        None => build_sig_manifest(p, repo, &fixture_layers(name)),
    };
    p.manifest(repo, &tag, &manifest);
}

/// Pushes a bundle referrer fixture: the bundle, its referrer manifest (exact or built as
/// cosign builds it) and the referrers tag schema index listing it.
fn push_bundle_referrer(p: &Pusher, repo: &str, name: &str, bundle_bytes: Option<Vec<u8>>) {
    let f = fixture(name);
    let digest = f["image_digest"].as_str().unwrap().to_owned();
    let bundle = bundle_bytes.unwrap_or_else(|| read(name, f["bundle"].as_str().unwrap()));
    let bundle_digest = p.blob(repo, &bundle);
    p.blob(repo, b"{}");
    let subject_bytes = read(name, f["image_manifest"].as_str().unwrap());
    let subject_type = signet_proto::json::from_slice::<Value>(&subject_bytes).unwrap()
        ["mediaType"]
        .as_str()
        .unwrap()
        .to_owned();
    let annotations = json!({
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": f["predicate_type"],
    });
    let referrer = match (f["referrer_manifest"].as_str(), &bundle_digest) {
        (Some(m), d) if Some(d.as_str()) == f["bundle_digest"].as_str() => read(name, m),
        _ => serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": BUNDLE_TYPE,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2,
                       "digest": sha256(b"{}")},
            "layers": [{"mediaType": BUNDLE_TYPE, "size": bundle.len(), "digest": bundle_digest}],
            "annotations": annotations,
            "subject": {"mediaType": subject_type, "size": subject_bytes.len(), "digest": digest},
        }))
        .unwrap(),
    };
    let rd = p.manifest(repo, &sha256(&referrer), &referrer);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": OCI_MANIFEST, "size": referrer.len(), "digest": rd,
                       "artifactType": BUNDLE_TYPE, "annotations": annotations}],
    }))
    .unwrap();
    p.manifest(repo, &digest.replace(':', "-"), &index);
}

fn image(reg: &TestRegistry, repo: &str, name: &str) -> String {
    format!(
        "{}/{repo}@{}",
        reg.addr,
        fixture(name)["image_digest"].as_str().unwrap()
    )
}

/// `signet verify` (or `verify-attestation` with `att_type`) with `args`, JSON output.
fn verify(image: &str, root: &Path, args: &[&str], att_type: Option<&str>) -> (bool, Value) {
    let mut cmd = signet();
    match att_type {
        Some(t) => cmd.args(["verify-attestation", "--type", t]),
        None => cmd.arg("verify"),
    };
    let out = run(cmd
        .arg("--trusted-root")
        .arg(root)
        .args(args)
        .args(["--output", "json", image]));
    let v = json_out(&out);
    assert_eq!(out.status.success(), v["ok"] == true, "{}", text(&out));
    (out.status.success(), v)
}

fn key_arg(name: &str, file: &str) -> String {
    dir(name).join(file).display().to_string()
}

const KEYLESS: &str = "cimage-keyless-public-good";

fn keyless_args() -> Vec<&'static str> {
    vec![
        "--certificate-identity",
        "mitr@redhat.com",
        "--certificate-oidc-issuer",
        "https://github.com/login/oauth",
    ]
}

fn setup() -> (TestRegistry, Pusher) {
    require_tools(&["docker-registry"]);
    let reg = TestRegistry::start();
    let p = Pusher::new(&reg);
    (reg, p)
}

#[test]
fn cosign_sig_tags_verify_and_tampered_copies_fail() {
    let (reg, p) = setup();
    // Keyless, public-good (containers/image).
    push_cosign_tag(&p, "keyless", KEYLESS, "sig");
    let (ok, v) = verify(
        &image(&reg, "keyless", KEYLESS),
        &public_good_root(),
        &keyless_args(),
        None,
    );
    assert!(ok, "{v}");
    let r = &v["results"][0];
    assert_eq!(r["format"], "cosign-sig", "{v}");
    assert_eq!(r["identity"], "mitr@redhat.com");
    assert_eq!(r["issuer"], "https://github.com/login/oauth");
    assert_eq!(r["logIndex"], 11_605_770);
    assert_eq!(r["integratedTime"], 1_674_247_893);

    // Text output: what was verified, on stdout.
    let out = run(signet()
        .args(["verify", "--trusted-root"])
        .arg(public_good_root())
        .args(keyless_args())
        .arg(image(&reg, "keyless", KEYLESS)));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    for want in [
        "cosign-sig",
        "mitr@redhat.com",
        "https://github.com/login/oauth",
        "11605770",
        "2023-01-20T20:51:33Z",
    ] {
        assert!(stdout.contains(want), "{want} not in stdout: {stdout}");
    }

    // Wrong identity: the policy check names it.
    let (ok, v) = verify(
        &image(&reg, "keyless", KEYLESS),
        &public_good_root(),
        &[
            "--certificate-identity",
            "other@example.com",
            "--certificate-oidc-issuer",
            "https://github.com/login/oauth",
        ],
        None,
    );
    assert!(!ok);
    assert_eq!(v["results"][0]["check"], "policy", "{v}");

    // The tag copied to another image: the payload names another digest.
    let other = p.blob("keyless", b"another image");
    let other_manifest = serde_json::to_vec(&json!({"schemaVersion":2,"mediaType":OCI_MANIFEST,
        "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":13,"digest":other},"layers":[]})).unwrap();
    let other_digest = p.manifest("keyless", "other", &other_manifest);
    let sig_tag = format!(
        "{}.sig",
        fixture(KEYLESS)["image_digest"]
            .as_str()
            .unwrap()
            .replace(':', "-")
    );
    let copied = p
        .http
        .get(format!("{}/keyless/manifests/{sig_tag}", p.base))
        .header("accept", OCI_MANIFEST)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    p.manifest(
        "keyless",
        &format!("{}.sig", other_digest.replace(':', "-")),
        &copied,
    );
    let (ok, v) = verify(
        &format!("{}/keyless@{other_digest}", reg.addr),
        &public_good_root(),
        &keyless_args(),
        None,
    );
    assert!(!ok);
    assert_eq!(v["results"][0]["check"], "payload-digest", "{v}");
    assert!(
        v["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("another image"),
        "{v}"
    );

    // A flipped payload byte (the manifest updated to the new bytes): the signature fails.
    let mut layers2 = fixture_layers(KEYLESS);
    let s = String::from_utf8(layers2[0].1.clone()).unwrap().replace(
        "\"type\":\"cosign container image signature\"",
        "\"type\":\"cosign container image signaturE\"",
    );
    layers2[0].1 = s.into_bytes();
    let m = build_sig_manifest(&p, "flipped", &layers2);
    p.manifest("flipped", &sig_tag, &m);
    let (ok, v) = verify(
        &image(&reg, "flipped", KEYLESS),
        &public_good_root(),
        &keyless_args(),
        None,
    );
    assert!(!ok);
    assert_eq!(v["results"][0]["check"], "signature", "{v}");

    // A wrong signature annotation.
    let mut layers3 = fixture_layers(KEYLESS);
    layers3[0].2.insert(
        "dev.cosignproject.cosign/signature".to_owned(),
        fixture_layers("cimage-key-rekor-public-good")[0].2["dev.cosignproject.cosign/signature"]
            .clone(),
    );
    let m = build_sig_manifest(&p, "wrongsig", &layers3);
    p.manifest("wrongsig", &sig_tag, &m);
    let (ok, v) = verify(
        &image(&reg, "wrongsig", KEYLESS),
        &public_good_root(),
        &keyless_args(),
        None,
    );
    assert!(!ok);
    assert_eq!(v["results"][0]["check"], "signature", "{v}");

    // A bad SET.
    let mut layers4 = fixture_layers(KEYLESS);
    let mut b: Value = serde_json::from_str(&layers4[0].2["dev.sigstore.cosign/bundle"]).unwrap();
    b["Payload"]["logIndex"] = json!(1);
    layers4[0]
        .2
        .insert("dev.sigstore.cosign/bundle".to_owned(), b.to_string());
    let m = build_sig_manifest(&p, "badset", &layers4);
    p.manifest("badset", &sig_tag, &m);
    let (ok, v) = verify(
        &image(&reg, "badset", KEYLESS),
        &public_good_root(),
        &keyless_args(),
        None,
    );
    assert!(!ok);
    assert_eq!(v["results"][0]["check"], "set", "{v}");
}

#[test]
fn keyed_cosign_sig_tags_verify() {
    let (reg, p) = setup();
    // With a Rekor bundle (public-good).
    let name = "cimage-key-rekor-public-good";
    push_cosign_tag(&p, "keyrekor", name, "sig");
    let img = image(&reg, "keyrekor", name);
    let (ok, v) = verify(
        &img,
        &public_good_root(),
        &["--key", &key_arg(name, "cosign2.pub")],
        None,
    );
    assert!(ok, "{v}");
    assert_eq!(v["results"][0]["format"], "cosign-sig");
    assert!(v["results"][0]["logIndex"].is_u64(), "{v}");
    let (ok, v) = verify(
        &img,
        &public_good_root(),
        &["--key", &key_arg(name, "cosign.pub")],
        None,
    );
    assert!(!ok);
    assert_eq!(v["results"][0]["check"], "signature", "{v}");

    // Without a log: only with --insecure-ignore-tlog.
    for (name, root) in [
        ("cimage-key", public_good_root()),
        (
            "ocx-cosign3-sig-key",
            dir("ocx-cosign3-sig-key/trusted_root.json"),
        ),
    ] {
        push_subject(&p, name, name);
        push_cosign_tag(&p, name, name, "sig");
        let img = image(&reg, name, name);
        let key = key_arg(name, "cosign.pub");
        let (ok, v) = verify(&img, &root, &["--key", &key], None);
        assert!(!ok, "{name}");
        assert_eq!(v["results"][0]["check"], "tlog", "{name}: {v}");
        assert!(v["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("--insecure-ignore-tlog"));
        let (ok, v) = verify(
            &img,
            &root,
            &["--key", &key, "--insecure-ignore-tlog"],
            None,
        );
        assert!(ok, "{name}: {v}");
        let wrong = key_arg(name, fixture(name)["wrong_public_key"].as_str().unwrap());
        let (ok, v) = verify(
            &img,
            &root,
            &["--key", &wrong, "--insecure-ignore-tlog"],
            None,
        );
        assert!(!ok, "{name}");
        assert_eq!(v["results"][0]["check"], "signature", "{name}: {v}");
    }
    // The ocx subject image is complete: by tag too.
    let (ok, v) = verify(
        &format!("{}/ocx-cosign3-sig-key:subject", reg.addr),
        &dir("ocx-cosign3-sig-key/trusted_root.json"),
        &[
            "--key",
            &key_arg("ocx-cosign3-sig-key", "cosign.pub"),
            "--insecure-ignore-tlog",
        ],
        None,
    );
    assert!(ok, "{v}");
}

#[test]
fn fixtures_that_must_fail_fail_with_their_reason() {
    let (reg, p) = setup();
    // Fulcio 2021 certificate without an SCT.
    let name = "sigstore-rs-keyless-2021";
    push_cosign_tag(&p, "rs", name, "sig");
    let (ok, v) = verify(
        &image(&reg, "rs", name),
        &public_good_root(),
        &[
            "--certificate-identity",
            "flavio@castelli.me",
            "--certificate-oidc-issuer-regexp",
            ".*",
        ],
        None,
    );
    assert!(!ok);
    assert_eq!(v["results"][0]["check"], "sct", "{v}");
    // A private CA without a log: no signing time.
    let name = "cimage-pki";
    push_cosign_tag(&p, "pki", name, "sig");
    let (ok, v) = verify(
        &image(&reg, "pki", name),
        &public_good_root(),
        &[
            "--certificate-identity",
            "qiwan@redhat.com",
            "--certificate-oidc-issuer-regexp",
            ".*",
            "--insecure-ignore-tlog",
        ],
        None,
    );
    assert!(!ok);
    assert!(
        v["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("no verified signing time"),
        "{v}"
    );
    // The distroless attestation whose payload was modified upstream.
    let name = "pc-distroless-static-vuln-attestation";
    push_cosign_tag(&p, "distroless", name, "att");
    let (ok, v) = verify(
        &image(&reg, "distroless", name),
        &public_good_root(),
        &[
            "--certificate-identity",
            "https://github.com/distroless/static/.github/workflows/release.yaml@refs/heads/main",
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
        ],
        Some("vuln"),
    );
    assert!(!ok);
    assert_eq!(v["results"][0]["check"], "signature", "{v}");
    assert_eq!(v["results"][0]["format"], "cosign-att", "{v}");
}

#[test]
fn cosign_att_tag_verifies_through_verify_attestation() {
    let (reg, p) = setup();
    let name = "ocx-cosign3-att-key";
    push_subject(&p, name, name);
    push_cosign_tag(&p, name, name, "att");
    let img = image(&reg, name, name);
    let root = dir(&format!("{name}/trusted_root.json"));
    let key = key_arg(name, "cosign.pub");
    let (ok, v) = verify(
        &img,
        &root,
        &["--key", &key, "--insecure-ignore-tlog"],
        Some("cyclonedx"),
    );
    assert!(ok, "{v}");
    assert_eq!(v["results"][0]["format"], "cosign-att");
    assert_eq!(
        v["results"][0]["statement"]["predicateType"],
        "https://cyclonedx.org/bom"
    );
    // Another predicate type: nothing found.
    let (ok, v) = verify(
        &img,
        &root,
        &["--key", &key, "--insecure-ignore-tlog"],
        Some("spdx"),
    );
    assert!(!ok);
    assert_eq!(v["check"], "none-found", "{v}");
    // Wrong key.
    let wrong = key_arg(name, fixture(name)["wrong_public_key"].as_str().unwrap());
    let (ok, v) = verify(
        &img,
        &root,
        &["--key", &wrong, "--insecure-ignore-tlog"],
        Some("cyclonedx"),
    );
    assert!(!ok);
    assert_eq!(v["results"][0]["check"], "signature", "{v}");
}

#[test]
fn cosign_bundle_referrers_verify() {
    let (reg, p) = setup();
    // cosign 3 `sign` (keyless and keyed): DSSE image signatures, through `verify`.
    let name = "ocx-cosign3-bundle-keyless";
    push_subject(&p, "ocx", name);
    push_bundle_referrer(&p, "ocx", name, None);
    let root = dir(&format!("{name}/trusted_root.json"));
    let img = image(&reg, "ocx", name);
    let (ok, v) = verify(
        &img,
        &root,
        &[
            "--certificate-identity",
            "ocx-test@example.com",
            "--certificate-oidc-issuer",
            "http://dex:5556/dex",
        ],
        None,
    );
    assert!(ok, "{v}");
    assert_eq!(v["results"][0]["format"], "cosign-bundle", "{v}");
    assert_eq!(v["results"][0]["identity"], "ocx-test@example.com");

    let name = "ocx-cosign3-bundle-key";
    push_subject(&p, "ocxkey", name);
    push_bundle_referrer(&p, "ocxkey", name, None);
    let img = image(&reg, "ocxkey", name);
    let root = dir(&format!("{name}/trusted_root.json"));
    let (ok, v) = verify(&img, &root, &["--key", &key_arg(name, "cosign.pub")], None);
    assert!(ok, "{v}");
    assert_eq!(v["results"][0]["format"], "cosign-bundle");
    let (ok, v) = verify(
        &img,
        &root,
        &["--key", &key_arg("cimage-key", "cosign.pub")],
        None,
    );
    assert!(!ok, "{v}");

    // cosign 2 `attest --new-bundle-format` (public-good): through `verify-attestation`.
    let name = "cosign-oci-attestation-bundle";
    push_subject(&p, "att", name);
    push_bundle_referrer(&p, "att", name, None);
    let img = image(&reg, "att", name);
    let root = dir(&format!("{name}/trusted_root_pgi.json"));
    let id = [
        "--certificate-identity",
        "cody@soyland.com",
        "--certificate-oidc-issuer",
        "https://github.com/login/oauth",
    ];
    let (ok, v) = verify(&img, &root, &id, Some("custom"));
    assert!(ok, "{v}");
    assert_eq!(v["results"][0]["format"], "sigstore-bundle");
    // A tampered copy (a flipped byte of the DSSE signature) fails.
    let mut b: Value =
        signet_proto::json::from_slice(&read(name, "oci-attestation.sigstore.json")).unwrap();
    let sig = b["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = if sig.starts_with('M') {
        sig.replacen('M', "N", 1)
    } else {
        format!("M{}", &sig[1..])
    };
    b["dsseEnvelope"]["signatures"][0]["sig"] = json!(flipped);
    push_bundle_referrer(
        &p,
        "atttampered",
        name,
        Some(serde_json::to_vec(&b).unwrap()),
    );
    push_subject(&p, "atttampered", name);
    let (ok, v) = verify(
        &image(&reg, "atttampered", name),
        &root,
        &id,
        Some("custom"),
    );
    assert!(!ok, "{v}");
    assert_eq!(v["results"][0]["check"], "signature", "{v}");
}

#[test]
fn json_output_reports_errors_too() {
    let (reg, _p) = setup();
    // Nothing attached.
    let (ok, v) = verify(
        &format!("{}/nothing@sha256:{}", reg.addr, "ab".repeat(32)),
        &public_good_root(),
        &keyless_args(),
        None,
    );
    assert!(!ok);
    assert_eq!(v["check"], "none-found", "{v}");
    // A missing trust root: an input error, as JSON, exit 2.
    let out = run(signet()
        .args([
            "verify",
            "--trusted-root",
            "/nonexistent/trusted_root.json",
            "--output",
            "json",
        ])
        .args(keyless_args())
        .arg(format!("{}/x@sha256:{}", reg.addr, "ab".repeat(32))));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let v = json_out(&out);
    assert_eq!(v["ok"], false);
    assert_eq!(v["check"], "input");
    assert!(v["error"].as_str().unwrap().contains("trusted root"), "{v}");
    // An unreachable registry: a registry error, as JSON.
    let port = support::free_port();
    let out = run(signet()
        .args(["verify", "--output", "json", "--trusted-root"])
        .arg(public_good_root())
        .args(keyless_args())
        .arg(format!("127.0.0.1:{port}/x@sha256:{}", "ab".repeat(32))));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let v = json_out(&out);
    assert_eq!(v["check"], "registry", "{v}");
}

/// The admission webhook admits images signed only with cosign `.sig` tags (keyless and
/// keyed, each under its rule) and denies a copied tag and a bad SET, naming why.
#[test]
fn admission_webhook_accepts_cosign_sig_tags() {
    let (reg, p) = setup();
    let r = &reg.addr;
    push_cosign_tag(&p, "keyless", KEYLESS, "sig");
    let keyed = "cimage-key-rekor-public-good";
    push_cosign_tag(&p, "keyed", keyed, "sig");
    // The keyless tag copied to another image, and a bad SET.
    let other = p.blob("copied", b"another image");
    let other_manifest = serde_json::to_vec(&json!({"schemaVersion":2,"mediaType":OCI_MANIFEST,
        "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":13,"digest":other},"layers":[]})).unwrap();
    let other_digest = p.manifest("copied", "v1", &other_manifest);
    let layers = fixture_layers(KEYLESS);
    let m = build_sig_manifest(&p, "copied", &layers);
    p.manifest(
        "copied",
        &format!("{}.sig", other_digest.replace(':', "-")),
        &m,
    );
    let mut bad = fixture_layers(KEYLESS);
    let mut b: Value = serde_json::from_str(&bad[0].2["dev.sigstore.cosign/bundle"]).unwrap();
    b["Payload"]["logIndex"] = json!(1);
    bad[0]
        .2
        .insert("dev.sigstore.cosign/bundle".to_owned(), b.to_string());
    push_sig_layers(&p, "badset", KEYLESS, &bad);

    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            "[[rule]]\nimages = [\"{r}/keyless\", \"{r}/copied\", \"{r}/badset\"]\nidentity = \"mitr@redhat.com\"\nissuer = \"https://github.com/login/oauth\"\n\n[[rule]]\nimages = [\"{r}/keyed\"]\nkey = \"{}\"\n",
            key_arg(keyed, "cosign2.pub")
        ),
    )
    .unwrap();
    let webhook = Webhook::new(&policy)
        .insecure_http()
        // The same image digest is checked under several repositories: no cache.
        .no_cache()
        .trusted_root(public_good_root())
        .start();
    let call = |uid: &str, image: &str| validate(&webhook.url, uid, image);
    let resp = call("keyless", &image(&reg, "keyless", KEYLESS));
    assert_eq!(resp["allowed"], true, "{resp}");
    let resp = call("keyed", &image(&reg, "keyed", keyed));
    assert_eq!(resp["allowed"], true, "{resp}");
    let resp = call("copied", &format!("{r}/copied:v1"));
    assert_eq!(resp["allowed"], false, "{resp}");
    assert!(
        resp["status"]["message"]
            .as_str()
            .unwrap()
            .contains("another image"),
        "{resp}"
    );
    let resp = call("badset", &image(&reg, "badset", KEYLESS));
    assert_eq!(resp["allowed"], false, "{resp}");
    assert!(
        resp["status"]["message"]
            .as_str()
            .unwrap()
            .contains("signed entry timestamp"),
        "{resp}"
    );
}

/// The admission webhook admits an image signed with cosign 3's bundle format (a bundle
/// referrer, `ocx-cosign3-bundle-keyless`, under its own trust root) and denies the same image
/// whose bundle's signature was altered, naming the check.
#[test]
fn admission_webhook_accepts_cosign3_bundle_referrers() {
    let (reg, p) = setup();
    let r = &reg.addr;
    let name = "ocx-cosign3-bundle-keyless";
    push_subject(&p, "ocx", name);
    push_bundle_referrer(&p, "ocx", name, None);
    let mut bundle: Value =
        signet_proto::json::from_slice(&read(name, fixture(name)["bundle"].as_str().unwrap()))
            .unwrap();
    let sig = bundle["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = if sig.starts_with('M') { 'N' } else { 'M' };
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = json!(format!("{flipped}{}", &sig[1..]));
    push_subject(&p, "ocxbad", name);
    push_bundle_referrer(
        &p,
        "ocxbad",
        name,
        Some(serde_json::to_vec(&bundle).unwrap()),
    );
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            "[[rule]]\nimages = [\"{r}/ocx\", \"{r}/ocxbad\"]\nidentity = \"ocx-test@example.com\"\nissuer = \"http://dex:5556/dex\"\n"
        ),
    )
    .unwrap();
    let webhook = Webhook::new(&policy)
        .insecure_http()
        .no_cache()
        .trusted_root(dir(&format!("{name}/trusted_root.json")))
        .start();
    let resp = validate(&webhook.url, "ocx", &image(&reg, "ocx", name));
    assert_eq!(resp["allowed"], true, "{resp}");
    let resp = validate(&webhook.url, "ocxbad", &image(&reg, "ocxbad", name));
    assert_eq!(resp["allowed"], false, "{resp}");
    let message = resp["status"]["message"].as_str().unwrap();
    assert!(message.contains("signature"), "{resp}");
}

/// Pushes `layers` as the fixture's `.sig` tag in `repo`.
fn push_sig_layers(
    p: &Pusher,
    repo: &str,
    name: &str,
    layers: &[(String, Vec<u8>, BTreeMap<String, String>)],
) {
    let tag = format!(
        "{}.sig",
        fixture(name)["image_digest"]
            .as_str()
            .unwrap()
            .replace(':', "-")
    );
    let m = build_sig_manifest(p, repo, layers);
    p.manifest(repo, &tag, &m);
}

/// `signet tree` lists the bundle referrer and the cosign tags attached to an image, with
/// digests; `signet download` writes them as files.
#[test]
fn tree_and_download_list_and_write_what_is_attached() {
    let (reg, p) = setup();
    let name = "ocx-cosign3-bundle-key";
    push_subject(&p, "ocx", name);
    push_bundle_referrer(&p, "ocx", name, None);
    push_cosign_tag(&p, "ocx", "ocx-cosign3-sig-key", "sig");
    push_cosign_tag(&p, "ocx", "ocx-cosign3-att-key", "att");
    let img = image(&reg, "ocx", name);
    let out = run(signet().args(["tree", &img]));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let f = fixture(name);
    for want in [
        "sigstore-bundle [dsse-envelope] predicateType=https://sigstore.dev/cosign/sign/v1",
        f["referrer_manifest_digest"].as_str().unwrap(),
        f["bundle_digest"].as_str().unwrap(),
        "cosign-sig: sha256-47f8439476b73b7e7bb389322dd6d5c6eef89efc61c86bfef8bade66774b36fe.sig",
        "cosign-att: sha256-47f8439476b73b7e7bb389322dd6d5c6eef89efc61c86bfef8bade66774b36fe.att",
        "application/vnd.dev.cosign.simplesigning.v1+json sha256:aa6570c4e3552cb3703459bf157f721c088393dbe84e7fc005235e824c0d90e1",
        "application/vnd.dsse.envelope.v1+json",
    ] {
        assert!(stdout.contains(want), "{want} not in:\n{stdout}");
    }
    let out = run(signet().args(["tree", "--output", "json", &img]));
    let v = json_out(&out);
    let kinds: Vec<&str> = v["attached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["sigstore-bundle", "cosign-sig", "cosign-att"],
        "{v}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let out = run(signet()
        .args(["download", &img, "--output-dir"])
        .arg(&out_dir));
    assert!(out.status.success(), "{}", text(&out));
    let rd = f["referrer_manifest_digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:");
    assert_eq!(
        std::fs::read(out_dir.join(format!("{rd}.sigstore.json"))).unwrap(),
        read(name, "bundle.json")
    );
    let sig_layer = "aa6570c4e3552cb3703459bf157f721c088393dbe84e7fc005235e824c0d90e1";
    assert_eq!(
        std::fs::read(out_dir.join(format!("cosign-sig-{sig_layer}.payload"))).unwrap(),
        read("ocx-cosign3-sig-key", "layer-1.payload")
    );
    let sig = std::fs::read_to_string(out_dir.join(format!("cosign-sig-{sig_layer}.sig"))).unwrap();
    assert!(sig.starts_with("MEUCIC25s"), "{sig}");
    let att: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".dsse.json"))
        .collect();
    assert_eq!(att.len(), 1);
    assert_eq!(
        std::fs::read(att[0].path()).unwrap(),
        read("ocx-cosign3-att-key", "layer-1.payload")
    );

    // Nothing attached: tree says so, download fails.
    let out = run(signet().args([
        "tree",
        &format!("{}/empty@sha256:{}", reg.addr, "ab".repeat(32)),
    ]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("nothing attached"));
    let out = run(signet()
        .args([
            "download",
            &format!("{}/empty@sha256:{}", reg.addr, "ab".repeat(32)),
            "--output-dir",
        ])
        .arg(tmp.path().join("none")));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}
