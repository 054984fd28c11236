//! `signet monitor`: follows every transparency log of the trust root (the Rekor v1 log, the
//! Rekor v2 log, frozen shards), checks that each stays append-only, runs the identity watch
//! and anomaly rules ([`rules`]) on every new entry, and raises `revoked_signer` when a
//! revoked certificate or key signs ([`revoked`]).
//!
//! Issues 7, 19 and 20. Specs: C2SP tlog-tiles and tlog-checkpoint (what is read; consistency
//! proofs are computed from the hash tiles, so a Rekor v2 log, which serves no proof API, is
//! followed like a v1 one), RFC 9162 §2.1.4 (`signet_proto::merkle::verify_consistency`),
//! Rekor v1 `GET /api/v1/log/entries?logIndex=` (integration times, only for revoked
//! signers).
//!
//! # The logs followed
//!
//! Without `--log`, every `tlogs` entry of the trust root, by `baseUrl` (its checkpoints
//! verified with that entry's key only): Signet's v1 log at `<public_url>` and its Rekor v2
//! log at `<public_url>/rekor-v2` (entries: rekor-tiles `hashedrekord` 0.0.2 bodies). A log
//! whose key windows (`validFor`) all have an end is a frozen shard: after that end the first
//! checkpoint the monitor verifies is its final one; it is not expected to grow (no alarm
//! while it stays as it is), and growing past it is `frozen_log_grew` (exit 3). With
//! `--log URL` (repeatable) only those logs, each verified with the keys of the trust root's
//! tlog of that `baseUrl`, or with every tlog key when none has it (a log reached at an
//! internal URL).
//!
//! The trust is re-read every `--trust-refresh` seconds (`crate::trust::refresh`: the TUF
//! mirror, or the `--trusted-root` file and the `crls.pem` and `trusted_keys.json` beside it),
//! so new logs and shards, CRLs and key revocations apply without a restart; a refresh that
//! fails keeps the trust in force (a line on stderr). A log that appears in a monitor whose
//! state already exists (a new shard) is analysed from its first entry.
//!
//! # One pass, for each log
//!
//! 1. `GET /checkpoint`, verify its signature with the log's keys (Rekor-style note line
//!    named after the `baseUrl` host, or the C2SP Ed25519 line of a v2 log).
//! 2. Compare it with the last verified checkpoint of that log in the state file: same
//!    origin; not smaller (`checkpoint_backwards`); at the same size the same root (`fork`);
//!    when larger, the consistency proof from the old size, computed from the log's tiles,
//!    must verify (`inconsistent_proof`).
//! 3. Fetch the entry bundles of the entries not yet analysed, feed each body to the rules
//!    (a body that does not parse is an `entry_unparseable` alert, not a crash) and to the
//!    revocation check, and append their leaf hashes onto the stored right edge of the tree
//!    (`signet_proto::tiles::integrate`). The computed root must equal the signed root (or,
//!    when `--max-entries-per-pass` stops short of it, be proven a prefix of the signed tree
//!    by a consistency proof): otherwise `root_mismatch`. This proves that the entries
//!    analysed are exactly the log's leaves. Alerts are only emitted once that check passed.
//! 4. Save the state atomically (temp file, fsync, rename): per log the checkpoint, the
//!    right-edge tiles at the analysed size and when the checkpoint was seen; the rules'
//!    [`rules::RulesState`], shared by all logs. The state never moves past a checkpoint that
//!    failed a check. A state file of the single-log format (version 1) is read as the state
//!    of its one log.
//!
//! On the first run (no state file) the monitor trusts the first checkpoint it sees of each log
//! (trust on first use) or starts from `--from-checkpoint` (for the log whose keys verify it);
//! it fetches that tree's right-edge tiles and checks they hash to its root. Entries before
//! that point are not analysed.
//!
//! # Alerts and exit codes
//!
//! Alerts are JSON lines on stdout (`{"alert","severity","log","log_index","message",
//! "details"}`, [`rules::Alert`]; `log` is the base URL of the log concerned) and, with
//! `--webhook`, each is POSTed as JSON to that URL (a failed POST is reported on stderr and does
//! not stop the monitor). Progress goes to stderr.
//!
//! | exit | meaning |
//! |---|---|
//! | 0 | no alert (with `--once`) |
//! | 2 | usage, configuration or other error (no alert decided); with `--once` also a log that does not answer within [`ONCE_RETRY_WINDOW`] |
//! | 3 | integrity alert: `bad_signature`, `witness_quorum`, `origin_changed`, `checkpoint_backwards`, `fork`, `inconsistent_proof`, `root_mismatch`, `bad_response`, `frozen_log_grew` (the monitor stops) |
//! | 4 | `log_unreachable`: a log gave no answer for longer than `--unreachable-after` (the monitor stops) |
//! | 5 | with `--once`: rule, `revoked_signer` or `entry_unparseable` alerts only |
//!
//! Without `--once` the monitor polls every `--interval` and only exits on codes 2, 3 and 4.
//! With `--once` a log that does not answer is retried for a few seconds
//! ([`ONCE_RETRY_WINDOW`]), then the monitor prints one line naming the log and the cause and
//! exits 2, or raises `log_unreachable` (exit 4) once the log has not answered for
//! `--unreachable-after` (the start of the outage is kept in the state file, so repeated
//! `--once` runs from cron add up).
//!
//! With `--witness-policy` every checkpoint must also carry the policy's quorum of valid
//! cosignature/v1 lines (`witness_quorum`, exit 3).
//!
//! What this module does not do: check entry signatures (the log
//! did when it accepted them), or detect a split view shown to other clients (compare
//! checkpoints with witnesses for that).

pub(crate) mod entry;
pub(crate) mod policy;
mod revoked;
pub(crate) mod rules;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use signet_proto::checkpoint::Checkpoint;
use signet_proto::merkle::{verify_consistency, Hash};
use signet_proto::trust::TrustedRoot;

use crate::auditors::state::{self as state_file, StateFile};
use crate::auditors::tlog::{
    fetch_edge, now_unix, parse_duration, parse_verified, BundleStream, Edge, EdgeState,
    FetchError, LogClient, LogTrust,
};
use crate::trust::refresh::{self, Refreshed, Refresher};
use policy::MonitorPolicy;
use revoked::{Integrated, Revocations};
use rules::{Alert, RuleEngine, RulesState, Severity};

/// Exit code: an integrity alert.
pub(crate) const EXIT_INTEGRITY: u8 = 3;
/// Exit code: the log did not answer for longer than `--unreachable-after`.
pub(crate) const EXIT_UNREACHABLE: u8 = 4;
/// Exit code (`--once`): rule alerts only.
pub(crate) const EXIT_RULES: u8 = 5;

/// With `--once`: how long a log that does not answer is retried before the run gives up.
const ONCE_RETRY_WINDOW: Duration = Duration::from_secs(10);

/// With `--once`: the pause between two attempts within [`ONCE_RETRY_WINDOW`].
const ONCE_RETRY_PAUSE: Duration = Duration::from_secs(2);

const EXIT_HELP: &str = "\
Exit codes:
  0  no alert (--once)
  2  usage, configuration or other error; with --once also a log that does not answer within
     about 10 s (one line naming the log and the cause)
  3  integrity alert (bad signature, witness quorum, origin changed, checkpoint backwards, fork,
     inconsistent proof, root mismatch, bad response, frozen log grew); the monitor stops
  4  a log unreachable for longer than --unreachable-after; the monitor stops
  5  rule, revoked signer or unparseable entry alerts only (--once)
Alerts are JSON lines on stdout (and POSTed to --webhook); progress goes to stderr.";

/// Leaves appended to the edge at a time (bounds memory for large passes).
const CHUNK_LEAVES: usize = 16 * 256;

/// Arguments of `signet monitor`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_HELP)]
pub(crate) struct MonitorArgs {
    /// Base URL of a log to follow (serving /checkpoint and /tile/...); repeatable. Default:
    /// every transparency log of the trusted root (its tlogs' baseUrl: the v1 and v2 logs and
    /// frozen shards).
    #[arg(long, value_name = "URL")]
    log: Vec<String>,
    /// trusted_root.json holding the logs' keys (tlogs), with crls.pem and trusted_keys.json
    /// beside it when published. Default: the TUF-verified one of the mirror `signet trust init
    /// --mirror` set up.
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// State file (JSON): per log the last verified checkpoint and right-edge tiles; the rules
    /// state. Created on the first run.
    #[arg(long, value_name = "FILE")]
    state: PathBuf,
    /// Make one pass and exit (exit code 0, 3, 4 or 5).
    #[arg(long)]
    once: bool,
    /// Time between passes without --once (e.g. 500ms, 10s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    interval: Duration,
    /// First run: start from this signed checkpoint note (of the log whose keys verify it)
    /// instead of trusting the first checkpoint seen.
    #[arg(long, value_name = "FILE")]
    from_checkpoint: Option<PathBuf>,
    /// Raise `log_unreachable` (exit 4) when a log has not answered for this long.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    unreachable_after: Duration,
    /// Identity watch and anomaly rules (TOML, see testdata/monitor/policy.toml).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// POST each alert as JSON to this URL.
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    /// Analyse at most this many new entries per log and pass (the rest in later passes).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_entries_per_pass: Option<u64>,
    /// Require every checkpoint to carry the quorum of witness cosignatures of this policy
    /// (`witness NAME VKEY [URL]` lines, `quorum K`); otherwise `witness_quorum` (exit 3).
    #[arg(long, value_name = "FILE")]
    witness_policy: Option<PathBuf>,
    /// Entry bundles fetched concurrently.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    concurrency: u64,
    /// Re-read the trust (TUF mirror, or --trusted-root and the files beside it) every SECS
    /// seconds between passes: new logs, shards, CRLs and key revocations apply without a
    /// restart; a failed refresh keeps the trust in force. 0: read it at start only.
    #[arg(long, value_name = "SECS", default_value_t = refresh::DEFAULT_INTERVAL_SECS)]
    trust_refresh: u64,
}

/// The state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MonitorState {
    /// Format version (2).
    version: u32,
    /// Each log followed, by base URL.
    logs: BTreeMap<String, LogState>,
    /// The rules' memory (shared by all logs: a digest signed in two logs by two identities
    /// is a digest signed by several identities).
    #[serde(default)]
    rules: RulesState,
}

/// The state of one log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogState {
    /// The newest checkpoint note that passed every check.
    checkpoint: String,
    /// The tree analysed so far (a prefix of `checkpoint`'s tree, usually all of it): its
    /// right-edge tiles.
    analysed: EdgeState,
    /// Unix time the log stopped answering, while it does not answer.
    #[serde(default)]
    unreachable_since: Option<i64>,
    /// Unix time of the last completed pass that changed the state.
    #[serde(default)]
    last_pass: Option<i64>,
    /// Entries analysed since the state was created.
    #[serde(default)]
    entries_analysed: u64,
    /// The last checkpoint's size and the Unix time it was fetched: entries at or beyond that
    /// size were integrated after that time (see [`revoked`]).
    #[serde(default)]
    seen: Option<Seen>,
    /// For a frozen shard: the size of its final checkpoint (the first one verified after the
    /// end of its key windows).
    #[serde(default)]
    final_size: Option<u64>,
}

/// A checkpoint size and when it was fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Seen {
    size: u64,
    at: i64,
}

const STATE_VERSION: u32 = 2;

impl StateFile for MonitorState {
    const WHAT: &'static str = "monitor state";
    const VERSION: u32 = STATE_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}

/// The single-log state file of earlier versions (version 1), read as the state of its log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MonitorStateV1 {
    #[allow(dead_code)]
    version: u32,
    log: String,
    checkpoint: String,
    analysed: EdgeState,
    #[serde(default)]
    rules: RulesState,
    #[serde(default)]
    unreachable_since: Option<i64>,
    #[serde(default)]
    last_pass: Option<i64>,
    #[serde(default)]
    entries_analysed: u64,
}

/// Reads the state file: `None` when there is none; version 1 is converted.
fn load_state(path: &Path) -> anyhow::Result<Option<MonitorState>> {
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("reading monitor state {}", path.display()))
        }
    };
    let v: Version = signet_proto::json::from_slice(&bytes)
        .with_context(|| format!("parsing monitor state {}", path.display()))?;
    if v.version != 1 {
        return state_file::load(path);
    }
    let old: MonitorStateV1 = signet_proto::json::from_slice(&bytes)
        .with_context(|| format!("parsing monitor state {}", path.display()))?;
    eprintln!(
        "signet monitor: note: {} is a single-log state (version 1): read as the state of {}",
        path.display(),
        old.log
    );
    let mut logs = BTreeMap::new();
    logs.insert(
        old.log,
        LogState {
            checkpoint: old.checkpoint,
            analysed: old.analysed,
            unreachable_since: old.unreachable_since,
            last_pass: old.last_pass,
            entries_analysed: old.entries_analysed,
            seen: None,
            final_size: None,
        },
    );
    Ok(Some(MonitorState {
        version: STATE_VERSION,
        logs,
        rules: old.rules,
    }))
}

// ---------------------------------------------------------------------------------------------
// Trust
// ---------------------------------------------------------------------------------------------

/// What the monitor takes from the trust root (reloaded by the trust refresh).
struct MonitorTrust {
    root: TrustedRoot,
    /// Every tlog key (for `--log` URLs the trust root does not name, and witness checks).
    all: LogTrust,
    revocations: Revocations,
}

/// Reads `trusted_root.json` and the `crls.pem` and `trusted_keys.json` beside it.
fn load_trust(path: &Path) -> anyhow::Result<MonitorTrust> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let root =
        TrustedRoot::from_json(&bytes).with_context(|| format!("parsing {}", path.display()))?;
    let all = LogTrust::from_root(&root, None).with_context(|| path.display().to_string())?;
    let crls_path = path.with_file_name(crate::trust::repo::CRLS_TARGET);
    let crls = match std::fs::read(&crls_path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", crls_path.display())),
    };
    let material = match signet_verifier::trust::TrustMaterial::from_trusted_root(&root) {
        Ok(mut m) => {
            if let Some(text) = &crls {
                let blocks = pem::parse_many(text)
                    .with_context(|| format!("invalid CRL file {}", crls_path.display()))?;
                for b in blocks.iter().filter(|b| b.tag() == "X509 CRL") {
                    m.add_crl(b.contents())
                        .with_context(|| format!("unusable CRL in {}", crls_path.display()))?;
                }
            }
            Some(m)
        }
        Err(e) if crls.is_some() => {
            return Err(anyhow::anyhow!(
                "{}: CRLs in {} but no usable CA to check them with: {e}",
                path.display(),
                crls_path.display()
            ))
        }
        Err(_) => None,
    };
    let keys_path = path.with_file_name(crate::trust::repo::TRUSTED_KEYS_TARGET);
    let keys = match std::fs::read(&keys_path) {
        Ok(b) => Some(
            signet_verifier::trusted_keys::TrustedKeys::from_json(&b)
                .with_context(|| format!("trusted keys {}", keys_path.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", keys_path.display())),
    };
    Ok(MonitorTrust {
        root,
        all,
        revocations: Revocations { material, keys },
    })
}

/// One log to follow.
struct Target {
    /// Its base URL (the state's key, the `log` of its alerts).
    url: String,
    /// Its checkpoint keys.
    trust: LogTrust,
    /// For a frozen shard: the end of its last key window (Unix seconds).
    frozen_after: Option<i64>,
}

/// The logs to follow under `trust`: the `--log` URLs, else every tlog `baseUrl`.
fn targets(trust: &MonitorTrust, given: &[String]) -> anyhow::Result<Vec<Arc<Target>>> {
    let mut urls: Vec<String> = given.to_vec();
    if urls.is_empty() {
        for t in &trust.root.tlogs {
            if !urls.contains(&t.base_url) {
                urls.push(t.base_url.clone());
            }
        }
    }
    let mut out = Vec::with_capacity(urls.len());
    for url in urls {
        let named: Vec<_> = trust
            .root
            .tlogs
            .iter()
            .filter(|t| t.base_url.trim_end_matches('/') == url.trim_end_matches('/'))
            .collect();
        let (log_trust, frozen_after) = if named.is_empty() {
            (LogTrust::from_root(&trust.root, None)?, None)
        } else {
            let ends: Option<Vec<i64>> = named
                .iter()
                .map(|t| {
                    t.public_key
                        .valid_for
                        .as_ref()
                        .and_then(|w| w.end.as_ref())
                        .map(signet_proto::bundle::Timestamp::unix_seconds)
                })
                .collect();
            (
                LogTrust::from_root(&trust.root, Some(&named[0].base_url))
                    .with_context(|| format!("the log {url}"))?,
                ends.and_then(|e| e.into_iter().max()),
            )
        };
        out.push(Arc::new(Target {
            url,
            trust: log_trust,
            frozen_after,
        }));
    }
    anyhow::ensure!(
        !out.is_empty(),
        "no log to follow: the trusted root lists no transparency log (give --log URL)"
    );
    // Active logs first: after a shard change, the active log's pass hands its state over
    // to the frozen shard before that shard's first pass (`Monitor::shard_handover`).
    out.sort_by_key(|t| t.frozen_after.is_some());
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Passes
// ---------------------------------------------------------------------------------------------

/// Why a pass stopped.
enum Failure {
    /// A check failed: the alert to raise (exit 3).
    Integrity(Box<Alert>),
    /// The log did not answer.
    Unreachable(FetchError),
    /// Anything else (exit 2).
    Fatal(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::Fatal(e)
    }
}

fn integrity(kind: &str, message: String, details: Value) -> Failure {
    Failure::Integrity(Box::new(Alert {
        alert: kind.to_owned(),
        severity: Severity::Critical,
        log: None,
        log_index: None,
        message,
        details,
    }))
}

/// A fetch error during a pass: unreachable, or the log answered something wrong.
fn fetch_failure(e: FetchError, what: &str) -> Failure {
    if e.is_unreachable() {
        Failure::Unreachable(e)
    } else {
        integrity(
            "bad_response",
            format!("the log answered wrongly while {what}: {e}"),
            json!({ "error": e.to_string() }),
        )
    }
}

/// What a successful pass over one log did.
struct PassReport {
    checkpoint_size: u64,
    analysed_from: u64,
    analysed_to: u64,
    rule_alerts: usize,
    seconds: f64,
    save_seconds: f64,
}

/// Prints alerts and posts them to the webhook.
struct Alerter {
    webhook: Option<(reqwest::Client, String)>,
}

impl Alerter {
    async fn emit(&self, alert: &Alert) {
        let line = serde_json::to_string(alert).unwrap_or_else(|e| {
            format!("{{\"alert\":\"serialization_error\",\"message\":\"{e}\"}}")
        });
        // Identities come from entries anyone may submit: control and bidi characters are
        // written as JSON escapes, so the line reads on a terminal as it parses.
        let line = signet_proto::text::escape_deceptive_in_json(&line).into_owned();
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
        if let Some((client, url)) = &self.webhook {
            let sent = client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(line)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => eprintln!(
                    "signet monitor: webhook {url} answered {} for alert {}",
                    r.status(),
                    alert.alert
                ),
                Err(e) => eprintln!(
                    "signet monitor: webhook {url} failed for alert {}: {e}",
                    alert.alert
                ),
            }
        }
    }
}

struct Monitor {
    args: MonitorArgs,
    refresher: Option<Arc<Refresher<MonitorTrust>>>,
    last_refresh: Instant,
    trust: Arc<MonitorTrust>,
    targets: Vec<Arc<Target>>,
    clients: HashMap<String, LogClient>,
    /// Logs that answered 404 to the Rekor v1 entry API (no integration times).
    no_v1_api: HashSet<String>,
    /// Per-request timeout of the log clients.
    timeout: Duration,
    /// Witness keys and quorum every checkpoint must carry (`--witness-policy`).
    witnesses: Option<(signet_proto::note::Verifiers, usize)>,
    policy: MonitorPolicy,
    engine: RuleEngine,
    state: MonitorState,
    /// Whether the state file existed at start (a log first seen then starts at entry 0).
    had_state: bool,
    /// When each log stopped answering.
    down_since: HashMap<String, i64>,
}

/// Runs `signet monitor`.
pub(crate) fn run(args: MonitorArgs) -> anyhow::Result<ExitCode> {
    let (source, root_path) = refresh::Source::at_start(args.trusted_root.as_deref())?;
    let refresher = Arc::new(Refresher::start(source, &root_path, Box::new(load_trust))?);
    let trust = refresher.shared().load();
    let witnesses = match &args.witness_policy {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let wp = signet_proto::witness::WitnessPolicyFile::parse(&text)
                .with_context(|| format!("witness policy {}", p.display()))?;
            let v = wp
                .verifiers()
                .with_context(|| format!("witness policy {}", p.display()))?;
            wp.check_not_log_keys(&trust.all.log_keys())
                .with_context(|| format!("witness policy {}", p.display()))?;
            Some((v, wp.quorum))
        }
        None => None,
    };
    let policy = match &args.policy {
        Some(p) => MonitorPolicy::load(p)?,
        None => MonitorPolicy::default(),
    };
    let loaded = load_state(&args.state)?;
    if loaded.is_some() && args.from_checkpoint.is_some() {
        eprintln!(
            "signet monitor: note: {} exists, so --from-checkpoint is ignored",
            args.state.display()
        );
    }
    let had_state = loaded.is_some();
    let state = loaded.unwrap_or(MonitorState {
        version: STATE_VERSION,
        logs: BTreeMap::new(),
        rules: RulesState::default(),
    });
    let engine = RuleEngine::new(policy.clone(), state.rules.clone());
    // A request may not take longer than the time after which the log counts as unreachable.
    let timeout = args
        .unreachable_after
        .clamp(Duration::from_secs(2), Duration::from_secs(30));
    let webhook = match &args.webhook {
        Some(url) => Some((
            signet_net::client_builder()
                .timeout(Duration::from_secs(10))
                .build()
                .context("building the webhook client")?,
            url.clone(),
        )),
        None => None,
    };
    let targets = targets(&trust, &args.log)?;
    let down_since = state
        .logs
        .iter()
        .filter_map(|(u, s)| s.unreachable_since.map(|t| (u.clone(), t)))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let refresher = (!args.once && args.trust_refresh > 0).then_some(refresher);
    let mut monitor = Monitor {
        witnesses,
        args,
        refresher,
        last_refresh: Instant::now(),
        trust,
        targets,
        clients: HashMap::new(),
        no_v1_api: HashSet::new(),
        timeout,
        policy,
        engine,
        state,
        had_state,
        down_since,
    };
    let alerter = Alerter { webhook };
    runtime.block_on(monitor.run(&alerter))
}

impl Monitor {
    async fn run(&mut self, alerter: &Alerter) -> anyhow::Result<ExitCode> {
        let run_started = Instant::now();
        let mut rule_alerts = 0usize;
        loop {
            let started = Instant::now();
            self.refresh_trust().await;
            let mut down: Vec<(String, FetchError)> = Vec::new();
            for target in self.targets.clone() {
                match self.pass(&target, alerter).await {
                    Ok(report) => {
                        if self.down_since.remove(&target.url).is_some() {
                            eprintln!("signet monitor: the log {} answers again", target.url);
                        }
                        rule_alerts += report.rule_alerts;
                        eprintln!(
                            "signet monitor: pass ok: {}: checkpoint {}, analysed {} -> {} (+{} entries in {:.2}s, {:.0} entries/s), {} rule alerts, state saved in {:.3}s",
                            target.url,
                            report.checkpoint_size,
                            report.analysed_from,
                            report.analysed_to,
                            report.analysed_to - report.analysed_from,
                            report.seconds,
                            rate(report.analysed_to - report.analysed_from, report.seconds),
                            report.rule_alerts,
                            report.save_seconds
                        );
                    }
                    Err(Failure::Integrity(mut alert)) => {
                        self.reset_engine();
                        alert.log = Some(target.url.clone());
                        alerter.emit(&alert).await;
                        eprintln!(
                            "signet monitor: integrity alert ({}): {}",
                            target.url, alert.message
                        );
                        return Ok(ExitCode::from(EXIT_INTEGRITY));
                    }
                    Err(Failure::Fatal(e)) => {
                        return Err(e.context(format!("following the log {}", target.url)))
                    }
                    Err(Failure::Unreachable(e)) => {
                        self.reset_engine();
                        down.push((target.url.clone(), e));
                    }
                }
            }
            if down.is_empty() {
                if self.args.once {
                    return Ok(if rule_alerts > 0 {
                        ExitCode::from(EXIT_RULES)
                    } else {
                        ExitCode::SUCCESS
                    });
                }
                let elapsed = started.elapsed();
                tokio::time::sleep(self.args.interval.saturating_sub(elapsed)).await;
                continue;
            }
            let now = now_unix();
            let mut left = self.args.unreachable_after;
            for (url, e) in &down {
                let since = *self.down_since.entry(url.clone()).or_insert(now);
                self.record_unreachable(url, since);
                let down_for = Duration::from_secs(u64::try_from(now - since).unwrap_or(0));
                if !self.args.once {
                    eprintln!(
                        "signet monitor: the log {url} does not answer (for {}s): {e}",
                        down_for.as_secs()
                    );
                }
                if down_for >= self.args.unreachable_after {
                    if self.args.once {
                        eprintln!("signet monitor: the log {url} does not answer: {e}");
                    }
                    let alert = Alert {
                        alert: "log_unreachable".to_owned(),
                        severity: Severity::Critical,
                        log: Some(url.clone()),
                        log_index: None,
                        message: format!(
                            "the log {url} has not answered for {}s (limit {}s): {e}",
                            down_for.as_secs(),
                            self.args.unreachable_after.as_secs_f64()
                        ),
                        details: json!({
                            "log": url,
                            "since": since,
                            "seconds": down_for.as_secs(),
                            "error": e.to_string(),
                        }),
                    };
                    alerter.emit(&alert).await;
                    return Ok(ExitCode::from(EXIT_UNREACHABLE));
                }
                left = left.min(self.args.unreachable_after.saturating_sub(down_for));
            }
            let wait = if self.args.once {
                let tried = run_started.elapsed();
                if tried + ONCE_RETRY_PAUSE > ONCE_RETRY_WINDOW
                    && left > ONCE_RETRY_WINDOW.saturating_sub(tried)
                {
                    let (url, e) = &down[0];
                    anyhow::bail!(
                        "the log {url} does not answer: {e} (tried for {}s; log_unreachable is raised once it has not answered for --unreachable-after {}s)",
                        tried.as_secs(),
                        self.args.unreachable_after.as_secs()
                    );
                }
                ONCE_RETRY_PAUSE
            } else {
                self.args.interval
            };
            tokio::time::sleep(wait.min(left).max(Duration::from_millis(100))).await;
        }
    }

    /// Re-reads the trust once `--trust-refresh` has passed (not with `--once`): a changed
    /// trust replaces the logs followed and the revocations; a failure keeps them.
    async fn refresh_trust(&mut self) {
        let Some(refresher) = &self.refresher else {
            return;
        };
        if self.last_refresh.elapsed() < Duration::from_secs(self.args.trust_refresh) {
            return;
        }
        self.last_refresh = Instant::now();
        let r = Arc::clone(refresher);
        let result = tokio::task::spawn_blocking(move || r.refresh_once()).await;
        match result {
            Ok(Ok(Refreshed::Unchanged)) => {}
            Ok(Ok(Refreshed::Changed)) => {
                let trust = refresher.shared().load();
                match targets(&trust, &self.args.log) {
                    Ok(t) => {
                        let urls: Vec<&str> = t.iter().map(|t| t.url.as_str()).collect();
                        eprintln!(
                            "signet monitor: trust refreshed from {}: following {}",
                            refresher.source().describe(),
                            urls.join(", ")
                        );
                        self.targets = t;
                        self.trust = trust;
                    }
                    Err(e) => eprintln!(
                        "signet monitor: warning: the refreshed trust names no log to follow ({}); keeping the logs followed so far",
                        crate::errors::chain(e.as_ref())
                    ),
                }
            }
            Ok(Err(e)) => eprintln!(
                "signet monitor: warning: trust refresh from {} failed; the trust loaded before stays in force: {}",
                refresher.source().describe(),
                crate::errors::chain(e.as_ref())
            ),
            Err(e) => eprintln!("signet monitor: warning: trust refresh task failed: {e}"),
        }
    }

    /// Rebuilds the rule engine from the last saved rules state (after a pass that did not
    /// complete, whose entries will be analysed again).
    fn reset_engine(&mut self) {
        self.engine = RuleEngine::new(self.policy.clone(), self.state.rules.clone());
    }

    fn record_unreachable(&mut self, url: &str, since: i64) {
        if let Some(s) = self.state.logs.get_mut(url) {
            if s.unreachable_since != Some(since) {
                s.unreachable_since = Some(since);
                if let Err(e) = state_file::save(&self.args.state, &self.state) {
                    eprintln!("signet monitor: {}", crate::errors::chain(e.as_ref()));
                }
            }
        }
    }

    fn client(&mut self, url: &str) -> Result<LogClient, Failure> {
        if let Some(c) = self.clients.get(url) {
            return Ok(c.clone());
        }
        let c = LogClient::new(url, self.timeout, 2)?;
        self.clients.insert(url.to_owned(), c.clone());
        Ok(c)
    }

    /// Verifies a fetched checkpoint note with `target`'s keys.
    fn verify_note(&self, target: &Target, note: &[u8]) -> Result<Checkpoint, Failure> {
        if let Some((witnesses, quorum)) = &self.witnesses {
            // The shared quorum rule (distinct witness keys, the log's own keys excluded).
            let cosigned = signet_proto::checkpoint::UnverifiedCheckpoint::parse(note)
                .map_err(|e| e.to_string())
                .and_then(|cp| {
                    signet_proto::witness::check_quorum(
                        cp.note(),
                        witnesses,
                        *quorum,
                        &self.trust.all.log_keys(),
                    )
                    .map(|_| ())
                    .map_err(|e| e.to_string())
                });
            if let Err(e) = cosigned {
                return Err(integrity(
                    "witness_quorum",
                    format!(
                        "the checkpoint of {} lacks {quorum} valid witness cosignatures: {e}",
                        target.url
                    ),
                    json!({
                        "error": e,
                        "quorum": quorum,
                        "checkpoint": String::from_utf8_lossy(note),
                    }),
                ));
            }
        }
        target.trust.verify(note).map_err(|e| {
            integrity(
                "bad_signature",
                format!(
                    "the checkpoint of {} does not verify with the trusted log keys ({}): {e}",
                    target.url,
                    target.trust.names().join(", ")
                ),
                json!({
                    "error": e.to_string(),
                    "checkpoint": String::from_utf8_lossy(note),
                }),
            )
        })
    }

    /// The state of the same log followed at another URL (a mirror, or the log moved): the
    /// same origin, its saved checkpoint signed by this target's keys. A log is its origin and
    /// keys, not its URL, so its state carries over and a fork served at the new URL is
    /// caught against what was seen before.
    fn same_log_elsewhere(&self, target: &Target, cp: &Checkpoint) -> Option<LogState> {
        let (url, saved) = self.state.logs.iter().find(|(url, saved)| {
            **url != target.url
                && parse_verified(&saved.checkpoint).is_ok_and(|old| old.origin == cp.origin)
                && target.trust.verify(saved.checkpoint.as_bytes()).is_ok()
        })?;
        eprintln!(
            "signet monitor: {}: the log {:?} this state follows at {url}: checking it against that state",
            target.url, cp.origin
        );
        Some(saved.clone())
    }

    /// A shard change (`signet log rotate`, docs/ROTATION.md): the log at `target.url` now
    /// serves a new tree (another origin), and the tree followed there so far is a frozen
    /// shard that the trust root lists at another URL, whose keys sign the saved checkpoint.
    /// The saved state moves to that shard (checked there up to its final checkpoint, with
    /// consistency to what was seen before) and the new tree is followed from its first
    /// entry. False: not a shard change (an origin change then raises `origin_changed`).
    fn shard_handover(&mut self, target: &Target, saved: &LogState, cp: &Checkpoint) -> bool {
        let Ok(old) = parse_verified(&saved.checkpoint) else {
            return false;
        };
        if old.origin == cp.origin {
            return false;
        }
        let Some(shard) = self
            .targets
            .iter()
            .find(|t| {
                t.url != target.url
                    && t.frozen_after.is_some()
                    && t.trust.verify(saved.checkpoint.as_bytes()).is_ok()
            })
            .cloned()
        else {
            return false;
        };
        eprintln!(
            "signet monitor: {}: a new tree (origin {:?}); the tree followed so far (origin {:?}, size {}) is the frozen shard {}: following it there, and the new tree from its first entry",
            target.url, cp.origin, old.origin, old.size, shard.url
        );
        self.state
            .logs
            .entry(shard.url.clone())
            .or_insert_with(|| saved.clone());
        self.state.logs.remove(&target.url);
        true
    }

    /// The first state of a log: on the first run its current checkpoint (trust on first
    /// use) or `--from-checkpoint`; a log first seen later (a new shard, or the new tree
    /// after a shard change: `new_tree`) from entry 0.
    async fn first_state(
        &self,
        target: &Target,
        client: &LogClient,
        current: &[u8],
        cp: &Checkpoint,
        new_tree: bool,
    ) -> Result<LogState, Failure> {
        let fresh = |note: &[u8], edge: &Edge| -> Result<LogState, Failure> {
            Ok(LogState {
                checkpoint: String::from_utf8_lossy(note).into_owned(),
                analysed: edge.to_state().map_err(|e| Failure::Fatal(e.into()))?,
                unreachable_since: None,
                last_pass: None,
                entries_analysed: 0,
                seen: None,
                final_size: None,
            })
        };
        if self.had_state || new_tree {
            eprintln!(
                "signet monitor: {}: a log new to this state: analysing it from its first entry (checkpoint size {})",
                target.url, cp.size
            );
            return fresh(current, &Edge::empty());
        }
        let from = match &self.args.from_checkpoint {
            Some(path) => {
                let note =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                match target.trust.verify(&note) {
                    Ok(start) => Some((note, start, path)),
                    Err(e) if self.targets.len() == 1 => {
                        return Err(Failure::Fatal(anyhow::anyhow!(
                            "{}: the checkpoint does not verify with the trusted log keys: {e}",
                            path.display()
                        )))
                    }
                    Err(_) => None,
                }
            }
            None => None,
        };
        let (note, start) = match from {
            Some((note, start, path)) => {
                eprintln!(
                    "signet monitor: first run: {}: starting from {} (size {})",
                    target.url,
                    path.display(),
                    start.size
                );
                (note, start)
            }
            None => {
                eprintln!(
                    "signet monitor: first run: {}: trusting the log's current checkpoint (size {}, origin {:?})",
                    target.url, cp.size, cp.origin
                );
                (current.to_vec(), cp.clone())
            }
        };
        let edge = fetch_edge(client, start.size)
            .await
            .map_err(|e| fetch_failure(e, "fetching the first checkpoint's tiles"))?;
        let root = edge.root().map_err(|e| Failure::Fatal(e.into()))?;
        if root != start.root {
            return Err(integrity(
                "root_mismatch",
                format!(
                    "the log's tiles at size {} hash to {}, not to its signed root {}",
                    start.size,
                    hex::encode(root),
                    hex::encode(start.root)
                ),
                json!({"size": start.size, "computed": hex::encode(root), "signed": hex::encode(start.root)}),
            ));
        }
        fresh(&note, &edge)
    }

    /// Checks `new` (verified) against the last verified checkpoint `old`.
    async fn check_consistency(
        client: &LogClient,
        old: &Checkpoint,
        new: &Checkpoint,
        new_note: &[u8],
    ) -> Result<(), Failure> {
        let details = || {
            json!({
                "old_size": old.size,
                "old_root": hex::encode(old.root),
                "new_size": new.size,
                "new_root": hex::encode(new.root),
                "checkpoint": String::from_utf8_lossy(new_note),
            })
        };
        if new.origin != old.origin {
            return Err(integrity(
                "origin_changed",
                format!(
                    "the log's origin changed from {:?} to {:?}",
                    old.origin, new.origin
                ),
                details(),
            ));
        }
        if new.size < old.size {
            return Err(integrity(
                "checkpoint_backwards",
                format!(
                    "the log's checkpoint went backwards from size {} to {}",
                    old.size, new.size
                ),
                details(),
            ));
        }
        if new.size == old.size {
            if new.root != old.root {
                return Err(integrity(
                    "fork",
                    format!(
                        "two different roots signed at size {}: {} and {}",
                        new.size,
                        hex::encode(old.root),
                        hex::encode(new.root)
                    ),
                    details(),
                ));
            }
            return Ok(());
        }
        if old.size == 0 {
            return Ok(());
        }
        let proof = client
            .consistency_from_tiles(old.size, new.size)
            .await
            .map_err(|e| {
                if e.is_unreachable() {
                    Failure::Unreachable(e)
                } else {
                    let mut d = details();
                    d["error"] = json!(e.to_string());
                    integrity(
                        "inconsistent_proof",
                        format!(
                            "the log gave no valid consistency proof from size {} to {}: {e}",
                            old.size, new.size
                        ),
                        d,
                    )
                }
            })?;
        verify_consistency(old.size, new.size, &old.root, &new.root, &proof).map_err(|e| {
            let mut d = details();
            d["error"] = json!(e.to_string());
            d["proof"] = json!(proof.iter().map(hex::encode).collect::<Vec<_>>());
            integrity(
                "inconsistent_proof",
                format!(
                    "the consistency proof from size {} to {} does not verify (a fork or a rewritten log): {e}",
                    old.size, new.size
                ),
                d,
            )
        })
    }

    async fn pass(&mut self, target: &Target, alerter: &Alerter) -> Result<PassReport, Failure> {
        let t0 = Instant::now();
        let client = self.client(&target.url)?;
        let seen_at = now_unix();
        let known = self.state.logs.get(&target.url).cloned();
        let note = client.checkpoint().await.map_err(|e| {
            if known.is_none() && !e.is_unreachable() {
                Failure::Fatal(anyhow::anyhow!("{e}"))
            } else {
                fetch_failure(e, "fetching the checkpoint")
            }
        })?;
        let cp = self.verify_note(target, &note)?;
        let known = known.or_else(|| self.same_log_elsewhere(target, &cp));
        let (known, new_tree) = match known {
            Some(s) if self.shard_handover(target, &s, &cp) => (None, true),
            k => (k, false),
        };
        let mut ls = match known {
            Some(s) => s,
            None => {
                let s = self
                    .first_state(target, &client, &note, &cp, new_tree)
                    .await?;
                self.state.logs.insert(target.url.clone(), s.clone());
                state_file::save(&self.args.state, &self.state)?;
                s
            }
        };
        let old = parse_verified(&ls.checkpoint)
            .with_context(|| format!("{}: saved checkpoint", self.args.state.display()))?;
        let mut edge = ls
            .analysed
            .to_edge()
            .with_context(|| format!("{}: saved tiles", self.args.state.display()))?;
        let unchanged =
            ls.checkpoint.as_bytes() == note.as_slice() && ls.unreachable_since.is_none();
        Self::check_consistency(&client, &old, &cp, &note).await?;
        if let Some(end) = target.frozen_after {
            if seen_at > end {
                match ls.final_size {
                    Some(f) if cp.size > f => {
                        return Err(integrity(
                            "frozen_log_grew",
                            format!(
                                "the frozen log {} (its keys valid until {}) grew from its final size {f} to {}",
                                target.url,
                                crate::auditors::tlog::rfc3339(end),
                                cp.size
                            ),
                            json!({"final_size": f, "size": cp.size, "frozen_after": end, "checkpoint": String::from_utf8_lossy(&note)}),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        eprintln!(
                            "signet monitor: {} is frozen (its keys valid until {}): final checkpoint size {}",
                            target.url,
                            crate::auditors::tlog::rfc3339(end),
                            cp.size
                        );
                        ls.final_size = Some(cp.size);
                    }
                }
            }
        }

        let from = edge.size();
        let goal = match self.args.max_entries_per_pass {
            Some(max) => cp.size.min(from.saturating_add(max)),
            None => cp.size,
        };
        let alerts = if goal > from {
            self.analyse(target, &client, &mut edge, goal, &cp, ls.seen, seen_at)
                .await?
        } else {
            Vec::new()
        };
        // Alerts go out before the state is saved: if saving fails they are raised again by
        // the next pass (at least once, never lost).
        for a in &alerts {
            alerter.emit(a).await;
        }
        let rule_alerts = alerts.len();
        let seen = Seen {
            size: cp.size,
            at: seen_at,
        };
        let mut save_seconds = 0.0;
        let time_matters = self.trust.revocations.any();
        if goal > from || !unchanged || time_matters || ls.final_size.is_some() {
            if goal > from {
                self.state.rules = self.engine.state();
            }
            ls.checkpoint = String::from_utf8_lossy(&note).into_owned();
            ls.analysed = edge.to_state().map_err(|e| Failure::Fatal(e.into()))?;
            ls.unreachable_since = None;
            ls.last_pass = Some(now_unix());
            ls.entries_analysed += goal - from;
            ls.seen = Some(seen);
            self.state.logs.insert(target.url.clone(), ls);
            let t_save = Instant::now();
            state_file::save(&self.args.state, &self.state)?;
            save_seconds = t_save.elapsed().as_secs_f64();
        } else if let Some(s) = self.state.logs.get_mut(&target.url) {
            s.seen = Some(seen);
        }
        Ok(PassReport {
            checkpoint_size: cp.size,
            analysed_from: from,
            analysed_to: goal,
            rule_alerts,
            seconds: t0.elapsed().as_secs_f64(),
            save_seconds,
        })
    }

    /// When entry `index` (with `body`, signed by `signer`) was integrated, as far as known:
    /// the Rekor v1 `integratedTime`, else bounds from the checkpoints seen.
    async fn integrated(
        &mut self,
        client: &LogClient,
        index: u64,
        body: &[u8],
        signer_time: Option<i64>,
        prev: Option<Seen>,
        seen_at: i64,
    ) -> Result<Integrated, Failure> {
        if !self.no_v1_api.contains(client.base()) {
            match client.integrated_time(index, body).await {
                Ok(Some(t)) => return Ok(Integrated::At(t)),
                Ok(None) => {
                    self.no_v1_api.insert(client.base().to_owned());
                }
                Err(e) => return Err(fetch_failure(e, "reading an entry's integration time")),
            }
        }
        let after = prev.filter(|p| index >= p.size).map(|p| p.at);
        let after = match (after, signer_time) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        Ok(Integrated::Between {
            after,
            before: seen_at,
        })
    }

    /// Analyses entries `[edge.size(), goal)` and proves them against `cp`. Returns the
    /// alerts (not yet emitted).
    #[allow(clippy::too_many_arguments)]
    async fn analyse(
        &mut self,
        target: &Target,
        client: &LogClient,
        edge: &mut Edge,
        goal: u64,
        cp: &Checkpoint,
        prev: Option<Seen>,
        seen_at: i64,
    ) -> Result<Vec<Alert>, Failure> {
        let from = edge.size();
        let concurrency = usize::try_from(self.args.concurrency).unwrap_or(8);
        let mut stream = BundleStream::new(
            client.clone(),
            from,
            goal,
            false,
            concurrency,
            entry::observe,
        );
        let trust = Arc::clone(&self.trust);
        let check_revoked = trust.revocations.any();
        let mut alerts = Vec::new();
        let mut leaves: Vec<Hash> = Vec::with_capacity(CHUNK_LEAVES + 256);
        while let Some(bundle) = stream.next().await {
            let bundle = bundle.map_err(|e| fetch_failure(e, "fetching entry bundles"))?;
            let entries = bundle.entries.as_ref().map_err(|reason| {
                integrity(
                    "bad_response",
                    format!("entry bundle {} does not decode: {reason}", bundle.path),
                    json!({"bundle": bundle.path, "error": reason}),
                )
            })?;
            let first = bundle.first_index();
            for (index, observed) in &bundle.parsed {
                if *index >= goal {
                    break;
                }
                let k = usize::try_from(index - first).unwrap_or(usize::MAX);
                let (Some(leaf), Some((offset, body))) = (bundle.leaves.get(k), entries.get(k))
                else {
                    return Err(Failure::Fatal(anyhow::anyhow!(
                        "internal: entry {index} outside bundle {}",
                        bundle.path
                    )));
                };
                leaves.push(*leaf);
                match observed {
                    Ok(e) => {
                        alerts.extend(self.engine.observe(e).into_iter().map(|mut a| {
                            a.log = Some(target.url.clone());
                            a
                        }));
                        if check_revoked {
                            for signer in &e.signers {
                                let Some(r) = trust.revocations.of(signer) else {
                                    continue;
                                };
                                let when = self
                                    .integrated(client, *index, body, signer.time, prev, seen_at)
                                    .await?;
                                alerts.extend(revoked::judge(
                                    &target.url,
                                    *index,
                                    signer,
                                    &r,
                                    when,
                                ));
                            }
                        }
                    }
                    Err(err) => alerts.push(Alert {
                        alert: "entry_unparseable".to_owned(),
                        severity: Severity::Warning,
                        log: Some(target.url.clone()),
                        log_index: Some(*index),
                        message: format!("entry {index} does not parse: {err}"),
                        details: json!({
                            "error": err.to_string(),
                            "bundle": bundle.path,
                            "offset": offset,
                            "leaf_hash": hex::encode(leaf),
                        }),
                    }),
                }
            }
            if leaves.len() >= CHUNK_LEAVES {
                edge.append(&leaves).map_err(|e| Failure::Fatal(e.into()))?;
                leaves.clear();
            }
        }
        edge.append(&leaves).map_err(|e| Failure::Fatal(e.into()))?;
        if edge.size() != goal {
            return Err(Failure::Fatal(anyhow::anyhow!(
                "internal: analysed up to {} instead of {goal}",
                edge.size()
            )));
        }
        let root = edge.root().map_err(|e| Failure::Fatal(e.into()))?;
        let mismatch = |reason: String| {
            integrity(
                "root_mismatch",
                format!(
                    "the entries served for [{from}, {goal}) do not hash to the signed tree of size {}: {reason}",
                    cp.size
                ),
                json!({
                    "from": from,
                    "to": goal,
                    "computed_root": hex::encode(root),
                    "signed_size": cp.size,
                    "signed_root": hex::encode(cp.root),
                }),
            )
        };
        if goal == cp.size {
            if root != cp.root {
                return Err(mismatch(format!(
                    "computed root {}, signed root {}",
                    hex::encode(root),
                    hex::encode(cp.root)
                )));
            }
        } else {
            let proof = client
                .consistency_from_tiles(goal, cp.size)
                .await
                .map_err(|e| fetch_failure(e, "fetching tiles for a consistency proof"))?;
            verify_consistency(goal, cp.size, &root, &cp.root, &proof)
                .map_err(|e| mismatch(format!("no consistency with the signed tree: {e}")))?;
        }
        Ok(alerts)
    }
}

fn rate(n: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        n as f64 / secs
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A single-log state file of version 1 is read as the state of its log; the current
    /// version round-trips; another version is refused naming the file.
    #[test]
    fn version_1_state_is_read_as_one_log() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        let edge = Edge::empty().to_state().unwrap();
        let v1 = json!({
            "version": 1,
            "log": "http://log.example",
            "checkpoint": "log.example\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",
            "analysed": edge,
            "unreachable_since": 7,
            "entries_analysed": 3,
        });
        std::fs::write(&p, serde_json::to_vec(&v1).unwrap()).unwrap();
        let s = load_state(&p).unwrap().unwrap();
        assert_eq!(s.version, STATE_VERSION);
        let l = &s.logs["http://log.example"];
        assert_eq!((l.unreachable_since, l.entries_analysed), (Some(7), 3));
        assert_eq!(l.analysed, edge);
        state_file::save(&p, &s).unwrap();
        let back = load_state(&p).unwrap().unwrap();
        assert_eq!(back.logs.len(), 1);
        std::fs::write(&p, br#"{"version":9,"logs":{}}"#).unwrap();
        let e = format!("{:#}", load_state(&p).unwrap_err());
        assert!(e.contains("m.json") && e.contains("version 9"), "{e}");
        assert!(load_state(&dir.path().join("none.json")).unwrap().is_none());
    }
}
