//! `signet verify-blob` on the public staging Rekor v2 bundle (hashedrekord 0.0.2 over a DSSE
//! envelope, RFC 3161 timestamp from the staging TSA), vendored in `testdata/sigstore/public/`
//! (provenance in `testdata/sigstore/README.md`), and on tampered copies of it: a v2 entry
//! has no SET, so its time comes from the timestamp alone, and a copy without a valid
//! timestamp must be refused; so must copies with a changed proof, checkpoint, body or
//! signature, or another identity.
//!
//! The artifact is given as its `sha256:` digest, the in-toto subject of the envelope.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;
use support::{run, signet, text};

const DIGEST: &str = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
const SAN: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn public(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/sigstore/public")
        .join(name)
}

fn bundle() -> Value {
    signet_proto::json::from_slice(&std::fs::read(public("bundle_v3_rekor2_dsse.json")).unwrap())
        .unwrap()
}

fn verify(bundle: &Value, identity: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.sigstore.json");
    std::fs::write(&path, serde_json::to_vec(bundle).unwrap()).unwrap();
    run(signet()
        .arg("verify-blob")
        .arg(DIGEST)
        .arg("--bundle")
        .arg(&path)
        .arg("--trusted-root")
        .arg(public("staging_trusted_root.json"))
        .args(["--certificate-identity", identity])
        .args(["--certificate-oidc-issuer", ISSUER])
        .args(["--output", "json"]))
}

fn b64_flip(v: &mut Value, at_from_end: usize) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut raw = b64.decode(v.as_str().unwrap()).unwrap();
    let i = raw.len() - 1 - at_from_end;
    raw[i] ^= 1;
    *v = Value::String(b64.encode(raw));
}

#[test]
fn the_staging_rekor_v2_bundle_verifies() {
    let b = bundle();
    assert_eq!(
        b["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["version"],
        "0.0.2"
    );
    let out = verify(&b, SAN);
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = signet_proto::json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["results"][0]["identity"], SAN);
}

#[test]
fn tampered_copies_of_the_staging_rekor_v2_bundle_are_refused() {
    type Tamper = fn(&mut Value);
    let cases: Vec<(&str, Tamper)> = vec![
        ("no timestamp", |b| {
            b["verificationMaterial"]
                .as_object_mut()
                .unwrap()
                .remove("timestampVerificationData");
        }),
        ("empty timestamp list", |b| {
            b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] =
                Value::Array(vec![]);
        }),
        ("timestamp signature flipped", |b| {
            b64_flip(
                &mut b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
                    ["signedTimestamp"],
                3,
            );
        }),
        ("inclusion proof hash flipped", |b| {
            b64_flip(
                &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][0],
                0,
            );
        }),
        ("root hash flipped", |b| {
            b64_flip(
                &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["rootHash"],
                0,
            );
        }),
        ("checkpoint size changed", |b| {
            let cp = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
                ["checkpoint"]["envelope"];
            let text = cp
                .as_str()
                .unwrap()
                .replacen("\n4026479\n", "\n4026480\n", 1);
            *cp = Value::String(text);
        }),
        ("body flipped", |b| {
            b64_flip(
                &mut b["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"],
                10,
            );
        }),
        ("envelope signature flipped", |b| {
            b64_flip(&mut b["dsseEnvelope"]["signatures"][0]["sig"], 2);
        }),
        ("log index changed", |b| {
            b["verificationMaterial"]["tlogEntries"][0]["logIndex"] =
                Value::String("4026477".to_owned());
        }),
    ];
    for (name, tamper) in cases {
        let mut b = bundle();
        tamper(&mut b);
        assert_ne!(b, bundle(), "{name}: the copy differs");
        let out = verify(&b, SAN);
        assert!(!out.status.success(), "{name}: accepted: {}", text(&out));
    }
    // Another identity.
    let out = verify(
        &bundle(),
        "https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main",
    );
    assert!(!out.status.success(), "another identity accepted");
}
