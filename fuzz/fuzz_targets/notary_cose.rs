//! Fuzzes `signet_proto::notary::cose`, the parser of Notary Project COSE envelopes
//! (`application/cose`, `COSE_Sign1_Tagged`), then `signet_verifier::verify_notary` on the same
//! bytes.
//!
//! Asserts: an accepted envelope's signed bytes are a CBOR `Sig_structure` (array of four,
//! context "Signature1") that embeds the protected header bytes of the input and the payload;
//! it carries a certificate; `crit` lists the signing scheme once and the expiry and authentic
//! signing time when present; the scheme's required time is present. With an empty trust store
//! and a strict policy, nothing verifies.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::notary::policy::TrustPolicyDocument;
use signet_proto::notary::{
    cose, SigningScheme, HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY, HEADER_SIGNING_SCHEME,
    MEDIA_TYPE_COSE,
};
use signet_verifier::{verify_notary, NotaryTarget, NotaryTrustStore, UnixTime};

const POLICY: &str = r#"{"version":"1.0","trustPolicies":[{"name":"f","registryScopes":["*"],
"signatureVerification":{"level":"strict"},"trustStores":["ca:f"],"trustedIdentities":["*"]}]}"#;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = cose::parse(data) {
        // 0x84: array(4); 0x6a "Signature1".
        assert!(env.signed_bytes.starts_with(b"\x84\x6aSignature1"));
        assert!(contains(&env.signed_bytes, &env.payload_bytes));
        assert!(env.signed_bytes.ends_with(&env.payload_bytes));
        assert!(contains(data, &env.payload_bytes));
        assert!(!env.certificate_chain.is_empty());
        assert_eq!(
            env.critical
                .iter()
                .filter(|c| *c == HEADER_SIGNING_SCHEME)
                .count(),
            1
        );
        if env.expiry.is_some() {
            assert!(env.critical.iter().any(|c| c == HEADER_EXPIRY));
        }
        if env.authentic_signing_time.is_some() {
            assert!(env
                .critical
                .iter()
                .any(|c| c == HEADER_AUTHENTIC_SIGNING_TIME));
        }
        match env.signing_scheme {
            SigningScheme::X509 => assert!(env.signing_time.is_some()),
            SigningScheme::X509SigningAuthority => assert!(env.authentic_signing_time.is_some()),
        }
    }
    let doc = TrustPolicyDocument::parse(POLICY.as_bytes()).expect("fixed policy");
    let target = NotaryTarget {
        digest: "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
        media_type: "application/vnd.oci.image.manifest.v1+json",
        size: 481,
    };
    let r = verify_notary(
        MEDIA_TYPE_COSE,
        data,
        &target,
        &doc.policies[0],
        &NotaryTrustStore::new(),
        UnixTime::from_unix_seconds(1_796_083_200),
    );
    assert!(r.is_err(), "verified without a trusted certificate");
});
