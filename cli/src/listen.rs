//! Serving an axum router over HTTP or HTTPS (rustls, PEM files) until SIGTERM or Ctrl-C, with
//! graceful shutdown: the one place `serve`, `witness` and `admission` get their listener
//! from (a handler that panics answers a JSON 500, see `signet_log::http::catch_panics`); and
//! the plain-text log lines of `witness` and `admission`.
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

/// Serves `router` on `listener` (HTTPS when `tls` is given) until `shutdown` completes, then
/// finishes the requests already accepted.
///
/// # Errors
/// Unreadable or invalid certificate/key files, and server failures.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    tls: Option<&TlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // A panicking handler (a bug) answers a JSON 500 rather than dropping the connection.
    let router = router.layer(signet_log::http::catch_panics());
    let Some(tls) = tls else {
        return axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
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
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        h.graceful_shutdown(Some(HTTPS_GRACE));
    });
    axum_server::from_tcp_rustls(listener.into_std()?, rustls)?
        .handle(handle)
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

/// Log lines on stderr, filtered by `RUST_LOG` (default `info`).
pub(crate) fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
