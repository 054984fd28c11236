//! HTTP API (axum): Rekor v1 JSON endpoints, the C2SP tlog-tiles read API, RFC 6962
//! `add-pre-chain`, health, readiness and Prometheus metrics.
//!
//! Handlers extract, make one domain call on [`Log`], and map the error. Every error body is
//! `{"code": <status>, "message": "..."}`; internal failures are logged and answered with a
//! generic message. Request bodies are capped (`max_body_bytes`, 413; at once when the declared
//! `Content-Length` is over it, [`limit_bodies`]). A full sequencer queue
//! answers 503 with `Retry-After`.
//!
//! What this module does not do: TLS (put a proxy in front or use the CLI's server), auth,
//! rate limiting per client.

use std::sync::Arc;
// Monotonic, for the request-latency metric only (wall-clock time comes from the log's clock).
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
use signet_proto::rekor::{
    ConsistencyProof, HexBytes, LogEntry, LogInfo, SearchIndex, SearchLogQuery,
};
use signet_proto::sct::AddChainRequest;

use crate::error::LogError;
use crate::explorer::{self, Activity, SearchKind};
use crate::service::{Created, Log, Readiness};
use crate::storage::StoreError;

pub use crate::limits::{MAX_RETRIEVE, MAX_RETRIEVE_ENTRIES};

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
            message: signet_proto::text::client_message(message.into()),
            retry_after: None,
            location: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = signet_proto::grpc::http_error_body(self.status.as_u16(), &self.message);
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

/// How an API answers a [`LogError`]: one classification for the Rekor v1 and v2 APIs, each
/// rendering it in its own error shape.
pub(crate) struct ErrorAnswer {
    /// The HTTP status.
    pub(crate) status: StatusCode,
    /// The message for the client (internal details stay in the server's log).
    pub(crate) message: String,
    /// `Retry-After` seconds, for conditions a client should retry.
    pub(crate) retry_after: Option<u64>,
}

/// Classifies a domain error (needs the log for Retry-After). A client's mistake is a 4xx
/// naming it; a condition worth retrying is a 503 with Retry-After; anything else is logged
/// and answered 500 without details.
pub(crate) fn classify(log: &Log, e: LogError) -> ErrorAnswer {
    let answer = |status, message: String| ErrorAnswer {
        status,
        message,
        retry_after: None,
    };
    let retry = |message: &str| ErrorAnswer {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: message.to_owned(),
        retry_after: Some(log.retry_after_secs),
    };
    match e {
        LogError::Entry(_) | LogError::Chain(_) | LogError::Query(_) => {
            answer(StatusCode::BAD_REQUEST, e.to_string())
        }
        LogError::IndexNotInTree { .. }
        | LogError::OtherTree { .. }
        | LogError::NoSuchEntry { .. }
        | LogError::NotATilePath { .. }
        | LogError::NoSuchTile { .. } => answer(StatusCode::NOT_FOUND, e.to_string()),
        LogError::Frozen { .. } => answer(StatusCode::CONFLICT, e.to_string()),
        LogError::Pushback => retry("the log is overloaded, retry later"),
        LogError::Storage(ref s @ StoreError::Unavailable { .. }) => {
            tracing::warn!(error = %s, "shared storage unavailable");
            retry("the log's shared storage is unavailable; retry later")
        }
        LogError::Storage(ref s @ StoreError::NotLeader { .. }) => {
            tracing::info!(error = %s, "write refused: not the sequencer");
            retry("this instance is not the log's sequencer; retry the write at the sequencer")
        }
        LogError::Shutdown => ErrorAnswer {
            retry_after: None,
            ..retry("the log is shutting down")
        },
        LogError::Unpublished => {
            retry("no checkpoint has been cosigned by the witness quorum yet; retry later")
        }
        LogError::Witness(w) => {
            tracing::warn!(error = %w, "witness quorum not reached");
            retry("the checkpoint could not be cosigned by enough witnesses; the entry is stored and will be published with the next cosigned checkpoint")
        }
        other => {
            tracing::error!(error = %other, "internal error");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error".to_owned(),
            )
        }
    }
}

/// A domain error in the Rekor v1 shape.
fn api_err(log: &Log, e: LogError) -> ApiError {
    let a = classify(log, e);
    ApiError {
        retry_after: a.retry_after,
        ..ApiError::new(a.status, a.message)
    }
}

fn body_err(log: &Log, r: &BytesRejection) -> ApiError {
    let status = r.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        too_large_error(log.max_body_bytes)
    } else {
        ApiError::new(status, format!("cannot read request body: {r}"))
    }
}

fn too_large_error(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body too large (limit {limit} bytes)"),
    )
}

/// The 413 `{code, message}` for a body over `limit` bytes: the Rekor v1 API's, whether the
/// body was declared too large ([`limit_bodies`]) or found so while read; the witness
/// answers it too.
#[must_use]
pub fn too_large(limit: usize) -> Response {
    too_large_error(limit).into_response()
}

/// Caps the request bodies of `router`'s routes at `limit` bytes, each API answering a body
/// over it with `too_large(limit)` in its own error shape. A request whose `Content-Length`
/// declares more is answered at once, before any byte of its body is read (so no `100
/// Continue` is sent to an `Expect: 100-continue` client), and over HTTP/1 with `Connection:
/// close`: the body it may still send is never read, so the connection cannot serve another
/// request (hyper closes it anyway). A body without a declared length (chunked) is cut at
/// `limit` as it is read ([`DefaultBodyLimit`]); the handler answers `too_large` then.
///
/// The one body limit of the log's routers and of `signet`'s witness and admission webhook;
/// `signet_ca::http::limit_bodies` is the same for the CA's (the CA does not depend on the
/// log).
pub fn limit_bodies<S>(
    router: Router<S>,
    limit: usize,
    too_large: fn(usize) -> Response,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            DeclaredLimit { limit, too_large },
            refuse_declared_oversize,
        ))
}

/// The state of [`refuse_declared_oversize`].
#[derive(Clone, Copy)]
struct DeclaredLimit {
    limit: usize,
    too_large: fn(usize) -> Response,
}

/// Answers `too_large` to a request whose `Content-Length` exceeds the limit, its body unread
/// (see [`limit_bodies`]).
async fn refuse_declared_oversize(
    State(d): State<DeclaredLimit>,
    req: Request,
    next: Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_none_or(|n| n <= u64::try_from(d.limit).unwrap_or(u64::MAX)) {
        return next.run(req).await;
    }
    let http1 = req.version() <= axum::http::Version::HTTP_11;
    // Dropping the request drops its body unread: hyper then sends no 100 Continue.
    drop(req);
    let mut resp = (d.too_large)(d.limit);
    if http1 {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

type AppState = Arc<Log>;
type ApiResult<T> = Result<T, ApiError>;

/// The log's router. Serve it with `axum::serve`.
pub fn router(log: Arc<Log>) -> Router {
    let limit = log.max_body_bytes;
    let activity = Arc::new(Activity::new());
    let routes = Router::new()
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
        .route("/", get(explorer_page))
        .route("/explorer/{asset}", get(explorer_asset))
        .route("/signet/v1/explorer/search", get(explorer_search))
        .route("/signet/v1/explorer/entries/{index}", get(explorer_entry))
        .route("/signet/v1/explorer/latest", get(explorer_latest))
        .route(
            "/signet/v1/explorer/activity",
            get(move |log: State<AppState>, q: Query<ActivityQuery>| {
                explorer_activity(log, Arc::clone(&activity), q)
            }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    limit_bodies(routes, limit, too_large)
        .layer(middleware::from_fn_with_state(Arc::clone(&log), track))
        .layer(middleware::map_response(json_errors))
        .layer(catch_panics())
        .with_state(log)
}

/// The JSON 404 for a path no route serves (`{code, message}`): the log's routers' fallback,
/// and that of any router serving beside them (`signet serve` without the log).
pub async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "no such endpoint").into_response()
}

/// The JSON 405 for a method a route does not serve, naming it: the log's routers', and that
/// of the routes `signet serve` adds beside them.
pub async fn method_not_allowed(method: axum::http::Method) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on this endpoint"),
    )
    .into_response()
}

/// The read-only router of a frozen shard (`signet log rotate`), nested by the server under
/// `/shards/<tree id>` ([`crate::shards::SHARD_PATH_PREFIX`]): its final `/checkpoint`, its
/// tiles and entry bundles, consistency proofs within it, and its keys. Its entries, by
/// global index or UUID, are served by the active log's [`router`].
pub fn shard_router(log: Arc<Log>) -> Router {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/api/v1/log/proof", get(consistency))
        .route("/api/v1/log/publicKey", get(public_key))
        .route("/signet/v1/log_vkey", get(note_vkey))
        .fallback(not_found)
        .layer(middleware::map_response(json_errors))
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

/// Counts a request and its latency by route (this router's and the Rekor v2 one's).
pub(crate) async fn track(State(log): State<AppState>, req: Request, next: Next) -> Response {
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
    match log.create_entry(&body).await.map_err(|e| api_err(&log, e))? {
        Created::Added { uuid, json } => {
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
        Created::Duplicate { uuid, index } => Err(ApiError {
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
    log.log_info().map(Json).map_err(|e| api_err(&log, e))
}

/// The log Rekor's `treeID` query parameter names: the active log when absent or its own,
/// else a frozen shard (404 naming the id when there is none).
fn shard_of(log: &Arc<Log>, tree_id: Option<&String>) -> ApiResult<Arc<Log>> {
    match tree_id {
        Some(id) if *id != log.identity().tree_id.to_string() => log
            .frozen_shards()
            .iter()
            .find(|f| f.record.tree_id.to_string() == *id)
            .map(|f| Arc::clone(&f.log))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("no shard with treeID {id:?}"),
                )
            }),
        _ => Ok(Arc::clone(log)),
    }
}

/// `GET /api/v1/log/publicKey[?treeID=]`: the PEM key of the active log or of the shard named.
async fn public_key(
    State(log): State<AppState>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Response> {
    let shard = shard_of(&log, q.get("treeID"))?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        shard.ident.public_key().to_pem(),
    )
        .into_response())
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
    // Rekor's `treeID` names a shard: a frozen one's proofs are within its tree.
    let shard = shard_of(&log, q.get("treeID"))?;
    let (root, proof) = shard
        .consistency(first, last)
        .map_err(|e| api_err(&log, e))?;
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
    let (uuid, e) = log.entry_by_uuid(&uuid).map_err(|e| api_err(&log, e))?;
    let mut map = LogEntry::new();
    map.insert(uuid, e);
    Ok(Json(map))
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> ApiResult<T> {
    signet_proto::json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))
}

async fn retrieve(
    State(log): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Vec<LogEntry>>> {
    let body = body.map_err(|r| body_err(&log, &r))?;
    let q: SearchLogQuery = parse_json(&body)?;
    log.retrieve(&q).map(Json).map_err(|e| api_err(&log, e))
}

async fn search_index(
    State(log): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Vec<String>>> {
    let body = body.map_err(|r| body_err(&log, &r))?;
    let q: SearchIndex = parse_json(&body)?;
    log.search_index(&q).map(Json).map_err(|e| api_err(&log, e))
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
    let tile = log.tile(&path).map_err(|e| api_err(&log, e))?;
    Ok(tile_response(tile))
}

/// A tile or entry bundle as served (by this router and the Rekor v2 one): immutable for a
/// year when full, a minute when partial (it grows).
pub(crate) fn tile_response(tile: crate::service::Tile) -> Response {
    let cache = if tile.full {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=60"
    };
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        tile.data,
    )
        .into_response()
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
    let unavailable = |m: &str| Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m));
    match log.readiness() {
        Readiness::Ready => Ok("ready"),
        Readiness::Unpublished => {
            unavailable("no checkpoint has been cosigned by the witness quorum yet")
        }
        Readiness::NoTreeHead => unavailable("no tree head"),
        Readiness::StorageUnavailable => unavailable("storage unavailable"),
    }
}

async fn metrics(State(log): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        log.render_metrics(),
    )
        .into_response()
}

/// The explorer's pages may load only what this server ships: no external scripts, styles,
/// fonts or frames.
const EXPLORER_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn explorer_response(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, EXPLORER_CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn explorer_page() -> Response {
    explorer_response("text/html; charset=utf-8", explorer::INDEX_HTML)
}

async fn explorer_asset(Path(asset): Path<String>) -> ApiResult<Response> {
    match asset.as_str() {
        "app.js" => Ok(explorer_response(
            "text/javascript; charset=utf-8",
            explorer::APP_JS,
        )),
        "app.css" => Ok(explorer_response(
            "text/css; charset=utf-8",
            explorer::APP_CSS,
        )),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no such explorer asset",
        )),
    }
}

#[derive(Deserialize)]
struct SearchParams {
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    page: usize,
}

async fn explorer_search(
    State(log): State<AppState>,
    Query(p): Query<SearchParams>,
) -> ApiResult<Json<explorer::SearchPage>> {
    let kind = SearchKind::parse(&p.kind).map_err(|e| api_err(&log, e.into()))?;
    explorer::search(&log, &p.q, kind, p.page)
        .map(Json)
        .map_err(|e| api_err(&log, e))
}

#[derive(Deserialize)]
struct PageParam {
    #[serde(default)]
    page: usize,
}

async fn explorer_latest(
    State(log): State<AppState>,
    Query(p): Query<PageParam>,
) -> ApiResult<Json<explorer::SearchPage>> {
    explorer::latest(&log, p.page)
        .map(Json)
        .map_err(|e| api_err(&log, e))
}

async fn explorer_entry(
    State(log): State<AppState>,
    Path(index): Path<u64>,
) -> ApiResult<Json<explorer::EntryView>> {
    explorer::describe(&log, index)
        .map(Json)
        .map_err(|e| api_err(&log, e))
}

#[derive(Deserialize)]
struct ActivityQuery {
    #[serde(default = "default_window_hours")]
    hours: u64,
}

fn default_window_hours() -> u64 {
    24 * 7
}

async fn explorer_activity(
    State(log): State<AppState>,
    activity: Arc<Activity>,
    Query(q): Query<ActivityQuery>,
) -> ApiResult<Json<explorer::ActivityView>> {
    let worker = Arc::clone(&log);
    let now = log.clock().now_secs();
    tokio::task::spawn_blocking(move || activity.window(&worker, q.hours, now))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "activity task failed");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        })?
        .map(Json)
        .map_err(|e| api_err(&log, e))
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
        let v: serde_json::Value = signet_proto::json::from_slice(&body).unwrap();
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
