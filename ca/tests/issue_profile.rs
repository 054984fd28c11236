//! Pure builder and identity mapping, no network: precertificate vs final certificate TBS
//! equality (RFC 6962 §3.1 via `signet_proto::sct::tbs_without_extensions`), and the SAN for
//! every issuer type.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rcgen::Issuer;
use serde_json::json;
use signet_ca::config::{IssuerConfig, IssuerType};
use signet_ca::identity::{principal_from_claims, IdentityError, San};
use signet_ca::init::{build_ca_certificates, InitOptions};
use signet_ca::issue::{build_final, build_precert, LeafSpec};
use signet_ca::signer::{CaCurve, CaSigner, FileSigner, RcgenKey};
use signet_proto::cert::{Identity, SubjectAltName};
use signet_proto::keys::{EcdsaCurve, EcdsaSigner};
use signet_proto::sct;

fn cfg(t: IssuerType, domain: Option<&str>) -> IssuerConfig {
    IssuerConfig {
        url: "https://issuer.example.com".into(),
        audience: "sigstore".into(),
        issuer_type: t,
        subject_domain: domain.map(str::to_owned),
        server_url: None,
        jwks_file: None,
        ca_file: None,
    }
}

fn claims(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn precert_and_final_share_the_tbs() {
    let root: Arc<dyn CaSigner> = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
    let inter: Arc<dyn CaSigner> = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
    let certs = build_ca_certificates(
        &InitOptions::new(CaCurve::P256, "o", "cn", 1_700_000_000),
        root,
        inter.clone(),
        (&[1], &[2]),
    )
    .unwrap();
    let issuer = Issuer::from_ca_cert_der(
        &certs.intermediate_der.clone().into(),
        RcgenKey(inter.clone()),
    )
    .unwrap();
    let p = principal_from_claims(
        &cfg(IssuerType::Email, None),
        &claims(json!({"sub": "s", "email": "a@b.c", "email_verified": true})),
    )
    .unwrap();
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let leaf_key = EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap();
    let spec = LeafSpec {
        subject_spki_der: leaf_key.public_key().spki_der(),
        principal: &p,
        not_before: 1_750_000_000,
        validity_secs: 600,
        serial: &[0x11; 20],
    };
    let pre = build_precert(&spec, &issuer).unwrap();
    let poison = sct::oid_to_der(sct::OID_PRECERT_POISON).unwrap();
    let pre_exts = sct::certificate_extensions(&pre).unwrap();
    let last = pre_exts.last().unwrap();
    assert_eq!(last.oid, poison.as_slice());
    assert!(last.critical);
    assert_eq!(last.value, &sct::PRECERT_POISON_VALUE);

    let ct = EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap();
    let tbs = sct::tbs_without_extensions(&pre, &[sct::OID_PRECERT_POISON]).unwrap();
    let ikh = sct::issuer_key_hash(inter.spki_der());
    let s = sct::sign_precert_sct(&ct, 1_750_000_000_123, &ikh, &tbs, &[]).unwrap();
    let fin = build_final(&spec, std::slice::from_ref(&s), &issuer).unwrap();
    assert_eq!(
        sct::tbs_without_extensions(&fin, &[sct::OID_SCT_LIST]).unwrap(),
        tbs
    );
    assert_eq!(
        sct::verify_embedded_sct(&fin, inter.spki_der(), ct.public_key()).unwrap(),
        s
    );
    // Independent oracle: Python cryptography's tbs_precertificate_bytes of the final cert.
    if let Ok(out) = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom cryptography import x509\nc=x509.load_der_x509_certificate(bytes.fromhex(sys.argv[1]))\nprint(c.tbs_precertificate_bytes.hex())",
            &hex::encode(&fin),
        ])
        .output()
    {
        if out.status.success() {
            assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), hex::encode(&tbs));
        }
    }
    let id = Identity::from_der(&fin).unwrap();
    assert_eq!(id.sans, vec![SubjectAltName::Email("a@b.c".into())]);
}

#[test]
fn identity_mapping_per_issuer_type() {
    let k8s = principal_from_claims(
        &cfg(IssuerType::Kubernetes, None),
        &claims(json!({"sub": "system:serviceaccount:ns1:sa1",
                       "kubernetes.io": {"namespace": "ns1", "serviceaccount": {"name": "sa1", "uid": "x"}}})),
    )
    .unwrap();
    assert_eq!(
        k8s.san,
        San::Uri("https://kubernetes.io/namespaces/ns1/serviceaccounts/sa1".into())
    );
    assert_eq!(k8s.challenge, "system:serviceaccount:ns1:sa1");

    let uri_cfg = cfg(IssuerType::Uri, Some("example.com"));
    let u = principal_from_claims(
        &uri_cfg,
        &claims(json!({"sub": "https://example.com/users/1"})),
    )
    .unwrap();
    assert_eq!(u.san, San::Uri("https://example.com/users/1".into()));
    assert!(matches!(
        principal_from_claims(
            &uri_cfg,
            &claims(json!({"sub": "https://evil.com/users/1"}))
        ),
        Err(IdentityError::SubjectDomain { .. })
    ));

    let user = principal_from_claims(
        &cfg(IssuerType::Username, Some("example.com")),
        &claims(json!({"sub": "alice"})),
    )
    .unwrap();
    assert_eq!(user.san, San::Username("alice!example.com".into()));

    let gl = principal_from_claims(
        &IssuerConfig {
            url: "https://gitlab.com".into(),
            ..cfg(IssuerType::GitlabPipeline, None)
        },
        &claims(json!({
            "iss": "https://gitlab.com", "sub": "project_path:g/p:ref_type:branch:ref:main",
            "ci_config_ref_uri": "gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main",
            "ci_config_sha": "abc", "runner_environment": "gitlab-hosted", "project_path": "g/p",
            "sha": "def", "ref": "main", "ref_type": "branch", "project_id": 42,
            "namespace_path": "g", "namespace_id": "7", "pipeline_source": "push", "job_id": "99",
            "project_visibility": "public"
        })),
    )
    .unwrap();
    assert_eq!(
        gl.san,
        San::Uri("https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main".into())
    );
    let ext = |oid: &str| {
        gl.extensions
            .iter()
            .find(|(o, _)| *o == oid)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        ext(signet_proto::cert::OID_SOURCE_REPOSITORY_REF),
        Some("refs/heads/main")
    );
    assert_eq!(
        ext(signet_proto::cert::OID_SOURCE_REPOSITORY_IDENTIFIER),
        Some("42")
    );
    assert_eq!(
        ext(signet_proto::cert::OID_RUN_INVOCATION_URI),
        Some("https://gitlab.com/g/p/-/jobs/99")
    );

    assert_eq!(
        principal_from_claims(
            &cfg(IssuerType::Email, None),
            &claims(json!({"sub": "s", "email": "a@b.c"}))
        ),
        Err(IdentityError::EmailNotVerified)
    );
}

/// The claims of a GitHub Actions token that the CA certifies.
fn github_claims() -> serde_json::Value {
    json!({
        "sub": "repo:octo/r:ref:refs/heads/main",
        "job_workflow_ref": "octo/r/.github/workflows/w.yml@refs/heads/main",
        "repository": "octo/r", "sha": "abc", "ref": "refs/heads/main",
        "event_name": "push", "workflow": "w", "run_id": "1", "run_attempt": "1",
        "job_workflow_sha": "abc", "runner_environment": "github-hosted",
        "repository_id": "1", "repository_owner": "octo", "repository_owner_id": "2",
        "workflow_ref": "octo/r/.github/workflows/w.yml@refs/heads/main",
        "workflow_sha": "abc"
    })
}

/// Every issuer type refuses a claim holding a control or bidi formatting character before
/// anything is certified, wherever the claim lands (SAN, challenge or an extension), even from
/// a provider that calls the email verified.
#[test]
fn control_characters_are_refused_for_every_issuer_type() {
    let github = github_claims;
    let gitlab = || {
        json!({
            "iss": "https://gitlab.com", "sub": "project_path:g/p:ref_type:branch:ref:main",
            "ci_config_ref_uri": "gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main",
            "ci_config_sha": "abc", "runner_environment": "gitlab-hosted", "project_path": "g/p",
            "sha": "def", "ref": "main", "ref_type": "branch", "project_id": 42,
            "namespace_path": "g", "namespace_id": "7", "pipeline_source": "push", "job_id": "99"
        })
    };
    let email = || json!({"sub": "s", "email": "alice@example.com", "email_verified": true});
    let gitlab_cfg = IssuerConfig {
        url: "https://gitlab.com".into(),
        ..cfg(IssuerType::GitlabPipeline, None)
    };
    // Each case: (issuer, good claims, claim to spoil). The good claims map.
    let cases: Vec<(IssuerConfig, serde_json::Value, Vec<&str>)> = vec![
        (cfg(IssuerType::Email, None), email(), vec!["email", "sub"]),
        (
            cfg(IssuerType::GithubWorkflow, None),
            github(),
            vec![
                "job_workflow_ref",
                "repository",
                "workflow",
                "ref",
                "sha",
                "run_id",
                "sub",
            ],
        ),
        (
            gitlab_cfg,
            gitlab(),
            vec!["ci_config_ref_uri", "project_path", "ref", "job_id"],
        ),
        (
            cfg(IssuerType::Username, Some("example.com")),
            json!({"sub": "alice"}),
            vec!["sub"],
        ),
        (
            cfg(IssuerType::Uri, Some("example.com")),
            json!({"sub": "https://example.com/users/1"}),
            vec!["sub"],
        ),
    ];
    for (issuer, good, spoil) in cases {
        principal_from_claims(&issuer, &claims(good.clone()))
            .unwrap_or_else(|e| panic!("{:?} good claims refused: {e}", issuer.issuer_type));
        for name in spoil {
            for bad in [
                '\0',
                '\n',
                '\r',
                '\t',
                '\u{7f}',
                '\u{85}',
                '\u{9b}',
                '\u{202e}',
                '\u{2066}',
                '\u{2028}',
                '\u{200b}',
                '\u{200d}',
                '\u{ad}',
                '\u{feff}',
                '\u{2060}',
                '\u{e0041}',
            ] {
                let mut c = good.clone();
                let v = c[name].as_str().unwrap().to_owned();
                let at = v.len() / 2;
                c[name] = format!("{}{bad}{}", &v[..at], &v[at..]).into();
                let r = principal_from_claims(&issuer, &claims(c));
                assert!(
                    matches!(
                        r,
                        Err(IdentityError::ControlCharacter { .. }
                            | IdentityError::InvalidClaim { .. }
                            | IdentityError::SubjectDomain { .. })
                    ),
                    "{:?}: {name} with U+{:04X} gave {r:?}",
                    issuer.issuer_type,
                    u32::from(bad)
                );
            }
        }
    }
    // The message names the claim and the character.
    let mut c = email();
    c["email"] = "alice\u{0}@example.com".into();
    let e = principal_from_claims(&cfg(IssuerType::Email, None), &claims(c)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "claim email contains a control character (U+0000)"
    );
}

/// Values that are not control characters but are not what their type allows.
#[test]
fn malformed_identities_are_refused() {
    let email_cfg = cfg(IssuerType::Email, None);
    for bad in [
        "alice",
        "@example.com",
        "alice@",
        "alice@@example.com",
        "alice@bob@example.com",
        "al ice@example.com",
        "\"alice\"@example.com",
        "alice@exa mple.com",
        "alice@example..com",
        "alice@-example.com",
        "alice@example.com.",
        ".alice@example.com",
        "alice.@example.com",
        "alíce@example.com",
        "alice@example.com>",
        "<alice@example.com",
    ] {
        let c = json!({"sub": "s", "email": bad, "email_verified": true});
        assert_eq!(
            principal_from_claims(&email_cfg, &claims(c)),
            Err(IdentityError::InvalidClaim { claim: "email" }),
            "{bad:?}"
        );
    }
    for ok in ["alice@example.com", "a.b+tag@sub.example.co", "x@localhost"] {
        let c = json!({"sub": "s", "email": ok, "email_verified": true});
        assert!(
            principal_from_claims(&email_cfg, &claims(c)).is_ok(),
            "{ok}"
        );
    }

    // Kubernetes names that would change the URI's path.
    let k8s_cfg = cfg(IssuerType::Kubernetes, None);
    for (ns, sa) in [
        ("ns1/../x", "sa1"),
        ("ns1", "sa1/x"),
        ("NS1", "sa1"),
        ("ns1", "sa 1"),
        ("ns.1", "sa1"),
        ("ns1", "sa1?x"),
        ("ns1", "sa1#x"),
    ] {
        let c = json!({"sub": "system:serviceaccount:x:y",
                       "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": sa}}});
        assert!(
            principal_from_claims(&k8s_cfg, &claims(c)).is_err(),
            "{ns}/{sa}"
        );
    }

    // A GitHub workflow ref that is not a URL path as a parser prints it.
    let gh = cfg(IssuerType::GithubWorkflow, None);
    for bad_ref in [
        "octo/r/.github/workflows/w.yml@refs/heads/a b",
        "octo/r/.github/workflows/w.yml@refs/heads/\\x",
        "octo/r/.github/workflows/w.yml@refs/heads/é",
    ] {
        let mut c = github_claims();
        c["sub"] = "s".into();
        c["job_workflow_ref"] = bad_ref.into();
        assert_eq!(
            principal_from_claims(&gh, &claims(c)),
            Err(IdentityError::InvalidClaim {
                claim: "job_workflow_ref"
            }),
            "{bad_ref:?}"
        );
    }

    // A username with white space.
    assert!(principal_from_claims(
        &cfg(IssuerType::Username, Some("example.com")),
        &claims(json!({"sub": "al ice"}))
    )
    .is_err());
}

/// Issuer settings that go into certificates as written are refused with control or format
/// characters (a URL parser would drop a tab or newline the certificate keeps).
#[test]
fn issuer_settings_with_control_characters_are_refused() {
    use signet_ca::config::{CaConfig, ConfigError};
    let ok = CaConfig::with_issuers(vec![cfg(IssuerType::Username, Some("example.com"))]);
    ok.validate().unwrap();
    for (key, issuer) in [
        (
            "url",
            IssuerConfig {
                url: "https://issuer.exa\tmple.com".into(),
                ..cfg(IssuerType::Email, None)
            },
        ),
        (
            "subject_domain",
            cfg(IssuerType::Username, Some("example.com\u{202e}")),
        ),
        (
            "server_url",
            IssuerConfig {
                server_url: Some("https://ghe.example\n.com".into()),
                ..cfg(IssuerType::GithubWorkflow, None)
            },
        ),
    ] {
        let e = CaConfig::with_issuers(vec![issuer]).validate().unwrap_err();
        assert!(
            matches!(&e, ConfigError::ControlCharacter { key: k, .. } if *k == key),
            "{key}: {e}"
        );
    }
}
