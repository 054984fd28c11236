//! Test helper: `signet admission` started on a free port ([`Webhook`]), the Kubernetes objects
//! it is sent (AdmissionReview, Pod), `POST /validate` ([`validate`]) and the vendored test
//! data directory.

#![allow(dead_code, clippy::unwrap_used, unreachable_pub, missing_docs)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};

use super::{signet, spawn_until, Spawned};

/// The stdout line `signet admission` prints once it serves, before its URL.
pub const LISTENING: &str = "signet admission listening on ";

/// A `signet admission --listen 127.0.0.1:0 --policy POLICY` command line, the flags that differ
/// between tests added by its methods; [`Webhook::start`] serves it, [`Webhook::output`] runs it
/// to its (refusing) end.
pub struct Webhook {
    cmd: Command,
}

impl Webhook {
    /// The `signet` binary under test serving `policy`.
    pub fn new(policy: &Path) -> Self {
        Self::with(signet(), policy)
    }

    /// `cmd` (another binary, or `signet` with its environment set) serving `policy`.
    pub fn with(mut cmd: Command, policy: &Path) -> Self {
        cmd.args(["admission", "--listen", "127.0.0.1:0", "--policy"])
            .arg(policy);
        Self { cmd }
    }

    /// `--insecure-http`: plain HTTP.
    pub fn insecure_http(self) -> Self {
        self.args(["--insecure-http"])
    }

    /// `--trusted-root PATH`.
    pub fn trusted_root(self, path: impl AsRef<OsStr>) -> Self {
        self.flag("--trusted-root", path)
    }

    /// `--tls-cert CERT --tls-key KEY`: HTTPS.
    pub fn tls(self, cert: &Path, key: &Path) -> Self {
        self.flag("--tls-cert", cert).flag("--tls-key", key)
    }

    /// `--cache-ttl-secs 0`: every review verifies again.
    pub fn no_cache(self) -> Self {
        self.args(["--cache-ttl-secs", "0"])
    }

    /// `--deadline D` (`120s`, `1500ms`).
    pub fn deadline(self, d: &str) -> Self {
        self.args(["--deadline", d])
    }

    /// `--kube-api URL --kube-token-file TOKEN`: namespace labels from an API server.
    pub fn kube_api(self, url: &str, token: &Path) -> Self {
        self.flag("--kube-api", url)
            .flag("--kube-token-file", token)
    }

    /// `NAME VALUE`.
    pub fn flag(mut self, name: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(name).arg(value);
        self
    }

    /// Further arguments, as they are.
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable of the process.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Removes an environment variable from the process.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// Spawns the webhook and waits until it serves; [`Spawned::url`] is its base URL and
    /// dropping it kills the process.
    pub fn start(mut self) -> Spawned {
        spawn_until(&mut self.cmd, LISTENING)
    }

    /// Runs the command to its end (a refused configuration): its output.
    pub fn output(mut self) -> Output {
        self.cmd.output().unwrap()
    }
}

/// `POST {url}/validate` of `body`: asserts a 200 and returns the AdmissionReview's `response`.
pub fn validate_body(url: &str, body: &Value) -> Value {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{url}/validate"))
        .json(body)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200, "{body}");
    resp.json::<Value>().unwrap()["response"].clone()
}

/// [`validate_body`] of a Pod running `image`, review uid `uid`.
pub fn validate(url: &str, uid: &str, image: &str) -> Value {
    validate_body(url, &review(uid, "Pod", &pod(&[image])))
}

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

/// [`validate`] of `image` (uid `n`), which must be admitted: its `signet.dev/admitted` audit
/// annotation.
pub fn admitted(url: &str, image: &str) -> String {
    let resp = validate(url, "n", image);
    assert_eq!(resp["allowed"], true, "{image}: {resp}");
    resp["auditAnnotations"]["signet.dev/admitted"]
        .as_str()
        .unwrap_or_else(|| panic!("{image}: {resp}"))
        .to_owned()
}

/// [`validate`] of `image` (uid `n`), which must be denied: the denial's message.
pub fn denied(url: &str, image: &str) -> String {
    let resp = validate(url, "n", image);
    assert_eq!(resp["allowed"], false, "{image}: {resp}");
    resp["status"]["message"].as_str().unwrap().to_owned()
}
