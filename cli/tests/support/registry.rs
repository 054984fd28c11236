//! Test helper: a real Debian `docker-registry` (distribution 2.8) on a free loopback port with
//! filesystem storage in a temporary directory, and test images pushed with umoci + skopeo.
//!
//! Shared by the unit tests of `client::oci` (through `#[path]`) and the `client_*`
//! integration tests. Tests that need it fail when `docker-registry`, `umoci` or `skopeo` is
//! not installed.

#![allow(dead_code, clippy::unwrap_used, unreachable_pub, missing_docs)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Requires every program in `tools` on PATH: panics naming each missing one and how to install
/// it (a missing tool is a test failure, never a skip).
pub fn require_tools(tools: &[&str]) {
    let missing: Vec<String> = tools
        .iter()
        .copied()
        .filter(|t| {
            !Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {t}"))
                .stdout(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        })
        .map(|t| format!("{t} ({})", install_hint(t)))
        .collect();
    assert!(
        missing.is_empty(),
        "required test tools missing from PATH: {}",
        missing.join(", ")
    );
}

/// How to install the test tool `tool` (Debian packages; sigstore-python from PyPI).
fn install_hint(tool: &str) -> String {
    match tool {
        "sigstore" => "sigstore-python: pip install sigstore".to_owned(),
        "node" => "apt-get install nodejs npm".to_owned(),
        other => format!("apt-get install {other}"),
    }
}

/// A free TCP port on 127.0.0.1, for a server that takes its port from its configuration
/// (docker-registry, etcd, Garage, a restarted `signet`): bound and released here, bound again
/// by the server later. The port is chosen below the kernel's ephemeral range
/// (`net.ipv4.ip_local_port_range`), so that between the two binds no server listening on
/// port 0 and no outgoing connection is given it: a webhook another test starts on
/// `127.0.0.1:0` once took such a released port, and the registry meant for it could not bind
/// while its readiness check reached the webhook. Within a test process each port is handed
/// out once; processes start at different offsets.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 10_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768);
    if ephemeral_low <= LOW + 1_000 {
        // An unusual range leaves no room below it: the kernel's choice.
        return TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
    }
    let span = ephemeral_low - LOW;
    let start = std::process::id().wrapping_mul(7_919) % span;
    for _ in 0..span {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = u16::try_from(LOW + (start + n) % span).unwrap();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on 127.0.0.1 between {LOW} and {ephemeral_low}");
}

/// Waits until `child` itself listens on 127.0.0.1:`port`: a socket of its own in the kernel's
/// table of listening TCP sockets, not merely something that accepts a connection there (a
/// server that could not bind the port would otherwise be taken for ready when another
/// process holds it). `Err` when the child exits first, with its status and `log`.
pub fn try_wait_listening(
    child: &mut Child,
    port: u16,
    what: &str,
    log: &Path,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "{what} exited early ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            ));
        }
        if listens(child.id(), port) {
            return Ok(());
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on 127.0.0.1:{port}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// [`try_wait_listening`], panicking when the child exits first.
pub fn wait_listening(child: &mut Child, port: u16, what: &str, log: &Path) {
    if let Err(e) = try_wait_listening(child, port, what, log) {
        panic!("{e}");
    }
}

/// Whether process `pid` holds a TCP socket listening on `port` of 127.0.0.1 or of every
/// address: the listening sockets' inodes from `/proc/net/tcp{,6}` against the `socket:[N]`
/// links among `/proc/<pid>/fd`.
pub fn listens(pid: u32, port: u16) -> bool {
    let mut inodes = std::collections::HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let (Some(local), Some(state), Some(inode)) = (f.get(1), f.get(3), f.get(9)) else {
                continue;
            };
            let Some((host, p)) = local.rsplit_once(':') else {
                continue;
            };
            let loopback_or_any = matches!(
                host,
                "0100007F" | "00000000" | "00000000000000000000000000000000"
            );
            if *state == "0A" && loopback_or_any && u16::from_str_radix(p, 16).ok() == Some(port) {
                inodes.insert(format!("socket:[{inode}]"));
            }
        }
    }
    if inodes.is_empty() {
        return false;
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|l| inodes.contains(l.to_string_lossy().as_ref()))
    })
}

/// Spawns `docker-registry serve` on 127.0.0.1:`port` with filesystem storage under `dir`
/// (`dir/data`), `extra` appended to its configuration (more keys of the `http` section,
/// indented by two spaces, then top-level sections) and its output in `dir/registry.log`. Does
/// not wait for it: see [`try_wait_listening`].
pub fn spawn_registry(dir: &Path, port: u16, extra: &str) -> Child {
    let config = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{extra}",
        dir.join("data").display()
    );
    let cfg = dir.join("config.yml");
    std::fs::write(&cfg, config).unwrap();
    let log = std::fs::File::create(dir.join("registry.log")).unwrap();
    Command::new("docker-registry")
        .arg("serve")
        .arg(&cfg)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start docker-registry")
}

/// A running registry; stopped (by its own PID) on drop.
pub struct TestRegistry {
    child: Child,
    pub dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl TestRegistry {
    pub fn start() -> Self {
        Self::start_with("")
    }

    /// A registry serving HTTPS with the PEM certificate chain `cert` and its key `key`
    /// (distribution's `http.tls`).
    pub fn start_tls(cert: &Path, key: &Path) -> Self {
        Self::start_with(&format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            cert.display(),
            key.display()
        ))
    }

    /// `http_extra`: more keys of the `http` section, indented by two spaces.
    fn start_with(http_extra: &str) -> Self {
        Self::spawn(tempfile::tempdir().unwrap(), http_extra, "")
    }

    /// Starts `docker-registry` with storage under `dir` and the given extra configuration
    /// (`http_extra` in the `http` section, `tail` top-level sections), on a port of
    /// [`free_port`], and waits until the registry itself listens there. A registry that
    /// finds its port taken after all (by a process outside this test binary) is started
    /// again on another port.
    fn spawn(dir: tempfile::TempDir, http_extra: &str, tail: &str) -> Self {
        let log_path = dir.path().join("registry.log");
        let mut failures = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let mut child = spawn_registry(dir.path(), port, &format!("{http_extra}{tail}"));
            match try_wait_listening(&mut child, port, "docker-registry", &log_path) {
                Ok(()) => return Self { child, dir, addr },
                Err(e) if e.contains("address already in use") => failures.push(e),
                Err(e) => panic!("{e}"),
            }
        }
        panic!(
            "docker-registry found each port taken: {}",
            failures.join("; ")
        );
    }

    /// Builds an OCI image whose single layer holds `content`, pushes it as `repo:tag` and
    /// returns the manifest digest reported by skopeo.
    pub fn push_image(&self, repo: &str, tag: &str, content: &str) -> String {
        self.push(repo, tag, content, None)
    }

    /// The manifest digest of `repo:tag` according to skopeo.
    pub fn skopeo_digest(&self, repo: &str, tag: &str) -> String {
        self.digest(repo, tag, None)
    }

    /// Builds the one-layer image of `content` with umoci and pushes it as `repo:tag` with
    /// skopeo (with `--dest-creds user:password` when `creds` is given); returns its digest.
    fn push(&self, repo: &str, tag: &str, content: &str, creds: Option<(&str, &str)>) -> String {
        let work = tempfile::tempdir().unwrap();
        let layout = work.path().join("layout");
        let file = work.path().join("content.txt");
        std::fs::write(&file, content).unwrap();
        let img = format!("{}:{tag}", layout.display());
        run(Command::new("umoci")
            .args(["init", "--layout"])
            .arg(&layout));
        run(Command::new("umoci").args(["new", "--image", &img]));
        run(Command::new("umoci")
            .args(["insert", "--image", &img])
            .arg(&file)
            .arg("/content.txt"));
        let mut copy = Command::new("skopeo");
        copy.args(["copy", "--quiet", "--dest-tls-verify=false"]);
        if let Some((u, p)) = creds {
            copy.arg("--dest-creds").arg(format!("{u}:{p}"));
        }
        run(copy
            .arg(format!("oci:{img}"))
            .arg(format!("docker://{}/{repo}:{tag}", self.addr)));
        self.digest(repo, tag, creds)
    }

    /// The manifest digest of `repo:tag` from `skopeo inspect` (with `--creds` when given).
    fn digest(&self, repo: &str, tag: &str, creds: Option<(&str, &str)>) -> String {
        let mut cmd = Command::new("skopeo");
        cmd.args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"]);
        if let Some((u, p)) = creds {
            cmd.arg("--creds").arg(format!("{u}:{p}"));
        }
        let out = cmd
            .arg(format!("docker://{}/{repo}:{tag}", self.addr))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo inspect: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Reads a file to string (helper for tests).
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// Writes an htpasswd file with one `user:bcrypt(password)` line (cost 4, the minimum that
/// distribution's `golang.org/x/crypto/bcrypt` accepts; enough for a test).
pub fn write_htpasswd(path: &Path, user: &str, password: &str) {
    let hash = bcrypt::hash(password, 4).unwrap();
    std::fs::write(path, format!("{user}:{hash}\n")).unwrap();
}

impl TestRegistry {
    /// Like [`TestRegistry::start`], but every request needs HTTP Basic credentials checked
    /// against an htpasswd file holding the one account `user`/`password` (distribution's
    /// `auth: htpasswd`, which answers `401` with `WWW-Authenticate: Basic realm=...`).
    pub fn start_with_htpasswd(user: &str, password: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let htpasswd = dir.path().join("htpasswd");
        write_htpasswd(&htpasswd, user, password);
        let auth = format!(
            "auth:\n  htpasswd:\n    realm: signet-test-registry\n    path: {}\n",
            htpasswd.display()
        );
        Self::spawn(dir, "", &auth)
    }

    /// [`TestRegistry::push_image`] for a registry that needs credentials: skopeo pushes with
    /// `--dest-creds user:password` and reads the digest back with `--creds`.
    pub fn push_image_with_creds(
        &self,
        repo: &str,
        tag: &str,
        content: &str,
        creds: (&str, &str),
    ) -> String {
        self.push(repo, tag, content, Some(creds))
    }

    /// [`TestRegistry::skopeo_digest`] with `--creds user:password`.
    pub fn skopeo_digest_with_creds(&self, repo: &str, tag: &str, creds: (&str, &str)) -> String {
        self.digest(repo, tag, Some(creds))
    }

    /// The tags of `repo` according to `skopeo list-tags` (with `--creds` when given), sorted.
    pub fn list_tags(&self, repo: &str, creds: Option<(&str, &str)>) -> Vec<String> {
        let mut cmd = Command::new("skopeo");
        cmd.args(["list-tags", "--tls-verify=false"]);
        if let Some((u, p)) = creds {
            cmd.arg("--creds").arg(format!("{u}:{p}"));
        }
        let out = cmd
            .arg(format!("docker://{}/{repo}", self.addr))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo list-tags: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = signet_proto::json::from_slice(&out.stdout).unwrap();
        let mut tags: Vec<String> = v["Tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        tags.sort();
        tags
    }

    /// The digests of every manifest revision stored for `repo` (read from the registry's
    /// filesystem storage, independent of any client), sorted.
    pub fn stored_manifests(&self, repo: &str) -> Vec<String> {
        let dir = self
            .data_dir()
            .join("docker/registry/v2/repositories")
            .join(repo)
            .join("_manifests/revisions/sha256");
        let mut out: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .map(|e| format!("sha256:{}", e.unwrap().file_name().to_string_lossy()))
                .collect(),
            Err(_) => Vec::new(),
        };
        out.sort();
        out
    }
}
