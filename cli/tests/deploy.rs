//! The deploy/ files, checked with real validators (there is no container engine here):
//! Kubernetes manifests against the Kubernetes API schemas (kubernetes-validate), the
//! Dockerfile with hadolint, compose.yaml against the Compose specification
//! (check-jsonschema), and every signet config they mount with `signet serve --check-config`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

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
fn kubernetes_manifests_match_the_api_schemas() {
    let d = root().join("deploy/k8s");
    let (ok, text) = run(Command::new("kubernetes-validate")
        .arg("--strict")
        .arg(d.join("log.yaml"))
        .arg(d.join("ca.yaml"))
        .arg(d.join("admission.yaml")));
    assert!(ok, "kubernetes-validate failed:\n{text}");
    assert!(text.contains("statefulset/signet-log"), "{text}");
    assert!(text.contains("deployment/signet-ca"), "{text}");
    assert!(text.contains("deployment/signet-admission"), "{text}");
    for webhook in [
        "validatingwebhookconfiguration",
        "mutatingwebhookconfiguration",
    ] {
        assert!(
            text.contains(&format!("{webhook}/signet-admission")),
            "{text}"
        );
    }
}

#[test]
fn dockerfile_passes_hadolint() {
    let (ok, text) = run(Command::new("hadolint").arg(root().join("deploy/Dockerfile")));
    assert!(ok, "hadolint failed:\n{text}");
}

#[test]
fn compose_file_matches_the_compose_spec() {
    let (ok, text) = run(Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.compose-spec"])
        .arg(root().join("deploy/compose.yaml")));
    assert!(ok, "check-jsonschema failed:\n{text}");
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

/// Pulls `<key>: |` blocks (e.g. `signet.toml`) out of ConfigMaps (the manifests are plain
/// YAML; the block is indented under the key).
fn configmap_tomls(yaml: &str, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = yaml.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim_start() == format!("{key}: |") {
            let key_indent = line.len() - line.trim_start().len();
            let mut block = String::new();
            while let Some(next) = lines.peek() {
                let indent = next.len() - next.trim_start().len();
                if !next.trim().is_empty() && indent <= key_indent {
                    break;
                }
                block.push_str(next.get(key_indent + 2..).unwrap_or("").trim_end());
                block.push('\n');
                lines.next();
            }
            out.push(block);
        }
    }
    out
}

#[test]
fn every_mounted_config_passes_check_config() {
    let mut n = 0;
    for name in ["log.toml", "ca.toml"] {
        let text = std::fs::read_to_string(root().join("deploy/config").join(name)).unwrap();
        check_config(&text, name);
        n += 1;
    }
    for name in ["log.yaml", "ca.yaml"] {
        let yaml = std::fs::read_to_string(root().join("deploy/k8s").join(name)).unwrap();
        let blocks = configmap_tomls(&yaml, "signet.toml");
        assert_eq!(
            blocks.len(),
            1,
            "{name}: expected one signet.toml ConfigMap entry"
        );
        for b in blocks {
            check_config(&b, name);
            n += 1;
        }
    }
    assert_eq!(n, 4);
}

#[test]
fn admission_policy_in_the_manifest_passes_check() {
    let yaml = std::fs::read_to_string(root().join("deploy/k8s/admission.yaml")).unwrap();
    let blocks = configmap_tomls(&yaml, "admission.toml");
    assert_eq!(blocks.len(), 1, "one admission.toml ConfigMap entry");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admission.toml");
    std::fs::write(&path, &blocks[0]).unwrap();
    let (ok, out) = run(Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["admission", "--check", "--policy"])
        .arg(&path));
    assert!(ok, "admission.toml fails signet admission --check:\n{out}");
    assert!(
        out.contains("2 rules (1 verify signatures, 1 admit unverified)"),
        "{out}"
    );
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
