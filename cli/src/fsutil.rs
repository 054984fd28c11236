//! Durable file writes, shared by every zone: the one place the binary writes a secret (a key,
//! a password) or a state file (monitor, audit, witness), and the trust files `serve` serves.
//!
//! [`write_durable`] writes to a temporary file in the target's directory (created with the
//! final mode, `0600` for [`Mode::Private`]), fsyncs it, moves it into place and fsyncs the
//! directory, so after a crash the path holds either the old content or the whole new one,
//! never a torn or empty file, and a secret is never readable by others, not even briefly.
//! With [`Existing::Refuse`] it is moved into place with a hard link, which fails if the path
//! exists (no window in which a check and the write could race); with [`Existing::Replace`]
//! it is renamed over the old file.
//!
//! What this does not do: create missing directories, or work on file systems without hard
//! links for [`Existing::Refuse`] (the error names the path).

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;

/// Who may read the written file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Owner only (`0600`): keys, passwords, state files.
    Private,
    /// As `std::fs::write` creates files (`0666` less the umask): public keys, trust files.
    Public,
}

/// What to do when the path already exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Fail with an error saying the path exists; the existing file is left as it was.
    Refuse,
    /// Replace it atomically.
    Replace,
}

/// Writes `bytes` to `path` with `mode` (see the module docs).
///
/// # Errors
/// The path has no file name; it exists and `existing` is [`Existing::Refuse`] (the message
/// says it exists, the `io::ErrorKind` is `AlreadyExists`); any I/O error, with the path. On
/// error the temporary file is removed and `path` is untouched.
pub(crate) fn write_durable(
    path: &Path,
    bytes: &[u8],
    mode: Mode,
    existing: Existing,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    // Unique per process and call, so concurrent writers never share a temporary file.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(match mode {
                Mode::Private => 0o600,
                Mode::Public => 0o666,
            })
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        match existing {
            Existing::Replace => std::fs::rename(&tmp, path)?,
            Existing::Refuse => {
                std::fs::hard_link(&tmp, path)?;
                std::fs::remove_file(&tmp)?;
            }
        }
        std::fs::File::open(&dir)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::Error::new(e).context(format!(
                "{} already exists (it is not overwritten)",
                path.display()
            ))
        } else {
            anyhow::Error::new(e).context(format!("writing {}", path.display()))
        });
    }
    Ok(())
}

/// [`write_durable`] with [`Mode::Private`]: for keys, passwords and state files.
///
/// # Errors
/// As [`write_durable`].
pub(crate) fn write_private(path: &Path, bytes: &[u8], existing: Existing) -> anyhow::Result<()> {
    write_durable(path, bytes, Mode::Private, existing)
}

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode_of(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn private_files_are_owner_only_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        write_private(&p, b"one", Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        assert_eq!(mode_of(&p), 0o600);
        write_private(&p, b"two", Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(mode_of(&p), 0o600);
        assert_eq!(
            entries(dir.path()),
            vec!["state.json"],
            "no temporary file left"
        );
    }

    #[test]
    fn refuse_keeps_the_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        write_private(&p, b"secret", Existing::Refuse).unwrap();
        assert_eq!(mode_of(&p), 0o600);
        let err = write_private(&p, b"other", Existing::Refuse).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("key already exists"), "{msg}");
        assert_eq!(
            err.root_cause()
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind),
            Some(std::io::ErrorKind::AlreadyExists)
        );
        assert_eq!(std::fs::read(&p).unwrap(), b"secret");
        assert_eq!(entries(dir.path()), vec!["key"], "no temporary file left");
    }

    #[test]
    fn errors_name_the_path_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing-dir").join("f");
        let msg = format!(
            "{:#}",
            write_private(&p, b"x", Existing::Replace).unwrap_err()
        );
        assert!(msg.contains("missing-dir/f"), "{msg}");
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn public_files_follow_the_umask_like_fs_write() {
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join("a.pub");
        let std_write = dir.path().join("b.pub");
        write_durable(&ours, b"k", Mode::Public, Existing::Replace).unwrap();
        std::fs::write(&std_write, b"k").unwrap();
        assert_eq!(mode_of(&ours), mode_of(&std_write));
    }
}
