//! Encrypted file keys, `ca init`, and the raw->DER ECDSA conversion.
#![allow(clippy::unwrap_used)]

use signet_ca::init::{init_to_dir, InitOptions};
use signet_ca::signer::{
    load_encrypted_key, CaCurve, CaSigner, FileSigner, PasswordSource, SignerError,
};
use signet_proto::keyfile::ScryptCost;
use signet_proto::keys::PublicKey;
use x509_parser::prelude::*;

#[test]
fn encrypted_pem_roundtrip_and_wrong_password() {
    for curve in [CaCurve::P256, CaCurve::P384] {
        let k = FileSigner::generate(curve).unwrap();
        let pem_text = k
            .to_encrypted_pem(b"correct horse", ScryptCost::TEST_ONLY)
            .unwrap();
        assert!(pem_text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let back = FileSigner::from_encrypted_pem(&pem_text, b"correct horse").unwrap();
        assert_eq!(back.spki_der(), k.spki_der());
        assert!(matches!(
            FileSigner::from_encrypted_pem(&pem_text, b"wrong"),
            Err(SignerError::Decrypt)
        ));
        // A flipped byte in the last ciphertext block garbles the padding or the public key
        // at the end of the PKCS#8 (PBES2's CBC has no MAC; the key check catches the rest).
        let block = ::pem::parse(&pem_text).unwrap();
        let mut bytes = block.contents().to_vec();
        let n = bytes.len() - 3;
        bytes[n] ^= 1;
        let tampered = ::pem::encode(&::pem::Pem::new(block.tag(), bytes));
        assert!(matches!(
            FileSigner::from_encrypted_pem(&tampered, b"correct horse"),
            Err(SignerError::Decrypt | SignerError::BadKey { .. })
        ));
        // Signatures verify under the SPKI.
        let sig = back.sign(b"msg").unwrap();
        PublicKey::from_spki_der(back.spki_der())
            .unwrap()
            .verify(b"msg", &sig)
            .unwrap();
    }
}

#[test]
fn ca_init_writes_a_valid_chain_and_loadable_keys() {
    let dir = tempfile::tempdir().unwrap();
    let opts = InitOptions::new(CaCurve::P384, "Signet", "signet", 1_700_000_000);
    let certs = init_to_dir(dir.path(), &opts, b"pw", ScryptCost::TEST_ONLY).unwrap();
    let chain = std::fs::read_to_string(dir.path().join("chain.pem")).unwrap();
    let blocks = ::pem::parse_many(&chain).unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].contents(), certs.intermediate_der.as_slice());
    assert_eq!(blocks[1].contents(), certs.root_der.as_slice());
    let (_, root) = X509Certificate::from_der(&certs.root_der).unwrap();
    let (_, inter) = X509Certificate::from_der(&certs.intermediate_der).unwrap();
    root.verify_signature(None).unwrap();
    inter.verify_signature(Some(root.public_key())).unwrap();
    assert!(root.is_ca() && inter.is_ca());
    assert_eq!(
        inter
            .basic_constraints()
            .unwrap()
            .unwrap()
            .value
            .path_len_constraint,
        Some(0)
    );
    assert!(
        inter
            .extended_key_usage()
            .unwrap()
            .unwrap()
            .value
            .code_signing
    );
    std::fs::write(dir.path().join("pw.txt"), "pw\n").unwrap();
    let k = load_encrypted_key(
        &dir.path().join("intermediate.key.enc.pem"),
        &PasswordSource::File(dir.path().join("pw.txt")),
    )
    .unwrap();
    assert_eq!(k.spki_der(), inter.tbs_certificate.subject_pki.raw);
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(dir.path().join("root.key.enc.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // openssl agrees the chain verifies.
    let st = std::process::Command::new("openssl")
        .args(["verify", "-x509_strict", "-CAfile"])
        .arg(dir.path().join("root.pem"))
        .arg(dir.path().join("intermediate.pem"))
        .output();
    if let Ok(out) = st {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn raw_signature_to_der() {
    let r = [0u8; 31]
        .iter()
        .chain([0x80u8].iter())
        .copied()
        .collect::<Vec<_>>();
    let s = [0x01u8; 32];
    let der = signet_ca::signer::ecdsa_raw_to_der(&r, &s);
    assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x02, 0x00]); // 4 + 34 content bytes
    assert_eq!(der[5], 0x80);
    assert_eq!(&der[6..8], &[0x02, 0x20]);
}

/// Keys written by the CA's former format (`SIGNET ENCRYPTED PRIVATE KEY`, testdata/keys) load.
#[test]
fn former_format_keys_still_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
    for (name, curve) in [("ca-v1-p256", CaCurve::P256), ("ca-v1-p384", CaCurve::P384)] {
        let text = std::fs::read_to_string(dir.join(format!("{name}.key"))).unwrap();
        let public = std::fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap();
        let k = FileSigner::from_encrypted_pem(&text, b"signet-test-vector").unwrap();
        assert_eq!(k.curve(), curve);
        assert_eq!(k.spki_der(), ::pem::parse(public).unwrap().contents());
        assert!(matches!(
            FileSigner::from_encrypted_pem(&text, b"wrong"),
            Err(SignerError::Decrypt)
        ));
    }
}
