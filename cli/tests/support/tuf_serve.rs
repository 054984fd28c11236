//! Test helper: `signet serve` on a fixed port and data directory, restartable, for the
//! rotation and refresh tests: with a TUF repository ([`TufServe::new`]: an Ed25519 root key
//! made with openssl, `trust init`, an email OIDC issuer) or without one
//! ([`TufServe::configured`], extra config lines appended); and sigstore-python with a home of
//! its own.

#![allow(dead_code, clippy::unwrap_used, unreachable_pub, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{free_port, run, signet, text};

/// `signet serve` on a fixed port and data directory, restartable.
pub struct TufServe {
    child: Option<Child>,
    pub dir: PathBuf,
    cfg: PathBuf,
    pub url: String,
    /// The path polled until the server answers it: the TUF timestamp, or `/readyz`.
    ready: &'static str,
}

impl TufServe {
    /// A TUF repository (one Ed25519 root key, threshold 1) in `dir/data`, served and started.
    pub fn new(dir: &Path, issuer: &str) -> Self {
        let root_key = dir.join("root.pem");
        let out = run(Command::new("openssl")
            .args(["genpkey", "-algorithm", "ed25519", "-out"])
            .arg(&root_key));
        assert!(out.status.success(), "openssl genpkey: {}", text(&out));
        let out = run(signet()
            .args(["trust", "init", "--threshold", "1", "--out"])
            .arg(dir.join("data").join("tuf"))
            .arg("--root-key")
            .arg(&root_key));
        assert!(out.status.success(), "trust init: {}", text(&out));
        let mut s = Self::configured(dir, issuer, "");
        s.ready = "/tuf/timestamp.json";
        s.start();
        s
    }

    /// The config (data in `dir/data`, `extra` appended), not started: no TUF repository,
    /// ready when `/readyz` answers.
    pub fn configured(dir: &Path, issuer: &str, extra: &str) -> Self {
        let addr = format!("127.0.0.1:{}", free_port());
        let cfg = dir.join("signet.toml");
        std::fs::write(
            &cfg,
            format!(
                "data_dir = {:?}\nlisten = \"{addr}\"\n\n[[ca.issuers]]\nurl = \"{issuer}\"\ntype = \"email\"\n{extra}",
                dir.join("data").display().to_string()
            ),
        )
        .unwrap();
        TufServe {
            child: None,
            dir: dir.to_owned(),
            cfg,
            url: format!("http://{addr}"),
            ready: "/readyz",
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn tuf_url(&self) -> String {
        format!("{}/tuf", self.url)
    }

    /// `signet serve --config <this config>`, not spawned.
    pub fn command(&self) -> Command {
        let mut c = signet();
        c.arg("serve").arg("--config").arg(&self.cfg);
        c
    }

    /// Starts `serve` and waits until it answers its ready path.
    pub fn start(&mut self) {
        let log = self.dir.join("serve.log");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut child = self
            .command()
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while get(&format!("{}{}", self.url, self.ready)).is_none() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "signet serve exited early ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "signet serve did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child = Some(child);
    }

    /// SIGTERM (graceful), then wait.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let out = run(Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string()));
            assert!(out.status.success(), "kill: {}", text(&out));
            child.wait().unwrap();
        }
    }

    /// GET `path` as JSON (it must answer 2xx).
    pub fn json(&self, path: &str) -> Value {
        signet_proto::json::from_slice(&get(&format!("{}{path}", self.url)).unwrap()).unwrap()
    }

    pub fn restart(&mut self) {
        self.stop();
        self.start();
    }

    /// The served `trusted_root.json`.
    pub fn trusted_root(&self) -> Value {
        self.json("/signet/v1/trusted_root.json")
    }

    /// `signet trust export` of the published repository into `out` (replaced).
    pub fn export(&self, out: &Path) {
        if out.exists() {
            std::fs::remove_dir_all(out).unwrap();
        }
        let o = run(signet()
            .args(["trust", "export", "--data-dir"])
            .arg(self.data())
            .arg("--out")
            .arg(out));
        assert!(o.status.success(), "trust export: {}", text(&o));
    }
}

impl Drop for TufServe {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn get(url: &str) -> Option<Vec<u8>> {
    let resp = reqwest::blocking::get(url).ok()?;
    resp.status()
        .is_success()
        .then(|| resp.bytes().unwrap().to_vec())
}

/// The `sigstore` CLI (sigstore-python) with its own home, data and cache under `home`.
pub fn sigstore(home: &Path) -> Command {
    let mut cmd = Command::new("sigstore");
    cmd.env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("HOME", home);
    cmd
}

/// sigstore-python `sign` against the server's TUF repository (`--instance`), as `email` (a
/// token from `oidc`); the bundle is `file` with the extension `<tag>.sigstore.json`.
pub fn python_sign(
    s: &TufServe,
    oidc: &super::Oidc,
    home: &Path,
    file: &Path,
    tag: &str,
    email: &str,
) -> PathBuf {
    let bundle = file.with_extension(format!("{tag}.sigstore.json"));
    let out = run(sigstore(home)
        .args(["--instance", &s.tuf_url(), "sign", "--identity-token"])
        .arg(oidc.token(email))
        .arg("--bundle")
        .arg(&bundle)
        .arg(file));
    assert!(
        out.status.success(),
        "sigstore sign ({tag}): {}",
        text(&out)
    );
    bundle
}

/// sigstore-python `verify identity` against the server's TUF repository: (success, output).
pub fn python_verify(
    s: &TufServe,
    oidc: &super::Oidc,
    home: &Path,
    file: &Path,
    bundle: &Path,
    email: &str,
) -> (bool, String) {
    let out = run(sigstore(home)
        .args(["--instance", &s.tuf_url(), "verify", "identity", "--bundle"])
        .arg(bundle)
        .args(["--cert-identity", email, "--cert-oidc-issuer", &oidc.url])
        .arg(file));
    (out.status.success(), text(&out))
}

/// `signet verify-blob` on the TUF-verified default root of `home` (`signet trust init
/// --mirror`): (success, output).
pub fn signet_verify(
    home: &Path,
    oidc: &super::Oidc,
    file: &Path,
    bundle: &Path,
    email: &str,
) -> (bool, String) {
    let out = run(signet()
        .env("SIGNET_HOME", home)
        .env_remove("SIGNET_TRUSTED_ROOT")
        .arg("verify-blob")
        .arg(file)
        .arg("--bundle")
        .arg(bundle)
        .args([
            "--certificate-identity",
            email,
            "--certificate-oidc-issuer",
            &oidc.url,
        ]));
    (out.status.success(), text(&out))
}
