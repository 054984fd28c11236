//! A forked log: two different trees under the same key and origin (the second one made by
//! copying the first log's store and growing it differently). The test shows that:
//! * a witness that cosigned the first tree refuses the second (422 on the log's own proof,
//!   and a log configured with that witness cannot publish the fork: its clients get 503, and
//!   it serves no checkpoint at all rather than its uncosigned one);
//! * a verifier with a witness policy rejects a bundle from the fork, while a plain verifier
//!   (like today's Sigstore clients) accepts it;
//! * `signet monitor` raises an integrity alert when it is shown the fork after the original,
//!   and, with the witness policy, even on a first run against the fork.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::tlog::copy_dir;
use support::{free_port, run, signet, spawn_until, text, Spawned};

/// Starts `signet <args>` and waits for the line `<prefix>URL` on stdout.
fn start(args: &[&str], prefix: &str) -> (Spawned, String) {
    let s = spawn_until(signet().args(args), prefix);
    let url = s.url.clone();
    (s, url)
}

/// A log-only `signet serve` whose checkpoints name `public_url`, listening on `port`.
fn log_server(
    dir: &Path,
    data: &Path,
    port: u16,
    public_url: &str,
    policy: Option<&Path>,
) -> (Spawned, String) {
    let mut cfg = format!(
        "data_dir = {:?}\nlisten = \"127.0.0.1:{port}\"\nonly = \"log\"\npublic_url = \"{public_url}\"\nallow_internal_public_url = true\n",
        data.display().to_string()
    );
    if let Some(p) = policy {
        cfg.push_str(&format!(
            "\n[log]\nwitness_policy = {:?}\nwitness_timeout_ms = 3000\n",
            p.display().to_string()
        ));
    }
    let path = dir.join(format!("serve-{port}.toml"));
    std::fs::write(&path, cfg).unwrap();
    start(
        &["serve", "--config", path.to_str().unwrap()],
        "signet listening on ",
    )
}

fn get(url: &str) -> String {
    let r = reqwest::blocking::get(url).unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.text().unwrap()
}

fn sign(dir: &Path, log_url: &str, name: &str, content: &str) -> (PathBuf, PathBuf, Output) {
    let file = dir.join(name);
    std::fs::write(&file, content).unwrap();
    let bundle = dir.join(format!("{name}.sigstore.json"));
    let out = run(signet()
        .arg("sign-blob")
        .args(["--log-url", log_url, "--key"])
        .arg(dir.join("k.key"))
        .arg("--bundle")
        .arg(&bundle)
        .env("SIGNET_PASSWORD", "pw")
        .arg(&file));
    (file, bundle, out)
}

fn verify(
    dir: &Path,
    trusted_root: &Path,
    file: &Path,
    bundle: &Path,
    policy: Option<&Path>,
) -> Output {
    let mut cmd = signet();
    cmd.arg("verify-blob")
        .arg("--trusted-root")
        .arg(trusted_root)
        .arg("--bundle")
        .arg(bundle)
        .arg("--key")
        .arg(dir.join("k.pub"))
        .args(["--output", "json"]);
    if let Some(p) = policy {
        cmd.arg("--witness-policy").arg(p);
    }
    run(cmd.arg(file))
}

fn checkpoint_size(note: &str) -> u64 {
    note.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn fork_is_refused_by_witness_rejected_by_policy_and_alerted_by_monitor() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let st = run(signet()
        .args(["generate-key-pair", "--output-key-prefix"])
        .arg(t.join("k"))
        .env("SIGNET_PASSWORD", "pw"));
    assert!(st.status.success(), "{}", text(&st));

    // Log A, first without witnesses: learn its origin and note key, record one entry.
    let port_a = free_port();
    let url_a = format!("http://127.0.0.1:{port_a}");
    let data_a = t.join("log-a");
    let (origin, vkey) = {
        let (_a, url) = log_server(t, &data_a, port_a, &url_a, None);
        assert_eq!(url, url_a);
        let (_, _, out) = sign(t, &url_a, "first.txt", "first artifact");
        assert!(out.status.success(), "{}", text(&out));
        let cp = get(&format!("{url_a}/checkpoint"));
        let vkey = get(&format!("{url_a}/signet/v1/log_vkey"));
        (
            cp.lines().next().unwrap().to_owned(),
            vkey.trim().to_owned(),
        )
    };
    let trusted_root = t.join("trusted_root.json");
    std::fs::copy(data_a.join("trusted_root.json"), &trusted_root).unwrap();

    // The fork's base: a copy of A's store (same tree id, same keys), taken while A is down.
    let data_b = t.join("log-b");
    copy_dir(&data_a, &data_b);

    // A witness that knows A's origin and note key.
    let wkey = t.join("witness.key");
    let gen = run(signet()
        .args(["witness", "--generate-key"])
        .arg(&wkey)
        .args(["--name", "witness.test/w1"]));
    assert!(gen.status.success(), "{}", text(&gen));
    let witness_vkey = String::from_utf8(gen.stdout).unwrap().trim().to_owned();
    let wport = free_port();
    let wcfg = t.join("witness.toml");
    std::fs::write(
        &wcfg,
        format!(
            "listen = \"127.0.0.1:{wport}\"\nname = \"witness.test/w1\"\nkey = {:?}\nstate_dir = {:?}\n\n[[log]]\norigin = \"{origin}\"\nvkey = \"{vkey}\"\n",
            wkey.display().to_string(),
            t.join("witness-state").display().to_string()
        ),
    )
    .unwrap();
    let (_witness, witness_url) = start(
        &["witness", "--config", wcfg.to_str().unwrap()],
        "signet witness listening on ",
    );
    let policy = t.join("witnesses.policy");
    std::fs::write(
        &policy,
        format!("witness w1 {witness_vkey} {witness_url}\nquorum 1\n"),
    )
    .unwrap();

    // A with the witness: its bundles carry a cosigned checkpoint.
    let (a, _) = log_server(t, &data_a, port_a, &url_a, Some(&policy));
    let (file_a, bundle_a, out) = sign(t, &url_a, "second.txt", "second artifact");
    assert!(out.status.success(), "{}", text(&out));
    let cp_a = get(&format!("{url_a}/checkpoint"));
    assert!(cp_a.contains("— witness.test/w1 "), "{cp_a}");
    let ok = verify(t, &trusted_root, &file_a, &bundle_a, Some(&policy));
    assert!(ok.status.success(), "{}", text(&ok));

    // The monitor follows A.
    let state = t.join("monitor.json");
    let mon = |url: &str| {
        run(signet()
            .args(["monitor", "--log", url, "--once", "--trusted-root"])
            .arg(&trusted_root)
            .arg("--state")
            .arg(&state))
    };
    let m = mon(&url_a);
    assert_eq!(m.status.code(), Some(0), "{}", text(&m));
    // A monitor that requires the witness quorum accepts A's checkpoints.
    let mon_witnessed = |url: &str, state: &Path| {
        run(signet()
            .args(["monitor", "--log", url, "--once", "--trusted-root"])
            .arg(&trusted_root)
            .arg("--state")
            .arg(state)
            .arg("--witness-policy")
            .arg(&policy))
    };
    let m = mon_witnessed(&url_a, &t.join("monitor-w-a.json"));
    assert_eq!(m.status.code(), Some(0), "{}", text(&m));
    drop(a);

    // Fork B: same origin and keys, grown with other entries, no witness.
    let port_b = free_port();
    // (`serve` announces its public URL, which is A's: B is reached on its own port.)
    let url_b = format!("http://127.0.0.1:{port_b}");
    let (b, _) = log_server(t, &data_b, port_b, &url_a, None);
    let mut fork_bundles = Vec::new();
    for (name, content) in [("evil1.txt", "forked one"), ("evil2.txt", "forked two")] {
        let (f, bdl, out) = sign(t, &url_b, name, content);
        assert!(out.status.success(), "{}", text(&out));
        fork_bundles.push((f, bdl));
    }
    let cp_b = get(&format!("{url_b}/checkpoint"));
    assert_eq!(cp_b.lines().next().unwrap(), origin, "same origin");
    let (size_a, size_b) = (checkpoint_size(&cp_a), checkpoint_size(&cp_b));
    assert!(
        size_b > size_a,
        "fork {size_b} should be larger than {size_a}"
    );

    // A plain verifier accepts the fork's bundle; one with the witness policy does not.
    let (f, bdl) = &fork_bundles[1];
    let plain = verify(t, &trusted_root, f, bdl, None);
    assert!(plain.status.success(), "{}", text(&plain));
    let strict = verify(t, &trusted_root, f, bdl, Some(&policy));
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict));
    let report = String::from_utf8_lossy(&strict.stdout).to_string();
    assert!(report.contains("witness"), "{report}");

    // The witness refuses B's checkpoint with B's own consistency proof (422).
    let proof: serde_json::Value = serde_json::from_str(&get(&format!(
        "{url_b}/api/v1/log/proof?firstSize={size_a}&lastSize={size_b}"
    )))
    .unwrap();
    let mut body = format!("old {size_a}\n");
    for h in proof["hashes"].as_array().unwrap() {
        let raw = hex::decode(h.as_str().unwrap()).unwrap();
        body.push_str(&base64_encode(&raw));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(&cp_b);
    let r = reqwest::blocking::Client::new()
        .post(format!("{witness_url}/add-checkpoint"))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 422, "{}", r.text().unwrap_or_default());

    // The monitor, shown the fork after A, alerts and exits with the integrity code.
    let m = mon(&url_b);
    assert_eq!(m.status.code(), Some(3), "{}", text(&m));
    let alerts = String::from_utf8_lossy(&m.stdout).to_string();
    let first: serde_json::Value = serde_json::from_str(alerts.lines().next().unwrap()).unwrap();
    assert_eq!(first["severity"], "critical", "{alerts}");
    // Even on a first run (nothing to compare with), the witness policy exposes the fork.
    let m = mon_witnessed(&url_b, &t.join("monitor-w-b.json"));
    assert_eq!(m.status.code(), Some(3), "{}", text(&m));
    let alerts = String::from_utf8_lossy(&m.stdout).to_string();
    assert!(alerts.contains("\"witness_quorum\""), "{alerts}");
    drop(b);

    // B configured with the witness cannot publish its fork: signing against it fails.
    let (_b, _) = log_server(t, &data_b, port_b, &url_a, Some(&policy));
    let (_, _, out) = sign(t, &url_b, "evil3.txt", "forked three");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("503"),
        "{}",
        text(&out)
    );
    // Nor does it serve its uncosigned checkpoint instead: no checkpoint of B was ever
    // cosigned, so none is served (issue 15 D).
    let r = reqwest::blocking::get(format!("{url_b}/checkpoint")).unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let body = r.text().unwrap();
    assert!(body.contains("witness quorum"), "{body}");
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
