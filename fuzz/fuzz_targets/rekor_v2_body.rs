//! Fuzzes the Rekor v2 entry body parser of `signet-proto` (`rekor_v2::parse_hashedrekord_v002`,
//! the `hashedrekord` 0.0.2 body in protobuf-specs JSON that a bundle's Rekor v2 tlog entry
//! carries as `canonicalizedBody`, which the verifier compares with the bundle field by field)
//! and the protobuf JSON `bytes` decoding of its fields.
//!
//! Asserts: an accepted body is `hashedrekord` 0.0.2; it serializes to JSON that parses back
//! to the same value; each `bytes` field decodes the same from the re-serialized body, and a
//! decoded value re-encoded as standard base64 decodes to the same bytes; the verifier field
//! (certificate or key) decodes to the same answer as `decode_bytes` on its text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::rekor_v2::{
    decode_bytes, parse_hashedrekord_v002, Entry, HashedRekordV002, Spec, API_VERSION_0_0_2,
    KIND_HASHEDREKORD,
};

fn reencoded(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The decoded `bytes` fields, as `Ok` values or the error text.
fn decoded(h: &HashedRekordV002) -> [Option<Result<Vec<u8>, String>>; 4] {
    let v = &h.signature.verifier;
    [
        Some(h.data.digest_bytes().map_err(|e| e.to_string())),
        Some(h.signature.content_bytes().map_err(|e| e.to_string())),
        v.certificate_der().map(|r| r.map_err(|e| e.to_string())),
        v.public_key_der().map(|r| r.map_err(|e| e.to_string())),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Ok(h) = parse_hashedrekord_v002(data) else {
        return;
    };
    let entry: Entry = signet_proto::json::from_slice(data).expect("an accepted body is an Entry");
    assert_eq!(entry.kind, KIND_HASHEDREKORD);
    assert_eq!(entry.api_version, API_VERSION_0_0_2);
    assert_eq!(entry.spec.hashed_rekord_v002, h);

    let json = serde_json::to_vec(&Entry {
        api_version: API_VERSION_0_0_2.to_owned(),
        kind: KIND_HASHEDREKORD.to_owned(),
        spec: Spec {
            hashed_rekord_v002: h.clone(),
        },
    })
    .expect("an entry serializes");
    let again = parse_hashedrekord_v002(&json).expect("a serialized entry parses");
    assert_eq!(again, h, "JSON round trip");

    let fields = decoded(&h);
    assert_eq!(
        decoded(&again),
        fields,
        "decoding does not depend on the JSON spelling"
    );
    for bytes in fields.iter().flatten().flatten() {
        assert_eq!(
            decode_bytes(&reencoded(bytes), "f").expect("standard base64 decodes"),
            *bytes
        );
    }
    if let Some(c) = &h.signature.verifier.x509_certificate {
        assert_eq!(
            decode_bytes(&c.raw_bytes, "verifier.x509Certificate.rawBytes")
                .map_err(|e| e.to_string()),
            fields[2].clone().expect("a certificate is present")
        );
    }
});
