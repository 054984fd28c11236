//! Fuzzes the RFC 3161 `TimeStampReq` parser of the timestamp authority
//! (`signet_proto::timestamp::authority::parse_request`) and the TSA service on top of it
//! (`signet_ca::tsa::TimestampAuthority::respond`, fixed clock, a throwaway P-256 key).
//!
//! Asserts: an accepted request's digest has its algorithm's length, the nonce is a minimal
//! INTEGER of at most `MAX_NONCE_BYTES`, and a request re-encoded with `encode_request` (no
//! policy; non-negative nonce) parses back to the same fields; the TSA grants exactly what the
//! parser accepts, with the same failure info otherwise, and nothing signed in a rejection; a
//! granted token parses, timestamps the request's digest, echoes its nonce and policy (or the
//! TSA's own), and carries the signing certificate exactly when `certReq` asked for it.
#![no_main]
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use signet_ca::signer::{CaCurve, FileSigner};
use signet_ca::tsa::{build_tsa_certificates, TimestampAuthority};
use signet_proto::timestamp::authority::{
    encode_request, parse_request, response_status, tst_info_policy_and_nonce, MAX_NONCE_BYTES,
    SIGSTORE_TSA_POLICY,
};
use signet_proto::timestamp::parse_response;

fn tsa() -> &'static (TimestampAuthority, Vec<u8>) {
    static TSA: OnceLock<(TimestampAuthority, Vec<u8>)> = OnceLock::new();
    TSA.get_or_init(|| {
        let root = Arc::new(FileSigner::generate(CaCurve::P256).expect("key"));
        let leaf = Arc::new(FileSigner::generate(CaCurve::P256).expect("key"));
        let certs =
            build_tsa_certificates("F", "f", 1_700_000_000, root, leaf.clone(), (&[1], &[2]))
                .expect("certificates");
        let tsa = TimestampAuthority::new(
            leaf,
            vec![certs.leaf_der.clone(), certs.root_der],
            Arc::new(signet_proto::clock::FixedClock::new(1_778_700_213_250)),
        )
        .expect("tsa");
        (tsa, certs.leaf_der)
    })
}

fuzz_target!(|data: &[u8]| {
    let (tsa, leaf) = tsa();
    let parsed = parse_request(data);
    let reply = tsa.respond(data);
    let req = match parsed {
        Err(e) => {
            assert_eq!(reply.failure, Some(e.failure));
            assert_eq!(
                response_status(&reply.der),
                Some((2, vec![e.failure.bit()]))
            );
            assert!(
                parse_response(&reply.der).is_err(),
                "a rejection carries no token"
            );
            return;
        }
        Ok(req) => req,
    };
    assert_eq!(req.hashed_message.len(), req.hash_algorithm.output_len());
    if let Some(n) = req.nonce {
        assert!(!n.is_empty() && n.len() <= MAX_NONCE_BYTES);
        if n.len() > 1 {
            assert!(!(n[0] == 0 && n[1] & 0x80 == 0) && !(n[0] == 0xff && n[1] & 0x80 != 0));
        }
    }
    if req.policy.is_none() && req.nonce.is_none_or(|n| n[0] & 0x80 == 0) {
        let again = encode_request(
            req.hash_algorithm,
            req.hashed_message,
            req.nonce,
            req.cert_req,
        );
        let back = parse_request(&again).expect("a re-encoded request parses");
        assert_eq!(back, req);
    }
    assert_eq!(
        reply.failure, None,
        "the TSA grants what the parser accepts"
    );
    let token = parse_response(&reply.der).expect("a granted token parses");
    assert_eq!(token.imprint, req.hashed_message);
    let (policy, nonce) = tst_info_policy_and_nonce(token.tst_info).expect("TSTInfo");
    assert_eq!(policy, req.policy.unwrap_or(SIGSTORE_TSA_POLICY));
    assert_eq!(nonce, req.nonce);
    assert_eq!(
        token.first_certificate,
        req.cert_req.then_some(leaf.as_slice())
    );
});
