//! Rekor v2 (rekor-tiles) write API over a second [`Log`]: `POST /api/v2/log/entries` with a
//! `hashedRekordRequestV002`, answered once the entry is integrated with a
//! `TransparencyLogEntry` (`kindVersion` hashedrekord 0.0.2, an inclusion proof whose
//! checkpoint covers the entry, no integrated time, no SET), and the C2SP tlog-tiles read API
//! (`/checkpoint`, `/tile/...`, `/tile/entries/...`) of the same tree.
//!
//! A Rekor v2 log is a [`Log`] opened with `rekor_v2 = true` ([`crate::LogConfig`]) on a data
//! directory of its own: the same store, sequencer, tiles and dedup as the v1 log, with the
//! origin set to the log's name (its base URL without the scheme, as rekor-tiles names a
//! shard by its host) and checkpoints signed by the Ed25519 key alone as a C2SP signed note.
//! Its log ID is the C2SP key ID of that key, SHA-256(name ‖ `\n` ‖ 0x01 ‖ key), whose first
//! four bytes are the checkpoint's key hint: what Sigstore's trust roots list for rekor-tiles
//! shards and what sigstore-python, sigstore-js and `signet-verifier` look the key up by.
//!
//! Requests are checked as rekor-tiles checks them (`pkg/types/hashedrekord`): every field
//! present, one verifier, `keyDetails` in the allowlist and matching the key, the digest as
//! long as its hash, the signature valid over the digest. A refused request stores nothing
//! and gets 400 with rekor-tiles' (grpc-gateway) error shape `{"code": 3, "message", "details":
//! []}`, the message naming the problem; a duplicate gets 409 `{"code": 6, ...}` naming the
//! existing index, which is also in the `x-log-index` header, as rekor-tiles answers.
//! `dsseRequestV002` is refused with a message saying how to send DSSE instead (see
//! `docs/REKOR_V2.md`).
//!
//! What a v2 log stores per entry, as rekor-tiles (Tessera) does: the entry (`E`, from which
//! entry bundles are built), its dedup key (`H`, so a resubmitted entry gets 409), and the
//! hash tiles, full entry bundles and checkpoint of each batch. It stores no search postings
//! (`I`): rekor-tiles serves no search and keeps no index beside the tiles, so a request's
//! certificate is parsed for its key only (no SANs read) and no digest, key or identity
//! posting is computed. The log ID is computed once, and the answer is written directly
//! (`tle_json`), not built as a document first.
//!
//! What this module does not do: Rekor v1 routes, search (no index is kept, see above),
//! witnessing (the v2 log takes no witness policy yet), the explorer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
#[cfg(doc)]
use signet_proto::bundle::TransparencyLogEntry;
use signet_proto::grpc::code;
use signet_proto::keys::{KeyAlgorithm, PublicKey};
use signet_proto::rekor_v2::{
    parse_create_entry_request, RekorV2Error, VerifierKey, API_VERSION_0_0_2, KIND_HASHEDREKORD,
};

use crate::entries::{key_from_cert_der, ValidEntry};
use crate::error::LogError;
use crate::head::SignedHead;
use crate::limits::MAX_ENTRY_BYTES;
use crate::metrics::EntryResult;
use crate::sequencer::Outcome;
use crate::service::{Log, Readiness};
use signet_proto::merkle::Hash;

/// The route of the write API.
pub const ENTRIES_PATH: &str = "/api/v2/log/entries";

/// Where a server that also runs a Rekor v1 log mounts this router (`signet serve`:
/// `<public_url>/rekor-v2`).
pub const MOUNT: &str = "/rekor-v2";

/// Why a v2 request was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum V2Error {
    /// The request is malformed (schema, fields, algorithm).
    #[error("invalid hashedrekord request: {0}")]
    Request(#[from] RekorV2Error),
    /// The verifier is not a usable key or certificate.
    #[error("invalid hashedrekord request: verifier: {reason}")]
    Verifier {
        /// Why.
        reason: String,
    },
    /// `keyDetails` does not fit the key.
    #[error("invalid hashedrekord request: keyDetails {key_details} does not fit the {key} key")]
    KeyMismatch {
        /// The stated algorithm.
        key_details: &'static str,
        /// The key's type.
        key: KeyAlgorithm,
    },
    /// The canonical entry would exceed the log's entry limit (entry bundles length-prefix
    /// entries with a u16).
    #[error("invalid hashedrekord request: the canonical entry would be {bytes} bytes, the limit is {limit}")]
    TooLarge {
        /// The canonical entry's size.
        bytes: usize,
        /// [`MAX_ENTRY_BYTES`].
        limit: usize,
    },
    /// The signature does not verify over the digest.
    #[error("invalid hashedrekord request: the signature does not verify over the digest with the verifier's key")]
    Signature,
    /// The log failed (queue full, shutdown, storage).
    #[error(transparent)]
    Log(#[from] LogError),
}

/// The answer to a v2 create-entry request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreatedV2 {
    /// Integrated: the `TransparencyLogEntry` JSON.
    Added {
        /// The log index.
        index: u64,
        /// The JSON body (201).
        json: Vec<u8>,
    },
    /// An identical entry is already in the log at `index` (409).
    Duplicate {
        /// Its index.
        index: u64,
    },
}

/// The C2SP signed-note key ID of the log's Ed25519 checkpoint key: SHA-256(name ‖ `\n` ‖
/// 0x01 ‖ public key), the log ID of a Rekor v2 log.
///
/// # Errors
/// [`LogError::Internal`] if the note key cannot be read back (cannot happen for a key the
/// log made).
pub fn log_id(log: &Log) -> Result<[u8; 32], LogError> {
    use base64::Engine as _;
    let vkey = log.identity().ed_note.to_vkey();
    let internal = |reason: &str| LogError::Internal {
        what: "the v2 log's note key",
        reason: reason.to_owned(),
    };
    // vkey = <name>+<hash hex>+<base64(0x01 ‖ key)>; the name holds no '+'.
    let (name, rest) = vkey.split_once('+').ok_or_else(|| internal("no '+'"))?;
    let (_, b64) = rest.split_once('+').ok_or_else(|| internal("no key"))?;
    let typed_key = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| internal(&e.to_string()))?;
    let mut buf = Vec::with_capacity(name.len() + 1 + typed_key.len());
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    buf.extend_from_slice(&typed_key);
    Ok(crate::util::sha256(&buf))
}

/// Validates a `CreateEntryRequest` body and returns the entry to log: its canonical body and
/// leaf hash. No search postings: a Rekor v2 log serves no search (rekor-tiles keeps no
/// index beside the tiles), so only the verifier's key is read from a certificate, to check
/// the signature.
///
/// # Errors
/// [`V2Error`] naming the first problem; never [`V2Error::Log`].
pub fn validate_request(body: &[u8]) -> Result<ValidEntry, V2Error> {
    let req = parse_create_entry_request(body)?;
    let key = match &req.verifier {
        VerifierKey::PublicKey(der) => {
            PublicKey::from_spki_der(der).map_err(|e| V2Error::Verifier {
                reason: e.to_string(),
            })?
        }
        VerifierKey::Certificate(der) => key_from_cert_der(der).map_err(|e| V2Error::Verifier {
            reason: e.to_string(),
        })?,
    };
    if key.algorithm() != req.key_details.algorithm {
        return Err(V2Error::KeyMismatch {
            key_details: req.key_details.name,
            key: key.algorithm(),
        });
    }
    // The stored body is known before the signature check: bound it first.
    let body = req.canonical_body();
    if body.len() > MAX_ENTRY_BYTES {
        return Err(V2Error::TooLarge {
            bytes: body.len(),
            limit: MAX_ENTRY_BYTES,
        });
    }
    key.verify_prehashed_with(req.key_details.hash, &req.digest, &req.signature)
        .map_err(|_| V2Error::Signature)?;
    Ok(ValidEntry::new(body, Vec::new()))
}

/// The `TransparencyLogEntry` JSON of an entry just added at `index` with `proof` against
/// `head`, written directly: the same bytes as `serde_json::to_vec` of the
/// [`TransparencyLogEntry`] (the test `tle_json_is_the_serde_document` checks it), without
/// building the document and its base64 strings first.
fn tle_json(
    log_id_b64: &str,
    index: u64,
    head: &SignedHead,
    proof: &[Hash],
    body: &[u8],
) -> String {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use std::fmt::Write as _;
    let mut out = String::with_capacity(
        400 + head.checkpoint.len() + 48 * proof.len() + body.len().div_ceil(3) * 4,
    );
    // Writing to a String cannot fail.
    let _ = write!(out, "{{\"logIndex\":\"{index}\",\"logId\":{{\"keyId\":\"{log_id_b64}\"}},\"kindVersion\":{{\"kind\":\"{KIND_HASHEDREKORD}\",\"version\":\"{API_VERSION_0_0_2}\"}},\"inclusionProof\":{{\"logIndex\":\"{index}\",\"rootHash\":\"");
    STANDARD.encode_string(head.root, &mut out);
    let _ = write!(out, "\",\"treeSize\":\"{}\",\"hashes\":[", head.size);
    for (i, h) in proof.iter().enumerate() {
        out.push_str(if i == 0 { "\"" } else { ",\"" });
        STANDARD.encode_string(h, &mut out);
        out.push('"');
    }
    out.push_str("],\"checkpoint\":{\"envelope\":");
    // A String always serializes.
    out.push_str(&serde_json::to_string(&head.checkpoint).unwrap_or_default());
    out.push_str("}},\"canonicalizedBody\":\"");
    STANDARD.encode_string(body, &mut out);
    out.push_str("\"}");
    out
}

impl Log {
    /// The base64 of [`log_id`], computed once.
    fn v2_log_id_b64(&self) -> Result<&str, LogError> {
        use base64::Engine as _;
        if let Some(id) = self.v2_log_id.get() {
            return Ok(id);
        }
        let id = base64::engine::general_purpose::STANDARD.encode(log_id(self)?);
        Ok(self.v2_log_id.get_or_init(|| id))
    }

    /// `POST /api/v2/log/entries` on a Rekor v2 log: validates the request (counted as
    /// rejected when invalid), queues the entry and, once its batch is committed, answers the
    /// `TransparencyLogEntry` with the inclusion proof against the batch's checkpoint.
    ///
    /// # Errors
    /// [`V2Error`]: the request's problem, or the log's ([`LogError::Pushback`], storage).
    pub async fn create_entry_v2(&self, body: &[u8]) -> Result<CreatedV2, V2Error> {
        let arriving = self.arrivals.arriving();
        let entry = validate_request(body).inspect_err(|_| {
            self.metrics.entry(EntryResult::Rejected);
        })?;
        let body = entry.body.clone();
        match self.submit_arriving(entry, Some(arriving)).await? {
            Outcome::Added {
                index, proof, head, ..
            } => {
                for (what, v) in [("logIndex", index), ("treeSize", head.size)] {
                    if i64::try_from(v).is_err() {
                        return Err(LogError::OutOfRange { what, value: v }.into());
                    }
                }
                let json = tle_json(self.v2_log_id_b64()?, index, &head, &proof, &body);
                Ok(CreatedV2::Added {
                    index,
                    json: json.into_bytes(),
                })
            }
            Outcome::Duplicate { index } => Ok(CreatedV2::Duplicate { index }),
        }
    }
}

/// An error answer in grpc-gateway's shape: `{"code": <gRPC code>, "message", "details": []}`.
struct V2ApiError {
    status: StatusCode,
    code: u16,
    message: String,
    retry_after: Option<u64>,
    log_index: Option<u64>,
}

impl V2ApiError {
    fn new(status: StatusCode, code: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: signet_proto::text::client_message(message.into()),
            retry_after: None,
            log_index: None,
        }
    }
}

impl IntoResponse for V2ApiError {
    fn into_response(self) -> Response {
        let body = signet_proto::grpc::error_body(self.code, &self.message);
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if let Some(i) = self.log_index {
            resp.headers_mut()
                .insert("x-log-index", HeaderValue::from(i));
        }
        resp
    }
}

/// A domain error in grpc-gateway's shape: the classification the v1 API uses
/// ([`crate::http::classify`]), its status mapped to the gRPC code rekor-tiles would send.
fn log_err(log: &Log, e: LogError) -> V2ApiError {
    let a = crate::http::classify(log, e);
    let code = match a.status {
        StatusCode::BAD_REQUEST => code::INVALID_ARGUMENT,
        StatusCode::NOT_FOUND => code::NOT_FOUND,
        StatusCode::CONFLICT => code::FAILED_PRECONDITION,
        StatusCode::SERVICE_UNAVAILABLE => code::UNAVAILABLE,
        _ => code::UNKNOWN,
    };
    V2ApiError {
        retry_after: a.retry_after,
        ..V2ApiError::new(a.status, code, a.message)
    }
}

type V2Result<T> = Result<T, V2ApiError>;

/// The Rekor v2 log's router: `POST /api/v2/log/entries`, `GET /checkpoint`, `GET /tile/...`,
/// `/healthz`, `/readyz`, `/metrics`. Mount it under the log's base URL (`signet serve` nests it at
/// `/rekor-v2`).
pub fn router(log: Arc<Log>) -> Router {
    let limit = log.max_body_bytes;
    let routes = Router::new()
        .route(ENTRIES_PATH, post(create_entry))
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            V2ApiError::new(StatusCode::NOT_FOUND, code::NOT_FOUND, "no such endpoint")
        })
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            V2ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                code::UNIMPLEMENTED,
                format!("{method} is not allowed on this endpoint"),
            )
        });
    crate::http::limit_bodies(routes, limit, too_large)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&log),
            crate::http::track,
        ))
        .layer(crate::http::catch_panics())
        .with_state(log)
}

/// The 413 for a body over `limit` bytes, in grpc-gateway's shape (RESOURCE_EXHAUSTED):
/// declared too large ([`crate::http::limit_bodies`]) or found so while read.
fn too_large_error(limit: usize) -> V2ApiError {
    V2ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::RESOURCE_EXHAUSTED,
        format!("request body too large (limit {limit} bytes)"),
    )
}

fn too_large(limit: usize) -> Response {
    too_large_error(limit).into_response()
}

async fn create_entry(
    State(log): State<Arc<Log>>,
    body: Result<Bytes, BytesRejection>,
) -> V2Result<Response> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large_error(log.max_body_bytes)
        } else {
            V2ApiError::new(
                r.status(),
                code::INVALID_ARGUMENT,
                format!("cannot read request body: {r}"),
            )
        }
    })?;
    match log.create_entry_v2(&body).await {
        Ok(CreatedV2::Added { json, .. }) => Ok((
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "application/json")],
            json,
        )
            .into_response()),
        Ok(CreatedV2::Duplicate { index }) => Err(V2ApiError {
            log_index: Some(index),
            ..V2ApiError::new(
                StatusCode::CONFLICT,
                code::ALREADY_EXISTS,
                format!(
                    "an equivalent entry already exists in the transparency log with index {index}"
                ),
            )
        }),
        Err(V2Error::Log(e)) => Err(log_err(&log, e)),
        Err(e) => Err(V2ApiError::new(
            StatusCode::BAD_REQUEST,
            code::INVALID_ARGUMENT,
            e.to_string(),
        )),
    }
}

async fn checkpoint(State(log): State<Arc<Log>>) -> V2Result<Response> {
    let head = log.head().map_err(|e| log_err(&log, e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        head.checkpoint.clone(),
    )
        .into_response())
}

async fn tile(State(log): State<Arc<Log>>, Path(path): Path<String>) -> V2Result<Response> {
    let tile = log.tile(&path).map_err(|e| log_err(&log, e))?;
    Ok(crate::http::tile_response(tile))
}

/// This log's own series (labelled `api="v2"`), for a v2 log served on its own; beside a v1
/// log they are also in the v1 scrape.
async fn metrics(State(log): State<Arc<Log>>) -> Response {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        log.render_metrics(),
    )
        .into_response()
}

async fn readyz(State(log): State<Arc<Log>>) -> Response {
    match log.readiness() {
        Readiness::Ready => "ready".into_response(),
        other => V2ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::UNAVAILABLE,
            format!("not ready: {other:?}"),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use signet_proto::bundle::{
        Base64Bytes, Checkpoint, InclusionProof, KindVersion, LogId, TransparencyLogEntry,
    };

    /// The document `tle_json` writes by hand, built with the `signet_proto::bundle` types.
    fn serde_tle(id: &[u8], index: u64, head: &SignedHead, proof: &[Hash], body: &[u8]) -> Vec<u8> {
        let tle = TransparencyLogEntry {
            log_index: i64::try_from(index).unwrap(),
            log_id: LogId {
                key_id: Base64Bytes(id.to_vec()),
            },
            kind_version: KindVersion {
                kind: KIND_HASHEDREKORD.to_owned(),
                version: API_VERSION_0_0_2.to_owned(),
            },
            integrated_time: 0,
            inclusion_promise: None,
            inclusion_proof: Some(InclusionProof {
                log_index: i64::try_from(index).unwrap(),
                root_hash: Base64Bytes(head.root.to_vec()),
                tree_size: i64::try_from(head.size).unwrap(),
                hashes: proof.iter().map(|h| Base64Bytes(h.to_vec())).collect(),
                checkpoint: Some(Checkpoint {
                    envelope: head.checkpoint.clone(),
                }),
            }),
            canonicalized_body: Some(Base64Bytes(body.to_vec())),
        };
        serde_json::to_vec(&tle).unwrap()
    }

    #[test]
    fn tle_json_is_the_serde_document() {
        use base64::Engine as _;
        let id = [7u8; 32];
        let id_b64 = base64::engine::general_purpose::STANDARD.encode(id);
        // A checkpoint with the characters JSON must escape (newlines, quote, backslash, a
        // control character) and non-ASCII (the em dash of a signature line).
        let checkpoint = "log.example/v2\n3\nq83vEjRWeJA=\n\n\u{2014} log.example/v2 \"q\\\u{1}\n";
        for (index, size, n_proof, body_len) in [
            (0, 1, 0, 0),
            (2, 3, 2, 1),
            (254, 1000, 10, 2),
            (i64::MAX as u64 - 1, i64::MAX as u64, 63, 700),
        ] {
            let head = SignedHead {
                size,
                root: [0xab; 32],
                checkpoint: checkpoint.to_owned(),
            };
            let proof: Vec<Hash> = (0..n_proof)
                .map(|i| [u8::try_from(i).unwrap(); 32])
                .collect();
            let body: Vec<u8> = (0..body_len)
                .map(|i| u8::try_from(i % 251).unwrap())
                .collect();
            assert_eq!(
                tle_json(&id_b64, index, &head, &proof, &body),
                String::from_utf8(serde_tle(&id, index, &head, &proof, &body)).unwrap(),
            );
        }
    }
}
