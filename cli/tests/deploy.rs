//! The deploy/ files, checked with real validators and for what validators miss.
//!
//! * Kubernetes: the base set (deploy/k8s/base) and the opt-in admission set
//!   (deploy/k8s/admission) render with `kubectl kustomize` (offline), together with the
//!   manifests `deploy/k8s/ca-secrets.sh` makes from `signet ca-init`, and pass
//!   `kubernetes-validate --strict`. Across the whole set: every ConfigMap, Secret,
//!   PersistentVolumeClaim, Service and volume a manifest names exists; every file a mounted
//!   config reads is a key of the ConfigMap or Secret mounted there (so the names
//!   `signet ca-init` writes are the names the CA reads); every URL host in a mounted config is
//!   a Service of the set or the public URL; every pod meets the `restricted` Pod Security
//!   Standard; the webhooks apply only to namespaces that opt in. The distributed set
//!   (deploy/k8s/distributed, with what `deploy/k8s/distributed/secrets.sh` makes) is checked
//!   the same way as a set of its own, and its etcd and S3 endpoints are pods of its
//!   StatefulSets under their headless Services.
//! * The Dockerfiles pass hadolint, the compose files the Compose specification
//!   (check-jsonschema), and compose.yaml's mounts carry the file names `signet ca-init` writes.
//! * Every signet config passes `signet serve --check-config`, the admission policy
//!   `signet admission --check`.
//!
//! The containers themselves are built and run by cli/tests/containers.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (./x installs the validators)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn dockerfile_passes_hadolint() {
    for f in ["deploy/Dockerfile", "deploy/distributed/Dockerfile"] {
        let (ok, text) = run(Command::new("hadolint").arg(root().join(f)));
        assert!(ok, "hadolint failed on {f}:\n{text}");
    }
}

#[test]
fn compose_file_matches_the_compose_spec() {
    for f in ["deploy/compose.yaml", "deploy/distributed/compose.yaml"] {
        let (ok, text) = run(Command::new("check-jsonschema")
            .args(["--builtin-schema", "vendor.compose-spec"])
            .arg(root().join(f)));
        assert!(ok, "check-jsonschema failed on {f}:\n{text}");
    }
}

fn check_config(text: &str, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signet.toml");
    std::fs::write(&path, text).unwrap();
    let (ok, out) = run(Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["serve", "--check-config", "--config"])
        .arg(&path));
    assert!(ok, "{what} fails signet serve --check-config:\n{out}");
}

/// YAML documents as JSON (PyYAML, which kubernetes-validate brings), nulls dropped.
fn yaml_docs(text: &str) -> Vec<Value> {
    use std::io::Write as _;
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; \
             json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with PyYAML (./x installs kubernetes-validate, which needs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "YAML does not parse");
    signet_proto::json::from_slice(&out.stdout).unwrap()
}

/// `kubectl kustomize DIR` (offline).
fn kustomize(dir: &Path) -> String {
    let (ok, text) = run(Command::new("kubectl").arg("kustomize").arg(dir));
    assert!(ok, "kubectl kustomize {} failed:\n{text}", dir.display());
    text
}

/// The rendered manifests: (base, admission set, the CA's key material), each as YAML text.
/// The admission set is rendered from a copy with a serving certificate made by its
/// webhook-tls.sh; the key material comes from ca-secrets.sh with a fresh `signet ca-init`.
struct Rendered {
    base: String,
    admission: String,
    ca_secrets: String,
    /// deploy/k8s/distributed, and what its secrets.sh makes.
    distributed: String,
    dist_secrets: String,
    _tmp: tempfile::TempDir,
}

/// Runs `bash SCRIPT DIR` with `envs` set: what it prints on stdout. Panics, with what it
/// printed, when it fails.
fn bash_script(script: &Path, dir: &Path, envs: &[(&str, &str)]) -> String {
    let out = Command::new("bash")
        .arg(script)
        .arg(dir)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} failed:\n{}{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The array at `path` in `config`; empty when a key on the way is absent.
fn toml_list<'a>(config: &'a toml::Value, path: &[&str]) -> &'a [toml::Value] {
    path.iter()
        .try_fold(config, |v, k| v.get(k))
        .and_then(toml::Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn render() -> Rendered {
    let tmp = tempfile::tempdir().unwrap();
    let base = kustomize(&root().join("deploy/k8s/base"));
    let adm = tmp.path().join("admission");
    std::fs::create_dir_all(&adm).unwrap();
    for e in std::fs::read_dir(root().join("deploy/k8s/admission")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), adm.join(e.file_name())).unwrap();
    }
    bash_script(&adm.join("webhook-tls.sh"), &adm, &[]);
    let admission = kustomize(&adm);
    let ca_secrets = bash_script(
        &root().join("deploy/k8s/ca-secrets.sh"),
        &tmp.path().join("ca"),
        &[("SIGNET", env!("CARGO_BIN_EXE_signet"))],
    );
    let distributed = kustomize(&root().join("deploy/k8s/distributed"));
    let dist_secrets = bash_script(
        &root().join("deploy/k8s/distributed/secrets.sh"),
        &tmp.path().join("dist"),
        &[],
    );
    Rendered {
        base,
        admission,
        ca_secrets,
        distributed,
        dist_secrets,
        _tmp: tmp,
    }
}

impl Rendered {
    /// The two sets a cluster runs, each with its key material: the base with the admission
    /// webhook, and the distributed set.
    fn sets(&self) -> [(&'static str, Vec<Value>); 2] {
        let docs =
            |texts: &[&String]| -> Vec<Value> { texts.iter().flat_map(|t| yaml_docs(t)).collect() };
        [
            (
                "base",
                docs(&[&self.base, &self.admission, &self.ca_secrets]),
            ),
            (
                "distributed",
                docs(&[&self.distributed, &self.ca_secrets, &self.dist_secrets]),
            ),
        ]
    }
}

fn kind_name(d: &Value) -> (String, String) {
    (
        d["kind"].as_str().unwrap().to_owned(),
        d["metadata"]["name"].as_str().unwrap().to_owned(),
    )
}

fn names(docs: &[Value]) -> BTreeSet<(String, String)> {
    docs.iter().map(kind_name).collect()
}

fn has(docs: &[Value], kind: &str, name: &str) -> bool {
    names(docs).contains(&(kind.to_owned(), name.to_owned()))
}

/// The pod templates of the workloads: (workload name, pod spec, pod labels, claim templates).
fn pod_templates(docs: &[Value]) -> Vec<(String, &Value, &Value, Vec<String>)> {
    docs.iter()
        .filter(|d| matches!(d["kind"].as_str(), Some("Deployment" | "StatefulSet")))
        .map(|d| {
            let claims = d["spec"]["volumeClaimTemplates"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|c| c["metadata"]["name"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (
                kind_name(d).1,
                &d["spec"]["template"]["spec"],
                &d["spec"]["template"]["metadata"]["labels"],
                claims,
            )
        })
        .collect()
}

fn selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_object()
        .is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

#[test]
fn manifests_render_offline_and_match_the_api_schemas() {
    let r = render();
    let tmp = tempfile::tempdir().unwrap();
    for (name, text, expect) in [
        (
            "base",
            &r.base,
            &[
                "namespace/signet",
                "statefulset/signet-log",
                "deployment/signet-ca",
                "service/signet-log-headless",
                "poddisruptionbudget/signet-log",
                "poddisruptionbudget/signet-ca",
                "networkpolicy/signet-default-deny-ingress",
            ][..],
        ),
        (
            "admission",
            &r.admission,
            &[
                "deployment/signet-admission",
                "validatingwebhookconfiguration/signet-admission",
                "mutatingwebhookconfiguration/signet-admission",
                "deployment/signet-imagepolicy",
                "service/signet-imagepolicy",
                "serviceaccount/signet-admission",
                "clusterrole/signet-admission-namespaces",
                "clusterrolebinding/signet-admission-namespaces",
            ][..],
        ),
        (
            "ca-secrets",
            &r.ca_secrets,
            &["secret/signet-ca-key", "secret/signet-ca-password"][..],
        ),
        (
            "distributed",
            &r.distributed,
            &[
                "statefulset/signet-etcd",
                "service/signet-etcd",
                "statefulset/signet-garage",
                "job/signet-garage-init",
                "statefulset/signet-sequencer",
                "deployment/signet-reader",
                "deployment/signet-log",
                "deployment/signet-ca",
                "poddisruptionbudget/signet-etcd",
                "poddisruptionbudget/signet-garage",
                "poddisruptionbudget/signet-sequencer",
                "poddisruptionbudget/signet-reader",
                "networkpolicy/signet-etcd",
                "networkpolicy/signet-garage",
                "networkpolicy/signet-default-deny-ingress",
            ][..],
        ),
        (
            "distributed-secrets",
            &r.dist_secrets,
            &[
                "secret/signet-log-keys",
                "secret/signet-s3",
                "secret/signet-garage",
                "configmap/signet-garage-config",
                "secret/signet-garage-init",
            ][..],
        ),
    ] {
        let path = tmp.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        let (ok, out) = run(Command::new("kubernetes-validate")
            .arg("--strict")
            .arg(&path));
        assert!(ok, "kubernetes-validate --strict failed on {name}:\n{out}");
        for e in expect {
            assert!(out.contains(e), "{name}: no {e} in\n{out}");
        }
    }
    // The base applies nothing cluster-wide: no webhook of any kind.
    for d in yaml_docs(&r.base) {
        let kind = d["kind"].as_str().unwrap();
        assert!(
            !kind.contains("WebhookConfiguration"),
            "the base set holds a {kind}: the admission webhook must stay opt-in"
        );
    }
}

#[test]
fn every_name_a_manifest_uses_exists_in_the_set() {
    let r = render();
    let [(_, docs), (set, dist)] = r.sets();
    names_exist(set, &dist, 6);
    // The distributed set's Job: its environment Secret exists.
    let job = dist
        .iter()
        .find(|d| d["kind"] == "Job")
        .expect("the Job signet-garage-init");
    for e in job["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        .as_array()
        .unwrap()
    {
        let s = e["secretRef"]["name"].as_str().unwrap();
        assert!(has(&dist, "Secret", s), "signet-garage-init: no Secret {s}");
    }
    names_exist("base", &docs, 4);
    // Every webhook calls a Service of the set, on one of its ports, and applies only to
    // namespaces that opt in by label.
    let mut hooks = 0;
    for d in docs.iter().filter(|d| {
        d["kind"]
            .as_str()
            .unwrap()
            .ends_with("WebhookConfiguration")
    }) {
        for w in d["webhooks"].as_array().unwrap() {
            let s = &w["clientConfig"]["service"];
            let svc = docs
                .iter()
                .find(|x| {
                    x["kind"] == "Service"
                        && x["metadata"]["name"] == s["name"]
                        && x["metadata"]["namespace"] == s["namespace"]
                })
                .unwrap_or_else(|| panic!("webhook {} calls no Service of the set", w["name"]));
            assert!(
                svc["spec"]["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["port"] == s["port"]),
                "webhook {}: port {} is not a port of its Service",
                w["name"],
                s["port"]
            );
            assert!(
                w["clientConfig"]["caBundle"].is_string(),
                "webhook {} has no caBundle",
                w["name"]
            );
            assert_eq!(
                w["namespaceSelector"]["matchLabels"]["signet.dev/admission"], "enforce",
                "webhook {} is not limited to namespaces that opt in",
                w["name"]
            );
            hooks += 1;
        }
    }
    assert_eq!(hooks, 2);
}

/// Every object is in namespace `signet`; every ConfigMap, Secret, claim, service account and
/// volume a workload names exists in the set; something selects every workload; every
/// Service selects a pod; every StatefulSet's serviceName is a headless Service.
fn names_exist(set: &str, docs: &[Value], expected_pods: usize) {
    for d in docs {
        let ns = d["metadata"]["namespace"].as_str();
        let (kind, name) = kind_name(d);
        if !matches!(
            kind.as_str(),
            "Namespace"
                | "ValidatingWebhookConfiguration"
                | "MutatingWebhookConfiguration"
                | "ClusterRole"
                | "ClusterRoleBinding"
        ) {
            assert_eq!(
                ns,
                Some("signet"),
                "{kind}/{name} is not in namespace signet"
            );
        }
    }
    let pods = pod_templates(docs);
    let workloads: Vec<&str> = pods.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(pods.len(), expected_pods, "{set}: {workloads:?}");
    // A pod's service account exists in the set (else it is the namespace's default).
    for (workload, spec, _, _) in &pods {
        if let Some(sa) = spec["serviceAccountName"].as_str() {
            assert!(
                has(docs, "ServiceAccount", sa),
                "{workload}: no ServiceAccount {sa}"
            );
        }
    }
    let mut checked = 0;
    for (workload, spec, labels, claims) in &pods {
        let mut volumes: BTreeSet<String> = claims.iter().cloned().collect();
        for v in spec["volumes"].as_array().into_iter().flatten() {
            let vname = v["name"].as_str().unwrap().to_owned();
            if let Some(cm) = v["configMap"]["name"].as_str() {
                assert!(
                    has(docs, "ConfigMap", cm) || cm == KUBE_ROOT_CA,
                    "{workload}: no ConfigMap {cm}"
                );
                checked += 1;
            }
            if let Some(s) = v["secret"]["secretName"].as_str() {
                assert!(has(docs, "Secret", s), "{workload}: no Secret {s}");
                checked += 1;
            }
            if let Some(c) = v["persistentVolumeClaim"]["claimName"].as_str() {
                assert!(
                    has(docs, "PersistentVolumeClaim", c),
                    "{workload}: no PersistentVolumeClaim {c}"
                );
                checked += 1;
            }
            assert!(
                volumes.insert(vname.clone()),
                "{workload}: volume {vname} twice"
            );
        }
        for c in ["containers", "initContainers"]
            .iter()
            .filter_map(|k| spec[k].as_array())
            .flatten()
        {
            for m in c["volumeMounts"].as_array().into_iter().flatten() {
                let v = m["name"].as_str().unwrap();
                assert!(volumes.contains(v), "{workload}: mounts unknown volume {v}");
            }
        }
        // Something selects every workload: a Service, a PodDisruptionBudget, a NetworkPolicy.
        for kind in ["Service", "PodDisruptionBudget", "NetworkPolicy"] {
            let sel = |d: &Value| match kind {
                "Service" => d["spec"]["selector"].clone(),
                "PodDisruptionBudget" => d["spec"]["selector"]["matchLabels"].clone(),
                _ => d["spec"]["podSelector"]["matchLabels"].clone(),
            };
            assert!(
                docs.iter()
                    .filter(|d| d["kind"] == kind)
                    .any(|d| selects(&sel(d), labels)),
                "{workload}: no {kind} selects its pods"
            );
        }
    }
    assert!(checked >= 9, "{set}: {checked} references checked");
    // Every Service selects a pod; the StatefulSet's serviceName is a headless Service.
    for svc in docs.iter().filter(|d| d["kind"] == "Service") {
        let (_, name) = kind_name(svc);
        assert!(
            pods.iter().any(|p| selects(&svc["spec"]["selector"], p.2)),
            "Service {name} selects no pod"
        );
    }
    for sts in docs.iter().filter(|d| d["kind"] == "StatefulSet") {
        let svc = sts["spec"]["serviceName"].as_str().unwrap();
        let headless = docs
            .iter()
            .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == svc)
            .unwrap_or_else(|| panic!("no Service {svc} for the StatefulSet"));
        assert_eq!(
            headless["spec"]["clusterIP"], "None",
            "{svc} is not headless"
        );
    }
}

/// `(mount path, volume)` of a container, longest path first.
fn mounts<'a>(spec: &'a Value, container: &Value) -> Vec<(String, &'a Value)> {
    let mut out: Vec<(String, &Value)> = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let v = spec["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["name"] == m["name"]);
            (
                m["mountPath"].as_str().unwrap().to_owned(),
                v.unwrap_or(&Value::Null),
            )
        })
        .collect();
    out.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    out
}

/// The ConfigMap Kubernetes publishes in every namespace: the cluster CA, key `ca.crt`.
const KUBE_ROOT_CA: &str = "kube-root-ca.crt";

/// The data keys of the ConfigMap or Secret a volume mounts.
fn volume_keys(docs: &[Value], volume: &Value) -> Option<BTreeSet<String>> {
    let (kind, name) = if let Some(n) = volume["configMap"]["name"].as_str() {
        if n == KUBE_ROOT_CA {
            return Some(["ca.crt".to_owned()].into());
        }
        ("ConfigMap", n)
    } else {
        ("Secret", volume["secret"]["secretName"].as_str()?)
    };
    let d = docs
        .iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)?;
    Some(
        ["data", "stringData"]
            .iter()
            .filter_map(|k| d[k].as_object())
            .flat_map(|m| m.keys().cloned())
            .collect(),
    )
}

/// Where `path` comes from in a container: a key of a ConfigMap/Secret volume, or a writable
/// volume. Panics naming the path when no mount provides it.
fn resolve(docs: &[Value], spec: &Value, container: &Value, path: &str, what: &str) {
    let ms = mounts(spec, container);
    let (mount, volume) = ms
        .iter()
        .find(|(m, _)| path.starts_with(&format!("{m}/")))
        .unwrap_or_else(|| panic!("{what}: {path} is on no volume mount"));
    let file = &path[mount.len() + 1..];
    if let Some(keys) = volume_keys(docs, volume) {
        assert!(
            keys.contains(file),
            "{what}: {path} is not a key of the volume mounted at {mount} (it holds {keys:?})"
        );
    }
}

fn url_host(u: &str) -> (String, u16) {
    let u = url::Url::parse(u).unwrap();
    (
        u.host_str().unwrap().to_owned(),
        u.port_or_known_default().unwrap(),
    )
}

#[test]
fn mounted_configs_read_files_and_reach_hosts_that_exist() {
    let r = render();
    let [(_, base), (set, dist)] = r.sets();
    assert_eq!(configs_resolve(&base), 2, "signet-log and signet-ca");
    assert_eq!(
        configs_resolve(&dist),
        4,
        "{set}: signet-sequencer-0, signet-sequencer-1, signet-reader, signet-ca"
    );
}

/// The names of a workload's pods: `<name>-<ordinal>` for a StatefulSet, else one generated
/// name (a Deployment's pods share their config).
fn pod_names(docs: &[Value], workload: &str) -> Vec<String> {
    let d = docs
        .iter()
        .find(|d| {
            matches!(d["kind"].as_str(), Some("StatefulSet" | "Deployment"))
                && d["metadata"]["name"] == workload
        })
        .unwrap();
    if d["kind"] == "StatefulSet" {
        (0..d["spec"]["replicas"].as_u64().unwrap())
            .map(|i| format!("{workload}-{i}"))
            .collect()
    } else {
        vec![format!("{workload}-7d9f8b6c5-x2x4z")]
    }
}

/// Every file an init container's command names under a ConfigMap or Secret mount is a key
/// of what is mounted there (`${POD_NAME##*-}`, a StatefulSet pod's ordinal, for each pod).
fn init_files_resolve(docs: &[Value], workload: &str, spec: &Value) {
    for c in spec["initContainers"].as_array().into_iter().flatten() {
        let script = c["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(" ");
        let mut n = 0;
        for pod in pod_names(docs, workload) {
            let ordinal = pod.rsplit('-').next().unwrap().to_owned();
            let script = script.replace("${POD_NAME##*-}", &ordinal);
            for token in script.split(|ch: char| ch.is_whitespace() || ch == '"') {
                for (mount, volume) in mounts(spec, c) {
                    if token.starts_with(&format!("{mount}/"))
                        && volume_keys(docs, volume).is_some()
                    {
                        resolve(docs, spec, c, token, &format!("{workload}/{}", c["name"]));
                        n += 1;
                    }
                }
            }
        }
        assert!(n > 0, "{workload}/{}: reads no mounted file", c["name"]);
    }
}

/// The checks of one set's signet configs; returns how many configs were checked.
fn configs_resolve(docs: &[Value]) -> usize {
    let services: BTreeMap<String, Vec<u64>> = docs
        .iter()
        .filter(|d| d["kind"] == "Service")
        .map(|d| {
            (
                kind_name(d).1,
                d["spec"]["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["port"].as_u64().unwrap())
                    .collect(),
            )
        })
        .collect();
    let mut configs = 0;
    for (workload, spec, _, _) in pod_templates(docs) {
        let c = &spec["containers"][0];
        init_files_resolve(docs, &workload, spec);
        if !c["image"].as_str().unwrap().contains("/signet:") {
            continue; // etcd, Garage, nginx: checked by init_files_resolve and the set checks
        }
        let args: Vec<&str> = c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        if args[0] == "admission" {
            for a in &args[1..] {
                if let Some((flag, path)) = a.split_once('=') {
                    if flag != "--listen" {
                        resolve(docs, spec, c, path, &format!("{workload} {flag}"));
                    }
                }
            }
            continue;
        }
        assert_eq!(args[..2], ["serve", "--config"], "{workload}");
        for path in pod_names(docs, &workload)
            .iter()
            .map(|pod| args[2].replace("$(POD_NAME)", pod))
        {
            let path = path.as_str();
            resolve(docs, spec, c, path, &format!("{workload} --config"));
            // The config itself: the key of the ConfigMap mounted there.
            let (mount, volume) = mounts(spec, c)
                .into_iter()
                .find(|(m, _)| path.starts_with(&format!("{m}/")))
                .unwrap();
            let cm = docs
                .iter()
                .find(|d| {
                    d["kind"] == "ConfigMap" && d["metadata"]["name"] == volume["configMap"]["name"]
                })
                .unwrap();
            let text = cm["data"][&path[mount.len() + 1..]].as_str().unwrap();
            check_config(text, &workload);
            configs += 1;
            let config: toml::Value = toml::from_str(text).unwrap();
            let what = format!("{workload}'s config");
            // Files: the CA key and chain, the password, the CT roots.
            let key = config.get("ca").and_then(|ca| ca.get("key"));
            if let Some(key) =
                key.filter(|k| k.get("type").and_then(toml::Value::as_str) == Some("file"))
            {
                for f in ["key", "chain", "password_file"] {
                    let p = key[f].as_str().unwrap();
                    resolve(docs, spec, c, p, &format!("{what} ca.key.{f}"));
                }
            }
            for p in toml_list(&config, &["log", "ct_roots"]) {
                resolve(
                    docs,
                    spec,
                    c,
                    p.as_str().unwrap(),
                    &format!("{what} log.ct_roots"),
                );
            }
            let data_dir = config["data_dir"].as_str().unwrap();
            resolve(
                docs,
                spec,
                c,
                &format!("{data_dir}/x"),
                &format!("{what} data_dir"),
            );
            // URLs: public_url is the public URL (not loopback, not cluster-internal); every
            // other URL the server calls inside the cluster is a Service of the set, on its port.
            let public = config["public_url"].as_str().unwrap();
            let (host, _) = url_host(public);
            assert!(
                public.starts_with("https://")
                    && !services.contains_key(&host)
                    && !host.ends_with(".svc")
                    && !host.contains(".svc.")
                    && !host.ends_with(".cluster.local")
                    && host != "localhost"
                    && !host.starts_with("127."),
                "{what}: public_url {public} is not a public HTTPS URL"
            );
            if let Some(log_url) = config.get("ca").and_then(|ca| ca.get("log_url")) {
                let (host, port) = url_host(log_url.as_str().unwrap());
                let svc = host.split('.').next().unwrap();
                let ports = services
                    .get(svc)
                    .unwrap_or_else(|| panic!("{what}: ca.log_url host {host} is not a Service"));
                assert!(
                    host == svc || host.starts_with(&format!("{svc}.signet.svc")),
                    "{what}: {host} is not the Service {svc} of namespace signet"
                );
                assert!(ports.contains(&u64::from(port)), "{what}: {host}:{port}");
            }
            // Distributed members: the S3 secret is mounted; every etcd and S3 endpoint is a
            // pod of a StatefulSet under its headless Service, on a port of that Service.
            if let Some(dist) = config.get("log").and_then(|l| l.get("distributed")) {
                resolve(
                    docs,
                    spec,
                    c,
                    dist["s3_secret_access_key_file"].as_str().unwrap(),
                    &format!("{what} log.distributed.s3_secret_access_key_file"),
                );
                for key in ["etcd_endpoints", "s3_endpoints"] {
                    let urls = dist[key].as_array().unwrap();
                    assert_eq!(urls.len(), 3, "{what}: {key}");
                    for u in urls {
                        let (host, port) = url_host(u.as_str().unwrap());
                        let (pod, svc) = host.split_once('.').unwrap();
                        let sts = docs
                            .iter()
                            .find(|d| d["kind"] == "StatefulSet" && d["spec"]["serviceName"] == svc)
                            .unwrap_or_else(|| {
                                panic!("{what}: {key} {host}: no StatefulSet under {svc}")
                            });
                        let sts_name = kind_name(sts).1;
                        assert!(
                            pod_names(docs, &sts_name).iter().any(|p| p == pod),
                            "{what}: {key} {host}: {pod} is not a pod of {sts_name}"
                        );
                        assert!(
                            services
                                .get(svc)
                                .is_some_and(|ports| ports.contains(&u64::from(port))),
                            "{what}: {key} {host}:{port} is not a port of the Service {svc}"
                        );
                    }
                }
            }
            for issuer in toml_list(&config, &["ca", "issuers"]) {
                let u = issuer["url"].as_str().unwrap();
                assert!(u.starts_with("https://"), "{what}: issuer {u} is not HTTPS");
                for key in ["ca_file", "jwks_file"] {
                    if let Some(path) = issuer.get(key).and_then(toml::Value::as_str) {
                        resolve(docs, spec, c, path, &format!("{what} issuer {u} {key}"));
                    }
                }
            }
        }
    }
    configs
}

#[test]
fn every_pod_meets_the_restricted_pod_security_standard() {
    let r = render();
    let [(_, base), (_, dist)] = r.sets();
    // The base with the webhooks: 4 workloads; the distributed set: 6 and the Job.
    for (docs, n) in [(&base, 4), (&dist, 7)] {
        let ns = docs.iter().find(|d| d["kind"] == "Namespace").unwrap();
        assert_eq!(
            ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
            "restricted"
        );
        let mut pods: Vec<(String, &Value, bool)> = pod_templates(docs)
            .into_iter()
            .map(|(w, spec, _, _)| (w, spec, false))
            .collect();
        pods.extend(
            docs.iter()
                .filter(|d| d["kind"] == "Job")
                .map(|d| (kind_name(d).1, &d["spec"]["template"]["spec"], true)),
        );
        assert_eq!(pods.len(), n);
        for (workload, spec, job) in pods {
            assert_eq!(spec["automountServiceAccountToken"], false, "{workload}");
            // A token only where a webhook reads namespace labels: projected, expiring, read-only.
            for v in spec["volumes"].as_array().into_iter().flatten() {
                let Some(sources) = v["projected"]["sources"].as_array() else {
                    continue;
                };
                let token = sources
                    .iter()
                    .find(|s| s["serviceAccountToken"].is_object())
                    .map(|s| &s["serviceAccountToken"]);
                if let Some(token) = token {
                    assert!(
                        workload == "signet-admission" || workload == "signet-imagepolicy",
                        "{workload}: a service account token"
                    );
                    assert!(
                        token["expirationSeconds"].as_u64().unwrap() <= 3607,
                        "{workload}"
                    );
                    let mount = spec["containers"][0]["volumeMounts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|m| m["name"] == v["name"])
                        .unwrap();
                    assert_eq!(
                        mount["mountPath"], "/var/run/secrets/kubernetes.io/serviceaccount",
                        "{workload}"
                    );
                    assert_eq!(mount["readOnly"], true, "{workload}");
                }
            }
            let psc = &spec["securityContext"];
            assert_eq!(psc["runAsNonRoot"], true, "{workload}");
            assert_eq!(
                psc["seccompProfile"]["type"], "RuntimeDefault",
                "{workload}"
            );
            for key in ["hostNetwork", "hostPID", "hostIPC"] {
                assert!(
                    spec[key].is_null() || spec[key] == false,
                    "{workload}: {key}"
                );
            }
            for v in spec["volumes"].as_array().into_iter().flatten() {
                assert!(v["hostPath"].is_null(), "{workload}: hostPath volume");
            }
            let containers: Vec<&Value> = ["containers", "initContainers"]
                .iter()
                .filter_map(|k| spec[k].as_array())
                .flatten()
                .collect();
            assert!(!containers.is_empty());
            for c in containers {
                let what = format!("{workload}/{}", c["name"]);
                let sc = &c["securityContext"];
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{what}");
                assert_eq!(sc["readOnlyRootFilesystem"], true, "{what}");
                assert_eq!(sc["runAsNonRoot"], true, "{what}");
                assert!(
                    sc["privileged"].is_null() || sc["privileged"] == false,
                    "{what}"
                );
                assert_eq!(
                    sc["capabilities"]["drop"],
                    serde_json::json!(["ALL"]),
                    "{what}"
                );
                assert!(sc["capabilities"]["add"].is_null(), "{what}");
                assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{what}");
                // Probes on the long-running containers (not on init containers or a Job's).
                let init = spec["initContainers"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|i| i["name"] == c["name"]));
                assert!(
                    job || init || c["startupProbe"].is_object(),
                    "{what}: no startupProbe"
                );
            }
        }
        // One CA: its rate limit is per process.
        let ca = docs
            .iter()
            .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "signet-ca")
            .unwrap();
        assert_eq!(ca["spec"]["replicas"], 1);
        assert_eq!(ca["spec"]["strategy"]["type"], "Recreate");
    }
}

#[test]
fn ca_init_file_names_are_the_names_the_configs_read() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("pw"), "correct horse battery staple\n").unwrap();
    let (ok, out) = run(Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["ca-init", "--dir"])
        .arg(tmp.path().join("ca"))
        .arg("--password-file")
        .arg(tmp.path().join("pw")));
    assert!(ok, "{out}");
    let written: BTreeSet<String> = std::fs::read_dir(tmp.path().join("ca"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    // Kubernetes: the Secrets ca-secrets.sh makes hold ca-init's files under their names.
    let r = render();
    let secrets = yaml_docs(&r.ca_secrets);
    let keys = |kind: &str, name: &str| -> BTreeSet<String> {
        secrets
            .iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("ca-secrets.sh makes no {kind} {name}"))["data"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let key_files = keys("Secret", "signet-ca-key");
    assert_eq!(
        key_files,
        ["chain.pem", "intermediate.key.enc.pem"]
            .map(String::from)
            .into()
    );
    assert!(
        key_files.is_subset(&written),
        "{key_files:?} vs {written:?}"
    );
    assert!(
        !key_files.iter().any(|k| k.starts_with("root.key")),
        "the root key stays offline"
    );
    assert_eq!(
        keys("Secret", "signet-ca-password"),
        ["password".to_owned()].into()
    );
    assert_eq!(
        keys("ConfigMap", "signet-ca-root"),
        ["root.pem".to_owned()].into()
    );
    assert!(written.contains("root.pem"));
    // Compose: each file mounted from the site's ca/ directory is one ca-init writes, at the
    // path deploy/config reads it from.
    let compose = yaml_docs(&std::fs::read_to_string(root().join("deploy/compose.yaml")).unwrap());
    let mut mounted = 0;
    let configs: String = ["log.toml", "ca.toml"]
        .iter()
        .map(|n| std::fs::read_to_string(root().join("deploy/config").join(n)).unwrap())
        .collect();
    for svc in compose[0]["services"].as_object().unwrap().values() {
        for v in svc["volumes"].as_array().unwrap() {
            let v = v.as_str().unwrap();
            // SOURCE:TARGET:ro (the source may hold `:` in `${VAR:?}`).
            let parts: Vec<&str> = v.rsplitn(3, ':').collect();
            let [_, dst, src] = parts[..] else { continue };
            if let Some(file) = src.strip_prefix("${SIGNET_SITE:?}/ca/") {
                assert!(
                    written.contains(file),
                    "compose mounts ca/{file}, which ca-init does not write"
                );
                assert!(
                    configs.contains(&format!("\"{dst}\"")),
                    "no config reads {dst}"
                );
                mounted += 1;
            }
        }
    }
    assert_eq!(
        mounted, 3,
        "root.pem (log), intermediate key and chain (CA)"
    );
}

#[test]
fn admission_policy_passes_check() {
    let (ok, out) = run(Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["admission", "--check", "--policy"])
        .arg(root().join("deploy/k8s/admission/admission.toml")));
    assert!(ok, "admission.toml fails signet admission --check:\n{out}");
    assert!(
        out.contains("1 rules (1 verify signatures, 0 admit unverified; 0 in warn mode); unmatched images: Deny"),
        "{out}"
    );
    // The trust file alongside is a trusted root our verifier reads.
    let root_json: Value = signet_proto::json::from_slice(
        &std::fs::read(root().join("deploy/k8s/admission/trusted_root.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        root_json["mediaType"],
        "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
    );
}

#[test]
fn every_signet_config_passes_check_config() {
    let mut n = 0;
    for dir in ["deploy/config", "deploy/k8s/base/config"] {
        for name in ["log.toml", "ca.toml"] {
            let text = std::fs::read_to_string(root().join(dir).join(name)).unwrap();
            check_config(&text, &format!("{dir}/{name}"));
            n += 1;
        }
    }
    for name in [
        "signet-sequencer-0.toml",
        "signet-sequencer-1.toml",
        "reader.toml",
    ] {
        let text = std::fs::read_to_string(root().join("deploy/k8s/distributed/config").join(name))
            .unwrap();
        check_config(&text, &format!("deploy/k8s/distributed/config/{name}"));
        n += 1;
    }
    assert_eq!(n, 7);
}

#[test]
fn check_config_names_the_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[ca]\nvalidity_hours = 0\n").unwrap();
    let (ok, out) = run(Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["serve", "--check-config", "--config"])
        .arg(&path));
    assert!(!ok);
    assert!(out.contains("ca.validity_hours"), "{out}");
    std::fs::write(&path, "[log]\nbatch_size = 5\n").unwrap();
    let (ok, out) = run(Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["serve", "--check-config", "--config"])
        .arg(&path));
    assert!(!ok);
    assert!(out.contains("batch_size"), "{out}");
}

/// compose.yaml: every URL host in the configs it mounts is one of its services, or the
/// public URL placeholder that README.md's steps replace with the site's URL.
#[test]
fn compose_config_hosts_are_its_services_or_the_public_url() {
    let compose = yaml_docs(&std::fs::read_to_string(root().join("deploy/compose.yaml")).unwrap());
    let services: BTreeSet<String> = compose[0]["services"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        services,
        ["ca", "log", "witness"].map(String::from).into(),
        "the compose topology"
    );
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut n = 0;
    for name in ["log.toml", "ca.toml"] {
        let text = std::fs::read_to_string(root().join("deploy/config").join(name)).unwrap();
        let config: toml::Value = toml::from_str(&text).unwrap();
        let public = config["public_url"].as_str().unwrap();
        assert!(
            readme.contains(&format!("sed \"s|{public}|")),
            "README.md's steps do not replace {name}'s public_url {public}"
        );
        if let Some(u) = config.get("ca").and_then(|c| c.get("log_url")) {
            let (host, port) = url_host(u.as_str().unwrap());
            assert!(
                services.contains(&host),
                "ca.log_url host {host} is not a service"
            );
            assert_eq!(port, 3000, "the services listen on 3000");
            n += 1;
        }
    }
    // The witness policy README.md writes names the witness service.
    assert!(
        readme.contains("http://witness:3000"),
        "README's witness URL"
    );
    assert_eq!(n, 1);
}

/// The ImagePolicyWebhook files (deploy/k8s/imagepolicy): the `AdmissionConfiguration` has the
/// plugin's fields within kube-apiserver's limits (plugin/pkg/admission/imagepolicy/config.go:
/// TTLs up to 30 min, retryBackoff 1 ms to 5 min) and fails closed; `kubernetes-validate` has
/// no schema for it (not an API resource), which is checked too, so this test is the schema.
/// The kubeconfig reads with `kubectl config view`, names the file the configuration points
/// to, calls /imagepolicy over HTTPS and presents a client certificate (mutual TLS).
#[test]
fn imagepolicy_configuration_is_complete() {
    let dir = root().join("deploy/k8s/imagepolicy");
    let config = dir.join("admission-configuration.yaml");
    let (_, out) = run(Command::new("kubernetes-validate")
        .arg("--strict")
        .arg(&config));
    assert!(
        out.contains("Couldn't find schema for kind AdmissionConfiguration"),
        "kubernetes-validate now knows AdmissionConfiguration: validate with it\n{out}"
    );
    let docs = yaml_docs(&std::fs::read_to_string(&config).unwrap());
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(d["apiVersion"], "apiserver.config.k8s.io/v1");
    assert_eq!(d["kind"], "AdmissionConfiguration");
    let plugins = d["plugins"].as_array().unwrap();
    assert_eq!(plugins.len(), 1);
    assert_eq!(plugins[0]["name"], "ImagePolicyWebhook");
    let p = plugins[0]["configuration"]["imagePolicy"]
        .as_object()
        .unwrap();
    let keys: BTreeSet<&str> = p.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "kubeConfigFile",
            "allowTTL",
            "denyTTL",
            "retryBackoff",
            "defaultAllow"
        ])
    );
    assert_eq!(p["defaultAllow"], false, "the plugin must fail closed");
    for ttl in ["allowTTL", "denyTTL"] {
        let v = p[ttl].as_u64().unwrap();
        assert!(
            (1..=1800).contains(&v),
            "{ttl} {v} s is outside 1 s to 30 min"
        );
    }
    let backoff = p["retryBackoff"].as_u64().unwrap();
    assert!(
        (1..=300_000).contains(&backoff),
        "retryBackoff {backoff} ms"
    );
    let kubeconfig_path = p["kubeConfigFile"].as_str().unwrap();
    let shipped = dir.join("imagepolicy-kubeconfig.yaml");
    assert_eq!(
        Path::new(kubeconfig_path).file_name(),
        shipped.file_name(),
        "the configuration names another kubeconfig"
    );
    let (ok, out) = run(Command::new("kubectl")
        .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
        .arg(&shipped));
    assert!(ok, "kubectl config view: {out}");
    let k: Value = serde_json::from_str(&out).unwrap();
    let ctx = k["current-context"].as_str().unwrap();
    // The kubeconfig entry of `list` named `name`.
    let named = |list: &str, name: &Value| -> Value {
        k[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == *name)
            .unwrap()
            .clone()
    };
    let context = named("contexts", &ctx.into());
    let cluster = named("clusters", &context["context"]["cluster"]);
    let user = named("users", &context["context"]["user"]);
    let server = cluster["cluster"]["server"].as_str().unwrap();
    assert!(
        server.starts_with("https://") && server.ends_with("/imagepolicy"),
        "{server}"
    );
    assert!(cluster["cluster"]["certificate-authority"].is_string());
    assert!(user["user"]["client-certificate"].is_string(), "no mTLS");
    assert!(user["user"]["client-key"].is_string(), "no mTLS");
    // Every file the API server reads is in the directory the configuration uses.
    let base = Path::new(kubeconfig_path).parent().unwrap();
    for f in [
        &cluster["cluster"]["certificate-authority"],
        &user["user"]["client-certificate"],
        &user["user"]["client-key"],
    ] {
        assert_eq!(Path::new(f.as_str().unwrap()).parent(), Some(base), "{f}");
    }
}

/// The ImagePolicyWebhook instance of deploy/k8s/admission is what the plugin's kubeconfig
/// calls: its host is the Service `signet-imagepolicy` (on the port named), whose pods run
/// `signet admission --client-ca` with the client CA Secret; webhook-tls.sh's serving
/// certificate names that host, and the API server's client certificate it makes chains to
/// the client CA for client authentication (`openssl verify -purpose sslclient`), and not to
/// the serving CA.
#[test]
fn imagepolicy_instance_matches_the_kubeconfig() {
    let r = render();
    let docs = yaml_docs(&r.admission);
    let dir = r._tmp.path().join("admission");
    let kubeconfig =
        std::fs::read_to_string(root().join("deploy/k8s/imagepolicy/imagepolicy-kubeconfig.yaml"))
            .unwrap();
    let server = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap();
    let (host, port) = url_host(server);
    let svc_name = host.strip_suffix(".signet.svc").unwrap();
    let svc = docs
        .iter()
        .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == svc_name)
        .unwrap_or_else(|| panic!("the kubeconfig calls {host}, no Service of the set"));
    assert!(svc["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["port"] == u64::from(port)));
    let (workload, spec, _, _) = pod_templates(&docs)
        .into_iter()
        .find(|(_, _, labels, _)| selects(&svc["spec"]["selector"], labels))
        .unwrap();
    let args: Vec<&str> = spec["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "admission", "{workload}");
    let client_ca = args
        .iter()
        .find_map(|a| a.strip_prefix("--client-ca="))
        .unwrap_or_else(|| panic!("{workload} runs without --client-ca"));
    resolve(
        &docs,
        spec,
        &spec["containers"][0],
        client_ca,
        &format!("{workload} --client-ca"),
    );
    // Mounted from the Secret of the client CA (its generated name carries a hash suffix).
    let (_, volume) = mounts(spec, &spec["containers"][0])
        .into_iter()
        .find(|(m, _)| client_ca.starts_with(&format!("{m}/")))
        .unwrap();
    let secret_name = volume["secret"]["secretName"].as_str().unwrap();
    assert!(
        secret_name.starts_with("signet-imagepolicy-client-ca"),
        "{secret_name}"
    );
    // The serving certificate names the host the kubeconfig calls.
    let (ok, san) = run(Command::new("openssl")
        .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
        .arg(dir.join("tls.crt")));
    assert!(ok && san.contains(&format!("DNS:{host}")), "{san}");
    // The client certificate: for client authentication, under the client CA only.
    let verify = |ca: &str| {
        run(Command::new("openssl")
            .args(["verify", "-purpose", "sslclient", "-CAfile"])
            .arg(dir.join(ca))
            .arg(dir.join("apiserver-client.crt")))
    };
    let (ok, out) = verify("client-ca.crt");
    assert!(ok, "{out}");
    let (ok, out) = verify("ca.crt");
    assert!(
        !ok,
        "the client certificate chains to the serving CA: {out}"
    );
}

/// deploy/distributed: every host the site's configs (site.sh), the proxy (nginx.conf) and the
/// CA's `log_url` name is a service of its compose file, and every node `site.sh` gives
/// Garage as a bootstrap peer is one too.
#[test]
fn distributed_compose_hosts_are_its_services() {
    let compose = yaml_docs(
        &std::fs::read_to_string(root().join("deploy/distributed/compose.yaml")).unwrap(),
    );
    let services: BTreeSet<String> = compose[0]["services"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut hosts = BTreeSet::new();
    let site = std::fs::read_to_string(root().join("deploy/distributed/site.sh")).unwrap();
    for part in site.split("http://").skip(1) {
        hosts.insert(part.split(':').next().unwrap().to_owned());
    }
    for part in site.split("@garage").skip(1) {
        hosts.insert(format!("garage{}", part.split(':').next().unwrap()));
    }
    let nginx = std::fs::read_to_string(root().join("deploy/distributed/nginx.conf")).unwrap();
    for line in nginx.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("server ") {
            if let Some((host, _)) = rest.split_once(':') {
                hosts.insert(host.to_owned());
            }
        }
    }
    let ca: toml::Value =
        toml::from_str(&std::fs::read_to_string(root().join("deploy/config/ca.toml")).unwrap())
            .unwrap();
    hosts.insert(url_host(ca["ca"]["log_url"].as_str().unwrap()).0);
    // $i in site.sh's loops stands for 0, 1 and 2.
    let hosts: BTreeSet<String> = hosts
        .into_iter()
        .flat_map(|h| {
            if h.ends_with("$i") {
                (0..3)
                    .map(|i| h.replace("$i", &i.to_string()))
                    .collect::<Vec<_>>()
            } else {
                vec![h]
            }
        })
        .collect();
    assert!(hosts.len() >= 11, "{hosts:?}");
    for h in &hosts {
        assert!(
            services.contains(h),
            "{h} is not a service of deploy/distributed/compose.yaml"
        );
    }
}
