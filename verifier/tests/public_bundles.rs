//! Real public-instance Sigstore bundles (vendored in `testdata/sigstore/public/`, see its
//! README for their source) and modified copies of them, each of which must fail with its own
//! error. A missing file is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use base64::Engine as _;
use serde_json::Value;
use signet_proto::bundle::Bundle;
use signet_proto::trust::TrustedRoot;
use signet_verifier::{
    verify, Artifact, CertificateError, CheckpointError, IdentityPolicy, Policy, PolicyError,
    SetError, SignatureError, StringMatch, TimeError, TimestampError, TlogError, TrustMaterial,
    UnixTime, VerificationError,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/sigstore/public");

const REKOR1_DIGEST: &str = "5e6ae9de58c1177bea615b4fcbfb2fd688e8c4b51c2e56b6a38e817833ec24a2";
const REKOR1_SAN: &str = "william@yossarian.net";
const REKOR1_ISSUER: &str = "https://github.com/login/oauth";
/// Inside the leaf's validity (2024-04-02T19:19:09Z .. 19:29:09Z).
const REKOR1_NOW: i64 = 1_712_085_600;

const DSSE_DIGEST: &str = "c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172";
const DSSE_SAN: &str =
    "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";
const DSSE_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// Inside the leaf's validity (2026-04-09T07:23:29Z .. 07:33:29Z).
const DSSE_NOW: i64 = 1_775_719_500;

/// A vendored file; a missing one fails the test with its path.
fn read(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(DIR).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("test vector {}: {e}", path.display()))
}

fn trust(name: &str) -> TrustMaterial {
    let root: TrustedRoot =
        signet_proto::json::from_slice(&read(name)).expect("trusted root parses");
    TrustMaterial::from_trusted_root(&root).expect("trust material builds")
}

fn digest(hex_str: &str) -> Artifact<'static> {
    Artifact::Sha256Digest(hex::decode(hex_str).unwrap().try_into().unwrap())
}

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn b64e(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Flips the lowest bit of byte `i` of a base64 field.
fn flip_b64(v: &mut Value, i: usize) {
    let mut raw = b64d(v.as_str().unwrap());
    raw[i] ^= 1;
    *v = Value::String(b64e(&raw));
}

struct Case {
    trust: TrustMaterial,
    json: Value,
    artifact: Artifact<'static>,
    policy: Policy,
    now: i64,
}

impl Case {
    fn run_with(
        &self,
        json: &Value,
        artifact: Artifact<'_>,
        policy: &Policy,
        now: i64,
    ) -> Result<signet_verifier::VerifiedBundle, VerificationError> {
        let bundle = Bundle::from_json(&serde_json::to_vec(json).unwrap())
            .expect("modified bundle still parses");
        verify(
            &bundle,
            artifact,
            policy,
            &self.trust,
            Some(UnixTime::from_unix_seconds(now)),
        )
    }

    /// Each named policy of the table must reject the untampered bundle as a policy mismatch.
    fn expect_policy_mismatch(&self, policies: &[(&str, Policy)]) {
        for (name, policy) in policies {
            match self.run_with(&self.json, self.artifact, policy, self.now) {
                Ok(_) => panic!("{name}: accepted, must be rejected"),
                Err(e) => assert!(
                    matches!(e, VerificationError::Policy(PolicyError::Mismatch { .. })),
                    "{name}: unexpected error {e}"
                ),
            }
        }
    }

    fn run(&self, json: &Value) -> Result<signet_verifier::VerifiedBundle, VerificationError> {
        self.run_with(json, self.artifact, &self.policy, self.now)
    }

    fn mutate(&self, f: impl FnOnce(&mut Value)) -> VerificationError {
        let mut j = self.json.clone();
        f(&mut j);
        self.run(&j).expect_err("modified bundle must be rejected")
    }
}

/// Table of tampered copies: each row is `(mutation closure) => expected error pattern`. Every
/// row runs on a fresh copy of the case's bundle; a row that is accepted, or rejected with
/// another error, fails with the row's mutation text as its name.
macro_rules! rejections {
    ($case:expr, [$( ($mutate:expr) => $expected:pat ),* $(,)?]) => {{
        $(
            let name = stringify!($mutate);
            let mut j = $case.json.clone();
            apply(&mut j, $mutate);
            match $case.run(&j) {
                Ok(_) => panic!("accepted, must be rejected: {name}"),
                Err(e) => assert!(matches!(e, $expected), "{name}: unexpected error {e}"),
            }
        )*
    }};
}

/// Runs one mutation closure of [`rejections!`] (its argument type comes from here).
fn apply(j: &mut Value, mutate: impl FnOnce(&mut Value)) {
    mutate(j);
}

fn rekor1() -> Case {
    Case {
        trust: trust("staging_trusted_root.json"),
        json: signet_proto::json::from_slice(&read("bundle_v3_rekor1.json")).unwrap(),
        artifact: digest(REKOR1_DIGEST),
        policy: Policy::identity(IdentityPolicy::exact(REKOR1_SAN, REKOR1_ISSUER)),
        now: REKOR1_NOW,
    }
}

fn dsse() -> Case {
    Case {
        trust: trust("trusted_root.json"),
        json: signet_proto::json::from_slice(&read("sigstore_rs_bundle_v03.json")).unwrap(),
        artifact: digest(DSSE_DIGEST),
        policy: Policy::identity(IdentityPolicy::exact(DSSE_SAN, DSSE_ISSUER)),
        now: DSSE_NOW,
    }
}

/// Replaces `from` with `to` in the entry's checkpoint note text.
fn edit_checkpoint(j: &mut Value, from: &str, to: &str) {
    let ck = &mut entry(j)["inclusionProof"]["checkpoint"]["envelope"];
    let s = ck.as_str().unwrap().replace(from, to);
    assert_ne!(ck.as_str().unwrap(), s, "{from:?} is not in the checkpoint");
    *ck = Value::String(s);
}

fn entry(j: &mut Value) -> &mut Value {
    &mut j["verificationMaterial"]["tlogEntries"][0]
}

#[test]
fn rekor1_hashedrekord_verifies() {
    let c = rekor1();
    let v = c.run(&c.json).expect("public bundle verifies");
    let id = v.identity.as_ref().unwrap();
    assert_eq!(id.san(), Some(REKOR1_SAN));
    assert_eq!(id.issuer.as_deref(), Some(REKOR1_ISSUER));
    assert_eq!(v.log_index, 25_915_956);
    assert_eq!(v.integrated_time.as_unix_seconds(), 1_712_085_549);
    assert_eq!(v.proof_index, 25_901_137);
    assert_eq!(v.proof_len, 11);
    assert_eq!(v.checkpoint.size, 25_901_138);
    assert_eq!(hex::encode(v.artifact_digest), REKOR1_DIGEST);
    assert_eq!(v.log_url, "https://rekor.sigstage.dev");
    // Certificates are checked at the signing time, not at "now": verifying years later works.
    c.run_with(&c.json, c.artifact, &c.policy, 1_900_000_000)
        .expect("later verification time is fine");
    // Regex and any_of policies.
    let p = Policy::identity(IdentityPolicy::all_of(vec![
        IdentityPolicy::san(StringMatch::regex(r"william@yossarian\.(net|org)").unwrap()),
        IdentityPolicy::any_of(vec![
            IdentityPolicy::issuer(StringMatch::exact("https://accounts.google.com")),
            IdentityPolicy::issuer(StringMatch::regex(r"https://github\.com/login/.*").unwrap()),
        ]),
    ]));
    c.run_with(&c.json, c.artifact, &p, c.now)
        .expect("regex policy matches");
    c.run_with(&c.json, c.artifact, &Policy::any_identity_unsafe(), c.now)
        .expect("unsafe opt-out");
}

#[test]
fn rekor1_modified_copies_fail() {
    let c = rekor1();

    rejections!(c, [
        (|j| flip_b64(&mut j["messageSignature"]["signature"], 40)) => VerificationError::Signature(SignatureError::Invalid { .. }),
        (|j| flip_b64(&mut j["messageSignature"]["messageDigest"]["digest"], 0)) => VerificationError::Signature(SignatureError::DigestMismatch { .. }),
    ]);

    // Another artifact.
    let other = digest("0000000000000000000000000000000000000000000000000000000000000001");
    let e = c.run_with(&c.json, other, &c.policy, c.now).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Signature(SignatureError::DigestMismatch { .. })
        ),
        "{e}"
    );
    // Without the bundle's messageDigest, the signature itself must reject the other digest.
    let mut j = c.json.clone();
    j["messageSignature"]
        .as_object_mut()
        .unwrap()
        .remove("messageDigest");
    let e = c.run_with(&j, other, &c.policy, c.now).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Signature(SignatureError::Invalid { .. })
        ),
        "{e}"
    );

    // Checkpoint: change the signature, and the tree size in the note text.
    rejections!(c, [
        (|j| edit_checkpoint(j, "0y8wozBFAiAM", "0y8wozBFAiAN")) => VerificationError::Checkpoint(CheckpointError::Signature { .. }),
        (|j| edit_checkpoint(j, "\n25901138\n", "\n25901139\n")) => VerificationError::Checkpoint(CheckpointError::Signature { .. }),
        // Inclusion proof: swap two hashes; and a proof against another root.
        (|j| {
            let hs = entry(j)["inclusionProof"]["hashes"].as_array_mut().unwrap();
            hs.swap(0, 1);
        }) => VerificationError::Tlog(TlogError::Inclusion { .. }),
        (|j| flip_b64(&mut entry(j)["inclusionProof"]["rootHash"], 3)) => VerificationError::Tlog(TlogError::Inclusion { .. }),
        // The integrated time and the body are covered by the SET.
        (|j| entry(j)["integratedTime"] = Value::String("1712085550".into())) => VerificationError::Set(SetError::Invalid { .. }),
        (|j| {
            flip_b64(
                &mut entry(j)["inclusionPromise"]["signedEntryTimestamp"],
                20,
            )
        }) => VerificationError::Set(SetError::Invalid { .. }),
        (|j| {
            entry(j).as_object_mut().unwrap().remove("inclusionPromise");
        }) => VerificationError::Set(SetError::Missing),
        (|j| flip_b64(&mut entry(j)["canonicalizedBody"], 30)) => VerificationError::Set(SetError::Invalid { .. }),
        // Unknown log.
        (|j| flip_b64(&mut entry(j)["logId"]["keyId"], 0)) => VerificationError::Tlog(TlogError::UnknownLog { .. }),
    ]);

    // Identity.
    let wrong_san = Policy::identity(IdentityPolicy::exact("mallory@example.com", REKOR1_ISSUER));
    let e = c
        .run_with(&c.json, c.artifact, &wrong_san, c.now)
        .unwrap_err();
    assert!(
        matches!(e, VerificationError::Policy(PolicyError::Mismatch { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("SAN"), "{e}");
    let wrong_issuer = Policy::identity(IdentityPolicy::exact(
        REKOR1_SAN,
        "https://accounts.google.com",
    ));
    let e = c
        .run_with(&c.json, c.artifact, &wrong_issuer, c.now)
        .unwrap_err();
    assert!(
        matches!(e, VerificationError::Policy(PolicyError::Mismatch { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("issuer"), "{e}");
    // A regex must match the whole SAN.
    let partial = Policy::identity(IdentityPolicy::san(StringMatch::regex("william").unwrap()));
    let e = c
        .run_with(&c.json, c.artifact, &partial, c.now)
        .unwrap_err();
    assert!(matches!(e, VerificationError::Policy(_)), "{e}");

    // Verification time before the signing time.
    let e = c
        .run_with(&c.json, c.artifact, &c.policy, 1_712_000_000)
        .unwrap_err();
    assert!(
        matches!(e, VerificationError::Time(TimeError::InFuture { .. })),
        "{e}"
    );

    // The leaf certificate: tampered signature, and a foreign trust root.
    rejections!(c, [
        (|j| {
            let cert = &mut j["verificationMaterial"]["certificate"]["rawBytes"];
            let mut raw = b64d(cert.as_str().unwrap());
            let n = raw.len();
            raw[n - 5] ^= 1;
            *cert = Value::String(b64e(&raw));
        }) => VerificationError::Certificate(CertificateError::BadSignature { .. }),
    ]);

    // The staging bundle against the production trust root: the log is unknown.
    let prod = trust("trusted_root.json");
    let bundle = Bundle::from_json(&serde_json::to_vec(&c.json).unwrap()).unwrap();
    let e = verify(
        &bundle,
        c.artifact,
        &c.policy,
        &prod,
        Some(UnixTime::from_unix_seconds(c.now)),
    )
    .unwrap_err();
    assert!(
        matches!(e, VerificationError::Tlog(TlogError::UnknownLog { .. })),
        "{e}"
    );
}

#[test]
fn dsse_bundle_verifies() {
    let c = dsse();
    let v = c.run(&c.json).expect("public DSSE bundle verifies");
    let id = v.identity.as_ref().unwrap();
    assert_eq!(id.san(), Some(DSSE_SAN));
    assert_eq!(id.issuer.as_deref(), Some(DSSE_ISSUER));
    assert_eq!(v.log_index, 1_261_105_807);
    assert_eq!(v.integrated_time.as_unix_seconds(), 1_775_719_409);
    assert_eq!(v.proof_len, 18);
    assert_eq!(v.checkpoint.size, 1_139_201_557);
    assert_eq!(v.kind, signet_verifier::EntryKind::Dsse);
    let (ptype, _) = v.dsse_payload.as_ref().unwrap();
    assert_eq!(ptype, "application/vnd.in-toto+json");
    // The bundle also carries an RFC 3161 timestamp from the production TSA: it verifies too,
    // and the integrated time (covered by the SET) stays the reported signing time.
    assert!(v.integrated_time_from_set);
    assert_eq!(v.timestamps.len(), 1, "{:?}", v.timestamps);
    assert_eq!(v.timestamps[0].tsa_index, 0);
    assert!((v.timestamps[0].gen_time - 1_775_719_409).abs() < 5);
}

/// A bundle whose timestamp does not verify still verifies with its SET (sigstore-python
/// drops timestamps that do not verify), but a trust root without any TSA rejects a bundle
/// that carries timestamps.
#[test]
fn dsse_bundle_timestamp_rules() {
    let c = dsse();
    rejections!(c, [
        (|j| {
            let t = &mut j["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
                ["signedTimestamp"];
            let len = b64d(t.as_str().unwrap()).len();
            flip_b64(t, len - 5);
        // Also break the SET: a SET that does not verify is an error, whatever the timestamps.
            entry(j)["integratedTime"] = Value::String("1775719408".into());
        }) => VerificationError::Set(SetError::Invalid { .. }),
    ]);
    let mut j = c.json.clone();
    let t = &mut j["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
        ["signedTimestamp"];
    let len = b64d(t.as_str().unwrap()).len();
    flip_b64(t, len - 5);
    let v = c.run(&j).expect("the SET still provides a verified time");
    assert!(v.timestamps.is_empty());
    assert!(v.integrated_time_from_set);

    let root = read("trusted_root.json");
    let mut root: Value = signet_proto::json::from_slice(&root).unwrap();
    root.as_object_mut().unwrap().remove("timestampAuthorities");
    let c2 = Case {
        trust: trust_from(&root),
        ..dsse()
    };
    let e = c2.run(&c2.json).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Timestamp(TimestampError::NoAuthorities)
        ),
        "{e}"
    );
}

#[test]
fn dsse_modified_copies_fail() {
    let c = dsse();

    rejections!(c, [
        (|j| flip_b64(&mut j["dsseEnvelope"]["signatures"][0]["sig"], 40)) => VerificationError::Signature(SignatureError::Invalid { .. }),
        (|j| flip_b64(&mut j["dsseEnvelope"]["payload"], 60)) => VerificationError::Signature(SignatureError::Invalid { .. }),
        (|j| j["dsseEnvelope"]["payloadType"] = Value::String("text/plain".into())) => VerificationError::Signature(SignatureError::Invalid { .. }),
    ]);

    let other = digest("0000000000000000000000000000000000000000000000000000000000000001");
    let e = c.run_with(&c.json, other, &c.policy, c.now).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Signature(SignatureError::SubjectMismatch { .. })
        ),
        "{e}"
    );

    rejections!(c, [
        (|j| edit_checkpoint(j, "wNI9ajBFAiEA2Zt", "wNI9ajBFAiEA2Zu")) => VerificationError::Checkpoint(CheckpointError::Signature { .. }),
        (|j| {
            let hs = entry(j)["inclusionProof"]["hashes"].as_array_mut().unwrap();
            hs.swap(3, 4);
        }) => VerificationError::Tlog(TlogError::Inclusion { .. }),
        (|j| entry(j)["integratedTime"] = Value::String("1775719408".into())) => VerificationError::Set(SetError::Invalid { .. }),
    ]);

    c.expect_policy_mismatch(&[
        ("wrong_san", Policy::identity(IdentityPolicy::exact(
        "https://github.com/kubewarden/kubewarden-controller/.github/workflows/evil.yml@refs/tags/v1.34.0",
        DSSE_ISSUER,
    ))),
        ("wrong_issuer", Policy::identity(IdentityPolicy::exact(
        DSSE_SAN,
        "https://token.actions.example.com",
    ))),
    ]);

    let e = c
        .run_with(&c.json, c.artifact, &c.policy, 1_775_000_000)
        .unwrap_err();
    assert!(
        matches!(e, VerificationError::Time(TimeError::InFuture { .. })),
        "{e}"
    );
}

const REKOR2_DIGEST: &str = "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
const REKOR2_SAN: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const REKOR2_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The timestamp's genTime, 2026-05-13T19:23:33Z (the leaf is valid 19:23:32Z .. 19:33:32Z).
const REKOR2_GEN_TIME: i64 = 1_778_700_213;
const REKOR2_NOW: i64 = 1_778_700_300;

fn staging_root_json() -> Value {
    signet_proto::json::from_slice(&read("staging_trusted_root.json")).unwrap()
}

fn trust_from(root: &Value) -> TrustMaterial {
    let root: TrustedRoot = serde_json::from_value(root.clone()).expect("trusted root parses");
    TrustMaterial::from_trusted_root(&root).expect("trust material builds")
}

fn rekor2() -> Case {
    Case {
        trust: trust("staging_trusted_root.json"),
        json: signet_proto::json::from_slice(&read("bundle_v3_rekor2_dsse.json")).unwrap(),
        artifact: digest(REKOR2_DIGEST),
        policy: Policy::identity(IdentityPolicy::exact(REKOR2_SAN, REKOR2_ISSUER)),
        now: REKOR2_NOW,
    }
}

fn timestamp_of(j: &mut Value) -> &mut Value {
    &mut j["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
        ["signedTimestamp"]
}

#[test]
fn rekor_v2_bundle_verifies() {
    let c = rekor2();
    assert!(
        c.trust.skipped().iter().all(|s| !s.contains("timestamp")),
        "{:?}",
        c.trust.skipped()
    );
    assert_eq!(c.trust.timestamp_authorities().len(), 1);
    let v = c.run(&c.json).unwrap();
    let id = v.identity.as_ref().unwrap();
    assert_eq!(id.san(), Some(REKOR2_SAN));
    assert_eq!(id.issuer.as_deref(), Some(REKOR2_ISSUER));
    assert_eq!(v.kind, signet_verifier::EntryKind::HashedRekordV002);
    assert_eq!(
        v.integrated_time,
        UnixTime::from_unix_seconds(REKOR2_GEN_TIME)
    );
    assert!(!v.integrated_time_from_set);
    assert_eq!(
        v.timestamps,
        vec![signet_verifier::VerifiedTimestamp {
            gen_time: REKOR2_GEN_TIME,
            gen_time_nanos: 0,
            tsa_index: 0
        }]
    );
    assert_eq!(v.log_url, "https://log2025-alpha3.rekor.sigstage.dev");
    assert_eq!(v.log_index, 4_026_478);
    assert_eq!(v.checkpoint.size, 4_026_479);
    assert_eq!(v.proof_len, 13);
    assert_eq!(hex::encode(v.artifact_digest), REKOR2_DIGEST);
    let (ty, _) = v.dsse_payload.as_ref().unwrap();
    assert_eq!(ty, "application/vnd.in-toto+json");
    // Without a verification time, too.
    let bundle = Bundle::from_json(&serde_json::to_vec(&c.json).unwrap()).unwrap();
    verify(&bundle, c.artifact, &c.policy, &c.trust, None).unwrap();
}

#[test]
fn rekor_v2_wrong_identity_fails() {
    let c = rekor2();
    c.expect_policy_mismatch(&[
        ("wrong_san", Policy::identity(IdentityPolicy::exact(
        "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/other.yml@refs/heads/main",
        REKOR2_ISSUER,
    ))),
        ("wrong_issuer", Policy::identity(IdentityPolicy::exact(
        REKOR2_SAN,
        "https://accounts.google.com",
    ))),
    ]);
    let other = digest("0000000000000000000000000000000000000000000000000000000000000001");
    let e = c.run_with(&c.json, other, &c.policy, c.now).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Signature(SignatureError::SubjectMismatch { .. })
        ),
        "{e}"
    );
    // The verification time before genTime.
    let e = c
        .run_with(&c.json, c.artifact, &c.policy, REKOR2_GEN_TIME - 1)
        .unwrap_err();
    assert!(
        matches!(e, VerificationError::Time(TimeError::InFuture { .. })),
        "{e}"
    );
}

#[test]
fn rekor_v2_modified_timestamps_fail() {
    let c = rekor2();
    let token_len = b64d(timestamp_of(&mut c.json.clone()).as_str().unwrap()).len();

    // A flipped byte in the SignerInfo signature (the token's last bytes).
    rejections!(c, [
        (|j| flip_b64(timestamp_of(j), token_len - 5)) => VerificationError::Timestamp(TimestampError::BadSignature { .. }),
    ]);
    // A flipped byte in the TSTInfo's genTime (DER offset 69 + 3 + 0x39): the signed
    // messageDigest no longer matches the encapsulated TSTInfo.
    let raw = b64d(timestamp_of(&mut c.json.clone()).as_str().unwrap());
    let gen_time_at = raw
        .windows(15)
        .position(|w| w == b"20260513192333Z")
        .expect("genTime in the token");
    rejections!(c, [
        (|j| flip_b64(timestamp_of(j), gen_time_at + 13)) => VerificationError::Timestamp(TimestampError::ContentDigestMismatch),
    ]);
    // A flipped byte in the signed messageDigest attribute.
    let md_at = raw
        .windows(4)
        .position(|w| w == [0xa1, 0xe5, 0x93, 0x20])
        .expect("messageDigest in the token");
    rejections!(c, [
        (|j| flip_b64(timestamp_of(j), md_at)) => VerificationError::Timestamp(TimestampError::ContentDigestMismatch),
        // Truncated: does not decode.
        (|j| {
            let t = timestamp_of(j);
            let raw = b64d(t.as_str().unwrap());
            *t = Value::String(b64e(&raw[..raw.len() - 1]));
        }) => VerificationError::Timestamp(TimestampError::Malformed { .. }),
    ]);

    // A real timestamp for another signature (from the production DSSE bundle).
    let other = read("sigstore_rs_bundle_v03.json");
    let other: Value = signet_proto::json::from_slice(&other).unwrap();
    let other_ts = other["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        [0]["signedTimestamp"]
        .clone();
    rejections!(c, [
        (|j| *timestamp_of(j) = other_ts.clone()) => VerificationError::Timestamp(TimestampError::ImprintMismatch { .. }),
        // No timestamp at all: no verified time.
        (|j| {
            j["verificationMaterial"]
                .as_object_mut()
                .unwrap()
                .remove("timestampVerificationData");
        }) => VerificationError::Time(TimeError::NoVerifiedTime { .. }),
    ]);
}

#[test]
fn rekor_v2_trust_root_without_the_tsa_fails() {
    let (c, root) = (rekor2(), staging_root_json());
    // No timestamp authority at all.
    let mut no_tsa = root.clone();
    no_tsa
        .as_object_mut()
        .unwrap()
        .remove("timestampAuthorities");
    let c2 = Case {
        trust: trust_from(&no_tsa),
        ..rekor2()
    };
    let e = c2.run(&c2.json).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Timestamp(TimestampError::NoAuthorities)
        ),
        "{e}"
    );

    // Only another TSA (production's): the signer is unknown.
    let prod = read("trusted_root.json");
    let prod: Value = signet_proto::json::from_slice(&prod).unwrap();
    let mut other_tsa = root.clone();
    other_tsa["timestampAuthorities"] = prod["timestampAuthorities"].clone();
    let c3 = Case {
        trust: trust_from(&other_tsa),
        ..rekor2()
    };
    let e = c3.run(&c3.json).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Timestamp(TimestampError::UnknownAuthority { .. })
        ),
        "{e}"
    );

    // genTime (2026-05-13T19:23:33Z) one second before the TSA's validFor.start, and one
    // second after its end.
    for valid_for in [
        serde_json::json!({"start": "2026-05-13T19:23:34Z"}),
        serde_json::json!({"start": "2025-04-09T00:00:00Z", "end": "2026-05-13T19:23:32Z"}),
        serde_json::json!({"start": "2025-04-09T00:00:00Z", "end": "2026-05-13T19:23:32.999Z"}),
    ] {
        let mut late = root.clone();
        late["timestampAuthorities"][0]["validFor"] = valid_for.clone();
        let c4 = Case {
            trust: trust_from(&late),
            ..rekor2()
        };
        let e = c4.run(&c4.json).unwrap_err();
        assert!(
            matches!(
                e,
                VerificationError::Timestamp(TimestampError::NotValidAt(_))
            ),
            "{e}"
        );
        // The message names the time and the window seen (issue 19).
        let start = valid_for["start"].as_str().unwrap();
        let end = valid_for
            .get("end")
            .and_then(Value::as_str)
            .unwrap_or("open");
        assert!(
            e.to_string().contains(
                "no timestamp authority in the trusted root is valid at 2026-05-13T19:23:33Z: windows seen: "
            ) && e.to_string().contains(&format!("[{start}, {end}]")),
            "{e}"
        );
    }
    // validFor is a closed interval: genTime equal to its start, or to its end, is inside.
    for valid_for in [
        serde_json::json!({"start": "2026-05-13T19:23:33Z", "end": "2026-05-13T19:23:34Z"}),
        serde_json::json!({"start": "2025-04-09T00:00:00Z", "end": "2026-05-13T19:23:33Z"}),
        serde_json::json!({"start": "2026-05-13T19:23:33Z", "end": "2026-05-13T19:23:33Z"}),
    ] {
        let mut edge = root.clone();
        edge["timestampAuthorities"][0]["validFor"] = valid_for.clone();
        let c5 = Case {
            trust: trust_from(&edge),
            ..rekor2()
        };
        c5.run(&c5.json)
            .unwrap_or_else(|e| panic!("validFor {valid_for}: {e}"));
    }

    // A TSA chain whose leaf is not signed by the root is skipped, with a reason.
    let mut broken = root.clone();
    let certs = broken["timestampAuthorities"][0]["certChain"]["certificates"]
        .as_array_mut()
        .unwrap();
    certs.swap(0, 1);
    let t = trust_from(&broken);
    assert!(t.timestamp_authorities().is_empty());
    assert!(
        t.skipped()
            .iter()
            .any(|s| s.contains("timestamp authority 0")),
        "{:?}",
        t.skipped()
    );
    let _ = c;
}

#[test]
fn rekor_v2_modified_log_entries_fail() {
    let c = rekor2();
    // Tampered checkpoint signature (the log's own line).
    rejections!(c, [
        (|j| edit_checkpoint(
            j,
            "09OnDHwVrKeXjBYQ4NJ5EoENdtpBwZcV3X8n",
            "09OnDHwVrKeXjBYQ4NJ5EoENdtpBwZcV3X8m",
        )) => VerificationError::Checkpoint(CheckpointError::Signature { .. }),
        // Tampered inclusion proof hash.
        (|j| flip_b64(&mut entry(j)["inclusionProof"]["hashes"][3], 7)) => VerificationError::Tlog(TlogError::Inclusion { .. }),
    ]);
    // A body that does not match the bundle: the digest, the signature, the certificate.
    let body_of = |j: &Value| -> Value {
        signet_proto::json::from_slice(&b64d(entry_ref(j)["canonicalizedBody"].as_str().unwrap()))
            .unwrap()
    };
    let set_body = |j: &mut Value, b: &Value| {
        entry(j)["canonicalizedBody"] = Value::String(b64e(&serde_json::to_vec(b).unwrap()));
    };
    for (path, field) in [
        (&["data", "digest"][..], "spec.hashedRekordV002.data.digest"),
        (
            &["signature", "content"][..],
            "spec.hashedRekordV002.signature.content",
        ),
        (
            &["signature", "verifier", "x509Certificate", "rawBytes"][..],
            "spec.hashedRekordV002.signature.verifier",
        ),
    ] {
        let e = c.mutate(|j| {
            let mut b = body_of(j);
            let mut v = &mut b["spec"]["hashedRekordV002"];
            for p in path {
                v = &mut v[*p];
            }
            flip_b64(v, 20);
            set_body(j, &b);
        });
        assert!(
            matches!(e, VerificationError::Tlog(TlogError::BodyMismatch { field: f }) if f == field),
            "{path:?}: {e}"
        );
    }
    rejections!(c, [
        (|j| {
            let mut b = body_of(j);
            b["spec"]["hashedRekordV002"]["data"]["algorithm"] = Value::String("SHA2_384".into());
            set_body(j, &b);
        }) => VerificationError::Tlog(TlogError::BodyMismatch { .. }),
        // The same body re-serialised pretty-printed still matches (compared field by field); it
        // then fails only at the inclusion proof, whose leaf is the logged bytes.
        (|j| {
            let b = body_of(j);
            entry(j)["canonicalizedBody"] =
                Value::String(b64e(&serde_json::to_vec_pretty(&b).unwrap()));
        }) => VerificationError::Tlog(TlogError::Inclusion { .. }),
        // A dsse 0.0.2 entry kind is not accepted (as in sigstore-python 4.x).
        (|j| entry(j)["kindVersion"]["kind"] = Value::String("dsse".into())) => VerificationError::Tlog(TlogError::Kind { .. }),
    ]);
}

fn entry_ref(j: &Value) -> &Value {
    &j["verificationMaterial"]["tlogEntries"][0]
}

/// The TSA chain `[leaf, root]` of the staging trusted root, as DER.
fn staging_tsa_chain(root: &Value) -> Vec<Vec<u8>> {
    root["timestampAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| b64d(c["rawBytes"].as_str().unwrap()))
        .collect()
}

/// Header length and whole length of the DER TLV at `at`.
fn der_tlv(raw: &[u8], at: usize) -> (usize, usize) {
    let first = raw[at + 1];
    if first < 0x80 {
        return (2, 2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    let len = raw[at + 2..at + 2 + n]
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    (2 + n, 2 + n + len)
}

/// The token with `cert` as the only certificate of `SignedData.certificates` (the real token
/// has an empty `[0]` there); the four enclosing lengths (TimeStampResp, ContentInfo, `[0]`,
/// SignedData, all with two length bytes) are fixed up. Nothing signed changes.
fn with_embedded_certificate(token: &[u8], cert: &[u8]) -> Vec<u8> {
    let (resp_h, _) = der_tlv(token, 0);
    let (status_h, status_len) = der_tlv(token, resp_h);
    let ci = resp_h + status_len;
    let (ci_h, _) = der_tlv(token, ci);
    let (oid_h, oid_len) = der_tlv(token, ci + ci_h);
    assert_eq!(oid_h, 2);
    let wrapped = ci + ci_h + oid_len;
    let (w_h, _) = der_tlv(token, wrapped);
    let sd = wrapped + w_h;
    let (sd_h, _) = der_tlv(token, sd);
    let mut at = sd + sd_h;
    for _ in 0..3 {
        at += der_tlv(token, at).1; // version, digestAlgorithms, encapContentInfo
    }
    assert_eq!(&token[at..at + 2], &[0xa0, 0x00], "empty certificates [0]");
    assert!(status_h == 2 && cert.len() > 255 && cert.len() < 65_536);
    let mut set = vec![0xa0, 0x82];
    set.extend_from_slice(&u16::try_from(cert.len()).unwrap().to_be_bytes());
    set.extend_from_slice(cert);
    let grow = set.len() - 2;
    let mut out = token[..at].to_vec();
    out.extend_from_slice(&set);
    out.extend_from_slice(&token[at + 2..]);
    for header in [0, ci, wrapped, sd] {
        assert_eq!(out[header + 1], 0x82, "two length bytes at {header}");
        let len = usize::from(u16::from_be_bytes([out[header + 2], out[header + 3]])) + grow;
        out[header + 2..header + 4].copy_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
    }
    out
}

/// rfc3161-client `_verify_leaf_certs`: a certificate embedded in the token must be the trusted
/// TSA leaf. The real token embeds none; with the TSA leaf embedded it still verifies, with
/// another certificate it is rejected.
#[test]
fn rekor_v2_embedded_tsa_certificate() {
    let (c, root) = (rekor2(), staging_root_json());
    let chain = staging_tsa_chain(&root);
    let token = b64d(timestamp_of(&mut c.json.clone()).as_str().unwrap());

    let mut j = c.json.clone();
    *timestamp_of(&mut j) = Value::String(b64e(&with_embedded_certificate(&token, &chain[0])));
    let v = c.run(&j).expect("the TSA leaf embedded is accepted");
    assert_eq!(v.timestamps[0].gen_time, REKOR2_GEN_TIME);

    rejections!(c, [
        (|j| {
            *timestamp_of(j) = Value::String(b64e(&with_embedded_certificate(&token, &chain[1])));
        }) => VerificationError::Timestamp(TimestampError::EmbeddedCertificateMismatch { .. }),
    ]);
}

/// rfc3161-client accepts only the `granted` status; grantedWithMods (1) and worse are refused.
#[test]
fn rekor_v2_timestamp_status_must_be_granted() {
    let c = rekor2();
    let token = b64d(timestamp_of(&mut c.json.clone()).as_str().unwrap());
    // TimeStampResp { PKIStatusInfo { status INTEGER } ... }: 30 82 LL LL 30 03 02 01 <status>
    assert_eq!(&token[4..9], &[0x30, 0x03, 0x02, 0x01, 0x00]);
    for status in [1u8, 2] {
        let e = c.mutate(|j| {
            let mut t = token.clone();
            t[8] = status;
            *timestamp_of(j) = Value::String(b64e(&t));
        });
        assert!(
            matches!(
                e,
                VerificationError::Timestamp(TimestampError::Status { status: s }) if s == u64::from(status)
            ),
            "status {status}: {e}"
        );
    }
}

/// sigstore-python tries every trusted TSA: with the same TSA listed twice, the first with a
/// `validFor` that ended before genTime and the second still open, the token verifies with the
/// second; with both closed it is rejected naming the time and both windows, and a staged
/// listing (a window starting after genTime) is used only once it has started.
#[test]
fn rekor_v2_same_tsa_listed_twice() {
    let (c, root) = (rekor2(), staging_root_json());
    let tsa = root["timestampAuthorities"][0].clone();
    let tsa_open = tsa.clone();
    let mut expired = tsa.clone();
    expired["validFor"] =
        serde_json::json!({"start": "2025-04-09T00:00:00Z", "end": "2026-01-01T00:00:00Z"});
    let mut twice = root.clone();
    twice["timestampAuthorities"] = Value::Array(vec![expired.clone(), tsa]);
    let c2 = Case {
        trust: trust_from(&twice),
        ..rekor2()
    };
    let v = c2.run(&c2.json).expect("the second listing verifies");
    assert_eq!(
        v.timestamps,
        vec![signet_verifier::VerifiedTimestamp {
            gen_time: REKOR2_GEN_TIME,
            gen_time_nanos: 0,
            tsa_index: 1,
        }]
    );

    twice["timestampAuthorities"] = Value::Array(vec![expired.clone(), expired.clone()]);
    let c3 = Case {
        trust: trust_from(&twice),
        ..rekor2()
    };
    let e = c3.run(&c.json).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Timestamp(TimestampError::NotValidAt(_))
        ),
        "{e}"
    );

    // A pre-staged rotation (issue 19): the TSA's old listing ended before genTime and a
    // staged listing starts a second after it: refused, naming both windows; once the staged
    // window has started (at genTime exactly) the token verifies under it.
    let mut staged = tsa_open.clone();
    staged["validFor"] = serde_json::json!({"start": "2026-05-13T19:23:34Z"});
    twice["timestampAuthorities"] = Value::Array(vec![expired.clone(), staged.clone()]);
    let c4 = Case {
        trust: trust_from(&twice),
        ..rekor2()
    };
    let e = c4.run(&c.json).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("no timestamp authority in the trusted root is valid at 2026-05-13T19:23:33Z")
            && msg.contains("[2025-04-09T00:00:00Z, 2026-01-01T00:00:00Z]")
            && msg.contains("[2026-05-13T19:23:34Z, open]"),
        "{msg}"
    );
    staged["validFor"] = serde_json::json!({"start": "2026-05-13T19:23:33Z"});
    twice["timestampAuthorities"] = Value::Array(vec![expired, staged]);
    let c5 = Case {
        trust: trust_from(&twice),
        ..rekor2()
    };
    let v = c5.run(&c.json).expect("the staged listing, once started");
    assert_eq!(v.timestamps[0].tsa_index, 1);
}

/// With no SET (Rekor v2), `tlogEntries[0].logIndex` is covered by nothing but the inclusion
/// proof: a rewritten one is refused rather than reported as the verified log index.
#[test]
fn rekor_v2_log_index_must_be_the_proofs() {
    let c = rekor2();
    let mut j = c.json.clone();
    entry(&mut j)["logIndex"] = Value::String("1".into());
    let e = c.run(&j).expect_err("a rewritten logIndex");
    assert!(
        e.to_string().contains("is not the inclusion proof's"),
        "{e}"
    );
    let v = c.run(&c.json).unwrap();
    assert_eq!(v.log_index, v.proof_index);
}
