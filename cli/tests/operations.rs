//! Operations: `signet version`, `serve --print-config` as a template that `--check-config`
//! accepts, and what `serve` says on start.

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

fn signet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_signet"))
}

fn stdout_of(args: &[&str]) -> String {
    let out = signet().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `signet version` and `signet --version` print the crate version and the commit this test
/// builds from (`git rev-parse HEAD` of this checkout).
#[test]
fn version_names_version_and_commit() {
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    assert!(head.status.success(), "the tests run in a git checkout");
    let head = String::from_utf8(head.stdout).unwrap().trim().to_owned();
    assert_eq!(head.len(), 40, "{head}");
    let expected = format!("signet {} (commit {head})\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(stdout_of(&["version"]), expected);
    assert_eq!(stdout_of(&["--version"]), expected);
}

/// The template `--print-config` prints names the optional keys (commented out) and
/// round-trips through `--check-config`, which warns that no OIDC issuer is configured.
#[test]
fn print_config_round_trips_through_check_config() {
    let template = stdout_of(&["serve", "--print-config"]);
    for key in [
        "data_dir = ",
        "# public_url = ",
        "# [tls]",
        "# witness_policy = ",
        "# log_url = ",
        "# [[ca.issuers]]",
        "# jwks_file = ",
        "# server_url = ",
        "# subject_domain = ",
        "# type = \"pkcs11\"",
        "# type = \"file\"",
        "# password_env = ",
    ] {
        assert!(template.contains(key), "{key} missing:\n{template}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signet.toml");
    std::fs::write(&path, &template).unwrap();
    let out = signet()
        .args(["serve", "--check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("configuration is valid"),
        "{out:?}"
    );
    assert!(
        stderr.contains("no OIDC issuer configured: the CA will refuse every identity token"),
        "{stderr}"
    );
    // Printing the file back gives the same template: nothing was lost.
    let again = signet()
        .args(["serve", "--print-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(again.stdout).unwrap(), template);

    // With an issuer, no warning.
    let out = signet()
        .args([
            "serve",
            "--check-config",
            "--oidc-issuer",
            "https://issuer.example",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "{out:?}");
}

/// On start, `serve` names its trust files and the next commands, and warns when the CA
/// accepts no issuer.
#[test]
fn serve_start_names_trust_files_and_warns_without_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = signet()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.trim_start().starts_with("signet verify");
        stdout.push(line);
        if done {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let stdout = stdout.join("\n");
    let d = data.display();
    for want in [
        format!("trust files: {d}/trusted_root.json, {d}/signing_config.json"),
        format!("next: signet sign REGISTRY/REPO:TAG --signing-config {d}/signing_config.json"),
        format!("signet verify REGISTRY/REPO:TAG --trusted-root {d}/trusted_root.json"),
    ] {
        assert!(stdout.contains(&want), "{want} missing:\n{stdout}");
    }
    assert!(data.join("trusted_root.json").exists());
    assert!(
        stderr.contains("no OIDC issuer configured: the CA will refuse every identity token"),
        "{stderr}"
    );
}

/// Starts `serve` with `args`, waits for its start, stops it and returns its stderr lines.
fn serve_stderr(args: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut child = signet()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines {
        if line.unwrap().trim_start().starts_with("signet verify") {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    stderr.lines().map(str::to_owned).collect()
}

/// `--log-format json`: every stderr line is a JSON object with a level and a message; the
/// default without a terminal is the same. `--log-format text`: plain lines.
#[test]
fn log_format_json_lines_parse_and_text_is_plain() {
    for args in [&["--log-format", "json"][..], &[][..]] {
        let lines = serve_stderr(args);
        assert!(lines.len() >= 2, "{args:?}: {lines:?}");
        for line in &lines {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{args:?}: {line:?} is not JSON: {e}"));
            assert!(v["level"].is_string(), "{line}");
            assert!(v["fields"]["message"].is_string(), "{line}");
        }
        assert!(
            lines
                .iter()
                .any(|l| l.contains("\"WARN\"") && l.contains("no OIDC issuer")),
            "{lines:?}"
        );
    }
    let lines = serve_stderr(&["--log-format", "text"]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("WARN") && l.contains("no OIDC issuer configured")),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|l| !l.trim_start().starts_with('{')),
        "{lines:?}"
    );
}

/// Every server takes `--log-format` and rejects an unknown format, naming the choices.
#[test]
fn every_server_takes_log_format() {
    for server in ["serve", "witness", "admission"] {
        let help = stdout_of(&[server, "--help"]);
        assert!(help.contains("--log-format <FORMAT>"), "{server}: {help}");
        let out = signet()
            .args([server, "--log-format", "yaml"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("[possible values: text, json]"),
            "{server}: {err}"
        );
    }
}

/// `signet completions bash` is a bash script that registers a completion for `signet` and
/// offers its commands; zsh and fish get theirs.
#[test]
fn completions_name_the_commands() {
    let bash = stdout_of(&["completions", "bash"]);
    for word in [
        "serve",
        "witness",
        "admission",
        "monitor",
        "sign",
        "verify",
        "version",
        "--print-config",
        "--log-format",
    ] {
        assert!(bash.contains(word), "{word} missing from bash completion");
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("signet.bash");
    std::fs::write(&script, &bash).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p signet", script.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("signet"),
        "{out:?}"
    );
    assert!(stdout_of(&["completions", "zsh"]).starts_with("#compdef signet"));
    assert!(stdout_of(&["completions", "fish"]).contains("complete -c signet"));
}

/// Renders a man page with groff and returns the text.
fn render_man(page: &std::path::Path) -> String {
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-P-c", "-ww"])
        .arg(page)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.trim().is_empty(), "groff warnings: {stderr}");
    // Strip overstrike bold/underline (x\bx, _\bx) if any remain.
    let text = String::from_utf8(out.stdout).unwrap();
    let mut clean = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\u{8}') {
            chars.next();
            continue;
        }
        clean.push(c);
    }
    clean.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `signet man` prints a man page that groff renders with the name, synopsis and commands;
/// `signet man --dir D` writes one page per command.
#[test]
fn man_pages_render() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("stdout.1");
    std::fs::write(&page, stdout_of(&["man"])).unwrap();
    let text = render_man(&page);
    for want in [
        "NAME signet - The signet binary: serve, sign, verify",
        "SYNOPSIS signet [--ca-certs] [-h|--help] [-V|--version]",
        "--ca-certs <FILE>",
        "signet-serve(1)",
        "signet-witness(1)",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    let out_dir = dir.path().join("man");
    stdout_of(&["man", "--dir", out_dir.to_str().unwrap()]);
    let serve = render_man(&out_dir.join("signet-serve.1"));
    for want in [
        "signet-serve",
        "--print-config",
        "--check-config",
        "--log-format",
    ] {
        assert!(serve.contains(want), "{want} missing:\n{serve}");
    }
    assert!(out_dir.join("signet.1").exists());
    assert!(out_dir.join("signet-witness.1").exists());
}

/// `signet admission --help` points to the policy reference, which exists and documents the
/// policy format.
#[test]
fn admission_help_points_to_the_policy_reference() {
    let help = stdout_of(&["admission", "--help"]);
    assert!(
        help.contains("docs/CONFIG.md, \"Admission policy\""),
        "{help}"
    );
    assert!(!help.contains("see `signet admission --help`"), "{help}");
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/CONFIG.md")).unwrap();
    assert!(doc.contains("## Admission policy"));
}
