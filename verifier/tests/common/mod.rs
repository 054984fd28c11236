//! Builds Sigstore bundles from in-process pieces (a VirtualSigstore, as sigstore-go has):
//! an rcgen CA (root + intermediate), a Fulcio-profile leaf issued as a precertificate whose
//! SCT (proto::sct) is embedded in the final certificate, a Rekor v1 entry (proto::rekor)
//! in a small Merkle tree (proto::merkle), a checkpoint signed as a Rekor-style note
//! (proto::note / proto::checkpoint) and a SET. `Knobs` break one thing at a time. The byte
//! layout follows ../shared/peers/fake_sigstore.py, which real clients accept.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

use std::path::Path;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use serde_json::{json, Value};
use signet_proto::bundle::Bundle;
use signet_proto::checkpoint::{Checkpoint, SignedCheckpoint};
use signet_proto::keys::{EcdsaCurve, EcdsaSigner, Ed25519Signer, PublicKey};
use signet_proto::merkle::{leaf_hash, root_from_leaves, Hash};
use signet_proto::note::{CosignatureV1Signer, NoteSigner, RekorNoteSigner};
use signet_proto::rekor::{
    DsseCanonical, DsseSignatureVerifier, DsseV001, HashedRekordV001, ProposedEntry, SetPayload,
};
use signet_proto::sct;
use signet_proto::trust::TrustedRoot;
use signet_verifier::{IdentityPolicy, Policy, TrustMaterial};

/// 2026-01-01T00:00:00Z: the signing (integrated) time of built bundles.
pub const SIGNING_TIME: i64 = 1_767_225_600;
pub const LOG_URL: &str = "http://127.0.0.1:3000";
pub const LOG_NAME: &str = "127.0.0.1:3000";

#[derive(Debug, Clone)]
pub struct Knobs {
    pub ca_p384: bool,
    pub dsse: bool,
    pub ed25519_log: bool,
    pub san_email: String,
    pub san_uri: Option<String>,
    pub issuer: String,
    pub with_sct: bool,
    pub sct_unknown_log: bool,
    pub code_signing_eku: bool,
    pub wrong_signature: bool,
    pub tamper_checkpoint: bool,
    pub checkpoint_wrong_key: bool,
    pub proof_from_other_tree: bool,
    pub bad_proof_hash: bool,
    pub integrated_after_leaf_expiry: bool,
    pub ca_valid_for_end: Option<&'static str>,
    pub set_wrong_time: bool,
    pub keyed: bool,
    pub tree_size: usize,
    pub leaf_index: usize,
    pub artifact: Vec<u8>,
    /// Extra Fulcio extensions (dotted OID arcs, DER UTF8String content).
    pub claims: Vec<(Vec<u64>, String)>,
    /// Witnesses (name, Ed25519 seed) that cosign the checkpoint (tlog-cosignature/v1).
    pub witnesses: Vec<(String, [u8; 32])>,
    /// Edits the leaf's CertificateParams before the precert is made.
    pub leaf_hook: Option<fn(&mut CertificateParams)>,
    /// Overrides the legacy .1.1 issuer value.
    pub issuer_v1: Option<String>,
    /// Embeds a second SCT, signed by a CT log absent from the trust root.
    pub sct_extra_unknown: bool,
    /// With `dsse`: the envelope signature's `keyid`.
    pub dsse_keyid: Option<String>,
    /// With `ed25519_log`: the log key's seed (else a random key).
    pub ed25519_log_seed: Option<[u8; 32]>,
    /// The signing key is ECDSA P-384 (its signature over the SHA-384 digest), not P-256.
    pub leaf_p384: bool,
    /// The hash of the hashedrekord entry's digest and of the bundle's messageDigest.
    pub message_hash: signet_proto::keys::HashAlgorithm,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            ca_p384: false,
            dsse: false,
            ed25519_log: false,
            san_email: "alice@example.com".into(),
            san_uri: None,
            issuer: "https://oidc.example.com".into(),
            with_sct: true,
            sct_unknown_log: false,
            code_signing_eku: true,
            wrong_signature: false,
            tamper_checkpoint: false,
            checkpoint_wrong_key: false,
            proof_from_other_tree: false,
            bad_proof_hash: false,
            integrated_after_leaf_expiry: false,
            ca_valid_for_end: None,
            set_wrong_time: false,
            keyed: false,
            tree_size: 7,
            leaf_index: 5,
            artifact: b"hello from signet\n".to_vec(),
            claims: Vec::new(),
            witnesses: Vec::new(),
            leaf_hook: None,
            issuer_v1: None,
            sct_extra_unknown: false,
            dsse_keyid: None,
            ed25519_log_seed: None,
            leaf_p384: false,
            message_hash: signet_proto::keys::HashAlgorithm::Sha256,
        }
    }
}

/// A built bundle with its trust root and expectations.
pub struct Fixture {
    pub bundle_json: Value,
    pub trusted_root_json: Value,
    pub artifact: Vec<u8>,
    pub identity: String,
    pub issuer: String,
    pub signing_time: i64,
    pub leaf_key: PublicKey,
    pub leaf_not_after: i64,
    /// The CA: (certificate DER, PKCS#8 key DER) of the root and of the intermediate, to
    /// sign CRLs with.
    pub root: (Vec<u8>, Vec<u8>),
    pub intermediate: (Vec<u8>, Vec<u8>),
}

impl Fixture {
    pub fn bundle(&self) -> Bundle {
        Bundle::from_json(&serde_json::to_vec(&self.bundle_json).unwrap()).expect("bundle parses")
    }

    pub fn trusted_root(&self) -> TrustedRoot {
        serde_json::from_value(self.trusted_root_json.clone()).expect("trusted root parses")
    }

    pub fn trust(&self) -> TrustMaterial {
        TrustMaterial::from_trusted_root(&self.trusted_root()).expect("trust material")
    }

    pub fn policy(&self) -> Policy {
        Policy::identity(IdentityPolicy::exact(
            self.identity.clone(),
            self.issuer.clone(),
        ))
    }

    /// Writes artifact.txt, artifact.txt.sigstore.json and trusted_root.json.
    pub fn write_dir(&self, dir: &Path) {
        std::fs::write(dir.join("artifact.txt"), &self.artifact).unwrap();
        std::fs::write(
            dir.join("artifact.txt.sigstore.json"),
            serde_json::to_vec_pretty(&self.bundle_json).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join("trusted_root.json"),
            serde_json::to_vec_pretty(&self.trusted_root_json).unwrap(),
        )
        .unwrap();
    }
}

pub fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// An rcgen time (a `time::OffsetDateTime`, which this crate does not name) at `unix` seconds.
macro_rules! at {
    ($unix:expr) => {
        rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs(u64::try_from($unix).unwrap())
    };
}

fn pem_cert(der: &[u8]) -> String {
    let body = b64(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn der_utf8(s: &str) -> Vec<u8> {
    assert!(s.len() < 128);
    let mut v = vec![0x0c, u8::try_from(s.len()).unwrap()];
    v.extend_from_slice(s.as_bytes());
    v
}

fn ca_params(cn: &str, p384: bool) -> CertificateParams {
    let _ = p384;
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "signet-test");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2035, 1, 1);
    p.use_authority_key_identifier_extension = true;
    p
}

fn ecdsa(curve: EcdsaCurve) -> EcdsaSigner {
    EcdsaSigner::generate(curve, &SystemRandom::new()).unwrap()
}

/// RFC 6962 audit path for leaf `m` among `leaves` (leaf hashes), leaf to root.
fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(root_from_leaves(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(root_from_leaves(&leaves[..k]));
        p
    }
}

pub fn build(k: &Knobs) -> Fixture {
    let rng = SystemRandom::new();
    let alg = if k.ca_p384 {
        &rcgen::PKCS_ECDSA_P384_SHA384
    } else {
        &rcgen::PKCS_ECDSA_P256_SHA256
    };
    let root_key = KeyPair::generate_for(alg).unwrap();
    let root_params = ca_params("signet-test-root", k.ca_p384);
    let root_cert = root_params.self_signed(&root_key).unwrap();
    let root_issuer = Issuer::from_params(&root_params, &root_key);
    let inter_key = KeyPair::generate_for(alg).unwrap();
    let mut inter_params = ca_params("signet-test-intermediate", k.ca_p384);
    inter_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    inter_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    let inter_cert = inter_params.signed_by(&inter_key, &root_issuer).unwrap();
    let inter_issuer = Issuer::from_params(&inter_params, &inter_key);
    let inter_spki = rcgen::PublicKeyData::subject_public_key_info(&inter_key);

    let ct_signer = ecdsa(EcdsaCurve::P256);
    let other_ct = ecdsa(EcdsaCurve::P256);
    let log_signer = if k.ed25519_log {
        let key = match &k.ed25519_log_seed {
            Some(seed) => Ed25519Signer::from_seed(seed).unwrap(),
            None => Ed25519Signer::generate(&rng).unwrap(),
        };
        RekorNoteSigner::ed25519(LOG_NAME, key).unwrap()
    } else {
        RekorNoteSigner::ecdsa(LOG_NAME, ecdsa(EcdsaCurve::P256)).unwrap()
    };
    let log_pub = log_signer.public_key().clone();
    let log_id = log_pub.key_id();

    let leaf_signer = ecdsa(if k.leaf_p384 {
        EcdsaCurve::P384
    } else {
        EcdsaCurve::P256
    });
    let leaf_pub = leaf_signer.public_key().clone();
    let not_before = SIGNING_TIME - 5;
    let not_after = not_before + 600;
    let integrated_time = if k.integrated_after_leaf_expiry {
        not_after + 60
    } else {
        SIGNING_TIME
    };

    let identity = k.san_uri.clone().unwrap_or_else(|| k.san_email.clone());
    let mut leaf_der = Vec::new();
    if !k.keyed {
        let mut p = CertificateParams::default();
        p.distinguished_name = DistinguishedName::new();
        p.subject_alt_names = vec![match &k.san_uri {
            Some(u) => SanType::URI(u.as_str().try_into().unwrap()),
            None => SanType::Rfc822Name(k.san_email.as_str().try_into().unwrap()),
        }];
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![if k.code_signing_eku {
            ExtendedKeyUsagePurpose::CodeSigning
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        p.use_authority_key_identifier_extension = true;
        p.serial_number = Some(SerialNumber::from_slice(&[0x01, 0x23, 0x45, 0x67]));
        p.not_before = at!(not_before);
        p.not_after = at!(not_after);
        p.custom_extensions = vec![
            CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 57264, 1, 1],
                k.issuer_v1
                    .clone()
                    .unwrap_or_else(|| k.issuer.clone())
                    .into_bytes(),
            ),
            CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 57264, 1, 8],
                der_utf8(&k.issuer),
            ),
        ];
        for (oid, value) in &k.claims {
            p.custom_extensions
                .push(CustomExtension::from_oid_content(oid, der_utf8(value)));
        }
        if let Some(h) = k.leaf_hook {
            h(&mut p);
        }
        let leaf_spki = rcgen::SubjectPublicKeyInfo::from_der(leaf_pub.spki_der()).unwrap();
        if k.with_sct {
            let mut poison = CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 3],
                vec![0x05, 0x00],
            );
            poison.set_criticality(true);
            p.custom_extensions.push(poison);
            let precert = p.signed_by(&leaf_spki, &inter_issuer).unwrap();
            let tbs = sct::tbs_without_extensions(
                precert.der(),
                &[sct::OID_PRECERT_POISON, sct::OID_SCT_LIST],
            )
            .unwrap();
            let signer = if k.sct_unknown_log {
                &other_ct
            } else {
                &ct_signer
            };
            let s = sct::sign_precert_sct(
                signer,
                u64::try_from(not_before).unwrap() * 1000 + 1,
                &sct::issuer_key_hash(&inter_spki),
                &tbs,
                &[],
            )
            .unwrap();
            p.custom_extensions.pop();
            let mut list = vec![s];
            if k.sct_extra_unknown {
                list.push(
                    sct::sign_precert_sct(
                        &other_ct,
                        u64::try_from(not_before).unwrap() * 1000 + 2,
                        &sct::issuer_key_hash(&inter_spki),
                        &tbs,
                        &[],
                    )
                    .unwrap(),
                );
            }
            p.custom_extensions.push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2],
                sct::encode_sct_list_extension(&list).unwrap(),
            ));
        }
        leaf_der = p
            .signed_by(&leaf_spki, &inter_issuer)
            .unwrap()
            .der()
            .to_vec();
    }
    let verifier_pem = if k.keyed {
        leaf_pub.to_pem()
    } else {
        pem_cert(&leaf_der)
    };

    let artifact = k.artifact.clone();
    let digest = signet_proto::keys::HashAlgorithm::Sha256.hash(&artifact);
    let digest: [u8; 32] = digest.try_into().unwrap();
    let (entry, content_key, content) = if k.dsse {
        let stmt = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "artifact.txt", "digest": {"sha256": hex::encode(digest)}}],
            "predicateType": "https://signet.dev/test/v1",
            "predicate": {"hello": "world"},
        });
        let payload = signet_proto::jcs::to_vec(&stmt).unwrap();
        let ptype = "application/vnd.in-toto+json";
        let signed = if k.wrong_signature {
            b"other".to_vec()
        } else {
            signet_proto::bundle::pae(ptype, &payload)
        };
        let sig = leaf_signer.sign(&signed).unwrap();
        let mut signature = json!({"sig": b64(&sig)});
        if let Some(keyid) = &k.dsse_keyid {
            signature["keyid"] = json!(keyid);
        }
        let envelope =
            json!({"payload": b64(&payload), "payloadType": ptype, "signatures": [signature]});
        let parsed: signet_proto::bundle::DsseEnvelope =
            serde_json::from_value(envelope.clone()).unwrap();
        let entry = ProposedEntry::DsseV001(DsseV001::Canonical(
            DsseCanonical::new(
                &parsed,
                vec![DsseSignatureVerifier {
                    signature: sig.clone().into(),
                    verifier: verifier_pem.clone().into_bytes().into(),
                }],
            )
            .unwrap(),
        ));
        (entry, "dsseEnvelope", envelope)
    } else {
        use signet_proto::keys::HashAlgorithm;
        use signet_proto::rekor::RekorHashAlgorithm;
        // The key signs the digest of its curve's hash; the entry and the bundle state
        // `message_hash` (another hash: a signature the verifier must refuse).
        let sig = if k.wrong_signature {
            leaf_signer.sign(b"other").unwrap()
        } else {
            leaf_signer
                .sign_digest(&leaf_signer.curve().hash().hash(&artifact))
                .unwrap()
        };
        let (rekor_hash, proto_hash) = match k.message_hash {
            HashAlgorithm::Sha384 => (RekorHashAlgorithm::Sha384, "SHA2_384"),
            HashAlgorithm::Sha512 => (RekorHashAlgorithm::Sha512, "SHA2_512"),
            _ => (RekorHashAlgorithm::Sha256, "SHA2_256"),
        };
        let message_digest = k.message_hash.hash(&artifact);
        let entry = ProposedEntry::HashedRekordV001(HashedRekordV001::with_digest(
            rekor_hash,
            &message_digest,
            sig.clone(),
            verifier_pem.clone().into_bytes(),
        ));
        let ms = json!({"messageDigest": {"algorithm": proto_hash, "digest": b64(&message_digest)}, "signature": b64(&sig)});
        (entry, "messageSignature", ms)
    };
    let body = entry.canonical_bytes().unwrap();

    // The log: a few other entries and ours at leaf_index.
    let mut leaves: Vec<Hash> = (0..k.tree_size)
        .map(|i| leaf_hash(format!("{{\"dummy\":{i}}}").as_bytes()))
        .collect();
    leaves[k.leaf_index] = leaf_hash(&body);
    let root = root_from_leaves(&leaves);
    let (proof_root, mut proof) = if k.proof_from_other_tree {
        let mut other = leaves.clone();
        other.push(leaf_hash(b"one more entry"));
        (root_from_leaves(&other), path(k.leaf_index, &other))
    } else {
        (root, path(k.leaf_index, &leaves))
    };
    let proof_size = if k.proof_from_other_tree {
        k.tree_size + 1
    } else {
        k.tree_size
    };
    if k.bad_proof_hash {
        proof[0][0] ^= 1;
    }
    let origin = format!("{LOG_NAME} - 2605736670972794746");
    let ck = Checkpoint::new(origin, u64::try_from(k.tree_size).unwrap(), root);
    let wrong;
    let signer: &dyn NoteSigner = if k.checkpoint_wrong_key {
        wrong = RekorNoteSigner::ecdsa(LOG_NAME, ecdsa(EcdsaCurve::P256)).unwrap();
        &wrong
    } else {
        &log_signer
    };
    let mut signed = SignedCheckpoint::sign(ck, &[signer]).unwrap();
    for (name, seed) in &k.witnesses {
        let w = CosignatureV1Signer::new(name, Ed25519Signer::from_seed(seed).unwrap()).unwrap();
        let ts = w.at(u64::try_from(SIGNING_TIME).unwrap() + 10);
        signed.add_signatures(&[&ts]).unwrap();
    }
    let mut checkpoint = String::from_utf8(signed.to_bytes()).unwrap();
    if k.tamper_checkpoint {
        checkpoint = checkpoint.replacen(
            &format!("\n{}\n", k.tree_size),
            &format!("\n{}\n", k.tree_size + 1),
            1,
        );
    }

    let log_index = 1000 + k.leaf_index;
    let set_time = if k.set_wrong_time {
        integrated_time + 1
    } else {
        integrated_time
    };
    let set_payload = SetPayload {
        body: body.clone().into(),
        integrated_time: set_time,
        log_id: log_id.to_vec().into(),
        log_index: i64::try_from(log_index).unwrap(),
    }
    .canonical_bytes()
    .unwrap();
    let set = match log_signer.sign(&set_payload) {
        Ok(s) => s,
        Err(e) => panic!("SET signing: {e}"),
    };

    let material = if k.keyed {
        json!({"publicKey": {"hint": b64(&leaf_pub.key_id())}})
    } else {
        json!({"certificate": {"rawBytes": b64(&leaf_der)}})
    };
    let mut vm = material;
    vm["tlogEntries"] = json!([{
        "logIndex": log_index.to_string(),
        "logId": {"keyId": b64(&log_id)},
        "kindVersion": {"kind": if k.dsse { "dsse" } else { "hashedrekord" }, "version": "0.0.1"},
        "integratedTime": integrated_time.to_string(),
        "inclusionPromise": {"signedEntryTimestamp": b64(&set)},
        "inclusionProof": {
            "logIndex": k.leaf_index.to_string(),
            "rootHash": b64(&proof_root),
            "treeSize": proof_size.to_string(),
            "hashes": proof.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            "checkpoint": {"envelope": checkpoint},
        },
        "canonicalizedBody": b64(&body),
    }]);
    let mut bundle_json = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": vm,
    });
    bundle_json[content_key] = content;

    let key_details = |k: &PublicKey| match k.algorithm() {
        signet_proto::keys::KeyAlgorithm::Ed25519 => "PKIX_ED25519",
        signet_proto::keys::KeyAlgorithm::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384",
        _ => "PKIX_ECDSA_P256_SHA_256",
    };
    let start = "2025-01-01T00:00:00Z";
    let mut ca_valid_for = json!({"start": start});
    if let Some(end) = k.ca_valid_for_end {
        ca_valid_for["end"] = json!(end);
    }
    let trusted_root_json = json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": LOG_URL,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": b64(log_pub.spki_der()), "keyDetails": key_details(&log_pub), "validFor": {"start": start}},
            "logId": {"keyId": b64(&log_id)},
        }],
        "certificateAuthorities": [{
            "subject": {"organization": "signet-test", "commonName": "signet-test"},
            "uri": "http://127.0.0.1:5555",
            "certChain": {"certificates": [{"rawBytes": b64(inter_cert.der())}, {"rawBytes": b64(root_cert.der())}]},
            "validFor": ca_valid_for,
        }],
        "ctlogs": [{
            "baseUrl": "http://127.0.0.1:6962",
            "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": b64(ct_signer.public_key().spki_der()), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": {"start": start}},
            "logId": {"keyId": b64(&ct_signer.public_key().key_id())},
        }],
        "timestampAuthorities": [],
    });

    Fixture {
        bundle_json,
        trusted_root_json,
        artifact,
        identity,
        issuer: k.issuer.clone(),
        signing_time: integrated_time,
        leaf_key: leaf_pub,
        leaf_not_after: not_after,
        root: (root_cert.der().to_vec(), root_key.serialize_der()),
        intermediate: (inter_cert.der().to_vec(), inter_key.serialize_der()),
    }
}
