//! `signet trust`: Signet's trust over time as a TUF repository.
//!
//! * `trust init --root-key K1 --root-key K2 ... --threshold K --out DIR`: the offline root
//!   role (k of n key files, ECDSA P-256 or Ed25519) and the three online keys `serve` holds;
//!   writes `1.root.json`.
//! * `trust rotate-root --dir DIR --key ... [--add-key ...] [--remove-key ...] [--threshold K]`:
//!   root version N+1, signed by a threshold of the old root keys and of the new ones.
//! * `trust export --out DIR`: the published repository as a static directory (a CDN or an
//!   air-gapped mirror).
//! * `trust init --mirror URL --root root.json`: the client side (as `cosign initialize`);
//!   `verify` and `verify-blob` then use the TUF-verified trusted root by default, refreshed
//!   on each run (`trust refresh` does only that).
//!
//! `repo` is the repository on disk (used by `serve` too), `client` the updater, `refresh` the
//! periodic re-read of the trust by long-running processes (`admission`, `monitor`). This zone
//! imports only the shared `fsutil` and `errors`.

pub(crate) mod client;
pub(crate) mod refresh;
pub(crate) mod repo;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use signet_proto::tuf::{Role, RoleKeys, TufKey};

/// Arguments of `signet trust`.
#[derive(Args)]
pub(crate) struct TrustArgs {
    #[command(subcommand)]
    command: TrustCommand,
}

#[derive(Subcommand)]
enum TrustCommand {
    /// Create a TUF repository's root (with --root-key, --threshold, --out), or trust a
    /// Signet TUF mirror on this machine (with --mirror and --root).
    Init(InitArgs),
    /// Write root version N+1: add or remove root keys, change the threshold. It must be
    /// signed by a threshold of the old root keys and of the new ones.
    RotateRoot(RotateArgs),
    /// Copy the TUF repository `serve` publishes into a directory, for a CDN or an
    /// air-gapped mirror (re-export before its timestamp expires).
    Export(ExportArgs),
    /// Client: refresh the trusted root from the mirror `trust init --mirror` set up (or
    /// --mirror) and print its path.
    Refresh {
        /// The mirror (default: the one `trust init --mirror` set up).
        #[arg(long, value_name = "URL")]
        mirror: Option<String>,
    },
}

#[derive(Args)]
struct InitArgs {
    /// A root key: a file (PKCS#8 PEM private key: ECDSA P-256 or Ed25519), or an RFC 7512
    /// `pkcs11:` URI of a P-256 key in a token (module and PIN as `sign --key pkcs11:`).
    /// Repeat, or separate with commas.
    #[arg(
        long = "root-key",
        visible_alias = "root-keys",
        value_name = "FILE",
        value_delimiter = ','
    )]
    root_keys: Vec<PathBuf>,
    /// How many root keys must sign a root (1..number of keys).
    #[arg(long, value_name = "K")]
    threshold: Option<u64>,
    /// The TUF directory to create (`serve` reads `<data_dir>/tuf` by default).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Days until the root expires.
    #[arg(long, value_name = "DAYS", default_value_t = 365)]
    expires_days: u32,
    /// The environment variable holding the password of encrypted key files.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// Client: the TUF repository to trust, e.g. `https://signet.example/tuf` (or a directory).
    #[arg(long, value_name = "URL", conflicts_with_all = ["root_keys", "threshold", "out"])]
    mirror: Option<String>,
    /// Client: the root.json to start from, obtained out of band.
    #[arg(long, value_name = "FILE", requires = "mirror")]
    root: Option<PathBuf>,
}

#[derive(Args)]
struct RotateArgs {
    /// The TUF directory (`trust init --out`).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// A root key (file or `pkcs11:` URI) that signs the new root (old and new key holders
    /// alike). Repeatable.
    #[arg(long = "key", value_name = "FILE", value_delimiter = ',')]
    keys: Vec<PathBuf>,
    /// A key to add to the root role (a public key PEM, or a private key file, which then
    /// also signs). Repeatable.
    #[arg(long = "add-key", value_name = "FILE", value_delimiter = ',')]
    add: Vec<PathBuf>,
    /// A key to remove from the root role (public or private key file). Repeatable.
    #[arg(long = "remove-key", value_name = "FILE", value_delimiter = ',')]
    remove: Vec<PathBuf>,
    /// The new root threshold (default: unchanged).
    #[arg(long, value_name = "K")]
    threshold: Option<u64>,
    /// Days until the new root expires.
    #[arg(long, value_name = "DAYS", default_value_t = 365)]
    expires_days: u32,
    /// The environment variable holding the password of encrypted key files.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
}

#[derive(Args)]
struct ExportArgs {
    /// The serve data directory (its trust files are the targets).
    #[arg(long, value_name = "DIR", default_value = "./signet-data")]
    data_dir: PathBuf,
    /// The TUF directory (default: DATA_DIR/tuf).
    #[arg(long, value_name = "DIR")]
    tuf_dir: Option<PathBuf>,
    /// Where to write the static repository (created; must not exist or be empty).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Runs `signet trust`.
pub(crate) fn run(args: TrustArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TrustCommand::Init(a) => init(&a),
        TrustCommand::RotateRoot(a) => rotate_root(&a),
        TrustCommand::Export(a) => export(&a),
        TrustCommand::Refresh { mirror } => {
            let path = match mirror {
                Some(m) => client::refresh(&m)?,
                // Strict: an unreachable mirror is an error here, not the cache.
                None => match client::default_mirror()? {
                    Some(m) => client::refresh(&m)?,
                    None => client::trusted_root_or_default(None)?,
                },
            };
            println!("{}", path.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn expiry(days: u32) -> i64 {
    now_unix() + i64::from(days) * 86_400
}

fn init(a: &InitArgs) -> anyhow::Result<ExitCode> {
    if let Some(mirror) = &a.mirror {
        let root = a
            .root
            .as_deref()
            .context("--mirror needs --root root.json: the root to start trusting from")?;
        let path = client::bootstrap(mirror, root)?;
        println!(
            "trusted {mirror}; verified trusted root: {}",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let out = a
        .out
        .as_deref()
        .context("give --out DIR (a new repository) or --mirror URL --root FILE (trust one)")?;
    if a.root_keys.is_empty() {
        bail!("give the root keys: --root-key FILE (repeat for k of n)");
    }
    let threshold = a
        .threshold
        .context("give --threshold K (how many root keys must sign)")?;
    if out.join("1.root.json").exists() {
        bail!(
            "{} already holds a root; change it with `signet trust rotate-root --dir {}`",
            out.display(),
            out.display()
        );
    }
    let signers = a
        .root_keys
        .iter()
        .map(|p| repo::read_root_signer(p, a.password_env.as_deref()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let public: Vec<TufKey> = signers
        .iter()
        .map(|s| s.tuf_key())
        .collect::<Result<_, _>>()?;
    // Check the threshold before any key is generated.
    let probe = public[0].clone();
    signet_proto::tuf::new_root(1, 0, &public, threshold, [&probe, &probe, &probe])?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let online = repo::generate_online_keys(out)?;
    let root = signet_proto::tuf::new_root(
        1,
        expiry(a.expires_days),
        &public,
        threshold,
        [&online[0], &online[1], &online[2]],
    )?;
    let bytes = repo::sign_root(&root, None, &signers)?;
    signet_proto::tuf::TrustedSet::new(&bytes).context("the new root does not verify")?;
    repo::write_root(out, 1, &bytes)?;
    println!(
        "wrote {} (root v1: {} root keys, threshold {threshold}) and the online keys in {}",
        out.join("1.root.json").display(),
        public.len(),
        out.join("online").display()
    );
    Ok(ExitCode::SUCCESS)
}

fn rotate_root(a: &RotateArgs) -> anyhow::Result<ExitCode> {
    let mut set = repo::verify_root_chain(&a.dir)?;
    let old = set.root().clone();
    let pw = a.password_env.as_deref();
    let mut signers = a
        .keys
        .iter()
        .map(|p| repo::read_root_signer(p, pw))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut new = old.clone();
    new.common.version = old.common.version + 1;
    new.common.expires = expiry(a.expires_days);
    let mut root_role = old
        .role(Role::Root)
        .cloned()
        .context("the old root has no root role")?;
    for path in &a.add {
        let key = repo::read_public_key(path, pw)?;
        let id = key.key_id();
        if root_role.keyids.contains(&id) {
            bail!("{} is already a root key ({id})", path.display());
        }
        if let Ok(signer) = repo::read_root_signer(path, pw) {
            signers.push(signer);
        }
        new.keys.insert(id.clone(), key);
        root_role.keyids.push(id);
    }
    for path in &a.remove {
        let id = repo::read_public_key(path, pw)?.key_id();
        if !root_role.keyids.contains(&id) {
            bail!(
                "{} is not a root key of root v{}",
                path.display(),
                old.common.version
            );
        }
        root_role.keyids.retain(|k| k != &id);
    }
    if let Some(t) = a.threshold {
        root_role.threshold = t;
    }
    let n = u64::try_from(root_role.keyids.len()).unwrap_or(u64::MAX);
    if root_role.threshold == 0 || root_role.threshold > n {
        bail!(
            "the root threshold {} must be between 1 and the number of root keys ({n})",
            root_role.threshold
        );
    }
    let threshold = root_role.threshold;
    new.roles.insert(Role::Root, root_role);
    // Keys no role lists any more leave the root.
    let used: Vec<String> = new
        .roles
        .values()
        .flat_map(|r: &RoleKeys| r.keyids.clone())
        .collect();
    new.keys.retain(|id, _| used.contains(id));
    let bytes = repo::sign_root(&new, Some(&old), &signers)?;
    set.update_root(&bytes).with_context(|| {
        format!(
            "root v{} needs {} signatures of root v{}'s keys and {threshold} of its own",
            new.common.version,
            old.role(Role::Root).map_or(0, |r| r.threshold),
            old.common.version
        )
    })?;
    repo::write_root(&a.dir, new.common.version, &bytes)?;
    println!(
        "wrote {} (root v{}: {n} root keys, threshold {threshold})",
        a.dir
            .join(format!("{}.root.json", new.common.version))
            .display(),
        new.common.version
    );
    Ok(ExitCode::SUCCESS)
}

/// The default lifetimes (the `[tuf]` defaults of `serve`).
pub(crate) const DEFAULT_LIFETIMES: repo::Lifetimes = repo::Lifetimes {
    timestamp_secs: 86_400,
    snapshot_secs: 7 * 86_400,
    targets_secs: 90 * 86_400,
};

fn export(a: &ExportArgs) -> anyhow::Result<ExitCode> {
    let tuf_dir = a.tuf_dir.clone().unwrap_or_else(|| a.data_dir.join("tuf"));
    let repository = repo::Repository::open(&tuf_dir)?;
    let published = repository.published();
    // What `serve` published is copied as it is (its lifetimes are the server's); only a
    // repository never published is signed here first, with the default lifetimes.
    if !published.join("timestamp.json").exists() {
        let read = |name: &str| {
            let p = a.data_dir.join(name);
            std::fs::read(&p).with_context(|| {
                format!(
                    "cannot read {} (written by `signet serve` into its data directory)",
                    p.display()
                )
            })
        };
        let trusted_root = read("trusted_root.json")?;
        let signing_config = read("signing_config.json")?;
        repository.refresh(
            &[
                (repo::TRUSTED_ROOT_TARGET, &trusted_root),
                (repo::SIGNING_CONFIG_TARGET, &signing_config),
            ],
            &DEFAULT_LIFETIMES,
            now_unix(),
        )?;
    }
    if a.out.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        bail!("{} exists and is not empty", a.out.display());
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    // The timestamp first: every file it names (written before it) is then copied too, even
    // while a server re-signs.
    std::fs::copy(
        published.join("timestamp.json"),
        a.out.join("timestamp.json"),
    )
    .with_context(|| format!("copying timestamp.json into {}", a.out.display()))?;
    let mut copied = 1usize;
    copy_tree(&published, &a.out, &mut copied)?;
    println!("exported {copied} files into {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}

fn copy_tree(
    from: &std::path::Path,
    to: &std::path::Path,
    copied: &mut usize,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_name() == "timestamp.json" && to.join("timestamp.json").exists() {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target, copied)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying to {}", target.display()))?;
            *copied += 1;
        }
    }
    Ok(())
}
