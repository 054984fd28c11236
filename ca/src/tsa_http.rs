//! The timestamp authority's HTTP endpoint, as Sigstore's timestamp-authority serves it:
//! `POST /api/v1/timestamp` with an `application/timestamp-query` body (a DER
//! `TimeStampReq`), answered `application/timestamp-reply` (a DER `TimeStampResp`).
//!
//! Extract, one [`TimestampAuthority::respond`] call, map: a granted token is a 200; a
//! rejection is a 400 (415 for another content type, 413 for a body over
//! [`MAX_REQUEST_BYTES`]) whose body is still a `TimeStampResp` with status `rejection` and
//! the `PKIFailureInfo`, so RFC 3161 clients read why; a key failure (`systemFailure`) is a
//! 500. Nothing is signed for a rejected request.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use signet_proto::timestamp::authority::{encode_rejection, FailureInfo, MAX_REQUEST_BYTES};

use crate::tsa::TimestampAuthority;

/// The path of the endpoint.
pub const TIMESTAMP_PATH: &str = "/api/v1/timestamp";
/// Request media type.
pub const QUERY_MEDIA_TYPE: &str = "application/timestamp-query";
/// Response media type.
pub const REPLY_MEDIA_TYPE: &str = "application/timestamp-reply";

fn reply(status: StatusCode, der: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(REPLY_MEDIA_TYPE),
        )],
        der,
    )
        .into_response()
}

/// The router with `POST /api/v1/timestamp`.
pub fn router(tsa: Arc<TimestampAuthority>) -> Router {
    Router::new()
        .route(TIMESTAMP_PATH, post(timestamp))
        .with_state(tsa)
}

async fn timestamp(
    State(tsa): State<Arc<TimestampAuthority>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if content_type
        .as_deref()
        .is_some_and(|t| t != QUERY_MEDIA_TYPE)
    {
        return reply(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            encode_rejection(
                FailureInfo::BadDataFormat,
                "the request must be application/timestamp-query (a DER TimeStampReq)",
            ),
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        return reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            encode_rejection(
                FailureInfo::BadRequest,
                &format!("the request is larger than {MAX_REQUEST_BYTES} bytes"),
            ),
        );
    };
    let answer = tsa.respond(&bytes);
    match answer.failure {
        None => reply(StatusCode::OK, answer.der),
        Some(FailureInfo::SystemFailure) => reply(StatusCode::INTERNAL_SERVER_ERROR, answer.der),
        Some(failure) => {
            tracing::info!(failure = failure.name(), "timestamp request rejected");
            reply(StatusCode::BAD_REQUEST, answer.der)
        }
    }
}
