//! Periodic trust refresh (issue 19): `signet admission` started from a TUF mirror that is a
//! directory (an exported repository, as a mounted volume with no network) re-reads it every
//! `--trust-refresh` seconds. A mirror whose targets metadata was tampered with is refused and
//! leaves the old trust in force (the image stays admitted, the failure is counted at
//! `/metrics`); the same repository exported properly, now carrying the CA's CRL that revokes
//! its intermediate from before the image was signed, is taken without a restart and the image
//! is denied.
//!
//! The monitor, on the TUF trust by default, takes the same CRL from the mirror and reports
//! the certificates the revoked intermediate issued after its revocation (`revoked_signer`),
//! not those it issued before.
//!
//! Tests fail when a tool is missing (node, openssl, docker-registry, umoci, skopeo).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::admission::{validate, Webhook};
use support::tuf_serve::TufServe;
use support::{require_tools, rfc3339, run, signet, text, unix_now, Oidc};

const EMAIL: &str = "refresh@example.com";

/// One counter of the webhook's `/metrics`.
fn metric(url: &str, name: &str) -> u64 {
    let text = reqwest::blocking::get(format!("{url}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .trim()
        .parse()
        .unwrap()
}

/// Waits until `metric(name)` exceeds `above`.
fn wait_metric(url: &str, name: &str, above: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(url, name) <= above {
        assert!(Instant::now() < deadline, "{name} stayed at {above}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Revokes the server's CA intermediate (key compromise) from `time` with `signet ca revoke`,
/// the certificate written into `work`.
fn revoke_intermediate(server: &TufServe, work: &Path, time: i64) {
    let chain = std::fs::read_to_string(server.data().join("ca/chain.pem")).unwrap();
    let intermediate = pem::parse_many(chain.as_bytes()).unwrap().remove(0);
    let inter_path = work.join("intermediate.pem");
    std::fs::write(&inter_path, pem::encode(&intermediate)).unwrap();
    let out = run(signet()
        .args(["ca", "revoke", "--reason", "keyCompromise", "--time"])
        .arg(rfc3339(time))
        .arg("--certificate")
        .arg(&inter_path)
        .arg("--data-dir")
        .arg(server.data()));
    assert!(out.status.success(), "ca revoke: {}", text(&out));
}

#[test]
fn the_webhook_takes_a_rotated_trust_from_its_mirror_and_refuses_a_tampered_one() {
    require_tools(&["node", "openssl", "docker-registry", "umoci", "skopeo"]);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let work = tempfile::tempdir().unwrap();
    let mut server = TufServe::new(work.path(), &oidc.url);
    let work = tempfile::tempdir().unwrap();
    let reg = support::TestRegistry::start();
    let digest = reg.push_image("refresh/app", "v1", "an image under a refreshed trust");
    let image = format!("{}/refresh/app@{digest}", reg.addr);
    let signed_from = unix_now();
    let out = run(signet()
        .arg("sign")
        .arg("--signing-config")
        .arg(server.data().join("signing_config.json"))
        .args(["--identity-token", &oidc.token(EMAIL), &image]));
    assert!(out.status.success(), "sign: {}", text(&out));

    // The webhook's mirror: a directory, set up once from the first root.
    let mirror = work.path().join("mirror");
    server.export(&mirror);
    let home = work.path().join("webhook-home");
    let out = run(signet()
        .env("SIGNET_HOME", &home)
        .env_remove("SIGNET_TRUSTED_ROOT")
        .args(["trust", "init", "--mirror"])
        .arg(format!("file://{}", mirror.display()))
        .arg("--root")
        .arg(server.data().join("tuf/1.root.json")));
    assert!(out.status.success(), "trust init: {}", text(&out));
    let policy = work.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            "[[rule]]\nimages = [\"{}/refresh/**\"]\nidentity = \"{EMAIL}\"\nissuer = \"{}\"\n",
            reg.addr, oidc.url
        ),
    )
    .unwrap();
    let webhook = Webhook::new(&policy)
        .env("SIGNET_HOME", &home)
        .env_remove("SIGNET_TRUSTED_ROOT")
        .insecure_http()
        .no_cache()
        .args(["--trust-refresh", "1"])
        .start();
    let resp = validate(&webhook.url, "refresh", &image);
    assert_eq!(resp["allowed"], true, "{resp}");

    // The CA's intermediate revoked (key compromise) from before the image was signed; the
    // server publishes the CRL as a TUF target once restarted.
    revoke_intermediate(&server, work.path(), signed_from - 1);
    server.restart();

    // A tampered copy of the new repository: its targets metadata altered after signing.
    let checks = metric(&webhook.url, "signet_admission_trust_refresh_total");
    let failures = metric(
        &webhook.url,
        "signet_admission_trust_refresh_failures_total",
    );
    let staged = work.path().join("staged");
    server.export(&staged);
    assert!(
        std::fs::read_dir(staged.join("targets")).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".crls.pem")),
        "the export carries no crls.pem target"
    );
    std::fs::remove_dir_all(&mirror).unwrap();
    copy_dir(&staged, &mirror);
    let mut tampered = 0;
    for e in std::fs::read_dir(&mirror).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .ends_with("targets.json")
        {
            let mut v: Value = signet_proto::json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            v["signed"]["expires"] = Value::String("2099-01-01T00:00:00Z".into());
            std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
            tampered += 1;
        }
    }
    assert!(tampered > 0);
    wait_metric(
        &webhook.url,
        "signet_admission_trust_refresh_failures_total",
        failures,
    );
    assert!(metric(&webhook.url, "signet_admission_trust_refresh_total") > checks);
    let resp = validate(&webhook.url, "refresh", &image);
    assert_eq!(
        resp["allowed"], true,
        "a tampered mirror changed the trust: {resp}"
    );

    // The repository as published: the CRL is taken without a restart, the image denied.
    let changes = metric(&webhook.url, "signet_admission_trust_changes_total");
    let fresh = work.path().join("fresh");
    std::fs::rename(&mirror, &fresh).unwrap();
    copy_dir(&staged, &mirror);
    wait_metric(
        &webhook.url,
        "signet_admission_trust_changes_total",
        changes,
    );
    let resp = validate(&webhook.url, "refresh", &image);
    assert_eq!(resp["allowed"], false, "{resp}");
    let message = resp["status"]["message"].as_str().unwrap_or("");
    assert!(message.contains("revoked"), "{resp}");
}

/// The v1 log's tree size.
fn tree_size(url: &str) -> u64 {
    let v: Value = reqwest::blocking::get(format!("{url}/api/v1/log"))
        .unwrap()
        .json()
        .unwrap();
    v["treeSize"].as_u64().unwrap()
}

#[test]
fn the_monitor_reports_certificates_of_a_revoked_intermediate() {
    require_tools(&["node", "openssl"]);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let work = tempfile::tempdir().unwrap();
    let mut server = TufServe::new(work.path(), &oidc.url);
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    let with_home = || {
        let mut c = signet();
        c.env("SIGNET_HOME", &home)
            .env_remove("SIGNET_TRUSTED_ROOT");
        c
    };
    let out = run(with_home()
        .args([
            "trust",
            "init",
            "--mirror",
            &format!("{}/tuf", server.url),
            "--root",
        ])
        .arg(server.data().join("tuf/1.root.json")));
    assert!(out.status.success(), "trust init: {}", text(&out));
    let state = work.path().join("m.json");
    let monitor = || {
        run(with_home()
            .args(["monitor", "--once", "--state"])
            .arg(&state))
    };
    let out = monitor();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let file = work.path().join("a.txt");
    std::fs::write(&file, b"signed before the revocation").unwrap();
    let signing_config = server.data().join("signing_config.json");
    let sign = |file: &Path| {
        run(signet()
            .arg("sign-blob")
            .arg(file)
            .arg("--signing-config")
            .arg(&signing_config)
            .args(["--identity-token", &oidc.token(EMAIL)]))
    };
    let before = tree_size(&server.url);
    let out = sign(&file);
    assert!(out.status.success(), "sign-blob: {}", text(&out));
    let revoked_from = before_second(unix_now() + 1);
    revoke_intermediate(&server, work.path(), revoked_from);
    server.restart();
    // The CA still issues from the revoked intermediate (nothing rotated it): the log takes
    // the precertificate and the signature whatever the client then makes of the bundle.
    let middle = tree_size(&server.url);
    assert_eq!(
        middle,
        before + 2,
        "a keyless signature logs a precert and a hashedrekord"
    );
    let file_b = work.path().join("b.txt");
    std::fs::write(&file_b, b"signed after the revocation").unwrap();
    let _ = sign(&file_b);
    let after = tree_size(&server.url);
    assert_eq!(after, middle + 2);
    let out = monitor();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let revoked: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|a| a["alert"] == "revoked_signer")
        .collect();
    let indexes: Vec<u64> = revoked
        .iter()
        .map(|a| a["log_index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, vec![middle, middle + 1], "{}", text(&out));
    for a in &revoked {
        assert_eq!(a["severity"], "critical", "{a}");
        assert_eq!(a["log"], server.url.as_str(), "{a}");
        assert!(
            a["message"]
                .as_str()
                .unwrap()
                .contains("the CA certificate"),
            "{a}"
        );
    }
}

/// Waits until the clock reads `t`, then returns it (a revocation time not in the future
/// and after everything done before).
fn before_second(t: i64) -> i64 {
    while unix_now() < t {
        std::thread::sleep(Duration::from_millis(100));
    }
    t
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}
