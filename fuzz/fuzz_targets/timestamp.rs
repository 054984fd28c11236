//! Fuzzes the RFC 3161 / CMS / DER timestamp parser, `signet_proto::timestamp::parse_response`,
//! directly and then behind `signet-verifier`'s timestamp checks: the input is also put as the
//! one `rfc3161Timestamps[].signedTimestamp` of a Rekor v2 (`hashedrekord` 0.0.2, no SET) copy
//! of `testdata/sigstore/fake-hashedrekord`'s bundle, and verified against that trust root plus
//! the throwaway TSA of `fixtures/` (`fixtures/gen_fixtures.sh`). Without a SET, the timestamp
//! is the only possible signing time, so every input reaches the parser and, when it parses,
//! the imprint, signed-attribute, signer and validity checks.
//!
//! Asserts: the parser is deterministic, every part it returns borrows from the input, the
//! `genTime` fraction is below a second, the signed message is the signed attributes retagged
//! `SET OF`, and a trailing byte makes a response malformed (DER); the verifier refuses exactly
//! what the parser refuses, with the parser's error; the TSA is trusted and the bundle is in
//! its trust root (no input can make the verifier skip the timestamp), and an accepted
//! bundle's signing times all come from verified timestamps of that TSA and are not after
//! `now`.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use signet_proto::bundle::{Bundle, Rfc3161SignedTimestamp, TimestampVerificationData};
use signet_proto::timestamp::{parse_response, SignerId, TimestampParseError, TimestampResponse};
use signet_proto::trust::TrustedRoot;
use signet_verifier::trust::Window;
use signet_verifier::{
    verify, Artifact, IdentityPolicy, Policy, TimestampError, TrustMaterial, UnixTime,
    VerificationError,
};

/// A few days after the fixtures were made (2026-11-28).
const NOW: i64 = 1_796_200_000;

struct Fixture {
    template: Bundle,
    trust: TrustMaterial,
    policy: Policy,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = TrustedRoot::from_json(include_bytes!(
            "../../testdata/sigstore/fake-hashedrekord/trusted_root.json"
        ))
        .expect("testdata trusted root parses");
        let mut trust = TrustMaterial::from_trusted_root(&root).expect("usable trust root");
        let chain: [&[u8]; 2] = [
            include_bytes!("../fixtures/tsa_leaf.der"),
            include_bytes!("../fixtures/tsa_root.der"),
        ];
        trust
            .add_timestamp_authority(&chain, Window::default(), "https://tsa.fuzz.invalid")
            .expect("the fixture TSA is acceptable");
        let mut template: Value = signet_proto::json::from_slice(include_bytes!(
            "../../testdata/sigstore/fake-hashedrekord/artifact.txt.sigstore.json"
        ))
        .expect("testdata bundle is JSON");
        let entry = &mut template["verificationMaterial"]["tlogEntries"][0];
        entry["kindVersion"]["version"] = Value::from("0.0.2");
        entry["integratedTime"] = Value::from("0");
        entry
            .as_object_mut()
            .expect("tlog entry is an object")
            .remove("inclusionPromise");
        Fixture {
            template: Bundle::from_json(&serde_json::to_vec(&template).expect("serializes"))
                .expect("the Rekor v2 template bundle parses"),
            trust,
            policy: Policy::identity(IdentityPolicy::exact(
                "alice@example.com",
                "http://127.0.0.1:8080/default",
            )),
        }
    })
}

/// Whether `part` is a sub-slice of `whole` (same memory).
fn within(whole: &[u8], part: &[u8]) -> bool {
    let (w, p) = (whole.as_ptr_range(), part.as_ptr_range());
    w.start <= p.start && p.end <= w.end
}

/// The parser's own properties on one input; returns its answer.
fn check_parser(data: &[u8]) -> Result<TimestampResponse<'_>, TimestampParseError> {
    let parsed = parse_response(data);
    assert_eq!(parse_response(data), parsed, "the parser is deterministic");
    if let Ok(t) = &parsed {
        let mut longer = data.to_vec();
        longer.push(0);
        assert!(
            matches!(
                parse_response(&longer),
                Err(TimestampParseError::Malformed { .. })
            ),
            "a trailing byte makes the response malformed"
        );
        let mut parts = vec![t.tst_info, t.imprint, t.signed_attrs, t.signature];
        parts.extend(t.message_digest_attr);
        parts.extend(t.first_certificate);
        match t.sid {
            SignerId::IssuerSerial { issuer, serial } => parts.extend([issuer, serial]),
            SignerId::KeyId(kid) => parts.push(kid),
        }
        for p in parts {
            assert!(within(data, p), "every part borrows from the input");
        }
        assert!(
            t.gen_time.1 < 1_000_000_000,
            "the fraction is below a second"
        );
        let m = t.signed_message();
        assert_eq!(
            t.signed_attrs.first(),
            Some(&0xa0),
            "signed attributes are [0]"
        );
        assert_eq!(m.first(), Some(&0x31), "the signed message is a SET OF");
        assert_eq!(m[1..], t.signed_attrs[1..]);
    }
    parsed
}

fuzz_target!(|data: &[u8]| {
    let parsed = check_parser(data);
    let f = fixture();
    let mut bundle = f.template.clone();
    bundle.verification_material.timestamp_verification_data = Some(TimestampVerificationData {
        rfc3161_timestamps: vec![Rfc3161SignedTimestamp {
            signed_timestamp: data.to_vec().into(),
        }],
    });
    let artifact = include_bytes!("../../testdata/sigstore/fake-hashedrekord/artifact.txt");
    let now = UnixTime::from_unix_seconds(NOW);
    match verify(
        &bundle,
        Artifact::Bytes(artifact),
        &f.policy,
        &f.trust,
        Some(now),
    ) {
        Ok(v) => {
            assert!(
                parsed.is_ok(),
                "the verifier accepted what the parser refuses"
            );
            assert!(!v.integrated_time_from_set, "there is no SET to trust");
            assert_eq!(v.timestamps.len(), 1);
            assert_eq!(v.timestamps[0].tsa_index, 0);
            assert_eq!(
                v.integrated_time.as_unix_seconds(),
                v.timestamps[0].gen_time
            );
            assert!(v.timestamps[0].gen_time <= NOW);
        }
        Err(VerificationError::Timestamp(TimestampError::NoAuthorities)) => {
            panic!("the trust material has a TSA")
        }
        Err(VerificationError::Bundle(e)) => {
            // Only an empty timestamp can make the template bundle malformed.
            assert!(data.is_empty(), "the template bundle is well formed: {e}");
        }
        Err(e) => {
            // What the parser refuses, the verifier refuses with the parser's error.
            match parsed {
                Err(TimestampParseError::Malformed { reason }) => assert!(
                    matches!(&e, VerificationError::Timestamp(TimestampError::Malformed { reason: r }) if *r == reason),
                    "{e}"
                ),
                Err(TimestampParseError::Status { status }) => assert!(
                    matches!(e, VerificationError::Timestamp(TimestampError::Status { status: s }) if s == status),
                    "{e}"
                ),
                _ => {}
            }
        }
    }
});
