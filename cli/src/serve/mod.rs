//! `signet serve`: the CA and the log in one process, or one role each.

mod config;

use clap::Args;

/// Arguments of `signet serve`.
#[derive(Args)]
pub(crate) struct ServeArgs {}

/// Runs `signet serve`.
pub(crate) fn run(_args: ServeArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("signet serve is not built yet")
}
