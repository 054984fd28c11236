//! `signet generate-key-pair` through the binary: files, permissions, format, and the
//! wrong-password error of `sign-blob --key`.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

fn signet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_signet"))
}

#[test]
fn generate_key_pair_writes_encrypted_key_and_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("k");
    let out = signet()
        .args(["generate-key-pair", "--output-key-prefix"])
        .arg(&prefix)
        .env("SIGNET_PASSWORD", "hunter2")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = std::fs::read_to_string(dir.path().join("k.key")).unwrap();
    let public = std::fs::read_to_string(dir.path().join("k.pub")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    // Standard encrypted PKCS#8: openssl decrypts it with the password and derives the same
    // public key (a missing openssl fails the test).
    let derived = Command::new("openssl")
        .args(["pkey", "-pubout", "-passin", "pass:hunter2", "-in"])
        .arg(dir.path().join("k.key"))
        .output()
        .expect("the openssl CLI must be installed");
    assert!(
        derived.status.success(),
        "{}",
        String::from_utf8_lossy(&derived.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&derived.stdout), public);
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let mode = std::fs::metadata(dir.path().join("k.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "private key must be owner-only");

    // A second run refuses to overwrite.
    let again = signet()
        .args(["generate-key-pair", "--output-key-prefix"])
        .arg(&prefix)
        .env("SIGNET_PASSWORD", "hunter2")
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
}

#[test]
fn wrong_password_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("k");
    let st = signet()
        .args(["generate-key-pair", "--output-key-prefix"])
        .arg(&prefix)
        .env("SIGNET_PASSWORD", "right")
        .status()
        .unwrap();
    assert!(st.success());
    let blob = dir.path().join("blob");
    std::fs::write(&blob, b"data").unwrap();
    // The key is decrypted before any server is contacted, so the unreachable log is unused.
    let out = signet()
        .args(["sign-blob", "--log-url", "http://127.0.0.1:9", "--key"])
        .arg(dir.path().join("k.key"))
        .arg(&blob)
        .env("SIGNET_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong password"), "{err}");
    assert!(!dir.path().join("blob.sigstore.json").exists());
}
