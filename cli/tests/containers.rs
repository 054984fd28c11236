//! The deployment of README.md (Deploying, Containers), built and run for real with podman:
//! the four bash blocks of that section run as written, so the README cannot drift from what
//! works. The image is `deploy/Dockerfile`'s `prebuilt` target filled with the `signet` binary
//! this test was built with; `deploy/compose.yaml` runs the log, the CA and a witness on a
//! podman network, with their ports published on 127.0.0.1 (free ports picked here).
//!
//! From the host, `signet sign-blob` and sigstore-python `sign` sign against the published
//! ports with the trust files the deployment publishes, and both verify. Then the log container
//! restarts: the same keys, the same origin, every entry retrievable as before, a tree that
//! only grew, old bundles still verifying and a new signature appended after them.
//!
//! No image registry is needed: the Debian 12 base is a root file system made by
//! `mmdebstrap` (cached in the build cache, `$CARGO_TARGET_DIR/tmp/podman/`) and imported under the name the
//! Dockerfile's `FROM` uses. The sandbox needs three podman settings (runc, cgroupfs, lower
//! ulimits), given through a `CONTAINERS_CONF` file this test writes.
//!
//! Everything it creates (containers, volumes, networks, images, temporary files) is removed
//! at the end, pass or fail; nothing else is touched (a compose project name of its own, and
//! only images that did not exist before it started are removed). A missing tool (podman,
//! podman-compose, mmdebstrap, sigstore-python, node's oauth2-mock-server) fails the test.
//! Measured on 2 cores: 45 to 55 s with the base image cached (mmdebstrap adds about 100 s
//! the first time).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::Instant;

use serde_json::Value;
use support::free_port;
use support::podman::{
    assert_blocks_hold, bash_blocks, bundle_index, checkpoint, entry, get, get_json, ok, require,
    root, Setup,
};

const IDENTITY: &str = "deployer@signet.example";

/// What must survive a restart: the note key, the trusted root's log and CT keys.
fn log_keys(log_url: &str) -> (String, Value, Value) {
    let vkey = get(&format!("{log_url}/signet/v1/log_vkey"))
        .text()
        .unwrap();
    let root = get_json(&format!("{log_url}/signet/v1/trusted_root.json"));
    let keys = |k: &str| -> Value {
        root[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["publicKey"]["rawBytes"].clone())
            .collect()
    };
    (vkey.trim().to_owned(), keys("tlogs"), keys("ctlogs"))
}

#[test]
fn compose_deployment_signs_verifies_and_survives_a_log_restart() {
    let started = Instant::now();
    require(&[
        ("podman", "apt-get install podman runc"),
        ("mmdebstrap", "apt-get install mmdebstrap"),
        ("podman-compose", "pip install podman-compose"),
        ("sigstore", "pip install sigstore"),
        ("openssl", "apt-get install openssl"),
        ("curl", "apt-get install curl"),
        ("node", "apt-get install nodejs npm"),
    ]);
    let blocks = bash_blocks("README.md", "### Containers");
    assert_eq!(
        blocks.len(),
        4,
        "README.md, Deploying/Containers: expected 4 bash blocks (up, clients, restart, teardown)"
    );
    let [up, clients, restart, teardown] =
        [&blocks[0], &blocks[1], &blocks[2], &blocks[3]].map(String::as_str);
    assert_blocks_hold(
        "README.md",
        &[
            (up, "podman-compose -f deploy/compose.yaml up -d"),
            (up, "--target prebuilt"),
            (clients, "signet sign-blob"),
            (clients, "sigstore --trust-config trust_config.json sign"),
            (restart, "restart log"),
            (teardown, "down -v"),
        ],
    );

    let (log_port, ca_port) = (free_port(), free_port());
    let setup = Setup::new(
        "containers",
        format!("signet-test-{}", std::process::id()),
        IDENTITY,
        log_port,
        ca_port,
    );
    let (d, oidc) = setup.deployment(teardown, &["log", "witness", "ca"], "containers");
    let log_url = d.var("SIGNET_LOG_URL").to_owned();
    let ca_url = d.var("SIGNET_CA_URL").to_owned();

    // 1. Up: CA key, configs, witness, image, log, witness policy, everything.
    d.run_block(up, &root(), "README block 1 (site, image, compose up)");
    let (origin, _, _, note) = checkpoint(&log_url);
    // The origin is the public URL's host and port, then the log's ID.
    assert!(
        origin.starts_with(&format!("127.0.0.1:{log_port} - ")),
        "{note}"
    );
    assert!(
        note.contains("— witness.signet.example/w1 "),
        "the published checkpoint lacks the witness's cosignature:\n{note}"
    );
    // The trust files name only what the host reaches.
    let ca_trust = get_json(&format!("{ca_url}/signet/v1/trust_config.json"));
    assert_eq!(
        ca_trust["signingConfig"]["caUrls"][0]["url"], ca_url,
        "{ca_trust}"
    );
    assert_eq!(
        ca_trust["trustedRoot"]["tlogs"][0]["baseUrl"], log_url,
        "{ca_trust}"
    );

    // 2. Clients: signet and sigstore-python sign and verify against the published ports.
    let client = d.work.path().join("client");
    std::fs::create_dir_all(&client).unwrap();
    std::fs::write(
        client.join("notes.txt"),
        "release notes, signed by signet\n",
    )
    .unwrap();
    std::fs::write(
        client.join("release.txt"),
        "a release, signed by sigstore-python\n",
    )
    .unwrap();
    d.run_block(clients, &client, "README block 2 (sign and verify)");
    let signing: Value =
        signet_proto::json::from_slice(&std::fs::read(client.join("signing_config.json")).unwrap())
            .unwrap();
    assert_eq!(signing["rekorTlogUrls"][0]["url"], log_url.as_str());
    let indexes = [
        bundle_index(&client.join("notes.sigstore.json")),
        bundle_index(&client.join("release.sigstore.json")),
    ];
    assert_ne!(indexes[0], indexes[1]);

    // What must survive the restart.
    let keys_before = log_keys(&log_url);
    let (_, size_before, _, _) = checkpoint(&log_url);
    assert!(size_before > indexes[0].max(indexes[1]), "{size_before}");
    let entries_before: Vec<Value> = (0..size_before).map(|i| entry(&log_url, i)).collect();

    // 3. The log restarts.
    d.run_block(restart, &root(), "README block 3 (restart the log)");
    assert_eq!(log_keys(&log_url), keys_before, "the log's keys changed");
    let (origin_after, size_after, _, note) = checkpoint(&log_url);
    assert_eq!(origin_after, origin);
    assert!(
        size_after >= size_before,
        "the tree shrank: {size_before} -> {size_after}"
    );
    assert!(note.contains("— witness.signet.example/w1 "), "{note}");
    for (i, before) in entries_before.iter().enumerate() {
        assert_eq!(
            &entry(&log_url, i as u64),
            before,
            "entry {i} changed across the restart"
        );
    }
    // Old bundles still verify; a new signature lands after every old entry.
    let verify = |artifact: &str, bundle: &str| {
        ok(
            Command::new(env!("CARGO_BIN_EXE_signet"))
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
    verify("release.txt", "release.sigstore.json");
    std::fs::write(client.join("after.txt"), "signed after the restart\n").unwrap();
    ok(
        Command::new(env!("CARGO_BIN_EXE_signet"))
            .arg("sign-blob")
            .arg(client.join("after.txt"))
            .arg("--signing-config")
            .arg(client.join("signing_config.json"))
            .args(["--identity-token", d.var("SIGNET_ID_TOKEN")])
            .arg("--bundle")
            .arg(client.join("after.sigstore.json")),
        "signet sign-blob after the restart",
    );
    verify("after.txt", "after.sigstore.json");
    let after_index = bundle_index(&client.join("after.sigstore.json"));
    assert!(after_index >= size_before, "{after_index} < {size_before}");
    let (_, size_final, _, _) = checkpoint(&log_url);
    assert!(size_final > after_index, "{size_final} <= {after_index}");
    let proof = get_json(&format!(
        "{log_url}/api/v1/log/proof?firstSize={size_before}&lastSize={size_final}"
    ));
    assert!(
        proof["hashes"].is_array(),
        "no consistency proof from {size_before} to {size_final}: {proof}"
    );

    // 4. Teardown (the README's block, then whatever is left of this project).
    drop(d);
    drop(oidc);
    eprintln!(
        "[containers] whole test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
