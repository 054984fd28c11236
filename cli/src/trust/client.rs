//! Signet's TUF client: `signet trust init --mirror URL --root root.json` (as `cosign
//! initialize`), the trusted root `verify`, `verify-blob`, `verify-attestation`, `monitor` and
//! `admission` use when no `--trusted-root` is given, and the signing config `sign`,
//! `sign-blob` and `attest` use when no `--signing-config` is given.
//!
//! The workflow is TUF's (§5.3 to §5.7, as python-tuf's ngclient runs it), checked by
//! `signet_proto::tuf::TrustedSet`: `N+1.root.json` until there is none, `timestamp.json`,
//! `V.snapshot.json`, `V.targets.json`, then `targets/HASH.NAME` for `trusted_root.json` and
//! `signing_config.v0.2.json`. Every step fails closed: nothing a mirror serves is used
//! unless it verified.
//!
//! Cache (one directory per mirror): `$SIGNET_HOME/tuf/<mirror, percent-encoded>/`, where
//! `SIGNET_HOME` defaults to `$XDG_CACHE_HOME/signet` (else `~/.cache/signet`). It holds the
//! trusted `root.json`, `timestamp.json`, `snapshot.json` and `targets.json` (for rollback
//! protection on the next refresh) and the verified targets; `$SIGNET_HOME/tuf/default`
//! names the mirror `init` set up. A mirror is an `http(s)://` URL or a directory (an
//! exported repository, for air-gapped sites).
//!
//! Offline: when the mirror cannot be reached at all (no connection, a timeout, a directory
//! that is not there), the defaults fall back to the cache, re-verified from its stored root
//! at the current time, so only while its timestamp, snapshot and targets are unexpired (the
//! freeze-attack bound TUF gives). A mirror that answers with anything that does not verify
//! is an error, never a fallback. `signet trust refresh` itself never falls back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use signet_proto::tuf::{consistent_target_path, Role, TimestampUpdate, TrustedSet};

use super::repo::{CRLS_TARGET, SIGNING_CONFIG_TARGET, TRUSTED_KEYS_TARGET, TRUSTED_ROOT_TARGET};
use crate::fsutil::{write_durable, Existing, Mode};

/// Largest metadata or target file fetched (python-tuf's limits are 512 kB for root, 16 kB
/// for the timestamp and 2 to 5 MB for the others; one bound keeps this simple).
const MAX_FILE: u64 = 5 << 20;

/// Signet's cache directory: `$SIGNET_HOME`, else `$XDG_CACHE_HOME/signet`, else
/// `~/.cache/signet`.
pub(crate) fn home() -> anyhow::Result<PathBuf> {
    let nonempty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(h) = nonempty("SIGNET_HOME") {
        return Ok(h);
    }
    if let Some(x) = nonempty("XDG_CACHE_HOME") {
        return Ok(x.join("signet"));
    }
    nonempty("HOME")
        .map(|h| h.join(".cache").join("signet"))
        .context("no cache directory: set SIGNET_HOME (or XDG_CACHE_HOME or HOME)")
}

/// The mirror could not be reached (no connection, a timeout, no such directory): the
/// defaults may then use the verified copy in the cache while it is unexpired.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Unreachable(String);

fn cache_dir(mirror: &str) -> anyhow::Result<PathBuf> {
    let encoded: String = mirror
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Ok(home()?.join("tuf").join(encoded))
}

/// Where the metadata comes from.
enum Mirror {
    Http {
        base: String,
        client: reqwest::Client,
    },
    Dir(PathBuf),
}

impl Mirror {
    fn new(mirror: &str) -> anyhow::Result<Self> {
        if mirror.starts_with("http://") || mirror.starts_with("https://") {
            let client = signet_net::client_builder()
                .timeout(Duration::from_secs(30))
                .user_agent(concat!("signet/", env!("CARGO_PKG_VERSION")))
                .build()?;
            Ok(Mirror::Http {
                base: mirror.trim_end_matches('/').to_owned(),
                client,
            })
        } else {
            let dir = PathBuf::from(mirror.strip_prefix("file://").unwrap_or(mirror));
            if !dir.is_dir() {
                return Err(Unreachable(format!(
                    "the mirror {mirror} is neither an http(s) URL nor a directory"
                ))
                .into());
            }
            Ok(Mirror::Dir(dir))
        }
    }

    /// The file `name`, or `None` when the mirror has none (404 / no such file).
    fn get(&self, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match self {
            Mirror::Http { base, client } => {
                let url = format!("{base}/{name}");
                let (status, body) = http_get(client, &url)?;
                if status == reqwest::StatusCode::NOT_FOUND
                    || status == reqwest::StatusCode::FORBIDDEN
                {
                    return Ok(None);
                }
                if !status.is_success() {
                    bail!("GET {url}: {status}");
                }
                Ok(Some(body))
            }
            Mirror::Dir(dir) => {
                let path = dir.join(name);
                match std::fs::metadata(&path) {
                    Ok(m) if m.len() > MAX_FILE => {
                        bail!("{}: larger than {MAX_FILE} bytes", path.display())
                    }
                    Ok(_) => Ok(Some(
                        std::fs::read(&path)
                            .with_context(|| format!("reading {}", path.display()))?,
                    )),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
                }
            }
        }
    }

    fn require(&self, name: &str) -> anyhow::Result<Vec<u8>> {
        self.get(name)?
            .with_context(|| format!("the mirror has no {name}"))
    }
}

/// GET `url` on a runtime of its own, in a thread of its own (callers may or may not be
/// inside an async runtime), reading at most [`MAX_FILE`] bytes.
fn http_get(client: &reqwest::Client, url: &str) -> anyhow::Result<(reqwest::StatusCode, Vec<u8>)> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut resp = client.get(url).send().await.map_err(|e| {
                    Unreachable(format!(
                        "GET {url}: {}",
                        crate::errors::chain_after(url, &e)
                    ))
                })?;
                let status = resp.status();
                let mut body = Vec::new();
                while let Some(chunk) = resp.chunk().await.map_err(|e| {
                    anyhow::anyhow!("GET {url}: {}", crate::errors::chain_after(url, &e))
                })? {
                    body.extend_from_slice(&chunk);
                    if body.len() as u64 > MAX_FILE {
                        bail!("GET {url}: larger than {MAX_FILE} bytes");
                    }
                }
                Ok((status, body))
            })
        })
        .join()
        .map_err(|_| anyhow::anyhow!("GET {url}: the fetching thread panicked"))?
    })
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn store(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    write_durable(&dir.join(name), bytes, Mode::Public, Existing::Replace)
}

/// `signet trust init --mirror URL --root FILE`: trusts `root` (it must be signed by a
/// threshold of its own root keys) for `mirror`, refreshes, and makes `mirror` the default.
/// Returns the verified trusted root's path.
pub(crate) fn bootstrap(mirror: &str, root: &Path) -> anyhow::Result<PathBuf> {
    let bytes = std::fs::read(root).with_context(|| format!("cannot read {}", root.display()))?;
    TrustedSet::new(&bytes).with_context(|| format!("the bootstrap root {}", root.display()))?;
    let dir = cache_dir(mirror)?;
    // A new bootstrap starts over: metadata of an earlier one does not carry over.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    store(&dir, "root.json", &bytes)?;
    let path = refresh(mirror)?;
    let default = home()?.join("tuf").join("default");
    write_durable(
        &default,
        format!("{mirror}\n").as_bytes(),
        Mode::Public,
        Existing::Replace,
    )?;
    Ok(path)
}

/// Refreshes the metadata of `mirror` (set up by [`bootstrap`]) and returns the path of the
/// verified `trusted_root.json`.
pub(crate) fn refresh(mirror: &str) -> anyhow::Result<PathBuf> {
    refresh_at(mirror, now_unix())
}

fn refresh_at(mirror: &str, now: i64) -> anyhow::Result<PathBuf> {
    let dir = cache_dir(mirror)?;
    let source = Mirror::new(mirror)?;
    let root = std::fs::read(dir.join("root.json")).with_context(|| {
        format!("no trusted root for {mirror}: run `signet trust init --mirror {mirror} --root root.json` first")
    })?;
    let mut set = TrustedSet::new(&root).context("the stored root")?;
    let fail = |what: String| {
        move |e: signet_proto::tuf::TufError| anyhow::anyhow!("{what} from {mirror}: {e}")
    };
    // Roots: N+1 until the mirror has none.
    loop {
        let next = set.root().common.version + 1;
        let name = format!("{next}.root.json");
        let Some(bytes) = source.get(&name)? else {
            break;
        };
        set.update_root(&bytes).map_err(fail(name))?;
        store(&dir, "root.json", set.root_bytes())?;
    }
    // Timestamp: the stored one guards against rollback.
    if let Ok(stored) = std::fs::read(dir.join("timestamp.json")) {
        // Signed by keys the current root no longer lists: the online keys rotated, start over.
        let _ = set.load_stored_timestamp(&stored);
    }
    let ts_bytes = source.require("timestamp.json")?;
    let update = set
        .update_timestamp(&ts_bytes, now)
        .map_err(fail("timestamp.json".to_owned()))?;
    if update == TimestampUpdate::New {
        store(&dir, "timestamp.json", &ts_bytes)?;
    }
    let consistent = set.root().consistent_snapshot;
    let snapshot_version = set
        .timestamp()
        .map(|t| t.snapshot.version)
        .context("no timestamp")?;
    let name = if consistent {
        format!("{snapshot_version}.snapshot.json")
    } else {
        "snapshot.json".to_owned()
    };
    let snap = source.require(&name)?;
    set.update_snapshot(&snap, now, false).map_err(fail(name))?;
    store(&dir, "snapshot.json", &snap)?;
    let targets_version = set
        .snapshot()
        .and_then(|s| s.meta.get("targets.json"))
        .map(|m| m.version)
        .context("no targets version")?;
    let name = if consistent {
        format!("{targets_version}.targets.json")
    } else {
        "targets.json".to_owned()
    };
    let targets = source.require(&name)?;
    set.update_targets(&targets, now).map_err(fail(name))?;
    store(&dir, "targets.json", &targets)?;
    for target in [TRUSTED_ROOT_TARGET, SIGNING_CONFIG_TARGET] {
        let info = set
            .target(target)
            .map_err(fail(format!("target {target}")))?;
        let cached = dir.join(target);
        if std::fs::read(&cached).is_ok_and(|b| info.check(target, &b).is_ok()) {
            continue;
        }
        let remote = if consistent {
            format!("targets/{}", consistent_target_path(target, info))
        } else {
            format!("targets/{target}")
        };
        let bytes = source.require(&remote)?;
        set.verify_target(target, &bytes)
            .map_err(fail(format!("target {target}")))?;
        store(&dir, target, &bytes)?;
    }
    // Optional targets (the CA's CRLs, the trusted keys): stored when listed, removed when no
    // longer listed.
    for target in [CRLS_TARGET, TRUSTED_KEYS_TARGET] {
        let cached = dir.join(target);
        let Ok(info) = set.target(target) else {
            if cached.exists() {
                std::fs::remove_file(&cached)
                    .with_context(|| format!("removing {}", cached.display()))?;
            }
            continue;
        };
        if std::fs::read(&cached).is_ok_and(|b| info.check(target, &b).is_ok()) {
            continue;
        }
        let remote = if consistent {
            format!("targets/{}", consistent_target_path(target, info))
        } else {
            format!("targets/{target}")
        };
        let bytes = source.require(&remote)?;
        set.verify_target(target, &bytes)
            .map_err(fail(format!("target {target}")))?;
        store(&dir, target, &bytes)?;
    }
    debug_assert!(set.root().role(Role::Root).is_some());
    Ok(dir.join(TRUSTED_ROOT_TARGET))
}

/// Re-verifies the cache of a mirror at `now`, as a refresh would with the stored files as the
/// mirror: the stored root, then the stored timestamp, snapshot and targets (each signed,
/// consistent with the one before and unexpired), then each cached target's length and hashes.
/// Returns the trusted root's path.
fn verify_cached(dir: &Path, now: i64) -> anyhow::Result<PathBuf> {
    let read =
        |name: &str| std::fs::read(dir.join(name)).with_context(|| format!("no cached {name}"));
    let mut set = TrustedSet::new(&read("root.json")?).context("the cached root.json")?;
    set.update_timestamp(&read("timestamp.json")?, now)
        .context("the cached timestamp.json")?;
    set.update_snapshot(&read("snapshot.json")?, now, false)
        .context("the cached snapshot.json")?;
    set.update_targets(&read("targets.json")?, now)
        .context("the cached targets.json")?;
    for target in [TRUSTED_ROOT_TARGET, SIGNING_CONFIG_TARGET] {
        set.verify_target(target, &read(target)?)
            .with_context(|| format!("the cached {target}"))?;
    }
    Ok(dir.join(TRUSTED_ROOT_TARGET))
}

/// [`refresh`] for the defaults: when the mirror cannot be reached at all, the cache verified
/// at the current time (see the module docs), with a warning on stderr; any other failure is
/// the error.
fn refresh_or_cached(mirror: &str) -> anyhow::Result<PathBuf> {
    let now = now_unix();
    let err = match refresh_at(mirror, now) {
        Ok(path) => return Ok(path),
        Err(e) if e.downcast_ref::<Unreachable>().is_some() => e,
        Err(e) => return Err(e),
    };
    let dir = cache_dir(mirror)?;
    match verify_cached(&dir, now) {
        Ok(path) => {
            eprintln!(
                "signet: warning: the TUF mirror is unreachable ({err:#}); using the trust \
                 metadata verified from it before (cached in {}, unexpired)",
                dir.display()
            );
            Ok(path)
        }
        Err(cached) => Err(err.context(format!(
            "the TUF mirror {mirror} is unreachable and its cache in {} cannot stand in for it \
             ({cached:#})",
            dir.display()
        ))),
    }
}

/// The mirror `signet trust init --mirror` set up, if any.
pub(crate) fn default_mirror() -> anyhow::Result<Option<String>> {
    // No cache directory at all: no mirror was set up.
    let Ok(home) = home() else {
        return Ok(None);
    };
    let default = home.join("tuf").join("default");
    match std::fs::read_to_string(&default) {
        Ok(m) => Ok(Some(m.trim().to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", default.display())),
    }
}

/// The trusted root `verify` uses: `given` (`--trusted-root`), else the one from the mirror
/// `signet trust init --mirror` set up, refreshed now (fail closed: a mirror that serves bad
/// metadata is an error; one that cannot be reached at all leaves the cache, re-verified,
/// while it is unexpired).
pub(crate) fn trusted_root_or_default(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.to_owned());
    }
    let Some(mirror) = default_mirror()? else {
        bail!(
            "no trusted root: give --trusted-root FILE, or set up a TUF mirror once with `signet trust init --mirror URL --root root.json`"
        );
    };
    refresh_or_cached(&mirror).with_context(|| {
        format!("refreshing the trusted root from the TUF mirror {mirror} (give --trusted-root FILE to verify offline)")
    })
}

/// The signing config `sign`, `sign-blob` and `attest` use without `--signing-config`: the
/// TUF-verified `signing_config.v0.2.json` of the mirror `signet trust init` set up, refreshed
/// as [`trusted_root_or_default`] does; `None` when no mirror was set up.
pub(crate) fn default_signing_config() -> anyhow::Result<Option<PathBuf>> {
    let Some(mirror) = default_mirror()? else {
        return Ok(None);
    };
    let root = refresh_or_cached(&mirror).with_context(|| {
        format!("refreshing the signing config from the TUF mirror {mirror} (give --signing-config FILE to sign without it)")
    })?;
    Ok(Some(root.with_file_name(SIGNING_CONFIG_TARGET)))
}
