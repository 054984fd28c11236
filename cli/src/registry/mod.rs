//! The registry zone: a small OCI distribution client, shared by the client commands (`sign`,
//! `verify`, `attest`) and the admission webhook. Resolve references, push blobs and
//! manifests, and attach or list OCI 1.1 referrers.
//!
//! Specs: OCI distribution-spec v1.1 (pull, push with a monolithic POST+PUT upload, the
//! referrers API and its fallback "referrers tag schema" `sha256-<hex>`), OCI image-spec v1.1
//! (manifests, indexes, `artifactType`, `subject`, the empty descriptor).
//!
//! * this module: the protocol (manifests, blobs, referrers, tags) over [`RegistryClient`];
//! * [`auth`]: answering `WWW-Authenticate` challenges (HTTP Basic, the Docker token flow);
//!   credentials and tokens go only to the registry's own origin and its token realm;
//! * [`credentials`]: where credentials come from (`SIGNET_REGISTRY_USERNAME` /
//!   `SIGNET_REGISTRY_PASSWORD`, the docker `config.json` and its credential helpers).
//!
//! The wire formats it reads (references, platforms, descriptors, manifests and indexes,
//! digests, the referrers tag, the `WWW-Authenticate` challenge, the token service's answer)
//! are parsed by the pure, fuzzed [`signet_proto::oci`]; this zone does the I/O.
//!
//! It does not do chunked uploads, cross-repository mounts, or pulls of image layers; it does
//! not descend into nested image indexes (the CLI signs an index's entries with `--recursive`
//! and picks one with `--platform`). TLS is always used unless the caller explicitly allows
//! plain HTTP (`--allow-insecure-registry`) or the registry is on a loopback address and does
//! not answer TLS; certificates are checked against the roots of `signet_net`.

mod auth;
mod credentials;

use std::collections::BTreeMap;
use std::sync::Mutex;

use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use credentials::{find_credentials, Credentials};

/// Whether `host[:port]` names a loopback address (the same test that normalises references).
pub(crate) use signet_proto::oci::is_loopback_registry as is_loopback_host;
use signet_proto::oci::{
    index_entries, is_index_media_type, parse_index, referrers_tag, OciError, EMPTY_MEDIA_TYPE,
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

/// Largest blob we download (bundles are a few KiB).
const MAX_BLOB_BYTES: usize = 16 << 20;

/// Errors of the registry client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum RegistryError {
    /// A reference, platform, digest, manifest or index does not parse
    /// ([`signet_proto::oci`]).
    #[error(transparent)]
    Oci(#[from] OciError),
    /// The HTTP request failed before a response.
    #[error(
        "registry request {method} {url} failed: {}",
        crate::errors::chain_after(url, cause)
    )]
    Transport {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// The cause (shown in the message, not a `source`: see [`crate::errors`]).
        cause: reqwest::Error,
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

/// Whether the loopback registry `host[:port]` (port 443 when none is given) answers TLS.
fn loopback_speaks_tls(host: &str) -> bool {
    let has_port = match host.rsplit_once(']') {
        Some((_, rest)) => rest.starts_with(':'),
        None => host.contains(':'),
    };
    let authority = if has_port {
        host.to_owned()
    } else {
        format!("{host}:443")
    };
    signet_net::speaks_tls(&authority, std::time::Duration::from_secs(2))
}

/// Requests sent to registries by this process, and the time to their response headers
/// (nanoseconds): the admission webhook's `/metrics`.
static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static REQUEST_NANOS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn count_request(took: std::time::Duration) {
    use std::sync::atomic::Ordering::Relaxed;
    REQUESTS.fetch_add(1, Relaxed);
    REQUEST_NANOS.fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Relaxed);
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
    /// Registry requests sent by this process so far, and the summed time to their response
    /// headers in nanoseconds.
    pub(crate) fn request_totals() -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (REQUESTS.load(Relaxed), REQUEST_NANOS.load(Relaxed))
    }

    /// Creates a client for `reference`'s registry and repository.
    ///
    /// Loopback registries and `allow_insecure` use plain HTTP; all others use HTTPS. The
    /// reference is normalised ([`Reference`]), and it is that name the client connects to:
    /// a registry without a port is at 443 over HTTPS (`:443` was dropped) and at 80 over
    /// plain HTTP (a loopback registry's `:80` and `:443` were dropped).
    ///
    /// # Errors
    /// [`RegistryError::Auth`] if the HTTP client cannot be built, or the docker config or its
    /// credential helper fails (see [`credentials::find_credentials`]).
    pub(crate) fn new(
        reference: &Reference,
        opts: &RegistryOptions,
    ) -> Result<Self, RegistryError> {
        let host = reference.api_host();
        // A loopback registry may serve either: HTTPS when it answers TLS (as Docker's
        // clients try it first), plain HTTP otherwise.
        let scheme =
            if opts.allow_insecure || (is_loopback_host(host) && !loopback_speaks_tls(host)) {
                "http"
            } else {
                "https"
            };
        let http = signet_net::client_builder()
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
            .map_err(|cause| RegistryError::Transport {
                method: method.clone(),
                url: url.to_owned(),
                cause,
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
        let field = signet_proto::json::from_slice::<MediaTypeOnly>(&bytes)
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
        signet_proto::json::from_slice(&m.bytes).map_err(|e| RegistryError::Malformed {
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

#[cfg(test)]
#[path = "../../tests/support/registry.rs"]
mod test_registry;

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
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
}
