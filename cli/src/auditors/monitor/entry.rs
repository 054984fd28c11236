//! What the monitor sees in one log entry: its kind, every signer's identity and time, and the
//! artifact digest. The reading itself is the pure, fuzzed [`signet_proto::observe`] (its module docs
//! give each field by kind); the monitor loop (`crate::auditors::monitor`) and `signet audit` call
//! [`observe`] on every entry of the entry bundles they fetch.
//!
//! This module re-exports it and holds the test utilities the monitor's unit tests share:
//! certificates from the real CA code (`signet_ca::issue`) and canonical Rekor bodies.

pub(crate) use signet_proto::observe::{observe, EntryKind, ObservedEntry, ObservedSigner};

/// Real certificates and Rekor bodies for the monitor's unit tests.
#[cfg(test)]
// Tests and test fixtures unwrap: a panic with its location is the failure report
#[allow(clippy::unwrap_used)]
pub(crate) mod testutil {
    use rcgen::{Issuer, KeyPair, PublicKeyData as _};
    use signet_ca::identity::{Principal, San};
    use signet_ca::issue::{build_precert, leaf_params, LeafSpec};
    use signet_proto::bundle::{Base64Bytes, DsseEnvelope, DsseSignature};
    use signet_proto::rekor::{
        DsseCanonical, DsseSignatureVerifier, DsseV001, HashedRekordV001, ProposedEntry,
    };

    /// A CA that issues Fulcio-profile certificates (via `signet_ca::issue`).
    pub(crate) struct TestCa {
        issuer: Issuer<'static, KeyPair>,
    }

    impl TestCa {
        pub(crate) fn new() -> Self {
            let key = KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "monitor test CA");
            Self {
                issuer: Issuer::new(params, key),
            }
        }

        fn principal(san: &str, issuer: &str) -> Principal {
            let san = if san.contains('@') {
                San::Email(san.to_owned())
            } else {
                San::Uri(san.to_owned())
            };
            Principal {
                issuer: issuer.to_owned(),
                challenge: san.value().to_owned(),
                subject: san.value().to_owned(),
                san,
                extensions: Vec::new(),
            }
        }

        /// A (precertificate DER, certificate DER) pair for `san` / `issuer`, valid from
        /// `not_before` for 10 minutes.
        pub(crate) fn issue(&self, san: &str, issuer: &str, not_before: i64) -> (Vec<u8>, Vec<u8>) {
            let subject = KeyPair::generate().unwrap();
            let spki = subject.subject_public_key_info();
            let principal = Self::principal(san, issuer);
            let spec = LeafSpec {
                subject_spki_der: &spki,
                principal: &principal,
                not_before,
                validity_secs: 600,
                serial: &[0x01, 0x02, 0x03],
            };
            let precert = build_precert(&spec, &self.issuer).unwrap();
            let subject_key = rcgen::SubjectPublicKeyInfo::from_der(&spki).unwrap();
            let cert = leaf_params(&spec)
                .unwrap()
                .signed_by(&subject_key, &self.issuer)
                .unwrap()
                .der()
                .to_vec();
            (precert, cert)
        }
    }

    pub(crate) fn cert_pem(der: &[u8]) -> Vec<u8> {
        pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec())).into_bytes()
    }

    /// A PEM public key and its hex SHA-256(SPKI).
    pub(crate) fn public_key_pem() -> (Vec<u8>, String) {
        use aws_lc_rs::digest::{digest, SHA256};
        let key = KeyPair::generate().unwrap();
        let spki = key.subject_public_key_info();
        (
            pem::encode(&pem::Pem::new("PUBLIC KEY", spki.clone())).into_bytes(),
            hex::encode(digest(&SHA256, &spki)),
        )
    }

    /// A canonical hashedrekord body for `digest` signed by the PEM key or certificate.
    pub(crate) fn hashedrekord(digest: [u8; 32], verifier_pem: Vec<u8>) -> Vec<u8> {
        ProposedEntry::HashedRekordV001(HashedRekordV001::new(
            &digest,
            vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
            verifier_pem,
        ))
        .canonical_bytes()
        .unwrap()
    }

    /// A canonical (stored-form) dsse body for `payload` signed by the PEM key or certificate.
    pub(crate) fn dsse(payload: &[u8], verifier_pem: Vec<u8>) -> Vec<u8> {
        dsse_signed(
            payload,
            vec![(
                vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
                verifier_pem,
            )],
        )
    }

    /// A canonical (stored-form) dsse body for `payload` with several `(signature, PEM key or
    /// certificate)` pairs; the log's canonical form sorts them by base64 signature text.
    pub(crate) fn dsse_signed(payload: &[u8], signatures: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<u8> {
        let envelope = DsseEnvelope {
            payload: Base64Bytes(payload.to_vec()),
            payload_type: "application/vnd.in-toto+json".into(),
            signatures: signatures
                .iter()
                .map(|(sig, _)| DsseSignature {
                    sig: Base64Bytes(sig.clone()),
                    keyid: String::new(),
                })
                .collect(),
        };
        let canonical = DsseCanonical::new(
            &envelope,
            signatures
                .into_iter()
                .map(|(sig, pem)| DsseSignatureVerifier {
                    signature: Base64Bytes(sig),
                    verifier: Base64Bytes(pem),
                })
                .collect(),
        )
        .unwrap();
        ProposedEntry::DsseV001(DsseV001::Canonical(canonical))
            .canonical_bytes()
            .unwrap()
    }

    /// A canonical (stored-form) intoto 0.0.2 body for `payload`, one envelope signature per
    /// PEM key or certificate, in this order (intoto keeps the submission order).
    pub(crate) fn intoto(payload: &[u8], verifier_pems: &[Vec<u8>]) -> Vec<u8> {
        use aws_lc_rs::digest::{digest, SHA256};
        use base64::Engine as _;
        let b64 = &base64::engine::general_purpose::STANDARD;
        let signatures: Vec<serde_json::Value> = verifier_pems
            .iter()
            .enumerate()
            .map(|(i, pem)| {
                serde_json::json!({
                    "publicKey": b64.encode(pem),
                    "sig": b64.encode(b64.encode([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, u8::try_from(i).unwrap()])),
                })
            })
            .collect();
        let body = serde_json::json!({
            "apiVersion": "0.0.2",
            "kind": "intoto",
            "spec": {"content": {
                "envelope": {"payloadType": "application/vnd.in-toto+json", "signatures": signatures},
                "hash": {"algorithm": "sha256", "value": "ab".repeat(32)},
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(digest(&SHA256, payload))},
            }},
        });
        signet_proto::jcs::to_vec(&body).unwrap()
    }

    /// A canonical precert body (as `signet_log::entries::precert_entry` writes it).
    pub(crate) fn precert(chain: &[&[u8]]) -> Vec<u8> {
        signet_proto::observe::precert_body(chain)
    }
}

#[cfg(test)]
// Tests and test fixtures unwrap: a panic with its location is the failure report
#[allow(clippy::unwrap_used)]
mod tests {
    use super::testutil::*;
    use super::*;

    const ISSUER: &str = "https://accounts.example.com";
    const NOT_BEFORE: i64 = 1_790_000_000;

    /// What `signet_ca` issues (URI and email SANs, the .1.8 issuer extension, a poisoned
    /// precertificate) is read back by `observe` in every entry kind that carries it. The
    /// parsing itself is unit-tested in `signet_proto::observe`.
    #[test]
    fn ca_issued_certificates_in_every_kind() {
        let ca = TestCa::new();
        let san = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
        let (pre, cert) = ca.issue(san, ISSUER, NOT_BEFORE + 60);
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
        for (body, kind) in [
            (
                hashedrekord([0xab; 32], cert_pem(&cert)),
                EntryKind::HashedRekord,
            ),
            (dsse(payload, cert_pem(&cert)), EntryKind::Dsse),
            (precert(&[&pre]), EntryKind::Precert),
        ] {
            let e = observe(7, &body).unwrap();
            assert_eq!((e.index, &e.kind), (7, &kind));
            let [s] = e.signers.as_slice() else {
                panic!("{kind:?}: {:?}", e.signers)
            };
            assert_eq!(s.san.as_deref(), Some(san), "{kind:?}");
            assert_eq!(s.issuer.as_deref(), Some(ISSUER), "{kind:?}");
            assert_eq!(s.time, Some(NOT_BEFORE + 60), "{kind:?}");
            assert_eq!(s.key_id, None, "{kind:?}");
            assert!(s.has_certificate(), "{kind:?}");
        }
        let (_, cert) = ca.issue("alice@example.com", ISSUER, NOT_BEFORE);
        let e = observe(0, &hashedrekord([0xab; 32], cert_pem(&cert))).unwrap();
        assert_eq!(e.signers[0].san.as_deref(), Some("alice@example.com"));
        assert_eq!(e.digest, Some(format!("sha256:{}", "ab".repeat(32))));
    }

    #[test]
    fn generated_keys_are_keyed_entries() {
        let (key, key_id) = public_key_pem();
        for body in [
            hashedrekord([1; 32], key.clone()),
            dsse(b"{}", key.clone()),
            intoto(b"{}", &[key]),
        ] {
            let e = observe(0, &body).unwrap();
            let [s] = e.signers.as_slice() else {
                panic!("{:?}", e.signers)
            };
            assert_eq!(s.key_id.as_deref(), Some(key_id.as_str()));
            assert_eq!((&s.san, &s.issuer, s.time), (&None, &None, None));
            assert!(!s.has_certificate());
        }
    }

    /// The multi-signature bodies of the test utilities: every signer, in the stored order
    /// (dsse sorted by signature text, intoto as submitted).
    #[test]
    fn multi_signature_bodies_report_every_signer() {
        let ca = TestCa::new();
        let (_, cert) = ca.issue("alice@example.com", ISSUER, NOT_BEFORE);
        let (key, key_id) = public_key_pem();
        // Signature text "AQ==" sorts before "Ag==": the key first, then the certificate.
        let e = observe(
            0,
            &dsse_signed(
                b"{}",
                vec![(vec![2], cert_pem(&cert)), (vec![1], key.clone())],
            ),
        )
        .unwrap();
        assert_eq!(e.signers.len(), 2);
        assert_eq!(e.signers[0].key_id.as_deref(), Some(key_id.as_str()));
        assert_eq!(e.signers[1].san.as_deref(), Some("alice@example.com"));
        let e = observe(0, &intoto(b"{}", &[cert_pem(&cert), key])).unwrap();
        assert_eq!(e.kind, EntryKind::Other("intoto".into()));
        assert_eq!(e.signers[0].san.as_deref(), Some("alice@example.com"));
        assert_eq!(e.signers[1].key_id.as_deref(), Some(key_id.as_str()));
    }
}
