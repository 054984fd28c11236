//! `tsa rotate`: a new key and certificate chain for the timestamp authority `signet serve`
//! generated (`<data_dir>/tsa/`, [`crate::tsa::init_to_dir`]), with the history of every
//! generation and its window in `generations.json` ([`crate::generations`]).
//!
//! The first generation is the directory's own `tsa.key.enc.pem` and `chain.pem`, valid from
//! the data directory's creation; a rotation adds `gen<N>/tsa.key.enc.pem` (encrypted with the
//! directory's password), `gen<N>/chain.pem` and `gen<N>/root.pem`: a leaf under a new root of
//! its own (the TSA's root key is used once and never kept, so there is no old root to sign a
//! new leaf). `serve` signs with the last generation and lists all of them under
//! `timestampAuthorities`, each with its `validFor` window.
//!
//! Not here: a TSA whose key is configured (`[tsa] key`, a file or PKCS#11): its operator
//! replaces the key and chain in the configuration.

use std::path::Path;
use std::sync::Arc;

use crate::generations::{generation_dir, Generations};
use crate::init::write;
use crate::rotate::{pem_cert, RotateError};
use crate::signer::{CaSigner as _, FileSigner};

/// The key file of a generated TSA.
pub const KEY_FILE: &str = "tsa.key.enc.pem";
/// The chain file (leaf, then root) of a generated TSA.
pub const CHAIN_FILE: &str = "chain.pem";

/// The history of the generated TSA in `dir`: its `generations.json`, or for one never
/// rotated its one generation (`tsa.key.enc.pem`, `chain.pem`) valid from `created`.
///
/// # Errors
/// [`RotateError::Directory`] when the directory holds no TSA or its files are unreadable.
pub fn history(dir: &Path, created: i64) -> Result<Generations, RotateError> {
    if let Some(g) = Generations::load(dir)? {
        return Ok(g);
    }
    let chain_path = dir.join(CHAIN_FILE);
    let chain = std::fs::read_to_string(&chain_path).map_err(|e| RotateError::Directory {
        path: chain_path.clone(),
        reason: format!(
            "{e}: no timestamp authority here (`signet serve` creates it on its first start)"
        ),
    })?;
    Ok(Generations::first(KEY_FILE.to_owned(), chain, created))
}

/// Rotates the TSA in `dir`: a new P-256 (or the current key's curve) leaf key and a new
/// chain, from `now`; the generation in use stays valid until `now + overlap_secs`. The new
/// key is encrypted with `password` (which must open the current key).
///
/// # Errors
/// [`RotateError`]; on error `generations.json` is unchanged.
pub fn rotate(
    dir: &Path,
    created: i64,
    password: &[u8],
    cost: signet_proto::keyfile::ScryptCost,
    now: i64,
    overlap_secs: i64,
) -> Result<(Generations, usize), RotateError> {
    let mut history = history(dir, created)?;
    let current_key = history.current().key_path(dir)?;
    let text = std::fs::read_to_string(&current_key).map_err(|e| RotateError::Directory {
        path: current_key.clone(),
        reason: e.to_string(),
    })?;
    // The password must open the key in use: the new key is encrypted with it, and `serve`
    // reads both with the directory's one password.
    let curve = FileSigner::from_encrypted_pem(&text, password)?.curve();
    let n = history.generations.len() + 1;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let root_key = Arc::new(FileSigner::generate(curve)?);
    let leaf_key = Arc::new(FileSigner::generate(curve)?);
    let (s1, s2) = (
        crate::init::random_serial(&rng)?,
        crate::init::random_serial(&rng)?,
    );
    let certs = crate::tsa::build_tsa_certificates(
        "Signet",
        &format!("signet-{n}"),
        now - 60,
        root_key,
        leaf_key.clone(),
        (&s1, &s2),
    )?;
    let chain = pem_cert(&certs.leaf_der) + &pem_cert(&certs.root_der);
    let gen = generation_dir(dir, n)?;
    let gen_dir = dir.join(&gen);
    write(
        &gen_dir.join(KEY_FILE),
        &leaf_key.to_encrypted_pem(password, cost)?,
        true,
    )?;
    write(&gen_dir.join(CHAIN_FILE), &chain, false)?;
    write(&gen_dir.join("root.pem"), &pem_cert(&certs.root_der), false)?;
    let n = history.rotate(dir, now, overlap_secs, format!("{gen}/{KEY_FILE}"), chain)?;
    history.save(dir)?;
    Ok((history, n))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use signet_proto::keyfile::ScryptCost;

    /// A rotation keeps the first generation where it was, adds a second with a new chain
    /// whose leaf is a timestamping certificate for the new key, and refuses a wrong password
    /// without changing the history.
    #[test]
    fn rotation_adds_a_generation_with_its_own_chain() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        crate::tsa::init_to_dir(
            d,
            crate::signer::CaCurve::P256,
            1_000,
            b"pw",
            ScryptCost::TEST_ONLY,
        )
        .unwrap();
        let err = rotate(d, 1_000, b"wrong", ScryptCost::TEST_ONLY, 5_000, 60).unwrap_err();
        assert!(err.to_string().contains("does not decrypt"), "{err}");
        assert!(!d.join("generations.json").exists());
        let (g, n) = rotate(d, 1_000, b"pw", ScryptCost::TEST_ONLY, 5_000, 60).unwrap();
        assert_eq!(n, 2);
        assert_eq!(g.generations[0].key, KEY_FILE);
        assert_eq!(
            (g.generations[0].start, g.generations[0].end),
            (1_000, Some(5_060))
        );
        assert_eq!(Generations::load(d).unwrap().unwrap(), g);
        let key = FileSigner::from_encrypted_pem(
            &std::fs::read_to_string(g.current().key_path(d).unwrap()).unwrap(),
            b"pw",
        )
        .unwrap();
        let chain: Vec<Vec<u8>> = pem::parse_many(g.current().public.as_bytes())
            .unwrap()
            .into_iter()
            .map(|p| p.contents().to_vec())
            .collect();
        assert_ne!(g.current().public, g.generations[0].public);
        crate::tsa::TimestampAuthority::new(
            Arc::new(key),
            chain,
            Arc::new(signet_proto::clock::FixedClock::new(0)),
        )
        .unwrap();
    }
}
