//! Key and certificate fields are stored canonically, and DSSE validation work is bounded
//! (`signet_log::entries`), end to end over the HTTP API on a RocksDB store.
//!
//! * A PEM field with text the PEM parser would skip (a preamble, a trailer, headers, a second
//!   block) or DER with trailing bytes is refused with a 400 naming the problem, and nothing is
//!   stored: one signature cannot be logged as many leaves, and a field cannot hold an
//!   attacker's key followed by a victim's certificate (which other parsers would read).
//! * A field that differs only in white space is stored in the canonical form, so it is the
//!   same leaf (409 on resubmission). A client's normal entry keeps the leaf hash of the body
//!   the client computes.
//! * A dsse entry with many signatures and verifiers is refused before any signature check.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::*;
use serde_json::{json, Value};
use signet_log::service::Log;
use signet_log::storage::{LogDb, LogStore, RocksStore};
use signet_proto::bundle::pae;
use signet_proto::keys::EcdsaSigner;
use signet_proto::merkle::leaf_hash;

struct RocksLog {
    log: Arc<Log>,
    store: Arc<RocksStore>,
    router: Router,
    _dir: tempfile::TempDir,
}

fn rocks_log() -> RocksLog {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RocksStore::open(dir.path()).unwrap());
    let keys = signet_log::signing::LogKeys::generate().unwrap();
    let log = Log::start(
        LogDb::new(store.clone()),
        keys,
        HOST,
        vec![],
        &test_config(),
        Arc::new(signet_log::SystemClock),
    )
    .unwrap();
    let router = signet_log::http::router(Arc::clone(&log));
    RocksLog {
        log,
        store,
        router,
        _dir: dir,
    }
}

impl RocksLog {
    /// Asserts the tree has `size` leaves and the store holds exactly that many entries.
    fn holds(&self, size: u64) {
        assert_eq!(self.log.head().unwrap().size, size, "tree size");
        let stored = self.store.scan(b"E", b"E", 1000).unwrap();
        assert_eq!(stored.len() as u64, size, "stored entries");
    }
}

/// PEM as the Sigstore clients write it: 64-character lines, LF, a final LF (Go's
/// `pem.EncodeToMemory`, OpenSSL, sigstore-js `pem.fromDER`, the `signet` client).
fn client_pem(label: &str, der: &[u8]) -> String {
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in der.chunks(48) {
        out.push_str(&B64.encode(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn key_pem(signer: &EcdsaSigner) -> String {
    client_pem("PUBLIC KEY", signer.public_key().spki_der())
}

/// A Fulcio-style certificate for a fresh key, and that key as a signer.
fn victim_cert(ca: &TestCa, email: &str) -> (Vec<u8>, EcdsaSigner) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let der = ca.final_cert(
        &key,
        email,
        "https://issuer.example",
        9,
        validity(),
        vec![0x04, 0x02, 0x00, 0x00],
    );
    let signer = EcdsaSigner::from_pkcs8_der(&key.serialize_der()).unwrap();
    (der, signer)
}

async fn expect_400(t: &RocksLog, body: Vec<u8>, want: &str) {
    let (s, _, b) = post_entry(&t.router, body).await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "{want}: {}",
        String::from_utf8_lossy(&b)
    );
    let (code, message) = error_message(&b);
    assert_eq!(code, 400);
    assert!(message.contains(want), "{want:?} not in {message:?}");
}

/// The canonical hashedrekord body as a client computes it (RFC 8785, keys sorted).
fn client_hashedrekord_body(digest_hex: &str, sig: &[u8], pem: &str) -> Vec<u8> {
    format!(
        r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{digest_hex}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
        B64.encode(sig),
        B64.encode(pem)
    )
    .into_bytes()
}

#[tokio::test]
async fn hashedrekord_pem_junk_is_400_and_white_space_is_the_same_leaf() {
    let t = rocks_log();
    let ca = TestCa::new();
    let (cert, signer) = victim_cert(&ca, "alice@example.com");
    let pem = client_pem("CERTIFICATE", &cert);
    let artifact = b"artifact";
    let sig = signer.sign(artifact).unwrap();
    let digest = hex::encode(sha256(artifact));

    // The normal entry: the leaf is the one the client computes.
    let (s, _, b) = post_entry(&t.router, hashedrekord_raw(pem.as_bytes(), &sig, &digest)).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let (uuid, e) = parse_entry(&b);
    let want = client_hashedrekord_body(&digest, &sig, &pem);
    assert_eq!(e.body.as_slice(), want.as_slice());
    assert_eq!(uuid, hex::encode(leaf_hash(&want)));
    t.holds(1);

    // Anyone holding the logged entry can try to log it again with junk the parser skips.
    let lines: Vec<&str> = pem.lines().collect();
    let cases = [
        (
            format!("{pem}ATTACKER TRAILER\n"),
            "text after the PEM block",
        ),
        (format!("any preamble\n{pem}"), "text before the PEM block"),
        (
            format!(
                "{}\nX-Injected: header\n\n{}\n",
                lines[0],
                lines[1..].join("\n")
            ),
            "PEM headers are not allowed",
        ),
        (
            format!("{pem}{}", client_pem("CERTIFICATE", &ca.der)),
            "2 PEM blocks",
        ),
        (
            {
                let mut long = cert.clone();
                long.extend_from_slice(&[0xde, 0xad]);
                client_pem("CERTIFICATE", &long)
            },
            "2 bytes after the certificate DER",
        ),
    ];
    for (field, want) in &cases {
        expect_400(&t, hashedrekord_raw(field.as_bytes(), &sig, &digest), want).await;
    }
    t.holds(1);

    // White-space variants are the same entry: stored canonically, so a duplicate (409).
    for variant in [
        pem.replace('\n', "\r\n"),
        pem.trim_end().to_owned(),
        format!("\n\n{pem}\n"),
    ] {
        let (s, _, b) = post_entry(
            &t.router,
            hashedrekord_raw(variant.as_bytes(), &sig, &digest),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{}", String::from_utf8_lossy(&b));
    }
    t.holds(1);
}

/// An attacker's PUBLIC KEY block followed by a victim's CERTIFICATE block: the log would verify
/// with the first, other parsers (Python `cryptography`) read the second.
#[tokio::test]
async fn key_then_victim_certificate_is_400() {
    let t = rocks_log();
    let ca = TestCa::new();
    let (victim, _) = victim_cert(&ca, "victim@example.com");
    let attacker = new_signer();
    let artifact = b"malware";
    let sig = attacker.sign(artifact).unwrap();
    let content = format!(
        "{}{}",
        key_pem(&attacker),
        client_pem("CERTIFICATE", &victim)
    );
    expect_400(
        &t,
        hashedrekord_raw(content.as_bytes(), &sig, &hex::encode(sha256(artifact))),
        "2 PEM blocks (PUBLIC KEY, CERTIFICATE)",
    )
    .await;

    // The same trick in a dsse verifier and an intoto publicKey.
    let payload = b"{}";
    let dsse_sig = attacker.sign(&pae("t", payload)).unwrap();
    let env = json!({"payload": B64.encode(payload), "payloadType": "t",
        "signatures": [{"sig": B64.encode(&dsse_sig)}]});
    let dsse = json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": {
        "envelope": env.to_string(), "verifiers": [B64.encode(&content)]}}});
    expect_400(
        &t,
        serde_json::to_vec(&dsse).unwrap(),
        "dsse verifier 0: public key: 2 PEM blocks",
    )
    .await;
    let intoto = intoto_entry(&[(B64.encode(&dsse_sig), content.clone())], payload);
    expect_400(
        &t,
        serde_json::to_vec(&intoto).unwrap(),
        "intoto signature 0: public key: 2 PEM blocks",
    )
    .await;
    t.holds(0);
}

/// An intoto 0.0.2 proposal for `payload` (type `t`) with `(base64 signature, PEM)` pairs.
fn intoto_entry(sigs: &[(String, String)], payload: &[u8]) -> Value {
    let sigs: Vec<Value> = sigs
        .iter()
        .map(|(sig, pem)| json!({"sig": B64.encode(sig), "publicKey": B64.encode(pem)}))
        .collect();
    json!({"apiVersion": "0.0.2", "kind": "intoto", "spec": {"content": {
        "envelope": {"payloadType": "t", "payload": B64.encode(B64.encode(payload)),
            "signatures": sigs},
        "hash": {"algorithm": "sha256", "value": hex::encode(sha256(b"envelope"))}}}})
}

fn dsse_entry(sigs: &[Vec<u8>], verifier_pems: &[String], payload: &[u8]) -> Vec<u8> {
    let sigs: Vec<Value> = sigs.iter().map(|s| json!({"sig": B64.encode(s)})).collect();
    let env = json!({"payload": B64.encode(payload), "payloadType": "t", "signatures": sigs});
    let verifiers: Vec<String> = verifier_pems.iter().map(|p| B64.encode(p)).collect();
    serde_json::to_vec(&json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {
        "proposedContent": {"envelope": env.to_string(), "verifiers": verifiers}}}))
    .unwrap()
}

/// dsse and intoto keys: junk refused, white space stored canonically.
#[tokio::test]
async fn dsse_and_intoto_keys_are_canonical() {
    let t = rocks_log();
    let signer = new_signer();
    let pem = key_pem(&signer);
    let payload = b"{\"a\":1}";
    let sig = signer.sign(&pae("t", payload)).unwrap();

    let crlf = pem.replace('\n', "\r\n");
    let (s, _, b) = post_entry(
        &t.router,
        dsse_entry(
            std::slice::from_ref(&sig),
            std::slice::from_ref(&crlf),
            payload,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let (_, e) = parse_entry(&b);
    let body: Value = signet_proto::json::from_slice(e.body.as_slice()).unwrap();
    let stored = B64
        .decode(body["spec"]["signatures"][0]["verifier"].as_str().unwrap())
        .unwrap();
    assert_eq!(stored, pem.as_bytes(), "the verifier is stored canonically");
    // The LF submission is the same leaf.
    let (s, _, _) = post_entry(
        &t.router,
        dsse_entry(
            std::slice::from_ref(&sig),
            std::slice::from_ref(&pem),
            payload,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    expect_400(
        &t,
        dsse_entry(
            std::slice::from_ref(&sig),
            &[format!("{pem}trailer")],
            payload,
        ),
        "dsse verifier 0: public key: text after the PEM block",
    )
    .await;
    t.holds(1);

    let intoto_sig = B64.encode(&sig);
    let (s, _, b) = post_entry(
        &t.router,
        serde_json::to_vec(&intoto_entry(
            &[(intoto_sig.clone(), crlf.clone())],
            payload,
        ))
        .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let (_, e) = parse_entry(&b);
    let body: Value = signet_proto::json::from_slice(e.body.as_slice()).unwrap();
    let stored = B64
        .decode(
            body["spec"]["content"]["envelope"]["signatures"][0]["publicKey"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        stored,
        pem.as_bytes(),
        "the publicKey is stored canonically"
    );
    let (s, _, _) = post_entry(
        &t.router,
        serde_json::to_vec(&intoto_entry(&[(intoto_sig.clone(), pem.clone())], payload)).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    expect_400(
        &t,
        serde_json::to_vec(&intoto_entry(
            &[(intoto_sig, format!("preamble\n{pem}"))],
            payload,
        ))
        .unwrap(),
        "intoto signature 0: public key: text before the PEM block",
    )
    .await;
    t.holds(2);
}

/// The review's grid: 1150 signatures by the last of 540 verifiers (about 256 KiB) took 111 s
/// of CPU before it was refused for size. Now refused before any signature check.
#[tokio::test]
async fn dsse_signature_verifier_grid_is_refused_fast() {
    let t = rocks_log();
    let payload = b"x";
    let signer = new_signer();
    let sig = signer.sign(&pae("t", payload)).unwrap();
    let mut verifiers: Vec<String> = (0..539).map(|_| key_pem(&new_signer())).collect();
    verifiers.push(key_pem(&signer));
    // One real signature repeated: the same size as distinct ones, cheaper to build.
    let sigs = vec![sig.clone(); 1150];
    let body = dsse_entry(&sigs, &verifiers, payload);
    assert!(body.len() <= 256 * 1024, "{} bytes", body.len());
    let start = Instant::now();
    expect_400(&t, body, "dsse entry has 540 verifiers, at most 16").await;
    let few_verifiers = dsse_entry(&sigs, &verifiers[538..], payload);
    expect_400(
        &t,
        few_verifiers,
        "dsse envelope has 1150 signatures, at most 16",
    )
    .await;
    let elapsed = start.elapsed();
    assert!(
        elapsed < Duration::from_secs(5),
        "refused after {elapsed:?}"
    );

    // Duplicates are refused.
    expect_400(
        &t,
        dsse_entry(&[sig.clone(), sig.clone()], &verifiers[539..], payload),
        "dsse signatures 0 and 1 are identical",
    )
    .await;
    expect_400(
        &t,
        dsse_entry(
            std::slice::from_ref(&sig),
            &[verifiers[539].clone(), verifiers[539].replace('\n', "\r\n")],
            payload,
        ),
        "dsse verifiers 0 and 1 are identical",
    )
    .await;
    // Signatures too large for any stored entry: refused before checking them.
    let huge: Vec<Vec<u8>> = (0..16u8).map(|i| vec![i; 4096]).collect();
    expect_400(
        &t,
        dsse_entry(&huge, &verifiers[539..], payload),
        "the stored dsse entry would be at least",
    )
    .await;
    // intoto: the same signature cap.
    let intoto_sigs: Vec<(String, String)> = (0..17)
        .map(|i| (format!("{}{i}", B64.encode(&sig)), key_pem(&signer)))
        .collect();
    expect_400(
        &t,
        serde_json::to_vec(&intoto_entry(&intoto_sigs, payload)).unwrap(),
        "intoto envelope has 17 signatures, at most 16",
    )
    .await;
    t.holds(0);

    // 16 signatures and 16 verifiers: 256 pairs, refused before any check.
    let sigs: Vec<Vec<u8>> = (0..16)
        .map(|_| signer.sign(&pae("t", payload)).unwrap())
        .collect();
    expect_400(
        &t,
        dsse_entry(&sigs, &verifiers[524..], payload),
        "256 (signature, verifier) pairs, at most 32",
    )
    .await;
    t.holds(0);
    // At the pair cap (16 distinct signatures, all by the last of 2 verifiers): accepted.
    let start = Instant::now();
    let (s, _, b) = post_entry(&t.router, dsse_entry(&sigs, &verifiers[538..], payload)).await;
    let elapsed = start.elapsed();
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    println!("16 signatures x 2 verifiers accepted in {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    t.holds(1);
}
