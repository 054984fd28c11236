//! Rekor `intoto` 0.0.2 entries (what sigstore-js writes for DSSE attestations with
//! `legacyCompatibility`) against a log on a real RocksDB store: accepted entries get a proof
//! and SET and a canonical body without the payload; duplicates are 409; the entry is found by
//! payload hash, in-toto subject, key and email; every malformed or unverifiable proposal is a
//! 400 JSON error and stores nothing.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P521_SHA512_ASN1_SIGNING};
use axum::http::StatusCode;
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::{
    call, check_entry, error_message, new_signer, parse_entry, post_entry, search_index, sha256,
    test_config, TestCa, HOST,
};
use serde_json::{json, Value};
use signet_log::service::Log;
use signet_log::signing::LogKeys;
use signet_log::storage::{LogDb, LogStore, RocksStore};
use signet_proto::bundle::pae;
use signet_proto::keys::EcdsaSigner;

const PTYPE: &str = "application/vnd.in-toto+json";
const EMAIL: &str = "Alice@Example.com";

/// A log on a RocksDB store in a temporary directory.
struct RocksLog {
    log: Arc<Log>,
    store: Arc<RocksStore>,
    router: Router,
    keys: LogKeys,
    _dir: tempfile::TempDir,
}

fn rocks_log() -> RocksLog {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RocksStore::open(dir.path()).unwrap());
    let keys = LogKeys::generate().unwrap();
    let log = Log::start(
        LogDb::new(store.clone()),
        keys.clone(),
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
        keys,
        _dir: dir,
    }
}

impl RocksLog {
    fn size(&self) -> u64 {
        self.log.head().unwrap().size
    }

    /// Asserts the tree has `size` leaves and the store holds exactly that many entries.
    fn holds(&self, size: u64) {
        assert_eq!(self.size(), size, "tree size");
        let stored = self.store.scan(b"E", b"E", 1000).unwrap();
        assert_eq!(stored.len() as u64, size, "stored entries");
    }
}

/// An in-toto statement about `digest_hex`, with one SLSA-style material.
fn statement(digest_hex: &str, material_hex: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "pkg.tgz", "digest": {"sha256": digest_hex}}],
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "predicate": {"materials": [{"uri": "git+https://example.com/r", "digest": {"sha256": material_hex}}]}
    }))
    .unwrap()
}

/// The proposed entry exactly as sigstore-js's `toProposedIntotoEntry` builds it: payload and
/// signature base64 of their base64 text, the key base64 of its PEM, both hashes given.
fn proposed(payload: &[u8], sig: &[u8], pem: &[u8], keyid: &str) -> Value {
    let mut s = json!({
        "sig": B64.encode(B64.encode(sig)),
        "publicKey": B64.encode(pem),
    });
    if !keyid.is_empty() {
        s["keyid"] = keyid.into();
    }
    let envelope_hash = {
        // sigstore-js's `calculateDSSEHash`: RFC 8785 JSON of the envelope with the PEM key.
        let mut sig_obj =
            json!({"sig": B64.encode(sig), "publicKey": String::from_utf8(pem.to_vec()).unwrap()});
        if !keyid.is_empty() {
            sig_obj["keyid"] = keyid.into();
        }
        let env =
            json!({"payloadType": PTYPE, "payload": B64.encode(payload), "signatures": [sig_obj]});
        hex::encode(sha256(&signet_proto::jcs::to_vec(&env).unwrap()))
    };
    json!({
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {"content": {
            "envelope": {"payloadType": PTYPE, "payload": B64.encode(B64.encode(payload)), "signatures": [s]},
            "hash": {"algorithm": "sha256", "value": envelope_hash},
            "payloadHash": {"algorithm": "sha256", "value": hex::encode(sha256(payload))}
        }}
    })
}

fn sign_pae(signer: &EcdsaSigner, payload: &[u8]) -> Vec<u8> {
    signer.sign(&pae(PTYPE, payload)).unwrap()
}

fn cert_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

async fn search(router: &Router, q: Value) -> Vec<String> {
    let (s, _, b) = search_index(router, &q).await;
    assert_eq!(s, StatusCode::OK, "{q}: {}", String::from_utf8_lossy(&b));
    signet_proto::json::from_slice(&b).unwrap()
}

#[tokio::test]
async fn accepted_with_proof_canonical_body_without_payload_dedup_and_search() {
    let t = rocks_log();
    // A Fulcio-style leaf (email SAN) for a P-256 key.
    let ca = TestCa::new();
    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let leaf = ca.final_cert(
        &leaf_key,
        EMAIL,
        "https://issuer.example",
        1,
        common::validity(),
        vec![0x04, 0x02, 0x00, 0x00],
    );
    let pem = cert_pem(&leaf);
    let signer = EcdsaSigner::from_pkcs8_der(&leaf_key.serialize_der()).unwrap();
    let subject = hex::encode(sha256(b"the package"));
    let material = hex::encode(sha256(b"the source"));
    let payload = statement(&subject, &material);
    let sig = sign_pae(&signer, &payload);
    let entry = proposed(&payload, &sig, pem.as_bytes(), "");
    let submitted_hash = entry["spec"]["content"]["hash"]["value"].clone();

    let (s, h, b) = post_entry(&t.router, serde_json::to_vec(&entry).unwrap()).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    assert!(h["location"]
        .to_str()
        .unwrap()
        .starts_with("/api/v1/log/entries/"));
    let (uuid, e) = parse_entry(&b);
    check_entry(&t.keys, HOST, &uuid, &e);
    t.holds(1);

    // The stored body is Rekor's canonical form, byte for byte: RFC 8785, payload dropped,
    // sig still base64 of the base64 text, publicKey base64 of the PEM, empty keyid absent.
    let want = format!(
        concat!(
            r#"{{"apiVersion":"0.0.2","kind":"intoto","spec":{{"content":{{"envelope":{{"#,
            r#""payloadType":"{}","signatures":[{{"publicKey":"{}","sig":"{}"}}]}},"#,
            r#""hash":{{"algorithm":"sha256","value":{}}},"#,
            r#""payloadHash":{{"algorithm":"sha256","value":"{}"}}}}}}}}"#
        ),
        PTYPE,
        B64.encode(pem.as_bytes()),
        B64.encode(B64.encode(&sig)),
        submitted_hash,
        hex::encode(sha256(&payload)),
    );
    assert_eq!(String::from_utf8(e.body.0.clone()).unwrap(), want);
    let body: Value = signet_proto::json::from_slice(e.body.as_slice()).unwrap();
    assert!(body["spec"]["content"]["envelope"].get("payload").is_none());

    // GET by UUID returns the same body.
    let (s, _, b) = call(
        &t.router,
        "GET",
        &format!("/api/v1/log/entries/{uuid}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(parse_entry(&b).1.body.0, e.body.0);

    // The same proposal again: 409, nothing new.
    let (s, h, b) = post_entry(&t.router, serde_json::to_vec(&entry).unwrap()).await;
    assert_eq!(s, StatusCode::CONFLICT, "{}", String::from_utf8_lossy(&b));
    let (code, msg) = error_message(&b);
    assert_eq!(code, 409);
    assert!(msg.contains("already exists"), "{msg}");
    assert!(h["location"].to_str().unwrap().ends_with(&uuid));
    t.holds(1);
    // Without the (optional) payloadHash it is the same entry, hence also a duplicate.
    let mut no_hash = entry.clone();
    no_hash["spec"]["content"]
        .as_object_mut()
        .unwrap()
        .remove("payloadHash");
    let (s, _, _) = post_entry(&t.router, serde_json::to_vec(&no_hash).unwrap()).await;
    assert_eq!(s, StatusCode::CONFLICT);
    t.holds(1);

    // Found by payload hash, subject digest, SLSA material, key and email.
    for q in [
        json!({"hash": format!("sha256:{}", hex::encode(sha256(&payload)))}),
        json!({"hash": subject}),
        json!({"hash": format!("sha256:{material}")}),
        json!({"publicKey": {"format": "x509", "content": B64.encode(pem.as_bytes())}}),
        json!({"email": "alice@example.com"}),
    ] {
        assert_eq!(
            search(&t.router, q.clone()).await,
            vec![uuid.clone()],
            "{q}"
        );
    }
    // The envelope hash is not an index key (Rekor does not index it either).
    let envelope_hash = submitted_hash.as_str().unwrap();
    assert!(search(&t.router, json!({ "hash": envelope_hash }))
        .await
        .is_empty());

    // Retrieve by the proposed entry finds it too (same canonical body).
    let (s, _, b) = call(
        &t.router,
        "POST",
        "/api/v1/log/entries/retrieve",
        Some(serde_json::to_vec(&json!({ "entries": [entry] })).unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let found: Vec<signet_proto::rekor::LogEntry> = signet_proto::json::from_slice(&b).unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].contains_key(&uuid));
}

#[tokio::test]
async fn keyids_and_several_signatures_are_kept_in_order() {
    let t = rocks_log();
    let (a, b) = (new_signer(), new_signer());
    let payload = statement(&hex::encode(sha256(b"x")), &hex::encode(sha256(b"y")));
    let (sa, sb) = (sign_pae(&a, &payload), sign_pae(&b, &payload));
    let (pa, pb) = (a.public_key().to_pem(), b.public_key().to_pem());
    let mut entry = proposed(&payload, &sa, pa.as_bytes(), "key-a");
    entry["spec"]["content"]["envelope"]["signatures"]
        .as_array_mut()
        .unwrap()
        .push(json!({"sig": B64.encode(B64.encode(&sb)), "publicKey": B64.encode(pb.as_bytes()), "keyid": ""}));
    let (s, _, body) = post_entry(&t.router, serde_json::to_vec(&entry).unwrap()).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&body));
    let (uuid, e) = parse_entry(&body);
    let stored: Value = signet_proto::json::from_slice(e.body.as_slice()).unwrap();
    let sigs = &stored["spec"]["content"]["envelope"]["signatures"];
    // The keys are stored in the canonical PEM form (LF line ends): `to_pem` writes CRLF.
    assert!(pa.contains("\r\n"));
    let lf = |p: &str| B64.encode(p.replace("\r\n", "\n"));
    assert_eq!(
        sigs,
        &json!([
            {"keyid": "key-a", "publicKey": lf(&pa), "sig": B64.encode(B64.encode(&sa))},
            {"publicKey": lf(&pb), "sig": B64.encode(B64.encode(&sb))}
        ])
    );
    for k in [&pa, &pb] {
        let q = json!({"publicKey": {"format": "x509", "content": B64.encode(k.as_bytes())}});
        assert_eq!(search(&t.router, q).await, vec![uuid.clone()]);
    }
    t.holds(1);
}

#[tokio::test]
async fn bad_proposals_are_400_with_clear_messages_and_store_nothing() {
    let t = rocks_log();
    let signer = new_signer();
    let pem = signer.public_key().to_pem();
    let payload = statement(&hex::encode(sha256(b"a")), &hex::encode(sha256(b"b")));
    let sig = sign_pae(&signer, &payload);
    let good = proposed(&payload, &sig, pem.as_bytes(), "");
    let with = |path: &[&str], v: Option<Value>| {
        let mut g = good.clone();
        let mut cur = &mut g;
        for p in &path[..path.len() - 1] {
            cur = if let Ok(i) = p.parse::<usize>() {
                &mut cur[i]
            } else {
                &mut cur[*p]
            };
        }
        let last = path[path.len() - 1];
        match v {
            Some(v) => cur[last] = v,
            None => {
                cur.as_object_mut().unwrap().remove(last);
            }
        }
        serde_json::to_vec(&g).unwrap()
    };
    let env = ["spec", "content", "envelope"];
    let sig0 = |field: &'static str| -> Vec<&'static str> {
        vec!["spec", "content", "envelope", "signatures", "0", field]
    };

    // A P-521 key: outside the allowlist (ECDSA P-256/P-384, RSA 2048..8192, Ed25519).
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let p521 = EcdsaKeyPair::generate(&ECDSA_P521_SHA512_ASN1_SIGNING).unwrap();
    let p521_pem = pem::encode(&pem::Pem::new(
        "PUBLIC KEY",
        p521.public_key().as_der().unwrap().as_ref().to_vec(),
    ));
    let p521_sig = p521.sign(&rng, &pae(PTYPE, &payload)).unwrap();
    let other_signer = new_signer();
    let other_payload = statement(&hex::encode(sha256(b"c")), &hex::encode(sha256(b"d")));

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "wrong apiVersion",
            with(&["apiVersion"], Some("0.0.1".into())),
            "unsupported apiVersion \"0.0.1\" for kind \"intoto\" (supported: 0.0.2)",
        ),
        (
            "payload is base64 of bytes that are not base64 text",
            with(
                &[env[0], env[1], env[2], "payload"],
                Some(B64.encode(&payload).into()),
            ),
            "envelope payload must be base64 of the base64 payload text",
        ),
        (
            "payload is not base64 at all",
            with(&[env[0], env[1], env[2], "payload"], Some("%%%".into())),
            "malformed",
        ),
        (
            "sig is the signature base64 once (not base64 of the base64 text)",
            with(&sig0("sig"), Some(B64.encode(&sig).into())),
            "sig must be base64 of the base64 signature text",
        ),
        (
            "signature by another key",
            with(
                &sig0("sig"),
                Some(
                    B64.encode(B64.encode(sign_pae(&other_signer, &payload)))
                        .into(),
                ),
            ),
            "does not verify over the DSSE PAE",
        ),
        (
            "signature over another payload",
            with(
                &sig0("sig"),
                Some(
                    B64.encode(B64.encode(sign_pae(&signer, &other_payload)))
                        .into(),
                ),
            ),
            "does not verify over the DSSE PAE",
        ),
        (
            "payloadType changed after signing",
            with(
                &[env[0], env[1], env[2], "payloadType"],
                Some("text/plain".into()),
            ),
            "does not verify over the DSSE PAE",
        ),
        (
            "publicKey is raw PEM, not base64 of it",
            with(&sig0("publicKey"), Some(pem.clone().into())),
            "malformed",
        ),
        (
            "publicKey is not PEM",
            with(&sig0("publicKey"), Some(B64.encode(b"not a key").into())),
            "no PEM block found",
        ),
        (
            "publicKey with text after the PEM block",
            with(
                &sig0("publicKey"),
                Some(B64.encode(format!("{pem}trailer")).into()),
            ),
            "text after the PEM block",
        ),
        (
            "P-521 key",
            {
                let mut g = good.clone();
                g["spec"]["content"]["envelope"]["signatures"][0] = json!({
                    "sig": B64.encode(B64.encode(p521_sig.as_ref())),
                    "publicKey": B64.encode(p521_pem.as_bytes())});
                serde_json::to_vec(&g).unwrap()
            },
            "intoto signature 0",
        ),
        (
            "payloadHash disagrees with the payload",
            with(
                &["spec", "content", "payloadHash", "value"],
                Some(hex::encode(sha256(b"other")).into()),
            ),
            "does not match the SHA-256 of the envelope payload",
        ),
        (
            "payloadHash not sha256",
            with(
                &["spec", "content", "payloadHash", "algorithm"],
                Some("sha512".into()),
            ),
            "content.payloadHash must be sha256",
        ),
        (
            "hash missing",
            with(&["spec", "content", "hash"], None),
            "missing content.hash",
        ),
        (
            "hash not hex",
            with(
                &["spec", "content", "hash", "value"],
                Some("zz".repeat(32).into()),
            ),
            "content.hash",
        ),
        (
            "payload missing",
            with(&[env[0], env[1], env[2], "payload"], None),
            "must be submitted with the envelope payload",
        ),
        (
            "payload empty",
            with(&[env[0], env[1], env[2], "payload"], Some("".into())),
            "missing envelope payload",
        ),
        (
            "payloadType missing",
            with(&[env[0], env[1], env[2], "payloadType"], None),
            "malformed",
        ),
        (
            "no signatures",
            with(&[env[0], env[1], env[2], "signatures"], Some(json!([]))),
            "envelope has no signatures",
        ),
        (
            "signature without sig",
            with(&sig0("sig"), None),
            "malformed",
        ),
        (
            "signature without publicKey",
            with(&sig0("publicKey"), None),
            "malformed",
        ),
        (
            "empty sig",
            with(&sig0("sig"), Some("".into())),
            "signature 0 has an empty sig",
        ),
        (
            "envelope missing",
            with(&["spec", "content", "envelope"], None),
            "malformed",
        ),
        (
            "content missing",
            with(&["spec", "content"], None),
            "malformed",
        ),
        (
            "unknown field",
            with(&[env[0], env[1], env[2], "extra"], Some(1.into())),
            "malformed",
        ),
    ];
    for (name, body, want) in cases {
        let (s, h, b) = post_entry(&t.router, body).await;
        assert_eq!(
            s,
            StatusCode::BAD_REQUEST,
            "{name}: {}",
            String::from_utf8_lossy(&b)
        );
        assert_eq!(h["content-type"], "application/json", "{name}");
        let (code, msg) = error_message(&b);
        assert_eq!(code, 400, "{name}");
        assert!(
            msg.to_lowercase().contains(&want.to_lowercase()),
            "{name}: {msg:?} lacks {want:?}"
        );
        t.holds(0);
    }
    // The good one is then accepted, the first leaf of the tree.
    let (s, _, b) = post_entry(&t.router, serde_json::to_vec(&good).unwrap()).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    t.holds(1);
}
