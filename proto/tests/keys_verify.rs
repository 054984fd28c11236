//! `keys`: public key parsing and verification against signatures made by Python
//! `cryptography` (testdata/note/keys_vectors.json), plus signer round trips.
#![allow(clippy::unwrap_used)]

use aws_lc_rs::rand::SystemRandom;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::keys::{
    EcdsaCurve, EcdsaSigner, Ed25519Signer, HashAlgorithm, KeyAlgorithm, KeyError, PublicKey,
    RsaPadding, SignatureError,
};

fn vectors() -> serde_json::Value {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/note/keys_vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn b64(v: &serde_json::Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap()).unwrap()
}

fn key(v: &serde_json::Value, name: &str) -> serde_json::Value {
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == name)
        .unwrap()
        .clone()
}

fn sha256(d: &[u8]) -> [u8; 32] {
    let mut o = [0u8; 32];
    o.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, d).as_ref());
    o
}

#[test]
fn parses_every_allowed_key_type_and_verifies_python_signatures() {
    let v = vectors();
    let msg = b64(&v["message_b64"]);
    let expect = [
        ("p256", KeyAlgorithm::EcdsaP256),
        ("p384", KeyAlgorithm::EcdsaP384),
        ("ed25519", KeyAlgorithm::Ed25519),
        ("rsa2048", KeyAlgorithm::Rsa { bits: 2048 }),
        ("rsa3072", KeyAlgorithm::Rsa { bits: 3072 }),
    ];
    for (name, alg) in expect {
        let k = key(&v, name);
        let spki = b64(&k["spki_b64"]);
        let pk = PublicKey::from_spki_der(&spki).unwrap();
        assert_eq!(pk.algorithm(), alg, "{name}");
        assert_eq!(pk.spki_der(), &spki[..]);
        assert_eq!(
            pk.key_id(),
            sha256(&spki),
            "{name}: key_id is SHA-256(SPKI)"
        );
        let from_pem = PublicKey::from_pem(k["pem"].as_str().unwrap()).unwrap();
        assert_eq!(from_pem, pk);
        assert_eq!(PublicKey::from_pem(&pk.to_pem()).unwrap(), pk);

        let sig = b64(&k["sig_b64"]);
        pk.verify(&msg, &sig).unwrap();
        // Tampered message and tampered signature fail.
        let mut bad_msg = msg.clone();
        bad_msg[0] ^= 1;
        assert!(matches!(
            pk.verify(&bad_msg, &sig),
            Err(SignatureError::Invalid { .. })
        ));
        let mut bad_sig = sig.clone();
        let last = bad_sig.len() - 1;
        bad_sig[last] ^= 1;
        assert!(pk.verify(&msg, &bad_sig).is_err(), "{name}");
    }
}

#[test]
fn prehashed_verification() {
    let v = vectors();
    let msg = b64(&v["message_b64"]);
    for name in ["p256", "p384"] {
        let k = key(&v, name);
        let pk = PublicKey::from_spki_der(&b64(&k["spki_b64"])).unwrap();
        let sig = b64(&k["sig_b64"]);
        let digest = b64(&k["digest_b64"]);
        pk.verify_prehashed(&digest, &sig).unwrap();
        let mut bad = digest.clone();
        bad[3] ^= 0x80;
        assert!(pk.verify_prehashed(&bad, &sig).is_err());
        assert!(matches!(
            pk.verify_prehashed(&digest[..20], &sig),
            Err(SignatureError::DigestLength { .. })
        ));
        // A signature over a SHA-256 digest, whatever the curve.
        let d256 = b64(&k["digest_sha256_b64"]);
        let s256 = b64(&k["sig_sha256_prehashed_b64"]);
        pk.verify_prehashed_with(HashAlgorithm::Sha256, &d256, &s256)
            .unwrap();
        if name == "p384" {
            // `sig` is over SHA-384(msg), not SHA-256(msg).
            assert!(pk
                .verify_prehashed_with(HashAlgorithm::Sha256, &d256, &sig)
                .is_err());
            assert!(
                pk.verify_prehashed(&d256, &s256).is_err(),
                "wrong digest length"
            );
        } else {
            // For P-256 the default hash is SHA-256: both signatures are over SHA-256(msg).
            pk.verify_prehashed(&d256, &sig).unwrap();
            pk.verify(&msg, &s256).unwrap();
        }
    }
    for name in ["rsa2048", "rsa3072"] {
        let k = key(&v, name);
        let pk = PublicKey::from_spki_der(&b64(&k["spki_b64"])).unwrap();
        pk.verify_prehashed(&b64(&k["digest_b64"]), &b64(&k["sig_b64"]))
            .unwrap();
        pk.verify_rsa(RsaPadding::PssSha256, &msg, &b64(&k["pss_sig_b64"]))
            .unwrap();
        assert!(pk
            .verify_rsa(RsaPadding::Pkcs1Sha256, &msg, &b64(&k["pss_sig_b64"]))
            .is_err());
        pk.verify_rsa(RsaPadding::Pkcs1Sha256, &msg, &b64(&k["sig_b64"]))
            .unwrap();
    }
    let ed = key(&v, "ed25519");
    let pk = PublicKey::from_spki_der(&b64(&ed["spki_b64"])).unwrap();
    assert!(matches!(
        pk.verify_prehashed(&[0u8; 32], &b64(&ed["sig_b64"])),
        Err(SignatureError::PrehashUnsupported {
            algorithm: KeyAlgorithm::Ed25519
        })
    ));
    assert!(matches!(
        pk.verify_rsa(RsaPadding::PssSha256, &msg, &b64(&ed["sig_b64"])),
        Err(SignatureError::SchemeMismatch { .. })
    ));
}

#[test]
fn rejects_keys_outside_the_allowlist() {
    let v = vectors();
    let r = &v["rejected"];
    assert!(matches!(
        PublicKey::from_spki_der(&b64(&r["rsa1024_spki_b64"])),
        Err(KeyError::RsaKeySize { bits: 1024, .. })
    ));
    assert!(matches!(
        PublicKey::from_spki_der(&b64(&r["p521_spki_b64"])),
        Err(KeyError::UnsupportedCurve { .. })
    ));
    assert!(matches!(
        PublicKey::from_spki_der(&b64(&r["secp256k1_spki_b64"])),
        Err(KeyError::UnsupportedCurve { .. })
    ));
    let p256 = b64(&key(&v, "p256")["spki_b64"]);
    let mut trailing = p256.clone();
    trailing.push(0);
    assert!(matches!(
        PublicKey::from_spki_der(&trailing),
        Err(KeyError::TrailingData { count: 1 })
    ));
    assert!(PublicKey::from_spki_der(&p256[..p256.len() - 1]).is_err());
    // A point not on the curve: flip a bit of the X coordinate.
    let mut off_curve = p256.clone();
    let n = off_curve.len();
    off_curve[n - 40] ^= 1;
    assert!(matches!(
        PublicKey::from_spki_der(&off_curve),
        Err(KeyError::Rejected { .. })
    ));
    assert!(PublicKey::from_spki_der(&[]).is_err());
    let cert_label = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        PublicKey::from_pem(cert_label),
        Err(KeyError::PemLabel { .. })
    ));
    assert!(matches!(
        PublicKey::from_pem("not pem"),
        Err(KeyError::Pem { .. })
    ));
}

#[test]
fn ecdsa_signer_loads_python_keys_and_round_trips() {
    let v = vectors();
    let msg = b64(&v["message_b64"]);
    for (name, curve) in [("p256", EcdsaCurve::P256), ("p384", EcdsaCurve::P384)] {
        let k = key(&v, name);
        let spki = b64(&k["spki_b64"]);
        for pem_field in ["pkcs8_pem", "sec1_pem"] {
            let s = EcdsaSigner::from_pem(k[pem_field].as_str().unwrap()).unwrap();
            assert_eq!(s.curve(), curve);
            assert_eq!(s.public_key().spki_der(), &spki[..], "{name} {pem_field}");
            let sig = s.sign(&msg).unwrap();
            s.public_key().verify(&msg, &sig).unwrap();
            let digest = curve.hash().hash(&msg);
            let sig2 = s.sign_digest(&digest).unwrap();
            s.public_key().verify(&msg, &sig2).unwrap();
            s.public_key().verify_prehashed(&digest, &sig2).unwrap();
            assert!(matches!(
                s.sign_digest(&digest[1..]),
                Err(SignatureError::DigestLength { .. })
            ));
            // PKCS#8 export re-imports to the same key.
            let again = EcdsaSigner::from_pkcs8_der(&s.to_pkcs8_der().unwrap()).unwrap();
            assert_eq!(again.public_key(), s.public_key());
            let again = EcdsaSigner::from_pem(&s.to_pkcs8_pem().unwrap()).unwrap();
            assert_eq!(again.public_key(), s.public_key());
        }
    }
    assert!(EcdsaSigner::from_pem(key(&v, "p256")["pem"].as_str().unwrap()).is_err());
}

#[test]
fn ecdsa_generate_and_from_scalar() {
    let rng = SystemRandom::new();
    for curve in [EcdsaCurve::P256, EcdsaCurve::P384] {
        let a = EcdsaSigner::generate(curve, &rng).unwrap();
        let b = EcdsaSigner::generate(curve, &rng).unwrap();
        assert_ne!(a.public_key(), b.public_key());
        let sig = a.sign(b"m").unwrap();
        a.public_key().verify(b"m", &sig).unwrap();
        assert!(b.public_key().verify(b"m", &sig).is_err());
    }
    // Same scalar, same key (deterministic derivation); zero and wrong-length scalars fail.
    let scalar = [7u8; 32];
    let x = EcdsaSigner::from_scalar(EcdsaCurve::P256, &scalar).unwrap();
    let y = EcdsaSigner::from_scalar(EcdsaCurve::P256, &scalar).unwrap();
    assert_eq!(x.public_key(), y.public_key());
    assert!(EcdsaSigner::from_scalar(EcdsaCurve::P256, &[0u8; 32]).is_err());
    assert!(EcdsaSigner::from_scalar(EcdsaCurve::P256, &[0xffu8; 32]).is_err());
    assert!(matches!(
        EcdsaSigner::from_scalar(EcdsaCurve::P384, &scalar),
        Err(KeyError::Length {
            expected: 48,
            actual: 32
        })
    ));
}

#[test]
fn ecdsa_from_scalar_matches_python_derivation() {
    // testdata/note/python_vectors.json: the P-256 key derived by Python from a fixed scalar.
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/note/python_vectors.json"
    );
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    let scalar = hex::decode(v["ecdsa_log"]["scalar_hex"].as_str().unwrap()).unwrap();
    let s = EcdsaSigner::from_scalar(EcdsaCurve::P256, &scalar).unwrap();
    assert_eq!(
        s.public_key().spki_der(),
        &b64(&v["ecdsa_log"]["spki_b64"])[..]
    );
}

#[test]
fn ed25519_signer_matches_rfc8032_test_1() {
    // RFC 8032 §7.1 TEST 1: empty message.
    let seed: [u8; 32] =
        hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap()
            .try_into()
            .unwrap();
    let s = Ed25519Signer::from_seed(&seed).unwrap();
    assert_eq!(
        hex::encode(s.public_key_raw()),
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
    let sig = s.sign(b"");
    assert_eq!(
        hex::encode(sig),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
    s.public_key().verify(b"", &sig).unwrap();
    assert_eq!(s.public_key().algorithm(), KeyAlgorithm::Ed25519);
    assert_eq!(s.public_key().ed25519_raw(), Some(s.public_key_raw()));
    let again = Ed25519Signer::from_pkcs8_der(
        aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(&seed)
            .unwrap()
            .to_pkcs8()
            .unwrap()
            .as_ref(),
    )
    .unwrap();
    assert_eq!(again.public_key_raw(), s.public_key_raw());
    assert_eq!(again.seed(), &seed);
}

#[test]
fn rsa_signature_made_with_aws_lc_verifies() {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
    let kp = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let spki = kp.public_key().as_der().unwrap();
    let pk = PublicKey::from_spki_der(spki.as_ref()).unwrap();
    let mut sig = vec![0u8; kp.public_modulus_len()];
    kp.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), b"hello", &mut sig)
        .unwrap();
    pk.verify(b"hello", &sig).unwrap();
    assert!(pk.verify(b"hellO", &sig).is_err());
}

fn testdata_key(name: &str) -> String {
    let p = format!("{}/../testdata/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Keys are judged as Go's crypto/x509 (rekor, rekor-tiles, sigstore-go) judges them: the RSA
/// size is the modulus' bit length, not a whole number of bytes, and an EC key is only its
/// uncompressed point (a compressed one is a second spelling of the same key, which a log
/// would store twice for the same signature). Vectors made by OpenSSL (testdata/keys/README.md).
#[test]
fn keys_are_read_as_go_reads_them() {
    let rsa = PublicKey::from_pem(&testdata_key("rsa2054.pub")).unwrap();
    assert_eq!(rsa.algorithm(), KeyAlgorithm::Rsa { bits: 2054 });
    assert!(matches!(
        PublicKey::from_pem(&testdata_key("rsa2047.pub")),
        Err(KeyError::RsaKeySize { bits: 2047, .. })
    ));
    let uncompressed = PublicKey::from_pem(&testdata_key("p256-uncompressed.pub")).unwrap();
    assert_eq!(uncompressed.algorithm(), KeyAlgorithm::EcdsaP256);
    for name in ["p256-compressed.pub", "p384-compressed.pub"] {
        let err = PublicKey::from_pem(&testdata_key(name)).unwrap_err();
        assert!(matches!(err, KeyError::CompressedPoint), "{name}: {err}");
        assert!(err.to_string().contains("uncompressed"), "{err}");
    }
    // A hybrid point (0x06/0x07 ‖ x ‖ y, SEC 1 2.3.3) is not the uncompressed spelling either.
    let mut hybrid = uncompressed.spki_der().to_vec();
    let n = hybrid.len();
    hybrid[n - 65] = 0x06 | (hybrid[n - 1] & 1);
    assert!(matches!(
        PublicKey::from_spki_der(&hybrid),
        Err(KeyError::CompressedPoint)
    ));
}
