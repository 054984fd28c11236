//! `signet ca-init`: creates a CA root and intermediate (ECDSA P-256 or P-384) with their keys
//! encrypted at rest, and writes the chain. The root key can then be moved offline: `serve`
//! needs only the intermediate key and `chain.pem`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use signet_ca::signer::{CaCurve, PasswordSource};

/// The CA key type.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Curve {
    /// ECDSA P-256 with SHA-256.
    P256,
    /// ECDSA P-384 with SHA-384.
    P384,
}

/// Arguments of `signet ca-init`.
#[derive(Args, Debug)]
pub(crate) struct CaInitArgs {
    /// Output directory: root.pem, intermediate.pem, chain.pem and the two encrypted keys.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Key type of both CAs.
    #[arg(long, value_enum, default_value = "p256")]
    curve: Curve,
    /// Organization (O) of both subjects.
    #[arg(long, default_value = "Signet")]
    organization: String,
    /// Common-name prefix: the CNs are PREFIX-root and PREFIX-intermediate.
    #[arg(long, default_value = "signet")]
    common_name: String,
    /// File holding the password that encrypts both keys.
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    password_file: Option<PathBuf>,
    /// Environment variable holding the password.
    #[arg(long, value_name = "VAR", default_value = "SIGNET_CA_PASSWORD")]
    password_env: String,
}

/// Runs `signet ca-init`.
pub(crate) fn run(args: CaInitArgs) -> anyhow::Result<std::process::ExitCode> {
    if args.dir.join("chain.pem").exists() {
        anyhow::bail!(
            "{} already holds a CA (chain.pem); refusing to overwrite it",
            args.dir.display()
        );
    }
    let source = match &args.password_file {
        Some(f) => PasswordSource::File(f.clone()),
        None => PasswordSource::Env(args.password_env.clone()),
    };
    let password = source.read().context("reading the CA key password")?;
    if password.len() < 8 {
        anyhow::bail!("the CA key password must be at least 8 bytes");
    }
    let curve = match args.curve {
        Curve::P256 => CaCurve::P256,
        Curve::P384 => CaCurve::P384,
    };
    let not_before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let not_before = i64::try_from(not_before)? - 60;
    let opts =
        signet_ca::init::InitOptions::new(curve, &args.organization, &args.common_name, not_before);
    signet_ca::init::init_to_dir(
        &args.dir,
        &opts,
        &password,
        signet_proto::keyfile::ScryptCost::DEFAULT,
    )
    .with_context(|| format!("creating the CA in {}", args.dir.display()))?;
    println!(
        "CA created in {}: chain.pem (intermediate, root), intermediate.key.enc.pem, \
         root.key.enc.pem (keep the root key offline)",
        args.dir.display()
    );
    Ok(std::process::ExitCode::SUCCESS)
}
