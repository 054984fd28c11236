//! The few etcd v3 calls the distributed store makes (range, txn, lease grant, keep-alive and
//! revoke), over etcd's JSON gateway: the HTTP binding of its gRPC API that every etcd v3.4+
//! serves on its client URLs (`POST /v3/kv/range`, `/v3/kv/txn`, `/v3/lease/grant`,
//! `/v3/lease/keepalive`, `/v3/lease/revoke`; bytes in base64, 64-bit integers as strings).
//! This avoids a gRPC stack and its protobuf build for five calls. A call that cannot reach
//! an endpoint, or that the endpoint cannot serve (no quorum, timeout), tries the next one.
//!
//! What this module does not do: watches, authentication, TLS client certificates.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

/// An etcd call failed on every endpoint.
#[derive(Debug, thiserror::Error)]
#[error("etcd: {0}")]
pub(crate) struct EtcdError(String);

/// A stored key's value and revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kv {
    pub(crate) value: Vec<u8>,
    pub(crate) mod_revision: i64,
}

/// One compare of a transaction.
#[derive(Debug, Clone)]
pub(crate) enum Cmp {
    /// The key does not exist (its create revision is 0).
    Absent(Vec<u8>),
    /// The key's last modification is at this revision (0: absent).
    ModRevision(Vec<u8>, i64),
    /// The key holds exactly this value.
    Value(Vec<u8>, Vec<u8>),
    /// The key is attached to this lease.
    Lease(Vec<u8>, i64),
}

/// One operation of a transaction.
#[derive(Debug, Clone)]
pub(crate) enum TxnOp {
    /// Put, optionally attached to a lease.
    Put(Vec<u8>, Vec<u8>, Option<i64>),
    /// Read one key.
    Get(Vec<u8>),
}

/// What a transaction did.
#[derive(Debug, Clone)]
pub(crate) struct TxnResult {
    /// Whether every compare held (and the operations ran).
    pub(crate) succeeded: bool,
    /// The store's revision after the transaction.
    pub(crate) revision: i64,
    /// The results of the `Get` operations, in order.
    pub(crate) gets: Vec<Option<Kv>>,
}

/// A client of one etcd cluster.
#[derive(Debug)]
pub(crate) struct Etcd {
    http: reqwest::Client,
    endpoints: Vec<String>,
    current: AtomicUsize,
}

fn num(v: &Value) -> i64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

fn bytes(v: &Value) -> Vec<u8> {
    v.as_str()
        .and_then(|s| B64.decode(s).ok())
        .unwrap_or_default()
}

fn kv_of(v: &Value) -> Kv {
    Kv {
        value: bytes(&v["value"]),
        mod_revision: num(&v["mod_revision"]),
    }
}

impl Etcd {
    /// A client of the cluster whose client URLs are `endpoints`.
    pub(crate) fn new(endpoints: &[String], timeout: Duration) -> Result<Self, EtcdError> {
        let http = signet_net::client_builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(1))
            .build()
            .map_err(|e| EtcdError(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            endpoints: endpoints
                .iter()
                .map(|e| e.trim_end_matches('/').to_owned())
                .collect(),
            current: AtomicUsize::new(0),
        })
    }

    async fn call(&self, path: &str, body: Value) -> Result<Value, EtcdError> {
        let n = self.endpoints.len();
        let first = self.current.load(Ordering::Relaxed);
        let mut last = String::from("no endpoint");
        for k in 0..n {
            let i = (first + k) % n;
            let url = format!("{}{path}", self.endpoints[i]);
            match self.http.post(&url).json(&body).send().await {
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    // The keep-alive stream answers one JSON object per line, `{"result": …}`.
                    let first_line = text.lines().next().unwrap_or_default();
                    let v: Value = serde_json::from_str(first_line).unwrap_or(Value::Null);
                    let v = v.get("result").cloned().unwrap_or(v);
                    if status.is_success() && v.get("error").is_none() {
                        self.current.store(i, Ordering::Relaxed);
                        return Ok(v);
                    }
                    last = format!("{url}: {status} {}", text.trim());
                }
                Err(e) => last = format!("{url}: {e}"),
            }
        }
        Err(EtcdError(last))
    }

    /// The value of `key`, if any (a linearizable read).
    pub(crate) async fn get(&self, key: &[u8]) -> Result<Option<Kv>, EtcdError> {
        let v = self
            .call("/v3/kv/range", json!({"key": B64.encode(key)}))
            .await?;
        Ok(v["kvs"].as_array().and_then(|a| a.first()).map(kv_of))
    }

    /// One transaction: `then` if every compare of `when` holds, else nothing.
    pub(crate) async fn txn(&self, when: &[Cmp], then: &[TxnOp]) -> Result<TxnResult, EtcdError> {
        let compare: Vec<Value> = when
            .iter()
            .map(|c| match c {
                Cmp::Absent(k) => json!({"key": B64.encode(k), "result": "EQUAL",
                    "target": "CREATE", "create_revision": "0"}),
                Cmp::ModRevision(k, r) => json!({"key": B64.encode(k), "result": "EQUAL",
                    "target": "MOD", "mod_revision": r.to_string()}),
                Cmp::Value(k, v) => json!({"key": B64.encode(k), "result": "EQUAL",
                    "target": "VALUE", "value": B64.encode(v)}),
                Cmp::Lease(k, l) => json!({"key": B64.encode(k), "result": "EQUAL",
                    "target": "LEASE", "lease": l.to_string()}),
            })
            .collect();
        let success: Vec<Value> = then
            .iter()
            .map(|op| match op {
                TxnOp::Put(k, v, lease) => {
                    let mut p = json!({"key": B64.encode(k), "value": B64.encode(v)});
                    if let Some(l) = lease {
                        p["lease"] = Value::String(l.to_string());
                    }
                    json!({ "request_put": p })
                }
                TxnOp::Get(k) => json!({"request_range": {"key": B64.encode(k)}}),
            })
            .collect();
        let v = self
            .call(
                "/v3/kv/txn",
                json!({"compare": compare, "success": success}),
            )
            .await?;
        let succeeded = v["succeeded"].as_bool().unwrap_or(false);
        let gets = v["responses"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| r.get("response_range"))
                    .map(|r| r["kvs"].as_array().and_then(|a| a.first()).map(kv_of))
                    .collect()
            })
            .unwrap_or_default();
        Ok(TxnResult {
            succeeded,
            revision: num(&v["header"]["revision"]),
            gets,
        })
    }

    /// A new lease of `ttl` seconds; its id.
    pub(crate) async fn grant(&self, ttl: i64) -> Result<i64, EtcdError> {
        let v = self
            .call("/v3/lease/grant", json!({"TTL": ttl.to_string()}))
            .await?;
        match num(&v["ID"]) {
            0 => Err(EtcdError(format!("lease grant answered {v}"))),
            id => Ok(id),
        }
    }

    /// Renews the lease; its remaining time to live in seconds (0: it has expired).
    pub(crate) async fn keep_alive(&self, id: i64) -> Result<i64, EtcdError> {
        let v = self
            .call("/v3/lease/keepalive", json!({"ID": id.to_string()}))
            .await?;
        Ok(num(&v["TTL"]))
    }

    /// Revokes the lease (its keys are deleted).
    pub(crate) async fn revoke(&self, id: i64) -> Result<(), EtcdError> {
        self.call("/v3/lease/revoke", json!({"ID": id.to_string()}))
            .await
            .map(|_| ())
    }
}
