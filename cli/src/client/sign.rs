//! Signing: get a certificate (keyless) or load a key (keyed), sign a digest (or a DSSE
//! envelope), record a hashedrekord (or dsse) entry in the log and assemble a Sigstore bundle
//! v0.3. The digest is SHA-256, or SHA-384 for a P-384 key (as cosign and sigstore-go sign
//! with one: the hashedrekord entry says `sha384`, the bundle's `messageDigest` `SHA2_384`,
//! a Rekor v2 request `PKIX_ECDSA_P384_SHA_384`; a DSSE envelope is signed over the SHA-384
//! of its pre-authentication encoding).
//!
//! Specs: Fulcio v2 `POST /api/v2/signingCert` (proof of possession = ECDSA signature over the
//! token's `email`, else `sub`), Rekor v1 `POST /api/v1/log/entries` with hashedrekord 0.0.1
//! or dsse 0.0.1 (`proposedContent`), DSSE v1,
//! and sigstore protobuf-specs `Bundle` v0.3 (`mediaType`
//! `application/vnd.dev.sigstore.bundle.v0.3+json`; int64 as strings; `logId.keyId` base64).
//!
//! With a Rekor v2 log (`majorApiVersion` 2 in the signing config), the entry is a
//! `hashedRekordRequestV002` to `POST /api/v2/log/entries` instead, for a DSSE envelope over
//! the hash of its pre-authentication encoding (as sigstore-python 4 and sigstore-go send it,
//! rekor-tiles `CLIENTS.md`); the bundle's entry is the `TransparencyLogEntry` the log
//! answers, checked to record exactly what was signed, and its time comes from the TSA.
//!
//! Keyless keys are ephemeral ECDSA P-256 keys held in memory only: nothing here writes a
//! private key anywhere. Timestamps from a TSA are added after, by `super::timestamp`.

use aws_lc_rs::digest::{Digest, SHA256, SHA384, SHA512};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};
use signet_proto::fulcio::{
    CreateSigningCertificateRequest, Credentials, FulcioPublicKey, KeyRequest, PublicKeyAlgorithm,
    PublicKeyRequest, SigningCertificate,
};
use signet_proto::keys::HashAlgorithm as Hash;
use signet_proto::rekor::{
    DsseProposedContent, DsseV001, HashedRekordV001, LogEntry, LogEntryAnon, ProposedEntry,
    RekorHashAlgorithm,
};

use signet_proto::bundle::{
    Base64Bytes, Bundle, BundleContent, BundleVersion, Checkpoint, DsseEnvelope, DsseSignature,
    HashAlgorithm, HashOutput, InclusionPromise, InclusionProof, KindVersion, LogId,
    MessageSignature, PublicKeyIdentifier, TimestampVerificationData, TransparencyLogEntry,
    VerificationMaterial, VerificationMaterialContent, X509Certificate,
};

use super::config::LogTarget;
use super::keypair;
use super::token;

/// Errors of the signing flow, each naming the step that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SignError {
    /// A server could not be reached.
    #[error(
        "{step}: request to {url} failed: {}",
        crate::errors::chain_after(url, cause)
    )]
    Transport {
        /// The step.
        step: &'static str,
        /// The URL.
        url: String,
        /// The cause (shown in the message, not a `source`: see [`crate::errors`]).
        cause: reqwest::Error,
    },
    /// A server refused the request.
    #[error("{step}: {url} answered {status}: {body}")]
    Refused {
        /// The step.
        step: &'static str,
        /// The URL.
        url: String,
        /// The HTTP status.
        status: reqwest::StatusCode,
        /// The start of the response body.
        body: String,
    },
    /// A server's answer is not what the protocol says.
    #[error("{step}: invalid response: {reason}")]
    BadResponse {
        /// The step.
        step: &'static str,
        /// Why.
        reason: String,
    },
    /// The identity token could not be obtained or read.
    #[error(transparent)]
    Token(#[from] token::TokenError),
    /// The signing key (in a PKCS#11 token) refused to sign.
    #[error("signing key: {reason}")]
    Key {
        /// The token's answer.
        reason: String,
    },
    /// Local crypto failed.
    #[error("crypto failure: {what}")]
    Crypto {
        /// The operation.
        what: &'static str,
    },
}

/// Who signs: an ephemeral key with its Fulcio certificate, or a long-lived key.
pub(crate) enum SigningIdentity {
    /// Keyless: ephemeral key (memory only) and the CA's certificate chain.
    Keyless {
        /// The ephemeral key.
        key: EcdsaKeyPair,
        /// The leaf certificate, DER.
        leaf_der: Vec<u8>,
        /// The leaf certificate, PEM.
        leaf_pem: String,
        /// The OIDC identity read (unverified) from the token, for display.
        subject: String,
        /// The token's issuer, for display.
        issuer: Option<String>,
    },
    /// Keyed: a private key (in memory or in a token) and its public key.
    Keyed {
        /// The key.
        key: keypair::SigningKey,
        /// The public key, PEM SPKI.
        public_pem: String,
        /// The public key, SPKI DER.
        spki_der: Vec<u8>,
    },
}

impl SigningIdentity {
    /// The hash whose digests this identity signs: SHA-256 for the ephemeral P-256 key, the
    /// key's own for a long-lived key (SHA-384 for P-384).
    pub(crate) fn hash(&self) -> Hash {
        match self {
            Self::Keyless { .. } => Hash::Sha256,
            Self::Keyed { key, .. } => key.hash(),
        }
    }

    /// The PEM text recorded as the entry's verifier (certificate or public key).
    fn verifier_pem(&self) -> &str {
        match self {
            Self::Keyless { leaf_pem, .. } => leaf_pem,
            Self::Keyed { public_pem, .. } => public_pem,
        }
    }

    /// A short description of the signer for output.
    pub(crate) fn describe(&self) -> Value {
        match self {
            Self::Keyless {
                subject, issuer, ..
            } => {
                json!({"mode": "keyless", "identity": subject, "issuer": issuer})
            }
            Self::Keyed { spki_der, .. } => json!({
                "mode": "keyed",
                "keyId": hex::encode(aws_lc_rs::digest::digest(&SHA256, spki_der).as_ref()),
            }),
        }
    }
}

fn transport<'a>(
    step: &'static str,
    url: &'a str,
) -> impl FnOnce(reqwest::Error) -> SignError + 'a {
    move |cause| SignError::Transport {
        step,
        url: url.to_owned(),
        cause,
    }
}

/// The HTTP client for CA and log requests.
pub(crate) fn http_client() -> Result<reqwest::Client, SignError> {
    signet_net::client_builder()
        .user_agent(concat!("signet/", env!("CARGO_PKG_VERSION")))
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|cause| SignError::Transport {
            step: "HTTP client",
            url: String::new(),
            cause,
        })
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

async fn read_body(resp: reqwest::Response) -> String {
    resp.text()
        .await
        .unwrap_or_default()
        .chars()
        .take(400)
        .collect()
}

/// Posts `body` as JSON to `url` and returns the answer's bytes when `accept` takes its
/// status, [`SignError::Refused`] (with the start of the answer) otherwise.
async fn post_json(
    http: &reqwest::Client,
    step: &'static str,
    url: String,
    body: &impl serde::Serialize,
    accept: impl Fn(reqwest::StatusCode) -> bool,
) -> Result<Vec<u8>, SignError> {
    let resp = http
        .post(&url)
        .json(body)
        .send()
        .await
        .map_err(transport(step, &url))?;
    if !accept(resp.status()) {
        let status = resp.status();
        return Err(SignError::Refused {
            step,
            url,
            status,
            body: read_body(resp).await,
        });
    }
    let raw = resp.bytes().await.map_err(transport(step, &url))?;
    Ok(raw.to_vec())
}

/// Keyless: acquires a token, makes an ephemeral key and obtains a certificate from the CA.
pub(crate) async fn keyless(
    http: &reqwest::Client,
    ca_url: &str,
    explicit_token: Option<&str>,
) -> Result<SigningIdentity, SignError> {
    let tok = token::acquire(explicit_token).await?;
    let claims = token::unverified_claims(&tok)?;
    let subject = token::challenge_subject(&claims)?;
    let key =
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(|_| SignError::Crypto {
            what: "generate ephemeral key",
        })?;
    let pop = key
        .sign(&SystemRandom::new(), subject.as_bytes())
        .map_err(|_| SignError::Crypto {
            what: "proof of possession",
        })?;
    let public_pem = keypair::public_key_pem(&key).map_err(|_| SignError::Crypto {
        what: "export public key",
    })?;
    let req = CreateSigningCertificateRequest {
        credentials: Some(Credentials {
            oidc_identity_token: tok,
        }),
        key: KeyRequest::PublicKey(PublicKeyRequest {
            public_key: FulcioPublicKey {
                algorithm: PublicKeyAlgorithm::Ecdsa,
                content: public_pem,
            },
            proof_of_possession: Base64Bytes(pop.as_ref().to_vec()),
        }),
    };
    const STEP: &str = "certificate request to the CA";
    let url = format!("{ca_url}/api/v2/signingCert");
    let raw = post_json(http, STEP, url, &req, |s| s.is_success()).await?;
    let body = SigningCertificate::from_json(&raw).map_err(|e| SignError::BadResponse {
        step: STEP,
        reason: e.to_string(),
    })?;
    let leaf_text = body
        .chain()
        .certificates
        .first()
        .ok_or_else(|| SignError::BadResponse {
            step: STEP,
            reason: "empty certificate chain".to_owned(),
        })?;
    let leaf = pem::parse(leaf_text).map_err(|e| SignError::BadResponse {
        step: STEP,
        reason: format!("leaf is not PEM: {e}"),
    })?;
    let leaf_der = leaf.into_contents();
    // The certificate must certify our ephemeral key, not some other key.
    let (_, cert) =
        x509_parser::parse_x509_certificate(&leaf_der).map_err(|e| SignError::BadResponse {
            step: STEP,
            reason: format!("leaf certificate does not parse: {e}"),
        })?;
    let ours = keypair::public_key_der(&key).map_err(|_| SignError::Crypto {
        what: "export public key",
    })?;
    if cert.public_key().raw != ours.as_slice() {
        return Err(SignError::BadResponse {
            step: STEP,
            reason: "the certificate is for a different public key".to_owned(),
        });
    }
    Ok(SigningIdentity::Keyless {
        leaf_pem: pem_encode("CERTIFICATE", &leaf_der),
        leaf_der,
        key,
        subject,
        issuer: claims.iss,
    })
}

/// Keyed: wraps a loaded key.
pub(crate) fn keyed(key: keypair::SigningKey) -> Result<SigningIdentity, SignError> {
    let spki_der = key.spki_der().map_err(|_| SignError::Crypto {
        what: "export public key",
    })?;
    Ok(SigningIdentity::Keyed {
        public_pem: pem_encode("PUBLIC KEY", &spki_der),
        spki_der,
        key,
    })
}

/// The result of signing one digest.
pub(crate) struct Signed {
    /// The bundle.
    pub(crate) bundle: Bundle,
    /// The log index of the entry.
    pub(crate) log_index: i64,
    /// The log's integrated time (Unix seconds).
    pub(crate) integrated_time: i64,
}

/// The bundle's and the Rekor v1 entry's names of `hash`.
fn hash_names(hash: Hash) -> Result<(HashAlgorithm, RekorHashAlgorithm), SignError> {
    match hash {
        Hash::Sha256 => Ok((HashAlgorithm::Sha2_256, RekorHashAlgorithm::Sha256)),
        Hash::Sha384 => Ok((HashAlgorithm::Sha2_384, RekorHashAlgorithm::Sha384)),
        Hash::Sha512 => Ok((HashAlgorithm::Sha2_512, RekorHashAlgorithm::Sha512)),
        _ => Err(SignError::Crypto {
            what: "name the digest's hash",
        }),
    }
}

/// Signs `digest` (of the artifact, with [`SigningIdentity::hash`]), records a hashedrekord
/// entry in the log at `log_url`, and returns the bundle.
pub(crate) async fn sign_digest(
    http: &reqwest::Client,
    log: &LogTarget,
    identity: &SigningIdentity,
    digest: &[u8],
) -> Result<Signed, SignError> {
    let (bundle_hash, rekor_hash) = hash_names(identity.hash())?;
    let sig = sign_prehashed(identity, digest, "sign digest")?;
    let content = BundleContent::MessageSignature(MessageSignature {
        message_digest: Some(HashOutput {
            algorithm: bundle_hash,
            digest: Base64Bytes(digest.to_vec()),
        }),
        signature: Base64Bytes(sig.clone()),
    });
    if log.v2 {
        let entry = submit_v2(http, &log.url, identity, digest, &sig).await?;
        return assemble_v2(identity, entry, content);
    }
    let log_url = log.url.as_str();
    let sig_b64 = B64.encode(&sig);
    let digest_hex = hex::encode(digest);
    let proposed = ProposedEntry::HashedRekordV001(HashedRekordV001::with_digest(
        rekor_hash,
        digest,
        sig.clone(),
        identity.verifier_pem().as_bytes().to_vec(),
    ));
    let entry = submit(http, log_url, &proposed).await?;
    check_recorded_body(
        entry.body.as_slice(),
        records_hashedrekord(rekor_hash.name(), &digest_hex, &sig_b64),
    )?;
    assemble(identity, entry, "hashedrekord", content)
}

/// Signs `payload` in a DSSE envelope of `payload_type` (the signature covers the DSSE v1
/// pre-authentication encoding, hashed with [`SigningIdentity::hash`]), records a dsse 0.0.1
/// entry in the log at `log_url`, and returns the bundle.
pub(crate) async fn sign_dsse(
    http: &reqwest::Client,
    log: &LogTarget,
    identity: &SigningIdentity,
    payload_type: &str,
    payload: &[u8],
) -> Result<Signed, SignError> {
    let pae = signet_proto::bundle::pae(payload_type, payload);
    let pae_digest = identity.hash().hash(&pae);
    let sig = sign_prehashed(identity, &pae_digest, "sign DSSE envelope")?;
    let envelope = DsseEnvelope {
        payload: Base64Bytes(payload.to_vec()),
        payload_type: payload_type.to_owned(),
        signatures: vec![DsseSignature {
            sig: Base64Bytes(sig.clone()),
            keyid: String::new(),
        }],
    };
    if log.v2 {
        let entry = submit_v2(http, &log.url, identity, &pae_digest, &sig).await?;
        return assemble_v2(identity, entry, BundleContent::DsseEnvelope(envelope));
    }
    let log_url = log.url.as_str();
    let envelope_json = serde_json::to_string(&envelope).map_err(|e| SignError::BadResponse {
        step: "envelope assembly",
        reason: e.to_string(),
    })?;
    let proposed = ProposedEntry::DsseV001(DsseV001::Proposed(DsseProposedContent {
        envelope: envelope_json,
        verifiers: vec![Base64Bytes(identity.verifier_pem().as_bytes().to_vec())],
    }));
    let entry = submit(http, log_url, &proposed).await?;
    let payload_hex = hex::encode(aws_lc_rs::digest::digest(&SHA256, payload).as_ref());
    check_recorded_body(entry.body.as_slice(), records_dsse(&payload_hex))?;
    assemble(
        identity,
        entry,
        "dsse",
        BundleContent::DsseEnvelope(envelope),
    )
}

/// Signature over a `digest` of [`SigningIdentity::hash`] with the signing identity's key
/// (ECDSA DER, or RSA PKCS#1 v1.5 for an RSA key).
fn sign_prehashed(
    identity: &SigningIdentity,
    digest: &[u8],
    what: &'static str,
) -> Result<Vec<u8>, SignError> {
    match identity {
        SigningIdentity::Keyless { key, .. } => {
            let d = Digest::import_less_safe(digest, &SHA256)
                .map_err(|_| SignError::Crypto { what })?;
            let sig = key
                .sign_digest(&d)
                .map_err(|_| SignError::Crypto { what })?;
            Ok(sig.as_ref().to_vec())
        }
        SigningIdentity::Keyed { key, .. } => key.sign_prehashed(digest).map_err(|e| match e {
            keypair::KeyError::Pkcs11 { reason } => SignError::Key { reason },
            _ => SignError::Crypto { what },
        }),
    }
}

/// Posts `proposed` to the log and returns the one entry it answers (201).
async fn submit(
    http: &reqwest::Client,
    log_url: &str,
    proposed: &ProposedEntry,
) -> Result<LogEntryAnon, SignError> {
    const STEP: &str = "upload to the transparency log";
    let body = proposed.to_value().map_err(|e| SignError::BadResponse {
        step: "entry assembly",
        reason: e.to_string(),
    })?;
    let url = format!("{log_url}/api/v1/log/entries");
    let raw = post_json(http, STEP, url, &body, |s| {
        s == reqwest::StatusCode::CREATED
    })
    .await?;
    let entries: LogEntry =
        signet_proto::json::from_slice(&raw).map_err(|e| SignError::BadResponse {
            step: STEP,
            reason: e.to_string(),
        })?;
    let mut values = entries.into_values();
    let (Some(entry), None) = (values.next(), values.next()) else {
        return Err(SignError::BadResponse {
            step: STEP,
            reason: "expected exactly one entry in the response".to_owned(),
        });
    };
    Ok(entry)
}

/// The bundle for a logged `entry` of `kind` (version 0.0.1) carrying `content`.
fn assemble(
    identity: &SigningIdentity,
    entry: LogEntryAnon,
    kind: &str,
    content: BundleContent,
) -> Result<Signed, SignError> {
    const STEP: &str = "upload to the transparency log";
    let verification = entry.verification.ok_or_else(|| SignError::BadResponse {
        step: STEP,
        reason: "no verification (inclusion proof and SET) in the log's answer".to_owned(),
    })?;
    let proof = verification
        .inclusion_proof
        .ok_or_else(|| SignError::BadResponse {
            step: STEP,
            reason: "no inclusion proof in the log's answer".to_owned(),
        })?;
    let set = verification
        .signed_entry_timestamp
        .ok_or_else(|| SignError::BadResponse {
            step: STEP,
            reason: "no signedEntryTimestamp in the log's answer".to_owned(),
        })?;
    let hashes = proof
        .hashes
        .iter()
        .map(|h| Base64Bytes(h.as_slice().to_vec()))
        .collect::<Vec<_>>();
    let tlog_entry = TransparencyLogEntry {
        log_index: entry.log_index,
        log_id: LogId {
            key_id: Base64Bytes(entry.log_id.as_slice().to_vec()),
        },
        kind_version: KindVersion {
            kind: kind.to_owned(),
            version: "0.0.1".to_owned(),
        },
        integrated_time: entry.integrated_time,
        inclusion_promise: Some(InclusionPromise {
            signed_entry_timestamp: set,
        }),
        inclusion_proof: Some(InclusionProof {
            log_index: proof.log_index,
            root_hash: Base64Bytes(proof.root_hash.as_slice().to_vec()),
            tree_size: proof.tree_size,
            hashes,
            checkpoint: Some(Checkpoint {
                envelope: proof.checkpoint,
            }),
        }),
        canonicalized_body: Some(entry.body.clone()),
    };
    let material = verification_material(identity);
    let bundle = Bundle {
        media_type: BundleVersion::V0_3,
        verification_material: VerificationMaterial {
            content: material,
            tlog_entries: vec![tlog_entry],
            timestamp_verification_data: Some(TimestampVerificationData::default()),
        },
        content,
    };
    bundle.validate().map_err(|e| SignError::BadResponse {
        step: "bundle assembly",
        reason: e.to_string(),
    })?;
    Ok(Signed {
        bundle,
        log_index: entry.log_index,
        integrated_time: entry.integrated_time,
    })
}

/// The Rekor v2 request for a signature over a `digest` of [`SigningIdentity::hash`] by
/// `identity`.
fn v2_request(
    identity: &SigningIdentity,
    digest: &[u8],
    sig: &[u8],
) -> Result<signet_proto::rekor_v2::HashedRekordRequest, SignError> {
    use signet_proto::rekor_v2::{key_details, HashedRekordRequest, KeyDetails, VerifierKey};
    let (verifier, algorithm) = match identity {
        SigningIdentity::Keyless { leaf_der, .. } => (
            VerifierKey::Certificate(leaf_der.clone()),
            signet_proto::keys::KeyAlgorithm::EcdsaP256,
        ),
        SigningIdentity::Keyed { spki_der, .. } => {
            let key = signet_proto::keys::PublicKey::from_spki_der(spki_der).map_err(|_| {
                SignError::Crypto {
                    what: "read the public key",
                }
            })?;
            (VerifierKey::PublicKey(spki_der.clone()), key.algorithm())
        }
    };
    let details =
        KeyDetails::from_name(&key_details(algorithm)).map_err(|e| SignError::BadResponse {
            step: "entry assembly",
            reason: format!("a Rekor v2 log does not take this key: {e}"),
        })?;
    if details.hash != identity.hash() || digest.len() != details.hash.output_len() {
        return Err(SignError::BadResponse {
            step: "entry assembly",
            reason: format!(
                "{} signs a {}-byte digest; this client signed a {}-byte digest",
                details.name,
                details.hash.output_len(),
                digest.len()
            ),
        });
    }
    Ok(HashedRekordRequest {
        digest: digest.to_vec(),
        signature: sig.to_vec(),
        verifier,
        key_details: details,
    })
}

/// Posts a `hashedRekordRequestV002` for `sig` over `digest` to the Rekor v2 log at `log_url`
/// and returns its `TransparencyLogEntry`, checked: hashedrekord 0.0.2, an inclusion proof
/// with a checkpoint, and a body that is exactly the entry of this request.
async fn submit_v2(
    http: &reqwest::Client,
    log_url: &str,
    identity: &SigningIdentity,
    digest: &[u8],
    sig: &[u8],
) -> Result<TransparencyLogEntry, SignError> {
    const STEP: &str = "upload to the Rekor v2 log";
    let req = v2_request(identity, digest, sig)?;
    let verifier = match &req.verifier {
        signet_proto::rekor_v2::VerifierKey::Certificate(der) => {
            json!({"x509Certificate": {"rawBytes": B64.encode(der)}})
        }
        signet_proto::rekor_v2::VerifierKey::PublicKey(der) => {
            json!({"publicKey": {"rawBytes": B64.encode(der)}})
        }
    };
    let mut verifier = verifier;
    verifier["keyDetails"] = json!(req.key_details.name);
    let body = json!({"hashedRekordRequestV002": {
        "digest": B64.encode(digest),
        "signature": {"content": B64.encode(sig), "verifier": verifier},
    }});
    let url = format!("{log_url}{}", "/api/v2/log/entries");
    let raw = post_json(http, STEP, url, &body, |s| s.is_success()).await?;
    let bad = |reason: String| SignError::BadResponse { step: STEP, reason };
    let entry: TransparencyLogEntry =
        signet_proto::json::from_slice(&raw).map_err(|e| bad(e.to_string()))?;
    if entry.kind_version.kind != "hashedrekord" || entry.kind_version.version != "0.0.2" {
        return Err(bad(format!(
            "the entry is {} {}, not hashedrekord 0.0.2",
            entry.kind_version.kind, entry.kind_version.version
        )));
    }
    if entry
        .inclusion_proof
        .as_ref()
        .and_then(|p| p.checkpoint.as_ref())
        .is_none()
    {
        return Err(bad("no inclusion proof with a checkpoint".to_owned()));
    }
    if entry.canonicalized_body.as_ref().map(|b| b.0.as_slice())
        != Some(req.canonical_body().as_slice())
    {
        return Err(SignError::BadResponse {
            step: "log entry check",
            reason: "the recorded body does not carry what was signed".to_owned(),
        });
    }
    Ok(entry)
}

/// The bundle for a Rekor v2 `entry` carrying `content` (its timestamp is added after).
fn assemble_v2(
    identity: &SigningIdentity,
    entry: TransparencyLogEntry,
    content: BundleContent,
) -> Result<Signed, SignError> {
    let log_index = entry.log_index;
    let bundle = Bundle {
        media_type: BundleVersion::V0_3,
        verification_material: VerificationMaterial {
            content: verification_material(identity),
            tlog_entries: vec![entry],
            timestamp_verification_data: Some(TimestampVerificationData::default()),
        },
        content,
    };
    bundle.validate().map_err(|e| SignError::BadResponse {
        step: "bundle assembly",
        reason: e.to_string(),
    })?;
    Ok(Signed {
        bundle,
        log_index,
        integrated_time: 0,
    })
}

/// The bundle's verification material for `identity`: the leaf certificate, or the key's
/// hint.
fn verification_material(identity: &SigningIdentity) -> VerificationMaterialContent {
    match identity {
        SigningIdentity::Keyless { leaf_der, .. } => {
            VerificationMaterialContent::Certificate(X509Certificate {
                raw_bytes: Base64Bytes(leaf_der.clone()),
            })
        }
        SigningIdentity::Keyed { spki_der, .. } => {
            VerificationMaterialContent::PublicKey(PublicKeyIdentifier {
                hint: B64.encode(aws_lc_rs::digest::digest(&SHA256, spki_der).as_ref()),
            })
        }
    }
}

/// Whether a hashedrekord body records this digest (of the hash named `algorithm`) and
/// signature.
fn records_hashedrekord<'a>(
    algorithm: &'a str,
    digest_hex: &'a str,
    sig_b64: &'a str,
) -> impl Fn(&Value) -> bool + 'a {
    move |v| {
        v.pointer("/spec/data/hash/algorithm")
            .and_then(Value::as_str)
            == Some(algorithm)
            && v.pointer("/spec/data/hash/value").and_then(Value::as_str) == Some(digest_hex)
            && v.pointer("/spec/signature/content").and_then(Value::as_str) == Some(sig_b64)
    }
}

/// Whether a dsse body records a payload of this SHA-256.
fn records_dsse(payload_hex: &str) -> impl Fn(&Value) -> bool + '_ {
    move |v| v.pointer("/spec/payloadHash/value").and_then(Value::as_str) == Some(payload_hex)
}

/// The log must have recorded what we signed, not something else: `recorded` checks the
/// parsed body.
fn check_recorded_body(raw: &[u8], recorded: impl Fn(&Value) -> bool) -> Result<(), SignError> {
    const STEP: &str = "log entry check";
    let v: Value = signet_proto::json::from_slice(raw).map_err(|e| SignError::BadResponse {
        step: STEP,
        reason: format!("body is not JSON: {e}"),
    })?;
    if !recorded(&v) {
        return Err(SignError::BadResponse {
            step: STEP,
            reason: "the recorded body does not carry what was signed".to_owned(),
        });
    }
    Ok(())
}

/// SHA-256 of a file, read in 64 KiB chunks.
pub(crate) fn sha256_file(path: &std::path::Path) -> std::io::Result<[u8; 32]> {
    let d = hash_file(path, Hash::Sha256)?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&d);
    Ok(out)
}

/// The `hash` digest of a file, read in 64 KiB chunks.
pub(crate) fn hash_file(path: &std::path::Path, hash: Hash) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let algorithm = match hash {
        Hash::Sha256 => &SHA256,
        Hash::Sha384 => &SHA384,
        Hash::Sha512 => &SHA512,
        _ => return Err(std::io::Error::other(format!("no {hash:?} digest here"))),
    };
    let mut f = std::fs::File::open(path)?;
    let mut ctx = aws_lc_rs::digest::Context::new(algorithm);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(ctx.finish().as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn recorded_body_must_match() {
        let body = json!({"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"ab"}},"signature":{"content":"c2ln","publicKey":{"content":"x"}}}});
        let b = serde_json::to_vec(&body).unwrap();
        check_recorded_body(&b, records_hashedrekord("sha256", "ab", "c2ln")).unwrap();
        assert!(check_recorded_body(&b, records_hashedrekord("sha384", "ab", "c2ln")).is_err());
        assert!(check_recorded_body(&b, records_hashedrekord("sha256", "cd", "c2ln")).is_err());
        assert!(check_recorded_body(&b, records_hashedrekord("sha256", "ab", "other")).is_err());
        assert!(check_recorded_body(&b, records_dsse("ab")).is_err());
        let dsse = json!({"apiVersion":"0.0.1","kind":"dsse","spec":{"payloadHash":{"algorithm":"sha256","value":"ef"},"envelopeHash":{"algorithm":"sha256","value":"01"},"signatures":[]}});
        let d = serde_json::to_vec(&dsse).unwrap();
        check_recorded_body(&d, records_dsse("ef")).unwrap();
        assert!(check_recorded_body(&d, records_dsse("01")).is_err());
        assert!(check_recorded_body(b"not json", records_dsse("ef")).is_err());
    }

    #[test]
    fn file_digest_matches_one_shot() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let data = vec![7u8; 200_000];
        std::fs::write(&p, &data).unwrap();
        let d = sha256_file(&p).unwrap();
        assert_eq!(&d[..], aws_lc_rs::digest::digest(&SHA256, &data).as_ref());
        for hash in [Hash::Sha384, Hash::Sha512] {
            assert_eq!(hash_file(&p, hash).unwrap(), hash.hash(&data));
        }
    }
}
