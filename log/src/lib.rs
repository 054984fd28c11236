//! signet-log: an append-only transparency log with Rekor v1 and C2SP tlog-tiles APIs.
//!
//! Entries (hashedrekord 0.0.1, dsse 0.0.1, and CT precertificates recorded by
//! `add-pre-chain`) are validated ([`entries`]), queued, batched by the [`sequencer`],
//! integrated into a tiled RFC 6962 Merkle tree with `signet_proto::tiles::integrate`, and
//! committed with one signed checkpoint in one synced RocksDB write ([`storage`]). Every
//! `POST /api/v1/log/entries` answer already carries an inclusion proof against that
//! checkpoint and a SET. The HTTP layer is [`http::router`]; [`bind`] / [`serve`] run it.
//!
//! Specs: RFC 6962 / 9162 (tree, proofs, SCTs), C2SP tlog-tiles, tlog-checkpoint and
//! signed-note, Rekor v1 `openapi.yaml`. Tree math, formats and signatures live in
//! `signet-proto`; this crate does I/O, concurrency and HTTP. With a witness policy it
//! gathers C2SP cosignatures before publishing a checkpoint ([`witness`]). What it does not
//! do: TLS, witnessing other logs. Frozen earlier trees (shards, `signet log rotate`) are
//! served beside the active one with global indexes ([`shards`]). A Rekor v2 log (`hashedrekord` 0.0.2 through
//! `POST /api/v2/log/entries`) is a second [`Log`] with its own store and keys ([`v2`]).

pub mod config; // LogConfig: the serde config and its validation
pub mod ct; // RFC 6962 add-pre-chain: precertificate chain checks and SCTs
#[cfg(feature = "distributed")]
pub mod distributed; // distributed mode: object storage + etcd-fenced sequencer (DistStore)
pub mod entries; // entry validation: hashedrekord, dsse, intoto, precert bodies
pub mod error; // EntryError, ChainError, QueryError, WitnessError, LogError (leaf)
pub mod explorer; // the browser log explorer: its assets, search, entry views, activity
pub mod frozen; // FrozenShard: the record of a frozen shard (leaf)
pub mod fsck; // offline consistency check of a store
pub mod head; // SignedHead, the signed tree head (leaf)
pub mod http; // the axum router: extract, one Log call, map
pub mod identity; // Identity: names, tree id, keys; checkpoint and SET signing (leaf)
pub mod limits; // size limits shared by validation, service and HTTP (leaf)
pub mod metrics; // Prometheus metrics of one log
pub mod proofcache; // ProofCache: bounded tile interiors behind served proofs (leaf)
pub mod sequencer; // batching, integration, commit, witness publication (owned by Log)
pub mod service; // Log: the domain operations the HTTP layer calls
pub mod shards; // frozen shards: rotation, their record, global indexes
pub mod signing; // LogKeys: loading and generating key files
pub mod storage; // LogStore (MemStore, RocksStore) and the typed LogDb layout
pub mod util; // sha256, path helpers
pub mod v2; // Rekor v2 (rekor-tiles) write API and tile reads over a second Log
pub mod witness; // Witnesses: gathering C2SP cosignatures (client side)

#[cfg(feature = "rocksdb")]
use std::net::SocketAddr;
#[cfg(feature = "rocksdb")]
use std::sync::Arc;

pub use config::LogConfig;
pub use error::LogError;
pub use service::Log;
pub use signet_proto::clock::{Clock, FixedClock, SystemClock};
pub use signing::LogKeys;

#[cfg(feature = "rocksdb")]
use storage::{LogDb, RocksStore};

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// Key files.
    #[error(transparent)]
    Keys(#[from] signing::KeyFileError),
    /// Opening the store or the log.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Storage.
    #[error(transparent)]
    Store(#[from] storage::StoreError),
    /// Socket errors.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

#[cfg(feature = "rocksdb")]
/// Opens the RocksDB store in `dir` (created if missing).
///
/// # Errors
/// [`ServeError::Store`] if RocksDB cannot open it (for example another process holds it).
pub fn open_store(dir: &std::path::Path) -> Result<LogDb, ServeError> {
    if let Some(file) = util::non_directory_ancestor(dir) {
        return Err(ServeError::Io {
            context: format!(
                "opening the store in {}: {} exists",
                dir.display(),
                file.display()
            ),
            source: std::io::Error::from(std::io::ErrorKind::NotADirectory),
        });
    }
    std::fs::create_dir_all(dir).map_err(|source| ServeError::Io {
        context: format!("creating {}", dir.display()),
        source,
    })?;
    Ok(LogDb::new(Arc::new(RocksStore::open(&dir.join("db"))?)))
}

#[cfg(feature = "rocksdb")]
/// Opens (or creates) the log described by `config` with the given public `host:port`,
/// loading or generating its keys, and starts its sequencer. The log reads wall-clock time
/// from `clock` only ([`SystemClock`] in servers). Use this to embed the log in another
/// server (merge [`http::router`] into your own router).
///
/// # Errors
/// Config, key, storage or signing errors.
///
/// # Panics
/// If called outside a tokio runtime.
pub fn open_log(
    config: &LogConfig,
    public_host: &str,
    clock: Arc<dyn Clock>,
) -> Result<Arc<Log>, ServeError> {
    config.validate()?;
    let keys = LogKeys::load_or_generate(config)?;
    let roots = service::load_ct_roots(&config.ct_roots)?;
    let db = open_store(&config.data_dir)?;
    Ok(Log::start(db, keys, public_host, roots, config, clock)?)
}

#[cfg(feature = "rocksdb")]
/// A log bound to its listening socket, not yet serving.
#[derive(Debug)]
pub struct BoundLog {
    log: Arc<Log>,
    /// Served with the Rekor v2 router ([`v2::router`]) rather than the v1 one.
    rekor_v2: bool,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

#[cfg(feature = "rocksdb")]
impl BoundLog {
    /// The bound address (useful with port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
    /// The log.
    #[must_use]
    pub fn log(&self) -> &Arc<Log> {
        &self.log
    }
    /// Serves until `shutdown` completes.
    ///
    /// # Errors
    /// [`ServeError::Io`] if the server fails.
    pub async fn serve_with_shutdown<F>(self, shutdown: F) -> Result<(), ServeError>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let router = if self.rekor_v2 {
            v2::router(self.log)
        } else {
            http::router(self.log)
        };
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| ServeError::Io {
                context: "serving".into(),
                source,
            })
    }
    /// Serves forever.
    ///
    /// # Errors
    /// [`ServeError::Io`] if the server fails.
    pub async fn serve(self) -> Result<(), ServeError> {
        self.serve_with_shutdown(std::future::pending()).await
    }
}

#[cfg(feature = "rocksdb")]
/// Binds `config.listen`, opens the log (public name: `config.public_host`, else the bound
/// address, clock: `clock`) and returns it ready to serve.
///
/// # Errors
/// As [`open_log`], plus bind errors.
pub async fn bind(config: &LogConfig, clock: Arc<dyn Clock>) -> Result<BoundLog, ServeError> {
    config.validate()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Io {
            context: format!("binding {}", config.listen),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Io {
        context: "local_addr".into(),
        source,
    })?;
    let host = config
        .public_host
        .clone()
        .unwrap_or_else(|| addr.to_string());
    let log = open_log(config, &host, clock)?;
    Ok(BoundLog {
        log,
        rekor_v2: config.rekor_v2,
        listener,
        addr,
    })
}

#[cfg(feature = "rocksdb")]
/// Binds and serves forever: `bind(config, clock).await?.serve().await`.
///
/// # Errors
/// As [`bind`] and [`BoundLog::serve`].
pub async fn serve(config: &LogConfig, clock: Arc<dyn Clock>) -> Result<(), ServeError> {
    bind(config, clock).await?.serve().await
}

#[cfg(feature = "distributed")]
/// Opens a member of a distributed log (see [`distributed`]): connects to the shared storage,
/// waits until a sequencer has created the log (a sequencer candidate may create it itself),
/// starts the log over the shared storage and the member's election and follower loop. The
/// keys (`config`'s key files) and `public_host` must be the same on every member.
///
/// # Errors
/// Config, witness policy, key, storage or signing errors.
///
/// # Panics
/// If called outside a multi-threaded tokio runtime.
pub async fn open_distributed(
    config: &LogConfig,
    dist: distributed::DistConfig,
    public_host: &str,
    clock: Arc<dyn Clock>,
) -> Result<Arc<Log>, ServeError> {
    config.validate()?;
    let keys = LogKeys::load_or_generate(config)?;
    let roots = service::load_ct_roots(&config.ct_roots)?;
    let store = distributed::DistStore::connect(dist).await?;
    let mut waited = 0u32;
    loop {
        if let Err(e) = store.refresh().await {
            tracing::warn!(error = %e, "shared storage not reachable yet");
        }
        if store.initialized() {
            break;
        }
        if store.role() == distributed::Role::Sequencer {
            match store.try_acquire().await {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "campaign failed"),
            }
        }
        if waited.is_multiple_of(20) {
            tracing::info!("waiting for a sequencer to create the log in the shared storage");
        }
        waited += 1;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let db = storage::LogDb::new(Arc::clone(&store) as Arc<dyn storage::LogStore>);
    // A fresh object store may refuse writes for a moment (a new cluster layout): retry what
    // the shared storage refused, for up to a minute.
    let mut tries = 0;
    let log = loop {
        match Log::start(
            db.clone(),
            keys.clone(),
            public_host,
            roots.clone(),
            config,
            Arc::clone(&clock),
        ) {
            Err(LogError::Storage(e @ storage::StoreError::Unavailable { .. })) if tries < 60 => {
                tracing::warn!(error = %e, "shared storage unavailable; retrying");
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            other => break other?,
        }
    };
    tokio::spawn(distributed::run_member(store, Arc::downgrade(&log)));
    Ok(log)
}
