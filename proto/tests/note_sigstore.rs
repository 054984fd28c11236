//! `note`/`checkpoint` against real public Sigstore checkpoints.
//!
//! Reads the real bundles and trusted roots vendored in `testdata/sigstore/public/` (see its
//! README for their source); a missing file is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::checkpoint::{SignedCheckpoint, UnverifiedCheckpoint};
use signet_proto::keys::PublicKey;
use signet_proto::note::{
    verifier_from_vkey, Ed25519NoteVerifier, Note, NoteError, RekorNoteVerifier, Verifiers,
};

fn load(name: &str) -> serde_json::Value {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/sigstore/public"
    ))
    .join(name);
    let s =
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("test vector {}: {e}", p.display()));
    serde_json::from_str(&s).unwrap()
}

struct Entry {
    envelope: String,
    tree_size: u64,
    root: Vec<u8>,
}

fn entry(bundle: &serde_json::Value) -> Entry {
    let proof = &bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"];
    Entry {
        envelope: proof["checkpoint"]["envelope"].as_str().unwrap().to_owned(),
        tree_size: proof["treeSize"].as_str().unwrap().parse().unwrap(),
        root: B64.decode(proof["rootHash"].as_str().unwrap()).unwrap(),
    }
}

/// (signer name = host of baseUrl, public key) for each tlog of a trusted root.
fn tlogs(root: &serde_json::Value) -> Vec<(String, PublicKey)> {
    root["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let url = t["baseUrl"].as_str().unwrap();
            let host = url.trim_start_matches("https://").trim_end_matches('/');
            let der = B64
                .decode(t["publicKey"]["rawBytes"].as_str().unwrap())
                .unwrap();
            (host.to_owned(), PublicKey::from_spki_der(&der).unwrap())
        })
        .collect()
}

fn rekor_v1_verifiers(root: &serde_json::Value) -> Verifiers {
    let mut v = Verifiers::new();
    for (name, key) in tlogs(root) {
        v.push(RekorNoteVerifier::new(&name, key).unwrap());
    }
    v
}

fn check_rekor_v1(bundle_file: &str, root_file: &str, expect_origin_prefix: &str) {
    let (bundle, root) = (load(bundle_file), load(root_file));
    let e = entry(&bundle);
    let known = rekor_v1_verifiers(&root);
    let cp = SignedCheckpoint::open(e.envelope.as_bytes(), &known).unwrap();
    assert!(cp.checkpoint().origin.starts_with(expect_origin_prefix));
    assert_eq!(cp.checkpoint().size, e.tree_size);
    assert_eq!(&cp.checkpoint().root[..], &e.root[..]);
    assert_eq!(cp.verified().len(), 1);
    assert_eq!(
        cp.to_bytes(),
        e.envelope.as_bytes(),
        "byte-exact round trip"
    );

    // Tampered tree size: the known key's signature fails.
    let size = e.tree_size.to_string();
    let tampered = e
        .envelope
        .replacen(&size, &(e.tree_size + 1).to_string(), 1);
    assert!(matches!(
        SignedCheckpoint::open(tampered.as_bytes(), &known),
        Err(signet_proto::checkpoint::CheckpointError::Note(
            NoteError::InvalidSignature { .. }
        ))
    ));
    // No matching key: unknown-only signatures are rejected.
    assert!(matches!(
        SignedCheckpoint::open(e.envelope.as_bytes(), &Verifiers::new()),
        Err(signet_proto::checkpoint::CheckpointError::Note(
            NoteError::NoVerifiedSignatures
        ))
    ));
}

#[test]
fn staging_rekor_v1_checkpoint_verifies_with_staging_tlog_key() {
    check_rekor_v1(
        "bundle_v3_rekor1.json",
        "staging_trusted_root.json",
        "rekor.sigstage.dev - ",
    );
}

#[test]
fn production_rekor_v1_checkpoint_verifies_with_production_tlog_key() {
    check_rekor_v1(
        "sigstore_rs_bundle_v03.json",
        "trusted_root.json",
        "rekor.sigstore.dev - ",
    );
}

#[test]
fn production_key_does_not_verify_staging_checkpoint() {
    let (bundle, prod) = (load("bundle_v3_rekor1.json"), load("trusted_root.json"));
    let e = entry(&bundle);
    // Production keys under the staging signer name: the key hint does not match, so the
    // signature is from an unknown key.
    let mut v = Verifiers::new();
    for (_, key) in tlogs(&prod) {
        v.push(RekorNoteVerifier::new("rekor.sigstage.dev", key).unwrap());
    }
    assert_eq!(
        Note::parse(e.envelope.as_bytes())
            .unwrap()
            .verify(&v)
            .err()
            .unwrap(),
        NoteError::NoVerifiedSignatures
    );
}

/// Public witness keys (testdata/note/witness_vkeys.txt).
fn witness_vkeys() -> Vec<String> {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/note/witness_vkeys.txt"
    );
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn staging_rekor_v2_checkpoint_with_witness_cosignatures() {
    let (bundle, root) = (
        load("bundle_v3_rekor2_dsse.json"),
        load("staging_trusted_root.json"),
    );
    let e = entry(&bundle);
    let u = UnverifiedCheckpoint::parse(e.envelope.as_bytes()).unwrap();
    let origin = u.origin_unverified().to_owned();
    // Rekor v2 signs with a C2SP Ed25519 note key named after the origin.
    let mut logs = Verifiers::new();
    for (name, key) in tlogs(&root) {
        if let Ok(v) = Ed25519NoteVerifier::from_public_key(&name, &key) {
            logs.push(v);
        }
    }
    let cp = u.clone().verify(&logs).unwrap();
    assert_eq!(cp.checkpoint().origin, origin);
    assert_eq!(cp.checkpoint().size, e.tree_size);
    assert_eq!(&cp.checkpoint().root[..], &e.root[..]);
    assert_eq!(cp.verified()[0].name.as_str(), origin);

    // Witness cosignatures: all three published witnesses cosigned.
    let mut witnesses = Verifiers::new();
    for k in witness_vkeys() {
        witnesses.push_arc(verifier_from_vkey(&k).unwrap());
    }
    let w = u.clone().verify_threshold(&witnesses, 3).unwrap();
    assert_eq!(w.verified().len(), 3);
    for s in w.verified() {
        let ts = s.timestamp.unwrap();
        assert!(ts > 1_700_000_000, "{}: {ts}", s.name);
    }
    assert!(u.clone().verify_threshold(&witnesses, 4).is_err());

    // The log key with a Rekor v1 style (SPKI) hint is an unknown key here.
    let mut rekor_style = Verifiers::new();
    for (name, key) in tlogs(&root) {
        rekor_style.push(RekorNoteVerifier::new(&name, key).unwrap());
    }
    assert!(matches!(
        u.verify(&rekor_style),
        Err(signet_proto::checkpoint::CheckpointError::Note(
            NoteError::NoVerifiedSignatures
        ))
    ));
}
