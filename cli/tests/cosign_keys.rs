//! cosign users' keys and habits through the binary:
//! * every encrypted cosign key in `testdata/cosign/keys` (`ENCRYPTED SIGSTORE PRIVATE KEY`,
//!   `ENCRYPTED COSIGN PRIVATE KEY`) that can sign a digest signs a blob with `sign-blob --key`
//!   (password from `COSIGN_PASSWORD`), the bundle verifies with `verify-blob --key` and the
//!   key's known public key, and `openssl dgst -verify` accepts the signature; the Ed25519 key
//!   is refused for signing with the reason;
//! * PKCS#8, SEC1 and encrypted PKCS#8 keys made by openssl sign the same way;
//! * `signet public-key` prints each key's known public key;
//! * a wrong password names the variable it came from; KMS URIs are refused naming PKCS#11;
//! * `generate-key-pair` without a terminal or a password variable names `SIGNET_PASSWORD`;
//! * `SIGSTORE_ID_TOKEN` is read when `SIGNET_ID_TOKEN` is not set; `--identity-token` takes
//!   `@FILE` and a plain path.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use support::{json_out, run, signet, stack, text, Server};

const EMAIL: &str = "alice@example.com";

fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cosign/keys")
}

struct CosignKey {
    file: PathBuf,
    password: Option<String>,
    public: PathBuf,
    plaintext: String,
}

fn cosign_keys() -> Vec<CosignKey> {
    let list: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(keys_dir().join("keys.json")).unwrap())
            .unwrap();
    let keys: Vec<CosignKey> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| CosignKey {
            file: keys_dir().join(e["file"].as_str().unwrap()),
            password: e["password"].as_str().map(str::to_owned),
            public: keys_dir().join(e["public_key"].as_str().unwrap()),
            plaintext: e["plaintext"].as_str().unwrap_or_default().to_owned(),
        })
        .collect();
    assert_eq!(
        keys.len(),
        10,
        "testdata/cosign/keys/keys.json lists ten keys"
    );
    keys
}

/// A `signet` command with no password or token variables from the caller's environment.
fn clean() -> Command {
    let mut c = signet();
    for var in [
        "SIGNET_PASSWORD",
        "COSIGN_PASSWORD",
        "SIGNET_ID_TOKEN",
        "SIGSTORE_ID_TOKEN",
        "SIGNET_PKCS11_PIN",
        "SIGNET_PKCS11_MODULE",
    ] {
        c.env_remove(var);
    }
    c.stdin(Stdio::null());
    c
}

fn sign_blob_with_key(server: &Server, key: &Path, file: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = clean();
    cmd.arg("sign-blob")
        .arg("--signing-config")
        .arg(server.signing_config())
        .arg("--key")
        .arg(key)
        .args(["--output", "json"])
        .arg(file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

fn verify_blob_with_key(server: &Server, public: &Path, file: &Path, bundle: &Path) -> Output {
    run(clean()
        .arg("verify-blob")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--bundle")
        .arg(bundle)
        .arg("--key")
        .arg(public)
        .args(["--output", "json"])
        .arg(file))
}

/// `openssl dgst -sha256 -verify PUB -signature SIG FILE` over the bundle's signature.
fn openssl_verifies(public: &Path, file: &Path, bundle: &Path, dir: &Path) -> bool {
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle).unwrap()).unwrap();
    let sig = base64::engine::general_purpose::STANDARD
        .decode(b["messageSignature"]["signature"].as_str().unwrap())
        .unwrap();
    let sig_path = dir.join("sig.bin");
    std::fs::write(&sig_path, sig).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(public)
        .arg("-signature")
        .arg(&sig_path)
        .arg(file)
        .output()
        .expect("the openssl CLI must be installed");
    out.status.success()
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl CLI must be installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cosign_and_openssl_keys_sign_blobs_that_verify() {
    let (oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("artifact.txt");
    std::fs::write(&file, b"signed by a cosign key\n").unwrap();
    let bundle = dir.path().join("artifact.txt.sigstore.json");

    let mut signed = 0;
    for key in cosign_keys() {
        let name = key.file.display().to_string();
        let Some(password) = key.password.as_deref() else {
            // The CI key's password is a secret: the empty password is refused, naming the
            // variable it was read from.
            let out = sign_blob_with_key(&server, &key.file, &file, &[("COSIGN_PASSWORD", "")]);
            assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out));
            let err = text(&out);
            assert!(
                err.contains("wrong password") && err.contains("COSIGN_PASSWORD"),
                "{name}: {err}"
            );
            continue;
        };
        let _ = std::fs::remove_file(&bundle);
        let out = sign_blob_with_key(&server, &key.file, &file, &[("COSIGN_PASSWORD", password)]);
        if key.plaintext.contains("v2") {
            // Ed25519 (sigstore-rs): PureEdDSA cannot sign a hashedrekord digest.
            assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out));
            assert!(text(&out).contains("Ed25519"), "{name}: {}", text(&out));
            assert!(!bundle.exists());
            continue;
        }
        assert!(out.status.success(), "{name}: {}", text(&out));
        assert_eq!(json_out(&out)["signer"]["mode"], "keyed", "{name}");
        let ok = verify_blob_with_key(&server, &key.public, &file, &bundle);
        assert!(ok.status.success(), "{name}: {}", text(&ok));
        assert!(
            openssl_verifies(&key.public, &file, &bundle, dir.path()),
            "{name}: openssl rejects the signature"
        );
        // Another key's public key does not verify it.
        let other = keys_dir().join("ocx-cosign.pub");
        if other != key.public {
            let bad = verify_blob_with_key(&server, &other, &file, &bundle);
            assert_eq!(bad.status.code(), Some(1), "{name}: {}", text(&bad));
        }
        signed += 1;
    }
    // Seven P-256 keys (one of them SEC1 inside) and the RSA-4096 key.
    assert_eq!(signed, 8);

    // SIGNET_PASSWORD wins over COSIGN_PASSWORD.
    let hello = keys_dir().join("cosign-keys_test-pemsigstorekey.key");
    let _ = std::fs::remove_file(&bundle);
    let out = sign_blob_with_key(
        &server,
        &hello,
        &file,
        &[("SIGNET_PASSWORD", "hello"), ("COSIGN_PASSWORD", "nope")],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = sign_blob_with_key(
        &server,
        &hello,
        &file,
        &[("SIGNET_PASSWORD", "nope"), ("COSIGN_PASSWORD", "hello")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("the password in SIGNET_PASSWORD"),
        "{}",
        text(&out)
    );

    // Keys made by openssl: PKCS#8, SEC1 (EC PRIVATE KEY), encrypted PKCS#8 (PBKDF2 and
    // scrypt), and an RSA PKCS#8 key.
    let d = |n: &str| dir.path().join(n).display().to_string();
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        &d("sec1.pem"),
    ]);
    openssl(&[
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-in",
        &d("sec1.pem"),
        "-out",
        &d("p8.pem"),
    ]);
    openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        &d("sec1.pem"),
        "-out",
        &d("p8enc.pem"),
        "-passout",
        "pass:s3cret",
    ]);
    openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-scrypt",
        "-scrypt_N",
        "16384",
        "-in",
        &d("sec1.pem"),
        "-out",
        &d("p8scrypt.pem"),
        "-passout",
        "pass:s3cret",
    ]);
    openssl(&[
        "pkey",
        "-in",
        &d("sec1.pem"),
        "-pubout",
        "-out",
        &d("ec.pub"),
    ]);
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &d("rsa.pem"),
    ]);
    openssl(&[
        "pkey",
        "-in",
        &d("rsa.pem"),
        "-pubout",
        "-out",
        &d("rsa.pub"),
    ]);
    assert!(std::fs::read_to_string(d("sec1.pem"))
        .unwrap()
        .starts_with("-----BEGIN EC PRIVATE KEY-----"));
    for (key, public) in [
        ("sec1.pem", "ec.pub"),
        ("p8.pem", "ec.pub"),
        ("p8enc.pem", "ec.pub"),
        ("p8scrypt.pem", "ec.pub"),
        ("rsa.pem", "rsa.pub"),
    ] {
        let _ = std::fs::remove_file(&bundle);
        let out = sign_blob_with_key(
            &server,
            Path::new(&d(key)),
            &file,
            &[("SIGNET_PASSWORD", "s3cret")],
        );
        assert!(out.status.success(), "{key}: {}", text(&out));
        let ok = verify_blob_with_key(&server, Path::new(&d(public)), &file, &bundle);
        assert!(ok.status.success(), "{key}: {}", text(&ok));
        assert!(openssl_verifies(
            Path::new(&d(public)),
            &file,
            &bundle,
            dir.path()
        ));
        // public-key prints what openssl derived.
        let pk = run(clean()
            .args(["public-key", "--key", &d(key)])
            .env("SIGNET_PASSWORD", "s3cret"));
        assert!(pk.status.success(), "{key}: {}", text(&pk));
        assert_eq!(
            String::from_utf8_lossy(&pk.stdout),
            std::fs::read_to_string(d(public)).unwrap(),
            "{key}"
        );
    }
    // verify-blob --key with a KMS URI: refused naming PKCS#11.
    let out = run(clean()
        .arg("verify-blob")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--bundle")
        .arg(&bundle)
        .args(["--key", "awskms:///alias/release"])
        .arg(&file));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("pkcs11:token="), "{}", text(&out));

    // Unencrypted keys need no password at all (no variable, no terminal).
    let _ = std::fs::remove_file(&bundle);
    let out = sign_blob_with_key(&server, Path::new(&d("p8.pem")), &file, &[]);
    assert!(out.status.success(), "{}", text(&out));

    // Keyless tokens: SIGSTORE_ID_TOKEN as the fallback, @FILE, and a plain path.
    let token = oidc.token(EMAIL);
    let token_file = dir.path().join("token.jwt");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let keyless = |args: &[&str], env: &[(&str, &str)]| {
        let _ = std::fs::remove_file(&bundle);
        let mut cmd = clean();
        cmd.arg("sign-blob")
            .arg("--signing-config")
            .arg(server.signing_config())
            .args(args)
            .args(["--output", "json"])
            .arg(&file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = run(&mut cmd);
        assert!(out.status.success(), "{args:?} {env:?}: {}", text(&out));
        assert_eq!(json_out(&out)["signer"]["identity"], EMAIL);
    };
    keyless(&[], &[("SIGSTORE_ID_TOKEN", &token)]);
    keyless(
        &[],
        &[
            ("SIGNET_ID_TOKEN", &token),
            ("SIGSTORE_ID_TOKEN", "not-a-jwt"),
        ],
    );
    let at_file = format!("@{}", token_file.display());
    keyless(&["--identity-token", &at_file], &[]);
    let path = token_file.display().to_string();
    keyless(&["--identity-token", &path], &[]);
    // No token anywhere: the message names both variables.
    let out = run(clean()
        .arg("sign-blob")
        .arg("--signing-config")
        .arg(server.signing_config())
        .arg(&file));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("SIGNET_ID_TOKEN") && text(&out).contains("SIGSTORE_ID_TOKEN"),
        "{}",
        text(&out)
    );
}

#[test]
fn public_key_prints_each_cosign_keys_public_key() {
    for key in cosign_keys() {
        let Some(password) = key.password.as_deref() else {
            continue;
        };
        let out = run(clean()
            .arg("public-key")
            .arg("--key")
            .arg(&key.file)
            .env("COSIGN_PASSWORD", password));
        assert!(
            out.status.success(),
            "{}: {}",
            key.file.display(),
            text(&out)
        );
        let want = pem::parse(std::fs::read(&key.public).unwrap()).unwrap();
        let got = pem::parse(&out.stdout).unwrap();
        assert_eq!(got.tag(), "PUBLIC KEY");
        assert_eq!(got.contents(), want.contents(), "{}", key.file.display());
    }
    // --output-file writes the same PEM.
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("k.pub");
    let out = run(clean()
        .args(["public-key", "--key"])
        .arg(keys_dir().join("ocx-cosign.key"))
        .arg("--output-file")
        .arg(&out_file)
        .env("COSIGN_PASSWORD", "ocxtest"));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        pem::parse(std::fs::read(&out_file).unwrap())
            .unwrap()
            .contents(),
        pem::parse(std::fs::read(keys_dir().join("ocx-cosign.pub")).unwrap())
            .unwrap()
            .contents()
    );
}

#[test]
fn kms_uris_are_refused_naming_pkcs11() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, b"x").unwrap();
    for uri in [
        "awskms:///arn:aws:kms:us-east-1:123:key/abc",
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k",
        "azurekms://vault.vault.azure.net/key",
        "hashivault://transit-key",
        "k8s://namespace/secret",
    ] {
        for args in [
            vec!["sign-blob", "--log-url", "http://127.0.0.1:9", "--key", uri],
            vec!["public-key", "--key", uri],
        ] {
            let mut cmd = clean();
            cmd.args(&args);
            if args[0] == "sign-blob" {
                cmd.arg(&file);
            }
            let out = run(&mut cmd);
            assert_eq!(out.status.code(), Some(2), "{uri}: {}", text(&out));
            let err = text(&out);
            assert!(
                err.contains("KMS keys are not supported") && err.contains("pkcs11:token="),
                "{uri}: {err}"
            );
        }
    }
}

#[test]
fn no_terminal_and_no_password_names_the_variables() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(clean()
        .args(["generate-key-pair", "--output-key-prefix"])
        .arg(dir.path().join("k")));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = text(&out);
    assert!(
        err.contains("SIGNET_PASSWORD") && err.contains("COSIGN_PASSWORD"),
        "{err}"
    );
    assert!(!err.contains("No such device"), "{err}");
    assert!(!dir.path().join("k.key").exists());
    // Signing with an encrypted key likewise.
    let out = run(clean()
        .args(["sign-blob", "--log-url", "http://127.0.0.1:9", "--key"])
        .arg(keys_dir().join("ocx-cosign.key"))
        .arg(keys_dir().join("README.md")));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("SIGNET_PASSWORD"), "{}", text(&out));
    // COSIGN_PASSWORD alone is enough for generate-key-pair.
    let out = run(clean()
        .args(["generate-key-pair", "--output-key-prefix"])
        .arg(dir.path().join("k"))
        .env("COSIGN_PASSWORD", "pw"));
    assert!(out.status.success(), "{}", text(&out));
}
