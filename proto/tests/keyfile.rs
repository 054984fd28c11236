//! Encrypted key files: round trip, wrong password, the two older Signet formats
//! (testdata/keys), and interoperability with the `openssl` CLI in both directions.
//! A missing `openssl` is a failure, not a skip.

#![allow(missing_docs, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair as _, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1,
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
};
use signet_proto::keyfile::{
    decrypt_pem, encrypt_pem, EncryptedKeyFile, KeyFileError, KeyFileFormat, ScryptCost,
};

const VECTOR_PASSWORD: &[u8] = b"signet-test-vector";

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/keys")
        .join(name)
}

fn new_p256_pkcs8() -> Vec<u8> {
    EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
        .unwrap()
        .to_pkcs8v1()
        .unwrap()
        .as_ref()
        .to_vec()
}

fn spki_of(key: &EcdsaKeyPair) -> Vec<u8> {
    key.public_key().as_der().unwrap().as_ref().to_vec()
}

fn openssl(args: &[&str], dir: &Path) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI must be installed for this test (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn round_trip_in_standard_format() {
    let pkcs8 = new_p256_pkcs8();
    let pem_text = encrypt_pem(
        &pkcs8,
        b"correct horse",
        ScryptCost::TEST_ONLY,
        &SystemRandom::new(),
    )
    .unwrap();
    assert!(pem_text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    let file = EncryptedKeyFile::parse(&pem_text).unwrap();
    assert_eq!(file.format(), KeyFileFormat::Pkcs8);
    assert_eq!(file.scrypt_cost(), Some((10, 8, 1)));
    let (back, format) = decrypt_pem(&pem_text, b"correct horse").unwrap();
    assert_eq!(back, pkcs8);
    assert_eq!(format, KeyFileFormat::Pkcs8);
}

#[test]
fn default_cost_is_written_into_the_file() {
    let pem_text = encrypt_pem(
        &new_p256_pkcs8(),
        b"pw",
        ScryptCost::DEFAULT,
        &SystemRandom::new(),
    )
    .unwrap();
    let file = EncryptedKeyFile::parse(&pem_text).unwrap();
    assert_eq!(file.scrypt_cost(), Some((14, 8, 2)));
}

#[test]
fn wrong_password_is_a_typed_error_naming_the_problem() {
    let pkcs8 = new_p256_pkcs8();
    let rng = SystemRandom::new();
    // CBC: a wrong key usually breaks the padding, but about 1 in 256 times the padding is
    // valid by chance; the PrivateKeyInfo check must catch those too. 64 tries make that case
    // likely enough to be exercised over repeated runs and never accept a wrong password.
    for i in 0..64u32 {
        let pem_text = encrypt_pem(&pkcs8, b"right", ScryptCost::TEST_ONLY, &rng).unwrap();
        let err = decrypt_pem(&pem_text, format!("wrong{i}").as_bytes()).unwrap_err();
        assert_eq!(err, KeyFileError::WrongPassword);
        assert!(err.to_string().contains("wrong password"), "{err}");
    }
}

#[test]
fn legacy_ca_vectors_decrypt_to_their_public_keys() {
    for (name, alg) in [
        ("ca-v1-p256", &ECDSA_P256_SHA256_ASN1_SIGNING),
        ("ca-v1-p384", &ECDSA_P384_SHA384_ASN1_SIGNING),
    ] {
        let text = std::fs::read_to_string(testdata(&format!("{name}.key"))).unwrap();
        let public = std::fs::read_to_string(testdata(&format!("{name}.pub"))).unwrap();
        let (der, format) = decrypt_pem(&text, VECTOR_PASSWORD).unwrap();
        assert_eq!(format, KeyFileFormat::LegacyCa);
        let key = EcdsaKeyPair::from_pkcs8(alg, &der).unwrap();
        assert_eq!(spki_of(&key), pem::parse(public).unwrap().contents());
        assert_eq!(
            decrypt_pem(&text, b"wrong").unwrap_err(),
            KeyFileError::WrongPassword
        );
    }
}

#[test]
fn legacy_client_vector_decrypts_to_its_public_key() {
    let text = std::fs::read_to_string(testdata("client-v1.key")).unwrap();
    let public = std::fs::read_to_string(testdata("client-v1.pub")).unwrap();
    let (der, format) = decrypt_pem(&text, VECTOR_PASSWORD).unwrap();
    assert_eq!(format, KeyFileFormat::LegacyClient);
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &der).unwrap();
    assert_eq!(spki_of(&key), pem::parse(public).unwrap().contents());
    assert_eq!(
        decrypt_pem(&text, b"wrong").unwrap_err(),
        KeyFileError::WrongPassword
    );
    // The header lines are authenticated: changing the cost is detected.
    let tampered = text.replace("log_n=15", "log_n=14");
    assert_eq!(
        decrypt_pem(&tampered, VECTOR_PASSWORD).unwrap_err(),
        KeyFileError::WrongPassword
    );
}

#[test]
fn other_pem_blocks_are_rejected_by_name() {
    let public = std::fs::read_to_string(testdata("client-v1.pub")).unwrap();
    let err = EncryptedKeyFile::parse(&public).unwrap_err();
    assert!(
        matches!(&err, KeyFileError::UnknownLabel { label } if label == "PUBLIC KEY"),
        "{err:?}"
    );
    let plain = pem::encode(&pem::Pem::new("PRIVATE KEY", new_p256_pkcs8()));
    assert_eq!(
        EncryptedKeyFile::parse(&plain).unwrap_err(),
        KeyFileError::Unencrypted
    );
    assert!(matches!(
        EncryptedKeyFile::parse("not pem"),
        Err(KeyFileError::NotPem { .. })
    ));
    assert!(matches!(
        encrypt_pem(b"junk", b"pw", ScryptCost::TEST_ONLY, &SystemRandom::new()),
        Err(KeyFileError::Malformed { .. })
    ));
}

#[test]
fn hostile_scrypt_cost_is_refused_before_deriving() {
    // N = 2^24, r = 8: 16 GiB.
    let pem_text = encrypt_pem(
        &new_p256_pkcs8(),
        b"pw",
        ScryptCost::TEST_ONLY,
        &SystemRandom::new(),
    )
    .unwrap();
    let mut der = pem::parse(&pem_text).unwrap().into_contents();
    // The N INTEGER is `02 02 04 00` (1024); make it `02 02 ..` is not enough room for 2^24, so
    // patch r instead: `02 01 08` -> `02 01 7f` (r = 127, over the limit of 32).
    let at = der
        .windows(7)
        .position(|w| w == [0x02, 0x02, 0x04, 0x00, 0x02, 0x01, 0x08])
        .unwrap();
    der[at + 6] = 0x7f;
    let hostile = pem::encode(&pem::Pem::new("ENCRYPTED PRIVATE KEY", der));
    assert!(matches!(
        EncryptedKeyFile::parse(&hostile),
        Err(KeyFileError::Cost { .. })
    ));
}

#[test]
fn openssl_reads_a_signet_key_and_signs_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let pkcs8 = new_p256_pkcs8();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8).unwrap();
    let pem_text = encrypt_pem(
        &pkcs8,
        b"open sesame",
        ScryptCost::DEFAULT,
        &SystemRandom::new(),
    )
    .unwrap();
    std::fs::write(dir.path().join("k.pem"), pem_text).unwrap();
    std::fs::write(dir.path().join("msg"), b"signed by openssl").unwrap();
    openssl(
        &[
            "pkey",
            "-in",
            "k.pem",
            "-passin",
            "pass:open sesame",
            "-out",
            "plain.pem",
        ],
        dir.path(),
    );
    openssl(
        &[
            "dgst",
            "-sha256",
            "-sign",
            "plain.pem",
            "-out",
            "msg.sig",
            "msg",
        ],
        dir.path(),
    );
    let sig = std::fs::read(dir.path().join("msg.sig")).unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.public_key().as_ref())
        .verify(b"signed by openssl", &sig)
        .unwrap();
    // And openssl refuses the wrong password.
    let wrong = Command::new("openssl")
        .args(["pkey", "-in", "k.pem", "-passin", "pass:nope", "-noout"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!wrong.status.success());
}

#[test]
fn signet_reads_keys_encrypted_by_openssl() {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "plain.pem",
        ],
        dir.path(),
    );
    let spki = openssl(
        &["pkey", "-in", "plain.pem", "-pubout", "-outform", "DER"],
        dir.path(),
    )
    .stdout;
    std::fs::write(dir.path().join("msg"), b"signed by signet").unwrap();
    // scrypt (what Signet writes) and PBKDF2-HMAC-SHA256 (OpenSSL's default PBES2).
    for (out, extra) in [
        ("scrypt.pem", &["-scrypt"][..]),
        ("pbkdf2.pem", &[][..]),
        ("pbkdf2-aes128.pem", &["-v2prf", "hmacWithSHA1"][..]),
    ] {
        let cipher = if out == "pbkdf2-aes128.pem" {
            "aes-128-cbc"
        } else {
            "aes-256-cbc"
        };
        let mut args = vec![
            "pkcs8",
            "-topk8",
            "-v2",
            cipher,
            "-in",
            "plain.pem",
            "-out",
            out,
            "-passout",
            "pass:pw",
        ];
        args.extend_from_slice(extra);
        openssl(&args, dir.path());
        let text = std::fs::read_to_string(dir.path().join(out)).unwrap();
        let (der, format) = decrypt_pem(&text, b"pw").unwrap();
        assert_eq!(format, KeyFileFormat::Pkcs8);
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &der).unwrap();
        assert_eq!(spki_of(&key), spki, "{out}");
        assert_eq!(
            decrypt_pem(&text, b"wrong").unwrap_err(),
            KeyFileError::WrongPassword,
            "{out}"
        );
        // Signet's signature verifies under openssl with the public key.
        let sig = key.sign(&SystemRandom::new(), b"signed by signet").unwrap();
        std::fs::write(dir.path().join("msg.sig"), sig.as_ref()).unwrap();
        openssl(
            &["pkey", "-in", "plain.pem", "-pubout", "-out", "pub.pem"],
            dir.path(),
        );
        openssl(
            &[
                "dgst",
                "-sha256",
                "-verify",
                "pub.pem",
                "-signature",
                "msg.sig",
                "msg",
            ],
            dir.path(),
        );
    }
}
