//! [`DistStore`]: the [`LogStore`] of the distributed mode (see the module docs of
//! [`crate::distributed`] for the layout), and the sequencer lease.
//!
//! A commit (a batch that moves the head) is:
//! 1. the batch's records, serialized, are written to `wal/<sha256>` (content-addressed, so
//!    a deposed leader writing one changes nothing anyone reads);
//! 2. one etcd transaction, taken only if `leader` is still this node under its lease and
//!    `head` is still at the revision this node last committed (fencing): `head` ← the new
//!    head, `wal` ← the batch's hash;
//! 3. the batch's records are written to their objects (idempotent: same names, same bytes);
//! 4. `applied` ← the new head (again only if this node still holds the lease), and only
//!    then is the batch answered.
//!
//! A failure after step 2 (unknown outcome, or records not written) makes this node step
//! down: the next sequencer (possibly this node again) replays `wal` before taking the head,
//! so a sequenced batch always ends up complete, and its entries' dedup records exist before
//! any new entry is accepted (an entry submitted again gets 409, never a second leaf).
//!
//! The lease is held only while keep-alives are answered: the node counts it as lost once
//! `ttl` has passed since the last keep-alive that was answered was *sent* (monotonic clock),
//! which is never later than etcd's own expiry, so a node paused past its lease refuses to
//! write before it could learn it lost, and the transaction's compare refuses it anyway.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, PutPayload, RetryConfig};
use signet_proto::tiles::{tile_width, TileId};
use tokio::sync::watch;

use super::etcd::{Cmp, Etcd, TxnOp};
use crate::storage::{keys, Batch, KvPairs, LogStore, Op, StoreError};

/// What this member does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A sequencer candidate: campaigns for the lease, sequences while it holds it, serves
    /// reads (and answers writes 503) while standby.
    Sequencer,
    /// A reader: serves the applied tree from the shared storage, never writes.
    Reader,
}

/// How to reach the shared storage.
#[derive(Debug, Clone)]
pub struct DistConfig {
    /// This member's role.
    pub role: Role,
    /// This member's name in the `leader` key (unique per member).
    pub node_id: String,
    /// etcd client URLs (`http://host:port`), every member of the cluster.
    pub etcd_endpoints: Vec<String>,
    /// S3 API URLs of the object store; a request that cannot reach one tries the next.
    pub s3_endpoints: Vec<String>,
    /// The bucket.
    pub bucket: String,
    /// The S3 region name (Garage: its `s3_region`).
    pub region: String,
    /// The S3 access key id.
    pub access_key_id: String,
    /// The S3 secret key.
    pub secret_access_key: String,
    /// Key prefix in etcd and in the bucket: one log per prefix.
    pub prefix: String,
    /// The sequencer lease's time to live.
    pub lease_ttl: Duration,
    /// Time allowed for one request to etcd or to the object store.
    pub request_timeout: Duration,
}

/// The sequencer lease as this node holds it.
#[derive(Debug, Clone)]
struct Leadership {
    lease: i64,
    /// Monotonic: the lease is certainly held until then.
    valid_until: Instant,
    /// Writes are refused until the recovery replayed the last batch.
    ready: bool,
    /// `head`'s mod revision as this node last committed or read it.
    head_rev: i64,
    head: Option<Vec<u8>>,
}

#[derive(Debug, Default)]
struct State {
    leader: Option<Leadership>,
    /// The applied head as last read (followers).
    applied: Option<Vec<u8>>,
}

/// Cache of immutable objects (everything under `kv/` is written once).
#[derive(Debug, Default)]
struct Cache {
    map: HashMap<String, Arc<Vec<u8>>>,
    bytes: usize,
}

const CACHE_BYTES: usize = 256 << 20;

struct Inner {
    cfg: DistConfig,
    s3: Vec<Arc<dyn ObjectStore>>,
    s3_cur: AtomicUsize,
    etcd: Etcd,
    state: Mutex<State>,
    cache: Mutex<Cache>,
    leader_tx: watch::Sender<bool>,
}

/// The distributed [`LogStore`] (see the module docs).
pub struct DistStore {
    inner: Arc<Inner>,
    rt: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for DistStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistStore")
            .field("node_id", &self.inner.cfg.node_id)
            .field("role", &self.inner.cfg.role)
            .finish_non_exhaustive()
    }
}

impl Drop for DistStore {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable {
        reason: format!("{what}: {e}"),
    }
}

fn not_leader(reason: &str) -> StoreError {
    StoreError::NotLeader {
        reason: reason.to_owned(),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn head_size(v: Option<&Vec<u8>>) -> u64 {
    v.and_then(|v| v.get(..8))
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

impl DistStore {
    /// Connects to etcd and the object store (nothing is written).
    ///
    /// # Errors
    /// [`StoreError::Backend`] for an unusable configuration; [`StoreError::Unavailable`] if
    /// etcd cannot be reached.
    pub async fn connect(cfg: DistConfig) -> Result<Arc<Self>, StoreError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("signet-dist")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("starting the storage runtime: {e}")))?;
        let inner = match rt.spawn(Inner::connect(cfg)).await {
            Ok(Ok(inner)) => Arc::new(inner),
            // A runtime may not be dropped inside another one: shut it down first.
            Ok(Err(e)) => {
                rt.shutdown_background();
                return Err(e);
            }
            Err(e) => {
                rt.shutdown_background();
                return Err(StoreError::Backend(e.to_string()));
            }
        };
        let store = Arc::new(Self {
            inner: Arc::clone(&inner),
            rt: Some(rt),
        });
        store.refresh().await?;
        Ok(store)
    }

    /// A reader over `objects` (instead of S3 endpoints) serving the fixed applied head
    /// `head` (size ‖ root), without etcd: the distributed read path alone (tile lookups,
    /// its object cache, the runtime hop of every read), for benchmarks of proofs over tiles
    /// already written in the layout of [`crate::distributed`]. It never writes and never
    /// follows a newer head.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if its runtime cannot start.
    #[doc(hidden)]
    pub fn fixed_reader(
        objects: Arc<dyn ObjectStore>,
        prefix: &str,
        head: Vec<u8>,
    ) -> Result<Arc<Self>, StoreError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("signet-dist")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("starting the storage runtime: {e}")))?;
        let cfg = DistConfig {
            role: Role::Reader,
            node_id: "fixed-reader".into(),
            etcd_endpoints: Vec::new(),
            s3_endpoints: Vec::new(),
            bucket: String::new(),
            region: String::new(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            prefix: prefix.to_owned(),
            lease_ttl: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
        };
        let etcd =
            Etcd::new(&[], cfg.request_timeout).map_err(|e| StoreError::Backend(e.to_string()))?;
        let (leader_tx, _) = watch::channel(false);
        let inner = Inner {
            cfg,
            s3: vec![objects],
            s3_cur: AtomicUsize::new(0),
            etcd,
            state: Mutex::new(State {
                leader: None,
                applied: Some(head),
            }),
            cache: Mutex::new(Cache::default()),
            leader_tx,
        };
        Ok(Arc::new(Self {
            inner: Arc::new(inner),
            rt: Some(rt),
        }))
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        // Only `Drop` takes it.
        self.rt
            .as_ref()
            .unwrap_or_else(|| unreachable!("runtime taken"))
    }

    /// Runs `fut` on the store's runtime and waits for it from synchronous code (the
    /// [`LogStore`] methods), whether or not the caller is inside another runtime.
    fn block<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.rt().spawn(async move {
            let _ = tx.send(fut.await);
        });
        let wait = move || rx.recv();
        let got = match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        };
        got.map_err(|_| StoreError::Backend("storage runtime stopped".into()))?
    }

    async fn spawn<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.rt()
            .spawn(fut)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))
    }

    /// This member's role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.inner.cfg.role
    }

    /// This member's node id.
    #[must_use]
    pub fn node_id(&self) -> &str {
        &self.inner.cfg.node_id
    }

    /// True while this node holds the sequencer lease and may write.
    #[must_use]
    pub fn is_leader(&self) -> bool {
        self.inner.leadership().is_ok()
    }

    /// Whether the log exists in the shared storage (a sequencer has initialised it).
    #[must_use]
    pub fn initialized(&self) -> bool {
        lock(&self.inner.state).applied.is_some()
    }

    /// Reads the applied head (what a follower serves).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] if etcd cannot answer.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let inner = Arc::clone(&self.inner);
        self.spawn(async move { inner.refresh().await }).await?
    }

    /// One campaign round: takes the lease if no one holds it, replays the last committed
    /// batch, and becomes the sequencer. Returns whether this node is now the sequencer.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] if etcd or the object store cannot answer (the lease, if
    /// taken, is given back).
    pub async fn try_acquire(&self) -> Result<bool, StoreError> {
        if self.inner.cfg.role != Role::Sequencer {
            return Ok(false);
        }
        let inner = Arc::clone(&self.inner);
        self.spawn(async move { inner.try_acquire().await }).await?
    }

    /// Waits until this node is not the sequencer.
    pub async fn lost(&self) {
        let mut rx = self.inner.leader_tx.subscribe();
        let _ = rx.wait_for(|leader| !*leader).await;
    }

    /// Gives the lease up (so that a standby takes over at once).
    pub async fn step_down(&self, reason: &str) {
        let inner = Arc::clone(&self.inner);
        let reason = reason.to_owned();
        let _ = self
            .spawn(async move { inner.step_down(&reason).await })
            .await;
    }
}

impl Inner {
    async fn connect(cfg: DistConfig) -> Result<Self, StoreError> {
        if cfg.s3_endpoints.is_empty() || cfg.etcd_endpoints.is_empty() {
            return Err(StoreError::Backend(
                "the distributed store needs at least one S3 and one etcd endpoint".into(),
            ));
        }
        let mut s3: Vec<Arc<dyn ObjectStore>> = Vec::new();
        for endpoint in &cfg.s3_endpoints {
            let store = AmazonS3Builder::new()
                .with_endpoint(endpoint)
                .with_bucket_name(&cfg.bucket)
                .with_region(&cfg.region)
                .with_access_key_id(&cfg.access_key_id)
                .with_secret_access_key(&cfg.secret_access_key)
                .with_allow_http(true)
                .with_virtual_hosted_style_request(false)
                .with_retry(RetryConfig {
                    backoff: BackoffConfig {
                        init_backoff: Duration::from_millis(50),
                        max_backoff: Duration::from_millis(500),
                        base: 2.0,
                    },
                    max_retries: 1,
                    retry_timeout: cfg.request_timeout,
                })
                .with_client_options(
                    ClientOptions::new()
                        .with_allow_http(true)
                        .with_timeout(cfg.request_timeout)
                        .with_connect_timeout(Duration::from_secs(1)),
                )
                .build()
                .map_err(|e| StoreError::Backend(format!("object store {endpoint}: {e}")))?;
            s3.push(Arc::new(store));
        }
        let etcd = Etcd::new(&cfg.etcd_endpoints, cfg.request_timeout)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let (leader_tx, _) = watch::channel(false);
        Ok(Self {
            cfg,
            s3,
            s3_cur: AtomicUsize::new(0),
            etcd,
            state: Mutex::new(State::default()),
            cache: Mutex::new(Cache::default()),
            leader_tx,
        })
    }

    fn ekey(&self, name: &str) -> Vec<u8> {
        format!("/{}/{name}", self.cfg.prefix).into_bytes()
    }

    fn meta_key(&self, key: &[u8]) -> Vec<u8> {
        self.ekey(&format!("meta/{}", hex::encode(key)))
    }

    fn opath(&self, rest: &str) -> Path {
        Path::from(format!("{}/{rest}", self.cfg.prefix))
    }

    /// The object of a record key (not `T`, not `M`).
    fn record_path(&self, key: &[u8]) -> Result<Path, StoreError> {
        let bad = || StoreError::Backend(format!("no object for key {}", hex::encode(key)));
        let (&c, rest) = key.split_first().ok_or_else(bad)?;
        match c {
            b'I' if rest.len() == 1 + 32 + 8 => Ok(self.opath(&format!(
                "kv/I/{}/{}",
                hex::encode(&rest[..33]),
                hex::encode(&rest[33..])
            ))),
            b'E' | b'B' | b'H' | b'C' | b'P' => {
                Ok(self.opath(&format!("kv/{}/{}", c as char, hex::encode(rest))))
            }
            _ => Err(bad()),
        }
    }

    fn tile_path(&self, level: u8, index: u64, width: u16) -> Path {
        let mut k = vec![level];
        k.extend_from_slice(&index.to_be_bytes());
        self.opath(&format!("kv/T/{}.{width}", hex::encode(k)))
    }

    /// The object a `Put` of the batch goes to.
    fn put_path(&self, key: &[u8], value: &[u8]) -> Result<Path, StoreError> {
        if key.first() == Some(&b'T') && key.len() == 10 {
            let index = u64::from_be_bytes(
                key[2..10]
                    .try_into()
                    .map_err(|_| StoreError::Backend("tile key".into()))?,
            );
            let width = u16::try_from(value.len() / 32)
                .ok()
                .filter(|w| (1..=256).contains(w) && value.len().is_multiple_of(32))
                .ok_or_else(|| StoreError::Corrupt {
                    key: hex::encode(key),
                    reason: format!("a tile of {} bytes", value.len()),
                })?;
            return Ok(self.tile_path(key[1], index, width));
        }
        self.record_path(key)
    }

    fn leadership(&self) -> Result<Leadership, StoreError> {
        if self.cfg.role == Role::Reader {
            return Err(not_leader("a reader never writes"));
        }
        let st = lock(&self.state);
        match &st.leader {
            Some(l) if !l.ready => Err(not_leader("still recovering the last batch")),
            Some(l) if Instant::now() < l.valid_until => Ok(l.clone()),
            Some(_) => Err(not_leader("the sequencer lease expired")),
            None => Err(not_leader("a standby")),
        }
    }

    fn current_head(&self) -> Option<Vec<u8>> {
        let st = lock(&self.state);
        match &st.leader {
            Some(l) if l.ready => l.head.clone(),
            _ => st.applied.clone(),
        }
    }

    /// Forgets the lease `lease` (if still the one held) and wakes whoever waits for that.
    fn lose(&self, lease: i64, reason: &str) -> bool {
        let mut st = lock(&self.state);
        if st.leader.as_ref().is_some_and(|l| l.lease == lease) {
            st.leader = None;
            drop(st);
            tracing::warn!(node = %self.cfg.node_id, reason, "not the sequencer any more");
            self.leader_tx.send_replace(false);
            return true;
        }
        false
    }

    async fn step_down(&self, reason: &str) {
        let lease = lock(&self.state).leader.as_ref().map(|l| l.lease);
        if let Some(lease) = lease {
            self.lose(lease, reason);
            let _ = tokio::time::timeout(self.cfg.request_timeout, self.etcd.revoke(lease)).await;
        }
    }

    async fn refresh(&self) -> Result<(), StoreError> {
        let applied = self
            .etcd
            .get(&self.ekey("applied"))
            .await
            .map_err(|e| unavailable("reading the applied head", e))?
            .map(|kv| kv.value);
        let mut st = lock(&self.state);
        // The applied head never goes backwards.
        if head_size(applied.as_ref()) >= head_size(st.applied.as_ref()) && applied.is_some() {
            st.applied = applied;
        }
        Ok(())
    }

    async fn try_acquire(self: &Arc<Self>) -> Result<bool, StoreError> {
        let leader_key = self.ekey("leader");
        let got = self
            .etcd
            .get(&leader_key)
            .await
            .map_err(|e| unavailable("reading the leader", e))?;
        if got.is_some() {
            return Ok(false);
        }
        let ttl = i64::try_from(self.cfg.lease_ttl.as_secs().max(1)).unwrap_or(5);
        let sent = Instant::now();
        let lease = self
            .etcd
            .grant(ttl)
            .await
            .map_err(|e| unavailable("granting a lease", e))?;
        let won = match self
            .etcd
            .txn(
                &[Cmp::Absent(leader_key.clone())],
                &[TxnOp::Put(
                    leader_key,
                    self.cfg.node_id.clone().into_bytes(),
                    Some(lease),
                )],
            )
            .await
        {
            Ok(r) => r.succeeded,
            Err(e) => {
                let _ = self.etcd.revoke(lease).await;
                return Err(unavailable("campaigning", e));
            }
        };
        if !won {
            let _ = self.etcd.revoke(lease).await;
            return Ok(false);
        }
        lock(&self.state).leader = Some(Leadership {
            lease,
            valid_until: sent + self.cfg.lease_ttl,
            ready: false,
            head_rev: 0,
            head: None,
        });
        self.leader_tx.send_replace(true);
        tokio::spawn(Arc::clone(self).keep_alive(lease));
        match self.recover(lease).await {
            Ok((head, rev)) => {
                let mut st = lock(&self.state);
                if let Some(l) = st.leader.as_mut().filter(|l| l.lease == lease) {
                    l.head = head.clone();
                    l.head_rev = rev;
                    l.ready = true;
                    if head.is_some() {
                        st.applied = head;
                    }
                    return Ok(true);
                }
                Ok(false)
            }
            Err(e) => {
                self.step_down("recovery failed").await;
                Err(e)
            }
        }
    }

    async fn keep_alive(self: Arc<Self>, lease: i64) {
        let every = self.cfg.lease_ttl / 3;
        loop {
            if lock(&self.state)
                .leader
                .as_ref()
                .is_none_or(|l| l.lease != lease)
            {
                return;
            }
            let sent = Instant::now();
            let answered = tokio::time::timeout(every, self.etcd.keep_alive(lease))
                .await
                .ok()
                .and_then(Result::ok);
            match answered {
                Some(ttl) if ttl > 0 => {
                    let until = sent + Duration::from_secs(u64::try_from(ttl).unwrap_or(0));
                    let mut st = lock(&self.state);
                    if let Some(l) = st.leader.as_mut().filter(|l| l.lease == lease) {
                        l.valid_until = l.valid_until.max(until);
                    }
                }
                Some(_) => {
                    self.lose(lease, "the lease expired");
                    return;
                }
                None => {
                    let expired = lock(&self.state)
                        .leader
                        .as_ref()
                        .is_none_or(|l| Instant::now() >= l.valid_until);
                    if expired {
                        self.lose(lease, "keep-alives unanswered for the lease's ttl");
                        return;
                    }
                }
            }
            tokio::time::sleep_until((sent + every).into()).await;
        }
    }

    /// The fencing conditions: `leader` is this node under `lease`.
    fn held(&self, lease: i64) -> Vec<Cmp> {
        let leader = self.ekey("leader");
        vec![
            Cmp::Value(leader.clone(), self.cfg.node_id.clone().into_bytes()),
            Cmp::Lease(leader, lease),
        ]
    }

    /// Replays the last committed batch if its records may be incomplete; returns the head
    /// and its revision.
    async fn recover(&self, lease: i64) -> Result<(Option<Vec<u8>>, i64), StoreError> {
        let snap = self
            .etcd
            .txn(
                &[],
                &[
                    TxnOp::Get(self.ekey("head")),
                    TxnOp::Get(self.ekey("wal")),
                    TxnOp::Get(self.ekey("applied")),
                ],
            )
            .await
            .map_err(|e| unavailable("reading the head", e))?;
        let got: Vec<Option<(Vec<u8>, i64)>> = snap
            .gets
            .into_iter()
            .map(|kv| kv.map(|kv| (kv.value, kv.mod_revision)))
            .collect();
        let [head, wal, applied]: [Option<(Vec<u8>, i64)>; 3] = got
            .try_into()
            .map_err(|_| unavailable("reading the head", "short transaction answer"))?;
        let Some((head, rev)) = head else {
            return Ok((None, 0));
        };
        if applied.as_ref().map(|a| &a.0) != Some(&head) {
            if let Some((hash, _)) = wal {
                let hash = String::from_utf8_lossy(&hash).into_owned();
                let blob = self
                    .s3_get(&self.opath(&format!("wal/{hash}")))
                    .await?
                    .ok_or_else(|| StoreError::Corrupt {
                        key: format!("wal/{hash}"),
                        reason: "the committed batch is missing from the object store".into(),
                    })?;
                let puts = decode_puts(&blob)?;
                tracing::info!(
                    size = head_size(Some(&head)),
                    records = puts.len(),
                    "replaying the last committed batch"
                );
                self.apply(&puts).await?;
            }
            let ok = self
                .etcd
                .txn(
                    &self.held(lease),
                    &[TxnOp::Put(self.ekey("applied"), head.clone(), None)],
                )
                .await
                .map_err(|e| unavailable("recording the applied head", e))?
                .succeeded;
            if !ok {
                return Err(not_leader("lease lost during recovery"));
            }
        }
        Ok((Some(head), rev))
    }

    fn cached(&self, path: &Path) -> Option<Arc<Vec<u8>>> {
        lock(&self.cache).map.get(path.as_ref()).cloned()
    }

    fn remember(&self, path: &Path, v: &Arc<Vec<u8>>) {
        let mut c = lock(&self.cache);
        if c.bytes + v.len() > CACHE_BYTES {
            c.map.clear();
            c.bytes = 0;
        }
        c.bytes += v.len();
        c.map.insert(path.to_string(), Arc::clone(v));
    }

    /// GET with endpoint failover; `None` for a missing object.
    async fn s3_get(&self, path: &Path) -> Result<Option<Arc<Vec<u8>>>, StoreError> {
        if let Some(v) = self.cached(path) {
            return Ok(Some(v));
        }
        let n = self.s3.len();
        let first = self.s3_cur.load(Ordering::Relaxed);
        let mut last = None;
        for k in 0..n {
            let i = (first + k) % n;
            let got = match self.s3[i].get(path).await {
                Ok(r) => r.bytes().await,
                Err(e) => Err(e),
            };
            match got {
                Ok(b) => {
                    self.s3_cur.store(i, Ordering::Relaxed);
                    let v = Arc::new(b.to_vec());
                    self.remember(path, &v);
                    return Ok(Some(v));
                }
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => last = Some(e),
            }
        }
        Err(unavailable(
            &format!("reading {path}"),
            last.map_or_else(String::new, |e| e.to_string()),
        ))
    }

    async fn s3_put(&self, path: &Path, value: Vec<u8>) -> Result<(), StoreError> {
        let n = self.s3.len();
        let first = self.s3_cur.load(Ordering::Relaxed);
        let payload = PutPayload::from(value);
        let mut last = None;
        for k in 0..n {
            let i = (first + k) % n;
            match self.s3[i].put(path, payload.clone()).await {
                Ok(_) => {
                    self.s3_cur.store(i, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        Err(unavailable(
            &format!("writing {path}"),
            last.map_or_else(String::new, |e| e.to_string()),
        ))
    }

    async fn s3_list(
        &self,
        dir: &Path,
        offset: Option<&Path>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let n = self.s3.len();
        let first = self.s3_cur.load(Ordering::Relaxed);
        let mut last = None;
        for k in 0..n {
            let i = (first + k) % n;
            let stream = match offset {
                Some(o) => self.s3[i].list_with_offset(Some(dir), o),
                None => self.s3[i].list(Some(dir)),
            };
            match stream
                .take(limit)
                .map_ok(|m| m.location.to_string())
                .try_collect::<Vec<_>>()
                .await
            {
                Ok(mut v) => {
                    v.sort();
                    return Ok(v);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(unavailable(
            &format!("listing {dir}"),
            last.map_or_else(String::new, |e| e.to_string()),
        ))
    }

    /// Writes every record (32 at a time).
    async fn apply(&self, puts: &[(Vec<u8>, Vec<u8>)]) -> Result<(), StoreError> {
        let mut jobs = Vec::with_capacity(puts.len());
        for (k, v) in puts {
            jobs.push((self.put_path(k, v)?, v.clone()));
        }
        futures_util::stream::iter(jobs)
            .map(|(p, v)| async move { self.s3_put(&p, v).await })
            .buffer_unordered(32)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn get(&self, key: Vec<u8>) -> Result<Option<Vec<u8>>, StoreError> {
        if key == keys::HEAD {
            return Ok(self.current_head());
        }
        if key == keys::PUBLISHED {
            let v = self
                .etcd
                .get(&self.meta_key(&key))
                .await
                .map_err(|e| unavailable("reading the published checkpoint", e))?
                .map(|kv| kv.value);
            // The sequencer records `applied` before it publishes: a follower whose applied
            // head is older than the published one reads it again, so the published head is
            // never ahead of the head this member serves.
            if head_size(v.as_ref()) > head_size(self.current_head().as_ref()) {
                self.refresh().await?;
            }
            return Ok(v);
        }
        match key.first() {
            Some(b'M') => Ok(self
                .etcd
                .get(&self.meta_key(&key))
                .await
                .map_err(|e| unavailable("reading metadata", e))?
                .map(|kv| kv.value)),
            Some(b'T') if key.len() == 10 => {
                let index = u64::from_be_bytes(
                    key[2..10]
                        .try_into()
                        .map_err(|_| StoreError::Backend("tile key".into()))?,
                );
                let size = head_size(self.current_head().as_ref());
                let Some(width) = tile_width(key[1], index, size) else {
                    return Ok(None);
                };
                Ok(self
                    .tile(TileId {
                        level: key[1],
                        index,
                        width,
                    })
                    .await?
                    .map(|v| v.to_vec()))
            }
            _ => Ok(self
                .s3_get(&self.record_path(&key)?)
                .await?
                .map(|v| v.to_vec())),
        }
    }

    /// Tile `t`: the object of exactly its width (every committed head's tiles exist at their
    /// widths), else a wider version of it (full, or as of the current head), whose first
    /// `width` hashes are the same.
    async fn tile(&self, t: TileId) -> Result<Option<Arc<Vec<u8>>>, StoreError> {
        if let Some(v) = self
            .s3_get(&self.tile_path(t.level, t.index, t.width))
            .await?
        {
            return Ok(Some(v));
        }
        let size = head_size(self.current_head().as_ref());
        let now = tile_width(t.level, t.index, size).unwrap_or(0);
        for wider in [256, now] {
            if wider > t.width {
                if let Some(v) = self
                    .s3_get(&self.tile_path(t.level, t.index, wider))
                    .await?
                {
                    return Ok(Some(v));
                }
            }
        }
        Ok(None)
    }

    async fn scan(
        &self,
        prefix: Vec<u8>,
        start: Vec<u8>,
        limit: usize,
    ) -> Result<KvPairs, StoreError> {
        let dir = match prefix.as_slice() {
            [b'E'] => self.opath("kv/E"),
            [b'I', rest @ ..] if rest.len() == 33 => {
                self.opath(&format!("kv/I/{}", hex::encode(rest)))
            }
            _ => {
                return Err(StoreError::Backend(format!(
                    "the distributed store cannot scan prefix {}",
                    hex::encode(&prefix)
                )))
            }
        };
        // Stored suffixes are 8-byte indexes; list from the one before `start`'s.
        let suffix = start.get(prefix.len()..).unwrap_or_default();
        let offset = match suffix.len() {
            0 => None,
            8 => {
                let n = u64::from_be_bytes(suffix.try_into().unwrap_or([0; 8]));
                n.checked_sub(1)
                    .map(|p| Path::from(format!("{dir}/{}", hex::encode(p.to_be_bytes()))))
            }
            l if l > 8 => Some(Path::from(format!("{dir}/{}", hex::encode(&suffix[..8])))),
            _ => None,
        };
        let names = self.s3_list(&dir, offset.as_ref(), limit + 2).await?;
        let mut out_keys = Vec::new();
        let dir_s = format!("{dir}/");
        for name in names {
            let Some(hexpart) = name.strip_prefix(&dir_s) else {
                continue;
            };
            let Ok(tail) = hex::decode(hexpart) else {
                continue;
            };
            let mut key = prefix.clone();
            key.extend_from_slice(&tail);
            if key >= start {
                out_keys.push(key);
            }
            if out_keys.len() == limit {
                break;
            }
        }
        if prefix.first() == Some(&b'I') {
            return Ok(out_keys.into_iter().map(|k| (k, Vec::new())).collect());
        }
        let values: Vec<Option<Arc<Vec<u8>>>> = futures_util::stream::iter(out_keys.clone())
            .map(|k| async move { self.s3_get(&self.record_path(&k)?).await })
            .buffered(32)
            .try_collect()
            .await?;
        Ok(out_keys
            .into_iter()
            .zip(values)
            .filter_map(|(k, v)| v.map(|v| (k, v.to_vec())))
            .collect())
    }

    async fn write(&self, batch: Batch) -> Result<(), StoreError> {
        let mut head = None;
        let mut meta = Vec::new();
        let mut data = Vec::new();
        for op in batch.ops {
            match op {
                Op::Put(k, v) if k == keys::HEAD => head = Some(v),
                Op::Put(k, v) if k.first() == Some(&b'M') => meta.push((k, v)),
                Op::Put(k, v) => data.push((k, v)),
                Op::Delete(k) => {
                    return Err(StoreError::Backend(format!(
                        "the distributed store never deletes (key {})",
                        hex::encode(k)
                    )))
                }
            }
        }
        let lead = self.leadership()?;
        let Some(new_head) = head else {
            self.apply(&data).await?;
            if !meta.is_empty() {
                let ops: Vec<TxnOp> = meta
                    .into_iter()
                    .map(|(k, v)| TxnOp::Put(self.meta_key(&k), v, None))
                    .collect();
                let ok = self
                    .etcd
                    .txn(&self.held(lead.lease), &ops)
                    .await
                    .map_err(|e| unavailable("writing metadata", e))?
                    .succeeded;
                if !ok {
                    self.lose(lead.lease, "fenced: the lease is not ours");
                    return Err(not_leader("fenced: the lease is not ours"));
                }
            }
            return Ok(());
        };
        check_base(lead.head.as_ref(), &new_head, &data)?;
        // 1. The batch, content-addressed.
        let blob = encode_puts(&data);
        let hash = hex::encode(crate::util::sha256(&blob));
        self.s3_put(&self.opath(&format!("wal/{hash}")), blob)
            .await?;
        // 2. The fenced head.
        let mut when = self.held(lead.lease);
        when.push(Cmp::ModRevision(self.ekey("head"), lead.head_rev));
        let mut ops = vec![
            TxnOp::Put(self.ekey("head"), new_head.clone(), None),
            TxnOp::Put(self.ekey("wal"), hash.into_bytes(), None),
        ];
        for (k, v) in meta {
            ops.push(TxnOp::Put(self.meta_key(&k), v, None));
        }
        let resp = match self.etcd.txn(&when, &ops).await {
            Ok(r) => r,
            Err(e) => {
                // The outcome is unknown: the next sequencer's recovery settles it.
                self.step_down("head commit outcome unknown").await;
                return Err(unavailable("committing the head", e));
            }
        };
        if !resp.succeeded {
            self.lose(lead.lease, "fenced: the head or the lease changed");
            return Err(not_leader("fenced: the head or the lease changed"));
        }
        let rev = resp.revision;
        {
            let mut st = lock(&self.state);
            if let Some(l) = st.leader.as_mut().filter(|l| l.lease == lead.lease) {
                l.head = Some(new_head.clone());
                l.head_rev = rev;
            }
        }
        // 3. The records.
        if let Err(e) = self.apply(&data).await {
            self.step_down("records of a committed batch not written")
                .await;
            return Err(e);
        }
        // 4. What readers serve.
        let applied = self
            .etcd
            .txn(
                &self.held(lead.lease),
                &[TxnOp::Put(self.ekey("applied"), new_head.clone(), None)],
            )
            .await;
        if !applied.is_ok_and(|r| r.succeeded) {
            // The batch is committed and complete; the next sequencer records it as applied.
            self.step_down("cannot record the applied head").await;
        }
        lock(&self.state).applied = Some(new_head);
        Ok(())
    }
}

/// A batch that moves the head must start where this node's head ends (a sequencer whose
/// in-memory head is stale, e.g. just after an election, cannot commit over it).
fn check_base(
    current: Option<&Vec<u8>>,
    new_head: &[u8],
    data: &[(Vec<u8>, Vec<u8>)],
) -> Result<(), StoreError> {
    let size = head_size(current);
    let new_size = head_size(Some(&new_head.to_vec()));
    let first_entry = data
        .iter()
        .filter(|(k, _)| k.first() == Some(&b'E') && k.len() == 9)
        .filter_map(|(k, _)| k[1..9].try_into().ok().map(u64::from_be_bytes))
        .min();
    let stale = match (current, first_entry) {
        (Some(_), Some(first)) => first != size || new_size <= size,
        (Some(_), None) => new_size != size,
        (None, Some(first)) => first != 0,
        (None, None) => false,
    };
    if stale {
        return Err(not_leader(&format!(
            "stale base: the batch starts at {} over a head of size {size}",
            first_entry.unwrap_or(new_size)
        )));
    }
    Ok(())
}

fn encode_puts(puts: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in puts {
        for part in [k, v] {
            out.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(part);
        }
    }
    out
}

fn decode_puts(mut blob: &[u8]) -> Result<KvPairs, StoreError> {
    let corrupt = || StoreError::Corrupt {
        key: "wal".into(),
        reason: "truncated batch".into(),
    };
    let take = |blob: &mut &[u8]| -> Result<Vec<u8>, StoreError> {
        let (len, rest) = blob.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| corrupt())?;
        let (part, rest) = rest.split_at_checked(len).ok_or_else(corrupt)?;
        *blob = rest;
        Ok(part.to_vec())
    };
    let mut out = Vec::new();
    while !blob.is_empty() {
        let k = take(&mut blob)?;
        let v = take(&mut blob)?;
        out.push((k, v));
    }
    Ok(out)
}

impl LogStore for DistStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let inner = Arc::clone(&self.inner);
        let key = key.to_vec();
        self.block(async move { inner.get(key).await })
    }

    fn multi_get(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let inner = Arc::clone(&self.inner);
        let keys = keys.to_vec();
        self.block(async move {
            futures_util::stream::iter(keys)
                .map(|k| {
                    let inner = Arc::clone(&inner);
                    async move { inner.get(k).await }
                })
                .buffered(32)
                .try_collect()
                .await
        })
    }

    fn get_tiles(&self, ids: &[TileId]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        // Warm path (a proof's tiles are usually all cached): answered on the caller's
        // thread, without the hop to the storage runtime.
        let hits: Option<Vec<Option<Vec<u8>>>> = ids
            .iter()
            .map(|t| {
                self.inner
                    .cached(&self.inner.tile_path(t.level, t.index, t.width))
                    .map(|v| Some(v.to_vec()))
            })
            .collect();
        if let Some(hits) = hits {
            return Ok(hits);
        }
        let inner = Arc::clone(&self.inner);
        let ids = ids.to_vec();
        self.block(async move {
            futures_util::stream::iter(ids)
                .map(|t| {
                    let inner = Arc::clone(&inner);
                    async move { Ok::<_, StoreError>(inner.tile(t).await?.map(|v| v.to_vec())) }
                })
                .buffered(32)
                .try_collect()
                .await
        })
    }

    fn scan(&self, prefix: &[u8], start: &[u8], limit: usize) -> Result<KvPairs, StoreError> {
        let inner = Arc::clone(&self.inner);
        let (prefix, start) = (prefix.to_vec(), start.to_vec());
        self.block(async move { inner.scan(prefix, start, limit).await })
    }

    fn write(&self, batch: &Batch, _sync: bool) -> Result<(), StoreError> {
        let inner = Arc::clone(&self.inner);
        let batch = batch.clone();
        self.block(async move { inner.write(batch).await })
    }

    fn is_writer(&self) -> bool {
        self.is_leader()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn batches_round_trip_through_the_wal_encoding() {
        let puts = vec![
            (b"Eabc".to_vec(), vec![1, 2, 3]),
            (b"H".to_vec(), Vec::new()),
            (vec![b'T', 0, 0, 0, 0, 0, 0, 0, 0, 1], vec![7; 64]),
        ];
        let blob = encode_puts(&puts);
        assert_eq!(decode_puts(&blob).unwrap(), puts);
        assert!(decode_puts(&blob[..blob.len() - 1]).is_err());
        assert!(decode_puts(&[0, 0, 0]).is_err());
    }

    #[test]
    fn a_batch_over_a_stale_head_is_refused() {
        let head = |n: u64| {
            let mut v = n.to_be_bytes().to_vec();
            v.extend_from_slice(&[0; 32]);
            v
        };
        let entry = |i: u64| (keys::entry(i), Vec::new());
        // Extends the head: accepted.
        check_base(Some(&head(10)), &head(12), &[entry(10), entry(11)]).unwrap();
        // Computed over an older head (size 8): refused.
        let e = check_base(Some(&head(10)), &head(10), &[entry(8), entry(9)]).unwrap_err();
        assert!(matches!(e, StoreError::NotLeader { .. }), "{e}");
        // A fresh log: the first batch starts at 0.
        check_base(None, &head(0), &[]).unwrap();
        assert!(check_base(None, &head(3), &[entry(1)]).is_err());
    }
}
