//! Test helper: pushing blobs and manifests to a registry over the distribution API, and
//! cosign's signature manifests (`sha256-<hex>.sig` / `.att` images) as cosign builds them.

#![allow(dead_code, clippy::unwrap_used, unreachable_pub, missing_docs)]

use std::collections::BTreeMap;

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
        let v: Value = serde_json::from_slice(bytes).unwrap();
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
