//! Fuzzes the OCI reference and platform parsers of `signet_proto::oci` (image references come
//! from pods through the admission webhook, platforms from `--platform`), the sha256 digest
//! check and the referrers tag schema.
//!
//! Asserts: a parsed reference prints back to an equal reference, also when pinned to a
//! digest; its digest is a sha256 digest and is what a manifest URL names; a parsed platform
//! prints back to an equal platform and selects itself; a sha256 digest maps to the tag
//! `sha256-<hex>` and anything else has no referrers tag.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::oci::{is_sha256_digest, referrers_tag, sha256_digest, Platform, Reference};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Reference::parse(s) {
        let printed = r.to_string();
        let again = Reference::parse(&printed).expect("a printed reference parses");
        assert_eq!(again, r, "{printed}");
        assert!(!r.repository.is_empty() && !r.registry.is_empty());
        let _ = r.api_host();
        match &r.digest {
            Some(d) => {
                assert!(is_sha256_digest(d));
                assert_eq!(r.manifest_ref(), d);
            }
            None => assert_eq!(r.manifest_ref(), r.tag.as_deref().unwrap_or("latest")),
        }
        let pinned = r.with_digest(&sha256_digest(data));
        assert_eq!(
            Reference::parse(&pinned.to_string()).expect("a pinned reference parses"),
            pinned
        );
    }
    if let Ok(p) = Platform::parse(s) {
        let printed = p.to_string();
        assert_eq!(
            Platform::parse(&printed).expect("a printed platform parses"),
            p,
            "{printed}"
        );
        assert!(p.selects(&p));
    }
    match referrers_tag(s) {
        Ok(tag) => {
            assert!(is_sha256_digest(s));
            assert_eq!(tag, s.replacen("sha256:", "sha256-", 1));
        }
        Err(_) => assert!(!is_sha256_digest(s)),
    }
});
