//! `signet audit` (being built; see the issue tracker).

use std::process::ExitCode;

/// Arguments of `signet audit`.
#[derive(clap::Args)]
pub(crate) struct AuditArgs {}

/// Runs `signet audit`.
pub(crate) fn run(_args: AuditArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("signet audit is not built yet")
}
