//! Private PKI: a registry and an OIDC issuer behind TLS with a CA the test makes (openssl), as
//! an enterprise runs them. Every client connection trusts the system's roots plus
//! `--ca-certs FILE` (`ca_certs` in the serve configuration, `SSL_CERT_FILE`; an issuer's own
//! `ca_file`); without the private root the error names the host, the certificate's subject and
//! issuer, and the flag that fixes it, once.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{
    free_port, openssl, require_tools, run, sign_image, signet, text, verify_image, Oidc, Server,
    TestRegistry,
};

/// The subject and issuer names of the test PKI, as the error messages must show them.
const ROOT_CN: &str = "Signet Test Private Root CA";
const SERVER_CN: &str = "private-pki-server";

/// A private root CA and a server certificate for 127.0.0.1 and localhost signed by it.
struct Pki {
    root: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn make_pki(dir: &Path) -> Pki {
    require_tools(&["openssl"]);
    let root_subject = format!("/O=Signet tests/CN={ROOT_CN}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "2",
            "-subj",
            &root_subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    let server_subject = format!("/CN={SERVER_CN}");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            &server_subject,
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    Pki {
        root: dir.join("root.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}

/// Asserts that `message` names the refused certificate of `host` (subject and issuer), says
/// it is not trusted, names the flag that fixes it, and says so once.
fn assert_names_untrusted_certificate(message: &str, host: &str) {
    for needle in [
        "certificate not trusted",
        host,
        SERVER_CN,
        ROOT_CN,
        "--ca-certs FILE",
        "ca_certs",
        "SSL_CERT_FILE",
    ] {
        assert!(message.contains(needle), "{needle:?} not in: {message}");
    }
    assert_eq!(
        message.matches("certificate not trusted").count(),
        1,
        "the cause is shown more than once: {message}"
    );
}

/// (a) `signet sign` and `verify` of an image in a registry (Debian `docker-registry`)
/// serving TLS with the private CA's certificate: refused with a clear message without the
/// root, working with `--ca-certs` (and with `SSL_CERT_FILE` or `SIGNET_CA_CERTS`).
#[test]
fn registry_behind_a_private_ca() {
    require_tools(&["docker-registry", "umoci", "skopeo", "node", "curl"]);
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path());
    let registry = TestRegistry::start_tls(&pki.cert, &pki.key);
    let digest = registry.push_image("team/app", "v1", "private pki\n");
    let image = format!("{}/team/app:v1", registry.addr);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let server = Server::start(&oidc.url);
    let email = "pki@example.com";
    let token = oidc.token(email);

    // Without the root: refused, naming the certificate and the fix.
    let out = sign_image(signet(), &server, &token, &image);
    assert!(!out.status.success(), "signed without trusting the CA");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_names_untrusted_certificate(&stderr, "127.0.0.1");

    // With it: signed, and verified.
    let mut cmd = signet();
    cmd.arg("--ca-certs").arg(&pki.root);
    let out = sign_image(cmd, &server, &token, &image);
    assert!(out.status.success(), "sign with --ca-certs: {}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&digest),
        "{}",
        text(&out)
    );
    let mut cmd = signet();
    cmd.arg("--ca-certs").arg(&pki.root);
    let out = verify_image(cmd, &server, email, &oidc.url, &image);
    assert!(
        out.status.success(),
        "verify with --ca-certs: {}",
        text(&out)
    );
    // The standard variable, and ours, work the same way.
    let mut cmd = signet();
    cmd.env("SSL_CERT_FILE", &pki.root);
    let out = verify_image(cmd, &server, email, &oidc.url, &image);
    assert!(
        out.status.success(),
        "verify with SSL_CERT_FILE: {}",
        text(&out)
    );
    let mut cmd = signet();
    cmd.env("SIGNET_CA_CERTS", &pki.root);
    let out = verify_image(cmd, &server, email, &oidc.url, &image);
    assert!(
        out.status.success(),
        "verify with SIGNET_CA_CERTS: {}",
        text(&out)
    );
    // Verifying without the root is refused as clearly.
    let out = verify_image(signet(), &server, email, &oidc.url, &image);
    assert!(!out.status.success(), "verified without trusting the CA");
    assert_names_untrusted_certificate(&String::from_utf8_lossy(&out.stderr), "127.0.0.1");
    // A file that holds no certificate is named as such, before anything is sent.
    let out = run(signet().arg("--ca-certs").arg(&pki.key).arg("version"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--ca-certs") && stderr.contains("no PEM CERTIFICATE block"),
        "{stderr}"
    );
}

/// `oauth2-mock-server` over HTTPS with the private CA's certificate, issuer
/// `https://127.0.0.1:PORT`. `POST /token` copies sub, email, email_verified and aud into the
/// token.
const OIDC_TLS_SCRIPT: &str = r#"
import { OAuth2Server } from 'oauth2-mock-server';
const port = Number(process.env.PORT);
const server = new OAuth2Server(process.env.TLS_KEY, process.env.TLS_CERT);
await server.issuer.keys.generate('ES256');
server.issuer.url = `https://127.0.0.1:${port}`;
server.service.on('beforeTokenSigning', (token, req) => {
  const b = req.body ?? {};
  for (const k of ['sub', 'email', 'aud']) if (b[k] !== undefined) token.payload[k] = b[k];
  if (b.email_verified !== undefined) token.payload.email_verified = String(b.email_verified) === 'true';
});
await server.start(port, '127.0.0.1');
console.log('ready');
process.on('SIGTERM', async () => { await server.stop(); process.exit(0); });
"#;

/// A process killed on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `signet serve` (CA and log) with `extra` appended to its configuration (the issuer
/// table and trust settings); returns it, its URL, its data directory and its log file.
fn serve(dir: &Path, name: &str, extra: &str) -> (Killed, String, PathBuf, PathBuf) {
    let port = free_port();
    let data = dir.join(format!("{name}-data"));
    let config = format!(
        "data_dir = {:?}\nlisten = \"127.0.0.1:{port}\"\n{extra}",
        data.display().to_string()
    );
    let cfg = dir.join(format!("{name}.toml"));
    std::fs::write(&cfg, config).unwrap();
    let log = dir.join(format!("{name}.log"));
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
    let addr = format!("127.0.0.1:{port}");
    support::wait_listening(&mut child, port, "signet serve", &log);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !data.join("signing_config.json").is_file() {
        assert!(
            Instant::now() < deadline,
            "signet serve wrote no trust files"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (Killed(child), format!("http://{addr}"), data, log)
}

/// (b) The CA fetches an OIDC issuer's discovery document and JWKS over TLS with the private
/// root (`ca_certs` in the serve configuration, or the issuer's own `ca_file`, as a
/// Kubernetes issuer takes its cluster CA) and issues a certificate; without the root the
/// token is refused and the CA's log names the certificate and the fix.
#[test]
fn oidc_issuer_behind_a_private_ca() {
    require_tools(&["node", "curl"]);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let pki = make_pki(t);
    let port = free_port();
    let oidc_log = t.join("oidc.log");
    let f = std::fs::File::create(&oidc_log).unwrap();
    let mut child = Command::new("node")
        .args(["--input-type=module", "-e", OIDC_TLS_SCRIPT])
        .current_dir(support::oidc_js_dir())
        .env("PORT", port.to_string())
        .env("TLS_KEY", &pki.key)
        .env("TLS_CERT", &pki.cert)
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .spawn()
        .unwrap();
    support::wait_listening(&mut child, port, "oauth2-mock-server (https)", &oidc_log);
    let _oidc = Killed(child);
    let issuer = format!("https://127.0.0.1:{port}");
    let email = "tls@example.com";
    let token = {
        let out = run(Command::new("curl")
            .args(["-sf", "--cacert"])
            .arg(&pki.root)
            .args(["-X", "POST", "--data"])
            .arg(format!(
                "grant_type=client_credentials&aud=sigstore&sub={email}&email={email}&email_verified=true"
            ))
            .arg(format!("{issuer}/token")));
        assert!(out.status.success(), "token: {}", text(&out));
        let v: serde_json::Value = signet_proto::json::from_slice(&out.stdout).unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    };
    let root = pki.root.display().to_string();
    let issuer_table = format!("[[ca.issuers]]\nurl = \"{issuer}\"\ntype = \"email\"\n");
    let file = t.join("artifact.txt");
    std::fs::write(&file, "signed with a private OIDC issuer\n").unwrap();

    let sign = |data: &Path, bundle: &str| {
        run(signet()
            .arg("sign-blob")
            .arg("--signing-config")
            .arg(data.join("signing_config.json"))
            .args(["--identity-token", &token, "--bundle"])
            .arg(t.join(bundle))
            .arg(&file))
    };
    let verify = |data: &Path, bundle: &str| {
        run(signet()
            .arg("verify-blob")
            .arg(&file)
            .arg("--bundle")
            .arg(t.join(bundle))
            .arg("--trusted-root")
            .arg(data.join("trusted_root.json"))
            .args(["--certificate-identity", email])
            .args(["--certificate-oidc-issuer", &issuer]))
    };

    // Without the root: the token is refused (the issuer is unreachable to the CA), and the
    // CA's log says why.
    {
        let (_s, _url, data, log) = serve(t, "untrusting", &issuer_table);
        let out = sign(&data, "none.sigstore.json");
        assert!(
            !out.status.success(),
            "issued without trusting the issuer's CA"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("identity provider unavailable"),
            "{}",
            text(&out)
        );
        let log = std::fs::read_to_string(&log).unwrap();
        let line = log
            .lines()
            .find(|l| l.contains("certificate not trusted"))
            .unwrap_or_else(|| panic!("the CA's log does not name the certificate: {log}"));
        assert_names_untrusted_certificate(line, "127.0.0.1");
        assert!(
            line.contains(&format!("{issuer}/.well-known/openid-configuration")),
            "{line}"
        );
    }
    // `ca_certs` in the configuration: every connection of the CA trusts the root.
    {
        let extra = format!("ca_certs = [{root:?}]\n\n{issuer_table}");
        let (_s, _url, data, log) = serve(t, "ca-certs", &extra);
        let out = sign(&data, "ca-certs.sigstore.json");
        assert!(
            out.status.success(),
            "sign-blob: {}\n{}",
            text(&out),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let out = verify(&data, "ca-certs.sigstore.json");
        assert!(out.status.success(), "verify-blob: {}", text(&out));
    }
    // The issuer's own `ca_file`: trusted for that issuer only.
    {
        let extra = format!("{issuer_table}ca_file = {root:?}\n");
        let (_s, _url, data, log) = serve(t, "ca-file", &extra);
        let out = sign(&data, "ca-file.sigstore.json");
        assert!(
            out.status.success(),
            "sign-blob: {}\n{}",
            text(&out),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let out = verify(&data, "ca-file.sigstore.json");
        assert!(out.status.success(), "verify-blob: {}", text(&out));
    }
    // `serve` reads the files at start: a file without a certificate is named, and nothing
    // is started.
    let bad = t.join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "data_dir = {:?}\nca_certs = [{:?}]\n",
            t.join("bad-data").display().to_string(),
            pki.key.display().to_string()
        ),
    )
    .unwrap();
    let out = run(signet().args(["serve", "--config"]).arg(&bad));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ca_certs") && stderr.contains("no PEM CERTIFICATE block"),
        "{}",
        text(&out)
    );
    assert!(!t.join("bad-data").exists());
}
