//! Keyed signing under a trusted keys document (issue 19), through the binary: `signet keys
//! add` and `signet keys revoke` write the document, `signet verify-blob --trusted-keys`
//! (and the `trusted_keys.json` beside the trusted root, as `serve` and the TUF client keep
//! it) accepts a bundle only from a listed key valid and not revoked at its log-verified
//! signing time: a bundle signed one second before the revocation verifies, one signed at
//! the revocation's second does not. CA certificate revocation end to end is in
//! `ca_rotation.rs`.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::{require_tools, rfc3339, run, signet, text, Oidc, Server};

fn keypair(dir: &Path, prefix: &str) -> (PathBuf, PathBuf) {
    let p = dir.join(prefix);
    let out = run(signet()
        .args(["generate-key-pair", "--output-key-prefix"])
        .arg(&p)
        .env("SIGNET_PASSWORD", "hunter2"));
    assert!(out.status.success(), "generate-key-pair: {}", text(&out));
    (p.with_extension("key"), p.with_extension("pub"))
}

fn sign(server: &Server, key: &Path, file: &Path, tag: &str) -> (PathBuf, i64) {
    let bundle = file.with_extension(format!("{tag}.sigstore.json"));
    let out = run(signet()
        .arg("sign-blob")
        .arg(file)
        .arg("--key")
        .arg(key)
        .arg("--signing-config")
        .arg(server.signing_config())
        .arg("--bundle")
        .arg(&bundle)
        .env("SIGNET_PASSWORD", "hunter2"));
    assert!(out.status.success(), "sign-blob ({tag}): {}", text(&out));
    let b: Value = signet_proto::json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let t = b["verificationMaterial"]["tlogEntries"][0]["integratedTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (bundle, t)
}

fn verify(
    server: &Server,
    file: &Path,
    bundle: &Path,
    extra: &[&std::ffi::OsStr],
) -> (bool, String) {
    let out = run(signet()
        .env_remove("SIGNET_TRUSTED_ROOT")
        .arg("verify-blob")
        .arg(file)
        .arg("--bundle")
        .arg(bundle)
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .args(extra));
    (out.status.success(), text(&out))
}

fn keys(args: &[&str], extra: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = run(signet().arg("keys").args(args).args(extra));
    (out.status.success(), text(&out))
}

#[test]
fn trusted_keys_windows_and_revocation_through_the_binary() {
    require_tools(&["node"]);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let server = Server::start(&oidc.url);
    let work = tempfile::tempdir().unwrap();
    let (key, public) = keypair(work.path(), "release");
    let file = work.path().join("artifact.txt");
    std::fs::write(&file, b"keyed, under trusted keys\n").unwrap();
    let (a, ta) = sign(&server, &key, &file, "a");
    // The next signature in a later second.
    while support_now() <= ta {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (b, tb) = sign(&server, &key, &file, "b");
    assert!(tb > ta, "{ta} {tb}");

    // In the data directory, beside the trusted root: used with no --key and no identity.
    let data = server.dir.path().join("data");
    let data_arg = data.as_os_str();
    let (ok, said) = keys(
        &[
            "add",
            "--name",
            "release",
            "--start",
            &rfc3339(ta - 60),
            "--key",
        ],
        &[public.as_os_str(), "--data-dir".as_ref(), data_arg],
    );
    assert!(ok, "keys add: {said}");
    for (name, bundle) in [("a", &a), ("b", &b)] {
        let (ok, said) = verify(&server, &file, bundle, &[]);
        assert!(ok, "verify {name} under the trusted keys: {said}");
    }
    // The same name again: refused, nothing written.
    let before = std::fs::read(data.join("trusted_keys.json")).unwrap();
    let (ok, said) = keys(
        &["add", "--name", "release", "--key"],
        &[public.as_os_str(), "--data-dir".as_ref(), data_arg],
    );
    assert!(!ok, "a second key named release was added");
    assert!(said.contains("the same key or name"), "{said}");
    assert_eq!(
        std::fs::read(data.join("trusted_keys.json")).unwrap(),
        before
    );

    // Revoked from b's second: b is refused, a (one second earlier at least) verifies.
    let (ok, said) = keys(
        &[
            "revoke",
            "--name",
            "release",
            "--reason",
            "keyCompromise",
            "--time",
            &rfc3339(tb),
        ],
        &["--data-dir".as_ref(), data_arg],
    );
    assert!(ok, "keys revoke: {said}");
    let (ok, said) = verify(&server, &file, &b, &[]);
    assert!(!ok, "a signature made at the revocation verified: {said}");
    assert!(
        said.contains("\"release\" was revoked from") && said.contains("(keyCompromise)"),
        "{said}"
    );
    let (ok, said) = verify(&server, &file, &a, &[]);
    assert!(ok, "a signature made before the revocation: {said}");
    let (ok, said) = keys(
        &["revoke", "--name", "release"],
        &["--data-dir".as_ref(), data_arg],
    );
    assert!(!ok);
    assert!(said.contains("already revoked"), "{said}");

    // A document given with --trusted-keys: the window starts at b's second exactly.
    let doc = work.path().join("window.json");
    let (ok, said) = keys(
        &["add", "--name", "from-b", "--start", &rfc3339(tb), "--key"],
        &[public.as_os_str(), "--file".as_ref(), doc.as_os_str()],
    );
    assert!(ok, "keys add --file: {said}");
    let flag = [OsArg::new("--trusted-keys"), doc.as_os_str()];
    let (ok, said) = verify(&server, &file, &b, &flag);
    assert!(ok, "b at the window's start: {said}");
    let (ok, said) = verify(&server, &file, &a, &flag);
    assert!(!ok, "a before the window verified: {said}");
    assert!(said.contains("\"from-b\" is valid from"), "{said}");
    let (ok, said) = keys(
        &[
            "revoke",
            "--name",
            "from-b",
            "--time",
            "2999-01-01T00:00:00Z",
        ],
        &["--file".as_ref(), doc.as_os_str()],
    );
    assert!(!ok && said.contains("in the future"), "{said}");

    // A key that is not listed.
    let (other, _) = keypair(work.path(), "other");
    let (c, _) = sign(&server, &other, &file, "c");
    let (ok, said) = verify(&server, &file, &c, &flag);
    assert!(!ok, "an unlisted key verified: {said}");
    assert!(
        said.contains("no trusted key verifies the signature"),
        "{said}"
    );
    // --key still works without the document's rules, and excludes --trusted-keys.
    let (ok, said) = verify(
        &server,
        &file,
        &b,
        &[OsArg::new("--key"), public.as_os_str()],
    );
    assert!(ok, "--key: {said}");
}

type OsArg = std::ffi::OsStr;

fn support_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}
