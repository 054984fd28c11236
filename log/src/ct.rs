//! RFC 6962 §4.1 `POST /ct/v1/add-pre-chain`: the CA sends a precertificate chain, the log
//! checks it against its configured roots, records the chain in the same Merkle tree (kind
//! `precert`, see [`crate::entries`]) and answers with a v1 SCT signed by its CT key.
//!
//! Checks: every certificate parses; the first carries the critical precertificate poison
//! extension (1.3.6.1.4.1.11129.2.4.3); each certificate is signed by the next; every issuer
//! is a CA (basicConstraints cA); the last one is a configured root or is signed by one. The
//! SCT signs `issuer_key_hash` (SHA-256 of the direct issuer's SPKI) and the precertificate TBS
//! with the poison and SCT-list extensions removed (`signet_proto::sct`).
//!
//! The SCT is returned only after the batch holding the precertificate entry is synced, so
//! every SCT the log hands out is backed by an entry in the tree. What this module does not
//! do: `add-chain` for final certificates, precertificate signing certificates (RFC 6962
//! §3.1's special issuer), validity-period checks (the CA owns those).

use base64::Engine as _;
use signet_proto::sct::{
    issuer_key_hash, sign_precert_sct, tbs_without_extensions, AddChainRequest, AddChainResponse,
    OID_PRECERT_POISON, OID_SCT_LIST,
};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::entries::{precert_entry, signer_from_cert_der};
use crate::error::LogError;
use crate::service::Log;

pub use crate::error::ChainError;

/// Most certificates accepted in one chain.
pub const MAX_CHAIN: usize = 10;

/// Verifies a precertificate chain against `roots`; returns the chain to record (with the
/// root appended if the submitter left it out) and the direct issuer's SPKI DER.
///
/// # Errors
/// [`ChainError`] describing the first problem.
pub fn verify_precert_chain(
    chain: &[Vec<u8>],
    roots: &[Vec<u8>],
) -> Result<(Vec<Vec<u8>>, Vec<u8>), ChainError> {
    if chain.is_empty() {
        return Err(ChainError::Empty);
    }
    if chain.len() > MAX_CHAIN {
        return Err(ChainError::TooLong { max: MAX_CHAIN });
    }
    let parsed = chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            let (rest, c) = X509Certificate::from_der(der).map_err(|e| ChainError::NotDer {
                index: i,
                reason: e.to_string(),
            })?;
            // The chain is recorded as sent: bytes after a certificate would make one
            // precertificate loggable (and indexed) any number of times.
            if !rest.is_empty() {
                return Err(ChainError::TrailingBytes {
                    index: i,
                    len: rest.len(),
                });
            }
            Ok(c)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let poison = parsed[0]
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == OID_PRECERT_POISON);
    match poison {
        Some(p) if p.critical => {}
        Some(_) => return Err(ChainError::PoisonNotCritical),
        None => return Err(ChainError::NotPrecertificate),
    }
    for i in 0..parsed.len() - 1 {
        let issuer = &parsed[i + 1];
        if !is_ca(issuer) {
            return Err(ChainError::NotCa { index: i + 1 });
        }
        parsed[i]
            .verify_signature(Some(issuer.public_key()))
            .map_err(|_| ChainError::BadSignature { index: i })?;
    }
    let roots_parsed = roots
        .iter()
        .filter_map(|r| X509Certificate::from_der(r).ok().map(|(_, c)| (r, c)))
        .collect::<Vec<_>>();
    let last_der = &chain[chain.len() - 1];
    let mut full = chain.to_vec();
    let anchored_root = if roots.iter().any(|r| r == last_der) {
        None
    } else {
        let last = &parsed[parsed.len() - 1];
        let root = roots_parsed
            .iter()
            .find(|(_, r)| {
                r.subject().as_raw() == last.issuer().as_raw()
                    && last.verify_signature(Some(r.public_key())).is_ok()
            })
            .ok_or(ChainError::NoRoot)?;
        full.push(root.0.clone());
        Some(root.1.public_key().raw.to_vec())
    };
    let issuer_spki = if parsed.len() > 1 {
        parsed[1].public_key().raw.to_vec()
    } else {
        anchored_root.ok_or(ChainError::PrecertificateIsRoot)?
    };
    Ok((full, issuer_spki))
}

fn is_ca(c: &X509Certificate<'_>) -> bool {
    matches!(c.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
}

/// Handles `add-pre-chain`: verify, record, sign.
///
/// # Errors
/// [`LogError::Chain`] for a bad chain; errors of [`Log::submit`]; [`LogError::Signing`].
pub async fn add_pre_chain(log: &Log, req: &AddChainRequest) -> Result<AddChainResponse, LogError> {
    let arriving = log.arrivals.arriving();
    let chain = req
        .chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            base64::engine::general_purpose::STANDARD
                .decode(c)
                .map_err(|e| ChainError::Base64 {
                    index: i,
                    reason: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (full, issuer_spki) = verify_precert_chain(&chain, &log.ident.ct_roots)?;
    let leaf = signer_from_cert_der(&chain[0]).map_err(ChainError::Leaf)?;
    let tbs =
        tbs_without_extensions(&chain[0], &[OID_PRECERT_POISON, OID_SCT_LIST]).map_err(|e| {
            ChainError::Tbs {
                reason: e.to_string(),
            }
        })?;
    let entry = precert_entry(&full, &leaf)?;
    log.submit_arriving(entry, Some(arriving)).await?;
    let signing = |reason: String| LogError::Signing {
        what: "SCT",
        reason,
    };
    // The SCT timestamp is the log's clock at signing, after the entry is committed.
    let sct = sign_precert_sct(
        &log.ident.ct_key,
        log.clock().now_millis(),
        &issuer_key_hash(&issuer_spki),
        &tbs,
        &[],
    )
    .map_err(|e| signing(e.to_string()))?;
    sct.to_add_chain_response()
        .map_err(|e| signing(e.to_string()))
}
