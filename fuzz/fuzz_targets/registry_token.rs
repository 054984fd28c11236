//! Fuzzes the registry token service's JSON answer, `signet_proto::oci::parse_token_response`
//! (Docker registry token specification; the token realm is named by the registry's
//! `WWW-Authenticate` challenge and may be malicious).
//!
//! Asserts: an accepted token is non-empty visible ASCII (so `Bearer <token>` is a valid
//! header value) and is the input's `token` when that is a non-empty string, else its
//! `access_token`; a refusal for want of a token means neither holds a non-empty string; and
//! anything that is not JSON is refused as malformed. The answer's other fields
//! (`expires_in`, `issued_at`, ...) are ignored by the parser, so they bound nothing here.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use signet_proto::oci::{parse_token_response, TokenResponseError};

/// The string at `key` of an answer (serde also reads a struct from a JSON array, by
/// position: `[token, access_token]`).
fn field<'a>(v: &'a Value, key: &str, position: usize) -> Option<&'a str> {
    match v {
        Value::Array(a) => a.get(position),
        v => v.get(key),
    }
    .and_then(Value::as_str)
    .filter(|s| !s.is_empty())
}

fuzz_target!(|data: &[u8]| {
    let parsed = parse_token_response(data);
    let Ok(json) = signet_proto::json::from_slice::<Value>(data) else {
        assert!(matches!(parsed, Err(TokenResponseError::Malformed { .. })));
        return;
    };
    let want = field(&json, "token", 0).or_else(|| field(&json, "access_token", 1));
    match parsed {
        Ok(token) => {
            assert!(!token.is_empty());
            // Visible ASCII: `Bearer <token>` is a valid HTTP field value (RFC 9110 §5.5).
            assert!(token.bytes().all(|b| b.is_ascii_graphic()), "{token:?}");
            assert_eq!(Some(token.as_str()), want);
        }
        Err(TokenResponseError::NoToken) => assert_eq!(want, None),
        Err(TokenResponseError::NotHeaderSafe) => {
            let t = want.expect("a token was found");
            assert!(!t.bytes().all(|b| b.is_ascii_graphic()));
        }
        Err(TokenResponseError::Malformed { reason }) => assert!(!reason.is_empty()),
        Err(e) => panic!("unexpected error {e}"),
    }
});
