//! Sigstore's conformance suite (sigstore/sigstore-conformance), offline verification cases:
//! every case directory vendored in `testdata/sigstore-conformance/bundle-verify/` (see its
//! README for the source commit and the case layout) is verified with the built `signet`
//! binary, as the suite's CLI protocol (`docs/cli_protocol.md`, `verify-bundle`) maps onto
//! `signet verify-blob`: once with the artifact as a file and once as `sha256:<hex>` of it. A
//! case whose name ends in `_fail` must fail (non-zero exit), any other must verify.
//!
//! `verify_bundle_cases` runs `signet verify-blob` directly; `protocol_wrapper_cases` runs the
//! same cases through `cli/tests/conformance-client`, the wrapper with the protocol's exact
//! command line (`verify-bundle --bundle ... FILE_OR_DIGEST`), which is what the upstream suite
//! would call. Every mismatch is reported at once, by case name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The number of case directories vendored (upstream commit
/// a73de4970176d258e0154c530b89d20b89444e4d). Finding another number is a failure: an empty
/// or half-copied directory must not pass.
const CASES: usize = 70;

/// The protocol's default identity and issuer (upstream `bundle-verify/README.md`).
const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sigstore-conformance")
}

/// One case directory, with the protocol's defaults applied.
struct Case {
    name: String,
    bundle: PathBuf,
    artifact: PathBuf,
    /// `key.pub`: verify with the key instead of an identity.
    key: Option<PathBuf>,
    identity: String,
    issuer: String,
    /// The case's `trusted_root.json`, else the public-good production root.
    trusted_root: PathBuf,
    must_fail: bool,
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

fn cases() -> Vec<Case> {
    let base = root().join("bundle-verify");
    let production = root().join("production_trusted_root.json");
    assert!(
        production.is_file(),
        "missing {}: vendor it (see the README)",
        production.display()
    );
    let default_artifact = base.join("a.txt");
    assert!(
        default_artifact.is_file(),
        "missing {}",
        default_artifact.display()
    );
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&base)
        .unwrap_or_else(|e| panic!("conformance cases {}: {e}", base.display()))
    {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let bundle = dir.join("bundle.sigstore.json");
        assert!(bundle.is_file(), "{name}: no bundle.sigstore.json");
        let opt = |f: &str| Some(dir.join(f)).filter(|p| p.is_file());
        out.push(Case {
            must_fail: name.ends_with("_fail"),
            artifact: opt("artifact").unwrap_or_else(|| default_artifact.clone()),
            key: opt("key.pub"),
            identity: read_trimmed(&dir.join("identity"))
                .unwrap_or_else(|| DEFAULT_IDENTITY.to_owned()),
            issuer: read_trimmed(&dir.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.to_owned()),
            trusted_root: opt("trusted_root.json").unwrap_or_else(|| production.clone()),
            bundle,
            name,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        out.len(),
        CASES,
        "found {} conformance cases in {}, {CASES} are vendored",
        out.len(),
        base.display()
    );
    out
}

/// The artifact as the protocol's second form: `sha256:` and the hex digest.
fn digest_form(artifact: &Path) -> String {
    let bytes = std::fs::read(artifact).unwrap();
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
    format!("sha256:{}", hex::encode(d.as_ref()))
}

/// `--key`, or the identity and issuer, as the case verifies (the same flags in both forms).
fn signer_args(cmd: &mut Command, case: &Case) {
    match &case.key {
        Some(key) => {
            cmd.arg("--key").arg(key);
        }
        None => {
            cmd.args(["--certificate-identity", &case.identity]);
            cmd.args(["--certificate-oidc-issuer", &case.issuer]);
        }
    }
}

/// `signet verify-blob` for `input` (the artifact path or its digest).
fn verify_blob(case: &Case, input: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_signet"));
    cmd.args(["verify-blob", "--bundle"]).arg(&case.bundle);
    signer_args(&mut cmd, case);
    cmd.arg("--trusted-root").arg(&case.trusted_root);
    cmd.arg("--").arg(input);
    cmd.output().expect("run signet")
}

/// The protocol's own command line, through `cli/tests/conformance-client`.
fn protocol_client(case: &Case, input: &str) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance-client");
    let mut cmd = Command::new(&script);
    cmd.env("SIGNET", env!("CARGO_BIN_EXE_signet"));
    cmd.args(["verify-bundle", "--bundle"]).arg(&case.bundle);
    signer_args(&mut cmd, case);
    // The suite passes --trusted-root only when the case has one; the wrapper falls back to
    // the vendored production root, as a client falls back to its built-in one.
    if case.trusted_root.starts_with(root().join("bundle-verify")) {
        cmd.arg("--trusted-root").arg(&case.trusted_root);
    }
    cmd.arg(input);
    cmd.output()
        .unwrap_or_else(|e| panic!("run {}: {e}", script.display()))
}

/// Runs every case in both forms with `run`; returns the pass count per form and panics with
/// every mismatch.
fn run_all(run: fn(&Case, &str) -> Output) {
    let cases = cases();
    let mut failures = Vec::new();
    let mut passed = [0usize; 2];
    for case in &cases {
        let forms = [
            ("file", case.artifact.to_str().unwrap().to_owned()),
            ("digest", digest_form(&case.artifact)),
        ];
        for (i, (form, input)) in forms.iter().enumerate() {
            let out = run(case, input);
            let stderr = String::from_utf8_lossy(&out.stderr);
            // A usage error is not a verification outcome: it must never count as a pass.
            let usage = stderr.contains("Usage:");
            let ok = if case.must_fail {
                !out.status.success() && !usage
            } else {
                out.status.success()
            };
            if ok {
                passed[i] += 1;
            } else {
                failures.push(format!(
                    "{} ({form}): expected {}, got {} — {}",
                    case.name,
                    if case.must_fail { "failure" } else { "success" },
                    out.status,
                    stderr.trim()
                ));
            }
        }
    }
    eprintln!(
        "conformance: {}/{} cases pass as a file, {}/{} as a sha256 digest",
        passed[0],
        cases.len(),
        passed[1],
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} conformance mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn verify_bundle_cases() {
    run_all(verify_blob);
}

#[test]
fn protocol_wrapper_cases() {
    run_all(protocol_client);
}
