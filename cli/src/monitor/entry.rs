//! What the monitor sees in one log entry: its kind, the signer's identity, the artifact digest
//! and a time. The reading itself is the pure, fuzzed [`signet_proto::observe`] (its module docs
//! give each field by kind); the monitor loop (`crate::monitor`) and `signet audit` call
//! [`observe`] on every entry of the entry bundles they fetch.
//!
//! This module re-exports it and holds the test utilities the monitor's unit tests share:
//! certificates from the real CA code (`signet_ca::issue`) and canonical Rekor bodies.

pub(crate) use signet_proto::observe::{observe, EntryKind, ObservedEntry};

/// Real certificates and Rekor bodies for the monitor's unit tests.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod testutil {
    use rcgen::{Issuer, KeyPair, PublicKeyData as _};
    use signet_ca::identity::{Principal, San};
    use signet_ca::issue::{build_precert, leaf_params, LeafSpec};
    use signet_proto::bundle::Base64Bytes;
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
        let canonical = DsseCanonical::new(
            b"{\"payload\":\"e30=\",\"payloadType\":\"application/vnd.in-toto+json\"}",
            payload,
            vec![DsseSignatureVerifier {
                signature: Base64Bytes(vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]),
                verifier: Base64Bytes(verifier_pem),
            }],
        );
        ProposedEntry::DsseV001(DsseV001::Canonical(canonical))
            .canonical_bytes()
            .unwrap()
    }

    /// A canonical precert body (as `signet_log::entries::precert_entry` writes it).
    pub(crate) fn precert(chain: &[&[u8]]) -> Vec<u8> {
        signet_proto::observe::precert_body(chain)
    }
}

#[cfg(test)]
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
            assert_eq!(e.san.as_deref(), Some(san), "{kind:?}");
            assert_eq!(e.issuer.as_deref(), Some(ISSUER), "{kind:?}");
            assert_eq!(e.time, Some(NOT_BEFORE + 60), "{kind:?}");
            assert_eq!(e.key_id, None, "{kind:?}");
            assert!(e.has_certificate(), "{kind:?}");
        }
        let (_, cert) = ca.issue("alice@example.com", ISSUER, NOT_BEFORE);
        let e = observe(0, &hashedrekord([0xab; 32], cert_pem(&cert))).unwrap();
        assert_eq!(e.san.as_deref(), Some("alice@example.com"));
        assert_eq!(e.digest, Some(format!("sha256:{}", "ab".repeat(32))));
    }

    #[test]
    fn generated_keys_are_keyed_entries() {
        let (key, key_id) = public_key_pem();
        for body in [hashedrekord([1; 32], key.clone()), dsse(b"{}", key)] {
            let e = observe(0, &body).unwrap();
            assert_eq!(e.key_id.as_deref(), Some(key_id.as_str()));
            assert_eq!((&e.san, &e.issuer, e.time), (&None, &None, None));
            assert!(!e.has_certificate());
        }
    }
}
