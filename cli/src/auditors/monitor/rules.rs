//! The monitor's identity watch and anomaly rules: the engine that runs a loaded policy
//! ([`MonitorPolicy`], see [`super::policy`]) and turns each new log entry ([`ObservedEntry`])
//! into alerts.
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
//! # Policy file
//!
//! The policy file's format and its parsing are in [`super::policy`]; this module runs the
//! compiled [`MonitorPolicy`].
//!
//! # Identities and times
//!
//! An entry has one signer per signature ([`ObservedEntry::signers`]; dsse and intoto entries
//! may carry up to 16), and **every signer goes through every rule**: a watched key or a
//! disallowed certificate placed (or sorted) second alerts exactly as it would first. A
//! signer's identity is its certificate's SAN and OIDC issuer, or for a key the key
//! (`key sha256:<key_id>`). Its time is the certificate's notBefore (see
//! [`crate::auditors::monitor::entry`]): keys have none, so the two time-based rules
//! (`working_hours`, `burst`) skip them unless the caller fills `time` in. The allowlist applies to certificates
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

use std::collections::{HashMap, VecDeque};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::auditors::monitor::entry::{EntryKind, ObservedEntry, ObservedSigner};
use crate::auditors::monitor::policy::{day_name, BurstRule, IdentityMatcher, MonitorPolicy};

/// How many identities are remembered for one digest.
pub(crate) const MAX_IDENTITIES_PER_DIGEST: usize = 16;

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
    /// The base URL of the log concerned, when the monitor follows several (set by the
    /// monitor loop, not by the rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) log: Option<String>,
    /// The log index of the entry concerned, if any.
    pub(crate) log_index: Option<u64>,
    /// One human sentence naming what happened.
    pub(crate) message: String,
    /// Machine-readable details (the entry's identity, digest, time, and rule specifics).
    pub(crate) details: Value,
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
            log: None,
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
            log: None,
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
            log: None,
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
            log: None,
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
            log: None,
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
// Tests and test fixtures unwrap: a panic with its location is the failure report
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auditors::monitor::entry::observe;
    use crate::auditors::monitor::entry::testutil::{
        cert_pem, dsse, dsse_signed, hashedrekord, intoto, precert, public_key_pem, TestCa,
    };
    use time::macros::datetime;
    use time::Weekday;

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
}
