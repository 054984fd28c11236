//! `note`: known-answer tests ported from Go's golang.org/x/mod/sumdb/note tests, the C2SP
//! spec examples, transparency-dev/formats cosignature vectors and vectors made with Python
//! `cryptography` (testdata/note/).
#![allow(clippy::unwrap_used)]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::keys::{EcdsaCurve, EcdsaSigner, Ed25519Signer, PublicKey};
use signet_proto::note::{
    split_cosignature, verifier_from_vkey, CosignatureV1Signer, CosignatureV1Verifier,
    Ed25519NoteSigner, Ed25519NoteVerifier, KeyName, Note, NoteError, NoteSignature, NoteSigner,
    NoteVerifier, RekorNoteSigner, RekorNoteVerifier, VKeyError, Verifiers, MAX_SIGNATURES,
};

fn load(name: &str) -> serde_json::Value {
    let p = format!("{}/../testdata/note/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn s(v: &serde_json::Value) -> &str {
    v.as_str().unwrap()
}

fn go() -> serde_json::Value {
    load("go_sumdb_note.json")
}

// ---- Go: TestNewVerifier / TestNewSigner -------------------------------------------------

#[test]
fn go_new_verifier_and_manglings() {
    let g = go();
    let vkey = s(&g["peter_vkey"]);
    let v = Ed25519NoteVerifier::from_vkey(vkey).unwrap();
    assert_eq!(v.name(), "PeterNeumann");
    assert_eq!(v.key_hash(), 0xc74f_20a3);
    assert_eq!(v.to_vkey(), vkey);
    assert!(verifier_from_vkey(vkey).is_ok());

    let b = vkey.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let sub = std::str::from_utf8(&b[i..j]).unwrap();
            assert!(
                Ed25519NoteVerifier::from_vkey(sub).is_err(),
                "accepted substring {sub:?}"
            );
        }
    }
    let mut m = b.to_vec();
    for i in 0..m.len() {
        m[i] += 1;
        let k = String::from_utf8(m.clone()).unwrap();
        assert!(
            Ed25519NoteVerifier::from_vkey(&k).is_err(),
            "accepted {k:?}"
        );
        m[i] -= 1;
    }
    let bad = g["bad_vkeys"].as_array().unwrap();
    // Wrong length key with adjusted hash (also non-canonical base64, which Go tolerates and
    // this crate does not), unknown algorithm with adjusted hash.
    assert!(Ed25519NoteVerifier::from_vkey(s(&bad[0])).is_err());
    assert!(matches!(
        Ed25519NoteVerifier::from_vkey(s(&bad[1])),
        Err(VKeyError::UnsupportedType { found: 0x65 })
    ));
    assert!(matches!(
        verifier_from_vkey(s(&bad[1])),
        Err(VKeyError::UnsupportedType { found: 0x65 })
    ));
}

#[test]
fn go_new_signer_and_manglings() {
    let g = go();
    let skey = s(&g["peter_skey"]);
    let signer = Ed25519NoteSigner::from_skey(skey).unwrap();
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(signer.key_hash(), 0xc74f_20a3);
    assert_eq!(signer.to_skey(), skey);
    assert_eq!(signer.to_vkey(), s(&g["peter_vkey"]));
    let b = skey.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let sub = std::str::from_utf8(&b[i..j]).unwrap();
            assert!(
                Ed25519NoteSigner::from_skey(sub).is_err(),
                "accepted {sub:?}"
            );
        }
    }
    let mut m = b.to_vec();
    for i in 0..m.len() {
        m[i] += 1;
        let k = String::from_utf8(m.clone()).unwrap();
        assert!(Ed25519NoteSigner::from_skey(&k).is_err(), "accepted {k:?}");
        m[i] -= 1;
    }
}

#[test]
fn go_generate_key_round_trip() {
    let signer = Ed25519NoteSigner::from_seed("EnochRoot", &[42u8; 32]).unwrap();
    let verifier = Ed25519NoteVerifier::from_vkey(&signer.to_vkey()).unwrap();
    let again = Ed25519NoteSigner::from_skey(&signer.to_skey()).unwrap();
    assert_eq!(again.to_vkey(), signer.to_vkey());
    assert_eq!(signer.name(), verifier.name());
    assert_eq!(signer.key_hash(), verifier.key_hash());
    let mut msg = b"hi".to_vec();
    let mut sig = signer.sign(&msg).unwrap();
    verifier.verify(&msg, &sig).unwrap();
    sig[0] = sig[0].wrapping_add(1);
    assert!(verifier.verify(&msg, &sig).is_err());
    sig[0] = sig[0].wrapping_sub(1);
    msg[0] += 1;
    assert!(verifier.verify(&msg, &sig).is_err());
    // Names with spaces or plus are rejected.
    assert!(Ed25519NoteSigner::from_seed("bad name", &[1u8; 32]).is_err());
    assert!(Ed25519NoteSigner::from_seed("a+b", &[1u8; 32]).is_err());
    assert!(Ed25519NoteSigner::from_seed("", &[1u8; 32]).is_err());
}

// ---- Go: TestSign ------------------------------------------------------------------------

#[test]
fn go_sign_known_answer() {
    let g = go();
    let signer = Ed25519NoteSigner::from_skey(s(&g["peter_skey"])).unwrap();
    let text = s(&g["text"]);
    let want = format!("{text}\n{}", s(&g["peter_sig_line"]));
    let n = Note::sign(text, &[&signer]).unwrap();
    assert_eq!(String::from_utf8(n.to_bytes()).unwrap(), want);

    // An existing signature by the same key is replaced.
    let mut n = Note::new(text).unwrap();
    let bogus = NoteSignature {
        name: KeyName::new("PeterNeumann").unwrap(),
        key_hash: 0xc74f_20a3,
        signature: b"BADSIGN".to_vec(),
    };
    n = Note::parse(&[n.to_bytes(), format!("{}\n", bogus.to_line()).into_bytes()].concat())
        .unwrap();
    n.add_signatures(&[&signer]).unwrap();
    assert_eq!(String::from_utf8(n.to_bytes()).unwrap(), want);

    // Text without a final newline is rejected.
    assert!(matches!(
        Note::sign("abc", &[&signer]),
        Err(NoteError::Malformed { .. })
    ));
    assert!(KeyName::new("a+b").is_err());
}

struct BadNameSigner(Ed25519NoteSigner);
impl NoteSigner for BadNameSigner {
    fn name(&self) -> &str {
        "bad name"
    }
    fn key_hash(&self) -> u32 {
        self.0.key_hash()
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signet_proto::keys::SignatureError> {
        self.0.sign(msg)
    }
}

struct FailingSigner;
impl NoteSigner for FailingSigner {
    fn name(&self) -> &str {
        "fails"
    }
    fn key_hash(&self) -> u32 {
        1
    }
    fn sign(&self, _: &[u8]) -> Result<Vec<u8>, signet_proto::keys::SignatureError> {
        Err(signet_proto::keys::SignatureError::SigningFailed)
    }
}

#[test]
fn go_sign_bad_signers() {
    let g = go();
    let signer = Ed25519NoteSigner::from_skey(s(&g["peter_skey"])).unwrap();
    let text = s(&g["text"]);
    assert!(matches!(
        Note::sign(text, &[&BadNameSigner(signer)]),
        Err(NoteError::InvalidKeyName { .. })
    ));
    assert!(matches!(
        Note::sign(text, &[&FailingSigner]),
        Err(NoteError::Signer { .. })
    ));
}

// ---- Go: TestVerifierList / TestOpen -----------------------------------------------------

fn peter() -> Ed25519NoteVerifier {
    Ed25519NoteVerifier::from_vkey(s(&go()["peter_vkey"])).unwrap()
}
fn enoch() -> Ed25519NoteVerifier {
    Ed25519NoteVerifier::from_vkey(s(&go()["enoch_vkey"])).unwrap()
}

#[test]
fn go_verifier_list() {
    let list = Verifiers::new().with(peter()).with(enoch()).with(enoch());
    assert_eq!(
        list.find("PeterNeumann", 0xc74f_20a3)
            .unwrap()
            .unwrap()
            .key_hash(),
        0xc74f_20a3
    );
    assert!(list.find("PeterNeumann", 0xc74f_20a4).unwrap().is_none());
    assert!(list.find("PeterNeuman", 0xc74f_20a3).unwrap().is_none());
    let err = list.find("EnochRoot", 0xaf0c_fe78).err().unwrap();
    assert_eq!(err.to_string(), "ambiguous key EnochRoot+af0cfe78");
}

#[test]
fn go_open() {
    let g = go();
    let text = s(&g["text"]);
    let ps = s(&g["peter_sig_line"]);
    let es = s(&g["enoch_sig_line"]);
    let msg = format!("{text}\n{ps}{es}");

    // One verified, one not.
    let n = Note::parse(msg.as_bytes()).unwrap();
    assert_eq!(n.text(), text);
    let v = n.verify(&Verifiers::new().with(peter())).unwrap();
    assert_eq!(v.text(), text);
    assert_eq!(v.verified().len(), 1);
    assert_eq!(v.verified()[0].name.as_str(), "PeterNeumann");
    assert_eq!(v.verified()[0].key_hash, 0xc74f_20a3);
    assert_eq!(v.verified()[0].timestamp, None);
    assert_eq!(v.unverified().len(), 1);
    assert_eq!(v.unverified()[0].key_hash, 0xaf0c_fe78);
    assert!(v.signed_by("PeterNeumann", 0xc74f_20a3).is_some());
    assert!(v.signed_by("EnochRoot", 0xaf0c_fe78).is_none());

    // Both verified.
    let both = Verifiers::new().with(peter()).with(enoch());
    let v = n.verify(&both).unwrap();
    assert_eq!(v.verified().len(), 2);
    assert!(v.unverified().is_empty());
    n.verify_threshold(&both, 2).unwrap();
    assert!(matches!(
        n.verify_threshold(&both, 3),
        Err(NoteError::ThresholdNotMet {
            verified: 2,
            required: 3
        })
    ));

    // Neither verified.
    assert_eq!(
        n.verify(&Verifiers::new()).err().unwrap(),
        NoteError::NoVerifiedSignatures
    );
    assert_eq!(
        n.verify(&Verifiers::new()).err().unwrap().to_string(),
        "note has no verifiable signatures"
    );

    // Duplicated verifier.
    let dup = Verifiers::new().with(enoch()).with(peter()).with(enoch());
    let only_enoch = format!("{text}\n{es}");
    let err = Note::parse(only_enoch.as_bytes())
        .unwrap()
        .verify(&dup)
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "ambiguous key EnochRoot+af0cfe78");
    // Unused duplicated verifier.
    let only_peter = format!("{text}\n{ps}");
    Note::parse(only_peter.as_bytes())
        .unwrap()
        .verify(&dup)
        .unwrap();

    // Too many signatures.
    let many = format!("{text}\n{}", ps.repeat(101));
    assert_eq!(
        Note::parse(many.as_bytes()).err().unwrap(),
        NoteError::TooManySignatures {
            max: MAX_SIGNATURES
        }
    );
    // 100 (and so the spec's minimum of 16) are accepted.
    let hundred = format!("{text}\n{}", ps.repeat(100));
    let n100 = Note::parse(hundred.as_bytes()).unwrap();
    assert_eq!(n100.signatures().len(), 100);
    assert_eq!(
        n100.verify(&Verifiers::new().with(peter()))
            .unwrap()
            .verified()
            .len(),
        1
    );

    // Invalid signature: insert "ABCD" at byte 60 of the line (Go test).
    let bad_line = [&ps.as_bytes()[..60], b"ABCD", &ps.as_bytes()[60..]].concat();
    let bad = [format!("{text}\n").as_bytes(), &bad_line].concat();
    let err = Note::parse(&bad)
        .unwrap()
        .verify(&Verifiers::new().with(peter()))
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "invalid signature for key PeterNeumann+c74f20a3"
    );

    // Duplicated verified and unverified signatures.
    let enoch_abcd = [&es.as_bytes()[..60], b"ABCD", &es.as_bytes()[60..]].concat();
    let m = [format!("{text}\n{ps}{ps}{es}{es}").as_bytes(), &enoch_abcd].concat();
    let v = Note::parse(&m)
        .unwrap()
        .verify(&Verifiers::new().with(peter()))
        .unwrap();
    assert_eq!(v.verified().len(), 1);
    assert_eq!(v.unverified().len(), 2);
    assert_eq!(v.unverified()[0].key_hash, 0xaf0c_fe78);
    assert_ne!(v.unverified()[0].signature, v.unverified()[1].signature);

    // Invalid encodings.
    let bad_msgs: Vec<Vec<u8>> = vec![
        text.into(),
        format!("{text}\n").into(),
        format!("{text}\n{}", &ps[..ps.len() - 1]).into(),
        format!("\x01{text}\n{ps}").into(),
        [b"\xff".as_slice(), format!("{text}\n{ps}").as_bytes()].concat(),
        format!(
            "{text}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        )
        .into(),
        format!("{text}\n{ps}Unexpected line.\n").into(),
    ];
    for m in bad_msgs {
        let r = Note::parse(&m);
        assert!(
            matches!(
                r,
                Err(NoteError::Malformed { .. } | NoteError::InvalidKeyName { .. })
            ),
            "accepted {:?}: {r:?}",
            String::from_utf8_lossy(&m)
        );
    }
}

#[test]
fn wrong_key_with_matching_name_and_hash_is_an_invalid_signature() {
    // A verifier claiming PeterNeumann's name and hash but holding another key.
    struct Impostor(Ed25519NoteVerifier);
    impl NoteVerifier for Impostor {
        fn name(&self) -> &str {
            "PeterNeumann"
        }
        fn key_hash(&self) -> u32 {
            0xc74f_20a3
        }
        fn public_key(&self) -> &signet_proto::keys::PublicKey {
            self.0.public_key()
        }
        fn verify(
            &self,
            msg: &[u8],
            sig: &[u8],
        ) -> Result<signet_proto::note::SignatureInfo, signet_proto::keys::SignatureError> {
            self.0.verify(msg, sig)
        }
    }
    let g = go();
    let msg = format!("{}\n{}", s(&g["text"]), s(&g["peter_sig_line"]));
    let n = Note::parse(msg.as_bytes()).unwrap();
    assert!(matches!(
        n.verify(&Verifiers::new().with(Impostor(enoch()))),
        Err(NoteError::InvalidSignature { .. })
    ));
    // Tampered text.
    let tampered = msg.replacen("problem", "pr0blem", 1);
    assert!(matches!(
        Note::parse(tampered.as_bytes())
            .unwrap()
            .verify(&Verifiers::new().with(peter())),
        Err(NoteError::InvalidSignature { .. })
    ));
}

// ---- C2SP spec examples ------------------------------------------------------------------

#[test]
fn c2sp_spec_examples_parse() {
    let c = load("c2sp_examples.json");
    let raw = s(&c["signed_note_example"]);
    let n = Note::parse(raw.as_bytes()).unwrap();
    assert_eq!(
        n.text(),
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u{e8} subito sera.\n"
    );
    assert_eq!(n.signatures().len(), 1);
    assert_eq!(
        n.signatures()[0].name.as_str(),
        "quasimodo.example/salvatore"
    );
    assert_eq!(n.signatures()[0].key_hash, 0x367b_a04b);
    assert_eq!(n.to_bytes(), raw.as_bytes());

    let cp = s(&c["cosigned_checkpoint_example"]);
    let n = Note::parse(cp.as_bytes()).unwrap();
    assert_eq!(n.signatures().len(), 2);
    let w = &n.signatures()[1];
    assert_eq!(w.name.as_str(), "witness.example.com/w1");
    let (ts, sig) = split_cosignature(&w.signature).unwrap();
    assert_eq!(ts, c["cosignature_example_timestamp"].as_u64().unwrap());
    assert_eq!(sig.len(), 64);
    assert_eq!(n.to_bytes(), cp.as_bytes());
}

// ---- transparency-dev/formats cosignature vectors ----------------------------------------

#[test]
fn transparency_dev_cosignature_vectors() {
    let t = load("transparency_dev_formats.json");
    let raw = B64.decode(s(&t["cosignature_b64"])).unwrap();
    let (ts, _) = split_cosignature(&raw[4..]).unwrap();
    assert_eq!(ts, t["cosignature_timestamp"].as_u64().unwrap());
    let plain = B64.decode(s(&t["plain_ed25519_b64"])).unwrap();
    assert!(split_cosignature(&plain[4..]).is_err());

    let remora = s(&t["cosig_vkey_remora"]);
    let v = CosignatureV1Verifier::from_vkey(remora).unwrap();
    assert_eq!(v.key_hash(), 0xda77_ade7);
    assert_eq!(v.to_vkey(), remora);
    assert_eq!(verifier_from_vkey(remora).unwrap().key_hash(), 0xda77_ade7);
    assert!(matches!(
        Ed25519NoteVerifier::from_vkey(remora),
        Err(VKeyError::UnsupportedType { found: 4 })
    ));
    for bad in t["bad_vkeys"].as_array().unwrap() {
        assert!(verifier_from_vkey(s(bad)).is_err(), "{bad}");
    }
    assert!(CosignatureV1Verifier::from_vkey(&remora.replace("da77ade7", "00000000")).is_err());
}

// ---- Vectors made by Python `cryptography` ------------------------------------------------

fn py() -> serde_json::Value {
    load("python_vectors.json")
}

fn py_verifiers(p: &serde_json::Value) -> (Verifiers, Verifiers) {
    let mut logs = Verifiers::new();
    logs.push(Ed25519NoteVerifier::from_vkey(s(&p["ed25519_log"]["vkey"])).unwrap());
    let ec =
        PublicKey::from_spki_der(&B64.decode(s(&p["ecdsa_log"]["spki_b64"])).unwrap()).unwrap();
    logs.push(RekorNoteVerifier::new(s(&p["ecdsa_log"]["name"]), ec).unwrap());
    let mut witnesses = Verifiers::new();
    for c in p["cosigners"].as_array().unwrap() {
        witnesses.push_arc(verifier_from_vkey(s(&c["vkey"])).unwrap());
    }
    (logs, witnesses)
}

#[test]
fn python_vectors_verify() {
    let p = py();
    let raw = s(&p["signed_note"]);
    let n = Note::parse(raw.as_bytes()).unwrap();
    assert_eq!(n.text(), s(&p["checkpoint_body"]));
    assert_eq!(n.to_bytes(), raw.as_bytes());
    let (logs, witnesses) = py_verifiers(&p);
    let v = n.verify_threshold(&logs, 2).unwrap();
    assert_eq!(v.verified().len(), 2);
    assert_eq!(v.unverified().len(), 2);
    let w = n.verify_threshold(&witnesses, 2).unwrap();
    let ts: Vec<_> = w.verified().iter().map(|s| s.timestamp).collect();
    assert_eq!(ts, vec![Some(1_700_000_000), Some(1_700_000_123)]);

    // Tampering with the text breaks every known signature.
    let tampered = raw.replacen("1234567", "1234568", 1);
    let t = Note::parse(tampered.as_bytes()).unwrap();
    assert!(matches!(
        t.verify(&logs),
        Err(NoteError::InvalidSignature { .. })
    ));
    assert!(matches!(
        t.verify(&witnesses),
        Err(NoteError::InvalidSignature { .. })
    ));
}

#[test]
fn python_vectors_signers_reproduce_ed25519_lines_exactly() {
    let p = py();
    let body = s(&p["checkpoint_body"]);
    let raw = s(&p["signed_note"]);
    let lines: Vec<&str> = raw.rsplit_once("\n\n").unwrap().1.lines().collect();

    let log = Ed25519NoteSigner::from_skey(s(&p["ed25519_log"]["skey"])).unwrap();
    assert_eq!(log.to_vkey(), s(&p["ed25519_log"]["vkey"]));
    let n = Note::sign(body, &[&log]).unwrap();
    assert_eq!(n.signatures()[0].to_line(), lines[1]);

    let seed: [u8; 32] = hex::decode(s(&p["ed25519_log"]["seed_hex"]))
        .unwrap()
        .try_into()
        .unwrap();
    let rekor_ed =
        RekorNoteSigner::ed25519("log.example.com", Ed25519Signer::from_seed(&seed).unwrap())
            .unwrap();
    let n = Note::sign(body, &[&rekor_ed]).unwrap();
    assert_eq!(
        format!("{}\n", n.signatures()[0].to_line()),
        s(&p["ed25519_log"]["rekor_style_line"])
    );
    // Rekor-style Ed25519 verification (SPKI key hint).
    let spki = B64.decode(s(&p["ed25519_log"]["spki_b64"])).unwrap();
    let rv = RekorNoteVerifier::new("log.example.com", PublicKey::from_spki_der(&spki).unwrap())
        .unwrap();
    n.verify(&Verifiers::new().with(rv)).unwrap();

    for (i, c) in p["cosigners"].as_array().unwrap().iter().enumerate() {
        let seed: [u8; 32] = hex::decode(s(&c["seed_hex"])).unwrap().try_into().unwrap();
        let cs = CosignatureV1Signer::new(s(&c["name"]), Ed25519Signer::from_seed(&seed).unwrap())
            .unwrap();
        assert_eq!(cs.to_vkey(), s(&c["vkey"]));
        let ts = c["timestamp"].as_u64().unwrap();
        let n = Note::sign(body, &[&cs.at(ts)]).unwrap();
        assert_eq!(n.signatures()[0].to_line(), lines[2 + i]);
        assert_eq!(cs.verifier().unwrap().to_vkey(), s(&c["vkey"]));
    }
}

#[test]
fn rekor_ecdsa_signer_round_trip() {
    let p = py();
    let scalar = hex::decode(s(&p["ecdsa_log"]["scalar_hex"])).unwrap();
    let key = EcdsaSigner::from_scalar(EcdsaCurve::P256, &scalar).unwrap();
    let signer = RekorNoteSigner::ecdsa("rekor.log.example.com", key).unwrap();
    let (logs, _) = py_verifiers(&p);
    let body = s(&p["checkpoint_body"]);
    let n = Note::sign(body, &[&signer]).unwrap();
    // Same key hint as the Python line (first 4 bytes of SHA-256(SPKI)).
    let raw = s(&p["signed_note"]);
    let py_note = Note::parse(raw.as_bytes()).unwrap();
    assert_eq!(n.signatures()[0].key_hash, py_note.signatures()[0].key_hash);
    let v = Note::parse(&n.to_bytes()).unwrap().verify(&logs).unwrap();
    assert_eq!(v.verified()[0].name.as_str(), "rekor.log.example.com");
    signer.verifier().unwrap();
}

#[test]
fn cosignature_rejects_bad_shapes() {
    let cs = CosignatureV1Signer::new("w.example", Ed25519Signer::from_seed(&[9u8; 32]).unwrap())
        .unwrap();
    let v = cs.verifier().unwrap();
    let body = b"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let sig = cs.sign_at(5, body).unwrap();
    assert_eq!(v.verify(body, &sig).unwrap().timestamp, Some(5));
    // Timestamp changed: the signature covers it.
    let mut other = sig.clone();
    other[7] = 6;
    assert!(v.verify(body, &other).is_err());
    assert!(v.verify(body, &sig[..71]).is_err());
    // Timestamps above 2^63-1 are refused both ways.
    assert!(cs.sign_at(1 << 63, body).is_err());
    let mut high = sig.clone();
    high[0] = 0x80;
    assert!(v.verify(body, &high).is_err());
    // A plain Ed25519 verifier for the same key does not accept a cosignature.
    let plain = Ed25519NoteVerifier::new(
        "w.example",
        &Ed25519Signer::from_seed(&[9u8; 32])
            .unwrap()
            .public_key_raw(),
    )
    .unwrap();
    assert_ne!(plain.key_hash(), v.key_hash());
    assert!(plain.verify(body, &sig[8..]).is_err());
}
