//! Real containers with podman on the project's machines (/work/shared/CONTAINERS.md), shared by
//! `containers.rs` and `containers_distributed.rs`: the sandbox's podman settings, the Debian 12
//! base image made by `mmdebstrap` (cached in the build cache), the bash blocks of a document
//! section (which those tests run as written), and cleanup of exactly what a test created.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::Value;

use super::text;

/// The name the Dockerfiles' `FROM ${DEBIAN_IMAGE}` uses by default.
pub const BASE_IMAGE: &str = "docker.io/library/debian:bookworm-slim";

/// The base root file system, cached in the build cache (cargo's scratch directory for
/// integration tests, under `CARGO_TARGET_DIR`), so a rerun skips mmdebstrap.
pub const BASE_CACHE: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/podman/debian-bookworm.tar");

/// What the runtime stage needs, so that its `apt-get install` has nothing left to fetch.
const BASE_PACKAGES: &str = "ca-certificates,libsofthsm2,passwd";

/// The settings this sandbox needs (CONTAINERS.md of the project's machines): runc instead of
/// crun (cgroups in hybrid mode), cgroupfs (no systemd), ulimits the sandbox allows.
pub const CONTAINERS_CONF: &str = "[containers]\n\
default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n\
[engine]\n\
runtime = \"runc\"\n\
cgroup_manager = \"cgroupfs\"\n\
events_logger = \"file\"\n";

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Fails (never skips) when a tool is missing, naming how `./x` installs it.
pub fn require(tools: &[(&str, &str)]) {
    let missing: Vec<String> = tools
        .iter()
        .filter(|(t, _)| {
            !Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {t}"))
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|(t, hint)| format!("{t} ({hint})"))
        .collect();
    assert!(
        missing.is_empty(),
        "required tools missing from PATH: {} (./x installs them)",
        missing.join(", ")
    );
}

/// The ```` ```bash ```` blocks, in order, of the part of `file` (relative to the repository
/// root) that starts at the first heading line beginning with `heading` and ends at the next heading of the same or
/// a higher level.
pub fn bash_blocks(file: &str, heading: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(root().join(file)).unwrap();
    let level = heading.chars().take_while(|c| *c == '#').count();
    let start = doc
        .find(&format!("\n{heading}"))
        .unwrap_or_else(|| panic!("{file} has no heading {heading:?}"));
    let rest = &doc[start + 1..];
    let mut section = String::new();
    let mut in_code = false;
    for (i, line) in rest.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if i > 0 && !in_code && hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
            break;
        }
        section.push_str(line);
        section.push('\n');
    }
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```bash" {
            let mut block = String::new();
            for l in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
                block.push_str(l);
                block.push('\n');
            }
            blocks.push(block);
        }
    }
    blocks
}

/// A podman command with the sandbox settings.
pub fn podman(conf: &Path) -> Command {
    let mut c = Command::new("podman");
    c.env("CONTAINERS_CONF", conf);
    c
}

/// Runs `cmd`; panics with its output unless it succeeds.
pub fn ok(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{what} failed:\n{}", text(&out));
    out
}

/// The non-empty lines of a command's stdout.
pub fn lines_of(out: &Output) -> BTreeSet<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The image IDs podman holds (all, intermediate ones included).
pub fn image_ids(conf: &Path) -> BTreeSet<String> {
    lines_of(&ok(
        podman(conf).args(["images", "-a", "--no-trunc", "--format", "{{.ID}}"]),
        "podman images",
    ))
}

/// The Debian base under [`BASE_IMAGE`]: from the cached root file system, made by
/// mmdebstrap when missing. Returns whether this call imported it (and so the caller removes
/// it).
pub fn ensure_base_image(conf: &Path) -> bool {
    let exists = podman(conf)
        .args(["image", "exists", BASE_IMAGE])
        .status()
        .unwrap()
        .success();
    if exists {
        return false;
    }
    let cache = Path::new(BASE_CACHE);
    if !cache.exists() {
        std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
        let tmp = cache.with_extension(format!("tar.{}.tmp", std::process::id()));
        ok(
            Command::new("mmdebstrap")
                .args(["--quiet", "--variant=apt", "--format=tar"])
                .arg(format!("--include={BASE_PACKAGES}"))
                .arg("bookworm")
                .arg(&tmp),
            "mmdebstrap of the Debian 12 base",
        );
        std::fs::rename(&tmp, cache).unwrap();
    }
    ok(
        podman(conf)
            .args(["import", "--change", "CMD [\"bash\"]"])
            .arg(cache)
            .arg(BASE_IMAGE),
        "podman import of the Debian 12 base",
    );
    true
}

/// Removes what a test made and its teardown left: containers, volumes, networks and pods
/// whose names start with `project`, the images that are not in `images_before` (its own and
/// the builds' intermediate ones, newest first), and the base image if it imported it. Never
/// panics (it runs in `Drop`, possibly while unwinding).
pub fn remove_leftovers(
    conf: &Path,
    project: &str,
    images_before: &BTreeSet<String>,
    imported_base: bool,
) {
    for (kind, list) in [
        ("container", vec!["ps", "-a", "--format", "{{.Names}}"]),
        ("volume", vec!["volume", "ls", "--format", "{{.Name}}"]),
        ("network", vec!["network", "ls", "--format", "{{.Name}}"]),
        ("pod", vec!["pod", "ps", "--format", "{{.Name}}"]),
    ] {
        let Ok(out) = podman(conf).args(&list).output() else {
            continue;
        };
        for name in lines_of(&out) {
            if name.starts_with(project) {
                let _ = podman(conf).args([kind, "rm", "-f", &name]).output();
            }
        }
    }
    let after = podman(conf)
        .args(["images", "-a", "--no-trunc", "--format", "{{.ID}}"])
        .output()
        .map(|o| lines_of(&o))
        .unwrap_or_default();
    for id in after.difference(images_before) {
        let _ = podman(conf).args(["rmi", "-f", id]).output();
    }
    if imported_base {
        let _ = podman(conf).args(["rmi", "-f", BASE_IMAGE]).output();
    }
}

/// What a deployment test has before its first block runs: a scratch directory with the
/// sandbox's containers.conf, the images podman held before (so that only new ones are
/// removed), the Debian base image (cached), the mock OIDC issuer with its JWKS in a file the
/// site script reads, and the environment every block of both deployment documents reads
/// (`PATH` finding this test's `signet` first, the compose project, site, image, ports, URLs,
/// issuer and an ID token for `identity`); a test appends its own variables to `env`.
pub struct Setup {
    pub work: tempfile::TempDir,
    pub conf: PathBuf,
    pub images_before: BTreeSet<String>,
    pub imported_base: bool,
    pub oidc: super::Oidc,
    pub project: String,
    pub env: Vec<(String, String)>,
}

impl Setup {
    /// `project` names the compose project and the image; `tag` prefixes the timing line.
    pub fn new(tag: &str, project: String, identity: &str, log_port: u16, ca_port: u16) -> Self {
        let work = tempfile::tempdir().unwrap();
        let conf = work.path().join("containers.conf");
        std::fs::write(&conf, CONTAINERS_CONF).unwrap();
        let images_before = image_ids(&conf);
        let t = Instant::now();
        let imported_base = ensure_base_image(&conf);
        eprintln!(
            "[{tag}] base image (imported: {imported_base}): {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let oidc = super::Oidc::start(&super::oidc_js_dir());
        let jwks = work.path().join("jwks.json");
        std::fs::write(&jwks, get(&format!("{}/jwks", oidc.url)).bytes().unwrap()).unwrap();
        let token = oidc.token(identity);
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_signet")).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let env = [
            ("PATH", path),
            ("CONTAINERS_CONF", conf.display().to_string()),
            ("COMPOSE_PROJECT_NAME", project.clone()),
            (
                "SIGNET_SITE",
                work.path().join("site").display().to_string(),
            ),
            ("SIGNET_IMAGE", format!("localhost/{project}:latest")),
            ("SIGNET_LOG_PORT", log_port.to_string()),
            ("SIGNET_CA_PORT", ca_port.to_string()),
            ("SIGNET_LOG_URL", format!("http://127.0.0.1:{log_port}")),
            ("SIGNET_CA_URL", format!("http://127.0.0.1:{ca_port}")),
            // The public URLs above are loopback ones: told it is intended (README.md).
            ("SIGNET_ALLOW_INTERNAL_PUBLIC_URL", "true".to_owned()),
            ("SIGNET_OIDC_ISSUER", oidc.url.clone()),
            ("SIGNET_OIDC_JWKS", jwks.display().to_string()),
            ("SIGNET_ID_TOKEN", token),
            ("SIGNET_IDENTITY", identity.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Setup {
            work,
            conf,
            images_before,
            imported_base,
            oidc,
            project,
            env,
        }
    }

    /// The deployment these settings run, removed on drop with `teardown`.
    pub fn deployment(
        self,
        teardown: &str,
        services: &'static [&'static str],
        tag: &'static str,
    ) -> (Deployment, super::Oidc) {
        let d = Deployment {
            conf: self.conf,
            env: self.env,
            project: self.project,
            teardown: teardown.to_owned(),
            images_before: self.images_before,
            imported_base: self.imported_base,
            work: self.work,
            services,
            tag,
        };
        (d, self.oidc)
    }
}

/// Asserts that each block holds its needle: the document still says what the test checks.
pub fn assert_blocks_hold(doc: &str, checks: &[(&str, &str)]) {
    for (block, needle) in checks {
        assert!(
            block.contains(needle),
            "{doc} block lacks {needle:?}:\n{block}"
        );
    }
}

/// A compose deployment a test made: everything is removed on drop, pass or fail (the
/// document's teardown block, then [`remove_leftovers`], then the work directory, whose site
/// files belong to the containers' user).
pub struct Deployment {
    /// The `CONTAINERS_CONF` file with the sandbox settings.
    pub conf: PathBuf,
    /// The environment every block runs with.
    pub env: Vec<(String, String)>,
    /// The compose project name (every container, volume and network starts with it).
    pub project: String,
    /// The teardown block, run from the repository root.
    pub teardown: String,
    /// The images podman held before the test.
    pub images_before: BTreeSet<String>,
    /// Whether the test imported the base image.
    pub imported_base: bool,
    /// The test's temporary directory.
    pub work: tempfile::TempDir,
    /// The services whose logs are printed when the test fails.
    pub services: &'static [&'static str],
    /// The prefix of the timing lines on stderr.
    pub tag: &'static str,
}

impl Deployment {
    /// Runs a document's block with bash (-euo pipefail) in `cwd`.
    pub fn run_block(&self, block: &str, cwd: &Path, what: &str) -> Output {
        let t = Instant::now();
        let out = ok(
            Command::new("bash")
                .args(["-euo", "pipefail", "-c", block])
                .current_dir(cwd)
                .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            what,
        );
        eprintln!("[{}] {what}: {:.1} s", self.tag, t.elapsed().as_secs_f64());
        out
    }

    /// The value of an environment variable the blocks run with.
    pub fn var(&self, name: &str) -> &str {
        &self.env.iter().find(|(k, _)| k == name).unwrap().1
    }

    /// The name podman-compose gives a service's container.
    pub fn container(&self, service: &str) -> String {
        format!("{}_{service}_1", self.project)
    }

    /// The logs of [`Self::services`].
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for svc in self.services {
            let name = self.container(svc);
            if let Ok(out) = podman(&self.conf).args(["logs", &name]).output() {
                s.push_str(&format!(
                    "--- {name}\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        s
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
        }
        let _ = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &self.teardown])
            .current_dir(root())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output();
        remove_leftovers(
            &self.conf,
            &self.project,
            &self.images_before,
            self.imported_base,
        );
        let _ = std::fs::remove_dir_all(self.work.path());
    }
}

/// GETs `url`; panics unless it answers 2xx.
pub fn get(url: &str) -> reqwest::blocking::Response {
    reqwest::blocking::get(url)
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .error_for_status()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// GETs `url` as JSON.
pub fn get_json(url: &str) -> Value {
    get(url).json().unwrap()
}

/// The log's note: (origin, size, root hash).
pub fn checkpoint(log_url: &str) -> (String, u64, String, String) {
    let text = get(&format!("{log_url}/checkpoint")).text().unwrap();
    let mut l = text.lines();
    let origin = l.next().unwrap().to_owned();
    let size = l.next().unwrap().parse().unwrap();
    let hash = l.next().unwrap().to_owned();
    (origin, size, hash, text)
}

/// The entry at `index` without its inclusion proof (which changes as the tree grows).
pub fn entry(log_url: &str, index: u64) -> Value {
    let v = get_json(&format!("{log_url}/api/v1/log/entries?logIndex={index}"));
    let (_, e) = v.as_object().unwrap().iter().next().unwrap();
    serde_json::json!({
        "body": e["body"],
        "integratedTime": e["integratedTime"],
        "logID": e["logID"],
        "logIndex": e["logIndex"],
    })
}

/// The log index of a bundle's first transparency-log entry.
pub fn bundle_index(path: &Path) -> u64 {
    let b: Value = signet_proto::json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let idx = &b["verificationMaterial"]["tlogEntries"][0]["logIndex"];
    idx.as_u64()
        .or_else(|| idx.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("no logIndex in {}", path.display()))
}
