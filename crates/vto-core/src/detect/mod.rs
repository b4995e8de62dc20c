//! Detection rules: a unit of work (request, job, `scan` block) records its
//! queries into a [`Scope`]; when it ends, [`Scope::finish`] turns what it saw
//! into [`Finding`]s. The caller supplies what only it can know (the call site,
//! whether a query is a write or part of a batch); the rules live here.
//!
//! ```
//! use vto_core::detect::{Config, FindingKind, QueryEvent, Scope};
//! use vto_core::sql::fingerprint;
//! use vto_core::Dialect;
//!
//! let mut scope = Scope::new(Config::default());
//! for id in 0..5 {
//!     let sql = format!("SELECT * FROM workouts WHERE id = {id}");
//!     scope.record(QueryEvent {
//!         fingerprint: fingerprint(sql.as_bytes(), Dialect::Postgres),
//!         call_site: 42, // e.g. a hash of the app frames that issued it
//!         exact: id,     // a hash of the SQL text and binds
//!         duration_us: 300,
//!         write: false,
//!         batch: false,
//!     });
//! }
//! let findings = scope.finish(2.0);
//! assert_eq!(findings[0].kind, FindingKind::NPlusOne);
//! assert_eq!(findings[0].count, 5);
//! ```

mod scope;

pub use scope::Scope;

use serde::Serialize;

use crate::sql::Fingerprint;

/// Thresholds of the rules, with the defaults documented on each field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Config {
    /// Same fingerprint from the same call site at least this often is an N+1 (2).
    pub n_plus_one_threshold: u32,
    /// A query at least this slow is a slow query, in milliseconds (100).
    pub slow_query_ms: f64,
    /// Identical SQL and binds at least this often in one scope is a duplicate (2).
    pub duplicate_threshold: u32,
    /// A scope longer than this is over budget, in milliseconds (`None`: no budget).
    pub budget_ms: Option<f64>,
    /// Distinct (fingerprint, call site) pairs and exact queries tracked per scope
    /// (1,000 each); further ones are counted as dropped, so memory stays bounded.
    pub max_keys: usize,
    /// Slow queries kept per scope (100).
    pub max_slow_queries: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            n_plus_one_threshold: 2,
            slow_query_ms: 100.0,
            duplicate_threshold: 2,
            budget_ms: None,
            max_keys: 1_000,
            max_slow_queries: 100,
        }
    }
}

/// One query as the caller saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryEvent {
    /// [`crate::sql::fingerprint`] of the SQL.
    pub fingerprint: Fingerprint,
    /// Identifies the chain of application frames that issued the query;
    /// two call sites of one helper are two values.
    pub call_site: u64,
    /// Identifies the exact statement: SQL text and bind values (hashed by the
    /// caller, so values never reach the rules).
    pub exact: u64,
    /// Duration in microseconds.
    pub duration_us: u64,
    /// INSERT, UPDATE or DELETE: repeated writes are a bulk-write finding, not an N+1.
    pub write: bool,
    /// Part of a deliberate batch (`find_each`, `in_batches`, a preload): never an N+1.
    pub batch: bool,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The same read repeated from one call site: load it once (`includes`).
    NPlusOne,
    /// The same write repeated from one call site: `insert_all` / `update_all`.
    BulkWrite,
    /// One query over `slow_query_ms`.
    SlowQuery,
    /// Identical SQL and binds repeated in one scope: a cache candidate.
    DuplicateQuery,
    /// The whole scope over its budget.
    SlowScope,
}

impl FindingKind {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::NPlusOne => "n_plus_one",
            FindingKind::BulkWrite => "bulk_write",
            FindingKind::SlowQuery => "slow_query",
            FindingKind::DuplicateQuery => "duplicate_query",
            FindingKind::SlowScope => "slow_scope",
        }
    }
}

/// How urgent a finding is, from the time it costs and how often it repeats.
/// The full report grades its recommendations on the same scale
/// ([`crate::report::full::Priority`]), so everything sorts alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Costs at least 500 ms in the scope, or repeats at least 50 times; a
    /// recommendation that hurts users or data now.
    Critical,
    /// At least 100 ms, or at least 10 repeats; a large, measured cost.
    High,
    /// At least 20 ms, or at least 5 repeats; worth the next iteration.
    Medium,
    /// Anything less; nice to have.
    Low,
}

impl Priority {
    /// From the scope time a finding costs and its repeat count.
    pub fn of(total_ms: f64, count: u32) -> Priority {
        if total_ms >= 500.0 || count >= 50 {
            Priority::Critical
        } else if total_ms >= 100.0 || count >= 10 {
            Priority::High
        } else if total_ms >= 20.0 || count >= 5 {
            Priority::Medium
        } else {
            Priority::Low
        }
    }

    /// From the names used on the wire (`critical`, `high`, `medium`, `low`,
    /// any case); anything else is `Low`.
    pub fn from_name(name: &str) -> Priority {
        match name.trim().to_ascii_lowercase().as_str() {
            "critical" => Priority::Critical,
            "high" => Priority::High,
            "medium" => Priority::Medium,
            _ => Priority::Low,
        }
    }

    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

/// One problem a scope showed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What it is.
    pub kind: FindingKind,
    /// The query's fingerprint (`None` for [`FindingKind::SlowScope`]).
    pub fingerprint: Option<Fingerprint>,
    /// The call site (`None` for scope-wide findings).
    pub call_site: Option<u64>,
    /// How many queries it covers (1 for a slow query or scope).
    pub count: u32,
    /// Time those queries took (the whole scope for `SlowScope`), in milliseconds.
    pub total_ms: f64,
    /// The slowest of them, in milliseconds.
    pub max_ms: f64,
    /// Time spent in the database during the scope, in milliseconds.
    pub db_ms: f64,
    /// Urgency.
    pub priority: Priority,
}

/// Count and time of one fingerprint within a scope (the workload summary).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FingerprintTotal {
    /// The query's fingerprint.
    pub fingerprint: Fingerprint,
    /// Queries with it.
    pub count: u32,
    /// Their time, in milliseconds.
    pub total_ms: f64,
}
