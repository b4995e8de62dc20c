//! The full performance report: what the recorded workload, the detectors,
//! the index advisor, the retention check and the deployment say about a
//! Rails app, as one document with an assessment, quantified
//! recommendations in three sections (optimization, infrastructure, data
//! governance) and a roadmap that orders them.
//!
//! [`build`] turns an [`Input`] into a [`Report`]; [`build_json`] does the
//! same from and to JSON, and [`render_json`] renders the report as text,
//! Markdown or HTML ([`render`]). Every figure in the report comes from the
//! input; a figure the input does not give is `null`, and the words say it
//! was not measured. SQL arrives normalized (`?` for every value) and no
//! literal value is added.
//!
//! ```
//! use vto_core::report::full::build_json;
//!
//! let input = r#"{"app": "Virtual Trainer", "workload": {"window_seconds": 60, "units": [
//!   {"kind": "request", "name": "Api::V1::CompletedWorkoutsController#index", "count": 40,
//!    "queries": 1240, "db_ms": 800, "elapsed_ms": 2400, "max_elapsed_ms": 150, "view_ms": 900,
//!    "method": "GET"}]},
//!  "findings": [{"kind": "n_plus_one", "fingerprint": "ab12cd34ef56ab78", "count": 30,
//!    "occurrences": 40, "total_ms": 8.5, "priority": "critical",
//!    "suggestion": "CompletedWorkout.includes(:workout)",
//!    "scope_kind": "request", "scope_name": "Api::V1::CompletedWorkoutsController#index"}]}"#;
//! let report: serde_json::Value = serde_json::from_str(&build_json(input)?).unwrap();
//! let r1 = &report["recommendations"][0];
//! assert_eq!(r1["id"], "R1");
//! assert_eq!(r1["category"], "n_plus_one");
//! assert_eq!(r1["impact"]["queries_saved_per_request"], 29.0);
//! assert_eq!(r1["solution"], "CompletedWorkout.includes(:workout)");
//! assert_eq!(report["roadmap"][0]["id"], "R1");
//! # Ok::<(), vto_core::Error>(())
//! ```
//!
//! # Input
//!
//! [`Input`], as JSON. Every section may be missing or `null`, unknown
//! fields are ignored, and numbers may be integers or floats:
//!
//! ```json
//! {
//!   "app": "Virtual Trainer",
//!   "generated_at": "2026-11-26T12:00:00Z",
//!   "dialect": "postgresql",
//!   "workload": {
//!     "source": "jsonl",
//!     "window_seconds": 60.0,
//!     "units": [
//!       {"kind": "request", "name": "Api::V1::CompletedWorkoutsController#index", "count": 40,
//!        "queries": 1240, "db_ms": 800.0, "elapsed_ms": 2400.0, "max_elapsed_ms": 150.0,
//!        "view_ms": 900.0, "method": "GET", "queue": null}
//!     ],
//!     "fingerprints": [
//!       {"fingerprint": "ab12cd34ef56ab78",
//!        "sql": "SELECT \"workouts\".* FROM \"workouts\" WHERE \"workouts\".\"id\" = ? LIMIT ?",
//!        "calls": 1200, "total_ms": 340.0, "statement": "select", "tables": ["workouts"],
//!        "units": [{"kind": "request", "name": "Api::V1::CompletedWorkoutsController#index",
//!                   "calls": 1200, "total_ms": 340.0}],
//!        "call_sites": ["app/controllers/api/v1/completed_workouts_controller.rb:12"]}
//!     ]
//!   },
//!   "findings": [
//!     {"kind": "n_plus_one", "fingerprint": "ab12cd34ef56ab78", "sql": "SELECT ...",
//!      "count": 30, "occurrences": 40,
//!      "location": "app/controllers/api/v1/completed_workouts_controller.rb:12",
//!      "suggestion": "CompletedWorkout.includes(:workout)", "priority": "critical",
//!      "total_ms": 8.5, "max_ms": 0.9, "scope_kind": "request",
//!      "scope_name": "Api::V1::CompletedWorkoutsController#index",
//!      "table": "workouts", "column": null}
//!   ],
//!   "schema": {"tables": [{"name": "workouts", "rows": 1200, "size_bytes": 81920}]},
//!   "indexes": [
//!     {"kind": "missing_foreign_key_index", "table": "completed_workouts", "columns": ["user_id"],
//!      "index_name": null, "migration": "add_index :completed_workouts, :user_id",
//!      "reason": "...", "priority": "high", "queries": ["ab12cd34ef56ab78"], "size_bytes": null}
//!   ],
//!   "governance": [
//!     {"kind": "erasure_gap", "table": "injuries", "column": null, "path": ["users", "injuries"],
//!      "category": null, "suggestion": "has_many :injuries, dependent: :destroy  # in the User model",
//!      "reason": "...", "priority": "high"}
//!   ],
//!   "infrastructure": {"web": {"dynos": 2, "workers": 2, "threads": 5, "dyno_type": "standard-1x"},
//!                      "worker": {"dynos": 1, "concurrency": 10, "dyno_type": "standard-1x"},
//!                      "database": {"max_connections": 120, "plan": "standard-0", "...": "..."},
//!                      "prices": {"...": "..."}, "plan_limits": {"...": "..."}},
//!   "external": {"scopes": [{"kind": "job", "name": "CustomHealthProgramJob", "elapsed_ms": 8000.0,
//!                            "calls": [{"host": "api.openai.com", "method": "POST",
//!                                       "path": "/v1/chat/completions", "status": 200,
//!                                       "duration_ms": 3000.0, "model": "gpt-4o",
//!                                       "prompt_tokens": 1000, "completion_tokens": 500}]}],
//!                "prices": {"as_of": "2026-11-01", "models": {"gpt-4o": {"input_per_million": 2.5,
//!                                                                      "output_per_million": 10.0}}},
//!                "options": {"monthly_scale": 30.0},
//!                "rate_limits": {"api.openai.com": {"requests_per_minute": 500,
//!                                                   "tokens_per_minute": 200000}},
//!                "growth": [1, 2, 5, 10]},
//!   "options": {"top": 10, "slow_request_ms": 500.0, "slow_job_ms": 5000.0}
//! }
//! ```
//!
//! - `workload.units`: per (kind, name) sums over the window: `count` units
//!   of work, `queries`, `db_ms`, `elapsed_ms`, `view_ms`; `max_elapsed_ms`
//!   the slowest one. `kind` is `request` or `job`; `method` the HTTP method
//!   and `queue` the job's queue, when known.
//! - `workload.fingerprints`: per normalized statement: `calls`, `total_ms`,
//!   `statement` (`select`, `insert`, `update`, `delete`, `other`), the
//!   `tables` it touches (a write's target first), the `units` that ran it
//!   and its `call_sites`.
//! - `findings`: the detectors' findings, one per kind, fingerprint and
//!   location; `count` is the queries per unit (the loop size of an N+1),
//!   `occurrences` the units it showed in, `total_ms` its time per unit.
//! - `indexes`: the index advisor's suggestions ([`crate::index`]); their
//!   `queries` are fingerprints, as strings or as the advisor's objects.
//! - `governance`: the retention check's findings ([`crate::retention`]).
//! - `infrastructure`: the deployment ([`infra::InfraInput`]); may be partial.
//! - `external`: outbound API calls, the input of [`crate::external`]
//!   (`scopes`, `prices`, `options` with `monthly_scale`), plus
//!   `rate_limits` by host (either figure may be missing) and `growth`, the
//!   usage multipliers of the cost projection (default 1, 2, 5, 10;
//!   non-positive entries are dropped). Like `infrastructure` it never fails
//!   the report: an unreadable `external` (a string for `scopes`, an unknown
//!   scope `kind`) leaves the rest of the report intact, and
//!   `assessment.external` says it could not be read ([`ExternalInput`]).
//!   Entries of `findings` whose kind starts with `external_` or is
//!   `duplicate_external_call` are ignored: the report derives them from
//!   `external`, so nothing is reported twice.
//! - `options`: `top` (10) fingerprints and tables listed, the slow-request
//!   (500 ms) and slow-job (5,000 ms) thresholds.
//!
//! # Output
//!
//! [`Report`], as JSON (`schema_version` 1). Every list is present, possibly
//! empty; unknown figures are `null`:
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "app": "Virtual Trainer",
//!   "generated_at": "2026-11-26T12:00:00Z",
//!   "dialect": "postgresql",
//!   "assessment": {
//!     "workload": {"source": "jsonl", "window_seconds": 60.0, "requests": 120, "jobs": 8,
//!                  "queries": 4200, "db_ms": 1800.0, "elapsed_ms": 9000.0,
//!                  "requests_per_second": 2.0, "queries_per_request": 31.5, "mean_request_ms": 62.0},
//!     "top_fingerprints": [{"fingerprint": "...", "sql": "...", "calls": 1200, "total_ms": 340.0,
//!                           "mean_ms": 0.28, "share": 0.19, "statement": "select",
//!                           "tables": ["workouts"], "call_sites": ["..."],
//!                           "units": ["Api::V1::CompletedWorkoutsController#index"]}],
//!     "n_plus_ones": [{"fingerprint": "...", "sql": "...", "location": "...", "unit": "...",
//!                      "queries_per_unit": 30, "occurrences": 40, "ms_per_unit": 8.5,
//!                      "suggestion": "...", "priority": "critical"}],
//!     "slow_queries": [{"fingerprint": "...", "sql": "...", "location": "...", "unit": "...",
//!                       "max_ms": 120.0, "ms_per_unit": 120.0, "occurrences": 3, "suggestion": "..."}],
//!     "endpoints": [{"kind": "request", "name": "...", "method": "GET", "count": 40, "mean_ms": 60.0,
//!                    "max_ms": 150.0, "db_share": 0.33, "view_share": 0.37, "queries_per_unit": 31.0}],
//!     "slow_endpoints": ["... as endpoints: mean or max over the slow-request threshold"],
//!     "jobs": ["... as endpoints, kind job, plus \"queue\""],
//!     "slow_jobs": ["... as jobs: mean or max over the slow-job threshold"],
//!     "schema": {"tables": 14, "rows": 52000, "size_bytes": 9000000,
//!                "largest": [{"name": "api_request_logs", "rows": 30000, "size_bytes": 4000000}]},
//!     "table_growth": [{"table": "api_request_logs", "rows": 30000, "inserts": 120,
//!                       "inserts_per_day": 172800.0, "writes_per_day": 172800.0}],
//!     "external": {"calls": 6, "total_ms": 18000.0, "cost_usd": 0.0309, "currency": "USD",
//!                  "prices_as_of": "2026-11-01",
//!                  "hosts": [{"host": "api.openai.com", "method": "POST",
//!                             "path": "/v1/chat/completions", "calls": 6, "total_ms": 18000.0,
//!                             "mean_ms": 3000.0, "max_ms": 3000.0, "error_rate": 0.0,
//!                             "prompt_tokens": 6000, "completion_tokens": 3000, "cost_usd": 0.0309,
//!                             "scopes": ["CustomHealthProgramJob"]}],
//!                  "by_model": ["external costs' by_model"], "by_scope": ["... by_scope"],
//!                  "note": null}
//!   },
//!   "recommendations": ["Recommendation, ids R1.."],
//!   "infrastructure": {"connection_budget": {"...": "..."}, "pool_mismatches": [],
//!                      "pgbouncer": {"...": "..."}, "capacity": {"...": "..."},
//!                      "sidekiq": {"...": "..."}, "postgres_settings": [],
//!                      "external": {"providers": [{"host": "api.openai.com", "calls": 6,
//!                                                  "requests_per_minute_observed": 6.0,
//!                                                  "mean_call_ms": 3000.0, "tokens_per_call": 1500.0,
//!                                                  "rate_limit": {"requests_per_minute": 500.0,
//!                                                                 "tokens_per_minute": 200000.0},
//!                                                  "max_concurrency": 6, "reasoning": "..."}],
//!                                   "growth": [1.0, 2.0, 5.0, 10.0], "monthly_scale": 1000.0,
//!                                   "monthly_projection": [{"scope": "CustomHealthProgramJob",
//!                                       "scope_kind": "job", "model": "gpt-4o", "runs": 2,
//!                                       "calls": 4, "cost_usd_per_month": 30.0,
//!                                       "by_growth": [{"growth": 1.0, "cost_usd_per_month": 30.0}],
//!                                       "reasoning": "..."}],
//!                                   "monthly_cost_usd": 30.9,
//!                                   "monthly_cost_by_growth": [{"growth": 1.0,
//!                                                               "cost_usd_per_month": 30.9}],
//!                                   "currency": "USD", "prices_as_of": "2026-11-01",
//!                                   "reasoning": "..."},
//!                      "recommendations": ["Recommendation, ids I1.."]},
//!   "governance": {"summary": {"erasure_gap": 1, "special_category_column": 4},
//!                  "findings": ["the input's governance findings, by priority then table"],
//!                  "recommendations": ["Recommendation, ids G1.."]},
//!   "roadmap": [{"step": 1, "id": "R3", "title": "...", "section": "optimization",
//!                "priority": "critical", "effort": "minutes", "metric": "...", "after": []}]
//! }
//! ```
//!
//! A recommendation is a [`model::Recommendation`]: `{"id", "category",
//! "title", "issue", "impact": {"summary", "queries_saved_per_request",
//! "ms_saved_per_request", "ms_saved_total", "rows_scanned", "usd_saved_per_month"},
//! "solution",
//! "trade_offs", "priority", "effort", "location", "metric", "evidence",
//! "depends_on"}`.
//!
//! # Rules
//!
//! - Assessment: fingerprints by total time (`share` of all fingerprints'
//!   time); endpoints and jobs with their mean, shares and queries per unit,
//!   slow when the mean reaches the threshold or the max reaches twice it;
//!   table growth from the writes' target tables over the window.
//! - Optimization (`R<n>`, by priority then `ms_saved_total`): N+1 (a preload
//!   is one query, so it saves `count - 1` per unit), indexes (the advisor's
//!   migrations), slow and duplicate queries, writes in a loop, fragment
//!   caching (view-bound requests), low-level caching (identical reads, a TTL
//!   from the tables' write rate), HTTP caching (GET requests over rarely
//!   written tables), slow jobs (their own queue), and one per external
//!   finding of kind `external_call_in_request`, `external_call_in_loop`,
//!   `duplicate_external_call`, `slow_external_call`, `external_errors`,
//!   `external_timeout` (the category is the kind; priority, location and
//!   code from the finding; evidence `external:<kind>:<scope>:<METHOD>
//!   <host><path>`, `*` for a finding across scopes). Savings only where
//!   measured: a call moved out of a request saves its time per request; a
//!   cache saves total × hit rate and `usd_saved_per_month` = the cost saved
//!   × `monthly_scale`; a batched loop's round-trip overhead is not measured,
//!   so it states no saving. `external_errors` comes after the
//!   `external_timeout` of its host (a retry of a call that can hang hangs
//!   again).
//! - Infrastructure (`I<n>`): [`infra`]. With external calls,
//!   `infrastructure.external` ([`infra_external`]): per provider the calls a
//!   stated limit allows in flight (`max_concurrency`, Little's law: limit per
//!   minute × mean call seconds / 60, the tighter of requests and tokens,
//!   floored, at least 1) and the monthly cost per scope class and model at
//!   every `growth` multiplier (observed × `monthly_scale` × growth). Per
//!   `external_dominated_job` finding an `external_queue` recommendation: a
//!   Sidekiq 7 capsule whose concurrency is `max_concurrency` over the worker
//!   processes (1 thread and the figures the limit must cover when no limit
//!   is stated), or, when the layout already moves the job to
//!   `long_running`, that queue's threads, capped at `max_concurrency` in the
//!   layout itself (never a second move). From $10 a month at 1×, an
//!   `external_cost` recommendation (the money priorities of
//!   [`crate::external`]), after the `duplicate_external_call` ones.
//! - Governance (`G<n>`): erasure gaps (critical on tables with health data),
//!   protection of classified tables, and the retention findings.
//! - Roadmap: every recommendation once, prerequisites first, then priority,
//!   effort and id.

pub mod external;
pub mod infra;
pub mod infra_external;
pub mod model;
pub mod render;

mod assessment;
mod external_recs;
mod governance;
mod recommend;
mod roadmap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::index::render as words;
use crate::Error;

pub use assessment::{
    Assessment, Endpoint, Job, LargeTable, NPlusOne, SchemaTotals, SlowQuery, TableGrowth,
    TopFingerprint, WorkloadTotals,
};
pub use external::{ExternalAssessment, ExternalEndpoint, ExternalInput, RateLimit};
pub use governance::Governance;
pub use model::{Effort, Impact, Priority, Recommendation};
pub use roadmap::{RoadmapStep, Section};

/// The version of the report's JSON shape (`schema_version`).
pub const SCHEMA_VERSION: u32 = 1;

/// Fingerprints and tables listed when `options.top` is not given.
pub const DEFAULT_TOP: usize = 10;

/// A request is slow from this mean (or twice this max), in milliseconds,
/// when `options.slow_request_ms` is not given.
pub const DEFAULT_SLOW_REQUEST_MS: f64 = 500.0;

/// A job is slow from this mean (or twice this max), in milliseconds, when
/// `options.slow_job_ms` is not given.
pub const DEFAULT_SLOW_JOB_MS: f64 = 5000.0;

// ------------------------------------------------------------------ input

/// The report's input (see the [module docs](self#input) for the JSON).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Input {
    /// The app's name.
    #[serde(default)]
    pub app: Option<String>,
    /// When the input was collected (as given, typically ISO 8601).
    #[serde(default)]
    pub generated_at: Option<String>,
    /// The database: `postgresql`, `mysql`, `sqlite` (or a Rails adapter name).
    #[serde(default)]
    pub dialect: Option<String>,
    /// The recorded workload.
    #[serde(default, deserialize_with = "nullable")]
    pub workload: Workload,
    /// The detectors' findings.
    #[serde(default, deserialize_with = "nullable")]
    pub findings: Vec<Finding>,
    /// Table sizes.
    #[serde(default, deserialize_with = "nullable")]
    pub schema: SchemaInfo,
    /// The index advisor's suggestions.
    #[serde(default, deserialize_with = "nullable")]
    pub indexes: Vec<IndexSuggestion>,
    /// The retention check's findings.
    #[serde(default, deserialize_with = "nullable")]
    pub governance: Vec<GovernanceFinding>,
    /// The deployment (dynos, pools, database plan, prices).
    #[serde(default, deserialize_with = "nullable")]
    pub infrastructure: infra::InfraInput,
    /// Outbound API calls ([`ExternalInput`]); never fails the report.
    #[serde(default)]
    pub external: Option<ExternalInput>,
    /// Thresholds and list lengths.
    #[serde(default, deserialize_with = "nullable")]
    pub options: Options,
}

impl Input {
    /// Decodes the input from JSON text; [`Error::InvalidInput`] when it is
    /// not JSON or not of this shape (the message says where).
    pub fn from_json(json: &str) -> Result<Input, Error> {
        let invalid = |message: String| Error::InvalidInput {
            message: format!("full report input JSON: {message}"),
        };
        // serde would also take a struct from an array, by position.
        if !json.trim_start().starts_with('{') {
            return Err(invalid(
                "expected an object at the top level ({\"workload\": {...}, ...})".to_owned(),
            ));
        }
        serde_json::from_str(json).map_err(|err| invalid(err.to_string()))
    }

    /// The recording window in seconds, when it is known (positive).
    pub fn window_seconds(&self) -> Option<f64> {
        Some(self.workload.window_seconds).filter(|w| *w > 0.0)
    }
}

/// The recorded workload.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Workload {
    /// Where it was recorded from (`jsonl`, `pg_stat_statements`, ...).
    #[serde(default)]
    pub source: Option<String>,
    /// The recording window in seconds; 0 when unknown.
    #[serde(default, deserialize_with = "ms")]
    pub window_seconds: f64,
    /// Units of work (requests, jobs), summed per kind and name.
    #[serde(default, deserialize_with = "nullable")]
    pub units: Vec<Unit>,
    /// Statements, summed per fingerprint.
    #[serde(default, deserialize_with = "nullable")]
    pub fingerprints: Vec<Fingerprint>,
}

/// One kind of unit of work (a controller action, a job class), summed over
/// the window.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Unit {
    /// `request` or `job`.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// `Api::V1::CompletedWorkoutsController#index`, `CustomHealthProgramJob`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Units of work of this name.
    #[serde(default, deserialize_with = "count")]
    pub count: u64,
    /// Queries they ran, when known.
    #[serde(default, deserialize_with = "opt_count")]
    pub queries: Option<u64>,
    /// Time in the database, when known.
    #[serde(default, deserialize_with = "opt_ms")]
    pub db_ms: Option<f64>,
    /// Total time, when known.
    #[serde(default, deserialize_with = "opt_ms")]
    pub elapsed_ms: Option<f64>,
    /// The slowest one, when known.
    #[serde(default, deserialize_with = "opt_ms")]
    pub max_elapsed_ms: Option<f64>,
    /// Time rendering views, when known.
    #[serde(default, deserialize_with = "opt_ms")]
    pub view_ms: Option<f64>,
    /// The HTTP method of a request, when known.
    #[serde(default)]
    pub method: Option<String>,
    /// The queue of a job, when known.
    #[serde(default)]
    pub queue: Option<String>,
}

impl Unit {
    /// A web request (rather than a job).
    pub fn is_request(&self) -> bool {
        self.kind.eq_ignore_ascii_case("request")
    }

    /// A background job.
    pub fn is_job(&self) -> bool {
        self.kind.eq_ignore_ascii_case("job")
    }

    /// Mean time of one unit, when known.
    pub fn mean_ms(&self) -> Option<f64> {
        ratio(self.elapsed_ms?, self.count as f64)
    }
}

/// One normalized statement, summed over the window.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Fingerprint {
    /// 16 hex digits.
    #[serde(default, deserialize_with = "nullable")]
    pub fingerprint: String,
    /// The normalized SQL (`?` for every value).
    #[serde(default, deserialize_with = "nullable")]
    pub sql: String,
    /// Times it ran.
    #[serde(default, deserialize_with = "count")]
    pub calls: u64,
    /// Their total time.
    #[serde(default, deserialize_with = "ms")]
    pub total_ms: f64,
    /// `select`, `insert`, `update`, `delete` or `other`.
    #[serde(default, deserialize_with = "nullable")]
    pub statement: String,
    /// Tables it touches; a write's target first.
    #[serde(default, deserialize_with = "nullable")]
    pub tables: Vec<String>,
    /// Units of work that ran it.
    #[serde(default, deserialize_with = "nullable")]
    pub units: Vec<FingerprintUnit>,
    /// `app/file.rb:LINE` where it is issued, when known.
    #[serde(default, deserialize_with = "nullable")]
    pub call_sites: Vec<String>,
}

impl Fingerprint {
    /// Which statement it is, lower case.
    pub fn is(&self, statement: &str) -> bool {
        self.statement.eq_ignore_ascii_case(statement)
    }

    /// An INSERT, UPDATE or DELETE.
    pub fn is_write(&self) -> bool {
        self.is("insert") || self.is("update") || self.is("delete")
    }
}

/// A unit of work that ran a fingerprint, with its share of the calls.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FingerprintUnit {
    /// `request` or `job`.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// The unit's name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Calls from it.
    #[serde(default, deserialize_with = "count")]
    pub calls: u64,
    /// Their time.
    #[serde(default, deserialize_with = "ms")]
    pub total_ms: f64,
}

/// A detector's finding.
#[derive(Debug, Clone, Deserialize)]
pub struct Finding {
    /// `n_plus_one`, `duplicate_query`, `slow_query`, `slow_request`,
    /// `slow_job`, `slow_scan`, `bulk_write`.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// The query's fingerprint.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// The normalized SQL.
    #[serde(default)]
    pub sql: Option<String>,
    /// Queries per unit (the loop size of an N+1), when known.
    #[serde(default, deserialize_with = "opt_count")]
    pub count: Option<u64>,
    /// Units it showed in, when known.
    #[serde(default, deserialize_with = "opt_count")]
    pub occurrences: Option<u64>,
    /// `app/file.rb:LINE`.
    #[serde(default)]
    pub location: Option<String>,
    /// The fix the detector suggests.
    #[serde(default)]
    pub suggestion: Option<String>,
    /// How urgent, per the detector.
    #[serde(default = "low", deserialize_with = "priority")]
    pub priority: Priority,
    /// Its time per unit.
    #[serde(default, deserialize_with = "ms")]
    pub total_ms: f64,
    /// Its slowest query, when known.
    #[serde(default, deserialize_with = "opt_ms")]
    pub max_ms: Option<f64>,
    /// `request` or `job`.
    #[serde(default)]
    pub scope_kind: Option<String>,
    /// The unit's name.
    #[serde(default)]
    pub scope_name: Option<String>,
    /// The table the fix is about, when known.
    #[serde(default)]
    pub table: Option<String>,
    /// The column the fix is about, when known.
    #[serde(default)]
    pub column: Option<String>,
}

/// Table sizes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SchemaInfo {
    /// The tables.
    #[serde(default, deserialize_with = "nullable")]
    pub tables: Vec<TableInfo>,
}

/// A table's size.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TableInfo {
    /// Its name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Rows, when known.
    #[serde(default, deserialize_with = "opt_count")]
    pub rows: Option<u64>,
    /// Bytes on disk, when known.
    #[serde(default, deserialize_with = "opt_count")]
    pub size_bytes: Option<u64>,
}

/// An index advisor suggestion ([`crate::index::Suggestion`]).
#[derive(Debug, Clone, Deserialize)]
pub struct IndexSuggestion {
    /// `missing_foreign_key_index`, `redundant_index`, `unused_index`,
    /// `workload_index`, `over_indexed_table`.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// The table.
    #[serde(default, deserialize_with = "nullable")]
    pub table: String,
    /// Key columns.
    #[serde(default, deserialize_with = "nullable")]
    pub columns: Vec<String>,
    /// The existing or proposed index's name.
    #[serde(default)]
    pub index_name: Option<String>,
    /// The index that makes this one redundant.
    #[serde(default)]
    pub covered_by: Option<String>,
    /// The migration that makes the change.
    #[serde(default)]
    pub migration: Option<String>,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// The advisor's own statement of the costs, when given.
    #[serde(default)]
    pub trade_offs: Option<String>,
    /// How urgent.
    #[serde(default = "low", deserialize_with = "priority")]
    pub priority: Priority,
    /// Fingerprints of the workload queries it serves.
    #[serde(default, deserialize_with = "query_refs")]
    pub queries: Vec<String>,
    /// The index's (estimated) size, when known.
    #[serde(default, deserialize_with = "opt_count")]
    pub size_bytes: Option<u64>,
    /// The time of the queries it serves, per the advisor, when known.
    #[serde(default, deserialize_with = "opt_ms")]
    pub time_ms: Option<f64>,
    /// `over_indexed_table`: the indexes that can go.
    #[serde(default, deserialize_with = "nullable")]
    pub droppable: Vec<String>,
}

/// A retention check finding ([`crate::retention::Finding`]); the report
/// repeats these as given, sorted.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct GovernanceFinding {
    /// The finding kind (`erasure_gap`, `special_category_column`, ...).
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// The table.
    #[serde(default, deserialize_with = "nullable")]
    pub table: String,
    /// The column, for column-level findings.
    #[serde(default)]
    pub column: Option<String>,
    /// `erasure_gap`: the tables from the subject to this one.
    #[serde(default)]
    pub path: Option<Vec<String>>,
    /// The data category (`health:weight`, `pii:email`, ...).
    #[serde(default)]
    pub category: Option<String>,
    /// The fix.
    #[serde(default, deserialize_with = "nullable")]
    pub suggestion: String,
    /// Why.
    #[serde(default, deserialize_with = "nullable")]
    pub reason: String,
    /// How urgent.
    #[serde(default = "low", deserialize_with = "priority")]
    pub priority: Priority,
}

/// Thresholds and list lengths.
#[derive(Debug, Clone, Deserialize)]
pub struct Options {
    /// Fingerprints and tables listed ([`DEFAULT_TOP`]).
    #[serde(default = "default_top", deserialize_with = "top")]
    pub top: usize,
    /// See [`DEFAULT_SLOW_REQUEST_MS`].
    #[serde(default = "default_slow_request", deserialize_with = "slow_request")]
    pub slow_request_ms: f64,
    /// See [`DEFAULT_SLOW_JOB_MS`].
    #[serde(default = "default_slow_job", deserialize_with = "slow_job")]
    pub slow_job_ms: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            top: DEFAULT_TOP,
            slow_request_ms: DEFAULT_SLOW_REQUEST_MS,
            slow_job_ms: DEFAULT_SLOW_JOB_MS,
        }
    }
}

// ---------------------------------------------------------------- lenient decoding

fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    crate::schema::nullable(d)
}

/// A count: integer or float; `null` or negative is unknown.
fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    crate::schema::count(d)
}

fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(opt_count(d)?.unwrap_or(0))
}

/// Milliseconds (or seconds): a finite, non-negative number; else unknown.
fn opt_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let value = Option::<serde_json::Number>::deserialize(d)?;
    Ok(value
        .and_then(|n| n.as_f64())
        .filter(|f| f.is_finite() && *f >= 0.0))
}

fn ms<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(opt_ms(d)?.unwrap_or(0.0))
}

fn low() -> Priority {
    Priority::Low
}

fn priority<'de, D: Deserializer<'de>>(d: D) -> Result<Priority, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map_or(Priority::Low, |p| Priority::from_name(&p)))
}

/// The advisor's `queries`: fingerprint strings, or objects with a
/// `fingerprint`.
fn query_refs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let values = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(values
        .into_iter()
        .filter_map(|v| match v {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Object(o) => o
                .get("fingerprint")
                .and_then(|f| f.as_str())
                .map(str::to_owned),
            _ => None,
        })
        .filter(|s| !s.is_empty())
        .collect())
}

fn default_top() -> usize {
    DEFAULT_TOP
}

fn default_slow_request() -> f64 {
    DEFAULT_SLOW_REQUEST_MS
}

fn default_slow_job() -> f64 {
    DEFAULT_SLOW_JOB_MS
}

fn top<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    Ok(opt_count(d)?.map_or(DEFAULT_TOP, |n| usize::try_from(n).unwrap_or(usize::MAX)))
}

/// A threshold must be positive to mean anything; else the default.
fn slow_request<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(opt_ms(d)?
        .filter(|v| *v > 0.0)
        .unwrap_or(DEFAULT_SLOW_REQUEST_MS))
}

fn slow_job<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(opt_ms(d)?
        .filter(|v| *v > 0.0)
        .unwrap_or(DEFAULT_SLOW_JOB_MS))
}

// ------------------------------------------------------------------ output

/// The full report (see the [module docs](self#output) for the JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The app's name, as given.
    pub app: Option<String>,
    /// When the input was collected, as given.
    pub generated_at: Option<String>,
    /// The database, as given.
    pub dialect: Option<String>,
    /// Where the time goes.
    pub assessment: Assessment,
    /// Optimization recommendations, `R1..`.
    pub recommendations: Vec<Recommendation>,
    /// The deployment's analysis, with recommendations `I1..`.
    pub infrastructure: infra::Infrastructure,
    /// Data governance, with recommendations `G1..`.
    pub governance: Governance,
    /// Every recommendation once, in the order to do them.
    pub roadmap: Vec<RoadmapStep>,
}

/// Builds the report. Never fails: missing sections give empty lists and
/// unknown figures `null`.
pub fn build(input: &Input) -> Report {
    // External findings are re-derived from `external`: the same kinds in
    // `findings` would be reported twice.
    let filtered;
    let input = if input
        .findings
        .iter()
        .any(|f| external::is_external_kind(&f.kind))
    {
        let mut copy = input.clone();
        copy.findings
            .retain(|f| !external::is_external_kind(&f.kind));
        filtered = copy;
        &filtered
    } else {
        input
    };
    let analysis = input.external.as_ref().and_then(external::Analysis::of);
    let mut assessment = assessment::assess(input);
    assessment.external = external::assess(input.external.as_ref(), analysis.as_ref());
    let dialect = input.dialect.as_deref().unwrap_or_default();
    let providers = analysis
        .as_ref()
        .map(|a| infra_external::providers(a, input.window_seconds()));
    // A rate limit caps the threads of the queue its job runs on, so the
    // layout is computed with the caps rather than corrected afterwards.
    let caps = match (&analysis, &providers) {
        (Some(a), Some(p)) => infra_external::caps(a, p),
        _ => std::collections::BTreeMap::new(),
    };
    let mut infrastructure = infra::analyze_capped(
        &input.infrastructure,
        &unit_loads(input),
        input.workload.window_seconds,
        dialect,
        &caps,
    );
    let mut moves = Vec::new();
    if let (Some(a), Some(providers)) = (&analysis, providers) {
        infrastructure.external = Some(infra_external::section(a, providers));
        let dynos = input.infrastructure.worker.as_ref().and_then(|w| w.dynos);
        moves = infra_external::recommend(a, &mut infrastructure, dynos);
    }
    let mut hints = recommend::InfraHints::from_infrastructure(&infrastructure);
    for (job, queue, id) in &moves {
        hints.add_move(job, queue, id);
    }
    let external_drafts = analysis
        .as_ref()
        .map(|a| external_recs::drafts(a, &hints))
        .unwrap_or_default();
    let recommendations = recommend::recommend(input, &assessment, &hints, external_drafts);
    // The bill is cut by the caches first.
    let caches: Vec<String> = recommendations
        .iter()
        .filter(|r| r.category == "duplicate_external_call")
        .map(|r| r.id.clone())
        .collect();
    for rec in &mut infrastructure.recommendations {
        if rec.category == "external_cost" {
            rec.depends_on.extend(caches.iter().cloned());
        }
    }
    let governance = governance::govern(input);
    let roadmap = roadmap::plan(&[
        (Section::Optimization, &recommendations),
        (Section::Infrastructure, &infrastructure.recommendations),
        (Section::Governance, &governance.recommendations),
    ]);
    Report {
        schema_version: SCHEMA_VERSION,
        app: input.app.clone(),
        generated_at: input.generated_at.clone(),
        dialect: input.dialect.clone(),
        assessment,
        recommendations,
        infrastructure,
        governance,
        roadmap,
    }
}

/// The units of work as the infrastructure analysis takes them.
fn unit_loads(input: &Input) -> Vec<infra::UnitLoad> {
    input
        .workload
        .units
        .iter()
        .map(|u| infra::UnitLoad {
            kind: u.kind.clone(),
            name: u.name.clone(),
            count: u.count,
            elapsed_ms: u.elapsed_ms.unwrap_or(0.0),
            max_elapsed_ms: u.max_elapsed_ms.unwrap_or(0.0),
            queue: u.queue.clone(),
        })
        .collect()
}

/// The report as pretty JSON, from the input as JSON;
/// [`Error::InvalidInput`] when the input is malformed.
pub fn build_json(input_json: &str) -> Result<String, Error> {
    let report = build(&Input::from_json(input_json)?);
    serde_json::to_string_pretty(&report).map_err(|err| Error::InvalidInput {
        message: format!("full report: {err}"),
    })
}

/// The report rendered in `format` (`json`, `text`, `text_color`,
/// `markdown`, `html`: [`render::render`]), from the input as JSON.
pub fn render_json(input_json: &str, format: &str) -> Result<String, Error> {
    if format == "json" {
        return build_json(input_json);
    }
    let report = build(&Input::from_json(input_json)?);
    let value = serde_json::to_value(&report).map_err(|err| Error::InvalidInput {
        message: format!("full report: {err}"),
    })?;
    render::render(&value, format)
}

// ---------------------------------------------------------------- shared helpers

/// `a / b` when `b` is positive and the result finite.
fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b).filter(|r| r.is_finite())
}

/// Rounded to 2 decimals (milliseconds, counts per unit).
fn round2(v: f64) -> f64 {
    round_to(v, 100.0)
}

/// Rounded to 4 decimals (shares).
fn round4(v: f64) -> f64 {
    round_to(v, 10_000.0)
}

/// A value too large to scale stays as it is (it has no decimals to lose).
fn round_to(v: f64, scale: f64) -> f64 {
    let scaled = (v * scale).round() / scale;
    if scaled.is_finite() {
        scaled
    } else {
        v
    }
}

/// `12.5 ms`, `1,240 ms`, `3.2 s`: milliseconds for people.
fn fmt_ms(v: f64) -> String {
    if v >= 1e15 {
        // Absurd but possible input: keep the sentence readable.
        format!("{:.2e} s", v / 1000.0)
    } else if v >= 10_000.0 {
        format!("{:.1} s", v / 1000.0)
    } else if v >= 100.0 {
        format!("{} ms", words::count(v.round() as u64))
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

/// `1,240`
fn fmt_count(n: u64) -> String {
    words::count(n)
}

/// `3.5`, `12`, `1,240`: a figure with at most one decimal.
fn fmt_num(v: f64) -> String {
    if v >= 100.0 || (v.fract() == 0.0 && v.abs() < 1e15) {
        fmt_count(v.round().max(0.0) as u64)
    } else {
        format!("{v:.1}")
    }
}

/// `37%`
fn fmt_pct(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// `45 s`, `12 minutes`, `3.5 hours`, `2.0 days`.
fn fmt_duration(seconds: f64) -> String {
    if seconds < 120.0 {
        format!("{} s", fmt_num(seconds))
    } else if seconds < 7200.0 {
        format!(
            "{} minutes",
            fmt_num((seconds / 60.0 * 10.0).round() / 10.0)
        )
    } else if seconds < 172_800.0 {
        format!(
            "{} hours",
            fmt_num((seconds / 3600.0 * 10.0).round() / 10.0)
        )
    } else {
        format!(
            "{} days",
            fmt_num((seconds / 86_400.0 * 10.0).round() / 10.0)
        )
    }
}

/// `1 query`, `2 queries`.
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", fmt_count(n), if n == 1 { one } else { many })
}

/// `a`, `a and b`, `a, b and c`.
fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// SQL longer than this many characters is cut in sentences (the full SQL
/// stays in the assessment).
const SQL_IN_TEXT: usize = 160;

/// The SQL on one line, cut at [`SQL_IN_TEXT`] characters.
fn sql_excerpt(sql: &str) -> String {
    let line: String = sql
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match line.char_indices().nth(SQL_IN_TEXT) {
        Some((cut, _)) => format!("{}...", line.get(..cut).unwrap_or_default()),
        None => line,
    }
}

/// `CompletedWorkout` from `completed_workouts` (ActiveSupport's rules, via
/// the plural), or `None` when no usual singular gives the name back.
fn model_name(table: &str) -> Option<String> {
    let bare = words::bare(table);
    let split = bare.rfind('_').map_or(0, |i| i + 1);
    let (head, last) = (
        bare.get(..split).unwrap_or_default(),
        bare.get(split..).unwrap_or_default(),
    );
    let strip = |suffix: &str, add: &str| {
        last.strip_suffix(suffix)
            .filter(|s| !s.is_empty())
            .map(|s| format!("{s}{add}"))
    };
    // `-ses` is `-sis` only after Rails' own stems (diagnoses, analyses);
    // elsewhere it is `-s` + `es` (addresses) or `-se` + `s` (databases).
    let sis = ["analy", "diagno", "progno", "synop", "the", "parenthe"]
        .iter()
        .any(|stem| last.ends_with(&format!("{stem}ses")));
    [
        (last == "people").then(|| "person".to_owned()),
        strip("ies", "y"),
        strip("ves", "f"),
        strip("ses", "sis").filter(|_| sis),
        strip("es", ""),
        strip("s", ""),
        Some(last.to_owned()),
    ]
    .into_iter()
    .flatten()
    .map(|s| format!("{head}{s}"))
    .find(|s| crate::index::inflect::pluralize(s) == bare)
    .map(|singular| words::camelize(&singular))
}

/// The priority of a saving of `ms` per unit of work, on the detectors'
/// scale: 500 ms critical, 100 ms high, 20 ms medium (no repeat count).
fn priority_of_ms(ms: f64) -> Priority {
    Priority::of(ms, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names() {
        assert_eq!(
            model_name("completed_workouts").as_deref(),
            Some("CompletedWorkout")
        );
        assert_eq!(model_name("injuries").as_deref(), Some("Injury"));
        assert_eq!(model_name("public.people").as_deref(), Some("Person"));
        assert_eq!(model_name("addresses").as_deref(), Some("Address"));
        assert_eq!(model_name("databases").as_deref(), Some("Database"));
        assert_eq!(model_name("diagnoses").as_deref(), Some("Diagnosis"));
    }

    #[test]
    fn figures_for_people() {
        assert_eq!(fmt_ms(8.5), "8.50 ms");
        assert_eq!(fmt_ms(2400.0), "2,400 ms");
        assert_eq!(fmt_ms(12_500.0), "12.5 s");
        assert_eq!(fmt_duration(45.0), "45 s");
        assert_eq!(fmt_duration(900.0), "15 minutes");
        assert_eq!(fmt_duration(86_400.0), "24 hours");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
        assert_eq!(sql_excerpt("SELECT\n1"), "SELECT 1");
    }
}
