//! CA rotation and revocation end to end (issue 19), judged by Sigstore's own client:
//! sigstore-python 4.5.1, bootstrapped only from Signet's TUF `1.root.json`
//! (`sigstore --instance URL/tuf trust-instance`), signs and verifies against `signet serve`
//! before and after `signet ca rotate` (a new intermediate, then a new root), and a bundle
//! signed before a rotation still verifies after it, with sigstore-python and with `signet
//! verify-blob` on its TUF-verified default root. Then `signet ca revoke` publishes a CRL
//! (a TUF target): `signet verify-blob` refuses the revoked certificate's bundle and still
//! accepts the others.
//!
//! Tests fail when a tool is missing (sigstore, openssl, node).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use support::tuf_serve::{
    get, python_sign, python_verify, signet_verify, sigstore, TufServe as Serve,
};
use support::{require_tools, rfc3339, run, signet, text, Oidc};

const EMAIL: &str = "rotation@example.com";

/// The leaf certificate of a bundle (DER) and its integrated time.
fn leaf_of(bundle: &Path) -> (Vec<u8>, i64) {
    let b: Value = signet_proto::json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
    let vm = &b["verificationMaterial"];
    let raw = vm["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
        .unwrap();
    let t = vm["tlogEntries"][0]["integratedTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .unwrap(),
        t,
    )
}

/// The issuer common name of a DER certificate, by openssl.
fn issuer_cn(der: &[u8], dir: &Path) -> String {
    let p = dir.join("leaf.der");
    std::fs::write(&p, der).unwrap();
    let out = run(Command::new("openssl")
        .args([
            "x509",
            "-inform",
            "DER",
            "-noout",
            "-issuer",
            "-nameopt",
            "multiline",
            "-in",
        ])
        .arg(&p));
    assert!(out.status.success(), "openssl x509: {}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout).into_owned();
    t.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("commonName")
                .map(|v| v.trim_start_matches([' ', '=']).trim().to_owned())
        })
        .unwrap_or_default()
}

/// The `certificateAuthorities` of the trusted root the TUF repository publishes.
fn published_cas(s: &Serve) -> Vec<Value> {
    let root: Value = signet_proto::json::from_slice(
        &get(&format!("{}/signet/v1/trusted_root.json", s.url)).unwrap(),
    )
    .unwrap();
    root["certificateAuthorities"].as_array().unwrap().clone()
}

#[test]
fn sigstore_python_signs_and_verifies_across_ca_rotations_and_revocation() {
    require_tools(&["sigstore", "openssl", "node"]);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let work = tempfile::tempdir().unwrap();
    let mut s = Serve::new(work.path(), &oidc.url);
    let py = work.path().join("py");
    let home = work.path().join("signet-home");
    let file = work.path().join("artifact.txt");
    std::fs::write(&file, b"signed across a CA rotation\n").unwrap();
    let root1 = s.data().join("tuf/1.root.json");

    // Bootstrapped from root.json alone.
    let out = run(sigstore(&py)
        .args(["--instance", &s.tuf_url(), "trust-instance"])
        .arg(&root1));
    assert!(out.status.success(), "trust-instance: {}", text(&out));
    let out = run(signet()
        .env("SIGNET_HOME", &home)
        .args(["trust", "init", "--mirror", &s.tuf_url(), "--root"])
        .arg(&root1));
    assert!(out.status.success(), "signet trust init: {}", text(&out));
    let before = python_sign(&s, &oidc, &py, &file, "before", EMAIL);
    let (ok, said) = python_verify(&s, &oidc, &py, &file, &before, EMAIL);
    assert!(ok, "sigstore verify (before): {said}");
    assert_eq!(
        issuer_cn(&leaf_of(&before).0, work.path()),
        "signet-intermediate"
    );
    assert_eq!(published_cas(&s).len(), 1);

    // Rotation 1: a new intermediate under the same root. A rotation needs the CA's password,
    // which only the data directory holds: a wrong --password-file is refused, nothing changes.
    let bad_pw = work.path().join("bad-password");
    std::fs::write(&bad_pw, "not the password\n").unwrap();
    let out = run(signet()
        .args(["ca", "rotate", "--data-dir"])
        .arg(s.data())
        .arg("--password-file")
        .arg(&bad_pw));
    assert!(!out.status.success(), "rotated with a wrong password");
    assert!(text(&out).contains("does not decrypt"), "{}", text(&out));
    assert!(!s.data().join("ca/authorities.json").exists());
    let out = run(signet()
        .args(["ca", "rotate", "--overlap-hours", "30", "--data-dir"])
        .arg(s.data()));
    assert!(out.status.success(), "ca rotate: {}", text(&out));
    assert!(text(&out).contains("generation 2"), "{}", text(&out));
    let targets_before: Value =
        signet_proto::json::from_slice(&get(&format!("{}/timestamp.json", s.tuf_url())).unwrap())
            .unwrap();
    s.restart();
    let cas = published_cas(&s);
    assert_eq!(cas.len(), 2, "{cas:?}");
    // The windows overlap: the old one ends 30 h after the new one starts.
    let start2 = cas[1]["validFor"]["start"].as_str().unwrap().to_owned();
    assert!(cas[1]["validFor"].get("end").is_none());
    let end1 = cas[0]["validFor"]["end"].as_str().unwrap().to_owned();
    assert!(end1 > start2, "{end1} <= {start2}");
    let targets_after: Value =
        signet_proto::json::from_slice(&get(&format!("{}/timestamp.json", s.tuf_url())).unwrap())
            .unwrap();
    assert!(
        targets_after["signed"]["version"].as_u64() > targets_before["signed"]["version"].as_u64(),
        "the TUF metadata was not re-signed after the rotation"
    );

    let after = python_sign(&s, &oidc, &py, &file, "after", EMAIL);
    assert_eq!(
        issuer_cn(&leaf_of(&after).0, work.path()),
        "signet-intermediate-2"
    );
    for (name, b) in [("before", &before), ("after", &after)] {
        let (ok, said) = python_verify(&s, &oidc, &py, &file, b, EMAIL);
        assert!(ok, "sigstore verify ({name}, after rotation 1): {said}");
        let (ok, said) = signet_verify(&home, &oidc, &file, b, EMAIL);
        assert!(ok, "signet verify-blob ({name}, after rotation 1): {said}");
    }

    // Rotation 2: a new root too (not at the same second as rotation 1).
    std::thread::sleep(Duration::from_millis(1100));
    let out = run(signet()
        .args(["ca", "rotate", "--new-root", "--data-dir"])
        .arg(s.data()));
    assert!(out.status.success(), "ca rotate --new-root: {}", text(&out));
    s.restart();
    assert_eq!(published_cas(&s).len(), 3);
    let new_root = python_sign(&s, &oidc, &py, &file, "newroot", EMAIL);
    assert_eq!(
        issuer_cn(&leaf_of(&new_root).0, work.path()),
        "signet-intermediate-3"
    );
    for (name, b) in [
        ("before", &before),
        ("after", &after),
        ("newroot", &new_root),
    ] {
        let (ok, said) = python_verify(&s, &oidc, &py, &file, b, EMAIL);
        assert!(ok, "sigstore verify ({name}, after rotation 2): {said}");
        let (ok, said) = signet_verify(&home, &oidc, &file, b, EMAIL);
        assert!(ok, "signet verify-blob ({name}, after rotation 2): {said}");
    }

    // Revocation: the certificate of `after` (issued by generation 2, no longer in use),
    // revoked from the second it signed at.
    let (leaf, signed_at) = leaf_of(&after);
    let leaf_path = work.path().join("after-leaf.der");
    std::fs::write(&leaf_path, &leaf).unwrap();
    let out = run(signet()
        .args([
            "ca",
            "revoke",
            "--generation",
            "2",
            "--reason",
            "keyCompromise",
            "--time",
        ])
        .arg(rfc3339(signed_at))
        .arg("--certificate")
        .arg(&leaf_path)
        .arg("--data-dir")
        .arg(s.data()));
    assert!(out.status.success(), "ca revoke: {}", text(&out));
    // The same serial again: refused.
    let out = run(signet()
        .args(["ca", "revoke", "--generation", "2", "--certificate"])
        .arg(&leaf_path)
        .arg("--data-dir")
        .arg(s.data()));
    assert!(!out.status.success());
    assert!(text(&out).contains("already revoked"), "{}", text(&out));
    s.restart();
    let crls = get(&format!("{}/signet/v1/crls.pem", s.url)).expect("crls.pem served");
    assert!(String::from_utf8_lossy(&crls).contains("-----BEGIN X509 CRL-----"));
    // openssl agrees the CRL lists the serial and is signed by generation 2's intermediate.
    let crl_path = work.path().join("crls.pem");
    std::fs::write(&crl_path, &crls).unwrap();
    let out = run(Command::new("openssl")
        .args(["crl", "-noout", "-text", "-in"])
        .arg(&crl_path)
        .arg("-CAfile")
        .arg(s.data().join("ca/gen2/chain.pem")));
    assert!(out.status.success(), "openssl crl: {}", text(&out));
    assert!(text(&out).contains("verify OK"), "{}", text(&out));
    assert!(text(&out).contains("Key Compromise"), "{}", text(&out));

    let (ok, said) = signet_verify(&home, &oidc, &file, &after, EMAIL);
    assert!(!ok, "a revoked certificate verified: {said}");
    assert!(
        said.contains("was revoked by") && said.contains("signet-intermediate-2"),
        "{said}"
    );
    for (name, b) in [("before", &before), ("newroot", &new_root)] {
        let (ok, said) = signet_verify(&home, &oidc, &file, b, EMAIL);
        assert!(
            ok,
            "signet verify-blob ({name}, after the revocation): {said}"
        );
    }
    // The TUF client stored the CRL next to the trusted root.
    let cached = std::fs::read_dir(home.join("tuf"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap()
        .join("crls.pem");
    assert_eq!(std::fs::read(&cached).unwrap(), crls);
    // sigstore-python, which does not read CRLs, still signs and verifies after it all.
    let last = python_sign(&s, &oidc, &py, &file, "last", EMAIL);
    let (ok, said) = python_verify(&s, &oidc, &py, &file, &last, EMAIL);
    assert!(ok, "sigstore verify (last): {said}");
    let (ok, said) = signet_verify(&home, &oidc, &file, &last, EMAIL);
    assert!(ok, "signet verify-blob (last): {said}");
    s.stop();
}
