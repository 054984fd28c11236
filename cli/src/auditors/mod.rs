//! The auditors zone: commands that read a transparency log from outside and check it.
//!
//! * [`monitor`]: `signet monitor`, follows a log, checks it stays append-only and runs the
//!   identity watch and anomaly rules on every new entry.
//! * [`audit`]: `signet audit`, downloads a whole log and recomputes its root.
//! * `tlog`: the read-side log client (checkpoints, tiles, entry bundles, proofs) both use;
//!   nothing else in the binary reads a log this way, so it lives here.
//! * `state`: the state files of both (`--state`): one loader and one durable writer.
//!
//! Auditors may use the shared zones (`fsutil`); they import neither the client nor the
//! servers.

pub(crate) mod audit;
pub(crate) mod monitor;
mod state;
mod tlog;
