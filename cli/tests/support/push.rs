//! Test helper: pushing blobs and manifests to a registry over the distribution API, and
//! cosign's signature manifests (`sha256-<hex>.sig` / `.att` images) as cosign builds them.

#![allow(dead_code, clippy::unwrap_used, unreachable_pub, missing_docs)]

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use super::TestRegistry;

/// The OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn sha256(b: &[u8]) -> String {
    signet_proto::oci::sha256_digest(b)
}

/// Pushes blobs and manifests over the distribution API.
pub struct Pusher {
    pub http: reqwest::blocking::Client,
    /// `http://HOST:PORT/v2`.
    pub base: String,
}

impl Pusher {
    pub fn new(reg: &TestRegistry) -> Self {
        Self {
            http: reqwest::blocking::Client::new(),
            base: format!("http://{}/v2", reg.addr),
        }
    }

    pub fn blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let r = self
            .http
            .post(format!("{}/{repo}/blobs/uploads/", self.base))
            .send()
            .unwrap();
        assert!(r.status().is_success(), "upload start: {}", r.status());
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        let sep = if loc.contains('?') { '&' } else { '?' };
        let url = if loc.starts_with("http") {
            format!("{loc}{sep}digest={digest}")
        } else {
            format!(
                "{}{loc}{sep}digest={digest}",
                self.base.trim_end_matches("/v2")
            )
        };
        let r = self
            .http
            .put(url)
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .unwrap();
        assert!(r.status().is_success(), "blob put: {}", r.status());
        digest
    }

    pub fn manifest(&self, repo: &str, reference: &str, bytes: &[u8]) -> String {
        let v: Value = signet_proto::json::from_slice(bytes).unwrap();
        let media_type = v["mediaType"].as_str().unwrap_or(OCI_MANIFEST).to_owned();
        let r = self
            .http
            .put(format!("{}/{repo}/manifests/{reference}", self.base))
            .header("content-type", media_type)
            .body(bytes.to_vec())
            .send()
            .unwrap();
        let status = r.status();
        assert!(
            status.is_success(),
            "manifest put {reference}: {status} {}",
            r.text().unwrap()
        );
        sha256(bytes)
    }
}

impl Pusher {
    /// Pushes an OCI image layout (as notation's e2e tests keep them) byte for byte: every
    /// blob that is not a manifest, then the manifests (untagged ones by digest first, then the
    /// tagged ones: image, then referrers tag index), each under its
    /// `org.opencontainers.image.ref.name`.
    pub fn layout(&self, repo: &str, layout: &Path) {
        let read = |p: &Path| {
            std::fs::read(p).unwrap_or_else(|e| panic!("test vector {}: {e}", p.display()))
        };
        let index: Value =
            signet_proto::json::from_slice(&read(&layout.join("index.json"))).unwrap();
        let entries = index["manifests"].as_array().unwrap();
        let is_manifest = |d: &str| entries.iter().any(|e| e["digest"] == d);
        for f in std::fs::read_dir(layout.join("blobs/sha256")).unwrap() {
            let f = f.unwrap().path();
            let digest = format!("sha256:{}", f.file_name().unwrap().to_str().unwrap());
            if !is_manifest(&digest) {
                self.blob(repo, &read(&f));
            }
        }
        let mut ordered: Vec<&Value> = entries.iter().collect();
        ordered.sort_by_key(|e| {
            let tagged = e["annotations"]["org.opencontainers.image.ref.name"].is_string();
            let index = e["mediaType"] == "application/vnd.oci.image.index.v1+json";
            (index, tagged)
        });
        for e in ordered {
            let digest = e["digest"].as_str().unwrap();
            let bytes = read(&layout.join("blobs/sha256").join(&digest[7..]));
            let reference = e["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap_or(digest);
            self.manifest(repo, reference, &bytes);
        }
    }

    /// Attaches `envelope` as the only Notary Project signature of the image `image_digest` in
    /// `repo`: a copy of the signature manifest `template` (one of a notation layout) with its
    /// layer replaced (and its `subject` replaced, when given), pushed by digest, and a
    /// referrers tag index listing it alone. Returns the signature manifest's digest.
    pub fn attach_notary(
        &self,
        repo: &str,
        image_digest: &str,
        template: &[u8],
        envelope: &[u8],
        subject: Option<Value>,
    ) -> String {
        self.blob(repo, b"{}");
        let layer = self.blob(repo, envelope);
        let mut manifest: Value = signet_proto::json::from_slice(template).unwrap();
        manifest["layers"][0]["digest"] = layer.into();
        manifest["layers"][0]["size"] = envelope.len().into();
        if let Some(subject) = subject {
            manifest["subject"] = subject;
        }
        let mbytes = serde_json::to_vec(&manifest).unwrap();
        let mdigest = self.manifest(repo, &sha256(&mbytes), &mbytes);
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": OCI_MANIFEST,
                "digest": mdigest,
                "size": mbytes.len(),
                "artifactType": "application/vnd.cncf.notary.signature"
            }]
        });
        self.manifest(
            repo,
            &format!("sha256-{}", &image_digest[7..]),
            &serde_json::to_vec(&index).unwrap(),
        );
        mdigest
    }
}

/// A copy of a notation JWS envelope (flattened JSON) with one character of its signature
/// changed: the envelope parses, and its signature does not verify.
pub fn tamper_jws_signature(envelope: &[u8]) -> Vec<u8> {
    let mut env: Value = signet_proto::json::from_slice(envelope).unwrap();
    let mut sig = env["signature"].as_str().unwrap().as_bytes().to_vec();
    sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
    env["signature"] = String::from_utf8(sig).unwrap().into();
    serde_json::to_vec(&env).unwrap()
}

/// Builds a cosign signature manifest (as cosign writes it) for `layers`, pushing the config
/// and layer blobs; returns the manifest bytes.
pub fn build_sig_manifest(
    p: &Pusher,
    repo: &str,
    layers: &[(String, Vec<u8>, BTreeMap<String, String>)],
) -> Vec<u8> {
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    for (mt, payload, annotations) in layers {
        let d = p.blob(repo, payload);
        diff_ids.push(d.clone());
        descs.push(json!({"mediaType": mt, "size": payload.len(), "digest": d, "annotations": annotations}));
    }
    let config = serde_json::to_vec(&json!({"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":diff_ids},"config":{}})).unwrap();
    let cd = p.blob(repo, &config);
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": cd},
        "layers": descs,
    }))
    .unwrap()
}
