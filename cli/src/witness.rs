//! `signet witness` (being built; see the issue tracker).

use std::process::ExitCode;

/// Arguments of `signet witness`.
#[derive(clap::Args)]
pub(crate) struct WitnessArgs {}

/// Runs `signet witness`.
pub(crate) fn run(_args: WitnessArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("signet witness is not built yet")
}
