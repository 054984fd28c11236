//! hashedrekord entries signed with every key type the log accepts (ECDSA P-256 / P-384 over
//! a SHA-256 digest, RSA 2048 / 3072 PKCS#1 v1.5) and the ones it refuses (RSA 1024, P-521,
//! Ed25519), with keys and signatures made by the `openssl` command line, an independent
//! implementation.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use axum::http::StatusCode;
use common::{
    call, check_entry, error_message, hashedrekord_raw, mem_log, openssl, parse_entry, sha256,
    test_config, HOST,
};

/// Generates a key with `genpkey_args`, signs `artifact` with `openssl dgst -sha256 -sign`,
/// and returns (public key PEM, signature).
fn key_and_signature(
    dir: &Path,
    name: &str,
    genpkey_args: &[&str],
    artifact: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let key = format!("{name}.key");
    let mut args = vec!["genpkey", "-out", &key];
    args.extend_from_slice(genpkey_args);
    openssl(dir, &args);
    let public = openssl(dir, &["pkey", "-in", &key, "-pubout"]);
    let data = format!("{name}.data");
    std::fs::write(dir.join(&data), artifact).unwrap();
    let signature = if genpkey_args.contains(&"ED25519") {
        openssl(
            dir,
            &["pkeyutl", "-sign", "-rawin", "-inkey", &key, "-in", &data],
        )
    } else {
        openssl(dir, &["dgst", "-sha256", "-sign", &key, &data])
    };
    (public, signature)
}

#[tokio::test]
async fn every_accepted_key_type_is_logged_and_the_rest_refused() {
    assert!(
        Command::new("openssl").arg("version").output().is_ok(),
        "openssl is required (apt-get install openssl)"
    );
    let dir = tempfile::tempdir().unwrap();
    let t = mem_log(&test_config(), vec![]);
    let accepted: [(&str, &[&str]); 4] = [
        (
            "p256",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
        (
            "p384",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        ),
        (
            "rsa2048",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        ),
        (
            "rsa3072",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
        ),
    ];
    for (i, (name, args)) in accepted.iter().enumerate() {
        let artifact = format!("artifact signed with {name}");
        let (public, sig) = key_and_signature(dir.path(), name, args, artifact.as_bytes());
        let digest = hex::encode(sha256(artifact.as_bytes()));
        let (s, _, b) = call(
            &t.router,
            "POST",
            "/api/v1/log/entries",
            Some(hashedrekord_raw(&public, &sig, &digest)),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::CREATED,
            "{name}: {}",
            String::from_utf8_lossy(&b)
        );
        let (uuid, e) = parse_entry(&b);
        let (index, _, _) = check_entry(&t.keys, HOST, &uuid, &e);
        assert_eq!(index, i as u64, "{name}");
        // The same key with the signature of another artifact is refused.
        let other = hex::encode(sha256(b"something else"));
        let (s, _, b) = call(
            &t.router,
            "POST",
            "/api/v1/log/entries",
            Some(hashedrekord_raw(&public, &sig, &other)),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{name}");
        let (_, msg) = error_message(&b);
        assert!(msg.contains("signature"), "{name}: {msg}");
    }
    let size = t.log.head().unwrap().size;
    let refused: [(&str, &[&str], &str); 3] = [
        (
            "rsa1024",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
            "2048",
        ),
        (
            "p521",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
            "curve",
        ),
        ("ed25519", &["-algorithm", "ED25519"], "Ed25519"),
    ];
    for (name, args, expect) in refused {
        let artifact = format!("artifact signed with {name}");
        let (public, sig) = key_and_signature(dir.path(), name, args, artifact.as_bytes());
        let digest = hex::encode(sha256(artifact.as_bytes()));
        let (s, _, b) = call(
            &t.router,
            "POST",
            "/api/v1/log/entries",
            Some(hashedrekord_raw(&public, &sig, &digest)),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{name}");
        let (_, msg) = error_message(&b);
        assert!(msg.contains(expect), "{name}: {msg}");
    }
    assert_eq!(
        t.log.head().unwrap().size,
        size,
        "refused entries store nothing"
    );
}
