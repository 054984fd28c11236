//! Test helper: the Kubernetes objects `signet admission` is sent (AdmissionReview, Pod) and
//! the vendored test data directory.

#![allow(dead_code, clippy::unwrap_used, unreachable_pub, missing_docs)]

use serde_json::{json, Value};

/// An AdmissionReview for `object` of `kind` (operation CREATE).
pub fn review(uid: &str, kind: &str, object: &Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": kind},
            "resource": {"group": "", "version": "v1", "resource": "x"},
            "namespace": "prod",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ci:deployer"},
            "object": object,
            "dryRun": false,
        }
    })
}

/// A Pod running `images`, one container each.
pub fn pod(images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
           "spec": {"containers": containers}})
}

/// A path under the repository's `testdata/`.
pub fn testdata(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(path)
}
