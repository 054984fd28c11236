//! The timestamp authority `signet serve` runs beside the CA (`POST /api/v1/timestamp`): its
//! key and chain are generated on first start into `<data dir>/tsa/` (`tsa.key.enc.pem`,
//! encrypted with a random password kept in `tsa/password`; `chain.pem`, leaf then root;
//! `root.pem`) and loaded from there after; the root key is not kept.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use base64::Engine as _;
use signet_ca::signer::{load_encrypted_key, CaCurve, PasswordSource};
use signet_ca::tsa::TimestampAuthority;

use crate::fsutil::{write_private, Existing};

/// Loads the TSA of `data_dir`, creating it first when there is none (`created` is the
/// notBefore of its certificates).
pub(super) fn load_or_create(data_dir: &Path, created: i64) -> anyhow::Result<TimestampAuthority> {
    let dir = data_dir.join("tsa");
    let password_path = dir.join("password");
    if !dir.join("chain.pem").exists() {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut pw = [0u8; 24];
        aws_lc_rs::rand::fill(&mut pw).map_err(|_| anyhow::anyhow!("no randomness"))?;
        write_private(
            &password_path,
            base64::engine::general_purpose::STANDARD
                .encode(pw)
                .as_bytes(),
            Existing::Replace,
        )?;
        let password = PasswordSource::File(password_path.clone()).read()?;
        signet_ca::tsa::init_to_dir(
            &dir,
            CaCurve::P256,
            created,
            &password,
            signet_proto::keyfile::ScryptCost::DEFAULT,
        )
        .context("creating the timestamp authority's certificates")?;
        tracing::info!(dir = %dir.display(), "generated a timestamp authority root and leaf");
    }
    let signer = load_encrypted_key(
        &dir.join("tsa.key.enc.pem"),
        &PasswordSource::File(password_path),
    )
    .context("loading the timestamp authority key")?;
    let chain = super::read_chain(&dir.join("chain.pem"))?;
    TimestampAuthority::new(Arc::new(signer), chain, Arc::new(signet_ca::SystemClock))
        .context("starting the timestamp authority")
}
