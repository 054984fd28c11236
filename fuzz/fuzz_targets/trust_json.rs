//! Fuzzes the JSON trust and service documents a client or server reads from elsewhere:
//! `trusted_root.json`, `signing_config.json` (v0.2) and the client trust config
//! (`signet-proto::trust`), then builds `signet_verifier::TrustMaterial` from any trusted root
//! that parses (DER certificate chains, TSA chains, log keys, validity windows); and the
//! Fulcio v2 responses (`signingCert`, `trustBundle`, `configuration`).
//!
//! Asserts: every document that parses survives a serialize/parse round trip unchanged
//! (`null` fields read as their defaults, so they are not written back); trust material built
//! from a root trusts each of its (SPKI) tlogs under the declared log ID, and is only built
//! when every `validFor` present has a start and does not end before it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::bundle::PublicKeyDetails;
use signet_proto::fulcio::{Configuration, SigningCertificate, TrustBundle};
use signet_proto::trust::{ClientTrustConfig, SigningConfig, TrustedRoot};
use signet_verifier::TrustMaterial;

#[path = "shared/json.rs"]
mod json;
use json::assert_round_trip as round_trip;

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = TrustedRoot::from_json(data) {
        let json = root.to_json_pretty().expect("a parsed root serializes");
        assert_eq!(TrustedRoot::from_json(&json).expect("re-parses"), root);
        if let Ok(trust) = TrustMaterial::from_trusted_root(&root) {
            let windows = root
                .tlogs
                .iter()
                .chain(&root.ctlogs)
                .filter_map(|l| l.public_key.valid_for.as_ref())
                .chain(root.certificate_authorities.iter().map(|c| &c.valid_for))
                .chain(root.timestamp_authorities.iter().map(|c| &c.valid_for));
            for w in windows {
                let start = w.start.as_ref().expect("an accepted validFor has a start");
                assert!(
                    w.end.as_ref().is_none_or(|e| e >= start),
                    "end before start accepted"
                );
            }
            for t in &root.tlogs {
                let pkcs1 = matches!(
                    t.public_key.key_details,
                    PublicKeyDetails::Pkcs1RsaPkcs1v5 | PublicKeyDetails::Pkcs1RsaPss
                );
                if !pkcs1 {
                    let log = trust
                        .tlog(&t.log_id.key_id)
                        .expect("an accepted root's tlog is trusted under its log ID");
                    assert_eq!(log.log_id.as_slice(), t.log_id.key_id.as_slice());
                }
            }
        }
    }
    if let Ok(cfg) = SigningConfig::from_json(data) {
        round_trip(&cfg);
    }
    if let Ok(cfg) = ClientTrustConfig::from_json(data) {
        round_trip(&cfg);
    }
    if let Ok(c) = SigningCertificate::from_json(data) {
        round_trip(&c);
        let _ = c.chain();
    }
    if let Ok(b) = signet_proto::json::from_slice::<TrustBundle>(data) {
        round_trip(&b);
    }
    if let Ok(c) = signet_proto::json::from_slice::<Configuration>(data) {
        round_trip(&c);
    }
});
