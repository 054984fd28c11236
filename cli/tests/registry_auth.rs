//! Keyless image signing against a registry that requires authentication: a real
//! `docker-registry` (distribution 2.8) with `auth: htpasswd` (bcrypt entries), a mock OIDC
//! issuer and a running `signet serve`.
//!
//! * the image is pushed with `skopeo copy --dest-creds`;
//! * `signet sign` and `signet verify` without credentials, and with a wrong password, exit 2
//!   with a message about registry authentication, and leave nothing behind: no new tag or
//!   manifest in the registry's storage, no new entry in the transparency log;
//! * with the credentials in `SIGNET_REGISTRY_USERNAME`/`SIGNET_REGISTRY_PASSWORD`, `signet
//!   sign` attaches the bundle (referrers tag schema) and `signet verify` verifies by tag and by
//!   digest;
//! * the same credentials from a docker `config.json` (`auths` with the base64 `auth` field,
//!   as `docker login` writes it) verify too; an entry for another registry is not used;
//! * the credentials from a docker credential helper (`credHelpers`, `credsStore`) sign and
//!   verify; a helper with no login for the registry, or missing from PATH, fails cleanly;
//! * a `config.json` that is not JSON fails with its path named, pushing and logging nothing.
//!
//! Every `signet` run gets an empty `DOCKER_CONFIG` and no `SIGNET_REGISTRY_*` variables unless
//! the case sets them, so the caller's own docker login cannot leak in. Fails when a tool
//! (node with oauth2-mock-server, curl, docker-registry, umoci, skopeo) is missing.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::{
    json_out, require_tools, run, sign_image, signet, stack, text, verify_image, TestRegistry,
};

const EMAIL: &str = "alice@example.com";
const USER: &str = "signet-ci";
const PASS: &str = "correct horse battery staple";
const REPO: &str = "secure/app";

/// Where a `signet` run gets its registry credentials from.
#[derive(Clone, Copy)]
enum Creds<'a> {
    /// Nowhere: no variables, an empty docker config directory.
    None,
    /// `SIGNET_REGISTRY_USERNAME` / `SIGNET_REGISTRY_PASSWORD`.
    Env(&'a str, &'a str),
    /// The docker config directory given (`DOCKER_CONFIG`).
    DockerConfig(&'a Path),
}

fn signet_with(creds: Creds<'_>, empty_config: &Path) -> Command {
    let mut cmd = signet();
    cmd.env_remove("SIGNET_REGISTRY_USERNAME")
        .env_remove("SIGNET_REGISTRY_PASSWORD")
        .env("DOCKER_CONFIG", empty_config);
    match creds {
        Creds::None => {}
        Creds::Env(u, p) => {
            cmd.env("SIGNET_REGISTRY_USERNAME", u)
                .env("SIGNET_REGISTRY_PASSWORD", p);
        }
        Creds::DockerConfig(dir) => {
            cmd.env("DOCKER_CONFIG", dir);
        }
    }
    cmd
}

/// Asserts a failed run: exit code 2 and a stderr naming registry authentication and each of
/// `needles`.
fn assert_auth_failure(out: &Output, what: &str, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(2), "{what}: {}", text(out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("registry authentication failed"),
        "{what}: the message must name authentication: {}",
        text(out)
    );
    for n in needles {
        assert!(err.contains(n), "{what}: expected {n:?} in: {}", text(out));
    }
    assert!(
        !err.contains(PASS),
        "{what}: the password must never be printed: {}",
        text(out)
    );
}

fn write_docker_config(dir: &Path, key: &str, user: &str, pass: &str) {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    let cfg = serde_json::json!({ "auths": { key: { "auth": auth } } });
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_vec_pretty(&cfg).unwrap(),
    )
    .unwrap();
}

#[test]
fn keyless_sign_and_verify_against_htpasswd_registry() {
    require_tools(&["docker-registry", "umoci", "skopeo"]);
    let (oidc, server) = stack();
    let reg = TestRegistry::start_with_htpasswd(USER, PASS);
    let digest = reg.push_image_with_creds(REPO, "v1", "authenticated content", (USER, PASS));
    let tag_ref = format!("{}/{REPO}:v1", reg.addr);
    let digest_ref = format!("{}/{REPO}@{digest}", reg.addr);
    let token = oidc.token(EMAIL);
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty-docker-config");
    std::fs::create_dir_all(&empty).unwrap();

    // The registry really requires credentials: skopeo without them is refused.
    let anon = run(Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--no-creds"])
        .arg(format!("docker://{tag_ref}")));
    assert!(
        !anon.status.success(),
        "registry must refuse anonymous reads: {}",
        text(&anon)
    );

    let log_before = server.tree_size();
    let wrong = Creds::Env(USER, "not the password");

    // No credentials: sign and verify fail on the first registry request, naming what to set.
    for r in [&tag_ref, &digest_ref] {
        let out = sign_image(signet_with(Creds::None, &empty), &server, &token, r);
        assert_auth_failure(
            &out,
            &format!("sign {r} without credentials"),
            &["Basic", "SIGNET_REGISTRY_USERNAME", "docker login"],
        );
        let out = verify_image(
            signet_with(Creds::None, &empty),
            &server,
            EMAIL,
            &oidc.url,
            r,
        );
        assert_auth_failure(
            &out,
            &format!("verify {r} without credentials"),
            &["Basic", "SIGNET_REGISTRY_USERNAME"],
        );
    }
    // A wrong password: the registry rejects it, and the message names the user and the
    // source of the credentials.
    for r in [&tag_ref, &digest_ref] {
        let out = sign_image(signet_with(wrong, &empty), &server, &token, r);
        assert_auth_failure(
            &out,
            &format!("sign {r} with a wrong password"),
            &["rejected the credentials", USER, "SIGNET_REGISTRY_PASSWORD"],
        );
        let out = verify_image(signet_with(wrong, &empty), &server, EMAIL, &oidc.url, r);
        assert_auth_failure(
            &out,
            &format!("verify {r} with a wrong password"),
            &["rejected the credentials", USER],
        );
    }
    // Credentials in a docker config for another registry are not sent here.
    let other_cfg = tmp.path().join("other-docker-config");
    write_docker_config(&other_cfg, "registry.example.com", USER, PASS);
    let out = sign_image(
        signet_with(Creds::DockerConfig(&other_cfg), &empty),
        &server,
        &token,
        &tag_ref,
    );
    assert_auth_failure(&out, "sign with another registry's login", &["Basic"]);

    // The failed attempts left nothing: the only tag and manifest are the image's, and no
    // certificate or log entry was made.
    assert_eq!(
        reg.list_tags(REPO, Some((USER, PASS))),
        vec!["v1".to_owned()]
    );
    assert_eq!(reg.stored_manifests(REPO), vec![digest.clone()]);
    assert_eq!(
        server.tree_size(),
        log_before,
        "failed attempts must not reach the log"
    );

    // With the right credentials: sign by tag, then verify by tag and by digest.
    let good = Creds::Env(USER, PASS);
    let out = sign_image(signet_with(good, &empty), &server, &token, &tag_ref);
    assert!(out.status.success(), "{}", text(&out));
    let s = json_out(&out);
    assert_eq!(s["digest"], digest.as_str());
    assert_eq!(s["referrersMode"], "tag-schema");
    let referrer = s["referrer"].as_str().unwrap().to_owned();
    // (The CA's precertificate for the SCT goes into the same log, so more than one entry.)
    assert!(
        server.tree_size() > log_before,
        "a successful signature is logged"
    );
    let referrers_tag = digest.replacen(':', "-", 1);
    assert_eq!(
        reg.list_tags(REPO, Some((USER, PASS))),
        vec![referrers_tag.clone(), "v1".to_owned()],
        "the bundle is attached through the referrers tag schema"
    );
    let stored = reg.stored_manifests(REPO);
    assert!(
        stored.contains(&referrer) && stored.contains(&digest) && stored.len() == 3,
        "image, referrer and referrers index: {stored:?}"
    );

    for r in [&tag_ref, &digest_ref] {
        let v = verify_image(signet_with(good, &empty), &server, EMAIL, &oidc.url, r);
        assert!(v.status.success(), "verify {r}: {}", text(&v));
        let j = json_out(&v);
        assert_eq!(j["ok"], true);
        assert_eq!(j["digest"], digest.as_str());
        let results = j["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "{results:?}");
        assert_eq!(results[0]["identity"], EMAIL);
    }

    // After signing, a wrong password still fails verification as an authentication error
    // (not as "no signatures").
    let out = verify_image(
        signet_with(wrong, &empty),
        &server,
        EMAIL,
        &oidc.url,
        &digest_ref,
    );
    assert_auth_failure(
        &out,
        "verify a signed image with a wrong password",
        &["rejected the credentials"],
    );

    // The same login from a docker config.json, as `docker login` writes it.
    let docker_cfg = tmp.path().join("docker-config");
    write_docker_config(&docker_cfg, &reg.addr, USER, PASS);
    let v = verify_image(
        signet_with(Creds::DockerConfig(&docker_cfg), &empty),
        &server,
        EMAIL,
        &oidc.url,
        &tag_ref,
    );
    assert!(
        v.status.success(),
        "verify with docker config: {}",
        text(&v)
    );
    assert_eq!(json_out(&v)["digest"], digest.as_str());
    // A wrong password there is reported with the config file as its source.
    let bad_cfg = tmp.path().join("bad-docker-config");
    write_docker_config(&bad_cfg, &format!("http://{}", reg.addr), USER, "nope");
    let out = verify_image(
        signet_with(Creds::DockerConfig(&bad_cfg), &empty),
        &server,
        EMAIL,
        &oidc.url,
        &tag_ref,
    );
    assert_auth_failure(
        &out,
        "verify with a wrong password in docker config",
        &["rejected the credentials", "config.json"],
    );

    // Nothing more was attached by the later failures.
    assert_eq!(reg.stored_manifests(REPO), stored);

    // The same login kept by a docker credential helper (`credHelpers` for this registry,
    // else `credsStore`), as `docker login` leaves it with a keychain: `docker-credential-<name>
    // get` is run from PATH with the registry on stdin. The helpers below speak that protocol
    // from a file of known logins.
    let bin = tmp.path().join("helper-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let logins = tmp.path().join("logins");
    std::fs::write(&logins, format!("{} {USER} {PASS}\n", reg.addr)).unwrap();
    write_credential_helper(&bin, "signet-file", &logins);
    write_credential_helper(&bin, "signet-empty", &tmp.path().join("no-logins"));
    let helper_cfg = |name: &str, cfg: Value| {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
        dir
    };
    let with_helpers = |dir: &Path| {
        let mut cmd = signet_with(Creds::DockerConfig(dir), &empty);
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", bin.display()));
        cmd
    };
    // credHelpers names the helper for this registry (and wins over credsStore); the stale
    // `auths` entry with a wrong password is not used.
    let per_registry = helper_cfg(
        "cred-helpers",
        serde_json::json!({
            "auths": { &reg.addr: { "auth": "c2lnbmV0LWNpOm5vcGU=" } },
            "credsStore": "signet-empty",
            "credHelpers": { &reg.addr: "signet-file" },
        }),
    );
    let v = verify_image(
        with_helpers(&per_registry),
        &server,
        EMAIL,
        &oidc.url,
        &tag_ref,
    );
    assert!(v.status.success(), "verify with credHelpers: {}", text(&v));
    assert_eq!(json_out(&v)["digest"], digest.as_str());
    // credsStore serves every registry; signing pushes with its credentials.
    let store = helper_cfg(
        "creds-store",
        serde_json::json!({ "credsStore": "signet-file" }),
    );
    let out = sign_image(with_helpers(&store), &server, &token, &tag_ref);
    assert!(out.status.success(), "sign with credsStore: {}", text(&out));
    assert_eq!(json_out(&out)["digest"], digest.as_str());
    let stored = reg.stored_manifests(REPO);
    // A helper that knows no login for the registry: anonymous, refused, named in the hint.
    let none = helper_cfg(
        "creds-none",
        serde_json::json!({ "credsStore": "signet-empty" }),
    );
    let out = verify_image(with_helpers(&none), &server, EMAIL, &oidc.url, &tag_ref);
    assert_auth_failure(
        &out,
        "verify with a helper that has no login",
        &["no credentials were found", "credsStore"],
    );
    // A helper missing from PATH: exit 2 naming the helper and the config, nothing pushed.
    let missing = helper_cfg(
        "creds-missing",
        serde_json::json!({ "credHelpers": { &reg.addr: "signet-absent" } }),
    );
    let log_before = server.tree_size();
    let out = sign_image(with_helpers(&missing), &server, &token, &tag_ref);
    assert_auth_failure(
        &out,
        "sign with a missing credential helper",
        &["docker-credential-signet-absent", "config.json"],
    );
    assert_eq!(server.tree_size(), log_before, "nothing logged");
    assert_eq!(reg.stored_manifests(REPO), stored, "nothing pushed");

    // A config.json that is not JSON (a half-written file, a merge conflict): exit 2 naming
    // the file, before any certificate is requested; nothing pushed or logged. It is not read
    // as "no login" (which would send anonymous requests and hide the broken file).
    let garbled = tmp.path().join("garbled-config");
    std::fs::create_dir_all(&garbled).unwrap();
    std::fs::write(garbled.join("config.json"), "{\"auths\": {\n<<<<<<< HEAD\n").unwrap();
    let cfg_path = garbled.join("config.json").display().to_string();
    let out = sign_image(with_helpers(&garbled), &server, &token, &tag_ref);
    assert_auth_failure(
        &out,
        "sign with a config.json that is not JSON",
        &[cfg_path.as_str(), "is not valid JSON"],
    );
    let out = verify_image(with_helpers(&garbled), &server, EMAIL, &oidc.url, &tag_ref);
    assert_auth_failure(
        &out,
        "verify with a config.json that is not JSON",
        &[cfg_path.as_str(), "is not valid JSON"],
    );
    assert_eq!(server.tree_size(), log_before, "nothing logged");
    assert_eq!(reg.stored_manifests(REPO), stored, "nothing pushed");
}

/// Writes `docker-credential-<name>` into `bin`: a credential helper (docker-credential-helpers
/// protocol: `get`, the server URL on stdin, `{"ServerURL","Username","Secret"}` on stdout,
/// "credentials not found" and exit 1 otherwise) answering from `logins`, a file of
/// `server user password` lines.
fn write_credential_helper(bin: &Path, name: &str, logins: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let script = format!(
        r#"#!/bin/sh
[ "$1" = get ] || {{ echo "unsupported action $1" >&2; exit 2; }}
read -r server
while read -r s user pass; do
  if [ "$s" = "$server" ]; then
    printf '{{"ServerURL":"%s","Username":"%s","Secret":"%s"}}' "$server" "$user" "$pass"
    exit 0
  fi
done < "{}" 2>/dev/null
echo "credentials not found in native keychain"
exit 1
"#,
        logins.display()
    );
    let path = bin.join(format!("docker-credential-{name}"));
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The readiness check of the test servers: a `docker-registry` configured for a port another
/// process already listens on exits with "address already in use", and the check reports that
/// exit instead of taking the other process's listener for the registry (a connect-only check
/// succeeded there, and the test then failed later with "connection refused" once that other
/// listener went away). The process that does hold the port is seen as listening on it.
#[test]
fn a_server_that_cannot_bind_its_port_is_not_taken_for_ready() {
    require_tools(&["docker-registry"]);
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    assert!(support::listens(std::process::id(), port));
    let dir = tempfile::tempdir().unwrap();
    let mut child = support::registry::spawn_registry(dir.path(), port, "");
    let log = dir.path().join("registry.log");
    // The port accepts connections (ours) all along.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let e = support::try_wait_listening(&mut child, port, "docker-registry", &log)
        .expect_err("a registry that could not bind was taken for ready");
    assert!(e.contains("address already in use"), "{e}");
    assert!(!support::listens(child.id(), port));
    drop(holder);
}
