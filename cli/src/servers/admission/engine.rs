//! The decision on the images of one review, shared by `/validate`, `/mutate` and
//! `/imagepolicy`: the rule that applies, the registry lookups, the verification, and the
//! caches and the deadline that keep it far below the API server's webhook timeout.
//!
//! Each image reference as written is parsed and normalised once and remembered (a pure
//! function of the string), so a warm review costs the rule match and two map lookups per
//! image. The order of work for an image that a verifying rule covers, cheapest first:
//! 1. a reference by digest, or a tag resolved less than `--tag-cache-secs` ago, whose digest
//!    passed the same rule less than `--cache-ttl-secs` ago (in the same repository, for rules
//!    with Notary Project signatures: [`VerdictKey`]) is admitted with no network at all;
//! 2. otherwise the registry client for its repository is taken from a pool (built once per
//!    repository and kept [`CLIENT_TTL`]: its connections, its token and its credentials are
//!    reused), the tag is resolved (and remembered), and the verdict cache is consulted again;
//! 3. otherwise the signatures are verified; concurrent reviews of the same digest under the
//!    same rule wait for the first one's result instead of verifying it again.
//!
//! Every review has a deadline (`--deadline`, 7 s by default, below the API server's default
//! webhook timeout of 10 s): an image not decided by then is denied (warned about, in warn
//! mode) with a message saying so. Its check goes on in the background, up to
//! [`BACKGROUND_LIMIT`], so that a retried review finds the verdict cached.

pub(crate) use super::ttl::TtlMap;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signet_verifier::trust::TrustMaterial;

use super::namespaces::NamespaceLabels;
use super::policy::{
    AdmissionPolicy, Mode, NamespaceInfo, NoMatch, Rule, SignatureFormats, Verification,
};
use crate::client::verify;
use crate::registry as oci;
use crate::trust::refresh::Shared;

/// How long a pooled registry client is reused; then a new one re-reads the credentials (a
/// credential helper's token may have been renewed) and re-probes a loopback registry's TLS.
pub(crate) const CLIENT_TTL: Duration = Duration::from_secs(600);
/// How long a check that missed the review's deadline may go on in the background.
pub(crate) const BACKGROUND_LIMIT: Duration = Duration::from_secs(60);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Counters served at `/metrics` (Prometheus text format).
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) reviews: AtomicU64,
    pub(crate) images_checked: AtomicU64,
    pub(crate) verdict_cache_hits: AtomicU64,
    pub(crate) tag_cache_hits: AtomicU64,
    pub(crate) verifications: AtomicU64,
    pub(crate) deadline_misses: AtomicU64,
    /// Summed wall time of image checks that went to the registry (nanoseconds).
    pub(crate) check_nanos: AtomicU64,
}

/// The knobs of an [`Engine`].
pub(crate) struct Settings {
    pub(crate) registry: oci::RegistryOptions,
    pub(crate) deadline: Duration,
    pub(crate) cache_ttl: Duration,
    pub(crate) tag_ttl: Duration,
    pub(crate) namespaces: Option<NamespaceLabels>,
}

/// The shared decision machinery of the webhook.
pub(crate) struct Engine {
    pub(crate) policy: AdmissionPolicy,
    /// The trust in force, swapped by the periodic trust refresh (`--trust-refresh`).
    trust: Arc<Shared<TrustMaterial>>,
    registry: oci::RegistryOptions,
    pub(crate) deadline: Duration,
    /// Registry clients by (API host, repository).
    clients: TtlMap<(String, String), Arc<oci::RegistryClient>>,
    /// Image references as written → parsed and normalised (a pure function of the string,
    /// remembered so that a warm review does not parse and normalise every image again).
    parsed: TtlMap<String, Arc<ParsedImage>>,
    /// Tag resolutions: `registry/repository:tag` → digest.
    tags: TtlMap<String, String>,
    /// Digests that passed a rule ([`verdict_key`]) → the signers that satisfied it.
    pub(crate) verified: TtlMap<VerdictKey, Arc<str>>,
    /// One lock per verdict being verified, so concurrent reviews verify it once.
    inflight: Mutex<Gates>,
    namespaces: Option<NamespaceLabels>,
    pub(crate) stats: Stats,
}

/// An image reference as written, parsed once: the reference, its normalised
/// `registry/repository` (what rules match) and, for a tag, its [`tag_key`].
struct ParsedImage {
    reference: oci::Reference,
    name: String,
    tag_key: Option<String>,
}

/// One lock per verdict under verification.
type Gates = HashMap<VerdictKey, Arc<tokio::sync::Mutex<()>>>;

/// What a verdict holds for: (rule number, repository, digest). The repository is empty for a
/// rule that verifies only Sigstore signatures (they sign the digest: a verdict holds for the
/// digest wherever it is pulled from); with Notary Project signatures it is the normalised
/// repository, since notation's trust policy picks its statement by repository
/// (`registryScopes`), and signatures are looked up in that repository.
pub(crate) type VerdictKey = (usize, String, String);

/// The [`VerdictKey`] of `digest` of `reference` under `rule`.
fn verdict_key(rule: &Rule, reference: &oci::Reference, digest: &str) -> VerdictKey {
    let notary = rule
        .verification
        .as_ref()
        .is_some_and(|v| v.formats.notary());
    let scope = if notary {
        reference.name()
    } else {
        String::new()
    };
    (rule.number, scope, digest.to_owned())
}

/// The outcome for one image.
#[derive(Clone, Debug)]
pub(crate) enum ImageOutcome {
    /// Admitted: why, and the digest its signatures were verified for (`None` when admitted
    /// without verification).
    Admitted {
        note: String,
        digest: Option<String>,
    },
    /// Failed, with the mode of what failed: `Enforce` denies, `Warn` admits with a warning.
    Failed { reason: String, mode: Mode },
}

/// The outcome for every image of a review.
#[derive(Debug, Default)]
pub(crate) struct ReviewOutcome {
    /// The reasons of the denials (empty: admitted).
    pub(crate) denied: Vec<String>,
    /// Failures in warn mode: admitted, with these warnings.
    pub(crate) warnings: Vec<String>,
    /// Why each admitted image was admitted.
    pub(crate) notes: Vec<String>,
    /// The digest each verified image was verified for, by image as written.
    pub(crate) digests: BTreeMap<String, String>,
}

impl Engine {
    pub(crate) fn new(
        policy: AdmissionPolicy,
        trust: Arc<Shared<TrustMaterial>>,
        s: Settings,
    ) -> Self {
        Self {
            policy,
            trust,
            registry: s.registry,
            deadline: s.deadline,
            clients: TtlMap::new(CLIENT_TTL),
            parsed: TtlMap::new(CLIENT_TTL),
            tags: TtlMap::new(s.tag_ttl),
            verified: TtlMap::new(s.cache_ttl),
            inflight: Mutex::new(HashMap::new()),
            namespaces: s.namespaces,
            stats: Stats::default(),
        }
    }

    /// Decides on `images` (repeats allowed) run in `namespace` ("" when cluster-scoped).
    pub(crate) async fn review(
        self: &Arc<Self>,
        images: &[String],
        namespace: &str,
    ) -> ReviewOutcome {
        self.stats.reviews.fetch_add(1, Ordering::Relaxed);
        let deadline = tokio::time::Instant::now() + self.deadline;
        let mut unique: Vec<&String> = Vec::new();
        for i in images {
            if !unique.contains(&i) {
                unique.push(i);
            }
        }
        // Namespace labels, only when a rule is scoped by them.
        let mut label_error = None;
        let labels = if self.policy.needs_namespace_labels() && !namespace.is_empty() {
            match &self.namespaces {
                None => {
                    label_error = Some("no source of namespace labels is configured".to_owned());
                    None
                }
                Some(source) => {
                    match tokio::time::timeout_at(deadline, source.labels(namespace)).await {
                        Ok(Ok(l)) => Some(l),
                        Ok(Err(e)) => {
                            label_error = Some(e);
                            None
                        }
                        Err(_) => {
                            label_error =
                                Some("the namespace lookup missed the deadline".to_owned());
                            None
                        }
                    }
                }
            }
        } else {
            None
        };
        let ns = NamespaceInfo {
            name: namespace,
            labels: labels.as_ref(),
        };
        let mut pending = Vec::new();
        let mut outcomes: Vec<(String, ImageOutcome)> = Vec::new();
        for image in unique {
            self.stats.images_checked.fetch_add(1, Ordering::Relaxed);
            match self.start(image, ns, label_error.as_deref()) {
                Start::Done(o) => outcomes.push((image.clone(), o)),
                Start::Check {
                    reference,
                    rule,
                    pattern,
                } => {
                    let engine = Arc::clone(self);
                    let img = image.clone();
                    let task = tokio::spawn(async move {
                        let begun = Instant::now();
                        let out = tokio::time::timeout(
                            BACKGROUND_LIMIT,
                            engine.check(&img, &reference, rule, &pattern),
                        )
                        .await
                        .unwrap_or_else(|_| ImageOutcome::Failed {
                            reason: format!(
                                "{img}: not decided within {} s",
                                BACKGROUND_LIMIT.as_secs()
                            ),
                            mode: engine.policy.rules[rule].mode,
                        });
                        let took = u64::try_from(begun.elapsed().as_nanos()).unwrap_or(u64::MAX);
                        engine.stats.check_nanos.fetch_add(took, Ordering::Relaxed);
                        out
                    });
                    pending.push((image.clone(), rule, task));
                }
            }
        }
        for (image, rule, task) in pending {
            let outcome = match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok(o)) => o,
                Ok(Err(e)) => ImageOutcome::Failed {
                    reason: format!("{image}: the check failed: {e}"),
                    mode: self.policy.rules[rule].mode,
                },
                Err(_) => {
                    self.stats.deadline_misses.fetch_add(1, Ordering::Relaxed);
                    ImageOutcome::Failed {
                        reason: format!(
                            "{image}: not checked within the webhook's deadline of {} ms (signet admission --deadline; registry too slow or unreachable); the check goes on, so a retry may find it decided",
                            self.deadline.as_millis()
                        ),
                        mode: self.policy.rules[rule].mode,
                    }
                }
            };
            outcomes.push((image, outcome));
        }
        let mut out = ReviewOutcome::default();
        // In the order the images were first written.
        let order = |i: &String| images.iter().position(|j| j == i).unwrap_or(usize::MAX);
        outcomes.sort_by_key(|(i, _)| order(i));
        for (image, o) in outcomes {
            match o {
                ImageOutcome::Admitted { note, digest } => {
                    out.notes.push(note);
                    if let Some(d) = digest {
                        out.digests.insert(image, d);
                    }
                }
                ImageOutcome::Failed {
                    reason,
                    mode: Mode::Enforce,
                } => out.denied.push(reason),
                ImageOutcome::Failed {
                    reason,
                    mode: Mode::Warn,
                } => out.warnings.push(reason),
            }
        }
        out
    }

    /// What can be decided without the network: the rule, unverified admissions, and cached
    /// verdicts of digests.
    fn start(&self, image: &str, ns: NamespaceInfo<'_>, label_error: Option<&str>) -> Start {
        let fail = |reason: String, mode: Mode| Start::Done(ImageOutcome::Failed { reason, mode });
        let now = Instant::now();
        let parsed = match self.parsed.get(image, now) {
            Some((p, _)) => p,
            None => match oci::Reference::parse(image) {
                Ok(reference) => {
                    let p = Arc::new(ParsedImage {
                        // The normalised name: every spelling of the same image meets the
                        // same rule.
                        name: reference.name(),
                        tag_key: reference.digest.is_none().then(|| tag_key(&reference)),
                        reference,
                    });
                    self.parsed.put(image.to_owned(), Arc::clone(&p), now);
                    p
                }
                Err(e) => return fail(format!("image {image:?}: {e}"), self.policy.mode),
            },
        };
        let (reference, name) = (&parsed.reference, &parsed.name);
        let (rule, pattern) = match self.policy.rule_for(name, ns) {
            Ok(Some(found)) => found,
            Ok(None) => {
                return match self.policy.no_match {
                    NoMatch::Allow => Start::Done(ImageOutcome::Admitted {
                        note: format!("{image}: no rule matches; admitted (no_match = \"allow\")"),
                        digest: None,
                    }),
                    NoMatch::Deny => fail(
                        format!("{image}: no admission policy rule matches {name}, and unmatched images are denied"),
                        self.policy.mode,
                    ),
                }
            }
            Err(e) => {
                let why = label_error.map(|l| format!(": {l}")).unwrap_or_default();
                return fail(format!("{image}: {e}{why}"), self.policy.mode);
            }
        };
        if rule.verification.is_none() {
            return Start::Done(ImageOutcome::Admitted {
                note: format!(
                    "{image}: admitted unverified by rule {} ({pattern}, verify = false)",
                    rule.number
                ),
                digest: None,
            });
        }
        let digest = reference.digest.clone().or_else(|| {
            let d = self.tags.get(parsed.tag_key.as_ref()?, now).map(|(d, _)| d);
            if d.is_some() {
                self.stats.tag_cache_hits.fetch_add(1, Ordering::Relaxed);
            }
            d
        });
        if let Some(digest) = digest {
            if let Some(admitted) = self.cached(image, reference, rule, pattern, &digest, now) {
                return Start::Done(admitted);
            }
        }
        Start::Check {
            reference: reference.clone(),
            rule: rule.number - 1,
            pattern: pattern.to_owned(),
        }
    }

    fn cached(
        &self,
        image: &str,
        reference: &oci::Reference,
        rule: &Rule,
        pattern: &str,
        digest: &str,
        now: Instant,
    ) -> Option<ImageOutcome> {
        let (signers, age) = self
            .verified
            .get(&verdict_key(rule, reference, digest), now)?;
        self.stats
            .verdict_cache_hits
            .fetch_add(1, Ordering::Relaxed);
        Some(ImageOutcome::Admitted {
            note: format!(
                "{image} ({digest}): verified by rule {} ({pattern}), {signers} ({} s ago)",
                rule.number,
                age.as_secs()
            ),
            digest: Some(digest.to_owned()),
        })
    }

    /// The pooled client for `reference`'s repository.
    async fn client(&self, reference: &oci::Reference) -> Result<Arc<oci::RegistryClient>, String> {
        let key = (
            reference.api_host().to_owned(),
            reference.repository.clone(),
        );
        if let Some((c, _)) = self.clients.get(&key, Instant::now()) {
            return Ok(c);
        }
        // Building one may probe a loopback registry for TLS and run a credential helper:
        // blocking work, off the async workers.
        let r = reference.clone();
        let opts = self.registry.clone();
        let client = tokio::task::spawn_blocking(move || oci::RegistryClient::new(&r, &opts))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let client = Arc::new(client);
        self.clients.put(key, Arc::clone(&client), Instant::now());
        Ok(client)
    }

    /// The checks that need the registry, for the rule at index `rule`.
    async fn check(
        &self,
        image: &str,
        reference: &oci::Reference,
        rule: usize,
        pattern: &str,
    ) -> ImageOutcome {
        let rule = &self.policy.rules[rule];
        let fail = |reason: String| ImageOutcome::Failed {
            reason,
            mode: rule.mode,
        };
        let client = match self.client(reference).await {
            Ok(c) => c,
            Err(e) => return fail(format!("{image}: {e}")),
        };
        // A reference by digest is checked for that digest (as `verify` does); a tag is resolved.
        let digest = match &reference.digest {
            Some(d) => d.clone(),
            None => match client.resolve(reference).await {
                Ok(m) => {
                    self.tags
                        .put(tag_key(reference), m.digest.clone(), Instant::now());
                    m.digest
                }
                Err(e) => return fail(format!("{image}: {e}")),
            },
        };
        if let Some(admitted) =
            self.cached(image, reference, rule, pattern, &digest, Instant::now())
        {
            return admitted;
        }
        // One verification per verdict at a time; the others then find it cached.
        let key = verdict_key(rule, reference, &digest);
        let gate = Arc::clone(lock(&self.inflight).entry(key.clone()).or_default());
        let outcome = {
            let _turn = gate.lock().await;
            match self.cached(image, reference, rule, pattern, &digest, Instant::now()) {
                Some(admitted) => admitted,
                None => {
                    self.verify(image, &client, reference, rule, pattern, &digest)
                        .await
                }
            }
        };
        {
            let mut inflight = lock(&self.inflight);
            if Arc::strong_count(&gate) <= 2 {
                inflight.remove(&key);
            }
        }
        outcome
    }

    /// Verifies the signatures on `digest` as `rule` requires (Sigstore, Notary Project, either
    /// or both); remembers a success.
    async fn verify(
        &self,
        image: &str,
        client: &oci::RegistryClient,
        reference: &oci::Reference,
        rule: &Rule,
        pattern: &str,
        digest: &str,
    ) -> ImageOutcome {
        self.stats.verifications.fetch_add(1, Ordering::Relaxed);
        let fail = |reason: String| ImageOutcome::Failed {
            reason: format!("{image} ({digest}): {reason}"),
            mode: rule.mode,
        };
        let Some(v) = &rule.verification else {
            return fail(format!("rule {} verifies nothing", rule.number));
        };
        let sigstore = self.verify_sigstore(client, rule, v, pattern, digest);
        let notary = self.verify_notary(client, reference, rule, v, pattern, digest);
        let verdict = match v.formats {
            SignatureFormats::Sigstore => sigstore.await,
            SignatureFormats::Notary => notary.await,
            // Both checks at once; the first success decides.
            SignatureFormats::Either => super::either::first_success(sigstore, notary)
                .await
                .map_err(|(s, n)| {
                    format!(
                        "rule {} ({pattern}) requires a Sigstore or a Notary Project signature, and neither verifies: Sigstore: {s}; Notary Project: {n}",
                        rule.number
                    )
                }),
            SignatureFormats::Both => match tokio::join!(sigstore, notary) {
                (Ok(s), Ok(n)) => Ok(format!("{s}, and {n}")),
                (s, n) => Err(format!(
                    "rule {} ({pattern}) requires both a Sigstore and a Notary Project signature: {}",
                    rule.number,
                    [("Sigstore", s), ("Notary Project", n)]
                        .into_iter()
                        .filter_map(|(f, r)| r.err().map(|e| format!("{f}: {e}")))
                        .collect::<Vec<_>>()
                        .join("; ")
                )),
            },
        };
        match verdict {
            Ok(verified) => {
                self.verified.put(
                    verdict_key(rule, reference, digest),
                    Arc::from(verified.as_str()),
                    Instant::now(),
                );
                ImageOutcome::Admitted {
                    note: format!(
                        "{image} ({digest}): verified by rule {} ({pattern}), {verified}",
                        rule.number
                    ),
                    digest: Some(digest.to_owned()),
                }
            }
            Err(reason) => fail(reason),
        }
    }

    /// The Sigstore part of a rule: its signers' threshold, then its attestations. The
    /// signatures (and each attestation type) are fetched once and verified under every
    /// signer's policy. `Ok`: who signed; `Err`: why not.
    async fn verify_sigstore(
        &self,
        client: &oci::RegistryClient,
        rule: &Rule,
        v: &Verification,
        pattern: &str,
        digest: &str,
    ) -> Result<String, String> {
        let bytes = crate::client::digest_bytes(digest).map_err(|e| e.to_string())?;
        let policies: Vec<&signet_verifier::policy::Policy> =
            v.signers.iter().map(|s| &s.policy).collect();
        // Every attached signature against every signer's policy: who signed.
        let per_signer = verify::verify_image_all_policies(
            client,
            digest,
            bytes,
            verify::Wanted::Signatures,
            &policies,
            &self.trust.load(),
            true,
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut signed_by: Vec<Vec<String>> = Vec::with_capacity(v.signers.len());
        let mut why: Vec<String> = Vec::new();
        let mut attached = false;
        for (signer, outcomes) in v.signers.iter().zip(&per_signer) {
            attached |= !outcomes.is_empty();
            let mut who: Vec<String> = outcomes
                .iter()
                .filter(|o| o.ok)
                .map(|o| match (&o.identity, &o.issuer) {
                    (Some(id), issuer) => format!("{id} ({})", issuer.as_deref().unwrap_or("?")),
                    // Keyed: the signer is the key itself.
                    (None, _) => signer.label.clone(),
                })
                .collect();
            who.sort();
            who.dedup();
            if who.is_empty() && v.signers.len() > 1 {
                why.push(format!("{}: no valid signature", signer.label));
            } else if who.is_empty() {
                why.extend(outcomes.iter().filter_map(|o| o.error.clone()));
            }
            signed_by.push(who);
        }
        if !attached {
            return Err(format!(
                "no Sigstore bundles are attached to this digest, and it has no cosign .sig tag (rule {}, {pattern})",
                rule.number
            ));
        }
        let matched = distinct_signers(&signed_by);
        if matched.len() < v.threshold {
            let head = if v.signers.len() == 1 {
                format!(
                    "no attached bundle satisfies rule {} ({pattern})",
                    rule.number
                )
            } else {
                format!(
                    "{} of the {} signers of rule {} ({pattern}) must have signed, {} did",
                    v.threshold,
                    v.signers.len(),
                    rule.number,
                    matched.len()
                )
            };
            return Err(format!("{head}: {}", why.join("; ")));
        }
        let names = matched
            .iter()
            .map(|(_, w)| w.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let signers_text = if v.signers.len() == 1 {
            format!("Sigstore signer {names}")
        } else {
            format!(
                "Sigstore signers {names} ({} of {} required)",
                v.threshold,
                v.signers.len()
            )
        };
        // Attestations: each listed type verified under the policy of a signer who signed.
        let signed: Vec<&signet_verifier::policy::Policy> =
            matched.iter().map(|(i, _)| &v.signers[*i].policy).collect();
        for predicate_type in &v.attestations {
            let per_signer = verify::verify_image_all_policies(
                client,
                digest,
                bytes,
                verify::Wanted::Attestations { predicate_type },
                &signed,
                &self.trust.load(),
                true,
            )
            .await
            .map_err(|e| e.to_string())?;
            if per_signer.iter().flatten().any(|o| o.ok) {
                continue;
            }
            // The reasons under the first signer's policy (the attestations are the same).
            let reasons: Vec<String> = per_signer
                .first()
                .into_iter()
                .flatten()
                .filter_map(|o| o.error.clone())
                .collect();
            return Err(format!(
                "no verified attestation of type {predicate_type} (rule {}, {pattern}){}",
                rule.number,
                if reasons.is_empty() {
                    String::new()
                } else {
                    format!(": {}", reasons.join("; "))
                }
            ));
        }
        Ok(signers_text)
    }

    /// The Notary Project part of a rule: a signature attached as a referrer that verifies
    /// under the rule's notation trust policy and store, as `notation verify` decides (a
    /// `skip` statement accepts the image unverified, as notation does). `Ok`: who signed;
    /// `Err`: why not.
    async fn verify_notary(
        &self,
        client: &oci::RegistryClient,
        reference: &oci::Reference,
        rule: &Rule,
        v: &Verification,
        pattern: &str,
        digest: &str,
    ) -> Result<String, String> {
        let Some(config) = &v.notary else {
            return Err(format!(
                "rule {} has no notation trust policy (this is a bug: it is checked when the policy is loaded)",
                rule.number
            ));
        };
        let pinned = reference.with_digest(digest);
        let report =
            crate::client::notary::verify_image_notary(client, &pinned, config, verify::now())
                .await
                .map_err(|e| format!("{e:#}"))?;
        if report.skipped {
            return Ok(format!(
                "Notary Project signatures not checked: the notation trust policy's statement for {} has level skip",
                reference.name()
            ));
        }
        if let Some(n) = report.verified.first() {
            let store = n.trust_store.as_ref().map_or_else(
                || "authenticity only logged".to_owned(),
                ToString::to_string,
            );
            let timestamp = n
                .timestamp
                .map(|t| format!(", RFC 3161 timestamp {t} (Unix seconds) verified"))
                .unwrap_or_default();
            return Ok(format!(
                "Notary Project signer {:?} (notation trust policy {:?}, {}, trust store {store}{timestamp})",
                n.signer,
                n.policy,
                n.level.as_str()
            ));
        }
        if report.outcomes.is_empty() {
            return Err(format!(
                "no Notary Project signature is attached to this digest (rule {}, {pattern})",
                rule.number
            ));
        }
        Err(format!(
            "no Notary Project signature verifies under rule {} ({pattern}): {}",
            rule.number,
            report
                .outcomes
                .iter()
                .filter_map(|o| o.error.as_ref().map(|e| format!(
                    "{} ({}): {e}",
                    o.source,
                    o.check.unwrap_or("notary")
                )))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}

/// What [`Engine::start`] found.
enum Start {
    Done(ImageOutcome),
    /// To check against the registry, under the rule at this index.
    Check {
        reference: oci::Reference,
        rule: usize,
        pattern: String,
    },
}

/// The tag cache's key: the normalised `registry/repository:tag`.
fn tag_key(r: &oci::Reference) -> String {
    format!("{}:{}", r.name(), r.manifest_ref())
}

/// The largest set of (signer index, actual signer) pairs in which each rule signer and each
/// actual signer appear once: a signer counts once however many signatures it made, and one
/// signature never counts for two rule signers (whose policies may overlap). `signed_by[i]`
/// lists who signed in a way that satisfies rule signer `i`. Augmenting paths (Kuhn's
/// algorithm); rules have a handful of signers.
pub(crate) fn distinct_signers(signed_by: &[Vec<String>]) -> Vec<(usize, String)> {
    fn augment(
        i: usize,
        signed_by: &[Vec<String>],
        owner: &mut HashMap<String, usize>,
        seen: &mut Vec<String>,
    ) -> bool {
        for who in &signed_by[i] {
            if seen.contains(who) {
                continue;
            }
            seen.push(who.clone());
            let free = match owner.get(who).copied() {
                None => true,
                Some(j) => augment(j, signed_by, owner, seen),
            };
            if free {
                owner.insert(who.clone(), i);
                return true;
            }
        }
        false
    }
    let mut owner: HashMap<String, usize> = HashMap::new();
    for i in 0..signed_by.len() {
        augment(i, signed_by, &mut owner, &mut Vec::new());
    }
    let mut pairs: Vec<(usize, String)> = owner.into_iter().map(|(w, i)| (i, w)).collect();
    pairs.sort();
    pairs
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ttl_maps_expire_and_stay_bounded() {
        let t0 = Instant::now();
        let secs = Duration::from_secs;
        let c: TtlMap<(usize, String), String> = TtlMap::new(secs(300));
        let k = |r: usize, d: &str| (r, d.to_owned());
        assert!(c.get(&k(1, "sha256:aa"), t0).is_none());
        c.put(k(1, "sha256:aa"), "alice@example.com".to_owned(), t0);
        assert_eq!(
            c.get(&k(1, "sha256:aa"), t0 + secs(10)),
            Some(("alice@example.com".to_owned(), secs(10)))
        );
        assert!(c.get(&k(2, "sha256:aa"), t0).is_none());
        assert!(c.get(&k(1, "sha256:bb"), t0).is_none());
        assert!(c.get(&k(1, "sha256:aa"), t0 + secs(300)).is_none());
        let c: TtlMap<(usize, String), String> = TtlMap::new(secs(300));
        for i in 0..TtlMap::<(usize, String), String>::CAPACITY - 1 {
            c.put(k(1, &format!("sha256:{i}")), "old".to_owned(), t0 + secs(1));
        }
        c.put(k(3, "sha256:fresh"), "new".to_owned(), t0 + secs(200));
        assert_eq!(
            lock(&c.entries).len(),
            TtlMap::<(usize, String), String>::CAPACITY
        );
        let later = t0 + secs(400);
        c.put(k(3, "sha256:later"), "new".to_owned(), later);
        assert_eq!(lock(&c.entries).len(), 2, "only the unexpired remain");
        assert!(c.get(&k(3, "sha256:fresh"), later).is_some());
        let off: TtlMap<String, String> = TtlMap::new(Duration::ZERO);
        off.put("a".to_owned(), "b".to_owned(), t0);
        assert!(off.get(&"a".to_owned(), t0).is_none());
        assert!(lock(&off.entries).is_empty());
    }

    #[test]
    fn each_signer_counts_once() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        // Alice signed twice: one signer, however many signatures.
        assert_eq!(distinct_signers(&[s(&["alice"]), s(&[])]).len(), 1);
        // Two overlapping rule signers (a regexp that also matches alice) and only alice
        // signed: one, not two.
        assert_eq!(distinct_signers(&[s(&["alice"]), s(&["alice"])]).len(), 1);
        // Overlap resolved by moving alice: signer 0 accepts alice or bob, signer 1 only alice.
        let m = distinct_signers(&[s(&["alice", "bob"]), s(&["alice"])]);
        assert_eq!(m, vec![(0, "bob".to_owned()), (1, "alice".to_owned())]);
        assert_eq!(
            distinct_signers(&[s(&["a"]), s(&["b"]), s(&["c"])]).len(),
            3
        );
        assert!(distinct_signers(&[s(&[]), s(&[])]).is_empty());
    }
}
