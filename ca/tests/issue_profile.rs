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
