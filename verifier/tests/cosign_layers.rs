//! cosign `.sig` / `.att` layers that cosign really produced (vendored in `testdata/cosign/`,
//! see its README for their source), verified with `verify_cosign`, and modified copies of
//! them, each of which must fail with its own error. A missing file is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;
use signet_proto::cosign::{
    CosignLayer, ANNOTATION_BUNDLE, ANNOTATION_CHAIN, ANNOTATION_SIGNATURE,
};
use signet_proto::keys::PublicKey;
use signet_proto::trust::TrustedRoot;
use signet_verifier::{
    verify_cosign, CosignError, IdentityPolicy, Policy, SctError, SetError, SignatureError,
    StringMatch, TimeError, TlogError, TrustMaterial, UnixTime, VerificationError,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/cosign");

fn read(path: &str) -> Vec<u8> {
    let p = std::path::Path::new(DIR).join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("test vector {}: {e}", p.display()))
}

fn fixture(dir: &str) -> Value {
    signet_proto::json::from_slice(&read(&format!("{dir}/fixture.json"))).unwrap()
}

/// The fixture's first layer, its annotations and payload.
fn parts(dir: &str) -> (String, String, BTreeMap<String, String>, Vec<u8>) {
    let f = fixture(dir);
    let l = &f["layers"][0];
    let annotations: BTreeMap<String, String> = signet_proto::json::from_slice(&read(&format!(
        "{dir}/{}",
        l["annotations"].as_str().unwrap()
    )))
    .unwrap();
    let payload = read(&format!("{dir}/{}", l["payload"].as_str().unwrap()));
    (
        l["media_type"].as_str().unwrap().to_owned(),
        l["layer_digest"].as_str().unwrap().to_owned(),
        annotations,
        payload,
    )
}

fn layer(dir: &str) -> CosignLayer {
    let (mt, d, a, p) = parts(dir);
    CosignLayer::parse(&mt, &d, &a, p).unwrap()
}

fn image_digest(dir: &str) -> [u8; 32] {
    let f = fixture(dir);
    let d = f["image_digest"].as_str().unwrap();
    hex::decode(d.strip_prefix("sha256:").unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn trust(path: &str) -> TrustMaterial {
    let root: TrustedRoot =
        signet_proto::json::from_slice(&read(path)).expect("trusted root parses");
    TrustMaterial::from_trusted_root(&root).expect("trust material builds")
}

fn public_good() -> TrustMaterial {
    trust("../sigstore/public/trusted_root.json")
}

fn key(path: &str) -> Policy {
    let pem = String::from_utf8(read(path)).unwrap();
    Policy::key(PublicKey::from_pem(&pem).unwrap())
}

fn identity(san: &str, issuer: &str) -> Policy {
    Policy::identity(IdentityPolicy::all_of(vec![
        IdentityPolicy::san(StringMatch::exact(san.to_owned())),
        IdentityPolicy::issuer(StringMatch::exact(issuer.to_owned())),
    ]))
}

const NOW: i64 = 1_800_000_000;

fn now() -> Option<UnixTime> {
    Some(UnixTime::from_unix_seconds(NOW))
}

const KEYLESS: &str = "cimage-keyless-public-good";

fn keyless_policy() -> Policy {
    identity("mitr@redhat.com", "https://github.com/login/oauth")
}

#[test]
fn keyless_sig_verifies() {
    let v = verify_cosign(
        &layer(KEYLESS),
        &image_digest(KEYLESS),
        &keyless_policy(),
        &public_good(),
        now(),
        true,
    )
    .unwrap();
    assert_eq!(v.log_index, Some(11_605_770));
    assert_eq!(
        v.integrated_time,
        Some(UnixTime::from_unix_seconds(1_674_247_893))
    );
    assert_eq!(v.identity.unwrap().san(), Some("mitr@redhat.com"));
}

#[test]
fn keyless_sig_other_identity_fails_policy() {
    let err = verify_cosign(
        &layer(KEYLESS),
        &image_digest(KEYLESS),
        &identity("someone@example.com", "https://github.com/login/oauth"),
        &public_good(),
        now(),
        true,
    )
    .unwrap_err();
    assert!(matches!(err, VerificationError::Policy(_)), "{err}");
}

#[test]
fn sig_for_another_image_fails_with_digest_mismatch() {
    let mut other = image_digest(KEYLESS);
    other[0] ^= 1;
    let err = verify_cosign(
        &layer(KEYLESS),
        &other,
        &keyless_policy(),
        &public_good(),
        now(),
        true,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            VerificationError::Cosign(CosignError::DigestMismatch { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("another image"), "{err}");
}

#[test]
fn tampered_signature_annotation_fails_signature() {
    let (mt, d, mut a, p) = parts(KEYLESS);
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut sig = b64.decode(&a[ANNOTATION_SIGNATURE]).unwrap();
    let n = sig.len();
    sig[n - 3] ^= 1;
    a.insert(ANNOTATION_SIGNATURE.to_owned(), b64.encode(&sig));
    let l = CosignLayer::parse(&mt, &d, &a, p).unwrap();
    let err = verify_cosign(
        &l,
        &image_digest(KEYLESS),
        &keyless_policy(),
        &public_good(),
        now(),
        true,
    )
    .unwrap_err();
    assert!(matches!(err, VerificationError::Signature(_)), "{err}");
}

#[test]
fn tampered_set_fails_set() {
    let (mt, d, mut a, p) = parts(KEYLESS);
    let mut bundle: Value = serde_json::from_str(&a[ANNOTATION_BUNDLE]).unwrap();
    let t = bundle["Payload"]["integratedTime"].as_i64().unwrap();
    bundle["Payload"]["integratedTime"] = Value::from(t + 1);
    a.insert(ANNOTATION_BUNDLE.to_owned(), bundle.to_string());
    let l = CosignLayer::parse(&mt, &d, &a, p).unwrap();
    let err = verify_cosign(
        &l,
        &image_digest(KEYLESS),
        &keyless_policy(),
        &public_good(),
        now(),
        true,
    )
    .unwrap_err();
    assert!(
        matches!(err, VerificationError::Set(SetError::Invalid { .. })),
        "{err}"
    );
}

#[test]
fn sig_verified_before_it_was_made_fails_time() {
    let err = verify_cosign(
        &layer(KEYLESS),
        &image_digest(KEYLESS),
        &keyless_policy(),
        &public_good(),
        Some(UnixTime::from_unix_seconds(1_600_000_000)),
        true,
    )
    .unwrap_err();
    assert!(
        matches!(err, VerificationError::Time(TimeError::InFuture { .. })),
        "{err}"
    );
}

#[test]
fn chain_annotation_not_naming_the_issuer_fails() {
    let (mt, d, mut a, p) = parts(KEYLESS);
    // The chain's second certificate (the root) is not the leaf's issuer.
    let chain = a[ANNOTATION_CHAIN].clone();
    let blocks: Vec<&str> = chain.split_inclusive("-----END CERTIFICATE-----").collect();
    assert!(
        blocks.len() >= 2,
        "the fixture's chain has an intermediate and a root"
    );
    a.insert(ANNOTATION_CHAIN.to_owned(), blocks[1].trim().to_owned());
    let l = CosignLayer::parse(&mt, &d, &a, p).unwrap();
    let err = verify_cosign(
        &l,
        &image_digest(KEYLESS),
        &keyless_policy(),
        &public_good(),
        now(),
        true,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            VerificationError::Cosign(CosignError::AnnotationMismatch { .. })
        ),
        "{err}"
    );
}

#[test]
fn rekor_bundle_of_another_signature_fails() {
    // Keyless: the public-good keyed fixture's Rekor bundle on the keyless layer. The SET
    // verifies (it is the log's), but its time is outside this certificate's validity.
    let (mt, d, mut a, p) = parts(KEYLESS);
    let (_, _, other, _) = parts("cimage-key-rekor-public-good");
    a.insert(
        ANNOTATION_BUNDLE.to_owned(),
        other[ANNOTATION_BUNDLE].clone(),
    );
    let l = CosignLayer::parse(&mt, &d, &a, p).unwrap();
    let err = verify_cosign(
        &l,
        &image_digest(KEYLESS),
        &keyless_policy(),
        &public_good(),
        now(),
        true,
    )
    .unwrap_err();
    assert!(matches!(err, VerificationError::Time(_)), "{err}");
    // Keyed: a valid keyed signature made without a log, given that Rekor bundle: the SET
    // verifies, the key signed the payload, but the entry body names another signature.
    let dir = "cimage-key";
    let (mt, d, mut a, p) = parts(dir);
    a.insert(
        ANNOTATION_BUNDLE.to_owned(),
        other[ANNOTATION_BUNDLE].clone(),
    );
    let l = CosignLayer::parse(&mt, &d, &a, p).unwrap();
    let err = verify_cosign(
        &l,
        &image_digest(dir),
        &key(&format!("{dir}/cosign.pub")),
        &public_good(),
        now(),
        true,
    )
    .unwrap_err();
    assert!(
        matches!(err, VerificationError::Tlog(TlogError::BodyMismatch { .. })),
        "{err}"
    );
}

#[test]
fn keyed_sig_with_rekor_verifies_and_wrong_key_fails() {
    let dir = "cimage-key-rekor-public-good";
    let v = verify_cosign(
        &layer(dir),
        &image_digest(dir),
        &key(&format!("{dir}/cosign2.pub")),
        &public_good(),
        now(),
        true,
    )
    .unwrap();
    assert!(v.identity.is_none());
    assert!(v.log_index.is_some());
    let err = verify_cosign(
        &layer(dir),
        &image_digest(dir),
        &key(&format!("{dir}/cosign.pub")),
        &public_good(),
        now(),
        true,
    )
    .unwrap_err();
    assert!(matches!(err, VerificationError::Signature(_)), "{err}");
}

#[test]
fn keyed_sig_without_log_needs_the_opt_in() {
    for (dir, trust_path) in [
        ("cimage-key", "../sigstore/public/trusted_root.json"),
        (
            "ocx-cosign3-sig-key",
            "ocx-cosign3-sig-key/trusted_root.json",
        ),
    ] {
        let policy = key(&format!("{dir}/cosign.pub"));
        let err = verify_cosign(
            &layer(dir),
            &image_digest(dir),
            &policy,
            &trust(trust_path),
            now(),
            true,
        )
        .unwrap_err();
        assert!(
            matches!(err, VerificationError::Cosign(CosignError::NoLogEntry)),
            "{dir}: {err}"
        );
        let v = verify_cosign(
            &layer(dir),
            &image_digest(dir),
            &policy,
            &trust(trust_path),
            now(),
            false,
        )
        .unwrap();
        assert_eq!(v.log_index, None, "{dir}");
        let wrong = fixture(dir)["wrong_public_key"]
            .as_str()
            .unwrap()
            .to_owned();
        let err = verify_cosign(
            &layer(dir),
            &image_digest(dir),
            &key(&format!("{dir}/{wrong}")),
            &trust(trust_path),
            now(),
            false,
        )
        .unwrap_err();
        assert!(
            matches!(err, VerificationError::Signature(_)),
            "{dir}: {err}"
        );
    }
}

#[test]
fn keyed_att_verifies_with_its_statement() {
    let dir = "ocx-cosign3-att-key";
    let v = verify_cosign(
        &layer(dir),
        &image_digest(dir),
        &key(&format!("{dir}/cosign.pub")),
        &trust(&format!("{dir}/trusted_root.json")),
        now(),
        false,
    )
    .unwrap();
    let (ty, payload) = v.dsse_payload.unwrap();
    assert_eq!(ty, "application/vnd.in-toto+json");
    let stmt: Value = signet_proto::json::from_slice(&payload).unwrap();
    assert_eq!(stmt["predicateType"], "https://cyclonedx.org/bom");
    // For another image, the statement's subject does not match.
    let mut other = image_digest(dir);
    other[5] ^= 1;
    let err = verify_cosign(
        &layer(dir),
        &other,
        &key(&format!("{dir}/cosign.pub")),
        &trust(&format!("{dir}/trusted_root.json")),
        now(),
        false,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            VerificationError::Signature(SignatureError::SubjectMismatch { .. })
        ),
        "{err}"
    );
}

#[test]
fn modified_distroless_attestation_fails() {
    let dir = "pc-distroless-static-vuln-attestation";
    let err = verify_cosign(
        &layer(dir),
        &image_digest(dir),
        &identity(
            "https://github.com/distroless/static/.github/workflows/release.yaml@refs/heads/main",
            "https://token.actions.githubusercontent.com",
        ),
        &public_good(),
        now(),
        true,
    )
    .unwrap_err();
    assert!(matches!(err, VerificationError::Signature(_)), "{err}");
}

#[test]
fn sigstore_rs_2021_fails_without_an_sct() {
    // Fulcio's 2021 certificates carry no SCT; Signet (like cosign 2 without
    // --insecure-ignore-sct) requires one.
    let dir = "sigstore-rs-keyless-2021";
    let err = verify_cosign(
        &layer(dir),
        &image_digest(dir),
        &Policy::any_identity_unsafe(),
        &public_good(),
        now(),
        true,
    )
    .unwrap_err();
    assert!(
        matches!(err, VerificationError::Sct(SctError::Missing)),
        "{err}"
    );
}

#[test]
fn private_ca_without_log_has_no_signing_time() {
    let dir = "cimage-pki";
    let err = verify_cosign(
        &layer(dir),
        &image_digest(dir),
        &identity("qiwan@redhat.com", "x"),
        &public_good(),
        now(),
        false,
    )
    .unwrap_err();
    assert!(
        matches!(err, VerificationError::Cosign(CosignError::NoSigningTime)),
        "{err}"
    );
}

#[test]
fn unknown_log_fails_tlog() {
    let dir = "cimage-key-rekor-public-good";
    let err = verify_cosign(
        &layer(dir),
        &image_digest(dir),
        &key(&format!("{dir}/cosign2.pub")),
        &trust("ocx-cosign3-sig-key/trusted_root.json"),
        now(),
        true,
    )
    .unwrap_err();
    assert!(
        matches!(err, VerificationError::Tlog(TlogError::UnknownLog { .. })),
        "{err}"
    );
}

/// cosign 3's bundle from a Rekor v1 whose checkpoint signer is named after its host name (a
/// container ID), not the trust root's URL: the log key and its hint decide, as in
/// sigstore-go. A checkpoint signed by another key still fails.
#[test]
fn cosign3_bundle_with_rekor_hostname_checkpoint_verifies() {
    use signet_proto::bundle::Bundle;
    let dir = "ocx-cosign3-bundle-keyless";
    let bundle = Bundle::from_json(&read(&format!("{dir}/bundle.json"))).unwrap();
    let trust = trust(&format!("{dir}/trusted_root.json"));
    let digest = image_digest(dir);
    let policy = identity("ocx-test@example.com", "http://dex:5556/dex");
    let v = signet_verifier::verify(
        &bundle,
        signet_verifier::Artifact::Sha256Digest(digest),
        &policy,
        &trust,
        now(),
    )
    .unwrap();
    assert_eq!(v.identity.unwrap().san(), Some("ocx-test@example.com"));
    // The same checkpoint with its signature bytes changed fails.
    let mut json: Value =
        signet_proto::json::from_slice(&read(&format!("{dir}/bundle.json"))).unwrap();
    let cp = json["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
        ["envelope"]
        .as_str()
        .unwrap()
        .to_owned();
    let (head, sig) = cp.rsplit_once(' ').unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut raw = b64.decode(sig.trim()).unwrap();
    let n = raw.len();
    raw[n - 2] ^= 1;
    json["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"] =
        Value::String(format!("{head} {}\n", b64.encode(&raw)));
    let bundle = Bundle::from_json(json.to_string().as_bytes()).unwrap();
    let err = signet_verifier::verify(
        &bundle,
        signet_verifier::Artifact::Sha256Digest(digest),
        &policy,
        &trust,
        now(),
    )
    .unwrap_err();
    assert!(matches!(err, VerificationError::Checkpoint(_)), "{err}");
}
