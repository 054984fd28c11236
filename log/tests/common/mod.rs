//! Shared test helpers: in-memory logs, entry builders, response checks, a test CA.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_log::config::LogConfig;
use signet_log::entries::ValidEntry;
use signet_log::service::Log;
use signet_log::signing::LogKeys;
use signet_log::storage::{LogDb, MemStore};
use signet_proto::checkpoint::SignedCheckpoint;
use signet_proto::keys::{EcdsaCurve, EcdsaSigner, PublicKey};
use signet_proto::merkle::{leaf_hash, verify_inclusion, Hash};
use signet_proto::note::{Ed25519NoteVerifier, RekorNoteVerifier, Verifiers};
use signet_proto::rekor::{LogEntry, LogEntryAnon};
use tower::ServiceExt as _;

pub const HOST: &str = "log.test:8080";

pub fn test_config() -> LogConfig {
    LogConfig {
        batch_max_delay_ms: 5,
        ..LogConfig::default()
    }
}

pub struct TestLog {
    pub log: Arc<Log>,
    pub store: Arc<MemStore>,
    pub router: Router,
    pub keys: LogKeys,
}

pub fn mem_log(cfg: &LogConfig, ct_roots: Vec<Vec<u8>>) -> TestLog {
    mem_log_with_clock(cfg, ct_roots, Arc::new(signet_log::SystemClock))
}

/// [`mem_log`] reading wall-clock time from `clock`.
pub fn mem_log_with_clock(
    cfg: &LogConfig,
    ct_roots: Vec<Vec<u8>>,
    clock: Arc<dyn signet_log::Clock>,
) -> TestLog {
    let store = Arc::new(MemStore::new());
    let keys = LogKeys::generate().unwrap();
    let log = Log::start(
        LogDb::new(store.clone()),
        keys.clone(),
        HOST,
        ct_roots,
        cfg,
        clock,
    )
    .unwrap();
    let router = signet_log::http::router(Arc::clone(&log));
    TestLog {
        log,
        store,
        router,
        keys,
    }
}

pub async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    body: Option<Vec<u8>>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(body.map_or_else(Body::empty, Body::from)).unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    (status, headers, bytes)
}

pub fn new_signer() -> EcdsaSigner {
    EcdsaSigner::generate(EcdsaCurve::P256, &SystemRandom::new()).unwrap()
}

pub fn sha256(d: &[u8]) -> [u8; 32] {
    signet_log::util::sha256(d)
}

/// A hashedrekord proposed entry, JSON bytes.
pub fn hashedrekord_raw(pem: &[u8], sig: &[u8], digest_hex: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest_hex}},
            "signature": {"content": B64.encode(sig), "publicKey": {"content": B64.encode(pem)}}
        }
    }))
    .unwrap()
}

/// A valid hashedrekord entry for `artifact` signed by `signer` (PEM public key).
pub fn hashedrekord(signer: &EcdsaSigner, artifact: &[u8]) -> Vec<u8> {
    let sig = signer.sign(artifact).unwrap();
    hashedrekord_raw(
        signer.public_key().to_pem().as_bytes(),
        &sig,
        &hex::encode(sha256(artifact)),
    )
}

/// POSTs a proposed entry (JSON bytes) to the Rekor v1 `/api/v1/log/entries` endpoint.
pub async fn post_entry(router: &Router, body: Vec<u8>) -> (StatusCode, HeaderMap, Vec<u8>) {
    call(router, "POST", "/api/v1/log/entries", Some(body)).await
}

/// POSTs a search query to `/api/v1/index/retrieve`.
pub async fn search_index(
    router: &Router,
    query: &serde_json::Value,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let body = serde_json::to_vec(query).unwrap();
    call(router, "POST", "/api/v1/index/retrieve", Some(body)).await
}

/// Logs the hashedrekord entries by `signer` of the artifacts `i.to_be_bytes()`, `i` in
/// `numbers`, one request after the other; asserts each is 201 and returns the entries.
pub async fn log_numbered(
    router: &Router,
    signer: &EcdsaSigner,
    numbers: impl IntoIterator<Item = u32>,
) -> Vec<(String, LogEntryAnon)> {
    let mut out = Vec::new();
    for i in numbers {
        let (s, _, b) = post_entry(router, hashedrekord(signer, &i.to_be_bytes())).await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
        out.push(parse_entry(&b));
    }
    out
}

/// Like [`log_numbered`], but all requests at once (one task each, so they share batches);
/// returns `(log index, body)` of every entry, sorted by index.
pub async fn log_numbered_concurrently(
    router: &Router,
    signer: &EcdsaSigner,
    numbers: impl IntoIterator<Item = u32>,
) -> Vec<(i64, Vec<u8>)> {
    let tasks: Vec<_> = numbers
        .into_iter()
        .map(|i| {
            let r = router.clone();
            let e = hashedrekord(signer, &i.to_be_bytes());
            tokio::spawn(async move { post_entry(&r, e).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        let (s, _, b) = t.await.unwrap();
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
        let (_, e) = parse_entry(&b);
        bodies.push((e.log_index, e.body.0));
    }
    bodies.sort();
    bodies
}

/// `n` plain JSON entries `{"<tag>":i}` for the bulk path (which checks no signatures).
pub fn plain_entries(n: u32, tag: &str) -> Vec<ValidEntry> {
    (0..n)
        .map(|i| ValidEntry::new(format!("{{\"{tag}\":{i}}}").into_bytes(), vec![]))
        .collect()
}

/// Parses a `{uuid: entry}` answer.
pub fn parse_entry(body: &[u8]) -> (String, LogEntryAnon) {
    let map: LogEntry = signet_proto::json::from_slice(body).unwrap();
    assert_eq!(map.len(), 1);
    map.into_iter().next().unwrap()
}

pub fn verifiers(keys: &LogKeys, name: &str) -> Verifiers {
    let mut v = Verifiers::new();
    v.push(RekorNoteVerifier::new(name, keys.log.public_key().clone()).unwrap());
    v.push(Ed25519NoteVerifier::new(name, &keys.witness.public_key_raw()).unwrap());
    v
}

/// Checks an entry's proof, checkpoint signatures and SET; returns (index, size, root).
pub fn check_entry(keys: &LogKeys, name: &str, uuid: &str, e: &LogEntryAnon) -> (u64, u64, Hash) {
    let body = e.body.as_slice();
    assert_eq!(uuid, hex::encode(leaf_hash(body)), "uuid is the leaf hash");
    assert_eq!(e.log_id.as_slice(), keys.log.public_key().key_id());
    let v = e.verification.as_ref().unwrap();
    let p = v.inclusion_proof.as_ref().unwrap();
    let root: Hash = p.root_hash.as_slice().try_into().unwrap();
    let hashes: Vec<Hash> = p
        .hashes
        .iter()
        .map(|h| h.as_slice().try_into().unwrap())
        .collect();
    let index = u64::try_from(p.log_index).unwrap();
    let size = u64::try_from(p.tree_size).unwrap();
    assert_eq!(p.log_index, e.log_index);
    verify_inclusion(&leaf_hash(body), index, size, &hashes, &root).unwrap();
    let origin = p.checkpoint.lines().next().unwrap().to_string();
    assert!(origin.starts_with(&format!("{name} - ")), "origin {origin}");
    let cp =
        SignedCheckpoint::open_for_origin(p.checkpoint.as_bytes(), &origin, &verifiers(keys, name))
            .unwrap();
    assert_eq!(cp.verified().len(), 2, "both checkpoint lines verify");
    assert_eq!(cp.checkpoint().size, size);
    assert_eq!(cp.checkpoint().root, root);
    let set = v.signed_entry_timestamp.as_ref().unwrap();
    let payload = e.set_payload().canonical_bytes().unwrap();
    keys.log
        .public_key()
        .verify(&payload, set.as_slice())
        .unwrap();
    (index, size, root)
}

pub fn error_message(body: &[u8]) -> (u64, String) {
    let v: serde_json::Value = signet_proto::json::from_slice(body).unwrap();
    (
        v["code"].as_u64().unwrap(),
        v["message"].as_str().unwrap().to_string(),
    )
}

pub fn log_key_pub(keys: &LogKeys) -> PublicKey {
    keys.log.public_key().clone()
}

// ---------------------------------------------------------------------------------------------
// A test CA (rcgen) issuing Fulcio-profile precertificates and certificates.

pub struct TestCa {
    pub key: rcgen::KeyPair,
    pub params: rcgen::CertificateParams,
    pub der: Vec<u8>,
}

pub const OID_POISON: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 3];
pub const OID_SCT: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];

/// A validity window around now (whole seconds).
pub fn validity() -> (time::OffsetDateTime, time::OffsetDateTime) {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    (
        now - time::Duration::seconds(30),
        now + time::Duration::minutes(10),
    )
}

impl TestCa {
    pub fn new() -> Self {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::OrganizationName, "signet-test");
        dn.push(rcgen::DnType::CommonName, "signet-test-root");
        params.distinguished_name = dn;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(365);
        let der = params.self_signed(&key).unwrap().der().to_vec();
        Self { key, params, der }
    }

    pub fn pem(&self) -> String {
        pem::encode_config(
            &pem::Pem::new("CERTIFICATE", self.der.clone()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        )
    }

    /// Leaf params for `email`, with `issuer` extensions; poison or SCT list appended last.
    fn leaf_params(
        &self,
        email: &str,
        issuer: &str,
        serial: u64,
        validity: (time::OffsetDateTime, time::OffsetDateTime),
        extra: rcgen::CustomExtension,
    ) -> rcgen::CertificateParams {
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.subject_alt_names = vec![rcgen::SanType::Rfc822Name(email.try_into().unwrap())];
        p.is_ca = rcgen::IsCa::ExplicitNoCa;
        p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
        p.use_authority_key_identifier_extension = true;
        p.serial_number = Some(rcgen::SerialNumber::from(serial.to_be_bytes().to_vec()));
        p.not_before = validity.0;
        p.not_after = validity.1;
        p.custom_extensions = vec![
            rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 57264, 1, 1],
                issuer.as_bytes().to_vec(),
            ),
            {
                let mut v = vec![0x0c, u8::try_from(issuer.len()).unwrap()];
                v.extend_from_slice(issuer.as_bytes());
                rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 57264, 1, 8], v)
            },
            extra,
        ];
        p
    }

    /// Issues a leaf certificate (DER) for `leaf_key` with [`Self::leaf_params`].
    fn issue(
        &self,
        leaf_key: &rcgen::KeyPair,
        email: &str,
        issuer: &str,
        serial: u64,
        validity: (time::OffsetDateTime, time::OffsetDateTime),
        extra: rcgen::CustomExtension,
    ) -> Vec<u8> {
        let p = self.leaf_params(email, issuer, serial, validity, extra);
        let iss = rcgen::Issuer::from_params(&self.params, &self.key);
        p.signed_by(leaf_key, &iss).unwrap().der().to_vec()
    }

    /// Issues a precertificate (poison) for `leaf_key`.
    pub fn precert(
        &self,
        leaf_key: &rcgen::KeyPair,
        email: &str,
        issuer: &str,
        serial: u64,
        validity: (time::OffsetDateTime, time::OffsetDateTime),
    ) -> Vec<u8> {
        let mut poison = rcgen::CustomExtension::from_oid_content(OID_POISON, vec![0x05, 0x00]);
        poison.set_criticality(true);
        self.issue(leaf_key, email, issuer, serial, validity, poison)
    }

    /// Issues the final certificate embedding `sct_list_ext` (DER OCTET STRING of the list).
    pub fn final_cert(
        &self,
        leaf_key: &rcgen::KeyPair,
        email: &str,
        issuer: &str,
        serial: u64,
        validity: (time::OffsetDateTime, time::OffsetDateTime),
        sct_list_ext: Vec<u8>,
    ) -> Vec<u8> {
        let ext = rcgen::CustomExtension::from_oid_content(OID_SCT, sct_list_ext);
        self.issue(leaf_key, email, issuer, serial, validity, ext)
    }
}

pub mod witness;

pub mod metrics; // GET /metrics parsed with the Prometheus reference parser (shared with ca and cli tests)

/// Runs the `openssl` command line in `dir` and returns its standard output; a failure (or a
/// missing `openssl`, which `./x` installs) fails the test with openssl's message.
pub fn openssl(dir: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (./x installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
