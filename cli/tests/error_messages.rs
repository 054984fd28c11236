//! Errors a new user meets, through the binary: each names what is wrong and what to do
//! (issue 18, "Errors that name the fix").

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn signet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_signet"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn image_reference_with_a_scheme_names_the_reference_without_it_and_the_plain_http_flag() {
    let out = signet()
        // Named before the missing signing configuration.
        .args(["sign", "http://127.0.0.1:5000/demo/hello:v1"])
        .env_remove("SIGNET_CA_URL")
        .env_remove("SIGNET_LOG_URL")
        .env_remove("SIGNET_SIGNING_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("an image reference has no scheme; drop \"http://\" and write \"127.0.0.1:5000/demo/hello:v1\""),
        "{err}"
    );
    assert!(err.contains("--allow-insecure-registry"), "{err}");
    assert!(!err.contains("lowercase path components"), "{err}");
}

#[test]
fn refused_connection_shows_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("k");
    let out = signet()
        .args(["generate-key-pair", "--output-key-prefix"])
        .arg(&prefix)
        .env("SIGNET_PASSWORD", "pw")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let file = dir.path().join("blob");
    std::fs::write(&file, b"hello").unwrap();
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let out = signet()
        .args(["sign-blob", "--ca-url", &url, "--log-url", &url, "--key"])
        .arg(dir.path().join("k.key"))
        .arg(&file)
        .env("SIGNET_PASSWORD", "pw")
        .env_remove("SIGNET_SIGNING_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&format!("request to {url}/")), "{err}");
    assert_eq!(err.matches("Connection refused").count(), 1, "{err}");
    assert_eq!(err.matches("error sending request").count(), 1, "{err}");
    assert_eq!(err.matches(&url).count(), 1, "{err}");
}
