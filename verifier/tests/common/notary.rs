//! Notary Project (notation) signature envelopes made in tests, as notation makes them: JWS
//! (flattened JSON) and COSE_Sign1 over a `targetArtifact` payload, signed with RSASSA-PSS
//! SHA-256 (a given key and `x5c` chain) or ECDSA P-256/P-384 (a self-signed code-signing leaf),
//! and the edits the tests make to them (a field changed, an RFC 3161 countersignature added).
//!
//! The one copy for both test crates: `verifier/tests/notary.rs` and
//! `cli/tests/support/notary.rs` include this file with `#[path]`. It uses only what both
//! crates have (aws-lc-rs, base64, rcgen, serde_json, `signet_verifier::NotaryTarget`); PEM
//! parsing and the openssl TSA stay with their users.

#![allow(dead_code, clippy::unwrap_used, unreachable_pub, missing_docs)]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};
use signet_verifier::NotaryTarget;

/// The Notary payload naming `target`: `{"targetArtifact": {digest, mediaType, size}}`.
pub fn payload(target: &NotaryTarget<'_>) -> String {
    format!(
        r#"{{"targetArtifact":{{"digest":"{}","mediaType":"{}","size":{}}}}}"#,
        target.digest, target.media_type, target.size
    )
}

/// A JWS envelope over `target`, signed PS256 with the RSA PKCS#8 key `key_der` and carrying
/// the DER certificates `chain` (leaf first) as `x5c`.
pub fn jws_ps256(key_der: &[u8], chain: &[Vec<u8>], target: &NotaryTarget<'_>) -> Vec<u8> {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{RsaKeyPair, RSA_PSS_SHA256};
    let key = RsaKeyPair::from_pkcs8(key_der).unwrap();
    let chain: Vec<String> = chain.iter().map(|c| STANDARD.encode(c)).collect();
    let protected = URL_SAFE_NO_PAD.encode(
        r#"{"alg":"PS256","crit":["io.cncf.notary.signingScheme"],"cty":"application/vnd.cncf.notary.payload.v1+json","io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2025-01-01T00:00:00Z"}"#,
    );
    let payload = URL_SAFE_NO_PAD.encode(payload(target));
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PSS_SHA256,
        &SystemRandom::new(),
        format!("{protected}.{payload}").as_bytes(),
        &mut sig,
    )
    .unwrap();
    serde_json::to_vec(&json!({
        "payload": payload, "protected": protected,
        "header": {"x5c": chain, "io.cncf.notary.signingAgent": "signet-test"},
        "signature": URL_SAFE_NO_PAD.encode(sig),
    }))
    .unwrap()
}

/// A JWS envelope with `edit` applied to its JSON.
pub fn edit_jws(env: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = signet_proto::json::from_slice(env).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// The raw signature value of a JWS envelope (what a countersignature timestamps).
pub fn jws_signature(envelope: &[u8]) -> Vec<u8> {
    let env: Value = signet_proto::json::from_slice(envelope).unwrap();
    URL_SAFE_NO_PAD
        .decode(env["signature"].as_str().unwrap())
        .unwrap()
}

/// `envelope` with `token` as its `io.cncf.notary.timestampSignature` (unprotected header).
pub fn with_timestamp(envelope: &[u8], token: &[u8]) -> Vec<u8> {
    edit_jws(envelope, |env| {
        env["header"]["io.cncf.notary.timestampSignature"] = STANDARD.encode(token).into();
    })
}

/// ECDSA (P-256, P-384) signers. The Notary Project publishes no ECDSA-signed envelope (every
/// signature in notation, notation-go, notation-core-go, ratify and specifications, at every
/// commit, is RSASSA-PSS; notation-core-go's ES256 conformance vector is signed by a key
/// generated at test time and carries no certificate), so these are made here as notation
/// makes them: a self-signed code-signing leaf (rcgen), `ES256`/`ES384` (JWS: r‖s) and COSE
/// `-7`/`-35` over the same payload.
pub mod ecdsa {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        EcdsaKeyPair, EcdsaSigningAlgorithm, ECDSA_P256_SHA256_ASN1_SIGNING,
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
    };
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    use signet_verifier::NotaryTarget;

    use super::{edit_jws, payload};

    pub struct Signer {
        pub cert: Vec<u8>,
        key: EcdsaKeyPair,
        pub alg: &'static str,
        cose_alg: i64,
    }

    /// A self-signed leaf on `curve` valid from `from` to `to` (years).
    pub fn signer(curve: u16, from: i32, to: i32) -> Signer {
        let (rc_alg, sign_alg, alg, cose_alg): (
            &rcgen::SignatureAlgorithm,
            &'static EcdsaSigningAlgorithm,
            &str,
            i64,
        ) = match curve {
            256 => (
                &rcgen::PKCS_ECDSA_P256_SHA256,
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                "ES256",
                -7,
            ),
            _ => (
                &rcgen::PKCS_ECDSA_P384_SHA384,
                &ECDSA_P384_SHA384_FIXED_SIGNING,
                "ES384",
                -35,
            ),
        };
        let kp = rcgen::KeyPair::generate_for(rc_alg).unwrap();
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("ecdsa-p{curve}"));
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(to, 1, 1);
        let cert = params.self_signed(&kp).unwrap().der().to_vec();
        let key = EcdsaKeyPair::from_pkcs8(sign_alg, &kp.serialize_der()).unwrap();
        Signer {
            cert,
            key,
            alg,
            cose_alg,
        }
    }

    /// A JWS envelope over `target`, with `io.cncf.notary.expiry` (critical) when given.
    pub fn jws(s: &Signer, target: &NotaryTarget<'_>, expiry: Option<&str>) -> Vec<u8> {
        let (crit, exp) = expiry.map_or((String::new(), String::new()), |e| {
            (
                r#","io.cncf.notary.expiry""#.to_owned(),
                format!(r#","io.cncf.notary.expiry":"{e}""#),
            )
        });
        let protected = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"alg":"{}","crit":["io.cncf.notary.signingScheme"{crit}],"cty":"application/vnd.cncf.notary.payload.v1+json"{exp},"io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2026-01-01T00:00:00Z"}}"#,
            s.alg
        ));
        let payload = URL_SAFE_NO_PAD.encode(payload(target));
        let sig = s
            .key
            .sign(
                &SystemRandom::new(),
                format!("{protected}.{payload}").as_bytes(),
            )
            .unwrap();
        serde_json::to_vec(&serde_json::json!({
            "payload": payload, "protected": protected,
            "header": {"x5c": [STANDARD.encode(&s.cert)], "io.cncf.notary.signingAgent": "signet-test"},
            "signature": URL_SAFE_NO_PAD.encode(sig.as_ref()),
        }))
        .unwrap()
    }

    /// CBOR head of major type `major` with argument `n`.
    fn head(major: u8, n: u64, out: &mut Vec<u8>) {
        let m = major << 5;
        match n {
            0..=23 => out.push(m | u8::try_from(n).unwrap()),
            24..=0xff => out.extend([m | 24, u8::try_from(n).unwrap()]),
            0x100..=0xffff => {
                out.push(m | 25);
                out.extend(u16::try_from(n).unwrap().to_be_bytes());
            }
            _ => {
                out.push(m | 26);
                out.extend(u32::try_from(n).unwrap().to_be_bytes());
            }
        }
    }
    fn int(v: i64, out: &mut Vec<u8>) {
        if v >= 0 {
            head(0, v.unsigned_abs(), out);
        } else {
            head(1, (-1 - v).unsigned_abs(), out);
        }
    }
    fn text(t: &str, out: &mut Vec<u8>) {
        head(3, u64::try_from(t.len()).unwrap(), out);
        out.extend(t.as_bytes());
    }
    fn bytes(b: &[u8], out: &mut Vec<u8>) {
        head(2, u64::try_from(b.len()).unwrap(), out);
        out.extend(b);
    }

    /// A COSE_Sign1 envelope (tag 18) over `target`, as notation writes it.
    pub fn cose(s: &Signer, target: &NotaryTarget<'_>) -> Vec<u8> {
        let mut p = Vec::new();
        head(5, 5, &mut p);
        int(1, &mut p);
        int(s.cose_alg, &mut p);
        int(2, &mut p);
        head(4, 1, &mut p);
        text("io.cncf.notary.signingScheme", &mut p);
        int(3, &mut p);
        text("application/vnd.cncf.notary.payload.v1+json", &mut p);
        text("io.cncf.notary.signingScheme", &mut p);
        text("notary.x509", &mut p);
        text("io.cncf.notary.signingTime", &mut p);
        head(6, 1, &mut p);
        int(1_767_225_600, &mut p);
        let payload = payload(target);
        let mut to_sign = Vec::new();
        head(4, 4, &mut to_sign);
        text("Signature1", &mut to_sign);
        bytes(&p, &mut to_sign);
        bytes(&[], &mut to_sign);
        bytes(payload.as_bytes(), &mut to_sign);
        let sig = s.key.sign(&SystemRandom::new(), &to_sign).unwrap();
        let mut out = Vec::new();
        head(6, 18, &mut out);
        head(4, 4, &mut out);
        bytes(&p, &mut out);
        head(5, 2, &mut out);
        int(33, &mut out);
        head(4, 1, &mut out);
        bytes(&s.cert, &mut out);
        text("io.cncf.notary.signingAgent", &mut out);
        text("signet-test", &mut out);
        bytes(payload.as_bytes(), &mut out);
        bytes(sig.as_ref(), &mut out);
        out
    }

    /// The same key's ASN.1 (DER) ECDSA signature in a JWS: JWS requires r‖s.
    pub fn jws_with_der_signature(env: &[u8]) -> Vec<u8> {
        let v: serde_json::Value = signet_proto::json::from_slice(env).unwrap();
        let msg = format!(
            "{}.{}",
            v["protected"].as_str().unwrap(),
            v["payload"].as_str().unwrap()
        );
        // Another P-256 key signs in ASN.1 form: the length alone makes it unusable as r‖s.
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let k = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let der = k.sign(&rng, msg.as_bytes()).unwrap();
        edit_jws(env, |v| {
            v["signature"] = URL_SAFE_NO_PAD.encode(der.as_ref()).into();
        })
    }
}
