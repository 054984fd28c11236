//! Fuzzes the whole offline verification of a Sigstore bundle: `signet_verifier::verify` on
//! arbitrary bundle bytes, against the fixed trust roots, artifacts and identity of
//! `testdata/sigstore/fake-{hashedrekord,dsse}`, at a fixed time. One call reaches the bundle
//! JSON, certificate (x509 + Fulcio extensions), embedded SCT, DSSE/PAE + in-toto, Rekor body,
//! SET, inclusion-proof, signed-note checkpoint and RFC 3161 parsers.
//!
//! Asserts: a parsed bundle serializes to JSON that parses back to the same bundle, and a
//! bundle that verifies satisfies what verification promises (the policy's identity, the
//! artifact's digest, a checkpoint agreeing with the proof, a signing time not after `now`).
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use signet_proto::bundle::Bundle;
use signet_proto::trust::TrustedRoot;
use signet_verifier::{verify, Artifact, IdentityPolicy, Policy, TrustMaterial, UnixTime};

const SAN: &str = "alice@example.com";
const ISSUER: &str = "http://127.0.0.1:8080/default";
/// A day after both fixtures' integrated times (1795868883, 1795868884).
const NOW: i64 = 1_795_955_000;

struct Fixture {
    cases: Vec<(TrustMaterial, &'static [u8])>,
    policy: Policy,
}

fn trust(json: &[u8]) -> TrustMaterial {
    let root = TrustedRoot::from_json(json).expect("testdata trusted root parses");
    TrustMaterial::from_trusted_root(&root).expect("testdata trusted root is usable")
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture {
        cases: vec![
            (
                trust(include_bytes!(
                    "../../testdata/sigstore/fake-hashedrekord/trusted_root.json"
                )),
                include_bytes!("../../testdata/sigstore/fake-hashedrekord/artifact.txt"),
            ),
            (
                trust(include_bytes!(
                    "../../testdata/sigstore/fake-dsse/trusted_root.json"
                )),
                include_bytes!("../../testdata/sigstore/fake-dsse/artifact.txt"),
            ),
        ],
        policy: Policy::identity(IdentityPolicy::exact(SAN, ISSUER)),
    })
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = Bundle::from_json(data) else {
        return;
    };
    let json = bundle.to_json().expect("a parsed bundle serializes");
    let again = Bundle::from_json(&json).expect("a serialized bundle parses");
    assert_eq!(again, bundle, "bundle JSON round trip");

    let f = fixture();
    for (trust, artifact) in &f.cases {
        let now = UnixTime::from_unix_seconds(NOW);
        let Ok(v) = verify(
            &bundle,
            Artifact::Bytes(artifact),
            &f.policy,
            trust,
            Some(now),
        ) else {
            continue;
        };
        let identity = v
            .identity
            .as_ref()
            .expect("identity policy gives an identity");
        assert_eq!(identity.san(), Some(SAN));
        assert_eq!(identity.issuer.as_deref(), Some(ISSUER));
        assert_eq!(v.artifact_digest, sha256(artifact));
        assert!(v.integrated_time.as_unix_seconds() <= NOW);
        assert!(
            v.proof_index < v.checkpoint.size,
            "proof index inside the tree"
        );
        assert!(trust.tlog(&v.log_id).is_some(), "verified by a trusted log");
        for t in &v.timestamps {
            assert!(t.gen_time <= NOW);
        }
        // Verification is a function of its inputs.
        let w = verify(
            &bundle,
            Artifact::Bytes(artifact),
            &f.policy,
            trust,
            Some(now),
        )
        .expect("verification is deterministic");
        assert_eq!(w.checkpoint, v.checkpoint);
    }
});
