//! Revoked signers: the monitor's `revoked_signer` alert, raised when a certificate revoked by
//! a CRL of the trust root's CAs (`crls.pem` beside `trusted_root.json`: the TUF target, or
//! `/signet/v1/crls.pem` saved there), or a trusted key revoked in `trusted_keys.json`, signs
//! an entry integrated at or after its revocation.
//!
//! Which revocation applies is the verifier's rule: for a certificate,
//! `signet_verifier::TrustMaterial::leaf_revocation` (the leaf's own CRL entry or one of its
//! CA chain, the earliest); for a key, its `revoked.time` in the trusted keys.
//!
//! When the entry was integrated: a Rekor v1 log tells (`integratedTime`, read only for
//! entries whose signer is revoked, and checked to be the same entry as in the tiles). A log
//! without that API (Rekor v2) gives no time, so the monitor bounds it: after the later of the
//! previous checkpoint it verified (`after`) and the certificate's notBefore, at or before the
//! checkpoint that brought the entry (`before`). [`judge`] turns that into a decision:
//! certainly after the revocation (critical), certainly before (no alert), or the revocation
//! falls inside the bounds (a warning saying the order is unknown; run the monitor more often
//! to narrow it).
//!
//! What this does not do: re-examine entries analysed before a CRL that dates a revocation
//! back was published (the monitor reads each entry once), or fetch CRLs itself (the trust
//! refresh does).

use serde_json::json;
use signet_verifier::trust::TrustMaterial;
use signet_verifier::trusted_keys::TrustedKeys;

use crate::auditors::monitor::entry::ObservedSigner;
use crate::auditors::monitor::rules::{Alert, Severity};

/// The revocations known to the monitor.
#[derive(Debug, Default)]
pub(crate) struct Revocations {
    /// The trust root's CAs with their CRLs (`None` when the trust root has no usable CA).
    pub(crate) material: Option<TrustMaterial>,
    /// The trusted keys for keyed signing, when published.
    pub(crate) keys: Option<TrustedKeys>,
}

/// A revocation that applies to a signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Revoked {
    /// What is revoked, for messages: `the signing certificate (serial ..)`, `the CA
    /// certificate ..`, `the trusted key "name"`.
    pub(crate) what: String,
    /// Revoked from (Unix seconds).
    pub(crate) from: i64,
    /// The reason.
    pub(crate) reason: String,
}

impl Revocations {
    /// Whether anything is revoked at all (the monitor skips the work otherwise).
    pub(crate) fn any(&self) -> bool {
        self.material.as_ref().is_some_and(|m| !m.crls().is_empty())
            || self
                .keys
                .as_ref()
                .is_some_and(|k| k.keys().iter().any(|k| k.revoked.is_some()))
    }

    /// The revocation of `signer`, if one applies.
    pub(crate) fn of(&self, signer: &ObservedSigner) -> Option<Revoked> {
        if let (Some(der), Some(m)) = (&signer.certificate, &self.material) {
            return m.leaf_revocation(der).map(|r| Revoked {
                what: if r.certificate == "the signing certificate" {
                    format!("the signing certificate (serial {})", r.serial)
                } else {
                    format!("{} (serial {})", r.certificate, r.serial)
                },
                from: r.from,
                reason: r.reason,
            });
        }
        let (Some(key_id), Some(keys)) = (&signer.key_id, &self.keys) else {
            return None;
        };
        keys.keys().iter().find_map(|k| {
            let id = hex::encode(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                k.key.spki_der(),
            ));
            let ((secs, nanos), reason) = k.revoked.as_ref()?;
            // Revoked from the second that holds the instant (a signature at a fractional
            // second after a whole-second revocation is after it).
            let from = if *nanos > 0 { secs + 1 } else { *secs };
            (&id == key_id).then(|| Revoked {
                what: format!("the trusted key {:?}", k.name),
                from,
                reason: reason.clone(),
            })
        })
    }
}

/// When an entry was integrated, as far as the monitor knows (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Integrated {
    /// The log's `integratedTime`.
    At(i64),
    /// Strictly after `after` (when known) and at or before `before`.
    Between {
        /// Lower bound (exclusive), if any.
        after: Option<i64>,
        /// Upper bound (inclusive).
        before: i64,
    },
}

/// The `revoked_signer` alert for entry `index` of `log` signed by a revoked signer, or `None`
/// when it was integrated before the revocation.
pub(crate) fn judge(
    log: &str,
    index: u64,
    signer: &ObservedSigner,
    revoked: &Revoked,
    integrated: Integrated,
) -> Option<Alert> {
    let who = signer.san.as_deref().map_or_else(
        || {
            signer
                .key_id
                .as_deref()
                .map_or_else(|| "a certificate".to_owned(), |k| format!("key sha256:{k}"))
        },
        str::to_owned,
    );
    let (certain, when) = match integrated {
        Integrated::At(t) if t >= revoked.from => (true, json!({ "integrated_time": t })),
        Integrated::At(_) => return None,
        Integrated::Between { after, before } => {
            if before < revoked.from {
                return None;
            }
            let certain = after.is_some_and(|a| a >= revoked.from);
            (
                certain,
                json!({ "integrated_after": after, "integrated_at_or_before": before }),
            )
        }
    };
    let revoked_at = crate::auditors::tlog::rfc3339(revoked.from);
    let message = if certain {
        format!(
            "entry {index} was signed by {who} with {} after its revocation at {revoked_at} ({})",
            revoked.what, revoked.reason
        )
    } else {
        format!(
            "entry {index} was signed by {who} with {}, revoked at {revoked_at} ({}); the log gives no integration time and the entry appeared between two checkpoints around the revocation, so it may have been made before it",
            revoked.what, revoked.reason
        )
    };
    let mut details = json!({
        "signer": who,
        "revoked": revoked.what,
        "revoked_at": revoked.from,
        "reason": revoked.reason,
        "certain": certain,
    });
    if let (Some(d), Some(w)) = (details.as_object_mut(), when.as_object()) {
        d.extend(w.clone());
    }
    Some(Alert {
        alert: "revoked_signer".to_owned(),
        severity: if certain {
            Severity::Critical
        } else {
            Severity::Warning
        },
        log: Some(log.to_owned()),
        log_index: Some(index),
        message,
        details,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn revoked() -> Revoked {
        Revoked {
            what: "the signing certificate (serial 01)".into(),
            from: 1_000,
            reason: "keyCompromise".into(),
        }
    }

    /// An exact time alerts at and after the revocation, not before; bounds alert with
    /// certainty when the lower bound is at or after it, as a warning when they straddle it,
    /// and not at all when the upper bound is before it.
    #[test]
    fn judged_by_the_integration_time_or_its_bounds() {
        let s = ObservedSigner {
            san: Some("a@example.com".into()),
            ..ObservedSigner::default()
        };
        let r = revoked();
        assert!(judge("L", 1, &s, &r, Integrated::At(999)).is_none());
        let a = judge("L", 1, &s, &r, Integrated::At(1_000)).unwrap();
        assert_eq!(
            (a.severity, a.log.as_deref()),
            (Severity::Critical, Some("L"))
        );
        assert!(a.message.contains("a@example.com"), "{}", a.message);
        let between = |after, before| Integrated::Between { after, before };
        assert!(judge("L", 1, &s, &r, between(Some(10), 999)).is_none());
        let a = judge("L", 1, &s, &r, between(Some(1_000), 1_200)).unwrap();
        assert_eq!(
            (a.severity, &a.details["certain"]),
            (Severity::Critical, &json!(true))
        );
        let a = judge("L", 1, &s, &r, between(Some(900), 1_200)).unwrap();
        assert_eq!(
            (a.severity, &a.details["certain"]),
            (Severity::Warning, &json!(false))
        );
        let a = judge("L", 1, &s, &r, between(None, 1_000)).unwrap();
        assert_eq!(a.severity, Severity::Warning);
    }
}
