//! `cert::Identity` against real Fulcio certificates (vendored in `testdata/sigstore/public/`;
//! a missing file is a test failure) and the OID table invariants.
#![allow(clippy::unwrap_used)]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::cert::{self, Identity, SubjectAltName, ValueEncoding};

const PUBLIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/sigstore/public");

/// The leaf certificate of a vendored bundle.
fn leaf(name: &str) -> Vec<u8> {
    let path = format!("{PUBLIC}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("test vector {path}: {e}"));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let vm = &v["verificationMaterial"];
    let b = vm["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
        .unwrap_or_else(|| panic!("{path}: no leaf certificate"));
    B64.decode(b).unwrap()
}

#[test]
fn oid_table_is_consistent() {
    assert_eq!(cert::FULCIO_OIDS.len(), 23);
    for row in cert::FULCIO_OIDS {
        let last: u64 = *cert::oid_arcs(row.oid).unwrap().last().unwrap();
        let raw = (1..=6).contains(&last);
        assert_eq!(row.encoding == ValueEncoding::RawUtf8, raw, "{}", row.oid);
        assert!(row.oid.starts_with("1.3.6.1.4.1.57264.1."));
    }
    assert_eq!(
        cert::encode_extension_value(cert::OID_ISSUER_V1, "x").unwrap(),
        b"x"
    );
    assert_eq!(
        cert::encode_extension_value(cert::OID_ISSUER_V2, "x").unwrap(),
        [0x0c, 1, b'x']
    );
    let long = "a".repeat(300);
    let enc = cert::der_utf8_string(&long);
    assert_eq!(&enc[..4], &[0x0c, 0x82, 0x01, 0x2c]);
    assert_eq!(cert::parse_der_utf8_string(&enc).unwrap(), long);
    assert!(cert::parse_der_utf8_string(&[0x0c, 0x81, 0x05, b'a']).is_err());
    assert!(cert::encode_extension_value("1.2.3", "x").is_err());
}

#[test]
fn real_fulcio_identities() {
    {
        let der = leaf("bundle_v3_rekor1.json");
        let id = Identity::from_der(&der).unwrap();
        assert_eq!(
            id.sans,
            vec![SubjectAltName::Email("william@yossarian.net".into())]
        );
        assert_eq!(id.issuer.as_deref(), Some("https://github.com/login/oauth"));
    }
    {
        let der = leaf("sigstore_rs_bundle_v03.json");
        let id = Identity::from_der(&der).unwrap();
        let san = "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";
        assert_eq!(id.sans, vec![SubjectAltName::Uri(san.into())]);
        assert_eq!(
            id.issuer.as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
        assert_eq!(
            id.extension(cert::OID_ISSUER_V1),
            Some("https://token.actions.githubusercontent.com")
        );
        assert_eq!(id.build_signer_uri(), Some(san));
        assert_eq!(
            id.source_repository_uri(),
            Some("https://github.com/kubewarden/kubewarden-controller")
        );
        assert_eq!(id.source_repository_ref(), Some("refs/tags/v1.34.0"));
        assert_eq!(id.build_trigger(), Some("push"));
        // This production certificate predates .1.24; it has .1.1-.1.6 and .1.8-.1.22.
        assert_eq!(id.token_subject(), None);
        assert_eq!(id.extensions.len(), 21);
        assert_eq!(
            id.extension(cert::OID_SOURCE_REPOSITORY_IDENTIFIER),
            Some("318490971")
        );
        assert_eq!(
            id.extension(cert::OID_GITHUB_WORKFLOW_NAME),
            Some("Release")
        );
    }
}

/// A self-signed certificate with `sans` (rcgen) or, with `raw_san`, that SAN extension
/// value, plus the .1.8 issuer extension.
fn built(sans: Vec<rcgen::SanType>, raw_san: Option<Vec<u8>>) -> Vec<u8> {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::default();
    p.subject_alt_names = sans;
    if let Some(der) = raw_san {
        p.custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[2, 5, 29, 17],
                der,
            ));
    }
    p.custom_extensions
        .push(rcgen::CustomExtension::from_oid_content(
            &cert::oid_arcs(cert::OID_ISSUER_V2).unwrap(),
            cert::der_utf8_string("https://issuer.example"),
        ));
    p.self_signed(&key).unwrap().der().to_vec()
}

/// Issue 15: only the SAN types Sigstore clients accept name a signer (email, URI, Fulcio's
/// username otherName); a dNSName, iPAddress, registeredID or another otherName type is not
/// read as one, even when it is the only SAN.
#[test]
fn only_signer_san_types_are_identities() {
    use rcgen::{OtherNameValue, SanType};
    let alice = "alice@example.com";
    let none: Vec<(Vec<SanType>, Option<Vec<u8>>)> = vec![
        (vec![SanType::DnsName(alice.try_into().unwrap())], None),
        (vec![SanType::IpAddress([10, 0, 0, 1].into())], None),
        (
            vec![SanType::OtherName((
                vec![1, 3, 6, 1, 4, 1, 57264, 1, 8],
                OtherNameValue::Utf8String(alice.into()),
            ))],
            None,
        ),
        // registeredID [8] 1.2.3.4.
        (vec![], Some(vec![0x30, 0x05, 0x88, 0x03, 0x2a, 0x03, 0x04])),
    ];
    for (sans, raw) in none {
        let what = format!("{sans:?} {raw:?}");
        let id = Identity::from_der(&built(sans, raw)).unwrap();
        assert_eq!(id.sans, vec![], "{what}");
        assert_eq!(id.san(), None, "{what}");
        // The rest of the identity is still read.
        assert_eq!(id.issuer.as_deref(), Some("https://issuer.example"));
    }
    // Next to signer SANs, other types are skipped; signer SANs keep certificate order.
    let id = Identity::from_der(&built(
        vec![
            SanType::DnsName("victim.example.com".try_into().unwrap()),
            SanType::URI("https://ci.example/wf".try_into().unwrap()),
            SanType::IpAddress([10, 0, 0, 1].into()),
            SanType::Rfc822Name(alice.try_into().unwrap()),
            SanType::OtherName((
                cert::oid_arcs(cert::OID_OTHERNAME_SAN).unwrap(),
                OtherNameValue::Utf8String("alice!example.com".into()),
            )),
        ],
        None,
    ))
    .unwrap();
    assert_eq!(
        id.sans,
        vec![
            SubjectAltName::Uri("https://ci.example/wf".into()),
            SubjectAltName::Email(alice.into()),
            SubjectAltName::OtherName("alice!example.com".into()),
        ]
    );
    assert_eq!(id.san(), Some("https://ci.example/wf"));
}
