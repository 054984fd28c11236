//! Fuzzes `signet_proto::notary::jws`, the parser of Notary Project JWS envelopes
//! (`application/jose+json`) as a registry serves them, then `signet_verifier::verify_notary`
//! on the same bytes.
//!
//! Asserts: an accepted envelope's signed bytes are exactly `protected "." payload` of the
//! input; it carries a certificate; `crit` lists the signing scheme, lists no name twice, and
//! lists the expiry and authentic signing time whenever they are present; the scheme's
//! required time is present; the payload bytes parse to the same payload. With an empty trust
//! store and a strict policy, nothing verifies (no signature is trusted without a store
//! certificate), whatever the bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::notary::policy::TrustPolicyDocument;
use signet_proto::notary::{
    jws, parse_payload, SigningScheme, HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY,
    HEADER_SIGNING_SCHEME, MEDIA_TYPE_JWS,
};
use signet_verifier::{verify_notary, NotaryTarget, NotaryTrustStore, UnixTime};

const POLICY: &str = r#"{"version":"1.0","trustPolicies":[{"name":"f","registryScopes":["*"],
"signatureVerification":{"level":"strict"},"trustStores":["ca:f"],"trustedIdentities":["*"]}]}"#;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = jws::parse(data) {
        let v: serde_json::Value = signet_proto::json::from_slice(data).expect("accepted JSON");
        let expected = format!(
            "{}.{}",
            v["protected"].as_str().expect("protected"),
            v["payload"].as_str().expect("payload")
        );
        assert_eq!(env.signed_bytes, expected.as_bytes());
        assert!(!env.certificate_chain.is_empty());
        assert!(env.critical.iter().any(|c| c == HEADER_SIGNING_SCHEME));
        for (i, c) in env.critical.iter().enumerate() {
            assert!(!env.critical[..i].contains(c));
        }
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
        assert_eq!(
            parse_payload(&env.payload_bytes).expect("payload"),
            env.payload
        );
    }
    let doc = TrustPolicyDocument::parse(POLICY.as_bytes()).expect("fixed policy");
    let target = NotaryTarget {
        digest: "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
        media_type: "application/vnd.oci.image.manifest.v1+json",
        size: 517,
    };
    let r = verify_notary(
        MEDIA_TYPE_JWS,
        data,
        &target,
        &doc.policies[0],
        &NotaryTrustStore::new(),
        UnixTime::from_unix_seconds(1_796_083_200),
    );
    assert!(r.is_err(), "verified without a trusted certificate");
});
