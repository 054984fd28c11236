//! Trust material: the CAs, transparency logs and CT logs a bundle may rely on.
//!
//! Built once from a `trusted_root.json` ([`TrustMaterial::from_trusted_root`], spec:
//! sigstore/protobuf-specs `sigstore_trustroot.proto`) or piece by piece. Construction does the
//! work that does not depend on a bundle, so that verifying a bundle only checks the leaf by
//! its issuing CA:
//!
//! * every CA chain (`intermediate ... root`, leaf-to-root order) is parsed and each link's
//!   signature is verified here, once; the root must be self-signed. A chain that does not
//!   verify is an error, not a silently skipped CA;
//! * the issuing certificate's key is parsed once and kept with its subject, key identifier,
//!   SPKI hash (the RFC 6962 `issuer_key_hash` of SCTs) and the intersection of the chain's
//!   validity periods;
//! * log keys are parsed once and indexed by log ID (SHA-256 of the SPKI DER as given by the
//!   trust root's `logId.keyId`), with their `validFor` windows;
//! * every `validFor` (logs, CT logs, CAs, TSAs) is the closed interval `[start, end]` of
//!   protobuf-specs' `TimeRange`, kept to the nanosecond: a time equal to `end` is inside. A
//!   `validFor` without a start, or ending before its start, makes the trust root invalid
//!   ([`TrustError::ValidFor`], naming the entry); only a log key may omit `validFor`
//!   altogether (the field is optional there), which leaves it unbounded.
//!
//! Log keys in the deprecated `PKCS1_*` formats (an old staging CT log) cannot be used and are
//! listed by [`TrustMaterial::skipped`] instead of failing the whole trust root.
//!
//! An optional [`WitnessPolicy`] asks for k-of-n witness cosignatures on checkpoints.
//!
//! RFC 3161 timestamp authorities ([`TimestampAuthority`]) are prepared the same way: the
//! chain `[TSA leaf, intermediates..., root]` is verified link by link once, the leaf must
//! carry a critical ExtendedKeyUsage of exactly `id-kp-timeStamping` (RFC 3161 §2.3), and the
//! leaf's issuer, serial number, key identifier and key are kept for matching `SignerInfo`s.
//! A timestamp authority that fails these checks is listed by [`TrustMaterial::skipped`]
//! (bundles timestamped by it then fail with an unknown-authority error).
//!
//! Not here: fetching or TUF-updating the trusted root (the CLI's job), name constraints or
//! policy OIDs on CA certificates.

use std::collections::HashMap;

use signet_proto::keys::{HashAlgorithm, KeyAlgorithm, PublicKey, RsaPadding};
use signet_proto::note::{NoteVerifier, RekorNoteVerifier, SignatureInfo, Verifiers};
use signet_proto::trust::TrustedRoot;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{NotValidAt, TrustError};

/// A validity window, closed at both ends (`[start, end]`, as protobuf-specs defines
/// `TimeRange`); a `None` bound is open. Bounds are Unix seconds; a bound taken from a
/// trusted root's `validFor` also keeps its fraction of a second, so a time equal to a bound
/// is inside and a time a fraction of a second past `end` is outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// Second of the first valid instant, inclusive.
    pub start: Option<i64>,
    /// Second of the last valid instant, inclusive.
    pub end: Option<i64>,
    /// Nanoseconds of the first valid instant within its second.
    start_nanos: u32,
    /// Nanoseconds of the last valid instant within its second.
    end_nanos: u32,
}

impl Window {
    /// A window from optional bounds in whole seconds.
    #[must_use]
    pub const fn new(start: Option<i64>, end: Option<i64>) -> Self {
        Self {
            start,
            end,
            start_nanos: 0,
            end_nanos: 0,
        }
    }

    /// The window of a trusted root's `validFor`, to the nanosecond. A missing `start` is an
    /// open bound here; [`TrustMaterial::from_trusted_root`] refuses it before calling this.
    #[must_use]
    pub fn from_time_range(range: &signet_proto::bundle::TimeRange) -> Self {
        let bound = |t: Option<&signet_proto::bundle::Timestamp>| {
            t.map_or((None, 0), |t| (Some(t.unix_seconds()), t.nanos()))
        };
        let (start, start_nanos) = bound(range.start.as_ref());
        let (end, end_nanos) = bound(range.end.as_ref());
        Self {
            start,
            end,
            start_nanos,
            end_nanos,
        }
    }

    /// Whether the whole second `t` lies in the window (bounds inclusive).
    #[must_use]
    pub fn contains(&self, t: i64) -> bool {
        self.contains_at(t, 0)
    }

    /// Whether the instant `secs` + `nanos` (nanoseconds, below 10^9) lies in the window
    /// (bounds inclusive).
    #[must_use]
    pub fn contains_at(&self, secs: i64, nanos: u32) -> bool {
        self.start
            .is_none_or(|s| (secs, nanos) >= (s, self.start_nanos))
            && self
                .end
                .is_none_or(|e| (secs, nanos) <= (e, self.end_nanos))
    }

    fn intersect(self, other: Window) -> Window {
        let start = match (self.start, other.start) {
            (Some(a), Some(b)) => Some((a, self.start_nanos).max((b, other.start_nanos))),
            (Some(a), None) => Some((a, self.start_nanos)),
            (None, Some(b)) => Some((b, other.start_nanos)),
            (None, None) => None,
        };
        let end = match (self.end, other.end) {
            (Some(a), Some(b)) => Some((a, self.end_nanos).min((b, other.end_nanos))),
            (Some(a), None) => Some((a, self.end_nanos)),
            (None, Some(b)) => Some((b, other.end_nanos)),
            (None, None) => None,
        };
        Window {
            start: start.map(|s| s.0),
            end: end.map(|e| e.0),
            start_nanos: start.map_or(0, |s| s.1),
            end_nanos: end.map_or(0, |e| e.1),
        }
    }

    /// The start for messages: Unix seconds (with the fraction, if any), or "open".
    pub(crate) fn describe_start(&self) -> String {
        describe_bound(self.start, self.start_nanos)
    }

    /// The end for messages: Unix seconds (with the fraction, if any), or "open".
    pub(crate) fn describe_end(&self) -> String {
        describe_bound(self.end, self.end_nanos)
    }
}

/// An instant as RFC 3339 UTC text (with the fraction of a second, if any), for messages.
pub(crate) fn rfc3339(secs: i64, nanos: u32) -> String {
    let Ok(t) = signet_proto::bundle::Timestamp::from_unix(secs) else {
        return format!("{secs} (Unix seconds)");
    };
    let text = t.as_str();
    if nanos == 0 {
        return text.to_owned();
    }
    let frac = format!("{nanos:09}");
    format!(
        "{}.{}Z",
        text.trim_end_matches('Z'),
        frac.trim_end_matches('0')
    )
}

/// A trust-root entry with a `validFor` window: a CA, a transparency log, a CT log or a TSA.
pub(crate) trait Windowed {
    /// The entry's `validFor`.
    fn valid_for(&self) -> &Window;
    /// The entry, for messages.
    fn name(&self) -> String;
}

impl Windowed for CertificateAuthority {
    fn valid_for(&self) -> &Window {
        &self.valid_for
    }
    fn name(&self) -> String {
        format!("{} ({})", self.subject, self.uri)
    }
}

impl Windowed for TimestampAuthority {
    fn valid_for(&self) -> &Window {
        &self.valid_for
    }
    fn name(&self) -> String {
        format!("{} ({})", self.subject, self.uri)
    }
}

impl Windowed for LogKey {
    fn valid_for(&self) -> &Window {
        &self.valid_for
    }
    fn name(&self) -> String {
        self.base_url.clone()
    }
}

/// The one rule selecting trust material by time, for CAs, transparency logs, CT logs and
/// TSAs alike (as sigstore-go): of the `candidates` (the entries that could have produced the
/// signature), those whose `validFor` contains the verified time `t` (seconds, nanoseconds),
/// closed at both ends, a missing end being open. When windows overlap (a rotation), every
/// matching entry is returned and any of them may verify.
///
/// # Errors
/// [`NotValidAt`] naming `kind`, the time and every candidate's window when none matches.
pub(crate) fn valid_at<'a, T: Windowed + 'a>(
    kind: &'static str,
    candidates: impl IntoIterator<Item = &'a T>,
    t: (i64, u32),
) -> Result<Vec<&'a T>, NotValidAt> {
    let candidates: Vec<&'a T> = candidates.into_iter().collect();
    let valid: Vec<&'a T> = candidates
        .iter()
        .copied()
        .filter(|c| c.valid_for().contains_at(t.0, t.1))
        .collect();
    if !valid.is_empty() {
        return Ok(valid);
    }
    let bound =
        |b: Option<i64>, nanos: u32| b.map_or_else(|| "open".to_owned(), |s| rfc3339(s, nanos));
    let windows = candidates
        .iter()
        .map(|c| {
            let w = c.valid_for();
            format!(
                "{} [{}, {}]",
                c.name(),
                bound(w.start, w.start_nanos),
                bound(w.end, w.end_nanos)
            )
        })
        .collect::<Vec<_>>();
    Err(NotValidAt {
        kind,
        time: rfc3339(t.0, t.1),
        windows: if windows.is_empty() {
            "none".to_owned()
        } else {
            windows.join("; ")
        },
    })
}

fn describe_bound(secs: Option<i64>, nanos: u32) -> String {
    match secs {
        None => "open".to_owned(),
        Some(s) if nanos == 0 => s.to_string(),
        Some(s) => {
            let frac = format!("{nanos:09}");
            format!("{s}.{}", frac.trim_end_matches('0'))
        }
    }
}

/// A certificate authority whose chain was verified when the trust material was built.
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    /// Position in the trusted root's `certificateAuthorities`.
    pub index: usize,
    /// The `uri` of the CA in the trusted root.
    pub uri: String,
    /// DER of the issuing certificate's subject name (compared with a leaf's issuer).
    pub(crate) subject_der: Vec<u8>,
    /// The issuing certificate's subject, for messages.
    pub subject: String,
    /// The issuing certificate's subject key identifier, when present.
    pub(crate) subject_key_id: Option<Vec<u8>>,
    /// The issuing certificate's public key.
    pub key: PublicKey,
    /// SHA-256 of the issuing certificate's SPKI DER (RFC 6962 `issuer_key_hash`).
    pub issuer_key_hash: [u8; 32],
    /// The intersection of the validity periods of every certificate in the chain.
    pub chain_validity: Window,
    /// The trusted root's `validFor` for this CA.
    pub valid_for: Window,
    /// Every certificate of the chain, issuing certificate first (for CRLs).
    pub(crate) chain: Vec<crate::crl::ChainCert>,
}

/// An RFC 3161 timestamp authority whose chain was verified when the trust material was built.
#[derive(Debug, Clone)]
pub struct TimestampAuthority {
    /// Position in the trusted root's `timestampAuthorities`.
    pub index: usize,
    /// The `uri` of the TSA in the trusted root.
    pub uri: String,
    /// The TSA leaf certificate's subject, for messages.
    pub subject: String,
    /// DER of the TSA leaf certificate (compared with a certificate embedded in a token).
    pub(crate) leaf_der: Vec<u8>,
    /// DER of the leaf's issuer name (matched with `SignerInfo.sid`).
    pub(crate) leaf_issuer_der: Vec<u8>,
    /// Content octets of the leaf's serial number INTEGER (matched with `SignerInfo.sid`).
    pub(crate) leaf_serial: Vec<u8>,
    /// The leaf's subject key identifier, when present.
    pub(crate) leaf_key_id: Option<Vec<u8>>,
    /// The TSA leaf's public key.
    pub key: PublicKey,
    /// The intersection of the validity periods of every certificate in the chain.
    pub chain_validity: Window,
    /// The trusted root's `validFor` for this TSA.
    pub valid_for: Window,
}

/// A log key (transparency log or CT log).
#[derive(Debug, Clone)]
pub struct LogKey {
    /// The log ID: SHA-256 of the key's SPKI DER (as the trusted root's `logId.keyId`).
    pub log_id: [u8; 32],
    /// The log's base URL (`baseUrl`), e.g. `https://rekor.sigstore.dev`.
    pub base_url: String,
    /// The log's public key.
    pub key: PublicKey,
    /// The key's `validFor`.
    pub valid_for: Window,
    /// Note verifiers for the log's checkpoints (a Rekor-style verifier named after the host
    /// of `base_url`), or why none could be built.
    pub(crate) note_verifiers: Result<Verifiers, String>,
}

impl LogKey {
    fn new(log_id: [u8; 32], base_url: &str, key: PublicKey, valid_for: Window) -> Self {
        let mut log = LogKey {
            log_id,
            base_url: base_url.to_owned(),
            key,
            valid_for,
            note_verifiers: Err(String::new()),
        };
        log.note_verifiers = RekorNoteVerifier::new(log.host(), log.key.clone())
            .map(|v| {
                let hint = u32::from_be_bytes([log_id[0], log_id[1], log_id[2], log_id[3]]);
                let verifiers = Verifiers::new();
                if hint == v.key_hash() {
                    verifiers.with(v)
                } else {
                    // Rekor v2 logs sign checkpoints as C2SP signed notes whose key hint is
                    // the start of the trust root's log ID (for Ed25519, the C2SP key ID), not
                    // of SHA-256(SPKI); sigstore-python matches the hint against the log ID.
                    verifiers.with(v).with(LogIdNoteVerifier {
                        name: log.host().to_owned(),
                        key_hash: hint,
                        key: log.key.clone(),
                    })
                }
            })
            .map_err(|e| e.to_string());
        log
    }

    /// The host (and port) of `base_url`, which Rekor uses as the checkpoint signer name.
    #[must_use]
    pub fn host(&self) -> &str {
        let rest = self
            .base_url
            .split_once("://")
            .map_or(self.base_url.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }
}

/// A checkpoint verifier whose key hint is the first four bytes of the trust root's log ID
/// (sigstore-python's rule) and whose signature is the log key's signature over the note text
/// (Ed25519, or ECDSA with the curve's hash).
#[derive(Debug)]
struct LogIdNoteVerifier {
    name: String,
    key_hash: u32,
    key: PublicKey,
}

impl NoteVerifier for LogIdNoteVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_hash(&self) -> u32 {
        self.key_hash
    }
    fn public_key(&self) -> &PublicKey {
        &self.key
    }
    fn verify(
        &self,
        msg: &[u8],
        signature: &[u8],
    ) -> Result<SignatureInfo, signet_proto::keys::SignatureError> {
        self.key.verify(msg, signature)?;
        Ok(SignatureInfo::default())
    }
}

/// k-of-n witness cosignatures required on every checkpoint (C2SP tlog-cosignature).
#[derive(Debug, Clone)]
pub struct WitnessPolicy {
    /// How many distinct witnesses must have cosigned.
    pub threshold: usize,
    /// The witnesses' note verifiers (e.g. `proto::note::CosignatureV1Verifier`).
    pub witnesses: Verifiers,
}

/// Everything a bundle may be verified against, prepared once.
#[derive(Debug, Default)]
pub struct TrustMaterial {
    pub(crate) cas: Vec<CertificateAuthority>,
    /// Log keys by log ID; one ID may be listed several times with different `validFor`
    /// windows (a key kept across shards), in trusted-root order.
    pub(crate) tlogs: HashMap<[u8; 32], Vec<LogKey>>,
    pub(crate) ctlogs: HashMap<[u8; 32], Vec<LogKey>>,
    pub(crate) tsas: Vec<TimestampAuthority>,
    pub(crate) witnesses: Option<WitnessPolicy>,
    pub(crate) skipped: Vec<String>,
    /// Verified CRLs of the CAs (`crate::revocation`).
    pub(crate) crls: Vec<crate::crl::VerifiedCrl>,
}

/// The window of a trust-root entry's `validFor`. `validFor` is the closed interval
/// `[start, end]` (protobuf-specs `TimeRange`; `end` may be absent, `start` may not): a
/// window without a start, or one that ends before it starts, makes the trust root invalid
/// rather than "valid since forever". `None` (no `validFor` at all) is allowed only where the
/// spec makes the field optional (a log's `publicKey.validFor`) and is unbounded.
fn valid_for(
    range: Option<&signet_proto::bundle::TimeRange>,
    entry: impl FnOnce() -> String,
) -> Result<Window, TrustError> {
    let Some(range) = range else {
        return Ok(Window::default());
    };
    let Some(start) = &range.start else {
        return Err(TrustError::ValidFor {
            entry: entry(),
            reason: "validFor has no start (the start of a validity window is required; a missing one is not \"since forever\")".to_owned(),
        });
    };
    if let Some(end) = &range.end {
        if end < start {
            return Err(TrustError::ValidFor {
                entry: entry(),
                reason: format!("validFor ends ({end}) before it starts ({start})"),
            });
        }
    }
    Ok(Window::from_time_range(range))
}

impl TrustMaterial {
    /// An empty trust material (add CAs and logs with the `add_*` methods).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds trust material from a parsed `trusted_root.json`.
    ///
    /// # Errors
    /// [`TrustError`] if a CA chain does not parse or verify, or a log key does not parse.
    /// A timestamp authority that cannot be used is listed by [`TrustMaterial::skipped`].
    pub fn from_trusted_root(root: &TrustedRoot) -> Result<Self, TrustError> {
        let mut tm = Self::new();
        for (i, ca) in root.certificate_authorities.iter().enumerate() {
            let ders: Vec<&[u8]> = ca
                .cert_chain
                .certificates
                .iter()
                .map(|c| c.raw_bytes.as_slice())
                .collect();
            let window = valid_for(Some(&ca.valid_for), || {
                format!("certificate authority {i} ({})", ca.uri)
            })?;
            tm.add_ca(&ders, window, &ca.uri)?;
        }
        for (i, log) in root.tlogs.iter().enumerate() {
            if let Some((log_id, key, valid_for)) = tm.log_parts(log, i, "transparency")? {
                tm.add_tlog(log_id, &log.base_url, key, valid_for);
            }
        }
        for (i, log) in root.ctlogs.iter().enumerate() {
            if let Some((log_id, key, valid_for)) = tm.log_parts(log, i, "CT")? {
                tm.add_ctlog(log_id, &log.base_url, key, valid_for);
            }
        }
        for (i, tsa) in root.timestamp_authorities.iter().enumerate() {
            let ders: Vec<&[u8]> = tsa
                .cert_chain
                .certificates
                .iter()
                .map(|c| c.raw_bytes.as_slice())
                .collect();
            // A malformed validFor makes the whole trust root invalid; an unusable chain only
            // makes this authority unusable.
            let window = valid_for(Some(&tsa.valid_for), || {
                format!("timestamp authority {i} ({})", tsa.uri)
            })?;
            if let Err(e) = tm.add_timestamp_authority(&ders, window, &tsa.uri) {
                tm.skipped
                    .push(format!("timestamp authority {i} ({}): {e}", tsa.uri));
            }
        }
        Ok(tm)
    }

    /// Adds a CA from its chain in leaf-to-root order (`[intermediate..., root]`). Every link
    /// and the root's self-signature are verified now.
    ///
    /// # Errors
    /// [`TrustError`] if the chain is empty, a certificate does not parse or a signature
    /// does not verify.
    pub fn add_ca(
        &mut self,
        chain: &[&[u8]],
        valid_for: Window,
        uri: &str,
    ) -> Result<(), TrustError> {
        let ca = self.cas.len();
        if chain.is_empty() {
            return Err(TrustError::EmptyChain { ca });
        }
        let (parsed, chain_validity) = link_chain(chain, ChainKind::Ca(ca))?;
        let (issuing, key) = &parsed[0];
        let subject_key_id = issuing.tbs_certificate.iter_extensions().find_map(|ext| {
            match ext.parsed_extension() {
                x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(kid) => {
                    Some(kid.0.to_vec())
                }
                _ => None,
            }
        });
        let issuer_key_hash =
            signet_proto::sct::issuer_key_hash(issuing.tbs_certificate.subject_pki.raw);
        self.cas.push(CertificateAuthority {
            index: ca,
            uri: uri.to_owned(),
            subject_der: issuing.tbs_certificate.subject.as_raw().to_vec(),
            subject: issuing.tbs_certificate.subject.to_string(),
            subject_key_id,
            key: key.clone(),
            issuer_key_hash,
            chain_validity,
            valid_for,
            chain: parsed
                .iter()
                .map(|(c, _)| crate::crl::ChainCert::of(c))
                .collect(),
        });
        Ok(())
    }

    /// Adds an RFC 3161 timestamp authority from its chain `[TSA leaf, intermediates...,
    /// root]`. Every link and the root's self-signature are verified now; the leaf must carry
    /// a critical ExtendedKeyUsage of exactly `id-kp-timeStamping` and the other certificates
    /// must be CAs.
    ///
    /// # Errors
    /// [`TrustError`] if the chain has fewer than two certificates, a certificate does not
    /// parse, a signature does not verify or the leaf is not a timestamping certificate.
    pub fn add_timestamp_authority(
        &mut self,
        chain: &[&[u8]],
        valid_for: Window,
        uri: &str,
    ) -> Result<(), TrustError> {
        let ca = self.tsas.len();
        if chain.len() < 2 {
            return Err(TrustError::Invalid(format!(
                "timestamp authority {ca}: the chain needs the TSA certificate and a root, found {} certificate(s)",
                chain.len()
            )));
        }
        let (parsed, chain_validity) = link_chain(chain, ChainKind::Tsa(ca))?;
        let parse_err = |index: usize, reason: String| TrustError::TsaChain {
            tsa: ca,
            index,
            reason,
        };
        let (leaf, key) = &parsed[0];
        let mut time_stamping = false;
        let mut leaf_key_id = None;
        for ext in leaf.tbs_certificate.iter_extensions() {
            match ext.parsed_extension() {
                x509_parser::extensions::ParsedExtension::ExtendedKeyUsage(eku) => {
                    time_stamping = ext.critical
                        && eku.time_stamping
                        && !eku.any
                        && !eku.server_auth
                        && !eku.client_auth
                        && !eku.code_signing
                        && !eku.email_protection
                        && !eku.ocsp_signing
                        && eku.other.is_empty();
                }
                x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(kid) => {
                    leaf_key_id = Some(kid.0.to_vec());
                }
                _ => {}
            }
        }
        if !time_stamping {
            return Err(parse_err(
                0,
                "the TSA certificate needs a critical ExtendedKeyUsage of exactly timeStamping"
                    .to_owned(),
            ));
        }
        self.tsas.push(TimestampAuthority {
            index: ca,
            uri: uri.to_owned(),
            subject: leaf.tbs_certificate.subject.to_string(),
            leaf_der: chain[0].to_vec(),
            leaf_issuer_der: leaf.tbs_certificate.issuer.as_raw().to_vec(),
            leaf_serial: leaf.tbs_certificate.raw_serial().to_vec(),
            leaf_key_id,
            key: key.clone(),
            chain_validity,
            valid_for,
        });
        Ok(())
    }

    /// The timestamp authorities, in trusted-root order (skipped ones left out).
    #[must_use]
    pub fn timestamp_authorities(&self) -> &[TimestampAuthority] {
        &self.tsas
    }

    /// Adds a transparency log key.
    pub fn add_tlog(
        &mut self,
        log_id: [u8; 32],
        base_url: &str,
        key: PublicKey,
        valid_for: Window,
    ) {
        self.tlogs
            .entry(log_id)
            .or_default()
            .push(LogKey::new(log_id, base_url, key, valid_for));
    }

    /// Adds a CT log key.
    pub fn add_ctlog(
        &mut self,
        log_id: [u8; 32],
        base_url: &str,
        key: PublicKey,
        valid_for: Window,
    ) {
        self.ctlogs
            .entry(log_id)
            .or_default()
            .push(LogKey::new(log_id, base_url, key, valid_for));
    }

    /// Requires k-of-n witness cosignatures on checkpoints (issue 7).
    pub fn set_witness_policy(&mut self, policy: WitnessPolicy) {
        self.witnesses = Some(policy);
    }

    /// The CAs, in trusted-root order.
    #[must_use]
    pub fn certificate_authorities(&self) -> &[CertificateAuthority] {
        &self.cas
    }

    /// The first transparency log listed with this log ID (see [`Self::tlogs_with_id`]).
    #[must_use]
    pub fn tlog(&self, log_id: &[u8]) -> Option<&LogKey> {
        self.tlogs_with_id(log_id).first()
    }

    /// Every transparency log listed with this log ID, in trusted-root order (one key may be
    /// listed with several `validFor` windows); verification picks among them by time.
    #[must_use]
    pub fn tlogs_with_id(&self, log_id: &[u8]) -> &[LogKey] {
        <[u8; 32]>::try_from(log_id)
            .ok()
            .and_then(|id| self.tlogs.get(&id))
            .map_or(&[], Vec::as_slice)
    }

    /// The first CT log listed with this log ID (see [`Self::ctlogs_with_id`]).
    #[must_use]
    pub fn ctlog(&self, log_id: &[u8]) -> Option<&LogKey> {
        self.ctlogs_with_id(log_id).first()
    }

    /// Every CT log listed with this log ID, in trusted-root order; SCTs pick among them by
    /// time.
    #[must_use]
    pub fn ctlogs_with_id(&self, log_id: &[u8]) -> &[LogKey] {
        <[u8; 32]>::try_from(log_id)
            .ok()
            .and_then(|id| self.ctlogs.get(&id))
            .map_or(&[], Vec::as_slice)
    }

    /// CAs whose issuing certificate could have issued a certificate with this issuer name and
    /// authority key identifier.
    pub(crate) fn issuers<'a>(
        &'a self,
        issuer_der: &'a [u8],
        authority_key_id: Option<&'a [u8]>,
    ) -> impl Iterator<Item = &'a CertificateAuthority> + 'a {
        self.cas.iter().filter(move |ca| {
            ca.subject_der == issuer_der
                && match (authority_key_id, ca.subject_key_id.as_deref()) {
                    (Some(a), Some(s)) => a == s,
                    _ => true,
                }
        })
    }
}

type LogParts = ([u8; 32], PublicKey, Window);

impl TrustMaterial {
    /// The parts of a log instance, or `None` (recorded in `skipped`) for keys that are not
    /// DER SubjectPublicKeyInfo (the deprecated `PKCS1_*` key details of old CT logs).
    fn log_parts(
        &mut self,
        log: &signet_proto::trust::TransparencyLogInstance,
        index: usize,
        kind: &'static str,
    ) -> Result<Option<LogParts>, TrustError> {
        use signet_proto::bundle::PublicKeyDetails as D;
        // Checked first: a malformed window invalidates the trust root even for a key this
        // verifier cannot use.
        let window = valid_for(log.public_key.valid_for.as_ref(), || {
            format!("{kind} log {index} ({})", log.base_url)
        })?;
        if matches!(
            log.public_key.key_details,
            D::Pkcs1RsaPkcs1v5 | D::Pkcs1RsaPss
        ) {
            self.skipped.push(format!(
                "{kind} log {index} ({}): {:?} keys are not SubjectPublicKeyInfo",
                log.base_url, log.public_key.key_details
            ));
            return Ok(None);
        }
        log_parts(log, index, kind, window).map(Some)
    }

    /// Trust root entries that were skipped because this verifier cannot use them.
    #[must_use]
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }
}

fn log_parts(
    log: &signet_proto::trust::TransparencyLogInstance,
    index: usize,
    kind: &'static str,
    window: Window,
) -> Result<LogParts, TrustError> {
    let raw = log
        .public_key
        .raw_bytes
        .as_ref()
        .ok_or_else(|| TrustError::LogKey {
            kind,
            index,
            reason: "publicKey.rawBytes is absent".to_owned(),
        })?;
    let key = PublicKey::from_spki_der(raw.as_slice()).map_err(|e| TrustError::LogKey {
        kind,
        index,
        reason: e.to_string(),
    })?;
    let log_id =
        <[u8; 32]>::try_from(log.log_id.key_id.as_slice()).map_err(|_| TrustError::LogKey {
            kind,
            index,
            reason: format!(
                "logId.keyId is {} bytes, expected 32",
                log.log_id.key_id.len()
            ),
        })?;
    Ok((log_id, key, window))
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Verifies `cert`'s signature with `issuer_key`, using the certificate's signature algorithm
/// (ECDSA with SHA-256/384/512, Ed25519 or RSA PKCS#1 v1.5 with SHA-256).
pub(crate) fn verify_certificate_signature(
    issuer_key: &PublicKey,
    cert: &X509Certificate<'_>,
) -> Result<(), String> {
    use x509_parser::oid_registry::{
        OID_PKCS1_SHA256WITHRSA, OID_SIG_ECDSA_WITH_SHA256, OID_SIG_ECDSA_WITH_SHA384,
        OID_SIG_ECDSA_WITH_SHA512, OID_SIG_ED25519,
    };
    let tbs = cert.tbs_certificate.as_ref();
    let sig = cert.signature_value.data.as_ref();
    let oid = &cert.signature_algorithm.algorithm;
    let alg = issuer_key.algorithm();
    let not_allowed = || {
        format!(
            "signature algorithm {} is not allowed with a {alg} key",
            oid.to_id_string()
        )
    };
    let hash = if *oid == OID_SIG_ECDSA_WITH_SHA256 {
        HashAlgorithm::Sha256
    } else if *oid == OID_SIG_ECDSA_WITH_SHA384 {
        HashAlgorithm::Sha384
    } else if *oid == OID_SIG_ECDSA_WITH_SHA512 {
        HashAlgorithm::Sha512
    } else if *oid == OID_SIG_ED25519 && alg == KeyAlgorithm::Ed25519 {
        return issuer_key.verify(tbs, sig).map_err(|e| e.to_string());
    } else if *oid == OID_PKCS1_SHA256WITHRSA && matches!(alg, KeyAlgorithm::Rsa { .. }) {
        return issuer_key
            .verify_rsa(RsaPadding::Pkcs1Sha256, tbs, sig)
            .map_err(|e| e.to_string());
    } else {
        return Err(not_allowed());
    };
    if !matches!(alg, KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384) {
        return Err(not_allowed());
    }
    if issuer_key.default_hash() == Some(hash) {
        issuer_key.verify(tbs, sig).map_err(|e| e.to_string())
    } else {
        issuer_key
            .verify_prehashed_with(hash, &hash.hash(tbs), sig)
            .map_err(|e| e.to_string())
    }
}

/// Which trust-root chain [`link_chain`] reads: it decides the error variants and which
/// positions must be CA certificates.
#[derive(Clone, Copy)]
enum ChainKind {
    /// A certificate authority, `[intermediate..., root]`: every certificate is a CA.
    /// Parse problems are [`TrustError::CaParse`], broken links [`TrustError::CaChain`].
    Ca(usize),
    /// A timestamp authority, `[TSA leaf, intermediates..., root]`: every certificate but the
    /// leaf is a CA. Every problem is [`TrustError::TsaChain`].
    Tsa(usize),
}

impl ChainKind {
    /// Whether the certificate at `index` must have basicConstraints `cA` set.
    fn must_be_ca(self, index: usize) -> bool {
        match self {
            ChainKind::Ca(_) => true,
            ChainKind::Tsa(_) => index > 0,
        }
    }

    fn parse_error(self, index: usize, reason: String) -> TrustError {
        match self {
            ChainKind::Ca(ca) => TrustError::CaParse { ca, index, reason },
            ChainKind::Tsa(tsa) => TrustError::TsaChain { tsa, index, reason },
        }
    }

    fn link_error(self, index: usize, reason: String) -> TrustError {
        match self {
            ChainKind::Ca(ca) => TrustError::CaChain { ca, index, reason },
            ChainKind::Tsa(tsa) => TrustError::TsaChain { tsa, index, reason },
        }
    }
}

/// Parses a trust-root chain in leaf-to-root order and verifies every link: each certificate
/// names the next one's subject as its issuer and is signed by its key, and the last one is
/// self-signed. Returns the certificates with their keys and the intersection of their
/// validity periods.
fn link_chain<'a>(
    chain: &[&'a [u8]],
    kind: ChainKind,
) -> Result<(Vec<(X509Certificate<'a>, PublicKey)>, Window), TrustError> {
    let mut parsed = Vec::with_capacity(chain.len());
    for (index, der) in chain.iter().enumerate() {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| kind.parse_error(index, e.to_string()))?;
        if !rest.is_empty() {
            return Err(kind.parse_error(index, format!("{} trailing bytes", rest.len())));
        }
        // An extension may appear only once (RFC 5280 section 4.2).
        cert.tbs_certificate
            .extensions_map()
            .map_err(|e| kind.parse_error(index, format!("extensions: {e}")))?;
        if kind.must_be_ca(index) && !cert.tbs_certificate.is_ca() {
            return Err(kind.parse_error(
                index,
                "not a CA certificate (basicConstraints cA is not true)".to_owned(),
            ));
        }
        let key = PublicKey::from_spki_der(cert.tbs_certificate.subject_pki.raw)
            .map_err(|e| kind.parse_error(index, format!("public key: {e}")))?;
        parsed.push((cert, key));
    }
    let mut validity = Window::default();
    for index in 0..parsed.len() {
        let (cert, _) = &parsed[index];
        // The root (last) must be self-signed; every other certificate is signed by the next.
        let (issuer_cert, issuer_key) = parsed.get(index + 1).unwrap_or(&parsed[index]);
        if cert.tbs_certificate.issuer.as_raw() != issuer_cert.tbs_certificate.subject.as_raw() {
            return Err(kind.link_error(
                index,
                format!(
                    "issuer {} is not the next certificate's subject {}",
                    cert.tbs_certificate.issuer, issuer_cert.tbs_certificate.subject
                ),
            ));
        }
        verify_certificate_signature(issuer_key, cert).map_err(|r| kind.link_error(index, r))?;
        let v = &cert.tbs_certificate.validity;
        validity = validity.intersect(Window::new(
            Some(v.not_before.timestamp()),
            Some(v.not_after.timestamp()),
        ));
    }
    Ok((parsed, validity))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{valid_for, Window};
    use signet_proto::bundle::{TimeRange, Timestamp};

    fn range(start: Option<&str>, end: Option<&str>) -> TimeRange {
        TimeRange {
            start: start.map(|s| Timestamp::parse(s).unwrap()),
            end: end.map(|s| Timestamp::parse(s).unwrap()),
        }
    }

    const T: i64 = 1_689_177_396; // 2023-07-12T15:56:36Z

    /// `[start, end]` is closed: both bounds are inside, the instants just outside them are
    /// not, to the nanosecond.
    #[test]
    fn window_is_closed_at_the_exact_bounds() {
        let w = Window::from_time_range(&range(
            Some("2023-07-12T15:56:36Z"),
            Some("2023-07-12T15:56:36Z"),
        ));
        assert!(w.contains(T));
        assert!(w.contains_at(T, 0));
        assert!(!w.contains_at(T, 1));
        assert!(!w.contains(T - 1));
        assert!(!w.contains_at(T - 1, 999_999_999));
        assert!(!w.contains(T + 1));

        let w = Window::from_time_range(&range(
            Some("2023-07-12T15:56:35.5Z"),
            Some("2023-07-12T15:56:36.25Z"),
        ));
        assert!(!w.contains_at(T - 1, 499_999_999));
        assert!(w.contains_at(T - 1, 500_000_000));
        assert!(w.contains(T));
        assert!(w.contains_at(T, 250_000_000));
        assert!(!w.contains_at(T, 250_000_001));
        assert_eq!(w.describe_start(), format!("{}.5", T - 1));
        assert_eq!(w.describe_end(), format!("{T}.25"));

        // Open end; whole-second bounds.
        let w = Window::from_time_range(&range(Some("2023-07-12T15:56:36Z"), None));
        assert!(w.contains(T) && w.contains(i64::MAX) && !w.contains_at(T - 1, 999_999_999));
        assert_eq!(w.describe_end(), "open");
        let w = Window::new(Some(T), Some(T));
        assert!(w.contains(T) && !w.contains(T - 1) && !w.contains(T + 1));
    }

    /// The intersection keeps the tighter bound, fraction included.
    #[test]
    fn intersection_keeps_fractions() {
        let a = Window::from_time_range(&range(
            Some("2023-07-12T15:56:35.5Z"),
            Some("2023-07-12T15:56:40Z"),
        ));
        let b = Window::new(Some(T - 1), Some(T));
        let i = a.intersect(b);
        assert!(!i.contains(T - 1) && i.contains_at(T - 1, 500_000_000));
        assert!(i.contains(T) && !i.contains_at(T, 1));
        assert_eq!(b.intersect(a), i);
        assert_eq!(Window::default().intersect(b), b);
    }

    /// A `validFor` must have a start and must not end before it starts; no `validFor` at all
    /// is an unbounded window (only logs may omit it; see `from_trusted_root`).
    #[test]
    fn valid_for_needs_a_start() {
        let name = || "transparency log 0 (https://log.example)".to_owned();
        let e = valid_for(Some(&range(None, Some("2023-07-12T15:56:36Z"))), name).unwrap_err();
        assert!(
            e.to_string()
                .contains("transparency log 0 (https://log.example): validFor has no start"),
            "{e}"
        );
        assert!(valid_for(Some(&range(None, None)), name).is_err());
        let e = valid_for(
            Some(&range(
                Some("2023-07-12T15:56:36Z"),
                Some("2023-07-12T15:56:35.999Z"),
            )),
            name,
        )
        .unwrap_err();
        assert!(e.to_string().contains("before it starts"), "{e}");
        // A one-instant window is fine.
        let w = valid_for(
            Some(&range(
                Some("2023-07-12T15:56:36Z"),
                Some("2023-07-12T15:56:36Z"),
            )),
            name,
        )
        .unwrap();
        assert!(w.contains(T));
        assert_eq!(valid_for(None, name).unwrap(), Window::default());
    }
}
