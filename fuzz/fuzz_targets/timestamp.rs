//! Fuzzes the RFC 3161 / CMS / DER timestamp parser of `signet-verifier` (`timestamp.rs`),
//! which has no public entry point of its own: the input is put as the one
//! `rfc3161Timestamps[].signedTimestamp` of a Rekor v2 (`hashedrekord` 0.0.2, no SET) copy of
//! `testdata/sigstore/fake-hashedrekord`'s bundle, and verified against that trust root plus
//! the throwaway TSA of `fixtures/` (`fixtures/gen_fixtures.sh`). Without a SET, the
//! timestamp is the only possible signing time, so every input reaches `TimeStampResp`
//! parsing and, when it parses, the imprint, signed-attribute, signer and validity checks.
//!
//! Asserts: the TSA is trusted and the bundle is in its trust root (no input can make the
//! verifier skip the timestamp), and an accepted bundle's signing times all come from
//! verified timestamps of that TSA and are not after `now`.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use signet_proto::bundle::{Bundle, Rfc3161SignedTimestamp, TimestampVerificationData};
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
        let mut template: Value = serde_json::from_slice(include_bytes!(
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

fuzz_target!(|data: &[u8]| {
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
        Err(_) => {}
    }
});
