//! `signet audit`: downloads every entry bundle and hash tile of a log, re-checks every entry
//! and recomputes every tile and the root, and compares them with the signed checkpoint.
//!
//! Issue 7. Specs: C2SP tlog-tiles (tile and bundle layout), tlog-checkpoint / signed-note
//! (the checkpoint, verified with the tlog keys of `--trusted-root`), RFC 6962 (leaf hash =
//! SHA-256(0x00 || body)), Rekor v1 `GET /api/v1/log/proof` (only when resuming against a newer
//! checkpoint).
//!
//! For each entry bundle (in order, a few fetched concurrently) with its level-0 tile:
//! * each body must parse as a log entry (hashedrekord, dsse, precert or another kind with
//!   `apiVersion`/`kind`/`spec`; read by [`crate::auditors::monitor::entry::observe`]);
//! * its leaf hash must equal the hash at its position in the level-0 tile.
//!
//! The leaf hashes (of the bodies, not the tile) are appended onto a tree kept as its right
//! edge only (`signet_proto::tiles::integrate`), so memory stays bounded whatever the log size.
//! Every full tile of level >= 1 this produces is downloaded and compared byte for byte, then
//! the final partial tiles, and the computed root must equal the signed root. A mismatch names
//! the tile or entry bundle, the entry index and the byte offset; the audit goes on and reports
//! every mismatch it finds (at most 100 are listed).
//!
//! Resume: with `--state FILE`, progress (the checkpoint, the size done, the right-edge tiles,
//! the mismatches found so far) is saved atomically every `--save-every` bundles, on Ctrl-C and
//! when `--max-bundles` stops the run. A later run continues from there, against the same
//! checkpoint or a newer one proven consistent with it.
//!
//! Exit codes: 0 the audit passed; 1 it found a mismatch (or the checkpoint does not verify);
//! 2 usage or other error (the log did not answer, ...); 3 stopped before the end
//! (`--max-bundles` or Ctrl-C; resume with the same `--state`).
//!
//! Shards: a log whose `GET /api/v1/log` lists `inactiveShards` (frozen trees, `signet log
//! rotate`, as Rekor's) is audited shard by shard, oldest first: each frozen shard against its
//! final checkpoint (verified with the trusted keys), its tiles read under
//! `<log>/shards/<treeID>`, then the active tree. A frozen shard audited once is recorded in
//! the state (origin, size, root) and not fetched again; a saved audit of a tree that has
//! since been frozen resumes against the frozen shard's final checkpoint, so a rotation is no
//! alarm.
//!
//! What this does not do: verify entry signatures or certificate chains, check the search
//! index, or audit witness cosignatures.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use signet_proto::checkpoint::Checkpoint;
use signet_proto::merkle::{verify_consistency, Hash};
use signet_proto::tiles::TileId;

use crate::auditors::monitor::entry;
use crate::auditors::state::{self as state_file, StateFile};
use crate::auditors::tlog::{
    first_difference, parse_duration, parse_verified, tile_hash, BundleStream, Edge, EdgeState,
    FetchedBundle, LogClient, LogTrust,
};

/// Why an entry body does not parse, if it does not (run on the fetch tasks).
fn parse_error(index: u64, body: &[u8]) -> Option<String> {
    entry::observe(index, body).err().map(|e| e.to_string())
}

/// Exit code: a mismatch was found.
const EXIT_FAILED: u8 = 1;
/// Exit code: stopped before the end; resume with `--state`.
const EXIT_INCOMPLETE: u8 = 3;
/// Mismatches listed (more are counted).
const MAX_LISTED: usize = 100;
/// Bundles integrated at a time.
const CHUNK_BUNDLES: usize = 16;

const EXIT_HELP: &str = "\
Exit codes:
  0  the audit passed: every entry parses, every leaf hash, tile and the root match
  1  a mismatch was found (each is listed on stdout), or the checkpoint does not verify
  2  usage or other error (e.g. the log does not answer)
  3  stopped before the end (--max-bundles or Ctrl-C); run again with the same --state";

/// Arguments of `signet audit`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_HELP)]
pub(crate) struct AuditArgs {
    /// Base URL of the log (serving /checkpoint and /tile/...).
    #[arg(long, value_name = "URL")]
    log: String,
    /// trusted_root.json holding the log's key (tlogs).
    #[arg(long, value_name = "FILE")]
    trusted_root: PathBuf,
    /// Audit against this signed checkpoint note instead of the log's current one.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Progress file: resume from it if it exists, save progress to it.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Save progress every N entry bundles.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    save_every: u64,
    /// Stop (exit 3, progress saved) after N entry bundles in this run.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_bundles: Option<u64>,
    /// Entry bundles (with their tiles) fetched concurrently.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    concurrency: u64,
    /// Per-request timeout (e.g. 30s).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,
}

/// The progress file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditState {
    /// Format version (1).
    version: u32,
    /// The log audited (informational).
    log: String,
    /// The checkpoint note audited against.
    checkpoint: String,
    /// The tree recomputed so far (entries `[0, done.size)` checked).
    done: EdgeState,
    /// Mismatches found so far (the first [`MAX_LISTED`]).
    failures: Vec<String>,
    /// Number of mismatches found so far.
    failure_count: u64,
    /// Frozen shards audited to their final checkpoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    finished: Vec<FinishedShard>,
}

/// A frozen shard audited to its final checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FinishedShard {
    /// Its checkpoint origin.
    origin: String,
    /// Its final size.
    size: u64,
    /// Its final root, hex.
    root: String,
}

impl FinishedShard {
    fn of(cp: &Checkpoint) -> Self {
        Self {
            origin: cp.origin.clone(),
            size: cp.size,
            root: hex::encode(cp.root),
        }
    }
}

const STATE_VERSION: u32 = 1;

/// Collects mismatches.
#[derive(Default)]
struct Failures {
    listed: Vec<String>,
    count: u64,
}

impl Failures {
    fn add(&mut self, message: String) {
        self.count += 1;
        if self.listed.len() < MAX_LISTED {
            println!("MISMATCH {message}");
            self.listed.push(message);
        }
    }
}

/// Progress display: a bar on a terminal, a line every 10 s otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    last_line: Instant,
    started: Instant,
    start_pos: u64,
}

impl Progress {
    fn new(done: u64, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} entries ({per_sec}, eta {eta})",
            ) {
                b.set_style(style);
            }
            b.set_position(done);
            b
        });
        Self {
            bar,
            total,
            last_line: Instant::now(),
            started: Instant::now(),
            start_pos: done,
        }
    }

    fn set(&mut self, pos: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
        } else if self.last_line.elapsed() >= Duration::from_secs(10) {
            self.last_line = Instant::now();
            eprintln!(
                "signet audit: {pos}/{} entries ({:.1}%), {:.0} entries/s",
                self.total,
                percent(pos, self.total),
                per_sec(pos - self.start_pos, self.started.elapsed())
            );
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn percent(a: u64, b: u64) -> f64 {
    if b == 0 {
        100.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}

fn per_sec(n: u64, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    if s > 0.0 {
        n as f64 / s
    } else {
        0.0
    }
}

/// Runs `signet audit`.
pub(crate) fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let trust = LogTrust::from_file(&args.trusted_root)?;
    let client = LogClient::new(&args.log, args.timeout, 3)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(audit(args, trust, client))
}

impl StateFile for AuditState {
    const WHAT: &'static str = "audit state";
    const VERSION: u32 = STATE_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}

/// The signed checkpoint to audit against: `(note, checkpoint)`, or the exit code if it does
/// not verify.
async fn target_checkpoint(
    args: &AuditArgs,
    trust: &LogTrust,
    client: &LogClient,
) -> anyhow::Result<Result<(String, Checkpoint), ExitCode>> {
    let (note, from) = match &args.checkpoint {
        Some(p) => (
            std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
            p.display().to_string(),
        ),
        None => (
            client
                .checkpoint()
                .await
                .with_context(|| format!("fetching the checkpoint of {}", args.log))?,
            format!("{}/checkpoint", client.base()),
        ),
    };
    match trust.verify(&note) {
        Ok(cp) => Ok(Ok((String::from_utf8_lossy(&note).into_owned(), cp))),
        Err(e) => {
            println!(
                "MISMATCH checkpoint {from} does not verify with the trusted log keys ({}): {e}",
                trust.names().join(", ")
            );
            println!("audit FAILED");
            Ok(Err(ExitCode::from(EXIT_FAILED)))
        }
    }
}

/// Picks up a saved state for `target`: the edge to continue from and the failures so far.
async fn resume(
    saved: AuditState,
    target: &Checkpoint,
    client: &LogClient,
    failures: &mut Failures,
) -> anyhow::Result<Edge> {
    let old = parse_verified(&saved.checkpoint).context("saved checkpoint")?;
    anyhow::ensure!(
        old.origin == target.origin,
        "the saved audit is of origin {:?}, this checkpoint of {:?}",
        old.origin,
        target.origin
    );
    let edge = saved.done.to_edge().context("saved tiles")?;
    anyhow::ensure!(
        edge.size() <= target.size,
        "the saved audit is at size {}, past this checkpoint's size {}",
        edge.size(),
        target.size
    );
    if old.size > target.size {
        anyhow::bail!(
            "the saved audit is against a checkpoint of size {}, newer than this one ({})",
            old.size,
            target.size
        );
    }
    if old.size == target.size {
        if old.root != target.root {
            failures.add(format!(
                "checkpoint: two different roots signed at size {}: {} (saved) and {}",
                old.size,
                hex::encode(old.root),
                hex::encode(target.root)
            ));
        }
    } else if old.size > 0 {
        let proof = client
            .consistency(old.size, target.size)
            .await
            .context("fetching the consistency proof from the saved checkpoint")?;
        if let Err(e) = verify_consistency(old.size, target.size, &old.root, &target.root, &proof) {
            failures.add(format!(
                "checkpoint: no consistency from the saved checkpoint (size {}) to size {}: {e}",
                old.size, target.size
            ));
        }
    }
    eprintln!(
        "signet audit: resuming at entry {} of {}",
        edge.size(),
        target.size
    );
    Ok(edge)
}

struct Auditor {
    client: LogClient,
    failures: Failures,
    edge: Edge,
    /// Leaf hashes not yet appended to `edge`.
    pending: Vec<Hash>,
    tiles_compared: u64,
}

impl Auditor {
    /// Checks one bundle's entries against its level-0 tile and queues their leaf hashes.
    fn check_bundle(&mut self, b: &FetchedBundle<Option<String>>) {
        let first = b.first_index();
        let start = self.edge.size() + self.pending.len() as u64;
        let tile = b.tile.as_deref().unwrap_or_default();
        let tile_path = TileId {
            level: 0,
            index: b.index,
            width: b.width,
        }
        .path();
        let entries = match &b.entries {
            Ok(e) => e,
            Err(reason) => {
                self.failures.add(format!(
                    "{}: the entry bundle does not decode: {reason}; using the tile's hashes",
                    b.path
                ));
                for i in 0..usize::from(b.width) {
                    let index = first + i as u64;
                    if index >= start {
                        let h = tile_hash(tile, i)
                            .and_then(|s| Hash::try_from(s).ok())
                            .unwrap_or([0u8; 32]);
                        self.pending.push(h);
                    }
                }
                return;
            }
        };
        for (i, ((offset, body), leaf)) in entries.iter().zip(&b.leaves).enumerate() {
            let index = first + i as u64;
            if index < start {
                continue;
            }
            let parsed = b.parsed.first().and_then(|(i0, _)| {
                let k = usize::try_from(index.checked_sub(*i0)?).ok()?;
                b.parsed.get(k).filter(|(i, _)| *i == index)
            });
            if let Some((_, Some(e))) = parsed {
                self.failures.add(format!(
                    "{} entry {index} (bytes {}..{} of the bundle): the body does not parse: {e}",
                    b.path,
                    offset,
                    offset + 2 + body.len()
                ));
            }
            let stored = tile_hash(tile, i).unwrap_or_default();
            if stored != leaf.as_slice() {
                let at = i * 32 + first_difference(stored, leaf);
                self.failures.add(format!(
                    "{tile_path} bytes {}..{} (hash {i}): entry {index}'s leaf hash is {}, the tile has {} (first differing byte at offset {at})",
                    i * 32,
                    i * 32 + 32,
                    hex::encode(leaf),
                    hex::encode(stored),
                ));
            }
            self.pending.push(*leaf);
        }
    }

    /// Appends the pending leaves and compares every new full tile of level >= 1 with the
    /// log's.
    async fn integrate(&mut self) -> anyhow::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let integration = self.edge.append(&self.pending)?;
        self.pending.clear();
        for (t, data) in &integration.tiles {
            if t.level == 0 || !t.is_full() {
                continue;
            }
            self.compare_tile(*t, data).await?;
        }
        Ok(())
    }

    async fn compare_tile(&mut self, t: TileId, computed: &[u8]) -> anyhow::Result<()> {
        self.tiles_compared += 1;
        match self.client.tile(t).await {
            Ok(served) if served == computed => {}
            Ok(served) => {
                let at = first_difference(&served, computed);
                self.failures.add(format!(
                    "{}: differs from the recomputed tile at byte offset {at} (hash {}): served {}, computed {}",
                    t.path(),
                    at / 32,
                    tile_hash(&served, at / 32).map(hex::encode).unwrap_or_default(),
                    tile_hash(computed, at / 32).map(hex::encode).unwrap_or_default(),
                ));
            }
            Err(e) if e.is_unreachable() => return Err(e).context("fetching a tile"),
            Err(e) => self.failures.add(format!("{}: {e}", t.path())),
        }
        Ok(())
    }
}

/// The frozen shards the log lists (`GET /api/v1/log` `inactiveShards`), oldest first, as
/// `(treeID, final checkpoint note)`; none for a log without that endpoint (a Rekor v2 or
/// plain tlog-tiles log).
async fn inactive_shards(client: &LogClient) -> anyhow::Result<Vec<(String, String)>> {
    let body = match client.get("api/v1/log").await {
        Ok(b) => b,
        Err(crate::auditors::tlog::FetchError::Status { status: 404, .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e).context("fetching the log's shards (GET /api/v1/log)"),
    };
    let info: signet_proto::rekor::LogInfo = signet_proto::json::from_slice(&body)
        .with_context(|| format!("{}/api/v1/log does not parse", client.base()))?;
    Ok(info
        .inactive_shards
        .into_iter()
        .map(|s| (s.tree_id, s.signed_tree_head))
        .collect())
}

async fn audit(args: AuditArgs, trust: LogTrust, client: LogClient) -> anyhow::Result<ExitCode> {
    let mut failures = Failures::default();
    let mut saved = match &args.state {
        Some(p) => state_file::load::<AuditState>(p)?,
        None => None,
    };
    let mut finished = Vec::new();
    if let Some(s) = &mut saved {
        for f in &s.failures {
            println!("MISMATCH {f} (found by an earlier run)");
        }
        failures.listed = std::mem::take(&mut s.failures);
        failures.count = s.failure_count;
        finished = std::mem::take(&mut s.finished);
    }
    for (tree_id, note) in inactive_shards(&client).await? {
        let cp = match trust.verify(note.as_bytes()) {
            Ok(cp) => cp,
            Err(e) => {
                failures.add(format!(
                    "frozen shard {tree_id}: its final checkpoint does not verify with the trusted log keys ({}): {e}",
                    trust.names().join(", ")
                ));
                continue;
            }
        };
        if finished.contains(&FinishedShard::of(&cp)) {
            eprintln!(
                "signet audit: frozen shard {tree_id} ({} entries) was audited by an earlier run",
                cp.size
            );
            continue;
        }
        let shard_client = LogClient::new(
            &format!(
                "{}{}/{tree_id}",
                client.base(),
                signet_log::shards::SHARD_PATH_PREFIX
            ),
            args.timeout,
            3,
        )?;
        let resumed = saved
            .take_if(|s| parse_verified(&s.checkpoint).is_ok_and(|old| old.origin == cp.origin));
        eprintln!("signet audit: frozen shard {tree_id}");
        match audit_tree(
            &args,
            &shard_client,
            (&note, &cp),
            resumed,
            &mut failures,
            &finished,
        )
        .await?
        {
            Some(code) => return Ok(code),
            None => finished.push(FinishedShard::of(&cp)),
        }
    }
    // Progress saved in a frozen shard that is now done belongs to no tree left to audit.
    let saved = saved.filter(|s| {
        !parse_verified(&s.checkpoint)
            .is_ok_and(|old| finished.iter().any(|f| f.origin == old.origin))
    });
    let (note, target) = match target_checkpoint(&args, &trust, &client).await? {
        Ok(t) => t,
        Err(code) => return Ok(code),
    };
    if let Some(code) = audit_tree(
        &args,
        &client,
        (&note, &target),
        saved,
        &mut failures,
        &finished,
    )
    .await?
    {
        return Ok(code);
    }
    if failures.count == 0 {
        println!(
            "audit passed: {} entries{}, root {} matches the checkpoint",
            target.size,
            if finished.is_empty() {
                String::new()
            } else {
                format!(
                    " (and {} in {} frozen shards)",
                    finished.iter().map(|f| f.size).sum::<u64>(),
                    finished.len()
                )
            },
            hex::encode(target.root)
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "audit FAILED: {} mismatches ({} listed above)",
            failures.count,
            failures.listed.len().min(MAX_LISTED)
        );
        Ok(ExitCode::from(EXIT_FAILED))
    }
}

/// Audits one tree (a frozen shard or the active one) against `(note, target)`, from the
/// `saved` progress when it is of this tree. Returns the exit code when the run stopped
/// before the end (progress saved), else `None` (mismatches are in `failures`).
async fn audit_tree(
    args: &AuditArgs,
    client: &LogClient,
    (note, target): (&str, &Checkpoint),
    saved: Option<AuditState>,
    failures: &mut Failures,
    finished: &[FinishedShard],
) -> anyhow::Result<Option<ExitCode>> {
    let note = note.to_owned();
    let target = target.clone();
    let edge = match saved {
        Some(s) => resume(s, &target, client, failures).await?,
        None => Edge::empty(),
    };
    eprintln!(
        "signet audit: {} entries, origin {:?}, root {}",
        target.size,
        target.origin,
        hex::encode(target.root)
    );
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = Arc::clone(&interrupted);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::SeqCst);
            }
        });
    }
    let mut a = Auditor {
        client: client.clone(),
        failures: std::mem::take(failures),
        edge,
        pending: Vec::new(),
        tiles_compared: 0,
    };
    let save = |a: &Auditor| -> anyhow::Result<()> {
        if let Some(p) = &args.state {
            let s = AuditState {
                version: STATE_VERSION,
                log: args.log.clone(),
                checkpoint: note.clone(),
                done: a.edge.to_state()?,
                failures: a.failures.listed.clone(),
                failure_count: a.failures.count,
                finished: finished.to_vec(),
            };
            state_file::save(p, &s)?;
        }
        Ok(())
    };
    let started = Instant::now();
    let from = a.edge.size();
    let mut progress = Progress::new(from, target.size);
    let concurrency = usize::try_from(args.concurrency).unwrap_or(8);
    let mut stream = BundleStream::new(
        client.clone(),
        from,
        target.size,
        true,
        concurrency,
        parse_error,
    );
    let mut bundles = 0u64;
    let mut since_chunk = 0usize;
    let mut since_save = 0u64;
    let mut stopped = None;
    while let Some(b) = stream.next().await {
        let b = match b {
            Ok(b) => b,
            Err(e) if e.is_unreachable() => {
                a.integrate().await?;
                save(&a)?;
                progress.finish();
                return Err(e).context("the log stopped answering (progress saved)");
            }
            Err(e) => {
                // The log answered wrongly (a missing or short bundle or tile): nothing to
                // recompute from beyond this point.
                a.failures.add(e.to_string());
                break;
            }
        };
        a.check_bundle(&b);
        bundles += 1;
        since_chunk += 1;
        since_save += 1;
        if since_chunk >= CHUNK_BUNDLES {
            a.integrate().await?;
            since_chunk = 0;
        }
        progress.set(a.edge.size() + a.pending.len() as u64);
        if since_save >= args.save_every {
            a.integrate().await?;
            save(&a)?;
            since_save = 0;
        }
        if interrupted.load(Ordering::SeqCst) {
            stopped = Some("interrupted");
            break;
        }
        if args.max_bundles.is_some_and(|m| bundles >= m)
            && a.edge.size() + (a.pending.len() as u64) < target.size
        {
            stopped = Some("--max-bundles reached");
            break;
        }
    }
    drop(stream);
    a.integrate().await?;
    progress.finish();
    if let Some(why) = stopped {
        save(&a)?;
        eprintln!(
            "signet audit: {why}: stopped at entry {} of {} ({} mismatches so far){}",
            a.edge.size(),
            target.size,
            a.failures.count,
            if args.state.is_some() {
                "; run again with the same --state to continue"
            } else {
                "; without --state the progress is lost"
            }
        );
        return Ok(Some(ExitCode::from(EXIT_INCOMPLETE)));
    }
    if a.edge.size() == target.size {
        // The final partial tiles above level 0 (level 0 was compared entry by entry).
        for (t, data) in a.edge.tiles() {
            if t.level > 0 {
                a.compare_tile(t, &data).await?;
            }
        }
        let root = a.edge.root()?;
        if root != target.root {
            a.failures.add(format!(
                "root: the recomputed root of {} entries is {}, the checkpoint signs {}",
                target.size,
                hex::encode(root),
                hex::encode(target.root)
            ));
        }
    } else {
        a.failures.add(format!(
            "the audit could only recompute {} of {} entries",
            a.edge.size(),
            target.size
        ));
    }
    save(&a)?;
    let secs = started.elapsed().as_secs_f64();
    let checked = a.edge.size() - from;
    eprintln!(
        "signet audit: checked {checked} entries and {} tiles above level 0 in {secs:.1}s ({:.0} entries/s)",
        a.tiles_compared,
        per_sec(checked, started.elapsed()),
    );
    *failures = a.failures;
    Ok(None)
}
