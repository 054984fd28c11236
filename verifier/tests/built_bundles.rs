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
        matches!(e, VerificationError::Time(TimeError::OutsideWindow { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("CA validFor"), "{e}");
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
