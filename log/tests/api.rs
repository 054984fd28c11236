//! Rekor v1 API, C2SP read API, dedup, search, backpressure and store faults, in process.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::metrics::*;
use common::*;
use signet_log::storage::{Fault, LogStore};
use signet_proto::merkle::{verify_consistency, Hash};
use signet_proto::rekor::{ConsistencyProof, LogInfo};

#[tokio::test]
async fn hashedrekord_roundtrip_with_proof_checkpoint_and_set() {
    let t = mem_log(&test_config(), vec![]);
    let signer = new_signer();
    let (status, headers, body) =
        post_entry(&t.router, hashedrekord(&signer, b"artifact one")).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (uuid, e) = parse_entry(&body);
    assert_eq!(
        headers["location"].to_str().unwrap(),
        format!("/api/v1/log/entries/{uuid}")
    );
    let (index, size, _root) = check_entry(&t.keys, HOST, &uuid, &e);
    assert_eq!((index, size), (0, 1));
    // The body is the canonical hashedrekord.
    let v: serde_json::Value = signet_proto::json::from_slice(e.body.as_slice()).unwrap();
    assert_eq!(v["kind"], "hashedrekord");
    assert_eq!(
        v["spec"]["data"]["hash"]["value"],
        hex::encode(sha256(b"artifact one"))
    );

    // Several more, then read back in every way.
    let mut uuids = vec![uuid.clone()];
    for i in 0..20 {
        let (s, _, b) = post_entry(
            &t.router,
            hashedrekord(&signer, format!("artifact {i}").as_bytes()),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let (u, e) = parse_entry(&b);
        check_entry(&t.keys, HOST, &u, &e);
        uuids.push(u);
    }
    let (s, _, b) = call(&t.router, "GET", "/api/v1/log", None).await;
    assert_eq!(s, StatusCode::OK);
    let info: LogInfo = signet_proto::json::from_slice(&b).unwrap();
    assert_eq!(info.tree_size, 21);
    assert_eq!(info.tree_id, t.log.identity().tree_id.to_string());
    assert!(info
        .signed_tree_head
        .starts_with(&format!("{HOST} - {}\n21\n", info.tree_id)));
    assert!(info
        .signed_tree_head
        .contains("\n\n\u{2014} log.test:8080 "));

    for (i, u) in uuids.iter().enumerate() {
        let (s, _, b) = call(
            &t.router,
            "GET",
            &format!("/api/v1/log/entries?logIndex={i}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (u2, e) = parse_entry(&b);
        assert_eq!(&u2, u);
        assert_eq!(check_entry(&t.keys, HOST, &u2, &e).1, 21);
        // By UUID and by entry ID (tree id prefix).
        let (s, _, b) = call(&t.router, "GET", &format!("/api/v1/log/entries/{u}"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(parse_entry(&b).1.log_index, i64::try_from(i).unwrap());
        let id = format!("{:016x}{u}", t.log.identity().tree_id);
        let (s, _, _) = call(&t.router, "GET", &format!("/api/v1/log/entries/{id}"), None).await;
        assert_eq!(s, StatusCode::OK);
    }
    // retrieve
    let q = serde_json::json!({"entryUUIDs": [uuids[3]], "logIndexes": [5, 999]});
    let (s, _, b) = call(
        &t.router,
        "POST",
        "/api/v1/log/entries/retrieve",
        Some(serde_json::to_vec(&q).unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let arr: Vec<serde_json::Value> = signet_proto::json::from_slice(&b).unwrap();
    assert_eq!(arr.len(), 2);
    // Proposed entries are validated (signatures checked) before lookup: at most 10, as in
    // Rekor's openapi; more is refused before any check.
    let many: Vec<serde_json::Value> = (0..11)
        .map(|i| {
            signet_proto::json::from_slice(&hashedrekord(
                &signer,
                format!("artifact {i}").as_bytes(),
            ))
            .unwrap()
        })
        .collect();
    let many = serde_json::json!({ "entries": many });
    let (s, _, b) = call(
        &t.router,
        "POST",
        "/api/v1/log/entries/retrieve",
        Some(serde_json::to_vec(&many).unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_message(&b).1, "at most 10 entries per query");

    // public key
    let (s, _, b) = call(&t.router, "GET", "/api/v1/log/publicKey", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        String::from_utf8(b).unwrap(),
        t.keys.log.public_key().to_pem()
    );
}

/// Issue 15 E: `entries/retrieve` answers (and signs a SET for) each entry once, however many
/// times and however it is named: a repeated index, a repeated UUID, the UUID in upper case,
/// the entry ID (tree id prefix), the same proposed entry twice, and all of these at once.
#[tokio::test]
async fn retrieve_answers_each_entry_once() {
    let t = mem_log(&test_config(), vec![]);
    let signer = new_signer();
    let mut proposed = Vec::new();
    let mut uuids = Vec::new();
    for i in 0..4u32 {
        let body = hashedrekord(&signer, format!("retrieve {i}").as_bytes());
        let (s, _, b) = post_entry(&t.router, body.clone()).await;
        assert_eq!(s, StatusCode::CREATED);
        uuids.push(parse_entry(&b).0);
        proposed.push(signet_proto::json::from_slice::<serde_json::Value>(&body).unwrap());
    }
    let keys = &t.keys;
    let retrieve = |q: serde_json::Value| {
        let router = t.router.clone();
        async move {
            let (s, _, b) = call(
                &router,
                "POST",
                "/api/v1/log/entries/retrieve",
                Some(serde_json::to_vec(&q).unwrap()),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
            let arr: Vec<signet_proto::rekor::LogEntry> =
                signet_proto::json::from_slice(&b).unwrap();
            arr.into_iter()
                .map(|m| {
                    assert_eq!(m.len(), 1);
                    let (u, e) = m.into_iter().next().unwrap();
                    check_entry(keys, HOST, &u, &e);
                    e.log_index
                })
                .collect::<Vec<i64>>()
        }
    };
    let entry_id = format!("{:016x}{}", t.log.identity().tree_id, uuids[1]);
    let cases = [
        (serde_json::json!({"logIndexes": vec![2; 100]}), vec![2]),
        (
            serde_json::json!({"logIndexes": [3, 1, 3, 999, 1]}),
            vec![3, 1],
        ),
        (
            serde_json::json!({"entryUUIDs": [uuids[0], uuids[0].to_uppercase(), uuids[0]]}),
            vec![0],
        ),
        (
            serde_json::json!({"entryUUIDs": [uuids[1], entry_id, entry_id.to_uppercase()]}),
            vec![1],
        ),
        (
            serde_json::json!({"entries": [proposed[2], proposed[2], proposed[2]]}),
            vec![2],
        ),
        (
            serde_json::json!({"entryUUIDs": [uuids[3], uuids[2]], "logIndexes": [2, 3, 0],
                "entries": [proposed[3], proposed[0]]}),
            vec![3, 2, 0],
        ),
    ];
    for (q, want) in cases {
        assert_eq!(retrieve(q.clone()).await, want, "{q}");
    }
}

#[tokio::test]
async fn consistency_proofs_and_ranges() {
    let t = mem_log(&test_config(), vec![]);
    let signer = new_signer();
    let roots: Vec<(u64, Hash)> = log_numbered(&t.router, &signer, 0..40)
        .await
        .into_iter()
        .map(|(_, e)| {
            let p = e.verification.unwrap().inclusion_proof.unwrap();
            (
                u64::try_from(p.tree_size).unwrap(),
                p.root_hash.as_slice().try_into().unwrap(),
            )
        })
        .collect();
    let (last, last_root) = *roots.last().unwrap();
    for (size, root) in &roots {
        let (s, _, b) = call(
            &t.router,
            "GET",
            &format!("/api/v1/log/proof?firstSize={size}&lastSize={last}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let p: ConsistencyProof = signet_proto::json::from_slice(&b).unwrap();
        let hashes: Vec<Hash> = p
            .hashes
            .iter()
            .map(|h| h.as_slice().try_into().unwrap())
            .collect();
        assert_eq!(p.root_hash.as_slice(), last_root);
        verify_consistency(*size, last, root, &last_root, &hashes).unwrap();
    }
    for bad in [
        format!("/api/v1/log/proof?firstSize=5&lastSize={}", last + 1),
        "/api/v1/log/proof?firstSize=10&lastSize=5".to_string(),
        "/api/v1/log/proof?firstSize=0&lastSize=5".to_string(),
        "/api/v1/log/proof?firstSize=x".to_string(),
        "/api/v1/log/proof?firstSize=-1".to_string(),
    ] {
        let (s, _, b) = call(&t.router, "GET", &bad, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        let (code, msg) = error_message(&b);
        assert_eq!(code, 400);
        assert!(!msg.is_empty());
    }
    let (s, _, _) = call(
        &t.router,
        "GET",
        &format!("/api/v1/log/entries?logIndex={last}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = call(
        &t.router,
        "GET",
        &format!("/api/v1/log/entries/{}", "ab".repeat(32)),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = call(&t.router, "GET", "/api/v1/log/entries/xyz", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

/// Entry ids that are not 64 or 80 hex characters are 400s with a JSON message, on
/// `GET /api/v1/log/entries/{id}` and in `entryUUIDs` of `POST /api/v1/log/entries/retrieve`;
/// among them 80 bytes whose 16th byte falls inside a multi-byte character, which used to
/// panic the handler (a dropped connection instead of an answer).
#[tokio::test]
async fn malformed_entry_ids_are_400() {
    let t = mem_log(&test_config(), vec![]);
    let (s, _, b) = post_entry(&t.router, hashedrekord(&new_signer(), b"id test")).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let uuid = parse_entry(&b).0;
    let tree = format!("{:016x}", t.log.identity().tree_id);
    let cases = [
        // Byte 16 inside the two-byte 'é' (bytes 15..17).
        (format!("{}é{}", "a".repeat(15), "a".repeat(63)), "not hex"),
        (format!("{}é{}", "a".repeat(62), ""), "not hex"),
        (format!("{tree}{}", "g".repeat(64)), "not hex"),
        (format!("+{}{uuid}", &tree[1..]), "not hex"),
        (format!("-{}{uuid}", &tree[1..]), "not hex"),
        (format!("{tree}{uuid}00"), "64 (or 80"),
        (uuid[..63].to_owned(), "64 (or 80"),
        (String::new(), "64 (or 80"),
    ];
    for (id, needle) in &cases {
        let path = format!(
            "/api/v1/log/entries/{}",
            id.bytes().map(|b| format!("%{b:02X}")).collect::<String>()
        );
        let (s, _, b) = call(&t.router, "GET", &path, None).await;
        if id.is_empty() {
            // `/api/v1/log/entries/` is not the by-id route.
            assert!(s.is_client_error(), "{id:?}: {s}");
            continue;
        }
        assert_eq!(
            s,
            StatusCode::BAD_REQUEST,
            "{id:?}: {}",
            String::from_utf8_lossy(&b)
        );
        let (code, msg) = error_message(&b);
        assert_eq!(code, 400);
        assert!(msg.contains(needle), "{id:?}: {msg}");
        let q = serde_json::json!({ "entryUUIDs": [id] });
        let (s, _, b) = call(
            &t.router,
            "POST",
            "/api/v1/log/entries/retrieve",
            Some(serde_json::to_vec(&q).unwrap()),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::BAD_REQUEST,
            "retrieve {id:?}: {}",
            String::from_utf8_lossy(&b)
        );
        assert!(error_message(&b).1.contains(needle), "retrieve {id:?}");
    }
    // The well-formed forms still answer, and another tree's id is a 404.
    for id in [uuid.clone(), format!("{tree}{uuid}")] {
        let (s, _, _) = call(&t.router, "GET", &format!("/api/v1/log/entries/{id}"), None).await;
        assert_eq!(s, StatusCode::OK, "{id}");
    }
    let other_tree = format!("{:016x}", t.log.identity().tree_id ^ 1);
    let (s, _, b) = call(
        &t.router,
        "GET",
        &format!("/api/v1/log/entries/{other_tree}{uuid}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(error_message(&b).1.contains("another tree"));
}

#[tokio::test]
async fn duplicates_get_409_and_never_a_second_leaf() {
    let cfg = signet_log::LogConfig {
        batch_max_delay_ms: 200,
        ..test_config()
    };
    let t = mem_log(&cfg, vec![]);
    let signer = new_signer();
    let entry = hashedrekord(&signer, b"dup");
    // Two identical submissions land in the same batch.
    let (a, b) = tokio::join!(
        post_entry(&t.router, entry.clone()),
        post_entry(&t.router, entry.clone()),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    assert_eq!(t.log.head().unwrap().size, 1);
    // And again later.
    let (s, h, b) = post_entry(&t.router, entry).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (code, msg) = error_message(&b);
    assert_eq!(code, 409);
    assert!(msg.contains("already exists"), "{msg}");
    assert!(h["location"]
        .to_str()
        .unwrap()
        .starts_with("/api/v1/log/entries/"));
    assert_eq!(t.log.head().unwrap().size, 1);
}

fn nothing_stored(t: &TestLog, before: u64) {
    assert_eq!(t.log.head().unwrap().size, before, "tree grew");
    let entries = t.store.scan(b"E", b"E", 1000).unwrap();
    assert_eq!(entries.len() as u64, before, "entry stored");
}

#[tokio::test]
async fn bad_inputs_are_4xx_with_clear_messages_and_store_nothing() {
    let cfg = signet_log::LogConfig {
        max_body_bytes: 8 * 1024,
        ..test_config()
    };
    let t = mem_log(&cfg, vec![]);
    let signer = new_signer();
    let pem = signer.public_key().to_pem();
    let digest = hex::encode(sha256(b"a"));
    let sig = signer.sign(b"a").unwrap();
    let good: serde_json::Value =
        signet_proto::json::from_slice(&hashedrekord(&signer, b"a")).unwrap();
    let with = |path: &[&str], v: serde_json::Value| {
        let mut g = good.clone();
        let mut cur = &mut g;
        for p in &path[..path.len() - 1] {
            cur = &mut cur[*p];
        }
        cur[path[path.len() - 1]] = v;
        serde_json::to_vec(&g).unwrap()
    };
    let other_digest = hex::encode(sha256(b"b"));
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("malformed json", b"{\"kind\": ".to_vec(), 400, "malformed"),
        ("not an object", b"[1,2]".to_vec(), 400, "kind"),
        (
            "unknown kind",
            with(&["kind"], "rekord".into()),
            400,
            "unsupported entry kind",
        ),
        (
            "unknown version",
            with(&["apiVersion"], "0.0.2".into()),
            400,
            "unsupported apiVersion",
        ),
        (
            "unknown field",
            with(&["spec", "extra"], 1.into()),
            400,
            "unknown field",
        ),
        (
            "bad base64 signature",
            with(&["spec", "signature", "content"], "!!!not base64".into()),
            400,
            "base64",
        ),
        (
            "bad base64 key",
            with(&["spec", "signature", "publicKey", "content"], "%%%".into()),
            400,
            "base64",
        ),
        (
            "key not PEM",
            with(
                &["spec", "signature", "publicKey", "content"],
                B64.encode("hello").into(),
            ),
            400,
            "PEM",
        ),
        (
            "digest not hex",
            with(&["spec", "data", "hash", "value"], "zz".repeat(32).into()),
            400,
            "invalid",
        ),
        (
            "digest short",
            with(&["spec", "data", "hash", "value"], "ab".into()),
            400,
            "invalid",
        ),
        (
            "sha1 digest",
            with(&["spec", "data", "hash", "algorithm"], "sha1".into()),
            400,
            "",
        ),
        (
            "digest does not match signature",
            hashedrekord_raw(pem.as_bytes(), &sig, &other_digest),
            400,
            "signature verification failed",
        ),
        (
            "garbage signature",
            hashedrekord_raw(pem.as_bytes(), b"garbage", &digest),
            400,
            "signature verification failed",
        ),
        (
            "oversized body",
            {
                let mut v = good.clone();
                v["spec"]["pad"] = "x".repeat(10_000).into();
                serde_json::to_vec(&v).unwrap()
            },
            413,
            "too large",
        ),
    ];
    for (name, body, want, needle) in cases {
        let (s, _, b) = post_entry(&t.router, body).await;
        assert_eq!(s.as_u16(), want, "{name}: {}", String::from_utf8_lossy(&b));
        let (code, msg) = error_message(&b);
        assert_eq!(code, u64::from(want), "{name}");
        assert!(msg.contains(needle), "{name}: {msg}");
        nothing_stored(&t, 0);
    }
    // Ed25519 keys cannot sign a prehashed digest.
    let ed =
        signet_proto::keys::Ed25519Signer::generate(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let body = hashedrekord_raw(ed.public_key().to_pem().as_bytes(), &ed.sign(b"a"), &digest);
    let (s, _, b) = post_entry(&t.router, body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        error_message(&b).1.contains("Ed25519"),
        "{}",
        error_message(&b).1
    );
    // dsse with a bad signature.
    let env = serde_json::json!({"payload": B64.encode("{}"), "payloadType": "application/vnd.in-toto+json",
        "signatures": [{"sig": B64.encode(signer.sign(b"other").unwrap())}]});
    let dsse = serde_json::json!({"apiVersion":"0.0.1","kind":"dsse","spec":{"proposedContent":{
        "envelope": env.to_string(), "verifiers": [B64.encode(&pem)]}}});
    let (s, _, b) = post_entry(&t.router, serde_json::to_vec(&dsse).unwrap()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        error_message(&b).1.contains("not verified"),
        "{}",
        error_message(&b).1
    );
    nothing_stored(&t, 0);
    // Unknown endpoints are JSON 404s.
    let (s, _, b) = call(&t.router, "GET", "/api/v2/nothing", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_message(&b).0, 404);
    // A method an endpoint does not serve is a JSON 405 naming it, with `Allow` (the fuzz
    // target log_http found these answered with an empty body).
    for (method, path, allowed) in [
        ("POST", "/api/v1/log/entries/retrieve&", "GET"),
        ("DELETE", "/api/v1/log/entries", "POST"),
        ("PUT", "/checkpoint", "GET"),
    ] {
        let (s, h, b) = call(&t.router, method, path, None).await;
        assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        let (code, msg) = error_message(&b);
        assert_eq!(code, 405);
        assert!(msg.contains(method), "{msg}");
        let allow = h.get("allow").map(|v| v.to_str().unwrap().to_owned());
        assert!(
            allow.as_deref().is_some_and(|a| a.contains(allowed)),
            "{method} {path}: Allow {allow:?}"
        );
    }
    // What axum's extractors reject before a handler runs is JSON too (found by log_http).
    for path in [
        "/tile/entries/000.p/5.%FF",
        "/api/v1/log/entries/%FF%FE",
        "/api/v1/log/entries?logIndex=%FF",
    ] {
        let (s, _, b) = call(&t.router, "GET", path, None).await;
        assert!(s.is_client_error(), "{path}: {s}");
        let (code, msg) = error_message(&b);
        assert_eq!(code, u64::from(s.as_u16()), "{path}");
        assert!(!msg.is_empty(), "{path}");
    }
}

#[tokio::test]
async fn dsse_entries_are_verified_and_canonicalized() {
    let t = mem_log(&test_config(), vec![]);
    let signer = new_signer();
    let pem = signer.public_key().to_pem();
    let artifact_digest = hex::encode(sha256(b"the artifact"));
    let payload = serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "a", "digest": {"sha256": artifact_digest}}],
        "predicateType": "https://example.com/p", "predicate": {}
    }))
    .unwrap();
    let ptype = "application/vnd.in-toto+json";
    let pae = signet_proto::bundle::pae(ptype, &payload);
    let sig = signer.sign(&pae).unwrap();
    let env = serde_json::json!({"payload": B64.encode(&payload), "payloadType": ptype,
        "signatures": [{"sig": B64.encode(&sig), "keyid": ""}]});
    let dsse = serde_json::json!({"apiVersion":"0.0.1","kind":"dsse","spec":{"proposedContent":{
        "envelope": env.to_string(), "verifiers": [B64.encode(&pem)]}}});
    let (s, _, b) = post_entry(&t.router, serde_json::to_vec(&dsse).unwrap()).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let (uuid, e) = parse_entry(&b);
    check_entry(&t.keys, HOST, &uuid, &e);
    let body: serde_json::Value = signet_proto::json::from_slice(e.body.as_slice()).unwrap();
    assert_eq!(body["kind"], "dsse");
    assert_eq!(
        body["spec"]["payloadHash"]["value"],
        hex::encode(sha256(&payload))
    );
    let env_canon = format!(
        "{{\"payload\":\"{}\",\"payloadType\":\"{ptype}\",\"signatures\":[{{\"sig\":\"{}\"}}]}}",
        B64.encode(&payload),
        B64.encode(&sig)
    );
    assert_eq!(
        body["spec"]["envelopeHash"]["value"],
        hex::encode(sha256(env_canon.as_bytes()))
    );
    // The verifier is stored in the canonical PEM form (LF line ends): `to_pem` writes CRLF.
    assert!(pem.contains("\r\n"));
    assert_eq!(
        body["spec"]["signatures"][0]["verifier"],
        B64.encode(pem.replace("\r\n", "\n"))
    );
    // Searchable by the in-toto subject digest.
    let q = serde_json::json!({"hash": format!("sha256:{artifact_digest}")});
    let (s, _, b) = search_index(&t.router, &q).await;
    assert_eq!(s, StatusCode::OK);
    let found: Vec<String> = signet_proto::json::from_slice(&b).unwrap();
    assert_eq!(found, vec![uuid]);
}

/// Issue 15 B: a dsse signature carrying a `keyid` is hashed with it, by the one canonical
/// envelope function the verifier also uses (`signet_proto::rekor::dsse_envelope_hash`);
/// before, the log dropped keyids and the verifier kept them, so such a bundle never
/// verified. The submitted text's key order and spacing do not matter.
#[tokio::test]
async fn dsse_envelope_hash_keeps_the_keyid() {
    let t = mem_log(&test_config(), vec![]);
    let signer = new_signer();
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[]}"#;
    let ptype = "application/vnd.in-toto+json";
    let sig = signer
        .sign(&signet_proto::bundle::pae(ptype, payload))
        .unwrap();
    let submitted = format!(
        "{{ \"signatures\": [{{\"sig\": \"{}\", \"keyid\": \"key-1\"}}], \"payloadType\": \"{ptype}\", \"payload\": \"{}\" }}",
        B64.encode(&sig),
        B64.encode(payload)
    );
    let dsse = serde_json::json!({"apiVersion":"0.0.1","kind":"dsse","spec":{"proposedContent":{
        "envelope": submitted, "verifiers": [B64.encode(signer.public_key().to_pem())]}}});
    let (s, _, b) = post_entry(&t.router, serde_json::to_vec(&dsse).unwrap()).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let (_, e) = parse_entry(&b);
    let body: serde_json::Value = signet_proto::json::from_slice(e.body.as_slice()).unwrap();
    let env: signet_proto::bundle::DsseEnvelope = serde_json::from_str(&submitted).unwrap();
    assert_eq!(env.signatures[0].keyid, "key-1");
    let want = format!(
        "{{\"payload\":\"{}\",\"payloadType\":\"{ptype}\",\"signatures\":[{{\"keyid\":\"key-1\",\"sig\":\"{}\"}}]}}",
        B64.encode(payload),
        B64.encode(&sig)
    );
    assert_eq!(
        body["spec"]["envelopeHash"]["value"],
        hex::encode(sha256(want.as_bytes()))
    );
    assert_eq!(
        body["spec"]["envelopeHash"]["value"],
        hex::encode(signet_proto::rekor::dsse_envelope_hash(&env).unwrap())
    );
}

#[tokio::test]
async fn search_is_complete() {
    let t = mem_log(&test_config(), vec![]);
    let a = new_signer();
    let b = new_signer();
    let mut by_a = Vec::new();
    let mut shared = Vec::new();
    for i in 0..300u32 {
        let s = if i % 3 == 0 { &b } else { &a };
        let artifact = if i % 50 == 0 {
            b"shared".to_vec()
        } else {
            i.to_be_bytes().to_vec()
        };
        let (st, _, body) = post_entry(&t.router, hashedrekord(s, &artifact)).await;
        assert_eq!(st, StatusCode::CREATED);
        let (u, _) = parse_entry(&body);
        if i % 3 != 0 {
            by_a.push(u.clone());
        }
        if i % 50 == 0 {
            shared.push(u);
        }
    }
    let key_q = serde_json::json!({"publicKey": {"format": "x509", "content": B64.encode(a.public_key().to_pem())}});
    let (s, _, body) = search_index(&t.router, &key_q).await;
    assert_eq!(s, StatusCode::OK);
    let mut got: Vec<String> = signet_proto::json::from_slice(&body).unwrap();
    got.sort();
    by_a.sort();
    assert_eq!(got, by_a);
    let hq = serde_json::json!({"hash": hex::encode(sha256(b"shared"))});
    let (_, _, body) = search_index(&t.router, &hq).await;
    let mut got: Vec<String> = signet_proto::json::from_slice(&body).unwrap();
    got.sort();
    shared.sort();
    assert_eq!(got, shared);
    // AND of key a and the shared hash.
    let mut and = key_q.clone();
    and["hash"] = format!("sha256:{}", hex::encode(sha256(b"shared"))).into();
    and["operator"] = "and".into();
    let (_, _, body) = search_index(&t.router, &and).await;
    let got: Vec<String> = signet_proto::json::from_slice(&body).unwrap();
    let want: Vec<&String> = shared.iter().filter(|u| by_a.contains(u)).collect();
    assert_eq!(got.len(), want.len());
    for bad in [
        serde_json::json!({}),
        serde_json::json!({"hash": "sha256:12"}),
        serde_json::json!({"bogus": 1}),
    ] {
        let (s, _, _) = search_index(&t.router, &bad).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn tiles_checkpoint_and_bundles() {
    let t = mem_log(&test_config(), vec![]);
    let signer = new_signer();
    // 300 entries: one full level-0 tile + a partial one.
    let bodies = log_numbered_concurrently(&t.router, &signer, 0..300).await;
    assert_eq!(t.log.head().unwrap().size, 300);
    let (s, h, cp) = call(&t.router, "GET", "/checkpoint", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["cache-control"], "no-cache");
    let cpt = String::from_utf8(cp).unwrap();
    assert!(cpt.contains("\n300\n"));

    let (s, h, full) = call(&t.router, "GET", "/tile/0/000", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(full.len(), 256 * 32);
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    let (s, _, part) = call(&t.router, "GET", "/tile/0/001.p/44", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(part.len(), 44 * 32);
    let (s, _, p10) = call(&t.router, "GET", "/tile/0/001.p/10", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(&p10[..], &part[..320]);
    let (s, _, l1) = call(&t.router, "GET", "/tile/1/000.p/1", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        l1,
        signet_proto::merkle::root_from_leaves(
            &full
                .chunks(32)
                .map(|c| c.try_into().unwrap())
                .collect::<Vec<Hash>>()
        )
        .to_vec()
    );
    for missing in [
        "/tile/0/001",
        "/tile/0/001.p/45",
        "/tile/0/002.p/1",
        "/tile/1/000",
        "/tile/0/1",
        "/tile/x",
    ] {
        let (s, _, _) = call(&t.router, "GET", missing, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{missing}");
    }
    let (s, _, eb) = call(&t.router, "GET", "/tile/entries/000", None).await;
    assert_eq!(s, StatusCode::OK);
    let dec = signet_proto::tiles::decode_entry_bundle(&eb).unwrap();
    assert_eq!(dec.len(), 256);
    for (i, d) in dec.iter().enumerate() {
        assert_eq!(d, &bodies[i].1);
        assert_eq!(
            &full[i * 32..i * 32 + 32],
            signet_proto::merkle::leaf_hash(d)
        );
    }
    let (s, _, eb) = call(&t.router, "GET", "/tile/entries/001.p/3", None).await;
    assert_eq!(s, StatusCode::OK);
    let dec = signet_proto::tiles::decode_entry_bundle(&eb).unwrap();
    assert_eq!(
        dec,
        vec![
            bodies[256].1.clone(),
            bodies[257].1.clone(),
            bodies[258].1.clone()
        ]
    );
    // Metrics (parsed as Prometheus text) count the routes and show the tree size, the
    // batches, the queue, the build and the process.
    let (s, _, m) = call(&t.router, "GET", "/metrics", None).await;
    assert_eq!(s, StatusCode::OK);
    let m = parse_metrics(std::str::from_utf8(&m).unwrap());
    assert_eq!(metric(&m, "signet_log_tree_size", &[]), 300.0);
    let entries = [("route", "/api/v1/log/entries"), ("status", "201")];
    assert_eq!(
        metric(&m, "signet_log_http_requests_total", &entries),
        300.0
    );
    let post_route = [("route", "/api/v1/log/entries")];
    assert_eq!(
        metric(
            &m,
            "signet_log_http_request_duration_seconds_count",
            &post_route
        ),
        300.0
    );
    assert_eq!(
        metric_kind(&m, "signet_log_http_request_duration_seconds_count"),
        "histogram"
    );
    assert_eq!(metric_kind(&m, "signet_log_http_requests_total"), "counter");
    assert_eq!(
        metric(&m, "signet_log_entries_total", &[("result", "added")]),
        300.0
    );
    assert_eq!(
        metric(&m, "signet_log_entries_total", &[("result", "rejected")]),
        0.0
    );
    let batches = metric(&m, "signet_log_batch_size_count", &[]);
    assert!(batches >= 1.0, "{batches} batches");
    assert_eq!(metric(&m, "signet_log_batch_size_sum", &[]), 300.0);
    assert_eq!(
        metric(&m, "signet_log_batch_size_bucket", &[("le", "+Inf")]),
        batches
    );
    assert_eq!(metric(&m, "signet_log_queue_depth", &[]), 0.0);
    let tiles = [("route", "/tile/{*path}"), ("status", "200")];
    assert_eq!(metric(&m, "signet_log_http_requests_total", &tiles), 6.0);
    let missing = [("route", "/tile/{*path}"), ("status", "404")];
    assert_eq!(metric(&m, "signet_log_http_requests_total", &missing), 6.0);
    assert_eq!(
        metric(
            &m,
            "signet_build_info",
            &[
                ("version", env!("CARGO_PKG_VERSION")),
                ("commit", signet_log::metrics::COMMIT)
            ]
        ),
        1.0
    );
    let commit = signet_log::metrics::COMMIT;
    assert!(
        commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
        "build.rs recorded no git commit: {commit:?}"
    );
    assert!(metric(&m, "process_resident_memory_bytes", &[]) > 0.0);
    assert!(metric(&m, "process_start_time_seconds", &[]) > 1.6e9);
    let (s, _, _) = call(&t.router, "GET", "/healthz", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(&t.router, "GET", "/readyz", None).await;
    assert_eq!(s, StatusCode::OK);
}

/// The batch delay is a maximum: a batch with nothing else on its way closes at once, so a
/// lone request does not wait out a long `batch_max_delay_ms`.
#[tokio::test]
async fn lone_entry_does_not_wait_for_the_batch_delay() {
    let cfg = signet_log::LogConfig {
        batch_max_delay_ms: 8_000,
        ..signet_log::LogConfig::default()
    };
    let t = mem_log(&cfg, vec![]);
    let signer = new_signer();
    for i in 0..3u32 {
        let started = std::time::Instant::now();
        let (s, _, _) = post_entry(&t.router, hashedrekord(&signer, &i.to_be_bytes())).await;
        assert_eq!(s, StatusCode::CREATED);
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(4),
            "entry {i} waited {took:?} with nothing else arriving"
        );
    }
    assert_eq!(t.log.head().unwrap().size, 3);
}

/// A full entry bundle is written once, when a later batch completes it; partial bundles are
/// assembled from the entries. Both must serve exactly the logged bodies, at every width.
#[tokio::test]
async fn entry_bundles_completed_across_batches() {
    let t = mem_log(&test_config(), vec![]);
    let signer = new_signer();
    let mut bodies: Vec<(i64, Vec<u8>)> = Vec::new();
    // Three waves (each its own batch or batches): 100 + 100 + 100 entries, so bundle 0 is
    // completed by the third wave from 200 entries of earlier batches plus 56 new ones.
    for wave in 0..3u32 {
        let numbers = (0..100u32).map(|i| wave * 1000 + i);
        bodies.extend(log_numbered_concurrently(&t.router, &signer, numbers).await);
        bodies.sort();
        let size = t.log.head().unwrap().size;
        assert_eq!(size, u64::from(wave + 1) * 100);
        // Every partial width of the newest bundle, as C2SP clients ask for it.
        let last = (size - 1) / 256;
        let have = size - last * 256;
        for w in [1, have / 2, have] {
            let path = format!("/tile/entries/{last:03}.p/{w}");
            let (s, _, eb) = call(&t.router, "GET", &path, None).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            let dec = signet_proto::tiles::decode_entry_bundle(&eb).unwrap();
            let want: Vec<Vec<u8>> = bodies[(last * 256) as usize..(last * 256 + w) as usize]
                .iter()
                .map(|b| b.1.clone())
                .collect();
            assert_eq!(dec, want, "{path}");
        }
    }
    // Bundle 0 is full now: stored once, served whole, byte for byte the 256 bodies.
    assert!(t.log.db().bundle_raw(0).unwrap().is_some());
    assert!(t.log.db().bundle_raw(1).unwrap().is_none());
    let (s, h, eb) = call(&t.router, "GET", "/tile/entries/000", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    let want: Vec<u8> = signet_proto::tiles::encode_entry_bundle(
        &bodies[..256]
            .iter()
            .map(|b| b.1.as_slice())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(eb, want);
    let (s, _, _) = call(&t.router, "GET", "/tile/entries/001.p/45", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let pk = t.keys.log.public_key().clone();
    let report = signet_log::fsck::fsck(t.log.db(), &pk, None).unwrap();
    assert_eq!(report.size, 300);
}

#[tokio::test]
async fn full_queue_answers_503_with_retry_after() {
    let cfg = signet_log::LogConfig {
        queue_capacity: 1,
        batch_max_entries: 1,
        batch_max_delay_ms: 0,
        retry_after_secs: 7,
        ..test_config()
    };
    let t = mem_log(&cfg, vec![]);
    // Stall the sequencer inside its commit.
    t.store
        .set_fault_hook(Some(Arc::new(|_b: &signet_log::storage::Batch| {
            std::thread::sleep(Duration::from_millis(400));
            Fault::Apply
        })));
    let signer = new_signer();
    let first = tokio::spawn({
        let r = t.router.clone();
        let e = hashedrekord(&signer, b"1");
        async move { post_entry(&r, e).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await; // first is now being committed
    let second = tokio::spawn({
        let r = t.router.clone();
        let e = hashedrekord(&signer, b"2");
        async move { post_entry(&r, e).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await; // second fills the queue
    let (s, h, b) = post_entry(&t.router, hashedrekord(&signer, b"3")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h["retry-after"], "7");
    assert_eq!(error_message(&b).0, 503);
    assert_eq!(first.await.unwrap().0, StatusCode::CREATED);
    assert_eq!(second.await.unwrap().0, StatusCode::CREATED);
    assert_eq!(t.log.head().unwrap().size, 2);
}

#[tokio::test]
async fn store_faults_before_and_after_write() {
    let t = mem_log(&test_config(), vec![]);
    let signer = new_signer();
    let (s, _, _) = post_entry(&t.router, hashedrekord(&signer, b"ok")).await;
    assert_eq!(s, StatusCode::CREATED);

    // Failed, not persisted: 500, nothing changes, the same entry succeeds later.
    t.store
        .set_fault_hook(Some(Arc::new(|_b: &signet_log::storage::Batch| {
            Fault::FailBefore
        })));
    let e = hashedrekord(&signer, b"x");
    let (s, _, b) = post_entry(&t.router, e.clone()).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        error_message(&b).1,
        "internal error",
        "no internal details leak"
    );
    assert_eq!(t.log.head().unwrap().size, 1);
    t.store.set_fault_hook(None);
    let (s, _, b) = post_entry(&t.router, e).await;
    assert_eq!(s, StatusCode::CREATED);
    let (u, en) = parse_entry(&b);
    assert_eq!(check_entry(&t.keys, HOST, &u, &en).0, 1);

    // Failed but persisted: 500, then the head reflects the write and a retry is a 409.
    t.store
        .set_fault_hook(Some(Arc::new(|_b: &signet_log::storage::Batch| {
            Fault::FailAfter
        })));
    let e = hashedrekord(&signer, b"y");
    let (s, _, _) = post_entry(&t.router, e.clone()).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    t.store.set_fault_hook(None);
    assert_eq!(t.log.head().unwrap().size, 3);
    let (s, _, _) = post_entry(&t.router, e).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _, b) = call(&t.router, "GET", "/api/v1/log/entries?logIndex=2", None).await;
    assert_eq!(s, StatusCode::OK);
    let (u, en) = parse_entry(&b);
    check_entry(&t.keys, HOST, &u, &en);
    let report = signet_log::fsck::fsck(
        t.log.db(),
        t.keys.log.public_key(),
        Some(&t.keys.witness.public_key_raw()),
    )
    .unwrap();
    assert_eq!(report.size, 3);
}

/// Every wall-clock time the log writes comes from the clock it was given: the integration
/// time of a submitted entry (in its answer, its SET and the store) and of bulk-appended ones.
#[tokio::test]
async fn integration_times_come_from_the_injected_clock() {
    let clock = Arc::new(signet_log::FixedClock::new(1_700_000_123_999));
    let t = common::mem_log_with_clock(&test_config(), vec![], clock.clone());
    let signer = new_signer();
    let (status, _, body) = post_entry(&t.router, hashedrekord(&signer, b"clocked")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (uuid, e) = parse_entry(&body);
    check_entry(&t.keys, HOST, &uuid, &e);
    assert_eq!(e.integrated_time, 1_700_000_123);
    assert_eq!(
        t.log.db().entry(0).unwrap().unwrap().integrated_time,
        1_700_000_123
    );

    clock.set(1_800_000_000_000);
    let size = t
        .log
        .bulk_append(&common::plain_entries(3, "clocked bulk"), 2)
        .unwrap();
    assert_eq!(size, 4);
    for i in 1..4 {
        assert_eq!(
            t.log.db().entry(i).unwrap().unwrap().integrated_time,
            1_800_000_000
        );
    }
    let (s, _, b) = call(&t.router, "GET", "/api/v1/log/entries?logIndex=3", None).await;
    assert_eq!(s, StatusCode::OK);
    let (_, e) = parse_entry(&b);
    assert_eq!(e.integrated_time, 1_800_000_000);
}
