//! Standalone log server (used by the crash tests and benchmarks; the `signet` CLI embeds
//! the same library).
//!
//! Usage:
//!   signet-log serve --data-dir DIR [--listen ADDR] [--public-host HOST:PORT]
//!                    [--ct-root PEM]... [--batch-max-entries N] [--batch-delay-ms MS]
//!                    [--queue-capacity N] [--witness-policy FILE] [--witness-timeout-ms MS]
//!                    [--rekor-v2]   (a Rekor v2 log on its own: the write API of `v2`)
//!   signet-log fsck --data-dir DIR
//!
//! `serve` prints `listening on <addr>` on stdout once the socket is bound.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use signet_log::LogConfig;

// mimalloc: about a tenth of the log's ingest CPU was glibc malloc/free (docs/benchmarks-history.md, "HTTP ingest rerun", 2026-11-28).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    // One crypto stack: TLS (reqwest, axum-server) runs on aws-lc-rs, installed as the
    // process default before any client or server exists (docs/ARCHITECTURE.md, "Crypto
    // stack"). An error only means a provider is already installed.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut args = std::env::args().skip(1);
    let cmd = args.next().unwrap_or_default();
    let mut cfg = LogConfig::default();
    let rest: Vec<String> = args.collect();
    let mut i = 0;
    let val = |i: usize| -> anyhow::Result<String> {
        rest.get(i + 1)
            .cloned()
            .with_context(|| format!("{} needs a value", rest[i]))
    };
    while i < rest.len() {
        match rest[i].as_str() {
            "--data-dir" => cfg.data_dir = PathBuf::from(val(i)?),
            "--listen" => cfg.listen = val(i)?.parse().context("--listen")?,
            "--public-host" => cfg.public_host = Some(val(i)?),
            "--ct-root" => cfg.ct_roots.push(PathBuf::from(val(i)?)),
            "--batch-max-entries" => cfg.batch_max_entries = val(i)?.parse()?,
            "--batch-delay-ms" => cfg.batch_max_delay_ms = val(i)?.parse()?,
            "--queue-capacity" => cfg.queue_capacity = val(i)?.parse()?,
            "--witness-policy" => cfg.witness_policy = Some(PathBuf::from(val(i)?)),
            "--witness-timeout-ms" => cfg.witness_timeout_ms = val(i)?.parse()?,
            "--rekor-v2" => {
                // A flag: no value follows.
                cfg.rekor_v2 = true;
                i += 1;
                continue;
            }
            other => bail!("unknown argument {other}"),
        }
        i += 2;
    }
    match cmd.as_str() {
        "serve" => {
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let bound =
                    signet_log::bind(&cfg, std::sync::Arc::new(signet_log::SystemClock)).await?;
                println!("listening on {}", bound.local_addr());
                std::io::stdout().flush()?;
                bound.serve().await?;
                Ok(())
            })
        }
        "fsck" => {
            let keys = signet_log::LogKeys::load_or_generate(&LogConfig {
                generate_keys: false,
                ..cfg.clone()
            })?;
            let db = signet_log::open_store(&cfg.data_dir)?;
            let report = signet_log::fsck::fsck(
                &db,
                keys.log.public_key(),
                Some(&keys.witness.public_key_raw()),
            )?;
            println!(
                "fsck ok: size {} entries {} tiles {}",
                report.size, report.entries, report.tiles
            );
            Ok(())
        }
        _ => bail!("usage: signet-log serve|fsck --data-dir DIR [...]"),
    }
}
