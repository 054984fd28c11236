//! The distributed topology's compose deployment (docs/distributed.md, Deploying, Compose),
//! built and run for real with podman: the four bash blocks of that section run as written
//! (site, images, etcd and Garage, Garage's one-shot setup, the log's members, the proxy and
//! the CA; signing and verifying; who sequences; teardown), so the document cannot drift from
//! what works. 3 etcd members, 3 Garage nodes, 2 sequencer candidates, 2 readers, nginx in
//! front of the log and the CA, on a podman network, with the proxy's, the CA's and each
//! reader's port published on 127.0.0.1 (free ports picked here).
//!
//! From the host, `signet sign-blob` signs through the proxy with the trust files the CA
//! publishes, and the bundle verifies; both readers serve the entry (the bytes the bundle
//! carries) and a checkpoint that contains it. Then the sequencing candidate's container is
//! SIGKILLed (`podman kill`): the other candidate takes the lease, a new signature lands after
//! the first one through the same proxy, and the old bundle still verifies.
//!
//! Images: `deploy/Dockerfile` (`prebuilt`, with this test's `signet`) and
//! `deploy/distributed/Dockerfile` (etcd and nginx from Debian's packages, Garage from the
//! binary `./x` builds, `$SIGNET_GARAGE` or /var/cache/signet/garage/bin/garage), on the Debian
//! 12 base made by mmdebstrap (cached in the build cache). Everything it creates (containers,
//! volumes, networks, images, temporary files) is removed at the end, pass or fail, and nothing
//! else is touched (a compose project name of its own). A missing tool fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use support::free_port;
use support::podman::{
    assert_blocks_hold, bash_blocks, bundle_index, checkpoint, entry, get_json, ok, podman,
    require, root, Deployment, Setup,
};

const IDENTITY: &str = "deployer@signet.example";

/// Polls `f` every 500 ms until it gives `Some`, for at most `timeout`.
fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            t0.elapsed() < timeout,
            "timed out after {timeout:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The checkpoint's size at `url`, if it answers.
fn size_at(url: &str) -> Option<u64> {
    let r = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(format!("{url}/checkpoint"))
        .send()
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.text().ok()?.lines().nth(1)?.parse().ok()
}

/// The entry body (base64) a bundle carries.
fn bundle_body(path: &Path) -> String {
    let b: Value = signet_proto::json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    b["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn distributed_compose_signs_verifies_and_fails_over() {
    let started = Instant::now();
    require(&[
        ("podman", "apt-get install podman runc"),
        ("mmdebstrap", "apt-get install mmdebstrap"),
        ("podman-compose", "pip install podman-compose"),
        ("openssl", "apt-get install openssl"),
        ("curl", "apt-get install curl"),
        ("python3", "apt-get install python3"),
        ("node", "apt-get install nodejs npm"),
    ]);
    let garage = support::garage_bin();
    let blocks = bash_blocks("docs/distributed.md", "### Compose");
    assert_eq!(
        blocks.len(),
        4,
        "docs/distributed.md, Deploying/Compose: expected 4 bash blocks (up, clients, leader, teardown)"
    );
    let [up, clients, leader, teardown] =
        [&blocks[0], &blocks[1], &blocks[2], &blocks[3]].map(String::as_str);
    assert_blocks_hold(
        "docs/distributed.md",
        &[
            (up, "deploy/distributed/site.sh"),
            (up, "run --rm garage-init"),
            (up, "--target prebuilt"),
            (clients, "signet sign-blob"),
            (clients, "signet verify-blob"),
            (leader, "/signet/leader"),
            (teardown, "down -v"),
        ],
    );

    let (log_port, ca_port, r1_port, r2_port) =
        (free_port(), free_port(), free_port(), free_port());
    let mut setup = Setup::new(
        "distributed",
        format!("signet-dist-test-{}", std::process::id()),
        IDENTITY,
        log_port,
        ca_port,
    );
    let project = setup.project.clone();
    setup.env.extend(
        [
            (
                "SIGNET_ETCD_IMAGE",
                format!("localhost/{project}-etcd:latest"),
            ),
            (
                "SIGNET_GARAGE_IMAGE",
                format!("localhost/{project}-garage:latest"),
            ),
            (
                "SIGNET_PROXY_IMAGE",
                format!("localhost/{project}-proxy:latest"),
            ),
            ("SIGNET_GARAGE", garage.display().to_string()),
            ("SIGNET_READER1_PORT", r1_port.to_string()),
            ("SIGNET_READER2_PORT", r2_port.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let (d, oidc) = setup.deployment(
        teardown,
        &[
            "etcd0", "etcd1", "etcd2", "garage0", "garage1", "garage2", "seq-a", "seq-b",
            "reader-1", "reader-2", "log", "ca",
        ],
        "distributed",
    );
    let log_url = d.var("SIGNET_LOG_URL").to_owned();
    let ca_url = d.var("SIGNET_CA_URL").to_owned();
    let readers = [
        format!("http://127.0.0.1:{r1_port}"),
        format!("http://127.0.0.1:{r2_port}"),
    ];

    // 1. Up: site, images, etcd and Garage, Garage's setup, members, proxy, CA.
    d.run_block(up, &root(), "block 1 (site, images, compose up)");
    let (origin, _, _, note) = checkpoint(&log_url);
    assert!(
        origin.starts_with(&format!("127.0.0.1:{log_port} - ")),
        "{note}"
    );
    let ca_trust = get_json(&format!("{ca_url}/signet/v1/trust_config.json"));
    assert_eq!(
        ca_trust["trustedRoot"]["tlogs"][0]["baseUrl"], log_url,
        "{ca_trust}"
    );

    // 2. Sign through the proxy, verify.
    let client = d.work.path().join("client");
    std::fs::create_dir_all(&client).unwrap();
    std::fs::write(
        client.join("notes.txt"),
        "signed into the distributed log\n",
    )
    .unwrap();
    d.run_block(clients, &client, "block 2 (sign and verify)");
    let first = bundle_index(&client.join("notes.sigstore.json"));
    let first_body = bundle_body(&client.join("notes.sigstore.json"));

    // Both readers serve the entry, with the bytes the bundle carries, and a checkpoint of the
    // same log that contains it.
    // (The proxy spreads reads over both readers, which may lag each other by one poll of
    // the applied head: every reader is waited for before the proxy is read.)
    for r in &readers {
        wait_for(
            &format!("{r} serves a checkpoint past entry {first}"),
            Duration::from_secs(20),
            || size_at(r).filter(|s| *s > first),
        );
    }
    for r in &readers {
        let (o, _, _, _) = checkpoint(r);
        assert_eq!(o, origin, "{r} serves another log");
        let e = entry(r, first);
        assert_eq!(e["body"].as_str(), Some(first_body.as_str()), "{r}: {e}");
        assert_eq!(e, entry(&log_url, first), "{r} and the proxy differ");
    }

    // 3. Who sequences; SIGKILL its container; the other candidate takes over.
    let who = |d: &Deployment| -> Option<String> {
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", leader])
            .current_dir(root())
            .envs(d.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .ok()?;
        let v = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())?
            .to_owned();
        (out.status.success() && (v == "seq-a" || v == "seq-b")).then_some(v)
    };
    let old_leader = wait_for("a sequencer in etcd", Duration::from_secs(30), || who(&d));
    let other = if old_leader == "seq-a" {
        "seq-b"
    } else {
        "seq-a"
    };
    let (_, size_before, _, _) = checkpoint(&log_url);
    let t = Instant::now();
    ok(
        podman(&d.conf).args(["kill", "-s", "KILL", &d.container(&old_leader)]),
        "podman kill of the sequencer",
    );
    wait_for(
        &format!("{other} takes the lease from {old_leader}"),
        Duration::from_secs(60),
        || who(&d).filter(|l| l == other),
    );
    eprintln!(
        "[distributed] {other} took over from {old_leader} in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // A new signature through the same proxy lands after the first; both verify.
    std::fs::write(client.join("after.txt"), "signed after the failover\n").unwrap();
    let signet = || Command::new(env!("CARGO_BIN_EXE_signet"));
    // The new sequencer answers once it has replayed the last batch: a few tries at most.
    wait_for(
        "a signature after the failover",
        Duration::from_secs(60),
        || {
            signet()
                .arg("sign-blob")
                .arg(client.join("after.txt"))
                .arg("--signing-config")
                .arg(client.join("signing_config.json"))
                .args(["--identity-token", d.var("SIGNET_ID_TOKEN")])
                .arg("--bundle")
                .arg(client.join("after.sigstore.json"))
                .status()
                .unwrap()
                .success()
                .then_some(())
        },
    );
    let verify = |artifact: &str, bundle: &str| {
        ok(
            signet()
                .arg("verify-blob")
                .arg(client.join(artifact))
                .arg("--bundle")
                .arg(client.join(bundle))
                .arg("--trusted-root")
                .arg(client.join("trusted_root.json"))
                .args(["--certificate-identity", IDENTITY])
                .args(["--certificate-oidc-issuer", &oidc.url]),
            &format!("signet verify-blob {bundle}"),
        )
    };
    verify("notes.txt", "notes.sigstore.json");
    verify("after.txt", "after.sigstore.json");
    let second = bundle_index(&client.join("after.sigstore.json"));
    assert!(
        second > first && second >= size_before,
        "{second} after {first} (size {size_before})"
    );
    // The entry of the first signature is unchanged, the tree grew consistently, and both
    // readers follow the new sequencer.
    let second_body = bundle_body(&client.join("after.sigstore.json"));
    assert_ne!(
        base64::engine::general_purpose::STANDARD
            .decode(&second_body)
            .unwrap(),
        base64::engine::general_purpose::STANDARD
            .decode(&first_body)
            .unwrap()
    );
    for r in &readers {
        wait_for(
            &format!("{r} serves entry {second}"),
            Duration::from_secs(20),
            || size_at(r).filter(|s| *s > second),
        );
    }
    for r in &readers {
        assert_eq!(
            entry(r, second)["body"].as_str(),
            Some(second_body.as_str()),
            "{r}"
        );
        assert_eq!(
            entry(r, first)["body"].as_str(),
            Some(first_body.as_str()),
            "{r}"
        );
    }
    assert_eq!(
        entry(&log_url, first)["body"].as_str(),
        Some(first_body.as_str())
    );

    // The tree grew consistently: a consistency proof from before the failover, asked of
    // one reader at its own size (the proxy spreads reads over readers that may lag each
    // other by one poll).
    let (_, size_after, _, _) = checkpoint(&readers[0]);
    let proof = get_json(&format!(
        "{}/api/v1/log/proof?firstSize={size_before}&lastSize={size_after}",
        readers[0]
    ));
    assert!(
        proof["hashes"].is_array(),
        "no consistency proof from {size_before} to {size_after}: {proof}"
    );

    // 4. Teardown (the document's block, then whatever is left of this project).
    drop(d);
    drop(oidc);
    eprintln!(
        "[distributed] whole test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
