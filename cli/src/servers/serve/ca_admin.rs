//! `signet ca rotate` and `signet ca revoke`: the CA's life after `ca-init` or the first
//! `serve`, done on its directory (`signet_ca::rotate`, `signet_ca::crl`), never by editing
//! JSON.
//!
//! Both work offline on the CA directory (`<data_dir>/ca` for the CA `serve` generated, or a
//! `ca-init` directory with `--dir`); `serve` publishes the result when it next starts: the
//! trusted root lists every intermediate with its `validFor` window, the CRLs are served at
//! `/signet/v1/crls.pem` and as the TUF target `crls.pem`, and the TUF targets are re-signed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use signet_ca::signer::PasswordSource;

/// Arguments of `signet ca`.
#[derive(Args, Debug)]
pub(crate) struct CaArgs {
    #[command(subcommand)]
    command: CaCommand,
}

/// Where the CA lives and how its keys are unlocked.
#[derive(Args, Debug)]
struct CaDir {
    /// The data directory of `signet serve` (its CA is in DIR/ca). Default ./signet-data.
    #[arg(long, value_name = "DIR", conflicts_with = "dir")]
    data_dir: Option<PathBuf>,
    /// A CA directory made by `signet ca-init` (`[ca.key] type = "file"`) instead.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// File holding the keys' password. Default: the CA directory's `password` (what
    /// `serve` generated), else the variable of --password-env.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// Environment variable holding the keys' password.
    #[arg(long, value_name = "VAR", default_value = "SIGNET_CA_PASSWORD")]
    password_env: String,
}

#[derive(Subcommand, Debug)]
enum CaCommand {
    /// Issue a new intermediate (under the same root, or a new one with --new-root) and
    /// start issuing from it at the next `serve` start; the old one stays trusted for
    /// signatures made until its window closes, --overlap-hours from now.
    Rotate {
        #[command(flatten)]
        ca: CaDir,
        /// How long the old intermediate stays in the trusted root after now: at least the
        /// certificates' lifetime (`ca.validity_hours`, 24 by default) plus the time until
        /// `serve` is restarted.
        #[arg(long, default_value_t = 48)]
        overlap_hours: u32,
        /// Also create a new root (the old root stays trusted through the old window).
        #[arg(long)]
        new_root: bool,
    },
    /// Revoke a certificate the CA issued (a signing certificate, or one of its
    /// intermediates) and re-sign its issuer's CRL.
    Revoke {
        #[command(flatten)]
        ca: CaDir,
        /// The serial number, hex (as `openssl x509 -serial` prints it).
        #[arg(long, value_name = "HEX", required_unless_present = "certificate")]
        serial: Option<String>,
        /// The certificate to revoke (PEM or DER), instead of --serial.
        #[arg(long, value_name = "FILE", conflicts_with = "serial")]
        certificate: Option<PathBuf>,
        /// RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged,
        /// superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise.
        #[arg(long, default_value = "unspecified")]
        reason: String,
        /// Refuse signatures from this time on (RFC 3339, e.g. when the key was compromised;
        /// not in the future). Default: now.
        #[arg(long, value_name = "TIME")]
        time: Option<String>,
        /// For a signing certificate issued by an older intermediate: its generation (1 is
        /// the first; `authorities.json` lists them). Default: the one in use.
        #[arg(long, value_name = "N")]
        generation: Option<usize>,
    },
}

/// The CA directory, the time its first generation starts, and the keys' password.
fn open(ca: &CaDir) -> anyhow::Result<(PathBuf, i64, Vec<u8>)> {
    let (dir, created) = match &ca.dir {
        Some(dir) => {
            // A ca-init directory: its first window starts at the intermediate's notBefore.
            let chain = super::read_chain(&dir.join("chain.pem"))?;
            let (_, c) = x509_parser::parse_x509_certificate(&chain[0])
                .map_err(|e| anyhow::anyhow!("{}/chain.pem: {e}", dir.display()))?;
            (dir.clone(), c.validity().not_before.timestamp())
        }
        None => {
            let data = ca
                .data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("signet-data"));
            let dir = data.join("ca");
            if !dir.join("chain.pem").exists() {
                bail!(
                    "{} holds no CA (chain.pem): start `signet serve --data-dir {}` once, or give --dir for a `signet ca-init` directory",
                    dir.display(),
                    data.display()
                );
            }
            let created = std::fs::read_to_string(data.join("created_at"))
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .with_context(|| {
                    format!(
                        "{}/created_at is missing or not a Unix time",
                        data.display()
                    )
                })?;
            (dir, created)
        }
    };
    let source = match &ca.password_file {
        Some(f) => PasswordSource::File(f.clone()),
        None if dir.join("password").exists() => PasswordSource::File(dir.join("password")),
        None => PasswordSource::Env(ca.password_env.clone()),
    };
    let password = source.read().context("reading the CA key password")?;
    Ok((dir, created, password))
}

fn parse_time(text: &str) -> anyhow::Result<i64> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .with_context(|| {
            format!("--time {text:?} is not an RFC 3339 time (2026-01-02T03:04:05Z)")
        })?;
    Ok(t.unix_timestamp())
}

fn serial_of_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let der = match pem::parse(&bytes) {
        Ok(p) if p.tag() == "CERTIFICATE" => p.contents().to_vec(),
        Ok(p) => bail!(
            "{} holds a {:?} block, not a CERTIFICATE",
            path.display(),
            p.tag()
        ),
        Err(_) => bytes,
    };
    let (_, c) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| anyhow::anyhow!("{} is not a certificate: {e}", path.display()))?;
    Ok(c.raw_serial().to_vec())
}

/// Runs `signet ca`.
pub(crate) fn run(args: CaArgs) -> anyhow::Result<ExitCode> {
    let now = super::now_unix();
    match args.command {
        CaCommand::Rotate {
            ca,
            overlap_hours,
            new_root,
        } => {
            let (dir, created, password) = open(&ca)?;
            let mut opts =
                signet_ca::rotate::RotateOptions::new(now, i64::from(overlap_hours) * 3600);
            opts.new_root = new_root;
            let r = signet_ca::rotate::rotate(
                &dir,
                created,
                &password,
                signet_proto::keyfile::ScryptCost::DEFAULT,
                &opts,
            )
            .with_context(|| format!("rotating the CA in {}", dir.display()))?;
            let a = &r.authorities.authorities;
            println!(
                "generation {} of the CA in {}: a new intermediate{}, valid from {}; generation {} stays trusted until {}",
                r.generation,
                dir.display(),
                if new_root { " under a new root" } else { "" },
                super::rfc3339(now)?,
                r.generation - 1,
                super::rfc3339(a[a.len() - 2].end.unwrap_or(now))?,
            );
            println!("restart `signet serve` now: it then issues from the new intermediate and publishes both (trusted_root.json, TUF targets)");
        }
        CaCommand::Revoke {
            ca,
            serial,
            certificate,
            reason,
            time,
            generation,
        } => {
            let (dir, created, password) = open(&ca)?;
            let serial = match (&serial, &certificate) {
                (Some(hex_text), _) => {
                    let t = hex_text.trim().trim_start_matches("0x").replace(':', "");
                    hex::decode(if t.len() % 2 == 1 { format!("0{t}") } else { t })
                        .with_context(|| format!("--serial {hex_text:?} is not hex"))?
                }
                (None, Some(path)) => serial_of_file(path)?,
                (None, None) => bail!("give --serial or --certificate"),
            };
            let invalid_from = time.as_deref().map(parse_time).transpose()?;
            let req = signet_ca::crl::RevokeRequest {
                serial,
                reason,
                now,
                invalid_from,
                generation,
            };
            let r = signet_ca::crl::revoke(&dir, created, &password, &req)
                .with_context(|| format!("revoking in the CA in {}", dir.display()))?;
            println!(
                "revoked {} by {} from {} (CRL number {}); written to {}",
                if r.intermediate {
                    "an intermediate"
                } else {
                    "a certificate"
                },
                r.issuer,
                super::rfc3339(invalid_from.unwrap_or(now))?,
                r.crl_number,
                dir.join(signet_ca::crl::CRLS_FILE).display()
            );
            println!(
                "restart `signet serve` to publish it (/signet/v1/crls.pem, TUF target crls.pem)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
