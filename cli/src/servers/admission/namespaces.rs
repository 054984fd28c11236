//! Namespace labels for rules scoped by `namespace_selector`.
//!
//! Neither an `AdmissionReview` nor an `ImageReview` carries the labels of the namespace, only
//! its name, so the webhook reads the `Namespace` object from the API server
//! (`GET /api/v1/namespaces/NAME`, core/v1) with its service account's token, and keeps the
//! labels for `--namespace-cache-secs` (60 s by default: a relabelled namespace is seen within
//! that time). In a cluster, the API server, the token and its CA come from the pod's
//! service-account mount (`KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT`,
//! `/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}`); the service account needs
//! `get` on `namespaces` (deploy/k8s/admission grants it). `--kube-api`, `--kube-token-file`
//! and `--kube-ca-file` name them explicitly.
//!
//! Only lookups are made, only when a rule has a `namespace_selector`, and a lookup that fails
//! denies the images such a rule would decide (never skips to a later rule).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::ttl::TtlMap;

/// The service-account mount of a pod.
const SERVICE_ACCOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Largest Namespace object read.
const MAX_NAMESPACE_BYTES: usize = 1 << 20;

/// Reads (and caches) the labels of namespaces from the API server.
pub(crate) struct NamespaceLabels {
    http: reqwest::Client,
    api: String,
    token_file: Option<PathBuf>,
    cache: TtlMap<String, BTreeMap<String, String>>,
}

impl NamespaceLabels {
    /// A source reading from `api` (`https://HOST:PORT`), authenticating with the bearer token
    /// in `token_file` (re-read on every lookup: projected tokens rotate), trusting `ca_file`.
    ///
    /// # Errors
    /// An unreadable CA file or a client that cannot be built.
    pub(crate) fn new(
        api: &str,
        token_file: Option<PathBuf>,
        ca_file: Option<&Path>,
        ttl: Duration,
    ) -> anyhow::Result<Self> {
        let builder = match ca_file {
            Some(ca) => signet_net::client_builder_with(ca)?,
            None => signet_net::client_builder(),
        };
        let http = builder
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the API server client: {e}"))?;
        Ok(Self {
            http,
            api: api.trim_end_matches('/').to_owned(),
            token_file,
            cache: TtlMap::new(ttl),
        })
    }

    /// The in-cluster source, when the process runs in a pod with a service-account mount.
    ///
    /// # Errors
    /// As [`NamespaceLabels::new`].
    pub(crate) fn in_cluster(ttl: Duration) -> anyhow::Result<Option<Self>> {
        let (Ok(host), Ok(port)) = (
            std::env::var("KUBERNETES_SERVICE_HOST"),
            std::env::var("KUBERNETES_SERVICE_PORT"),
        ) else {
            return Ok(None);
        };
        let sa = Path::new(SERVICE_ACCOUNT);
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        Self::new(
            &format!("https://{host}:{port}"),
            Some(sa.join("token")),
            Some(&sa.join("ca.crt")),
            ttl,
        )
        .map(Some)
    }

    /// The labels of namespace `name`.
    ///
    /// # Errors
    /// A message naming the API server's answer or the transport error.
    pub(crate) async fn labels(&self, name: &str) -> Result<BTreeMap<String, String>, String> {
        if let Some((l, _)) = self.cache.get(&name.to_owned(), Instant::now()) {
            return Ok(l);
        }
        let url = format!("{}/api/v1/namespaces/{name}", self.api);
        let mut req = self.http.get(&url).header("accept", "application/json");
        if let Some(f) = &self.token_file {
            let token = std::fs::read_to_string(f).map_err(|e| {
                format!("cannot read the service account token {}: {e}", f.display())
            })?;
            req = req.bearer_auth(token.trim());
        }
        let resp = req.send().await.map_err(|e| {
            format!(
                "looking up namespace {name:?} at {url}: {}",
                signet_net::chain(&e)
            )
        })?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("reading namespace {name:?} from {url}: {e}"))?;
        if !status.is_success() {
            let text: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            return Err(format!(
                "the API server answered {status} for namespace {name:?} ({url}; the webhook's service account needs `get` on namespaces): {text}"
            ));
        }
        if body.len() > MAX_NAMESPACE_BYTES {
            return Err(format!(
                "namespace {name:?}: the answer is larger than {MAX_NAMESPACE_BYTES} bytes"
            ));
        }
        let labels =
            namespace_labels(&body).map_err(|e| format!("namespace {name:?} from {url}: {e}"))?;
        self.cache
            .put(name.to_owned(), labels.clone(), Instant::now());
        Ok(labels)
    }
}

/// The `metadata.labels` of a core/v1 `Namespace` (none: empty).
fn namespace_labels(body: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let v: serde_json::Value =
        signet_proto::json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    if v.get("kind").and_then(serde_json::Value::as_str) != Some("Namespace") {
        return Err("the answer is not a Namespace".to_owned());
    }
    match v.pointer("/metadata/labels") {
        None | Some(serde_json::Value::Null) => Ok(BTreeMap::new()),
        Some(l) => serde_json::from_value(l.clone()).map_err(|e| format!("metadata.labels: {e}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn labels_are_read_from_namespace_objects() {
        let ns = br#"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"prod","labels":{"kubernetes.io/metadata.name":"prod","team":"a"}}}"#;
        let l = namespace_labels(ns).unwrap();
        assert_eq!(l.get("team").map(String::as_str), Some("a"));
        assert!(
            namespace_labels(br#"{"kind":"Namespace","metadata":{"name":"x"}}"#)
                .unwrap()
                .is_empty()
        );
        assert!(namespace_labels(br#"{"kind":"Status","code":404}"#).is_err());
        assert!(
            namespace_labels(br#"{"kind":"Namespace","metadata":{"labels":{"a":1}}}"#).is_err()
        );
    }
}
