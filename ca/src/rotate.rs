//! `ca rotate`: a new issuing intermediate (under the same root, or under a new root), with
//! the history of every intermediate and its validity window kept in `authorities.json`.
//!
//! A CA directory (as [`crate::init::init_to_dir`] writes it) keeps its layout: the top-level
//! `intermediate.key.enc.pem`, `intermediate.pem`, `chain.pem`, `root.pem` and
//! `root.key.enc.pem` are always the newest generation, so a server configured with them
//! issues from the new intermediate once restarted. A rotation adds:
//!
//! | path | what |
//! |---|---|
//! | `gen<N>/intermediate.key.enc.pem`, `gen<N>/chain.pem` | generation N's key and chain (kept to sign its CRL) |
//! | `gen<N>/root.key.enc.pem` | the root key of generation N, when it brought a new root |
//! | `authorities.json` | every generation: chain, key files, `validFor` window |
//!
//! Windows: the rotated-out generation's window gets an end, `overlap` after the rotation,
//! and the new one starts at the rotation (both closed intervals, as the trusted root's
//! `validFor`); certificates the old intermediate issued before the rotation keep verifying
//! for signatures made until the old window ends. `authorities.json` is written last, so a
//! failed rotation leaves the directory's history as it was.
//!
//! Not here: the trusted root itself (the server builds it from [`Authorities`]), revocation
//! ([`crate::crl`]), PKCS#11 keys (a rotation makes file keys).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{ExtendedKeyUsagePurpose, Issuer};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::init::{random_serial, write, InitError, InitOptions};
use crate::signer::{CaSigner, FileSigner, RcgenKey};

/// The history file in a CA directory.
pub const AUTHORITIES_FILE: &str = "authorities.json";

/// Rotation errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotateError {
    /// Creating keys or certificates, or writing files, failed.
    #[error(transparent)]
    Init(#[from] InitError),
    /// The CA directory is not usable as it is.
    #[error("{path}: {reason}")]
    Directory {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong and how to fix it.
        reason: String,
    },
}

impl From<rcgen::Error> for RotateError {
    fn from(e: rcgen::Error) -> Self {
        Self::Init(InitError::Rcgen(e))
    }
}

impl From<crate::signer::SignerError> for RotateError {
    fn from(e: crate::signer::SignerError) -> Self {
        Self::Init(InitError::Signer(e))
    }
}

/// One generation of the CA: an issuing intermediate and its window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    /// The chain, PEM: the intermediate first, the root last.
    pub chain: String,
    /// The intermediate's encrypted key file, relative to the CA directory.
    pub key: String,
    /// The root's encrypted key file, relative to the CA directory.
    pub root_key: String,
    /// Start of the window (Unix seconds, inclusive).
    pub start: i64,
    /// End of the window (Unix seconds, inclusive); `None` for the generation in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<i64>,
}

impl Authority {
    /// The chain as DER certificates, intermediate first.
    ///
    /// # Errors
    /// [`RotateError::Directory`] when the PEM holds no certificate.
    pub fn chain_der(&self) -> Result<Vec<Vec<u8>>, RotateError> {
        chain_from_pem(self.chain.as_bytes(), Path::new(AUTHORITIES_FILE))
    }
}

/// Every generation of a CA directory, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorities {
    /// The generations, oldest first; the last is the one in use.
    pub authorities: Vec<Authority>,
}

pub(crate) fn chain_from_pem(bytes: &[u8], path: &Path) -> Result<Vec<Vec<u8>>, RotateError> {
    let chain: Vec<Vec<u8>> = pem::parse_many(bytes)
        .map_err(|e| RotateError::Directory {
            path: path.to_owned(),
            reason: format!("not PEM: {e}"),
        })?
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(|p| p.contents().to_vec())
        .collect();
    if chain.is_empty() {
        return Err(RotateError::Directory {
            path: path.to_owned(),
            reason: "no CERTIFICATE block".to_owned(),
        });
    }
    Ok(chain)
}

fn read(path: &Path) -> Result<Vec<u8>, RotateError> {
    std::fs::read(path).map_err(|e| RotateError::Directory {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

impl Authorities {
    /// The history of `dir`: its `authorities.json`, or, for a directory never rotated, its
    /// one generation (`chain.pem`, the top-level keys) valid from `created`.
    ///
    /// # Errors
    /// [`RotateError::Directory`] for an unreadable or malformed file, or an empty history.
    pub fn load(dir: &Path, created: i64) -> Result<Self, RotateError> {
        let path = dir.join(AUTHORITIES_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let a: Self =
                    signet_proto::json::from_slice(&bytes).map_err(|e| RotateError::Directory {
                        path: path.clone(),
                        reason: format!("malformed: {e}"),
                    })?;
                if a.authorities.is_empty() {
                    return Err(RotateError::Directory {
                        path,
                        reason: "lists no authority".to_owned(),
                    });
                }
                for g in &a.authorities {
                    g.chain_der()?;
                }
                Ok(a)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let chain = read(&dir.join("chain.pem"))?;
                chain_from_pem(&chain, &dir.join("chain.pem"))?;
                Ok(Self {
                    authorities: vec![Authority {
                        chain: String::from_utf8_lossy(&chain).into_owned(),
                        key: "intermediate.key.enc.pem".to_owned(),
                        root_key: "root.key.enc.pem".to_owned(),
                        start: created,
                        end: None,
                    }],
                })
            }
            Err(e) => Err(RotateError::Directory {
                path,
                reason: e.to_string(),
            }),
        }
    }

    /// Whether `dir` was ever rotated (holds `authorities.json`).
    #[must_use]
    pub fn rotated(dir: &Path) -> bool {
        dir.join(AUTHORITIES_FILE).exists()
    }

    /// The generation in use (the last).
    ///
    /// # Panics
    /// Never: [`Authorities::load`] refuses an empty history.
    #[must_use]
    pub fn current(&self) -> &Authority {
        // `load` and `rotate` never make an empty list.
        &self.authorities[self.authorities.len() - 1]
    }

    /// Checks that the chain a server loaded (`chain_der`, from the configured chain file)
    /// is the newest generation's: a rotation replaces both, so anything else means a
    /// half-done rotation or a chain file from elsewhere.
    ///
    /// # Errors
    /// [`RotateError::Directory`] naming the mismatch and the fix.
    pub fn check_current(&self, dir: &Path, chain_der: &[Vec<u8>]) -> Result<(), RotateError> {
        if self.current().chain_der()? == chain_der {
            return Ok(());
        }
        Err(RotateError::Directory {
            path: dir.join(AUTHORITIES_FILE),
            reason: "its newest generation is not the CA chain being served (chain.pem): a \
                     rotation did not finish; run `signet ca rotate` again or restore the \
                     directory from its backup"
                .to_owned(),
        })
    }
}

/// `ca rotate` options.
#[derive(Debug, Clone)]
pub struct RotateOptions {
    /// The rotation time (Unix seconds): the new generation's window starts here.
    pub now: i64,
    /// How long after `now` the old generation's window stays open (seconds): at least the
    /// leaf certificates' lifetime, plus the time until the server is restarted.
    pub overlap_secs: i64,
    /// Also make a new root (its key replaces `root.key.enc.pem`).
    pub new_root: bool,
    /// Lifetime of the new intermediate (seconds), cut to the root's end.
    pub intermediate_validity_secs: i64,
    /// Lifetime of a new root (seconds).
    pub root_validity_secs: i64,
}

impl RotateOptions {
    /// A rotation at `now` with `overlap_secs`, five-year intermediate, ten-year root.
    #[must_use]
    pub fn new(now: i64, overlap_secs: i64) -> Self {
        Self {
            now,
            overlap_secs,
            new_root: false,
            intermediate_validity_secs: 5 * 365 * 86400,
            root_validity_secs: 10 * 365 * 86400,
        }
    }
}

/// What a rotation made.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The history after the rotation.
    pub authorities: Authorities,
    /// The new generation's number (1 is the first).
    pub generation: usize,
}

fn cert_subject(der: &[u8]) -> Result<(String, String, i64), RotateError> {
    let (_, c) = X509Certificate::from_der(der).map_err(|e| RotateError::Directory {
        path: PathBuf::from("chain.pem"),
        reason: format!("certificate does not parse: {e}"),
    })?;
    let subject = c.subject();
    let first = |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue<'_>>| {
        it.next()
            .and_then(|a| a.as_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let org = first(&mut subject.iter_organization());
    let cn = first(&mut subject.iter_common_name());
    Ok((org, cn, c.validity().not_after.timestamp()))
}

/// The common-name prefix of a CA name such as `signet-intermediate-2`: `signet`.
fn cn_prefix(cn: &str) -> &str {
    let base = cn
        .rsplit_once('-')
        .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .map_or(cn, |(b, _)| b);
    base.strip_suffix("-intermediate").unwrap_or(base)
}

/// Rotates the CA in `dir`: a new intermediate key and certificate signed by the root (or a
/// new root, with `opts.new_root`), keys encrypted with `password` (scrypt `cost`). The
/// directory's history is [`Authorities::load`]`(dir, created)`.
///
/// # Errors
/// [`RotateError`]; on error `authorities.json` is unchanged.
pub fn rotate(
    dir: &Path,
    created: i64,
    password: &[u8],
    cost: signet_proto::keyfile::ScryptCost,
    opts: &RotateOptions,
) -> Result<Rotation, RotateError> {
    let mut history = Authorities::load(dir, created)?;
    let current = history.current().clone();
    if current.start >= opts.now {
        return Err(RotateError::Directory {
            path: dir.join(AUTHORITIES_FILE),
            reason: format!(
                "the generation in use started at {} (Unix time), not before this rotation at {}: \
                 rotate again once it is in use",
                current.start, opts.now
            ),
        });
    }
    if opts.overlap_secs < 0 {
        return Err(RotateError::Directory {
            path: dir.to_owned(),
            reason: "the overlap cannot be negative".to_owned(),
        });
    }
    let old_chain = current.chain_der()?;
    let old_root = old_chain.last().cloned().unwrap_or_default();
    let (org, old_cn, _) = cert_subject(&old_chain[0])?;
    let prefix = cn_prefix(&old_cn).to_owned();
    let generation = history.authorities.len() + 1;
    let not_before = opts.now - 60;

    // Everything is made in memory first.
    let old_root_key = crate::signer::FileSigner::from_encrypted_pem(
        &String::from_utf8_lossy(&read(&dir.join(&current.root_key))?),
        password,
    )?;
    let old_inter_key = crate::signer::FileSigner::from_encrypted_pem(
        &String::from_utf8_lossy(&read(&dir.join(&current.key))?),
        password,
    )?;
    let curve = old_inter_key.curve();
    let gen_dir = format!("gen{generation}");
    let (root_der, root_key, root_key_file, root_not_after) = if opts.new_root {
        let key = Arc::new(FileSigner::generate(curve)?);
        let mut o = InitOptions::new(curve, &org, &prefix, not_before);
        o.root_validity_secs = opts.root_validity_secs;
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let params = crate::init::ca_params(
            &o,
            &format!("{prefix}-root-{generation}"),
            o.root_validity_secs,
            None,
            &random_serial(&rng)?,
        )?;
        let cert = params.self_signed(&RcgenKey(key.clone()))?;
        let der = cert.der().to_vec();
        let (_, _, end) = cert_subject(&der)?;
        (der, key, format!("{gen_dir}/root.key.enc.pem"), end)
    } else {
        let (_, _, end) = cert_subject(&old_root)?;
        (
            old_root.clone(),
            Arc::new(old_root_key),
            current.root_key.clone(),
            end,
        )
    };
    let inter_key = Arc::new(FileSigner::generate(curve)?);
    let validity = opts
        .intermediate_validity_secs
        .min(root_not_after - not_before);
    let o = InitOptions::new(curve, &org, &prefix, not_before);
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut params = crate::init::ca_params(
        &o,
        &format!("{prefix}-intermediate-{generation}"),
        validity,
        Some(0),
        &random_serial(&rng)?,
    )?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    params.use_authority_key_identifier_extension = true;
    let issuer = Issuer::from_ca_cert_der(&root_der.clone().into(), RcgenKey(root_key.clone()))
        .map_err(InitError::from)?;
    let inter = params.signed_by(&RcgenKey(inter_key.clone()), &issuer)?;
    let inter_der = inter.der().to_vec();
    let chain_pem = pem_cert(&inter_der) + &pem_cert(&root_der);

    // Files: the old generation's key and chain kept in gen<N-1>/ when they were still the
    // top-level files, the new generation's in gen<N>/, then the top level, then the history.
    let mkdir = |d: &Path| {
        std::fs::create_dir_all(d).map_err(|e| RotateError::Directory {
            path: d.to_owned(),
            reason: e.to_string(),
        })
    };
    let mut old = current.clone();
    if old.key == "intermediate.key.enc.pem" {
        let prev = format!("gen{}", generation - 1);
        mkdir(&dir.join(&prev))?;
        let key_text = String::from_utf8_lossy(&read(&dir.join(&old.key))?).into_owned();
        write(
            &dir.join(&prev).join("intermediate.key.enc.pem"),
            &key_text,
            true,
        )?;
        write(&dir.join(&prev).join("chain.pem"), &old.chain, false)?;
        old.key = format!("{prev}/intermediate.key.enc.pem");
        if old.root_key == "root.key.enc.pem" {
            let root_text =
                String::from_utf8_lossy(&read(&dir.join("root.key.enc.pem"))?).into_owned();
            write(&dir.join(&prev).join("root.key.enc.pem"), &root_text, true)?;
            old.root_key = format!("{prev}/root.key.enc.pem");
        }
    }
    mkdir(&dir.join(&gen_dir))?;
    let inter_key_pem = inter_key.to_encrypted_pem(password, cost)?;
    write(
        &dir.join(&gen_dir).join("intermediate.key.enc.pem"),
        &inter_key_pem,
        true,
    )?;
    write(&dir.join(&gen_dir).join("chain.pem"), &chain_pem, false)?;
    let root_key_file = if opts.new_root {
        let root_key_pem = root_key.to_encrypted_pem(password, cost)?;
        write(&dir.join(&root_key_file), &root_key_pem, true)?;
        write(&dir.join("root.key.enc.pem"), &root_key_pem, true)?;
        write(&dir.join("root.pem"), &pem_cert(&root_der), false)?;
        root_key_file
    } else {
        old.root_key.clone()
    };
    write(&dir.join("intermediate.key.enc.pem"), &inter_key_pem, true)?;
    write(&dir.join("intermediate.pem"), &pem_cert(&inter_der), false)?;
    write(&dir.join("chain.pem"), &chain_pem, false)?;
    old.end = Some(opts.now + opts.overlap_secs);
    let last = history.authorities.len() - 1;
    history.authorities[last] = old;
    history.authorities.push(Authority {
        chain: chain_pem,
        key: format!("{gen_dir}/intermediate.key.enc.pem"),
        root_key: root_key_file,
        start: opts.now,
        end: None,
    });
    let json = serde_json::to_string_pretty(&history).map_err(|e| RotateError::Directory {
        path: dir.join(AUTHORITIES_FILE),
        reason: e.to_string(),
    })?;
    write(&dir.join(AUTHORITIES_FILE), &(json + "\n"), false)?;
    Ok(Rotation {
        authorities: history,
        generation,
    })
}

pub(crate) fn pem_cert(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn common_name_prefix() {
        assert_eq!(cn_prefix("signet-intermediate"), "signet");
        assert_eq!(cn_prefix("signet-intermediate-3"), "signet");
        assert_eq!(cn_prefix("acme-ca-intermediate-12"), "acme-ca");
        assert_eq!(cn_prefix("plain"), "plain");
        assert_eq!(cn_prefix("x-"), "x-");
    }

    fn init(dir: &Path) {
        let opts = InitOptions::new(crate::signer::CaCurve::P256, "Signet", "signet", 1_000);
        crate::init::init_to_dir(
            dir,
            &opts,
            b"password",
            signet_proto::keyfile::ScryptCost::TEST_ONLY,
        )
        .unwrap();
    }

    /// Two rotations (the second with a new root): windows overlap by exactly the overlap,
    /// each chain verifies, the top-level files are the newest generation, and the older
    /// keys are kept.
    #[test]
    fn rotations_keep_history_and_overlap() {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path());
        let cost = signet_proto::keyfile::ScryptCost::TEST_ONLY;
        let r1 = rotate(
            dir.path(),
            1_000,
            b"password",
            cost,
            &RotateOptions::new(5_000, 3_600),
        )
        .unwrap();
        assert_eq!(r1.generation, 2);
        let a = &r1.authorities.authorities;
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].start, a[0].end), (1_000, Some(8_600)));
        assert_eq!((a[1].start, a[1].end), (5_000, None));
        // Same root, new intermediate.
        let c0 = a[0].chain_der().unwrap();
        let c1 = a[1].chain_der().unwrap();
        assert_eq!(c0[1], c1[1]);
        assert_ne!(c0[0], c1[0]);
        let top =
            chain_from_pem(&read(&dir.path().join("chain.pem")).unwrap(), dir.path()).unwrap();
        assert_eq!(top, c1);
        let (_, inter) = X509Certificate::from_der(&c1[0]).unwrap();
        let (_, root) = X509Certificate::from_der(&c1[1]).unwrap();
        inter.verify_signature(Some(root.public_key())).unwrap();
        assert_eq!(
            inter
                .subject()
                .iter_common_name()
                .next()
                .unwrap()
                .as_str()
                .unwrap(),
            "signet-intermediate-2"
        );
        // Loading it back gives the same history; the served chain must be the newest.
        let loaded = Authorities::load(dir.path(), 0).unwrap();
        assert_eq!(loaded, r1.authorities);
        loaded.check_current(dir.path(), &c1).unwrap();
        let err = loaded.check_current(dir.path(), &c0).unwrap_err();
        assert!(err.to_string().contains("did not finish"), "{err}");
        // A second rotation at the same instant is refused and changes nothing.
        let err = rotate(
            dir.path(),
            1_000,
            b"password",
            cost,
            &RotateOptions::new(5_000, 3_600),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("not before this rotation"),
            "{err}"
        );
        assert_eq!(Authorities::load(dir.path(), 0).unwrap(), r1.authorities);
        // A wrong password is refused before anything is written.
        let err = rotate(
            dir.path(),
            1_000,
            b"wrong",
            cost,
            &RotateOptions::new(6_000, 3_600),
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not decrypt"), "{err}");
        assert_eq!(Authorities::load(dir.path(), 0).unwrap(), r1.authorities);
        // A new root.
        let mut o = RotateOptions::new(9_000, 100);
        o.new_root = true;
        let r2 = rotate(dir.path(), 1_000, b"password", cost, &o).unwrap();
        let a = &r2.authorities.authorities;
        assert_eq!(a.len(), 3);
        assert_eq!(a[1].end, Some(9_100));
        assert_eq!(a[0].end, Some(8_600));
        let c2 = a[2].chain_der().unwrap();
        assert_ne!(c2[1], c1[1]);
        let (_, inter) = X509Certificate::from_der(&c2[0]).unwrap();
        let (_, root) = X509Certificate::from_der(&c2[1]).unwrap();
        inter.verify_signature(Some(root.public_key())).unwrap();
        // Every generation's keys decrypt and match its chain.
        for g in a {
            let key = FileSigner::from_encrypted_pem(
                &std::fs::read_to_string(dir.path().join(&g.key)).unwrap(),
                b"password",
            )
            .unwrap();
            let chain = g.chain_der().unwrap();
            let (_, c) = X509Certificate::from_der(&chain[0]).unwrap();
            assert_eq!(c.public_key().raw, key.spki_der());
            let root_key = FileSigner::from_encrypted_pem(
                &std::fs::read_to_string(dir.path().join(&g.root_key)).unwrap(),
                b"password",
            )
            .unwrap();
            let (_, r) = X509Certificate::from_der(chain.last().unwrap()).unwrap();
            assert_eq!(r.public_key().raw, root_key.spki_der());
        }
    }
}
