//! Revocation (issue 19): CRLs signed by the trust root's CAs, and the rule that a
//! certificate revoked at or before the verified signing time is refused while a signature
//! made before the revocation still verifies. Bundles and CAs are built in-process
//! (tests/common); CRLs are made with rcgen, signed by the fixture's intermediate or root.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{build, Fixture, Knobs, SIGNING_TIME};
use rcgen::{
    CertificateRevocationListParams, CrlDistributionPoint, CrlIssuingDistributionPoint, Issuer,
    KeyIdMethod, KeyPair, RevocationReason, RevokedCertParams, SerialNumber,
};
use signet_verifier::error::{CertificateError, TrustError};
use signet_verifier::{
    verify, Artifact, TrustMaterial, UnixTime, VerificationError, VerifiedBundle,
};

/// The fixture leaf's serial number.
const LEAF_SERIAL: [u8; 4] = [0x01, 0x23, 0x45, 0x67];

/// rcgen's time type at Unix second `t` (the verifier crate does not depend on `time`).
macro_rules! odt {
    ($t:expr) => {
        rcgen::date_time_ymd(1970, 1, 1)
            + std::time::Duration::from_secs(u64::try_from($t).unwrap())
    };
}

struct Entry {
    serial: Vec<u8>,
    revoked: i64,
    invalid_from: Option<i64>,
    reason: Option<RevocationReason>,
}

fn entry(serial: &[u8], revoked: i64) -> Entry {
    Entry {
        serial: serial.to_vec(),
        revoked,
        invalid_from: None,
        reason: Some(RevocationReason::KeyCompromise),
    }
}

/// A CRL signed by `issuer` (certificate DER, PKCS#8 key DER).
fn crl(issuer: &(Vec<u8>, Vec<u8>), entries: &[Entry], idp: bool) -> Vec<u8> {
    let key = KeyPair::try_from(issuer.1.as_slice()).unwrap();
    let issuer = Issuer::from_ca_cert_der(&issuer.0.clone().into(), key).unwrap();
    CertificateRevocationListParams {
        this_update: odt!(SIGNING_TIME + 7200),
        next_update: odt!(SIGNING_TIME + 86400),
        crl_number: SerialNumber::from(7u64),
        issuing_distribution_point: idp.then(|| CrlIssuingDistributionPoint {
            distribution_point: CrlDistributionPoint {
                uris: vec!["http://crl.example/ca.crl".to_owned()],
            },
            scope: None,
        }),
        revoked_certs: entries
            .iter()
            .map(|e| RevokedCertParams {
                serial_number: SerialNumber::from_slice(&e.serial),
                revocation_time: odt!(e.revoked),
                reason_code: e.reason,
                invalidity_date: e.invalid_from.map(|t| odt!(t)),
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap()
    .der()
    .to_vec()
}

fn run(f: &Fixture, crls: &[Vec<u8>]) -> Result<VerifiedBundle, VerificationError> {
    let mut trust = f.trust();
    for c in crls {
        trust.add_crl(c).unwrap();
    }
    verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        &trust,
        Some(UnixTime::from_unix_seconds(SIGNING_TIME + 3600)),
    )
}

fn revoked_message(r: Result<VerifiedBundle, VerificationError>) -> String {
    match r {
        Err(VerificationError::Certificate(e @ CertificateError::Revoked(_))) => e.to_string(),
        Err(other) => panic!("expected a revocation refusal, got: {other}"),
        Ok(_) => panic!("a revoked certificate verified"),
    }
}

fn intermediate_serial(f: &Fixture) -> Vec<u8> {
    let (_, c) = x509_parser::parse_x509_certificate(&f.intermediate.0).unwrap();
    c.raw_serial().to_vec()
}

/// The signing certificate revoked exactly at the signing time, or before it, is refused
/// with a message naming the serial, the issuer, the revocation, the reason and the time;
/// revoked one second after the signing time (a signature made before the revocation) it
/// verifies; a CRL listing other serials changes nothing.
#[test]
fn leaf_revoked_at_the_edges() {
    let f = build(&Knobs::default());
    run(&f, &[]).unwrap();
    let other = crl(&f.intermediate, &[entry(&[0x99], SIGNING_TIME - 10)], false);
    run(&f, &[other]).unwrap();
    for (at, refused) in [
        (SIGNING_TIME - 1, true),
        (SIGNING_TIME, true),
        (SIGNING_TIME + 1, false),
    ] {
        let c = crl(&f.intermediate, &[entry(&LEAF_SERIAL, at)], false);
        let got = run(&f, &[c]);
        if !refused {
            got.unwrap_or_else(|e| panic!("revoked at {at}: {e}"));
            continue;
        }
        let msg = revoked_message(got);
        assert!(
            msg.contains("the signing certificate (serial 01234567) was revoked by")
                && msg.contains("signet-test-intermediate")
                && msg.contains("(keyCompromise)")
                && msg.contains("at or before the signing time 2026-01-01T00:00:00Z"),
            "{msg}"
        );
    }
}

/// RFC 5280 `invalidityDate`: a revocation made after the signature but dated back before it
/// (a key found compromised late) refuses it; without the date, the same entry does not.
#[test]
fn invalidity_date_dates_the_revocation_back() {
    let f = build(&Knobs::default());
    let mut e = entry(&LEAF_SERIAL, SIGNING_TIME + 100);
    run(&f, &[crl(&f.intermediate, std::slice::from_ref(&e), false)]).unwrap();
    e.invalid_from = Some(SIGNING_TIME);
    let msg = revoked_message(run(&f, &[crl(&f.intermediate, &[e], false)]));
    assert!(msg.contains("from 2026-01-01T00:00:00Z"), "{msg}");
    // No reason code: reported as unspecified, refused all the same.
    let mut e = entry(&LEAF_SERIAL, SIGNING_TIME);
    e.reason = None;
    let msg = revoked_message(run(&f, &[crl(&f.intermediate, &[e], false)]));
    assert!(msg.contains("(unspecified)"), "{msg}");
}

/// The intermediate revoked by the root before the signing time refuses every certificate it
/// issued; after the signing time it does not. A leaf serial on the root's CRL is not the
/// leaf's revocation (only its issuer revokes it).
#[test]
fn intermediate_revoked_by_the_root() {
    let f = build(&Knobs::default());
    let serial = intermediate_serial(&f);
    let c = crl(&f.root, &[entry(&serial, SIGNING_TIME)], false);
    let msg = revoked_message(run(&f, &[c]));
    assert!(
        msg.contains("the CA certificate") && msg.contains("signet-test-intermediate"),
        "{msg}"
    );
    assert!(msg.contains("signet-test-root"), "{msg}");
    let c = crl(&f.root, &[entry(&serial, SIGNING_TIME + 1)], false);
    run(&f, &[c]).unwrap();
    let c = crl(&f.root, &[entry(&LEAF_SERIAL, SIGNING_TIME - 100)], false);
    run(&f, &[c]).unwrap();
    // The intermediate's serial on its own CRL is not the intermediate's revocation either.
    let c = crl(
        &f.intermediate,
        &[entry(&serial, SIGNING_TIME - 100)],
        false,
    );
    run(&f, &[c]).unwrap();
}

/// Only a CRL signed by a trusted CA certificate named as its issuer is accepted; one with a
/// critical extension (an issuing distribution point) or trailing bytes is refused; nothing
/// is added when it is refused.
#[test]
fn untrusted_or_unsupported_crls_are_refused() {
    let f = build(&Knobs::default());
    let other = build(&Knobs::default());
    let mut trust: TrustMaterial = f.trust();
    // Same issuer name, another key.
    let forged = crl(
        &other.intermediate,
        &[entry(&LEAF_SERIAL, SIGNING_TIME)],
        false,
    );
    let err = trust.add_crl(&forged).unwrap_err();
    assert!(matches!(err, TrustError::Crl { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("is not signed by that trusted CA certificate"),
        "{err}"
    );
    // An issuer the trust root does not have.
    let mut stranger = other.intermediate.clone();
    {
        let key = KeyPair::try_from(stranger.1.as_slice()).unwrap();
        let mut p = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, "stranger");
        p.distinguished_name = dn;
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.key_usages = vec![
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::KeyCertSign,
        ];
        stranger.0 = p.self_signed(&key).unwrap().der().to_vec();
    }
    let err = trust
        .add_crl(&crl(&stranger, &[entry(&LEAF_SERIAL, SIGNING_TIME)], false))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no CA certificate of the trust root"),
        "{err}"
    );
    // Critical issuing distribution point.
    let err = trust
        .add_crl(&crl(
            &f.intermediate,
            &[entry(&LEAF_SERIAL, SIGNING_TIME)],
            true,
        ))
        .unwrap_err();
    assert!(
        err.to_string().contains("critical extension 2.5.29.28"),
        "{err}"
    );
    // Trailing bytes, and not a CRL at all.
    let mut good = crl(&f.intermediate, &[entry(&LEAF_SERIAL, SIGNING_TIME)], false);
    good.push(0);
    let err = trust.add_crl(&good).unwrap_err();
    assert!(err.to_string().contains("1 trailing bytes"), "{err}");
    assert!(trust.add_crl(&f.intermediate.0).is_err());
    assert!(trust.crls().is_empty());
    // The untouched trust material still verifies; the good CRL is then accepted and applies.
    good.pop();
    let signer = trust.add_crl(&good).unwrap();
    assert!(signer.contains("signet-test-intermediate"), "{signer}");
    assert_eq!(trust.crls()[0].revoked.len(), 1);
    assert_eq!(trust.crls()[0].revoked[0].serial, LEAF_SERIAL);
    let got = verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        &trust,
        Some(UnixTime::from_unix_seconds(SIGNING_TIME + 3600)),
    );
    revoked_message(got);
}

/// `TrustMaterial::leaf_revocation` (what `signet monitor` asks of each logged certificate):
/// nothing without CRLs or for a leaf no trusted CA issued; the leaf's own entry; the
/// intermediate's entry on the root's CRL; the earlier of the two when both apply.
#[test]
fn leaf_revocation_names_the_earliest_applying_entry() {
    use base64::Engine as _;
    let f = build(&Knobs::default());
    let leaf = base64::engine::general_purpose::STANDARD
        .decode(
            f.bundle_json["verificationMaterial"]["certificate"]["rawBytes"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(f.trust().leaf_revocation(&leaf), None);
    let with = |crls: &[Vec<u8>]| {
        let mut trust = f.trust();
        for c in crls {
            trust.add_crl(c).unwrap();
        }
        trust.leaf_revocation(&leaf)
    };
    let leaf_crl = crl(
        &f.intermediate,
        &[entry(&LEAF_SERIAL, SIGNING_TIME + 5)],
        false,
    );
    let r = with(std::slice::from_ref(&leaf_crl)).unwrap();
    assert_eq!(
        (r.certificate.as_str(), r.serial.as_str(), r.from),
        ("the signing certificate", "01234567", SIGNING_TIME + 5)
    );
    assert_eq!(r.reason, "keyCompromise");
    let serial = intermediate_serial(&f);
    let root_crl = crl(&f.root, &[entry(&serial, SIGNING_TIME - 5)], false);
    let r = with(&[leaf_crl.clone(), root_crl]).unwrap();
    assert!(r.certificate.starts_with("the CA certificate"), "{r:?}");
    assert_eq!(r.from, SIGNING_TIME - 5);
    // A CRL for other serials, and a certificate of another CA (same names, other keys):
    // nothing applies.
    assert_eq!(
        with(&[crl(&f.intermediate, &[entry(&[0x99], 1)], false)]),
        None
    );
    let stranger = build(&Knobs::default());
    let mut trust = f.trust();
    trust
        .add_crl(&crl(&f.intermediate, &[entry(&LEAF_SERIAL, 1)], false))
        .unwrap();
    let other_leaf = base64::engine::general_purpose::STANDARD
        .decode(
            stranger.bundle_json["verificationMaterial"]["certificate"]["rawBytes"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(trust.leaf_revocation(&other_leaf), None);
}
