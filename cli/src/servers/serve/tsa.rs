//! The timestamp authority `signet serve` runs beside the CA (`POST /api/v1/timestamp`).
//!
//! Its key and chain come from `[tsa] key` and `chain` (a PEM key file, encrypted or not, or a
//! PKCS#11 URI; the chain's leaf must certify that key with the critical `timeStamping` EKU
//! alone, checked at start), or else are generated on first start into `<data dir>/tsa/`
//! (`tsa.key.enc.pem`, encrypted with a random password kept in `tsa/password`; `chain.pem`,
//! leaf then root; `root.pem`; the root key is not kept). A generated TSA rotates with
//! `signet tsa rotate` (`signet_ca::tsa_rotate`): `serve` then signs with the newest
//! generation and publishes every generation with its window.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use signet_ca::signer::{load_encrypted_key, CaCurve, CaSigner, FileSigner, PasswordSource};
use signet_ca::tsa::TimestampAuthority;

use super::config::TsaSection;
use crate::fsutil::Existing;

/// One generation of the TSA as the trusted root lists it: chain (leaf first, DER) and window
/// (Unix seconds, closed; no end for the one in use).
pub(super) struct TsaGeneration {
    pub(super) chain: Vec<Vec<u8>>,
    pub(super) start: i64,
    pub(super) end: Option<i64>,
}

/// The TSA that signs, and every generation verifiers must trust.
pub(super) struct Tsa {
    pub(super) authority: TimestampAuthority,
    pub(super) generations: Vec<TsaGeneration>,
}

/// The fix named when a configured chain does not fit the TSA.
const CHAIN_FIX: &str = "tsa.chain must start with the TSA's own certificate for tsa.key, whose \
                         only extended key usage is timeStamping, marked critical (OpenSSL: \
                         extendedKeyUsage = critical,timeStamping), followed by its issuers";

/// A TSA whose key and chain the configuration names (`[tsa] key`, `chain`), checked.
pub(super) struct Configured {
    authority: TimestampAuthority,
    chain: Vec<Vec<u8>>,
}

/// The configured TSA, or `None` when the configuration names none. Called before `serve`
/// writes anything, so a key or chain that does not fit leaves the data directory untouched.
pub(super) fn configured(config: &super::Config) -> anyhow::Result<Option<Configured>> {
    let (Some(key), Some(chain_path)) = (&config.tsa.key, &config.tsa.chain) else {
        return Ok(None);
    };
    let signer = configured_key(key, &config.tsa)?;
    let chain = super::read_chain(chain_path).context("tsa.chain")?;
    let authority =
        TimestampAuthority::new(signer, chain.clone(), Arc::new(signet_ca::SystemClock)).map_err(
            |e| {
                anyhow::anyhow!(
                    "the timestamp authority cannot start with tsa.key and tsa.chain ({}): {e}; \
             {CHAIN_FIX}",
                    chain_path.display()
                )
            },
        )?;
    Ok(Some(Configured { authority, chain }))
}

/// The TSA of this configuration: the `configured` one, else the generated one in
/// `<data_dir>/tsa/` (created first when missing; `created` is the start of its window).
pub(super) fn load(
    config: &super::Config,
    created: i64,
    configured: Option<Configured>,
) -> anyhow::Result<Tsa> {
    let clock = Arc::new(signet_ca::SystemClock);
    if let Some(c) = configured {
        return Ok(Tsa {
            authority: c.authority,
            generations: vec![TsaGeneration {
                chain: c.chain,
                start: created,
                end: None,
            }],
        });
    }
    let dir = config.data_dir.join("tsa");
    let password_path = dir.join("password");
    if !dir.join(signet_ca::tsa_rotate::CHAIN_FILE).exists() {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        super::new_password_file(&password_path, Existing::Replace)?;
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
    let history = signet_ca::tsa_rotate::history(&dir, created)?;
    let current = history.current();
    let signer = load_encrypted_key(
        &current.key_path(&dir)?,
        &PasswordSource::File(password_path),
    )
    .context("loading the timestamp authority key")?;
    let authority = TimestampAuthority::new(Arc::new(signer), current.certificates()?, clock)
        .with_context(|| format!("starting the timestamp authority of {}", dir.display()))?;
    let generations = history
        .generations
        .iter()
        .map(|g| {
            Ok(TsaGeneration {
                chain: g.certificates()?,
                start: g.start,
                end: g.end,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Tsa {
        authority,
        generations,
    })
}

/// The signer `tsa.key` names: a PKCS#11 URI, or a PEM PKCS#8 key file (plain, or encrypted
/// with the password of `tsa.password_file` / `tsa.password_env`).
fn configured_key(key: &str, tsa: &TsaSection) -> anyhow::Result<Arc<dyn CaSigner>> {
    if signet_proto::pkcs11_uri::is_pkcs11_uri(key) {
        let signer = crate::client::keypair::open_pkcs11(key)
            .context("tsa.key: opening the key on the PKCS#11 token")?;
        return Ok(Arc::new(signer));
    }
    let path = Path::new(key);
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("tsa.key: reading {}", path.display()))?;
    let block =
        pem::parse(&text).with_context(|| format!("tsa.key: {} is not PEM", path.display()))?;
    if block.tag() == "PRIVATE KEY" {
        let signer = FileSigner::from_pkcs8_der(block.contents())
            .with_context(|| format!("tsa.key: {}", path.display()))?;
        return Ok(Arc::new(signer));
    }
    let Some(source) =
        super::password_source(tsa.password_file.as_ref(), tsa.password_env.as_ref())
    else {
        anyhow::bail!(
            "tsa.key: {} is not a plain PKCS#8 key (a {:?} block): set tsa.password_file or \
             tsa.password_env for an encrypted key",
            path.display(),
            block.tag()
        );
    };
    let signer = load_encrypted_key(path, &source)
        .with_context(|| format!("tsa.key: loading {}", path.display()))?;
    Ok(Arc::new(signer))
}
