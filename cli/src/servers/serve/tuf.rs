//! The TUF repository `signet serve` publishes at `/tuf/` (`crate::trust::repo` does the
//! signing): its targets are the trusted root and the signing config this server generates
//! (as `trusted_root.json` and `signing_config.v0.2.json`, the names sigstore-python's
//! `--instance URL/tuf` fetches), the CA's CRLs as `crls.pem` once it revoked anything,
//! and the trusted keys as `trusted_keys.json` when the data directory has them. A background task re-signs the timestamp, snapshot and
//! targets once half their lifetime is gone, so clients never see them expire while the
//! server runs.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::Path as UrlPath;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::trust::TrustFiles;
use super::Config;
use crate::trust::repo::{
    Lifetimes, Repository, CRLS_TARGET, SIGNING_CONFIG_TARGET, TRUSTED_KEYS_TARGET,
    TRUSTED_ROOT_TARGET,
};

/// The URL path prefix of the repository.
pub(crate) const PREFIX: &str = "/tuf";

fn lifetimes(config: &Config) -> Lifetimes {
    Lifetimes {
        timestamp_secs: config.tuf.timestamp_expiry_secs,
        snapshot_secs: config.tuf.snapshot_expiry_secs,
        targets_secs: config.tuf.targets_expiry_secs,
    }
}

/// The TUF directory of `config`.
fn tuf_dir(config: &Config) -> PathBuf {
    config
        .tuf
        .dir
        .clone()
        .unwrap_or_else(|| config.data_dir.join("tuf"))
}

/// Opens and refreshes the repository and starts its re-signing task; `None` (and nothing
/// served) when the TUF directory holds no root yet.
pub(crate) fn start(config: &Config, files: &TrustFiles) -> anyhow::Result<Option<Router>> {
    let dir = tuf_dir(config);
    if !dir.join("1.root.json").exists() {
        tracing::info!(
            dir = %dir.display(),
            "no TUF repository (create one with `signet trust init --out DIR`); /tuf/ not served"
        );
        return Ok(None);
    }
    let repo = Repository::open(&dir).context("opening the TUF repository")?;
    let mut targets = vec![
        (TRUSTED_ROOT_TARGET, files.trusted_root.clone().into_bytes()),
        (
            SIGNING_CONFIG_TARGET,
            files.signing_config.clone().into_bytes(),
        ),
    ];
    if let Some(crls) = &files.crls {
        targets.push((CRLS_TARGET, crls.clone().into_bytes()));
    }
    if let Some(keys) = &files.trusted_keys {
        targets.push((TRUSTED_KEYS_TARGET, keys.clone().into_bytes()));
    }
    let targets = Arc::new(targets);
    let lifetimes = lifetimes(config);
    let refresh = {
        let targets = targets.clone();
        move |repo: &Repository| {
            let t: Vec<(&str, &[u8])> = targets.iter().map(|(n, b)| (*n, b.as_slice())).collect();
            repo.refresh(&t, &lifetimes, super::now_unix())
        }
    };
    let done = refresh(&repo).context("publishing the TUF repository")?;
    tracing::info!(dir = %dir.display(), ?done, "TUF repository published at /tuf/");
    let published = repo.published();
    let repo = Arc::new(repo);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(lifetimes.check_interval()).await;
            let r = repo.clone();
            let f = refresh.clone();
            match tokio::task::spawn_blocking(move || f(&r)).await {
                Ok(Ok(done)) if done != crate::trust::repo::Refreshed::default() => {
                    tracing::info!(?done, "TUF metadata re-signed");
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %crate::errors::chain(e.as_ref()), "re-signing TUF metadata failed")
                }
                Err(e) => tracing::error!(error = %e, "the TUF re-signing task failed"),
            }
        }
    });
    let published = Arc::new(published);
    Ok(Some(Router::new().route(
        &format!("{PREFIX}/{{*path}}"),
        get(move |UrlPath(path): UrlPath<String>| {
            let dir = published.clone();
            async move { serve_file(&dir, &path).await }
        }),
    )))
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(signet_proto::grpc::http_error_body(404, "no such TUF file")),
    )
        .into_response()
}

/// One file of the published directory: only plain relative paths (no `..`, no hidden
/// names), never a directory.
async fn serve_file(dir: &Path, path: &str) -> Response {
    let rel = Path::new(path);
    let plain = rel
        .components()
        .all(|c| matches!(c, Component::Normal(n) if !n.to_string_lossy().starts_with('.')));
    if path.is_empty() || !plain {
        return not_found();
    }
    match tokio::fs::read(dir.join(rel)).await {
        Ok(bytes) => {
            let ty = if path.ends_with(".json") {
                "application/json"
            } else {
                "application/octet-stream"
            };
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, ty),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                bytes,
            )
                .into_response()
        }
        Err(_) => not_found(),
    }
}
