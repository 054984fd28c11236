//! Test helpers of the `signet monitor` tests: its exit codes, its JSON alert lines, and a
//! watch policy naming a key.

#![allow(dead_code, clippy::unwrap_used, unreachable_pub, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use signet_proto::keys::EcdsaSigner;

/// The monitor's exit code for an integrity alert.
pub const EXIT_INTEGRITY: i32 = 3;
/// ... for a log it could not reach.
pub const EXIT_UNREACHABLE: i32 = 4;
/// ... for a watch-rule alert.
pub const EXIT_RULES: i32 = 5;

/// The JSON alert lines of a monitor run's stdout.
pub fn alerts(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// Writes `dir/policy.toml` watching `key` by key ID (under the rule name `name`, if any).
pub fn watch_key_policy(dir: &Path, key: &EcdsaSigner, name: Option<&str>) -> PathBuf {
    let policy = dir.join("policy.toml");
    let name = name.map_or_else(String::new, |n| format!("name = \"{n}\"\n"));
    let key_id = hex::encode(key.public_key().key_id());
    std::fs::write(&policy, format!("[[watch]]\n{name}key_id = \"{key_id}\"\n")).unwrap();
    policy
}
