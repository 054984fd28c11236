//! Trust material built from the public trusted roots: every CA chain verifies once at
//! construction and every log key parses. The roots are vendored in `testdata/sigstore/public/`;
//! a missing one is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use signet_proto::trust::TrustedRoot;
use signet_verifier::trust::TrustMaterial;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/sigstore/public");

fn root(name: &str) -> TrustedRoot {
    let path = std::path::Path::new(DIR).join(name);
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("test vector {}: {e}", path.display()));
    signet_proto::json::from_slice(&bytes).unwrap()
}

#[test]
fn public_trusted_roots_build() {
    for name in ["trusted_root.json", "staging_trusted_root.json"] {
        let r = root(name);
        let tm = TrustMaterial::from_trusted_root(&r).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            tm.certificate_authorities().len(),
            r.certificate_authorities.len(),
            "{name}"
        );
        for log in &r.tlogs {
            let l = tm.tlog(&log.log_id.key_id).expect("tlog indexed by log id");
            // Rekor v1 log IDs are SHA-256(SPKI); Rekor v2 (log20xx) logs use another key ID.
            if !log.base_url.contains("log20") {
                assert_eq!(
                    l.key.key_id().as_slice(),
                    log.log_id.key_id.as_slice(),
                    "{name}: {}",
                    log.base_url
                );
            }
        }
        let mut skipped = 0;
        for log in &r.ctlogs {
            if format!("{:?}", log.public_key.key_details).starts_with("Pkcs1") {
                assert!(tm.ctlog(&log.log_id.key_id).is_none(), "{name}");
                skipped += 1;
            } else {
                assert!(
                    tm.ctlog(&log.log_id.key_id).is_some(),
                    "{name}: {}",
                    log.base_url
                );
            }
        }
        assert_eq!(tm.skipped().len(), skipped, "{name}: {:?}", tm.skipped());
        for ca in tm.certificate_authorities() {
            eprintln!(
                "{name}: CA {} {} chain {:?} validFor {:?}",
                ca.index, ca.subject, ca.chain_validity, ca.valid_for
            );
        }
    }
}

#[test]
fn broken_chain_is_rejected_at_construction() {
    let mut r = root("trusted_root.json");
    // The second CA is [intermediate, root]; corrupt the intermediate's signature.
    let ca = r
        .certificate_authorities
        .iter_mut()
        .find(|c| c.cert_chain.certificates.len() == 2)
        .unwrap();
    let der = &mut ca.cert_chain.certificates[0].raw_bytes.0;
    let n = der.len();
    der[n - 3] ^= 1;
    let e = TrustMaterial::from_trusted_root(&r).unwrap_err();
    assert!(
        e.to_string().contains("not signed by the next certificate"),
        "{e}"
    );
}
