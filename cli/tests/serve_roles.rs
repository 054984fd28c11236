//! `signet serve --only log` and `--only ca` as separate processes, the way compose.yaml and
//! the Kubernetes manifests deploy them: a CA created by `signet ca-init` with its key in an
//! encrypted file, the CA reaching the log over HTTP (RFC 6962 `add-pre-chain` for its SCTs),
//! and a keyless signature made against the pair and verified offline.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use serde_json::Value;
use support::{free_port, run, signet, spawn_until, text, Oidc, Spawned};

/// Starts `signet serve --config CFG` and returns it with its URL.
fn serve(cfg: &Path) -> (Spawned, String) {
    let s = spawn_until(
        signet().arg("serve").arg("--config").arg(cfg),
        "signet listening on ",
    );
    let url = s.url.clone();
    (s, url)
}

#[test]
fn log_and_ca_as_separate_services() {
    let oidc = Oidc::start(&support::oidc_js_dir());
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();

    // The CA, created offline; its keys are encrypted with the password file.
    std::fs::write(t.join("pw"), "correct horse battery staple\n").unwrap();
    let out = run(signet()
        .args(["ca-init", "--curve", "p256", "--dir"])
        .arg(t.join("ca"))
        .arg("--password-file")
        .arg(t.join("pw")));
    assert!(out.status.success(), "{}", text(&out));
    let again = run(signet()
        .args(["ca-init", "--dir"])
        .arg(t.join("ca"))
        .arg("--password-file")
        .arg(t.join("pw")));
    assert!(!again.status.success(), "ca-init overwrote an existing CA");

    // The log, accepting precertificates from that CA.
    let log_port = free_port();
    let log_cfg = t.join("log.toml");
    std::fs::write(
        &log_cfg,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:{log_port}\"\nonly = \"log\"\n\n[log]\nct_roots = [{:?}]\n",
            t.join("log-data").display().to_string(),
            t.join("ca/root.pem").display().to_string()
        ),
    )
    .unwrap();
    // Its public URL (`--public-url`) is not the address the CA reaches it at (`ca.log_url`):
    // the same port spelled `localhost`, which needs the override for an internal host.
    let log_public = format!("http://localhost:{log_port}");
    let log_internal = format!("http://127.0.0.1:{log_port}");
    let _log = spawn_until(
        signet().arg("serve").arg("--config").arg(&log_cfg).args([
            "--public-url",
            &log_public,
            "--allow-internal-public-url",
        ]),
        "signet listening on ",
    );
    assert_eq!(_log.url, log_public);
    let log_url = log_public.clone();
    let log_root: Value = signet_proto::json::from_slice(
        &std::fs::read(t.join("log-data/trusted_root.json")).unwrap(),
    )
    .unwrap();
    // The Rekor v1 and v2 logs (docs/REKOR_V2.md); the CA alone lists both too.
    assert_eq!(log_root["tlogs"].as_array().unwrap().len(), 2);
    assert!(log_root["certificateAuthorities"]
        .as_array()
        .unwrap()
        .is_empty());

    // The CA, with its key from the encrypted file, reaching the log over HTTP.
    let ca_cfg = t.join("ca.toml");
    std::fs::write(
        &ca_cfg,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:{}\"\nonly = \"ca\"\n\n[ca]\nlog_url = \"{log_internal}\"\n\n\
             [ca.key]\ntype = \"file\"\nkey = {:?}\nchain = {:?}\npassword_file = {:?}\n\n\
             [[ca.issuers]]\nurl = \"{}\"\ntype = \"email\"\n",
            t.join("ca-data").display().to_string(),
            free_port(),
            t.join("ca/intermediate.key.enc.pem").display().to_string(),
            t.join("ca/chain.pem").display().to_string(),
            t.join("pw").display().to_string(),
            oidc.url
        ),
    )
    .unwrap();
    let (_ca, ca_url) = serve(&ca_cfg);
    let root_path = t.join("ca-data/trusted_root.json");
    let root: Value = signet_proto::json::from_slice(&std::fs::read(&root_path).unwrap()).unwrap();
    assert_eq!(
        root["tlogs"], log_root["tlogs"],
        "the CA serves the log's keys"
    );
    assert_eq!(root["ctlogs"], log_root["ctlogs"]);
    // The signing config the CA publishes names the log's public URL, never ca.log_url.
    let signing: Value = signet_proto::json::from_slice(
        &std::fs::read(t.join("ca-data/signing_config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(signing["rekorTlogUrls"][0]["url"], log_public, "{signing}");
    assert!(!signing.to_string().contains(&log_internal), "{signing}");
    let served: Value = reqwest_get(&format!("{ca_url}/signet/v1/trust_config.json"));
    assert_eq!(
        served["signingConfig"]["rekorTlogUrls"][0]["url"], log_public,
        "{served}"
    );
    assert_eq!(
        root["certificateAuthorities"][0]["certChain"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let health = run(signet().arg("probe").arg(format!("{ca_url}/readyz")));
    assert!(health.status.success(), "{}", text(&health));
    // Errors are JSON on either service: an unknown path, a method an endpoint does not
    // serve. Fulcio's API answers in its grpc-gateway shape (gRPC code 12, Unimplemented,
    // for a method it does not serve), the rest with the HTTP status as code.
    for (url, method, code) in [
        (format!("{ca_url}/api/v1/log"), "GET", 404),
        (format!("{ca_url}/no/such/path"), "GET", 404),
        (format!("{log_url}/no/such/path"), "GET", 404),
        (format!("{ca_url}/api/v2/signingCert"), "GET", 12),
        (format!("{log_url}/api/v1/log/entries"), "PUT", 405),
        (
            format!("{log_url}/signet/v1/trusted_root.json"),
            "POST",
            405,
        ),
        (
            format!("{ca_url}/signet/v1/signing_config.json"),
            "DELETE",
            405,
        ),
    ] {
        let resp = reqwest::blocking::Client::new()
            .request(method.parse().unwrap(), &url)
            .send()
            .unwrap();
        let status = resp.status().as_u16();
        assert!(status == 404 || status == 405, "{method} {url}: {status}");
        let v: Value = resp
            .json()
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        assert_eq!(v["code"], code, "{method} {url}: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }

    // Keyless signing against the pair: the CA's SCT comes from the log's add-pre-chain.
    let size_before: Value = reqwest_get(&format!("{log_url}/api/v1/log"));
    let file = t.join("artifact.txt");
    std::fs::write(&file, "signed across two services\n").unwrap();
    let token = oidc.token("split@example.com");
    let out = run(signet()
        .arg("sign-blob")
        .arg("--signing-config")
        .arg(t.join("ca-data/signing_config.json"))
        .args(["--identity-token", &token])
        .arg("--bundle")
        .arg(t.join("artifact.sigstore.json"))
        .arg(&file));
    assert!(out.status.success(), "sign-blob failed: {}", text(&out));
    let out = run(signet()
        .arg("verify-blob")
        .arg(&file)
        .arg("--bundle")
        .arg(t.join("artifact.sigstore.json"))
        .arg("--trusted-root")
        .arg(&root_path)
        .args(["--certificate-identity", "split@example.com"])
        .args(["--certificate-oidc-issuer", &oidc.url]));
    assert!(out.status.success(), "verify-blob failed: {}", text(&out));
    // Two new leaves: the precertificate (recorded by add-pre-chain) and the signature.
    let size_after: Value = reqwest_get(&format!("{log_url}/api/v1/log"));
    assert_eq!(
        size_after["treeSize"].as_u64().unwrap(),
        size_before["treeSize"].as_u64().unwrap() + 2
    );
    // Each service's GET /metrics answers its own series: the CA counts the certificate.
    let scrape = |url: String| {
        let text = reqwest::blocking::get(url).unwrap().text().unwrap();
        support::metrics::parse_metrics(&text)
    };
    let ca_metrics = scrape(format!("{ca_url}/metrics"));
    let issued = [("issuer", oidc.url.as_str())];
    assert_eq!(
        support::metrics::metric(&ca_metrics, "signet_ca_certificates_issued_total", &issued),
        1.0
    );
    assert!(ca_metrics.iter().any(|s| s.name == "signet_build_info"));
    assert!(!ca_metrics.iter().any(|s| s.name.starts_with("signet_log_")));
    let log_metrics = scrape(format!("{log_url}/metrics"));
    assert!(log_metrics.iter().any(|s| s.name == "signet_log_tree_size"));
    assert!(!log_metrics.iter().any(|s| s.name.starts_with("signet_ca_")));
}

fn reqwest_get(url: &str) -> Value {
    reqwest::blocking::get(url).unwrap().json().unwrap()
}
