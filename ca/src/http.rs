//! Fulcio v2 HTTP API (axum): `POST /api/v2/signingCert`, `GET /api/v2/trustBundle`,
//! `GET /api/v2/configuration`; and Fulcio's legacy v1 `POST /api/v1/signingCert` and
//! `GET /api/v1/rootCert`, which answer PEM text (cosign's Fulcio client uses v1); and
//! `GET /metrics` (Prometheus text, [`crate::metrics`]).
//!
//! Handlers extract, make one [`CaService`] call and map the error. Errors are JSON in
//! grpc-gateway's shape, as Fulcio answers (`signet_proto::grpc`): `{"code": <gRPC code for
//! the HTTP status>, "message": <text>, "details": []}`, the message a stable prefix naming
//! the kind of error
//! ("invalid request", "invalid identity token", "proof of possession failed", ...), then,
//! for what the caller sent, what is wrong with it. Failures on the server's side (issuer
//! discovery, signing, the log) stay generic; their details go to the log only. Request bodies
//! are capped at `max_body_bytes` (413 beyond); a method an endpoint does not serve is a 405.
//! No TLS here.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use signet_proto::fulcio::{
    CertificateChain, CreateSigningCertificateRequest, LegacyCertificateRequest,
    SigningCertificate, SigningCertificateEmbeddedSct,
};

use crate::oidc::OidcError;
use crate::service::{CaService, ServiceError};

/// An error answer of the Fulcio API: grpc-gateway's body, its code paired with `status`.
fn error(status: StatusCode, message: &str) -> Response {
    let message = signet_proto::text::client_message(message.to_owned());
    (
        status,
        Json(signet_proto::grpc::error_body(
            signet_proto::grpc::code_for_status(status.as_u16()),
            &message,
        )),
    )
        .into_response()
}

fn map_error(e: &ServiceError) -> Response {
    tracing::warn!(error = %e, "signingCert rejected");
    match e {
        ServiceError::BadRequest { reason } => error(
            StatusCode::BAD_REQUEST,
            &format!("invalid request: {reason}"),
        ),
        ServiceError::Token(t @ OidcError::Malformed { .. }) => error(
            StatusCode::BAD_REQUEST,
            &format!("malformed identity token: {t}"),
        ),
        ServiceError::Token(OidcError::Discovery { .. }) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "identity provider unavailable",
        ),
        ServiceError::Token(t) => error(
            StatusCode::UNAUTHORIZED,
            &format!("invalid identity token: {t}"),
        ),
        ServiceError::Identity(i) => error(
            StatusCode::UNAUTHORIZED,
            &format!("identity token does not carry a usable identity: {i}"),
        ),
        ServiceError::Challenge(c) => match c {
            crate::challenge::ChallengeError::UnsupportedKey { .. } => error(
                StatusCode::BAD_REQUEST,
                &format!("unsupported public key: {c}"),
            ),
            _ => error(
                StatusCode::BAD_REQUEST,
                &format!("proof of possession failed: {c}"),
            ),
        },
        ServiceError::RateLimited { retry_after_secs } => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "rate limited");
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        ServiceError::Sct(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "transparency log unavailable",
        ),
        _ => error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 9110
/// section 11.1), if the request has one.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn too_large_message(limit: usize) -> String {
    format!("request body too large (limit {limit} bytes)")
}

/// The 413 for a body over `limit` bytes, in grpc-gateway's shape (RESOURCE_EXHAUSTED):
/// declared too large ([`limit_bodies`]) or found so while read.
fn too_large(limit: usize) -> Response {
    error(StatusCode::PAYLOAD_TOO_LARGE, &too_large_message(limit))
}

/// Caps the request bodies of `router`'s routes at `limit` bytes, each API answering a body
/// over it with `too_large(limit)` in its own error shape. A request whose `Content-Length`
/// declares more is answered at once, before any byte of its body is read (so no `100
/// Continue` is sent to an `Expect: 100-continue` client), and over HTTP/1 with `Connection:
/// close`: the body it may still send is never read, so the connection cannot serve another
/// request (hyper closes it anyway). A body without a declared length (chunked) is cut at
/// `limit` as it is read ([`DefaultBodyLimit`]; a handler reading [`axum::body::Body`]
/// itself caps it the same).
///
/// The one body limit of the CA's routers (Fulcio, the timestamp authority): the same as
/// `signet_log::http::limit_bodies`, which the CA cannot use (the CA does not depend on the
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
        .layer(axum::middleware::from_fn_with_state(
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
    req: axum::extract::Request,
    next: axum::middleware::Next,
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

/// The body, or the status and message of the JSON error for a rejected one (413 over the
/// cap).
fn body_or_error(
    ca: &CaService,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, (StatusCode, String)> {
    body.map_err(|r| {
        let status = r.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            too_large_message(ca.config().max_body_bytes)
        } else {
            format!("invalid request: {}", r.body_text())
        };
        (status, message)
    })
}

async fn signing_cert(
    State(ca): State<Arc<CaService>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body_or_error(&ca, body) {
        Ok(b) => b,
        Err((status, message)) => return error(status, &message),
    };
    let req = match CreateSigningCertificateRequest::from_json(&body) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "malformed signingCert request");
            return error(StatusCode::BAD_REQUEST, &format!("invalid request: {e}"));
        }
    };
    match ca
        .create_signing_certificate(&req, bearer_token(&headers))
        .await
    {
        Ok(chain) => (
            StatusCode::CREATED,
            Json(SigningCertificate::EmbeddedSct(
                SigningCertificateEmbeddedSct {
                    chain: CertificateChain {
                        certificates: chain,
                    },
                },
            )),
        )
            .into_response(),
        Err(e) => map_error(&e),
    }
}

/// PEM certificates as one `application/pem-certificate-chain` text, as Fulcio's legacy API
/// answers: each certificate, newline-separated, surrounding whitespace trimmed.
fn pem_chain(status: StatusCode, certificates: &[String]) -> Response {
    let text = certificates
        .iter()
        .map(|c| c.trim())
        .collect::<Vec<_>>()
        .join("\n");
    (
        status,
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        text,
    )
        .into_response()
}

/// Fulcio's legacy v1 `POST /api/v1/signingCert` (cosign's Fulcio client): the token only in
/// `Authorization: Bearer`, the key as `publicKey` + `signedEmailAddress` or a CSR; 201 with
/// the PEM chain as text.
async fn signing_cert_v1(
    State(ca): State<Arc<CaService>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body_or_error(&ca, body) {
        Ok(b) => b,
        Err((status, message)) => return error(status, &message),
    };
    let req = match LegacyCertificateRequest::from_json(&body) {
        Ok(r) => r.into_v2(),
        Err(e) => {
            tracing::warn!(error = %e, "malformed v1 signingCert request");
            return error(StatusCode::BAD_REQUEST, &format!("invalid request: {e}"));
        }
    };
    let req = match req {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("invalid request: {e}")),
    };
    match ca
        .create_signing_certificate(&req, bearer_token(&headers))
        .await
    {
        Ok(chain) => pem_chain(StatusCode::CREATED, &chain),
        Err(e) => map_error(&e),
    }
}

/// Fulcio's legacy v1 `GET /api/v1/rootCert`: every certificate of the trust bundle as PEM text.
async fn root_cert_v1(State(ca): State<Arc<CaService>>) -> Response {
    let certificates: Vec<String> = ca
        .trust_bundle()
        .chains
        .into_iter()
        .flat_map(|c| c.certificates)
        .collect();
    pem_chain(StatusCode::OK, &certificates)
}

async fn trust_bundle(State(ca): State<Arc<CaService>>) -> Response {
    Json(ca.trust_bundle()).into_response()
}

async fn configuration(State(ca): State<Arc<CaService>>) -> Response {
    Json(ca.configuration()).into_response()
}

async fn metrics(State(ca): State<Arc<CaService>>) -> Response {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        ca.metrics().render(),
    )
        .into_response()
}

/// The Fulcio router (v2, and the legacy v1 endpoints) and `GET /metrics`.
pub fn router(state: Arc<CaService>) -> Router {
    routes(Router::new().route("/metrics", get(metrics)), state)
}

/// The Fulcio router without `GET /metrics`: for mounting beside a router whose `/metrics`
/// answers the CA's series too (`signet serve` with the log, after
/// [`crate::metrics::CaMetrics::register_into`] the log's registry).
pub fn api_router(state: Arc<CaService>) -> Router {
    routes(Router::new(), state)
}

fn routes(base: Router<Arc<CaService>>, state: Arc<CaService>) -> Router {
    let limit = state.config().max_body_bytes;
    let routes = base
        .route("/api/v2/signingCert", post(signing_cert))
        .route("/api/v2/trustBundle", get(trust_bundle))
        .route("/api/v2/configuration", get(configuration))
        .route("/api/v1/signingCert", post(signing_cert_v1))
        .route("/api/v1/rootCert", get(root_cert_v1))
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("{method} is not allowed on this endpoint"),
            )
        });
    limit_bodies(routes, limit, too_large).with_state(state)
}
