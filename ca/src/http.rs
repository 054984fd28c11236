//! Fulcio v2 HTTP API (axum): `POST /api/v2/signingCert`, `GET /api/v2/trustBundle`,
//! `GET /api/v2/configuration`.
//!
//! Handlers extract, make one [`CaService`] call and map the error. Errors are JSON
//! `{"code": <HTTP status>, "message": <stable generic text>}`; details go to the log only.
//! Request bodies are capped at `max_body_bytes` (413 beyond). No TLS here.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use signet_proto::fulcio::{
    CertificateChain, CreateSigningCertificateRequest, SigningCertificate,
    SigningCertificateEmbeddedSct,
};

use crate::oidc::OidcError;
use crate::service::{CaService, ServiceError};

/// The JSON error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ErrorBody {
    /// HTTP status code.
    pub code: u16,
    /// Stable, generic message.
    pub message: String,
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            code: status.as_u16(),
            message: message.to_owned(),
        }),
    )
        .into_response()
}

fn map_error(e: &ServiceError) -> Response {
    tracing::warn!(error = %e, "signingCert rejected");
    match e {
        ServiceError::BadRequest { .. } => error(StatusCode::BAD_REQUEST, "invalid request"),
        ServiceError::Token(OidcError::Malformed { .. }) => {
            error(StatusCode::BAD_REQUEST, "malformed identity token")
        }
        ServiceError::Token(OidcError::Discovery { .. }) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "identity provider unavailable",
        ),
        ServiceError::Token(_) => error(StatusCode::UNAUTHORIZED, "invalid identity token"),
        ServiceError::Identity(_) => error(
            StatusCode::UNAUTHORIZED,
            "identity token does not carry a usable identity",
        ),
        ServiceError::Challenge(c) => match c {
            crate::challenge::ChallengeError::UnsupportedKey { .. } => {
                error(StatusCode::BAD_REQUEST, "unsupported public key")
            }
            _ => error(StatusCode::BAD_REQUEST, "proof of possession failed"),
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

async fn signing_cert(State(ca): State<Arc<CaService>>, body: Bytes) -> Response {
    let req = match CreateSigningCertificateRequest::from_json(&body) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "malformed signingCert request");
            return error(StatusCode::BAD_REQUEST, "invalid request");
        }
    };
    match ca.create_signing_certificate(&req).await {
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

async fn trust_bundle(State(ca): State<Arc<CaService>>) -> Response {
    Json(ca.trust_bundle()).into_response()
}

async fn configuration(State(ca): State<Arc<CaService>>) -> Response {
    Json(ca.configuration()).into_response()
}

/// The Fulcio v2 router.
pub fn router(state: Arc<CaService>) -> Router {
    let limit = state.config().max_body_bytes;
    Router::new()
        .route("/api/v2/signingCert", post(signing_cert))
        .route("/api/v2/trustBundle", get(trust_bundle))
        .route("/api/v2/configuration", get(configuration))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}
