//! Prometheus metrics (text exposition format 0.0.4), kept per log instance.
//!
//! Exposed series: `signet_log_http_requests_total{route,status}`,
//! `signet_log_http_request_duration_seconds{route}` (histogram),
//! `signet_log_queue_depth`, `signet_log_batch_size` (histogram),
//! `signet_log_batch_commit_seconds` (histogram), `signet_log_tree_size`,
//! `signet_log_entries_total{result}`.
//!
//! A small hand-rolled registry rather than the global `metrics` recorder, so that several
//! logs in one process (tests) keep separate figures. What this module does not do: push
//! metrics anywhere, or label by client.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A cumulative histogram with fixed bucket bounds.
#[derive(Debug, Clone)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

/// Latency buckets in seconds.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Batch size buckets.
pub const BATCH_BUCKETS: &[f64] = &[1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0];

impl Histogram {
    /// An empty histogram.
    #[must_use]
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }
    /// Records one observation.
    pub fn observe(&mut self, v: f64) {
        for (i, b) in self.bounds.iter().enumerate() {
            if v <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {c}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let l = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{l} {}", self.sum);
        let _ = writeln!(out, "{name}_count{l} {}", self.count);
    }
}

/// Counts and latencies of one route.
#[derive(Debug, Clone)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    latency: Histogram,
}

/// The log's metrics.
#[derive(Debug)]
pub struct Metrics {
    /// Per route: request counts by status, and the latency histogram (one lock, and no
    /// allocation once a route has been seen).
    routes: Mutex<BTreeMap<String, RouteStats>>,
    batch_size: Mutex<Histogram>,
    commit_seconds: Mutex<Histogram>,
    tree_size: AtomicU64,
    added: AtomicU64,
    duplicate: AtomicU64,
    rejected: AtomicU64,
    pushback: AtomicU64,
    witness_failures: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            routes: Mutex::new(BTreeMap::new()),
            batch_size: Mutex::new(Histogram::new(BATCH_BUCKETS)),
            commit_seconds: Mutex::new(Histogram::new(LATENCY_BUCKETS)),
            tree_size: AtomicU64::new(0),
            added: AtomicU64::new(0),
            duplicate: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            pushback: AtomicU64::new(0),
            witness_failures: AtomicU64::new(0),
        }
    }
}

/// Outcome labels of `signet_log_entries_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryResult {
    /// Appended.
    Added,
    /// Already present.
    Duplicate,
    /// Failed validation.
    Rejected,
    /// Queue full.
    Pushback,
}

impl Metrics {
    /// Records one HTTP request.
    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        let Ok(mut m) = self.routes.lock() else {
            return;
        };
        if !m.contains_key(route) {
            m.insert(
                route.to_string(),
                RouteStats {
                    by_status: BTreeMap::new(),
                    latency: Histogram::new(LATENCY_BUCKETS),
                },
            );
        }
        if let Some(r) = m.get_mut(route) {
            *r.by_status.entry(status).or_insert(0) += 1;
            r.latency.observe(seconds);
        }
    }
    /// Records one committed batch.
    pub fn batch(&self, size: usize, seconds: f64, tree_size: u64) {
        if let Ok(mut h) = self.batch_size.lock() {
            #[allow(clippy::cast_precision_loss)]
            h.observe(size as f64);
        }
        if let Ok(mut h) = self.commit_seconds.lock() {
            h.observe(seconds);
        }
        self.tree_size.store(tree_size, Ordering::Relaxed);
    }
    /// Sets the tree size gauge.
    pub fn set_tree_size(&self, size: u64) {
        self.tree_size.store(size, Ordering::Relaxed);
    }
    /// Counts a checkpoint the witness quorum did not cosign.
    pub fn witness_failure(&self) {
        self.witness_failures.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts an entry outcome.
    pub fn entry(&self, r: EntryResult) {
        let c = match r {
            EntryResult::Added => &self.added,
            EntryResult::Duplicate => &self.duplicate,
            EntryResult::Rejected => &self.rejected,
            EntryResult::Pushback => &self.pushback,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Renders everything in the Prometheus text format.
    #[must_use]
    pub fn render(&self, queue_depth: usize) -> String {
        let mut out = String::new();
        out.push_str("# HELP signet_log_http_requests_total HTTP requests by route and status.\n# TYPE signet_log_http_requests_total counter\n");
        let routes = self.routes.lock().map(|m| m.clone()).unwrap_or_default();
        for (route, r) in &routes {
            for (status, n) in &r.by_status {
                let _ = writeln!(
                    out,
                    "signet_log_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP signet_log_http_request_duration_seconds HTTP request latency.\n# TYPE signet_log_http_request_duration_seconds histogram\n");
        for (route, r) in &routes {
            r.latency.render(
                &mut out,
                "signet_log_http_request_duration_seconds",
                &format!("route=\"{route}\""),
            );
        }
        let _ = writeln!(out, "# HELP signet_log_queue_depth Entries waiting for the sequencer.\n# TYPE signet_log_queue_depth gauge\nsignet_log_queue_depth {queue_depth}");
        out.push_str("# HELP signet_log_batch_size Entries per sequencer batch.\n# TYPE signet_log_batch_size histogram\n");
        if let Ok(h) = self.batch_size.lock() {
            h.render(&mut out, "signet_log_batch_size", "");
        }
        out.push_str("# HELP signet_log_batch_commit_seconds Time to integrate, sign and sync one batch.\n# TYPE signet_log_batch_commit_seconds histogram\n");
        if let Ok(h) = self.commit_seconds.lock() {
            h.render(&mut out, "signet_log_batch_commit_seconds", "");
        }
        let _ = writeln!(
            out,
            "# HELP signet_log_tree_size Leaves in the newest signed checkpoint.\n# TYPE signet_log_tree_size gauge\nsignet_log_tree_size {}",
            self.tree_size.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP signet_log_witness_failures_total Checkpoints the witness quorum did not cosign in time.\n# TYPE signet_log_witness_failures_total counter\nsignet_log_witness_failures_total {}",
            self.witness_failures.load(Ordering::Relaxed)
        );
        out.push_str("# HELP signet_log_entries_total Submitted entries by outcome.\n# TYPE signet_log_entries_total counter\n");
        for (name, c) in [
            ("added", &self.added),
            ("duplicate", &self.duplicate),
            ("rejected", &self.rejected),
            ("pushback", &self.pushback),
        ] {
            let _ = writeln!(
                out,
                "signet_log_entries_total{{result=\"{name}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        out
    }
}
