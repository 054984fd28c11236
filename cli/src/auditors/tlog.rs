//! Read-side client of a Signet (or any C2SP tlog-tiles + Rekor v1) log: signed checkpoints,
//! hash tiles, entry bundles and consistency proofs. Shared by `signet monitor` and
//! `signet audit`.
//!
//! Specs: C2SP tlog-tiles (`/checkpoint`, `/tile/<L>/<N>[.p/<W>]`,
//! `/tile/entries/<N>[.p/<W>]`), C2SP tlog-checkpoint and signed-note (the Rekor-style ECDSA
//! line, signer name = host of the tlog's `baseUrl` in `trusted_root.json`), Rekor v1
//! `GET /api/v1/log/proof` for consistency proofs.
//!
//! * [`LogTrust`]: the checkpoint verifiers built from a `trusted_root.json` (every `tlogs`
//!   entry, named after its `baseUrl` host, as `signet-verifier` does; an Ed25519 key also as
//!   a C2SP note key, the signature of a Rekor v2 log's checkpoints).
//! * [`LogClient`]: HTTP GETs with a timeout and a short retry on transport errors and 5xx;
//!   [`FetchError::is_unreachable`] tells "the log did not answer" from "the log answered
//!   something wrong".
//! * [`Edge`]: a tree of any size kept as only its right-edge partial tiles (at most 8), which
//!   is all `signet_proto::tiles::integrate` reads to append leaves; [`EdgeState`] is its JSON
//!   form in state files.
//! * [`BundleStream`]: entry bundles (optionally with their level-0 tiles) fetched in order
//!   with a bounded number of requests in flight, decoded and leaf-hashed off the caller's task.
//!
//! What this module does not do: decide what is an alert (the monitor and the audit do), parse
//! entry bodies, or verify witness cosignatures.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use signet_proto::checkpoint::{Checkpoint, CheckpointError, UnverifiedCheckpoint};
use signet_proto::keys::PublicKey;
use signet_proto::merkle::{
    consistency_proof_tiles, leaf_hash, prove_consistency, tree_root, Hash, HASH_SIZE,
};
use signet_proto::note::{Ed25519NoteVerifier, RekorNoteVerifier, Verifiers};
use signet_proto::tiles::{
    decode_entry_bundle, entry_bundle_path, integrate, right_edge_tiles, tile_width, Integration,
    MemTiles, TileId, TILE_WIDTH,
};
use signet_proto::trust::TrustedRoot;
use tokio::task::JoinHandle;

// ---------------------------------------------------------------------------------------------
// Trust
// ---------------------------------------------------------------------------------------------

/// Checkpoint verifiers for the transparency logs of a `trusted_root.json`.
#[derive(Debug)]
pub(crate) struct LogTrust {
    verifiers: Verifiers,
    /// `name` of each verifier, for messages.
    names: Vec<String>,
}

/// The host (and port) of a base URL: Rekor's checkpoint signer name.
fn url_host(base_url: &str) -> &str {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

impl LogTrust {
    /// Reads `trusted_root.json` and builds one Rekor-style note verifier per `tlogs` key
    /// (named after the host of its `baseUrl`).
    ///
    /// # Errors
    /// The file cannot be read or parsed, a key is not a usable SPKI, or there is no tlog.
    pub(crate) fn from_file(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let root = TrustedRoot::from_json(&bytes)
            .with_context(|| format!("parsing {}", path.display()))?;
        Self::from_root(&root, None).with_context(|| path.display().to_string())
    }

    /// The verifiers of the `tlogs` of `root` (only those whose `baseUrl` is `base_url`, when
    /// given), as [`LogTrust::from_file`] builds them.
    ///
    /// # Errors
    /// A key is not a usable SPKI, or there is no (matching) tlog.
    pub(crate) fn from_root(root: &TrustedRoot, base_url: Option<&str>) -> anyhow::Result<Self> {
        let mut verifiers = Verifiers::new();
        let mut names = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, log) in root.tlogs.iter().enumerate() {
            if base_url.is_some_and(|u| u != log.base_url) {
                continue;
            }
            let Some(raw) = &log.public_key.raw_bytes else {
                continue;
            };
            let key = PublicKey::from_spki_der(raw.as_slice())
                .with_context(|| format!("tlogs[{i}] ({}): public key", log.base_url))?;
            let host = url_host(&log.base_url);
            let v = RekorNoteVerifier::new(host, key.clone())
                .with_context(|| format!("tlogs[{i}] ({}): note verifier", log.base_url))?;
            if seen.insert((host.to_owned(), raw.as_slice().to_vec())) {
                // A Rekor v2 log (rekor-tiles, or Signet's `/rekor-v2`) signs its checkpoints
                // as a standard C2SP Ed25519 note under its host name: accept that line too.
                if key.ed25519_raw().is_some() {
                    let c2sp = Ed25519NoteVerifier::from_public_key(host, &key)
                        .with_context(|| format!("tlogs[{i}] ({}): note verifier", log.base_url))?;
                    verifiers.push(c2sp);
                }
                verifiers.push(v);
                names.push(host.to_owned());
            }
        }
        anyhow::ensure!(
            !verifiers.is_empty(),
            "no transparency log key (tlogs{}) to verify checkpoints with",
            base_url.map_or(String::new(), |u| format!(" with baseUrl {u}"))
        );
        Ok(Self { verifiers, names })
    }

    /// The signer names this trust accepts (for messages).
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// The trusted log keys (never counted as witnesses).
    pub(crate) fn log_keys(&self) -> Vec<&signet_proto::keys::PublicKey> {
        self.verifiers.iter().map(|v| v.public_key()).collect()
    }

    /// Parses a signed checkpoint note and verifies it: at least one trusted log key signed it
    /// and no trusted key's signature on it is bad.
    ///
    /// # Errors
    /// [`CheckpointError`] for a malformed note or checkpoint, or a missing or bad signature.
    pub(crate) fn verify(&self, note: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let signed = UnverifiedCheckpoint::parse(note)?.verify(&self.verifiers)?;
        Ok(signed.checkpoint().clone())
    }
}

/// Parses a checkpoint note that was verified before (for example one kept in a state file),
/// without checking signatures again.
///
/// # Errors
/// [`CheckpointError`] if it does not parse.
pub(crate) fn parse_verified(note: &str) -> Result<Checkpoint, CheckpointError> {
    Ok(UnverifiedCheckpoint::parse(note.as_bytes())?
        .checkpoint_unverified()
        .clone())
}

// ---------------------------------------------------------------------------------------------
// HTTP client
// ---------------------------------------------------------------------------------------------

/// A failed read from the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum FetchError {
    /// No HTTP answer (connection refused, timeout, reset).
    #[error("GET {url}: {}", crate::errors::chain_after(url, cause))]
    Transport {
        /// The URL.
        url: String,
        /// The client error (shown in the message, not a `source`: see [`crate::errors`]).
        cause: reqwest::Error,
    },
    /// An HTTP answer other than 200.
    #[error("GET {url}: HTTP {status}: {body}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the answer body.
        body: String,
    },
    /// A 200 answer whose body is not what was asked for.
    #[error("GET {url}: {reason}")]
    Malformed {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

impl FetchError {
    /// Whether the log did not answer (transport error or 5xx): worth retrying later, and
    /// counted as "unreachable" by the monitor. Other errors mean the log answered wrongly.
    pub(crate) fn is_unreachable(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Status { status, .. } => *status >= 500,
            Self::Malformed { .. } => false,
        }
    }

    fn malformed(url: &str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            url: url.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Reads a log over HTTP. Cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub(crate) struct LogClient {
    http: reqwest::Client,
    base: Arc<str>,
    retries: u32,
}

/// The Rekor v1 consistency proof answer (`hashes` in hex).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProofJson {
    #[serde(default)]
    hashes: Vec<String>,
}

impl LogClient {
    /// A client for the log at `base` (e.g. `http://127.0.0.1:3000`) with a per-request
    /// `timeout`, retrying transport errors and 5xx answers `retries` times.
    ///
    /// # Errors
    /// If the HTTP client cannot be built.
    pub(crate) fn new(base: &str, timeout: Duration, retries: u32) -> anyhow::Result<Self> {
        let http = signet_net::client_builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("signet/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            http,
            base: Arc::from(base.trim_end_matches('/')),
            retries,
        })
    }

    /// The log's base URL.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// `GET <base>/<path>`, the whole body.
    ///
    /// # Errors
    /// [`FetchError`]; transport errors and 5xx are retried first.
    pub(crate) async fn get(&self, path: &str) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        let mut attempt = 0u32;
        loop {
            let result = self.get_once(&url).await;
            match result {
                Err(e) if e.is_unreachable() && attempt < self.retries => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 << attempt.min(5))).await;
                }
                other => return other,
            }
        }
    }

    async fn get_once(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let transport = |cause| FetchError::Transport {
            url: url.to_owned(),
            cause,
        };
        let resp = self.http.get(url).send().await.map_err(transport)?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(transport)?;
        if status != reqwest::StatusCode::OK {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
                body: text,
            });
        }
        Ok(body.to_vec())
    }

    /// The log's current signed checkpoint note (`GET /checkpoint`).
    ///
    /// # Errors
    /// As [`LogClient::get`].
    pub(crate) async fn checkpoint(&self) -> Result<Vec<u8>, FetchError> {
        self.get("checkpoint").await
    }

    /// One hash tile, checked to be exactly `width * 32` bytes.
    ///
    /// # Errors
    /// As [`LogClient::get`]; [`FetchError::Malformed`] for a wrong length.
    pub(crate) async fn tile(&self, tile: TileId) -> Result<Vec<u8>, FetchError> {
        let path = tile.path();
        let data = self.get(&path).await?;
        if data.len() != tile.byte_len() {
            return Err(FetchError::malformed(
                &format!("{}/{path}", self.base),
                format!("{} bytes, expected {}", data.len(), tile.byte_len()),
            ));
        }
        Ok(data)
    }

    /// A consistency proof between tree sizes `first` and `last` (Rekor v1
    /// `GET /api/v1/log/proof?firstSize=&lastSize=`).
    ///
    /// # Errors
    /// As [`LogClient::get`]; [`FetchError::Malformed`] for JSON that does not parse or a hash
    /// that is not 32 bytes of hex.
    pub(crate) async fn consistency(&self, first: u64, last: u64) -> Result<Vec<Hash>, FetchError> {
        let path = format!("api/v1/log/proof?firstSize={first}&lastSize={last}");
        let body = self.get(&path).await?;
        let url = format!("{}/{path}", self.base);
        let proof: ProofJson = signet_proto::json::from_slice(&body)
            .map_err(|e| FetchError::malformed(&url, format!("proof JSON: {e}")))?;
        proof
            .hashes
            .iter()
            .map(|h| {
                hex::decode(h)
                    .ok()
                    .and_then(|b| Hash::try_from(b.as_slice()).ok())
                    .ok_or_else(|| FetchError::malformed(&url, format!("bad proof hash {h:?}")))
            })
            .collect()
    }
}

impl LogClient {
    /// The RFC 9162 consistency proof between tree sizes `first` (at least 1) and `last`,
    /// computed from the log's hash tiles at size `last` (C2SP tlog-tiles: the client computes
    /// proofs; a Rekor v2 log serves no proof API). A log that rewrote its tree serves tiles
    /// whose proof does not verify against the old root.
    ///
    /// # Errors
    /// As [`LogClient::tile`]; [`FetchError::Malformed`] for sizes out of order.
    pub(crate) async fn consistency_from_tiles(
        &self,
        first: u64,
        last: u64,
    ) -> Result<Vec<Hash>, FetchError> {
        let malformed = |e: String| FetchError::malformed(&self.base, e);
        let ids = consistency_proof_tiles(first, last).map_err(|e| malformed(e.to_string()))?;
        let mut handles = Vec::with_capacity(ids.len());
        for t in ids {
            let c = self.clone();
            handles.push((t, tokio::spawn(async move { c.tile(t).await })));
        }
        let mut tiles = MemTiles::new();
        for (t, h) in handles {
            let data = h
                .await
                .map_err(|e| malformed(format!("tile task failed: {e}")))??;
            tiles.insert(t, data);
        }
        prove_consistency(first, last, &tiles).map_err(|e| malformed(e.to_string()))
    }

    /// The `integratedTime` of entry `index` from the Rekor v1 API
    /// (`GET /api/v1/log/entries?logIndex=`), checked to be the entry whose `body` the tiles
    /// hold; `None` when the log serves no such API (a Rekor v2 log: 404 or 405).
    ///
    /// # Errors
    /// As [`LogClient::get`]; [`FetchError::Malformed`] for an answer that does not parse or
    /// holds another body.
    pub(crate) async fn integrated_time(
        &self,
        index: u64,
        body: &[u8],
    ) -> Result<Option<i64>, FetchError> {
        let path = format!("api/v1/log/entries?logIndex={index}");
        let url = format!("{}/{path}", self.base);
        let answer = match self.get(&path).await {
            Ok(a) => a,
            Err(FetchError::Status { status, .. }) if status == 404 || status == 405 => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        let value: serde_json::Value = signet_proto::json::from_slice(&answer)
            .map_err(|e| FetchError::malformed(&url, format!("entry JSON: {e}")))?;
        let entry = value
            .as_object()
            .and_then(|m| m.values().next())
            .ok_or_else(|| FetchError::malformed(&url, "no entry in the answer"))?;
        let served = entry
            .get("body")
            .and_then(serde_json::Value::as_str)
            .and_then(|b| B64.decode(b).ok());
        if served.as_deref() != Some(body) {
            return Err(FetchError::malformed(
                &url,
                "the entry's body is not the one in the log's entry bundle",
            ));
        }
        entry
            .get("integratedTime")
            .and_then(serde_json::Value::as_i64)
            .map(Some)
            .ok_or_else(|| FetchError::malformed(&url, "no integratedTime"))
    }
}

// ---------------------------------------------------------------------------------------------
// The right edge of a tree
// ---------------------------------------------------------------------------------------------

/// A tree of `size` leaves known by its right-edge partial tiles only: enough to compute its
/// root and to append leaves ([`integrate`] reads nothing else). At most 8 tiles of 8 KiB.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    size: u64,
    tiles: MemTiles,
}

/// Why a set of tiles is not the right edge of a tree.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum EdgeError {
    /// A tile of the right edge is missing or has the wrong length.
    #[error("right edge of size {size}: tile {tile} missing or of the wrong length")]
    Missing {
        /// Tree size.
        size: u64,
        /// The tile.
        tile: TileId,
    },
    /// Tile math failed (a malformed tile).
    #[error("tile math: {0}")]
    Merkle(String),
}

impl Edge {
    /// The empty tree.
    pub(crate) fn empty() -> Self {
        Self {
            size: 0,
            tiles: MemTiles::new(),
        }
    }

    /// A tree of `size` from its right-edge tiles (as [`right_edge_tiles`] lists them).
    ///
    /// # Errors
    /// [`EdgeError::Missing`] if a tile is missing or of the wrong length.
    pub(crate) fn from_tiles(
        size: u64,
        tiles: impl IntoIterator<Item = (TileId, Vec<u8>)>,
    ) -> Result<Self, EdgeError> {
        let mut store = MemTiles::new();
        for (t, d) in tiles {
            store.insert(t, d);
        }
        for t in right_edge_tiles(size) {
            if store.get(t.level, t.index).map(<[u8]>::len) != Some(t.byte_len()) {
                return Err(EdgeError::Missing { size, tile: t });
            }
        }
        Ok(Self { size, tiles: store })
    }

    /// Number of leaves.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 6962 root of the tree.
    ///
    /// # Errors
    /// [`EdgeError::Merkle`] if the tiles are malformed (not expected after construction).
    pub(crate) fn root(&self) -> Result<Hash, EdgeError> {
        tree_root(self.size, &self.tiles).map_err(|e| EdgeError::Merkle(e.to_string()))
    }

    /// The right-edge tiles with their contents, lowest level first.
    pub(crate) fn tiles(&self) -> Vec<(TileId, Vec<u8>)> {
        right_edge_tiles(self.size)
            .into_iter()
            .filter_map(|t| {
                self.tiles
                    .get(t.level, t.index)
                    .map(|d| (t, d[..t.byte_len().min(d.len())].to_vec()))
            })
            .collect()
    }

    /// Appends leaf hashes and returns the [`Integration`] (every tile that is new or grew, and
    /// the new root). The edge keeps only the new right-edge tiles.
    ///
    /// # Errors
    /// [`EdgeError::Merkle`] on a size overflow or malformed stored tiles.
    pub(crate) fn append(&mut self, leaves: &[Hash]) -> Result<Integration, EdgeError> {
        let integration = integrate(self.size, leaves, &self.tiles)
            .map_err(|e| EdgeError::Merkle(e.to_string()))?;
        let mut next = MemTiles::new();
        for t in right_edge_tiles(integration.size) {
            let new = integration
                .tiles
                .iter()
                .find(|(n, _)| n.level == t.level && n.index == t.index)
                .map(|(_, d)| d.as_slice());
            let data = new.or_else(|| self.tiles.get(t.level, t.index));
            match data {
                Some(d) if d.len() >= t.byte_len() => next.insert(t, d[..t.byte_len()].to_vec()),
                _ => {
                    return Err(EdgeError::Missing {
                        size: integration.size,
                        tile: t,
                    })
                }
            }
        }
        self.size = integration.size;
        self.tiles = next;
        Ok(integration)
    }

    /// The JSON form.
    pub(crate) fn to_state(&self) -> Result<EdgeState, EdgeError> {
        Ok(EdgeState {
            size: self.size,
            root: hex::encode(self.root()?),
            tiles: self
                .tiles()
                .into_iter()
                .map(|(t, d)| EdgeTile {
                    level: t.level,
                    index: t.index,
                    width: t.width,
                    hashes: B64.encode(d),
                })
                .collect(),
        })
    }
}

/// JSON form of an [`Edge`] in state files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EdgeState {
    /// Tree size.
    pub(crate) size: u64,
    /// Tree root, hex (checked against the tiles when loading).
    pub(crate) root: String,
    /// The right-edge partial tiles.
    pub(crate) tiles: Vec<EdgeTile>,
}

/// One tile of an [`EdgeState`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EdgeTile {
    /// Tile level.
    pub(crate) level: u8,
    /// Tile index.
    pub(crate) index: u64,
    /// Width (number of hashes).
    pub(crate) width: u16,
    /// The hashes, concatenated, base64.
    pub(crate) hashes: String,
}

impl EdgeState {
    /// Rebuilds the edge and checks the stored root.
    ///
    /// # Errors
    /// Bad base64, missing tiles, or a root that does not match the tiles.
    pub(crate) fn to_edge(&self) -> anyhow::Result<Edge> {
        let mut tiles = Vec::new();
        for t in &self.tiles {
            let data = B64
                .decode(&t.hashes)
                .with_context(|| format!("tile {}/{}: base64", t.level, t.index))?;
            tiles.push((
                TileId {
                    level: t.level,
                    index: t.index,
                    width: t.width,
                },
                data,
            ));
        }
        let edge = Edge::from_tiles(self.size, tiles)?;
        let root = hex::encode(edge.root()?);
        anyhow::ensure!(
            root == self.root,
            "the saved tiles hash to {root}, not to the saved root {}",
            self.root
        );
        Ok(edge)
    }
}

/// Fetches the right-edge tiles of the tree of `size` from the log (partial tiles at the
/// widths of that size, which the log serves even after it has grown).
///
/// # Errors
/// [`FetchError`] for a failed read; [`FetchError::Malformed`] if the tiles do not form an
/// edge.
pub(crate) async fn fetch_edge(client: &LogClient, size: u64) -> Result<Edge, FetchError> {
    let mut handles = Vec::new();
    for t in right_edge_tiles(size) {
        let c = client.clone();
        handles.push((t, tokio::spawn(async move { c.tile(t).await })));
    }
    let mut tiles = Vec::new();
    for (t, h) in handles {
        let data = h.await.map_err(|e| FetchError::Malformed {
            url: format!("{}/{}", client.base(), t.path()),
            reason: format!("task failed: {e}"),
        })??;
        tiles.push((t, data));
    }
    Edge::from_tiles(size, tiles).map_err(|e| FetchError::Malformed {
        url: client.base().to_owned(),
        reason: e.to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// Entry bundles in order
// ---------------------------------------------------------------------------------------------

/// One entry bundle as fetched, decoded, hashed and parsed.
#[derive(Debug)]
pub(crate) struct FetchedBundle<T> {
    /// Bundle index `N` (entries `N*256 ..`).
    pub(crate) index: u64,
    /// Width fetched (number of entries).
    pub(crate) width: u16,
    /// The path fetched (`tile/entries/...`).
    pub(crate) path: String,
    /// The decoded entries: `Ok` bodies, with their byte offset in the bundle, or the decode
    /// error of the whole bundle.
    pub(crate) entries: Result<Vec<(usize, Vec<u8>)>, String>,
    /// `leaf_hash(body)` of each entry (empty if the bundle did not decode).
    pub(crate) leaves: Vec<Hash>,
    /// The stream's parse function applied to each entry in the bundle at or after the
    /// stream's start (`(index, result)`; empty if the bundle did not decode).
    pub(crate) parsed: Vec<(u64, T)>,
    /// The level-0 tile at the same index and width, when asked for.
    pub(crate) tile: Option<Vec<u8>>,
}

impl<T> FetchedBundle<T> {
    /// Index of the first entry of the bundle.
    pub(crate) fn first_index(&self) -> u64 {
        self.index * u64::from(TILE_WIDTH)
    }
}

/// Decodes an entry bundle, keeping each entry's byte offset (of its length prefix).
fn decode_with_offsets(data: &[u8], width: u16) -> Result<Vec<(usize, Vec<u8>)>, String> {
    let entries = decode_entry_bundle(data).map_err(|e| e.to_string())?;
    if entries.len() != usize::from(width) {
        return Err(format!("{} entries, expected {width}", entries.len()));
    }
    let mut offset = 0usize;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let len = e.len();
        out.push((offset, e));
        offset += 2 + len;
    }
    Ok(out)
}

type BundleTask<T> = JoinHandle<Result<FetchedBundle<T>, FetchError>>;

/// Fetches the entry bundles covering leaves `[start, end)` of a tree of size `end`, in order,
/// with at most `concurrency` bundles in flight. Bundles are decoded, leaf-hashed and their
/// entries parsed (by the stream's `parse` function) on the runtime's worker threads.
pub(crate) struct BundleStream<T> {
    client: LogClient,
    start: u64,
    parse: fn(u64, &[u8]) -> T,
    next: u64,
    last: u64,
    size: u64,
    with_tiles: bool,
    concurrency: usize,
    inflight: VecDeque<BundleTask<T>>,
}

impl<T: Send + 'static> BundleStream<T> {
    /// A stream of the bundles holding leaves `[start, end)` (empty when `start >= end`), with
    /// their level-0 tiles if `with_tiles`; `parse(index, body)` runs on each entry from
    /// `start` on.
    pub(crate) fn new(
        client: LogClient,
        start: u64,
        end: u64,
        with_tiles: bool,
        concurrency: usize,
        parse: fn(u64, &[u8]) -> T,
    ) -> Self {
        let w = u64::from(TILE_WIDTH);
        let (next, last) = if start >= end {
            (1, 0)
        } else {
            (start / w, (end - 1) / w)
        };
        Self {
            client,
            start,
            parse,
            next,
            last,
            size: end,
            with_tiles,
            concurrency: concurrency.max(1),
            inflight: VecDeque::new(),
        }
    }

    fn spawn_one(&mut self) {
        let index = self.next;
        self.next += 1;
        let width = tile_width(0, index, self.size).unwrap_or(TILE_WIDTH);
        let client = self.client.clone();
        let with_tiles = self.with_tiles;
        let (start, parse) = (self.start, self.parse);
        self.inflight.push_back(tokio::spawn(async move {
            let path = entry_bundle_path(index, width);
            let tile_id = TileId {
                level: 0,
                index,
                width,
            };
            let (data, tile) = if with_tiles {
                let (d, t) = tokio::join!(client.get(&path), client.tile(tile_id));
                (d?, Some(t?))
            } else {
                (client.get(&path).await?, None)
            };
            let entries = decode_with_offsets(&data, width);
            let (leaves, parsed) = match &entries {
                Ok(es) => {
                    let first = index * u64::from(TILE_WIDTH);
                    let leaves = es.iter().map(|(_, b)| leaf_hash(b)).collect();
                    let parsed = (first..)
                        .zip(es)
                        .filter(|(i, _)| *i >= start)
                        .map(|(i, (_, b))| (i, parse(i, b)))
                        .collect();
                    (leaves, parsed)
                }
                Err(_) => (Vec::new(), Vec::new()),
            };
            Ok(FetchedBundle {
                index,
                width,
                path,
                entries,
                leaves,
                parsed,
                tile,
            })
        }));
    }

    /// The next bundle, or `None` at the end.
    ///
    /// # Errors
    /// The bundle's [`FetchError`].
    pub(crate) async fn next(&mut self) -> Option<Result<FetchedBundle<T>, FetchError>> {
        while self.inflight.len() < self.concurrency && self.next <= self.last {
            self.spawn_one();
        }
        let handle = self.inflight.pop_front()?;
        let result = match handle.await {
            Ok(r) => r,
            Err(e) => Err(FetchError::Malformed {
                url: self.client.base().to_owned(),
                reason: format!("fetch task failed: {e}"),
            }),
        };
        if self.next <= self.last {
            self.spawn_one();
        }
        Some(result)
    }
}

impl<T> Drop for BundleStream<T> {
    fn drop(&mut self) {
        for h in &self.inflight {
            h.abort();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Files and small helpers
// ---------------------------------------------------------------------------------------------

/// Parses a duration such as `500ms`, `10s`, `5m`, `1h` or a plain number of seconds.
///
/// # Errors
/// A message for clap.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 500ms, 10s, 5m or 1h"))?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        other => {
            return Err(format!(
                "unknown duration unit {other:?} (use ms, s, m or h)"
            ))
        }
    };
    Ok(d)
}

/// The index of the first byte where `a` and `b` differ (or the shorter length).
pub(crate) fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

/// The hash at position `i` of a tile's bytes.
pub(crate) fn tile_hash(tile: &[u8], i: usize) -> Option<&[u8]> {
    tile.get(i * HASH_SIZE..(i + 1) * HASH_SIZE)
}

/// Unix seconds as RFC 3339 (UTC), or the number when out of range.
pub(crate) fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
// Tests and test fixtures unwrap: a panic with its location is the failure report
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use signet_proto::merkle::root_from_leaves;

    fn leaves(from: u64, n: u64) -> Vec<Hash> {
        (from..from + n)
            .map(|i| leaf_hash(&i.to_be_bytes()))
            .collect()
    }

    #[test]
    fn edge_append_matches_full_recomputation_and_round_trips() {
        let all = leaves(0, 70_000);
        let mut edge = Edge::empty();
        let mut done = 0usize;
        for step in [1usize, 255, 1, 256, 4_000, 3, 65_000, 484] {
            edge.append(&all[done..done + step]).unwrap();
            done += step;
            assert_eq!(edge.size(), done as u64);
            assert_eq!(
                edge.root().unwrap(),
                root_from_leaves(&all[..done]),
                "at {done}"
            );
            assert!(edge.tiles().len() <= 8);
            let state = edge.to_state().unwrap();
            let back = state.to_edge().unwrap();
            assert_eq!(back.root().unwrap(), edge.root().unwrap());
        }
        assert_eq!(done, 70_000);
    }

    #[test]
    fn edge_state_with_a_wrong_root_is_rejected() {
        let mut edge = Edge::empty();
        edge.append(&leaves(0, 300)).unwrap();
        let mut state = edge.to_state().unwrap();
        state.root = hex::encode([7u8; 32]);
        assert!(state.to_edge().is_err());
        let mut state = edge.to_state().unwrap();
        state.tiles.pop();
        assert!(state.to_edge().is_err());
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3d").is_err());
    }

    #[test]
    fn bundles_decode_with_offsets() {
        let b = signet_proto::tiles::encode_entry_bundle(&[b"ab".as_slice(), b"cde"]).unwrap();
        let d = decode_with_offsets(&b, 2).unwrap();
        assert_eq!(d, vec![(0, b"ab".to_vec()), (4, b"cde".to_vec())]);
        assert!(decode_with_offsets(&b, 3).is_err());
    }
}
