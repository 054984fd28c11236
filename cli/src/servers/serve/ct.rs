//! The CT log key (the key the log signs SCTs with) across rotations: `signet ct rotate`
//! keeps its generations in `<data_dir>/ct/` (`generations.json`, `gen<N>/ct_key.pem`,
//! `signet_ca::generations`); `serve` then has the log sign with the newest one and lists
//! every generation under `ctlogs` with its window. A data directory never rotated keeps the
//! log's own key (`<data_dir>/log/ct_key.pem`), listed from the directory's creation.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::{json, Value};
use signet_ca::generations::Generations;
use signet_proto::keys::PublicKey;

/// The directory of the CT key's generations.
pub(crate) fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("ct")
}

/// The key file of a generation.
pub(crate) const KEY_FILE: &str = "ct_key.pem";

/// The CT key file the log must sign with: the newest generation's once rotated, else
/// `None` (the log's default, `<data_dir>/log/ct_key.pem`).
pub(super) fn current_key(data_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    let d = dir(data_dir);
    Ok(Generations::load(&d)?
        .map(|g| g.current().key_path(&d))
        .transpose()?)
}

/// The `ctlogs[]` items: one per generation with its window, else the log's one `key` from
/// `start`. The newest generation must be `key`, the key the log loaded.
pub(super) fn ctlogs(
    base_url: &str,
    data_dir: &Path,
    key: &PublicKey,
    start: &str,
) -> anyhow::Result<Vec<Value>> {
    let d = dir(data_dir);
    let Some(history) = Generations::load(&d)? else {
        return Ok(vec![super::trust::log_instance(base_url, key, start)?]);
    };
    let mut out = Vec::new();
    for g in &history.generations {
        let public = PublicKey::from_pem(&g.public)
            .with_context(|| format!("{}: a public key of the CT log", d.display()))?;
        let mut v = super::trust::log_instance(base_url, &public, &super::rfc3339(g.start)?)?;
        if let Some(end) = g.end {
            v["publicKey"]["validFor"]["end"] = json!(super::rfc3339(end)?);
        }
        out.push(v);
    }
    let newest = PublicKey::from_pem(&history.current().public)?;
    anyhow::ensure!(
        newest.spki_der() == key.spki_der(),
        "{}: its newest generation is not the key the log signs SCTs with: restore the \
         directory from its backup, or run `signet ct rotate` again",
        d.join(signet_ca::generations::GENERATIONS_FILE).display()
    );
    Ok(out)
}
