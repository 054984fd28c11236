//! hashedrekord 0.0.1 entries over SHA-384 and SHA-512 artifact digests, as Rekor v1 accepts
//! them (cosign's `--signing-algorithm ecdsa-sha2-384-nistp384`, sigstore-go with P-384
//! keys): the signature is checked with the key and the stated hash, the canonical body keeps
//! the algorithm, and `index/retrieve` finds the digest as Rekor's `SearchIndex.hash` pattern
//! allows (sha256, sha512, sha1; not sha384). Keys and signatures are made by the `openssl`
//! command line over real artifacts; each bad input is a 400 naming the problem, with nothing
//! stored.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::{
    call, check_entry, error_message, mem_log, openssl, parse_entry, search_index, test_config,
    HOST,
};
use signet_proto::rekor::{HashedRekordV001, ProposedEntry, RekorHashAlgorithm};

/// A key made by `openssl genpkey` in `dir`: (private key file name, public key PEM).
fn genkey(dir: &Path, name: &str, genpkey_args: &[&str]) -> (String, Vec<u8>) {
    let key = format!("{name}.key");
    let mut args = vec!["genpkey", "-out", &key];
    args.extend_from_slice(genpkey_args);
    openssl(dir, &args);
    let public = openssl(dir, &["pkey", "-in", &key, "-pubout"]);
    (key, public)
}

/// `openssl dgst -<hash> -sign key` over `artifact` (written to a file first).
fn sign(dir: &Path, key: &str, hash: &str, artifact: &[u8]) -> Vec<u8> {
    let data = format!("{key}.{hash}.data");
    std::fs::write(dir.join(&data), artifact).unwrap();
    openssl(dir, &["dgst", &format!("-{hash}"), "-sign", key, &data])
}

/// A proposed hashedrekord entry with the algorithm name and digest value as given.
fn proposed(pem: &[u8], sig: &[u8], algorithm: &str, value: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": algorithm, "value": value}},
            "signature": {"content": B64.encode(sig), "publicKey": {"content": B64.encode(pem)}}
        }
    }))
    .unwrap()
}

fn rekor_alg(name: &str) -> RekorHashAlgorithm {
    match name {
        "sha256" => RekorHashAlgorithm::Sha256,
        "sha384" => RekorHashAlgorithm::Sha384,
        "sha512" => RekorHashAlgorithm::Sha512,
        other => panic!("{other}"),
    }
}

fn digest(name: &str, data: &[u8]) -> Vec<u8> {
    rekor_alg(name).hash_algorithm().hash(data)
}

const P256: &[&str] = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
const P384: &[&str] = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"];
const RSA2048: &[&str] = &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];

#[tokio::test]
async fn sha384_and_sha512_hashedrekords_are_logged_canonicalized_and_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = mem_log(&test_config(), vec![]);
    // Every key type with a hash Rekor verifies it with (Go's ecdsa.VerifyASN1 takes any
    // digest for any curve; rsa.VerifyPKCS1v15 the stated hash).
    let cases: [(&str, &[&str], &str); 6] = [
        ("p384", P384, "sha384"),
        ("p384", P384, "sha512"),
        ("p256", P256, "sha512"),
        ("p256", P256, "sha384"),
        ("rsa2048", RSA2048, "sha384"),
        ("rsa2048", RSA2048, "sha512"),
    ];
    let mut keys = std::collections::HashMap::new();
    for (i, (name, args, hash)) in cases.iter().enumerate() {
        let (key, public) = keys
            .entry(*name)
            .or_insert_with(|| genkey(d, name, args))
            .clone();
        let artifact = format!("artifact {i} signed with {name} over {hash}");
        let sig = sign(d, &key, hash, artifact.as_bytes());
        let dig = digest(hash, artifact.as_bytes());
        let value = hex::encode(&dig);
        let (s, _, b) = call(
            &t.router,
            "POST",
            "/api/v1/log/entries",
            Some(proposed(&public, &sig, hash, &value)),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::CREATED,
            "{name}/{hash}: {}",
            String::from_utf8_lossy(&b)
        );
        let (uuid, e) = parse_entry(&b);
        let (index, _, _) = check_entry(&t.keys, HOST, &uuid, &e);
        assert_eq!(index, i as u64, "{name}/{hash}");

        // The stored body is Rekor's canonical form with the algorithm given.
        let body: serde_json::Value = signet_proto::json::from_slice(e.body.as_slice()).unwrap();
        assert_eq!(body["spec"]["data"]["hash"]["algorithm"], *hash);
        assert_eq!(body["spec"]["data"]["hash"]["value"], value.as_str());
        let want = ProposedEntry::HashedRekordV001(HashedRekordV001::with_digest(
            rekor_alg(hash),
            &dig,
            sig.clone(),
            public.clone(),
        ))
        .canonical_bytes()
        .unwrap();
        assert_eq!(
            String::from_utf8(e.body.to_vec()).unwrap(),
            String::from_utf8(want).unwrap(),
            "{name}/{hash}: canonical body"
        );

        // Search by digest, as Rekor's SearchIndex pattern allows.
        let found = |b: &[u8]| -> Vec<String> { signet_proto::json::from_slice(b).unwrap() };
        if *hash == "sha512" {
            for q in [
                format!("sha512:{value}"),
                value.clone(),
                value.to_ascii_uppercase(),
            ] {
                let (s, _, b) = search_index(&t.router, &serde_json::json!({ "hash": q })).await;
                assert_eq!(s, StatusCode::OK, "{q}: {}", String::from_utf8_lossy(&b));
                assert_eq!(found(&b), vec![uuid.clone()], "{q}");
            }
            // The same hex under another algorithm's prefix is outside the pattern.
            let (s, _, b) = search_index(
                &t.router,
                &serde_json::json!({ "hash": format!("sha256:{value}") }),
            )
            .await;
            assert_eq!(s, StatusCode::BAD_REQUEST);
            assert!(error_message(&b).1.contains("[sha512:]<128 hex digits>"));
        } else {
            // Rekor's pattern has no sha384: neither prefixed nor bare 96 hex digits.
            for q in [format!("sha384:{value}"), value.clone()] {
                let (s, _, b) = search_index(&t.router, &serde_json::json!({ "hash": q })).await;
                assert_eq!(s, StatusCode::BAD_REQUEST, "{q}");
                let (_, msg) = error_message(&b);
                assert!(msg.contains("sha384 digests cannot be searched"), "{msg}");
            }
        }
        // The SHA-256 digest of the same artifact was never logged.
        let (s, _, b) = search_index(
            &t.router,
            &serde_json::json!({ "hash": format!("sha256:{}", hex::encode(digest("sha256", artifact.as_bytes()))) }),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert!(found(&b).is_empty(), "{name}/{hash}");
    }
    // Every entry is found by its key (the way to search a sha384 entry).
    let (_, public) = keys["p384"].clone();
    let (s, _, b) = search_index(
        &t.router,
        &serde_json::json!({"publicKey": {"format": "x509", "content": B64.encode(&public)}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        signet_proto::json::from_slice::<Vec<String>>(&b)
            .unwrap()
            .len(),
        2
    );
    // A SHA-1 digest fits the pattern and finds nothing (no entry kind indexes SHA-1).
    let (s, _, b) = search_index(
        &t.router,
        &serde_json::json!({"hash": format!("sha1:{}", "ab".repeat(20))}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    assert_eq!(&b[..], b"[]");
}

#[tokio::test]
async fn bad_sha384_and_sha512_hashedrekords_are_refused_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = mem_log(&test_config(), vec![]);
    let (p384, p384_pub) = genkey(d, "p384", P384);
    let (rsa, rsa_pub) = genkey(d, "rsa", RSA2048);
    let (_, ed_pub) = genkey(d, "ed25519", &["-algorithm", "ED25519"]);
    let artifact = b"the real artifact".as_slice();
    let sig384 = sign(d, &p384, "sha384", artifact);
    let sig512 = sign(d, &p384, "sha512", artifact);
    let sig256 = sign(d, &p384, "sha256", artifact);
    let rsa256 = sign(d, &rsa, "sha256", artifact);
    let hex384 = hex::encode(digest("sha384", artifact));
    let hex512 = hex::encode(digest("sha512", artifact));
    let hex256 = hex::encode(digest("sha256", artifact));

    // A good entry first, so that "nothing stored" is checked against a non-empty tree.
    let (s, _, b) = call(
        &t.router,
        "POST",
        "/api/v1/log/entries",
        Some(proposed(&p384_pub, &sig384, "sha384", &hex384)),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let size = t.log.head().unwrap().size;

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a sha256-length value stated as sha384",
            proposed(&p384_pub, &sig384, "sha384", &hex256),
            "hash value has 32 bytes, Sha384 needs 48",
        ),
        (
            "a sha384-length value stated as sha512",
            proposed(&p384_pub, &sig512, "sha512", &hex384),
            "hash value has 48 bytes, Sha512 needs 64",
        ),
        (
            "a sha512-length value stated as sha256",
            proposed(&p384_pub, &sig512, "sha256", &hex512),
            "hash value has 64 bytes, Sha256 needs 32",
        ),
        (
            "uppercase hex",
            proposed(&p384_pub, &sig384, "sha384", &hex384.to_ascii_uppercase()),
            "not lowercase hex",
        ),
        (
            "an algorithm outside the schema's enum",
            proposed(&p384_pub, &sig384, "sha3-384", &hex384),
            "sha3-384",
        ),
        (
            "sha1, which hashedrekord does not take",
            proposed(&p384_pub, &sig384, "sha1", &"ab".repeat(20)),
            "sha1",
        ),
        (
            "a signature over the SHA-256 digest, stated as sha384",
            proposed(&p384_pub, &sig256, "sha384", &hex384),
            "does not match the sha384 artifact digest",
        ),
        (
            "a signature over the SHA-512 digest, stated as sha384",
            proposed(&p384_pub, &sig512, "sha384", &hex384),
            "does not match the sha384 artifact digest",
        ),
        (
            "a signature over the SHA-384 digest, stated as sha512",
            proposed(&p384_pub, &sig384, "sha512", &hex512),
            "does not match the sha512 artifact digest",
        ),
        (
            "an RSA signature with SHA-256, stated as sha512",
            proposed(&rsa_pub, &rsa256, "sha512", &hex512),
            "does not match the sha512 artifact digest",
        ),
        (
            "an Ed25519 key",
            proposed(&ed_pub, &sig512, "sha512", &hex512),
            "Ed25519",
        ),
    ];
    for (what, body, want) in cases {
        let (s, _, b) = call(&t.router, "POST", "/api/v1/log/entries", Some(body)).await;
        assert_eq!(
            s,
            StatusCode::BAD_REQUEST,
            "{what}: {}",
            String::from_utf8_lossy(&b)
        );
        let (code, msg) = error_message(&b);
        assert_eq!(code, 400, "{what}");
        assert!(msg.contains(want), "{what}: {msg:?} lacks {want:?}");
        assert_eq!(t.log.head().unwrap().size, size, "{what}: nothing stored");
    }
    // The P-384 key with its own hash is also accepted over SHA-512 (what Rekor verifies).
    let (s, _, b) = call(
        &t.router,
        "POST",
        "/api/v1/log/entries",
        Some(proposed(&p384_pub, &sig512, "sha512", &hex512)),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
}
