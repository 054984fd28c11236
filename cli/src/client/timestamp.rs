//! RFC 3161 timestamps for signing: when the signing config lists a timestamp authority
//! (`tsaUrls`), `sign`, `sign-blob` and `attest` ask it for a timestamp over the bundle's
//! signature (SHA-256 of the signature bytes, as sigstore-python and sigstore-go send it),
//! with a random nonce and `certReq`, and put the answer in the bundle's
//! `verificationMaterial.timestampVerificationData.rfc3161Timestamps`.
//!
//! The answer is checked before it goes into the bundle: it parses as a granted
//! `TimeStampResp` ([`signet_proto::timestamp::parse_response`]), its imprint is the hash
//! that was sent and its nonce is the one sent. Its signature and chain are the verifier's
//! business (`signet verify*` checks them against the trusted root).

use base64::Engine as _;
use signet_proto::bundle::{
    Base64Bytes, BundleContent, Rfc3161SignedTimestamp, TimestampVerificationData,
};
use signet_proto::keys::HashAlgorithm;
use signet_proto::timestamp::authority::{encode_request, tst_info_policy_and_nonce};

use super::sign::{SignError, Signed};

const STEP: &str = "timestamp from the timestamp authority";

fn bad(reason: impl Into<String>) -> SignError {
    SignError::BadResponse {
        step: STEP,
        reason: reason.into(),
    }
}

/// The signature bytes a timestamp covers: the message signature, or the DSSE envelope's
/// (first) signature.
fn signature_of(signed: &Signed) -> Result<&[u8], SignError> {
    match &signed.bundle.content {
        BundleContent::MessageSignature(m) => Ok(m.signature.as_slice()),
        BundleContent::DsseEnvelope(e) => e
            .signatures
            .first()
            .map(|s| s.sig.as_slice())
            .ok_or_else(|| bad("the envelope has no signature")),
        #[allow(unreachable_patterns)]
        _ => Err(bad("unknown bundle content")),
    }
}

/// Asks the TSA at `tsa_url` (the full `.../api/v1/timestamp` URL) for a timestamp of
/// `signed`'s signature and adds it to the bundle.
///
/// # Errors
/// [`SignError`] when the TSA cannot be reached, refuses, or answers something that is not a
/// granted timestamp of what was sent.
pub(crate) async fn add_timestamp(
    http: &reqwest::Client,
    tsa_url: &str,
    signed: &mut Signed,
) -> Result<(), SignError> {
    let digest = HashAlgorithm::Sha256.hash(signature_of(signed)?);
    let mut nonce = [0u8; 8];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| SignError::Crypto { what: "nonce" })?;
    let request = encode_request(HashAlgorithm::Sha256, &digest, Some(&nonce), true);
    let resp = http
        .post(tsa_url)
        .header("Content-Type", "application/timestamp-query")
        .body(request)
        .send()
        .await
        .map_err(|cause| SignError::Transport {
            step: STEP,
            url: tsa_url.to_owned(),
            cause,
        })?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|cause| SignError::Transport {
        step: STEP,
        url: tsa_url.to_owned(),
        cause,
    })?;
    if !status.is_success() {
        let detail = signet_proto::timestamp::authority::response_status(&body).map_or_else(
            || String::from_utf8_lossy(&body).chars().take(400).collect(),
            |(code, bits)| format!("PKIStatus {code}, failure info bits {bits:?}"),
        );
        return Err(SignError::Refused {
            step: STEP,
            url: tsa_url.to_owned(),
            status,
            body: detail,
        });
    }
    let parsed = signet_proto::timestamp::parse_response(&body).map_err(|e| bad(e.to_string()))?;
    if parsed.imprint != digest.as_slice() {
        return Err(bad("the token timestamps another digest than the one sent"));
    }
    let expected_nonce = {
        // The nonce as a DER INTEGER content: a 0x00 before a high bit, no leading zeros.
        let trimmed: Vec<u8> = nonce.iter().copied().skip_while(|&b| b == 0).collect();
        let mut n = Vec::new();
        if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
            n.push(0);
        }
        n.extend(trimmed);
        n
    };
    match tst_info_policy_and_nonce(parsed.tst_info) {
        Some((_, Some(n))) if n == expected_nonce.as_slice() => {}
        _ => return Err(bad("the token does not echo the request's nonce")),
    }
    tracing::debug!(
        token = %base64::engine::general_purpose::STANDARD.encode(&body),
        "timestamp received"
    );
    let data = signed
        .bundle
        .verification_material
        .timestamp_verification_data
        .get_or_insert_with(TimestampVerificationData::default);
    data.rfc3161_timestamps.push(Rfc3161SignedTimestamp {
        signed_timestamp: Base64Bytes(body.to_vec()),
    });
    Ok(())
}
