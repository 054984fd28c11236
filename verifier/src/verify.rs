//! The verification procedure: one call, every check.
//!
//! Specs composed here: Sigstore client spec (bundle verification), RFC 5280 path validation
//! restricted to one leaf under a pre-verified CA, RFC 6962 §3.3 embedded SCTs, the Fulcio
//! certificate profile, DSSE v1 PAE with in-toto statements, Rekor v1 `hashedrekord` 0.0.1,
//! `dsse` 0.0.1 and `intoto` 0.0.2 bodies and SETs, Rekor v2 `hashedrekord` 0.0.2 bodies (rekor-tiles,
//! protobuf-specs `rekor/v2`), RFC 3161 timestamps ([`crate::timestamp`]), RFC 6962 inclusion
//! proofs and C2SP signed-note checkpoints. Each spec's bytes and math come from
//! `signet-proto`. [`verify_checked`] is the sequence of the checks; each concern is a
//! submodule: `body` (the entry kind and the log-entry body), `times` (SET, RFC 3161
//! timestamps, the verified signing times), `certificate` (leaf certificate, SCTs, identity, or
//! the policy key), `signature` (the artifact signature) and `proof` (inclusion proof and
//! checkpoint).
//!
//! Order of the checks (the first failure is returned, so a tampered signature reports
//! `Signature` even though the log body no longer matches either):
//! 1. bundle structure ([`CheckedBundle`]);
//! 2. the log is trusted; the verified signing times are established as sigstore-python 4.x
//!    does (`Verifier._establish_time`): the entry's `integratedTime` when a SET covers it
//!    (Rekor v1 entries only; the SET must verify), and the `genTime` of every RFC 3161
//!    timestamp that verifies against a trusted TSA (timestamps that do not verify are
//!    dropped, but a bundle with timestamps and a trust root without TSAs is rejected). At
//!    least one time is needed: otherwise the first timestamp's error,
//!    [`SetError::Missing`](crate::SetError::Missing) (a v1 entry without SET) or
//!    [`TimeError::NoVerifiedTime`](crate::TimeError::NoVerifiedTime) is returned. Every time
//!    must not be after the verification time and must lie in the log key's `validFor`
//!    (see `times`);
//! 3. certificate mode: the leaf is signed by a trusted CA whose chain and `validFor` cover
//!    every signing time, follows the leaf profile, is valid at every signing time and carries an
//!    SCT verified by a trusted CT log; it names a signer (an email, URI or Fulcio username
//!    SAN: a dNSName or other SAN type names nobody, whatever the policy) and the identity
//!    satisfies the policy. Keyed mode: the bundle carries a key hint and the policy's key is
//!    the signing key;
//! 4. the artifact signature (message digest or DSSE PAE + in-toto subject). A message
//!    signature is over the artifact's digest under the hash its log entry states: SHA-256,
//!    or SHA-384/SHA-512 for a hashedrekord 0.0.1 `sha384`/`sha512` body (Rekor v1 accepts
//!    them; cosign's `ecdsa-sha2-384-nistp384` writes `sha384`) or a 0.0.2
//!    `SHA2_384`/`SHA2_512` one; the bundle's `messageDigest`, when present, must be of that
//!    hash and equal it. Such a bundle needs the artifact's bytes ([`Artifact::Bytes`]);
//! 5. the log entry body matches the bundle, field by field for each entry kind (see `body`);
//! 6. the inclusion proof recomputes the proof's root;
//! 7. the checkpoint is signed by the log and states the same root and size (and, when the
//!    trust material asks for it, carries enough witness cosignatures).
//!
//! Not done here: online checks (revocation, fetching inclusion proofs), multiple tlog
//! entries, bundles with timestamps but no tlog entry, Rekor v2 `dsse` 0.0.2 entries (which
//! sigstore-python 4.x does not accept either).

use signet_proto::bundle::{Bundle, BundleVersion};
use signet_proto::cert::Identity;
use signet_proto::checkpoint::Checkpoint;
use signet_proto::keys::PublicKey;

use signet_proto::keys::HashAlgorithm;

use crate::bundle::CheckedBundle;
use crate::bundle::{Material, MessageDigest};
use crate::error::{PolicyError, SignatureError, TlogError, VerificationError};
use crate::policy::Policy;
use crate::policy::PolicyKind;
use crate::timestamp::VerifiedTimestamp;
use crate::trust::{sha256, TrustMaterial};
use crate::UnixTime;

mod body;
mod certificate;
pub mod cosign;
mod proof;
mod signature;
mod times;

/// The artifact a bundle must cover.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// The artifact's SHA-256 digest (for example an OCI manifest digest).
    Sha256Digest([u8; 32]),
}

impl Artifact<'_> {
    fn digest(&self) -> [u8; 32] {
        match self {
            Artifact::Bytes(b) => sha256(b),
            Artifact::Sha256Digest(d) => *d,
        }
    }

    /// The artifact's digests, the message one under `hash`.
    ///
    /// # Errors
    /// [`SignatureError::NeedsOtherDigest`] for a hash other than SHA-256 when only the
    /// SHA-256 digest was given.
    fn digests(&self, hash: HashAlgorithm) -> Result<Digests, SignatureError> {
        let sha256 = self.digest();
        let message = match (self, hash) {
            (_, HashAlgorithm::Sha256) => MessageDigest::sha256(&sha256),
            (Artifact::Bytes(b), _) => MessageDigest {
                hash,
                digest: hash.hash(b),
            },
            (Artifact::Sha256Digest(_), _) => {
                return Err(SignatureError::NeedsOtherDigest {
                    hash: hash_name(hash).to_owned(),
                })
            }
        };
        Ok(Digests { sha256, message })
    }
}

/// The artifact's digests the checks compare.
#[derive(Debug, Clone)]
pub(crate) struct Digests {
    /// SHA-256: in-toto subjects, DSSE bodies, [`VerifiedBundle::artifact_digest`].
    pub(crate) sha256: [u8; 32],
    /// What a message signature is over: the digest under the hash the log entry states
    /// (hashedrekord 0.0.1 `sha384`/`sha512`, 0.0.2 `SHA2_384`/`SHA2_512`), SHA-256 otherwise.
    pub(crate) message: MessageDigest,
}

impl Digests {
    /// SHA-256 digests only.
    #[cfg(test)]
    pub(crate) fn sha256(digest: [u8; 32]) -> Self {
        Self {
            sha256: digest,
            message: MessageDigest::sha256(&digest),
        }
    }
}

/// A hash's name in error messages.
pub(crate) fn hash_name(hash: HashAlgorithm) -> &'static str {
    match hash {
        HashAlgorithm::Sha384 => "SHA-384",
        HashAlgorithm::Sha512 => "SHA-512",
        _ => "SHA-256",
    }
}

/// The kind of the log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryKind {
    /// `hashedrekord` 0.0.1 (a signature over a digest).
    HashedRekord,
    /// `dsse` 0.0.1 (a DSSE envelope).
    Dsse,
    /// `intoto` 0.0.2 (a DSSE envelope, recorded by sigstore-js's `legacyCompatibility` mode).
    IntotoV002,
    /// Rekor v2 `hashedrekord` 0.0.2: a signature over a digest, or over the digest of a DSSE
    /// envelope's PAE.
    HashedRekordV002,
}

/// What a successful verification established.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    /// The certificate identity (`None` in keyed mode).
    pub identity: Option<Identity>,
    /// The key that signed the artifact.
    pub signing_key: PublicKey,
    /// The trusted CA that issued the leaf (`None` in keyed mode).
    pub ca_index: Option<usize>,
    /// The SHA-256 digest of the artifact.
    pub artifact_digest: [u8; 32],
    /// The bundle version.
    pub bundle_version: BundleVersion,
    /// The log entry kind.
    pub kind: EntryKind,
    /// The DSSE payload type and payload, for DSSE bundles.
    pub dsse_payload: Option<(String, Vec<u8>)>,
    /// The log's ID (SHA-256 of its key's SPKI).
    pub log_id: [u8; 32],
    /// The log's base URL from the trust root.
    pub log_url: String,
    /// The entry's global log index (covered by the SET).
    pub log_index: u64,
    /// The signing time the certificate was first checked at: the log's integrated time when
    /// a SET covers it, otherwise (Rekor v2) the `genTime` of the first verified RFC 3161
    /// timestamp.
    pub integrated_time: UnixTime,
    /// Whether `integrated_time` is the log's integrated time covered by a verified SET
    /// (`false`: it comes from an RFC 3161 timestamp).
    pub integrated_time_from_set: bool,
    /// The RFC 3161 timestamps that verified (the certificate was checked at each).
    pub timestamps: Vec<VerifiedTimestamp>,
    /// The entry's index in the proof's tree.
    pub proof_index: u64,
    /// The number of hashes in the inclusion proof.
    pub proof_len: usize,
    /// The verified checkpoint.
    pub checkpoint: Checkpoint,
}

/// Verifies `bundle` for `artifact` under `policy` against `trust`.
///
/// `now` is the verification time: when given, the signing time (integrated time) must not
/// be after it. Certificates are checked at the signing time, never at `now`.
///
/// # Errors
/// The first failing check, as a [`VerificationError`] variant naming it.
pub fn verify(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    policy: &Policy,
    trust: &TrustMaterial,
    now: Option<UnixTime>,
) -> Result<VerifiedBundle, VerificationError> {
    let checked = CheckedBundle::try_from(bundle)?;
    verify_checked(&checked, artifact, policy, trust, now)
}

/// As [`verify()`], for a bundle already structurally checked.
///
/// # Errors
/// The first failing check, as a [`VerificationError`] variant naming it.
pub fn verify_checked(
    bundle: &CheckedBundle,
    artifact: Artifact<'_>,
    policy: &Policy,
    trust: &TrustMaterial,
    now: Option<UnixTime>,
) -> Result<VerifiedBundle, VerificationError> {
    let entry = &bundle.entry;
    // 1. The entry kind fits the bundle (a Rekor v2 entry: its index, no SET).
    let kind = body::entry_kind(bundle)?;
    // 2. The log, its SET and the RFC 3161 timestamps: the verified signing times.
    let logs = trust.tlogs_with_id(&entry.log_id);
    if logs.is_empty() {
        return Err(TlogError::UnknownLog {
            log_id: base64_encode(&entry.log_id),
        }
        .into());
    }
    let v2 = kind == EntryKind::HashedRekordV002;
    let times = times::signing_times(bundle, v2, logs, trust, now)?;
    let log = times.log;
    // The hash a message signature is over: the one the log entry body states.
    let digests = artifact.digests(body::message_hash(kind, &entry.body, &bundle.content))?;
    let artifact_digest = digests.sha256;
    let (signer, dsse_payload) = match (&policy.kind, &bundle.material) {
        // 3. and 4. With trusted keys: the key whose signature verifies, then its window and
        // revocation at every signing time.
        (PolicyKind::TrustedKeys(keys), Material::PublicKey) => {
            let mut all_times = vec![times.first()];
            all_times.extend_from_slice(times.others());
            trusted_key_signer(keys, bundle, artifact, &digests, &all_times)?
        }
        _ => {
            // 3. Who signed.
            let signer = certificate::signer(
                policy,
                &bundle.material,
                trust,
                times.first(),
                times.others(),
            )?;
            // 4. The artifact signature.
            let dsse_payload =
                signature::check_signature(&bundle.content, artifact, &digests, &signer.key)?;
            (signer, dsse_payload)
        }
    };
    // 5. The log entry body matches the bundle.
    body::check_entry_body(
        kind,
        &entry.body,
        &bundle.content,
        &digests,
        signer.leaf_der,
        &signer.key,
    )?;
    // 6. and 7. The inclusion proof and the checkpoint.
    let checkpoint = proof::check_inclusion(entry, log, trust)?;

    let signing_time = times.first();
    Ok(VerifiedBundle {
        identity: signer.identity,
        signing_key: signer.key,
        ca_index: signer.ca_index,
        artifact_digest,
        bundle_version: bundle.version,
        kind,
        dsse_payload,
        log_id: log.log_id,
        log_url: log.base_url.clone(),
        log_index: entry.log_index,
        integrated_time: UnixTime::from_unix_seconds(signing_time.0),
        integrated_time_from_set: times.from_set,
        timestamps: times.timestamps,
        proof_index: entry.proof.index,
        proof_len: entry.proof.hashes.len(),
        checkpoint,
    })
}

/// A DSSE bundle's payload type and payload (`None` for a message signature).
type DssePayload = Option<(String, Vec<u8>)>;

/// The trusted key that signed the bundle (the first whose signature verifies), checked at
/// every signing time.
fn trusted_key_signer<'a>(
    keys: &crate::trusted_keys::TrustedKeys,
    bundle: &CheckedBundle,
    artifact: Artifact<'_>,
    digests: &Digests,
    times: &[(i64, u32)],
) -> Result<(certificate::Signer<'a>, DssePayload), VerificationError> {
    for k in keys.keys() {
        match signature::check_signature(&bundle.content, artifact, digests, &k.key) {
            Ok(dsse) => {
                keys.check(&k.key, times).map_err(PolicyError::from)?;
                return Ok((
                    certificate::Signer {
                        key: k.key.clone(),
                        identity: None,
                        ca_index: None,
                        leaf_der: None,
                    },
                    dsse,
                ));
            }
            Err(_) => continue,
        }
    }
    Err(PolicyError::from(crate::trusted_keys::KeyRefused::Unknown).into())
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
