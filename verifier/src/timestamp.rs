//! RFC 3161 signed timestamps: a trusted time for the bundle's signature.
//!
//! Specs: RFC 3161 (`TimeStampResp`, `TimeStampToken`, `TSTInfo`), RFC 5652 (CMS
//! `ContentInfo`/`SignedData`/`SignerInfo`, signed attributes §5.4 and §11), RFC 5280 for the
//! TSA certificate. The checks follow sigstore-python 4.x (`Verifier._verify_signed_timestamp`,
//! backed by rfc3161-client):
//!
//! * the response status is `granted` (rfc3161-client refuses `grantedWithMods` too) and
//!   carries a token;
//! * the token is CMS `SignedData` with exactly one `SignerInfo` and encapsulates a `TSTInfo`
//!   (`id-ct-TSTInfo`);
//! * the `TSTInfo` `messageImprint` is the hash (SHA-256/384/512, as the imprint names it) of
//!   the bundle's signature bytes;
//! * the signed attributes carry `contentType` = `id-ct-TSTInfo` and a `messageDigest` equal
//!   to the hash of the encapsulated `TSTInfo` under the signer's digest algorithm;
//! * the `SignerInfo` names (issuer and serial number, or subject key identifier) a TSA leaf of
//!   the trust root, whose key verifies the signature over DER(SET OF signed attributes); the
//!   TSA chain and the leaf's critical `timeStamping` EKU were checked when the trust material
//!   was built ([`crate::trust::TimestampAuthority`]);
//! * when the token embeds certificates, the first one is the trusted TSA leaf that signed
//!   (rfc3161-client `_verify_leaf_certs`; the others are ignored);
//! * `genTime` lies within every certificate of the TSA chain;
//! * every trusted TSA that the `sid` names is tried in trust-root order, as sigstore-python
//!   tries every authority; of those that pass, the first whose `validFor` contains `genTime`
//!   (`start <= genTime <= end`, the one selection rule `trust::valid_at`) is the
//!   result, else [`TimestampError::NotValidAt`] names genTime and their windows.
//!
//! The DER parsing is `signet_proto::timestamp` ([`parse_response`]: structure, unread bytes,
//! BER refused); this module does the verification over the parsed response. Not here: nonces
//! and policy OIDs (Sigstore requests none), the ESS `signingCertificate(V2)` attribute
//! (rfc3161-client does not read it either: the signer is found by `sid` in the trust root),
//! chains built from embedded certificates (the trust root's TSA chain is authoritative), and
//! accuracy.

use signet_proto::keys::{HashAlgorithm, KeyAlgorithm, RsaPadding};
use signet_proto::timestamp::{
    parse_response, SignerId, TimestampParseError, TimestampResponse, OID_CT_TST_INFO,
};
use x509_parser::prelude::FromDer;

use crate::error::TimestampError;
use crate::trust::{TimestampAuthority, TrustMaterial};

/// A timestamp that verified: its `genTime` and the TSA that signed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedTimestamp {
    /// `TSTInfo.genTime`, in Unix seconds (the fraction is in `gen_time_nanos`).
    pub gen_time: i64,
    /// The fraction of a second of `genTime`, in nanoseconds (digits past the ninth are
    /// dropped).
    pub gen_time_nanos: u32,
    /// The TSA's position in the trusted root's `timestampAuthorities`.
    pub tsa_index: usize,
}

impl From<TimestampParseError> for TimestampError {
    fn from(e: TimestampParseError) -> Self {
        match e {
            TimestampParseError::Status { status } => TimestampError::Status { status },
            TimestampParseError::Malformed { reason } => TimestampError::Malformed { reason },
            // A parse error this verifier does not know yet is still a malformed response.
            other => TimestampError::Malformed {
                reason: other.to_string(),
            },
        }
    }
}

/// The digest algorithm an OID names, or [`TimestampError::UnsupportedAlgorithm`].
fn hash_algorithm(oid: &str) -> Result<HashAlgorithm, TimestampError> {
    signet_proto::timestamp::hash_algorithm(oid).ok_or_else(|| {
        TimestampError::UnsupportedAlgorithm {
            oid: oid.to_owned(),
        }
    })
}

/// Verifies the signature over DER(SET OF signed attributes) with the TSA leaf key.
fn verify_signer(tsa: &TimestampAuthority, tok: &TimestampResponse<'_>) -> Result<(), String> {
    // RFC 5652 §5.4: the signature covers DER(SET OF signed attributes).
    let message = tok.signed_message();
    let digest_hash = hash_algorithm(&tok.digest_algorithm).map_err(|e| e.to_string())?;
    let key = &tsa.key;
    let alg = tok.signature_algorithm.as_str();
    let ecdsa_hash = match alg {
        "1.2.840.10045.4.3.2" => Some(HashAlgorithm::Sha256),
        "1.2.840.10045.4.3.3" => Some(HashAlgorithm::Sha384),
        "1.2.840.10045.4.3.4" => Some(HashAlgorithm::Sha512),
        // id-ecPublicKey as a signature algorithm: the digest algorithm applies.
        "1.2.840.10045.2.1" => Some(digest_hash),
        _ => None,
    };
    match (ecdsa_hash, key.algorithm()) {
        (Some(h), KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384) => key
            .verify_prehashed_with(h, &h.hash(&message), tok.signature)
            .map_err(|e| e.to_string()),
        (None, KeyAlgorithm::Ed25519) if alg == "1.3.101.112" => key
            .verify(&message, tok.signature)
            .map_err(|e| e.to_string()),
        (None, KeyAlgorithm::Rsa { .. })
            if alg == "1.2.840.113549.1.1.11"
                || (alg == "1.2.840.113549.1.1.1" && digest_hash == HashAlgorithm::Sha256) =>
        {
            key.verify_rsa(RsaPadding::Pkcs1Sha256, &message, tok.signature)
                .map_err(|e| e.to_string())
        }
        _ => Err(format!(
            "signature algorithm {alg} is not allowed with a {} key",
            key.algorithm()
        )),
    }
}

/// Verifies one DER `TimeStampResp` for `signature` (the bundle's signature bytes) against the
/// trust material's timestamp authorities.
///
/// # Errors
/// [`TimestampError`] naming the first failed check.
pub(crate) fn verify_timestamp(
    der: &[u8],
    signature: &[u8],
    trust: &TrustMaterial,
) -> Result<VerifiedTimestamp, TimestampError> {
    let tok = parse_response(der)?;

    let imprint_hash = hash_algorithm(&tok.imprint_algorithm)?;
    if imprint_hash.hash(signature) != tok.imprint {
        return Err(TimestampError::ImprintMismatch {
            algorithm: format!("{imprint_hash:?}"),
        });
    }
    if tok.content_type_attr.as_deref() != Some(OID_CT_TST_INFO) {
        return Err(TimestampError::Malformed {
            reason: format!(
                "the contentType signed attribute is {:?}, expected id-ct-TSTInfo",
                tok.content_type_attr
            ),
        });
    }
    let digest_hash = hash_algorithm(&tok.digest_algorithm)?;
    let md = tok
        .message_digest_attr
        .ok_or_else(|| TimestampError::Malformed {
            reason: "the SignerInfo has no messageDigest attribute".to_owned(),
        })?;
    if digest_hash.hash(tok.tst_info) != md {
        return Err(TimestampError::ContentDigestMismatch);
    }

    if trust.tsas.is_empty() {
        return Err(TimestampError::NoAuthorities);
    }
    let names_signer = |t: &&TimestampAuthority| match tok.sid {
        SignerId::IssuerSerial { issuer, serial } => {
            t.leaf_issuer_der == issuer && t.leaf_serial == serial
        }
        SignerId::KeyId(kid) => t.leaf_key_id.as_deref() == Some(kid),
    };
    // Like sigstore-python, every trusted TSA that names the signer is tried (a TSA can be
    // listed twice with different validFor windows); of those that verify, the one selection
    // rule picks a TSA valid at genTime; when none verifies, the first error is reported.
    let mut first_error = None;
    let mut verified = Vec::new();
    for tsa in trust.tsas.iter().filter(names_signer) {
        match verify_with(tsa, &tok) {
            Ok(()) => verified.push(tsa),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if !verified.is_empty() {
        let (t, nanos) = tok.gen_time;
        let tsa = crate::trust::valid_at("timestamp authority", verified, (t, nanos))?[0];
        return Ok(VerifiedTimestamp {
            gen_time: t,
            gen_time_nanos: nanos,
            tsa_index: tsa.index,
        });
    }
    Err(
        first_error.unwrap_or_else(|| TimestampError::UnknownAuthority {
            signer: match tok.sid {
                SignerId::IssuerSerial { issuer, serial } => {
                    let name = x509_parser::x509::X509Name::from_der(issuer)
                        .map_or_else(|_| hex::encode(issuer), |(_, n)| n.to_string());
                    format!("{name}, serial {}", hex::encode(serial))
                }
                SignerId::KeyId(kid) => format!("key id {}", hex::encode(kid)),
            },
        }),
    )
}

/// The checks of one token against one trusted TSA that its `sid` names: embedded
/// certificate, signature, and `genTime` within the chain's validity (its `validFor` is the
/// caller's, by [`crate::trust::valid_at`]).
fn verify_with(
    tsa: &TimestampAuthority,
    tok: &TimestampResponse<'_>,
) -> Result<(), TimestampError> {
    // rfc3161-client `_verify_leaf_certs`: an embedded (first) certificate must be the
    // trusted TSA leaf itself.
    if let Some(embedded) = tok.first_certificate {
        if embedded != tsa.leaf_der.as_slice() {
            return Err(TimestampError::EmbeddedCertificateMismatch {
                tsa: tsa.subject.clone(),
            });
        }
    }
    verify_signer(tsa, tok).map_err(|reason| TimestampError::BadSignature {
        tsa: tsa.subject.clone(),
        reason,
    })?;

    let (t, nanos) = tok.gen_time;
    let outside = |what: &str, w: &crate::trust::Window| TimestampError::OutsideValidity {
        what: format!("{what} ({})", tsa.subject),
        time: t,
        start: w.describe_start(),
        end: w.describe_end(),
    };
    if !tsa.chain_validity.contains_at(t, nanos) {
        return Err(outside("TSA certificate chain", &tsa.chain_validity));
    }
    Ok(())
}
