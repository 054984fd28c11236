//! The Update Framework (TUF) metadata: what a Signet TUF repository publishes about its trust
//! material and what a client checks before it believes it.
//!
//! Spec: TUF specification 1.0 (theupdateframework.github.io/specification, version 1.0.31),
//! as python-tuf's `ngclient` 7 implements it (sigstore-python's updater): metadata files are
//! `{"signed": {...}, "signatures": [{"keyid", "sig"}]}`, and each signature covers the OLPC
//! canonical JSON of `signed` that securesystemslib's `encode_canonical` writes (keys sorted by
//! code point, no whitespace, only `"` and `\` escaped, integers only). That is not RFC 8785
//! ([`crate::jcs`]): the two differ in string escaping and in key order outside the BMP.
//!
//! Keys are securesystemslib keys: `ecdsa` / `ecdsa-sha2-nistp256` (or `-nistp384`) with a PEM
//! SubjectPublicKeyInfo and ASN.1 DER signatures, and `ed25519` / `ed25519` with the raw key
//! in hex; a key ID is the SHA-256 of the key's canonical JSON, as securesystemslib computes it.
//!
//! [`TrustedSet`] is the client's state machine (TUF §5.3 to §5.6, in python-tuf's order): a
//! chain of roots, each signed by a threshold of the previous root's root keys and of its own;
//! then timestamp, snapshot and targets, with rollback, freeze (expiry) and mix-and-match
//! (version, length and hash) checks. Times are passed in (Unix seconds). Delegated targets
//! roles are not supported (Signet's repository has none): a delegation is refused.
//!
//! No I/O here: the server and the client in `signet-cli` fetch and store the files.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Map, Value};

use crate::bundle::Timestamp;
use crate::keys::{EcdsaCurve, EcdsaSigner, Ed25519Signer, KeyAlgorithm, PublicKey};

/// The specification version Signet writes.
pub const SPEC_VERSION: &str = "1.0.31";

/// The most root versions a client walks in one refresh (python-tuf's `max_root_rotations`).
pub const MAX_ROOT_ROTATIONS: u64 = 256;

/// The four top-level roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// `root`: the keys of every top-level role.
    Root,
    /// `timestamp`: the current snapshot version (short-lived, online key).
    Timestamp,
    /// `snapshot`: the current version of every targets metadata file.
    Snapshot,
    /// `targets`: the target files, their lengths and hashes.
    Targets,
}

impl Role {
    /// The role's name, as in `_type` and in `roles`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::Timestamp => "timestamp",
            Role::Snapshot => "snapshot",
            Role::Targets => "targets",
        }
    }

    /// All four, in the order of the specification.
    pub const ALL: [Role; 4] = [Role::Root, Role::Timestamp, Role::Snapshot, Role::Targets];
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that makes metadata unacceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TufError {
    /// The bytes are not well-formed metadata of the expected role.
    #[error("{role} metadata is malformed: {reason}")]
    Malformed {
        /// The role being read.
        role: Role,
        /// What is wrong.
        reason: String,
    },
    /// A value canonical JSON cannot encode (a number that is not an integer).
    #[error("canonical JSON cannot encode {0}")]
    NotCanonical(&'static str),
    /// Fewer valid signatures than the threshold.
    #[error("{role} v{version} has {valid} valid signature(s) from {signer}'s {role} keys, below the threshold {threshold}")]
    Threshold {
        /// The role of the metadata.
        role: Role,
        /// Its version.
        version: u64,
        /// Whose keys were counted (`root v3`).
        signer: String,
        /// Valid signatures by distinct authorised keys.
        valid: u64,
        /// The threshold.
        threshold: u64,
    },
    /// A version other than the one expected (a root that skips a version, a snapshot or
    /// targets file other than the one its parent lists).
    #[error("{role} has version {got}, expected {expected}")]
    BadVersion {
        /// The role.
        role: Role,
        /// What was expected.
        expected: u64,
        /// What was served.
        got: u64,
    },
    /// A version lower than one already trusted: a rollback attack.
    #[error("{role} version {got} is older than the trusted version {trusted} (rollback)")]
    Rollback {
        /// The role.
        role: Role,
        /// What was served.
        got: u64,
        /// What is trusted.
        trusted: u64,
    },
    /// Expired metadata: stale metadata served after its time (a freeze attack) or a
    /// repository no longer re-signing.
    #[error("{role} v{version} expired at {expires}")]
    Expired {
        /// The role.
        role: Role,
        /// Its version.
        version: u64,
        /// When it expired.
        expires: String,
    },
    /// A file whose length or hash differs from what its parent metadata lists.
    #[error("{name} does not match its listed {what}")]
    Mismatch {
        /// The file.
        name: String,
        /// `length` or `sha256 hash`.
        what: &'static str,
    },
    /// A target the repository does not list.
    #[error("the repository lists no target {0}")]
    UnknownTarget(String),
    /// Too many root versions in one refresh.
    #[error("more than {MAX_ROOT_ROTATIONS} root versions in one refresh")]
    TooManyRoots,
    /// An update in the wrong order (a root after the timestamp, a snapshot before it).
    #[error("{0}")]
    Order(&'static str),
    /// A key that cannot sign TUF metadata, or a signing failure.
    #[error("signing: {0}")]
    Signing(String),
}

fn malformed(role: Role, reason: impl Into<String>) -> TufError {
    TufError::Malformed {
        role,
        reason: reason.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON (OLPC / securesystemslib encode_canonical)
// ---------------------------------------------------------------------------------------------

/// The canonical JSON bytes of `value` that TUF signatures cover.
///
/// # Errors
/// [`TufError::NotCanonical`] for a number that is not an integer.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, TufError> {
    let mut out = Vec::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for b in s.bytes() {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), TufError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            let text = if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                return Err(TufError::NotCanonical("a number that is not an integer"));
            };
            out.extend_from_slice(text.as_bytes());
        }
        Value::String(s) => write_canonical_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Python sorts str keys by code point; UTF-8 byte order is the same order.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical_str(key, out);
                out.push(b':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out)?;
                }
            }
            out.push(b'}');
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

/// The SPKI PEM with LF line ends (as pyca/cryptography writes it).
fn lf_pem(key: &PublicKey) -> String {
    key.to_pem().replace("\r\n", "\n")
}

/// A public key as TUF metadata lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TufKey {
    keytype: String,
    scheme: String,
    public_text: String,
    public: PublicKey,
}

impl TufKey {
    /// The TUF form of a P-256 / P-384 ECDSA or an Ed25519 public key.
    ///
    /// # Errors
    /// [`TufError::Signing`] for another kind of key.
    pub fn from_public_key(key: &PublicKey) -> Result<Self, TufError> {
        let (keytype, scheme, public_text) = match key.algorithm() {
            KeyAlgorithm::EcdsaP256 => ("ecdsa", "ecdsa-sha2-nistp256", lf_pem(key)),
            KeyAlgorithm::EcdsaP384 => ("ecdsa", "ecdsa-sha2-nistp384", lf_pem(key)),
            KeyAlgorithm::Ed25519 => (
                "ed25519",
                "ed25519",
                hex::encode(key.ed25519_raw().ok_or_else(|| {
                    TufError::Signing("an Ed25519 key without its raw form".to_owned())
                })?),
            ),
            other => {
                return Err(TufError::Signing(format!(
                    "{other} keys cannot be TUF keys here (ECDSA P-256/P-384 or Ed25519)"
                )))
            }
        };
        Ok(TufKey {
            keytype: keytype.to_owned(),
            scheme: scheme.to_owned(),
            public_text,
            public: key.clone(),
        })
    }

    /// Reads a key object of `keys` (unknown fields are ignored here; they stay in the
    /// signed bytes).
    ///
    /// # Errors
    /// [`TufError::Malformed`] for an unsupported type or scheme, or a key that does not
    /// parse.
    pub fn from_json(value: &Value, role: Role) -> Result<Self, TufError> {
        let keytype = str_field(value, "keytype", role)?;
        let scheme = str_field(value, "scheme", role)?;
        let public_text = value
            .get("keyval")
            .and_then(|k| k.get("public"))
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(role, "a key has no keyval.public string"))?;
        let public = match (keytype, scheme) {
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256")
            | ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384") => {
                let key = PublicKey::from_pem(public_text)
                    .map_err(|e| malformed(role, format!("an ECDSA key: {e}")))?;
                let want = if scheme.ends_with("256") {
                    KeyAlgorithm::EcdsaP256
                } else {
                    KeyAlgorithm::EcdsaP384
                };
                if key.algorithm() != want {
                    return Err(malformed(
                        role,
                        format!("a {scheme} key is a {}", key.algorithm()),
                    ));
                }
                key
            }
            ("ed25519", "ed25519") => {
                let raw: [u8; 32] = hex::decode(public_text)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| malformed(role, "an ed25519 key is not 32 bytes of hex"))?;
                PublicKey::from_ed25519_raw(&raw)
                    .map_err(|e| malformed(role, format!("an ed25519 key: {e}")))?
            }
            _ => {
                return Err(malformed(
                    role,
                    format!("unsupported key type {keytype:?} with scheme {scheme:?}"),
                ))
            }
        };
        Ok(TufKey {
            keytype: keytype.to_owned(),
            scheme: scheme.to_owned(),
            public_text: public_text.to_owned(),
            public,
        })
    }

    /// The key object: `{"keytype", "scheme", "keyval": {"public"}}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "keytype": self.keytype,
            "scheme": self.scheme,
            "keyval": {"public": self.public_text},
        })
    }

    /// The key ID securesystemslib computes: hex SHA-256 of the key object's canonical JSON.
    #[must_use]
    pub fn key_id(&self) -> String {
        // The key object holds strings only: canonical JSON cannot fail on it.
        let bytes = canonical_json(&self.to_json()).unwrap_or_default();
        hex::encode(crate::keys::sha256(&bytes))
    }

    /// The public key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The scheme (`ecdsa-sha2-nistp256`, `ed25519`).
    #[must_use]
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.public.verify(message, signature).is_ok()
    }
}

/// A private key that signs TUF metadata: ECDSA P-256 or Ed25519.
#[derive(Clone, Debug)]
pub enum SigningKey {
    /// ECDSA P-256 with SHA-256, DER signatures.
    EcdsaP256(EcdsaSigner),
    /// Ed25519.
    Ed25519(Ed25519Signer),
}

impl SigningKey {
    /// Reads an unencrypted PKCS#8 private key (what `openssl genpkey` writes): ECDSA P-256
    /// or Ed25519.
    ///
    /// # Errors
    /// [`TufError::Signing`] for any other key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, TufError> {
        if let Ok(k) = EcdsaSigner::from_pkcs8_der(der) {
            if k.curve() == EcdsaCurve::P256 {
                return Ok(SigningKey::EcdsaP256(k));
            }
            return Err(TufError::Signing(
                "only P-256 ECDSA keys sign Signet's TUF metadata".to_owned(),
            ));
        }
        Ed25519Signer::from_pkcs8_der(der)
            .map(SigningKey::Ed25519)
            .map_err(|_| {
                TufError::Signing(
                    "the key is neither an ECDSA P-256 nor an Ed25519 PKCS#8 private key"
                        .to_owned(),
                )
            })
    }

    /// The public half, in TUF form.
    ///
    /// # Errors
    /// Never for the two supported kinds (kept fallible for the conversion).
    pub fn tuf_key(&self) -> Result<TufKey, TufError> {
        match self {
            SigningKey::EcdsaP256(k) => TufKey::from_public_key(k.public_key()),
            SigningKey::Ed25519(k) => TufKey::from_public_key(k.public_key()),
        }
    }

    /// Signs `message`.
    ///
    /// # Errors
    /// [`TufError::Signing`] if the crypto library fails.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, TufError> {
        match self {
            SigningKey::EcdsaP256(k) => k
                .sign(message)
                .map_err(|e| TufError::Signing(e.to_string())),
            SigningKey::Ed25519(k) => Ok(k.sign(message).to_vec()),
        }
    }
}

/// What signs TUF metadata: a [`SigningKey`] in memory, or a key that never leaves a device
/// (the CLI's PKCS#11 root keys).
pub trait TufSigner {
    /// The public half, in TUF form.
    ///
    /// # Errors
    /// [`TufError::Signing`] for a key TUF metadata cannot name.
    fn tuf_key(&self) -> Result<TufKey, TufError>;

    /// Signs `message` (the canonical JSON of a `signed` object) as the key's scheme says.
    ///
    /// # Errors
    /// [`TufError::Signing`] if the key or its device fails.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, TufError>;
}

impl TufSigner for SigningKey {
    fn tuf_key(&self) -> Result<TufKey, TufError> {
        SigningKey::tuf_key(self)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, TufError> {
        SigningKey::sign(self, message)
    }
}

// ---------------------------------------------------------------------------------------------
// Field helpers
// ---------------------------------------------------------------------------------------------

fn str_field<'a>(v: &'a Value, key: &str, role: Role) -> Result<&'a str, TufError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(role, format!("`{key}` is not a string")))
}

fn u64_field(v: &Value, key: &str, role: Role) -> Result<u64, TufError> {
    v.get(key)
        .and_then(Value::as_u64)
        .ok_or_else(|| malformed(role, format!("`{key}` is not a non-negative integer")))
}

fn obj_field<'a>(v: &'a Value, key: &str, role: Role) -> Result<&'a Map<String, Value>, TufError> {
    v.get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| malformed(role, format!("`{key}` is not an object")))
}

/// Formats Unix seconds as TUF's `expires` (`YYYY-MM-DDThh:mm:ssZ`).
///
/// # Errors
/// [`TufError::Signing`] outside years 0001..9999.
pub fn format_expires(unix: i64) -> Result<String, TufError> {
    Timestamp::from_unix(unix)
        .map(|t| t.as_str().to_owned())
        .map_err(|e| TufError::Signing(e.to_string()))
}

/// Parses `expires`: exactly `YYYY-MM-DDThh:mm:ssZ`, as python-tuf's `strptime` demands.
fn parse_expires(text: &str, role: Role) -> Result<i64, TufError> {
    let shape_ok = text.len() == 20
        && text.as_bytes().get(10) == Some(&b'T')
        && text.ends_with('Z')
        && text
            .bytes()
            .enumerate()
            .all(|(i, b)| matches!(i, 4 | 7 | 10 | 13 | 16 | 19) || b.is_ascii_digit());
    let t = Timestamp::parse(text)
        .ok()
        .filter(|_| shape_ok)
        .ok_or_else(|| {
            malformed(
                role,
                format!("`expires` {text:?} is not YYYY-MM-DDThh:mm:ssZ"),
            )
        })?;
    Ok(t.unix_seconds())
}

/// The fields every role has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Common {
    /// `version`, at least 1.
    pub version: u64,
    /// `expires`, Unix seconds.
    pub expires: i64,
}

impl Common {
    fn parse(signed: &Value, role: Role) -> Result<Self, TufError> {
        let ty = str_field(signed, "_type", role)?;
        if ty != role.name() {
            return Err(malformed(role, format!("`_type` is {ty:?}")));
        }
        let spec = str_field(signed, "spec_version", role)?;
        let mut parts = spec.split('.');
        let major_ok = parts.next() == Some("1")
            && parts.clone().count() <= 2
            && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !major_ok {
            return Err(malformed(
                role,
                format!("unsupported spec_version {spec:?} (1.x expected)"),
            ));
        }
        let version = u64_field(signed, "version", role)?;
        if version == 0 {
            return Err(malformed(role, "`version` must be at least 1"));
        }
        let expires = parse_expires(str_field(signed, "expires", role)?, role)?;
        Ok(Common { version, expires })
    }

    fn to_json(&self, role: Role) -> Result<Map<String, Value>, TufError> {
        let mut m = Map::new();
        m.insert("_type".to_owned(), json!(role.name()));
        m.insert("spec_version".to_owned(), json!(SPEC_VERSION));
        m.insert("version".to_owned(), json!(self.version));
        m.insert("expires".to_owned(), json!(format_expires(self.expires)?));
        Ok(m)
    }

    /// Whether the metadata is expired at `now` (expired from the `expires` second on, as
    /// python-tuf's `is_expired`: `reference_time >= expires`).
    #[must_use]
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires
    }

    fn check_expiry(&self, role: Role, now: i64) -> Result<(), TufError> {
        if self.is_expired(now) {
            return Err(TufError::Expired {
                role,
                version: self.version,
                expires: format_expires(self.expires).unwrap_or_else(|_| self.expires.to_string()),
            });
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Roles' metadata
// ---------------------------------------------------------------------------------------------

/// The keys and threshold of one role in root metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleKeys {
    /// Authorised key IDs (distinct).
    pub keyids: Vec<String>,
    /// Signatures needed, at least 1.
    pub threshold: u64,
}

/// `root` metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// Version and expiry.
    pub common: Common,
    /// `consistent_snapshot`: snapshot and targets are fetched as `N.name.json` and targets
    /// as `HASH.name`.
    pub consistent_snapshot: bool,
    /// `keys`, by key ID.
    pub keys: BTreeMap<String, TufKey>,
    /// `roles`: exactly the four top-level roles.
    pub roles: BTreeMap<Role, RoleKeys>,
}

impl Root {
    /// Reads the `signed` part of root metadata.
    ///
    /// # Errors
    /// [`TufError::Malformed`].
    pub fn from_signed(signed: &Value) -> Result<Self, TufError> {
        let r = Role::Root;
        let common = Common::parse(signed, r)?;
        let consistent_snapshot = match signed.get("consistent_snapshot") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(malformed(r, "`consistent_snapshot` is not a boolean")),
        };
        let mut keys = BTreeMap::new();
        for (id, key) in obj_field(signed, "keys", r)? {
            keys.insert(id.clone(), TufKey::from_json(key, r)?);
        }
        let roles_obj = obj_field(signed, "roles", r)?;
        if roles_obj.len() != 4 {
            return Err(malformed(
                r,
                "`roles` must name exactly root, timestamp, snapshot and targets",
            ));
        }
        let mut roles = BTreeMap::new();
        for role in Role::ALL {
            let v = roles_obj
                .get(role.name())
                .ok_or_else(|| malformed(r, format!("`roles` has no {role}")))?;
            let threshold = u64_field(v, "threshold", r)?;
            if threshold == 0 {
                return Err(malformed(r, format!("the {role} threshold is 0")));
            }
            let ids = v
                .get("keyids")
                .and_then(Value::as_array)
                .ok_or_else(|| malformed(r, format!("the {role} keyids are not a list")))?;
            let mut keyids = Vec::new();
            for id in ids {
                let id = id
                    .as_str()
                    .ok_or_else(|| malformed(r, format!("a {role} keyid is not a string")))?;
                if keyids.iter().any(|k| k == id) {
                    return Err(malformed(r, format!("the {role} keyids list {id} twice")));
                }
                keyids.push(id.to_owned());
            }
            roles.insert(role, RoleKeys { keyids, threshold });
        }
        Ok(Root {
            common,
            consistent_snapshot,
            keys,
            roles,
        })
    }

    /// The `signed` JSON.
    ///
    /// # Errors
    /// [`TufError::Signing`] for an unrepresentable expiry.
    pub fn to_signed(&self) -> Result<Value, TufError> {
        let mut m = self.common.to_json(Role::Root)?;
        m.insert(
            "consistent_snapshot".to_owned(),
            json!(self.consistent_snapshot),
        );
        let keys: Map<String, Value> = self
            .keys
            .iter()
            .map(|(id, k)| (id.clone(), k.to_json()))
            .collect();
        m.insert("keys".to_owned(), Value::Object(keys));
        let roles: Map<String, Value> = self
            .roles
            .iter()
            .map(|(role, rk)| {
                (
                    role.name().to_owned(),
                    json!({"keyids": rk.keyids, "threshold": rk.threshold}),
                )
            })
            .collect();
        m.insert("roles".to_owned(), Value::Object(roles));
        Ok(Value::Object(m))
    }

    /// The keys and threshold of `role`.
    #[must_use]
    pub fn role(&self, role: Role) -> Option<&RoleKeys> {
        self.roles.get(&role)
    }

    /// Counts the valid signatures by distinct keys of `role` over `canonical`, and checks
    /// the threshold.
    ///
    /// # Errors
    /// [`TufError::Threshold`].
    pub fn verify_role(
        &self,
        role: Role,
        metadata: &Envelope,
        version: u64,
    ) -> Result<(), TufError> {
        let rk = self
            .role(role)
            .ok_or_else(|| malformed(Role::Root, format!("no {role} role")))?;
        let mut valid = 0u64;
        for id in &rk.keyids {
            let (Some(key), Some(sig)) = (self.keys.get(id), metadata.signatures.get(id)) else {
                continue;
            };
            let Ok(sig) = hex::decode(sig) else { continue };
            if key.verifies(&metadata.canonical, &sig) {
                valid += 1;
            }
        }
        if valid < rk.threshold {
            return Err(TufError::Threshold {
                role,
                version,
                signer: format!("root v{}", self.common.version),
                valid,
                threshold: rk.threshold,
            });
        }
        Ok(())
    }
}

/// A `meta` entry: the version (and optionally length and hashes) of a metadata file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaFile {
    /// `version`.
    pub version: u64,
    /// `length`, if listed.
    pub length: Option<u64>,
    /// `hashes`, if listed (algorithm → hex).
    pub hashes: BTreeMap<String, String>,
}

impl MetaFile {
    fn parse(v: &Value, role: Role) -> Result<Self, TufError> {
        let version = u64_field(v, "version", role)?;
        if version == 0 {
            return Err(malformed(role, "a meta version must be at least 1"));
        }
        let length = match v.get("length") {
            None => None,
            Some(_) => Some(u64_field(v, "length", role)?),
        };
        let hashes = match v.get("hashes") {
            None => BTreeMap::new(),
            Some(_) => parse_hashes(v, role)?,
        };
        Ok(MetaFile {
            version,
            length,
            hashes,
        })
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("version".to_owned(), json!(self.version));
        if let Some(l) = self.length {
            m.insert("length".to_owned(), json!(l));
        }
        if !self.hashes.is_empty() {
            m.insert("hashes".to_owned(), json!(self.hashes));
        }
        Value::Object(m)
    }

    fn check(&self, name: &str, data: &[u8]) -> Result<(), TufError> {
        check_length_and_hashes(name, data, self.length, &self.hashes)
    }
}

fn parse_hashes(v: &Value, role: Role) -> Result<BTreeMap<String, String>, TufError> {
    let hashes = obj_field(v, "hashes", role)?;
    if hashes.is_empty() {
        return Err(malformed(role, "`hashes` is empty"));
    }
    hashes
        .iter()
        .map(|(alg, h)| {
            h.as_str()
                .map(|h| (alg.clone(), h.to_owned()))
                .ok_or_else(|| malformed(role, format!("the {alg} hash is not a string")))
        })
        .collect()
}

fn check_length_and_hashes(
    name: &str,
    data: &[u8],
    length: Option<u64>,
    hashes: &BTreeMap<String, String>,
) -> Result<(), TufError> {
    if let Some(l) = length {
        if u64::try_from(data.len()).ok() != Some(l) {
            return Err(TufError::Mismatch {
                name: name.to_owned(),
                what: "length",
            });
        }
    }
    for (alg, want) in hashes {
        // Every listed hash must match; one this client cannot compute fails closed.
        let ok =
            alg == "sha256" && want.eq_ignore_ascii_case(&hex::encode(crate::keys::sha256(data)));
        if !ok {
            return Err(TufError::Mismatch {
                name: name.to_owned(),
                what: if alg == "sha256" {
                    "sha256 hash"
                } else {
                    "hashes (only sha256 is supported)"
                },
            });
        }
    }
    Ok(())
}

/// `timestamp` metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimestampMeta {
    /// Version and expiry.
    pub common: Common,
    /// `meta["snapshot.json"]`.
    pub snapshot: MetaFile,
}

impl TimestampMeta {
    /// Reads the `signed` part.
    ///
    /// # Errors
    /// [`TufError::Malformed`].
    pub fn from_signed(signed: &Value) -> Result<Self, TufError> {
        let r = Role::Timestamp;
        let common = Common::parse(signed, r)?;
        let meta = obj_field(signed, "meta", r)?;
        if meta.len() != 1 {
            return Err(malformed(r, "`meta` must list snapshot.json only"));
        }
        let snap = meta
            .get("snapshot.json")
            .ok_or_else(|| malformed(r, "`meta` has no snapshot.json"))?;
        Ok(TimestampMeta {
            common,
            snapshot: MetaFile::parse(snap, r)?,
        })
    }

    /// The `signed` JSON.
    ///
    /// # Errors
    /// [`TufError::Signing`] for an unrepresentable expiry.
    pub fn to_signed(&self) -> Result<Value, TufError> {
        let mut m = self.common.to_json(Role::Timestamp)?;
        m.insert(
            "meta".to_owned(),
            json!({"snapshot.json": self.snapshot.to_json()}),
        );
        Ok(Value::Object(m))
    }
}

/// `snapshot` metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotMeta {
    /// Version and expiry.
    pub common: Common,
    /// `meta`: `targets.json` (and delegated roles, which Signet does not use).
    pub meta: BTreeMap<String, MetaFile>,
}

impl SnapshotMeta {
    /// Reads the `signed` part.
    ///
    /// # Errors
    /// [`TufError::Malformed`].
    pub fn from_signed(signed: &Value) -> Result<Self, TufError> {
        let r = Role::Snapshot;
        let common = Common::parse(signed, r)?;
        let mut meta = BTreeMap::new();
        for (name, v) in obj_field(signed, "meta", r)? {
            meta.insert(name.clone(), MetaFile::parse(v, r)?);
        }
        if !meta.contains_key("targets.json") {
            return Err(malformed(r, "`meta` has no targets.json"));
        }
        Ok(SnapshotMeta { common, meta })
    }

    /// The `signed` JSON.
    ///
    /// # Errors
    /// [`TufError::Signing`] for an unrepresentable expiry.
    pub fn to_signed(&self) -> Result<Value, TufError> {
        let mut m = self.common.to_json(Role::Snapshot)?;
        let meta: Map<String, Value> = self
            .meta
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        m.insert("meta".to_owned(), Value::Object(meta));
        Ok(Value::Object(m))
    }
}

/// One target file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetFile {
    /// `length`.
    pub length: u64,
    /// `hashes` (algorithm → hex), not empty.
    pub hashes: BTreeMap<String, String>,
}

impl TargetFile {
    /// The entry for `data`: its length and SHA-256.
    #[must_use]
    pub fn of(data: &[u8]) -> Self {
        let mut hashes = BTreeMap::new();
        hashes.insert("sha256".to_owned(), hex::encode(crate::keys::sha256(data)));
        TargetFile {
            length: u64::try_from(data.len()).unwrap_or(u64::MAX),
            hashes,
        }
    }

    /// The SHA-256 hex, which prefixes the file's name under consistent snapshots.
    #[must_use]
    pub fn sha256(&self) -> Option<&str> {
        self.hashes.get("sha256").map(String::as_str)
    }

    /// Checks `data` against the length and every hash.
    ///
    /// # Errors
    /// [`TufError::Mismatch`].
    pub fn check(&self, name: &str, data: &[u8]) -> Result<(), TufError> {
        check_length_and_hashes(name, data, Some(self.length), &self.hashes)
    }
}

/// `targets` metadata (top-level; delegations refused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetsMeta {
    /// Version and expiry.
    pub common: Common,
    /// `targets`, by path.
    pub targets: BTreeMap<String, TargetFile>,
}

impl TargetsMeta {
    /// Reads the `signed` part.
    ///
    /// # Errors
    /// [`TufError::Malformed`], also for delegations.
    pub fn from_signed(signed: &Value) -> Result<Self, TufError> {
        let r = Role::Targets;
        let common = Common::parse(signed, r)?;
        if signed.get("delegations").is_some_and(|d| !d.is_null()) {
            return Err(malformed(r, "delegated targets roles are not supported"));
        }
        let mut targets = BTreeMap::new();
        for (name, v) in obj_field(signed, "targets", r)? {
            if name.is_empty()
                || name
                    .split('/')
                    .any(|p| p.is_empty() || p == "." || p == "..")
            {
                return Err(malformed(
                    r,
                    format!("target path {name:?} is not a relative path"),
                ));
            }
            targets.insert(
                name.clone(),
                TargetFile {
                    length: u64_field(v, "length", r)?,
                    hashes: parse_hashes(v, r)?,
                },
            );
        }
        Ok(TargetsMeta { common, targets })
    }

    /// The `signed` JSON.
    ///
    /// # Errors
    /// [`TufError::Signing`] for an unrepresentable expiry.
    pub fn to_signed(&self) -> Result<Value, TufError> {
        let mut m = self.common.to_json(Role::Targets)?;
        let targets: Map<String, Value> = self
            .targets
            .iter()
            .map(|(k, v)| (k.clone(), json!({"length": v.length, "hashes": v.hashes})))
            .collect();
        m.insert("targets".to_owned(), Value::Object(targets));
        Ok(Value::Object(m))
    }
}

// ---------------------------------------------------------------------------------------------
// Envelope: parse, sign
// ---------------------------------------------------------------------------------------------

/// A parsed metadata file: `signed` as JSON, its canonical bytes and the signatures.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// The `signed` object, as served (unknown fields kept: they are signed too).
    pub signed: Value,
    /// `canonical_json(signed)`: what the signatures cover.
    pub canonical: Vec<u8>,
    /// Hex signatures by key ID (a key ID listed twice is refused, as python-tuf does).
    pub signatures: BTreeMap<String, String>,
}

impl Envelope {
    /// Parses a metadata file of `role` (the role only names errors; `_type` is checked by
    /// the role's parser).
    ///
    /// # Errors
    /// [`TufError::Malformed`], [`TufError::NotCanonical`].
    pub fn parse(bytes: &[u8], role: Role) -> Result<Self, TufError> {
        let v: Value = crate::json::from_slice(bytes)
            .map_err(|e| malformed(role, format!("not JSON: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| malformed(role, "not a JSON object"))?;
        if obj.len() != 2 {
            return Err(malformed(
                role,
                "the file must hold exactly `signed` and `signatures`",
            ));
        }
        let signed = obj_field(&v, "signed", role)?;
        let canonical = canonical_json(&Value::Object(signed.clone()))?;
        let sigs = v
            .get("signatures")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed(role, "`signatures` is not a list"))?;
        let mut signatures = BTreeMap::new();
        for s in sigs {
            let keyid = str_field(s, "keyid", role)?;
            let sig = str_field(s, "sig", role)?;
            if signatures
                .insert(keyid.to_owned(), sig.to_owned())
                .is_some()
            {
                return Err(malformed(role, format!("two signatures by key {keyid}")));
            }
        }
        Ok(Envelope {
            signed: Value::Object(signed.clone()),
            canonical,
            signatures,
        })
    }

    /// Signs `signed` with each key (no key twice), returning the metadata file as pretty
    /// JSON.
    ///
    /// # Errors
    /// [`TufError::NotCanonical`], [`TufError::Signing`].
    pub fn sign(signed: &Value, keys: &[&dyn TufSigner]) -> Result<Vec<u8>, TufError> {
        let canonical = canonical_json(signed)?;
        let mut signatures = Vec::new();
        let mut seen = Vec::new();
        for key in keys {
            let id = key.tuf_key()?.key_id();
            if seen.contains(&id) {
                continue;
            }
            signatures.push(json!({"keyid": id, "sig": hex::encode(key.sign(&canonical)?)}));
            seen.push(id);
        }
        let file = json!({"signed": signed, "signatures": signatures});
        serde_json::to_vec_pretty(&file).map_err(|e| TufError::Signing(e.to_string()))
    }
}

/// A root built from keys: the root role's keys and threshold, and the online keys (one for
/// each of timestamp, snapshot and targets, possibly the same), with consistent snapshots.
///
/// # Errors
/// [`TufError::Signing`] for a threshold of 0 or above the number of root keys.
pub fn new_root(
    version: u64,
    expires: i64,
    root_keys: &[TufKey],
    threshold: u64,
    online: [&TufKey; 3],
) -> Result<Root, TufError> {
    let distinct = {
        let mut ids: Vec<String> = root_keys.iter().map(TufKey::key_id).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    if threshold == 0 || threshold > u64::try_from(distinct.len()).unwrap_or(u64::MAX) {
        return Err(TufError::Signing(format!(
            "the root threshold must be between 1 and the number of distinct root keys ({})",
            distinct.len()
        )));
    }
    let mut keys = BTreeMap::new();
    for k in root_keys.iter().chain(online) {
        keys.insert(k.key_id(), k.clone());
    }
    let mut roles = BTreeMap::new();
    roles.insert(
        Role::Root,
        RoleKeys {
            keyids: root_keys
                .iter()
                .map(TufKey::key_id)
                .fold(Vec::new(), |mut v, id| {
                    if !v.contains(&id) {
                        v.push(id);
                    }
                    v
                }),
            threshold,
        },
    );
    for (role, key) in [Role::Timestamp, Role::Snapshot, Role::Targets]
        .into_iter()
        .zip(online)
    {
        roles.insert(
            role,
            RoleKeys {
                keyids: vec![key.key_id()],
                threshold: 1,
            },
        );
    }
    Ok(Root {
        common: Common { version, expires },
        consistent_snapshot: true,
        keys,
        roles,
    })
}

// ---------------------------------------------------------------------------------------------
// The client's trusted set
// ---------------------------------------------------------------------------------------------

/// What a timestamp update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampUpdate {
    /// A newer timestamp is now trusted.
    New,
    /// The served timestamp is the trusted one (still valid).
    Unchanged,
}

/// The metadata a client trusts, updated in TUF's order: roots, timestamp, snapshot, targets.
#[derive(Clone, Debug)]
pub struct TrustedSet {
    root: Root,
    root_bytes: Vec<u8>,
    rotations: u64,
    timestamp: Option<TimestampMeta>,
    snapshot: Option<SnapshotMeta>,
    targets: Option<TargetsMeta>,
}

impl TrustedSet {
    /// Starts from a trusted root (the bootstrap `root.json`, or the one the client stored):
    /// it must be signed by a threshold of its own root keys. Its expiry is checked later, by
    /// [`TrustedSet::update_timestamp`], as the specification says.
    ///
    /// # Errors
    /// [`TufError::Malformed`], [`TufError::Threshold`].
    pub fn new(root_bytes: &[u8]) -> Result<Self, TufError> {
        let env = Envelope::parse(root_bytes, Role::Root)?;
        let root = Root::from_signed(&env.signed)?;
        root.verify_role(Role::Root, &env, root.common.version)?;
        Ok(TrustedSet {
            root,
            root_bytes: root_bytes.to_vec(),
            rotations: 0,
            timestamp: None,
            snapshot: None,
            targets: None,
        })
    }

    /// The trusted root.
    #[must_use]
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The trusted root's bytes, as served (what a client stores).
    #[must_use]
    pub fn root_bytes(&self) -> &[u8] {
        &self.root_bytes
    }

    /// The trusted timestamp, if any.
    #[must_use]
    pub fn timestamp(&self) -> Option<&TimestampMeta> {
        self.timestamp.as_ref()
    }

    /// The trusted snapshot, if any.
    #[must_use]
    pub fn snapshot(&self) -> Option<&SnapshotMeta> {
        self.snapshot.as_ref()
    }

    /// The trusted targets, if any.
    #[must_use]
    pub fn targets(&self) -> Option<&TargetsMeta> {
        self.targets.as_ref()
    }

    /// Accepts root version N+1: signed by a threshold of the trusted root's root keys and of
    /// its own. An intermediate root may be expired.
    ///
    /// # Errors
    /// [`TufError::Order`] after the timestamp, [`TufError::BadVersion`],
    /// [`TufError::Threshold`], [`TufError::TooManyRoots`], [`TufError::Malformed`].
    pub fn update_root(&mut self, bytes: &[u8]) -> Result<(), TufError> {
        if self.timestamp.is_some() {
            return Err(TufError::Order(
                "a root cannot be updated after the timestamp",
            ));
        }
        if self.rotations >= MAX_ROOT_ROTATIONS {
            return Err(TufError::TooManyRoots);
        }
        let env = Envelope::parse(bytes, Role::Root)?;
        let new = Root::from_signed(&env.signed)?;
        let expected = self.root.common.version + 1;
        if new.common.version != expected {
            return Err(TufError::BadVersion {
                role: Role::Root,
                expected,
                got: new.common.version,
            });
        }
        self.root
            .verify_role(Role::Root, &env, new.common.version)?;
        new.verify_role(Role::Root, &env, new.common.version)?;
        self.root = new;
        self.root_bytes = bytes.to_vec();
        self.rotations += 1;
        Ok(())
    }

    /// Loads a timestamp the client stored earlier, for rollback protection only: it must be
    /// signed by the current root's timestamp keys, and may have expired.
    ///
    /// # Errors
    /// [`TufError::Malformed`], [`TufError::Threshold`].
    pub fn load_stored_timestamp(&mut self, bytes: &[u8]) -> Result<(), TufError> {
        let env = Envelope::parse(bytes, Role::Timestamp)?;
        let ts = TimestampMeta::from_signed(&env.signed)?;
        self.root
            .verify_role(Role::Timestamp, &env, ts.common.version)?;
        self.timestamp = Some(ts);
        Ok(())
    }

    /// Accepts the served timestamp at time `now`: the final root must be valid; the
    /// timestamp signed by a threshold of timestamp keys; its version and its snapshot's
    /// version not below the trusted ones; and it must not be expired.
    ///
    /// # Errors
    /// [`TufError::Expired`] (root or timestamp), [`TufError::Rollback`],
    /// [`TufError::Threshold`], [`TufError::Malformed`], [`TufError::Order`].
    pub fn update_timestamp(
        &mut self,
        bytes: &[u8],
        now: i64,
    ) -> Result<TimestampUpdate, TufError> {
        if self.snapshot.is_some() {
            return Err(TufError::Order(
                "the timestamp cannot be updated after the snapshot",
            ));
        }
        self.root.common.check_expiry(Role::Root, now)?;
        let env = Envelope::parse(bytes, Role::Timestamp)?;
        let new = TimestampMeta::from_signed(&env.signed)?;
        self.root
            .verify_role(Role::Timestamp, &env, new.common.version)?;
        if let Some(old) = &self.timestamp {
            if new.common.version < old.common.version {
                return Err(TufError::Rollback {
                    role: Role::Timestamp,
                    got: new.common.version,
                    trusted: old.common.version,
                });
            }
            if new.snapshot.version < old.snapshot.version {
                return Err(TufError::Rollback {
                    role: Role::Snapshot,
                    got: new.snapshot.version,
                    trusted: old.snapshot.version,
                });
            }
            if new.common.version == old.common.version {
                old.common.check_expiry(Role::Timestamp, now)?;
                return Ok(TimestampUpdate::Unchanged);
            }
        }
        new.common.check_expiry(Role::Timestamp, now)?;
        self.timestamp = Some(new);
        Ok(TimestampUpdate::New)
    }

    /// Accepts the served snapshot: length and hashes as the timestamp lists them (unless
    /// `stored`, a copy the client verified before), signed by the snapshot keys, no targets
    /// version below the trusted snapshot's, the version the timestamp names, not expired.
    ///
    /// # Errors
    /// [`TufError::Mismatch`], [`TufError::BadVersion`], [`TufError::Rollback`],
    /// [`TufError::Expired`], [`TufError::Threshold`], [`TufError::Malformed`],
    /// [`TufError::Order`].
    pub fn update_snapshot(
        &mut self,
        bytes: &[u8],
        now: i64,
        stored: bool,
    ) -> Result<(), TufError> {
        if self.targets.is_some() {
            return Err(TufError::Order(
                "the snapshot cannot be updated after the targets",
            ));
        }
        let ts = self.timestamp.as_ref().ok_or(TufError::Order(
            "the snapshot needs a trusted timestamp first",
        ))?;
        ts.common.check_expiry(Role::Timestamp, now)?;
        if !stored {
            ts.snapshot.check("snapshot.json", bytes)?;
        }
        let env = Envelope::parse(bytes, Role::Snapshot)?;
        let new = SnapshotMeta::from_signed(&env.signed)?;
        self.root
            .verify_role(Role::Snapshot, &env, new.common.version)?;
        if let Some(old) = &self.snapshot {
            for (name, file) in &old.meta {
                let got = new.meta.get(name).map_or(0, |f| f.version);
                if got < file.version {
                    return Err(TufError::Rollback {
                        role: Role::Targets,
                        got,
                        trusted: file.version,
                    });
                }
            }
        }
        if new.common.version != ts.snapshot.version {
            return Err(TufError::BadVersion {
                role: Role::Snapshot,
                expected: ts.snapshot.version,
                got: new.common.version,
            });
        }
        new.common.check_expiry(Role::Snapshot, now)?;
        self.snapshot = Some(new);
        Ok(())
    }

    /// Accepts the served top-level targets: length and hashes as the snapshot lists them,
    /// signed by the targets keys, the version the snapshot names, not expired.
    ///
    /// # Errors
    /// [`TufError::Mismatch`], [`TufError::BadVersion`], [`TufError::Expired`],
    /// [`TufError::Threshold`], [`TufError::Malformed`], [`TufError::Order`].
    pub fn update_targets(&mut self, bytes: &[u8], now: i64) -> Result<(), TufError> {
        let snap = self
            .snapshot
            .as_ref()
            .ok_or(TufError::Order("the targets need a trusted snapshot first"))?;
        snap.common.check_expiry(Role::Snapshot, now)?;
        let meta = snap
            .meta
            .get("targets.json")
            .ok_or_else(|| malformed(Role::Snapshot, "`meta` has no targets.json"))?;
        meta.check("targets.json", bytes)?;
        let env = Envelope::parse(bytes, Role::Targets)?;
        let new = TargetsMeta::from_signed(&env.signed)?;
        self.root
            .verify_role(Role::Targets, &env, new.common.version)?;
        if new.common.version != meta.version {
            return Err(TufError::BadVersion {
                role: Role::Targets,
                expected: meta.version,
                got: new.common.version,
            });
        }
        new.common.check_expiry(Role::Targets, now)?;
        self.targets = Some(new);
        Ok(())
    }

    /// The trusted description of target `name`.
    ///
    /// # Errors
    /// [`TufError::Order`] before the targets, [`TufError::UnknownTarget`].
    pub fn target(&self, name: &str) -> Result<&TargetFile, TufError> {
        self.targets
            .as_ref()
            .ok_or(TufError::Order("targets are not loaded"))?
            .targets
            .get(name)
            .ok_or_else(|| TufError::UnknownTarget(name.to_owned()))
    }

    /// Checks a downloaded target file.
    ///
    /// # Errors
    /// As [`TrustedSet::target`], and [`TufError::Mismatch`].
    pub fn verify_target(&self, name: &str, data: &[u8]) -> Result<(), TufError> {
        self.target(name)?.check(name, data)
    }
}

/// The file name of a target under consistent snapshots: `HASH.name` in the target's
/// directory (python-tuf's `download_target`, the first listed hash: Signet lists sha256).
#[must_use]
pub fn consistent_target_path(name: &str, file: &TargetFile) -> String {
    let hash = file.hashes.values().next().map_or("", String::as_str);
    match name.rsplit_once('/') {
        Some((dir, base)) => format!("{dir}/{hash}.{base}"),
        None => format!("{hash}.{name}"),
    }
}

#[cfg(test)]
// Tests unwrap: a panic with its location is the failure report
#[allow(clippy::unwrap_used)]
mod tests;
