//! Registry authentication: answering a `401`'s `WWW-Authenticate` challenge.
//!
//! Specs: HTTP Basic (`WWW-Authenticate: Basic`, RFC 7617) and the Docker registry token flow
//! (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`): anonymous or Basic-authenticated
//! `GET` at the realm, or, for an identity token, the OAuth2 refresh-token grant (`POST`,
//! `grant_type=refresh_token`). The challenge and the token service's answer are parsed by the
//! pure, fuzzed [`signet_proto::oci`].
//!
//! Credentials (from [`super::credentials`]) and tokens are sent only to the registry's own
//! origin and to the token realm it names, never to other hosts (such as an upload `Location`
//! elsewhere); a realm off loopback must be HTTPS when the registry is.
//!
//! What this does not do: Digest or other schemes, token refresh before expiry (a new
//! challenge is answered when one comes).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use signet_proto::oci::{parse_challenge, parse_token_response, Challenge};

use super::{is_loopback_host, RegistryClient, RegistryError};

/// What to do when the registry wants credentials and has none or rejects them.
const CREDENTIALS_HINT: &str = "set SIGNET_REGISTRY_USERNAME and SIGNET_REGISTRY_PASSWORD, \
or log in with `docker login` (config.json in DOCKER_CONFIG or ~/.docker: `auths`, or a \
credential helper named by `credHelpers`/`credsStore`)";

/// Largest token service answer we read (a token is a JWT of a few KiB).
const MAX_TOKEN_RESPONSE_BYTES: usize = 1 << 20;

impl RegistryClient {
    pub(super) fn cached_auth(&self) -> Option<String> {
        self.auth_header.lock().ok().and_then(|g| g.clone())
    }

    /// Whether `url` is on the registry itself: same scheme, host and port as its base URL.
    /// Credentials and tokens are only ever sent there (as the docker client's challenge
    /// manager does), so an upload `Location` on another host gets no `Authorization` header.
    pub(super) fn on_registry(&self, url: &str) -> bool {
        match (url::Url::parse(url), url::Url::parse(&self.base)) {
            (Ok(a), Ok(b)) => a.origin() == b.origin(),
            _ => false,
        }
    }

    /// Why a request still got 401 after its challenge was answered.
    fn rejected(&self, method: &Method, url: &str) -> String {
        match &self.credentials {
            Some(c) => format!(
                "the registry rejected the credentials of user {:?} (from {}): {method} {url} answered 401 Unauthorized",
                c.username, c.source
            ),
            None => format!(
                "the registry refused anonymous access: {method} {url} answered 401 Unauthorized; {CREDENTIALS_HINT}"
            ),
        }
    }

    /// Sends a request, answering one authentication challenge if the registry sends one.
    ///
    /// A `401` that remains after answering (wrong credentials, or none where they are
    /// needed), a `401` without a challenge and a `401` from a URL outside the registry are
    /// [`RegistryError::Auth`], never a response.
    pub(super) async fn send(
        &self,
        method: Method,
        url: &str,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
    ) -> Result<reqwest::Response, RegistryError> {
        let on_registry = self.on_registry(url);
        let mut answered = false;
        loop {
            let mut req = self
                .http
                .request(method.clone(), url)
                .headers(headers.clone());
            if let Some(auth) = self.cached_auth().filter(|_| on_registry) {
                req = req.header(AUTHORIZATION, auth);
            }
            if let Some(b) = &body {
                req = req.body(b.clone());
            }
            let sent = std::time::Instant::now();
            let resp = req.send().await;
            super::count_request(sent.elapsed());
            let resp = resp.map_err(|cause| RegistryError::Transport {
                method: method.clone(),
                url: url.to_owned(),
                cause,
            })?;
            if resp.status() != StatusCode::UNAUTHORIZED {
                return Ok(resp);
            }
            if !on_registry {
                return Err(RegistryError::Auth {
                    reason: format!(
                        "{method} {url} answered 401 Unauthorized; it is not on the registry {}, so no credentials are sent there",
                        self.base
                    ),
                });
            }
            if answered {
                return Err(RegistryError::Auth {
                    reason: self.rejected(&method, url),
                });
            }
            let challenge = resp
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let Some(challenge) = challenge else {
                return Err(RegistryError::Auth {
                    reason: format!(
                        "{method} {url} answered 401 Unauthorized without a WWW-Authenticate challenge"
                    ),
                });
            };
            let auth = self.answer_challenge(&challenge).await?;
            if let Ok(mut g) = self.auth_header.lock() {
                *g = Some(auth);
            }
            answered = true;
        }
    }

    async fn answer_challenge(&self, challenge: &str) -> Result<String, RegistryError> {
        let Challenge { scheme, params } = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            let c = self.credentials.as_ref().ok_or_else(|| RegistryError::Auth {
                reason: format!(
                    "the registry {} requires HTTP Basic authentication{} and no credentials were found; {CREDENTIALS_HINT}",
                    self.base,
                    params
                        .get("realm")
                        .map(|r| format!(" (realm {r:?})"))
                        .unwrap_or_default()
                ),
            })?;
            if c.is_identity_token() {
                return Err(RegistryError::Auth {
                    reason: format!(
                        "the registry {} asks for HTTP Basic authentication, but the credentials from {} are an identity token, which only a Bearer token service accepts",
                        self.base, c.source
                    ),
                });
            }
            return Ok(format!(
                "Basic {}",
                B64.encode(format!("{}:{}", c.username, c.password))
            ));
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(RegistryError::Auth {
                reason: format!("unsupported auth scheme {scheme:?}"),
            });
        }
        let realm = params.get("realm").ok_or_else(|| RegistryError::Auth {
            reason: "bearer challenge without realm".to_owned(),
        })?;
        let mut url = url::Url::parse(realm).map_err(|e| RegistryError::Auth {
            reason: format!("bad realm {realm:?}: {e}"),
        })?;
        if url.scheme() != "https"
            && !url.host_str().is_some_and(is_loopback_host)
            && self.base.starts_with("https")
        {
            return Err(RegistryError::Auth {
                reason: format!("token realm {realm} is not HTTPS"),
            });
        }
        let scope = params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{}:pull,push", self.repository));
        let (token_method, req) = match &self.credentials {
            // An identity token is exchanged at the token service with the OAuth2
            // refresh-token grant (docker token specification, "OAuth2 token").
            Some(c) if c.is_identity_token() => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", &c.password)
                    .append_pair("client_id", "signet")
                    .append_pair("scope", &scope);
                if let Some(s) = params.get("service") {
                    form.append_pair("service", s);
                }
                (
                    Method::POST,
                    self.http
                        .post(url.as_str())
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(form.finish()),
                )
            }
            credentials => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = params.get("service") {
                        q.append_pair("service", s);
                    }
                    q.append_pair("scope", &scope);
                }
                let req = self.http.get(url.as_str());
                (
                    Method::GET,
                    match credentials {
                        Some(c) => req.basic_auth(&c.username, Some(&c.password)),
                        None => req,
                    },
                )
            }
        };
        let resp = req.send().await.map_err(|e| RegistryError::Auth {
            reason: format!("token request to {realm} failed: {e}"),
        })?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(RegistryError::Auth {
                reason: match &self.credentials {
                    Some(c) if c.is_identity_token() => format!(
                        "token endpoint {realm} rejected the identity token (from {})",
                        c.source
                    ),
                    Some(c) => format!(
                        "token endpoint {realm} rejected the credentials of user {:?} (from {})",
                        c.username, c.source
                    ),
                    None => format!(
                        "token endpoint {realm} refused anonymous access; {CREDENTIALS_HINT}"
                    ),
                },
            });
        }
        if !resp.status().is_success() {
            return Err(RegistryError::Auth {
                reason: format!("token endpoint {realm} answered {}", resp.status()),
            });
        }
        let body = Self::read_limited(
            resp,
            MAX_TOKEN_RESPONSE_BYTES,
            "token response",
            token_method,
            realm,
        )
        .await
        .map_err(|e| RegistryError::Auth {
            reason: format!("bad token response: {e}"),
        })?;
        let token = parse_token_response(&body).map_err(|e| RegistryError::Auth {
            reason: e.to_string(),
        })?;
        Ok(format!("Bearer {token}"))
    }
}

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use reqwest::header::LOCATION;
    use signet_proto::oci::EMPTY_MEDIA_TYPE;

    use super::super::credentials::{Credentials, IDENTITY_TOKEN_USER};
    use super::super::{sha256_digest, Reference, RegistryOptions, OCI_MANIFEST};
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// What the fake registry and the fake upload host saw: (path, Authorization header).
    type Seen = std::sync::Arc<Mutex<Vec<(String, Option<String>)>>>;

    fn record(seen: &Seen, req: &axum::extract::Request) -> Option<String> {
        let auth = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        seen.lock()
            .unwrap()
            .push((req.uri().path().to_owned(), auth.clone()));
        auth
    }

    async fn serve(router: axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        addr.to_string()
    }

    /// A registry that wants HTTP Basic `u:pw` on every request (as distribution's htpasswd
    /// does) and whose upload `Location` points at `upload_host`, a different origin.
    fn basic_registry(seen: Seen, upload_host: String) -> axum::Router {
        use axum::http::HeaderValue;
        use axum::response::IntoResponse as _;
        let expected = format!("Basic {}", B64.encode("u:pw"));
        axum::Router::new().fallback(move |req: axum::extract::Request| {
            let seen = seen.clone();
            let expected = expected.clone();
            let upload_host = upload_host.clone();
            async move {
                let auth = record(&seen, &req);
                if auth.as_deref() != Some(expected.as_str()) {
                    let mut r = StatusCode::UNAUTHORIZED.into_response();
                    r.headers_mut().insert(
                        WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"test\""),
                    );
                    return r;
                }
                let path = req.uri().path();
                if req.method() == Method::POST && path.ends_with("/blobs/uploads/") {
                    let mut r = StatusCode::ACCEPTED.into_response();
                    r.headers_mut().insert(
                        LOCATION,
                        HeaderValue::from_str(&format!("http://{upload_host}/upload/1?state=x"))
                            .unwrap(),
                    );
                    return r;
                }
                if path.contains("/manifests/") {
                    let body = format!(
                        "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_MANIFEST}\",\"config\":{{\"mediaType\":\"{EMPTY_MEDIA_TYPE}\",\"digest\":\"sha256:{}\",\"size\":2}},\"layers\":[]}}",
                        "4".repeat(64)
                    );
                    return ([(CONTENT_TYPE, OCI_MANIFEST)], body).into_response();
                }
                StatusCode::NOT_FOUND.into_response()
            }
        })
    }

    fn loopback_client(addr: &str, credentials: Option<(&str, &str)>) -> RegistryClient {
        let r = Reference::parse(&format!("{addr}/a/b:t")).unwrap();
        let mut c = RegistryClient::new(&r, &RegistryOptions::default()).unwrap();
        c.credentials = credentials.map(|(u, p)| Credentials {
            username: u.to_owned(),
            password: p.to_owned(),
            source: "the test".to_owned(),
        });
        c
    }

    /// Basic challenges: no credentials and wrong credentials are `Auth` errors that say so
    /// (and never echo the password); the right ones are sent and the cached header is reused.
    #[test]
    fn basic_challenge_missing_wrong_and_right_credentials() {
        rt().block_on(async {
            let seen = Seen::default();
            let addr = serve(basic_registry(seen.clone(), "127.0.0.1:9".to_owned())).await;
            let r = Reference::parse(&format!("{addr}/a/b:t")).unwrap();

            let err = loopback_client(&addr, None).resolve(&r).await.unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, RegistryError::Auth { .. }), "{msg}");
            assert!(
                msg.contains("requires HTTP Basic authentication (realm \"test\")")
                    && msg.contains("SIGNET_REGISTRY_USERNAME"),
                "{msg}"
            );

            let err = loopback_client(&addr, Some(("u", "wrong-pw")))
                .resolve(&r)
                .await
                .unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, RegistryError::Auth { .. }), "{msg}");
            assert!(
                msg.contains("rejected the credentials of user \"u\" (from the test)")
                    && !msg.contains("wrong-pw"),
                "{msg}"
            );

            seen.lock().unwrap().clear();
            let c = loopback_client(&addr, Some(("u", "pw")));
            let m = c.resolve(&r).await.unwrap();
            assert_eq!(m.media_type, OCI_MANIFEST);
            c.get_manifest("t").await.unwrap().unwrap();
            let seen = seen.lock().unwrap().clone();
            let auths: Vec<bool> = seen.iter().map(|(_, a)| a.is_some()).collect();
            // Challenge, answer, then the cached header goes out with the first request.
            assert_eq!(auths, vec![false, true, true], "{seen:?}");
        });
    }

    /// A registry with an OAuth2 token service (`Bearer realm=.../token`): the token service
    /// takes the refresh token `rt-good` (POST, `grant_type=refresh_token`) or HTTP Basic
    /// `u:pw` (GET), and answers an access token the registry then accepts.
    fn bearer_registry(seen: Seen) -> axum::Router {
        use axum::http::HeaderValue;
        use axum::response::IntoResponse as _;
        axum::Router::new().fallback(move |req: axum::extract::Request| {
            let seen = seen.clone();
            async move {
                let auth = record(&seen, &req);
                let host = req
                    .headers()
                    .get("host")
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                if req.uri().path() == "/token" {
                    let query = req.uri().query().unwrap_or_default().to_owned();
                    let method = req.method().clone();
                    let body = axum::body::to_bytes(req.into_body(), 1 << 16).await.unwrap();
                    let form: BTreeMap<String, String> =
                        url::form_urlencoded::parse(&body).into_owned().collect();
                    let field = |k: &str| form.get(k).map(String::as_str);
                    let ok = if method == Method::POST {
                        field("grant_type") == Some("refresh_token")
                            && field("refresh_token") == Some("rt-good")
                            && field("service") == Some("test-registry")
                            && field("scope") == Some("repository:a/b:pull,push")
                            && field("client_id").is_some()
                    } else {
                        auth.as_deref() == Some(format!("Basic {}", B64.encode("u:pw")).as_str())
                            && query.contains("service=test-registry")
                    };
                    if !ok {
                        return StatusCode::UNAUTHORIZED.into_response();
                    }
                    return axum::Json(serde_json::json!({"access_token": "at-1"})).into_response();
                }
                if auth.as_deref() != Some("Bearer at-1") {
                    let mut r = StatusCode::UNAUTHORIZED.into_response();
                    r.headers_mut().insert(
                        WWW_AUTHENTICATE,
                        HeaderValue::from_str(&format!(
                            "Bearer realm=\"http://{host}/token\",service=\"test-registry\""
                        ))
                        .unwrap(),
                    );
                    return r;
                }
                let body = format!(
                    "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_MANIFEST}\",\"config\":{{\"mediaType\":\"{EMPTY_MEDIA_TYPE}\",\"digest\":\"sha256:{}\",\"size\":2}},\"layers\":[]}}",
                    "4".repeat(64)
                );
                ([(CONTENT_TYPE, OCI_MANIFEST)], body).into_response()
            }
        })
    }

    /// Identity tokens go to the token service as an OAuth2 refresh-token grant (never as
    /// Basic); passwords as Basic on a GET; a rejected identity token is an `Auth` error that
    /// names it without echoing it.
    #[test]
    fn identity_tokens_use_the_oauth2_refresh_grant() {
        rt().block_on(async {
            let seen = Seen::default();
            let addr = serve(bearer_registry(seen.clone())).await;
            let r = Reference::parse(&format!("{addr}/a/b:t")).unwrap();
            let m = loopback_client(&addr, Some((IDENTITY_TOKEN_USER, "rt-good")))
                .resolve(&r)
                .await
                .unwrap();
            assert_eq!(m.media_type, OCI_MANIFEST);
            {
                let seen = seen.lock().unwrap();
                let token_call = seen.iter().find(|(p, _)| p == "/token").unwrap();
                assert_eq!(token_call.1, None, "no Basic header with a refresh token");
            }
            let m = loopback_client(&addr, Some(("u", "pw")))
                .resolve(&r)
                .await
                .unwrap();
            assert_eq!(m.media_type, OCI_MANIFEST);
            let err = loopback_client(&addr, Some((IDENTITY_TOKEN_USER, "rt-revoked")))
                .resolve(&r)
                .await
                .unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, RegistryError::Auth { .. }), "{msg}");
            assert!(
                msg.contains("rejected the identity token (from the test)")
                    && !msg.contains("rt-revoked"),
                "{msg}"
            );
            // A Basic-only registry cannot take an identity token: named, not sent.
            let basic_seen = Seen::default();
            let basic = serve(basic_registry(basic_seen.clone(), "127.0.0.1:9".to_owned())).await;
            let rb = Reference::parse(&format!("{basic}/a/b:t")).unwrap();
            let err = loopback_client(&basic, Some((IDENTITY_TOKEN_USER, "rt-good")))
                .resolve(&rb)
                .await
                .unwrap_err();
            assert!(err.to_string().contains("are an identity token"), "{err}");
            assert!(basic_seen.lock().unwrap().iter().all(|(_, a)| a.is_none()));
        });
    }

    /// The token service's answer is read through `signet_proto::oci::parse_token_response`
    /// and capped in size: an answer without a usable token, one whose token cannot go into a
    /// header (it is not sent anywhere), garbage and an endless body are `Auth` errors that say
    /// so; `token` wins over `access_token`.
    #[test]
    fn token_service_answers_are_checked() {
        use axum::http::HeaderValue;
        use axum::response::IntoResponse as _;
        fn registry(answer: Vec<u8>, seen: Seen) -> axum::Router {
            axum::Router::new().fallback(move |req: axum::extract::Request| {
                let (answer, seen) = (answer.clone(), seen.clone());
                async move {
                    let auth = record(&seen, &req);
                    if req.uri().path() == "/token" {
                        return ([(CONTENT_TYPE, "application/json")], answer).into_response();
                    }
                    if auth.as_deref() != Some("Bearer good") {
                        let host = req.headers()["host"].to_str().unwrap().to_owned();
                        let mut r = StatusCode::UNAUTHORIZED.into_response();
                        r.headers_mut().insert(
                            WWW_AUTHENTICATE,
                            HeaderValue::from_str(&format!("Bearer realm=\"http://{host}/token\""))
                                .unwrap(),
                        );
                        return r;
                    }
                    let body = format!(
                        "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_MANIFEST}\",\"config\":{{\"mediaType\":\"{EMPTY_MEDIA_TYPE}\",\"digest\":\"sha256:{}\",\"size\":2}},\"layers\":[]}}",
                        "4".repeat(64)
                    );
                    ([(CONTENT_TYPE, OCI_MANIFEST)], body).into_response()
                }
            })
        }
        rt().block_on(async {
            let huge = format!(
                r#"{{"token":"good","padding":"{}"}}"#,
                "x".repeat(MAX_TOKEN_RESPONSE_BYTES)
            );
            for (answer, expected) in [
                (r#"{"token":"good","access_token":"other"}"#, Ok(())),
                (r#"{"token":"","access_token":"good"}"#, Ok(())),
                (r#"{"token":""}"#, Err("token response has no token")),
                (r#"{"expires_in":300}"#, Err("token response has no token")),
                (
                    r#"{"token":"good\r\nX-Injected: 1"}"#,
                    Err("token response has a token that is not visible ASCII"),
                ),
                ("<html>", Err("bad token response: expected value")),
                (
                    huge.as_str(),
                    Err("bad token response: registry response for token response exceeds 1048576 bytes"),
                ),
            ] {
                let seen = Seen::default();
                let addr = serve(registry(answer.as_bytes().to_vec(), seen.clone())).await;
                let r = Reference::parse(&format!("{addr}/a/b:t")).unwrap();
                let got = loopback_client(&addr, None).resolve(&r).await;
                match (got, expected) {
                    (Ok(m), Ok(())) => assert_eq!(m.media_type, OCI_MANIFEST),
                    (Err(err), Err(needle)) => {
                        let msg = err.to_string();
                        assert!(matches!(err, RegistryError::Auth { .. }), "{msg}");
                        assert!(msg.contains(needle), "{answer:.80}: {msg}");
                        assert!(!msg.contains("Injected"), "{msg}");
                        // Nothing but the challenge and the token request went out.
                        let paths: Vec<String> =
                            seen.lock().unwrap().iter().map(|(p, _)| p.clone()).collect();
                        assert_eq!(paths, ["/v2/a/b/manifests/t", "/token"], "{answer:.80}");
                    }
                    (got, expected) => panic!("{answer:.80}: {:?} vs {expected:?}", got.map(|m| m.media_type)),
                }
            }
        });
    }

    /// An upload `Location` on another origin gets the body but never the registry's
    /// credentials; if that host wants authentication, it is refused rather than answered.
    #[test]
    fn credentials_stay_on_the_registry_origin() {
        use axum::response::IntoResponse as _;
        rt().block_on(async {
            let upload_seen = Seen::default();
            let refuse = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let (us, rf) = (upload_seen.clone(), refuse.clone());
            let upload_host = serve(axum::Router::new().fallback(
                move |req: axum::extract::Request| {
                    let (us, rf) = (us.clone(), rf.clone());
                    async move {
                        record(&us, &req);
                        if rf.load(std::sync::atomic::Ordering::SeqCst) {
                            let mut r = StatusCode::UNAUTHORIZED.into_response();
                            r.headers_mut().insert(
                                WWW_AUTHENTICATE,
                                axum::http::HeaderValue::from_static("Basic realm=\"other\""),
                            );
                            return r;
                        }
                        StatusCode::CREATED.into_response()
                    }
                },
            ))
            .await;
            let reg_seen = Seen::default();
            let addr = serve(basic_registry(reg_seen.clone(), upload_host.clone())).await;
            let c = loopback_client(&addr, Some(("u", "pw")));

            let d = c.push_blob(b"payload", "application/x-test").await.unwrap();
            assert_eq!(d.digest, sha256_digest(b"payload"));
            let up = upload_seen.lock().unwrap().clone();
            assert_eq!(up.len(), 1, "{up:?}");
            assert_eq!(up[0].0, "/upload/1");
            assert_eq!(up[0].1, None, "credentials leaked to {upload_host}");
            assert!(
                reg_seen.lock().unwrap().iter().any(|(_, a)| a.is_some()),
                "the registry itself did get them"
            );

            refuse.store(true, std::sync::atomic::Ordering::SeqCst);
            let err = c
                .push_blob(b"other", "application/x-test")
                .await
                .unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, RegistryError::Auth { .. }), "{msg}");
            assert!(msg.contains("not on the registry"), "{msg}");
            assert!(
                upload_seen.lock().unwrap().iter().all(|(_, a)| a.is_none()),
                "no credentials after a foreign challenge either"
            );
        });
    }

    /// A registry that serves pulls anonymously but wants Basic `u:pw` to push: the push
    /// check fails without credentials (before `sign` would log anything) and succeeds with
    /// them, cancelling the upload session it opened.
    #[test]
    fn push_access_is_checked_without_storing_anything() {
        use axum::http::HeaderValue;
        use axum::response::IntoResponse as _;
        rt().block_on(async {
            let seen = Seen::default();
            let recorder = seen.clone();
            let expected = format!("Basic {}", B64.encode("u:pw"));
            let router = axum::Router::new().fallback(move |req: axum::extract::Request| {
                let seen = recorder.clone();
                let expected = expected.clone();
                async move {
                    let auth = record(&seen, &req);
                    let method = req.method().clone();
                    seen.lock()
                        .unwrap()
                        .push((format!("{method} {}", req.uri().path()), None));
                    if method == Method::GET {
                        return StatusCode::NOT_FOUND.into_response();
                    }
                    if auth.as_deref() != Some(expected.as_str()) {
                        let mut r = StatusCode::UNAUTHORIZED.into_response();
                        r.headers_mut().insert(
                            WWW_AUTHENTICATE,
                            HeaderValue::from_static("Basic realm=\"push\""),
                        );
                        return r;
                    }
                    if method == Method::POST {
                        let mut r = StatusCode::ACCEPTED.into_response();
                        r.headers_mut().insert(
                            LOCATION,
                            HeaderValue::from_static("/v2/a/b/blobs/uploads/session-1"),
                        );
                        return r;
                    }
                    StatusCode::NO_CONTENT.into_response()
                }
            });
            let addr = serve(router).await;
            let err = loopback_client(&addr, None)
                .check_push_access()
                .await
                .unwrap_err();
            assert!(matches!(err, RegistryError::Auth { .. }), "{err}");
            loopback_client(&addr, Some(("u", "pw")))
                .check_push_access()
                .await
                .unwrap();
            let calls: Vec<String> = seen
                .lock()
                .unwrap()
                .iter()
                .map(|(p, _)| p.clone())
                .collect();
            assert!(
                calls
                    .iter()
                    .any(|c| c == "DELETE /v2/a/b/blobs/uploads/session-1"),
                "the upload session is cancelled: {calls:?}"
            );
            assert!(
                !calls.iter().any(|c| c.starts_with("PUT")),
                "nothing stored: {calls:?}"
            );
        });
    }
}
