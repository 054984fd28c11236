//! Fuzzes the tlog-witness parsers: `add-checkpoint` request bodies, 409 size bodies, 200
//! signature-line bodies and witness policy files. Whatever parses must serialize to text that
//! parses back to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::witness::{
    parse_signature_lines, parse_size_body, size_body, AddCheckpoint, WitnessPolicyFile,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = AddCheckpoint::parse(data) {
        let bytes = req.to_bytes();
        assert_eq!(bytes, data, "a parsed request serializes to its input");
        let again = AddCheckpoint::parse(&bytes).expect("a serialized request parses");
        assert_eq!(again, req);
        let _ = req
            .origin_unverified()
            .expect("a parsed request has a checkpoint origin");
    }
    if let Ok(size) = parse_size_body(data) {
        assert_eq!(size_body(size).as_bytes(), data);
    }
    let _ = parse_signature_lines(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(policy) = WitnessPolicyFile::parse(text) {
            let again =
                WitnessPolicyFile::parse(&policy.to_text()).expect("a serialized policy parses");
            assert_eq!(again, policy);
            policy
                .verifiers()
                .expect("a parsed policy has valid verifiers");
        }
    }
});
