//! RFC 6962 SCT codec, signed-data layout, precert TBS rewriting and embedded-SCT verification,
//! checked against real Fulcio certificates (vendored in `testdata/sigstore/public/`) and
//! against Python `cryptography`'s `tbs_precertificate_bytes` as an independent oracle. A
//! missing file, or a missing `python3` with `cryptography`, is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};

use aws_lc_rs::rand::SystemRandom;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::keys::{EcdsaCurve, EcdsaSigner, PublicKey};
use signet_proto::sct::{self, DigitallySigned, Sct, SctError, OID_PRECERT_POISON, OID_SCT_LIST};

const PUBLIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/sigstore/public");

fn sample_sct() -> Sct {
    Sct {
        log_id: [7u8; 32],
        timestamp: 0x0102_0304_0506_0708,
        extensions: vec![],
        signature: DigitallySigned {
            hash_alg: sct::HASH_SHA256,
            sig_alg: sct::SIG_ECDSA,
            signature: vec![0x30, 0x02, 0x01, 0x00],
        },
    }
}

#[test]
fn sct_tls_layout_and_roundtrip() {
    let s = sample_sct();
    let enc = s.encode().unwrap();
    // version, log id, timestamp, ext len, hash, sig, sig len, sig
    assert_eq!(enc.len(), 1 + 32 + 8 + 2 + 2 + 2 + 4);
    assert_eq!(enc[0], 0);
    assert_eq!(&enc[1..33], &[7u8; 32]);
    assert_eq!(&enc[33..41], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&enc[41..43], &[0, 0]);
    assert_eq!(&enc[43..47], &[4, 3, 0, 4]);
    assert_eq!(Sct::decode(&enc).unwrap(), s);

    let list = sct::encode_sct_list(&[s.clone(), s.clone()]).unwrap();
    let one = u16::try_from(enc.len()).unwrap();
    assert_eq!(&list[..2], &(2 * (one + 2)).to_be_bytes());
    assert_eq!(
        sct::decode_sct_list(&list).unwrap(),
        vec![s.clone(), s.clone()]
    );

    let ext = sct::encode_sct_list_extension(std::slice::from_ref(&s)).unwrap();
    assert_eq!(ext[0], 0x04);
    assert_eq!(
        sct::decode_sct_list_extension(&ext).unwrap(),
        vec![s.clone()]
    );

    let resp = s.to_add_chain_response().unwrap();
    let json = serde_json::to_value(&resp).unwrap();
    assert_eq!(json["sct_version"], 0);
    assert_eq!(json["id"], B64.encode([7u8; 32]));
    assert_eq!(Sct::from_add_chain_response(&resp).unwrap(), s);
}

#[test]
fn sct_decode_rejects_bad_input() {
    let enc = sample_sct().encode().unwrap();
    for cut in [0, 1, 33, 41, 44, enc.len() - 1] {
        assert!(
            matches!(Sct::decode(&enc[..cut]), Err(SctError::Truncated { .. })),
            "cut at {cut}"
        );
    }
    let mut extra = enc.clone();
    extra.push(0);
    assert!(matches!(
        Sct::decode(&extra),
        Err(SctError::TrailingBytes { count: 1, .. })
    ));
    let mut v2 = enc;
    v2[0] = 1;
    assert_eq!(
        Sct::decode(&v2),
        Err(SctError::UnsupportedVersion { version: 1 })
    );
    assert!(sct::decode_sct_list_extension(&[0x03, 0x01, 0x00]).is_err());
}

#[test]
fn precert_signed_data_layout() {
    let tbs = vec![0xAAu8; 300];
    let data = sct::precert_signed_data(0x11, &[0x22; 32], &tbs, &[9, 9]).unwrap();
    assert_eq!(&data[..2], &[0, 0]); // v1, certificate_timestamp
    assert_eq!(&data[2..10], &0x11u64.to_be_bytes());
    assert_eq!(&data[10..12], &[0, 1]); // precert_entry
    assert_eq!(&data[12..44], &[0x22; 32]);
    assert_eq!(&data[44..47], &[0x00, 0x01, 0x2c]); // u24 300
    assert_eq!(&data[47..347], tbs.as_slice());
    assert_eq!(&data[347..], &[0, 2, 9, 9]);
}

#[test]
fn oid_encoding() {
    assert_eq!(
        sct::oid_to_der(OID_SCT_LIST).unwrap(),
        vec![0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02]
    );
    assert_eq!(
        sct::oid_to_der("1.3.6.1.4.1.57264.1.8").unwrap(),
        vec![0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08]
    );
    assert!(sct::oid_to_der("1").is_err());
    assert!(sct::oid_to_der("1.x").is_err());
}

#[test]
fn sign_and_verify_roundtrip_with_tamper() {
    let rng = SystemRandom::new();
    let log = EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap();
    let tbs = b"\x30\x03\x02\x01\x01".to_vec();
    let ikh = sct::issuer_key_hash(b"issuer spki");
    let s = sct::sign_precert_sct(&log, 1_700_000_000_000, &ikh, &tbs, &[]).unwrap();
    assert_eq!(s.log_id, log.public_key().key_id());
    s.verify_precert(log.public_key(), &ikh, &tbs).unwrap();

    let mut bad_ts = s.clone();
    bad_ts.timestamp += 1;
    assert_eq!(
        bad_ts.verify_precert(log.public_key(), &ikh, &tbs),
        Err(SctError::BadSignature)
    );
    assert_eq!(
        s.verify_precert(log.public_key(), &[0u8; 32], &tbs),
        Err(SctError::BadSignature)
    );
    let other = EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap();
    assert!(matches!(
        s.verify_precert(other.public_key(), &ikh, &tbs),
        Err(SctError::NoSctFromLog { .. })
    ));
}

fn public_json(name: &str) -> serde_json::Value {
    let p = Path::new(PUBLIC).join(name);
    let text =
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("test vector {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

fn bundle_leaf(bundle: &serde_json::Value) -> Vec<u8> {
    let vm = &bundle["verificationMaterial"];
    let b64 = vm["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
        .unwrap();
    B64.decode(b64).unwrap()
}

/// Python `cryptography`'s `tbs_precertificate_bytes`; panics when python3 or the module is
/// missing (`pip install cryptography`).
fn python_tbs_precert(cert_der: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom cryptography import x509\n\
             c = x509.load_der_x509_certificate(sys.stdin.buffer.read())\n\
             sys.stdout.buffer.write(c.tbs_precertificate_bytes)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 is needed as the TBS oracle: {e}"));
    child.stdin.take().unwrap().write_all(cert_der).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python3 with the `cryptography` module is needed as the TBS oracle (pip install cryptography)"
    );
    out.stdout
}

fn spki_of(cert_der: &[u8]) -> Vec<u8> {
    use x509_parser::prelude::*;
    let (_, c) = X509Certificate::from_der(cert_der).unwrap();
    c.tbs_certificate.subject_pki.raw.to_vec()
}

/// Real Fulcio leaves: the embedded SCT verifies against exactly the ctlog key named by its
/// log id, with the issuing intermediate from the trust root; the rewritten TBS matches
/// Python `cryptography`; a flipped TBS byte breaks it.
#[test]
fn real_fulcio_certificates() {
    let cases = [
        ("bundle_v3_rekor1.json", "staging_trusted_root.json"),
        ("sigstore_rs_bundle_v03.json", "trusted_root.json"),
        ("bundle_v3_rekor2_dsse.json", "staging_trusted_root.json"),
    ];
    let mut checked = 0;
    for (bundle_name, root_name) in cases {
        let (bundle, root) = (public_json(bundle_name), public_json(root_name));
        let leaf = bundle_leaf(&bundle);
        let tbs = sct::tbs_without_extensions(&leaf, &[OID_SCT_LIST, OID_PRECERT_POISON]).unwrap();
        // The SCT extension is gone and nothing else changed.
        let exts_before = sct::certificate_extensions(&leaf).unwrap().len();
        let exts_after = sct::certificate_extensions(&tbs).unwrap().len();
        assert_eq!(exts_after + 1, exts_before, "{bundle_name}");
        assert_eq!(
            tbs,
            python_tbs_precert(&leaf),
            "{bundle_name}: differs from cryptography's tbs_precertificate_bytes"
        );
        // Removing nothing is the identity on the TBS.
        let tbs_all = sct::tbs_without_extensions(&leaf, &[]).unwrap();
        assert_eq!(
            sct::tbs_without_extensions(&tbs_all, &[OID_SCT_LIST]).unwrap(),
            tbs
        );

        let ctlogs: Vec<PublicKey> = root["ctlogs"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| {
                let der = B64.decode(l["publicKey"]["rawBytes"].as_str()?).ok()?;
                PublicKey::from_spki_der(&der).ok()
            })
            .collect();
        let intermediates: Vec<Vec<u8>> = root["certificateAuthorities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|ca| {
                B64.decode(
                    ca["certChain"]["certificates"][0]["rawBytes"]
                        .as_str()
                        .unwrap(),
                )
                .unwrap()
            })
            .collect();
        let mut ok = 0;
        for log in &ctlogs {
            for inter in &intermediates {
                if sct::verify_embedded_sct(&leaf, &spki_of(inter), log).is_ok() {
                    ok += 1;
                }
            }
        }
        assert_eq!(
            ok, 1,
            "{bundle_name}: expected exactly one (log, CA) pair to verify"
        );

        // Flip one byte inside the validity of the leaf: the SCT no longer verifies.
        let mut tampered = leaf.clone();
        let pos = tampered.windows(2).position(|w| w == [0x17, 0x0d]).unwrap();
        tampered[pos + 5] ^= 1;
        for log in &ctlogs {
            for inter in &intermediates {
                assert!(sct::verify_embedded_sct(&tampered, &spki_of(inter), log).is_err());
            }
        }
        checked += 1;
    }
    assert_eq!(checked, cases.len());
}

/// Fuzz findings (fuzz corpus/cert/regression-*): DER that is a SEQUENCE but not a
/// certificate or TBS is refused instead of being "rewritten" into something that re-parses as
/// a different structure; removing extensions from a real TBS stays idempotent.
#[test]
fn tbs_rewrite_refuses_non_tbs_input() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    // SEQUENCE { SEQUENCE {}, OID, BIT STRING }: no version or serial where a TBS starts.
    let empty_tbs = b64
        .decode("MCowAAYDK2VwAyEAl3TzNUAkj7Xbh2Ou+Y+COZmcpjvNSg13c87X7Qy0/kA=")
        .unwrap();
    assert!(sct::tbs_without_extensions(&empty_tbs, &[]).is_err());
    assert!(sct::certificate_extensions(&empty_tbs).is_err());
    // A TBS whose first field is a SEQUENCE (a mutated leaf of the fuzz corpus).
    let mutated = include_bytes!("../../fuzz/corpus/cert/regression-tbs-starts-with-sequence");
    if let Ok(once) = sct::tbs_without_extensions(mutated, &[OID_SCT_LIST]) {
        assert_eq!(
            sct::tbs_without_extensions(&once, &[OID_SCT_LIST]).unwrap(),
            once,
            "removing extensions is idempotent"
        );
    }
}
