//! The auditors' state files (`signet monitor --state`, `signet audit --state`): one JSON
//! document with a format `version`, loaded and saved the same way by both.
//!
//! Loading: a missing file is "no state yet" (`Ok(None)`); an unreadable file, JSON that does
//! not parse as the state, or another format version is an error naming the file. Saving is
//! [`crate::fsutil::write_private`]: owner-only, durable and atomic, so a crash leaves the old
//! state or the new one.
//!
//! What this does not do: migrate old format versions, or lock the file against a second
//! process using the same state.

use std::path::Path;

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::fsutil::{write_private, Existing};

/// A state file's document.
pub(super) trait StateFile: Serialize + DeserializeOwned {
    /// What it is, in messages: `monitor state`, `audit state`.
    const WHAT: &'static str;
    /// The format version this build reads and writes.
    const VERSION: u32;
    /// The version the document says it has.
    fn version(&self) -> u32;
}

/// Reads the state at `path`: `Ok(None)` if there is no file.
///
/// # Errors
/// The file cannot be read, does not parse as `T`, or has another version than
/// [`StateFile::VERSION`]; each message names the file.
pub(super) fn load<T: StateFile>(path: &Path) -> anyhow::Result<Option<T>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {} {}", T::WHAT, path.display())),
    };
    let s: T = signet_proto::json::from_slice(&bytes)
        .with_context(|| format!("parsing {} {}", T::WHAT, path.display()))?;
    anyhow::ensure!(
        s.version() == T::VERSION,
        "{}: {} version {} is not {} (written by another version of signet; move the file \
         away to start over)",
        path.display(),
        T::WHAT,
        s.version(),
        T::VERSION
    );
    Ok(Some(s))
}

/// Writes `state` to `path` (see the module docs).
///
/// # Errors
/// Serialization and I/O errors, naming the file.
pub(super) fn save<T: StateFile>(path: &Path, state: &T) -> anyhow::Result<()> {
    let bytes =
        serde_json::to_vec(state).with_context(|| format!("serializing the {}", T::WHAT))?;
    write_private(path, &bytes, Existing::Replace)
}

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Test {
        version: u32,
        n: u64,
    }

    impl StateFile for Test {
        const WHAT: &'static str = "test state";
        const VERSION: u32 = 1;
        fn version(&self) -> u32 {
            self.version
        }
    }

    #[test]
    fn missing_saved_loaded_and_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        assert_eq!(load::<Test>(&p).unwrap(), None);
        save(&p, &Test { version: 1, n: 7 }).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(load::<Test>(&p).unwrap(), Some(Test { version: 1, n: 7 }));

        std::fs::write(&p, br#"{"version":2,"n":7}"#).unwrap();
        let msg = format!("{:#}", load::<Test>(&p).unwrap_err());
        assert!(
            msg.contains("s.json") && msg.contains("test state version 2 is not 1"),
            "{msg}"
        );
        std::fs::write(&p, b"{").unwrap();
        let msg = format!("{:#}", load::<Test>(&p).unwrap_err());
        assert!(
            msg.contains("parsing test state") && msg.contains("s.json"),
            "{msg}"
        );
        let msg = format!("{:#}", load::<Test>(dir.path()).unwrap_err());
        assert!(msg.contains("reading test state"), "{msg}");
    }
}
