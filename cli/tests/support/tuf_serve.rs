//! Test helper: `signet serve` with a TUF repository (an Ed25519 root key made with openssl,
//! `trust init`, an email OIDC issuer), on a fixed port and data directory, restartable, for
//! the rotation tests; and sigstore-python with a home of its own.

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
}

impl TufServe {
    pub fn new(dir: &Path, issuer: &str) -> Self {
        let root_key = dir.join("root.pem");
        let out = run(Command::new("openssl")
            .args(["genpkey", "-algorithm", "ed25519", "-out"])
            .arg(&root_key));
        assert!(out.status.success(), "openssl genpkey: {}", text(&out));
        let data = dir.join("data");
        let out = run(signet()
            .args(["trust", "init", "--threshold", "1", "--out"])
            .arg(data.join("tuf"))
            .arg("--root-key")
            .arg(&root_key));
        assert!(out.status.success(), "trust init: {}", text(&out));
        let addr = format!("127.0.0.1:{}", free_port());
        let cfg = dir.join("signet.toml");
        std::fs::write(
            &cfg,
            format!(
                "data_dir = {:?}\nlisten = \"{addr}\"\n\n[[ca.issuers]]\nurl = \"{issuer}\"\ntype = \"email\"\n",
                data.display().to_string()
            ),
        )
        .unwrap();
        let mut s = TufServe {
            child: None,
            dir: dir.to_owned(),
            cfg,
            url: format!("http://{addr}"),
        };
        s.start();
        s
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn tuf_url(&self) -> String {
        format!("{}/tuf", self.url)
    }

    pub fn start(&mut self) {
        let log = self.dir.join("serve.log");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut child = signet()
            .arg("serve")
            .arg("--config")
            .arg(&self.cfg)
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while get(&format!("{}/tuf/timestamp.json", self.url)).is_none() {
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
        serde_json::from_slice(&get(&format!("{}{path}", self.url)).unwrap()).unwrap()
    }

    pub fn restart(&mut self) {
        self.stop();
        self.start();
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
