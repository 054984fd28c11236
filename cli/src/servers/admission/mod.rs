//! `signet admission`: a Kubernetes admission webhook that admits a workload only when every
//! container image it runs is signed as a policy file requires. It answers the API server's
//! dynamic admission webhooks (`admission.k8s.io/v1` `AdmissionReview`: `POST /validate`,
//! `POST /mutate`) and its ImagePolicyWebhook admission plugin (`imagepolicy.k8s.io/v1alpha1`
//! `ImageReview`: `POST /imagepolicy`), with one decision and one cache for all three.
//!
//! For each image of a Pod, or of the pod template of a Deployment, ReplicaSet, StatefulSet,
//! DaemonSet, Job, ReplicationController or CronJob (`containers`, `initContainers`,
//! `ephemeralContainers`), the first `[[rule]]` whose `images` patterns match the image's
//! `registry/repository` (and whose `namespaces` / `namespace_selector`, if any, include the
//! review's namespace) decides. Images and patterns are compared normalised, as container
//! runtimes resolve references ([`signet_proto::oci::Reference`]): `REGISTRY.EXAMPLE.COM/a`,
//! `registry.example.com:443/a` and `registry.example.com./a` meet the rules for
//! `registry.example.com/a`, and `index.docker.io/org/a`, `registry-1.docker.io/org/a` and
//! `org/a` those for `docker.io/org/a`; patterns are normalised the same way when the policy
//! is loaded (`nginx` is `docker.io/library/nginx`). The rule that decides:
//! * `verify = false` admits the image without looking at it;
//! * otherwise its tag is resolved to a digest and the Sigstore bundles attached to that digest
//!   are verified offline against the trusted root, exactly as `signet verify` does, with the
//!   rule's signer (`identity` and `issuer`, or `key`) or signers (`signers`, of which
//!   `threshold` distinct ones must have signed: each signer counts once whatever the number
//!   of its signatures, and one signature never counts for two entries); once every predicate
//!   type the rule lists under `attestations` also has a verified in-toto attestation by a
//!   signer who signed (as `signet verify-attestation`), the image is admitted;
//! * with `signature_formats = "notary"`, the Notary Project (notation) signatures attached to
//!   the digest are verified instead, under the rule's `notation_trust_policy` and
//!   `notation_trust_store` (notation's own `trustpolicy.json` and trust store, unchanged) as
//!   `signet verify --notation-trust-policy` and `notation verify` do; `"either"` admits on a
//!   Sigstore or a Notary signature, `"both"` needs the two. The reason of a denial, and the
//!   `signet.dev/admitted` audit annotation of an admission, name the format and the signer.
//!
//! A rule (or the whole policy) with `mode = "warn"` admits what it would deny, with the
//! reason as an AdmissionReview `warnings` entry (shown by kubectl), an audit annotation
//! (`signet.dev/warnings` in AdmissionReviews, `signet-warnings` in ImageReviews, which the
//! plugin prefixes with `imagepolicywebhook.image-policy.k8s.io/`) and a log line with the
//! target `signet::admission::audit`: a policy is rolled out safely by watching what it would
//! deny. A rule's own `mode` wins over the policy's.
//!
//! `POST /validate` admits or denies. `POST /mutate` decides the same way and, when it admits,
//! answers a JSON Patch that pins every verified image referenced by tag to the digest that was
//! verified (`name:tag@sha256:...`), so what runs is what was checked even if the tag moves
//! (register it as a mutating webhook). `POST /imagepolicy` answers `status.allowed`,
//! `status.reason` and `status.auditAnnotations`; the request's own `status` is ignored, and
//! its `spec.annotations` (the pod's `*.image-policy.k8s.io/*` annotations) are logged but
//! never admit anything (a break-glass annotation would let anyone who can create a pod
//! bypass the policy).
//!
//! An image that matches no rule is denied unless `no_match = "allow"`. Anything that cannot be
//! checked (malformed reference, registry error, the review's deadline) is denied: the webhook
//! fails closed (the cluster's `failurePolicy`, or the plugin's `defaultAllow`, decides what
//! happens when the webhook itself is down). Kinds without a pod spec are admitted with a
//! warning; the webhook configuration should select only the kinds above.
//!
//! Latency ([`engine`]): registry clients are pooled per repository, tag resolutions are
//! remembered for `--tag-cache-secs` (10 s), a digest that passed a rule for
//! `--cache-ttl-secs` (300 s; failures are never remembered), and a digest reference whose
//! verdict is cached is admitted without any network. Every review has a deadline,
//! `--deadline` (7 s by default, below the API server's default webhook timeout of 10 s;
//! keep it below the `timeoutSeconds` of the webhook configuration): what is not decided by
//! then is denied (or warned about) with a message naming the deadline. An offline
//! verification that passed keeps passing (it checks against the signature's own time), so
//! the only decision the cache changes is for a signature deleted from the registry within the
//! TTL; a policy change takes a restart, which empties it. The trust (trusted root, CRLs,
//! trusted keys) is re-read every `--trust-refresh` seconds (300) from the TUF mirror (a URL or
//! a mounted directory) or the `--trusted-root` file (`crate::trust::refresh`): a changed one
//! is swapped in and empties the verdict cache; a refresh that fails (unreachable, tampered or
//! expired metadata) keeps the trust in force and is counted in
//! `signet_admission_trust_refresh_failures_total`.
//!
//! Policy file (TOML; docs/CONFIG.md has the whole format with a tested example):
//! ```toml
//! no_match = "deny"                     # or "allow"
//! mode = "enforce"                      # or "warn": every rule warns unless it says otherwise
//!
//! [[rule]]
//! images = ["registry.example.com/team/**"]   # `*`: one path segment, `**`: any
//! identity = "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main"
//! issuer = "https://token.actions.githubusercontent.com"
//! # identity_regexp / issuer_regexp instead; key = "cosign.pub" for keyed signatures;
//! # extensions = { "1.3.6.1.4.1.57264.1.12" = "https://github.com/org/repo" }
//! # attestations = ["slsaprovenance1"]      # also require verified SLSA provenance
//! # namespaces = ["prod", "team-*"]         # only in these namespaces
//! # namespace_selector = { match_labels = { tier = "prod" } }   # labels read from the API server
//! # signature_formats = "both"              # also a Notary Project signature ("notary",
//! # notation_trust_policy = "trustpolicy.json"  # "either"), under notation's own files
//! # notation_trust_store = "truststore"
//!
//! [[rule]]
//! images = ["registry.example.com/release/**"]
//! signers = [{ identity = "alice@example.com", issuer = "https://accounts.example" },
//!            { identity = "bob@example.com", issuer = "https://accounts.example" },
//!            { key = "release.pub" }]
//! threshold = 2                         # 2 of 3 (default: all)
//! mode = "warn"
//!
//! [[rule]]
//! images = ["docker.io/library/*"]
//! verify = false
//! ```
//!
//! The policy may instead be a JSON policy-controller `ClusterImagePolicy` or Kyverno
//! `ClusterPolicy`/`Policy` with `verifyImages` ([`migrate`]): the subset that maps onto these
//! rules is read, and every other field is refused by name.
//!
//! The AdmissionReview and ImageReview are read and answered by the pure, fuzzed
//! [`signet_proto::admission`]; this module holds the HTTP server and the handlers.
//!
//! What it does not do: pin tags on `/validate` or `/imagepolicy` (a tag moved after admission
//! is not checked again: use `/mutate`, or reference images by digest), use the pod's
//! `imagePullSecrets` (registry credentials are the process's own, as for `signet verify`),
//! or fetch CRLs for Notary Project revocation checks (they are read from the trust store's
//! `crl/` directory, offline).

pub(crate) mod either;
pub(crate) mod engine;
pub(crate) mod migrate;
pub(crate) mod namespaces;
pub(crate) mod policy;
pub(crate) mod ttl;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Args;
use signet_proto::admission::{self, AdmissionRequest, ImageField, ObjectImages, Verdict};
use signet_verifier::trust::TrustMaterial;

use self::engine::{Engine, Settings};
use self::namespaces::NamespaceLabels;
pub(crate) use self::policy::AdmissionPolicy;
use crate::client::verify;
use crate::registry as oci;
use crate::trust::refresh;

/// Largest AdmissionReview accepted (the API server caps objects at about 1.5 MiB).
const MAX_BODY: usize = 3 << 20;

/// The audit annotation key of warn-mode failures in AdmissionReview answers.
const AUDIT_KEY: &str = "signet.dev/warnings";
/// The audit annotation key of warn-mode failures in ImageReview answers (the plugin prefixes
/// it with `imagepolicywebhook.image-policy.k8s.io/`).
const IMAGE_REVIEW_AUDIT_KEY: &str = "signet-warnings";
/// The audit annotation key saying why each image was admitted (the rule, and for a verified
/// image the signature format and signer) in AdmissionReview answers.
const ADMITTED_KEY: &str = "signet.dev/admitted";
/// The same in ImageReview answers.
const IMAGE_REVIEW_ADMITTED_KEY: &str = "signet-admitted";

/// Arguments of `signet admission`.
#[derive(Args)]
pub(crate) struct AdmissionArgs {
    /// The admission policy (TOML; format and example: docs/CONFIG.md, "Admission policy"), or
    /// a JSON policy-controller ClusterImagePolicy or Kyverno ClusterPolicy to migrate.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// trusted_root.json with the CAs, CT logs and transparency logs to trust (offline).
    /// Default: the TUF-verified one of the mirror `signet trust init --mirror` set up (a
    /// mounted directory works with no network). `--check` without it checks only the policy.
    #[arg(long, env = "SIGNET_TRUSTED_ROOT", value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// Also require witness cosignatures on checkpoints (C2SP witness policy file).
    #[arg(long, value_name = "FILE")]
    witness_policy: Option<PathBuf>,
    /// Listen address, HOST:PORT (an IP address or a host name; port 0 picks a free port).
    #[arg(long, default_value = "0.0.0.0:8443")]
    listen: crate::servers::listen::ListenAddr,
    /// PEM certificate chain for HTTPS (the API server only calls webhooks over HTTPS).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require a client certificate chaining to these PEM CA certificates (mutual TLS: the
    /// API server's certificate from the ImagePolicyWebhook kubeconfig) on every request.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    client_ca: Option<PathBuf>,
    /// Serve plain HTTP (behind a TLS-terminating proxy); without it --tls-cert is required.
    #[arg(long, conflicts_with = "tls_cert")]
    insecure_http: bool,
    /// Longest time to decide on one review, all its images and registry lookups included
    /// (e.g. 7s, 2500ms); what is not decided by then is denied (warned about in warn mode).
    /// Keep it below the webhook's timeoutSeconds (10 s by default).
    #[arg(long, value_name = "DURATION", default_value = "7s", value_parser = parse_deadline)]
    deadline: Duration,
    /// Deprecated spelling of --deadline in whole seconds.
    #[arg(long, hide = true, conflicts_with = "deadline")]
    image_timeout_secs: Option<u64>,
    /// How long a digest that passed a rule is remembered (no new verification within that
    /// time). 0 verifies on every review.
    #[arg(long, default_value_t = 300)]
    cache_ttl_secs: u64,
    /// How long a tag's resolution to a digest is reused. 0 resolves tags on every review.
    #[arg(long, default_value_t = 10)]
    tag_cache_secs: u64,
    /// Allow plain HTTP to registries that are not on loopback.
    #[arg(long)]
    allow_insecure_registry: bool,
    /// The API server to read namespace labels from (for rules with `namespace_selector`);
    /// in a pod, the in-cluster API server and service account are used by default.
    #[arg(long, value_name = "URL")]
    kube_api: Option<String>,
    /// Bearer token file for --kube-api.
    #[arg(long, value_name = "FILE", requires = "kube_api")]
    kube_token_file: Option<PathBuf>,
    /// CA certificates (PEM) of --kube-api.
    #[arg(long, value_name = "FILE", requires = "kube_api")]
    kube_ca_file: Option<PathBuf>,
    /// How long namespace labels are reused.
    #[arg(long, default_value_t = 60)]
    namespace_cache_secs: u64,
    /// Re-read the trust every SECS seconds (the TUF mirror `signet trust init --mirror` set
    /// up, URL or mounted directory, or --trusted-root and the crls.pem and trusted_keys.json
    /// beside it); a refresh that fails keeps the trust in force. 0: read it at start only.
    #[arg(long, value_name = "SECS", default_value_t = crate::trust::refresh::DEFAULT_INTERVAL_SECS)]
    trust_refresh: u64,
    /// Load and check the policy (and the trusted root, when given), print a summary and exit.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    log: crate::servers::logging::LogArgs,
}

/// Parses `--deadline`: `500ms`, `7s` or a plain number of seconds; at least 1 ms.
fn parse_deadline(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 7s or 2500ms"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        other => return Err(format!("unknown duration unit {other:?} (use ms or s)")),
    };
    if d.is_zero() {
        return Err("the deadline must be above 0".to_owned());
    }
    Ok(d)
}

/// A `{code, message}` error for requests that are not reviews.
fn bad_request(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    (
        status,
        Json(signet_proto::grpc::http_error_body(
            status.as_u16(),
            &message,
        )),
    )
        .into_response()
}

/// The 413 `{code, message}` for a body over `limit` bytes, whether its `Content-Length` said
/// so (answered before it is read, [`signet_log::http::limit_bodies`]) or it was found so
/// while read.
fn too_large(limit: usize) -> Response {
    bad_request(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body larger than {limit} bytes"),
    )
}

/// The AdmissionReview answer for `uid` ([`admission::review_response`]).
fn review_response(uid: &str, verdict: &Verdict<'_>) -> Response {
    Json(admission::review_response(uid, verdict)).into_response()
}

/// The request body, or the 4xx answer for one that could not be read.
fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Bytes, Box<Response>> {
    match body {
        Ok(b) => Ok(b),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(Box::new(too_large(MAX_BODY))),
        Err(e) => Err(Box::new(bad_request(
            StatusCode::BAD_REQUEST,
            e.body_text(),
        ))),
    }
}

/// What the webhook decided about one AdmissionReview.
enum Decision {
    /// Not an AdmissionReview: answered with a 4xx `{code, message}`.
    Invalid(Response),
    /// Admitted; `pins` are the `image@digest` rewrites of verified images referenced by tag.
    Allowed {
        uid: String,
        pins: Vec<ImageField>,
        warnings: Vec<String>,
        /// Why each image was admitted.
        notes: Vec<String>,
    },
    /// Denied, with the message shown to the user.
    Denied { uid: String, message: String },
}

/// The warnings shown for warn-mode failures, and their audit log line.
fn warn_mode(
    warnings: &[String],
    uid: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Vec<String> {
    for w in warnings {
        tracing::warn!(target: "signet::admission::audit", uid, kind, namespace, name, warning = %w, "admitted in warn mode; enforce would deny");
    }
    warnings
        .iter()
        .map(|w| format!("signet admission (warn mode) would deny: {w}"))
        .collect()
}

/// Parses an AdmissionReview body and decides on every image it would run; `pin`: whether
/// the pins of verified tags are wanted (`/mutate`).
async fn decide(engine: &Arc<Engine>, body: Result<Bytes, BytesRejection>, pin: bool) -> Decision {
    let body = match body_or_error(body) {
        Ok(b) => b,
        Err(r) => return Decision::Invalid(*r),
    };
    let request = match admission::parse_review(&body) {
        Ok(r) => r,
        Err(e) => return Decision::Invalid(bad_request(StatusCode::BAD_REQUEST, e.to_string())),
    };
    let AdmissionRequest {
        uid,
        kind,
        name,
        namespace,
        images: containers,
    } = request;
    let containers = match containers {
        // DELETE and CONNECT carry no object: nothing runs because of them.
        ObjectImages::Absent => {
            return Decision::Allowed {
                uid,
                pins: Vec::new(),
                warnings: Vec::new(),
                notes: Vec::new(),
            }
        }
        ObjectImages::NoPodSpec => {
            return Decision::Allowed {
                uid,
                pins: Vec::new(),
                warnings: vec![format!(
                    "signet admission: a {kind} has no pod spec; nothing was checked"
                )],
                notes: Vec::new(),
            }
        }
        ObjectImages::Containers(c) => c,
        ObjectImages::Malformed(e) => {
            return Decision::Denied {
                uid,
                message: e.to_string(),
            }
        }
    };
    let images: Vec<String> = containers.iter().map(|f| f.image.clone()).collect();
    let outcome = engine.review(&images, &namespace).await;
    if !outcome.denied.is_empty() {
        let message = format!(
            "signet admission denied the {kind} {name:?}: {}",
            outcome.denied.join("; ")
        );
        tracing::warn!(uid, kind, namespace, name, %message, "denied");
        return Decision::Denied { uid, message };
    }
    let warnings = warn_mode(&outcome.warnings, &uid, &kind, &namespace, &name);
    // Not at info: one line per review on the hot path; why each image was admitted is in
    // the answer's audit annotation (the API server's audit log).
    tracing::debug!(uid, kind, namespace, name, images = ?outcome.notes, "admitted");
    // Verified images referenced by tag get pinned to the digest that was verified.
    let pins = containers
        .iter()
        .filter(|f| pin && !f.image.contains('@'))
        .filter_map(|f| {
            outcome.digests.get(&f.image).map(|digest| ImageField {
                pointer: f.pointer.clone(),
                image: format!("{}@{digest}", f.image),
            })
        })
        .collect();
    Decision::Allowed {
        uid,
        pins,
        warnings,
        notes: outcome.notes,
    }
}

/// The audit annotations of an admission: `(key, values)` pairs, each with values joined by
/// "; ", and left out when it has none.
fn audit_of(entries: &[(&str, &[String])]) -> Vec<(String, String)> {
    entries
        .iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(key, values)| ((*key).to_owned(), values.join("; ")))
        .collect()
}

/// Answers a decision; `patch`: whether pins are sent (`/mutate`).
fn answer(decision: Decision, patch: bool) -> Response {
    match decision {
        Decision::Invalid(r) => r,
        Decision::Allowed {
            uid,
            pins,
            warnings,
            notes,
        } => review_response(
            &uid,
            &Verdict::Allow {
                audit: &audit_of(&[(AUDIT_KEY, &warnings), (ADMITTED_KEY, &notes)]),
                warnings: &warnings,
                patch: if patch { &pins } else { &[] },
            },
        ),
        Decision::Denied { uid, message } => {
            review_response(&uid, &Verdict::Deny { message: &message })
        }
    }
}

/// `POST /validate`: admit or deny.
async fn validate(
    State(engine): State<Arc<Engine>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    answer(decide(&engine, body, false).await, false)
}

/// `POST /mutate`: as `/validate`, and when admitting, a JSON Patch that pins every verified
/// image referenced by tag to the digest that was verified (`name:tag@sha256:...`), so the
/// kubelet runs exactly what was checked even if the tag moves later.
async fn mutate(
    State(engine): State<Arc<Engine>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    answer(decide(&engine, body, true).await, true)
}

/// `POST /imagepolicy`: the ImagePolicyWebhook plugin's `ImageReview`, decided as
/// `/validate` decides a Pod with these images in this namespace.
async fn imagepolicy(
    State(engine): State<Arc<Engine>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body_or_error(body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let review = match admission::parse_image_review(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let namespace = review.namespace.as_str();
    if review.images.is_empty() {
        let reason = "signet admission: the ImageReview lists no container image";
        return Json(admission::image_review_response(false, reason, &[])).into_response();
    }
    let outcome = engine.review(&review.images, namespace).await;
    if !outcome.denied.is_empty() {
        let reason = format!("signet admission denied: {}", outcome.denied.join("; "));
        tracing::warn!(kind = "ImageReview", namespace, annotations = ?review.annotations, %reason, "denied");
        return Json(admission::image_review_response(false, &reason, &[])).into_response();
    }
    let warnings = warn_mode(&outcome.warnings, "", "ImageReview", namespace, "");
    tracing::debug!(kind = "ImageReview", namespace, annotations = ?review.annotations, images = ?outcome.notes, "admitted");
    Json(admission::image_review_response(
        true,
        &warnings.join("; "),
        &audit_of(&[
            (IMAGE_REVIEW_AUDIT_KEY, &warnings),
            (IMAGE_REVIEW_ADMITTED_KEY, &outcome.notes),
        ]),
    ))
    .into_response()
}

/// `GET /metrics`: the engine's counters, Prometheus text format.
async fn metrics(State(engine): State<Arc<Engine>>) -> Response {
    let s = &engine.stats;
    let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    #[allow(clippy::cast_precision_loss)] // nanoseconds shown as seconds
    let secs = |a: &std::sync::atomic::AtomicU64| n(a) as f64 / 1e9;
    let (requests, nanos) = oci::RegistryClient::request_totals();
    #[allow(clippy::cast_precision_loss)]
    let registry_secs = nanos as f64 / 1e9;
    let text = format!(
        "# HELP signet_admission_reviews_total Reviews decided (AdmissionReview and ImageReview).\n# TYPE signet_admission_reviews_total counter\nsignet_admission_reviews_total {}\n\
# HELP signet_admission_images_total Distinct images of reviews decided.\n# TYPE signet_admission_images_total counter\nsignet_admission_images_total {}\n\
# HELP signet_admission_verdict_cache_hits_total Images admitted from the verdict cache.\n# TYPE signet_admission_verdict_cache_hits_total counter\nsignet_admission_verdict_cache_hits_total {}\n\
# HELP signet_admission_tag_cache_hits_total Tags resolved from the tag cache.\n# TYPE signet_admission_tag_cache_hits_total counter\nsignet_admission_tag_cache_hits_total {}\n\
# HELP signet_admission_verifications_total Signature verifications of a digest under a rule.\n# TYPE signet_admission_verifications_total counter\nsignet_admission_verifications_total {}\n\
# HELP signet_admission_deadline_misses_total Images not decided within --deadline.\n# TYPE signet_admission_deadline_misses_total counter\nsignet_admission_deadline_misses_total {}\n\
# HELP signet_admission_check_seconds_total Wall time of image checks that went to the registry.\n# TYPE signet_admission_check_seconds_total counter\nsignet_admission_check_seconds_total {}\n\
# HELP signet_admission_registry_requests_total Registry HTTP requests.\n# TYPE signet_admission_registry_requests_total counter\nsignet_admission_registry_requests_total {requests}\n\
# HELP signet_admission_registry_seconds_total Time to the registry's response headers, summed over requests.\n# TYPE signet_admission_registry_seconds_total counter\nsignet_admission_registry_seconds_total {registry_secs}\n",
        n(&s.reviews),
        n(&s.images_checked),
        n(&s.verdict_cache_hits),
        n(&s.tag_cache_hits),
        n(&s.verifications),
        n(&s.deadline_misses),
        secs(&s.check_nanos),
    );
    let mut text = text;
    if let Some(r) = TRUST_REFRESH.get() {
        let t = &r.stats;
        text.push_str(&format!(
            "# HELP signet_admission_trust_refresh_total Trust refreshes attempted (--trust-refresh).\n# TYPE signet_admission_trust_refresh_total counter\nsignet_admission_trust_refresh_total {}\n\
# HELP signet_admission_trust_refresh_failures_total Trust refreshes that failed; the trust loaded before stayed in force.\n# TYPE signet_admission_trust_refresh_failures_total counter\nsignet_admission_trust_refresh_failures_total {}\n\
# HELP signet_admission_trust_changes_total Trust refreshes that brought a changed trusted root, CRLs or trusted keys.\n# TYPE signet_admission_trust_changes_total counter\nsignet_admission_trust_changes_total {}\n\
# HELP signet_admission_trust_last_success_seconds Unix time of the last successful trust refresh.\n# TYPE signet_admission_trust_last_success_seconds gauge\nsignet_admission_trust_last_success_seconds {}\n",
            n(&t.attempts),
            n(&t.failures),
            n(&t.changes),
            t.last_success.load(Ordering::Relaxed),
        ));
    }
    ([("content-type", "text/plain; version=0.0.4")], text).into_response()
}

fn router(engine: Arc<Engine>) -> Router {
    let routes = Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .route("/imagepolicy", post(imagepolicy))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            bad_request(
                StatusCode::NOT_FOUND,
                "no such endpoint; the webhooks are POST /validate, POST /mutate and POST /imagepolicy",
            )
        });
    signet_log::http::limit_bodies(routes, MAX_BODY, too_large).with_state(engine)
}

/// The trust refresher of the running webhook, for `/metrics`.
static TRUST_REFRESH: std::sync::OnceLock<Arc<refresh::Refresher<TrustMaterial>>> =
    std::sync::OnceLock::new();

/// Runs `signet admission`.
///
/// # Errors
/// Bad policy, trusted root or TLS files, and server failures.
pub(crate) fn run(args: AdmissionArgs) -> anyhow::Result<ExitCode> {
    let policy = AdmissionPolicy::load(&args.policy)?;
    let trust = match (&args.trusted_root, args.check) {
        (None, true) => None,
        (given, _) => {
            let (source, root) = refresh::Source::at_start(given.as_deref())?;
            let witness_policy = args.witness_policy.clone();
            Some(Arc::new(refresh::Refresher::start(
                source,
                &root,
                Box::new(move |p| verify::load_trust(p, witness_policy.as_deref())),
            )?))
        }
    };
    for note in &policy.notes {
        eprintln!("note: {note}");
    }
    if args.check {
        let verified = policy
            .rules
            .iter()
            .filter(|r| r.verification.is_some())
            .count();
        let warn = policy
            .rules
            .iter()
            .filter(|r| r.mode == policy::Mode::Warn)
            .count();
        println!(
            "admission policy ok: {} rules ({verified} verify signatures, {} admit unverified; {warn} in warn mode); unmatched images: {:?}",
            policy.rules.len(),
            policy.rules.len() - verified,
            policy.no_match
        );
        return Ok(ExitCode::SUCCESS);
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::servers::listen::TlsConfig {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ if args.insecure_http => None,
        _ => anyhow::bail!(
            "--tls-cert and --tls-key are required (the API server calls webhooks over HTTPS), or --insecure-http behind a TLS proxy"
        ),
    };
    let Some(trust) = trust else {
        anyhow::bail!("--trusted-root is required to serve");
    };
    let ns_ttl = Duration::from_secs(args.namespace_cache_secs);
    let namespaces = match &args.kube_api {
        Some(api) => Some(NamespaceLabels::new(
            api,
            args.kube_token_file.clone(),
            args.kube_ca_file.as_deref(),
            ns_ttl,
        )?),
        None if policy.needs_namespace_labels() => NamespaceLabels::in_cluster(ns_ttl)?,
        None => None,
    };
    if policy.needs_namespace_labels() && namespaces.is_none() {
        let rule = policy
            .rules
            .iter()
            .position(|r| r.needs_labels())
            .map_or(0, |i| i + 1);
        anyhow::bail!(
            "rule {rule} has a `namespace_selector`: the webhook reads namespace labels from the API server; run it in the cluster (a service account allowed to get namespaces) or give --kube-api"
        );
    }
    let deadline = args
        .image_timeout_secs
        .map_or(args.deadline, Duration::from_secs)
        .max(Duration::from_millis(1));
    let engine = Arc::new(Engine::new(
        policy,
        trust.shared(),
        Settings {
            registry: oci::RegistryOptions {
                allow_insecure: args.allow_insecure_registry,
            },
            deadline,
            cache_ttl: Duration::from_secs(args.cache_ttl_secs),
            tag_ttl: Duration::from_secs(args.tag_cache_secs),
            namespaces,
        },
    ));
    args.log.init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        if args.trust_refresh > 0 {
            let _ = TRUST_REFRESH.set(Arc::clone(&trust));
            let cache = Arc::clone(&engine);
            // Verdicts reached under the old trust (a key or certificate revoked since) are
            // not reused.
            trust.spawn(Duration::from_secs(args.trust_refresh), move || {
                cache
                    .verified
                    .entries
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clear();
            });
        }
        let listener = args.listen.bind().await?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("signet admission listening on {scheme}://{addr}");
        std::io::stdout().flush()?;
        crate::servers::listen::serve_with_client_ca(
            listener,
            router(engine),
            tls.as_ref(),
            args.client_ca.as_deref(),
            crate::servers::listen::Timeouts::default(),
            crate::servers::listen::shutdown_signal(),
        )
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}
