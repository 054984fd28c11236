//! `checkpoint`: text form (C2SP tlog-checkpoint), signed checkpoints, and proptest round
//! trips for checkpoints and notes.
#![allow(clippy::unwrap_used)]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use proptest::prelude::*;
use signet_proto::checkpoint::{
    Checkpoint, CheckpointError, SignedCheckpoint, UnverifiedCheckpoint,
};
use signet_proto::keys::{EcdsaCurve, EcdsaSigner, Ed25519Signer};
use signet_proto::note::{
    CosignatureV1Signer, Ed25519NoteSigner, KeyName, Note, NoteError, NoteSignature,
    RekorNoteSigner, Verifiers,
};

const SPEC_BODY: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

#[test]
fn spec_example_parses_and_round_trips() {
    let cp = Checkpoint::parse_text(SPEC_BODY).unwrap();
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20_852_163);
    assert_eq!(
        B64.encode(cp.root),
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    );
    assert!(cp.extensions.is_empty());
    assert_eq!(cp.to_text(), SPEC_BODY);

    let with_ext = format!("{SPEC_BODY}ext one\nTimestamp: 1689748607742585419\n");
    let cp = Checkpoint::parse_text(&with_ext).unwrap();
    assert_eq!(
        cp.extensions,
        vec![
            "ext one".to_owned(),
            "Timestamp: 1689748607742585419".to_owned()
        ]
    );
    assert_eq!(cp.to_text(), with_ext);

    let empty =
        Checkpoint::parse_text("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n").unwrap();
    assert_eq!(empty.size, 0);
    let max = format!(
        "o\n{}\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        u64::MAX
    );
    assert_eq!(Checkpoint::parse_text(&max).unwrap().size, u64::MAX);
}

fn line_of(e: &CheckpointError) -> usize {
    match e {
        CheckpointError::Malformed { line, .. } => *line,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn rejects_malformed_text() {
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let cases: Vec<(String, usize)> = vec![
        (format!("o\n1\n{root}"), 1),                      // no final newline
        ("o\n1\n".to_owned(), 3),                          // missing root
        ("o\n".to_owned(), 2),                             // missing size
        (String::new(), 1),                                // empty
        (format!("\n1\n{root}\n"), 1),                     // empty origin
        (format!("o\n01\n{root}\n"), 2),                   // leading zero
        (format!("o\n00\n{root}\n"), 2),                   // leading zero
        (format!("o\n+1\n{root}\n"), 2),                   // sign
        (format!("o\n-1\n{root}\n"), 2),                   // sign
        (format!("o\n 1\n{root}\n"), 2),                   // space
        (format!("o\n1 \n{root}\n"), 2),                   // space
        (format!("o\n0x10\n{root}\n"), 2),                 // hex
        (format!("o\n\n{root}\n"), 2),                     // empty size
        (format!("o\n18446744073709551616\n{root}\n"), 2), // overflow
        (
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n".to_owned(),
            3,
        ), // 31 bytes
        (
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n".to_owned(),
            3,
        ), // no padding
        (
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n".to_owned(),
            3,
        ), // non-canonical
        (
            "o\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n".to_owned(),
            3,
        ), // URL alphabet
        (format!("o\n1\n{root}\n\n"), 4),                  // empty extension line
        (format!("o\n1\n{root}\nok\n\nx\n"), 5),           // empty extension line in the middle
        (format!("o\tx\n1\n{root}\n"), 1),                 // control character
        (format!("o\n1\n{root}\ne\rx\n"), 4),              // control character in extension
    ];
    for (text, line) in cases {
        let err = Checkpoint::parse_text(&text)
            .err()
            .unwrap_or_else(|| panic!("accepted {text:?}"));
        assert_eq!(line_of(&err), line, "{text:?}: {err}");
    }
}

#[test]
fn validate_rejects_unwritable_fields() {
    let mut cp = Checkpoint::new("a\nb", 1, [0; 32]);
    assert!(cp.validate().is_err());
    cp.origin = String::new();
    assert!(cp.validate().is_err());
    cp.origin = "o".to_owned();
    cp.validate().unwrap();
    cp.extensions.push(String::new());
    assert!(cp.validate().is_err());
    assert!(SignedCheckpoint::sign(cp, &[]).is_err());
}

fn signers() -> (
    RekorNoteSigner,
    Ed25519NoteSigner,
    CosignatureV1Signer,
    CosignatureV1Signer,
) {
    let ec = EcdsaSigner::from_scalar(EcdsaCurve::P256, &[3u8; 32]).unwrap();
    let rekor = RekorNoteSigner::ecdsa("log.example:8080", ec).unwrap();
    let ed = Ed25519NoteSigner::from_seed("log.example:8080", &[4u8; 32]).unwrap();
    let w1 = CosignatureV1Signer::new("w1.example", Ed25519Signer::from_seed(&[5u8; 32]).unwrap())
        .unwrap();
    let w2 = CosignatureV1Signer::new("w2.example", Ed25519Signer::from_seed(&[6u8; 32]).unwrap())
        .unwrap();
    (rekor, ed, w1, w2)
}

#[test]
fn sign_open_and_cosign() {
    let (rekor, ed, w1, w2) = signers();
    let cp = Checkpoint::new("log.example:8080 - 7", 42, [9u8; 32]);
    let signed = SignedCheckpoint::sign(cp.clone(), &[&rekor, &ed]).unwrap();
    assert!(signed.verified().is_empty());
    let bytes = signed.to_bytes();
    assert!(bytes.starts_with(cp.to_text().as_bytes()));

    let rekor_only = Verifiers::new().with(rekor.verifier().unwrap());
    let ed_only = Verifiers::new().with(ed.verifier().unwrap());
    for known in [&rekor_only, &ed_only] {
        let opened = SignedCheckpoint::open(&bytes, known).unwrap();
        assert_eq!(opened.checkpoint(), &cp);
        assert_eq!(opened.verified().len(), 1);
        assert_eq!(opened.to_bytes(), bytes);
    }
    SignedCheckpoint::open_for_origin(&bytes, "log.example:8080 - 7", &rekor_only).unwrap();
    assert!(matches!(
        SignedCheckpoint::open_for_origin(&bytes, "other", &rekor_only),
        Err(CheckpointError::OriginMismatch { .. })
    ));

    // Witnesses cosign the verified checkpoint; a 2-of-2 policy then holds.
    let mut opened = SignedCheckpoint::open(&bytes, &ed_only).unwrap();
    opened
        .add_signatures(&[&w1.at(1_000), &w2.at(2_000)])
        .unwrap();
    let cosigned = opened.to_bytes();
    let witnesses = Verifiers::new()
        .with(w1.verifier().unwrap())
        .with(w2.verifier().unwrap());
    let u = UnverifiedCheckpoint::parse(&cosigned).unwrap();
    assert_eq!(u.origin_unverified(), "log.example:8080 - 7");
    assert_eq!(u.checkpoint_unverified().size, 42);
    assert_eq!(u.note().signatures().len(), 4);
    let w = u.clone().verify_threshold(&witnesses, 2).unwrap();
    let ts: Vec<_> = w.verified().iter().map(|s| s.timestamp).collect();
    assert_eq!(ts, vec![Some(1_000), Some(2_000)]);
    u.clone().verify(&rekor_only).unwrap();
    assert!(matches!(
        u.verify_threshold(&witnesses, 3),
        Err(CheckpointError::Note(NoteError::ThresholdNotMet {
            verified: 2,
            required: 3
        }))
    ));

    // Re-cosigning replaces the witness's earlier line instead of adding one.
    let mut again = SignedCheckpoint::open(&cosigned, &witnesses).unwrap();
    again.add_signatures(&[&w1.at(3_000)]).unwrap();
    assert_eq!(again.note().signatures().len(), 4);

    // Tampering with the body breaks it.
    let tampered = String::from_utf8(bytes.clone())
        .unwrap()
        .replacen("\n42\n", "\n43\n", 1);
    assert!(matches!(
        SignedCheckpoint::open(tampered.as_bytes(), &rekor_only),
        Err(CheckpointError::Note(NoteError::InvalidSignature { .. }))
    ));
    // A valid note whose body is not a checkpoint.
    let note = Note::sign("just text\n", &[&ed]).unwrap();
    assert!(matches!(
        SignedCheckpoint::open(&note.to_bytes(), &ed_only),
        Err(CheckpointError::Malformed { line: 2, .. })
    ));
}

#[test]
fn too_many_signatures_via_add() {
    let (_, ed, _, _) = signers();
    let mut n = Note::sign("t\n", &[&ed]).unwrap();
    for i in 0..99u32 {
        let s = Ed25519NoteSigner::from_seed(&format!("k{i}"), &[7u8; 32]).unwrap();
        n.add_signatures(&[&s]).unwrap();
    }
    assert_eq!(n.signatures().len(), 100);
    let s = Ed25519NoteSigner::from_seed("one-more", &[7u8; 32]).unwrap();
    assert_eq!(
        n.add_signatures(&[&s]).err().unwrap(),
        NoteError::TooManySignatures { max: 100 }
    );
    Note::parse(&n.to_bytes()).unwrap();
}

fn origin_strategy() -> impl Strategy<Value = String> {
    // Any non-empty line without control characters (spaces and Unicode allowed).
    "[^\\x00-\\x1f]{1,40}"
}

fn name_strategy() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9./:_\\-\u{e0}-\u{ff}]{1,30}"
}

proptest! {
    #[test]
    fn checkpoint_text_round_trip(
        origin in origin_strategy(),
        size in any::<u64>(),
        root in any::<[u8; 32]>(),
        extensions in proptest::collection::vec(origin_strategy(), 0..4),
    ) {
        let cp = Checkpoint { origin, size, root, extensions };
        cp.validate().unwrap();
        let text = cp.to_text();
        prop_assert_eq!(Checkpoint::parse_text(&text).unwrap(), cp);
    }

    #[test]
    fn note_round_trip(
        text_lines in proptest::collection::vec("[^\\x00-\\x1f]{0,30}", 1..5),
        sigs in proptest::collection::vec(
            (name_strategy(), any::<u32>(), proptest::collection::vec(any::<u8>(), 1..80)),
            1..20,
        ),
    ) {
        let mut text = text_lines.join("\n");
        text.push('\n');
        let signatures: Vec<NoteSignature> = sigs
            .into_iter()
            .map(|(name, key_hash, signature)| NoteSignature {
                name: KeyName::new(name).unwrap(),
                key_hash,
                signature,
            })
            .collect();
        let mut bytes = text.clone().into_bytes();
        bytes.push(b'\n');
        for s in &signatures {
            bytes.extend_from_slice(s.to_line().as_bytes());
            bytes.push(b'\n');
        }
        let n = Note::parse(&bytes).unwrap();
        prop_assert_eq!(n.text(), text.as_str());
        prop_assert_eq!(n.signatures(), &signatures[..]);
        prop_assert_eq!(n.to_bytes(), bytes);
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Note::parse(&bytes);
        let _ = UnverifiedCheckpoint::parse(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Checkpoint::parse_text(s);
            let _ = signet_proto::note::verifier_from_vkey(s);
            let _ = Ed25519NoteSigner::from_skey(s);
        }
    }

    #[test]
    fn signed_checkpoint_round_trip(size in any::<u64>(), root in any::<[u8; 32]>()) {
        let (rekor, ed, _, _) = signers();
        let cp = Checkpoint::new("log.example:8080 - 7", size, root);
        let signed = SignedCheckpoint::sign(cp.clone(), &[&rekor, &ed]).unwrap();
        let known = Verifiers::new().with(rekor.verifier().unwrap()).with(ed.verifier().unwrap());
        let opened = SignedCheckpoint::open(&signed.to_bytes(), &known).unwrap();
        prop_assert_eq!(opened.checkpoint(), &cp);
        prop_assert_eq!(opened.verified().len(), 2);
    }
}
