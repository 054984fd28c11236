//! The JSON error bodies Signet's HTTP APIs answer with. grpc-gateway's, which is what the
//! HTTP APIs of rekor-tiles (Rekor v2) and Fulcio answer with: `{"code": <gRPC status code>,
//! "message": <text>, "details": []}` ([`error_body`]), the gRPC codes, and the one a gateway
//! pairs with an HTTP status; and the `{"code": <HTTP status>, "message": <text>}` of Rekor v1,
//! the timestamp authority and Signet's other endpoints ([`http_error_body`]). No I/O.

/// gRPC status codes (grpc/codes).
pub mod code {
    /// Unknown.
    pub const UNKNOWN: u16 = 2;
    /// InvalidArgument (400).
    pub const INVALID_ARGUMENT: u16 = 3;
    /// DeadlineExceeded (504; Signet's request deadline answers it with 408).
    pub const DEADLINE_EXCEEDED: u16 = 4;
    /// NotFound (404).
    pub const NOT_FOUND: u16 = 5;
    /// AlreadyExists (409).
    pub const ALREADY_EXISTS: u16 = 6;
    /// PermissionDenied (403).
    pub const PERMISSION_DENIED: u16 = 7;
    /// ResourceExhausted (429; also a body over the size limit).
    pub const RESOURCE_EXHAUSTED: u16 = 8;
    /// FailedPrecondition (400 in grpc-gateway; Signet's frozen log answers it with 409).
    pub const FAILED_PRECONDITION: u16 = 9;
    /// Unimplemented (501; a method an endpoint does not serve).
    pub const UNIMPLEMENTED: u16 = 12;
    /// Internal (500).
    pub const INTERNAL: u16 = 13;
    /// Unavailable (503).
    pub const UNAVAILABLE: u16 = 14;
    /// Unauthenticated (401).
    pub const UNAUTHENTICATED: u16 = 16;
}

/// The gRPC code for an answer with HTTP `status`, as grpc-gateway pairs them
/// (`runtime.HTTPStatusFromCode`, read backwards), with the statuses Signet adds: 405 is
/// Unimplemented, 408 DeadlineExceeded and 413 ResourceExhausted.
#[must_use]
pub fn code_for_status(status: u16) -> u16 {
    match status {
        400 => code::INVALID_ARGUMENT,
        401 => code::UNAUTHENTICATED,
        403 => code::PERMISSION_DENIED,
        404 => code::NOT_FOUND,
        405 | 501 => code::UNIMPLEMENTED,
        408 | 504 => code::DEADLINE_EXCEEDED,
        409 => code::ALREADY_EXISTS,
        413 | 429 => code::RESOURCE_EXHAUSTED,
        500 => code::INTERNAL,
        503 => code::UNAVAILABLE,
        _ => code::UNKNOWN,
    }
}

/// The error body: `{"code", "message", "details": []}`.
#[must_use]
pub fn error_body(code: u16, message: &str) -> serde_json::Value {
    serde_json::json!({"code": code, "message": message, "details": []})
}

/// The error body of the APIs that answer `{"code": <HTTP status>, "message"}` (Rekor v1, as
/// Sigstore's Rekor and timestamp-authority answer, and Signet's own endpoints).
#[must_use]
pub fn http_error_body(status: u16, message: &str) -> serde_json::Value {
    serde_json::json!({"code": status, "message": message})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_codes_a_gateway_pairs_with_them() {
        for (status, want) in [
            (400, 3),
            (401, 16),
            (403, 7),
            (404, 5),
            (405, 12),
            (408, 4),
            (409, 6),
            (413, 8),
            (429, 8),
            (500, 13),
            (503, 14),
            (418, 2),
        ] {
            assert_eq!(code_for_status(status), want, "{status}");
        }
        assert_eq!(
            error_body(3, "bad").to_string(),
            r#"{"code":3,"message":"bad","details":[]}"#
        );
        assert_eq!(
            http_error_body(405, "GET is not allowed").to_string(),
            r#"{"code":405,"message":"GET is not allowed"}"#
        );
    }
}
