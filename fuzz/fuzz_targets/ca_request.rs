//! Fuzzes the CA's `POST /api/v2/signingCert` request handling after the OIDC token: the
//! JSON body (`signet-proto::fulcio::CreateSigningCertificateRequest`), the public key
//! (`signet_ca::challenge::parse_public_key`: PEM or base64 SPKI), the proof of possession
//! (`verify_proof`) and the CSR (`verify_csr`: PEM or DER PKCS#10, self-signature checked).
//! The raw input is also tried directly as a CSR and as a key.
//!
//! Asserts: a parsed request survives a JSON round trip; an accepted key re-parses to itself
//! from its PEM and base64-DER forms; a proof that verifies for one challenge does not verify
//! for another; a CSR's key is a valid SPKI and the CSR verifies again from its DER.
#![no_main]
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use signet_ca::challenge::{parse_public_key, verify_csr, verify_proof};
use signet_proto::fulcio::{CreateSigningCertificateRequest, KeyRequest};
use signet_proto::keys::PublicKey;

/// The challenge the seeds' proofs sign (an email principal's challenge is the email).
const CHALLENGE: &str = "alice@example.com";

fn check_key(key: &PublicKey) {
    assert_eq!(&parse_public_key(&key.to_pem()).expect("own PEM"), key);
    assert_eq!(
        &parse_public_key(&B64.encode(key.spki_der())).expect("own base64 DER"),
        key
    );
}

fn check_csr(csr: &[u8]) {
    if let Ok(key) = verify_csr(csr) {
        assert_eq!(
            PublicKey::from_spki_der(key.spki_der()).expect("CSR key is a valid SPKI"),
            key
        );
        check_key(&key);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = CreateSigningCertificateRequest::from_json(data) {
        let json = serde_json::to_vec(&req).expect("a parsed request serializes");
        assert_eq!(
            CreateSigningCertificateRequest::from_json(&json).expect("re-parses"),
            req
        );
        match &req.key {
            KeyRequest::PublicKey(pk) => {
                if let Ok(key) = parse_public_key(&pk.public_key.content) {
                    check_key(&key);
                    let proof = pk.proof_of_possession.as_slice();
                    if verify_proof(&key, proof, CHALLENGE).is_ok() {
                        assert!(
                            verify_proof(&key, proof, "mallory@example.com").is_err(),
                            "a proof is bound to its challenge"
                        );
                    }
                }
            }
            KeyRequest::CertificateSigningRequest(csr) => check_csr(csr.as_slice()),
            _ => {}
        }
    }
    check_csr(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = parse_public_key(text) {
            check_key(&key);
        }
    }
});
