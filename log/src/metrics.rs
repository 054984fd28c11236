//! Prometheus metrics of one log, on the `prometheus` crate (text exposition format 0.0.4).
//!
//! Exposed series: `signet_log_http_requests_total{route,status}`,
//! `signet_log_http_request_duration_seconds{route}` (histogram),
//! `signet_log_queue_depth`, `signet_log_batch_size` (histogram),
//! `signet_log_batch_commit_seconds` (histogram), `signet_log_tree_size`,
//! `signet_log_witness_failures_total`, `signet_log_entries_total{result}`; and, process-wide,
//! `signet_build_info{version,commit}` and the `process_*` series (CPU, memory, file
//! descriptors, start time, threads; Linux only).
//!
//! A Rekor v2 log ([`Metrics::rekor_v2`]) has the same series, each labelled `api="v2"`; a
//! v1 log linked to it ([`Metrics::link`]) answers both in one scrape, the v1 series
//! unlabelled as before.
//!
//! Each log has its own [`Registry`] (not the crate's global one), so several logs in one
//! process (tests) keep separate figures; `signet serve` registers the CA's series into the
//! log's registry so that one scrape answers both. Route labels are the router's matched
//! paths (`unmatched` otherwise), never raw request paths. What this module does not do: push
//! metrics anywhere, or label by client.

use std::sync::{Arc, Mutex};

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Latency buckets in seconds.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Batch size buckets.
pub const BATCH_BUCKETS: &[f64] = &[1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0];

/// The label that tells a Rekor v2 log's series (`api="v2"`) from the v1 log's (unlabelled)
/// in one scrape.
pub const API_LABEL: &str = "api";

/// The version and commit this binary was built from (`signet_build_info`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit of the build (`git rev-parse HEAD` at build time; `unknown` outside a
/// checkout), recorded by `build.rs`.
pub const COMMIT: &str = env!("SIGNET_GIT_COMMIT");

/// Registers the process-wide series into `registry`: `signet_build_info{version,commit}` = 1
/// and, on Linux, the `process_*` collector. Registering them a second time into the same
/// registry (the CA and the log sharing one) is a no-op.
///
/// # Errors
/// A registration error other than "already registered".
pub fn register_process_metrics(registry: &Registry) -> prometheus::Result<()> {
    let info = IntGaugeVec::new(
        Opts::new(
            "signet_build_info",
            "The version and git commit Signet was built from (always 1).",
        ),
        &["version", "commit"],
    )?;
    info.with_label_values(&[VERSION, COMMIT]).set(1);
    ignore_already_registered(registry.register(Box::new(info)))?;
    #[cfg(target_os = "linux")]
    ignore_already_registered(registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    )))?;
    Ok(())
}

fn ignore_already_registered(r: prometheus::Result<()>) -> prometheus::Result<()> {
    match r {
        Err(prometheus::Error::AlreadyReg) => Ok(()),
        other => other,
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

impl EntryResult {
    /// Every outcome (each series exists from the start, at 0).
    pub const ALL: [Self; 4] = [Self::Added, Self::Duplicate, Self::Rejected, Self::Pushback];

    /// The `result` label value.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Duplicate => "duplicate",
            Self::Rejected => "rejected",
            Self::Pushback => "pushback",
        }
    }
}

/// Another log's metrics rendered with this one's, and how to read its queue depth.
type Linked = (Metrics, Arc<dyn Fn() -> usize + Send + Sync>);

/// The log's metrics, registered in one [`Registry`].
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Logs whose series one scrape of this log also answers (see [`Metrics::link`]).
    linked: Arc<Mutex<Vec<Linked>>>,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    queue_depth: IntGauge,
    batch_size: Histogram,
    commit_seconds: Histogram,
    tree_size: IntGauge,
    witness_failures: IntCounter,
    entries: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The log's series in a registry of their own, with the process-wide series
    /// ([`register_process_metrics`]).
    ///
    /// # Errors
    /// A registration error (a programming error: the names and label sets are fixed).
    pub fn standalone() -> prometheus::Result<Self> {
        let registry = Registry::new();
        register_process_metrics(&registry)?;
        Self::new(registry)
    }

    /// The metrics of a Rekor v2 log: the same series as a v1 log's, each labelled
    /// `api="v2"` (a registry of its own, without the process-wide series), so that a v1
    /// log's scrape can carry both ([`Metrics::link`]) and tell them apart.
    ///
    /// # Errors
    /// As [`Metrics::new`].
    pub fn rekor_v2() -> prometheus::Result<Self> {
        let labels = std::collections::HashMap::from([(API_LABEL.to_owned(), "v2".to_owned())]);
        Self::new(Registry::new_custom(None, Some(labels))?)
    }

    /// Renders `other`'s series (a Rekor v2 log's, [`Metrics::rekor_v2`]) in this log's
    /// scrape too; `queue_depth` reads the other log's queue at each scrape.
    pub fn link(&self, other: Metrics, queue_depth: Arc<dyn Fn() -> usize + Send + Sync>) {
        self.linked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((other, queue_depth));
    }

    /// Creates the log's series and registers them into `registry`.
    ///
    /// # Errors
    /// If `registry` already holds series of these names.
    pub fn new(registry: Registry) -> prometheus::Result<Self> {
        let requests = IntCounterVec::new(
            Opts::new(
                "signet_log_http_requests_total",
                "HTTP requests by route and status.",
            ),
            &["route", "status"],
        )?;
        let request_seconds = HistogramVec::new(
            HistogramOpts::new(
                "signet_log_http_request_duration_seconds",
                "HTTP request latency.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )?;
        let queue_depth = IntGauge::new(
            "signet_log_queue_depth",
            "Entries waiting for the sequencer.",
        )?;
        let batch_size = Histogram::with_opts(
            HistogramOpts::new("signet_log_batch_size", "Entries per sequencer batch.")
                .buckets(BATCH_BUCKETS.to_vec()),
        )?;
        let commit_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "signet_log_batch_commit_seconds",
                "Time to integrate, sign and sync one batch.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        let tree_size = IntGauge::new(
            "signet_log_tree_size",
            "Leaves in the newest signed checkpoint.",
        )?;
        let witness_failures = IntCounter::new(
            "signet_log_witness_failures_total",
            "Checkpoints the witness quorum did not cosign in time.",
        )?;
        let entries = IntCounterVec::new(
            Opts::new("signet_log_entries_total", "Submitted entries by outcome."),
            &["result"],
        )?;
        for r in EntryResult::ALL {
            entries.with_label_values(&[r.label()]);
        }
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_seconds.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(batch_size.clone()))?;
        registry.register(Box::new(commit_seconds.clone()))?;
        registry.register(Box::new(tree_size.clone()))?;
        registry.register(Box::new(witness_failures.clone()))?;
        registry.register(Box::new(entries.clone()))?;
        Ok(Self {
            registry,
            linked: Arc::default(),
            requests,
            request_seconds,
            queue_depth,
            batch_size,
            commit_seconds,
            tree_size,
            witness_failures,
            entries,
        })
    }

    /// The registry the series live in (another component, such as the CA in `signet serve`,
    /// may register its own series here to be scraped with the log's).
    #[must_use]
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Records one HTTP request.
    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        // No allocation once a (route, status) series exists: the status text is the code's.
        let code = axum::http::StatusCode::from_u16(status).ok();
        let status = code
            .as_ref()
            .map_or("invalid", axum::http::StatusCode::as_str);
        self.requests.with_label_values(&[route, status]).inc();
        self.request_seconds
            .with_label_values(&[route])
            .observe(seconds);
    }
    /// Records one committed batch.
    pub fn batch(&self, size: usize, seconds: f64, tree_size: u64) {
        #[allow(clippy::cast_precision_loss)]
        self.batch_size.observe(size as f64);
        self.commit_seconds.observe(seconds);
        self.set_tree_size(tree_size);
    }
    /// Sets the tree size gauge.
    pub fn set_tree_size(&self, size: u64) {
        self.tree_size.set(i64::try_from(size).unwrap_or(i64::MAX));
    }
    /// Counts a checkpoint the witness quorum did not cosign.
    pub fn witness_failure(&self) {
        self.witness_failures.inc();
    }
    /// Counts an entry outcome.
    pub fn entry(&self, r: EntryResult) {
        self.entries.with_label_values(&[r.label()]).inc();
    }

    /// Renders every series of the registry in the Prometheus text format, with the queue
    /// depth read now.
    #[must_use]
    pub fn render(&self, queue_depth: usize) -> String {
        self.queue_depth
            .set(i64::try_from(queue_depth).unwrap_or(i64::MAX));
        let mut families = self.registry.gather();
        let linked = self
            .linked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for (other, depth) in linked {
            other
                .queue_depth
                .set(i64::try_from(depth()).unwrap_or(i64::MAX));
            // One family per name: the other log's samples join this log's (their labels
            // differ), so the exposition has no repeated `# TYPE` line.
            for mut f in other.registry.gather() {
                match families.iter_mut().find(|x| x.name() == f.name()) {
                    Some(mine) => mine.mut_metric().extend(f.take_metric()),
                    None => families.push(f),
                }
            }
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&families, &mut out) {
            tracing::error!(error = %e, "encoding metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
