//! The `signet` binary: `serve` runs the CA and the log; `sign`, `verify`, `monitor`, `audit`
//! and `witness` are the client and auditor commands.
//!
//! This crate is the I/O edge: network, registry, files and the clock live here; the formats
//! and the checks live in `signet-proto` and `signet-verifier`.

mod client;
mod serve;

use clap::{Parser, Subcommand};

/// Keyless signing, a transparency log and offline verification, Sigstore-compatible.
#[derive(Parser)]
#[command(name = "signet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the CA and the transparency log (one process by default).
    Serve(serve::ServeArgs),
    /// Client commands: sign, verify, keys.
    #[command(flatten)]
    Client(client::ClientCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Client(cmd) => client::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("signet: error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
