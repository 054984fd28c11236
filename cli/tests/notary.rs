//! Notary Project (notation) signatures end to end: the OCI layouts of notation's own e2e
//! tests (testdata/notary/oci-layout, real signatures, the older manifest form with the
//! referrers tag index) are pushed byte for byte to a local docker-registry and verified with
//! `signet verify --notation-trust-policy --notation-trust-store`, using notation's trust
//! policies and a trust store in notation's layout; tampered copies fail with their own check.
//!
//! docker-registry 2.8 has no referrers API, so discovery goes through the referrers tag
//! schema (`sha256-<hex>` index), as notation's e2e layouts carry it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::push::Pusher;
use support::{json_out, require_tools, run, signet, text, TestRegistry};

const IMAGE: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
const E2E_SIGNER: &str = "C=US, ST=WA, L=Seattle, O=Notary, CN=e2e";

fn notary(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/notary")
        .join(path)
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("test vector {}: {e}", p.display()))
}

struct Setup {
    reg: TestRegistry,
    pusher: Pusher,
}

fn setup() -> Setup {
    require_tools(&["docker-registry", "skopeo", "umoci"]);
    let reg = TestRegistry::start();
    let pusher = Pusher::new(&reg);
    Setup { reg, pusher }
}

fn verify(
    s: &Setup,
    image: &str,
    policy: &Path,
    store: &Path,
    extra: &[&str],
) -> std::process::Output {
    run(signet()
        .arg("verify")
        .arg(format!("{}/{image}", s.reg.addr))
        .arg("--notation-trust-policy")
        .arg(policy)
        .arg("--notation-trust-store")
        .arg(store)
        .args(["--output", "json"])
        .args(extra))
}

fn results(v: &Value) -> Vec<Value> {
    v["results"].as_array().cloned().unwrap_or_default()
}

#[test]
fn notation_signatures_verify_from_a_registry() {
    let s = setup();
    let store = notary("truststore");
    let strict = notary("trustpolicy/trustpolicy.json");

    // Two signatures, one by the trusted e2e certificate: verified, the other untrusted.
    s.pusher.layout(
        "e2e/multi",
        &notary("oci-layout/e2e-valid-multiple-signatures"),
    );
    // The layout's referrers tag index lists only the first signature (notation pushed the
    // second through a registry with the referrers API): list both, as that API would.
    let both = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f", "size": 728, "artifactType": "application/vnd.cncf.notary.signature"},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:c3ebe4a20b6832328fc5078a7795ddc1114b896e13fca2add38109c3866b5fbf", "size": 728, "artifactType": "application/vnd.cncf.notary.signature"}
        ]
    });
    s.pusher.manifest(
        "e2e/multi",
        &format!("sha256-{}", &IMAGE[7..]),
        &serde_json::to_vec(&both).unwrap(),
    );
    let out = verify(&s, "e2e/multi:v1", &strict, &store, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let v = json_out(&out);
    assert_eq!(v["digest"], IMAGE, "{v}");
    let r = results(&v);
    assert_eq!(r.len(), 2, "{v}");
    let ok: Vec<&Value> = r.iter().filter(|o| o["ok"] == true).collect();
    assert_eq!(ok.len(), 1, "{v}");
    assert_eq!(ok[0]["format"], "notary");
    assert_eq!(ok[0]["identity"], E2E_SIGNER);
    assert_eq!(ok[0]["issuer"], "notation trust store ca:e2e");
    let bad = r.iter().find(|o| o["ok"] == false).unwrap();
    assert_eq!(bad["check"], "notary-authenticity", "{v}");
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("leads to no certificate of the trust stores ca:e2e"),
        "{v}"
    );

    // Text output names the format.
    let out = run(signet()
        .arg("verify")
        .arg(format!("{}/e2e/multi@{IMAGE}", s.reg.addr))
        .arg("--notation-trust-policy")
        .arg(&strict)
        .arg("--notation-trust-store")
        .arg(&store));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("format:     notary") && stdout.contains(E2E_SIGNER),
        "{}",
        text(&out)
    );

    // A policy whose scope is another repository: no statement applies.
    let out = verify(
        &s,
        "e2e/multi:v1",
        &notary("trustpolicy/invalid_registry_scope_trustpolicy.json"),
        &store,
        &[],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(results(&json_out(&out))[0]["check"], "notary-policy");

    // skip: accepted unverified, as notation does, and said so.
    let out = verify(
        &s,
        "e2e/multi:v1",
        &notary("trustpolicy/skip_trustpolicy.json"),
        &store,
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(results(&json_out(&out))[0]["check"], "notary-skip");
}

#[test]
fn expired_and_invalid_notation_signatures_fail_with_their_check() {
    let s = setup();
    let store = notary("truststore");
    let strict = notary("trustpolicy/trustpolicy.json");

    s.pusher
        .layout("e2e/expired", &notary("oci-layout/e2e-expired-signature"));
    let out = verify(&s, "e2e/expired:v1", &strict, &store, &[]);
    assert!(!out.status.success(), "{}", text(&out));
    let r = results(&json_out(&out));
    assert_eq!(r[0]["check"], "notary-expiry", "{r:?}");
    // permissive only logs expiry: verified, with the logged failure on stderr.
    let out = verify(
        &s,
        "e2e/expired:v1",
        &notary("trustpolicy/permissive_trustpolicy.json"),
        &store,
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expiry failed but policy"),
        "{}",
        text(&out)
    );

    s.pusher
        .layout("e2e/invalid", &notary("oci-layout/e2e-invalid-signature"));
    let out = verify(&s, "e2e/invalid:v1", &strict, &store, &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(results(&json_out(&out))[0]["check"], "notary-envelope");

    s.pusher.layout(
        "e2e/expired-cert",
        &notary("oci-layout/e2e-with-expired-cert"),
    );
    let out = verify(&s, "e2e/expired-cert:v1", &strict, &store, &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(results(&json_out(&out))[0]["check"], "notary-authenticity");

    // An image with no signature at all.
    s.reg.push_image("e2e/unsigned", "v1", "no signature here");
    let out = verify(&s, "e2e/unsigned:v1", &strict, &store, &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(json_out(&out)["check"], "none-found");
}

#[test]
fn tampered_notation_signature_in_the_registry_fails() {
    let s = setup();
    let store = notary("truststore");
    let strict = notary("trustpolicy/trustpolicy.json");
    let layout = notary("oci-layout/e2e-valid-signature");
    s.pusher.layout("e2e/tampered", &layout);
    // Verifies as pushed.
    let out = verify(&s, "e2e/tampered:v1", &strict, &store, &[]);
    assert!(out.status.success(), "{}", text(&out));

    // A copy of the envelope with one bit of its signature flipped, attached in place of the
    // original: a new layer, signature manifest and referrers tag index.
    let blobs = layout.join("blobs/sha256");
    let env_bytes =
        read(&blobs.join("c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50"));
    let template =
        read(&blobs.join("90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f"));
    s.pusher.attach_notary(
        "e2e/tampered",
        IMAGE,
        &template,
        &support::push::tamper_jws_signature(&env_bytes),
        None,
    );
    let out = verify(&s, "e2e/tampered:v1", &strict, &store, &[]);
    assert!(!out.status.success(), "{}", text(&out));
    let r = results(&json_out(&out));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["check"], "notary-integrity", "{r:?}");
    assert!(
        r[0]["error"].as_str().unwrap().contains("does not verify"),
        "{r:?}"
    );

    // The genuine envelope attached to another image: the signed target is not that image.
    s.reg.push_image("e2e/other", "v1", "another image");
    let other_digest = s.reg.skopeo_digest("e2e/other", "v1");
    let other_manifest_bytes = {
        let out = run(std::process::Command::new("skopeo").args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/e2e/other:v1", s.reg.addr),
        ]));
        out.stdout
    };
    s.pusher.attach_notary(
        "e2e/other",
        &other_digest,
        &template,
        &env_bytes,
        Some(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": other_digest,
            "size": other_manifest_bytes.len(),
        })),
    );
    let out = verify(&s, "e2e/other:v1", &strict, &store, &[]);
    assert!(!out.status.success(), "{}", text(&out));
    let r = results(&json_out(&out));
    assert_eq!(r[0]["check"], "notary-integrity", "{r:?}");
    assert!(
        r[0]["error"].as_str().unwrap().contains("another artifact"),
        "{r:?}"
    );
}
