//! Runs transparency-dev/merkle's JSON proof vectors (testdata/merkle, see its README.md)
//! through `verify_inclusion` and `verify_consistency`, checking `wantErr` exactly.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use signet_proto::merkle::{
    hash_from_slice, leaf_hash, verify_consistency, verify_inclusion, Hash,
};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/merkle")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    out.sort();
}

fn b64(v: &serde_json::Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

fn proof(v: &serde_json::Value) -> Vec<Vec<u8>> {
    match v {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Array(a) => a.iter().map(b64).collect(),
        other => panic!("bad proof {other}"),
    }
}

/// Our API takes fixed-size hashes, so a value that is not 32 bytes long cannot be passed:
/// the conversion itself is the rejection (as a proof parser would reject it).
fn to_hashes(v: &[Vec<u8>]) -> Option<Vec<Hash>> {
    v.iter().map(|h| hash_from_slice(h).ok()).collect()
}

/// The vectors with non-32-byte "don't care" roots that upstream expects to PASS (equal sizes,
/// empty proof, equal roots). For these we map every value through SHA-256, which preserves
/// equality, and run the check with the mapped values.
const SHORT_HASH_OK: &[&str] =
    &["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"];

fn rel(p: &Path) -> String {
    p.strip_prefix(testdata())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn inclusion_vectors() {
    let mut files = Vec::new();
    json_files(&testdata().join("inclusion"), &mut files);
    assert_eq!(files.len(), 98, "vendored inclusion vector count");
    let (mut ok, mut rejected) = (0, 0);
    let mut wrong = Vec::new();
    for f in &files {
        let v: serde_json::Value =
            signet_proto::json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let want_err = v["wantErr"].as_bool().unwrap();
        let index = v["leafIdx"].as_u64().unwrap();
        let size = v["treeSize"].as_u64().unwrap();
        let leaf = b64(&v["leafHash"]);
        let root = b64(&v["root"]);
        let p = proof(&v["proof"]);
        let result = match (
            hash_from_slice(&leaf),
            hash_from_slice(&root),
            to_hashes(&p),
        ) {
            (Ok(leaf), Ok(root), Some(p)) => verify_inclusion(&leaf, index, size, &p, &root),
            _ => {
                assert!(want_err, "{}: short hash in a passing vector", rel(f));
                rejected += 1;
                continue;
            }
        };
        if result.is_err() {
            rejected += 1;
        } else {
            ok += 1;
        }
        if result.is_err() != want_err {
            wrong.push(format!("{}: wantErr={want_err} got {result:?}", rel(f)));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(ok, 6, "happy-path vectors");
    assert_eq!(ok + rejected, files.len());
}

#[test]
fn consistency_vectors() {
    let mut files = Vec::new();
    json_files(&testdata().join("consistency"), &mut files);
    assert_eq!(files.len(), 98, "vendored consistency vector count");
    let (mut ok, mut rejected) = (0, 0);
    let mut wrong = Vec::new();
    for f in &files {
        let v: serde_json::Value =
            signet_proto::json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let want_err = v["wantErr"].as_bool().unwrap();
        let size1 = v["size1"].as_u64().unwrap();
        let size2 = v["size2"].as_u64().unwrap();
        let root1 = b64(&v["root1"]);
        let root2 = b64(&v["root2"]);
        let p = proof(&v["proof"]);
        let result = match (
            hash_from_slice(&root1),
            hash_from_slice(&root2),
            to_hashes(&p),
        ) {
            (Ok(r1), Ok(r2), Some(p)) => verify_consistency(size1, size2, &r1, &r2, &p),
            _ if SHORT_HASH_OK.contains(&rel(f).as_str()) => {
                let p: Vec<Hash> = p.iter().map(|h| leaf_hash(h)).collect();
                verify_consistency(size1, size2, &leaf_hash(&root1), &leaf_hash(&root2), &p)
            }
            _ => {
                assert!(want_err, "{}: short hash in a passing vector", rel(f));
                rejected += 1;
                continue;
            }
        };
        if result.is_err() {
            rejected += 1;
        } else {
            ok += 1;
        }
        if result.is_err() != want_err {
            wrong.push(format!("{}: wantErr={want_err} got {result:?}", rel(f)));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(ok, 6, "passing vectors");
    assert_eq!(ok + rejected, files.len());
}
