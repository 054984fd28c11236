//! Serving an axum router over HTTP or HTTPS (rustls, PEM files) until SIGTERM or Ctrl-C, with
//! graceful shutdown: the one place `serve`, `witness` and `admission` get their listener
//! from (a handler that panics answers a JSON 500, see `signet_log::http::catch_panics`); and
//! the plain-text log lines of `witness` and `admission`. Slow clients are cut off (see
//! [`Timeouts`]): headers within 30 s, the whole request within 60 s.
//!
//! What it does not do: client certificates, certificate reloading (restart to rotate), HTTP/3.

use std::future::Future;
use std::path::PathBuf;
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

/// Answers 408 `{code, message}` when the request does not finish within `limit`.
async fn deadline(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => (
            axum::http::StatusCode::REQUEST_TIMEOUT,
            axum::Json(serde_json::json!({
                "code": 408,
                "message": format!("request not completed within {} s", limit.as_secs_f64()),
            })),
        )
            .into_response(),
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
    let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
        .await
        .with_context(|| {
            format!(
                "loading the TLS certificate {} and key {}",
                tls.cert.display(),
                tls.key.display()
            )
        })?;
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

    /// Serves a small router with short timeouts; returns its address.
    async fn start(timeouts: Timeouts) -> std::net::SocketAddr {
        let router = axum::Router::new()
            .route("/ok", axum::routing::get(|| async { "ok" }))
            .route(
                "/echo",
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
    }
}
