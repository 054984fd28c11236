//! Fuzzes the OCI manifest and index JSON of `signet_proto::oci`, as a registry serves them:
//! image manifests (referrer artifacts), image indexes (`sign --recursive`, `--platform`) and
//! referrers lists.
//!
//! Asserts: manifests, indexes and descriptors survive a JSON round trip; the referrers list
//! parser agrees with the index type; `index_entries` returns only entries with sha256
//! digests (each with a referrers tag), agrees with the referrers list parser on what it
//! accepts, and reads nothing for a media type that is not an index.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::oci::{
    index_entries, is_sha256_digest, parse_index, referrers_tag, Descriptor, ImageIndex,
    ImageManifest, OciError, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST,
};

#[path = "shared/json.rs"]
mod json;
use json::round_trip;

fuzz_target!(|data: &[u8]| {
    round_trip::<ImageManifest>(data);
    round_trip::<ImageIndex>(data);
    round_trip::<Descriptor>(data);

    let referrers = parse_index(data);
    assert_eq!(
        referrers.as_ref().ok(),
        signet_proto::json::from_slice::<ImageIndex>(data)
            .ok()
            .as_ref()
    );
    for media_type in [OCI_INDEX, DOCKER_MANIFEST_LIST] {
        match index_entries(media_type, data) {
            Ok(Some(entries)) => {
                let index = referrers.as_ref().expect("an index of entries is an index");
                assert_eq!(entries, index.manifests);
                for e in &entries {
                    assert!(is_sha256_digest(&e.digest));
                    referrers_tag(&e.digest).expect("a sha256 digest has a referrers tag");
                }
            }
            Ok(None) => panic!("{media_type} is an index media type"),
            Err(OciError::Malformed { what, .. }) => assert_eq!(what, "image index"),
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(index_entries(OCI_MANIFEST, data), Ok(None));
});
