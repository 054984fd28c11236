//! `POST /api/v1/timestamp` through [`signet_ca::tsa_http::router`] (no socket): the requests
//! an external probe found granted or answered in the wrong shape.
//! * A `reqPolicy` that is not a DER OID (`06 03 2a 80 01`, X.690 §8.19.2) and BER requests
//!   (non-minimal lengths `04 81 20`, `30 81 LL`, a version `02 81 01 01`) are rejections
//!   with `badDataFormat`: a `TimeStampResp` with status 2 and no token.
//! * A JSON request with an unsupported `hashAlgorithm` is `badAlg`, as the DER request with
//!   SHA-1's OID is.
//! * Another method than POST is a 405 with `Allow: POST` and a JSON `{code, message}` body.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use signet_ca::signer::{CaCurve, FileSigner};
use signet_ca::tsa::{build_tsa_certificates, TimestampAuthority};
use signet_ca::tsa_http::{router, TIMESTAMP_PATH};
use signet_ca::FixedClock;
use signet_proto::timestamp::authority::{response_status, tlv, FailureInfo};
use tower::ServiceExt as _;

fn app() -> axum::Router {
    let root = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
    let leaf = Arc::new(FileSigner::generate(CaCurve::P256).unwrap());
    let certs =
        build_tsa_certificates("T", "t", 1_700_000_000, root, leaf.clone(), (&[1], &[2])).unwrap();
    let tsa = TimestampAuthority::new(
        leaf,
        vec![certs.leaf_der, certs.root_der],
        Arc::new(FixedClock::new(1_778_700_213_000)),
    )
    .unwrap();
    router(Arc::new(tsa))
}

struct Reply {
    status: StatusCode,
    allow: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

async fn call(app: &axum::Router, method: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let req = Request::builder()
        .method(method)
        .uri(TIMESTAMP_PATH)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (allow, content_type) = (header("allow"), header("content-type"));
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        allow,
        content_type,
        body,
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const SHA256_ALG: &str = "300d06096086480165030402010500";
const DIGEST: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

/// A rejection with exactly this failure bit and no token, as a 400.
fn assert_rejected(r: &Reply, failure: FailureInfo, what: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}");
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/timestamp-reply"),
        "{what}"
    );
    assert_eq!(
        response_status(&r.body),
        Some((2, vec![failure.bit()])),
        "{what}"
    );
    assert!(
        signet_proto::timestamp::parse_response(&r.body).is_err(),
        "{what}: nothing signed"
    );
}

#[tokio::test]
async fn non_der_requests_are_refused_unsigned() {
    let app = app();
    let q = "application/timestamp-query";
    // The DER request is granted.
    let der = hex(&format!("30360201013031{SHA256_ALG}0420{DIGEST}"));
    assert_eq!(der.len(), 0x38);
    let r = call(&app, "POST", q, der.clone()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(signet_proto::timestamp::parse_response(&r.body).is_ok());

    let inner = &der[2..];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "the probe's request (hashedMessage 04 81 20)",
            hex(&format!("30370201013032{SHA256_ALG}048120{DIGEST}")),
        ),
        ("outer 30 81 36", [&[0x30, 0x81, 0x36][..], inner].concat()),
        (
            "version 02 81 01 01",
            tlv(0x30, &[&[0x02, 0x81, 0x01, 0x01][..], &der[5..]].concat()),
        ),
        (
            "policy 06 03 2a 80 01",
            tlv(0x30, &[inner, &[0x06, 0x03, 0x2a, 0x80, 0x01]].concat()),
        ),
        (
            "policy with a truncated sub-identifier",
            tlv(0x30, &[inner, &[0x06, 0x02, 0x2a, 0x86]].concat()),
        ),
    ];
    for (what, body) in cases {
        let r = call(&app, "POST", q, body).await;
        assert_rejected(&r, FailureInfo::BadDataFormat, what);
    }
    // A valid policy is still taken.
    let with_policy = tlv(
        0x30,
        &[inner, &[0x06, 0x04, 0x2a, 0x03, 0x04, 0x05]].concat(),
    );
    let r = call(&app, "POST", q, with_policy).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn json_and_der_agree_on_bad_alg() {
    let app = app();
    // DER: SHA-1 (1.3.14.3.2.26) with a 20-byte digest.
    let sha1 = tlv(0x30, &tlv(0x06, &[0x2b, 0x0e, 0x03, 0x02, 0x1a]));
    let der = tlv(
        0x30,
        &[
            tlv(0x02, &[1]),
            tlv(0x30, &[sha1, tlv(0x04, &[7; 20])].concat()),
        ]
        .concat(),
    );
    let r = call(&app, "POST", "application/timestamp-query", der).await;
    assert_rejected(&r, FailureInfo::BadAlg, "DER sha1");
    // JSON: the same digest named sha1.
    let body = br#"{"artifactHash":"BwcHBwcHBwcHBwcHBwcHBwcHBwc=","hashAlgorithm":"sha1"}"#;
    let r = call(&app, "POST", "application/json", body.to_vec()).await;
    assert_rejected(&r, FailureInfo::BadAlg, "JSON sha1");
    // A JSON request that is malformed stays badDataFormat.
    let r = call(
        &app,
        "POST",
        "application/json",
        br#"{"artifactHash":"x"}"#.to_vec(),
    )
    .await;
    assert_rejected(&r, FailureInfo::BadDataFormat, "JSON without hashAlgorithm");
}

#[tokio::test]
async fn other_methods_are_a_json_405_naming_post() {
    let app = app();
    for method in ["GET", "PUT", "DELETE", "PATCH"] {
        let r = call(&app, method, "application/timestamp-query", Vec::new()).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(r.allow.as_deref(), Some("POST"), "{method}");
        assert!(
            r.content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("application/json")),
            "{method}: {:?}",
            r.content_type
        );
        let body: serde_json::Value = signet_proto::json::from_slice(&r.body).unwrap();
        assert_eq!(body["code"], 405, "{method}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(method), "{message}");
        assert!(message.contains("POST"), "{message}");
        assert_eq!(
            String::from_utf8(r.body.clone()).unwrap(),
            format!(
                r#"{{"code":405,"message":"{method} is not allowed on /api/v1/timestamp: POST a TimeStampReq (application/timestamp-query) or a JSON request (application/json)"}}"#
            )
        );
    }
}
