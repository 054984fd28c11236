//! cosign's OCI signatures: one layer of a `sha256-<hex>.sig` or `.att` tag, verified with the
//! same checks as a bundle.
//!
//! Specs: cosign's signature spec (simple-signing payload and layer annotations, parsed by
//! `signet_proto::cosign`), DSSE v1 with in-toto statements for `.att` layers, Rekor v1 SETs
//! and entry bodies. The checks, in order (the first failure is returned):
//! 1. the payload names the image: a simple-signing payload's `docker-manifest-digest` is the
//!    image digest ([`CosignError::DigestMismatch`]); for a DSSE layer, the in-toto subject is
//!    checked with the signature (step 5), and a `predicateType` annotation must be the
//!    statement's own ([`CosignError::AnnotationMismatch`]);
//! 2. the signing time: with a Rekor bundle annotation, the log is trusted, the SET verifies
//!    over `{body, integratedTime, logID, logIndex}` and `integratedTime` is not in the future
//!    and inside the log key's `validFor`; an RFC 3161 timestamp annotation that verifies adds
//!    a time. Without a Rekor bundle only keyed signatures verify, and only when the caller
//!    does not require a log entry ([`CosignError::NoLogEntry`], [`CosignError::NoSigningTime`]);
//! 3. who signed: the certificate annotation chains to a trusted CA at every signing time,
//!    follows the leaf profile, carries a verified SCT and satisfies the identity policy, or
//!    the policy's key is the signer (as for bundles, `certificate`);
//! 4. the chain annotation, when present, starts with the leaf's issuer (its first
//!    certificate's subject is the leaf's issuer) ([`CosignError::AnnotationMismatch`]);
//! 5. the signature: over the layer bytes (simple signing), or over the DSSE PAE with an
//!    in-toto subject naming the image digest (an `.att` layer's signature annotation, when not
//!    empty, must be the envelope's signature);
//! 6. the entry body (`hashedrekord` 0.0.1 for `.sig`, `dsse` 0.0.1 / `intoto` 0.0.2 for
//!    `.att`) names the layer digest, the signature and the certificate or key (`body`).
//!
//! Not here: fetching the tag (the cli), inclusion proofs (cosign's bundle annotation carries
//! none: the SET is the log's promise), `rekord` and `intoto` 0.0.1 entry bodies.

use signet_proto::cert::Identity;
use signet_proto::cosign::{
    CosignLayer, LayerContent, ANNOTATION_CHAIN, ANNOTATION_PREDICATE_TYPE, ANNOTATION_SIGNATURE,
};
use signet_proto::keys::PublicKey;

use super::times::{set_payload, time_window, SigningTime};
use super::{body, certificate, signature, Artifact, Digests, EntryKind};
use crate::bundle::{Content, Material, MessageDigest};
use crate::error::{CosignError, SetError, TimeError, TlogError, VerificationError};
use crate::policy::Policy;
use crate::trust::{sha256, TrustMaterial};
use crate::UnixTime;

/// What a verified cosign signature or attestation layer established.
#[derive(Debug, Clone)]
pub struct VerifiedCosign {
    /// The certificate identity (`None` in keyed mode).
    pub identity: Option<Identity>,
    /// The key that signed.
    pub signing_key: PublicKey,
    /// The layer digest (`sha256:<hex>`).
    pub layer_digest: String,
    /// The log index, when a Rekor bundle annotation was verified.
    pub log_index: Option<u64>,
    /// The log's base URL, when a Rekor bundle annotation was verified.
    pub log_url: Option<String>,
    /// The integrated time covered by the verified SET.
    pub integrated_time: Option<UnixTime>,
    /// The DSSE payload type and payload, for `.att` layers.
    pub dsse_payload: Option<(String, Vec<u8>)>,
}

/// Verifies one cosign layer for the image whose manifest digest is `image_digest`, under
/// `policy` against `trust`. `require_tlog`: a signature without a Rekor bundle annotation is
/// refused (cosign's default); `false` accepts keyed signatures made without a log (cosign's
/// `--insecure-ignore-tlog`). `now`, when given, bounds the signing time.
///
/// # Errors
/// The first failing check, as a [`VerificationError`] variant naming it.
pub fn verify_cosign(
    layer: &CosignLayer,
    image_digest: &[u8; 32],
    policy: &Policy,
    trust: &TrustMaterial,
    now: Option<UnixTime>,
    require_tlog: bool,
) -> Result<VerifiedCosign, VerificationError> {
    // 1. The payload names this image.
    if let LayerContent::SimpleSigning(s) = &layer.content {
        if s.sha256() != Some(*image_digest) {
            return Err(CosignError::DigestMismatch {
                payload: s.docker_manifest_digest.clone(),
                image: format!("sha256:{}", hex::encode(image_digest)),
            }
            .into());
        }
    }
    // An `.att` layer's predicateType annotation names the signed statement's type.
    if let (Some(annotated), LayerContent::Dsse(env)) = (&layer.predicate_type, &layer.content) {
        let signed = statement_predicate_type(&env.payload);
        if signed.as_deref() != Some(annotated.as_str()) {
            return Err(CosignError::AnnotationMismatch {
                annotation: ANNOTATION_PREDICATE_TYPE,
                with: format!(
                    "the statement's predicateType ({})",
                    signed.as_deref().unwrap_or("none")
                ),
            }
            .into());
        }
    }
    let (content, signature_bytes) = match &layer.content {
        LayerContent::SimpleSigning(_) => (
            Content::Message {
                digest: None,
                signature: layer.signature.clone(),
            },
            layer.signature.as_slice(),
        ),
        LayerContent::Dsse(env) => {
            let sig = env
                .signatures
                .first()
                .map(|s| s.sig.as_slice())
                .unwrap_or_default();
            if !layer.signature.is_empty() && layer.signature != sig {
                return Err(CosignError::AnnotationMismatch {
                    annotation: ANNOTATION_SIGNATURE,
                    with: "the DSSE envelope's signature".to_owned(),
                }
                .into());
            }
            (
                Content::Dsse {
                    envelope: env.clone(),
                },
                sig,
            )
        }
    };

    // 2. The signing times.
    let mut times: Vec<SigningTime> = Vec::new();
    let mut log = None;
    if let Some(rekor) = &layer.rekor {
        let key = trust
            .tlog(&rekor.log_id)
            .ok_or_else(|| TlogError::UnknownLog {
                log_id: hex::encode(rekor.log_id),
            })?;
        let payload = set_payload(
            &rekor.body,
            rekor.integrated_time,
            &key.log_id,
            rekor.log_index,
        )?;
        key.key
            .verify(&payload, &rekor.signed_entry_timestamp)
            .map_err(|e| SetError::Invalid {
                log: key.base_url.clone(),
                reason: e.to_string(),
            })?;
        times.push((rekor.integrated_time, 0));
        log = Some((key, rekor));
    }
    if let Some(ts) = &layer.rfc3161_timestamp {
        let t = crate::timestamp::verify_timestamp(ts, signature_bytes, trust)?;
        times.push((t.gen_time, t.gen_time_nanos));
    }
    for &t in &times {
        if let Some(now) = now {
            // Whole seconds: the verification time has no fraction, a TSA's genTime may (a
            // timestamp from within the current second is not in the future).
            if t.0 > now.as_unix_seconds() {
                return Err(TimeError::InFuture {
                    integrated: t.0,
                    now: now.as_unix_seconds(),
                }
                .into());
            }
        }
        if let Some((key, _)) = log {
            time_window(
                || format!("transparency log key ({})", key.base_url),
                &key.valid_for,
                t,
            )?;
        }
    }
    if log.is_none() && require_tlog {
        return Err(CosignError::NoLogEntry.into());
    }

    // 3. Who signed.
    let material = match &layer.certificate {
        Some(der) => Material::Certificate(der.clone()),
        None => Material::PublicKey,
    };
    let (first, others) = match (times.split_first(), &material) {
        (Some((first, others)), _) => (*first, others),
        (None, Material::Certificate(_)) => return Err(CosignError::NoSigningTime.into()),
        // Keyed without a log: no time is checked (the key is the only trust).
        (None, Material::PublicKey) => ((0, 0), &[][..]),
    };
    let signer = certificate::signer(policy, &material, trust, first, others)?;

    // 4. The chain annotation starts at the leaf's issuer.
    if let (Some(leaf), Some(first_chain)) = (signer.leaf_der, layer.chain.first()) {
        check_chain_start(leaf, first_chain)?;
    }

    // 5. The signature: a simple-signing payload's over its digest under the hash the log
    // entry states (SHA-256 unless a hashedrekord body says sha384 or sha512).
    // (The body's kind is only read here; a kind that does not fit is refused in 6., after
    // the signature.)
    let kind = log.and_then(|(_, rekor)| body_kind(&rekor.body, &content).ok());
    let digests = match (&content, kind, log) {
        (Content::Message { .. }, Some(kind), Some((_, rekor))) => Artifact::Bytes(&layer.payload)
            .digests(body::message_hash(kind, &rekor.body, &content))?,
        (Content::Message { .. }, _, _) => Digests {
            sha256: sha256(&layer.payload),
            message: MessageDigest::sha256(&sha256(&layer.payload)),
        },
        (Content::Dsse { .. }, _, _) => Digests {
            sha256: *image_digest,
            message: MessageDigest::sha256(image_digest),
        },
    };
    let dsse_payload = match &content {
        Content::Message { signature, .. } => {
            signature::verify_message_signature(
                &signer.key,
                Artifact::Bytes(&layer.payload),
                &digests.message,
                signature,
            )?;
            None
        }
        Content::Dsse { .. } => signature::check_signature(
            &content,
            Artifact::Sha256Digest(*image_digest),
            &digests,
            &signer.key,
        )?,
    };

    // 6. The entry body.
    if let Some((_, rekor)) = log {
        let kind = body_kind(&rekor.body, &content)?;
        body::check_entry_body(
            kind,
            &rekor.body,
            &content,
            &digests,
            signer.leaf_der,
            &signer.key,
        )?;
    }

    Ok(VerifiedCosign {
        identity: signer.identity,
        signing_key: signer.key,
        layer_digest: layer.digest.clone(),
        log_index: log.map(|(_, r)| r.log_index),
        log_url: log.map(|(k, _)| k.base_url.clone()),
        integrated_time: log.map(|(_, r)| UnixTime::from_unix_seconds(r.integrated_time)),
        dsse_payload,
    })
}

/// The `predicateType` of a DSSE payload read as an in-toto statement (`None` when it is not
/// one).
fn statement_predicate_type(payload: &[u8]) -> Option<String> {
    let v: serde_json::Value = signet_proto::json::from_slice(payload).ok()?;
    v.get("predicateType")?.as_str().map(str::to_owned)
}

/// The kind of a Rekor v1 entry body, which must fit the layer content.
fn body_kind(body: &[u8], content: &Content) -> Result<EntryKind, TlogError> {
    #[derive(serde::Deserialize)]
    struct KindOnly {
        kind: String,
        #[serde(rename = "apiVersion")]
        api_version: String,
    }
    let k: KindOnly = signet_proto::json::from_slice(body).map_err(|e| TlogError::Body {
        reason: format!("not a Rekor entry body: {e}"),
    })?;
    let kind = match (k.kind.as_str(), k.api_version.as_str(), content) {
        ("hashedrekord", "0.0.1", Content::Message { .. }) => EntryKind::HashedRekord,
        ("dsse", "0.0.1", Content::Dsse { .. }) => EntryKind::Dsse,
        ("intoto", "0.0.2", Content::Dsse { .. }) => EntryKind::IntotoV002,
        _ => {
            return Err(TlogError::Kind {
                kind: k.kind,
                version: k.api_version,
                reason: "cosign signatures are verified with hashedrekord 0.0.1 entries, \
                         attestations with dsse 0.0.1 or intoto 0.0.2 entries"
                    .to_owned(),
            })
        }
    };
    Ok(kind)
}

/// The chain annotation's first certificate must be the leaf's issuer (by name and by the
/// signature on the leaf).
fn check_chain_start(leaf_der: &[u8], issuer_der: &[u8]) -> Result<(), CosignError> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let mismatch = |with: String| CosignError::AnnotationMismatch {
        annotation: ANNOTATION_CHAIN,
        with,
    };
    let (_, leaf) = X509Certificate::from_der(leaf_der)
        .map_err(|e| mismatch(format!("the certificate (which does not parse: {e})")))?;
    let (_, issuer) = X509Certificate::from_der(issuer_der).map_err(|e| {
        mismatch(format!(
            "the certificate (its first entry does not parse: {e})"
        ))
    })?;
    if leaf.issuer() != issuer.subject() {
        return Err(mismatch(format!(
            "the certificate: its first entry is {}, the certificate's issuer is {}",
            issuer.subject(),
            leaf.issuer()
        )));
    }
    Ok(())
}
