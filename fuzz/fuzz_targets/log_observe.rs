//! Fuzzes `signet_proto::observe::observe`, what `signet monitor` and `signet audit` read from
//! every entry body of a log that may be malicious: once on the input as a whole body, and
//! once with the input as the signer inside valid hashedrekord, dsse (stored form), intoto
//! 0.0.2 (stored form) and precert bodies (the testdata bodies with the verifier, `publicKey`
//! or `chain[0]` replaced), so the PEM, X.509 and Fulcio extension readers see arbitrary bytes
//! behind a valid envelope.
//!
//! The input is also put second, after the template's own signer, in dsse and intoto bodies
//! with two signatures, and as the `x509Certificate` and the `publicKey` DER of a Rekor v2
//! hashedrekord 0.0.2 body (any bytes are a key signer: its key ID is their hash).
//!
//! Asserts: the entry keeps its index; signature kinds (and intoto, reported as
//! `Other("intoto")`) always have a digest (`sha256:`/`sha384:`/`sha512:`, lowercase) and at
//! least one signer, precerts have no digest and exactly one signer; other unknown kinds carry
//! nothing; a keyed signer (64 lowercase hex key ID) has no identity or time, a certificate
//! signer always has a time; a body that names a known kind at its version (0.0.1, intoto
//! 0.0.2) and parses is reported as that kind; a two-signature body reports both signers, in
//! order, each as it is reported alone (a signer placed second is never dropped).
#![no_main]
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use signet_proto::observe::{observe, EntryKind, ObservedEntry, ObservedSigner};

const HASHEDREKORD: &[u8] =
    include_bytes!("../../testdata/sigstore/fake-hashedrekord/canonicalized_body.json");
const DSSE: &[u8] = include_bytes!("../../testdata/sigstore/fake-dsse/canonicalized_body.json");
const INTOTO: &[u8] = include_bytes!("../fixtures/intoto_stored_body.json");

fn intoto_kind() -> EntryKind {
    EntryKind::Other("intoto".into())
}

fn check(index: u64, e: &ObservedEntry) {
    assert_eq!(e.index, index);
    let signature_kind = match &e.kind {
        EntryKind::HashedRekord | EntryKind::Dsse => true,
        k => *k == intoto_kind(),
    };
    if signature_kind {
        let d = e
            .digest
            .as_deref()
            .expect("signature entries have a digest");
        assert!(
            ["sha256:", "sha384:", "sha512:"]
                .iter()
                .any(|p| d.starts_with(p)),
            "{d}"
        );
        assert!(!d.bytes().any(|b| b.is_ascii_uppercase()), "{d}");
        assert!(!e.signers.is_empty(), "signature entries have signers");
        if e.kind == EntryKind::HashedRekord {
            assert_eq!(e.signers.len(), 1);
        }
    } else if e.kind == EntryKind::Precert {
        assert_eq!(e.digest, None);
        assert_eq!(e.signers.len(), 1);
    } else {
        assert_eq!((&e.digest, e.signers.len()), (&None, 0));
    }
    for s in &e.signers {
        check_signer(s);
    }
}

fn check_signer(s: &ObservedSigner) {
    if let Some(k) = &s.key_id {
        assert_eq!(k.len(), 64);
        assert!(k
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!((&s.san, &s.issuer, s.time), (&None, &None, None));
        assert!(!s.has_certificate());
    } else {
        assert!(s.has_certificate());
        assert!(s.time.is_some(), "a certificate has a notBefore");
    }
}

/// The hashedrekord, dsse and intoto templates, parsed once.
fn templates() -> &'static (Value, Value, Value) {
    static T: OnceLock<(Value, Value, Value)> = OnceLock::new();
    T.get_or_init(|| {
        (
            signet_proto::json::from_slice(HASHEDREKORD).expect("testdata parses"),
            signet_proto::json::from_slice(DSSE).expect("testdata parses"),
            signet_proto::json::from_slice(INTOTO).expect("fixture parses"),
        )
    })
}

fn observe_in(index: u64, body: &Value, kind: EntryKind) -> Option<ObservedEntry> {
    let bytes = serde_json::to_vec(body).expect("serializes");
    let e = observe(index, &bytes).ok()?;
    check(index, &e);
    assert_eq!(e.kind, kind);
    Some(e)
}

/// `alone` (the body with the input as its only signer) parsed: the body with the template's
/// signer first and the input second must report both, in order.
fn observe_second(index: u64, two: &Value, kind: EntryKind, alone: Option<&ObservedEntry>) {
    let Some(alone) = alone else {
        // The input is not a readable signer: neither is the body holding it second.
        let bytes = serde_json::to_vec(two).expect("serializes");
        assert!(
            observe(index, &bytes).is_err(),
            "an unreadable second signer is an error"
        );
        return;
    };
    let e = observe_in(index, two, kind).expect("a readable second signer keeps the body readable");
    assert_eq!(e.signers.len(), 2);
    assert_eq!(
        e.signers[1], alone.signers[0],
        "the second signer is reported as itself"
    );
    assert_eq!(e.digest, alone.digest);
}

fuzz_target!(|data: &[u8]| {
    let index = data.len() as u64;
    if let Ok(e) = observe(index, data) {
        check(index, &e);
        if let Ok(v) = signet_proto::json::from_slice::<Value>(data) {
            let known = match v["kind"].as_str() {
                Some("hashedrekord") => Some((EntryKind::HashedRekord, "0.0.1")),
                Some("dsse") => Some((EntryKind::Dsse, "0.0.1")),
                Some("precert") => Some((EntryKind::Precert, "0.0.1")),
                Some("intoto") => Some((intoto_kind(), "0.0.2")),
                _ => None,
            };
            if let Some((kind, version)) = known {
                if v["apiVersion"].as_str() == Some(version) {
                    assert_eq!(e.kind, kind);
                }
            }
            if v["kind"] == "hashedrekord" && v["apiVersion"] == "0.0.2" {
                assert_eq!(e.kind, EntryKind::HashedRekord);
            }
        }
    }

    let b64 = Value::String(B64.encode(data));
    let (hashedrekord, dsse, intoto) = templates();
    let mut h = hashedrekord.clone();
    h["spec"]["signature"]["publicKey"]["content"] = b64.clone();
    observe_in(index, &h, EntryKind::HashedRekord);

    let mut d = dsse.clone();
    d["spec"]["signatures"][0]["verifier"] = b64.clone();
    let alone = observe_in(index, &d, EntryKind::Dsse);
    let mut two = dsse.clone();
    let mut second = dsse["spec"]["signatures"][0].clone();
    second["verifier"] = b64.clone();
    second["signature"] = Value::String(B64.encode(b"second"));
    two["spec"]["signatures"]
        .as_array_mut()
        .expect("template has signatures")
        .push(second);
    observe_second(index, &two, EntryKind::Dsse, alone.as_ref());

    let mut i = intoto.clone();
    i["spec"]["content"]["envelope"]["signatures"][0]["publicKey"] = b64.clone();
    let alone = observe_in(index, &i, intoto_kind());
    let mut two = intoto.clone();
    let mut second = intoto["spec"]["content"]["envelope"]["signatures"][0].clone();
    second["publicKey"] = b64.clone();
    two["spec"]["content"]["envelope"]["signatures"]
        .as_array_mut()
        .expect("template has signatures")
        .push(second);
    observe_second(index, &two, intoto_kind(), alone.as_ref());

    let v2 = |field: &str| {
        serde_json::json!({
            "apiVersion": "0.0.2",
            "kind": "hashedrekord",
            "spec": {"hashedRekordV002": {
                "data": {"algorithm": "SHA2_256", "digest": B64.encode([0xab; 32])},
                "signature": {"content": "MEUC", "verifier": {
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    field: {"rawBytes": b64.clone()},
                }},
            }},
        })
    };
    observe_in(index, &v2("x509Certificate"), EntryKind::HashedRekord);
    observe_in(index, &v2("publicKey"), EntryKind::HashedRekord)
        .expect("any publicKey bytes are a key signer");

    let p = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "precert",
        "spec": { "chain": [b64] },
    });
    observe_in(index, &p, EntryKind::Precert);
});
