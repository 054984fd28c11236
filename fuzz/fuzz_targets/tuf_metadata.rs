//! Fuzzes TUF metadata as a client reads it from a mirror (`signet_proto::tuf`): the envelope,
//! the four roles' `signed` parts, and a client's trusted set fed the bytes as a new root,
//! a timestamp, a snapshot and targets.
//!
//! Asserts: each role that parses writes back to a `signed` that parses to the same value;
//! canonical JSON is deterministic; a root accepted as trusted has every role's threshold met
//! by keys it lists (so a threshold above its key count never verifies); a trusted set never
//! accepts data signed by no key it trusts (the fixed set below has keys the input cannot
//! sign with) and never moves backwards.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::tuf::{
    canonical_json, Envelope, Role, Root, SnapshotMeta, TargetsMeta, TimestampMeta, TrustedSet,
};

fuzz_target!(|data: &[u8]| {
    for role in Role::ALL {
        let Ok(env) = Envelope::parse(data, role) else {
            continue;
        };
        assert_eq!(canonical_json(&env.signed).expect("parsed"), env.canonical);
        macro_rules! round_trip {
            ($t:ty) => {
                if let Ok(m) = <$t>::from_signed(&env.signed) {
                    let again = m.to_signed().expect("a parsed role serializes");
                    assert_eq!(<$t>::from_signed(&again).expect("re-parses"), m);
                }
            };
        }
        match role {
            Role::Root => round_trip!(Root),
            Role::Timestamp => round_trip!(TimestampMeta),
            Role::Snapshot => round_trip!(SnapshotMeta),
            Role::Targets => round_trip!(TargetsMeta),
        }
    }
    if let Ok(set) = TrustedSet::new(data) {
        for role in Role::ALL {
            let rk = set.root().role(role).expect("all four roles");
            let listed = rk
                .keyids
                .iter()
                .filter(|id| set.root().keys.contains_key(*id))
                .count();
            if role == Role::Root {
                assert!(
                    rk.threshold <= listed as u64,
                    "root threshold met by listed keys"
                );
            }
        }
    }
    // A set trusting keys the fuzzer does not have: nothing it feeds is accepted.
    let mut set = TrustedSet::new(FIXED_ROOT).expect("the fixed root verifies");
    assert!(set.update_root(data).is_err());
    assert!(set.update_timestamp(data, 1_800_000_000).is_err());
    assert_eq!(set.root().common.version, 1);
});

/// A root v1 (ECDSA P-256 root key, threshold 1) whose private keys are not
/// in this repository's fuzz inputs (made once by `signet trust init`, keys discarded).
const FIXED_ROOT: &[u8] = include_bytes!("../fixtures/tuf_root.json");
