//! `signet log rotate`: freezes the log's current tree and starts a new shard
//! (`signet_log::shards`), offline on the data directory of a stopped `serve`, as
//! `signet ca rotate` does for the CA. `serve` completes it at its next start: it opens a new
//! tree (a new tree id, so a new checkpoint origin; new log and checkpoint keys with
//! `--new-key`), keeps serving the frozen one read-only, and publishes both in
//! `trusted_root.json` (the frozen key's `validFor` ends at the rotation) and the TUF targets.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};

/// Arguments of `signet log`.
#[derive(Args, Debug)]
pub(crate) struct LogArgs {
    #[command(subcommand)]
    command: LogCommand,
}

#[derive(Subcommand, Debug)]
enum LogCommand {
    /// Freeze the current tree (its checkpoint, tiles, proofs and entries stay served,
    /// read-only) and start a new shard with a new origin at the next `serve` start; log
    /// indexes stay global across shards, as Rekor's.
    Rotate {
        /// The data directory of `signet serve` (its log is in DIR/log). Default
        /// ./signet-data.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Give the new shard new log (checkpoint and SET) and Ed25519 checkpoint keys; the
        /// frozen shard keeps its own. Without it both shards share the keys.
        #[arg(long)]
        new_key: bool,
    },
}

/// Runs `signet log`.
pub(crate) fn run(args: LogArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        LogCommand::Rotate { data_dir, new_key } => {
            let data = data_dir.unwrap_or_else(|| PathBuf::from("signet-data"));
            if !data.is_dir() {
                anyhow::bail!(
                    "the data directory {} does not exist: give the --data-dir of `signet serve`",
                    data.display()
                );
            }
            let created = std::fs::read_to_string(data.join("created_at"))
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .with_context(|| {
                    format!(
                        "{}/created_at is missing or not a Unix time: is {} the data directory of `signet serve`?",
                        data.display(),
                        data.display()
                    )
                })?;
            let log_dir = data.join("log");
            let now = super::now_unix();
            let r = signet_log::shards::rotate(&log_dir, created, now, new_key).map_err(|e| {
                match e {
                    signet_log::shards::ShardError::Store(
                        signet_log::storage::StoreError::Locked { .. },
                    ) => anyhow::anyhow!(
                        "the log in {} is open in a running `signet serve`: stop it first, then rotate and start it again",
                        log_dir.display()
                    ),
                    e => anyhow::Error::new(e)
                        .context(format!("rotating the log in {}", log_dir.display())),
                }
            })?;
            println!(
                "froze tree {} of the log in {} at size {} (origin {:?}); log indexes {}.. go to a new shard{}",
                r.frozen.tree_id,
                log_dir.display(),
                r.frozen.size,
                r.frozen.origin,
                r.history.offset(),
                if r.new_key { " with new keys" } else { "" },
            );
            println!(
                "restart `signet serve` now: it then opens the new tree, serves the frozen one read-only and publishes both (trusted_root.json, TUF targets)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
