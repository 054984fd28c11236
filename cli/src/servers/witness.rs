//! `signet witness`: a C2SP tlog-witness (<https://c2sp.org/tlog-witness>) that cosigns
//! checkpoints of the configured logs with a `cosignature/v1` key
//! (<https://c2sp.org/tlog-cosignature>).
//!
//! * `signet witness --generate-key FILE --name NAME` writes a new Ed25519 witness key (mode
//!   0600, refusing to overwrite) and prints its `cosignature/v1` vkey on stdout.
//! * `signet witness --rotate-key FILE` puts a new key (same name) first in the key file and
//!   keeps the older ones after it, printing the new vkey; `--retire-old-keys FILE` keeps the
//!   first key alone. The witness cosigns with every key in its file, so a log's witness
//!   policy may name the old vkey or the new one while it moves from one to the other (the
//!   log keeps the cosignatures that verify with the keys its policy names), and checkpoints
//!   cosigned with the old key stay verifiable as long as a policy lists that key.
//! * `signet witness --config FILE` serves `POST /add-checkpoint` and `GET /healthz`, over
//!   HTTPS when the config has a `[tls]` section (`cert`, `key`: PEM files). When it is bound
//!   it prints `signet witness listening on http(s)://ADDR` on stdout. Its C2SP answers are
//!   plain text; a 404, 405 or 413 (which the spec does not cover) is the log's JSON `{code,
//!   message}`.
//!
//! The decision for each request is [`signet_proto::witness::check_add_checkpoint`]. This
//! module adds the I/O: for each origin, a lock is held from reading the recorded state
//! until the new state is on disk (temporary file, fsync, rename, fsync of the directory),
//! and only then is the cosignature made and returned, so two concurrent requests can never
//! roll the recorded size back and a crash never loses a state that was cosigned.
//!
//! Key file: one line per key, `PRIVATE+KEY+<name>+<hash>+<base64(0x04 || Ed25519 seed)>`,
//! the C2SP signer-key layout of golang.org/x/mod/sumdb/note with the `cosignature/v1` type
//! byte 0x04 (the hash is the key ID of the matching vkey); the newest key first, every key
//! under the same name.
//!
//! State: `state_dir/<hex SHA-256 of the origin>.json`, holding
//! `{"origin": "...", "state": {"size": N, "root": "<base64>"}}`.
//!
//! What this does not do: no monitoring (read) API (the spec has not settled it), no logging
//! of rejected requests beyond one line on stderr, no client certificates, no key
//! rotation of the log keys beyond listing one vkey per `[[log]]` entry.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::keys::Ed25519Signer;
use signet_proto::note::{
    key_hash, CosignatureV1Signer, Ed25519NoteVerifier, NoteSigner as _, Verifiers,
    SIG_TYPE_COSIGNATURE_V1,
};
use signet_proto::witness::{
    check_add_checkpoint, cosign, size_body, AddCheckpoint, LogState, WitnessRejection,
    SIZE_CONTENT_TYPE,
};
use tokio::sync::Mutex;

use crate::fsutil::{write_private, Existing};

/// Largest accepted request body (a checkpoint with many signatures and 63 proof lines is a
/// few KiB).
const MAX_BODY: usize = 64 * 1024;

/// Arguments of `signet witness`.
#[derive(clap::Args)]
pub(crate) struct WitnessArgs {
    /// TOML configuration file: listen, name, key, state_dir and one `[[log]]` table per log.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present_any = ["generate_key", "rotate_key", "retire_old_keys"],
        conflicts_with_all = ["generate_key", "rotate_key", "retire_old_keys"]
    )]
    config: Option<PathBuf>,
    /// Add a new key (same name) first in the witness key FILE, keeping the older keys after
    /// it (the witness cosigns with all of them), and print its cosignature/v1 vkey.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["generate_key", "retire_old_keys"])]
    rotate_key: Option<PathBuf>,
    /// Keep only the newest key of the witness key FILE (once no log's policy names the
    /// older ones), and print its vkey.
    #[arg(long, value_name = "FILE", conflicts_with = "generate_key")]
    retire_old_keys: Option<PathBuf>,
    /// Write a new witness key to FILE (mode 0600) and print its cosignature/v1 vkey.
    #[arg(long, value_name = "FILE", requires = "name")]
    generate_key: Option<PathBuf>,
    /// Key name for --generate-key, for example witness.example/w1.
    #[arg(long, value_name = "NAME", requires = "generate_key")]
    name: Option<String>,
    #[command(flatten)]
    log: crate::servers::logging::LogArgs,
}

/// Runs `signet witness`.
pub(crate) fn run(args: WitnessArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.generate_key {
        let name = args
            .name
            .as_deref()
            .context("--generate-key needs --name")?;
        let signer = generate_key(path, name)?;
        println!("{}", signer.to_vkey());
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(path) = &args.rotate_key {
        let (signer, older) = rotate_key(path)?;
        println!("{}", signer.to_vkey());
        eprintln!(
            "{}: a new key first, {older} older key(s) kept; once the witness restarts it \
             cosigns with all of them. Put the vkey above in the witness policies in place of \
             the old one, then run `signet witness --retire-old-keys {}`",
            path.display(),
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(path) = &args.retire_old_keys {
        let signer = retire_old_keys(path)?;
        println!("{}", signer.to_vkey());
        return Ok(ExitCode::SUCCESS);
    }
    let path = args
        .config
        .as_deref()
        .context("--config FILE or --generate-key FILE is required")?;
    let config = Config::load(path)?;
    let state = AppState::open(&config)?;
    args.log.init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(config.listen, config.tls.as_ref(), state))?;
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------------
// Configuration.

/// The `signet witness` configuration file (TOML). Relative paths are relative to the
/// directory of the configuration file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Listen address, HOST:PORT (an IP address or a host name); port 0 picks a free port.
    listen: crate::servers::listen::ListenAddr,
    /// The witness key name; must match the name in the key file.
    name: String,
    /// The witness key file (see the module docs).
    key: PathBuf,
    /// Directory of the per-log state files (created if missing).
    state_dir: PathBuf,
    /// The logs this witness cosigns.
    #[serde(default, rename = "log")]
    logs: Vec<LogConfig>,
    /// Serve HTTPS with this certificate and key (paths relative to the config file).
    #[serde(default)]
    tls: Option<crate::servers::listen::TlsConfig>,
}

/// One `[[log]]` entry.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LogConfig {
    /// The checkpoint origin line.
    origin: String,
    /// The log's C2SP Ed25519 note verifier key (`name+hash+base64(0x01 || key)`).
    vkey: String,
}

impl Config {
    fn load(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut config: Self =
            toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.key = base.join(&config.key);
        config.state_dir = base.join(&config.state_dir);
        if let Some(tls) = &mut config.tls {
            tls.cert = base.join(&tls.cert);
            tls.key = base.join(&tls.key);
        }
        config
            .validate()
            .with_context(|| format!("in {}", path.display()))?;
        Ok(config)
    }

    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        if self.logs.is_empty() {
            bail!("no [[log]] configured");
        }
        let mut seen = std::collections::HashSet::new();
        for log in &self.logs {
            if log.origin.is_empty() || log.origin.chars().any(char::is_control) {
                bail!(
                    "[[log]] origin {:?} is empty or has control characters",
                    log.origin
                );
            }
            if !seen.insert(log.origin.as_str()) {
                bail!("[[log]] origin {:?} is listed twice", log.origin);
            }
            Ed25519NoteVerifier::from_vkey(&log.vkey)
                .with_context(|| format!("[[log]] {:?}: vkey", log.origin))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Keys.

fn generate_key(path: &Path, name: &str) -> anyhow::Result<CosignatureV1Signer> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let key = Ed25519Signer::generate(&rng).context("generating an Ed25519 key")?;
    let seed = *key.seed();
    let signer = CosignatureV1Signer::new(name, key).context("witness key name")?;
    let text = format!("{}\n", skey_text(&signer, &seed));
    write_private(path, text.as_bytes(), Existing::Refuse)?;
    Ok(signer)
}

/// Every key of a key file, newest first: one per non-empty line, all under one name.
fn parse_skeys(text: &str) -> anyhow::Result<Vec<CosignatureV1Signer>> {
    let keys = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| parse_skey(l).with_context(|| format!("key {}", i + 1)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let Some(first) = keys.first() else {
        bail!("the witness key file holds no key");
    };
    let name = first.at(0).name().to_owned();
    if let Some(other) = keys.iter().find(|k| k.at(0).name() != name) {
        bail!(
            "the witness key file holds keys named {name:?} and {:?}: one witness has one name",
            other.at(0).name()
        );
    }
    Ok(keys)
}

/// `--rotate-key`: a new key first in the file, the older lines kept after it. Returns the new
/// key and the number of older keys.
fn rotate_key(path: &Path) -> anyhow::Result<(CosignatureV1Signer, usize)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let older = parse_skeys(&text).with_context(|| format!("in {}", path.display()))?;
    let name = older[0].at(0).name().to_owned();
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let key = Ed25519Signer::generate(&rng).context("generating an Ed25519 key")?;
    let seed = *key.seed();
    let signer = CosignatureV1Signer::new(&name, key).context("witness key name")?;
    let mut out = format!("{}\n", skey_text(&signer, &seed));
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        out.push_str(line.trim());
        out.push('\n');
    }
    write_private(path, out.as_bytes(), Existing::Replace)?;
    Ok((signer, older.len()))
}

/// `--retire-old-keys`: the file keeps its first (newest) key alone.
fn retire_old_keys(path: &Path) -> anyhow::Result<CosignatureV1Signer> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut keys = parse_skeys(&text).with_context(|| format!("in {}", path.display()))?;
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim();
    write_private(path, format!("{first}\n").as_bytes(), Existing::Replace)?;
    Ok(keys.swap_remove(0))
}

fn skey_text(signer: &CosignatureV1Signer, seed: &[u8; 32]) -> String {
    let at = signer.at(0);
    let mut raw = vec![SIG_TYPE_COSIGNATURE_V1];
    raw.extend_from_slice(seed);
    format!(
        "PRIVATE+KEY+{}+{:08x}+{}",
        at.name(),
        at.key_hash(),
        B64.encode(raw)
    )
}

fn parse_skey(text: &str) -> anyhow::Result<CosignatureV1Signer> {
    let rest = text
        .trim()
        .strip_prefix("PRIVATE+KEY+")
        .context("witness key does not start with PRIVATE+KEY+")?;
    // The base64 key may itself contain '+': split off the name and the hash only.
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(hash), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("witness key is not PRIVATE+KEY+<name>+<hash>+<base64>");
    };
    let raw = B64.decode(b64).context("witness key is not base64")?;
    let Some((&ty, seed)) = raw.split_first() else {
        bail!("witness key is empty");
    };
    if ty != SIG_TYPE_COSIGNATURE_V1 {
        bail!("witness key type is 0x{ty:02x}, want 0x04 (cosignature/v1)");
    }
    let seed: [u8; 32] = seed
        .try_into()
        .context("witness key seed is not 32 bytes")?;
    let key = Ed25519Signer::from_seed(&seed).context("witness key seed")?;
    let expected = key_hash(name, SIG_TYPE_COSIGNATURE_V1, &key.public_key_raw());
    if hash.len() != 8 || u32::from_str_radix(hash, 16).ok() != Some(expected) {
        bail!("witness key hash {hash} does not match the key (want {expected:08x})");
    }
    CosignatureV1Signer::new(name, key).context("witness key name")
}

// ---------------------------------------------------------------------------------------------
// State.

/// What is stored for one origin.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    origin: String,
    state: LogState,
}

fn state_path(dir: &Path, origin: &str) -> PathBuf {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, origin.as_bytes());
    dir.join(format!("{}.json", hex::encode(digest.as_ref())))
}

fn load_state(dir: &Path, origin: &str) -> anyhow::Result<Option<LogState>> {
    let path = state_path(dir, origin);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let file: StateFile = signet_proto::json::from_slice(&bytes)
        .with_context(|| format!("parsing {}", path.display()))?;
    if file.origin != origin {
        bail!(
            "{} is for origin {:?}, not {origin:?}",
            path.display(),
            file.origin
        );
    }
    Ok(Some(file.state))
}

/// Writes the state durably: temporary file, fsync, rename over the old file, fsync of the
/// directory.
fn store_state(dir: &Path, origin: &str, state: &LogState) -> anyhow::Result<()> {
    let path = state_path(dir, origin);
    let file = StateFile {
        origin: origin.to_owned(),
        state: state.clone(),
    };
    let mut bytes = serde_json::to_vec_pretty(&file)?;
    bytes.push(b'\n');
    write_private(&path, &bytes, Existing::Replace)
}

// ---------------------------------------------------------------------------------------------
// Server.

/// One configured log: its keys and its recorded state behind the lock that makes
/// check + persist atomic.
struct LogEntry {
    keys: Verifiers,
    state: Mutex<Option<LogState>>,
}

/// Shared server state.
#[derive(Clone)]
struct AppState {
    logs: Arc<HashMap<String, LogEntry>>,
    /// Every key of the key file, newest first; each cosigns.
    signers: Arc<Vec<CosignatureV1Signer>>,
    state_dir: Arc<PathBuf>,
}

impl AppState {
    fn open(config: &Config) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(&config.key)
            .with_context(|| format!("reading {}", config.key.display()))?;
        let signers = parse_skeys(&text).with_context(|| format!("in {}", config.key.display()))?;
        if signers[0].at(0).name() != config.name {
            bail!(
                "the key in {} is named {:?}, the configuration says {:?}",
                config.key.display(),
                signers[0].at(0).name(),
                config.name
            );
        }
        std::fs::create_dir_all(&config.state_dir)
            .with_context(|| format!("creating {}", config.state_dir.display()))?;
        let mut logs = HashMap::new();
        for log in &config.logs {
            let keys = Verifiers::new().with(Ed25519NoteVerifier::from_vkey(&log.vkey)?);
            let state = load_state(&config.state_dir, &log.origin)?;
            logs.insert(
                log.origin.clone(),
                LogEntry {
                    keys,
                    state: Mutex::new(state),
                },
            );
        }
        Ok(Self {
            logs: Arc::new(logs),
            signers: Arc::new(signers),
            state_dir: Arc::new(config.state_dir.clone()),
        })
    }
}

/// The witness's routes. The C2SP answers of `add-checkpoint` are plain text as the spec
/// has them; what the spec does not cover is answered with the log's JSON `{code, message}`:
/// a path no route serves (404), a method a route does not serve (405, with `Allow`), a body
/// over [`MAX_BODY`] (413, at once when `Content-Length` says so).
fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(signet_log::http::not_found)
        .method_not_allowed_fallback(signet_log::http::method_not_allowed);
    signet_log::http::limit_bodies(routes, MAX_BODY, signet_log::http::too_large).with_state(state)
}

async fn serve(
    listen: crate::servers::listen::ListenAddr,
    tls: Option<&crate::servers::listen::TlsConfig>,
    state: AppState,
) -> anyhow::Result<()> {
    let listener = listen.bind().await?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("signet witness listening on {scheme}://{addr}");
    std::io::stdout().flush()?;
    crate::servers::listen::serve(
        listener,
        router(state),
        tls,
        crate::servers::listen::Timeouts::default(),
        crate::servers::listen::shutdown_signal(),
    )
    .await
}

fn text_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn rejection_response(r: &WitnessRejection) -> Response {
    let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let WitnessRejection::Conflict { witness_size } = r {
        return (
            status,
            [(header::CONTENT_TYPE, SIZE_CONTENT_TYPE)],
            size_body(*witness_size),
        )
            .into_response();
    }
    text_response(status, format!("{r}\n"))
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn add_checkpoint(
    State(app): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return signet_log::http::too_large(MAX_BODY)
        }
        Err(r) => {
            return rejection_response(&WitnessRejection::BadRequest(format!(
                "cannot read the request body: {}",
                r.body_text()
            )))
        }
    };
    let req = match AddCheckpoint::parse(&body) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(error = %e, "add-checkpoint: malformed request");
            return rejection_response(&WitnessRejection::BadRequest(e.to_string()));
        }
    };
    let origin = match req.origin_unverified() {
        Ok(o) => o,
        Err(r) => return rejection_response(&r),
    };
    let Some(log) = app.logs.get(&origin) else {
        tracing::info!(origin = %origin, "add-checkpoint: unknown log");
        return rejection_response(&WitnessRejection::UnknownLog { origin });
    };
    // Held from the check until the new state is on disk.
    let mut recorded = log.state.lock().await;
    let (checkpoint, new_state) = match check_add_checkpoint(
        &req,
        Some(&log.keys),
        recorded.as_ref(),
    ) {
        Ok(v) => v,
        Err(r) => {
            tracing::info!(origin = %origin, old_size = req.old_size, rejection = %r, "add-checkpoint rejected");
            return rejection_response(&r);
        }
    };
    if recorded.as_ref() != Some(&new_state) {
        let dir = Arc::clone(&app.state_dir);
        let (o, s) = (origin.clone(), new_state.clone());
        let stored = tokio::task::spawn_blocking(move || store_state(&dir, &o, &s)).await;
        match stored {
            Ok(Ok(())) => *recorded = Some(new_state.clone()),
            Ok(Err(e)) => {
                tracing::error!(origin = %origin, error = %crate::errors::chain(e.as_ref()), "persisting the witness state failed");
                return text_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error\n".to_owned(),
                );
            }
            Err(e) => {
                tracing::error!(origin = %origin, error = %e, "persisting the witness state panicked");
                return text_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error\n".to_owned(),
                );
            }
        }
    }
    drop(recorded);
    let now = now_seconds();
    let cosigned: Result<String, _> = app
        .signers
        .iter()
        .map(|signer| cosign(&checkpoint, signer, now))
        .collect();
    match cosigned {
        Ok(lines) => {
            tracing::info!(origin = %origin, size = new_state.size, "cosigned");
            text_response(StatusCode::OK, lines)
        }
        Err(e) => {
            tracing::error!(error = %e, "cosigning failed");
            text_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error\n".to_owned(),
            )
        }
    }
}

#[cfg(test)]
// Tests and test fixtures unwrap: a panic with its location is the failure report
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn skey_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let signer = generate_key(&path, "witness.example/w1").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("PRIVATE+KEY+witness.example/w1+"));
        let again = parse_skey(&text).unwrap();
        assert_eq!(again.to_vkey(), signer.to_vkey());
        // Refuses to overwrite.
        assert!(generate_key(&path, "witness.example/w1").is_err());
        // Keys whose base64 contains '+' (about 1 in 2 random keys) parse too.
        let mut with_plus = 0;
        for i in 0..40 {
            let p = dir.path().join(format!("k{i}"));
            let s = generate_key(&p, "w").unwrap();
            let t = std::fs::read_to_string(&p).unwrap();
            with_plus += usize::from(t.matches('+').count() > 4);
            assert_eq!(parse_skey(&t).unwrap().to_vkey(), s.to_vkey());
        }
        assert!(with_plus > 0);
        // Wrong hash, wrong name, wrong type.
        let parts: Vec<&str> = text.trim().splitn(5, '+').collect();
        let hash = u32::from_str_radix(parts[3], 16).unwrap();
        let bad_hash = format!("PRIVATE+KEY+{}+{:08x}+{}", parts[2], hash ^ 1, parts[4]);
        assert!(parse_skey(&bad_hash).is_err());
        let bad_name = format!("PRIVATE+KEY+other+{}+{}", parts[3], parts[4]);
        assert!(parse_skey(&bad_name).is_err());
        assert!(parse_skey("PRIVATE+KEY+a+00000000+AQ==").is_err());
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// `--rotate-key` puts a new key of the same name first and keeps the old one; the
    /// witness cosigns with both, each line verifying with its own vkey (so a policy naming
    /// either keeps working); `--retire-old-keys` keeps the new key alone; a file mixing names
    /// is refused.
    #[test]
    fn rotate_and_retire_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let old = generate_key(&path, "witness.example/w1").unwrap();
        let (new, older) = rotate_key(&path).unwrap();
        assert_eq!(older, 1);
        assert_ne!(new.to_vkey(), old.to_vkey());
        let keys = parse_skeys(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let vkeys: Vec<String> = keys.iter().map(CosignatureV1Signer::to_vkey).collect();
        assert_eq!(vkeys, [new.to_vkey(), old.to_vkey()]);
        // Both cosign a checkpoint; each cosignature verifies with its key's vkey alone.
        let log_key = Ed25519Signer::generate(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
        let log_signer =
            signet_proto::note::Ed25519NoteSigner::new("log.example", log_key).unwrap();
        let checkpoint = signet_proto::checkpoint::SignedCheckpoint::sign(
            signet_proto::checkpoint::Checkpoint::new("log.example", 1, [7; 32]),
            &[&log_signer],
        )
        .unwrap();
        let note = checkpoint.note().clone();
        let lines: String = keys
            .iter()
            .map(|k| cosign(&checkpoint, k, 5).unwrap())
            .collect();
        for vkey in &vkeys {
            let mut bytes = note.to_bytes();
            bytes.extend_from_slice(lines.as_bytes());
            let v = signet_proto::note::CosignatureV1Verifier::from_vkey(vkey).unwrap();
            let parsed = signet_proto::note::Note::parse(&bytes).unwrap();
            assert_eq!(
                parsed
                    .verify(&Verifiers::new().with(v))
                    .unwrap()
                    .verified()
                    .len(),
                1,
                "{vkey}"
            );
        }
        let kept = retire_old_keys(&path).unwrap();
        assert_eq!(kept.to_vkey(), new.to_vkey());
        let keys = parse_skeys(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(keys.len(), 1);
        // Two names in one file are refused.
        let other = dir.path().join("other");
        generate_key(&other, "witness.example/w2").unwrap();
        let mixed =
            std::fs::read_to_string(&path).unwrap() + &std::fs::read_to_string(&other).unwrap();
        let err = parse_skeys(&mixed).unwrap_err();
        assert!(
            err.to_string().contains("one witness has one name"),
            "{err}"
        );
        assert!(parse_skeys("\n").is_err());
    }

    #[test]
    fn state_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_state(dir.path(), "o").unwrap(), None);
        let s = LogState {
            size: 7,
            root: [9; 32],
        };
        store_state(dir.path(), "o", &s).unwrap();
        assert_eq!(load_state(dir.path(), "o").unwrap(), Some(s));
        // A file renamed to another origin's name is refused.
        std::fs::rename(state_path(dir.path(), "o"), state_path(dir.path(), "p")).unwrap();
        assert!(load_state(dir.path(), "p").is_err());
    }
}
