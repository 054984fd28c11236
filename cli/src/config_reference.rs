//! docs/CONFIG.md cannot drift from the code: each example block it marks
//! `<!-- example: NAME -->` loads with the parser `signet` uses for that file (all of which
//! reject unknown keys), and every key of the `serve` configuration is named in it.

// Tests unwrap: a panic with its location is the failure report
#![allow(clippy::unwrap_used)]

use std::path::Path;

const DOC: &str = include_str!("../../docs/CONFIG.md");

/// The fenced block after `<!-- example: NAME -->`.
fn example(name: &str) -> &'static str {
    let marker = format!("<!-- example: {name} -->");
    let after = DOC
        .split_once(&marker)
        .unwrap_or_else(|| panic!("docs/CONFIG.md has no {marker}"))
        .1;
    let body = after.trim_start().split_once('\n').unwrap().1;
    body.split_once("\n```").unwrap().0
}

#[test]
fn serve_example_loads_and_every_key_is_documented() {
    use crate::servers::serve::Config;
    let text = example("serve");
    let config = Config::from_toml(text).unwrap();
    config.validate().unwrap();
    assert_eq!(config.ca.issuers.len(), 4);
    // The commented keys are real keys too: uncommented (one at a time, with the CA key kind
    // they belong to) they parse.
    for line in text.lines().filter_map(|l| l.strip_prefix("# ")) {
        if line.contains(" = ") && !line.starts_with("type") {
            let key = line.split(" = ").next().unwrap();
            let table = if ["module", "token_label", "key_label", "pin_file", "chain"]
                .contains(&key)
            {
                "[ca.key]\ntype = \"pkcs11\"\nchain = \"c\"\nmodule = \"m\"\ntoken_label = \"t\"\nkey_label = \"k\"\npin_file = \"p\"\n"
            } else if key == "password_env" {
                "[ca.key]\ntype = \"file\"\nkey = \"k\"\nchain = \"c\"\n"
            } else if key == "key" {
                "[tsa]\nchain = \"c\"\n"
            } else if key == "log_url" {
                "[ca]\n"
            } else if key == "ca_certs" {
                ""
            } else if key == "ca_file" {
                "[[ca.issuers]]\nurl = \"https://k8s.example\"\n"
            } else {
                "[log]\n"
            };
            let uncommented = if table.contains(&format!("\n{key} = ")) {
                table.to_owned()
            } else {
                format!("{table}{line}\n")
            };
            Config::from_toml(&uncommented)
                .unwrap_or_else(|e| panic!("{line}: {e}\n{uncommented}"));
        }
    }
    // Every key the parser knows (the template names them all) is in the reference table.
    let template = Config::default().to_template();
    for line in template.lines() {
        let line = line.trim_start_matches("# ");
        if let Some((key, _)) = line.split_once(" = ") {
            assert!(
                DOC.contains(&format!("`{key}`")) || DOC.contains(&format!(".{key}]]`")),
                "serve key {key} is not documented in docs/CONFIG.md"
            );
        }
    }
}

#[test]
fn admission_example_loads() {
    let policy =
        crate::servers::admission::AdmissionPolicy::parse(example("admission"), Path::new("."))
            .unwrap();
    drop(policy);
}

#[test]
fn admission_notary_example_loads() {
    // Its notation files are notation's own test files, as laid out in testdata/notary.
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/notary");
    let policy =
        crate::servers::admission::AdmissionPolicy::parse(example("admission-notary"), &base)
            .unwrap();
    assert_eq!(policy.rules.len(), 2);
}

#[test]
fn monitor_example_loads() {
    crate::auditors::monitor::policy::MonitorPolicy::from_toml(example("monitor")).unwrap();
}

#[test]
fn witness_policy_example_loads() {
    let policy =
        signet_proto::witness::WitnessPolicyFile::parse(example("witness-policy")).unwrap();
    assert_eq!(policy.witnesses.len(), 2);
    assert_eq!(policy.quorum, 2);
}

#[test]
fn witness_example_loads() {
    let config: crate::servers::witness::Config = toml::from_str(example("witness")).unwrap();
    config.validate().unwrap();
}
