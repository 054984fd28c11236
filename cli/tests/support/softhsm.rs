//! Test helper: a fresh SoftHSM2 token holding a P-256 key generated inside it (sensitive,
//! non-extractable), for the tests that sign with keys in a PKCS#11 token.

#![allow(dead_code, clippy::unwrap_used, unreachable_pub, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use signet_ca::signer::{CaCurve, Pkcs11KeyRef, Pkcs11Signer};

/// Debian's SoftHSM2 module.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// Creates a token labelled `token` (user PIN 1234, SO PIN 5678) under `dir` with a P-256
/// key labelled `object`, and returns the SoftHSM2 config path. It sets `SOFTHSM2_CONF` for
/// this process (the module reads it when a test opens the token), so a test binary using it
/// holds a single test.
pub fn token_with_key(dir: &Path, token: &str, object: &str) -> PathBuf {
    assert!(
        Path::new(MODULE).exists(),
        "{MODULE} is missing (apt-get install -y softhsm2)"
    );
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let st = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            token,
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util must be installed");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let key_ref = Pkcs11KeyRef {
        module: MODULE.into(),
        token_label: token.into(),
        pin: "1234".into(),
        key_label: object.into(),
    };
    drop(Pkcs11Signer::generate(&key_ref, CaCurve::P256).unwrap());
    conf
}
