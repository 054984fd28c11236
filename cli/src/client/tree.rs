//! `signet tree` and `signet download`: what is attached to an image (Sigstore bundle
//! referrers by kind, cosign's `.sig` / `.att` tags and their layers), listed or written out
//! as files. Nothing is verified here (that is `verify` / `verify-attestation`).

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;
use signet_proto::cosign;

use crate::registry as oci;

/// One thing attached to an image.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Attached {
    /// `sigstore-bundle` (a referrer), `cosign-sig` or `cosign-att` (a tag layer), or
    /// `referrer` (a referrer of another artifact type).
    pub(crate) kind: &'static str,
    /// Where it is: the referrer manifest digest, or the cosign tag.
    pub(crate) manifest: String,
    /// The artifact type of a referrer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) artifact_type: Option<String>,
    /// `dev.sigstore.bundle.content` (message-signature / dsse-envelope), when annotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content: Option<String>,
    /// The predicate type an attestation claims, when annotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) predicate_type: Option<String>,
    /// The layers (bundles, payloads, envelopes): media type and digest.
    pub(crate) layers: Vec<Layer>,
}

/// One layer of an attached manifest.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Layer {
    /// Its media type.
    pub(crate) media_type: String,
    /// Its digest.
    pub(crate) digest: String,
    /// Its annotations (cosign's signature, certificate, bundle ...).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub(crate) annotations: std::collections::BTreeMap<String, String>,
}

/// Everything attached to `digest`: its referrers, then its cosign `.sig` and `.att` tags.
///
/// # Errors
/// Registry errors.
pub(crate) async fn attached(
    registry: &oci::RegistryClient,
    digest: &str,
) -> Result<Vec<Attached>, oci::RegistryError> {
    let mut out = Vec::new();
    let (referrers, _) = registry.referrers(digest, None).await?;
    for r in referrers {
        let manifest = registry.get_image_manifest(&r.digest).await?;
        let annotations = r
            .annotations
            .clone()
            .or_else(|| manifest.annotations.clone())
            .unwrap_or_default();
        let artifact_type = r
            .artifact_type
            .clone()
            .or_else(|| manifest.artifact_type.clone());
        let kind = if artifact_type.as_deref() == Some(oci::BUNDLE_MEDIA_TYPE) {
            "sigstore-bundle"
        } else {
            "referrer"
        };
        out.push(Attached {
            kind,
            manifest: r.digest.clone(),
            artifact_type,
            content: annotations.get("dev.sigstore.bundle.content").cloned(),
            predicate_type: annotations
                .get("dev.sigstore.bundle.predicateType")
                .cloned(),
            layers: layers(&manifest),
        });
    }
    for (tag, kind) in [
        (cosign::signature_tag(digest), "cosign-sig"),
        (cosign::attestation_tag(digest), "cosign-att"),
    ] {
        let Some(tag) = tag else { continue };
        let Some(m) = registry.get_manifest(&tag).await? else {
            continue;
        };
        let manifest: oci::ImageManifest =
            signet_proto::json::from_slice(&m.bytes).map_err(|e| {
                oci::RegistryError::Malformed {
                    what: "cosign tag manifest",
                    reason: e.to_string(),
                }
            })?;
        out.push(Attached {
            kind,
            manifest: format!("{tag} ({})", m.digest),
            artifact_type: None,
            content: None,
            predicate_type: manifest
                .layers
                .first()
                .and_then(|l| l.annotations.as_ref())
                .and_then(|a| a.get("predicateType").cloned()),
            layers: layers(&manifest),
        });
    }
    Ok(out)
}

fn layers(m: &oci::ImageManifest) -> Vec<Layer> {
    m.layers
        .iter()
        .map(|l| Layer {
            media_type: l.media_type.clone(),
            digest: l.digest.clone(),
            annotations: l.annotations.clone().unwrap_or_default(),
        })
        .collect()
}

/// The text form of `signet tree`.
pub(crate) fn render(image: &str, items: &[Attached]) -> String {
    let mut s = format!("{image}\n");
    if items.is_empty() {
        s.push_str("└── (nothing attached)\n");
    }
    for (i, a) in items.iter().enumerate() {
        let last = i + 1 == items.len();
        let (branch, pad) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let mut what = a.kind.to_owned();
        if let Some(c) = &a.content {
            what.push_str(&format!(" [{c}]"));
        }
        if let Some(p) = &a.predicate_type {
            what.push_str(&format!(" predicateType={p}"));
        }
        if let Some(t) = a.artifact_type.as_deref().filter(|_| a.kind == "referrer") {
            what.push_str(&format!(" artifactType={t}"));
        }
        s.push_str(&format!("{branch}{what}: {}\n", a.manifest));
        for (j, l) in a.layers.iter().enumerate() {
            let lb = if j + 1 == a.layers.len() {
                "└── "
            } else {
                "├── "
            };
            s.push_str(&format!("{pad}{lb}{} {}\n", l.media_type, l.digest));
        }
    }
    s
}

/// Writes the bundles and cosign signatures attached to `digest` into `dir`; returns the
/// paths written. Each blob is checked against its digest by the registry client.
///
/// Files: `<referrer hex>.sigstore.json` per bundle; per cosign `.sig` layer
/// `cosign-sig-<layer hex>.payload` (the signed bytes), `.sig` (the base64 signature as
/// cosign's `--signature` takes it), `.crt` / `.chain.pem` / `.rekor.json` when annotated;
/// per `.att` layer `cosign-att-<layer hex>.dsse.json`.
///
/// # Errors
/// Registry and file errors.
pub(crate) async fn download(
    registry: &oci::RegistryClient,
    items: &[Attached],
    dir: &Path,
) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    let mut write = |name: String, bytes: &[u8]| -> anyhow::Result<()> {
        let path = dir.join(&name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.display().to_string());
        Ok(())
    };
    for a in items {
        for l in &a.layers {
            let hex_of = |d: &str| d.trim_start_matches("sha256:").to_owned();
            match a.kind {
                "sigstore-bundle" if l.media_type == oci::BUNDLE_MEDIA_TYPE => {
                    let bytes = registry.get_blob(&l.digest).await?;
                    write(format!("{}.sigstore.json", hex_of(&a.manifest)), &bytes)?;
                }
                "cosign-sig" => {
                    let stem = format!("cosign-sig-{}", hex_of(&l.digest));
                    let bytes = registry.get_blob(&l.digest).await?;
                    write(format!("{stem}.payload"), &bytes)?;
                    for (key, ext) in [
                        (cosign::ANNOTATION_SIGNATURE, "sig"),
                        (cosign::ANNOTATION_CERTIFICATE, "crt"),
                        (cosign::ANNOTATION_CHAIN, "chain.pem"),
                        (cosign::ANNOTATION_BUNDLE, "rekor.json"),
                        (cosign::ANNOTATION_RFC3161, "rfc3161.json"),
                    ] {
                        if let Some(v) = l.annotations.get(key).filter(|v| !v.is_empty()) {
                            write(format!("{stem}.{ext}"), v.as_bytes())?;
                        }
                    }
                }
                "cosign-att" => {
                    let bytes = registry.get_blob(&l.digest).await?;
                    write(
                        format!("cosign-att-{}.dsse.json", hex_of(&l.digest)),
                        &bytes,
                    )?;
                }
                _ => {}
            }
        }
    }
    Ok(written)
}
