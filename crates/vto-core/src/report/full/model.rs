//! The types every part of the full report shares: a recommendation, its
//! quantified impact, priority and effort.

use serde::Serialize;

/// How urgent a recommendation is: the detectors' scale, so findings and
/// the recommendations built from them sort alike.
pub use crate::detect::Priority;

/// Roughly how long the change takes a developer who knows the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effort {
    /// A one-line change (an `includes`, an index migration).
    Minutes,
    /// A small change with a test (a counter cache, a cache block, a config).
    Hours,
    /// A change across the app or its infrastructure.
    Days,
}

/// What a recommendation is worth, in measured figures where the workload
/// gives them (`null` where it does not).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Impact {
    /// One sentence with the figures ("saves 30 queries and 42 ms per request
    /// to Api::V1::WorkoutsController#index, 1,200 queries over the workload").
    pub summary: String,
    /// Queries one request (or job) no longer runs.
    pub queries_saved_per_request: Option<f64>,
    /// Milliseconds one request (or job) saves.
    pub ms_saved_per_request: Option<f64>,
    /// Milliseconds saved over the whole recorded workload.
    pub ms_saved_total: Option<f64>,
    /// Rows a query scans that an index would spare it.
    pub rows_scanned: Option<u64>,
    /// Dollars a month the change saves (external API costs × `monthly_scale`);
    /// `null` when it saves no money or the cost is unknown.
    pub usd_saved_per_month: Option<f64>,
}

/// One entry of the OPTIMIZATION, INFRASTRUCTURE or DATA GOVERNANCE
/// recommendations, and of the roadmap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// Stable within a report: `R<n>` (optimization), `I<n>`
    /// (infrastructure), `G<n>` (governance).
    pub id: String,
    /// `n_plus_one`, `missing_index`, `redundant_index`, `unused_index`,
    /// `slow_query`, `duplicate_query`, `bulk_write`, `low_level_caching`,
    /// `fragment_caching`, `http_caching`, `slow_job`, `external_call_in_request`,
    /// `external_call_in_loop`, `duplicate_external_call`, `slow_external_call`,
    /// `external_errors`, `external_timeout`, `connection_budget`,
    /// `pgbouncer`, `capacity`, `sidekiq_queues`, `postgres_setting`,
    /// `external_queue`, `external_cost`, `retention`, `classification`,
    /// `erasure`, `soft_delete`.
    pub category: String,
    /// A short title ("Preload workout and exercises in Api::V1::CompletedWorkoutsController#index").
    pub title: String,
    /// What is wrong, with the evidence.
    pub issue: String,
    /// What fixing it is worth.
    pub impact: Impact,
    /// The exact code, migration or configuration.
    pub solution: String,
    /// What the fix costs or risks.
    pub trade_offs: String,
    /// How urgent.
    pub priority: Priority,
    /// How long it takes.
    pub effort: Effort,
    /// The metric to watch after the change.
    pub metric: String,
    /// The app file and line the fix goes to, when known.
    pub location: Option<String>,
    /// What the recommendation was derived from: `finding:<kind>:<fingerprint>`,
    /// `index:<kind>:<table>`, `unit:<name>`, `governance:<kind>:<table>`,
    /// `infrastructure:<what>`, `external:<kind>:<scope>:<METHOD> <host><path>`.
    pub evidence: Vec<String>,
    /// Ids of the recommendations to do first (an index before the query
    /// rewrite that needs it).
    pub depends_on: Vec<String>,
}

/// A recommendation with its words and figures still to fill in, and its id
/// still to assign (each section numbers its own).
pub(super) fn blank(
    category: &str,
    title: String,
    priority: Priority,
    effort: Effort,
) -> Recommendation {
    Recommendation {
        id: String::new(),
        category: category.to_owned(),
        title,
        issue: String::new(),
        impact: Impact::default(),
        solution: String::new(),
        trade_offs: String::new(),
        priority,
        effort,
        metric: String::new(),
        location: None,
        evidence: Vec::new(),
        depends_on: Vec::new(),
    }
}
