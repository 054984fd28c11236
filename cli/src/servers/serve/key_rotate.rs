//! `signet tsa rotate` and `signet ct rotate`: a new key for the timestamp authority and for
//! the CT log, done offline on the data directory of `signet serve` as `signet ca rotate` is
//! (`signet_ca::generations`, never by editing JSON). The old key stays in the trusted root
//! (`timestampAuthorities`, `ctlogs`) with a `validFor` window that ends `--overlap-hours`
//! after the rotation; the new one's starts at it. `serve` signs with the new key once
//! restarted.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use signet_ca::generations::{generation_dir, Generations};
use signet_ca::signer::PasswordSource;
use signet_proto::keys::{EcdsaCurve, EcdsaSigner};

use crate::fsutil::{write_private, Existing};

/// Arguments of `signet tsa`.
#[derive(Args, Debug)]
pub(crate) struct TsaArgs {
    #[command(subcommand)]
    command: TsaCommand,
}

#[derive(Subcommand, Debug)]
enum TsaCommand {
    /// Make a new key and certificate chain for the timestamp authority `serve` generated;
    /// `serve` timestamps with it once restarted, and the old chain stays trusted for
    /// timestamps made until its window closes, --overlap-hours from now.
    Rotate(RotateArgs),
}

/// Arguments of `signet ct`.
#[derive(Args, Debug)]
pub(crate) struct CtArgs {
    #[command(subcommand)]
    command: CtCommand,
}

#[derive(Subcommand, Debug)]
enum CtCommand {
    /// Make a new key for the log's SCTs; `serve` signs SCTs with it once restarted, and the
    /// old key stays trusted for SCTs made until its window closes, --overlap-hours from now.
    Rotate(RotateArgs),
}

#[derive(Args, Debug)]
struct RotateArgs {
    /// The data directory of `signet serve`. Default ./signet-data.
    #[arg(long, value_name = "DIR", default_value = "signet-data")]
    data_dir: PathBuf,
    /// How long the old key stays in the trusted root after now: at least the time until
    /// `serve` is restarted (it signs with the old key until then).
    #[arg(long, default_value_t = 48)]
    overlap_hours: u32,
}

/// The creation time of a data directory `serve` made (the first window's start).
fn created_at(data: &Path) -> anyhow::Result<i64> {
    std::fs::read_to_string(data.join("created_at"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .with_context(|| {
            format!(
                "{} is not a data directory of `signet serve` (its created_at is missing or \
                 not a Unix time): give --data-dir, or start `signet serve --data-dir {}` once",
                data.display(),
                data.display()
            )
        })
}

fn print_done(what: &str, dir: &Path, g: &Generations, n: usize) -> anyhow::Result<()> {
    let a = &g.generations;
    println!(
        "generation {n} of the {what} in {}: valid from {}; generation {} stays trusted until {}",
        dir.display(),
        super::rfc3339(g.current().start)?,
        n - 1,
        super::rfc3339(a[a.len() - 2].end.unwrap_or_default())?,
    );
    println!(
        "restart `signet serve` now: it then signs with the new key and publishes both \
         (trusted_root.json, TUF targets)"
    );
    Ok(())
}

/// Runs `signet tsa`.
pub(crate) fn run_tsa(args: TsaArgs) -> anyhow::Result<ExitCode> {
    let TsaCommand::Rotate(r) = args.command;
    let created = created_at(&r.data_dir)?;
    let dir = r.data_dir.join("tsa");
    if !dir.join(signet_ca::tsa_rotate::CHAIN_FILE).exists() {
        bail!(
            "{} holds no timestamp authority that `serve` generated: start `signet serve \
             --data-dir {}` once; a TSA configured with [tsa] key and chain is rotated by \
             configuring its new key and chain",
            dir.display(),
            r.data_dir.display()
        );
    }
    let password = PasswordSource::File(dir.join("password"))
        .read()
        .context("reading the timestamp authority's key password")?;
    let (g, n) = signet_ca::tsa_rotate::rotate(
        &dir,
        created,
        &password,
        signet_proto::keyfile::ScryptCost::DEFAULT,
        super::now_unix(),
        i64::from(r.overlap_hours) * 3600,
    )
    .with_context(|| format!("rotating the timestamp authority in {}", dir.display()))?;
    print_done("timestamp authority", &dir, &g, n)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `signet ct`.
pub(crate) fn run_ct(args: CtArgs) -> anyhow::Result<ExitCode> {
    let CtCommand::Rotate(r) = args.command;
    let created = created_at(&r.data_dir)?;
    let dir = super::ct::dir(&r.data_dir);
    let key_file = super::ct::KEY_FILE;
    let mut history = match Generations::load(&dir)? {
        Some(g) => g,
        None => {
            // The first generation: a copy of the key the log generated.
            let log_key = r.data_dir.join("log").join(key_file);
            let text = std::fs::read_to_string(&log_key).with_context(|| {
                format!(
                    "reading the log's CT key {}: start `signet serve --data-dir {}` once",
                    log_key.display(),
                    r.data_dir.display()
                )
            })?;
            let signer = EcdsaSigner::from_pem(&text)
                .with_context(|| format!("{} is not a CT key", log_key.display()))?;
            let gen = generation_dir(&dir, 1)?;
            write_private(
                &dir.join(&gen).join(key_file),
                text.as_bytes(),
                Existing::Replace,
            )?;
            Generations::first(
                format!("{gen}/{key_file}"),
                signer.public_key().to_pem(),
                created,
            )
        }
    };
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let key = EcdsaSigner::generate(EcdsaCurve::P256, &rng).context("generating a key")?;
    let n = history.generations.len() + 1;
    let now = super::now_unix();
    if history.current().start >= now {
        bail!(
            "the CT key in use started at {} (Unix time), not before now: rotate again once it \
             is in use",
            history.current().start
        );
    }
    let gen = generation_dir(&dir, n)?;
    write_private(
        &dir.join(&gen).join(key_file),
        key.to_pkcs8_pem()?.as_bytes(),
        Existing::Replace,
    )?;
    let n = history.rotate(
        &dir,
        now,
        i64::from(r.overlap_hours) * 3600,
        format!("{gen}/{key_file}"),
        key.public_key().to_pem(),
    )?;
    history
        .save(&dir)
        .with_context(|| format!("rotating the CT key in {}", dir.display()))?;
    print_done("CT key", &dir, &history, n)?;
    Ok(ExitCode::SUCCESS)
}
