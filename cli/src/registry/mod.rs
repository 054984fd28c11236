//! A small OCI distribution client: resolve references, push blobs and manifests, and attach or
//! list OCI 1.1 referrers.
//!
//! Specs: OCI distribution-spec v1.1 (pull, push with a monolithic POST+PUT upload, the
//! referrers API and its fallback "referrers tag schema" `sha256-<hex>`), OCI image-spec v1.1
//! (manifests, indexes, `artifactType`, `subject`, the empty descriptor), the Docker
//! registry token flow (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`) and HTTP Basic
//! (`WWW-Authenticate: Basic`, RFC 7617). Credentials come from `SIGNET_REGISTRY_USERNAME` /
//! `SIGNET_REGISTRY_PASSWORD`, else the docker `config.json` as the docker CLI reads it: the
//! credential helper named by `credHelpers` or `credsStore` (`docker-credential-<name> get`,
//! the docker-credential-helpers protocol), else the `auths` entry. They are sent only to
//! the registry's own origin and to the token realm it names, never to other hosts (such as an
//! upload `Location` elsewhere).
//!
//! The wire formats it reads (references, platforms, descriptors, manifests and indexes,
//! digests, the referrers tag, the `WWW-Authenticate` challenge, the token service's answer)
//! are parsed by the pure, fuzzed [`signet_proto::oci`]; this module does the I/O.
//!
//! It does not do chunked uploads, cross-repository mounts, or pulls of image layers; it does
//! not descend into nested image indexes (the CLI signs an index's entries with `--recursive`
//! and picks one with `--platform`). Identity tokens (`identitytoken`, or a helper's `<token>`
//! user) are exchanged at the registry's token service with the OAuth2 refresh-token grant. TLS
//! is always used unless the registry is on a loopback address or the caller explicitly allows
//! plain HTTP (`--allow-insecure-registry`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

/// Whether `host[:port]` names a loopback address (the same test that normalises references).
pub(crate) use signet_proto::oci::is_loopback_registry as is_loopback_host;
use signet_proto::oci::{
    index_entries, is_index_media_type, parse_challenge, parse_index, parse_token_response,
    referrers_tag, Challenge, OciError, EMPTY_MEDIA_TYPE,
};
pub(crate) use signet_proto::oci::{
    is_registry_component, is_sha256_digest, normalize_registry, sha256_digest, Descriptor,
    ImageIndex, ImageManifest, Platform, Reference, BUNDLE_MEDIA_TYPE, DOCKER_HUB, OCI_INDEX,
    OCI_MANIFEST,
};

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// Largest manifest we read (the distribution spec suggests registries accept at least 4 MiB).
const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// What to do when the registry wants credentials and has none or rejects them.
const CREDENTIALS_HINT: &str = "set SIGNET_REGISTRY_USERNAME and SIGNET_REGISTRY_PASSWORD, \
or log in with `docker login` (config.json in DOCKER_CONFIG or ~/.docker: `auths`, or a \
credential helper named by `credHelpers`/`credsStore`)";

/// Largest blob we download (bundles are a few KiB).
const MAX_BLOB_BYTES: usize = 16 << 20;
/// Largest token service answer we read (a token is a JWT of a few KiB).
const MAX_TOKEN_RESPONSE_BYTES: usize = 1 << 20;

/// Errors of the registry client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum RegistryError {
    /// A reference, platform, digest, manifest or index does not parse
    /// ([`signet_proto::oci`]).
    #[error(transparent)]
    Oci(#[from] OciError),
    /// The HTTP request failed before a response.
    #[error("registry request {method} {url} failed: {source}")]
    Transport {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// The cause.
        source: reqwest::Error,
    },
    /// The registry answered with an unexpected status.
    #[error("registry {method} {url} answered {status}: {body}")]
    Status {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// The status.
        status: StatusCode,
        /// The start of the response body.
        body: String,
    },
    /// The content does not match its digest.
    #[error(
        "content from the registry does not match its digest: expected {expected}, got {actual}"
    )]
    DigestMismatch {
        /// The digest asked for.
        expected: String,
        /// The digest of what came back.
        actual: String,
    },
    /// A response is too large.
    #[error("registry response for {what} exceeds {limit} bytes")]
    TooLarge {
        /// What was being read.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A manifest or index could not be parsed.
    #[error("invalid {what} from the registry: {reason}")]
    Malformed {
        /// What was parsed.
        what: &'static str,
        /// The parse error.
        reason: String,
    },
    /// Authentication failed.
    #[error("registry authentication failed: {reason}")]
    Auth {
        /// Why.
        reason: String,
    },
}

/// A manifest as fetched: exact bytes, media type and digest.
#[derive(Clone, Debug)]
pub(crate) struct FetchedManifest {
    /// The manifest bytes exactly as served.
    pub(crate) bytes: Vec<u8>,
    /// Its media type (Content-Type, else the `mediaType` field).
    pub(crate) media_type: String,
    /// `sha256:<hex>` of `bytes`.
    pub(crate) digest: String,
}

impl FetchedManifest {
    /// Whether this is an image index (OCI index or Docker manifest list).
    pub(crate) fn is_index(&self) -> bool {
        is_index_media_type(&self.media_type)
    }

    /// The manifests an image index lists; `None` if this is not an index.
    ///
    /// # Errors
    /// [`OciError::Malformed`] if an index does not parse or lists a digest that is not
    /// sha256 ([`index_entries`]).
    pub(crate) fn index_entries(&self) -> Result<Option<Vec<Descriptor>>, RegistryError> {
        Ok(index_entries(&self.media_type, &self.bytes)?)
    }

    /// The descriptor of this manifest.
    pub(crate) fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.bytes.len() as u64,
            artifact_type: None,
            annotations: None,
            platform: None,
        }
    }
}

/// How referrers were attached or found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ReferrersMode {
    /// The registry's referrers API.
    Api,
    /// The referrers tag schema `sha256-<hex>`.
    TagSchema,
}

/// Options for connecting to a registry.
#[derive(Clone, Debug, Default)]
pub(crate) struct RegistryOptions {
    /// Allow plain HTTP to non-loopback registries.
    pub(crate) allow_insecure: bool,
}

/// A registry client bound to one repository.
pub(crate) struct RegistryClient {
    http: reqwest::Client,
    base: String,
    repository: String,
    credentials: Option<Credentials>,
    auth_header: Mutex<Option<String>>,
}

impl RegistryClient {
    /// Creates a client for `reference`'s registry and repository.
    ///
    /// Loopback registries and `allow_insecure` use plain HTTP; all others use HTTPS. The
    /// reference is normalised ([`Reference`]), and it is that name the client connects to:
    /// a registry without a port is at 443 over HTTPS (`:443` was dropped) and at 80 over
    /// plain HTTP (a loopback registry's `:80` and `:443` were dropped).
    ///
    /// # Errors
    /// [`RegistryError::Auth`] if the HTTP client cannot be built, or the docker config or its
    /// credential helper fails (see [`find_credentials`]).
    pub(crate) fn new(
        reference: &Reference,
        opts: &RegistryOptions,
    ) -> Result<Self, RegistryError> {
        let host = reference.api_host();
        let scheme = if is_loopback_host(host) || opts.allow_insecure {
            "http"
        } else {
            "https"
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("signet/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(5))
            .https_only(scheme == "https")
            .build()
            .map_err(|e| RegistryError::Auth {
                reason: format!("cannot build HTTP client: {e}"),
            })?;
        Ok(Self {
            http,
            base: format!("{scheme}://{host}"),
            repository: reference.repository.clone(),
            credentials: find_credentials(&reference.registry)?,
            auth_header: Mutex::new(None),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{}", self.base, self.repository, path)
    }

    fn cached_auth(&self) -> Option<String> {
        self.auth_header.lock().ok().and_then(|g| g.clone())
    }

    /// Whether `url` is on the registry itself: same scheme, host and port as its base URL.
    /// Credentials and tokens are only ever sent there (as the docker client's challenge
    /// manager does), so an upload `Location` on another host gets no `Authorization` header.
    fn on_registry(&self, url: &str) -> bool {
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
    async fn send(
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
            let resp = req
                .send()
                .await
                .map_err(|source| RegistryError::Transport {
                    method: method.clone(),
                    url: url.to_owned(),
                    source,
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

    async fn status_error(method: Method, url: &str, resp: reqwest::Response) -> RegistryError {
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        let body: String = body.chars().take(300).collect();
        RegistryError::Status {
            method,
            url: url.to_owned(),
            status,
            body,
        }
    }

    async fn read_limited(
        mut resp: reqwest::Response,
        limit: usize,
        what: &'static str,
        method: Method,
        url: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let mut out = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|source| RegistryError::Transport {
                method: method.clone(),
                url: url.to_owned(),
                source,
            })?
        {
            if out.len() + chunk.len() > limit {
                return Err(RegistryError::TooLarge { what, limit });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Fetches a manifest by tag or digest. Returns `None` on 404.
    ///
    /// When `reference` is a digest, the bytes are checked against it.
    ///
    /// # Errors
    /// Transport, status, size and digest errors.
    pub(crate) async fn get_manifest(
        &self,
        reference: &str,
    ) -> Result<Option<FetchedManifest>, RegistryError> {
        let url = self.url(&format!("manifests/{reference}"));
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            MANIFEST_ACCEPT
                .parse()
                .map_err(|_| RegistryError::Malformed {
                    what: "accept header",
                    reason: String::new(),
                })?,
        );
        let resp = self.send(Method::GET, &url, headers, None).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(Self::status_error(Method::GET, &url, resp).await);
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or("").trim().to_owned());
        let bytes =
            Self::read_limited(resp, MAX_MANIFEST_BYTES, "manifest", Method::GET, &url).await?;
        let digest = sha256_digest(&bytes);
        if is_sha256_digest(reference) && digest != reference {
            return Err(RegistryError::DigestMismatch {
                expected: reference.to_owned(),
                actual: digest,
            });
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct MediaTypeOnly {
            media_type: Option<String>,
        }
        let field = serde_json::from_slice::<MediaTypeOnly>(&bytes)
            .map_err(|e| RegistryError::Malformed {
                what: "manifest",
                reason: e.to_string(),
            })?
            .media_type;
        let media_type = field
            .or(content_type.filter(|c| !c.is_empty() && c != "application/json"))
            .unwrap_or_else(|| OCI_MANIFEST.to_owned());
        Ok(Some(FetchedManifest {
            bytes,
            media_type,
            digest,
        }))
    }

    /// Resolves `reference` (tag or digest) to its manifest.
    ///
    /// # Errors
    /// As [`Self::get_manifest`], plus a 404 status error when the manifest does not exist.
    pub(crate) async fn resolve(
        &self,
        reference: &Reference,
    ) -> Result<FetchedManifest, RegistryError> {
        let r = reference.manifest_ref();
        self.get_manifest(r)
            .await?
            .ok_or_else(|| RegistryError::Status {
                method: Method::GET,
                url: self.url(&format!("manifests/{r}")),
                status: StatusCode::NOT_FOUND,
                body: format!("manifest {reference} not found"),
            })
    }

    /// Downloads a blob and checks its digest.
    ///
    /// # Errors
    /// Transport, status, size and digest errors.
    pub(crate) async fn get_blob(&self, digest: &str) -> Result<Vec<u8>, RegistryError> {
        if !is_sha256_digest(digest) {
            return Err(RegistryError::Malformed {
                what: "blob digest",
                reason: format!("{digest:?} is not sha256:<hex>"),
            });
        }
        let url = self.url(&format!("blobs/{digest}"));
        let resp = self.send(Method::GET, &url, HeaderMap::new(), None).await?;
        if !resp.status().is_success() {
            return Err(Self::status_error(Method::GET, &url, resp).await);
        }
        let bytes = Self::read_limited(resp, MAX_BLOB_BYTES, "blob", Method::GET, &url).await?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(RegistryError::DigestMismatch {
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }

    async fn blob_exists(&self, digest: &str) -> Result<bool, RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        let resp = self
            .send(Method::HEAD, &url, HeaderMap::new(), None)
            .await?;
        Ok(resp.status().is_success())
    }

    /// Uploads `data` as a blob (monolithic POST then PUT), unless it is already there.
    ///
    /// # Errors
    /// Transport and status errors.
    pub(crate) async fn push_blob(
        &self,
        data: &[u8],
        media_type: &str,
    ) -> Result<Descriptor, RegistryError> {
        let digest = sha256_digest(data);
        let desc = Descriptor {
            media_type: media_type.to_owned(),
            digest: digest.clone(),
            size: data.len() as u64,
            artifact_type: None,
            annotations: None,
            platform: None,
        };
        if self.blob_exists(&digest).await? {
            return Ok(desc);
        }
        let url = self.url("blobs/uploads/");
        let resp = self
            .send(Method::POST, &url, HeaderMap::new(), None)
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(Self::status_error(Method::POST, &url, resp).await);
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| RegistryError::Malformed {
                what: "upload response",
                reason: "no Location header".to_owned(),
            })?
            .to_owned();
        let base = url::Url::parse(&self.base).map_err(|e| RegistryError::Malformed {
            what: "registry URL",
            reason: e.to_string(),
        })?;
        let mut put_url = base.join(&location).map_err(|e| RegistryError::Malformed {
            what: "upload Location",
            reason: e.to_string(),
        })?;
        put_url.query_pairs_mut().append_pair("digest", &digest);
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("application/octet-stream"),
        );
        let put = put_url.to_string();
        let resp = self
            .send(Method::PUT, &put, headers, Some(data.to_vec()))
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(Self::status_error(Method::PUT, &put, resp).await);
        }
        Ok(desc)
    }

    /// Checks that this client may push to the repository without storing anything: starts a
    /// blob upload and cancels it. `signet sign` calls it before it asks for a certificate, so
    /// a registry that refuses the push fails the command before anything is logged.
    ///
    /// # Errors
    /// [`RegistryError::Auth`] when the registry refuses the credentials (or their absence),
    /// status and transport errors otherwise.
    pub(crate) async fn check_push_access(&self) -> Result<(), RegistryError> {
        let url = self.url("blobs/uploads/");
        let resp = self
            .send(Method::POST, &url, HeaderMap::new(), None)
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(Self::status_error(Method::POST, &url, resp).await);
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Cancel the empty upload session (best effort: registries expire them anyway).
        if let Some(loc) = location {
            if let Ok(cancel) = url::Url::parse(&self.base).and_then(|b| b.join(&loc)) {
                let cancel = cancel.to_string();
                if self.on_registry(&cancel) {
                    let _ = self
                        .send(Method::DELETE, &cancel, HeaderMap::new(), None)
                        .await;
                }
            }
        }
        Ok(())
    }

    /// Pushes a manifest under `reference` (a tag or its digest). Returns whether the registry
    /// sent `OCI-Subject` (it processed the subject for its referrers API).
    ///
    /// # Errors
    /// Transport and status errors.
    pub(crate) async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<bool, RegistryError> {
        let url = self.url(&format!("manifests/{reference}"));
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            media_type.parse().map_err(|_| RegistryError::Malformed {
                what: "media type",
                reason: media_type.to_owned(),
            })?,
        );
        let resp = self
            .send(Method::PUT, &url, headers, Some(bytes.to_vec()))
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(Self::status_error(Method::PUT, &url, resp).await);
        }
        Ok(resp.headers().contains_key("oci-subject"))
    }

    /// Lists the referrers of `subject_digest`: the referrers API first, then the tag schema.
    /// When `artifact_type` is given, only referrers of that type are returned.
    ///
    /// # Errors
    /// Transport, status and parse errors.
    pub(crate) async fn referrers(
        &self,
        subject_digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<(Vec<Descriptor>, ReferrersMode), RegistryError> {
        let url = self.url(&format!("referrers/{subject_digest}"));
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, reqwest::header::HeaderValue::from_static(OCI_INDEX));
        let resp = self.send(Method::GET, &url, headers, None).await?;
        let (index, mode) = if resp.status().is_success()
            && resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|c| c.starts_with(OCI_INDEX))
        {
            let bytes =
                Self::read_limited(resp, MAX_MANIFEST_BYTES, "referrers", Method::GET, &url)
                    .await?;
            (parse_index(&bytes)?, ReferrersMode::Api)
        } else if matches!(
            resp.status(),
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED | StatusCode::BAD_REQUEST
        ) || resp.status().is_success()
        {
            (
                self.tag_schema_index(subject_digest).await?,
                ReferrersMode::TagSchema,
            )
        } else {
            return Err(Self::status_error(Method::GET, &url, resp).await);
        };
        let list = index
            .manifests
            .into_iter()
            .filter(|d| artifact_type.is_none_or(|t| d.artifact_type.as_deref() == Some(t)))
            .collect();
        Ok((list, mode))
    }

    async fn tag_schema_index(&self, subject_digest: &str) -> Result<ImageIndex, RegistryError> {
        let tag = referrers_tag(subject_digest)?;
        match self.get_manifest(&tag).await? {
            Some(m) => Ok(parse_index(&m.bytes)?),
            None => Ok(ImageIndex::empty()),
        }
    }

    /// Fetches an artifact manifest by digest and returns it parsed.
    ///
    /// # Errors
    /// Transport, status, digest and parse errors.
    pub(crate) async fn get_image_manifest(
        &self,
        digest: &str,
    ) -> Result<ImageManifest, RegistryError> {
        let m = self
            .get_manifest(digest)
            .await?
            .ok_or_else(|| RegistryError::Status {
                method: Method::GET,
                url: self.url(&format!("manifests/{digest}")),
                status: StatusCode::NOT_FOUND,
                body: "referrer manifest not found".to_owned(),
            })?;
        serde_json::from_slice(&m.bytes).map_err(|e| RegistryError::Malformed {
            what: "artifact manifest",
            reason: e.to_string(),
        })
    }

    /// Attaches `payload` (of `artifact_type`, also its layer media type) to `subject` as an
    /// OCI 1.1 referrer. When the registry does not index the subject itself, the referrers tag
    /// schema index is updated (read, append, write) so earlier referrers are kept.
    ///
    /// # Errors
    /// Transport, status and parse errors.
    pub(crate) async fn attach_referrer(
        &self,
        subject: &Descriptor,
        artifact_type: &str,
        payload: &[u8],
        annotations: BTreeMap<String, String>,
    ) -> Result<(Descriptor, ReferrersMode), RegistryError> {
        let config = self.push_blob(b"{}", EMPTY_MEDIA_TYPE).await?;
        let layer = self.push_blob(payload, artifact_type).await?;
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.to_owned()),
            artifact_type: Some(artifact_type.to_owned()),
            config,
            layers: vec![layer],
            subject: Some(Descriptor {
                media_type: subject.media_type.clone(),
                digest: subject.digest.clone(),
                size: subject.size,
                artifact_type: None,
                annotations: None,
                platform: None,
            }),
            annotations: (!annotations.is_empty()).then(|| annotations.clone()),
        };
        let bytes = serde_json::to_vec(&manifest).map_err(|e| RegistryError::Malformed {
            what: "artifact manifest",
            reason: e.to_string(),
        })?;
        let digest = sha256_digest(&bytes);
        let indexed_by_registry = self.put_manifest(&digest, OCI_MANIFEST, &bytes).await?;
        let desc = Descriptor {
            media_type: OCI_MANIFEST.to_owned(),
            digest,
            size: bytes.len() as u64,
            artifact_type: Some(artifact_type.to_owned()),
            annotations: (!annotations.is_empty()).then_some(annotations),
            platform: None,
        };
        if indexed_by_registry {
            return Ok((desc, ReferrersMode::Api));
        }
        let mut index = self.tag_schema_index(&subject.digest).await?;
        if !index.manifests.iter().any(|d| d.digest == desc.digest) {
            index.manifests.push(desc.clone());
        }
        index.media_type = Some(OCI_INDEX.to_owned());
        let index_bytes = serde_json::to_vec(&index).map_err(|e| RegistryError::Malformed {
            what: "referrers index",
            reason: e.to_string(),
        })?;
        self.put_manifest(&referrers_tag(&subject.digest)?, OCI_INDEX, &index_bytes)
            .await?;
        Ok((desc, ReferrersMode::TagSchema))
    }
}

/// Registry credentials and where they came from (named in error messages; the password never
/// is).
#[derive(Clone)]
pub(crate) struct Credentials {
    /// The user name.
    pub(crate) username: String,
    /// The password (or token) sent with HTTP Basic.
    pub(crate) password: String,
    /// Where they were found, e.g. `SIGNET_REGISTRY_USERNAME/SIGNET_REGISTRY_PASSWORD`.
    pub(crate) source: String,
}

/// The user name docker credential helpers and signet use for an identity token: the
/// password is then an OAuth2 refresh token for the registry's token service.
const IDENTITY_TOKEN_USER: &str = "<token>";

impl Credentials {
    /// Whether the password is an identity token (OAuth2 refresh token), which only a Bearer
    /// token service accepts (`grant_type=refresh_token`).
    fn is_identity_token(&self) -> bool {
        self.username == IDENTITY_TOKEN_USER
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("source", &self.source)
            .finish()
    }
}

/// Registry credentials, in docker's order: `SIGNET_REGISTRY_USERNAME`/`SIGNET_REGISTRY_PASSWORD`;
/// else the docker `config.json` (`DOCKER_CONFIG` overrides `~/.docker`): the credential helper
/// that `credHelpers` names for this registry, else the `credsStore` helper, else the `auths`
/// entry.
///
/// # Errors
/// [`RegistryError::Auth`] for an unreadable or malformed `config.json`, and for a configured
/// credential helper that cannot be run, fails, or answers something other than credentials
/// (a helper that answers "credentials not found" gives `Ok(None)`).
fn find_credentials(registry: &str) -> Result<Option<Credentials>, RegistryError> {
    if let (Ok(u), Ok(p)) = (
        std::env::var("SIGNET_REGISTRY_USERNAME"),
        std::env::var("SIGNET_REGISTRY_PASSWORD"),
    ) {
        return Ok(Some(Credentials {
            username: u,
            password: p,
            source: "SIGNET_REGISTRY_USERNAME/SIGNET_REGISTRY_PASSWORD".to_owned(),
        }));
    }
    let Some(dir) = std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))
    else {
        return Ok(None);
    };
    let path = dir.join("config.json");
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(RegistryError::Auth {
                reason: format!("cannot read docker config {}: {e}", path.display()),
            })
        }
    };
    let config: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| RegistryError::Auth {
            reason: format!("docker config {} is not valid JSON: {e}", path.display()),
        })?;
    if let Some(helper) = docker_config_helper(&config, registry) {
        let server = docker_config_server(registry);
        let program = format!("docker-credential-{helper}");
        return run_credential_helper(&program, &server, CREDENTIAL_HELPER_TIMEOUT)
            .map_err(|reason| RegistryError::Auth {
                reason: format!("{reason} (configured in {})", path.display()),
            })
            .map(|found| {
                found.map(|(username, password)| Credentials {
                    username,
                    password,
                    source: format!("{program}, configured in {}", path.display()),
                })
            });
    }
    Ok(
        docker_config_credentials(&config, registry).map(|(username, password)| Credentials {
            username,
            password,
            source: path.display().to_string(),
        }),
    )
}

/// How long a credential helper may take (some ask the user to unlock a keychain).
const CREDENTIAL_HELPER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The credential helper a docker `config.json` names for `registry`: its `credHelpers` entry
/// (keys compared by [`config_key_names`]), else `credsStore`. Names that could leave
/// `docker-credential-<name>` (path separators, empty) are ignored.
fn docker_config_helper(config: &serde_json::Value, registry: &str) -> Option<String> {
    let per_registry = config
        .get("credHelpers")
        .and_then(|h| h.as_object())
        .and_then(|helpers| {
            helpers
                .iter()
                .find_map(|(k, v)| config_key_names(k, registry).then(|| v.as_str()).flatten())
        });
    let name = per_registry.or_else(|| config.get("credsStore").and_then(|s| s.as_str()))?;
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    valid.then(|| name.to_owned())
}

/// The server URL a credential helper is asked about: what `docker login` stored it under
/// (Docker Hub's historical URL, else the registry host).
fn docker_config_server(registry: &str) -> String {
    if registry == "docker.io" {
        "https://index.docker.io/v1/".to_owned()
    } else {
        registry.to_owned()
    }
}

/// Runs `<program> get` (a `docker-credential-<name>` found on `PATH`, or a path) with
/// `server` on stdin (the docker credential helper protocol) and parses its `{"Username", "Secret"}` answer. `Ok(None)` when the helper knows
/// no credentials for `server` (it exits non-zero saying "credentials not found").
///
/// An identity token comes back as user `<token>` ([`IDENTITY_TOKEN_USER`]) with the refresh
/// token as secret, as the helpers answer it.
///
/// # Errors
/// A message naming the helper when it is missing from `PATH`, times out, fails otherwise, or
/// answers malformed JSON.
fn run_credential_helper(
    program: &str,
    server: &str,
    timeout: std::time::Duration,
) -> Result<Option<(String, String)>, String> {
    use std::io::{Read as _, Write as _};
    use std::process::{Command, Stdio};

    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the docker credential helper {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    // Read both pipes on their own threads so a chatty helper cannot block on a full pipe.
    let pipe = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(r) = r {
                let _ = r.take(1 << 20).read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = pipe(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    );
    let stderr = pipe(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    );
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the docker credential helper {program} did not answer within {} s",
                    timeout.as_secs()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "waiting for the docker credential helper {program}: {e}"
                ))
            }
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    let said = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .trim()
            .chars()
            .take(300)
            .collect::<String>()
    };
    if !status.success() {
        // docker-credential-helpers' ErrCredentialsNotFound text, on stdout.
        if said(&out).contains("credentials not found") {
            return Ok(None);
        }
        let msg = if err.is_empty() {
            said(&out)
        } else {
            said(&err)
        };
        return Err(format!(
            "the docker credential helper {program} failed ({status}) for {server}: {msg}"
        ));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let a: Answer = serde_json::from_slice(&out).map_err(|e| {
        format!("the docker credential helper {program} answered invalid JSON for {server}: {e}")
    })?;
    if a.username.is_empty() && a.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some((a.username, a.secret)))
}

/// The host part of a docker config `auths` key, as the docker CLI compares them
/// (`ConvertToHostname`): without an `http://`/`https://` prefix and without any path, so
/// `https://127.0.0.1:5000/v2/` and `127.0.0.1:5000` name the same registry.
fn docker_config_host(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

/// Whether the docker config key `key` (of `auths` or `credHelpers`) names the normalised
/// registry `registry`: its host ([`docker_config_host`]) normalised as image references are
/// ([`normalize_registry`]: case, `:443`, a trailing dot, Docker Hub's
/// aliases).
fn config_key_names(key: &str, registry: &str) -> bool {
    normalize_registry(docker_config_host(key)).is_ok_and(|h| h == registry)
}

/// The user name and password for `registry` in a parsed docker `config.json`: the `auths`
/// entry whose key is the registry (exactly, else by [`config_key_names`], so Docker Hub also
/// matches `index.docker.io` and `registry-1.docker.io`), from its `auth` field
/// (base64 of `user:password`) or else its `username`/`password` fields; an `identitytoken`
/// comes first, as user [`IDENTITY_TOKEN_USER`]. Credential helpers are
/// [`docker_config_helper`]'s.
fn docker_config_credentials(
    config: &serde_json::Value,
    registry: &str,
) -> Option<(String, String)> {
    let auths = config.get("auths")?.as_object()?;
    let exact = if registry == "docker.io" {
        vec![
            "https://index.docker.io/v1/".to_owned(),
            "docker.io".to_owned(),
        ]
    } else {
        vec![registry.to_owned(), format!("https://{registry}")]
    };
    let entry = exact.iter().find_map(|k| auths.get(k)).or_else(|| {
        auths
            .iter()
            .find(|(k, _)| config_key_names(k, registry))
            .map(|(_, v)| v)
    })?;
    // `docker login` against a registry with an OAuth2 token service (e.g. Azure's) stores an
    // identity token; it takes precedence over the `auth` field, as in the docker CLI.
    if let Some(token) = entry
        .get("identitytoken")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
    {
        return Some((IDENTITY_TOKEN_USER.to_owned(), token.to_owned()));
    }
    if let Some(auth) = entry
        .get("auth")
        .and_then(|a| a.as_str())
        .filter(|a| !a.is_empty())
    {
        let raw = B64.decode(auth.trim()).ok()?;
        let s = String::from_utf8(raw).ok()?;
        let (u, p) = s.split_once(':')?;
        return Some((u.to_owned(), p.to_owned()));
    }
    let u = entry.get("username")?.as_str()?;
    let p = entry.get("password")?.as_str()?;
    (!u.is_empty()).then(|| (u.to_owned(), p.to_owned()))
}

#[cfg(test)]
#[path = "../../tests/support/registry.rs"]
mod test_registry;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::test_registry::{require_tools, TestRegistry};
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn client(reg: &TestRegistry, repo: &str) -> (RegistryClient, Reference) {
        let r = Reference::parse(&format!("{}/{repo}:t", reg.addr)).unwrap();
        (
            RegistryClient::new(&r, &RegistryOptions::default()).unwrap(),
            r,
        )
    }

    /// Resolves a tag, attaches two referrers through the tag schema (docker-registry 2.8 has
    /// no referrers API) and lists both; then moves the tag and checks the new digest has none.
    #[test]
    fn attach_and_list_referrers_on_docker_registry() {
        require_tools(&["docker-registry", "umoci", "skopeo"]);
        let reg = TestRegistry::start();
        let digest = reg.push_image("test/app", "t", "one");
        let (c, r) = client(&reg, "test/app");
        rt().block_on(async {
            let m = c.resolve(&r).await.unwrap();
            assert_eq!(m.digest, digest, "resolved digest must match skopeo's");
            assert_eq!(m.media_type, OCI_MANIFEST);
            let by_digest = c.resolve(&r.with_digest(&digest)).await.unwrap();
            assert_eq!(by_digest.bytes, m.bytes);
            let subject = m.descriptor();

            let (none, mode) = c.referrers(&digest, Some(BUNDLE_MEDIA_TYPE)).await.unwrap();
            assert!(none.is_empty());
            assert_eq!(mode, ReferrersMode::TagSchema);

            let (d1, mode1) = c
                .attach_referrer(
                    &subject,
                    BUNDLE_MEDIA_TYPE,
                    b"{\"first\":1}",
                    BTreeMap::new(),
                )
                .await
                .unwrap();
            assert_eq!(mode1, ReferrersMode::TagSchema);
            let (d2, _) = c
                .attach_referrer(
                    &subject,
                    BUNDLE_MEDIA_TYPE,
                    b"{\"second\":2}",
                    BTreeMap::new(),
                )
                .await
                .unwrap();
            // Attaching the same payload again must not duplicate the index entry.
            c.attach_referrer(
                &subject,
                BUNDLE_MEDIA_TYPE,
                b"{\"second\":2}",
                BTreeMap::new(),
            )
            .await
            .unwrap();
            let (list, _) = c.referrers(&digest, Some(BUNDLE_MEDIA_TYPE)).await.unwrap();
            let digests: Vec<&str> = list.iter().map(|d| d.digest.as_str()).collect();
            assert_eq!(digests, vec![d1.digest.as_str(), d2.digest.as_str()]);
            let (other_type, _) = c
                .referrers(&digest, Some("application/x-other"))
                .await
                .unwrap();
            assert!(other_type.is_empty());

            // Each referrer manifest points at the subject and carries the bundle layer.
            let am = c.get_image_manifest(&d1.digest).await.unwrap();
            assert_eq!(am.artifact_type.as_deref(), Some(BUNDLE_MEDIA_TYPE));
            assert_eq!(am.config.media_type, EMPTY_MEDIA_TYPE);
            assert_eq!(am.subject.as_ref().unwrap().digest, digest);
            let blob = c.get_blob(&am.layers[0].digest).await.unwrap();
            assert_eq!(blob, b"{\"first\":1}");

            // The referrers tag is an OCI index visible to other tools.
            let idx = c
                .get_manifest(&referrers_tag(&digest).unwrap())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(idx.media_type, OCI_INDEX);
        });

        // Move the tag to other content: it now resolves to a digest with no referrers.
        let moved = reg.push_image("test/app", "t", "two");
        assert_ne!(moved, digest);
        rt().block_on(async {
            let m = c.resolve(&r).await.unwrap();
            assert_eq!(m.digest, moved);
            let (list, _) = c.referrers(&moved, Some(BUNDLE_MEDIA_TYPE)).await.unwrap();
            assert!(list.is_empty());
            let (old, _) = c.referrers(&digest, Some(BUNDLE_MEDIA_TYPE)).await.unwrap();
            assert_eq!(old.len(), 2, "old digest keeps its signatures");
        });
    }

    #[test]
    fn missing_manifest_and_bad_digest() {
        require_tools(&["docker-registry", "umoci", "skopeo"]);
        let reg = TestRegistry::start();
        let digest = reg.push_image("test/x", "t", "x");
        let (c, _) = client(&reg, "test/x");
        rt().block_on(async {
            let missing = Reference::parse(&format!("{}/test/x:nope", reg.addr)).unwrap();
            let err = c.resolve(&missing).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    RegistryError::Status {
                        status: StatusCode::NOT_FOUND,
                        ..
                    }
                ),
                "{err}"
            );
            // An unknown blob is a status error, not empty content.
            let err = c
                .get_blob(&format!("sha256:{}", "1".repeat(64)))
                .await
                .unwrap_err();
            assert!(matches!(err, RegistryError::Status { .. }), "{err}");
            assert!(c.get_manifest(&digest).await.unwrap().is_some());
        });
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback_host("127.0.0.1:5000"));
        assert!(is_loopback_host("localhost"));
        assert!(is_loopback_host("[::1]:5000"));
        assert!(!is_loopback_host("registry.example.com:5000"));
        assert!(!is_loopback_host("10.0.0.1:80"));
    }

    #[test]
    fn https_is_required_off_loopback() {
        let r = Reference::parse("registry.example.com/a:t").unwrap();
        let c = RegistryClient::new(&r, &RegistryOptions::default()).unwrap();
        assert!(c.base.starts_with("https://"));
        let c = RegistryClient::new(
            &r,
            &RegistryOptions {
                allow_insecure: true,
            },
        )
        .unwrap();
        assert!(c.base.starts_with("http://"));
        let r = Reference::parse("127.0.0.1:5000/a:t").unwrap();
        let c = RegistryClient::new(&r, &RegistryOptions::default()).unwrap();
        assert!(c.base.starts_with("http://"));
    }

    #[test]
    fn docker_config_entries_match_by_host() {
        let auth = |u: &str, p: &str| B64.encode(format!("{u}:{p}"));
        let cfg =
            |key: &str, entry: serde_json::Value| serde_json::json!({ "auths": { key: entry } });
        let reg = "127.0.0.1:5000";
        let want = Some(("u".to_owned(), "p:w".to_owned()));
        // `docker login` writes the host; older clients and other tools write a URL.
        for key in [
            "127.0.0.1:5000",
            "https://127.0.0.1:5000",
            "http://127.0.0.1:5000",
            "https://127.0.0.1:5000/v2/",
            "http://127.0.0.1:5000/v1/",
        ] {
            let c = cfg(key, serde_json::json!({ "auth": auth("u", "p:w") }));
            assert_eq!(docker_config_credentials(&c, reg), want, "key {key}");
        }
        // Plain username/password fields are accepted too.
        let c = cfg(
            reg,
            serde_json::json!({ "username": "u", "password": "p:w" }),
        );
        assert_eq!(docker_config_credentials(&c, reg), want);
        // Another host, or another port of the same host, is never used.
        for key in [
            "registry.example.com",
            "127.0.0.1:5001",
            "https://127.0.0.1",
            "https://evil.example/127.0.0.1:5000",
        ] {
            let c = cfg(key, serde_json::json!({ "auth": auth("u", "p") }));
            assert_eq!(docker_config_credentials(&c, reg), None, "key {key}");
        }
        // An entry kept by a credential helper (empty object) or a malformed `auth` gives none.
        let c = serde_json::json!({ "auths": { reg: {} }, "credsStore": "desktop" });
        assert_eq!(docker_config_credentials(&c, reg), None);
        let c = cfg(reg, serde_json::json!({ "auth": "not base64!" }));
        assert_eq!(docker_config_credentials(&c, reg), None);
        let c = cfg(reg, serde_json::json!({ "auth": B64.encode("no-colon") }));
        assert_eq!(docker_config_credentials(&c, reg), None);
        // An identity token (as `docker login` stores it for OAuth2 registries) comes first.
        let c = cfg(
            reg,
            serde_json::json!({ "auth": auth("00000000-0000-0000-0000-000000000000", ""), "identitytoken": "rt" }),
        );
        assert_eq!(
            docker_config_credentials(&c, reg),
            Some((IDENTITY_TOKEN_USER.to_owned(), "rt".to_owned()))
        );
        // Keys are compared normalised, as image references are.
        for (key, reg) in [
            ("REGISTRY.example.com", "registry.example.com"),
            (
                "https://registry.example.com:443/v2/",
                "registry.example.com",
            ),
            ("registry.example.com.", "registry.example.com"),
            ("LOCALHOST:5000", "localhost:5000"),
        ] {
            let c = cfg(key, serde_json::json!({ "auth": auth("u", "p:w") }));
            assert_eq!(docker_config_credentials(&c, reg), want, "key {key}");
        }
        // Docker Hub is found under its historical keys.
        for key in [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "registry-1.docker.io",
            "Registry-1.Docker.IO:443",
        ] {
            let c = cfg(key, serde_json::json!({ "auth": auth("u", "p:w") }));
            assert_eq!(
                docker_config_credentials(&c, "docker.io"),
                want,
                "key {key}"
            );
        }
    }

    #[test]
    fn credential_helper_is_chosen_as_docker_does() {
        let reg = "127.0.0.1:5000";
        // credHelpers for this registry wins over credsStore; keys match by host.
        for key in [reg, "https://127.0.0.1:5000", "http://127.0.0.1:5000/v2/"] {
            let c = serde_json::json!({
                "credsStore": "store",
                "credHelpers": { "other.example": "other", key: "mine" },
            });
            assert_eq!(
                docker_config_helper(&c, reg).as_deref(),
                Some("mine"),
                "{key}"
            );
        }
        // Without an entry for this registry, credsStore serves every registry.
        let c =
            serde_json::json!({ "credsStore": "store", "credHelpers": { "127.0.0.1:5001": "x" } });
        assert_eq!(docker_config_helper(&c, reg).as_deref(), Some("store"));
        // No helper at all: the `auths` entries are used.
        let c = serde_json::json!({ "auths": { reg: { "auth": "dTpw" } } });
        assert_eq!(docker_config_helper(&c, reg), None);
        // A name that would leave `docker-credential-<name>` is never run.
        for bad in ["", "../../bin/sh", "a/b", "x y"] {
            let c = serde_json::json!({ "credsStore": bad });
            assert_eq!(docker_config_helper(&c, reg), None, "{bad:?}");
        }
        // Docker Hub: helpers keyed by its historical host, asked about its historical URL.
        let c = serde_json::json!({ "credHelpers": { "index.docker.io": "hub" } });
        assert_eq!(
            docker_config_helper(&c, "docker.io").as_deref(),
            Some("hub")
        );
        assert_eq!(
            docker_config_server("docker.io"),
            "https://index.docker.io/v1/"
        );
        assert_eq!(docker_config_server(reg), reg);
    }

    /// Writes an executable shell script `docker-credential-<name>` into `dir`.
    fn helper_script(dir: &std::path::Path, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    /// Runs a helper script, retrying while another test's fork still holds it open for
    /// writing (ETXTBSY).
    fn run_helper(
        program: &str,
        server: &str,
        timeout_ms: u64,
    ) -> Result<Option<(String, String)>, String> {
        let timeout = std::time::Duration::from_millis(timeout_ms);
        for _ in 0..50 {
            match run_credential_helper(program, server, timeout) {
                Err(e) if e.contains("Text file busy") => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
        run_credential_helper(program, server, timeout)
    }

    #[test]
    fn credential_helper_protocol() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A helper in the style of docker-credential-helpers: the server URL on stdin, the
        // credentials as JSON on stdout, "credentials not found" with exit 1 otherwise.
        let good = helper_script(
            d,
            "good",
            r#"[ "$1" = get ] || exit 3
read -r server
if [ "$server" = "127.0.0.1:5000" ]; then
  printf '{"ServerURL":"%s","Username":"ci-bot","Secret":"s3cr:et"}' "$server"
else
  echo "credentials not found in native keychain"; exit 1
fi"#,
        );
        assert_eq!(
            run_helper(&good, "127.0.0.1:5000", 10_000),
            Ok(Some(("ci-bot".to_owned(), "s3cr:et".to_owned())))
        );
        assert_eq!(run_helper(&good, "registry.example", 10_000), Ok(None));

        let failing = helper_script(d, "failing", "echo 'keychain is locked' >&2; exit 1");
        let e = run_helper(&failing, "127.0.0.1:5000", 10_000).unwrap_err();
        assert!(
            e.contains("docker-credential-failing") && e.contains("keychain is locked"),
            "{e}"
        );
        let garbled = helper_script(d, "garbled", "echo 'Username: u'");
        let e = run_helper(&garbled, "127.0.0.1:5000", 10_000).unwrap_err();
        assert!(
            e.contains("invalid JSON") && e.contains("docker-credential-garbled"),
            "{e}"
        );
        let token = helper_script(
            d,
            "token",
            r#"echo '{"Username":"<token>","Secret":"refresh"}'"#,
        );
        // An identity token comes back as user `<token>`, for the OAuth2 token flow.
        assert_eq!(
            run_helper(&token, "127.0.0.1:5000", 10_000),
            Ok(Some((IDENTITY_TOKEN_USER.to_owned(), "refresh".to_owned())))
        );
        let slow = helper_script(d, "slow", "exec sleep 30");
        let started = std::time::Instant::now();
        let e = run_helper(&slow, "127.0.0.1:5000", 300).unwrap_err();
        assert!(e.contains("did not answer"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let e = run_helper("docker-credential-signet-test-absent", "r", 1_000).unwrap_err();
        assert!(
            e.contains("cannot run") && e.contains("docker-credential-signet-test-absent"),
            "{e}"
        );
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let c = Credentials {
            username: "u".to_owned(),
            password: "hunter2".to_owned(),
            source: "test".to_owned(),
        };
        let d = format!("{c:?}");
        assert!(d.contains("\"u\"") && !d.contains("hunter2"), "{d}");
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
