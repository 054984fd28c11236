//! The admission policy: the file (TOML, or a policy-controller `ClusterImagePolicy` / Kyverno
//! `verifyImages` document read by [`super::migrate`]), its validation, and the choice of the
//! rule that decides an image.
//!
//! Every error names the rule (by its number, from 1) and the TOML key to fix, e.g.
//! `rule 2: signers[1]: an issuer is required: `issuer` or `issuer_regexp``.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;
use signet_proto::keys::PublicKey;
use signet_verifier::policy::Policy;

use crate::client::notary::NotationConfig;
use crate::client::verify;
use crate::registry as oci;

/// What to do with an image that matches no rule.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum NoMatch {
    #[default]
    Deny,
    Allow,
}

/// What a rule (or the whole policy) does with an image that fails it.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// Deny the workload.
    #[default]
    Enforce,
    /// Admit it, with an AdmissionReview warning (an ImageReview audit annotation) and an
    /// audit log line: to roll a policy out without breaking what runs.
    Warn,
}

/// Which signature formats must verify for an image (`signature_formats` of a rule).
///
/// Sigstore signatures are the bundles attached as referrers and cosign's `.sig` tag, verified
/// under the rule's signers; Notary Project signatures are notation's JWS and COSE envelopes
/// attached as referrers, verified under the rule's notation trust policy and trust store
/// ([`crate::client::notary`]), as `notation verify` does.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SignatureFormats {
    /// A Sigstore signature (the default).
    #[default]
    Sigstore,
    /// A Notary Project signature.
    Notary,
    /// A Sigstore or a Notary Project signature.
    Either,
    /// Both.
    Both,
}

impl SignatureFormats {
    /// Whether Sigstore signatures are verified (and the rule needs signers).
    pub(crate) fn sigstore(self) -> bool {
        matches!(self, Self::Sigstore | Self::Either | Self::Both)
    }

    /// Whether Notary Project signatures are verified (and the rule needs notation's files).
    pub(crate) fn notary(self) -> bool {
        matches!(self, Self::Notary | Self::Either | Self::Both)
    }

    /// The value as written in the policy.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Sigstore => "sigstore",
            Self::Notary => "notary",
            Self::Either => "either",
            Self::Both => "both",
        }
    }
}

/// The policy file as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyFile {
    #[serde(default)]
    pub(crate) no_match: NoMatch,
    /// `mode = "warn"`: every rule warns unless it sets its own `mode`.
    #[serde(default)]
    pub(crate) mode: Mode,
    #[serde(default, rename = "rule")]
    pub(crate) rules: Vec<RuleFile>,
}

/// One `[[rule]]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    pub(crate) images: Vec<String>,
    #[serde(default = "yes")]
    pub(crate) verify: bool,
    /// `enforce` or `warn`; the policy's `mode` when absent.
    pub(crate) mode: Option<Mode>,
    /// Namespace names (or globs, `team-*`) the rule applies to; every namespace when empty.
    #[serde(default)]
    pub(crate) namespaces: Vec<String>,
    /// A Kubernetes label selector over the namespace's labels.
    pub(crate) namespace_selector: Option<LabelSelector>,
    pub(crate) identity: Option<String>,
    pub(crate) identity_regexp: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) issuer_regexp: Option<String>,
    #[serde(default)]
    pub(crate) extensions: BTreeMap<String, String>,
    pub(crate) key: Option<PathBuf>,
    /// Several signers, of which `threshold` must have signed.
    #[serde(default)]
    pub(crate) signers: Vec<SignerFile>,
    pub(crate) threshold: Option<usize>,
    #[serde(default)]
    pub(crate) attestations: Vec<String>,
    #[serde(default)]
    pub(crate) signature_formats: SignatureFormats,
    /// notation's trust policy (`trustpolicy.json`, unchanged), relative to the policy file:
    /// for rules whose `signature_formats` includes Notary Project signatures.
    pub(crate) notation_trust_policy: Option<PathBuf>,
    /// notation's trust store directory (`x509/{ca,signingAuthority,tsa}/NAME/`, CRLs in
    /// `crl/`), relative to the policy file.
    pub(crate) notation_trust_store: Option<PathBuf>,
    /// notation's trust policy and store built in memory (a migrated Kyverno `type: Notary`
    /// rule's certificates); not a TOML key.
    #[serde(skip)]
    pub(crate) notation_inline: Option<NotationConfig>,
}

impl RuleFile {
    /// The single signer written at the rule's top level, if any key of one is there.
    fn top_level_signer(&self) -> Option<SignerFile> {
        let any = self.identity.is_some()
            || self.identity_regexp.is_some()
            || self.issuer.is_some()
            || self.issuer_regexp.is_some()
            || self.key.is_some()
            || !self.extensions.is_empty();
        any.then(|| SignerFile {
            identity: self.identity.clone(),
            identity_regexp: self.identity_regexp.clone(),
            issuer: self.issuer.clone(),
            issuer_regexp: self.issuer_regexp.clone(),
            extensions: self.extensions.clone(),
            key: self.key.clone(),
            key_pem: None,
        })
    }
}

/// One entry of a rule's `signers`: an identity and issuer (exact or regexp), or a key.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignerFile {
    pub(crate) identity: Option<String>,
    pub(crate) identity_regexp: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) issuer_regexp: Option<String>,
    #[serde(default)]
    pub(crate) extensions: BTreeMap<String, String>,
    pub(crate) key: Option<PathBuf>,
    /// A PEM public key given inline (from a migrated document; not a TOML key).
    #[serde(skip)]
    pub(crate) key_pem: Option<String>,
}

/// A Kubernetes `LabelSelector` (`matchLabels`, `matchExpressions`), over a namespace's labels.
#[derive(Deserialize, Default, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelSelector {
    #[serde(default, alias = "matchLabels")]
    pub(crate) match_labels: BTreeMap<String, String>,
    #[serde(default, alias = "matchExpressions")]
    pub(crate) match_expressions: Vec<LabelRequirement>,
}

/// One `matchExpressions` entry.
#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelRequirement {
    pub(crate) key: String,
    pub(crate) operator: LabelOperator,
    #[serde(default)]
    pub(crate) values: Vec<String>,
}

/// The operators of a label selector requirement, spelled as in Kubernetes.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LabelOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    fn validate(&self) -> anyhow::Result<()> {
        if self.match_labels.is_empty() && self.match_expressions.is_empty() {
            anyhow::bail!("`namespace_selector` is empty (it would select every namespace); remove it, or give `match_labels` or `match_expressions`");
        }
        for (i, r) in self.match_expressions.iter().enumerate() {
            let needs_values = matches!(r.operator, LabelOperator::In | LabelOperator::NotIn);
            if needs_values == r.values.is_empty() {
                anyhow::bail!(
                    "`namespace_selector.match_expressions[{i}]`: operator {:?} {} `values`",
                    r.operator,
                    if needs_values { "needs" } else { "takes no" }
                );
            }
        }
        Ok(())
    }

    /// Whether `labels` satisfy every requirement (Kubernetes semantics: `NotIn` and
    /// `DoesNotExist` hold when the label is absent).
    pub(crate) fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator {
                    LabelOperator::In => value.is_some_and(|v| r.values.contains(v)),
                    LabelOperator::NotIn => value.is_none_or(|v| !r.values.contains(v)),
                    LabelOperator::Exists => value.is_some(),
                    LabelOperator::DoesNotExist => value.is_none(),
                }
            })
    }
}

fn yes() -> bool {
    true
}

/// One signer of a rule, ready to verify.
pub(crate) struct Signer {
    /// How messages name it: the identity and issuer, or the key.
    pub(crate) label: String,
    pub(crate) policy: Policy,
    /// Equal for two entries that name the same signer (refused).
    same_as: String,
}

/// What a verifying rule requires.
pub(crate) struct Verification {
    pub(crate) signers: Vec<Signer>,
    /// How many distinct signers must have signed (1 ..= signers).
    pub(crate) threshold: usize,
    /// Predicate types of the in-toto attestations that must also verify (by a signer).
    pub(crate) attestations: Vec<String>,
    pub(crate) formats: SignatureFormats,
    /// notation's trust policy and store, when `formats` includes Notary signatures.
    pub(crate) notary: Option<NotationConfig>,
}

/// A rule ready to match.
pub(crate) struct Rule {
    pub(crate) number: usize,
    patterns: Vec<(String, regex::Regex)>,
    /// `None`: admit unverified (`verify = false`).
    pub(crate) verification: Option<Verification>,
    /// The effective mode: the rule's own, else the policy's.
    pub(crate) mode: Mode,
    namespaces: Vec<(String, regex::Regex)>,
    selector: Option<LabelSelector>,
}

impl Rule {
    /// Whether the rule is scoped by namespace labels.
    pub(crate) fn needs_labels(&self) -> bool {
        self.selector.is_some()
    }
}

/// The namespace of a review, as far as rules can be scoped by it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NamespaceInfo<'a> {
    /// Empty for cluster-scoped objects (and ImageReviews without one).
    pub(crate) name: &'a str,
    /// Its labels, when they were looked up (only when a rule has a `namespace_selector`).
    pub(crate) labels: Option<&'a BTreeMap<String, String>>,
}

/// The loaded admission policy.
pub(crate) struct AdmissionPolicy {
    pub(crate) no_match: NoMatch,
    pub(crate) mode: Mode,
    pub(crate) rules: Vec<Rule>,
    /// What a migrated document's conversion remarks (fields ignored, differences).
    pub(crate) notes: Vec<String>,
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

/// A namespace name pattern: lowercase DNS-label characters, `*` for any run of them.
fn namespace_regex(pattern: &str) -> anyhow::Result<regex::Regex> {
    if pattern.is_empty()
        || !pattern
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'*')
    {
        anyhow::bail!(
            "`namespaces`: {pattern:?} is not a namespace name (lowercase letters, digits and '-') or a glob of one ('*')"
        );
    }
    let re = pattern
        .split('*')
        .map(regex::escape)
        .collect::<Vec<_>>()
        .join(".*");
    Ok(regex::Regex::new(&format!("^{re}$"))?)
}

/// Compiles one signer; `at` names it in errors (`signers[1]: ` or "").
fn compile_signer(s: &SignerFile, base: &Path, at: &str) -> anyhow::Result<Signer> {
    let keyless = s.identity.is_some()
        || s.identity_regexp.is_some()
        || s.issuer.is_some()
        || s.issuer_regexp.is_some()
        || !s.extensions.is_empty();
    if let Some(pem_text) = &s.key_pem {
        let pk = PublicKey::from_pem(pem_text)
            .map_err(|e| anyhow::anyhow!("{at}the public key is not a PEM public key: {e}"))?;
        let id = hex::encode(pk.key_id());
        return Ok(Signer {
            label: format!("key sha256:{}", &id[..16]),
            same_as: format!("key:{}", hex::encode(pk.spki_der())),
            policy: Policy::key(pk),
        });
    }
    if let Some(key) = &s.key {
        if keyless {
            anyhow::bail!(
                "{at}`key` verifies keyed signatures: give no identity, issuer or extensions with it"
            );
        }
        let path = base.join(key);
        let policy = verify::build_policy(
            Some(&path),
            &verify::IdentityFlags::default(),
            verify::Spelling::POLICY_FILE,
        )
        .map_err(|e| anyhow::anyhow!("{at}{e:#}"))?;
        // The key's bytes (PEM contents or DER) tell two entries naming one key apart.
        let raw = std::fs::read(&path).unwrap_or_default();
        let same = pem::parse(&raw).map_or(raw, pem::Pem::into_contents);
        return Ok(Signer {
            label: format!("key {}", key.display()),
            same_as: format!("key:{}", hex::encode(same)),
            policy,
        });
    }
    let mut claims = Vec::new();
    for (oid, value) in &s.extensions {
        claims.push(
            verify::parse_extension_flag(&format!("{oid}={value}"), verify::Spelling::POLICY_FILE)
                .map_err(|e| anyhow::anyhow!("{at}{e:#}"))?,
        );
    }
    let flags = verify::IdentityFlags {
        identity: s.identity.clone(),
        identity_regexp: s.identity_regexp.clone(),
        issuer: s.issuer.clone(),
        issuer_regexp: s.issuer_regexp.clone(),
        claims,
    };
    let policy = verify::build_policy(None, &flags, verify::Spelling::POLICY_FILE)
        .map_err(|e| anyhow::anyhow!("{at}{e:#}"))?;
    let who = s
        .identity
        .clone()
        .or_else(|| s.identity_regexp.as_ref().map(|r| format!("regexp {r:?}")))
        .unwrap_or_default();
    let issuer = s
        .issuer
        .clone()
        .or_else(|| s.issuer_regexp.as_ref().map(|r| format!("regexp {r:?}")))
        .unwrap_or_default();
    Ok(Signer {
        label: format!("{who} ({issuer})"),
        same_as: format!(
            "id:{:?}|{:?}|{:?}|{:?}|{:?}",
            s.identity, s.identity_regexp, s.issuer, s.issuer_regexp, s.extensions
        ),
        policy,
    })
}

impl AdmissionPolicy {
    /// Reads a policy file; relative `key` paths are relative to its directory. A file named
    /// `*.json`, or whose first non-blank character is `{`, is JSON: a policy-controller
    /// `ClusterImagePolicy`, a Kyverno `ClusterPolicy`/`Policy`, or a `List` of them (as
    /// `kubectl get -o json` prints them), converted by [`super::migrate`].
    ///
    /// # Errors
    /// Unreadable file, TOML errors, unknown fields, unsupported fields of migrated documents,
    /// and rules that are incomplete or contradictory (named by their number, from 1).
    pub(crate) fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read admission policy {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            || text.trim_start().starts_with('{');
        let parsed = if json {
            super::migrate::convert_json(&text).and_then(|(file, notes)| {
                let mut p = Self::from_file(file, base)?;
                p.notes = notes;
                Ok(p)
            })
        } else {
            Self::parse(&text, base)
        };
        parsed.with_context(|| format!("in admission policy {}", path.display()))
    }

    /// Parses a TOML policy.
    ///
    /// # Errors
    /// As [`AdmissionPolicy::load`].
    pub(crate) fn parse(text: &str, base: &Path) -> anyhow::Result<Self> {
        let file: PolicyFile = toml::from_str(text)?;
        Self::from_file(file, base)
    }

    /// Checks and compiles a policy as written.
    ///
    /// # Errors
    /// As [`AdmissionPolicy::load`].
    pub(crate) fn from_file(file: PolicyFile, base: &Path) -> anyhow::Result<Self> {
        let mut rules = Vec::new();
        for (i, r) in file.rules.into_iter().enumerate() {
            let number = i + 1;
            rules.push(
                Self::rule(number, r, file.mode, base).with_context(|| format!("rule {number}"))?,
            );
        }
        Ok(Self {
            no_match: file.no_match,
            mode: file.mode,
            rules,
            notes: Vec::new(),
        })
    }

    fn rule(number: usize, r: RuleFile, policy_mode: Mode, base: &Path) -> anyhow::Result<Rule> {
        if r.images.is_empty() {
            anyhow::bail!("`images` lists no pattern");
        }
        let patterns = r
            .images
            .iter()
            .map(|p| pattern_regex(p).map(|re| (p.clone(), re)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let namespaces = r
            .namespaces
            .iter()
            .map(|n| namespace_regex(n).map(|re| (n.clone(), re)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let Some(s) = &r.namespace_selector {
            s.validate()?;
        }
        let top = r.top_level_signer();
        let notation_given = r.notation_trust_policy.is_some() || r.notation_trust_store.is_some();
        let verification = if r.verify {
            let formats = r.signature_formats;
            let written: Vec<(String, SignerFile)> = match (top, r.signers.is_empty()) {
                _ if !formats.sigstore() => {
                    if r.top_level_signer().is_some()
                        || !r.signers.is_empty()
                        || r.threshold.is_some()
                        || !r.attestations.is_empty()
                    {
                        anyhow::bail!(
                            "`signature_formats = \"notary\"` verifies Notary Project signatures only (notation's trust policy names their signers), so it takes no identity, issuer, extensions, key, signers, threshold or attestations; use \"either\" or \"both\" to verify Sigstore signatures too"
                        );
                    }
                    Vec::new()
                }
                (Some(_), false) => anyhow::bail!(
                    "give either one signer at the top level (`identity`/`issuer`, or `key`) or a `signers` list, not both"
                ),
                (Some(s), true) => vec![(String::new(), s)],
                (None, false) => r
                    .signers
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (format!("signers[{i}]: "), s.clone()))
                    .collect(),
                // The usual single-signer error message: an identity is required.
                (None, true) => vec![(String::new(), SignerFile::default())],
            };
            let mut signers: Vec<Signer> = Vec::new();
            for (at, s) in &written {
                let signer = compile_signer(s, base, at)?;
                if let Some(j) = signers.iter().position(|o| o.same_as == signer.same_as) {
                    anyhow::bail!(
                        "{at}names the same signer as signers[{j}] ({}); each signer counts once, so list it once",
                        signer.label
                    );
                }
                signers.push(signer);
            }
            let threshold = match r.threshold {
                None => signers.len(),
                Some(t) if (1..=signers.len()).contains(&t) => t,
                Some(t) => anyhow::bail!(
                    "`threshold = {t}`: it must be between 1 and the number of `signers` ({})",
                    signers.len()
                ),
            };
            if formats == SignatureFormats::Either && !r.attestations.is_empty() {
                anyhow::bail!(
                    "`attestations` must be signed by a Sigstore signer who signed, and `signature_formats = \"either\"` may admit an image on its Notary Project signature alone; use \"both\", or \"sigstore\""
                );
            }
            let notary = match (
                formats.notary(),
                &r.notation_trust_policy,
                &r.notation_trust_store,
            ) {
                (true, None, None) if r.notation_inline.is_some() => r.notation_inline.clone(),
                (true, Some(policy), Some(store)) => Some(
                    crate::client::notary::load(&base.join(policy), &base.join(store))
                        .map_err(|e| {
                            anyhow::anyhow!("`notation_trust_policy`/`notation_trust_store`: {e:#}")
                        })?,
                ),
                (true, _, _) => anyhow::bail!(
                    "`signature_formats = \"{}\"` verifies Notary Project signatures: give `notation_trust_policy` (notation's trustpolicy.json) and `notation_trust_store` (its trust store directory), relative to this file",
                    formats.as_str()
                ),
                (false, _, _) if notation_given => anyhow::bail!(
                    "`notation_trust_policy` and `notation_trust_store` are for Notary Project signatures: set `signature_formats` to \"notary\", \"either\" or \"both\""
                ),
                (false, _, _) => None,
            };
            let attestations = r
                .attestations
                .iter()
                .map(|t| crate::client::predicate_type_uri(t))
                .collect::<anyhow::Result<Vec<_>>>()?;
            Some(Verification {
                signers,
                threshold,
                attestations,
                formats,
                notary,
            })
        } else {
            if top.is_some()
                || !r.signers.is_empty()
                || r.threshold.is_some()
                || !r.attestations.is_empty()
                || r.signature_formats != SignatureFormats::default()
                || notation_given
            {
                anyhow::bail!(
                    "`verify = false` admits images unverified, so it takes no identity, issuer, extensions, key, signers, threshold, attestations, signature_formats or notation files"
                );
            }
            None
        };
        Ok(Rule {
            number,
            patterns,
            verification,
            mode: r.mode.unwrap_or(policy_mode),
            namespaces,
            selector: r.namespace_selector,
        })
    }

    /// Whether some rule is scoped by namespace labels (which must then be looked up).
    pub(crate) fn needs_namespace_labels(&self) -> bool {
        self.rules.iter().any(|r| r.selector.is_some())
    }

    /// The first rule matching `name` (`registry/repository`) in namespace `ns`, and the
    /// pattern that matched.
    ///
    /// # Errors
    /// When a rule whose images match is scoped by labels and `ns` has none looked up: the
    /// rule cannot be skipped or applied (a later, laxer rule must not decide instead).
    pub(crate) fn rule_for<'a>(
        &'a self,
        name: &str,
        ns: NamespaceInfo<'_>,
    ) -> Result<Option<(&'a Rule, &'a str)>, String> {
        for r in &self.rules {
            let Some((pattern, _)) = r.patterns.iter().find(|(_, re)| re.is_match(name)) else {
                continue;
            };
            if !r.namespaces.is_empty() && !r.namespaces.iter().any(|(_, re)| re.is_match(ns.name))
            {
                continue;
            }
            if let Some(selector) = &r.selector {
                if ns.name.is_empty() {
                    continue;
                }
                let Some(labels) = ns.labels else {
                    return Err(format!(
                        "rule {} is scoped by namespace labels, and the labels of namespace {:?} are not known",
                        r.number, ns.name
                    ));
                };
                if !selector.matches(labels) {
                    continue;
                }
            }
            return Ok(Some((r, pattern.as_str())));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ANY_NS: NamespaceInfo<'static> = NamespaceInfo {
        name: "prod",
        labels: None,
    };

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
            p.rule_for(&r.name(), ANY_NS)
                .unwrap()
                .map(|(rule, _)| rule.number)
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
        assert_eq!(
            p.rule_for("r.example/signed/app", ANY_NS)
                .unwrap()
                .unwrap()
                .0
                .number,
            1
        );
        assert!(p
            .rule_for("r.example/signed/app", ANY_NS)
            .unwrap()
            .unwrap()
            .0
            .verification
            .is_some());
        let (r, pat) = p
            .rule_for("docker.io/library/nginx", ANY_NS)
            .unwrap()
            .unwrap();
        assert!(r.verification.is_none() && pat == "docker.io/library/*");
        assert!(p.rule_for("r.example/other/app", ANY_NS).unwrap().is_none());

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

    /// Notary Project rules: notation's files (relative to the policy file) are loaded, and
    /// each combination of formats and keys that cannot be meant is refused by its key.
    #[test]
    fn notary_rules_are_checked() {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/notary");
        let files = "notation_trust_policy = \"trustpolicy/trustpolicy.json\"\nnotation_trust_store = \"truststore\"";
        let signer = "identity = \"a\"\nissuer = \"b\"";
        for (formats, with_signer) in [("notary", false), ("either", true), ("both", true)] {
            let text = format!(
                "[[rule]]\nimages = [\"r.example/a/*\"]\nsignature_formats = \"{formats}\"\n{files}\n{}",
                if with_signer { signer } else { "" }
            );
            let p = AdmissionPolicy::parse(&text, &base).unwrap();
            let v = p.rules[0].verification.as_ref().unwrap();
            assert_eq!(v.formats.as_str(), formats);
            assert!(v.notary.is_some(), "{formats}");
            assert_eq!(v.signers.len(), usize::from(with_signer), "{formats}");
        }
        for (rule, needle) in [
            (
                format!("signature_formats = \"notary\"\n{files}\n{signer}"),
                "rule 1: `signature_formats = \"notary\"` verifies Notary Project signatures only",
            ),
            (
                format!("signature_formats = \"notary\"\n{files}\nthreshold = 1"),
                "takes no identity, issuer, extensions, key, signers, threshold or attestations",
            ),
            (
                "signature_formats = \"notary\"".to_owned(),
                "rule 1: `signature_formats = \"notary\"` verifies Notary Project signatures: give `notation_trust_policy`",
            ),
            (
                format!("signature_formats = \"either\"\nnotation_trust_policy = \"trustpolicy/trustpolicy.json\"\n{signer}"),
                "give `notation_trust_policy` (notation's trustpolicy.json) and `notation_trust_store`",
            ),
            (
                format!("{files}\n{signer}"),
                "`notation_trust_policy` and `notation_trust_store` are for Notary Project signatures",
            ),
            (
                format!("signature_formats = \"either\"\n{files}\n{signer}\nattestations = [\"slsaprovenance1\"]"),
                "may admit an image on its Notary Project signature alone",
            ),
            (
                format!("signature_formats = \"either\"\n{files}"),
                "rule 1: an identity is required",
            ),
            (
                format!("verify = false\n{files}"),
                "takes no identity, issuer, extensions, key, signers, threshold, attestations, signature_formats or notation files",
            ),
            (
                "signature_formats = \"notary\"\nnotation_trust_policy = \"trustpolicy/missing.json\"\nnotation_trust_store = \"truststore\"".to_owned(),
                "`notation_trust_policy`/`notation_trust_store`: cannot read notation trust policy",
            ),
            (
                "signature_formats = \"notary\"\nnotation_trust_policy = \"trustpolicy/malformed_trust_store_trustpolicy.json\"\nnotation_trust_store = \"truststore\"".to_owned(),
                "`notation_trust_policy`/`notation_trust_store`: notation trust policy",
            ),
            ("signature_formats = \"any\"".to_owned(), "unknown variant `any`"),
        ] {
            let text = format!("[[rule]]\nimages = [\"r.example/a/*\"]\n{rule}\n");
            let e = AdmissionPolicy::parse(&text, &base)
                .err()
                .unwrap_or_else(|| panic!("{text} parsed"));
            let msg = format!("{e:#}");
            assert!(msg.contains(needle), "{text}: {msg}");
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
