//! OIDC identity tokens for keyless signing: where they come from and which claim the proof of
//! possession signs.
//!
//! Sources, in order: `--identity-token` (a token, `@FILE`, or the path of an existing file),
//! the `SIGNET_ID_TOKEN` environment variable, then `SIGSTORE_ID_TOKEN` (cosign's and
//! sigstore-python's), then GitHub Actions' ambient token service
//! (`ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, audience `sigstore`).
//!
//! The JWT payload is decoded *without* verifying it: the client only reads the claim that the
//! CA expects to be signed (Fulcio's challenge: `email` for email tokens, else `sub`). The CA
//! verifies the token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;

/// Errors of token acquisition and decoding.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum TokenError {
    /// No source provided a token.
    #[error("no OIDC identity token: pass --identity-token, set SIGNET_ID_TOKEN (or SIGSTORE_ID_TOKEN), run in GitHub Actions with `id-token: write`, or use --key for keyed signing")]
    Missing,
    /// The token is not a JWT.
    #[error("identity token is not a JWT: {reason}")]
    Malformed {
        /// Why.
        reason: String,
    },
    /// The token has neither `email` nor `sub`.
    #[error("identity token has no `sub` or `email` claim")]
    NoSubject,
    /// The GitHub Actions token service failed.
    #[error("GitHub Actions token request failed: {reason}")]
    Ambient {
        /// Why.
        reason: String,
    },
    /// A token file could not be read.
    #[error(
        "cannot read identity token file {path}: {}",
        crate::errors::chain(cause)
    )]
    File {
        /// The file.
        path: String,
        /// The I/O error (shown in the message, not a `source`: see [`crate::errors`]).
        cause: std::io::Error,
    },
}

/// The audience Sigstore CAs expect.
pub(crate) const SIGSTORE_AUDIENCE: &str = "sigstore";

/// The environment variables read for a token, in order.
pub(crate) const TOKEN_VARS: [&str; 2] = ["SIGNET_ID_TOKEN", "SIGSTORE_ID_TOKEN"];

/// Finds the identity token: the explicit value, `SIGNET_ID_TOKEN`, `SIGSTORE_ID_TOKEN`, then
/// GitHub Actions.
///
/// An explicit value starting with `@` names a file holding the token, as does the path of an
/// existing file (cosign's `--identity-token` reads either a token or a file).
pub(crate) async fn acquire(explicit: Option<&str>) -> Result<String, TokenError> {
    if let Some(t) = explicit {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|text| text.trim().to_owned())
                .map_err(|cause| TokenError::File {
                    path: path.to_owned(),
                    cause,
                })
        };
        if let Some(path) = t.strip_prefix('@') {
            return read(path);
        }
        // A JWT has no '/' (base64url), so a value naming an existing file is the file.
        if std::path::Path::new(t).is_file() {
            return read(t);
        }
        return Ok(t.trim().to_owned());
    }
    for var in TOKEN_VARS {
        if let Ok(t) = std::env::var(var) {
            if !t.trim().is_empty() {
                return Ok(t.trim().to_owned());
            }
        }
    }
    if let (Ok(url), Ok(bearer)) = (
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) {
        return github_actions_token(&url, &bearer).await;
    }
    Err(TokenError::Missing)
}

async fn github_actions_token(request_url: &str, bearer: &str) -> Result<String, TokenError> {
    let ambient = |reason: String| TokenError::Ambient { reason };
    let mut url =
        url::Url::parse(request_url).map_err(|e| ambient(format!("bad request URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("audience", SIGSTORE_AUDIENCE);
    let resp = signet_net::client_builder()
        .build()
        .map_err(|e| ambient(crate::errors::chain(&e)))?
        .get(url)
        .bearer_auth(bearer)
        .send()
        .await
        .map_err(|e| ambient(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(ambient(format!("status {}", resp.status())));
    }
    #[derive(Deserialize)]
    struct Answer {
        value: String,
    }
    let a: Answer = resp.json().await.map_err(|e| ambient(e.to_string()))?;
    Ok(a.value)
}

/// The claims the client reads from a token (unverified).
#[derive(Debug, Deserialize)]
pub(crate) struct UnverifiedClaims {
    /// `iss`.
    pub(crate) iss: Option<String>,
    /// `sub`.
    pub(crate) sub: Option<String>,
    /// `email`.
    pub(crate) email: Option<String>,
}

/// Decodes a JWT payload without verifying the signature.
pub(crate) fn unverified_claims(token: &str) -> Result<UnverifiedClaims, TokenError> {
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed {
            reason: "expected three dot-separated parts".to_owned(),
        });
    };
    let raw = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| TokenError::Malformed {
            reason: format!("payload is not base64url: {e}"),
        })?;
    signet_proto::json::from_slice(&raw).map_err(|e| TokenError::Malformed {
        reason: format!("payload is not a JSON claims object: {e}"),
    })
}

/// The string the proof of possession signs: the `email` claim when present, else `sub`.
pub(crate) fn challenge_subject(claims: &UnverifiedClaims) -> Result<String, TokenError> {
    claims
        .email
        .clone()
        .filter(|e| !e.is_empty())
        .or_else(|| claims.sub.clone().filter(|s| !s.is_empty()))
        .ok_or(TokenError::NoSubject)
}

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn email_wins_over_sub() {
        let c = unverified_claims(&jwt(r#"{"sub":"123","email":"a@b.c","iss":"x"}"#)).unwrap();
        assert_eq!(challenge_subject(&c).unwrap(), "a@b.c");
        let c = unverified_claims(&jwt(r#"{"sub":"repo:o/r:ref:refs/heads/main"}"#)).unwrap();
        assert_eq!(
            challenge_subject(&c).unwrap(),
            "repo:o/r:ref:refs/heads/main"
        );
    }

    #[test]
    fn rejects_non_jwt() {
        assert!(unverified_claims("abc").is_err());
        assert!(matches!(
            challenge_subject(&unverified_claims(&jwt("{}")).unwrap()),
            Err(TokenError::NoSubject)
        ));
    }
}
