//! Periodic trust refresh for long-running processes (`signet admission`, `signet monitor`):
//! re-reads the TUF-verified trust on an interval and swaps what the process uses, keeping the
//! old trust when a refresh fails.
//!
//! The trust comes from a [`Source`]: the mirror `signet trust init --mirror` set up (an
//! `http(s)://` URL, or a mounted directory given as `file://` or a plain path, for a webhook
//! with no network), refreshed with the TUF workflow of [`super::client::refresh`], which
//! never falls back to the cache; or a `--trusted-root` file, read again. What a refresh
//! yields is `trusted_root.json` and the files beside it (`crls.pem`, `trusted_keys.json`);
//! the caller's loader turns them into its trust (`TrustMaterial` for the webhook, the log
//! list and revocations for the monitor).
//!
//! One refresh ([`Refresher::refresh_once`]): fetch and verify, fingerprint the three files
//! (SHA-256 over their contents), and when the fingerprint changed, load and swap. A fetch
//! that fails (unreachable, tampered, rolled back or expired metadata) or a loader that
//! refuses the new files leaves the old trust in force; the failure is returned, and counted
//! in [`Stats`] (served as metrics by the webhook).
//!
//! What this does not do: decide what a changed trust means for cached results (the caller's
//! `on_change`), or refresh faster than its interval.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::repo::{CRLS_TARGET, TRUSTED_KEYS_TARGET};

/// The default of `--trust-refresh` (seconds).
pub(crate) const DEFAULT_INTERVAL_SECS: u64 = 300;

/// A value shared by readers and swapped whole by the refresher.
#[derive(Debug)]
pub(crate) struct Shared<T> {
    current: RwLock<Arc<T>>,
}

impl<T> Shared<T> {
    /// Shares `value`.
    pub(crate) fn new(value: T) -> Self {
        Self {
            current: RwLock::new(Arc::new(value)),
        }
    }

    /// The current value (a reader keeps it as long as it needs it, across a swap).
    pub(crate) fn load(&self) -> Arc<T> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Replaces the value.
    pub(crate) fn store(&self, value: T) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(value);
    }
}

/// Where the trust comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A `trusted_root.json` file (`--trusted-root`), read again on each refresh.
    File(PathBuf),
    /// A TUF mirror (URL or directory) set up with `signet trust init --mirror`.
    Mirror(String),
}

impl Source {
    /// The source of a process started with `given` (`--trusted-root`), else the default
    /// mirror, and the trusted root's path now (at start the mirror may fall back to its
    /// unexpired cache, as every command does).
    ///
    /// # Errors
    /// As [`super::client::trusted_root_or_default`].
    pub(crate) fn at_start(given: Option<&Path>) -> anyhow::Result<(Self, PathBuf)> {
        let path = super::client::trusted_root_or_default(given)?;
        let source = match given {
            Some(p) => Self::File(p.to_owned()),
            None => match super::client::default_mirror()? {
                Some(m) => Self::Mirror(m),
                None => Self::File(path.clone()),
            },
        };
        Ok((source, path))
    }

    /// Fetches and verifies the trust again; returns the trusted root's path.
    ///
    /// # Errors
    /// A mirror that cannot be reached or serves metadata or targets that do not verify (no
    /// fallback to the cache here: the process still holds the last good trust).
    pub(crate) fn fetch(&self) -> anyhow::Result<PathBuf> {
        match self {
            Self::File(p) => Ok(p.clone()),
            Self::Mirror(m) => super::client::refresh(m),
        }
    }

    /// For messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::File(p) => p.display().to_string(),
            Self::Mirror(m) => format!("the TUF mirror {m}"),
        }
    }
}

/// SHA-256 over `trusted_root.json` and the optional `crls.pem` and `trusted_keys.json`
/// beside it (each present-or-absent, length and contents).
///
/// # Errors
/// The trusted root cannot be read.
pub(crate) fn fingerprint(root: &Path) -> anyhow::Result<[u8; 32]> {
    use aws_lc_rs::digest::{Context, SHA256};
    let mut ctx = Context::new(&SHA256);
    let main = std::fs::read(root)
        .map_err(|e| anyhow::anyhow!("cannot read trusted root {}: {e}", root.display()))?;
    ctx.update(&(main.len() as u64).to_be_bytes());
    ctx.update(&main);
    for name in [CRLS_TARGET, TRUSTED_KEYS_TARGET] {
        match std::fs::read(root.with_file_name(name)) {
            Ok(b) => {
                ctx.update(&[1]);
                ctx.update(&(b.len() as u64).to_be_bytes());
                ctx.update(&b);
            }
            Err(_) => ctx.update(&[0]),
        }
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    Ok(out)
}

/// Refresh counters (served by the webhook at `/metrics`).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Refreshes attempted.
    pub(crate) attempts: AtomicU64,
    /// Refreshes that failed (the old trust stayed in force).
    pub(crate) failures: AtomicU64,
    /// Refreshes that swapped in a changed trust.
    pub(crate) changes: AtomicU64,
    /// Unix time of the last successful refresh (0: none yet).
    pub(crate) last_success: AtomicI64,
}

/// Builds the process's trust from a trusted root path (and the files beside it).
pub(crate) type Loader<T> = dyn Fn(&Path) -> anyhow::Result<T> + Send + Sync;

/// Re-reads the trust from its [`Source`] and swaps it into a [`Shared`].
pub(crate) struct Refresher<T> {
    source: Source,
    shared: Arc<Shared<T>>,
    load: Box<Loader<T>>,
    last: Mutex<[u8; 32]>,
    /// The counters.
    pub(crate) stats: Stats,
}

/// What one refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refreshed {
    /// The trust is the same as before.
    Unchanged,
    /// A new trust was loaded and swapped in.
    Changed,
}

impl<T> Refresher<T> {
    /// Loads the trust at `path` (from `source`, at start) and shares it.
    ///
    /// # Errors
    /// The loader's error: at start there is no old trust to keep.
    pub(crate) fn start(source: Source, path: &Path, load: Box<Loader<T>>) -> anyhow::Result<Self> {
        let last = fingerprint(path)?;
        let value = load(path)?;
        Ok(Self {
            source,
            shared: Arc::new(Shared::new(value)),
            load,
            last: Mutex::new(last),
            stats: Stats::default(),
        })
    }

    /// The shared trust.
    pub(crate) fn shared(&self) -> Arc<Shared<T>> {
        Arc::clone(&self.shared)
    }

    /// The source, for messages.
    pub(crate) fn source(&self) -> &Source {
        &self.source
    }

    /// One refresh (see the module docs). Blocking: run it off the async workers.
    ///
    /// # Errors
    /// Why the trust could not be refreshed; the old trust stays in force.
    pub(crate) fn refresh_once(&self) -> anyhow::Result<Refreshed> {
        self.stats.attempts.fetch_add(1, Ordering::Relaxed);
        let result = self.try_refresh();
        match &result {
            Ok(r) => {
                self.stats
                    .last_success
                    .store(super::client::now_unix(), Ordering::Relaxed);
                if *r == Refreshed::Changed {
                    self.stats.changes.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(_) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        result
    }

    fn try_refresh(&self) -> anyhow::Result<Refreshed> {
        let path = self.source.fetch()?;
        let print = fingerprint(&path)?;
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *last == print {
            return Ok(Refreshed::Unchanged);
        }
        let value = (self.load)(&path)?;
        self.shared.store(value);
        *last = print;
        Ok(Refreshed::Changed)
    }
}

impl<T: Send + Sync + 'static> Refresher<T> {
    /// Refreshes every `every` on the current tokio runtime, forever; `on_change` runs after a
    /// changed trust was swapped in. Failures are logged (`tracing`) and counted.
    pub(crate) fn spawn(
        self: &Arc<Self>,
        every: Duration,
        on_change: impl Fn() + Send + Sync + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let me = Arc::clone(&this);
                let result = tokio::task::spawn_blocking(move || me.refresh_once()).await;
                match result {
                    Ok(Ok(Refreshed::Changed)) => {
                        tracing::info!(source = %this.source.describe(), "trust refreshed: a new trusted root, CRLs or trusted keys are in force");
                        on_change();
                    }
                    Ok(Ok(Refreshed::Unchanged)) => {
                        tracing::debug!(source = %this.source.describe(), "trust refreshed: unchanged");
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(source = %this.source.describe(), error = %crate::errors::chain(e.as_ref()), "trust refresh failed; the trust loaded before stays in force");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "trust refresh task failed; the trust loaded before stays in force");
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A file source: an unchanged file is not reloaded, a changed one is swapped in, and one
    /// the loader refuses leaves the old value (and counts a failure).
    #[test]
    fn swaps_on_change_and_keeps_the_old_trust_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("trusted_root.json");
        std::fs::write(&root, "1").unwrap();
        let load = |p: &Path| -> anyhow::Result<u32> {
            let text = std::fs::read_to_string(p)?;
            Ok(text.trim().parse()?)
        };
        let r = Refresher::start(Source::File(root.clone()), &root, Box::new(load)).unwrap();
        let shared = r.shared();
        assert_eq!(*shared.load(), 1);
        assert_eq!(r.refresh_once().unwrap(), Refreshed::Unchanged);
        std::fs::write(&root, "2").unwrap();
        assert_eq!(r.refresh_once().unwrap(), Refreshed::Changed);
        assert_eq!(*shared.load(), 2);
        // A CRL file beside the root changes the fingerprint too.
        std::fs::write(root.with_file_name(CRLS_TARGET), "crl").unwrap();
        assert_eq!(r.refresh_once().unwrap(), Refreshed::Changed);
        std::fs::write(&root, "not a number").unwrap();
        assert!(r.refresh_once().is_err());
        assert_eq!(*shared.load(), 2);
        assert_eq!(r.stats.attempts.load(Ordering::Relaxed), 4);
        assert_eq!(r.stats.failures.load(Ordering::Relaxed), 1);
        assert_eq!(r.stats.changes.load(Ordering::Relaxed), 2);
        // After the failure the next good file is loaded (the fingerprint was not advanced).
        std::fs::write(&root, "3").unwrap();
        assert_eq!(r.refresh_once().unwrap(), Refreshed::Changed);
        assert_eq!(*shared.load(), 3);
    }
}
