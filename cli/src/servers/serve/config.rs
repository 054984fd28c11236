//! The configuration of `signet serve`: one TOML file, every key optional, with embedded
//! defaults. `signet serve --print-config` prints the effective configuration and
//! `--check-config` validates a file, naming the offending key.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which roles this process runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Roles {
    /// The CA and the log together (the default).
    #[default]
    All,
    /// Only the transparency log.
    Log,
    /// Only the CA; it reaches the log over HTTP at `ca.log_url`.
    Ca,
}

/// The whole configuration of `signet serve`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Config {
    /// Directory holding RocksDB, generated keys and the trust files.
    pub(crate) data_dir: PathBuf,
    /// Address to listen on: HOST:PORT, an IP address or a host name.
    pub(crate) listen: ListenAddr,
    /// The roles this process runs: `all`, `log` or `ca`.
    pub(crate) only: Roles,
    /// The base URL clients use to reach this server (written into trusted_root.json and
    /// signing_config.json). Defaults to `http://<listen>`.
    pub(crate) public_url: Option<String>,
    /// Accept a `public_url` on a loopback, link-local or cluster-internal host (refused
    /// otherwise: clients outside could not reach it, and it fixes the checkpoint origin).
    pub(crate) allow_internal_public_url: bool,
    /// PEM files of extra CA certificates trusted by every outgoing connection (the log,
    /// OIDC issuers, witnesses), on top of the system's store.
    pub(crate) ca_certs: Vec<PathBuf>,
    /// HTTPS: PEM certificate chain and key files. Plain HTTP when absent.
    pub(crate) tls: Option<TlsConfig>,
    /// The transparency log.
    pub(crate) log: LogSection,
    /// The certificate authority.
    pub(crate) ca: CaSection,
    /// The TUF repository published at `/tuf/`.
    pub(crate) tuf: TufSection,
    /// The timestamp authority's key and chain.
    pub(crate) tsa: TsaSection,
}

/// The `[tsa]` section: the key and certificate chain of the RFC 3161 timestamp authority
/// that runs with the CA. Both unset (the default): a key and chain generated into
/// `<data_dir>/tsa/` on first start, rotated by `signet tsa rotate`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct TsaSection {
    /// The signing key: a PEM PKCS#8 file (encrypted, with `password_file` or
    /// `password_env`, or plain), or a PKCS#11 URI (RFC 7512, e.g.
    /// `pkcs11:token=T;object=K?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/etc/signet/pin`).
    pub(crate) key: Option<String>,
    /// PEM chain: the TSA's certificate for this key first (its only extended key usage
    /// `timeStamping`, critical), its root last. Required with `key`.
    pub(crate) chain: Option<PathBuf>,
    /// File holding the key file's password (preferred over `password_env`).
    pub(crate) password_file: Option<PathBuf>,
    /// Environment variable holding the key file's password.
    pub(crate) password_env: Option<String>,
}

/// The `[tuf]` section: the TUF repository `serve` publishes at `/tuf/` once its directory
/// holds a root (`signet trust init --out DIR`), with the trust files as its targets.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct TufSection {
    /// The TUF directory (roots and online keys). Default `<data_dir>/tuf`.
    pub(crate) dir: Option<PathBuf>,
    /// Lifetime of `timestamp.json`, in seconds; re-signed when half of it is gone.
    pub(crate) timestamp_expiry_secs: u64,
    /// Lifetime of the snapshot, in seconds; re-signed when half of it is gone.
    pub(crate) snapshot_expiry_secs: u64,
    /// Lifetime of the targets, in seconds; re-signed when half of it is gone or the trust
    /// files change.
    pub(crate) targets_expiry_secs: u64,
}

impl Default for TufSection {
    fn default() -> Self {
        let d = crate::trust::DEFAULT_LIFETIMES;
        TufSection {
            dir: None,
            timestamp_expiry_secs: d.timestamp_secs,
            snapshot_expiry_secs: d.snapshot_secs,
            targets_expiry_secs: d.targets_secs,
        }
    }
}

pub(crate) use crate::servers::listen::{ListenAddr, TlsConfig};

/// The `[log]` section.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LogSection {
    /// Largest number of entries integrated in one batch.
    pub(crate) batch_max_entries: usize,
    /// Longest time an entry waits for its batch, in milliseconds.
    pub(crate) batch_max_delay_ms: u64,
    /// Pending entries accepted before the log answers 503 with Retry-After.
    pub(crate) queue_capacity: usize,
    /// Largest accepted request body, in bytes.
    pub(crate) max_body_bytes: usize,
    /// Extra CA roots (PEM files) whose precertificates `add-pre-chain` accepts. The CA of
    /// this process is always accepted.
    pub(crate) ct_roots: Vec<PathBuf>,
    /// Witness policy file (`witness NAME VKEY URL` lines and `quorum K`): checkpoints are
    /// published only once K witnesses cosigned them.
    pub(crate) witness_policy: Option<PathBuf>,
    /// Time allowed for one round of witness cosignature requests, in milliseconds.
    pub(crate) witness_timeout_ms: u64,
    /// Also run a Rekor v2 log (rekor-tiles' `POST /api/v2/log/entries` and the C2SP read
    /// API) under `<public_url>/rekor-v2`, with its own tree, origin and Ed25519 key in
    /// `<data_dir>/log-v2`; the trust files list it (docs/REKOR_V2.md).
    pub(crate) rekor_v2: bool,
    /// List the Rekor v2 log first in the signing config, so that clients choosing by it
    /// (signet, sigstore-python, sigstore-js) sign with v2 and the TSA; otherwise v1 is
    /// listed first and v2 is chosen only on request (`sigstore sign --rekor-version 2`).
    pub(crate) prefer_rekor_v2: bool,
    /// Distributed mode (docs/distributed.md): the log's records on S3-compatible object
    /// storage and its head and sequencer lease in etcd, shared by several `serve`
    /// processes. Absent: the embedded RocksDB store in `data_dir` (the default).
    pub(crate) distributed: Option<DistributedSection>,
}

/// The `[log.distributed]` section.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DistributedSection {
    /// `sequencer` (a candidate for the sequencer lease; serves reads while standby) or
    /// `reader` (serves reads only).
    pub(crate) role: signet_log::distributed::Role,
    /// This member's unique name (the value of the etcd `leader` key while it sequences).
    pub(crate) node_id: String,
    /// etcd client URLs of every cluster member.
    pub(crate) etcd_endpoints: Vec<String>,
    /// S3 API URLs of the object store (Garage: each node's `s3_api` address); a request
    /// that cannot reach one tries the next.
    pub(crate) s3_endpoints: Vec<String>,
    /// The bucket holding the log.
    pub(crate) s3_bucket: String,
    /// The S3 region name (Garage: its `s3_region`, default `garage`).
    #[serde(default = "default_s3_region")]
    pub(crate) s3_region: String,
    /// The S3 access key id.
    pub(crate) s3_access_key_id: String,
    /// File holding the S3 secret key (one line).
    pub(crate) s3_secret_access_key_file: PathBuf,
    /// Key prefix in etcd and in the bucket (one log per prefix).
    #[serde(default = "default_dist_prefix")]
    pub(crate) prefix: String,
    /// The sequencer lease's time to live, in seconds: a standby takes over at most this
    /// long (plus one campaign round) after the sequencer stops renewing it.
    #[serde(default = "default_lease_ttl")]
    pub(crate) lease_ttl_secs: u64,
}

fn default_s3_region() -> String {
    "garage".to_owned()
}

fn default_dist_prefix() -> String {
    "signet".to_owned()
}

fn default_lease_ttl() -> u64 {
    5
}

/// The `[ca]` section.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct CaSection {
    /// Certificate validity, in hours.
    pub(crate) validity_hours: u32,
    /// The log's base URL, for SCTs, when the CA runs alone (`only = "ca"`).
    pub(crate) log_url: Option<String>,
    /// Certificates per identity per minute before 429 (0 = unlimited).
    pub(crate) rate_limit_per_minute: u32,
    /// Where the CA signing key lives. Default: a file key generated in the data directory.
    pub(crate) key: CaKey,
    /// The OIDC issuers this CA accepts.
    pub(crate) issuers: Vec<IssuerEntry>,
}

/// Where the CA signing key lives.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "type", rename_all = "lowercase")]
pub(crate) enum CaKey {
    /// Root and intermediate generated on first start under `<data_dir>/ca/`.
    #[default]
    Generated,
    /// An encrypted PEM key file and its chain (intermediate..root, PEM).
    File {
        /// Encrypted PEM private key.
        key: PathBuf,
        /// PEM chain: the CA certificate for this key first, the root last.
        chain: PathBuf,
        /// File holding the password (preferred over `password_env`).
        password_file: Option<PathBuf>,
        /// Environment variable holding the password.
        password_env: Option<String>,
    },
    /// A key in an HSM over PKCS#11.
    Pkcs11 {
        /// The PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so).
        module: PathBuf,
        /// Token label.
        token_label: String,
        /// Label of the private key object.
        key_label: String,
        /// File holding the user PIN.
        pin_file: PathBuf,
        /// PEM chain: the CA certificate for this key first, the root last.
        chain: PathBuf,
    },
}

/// One accepted OIDC issuer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssuerEntry {
    /// The issuer URL (`iss`).
    pub(crate) url: String,
    /// Expected audience.
    #[serde(default = "default_audience")]
    pub(crate) audience: String,
    /// How identities map into certificates: email, github-workflow, gitlab-pipeline,
    /// kubernetes, uri or username.
    #[serde(rename = "type", default = "default_issuer_type")]
    pub(crate) issuer_type: String,
    /// For `uri` and `username` issuers: the domain subjects must belong to.
    #[serde(default)]
    pub(crate) subject_domain: Option<String>,
    /// The issuer's keys from a JWKS file instead of discovery (read at start, never
    /// fetched): for issuers the CA cannot reach.
    #[serde(default)]
    pub(crate) jwks_file: Option<PathBuf>,
    /// PEM CA certificates trusted for this issuer's discovery and JWKS only (a Kubernetes
    /// API server's cluster CA, the mounted `kube-root-ca.crt`).
    #[serde(default)]
    pub(crate) ca_file: Option<PathBuf>,
    /// For `github-workflow` issuers: the server the workflow identities are on (GitHub
    /// Enterprise Server; default `https://github.com`).
    #[serde(default)]
    pub(crate) server_url: Option<String>,
}

fn default_audience() -> String {
    "sigstore".to_owned()
}

fn default_issuer_type() -> String {
    "email".to_owned()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./signet-data"),
            listen: ListenAddr::from(SocketAddr::from(([127, 0, 0, 1], 3000))),
            only: Roles::All,
            public_url: None,
            allow_internal_public_url: false,
            ca_certs: Vec::new(),
            tls: None,
            log: LogSection::default(),
            ca: CaSection::default(),
            tuf: TufSection::default(),
            tsa: TsaSection::default(),
        }
    }
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            batch_max_entries: 1024,
            batch_max_delay_ms: 20,
            queue_capacity: 65_536,
            max_body_bytes: 1 << 20,
            ct_roots: Vec::new(),
            witness_policy: None,
            witness_timeout_ms: 5000,
            rekor_v2: true,
            prefer_rekor_v2: false,
            distributed: None,
        }
    }
}

impl Default for CaSection {
    fn default() -> Self {
        CaSection {
            validity_hours: 24,
            log_url: None,
            rate_limit_per_minute: 0,
            key: CaKey::Generated,
            issuers: Vec::new(),
        }
    }
}

const ISSUER_TYPES: &[&str] = &[
    "email",
    "github-workflow",
    "gitlab-pipeline",
    "kubernetes",
    "uri",
    "username",
];

/// A configuration error that names the key at fault.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {message}")]
pub(crate) struct ConfigError {
    /// The dotted key, e.g. `ca.issuers[0].type`.
    pub(crate) key: String,
    /// What is wrong with it.
    pub(crate) message: String,
}

fn err(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}

impl Config {
    /// Parses a TOML configuration. Unknown keys are errors that name the key.
    pub(crate) fn from_toml(text: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let key = e
                .span()
                .and_then(|s| text.get(..s.start))
                .map(locate_key)
                .unwrap_or_default();
            err(
                if key.is_empty() {
                    "config".to_owned()
                } else {
                    key
                },
                e.message().to_owned(),
            )
        })
    }

    /// Checks every value, naming the first bad key.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.log.batch_max_entries == 0 || self.log.batch_max_entries > 65_536 {
            return Err(err("log.batch_max_entries", "must be between 1 and 65536"));
        }
        if self.log.batch_max_delay_ms > 10_000 {
            return Err(err("log.batch_max_delay_ms", "must be at most 10000"));
        }
        if self.log.queue_capacity < self.log.batch_max_entries {
            return Err(err(
                "log.queue_capacity",
                "must be at least log.batch_max_entries",
            ));
        }
        if self.log.max_body_bytes < 1024 {
            return Err(err("log.max_body_bytes", "must be at least 1024"));
        }
        if self.log.witness_timeout_ms == 0 || self.log.witness_timeout_ms > 600_000 {
            return Err(err(
                "log.witness_timeout_ms",
                "must be between 1 and 600000",
            ));
        }
        if self.log.prefer_rekor_v2 && !self.log.rekor_v2 {
            return Err(err(
                "log.prefer_rekor_v2",
                "needs log.rekor_v2 = true (there is no Rekor v2 log to prefer)",
            ));
        }
        if let Some(path) = &self.log.witness_policy {
            let text = std::fs::read_to_string(path)
                .map_err(|e| err("log.witness_policy", format!("{}: {e}", path.display())))?;
            let policy = signet_proto::witness::WitnessPolicyFile::parse(&text)
                .map_err(|e| err("log.witness_policy", format!("{}: {e}", path.display())))?;
            if let Some(w) = policy.witnesses.iter().find(|w| w.url.is_none()) {
                return Err(err(
                    "log.witness_policy",
                    format!(
                        "{}: witness {} has no URL (the log must reach every witness)",
                        path.display(),
                        w.name
                    ),
                ));
            }
        }
        if let Some(d) = &self.log.distributed {
            if self.log.rekor_v2 {
                // The v2 log keeps its own RocksDB tree in data_dir: each member would have
                // a different one.
                return Err(err(
                    "log.rekor_v2",
                    "the Rekor v2 log is not shared by log.distributed yet: set rekor_v2 = false",
                ));
            }
            if d.node_id.is_empty() {
                return Err(err("log.distributed.node_id", "must not be empty"));
            }
            if d.etcd_endpoints.is_empty() {
                return Err(err("log.distributed.etcd_endpoints", "list at least one"));
            }
            if d.s3_endpoints.is_empty() {
                return Err(err("log.distributed.s3_endpoints", "list at least one"));
            }
            for (i, u) in d.etcd_endpoints.iter().enumerate() {
                check_url(&format!("log.distributed.etcd_endpoints[{i}]"), u)?;
            }
            for (i, u) in d.s3_endpoints.iter().enumerate() {
                check_url(&format!("log.distributed.s3_endpoints[{i}]"), u)?;
            }
            if d.s3_bucket.is_empty() {
                return Err(err("log.distributed.s3_bucket", "must not be empty"));
            }
            if !(2..=60).contains(&d.lease_ttl_secs) {
                return Err(err(
                    "log.distributed.lease_ttl_secs",
                    "must be between 2 and 60",
                ));
            }
        }
        if self.ca.validity_hours == 0 || self.ca.validity_hours > 24 * 366 {
            return Err(err("ca.validity_hours", "must be between 1 and 8784"));
        }
        if let Some(url) = &self.public_url {
            check_url("public_url", url)?;
            if !self.allow_internal_public_url {
                if let Some(why) = internal_host(url) {
                    return Err(err(
                        "public_url",
                        format!(
                            "{url} is {why}: clients outside this machine or cluster cannot                              reach it, and the log's checkpoint origin is fixed from it on the                              first start; set public_url (or --public-url) to where clients                              reach Signet, or, if this is intended (tests, one machine), set                              allow_internal_public_url = true (--allow-internal-public-url)"
                        ),
                    ));
                }
            }
        }
        for (key, secs) in [
            ("tuf.timestamp_expiry_secs", self.tuf.timestamp_expiry_secs),
            ("tuf.snapshot_expiry_secs", self.tuf.snapshot_expiry_secs),
            ("tuf.targets_expiry_secs", self.tuf.targets_expiry_secs),
        ] {
            if !(2..=10 * 366 * 86_400).contains(&secs) {
                return Err(err(key, "must be between 2 and 316224000 (ten years)"));
            }
        }
        match (&self.tsa.key, &self.tsa.chain) {
            (Some(_), None) => {
                return Err(err(
                    "tsa.chain",
                    "required with tsa.key: the PEM chain of the TSA's certificate (leaf first)",
                ))
            }
            (None, Some(_)) => {
                return Err(err(
                    "tsa.key",
                    "required with tsa.chain: the key the chain's first certificate certifies",
                ))
            }
            (Some(key), Some(_)) if signet_proto::pkcs11_uri::is_pkcs11_uri(key) => {
                signet_proto::pkcs11_uri::Pkcs11Uri::parse(key)
                    .map_err(|e| err("tsa.key", e.to_string()))?;
            }
            _ => {}
        }
        if self.only == Roles::Ca {
            match &self.ca.log_url {
                None => {
                    return Err(err(
                        "ca.log_url",
                        "required when only = \"ca\": the CA needs the log for SCTs",
                    ))
                }
                Some(url) => check_url("ca.log_url", url)?,
            }
        }
        for (i, issuer) in self.ca.issuers.iter().enumerate() {
            check_url(&format!("ca.issuers[{i}].url"), &issuer.url)?;
            if let Some(server) = &issuer.server_url {
                check_url(&format!("ca.issuers[{i}].server_url"), server)?;
                if issuer.issuer_type != "github-workflow" {
                    return Err(err(
                        format!("ca.issuers[{i}].server_url"),
                        "only github-workflow issuers take a server_url",
                    ));
                }
            }
            if !ISSUER_TYPES.contains(&issuer.issuer_type.as_str()) {
                return Err(err(
                    format!("ca.issuers[{i}].type"),
                    format!(
                        "unknown issuer type {:?}; expected one of {}",
                        issuer.issuer_type,
                        ISSUER_TYPES.join(", ")
                    ),
                ));
            }
            if issuer.audience.is_empty() {
                return Err(err(
                    format!("ca.issuers[{i}].audience"),
                    "must not be empty",
                ));
            }
            if issuer.issuer_type == "uri" && issuer.subject_domain.is_none() {
                return Err(err(
                    format!("ca.issuers[{i}].subject_domain"),
                    "required for uri issuers",
                ));
            }
        }
        Ok(())
    }

    /// The effective configuration as TOML.
    pub(crate) fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
    }

    /// The effective configuration as TOML followed, commented out, by every key it leaves
    /// unset (with example values) and the other `[ca.key]` kinds: a template naming every key
    /// the parser knows. The commented part changes nothing when the file is read back.
    pub(crate) fn to_template(&self) -> String {
        let mut out = self.to_toml();
        let (Ok(toml::Value::Table(full)), Ok(toml::Value::Table(effective))) = (
            toml::Value::try_from(Config::full_example()),
            toml::Value::try_from(self),
        ) else {
            return out;
        };
        let mut unset = unset_keys(&full, &effective);
        if let Some(toml::Value::Table(ca)) = unset.get_mut("ca") {
            ca.remove("key");
            if ca.is_empty() {
                unset.remove("ca");
            }
        }
        if !unset.is_empty() {
            out.push_str("\n# Optional keys not set above, with example values:\n");
            out.push_str(&commented(&toml::Value::Table(unset)));
        }
        out.push_str(
            "\n# Other kinds of CA key: replace the [ca.key] table above with one of these.\n",
        );
        for key in CaKey::examples() {
            if std::mem::discriminant(&key) == std::mem::discriminant(&self.ca.key) {
                continue;
            }
            let mut ca = toml::Table::new();
            let mut wrapper = toml::Table::new();
            if let Ok(v) = toml::Value::try_from(&key) {
                ca.insert("key".to_owned(), v);
                wrapper.insert("ca".to_owned(), toml::Value::Table(ca));
                out.push_str(&commented(&toml::Value::Table(wrapper)));
            }
        }
        out
    }

    /// A configuration with every optional key set to an example value. A struct literal on
    /// purpose: a new field does not compile until it is given an example here, so
    /// `--print-config` and the configuration reference (docs/CONFIG.md) name it.
    pub(crate) fn full_example() -> Config {
        Config {
            data_dir: PathBuf::from("./signet-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)).into(),
            only: Roles::All,
            public_url: Some("https://signet.example.com".to_owned()),
            allow_internal_public_url: false,
            ca_certs: vec![PathBuf::from("/etc/signet/private-ca.pem")],
            tls: Some(TlsConfig {
                cert: PathBuf::from("/etc/signet/tls/chain.pem"),
                key: PathBuf::from("/etc/signet/tls/key.pem"),
            }),
            log: LogSection {
                batch_max_entries: 1024,
                batch_max_delay_ms: 20,
                queue_capacity: 65_536,
                max_body_bytes: 1 << 20,
                ct_roots: vec![PathBuf::from("/etc/signet/ct-roots/other-ca.pem")],
                witness_policy: Some(PathBuf::from("/etc/signet/witness-policy.txt")),
                witness_timeout_ms: 5000,
                rekor_v2: true,
                prefer_rekor_v2: false,
                distributed: Some(DistributedSection {
                    role: signet_log::distributed::Role::Sequencer,
                    node_id: "signet-log-0".to_owned(),
                    etcd_endpoints: vec!["http://etcd-0.etcd:2379".to_owned()],
                    s3_endpoints: vec!["http://garage-0.garage:3900".to_owned()],
                    s3_bucket: "signet-log".to_owned(),
                    s3_region: default_s3_region(),
                    s3_access_key_id: "GK0123456789abcdef01234567".to_owned(),
                    s3_secret_access_key_file: PathBuf::from("/etc/signet/s3-secret"),
                    prefix: default_dist_prefix(),
                    lease_ttl_secs: default_lease_ttl(),
                }),
            },
            ca: CaSection {
                validity_hours: 24,
                log_url: Some("https://log.signet.example.com".to_owned()),
                rate_limit_per_minute: 0,
                key: CaKey::Generated,
                issuers: vec![IssuerEntry {
                    url: "https://token.actions.githubusercontent.com".to_owned(),
                    audience: "sigstore".to_owned(),
                    issuer_type: "github-workflow".to_owned(),
                    subject_domain: Some("example.com".to_owned()),
                    jwks_file: Some(PathBuf::from("/etc/signet/issuer-jwks.json")),
                    ca_file: Some(PathBuf::from(
                        "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
                    )),
                    server_url: Some("https://github.com".to_owned()),
                }],
            },
            tuf: TufSection {
                dir: Some(PathBuf::from("/var/lib/signet/tuf")),
                ..TufSection::default()
            },
            tsa: TsaSection {
                key: Some("/etc/signet/tsa/key.enc.pem".to_owned()),
                chain: Some(PathBuf::from("/etc/signet/tsa/chain.pem")),
                password_file: Some(PathBuf::from("/etc/signet/tsa/password")),
                password_env: Some("SIGNET_TSA_PASSWORD".to_owned()),
            },
        }
    }

    /// The warning `serve` and `--check-config` give when the CA runs with no issuer.
    pub(crate) fn no_issuer_warning(&self) -> Option<String> {
        (self.only != Roles::Log && self.ca.issuers.is_empty()).then(|| {
            "no OIDC issuer configured: the CA will refuse every identity token; add a \
             [[ca.issuers]] table to the configuration or pass --oidc-issuer URL"
                .to_owned()
        })
    }
}

impl CaKey {
    /// One example of each kind of key.
    fn examples() -> [CaKey; 3] {
        [
            CaKey::Generated,
            CaKey::File {
                key: PathBuf::from("/etc/signet/ca/intermediate-key.pem"),
                chain: PathBuf::from("/etc/signet/ca/chain.pem"),
                password_file: Some(PathBuf::from("/etc/signet/ca/password")),
                password_env: Some("SIGNET_CA_PASSWORD".to_owned()),
            },
            CaKey::Pkcs11 {
                module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
                token_label: "signet".to_owned(),
                key_label: "signet-ca".to_owned(),
                pin_file: PathBuf::from("/etc/signet/ca/pin"),
                chain: PathBuf::from("/etc/signet/ca/chain.pem"),
            },
        ]
    }
}

/// The keys of `full` that `effective` leaves unset (absent, or an empty list), recursing
/// into tables both have.
fn unset_keys(full: &toml::Table, effective: &toml::Table) -> toml::Table {
    let mut out = toml::Table::new();
    for (k, fv) in full {
        match (fv, effective.get(k)) {
            (_, None) => {
                out.insert(k.clone(), fv.clone());
            }
            (toml::Value::Table(ft), Some(toml::Value::Table(et))) => {
                let sub = unset_keys(ft, et);
                if !sub.is_empty() {
                    out.insert(k.clone(), toml::Value::Table(sub));
                }
            }
            (_, Some(toml::Value::Array(a))) if a.is_empty() => {
                out.insert(k.clone(), fv.clone());
            }
            _ => {}
        }
    }
    out
}

/// `value` rendered as TOML, every line commented out.
fn commented(value: &toml::Value) -> String {
    let text = toml::to_string_pretty(value).unwrap_or_default();
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_owned()
            } else {
                format!("# {l}\n")
            }
        })
        .collect()
}

/// Why the host of `url` is not one clients elsewhere can reach, if it is not: a loopback,
/// link-local or unspecified address, `localhost`, a Kubernetes cluster-internal name
/// (`*.svc`, `*.cluster.local`) or a single-label name (resolved by a local search domain).
fn internal_host(url: &str) -> Option<&'static str> {
    use std::net::IpAddr;
    let ip_reason = |ip: IpAddr| -> Option<&'static str> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match ip {
            IpAddr::V4(a) if a.is_loopback() => Some("a loopback address"),
            IpAddr::V4(a) if a.is_link_local() => Some("a link-local address"),
            IpAddr::V4(a) if a.is_unspecified() => Some("the unspecified address"),
            IpAddr::V6(a) if a.is_loopback() => Some("a loopback address"),
            IpAddr::V6(a) if a.is_unspecified() => Some("the unspecified address"),
            IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80 => Some("a link-local address"),
            _ => None,
        }
    };
    match url::Url::parse(url).ok()?.host()? {
        url::Host::Ipv4(a) => ip_reason(IpAddr::V4(a)),
        url::Host::Ipv6(a) => ip_reason(IpAddr::V6(a)),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" || d.ends_with(".localhost") {
                Some("a loopback name")
            } else if d.ends_with(".svc") || d.ends_with(".cluster.local") {
                Some("a cluster-internal name")
            } else if !d.contains('.') {
                Some("a single-label name (resolved only by a local search domain)")
            } else {
                None
            }
        }
    }
}

fn check_url(key: &str, value: &str) -> Result<(), ConfigError> {
    match url::Url::parse(value) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(()),
        Ok(u) => Err(err(
            key,
            format!("scheme {:?} is not http or https", u.scheme()),
        )),
        Err(e) => Err(err(key, format!("not a URL: {e}"))),
    }
}

/// Best effort: the dotted path of the TOML key that starts right before an error span.
fn locate_key(before: &str) -> String {
    let mut table = String::new();
    for line in before.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("[[").and_then(|s| s.strip_suffix("]]")) {
            table = name.trim().to_owned();
        } else if let Some(name) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            table = name.trim().to_owned();
        }
    }
    let last = before.lines().last().unwrap_or("");
    let key = last.split('=').next().unwrap_or("").trim();
    match (table.is_empty(), key.is_empty() || key.starts_with('[')) {
        (true, true) => String::new(),
        (true, false) => key.to_owned(),
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    }
}

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.ca.validity_hours, 24);
        assert_eq!(c.log.batch_max_entries, 1024);
        c.validate().unwrap();
    }

    #[test]
    fn unknown_key_is_named() {
        let e = Config::from_toml("[log]\nbatch_size = 3\n").unwrap_err();
        assert!(e.to_string().contains("batch_size"), "{e}");
        assert!(e.key.starts_with("log"), "{e}");
    }

    #[test]
    fn distributed_mode_refuses_what_it_does_not_share() {
        let dist = "[log.distributed]\nrole = \"sequencer\"\nnode_id = \"a\"\n\
                    etcd_endpoints = [\"http://127.0.0.1:2379\"]\n\
                    s3_endpoints = [\"http://127.0.0.1:3900\"]\ns3_bucket = \"b\"\n\
                    s3_access_key_id = \"GK00\"\ns3_secret_access_key_file = \"/s\"\n";
        // The Rekor v2 log (on by default) keeps a tree per member: refused.
        let c = Config::from_toml(&format!("only = \"log\"\n{dist}")).unwrap();
        assert_eq!(c.validate().unwrap_err().key, "log.rekor_v2");
        let c =
            Config::from_toml(&format!("only = \"log\"\n[log]\nrekor_v2 = false\n{dist}")).unwrap();
        c.validate().unwrap();
        let c = Config::from_toml(&format!(
            "only = \"log\"\n[log]\nrekor_v2 = false\n{}",
            dist.replace("role", "lease_ttl_secs = 1\nrole")
        ))
        .unwrap();
        assert_eq!(
            c.validate().unwrap_err().key,
            "log.distributed.lease_ttl_secs"
        );
    }

    #[test]
    fn bad_values_are_named() {
        let c = Config::from_toml("[log]\nbatch_max_entries = 0\n").unwrap();
        assert_eq!(c.validate().unwrap_err().key, "log.batch_max_entries");
        let c =
            Config::from_toml("[[ca.issuers]]\nurl = \"https://x.example\"\ntype = \"martian\"\n")
                .unwrap();
        assert_eq!(c.validate().unwrap_err().key, "ca.issuers[0].type");
        let c = Config::from_toml("only = \"ca\"\n").unwrap();
        assert_eq!(c.validate().unwrap_err().key, "ca.log_url");
        let c = Config::from_toml("listen = \"nonsense\"\n");
        assert!(c.unwrap_err().key.contains("listen"));
        // server_url: a URL, and only for github-workflow issuers.
        let ghe = |t: &str, server: &str| {
            Config::from_toml(&format!(
                "[[ca.issuers]]\nurl = \"https://token.actions.ghe.example\"\ntype = \"{t}\"\nserver_url = \"{server}\"\n"
            ))
            .unwrap()
        };
        ghe("github-workflow", "https://ghe.example")
            .validate()
            .unwrap();
        let e = ghe("github-workflow", "ghe.example")
            .validate()
            .unwrap_err();
        assert_eq!(e.key, "ca.issuers[0].server_url");
        let e = ghe("email", "https://ghe.example").validate().unwrap_err();
        assert_eq!(e.key, "ca.issuers[0].server_url");
        assert!(e.to_string().contains("only github-workflow"), "{e}");
    }

    /// Every key of every table the parser knows (the full example and every kind of CA key)
    /// is named in the default template, and the template parses back to the defaults.
    #[test]
    fn template_names_every_key() {
        fn keys(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
            match v {
                toml::Value::Table(t) => {
                    for (k, v) in t {
                        out.push(format!("{prefix}{k}"));
                        keys(&format!("{prefix}{k}."), v, out);
                    }
                }
                toml::Value::Array(a) => a.iter().for_each(|v| keys(prefix, v, out)),
                _ => {}
            }
        }
        let template = Config::default().to_template();
        let mut all = Vec::new();
        keys(
            "",
            &toml::Value::try_from(Config::full_example()).unwrap(),
            &mut all,
        );
        for key in CaKey::examples() {
            keys("ca.key.", &toml::Value::try_from(&key).unwrap(), &mut all);
        }
        for key in &all {
            let leaf = key.rsplit('.').next().unwrap();
            let named = template.lines().any(|l| {
                let l = l.trim_start_matches("# ");
                l.starts_with(&format!("{leaf} = "))
                    || l == format!("[{key}]")
                    || l == format!("[[{key}]]")
            });
            assert!(named, "{key} missing from the template:\n{template}");
        }
        assert!(all.len() > 25, "{all:?}");
        let again = Config::from_toml(&template).unwrap();
        assert_eq!(again.to_toml(), Config::default().to_toml());
    }

    #[test]
    fn printed_config_parses_back() {
        let mut c = Config::default();
        c.ca.issuers.push(IssuerEntry {
            url: "https://issuer.example".into(),
            audience: "sigstore".into(),
            issuer_type: "email".into(),
            subject_domain: None,
            jwks_file: Some("/etc/signet/k8s-jwks.json".into()),
            ca_file: None,
            server_url: None,
        });
        let again = Config::from_toml(&c.to_toml()).unwrap();
        assert_eq!(again.ca.issuers.len(), 1);
        assert_eq!(
            again.ca.issuers[0].jwks_file.as_deref(),
            Some(std::path::Path::new("/etc/signet/k8s-jwks.json"))
        );
        assert_eq!(again.listen, c.listen);
    }

    /// An explicit public URL on a loopback, link-local or cluster-internal host is refused,
    /// naming the override; the override, and the default `http://<listen>`, are accepted.
    #[test]
    fn internal_public_urls_are_refused_unless_allowed() {
        for url in [
            "http://localhost:3000",
            "http://LOCALHOST./",
            "http://127.0.0.1:3000",
            "http://127.8.9.10",
            "http://[::1]:3000",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.1.1",
            "http://[fe80::1]/",
            "http://0.0.0.0:3000",
            "http://signet.signet.svc",
            "http://signet.signet.svc.cluster.local:3000",
            "http://log.cluster.local",
            "http://signet",
        ] {
            let mut c = Config {
                public_url: Some(url.to_owned()),
                ..Config::default()
            };
            let e = c.validate().unwrap_err();
            assert_eq!(e.key, "public_url", "{url}");
            assert!(
                e.message.contains("allow_internal_public_url = true")
                    && e.message.contains("--allow-internal-public-url"),
                "{url}: {e}"
            );
            c.allow_internal_public_url = true;
            c.validate().unwrap();
        }
        for url in [
            "https://signet.example.com",
            "https://10.1.2.3:8443",
            "https://[2001:db8::1]/",
        ] {
            let c = Config {
                public_url: Some(url.to_owned()),
                ..Config::default()
            };
            c.validate().unwrap();
        }
        Config::default().validate().unwrap();
        let c = Config::from_toml(
            "public_url = \"http://127.0.0.1:3000\"\nallow_internal_public_url = true\n",
        )
        .unwrap();
        c.validate().unwrap();
    }
}
