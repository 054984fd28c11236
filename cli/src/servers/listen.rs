//! Serving an axum router over HTTP or HTTPS (rustls, PEM files) until SIGTERM or Ctrl-C, with
//! graceful shutdown: the one place `serve`, `witness` and `admission` get their listener
//! from (a handler that panics answers a JSON 500, see `signet_log::http::catch_panics`); and
//! the plain-text log lines of `witness` and `admission`. Slow clients are cut off (see
//! [`Timeouts`]): headers within 30 s, the whole request within 60 s.
//!
//! Listen addresses ([`ListenAddr`]) are `HOST:PORT` with an IP literal or a host name
//! (`localhost:3000`), resolved when binding.
//!
//! Client certificates are required only where a caller asks ([`serve_with_client_ca`]). What it
//! does not do: certificate reloading (restart to rotate), HTTP/3.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// HTTPS settings: a PEM certificate chain and its PEM private key.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsConfig {
    /// PEM certificate chain file.
    pub(crate) cert: PathBuf,
    /// PEM private key file.
    pub(crate) key: PathBuf,
}

/// A listen address as written: `HOST:PORT`, the host an IP literal (`127.0.0.1`, `[::1]`,
/// `0.0.0.0`) or a host name (`localhost`), resolved when binding. Port 0 picks a free port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ListenAddr {
    host: String,
    port: u16,
}

/// Why a listen address is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ListenAddrError {
    /// Not `HOST:PORT` with a valid host and port.
    #[error(
        "invalid listen address {input:?}: {reason}; write HOST:PORT, e.g. 127.0.0.1:3000, [::1]:3000, 0.0.0.0:3000 or localhost:3000"
    )]
    Invalid {
        /// The address given.
        input: String,
        /// What is wrong.
        reason: &'static str,
    },
}

impl ListenAddr {
    /// The IP address and port, when the host is an IP literal.
    pub(crate) fn socket_addr(&self) -> Option<SocketAddr> {
        self.host
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, self.port))
    }

    /// Resolves the host (IP literals as they are; IPv4 addresses first) and binds the first
    /// address that can be bound.
    ///
    /// # Errors
    /// A host name that does not resolve, or no address that binds (the error names the
    /// address and the cause).
    pub(crate) async fn bind(&self) -> anyhow::Result<tokio::net::TcpListener> {
        let mut addrs: Vec<SocketAddr> = match self.socket_addr() {
            Some(a) => vec![a],
            None => {
                let (host, port) = (self.host.clone(), self.port);
                tokio::task::spawn_blocking(move || {
                    (host.as_str(), port).to_socket_addrs().map(Vec::from_iter)
                })
                .await
                .context("resolving the listen host")?
                .with_context(|| format!("cannot resolve the listen host {:?}", self.host))?
            }
        };
        addrs.sort_by_key(SocketAddr::is_ipv6);
        addrs.dedup();
        let mut last = None;
        for a in &addrs {
            match tokio::net::TcpListener::bind(a).await {
                Ok(l) => return Ok(l),
                Err(e) => last = Some((a, e)),
            }
        }
        match last {
            Some((a, e)) if addrs.len() == 1 => {
                Err(anyhow::Error::new(e).context(format!("binding {a}")))
            }
            Some((a, e)) => Err(anyhow::Error::new(e).context(format!(
                "binding {self} (resolved to {}; the last tried was {a})",
                addrs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            None => anyhow::bail!("the listen host {:?} resolves to no address", self.host),
        }
    }
}

impl FromStr for ListenAddr {
    type Err = ListenAddrError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let bad = |reason| ListenAddrError::Invalid {
            input: input.to_owned(),
            reason,
        };
        if let Ok(a) = input.parse::<SocketAddr>() {
            return Ok(Self {
                host: a.ip().to_string(),
                port: a.port(),
            });
        }
        if input.contains("://") {
            return Err(bad("a listen address has no scheme"));
        }
        let (host, port) = input.rsplit_once(':').ok_or_else(|| bad("no port"))?;
        let port = port
            .parse::<u16>()
            .map_err(|_| bad("the port must be a number from 0 to 65535"))?;
        if host.starts_with('[') || host.contains(':') {
            return Err(bad(
                "not an IPv6 address (write IPv6 addresses in brackets: [::1]:3000)",
            ));
        }
        if host.parse::<std::net::Ipv4Addr>().is_ok() {
            return Ok(Self {
                host: host.to_owned(),
                port,
            });
        }
        let host = host.strip_suffix('.').unwrap_or(host);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if host.len() > 253
            || !host.split('.').all(label_ok)
            || host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        {
            return Err(bad(
                "the host must be an IP address or a host name (letters, digits, '-' and '.')",
            ));
        }
        Ok(Self {
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.socket_addr() {
            Some(a) => write!(f, "{a}"),
            None => write!(f, "{}:{}", self.host, self.port),
        }
    }
}

impl From<SocketAddr> for ListenAddr {
    fn from(a: SocketAddr) -> Self {
        Self {
            host: a.ip().to_string(),
            port: a.port(),
        }
    }
}

impl Serialize for ListenAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ListenAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How long requests already accepted get to finish after a shutdown signal (HTTPS; the
/// HTTP server waits for them without limit).
const HTTPS_GRACE: Duration = Duration::from_secs(30);

/// How long slow clients may hold a connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    /// How long a client gets to send a request's headers, the first request of a connection
    /// included; then the connection is closed. Without it a client that sends half a request
    /// (slowloris) holds a connection, and a file descriptor, for ever. 30 s by default.
    pub(crate) header: Duration,
    /// How long a request may take from its headers to its answer (reading the body
    /// included); then it is answered 408 with a JSON error. The slowest honest request is a
    /// log entry waiting for its batch (milliseconds) or an admission review fetching from a
    /// registry (bounded by its own timeouts, well under this). 60 s by default.
    pub(crate) request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header: Duration::from_secs(30),
            request: Duration::from_secs(60),
        }
    }
}

/// Whether answers under `path` are in grpc-gateway's shape (`{code: <gRPC code>, message,
/// details}`), as the APIs served there answer: the Rekor v2 log ([`signet_log::v2::MOUNT`])
/// and Fulcio's v2 and legacy v1 API (`/api/v2/...`, `/api/v1/signingCert`).
fn grpc_shaped(path: &str) -> bool {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    under(signet_log::v2::MOUNT) || under("/api/v2") || path == "/api/v1/signingCert"
}

/// Answers 408 when the request does not finish within `limit`: `{code, message}`, or where
/// the API answers in grpc-gateway's shape ([`grpc_shaped`]), that shape with gRPC code 4
/// (DEADLINE_EXCEEDED).
async fn deadline(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let grpc = grpc_shaped(req.uri().path());
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            let message = format!("request not completed within {} s", limit.as_secs_f64());
            let body = if grpc {
                signet_proto::grpc::error_body(
                    signet_proto::grpc::code::DEADLINE_EXCEEDED,
                    &message,
                )
            } else {
                signet_proto::grpc::http_error_body(408, &message)
            };
            (axum::http::StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
        }
    }
}

/// Serves `router` on `listener` (HTTPS when `tls` is given) until `shutdown` completes, then
/// finishes the requests already accepted. Slow clients are cut off after `timeouts`.
///
/// # Errors
/// Unreadable or invalid certificate/key files, and server failures.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    tls: Option<&TlsConfig>,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with_client_ca(listener, router, tls, None, timeouts, shutdown).await
}

/// The TLS server configuration of `tls` that requires a client certificate chaining to one of
/// the PEM certificates in `client_ca` (mutual TLS).
fn mtls_config(tls: &TlsConfig, client_ca: &Path) -> anyhow::Result<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let cas: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(client_ca)
        .and_then(Iterator::collect)
        .with_context(|| format!("reading the client CA certificates {}", client_ca.display()))?;
    if cas.is_empty() {
        anyhow::bail!("{} holds no PEM certificate", client_ca.display());
    }
    for ca in cas {
        roots
            .add(ca)
            .with_context(|| format!("a client CA certificate in {}", client_ca.display()))?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .context("building the client certificate verifier")?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(Iterator::collect)
        .with_context(|| format!("reading the TLS certificate {}", tls.cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .with_context(|| format!("reading the TLS key {}", tls.key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .context("the TLS certificate and key")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// [`serve`], and with `client_ca`, HTTPS that requires a client certificate chaining to the
/// CA certificates in that file.
///
/// # Errors
/// As [`serve`], and unreadable client CA files.
pub(crate) async fn serve_with_client_ca(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    tls: Option<&TlsConfig>,
    client_ca: Option<&Path>,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // A panicking handler (a bug) answers a JSON 500 rather than dropping the connection.
    let router = router
        .layer(axum::middleware::from_fn_with_state(
            timeouts.request,
            deadline,
        ))
        .layer(signet_log::http::catch_panics());
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    let grace = tls.map(|_| HTTPS_GRACE);
    tokio::spawn(async move {
        shutdown.await;
        h.graceful_shutdown(grace);
    });
    let listener = listener.into_std()?;
    let Some(tls) = tls else {
        let mut server = axum_server::from_tcp(listener)?
            .handle(handle)
            .first_request_timeout(timeouts.header);
        server
            .http_builder()
            .http1()
            .header_read_timeout(timeouts.header);
        return server
            .serve(router.into_make_service())
            .await
            .context("serving");
    };
    let rustls = match client_ca {
        Some(ca) => {
            axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(mtls_config(tls, ca)?))
        }
        None => axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
            .await
            .with_context(|| {
                format!(
                    "loading the TLS certificate {} and key {}",
                    tls.cert.display(),
                    tls.key.display()
                )
            })?,
    };
    let mut server = axum_server::from_tcp_rustls(listener, rustls)?
        .handle(handle)
        .first_request_timeout(timeouts.header);
    server
        .http_builder()
        .http1()
        .header_read_timeout(timeouts.header);
    server
        .serve(router.into_make_service())
        .await
        .context("serving HTTPS")
}

/// Completes on SIGTERM or Ctrl-C.
pub(crate) async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = term => {},
    }
    tracing::info!("shutdown requested: finishing the requests already accepted");
}

#[cfg(test)]
// Tests and test fixtures unwrap: a panic with its location is the failure report
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    #[test]
    fn listen_addresses_take_ip_literals_and_host_names() {
        for (input, shown) in [
            ("127.0.0.1:3000", "127.0.0.1:3000"),
            ("[::1]:0", "[::1]:0"),
            ("0.0.0.0:8443", "0.0.0.0:8443"),
            ("localhost:3000", "localhost:3000"),
            ("LocalHost.:3000", "localhost:3000"),
            ("my-host.example.com:80", "my-host.example.com:80"),
        ] {
            let a: ListenAddr = input.parse().unwrap();
            assert_eq!(a.to_string(), shown, "{input}");
        }
        for (input, reason) in [
            ("localhost", "no port"),
            ("localhost:", "the port must be a number"),
            ("localhost:99999", "the port must be a number"),
            (":3000", "no host"),
            ("::1:3000", "write IPv6 addresses in brackets"),
            ("[::1:3000", "write IPv6 addresses in brackets"),
            (
                "exa mple:3000",
                "the host must be an IP address or a host name",
            ),
            (
                "-x.example:3000",
                "the host must be an IP address or a host name",
            ),
            (
                "300.1.2.3:3000",
                "the host must be an IP address or a host name",
            ),
            ("http://localhost:3000", "a listen address has no scheme"),
        ] {
            let e = input.parse::<ListenAddr>().unwrap_err().to_string();
            assert!(e.contains(reason), "{input}: {e}");
            assert!(e.contains("write HOST:PORT"), "{input}: {e}");
        }
    }

    #[tokio::test]
    async fn a_host_name_is_resolved_and_bound() {
        let a: ListenAddr = "localhost:0".parse().unwrap();
        let l = a.bind().await.unwrap();
        assert!(l.local_addr().unwrap().ip().is_loopback());
        let e = "no-such-host.invalid:0"
            .parse::<ListenAddr>()
            .unwrap()
            .bind()
            .await
            .unwrap_err();
        assert!(
            format!("{e:#}").contains("cannot resolve the listen host \"no-such-host.invalid\""),
            "{e:#}"
        );
    }

    /// Serves a small router with short timeouts; returns its address.
    async fn start(timeouts: Timeouts) -> std::net::SocketAddr {
        let router = axum::Router::new()
            .route("/ok", axum::routing::get(|| async { "ok" }))
            .route(
                "/echo",
                axum::routing::post(|body: axum::body::Bytes| async move { body }),
            )
            .route(
                &format!("{}/echo", signet_log::v2::MOUNT),
                axum::routing::post(|body: axum::body::Bytes| async move { body }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(
            listener,
            router,
            None,
            timeouts,
            std::future::pending(),
        ));
        addr
    }

    /// Everything the server sends until it closes the connection, or `None` if it is still
    /// open after `wait`.
    async fn read_until_closed(s: &mut TcpStream, wait: Duration) -> Option<String> {
        let mut out = Vec::new();
        let read = tokio::time::timeout(wait, s.read_to_end(&mut out)).await;
        read.ok()
            .map(|_| String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn the_grpc_shaped_apis_are_rekor_v2_and_fulcio() {
        for path in [
            "/rekor-v2",
            "/rekor-v2/api/v2/log/entries",
            "/api/v2/signingCert",
            "/api/v2/trustBundle",
            "/api/v1/signingCert",
        ] {
            assert!(grpc_shaped(path), "{path}");
        }
        for path in [
            "/rekor-v2x/checkpoint",
            "/api/v1/log/entries",
            "/api/v1/timestamp",
            "/api/v1/signingCertificate",
            "/api/v20",
            "/checkpoint",
        ] {
            assert!(!grpc_shaped(path), "{path}");
        }
    }

    #[tokio::test]
    async fn slow_clients_are_cut_off() {
        let timeouts = Timeouts {
            header: Duration::from_millis(300),
            request: Duration::from_millis(600),
        };
        let addr = start(timeouts).await;
        let wait = Duration::from_secs(5);

        // A whole request is answered.
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let answer = read_until_closed(&mut s, wait).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

        // A connection that sends nothing is closed.
        let mut s = TcpStream::connect(addr).await.unwrap();
        let answer = read_until_closed(&mut s, wait).await;
        assert!(answer.is_some(), "an idle connection stayed open");

        // Headers that never finish (slowloris): the connection is closed without an answer
        // to a request that never was.
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /ok HTTP/1.1\r\nHost: t\r\n")
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let answer = read_until_closed(&mut s, wait).await;
        assert!(answer.is_some(), "half-sent headers held the connection");
        assert!(!answer.unwrap().contains("200 OK"));
        assert!(started.elapsed() < wait);

        // A body promised but not sent: 408 with a JSON error.
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten.")
            .await
            .unwrap();
        let answer = read_until_closed(&mut s, wait).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(
            answer.contains(r#"{"code":408,"message":"request not completed within 0.6 s"}"#),
            "{answer}"
        );

        // The same under the Rekor v2 API: its grpc-gateway shape (gRPC code 4,
        // DEADLINE_EXCEEDED, and `details`), as its clients parse errors.
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(
            b"POST /rekor-v2/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten.",
        )
        .await
        .unwrap();
        let answer = read_until_closed(&mut s, wait).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
        let err: serde_json::Value = signet_proto::json::from_slice(body.as_bytes()).unwrap();
        assert_eq!(
            err,
            serde_json::json!({"code": 4, "message": "request not completed within 0.6 s", "details": []}),
            "{answer}"
        );
    }
}
