//! `signet admission`: a Kubernetes validating admission webhook (`admission.k8s.io/v1`
//! `AdmissionReview`) that admits a workload only when every container image it runs is signed
//! as a policy file requires.
//!
//! For each image of a Pod, or of the pod template of a Deployment, ReplicaSet, StatefulSet,
//! DaemonSet, Job, ReplicationController or CronJob (`containers`, `initContainers`,
//! `ephemeralContainers`), the first `[[rule]]` whose `images` patterns match the image's
//! `registry/repository` decides. Images and patterns are compared normalised, as container
//! runtimes resolve references ([`signet_proto::oci::Reference`]): `REGISTRY.EXAMPLE.COM/a`,
//! `registry.example.com:443/a` and `registry.example.com./a` meet the rules for
//! `registry.example.com/a`, and `index.docker.io/org/a`, `registry-1.docker.io/org/a` and
//! `org/a` those for `docker.io/org/a`; patterns are normalised the same way when the policy
//! is loaded (`nginx` is `docker.io/library/nginx`). The rule that decides:
//! * `verify = false` admits the image without looking at it;
//! * otherwise its tag is resolved to a digest and the Sigstore bundles attached to that digest
//!   are verified offline against the trusted root with the rule's identity (or key) policy,
//!   exactly as `signet verify` does; one verified signature admits the image, once every
//!   predicate type the rule lists under `attestations` also has a verified in-toto
//!   attestation by the same policy (as `signet verify-attestation`).
//!
//! `POST /validate` admits or denies. `POST /mutate` decides the same way and, when it admits,
//! answers a JSON Patch that pins every verified image referenced by tag to the digest that was
//! verified (`name:tag@sha256:...`), so what runs is what was checked even if the tag moves
//! (register it as a mutating webhook).
//!
//! An image that matches no rule is denied unless `no_match = "allow"`. Anything that cannot be
//! checked (malformed reference, registry error, timeout) is denied: the webhook fails closed
//! (the cluster's `failurePolicy` decides what happens when the webhook itself is down).
//! Kinds without a pod spec are admitted with a warning; the webhook configuration should
//! select only the kinds above.
//!
//! Policy file (TOML):
//! ```toml
//! no_match = "deny"                     # or "allow"
//!
//! [[rule]]
//! images = ["registry.example.com/team/**"]   # `*`: one path segment, `**`: any
//! identity = "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main"
//! issuer = "https://token.actions.githubusercontent.com"
//! # identity_regexp / issuer_regexp instead; key = "cosign.pub" for keyed signatures;
//! # extensions = { "1.3.6.1.4.1.57264.1.12" = "https://github.com/org/repo" }
//! # attestations = ["slsaprovenance1"]      # also require verified SLSA provenance
//!
//! [[rule]]
//! images = ["docker.io/library/*"]
//! verify = false
//! ```
//!
//! A digest that passed a rule is remembered for `--cache-ttl-secs` (default 300; 0 turns it
//! off): within that time another review of the same digest under the same rule skips the
//! referrer fetches and the verification (tags are still resolved on every review). An offline
//! verification that passed keeps passing (it checks against the signature's own time), so
//! the only decision the cache changes is for a signature deleted from the registry within the
//! TTL; a trusted root or policy change takes a restart, which empties it. Failures are never
//! cached.
//!
//! The AdmissionReview is read (uid, kind, the images and the JSON Pointers of their fields)
//! and answered by the pure, fuzzed [`signet_proto::admission`]; this module holds the HTTP
//! server, the policy, the registry lookups and the verification.
//!
//! What it does not do: pin tags on `/validate` (a tag moved after admission is not checked
//! again: use `/mutate`, or reference images by digest), use the pod's `imagePullSecrets`
//! (registry credentials are the process's own, as for `signet verify`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Args;
use serde::Deserialize;
use serde_json::json;
use signet_proto::admission::{self, AdmissionRequest, ImageField, ObjectImages, Verdict};
use signet_verifier::policy::Policy;
use signet_verifier::trust::TrustMaterial;

use crate::client::verify;
use crate::registry as oci;

/// Largest AdmissionReview accepted (the API server caps objects at about 1.5 MiB).
const MAX_BODY: usize = 3 << 20;

/// Arguments of `signet admission`.
#[derive(Args)]
pub(crate) struct AdmissionArgs {
    /// The admission policy (TOML; format and example: docs/CONFIG.md, "Admission policy").
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
    /// Serve plain HTTP (behind a TLS-terminating proxy); without it --tls-cert is required.
    #[arg(long, conflicts_with = "tls_cert")]
    insecure_http: bool,
    /// Longest time to decide on one image (registry lookups included); the API server's own
    /// webhook timeout is 10 s by default.
    #[arg(long, default_value_t = 8)]
    image_timeout_secs: u64,
    /// How long a digest that passed a rule is remembered (no new verification within that
    /// time; tags are still resolved on every review). 0 verifies on every review.
    #[arg(long, default_value_t = 300)]
    cache_ttl_secs: u64,
    /// Allow plain HTTP to registries that are not on loopback.
    #[arg(long)]
    allow_insecure_registry: bool,
    /// Load and check the policy (and the trusted root, when given), print a summary and exit.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    log: crate::servers::logging::LogArgs,
}

/// What to do with an image that matches no rule.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum NoMatch {
    #[default]
    Deny,
    Allow,
}

/// The policy file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    no_match: NoMatch,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleFile>,
}

/// One `[[rule]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    images: Vec<String>,
    #[serde(default = "yes")]
    verify: bool,
    identity: Option<String>,
    identity_regexp: Option<String>,
    issuer: Option<String>,
    issuer_regexp: Option<String>,
    #[serde(default)]
    extensions: BTreeMap<String, String>,
    key: Option<PathBuf>,
    #[serde(default)]
    attestations: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A rule ready to match: its patterns and its verification policy (`None`: admit unverified).
struct Rule {
    number: usize,
    patterns: Vec<(String, regex::Regex)>,
    policy: Option<Policy>,
    /// Predicate types of the in-toto attestations that must also verify (same policy).
    attestations: Vec<String>,
}

/// The loaded admission policy.
pub(crate) struct AdmissionPolicy {
    no_match: NoMatch,
    rules: Vec<Rule>,
}

/// Normalises an image pattern the way image references are normalised
/// ([`signet_proto::oci::Reference`]), so that a rule matches every spelling of the images it
/// names:
/// * when the first component (up to the first `/`) has no `*`, the pattern is read as a
///   reference name: the first component is the registry if it contains `.` or `:` or is
///   `localhost` (or has uppercase letters), and is normalised (lowercase, no trailing dot, no
///   `:443`, Docker Hub's aliases as `docker.io`); otherwise `docker.io/` is put in front, and
///   a Docker Hub pattern of a single path segment other than `**` gets `library/`
///   (`nginx`, `docker.io/nginx` and `index.docker.io/library/nginx` are all
///   `docker.io/library/nginx`; `docker.io/*` is `docker.io/library/*`);
/// * a first component with a `*` is a host glob: it is lowercased and loses a trailing dot
///   and a `:443` port, and is matched against normalised hosts (Docker Hub is `docker.io`);
///   a pattern with a `*` and no `/` is a glob over the whole name (`**` matches every image);
/// * the repository part must be lowercase, as in references (registries do not fold case).
fn normalize_pattern(pattern: &str) -> anyhow::Result<String> {
    if pattern.is_empty() || pattern.contains(['@', ' ']) {
        anyhow::bail!("image pattern {pattern:?} must be a non-empty registry/repository glob");
    }
    let (first, path) = match pattern.split_once('/') {
        Some((first, rest)) => (first, Some(rest)),
        None => (pattern, None),
    };
    if path.is_none() && first.contains('*') {
        // A glob over the whole name (`**`: every image).
        return Ok(first.to_ascii_lowercase());
    }
    if path.is_none() && oci::is_registry_component(first) {
        anyhow::bail!(
            "image pattern {pattern:?} names a registry but no repository (as a reference it would be the Docker Hub image docker.io/library/{pattern}); write \"{pattern}/**\" for every image of that registry"
        );
    }
    let (host, path) = if first.contains('*') {
        let lower = first.to_ascii_lowercase();
        let host = lower.strip_suffix(":443").unwrap_or(&lower);
        let host = match host.split_once(':') {
            // Default ports are dropped from image names (`:443`, and `:80` on loopback), so a
            // port glob could never meet them: a rule for "any port" would miss the default one.
            Some((_, port)) if port.contains('*') => anyhow::bail!(
                "image pattern {pattern:?}: a port cannot be a glob (images on the default port carry none); write one rule per port, and one without a port for the default"
            ),
            Some((name, port)) => format!("{}:{port}", name.strip_suffix('.').unwrap_or(name)),
            None => host.strip_suffix('.').unwrap_or(host).to_owned(),
        };
        (host, path.unwrap_or_default().to_owned())
    } else {
        match path {
            Some(rest) if oci::is_registry_component(first) => {
                let host = oci::normalize_registry(first)
                    .map_err(|e| anyhow::anyhow!("image pattern {pattern:?}: {e}"))?;
                if !oci::is_registry_component(&host) {
                    anyhow::bail!(
                        "image pattern {pattern:?}: a registry host without '.' or a port must be localhost"
                    );
                }
                (host, rest.to_owned())
            }
            _ => (oci::DOCKER_HUB.to_owned(), pattern.to_owned()),
        }
    };
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        anyhow::bail!(
            "image pattern {pattern:?}: the repository part must be lowercase (registries do not fold its case, and references with uppercase repositories are refused)"
        );
    }
    if !path
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/*".contains(&b))
    {
        anyhow::bail!(
            "image pattern {pattern:?}: the repository part may hold only lowercase letters, digits, '.', '_', '-', '/' and '*'"
        );
    }
    let path = if host == oci::DOCKER_HUB && !path.contains('/') && !path.contains("**") {
        format!("library/{path}")
    } else {
        path
    };
    Ok(format!("{host}/{path}"))
}

/// Turns a normalised image pattern ([`normalize_pattern`]) into an anchored regex: `**`
/// matches anything, `*` anything but `/`, every other character itself.
fn pattern_regex(pattern: &str) -> anyhow::Result<regex::Regex> {
    let normalised = normalize_pattern(pattern)?;
    let mut re = String::from("^");
    let mut rest = normalised.as_str();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("**") {
            re.push_str(".*");
            rest = r;
        } else if let Some(r) = rest.strip_prefix('*') {
            re.push_str("[^/]*");
            rest = r;
        } else {
            let c = rest.chars().next().unwrap_or_default();
            re.push_str(&regex::escape(&c.to_string()));
            rest = &rest[c.len_utf8()..];
        }
    }
    re.push('$');
    Ok(regex::Regex::new(&re)?)
}

impl AdmissionPolicy {
    /// Reads a policy file; relative `key` paths are relative to its directory.
    ///
    /// # Errors
    /// Unreadable file, TOML errors, unknown fields, and rules that are incomplete or
    /// contradictory (named by their number, from 1).
    pub(crate) fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read admission policy {}", path.display()))?;
        Self::parse(&text, path.parent().unwrap_or(Path::new(".")))
            .with_context(|| format!("in admission policy {}", path.display()))
    }

    pub(crate) fn parse(text: &str, base: &Path) -> anyhow::Result<Self> {
        let file: PolicyFile = toml::from_str(text)?;
        let mut rules = Vec::new();
        for (i, r) in file.rules.into_iter().enumerate() {
            let number = i + 1;
            let ctx = || format!("rule {number}");
            if r.images.is_empty() {
                anyhow::bail!("rule {number}: `images` lists no pattern");
            }
            let patterns = r
                .images
                .iter()
                .map(|p| pattern_regex(p).map(|re| (p.clone(), re)))
                .collect::<anyhow::Result<Vec<_>>>()
                .with_context(ctx)?;
            let policy = if r.verify {
                let mut claims = Vec::new();
                for (oid, value) in &r.extensions {
                    claims.push(
                        verify::parse_extension_flag(
                            &format!("{oid}={value}"),
                            verify::Spelling::POLICY_FILE,
                        )
                        .with_context(ctx)?,
                    );
                }
                let flags = verify::IdentityFlags {
                    identity: r.identity,
                    identity_regexp: r.identity_regexp,
                    issuer: r.issuer,
                    issuer_regexp: r.issuer_regexp,
                    claims,
                };
                let key = r.key.map(|k| base.join(k));
                Some(
                    verify::build_policy(key.as_deref(), &flags, verify::Spelling::POLICY_FILE)
                        .with_context(ctx)?,
                )
            } else {
                if r.identity.is_some()
                    || r.identity_regexp.is_some()
                    || r.issuer.is_some()
                    || r.issuer_regexp.is_some()
                    || r.key.is_some()
                    || !r.extensions.is_empty()
                    || !r.attestations.is_empty()
                {
                    anyhow::bail!(
                        "rule {number}: `verify = false` admits images unverified, so it takes no identity, issuer, extensions, key or attestations"
                    );
                }
                None
            };
            let attestations = r
                .attestations
                .iter()
                .map(|t| crate::client::predicate_type_uri(t))
                .collect::<anyhow::Result<Vec<_>>>()
                .with_context(ctx)?;
            rules.push(Rule {
                number,
                patterns,
                policy,
                attestations,
            });
        }
        Ok(Self {
            no_match: file.no_match,
            rules,
        })
    }

    /// The first rule matching `name` (`registry/repository`) and the pattern that matched.
    fn rule_for(&self, name: &str) -> Option<(&Rule, &str)> {
        self.rules.iter().find_map(|r| {
            r.patterns
                .iter()
                .find(|(_, re)| re.is_match(name))
                .map(|(p, _)| (r, p.as_str()))
        })
    }
}

/// Shared state of the webhook.
struct AppState {
    policy: AdmissionPolicy,
    trust: TrustMaterial,
    registry: oci::RegistryOptions,
    image_timeout: Duration,
    verified: VerifiedCache,
}

/// Digests that passed a rule recently, with the signer that satisfied it. Bounded: at
/// [`VerifiedCache::CAPACITY`] entries the expired ones go, and if none has expired, all go.
struct VerifiedCache {
    ttl: Duration,
    entries: Mutex<BTreeMap<(usize, String), (Instant, String)>>,
}

impl VerifiedCache {
    const CAPACITY: usize = 4096;

    fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(BTreeMap::new()),
        }
    }

    /// The signer that satisfied rule `rule` for `digest`, and how long ago, if that was less
    /// than the TTL before `now`.
    fn get(&self, rule: usize, digest: &str, now: Instant) -> Option<(String, Duration)> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (at, signer) = entries.get(&(rule, digest.to_owned()))?;
        let age = now.checked_duration_since(*at)?;
        (age < self.ttl).then(|| (signer.clone(), age))
    }

    fn put(&self, rule: usize, digest: &str, signer: &str, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= Self::CAPACITY {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| now.checked_duration_since(*at).is_some_and(|a| a < ttl));
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
        }
        entries.insert((rule, digest.to_owned()), (now, signer.to_owned()));
    }
}

/// An image admitted: why, and the digest its signatures were verified for (`None` when it was
/// admitted without verification).
struct Admitted {
    note: String,
    digest: Option<String>,
}

/// The decision on one image: `Ok` admits, `Err(reason)` denies.
async fn check_image(state: &AppState, image: &str) -> Result<Admitted, String> {
    let reference = oci::Reference::parse(image).map_err(|e| format!("image {image:?}: {e}"))?;
    // The normalised name: every spelling of the same image meets the same rule.
    let name = reference.name();
    let Some((rule, pattern)) = state.policy.rule_for(&name) else {
        return match state.policy.no_match {
            NoMatch::Allow => Ok(Admitted {
                note: format!("{image}: no rule matches; admitted (no_match = \"allow\")"),
                digest: None,
            }),
            NoMatch::Deny => Err(format!(
                "{image}: no admission policy rule matches {name}, and unmatched images are denied"
            )),
        };
    };
    let Some(policy) = &rule.policy else {
        return Ok(Admitted {
            note: format!(
                "{image}: admitted unverified by rule {} ({pattern}, verify = false)",
                rule.number
            ),
            digest: None,
        });
    };
    let registry = oci::RegistryClient::new(&reference, &state.registry)
        .map_err(|e| format!("{image}: {e}"))?;
    // A reference by digest is checked for that digest (as `verify` does); a tag is resolved.
    let digest = match &reference.digest {
        Some(d) => d.clone(),
        None => {
            registry
                .resolve(&reference)
                .await
                .map_err(|e| format!("{image}: {e}"))?
                .digest
        }
    };
    if let Some((signer, age)) = state.verified.get(rule.number, &digest, Instant::now()) {
        return Ok(Admitted {
            note: format!(
                "{image} ({digest}): verified by rule {} ({pattern}), signer {signer} ({} s ago)",
                rule.number,
                age.as_secs()
            ),
            digest: Some(digest),
        });
    }
    let bytes = crate::client::digest_bytes(&digest).map_err(|e| format!("{image}: {e}"))?;
    let outcomes = verify::verify_image_all(
        &registry,
        &digest,
        bytes,
        verify::Wanted::Signatures,
        policy,
        &state.trust,
        true,
    )
    .await
    .map_err(|e| format!("{image} ({digest}): {e}"))?;
    if let Some(ok) = outcomes.iter().find(|o| o.ok) {
        for predicate_type in &rule.attestations {
            let found = verify::verify_image_all(
                &registry,
                &digest,
                bytes,
                verify::Wanted::Attestations { predicate_type },
                policy,
                &state.trust,
                true,
            )
            .await
            .map_err(|e| format!("{image} ({digest}): {e}"))?;
            if !found.iter().any(|o| o.ok) {
                let why: Vec<String> = found.iter().filter_map(|o| o.error.clone()).collect();
                return Err(format!(
                    "{image} ({digest}): no verified attestation of type {predicate_type} (rule {}, {pattern}){}",
                    rule.number,
                    if why.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", why.join("; "))
                    }
                ));
            }
        }
        let signer = ok.identity.as_deref().unwrap_or("<public key>");
        state
            .verified
            .put(rule.number, &digest, signer, Instant::now());
        return Ok(Admitted {
            note: format!(
                "{image} ({digest}): verified by rule {} ({pattern}), signer {signer}",
                rule.number,
            ),
            digest: Some(digest),
        });
    }
    if outcomes.is_empty() {
        return Err(format!(
            "{image} ({digest}): no Sigstore bundles are attached to this digest, and it has no cosign .sig tag (rule {}, {pattern})",
            rule.number
        ));
    }
    let reasons: Vec<String> = outcomes
        .iter()
        .map(|o| {
            o.error
                .clone()
                .unwrap_or_else(|| "unknown error".to_owned())
        })
        .collect();
    Err(format!(
        "{image} ({digest}): no attached bundle satisfies rule {} ({pattern}): {}",
        rule.number,
        reasons.join("; ")
    ))
}

/// A `{code, message}` error for requests that are not AdmissionReviews.
fn bad_request(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    (
        status,
        Json(json!({"code": status.as_u16(), "message": message})),
    )
        .into_response()
}

/// The AdmissionReview answer for `uid` ([`admission::review_response`]).
fn review_response(uid: &str, verdict: &Verdict<'_>) -> Response {
    Json(admission::review_response(uid, verdict)).into_response()
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
    },
    /// Denied, with the message shown to the user.
    Denied { uid: String, message: String },
}

/// Parses an AdmissionReview body and decides on every image it would run.
async fn decide(state: &Arc<AppState>, body: Result<Bytes, BytesRejection>) -> Decision {
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Decision::Invalid(bad_request(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("AdmissionReview larger than {MAX_BODY} bytes"),
            ))
        }
        Err(e) => return Decision::Invalid(bad_request(StatusCode::BAD_REQUEST, e.body_text())),
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
            }
        }
        ObjectImages::NoPodSpec => {
            return Decision::Allowed {
                uid,
                pins: Vec::new(),
                warnings: vec![format!(
                    "signet admission: a {kind} has no pod spec; nothing was checked"
                )],
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
    let mut images: Vec<String> = Vec::new();
    for ImageField { image, .. } in &containers {
        if !images.contains(image) {
            images.push(image.clone());
        }
    }
    let mut checks = tokio::task::JoinSet::new();
    for (i, image) in images.iter().enumerate() {
        let state = Arc::clone(state);
        let image = image.clone();
        checks.spawn(async move {
            let decision = match tokio::time::timeout(
                state.image_timeout,
                check_image(&state, &image),
            )
            .await
            {
                Ok(d) => d,
                Err(_) => Err(format!(
                    "{image}: not decided within {} s",
                    state.image_timeout.as_secs()
                )),
            };
            (i, decision)
        });
    }
    let mut decisions: Vec<(usize, Result<Admitted, String>)> = Vec::new();
    while let Some(joined) = checks.join_next().await {
        match joined {
            Ok(d) => decisions.push(d),
            Err(e) => decisions.push((usize::MAX, Err(format!("image check failed: {e}")))),
        }
    }
    decisions.sort_by_key(|(i, _)| *i);
    let denied: Vec<&str> = decisions
        .iter()
        .filter_map(|(_, d)| d.as_ref().err().map(String::as_str))
        .collect();
    if !denied.is_empty() {
        let message = format!(
            "signet admission denied the {kind} {name:?}: {}",
            denied.join("; ")
        );
        tracing::warn!(uid, kind, namespace, name, %message, "denied");
        return Decision::Denied { uid, message };
    }
    let notes: Vec<&str> = decisions
        .iter()
        .filter_map(|(_, d)| d.as_ref().ok().map(|a| a.note.as_str()))
        .collect();
    tracing::info!(uid, kind, namespace, name, images = ?notes, "admitted");
    // Verified images referenced by tag get pinned to the digest that was verified.
    let mut pins = Vec::new();
    for ImageField { pointer, image } in &containers {
        let verified = images
            .iter()
            .position(|i| i == image)
            .and_then(|i| decisions.iter().find(|(j, _)| *j == i))
            .and_then(|(_, d)| d.as_ref().ok())
            .and_then(|a| a.digest.as_deref());
        if let Some(digest) = verified {
            if !image.contains('@') {
                pins.push(ImageField {
                    pointer: pointer.clone(),
                    image: format!("{image}@{digest}"),
                });
            }
        }
    }
    Decision::Allowed {
        uid,
        pins,
        warnings: Vec::new(),
    }
}

/// `POST /validate`: admit or deny.
async fn validate(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match decide(&state, body).await {
        Decision::Invalid(r) => r,
        Decision::Allowed { uid, warnings, .. } => review_response(
            &uid,
            &Verdict::Allow {
                warnings: &warnings,
                patch: &[],
            },
        ),
        Decision::Denied { uid, message } => {
            review_response(&uid, &Verdict::Deny { message: &message })
        }
    }
}

/// `POST /mutate`: as `/validate`, and when admitting, a JSON Patch that pins every verified
/// image referenced by tag to the digest that was verified (`name:tag@sha256:...`), so the
/// kubelet runs exactly what was checked even if the tag moves later.
async fn mutate(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match decide(&state, body).await {
        Decision::Invalid(r) => r,
        Decision::Allowed {
            uid,
            pins,
            warnings,
        } => review_response(
            &uid,
            &Verdict::Allow {
                warnings: &warnings,
                patch: &pins,
            },
        ),
        Decision::Denied { uid, message } => {
            review_response(&uid, &Verdict::Deny { message: &message })
        }
    }
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(|| async {
            bad_request(
                StatusCode::NOT_FOUND,
                "no such endpoint; the webhooks are POST /validate and POST /mutate",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Runs `signet admission`.
///
/// # Errors
/// Bad policy, trusted root or TLS files, and server failures.
pub(crate) fn run(args: AdmissionArgs) -> anyhow::Result<ExitCode> {
    let policy = AdmissionPolicy::load(&args.policy)?;
    let trust = match (&args.trusted_root, args.check) {
        (None, true) => None,
        (given, _) => {
            let root = crate::trust::client::trusted_root_or_default(given.as_deref())?;
            Some(verify::load_trust(&root, args.witness_policy.as_deref())?)
        }
    };
    if args.check {
        let verified = policy.rules.iter().filter(|r| r.policy.is_some()).count();
        println!(
            "admission policy ok: {} rules ({verified} verify signatures, {} admit unverified); unmatched images: {:?}",
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
    let state = Arc::new(AppState {
        policy,
        trust,
        registry: oci::RegistryOptions {
            allow_insecure: args.allow_insecure_registry,
        },
        image_timeout: Duration::from_secs(args.image_timeout_secs.max(1)),
        verified: VerifiedCache::new(Duration::from_secs(args.cache_ttl_secs)),
    });
    args.log.init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = args.listen.bind().await?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("signet admission listening on {scheme}://{addr}");
        std::io::stdout().flush()?;
        crate::servers::listen::serve(
            listener,
            router(state),
            tls.as_ref(),
            crate::servers::listen::Timeouts::default(),
            crate::servers::listen::shutdown_signal(),
        )
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn verified_cache_expires_and_stays_bounded() {
        let t0 = Instant::now();
        let secs = Duration::from_secs;
        let c = VerifiedCache::new(secs(300));
        assert!(c.get(1, "sha256:aa", t0).is_none());
        c.put(1, "sha256:aa", "alice@example.com", t0);
        assert_eq!(
            c.get(1, "sha256:aa", t0 + secs(10)),
            Some(("alice@example.com".to_owned(), secs(10)))
        );
        // Per rule and per digest.
        assert!(c.get(2, "sha256:aa", t0).is_none());
        assert!(c.get(1, "sha256:bb", t0).is_none());
        // Expired at the TTL.
        assert!(c.get(1, "sha256:aa", t0 + secs(300)).is_none());
        // At capacity, expired entries make room and fresh ones stay.
        let c = VerifiedCache::new(secs(300));
        for i in 0..VerifiedCache::CAPACITY - 1 {
            c.put(1, &format!("sha256:{i}"), "old", t0 + secs(1));
        }
        c.put(3, "sha256:fresh", "new", t0 + secs(200));
        assert_eq!(c.entries.lock().unwrap().len(), VerifiedCache::CAPACITY);
        let later = t0 + secs(400);
        c.put(3, "sha256:later", "new", later);
        assert_eq!(
            c.entries.lock().unwrap().len(),
            2,
            "only the unexpired remain"
        );
        assert!(c.get(3, "sha256:fresh", later).is_some());
        // Full of unexpired entries: cleared rather than grown.
        for i in 0..VerifiedCache::CAPACITY {
            c.put(4, &format!("sha256:{i}"), "x", later);
        }
        assert!(c.entries.lock().unwrap().len() <= VerifiedCache::CAPACITY);
        // A TTL of 0 remembers nothing.
        let off = VerifiedCache::new(Duration::ZERO);
        off.put(1, "sha256:aa", "alice@example.com", t0);
        assert!(off.get(1, "sha256:aa", t0).is_none());
        assert!(off.entries.lock().unwrap().is_empty());
    }

    #[test]
    fn patterns_match_path_segments() {
        let re = pattern_regex("registry.example.com/team/*").unwrap();
        assert!(re.is_match("registry.example.com/team/app"));
        assert!(!re.is_match("registry.example.com/team/app/sub"));
        assert!(!re.is_match("registry.example.com/teamx/app"));
        assert!(
            !re.is_match("registryXexample.com/team/app"),
            "dots are literal"
        );
        let re = pattern_regex("registry.example.com/**").unwrap();
        assert!(re.is_match("registry.example.com/a/b/c"));
        assert!(!re.is_match("evil.example/registry.example.com/a"));
        let re = pattern_regex("127.0.0.1:5000/app").unwrap();
        assert!(re.is_match("127.0.0.1:5000/app"));
        assert!(!re.is_match("127.0.0.1:5000/app2"));
        for bad in ["", "repo@sha256:00", "a b"] {
            assert!(pattern_regex(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn patterns_are_normalised_as_references_are() {
        for (pattern, want) in [
            (
                "registry.example.com/team/**",
                "registry.example.com/team/**",
            ),
            (
                "REGISTRY.Example.COM/team/**",
                "registry.example.com/team/**",
            ),
            (
                "registry.example.com:443/team/*",
                "registry.example.com/team/*",
            ),
            (
                "registry.example.com./team/*",
                "registry.example.com/team/*",
            ),
            (
                "registry.example.com:80/team/*",
                "registry.example.com:80/team/*",
            ),
            ("LOCALHOST:5000/team/**", "localhost:5000/team/**"),
            ("localhost:80/team/*", "localhost/team/*"),
            ("index.docker.io:5000/a/*", "index.docker.io:5000/a/*"),
            ("[0:0::1]:5000/a", "[::1]:5000/a"),
            ("docker.io/myorg/**", "docker.io/myorg/**"),
            ("index.docker.io/myorg/**", "docker.io/myorg/**"),
            ("registry-1.docker.io:443/myorg/*", "docker.io/myorg/*"),
            ("myorg/**", "docker.io/myorg/**"),
            ("nginx", "docker.io/library/nginx"),
            ("docker.io/nginx", "docker.io/library/nginx"),
            ("docker.io/*", "docker.io/library/*"),
            ("docker.io/**", "docker.io/**"),
            ("index.docker.io/library/*", "docker.io/library/*"),
            ("**", "**"),
            ("*.Example.COM.:443/team/**", "*.example.com/team/**"),
            ("*.example.com:5000/**", "*.example.com:5000/**"),
        ] {
            assert_eq!(normalize_pattern(pattern).unwrap(), want, "{pattern}");
        }
        for bad in [
            "registry.example.com/Team/**",
            "Team/app",
            "MyOrg/app",
            "2130706433:5000/**",
            "registry.example.com:0/a",
            "reg_istry.example.com/a",
            "registry.example.com/a%2f*",
            "registry.example.com",
            "localhost:5000",
            "registry.example.com/team/app:v1",
            // Port globs would never meet an image on the default port (which has none).
            "registry.example.com:*/team/**",
            "localhost:*/**",
            "*.example.com:*/**",
            "LOCALHOST:5*/**",
        ] {
            assert!(normalize_pattern(bad).is_err(), "{bad}");
        }
        let e = normalize_pattern("localhost:*/**").unwrap_err().to_string();
        assert!(e.contains("a port cannot be a glob"), "{e}");
    }

    /// Issue 15: a rule written for one spelling of a registry meets every spelling that a
    /// container runtime pulls from the same place.
    #[test]
    fn rules_meet_every_spelling_of_an_image() {
        let p = AdmissionPolicy::parse(
            r#"
no_match = "allow"
[[rule]]
images = ["registry.example.com/team/**"]
identity = "me@example.com"
issuer = "https://issuer.example"
[[rule]]
images = ["docker.io/myorg/**"]
identity = "me@example.com"
issuer = "https://issuer.example"
[[rule]]
images = ["REGISTRY.other.example:443/x/*", "index.docker.io/nginx", "LOCALHOST:5000/team/**"]
identity = "me@example.com"
issuer = "https://issuer.example"
[[rule]]
images = ["docker.io/library/*"]
verify = false
"#,
            Path::new("/nonexistent"),
        )
        .unwrap();
        let rule = |image: &str| {
            let r = oci::Reference::parse(image).unwrap();
            p.rule_for(&r.name()).map(|(rule, _)| rule.number)
        };
        for (image, want) in [
            ("registry.example.com/team/app", Some(1)),
            ("REGISTRY.EXAMPLE.COM/team/app", Some(1)),
            ("registry.example.com:443/team/app:v1", Some(1)),
            ("registry.example.com./team/app", Some(1)),
            ("Registry.Example.Com.:0443/team/sub/app", Some(1)),
            ("docker.io/myorg/app", Some(2)),
            ("myorg/app", Some(2)),
            ("index.docker.io/myorg/app", Some(2)),
            ("registry-1.docker.io/myorg/app", Some(2)),
            ("Registry-1.Docker.IO:443/myorg/app", Some(2)),
            ("registry.hub.docker.com/myorg/app", Some(2)),
            ("registry.other.example/x/y", Some(3)),
            ("Registry.Other.Example:443/x/y", Some(3)),
            ("nginx", Some(3)),
            ("docker.io/nginx:1", Some(3)),
            ("index.docker.io/library/nginx", Some(3)),
            ("localhost:5000/team/app", Some(3)),
            ("LOCALHOST:5000/team/app", Some(3)),
            ("alpine", Some(4)),
            ("registry-1.docker.io/alpine", Some(4)),
            // Other registries are other registries.
            ("registry.example.com:8443/team/app", None),
            ("registry.example.com:80/team/app", None),
            ("localhost:5001/team/app", None),
            ("evil.example/registry.example.com/team/app", None),
        ] {
            assert_eq!(rule(image), want, "{image}");
        }
    }

    #[test]
    fn policy_files_are_checked() {
        let base = Path::new("/nonexistent");
        let p = AdmissionPolicy::parse(
            r#"
no_match = "allow"
[[rule]]
images = ["r.example/signed/*"]
identity = "me@example.com"
issuer = "https://issuer.example"
extensions = { "1.3.6.1.4.1.57264.1.12" = "https://github.com/org/repo" }
[[rule]]
images = ["docker.io/library/*"]
verify = false
"#,
            base,
        )
        .unwrap();
        assert_eq!(p.no_match, NoMatch::Allow);
        assert_eq!(p.rule_for("r.example/signed/app").unwrap().0.number, 1);
        assert!(p
            .rule_for("r.example/signed/app")
            .unwrap()
            .0
            .policy
            .is_some());
        let (r, pat) = p.rule_for("docker.io/library/nginx").unwrap();
        assert!(r.policy.is_none() && pat == "docker.io/library/*");
        assert!(p.rule_for("r.example/other/app").is_none());

        for (text, needle) in [
            ("[[rule]]\nimages = []\nidentity = \"a\"\nissuer = \"b\"", "lists no pattern"),
            (
                "[[rule]]\nimages = [\"a/*\"]\nissuer = \"b\"",
                "rule 1: an identity is required: `identity` or `identity_regexp` (or `key` for keyed verification)",
            ),
            (
                "[[rule]]\nimages = [\"a/*\"]\nidentity = \"a\"",
                "rule 1: an issuer is required: `issuer` or `issuer_regexp`",
            ),
            (
                "[[rule]]\nimages = [\"a/*\"]\nidentity = \"a\"\nissuer = \"b\"\nissuer_regexp = \"c\"",
                "rule 1: give only one of `issuer` and `issuer_regexp`",
            ),
            (
                "[[rule]]\nimages = [\"a/*\"]\nidentity = \"a\"\nidentity_regexp = \"c\"\nissuer = \"b\"",
                "rule 1: give only one of `identity` and `identity_regexp`",
            ),
            (
                "[[rule]]\nimages = [\"a/*\"]\nidentity_regexp = \"(\"\nissuer = \"b\"",
                "rule 1: `identity_regexp`",
            ),
            ("[[rule]]\nimages = [\"a/*\"]\nverify = false\nidentity = \"a\"", "takes no identity"),
            ("[[rule]]\nimages = [\"a/*\"]\nidentity = \"a\"\nissuer = \"b\"\nextensions = { \"1.2.3\" = \"x\" }", "`extensions`: 1.2.3 is not a Fulcio extension"),
            ("no_match = \"maybe\"", "unknown variant"),
            (
                "[[rule]]\nimages = [\"a/*\"]\nverify = false\nattestations = [\"custom\"]",
                "takes no identity",
            ),
            (
                "[[rule]]\nimages = [\"a/*\"]\nidentity = \"a\"\nissuer = \"b\"\nattestations = [\"provenance\"]",
                "--type \"provenance\"",
            ),
            ("[[rule]]\nimages = [\"a/*\"]\nidentiy = \"a\"", "unknown field"),
        ] {
            let e = AdmissionPolicy::parse(text, base).err().unwrap_or_else(|| panic!("{text} parsed"));
            let msg = format!("{e:#}");
            assert!(msg.contains(needle), "{text}: {msg}");
            assert!(!msg.contains("--certificate"), "{text}: {msg}");
        }
    }

    #[test]
    fn policy_file_errors_name_the_file_the_rule_and_its_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(
            &path,
            "[[rule]]\nimages = [\"a/*\"]\nverify = false\n\n[[rule]]\nimages = [\"b/*\"]\nidentity = \"a\"\n",
        )
        .unwrap();
        let e = AdmissionPolicy::load(&path).err().unwrap();
        assert_eq!(
            format!("{e:#}"),
            format!(
                "in admission policy {}: rule 2: an issuer is required: `issuer` or `issuer_regexp`",
                path.display()
            )
        );
    }
}
