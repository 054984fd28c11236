//! The Rekor v2 log `signet serve` runs beside the v1 log (`[log] rekor_v2`, on by default):
//! a second `signet_log::Log` on `<data dir>/log-v2` (its own RocksDB store, tree and keys;
//! only its Ed25519 key signs), served by `signet_log::v2::router` under
//! `<public_url>/rekor-v2`. Its name, the checkpoint origin and signer name, is the host (and
//! port) of that base URL, as rekor-tiles names a shard by its host and as verifiers name a
//! log's checkpoint signer (signet-verifier and the monitor: the `baseUrl` host; sigstore-js:
//! a name found in the `baseUrl`). It differs from the v1 log's origin (`<host> - <tree id>`)
//! and key; its `tlogs[]` item in the trusted root carries the Ed25519 key and, as log ID, the
//! C2SP key ID of the checkpoint key (as Sigstore's trust roots list rekor-tiles shards).

use std::sync::Arc;

use anyhow::Context as _;
use base64::Engine as _;
use serde_json::{json, Value};

use super::Config;

/// Where the v2 log is mounted under the public URL.
pub(crate) const PATH: &str = signet_log::v2::MOUNT;

/// The opened v2 log, its base URL and its `tlogs[]` item.
pub(super) struct RekorV2 {
    pub(super) log: Arc<signet_log::Log>,
    pub(super) base_url: String,
    pub(super) tlog: Value,
}

/// Opens (or creates) the v2 log of `config` for clients reaching this server at `public_url`.
pub(super) fn open(config: &Config, public_url: &str, start: &str) -> anyhow::Result<RekorV2> {
    let base_url = format!("{public_url}{PATH}");
    let name = super::url_host(public_url)?;
    let data_dir = config.data_dir.join("log-v2");
    let log_config = signet_log::LogConfig {
        data_dir: data_dir.clone(),
        public_host: Some(name.clone()),
        batch_max_entries: config.log.batch_max_entries,
        batch_max_delay_ms: config.log.batch_max_delay_ms,
        queue_capacity: config.log.queue_capacity,
        max_body_bytes: config.log.max_body_bytes,
        rekor_v2: true,
        ..signet_log::LogConfig::default()
    };
    let log = signet_log::open_log(&log_config, &name, Arc::new(signet_ca::SystemClock))
        .with_context(|| format!("opening the Rekor v2 log in {}", data_dir.display()))?;
    let tlog = tlog_instance(&log, &base_url, start)?;
    Ok(RekorV2 {
        log,
        base_url,
        tlog,
    })
}

/// The v2 log's `tlogs[]` item: its Ed25519 checkpoint key, log ID = C2SP key ID.
fn tlog_instance(log: &signet_log::Log, base_url: &str, start: &str) -> anyhow::Result<Value> {
    let b64 = base64::engine::general_purpose::STANDARD;
    // vkey = <name>+<hash hex>+<base64(0x01 ‖ key)>; the base64 may hold '+' too.
    let vkey = log.identity().ed_note.to_vkey();
    let raw = vkey
        .splitn(3, '+')
        .nth(2)
        .and_then(|k| b64.decode(k).ok())
        .filter(|k| k.len() == 33 && k[0] == 1)
        .context("the v2 log's note key is not an Ed25519 vkey")?;
    let key = signet_proto::keys::PublicKey::from_ed25519_raw(
        raw[1..].try_into().context("Ed25519 key length")?,
    )?;
    let log_id = signet_log::v2::log_id(log)?;
    Ok(json!({
        "baseUrl": base_url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": b64.encode(key.spki_der()),
            "keyDetails": "PKIX_ED25519",
            "validFor": {"start": start},
        },
        "logId": {"keyId": b64.encode(log_id)},
    }))
}

/// Whether `base_url` (a `tlogs[]` item's) is a v2 log served by a Signet.
pub(super) fn is_v2_base_url(base_url: &str) -> bool {
    base_url.trim_end_matches('/').ends_with(PATH)
}
