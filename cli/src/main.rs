//! The `signet` binary: `serve` runs the CA and the log, `witness` and `admission` are the
//! other servers; `sign`, `verify`, `attest`, `generate-key-pair` are the client commands;
//! `monitor` and `audit` are the auditors.
//!
//! The source is zoned by role (one directory each): `client`, `servers`, `auditors`, and the
//! shared `registry` and `fsutil`. Imports point one way: the client uses the shared zones;
//! the servers use them and the client's verification glue (`client::verify`, for
//! `admission`); the auditors use `fsutil`. Nothing imports a server or an auditor but `main`
//! (`scripts/module_cycles.py cli` checks there is no cycle).
//!
//! This crate is the I/O edge: network, registry, files and the clock live here; the formats
//! and the checks live in `signet-proto` and `signet-verifier`.

mod auditors; // monitor, audit: check a transparency log from outside
mod client; // sign, verify, attest, keys: the signer's and verifier's commands
#[cfg(test)]
mod config_reference; // docs/CONFIG.md: its examples load with the real parsers
mod errors; // error messages that show each cause once
mod fsutil; // durable, owner-only writes of keys and state files, shared by every zone
mod registry; // the OCI registry client, shared by the client and the admission webhook
mod servers; // serve, ca-init, witness, admission: long-running services
mod trust; // TUF: the repository of Signet's trust (init, rotate-root, export) and its client

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

// mimalloc: glibc malloc/free was about a tenth of the log's ingest CPU (docs/benchmarks-history.md, "HTTP ingest rerun", 2026-11-28).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keyless signing, a transparency log and offline verification, Sigstore-compatible.
#[derive(Parser)]
#[command(name = "signet", about)]
struct Cli {
    /// PEM file of extra CA certificates that every outgoing HTTPS connection trusts, on top
    /// of the system's store (which SSL_CERT_FILE replaces): a private registry, OIDC issuer,
    /// CA, log or witness. Repeatable; `ca_certs` in the serve configuration adds more.
    #[arg(long, global = true, value_name = "FILE", env = "SIGNET_CA_CERTS")]
    ca_certs: Vec<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the CA and the transparency log (one process by default).
    Serve(servers::serve::ServeArgs),
    /// Client commands: sign, verify, keys.
    #[command(flatten)]
    Client(Box<client::ClientCommand>),
    /// Run a Kubernetes validating admission webhook that admits workloads only when their
    /// images are signed as a policy file requires.
    Admission(servers::admission::AdmissionArgs),
    /// Create a CA root and intermediate for `serve` (`[ca.key] type = "file"`).
    CaInit(servers::serve::ca_init::CaInitArgs),
    /// The CA's life after `ca-init`: rotate its intermediate (or root), revoke certificates.
    Ca(servers::serve::ca_admin::CaArgs),
    /// The timestamp authority's key: rotate it (a new key and chain, the old one trusted
    /// through an overlap).
    Tsa(servers::serve::key_rotate::TsaArgs),
    /// The CT log's SCT key: rotate it (the old key trusted through an overlap).
    Ct(servers::serve::key_rotate::CtArgs),
    /// The log's life: freeze the current tree and start a new shard.
    Log(servers::serve::log_admin::LogArgs),
    /// The trusted keys for keyed signing: add a key with its window, revoke one.
    Keys(servers::serve::keys_admin::KeysArgs),
    /// Watch a log: consistency of its checkpoints, watched identities and anomaly rules.
    Monitor(auditors::monitor::MonitorArgs),
    /// Download every tile and entry of a log and recompute its root.
    Audit(auditors::audit::AuditArgs),
    /// Run a C2SP tlog-witness that cosigns checkpoints of configured logs.
    Witness(servers::witness::WitnessArgs),
    /// Signet's trust as a TUF repository: create and rotate its root, export it, or trust
    /// a mirror.
    Trust(trust::TrustArgs),
    /// Print the version and the git commit this binary was built from.
    Version,
    /// Print a shell completion script, e.g. `signet completions bash > /etc/bash_completion.d/signet`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the signet(1) man page, or write it and one page per command into a directory.
    Man {
        /// Write signet.1 and signet-COMMAND.1 here instead of printing signet.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
    /// Exit 0 if URL answers 2xx (a health probe for images without curl).
    Probe {
        /// The URL to GET, e.g. http://127.0.0.1:3000/readyz.
        url: String,
    },
}

/// `0.1.0 (commit <git rev-parse HEAD>)`: the version and the commit recorded at build time
/// (`log/build.rs`, the same constants `signet_build_info` reports; `unknown` outside git).
/// `signet version` and `signet --version` both print it.
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{} (commit {})",
        signet_log::metrics::VERSION,
        signet_log::metrics::COMMIT
    )
});

/// The clap command of the whole binary, with its version string.
fn cli_command() -> clap::Command {
    Cli::command().version(VERSION.as_str())
}

fn completions(shell: clap_complete::Shell) -> std::process::ExitCode {
    clap_complete::generate(shell, &mut cli_command(), "signet", &mut std::io::stdout());
    std::process::ExitCode::SUCCESS
}

fn man(dir: Option<&std::path::Path>) -> anyhow::Result<std::process::ExitCode> {
    use anyhow::Context as _;
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(cli_command(), dir)
                .with_context(|| format!("writing man pages into {}", dir.display()))?;
        }
        None => clap_mangen::Man::new(cli_command())
            .render(&mut std::io::stdout())
            .context("writing the man page")?,
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn probe(url: &str) -> anyhow::Result<std::process::ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let status = rt.block_on(async {
        signet_net::client_builder()
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
    let cli = match Cli::from_arg_matches(&cli_command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    if let Err(e) = signet_net::trust_ca_certs(&cli.ca_certs) {
        eprintln!("signet: error: --ca-certs: {e}");
        return std::process::ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Serve(args) => servers::serve::run(args),
        Command::Client(cmd) => client::run(*cmd),
        Command::Admission(args) => servers::admission::run(args),
        Command::Probe { url } => probe(&url),
        Command::Completions { shell } => Ok(completions(shell)),
        Command::Man { dir } => man(dir.as_deref()),
        Command::Version => {
            println!("signet {}", *VERSION);
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::CaInit(args) => servers::serve::ca_init::run(args),
        Command::Ca(args) => servers::serve::ca_admin::run(args),
        Command::Tsa(args) => servers::serve::key_rotate::run_tsa(args),
        Command::Ct(args) => servers::serve::key_rotate::run_ct(args),
        Command::Log(args) => servers::serve::log_admin::run(args),
        Command::Keys(args) => servers::serve::keys_admin::run(args),
        Command::Monitor(args) => auditors::monitor::run(args),
        Command::Audit(args) => auditors::audit::run(args),
        Command::Witness(args) => servers::witness::run(args),
        Command::Trust(args) => trust::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("signet: error: {}", errors::chain(err.as_ref()));
            std::process::ExitCode::from(2)
        }
    }
}
