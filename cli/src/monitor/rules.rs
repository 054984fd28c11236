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
//! An entry's identity is its certificate's SAN and OIDC issuer, or for a keyed entry its key
//! (`key sha256:<key_id>`). Its time is the certificate's notBefore (see
//! [`crate::monitor::entry`]): keyed entries have none, so the two time-based rules
//! (`working_hours`, `burst`) skip them unless the caller fills `time` in. The allowlist
//! applies to certificates only. Keyless signing logs two entries per signature (the precert
//! and the signature), so `watched_identity`, `outside_working_hours` and `burst` count both.
//!
//! # State across runs ([`RulesState`])
//!
//! * Digests: the last `max_digests` digests with up to [`MAX_IDENTITIES_PER_DIGEST`]
//!   identities each, oldest digest forgotten first. A digest signed by more identities than
//!   that keeps alerting for each identity beyond the bound.
//! * Bursts: for at most `max_identities` identities, their newest `max + 1` entry times and
//!   whether the current burst was reported; identities whose newest entry left the window are
//!   dropped, then the least recently active ones.
//!
//! A rule that is switched off leaves its part of the state as it was loaded.
//!
//! What this module does not do: read the log, verify anything, or send alerts (the monitor
//! loop in [`crate::monitor`] does).

// Until the monitor loop (crate::monitor) calls into this module, its items are used by tests
// only.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::macros::format_description;
use time::{OffsetDateTime, Time, UtcOffset, Weekday};

use crate::monitor::entry::{EntryKind, ObservedEntry};

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
    /// A regular expression does not compile.
    #[error("monitor policy: {field} is not a valid regular expression: {source}")]
    Regex {
        /// The field, e.g. `watch[0].san_regex`.
        field: String,
        /// The regex error.
        #[source]
        source: regex::Error,
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

/// Exact text or an anchored regular expression.
#[derive(Debug, Clone)]
enum TextMatch {
    Exact(String),
    Regex(Regex),
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
            (None, Some(r)) => Regex::new(&format!("^(?:{r})$"))
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

    fn matches(&self, e: &ObservedEntry) -> bool {
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

/// How an entry's identity is named in alerts and state: `"<san> (issuer <issuer>)"` for a
/// certificate, `"key sha256:<key_id>"` for a key; `None` when the entry has neither.
fn identity_of(e: &ObservedEntry) -> Option<String> {
    if e.has_certificate() {
        Some(format!(
            "{} (issuer {})",
            e.san.as_deref().unwrap_or("<no SAN>"),
            e.issuer.as_deref().unwrap_or("<none>")
        ))
    } else {
        e.key_id.as_ref().map(|k| format!("key sha256:{k}"))
    }
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

/// The entry fields every alert carries, plus `extra`.
fn details(e: &ObservedEntry, extra: Value) -> Value {
    let mut d = json!({
        "kind": e.kind.name(),
        "san": e.san,
        "issuer": e.issuer,
        "digest": e.digest,
        "key_id": e.key_id,
        "time": e.time,
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

    /// Runs every rule on one entry (entries must come in log order) and returns its alerts.
    pub(crate) fn observe(&mut self, e: &ObservedEntry) -> Vec<Alert> {
        let identity = identity_of(e);
        let mut alerts = Vec::new();
        if let Some(id) = &identity {
            alerts.extend(self.watch(e, id));
            alerts.extend(self.allowlist(e, id));
            alerts.extend(self.digest(e, id));
            alerts.extend(self.working_hours(e, id));
            alerts.extend(self.burst(e, id));
        }
        alerts
    }

    fn watch(&self, e: &ObservedEntry, id: &str) -> Option<Alert> {
        let names: Vec<String> = self
            .policy
            .watch
            .iter()
            .filter(|m| m.matches(e))
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
                action(e, id),
                names.join("; ")
            ),
            details: details(e, json!({ "identity": id, "watches": names })),
        })
    }

    fn allowlist(&self, e: &ObservedEntry, id: &str) -> Option<Alert> {
        let allowed = self.policy.allowlist.as_ref()?;
        if !e.has_certificate() || allowed.iter().any(|m| m.matches(e)) {
            return None;
        }
        Some(Alert {
            alert: "identity_not_allowed".into(),
            severity: Severity::Critical,
            log_index: Some(e.index),
            message: format!(
                "Entry {}: {}, which no allowlist entry matches.",
                e.index,
                action(e, id)
            ),
            details: details(e, json!({ "identity": id })),
        })
    }

    fn digest(&mut self, e: &ObservedEntry, id: &str) -> Option<Alert> {
        let rule = self.policy.digest.clone()?;
        let digest = e.digest.as_ref()?;
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
                json!({
                    "identity": id,
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

    fn working_hours(&self, e: &ObservedEntry, id: &str) -> Option<Alert> {
        let rule = self.policy.working_hours.as_ref()?;
        let t = e.time?;
        if !rule.identities.is_empty() && !rule.identities.iter().any(|m| m.matches(e)) {
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
                action(e, id),
                day_name(local.weekday()),
                rule.text
            ),
            details: details(
                e,
                json!({
                    "identity": id,
                    "local_time": when,
                    "weekday": day_name(local.weekday()),
                    "working_hours": rule.text,
                }),
            ),
        })
    }

    fn burst(&mut self, e: &ObservedEntry, id: &str) -> Option<Alert> {
        let rule = self.policy.burst.clone()?;
        let t = e.time?;
        let alert = self.count_burst(&rule, e, id, t);
        if self.bursts.len() > rule.max_identities {
            self.trim_bursts(&rule);
        }
        alert
    }

    /// Adds `t` to `id`'s window; an alert when this entry starts a burst.
    fn count_burst(
        &mut self,
        rule: &BurstRule,
        e: &ObservedEntry,
        id: &str,
        t: i64,
    ) -> Option<Alert> {
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
                json!({
                    "identity": id,
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
