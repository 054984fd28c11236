//! Signet's trust as a TUF repository, judged by Sigstore's own client: sigstore-python
//! 4.5.1 (python-tuf 7) bootstraps from nothing but Signet's `1.root.json`
//! (`sigstore --instance URL/tuf trust-instance`), signs and verifies against `signet serve`,
//! keeps working across a root rotation with a threshold change and across timestamp
//! expiries the server renews by itself; Signet's own client (`signet trust init --mirror`)
//! does the same; and a hostile mirror (tampered, rolled back, frozen, expired, a root below
//! its threshold) is refused by python-tuf's `Updater` and by `signet trust refresh` alike.
//!
//! Tests fail when a tool is missing (sigstore, python3 with tuf, openssl, node, curl).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::admission::{validate, Webhook};
use support::{free_port, require_tools, run, signet, text, Oidc};

const EMAIL: &str = "tuf@example.com";
/// The timestamp lifetime the test servers use (re-signed every 8 s): short enough to watch
/// it expire and be renewed, long enough that a copied mirror stays fresh through a client run
/// on a loaded CI machine.
const TIMESTAMP_SECS: u64 = 16;

/// Runs python-tuf's `Updater` (as sigstore-python's `TrustUpdater` does) against `url`:
/// refresh, then download both targets. Prints `ok ROOT_VERSION TIMESTAMP_VERSION` or
/// `refused ERROR_CLASS: message` (exit 1).
const UPDATER: &str = r#"
import sys, os
from tuf.ngclient import Updater
md, url, boot = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(md, exist_ok=True)
tg = os.path.join(md, "targets"); os.makedirs(tg, exist_ok=True)
try:
    u = Updater(metadata_dir=md, metadata_base_url=url, target_base_url=url + "/targets/",
                target_dir=tg, bootstrap=open(boot, "rb").read() if boot != "-" else None)
    u.refresh()
    for name in ["trusted_root.json", "signing_config.v0.2.json"]:
        info = u.get_targetinfo(name)
        assert info is not None, name
        u.download_target(info)
except Exception as e:
    print(f"refused {type(e).__name__}: {e}")
    sys.exit(1)
ts = u._trusted_set
print(f"ok {ts.root.version} {ts.timestamp.version}")
"#;

fn python_updater(md: &Path, url: &str, bootstrap: Option<&Path>) -> (bool, String) {
    let out = run(Command::new("python3")
        .args(["-c", UPDATER])
        .arg(md)
        .arg(url)
        .arg(bootstrap.map_or_else(|| "-".into(), |p| p.as_os_str().to_owned())));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    )
}

/// A root key file made by openssl (`ed25519` or `P-256`).
fn openssl_key(dir: &Path, name: &str, ed25519: bool) -> PathBuf {
    let path = dir.join(name);
    let mut cmd = Command::new("openssl");
    cmd.arg("genpkey");
    if ed25519 {
        cmd.args(["-algorithm", "ed25519"]);
    } else {
        cmd.args(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    }
    let out = run(cmd.arg("-out").arg(&path));
    assert!(out.status.success(), "openssl genpkey: {}", text(&out));
    path
}

/// `signet serve` with a TUF directory made by `signet trust init` (threshold 2 of three
/// root keys) and a 16-second timestamp lifetime.
struct TufServer {
    child: Child,
    dir: tempfile::TempDir,
    url: String,
    keys: Vec<PathBuf>,
}

impl TufServer {
    fn start(issuer: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = vec![
            openssl_key(dir.path(), "root1.pem", true),
            openssl_key(dir.path(), "root2.pem", false),
            openssl_key(dir.path(), "root3.pem", false),
        ];
        let data = dir.path().join("data");
        let out = run(signet()
            .args(["trust", "init", "--threshold", "2", "--out"])
            .arg(data.join("tuf"))
            .arg("--root-key")
            .arg(&keys[0])
            .arg("--root-keys")
            .arg(format!("{},{}", keys[1].display(), keys[2].display())));
        assert!(out.status.success(), "trust init: {}", text(&out));
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let config = format!(
            "data_dir = {:?}\nlisten = \"{addr}\"\n\n[tuf]\ntimestamp_expiry_secs = {TIMESTAMP_SECS}\n\n[[ca.issuers]]\nurl = \"{issuer}\"\ntype = \"email\"\n",
            data.display().to_string()
        );
        let cfg = dir.path().join("signet.toml");
        std::fs::write(&cfg, config).unwrap();
        let log = dir.path().join("serve.log");
        let f = std::fs::File::create(&log).unwrap();
        let mut child = signet()
            .arg("serve")
            .arg("--config")
            .arg(&cfg)
            .env("RUST_LOG", "info")
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://{addr}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while get(&format!("{url}/tuf/timestamp.json")).is_none() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "signet serve exited early ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "signet serve did not publish /tuf/timestamp.json: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        TufServer {
            child,
            dir,
            url,
            keys,
        }
    }

    fn tuf_url(&self) -> String {
        format!("{}/tuf", self.url)
    }

    fn tuf_dir(&self) -> PathBuf {
        self.dir.path().join("data/tuf")
    }

    fn root1(&self) -> PathBuf {
        self.tuf_dir().join("1.root.json")
    }

    fn timestamp(&self) -> Value {
        signet_proto::json::from_slice(&get(&format!("{}/tuf/timestamp.json", self.url)).unwrap())
            .unwrap()
    }
}

impl Drop for TufServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(url: &str) -> Option<Vec<u8>> {
    let resp = reqwest::blocking::get(url).ok()?;
    resp.status()
        .is_success()
        .then(|| resp.bytes().unwrap().to_vec())
}

fn unix_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn expires_unix(meta: &Value) -> i64 {
    let text = meta["signed"]["expires"].as_str().unwrap();
    // YYYY-MM-DDThh:mm:ssZ
    let out = Command::new("date")
        .args(["-u", "-d", text, "+%s"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// sigstore-python with its TUF caches (platformdirs: XDG data and cache) in `home`.
fn sigstore(home: &Path) -> Command {
    let mut cmd = Command::new("sigstore");
    cmd.env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("HOME", home);
    cmd
}

fn python_sign_and_verify(
    server: &TufServer,
    oidc: &Oidc,
    home: &Path,
    file: &Path,
    tag: &str,
) -> PathBuf {
    let bundle = file.with_extension(format!("{tag}.sigstore.json"));
    let token = oidc.token(EMAIL);
    let out = run(sigstore(home)
        .args([
            "--instance",
            &server.tuf_url(),
            "sign",
            "--identity-token",
            &token,
            "--bundle",
        ])
        .arg(&bundle)
        .arg(file));
    assert!(
        out.status.success(),
        "sigstore sign ({tag}): {}",
        text(&out)
    );
    let out = run(sigstore(home)
        .args([
            "--instance",
            &server.tuf_url(),
            "verify",
            "identity",
            "--bundle",
        ])
        .arg(&bundle)
        .args(["--cert-identity", EMAIL, "--cert-oidc-issuer", &oidc.url])
        .arg(file));
    assert!(
        out.status.success(),
        "sigstore verify identity ({tag}): {}",
        text(&out)
    );
    bundle
}

/// `signet verify-blob` with no `--trusted-root`: the TUF-verified root of the mirror that
/// `signet trust init --mirror` set up in `signet_home`.
fn signet_verify_default(
    signet_home: &Path,
    oidc: &Oidc,
    file: &Path,
    bundle: &Path,
) -> std::process::Output {
    run(signet()
        .env("SIGNET_HOME", signet_home)
        .env_remove("SIGNET_TRUSTED_ROOT")
        .arg("verify-blob")
        .arg(file)
        .arg("--bundle")
        .arg(bundle)
        .args([
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            &oidc.url,
        ]))
}

fn sigstore_python_root_version(home: &Path, tuf_url: &str) -> u64 {
    let enc: String = tuf_url
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let root = home
        .join("data/sigstore-python/tuf")
        .join(enc)
        .join("root.json");
    let v: Value = signet_proto::json::from_slice(
        &std::fs::read(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display())),
    )
    .unwrap();
    v["signed"]["version"].as_u64().unwrap()
}

/// (a) bootstrap from root.json only, sign and verify; (b) root rotation with a threshold
/// change; (c) the timestamp expires repeatedly and the server renews it; Signet's own
/// client follows the same repository.
#[test]
fn sigstore_python_and_signet_follow_signets_tuf_repository() {
    require_tools(&["sigstore", "python3", "openssl", "node", "curl"]);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let server = TufServer::start(&oidc.url);
    let work = tempfile::tempdir().unwrap();
    let py_home = work.path().join("py");
    let signet_home = work.path().join("signet-home");
    let file = work.path().join("artifact.txt");
    std::fs::write(&file, b"signed through TUF\n").unwrap();
    let first_ts = server.timestamp();

    // (a) sigstore-python knows nothing of this instance but its root.json.
    let out = run(sigstore(&py_home)
        .args(["--instance", &server.tuf_url(), "trust-instance"])
        .arg(server.root1()));
    assert!(
        out.status.success(),
        "sigstore trust-instance: {}",
        text(&out)
    );
    let bundle1 = python_sign_and_verify(&server, &oidc, &py_home, &file, "one");

    // Signet's client, bootstrapped the same way, verifies with no --trusted-root.
    let out = run(signet()
        .env("SIGNET_HOME", &signet_home)
        .args(["trust", "init", "--mirror", &server.tuf_url(), "--root"])
        .arg(server.root1()));
    assert!(
        out.status.success(),
        "signet trust init --mirror: {}",
        text(&out)
    );
    let out = signet_verify_default(&signet_home, &oidc, &file, &bundle1);
    assert!(
        out.status.success(),
        "signet verify-blob (TUF root): {}",
        text(&out)
    );
    // Without a mirror set up and without --trusted-root, verification names the fix.
    let out = signet_verify_default(&work.path().join("empty-home"), &oidc, &file, &bundle1);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("signet trust init --mirror"),
        "{}",
        text(&out)
    );

    // (b) Root v2: a fourth key, threshold 3. Two old keys alone cannot make it.
    let k4 = openssl_key(server.dir.path(), "root4.pem", true);
    let k4_pub = server.dir.path().join("root4.pub");
    let out = run(Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&k4)
        .arg("-out")
        .arg(&k4_pub));
    assert!(out.status.success(), "openssl pkey: {}", text(&out));
    let out = run(signet()
        .args(["trust", "rotate-root", "--dir"])
        .arg(server.tuf_dir())
        .arg("--key")
        .arg(&server.keys[0])
        .arg("--key")
        .arg(&server.keys[1])
        .args(["--threshold", "3"])
        .arg("--add-key")
        .arg(&k4_pub));
    assert!(
        !out.status.success(),
        "a root below its new threshold was written"
    );
    assert!(
        text(&out).contains("below the threshold 3"),
        "{}",
        text(&out)
    );
    let out = run(signet()
        .args(["trust", "rotate-root", "--dir"])
        .arg(server.tuf_dir())
        .arg("--key")
        .arg(&server.keys[0])
        .arg("--key")
        .arg(&server.keys[1])
        .arg("--add-key")
        .arg(&k4)
        .args(["--threshold", "3"]));
    assert!(out.status.success(), "trust rotate-root: {}", text(&out));
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(&format!("{}/2.root.json", server.tuf_url())).is_none() {
        assert!(
            Instant::now() < deadline,
            "the server did not publish 2.root.json"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // (c) By now the first timestamp has expired; wait until it surely has.
    let first_expiry = expires_unix(&first_ts);
    while unix_now() <= first_expiry + 1 {
        std::thread::sleep(Duration::from_millis(250));
    }
    let ts = server.timestamp();
    assert!(
        ts["signed"]["version"].as_u64() > first_ts["signed"]["version"].as_u64(),
        "the server did not renew its timestamp: {ts}"
    );
    assert!(
        expires_unix(&ts) > unix_now(),
        "the served timestamp is expired: {ts}"
    );

    // sigstore-python refreshes to root v2 and still signs and verifies.
    let bundle2 = python_sign_and_verify(&server, &oidc, &py_home, &file, "two");
    assert_eq!(sigstore_python_root_version(&py_home, &server.tuf_url()), 2);
    let out = signet_verify_default(&signet_home, &oidc, &file, &bundle2);
    assert!(
        out.status.success(),
        "signet verify-blob after rotation: {}",
        text(&out)
    );
    let stored: Value = signet_proto::json::from_slice(
        &std::fs::read(
            std::fs::read_dir(signet_home.join("tuf"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.is_dir())
                .unwrap()
                .join("root.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(stored["signed"]["version"], 2);

    // The static export serves the same repository: python-tuf bootstraps from it.
    let export = work.path().join("export");
    let out = run(signet()
        .args(["trust", "export", "--data-dir"])
        .arg(server.dir.path().join("data"))
        .arg("--out")
        .arg(&export));
    assert!(out.status.success(), "trust export: {}", text(&out));
    let mirror = StaticServer::start(&export);
    let (ok, said) = python_updater(
        &work.path().join("md-export"),
        &mirror.url,
        Some(&server.root1()),
    );
    assert!(ok, "python-tuf refused the export: {said}");
    assert!(said.starts_with("ok 2 "), "{said}");
    // And Signet's client reads it as a directory (an air-gapped mirror).
    let out = run(signet()
        .env("SIGNET_HOME", work.path().join("offline-home"))
        .args(["trust", "init", "--mirror"])
        .arg(&export)
        .arg("--root")
        .arg(server.root1()));
    assert!(
        out.status.success(),
        "trust init from a directory: {}",
        text(&out)
    );
}

/// A static HTTP server over a directory (`python3 -m http.server`), stopped on drop.
struct StaticServer {
    child: Child,
    url: String,
}

impl StaticServer {
    fn start(dir: &Path) -> Self {
        let port = free_port();
        let mut child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
                "--directory",
            ])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        support::wait_listening(
            &mut child,
            port,
            "python3 -m http.server",
            Path::new("/dev/null"),
        );
        StaticServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).unwrap();
    }
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Serves `snapshot` as the mirror's content (the static server reads the directory on each
/// request).
fn mirror_serves(mirror_dir: &Path, snapshot: &Path) {
    for e in std::fs::read_dir(mirror_dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            std::fs::remove_dir_all(&p).unwrap();
        } else {
            std::fs::remove_file(&p).unwrap();
        }
    }
    for e in std::fs::read_dir(snapshot).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &mirror_dir.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), mirror_dir.join(e.file_name())).unwrap();
        }
    }
}

/// Both clients refresh from the mirror: each must accept (`ok`) or refuse with its error
/// text containing the given words.
fn both(md: &Path, signet_home: &Path, url: &str, root: &Path, want: Result<(), (&str, &str)>) {
    let boot = (!md.join("root.json").exists()).then_some(root);
    let (py_ok, py_said) = python_updater(md, url, boot);
    let out = run(signet()
        .env("SIGNET_HOME", signet_home)
        .args(["trust", "refresh", "--mirror", url]));
    match want {
        Ok(()) => {
            assert!(py_ok, "python-tuf refused a good mirror: {py_said}");
            assert!(
                out.status.success(),
                "signet refused a good mirror: {}",
                text(&out)
            );
        }
        Err((py_words, signet_words)) => {
            assert!(
                !py_ok,
                "python-tuf accepted a hostile mirror ({py_words}): {py_said}"
            );
            assert!(
                py_said.contains(py_words),
                "python-tuf: {py_said} (wanted {py_words})"
            );
            assert!(
                !out.status.success(),
                "signet accepted a hostile mirror ({signet_words})"
            );
            assert!(
                text(&out).contains(signet_words),
                "signet: {} (wanted {signet_words})",
                text(&out)
            );
        }
    }
}

/// (d) A hostile mirror: tampered metadata, a rolled-back timestamp, a frozen (expired)
/// timestamp, a root v2 signed below the threshold. python-tuf and Signet refuse each, and
/// accept the honest copy.
#[test]
fn hostile_mirrors_are_refused_by_python_tuf_and_signet() {
    require_tools(&["python3", "openssl", "node", "curl"]);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let server = TufServer::start(&oidc.url);
    let work = tempfile::tempdir().unwrap();
    let published = server.tuf_dir().join("repository");
    // Copy A of the published repository, then copy B once the timestamp was re-signed.
    let a = work.path().join("a");
    copy_dir(&published, &a);
    let a_ts: Value =
        signet_proto::json::from_slice(&std::fs::read(a.join("timestamp.json")).unwrap()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let b = work.path().join("b");
    loop {
        copy_dir(&published, &b);
        let b_ts: Value =
            signet_proto::json::from_slice(&std::fs::read(b.join("timestamp.json")).unwrap())
                .unwrap();
        if b_ts["signed"]["version"].as_u64() > a_ts["signed"]["version"].as_u64() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not re-sign its timestamp"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let b_ts: Value =
        signet_proto::json::from_slice(&std::fs::read(b.join("timestamp.json")).unwrap()).unwrap();
    let root = server.root1();
    let mirror_dir = work.path().join("mirror");
    std::fs::create_dir_all(&mirror_dir).unwrap();
    let mirror = StaticServer::start(&mirror_dir);
    let md = work.path().join("python-md");
    let home = work.path().join("signet-home");

    // The honest copy B: both bootstrap from root v1.
    mirror_serves(&mirror_dir, &b);
    let out = run(signet()
        .env("SIGNET_HOME", &home)
        .args(["trust", "init", "--mirror", &mirror.url, "--root"])
        .arg(&root));
    assert!(out.status.success(), "signet trust init: {}", text(&out));
    both(&md, &home, &mirror.url, &root, Ok(()));

    // Rollback: copy A's older timestamp, validly signed.
    mirror_serves(&mirror_dir, &a);
    both(
        &md,
        &home,
        &mirror.url,
        &root,
        Err(("BadVersionNumberError", "rollback")),
    );

    // Tampered: B with its timestamp's version changed (the signature no longer covers it).
    let tampered = work.path().join("tampered");
    copy_dir(&b, &tampered);
    let ts_text = std::fs::read_to_string(b.join("timestamp.json")).unwrap();
    let v = b_ts["signed"]["version"].as_u64().unwrap();
    let changed = ts_text.replacen(
        &format!("\"version\": {v},"),
        &format!("\"version\": {},", v + 100),
        1,
    );
    assert_ne!(changed, ts_text);
    std::fs::write(tampered.join("timestamp.json"), changed).unwrap();
    mirror_serves(&mirror_dir, &tampered);
    both(
        &md,
        &home,
        &mirror.url,
        &root,
        Err(("UnsignedMetadataError", "valid signature(s)")),
    );

    // A root v2 with one signature (threshold 2): made by rotate-root, then stripped.
    let rotated = work.path().join("rotated-tuf");
    copy_dir(&server.tuf_dir(), &rotated);
    let out = run(signet()
        .args(["trust", "rotate-root", "--dir"])
        .arg(&rotated)
        .arg("--key")
        .arg(&server.keys[0])
        .arg("--key")
        .arg(&server.keys[1]));
    assert!(out.status.success(), "rotate-root: {}", text(&out));
    let mut root2: Value =
        signet_proto::json::from_slice(&std::fs::read(rotated.join("2.root.json")).unwrap())
            .unwrap();
    root2["signatures"].as_array_mut().unwrap().truncate(1);
    let weak = work.path().join("weak-root");
    copy_dir(&b, &weak);
    std::fs::write(
        weak.join("2.root.json"),
        serde_json::to_vec(&root2).unwrap(),
    )
    .unwrap();
    mirror_serves(&mirror_dir, &weak);
    both(
        &md,
        &home,
        &mirror.url,
        &root,
        Err(("UnsignedMetadataError", "below the threshold 2")),
    );

    // Freeze: B again, after its timestamp expired (the mirror stopped updating).
    while unix_now() <= expires_unix(&b_ts) + 1 {
        std::thread::sleep(Duration::from_millis(250));
    }
    mirror_serves(&mirror_dir, &b);
    both(
        &md,
        &home,
        &mirror.url,
        &root,
        Err(("ExpiredMetadataError", "expired")),
    );
    // A first-time client given the expired copy refuses it too.
    let (ok, said) = python_updater(&work.path().join("fresh-md"), &mirror.url, Some(&root));
    assert!(!ok && said.contains("ExpiredMetadataError"), "{said}");
    let out = run(signet()
        .env("SIGNET_HOME", work.path().join("fresh-home"))
        .args(["trust", "init", "--mirror", &mirror.url, "--root"])
        .arg(&root));
    assert!(
        !out.status.success() && text(&out).contains("expired"),
        "{}",
        text(&out)
    );

    // The live server's current copy is accepted again by both (they recover).
    mirror_serves(&mirror_dir, &published);
    both(&md, &home, &mirror.url, &root, Ok(()));
}

/// Signet's clients take the TUF-verified trust by default once `signet trust init --mirror`
/// set a mirror up: `sign-blob` and `sign` without `--signing-config`, `verify-blob` and
/// `verify` without `--trusted-root`, `monitor --once` without it, and `signet admission`
/// without it from a mirror that is a directory (an exported copy, as a mounted volume, no
/// network), which admits an image signed that way. When the mirror cannot be reached at
/// all, the cache stands in (with a warning) while its metadata is unexpired, and is refused
/// once the timestamp it holds has expired; `signet trust refresh` never falls back.
#[test]
fn signet_clients_default_to_the_tuf_trust_and_its_cache_offline() {
    require_tools(&[
        "node",
        "curl",
        "openssl",
        "docker-registry",
        "umoci",
        "skopeo",
    ]);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let server = TufServer::start(&oidc.url);
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("signet-home");
    let signet_in = |home: &Path| {
        let mut c = signet();
        c.env("SIGNET_HOME", home);
        for var in [
            "SIGNET_TRUSTED_ROOT",
            "SIGNET_SIGNING_CONFIG",
            "SIGNET_CA_URL",
            "SIGNET_LOG_URL",
        ] {
            c.env_remove(var);
        }
        c
    };
    let out = run(signet_in(&home)
        .args(["trust", "init", "--mirror", &server.tuf_url(), "--root"])
        .arg(server.root1()));
    assert!(out.status.success(), "trust init: {}", text(&out));
    let token = oidc.token(EMAIL);
    let identity = ["--certificate-identity", EMAIL, "--certificate-oidc-issuer"];

    // sign-blob and verify-blob with neither --signing-config nor --trusted-root.
    let file = work.path().join("notes.txt");
    std::fs::write(&file, b"signed with the trust TUF gave").unwrap();
    let bundle = work.path().join("notes.txt.sigstore.json");
    let out = run(signet_in(&home)
        .arg("sign-blob")
        .arg(&file)
        .args(["--identity-token", &token]));
    assert!(out.status.success(), "sign-blob: {}", text(&out));
    let out = signet_verify_default(&home, &oidc, &file, &bundle);
    assert!(out.status.success(), "verify-blob: {}", text(&out));

    // An image: sign and verify likewise.
    let reg = support::TestRegistry::start();
    let digest = reg.push_image("tuf/app", "v1", "an image signed with TUF trust");
    let image = format!("{}/tuf/app@{digest}", reg.addr);
    let out = run(signet_in(&home).args(["sign", "--identity-token", &token, &image]));
    assert!(out.status.success(), "sign: {}", text(&out));
    let out = run(signet_in(&home)
        .arg("verify")
        .args(identity)
        .args([&oidc.url, image.as_str()]));
    assert!(out.status.success(), "verify: {}", text(&out));

    // monitor --once: the log's key from the TUF trusted root.
    let out = run(signet_in(&home)
        .args(["monitor", "--once", "--log", &server.url, "--state"])
        .arg(work.path().join("monitor.json")));
    assert_eq!(out.status.code(), Some(0), "monitor: {}", text(&out));

    // The admission webhook, its mirror a directory (no network to the mirror).
    let mirror = work.path().join("mirror");
    let out = run(signet()
        .args(["trust", "export", "--data-dir"])
        .arg(server.dir.path().join("data"))
        .arg("--out")
        .arg(&mirror));
    assert!(out.status.success(), "trust export: {}", text(&out));
    let webhook_home = work.path().join("webhook-home");
    let out = run(signet_in(&webhook_home)
        .args(["trust", "init", "--mirror"])
        .arg(format!("file://{}", mirror.display()))
        .arg("--root")
        .arg(server.root1()));
    assert!(
        out.status.success(),
        "trust init (directory): {}",
        text(&out)
    );
    let policy = work.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            "[[rule]]\nimages = [\"{}/tuf/**\"]\nidentity = \"{EMAIL}\"\nissuer = \"{}\"\n",
            reg.addr, oidc.url
        ),
    )
    .unwrap();
    let webhook = Webhook::with(signet_in(&webhook_home), &policy)
        .insecure_http()
        .start();
    let resp = validate(&webhook.url, "tuf", &format!("{}/tuf/app:v1", reg.addr));
    assert_eq!(resp["allowed"], true, "{resp}");
    drop(webhook);

    // Offline: the server is gone. The cache, refreshed just before (the server re-signs the
    // timestamp at half its 16 s lifetime, so at least 8 s remain), stands in while its
    // timestamp is unexpired.
    let out = run(signet_in(&home).args(["trust", "refresh"]));
    assert!(out.status.success(), "trust refresh: {}", text(&out));
    let cache = std::fs::read_dir(home.join("tuf"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let cached_ts: Value =
        signet_proto::json::from_slice(&std::fs::read(cache.join("timestamp.json")).unwrap())
            .unwrap();
    let expires = expires_unix(&cached_ts);
    drop(server);
    let out = signet_verify_default(&home, &oidc, &file, &bundle);
    assert!(
        unix_now() < expires,
        "the machine is too slow for this test: the cached timestamp expired within a client run"
    );
    assert!(out.status.success(), "offline, fresh cache: {}", text(&out));
    assert!(
        text(&out).contains("warning: the TUF mirror is unreachable")
            && text(&out).contains("using the trust metadata verified from it before"),
        "{}",
        text(&out)
    );
    // `trust refresh` does not fall back.
    let out = run(signet_in(&home).args(["trust", "refresh"]));
    assert_eq!(out.status.code(), Some(2), "trust refresh: {}", text(&out));
    // Once the cached timestamp has expired, the cache is refused too.
    while unix_now() <= expires {
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_secs(1));
    let out = signet_verify_default(&home, &oidc, &file, &bundle);
    assert_eq!(
        out.status.code(),
        Some(2),
        "offline, expired: {}",
        text(&out)
    );
    for want in [
        "is unreachable and its cache in",
        "cannot stand in for it",
        "expired",
    ] {
        assert!(text(&out).contains(want), "want {want:?}: {}", text(&out));
    }
}
