//! The TUF repository of a Signet deployment, on disk (the formats are `signet_proto::tuf`).
//!
//! A TUF directory (`<data_dir>/tuf` by default) holds:
//!
//! | path | what | written by |
//! |---|---|---|
//! | `N.root.json`, `root.json` | every root version, and the newest again | `trust init`, `trust rotate-root` (offline root keys) |
//! | `online/{timestamp,snapshot,targets}.key` | the online keys (PKCS#8 PEM, owner only) | `trust init` |
//! | `repository/` | what is published: `N.root.json`, `timestamp.json`, `N.snapshot.json`, `N.targets.json`, `targets/HASH.NAME` | [`Repository::refresh`] (`serve`, `trust export`) |
//!
//! The root keys never enter this directory: `trust init` and `trust rotate-root` read them
//! from their own files and only write the signed roots.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use signet_proto::keys::PublicKey;
use signet_proto::tuf::{
    Common, Envelope, MetaFile, Role, Root, SigningKey, SnapshotMeta, TargetFile, TargetsMeta,
    TimestampMeta, TrustedSet, TufError, TufKey, TufSigner,
};

use crate::fsutil::{write_durable, Existing, Mode};

/// The online roles and their key files under `online/`.
pub(crate) const ONLINE: [(Role, &str); 3] = [
    (Role::Timestamp, "timestamp.key"),
    (Role::Snapshot, "snapshot.key"),
    (Role::Targets, "targets.key"),
];

/// The names of the targets Sigstore clients fetch (sigstore-python's `TrustUpdater`).
pub(crate) const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";
/// See [`TRUSTED_ROOT_TARGET`].
pub(crate) const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";
/// The CA's CRLs (PEM `X509 CRL` blocks), a target once the CA revoked anything.
pub(crate) const CRLS_TARGET: &str = "crls.pem";
/// The trusted keys for keyed signing (`signet keys`), a target when the server has them.
pub(crate) const TRUSTED_KEYS_TARGET: &str = "trusted_keys.json";

/// Reads a private key file for TUF signing: PKCS#8 PEM (`PRIVATE KEY`, as `openssl genpkey`
/// writes), or `ENCRYPTED PRIVATE KEY` with its password in the environment variable
/// `password_env`.
pub(crate) fn read_signing_key(
    path: &Path,
    password_env: Option<&str>,
) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    let der = if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let var = password_env.with_context(|| {
            format!(
                "{} is encrypted: give --password-env VAR naming the variable that holds its password",
                path.display()
            )
        })?;
        let password = std::env::var(var)
            .with_context(|| format!("the password variable {var} is not set"))?;
        signet_proto::keyfile::decrypt_pem(&text, password.as_bytes())
            .with_context(|| format!("cannot decrypt {}", path.display()))?
            .0
    } else {
        let p = pem::parse(&text).with_context(|| format!("{} is not PEM", path.display()))?;
        if p.tag() != "PRIVATE KEY" {
            bail!(
                "{} holds a {:?} block; a TUF signing key is a PKCS#8 `PRIVATE KEY` (openssl genpkey -algorithm ed25519, or -algorithm EC -pkeyopt ec_paramgen_curve:P-256)",
                path.display(),
                p.tag()
            );
        }
        p.contents().to_vec()
    };
    SigningKey::from_pkcs8_der(&der).with_context(|| format!("key file {}", path.display()))
}

/// A root key that stays in a PKCS#11 token (an HSM, a smart card, SoftHSM2): ECDSA P-256,
/// the token signs the SHA-256 digest of the canonical JSON (`ecdsa-sha2-nistp256`).
struct TokenRootKey {
    signer: signet_ca::signer::Pkcs11Signer,
    key: TufKey,
}

impl TufSigner for TokenRootKey {
    fn tuf_key(&self) -> Result<TufKey, TufError> {
        Ok(self.key.clone())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, TufError> {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
        self.signer
            .sign_digest(digest.as_ref())
            .map_err(|e| TufError::Signing(format!("the PKCS#11 root key: {e}")))
    }
}

/// Whether a `--root-key`/`--key` value names a key in a token rather than a file.
fn is_pkcs11(spec: &Path) -> bool {
    spec.to_str().is_some_and(|s| s.starts_with("pkcs11:"))
}

/// Opens a root key: a private key file ([`read_signing_key`]) or an RFC 7512 `pkcs11:` URI
/// of a P-256 key in a token (module and PIN as `signet sign --key pkcs11:` takes them).
pub(crate) fn read_root_signer(
    spec: &Path,
    password_env: Option<&str>,
) -> anyhow::Result<Box<dyn TufSigner>> {
    if !is_pkcs11(spec) {
        return Ok(Box::new(read_signing_key(spec, password_env)?));
    }
    use signet_ca::signer::CaSigner as _;
    let uri = spec.to_string_lossy();
    let signer = crate::client::keypair::open_pkcs11(&uri)?;
    if signer.curve() != signet_ca::signer::CaCurve::P256 {
        bail!(
            "the PKCS#11 root key is not ECDSA P-256; TUF root keys in a token must be P-256 (ecdsa-sha2-nistp256)"
        );
    }
    let public =
        PublicKey::from_spki_der(signer.spki_der()).context("the PKCS#11 root key's public key")?;
    let key = TufKey::from_public_key(&public)?;
    Ok(Box::new(TokenRootKey { signer, key }))
}

/// Reads the public half of a key: a `PUBLIC KEY` PEM, a private key file, or a `pkcs11:`
/// URI.
pub(crate) fn read_public_key(path: &Path, password_env: Option<&str>) -> anyhow::Result<TufKey> {
    if is_pkcs11(path) {
        return Ok(read_root_signer(path, password_env)?.tuf_key()?);
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    if text.contains("-----BEGIN PUBLIC KEY-----") {
        let key =
            PublicKey::from_pem(&text).with_context(|| format!("public key {}", path.display()))?;
        return TufKey::from_public_key(&key)
            .with_context(|| format!("public key {}", path.display()));
    }
    Ok(read_signing_key(path, password_env)?.tuf_key()?)
}

/// The highest `N.root.json` in `dir` and its bytes.
pub(crate) fn latest_root(dir: &Path) -> anyhow::Result<(u64, Vec<u8>)> {
    let mut latest = None;
    for n in 1.. {
        let p = dir.join(format!("{n}.root.json"));
        match std::fs::read(&p) {
            Ok(bytes) => latest = Some((n, bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(e) => return Err(e).with_context(|| format!("reading {}", p.display())),
        }
    }
    latest.with_context(|| {
        format!(
            "{} holds no 1.root.json: create the repository with `signet trust init --root-key ... --out {}`",
            dir.display(),
            dir.display()
        )
    })
}

/// Verifies the chain of roots in `dir` (1.root.json self-signed, each next one signed by
/// both thresholds) and returns the client state after it.
pub(crate) fn verify_root_chain(dir: &Path) -> anyhow::Result<TrustedSet> {
    let (latest, _) = latest_root(dir)?;
    let read = |n: u64| {
        let p = dir.join(format!("{n}.root.json"));
        std::fs::read(&p).with_context(|| format!("reading {}", p.display()))
    };
    let mut set = TrustedSet::new(&read(1)?).context("1.root.json")?;
    for n in 2..=latest {
        set.update_root(&read(n)?)
            .with_context(|| format!("{n}.root.json"))?;
    }
    Ok(set)
}

/// Writes root version `n` (`N.root.json` and `root.json`).
pub(crate) fn write_root(dir: &Path, n: u64, bytes: &[u8]) -> anyhow::Result<()> {
    write_durable(
        &dir.join(format!("{n}.root.json")),
        bytes,
        Mode::Public,
        Existing::Refuse,
    )?;
    write_durable(
        &dir.join("root.json"),
        bytes,
        Mode::Public,
        Existing::Replace,
    )
}

/// How long each online role's metadata lives; it is re-signed once half of that is gone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lifetimes {
    /// `timestamp.json`.
    pub(crate) timestamp_secs: u64,
    /// `N.snapshot.json`.
    pub(crate) snapshot_secs: u64,
    /// `N.targets.json`.
    pub(crate) targets_secs: u64,
}

impl Lifetimes {
    fn of(&self, role: Role) -> i64 {
        let secs = match role {
            Role::Timestamp => self.timestamp_secs,
            Role::Snapshot => self.snapshot_secs,
            _ => self.targets_secs,
        };
        i64::try_from(secs).unwrap_or(i64::MAX / 4)
    }

    /// How often the server looks for metadata to re-sign and for new root versions: a
    /// quarter of the shortest lifetime, between 1 s and 10 s (a look is a few file reads).
    pub(crate) fn check_interval(&self) -> std::time::Duration {
        let shortest = self
            .timestamp_secs
            .min(self.snapshot_secs)
            .min(self.targets_secs);
        std::time::Duration::from_secs((shortest / 4).clamp(1, 10))
    }
}

/// The online half of a repository: its keys and its published directory.
pub(crate) struct Repository {
    dir: PathBuf,
    keys: Vec<(Role, SigningKey)>,
}

/// What one refresh re-signed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Refreshed {
    /// New targets version, if re-signed.
    pub(crate) targets: Option<u64>,
    /// New snapshot version, if re-signed.
    pub(crate) snapshot: Option<u64>,
    /// New timestamp version, if re-signed.
    pub(crate) timestamp: Option<u64>,
}

fn read_opt(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

impl Repository {
    /// Opens the TUF directory `dir`: its online keys, checked against the newest root.
    pub(crate) fn open(dir: &Path) -> anyhow::Result<Self> {
        let set = verify_root_chain(dir)?;
        let mut keys = Vec::new();
        for (role, file) in ONLINE {
            let path = dir.join("online").join(file);
            let key = read_signing_key(&path, None)?;
            let id = key.tuf_key()?.key_id();
            let listed = set
                .root()
                .role(role)
                .is_some_and(|rk| rk.keyids.contains(&id));
            if !listed {
                bail!(
                    "the {role} key {} is not a {role} key of root v{} in {}: the root and the online keys do not belong together",
                    path.display(),
                    set.root().common.version,
                    dir.display()
                );
            }
            keys.push((role, key));
        }
        Ok(Repository {
            dir: dir.to_owned(),
            keys,
        })
    }

    /// The published directory (what `/tuf/` serves and `trust export` copies).
    pub(crate) fn published(&self) -> PathBuf {
        self.dir.join("repository")
    }

    fn key(&self, role: Role) -> &SigningKey {
        // `open` loaded one key per online role.
        &self
            .keys
            .iter()
            .find(|(r, _)| *r == role)
            .unwrap_or(&self.keys[0])
            .1
    }

    fn publish(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.published().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        write_durable(&path, bytes, Mode::Public, Existing::Replace)
    }

    /// Brings the published repository up to date at `now`: every root version, the
    /// `targets` (the trust files, re-signed when they change or half their lifetime is
    /// gone), the snapshot and the timestamp (each re-signed when what it names changed or
    /// half its lifetime is gone). Files are written children first, the timestamp last, so
    /// a client never sees a timestamp naming a file that is not there yet.
    pub(crate) fn refresh(
        &self,
        files: &[(&str, &[u8])],
        lifetimes: &Lifetimes,
        now: i64,
    ) -> anyhow::Result<Refreshed> {
        let out = self.published();
        std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
        let (latest, root_bytes) = latest_root(&self.dir)?;
        for n in 1..=latest {
            let name = format!("{n}.root.json");
            let bytes = std::fs::read(self.dir.join(&name))?;
            if read_opt(&out.join(&name))?.as_deref() != Some(bytes.as_slice()) {
                self.publish(&name, &bytes)?;
            }
        }
        if read_opt(&out.join("root.json"))?.as_deref() != Some(root_bytes.as_slice()) {
            self.publish("root.json", &root_bytes)?;
        }
        let stale = |common: &Common, role: Role| common.expires - now < lifetimes.of(role) / 2;
        let mut done = Refreshed::default();

        // The current state, as published.
        let timestamp = read_opt(&out.join("timestamp.json"))?
            .map(|b| -> anyhow::Result<TimestampMeta> {
                Ok(TimestampMeta::from_signed(
                    &Envelope::parse(&b, Role::Timestamp)?.signed,
                )?)
            })
            .transpose()
            .context("the published timestamp.json")?;
        let snapshot = match &timestamp {
            Some(t) => read_opt(&out.join(format!("{}.snapshot.json", t.snapshot.version)))?
                .map(|b| -> anyhow::Result<(SnapshotMeta, Vec<u8>)> {
                    Ok((
                        SnapshotMeta::from_signed(&Envelope::parse(&b, Role::Snapshot)?.signed)?,
                        b,
                    ))
                })
                .transpose()
                .context("the published snapshot")?,
            None => None,
        };
        let targets = match &snapshot {
            Some((s, _)) => match s.meta.get("targets.json") {
                Some(m) => read_opt(&out.join(format!("{}.targets.json", m.version)))?
                    .map(|b| -> anyhow::Result<(TargetsMeta, Vec<u8>)> {
                        Ok((
                            TargetsMeta::from_signed(&Envelope::parse(&b, Role::Targets)?.signed)?,
                            b,
                        ))
                    })
                    .transpose()
                    .context("the published targets")?,
                None => None,
            },
            None => None,
        };

        // Targets.
        let wanted: std::collections::BTreeMap<String, TargetFile> = files
            .iter()
            .map(|(name, bytes)| ((*name).to_owned(), TargetFile::of(bytes)))
            .collect();
        for (name, bytes) in files {
            let file = &wanted[*name];
            let path = signet_proto::tuf::consistent_target_path(name, file);
            let path = format!("targets/{path}");
            if read_opt(&out.join(&path))?.is_none() {
                self.publish(&path, bytes)?;
            }
        }
        let (targets_version, targets_bytes) = match targets {
            Some((t, b)) if t.targets == wanted && !stale(&t.common, Role::Targets) => {
                (t.common.version, b)
            }
            other => {
                let version = other.as_ref().map_or(0, |(t, _)| t.common.version).max(
                    snapshot.as_ref().map_or(0, |(s, _)| {
                        s.meta.get("targets.json").map_or(0, |m| m.version)
                    }),
                ) + 1;
                let meta = TargetsMeta {
                    common: Common {
                        version,
                        expires: now + lifetimes.of(Role::Targets),
                    },
                    targets: wanted,
                };
                let bytes = Envelope::sign(&meta.to_signed()?, &[self.key(Role::Targets)])?;
                self.publish(&format!("{version}.targets.json"), &bytes)?;
                done.targets = Some(version);
                (version, bytes)
            }
        };

        // Snapshot.
        let snapshot_entry = |version: u64, bytes: &[u8]| MetaFile {
            version,
            length: Some(u64::try_from(bytes.len()).unwrap_or(u64::MAX)),
            hashes: TargetFile::of(bytes).hashes,
        };
        let (snapshot_version, snapshot_bytes) = match snapshot {
            Some((s, b))
                if done.targets.is_none()
                    && s.meta.get("targets.json").map(|m| m.version) == Some(targets_version)
                    && !stale(&s.common, Role::Snapshot) =>
            {
                (s.common.version, b)
            }
            other => {
                let version = other
                    .as_ref()
                    .map_or(0, |(s, _)| s.common.version)
                    .max(timestamp.as_ref().map_or(0, |t| t.snapshot.version))
                    + 1;
                let mut meta = std::collections::BTreeMap::new();
                meta.insert(
                    "targets.json".to_owned(),
                    snapshot_entry(targets_version, &targets_bytes),
                );
                let s = SnapshotMeta {
                    common: Common {
                        version,
                        expires: now + lifetimes.of(Role::Snapshot),
                    },
                    meta,
                };
                let bytes = Envelope::sign(&s.to_signed()?, &[self.key(Role::Snapshot)])?;
                self.publish(&format!("{version}.snapshot.json"), &bytes)?;
                done.snapshot = Some(version);
                (version, bytes)
            }
        };

        // Timestamp, last.
        match timestamp {
            Some(t)
                if done.snapshot.is_none()
                    && t.snapshot.version == snapshot_version
                    && !stale(&t.common, Role::Timestamp) => {}
            other => {
                let version = other.as_ref().map_or(0, |t| t.common.version) + 1;
                let t = TimestampMeta {
                    common: Common {
                        version,
                        expires: now + lifetimes.of(Role::Timestamp),
                    },
                    snapshot: snapshot_entry(snapshot_version, &snapshot_bytes),
                };
                let bytes = Envelope::sign(&t.to_signed()?, &[self.key(Role::Timestamp)])?;
                self.publish("timestamp.json", &bytes)?;
                done.timestamp = Some(version);
            }
        }
        Ok(done)
    }
}

/// Generates the three online keys (ECDSA P-256) into `dir/online/`, refusing to replace any.
pub(crate) fn generate_online_keys(dir: &Path) -> anyhow::Result<Vec<TufKey>> {
    let online = dir.join("online");
    std::fs::create_dir_all(&online).with_context(|| format!("creating {}", online.display()))?;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut keys = Vec::new();
    for (_, file) in ONLINE {
        let key =
            signet_proto::keys::EcdsaSigner::generate(signet_proto::keys::EcdsaCurve::P256, &rng)?;
        write_durable(
            &online.join(file),
            key.to_pkcs8_pem()?.as_bytes(),
            Mode::Private,
            Existing::Refuse,
        )?;
        keys.push(TufKey::from_public_key(key.public_key())?);
    }
    Ok(keys)
}

/// Signs root `root` with every key in `signers` that the root role of `root` or of
/// `previous` lists.
pub(crate) fn sign_root(
    root: &Root,
    previous: Option<&Root>,
    signers: &[Box<dyn TufSigner>],
) -> anyhow::Result<Vec<u8>> {
    let listed =
        |r: &Root, id: &String| r.role(Role::Root).is_some_and(|rk| rk.keyids.contains(id));
    let mut use_keys: Vec<&dyn TufSigner> = Vec::new();
    for key in signers {
        let id = key.tuf_key()?.key_id();
        if listed(root, &id) || previous.is_some_and(|p| listed(p, &id)) {
            use_keys.push(key.as_ref());
        } else {
            bail!("the key {id} is not a root key of the old or the new root; it cannot sign");
        }
    }
    Ok(Envelope::sign(&root.to_signed()?, &use_keys)?)
}
