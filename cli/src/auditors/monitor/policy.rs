//! The monitor's policy file: its TOML format, its parsing and checks, and the compiled
//! [`MonitorPolicy`] (identity matchers, working hours, bounds) that the rule engine
//! ([`super::rules`]) runs. A policy that loads is complete and in range: every error names
//! the field (`watch[0].san_regex`, `rules.burst.max`) and, from [`MonitorPolicy::load`], the
//! file.
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
//! What this module does not do: decide alerts or keep state across entries (the engine does).

use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;
use signet_verifier::policy::AnchoredRegex;
use time::macros::format_description;
use time::{OffsetDateTime, Time, UtcOffset, Weekday};

use crate::auditors::monitor::entry::ObservedSigner;

const DEFAULT_MAX_DIGESTS: usize = 100_000;
const DEFAULT_BURST_MAX: u64 = 100;
const DEFAULT_BURST_WINDOW: u64 = 3600;
const DEFAULT_MAX_IDENTITIES: usize = 10_000;

/// Why a policy file is rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum PolicyError {
    /// Not TOML, an unknown key, or a value of the wrong type (the message names the key).
    #[error("monitor policy: {}", crate::errors::chain(cause))]
    Toml {
        /// The TOML error (shown in the message, not a `source`: see [`crate::errors`]).
        cause: toml::de::Error,
    },
    /// A regular expression does not compile (on its own: see
    /// [`signet_verifier::policy::AnchoredRegex`]).
    #[error(
        "monitor policy: {field} is not a valid regular expression: {}",
        crate::errors::chain(cause)
    )]
    Regex {
        /// The field, e.g. `watch[0].san_regex`.
        field: String,
        /// The regex error (shown in the message, not a `source`: see [`crate::errors`]).
        cause: signet_verifier::error::PolicyError,
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
                .map_err(|cause| PolicyError::Regex {
                    field: regex_field.to_owned(),
                    cause,
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

    pub(super) fn matches(&self, e: &ObservedSigner) -> bool {
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
    pub(super) fn label(&self) -> String {
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
pub(crate) struct DigestRule {
    pub(super) max_digests: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct WorkingHours {
    pub(super) start: Time,
    pub(super) end: Time,
    pub(super) offset: UtcOffset,
    pub(super) days: Vec<Weekday>,
    pub(super) identities: Vec<IdentityMatcher>,
    /// e.g. `mon-fri 08:00-18:00 +02:00`, for messages.
    pub(super) text: String,
}

impl WorkingHours {
    pub(super) fn contains(&self, local: OffsetDateTime) -> bool {
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
pub(crate) struct BurstRule {
    pub(super) max: u64,
    pub(super) window_seconds: i64,
    pub(super) max_identities: usize,
}

/// A parsed, checked monitor policy (see the module docs for the file format).
#[derive(Debug, Clone, Default)]
pub(crate) struct MonitorPolicy {
    pub(super) watch: Vec<IdentityMatcher>,
    pub(super) digest: Option<DigestRule>,
    pub(super) working_hours: Option<WorkingHours>,
    pub(super) allowlist: Option<Vec<IdentityMatcher>>,
    pub(super) burst: Option<BurstRule>,
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

pub(super) fn day_name(d: Weekday) -> &'static str {
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
        let raw: RawPolicy = toml::from_str(text).map_err(|cause| PolicyError::Toml { cause })?;
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

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn policy(text: &str) -> MonitorPolicy {
        MonitorPolicy::from_toml(text).unwrap()
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
