//! The `signet` binary: `serve` runs the CA and the log; `sign`, `verify`, `monitor`, `audit`
//! and `witness` are the client and auditor commands.
//!
//! This crate is the I/O edge: network, registry, files and the clock live here; the formats
//! and the checks live in `signet-proto` and `signet-verifier`.

mod audit;
mod client;
mod listen;
mod monitor;
mod serve;
mod tlog;
mod witness;

use clap::{Parser, Subcommand};

// mimalloc: glibc malloc/free was about a tenth of the log's ingest CPU (docs/benchmarks-history.md, "HTTP ingest rerun", 2026-11-28).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keyless signing, a transparency log and offline verification, Sigstore-compatible.
#[derive(Parser)]
#[command(name = "signet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the CA and the transparency log (one process by default).
    Serve(serve::ServeArgs),
    /// Client commands: sign, verify, keys.
    #[command(flatten)]
    Client(client::ClientCommand),
    /// Create a CA root and intermediate for `serve` (`[ca.key] type = "file"`).
    CaInit(serve::ca_init::CaInitArgs),
    /// Watch a log: consistency of its checkpoints, watched identities and anomaly rules.
    Monitor(monitor::MonitorArgs),
    /// Download every tile and entry of a log and recompute its root.
    Audit(audit::AuditArgs),
    /// Run a C2SP tlog-witness that cosigns checkpoints of configured logs.
    Witness(witness::WitnessArgs),
    /// Exit 0 if URL answers 2xx (a health probe for images without curl).
    Probe {
        /// The URL to GET, e.g. http://127.0.0.1:3000/readyz.
        url: String,
    },
}

fn probe(url: &str) -> anyhow::Result<std::process::ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let status = rt.block_on(async {
        reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()?
            .get(url)
            .send()
            .await
            .map(|r| r.status())
    })?;
    if status.is_success() {
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        eprintln!("signet probe: {url} answered {status}");
        Ok(std::process::ExitCode::FAILURE)
    }
}

fn main() -> std::process::ExitCode {
    // One crypto stack: TLS (reqwest, axum-server) runs on aws-lc-rs, installed as the
    // process default before any client or server exists (docs/ARCHITECTURE.md, "Crypto
    // stack").
    signet_ca::install_crypto_provider();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Client(cmd) => client::run(cmd),
        Command::Probe { url } => probe(&url),
        Command::CaInit(args) => serve::ca_init::run(args),
        Command::Monitor(args) => monitor::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Witness(args) => witness::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("signet: error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
