//! Fuzzes `signet_proto::observe::observe`, what `signet monitor` and `signet audit` read from
//! every entry body of a log that may be malicious: once on the input as a whole body, and
//! once with the input as the signer inside valid hashedrekord, dsse (stored form), intoto
//! 0.0.2 (stored form) and precert bodies (the testdata bodies with the verifier, `publicKey`
//! or `chain[0]` replaced), so the PEM, X.509 and Fulcio extension readers see arbitrary bytes
//! behind a valid envelope.
//!
//! Asserts: the entry keeps its index; signature kinds (and intoto, reported as
//! `Other("intoto")`) always have a digest (`sha256:`/`sha384:`/`sha512:`, lowercase) and
//! precerts never do; other unknown kinds carry nothing else; a keyed entry (64 lowercase hex
//! key ID) has no identity or time; a body that names a known kind at its version (0.0.1,
//! intoto 0.0.2) and parses is reported as that kind.
#![no_main]
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use signet_proto::observe::{observe, EntryKind, ObservedEntry};

const HASHEDREKORD: &[u8] =
    include_bytes!("../../../testdata/sigstore/fake-hashedrekord/canonicalized_body.json");
const DSSE: &[u8] = include_bytes!("../../../testdata/sigstore/fake-dsse/canonicalized_body.json");
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
    } else if e.kind == EntryKind::Precert {
        assert_eq!(e.digest, None);
    } else {
        assert_eq!(
            (&e.san, &e.issuer, &e.digest, e.time, &e.key_id),
            (&None, &None, &None, None, &None)
        );
        assert!(!e.has_certificate());
    }
    if let Some(k) = &e.key_id {
        assert_eq!(k.len(), 64);
        assert!(k
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!((&e.san, &e.issuer, e.time), (&None, &None, None));
        assert!(!e.has_certificate());
    }
}

/// The hashedrekord, dsse and intoto templates, parsed once.
fn templates() -> &'static (Value, Value, Value) {
    static T: OnceLock<(Value, Value, Value)> = OnceLock::new();
    T.get_or_init(|| {
        (
            serde_json::from_slice(HASHEDREKORD).expect("testdata parses"),
            serde_json::from_slice(DSSE).expect("testdata parses"),
            serde_json::from_slice(INTOTO).expect("fixture parses"),
        )
    })
}

fn observe_in(index: u64, body: &Value, kind: EntryKind) {
    let bytes = serde_json::to_vec(body).expect("serializes");
    if let Ok(e) = observe(index, &bytes) {
        check(index, &e);
        assert_eq!(e.kind, kind);
    }
}

fuzz_target!(|data: &[u8]| {
    let index = data.len() as u64;
    if let Ok(e) = observe(index, data) {
        check(index, &e);
        if let Ok(v) = serde_json::from_slice::<Value>(data) {
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
        }
    }

    let b64 = Value::String(B64.encode(data));
    let (hashedrekord, dsse, intoto) = templates();
    let mut h = hashedrekord.clone();
    h["spec"]["signature"]["publicKey"]["content"] = b64.clone();
    observe_in(index, &h, EntryKind::HashedRekord);
    let mut d = dsse.clone();
    d["spec"]["signatures"][0]["verifier"] = b64.clone();
    observe_in(index, &d, EntryKind::Dsse);
    let mut i = intoto.clone();
    i["spec"]["content"]["envelope"]["signatures"][0]["publicKey"] = b64.clone();
    observe_in(index, &i, intoto_kind());
    let p = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "precert",
        "spec": { "chain": [b64] },
    });
    observe_in(index, &p, EntryKind::Precert);
});
