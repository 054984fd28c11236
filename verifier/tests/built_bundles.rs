//! Bundles built in-process (tests/common: rcgen CA, proto SCT, proto checkpoint, proto
//! Merkle tree) with one thing broken at a time; each must fail with its own error.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{build, Fixture, Knobs, SIGNING_TIME};
use signet_proto::keys::{EcdsaCurve, EcdsaSigner};
use signet_verifier::{
    verify, Artifact, BundleError, CertificateError, CheckpointError, IdentityPolicy, Policy,
    PolicyError, SctError, SetError, SignatureError, StringMatch, TimeError, TlogError,
    TrustMaterial, UnixTime, VerificationError, VerifiedBundle, WitnessPolicy,
};

fn now() -> Option<UnixTime> {
    Some(UnixTime::from_unix_seconds(SIGNING_TIME + 3600))
}

fn run(f: &Fixture) -> Result<VerifiedBundle, VerificationError> {
    verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        &f.trust(),
        now(),
    )
}

/// Verifies `f` against `t` at the default time.
fn run_with(f: &Fixture, t: &TrustMaterial) -> Result<VerifiedBundle, VerificationError> {
    verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        t,
        now(),
    )
}

fn fails(k: Knobs) -> VerificationError {
    run(&build(&k)).expect_err("must be rejected")
}

#[test]
fn good_bundles_verify() {
    for k in [
        Knobs::default(),
        Knobs {
            ca_p384: true,
            ..Knobs::default()
        },
        Knobs {
            dsse: true,
            ..Knobs::default()
        },
        Knobs {
            dsse: true,
            dsse_keyid: Some("signer-key-1".into()),
            ..Knobs::default()
        },
        Knobs {
            ed25519_log: true,
            ..Knobs::default()
        },
        Knobs {
            tree_size: 1,
            leaf_index: 0,
            ..Knobs::default()
        },
        Knobs {
            tree_size: 16,
            leaf_index: 15,
            ..Knobs::default()
        },
    ] {
        let f = build(&k);
        let v = run(&f).unwrap_or_else(|e| panic!("{k:?}: {e}"));
        assert_eq!(v.integrated_time.as_unix_seconds(), SIGNING_TIME);
        assert_eq!(v.checkpoint.size, u64::try_from(k.tree_size).unwrap());
        assert_eq!(v.proof_index, u64::try_from(k.leaf_index).unwrap());
        assert_eq!(
            v.identity.as_ref().unwrap().san(),
            Some("alice@example.com")
        );
        // Same result from the digest alone.
        let d = signet_proto::keys::HashAlgorithm::Sha256.hash(&f.artifact);
        let digest = Artifact::Sha256Digest(d.try_into().unwrap());
        verify(&f.bundle(), digest, &f.policy(), &f.trust(), now()).unwrap();
    }
}

/// A DSSE signature's `keyid` is part of the one canonical envelope form behind
/// `envelopeHash` (`signet_proto::rekor::dsse_envelope_hash`, which the log writes): a bundle
/// with a keyid verifies, and a keyid added, changed or dropped after logging is refused.
#[test]
fn dsse_keyid_is_bound_by_the_envelope_hash() {
    let f = build(&Knobs {
        dsse: true,
        dsse_keyid: Some("signer-key-1".into()),
        ..Knobs::default()
    });
    run(&f).expect("a keyid in the logged envelope verifies");
    for keyid in [Some("signer-key-2"), None] {
        let mut g = build(&Knobs {
            dsse: true,
            dsse_keyid: Some("signer-key-1".into()),
            ..Knobs::default()
        });
        let sig = &mut g.bundle_json["dsseEnvelope"]["signatures"][0];
        match keyid {
            Some(k) => sig["keyid"] = serde_json::json!(k),
            None => {
                sig.as_object_mut().unwrap().remove("keyid");
            }
        }
        let e = run(&g).unwrap_err();
        assert!(
            matches!(
                e,
                VerificationError::Tlog(TlogError::BodyMismatch {
                    field: "spec.envelopeHash"
                })
            ),
            "{keyid:?}: {e}"
        );
    }
    let mut g = build(&Knobs {
        dsse: true,
        ..Knobs::default()
    });
    g.bundle_json["dsseEnvelope"]["signatures"][0]["keyid"] = serde_json::json!("added");
    let e = run(&g).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Tlog(TlogError::BodyMismatch {
                field: "spec.envelopeHash"
            })
        ),
        "{e}"
    );
}

#[test]
fn expired_certificate() {
    let e = fails(Knobs {
        integrated_after_leaf_expiry: true,
        ..Knobs::default()
    });
    assert!(
        matches!(e, VerificationError::Time(TimeError::OutsideWindow { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("leaf certificate"), "{e}");
}

#[test]
fn ca_valid_for_ended_before_signing() {
    let e = fails(Knobs {
        ca_valid_for_end: Some("2025-06-01T00:00:00Z"),
        ..Knobs::default()
    });
    assert!(
        matches!(e, VerificationError::Time(TimeError::NotValidAt(_))),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("no certificate authority in the trusted root is valid at"),
        "{e}"
    );
}

#[test]
fn proof_against_another_root() {
    let e = fails(Knobs {
        proof_from_other_tree: true,
        ..Knobs::default()
    });
    assert!(
        matches!(
            e,
            VerificationError::Checkpoint(CheckpointError::Mismatch {
                field: "root hash",
                ..
            })
        ),
        "{e}"
    );
}

#[test]
fn bad_proof_hash() {
    let e = fails(Knobs {
        bad_proof_hash: true,
        ..Knobs::default()
    });
    assert!(
        matches!(e, VerificationError::Tlog(TlogError::Inclusion { .. })),
        "{e}"
    );
}

#[test]
fn tampered_checkpoint() {
    let e = fails(Knobs {
        tamper_checkpoint: true,
        ..Knobs::default()
    });
    assert!(
        matches!(
            e,
            VerificationError::Checkpoint(CheckpointError::Signature { .. })
        ),
        "{e}"
    );
    let e = fails(Knobs {
        checkpoint_wrong_key: true,
        ..Knobs::default()
    });
    assert!(
        matches!(
            e,
            VerificationError::Checkpoint(CheckpointError::Signature { .. })
        ),
        "{e}"
    );
}

#[test]
fn wrong_digest_and_signature() {
    let f = build(&Knobs::default());
    let e = verify(
        &f.bundle(),
        Artifact::Bytes(b"another artifact"),
        &f.policy(),
        &f.trust(),
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Signature(SignatureError::DigestMismatch { .. })
        ),
        "{e}"
    );
    let e = fails(Knobs {
        wrong_signature: true,
        ..Knobs::default()
    });
    assert!(
        matches!(
            e,
            VerificationError::Signature(SignatureError::Invalid { .. })
        ),
        "{e}"
    );
    let e = fails(Knobs {
        wrong_signature: true,
        dsse: true,
        ..Knobs::default()
    });
    assert!(
        matches!(
            e,
            VerificationError::Signature(SignatureError::Invalid { .. })
        ),
        "{e}"
    );
    let f = build(&Knobs {
        dsse: true,
        ..Knobs::default()
    });
    let e = verify(
        &f.bundle(),
        Artifact::Bytes(b"another artifact"),
        &f.policy(),
        &f.trust(),
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Signature(SignatureError::SubjectMismatch { .. })
        ),
        "{e}"
    );
}

#[test]
fn sct_checks() {
    let e = fails(Knobs {
        with_sct: false,
        ..Knobs::default()
    });
    assert!(
        matches!(e, VerificationError::Sct(SctError::Missing)),
        "{e}"
    );
    let e = fails(Knobs {
        sct_unknown_log: true,
        ..Knobs::default()
    });
    assert!(
        matches!(e, VerificationError::Sct(SctError::NoTrustedLog { .. })),
        "{e}"
    );
}

#[test]
fn leaf_profile() {
    let e = fails(Knobs {
        code_signing_eku: false,
        ..Knobs::default()
    });
    assert!(
        matches!(
            e,
            VerificationError::Certificate(CertificateError::Profile(_))
        ),
        "{e}"
    );
}

#[test]
fn set_over_another_time() {
    let e = fails(Knobs {
        set_wrong_time: true,
        ..Knobs::default()
    });
    assert!(
        matches!(e, VerificationError::Set(SetError::Invalid { .. })),
        "{e}"
    );
}

#[test]
fn foreign_trust_root() {
    let a = build(&Knobs::default());
    let b = build(&Knobs::default());
    let e = verify(
        &a.bundle(),
        Artifact::Bytes(&a.artifact),
        &a.policy(),
        &b.trust(),
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(e, VerificationError::Tlog(TlogError::UnknownLog { .. })),
        "{e}"
    );
    // Same log, other CA: take b's CAs and a's logs.
    let mut root = a.trusted_root();
    root.certificate_authorities = b.trusted_root().certificate_authorities;
    let t = TrustMaterial::from_trusted_root(&root).unwrap();
    let e = verify(
        &a.bundle(),
        Artifact::Bytes(&a.artifact),
        &a.policy(),
        &t,
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Certificate(
                CertificateError::BadSignature { .. } | CertificateError::UnknownIssuer { .. }
            )
        ),
        "{e}"
    );
}

#[test]
fn identity_policies() {
    let gh = |n: u64| vec![1, 3, 6, 1, 4, 1, 57264, 1, n];
    let k = Knobs {
        san_uri: Some("https://github.com/signet-dev/signet/.github/workflows/release.yml@refs/tags/v1.0.0".into()),
        issuer: "https://token.actions.githubusercontent.com".into(),
        claims: vec![
            (gh(9), "https://github.com/signet-dev/signet/.github/workflows/release.yml@refs/tags/v1.0.0".into()),
            (gh(12), "https://github.com/signet-dev/signet".into()),
            (gh(14), "refs/tags/v1.0.0".into()),
            (gh(20), "push".into()),
        ],
        ..Knobs::default()
    };
    let f = build(&k);
    let check = |p: Policy| {
        verify(
            &f.bundle(),
            Artifact::Bytes(&f.artifact),
            &p,
            &f.trust(),
            now(),
        )
    };
    check(f.policy()).unwrap();
    let claim = IdentityPolicy::extension;
    use signet_proto::cert as oid;
    check(Policy::identity(IdentityPolicy::all_of(vec![
        IdentityPolicy::issuer(StringMatch::exact(
            "https://token.actions.githubusercontent.com",
        )),
        IdentityPolicy::san(
            StringMatch::regex(
                r"https://github\.com/signet-dev/signet/\.github/workflows/.*@refs/tags/v.*",
            )
            .unwrap(),
        ),
        claim(
            oid::OID_SOURCE_REPOSITORY_URI,
            StringMatch::exact("https://github.com/signet-dev/signet"),
        ),
        claim(
            oid::OID_SOURCE_REPOSITORY_REF,
            StringMatch::regex("refs/tags/v[0-9.]+").unwrap(),
        ),
        claim(oid::OID_BUILD_TRIGGER, StringMatch::exact("push")),
    ])))
    .unwrap();
    let e = check(Policy::identity(claim(
        oid::OID_SOURCE_REPOSITORY_REF,
        StringMatch::exact("refs/heads/main"),
    )))
    .unwrap_err();
    assert!(
        matches!(e, VerificationError::Policy(PolicyError::Mismatch { .. })),
        "{e}"
    );
    let e = check(Policy::identity(claim(
        oid::OID_RUNNER_ENVIRONMENT,
        StringMatch::exact("github-hosted"),
    )))
    .unwrap_err();
    assert!(e.to_string().contains("<absent>"), "{e}");
    let e = check(Policy::identity(IdentityPolicy::any_of(vec![
        IdentityPolicy::issuer(StringMatch::exact("https://accounts.google.com")),
        IdentityPolicy::san(StringMatch::exact("bob@example.com")),
    ])))
    .unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Policy(PolicyError::NoneMatched { count: 2, .. })
        ),
        "{e}"
    );
}

#[test]
fn keyed_mode() {
    let f = build(&Knobs {
        keyed: true,
        ..Knobs::default()
    });
    let t = f.trust();
    let v = verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &Policy::key(f.leaf_key.clone()),
        &t,
        now(),
    )
    .unwrap();
    assert!(v.identity.is_none());
    let other =
        EcdsaSigner::generate(EcdsaCurve::P256, &aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let e = verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &Policy::key(other.public_key().clone()),
        &t,
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Signature(SignatureError::Invalid { .. })
        ),
        "{e}"
    );
    // An identity policy cannot accept a keyed bundle, nor a key policy a certificate bundle.
    let e = verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        &t,
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Bundle(BundleError::MaterialMismatch(_))
        ),
        "{e}"
    );
    let g = build(&Knobs::default());
    let e = verify(
        &g.bundle(),
        Artifact::Bytes(&g.artifact),
        &Policy::key(g.leaf_key.clone()),
        &g.trust(),
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Bundle(BundleError::MaterialMismatch(_))
        ),
        "{e}"
    );
}

#[test]
fn verification_time_before_signing() {
    let f = build(&Knobs::default());
    let early = Some(UnixTime::from_unix_seconds(SIGNING_TIME - 1));
    let e = verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        &f.trust(),
        early,
    )
    .unwrap_err();
    assert!(
        matches!(e, VerificationError::Time(TimeError::InFuture { .. })),
        "{e}"
    );
}

#[test]
fn witness_cosignatures() {
    use signet_proto::keys::Ed25519Signer;
    use signet_proto::note::{CosignatureV1Signer, Verifiers};
    let seeds = [[1u8; 32], [2u8; 32], [3u8; 32]];
    let names = ["w1.example", "w2.example", "w3.example"];
    let verifiers = || {
        names
            .iter()
            .zip(&seeds)
            .fold(Verifiers::new(), |v, (n, s)| {
                v.with(
                    CosignatureV1Signer::new(n, Ed25519Signer::from_seed(s).unwrap())
                        .unwrap()
                        .verifier()
                        .unwrap(),
                )
            })
    };
    // Two of three witnesses cosigned; the log's own signature is still required.
    let f = build(&Knobs {
        witnesses: vec![(names[0].into(), seeds[0]), (names[2].into(), seeds[2])],
        ..Knobs::default()
    });
    let mut t = f.trust();
    t.set_witness_policy(WitnessPolicy {
        threshold: 2,
        witnesses: verifiers(),
    });
    verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        &t,
        now(),
    )
    .expect("2-of-3 met");
    t.set_witness_policy(WitnessPolicy {
        threshold: 3,
        witnesses: verifiers(),
    });
    let e = verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        &t,
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Checkpoint(CheckpointError::Witnesses {
                valid: 2,
                threshold: 3
            })
        ),
        "{e}"
    );
    // The cosignatures do not replace the log's signature.
    let f = build(&Knobs {
        witnesses: vec![(names[0].into(), seeds[0])],
        checkpoint_wrong_key: true,
        ..Knobs::default()
    });
    let mut t = f.trust();
    t.set_witness_policy(WitnessPolicy {
        threshold: 1,
        witnesses: verifiers(),
    });
    let e = verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        &t,
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Checkpoint(CheckpointError::Signature { .. })
        ),
        "{e}"
    );
}

/// Issue 15 C: one witness key listed under two names (two vkeys, two key hashes) is one
/// witness. The checkpoint carries its cosignature under both names; a 2-of-2 policy over the
/// two names is not met, and a policy needing more witnesses than distinct keys is unusable.
#[test]
fn one_witness_key_under_two_names_counts_once() {
    use signet_proto::keys::Ed25519Signer;
    use signet_proto::note::{CosignatureV1Signer, Verifiers};
    let seed = [1u8; 32];
    let names = ["w1.example", "w1-again.example"];
    let f = build(&Knobs {
        witnesses: names.iter().map(|n| ((*n).into(), seed)).collect(),
        ..Knobs::default()
    });
    let verifiers = names.iter().fold(Verifiers::new(), |v, n| {
        v.with(
            CosignatureV1Signer::new(n, Ed25519Signer::from_seed(&seed).unwrap())
                .unwrap()
                .verifier()
                .unwrap(),
        )
    });
    let mut t = f.trust();
    t.set_witness_policy(WitnessPolicy {
        threshold: 1,
        witnesses: verifiers.clone(),
    });
    run_with(&f, &t).expect("1 witness cosigned");
    t.set_witness_policy(WitnessPolicy {
        threshold: 2,
        witnesses: verifiers,
    });
    let e = run_with(&f, &t).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Checkpoint(CheckpointError::WitnessPolicy { .. })
        ),
        "{e}"
    );
    // With a second, real witness listed: 1 of 2 distinct keys cosigned, not 2.
    let other = CosignatureV1Signer::new("w2.example", Ed25519Signer::from_seed(&[2; 32]).unwrap())
        .unwrap()
        .verifier()
        .unwrap();
    let mut t = f.trust();
    t.set_witness_policy(WitnessPolicy {
        threshold: 2,
        witnesses: names
            .iter()
            .fold(Verifiers::new(), |v, n| {
                v.with(
                    CosignatureV1Signer::new(n, Ed25519Signer::from_seed(&seed).unwrap())
                        .unwrap()
                        .verifier()
                        .unwrap(),
                )
            })
            .with(other),
    });
    let e = run_with(&f, &t).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Checkpoint(CheckpointError::Witnesses {
                valid: 1,
                threshold: 2
            })
        ),
        "{e}"
    );
}

/// Issue 15 C: a log's own key listed as a witness never counts: the log could cosign its
/// own checkpoints.
#[test]
fn the_logs_own_key_is_not_a_witness() {
    use signet_proto::keys::Ed25519Signer;
    use signet_proto::note::{CosignatureV1Signer, Verifiers};
    let seed = [9u8; 32];
    let f = build(&Knobs {
        ed25519_log: true,
        ed25519_log_seed: Some(seed),
        witnesses: vec![("self.example".into(), seed)],
        ..Knobs::default()
    });
    let own = CosignatureV1Signer::new("self.example", Ed25519Signer::from_seed(&seed).unwrap())
        .unwrap()
        .verifier()
        .unwrap();
    let mut t = f.trust();
    t.set_witness_policy(WitnessPolicy {
        threshold: 1,
        witnesses: Verifiers::new().with(own),
    });
    let e = run_with(&f, &t).unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Checkpoint(CheckpointError::WitnessPolicy { .. })
        ),
        "{e}"
    );
}

#[test]
fn witness_threshold() {
    let f = build(&Knobs::default());
    let mut t = f.trust();
    let w = signet_proto::note::CosignatureV1Verifier::new("witness.example", &[7u8; 32]).unwrap();
    t.set_witness_policy(WitnessPolicy {
        threshold: 1,
        witnesses: signet_proto::note::Verifiers::new().with(w),
    });
    let e = verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        &t,
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            VerificationError::Checkpoint(CheckpointError::Witnesses {
                valid: 0,
                threshold: 1
            })
        ),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// Certificates a trusted CA should never issue, each refused with its reason (found by an
// adversarial review against sigstore-python and sigstore-js; sigstore-python refuses each).

use rcgen::{CertificateParams, CustomExtension, IsCa, KeyUsagePurpose};

fn ext(oid: &[u64], content: Vec<u8>, critical: bool) -> CustomExtension {
    let mut e = CustomExtension::from_oid_content(oid, content);
    e.set_criticality(critical);
    e
}

const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const SAN: &[u64] = &[2, 5, 29, 17];

fn san_email(s: &str) -> Vec<u8> {
    let mut inner = vec![0x81, u8::try_from(s.len()).unwrap()];
    inner.extend_from_slice(s.as_bytes());
    let mut v = vec![0x30, u8::try_from(inner.len()).unwrap()];
    v.extend(inner);
    v
}

fn profile_reason(e: &VerificationError) -> String {
    match e {
        VerificationError::Certificate(
            CertificateError::Profile(r) | CertificateError::Parse { reason: r },
        ) => r.clone(),
        other => panic!("expected a certificate profile or parse error, got {other}"),
    }
}

#[test]
fn duplicate_leaf_extensions_are_refused() {
    // basicConstraints twice, cA TRUE first: parsers that take the first see a CA.
    fn two_basic_constraints(p: &mut CertificateParams) {
        p.is_ca = IsCa::NoCa;
        p.custom_extensions.insert(
            0,
            ext(BASIC_CONSTRAINTS, vec![0x30, 0x03, 0x01, 0x01, 0xff], true),
        );
        p.custom_extensions
            .insert(1, ext(BASIC_CONSTRAINTS, vec![0x30, 0x00], true));
    }
    // keyUsage keyCertSign, then a second keyUsage digitalSignature.
    fn two_key_usages(p: &mut CertificateParams) {
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        p.custom_extensions
            .insert(0, ext(KEY_USAGE, vec![0x03, 0x02, 0x07, 0x80], true));
    }
    // A second EKU extension with codeSigning, after one without.
    fn two_ekus(p: &mut CertificateParams) {
        p.custom_extensions.insert(
            0,
            ext(
                EXT_KEY_USAGE,
                vec![
                    0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03,
                ],
                false,
            ),
        );
    }
    // Two SANs, a victim's first: a policy for the victim must not match.
    fn two_sans(p: &mut CertificateParams) {
        p.subject_alt_names = vec![];
        p.custom_extensions
            .insert(0, ext(SAN, san_email("victim@example.com"), true));
        p.custom_extensions
            .insert(1, ext(SAN, san_email("alice@example.com"), true));
    }
    for (name, hook, eku) in [
        (
            "basicConstraints",
            two_basic_constraints as fn(&mut CertificateParams),
            true,
        ),
        ("keyUsage", two_key_usages, true),
        ("extKeyUsage", two_ekus, false),
        ("subjectAltName", two_sans, true),
    ] {
        let mut f = build(&Knobs {
            leaf_hook: Some(hook),
            code_signing_eku: eku,
            ..Knobs::default()
        });
        if name == "subjectAltName" {
            f.identity = "victim@example.com".into();
        }
        let e = run(&f).expect_err(name);
        assert!(profile_reason(&e).contains("extensions"), "{name}: {e}");
    }
}

#[test]
fn leaf_without_aki_or_with_ca_key_usage_is_refused() {
    fn no_aki(p: &mut CertificateParams) {
        p.use_authority_key_identifier_extension = false;
    }
    fn key_cert_sign(p: &mut CertificateParams) {
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
    }
    let e = fails(Knobs {
        leaf_hook: Some(no_aki),
        ..Knobs::default()
    });
    assert_eq!(profile_reason(&e), "no authority key identifier", "{e}");
    let e = fails(Knobs {
        leaf_hook: Some(key_cert_sign),
        ..Knobs::default()
    });
    assert_eq!(
        profile_reason(&e),
        "KeyUsage allows signing certificates or CRLs, which a leaf must not",
        "{e}"
    );
}

#[test]
fn issuer_extensions_must_agree() {
    // .1.8 (read here and by sigstore-js) says the expected issuer, .1.1 (read by
    // sigstore-python) another one; then the other way round.
    let e = fails(Knobs {
        issuer_v1: Some("https://evil.example.com".into()),
        ..Knobs::default()
    });
    assert!(e.to_string().contains("issuer extensions disagree"), "{e}");
    let mut f = build(&Knobs {
        issuer: "https://evil.example.com".into(),
        issuer_v1: Some(Knobs::default().issuer),
        ..Knobs::default()
    });
    f.issuer = Knobs::default().issuer;
    let e = run(&f).expect_err("v1 good, v2 evil");
    assert!(e.to_string().contains("issuer extensions disagree"), "{e}");
}

#[test]
fn an_sct_from_an_unlisted_log_is_refused() {
    let e = fails(Knobs {
        sct_extra_unknown: true,
        ..Knobs::default()
    });
    assert!(
        matches!(e, VerificationError::Sct(SctError::NoTrustedLog { .. })),
        "{e}"
    );
}

/// Issue 15: only the SAN types Sigstore clients accept (email, URI, Fulcio's username
/// otherName 1.3.6.1.4.1.57264.1.7) name a signer. A certificate whose SANs are all of other
/// types (here each carrying the expected identity's text) names no signer and is refused
/// whatever the policy, `any_identity_unsafe` included; next to a signer SAN, another type is
/// ignored.
#[test]
fn only_signer_san_types_identify_a_signer() {
    use rcgen::{OtherNameValue, SanType};
    const ALICE: &str = "alice@example.com";
    fn dns(p: &mut CertificateParams) {
        p.subject_alt_names = vec![SanType::DnsName(ALICE.try_into().unwrap())];
    }
    fn ip(p: &mut CertificateParams) {
        p.subject_alt_names = vec![SanType::IpAddress([127, 0, 0, 1].into())];
    }
    fn other_name(p: &mut CertificateParams) {
        p.subject_alt_names = vec![SanType::OtherName((
            vec![1, 3, 6, 1, 4, 1, 57264, 1, 99],
            OtherNameValue::Utf8String(ALICE.into()),
        ))];
    }
    // registeredID [8] 1.2.3.4, and directoryName [4] CN=alice@example.com: raw SAN DER.
    fn registered_id(p: &mut CertificateParams) {
        p.subject_alt_names = vec![];
        p.custom_extensions.insert(
            0,
            ext(SAN, vec![0x30, 0x05, 0x88, 0x03, 0x2a, 0x03, 0x04], true),
        );
    }
    fn directory_name(p: &mut CertificateParams) {
        p.subject_alt_names = vec![];
        let cn = ALICE.as_bytes();
        let n = u8::try_from(cn.len()).unwrap();
        let mut der = vec![
            0x30,
            n + 15,
            0xa4,
            n + 13,
            0x30,
            n + 11,
            0x31,
            n + 9,
            0x30,
            n + 7,
            0x06,
            0x03,
            0x55,
            0x04,
            0x03,
            0x0c,
            n,
        ];
        der.extend_from_slice(cn);
        p.custom_extensions.insert(0, ext(SAN, der, true));
    }
    for (name, hook, found) in [
        ("dNSName", dns as fn(&mut CertificateParams), "dNSName"),
        ("iPAddress", ip, "iPAddress"),
        ("otherName", other_name, "otherName 1.3.6.1.4.1.57264.1.99"),
        ("registeredID", registered_id, "registeredID"),
        ("directoryName", directory_name, "directoryName"),
    ] {
        let f = build(&Knobs {
            leaf_hook: Some(hook),
            ..Knobs::default()
        });
        assert_eq!(f.identity, ALICE);
        for policy in [f.policy(), Policy::any_identity_unsafe()] {
            let e = verify(
                &f.bundle(),
                Artifact::Bytes(&f.artifact),
                &policy,
                &f.trust(),
                now(),
            )
            .expect_err(name);
            assert!(
                matches!(
                    &e,
                    VerificationError::Certificate(CertificateError::NoSigner { found: fd })
                        if fd == found
                ),
                "{name}: {e}"
            );
            assert!(e.to_string().contains("names no signer"), "{name}: {e}");
        }
    }

    // A dNSName next to the signer's email: the email is the signer, the dNSName nothing.
    fn dns_then_email(p: &mut CertificateParams) {
        p.subject_alt_names = vec![
            SanType::DnsName("victim.example.com".try_into().unwrap()),
            SanType::Rfc822Name(ALICE.try_into().unwrap()),
        ];
    }
    let mut f = build(&Knobs {
        leaf_hook: Some(dns_then_email),
        ..Knobs::default()
    });
    let v = run(&f).unwrap();
    assert_eq!(v.identity.as_ref().unwrap().san(), Some(ALICE));
    f.identity = "victim.example.com".into();
    let e = run(&f).expect_err("a dNSName is no identity");
    assert!(
        matches!(e, VerificationError::Policy(PolicyError::Mismatch { .. })),
        "{e}"
    );

    // Fulcio's username otherName is a signer.
    fn username(p: &mut CertificateParams) {
        p.subject_alt_names = vec![SanType::OtherName((
            vec![1, 3, 6, 1, 4, 1, 57264, 1, 7],
            OtherNameValue::Utf8String("alice!example.com".into()),
        ))];
    }
    let mut f = build(&Knobs {
        leaf_hook: Some(username),
        ..Knobs::default()
    });
    f.identity = "alice!example.com".into();
    let v = run(&f).unwrap();
    assert_eq!(
        v.identity.as_ref().unwrap().san(),
        Some("alice!example.com")
    );
}

/// Issue 15: `--certificate-identity-regexp 'alice@example\.com)|(.*'` accepted anyone, since
/// the pattern was pasted into `^(?:…)$`. A pattern is now parsed on its own (invalid alone:
/// refused) and anchored on its parsed form.
#[test]
fn identity_regexes_cannot_escape_their_anchors() {
    for escape in [
        r"alice@example\.com)|(.*",
        r"alice@example\.com)|(?:.*",
        r".*)|(",
        r"x)|.*|(x",
        r"alice@example\.com\",
        r"(?x)alice@example\.com)|(.*",
        "alice@example\\.com\n)|(.*",
    ] {
        let e = StringMatch::regex(escape).expect_err(escape);
        assert!(matches!(e, PolicyError::Regex { .. }), "{escape}: {e}");
        assert!(e.to_string().contains("invalid regular expression"), "{e}");
    }
    // Valid patterns match whole identities only, whatever flags or comments they hold.
    let f = build(&Knobs::default());
    let mallory = build(&Knobs {
        san_email: "mallory@example.com".into(),
        ..Knobs::default()
    });
    for pattern in [
        r"alice@example\.com",
        r"(?x) alice @ example \. com   # alice only",
        r"(?x)alice@example\.com#)|(.*",
        r"(?i)ALICE@example\.com",
        r"(?m)^alice@example\.com$",
        r"alice@example\.com|bob@example\.com",
        r"(alice)@example\.com",
    ] {
        let policy = Policy::identity(IdentityPolicy::all_of(vec![
            IdentityPolicy::san(StringMatch::regex(pattern).unwrap()),
            IdentityPolicy::issuer(StringMatch::exact(f.issuer.clone())),
        ]));
        verify(
            &f.bundle(),
            Artifact::Bytes(&f.artifact),
            &policy,
            &f.trust(),
            now(),
        )
        .unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let e = verify(
            &mallory.bundle(),
            Artifact::Bytes(&mallory.artifact),
            &policy,
            &mallory.trust(),
            now(),
        )
        .expect_err(pattern);
        assert!(
            matches!(e, VerificationError::Policy(PolicyError::Mismatch { .. })),
            "{pattern}: {e}"
        );
    }
}

/// RFC 3339 text of `secs` with an optional fraction (`".001"`).
fn rfc3339(secs: i64, frac: &str) -> String {
    let whole = signet_proto::bundle::Timestamp::from_unix(secs)
        .unwrap()
        .as_str()
        .to_owned();
    format!("{}{frac}Z", whole.trim_end_matches('Z'))
}

/// `validFor` is the closed interval `[start, end]` (protobuf-specs `TimeRange`) for the
/// transparency log key, the CT log key and the CA alike, to the fraction of a second: a
/// signing time (or SCT time) equal to a bound is inside, one a millisecond or a second past
/// it is outside. The bundle's integrated time is `SIGNING_TIME`; its SCT is at
/// `SIGNING_TIME - 5` seconds plus 1 ms.
#[test]
fn valid_for_is_closed_at_both_ends() {
    let t = SIGNING_TIME;
    let sct = (SIGNING_TIME - 5, ".001");
    // (where, start, end, verifies)
    let cases: Vec<(&str, String, Option<String>, bool)> = vec![
        ("tlogs", rfc3339(t, ""), Some(rfc3339(t, "")), true),
        ("tlogs", rfc3339(t - 1, ""), Some(rfc3339(t, "")), true),
        ("tlogs", rfc3339(t, ""), None, true),
        ("tlogs", rfc3339(t - 1, ".5"), Some(rfc3339(t, ".5")), true),
        (
            "tlogs",
            rfc3339(t - 10, ""),
            Some(rfc3339(t - 1, "")),
            false,
        ),
        (
            "tlogs",
            rfc3339(t - 10, ""),
            Some(rfc3339(t - 1, ".999")),
            false,
        ),
        ("tlogs", rfc3339(t, ".001"), None, false),
        ("tlogs", rfc3339(t + 1, ""), None, false),
        ("ca", rfc3339(t, ""), Some(rfc3339(t, "")), true),
        (
            "ca",
            rfc3339(t - 1, ""),
            Some(rfc3339(t - 1, ".999999999")),
            false,
        ),
        ("ca", rfc3339(t, ".000000001"), None, false),
        (
            "ctlogs",
            rfc3339(sct.0, sct.1),
            Some(rfc3339(sct.0, sct.1)),
            true,
        ),
        (
            "ctlogs",
            rfc3339(sct.0 - 1, ""),
            Some(rfc3339(sct.0, "")),
            false,
        ),
        ("ctlogs", rfc3339(sct.0, ".002"), None, false),
    ];
    for (place, start, end, ok) in cases {
        let mut f = build(&Knobs::default());
        let mut window = serde_json::json!({ "start": start });
        if let Some(end) = &end {
            window["end"] = serde_json::json!(end);
        }
        match place {
            "ca" => f.trusted_root_json["certificateAuthorities"][0]["validFor"] = window,
            logs => f.trusted_root_json[logs][0]["publicKey"]["validFor"] = window,
        }
        let got = run(&f);
        assert_eq!(
            got.is_ok(),
            ok,
            "{place} validFor [{start}, {end:?}]: {:?}",
            got.err().map(|e| e.to_string())
        );
        if let Err(e) = got {
            assert!(
                matches!(
                    e,
                    VerificationError::Time(TimeError::NotValidAt(_))
                        | VerificationError::Sct(SctError::NotValidAt { .. })
                ),
                "{place}: {e}"
            );
        }
    }
}

/// One change to a trusted root's JSON.
type Edit<'a> = Box<dyn Fn(&mut serde_json::Value) + 'a>;

/// A `validFor` without a start (or ending before it starts) makes the trust root invalid,
/// for every kind of entry, with an error naming the entry; it is not "valid since forever".
/// A log key with no `validFor` at all is unbounded (the field is optional there).
#[test]
fn valid_for_without_start_invalidates_the_trust_root() {
    let f = build(&Knobs::default());
    let end = rfc3339(SIGNING_TIME + 100, "");
    let tsa = serde_json::json!({
        "subject": {"organization": "o", "commonName": "tsa"},
        "uri": "https://tsa.example",
        "certChain": {"certificates": []},
        "validFor": {"end": end},
    });
    let edits: [(&str, &str, Edit<'_>); 6] = [
        (
            "transparency log 0",
            "no start",
            Box::new(|r| {
                r["tlogs"][0]["publicKey"]["validFor"] = serde_json::json!({"end": end});
            }),
        ),
        (
            "CT log 0",
            "no start",
            Box::new(|r| {
                r["ctlogs"][0]["publicKey"]["validFor"] = serde_json::json!({});
            }),
        ),
        (
            "certificate authority 0",
            "no start",
            Box::new(|r| {
                r["certificateAuthorities"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("validFor");
            }),
        ),
        (
            "certificate authority 0",
            "no start",
            Box::new(|r| {
                r["certificateAuthorities"][0]["validFor"] = serde_json::json!({"start": null});
            }),
        ),
        (
            "timestamp authority 0",
            "no start",
            Box::new(move |r| {
                r["timestampAuthorities"] = serde_json::json!([tsa.clone()]);
            }),
        ),
        (
            "transparency log 0",
            "before it starts",
            Box::new(|r| {
                r["tlogs"][0]["publicKey"]["validFor"] = serde_json::json!({
                "start": "2026-01-01T00:00:00Z", "end": "2025-12-31T23:59:59.999Z"});
            }),
        ),
    ];
    for (entry, what, edit) in &edits {
        let mut root = f.trusted_root_json.clone();
        edit(&mut root);
        let parsed: signet_proto::trust::TrustedRoot = serde_json::from_value(root).unwrap();
        let e = TrustMaterial::from_trusted_root(&parsed).expect_err(entry);
        assert!(
            matches!(e, signet_verifier::TrustError::ValidFor { .. }),
            "{entry}: {e}"
        );
        let msg = e.to_string();
        assert!(msg.contains(entry) && msg.contains(what), "{msg}");
    }
    // No validFor on a log key: unbounded, the bundle verifies.
    let mut g = build(&Knobs::default());
    for logs in ["tlogs", "ctlogs"] {
        g.trusted_root_json[logs][0]["publicKey"]
            .as_object_mut()
            .unwrap()
            .remove("validFor");
    }
    run(&g).unwrap();
}

/// proto3 JSON: `null` is the field's default. A trusted root as exporters write it, with
/// `null` for every unset optional field, verifies the same bundle as the plain one.
#[test]
fn null_fields_in_the_trusted_root_are_defaults() {
    let mut f = build(&Knobs::default());
    let r = &mut f.trusted_root_json;
    for logs in ["tlogs", "ctlogs"] {
        let log = &mut r[logs][0];
        log["checkpointKeyId"] = serde_json::Value::Null;
        log["operator"] = serde_json::Value::Null;
        log["publicKey"]["validFor"]["end"] = serde_json::Value::Null;
    }
    let ca = &mut r["certificateAuthorities"][0];
    ca["operator"] = serde_json::Value::Null;
    ca["validFor"]["end"] = serde_json::Value::Null;
    ca["subject"]["organization"] = serde_json::Value::Null;
    r["timestampAuthorities"] = serde_json::Value::Null;
    let root = f.trusted_root();
    assert!(root.timestamp_authorities.is_empty());
    assert!(root.tlogs[0].operator.is_empty() && root.tlogs[0].checkpoint_key_id.is_none());
    run(&f).expect("a trusted root with null fields verifies");
}
