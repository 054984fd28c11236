//! Fuzzes the RFC 7512 PKCS#11 URI parser: parsing never panics; a parsed URI names a key
//! (by label or id; the token by label, slot or neither), and its redacted form (no PIN) parses back to the same URI less the PIN.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::pkcs11_uri::Pkcs11Uri;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(uri) = Pkcs11Uri::parse(text) else {
        return;
    };
    assert!(uri.object.is_some() || uri.id.is_some());
    let redacted = uri.redacted();
    let again = Pkcs11Uri::parse(&redacted).expect("the redacted form parses");
    assert_eq!(again.token, uri.token);
    assert_eq!(again.object, uri.object);
    assert_eq!(again.id, uri.id);
    assert_eq!(again.slot_id, uri.slot_id);
    assert_eq!(again.module_path, uri.module_path);
    assert_eq!(again.pin_source, uri.pin_source);
    assert_eq!(again.pin_value.is_some(), uri.pin_value.is_some());
});
