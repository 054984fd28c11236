//! Shared helpers of the `client_*` integration tests: a real registry, a mock OIDC issuer
//! (npm `oauth2-mock-server`), a running `signet serve`, and the `signet` binary.

#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    unreachable_pub,
    missing_docs
)]

pub mod admission;
// The one GET /metrics parser of the workspace's tests, kept with the log's test helpers.
#[path = "../../../log/tests/common/metrics.rs"]
pub mod metrics;
pub mod monitor;
pub mod notary;
pub mod podman;
pub mod push;
pub mod raw_http;
pub mod registry;
pub mod softhsm;
pub mod tlog;
pub mod tuf_serve;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use registry::{
    free_port, listens, require_tools, try_wait_listening, wait_listening, TestRegistry,
};

/// The `signet` binary under test.
pub fn signet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_signet"))
}

/// A spawned child process (killed on drop) and the URL it announced.
pub struct Spawned {
    pub child: Child,
    pub url: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `cmd` (stdout piped, stderr inherited, `RUST_LOG=warn`) and waits for the stdout line
/// `<prefix>URL` (`signet listening on `, `signet witness listening on `). The rest of stdout
/// is drained in the background.
pub fn spawn_until(cmd: &mut Command, prefix: &str) -> Spawned {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("{cmd:?} exited before printing {prefix:?}"))
            .unwrap();
        if let Some(u) = line.strip_prefix(prefix) {
            break u.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Spawned { child, url }
}

/// Runs `cmd` and returns its output (never panics on failure status).
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

/// Runs the `openssl` command line in `dir` and returns its standard output; a failure fails
/// the test with openssl's message (`./x` installs openssl).
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = run(Command::new("openssl").current_dir(dir).args(args));
    assert!(out.status.success(), "openssl {args:?}: {}", text(&out));
    out.stdout
}

/// stderr + stdout of an output, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The Garage binary: `$SIGNET_GARAGE`, else where `./x` builds it (a tool, like SoftHSM2's
/// module path).
pub fn garage_bin() -> PathBuf {
    let p = std::env::var_os("SIGNET_GARAGE").map_or_else(
        || PathBuf::from("/var/cache/signet/garage/bin/garage"),
        PathBuf::from,
    );
    assert!(
        p.exists(),
        "Garage is missing at {} (./x builds it: cargo install garage --locked --root /var/cache/signet/garage; or set SIGNET_GARAGE)",
        p.display()
    );
    p
}

/// The current Unix time in seconds.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Unix second `t` as RFC 3339 UTC (`2026-12-06T07:00:00Z`).
pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Starts the mock OIDC issuer and a `signet serve` trusting it. Panics naming what is missing
/// (node, curl, oauth2-mock-server) or why `signet serve` did not start: a missing dependency
/// is a test failure, never a skip.
pub fn stack() -> (Oidc, Server) {
    require_tools(&["node", "curl"]);
    let oidc = Oidc::start(&oidc_js_dir());
    let server = Server::start(&oidc.url);
    (oidc, server)
}

/// The stdout of a `--output json` run, parsed (panics with the whole output if it is not JSON).
pub fn json_out(out: &Output) -> serde_json::Value {
    signet_proto::json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(out)))
}

/// Runs `signet sign IMAGE` keyless with `token` and JSON output, on `cmd` (a [`signet`]
/// command, possibly with extra environment such as registry credentials).
pub fn sign_image(mut cmd: Command, server: &Server, token: &str, image: &str) -> Output {
    run(cmd
        .arg("sign")
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--identity-token", token, "--output", "json", image]))
}

/// Runs `signet verify IMAGE` for the certificate identity `identity` from `issuer`, with JSON
/// output, on `cmd` (a [`signet`] command, possibly with extra environment).
pub fn verify_image(
    mut cmd: Command,
    server: &Server,
    identity: &str,
    issuer: &str,
    image: &str,
) -> Output {
    run(cmd
        .arg("verify")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .args([
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            issuer,
            "--output",
            "json",
            image,
        ]))
}

/// The directory holding `node_modules/oauth2-mock-server`: `$SIGNET_OIDC_JS_DIR`, or the
/// CA's or this crate's test JS directory. Panics when none has it.
pub fn oidc_js_dir() -> PathBuf {
    js_dir("SIGNET_OIDC_JS_DIR", "ca/tests/js", "oauth2-mock-server")
}

/// The directory holding `node_modules/@sigstore/verify` (the verifier crate's test JS dir).
/// Panics when none has it.
pub fn sigstore_js_dir() -> PathBuf {
    js_dir(
        "SIGNET_SIGSTORE_JS_DIR",
        "verifier/tests/js",
        "@sigstore/verify",
    )
}

/// The directory holding `node_modules/sigstore` (sigstore-js as a signing client) and
/// `sign.js`: `cli/tests/js`. Panics when none has it.
pub fn sigstore_sign_js_dir() -> PathBuf {
    js_dir("SIGNET_SIGSTORE_SIGN_JS_DIR", "cli/tests/js", "sigstore")
}

/// The first of `$env_var`, `<workspace>/<crate_dir>` and `<workspace>/cli/tests/js` that
/// holds `node_modules/<module>`; panics naming the module and how to install it when none
/// does (a missing package is a test failure, never a skip).
fn js_dir(env_var: &str, crate_dir: &str, module: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let candidates = std::env::var_os(env_var)
        .map(PathBuf::from)
        .into_iter()
        .chain([root.join(crate_dir), root.join("cli/tests/js")]);
    candidates
        .into_iter()
        .find(|c| c.join("node_modules").join(module).is_dir())
        .unwrap_or_else(|| {
            panic!(
                "required test dependency missing: node_modules/{module} \
                 (npm ci in {crate_dir}, or set {env_var})"
            )
        })
}

/// The mock OIDC issuer script (ES module, evaluated with the JS dir as cwd so that the bare
/// import resolves there). `POST /token` copies sub, email, email_verified, aud and the JSON
/// `claims` field into the token.
const OIDC_SCRIPT: &str = r#"
import { OAuth2Server } from 'oauth2-mock-server';
const port = Number(process.env.PORT);
const server = new OAuth2Server();
await server.issuer.keys.generate('ES256');
server.issuer.url = `http://127.0.0.1:${port}`;
server.service.on('beforeTokenSigning', (token, req) => {
  const b = req.body ?? {};
  for (const k of ['sub', 'email', 'aud']) if (b[k] !== undefined) token.payload[k] = b[k];
  if (b.email_verified !== undefined) token.payload.email_verified = String(b.email_verified) === 'true';
  if (b.claims) Object.assign(token.payload, JSON.parse(b.claims));
});
await server.start(port, '127.0.0.1');
console.log('ready');
process.on('SIGTERM', async () => { await server.stop(); process.exit(0); });
"#;

/// A running mock OIDC issuer; stopped on drop.
pub struct Oidc {
    child: Child,
    pub url: String,
    _log: tempfile::TempDir,
}

impl Oidc {
    pub fn start(js_dir: &Path) -> Self {
        let port = free_port();
        let logdir = tempfile::tempdir().unwrap();
        let log = logdir.path().join("oidc.log");
        let f = std::fs::File::create(&log).unwrap();
        let mut child = Command::new("node")
            .args(["--input-type=module", "-e", OIDC_SCRIPT])
            .current_dir(js_dir)
            .env("PORT", port.to_string())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        wait_listening(&mut child, port, "oauth2-mock-server", &log);
        Self {
            child,
            url: format!("http://{addr}"),
            _log: logdir,
        }
    }

    /// Mints a token for `email` with audience `sigstore`.
    pub fn token(&self, email: &str) -> String {
        let body = format!(
            "grant_type=client_credentials&aud=sigstore&sub={email}&email={email}&email_verified=true"
        );
        let out = Command::new("curl")
            .args([
                "-sf",
                "-X",
                "POST",
                "-H",
                "Content-Type: application/x-www-form-urlencoded",
                "--data",
            ])
            .arg(body)
            .arg(format!("{}/token", self.url))
            .output()
            .unwrap();
        assert!(out.status.success(), "token request failed: {}", text(&out));
        let v: serde_json::Value = signet_proto::json::from_slice(&out.stdout).unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    }
}

impl Drop for Oidc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `signet serve` (CA + log) in a temporary data directory; stopped on drop.
pub struct Server {
    child: Child,
    pub dir: tempfile::TempDir,
    pub url: String,
}

impl Server {
    /// The transparency log's tree size (Rekor v1 `GET /api/v1/log`).
    pub fn tree_size(&self) -> u64 {
        let v: serde_json::Value = reqwest::blocking::get(format!("{}/api/v1/log", self.url))
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .unwrap();
        v["treeSize"]
            .as_u64()
            .or_else(|| v["treeSize"].as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("no treeSize in {v}"))
    }

    /// Starts `signet serve` accepting email tokens from `issuer`. Panics with the server's log
    /// when it exits or does not become ready within a minute.
    pub fn start(issuer: &str) -> Self {
        Self::start_with(issuer, "")
    }

    /// [`Server::start`] with `extra` TOML appended to its configuration (tables only, e.g.
    /// `[log]\nprefer_rekor_v2 = true\n`).
    pub fn start_with(issuer: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let config = format!(
            "data_dir = {:?}\nlisten = \"{addr}\"\n\n[[ca.issuers]]\nurl = \"{issuer}\"\ntype = \"email\"\n{extra}",
            dir.path().join("data").display().to_string()
        );
        let cfg = dir.path().join("signet.toml");
        std::fs::write(&cfg, config).unwrap();
        let log = dir.path().join("serve.log");
        let f = std::fs::File::create(&log).unwrap();
        let mut child = signet()
            .arg("serve")
            .arg("--config")
            .arg(&cfg)
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "signet serve exited early ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            let ready = listens(child.id(), port)
                && dir.path().join("data/trusted_root.json").is_file()
                && dir.path().join("data/signing_config.json").is_file();
            if ready {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "signet serve did not become ready: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            dir,
            url: format!("http://{addr}"),
        }
    }

    pub fn trusted_root(&self) -> PathBuf {
        self.dir.path().join("data/trusted_root.json")
    }

    pub fn signing_config(&self) -> PathBuf {
        self.dir.path().join("data/signing_config.json")
    }

    /// The client trust config `serve` writes (`sigstore --trust-config` reads it).
    pub fn trust_config(&self) -> PathBuf {
        self.dir.path().join("data/trust_config.json")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
