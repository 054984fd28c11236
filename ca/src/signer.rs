//! CA signing keys: the [`CaSigner`] trait, an encrypted-file key and a PKCS#11 (HSM) key.
//!
//! Both sign with ECDSA (P-256 with SHA-256, or P-384 with SHA-384) and return ASN.1 DER
//! signatures, which is what rcgen expects. [`RcgenKey`] adapts any `CaSigner` to rcgen's
//! `SigningKey`, so rcgen builds the TBS and the signature happens wherever the key lives
//! (for PKCS#11, inside the token: the private key is never extracted).
//!
//! # Encrypted key file format
//!
//! File keys are stored as standard encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, PBES2 with
//! scrypt and AES-256-CBC), written and read by [`signet_proto::keyfile`], the format the
//! client's keys use too; `openssl pkey -in root.key.enc.pem` reads them with the password.
//! Keys in the CA's former `SIGNET ENCRYPTED PRIVATE KEY` format still load.
//!
//! The password comes from an environment variable or a file ([`PasswordSource`]); a
//! trailing newline in the file is ignored.
//!
//! Not here: RSA or Ed25519 CA keys, key rotation, cloud KMS.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use signet_proto::keyfile::{self, KeyFileError, ScryptCost};

/// Signer errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// The key material is malformed or of an unsupported type.
    #[error("bad key: {reason}")]
    BadKey {
        /// Detail.
        reason: String,
    },
    /// The encrypted key did not decrypt (wrong password or corrupted file).
    #[error("key file does not decrypt (wrong password?)")]
    Decrypt,
    /// The encrypted key file is malformed, of an unknown kind or too costly to derive.
    #[error("key file: {0}")]
    KeyFile(KeyFileError),
    /// Reading the password failed.
    #[error("password source {source_name}: {reason}")]
    Password {
        /// Where the password was looked for.
        source_name: String,
        /// Detail.
        reason: String,
    },
    /// Signing failed.
    #[error("signing failed: {reason}")]
    Sign {
        /// Detail.
        reason: String,
    },
    /// A PKCS#11 call failed.
    #[error("PKCS#11 {op}: {reason}")]
    Pkcs11 {
        /// The operation.
        op: &'static str,
        /// Module error text.
        reason: String,
    },
}

/// ECDSA curves for CA keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaCurve {
    /// NIST P-256, signatures ecdsa-with-SHA256.
    P256,
    /// NIST P-384, signatures ecdsa-with-SHA384.
    P384,
}

impl CaCurve {
    fn rcgen_alg(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            Self::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Self::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        }
    }

    fn aws_alg(self) -> &'static aws_lc_rs::signature::EcdsaSigningAlgorithm {
        match self {
            Self::P256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
            Self::P384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
        }
    }

    fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            Self::P256 => &digest::SHA256,
            Self::P384 => &digest::SHA384,
        }
    }

    /// DER of the named-curve OID (the `EC_PARAMS` of PKCS#11 and the SPKI parameters).
    fn named_curve_der(self) -> &'static [u8] {
        match self {
            Self::P256 => &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            Self::P384 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
        }
    }

    fn scalar_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }
}

/// A CA signing key.
pub trait CaSigner: Send + Sync + fmt::Debug {
    /// DER SubjectPublicKeyInfo of the key.
    fn spki_der(&self) -> &[u8];
    /// The subjectPublicKey BIT STRING contents (uncompressed EC point).
    fn public_key_raw(&self) -> &[u8];
    /// The curve.
    fn curve(&self) -> CaCurve;
    /// Signs `msg` (hashed with the curve's hash) and returns an ASN.1 DER ECDSA signature.
    ///
    /// # Errors
    /// [`SignerError`] if the key or token fails.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignerError>;
}

/// Adapts a [`CaSigner`] to rcgen's `SigningKey`.
#[derive(Debug, Clone)]
pub struct RcgenKey(pub std::sync::Arc<dyn CaSigner>);

impl rcgen::PublicKeyData for RcgenKey {
    fn der_bytes(&self) -> &[u8] {
        self.0.public_key_raw()
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.0.curve().rcgen_alg()
    }
}

impl rcgen::SigningKey for RcgenKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.0.sign(msg).map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

fn spki_for_point(curve: CaCurve, point: &[u8]) -> Vec<u8> {
    // SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING (0 unused bits) point }
    let ec_public_key: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    let mut alg = ec_public_key.to_vec();
    alg.extend_from_slice(curve.named_curve_der());
    let mut body = der_tlv(0x30, &alg);
    let mut bits = vec![0u8];
    bits.extend_from_slice(point);
    body.extend_from_slice(&der_tlv(0x03, &bits));
    der_tlv(0x30, &body)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else if len < 0x100 {
        out.push(0x81);
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        out.push(0x82);
        out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    }
    out.extend_from_slice(content);
    out
}

/// An ECDSA key held in memory (loaded from an encrypted file, or generated).
pub struct FileSigner {
    key: EcdsaKeyPair,
    curve: CaCurve,
    spki: Vec<u8>,
    pkcs8: Vec<u8>,
    rng: SystemRandom,
}

impl fmt::Debug for FileSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSigner")
            .field("curve", &self.curve)
            .finish_non_exhaustive()
    }
}

impl FileSigner {
    /// Generates a fresh key.
    ///
    /// # Errors
    /// [`SignerError::BadKey`] if key generation fails.
    pub fn generate(curve: CaCurve) -> Result<Self, SignerError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(curve.aws_alg(), &rng).map_err(|_| {
            SignerError::BadKey {
                reason: "key generation failed".to_owned(),
            }
        })?;
        Self::from_pkcs8_der(doc.as_ref())
    }

    /// Loads an unencrypted PKCS#8 DER ECDSA key (P-256 or P-384).
    ///
    /// # Errors
    /// [`SignerError::BadKey`].
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SignerError> {
        for curve in [CaCurve::P256, CaCurve::P384] {
            if let Ok(key) = EcdsaKeyPair::from_pkcs8(curve.aws_alg(), der) {
                let spki = spki_for_point(curve, key.public_key().as_ref());
                return Ok(Self {
                    key,
                    curve,
                    spki,
                    pkcs8: der.to_vec(),
                    rng: SystemRandom::new(),
                });
            }
        }
        Err(SignerError::BadKey {
            reason: "not a PKCS#8 ECDSA P-256/P-384 key".to_owned(),
        })
    }

    /// Decrypts an encrypted key file: encrypted PKCS#8 or the CA's former
    /// `SIGNET ENCRYPTED PRIVATE KEY` (see [`signet_proto::keyfile`]).
    ///
    /// # Errors
    /// [`SignerError::Decrypt`] for a wrong password, [`SignerError::KeyFile`] for a
    /// malformed file, [`SignerError::BadKey`] for a key that is not P-256/P-384 ECDSA.
    pub fn from_encrypted_pem(pem_text: &str, password: &[u8]) -> Result<Self, SignerError> {
        let (der, _format) = keyfile::decrypt_pem(pem_text, password).map_err(|e| match e {
            KeyFileError::WrongPassword => SignerError::Decrypt,
            other => SignerError::KeyFile(other),
        })?;
        Self::from_pkcs8_der(&der)
    }

    /// Encrypts this key as an `ENCRYPTED PRIVATE KEY` PEM (PBES2, scrypt with `cost`,
    /// AES-256-CBC); [`ScryptCost::DEFAULT`] is the cost for real keys.
    ///
    /// # Errors
    /// [`SignerError::KeyFile`] if randomness or encryption fails.
    pub fn to_encrypted_pem(
        &self,
        password: &[u8],
        cost: ScryptCost,
    ) -> Result<String, SignerError> {
        keyfile::encrypt_pem(&self.pkcs8, password, cost, &self.rng).map_err(SignerError::KeyFile)
    }
}

impl CaSigner for FileSigner {
    fn spki_der(&self) -> &[u8] {
        &self.spki
    }
    fn public_key_raw(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }
    fn curve(&self) -> CaCurve {
        self.curve
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.key
            .sign(&self.rng, msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| SignerError::Sign {
                reason: "aws-lc ECDSA signing failed".to_owned(),
            })
    }
}

/// Where a key password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordSource {
    /// The named environment variable.
    Env(String),
    /// A file (one trailing newline is stripped).
    File(PathBuf),
}

impl PasswordSource {
    /// Reads the password.
    ///
    /// # Errors
    /// [`SignerError::Password`] if the variable is unset or the file is unreadable.
    pub fn read(&self) -> Result<Vec<u8>, SignerError> {
        match self {
            Self::Env(name) => {
                std::env::var(name)
                    .map(String::into_bytes)
                    .map_err(|e| SignerError::Password {
                        source_name: format!("env {name}"),
                        reason: e.to_string(),
                    })
            }
            Self::File(path) => {
                let mut bytes = std::fs::read(path).map_err(|e| SignerError::Password {
                    source_name: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                if bytes.last() == Some(&b'\n') {
                    bytes.pop();
                    if bytes.last() == Some(&b'\r') {
                        bytes.pop();
                    }
                }
                Ok(bytes)
            }
        }
    }
}

/// Loads a [`FileSigner`] from an encrypted PEM file with the password from `password`.
///
/// # Errors
/// I/O errors as [`SignerError::BadKey`], then as [`FileSigner::from_encrypted_pem`].
pub fn load_encrypted_key(
    path: &Path,
    password: &PasswordSource,
) -> Result<FileSigner, SignerError> {
    let text = std::fs::read_to_string(path).map_err(|e| SignerError::BadKey {
        reason: format!("{}: {e}", path.display()),
    })?;
    FileSigner::from_encrypted_pem(&text, &password.read()?)
}

/// Where to find a key on a PKCS#11 token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11KeyRef {
    /// Path of the PKCS#11 module (e.g. `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// Token label.
    pub token_label: String,
    /// User PIN.
    pub pin: String,
    /// `CKA_LABEL` of the key pair.
    pub key_label: String,
}

/// An ECDSA key inside a PKCS#11 token. Messages are hashed here and the digest is signed
/// by the token with `CKM_ECDSA`; the private key never leaves the token.
pub struct Pkcs11Signer {
    session: Mutex<Session>,
    key: ObjectHandle,
    curve: CaCurve,
    point: Vec<u8>,
    spki: Vec<u8>,
    _ctx: Pkcs11,
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("curve", &self.curve)
            .finish_non_exhaustive()
    }
}

fn p11<T>(op: &'static str, r: Result<T, cryptoki::error::Error>) -> Result<T, SignerError> {
    r.map_err(|e| SignerError::Pkcs11 {
        op,
        reason: e.to_string(),
    })
}

/// Which key of which token a user's RFC 7512 URI selects: the token by its label and/or slot
/// number (when neither is given, the module must have exactly one token), the key pair by its
/// `CKA_LABEL` and/or `CKA_ID` (at least one). [`Pkcs11KeyRef`] is the label-only form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Selector {
    /// Token label.
    pub token_label: Option<String>,
    /// Slot number (`slot-id`).
    pub slot_id: Option<u64>,
    /// `CKA_LABEL` of the key pair.
    pub key_label: Option<String>,
    /// `CKA_ID` of the key pair.
    pub key_id: Option<Vec<u8>>,
}

impl Pkcs11Selector {
    /// The key's description for messages: `labelled "x"`, `with id 0102`, or both.
    fn key_description(&self) -> String {
        match (&self.key_label, &self.key_id) {
            (Some(l), Some(id)) => format!("labelled {l:?} with id {}", hex::encode(id)),
            (Some(l), None) => format!("labelled {l:?}"),
            (None, Some(id)) => format!("with id {}", hex::encode(id)),
            (None, None) => "(no label or id given)".to_owned(),
        }
    }
}

fn load_module(module: &Path) -> Result<Pkcs11, SignerError> {
    let ctx = p11("load module", Pkcs11::new(module))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Another signer in this process already initialised the module: that is fine.
        Ok(())
        | Err(cryptoki::error::Error::Pkcs11(
            cryptoki::error::RvError::CryptokiAlreadyInitialized,
            _,
        )) => {}
        Err(e) => p11("C_Initialize", Err(e))?,
    }
    Ok(ctx)
}

/// The one slot `sel` names among the slots that hold an initialised token.
fn select_slot(ctx: &Pkcs11, sel: &Pkcs11Selector) -> Result<Slot, SignerError> {
    let slots = p11("C_GetSlotList", ctx.get_slots_with_token())?;
    let mut listed = Vec::new();
    let mut found = Vec::new();
    for slot in slots {
        let info = p11("C_GetTokenInfo", ctx.get_token_info(slot))?;
        // A token not initialised holds no key (SoftHSM2 always offers one such slot).
        if !info.token_initialized() {
            continue;
        }
        let label = info.label().trim_end().to_owned();
        let by_slot = sel.slot_id.is_none_or(|id| id == slot.id());
        let by_label = sel.token_label.as_ref().is_none_or(|l| *l == label);
        if by_slot && by_label {
            found.push(slot);
        }
        listed.push(format!("slot-id={} token={label:?}", slot.id()));
    }
    let wanted = match (&sel.token_label, sel.slot_id) {
        (Some(l), Some(id)) => format!("token labelled {l:?} in slot {id}"),
        (Some(l), None) => format!("token labelled {l:?}"),
        (None, Some(id)) => format!("token in slot {id}"),
        (None, None) => "token".to_owned(),
    };
    let present = if listed.is_empty() {
        "none".to_owned()
    } else {
        listed.join(", ")
    };
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(SignerError::Pkcs11 {
            op: "find token",
            reason: format!("no {wanted}; tokens present: {present}"),
        }),
        _ => Err(SignerError::Pkcs11 {
            op: "find token",
            reason: format!(
                "{} tokens match; select one with token=LABEL or slot-id=N: {present}",
                found.len()
            ),
        }),
    }
}

fn login(session: &Session, pin: &str) -> Result<(), SignerError> {
    let pin = AuthPin::from(pin.to_owned());
    match session.login(UserType::User, Some(&pin)) {
        // Login state is per application: a second session of this process is already in.
        Ok(())
        | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {
            Ok(())
        }
        Err(e) => p11("C_Login", Err(e)),
    }
}

/// The one object of `class` that `sel`'s label and id select.
fn find_selected(
    session: &Session,
    class: ObjectClass,
    sel: &Pkcs11Selector,
) -> Result<ObjectHandle, SignerError> {
    let mut template = vec![Attribute::Class(class)];
    if let Some(l) = &sel.key_label {
        template.push(Attribute::Label(l.as_bytes().to_vec()));
    }
    if let Some(id) = &sel.key_id {
        template.push(Attribute::Id(id.clone()));
    }
    let objs = p11("C_FindObjects", session.find_objects(&template))?;
    let what = if class == ObjectClass::PRIVATE_KEY {
        "private key"
    } else {
        "public key"
    };
    match objs.as_slice() {
        [one] => Ok(*one),
        [] => Err(SignerError::Pkcs11 {
            op: "find key",
            reason: format!("no {what} {}", sel.key_description()),
        }),
        _ => Err(SignerError::Pkcs11 {
            op: "find key",
            reason: format!(
                "{} {what}s are {}; add object=LABEL or id=… to select one",
                objs.len(),
                sel.key_description()
            ),
        }),
    }
}

impl Pkcs11Signer {
    /// Opens an existing EC key pair that `sel` selects (private and public objects share its
    /// label and/or id) in the module at `module`, logging in with `pin`.
    ///
    /// # Errors
    /// [`SignerError::Pkcs11`] naming the token or key not found (or found more than once),
    /// or [`SignerError::BadKey`] for a non-P-256/P-384 key.
    pub fn open_selected(
        module: &Path,
        pin: &str,
        sel: &Pkcs11Selector,
    ) -> Result<Self, SignerError> {
        if sel.key_label.is_none() && sel.key_id.is_none() {
            return Err(SignerError::Pkcs11 {
                op: "find key",
                reason: "no key label or id given".to_owned(),
            });
        }
        let ctx = load_module(module)?;
        let slot = select_slot(&ctx, sel)?;
        let session = p11("C_OpenSession", ctx.open_rw_session(slot))?;
        login(&session, pin)?;
        let key = find_selected(&session, ObjectClass::PRIVATE_KEY, sel)?;
        let public = find_selected(&session, ObjectClass::PUBLIC_KEY, sel)?;
        Self::from_handles(ctx, session, key, public)
    }
}

fn open_session(key_ref: &Pkcs11KeyRef) -> Result<(Pkcs11, Session), SignerError> {
    let ctx = load_module(&key_ref.module)?;
    let slots = p11("C_GetSlotList", ctx.get_slots_with_token())?;
    let mut found = None;
    for slot in slots {
        let info = p11("C_GetTokenInfo", ctx.get_token_info(slot))?;
        if info.label().trim_end() == key_ref.token_label {
            found = Some(slot);
            break;
        }
    }
    let slot = found.ok_or_else(|| SignerError::Pkcs11 {
        op: "find token",
        reason: format!("no token labelled {:?}", key_ref.token_label),
    })?;
    let session = p11("C_OpenSession", ctx.open_rw_session(slot))?;
    login(&session, &key_ref.pin)?;
    Ok((ctx, session))
}

fn find_one(
    session: &Session,
    class: ObjectClass,
    label: &str,
) -> Result<ObjectHandle, SignerError> {
    let objs = p11(
        "C_FindObjects",
        session.find_objects(&[
            Attribute::Class(class),
            Attribute::Label(label.as_bytes().to_vec()),
        ]),
    )?;
    match objs.as_slice() {
        [one] => Ok(*one),
        [] => Err(SignerError::Pkcs11 {
            op: "find key",
            reason: format!("no {class} labelled {label:?}"),
        }),
        _ => Err(SignerError::Pkcs11 {
            op: "find key",
            reason: format!("several objects labelled {label:?}"),
        }),
    }
}

impl Pkcs11Signer {
    /// Opens an existing EC key pair (private and public objects share `key_label`).
    ///
    /// # Errors
    /// [`SignerError::Pkcs11`] or [`SignerError::BadKey`] for a non-P-256/P-384 key.
    pub fn open(key_ref: &Pkcs11KeyRef) -> Result<Self, SignerError> {
        let (ctx, session) = open_session(key_ref)?;
        Self::from_session(ctx, session, key_ref)
    }

    fn from_session(
        ctx: Pkcs11,
        session: Session,
        key_ref: &Pkcs11KeyRef,
    ) -> Result<Self, SignerError> {
        let key = find_one(&session, ObjectClass::PRIVATE_KEY, &key_ref.key_label)?;
        let public = find_one(&session, ObjectClass::PUBLIC_KEY, &key_ref.key_label)?;
        Self::from_handles(ctx, session, key, public)
    }

    /// The signer of the private key `key` whose public key object is `public`.
    fn from_handles(
        ctx: Pkcs11,
        session: Session,
        key: ObjectHandle,
        public: ObjectHandle,
    ) -> Result<Self, SignerError> {
        let attrs = p11(
            "C_GetAttributeValue",
            session.get_attributes(public, &[AttributeType::EcParams, AttributeType::EcPoint]),
        )?;
        let mut params = None;
        let mut point = None;
        for a in attrs {
            match a {
                Attribute::EcParams(p) => params = Some(p),
                Attribute::EcPoint(p) => point = Some(p),
                _ => {}
            }
        }
        let params = params.ok_or_else(|| SignerError::BadKey {
            reason: "public key has no EC_PARAMS".to_owned(),
        })?;
        let curve = [CaCurve::P256, CaCurve::P384]
            .into_iter()
            .find(|c| c.named_curve_der() == params.as_slice())
            .ok_or_else(|| SignerError::BadKey {
                reason: "token key is not P-256 or P-384".to_owned(),
            })?;
        // CKA_EC_POINT is a DER OCTET STRING wrapping the uncompressed point.
        let wrapped = point.ok_or_else(|| SignerError::BadKey {
            reason: "public key has no EC_POINT".to_owned(),
        })?;
        let point_len = 1 + 2 * curve.scalar_len();
        let point = if wrapped.len() == point_len && wrapped[0] == 0x04 {
            wrapped
        } else if wrapped.len() > point_len && wrapped[0] == 0x04 {
            wrapped[wrapped.len() - point_len..].to_vec()
        } else {
            return Err(SignerError::BadKey {
                reason: "unexpected EC_POINT encoding".to_owned(),
            });
        };
        let spki = spki_for_point(curve, &point);
        Ok(Self {
            session: Mutex::new(session),
            key,
            curve,
            point,
            spki,
            _ctx: ctx,
        })
    }

    /// Generates a non-extractable EC key pair labelled `key_label` in the token, then opens it.
    ///
    /// # Errors
    /// [`SignerError::Pkcs11`].
    pub fn generate(key_ref: &Pkcs11KeyRef, curve: CaCurve) -> Result<Self, SignerError> {
        let (ctx, session) = open_session(key_ref)?;
        {
            let label = key_ref.key_label.as_bytes().to_vec();
            let public = [
                Attribute::Token(true),
                Attribute::Verify(true),
                Attribute::EcParams(curve.named_curve_der().to_vec()),
                Attribute::Label(label.clone()),
            ];
            let private = [
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
                Attribute::KeyType(KeyType::EC),
                Attribute::Label(label),
            ];
            p11(
                "C_GenerateKeyPair",
                session.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private),
            )?;
        }
        Self::from_session(ctx, session, key_ref)
    }
}

impl CaSigner for Pkcs11Signer {
    fn spki_der(&self) -> &[u8] {
        &self.spki
    }
    fn public_key_raw(&self) -> &[u8] {
        &self.point
    }
    fn curve(&self) -> CaCurve {
        self.curve
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignerError> {
        let d = digest::digest(self.curve.digest_alg(), msg);
        self.sign_digest(d.as_ref())
    }
}

impl Pkcs11Signer {
    /// Signs a digest the caller computed (`CKM_ECDSA` over it) and returns the ASN.1 DER
    /// signature. The digest should be of the curve's hash (SHA-256 for P-256); users' keys
    /// sign the SHA-256 digests of hashedrekord entries with it.
    ///
    /// # Errors
    /// [`SignerError::Pkcs11`] if the token refuses, [`SignerError::Sign`] for an answer of
    /// the wrong size.
    pub fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, SignerError> {
        let raw = {
            let session = self.session.lock().map_err(|_| SignerError::Sign {
                reason: "session lock poisoned".to_owned(),
            })?;
            p11("C_Sign", session.sign(&Mechanism::Ecdsa, self.key, digest))?
        };
        let n = self.curve.scalar_len();
        if raw.len() != 2 * n {
            return Err(SignerError::Sign {
                reason: format!("token returned a {}-byte signature", raw.len()),
            });
        }
        Ok(ecdsa_raw_to_der(&raw[..n], &raw[n..]))
    }
}

fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().take_while(|b| **b == 0).count();
    let mut v = bytes[start.min(bytes.len().saturating_sub(1))..].to_vec();
    if v.first().is_some_and(|b| b & 0x80 != 0) {
        v.insert(0, 0);
    }
    der_tlv(0x02, &v)
}

/// Converts a raw `r || s` ECDSA signature to ASN.1 DER.
#[must_use]
pub fn ecdsa_raw_to_der(r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut body = der_uint(r);
    body.extend_from_slice(&der_uint(s));
    der_tlv(0x30, &body)
}
