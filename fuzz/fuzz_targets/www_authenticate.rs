//! Fuzzes the `WWW-Authenticate` challenge parser of `signet_proto::oci` (RFC 7235 §4.1, the
//! header a registry answers 401 with; the registry may be malicious).
//!
//! Asserts: the scheme holds no space and starts with no whitespace; parameter names are
//! non-empty, trimmed, ASCII-lowercase and hold no `=`; and the parameters survive being
//! written back as quoted `name="value"` pairs (with `\` escapes) and parsed again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::oci::parse_challenge;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let c = parse_challenge(header);
    assert!(!c.scheme.contains(' '));
    assert_eq!(c.scheme.trim_start(), c.scheme);
    for name in c.params.keys() {
        assert!(!name.is_empty());
        assert_eq!(name.trim(), name);
        assert_eq!(&name.to_ascii_lowercase(), name);
        assert!(!name.contains('='));
    }
    let params: Vec<String> = c
        .params
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let rewritten = format!("Bearer {}", params.join(", "));
    let again = parse_challenge(&rewritten);
    assert_eq!(again.scheme, "Bearer");
    assert_eq!(again.params, c.params, "{rewritten}");
});
