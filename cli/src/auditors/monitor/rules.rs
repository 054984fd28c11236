//! The monitor's identity watch and anomaly rules: a policy file, and an engine that turns each
//! new log entry ([`ObservedEntry`]) into alerts.
//!
//! Issue 7 ("signet monitor"). The rules:
//!
//! | alert | severity | fires when |
//! |---|---|---|
//! | `watched_identity` | info | any entry (certificate issued, signature, attestation) by an identity of a `[[watch]]` |
//! | `identity_not_allowed` | critical | a certificate whose identity matches no `rules.allowlist` entry |
//! | `digest_multiple_identities` | warning | a digest already signed by identity A is signed by identity B |
//! | `outside_working_hours` | warning | an entry's time is outside `rules.working_hours` |
//! | `burst` | warning | an identity exceeds `max` entries within `window_seconds` (once per burst) |
//!
//! Alerts of one entry come in that order.
//!
//! # Policy file (TOML)
//!
//! `testdata/monitor/policy.toml` is the commented example; in short:
//!
//! ```toml
//! [[watch]]
//! name = "alice"                              # optional label, copied into the alert
//! san = "alice@example.com"                   # or san_regex
//! issuer_regex = 'https://accounts\.example\.com'   # or issuer; optional
//!
//! [rules.digest_multiple_identities]
//! enabled = true
//! max_digests = 100000                        # default
//!
//! [rules.working_hours]
//! start = "08:00"
//! end = "18:00"
//! utc_offset = "+02:00"                       # default "+00:00"
//! days = ["mon", "tue", "wed", "thu", "fri"]  # default
//! identities = [{ san_regex = '.*@example\.com' }]   # optional filter
//!
//! [rules.allowlist]
//! identities = [{ san_regex = '.*@example\.com', issuer = "https://accounts.example.com" }]
//!
//! [rules.burst]
//! max = 100                                   # default
//! window_seconds = 3600                       # default
//! max_identities = 10000                      # default
//! ```
//!
//! * Every section is optional; a rule runs when its table is present and `enabled` (default
//!   `true`) is not `false`. Unknown keys, bad regular expressions, times, offsets and days are
//!   errors naming the field ([`PolicyError`]).
//! * Identity matchers: `san` / `san_regex`, `issuer` / `issuer_regex`, `key_id` (hex SHA-256 of
//!   an SPKI, `[[watch]]` only) and an optional `name`. All given fields must match, and at
//!   least one of them is required. Regular expressions (Rust `regex` syntax) must match the
//!   whole value (they are anchored), so `alice@.*` does not match `mallory-alice@example.com`.
//!   An identity without a SAN or issuer (a keyed entry) matches no `san`/`issuer` matcher.
//! * Working hours use a fixed UTC offset (the `time` crate, no time-zone database is
//!   available): daylight saving time is not followed. `start > end` is a window across
//!   midnight; `start == end` is an error.
//!
//! # Identities and times
//!
//! An entry has one signer per signature ([`ObservedEntry::signers`]; dsse and intoto entries
//! may carry up to 16), and **every signer goes through every rule**: a watched key or a
//! disallowed certificate placed (or sorted) second alerts exactly as it would first. A
//! signer's identity is its certificate's SAN and OIDC issuer, or for a key the key
//! (`key sha256:<key_id>`). Its time is the certificate's notBefore (see
//! [`crate::auditors::monitor::entry`]): keys have none, so the two time-based rules (`working_hours`,
//! `burst`) skip them unless the caller fills `time` in. The allowlist applies to certificates
//! only, including certificates with no SAN or issuer (which match no allowlist entry).
//!
//! Per entry, each rule runs over the signers in body order, so one entry can raise one alert
//! per offending signer; signers with the same identity are taken once by the identity rules
//! (`watched_identity`, `identity_not_allowed`, `digest_multiple_identities`, `burst`: an entry
//! counts once per identity) and once per distinct time by `outside_working_hours`. An entry
//! signed by two identities is itself a digest signed by several identities.
//!
//! Keyless signing logs two entries per signature (the precert and the signature), so
//! `watched_identity`, `outside_working_hours` and `burst` count both. Entries of other kinds
//! ([`EntryKind::Other`]) are read for what they carry: an `intoto` 0.0.2 entry has its
//! signatures' signers and its payload hash (so it alerts like a dsse entry, as "intoto entry
//! by X"); a kind the monitor does not know carries nothing and never alerts.
//!
//! # State across runs ([`RulesState`])
//!
//! * Digests: the last `max_digests` digests with up to [`MAX_IDENTITIES_PER_DIGEST`]
//!   identities each; the digest first seen longest ago is forgotten first (signing it again
//!   does not refresh it). A digest signed by more identities than
//!   that keeps alerting for each identity beyond the bound.
//! * Bursts: for at most `max_identities` identities, their newest `max + 1` entry times and
//!   whether the current burst was reported; identities whose newest entry left the window are
//!   dropped, then the least recently active ones.
//!
//! A rule that is switched off leaves its part of the state as it was loaded.
//!
//! What this module does not do: read the log, verify anything, or send alerts (the monitor
//! loop in [`crate::auditors::monitor`] does).

// Until the monitor loop (crate::auditors::monitor) calls into this module, its items are used by tests
// only.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use signet_verifier::policy::AnchoredRegex;
use time::macros::format_description;
use time::{OffsetDateTime, Time, UtcOffset, Weekday};

use crate::auditors::monitor::entry::{EntryKind, ObservedEntry, ObservedSigner};

/// How many identities are remembered for one digest.
pub(crate) const MAX_IDENTITIES_PER_DIGEST: usize = 16;
const DEFAULT_MAX_DIGESTS: usize = 100_000;
const DEFAULT_BURST_MAX: u64 = 100;
const DEFAULT_BURST_WINDOW: u64 = 3600;
const DEFAULT_MAX_IDENTITIES: usize = 10_000;

// ---------------------------------------------------------------------------------------------
// Alerts
// ---------------------------------------------------------------------------------------------

/// How serious an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    /// Worth knowing (a watched identity was used).
    Info,
    /// Unusual; someone should look.
    Warning,
    /// Policy violation.
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        })
    }
}

/// One alert, as the monitor prints and posts it (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Alert {
    /// The alert kind, snake_case (`watched_identity`, `digest_multiple_identities`,
    /// `outside_working_hours`, `identity_not_allowed`, `burst`, and the monitor's own kinds).
    pub(crate) alert: String,
    /// Severity.
    pub(crate) severity: Severity,
    /// The log index of the entry concerned, if any.
    pub(crate) log_index: Option<u64>,
    /// One human sentence naming what happened.
    pub(crate) message: String,
    /// Machine-readable details (the entry's identity, digest, time, and rule specifics).
    pub(crate) details: Value,
}

// ---------------------------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------------------------

/// Why a policy file is rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum PolicyError {
    /// Not TOML, an unknown key, or a value of the wrong type (the message names the key).
    #[error("monitor policy: {source}")]
    Toml {
        /// The TOML error.
        #[source]
        source: toml::de::Error,
    },
    /// A regular expression does not compile (on its own: see
    /// [`signet_verifier::policy::AnchoredRegex`]).
    #[error("monitor policy: {field} is not a valid regular expression: {source}")]
    Regex {
        /// The field, e.g. `watch[0].san_regex`.
        field: String,
        /// The regex error.
        #[source]
        source: signet_verifier::error::PolicyError,
    },
    /// A value is out of range or malformed.
    #[error("monitor policy: {field}: {reason}")]
    Invalid {
        /// The field, e.g. `rules.working_hours.start`.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

fn default_true() -> bool {
    true
}

/// The file as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    watch: Vec<RawMatcher>,
    #[serde(default)]
    rules: RawRules,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRules {
    digest_multiple_identities: Option<RawDigestRule>,
    working_hours: Option<RawWorkingHours>,
    allowlist: Option<RawAllowlist>,
    burst: Option<RawBurst>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMatcher {
    name: Option<String>,
    san: Option<String>,
    san_regex: Option<String>,
    issuer: Option<String>,
    issuer_regex: Option<String>,
    key_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDigestRule {
    #[serde(default = "default_true")]
    enabled: bool,
    max_digests: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkingHours {
    #[serde(default = "default_true")]
    enabled: bool,
    start: String,
    end: String,
    utc_offset: Option<String>,
    days: Option<Vec<String>>,
    #[serde(default)]
    identities: Vec<RawMatcher>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllowlist {
    #[serde(default = "default_true")]
    enabled: bool,
    identities: Vec<RawMatcher>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBurst {
    #[serde(default = "default_true")]
    enabled: bool,
    max: Option<u64>,
    window_seconds: Option<u64>,
    max_identities: Option<usize>,
}

/// Exact text or an anchored regular expression (the verifier's one way of anchoring a user's
/// pattern).
#[derive(Debug, Clone)]
enum TextMatch {
    Exact(String),
    Regex(AnchoredRegex),
}

impl TextMatch {
    fn compile(
        field: &str,
        exact: Option<String>,
        regex_field: &str,
        regex: Option<String>,
    ) -> Result<Option<Self>, PolicyError> {
        match (exact, regex) {
            (Some(_), Some(_)) => Err(invalid(
                regex_field,
                format!("give either {field} or {regex_field}, not both"),
            )),
            (Some(s), None) => Ok(Some(Self::Exact(s))),
            (None, Some(r)) => AnchoredRegex::new(&r)
                .map(|re| Some(Self::Regex(re)))
                .map_err(|source| PolicyError::Regex {
                    field: regex_field.to_owned(),
                    source,
                }),
            (None, None) => Ok(None),
        }
    }

    fn is_match(&self, value: &str) -> bool {
        match self {
            Self::Exact(s) => s == value,
            Self::Regex(re) => re.is_match(value),
        }
    }
}

/// One identity matcher of the policy (all given fields must match).
#[derive(Debug, Clone)]
pub(crate) struct IdentityMatcher {
    name: Option<String>,
    san: Option<TextMatch>,
    issuer: Option<TextMatch>,
    key_id: Option<String>,
}

impl IdentityMatcher {
    fn compile(prefix: &str, raw: RawMatcher, allow_key_id: bool) -> Result<Self, PolicyError> {
        let f = |name: &str| format!("{prefix}.{name}");
        let san = TextMatch::compile(&f("san"), raw.san, &f("san_regex"), raw.san_regex)?;
        let issuer = TextMatch::compile(
            &f("issuer"),
            raw.issuer,
            &f("issuer_regex"),
            raw.issuer_regex,
        )?;
        let key_id = match raw.key_id {
            Some(_) if !allow_key_id => {
                return Err(invalid(
                    f("key_id"),
                    "key_id is only meaningful in [[watch]] (this rule sees certificates or times only)",
                ))
            }
            Some(k) => {
                let k = k.to_ascii_lowercase();
                if k.len() != 64 || !k.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid(
                        f("key_id"),
                        "must be 64 hex digits (SHA-256 of the SPKI DER)",
                    ));
                }
                Some(k)
            }
            None => None,
        };
        if san.is_none() && issuer.is_none() && key_id.is_none() {
            return Err(invalid(
                prefix,
                "an identity needs at least one of san, san_regex, issuer, issuer_regex or key_id",
            ));
        }
        Ok(Self {
            name: raw.name,
            san,
            issuer,
            key_id,
        })
    }

    fn compile_all(
        prefix: &str,
        raws: Vec<RawMatcher>,
        allow_key_id: bool,
    ) -> Result<Vec<Self>, PolicyError> {
        raws.into_iter()
            .enumerate()
            .map(|(i, r)| Self::compile(&format!("{prefix}[{i}]"), r, allow_key_id))
            .collect()
    }

    fn matches(&self, e: &ObservedSigner) -> bool {
        let text = |m: &Option<TextMatch>, v: &Option<String>| match (m, v) {
            (None, _) => true,
            (Some(m), Some(v)) => m.is_match(v),
            (Some(_), None) => false,
        };
        let key = match (&self.key_id, &e.key_id) {
            (None, _) => true,
            (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
            (Some(_), None) => false,
        };
        text(&self.san, &e.san) && text(&self.issuer, &e.issuer) && key
    }

    /// The label for alerts: `name`, else a description of the matcher.
    fn label(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let mut parts = Vec::new();
        for (what, m) in [("san", &self.san), ("issuer", &self.issuer)] {
            match m {
                Some(TextMatch::Exact(s)) => parts.push(format!("{what} = {s:?}")),
                Some(TextMatch::Regex(r)) => parts.push(format!("{what} ~ {:?}", r.as_str())),
                None => {}
            }
        }
        if let Some(k) = &self.key_id {
            parts.push(format!("key_id = {k}"));
        }
        parts.join(", ")
    }
}

#[derive(Debug, Clone)]
struct DigestRule {
    max_digests: usize,
}

#[derive(Debug, Clone)]
struct WorkingHours {
    start: Time,
    end: Time,
    offset: UtcOffset,
    days: Vec<Weekday>,
    identities: Vec<IdentityMatcher>,
    /// e.g. `mon-fri 08:00-18:00 +02:00`, for messages.
    text: String,
}

impl WorkingHours {
    fn contains(&self, local: OffsetDateTime) -> bool {
        let t = local.time();
        let in_hours = if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        };
        in_hours && self.days.contains(&local.weekday())
    }
}

#[derive(Debug, Clone)]
struct BurstRule {
    max: u64,
    window_seconds: i64,
    max_identities: usize,
}

/// A parsed, checked monitor policy (see the module docs for the file format).
#[derive(Debug, Clone, Default)]
pub(crate) struct MonitorPolicy {
    watch: Vec<IdentityMatcher>,
    digest: Option<DigestRule>,
    working_hours: Option<WorkingHours>,
    allowlist: Option<Vec<IdentityMatcher>>,
    burst: Option<BurstRule>,
}

fn parse_hhmm(field: &str, s: &str) -> Result<Time, PolicyError> {
    Time::parse(s, format_description!("[hour]:[minute]"))
        .map_err(|e| invalid(field, format!("{s:?} is not a HH:MM time: {e}")))
}

fn parse_offset(field: &str, s: &str) -> Result<UtcOffset, PolicyError> {
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return Ok(UtcOffset::UTC);
    }
    UtcOffset::parse(
        s,
        format_description!("[offset_hour sign:mandatory]:[offset_minute]"),
    )
    .map_err(|e| {
        invalid(
            field,
            format!("{s:?} is not a fixed offset like \"+02:00\": {e}"),
        )
    })
}

fn parse_day(field: &str, s: &str) -> Result<Weekday, PolicyError> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return Err(invalid(field, format!("{s:?} is not a day (mon .. sun)"))),
    })
}

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

fn positive<T: PartialOrd + Default>(field: &str, v: T) -> Result<T, PolicyError> {
    if v > T::default() {
        Ok(v)
    } else {
        Err(invalid(field, "must be at least 1"))
    }
}

impl MonitorPolicy {
    /// Parses and checks a policy file's text.
    ///
    /// # Errors
    /// [`PolicyError`] naming the field: TOML syntax, unknown keys or wrong types
    /// ([`PolicyError::Toml`]), bad regular expressions, times, offsets, days, zero bounds, or
    /// matchers that are empty or give both the exact and the regex form.
    pub(crate) fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|source| PolicyError::Toml { source })?;
        let watch = IdentityMatcher::compile_all("watch", raw.watch, true)?;
        let rules = raw.rules;

        let digest = match rules.digest_multiple_identities {
            Some(r) if r.enabled => Some(DigestRule {
                max_digests: positive(
                    "rules.digest_multiple_identities.max_digests",
                    r.max_digests.unwrap_or(DEFAULT_MAX_DIGESTS),
                )?,
            }),
            _ => None,
        };

        let working_hours = match rules.working_hours {
            Some(w) if w.enabled => {
                let p = "rules.working_hours";
                let start = parse_hhmm(&format!("{p}.start"), &w.start)?;
                let end = parse_hhmm(&format!("{p}.end"), &w.end)?;
                if start == end {
                    return Err(invalid(
                        format!("{p}.end"),
                        "equals start (an empty window: every entry would alert)",
                    ));
                }
                let offset_text = w.utc_offset.unwrap_or_else(|| "+00:00".to_owned());
                let offset = parse_offset(&format!("{p}.utc_offset"), &offset_text)?;
                let days = match w.days {
                    None => vec![
                        Weekday::Monday,
                        Weekday::Tuesday,
                        Weekday::Wednesday,
                        Weekday::Thursday,
                        Weekday::Friday,
                    ],
                    Some(d) if d.is_empty() => {
                        return Err(invalid(format!("{p}.days"), "needs at least one day"))
                    }
                    Some(d) => d
                        .iter()
                        .enumerate()
                        .map(|(i, s)| parse_day(&format!("{p}.days[{i}]"), s))
                        .collect::<Result<_, _>>()?,
                };
                let identities =
                    IdentityMatcher::compile_all(&format!("{p}.identities"), w.identities, false)?;
                let text = format!(
                    "{} {}-{} {}",
                    days.iter()
                        .map(|d| day_name(*d))
                        .collect::<Vec<_>>()
                        .join(","),
                    w.start,
                    w.end,
                    offset_text
                );
                Some(WorkingHours {
                    start,
                    end,
                    offset,
                    days,
                    identities,
                    text,
                })
            }
            _ => None,
        };

        let allowlist = match rules.allowlist {
            Some(a) if a.enabled => Some(IdentityMatcher::compile_all(
                "rules.allowlist.identities",
                a.identities,
                false,
            )?),
            _ => None,
        };

        let burst = match rules.burst {
            Some(b) if b.enabled => {
                let p = "rules.burst";
                let window = positive(
                    &format!("{p}.window_seconds"),
                    b.window_seconds.unwrap_or(DEFAULT_BURST_WINDOW),
                )?;
                Some(BurstRule {
                    max: positive(&format!("{p}.max"), b.max.unwrap_or(DEFAULT_BURST_MAX))?,
                    window_seconds: i64::try_from(window)
                        .map_err(|_| invalid(format!("{p}.window_seconds"), "is too large"))?,
                    max_identities: positive(
                        &format!("{p}.max_identities"),
                        b.max_identities.unwrap_or(DEFAULT_MAX_IDENTITIES),
                    )?,
                })
            }
            _ => None,
        };

        Ok(Self {
            watch,
            digest,
            working_hours,
            allowlist,
            burst,
        })
    }

    /// Reads and parses a policy file.
    ///
    /// # Errors
    /// The file cannot be read, or [`MonitorPolicy::from_toml`] rejects it (the error names the
    /// path).
    pub(crate) fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading monitor policy {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("in {}", path.display()))
    }
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

/// One remembered digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DigestRecord {
    /// `"<algorithm>:<hex>"`.
    digest: String,
    /// The identities that signed it (at most [`MAX_IDENTITIES_PER_DIGEST`]), first first.
    identities: Vec<String>,
    /// The log index where it was first seen.
    first_index: u64,
}

/// Recent entry times of one identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BurstRecord {
    identity: String,
    /// Entry times (Unix seconds), ascending, at most `max + 1`.
    times: VecDeque<i64>,
    /// Whether the current burst has been reported.
    alerted: bool,
}

impl BurstRecord {
    fn newest(&self) -> i64 {
        self.times.back().copied().unwrap_or(i64::MIN)
    }
}

/// What the rules remember across runs (the monitor keeps it in its state file). Bounded: see
/// the module docs.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesState {
    /// Remembered digests, oldest first.
    #[serde(default)]
    digests: Vec<DigestRecord>,
    /// Identities with recent entries.
    #[serde(default)]
    bursts: Vec<BurstRecord>,
}

// ---------------------------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------------------------

/// Applies a [`MonitorPolicy`] to entries in log order, keeping [`RulesState`].
#[derive(Debug)]
pub(crate) struct RuleEngine {
    policy: MonitorPolicy,
    /// Digest → record; `digest_order` holds the keys oldest first.
    digests: HashMap<String, DigestRecord>,
    digest_order: VecDeque<String>,
    bursts: HashMap<String, BurstRecord>,
}

/// How a signer's identity is named in alerts and state: `"<san> (issuer <issuer>)"` for a
/// certificate (`<no SAN>` / `<none>` when absent), `"key sha256:<key_id>"` for a key.
fn identity_of(s: &ObservedSigner) -> String {
    match &s.key_id {
        None => format!(
            "{} (issuer {})",
            s.san.as_deref().unwrap_or("<no SAN>"),
            s.issuer.as_deref().unwrap_or("<none>")
        ),
        Some(k) => format!("key sha256:{k}"),
    }
}

/// One signer of the entry being checked, with its identity and its position in the entry.
struct Signed<'a> {
    signer: &'a ObservedSigner,
    identity: String,
    position: usize,
}

/// The entry's signers with their identities, in body order.
fn signed(e: &ObservedEntry) -> Vec<Signed<'_>> {
    e.signers
        .iter()
        .enumerate()
        .map(|(position, signer)| Signed {
            signer,
            identity: identity_of(signer),
            position,
        })
        .collect()
}

/// `all` without later signers of an identity already listed (the identity rules).
fn distinct_identities<'s, 'a>(all: &'s [Signed<'a>]) -> Vec<&'s Signed<'a>> {
    let mut out: Vec<&Signed<'a>> = Vec::with_capacity(all.len());
    for s in all {
        if !out.iter().any(|o| o.identity == s.identity) {
            out.push(s);
        }
    }
    out
}

/// "certificate issued to X", "signature by X", ... for messages.
fn action(e: &ObservedEntry, identity: &str) -> String {
    match e.kind {
        EntryKind::Precert => format!("certificate issued to {identity}"),
        EntryKind::HashedRekord => format!("signature by {identity}"),
        EntryKind::Dsse => format!("attestation signed by {identity}"),
        EntryKind::Other(ref k) => format!("{k} entry by {identity}"),
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// The entry and signer fields every alert carries (`kind`, `digest`, the signer's `san`,
/// `issuer`, `key_id`, `time` and `identity`, `signer` its position in the entry and `signers`
/// how many the entry has), plus `extra`.
fn details(e: &ObservedEntry, s: &Signed<'_>, extra: Value) -> Value {
    let mut d = json!({
        "kind": e.kind.name(),
        "san": s.signer.san,
        "issuer": s.signer.issuer,
        "digest": e.digest,
        "key_id": s.signer.key_id,
        "time": s.signer.time,
        "identity": s.identity,
        "signer": s.position,
        "signers": e.signers.len(),
    });
    if let (Value::Object(base), Value::Object(more)) = (&mut d, extra) {
        base.extend(more);
    }
    d
}

impl RuleEngine {
    /// An engine for `policy`, continuing from `state` (use `RulesState::default()` on a first
    /// run). State entries beyond the policy's bounds are dropped, oldest first.
    pub(crate) fn new(policy: MonitorPolicy, state: RulesState) -> Self {
        let mut engine = Self {
            policy,
            digests: HashMap::with_capacity(state.digests.len()),
            digest_order: VecDeque::with_capacity(state.digests.len()),
            bursts: HashMap::with_capacity(state.bursts.len()),
        };
        for rec in state.digests {
            if engine.digests.contains_key(&rec.digest) {
                continue;
            }
            engine.digest_order.push_back(rec.digest.clone());
            engine.digests.insert(rec.digest.clone(), rec);
        }
        if let Some(rule) = engine.policy.digest.clone() {
            engine.trim_digests(rule.max_digests);
        }
        for mut rec in state.bursts {
            rec.times.make_contiguous().sort_unstable();
            engine.bursts.insert(rec.identity.clone(), rec);
        }
        if let Some(rule) = engine.policy.burst.clone() {
            let keep = usize::try_from(rule.max)
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            for rec in engine.bursts.values_mut() {
                while rec.times.len() > keep {
                    rec.times.pop_front();
                }
            }
            engine.trim_bursts(&rule);
        }
        engine
    }

    /// The state to save (digests oldest first; burst records of identities still in the
    /// window).
    pub(crate) fn state(&self) -> RulesState {
        let digests = self
            .digest_order
            .iter()
            .filter_map(|d| self.digests.get(d).cloned())
            .collect();
        let mut bursts: Vec<BurstRecord> = match &self.policy.burst {
            Some(rule) => {
                let newest = self.bursts.values().map(BurstRecord::newest).max();
                self.bursts
                    .values()
                    .filter(|r| {
                        newest.is_some_and(|n| r.newest() > n.saturating_sub(rule.window_seconds))
                    })
                    .cloned()
                    .collect()
            }
            None => self.bursts.values().cloned().collect(),
        };
        bursts.sort_by(|a, b| a.identity.cmp(&b.identity));
        RulesState { digests, bursts }
    }

    /// Runs every rule on every signer of one entry (entries must come in log order) and
    /// returns its alerts: rule by rule, signers in body order within each rule.
    pub(crate) fn observe(&mut self, e: &ObservedEntry) -> Vec<Alert> {
        let all = signed(e);
        let distinct = distinct_identities(&all);
        let mut alerts = Vec::new();
        alerts.extend(distinct.iter().filter_map(|s| self.watch(e, s)));
        alerts.extend(distinct.iter().filter_map(|s| self.allowlist(e, s)));
        for s in &distinct {
            alerts.extend(self.digest(e, s));
        }
        // Every distinct (identity, time): two certificates of one identity are two times.
        let mut timed: Vec<&Signed<'_>> = Vec::with_capacity(all.len());
        for s in &all {
            if !timed
                .iter()
                .any(|t| t.identity == s.identity && t.signer.time == s.signer.time)
            {
                timed.push(s);
            }
        }
        alerts.extend(timed.iter().filter_map(|s| self.working_hours(e, s)));
        // An entry counts once per identity in a burst, at the earliest time it gives it.
        for s in &distinct {
            let t = all
                .iter()
                .filter(|o| o.identity == s.identity)
                .filter_map(|o| o.signer.time)
                .min();
            alerts.extend(self.burst(e, s, t));
        }
        alerts
    }

    fn watch(&self, e: &ObservedEntry, s: &Signed<'_>) -> Option<Alert> {
        let names: Vec<String> = self
            .policy
            .watch
            .iter()
            .filter(|m| m.matches(s.signer))
            .map(IdentityMatcher::label)
            .collect();
        if names.is_empty() {
            return None;
        }
        Some(Alert {
            alert: "watched_identity".into(),
            severity: Severity::Info,
            log_index: Some(e.index),
            message: format!(
                "Entry {}: {} (watched: {}).",
                e.index,
                action(e, &s.identity),
                names.join("; ")
            ),
            details: details(e, s, json!({ "watches": names })),
        })
    }

    fn allowlist(&self, e: &ObservedEntry, s: &Signed<'_>) -> Option<Alert> {
        let allowed = self.policy.allowlist.as_ref()?;
        if !s.signer.has_certificate() || allowed.iter().any(|m| m.matches(s.signer)) {
            return None;
        }
        Some(Alert {
            alert: "identity_not_allowed".into(),
            severity: Severity::Critical,
            log_index: Some(e.index),
            message: format!(
                "Entry {}: {}, which no allowlist entry matches.",
                e.index,
                action(e, &s.identity)
            ),
            details: details(e, s, json!({})),
        })
    }

    fn digest(&mut self, e: &ObservedEntry, s: &Signed<'_>) -> Option<Alert> {
        let rule = self.policy.digest.clone()?;
        let digest = e.digest.as_ref()?;
        let id = s.identity.as_str();
        let Some(rec) = self.digests.get_mut(digest) else {
            self.digest_order.push_back(digest.clone());
            self.digests.insert(
                digest.clone(),
                DigestRecord {
                    digest: digest.clone(),
                    identities: vec![id.to_owned()],
                    first_index: e.index,
                },
            );
            self.trim_digests(rule.max_digests);
            return None;
        };
        if rec.identities.iter().any(|known| known == id) {
            return None;
        }
        let previous = rec.identities.clone();
        let first_index = rec.first_index;
        if rec.identities.len() < MAX_IDENTITIES_PER_DIGEST {
            rec.identities.push(id.to_owned());
        }
        Some(Alert {
            alert: "digest_multiple_identities".into(),
            severity: Severity::Warning,
            log_index: Some(e.index),
            message: format!(
                "Entry {}: {digest} was signed by {id}, but {} already signed it (first at entry {first_index}).",
                e.index,
                previous.join(" and "),
            ),
            details: details(
                e,
                s,
                json!({
                    "previous_identities": previous,
                    "first_index": first_index,
                }),
            ),
        })
    }

    fn trim_digests(&mut self, max: usize) {
        while self.digest_order.len() > max {
            if let Some(old) = self.digest_order.pop_front() {
                self.digests.remove(&old);
            }
        }
    }

    fn working_hours(&self, e: &ObservedEntry, s: &Signed<'_>) -> Option<Alert> {
        let rule = self.policy.working_hours.as_ref()?;
        let t = s.signer.time?;
        if !rule.identities.is_empty() && !rule.identities.iter().any(|m| m.matches(s.signer)) {
            return None;
        }
        let local = OffsetDateTime::from_unix_timestamp(t)
            .ok()?
            .to_offset(rule.offset);
        if rule.contains(local) {
            return None;
        }
        let when = rfc3339(local);
        Some(Alert {
            alert: "outside_working_hours".into(),
            severity: Severity::Warning,
            log_index: Some(e.index),
            message: format!(
                "Entry {}: {} at {when} ({}), outside working hours ({}).",
                e.index,
                action(e, &s.identity),
                day_name(local.weekday()),
                rule.text
            ),
            details: details(
                e,
                s,
                json!({
                    "local_time": when,
                    "weekday": day_name(local.weekday()),
                    "working_hours": rule.text,
                }),
            ),
        })
    }

    /// Counts the entry for `s`'s identity at time `t` (the earliest time the entry gives
    /// that identity).
    fn burst(&mut self, e: &ObservedEntry, s: &Signed<'_>, t: Option<i64>) -> Option<Alert> {
        let rule = self.policy.burst.clone()?;
        let t = t?;
        let alert = self.count_burst(&rule, e, s, t);
        if self.bursts.len() > rule.max_identities {
            self.trim_bursts(&rule);
        }
        alert
    }

    /// Adds `t` to the identity's window; an alert when this entry starts a burst.
    fn count_burst(
        &mut self,
        rule: &BurstRule,
        e: &ObservedEntry,
        s: &Signed<'_>,
        t: i64,
    ) -> Option<Alert> {
        let id = s.identity.as_str();
        let rec = self
            .bursts
            .entry(id.to_owned())
            .or_insert_with(|| BurstRecord {
                identity: id.to_owned(),
                times: VecDeque::new(),
                alerted: false,
            });
        let at = rec.times.partition_point(|x| *x <= t);
        rec.times.insert(at, t);
        let newest = rec.newest();
        while rec
            .times
            .front()
            .is_some_and(|x| newest.saturating_sub(*x) >= rule.window_seconds)
        {
            rec.times.pop_front();
        }
        let keep = usize::try_from(rule.max)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        while rec.times.len() > keep {
            rec.times.pop_front();
        }
        let count = u64::try_from(rec.times.len()).unwrap_or(u64::MAX);
        if count <= rule.max {
            rec.alerted = false;
            return None;
        }
        if rec.alerted {
            return None;
        }
        rec.alerted = true;
        let since = rec.times.front().copied().unwrap_or(t);
        Some(Alert {
            alert: "burst".into(),
            severity: Severity::Warning,
            log_index: Some(e.index),
            message: format!(
                "Entry {}: {id} has more than {} entries within {} seconds.",
                e.index, rule.max, rule.window_seconds
            ),
            details: details(
                e,
                s,
                json!({
                    "max": rule.max,
                    "window_seconds": rule.window_seconds,
                    "window_start": since,
                    "window_end": newest,
                }),
            ),
        })
    }

    /// Drops identities whose newest entry left the window, then the least recently active
    /// ones, until at most 90% of `max_identities` remain (so trimming is not paid per entry).
    fn trim_bursts(&mut self, rule: &BurstRule) {
        if self.bursts.len() <= rule.max_identities {
            return;
        }
        if let Some(newest) = self.bursts.values().map(BurstRecord::newest).max() {
            let horizon = newest.saturating_sub(rule.window_seconds);
            self.bursts.retain(|_, r| r.newest() > horizon);
        }
        let target = rule.max_identities - rule.max_identities / 10;
        if self.bursts.len() > target {
            let mut by_age: Vec<(i64, String)> = self
                .bursts
                .values()
                .map(|r| (r.newest(), r.identity.clone()))
                .collect();
            by_age.sort_unstable();
            let excess = self.bursts.len() - target;
            for (_, id) in by_age.into_iter().take(excess) {
                self.bursts.remove(&id);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auditors::monitor::entry::observe;
    use crate::auditors::monitor::entry::testutil::{
        cert_pem, dsse, dsse_signed, hashedrekord, intoto, precert, public_key_pem, TestCa,
    };
    use time::macros::datetime;

    const ACCOUNTS: &str = "https://accounts.example.com";
    const GITHUB: &str = "https://token.actions.githubusercontent.com";
    const CI_SAN: &str =
        "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0";

    /// Builds real entry bodies (certificates from a test CA) in log order and observes them.
    struct Log {
        ca: TestCa,
        next: u64,
    }

    impl Log {
        fn new() -> Self {
            Self {
                ca: TestCa::new(),
                next: 0,
            }
        }

        fn push(&mut self, body: &[u8]) -> ObservedEntry {
            let e = observe(self.next, body).unwrap();
            self.next += 1;
            e
        }

        /// Keyless signing as the CA and client do it: a precert entry, then the signature.
        fn keyless(&mut self, san: &str, issuer: &str, t: i64, digest: u8) -> Vec<ObservedEntry> {
            let (pre, cert) = self.ca.issue(san, issuer, t);
            vec![
                self.push(&precert(&[&pre])),
                self.push(&hashedrekord([digest; 32], cert_pem(&cert))),
            ]
        }

        /// A precert entry only (a certificate issued, maybe never used).
        fn issue(&mut self, san: &str, issuer: &str, t: i64) -> ObservedEntry {
            let (pre, _) = self.ca.issue(san, issuer, t);
            self.push(&precert(&[&pre]))
        }

        /// A hashedrekord entry only.
        fn sign(&mut self, san: &str, issuer: &str, t: i64, digest: u8) -> ObservedEntry {
            let (_, cert) = self.ca.issue(san, issuer, t);
            self.push(&hashedrekord([digest; 32], cert_pem(&cert)))
        }

        /// A dsse entry.
        fn attest(&mut self, san: &str, issuer: &str, t: i64, payload: &[u8]) -> ObservedEntry {
            let (_, cert) = self.ca.issue(san, issuer, t);
            self.push(&dsse(payload, cert_pem(&cert)))
        }

        /// A hashedrekord entry signed with a public key.
        fn keyed(&mut self, key_pem: &[u8], digest: u8) -> ObservedEntry {
            self.push(&hashedrekord([digest; 32], key_pem.to_vec()))
        }

        /// The PEM certificate of `san` / `issuer`, valid from `t`.
        fn cert(&self, san: &str, issuer: &str, t: i64) -> Vec<u8> {
            cert_pem(&self.ca.issue(san, issuer, t).1)
        }

        /// A dsse entry over `payload` with one signature per `(signature byte, PEM)`; the
        /// stored form sorts them by signature (byte 1 before byte 2).
        fn attest_by(&mut self, payload: &[u8], signers: &[(u8, &[u8])]) -> ObservedEntry {
            let sigs = signers
                .iter()
                .map(|(b, pem)| (vec![0x30, *b], pem.to_vec()))
                .collect();
            self.push(&dsse_signed(payload, sigs))
        }

        /// An intoto entry over `payload` with one signature per PEM, in this order.
        fn intoto_by(&mut self, payload: &[u8], pems: &[&[u8]]) -> ObservedEntry {
            let pems: Vec<Vec<u8>> = pems.iter().map(|p| p.to_vec()).collect();
            self.push(&intoto(payload, &pems))
        }
    }

    /// `(alert, log index, signer position)` of each alert.
    fn by_signer(alerts: &[Alert]) -> Vec<(&str, u64, u64)> {
        alerts
            .iter()
            .map(|a| {
                (
                    a.alert.as_str(),
                    a.log_index.unwrap(),
                    a.details["signer"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    /// Issue 15 A: a dsse or intoto entry with several signatures puts every signer through
    /// every rule. The offending signer is second, in the submitted order or after the log's
    /// sort (dsse sorts by signature text); before, only the first signer was looked at.
    #[test]
    fn every_signer_of_an_entry_reaches_every_rule() {
        let mut log = Log::new();
        let (other_key, _) = public_key_pem();
        let (watched_key, watched_id) = public_key_pem();
        let p = policy(&format!(
            "[[watch]]\nname = \"w\"\nkey_id = \"{watched_id}\"\n\
             [rules.allowlist]\nidentities = [{{ san_regex = '.*@example\\.com', issuer = \"{ACCOUNTS}\" }}]\n"
        ));
        let mut engine = RuleEngine::new(p, RulesState::default());
        let alice = log.cert("alice@example.com", ACCOUNTS, wed(10, 0));
        let mallory = log.cert("mallory@evil.example", ACCOUNTS, wed(10, 0));
        let (o, w): (&[u8], &[u8]) = (&other_key, &watched_key);
        let (a, m): (&[u8], &[u8]) = (&alice, &mallory);

        // Watched key: submitted second and sorted second; submitted first but sorted second;
        // intoto (submission order) second.
        let entries = [
            log.attest_by(b"1", &[(1, a), (2, w)]),
            log.attest_by(b"2", &[(2, w), (1, a)]),
            log.intoto_by(b"3", &[a, w]),
        ];
        for e in &entries {
            assert_eq!(e.signers.len(), 2);
            let alerts = engine.observe(e);
            assert_eq!(
                by_signer(&alerts),
                vec![("watched_identity", e.index, 1)],
                "{e:?}"
            );
            assert_eq!(alerts[0].details["key_id"], json!(watched_id));
            assert_eq!(alerts[0].details["signers"], json!(2));
        }
        // A disallowed certificate, second the same ways.
        let entries = [
            log.attest_by(b"4", &[(1, o), (2, m)]),
            log.attest_by(b"5", &[(2, m), (1, a)]),
            log.intoto_by(b"6", &[a, m]),
        ];
        for e in &entries {
            let alerts = engine.observe(e);
            assert_eq!(
                by_signer(&alerts),
                vec![("identity_not_allowed", e.index, 1)],
                "{e:?}"
            );
            assert_eq!(alerts[0].details["san"], "mallory@evil.example");
            assert!(alerts[0].message.contains("mallory@evil.example"));
        }
        // Both at once, and a watched key twice: one alert per rule and offending identity.
        let e = log.attest_by(b"7", &[(1, m), (2, w), (3, w)]);
        assert_eq!(
            by_signer(&engine.observe(&e)),
            vec![
                ("watched_identity", e.index, 1),
                ("identity_not_allowed", e.index, 0)
            ]
        );
    }

    /// The digest, working-hours and burst rules see every signer too.
    #[test]
    fn every_signer_counts_for_digests_hours_and_bursts() {
        let mut log = Log::new();
        let alice = log.cert("alice@example.com", ACCOUNTS, wed(10, 0));
        let bob = log.cert("bob@example.com", ACCOUNTS, wed(10, 0));
        let (a, b): (&[u8], &[u8]) = (&alice, &bob);

        // One digest, a second identity hidden second (after the sort, and as submitted).
        let mut engine = RuleEngine::new(
            policy("[rules.digest_multiple_identities]\n"),
            RulesState::default(),
        );
        assert_eq!(engine.observe(&log.attest_by(b"p", &[(1, a)])), vec![]);
        let e = log.attest_by(b"p", &[(2, b), (1, a)]);
        let alerts = engine.observe(&e);
        assert_eq!(
            by_signer(&alerts),
            vec![("digest_multiple_identities", e.index, 1)]
        );
        assert_eq!(
            alerts[0].details["identity"],
            json!(format!("bob@example.com (issuer {ACCOUNTS})"))
        );
        assert_eq!(engine.observe(&log.intoto_by(b"q", &[a])), vec![]);
        let e = log.intoto_by(b"q", &[a, b]);
        assert_eq!(
            by_signer(&engine.observe(&e)),
            vec![("digest_multiple_identities", e.index, 1)]
        );
        // A new digest signed by two identities in one entry: the second alerts.
        let e = log.attest_by(b"r", &[(1, a), (2, b)]);
        assert_eq!(
            by_signer(&engine.observe(&e)),
            vec![("digest_multiple_identities", e.index, 1)]
        );

        // A night-time certificate second; two certificates of one identity are two times.
        let night = log.cert("bob@example.com", ACCOUNTS, wed(23, 0));
        let mut engine = RuleEngine::new(
            policy("[rules.working_hours]\nstart = \"08:00\"\nend = \"18:00\"\nutc_offset = \"+02:00\"\n"),
            RulesState::default(),
        );
        for e in [
            log.attest_by(b"n", &[(1, a), (2, &night)]),
            log.attest_by(b"n", &[(1, b), (2, &night)]),
            log.intoto_by(b"n", &[a, &night]),
        ] {
            assert_eq!(
                by_signer(&engine.observe(&e)),
                vec![("outside_working_hours", e.index, 1)],
                "{e:?}"
            );
        }

        // Bursts: bob's second entry is one where he signs second; an entry counts once per
        // identity even when it carries the identity twice.
        let mut engine = RuleEngine::new(
            policy("[rules.burst]\nmax = 1\nwindow_seconds = 3600\n"),
            RulesState::default(),
        );
        assert_eq!(
            engine.observe(&log.attest_by(b"b", &[(1, b), (2, b)])),
            vec![]
        );
        let e = log.intoto_by(b"b", &[a, b]);
        assert_eq!(by_signer(&engine.observe(&e)), vec![("burst", e.index, 1)]);
    }

    fn policy(text: &str) -> MonitorPolicy {
        MonitorPolicy::from_toml(text).unwrap()
    }

    fn run(engine: &mut RuleEngine, entries: &[ObservedEntry]) -> Vec<Alert> {
        entries.iter().flat_map(|e| engine.observe(e)).collect()
    }

    /// `(alert kind, log index)` of each alert.
    fn summary(alerts: &[Alert]) -> Vec<(&str, u64)> {
        alerts
            .iter()
            .map(|a| (a.alert.as_str(), a.log_index.unwrap()))
            .collect()
    }

    /// Wednesday 2026-11-25 at `hh:mm` in UTC+2.
    fn wed(hh: u8, mm: u8) -> i64 {
        let t = datetime!(2026-11-25 00:00 +02:00).unix_timestamp();
        t + i64::from(hh) * 3600 + i64::from(mm) * 60
    }

    #[test]
    fn example_policy_parses() {
        let p = MonitorPolicy::from_toml(include_str!("../../../../testdata/monitor/policy.toml"))
            .unwrap();
        assert_eq!(p.watch.len(), 3);
        assert_eq!(p.watch[0].label(), "release workflow");
        assert_eq!(p.digest.as_ref().unwrap().max_digests, 100_000);
        let wh = p.working_hours.as_ref().unwrap();
        assert_eq!(wh.days.len(), 5);
        assert_eq!(wh.offset, UtcOffset::from_hms(2, 0, 0).unwrap());
        assert_eq!(wh.identities.len(), 1);
        assert_eq!(p.allowlist.as_ref().unwrap().len(), 2);
        let b = p.burst.as_ref().unwrap();
        assert_eq!(
            (b.max, b.window_seconds, b.max_identities),
            (100, 3600, 10_000)
        );

        // Defaults, and `enabled = false`.
        let p = policy(
            "[rules.digest_multiple_identities]\n[rules.burst]\n\
             [rules.working_hours]\nstart = \"09:00\"\nend = \"17:30\"\n\
             [rules.allowlist]\nenabled = false\nidentities = []\n",
        );
        assert_eq!(p.digest.unwrap().max_digests, DEFAULT_MAX_DIGESTS);
        let b = p.burst.unwrap();
        assert_eq!((b.max, b.window_seconds), (100, 3600));
        let wh = p.working_hours.unwrap();
        assert_eq!(wh.offset, UtcOffset::UTC);
        assert_eq!(wh.text, "mon,tue,wed,thu,fri 09:00-17:30 +00:00");
        assert!(p.allowlist.is_none());
        assert!(MonitorPolicy::from_toml("").unwrap().watch.is_empty());
    }

    #[test]
    fn invalid_policies_name_the_field() {
        let cases: &[(&str, &str)] = &[
            ("[[watch]]\nsan_regex = \"(\"\n", "watch[0].san_regex"),
            (
                "[[watch]]\nsan = \"a\"\n[[watch]]\nsan = \"a\"\nsan_regex = \"a\"\n",
                "watch[1].san_regex",
            ),
            ("[[watch]]\nname = \"nobody\"\n", "watch[0]: an identity needs"),
            ("[[watch]]\nsn = \"a\"\n", "unknown field `sn`"),
            ("[[watch]]\nkey_id = \"xyz\"\n", "watch[0].key_id"),
            ("[rules.nonsense]\n", "unknown field `nonsense`"),
            (
                "[rules.working_hours]\nstart = \"8am\"\nend = \"18:00\"\n",
                "rules.working_hours.start",
            ),
            (
                "[rules.working_hours]\nstart = \"08:00\"\nend = \"25:00\"\n",
                "rules.working_hours.end",
            ),
            (
                "[rules.working_hours]\nstart = \"08:00\"\nend = \"08:00\"\n",
                "rules.working_hours.end",
            ),
            (
                "[rules.working_hours]\nstart = \"08:00\"\nend = \"18:00\"\nutc_offset = \"CET\"\n",
                "rules.working_hours.utc_offset",
            ),
            (
                "[rules.working_hours]\nstart = \"08:00\"\nend = \"18:00\"\ndays = [\"mon\", \"funday\"]\n",
                "rules.working_hours.days[1]",
            ),
            (
                "[rules.working_hours]\nstart = \"08:00\"\nend = \"18:00\"\ndays = []\n",
                "rules.working_hours.days",
            ),
            ("[rules.working_hours]\nstart = \"08:00\"\n", "missing field `end`"),
            (
                "[rules.working_hours]\nstart = \"08:00\"\nend = \"18:00\"\nidentities = [{ issuer = \"x\", colour = \"red\" }]\n",
                "unknown field `colour`",
            ),
            (
                "[rules.allowlist]\nidentities = [{ issuer_regex = \"[z-a]\" }]\n",
                "rules.allowlist.identities[0].issuer_regex",
            ),
            (
                "[rules.allowlist]\nidentities = [{ key_id = \"00\" }]\n",
                "rules.allowlist.identities[0].key_id",
            ),
            ("[rules.burst]\nmax = 0\n", "rules.burst.max"),
            ("[rules.burst]\nwindow_seconds = 0\n", "rules.burst.window_seconds"),
            ("[rules.burst]\nwindow = 5\n", "unknown field `window`"),
            (
                "[rules.digest_multiple_identities]\nmax_digests = 0\n",
                "rules.digest_multiple_identities.max_digests",
            ),
            ("[rules.digest_multiple_identities]\nenabled = \"yes\"\n", "enabled"),
            ("not toml at all [", "monitor policy"),
        ];
        for (text, want) in cases {
            let err = MonitorPolicy::from_toml(text).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains(want),
                "policy {text:?}: {msg:?} lacks {want:?}"
            );
        }
        assert!(matches!(
            MonitorPolicy::from_toml("[[watch]]\nsan_regex = \"(\"\n"),
            Err(PolicyError::Regex { .. })
        ));
        // Issue 15: a pattern that is invalid on its own is refused, wherever it is used; it
        // used to be pasted into `^(?:…)$`, where it closed the group and matched anyone.
        for text in [
            "[[watch]]\nsan_regex = 'alice@example\\.com)|(.*'\n",
            "[[watch]]\nsan = \"a\"\nissuer_regex = 'https://a\\.example)|(.*'\n",
            "[rules.allowlist]\nidentities = [{ san_regex = 'alice@example\\.com)|(.*' }]\n",
            "[rules.working_hours]\nstart = \"08:00\"\nend = \"18:00\"\nidentities = [{ san_regex = '.*)|(.*' }]\n",
            "[[watch]]\nsan_regex = 'alice\\'\n",
        ] {
            assert!(
                matches!(
                    MonitorPolicy::from_toml(text),
                    Err(PolicyError::Regex { .. })
                ),
                "{text}"
            );
        }
        assert!(matches!(
            MonitorPolicy::from_toml("[rules.burst]\nmax = 0\n"),
            Err(PolicyError::Invalid { .. })
        ));
        assert!(matches!(
            MonitorPolicy::from_toml("[rules.x]\n"),
            Err(PolicyError::Toml { .. })
        ));
    }

    #[test]
    fn load_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "[[watch]]\nsan = \"alice@example.com\"\n").unwrap();
        assert_eq!(MonitorPolicy::load(&good).unwrap().watch.len(), 1);
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[rules.burst]\nmax = 0\n").unwrap();
        let msg = format!("{:#}", MonitorPolicy::load(&bad).unwrap_err());
        assert!(
            msg.contains("bad.toml") && msg.contains("rules.burst.max"),
            "{msg}"
        );
        let msg = format!(
            "{:#}",
            MonitorPolicy::load(&dir.path().join("no.toml")).unwrap_err()
        );
        assert!(msg.contains("no.toml"), "{msg}");
    }

    #[test]
    fn watched_identity() {
        let mut log = Log::new();
        let (key, key_id) = public_key_pem();
        let (other_key, _) = public_key_pem();
        let p = policy(&format!(
            "[[watch]]\nname = \"alice\"\nsan = \"alice@example.com\"\nissuer = \"{ACCOUNTS}\"\n\
             [[watch]]\nsan_regex = 'https://github\\.com/acme/.*'\nissuer = \"{GITHUB}\"\n\
             [[watch]]\nname = \"release key\"\nkey_id = \"{}\"\n",
            key_id.to_uppercase()
        ));
        let mut engine = RuleEngine::new(p, RulesState::default());

        // Benign: nobody watched (other people, alice at another issuer, look-alike SANs,
        // another key).
        let mut benign = log.keyless("bob@example.com", ACCOUNTS, wed(10, 0), 1);
        benign.extend(log.keyless("alice@example.com", "https://evil.example", wed(10, 0), 2));
        benign.push(log.sign("mallory-alice@example.com", ACCOUNTS, wed(10, 0), 3));
        benign.push(log.sign("alice@example.com.evil.org", ACCOUNTS, wed(10, 0), 3));
        benign.push(log.attest(
            "https://github.com/other/acme/x.yml@refs/heads/main",
            GITHUB,
            wed(10, 0),
            b"{}",
        ));
        benign.push(log.keyed(&other_key, 4));
        assert_eq!(run(&mut engine, &benign), vec![]);

        // Crafted: alice's certificate and signature, the CI's attestation, the key.
        let mut crafted = log.keyless("alice@example.com", ACCOUNTS, wed(11, 0), 5);
        crafted.push(log.attest(CI_SAN, GITHUB, wed(11, 0), b"{}"));
        crafted.push(log.keyed(&key, 6));
        let alerts = run(&mut engine, &crafted);
        let want: Vec<(&str, u64)> = crafted
            .iter()
            .map(|e| ("watched_identity", e.index))
            .collect();
        assert_eq!(summary(&alerts), want);
        assert!(alerts.iter().all(|a| a.severity == Severity::Info));
        assert!(alerts[0]
            .message
            .contains("certificate issued to alice@example.com"));
        assert!(alerts[1].message.contains("signature by alice@example.com"));
        assert_eq!(alerts[0].details["watches"], json!(["alice"]));
        assert_eq!(
            alerts[2].details["watches"],
            json!([format!(
                "san ~ \"https://github\\\\.com/acme/.*\", issuer = \"{GITHUB}\""
            )])
        );
        assert_eq!(alerts[2].details["kind"], "dsse");
        assert_eq!(alerts[3].details["watches"], json!(["release key"]));
        assert_eq!(alerts[3].details["key_id"], json!(key_id));
    }

    #[test]
    fn digest_multiple_identities() {
        let mut log = Log::new();
        let (key, _) = public_key_pem();
        let mut engine = RuleEngine::new(
            policy("[rules.digest_multiple_identities]\n"),
            RulesState::default(),
        );
        // Benign: each digest signed by one identity (alice twice, with two certificates; the
        // key twice).
        let mut benign = log.keyless("alice@example.com", ACCOUNTS, wed(10, 0), 1);
        benign.push(log.sign("alice@example.com", ACCOUNTS, wed(10, 30), 1));
        benign.extend(log.keyless("bob@example.com", ACCOUNTS, wed(10, 0), 2));
        benign.push(log.attest("alice@example.com", ACCOUNTS, wed(10, 0), b"statement"));
        benign.push(log.keyed(&key, 3));
        benign.push(log.keyed(&key, 3));
        assert_eq!(run(&mut engine, &benign), vec![]);

        // Crafted: bob signs alice's digest (once alerted), the key signs it too, carol signs
        // alice's attestation payload, alice signs the key's digest.
        let crafted = vec![
            log.sign("bob@example.com", ACCOUNTS, wed(11, 0), 1),
            log.sign("bob@example.com", ACCOUNTS, wed(11, 1), 1),
            log.keyed(&key, 1),
            log.attest("carol@example.com", ACCOUNTS, wed(11, 0), b"statement"),
            log.sign("alice@example.com", ACCOUNTS, wed(11, 0), 3),
        ];
        let alerts = run(&mut engine, &crafted);
        let idx: Vec<u64> = crafted.iter().map(|e| e.index).collect();
        assert_eq!(
            summary(&alerts),
            vec![
                ("digest_multiple_identities", idx[0]),
                ("digest_multiple_identities", idx[2]),
                ("digest_multiple_identities", idx[3]),
                ("digest_multiple_identities", idx[4]),
            ]
        );
        assert!(alerts.iter().all(|a| a.severity == Severity::Warning));
        let alice = format!("alice@example.com (issuer {ACCOUNTS})");
        let bob = format!("bob@example.com (issuer {ACCOUNTS})");
        assert_eq!(alerts[0].details["previous_identities"], json!([alice]));
        assert_eq!(alerts[0].details["identity"], json!(bob));
        assert_eq!(alerts[0].details["first_index"], json!(benign[1].index));
        assert_eq!(
            alerts[1].details["previous_identities"],
            json!([alice, bob])
        );
        assert!(alerts[0]
            .message
            .contains(&format!("sha256:{}", "01".repeat(32))));
    }

    #[test]
    fn digest_memory_is_bounded() {
        let mut log = Log::new();
        let mut engine = RuleEngine::new(
            policy("[rules.digest_multiple_identities]\nmax_digests = 2\n"),
            RulesState::default(),
        );
        let first = vec![
            log.sign("alice@example.com", ACCOUNTS, wed(10, 0), 1),
            log.sign("alice@example.com", ACCOUNTS, wed(10, 0), 2),
            log.sign("alice@example.com", ACCOUNTS, wed(10, 0), 3),
        ];
        assert_eq!(run(&mut engine, &first), vec![]);
        assert_eq!(engine.state().digests.len(), 2);
        // Digest 1 was forgotten (oldest first), digest 3 was not.
        let forgotten = log.sign("bob@example.com", ACCOUNTS, wed(10, 0), 1);
        assert_eq!(engine.observe(&forgotten), vec![]);
        let remembered = log.sign("bob@example.com", ACCOUNTS, wed(10, 0), 3);
        assert_eq!(
            summary(&engine.observe(&remembered)),
            vec![("digest_multiple_identities", remembered.index)]
        );
        let state = engine.state();
        assert_eq!(state.digests.len(), 2);
        // Oldest first by first sighting: 3 (alice's, now bob's too), then 1 (bob's only).
        let order: Vec<&str> = state.digests.iter().map(|d| d.digest.as_str()).collect();
        assert_eq!(
            order,
            [
                format!("sha256:{}", "03".repeat(32)),
                format!("sha256:{}", "01".repeat(32))
            ]
        );
        assert_eq!(state.digests[0].identities.len(), 2);
        assert_eq!(state.digests[1].identities.len(), 1);

        // Identities per digest are bounded too; identities beyond the bound keep alerting.
        let mut engine = RuleEngine::new(
            policy("[rules.digest_multiple_identities]\n"),
            RulesState::default(),
        );
        let mut n_alerts = 0;
        for i in 0..MAX_IDENTITIES_PER_DIGEST + 2 {
            let e = log.sign(&format!("u{i}@example.com"), ACCOUNTS, wed(10, 0), 9);
            n_alerts += engine.observe(&e).len();
        }
        assert_eq!(n_alerts, MAX_IDENTITIES_PER_DIGEST + 1);
        assert_eq!(
            engine.state().digests[0].identities.len(),
            MAX_IDENTITIES_PER_DIGEST
        );
    }

    #[test]
    fn outside_working_hours() {
        let mut log = Log::new();
        let (key, _) = public_key_pem();
        let p = policy(
            "[rules.working_hours]\nstart = \"08:00\"\nend = \"18:00\"\nutc_offset = \"+02:00\"\n\
             days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\n",
        );
        let mut engine = RuleEngine::new(p, RulesState::default());
        assert_eq!(
            OffsetDateTime::from_unix_timestamp(wed(12, 0))
                .unwrap()
                .weekday(),
            Weekday::Wednesday
        );
        // Benign: inside the hours in UTC+2 (07:30 UTC is 09:30 there), start inclusive, a
        // keyed entry (no time).
        let mut benign = log.keyless("alice@example.com", ACCOUNTS, wed(10, 0), 1);
        benign.push(log.sign("alice@example.com", ACCOUNTS, wed(8, 0), 1));
        benign.push(log.sign("alice@example.com", ACCOUNTS, wed(17, 59), 1));
        benign.push(log.sign(
            "alice@example.com",
            ACCOUNTS,
            datetime!(2026-11-25 07:30 UTC).unix_timestamp(),
            1,
        ));
        benign.push(log.keyed(&key, 1));
        assert_eq!(run(&mut engine, &benign), vec![]);

        // Crafted: end exclusive, before start, 20:30 UTC (22:30 there), Saturday.
        let saturday = wed(10, 0) + 3 * 86_400;
        let crafted = vec![
            log.sign("alice@example.com", ACCOUNTS, wed(18, 0), 1),
            log.issue("alice@example.com", ACCOUNTS, wed(7, 59)),
            log.sign(
                "alice@example.com",
                ACCOUNTS,
                datetime!(2026-11-25 20:30 UTC).unix_timestamp(),
                1,
            ),
            log.attest("alice@example.com", ACCOUNTS, saturday, b"{}"),
        ];
        let alerts = run(&mut engine, &crafted);
        let want: Vec<(&str, u64)> = crafted
            .iter()
            .map(|e| ("outside_working_hours", e.index))
            .collect();
        assert_eq!(summary(&alerts), want);
        assert!(alerts.iter().all(|a| a.severity == Severity::Warning));
        assert_eq!(alerts[2].details["local_time"], "2026-11-25T22:30:00+02:00");
        assert_eq!(alerts[3].details["weekday"], "sat");
        assert!(
            alerts[3]
                .message
                .contains("outside working hours (mon,tue,wed,thu,fri 08:00-18:00 +02:00)"),
            "{}",
            alerts[3].message
        );

        // The identities filter: only example.com people are held to the hours.
        let p = policy(
            "[rules.working_hours]\nstart = \"08:00\"\nend = \"18:00\"\n\
             identities = [{ san_regex = '.*@example\\.com' }]\n",
        );
        let mut engine = RuleEngine::new(p, RulesState::default());
        let night = datetime!(2026-11-25 02:00 UTC).unix_timestamp();
        let robot = log.sign("robot@ci.example.org", ACCOUNTS, night, 1);
        assert_eq!(engine.observe(&robot), vec![]);
        let alice = log.sign("alice@example.com", ACCOUNTS, night, 1);
        assert_eq!(
            summary(&engine.observe(&alice)),
            vec![("outside_working_hours", alice.index)]
        );

        // A night shift across midnight, every day.
        let p = policy(
            "[rules.working_hours]\nstart = \"22:00\"\nend = \"06:00\"\n\
             days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sunday\"]\n",
        );
        let mut engine = RuleEngine::new(p, RulesState::default());
        let at = |h: i64| datetime!(2026-11-25 00:00 UTC).unix_timestamp() + h * 3600;
        let inside = [
            log.sign("n@example.com", ACCOUNTS, at(23), 1),
            log.sign("n@example.com", ACCOUNTS, at(3), 1),
        ];
        assert_eq!(run(&mut engine, &inside), vec![]);
        let noon = log.sign("n@example.com", ACCOUNTS, at(12), 1);
        assert_eq!(engine.observe(&noon).len(), 1);
    }

    #[test]
    fn identity_not_allowed() {
        let mut log = Log::new();
        let (key, _) = public_key_pem();
        let p = policy(&format!(
            "[rules.allowlist]\nidentities = [\n\
             {{ san_regex = '.*@example\\.com', issuer = \"{ACCOUNTS}\" }},\n\
             {{ name = \"CI\", san_regex = 'https://github\\.com/acme/.*', issuer = \"{GITHUB}\" }},\n]\n"
        ));
        let mut engine = RuleEngine::new(p, RulesState::default());
        let mut benign = log.keyless("alice@example.com", ACCOUNTS, wed(10, 0), 1);
        benign.push(log.attest(CI_SAN, GITHUB, wed(10, 0), b"{}"));
        benign.push(log.keyed(&key, 1));
        assert_eq!(run(&mut engine, &benign), vec![]);

        let crafted = vec![
            log.issue("mallory@evil.example", ACCOUNTS, wed(10, 0)),
            log.sign("alice@example.com", GITHUB, wed(10, 0), 1),
            log.sign("alice@example.com.evil.org", ACCOUNTS, wed(10, 0), 1),
            log.attest(
                "https://github.com/mallory/app/.github/workflows/x.yml@refs/heads/main",
                GITHUB,
                wed(10, 0),
                b"{}",
            ),
            // A certificate with no SAN and no issuer extension at all.
            {
                let key = rcgen::KeyPair::generate().unwrap();
                let params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
                let cert = params.self_signed(&key).unwrap().der().to_vec();
                log.push(&hashedrekord([1; 32], cert_pem(&cert)))
            },
        ];
        let alerts = run(&mut engine, &crafted);
        let want: Vec<(&str, u64)> = crafted
            .iter()
            .map(|e| ("identity_not_allowed", e.index))
            .collect();
        assert_eq!(summary(&alerts), want);
        assert!(alerts.iter().all(|a| a.severity == Severity::Critical));
        assert!(alerts[0]
            .message
            .contains("certificate issued to mallory@evil.example"));
        // The wire form of an alert.
        let v = serde_json::to_value(&alerts[0]).unwrap();
        assert_eq!(v["alert"], "identity_not_allowed");
        assert_eq!(v["severity"], "critical");
        assert_eq!(v["log_index"], json!(crafted[0].index));
        assert_eq!(v["details"]["san"], "mallory@evil.example");
        assert_eq!(v["details"]["issuer"], ACCOUNTS);
        assert_eq!(v["details"]["kind"], "precert");
    }

    #[test]
    fn burst() {
        let mut log = Log::new();
        let (key, _) = public_key_pem();
        let p = policy("[rules.burst]\nmax = 3\nwindow_seconds = 60\n");
        let mut engine = RuleEngine::new(p, RulesState::default());
        let t0 = wed(10, 0);
        // Benign: alice every 30 s (never more than 2 within 60 s), bob and carol 3 each
        // within a minute, a key many times (no time).
        let mut benign = Vec::new();
        for i in 0..6 {
            benign.push(log.sign("alice@example.com", ACCOUNTS, t0 + 30 * i, 1));
        }
        for who in ["bob@example.com", "carol@example.com"] {
            for i in 0..3 {
                benign.push(log.sign(who, ACCOUNTS, t0 + 10 * i, 1));
            }
        }
        for _ in 0..5 {
            benign.push(log.keyed(&key, 1));
        }
        assert_eq!(run(&mut engine, &benign), vec![]);

        // Crafted: dave signs twice keylessly (4 entries) within a minute: one alert, then
        // more entries in the same burst stay quiet; a later, separate burst alerts again.
        let t1 = t0 + 1000;
        let mut crafted = log.keyless("dave@example.com", ACCOUNTS, t1, 1);
        crafted.extend(log.keyless("dave@example.com", ACCOUNTS, t1 + 20, 2));
        crafted.push(log.sign("dave@example.com", ACCOUNTS, t1 + 40, 3));
        crafted.push(log.sign("dave@example.com", ACCOUNTS, t1 + 59, 3));
        let quiet = log.sign("dave@example.com", ACCOUNTS, t1 + 200, 3);
        crafted.push(quiet.clone());
        for i in 0..4 {
            crafted.push(log.sign("dave@example.com", ACCOUNTS, t1 + 500 + i, 4));
        }
        let alerts = run(&mut engine, &crafted);
        assert_eq!(
            summary(&alerts),
            vec![("burst", crafted[3].index), ("burst", crafted[10].index)]
        );
        assert_eq!(alerts[0].severity, Severity::Warning);
        assert_eq!(alerts[0].details["window_start"], json!(t1));
        assert_eq!(alerts[0].details["window_end"], json!(t1 + 20));
        assert!(alerts[0]
            .message
            .contains("dave@example.com (issuer https://accounts.example.com) has more than 3 entries within 60 seconds"));
    }

    #[test]
    fn burst_identities_are_bounded() {
        let mut log = Log::new();
        let p = policy("[rules.burst]\nmax = 1\nwindow_seconds = 3600\nmax_identities = 10\n");
        let mut engine = RuleEngine::new(p, RulesState::default());
        let t0 = wed(10, 0);
        for i in 0..30 {
            let e = log.sign(&format!("u{i}@example.com"), ACCOUNTS, t0 + i, 1);
            assert_eq!(engine.observe(&e), vec![]);
        }
        let state = engine.state();
        assert!(state.bursts.len() <= 10, "{}", state.bursts.len());
        // The most recent identity is still tracked: its second entry alerts.
        let again = log.sign("u29@example.com", ACCOUNTS, t0 + 40, 1);
        assert_eq!(
            summary(&engine.observe(&again)),
            vec![("burst", again.index)]
        );
    }

    #[test]
    fn state_survives_a_restart() {
        let mut log = Log::new();
        let text =
            "[rules.digest_multiple_identities]\n[rules.burst]\nmax = 3\nwindow_seconds = 60\n";
        let t0 = wed(10, 0);
        let mut run1 = RuleEngine::new(policy(text), RulesState::default());
        let first = vec![
            log.sign("alice@example.com", ACCOUNTS, t0, 7),
            log.sign("dave@example.com", ACCOUNTS, t0, 8),
            log.sign("dave@example.com", ACCOUNTS, t0 + 1, 8),
        ];
        assert_eq!(run(&mut run1, &first), vec![]);
        // The monitor writes the state into its JSON state file and reads it back.
        let saved = serde_json::to_string(&run1.state()).unwrap();
        let loaded: RulesState = serde_json::from_str(&saved).unwrap();
        assert_eq!(loaded, run1.state());

        let second = vec![
            log.sign("bob@example.com", ACCOUNTS, t0 + 5, 7),
            log.sign("dave@example.com", ACCOUNTS, t0 + 2, 8),
            log.sign("dave@example.com", ACCOUNTS, t0 + 3, 8),
        ];
        let mut run2 = RuleEngine::new(policy(text), loaded);
        assert_eq!(
            summary(&run(&mut run2, &second)),
            vec![
                ("digest_multiple_identities", second[0].index),
                ("burst", second[2].index)
            ]
        );
        // Without the saved state, run 2 sees nothing unusual.
        let mut fresh = RuleEngine::new(policy(text), RulesState::default());
        assert_eq!(run(&mut fresh, &second), vec![]);
        // The burst was reported: a third run does not report it again.
        let mut run3 = RuleEngine::new(policy(text), run2.state());
        let more = log.sign("dave@example.com", ACCOUNTS, t0 + 4, 8);
        assert_eq!(run3.observe(&more), vec![]);
        // Unknown state fields are refused rather than silently dropped.
        assert!(serde_json::from_str::<RulesState>(r#"{"digests":[],"x":1}"#).is_err());
        assert_eq!(
            serde_json::from_str::<RulesState>("{}").unwrap(),
            RulesState::default()
        );
    }

    /// The example policy file end to end: a benign day is silent, and each rule fires on its
    /// crafted entries.
    #[test]
    fn example_policy_benign_and_crafted() {
        let p = MonitorPolicy::from_toml(include_str!("../../../../testdata/monitor/policy.toml"))
            .unwrap();
        let mut engine = RuleEngine::new(p, RulesState::default());
        let mut log = Log::new();
        let (key, _) = public_key_pem();

        let mut benign = log.keyless("bob@example.com", ACCOUNTS, wed(9, 0), 1);
        benign.extend(log.keyless("carol@example.com", ACCOUNTS, wed(14, 0), 2));
        benign.push(log.attest(
            "https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main",
            GITHUB,
            wed(3, 0),
            b"{}",
        ));
        benign.push(log.keyed(&key, 3));
        assert_eq!(run(&mut engine, &benign), vec![]);

        let mut crafted = log.keyless("alice@example.com", ACCOUNTS, wed(10, 0), 4);
        crafted.push(log.issue("mallory@evil.example", ACCOUNTS, wed(10, 0)));
        crafted.push(log.sign("carol@example.com", ACCOUNTS, wed(15, 0), 1));
        crafted.push(log.sign("bob@example.com", ACCOUNTS, wed(23, 0), 5));
        let alerts = run(&mut engine, &crafted);
        assert_eq!(
            summary(&alerts),
            vec![
                ("watched_identity", crafted[0].index),
                ("watched_identity", crafted[1].index),
                ("identity_not_allowed", crafted[2].index),
                ("digest_multiple_identities", crafted[3].index),
                ("outside_working_hours", crafted[4].index),
            ]
        );
        // 101 signatures by one certificate within the hour: one burst alert.
        let (_, cert) = log.ca.issue("erin@example.com", ACCOUNTS, wed(16, 0));
        let mut burst = Vec::new();
        for i in 0..103u8 {
            burst.push(log.push(&hashedrekord([i.wrapping_add(100); 32], cert_pem(&cert))));
        }
        assert_eq!(
            summary(&run(&mut engine, &burst)),
            vec![("burst", burst[100].index)]
        );
    }

    /// Whole-value matching holds whatever the pattern's text: inline flags, `(?x)` comments
    /// and alternations stay inside the anchors.
    #[test]
    fn regex_matchers_match_whole_values() {
        let m = |re: &str| {
            TextMatch::compile("san", None, "san_regex", Some(re.to_owned()))
                .unwrap()
                .unwrap()
        };
        let alice = m(r"alice@example\.com");
        assert!(alice.is_match("alice@example.com"));
        for other in [
            "mallory",
            "mallory-alice@example.com",
            "alice@example.com\n",
            "",
        ] {
            assert!(!alice.is_match(other), "{other:?}");
        }
        // A `(?x)` comment used to swallow the closing `)$`.
        let commented = m("(?x) alice@example\\.com  # alice only");
        assert!(commented.is_match("alice@example.com"));
        assert!(!commented.is_match("bob@example.com"));
        let either = m("alice|bob");
        assert!(either.is_match("bob"));
        assert!(!either.is_match("alice|bob") && !either.is_match("bobby"));
        let multiline = m("(?m)^alice$");
        assert!(!multiline.is_match("alice\nmallory"));
    }
}
