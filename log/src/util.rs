//! Small helpers shared by the log's modules: hashing, key file paths.
//!
//! What this module does not do: read the clock (the log reads wall-clock time only through
//! the `signet_proto::clock::Clock` it is given).

/// SHA-256 of `data`.
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The first of `dir` and its ancestors that exists but is not a directory (following
/// symbolic links), if any: creating `dir` would fail with a bare "File exists" naming
/// nothing useful, so callers report this path instead.
#[must_use]
pub fn non_directory_ancestor(dir: &std::path::Path) -> Option<&std::path::Path> {
    dir.ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .find(|a| std::fs::metadata(a).is_ok_and(|m| !m.is_dir()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::non_directory_ancestor;

    /// A file at the directory or above it is found; missing parts and real directories are
    /// not in the way. Writing a key under such a file names it (not "File exists").
    #[test]
    fn a_file_in_the_way_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        assert_eq!(non_directory_ancestor(&data.join("log")), None);
        std::fs::create_dir(&data).unwrap();
        let log = data.join("log");
        std::fs::write(&log, b"x").unwrap();
        assert_eq!(non_directory_ancestor(&log), Some(log.as_path()));
        assert_eq!(non_directory_ancestor(&log.join("db")), Some(log.as_path()));
        assert_eq!(non_directory_ancestor(&data), None);

        let cfg = crate::LogConfig {
            data_dir: log.clone(),
            generate_keys: true,
            ..crate::LogConfig::default()
        };
        let e = crate::LogKeys::load_or_generate(&cfg)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("{} exists and is not a directory", log.display())),
            "{e}"
        );
        assert!(!e.contains("File exists"), "{e}");
    }
}
