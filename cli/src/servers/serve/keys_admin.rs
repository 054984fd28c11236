//! `signet keys add` and `signet keys revoke`: the trusted keys document for keyed signing
//! (`signet_verifier::trusted_keys`), kept as `<data_dir>/trusted_keys.json` and published by
//! `serve` at `/signet/v1/trusted_keys.json` and as the TUF target `trusted_keys.json` (read
//! at start: restart `serve` after a change). Every write is checked by the verifier's own
//! parser first, so a change that would make the document unusable writes nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use base64::Engine as _;
use clap::{Args, Subcommand};
use signet_proto::bundle::{TimeRange, Timestamp};
use signet_verifier::trusted_keys::{
    KeyRevocation, RawKey, TrustedKeyEntry, TrustedKeys, TrustedKeysDocument, MEDIA_TYPE,
};

use crate::fsutil::{write_durable, Existing, Mode};

/// The document's file name in the data directory (and its TUF target name).
pub(crate) const TRUSTED_KEYS_FILE: &str = "trusted_keys.json";

/// Arguments of `signet keys`.
#[derive(Args, Debug)]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

/// Which document.
#[derive(Args, Debug)]
struct DocArgs {
    /// The data directory of `signet serve` (the document is DIR/trusted_keys.json).
    /// Default ./signet-data.
    #[arg(long, value_name = "DIR", conflicts_with = "file")]
    data_dir: Option<PathBuf>,
    /// The document itself instead.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
}

impl DocArgs {
    fn path(&self) -> PathBuf {
        self.file.clone().unwrap_or_else(|| {
            self.data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("signet-data"))
                .join(TRUSTED_KEYS_FILE)
        })
    }
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Add a public key to the trusted keys, with its validity window.
    Add {
        #[command(flatten)]
        doc: DocArgs,
        /// A unique name for it (messages name the key by it).
        #[arg(long)]
        name: String,
        /// The public key (PEM or DER SPKI; `signet public-key` prints a private key's).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Start of its window (RFC 3339). Default: now.
        #[arg(long, value_name = "TIME")]
        start: Option<String>,
        /// End of its window (RFC 3339). Default: open.
        #[arg(long, value_name = "TIME")]
        end: Option<String>,
    },
    /// Revoke a trusted key: signatures it made at or after TIME are refused.
    Revoke {
        #[command(flatten)]
        doc: DocArgs,
        /// The key's name.
        #[arg(long)]
        name: String,
        /// From when (RFC 3339, e.g. when it was compromised). Default: now.
        #[arg(long, value_name = "TIME")]
        time: Option<String>,
        /// Why (RFC 5280 reason names by convention).
        #[arg(long, default_value = "unspecified")]
        reason: String,
    },
}

fn timestamp(text: Option<&str>, flag: &str) -> anyhow::Result<Timestamp> {
    match text {
        Some(t) => Timestamp::parse(t).with_context(|| {
            format!("{flag} {t:?} is not an RFC 3339 time (2026-01-02T03:04:05Z)")
        }),
        None => Ok(Timestamp::from_unix(super::now_unix())?),
    }
}

/// Runs `signet keys`.
pub(crate) fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    let (path, mut doc) = match &args.command {
        KeysCommand::Add { doc, .. } | KeysCommand::Revoke { doc, .. } => {
            let path = doc.path();
            let doc = match std::fs::read(&path) {
                Ok(bytes) => {
                    TrustedKeys::from_json(&bytes)
                        .with_context(|| format!("{} is not usable", path.display()))?;
                    signet_proto::json::from_slice::<TrustedKeysDocument>(&bytes)?
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => TrustedKeysDocument {
                    media_type: MEDIA_TYPE.to_owned(),
                    keys: Vec::new(),
                },
                Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
            };
            (path, doc)
        }
    };
    let said = match args.command {
        KeysCommand::Add {
            name,
            key,
            start,
            end,
            ..
        } => {
            let bytes =
                std::fs::read(&key).with_context(|| format!("reading {}", key.display()))?;
            let public = match std::str::from_utf8(&bytes) {
                Ok(text) if text.contains("-----BEGIN") => {
                    signet_proto::keys::PublicKey::from_pem(text)
                }
                _ => signet_proto::keys::PublicKey::from_spki_der(&bytes),
            }
            .with_context(|| format!("{} is not a public key (PEM or DER SPKI)", key.display()))?;
            let der = public.spki_der().to_vec();
            doc.keys.push(TrustedKeyEntry {
                name: name.clone(),
                public_key: RawKey {
                    raw_bytes: base64::engine::general_purpose::STANDARD.encode(der),
                },
                valid_for: TimeRange {
                    start: Some(timestamp(start.as_deref(), "--start")?),
                    end: end
                        .as_deref()
                        .map(|e| timestamp(Some(e), "--end"))
                        .transpose()?,
                },
                revoked: None,
            });
            format!("added the key {name:?}")
        }
        KeysCommand::Revoke {
            name, time, reason, ..
        } => {
            let entry = doc
                .keys
                .iter_mut()
                .find(|k| k.name == name)
                .with_context(|| format!("{} lists no key named {name:?}", path.display()))?;
            if let Some(r) = &entry.revoked {
                bail!(
                    "the key {name:?} is already revoked (from {}, {})",
                    r.time,
                    r.reason
                );
            }
            let t = timestamp(time.as_deref(), "--time")?;
            if t.unix_seconds() > super::now_unix() {
                bail!("--time is in the future: revoke the key when that time has come");
            }
            entry.revoked = Some(KeyRevocation {
                time: t.clone(),
                reason,
            });
            format!("revoked the key {name:?} from {t}")
        }
    };
    let bytes = serde_json::to_vec_pretty(&doc)?;
    TrustedKeys::from_json(&bytes).context("the document after the change")?;
    write_durable(&path, &bytes, Mode::Public, Existing::Replace)?;
    println!(
        "{said} in {}; restart `signet serve` to publish it (/signet/v1/trusted_keys.json, TUF target trusted_keys.json)",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
