//! Keyed signing with a trusted keys document (issue 19): a signature is accepted only from a
//! listed key whose window contains the verified signing time and that was not revoked at or
//! before it; the document's parser refuses what it cannot use. Bundles are built in-process
//! (tests/common, keyed mode).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use base64::Engine as _;
use common::{build, Fixture, Knobs, SIGNING_TIME};
use serde_json::{json, Value};
use signet_verifier::error::{BundleError, PolicyError};
use signet_verifier::trusted_keys::{KeyRefused, TrustedKeys, MEDIA_TYPE};
use signet_verifier::{verify, Artifact, Policy, UnixTime, VerificationError, VerifiedBundle};

fn at(secs: i64) -> String {
    signet_proto::bundle::Timestamp::from_unix(secs)
        .unwrap()
        .as_str()
        .to_owned()
}

fn key_b64(f: &Fixture) -> String {
    base64::engine::general_purpose::STANDARD.encode(f.leaf_key.spki_der())
}

fn entry(name: &str, key: &str, start: i64, end: Option<i64>, revoked: Option<i64>) -> Value {
    let mut e = json!({
        "name": name,
        "publicKey": {"rawBytes": key},
        "validFor": {"start": at(start)},
    });
    if let Some(end) = end {
        e["validFor"]["end"] = json!(at(end));
    }
    if let Some(r) = revoked {
        e["revoked"] = json!({"time": at(r), "reason": "keyCompromise"});
    }
    e
}

fn doc(entries: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"mediaType": MEDIA_TYPE, "keys": entries})).unwrap()
}

fn run(f: &Fixture, doc: &[u8]) -> Result<VerifiedBundle, VerificationError> {
    let keys = TrustedKeys::from_json(doc).unwrap();
    verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &Policy::trusted_keys(keys),
        &f.trust(),
        Some(UnixTime::from_unix_seconds(SIGNING_TIME + 3600)),
    )
}

fn refused(r: Result<VerifiedBundle, VerificationError>) -> KeyRefused {
    match r {
        Err(VerificationError::Policy(PolicyError::TrustedKey(k))) => *k,
        Err(other) => panic!("expected a trusted-key refusal, got: {other}"),
        Ok(_) => panic!("verified"),
    }
}

fn other_key() -> String {
    let k = signet_proto::keys::EcdsaSigner::generate(
        signet_proto::keys::EcdsaCurve::P256,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap();
    base64::engine::general_purpose::STANDARD.encode(k.public_key().spki_der())
}

/// The window is closed at both ends; the revocation refuses from its instant on.
#[test]
fn window_and_revocation_edges() {
    let f = build(&Knobs {
        keyed: true,
        ..Knobs::default()
    });
    let k = key_b64(&f);
    let t = SIGNING_TIME;
    for (start, end, revoked, ok) in [
        (t - 100, None, None, true),
        (t, None, None, true),
        (t - 100, Some(t), None, true),
        (t, Some(t), None, true),
        (t - 100, None, Some(t + 1), true),
        (t + 1, None, None, false),
        (t - 100, Some(t - 1), None, false),
        (t - 100, None, Some(t), false),
        (t - 100, None, Some(t - 1), false),
    ] {
        let d = doc(vec![
            entry("other", &other_key(), t - 1000, None, None),
            entry("release", &k, start, end, revoked),
        ]);
        let got = run(&f, &d);
        if ok {
            let v = got.unwrap_or_else(|e| panic!("{start} {end:?} {revoked:?}: {e}"));
            assert_eq!(v.signing_key.spki_der(), f.leaf_key.spki_der());
            continue;
        }
        let why = refused(got);
        let msg = why.to_string();
        match (revoked, why) {
            (Some(r), KeyRefused::Revoked { .. }) => {
                assert!(
                    msg.contains("\"release\" was revoked from")
                        && msg.contains(&at(r))
                        && msg.contains("(keyCompromise)")
                        && msg.contains("2026-01-01T00:00:00Z"),
                    "{msg}"
                );
            }
            (None, KeyRefused::OutsideWindow { .. }) => {
                assert!(msg.contains("\"release\" is valid from"), "{msg}");
            }
            (_, other) => panic!("{start} {end:?} {revoked:?}: unexpected {other}"),
        }
    }
}

/// A key that is not listed (only others are) is refused; an empty list refuses everything;
/// a certificate bundle is not a trusted-key signature.
#[test]
fn unlisted_keys_and_certificates_are_refused() {
    let f = build(&Knobs {
        keyed: true,
        ..Knobs::default()
    });
    let d = doc(vec![entry(
        "other",
        &other_key(),
        SIGNING_TIME - 10,
        None,
        None,
    )]);
    assert_eq!(refused(run(&f, &d)), KeyRefused::Unknown);
    assert_eq!(refused(run(&f, &doc(vec![]))), KeyRefused::Unknown);
    let keyless = build(&Knobs::default());
    let d = doc(vec![entry(
        "leaf",
        &key_b64(&keyless),
        SIGNING_TIME - 10,
        None,
        None,
    )]);
    match run(&keyless, &d) {
        Err(VerificationError::Bundle(BundleError::MaterialMismatch(m))) => {
            assert!(m.contains("carries a certificate"), "{m}");
        }
        other => panic!("expected a material mismatch, got {:?}", other.err()),
    }
}

/// The parser refuses what it cannot use, naming the entry.
#[test]
fn malformed_documents_are_refused() {
    let f = build(&Knobs {
        keyed: true,
        ..Knobs::default()
    });
    let k = key_b64(&f);
    let good = entry("release", &k, SIGNING_TIME, None, None);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{".to_vec(), "not a trusted keys document"),
        (
            serde_json::to_vec(&json!({"mediaType": "x", "keys": []})).unwrap(),
            "mediaType is \"x\"",
        ),
        (
            serde_json::to_vec(&json!({"mediaType": MEDIA_TYPE, "keys": [], "extra": 1})).unwrap(),
            "unknown field",
        ),
        (
            doc(vec![good.clone(), good.clone()]),
            "the same key or name",
        ),
        (
            doc(vec![
                good.clone(),
                entry("release", &other_key(), SIGNING_TIME, None, None),
            ]),
            "the same key or name",
        ),
        (
            doc(vec![entry("bad", "%%%", SIGNING_TIME, None, None)]),
            "key 0 (\"bad\"): publicKey.rawBytes is not base64",
        ),
        (
            doc(vec![entry("bad", "AAAA", SIGNING_TIME, None, None)]),
            "key 0 (\"bad\"): publicKey",
        ),
        (
            doc(vec![entry(
                "backwards",
                &k,
                SIGNING_TIME,
                Some(SIGNING_TIME - 1),
                None,
            )]),
            "validFor ends before it starts",
        ),
        (
            doc(vec![
                json!({"name": "open", "publicKey": {"rawBytes": k}, "validFor": {}}),
            ]),
            "validFor has no start",
        ),
        (
            doc(vec![entry("a\u{7}b", &k, SIGNING_TIME, None, None)]),
            "control character",
        ),
    ];
    for (bytes, want) in cases {
        let err = TrustedKeys::from_json(&bytes).unwrap_err().to_string();
        assert!(err.contains(want), "{want}: {err}");
    }
    assert_eq!(
        TrustedKeys::from_json(&doc(vec![good]))
            .unwrap()
            .keys()
            .len(),
        1
    );
}
