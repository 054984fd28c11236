//! A bounded map whose values expire, shared by the engine's caches and the namespace-label
//! cache (a leaf module).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A bounded map of values that expire `ttl` after they were put: at [`TtlMap::CAPACITY`]
/// entries the expired ones go, and if none has expired, all go.
pub(crate) struct TtlMap<K, V> {
    ttl: Duration,
    pub(crate) entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: std::hash::Hash + Eq, V: Clone> TtlMap<K, V> {
    pub(crate) const CAPACITY: usize = 4096;

    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value and its age, if it was put less than the TTL before `now`.
    pub(crate) fn get<Q>(&self, key: &Q, now: Instant) -> Option<(V, Duration)>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let entries = lock(&self.entries);
        let (at, v) = entries.get(key)?;
        let age = now.checked_duration_since(*at)?;
        (age < self.ttl).then(|| (v.clone(), age))
    }

    pub(crate) fn put(&self, key: K, value: V, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = lock(&self.entries);
        if entries.len() >= Self::CAPACITY {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| now.checked_duration_since(*at).is_some_and(|a| a < ttl));
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (now, value));
    }
}
