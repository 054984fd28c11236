use super::*;
use aws_lc_rs::rand::SystemRandom;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn ecdsa() -> SigningKey {
    SigningKey::EcdsaP256(EcdsaSigner::generate(EcdsaCurve::P256, &SystemRandom::new()).unwrap())
}

fn ed25519() -> SigningKey {
    SigningKey::Ed25519(Ed25519Signer::generate(&SystemRandom::new()).unwrap())
}

/// A repository as a test drives it: root keys, one online key, and the current versions.
struct Repo {
    root_keys: Vec<SigningKey>,
    threshold: u64,
    online: SigningKey,
    root_version: u64,
    versions: u64,
}

impl Repo {
    fn new() -> Self {
        Repo {
            root_keys: vec![ecdsa(), ed25519(), ecdsa()],
            threshold: 2,
            online: ecdsa(),
            root_version: 1,
            versions: 1,
        }
    }

    fn root_meta(&self) -> Root {
        let keys: Vec<TufKey> = self
            .root_keys
            .iter()
            .map(|k| k.tuf_key().unwrap())
            .collect();
        let online = self.online.tuf_key().unwrap();
        new_root(
            self.root_version,
            NOW + 365 * DAY,
            &keys,
            self.threshold,
            [&online, &online, &online],
        )
        .unwrap()
    }

    fn root(&self, signers: &[&SigningKey]) -> Vec<u8> {
        let signers: Vec<&dyn TufSigner> = signers.iter().map(|k| *k as &dyn TufSigner).collect();
        Envelope::sign(&self.root_meta().to_signed().unwrap(), &signers).unwrap()
    }

    fn root_all(&self) -> Vec<u8> {
        let signers: Vec<&SigningKey> = self.root_keys.iter().collect();
        self.root(&signers)
    }

    fn targets(&self, version: u64, expires: i64) -> Vec<u8> {
        let mut targets = BTreeMap::new();
        targets.insert("trusted_root.json".to_owned(), TargetFile::of(b"{}"));
        let t = TargetsMeta {
            common: Common { version, expires },
            targets,
        };
        Envelope::sign(&t.to_signed().unwrap(), &[&self.online]).unwrap()
    }

    fn snapshot(
        &self,
        version: u64,
        targets: &[u8],
        targets_version: u64,
        expires: i64,
    ) -> Vec<u8> {
        let mut meta = BTreeMap::new();
        meta.insert(
            "targets.json".to_owned(),
            MetaFile {
                version: targets_version,
                length: Some(targets.len() as u64),
                hashes: TargetFile::of(targets).hashes,
            },
        );
        let s = SnapshotMeta {
            common: Common { version, expires },
            meta,
        };
        Envelope::sign(&s.to_signed().unwrap(), &[&self.online]).unwrap()
    }

    fn timestamp(
        &self,
        version: u64,
        snapshot: &[u8],
        snapshot_version: u64,
        expires: i64,
    ) -> Vec<u8> {
        let t = TimestampMeta {
            common: Common { version, expires },
            snapshot: MetaFile {
                version: snapshot_version,
                length: Some(snapshot.len() as u64),
                hashes: TargetFile::of(snapshot).hashes,
            },
        };
        Envelope::sign(&t.to_signed().unwrap(), &[&self.online]).unwrap()
    }

    /// A consistent set of (timestamp, snapshot, targets) all at `self.versions`.
    fn top(&self, expires: i64) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let v = self.versions;
        let targets = self.targets(v, expires);
        let snapshot = self.snapshot(v, &targets, v, expires);
        let timestamp = self.timestamp(v, &snapshot, v, expires);
        (timestamp, snapshot, targets)
    }
}

fn refresh(
    set: &mut TrustedSet,
    top: &(Vec<u8>, Vec<u8>, Vec<u8>),
    now: i64,
) -> Result<(), TufError> {
    set.update_timestamp(&top.0, now)?;
    set.update_snapshot(&top.1, now, false)?;
    set.update_targets(&top.2, now)
}

/// Bytes securesystemslib 1.6's `encode_canonical` writes for the same value (printed by
/// `python3 -c 'from securesystemslib.formats import encode_canonical; ...'`): keys sorted by
/// code point (U+FF01 before U+1F600, unlike RFC 8785's UTF-16 order), only `"` and `\`
/// escaped, a newline and non-ASCII left raw.
#[test]
fn canonical_json_is_securesystemslibs() {
    let v: Value =
        serde_json::from_str(r#"{"b":[1,-2,true,null],"a":"q\"\\ \né😀","！":1,"😀":2,"A":{}}"#)
            .unwrap();
    let want = "{\"A\":{},\"a\":\"q\\\"\\\\ \né😀\",\"b\":[1,-2,true,null],\"！\":1,\"😀\":2}";
    assert_eq!(
        String::from_utf8(canonical_json(&v).unwrap()).unwrap(),
        want
    );
    assert_eq!(
        canonical_json(&json!({"x": 1.5})).unwrap_err(),
        TufError::NotCanonical("a number that is not an integer")
    );
    assert!(canonical_json(&json!(1.0)).is_err());
}

/// Sigstore's own root metadata (public good and staging, real root keyholders' ECDSA
/// signatures over securesystemslib's canonical JSON) verifies; one changed byte does not.
#[test]
fn sigstores_real_roots_verify() {
    for (file, version, threshold) in [("sigstore-root.json", 15, 3), ("sigstage-root.json", 14, 2)]
    {
        let path = format!("{}/../testdata/tuf/{file}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap();
        let set = TrustedSet::new(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(set.root().common.version, version);
        assert_eq!(set.root().role(Role::Root).unwrap().threshold, threshold);
        assert!(set.root().consistent_snapshot);
        // Key IDs are what securesystemslib computes for keys without extra fields; these
        // keys carry extra fields, so their IDs are taken as listed, never recomputed.
        let text = String::from_utf8(bytes).unwrap();
        let tampered = text.replacen(
            "\"consistent_snapshot\": true",
            "\"consistent_snapshot\": false",
            1,
        );
        assert_ne!(tampered, text);
        let err = TrustedSet::new(tampered.as_bytes()).unwrap_err();
        assert!(
            matches!(err, TufError::Threshold { valid: 0, .. }),
            "{file}: {err}"
        );
    }
}

#[test]
fn key_ids_are_securesystemslibs() {
    // securesystemslib: sha256(encode_canonical({"keytype","scheme","keyval"})).
    let key = ed25519().tuf_key().unwrap();
    let canonical = canonical_json(&key.to_json()).unwrap();
    assert!(canonical.starts_with(b"{\"keytype\":\"ed25519\",\"keyval\":{\"public\":\""));
    assert_eq!(key.key_id(), hex::encode(crate::keys::sha256(&canonical)));
    let parsed = TufKey::from_json(&key.to_json(), Role::Root).unwrap();
    assert_eq!(parsed, key);
    let ec = ecdsa().tuf_key().unwrap();
    assert_eq!(ec.scheme(), "ecdsa-sha2-nistp256");
    assert_eq!(TufKey::from_json(&ec.to_json(), Role::Root).unwrap(), ec);
}

#[test]
fn a_fresh_repository_refreshes_and_its_targets_verify() {
    let repo = Repo::new();
    let mut set = TrustedSet::new(&repo.root_all()).unwrap();
    let top = repo.top(NOW + DAY);
    refresh(&mut set, &top, NOW).unwrap();
    set.verify_target("trusted_root.json", b"{}").unwrap();
    assert_eq!(
        set.verify_target("trusted_root.json", b"{ }").unwrap_err(),
        TufError::Mismatch {
            name: "trusted_root.json".to_owned(),
            what: "length"
        }
    );
    assert!(matches!(
        set.verify_target("trusted_root.jsom", b"{}").unwrap_err(),
        TufError::UnknownTarget(_)
    ));
    let file = set.target("trusted_root.json").unwrap();
    assert_eq!(
        consistent_target_path("trusted_root.json", file),
        format!("{}.trusted_root.json", file.sha256().unwrap())
    );
}

#[test]
fn a_root_below_its_own_threshold_is_refused() {
    let repo = Repo::new();
    let one = repo.root(&[&repo.root_keys[0]]);
    let err = TrustedSet::new(&one).unwrap_err();
    assert!(
        matches!(
            err,
            TufError::Threshold {
                valid: 1,
                threshold: 2,
                role: Role::Root,
                ..
            }
        ),
        "{err}"
    );
    // A signature by the online key does not count for the root role.
    let wrong = repo.root(&[&repo.root_keys[0], &repo.online]);
    assert!(TrustedSet::new(&wrong).is_err());
}

/// Root rotation: v2 adds a key and raises the threshold to 3; it needs 2 of v1's root keys
/// and 3 of its own. v3 drops two keys; a client walks v1 → v2 → v3.
#[test]
fn root_rotation_needs_old_and_new_thresholds() {
    let mut repo = Repo::new();
    let v1 = repo.root_all();
    let mut set = TrustedSet::new(&v1).unwrap();

    repo.root_keys.push(ed25519());
    repo.threshold = 3;
    repo.root_version = 2;
    // Signed by the new key and one old key: 2 valid of v2's keys (threshold 3) and 1 of
    // v1's (threshold 2).
    let weak = repo.root(&[&repo.root_keys[3], &repo.root_keys[0]]);
    let err = set.clone().update_root(&weak).unwrap_err();
    assert!(
        matches!(
            err,
            TufError::Threshold {
                valid: 1,
                threshold: 2,
                ..
            }
        ),
        "{err}"
    );
    // Two old keys (v1's threshold) but only two of v2's: refused by v2's own threshold.
    let old_only = repo.root(&[&repo.root_keys[0], &repo.root_keys[1]]);
    let err = set.clone().update_root(&old_only).unwrap_err();
    assert!(
        matches!(
            err,
            TufError::Threshold {
                valid: 2,
                threshold: 3,
                ..
            }
        ),
        "{err}"
    );
    let v2 = repo.root(&[&repo.root_keys[0], &repo.root_keys[1], &repo.root_keys[3]]);
    set.update_root(&v2).unwrap();
    assert_eq!(set.root().common.version, 2);

    // v3: only keys 2 and 3 remain, threshold 2; signed by 3 of v2's and both of v3's.
    let removed: Vec<SigningKey> = repo.root_keys.drain(..2).collect();
    repo.threshold = 2;
    repo.root_version = 3;
    let v3 = repo.root(&[&repo.root_keys[0], &repo.root_keys[1], &removed[0]]);
    set.update_root(&v3).unwrap();
    assert_eq!(set.root().role(Role::Root).unwrap().keyids.len(), 2);

    // Skipping a version or replaying one is refused.
    let mut fresh = TrustedSet::new(&v1).unwrap();
    assert!(matches!(
        fresh.update_root(&v3).unwrap_err(),
        TufError::BadVersion {
            expected: 2,
            got: 3,
            ..
        }
    ));
    assert!(matches!(
        set.update_root(&v2).unwrap_err(),
        TufError::BadVersion {
            expected: 4,
            got: 2,
            ..
        }
    ));
}

#[test]
fn tampered_metadata_is_refused() {
    let repo = Repo::new();
    let mut set = TrustedSet::new(&repo.root_all()).unwrap();
    let (ts, snap, targets) = repo.top(NOW + DAY);
    // A changed signed field: the signature no longer verifies.
    let text = String::from_utf8(ts.clone()).unwrap();
    let bad = text.replacen("\"version\": 1,\n", "\"version\": 7,\n", 1);
    assert_ne!(bad, text);
    let err = set
        .clone()
        .update_timestamp(bad.as_bytes(), NOW)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TufError::Threshold {
                role: Role::Timestamp,
                valid: 0,
                ..
            }
        ),
        "{err}"
    );
    // A snapshot whose bytes differ from what the timestamp lists.
    set.update_timestamp(&ts, NOW).unwrap();
    let mut snap2 = snap.clone();
    snap2.push(b'\n');
    assert!(matches!(
        set.clone().update_snapshot(&snap2, NOW, false).unwrap_err(),
        TufError::Mismatch { .. }
    ));
    set.update_snapshot(&snap, NOW, false).unwrap();
    let mut targets2 = targets.clone();
    targets2.insert(1, b' ');
    assert!(matches!(
        set.clone().update_targets(&targets2, NOW).unwrap_err(),
        TufError::Mismatch { .. }
    ));
    set.update_targets(&targets, NOW).unwrap();
}

#[test]
fn rollback_and_freeze_are_refused() {
    let mut repo = Repo::new();
    let root = repo.root_all();
    let old = repo.top(NOW + DAY);
    repo.versions = 2;
    let new = repo.top(NOW + 2 * DAY);

    let mut set = TrustedSet::new(&root).unwrap();
    refresh(&mut set, &new, NOW).unwrap();
    // The client stored v2; a mirror serves v1 (validly signed, unexpired): rollback.
    let mut next = TrustedSet::new(&root).unwrap();
    next.load_stored_timestamp(&new.0).unwrap();
    let err = next.update_timestamp(&old.0, NOW).unwrap_err();
    assert_eq!(
        err,
        TufError::Rollback {
            role: Role::Timestamp,
            got: 1,
            trusted: 2
        }
    );
    // The same timestamp again is fine while it is valid...
    assert_eq!(
        next.update_timestamp(&new.0, NOW).unwrap(),
        TimestampUpdate::Unchanged
    );
    // ...and refused once it expired (a mirror frozen on it).
    let mut frozen = TrustedSet::new(&root).unwrap();
    frozen.load_stored_timestamp(&new.0).unwrap();
    let err = frozen.update_timestamp(&new.0, NOW + 2 * DAY).unwrap_err();
    assert!(
        matches!(
            err,
            TufError::Expired {
                role: Role::Timestamp,
                version: 2,
                ..
            }
        ),
        "{err}"
    );
    // A first-time client given an expired timestamp refuses it too (at the expiry second).
    let mut first = TrustedSet::new(&root).unwrap();
    assert!(matches!(
        first.update_timestamp(&old.0, NOW + DAY).unwrap_err(),
        TufError::Expired { .. }
    ));
    // A newer timestamp naming an older snapshot is a rollback of the snapshot.
    let sneaky = repo.timestamp(3, &old.1, 1, NOW + DAY);
    let mut s = TrustedSet::new(&root).unwrap();
    s.load_stored_timestamp(&new.0).unwrap();
    assert!(matches!(
        s.update_timestamp(&sneaky, NOW).unwrap_err(),
        TufError::Rollback {
            role: Role::Snapshot,
            ..
        }
    ));
    // An expired root is refused before any timestamp is read.
    let mut late = TrustedSet::new(&root).unwrap();
    assert!(matches!(
        late.update_timestamp(&new.0, NOW + 400 * DAY).unwrap_err(),
        TufError::Expired {
            role: Role::Root,
            ..
        }
    ));
}

#[test]
fn snapshot_and_targets_versions_must_match_their_parents() {
    let repo = Repo::new();
    let root = repo.root_all();
    let targets = repo.targets(1, NOW + DAY);
    let snapshot = repo.snapshot(2, &targets, 1, NOW + DAY);
    // The timestamp names snapshot v1 but the snapshot served is v2.
    let ts = repo.timestamp(1, &snapshot, 1, NOW + DAY);
    let mut set = TrustedSet::new(&root).unwrap();
    set.update_timestamp(&ts, NOW).unwrap();
    assert!(matches!(
        set.update_snapshot(&snapshot, NOW, false).unwrap_err(),
        TufError::BadVersion {
            role: Role::Snapshot,
            expected: 1,
            got: 2
        }
    ));
    // An expired targets file is refused.
    let targets = repo.targets(1, NOW - 1);
    let snapshot = repo.snapshot(1, &targets, 1, NOW + DAY);
    let ts = repo.timestamp(1, &snapshot, 1, NOW + DAY);
    let mut set = TrustedSet::new(&root).unwrap();
    set.update_timestamp(&ts, NOW).unwrap();
    set.update_snapshot(&snapshot, NOW, false).unwrap();
    assert!(matches!(
        set.update_targets(&targets, NOW).unwrap_err(),
        TufError::Expired {
            role: Role::Targets,
            ..
        }
    ));
}

#[test]
fn malformed_metadata_is_named() {
    for (text, want) in [
        ("[]", "not a JSON object"),
        (r#"{"signed":{},"signatures":[],"x":1}"#, "exactly"),
        (
            r#"{"signed":{"_type":"timestamp"},"signatures":[]}"#,
            "`_type`",
        ),
        (
            r#"{"signed":{"_type":"root","spec_version":"2.0.0","version":1,"expires":"2030-01-01T00:00:00Z"},"signatures":[]}"#,
            "spec_version",
        ),
        (
            r#"{"signed":{"_type":"root","spec_version":"1.0.31","version":1,"expires":"2030-01-01T00:00:00.5Z"},"signatures":[]}"#,
            "expires",
        ),
        (
            r#"{"signed":{"_type":"root","spec_version":"1.0.31","version":0,"expires":"2030-01-01T00:00:00Z"},"signatures":[]}"#,
            "at least 1",
        ),
        (
            r#"{"signed":{"_type":"root"},"signatures":[{"keyid":"a","sig":"00"},{"keyid":"a","sig":"01"}]}"#,
            "two signatures",
        ),
    ] {
        let err = TrustedSet::new(text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains(want), "{text}: {err}");
    }
    let delegating = json!({"_type": "targets", "spec_version": "1.0", "version": 1,
        "expires": "2030-01-01T00:00:00Z", "targets": {}, "delegations": {"keys": {}, "roles": []}});
    assert!(TargetsMeta::from_signed(&delegating)
        .unwrap_err()
        .to_string()
        .contains("delegated"));
    let escaping = json!({"_type": "targets", "spec_version": "1.0", "version": 1,
        "expires": "2030-01-01T00:00:00Z", "targets": {"../x": {"length": 1, "hashes": {"sha256": "00"}}}});
    assert!(TargetsMeta::from_signed(&escaping).is_err());
}

/// Parsed metadata writes back to the same canonical bytes (the signatures stay valid).
#[test]
fn typed_metadata_round_trips() {
    let repo = Repo::new();
    let root = repo.root_meta();
    let signed = root.to_signed().unwrap();
    assert_eq!(Root::from_signed(&signed).unwrap(), root);
    let (ts, snap, targets) = repo.top(NOW + DAY);
    for (bytes, role) in [
        (ts, Role::Timestamp),
        (snap, Role::Snapshot),
        (targets, Role::Targets),
    ] {
        let env = Envelope::parse(&bytes, role).unwrap();
        let again = match role {
            Role::Timestamp => TimestampMeta::from_signed(&env.signed).unwrap().to_signed(),
            Role::Snapshot => SnapshotMeta::from_signed(&env.signed).unwrap().to_signed(),
            _ => TargetsMeta::from_signed(&env.signed).unwrap().to_signed(),
        }
        .unwrap();
        assert_eq!(canonical_json(&again).unwrap(), env.canonical);
    }
}
