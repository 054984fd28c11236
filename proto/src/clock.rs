//! A source of wall-clock time, shared by the log and the CA.
//!
//! This crate's own functions never call a clock: they take the time as an argument (a
//! `u64` of seconds or milliseconds, or a `time` value). The [`Clock`] trait lives here only so
//! that `signet-log` and `signet-ca` inject one and the same abstraction: servers read the
//! time through an `Arc<dyn Clock>` given to them at construction, [`SystemClock`] in
//! production, [`FixedClock`] in tests, benchmarks and replay. [`SystemClock`] is the one
//! adapter in the workspace that reads the system clock for wall-clock time.
//!
//! What this module does not do: monotonic time (timeouts and latency measurements use
//! `std::time::Instant` directly), time zones, calendars.

use std::sync::atomic::{AtomicU64, Ordering};

/// A source of the current time in milliseconds since the Unix epoch.
///
/// Library code never reads the system clock; [`SystemClock`] is the one adapter that does.
pub trait Clock: Send + Sync {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_millis(&self) -> u64;

    /// Whole seconds since 1970-01-01T00:00:00Z (`now_millis() / 1000`).
    fn now_secs(&self) -> u64 {
        self.now_millis() / 1000
    }
}

/// The system clock (the adapter used by the server binaries). A clock before 1970 reads 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that returns a settable time (tests, benchmarks, replay).
#[derive(Debug, Default)]
pub struct FixedClock(AtomicU64);

impl FixedClock {
    /// A clock frozen at `millis`.
    #[must_use]
    pub fn new(millis: u64) -> Self {
        Self(AtomicU64::new(millis))
    }

    /// Moves the clock to `millis`.
    pub fn set(&self, millis: u64) {
        self.0.store(millis, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_millis(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::{Clock, FixedClock};

    #[test]
    fn fixed_clock_reads_what_was_set() {
        let c = FixedClock::new(1_764_000_000_999);
        assert_eq!(c.now_millis(), 1_764_000_000_999);
        assert_eq!(c.now_secs(), 1_764_000_000);
        c.set(5);
        assert_eq!(c.now_millis(), 5);
        assert_eq!(c.now_secs(), 0);
    }
}
