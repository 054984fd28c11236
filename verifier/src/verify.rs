//! The verification procedure: one call, every check.
//!
//! Specs composed here: Sigstore client spec (bundle verification), RFC 5280 path validation
//! restricted to one leaf under a pre-verified CA, RFC 6962 §3.3 embedded SCTs, the Fulcio
//! certificate profile, DSSE v1 PAE with in-toto statements, Rekor v1 `hashedrekord` 0.0.1,
//! `dsse` 0.0.1 and `intoto` 0.0.2 bodies and SETs, Rekor v2 `hashedrekord` 0.0.2 bodies (rekor-tiles,
//! protobuf-specs `rekor/v2`), RFC 3161 timestamps ([`crate::timestamp`]), RFC 6962 inclusion
//! proofs and C2SP signed-note checkpoints. Each spec's bytes and math come from
//! `signet-proto`.
//!
//! Order of the checks (the first failure is returned, so a tampered signature reports
//! `Signature` even though the log body no longer matches either):
//! 1. bundle structure ([`CheckedBundle`]);
//! 2. the log is trusted; the verified signing times are established as sigstore-python 4.x
//!    does (`Verifier._establish_time`): the entry's `integratedTime` when a SET covers it
//!    (Rekor v1 entries only; the SET must verify), and the `genTime` of every RFC 3161
//!    timestamp that verifies against a trusted TSA (timestamps that do not verify are
//!    dropped, but a bundle with timestamps and a trust root without TSAs is rejected). At
//!    least one time is needed: otherwise the first timestamp's error, [`SetError::Missing`]
//!    (a v1 entry without SET) or [`TimeError::NoVerifiedTime`] is returned. Every time must
//!    not be after the verification time and must lie in the log key's `validFor`;
//! 3. certificate mode: the leaf is signed by a trusted CA whose chain and `validFor` cover
//!    every signing time, follows the leaf profile, is valid at every signing time and carries an
//!    SCT verified by a trusted CT log; it names a signer (an email, URI or Fulcio username
//!    SAN: a dNSName or other SAN type names nobody, whatever the policy) and the identity
//!    satisfies the policy. Keyed mode: the bundle carries a key hint and the policy's key is
//!    the signing key;
//! 4. the artifact signature (message digest or DSSE PAE + in-toto subject);
//! 5. the log entry body matches the bundle (for `hashedrekord` 0.0.2, which Rekor v2 also
//!    uses for DSSE envelopes: the digest of the artifact or of the DSSE PAE, the signature and
//!    the verifier certificate or key, compared field by field; for `intoto` 0.0.2, which
//!    sigstore-js writes for DSSE envelopes in `legacyCompatibility` mode: the payload hash,
//!    payload type, the one signature and its certificate or key, as sigstore-js's
//!    `verifyIntoto002TLogBody` does plus the key; the client-computed envelope `hash` has no
//!    canonical form to recompute and is not checked, as in sigstore-js; for `dsse` 0.0.1: the
//!    payload hash, the one signature and its verifier, and `envelopeHash` recomputed with
//!    `signet_proto::rekor::dsse_envelope_hash`, the form Signet's log writes);
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
use signet_proto::keys::{HashAlgorithm, KeyAlgorithm, PublicKey};
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::bundle::{CheckedBundle, Content, Material};
use crate::error::{
    CertificateError, CheckpointError, PolicyError, SctError, SetError, SignatureError, TimeError,
    TimestampError, TlogError, VerificationError,
};
use crate::policy::{Policy, PolicyKind};
use crate::timestamp::VerifiedTimestamp;
use crate::trust::{
    sha256, verify_certificate_signature, CertificateAuthority, LogKey, TrustMaterial, Window,
};
use crate::UnixTime;

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

/// A verified signing time: Unix seconds and the nanoseconds within that second (an RFC 3161
/// `genTime` may carry a fraction; an integrated time does not).
type SigningTime = (i64, u32);

/// Checks that `t` lies in `w` (closed at both ends); `what` names the window in the error
/// (built only on failure).
fn time_window(what: impl FnOnce() -> String, w: &Window, t: SigningTime) -> Result<(), TimeError> {
    if w.contains_at(t.0, t.1) {
        Ok(())
    } else {
        Err(TimeError::OutsideWindow {
            what: what(),
            time: t.0,
            start: w.describe_start(),
            end: w.describe_end(),
        })
    }
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
    let kind = match (entry.kind.as_str(), entry.version.as_str()) {
        ("hashedrekord", "0.0.1") => EntryKind::HashedRekord,
        ("dsse", "0.0.1") => EntryKind::Dsse,
        ("intoto", "0.0.2") => EntryKind::IntotoV002,
        ("hashedrekord", "0.0.2") => EntryKind::HashedRekordV002,
        (k, v) => {
            return Err(TlogError::Kind {
                kind: k.to_owned(),
                version: v.to_owned(),
                reason: "only hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2 and hashedrekord 0.0.2 \
                         are supported"
                    .to_owned(),
            }
            .into())
        }
    };
    match (&bundle.content, kind) {
        (Content::Message { .. }, EntryKind::HashedRekord)
        | (Content::Dsse { .. }, EntryKind::Dsse | EntryKind::IntotoV002)
        | (_, EntryKind::HashedRekordV002) => {}
        _ => {
            return Err(TlogError::Kind {
                kind: entry.kind.clone(),
                version: entry.version.clone(),
                reason: "the entry kind does not match the bundle content".to_owned(),
            }
            .into())
        }
    }
    let v2 = kind == EntryKind::HashedRekordV002;
    // No SET covers a Rekor v2 logIndex: it must be the proof's leaf index.
    if v2 && entry.log_index != entry.proof.index {
        return Err(TlogError::Inclusion {
            index: entry.proof.index,
            size: entry.proof.size,
            reason: format!(
                "tlog entry logIndex {} is not the inclusion proof's {}",
                entry.log_index, entry.proof.index
            ),
        }
        .into());
    }
    if v2 && entry.integrated_time != 0 && entry.set.is_some() {
        // sigstore-python: integrated time is only defined for 0.0.1 entries.
        return Err(TlogError::Kind {
            kind: entry.kind.clone(),
            version: entry.version.clone(),
            reason: "an integrated time with a SET is only defined for 0.0.1 entries".to_owned(),
        }
        .into());
    }

    // 2. The log, its SET and the RFC 3161 timestamps: the verified signing times.
    let log = trust
        .tlog(&entry.log_id)
        .ok_or_else(|| TlogError::UnknownLog {
            log_id: base64_encode(&entry.log_id),
        })?;
    let mut times: Vec<SigningTime> = Vec::with_capacity(1 + bundle.timestamps.len());
    let integrated_time_from_set = match &entry.set {
        Some(set) if !v2 && entry.integrated_time != 0 => {
            let payload = glue::set_payload(
                &entry.body,
                entry.integrated_time,
                &log.log_id,
                entry.log_index,
            )?;
            log.key
                .verify(&payload, set)
                .map_err(|e| SetError::Invalid {
                    log: log.base_url.clone(),
                    reason: e.to_string(),
                })?;
            times.push((entry.integrated_time, 0));
            true
        }
        _ => false,
    };
    let mut timestamps = Vec::with_capacity(bundle.timestamps.len());
    let mut first_timestamp_error = None;
    if !bundle.timestamps.is_empty() {
        if trust.tsas.is_empty() {
            return Err(TimestampError::NoAuthorities.into());
        }
        let signature = match &bundle.content {
            Content::Message { signature, .. } => signature.as_slice(),
            Content::Dsse { envelope } => envelope
                .signatures
                .first()
                .ok_or(SignatureError::DsseSignatureCount { count: 0 })?
                .sig
                .as_slice(),
        };
        for der in &bundle.timestamps {
            match crate::timestamp::verify_timestamp(der, signature, trust) {
                Ok(t) => {
                    times.push((t.gen_time, t.gen_time_nanos));
                    timestamps.push(t);
                }
                Err(e) => {
                    first_timestamp_error.get_or_insert(e);
                }
            }
        }
    }
    let Some(&signing_time) = times.first() else {
        return Err(match first_timestamp_error {
            Some(e) => e.into(),
            None if !v2 && entry.set.is_none() => SetError::Missing.into(),
            None => TimeError::NoVerifiedTime {
                reason: if v2 {
                    "the Rekor v2 entry has no integrated time and the bundle carries no RFC 3161 timestamp".to_owned()
                } else {
                    "the entry's integrated time is 0 and the bundle carries no RFC 3161 timestamp".to_owned()
                },
            }
            .into(),
        });
    };
    for &t in &times {
        if let Some(now) = now {
            if t > (now.as_unix_seconds(), 0) {
                return Err(TimeError::InFuture {
                    integrated: t.0,
                    now: now.as_unix_seconds(),
                }
                .into());
            }
        }
        time_window(
            || format!("transparency log key ({})", log.base_url),
            &log.valid_for,
            t,
        )?;
    }

    // 3. Who signed.
    let (signing_key, identity, ca_index, leaf_der) = match (&policy.kind, &bundle.material) {
        (PolicyKind::Key(key), Material::PublicKey) => ((**key).clone(), None, None, None),
        (PolicyKind::Key(_), Material::Certificate(_)) => {
            return Err(crate::error::BundleError::MaterialMismatch(
                "keyed verification was requested but the bundle carries a certificate".to_owned(),
            )
            .into())
        }
        (_, Material::PublicKey) => {
            return Err(crate::error::BundleError::MaterialMismatch(
                "signed with a key, not a certificate: pass --key with the signer's public key instead of identity flags".to_owned(),
            )
            .into())
        }
        (_, Material::Certificate(der)) => {
            let (leaf, identity) = check_certificate(der, trust, signing_time)?;
            // The certificate must also hold at every other verified time.
            for &t in &times[1..] {
                check_certificate(der, trust, t)?;
            }
            if let PolicyKind::Identity(p) = &policy.kind {
                p.check(&identity)?;
            }
            (
                leaf.key,
                Some(identity),
                Some(leaf.ca_index),
                Some(der.as_slice()),
            )
        }
    };

    // 4. The artifact signature.
    let artifact_digest = artifact.digest();
    let mut dsse_payload = None;
    match &bundle.content {
        Content::Message { digest, signature } => {
            if let Some(d) = digest {
                if *d != artifact_digest {
                    return Err(SignatureError::DigestMismatch {
                        bundle: hex::encode(d),
                        artifact: hex::encode(artifact_digest),
                    }
                    .into());
                }
            }
            verify_message_signature(&signing_key, artifact, &artifact_digest, signature)?;
        }
        Content::Dsse { envelope } => {
            let sig = envelope
                .signatures
                .first()
                .ok_or(SignatureError::DsseSignatureCount { count: 0 })?;
            let pae = envelope.pae();
            signing_key
                .verify(&pae, &sig.sig)
                .map_err(|e| SignatureError::Invalid {
                    what: "DSSE envelope (PAE)",
                    reason: e.to_string(),
                })?;
            check_in_toto_subject(&envelope.payload_type, &envelope.payload, &artifact_digest)?;
            dsse_payload = Some((envelope.payload_type.clone(), envelope.payload.to_vec()));
        }
    }

    // 5. The log entry body matches the bundle.
    if v2 {
        glue::check_body_v002(
            &entry.body,
            &bundle.content,
            &artifact_digest,
            leaf_der,
            &signing_key,
        )?;
    } else if let (EntryKind::IntotoV002, Content::Dsse { envelope }) = (kind, &bundle.content) {
        glue::check_body_intoto(&entry.body, envelope, leaf_der, &signing_key)?;
    } else {
        glue::check_body(
            &entry.body,
            &bundle.content,
            &artifact_digest,
            leaf_der,
            &signing_key,
        )?;
    }

    // 6. Inclusion proof.
    let proof = &entry.proof;
    glue::verify_inclusion(
        &entry.body,
        proof.index,
        proof.size,
        &proof.hashes,
        &proof.root,
    )
    .map_err(|reason| TlogError::Inclusion {
        index: proof.index,
        size: proof.size,
        reason,
    })?;

    // 7. Checkpoint.
    let checkpoint = glue::verify_checkpoint(&proof.checkpoint, log, trust)?;
    if checkpoint.root != proof.root {
        return Err(CheckpointError::Mismatch {
            field: "root hash",
            checkpoint: hex::encode(checkpoint.root),
            proof: hex::encode(proof.root),
        }
        .into());
    }
    if checkpoint.size != proof.size {
        return Err(CheckpointError::Mismatch {
            field: "tree size",
            checkpoint: checkpoint.size.to_string(),
            proof: proof.size.to_string(),
        }
        .into());
    }

    Ok(VerifiedBundle {
        identity,
        signing_key,
        ca_index,
        artifact_digest,
        bundle_version: bundle.version,
        kind,
        dsse_payload,
        log_id: log.log_id,
        log_url: log.base_url.clone(),
        log_index: entry.log_index,
        integrated_time: UnixTime::from_unix_seconds(signing_time.0),
        integrated_time_from_set,
        timestamps,
        proof_index: proof.index,
        proof_len: proof.hashes.len(),
        checkpoint,
    })
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn verify_message_signature(
    key: &PublicKey,
    artifact: Artifact<'_>,
    digest: &[u8; 32],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let what = "artifact digest";
    let res = match key.algorithm() {
        KeyAlgorithm::Ed25519 => match artifact {
            Artifact::Bytes(b) => key.verify(b, signature),
            Artifact::Sha256Digest(_) => return Err(SignatureError::NeedsArtifactBytes),
        },
        _ => key.verify_prehashed_with(HashAlgorithm::Sha256, digest, signature),
    };
    res.map_err(|e| SignatureError::Invalid {
        what,
        reason: e.to_string(),
    })
}

const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The DSSE payload must be an in-toto statement with a subject whose sha256 digest is the
/// artifact's.
fn check_in_toto_subject(
    payload_type: &str,
    payload: &[u8],
    digest: &[u8; 32],
) -> Result<(), SignatureError> {
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(SignatureError::Statement(format!(
            "payload type {payload_type:?} is not {IN_TOTO_PAYLOAD_TYPE}"
        )));
    }
    let stmt: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| SignatureError::Statement(format!("not JSON: {e}")))?;
    let ty = stmt
        .get("_type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    if ty != "https://in-toto.io/Statement/v1" && ty != "https://in-toto.io/Statement/v0.1" {
        return Err(SignatureError::Statement(format!(
            "_type {ty:?} is not an in-toto statement"
        )));
    }
    let subjects = stmt
        .get("subject")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| SignatureError::Statement("no subject list".to_owned()))?;
    let want = hex::encode(digest);
    let found = subjects.iter().any(|s| {
        s.get("digest")
            .and_then(|d| d.get("sha256"))
            .and_then(serde_json::Value::as_str)
            .is_some_and(|h| h.eq_ignore_ascii_case(&want))
    });
    if found {
        Ok(())
    } else {
        Err(SignatureError::SubjectMismatch { artifact: want })
    }
}

/// The leaf certificate after chain, profile, time and SCT checks.
struct CheckedLeaf {
    key: PublicKey,
    ca_index: usize,
}

const OID_EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";

fn check_certificate(
    der: &[u8],
    trust: &TrustMaterial,
    signing_time: SigningTime,
) -> Result<(CheckedLeaf, Identity), VerificationError> {
    let (rest, leaf) = X509Certificate::from_der(der).map_err(|e| CertificateError::Parse {
        reason: e.to_string(),
    })?;
    if !rest.is_empty() {
        return Err(CertificateError::Parse {
            reason: format!("{} trailing bytes", rest.len()),
        }
        .into());
    }
    let tbs = &leaf.tbs_certificate;
    // An extension may appear only once (RFC 5280 section 4.2): with two, parsers disagree
    // on which one counts (sigstore-python refuses them).
    tbs.extensions_map().map_err(|e| CertificateError::Parse {
        reason: format!("extensions: {e}"),
    })?;
    let mut aki: Option<&[u8]> = None;
    let mut key_usage_ok = false;
    let mut signs_certificates = false;
    let mut code_signing = false;
    let mut is_ca = false;
    let mut san_types: Vec<String> = Vec::new();
    let mut sct_list: Option<&[u8]> = None;
    for ext in tbs.iter_extensions() {
        if ext.oid == x509_parser::oid_registry::OID_CT_LIST_SCT && sct_list.is_none() {
            sct_list = Some(ext.value);
        }
        match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki = a.key_identifier.as_ref().map(|k| k.0)
            }
            ParsedExtension::KeyUsage(ku) => {
                key_usage_ok = ku.digital_signature();
                signs_certificates = ku.key_cert_sign() || ku.crl_sign();
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                code_signing = eku.code_signing
                    || eku
                        .other
                        .iter()
                        .any(|o| o.to_id_string() == OID_EKU_CODE_SIGNING);
            }
            ParsedExtension::BasicConstraints(bc) => is_ca = bc.ca,
            ParsedExtension::SubjectAlternativeName(san) => {
                san_types = san.general_names.iter().map(general_name_type).collect();
            }
            ParsedExtension::UnsupportedExtension { .. } | ParsedExtension::Unparsed
                if ext.critical =>
            {
                return Err(CertificateError::Profile(format!(
                    "unknown critical extension {}",
                    ext.oid.to_id_string()
                ))
                .into());
            }
            ParsedExtension::ParseError { error } => {
                return Err(CertificateError::Parse {
                    reason: format!("extension {}: {error}", ext.oid.to_id_string()),
                }
                .into());
            }
            _ => {}
        }
    }

    // The issuing CA (its chain was verified when the trust material was built).
    let issuer_der = tbs.issuer.as_raw();
    let mut last_err = None;
    let mut found: Option<&CertificateAuthority> = None;
    for ca in trust.issuers(issuer_der, aki) {
        match verify_certificate_signature(&ca.key, &leaf) {
            Ok(()) => {
                found = Some(ca);
                break;
            }
            Err(reason) => {
                last_err = Some(CertificateError::BadSignature {
                    ca: ca.subject.clone(),
                    reason,
                })
            }
        }
    }
    let ca = match (found, last_err) {
        (Some(ca), _) => ca,
        (None, Some(e)) => return Err(e.into()),
        (None, None) => {
            return Err(CertificateError::UnknownIssuer {
                issuer: tbs.issuer.to_string(),
            }
            .into())
        }
    };

    if !key_usage_ok {
        return Err(
            CertificateError::Profile("KeyUsage digitalSignature is missing".to_owned()).into(),
        );
    }
    if signs_certificates {
        return Err(CertificateError::Profile(
            "KeyUsage allows signing certificates or CRLs, which a leaf must not".to_owned(),
        )
        .into());
    }
    if !code_signing {
        return Err(
            CertificateError::Profile("ExtKeyUsage codeSigning is missing".to_owned()).into(),
        );
    }
    if is_ca {
        return Err(CertificateError::Profile("the leaf is a CA certificate".to_owned()).into());
    }
    if san_types.is_empty() {
        return Err(CertificateError::Profile("no subject alternative name".to_owned()).into());
    }
    // RFC 5280 section 4.2.1.1 (and webpki's end-entity policy) require the AKI.
    if aki.is_none() {
        return Err(CertificateError::Profile("no authority key identifier".to_owned()).into());
    }

    // Times: the leaf, the chain and the CA's validFor must all cover the signing time.
    let v = &tbs.validity;
    time_window(
        || "leaf certificate".to_owned(),
        &Window::new(
            Some(v.not_before.timestamp()),
            Some(v.not_after.timestamp()),
        ),
        signing_time,
    )?;
    time_window(
        || format!("CA chain ({})", ca.subject),
        &ca.chain_validity,
        signing_time,
    )?;
    time_window(
        || format!("CA validFor ({})", ca.uri),
        &ca.valid_for,
        signing_time,
    )?;

    let key = PublicKey::from_spki_der(tbs.subject_pki.raw).map_err(|e| CertificateError::Key {
        reason: e.to_string(),
    })?;
    if matches!(key.algorithm(), KeyAlgorithm::Rsa { .. }) {
        return Err(CertificateError::Key {
            reason: "RSA leaf keys are not accepted".to_owned(),
        }
        .into());
    }

    glue::verify_scts(der, sct_list, ca, trust)?;
    let identity = Identity::from_certificate(&leaf).map_err(|e| PolicyError::Identity {
        reason: e.to_string(),
    })?;
    // Only an email, URI or Fulcio username SAN names a signer (`proto::cert::Identity` reads
    // no other type): a certificate with, say, only a dNSName is refused whatever the policy,
    // `any_identity_unsafe` included.
    if identity.san().is_none() {
        return Err(CertificateError::NoSigner {
            found: san_types.join(", "),
        }
        .into());
    }
    // sigstore-python reads the issuer from .1.1, sigstore-js and this verifier from .1.8: they
    // must agree.
    if let (Some(v1), Some(v2)) = (
        identity.extension(signet_proto::cert::OID_ISSUER_V1),
        identity.extension(signet_proto::cert::OID_ISSUER_V2),
    ) {
        if v1 != v2 {
            return Err(PolicyError::Identity {
                reason: format!("issuer extensions disagree: .1.1 {v1:?}, .1.8 {v2:?}"),
            }
            .into());
        }
    }
    Ok((
        CheckedLeaf {
            key,
            ca_index: ca.index,
        },
        identity,
    ))
}

/// The RFC 5280 name of a GeneralName's type, for messages.
fn general_name_type(name: &x509_parser::extensions::GeneralName<'_>) -> String {
    use x509_parser::extensions::GeneralName as G;
    match name {
        G::OtherName(oid, _) => format!("otherName {}", oid.to_id_string()),
        G::RFC822Name(_) => "rfc822Name".to_owned(),
        G::DNSName(_) => "dNSName".to_owned(),
        G::X400Address(_) => "x400Address".to_owned(),
        G::DirectoryName(_) => "directoryName".to_owned(),
        G::EDIPartyName(_) => "ediPartyName".to_owned(),
        G::URI(_) => "uniformResourceIdentifier".to_owned(),
        G::IPAddress(_) => "iPAddress".to_owned(),
        G::RegisteredID(_) => "registeredID".to_owned(),
        G::Invalid(tag, _) => format!("invalid [{}]", tag.0),
    }
}

/// Calls into `signet-proto` for the spec-defined bytes and math.
pub(crate) mod glue {
    use super::*;

    /// The SET payload (`proto::rekor::SetPayload`) in its RFC 8785 form, written directly by
    /// `SetPayload::canonical_bytes_from_parts`; integers beyond 2^53 go through
    /// `SetPayload::canonical_bytes`. The test `set_payload_fast_path` checks both paths
    /// against `proto::jcs`.
    pub(crate) fn set_payload(
        body: &[u8],
        integrated_time: i64,
        log_id: &[u8; 32],
        log_index: u64,
    ) -> Result<Vec<u8>, SetError> {
        use base64::Engine as _;
        let invalid = |reason: String| SetError::Invalid {
            log: String::new(),
            reason,
        };
        let log_index = i64::try_from(log_index)
            .map_err(|_| invalid("log index does not fit in int64".to_owned()))?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(body);
        if let Some(out) = signet_proto::rekor::SetPayload::canonical_bytes_from_parts(
            &b64,
            integrated_time,
            log_id,
            log_index,
        ) {
            return Ok(out);
        }
        signet_proto::rekor::SetPayload {
            body: body.to_vec().into(),
            integrated_time,
            log_id: log_id.to_vec().into(),
            log_index,
        }
        .canonical_bytes()
        .map_err(|e| invalid(e.to_string()))
    }

    pub(super) fn verify_inclusion(
        body: &[u8],
        index: u64,
        size: u64,
        hashes: &[[u8; 32]],
        root: &[u8; 32],
    ) -> Result<(), String> {
        let leaf = signet_proto::merkle::leaf_hash(body);
        signet_proto::merkle::verify_inclusion(&leaf, index, size, hashes, root)
            .map_err(|e| e.to_string())
    }

    pub(super) fn verify_checkpoint(
        envelope: &str,
        log: &LogKey,
        trust: &TrustMaterial,
    ) -> Result<Checkpoint, CheckpointError> {
        use signet_proto::checkpoint::{CheckpointError as PE, UnverifiedCheckpoint};
        use signet_proto::note::NoteError;
        let verifiers =
            log.note_verifiers
                .as_ref()
                .map_err(|reason| CheckpointError::Signature {
                    log: log.base_url.clone(),
                    reason: format!("the log key cannot verify checkpoints: {reason}"),
                })?;
        let unverified = UnverifiedCheckpoint::parse(envelope.as_bytes()).map_err(|e| {
            CheckpointError::Parse {
                reason: e.to_string(),
            }
        })?;
        let signed = unverified.verify(verifiers).map_err(|e| match e {
            PE::Note(NoteError::Malformed { .. }) | PE::Malformed { .. } => {
                CheckpointError::Parse {
                    reason: e.to_string(),
                }
            }
            other => CheckpointError::Signature {
                log: format!("{} (signer name {:?})", log.base_url, log.host()),
                reason: other.to_string(),
            },
        })?;
        if let Some(w) = &trust.witnesses {
            // The shared quorum rule: distinct witness keys by key bytes, never a trusted
            // log's own key.
            use signet_proto::witness::{check_quorum, QuorumError};
            let log_keys: Vec<&PublicKey> = trust.tlogs.values().map(|l| &l.key).collect();
            match check_quorum(signed.note(), &w.witnesses, w.threshold, &log_keys) {
                Ok(_) => {}
                Err(QuorumError::NotMet { valid, quorum }) => {
                    return Err(CheckpointError::Witnesses {
                        valid,
                        threshold: quorum,
                    })
                }
                Err(e @ QuorumError::Unreachable { .. }) => {
                    return Err(CheckpointError::WitnessPolicy {
                        reason: e.to_string(),
                    })
                }
                Err(e) => {
                    return Err(CheckpointError::WitnessSignature {
                        reason: e.to_string(),
                    })
                }
            }
        }
        Ok(signed.checkpoint().clone())
    }

    /// Verifies the leaf's embedded SCTs. `sct_list` is the value of the leaf's SCT list
    /// extension (the first one), taken from the parse `check_certificate` already did.
    pub(super) fn verify_scts(
        leaf_der: &[u8],
        sct_list: Option<&[u8]>,
        ca: &CertificateAuthority,
        trust: &TrustMaterial,
    ) -> Result<(), SctError> {
        use signet_proto::sct;
        let scts =
            sct::decode_sct_list_extension(sct_list.ok_or(SctError::Missing)?).map_err(|e| {
                SctError::Decode {
                    reason: e.to_string(),
                }
            })?;
        if scts.is_empty() {
            return Err(SctError::Missing);
        }
        let tbs =
            sct::tbs_without_extensions(leaf_der, &[sct::OID_SCT_LIST, sct::OID_PRECERT_POISON])
                .map_err(|e| SctError::Decode {
                    reason: e.to_string(),
                })?;
        let mut verified = 0usize;
        for s in &scts {
            // As in sigstore-js, an SCT from a log the trust root does not list fails.
            let Some(log) = trust.ctlog(&s.log_id) else {
                return Err(SctError::NoTrustedLog {
                    count: 1,
                    log_ids: hex::encode(s.log_id),
                });
            };
            s.verify_precert(&log.key, &ca.issuer_key_hash, &tbs)
                .map_err(|e| SctError::BadSignature {
                    log_id: hex::encode(s.log_id),
                    reason: e.to_string(),
                })?;
            let secs = i64::try_from(s.timestamp / 1000).unwrap_or(i64::MAX);
            let nanos = u32::try_from(s.timestamp % 1000).unwrap_or(0) * 1_000_000;
            if !log.valid_for.contains_at(secs, nanos) {
                return Err(SctError::OutsideLogValidity {
                    log_id: hex::encode(s.log_id),
                    timestamp_ms: s.timestamp,
                });
            }
            verified += 1;
        }
        if verified == 0 {
            return Err(SctError::NoTrustedLog {
                count: scts.len(),
                log_ids: scts
                    .iter()
                    .map(|s| hex::encode(s.log_id))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(())
    }

    /// Whether `pem` is exactly the RFC 7468 strict encoding of the certificate `der` (64
    /// base64 characters a line, LF line ends, the final LF optional), as Sigstore clients
    /// write it. Checked without decoding or allocating; `false` only means "not in this exact
    /// form" (the caller then parses the PEM).
    pub(super) fn is_strict_certificate_pem(pem: &[u8], der: &[u8]) -> bool {
        use base64::Engine as _;
        const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----\n";
        const END: &[u8] = b"-----END CERTIFICATE-----";
        let Some(mut rest) = pem.strip_prefix(BEGIN) else {
            return false;
        };
        let mut line = [0u8; 64];
        for chunk in der.chunks(48) {
            let Ok(n) = base64::engine::general_purpose::STANDARD.encode_slice(chunk, &mut line)
            else {
                return false;
            };
            match rest
                .strip_prefix(&line[..n])
                .and_then(|r| r.strip_prefix(b"\n"))
            {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest.strip_suffix(b"\n").unwrap_or(rest) == END
    }

    /// Appends the RFC 7468 strict PEM encoding of the certificate `der` to `out` (64 base64
    /// characters a line, LF line ends, a final LF), the form [`is_strict_certificate_pem`]
    /// accepts.
    fn push_strict_certificate_pem(out: &mut Vec<u8>, der: &[u8]) {
        use base64::Engine as _;
        out.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        let mut line = [0u8; 64];
        for chunk in der.chunks(48) {
            // 48 bytes always fit in 64 characters.
            let n = base64::engine::general_purpose::STANDARD
                .encode_slice(chunk, &mut line)
                .unwrap_or(0);
            out.extend_from_slice(&line[..n]);
            out.push(b'\n');
        }
        out.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }

    /// The canonical (RFC 8785) `hashedrekord` 0.0.1 body that a keyless bundle implies: its
    /// artifact digest, its signature and its leaf certificate as strict PEM. The keys are
    /// fixed and written in JCS order; the values are lowercase hex and standard base64,
    /// which JSON does not escape. The test `canonical_hashedrekord_body_matches_proto` checks it against
    /// `proto::rekor::ProposedEntry::canonical_bytes`.
    pub(super) fn canonical_hashedrekord_body(
        digest: &[u8; 32],
        signature: &[u8],
        leaf_der: &[u8],
    ) -> Vec<u8> {
        use base64::Engine as _;
        let b64 = &base64::engine::general_purpose::STANDARD;
        let mut pem = Vec::with_capacity(leaf_der.len() * 4 / 3 + 96);
        push_strict_certificate_pem(&mut pem, leaf_der);
        let mut out = Vec::with_capacity(pem.len() * 4 / 3 + signature.len() * 4 / 3 + 240);
        out.extend_from_slice(
            b"{\"apiVersion\":\"0.0.1\",\"kind\":\"hashedrekord\",\"spec\":{\"data\":{\"hash\":\
              {\"algorithm\":\"sha256\",\"value\":\"",
        );
        let mut hex = [0u8; 64];
        if hex::encode_to_slice(digest, &mut hex).is_ok() {
            out.extend_from_slice(&hex);
        }
        out.extend_from_slice(b"\"}},\"signature\":{\"content\":\"");
        let push_b64 = |out: &mut Vec<u8>, data: &[u8]| {
            let at = out.len();
            out.resize(at + data.len().div_ceil(3) * 4, 0);
            let n = b64.encode_slice(data, &mut out[at..]).unwrap_or(0);
            out.truncate(at + n);
        };
        push_b64(&mut out, signature);
        out.extend_from_slice(b"\",\"publicKey\":{\"content\":\"");
        push_b64(&mut out, &pem);
        out.extend_from_slice(b"\"}}}}");
        out
    }

    /// The body's `publicKey`/`verifier`: a PEM certificate (keyless) or a PEM public key
    /// (keyed). It must be the bundle's leaf certificate or the policy's key.
    pub(super) fn check_verifier(
        pem: &[u8],
        leaf_der: Option<&[u8]>,
        key: &PublicKey,
        what: &'static str,
    ) -> Result<(), TlogError> {
        // Fast path: the leaf in its strict PEM form (what clients send).
        if leaf_der.is_some_and(|leaf| is_strict_certificate_pem(pem, leaf)) {
            return Ok(());
        }
        let pem = std::str::from_utf8(pem).map_err(|_| TlogError::Body {
            reason: format!("{what} is not PEM"),
        })?;
        match leaf_der {
            Some(leaf) => {
                let (_, p) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| {
                    TlogError::Body {
                        reason: format!("{what} is not a PEM certificate: {e}"),
                    }
                })?;
                if p.label != "CERTIFICATE" || p.contents != leaf {
                    return Err(TlogError::BodyMismatch { field: what });
                }
            }
            None => {
                let k = PublicKey::from_pem(pem).map_err(|e| TlogError::Body {
                    reason: format!("{what} is not a PEM public key: {e}"),
                })?;
                if k.spki_der() != key.spki_der() {
                    return Err(TlogError::BodyMismatch { field: what });
                }
            }
        }
        Ok(())
    }

    fn sha256_of(
        h: &signet_proto::rekor::HashValue,
        what: &'static str,
    ) -> Result<Vec<u8>, TlogError> {
        if h.algorithm != signet_proto::rekor::RekorHashAlgorithm::Sha256 {
            return Err(TlogError::Body {
                reason: format!("{what} is not sha256"),
            });
        }
        h.digest().map_err(|reason| TlogError::Body {
            reason: format!("{what}: {reason}"),
        })
    }

    /// Rekor v2 entry body (protobuf-specs `rekor/v2/entry.proto` in its JSON form): only the
    /// `hashedRekordV002` spec is accepted (sigstore-python 4.x rejects `dsseV002`).
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct EntryV2 {
        api_version: String,
        kind: String,
        spec: SpecV2,
    }

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct SpecV2 {
        hashed_rekord_v002: HashedRekordV002,
    }

    /// `HashedRekordLogEntryV002`.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct HashedRekordV002 {
        data: HashOutputV2,
        signature: SignatureV2,
    }

    /// `HashOutput`: a protobuf `HashAlgorithm` name and base64 digest.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct HashOutputV2 {
        algorithm: String,
        digest: String,
    }

    /// `rekor.v2.Signature`.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct SignatureV2 {
        content: String,
        verifier: VerifierV2,
    }

    /// `rekor.v2.Verifier`: a public key or an X.509 certificate, with its key details.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct VerifierV2 {
        #[serde(default)]
        public_key: Option<RawBytesV2>,
        #[serde(default)]
        x509_certificate: Option<RawBytesV2>,
        key_details: String,
    }

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct RawBytesV2 {
        raw_bytes: String,
    }

    /// Protobuf JSON `bytes`: standard or URL-safe base64, padded or not.
    fn proto_bytes(s: &str, field: &'static str) -> Result<Vec<u8>, TlogError> {
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        use base64::Engine as _;
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|e| e.decode(s).ok())
            .ok_or_else(|| TlogError::Body {
                reason: format!("{field} is not base64"),
            })
    }

    /// The protobuf `PublicKeyDetails` name of a signing key (as sigstore-python's
    /// `_get_key_details`).
    fn key_details(key: &PublicKey) -> String {
        match key.algorithm() {
            KeyAlgorithm::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256".to_owned(),
            KeyAlgorithm::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384".to_owned(),
            KeyAlgorithm::Ed25519 => "PKIX_ED25519".to_owned(),
            KeyAlgorithm::Rsa { bits } => format!("PKIX_RSA_PKCS1V15_{bits}_SHA256"),
            other => format!("unknown ({other})"),
        }
    }

    /// Compares a Rekor v2 `hashedrekord` 0.0.2 body with the bundle, field by field (what
    /// sigstore-python's `_validate_hashedrekord_v002_entry_body` and
    /// `_validate_hashedrekord_v002_dsse_entry_body` compare):
    /// * message signatures: `data` is SHA2_256 of the artifact, `signature.content` the
    ///   signature;
    /// * DSSE envelopes (rekor-v2-spec §6.1.4): `data` is the digest of the PAE under the
    ///   signing algorithm's externalized hash (SHA2_256 for P-256, SHA2_384 for P-384; pure
    ///   Ed25519 has none and is rejected), `signature.content` the envelope's only signature;
    /// * `signature.verifier` is the bundle's leaf certificate DER (or, keyed, the policy key's
    ///   SPKI) with the key's `keyDetails`.
    pub(super) fn check_body_v002(
        body: &[u8],
        content: &Content,
        digest: &[u8; 32],
        leaf_der: Option<&[u8]>,
        key: &PublicKey,
    ) -> Result<(), TlogError> {
        let e: EntryV2 = serde_json::from_slice(body).map_err(|e| TlogError::Body {
            reason: format!("not a hashedrekord 0.0.2 body: {e}"),
        })?;
        if e.kind != "hashedrekord" || e.api_version != "0.0.2" {
            return Err(TlogError::Body {
                reason: format!(
                    "body is {} {}, expected hashedrekord 0.0.2",
                    e.kind, e.api_version
                ),
            });
        }
        let h = e.spec.hashed_rekord_v002;
        let (algorithm, expected_digest, signature): (&str, Vec<u8>, &[u8]) = match content {
            Content::Message { signature, .. } => ("SHA2_256", digest.to_vec(), signature),
            Content::Dsse { envelope } => {
                let [sig] = envelope.signatures.as_slice() else {
                    return Err(TlogError::BodyMismatch {
                        field: "spec.hashedRekordV002.signature (the envelope needs one signature)",
                    });
                };
                let (name, hash) = match key.algorithm() {
                    KeyAlgorithm::EcdsaP256 | KeyAlgorithm::Rsa { .. } => {
                        ("SHA2_256", HashAlgorithm::Sha256)
                    }
                    KeyAlgorithm::EcdsaP384 => ("SHA2_384", HashAlgorithm::Sha384),
                    other => {
                        return Err(TlogError::Kind {
                            kind: e.kind,
                            version: e.api_version,
                            reason: format!(
                                "{other} has no externalized hash for a DSSE hashedrekord entry"
                            ),
                        })
                    }
                };
                (name, hash.hash(&envelope.pae()), sig.sig.as_slice())
            }
        };
        if h.data.algorithm != algorithm {
            return Err(TlogError::BodyMismatch {
                field: "spec.hashedRekordV002.data.algorithm",
            });
        }
        if proto_bytes(&h.data.digest, "spec.hashedRekordV002.data.digest")? != expected_digest {
            return Err(TlogError::BodyMismatch {
                field: "spec.hashedRekordV002.data.digest",
            });
        }
        if proto_bytes(
            &h.signature.content,
            "spec.hashedRekordV002.signature.content",
        )? != signature
        {
            return Err(TlogError::BodyMismatch {
                field: "spec.hashedRekordV002.signature.content",
            });
        }
        let v = &h.signature.verifier;
        if v.key_details != key_details(key) {
            return Err(TlogError::BodyMismatch {
                field: "spec.hashedRekordV002.signature.verifier.keyDetails",
            });
        }
        let matches = match (leaf_der, &v.x509_certificate, &v.public_key) {
            (Some(leaf), Some(c), None) => {
                proto_bytes(&c.raw_bytes, "verifier.x509Certificate.rawBytes")? == leaf
            }
            (None, None, Some(k)) => {
                proto_bytes(&k.raw_bytes, "verifier.publicKey.rawBytes")? == key.spki_der()
            }
            _ => false,
        };
        if !matches {
            return Err(TlogError::BodyMismatch {
                field: "spec.hashedRekordV002.signature.verifier",
            });
        }
        Ok(())
    }

    /// The `{"apiVersion", "kind", "spec"}` wrapper of a Rekor v1 entry body.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Body<S> {
        api_version: String,
        kind: String,
        spec: S,
    }

    /// Parses a body of the expected kind straight into its `proto::rekor` spec type (the
    /// same types `ProposedEntry::from_json` uses, without the intermediate JSON value).
    fn parse_body<S: serde::de::DeserializeOwned>(
        body: &[u8],
        kind: &'static str,
    ) -> Result<S, TlogError> {
        parse_body_version(body, kind, signet_proto::rekor::API_VERSION_0_0_1)
    }

    /// As [`parse_body`], for a given `apiVersion`.
    fn parse_body_version<S: serde::de::DeserializeOwned>(
        body: &[u8],
        kind: &'static str,
        version: &'static str,
    ) -> Result<S, TlogError> {
        let b: Body<S> = serde_json::from_slice(body).map_err(|e| TlogError::Body {
            reason: format!("not a {kind} {version} body: {e}"),
        })?;
        if b.kind != kind || b.api_version != version {
            return Err(TlogError::Body {
                reason: format!(
                    "body is {} {}, expected {kind} {version}",
                    b.kind, b.api_version
                ),
            });
        }
        Ok(b.spec)
    }

    /// Compares a Rekor v1 `intoto` 0.0.2 body (the stored form: no payload) with the
    /// bundle's DSSE envelope:
    /// * `payloadHash` is SHA-256 of the envelope's payload (sigstore-js: "DSSE payload hash
    ///   mismatch"); a body that still carries `payload` must carry this payload;
    /// * `payloadType` is the envelope's;
    /// * exactly one signature on each side (sigstore-js: "signature count mismatch"), and the
    ///   body's `sig`, base64 of the base64 signature text, decodes to the envelope's
    ///   signature (sigstore-js: "tlog entry signature mismatch");
    /// * its `publicKey` is the bundle's leaf certificate (or, keyed, the policy's key), which
    ///   sigstore-js does not compare but the dsse 0.0.1 check does.
    ///
    /// The envelope `hash` is the submitting client's own digest of the envelope (no
    /// canonical form exists); like sigstore-js it is only checked to be SHA-256 hex.
    pub(super) fn check_body_intoto(
        body: &[u8],
        envelope: &signet_proto::bundle::DsseEnvelope,
        leaf_der: Option<&[u8]>,
        key: &PublicKey,
    ) -> Result<(), TlogError> {
        use signet_proto::rekor::{IntotoV002, API_VERSION_0_0_2, KIND_INTOTO};
        let spec: IntotoV002 = parse_body_version(body, KIND_INTOTO, API_VERSION_0_0_2)?;
        spec.validate().map_err(|e| TlogError::Body {
            reason: e.to_string(),
        })?;
        let c = &spec.content;
        let payload_hash = c.payload_hash.as_ref().ok_or_else(|| TlogError::Body {
            reason: "intoto body has no payloadHash".to_owned(),
        })?;
        if sha256_of(payload_hash, "spec.content.payloadHash")? != sha256(&envelope.payload) {
            return Err(TlogError::BodyMismatch {
                field: "spec.content.payloadHash",
            });
        }
        if c.envelope.payload.is_some() {
            let p = c.envelope.payload_bytes().map_err(|e| TlogError::Body {
                reason: e.to_string(),
            })?;
            if p != envelope.payload.as_slice() {
                return Err(TlogError::BodyMismatch {
                    field: "spec.content.envelope.payload",
                });
            }
        }
        if c.envelope.payload_type != envelope.payload_type {
            return Err(TlogError::BodyMismatch {
                field: "spec.content.envelope.payloadType",
            });
        }
        let ([s], [env_sig]) = (
            c.envelope.signatures.as_slice(),
            envelope.signatures.as_slice(),
        ) else {
            return Err(TlogError::BodyMismatch {
                field: "spec.content.envelope.signatures (count)",
            });
        };
        let sig = s.signature_bytes().map_err(|e| TlogError::Body {
            reason: e.to_string(),
        })?;
        if sig != env_sig.sig.as_slice() {
            return Err(TlogError::BodyMismatch {
                field: "spec.content.envelope.signatures[0].sig",
            });
        }
        check_verifier(
            &s.public_key,
            leaf_der,
            key,
            "spec.content.envelope.signatures[0].publicKey",
        )
    }

    /// Compares the canonicalized entry body with the bundle (Rekor `hashedrekord` 0.0.1 and
    /// `dsse` 0.0.1 schemas, typed by `proto::rekor`).
    pub(super) fn check_body(
        body: &[u8],
        content: &Content,
        digest: &[u8; 32],
        leaf_der: Option<&[u8]>,
        key: &PublicKey,
    ) -> Result<(), TlogError> {
        use signet_proto::rekor::{DsseV001, HashedRekordV001, ProposedEntry};
        // Fast path: a keyless hashedrekord body byte-for-byte equal to the canonical body of
        // this bundle (what Rekor and Signet log for clients that write strict PEM) matches
        // every field by construction. Any other body is parsed and compared field by field.
        if let (Content::Message { signature, .. }, Some(leaf)) = (content, leaf_der) {
            if body == canonical_hashedrekord_body(digest, signature, leaf).as_slice() {
                return Ok(());
            }
        }
        let entry = match content {
            Content::Message { .. } => {
                ProposedEntry::HashedRekordV001(parse_body::<HashedRekordV001>(
                    body,
                    signet_proto::rekor::KIND_HASHEDREKORD,
                )?)
            }
            Content::Dsse { .. } => ProposedEntry::DsseV001(parse_body::<DsseV001>(
                body,
                signet_proto::rekor::KIND_DSSE,
            )?),
        };
        match (content, &entry) {
            (Content::Message { signature, .. }, ProposedEntry::HashedRekordV001(h)) => {
                if sha256_of(&h.data.hash, "spec.data.hash")? != digest {
                    return Err(TlogError::BodyMismatch {
                        field: "spec.data.hash (artifact digest)",
                    });
                }
                if h.signature.content.as_slice() != signature.as_slice() {
                    return Err(TlogError::BodyMismatch {
                        field: "spec.signature.content",
                    });
                }
                check_verifier(
                    &h.signature.public_key.content,
                    leaf_der,
                    key,
                    "spec.signature.publicKey.content",
                )
            }
            (Content::Dsse { envelope }, ProposedEntry::DsseV001(DsseV001::Canonical(c))) => {
                if sha256_of(&c.payload_hash, "spec.payloadHash")? != sha256(&envelope.payload) {
                    return Err(TlogError::BodyMismatch {
                        field: "spec.payloadHash",
                    });
                }
                // The one canonical envelope form the log hashes (keyids kept).
                let env_hash = signet_proto::rekor::dsse_envelope_hash(envelope).map_err(|e| {
                    TlogError::Body {
                        reason: format!("envelope: {e}"),
                    }
                })?;
                if sha256_of(&c.envelope_hash, "spec.envelopeHash")? != env_hash {
                    return Err(TlogError::BodyMismatch {
                        field: "spec.envelopeHash",
                    });
                }
                let [s] = c.signatures.as_slice() else {
                    return Err(TlogError::BodyMismatch {
                        field: "spec.signatures (count)",
                    });
                };
                if envelope.signatures.len() != 1
                    || s.signature.as_slice() != envelope.signatures[0].sig.as_slice()
                {
                    return Err(TlogError::BodyMismatch {
                        field: "spec.signatures[0].signature",
                    });
                }
                check_verifier(&s.verifier, leaf_der, key, "spec.signatures[0].verifier")
            }
            (_, e) => Err(TlogError::Body {
                reason: format!(
                    "a {} {} body does not fit the bundle content",
                    e.kind(),
                    e.api_version()
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::glue::{
        canonical_hashedrekord_body, check_body, check_body_intoto, check_body_v002,
        check_verifier, is_strict_certificate_pem, set_payload,
    };
    use crate::bundle::Content;
    use base64::Engine as _;

    /// An `intoto` 0.0.2 body (stored form) for `envelope`'s first signature and `key_pem`, as
    /// the log writes it; `edit` changes the JSON first.
    fn intoto_body(
        envelope: &signet_proto::bundle::DsseEnvelope,
        key_pem: &str,
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> Vec<u8> {
        let b64 = &base64::engine::general_purpose::STANDARD;
        let mut v = serde_json::json!({
            "apiVersion": "0.0.2", "kind": "intoto",
            "spec": {"content": {
                "envelope": {"payloadType": envelope.payload_type, "signatures": [{
                    "publicKey": b64.encode(key_pem),
                    "sig": b64.encode(b64.encode(envelope.signatures[0].sig.as_slice())),
                }]},
                "hash": {"algorithm": "sha256", "value": "ab".repeat(32)},
                "payloadHash": {"algorithm": "sha256",
                    "value": hex::encode(crate::trust::sha256(&envelope.payload))},
            }}
        });
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    /// `intoto` 0.0.2 bodies are compared with the bundle's envelope as sigstore-js does
    /// (payload hash, one signature, double-base64 `sig`) plus payloadType and the key; each
    /// changed field is named.
    #[test]
    fn intoto_v002_bodies() {
        use crate::error::TlogError;
        use signet_proto::bundle::{Base64Bytes, DsseEnvelope, DsseSignature};
        let b64 = &base64::engine::general_purpose::STANDARD;
        let signer = signet_proto::keys::EcdsaSigner::generate(
            signet_proto::keys::EcdsaCurve::P256,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap();
        let key = signer.public_key().clone();
        let key_pem = key.to_pem();
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#.to_vec();
        let mut envelope = DsseEnvelope {
            payload: Base64Bytes(payload),
            payload_type: "application/vnd.in-toto+json".to_owned(),
            signatures: vec![],
        };
        envelope.signatures.push(DsseSignature {
            sig: Base64Bytes(signer.sign(&envelope.pae()).unwrap()),
            keyid: String::new(),
        });
        let check = |body: &[u8]| check_body_intoto(body, &envelope, None, &key);
        check(&intoto_body(&envelope, &key_pem, |_| {})).unwrap();
        // A body that still carries the (same) payload matches too.
        let with_payload = intoto_body(&envelope, &key_pem, |v| {
            v["spec"]["content"]["envelope"]["payload"] =
                b64.encode(b64.encode(envelope.payload.as_slice())).into();
        });
        check(&with_payload).unwrap();

        let other_key = fresh_p256_key().to_pem();
        let mismatches: Vec<(Vec<u8>, &str)> = vec![
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"]["payloadHash"]["value"] = "00".repeat(32).into();
                }),
                "spec.content.payloadHash",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"]["envelope"]["payload"] =
                        b64.encode(b64.encode(b"other")).into();
                }),
                "spec.content.envelope.payload",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"]["envelope"]["payloadType"] = "text/plain".into();
                }),
                "spec.content.envelope.payloadType",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    let mut sig = envelope.signatures[0].sig.to_vec();
                    sig[10] ^= 1;
                    v["spec"]["content"]["envelope"]["signatures"][0]["sig"] =
                        b64.encode(b64.encode(sig)).into();
                }),
                "spec.content.envelope.signatures[0].sig",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    let first = v["spec"]["content"]["envelope"]["signatures"][0].clone();
                    v["spec"]["content"]["envelope"]["signatures"]
                        .as_array_mut()
                        .unwrap()
                        .push(first);
                }),
                "spec.content.envelope.signatures (count)",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"]["envelope"]["signatures"][0]["publicKey"] =
                        b64.encode(&other_key).into();
                }),
                "spec.content.envelope.signatures[0].publicKey",
            ),
        ];
        for (body, field) in mismatches {
            match check(&body) {
                Err(TlogError::BodyMismatch { field: f }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        // An envelope with two signatures does not fit a one-signature body either.
        let mut two = envelope.clone();
        two.signatures.push(two.signatures[0].clone());
        assert!(matches!(
            check_body_intoto(&intoto_body(&envelope, &key_pem, |_| {}), &two, None, &key),
            Err(TlogError::BodyMismatch {
                field: "spec.content.envelope.signatures (count)"
            })
        ));

        let malformed: Vec<(Vec<u8>, &str)> = vec![
            (
                intoto_body(&envelope, &key_pem, |v| v["apiVersion"] = "0.0.1".into()),
                "expected intoto 0.0.2",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| v["kind"] = "dsse".into()),
                "expected intoto 0.0.2",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    // The signature base64 once: not base64 of the base64 text.
                    v["spec"]["content"]["envelope"]["signatures"][0]["sig"] =
                        b64.encode(envelope.signatures[0].sig.as_slice()).into();
                }),
                "base64 of the base64 signature text",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"].as_object_mut().unwrap().remove("hash");
                }),
                "missing content.hash",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| {
                    v["spec"]["content"]
                        .as_object_mut()
                        .unwrap()
                        .remove("payloadHash");
                }),
                "missing content.payloadHash",
            ),
            (
                intoto_body(&envelope, &key_pem, |v| v["spec"]["extra"] = 1.into()),
                "unknown field",
            ),
        ];
        for (body, want) in malformed {
            match check(&body) {
                Err(TlogError::Body { reason }) => {
                    assert!(reason.contains(want), "{reason:?} lacks {want:?}");
                }
                other => panic!("{want}: {other:?}"),
            }
        }
    }

    /// The public half of a new ECDSA P-256 key.
    fn fresh_p256_key() -> signet_proto::keys::PublicKey {
        signet_proto::keys::EcdsaSigner::generate(
            signet_proto::keys::EcdsaCurve::P256,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap()
        .public_key()
        .clone()
    }

    /// PEM text of `der` with the given line width and line end.
    fn pem_of(der: &[u8], width: usize, eol: &str) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut s = format!("-----BEGIN CERTIFICATE-----{eol}");
        for line in b64.as_bytes().chunks(width) {
            s.push_str(std::str::from_utf8(line).unwrap());
            s.push_str(eol);
        }
        s.push_str(&format!("-----END CERTIFICATE-----{eol}"));
        s
    }

    /// The strict-PEM fast path accepts exactly what the PEM parser decodes to the same DER in
    /// the strict layout, and nothing else; other layouts still pass through the parser.
    #[test]
    fn strict_certificate_pem_fast_path() {
        let key = fresh_p256_key();
        // Lengths around the 48-byte line boundary, including a partial last line.
        for len in [1usize, 47, 48, 49, 96, 700, 701, 702] {
            let der: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
            let strict = pem_of(&der, 64, "\n");
            let (_, parsed) = x509_parser::pem::parse_x509_pem(strict.as_bytes()).unwrap();
            assert_eq!(parsed.contents, der);
            assert!(is_strict_certificate_pem(strict.as_bytes(), &der));
            assert!(is_strict_certificate_pem(
                strict.trim_end_matches('\n').as_bytes(),
                &der
            ));
            check_verifier(strict.as_bytes(), Some(&der), &key, "test").unwrap();

            let mut other = der.clone();
            other[len / 2] ^= 1;
            assert!(!is_strict_certificate_pem(strict.as_bytes(), &other));
            assert!(check_verifier(strict.as_bytes(), Some(&other), &key, "test").is_err());
            let mut longer = der.clone();
            longer.push(0);
            assert!(!is_strict_certificate_pem(strict.as_bytes(), &longer));
            assert!(!is_strict_certificate_pem(
                strict.as_bytes(),
                &der[..len - 1]
            ));
            assert!(!is_strict_certificate_pem(
                format!("{strict}trailing").as_bytes(),
                &der
            ));

            // Other layouts are not strict but the parser accepts them.
            for (width, eol) in [(64, "\r\n"), (76, "\n")] {
                let loose = pem_of(&der, width, eol);
                if loose != strict {
                    assert!(!is_strict_certificate_pem(loose.as_bytes(), &der));
                }
                check_verifier(loose.as_bytes(), Some(&der), &key, "test").unwrap();
            }
            let key_pem = strict.replace("CERTIFICATE", "PUBLIC KEY");
            assert!(!is_strict_certificate_pem(key_pem.as_bytes(), &der));
            assert!(check_verifier(key_pem.as_bytes(), Some(&der), &key, "test").is_err());
        }
    }

    /// The serde_json fast path of the SET payload equals RFC 8785 (`proto::jcs`) output.
    #[test]
    fn set_payload_fast_path() {
        let log_id = [0xab; 32];
        let bodies: [&[u8]; 6] = [
            b"",
            b"{\"kind\":\"hashedrekord\"}",
            &[0xff; 1000],
            &[0u8; 3],
            &[0xfb; 1],
            &[0xfe; 2],
        ];
        for body in bodies {
            for (time, index) in [
                (0, 0),
                (1_712_085_549, 25_915_956),
                (-1_000, 7),
                (-((1 << 53) - 1), 1),
                ((1 << 53) - 1, (1 << 53) - 1),
            ] {
                let fast = set_payload(body, time, &log_id, index).unwrap();
                let canonical = signet_proto::rekor::SetPayload {
                    body: body.to_vec().into(),
                    integrated_time: time,
                    log_id: log_id.to_vec().into(),
                    log_index: i64::try_from(index).unwrap(),
                }
                .canonical_bytes()
                .unwrap();
                assert_eq!(fast, canonical);
            }
        }
        // Beyond 2^53 the canonical form is used.
        let big = set_payload(b"x", 1 << 60, &log_id, 1 << 60).unwrap();
        let canonical = signet_proto::rekor::SetPayload {
            body: b"x".to_vec().into(),
            integrated_time: 1 << 60,
            log_id: log_id.to_vec().into(),
            log_index: 1 << 60,
        }
        .canonical_bytes()
        .unwrap();
        assert_eq!(big, canonical);
    }
    /// The keyless hashedrekord fast path writes exactly `proto::rekor`'s canonical body, and
    /// bodies in other forms still pass through the typed comparison.
    #[test]
    fn canonical_hashedrekord_body_matches_proto() {
        use signet_proto::rekor::{HashedRekordV001, ProposedEntry};
        let key = fresh_p256_key();
        for (len, sig_len) in [(1usize, 1usize), (48, 70), (700, 71), (701, 72), (702, 104)] {
            let der: Vec<u8> = (0..len).map(|i| u8::try_from(i % 253).unwrap()).collect();
            let sig: Vec<u8> = (0..sig_len).map(|i| u8::try_from(i % 7).unwrap()).collect();
            let digest = [0xa5u8; 32];
            let fast = canonical_hashedrekord_body(&digest, &sig, &der);
            let pem = pem_of(&der, 64, "\n").into_bytes();
            let canonical =
                ProposedEntry::HashedRekordV001(HashedRekordV001::new(&digest, sig.clone(), pem))
                    .canonical_bytes()
                    .unwrap();
            assert_eq!(
                String::from_utf8(fast.clone()).unwrap(),
                String::from_utf8(canonical).unwrap()
            );

            let content = Content::Message {
                digest: Some(digest),
                signature: sig.clone(),
            };
            check_body(&fast, &content, &digest, Some(&der), &key).unwrap();
            // The same body, not canonical (pretty-printed): parsed, still accepted.
            let v: serde_json::Value = serde_json::from_slice(&fast).unwrap();
            let pretty = serde_json::to_vec_pretty(&v).unwrap();
            check_body(&pretty, &content, &digest, Some(&der), &key).unwrap();
            // Another digest, signature or certificate: rejected on both paths.
            let other_digest = [0x5au8; 32];
            assert!(check_body(&fast, &content, &other_digest, Some(&der), &key).is_err());
            let mut other_der = der.clone();
            other_der[0] ^= 1;
            assert!(check_body(&fast, &content, &digest, Some(&other_der), &key).is_err());
            assert!(check_body(&pretty, &content, &digest, Some(&other_der), &key).is_err());
            let other_sig = Content::Message {
                digest: Some(digest),
                signature: vec![9; sig_len],
            };
            assert!(check_body(&fast, &other_sig, &digest, Some(&der), &key).is_err());
        }
    }

    /// Rekor v2 `hashedrekord` 0.0.2 bodies for message signatures, in certificate and keyed
    /// mode: every field is compared, unknown fields and other kinds are rejected.
    #[test]
    fn hashedrekord_v002_message_bodies() {
        use crate::error::TlogError;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let key = fresh_p256_key();
        let digest = [0x11u8; 32];
        let sig = vec![0x30, 0x06, 1, 2, 3, 4, 5, 6];
        let leaf = vec![0x30, 0x03, 1, 2, 3];
        let content = Content::Message {
            digest: Some(digest),
            signature: sig.clone(),
        };
        let body = |verifier: serde_json::Value| {
            serde_json::to_vec(&serde_json::json!({
                "apiVersion": "0.0.2",
                "kind": "hashedrekord",
                "spec": {"hashedRekordV002": {
                    "data": {"algorithm": "SHA2_256", "digest": b64(&digest)},
                    "signature": {"content": b64(&sig), "verifier": verifier}
                }}
            }))
            .unwrap()
        };
        let cert_verifier = serde_json::json!({
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "x509Certificate": {"rawBytes": b64(&leaf)}
        });
        let key_verifier = serde_json::json!({
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "publicKey": {"rawBytes": b64(key.spki_der())}
        });
        check_body_v002(
            &body(cert_verifier.clone()),
            &content,
            &digest,
            Some(&leaf),
            &key,
        )
        .unwrap();
        check_body_v002(&body(key_verifier.clone()), &content, &digest, None, &key).unwrap();

        let mismatch = |r: Result<(), TlogError>| match r {
            Err(TlogError::BodyMismatch { field }) => field,
            other => panic!("{other:?}"),
        };
        // Another digest, signature, certificate, key or key details.
        assert_eq!(
            mismatch(check_body_v002(
                &body(cert_verifier.clone()),
                &content,
                &[0x22; 32],
                Some(&leaf),
                &key
            )),
            "spec.hashedRekordV002.data.digest"
        );
        let other_sig = Content::Message {
            digest: Some(digest),
            signature: vec![0x30, 0x00],
        };
        assert_eq!(
            mismatch(check_body_v002(
                &body(cert_verifier.clone()),
                &other_sig,
                &digest,
                Some(&leaf),
                &key
            )),
            "spec.hashedRekordV002.signature.content"
        );
        assert_eq!(
            mismatch(check_body_v002(
                &body(cert_verifier.clone()),
                &content,
                &digest,
                Some(&[0x30, 0x00]),
                &key
            )),
            "spec.hashedRekordV002.signature.verifier"
        );
        // A certificate body does not satisfy keyed mode, nor a key body certificate mode.
        assert!(check_body_v002(&body(cert_verifier), &content, &digest, None, &key).is_err());
        assert!(
            check_body_v002(&body(key_verifier), &content, &digest, Some(&leaf), &key).is_err()
        );
        let p384 = serde_json::json!({
            "keyDetails": "PKIX_ECDSA_P384_SHA_384",
            "x509Certificate": {"rawBytes": b64(&leaf)}
        });
        assert_eq!(
            mismatch(check_body_v002(
                &body(p384),
                &content,
                &digest,
                Some(&leaf),
                &key
            )),
            "spec.hashedRekordV002.signature.verifier.keyDetails"
        );
        // Unknown fields, a dsseV002 spec and another version are not hashedrekord 0.0.2.
        let mut v: serde_json::Value = serde_json::from_slice(&body(serde_json::json!({
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "x509Certificate": {"rawBytes": b64(&leaf)}
        })))
        .unwrap();
        v["spec"]["hashedRekordV002"]["extra"] = serde_json::json!(1);
        let extra = serde_json::to_vec(&v).unwrap();
        assert!(matches!(
            check_body_v002(&extra, &content, &digest, Some(&leaf), &key),
            Err(TlogError::Body { .. })
        ));
        let dsse = serde_json::to_vec(&serde_json::json!({
            "apiVersion": "0.0.2", "kind": "dsse", "spec": {"dsseV002": {}}
        }))
        .unwrap();
        assert!(matches!(
            check_body_v002(&dsse, &content, &digest, Some(&leaf), &key),
            Err(TlogError::Body { .. })
        ));
        v["spec"]["hashedRekordV002"]
            .as_object_mut()
            .unwrap()
            .remove("extra");
        v["apiVersion"] = serde_json::json!("0.0.1");
        assert!(matches!(
            check_body_v002(
                &serde_json::to_vec(&v).unwrap(),
                &content,
                &digest,
                Some(&leaf),
                &key
            ),
            Err(TlogError::Body { .. })
        ));
    }
}
