//! The log explorer: a page for people (search, entries, proofs checked in the browser,
//! checkpoints, activity) and the JSON it reads.
//!
//! The page's assets (`log/explorer/`) are compiled into the binary, so it works offline and
//! air-gapped: no external fonts, scripts or CDNs. The page reads three kinds of data:
//! * the standard APIs, unchanged: `GET /api/v1/log/entries?logIndex=N` (the body and the
//!   inclusion proof with its signed checkpoint, which the page verifies itself with Web
//!   Crypto), `GET /checkpoint`, `GET /signet/v1/trusted_root.json`;
//! * [`search`]: entries by artifact digest, signer identity, key fingerprint, log index or
//!   UUID, newest first, paged;
//! * [`describe`] and [`Activity::window`]: what a body says, decoded (signers, claims,
//!   validity), and counts over time, by identity and by issuer.
//!
//! Nothing here is trusted by the page for the proof: the decoded fields are a reading aid,
//! the proof and the checkpoint signature are checked client-side against the trust root.
//!
//! What this module does not do: HTTP (see [`crate::http`]), write anything.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
// Monotonic, for the catch-up time budget only.
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Serialize;
use signet_proto::cert;
use signet_proto::merkle::leaf_hash;
use signet_proto::observe::{observe, ObservedSigner};

use crate::error::{LogError, QueryError};
use crate::service::Log;
use crate::storage::{IndexKind, StoredEntry};

/// The page (`GET /`).
pub const INDEX_HTML: &str = include_str!("../explorer/index.html");
/// The page's script (`GET /explorer/app.js`).
pub const APP_JS: &str = include_str!("../explorer/app.js");
/// The page's style sheet (`GET /explorer/app.css`).
pub const APP_CSS: &str = include_str!("../explorer/app.css");

/// Results per search page.
pub const PAGE_SIZE: usize = 20;
/// The longest search text accepted (an 80-hex entry ID or a long URI fits).
pub const MAX_QUERY_BYTES: usize = 2048;
/// The longest activity window, in hours (about two years).
pub const MAX_WINDOW_HOURS: u64 = 24 * 800;
/// How many identities and issuers an activity answer ranks.
pub const TOP: usize = 10;

/// What a search text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchKind {
    /// Guess from the text: digits are an index, `sha256:`/64 hex a digest, key fingerprint
    /// or UUID (all three are tried), 80 hex an entry ID, `@` an email, `://` a URI.
    Auto,
    /// Artifact SHA-256 (`sha256:<hex>` or `<hex>`).
    Digest,
    /// Signer identity: an email (case-insensitive) or URI SAN.
    Identity,
    /// SHA-256 of the signer's SubjectPublicKeyInfo DER, hex.
    Key,
    /// A log index.
    Index,
    /// An entry UUID (64 hex) or entry ID (80 hex).
    Uuid,
}

impl SearchKind {
    /// Parses the `kind` query parameter.
    ///
    /// # Errors
    /// [`QueryError::Explorer`] naming the accepted values.
    pub fn parse(s: &str) -> Result<Self, QueryError> {
        Ok(match s {
            "" | "auto" => Self::Auto,
            "digest" => Self::Digest,
            "identity" => Self::Identity,
            "key" => Self::Key,
            "index" => Self::Index,
            "uuid" => Self::Uuid,
            other => {
                return Err(QueryError::Explorer {
                    reason: format!(
                    "unknown search kind {other:?}: use auto, digest, identity, key, index or uuid"
                ),
                })
            }
        })
    }
}

/// One signer of an entry, decoded for reading.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignerView {
    /// The certificate's SAN (email or URI), if a certificate.
    pub identity: Option<String>,
    /// The OIDC issuer from the certificate.
    pub issuer: Option<String>,
    /// Hex SHA-256 of the public key's SPKI DER, for a key signer.
    pub key_fingerprint: Option<String>,
    /// Certificate notBefore, Unix seconds.
    pub not_before: Option<i64>,
    /// Certificate notAfter, Unix seconds.
    pub not_after: Option<i64>,
    /// Fulcio extensions by name (`sourceRepositoryURI`, `buildConfigURI`, ...), in OID order.
    pub claims: Vec<Claim>,
    /// The certificate in PEM, for download.
    pub certificate_pem: Option<String>,
}

/// One Fulcio certificate extension.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// The dotted OID.
    pub oid: String,
    /// Its name in Fulcio's `oid-info.md`, or the OID.
    pub name: String,
    /// The decoded value.
    pub value: String,
}

/// One entry, decoded for reading.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
    /// Log index.
    pub log_index: u64,
    /// Entry UUID (hex leaf hash).
    pub uuid: String,
    /// Integration time, Unix seconds.
    pub integrated_time: u64,
    /// `kind` of the body (`hashedrekord`, `dsse`, `intoto`, `rekord`, ...).
    pub kind: String,
    /// `apiVersion` of the body.
    pub api_version: String,
    /// The artifact (or DSSE payload) digest, `<algorithm>:<hex>` (`sha256`, or a hashedrekord's
    /// `sha384`/`sha512`).
    pub digest: Option<String>,
    /// For an in-toto attestation logged by Signet, its `predicateType` (only in
    /// [`describe`]'s answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// Every signer, in body order.
    pub signers: Vec<SignerView>,
    /// Why the body could not be decoded, when it could not (the entry is still shown).
    pub problem: Option<String>,
    /// The canonical body, base64 (only in [`describe`]'s answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// One page of search results.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    /// The text searched, trimmed.
    pub query: String,
    /// What it was searched as (after [`SearchKind::Auto`] guessed).
    pub searched_as: Vec<SearchKind>,
    /// Matching entries in the tree.
    pub total: usize,
    /// This page, from 0.
    pub page: usize,
    /// Results per page.
    pub page_size: usize,
    /// The entries of this page, newest (highest index) first.
    pub entries: Vec<EntryView>,
}

fn view_signer(s: ObservedSigner) -> SignerView {
    let claims = s
        .extensions
        .iter()
        .map(|(oid, value)| Claim {
            oid: oid.clone(),
            name: cert::fulcio_oid(oid).map_or_else(|| oid.clone(), |o| o.name.to_owned()),
            value: value.clone(),
        })
        .collect();
    SignerView {
        identity: s.san,
        issuer: s.issuer,
        key_fingerprint: s.key_id,
        not_before: if s.certificate.is_some() {
            s.time
        } else {
            None
        },
        not_after: s.not_after,
        claims,
        certificate_pem: s
            .certificate
            .map(|der| pem::encode(&pem::Pem::new("CERTIFICATE", der))),
    }
}

/// `kind` and `apiVersion` of a body, for entries [`observe`] does not read.
fn kind_and_version(body: &[u8]) -> (String, String) {
    let v: serde_json::Value = signet_proto::json::from_slice(body).unwrap_or_default();
    let field = |name: &str| {
        v.get(name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    (field("kind"), field("apiVersion"))
}

fn view(e: &StoredEntry, with_body: bool) -> EntryView {
    let (kind, api_version) = kind_and_version(&e.body);
    let mut out = EntryView {
        log_index: e.index,
        uuid: hex::encode(leaf_hash(&e.body)),
        integrated_time: e.integrated_time,
        kind,
        api_version,
        digest: None,
        predicate_type: None,
        signers: Vec::new(),
        problem: None,
        body: with_body.then(|| base64::engine::general_purpose::STANDARD.encode(&e.body)),
    };
    match observe(e.index, &e.body) {
        Ok(o) => {
            out.digest = o.digest;
            out.signers = o.signers.into_iter().map(view_signer).collect();
        }
        Err(err) => out.problem = Some(err.to_string()),
    }
    out
}

fn stored(log: &Log, index: u64) -> Result<StoredEntry, LogError> {
    let size = log.head()?.size;
    if index >= size {
        return Err(LogError::IndexNotInTree { index, size });
    }
    log.db()
        .entry(index)?
        .ok_or_else(|| LogError::Inconsistent {
            what: format!("entry {index} missing below tree size {size}"),
        })
}

/// The entry at `index`, decoded, with its body.
///
/// # Errors
/// [`LogError::IndexNotInTree`] beyond the published tree; storage errors.
pub fn describe(log: &Log, index: u64) -> Result<EntryView, LogError> {
    let mut v = view(&stored(log, index)?, true);
    v.predicate_type = log.db().predicate_type(index)?;
    Ok(v)
}

fn hex64(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok().map(|()| out)
}

/// Entries matching `text` read as `kind`, newest first, page `page` of [`PAGE_SIZE`].
///
/// # Errors
/// [`QueryError::Explorer`] for an empty or overlong text, or one that cannot be read as the
/// kind asked; storage errors.
pub fn search(
    log: &Log,
    text: &str,
    kind: SearchKind,
    page: usize,
) -> Result<SearchPage, LogError> {
    let q = text.trim();
    let bad = |reason: String| LogError::from(QueryError::Explorer { reason });
    if q.is_empty() {
        return Err(bad(
            "empty search: give a digest, identity, key fingerprint, log index or UUID".into(),
        ));
    }
    if q.len() > MAX_QUERY_BYTES {
        return Err(bad(format!(
            "search text longer than {MAX_QUERY_BYTES} bytes"
        )));
    }
    let lower = q.to_ascii_lowercase();
    // An artifact digest names its algorithm (`sha256:`, `sha384:`, `sha512:`) or is told by
    // its length (hashedrekord entries may carry SHA-384 and SHA-512 digests).
    let (prefixed, bare) = match lower.split_once(':') {
        Some((p @ ("sha256" | "sha384" | "sha512"), rest)) => (Some(p), rest),
        _ => (None, lower.as_str()),
    };
    let digest_kind = match (prefixed, bare.len()) {
        (Some("sha256") | None, 64) => Some(IndexKind::ArtifactSha256),
        (Some("sha384") | None, 96) => Some(IndexKind::ArtifactSha384),
        (Some("sha512") | None, 128) => Some(IndexKind::ArtifactSha512),
        _ => None,
    };
    let is_hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let kinds: Vec<SearchKind> = match kind {
        SearchKind::Auto if q.bytes().all(|b| b.is_ascii_digit()) && q.len() <= 19 => {
            vec![SearchKind::Index]
        }
        SearchKind::Auto if prefixed.is_some() => vec![SearchKind::Digest],
        SearchKind::Auto if bare.len() == 64 && is_hex(bare) => {
            vec![SearchKind::Digest, SearchKind::Key, SearchKind::Uuid]
        }
        SearchKind::Auto if matches!(bare.len(), 96 | 128) && is_hex(bare) => {
            vec![SearchKind::Digest]
        }
        SearchKind::Auto if bare.len() == 80 && is_hex(bare) => vec![SearchKind::Uuid],
        SearchKind::Auto if q.contains("://") || q.contains('@') => vec![SearchKind::Identity],
        SearchKind::Auto => {
            return Err(bad(format!(
                "cannot tell what {q:?} is: give an artifact digest (sha256, sha384 or sha512), an email or URI identity, a key fingerprint (64 hex), a log index or an entry UUID"
            )))
        }
        k => vec![k],
    };
    let mut found = Vec::new();
    for k in &kinds {
        match k {
            SearchKind::Index => {
                let i: u64 = q
                    .parse()
                    .map_err(|_| bad(format!("{q:?} is not a log index")))?;
                if i < log.head()?.size {
                    found.push(i);
                }
            }
            SearchKind::Digest => {
                let index = digest_kind.filter(|_| is_hex(bare)).ok_or_else(|| {
                    bad(format!(
                        "{q:?} is not an artifact digest ([sha256:]<64 hex>, [sha384:]<96 hex> or [sha512:]<128 hex>)"
                    ))
                })?;
                found.extend(log.search(index, bare.as_bytes())?);
            }
            SearchKind::Key => {
                let h = hex64(bare).ok_or_else(|| {
                    bad(format!(
                        "{q:?} is not a key fingerprint (SHA-256 of the SPKI, 64 hex)"
                    ))
                })?;
                found.extend(log.search(IndexKind::PublicKey, &h)?);
            }
            SearchKind::Identity => {
                found.extend(log.search(IndexKind::Identity, q.as_bytes())?);
                if q.contains('@') && !q.contains("://") {
                    found.extend(log.search(IndexKind::EmailLower, lower.as_bytes())?);
                }
            }
            SearchKind::Uuid => match log.index_of_uuid(bare) {
                Ok(i) => found.push(i),
                Err(LogError::NoSuchEntry { .. } | LogError::OtherTree { .. }) => {}
                Err(LogError::Query(e)) if kind == SearchKind::Auto => {
                    tracing::debug!(error = %e, "not a uuid");
                }
                Err(e) => return Err(e),
            },
            SearchKind::Auto => {}
        }
    }
    found.sort_unstable_by(|a, b| b.cmp(a));
    found.dedup();
    let entries = found
        .iter()
        .skip(page.saturating_mul(PAGE_SIZE))
        .take(PAGE_SIZE)
        .map(|&i| stored(log, i).map(|e| view(&e, false)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SearchPage {
        query: q.to_owned(),
        searched_as: kinds,
        total: found.len(),
        page,
        page_size: PAGE_SIZE,
        entries,
    })
}

/// The newest entries of the published tree, page `page` of [`PAGE_SIZE`].
///
/// # Errors
/// Storage errors.
pub fn latest(log: &Log, page: usize) -> Result<SearchPage, LogError> {
    let size = log.head()?.size;
    let skip = u64::try_from(page.saturating_mul(PAGE_SIZE)).unwrap_or(u64::MAX);
    let top = size.saturating_sub(skip);
    let bottom = top.saturating_sub(PAGE_SIZE as u64);
    let entries = (bottom..top)
        .rev()
        .map(|i| stored(log, i).map(|e| view(&e, false)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SearchPage {
        query: String::new(),
        searched_as: Vec::new(),
        total: usize::try_from(size).unwrap_or(usize::MAX),
        page,
        page_size: PAGE_SIZE,
        entries,
    })
}

/// One bucket of [`ActivityView::buckets`].
#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    /// Start, Unix seconds.
    pub start: u64,
    /// Entries integrated in `[start, start + bucketSeconds)`.
    pub count: u64,
}

/// A name and how many entries it signed.
#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    /// Identity or issuer (`key <fingerprint prefix>` for key signers).
    pub name: String,
    /// Entries in the window.
    pub count: u64,
}

/// The log's activity over a window.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityView {
    /// Window start, Unix seconds.
    pub from: u64,
    /// Window end (now), Unix seconds.
    pub to: u64,
    /// Bucket width in seconds.
    pub bucket_seconds: u64,
    /// Every bucket of the window, oldest first, empty ones included.
    pub buckets: Vec<Bucket>,
    /// Entries in the window.
    pub total: u64,
    /// The most active signer identities, most first.
    pub identities: Vec<Ranked>,
    /// The most active OIDC issuers, most first.
    pub issuers: Vec<Ranked>,
    /// Entries counted so far (the counts cover indexes below this).
    pub counted: u64,
    /// The published tree size; `counted < treeSize` means counting is still catching up and
    /// the page asks again.
    pub tree_size: u64,
}

#[derive(Default)]
struct Hour {
    count: u64,
    identities: HashMap<String, u64>,
    issuers: HashMap<String, u64>,
}

#[derive(Default)]
struct Counts {
    next: u64,
    hours: BTreeMap<u64, Hour>,
}

/// Counts of entries by hour, identity and issuer, built from the log incrementally: each
/// request first counts the entries published since the last one, within a time budget.
#[derive(Default)]
pub struct Activity {
    counts: Mutex<Counts>,
}

/// How long one request may spend counting new entries before it answers with what it has.
const CATCH_UP_BUDGET: Duration = Duration::from_millis(1500);
const CATCH_UP_CHUNK: usize = 1024;

impl Activity {
    /// An empty counter.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn catch_up(counts: &mut Counts, log: &Log, size: u64) -> Result<(), LogError> {
        let started = Instant::now();
        while counts.next < size && started.elapsed() < CATCH_UP_BUDGET {
            let want = usize::try_from(size - counts.next)
                .unwrap_or(usize::MAX)
                .min(CATCH_UP_CHUNK);
            let chunk = log.db().entries(counts.next, want)?;
            if chunk.is_empty() {
                return Err(LogError::Inconsistent {
                    what: format!("entry {} missing below tree size {size}", counts.next),
                });
            }
            for e in &chunk {
                let hour = counts.hours.entry(e.integrated_time / 3600).or_default();
                hour.count += 1;
                if let Ok(o) = observe(e.index, &e.body) {
                    // Each signer counts once per entry.
                    let mut ids: Vec<String> = o
                        .signers
                        .iter()
                        .map(|s| match (&s.san, &s.key_id) {
                            (Some(san), _) => san.clone(),
                            (None, Some(k)) => format!("key {}", &k[..k.len().min(16)]),
                            (None, None) => "(certificate without identity)".to_owned(),
                        })
                        .collect();
                    ids.sort();
                    ids.dedup();
                    for id in ids {
                        *hour.identities.entry(id).or_default() += 1;
                    }
                    let mut issuers: Vec<String> =
                        o.signers.iter().filter_map(|s| s.issuer.clone()).collect();
                    issuers.sort();
                    issuers.dedup();
                    for i in issuers {
                        *hour.issuers.entry(i).or_default() += 1;
                    }
                }
                counts.next = e.index + 1;
            }
        }
        Ok(())
    }

    /// The activity of the last `hours` hours up to `now` (Unix seconds): buckets of an hour
    /// (windows up to two days), a day (up to 62 days) or a week.
    ///
    /// # Errors
    /// [`QueryError::Explorer`] for a window of 0 or beyond [`MAX_WINDOW_HOURS`]; storage
    /// errors.
    pub fn window(&self, log: &Log, hours: u64, now: u64) -> Result<ActivityView, LogError> {
        if hours == 0 || hours > MAX_WINDOW_HOURS {
            return Err(QueryError::Explorer {
                reason: format!("window must be 1 to {MAX_WINDOW_HOURS} hours, got {hours}"),
            }
            .into());
        }
        let size = log.head()?.size;
        let mut counts = self.counts.lock().map_err(|_| LogError::Inconsistent {
            what: "activity counter poisoned".into(),
        })?;
        Self::catch_up(&mut counts, log, size)?;
        let bucket_hours = if hours <= 48 {
            1
        } else if hours <= 24 * 62 {
            24
        } else {
            24 * 7
        };
        let bucket_seconds = bucket_hours * 3600;
        let end_hour = now / 3600;
        let first_hour = (end_hour + 1).saturating_sub(hours);
        let first_bucket = first_hour / bucket_hours * bucket_hours;
        let mut buckets: Vec<Bucket> = (first_bucket..=end_hour)
            .step_by(usize::try_from(bucket_hours).unwrap_or(1))
            .map(|h| Bucket {
                start: h * 3600,
                count: 0,
            })
            .collect();
        let mut identities: HashMap<&str, u64> = HashMap::new();
        let mut issuers: HashMap<&str, u64> = HashMap::new();
        let mut total = 0;
        for (h, hour) in counts.hours.range(first_hour..=end_hour) {
            let slot = usize::try_from((h - first_bucket) / bucket_hours).unwrap_or(usize::MAX);
            if let Some(b) = buckets.get_mut(slot) {
                b.count += hour.count;
            }
            total += hour.count;
            for (k, v) in &hour.identities {
                *identities.entry(k).or_default() += v;
            }
            for (k, v) in &hour.issuers {
                *issuers.entry(k).or_default() += v;
            }
        }
        let rank = |m: HashMap<&str, u64>| {
            let mut v: Vec<Ranked> = m
                .into_iter()
                .map(|(name, count)| Ranked {
                    name: name.to_owned(),
                    count,
                })
                .collect();
            v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
            v.truncate(TOP);
            v
        };
        Ok(ActivityView {
            from: first_hour * 3600,
            to: now,
            bucket_seconds,
            buckets,
            total,
            identities: rank(identities),
            issuers: rank(issuers),
            counted: counts.next,
            tree_size: size,
        })
    }
}
