//! TUF root keys in a PKCS#11 token (issue 19: "root keys ... files, or PKCS#11"): `signet
//! trust init` makes a 2-of-2 root from a SoftHSM2 key and a key file, `trust rotate-root`
//! signs with the token key under the old and the new threshold, and python-tuf (the judge)
//! verifies both roots. A wrong PIN stops `init` before anything is written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use support::softhsm::{token_with_key, MODULE};
use support::{require_tools, run, signet, text};

const TOKEN: &str = "signet-root";

fn trust(conf: &Path) -> Command {
    let mut c = signet();
    for var in ["SIGNET_PKCS11_PIN", "SIGNET_PKCS11_MODULE"] {
        c.env_remove(var);
    }
    c.env("SOFTHSM2_CONF", conf).stdin(Stdio::null());
    c.arg("trust");
    c
}

/// python-tuf: the key ids that verify `root` under the root role of `trusted` (which may be
/// `root` itself), and whether they reach its threshold.
fn python_tuf_signers(trusted: &Path, root: &Path) -> (bool, Vec<String>) {
    let script = r#"
import json, sys
from tuf.api.metadata import Metadata, Root
trusted = Metadata[Root].from_file(sys.argv[1]).signed
md = Metadata[Root].from_file(sys.argv[2])
r = trusted.get_verification_result(Root.type, md.signed_bytes, md.signatures)
print(json.dumps({"verified": r.verified, "signed": sorted(r.signed)}))
"#;
    let out = run(Command::new("python3")
        .args(["-c", script])
        .arg(trusted)
        .arg(root));
    assert!(out.status.success(), "python-tuf: {}", text(&out));
    let v: serde_json::Value = signet_proto::json::from_slice(&out.stdout).unwrap();
    (
        v["verified"].as_bool().unwrap(),
        v["signed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect(),
    )
}

fn key_ids(root: &Path) -> Vec<String> {
    let v: serde_json::Value =
        signet_proto::json::from_slice(&std::fs::read(root).unwrap()).unwrap();
    let mut ids: Vec<String> = v["signed"]["roles"]["root"]["keyids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn root_keys_in_a_pkcs11_token_sign_roots_that_python_tuf_accepts() {
    require_tools(&["softhsm2-util", "openssl", "python3"]);
    let dir = tempfile::tempdir().unwrap();
    let conf = token_with_key(dir.path(), TOKEN, "root key");
    let uri = format!("pkcs11:token={TOKEN};object=root%20key?module-path={MODULE}&pin-value=1234");
    let file_key = dir.path().join("root-file.pem");
    let out = run(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&file_key));
    assert!(out.status.success(), "{}", text(&out));
    let repo = dir.path().join("tuf");

    // Bad input: a wrong PIN is refused, naming the token, and nothing is written.
    let wrong = uri.replace("pin-value=1234", "pin-value=9999");
    let out = run(trust(&conf)
        .args(["init", "--root-key", &wrong, "--root-key"])
        .arg(&file_key)
        .args(["--threshold", "2", "--out"])
        .arg(&repo));
    assert!(!out.status.success(), "init with a wrong PIN succeeded");
    assert!(text(&out).contains(TOKEN), "{}", text(&out));
    assert!(!repo.exists(), "a failed init left {}", repo.display());

    // 2 of 2: the token key and the file key.
    let out = run(trust(&conf)
        .args(["init", "--root-key", &uri, "--root-key"])
        .arg(&file_key)
        .args(["--threshold", "2", "--out"])
        .arg(&repo));
    assert!(out.status.success(), "trust init: {}", text(&out));
    let root1 = repo.join("1.root.json");
    let ids1 = key_ids(&root1);
    assert_eq!(ids1.len(), 2, "{ids1:?}");
    let (ok, signed) = python_tuf_signers(&root1, &root1);
    assert!(ok, "python-tuf refused root v1 (signed by {signed:?})");
    assert_eq!(
        signed, ids1,
        "both root keys, the token's among them, signed"
    );

    // The file key alone is below the old 2-of-2 threshold: refused, nothing written.
    let out = run(trust(&conf)
        .args(["rotate-root", "--dir"])
        .arg(&repo)
        .arg("--key")
        .arg(&file_key));
    assert!(
        !out.status.success(),
        "rotate-root under the old threshold with one of two keys succeeded"
    );
    assert!(!repo.join("2.root.json").exists());

    // Rotate: both sign (the old 2-of-2 threshold), the file key leaves, the token key alone
    // holds the new root (1 of 1).
    let out = run(trust(&conf)
        .args(["rotate-root", "--dir"])
        .arg(&repo)
        .args(["--key", &uri, "--key"])
        .arg(&file_key)
        .arg("--remove-key")
        .arg(&file_key)
        .args(["--threshold", "1"]));
    assert!(out.status.success(), "rotate-root: {}", text(&out));
    let root2 = repo.join("2.root.json");
    let ids2 = key_ids(&root2);
    assert_eq!(ids2.len(), 1, "{ids2:?}");
    assert!(ids1.contains(&ids2[0]));
    // As a TUF client updates: v2 verifies under v1's root role and under its own.
    let (ok, signed) = python_tuf_signers(&root1, &root2);
    assert!(
        ok,
        "python-tuf: root v2 under v1's threshold (signed by {signed:?})"
    );
    let (ok, signed) = python_tuf_signers(&root2, &root2);
    assert!(
        ok,
        "python-tuf: root v2 under its own threshold (signed by {signed:?})"
    );
    assert!(signed.contains(&ids2[0]), "the token key signed v2");
}
