//! Shared test harness: a real OIDC provider (npm oauth2-mock-server via tests/js/oidc.mjs),
//! CA construction helpers and request helpers.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use base64::Engine as _;
use signet_ca::config::{CaConfig, IssuerConfig, IssuerType};
use signet_ca::init::{build_ca_certificates, random_serial, InitOptions};
use signet_ca::sct_source::LocalSctSource;
use signet_ca::service::CaService;
use signet_ca::signer::{CaCurve, CaSigner, FileSigner};
use signet_ca::{Clock, SystemClock};
use signet_proto::keys::{EcdsaCurve, EcdsaSigner};
use tower::ServiceExt as _;

pub fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// Installs the node helper's dependencies (pinned by package-lock.json) if missing.
pub fn ensure_node_modules() {
    let dir = js_dir();
    if dir.join("node_modules/oauth2-mock-server").exists() {
        return;
    }
    let st = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm is required to run the OIDC tests (apt-get install nodejs npm)");
    assert!(st.success(), "npm ci failed in {}", dir.display());
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running oauth2-mock-server. Killed on drop.
pub struct MockOidc {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    pub url: String,
    pub first_kid: String,
}

impl MockOidc {
    pub fn start(alg: &str) -> Self {
        ensure_node_modules();
        let port = free_port();
        let mut child = Command::new("node")
            .arg(js_dir().join("oidc.mjs"))
            .arg(port.to_string())
            .arg(alg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node is required to run the OIDC tests");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let ready = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("mock OIDC server did not start");
        let mut it = ready.split_whitespace();
        assert_eq!(it.next(), Some("READY"), "unexpected line {ready}");
        let url = it.next().unwrap().to_owned();
        let first_kid = it.next().unwrap().to_owned();
        Self {
            child,
            stdin,
            lines: rx,
            url,
            first_kid,
        }
    }

    /// Adds a new signing key (the mock then signs round-robin). Returns its kid.
    pub fn rotate(&mut self, alg: &str) -> String {
        writeln!(self.stdin, "rotate {alg}").unwrap();
        self.stdin.flush().unwrap();
        let line = self.lines.recv_timeout(Duration::from_secs(30)).unwrap();
        line.strip_prefix("ROTATED ").unwrap().to_owned()
    }

    /// Mints tokens until one is signed with key `kid` (the mock signs round-robin after
    /// [`Self::rotate`]); panics after four tries.
    pub async fn token_signed_with(&self, kid: &str, fields: &[(&str, &str)]) -> String {
        for _ in 0..4 {
            let t = self.token(fields).await;
            if jwt_header(&t)["kid"] == kid {
                return t;
            }
        }
        panic!("the mock never signed with key {kid}");
    }

    /// Mints a token via POST /token with the given form fields.
    pub async fn token(&self, fields: &[(&str, &str)]) -> String {
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        form.extend_from_slice(fields);
        let resp = reqwest::Client::new()
            .post(format!("{}/token", self.url))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "token endpoint: {}",
            resp.status()
        );
        let v: serde_json::Value =
            signet_proto::json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    }
}

impl Drop for MockOidc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn jwt_header(token: &str) -> serde_json::Value {
    let h = token.split('.').next().unwrap();
    signet_proto::json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
}

pub fn issuer(url: &str, t: IssuerType) -> IssuerConfig {
    IssuerConfig {
        url: url.to_owned(),
        audience: "sigstore".to_owned(),
        issuer_type: t,
        subject_domain: None,
        server_url: None,
        jwks_file: None,
        ca_file: None,
    }
}

/// A CA with file keys (or the given intermediate signer) and an in-process CT signer.
pub struct TestCa {
    pub service: Arc<CaService>,
    pub root_der: Vec<u8>,
    pub intermediate_der: Vec<u8>,
    pub ct_key: EcdsaSigner,
}

pub fn now_secs() -> i64 {
    i64::try_from(SystemClock.now_millis() / 1000).unwrap()
}

pub fn build_ca(config: CaConfig, intermediate: Option<Arc<dyn CaSigner>>) -> TestCa {
    let opts = InitOptions::new(CaCurve::P384, "signet-test", "signet", now_secs() - 86400);
    build_ca_with(config, intermediate, &opts)
}

/// [`build_ca`] with the chain's validity given by `opts`.
pub fn build_ca_with(
    config: CaConfig,
    intermediate: Option<Arc<dyn CaSigner>>,
    opts: &InitOptions,
) -> TestCa {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let root: Arc<dyn CaSigner> = Arc::new(FileSigner::generate(CaCurve::P384).unwrap());
    let inter: Arc<dyn CaSigner> =
        intermediate.unwrap_or_else(|| Arc::new(FileSigner::generate(CaCurve::P256).unwrap()));
    let certs = build_ca_certificates(
        opts,
        root,
        inter.clone(),
        (&random_serial(&rng).unwrap(), &random_serial(&rng).unwrap()),
    )
    .unwrap();
    let ct_key = EcdsaSigner::generate(EcdsaCurve::P256, &rng).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sct = Arc::new(LocalSctSource::new(ct_key.clone(), clock.clone()));
    let service = CaService::new(
        config,
        inter,
        vec![certs.intermediate_der.clone(), certs.root_der.clone()],
        sct,
        Some(ct_key.public_key().clone()),
        clock,
    )
    .unwrap();
    TestCa {
        service: Arc::new(service),
        root_der: certs.root_der,
        intermediate_der: certs.intermediate_der,
        ct_key,
    }
}

/// A client key and the request body for `token`, proving possession over `challenge`.
pub fn key_request(token: &str, key: &EcdsaSigner, challenge: &str) -> serde_json::Value {
    let proof = key.sign(challenge.as_bytes()).unwrap();
    serde_json::json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": B64.encode(proof),
        }
    })
}

pub fn client_key() -> EcdsaSigner {
    EcdsaSigner::generate(EcdsaCurve::P256, &aws_lc_rs::rand::SystemRandom::new()).unwrap()
}

pub struct Reply {
    pub status: StatusCode,
    pub retry_after: Option<String>,
    pub content_type: Option<String>,
    /// The body as JSON (`Null` when it is not JSON).
    pub json: serde_json::Value,
    pub bytes: Vec<u8>,
}

pub async fn call(ca: &TestCa, method: &str, path: &str, body: Vec<u8>) -> Reply {
    call_with_headers(ca, method, path, &[], body).await
}

/// [`call`] with extra request headers (name, value).
pub async fn call_with_headers(
    ca: &TestCa,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let app = signet_ca::http::router(ca.service.clone());
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let req = req.body(Body::from(body)).unwrap();
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .unwrap()
        .to_vec();
    let json = signet_proto::json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Reply {
        status,
        retry_after,
        content_type,
        json,
        bytes,
    }
}

pub async fn sign_cert(ca: &TestCa, body: &serde_json::Value) -> Reply {
    call(
        ca,
        "POST",
        "/api/v2/signingCert",
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

/// The DER chain of a 201 reply, leaf first.
pub fn chain_der(reply: &Reply) -> Vec<Vec<u8>> {
    reply.json["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| pem::parse(p.as_str().unwrap()).unwrap().into_contents())
        .collect()
}

// The one GET /metrics parser of the workspace's tests, kept with the log's test helpers.
#[path = "../../../log/tests/common/metrics.rs"]
pub mod metrics;
