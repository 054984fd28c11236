//! `signet monitor`: follows a transparency log, checks that it stays append-only, and runs the
//! identity watch and anomaly rules ([`rules`]) on every new entry.
//!
//! Issue 7. Specs: C2SP tlog-tiles and tlog-checkpoint (what is read), RFC 9162 §2.1.4
//! (consistency proofs, `signet_proto::merkle::verify_consistency`), Rekor v1
//! `GET /api/v1/log/proof`.
//!
//! # One pass
//!
//! 1. `GET /checkpoint`, verify its signature with the tlog keys of `--trusted-root`
//!    (Rekor-style note line named after the `baseUrl` host).
//! 2. Compare it with the last verified checkpoint of the state file: same origin; not smaller
//!    (`checkpoint_backwards`); at the same size the same root (`fork`); when larger, the log's
//!    consistency proof from the old size must verify (`inconsistent_proof`).
//! 3. Fetch the entry bundles of the entries not yet analysed, feed each body to the rules
//!    (a body that does not parse is an `entry_unparseable` alert, not a crash), and append
//!    their leaf hashes onto the stored right edge of the tree
//!    (`signet_proto::tiles::integrate`). The computed root must equal the signed root (or, when
//!    `--max-entries-per-pass` stops short of it, be proven a prefix of the signed tree by a
//!    consistency proof): otherwise `root_mismatch`. This proves that the entries analysed are
//!    exactly the log's leaves. Rule alerts are only emitted once that check passed.
//! 4. Save the state atomically (temp file, fsync, rename): the checkpoint, the right-edge tiles
//!    at the analysed size, and the rules' [`rules::RulesState`]. The state never moves past a
//!    checkpoint that failed a check.
//!
//! On the first run (no state file) the monitor trusts the first checkpoint it sees (trust on
//! first use) or starts from `--from-checkpoint`; it fetches that tree's right-edge tiles and
//! checks they hash to its root. Entries before that point are not analysed.
//!
//! # Alerts and exit codes
//!
//! Alerts are JSON lines on stdout (`{"alert","severity","log_index","message","details"}`,
//! [`rules::Alert`]) and, with `--webhook`, each is POSTed as JSON to that URL (a failed POST
//! is reported on stderr and does not stop the monitor). Progress goes to stderr.
//!
//! | exit | meaning |
//! |---|---|
//! | 0 | no alert (with `--once`) |
//! | 2 | usage, configuration or other error (no alert decided); with `--once` also a log that does not answer within [`ONCE_RETRY_WINDOW`] |
//! | 3 | integrity alert: `bad_signature`, `witness_quorum`, `origin_changed`, `checkpoint_backwards`, `fork`, `inconsistent_proof`, `root_mismatch`, `bad_response` (the monitor stops) |
//! | 4 | `log_unreachable`: no answer for longer than `--unreachable-after` (the monitor stops) |
//! | 5 | with `--once`: rule or `entry_unparseable` alerts only |
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
pub(crate) mod rules;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use signet_proto::checkpoint::Checkpoint;
use signet_proto::merkle::{verify_consistency, Hash};

use crate::auditors::state::{self as state_file, StateFile};
use crate::auditors::tlog::{
    fetch_edge, now_unix, parse_duration, parse_verified, BundleStream, Edge, EdgeState,
    FetchError, LogClient, LogTrust,
};
use policy::MonitorPolicy;
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
     inconsistent proof, root mismatch, bad response); the monitor stops
  4  log unreachable for longer than --unreachable-after; the monitor stops
  5  rule alerts only (--once)
Alerts are JSON lines on stdout (and POSTed to --webhook); progress goes to stderr.";

/// Leaves appended to the edge at a time (bounds memory for large passes).
const CHUNK_LEAVES: usize = 16 * 256;

/// Arguments of `signet monitor`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_HELP)]
pub(crate) struct MonitorArgs {
    /// Base URL of the log (serving /checkpoint, /tile/... and /api/v1/log/proof).
    #[arg(long, value_name = "URL")]
    log: String,
    /// trusted_root.json holding the log's key (tlogs). Default: the TUF-verified one of the
    /// mirror `signet trust init --mirror` set up.
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// State file (JSON): last verified checkpoint, right-edge tiles, rules state. Created on
    /// the first run.
    #[arg(long, value_name = "FILE")]
    state: PathBuf,
    /// Make one pass and exit (exit code 0, 3, 4 or 5).
    #[arg(long)]
    once: bool,
    /// Time between passes without --once (e.g. 500ms, 10s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    interval: Duration,
    /// First run: start from this signed checkpoint note instead of trusting the first
    /// checkpoint seen.
    #[arg(long, value_name = "FILE")]
    from_checkpoint: Option<PathBuf>,
    /// Raise `log_unreachable` (exit 4) when the log has not answered for this long.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    unreachable_after: Duration,
    /// Identity watch and anomaly rules (TOML, see testdata/monitor/policy.toml).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// POST each alert as JSON to this URL.
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    /// Analyse at most this many new entries per pass (the rest in later passes).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_entries_per_pass: Option<u64>,
    /// Require every checkpoint to carry the quorum of witness cosignatures of this policy
    /// (`witness NAME VKEY [URL]` lines, `quorum K`); otherwise `witness_quorum` (exit 3).
    #[arg(long, value_name = "FILE")]
    witness_policy: Option<PathBuf>,
    /// Entry bundles fetched concurrently.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    concurrency: u64,
}

/// The state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MonitorState {
    /// Format version (1).
    version: u32,
    /// The log URL last monitored (informational).
    log: String,
    /// The newest checkpoint note that passed every check.
    checkpoint: String,
    /// The tree analysed so far (a prefix of `checkpoint`'s tree, usually all of it): its
    /// right-edge tiles.
    analysed: EdgeState,
    /// The rules' memory.
    #[serde(default)]
    rules: RulesState,
    /// Unix time the log stopped answering, while it does not answer.
    #[serde(default)]
    unreachable_since: Option<i64>,
    /// Unix time of the last completed pass that changed the state (a pass that finds the
    /// same checkpoint again does not rewrite the file).
    #[serde(default)]
    last_pass: Option<i64>,
    /// Entries analysed since the state was created.
    #[serde(default)]
    entries_analysed: u64,
}

const STATE_VERSION: u32 = 1;

impl StateFile for MonitorState {
    const WHAT: &'static str = "monitor state";
    const VERSION: u32 = STATE_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}

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

/// What a successful pass did.
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
    client: LogClient,
    trust: LogTrust,
    /// Witness keys and quorum every checkpoint must carry (`--witness-policy`).
    witnesses: Option<(signet_proto::note::Verifiers, usize)>,
    policy: MonitorPolicy,
    engine: RuleEngine,
    state: Option<MonitorState>,
}

/// Runs `signet monitor`.
pub(crate) fn run(args: MonitorArgs) -> anyhow::Result<ExitCode> {
    let root = crate::trust::client::trusted_root_or_default(args.trusted_root.as_deref())?;
    let trust = LogTrust::from_file(&root)?;
    let witnesses = match &args.witness_policy {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let wp = signet_proto::witness::WitnessPolicyFile::parse(&text)
                .with_context(|| format!("witness policy {}", p.display()))?;
            let v = wp
                .verifiers()
                .with_context(|| format!("witness policy {}", p.display()))?;
            wp.check_not_log_keys(&trust.log_keys())
                .with_context(|| format!("witness policy {}", p.display()))?;
            Some((v, wp.quorum))
        }
        None => None,
    };
    let policy = match &args.policy {
        Some(p) => MonitorPolicy::load(p)?,
        None => MonitorPolicy::default(),
    };
    let state = state_file::load::<MonitorState>(&args.state)?;
    if let Some(s) = &state {
        if args.from_checkpoint.is_some() {
            eprintln!(
                "signet monitor: note: {} exists, so --from-checkpoint is ignored",
                args.state.display()
            );
        }
        if s.log != args.log {
            eprintln!(
                "signet monitor: note: the state was made following {}, now following {}",
                s.log, args.log
            );
        }
    }
    let engine = RuleEngine::new(
        policy.clone(),
        state.as_ref().map(|s| s.rules.clone()).unwrap_or_default(),
    );
    // A request may not take longer than the time after which the log counts as unreachable.
    let timeout = args
        .unreachable_after
        .clamp(Duration::from_secs(2), Duration::from_secs(30));
    let client = LogClient::new(&args.log, timeout, 2)?;
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut monitor = Monitor {
        witnesses,
        args,
        client,
        trust,
        policy,
        engine,
        state,
    };
    let alerter = Alerter { webhook };
    runtime.block_on(monitor.run(&alerter))
}

impl Monitor {
    async fn run(&mut self, alerter: &Alerter) -> anyhow::Result<ExitCode> {
        let mut down_since: Option<i64> = self.state.as_ref().and_then(|s| s.unreachable_since);
        let run_started = Instant::now();
        loop {
            let started = Instant::now();
            match self.pass(alerter).await {
                Ok(report) => {
                    if down_since.take().is_some() {
                        eprintln!("signet monitor: the log answers again");
                    }
                    eprintln!(
                        "signet monitor: pass ok: checkpoint {}, analysed {} -> {} (+{} entries in {:.2}s, {:.0} entries/s), {} rule alerts, state saved in {:.3}s",
                        report.checkpoint_size,
                        report.analysed_from,
                        report.analysed_to,
                        report.analysed_to - report.analysed_from,
                        report.seconds,
                        rate(report.analysed_to - report.analysed_from, report.seconds),
                        report.rule_alerts,
                        report.save_seconds
                    );
                    if self.args.once {
                        return Ok(if report.rule_alerts > 0 {
                            ExitCode::from(EXIT_RULES)
                        } else {
                            ExitCode::SUCCESS
                        });
                    }
                }
                Err(Failure::Integrity(alert)) => {
                    self.reset_engine();
                    alerter.emit(&alert).await;
                    eprintln!("signet monitor: integrity alert: {}", alert.message);
                    return Ok(ExitCode::from(EXIT_INTEGRITY));
                }
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Unreachable(e)) => {
                    self.reset_engine();
                    let now = now_unix();
                    let since = *down_since.get_or_insert(now);
                    self.record_unreachable(since);
                    let down_for = Duration::from_secs(u64::try_from(now - since).unwrap_or(0));
                    if !self.args.once {
                        eprintln!(
                            "signet monitor: the log does not answer (for {}s): {e}",
                            down_for.as_secs()
                        );
                    }
                    if down_for >= self.args.unreachable_after {
                        if self.args.once {
                            eprintln!(
                                "signet monitor: the log {} does not answer: {e}",
                                self.args.log
                            );
                        }
                        let alert = Alert {
                            alert: "log_unreachable".to_owned(),
                            severity: Severity::Critical,
                            log_index: None,
                            message: format!(
                                "the log {} has not answered for {}s (limit {}s): {e}",
                                self.args.log,
                                down_for.as_secs(),
                                self.args.unreachable_after.as_secs_f64()
                            ),
                            details: json!({
                                "log": self.args.log,
                                "since": since,
                                "seconds": down_for.as_secs(),
                                "error": e.to_string(),
                            }),
                        };
                        alerter.emit(&alert).await;
                        return Ok(ExitCode::from(EXIT_UNREACHABLE));
                    }
                    let left = self.args.unreachable_after.saturating_sub(down_for);
                    let wait = if self.args.once {
                        let tried = run_started.elapsed();
                        if tried + ONCE_RETRY_PAUSE > ONCE_RETRY_WINDOW
                            && left > ONCE_RETRY_WINDOW.saturating_sub(tried)
                        {
                            anyhow::bail!(
                                "the log {} does not answer: {e} (tried for {}s; log_unreachable is raised once it has not answered for --unreachable-after {}s)",
                                self.args.log,
                                tried.as_secs(),
                                self.args.unreachable_after.as_secs()
                            );
                        }
                        ONCE_RETRY_PAUSE
                    } else {
                        self.args.interval
                    };
                    tokio::time::sleep(wait.min(left).max(Duration::from_millis(100))).await;
                    continue;
                }
            }
            let elapsed = started.elapsed();
            tokio::time::sleep(self.args.interval.saturating_sub(elapsed)).await;
        }
    }

    /// Rebuilds the rule engine from the last saved rules state (after a pass that did not
    /// complete, whose entries will be analysed again).
    fn reset_engine(&mut self) {
        let saved = self
            .state
            .as_ref()
            .map(|s| s.rules.clone())
            .unwrap_or_default();
        self.engine = RuleEngine::new(self.policy.clone(), saved);
    }

    fn record_unreachable(&mut self, since: i64) {
        if let Some(s) = &mut self.state {
            if s.unreachable_since != Some(since) {
                s.unreachable_since = Some(since);
                if let Err(e) = state_file::save(&self.args.state, s) {
                    eprintln!("signet monitor: {}", crate::errors::chain(e.as_ref()));
                }
            }
        }
    }

    /// Verifies a fetched checkpoint note.
    fn verify_note(&self, note: &[u8]) -> Result<Checkpoint, Failure> {
        if let Some((witnesses, quorum)) = &self.witnesses {
            // The shared quorum rule (distinct witness keys, the log's own keys excluded).
            let cosigned = signet_proto::checkpoint::UnverifiedCheckpoint::parse(note)
                .map_err(|e| e.to_string())
                .and_then(|cp| {
                    signet_proto::witness::check_quorum(
                        cp.note(),
                        witnesses,
                        *quorum,
                        &self.trust.log_keys(),
                    )
                    .map(|_| ())
                    .map_err(|e| e.to_string())
                });
            if let Err(e) = cosigned {
                return Err(integrity(
                    "witness_quorum",
                    format!(
                        "the checkpoint of {} lacks {quorum} valid witness cosignatures: {e}",
                        self.args.log
                    ),
                    json!({
                        "error": e,
                        "quorum": quorum,
                        "checkpoint": String::from_utf8_lossy(note),
                    }),
                ));
            }
        }
        self.trust.verify(note).map_err(|e| {
            integrity(
                "bad_signature",
                format!(
                    "the checkpoint of {} does not verify with the trusted log keys ({}): {e}",
                    self.args.log,
                    self.trust.names().join(", ")
                ),
                json!({
                    "error": e.to_string(),
                    "checkpoint": String::from_utf8_lossy(note),
                }),
            )
        })
    }

    /// The first run: the starting checkpoint and its right edge.
    async fn first_state(&self, current: &[u8], cp: &Checkpoint) -> Result<MonitorState, Failure> {
        let (note, start) = match &self.args.from_checkpoint {
            Some(path) => {
                let note =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                let start = self.trust.verify(&note).map_err(|e| {
                    Failure::Fatal(anyhow::anyhow!(
                        "{}: the checkpoint does not verify with the trusted log keys: {e}",
                        path.display()
                    ))
                })?;
                eprintln!(
                    "signet monitor: first run: starting from {} (size {})",
                    path.display(),
                    start.size
                );
                (note, start)
            }
            None => {
                eprintln!(
                    "signet monitor: first run: trusting the log's current checkpoint (size {}, origin {:?})",
                    cp.size, cp.origin
                );
                (current.to_vec(), cp.clone())
            }
        };
        let edge = fetch_edge(&self.client, start.size)
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
        Ok(MonitorState {
            version: STATE_VERSION,
            log: self.args.log.clone(),
            checkpoint: String::from_utf8_lossy(&note).into_owned(),
            analysed: edge.to_state().map_err(|e| Failure::Fatal(e.into()))?,
            rules: RulesState::default(),
            unreachable_since: None,
            last_pass: None,
            entries_analysed: 0,
        })
    }

    /// Checks `new` (verified) against the last verified checkpoint `old`.
    async fn check_consistency(
        &self,
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
        let proof = self
            .client
            .consistency(old.size, new.size)
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

    async fn pass(&mut self, alerter: &Alerter) -> Result<PassReport, Failure> {
        let t0 = Instant::now();
        let note = self.client.checkpoint().await.map_err(|e| {
            if self.state.is_none() && !e.is_unreachable() {
                Failure::Fatal(anyhow::anyhow!("{e}"))
            } else {
                fetch_failure(e, "fetching the checkpoint")
            }
        })?;
        let cp = self.verify_note(&note)?;
        if self.state.is_none() {
            let s = self.first_state(&note, &cp).await?;
            state_file::save(&self.args.state, &s)?;
            self.state = Some(s);
        }
        let state = self
            .state
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("internal: no monitor state"))?;
        let old = parse_verified(&state.checkpoint)
            .with_context(|| format!("{}: saved checkpoint", self.args.state.display()))?;
        let mut edge = state
            .analysed
            .to_edge()
            .with_context(|| format!("{}: saved tiles", self.args.state.display()))?;
        let unchanged = state.checkpoint.as_bytes() == note.as_slice()
            && state.unreachable_since.is_none()
            && state.log == self.args.log;
        self.check_consistency(&old, &cp, &note).await?;

        let from = edge.size();
        let target = match self.args.max_entries_per_pass {
            Some(max) => cp.size.min(from.saturating_add(max)),
            None => cp.size,
        };
        let alerts = if target > from {
            self.analyse(&mut edge, target, &cp).await?
        } else {
            Vec::new()
        };
        // Alerts go out before the state is saved: if saving fails they are raised again by
        // the next pass (at least once, never lost).
        for a in &alerts {
            alerter.emit(a).await;
        }
        let mut save_seconds = 0.0;
        if target > from || !unchanged {
            let rules = (target > from).then(|| self.engine.state());
            let state = self
                .state
                .as_mut()
                .ok_or_else(|| anyhow::anyhow!("internal: no monitor state"))?;
            state.checkpoint = String::from_utf8_lossy(&note).into_owned();
            state.analysed = edge.to_state().map_err(|e| Failure::Fatal(e.into()))?;
            if let Some(r) = rules {
                state.rules = r;
            }
            state.unreachable_since = None;
            state.last_pass = Some(now_unix());
            state.entries_analysed += target - from;
            state.log.clone_from(&self.args.log);
            let t_save = Instant::now();
            state_file::save(&self.args.state, state)?;
            save_seconds = t_save.elapsed().as_secs_f64();
        }
        Ok(PassReport {
            checkpoint_size: cp.size,
            analysed_from: from,
            analysed_to: target,
            rule_alerts: alerts.len(),
            seconds: t0.elapsed().as_secs_f64(),
            save_seconds,
        })
    }

    /// Analyses entries `[edge.size(), target)` and proves them against `cp`. Returns the rule
    /// alerts (not yet emitted).
    async fn analyse(
        &mut self,
        edge: &mut Edge,
        target: u64,
        cp: &Checkpoint,
    ) -> Result<Vec<Alert>, Failure> {
        let from = edge.size();
        let concurrency = usize::try_from(self.args.concurrency).unwrap_or(8);
        let mut stream = BundleStream::new(
            self.client.clone(),
            from,
            target,
            false,
            concurrency,
            entry::observe,
        );
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
                if *index >= target {
                    break;
                }
                let k = usize::try_from(index - first).unwrap_or(usize::MAX);
                let (Some(leaf), Some((offset, _))) = (bundle.leaves.get(k), entries.get(k)) else {
                    return Err(Failure::Fatal(anyhow::anyhow!(
                        "internal: entry {index} outside bundle {}",
                        bundle.path
                    )));
                };
                leaves.push(*leaf);
                match observed {
                    Ok(e) => alerts.extend(self.engine.observe(e)),
                    Err(err) => alerts.push(Alert {
                        alert: "entry_unparseable".to_owned(),
                        severity: Severity::Warning,
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
        if edge.size() != target {
            return Err(Failure::Fatal(anyhow::anyhow!(
                "internal: analysed up to {} instead of {target}",
                edge.size()
            )));
        }
        let root = edge.root().map_err(|e| Failure::Fatal(e.into()))?;
        let mismatch = |reason: String| {
            integrity(
                "root_mismatch",
                format!(
                    "the entries served for [{from}, {target}) do not hash to the signed tree of size {}: {reason}",
                    cp.size
                ),
                json!({
                    "from": from,
                    "to": target,
                    "computed_root": hex::encode(root),
                    "signed_size": cp.size,
                    "signed_root": hex::encode(cp.root),
                }),
            )
        };
        if target == cp.size {
            if root != cp.root {
                return Err(mismatch(format!(
                    "computed root {}, signed root {}",
                    hex::encode(root),
                    hex::encode(cp.root)
                )));
            }
        } else {
            let proof = self
                .client
                .consistency(target, cp.size)
                .await
                .map_err(|e| fetch_failure(e, "fetching a consistency proof"))?;
            verify_consistency(target, cp.size, &root, &cp.root, &proof)
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
