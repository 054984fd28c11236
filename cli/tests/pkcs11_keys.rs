//! Users' signing keys in an HSM (SoftHSM2 over PKCS#11), addressed by RFC 7512 URIs as cosign
//! accepts them: a non-extractable P-256 key is generated inside a fresh token, `signet
//! public-key` prints its public key, `sign-blob`, `sign` and `attest` (an image in a local
//! registry) sign with the key in the token, and `verify-blob --key` / `verify --key` /
//! `verify-attestation --key` accept the
//! signatures with the printed public key (and with the URI itself). The PIN comes from
//! `pin-value`, `pin-source` or `SIGNET_PKCS11_PIN`, the module from `module-path` or
//! `SIGNET_PKCS11_MODULE`. A wrong PIN, an unknown key and a missing module are errors naming
//! the fix. Keys are also selected by `CKA_ID` alone (`id=%01%a2`) and tokens by `slot-id=`;
//! a P-384 key imported into the token signs the artifact's SHA-384 digest (`SHA2_384`).
//! Fails if SoftHSM2 is not installed.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::{json_out, require_tools, run, signet, stack, text, TestRegistry};

use support::softhsm::MODULE;
const TOKEN: &str = "signet-user";
const OBJECT: &str = "release key";

fn signet_hsm(conf: &Path) -> Command {
    let mut c = signet();
    for var in [
        "SIGNET_PASSWORD",
        "COSIGN_PASSWORD",
        "SIGNET_PKCS11_PIN",
        "SIGNET_PKCS11_MODULE",
    ] {
        c.env_remove(var);
    }
    c.env("SOFTHSM2_CONF", conf).stdin(Stdio::null());
    c
}

/// A fresh SoftHSM2 token holding a P-256 key generated inside it; returns the config path.
fn token_with_key(dir: &Path) -> PathBuf {
    support::softhsm::token_with_key(dir, TOKEN, OBJECT)
}

#[test]
fn hsm_key_signs_blob_and_image_and_verifies() {
    require_tools(&["docker-registry", "umoci", "skopeo", "softhsm2-util"]);
    let dir = tempfile::tempdir().unwrap();
    let conf = token_with_key(dir.path());
    let uri =
        format!("pkcs11:token={TOKEN};object=release%20key?module-path={MODULE}&pin-value=1234");

    // public-key prints the token key's public key.
    let public = dir.path().join("hsm.pub");
    let out = run(signet_hsm(&conf).args(["public-key", "--key", &uri]));
    assert!(out.status.success(), "{}", text(&out));
    std::fs::write(&public, &out.stdout).unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("-----BEGIN PUBLIC KEY-----\n"));

    let (_oidc, server) = stack();
    let file = dir.path().join("artifact.bin");
    std::fs::write(&file, vec![7u8; 4096]).unwrap();
    let bundle = dir.path().join("artifact.bin.sigstore.json");
    let sign_blob = |key: &str, env: &[(&str, &str)]| {
        let _ = std::fs::remove_file(&bundle);
        let mut cmd = signet_hsm(&conf);
        cmd.arg("sign-blob")
            .arg("--signing-config")
            .arg(server.signing_config())
            .args(["--key", key, "--output", "json"])
            .arg(&file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd)
    };
    let verify_blob = |key: &Path| {
        run(signet_hsm(&conf)
            .arg("verify-blob")
            .arg("--trusted-root")
            .arg(server.trusted_root())
            .arg("--bundle")
            .arg(&bundle)
            .arg("--key")
            .arg(key)
            .args(["--output", "json"])
            .arg(&file))
    };

    let out = sign_blob(&uri, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json_out(&out)["signer"]["mode"], "keyed");
    let ok = verify_blob(&public);
    assert!(ok.status.success(), "{}", text(&ok));
    // The URI itself verifies too (the public key read from the token).
    let ok = verify_blob(Path::new(&uri));
    assert!(ok.status.success(), "{}", text(&ok));

    // pin-source=file, and PIN and module from the environment.
    let pin_file = dir.path().join("pin");
    std::fs::write(&pin_file, "1234\n").unwrap();
    let by_file = format!(
        "pkcs11:token={TOKEN};object=release%20key?module-path={MODULE}&pin-source=file:{}",
        pin_file.display()
    );
    let out = sign_blob(&by_file, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(verify_blob(&public).status.success());
    let bare = format!("pkcs11:token={TOKEN};object=release%20key");
    let out = sign_blob(
        &bare,
        &[
            ("SIGNET_PKCS11_PIN", "1234"),
            ("SIGNET_PKCS11_MODULE", MODULE),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(verify_blob(&public).status.success());

    // Errors naming the fix; no bundle is written.
    let cases = [
        (
            uri.replace("pin-value=1234", "pin-value=0000"),
            vec![],
            "C_Login",
        ),
        (
            uri.replace("release%20key", "nope"),
            vec![],
            "labelled \"nope\"",
        ),
        (
            bare.clone(),
            vec![("SIGNET_PKCS11_PIN", "1234")],
            "module-path",
        ),
        (
            bare.clone(),
            vec![("SIGNET_PKCS11_MODULE", MODULE)],
            "SIGNET_PKCS11_PIN",
        ),
    ];
    for (key, env, want) in cases {
        let out = sign_blob(&key, &env);
        assert_eq!(out.status.code(), Some(2), "{key}: {}", text(&out));
        assert!(
            text(&out).contains(want),
            "{key}: want {want:?}: {}",
            text(&out)
        );
        assert!(!text(&out).contains("0000"), "the PIN is not echoed");
        assert!(!bundle.exists());
    }

    // An image in a local registry, signed with the key in the token.
    let reg = TestRegistry::start();
    let digest = reg.push_image("demo/hsm", "v1", "signed in an HSM");
    let image = format!("{}/demo/hsm@{digest}", reg.addr);
    let out = run(signet_hsm(&conf)
        .arg("sign")
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--key", &uri, "--output", "json", &image]));
    assert!(out.status.success(), "{}", text(&out));
    let verify_image = |key: &Path| {
        run(signet_hsm(&conf)
            .arg("verify")
            .arg("--trusted-root")
            .arg(server.trusted_root())
            .arg("--key")
            .arg(key)
            .args(["--output", "json", &image]))
    };
    let ok = verify_image(&public);
    assert!(ok.status.success(), "{}", text(&ok));
    // Another key does not verify the image.
    let other =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cosign/keys/ocx-cosign.pub");
    let bad = verify_image(&other);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));

    // An attestation about the image, signed in the token.
    let predicate = dir.path().join("predicate.json");
    std::fs::write(&predicate, r#"{"builder":"hsm-test"}"#).unwrap();
    let out = run(signet_hsm(&conf)
        .arg("attest")
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--key", &uri, "--predicate"])
        .arg(&predicate)
        .args(["--output", "json", &image]));
    assert!(out.status.success(), "{}", text(&out));
    let ok = run(signet_hsm(&conf)
        .arg("verify-attestation")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .arg("--key")
        .arg(&public)
        .args(["--output", "json", &image]));
    assert!(ok.status.success(), "{}", text(&ok));

    keys_selected_by_id_and_slot(dir.path(), &server);
}

/// The slot number SoftHSM2 gave the token labelled `label` (`softhsm2-util --show-slots`).
fn slot_of(conf: &Path, label: &str) -> u64 {
    let out = Command::new("softhsm2-util")
        .arg("--show-slots")
        .env("SOFTHSM2_CONF", conf)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut slot = None;
    for line in listing.lines() {
        if let Some(n) = line.strip_prefix("Slot ") {
            slot = n.trim().parse::<u64>().ok();
        }
        if line.trim().strip_prefix("Label:").map(str::trim) == Some(label) {
            return slot.unwrap();
        }
    }
    panic!("no token {label:?} in {listing}");
}

/// Runs softhsm2-util with `args` under `conf`; panics with its output when it fails.
fn softhsm(conf: &Path, args: &[&str]) {
    let out = Command::new("softhsm2-util")
        .args(args)
        .env("SOFTHSM2_CONF", conf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "softhsm2-util {args:?}: {}",
        text(&out)
    );
}

/// RFC 7512 URIs that select the key by `CKA_ID` alone (`id=%01%a2`, percent-encoded bytes)
/// and the token by `slot-id=` or by nothing (when the module has one token): keys imported
/// with known ids (openssl keys, so the public key printed is checked against openssl's),
/// signing with the key by id and verifying with its openssl public key; with two tokens an
/// id alone is ambiguous and the error names token= and slot-id=; a wrong slot, a token not
/// in the slot and an unknown id are errors naming what was not found.
fn keys_selected_by_id_and_slot(dir: &Path, server: &support::Server) {
    require_tools(&["openssl"]);
    let dir = dir.join("ids");
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
    softhsm(
        &conf,
        &[
            "--init-token",
            "--free",
            "--label",
            "signet-ids",
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ],
    );
    let mut public = Vec::new();
    for (name, id, curve) in [
        ("first", "01a2", "P-256"),
        ("second", "03", "P-256"),
        ("third", "05", "P-384"),
    ] {
        let key = dir.join(format!("{name}.pem"));
        let out = run(Command::new("openssl")
            .args(["genpkey", "-algorithm", "EC", "-pkeyopt"])
            .arg(format!("ec_paramgen_curve:{curve}"))
            .arg("-out")
            .arg(&key));
        assert!(out.status.success(), "{}", text(&out));
        let out = run(Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&key));
        assert!(out.status.success(), "{}", text(&out));
        let pem = String::from_utf8(out.stdout).unwrap();
        std::fs::write(dir.join(format!("{name}.pub")), &pem).unwrap();
        public.push(pem);
        softhsm(
            &conf,
            &[
                "--import",
                key.to_str().unwrap(),
                "--token",
                "signet-ids",
                "--label",
                name,
                "--id",
                id,
                "--pin",
                "1234",
            ],
        );
    }
    let q = format!("?module-path={MODULE}&pin-value=1234");
    let public_key = |uri: &str| run(signet_hsm(&conf).args(["public-key", "--key", uri]));
    // One token: the id alone selects the key (either hex case of the escapes).
    for (uri, want) in [
        (format!("pkcs11:id=%01%a2{q}"), &public[0]),
        (format!("pkcs11:id=%01%A2{q}"), &public[0]),
        (format!("pkcs11:id=%03{q}"), &public[1]),
        (format!("pkcs11:token=signet-ids;id=%03{q}"), &public[1]),
    ] {
        let out = public_key(&uri);
        assert!(out.status.success(), "{uri}: {}", text(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), **want, "{uri}");
    }
    // Signing with the key selected by id; openssl's public key verifies the bundle.
    let file = dir.join("by-id.txt");
    std::fs::write(&file, b"signed with the key whose CKA_ID is 01a2").unwrap();
    let bundle = dir.join("by-id.sigstore.json");
    let out = run(signet_hsm(&conf)
        .arg("sign-blob")
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--key", &format!("pkcs11:id=%01%a2{q}"), "--bundle"])
        .arg(&bundle)
        .arg(&file));
    assert!(out.status.success(), "{}", text(&out));
    let verify_with = |name: &str| {
        run(signet_hsm(&conf)
            .arg("verify-blob")
            .arg("--trusted-root")
            .arg(server.trusted_root())
            .arg("--bundle")
            .arg(&bundle)
            .arg("--key")
            .arg(dir.join(format!("{name}.pub")))
            .arg(&file))
    };
    let ok = verify_with("first");
    assert!(ok.status.success(), "{}", text(&ok));
    let bad = verify_with("second");
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));

    // A P-384 key in the token signs the artifact's SHA-384 digest, as a P-384 key file does.
    let out = run(signet_hsm(&conf)
        .arg("sign-blob")
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--key", &format!("pkcs11:id=%05{q}"), "--bundle"])
        .arg(&bundle)
        .arg(&file));
    assert!(out.status.success(), "{}", text(&out));
    let b: serde_json::Value =
        signet_proto::json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(
        b["messageSignature"]["messageDigest"]["algorithm"], "SHA2_384",
        "{b}"
    );
    let ok = verify_with("third");
    assert!(ok.status.success(), "{}", text(&ok));
    let bad = verify_with("first");
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));

    // A second token: an id alone no longer names one token; slot-id does.
    softhsm(
        &conf,
        &[
            "--init-token",
            "--free",
            "--label",
            "other",
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ],
    );
    let slot = slot_of(&conf, "signet-ids");
    let other = slot_of(&conf, "other");
    let out = run(signet_hsm(&conf).args(["public-key", "--key", &format!("pkcs11:id=%01%a2{q}")]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    for want in [
        "2 tokens match",
        "token=LABEL or slot-id=N",
        &format!("slot-id={slot} token=\"signet-ids\""),
    ] {
        assert!(text(&out).contains(want), "want {want:?}: {}", text(&out));
    }
    let out = public_key(&format!("pkcs11:slot-id={slot};id=%01%a2{q}"));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), public[0]);
    let out = public_key(&format!(
        "pkcs11:slot-id={slot};token=signet-ids;object=second{q}"
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), public[1]);
    // Errors naming what is not there.
    for (uri, want) in [
        (
            format!("pkcs11:slot-id={other};id=%01%a2{q}"),
            "no private key with id 01a2".to_owned(),
        ),
        (
            format!("pkcs11:slot-id={slot};token=other;id=%01%a2{q}"),
            format!("no token labelled \"other\" in slot {slot}; tokens present:"),
        ),
        (
            format!("pkcs11:slot-id=7;id=%01%a2{q}"),
            "no token in slot 7".to_owned(),
        ),
        (
            format!("pkcs11:token=signet-ids;id=%09{q}"),
            "no private key with id 09".to_owned(),
        ),
        (
            format!("pkcs11:token=signet-ids;object=first;id=%03{q}"),
            "no private key labelled \"first\" with id 03".to_owned(),
        ),
    ] {
        let out = public_key(&uri);
        assert_eq!(out.status.code(), Some(2), "{uri}: {}", text(&out));
        assert!(
            text(&out).contains(&want),
            "{uri}: want {want:?}: {}",
            text(&out)
        );
        assert!(
            !text(&out).contains("pin-value=1234"),
            "the PIN is not echoed"
        );
    }
}
