//! The timestamp authority's HTTP endpoint, as Sigstore's timestamp-authority serves it:
//! `POST /api/v1/timestamp` with an `application/timestamp-query` body (a DER
//! `TimeStampReq`), answered `application/timestamp-reply` (a DER `TimeStampResp`). The
//! JSON form of timestamp-authority's API (`application/json`: `{"artifactHash": base64,
//! "hashAlgorithm": "sha256" | "sha384" | "sha512", "nonce": integer, "certificates": bool}`),
//! which sigstore-js sends, is turned into the same `TimeStampReq` and answered the same way;
//! a `tsaPolicyOID` there is refused (`unacceptedPolicy` is not modelled: send a DER query).
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
/// JSON request media type (timestamp-authority's JSON form).
pub const JSON_MEDIA_TYPE: &str = "application/json";
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
    let json = content_type.as_deref() == Some(JSON_MEDIA_TYPE);
    if !json
        && content_type
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
    let query = if json {
        match json_query(&bytes) {
            Ok(q) => q,
            Err(reason) => {
                return reply(
                    StatusCode::BAD_REQUEST,
                    encode_rejection(FailureInfo::BadDataFormat, &reason),
                )
            }
        }
    } else {
        bytes.to_vec()
    };
    let answer = tsa.respond(&query);
    match answer.failure {
        None => reply(StatusCode::OK, answer.der),
        Some(FailureInfo::SystemFailure) => reply(StatusCode::INTERNAL_SERVER_ERROR, answer.der),
        Some(failure) => {
            tracing::info!(failure = failure.name(), "timestamp request rejected");
            reply(StatusCode::BAD_REQUEST, answer.der)
        }
    }
}

/// timestamp-authority's JSON request.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct JsonRequest {
    artifact_hash: String,
    hash_algorithm: String,
    #[serde(default)]
    nonce: Option<u64>,
    #[serde(default)]
    certificates: bool,
    #[serde(default, rename = "tsaPolicyOID")]
    tsa_policy_oid: Option<String>,
}

/// The DER `TimeStampReq` a JSON request stands for, or why it is refused.
fn json_query(body: &[u8]) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    use signet_proto::keys::HashAlgorithm;
    let req: JsonRequest = signet_proto::json::from_slice(body)
        .map_err(|e| format!("not a timestamp-authority JSON request: {e}"))?;
    if req.tsa_policy_oid.is_some() {
        return Err("tsaPolicyOID is not taken in JSON requests; send a DER query".to_owned());
    }
    let hash = match req.hash_algorithm.to_ascii_lowercase().as_str() {
        "sha256" => HashAlgorithm::Sha256,
        "sha384" => HashAlgorithm::Sha384,
        "sha512" => HashAlgorithm::Sha512,
        other => {
            return Err(format!(
                "hashAlgorithm {other:?} is not sha256, sha384 or sha512"
            ))
        }
    };
    let digest = base64::engine::general_purpose::STANDARD
        .decode(&req.artifact_hash)
        .map_err(|_| "artifactHash is not base64".to_owned())?;
    let nonce = req.nonce.map(|n| {
        let b = n.to_be_bytes();
        let first = b.iter().position(|x| *x != 0).unwrap_or(b.len() - 1);
        b[first..].to_vec()
    });
    Ok(signet_proto::timestamp::authority::encode_request(
        hash,
        &digest,
        nonce.as_deref(),
        req.certificates,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use signet_proto::keys::HashAlgorithm;
    use signet_proto::timestamp::authority::{encode_request, parse_request};

    /// sigstore-js's JSON request stands for the DER query with the same digest (and nonce,
    /// certReq); malformed ones are refused with the reason.
    #[test]
    fn json_requests_become_der_queries() {
        let digest = [7u8; 32];
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest);
        let q = json_query(
            format!(r#"{{"artifactHash":"{b64}","hashAlgorithm":"sha256"}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(
            q,
            encode_request(HashAlgorithm::Sha256, &digest, None, false)
        );
        let q = json_query(
            format!(r#"{{"artifactHash":"{b64}","hashAlgorithm":"SHA256","nonce":258,"certificates":true}}"#)
                .as_bytes(),
        )
        .unwrap();
        let parsed = parse_request(&q).unwrap();
        assert_eq!(parsed.hashed_message, digest);
        assert!(parsed.cert_req);
        assert_eq!(
            q,
            encode_request(HashAlgorithm::Sha256, &digest, Some(&[1, 2]), true)
        );
        for (body, want) in [
            ("{".to_owned(), "not a timestamp-authority JSON request"),
            (
                format!(r#"{{"artifactHash":"{b64}","hashAlgorithm":"md5"}}"#),
                "is not sha256",
            ),
            (
                r#"{"artifactHash":"%%","hashAlgorithm":"sha256"}"#.to_owned(),
                "not base64",
            ),
            (
                format!(
                    r#"{{"artifactHash":"{b64}","hashAlgorithm":"sha256","tsaPolicyOID":"1.2.3"}}"#
                ),
                "tsaPolicyOID",
            ),
        ] {
            let e = json_query(body.as_bytes()).unwrap_err();
            assert!(e.contains(want), "{body}: {e}");
        }
    }
}
