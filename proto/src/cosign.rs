//! cosign's OCI signature formats: the `sha256-<hex>.sig` / `.att` tags and their layers.
//!
//! Specs: cosign's signature spec (`specs/SIGNATURE_SPEC.md`: the simple-signing "critical"
//! payload, the `dev.cosignproject.cosign/signature`, `dev.sigstore.cosign/certificate`,
//! `dev.sigstore.cosign/chain`, `dev.sigstore.cosign/bundle` and
//! `dev.sigstore.cosign/rfc3161timestamp` layer annotations), cosign's attestation layers
//! (`application/vnd.dsse.envelope.v1+json`, DSSE v1), and cosign's Rekor bundle annotation
//! (`{"SignedEntryTimestamp", "Payload": {"body", "integratedTime", "logIndex", "logID"}}`).
//!
//! [`CosignLayer::parse`] turns one layer (its media type, declared digest, annotations and
//! the bytes fetched) into typed parts, checking that the bytes match the declared digest.
//! Nothing here verifies a signature, a certificate or a SET: `signet-verifier` does
//! (`signet_verifier::cosign`). The registry I/O is the cli's.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

use crate::bundle::DsseEnvelope;

/// Media type of a simple-signing payload layer (a `.sig` tag's layers).
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Media type of a DSSE envelope layer (a `.att` tag's layers).
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Annotation: base64 signature over the layer bytes (empty for `.att` layers).
pub const ANNOTATION_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
/// Annotation: the signer's PEM certificate (keyless or PKI).
pub const ANNOTATION_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
/// Annotation: the PEM chain above the certificate.
pub const ANNOTATION_CHAIN: &str = "dev.sigstore.cosign/chain";
/// Annotation: the Rekor bundle (SET and entry) as JSON.
pub const ANNOTATION_BUNDLE: &str = "dev.sigstore.cosign/bundle";
/// Annotation: an RFC 3161 timestamp bundle (`{"SignedRFC3161Timestamp": base64}`).
pub const ANNOTATION_RFC3161: &str = "dev.sigstore.cosign/rfc3161timestamp";
/// The predicate type annotation cosign's `attest` puts on an `.att` layer (the in-toto
/// statement's `predicateType`, unsigned: the verifier checks it against the signed statement).
pub const ANNOTATION_PREDICATE_TYPE: &str = "predicateType";
/// The `critical.type` of an image signature payload.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

/// The most layers a signature or attestation manifest may have before it is refused.
pub const MAX_LAYERS: usize = 64;
/// The largest layer payload read (cosign payloads are small; attestations can be SBOMs).
pub const MAX_PAYLOAD_BYTES: usize = 16 << 20;

/// A cosign format error: what is malformed, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CosignError {
    /// The layer bytes fetched are not the bytes the manifest declares.
    #[error(
        "cosign layer digest mismatch: the manifest declares {declared}, the blob is {actual}"
    )]
    LayerDigest {
        /// The manifest's digest.
        declared: String,
        /// sha256 of the bytes.
        actual: String,
    },
    /// The layer media type is neither simple signing nor DSSE.
    #[error("cosign layer media type {0:?} is neither {SIMPLE_SIGNING_MEDIA_TYPE} nor {DSSE_MEDIA_TYPE}")]
    MediaType(String),
    /// An annotation is malformed.
    #[error("cosign annotation {name}: {reason}")]
    Annotation {
        /// The annotation key.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The simple-signing payload is malformed.
    #[error("cosign simple-signing payload: {0}")]
    Payload(String),
    /// The DSSE envelope layer is malformed.
    #[error("cosign DSSE envelope layer: {0}")]
    Envelope(String),
    /// The payload or envelope is larger than [`MAX_PAYLOAD_BYTES`].
    #[error("cosign layer of {0} bytes exceeds the limit of {MAX_PAYLOAD_BYTES} bytes")]
    TooLarge(usize),
}

/// The tag under which cosign stores the signatures of `digest` (`sha256:<hex>`):
/// `sha256-<hex>.sig`; `None` when `digest` is not a sha256 digest.
#[must_use]
pub fn signature_tag(digest: &str) -> Option<String> {
    tag(digest, "sig")
}

/// The tag under which cosign stores the attestations of `digest`: `sha256-<hex>.att`.
#[must_use]
pub fn attestation_tag(digest: &str) -> Option<String> {
    tag(digest, "att")
}

fn tag(digest: &str, suffix: &str) -> Option<String> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256-{}.{suffix}", hex.to_ascii_lowercase()))
}

/// The simple-signing payload: what the signature says it signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleSigning {
    /// `critical.image.docker-manifest-digest`, as written (`sha256:<hex>`).
    pub docker_manifest_digest: String,
    /// `critical.identity.docker-reference`, when present.
    pub docker_reference: Option<String>,
    /// `optional`, when an object (cosign's `-a key=value` annotations).
    pub optional: BTreeMap<String, serde_json::Value>,
}

impl SimpleSigning {
    /// Parses the payload bytes (JSON). `critical.type` must be
    /// [`SIMPLE_SIGNING_TYPE`] (compared case-insensitively, as cosign does).
    ///
    /// # Errors
    /// [`CosignError::Payload`] naming the missing or malformed field.
    pub fn parse(payload: &[u8]) -> Result<Self, CosignError> {
        #[derive(Deserialize)]
        struct Raw {
            critical: Critical,
            #[serde(default)]
            optional: Option<serde_json::Value>,
        }
        #[derive(Deserialize)]
        struct Critical {
            #[serde(default)]
            identity: Option<Identity>,
            image: Image,
            #[serde(rename = "type")]
            ty: String,
        }
        #[derive(Deserialize)]
        struct Identity {
            #[serde(rename = "docker-reference", default)]
            docker_reference: Option<String>,
        }
        #[derive(Deserialize)]
        struct Image {
            #[serde(rename = "docker-manifest-digest")]
            docker_manifest_digest: String,
        }
        let raw: Raw = crate::json::from_slice(payload)
            .map_err(|e| CosignError::Payload(format!("not the simple-signing JSON: {e}")))?;
        if !raw.critical.ty.eq_ignore_ascii_case(SIMPLE_SIGNING_TYPE) {
            return Err(CosignError::Payload(format!(
                "critical.type is {:?}, not {SIMPLE_SIGNING_TYPE:?}",
                raw.critical.ty
            )));
        }
        let optional = match raw.optional {
            Some(serde_json::Value::Object(m)) => m.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        Ok(Self {
            docker_manifest_digest: raw.critical.image.docker_manifest_digest,
            docker_reference: raw.critical.identity.and_then(|i| i.docker_reference),
            optional,
        })
    }

    /// The named digest as 32 bytes, when it is `sha256:` and 64 hex digits.
    #[must_use]
    pub fn sha256(&self) -> Option<[u8; 32]> {
        let hex_part = self.docker_manifest_digest.strip_prefix("sha256:")?;
        if hex_part.len() != 64 {
            return None;
        }
        <[u8; 32]>::try_from(hex::decode(hex_part).ok()?).ok()
    }
}

/// cosign's Rekor bundle annotation: the SET and the entry it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekorBundle {
    /// The SET (`SignedEntryTimestamp`), a signature by the log key.
    pub signed_entry_timestamp: Vec<u8>,
    /// The canonicalized entry body (decoded from base64).
    pub body: Vec<u8>,
    /// The entry's integrated time (Unix seconds).
    pub integrated_time: i64,
    /// The entry's log index.
    pub log_index: u64,
    /// The log ID (SHA-256 of the log key's SPKI).
    pub log_id: [u8; 32],
}

impl RekorBundle {
    /// Parses the `dev.sigstore.cosign/bundle` annotation value.
    ///
    /// # Errors
    /// [`CosignError::Annotation`] naming the malformed field.
    pub fn parse(json: &str) -> Result<Self, CosignError> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "SignedEntryTimestamp")]
            set: String,
            #[serde(rename = "Payload")]
            payload: Payload,
        }
        #[derive(Deserialize)]
        struct Payload {
            body: String,
            #[serde(rename = "integratedTime")]
            integrated_time: i64,
            #[serde(rename = "logIndex")]
            log_index: i64,
            #[serde(rename = "logID")]
            log_id: String,
        }
        let bad = |reason: String| CosignError::Annotation {
            name: ANNOTATION_BUNDLE,
            reason,
        };
        let raw: Raw = serde_json::from_str(json).map_err(|e| bad(format!("not JSON: {e}")))?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let signed_entry_timestamp = b64
            .decode(raw.set.as_bytes())
            .map_err(|e| bad(format!("SignedEntryTimestamp is not base64: {e}")))?;
        let body = b64
            .decode(raw.payload.body.as_bytes())
            .map_err(|e| bad(format!("Payload.body is not base64: {e}")))?;
        let log_index = u64::try_from(raw.payload.log_index)
            .map_err(|_| bad("Payload.logIndex is negative".to_owned()))?;
        let log_id = hex::decode(&raw.payload.log_id)
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| bad("Payload.logID is not 64 hex digits".to_owned()))?;
        Ok(Self {
            signed_entry_timestamp,
            body,
            integrated_time: raw.payload.integrated_time,
            log_index,
            log_id,
        })
    }
}

/// What a layer's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerContent {
    /// A simple-signing payload (a `.sig` layer): the signature annotation signs these bytes.
    SimpleSigning(SimpleSigning),
    /// A DSSE envelope (a `.att` layer): the envelope's signature signs its PAE.
    Dsse(DsseEnvelope),
}

/// One layer of a cosign `.sig` or `.att` manifest, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignLayer {
    /// The layer's digest (`sha256:<hex>`), checked against the bytes.
    pub digest: String,
    /// The layer bytes exactly as fetched.
    pub payload: Vec<u8>,
    /// What the bytes are.
    pub content: LayerContent,
    /// The signature annotation, decoded (empty when absent or empty, as in `.att` layers).
    pub signature: Vec<u8>,
    /// The certificate annotation, DER.
    pub certificate: Option<Vec<u8>>,
    /// The chain annotation, DER certificates in order.
    pub chain: Vec<Vec<u8>>,
    /// The Rekor bundle annotation.
    pub rekor: Option<RekorBundle>,
    /// The RFC 3161 timestamp annotation's DER `TimeStampResp`.
    pub rfc3161_timestamp: Option<Vec<u8>>,
    /// The `predicateType` annotation (`.att` layers), as written.
    pub predicate_type: Option<String>,
}

fn pem_certificates(name: &'static str, text: &str) -> Result<Vec<Vec<u8>>, CosignError> {
    let blocks = pem::parse_many(text.as_bytes()).map_err(|e| CosignError::Annotation {
        name,
        reason: format!("not PEM: {e}"),
    })?;
    if blocks.is_empty() {
        return Err(CosignError::Annotation {
            name,
            reason: "no PEM certificate".to_owned(),
        });
    }
    blocks
        .into_iter()
        .map(|b| {
            if b.tag() == "CERTIFICATE" {
                Ok(b.into_contents())
            } else {
                Err(CosignError::Annotation {
                    name,
                    reason: format!("PEM block {:?} is not a CERTIFICATE", b.tag()),
                })
            }
        })
        .collect()
}

impl CosignLayer {
    /// Parses one layer: `media_type` and `declared_digest` from the manifest, its
    /// `annotations`, and the `payload` bytes fetched from the registry.
    ///
    /// # Errors
    /// [`CosignError::LayerDigest`] when the bytes are not the declared digest, else the
    /// malformed part.
    pub fn parse(
        media_type: &str,
        declared_digest: &str,
        annotations: &BTreeMap<String, String>,
        payload: Vec<u8>,
    ) -> Result<Self, CosignError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(CosignError::TooLarge(payload.len()));
        }
        let actual = crate::oci::sha256_digest(&payload);
        if !actual.eq_ignore_ascii_case(declared_digest) {
            return Err(CosignError::LayerDigest {
                declared: declared_digest.to_owned(),
                actual,
            });
        }
        let content = match media_type {
            SIMPLE_SIGNING_MEDIA_TYPE => {
                LayerContent::SimpleSigning(SimpleSigning::parse(&payload)?)
            }
            DSSE_MEDIA_TYPE => {
                let env: DsseEnvelope = crate::json::from_slice(&payload)
                    .map_err(|e| CosignError::Envelope(format!("not a DSSE envelope: {e}")))?;
                if env.signatures.len() != 1 {
                    return Err(CosignError::Envelope(format!(
                        "{} signatures; exactly one is supported",
                        env.signatures.len()
                    )));
                }
                LayerContent::Dsse(env)
            }
            other => return Err(CosignError::MediaType(other.to_owned())),
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let signature = match annotations.get(ANNOTATION_SIGNATURE) {
            // Go's base64 decoder (cosign's) skips line breaks; some signers wrap at 76.
            Some(s) => b64
                .decode(
                    s.bytes()
                        .filter(|b| !matches!(b, b'\r' | b'\n'))
                        .collect::<Vec<u8>>()
                        .trim_ascii(),
                )
                .map_err(|e| CosignError::Annotation {
                    name: ANNOTATION_SIGNATURE,
                    reason: format!("not base64: {e}"),
                })?,
            None => Vec::new(),
        };
        if signature.is_empty() && matches!(content, LayerContent::SimpleSigning(_)) {
            return Err(CosignError::Annotation {
                name: ANNOTATION_SIGNATURE,
                reason: "missing or empty on a simple-signing layer".to_owned(),
            });
        }
        let certificate = match annotations.get(ANNOTATION_CERTIFICATE) {
            Some(s) if !s.trim().is_empty() => {
                let mut certs = pem_certificates(ANNOTATION_CERTIFICATE, s)?;
                if certs.len() != 1 {
                    return Err(CosignError::Annotation {
                        name: ANNOTATION_CERTIFICATE,
                        reason: format!("{} certificates; exactly one expected", certs.len()),
                    });
                }
                certs.pop()
            }
            _ => None,
        };
        let chain = match annotations.get(ANNOTATION_CHAIN) {
            Some(s) if !s.trim().is_empty() => pem_certificates(ANNOTATION_CHAIN, s)?,
            _ => Vec::new(),
        };
        let rekor = match annotations.get(ANNOTATION_BUNDLE) {
            Some(s) if !s.trim().is_empty() => Some(RekorBundle::parse(s)?),
            _ => None,
        };
        let rfc3161_timestamp = match annotations.get(ANNOTATION_RFC3161) {
            Some(s) if !s.trim().is_empty() => Some(parse_rfc3161_annotation(s)?),
            _ => None,
        };
        let predicate_type = annotations.get(ANNOTATION_PREDICATE_TYPE).cloned();
        Ok(Self {
            digest: actual,
            payload,
            content,
            signature,
            certificate,
            chain,
            rekor,
            rfc3161_timestamp,
            predicate_type,
        })
    }
}

/// cosign's `{"SignedRFC3161Timestamp": "<base64 DER>"}`.
fn parse_rfc3161_annotation(s: &str) -> Result<Vec<u8>, CosignError> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(rename = "SignedRFC3161Timestamp")]
        signed: String,
    }
    let bad = |reason: String| CosignError::Annotation {
        name: ANNOTATION_RFC3161,
        reason,
    };
    let raw: Raw = serde_json::from_str(s).map_err(|e| bad(format!("not JSON: {e}")))?;
    base64::engine::general_purpose::STANDARD
        .decode(raw.signed.as_bytes())
        .map_err(|e| bad(format!("SignedRFC3161Timestamp is not base64: {e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture(dir: &str, file: &str) -> Vec<u8> {
        let p = format!(
            "{}/../testdata/cosign/{dir}/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    fn annotations(dir: &str) -> BTreeMap<String, String> {
        crate::json::from_slice(&fixture(dir, "layer-1.annotations.json")).unwrap()
    }

    fn layer_digest(dir: &str) -> String {
        let f: serde_json::Value = crate::json::from_slice(&fixture(dir, "fixture.json")).unwrap();
        f["layers"][0]["layer_digest"].as_str().unwrap().to_owned()
    }

    #[test]
    fn tags() {
        let d = format!("sha256:{}", "A".repeat(64));
        assert_eq!(
            signature_tag(&d).unwrap(),
            format!("sha256-{}.sig", "a".repeat(64))
        );
        assert!(attestation_tag(&d).unwrap().ends_with(".att"));
        assert_eq!(signature_tag("sha256:abc"), None);
        assert_eq!(signature_tag(&format!("sha512:{}", "a".repeat(64))), None);
    }

    #[test]
    fn parses_keyless_sig_layer() {
        let dir = "cimage-keyless-public-good";
        let l = CosignLayer::parse(
            SIMPLE_SIGNING_MEDIA_TYPE,
            &layer_digest(dir),
            &annotations(dir),
            fixture(dir, "layer-1.payload"),
        )
        .unwrap();
        let LayerContent::SimpleSigning(s) = &l.content else {
            panic!("not simple signing")
        };
        assert_eq!(
            s.docker_manifest_digest,
            "sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a"
        );
        assert!(s.sha256().is_some());
        assert!(l.certificate.is_some());
        assert_eq!(l.chain.len(), 2);
        let r = l.rekor.as_ref().unwrap();
        assert_eq!(r.log_index, 11_605_770);
        assert_eq!(r.integrated_time, 1_674_247_893);
        assert!(!l.signature.is_empty());
    }

    #[test]
    fn parses_att_layer_with_empty_signature() {
        let dir = "ocx-cosign3-att-key";
        let l = CosignLayer::parse(
            DSSE_MEDIA_TYPE,
            &layer_digest(dir),
            &annotations(dir),
            fixture(dir, "layer-1.payload"),
        )
        .unwrap();
        assert!(matches!(l.content, LayerContent::Dsse(_)));
        assert!(l.signature.is_empty());
    }

    #[test]
    fn refuses_bytes_that_are_not_the_declared_digest() {
        let dir = "cimage-key";
        let mut payload = fixture(dir, "layer-1.payload");
        payload[10] ^= 1;
        let err = CosignLayer::parse(
            SIMPLE_SIGNING_MEDIA_TYPE,
            &layer_digest(dir),
            &annotations(dir),
            payload,
        )
        .unwrap_err();
        assert!(matches!(err, CosignError::LayerDigest { .. }), "{err}");
    }

    #[test]
    fn refuses_malformed_parts() {
        let dir = "cimage-key";
        let payload = fixture(dir, "layer-1.payload");
        let digest = layer_digest(dir);
        let mut a = annotations(dir);
        a.insert(ANNOTATION_SIGNATURE.to_owned(), "!!".to_owned());
        let err = CosignLayer::parse(SIMPLE_SIGNING_MEDIA_TYPE, &digest, &a, payload.clone())
            .unwrap_err();
        assert!(matches!(
            err,
            CosignError::Annotation {
                name: ANNOTATION_SIGNATURE,
                ..
            }
        ));
        let mut a = annotations(dir);
        a.remove(ANNOTATION_SIGNATURE);
        assert!(
            CosignLayer::parse(SIMPLE_SIGNING_MEDIA_TYPE, &digest, &a, payload.clone()).is_err()
        );
        let mut a = annotations(dir);
        a.insert(ANNOTATION_BUNDLE.to_owned(), "{}".to_owned());
        let err = CosignLayer::parse(SIMPLE_SIGNING_MEDIA_TYPE, &digest, &a, payload.clone())
            .unwrap_err();
        assert!(matches!(
            err,
            CosignError::Annotation {
                name: ANNOTATION_BUNDLE,
                ..
            }
        ));
        let mut a = annotations(dir);
        a.insert(ANNOTATION_CERTIFICATE.to_owned(), "not pem".to_owned());
        assert!(
            CosignLayer::parse(SIMPLE_SIGNING_MEDIA_TYPE, &digest, &a, payload.clone()).is_err()
        );
        let err = CosignLayer::parse("application/json", &digest, &annotations(dir), payload)
            .unwrap_err();
        assert!(matches!(err, CosignError::MediaType(_)));
        assert!(SimpleSigning::parse(
            br#"{"critical":{"image":{"docker-manifest-digest":"x"},"type":"other"}}"#
        )
        .is_err());
        assert!(SimpleSigning::parse(b"[]").is_err());
    }
}
