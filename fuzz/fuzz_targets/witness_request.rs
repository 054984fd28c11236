//! Fuzzes the tlog-witness parsers: `add-checkpoint` request bodies, 409 size bodies, 200
//! signature-line bodies and witness policy files. Whatever parses must serialize to text that
//! parses back to the same value; a parsed policy lists each public key once (by its bytes)
//! and its quorum is between 1 and the number of distinct keys.
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
            let verifiers = policy
                .verifiers()
                .expect("a parsed policy has valid verifiers");
            // One key is one witness: the keys are distinct by their bytes (whatever their
            // names and key hashes), so the quorum counts distinct witnesses and is reachable.
            let mut keys: Vec<Vec<u8>> = verifiers
                .iter()
                .map(|v| v.public_key().spki_der().to_vec())
                .collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), policy.witnesses.len(), "a key listed twice");
            assert!(policy.quorum >= 1 && policy.quorum <= keys.len());
            assert!(policy.check_not_log_keys(&[]).is_ok());
        }
    }
});
