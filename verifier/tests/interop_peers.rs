//! Interop: bundles built in-process (tests/common) that signet-verifier accepts must also be
//! accepted by sigstore-python (pip `sigstore`, checked with `python3 -c 'import sigstore'`)
//! and sigstore-js (`@sigstore/verify` 3.x installed by `npm ci` in verifier/tests/js), and a
//! bundle signet-verifier rejects must be rejected by them too. This proves our bytes are right.
//!
//! The peers are required: the test fails with an explanation when one is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{build, Knobs};
use signet_verifier::{verify, Artifact, UnixTime};

const PY_VERIFY: &str = r#"
import sys
from pathlib import Path
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy
d = Path(sys.argv[1]); identity, issuer = sys.argv[2], sys.argv[3]
verifier = Verifier(trusted_root=TrustedRoot.from_file(str(d / "trusted_root.json")))
bundle = Bundle.from_json((d / "artifact.txt.sigstore.json").read_bytes())
pol = policy.Identity(identity=identity, issuer=issuer)
try:
    if bundle._inner.dsse_envelope is not None:
        verifier.verify_dsse(bundle, pol)
    else:
        verifier.verify_artifact((d / "artifact.txt").read_bytes(), bundle, pol)
except Exception as e:
    print("FAIL", type(e).__name__, e)
    sys.exit(1)
print("OK")
"#;

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

fn require_peers() {
    let py = Command::new("python3")
        .args(["-c", "import sigstore"])
        .output();
    assert!(
        py.is_ok_and(|o| o.status.success()),
        "sigstore-python is missing: `python3 -c 'import sigstore'` failed (pip install sigstore)"
    );
    assert!(
        js_dir().join("node_modules/@sigstore/verify").is_dir(),
        "sigstore-js is missing: run `npm ci` in verifier/tests/js"
    );
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "signet-verifier-interop-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn python(dir: &Path, identity: &str, issuer: &str) -> (bool, String) {
    let o = Command::new("python3")
        .args(["-c", PY_VERIFY])
        .arg(dir)
        .args([identity, issuer])
        .output()
        .expect("run python3");
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn node(dir: &Path, identity: &str, issuer: &str) -> (bool, String) {
    let o = Command::new("node")
        .arg(js_dir().join("verify.js"))
        .arg(dir.join("artifact.txt.sigstore.json"))
        .arg(dir.join("trusted_root.json"))
        .arg(dir.join("artifact.txt"))
        .args([identity, issuer])
        .output()
        .expect("run node");
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// Verifies with all three; returns (signet, python, js) acceptance.
fn all_three(name: &str, k: &Knobs) -> (bool, bool, bool) {
    let f = build(k);
    let ours = verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        &f.trust(),
        Some(UnixTime::from_unix_seconds(f.signing_time + 60)),
    );
    let dir = tmpdir(name);
    f.write_dir(&dir);
    let (py, py_out) = python(&dir, &f.identity, &f.issuer);
    let (js, js_out) = node(&dir, &f.identity, &f.issuer);
    eprintln!(
        "{name}: signet={:?}\n  python: {py_out}  js: {js_out}",
        ours.as_ref().map(|_| ())
    );
    let _ = std::fs::remove_dir_all(&dir);
    (ours.is_ok(), py, js)
}

#[test]
fn peers_accept_what_signet_accepts() {
    require_peers();
    let cases = [
        ("hashedrekord-p256", Knobs::default()),
        ("hashedrekord-p384-ca", Knobs { ca_p384: true, ..Knobs::default() }),
        ("dsse", Knobs { dsse: true, ..Knobs::default() }),
        (
            "dsse-with-keyid",
            Knobs {
                dsse: true,
                dsse_keyid: Some("signer-key-1".into()),
                ..Knobs::default()
            },
        ),
        ("ed25519-log", Knobs { ed25519_log: true, ..Knobs::default() }),
        (
            "witness-cosigned-checkpoint",
            Knobs {
                witnesses: vec![("witness.example".into(), [9u8; 32])],
                ..Knobs::default()
            },
        ),
        ("uri-identity", Knobs {
            san_uri: Some("https://github.com/signet-dev/signet/.github/workflows/release.yml@refs/heads/main".into()),
            issuer: "https://token.actions.githubusercontent.com".into(),
            ..Knobs::default()
        }),
    ];
    for (name, k) in cases {
        assert_eq!(
            all_three(name, &k),
            (true, true, true),
            "{name}: all three must accept"
        );
    }
}

#[test]
fn peers_reject_what_signet_rejects() {
    require_peers();
    let cases = [
        (
            "tampered-checkpoint",
            Knobs {
                tamper_checkpoint: true,
                ..Knobs::default()
            },
        ),
        (
            "wrong-signature",
            Knobs {
                wrong_signature: true,
                ..Knobs::default()
            },
        ),
        (
            "expired-leaf",
            Knobs {
                integrated_after_leaf_expiry: true,
                ..Knobs::default()
            },
        ),
        (
            "bad-proof",
            Knobs {
                bad_proof_hash: true,
                ..Knobs::default()
            },
        ),
        (
            "no-sct",
            Knobs {
                with_sct: false,
                ..Knobs::default()
            },
        ),
    ];
    for (name, k) in cases {
        assert_eq!(
            all_three(name, &k),
            (false, false, false),
            "{name}: all three must reject"
        );
    }
}
