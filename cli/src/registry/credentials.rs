//! Registry credentials, found as the docker CLI finds them.
//!
//! In order: `SIGNET_REGISTRY_USERNAME` / `SIGNET_REGISTRY_PASSWORD`, else the docker
//! `config.json` (`DOCKER_CONFIG` overrides `~/.docker`): the credential helper named by
//! `credHelpers` or `credsStore` (`docker-credential-<name> get`, the docker-credential-helpers
//! protocol), else the `auths` entry (`auth`, `username`/`password` or `identitytoken`). Keys
//! are matched by normalised host, so Docker Hub's historical names find its entry.
//!
//! Where credentials may be sent is [`super::auth`]'s business; this module only finds them and
//! never prints a password ([`Credentials`]'s `Debug` redacts it).

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use super::{normalize_registry, RegistryError};

/// Registry credentials and where they came from (named in error messages; the password never
/// is).
#[derive(Clone)]
pub(crate) struct Credentials {
    /// The user name.
    pub(crate) username: String,
    /// The password (or token) sent with HTTP Basic.
    pub(crate) password: String,
    /// Where they were found, e.g. `SIGNET_REGISTRY_USERNAME/SIGNET_REGISTRY_PASSWORD`.
    pub(crate) source: String,
}

/// The user name docker credential helpers and signet use for an identity token: the
/// password is then an OAuth2 refresh token for the registry's token service.
pub(super) const IDENTITY_TOKEN_USER: &str = "<token>";

impl Credentials {
    /// Whether the password is an identity token (OAuth2 refresh token), which only a Bearer
    /// token service accepts (`grant_type=refresh_token`).
    pub(super) fn is_identity_token(&self) -> bool {
        self.username == IDENTITY_TOKEN_USER
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("source", &self.source)
            .finish()
    }
}

/// Registry credentials, in docker's order: `SIGNET_REGISTRY_USERNAME`/`SIGNET_REGISTRY_PASSWORD`;
/// else the docker `config.json` (`DOCKER_CONFIG` overrides `~/.docker`): the credential helper
/// that `credHelpers` names for this registry, else the `credsStore` helper, else the `auths`
/// entry.
///
/// # Errors
/// [`RegistryError::Auth`] for an unreadable or malformed `config.json`, and for a configured
/// credential helper that cannot be run, fails, or answers something other than credentials
/// (a helper that answers "credentials not found" gives `Ok(None)`).
pub(super) fn find_credentials(registry: &str) -> Result<Option<Credentials>, RegistryError> {
    if let (Ok(u), Ok(p)) = (
        std::env::var("SIGNET_REGISTRY_USERNAME"),
        std::env::var("SIGNET_REGISTRY_PASSWORD"),
    ) {
        return Ok(Some(Credentials {
            username: u,
            password: p,
            source: "SIGNET_REGISTRY_USERNAME/SIGNET_REGISTRY_PASSWORD".to_owned(),
        }));
    }
    let Some(dir) = std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))
    else {
        return Ok(None);
    };
    let path = dir.join("config.json");
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(RegistryError::Auth {
                reason: format!("cannot read docker config {}: {e}", path.display()),
            })
        }
    };
    let config: serde_json::Value =
        signet_proto::json::from_slice(&text).map_err(|e| RegistryError::Auth {
            reason: format!("docker config {} is not valid JSON: {e}", path.display()),
        })?;
    if let Some(helper) = docker_config_helper(&config, registry) {
        let server = docker_config_server(registry);
        let program = format!("docker-credential-{helper}");
        return run_credential_helper(&program, &server, CREDENTIAL_HELPER_TIMEOUT)
            .map_err(|reason| RegistryError::Auth {
                reason: format!("{reason} (configured in {})", path.display()),
            })
            .map(|found| {
                found.map(|(username, password)| Credentials {
                    username,
                    password,
                    source: format!("{program}, configured in {}", path.display()),
                })
            });
    }
    Ok(
        docker_config_credentials(&config, registry).map(|(username, password)| Credentials {
            username,
            password,
            source: path.display().to_string(),
        }),
    )
}

/// How long a credential helper may take (some ask the user to unlock a keychain).
const CREDENTIAL_HELPER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The credential helper a docker `config.json` names for `registry`: its `credHelpers` entry
/// (keys compared by [`config_key_names`]), else `credsStore`. Names that could leave
/// `docker-credential-<name>` (path separators, empty) are ignored.
fn docker_config_helper(config: &serde_json::Value, registry: &str) -> Option<String> {
    let per_registry = config
        .get("credHelpers")
        .and_then(|h| h.as_object())
        .and_then(|helpers| {
            helpers
                .iter()
                .find_map(|(k, v)| config_key_names(k, registry).then(|| v.as_str()).flatten())
        });
    let name = per_registry.or_else(|| config.get("credsStore").and_then(|s| s.as_str()))?;
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    valid.then(|| name.to_owned())
}

/// The server URL a credential helper is asked about: what `docker login` stored it under
/// (Docker Hub's historical URL, else the registry host).
fn docker_config_server(registry: &str) -> String {
    if registry == "docker.io" {
        "https://index.docker.io/v1/".to_owned()
    } else {
        registry.to_owned()
    }
}

/// Runs `<program> get` (a `docker-credential-<name>` found on `PATH`, or a path) with
/// `server` on stdin (the docker credential helper protocol) and parses its `{"Username", "Secret"}` answer. `Ok(None)` when the helper knows
/// no credentials for `server` (it exits non-zero saying "credentials not found").
///
/// An identity token comes back as user `<token>` ([`IDENTITY_TOKEN_USER`]) with the refresh
/// token as secret, as the helpers answer it.
///
/// # Errors
/// A message naming the helper when it is missing from `PATH`, times out, fails otherwise, or
/// answers malformed JSON.
fn run_credential_helper(
    program: &str,
    server: &str,
    timeout: std::time::Duration,
) -> Result<Option<(String, String)>, String> {
    use std::io::{Read as _, Write as _};
    use std::process::{Command, Stdio};

    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the docker credential helper {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    // Read both pipes on their own threads so a chatty helper cannot block on a full pipe.
    let pipe = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(r) = r {
                let _ = r.take(1 << 20).read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = pipe(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    );
    let stderr = pipe(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    );
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the docker credential helper {program} did not answer within {} s",
                    timeout.as_secs()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "waiting for the docker credential helper {program}: {e}"
                ))
            }
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    let said = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .trim()
            .chars()
            .take(300)
            .collect::<String>()
    };
    if !status.success() {
        // docker-credential-helpers' ErrCredentialsNotFound text, on stdout.
        if said(&out).contains("credentials not found") {
            return Ok(None);
        }
        let msg = if err.is_empty() {
            said(&out)
        } else {
            said(&err)
        };
        return Err(format!(
            "the docker credential helper {program} failed ({status}) for {server}: {msg}"
        ));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let a: Answer = signet_proto::json::from_slice(&out).map_err(|e| {
        format!("the docker credential helper {program} answered invalid JSON for {server}: {e}")
    })?;
    if a.username.is_empty() && a.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some((a.username, a.secret)))
}

/// The host part of a docker config `auths` key, as the docker CLI compares them
/// (`ConvertToHostname`): without an `http://`/`https://` prefix and without any path, so
/// `https://127.0.0.1:5000/v2/` and `127.0.0.1:5000` name the same registry.
fn docker_config_host(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

/// Whether the docker config key `key` (of `auths` or `credHelpers`) names the normalised
/// registry `registry`: its host ([`docker_config_host`]) normalised as image references are
/// ([`normalize_registry`]: case, `:443`, a trailing dot, Docker Hub's
/// aliases).
fn config_key_names(key: &str, registry: &str) -> bool {
    normalize_registry(docker_config_host(key)).is_ok_and(|h| h == registry)
}

/// The user name and password for `registry` in a parsed docker `config.json`: the `auths`
/// entry whose key is the registry (exactly, else by [`config_key_names`], so Docker Hub also
/// matches `index.docker.io` and `registry-1.docker.io`), from its `auth` field
/// (base64 of `user:password`) or else its `username`/`password` fields; an `identitytoken`
/// comes first, as user [`IDENTITY_TOKEN_USER`]. Credential helpers are
/// [`docker_config_helper`]'s.
fn docker_config_credentials(
    config: &serde_json::Value,
    registry: &str,
) -> Option<(String, String)> {
    let auths = config.get("auths")?.as_object()?;
    let exact = if registry == "docker.io" {
        vec![
            "https://index.docker.io/v1/".to_owned(),
            "docker.io".to_owned(),
        ]
    } else {
        vec![registry.to_owned(), format!("https://{registry}")]
    };
    let entry = exact.iter().find_map(|k| auths.get(k)).or_else(|| {
        auths
            .iter()
            .find(|(k, _)| config_key_names(k, registry))
            .map(|(_, v)| v)
    })?;
    // `docker login` against a registry with an OAuth2 token service (e.g. Azure's) stores an
    // identity token; it takes precedence over the `auth` field, as in the docker CLI.
    if let Some(token) = entry
        .get("identitytoken")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
    {
        return Some((IDENTITY_TOKEN_USER.to_owned(), token.to_owned()));
    }
    if let Some(auth) = entry
        .get("auth")
        .and_then(|a| a.as_str())
        .filter(|a| !a.is_empty())
    {
        let raw = B64.decode(auth.trim()).ok()?;
        let s = String::from_utf8(raw).ok()?;
        let (u, p) = s.split_once(':')?;
        return Some((u.to_owned(), p.to_owned()));
    }
    let u = entry.get("username")?.as_str()?;
    let p = entry.get("password")?.as_str()?;
    (!u.is_empty()).then(|| (u.to_owned(), p.to_owned()))
}

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn docker_config_entries_match_by_host() {
        let auth = |u: &str, p: &str| B64.encode(format!("{u}:{p}"));
        let cfg =
            |key: &str, entry: serde_json::Value| serde_json::json!({ "auths": { key: entry } });
        let reg = "127.0.0.1:5000";
        let want = Some(("u".to_owned(), "p:w".to_owned()));
        // `docker login` writes the host; older clients and other tools write a URL.
        for key in [
            "127.0.0.1:5000",
            "https://127.0.0.1:5000",
            "http://127.0.0.1:5000",
            "https://127.0.0.1:5000/v2/",
            "http://127.0.0.1:5000/v1/",
        ] {
            let c = cfg(key, serde_json::json!({ "auth": auth("u", "p:w") }));
            assert_eq!(docker_config_credentials(&c, reg), want, "key {key}");
        }
        // Plain username/password fields are accepted too.
        let c = cfg(
            reg,
            serde_json::json!({ "username": "u", "password": "p:w" }),
        );
        assert_eq!(docker_config_credentials(&c, reg), want);
        // Another host, or another port of the same host, is never used.
        for key in [
            "registry.example.com",
            "127.0.0.1:5001",
            "https://127.0.0.1",
            "https://evil.example/127.0.0.1:5000",
        ] {
            let c = cfg(key, serde_json::json!({ "auth": auth("u", "p") }));
            assert_eq!(docker_config_credentials(&c, reg), None, "key {key}");
        }
        // An entry kept by a credential helper (empty object) or a malformed `auth` gives none.
        let c = serde_json::json!({ "auths": { reg: {} }, "credsStore": "desktop" });
        assert_eq!(docker_config_credentials(&c, reg), None);
        let c = cfg(reg, serde_json::json!({ "auth": "not base64!" }));
        assert_eq!(docker_config_credentials(&c, reg), None);
        let c = cfg(reg, serde_json::json!({ "auth": B64.encode("no-colon") }));
        assert_eq!(docker_config_credentials(&c, reg), None);
        // An identity token (as `docker login` stores it for OAuth2 registries) comes first.
        let c = cfg(
            reg,
            serde_json::json!({ "auth": auth("00000000-0000-0000-0000-000000000000", ""), "identitytoken": "rt" }),
        );
        assert_eq!(
            docker_config_credentials(&c, reg),
            Some((IDENTITY_TOKEN_USER.to_owned(), "rt".to_owned()))
        );
        // Keys are compared normalised, as image references are.
        for (key, reg) in [
            ("REGISTRY.example.com", "registry.example.com"),
            (
                "https://registry.example.com:443/v2/",
                "registry.example.com",
            ),
            ("registry.example.com.", "registry.example.com"),
            ("LOCALHOST:5000", "localhost:5000"),
        ] {
            let c = cfg(key, serde_json::json!({ "auth": auth("u", "p:w") }));
            assert_eq!(docker_config_credentials(&c, reg), want, "key {key}");
        }
        // Docker Hub is found under its historical keys.
        for key in [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "registry-1.docker.io",
            "Registry-1.Docker.IO:443",
        ] {
            let c = cfg(key, serde_json::json!({ "auth": auth("u", "p:w") }));
            assert_eq!(
                docker_config_credentials(&c, "docker.io"),
                want,
                "key {key}"
            );
        }
    }

    #[test]
    fn credential_helper_is_chosen_as_docker_does() {
        let reg = "127.0.0.1:5000";
        // credHelpers for this registry wins over credsStore; keys match by host.
        for key in [reg, "https://127.0.0.1:5000", "http://127.0.0.1:5000/v2/"] {
            let c = serde_json::json!({
                "credsStore": "store",
                "credHelpers": { "other.example": "other", key: "mine" },
            });
            assert_eq!(
                docker_config_helper(&c, reg).as_deref(),
                Some("mine"),
                "{key}"
            );
        }
        // Without an entry for this registry, credsStore serves every registry.
        let c =
            serde_json::json!({ "credsStore": "store", "credHelpers": { "127.0.0.1:5001": "x" } });
        assert_eq!(docker_config_helper(&c, reg).as_deref(), Some("store"));
        // No helper at all: the `auths` entries are used.
        let c = serde_json::json!({ "auths": { reg: { "auth": "dTpw" } } });
        assert_eq!(docker_config_helper(&c, reg), None);
        // A name that would leave `docker-credential-<name>` is never run.
        for bad in ["", "../../bin/sh", "a/b", "x y"] {
            let c = serde_json::json!({ "credsStore": bad });
            assert_eq!(docker_config_helper(&c, reg), None, "{bad:?}");
        }
        // Docker Hub: helpers keyed by its historical host, asked about its historical URL.
        let c = serde_json::json!({ "credHelpers": { "index.docker.io": "hub" } });
        assert_eq!(
            docker_config_helper(&c, "docker.io").as_deref(),
            Some("hub")
        );
        assert_eq!(
            docker_config_server("docker.io"),
            "https://index.docker.io/v1/"
        );
        assert_eq!(docker_config_server(reg), reg);
    }

    /// Writes an executable shell script `docker-credential-<name>` into `dir`.
    fn helper_script(dir: &std::path::Path, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    /// Runs a helper script, retrying while another test's fork still holds it open for
    /// writing (ETXTBSY).
    fn run_helper(
        program: &str,
        server: &str,
        timeout_ms: u64,
    ) -> Result<Option<(String, String)>, String> {
        let timeout = std::time::Duration::from_millis(timeout_ms);
        for _ in 0..50 {
            match run_credential_helper(program, server, timeout) {
                Err(e) if e.contains("Text file busy") => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
        run_credential_helper(program, server, timeout)
    }

    #[test]
    fn credential_helper_protocol() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A helper in the style of docker-credential-helpers: the server URL on stdin, the
        // credentials as JSON on stdout, "credentials not found" with exit 1 otherwise.
        let good = helper_script(
            d,
            "good",
            r#"[ "$1" = get ] || exit 3
read -r server
if [ "$server" = "127.0.0.1:5000" ]; then
  printf '{"ServerURL":"%s","Username":"ci-bot","Secret":"s3cr:et"}' "$server"
else
  echo "credentials not found in native keychain"; exit 1
fi"#,
        );
        assert_eq!(
            run_helper(&good, "127.0.0.1:5000", 10_000),
            Ok(Some(("ci-bot".to_owned(), "s3cr:et".to_owned())))
        );
        assert_eq!(run_helper(&good, "registry.example", 10_000), Ok(None));

        let failing = helper_script(d, "failing", "echo 'keychain is locked' >&2; exit 1");
        let e = run_helper(&failing, "127.0.0.1:5000", 10_000).unwrap_err();
        assert!(
            e.contains("docker-credential-failing") && e.contains("keychain is locked"),
            "{e}"
        );
        let garbled = helper_script(d, "garbled", "echo 'Username: u'");
        let e = run_helper(&garbled, "127.0.0.1:5000", 10_000).unwrap_err();
        assert!(
            e.contains("invalid JSON") && e.contains("docker-credential-garbled"),
            "{e}"
        );
        let token = helper_script(
            d,
            "token",
            r#"echo '{"Username":"<token>","Secret":"refresh"}'"#,
        );
        // An identity token comes back as user `<token>`, for the OAuth2 token flow.
        assert_eq!(
            run_helper(&token, "127.0.0.1:5000", 10_000),
            Ok(Some((IDENTITY_TOKEN_USER.to_owned(), "refresh".to_owned())))
        );
        let slow = helper_script(d, "slow", "exec sleep 30");
        let started = std::time::Instant::now();
        let e = run_helper(&slow, "127.0.0.1:5000", 300).unwrap_err();
        assert!(e.contains("did not answer"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let e = run_helper("docker-credential-signet-test-absent", "r", 1_000).unwrap_err();
        assert!(
            e.contains("cannot run") && e.contains("docker-credential-signet-test-absent"),
            "{e}"
        );
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let c = Credentials {
            username: "u".to_owned(),
            password: "hunter2".to_owned(),
            source: "test".to_owned(),
        };
        let d = format!("{c:?}");
        assert!(d.contains("\"u\"") && !d.contains("hunter2"), "{d}");
    }
}
