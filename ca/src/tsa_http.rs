//! The timestamp authority's HTTP endpoint, as Sigstore's timestamp-authority serves it:
//! `POST /api/v1/timestamp` with an `application/timestamp-query` body (a DER
//! `TimeStampReq`), answered `application/timestamp-reply` (a DER `TimeStampResp`). The
//! JSON form of timestamp-authority's API (`application/json`: `{"artifactHash": base64,
//! "hashAlgorithm": "sha256" | "sha384" | "sha512", "nonce": integer, "certificates": bool}`),
//! which sigstore-js sends, is turned into the same `TimeStampReq` and answered the same way;
//! a `tsaPolicyOID` there is refused (`unacceptedPolicy` is not modelled: send a DER query).
//! As on the DER path, a well-formed `hashAlgorithm` naming another algorithm (`sha1`,
//! `md5`) is `badAlg`; a missing or malformed field is `badDataFormat`.
//!
//! Extract, one [`TimestampAuthority::respond`] call, map: a granted token is a 200; a
//! rejection is a 400 (415 for another content type, 413 for a body over
//! [`MAX_REQUEST_BYTES`], answered before the body is read when its `Content-Length` says
//! so, see [`crate::http::limit_bodies`]) whose body is still a `TimeStampResp` with status
//! `rejection` and the `PKIFailureInfo`, so RFC 3161 clients read why; a key failure
//! (`systemFailure`) is a 500. Nothing is signed for a rejected request. Another method than
//! POST carries no request to reject: it is a 405 with `Allow: POST` and the JSON error body
//! Sigstore's timestamp-authority answers errors with (`{"code": 405, "message": ...}`,
//! [`signet_proto::grpc::http_error_body`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use signet_proto::timestamp::authority::{
    encode_rejection, FailureInfo, RequestError, MAX_REQUEST_BYTES,
};

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

/// The router with `POST /api/v1/timestamp` (any other method: 405, see the module docs).
pub fn router(tsa: Arc<TimestampAuthority>) -> Router {
    let routes = Router::new()
        .route(TIMESTAMP_PATH, post(timestamp))
        .method_not_allowed_fallback(method_not_allowed);
    crate::http::limit_bodies(routes, MAX_REQUEST_BYTES, too_large).with_state(tsa)
}

/// A method other than POST: 405 with `Allow: POST` and a JSON `{code, message}` body naming
/// the method to use.
async fn method_not_allowed(method: Method) -> Response {
    let status = StatusCode::METHOD_NOT_ALLOWED;
    (
        status,
        [(header::ALLOW, HeaderValue::from_static("POST"))],
        Json(signet_proto::grpc::http_error_body(
            status.as_u16(),
            &format!(
                "{method} is not allowed on {TIMESTAMP_PATH}: POST a TimeStampReq \
                 ({QUERY_MEDIA_TYPE}) or a JSON request ({JSON_MEDIA_TYPE})"
            ),
        )),
    )
        .into_response()
}

/// A request over `limit` bytes: 413 with a `TimeStampResp` rejection (`badRequest`), whether
/// its `Content-Length` said so ([`crate::http::limit_bodies`]) or its body was found so
/// while read.
fn too_large(limit: usize) -> Response {
    reply(
        StatusCode::PAYLOAD_TOO_LARGE,
        encode_rejection(
            FailureInfo::BadRequest,
            &format!("the request is larger than {limit} bytes"),
        ),
    )
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
        return too_large(MAX_REQUEST_BYTES);
    };
    let query = if json {
        match json_query(&bytes) {
            Ok(q) => q,
            Err(e) => {
                tracing::info!(failure = e.failure.name(), "timestamp request rejected");
                return reply(
                    StatusCode::BAD_REQUEST,
                    encode_rejection(e.failure, &e.reason),
                );
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

/// Whether a JSON `hashAlgorithm` is a well-formed algorithm name (`sha1`, `SHA-256`,
/// `sha3_512`): 1 to 32 ASCII letters, digits, `-` and `_`. Such a name the TSA does not
/// support is `badAlg`, as an unsupported (well-formed) OID is on the DER path; anything else
/// is `badDataFormat`, as an OID that is not DER is.
fn algorithm_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The DER `TimeStampReq` a JSON request stands for, or why it is refused, with the failure
/// info the DER path would answer.
fn json_query(body: &[u8]) -> Result<Vec<u8>, RequestError> {
    use base64::Engine as _;
    use signet_proto::keys::HashAlgorithm;
    let refuse = |failure: FailureInfo, reason: String| RequestError { failure, reason };
    let req: JsonRequest = signet_proto::json::from_slice(body).map_err(|e| {
        refuse(
            FailureInfo::BadDataFormat,
            format!("not a timestamp-authority JSON request: {e}"),
        )
    })?;
    if req.tsa_policy_oid.is_some() {
        return Err(refuse(
            FailureInfo::BadDataFormat,
            "tsaPolicyOID is not taken in JSON requests; send a DER query".to_owned(),
        ));
    }
    // Format before algorithm, as the DER path reads the whole imprint before judging it.
    let digest = base64::engine::general_purpose::STANDARD
        .decode(&req.artifact_hash)
        .map_err(|_| {
            refuse(
                FailureInfo::BadDataFormat,
                "artifactHash is not base64".to_owned(),
            )
        })?;
    let hash = match req.hash_algorithm.to_ascii_lowercase().as_str() {
        "sha256" => HashAlgorithm::Sha256,
        "sha384" => HashAlgorithm::Sha384,
        "sha512" => HashAlgorithm::Sha512,
        other => {
            let failure = if algorithm_name(other) {
                FailureInfo::BadAlg
            } else {
                FailureInfo::BadDataFormat
            };
            return Err(refuse(
                failure,
                format!("hashAlgorithm {other:?} is not sha256, sha384 or sha512"),
            ));
        }
    };
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
        for (body, want, failure) in [
            (
                "{".to_owned(),
                "not a timestamp-authority JSON request",
                FailureInfo::BadDataFormat,
            ),
            (
                format!(r#"{{"artifactHash":"{b64}","hashAlgorithm":"md5"}}"#),
                "is not sha256",
                FailureInfo::BadAlg,
            ),
            (
                r#"{"artifactHash":"%%","hashAlgorithm":"sha256"}"#.to_owned(),
                "not base64",
                FailureInfo::BadDataFormat,
            ),
            (
                format!(
                    r#"{{"artifactHash":"{b64}","hashAlgorithm":"sha256","tsaPolicyOID":"1.2.3"}}"#
                ),
                "tsaPolicyOID",
                FailureInfo::BadDataFormat,
            ),
        ] {
            let e = json_query(body.as_bytes()).unwrap_err();
            assert!(e.reason.contains(want), "{body}: {e}");
            assert_eq!(e.failure, failure, "{body}");
        }
    }

    /// An unsupported but well-formed algorithm name is badAlg (the DER path answers badAlg
    /// for SHA-1's OID); a name that is not one is badDataFormat.
    #[test]
    fn json_unsupported_algorithms_are_bad_alg() {
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 20]);
        let failure = |alg: &str| {
            let body = serde_json::json!({"artifactHash": b64, "hashAlgorithm": alg});
            json_query(body.to_string().as_bytes()).unwrap_err().failure
        };
        for alg in [
            "sha1",
            "SHA1",
            "SHA-1",
            "md5",
            "sha3-256",
            "sha512_256",
            "sha224",
        ] {
            assert_eq!(failure(alg), FailureInfo::BadAlg, "{alg}");
        }
        for alg in ["", "sha 1", "sha1\0", "sha/256", &"a".repeat(33)] {
            assert_eq!(failure(alg), FailureInfo::BadDataFormat, "{alg:?}");
        }
        // Bad base64 is a format error whatever the algorithm.
        let body = r#"{"artifactHash":"%%","hashAlgorithm":"sha1"}"#;
        assert_eq!(
            json_query(body.as_bytes()).unwrap_err().failure,
            FailureInfo::BadDataFormat
        );
    }
}
