//! The verified signing times: the log's integrated time when a SET covers it, and the
//! `genTime` of every RFC 3161 timestamp that verifies; each checked against the verification
//! time and the log key's `validFor`.
//!
//! Specs: Rekor v1 SETs (the signed RFC 8785 `{"body","integratedTime","logID","logIndex"}`
//! object, `signet_proto::rekor::SetPayload`), RFC 3161 timestamps ([`crate::timestamp`]).
//! The times are established as sigstore-python 4.x does (`Verifier._establish_time`): the
//! entry's `integratedTime` when a SET covers it (Rekor v1 entries only; the SET must verify),
//! and the `genTime` of every RFC 3161 timestamp that verifies against a trusted TSA
//! (timestamps that do not verify are dropped, but a bundle with timestamps and a trust root
//! without TSAs is rejected). At least one time is needed: otherwise the first timestamp's
//! error, [`SetError::Missing`] (a v1 entry without SET) or [`TimeError::NoVerifiedTime`] is
//! returned. Every time must not be after the verification time and must lie in the log key's
//! `validFor`. [`time_window`] is the window check the certificate checks use too.
//!
//! Not here: whether the certificate is valid at these times (`certificate`).

use crate::bundle::{CheckedBundle, Content};
use crate::error::{SetError, SignatureError, TimeError, TimestampError, VerificationError};
use crate::timestamp::VerifiedTimestamp;
use crate::trust::{LogKey, TrustMaterial, Window};
use crate::UnixTime;

/// A verified signing time: Unix seconds and the nanoseconds within that second (an RFC 3161
/// `genTime` may carry a fraction; an integrated time does not).
pub(super) type SigningTime = (i64, u32);

/// Checks that `t` lies in `w` (closed at both ends); `what` names the window in the error
/// (built only on failure).
pub(super) fn time_window(
    what: impl FnOnce() -> String,
    w: &Window,
    t: SigningTime,
) -> Result<(), TimeError> {
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

/// The verified signing times of a bundle, at least one, and the log chosen by them.
pub(super) struct SigningTimes<'a> {
    /// The transparency log listed with the entry's log ID whose `validFor` contains every
    /// verified time (the first such, when windows overlap).
    pub(super) log: &'a LogKey,
    /// Every verified time: the integrated time first when a SET covers it, then the
    /// timestamps' `genTime` in bundle order.
    times: Vec<SigningTime>,
    /// Whether the first time is the integrated time covered by a verified SET.
    pub(super) from_set: bool,
    /// The RFC 3161 timestamps that verified.
    pub(super) timestamps: Vec<VerifiedTimestamp>,
}

impl SigningTimes<'_> {
    /// The first verified time (the one the certificate is first checked at and reported).
    pub(super) fn first(&self) -> SigningTime {
        self.times[0]
    }

    /// The other verified times.
    pub(super) fn others(&self) -> &[SigningTime] {
        &self.times[1..]
    }
}

/// Establishes the verified signing times of `bundle`, whose entry is in one of `logs` (the
/// trusted logs listed with the entry's log ID; `v2`: a Rekor v2 entry, which no SET covers),
/// not after `now` when given, and picks the log valid at every time with
/// [`crate::trust::valid_at`].
///
/// # Errors
/// [`SetError`] when the SET does not verify or is missing, [`TimestampError`] when the
/// bundle carries timestamps but none verifies (or the trust root has no TSA),
/// [`TimeError`] when no time is verified, one is in the future or outside the log key's
/// `validFor` ([`TimeError::NotValidAt`]).
pub(super) fn signing_times<'a>(
    bundle: &CheckedBundle,
    v2: bool,
    logs: &'a [LogKey],
    trust: &TrustMaterial,
    now: Option<UnixTime>,
) -> Result<SigningTimes<'a>, VerificationError> {
    let entry = &bundle.entry;
    // The logs whose key may have signed the SET (all of them when no SET is used).
    let mut candidates: Vec<&'a LogKey> = logs.iter().collect();
    let mut times: Vec<SigningTime> = Vec::with_capacity(1 + bundle.timestamps.len());
    let from_set = match &entry.set {
        Some(set) if !v2 && entry.integrated_time != 0 => {
            let payload = set_payload(
                &entry.body,
                entry.integrated_time,
                &entry_log_id(logs)?,
                entry.log_index,
            )?;
            let mut first_error = None;
            candidates.retain(|log| match log.key.verify(&payload, set) {
                Ok(()) => true,
                Err(e) => {
                    first_error.get_or_insert(SetError::Invalid {
                        log: log.base_url.clone(),
                        reason: e.to_string(),
                    });
                    false
                }
            });
            if candidates.is_empty() {
                return Err(first_error
                    .unwrap_or(SetError::Invalid {
                        log: String::new(),
                        reason: "no trusted log has the entry's log ID".to_owned(),
                    })
                    .into());
            }
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
    if times.is_empty() {
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
    }
    for &t in &times {
        if let Some(now) = now {
            // Whole seconds: the verification time has no fraction, a TSA's genTime may (a
            // timestamp from within the current second is not in the future).
            if t.0 > now.as_unix_seconds() {
                return Err(TimeError::InFuture {
                    integrated: t.0,
                    now: now.as_unix_seconds(),
                }
                .into());
            }
        }
        // The one selection rule: the logs valid at every verified time.
        candidates =
            crate::trust::valid_at("transparency log", candidates, t).map_err(TimeError::from)?;
    }
    Ok(SigningTimes {
        log: candidates[0],
        times,
        from_set,
        timestamps,
    })
}

/// The log ID the SET signs: the one all `logs` share (they were looked up by it).
fn entry_log_id(logs: &[LogKey]) -> Result<[u8; 32], SetError> {
    logs.first().map(|l| l.log_id).ok_or(SetError::Invalid {
        log: String::new(),
        reason: "no trusted log has the entry's log ID".to_owned(),
    })
}

/// The SET payload (`proto::rekor::SetPayload`) in its RFC 8785 form, written directly by
/// `SetPayload::canonical_bytes_from_parts`; integers beyond 2^53 go through
/// `SetPayload::canonical_bytes`. The test `set_payload_fast_path` checks both paths
/// against `proto::jcs`.
pub(super) fn set_payload(
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::set_payload;

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
}
