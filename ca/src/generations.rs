//! The history of a key that rotates, with the `validFor` window of each generation: the
//! pattern of [`crate::rotate`] (`ca rotate`) for the other keys a deployment publishes in
//! its trusted root (the timestamp authority's, `signet tsa rotate`; the CT log's, `signet
//! ct rotate`).
//!
//! A directory that rotated holds `generations.json` and one `gen<N>/` directory per
//! generation with its private key file (and, for a certificate, its chain). The last
//! generation is the one in use; a server loads its key from the file the history names, so
//! the history file is the only thing a rotation replaces: it is written last (a temporary
//! file renamed over it), and a rotation that fails before leaves the directory's history as
//! it was (a half-written `gen<N>/` is unused, and overwritten by the next attempt).
//!
//! Windows: the rotated-out generation's window gets an end, `overlap` after the rotation,
//! and the new one starts at the rotation; both are closed intervals (as the trusted root's
//! `validFor`), so signatures made inside the old window keep verifying with the old key.
//!
//! Not here: making keys (the callers), the trusted root (the server builds it from
//! [`Generations`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::rotate::RotateError;

/// The history file.
pub const GENERATIONS_FILE: &str = "generations.json";

/// One generation of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generation {
    /// The private key file, relative to the directory of the history.
    pub key: String,
    /// What verifiers trust, PEM: the certificate chain (leaf first, root last) or the
    /// public key.
    pub public: String,
    /// Start of the window (Unix seconds, inclusive).
    pub start: i64,
    /// End of the window (Unix seconds, inclusive); `None` for the generation in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<i64>,
}

impl Generation {
    /// The absolute path of this generation's key file in `dir`.
    ///
    /// # Errors
    /// [`RotateError::Directory`] for a key path that is absolute or leaves `dir`.
    pub fn key_path(&self, dir: &Path) -> Result<PathBuf, RotateError> {
        let rel = Path::new(&self.key);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(dir_error(
                &dir.join(GENERATIONS_FILE),
                format!(
                    "key path {:?} is not a plain path inside the directory",
                    self.key
                ),
            ));
        }
        Ok(dir.join(rel))
    }

    /// The certificates of [`Generation::public`] (DER, in order), for a key with a chain.
    ///
    /// # Errors
    /// [`RotateError::Directory`] when it holds no certificate.
    pub fn certificates(&self) -> Result<Vec<Vec<u8>>, RotateError> {
        crate::rotate::chain_from_pem(self.public.as_bytes(), Path::new(GENERATIONS_FILE))
    }
}

/// Every generation of a key, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generations {
    /// The generations, oldest first; the last is the one in use.
    pub generations: Vec<Generation>,
}

fn dir_error(path: &Path, reason: impl Into<String>) -> RotateError {
    RotateError::Directory {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

impl Generations {
    /// The history in `dir`, or `None` when the key there never rotated (no
    /// `generations.json`).
    ///
    /// # Errors
    /// [`RotateError::Directory`] for an unreadable or malformed file, an empty history,
    /// windows out of order, or a generation whose key file is missing.
    pub fn load(dir: &Path) -> Result<Option<Self>, RotateError> {
        let path = dir.join(GENERATIONS_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(dir_error(&path, e.to_string())),
        };
        let g: Self = signet_proto::json::from_slice(&bytes)
            .map_err(|e| dir_error(&path, format!("malformed: {e}")))?;
        let Some((last, older)) = g.generations.split_last() else {
            return Err(dir_error(&path, "lists no generation"));
        };
        if last.end.is_some() || older.iter().any(|o| o.end.is_none()) {
            return Err(dir_error(
                &path,
                "only the last generation (the one in use) may have an open window",
            ));
        }
        if g.generations.windows(2).any(|w| w[0].start >= w[1].start) {
            return Err(dir_error(&path, "its generations do not start in order"));
        }
        for gen in &g.generations {
            let key = gen.key_path(dir)?;
            if !key.is_file() {
                return Err(dir_error(
                    &path,
                    format!(
                        "names the key file {}, which is missing: restore the directory from \
                         its backup",
                        key.display()
                    ),
                ));
            }
        }
        Ok(Some(g))
    }

    /// The generation in use (the last).
    ///
    /// # Panics
    /// Never: [`Generations::load`] and [`Generations::first`] never make an empty history.
    #[must_use]
    pub fn current(&self) -> &Generation {
        &self.generations[self.generations.len() - 1]
    }

    /// A history of one generation, valid from `start`.
    #[must_use]
    pub fn first(key: String, public: String, start: i64) -> Self {
        Self {
            generations: vec![Generation {
                key,
                public,
                start,
                end: None,
            }],
        }
    }

    /// Closes the window of the generation in use `overlap_secs` after `now` and appends a
    /// new generation (`key`, `public`) starting at `now`. Returns the new generation's number
    /// (1 is the first).
    ///
    /// # Errors
    /// [`RotateError::Directory`] (about `dir`) for a negative overlap, or when the generation
    /// in use did not start before `now` (two rotations in one second).
    pub fn rotate(
        &mut self,
        dir: &Path,
        now: i64,
        overlap_secs: i64,
        key: String,
        public: String,
    ) -> Result<usize, RotateError> {
        if overlap_secs < 0 {
            return Err(dir_error(dir, "the overlap cannot be negative"));
        }
        let last = self.generations.len() - 1;
        let current = &mut self.generations[last];
        if current.start >= now {
            return Err(dir_error(
                &dir.join(GENERATIONS_FILE),
                format!(
                    "the generation in use started at {} (Unix time), not before this rotation \
                     at {now}: rotate again once it is in use",
                    current.start
                ),
            ));
        }
        current.end = Some(now.saturating_add(overlap_secs));
        self.generations.push(Generation {
            key,
            public,
            start: now,
            end: None,
        });
        Ok(self.generations.len())
    }

    /// Writes the history into `dir` (a temporary file renamed over `generations.json`).
    ///
    /// # Errors
    /// [`RotateError::Directory`] when writing fails.
    pub fn save(&self, dir: &Path) -> Result<(), RotateError> {
        let path = dir.join(GENERATIONS_FILE);
        let tmp = dir.join(format!("{GENERATIONS_FILE}.tmp"));
        let json =
            serde_json::to_string_pretty(self).map_err(|e| dir_error(&path, e.to_string()))? + "\n";
        std::fs::write(&tmp, json).map_err(|e| dir_error(&tmp, e.to_string()))?;
        std::fs::rename(&tmp, &path).map_err(|e| dir_error(&path, e.to_string()))
    }
}

/// Creates `dir/gen<n>/` and returns its name relative to `dir`.
///
/// # Errors
/// [`RotateError::Directory`] when it cannot be created.
pub fn generation_dir(dir: &Path, n: usize) -> Result<String, RotateError> {
    let name = format!("gen{n}");
    std::fs::create_dir_all(dir.join(&name))
        .map_err(|e| dir_error(&dir.join(&name), e.to_string()))?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Windows close `overlap` after the rotation, the new one starts at it, the file round
    /// trips, and a rotation in the same second, a negative overlap, a missing key file or a
    /// key path leaving the directory are refused.
    #[test]
    fn windows_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(Generations::load(d).unwrap(), None);
        std::fs::write(d.join("k1"), "one").unwrap();
        let mut g = Generations::first("k1".into(), "P1".into(), 1_000);
        let g2 = generation_dir(d, 2).unwrap();
        std::fs::write(d.join(&g2).join("k"), "two").unwrap();
        assert_eq!(
            g.rotate(d, 5_000, 3_600, format!("{g2}/k"), "P2".into())
                .unwrap(),
            2
        );
        assert_eq!(g.generations[0].end, Some(8_600));
        assert_eq!((g.current().start, g.current().end), (5_000, None));
        g.save(d).unwrap();
        assert_eq!(Generations::load(d).unwrap().unwrap(), g);
        let err = g
            .clone()
            .rotate(d, 5_000, 0, "x".into(), "P".into())
            .unwrap_err();
        assert!(
            err.to_string().contains("not before this rotation"),
            "{err}"
        );
        let err = g
            .clone()
            .rotate(d, 6_000, -1, "x".into(), "P".into())
            .unwrap_err();
        assert!(err.to_string().contains("negative"), "{err}");
        std::fs::remove_file(d.join("gen2/k")).unwrap();
        let err = Generations::load(d).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        let mut bad = g.clone();
        bad.generations[0].key = "../outside".into();
        bad.save(d).unwrap();
        let err = Generations::load(d).unwrap_err();
        assert!(err.to_string().contains("not a plain path"), "{err}");
        let mut open = g;
        open.generations[0].end = None;
        open.save(d).unwrap();
        let err = Generations::load(d).unwrap_err();
        assert!(err.to_string().contains("open window"), "{err}");
    }
}
