//! Message-signature bundles whose Rekor v1 hashedrekord entry states a SHA-384 or SHA-512
//! artifact digest (what cosign's `ecdsa-sha2-384-nistp384` and sigstore-go with P-384 keys
//! log, and Rekor v1 accepts): the artifact is hashed with the entry's hash, the signature is
//! verified with it, and the bundle's `messageDigest` must be of that hash. Tampered copies
//! fail with an error naming the problem. Bundles are built in-process (tests/common).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{build, Fixture, Knobs, SIGNING_TIME};
use signet_proto::keys::HashAlgorithm;
use signet_verifier::error::{BundleError, SignatureError};
use signet_verifier::{verify, Artifact, Policy, UnixTime, VerificationError, VerifiedBundle};

fn now() -> Option<UnixTime> {
    Some(UnixTime::from_unix_seconds(SIGNING_TIME + 3600))
}

fn run(
    f: &Fixture,
    bundle_json: &serde_json::Value,
    artifact: Artifact<'_>,
) -> Result<VerifiedBundle, VerificationError> {
    let bundle =
        signet_proto::bundle::Bundle::from_json(&serde_json::to_vec(bundle_json).unwrap()).unwrap();
    verify(&bundle, artifact, &f.policy(), &f.trust(), now())
}

fn b64(b: &[u8]) -> String {
    common::b64(b)
}

#[test]
fn p384_sha384_bundles_verify_keyless_and_keyed_as_sha256_ones_do() {
    let cases = [
        (true, HashAlgorithm::Sha384),
        (false, HashAlgorithm::Sha256),
    ];
    for (p384, hash) in cases {
        for keyed in [false, true] {
            let f = build(&Knobs {
                leaf_p384: p384,
                message_hash: hash,
                keyed,
                ..Knobs::default()
            });
            let policy = if keyed {
                Policy::key(f.leaf_key.clone())
            } else {
                f.policy()
            };
            let v = verify(
                &f.bundle(),
                Artifact::Bytes(&f.artifact),
                &policy,
                &f.trust(),
                now(),
            )
            .unwrap_or_else(|e| panic!("p384={p384} {hash:?} keyed={keyed}: {e}"));
            // The reported artifact digest stays SHA-256, whatever the entry's hash.
            assert_eq!(
                v.artifact_digest.to_vec(),
                HashAlgorithm::Sha256.hash(&f.artifact)
            );
            // The body states the hash.
            let body = f.bundle_json["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
                .as_str()
                .unwrap();
            let body: serde_json::Value = signet_proto::json::from_slice(
                &base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap(),
            )
            .unwrap();
            let name = if p384 { "sha384" } else { "sha256" };
            assert_eq!(body["spec"]["data"]["hash"]["algorithm"], name);
        }
    }
}

#[test]
fn sha384_bundles_without_message_digest_use_the_entry_hash() {
    let f = build(&Knobs {
        leaf_p384: true,
        message_hash: HashAlgorithm::Sha384,
        ..Knobs::default()
    });
    let mut j = f.bundle_json.clone();
    j["messageSignature"]
        .as_object_mut()
        .unwrap()
        .remove("messageDigest");
    run(&f, &j, Artifact::Bytes(&f.artifact)).unwrap();
    // Another artifact: its SHA-384 digest is not what was signed.
    match run(&f, &j, Artifact::Bytes(b"another artifact")) {
        Err(VerificationError::Signature(SignatureError::Invalid { what, .. })) => {
            assert_eq!(what, "artifact digest (SHA-384)");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tampered_sha384_bundles_fail_with_a_clear_error() {
    let f = build(&Knobs {
        leaf_p384: true,
        message_hash: HashAlgorithm::Sha384,
        ..Knobs::default()
    });

    // Another artifact: its SHA-384 digest is not the bundle's.
    match run(&f, &f.bundle_json, Artifact::Bytes(b"tampered artifact")) {
        Err(VerificationError::Signature(SignatureError::DigestMismatch { bundle, artifact })) => {
            assert_eq!(bundle.len(), 96);
            assert_eq!(
                artifact,
                hex::encode(HashAlgorithm::Sha384.hash(b"tampered artifact"))
            );
        }
        other => panic!("{other:?}"),
    }

    // Only the SHA-256 digest of the artifact: the entry's SHA-384 cannot be checked.
    let sha256: [u8; 32] = HashAlgorithm::Sha256.hash(&f.artifact).try_into().unwrap();
    let e = run(&f, &f.bundle_json, Artifact::Sha256Digest(sha256)).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Signature(SignatureError::NeedsOtherDigest { ref hash }) if hash == "SHA-384"
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("give the artifact itself"), "{e}");

    // The messageDigest relabelled as SHA2_256 (with the SHA-256 digest): the entry says sha384.
    let mut j = f.bundle_json.clone();
    j["messageSignature"]["messageDigest"] =
        serde_json::json!({"algorithm": "SHA2_256", "digest": b64(&sha256)});
    match run(&f, &j, Artifact::Bytes(&f.artifact)) {
        Err(VerificationError::Signature(SignatureError::DigestAlgorithmMismatch {
            bundle,
            entry,
        })) => {
            assert_eq!((bundle.as_str(), entry.as_str()), ("SHA-256", "SHA-384"));
        }
        other => panic!("{other:?}"),
    }

    // A SHA2_512 messageDigest of SHA-384 length: the bundle is malformed.
    let mut j = f.bundle_json.clone();
    j["messageSignature"]["messageDigest"]["algorithm"] = "SHA2_512".into();
    match run(&f, &j, Artifact::Bytes(&f.artifact)) {
        Err(VerificationError::Bundle(BundleError::Invalid { field, reason })) => {
            assert_eq!(field, "messageSignature.messageDigest.digest");
            assert!(reason.contains("expected 64"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    // A SHA2_512 messageDigest of the right length: the entry still says sha384.
    let mut j = f.bundle_json.clone();
    j["messageSignature"]["messageDigest"] = serde_json::json!({
        "algorithm": "SHA2_512",
        "digest": b64(&HashAlgorithm::Sha512.hash(&f.artifact)),
    });
    assert!(matches!(
        run(&f, &j, Artifact::Bytes(&f.artifact)),
        Err(VerificationError::Signature(
            SignatureError::DigestAlgorithmMismatch { .. }
        ))
    ));

    // A hash the verifier does not take.
    let mut j = f.bundle_json.clone();
    j["messageSignature"]["messageDigest"]["algorithm"] = "SHA3_384".into();
    match run(&f, &j, Artifact::Bytes(&f.artifact)) {
        Err(VerificationError::Signature(SignatureError::DigestAlgorithm { algorithm })) => {
            assert!(algorithm.contains("384"), "{algorithm}");
        }
        other => panic!("{other:?}"),
    }

    // A flipped signature bit: the SHA-384 signature check fails.
    let mut j = f.bundle_json.clone();
    let sig = j["messageSignature"]["signature"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut raw = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sig).unwrap();
    let last = raw.len() - 2;
    raw[last] ^= 1;
    j["messageSignature"]["signature"] = b64(&raw).into();
    assert!(matches!(
        run(&f, &j, Artifact::Bytes(&f.artifact)),
        Err(VerificationError::Signature(SignatureError::Invalid { .. }))
    ));
}

#[test]
fn entries_stating_another_hash_than_the_signature_fail() {
    // A P-384 key signs the SHA-384 digest but the entry (and bundle) state sha512: the
    // signature does not verify over the SHA-512 digest.
    let f = build(&Knobs {
        leaf_p384: true,
        message_hash: HashAlgorithm::Sha512,
        ..Knobs::default()
    });
    match run(&f, &f.bundle_json, Artifact::Bytes(&f.artifact)) {
        Err(VerificationError::Signature(SignatureError::Invalid { what, .. })) => {
            assert_eq!(what, "artifact digest (SHA-512)");
        }
        other => panic!("{other:?}"),
    }
    // A P-384 signature over SHA-384 logged as sha256 (a body Rekor would refuse): the
    // SHA-256 check fails.
    let f = build(&Knobs {
        leaf_p384: true,
        message_hash: HashAlgorithm::Sha256,
        ..Knobs::default()
    });
    assert!(matches!(
        run(&f, &f.bundle_json, Artifact::Bytes(&f.artifact)),
        Err(VerificationError::Signature(SignatureError::Invalid { .. }))
    ));
    // The logged body relabelled sha512: the SET covers the body, so the edit is caught
    // before any field is compared (the body check itself names `spec.data.hash.algorithm`,
    // see the unit tests of verify::body).
    let f = build(&Knobs {
        leaf_p384: true,
        message_hash: HashAlgorithm::Sha384,
        ..Knobs::default()
    });
    let mut j = f.bundle_json.clone();
    let entry = &mut j["verificationMaterial"]["tlogEntries"][0];
    let body = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        entry["canonicalizedBody"].as_str().unwrap(),
    )
    .unwrap();
    let edited = String::from_utf8(body)
        .unwrap()
        .replace("\"sha384\"", "\"sha512\"");
    entry["canonicalizedBody"] = b64(edited.as_bytes()).into();
    assert!(matches!(
        run(&f, &j, Artifact::Bytes(&f.artifact)),
        Err(VerificationError::Set(_))
    ));
}
