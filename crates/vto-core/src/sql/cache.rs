//! A bounded, thread-safe map from fingerprint to analysis result.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Hit and miss counts of a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that had to compute.
    pub misses: u64,
    /// Entries held now.
    pub entries: usize,
    /// Maximum entries.
    pub capacity: usize,
}

struct Inner<K, V> {
    map: HashMap<K, (V, u64)>,
    tick: u64,
    hits: u64,
    misses: u64,
}

/// Least-recently-used eviction, done in batches: when full, the oldest tenth
/// goes at once, so the cost per insert stays constant on average.
pub(crate) struct BoundedCache<K, V> {
    capacity: usize,
    inner: Mutex<Inner<K, V>>,
}

impl<K: Eq + Hash + Clone, V: Clone> BoundedCache<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        BoundedCache {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                tick: 0,
                hits: 0,
                misses: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // The core never panics while holding the lock; recover if it ever did.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached value for `key`, or `compute()`'s, which is then cached unless
    /// `compute` says it may not be. The lock is not held while computing.
    pub(crate) fn get_or_insert_with(&self, key: K, compute: impl FnOnce() -> (V, bool)) -> V {
        {
            let mut inner = self.lock();
            inner.tick += 1;
            let tick = inner.tick;
            if let Some(entry) = inner.map.get_mut(&key) {
                entry.1 = tick;
                let value = entry.0.clone();
                inner.hits += 1;
                return value;
            }
            inner.misses += 1;
        }
        let (value, cacheable) = compute();
        if !cacheable {
            return value;
        }
        let mut inner = self.lock();
        if inner.map.len() >= self.capacity {
            let mut ticks: Vec<u64> = inner.map.values().map(|(_, t)| *t).collect();
            let cut = (self.capacity / 10).max(1).min(ticks.len() - 1);
            let (_, threshold, _) = ticks.select_nth_unstable(cut);
            let threshold = *threshold;
            inner.map.retain(|_, (_, t)| *t > threshold);
        }
        let tick = inner.tick;
        inner.map.insert(key, (value.clone(), tick));
        value
    }

    pub(crate) fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            hits: inner.hits,
            misses: inner.misses,
            entries: inner.map.len(),
            capacity: self.capacity,
        }
    }

    pub(crate) fn clear(&self) {
        let mut inner = self.lock();
        inner.map.clear();
        inner.hits = 0;
        inner.misses = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_capacity_and_keeps_recent_entries() {
        let cache = BoundedCache::new(100);
        for i in 0..1000u32 {
            cache.get_or_insert_with(i, || (i * 2, true));
            // Key 0 is used all the time, so it is never the least recent.
            assert_eq!(cache.get_or_insert_with(0, || (99, true)), 0);
        }
        let stats = cache.stats();
        assert!(stats.entries <= 100, "{stats:?}");
        assert_eq!(stats.misses, 1000);
        assert_eq!(cache.get_or_insert_with(999, || (0, true)), 1998);
    }
}
