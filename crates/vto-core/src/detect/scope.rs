//! The per-scope aggregate: bounded, and freed when the scope ends.

use std::collections::HashMap;

use super::{Config, Finding, FindingKind, FingerprintTotal, Priority, QueryEvent};
use crate::sql::Fingerprint;

/// Totals for one (fingerprint, call site) pair.
#[derive(Debug, Default, Clone, Copy)]
struct Repeats {
    count: u32,
    total_us: u64,
    max_us: u64,
    writes: u32,
    batched: u32,
    /// The first exact statement; `varied` once another one comes. A loop
    /// over records varies its binds; the very same statement is a duplicate.
    first_exact: u64,
    varied: bool,
}

/// Totals for one exact statement (SQL and binds).
#[derive(Debug, Clone, Copy)]
struct Exact {
    fingerprint: Fingerprint,
    call_site: u64,
    count: u32,
    total_us: u64,
    max_us: u64,
    write: bool,
    /// Also issued from another call site than `call_site`.
    multi_site: bool,
}

/// The queries of one unit of work, aggregated as they arrive.
#[derive(Debug)]
pub struct Scope {
    config: Config,
    repeats: HashMap<(Fingerprint, u64), Repeats>,
    exact: HashMap<u64, Exact>,
    slow: Vec<QueryEvent>,
    queries: u64,
    db_us: u64,
    dropped: u64,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Scope {
    /// An empty scope with these thresholds.
    pub fn new(config: Config) -> Self {
        Scope {
            config,
            repeats: HashMap::new(),
            exact: HashMap::new(),
            slow: Vec::new(),
            queries: 0,
            db_us: 0,
            dropped: 0,
        }
    }

    /// Queries recorded so far.
    pub fn queries(&self) -> u64 {
        self.queries
    }

    /// Database time recorded so far, in milliseconds.
    pub fn db_ms(&self) -> f64 {
        ms(self.db_us)
    }

    /// Events that found their key table full and were only counted.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Sets or clears the budget after the scope began (a request learns its
    /// controller, and so its budget, only once routed).
    pub fn set_budget(&mut self, budget_ms: Option<f64>) {
        self.config.budget_ms = budget_ms;
    }

    /// Adds the totals of a nested scope that recorded its own queries, so
    /// this scope's query count and database time stay whole.
    pub fn absorb(&mut self, queries: u64, db_us: u64) {
        self.queries = self.queries.saturating_add(queries);
        self.db_us = self.db_us.saturating_add(db_us);
    }

    /// Query count and time per fingerprint (tracked keys only), most time first.
    pub fn totals(&self) -> Vec<FingerprintTotal> {
        let mut by_fp: HashMap<Fingerprint, FingerprintTotal> = HashMap::new();
        for (&(fp, _), r) in &self.repeats {
            let t = by_fp.entry(fp).or_insert(FingerprintTotal {
                fingerprint: fp,
                count: 0,
                total_ms: 0.0,
            });
            t.count += r.count;
            t.total_ms += ms(r.total_us);
        }
        let mut out: Vec<_> = by_fp.into_values().collect();
        out.sort_by(|a, b| {
            b.total_ms
                .total_cmp(&a.total_ms)
                .then(a.fingerprint.cmp(&b.fingerprint))
        });
        out
    }

    /// Adds one query. Constant time; memory stays within the configured caps.
    pub fn record(&mut self, event: QueryEvent) {
        self.queries += 1;
        self.db_us = self.db_us.saturating_add(event.duration_us);
        let key = (event.fingerprint, event.call_site);
        let room = self.repeats.len() < self.config.max_keys;
        match self.repeats.get_mut(&key) {
            Some(r) => {
                r.varied |= r.first_exact != event.exact;
                Self::add(r, &event);
            }
            None if room => {
                let mut r = Repeats {
                    first_exact: event.exact,
                    ..Repeats::default()
                };
                Self::add(&mut r, &event);
                self.repeats.insert(key, r);
            }
            None => self.dropped += 1,
        }
        let room = self.exact.len() < self.config.max_keys;
        match self.exact.get_mut(&event.exact) {
            Some(e) => {
                e.count += 1;
                e.multi_site |= e.call_site != event.call_site;
                e.total_us = e.total_us.saturating_add(event.duration_us);
                e.max_us = e.max_us.max(event.duration_us);
            }
            None if room => {
                self.exact.insert(
                    event.exact,
                    Exact {
                        fingerprint: event.fingerprint,
                        call_site: event.call_site,
                        count: 1,
                        total_us: event.duration_us,
                        max_us: event.duration_us,
                        write: event.write,
                        multi_site: false,
                    },
                );
            }
            None => {}
        }
        if ms(event.duration_us) >= self.config.slow_query_ms
            && self.slow.len() < self.config.max_slow_queries
        {
            self.slow.push(event);
        }
    }

    fn add(r: &mut Repeats, e: &QueryEvent) {
        r.count += 1;
        r.total_us = r.total_us.saturating_add(e.duration_us);
        r.max_us = r.max_us.max(e.duration_us);
        r.writes += u32::from(e.write);
        r.batched += u32::from(e.batch);
    }

    /// Ends the scope: its findings, most urgent first. `elapsed_ms` is the
    /// scope's wall time, for the budget rule.
    pub fn finish(self, elapsed_ms: f64) -> Vec<Finding> {
        let cfg = self.config;
        let db_ms = ms(self.db_us);
        let finding = |kind, fp, site, count: u32, total_us, max_us| Finding {
            kind,
            fingerprint: fp,
            call_site: site,
            count,
            total_ms: ms(total_us),
            max_ms: ms(max_us),
            db_ms,
            priority: Priority::of(ms(total_us), count),
        };
        let mut out = Vec::new();
        for (&(fp, site), r) in &self.repeats {
            // Batches are deliberate; and the very same statement repeated is a
            // duplicate (below), not a loop over records.
            if r.count < cfg.n_plus_one_threshold || r.batched == r.count || !r.varied {
                continue;
            }
            let kind = if r.writes * 2 > r.count {
                FindingKind::BulkWrite
            } else {
                FindingKind::NPlusOne
            };
            out.push(finding(
                kind,
                Some(fp),
                Some(site),
                r.count,
                r.total_us,
                r.max_us,
            ));
        }
        // A statement repeated only inside a loop already reported as an N+1
        // is part of that finding (its fix removes both), not a second one.
        let looped: std::collections::HashSet<(Fingerprint, u64)> = out
            .iter()
            .filter_map(|f: &Finding| Some((f.fingerprint?, f.call_site?)))
            .collect();
        for e in self.exact.values() {
            let in_loop = !e.multi_site && looped.contains(&(e.fingerprint, e.call_site));
            if e.count >= cfg.duplicate_threshold && !e.write && !in_loop {
                out.push(finding(
                    FindingKind::DuplicateQuery,
                    Some(e.fingerprint),
                    Some(e.call_site),
                    e.count,
                    e.total_us,
                    e.max_us,
                ));
            }
        }
        for e in &self.slow {
            out.push(finding(
                FindingKind::SlowQuery,
                Some(e.fingerprint),
                Some(e.call_site),
                1,
                e.duration_us,
                e.duration_us,
            ));
        }
        if let Some(budget) = cfg.budget_ms {
            if elapsed_ms > budget {
                let mut f = finding(FindingKind::SlowScope, None, None, 1, 0, 0);
                f.total_ms = elapsed_ms;
                f.max_ms = elapsed_ms;
                f.priority = Priority::of(elapsed_ms - budget, 1);
                out.push(f);
            }
        }
        out.sort_by(|a, b| {
            a.priority
                .cmp(&b.priority)
                .then(b.total_ms.total_cmp(&a.total_ms))
                .then(a.kind.as_str().cmp(b.kind.as_str()))
                .then(a.fingerprint.cmp(&b.fingerprint))
        });
        out
    }
}
