//! `signet monitor` (being built; see the issue tracker).

pub(crate) mod entry;
pub(crate) mod rules;

use std::process::ExitCode;

/// Arguments of `signet monitor`.
#[derive(clap::Args)]
pub(crate) struct MonitorArgs {}

/// Runs `signet monitor`.
pub(crate) fn run(_args: MonitorArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("signet monitor is not built yet")
}
