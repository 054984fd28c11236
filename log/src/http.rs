//! HTTP API (axum): Rekor v1 JSON endpoints, the C2SP tlog-tiles read API, RFC 6962
//! `add-pre-chain`, health, readiness and Prometheus metrics.
//!
//! Handlers extract, make one domain call on [`Log`], and map the error. Every error body is
//! `{"code": <status>, "message": "..."}`; internal failures are logged and answered with a
//! generic message. Request bodies are capped (`max_body_bytes`, 413). A full sequencer queue
//! answers 503 with `Retry-After`.
//!
//! What this module does not do: TLS (put a proxy in front or use the CLI's server), auth,
//! rate limiting per client.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use signet_proto::merkle::leaf_hash;
use signet_proto::rekor::{
    ConsistencyProof, HexBytes, LogEntry, LogInfo, SearchIndex, SearchKeyFormat, SearchLogQuery,
    SearchOperator,
};
use signet_proto::sct::AddChainRequest;
use signet_proto::tiles::{parse_tile_path, tile_width, TilePath};

use crate::entries::{parse_signer, validate_proposed, EntryError};
use crate::metrics::EntryResult;
use crate::service::{Log, LogError, Outcome};
use crate::storage::IndexKind;

/// Most UUIDs/indexes/entries in one `entries/retrieve` query.
pub const MAX_RETRIEVE: usize = 100;

/// Most proposed entries in one `entries/retrieve` query (Rekor's openapi: `maxItems: 10`):
/// each is validated, signature checks included, before it can be looked up.
pub const MAX_RETRIEVE_ENTRIES: usize = 10;

/// An HTTP error: status and client-facing message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
    location: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
            location: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"code": self.status.as_u16(), "message": self.message});
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if let Some(l) = self.location {
            if let Ok(v) = HeaderValue::from_str(&l) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
        }
        resp
    }
}

/// Maps domain errors (needs the log for Retry-After).
fn api_err(log: &Log, e: LogError) -> ApiError {
    match e {
        LogError::Entry(e) => ApiError::new(StatusCode::BAD_REQUEST, e.to_string()),
        LogError::BadRequest(m) => ApiError::new(StatusCode::BAD_REQUEST, m),
        LogError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
        LogError::Pushback => ApiError {
            retry_after: Some(log.retry_after_secs),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the log is overloaded, retry later",
            )
        },
        LogError::Shutdown => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the log is shutting down")
        }
        LogError::Unpublished => ApiError {
            retry_after: Some(log.retry_after_secs),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no checkpoint has been cosigned by the witness quorum yet; retry later",
            )
        },
        LogError::Witness(m) => {
            tracing::warn!(error = %m, "witness quorum not reached");
            ApiError {
                retry_after: Some(log.retry_after_secs),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the checkpoint could not be cosigned by enough witnesses; the entry is stored and will be published with the next cosigned checkpoint",
                )
            }
        }
        other => {
            tracing::error!(error = %other, "internal error");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

fn body_err(log: &Log, r: &BytesRejection) -> ApiError {
    let status = r.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            format!(
                "request body too large (limit {} bytes)",
                log.max_body_bytes
            ),
        )
    } else {
        ApiError::new(status, format!("cannot read request body: {r}"))
    }
}

type AppState = Arc<Log>;
type ApiResult<T> = Result<T, ApiError>;

/// The log's router. Serve it with `axum::serve`.
pub fn router(log: Arc<Log>) -> Router {
    let limit = log.max_body_bytes;
    Router::new()
        .route("/api/v1/log", get(log_info))
        .route("/api/v1/log/publicKey", get(public_key))
        .route("/api/v1/log/proof", get(consistency))
        .route(
            "/api/v1/log/entries",
            post(create_entry).get(entry_by_index),
        )
        .route("/api/v1/log/entries/retrieve", post(retrieve))
        .route("/api/v1/log/entries/{uuid}", get(entry_by_uuid))
        .route("/api/v1/index/retrieve", post(search_index))
        .route("/checkpoint", get(checkpoint))
        .route("/signet/v1/log_vkey", get(note_vkey))
        .route("/tile/{*path}", get(tile))
        .route("/ct/v1/add-pre-chain", post(add_pre_chain))
        .route("/ct/v1/get-roots", get(get_roots))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{method} is not allowed on this endpoint"),
            )
        })
        .layer(middleware::from_fn_with_state(Arc::clone(&log), track))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::map_response(json_errors))
        .layer(catch_panics())
        .with_state(log)
}

/// Every error answer is JSON `{code, message}`: the handlers' own are already; this turns
/// the plain-text ones that axum's extractors and routing produce (a path that is not UTF-8,
/// a malformed query string) into the same shape, keeping their headers (`Allow`, ...).
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    // These bodies are short messages; a longer one is cut, not buffered.
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = match text.trim() {
        "" => status.canonical_reason().unwrap_or("error").to_owned(),
        t => t.to_owned(),
    };
    let mut out = ApiError::new(status, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// What a panic in a request handler is answered with.
pub type PanicResponder = fn(Box<dyn std::any::Any + Send + 'static>) -> Response;

/// A layer under which a handler that panics (a bug) answers a JSON 500 `{code, message}`
/// instead of dropping the connection; what panicked goes to the server log only. The log's
/// [`router`] has it; `signet` puts it around every router it serves.
#[must_use]
pub fn catch_panics() -> tower_http::catch_panic::CatchPanicLayer<PanicResponder> {
    tower_http::catch_panic::CatchPanicLayer::custom(panicked)
}

fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "request handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

async fn track(State(log): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let start = Instant::now();
    let resp = next.run(req).await;
    log.metrics.request(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

async fn create_entry(
    State(log): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(|r| body_err(&log, &r))?;
    let arriving = log.arrivals.arriving();
    let entry = match validate_proposed(&body) {
        Ok(e) => e,
        Err(e) => {
            log.metrics.entry(EntryResult::Rejected);
            return Err(ApiError::new(StatusCode::BAD_REQUEST, e.to_string()));
        }
    };
    let uuid = hex::encode(entry.leaf_hash);
    let body_bytes = entry.body.clone();
    let submitted = log.submit_arriving(entry, Some(arriving));
    match submitted.await.map_err(|e| api_err(&log, e))? {
        Outcome::Added {
            index,
            integrated_time,
            proof,
            head,
        } => {
            let json = log
                .added_entry_response(&uuid, index, integrated_time, &body_bytes, &proof, &head)
                .map_err(|e| api_err(&log, e))?;
            let mut resp = (
                StatusCode::CREATED,
                [(header::CONTENT_TYPE, "application/json")],
                json,
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/log/entries/{uuid}")) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!("\"{uuid}\"")) {
                resp.headers_mut().insert(header::ETAG, v);
            }
            Ok(resp)
        }
        Outcome::Duplicate { index } => Err(ApiError {
            location: Some(format!("/api/v1/log/entries/{uuid}")),
            ..ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "an equivalent entry already exists in the transparency log with UUID {uuid} at log index {index}"
                ),
            )
        }),
    }
}

async fn log_info(State(log): State<AppState>) -> ApiResult<Json<LogInfo>> {
    let head = log.head().map_err(|e| api_err(&log, e))?;
    Ok(Json(LogInfo {
        root_hash: HexBytes(head.root.to_vec()),
        tree_size: i64::try_from(head.size)
            .map_err(|e| api_err(&log, LogError::Internal(e.to_string())))?,
        signed_tree_head: head.checkpoint.clone(),
        tree_id: log.ident.tree_id.to_string(),
        inactive_shards: Vec::new(),
    }))
}

async fn public_key(State(log): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        log.ident.public_key().to_pem(),
    )
        .into_response()
}

fn parse_u64(name: &str, v: Option<&String>) -> ApiResult<Option<u64>> {
    v.map(|s| {
        s.parse::<u64>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{name} must be a non-negative integer, got {s:?}"),
            )
        })
    })
    .transpose()
}

async fn consistency(
    State(log): State<AppState>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<ConsistencyProof>> {
    let first = parse_u64("firstSize", q.get("firstSize"))?.unwrap_or(1);
    let last = parse_u64("lastSize", q.get("lastSize"))?;
    let (root, proof) = log.consistency(first, last).map_err(|e| api_err(&log, e))?;
    Ok(Json(ConsistencyProof {
        root_hash: HexBytes(root.to_vec()),
        hashes: proof.iter().map(|h| HexBytes(h.to_vec())).collect(),
    }))
}

async fn entry_by_index(
    State(log): State<AppState>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<LogEntry>> {
    let index = parse_u64("logIndex", q.get("logIndex"))?
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "logIndex is required"))?;
    let (uuid, e) = log.entry_by_index(index).map_err(|e| api_err(&log, e))?;
    let mut map = LogEntry::new();
    map.insert(uuid, e);
    Ok(Json(map))
}

async fn entry_by_uuid(
    State(log): State<AppState>,
    Path(uuid): Path<String>,
) -> ApiResult<Json<LogEntry>> {
    let index = log.index_of_uuid(&uuid).map_err(|e| api_err(&log, e))?;
    let (uuid, e) = log.entry_by_index(index).map_err(|e| api_err(&log, e))?;
    let mut map = LogEntry::new();
    map.insert(uuid, e);
    Ok(Json(map))
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))
}

async fn retrieve(
    State(log): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Vec<LogEntry>>> {
    let body = body.map_err(|r| body_err(&log, &r))?;
    let q: SearchLogQuery = parse_json(&body)?;
    if q.entry_uuids.len() + q.log_indexes.len() + q.entries.len() > MAX_RETRIEVE {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("at most {MAX_RETRIEVE} items per query"),
        ));
    }
    if q.entries.len() > MAX_RETRIEVE_ENTRIES {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("at most {MAX_RETRIEVE_ENTRIES} entries per query"),
        ));
    }
    let size = log.head().map_err(|e| api_err(&log, e))?.size;
    let mut indexes = Vec::new();
    for u in &q.entry_uuids {
        match log.index_of_uuid(u) {
            Ok(i) => indexes.push(i),
            Err(LogError::NotFound(_)) => {}
            Err(e) => return Err(api_err(&log, e)),
        }
    }
    for i in &q.log_indexes {
        let i = u64::try_from(*i).map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "logIndexes must be non-negative")
        })?;
        if i < size {
            indexes.push(i);
        }
    }
    let mut proposed: Vec<Vec<u8>> = Vec::with_capacity(q.entries.len());
    for e in &q.entries {
        let json = serde_json::to_vec(e)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        // The same proposed entry twice is validated (signature checks) once.
        if proposed.contains(&json) {
            continue;
        }
        proposed.push(json.clone());
        let v = validate_proposed(&json)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        if let Some(i) = log
            .db
            .index_of_leaf(&v.leaf_hash)
            .map_err(|e| api_err(&log, e.into()))?
        {
            if i < size {
                indexes.push(i);
            }
        }
    }
    // One answer (one SET signed) per distinct entry, in the order first asked: an index,
    // UUID, entry ID (any case) or proposed entry repeated, or one entry named several ways,
    // is answered once. Rekor (pkg/api/entries.go SearchLogQueryHandler) answers one item per
    // item asked, repeats included; the shape is the same array of `{uuid: entry}` maps.
    let mut seen = std::collections::HashSet::with_capacity(indexes.len());
    indexes.retain(|i| seen.insert(*i));
    let mut out = Vec::with_capacity(indexes.len());
    for i in indexes {
        let (uuid, e) = log.entry_by_index(i).map_err(|e| api_err(&log, e))?;
        let mut map = LogEntry::new();
        map.insert(uuid, e);
        out.push(map);
    }
    Ok(Json(out))
}

async fn search_index(
    State(log): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Vec<String>>> {
    let body = body.map_err(|r| body_err(&log, &r))?;
    let q: SearchIndex = parse_json(&body)?;
    let mut sets: Vec<Vec<u64>> = Vec::new();
    let search = |kind, value: &[u8]| log.search(kind, value).map_err(|e| api_err(&log, e));
    if let Some(h) = &q.hash {
        let hexd = h.strip_prefix("sha256:").unwrap_or(h).to_ascii_lowercase();
        if hexd.len() != 64 || !hexd.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "hash must be sha256:<64 hex digits>",
            ));
        }
        sets.push(search(IndexKind::ArtifactSha256, hexd.as_bytes())?);
    }
    if let Some(pk) = &q.public_key {
        if pk.format != SearchKeyFormat::X509 {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "only publicKey.format x509 is supported",
            ));
        }
        let content = pk.content.as_ref().ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "publicKey.content is required")
        })?;
        let signer = parse_signer(content.as_slice())
            .map_err(|e: EntryError| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        sets.push(search(IndexKind::PublicKey, &signer.key.key_id())?);
    }
    if let Some(email) = &q.email {
        sets.push(search(
            IndexKind::EmailLower,
            email.to_lowercase().as_bytes(),
        )?);
    }
    if let Some(subject) = &q.subject {
        sets.push(search(IndexKind::Identity, subject.as_bytes())?);
    }
    if sets.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "give at least one of hash, publicKey, email, subject",
        ));
    }
    let and = q.operator == Some(SearchOperator::And);
    let mut result: Vec<u64> = sets[0].clone();
    for s in &sets[1..] {
        if and {
            let set: std::collections::HashSet<u64> = s.iter().copied().collect();
            result.retain(|i| set.contains(i));
        } else {
            result.extend_from_slice(s);
        }
    }
    result.sort_unstable();
    result.dedup();
    let mut uuids = Vec::with_capacity(result.len());
    for i in result {
        let e = log
            .db
            .entry(i)
            .map_err(|e| api_err(&log, e.into()))?
            .ok_or_else(|| api_err(&log, LogError::Internal(format!("entry {i} missing"))))?;
        uuids.push(hex::encode(leaf_hash(&e.body)));
    }
    Ok(Json(uuids))
}

/// The C2SP vkey of the checkpoint's Ed25519 line (what witnesses are configured with).
async fn note_vkey(State(log): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}\n", log.identity().ed_note.to_vkey()),
    )
        .into_response()
}

async fn checkpoint(State(log): State<AppState>) -> ApiResult<Response> {
    let head = log.head().map_err(|e| api_err(&log, e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        head.checkpoint.clone(),
    )
        .into_response())
}

async fn tile(State(log): State<AppState>, Path(path): Path<String>) -> ApiResult<Response> {
    let full_path = format!("tile/{path}");
    let parsed = parse_tile_path(&full_path)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, format!("not a tile path: {e}")))?;
    let size = log.head().map_err(|e| api_err(&log, e))?.size;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{full_path} does not exist at tree size {size}"),
        )
    };
    let (data, full) = match parsed {
        TilePath::Hash(t) => {
            let have = tile_width(t.level, t.index, size).ok_or_else(not_found)?;
            if t.width > have {
                return Err(not_found());
            }
            let mut d = log
                .db
                .tile_raw(t.level, t.index)
                .map_err(|e| api_err(&log, e.into()))?
                .ok_or_else(|| {
                    api_err(
                        &log,
                        LogError::Internal(format!("tile {full_path} missing")),
                    )
                })?;
            if d.len() < t.byte_len() {
                return Err(api_err(
                    &log,
                    LogError::Internal(format!("tile {full_path} short")),
                ));
            }
            d.truncate(t.byte_len());
            (d, t.is_full())
        }
        TilePath::Entries { index, width } => {
            let have = tile_width(0, index, size).ok_or_else(not_found)?;
            if width > have {
                return Err(not_found());
            }
            let d = log
                .db
                .entry_bundle(index, width)
                .map_err(|e| api_err(&log, e.into()))?
                .ok_or_else(|| {
                    api_err(
                        &log,
                        LogError::Internal(format!("bundle {full_path} missing")),
                    )
                })?;
            (d, width == 256)
        }
    };
    let cache = if full {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=60"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        data,
    )
        .into_response())
}

async fn add_pre_chain(
    State(log): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(|r| body_err(&log, &r))?;
    let req: AddChainRequest = parse_json(&body)?;
    let resp = crate::ct::add_pre_chain(&log, &req)
        .await
        .map_err(|e| api_err(&log, e))?;
    Ok(Json(resp).into_response())
}

async fn get_roots(State(log): State<AppState>) -> Response {
    use base64::Engine as _;
    let certs: Vec<String> = log
        .ident
        .ct_roots
        .iter()
        .map(|c| base64::engine::general_purpose::STANDARD.encode(c))
        .collect();
    Json(serde_json::json!({ "certificates": certs })).into_response()
}

/// Ready when the store answers and a checkpoint is published: with witnesses, only once the
/// quorum has cosigned one (until then every read answers 503, so the log is not ready).
async fn readyz(State(log): State<AppState>) -> ApiResult<&'static str> {
    match log.db.head() {
        Ok(Some(_)) if log.head().is_err() => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no checkpoint has been cosigned by the witness quorum yet",
        )),
        Ok(Some(_)) => Ok("ready"),
        Ok(None) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no tree head",
        )),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage unavailable",
            ))
        }
    }
}

async fn metrics(State(log): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        log.metrics.render(log.queue_depth()),
    )
        .into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn a_panicking_handler_answers_json_500() {
        async fn boom() -> &'static str {
            panic!("secret detail")
        }
        let app = Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "ok" }))
            .layer(super::catch_panics());
        let resp = app
            .clone()
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["code"], 500);
        assert_eq!(v["message"], "internal error");
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
        // The service keeps answering.
        let resp = app
            .oneshot(Request::get("/fine").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
}
