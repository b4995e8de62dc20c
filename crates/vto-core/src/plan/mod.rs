//! PostgreSQL plan analysis: what an `EXPLAIN (FORMAT JSON)` says about a
//! query, and what to do about it.
//!
//! [`analyze`] reads the output of `EXPLAIN (FORMAT JSON)`, with or without
//! `ANALYZE`, `BUFFERS`, `SETTINGS` or `VERBOSE`: the JSON array PostgreSQL
//! prints (`[{"Plan": {...}, "Planning Time": ..., "Execution Time": ...}]`)
//! or its one object alone. Only the first statement of the array is read
//! (PostgreSQL prints more than one only for queries rewritten by rules);
//! unknown fields are ignored, and known fields of the wrong type are an
//! error. It returns a [`PlanReport`]: the plan's cost and timings, the
//! indexes it uses, its sequential scans, and [`Finding`]s, each with a
//! one-sentence `detail` saying what to do. [`compare`] tells what changed
//! between two plans of one query (before and after an index, say).
//!
//! ```
//! use vto_core::plan::{analyze, Finding, Options};
//!
//! let explain = r#"[{"Plan": {
//!     "Node Type": "Seq Scan", "Relation Name": "completed_workouts",
//!     "Alias": "completed_workouts", "Startup Cost": 0.0, "Total Cost": 4562.0,
//!     "Plan Rows": 100, "Actual Rows": 100, "Actual Loops": 1,
//!     "Filter": "(user_id = 42)", "Rows Removed by Filter": 199900},
//!   "Planning Time": 0.1, "Execution Time": 9.5}]"#;
//! let report = analyze(explain, &Options::default())?;
//! assert!(report.analyzed);
//! assert_eq!(report.seq_scans[0].filter.as_deref(), Some("(user_id = ?)"));
//! assert!(matches!(
//!     &report.findings[0],
//!     Finding::SeqScanOnLargeTable { relation: Some(table), rows: 200_000, columns, .. }
//!         if table == "completed_workouts" && columns == &["user_id"]
//! ));
//! # Ok::<(), vto_core::Error>(())
//! ```
//!
//! # Row counts in PostgreSQL's JSON, and how the report uses them
//!
//! - `Plan Rows` is the planner's estimate **per execution** of the node
//!   (per loop). Under a Gather or Gather Merge, a parallel-aware node's
//!   `Plan Rows` is additionally **per process**: the total divided by the
//!   planner's *parallel divisor*, which is `Workers Planned` plus the
//!   leader's share `1 - 0.3 * workers` when that is positive and
//!   `parallel_leader_participation` is on — not `workers + 1` (with 2
//!   workers the divisor is 2.4, so a per-process 83 is a total of 199).
//! - `Actual Rows` and `Rows Removed by Filter` are **averages per loop**;
//!   for a parallel node every participating process is one loop. Totals are
//!   the average times `Actual Loops`.
//!
//! # Literal values
//!
//! Plan expressions contain the query's literals (`(user_id = 42)`). No
//! field of the report carries one: `filter` is the filter text normalized
//! by [`crate::sql::normalize`] (every literal replaced by `?`), and
//! `detail`s name tables, aliases, indexes and columns only. The report is
//! therefore safe to log; the EXPLAIN text given to [`analyze`] is not.
//!
//! # Limits
//!
//! Input over [`MAX_PLAN_BYTES`], plans nested deeper than [`MAX_DEPTH`]
//! levels or with more than [`MAX_NODES`] nodes are refused with
//! [`Error::InvalidInput`], as is anything that is not EXPLAIN JSON. No
//! input makes the analysis panic or recurse without bound. Decoding a plan
//! takes a few kB of stack per level, so a plan more than about 20 levels
//! deep is analyzed on a short-lived thread with a 32 MiB stack (reserved,
//! committed as used): callers on small stacks, such as Ruby threads, are
//! safe at any accepted depth.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;

mod columns;
mod parse;
mod rules;

/// The largest EXPLAIN JSON accepted, in bytes: 16 MiB.
pub const MAX_PLAN_BYTES: usize = 16 << 20;

/// The deepest plan accepted, in levels of `Plans` (the root is level 1).
pub const MAX_DEPTH: usize = 200;

/// The most plan nodes accepted in one plan.
pub const MAX_NODES: usize = 100_000;

/// The most `row_estimate_miss` findings in one report (the worst ones).
pub const MAX_ESTIMATE_MISSES: usize = 5;

/// What counts as large, misestimated or looped too often.
///
/// As JSON (every field optional, defaults shown; unknown fields are an
/// error, so a misspelt option does not pass unnoticed):
/// `{"large_table_rows": 10000, "misestimate_factor": 10, "many_loops": 1000,
/// "table_rows": {"completed_workouts": 50000}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// A table with at least this many rows is large (`seq_scan_on_large_table`).
    pub large_table_rows: u64,
    /// Actual rows off from the estimate by at least this factor, either way,
    /// are a `row_estimate_miss`. At least 1.
    pub misestimate_factor: f64,
    /// An inner side of a Nested Loop executed at least this many times is a
    /// `nested_loop_many_loops`.
    pub many_loops: u64,
    /// Row counts of tables, by name as the plan's `Relation Name` shows it
    /// (or `schema.name`, which is looked up first when the plan has a
    /// `Schema`, as `VERBOSE` plans do). When given, they decide whether a
    /// table is large; `pg_class.reltuples` is a good source.
    pub table_rows: BTreeMap<String, u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            large_table_rows: 10_000,
            misestimate_factor: 10.0,
            many_loops: 1_000,
            table_rows: BTreeMap::new(),
        }
    }
}

impl Options {
    /// Decodes options from JSON text (empty text means the defaults);
    /// [`Error::InvalidInput`] when it is not an object of this shape or
    /// `misestimate_factor` is below 1.
    pub fn from_json(json: &str) -> Result<Options, Error> {
        let invalid = |message: String| Error::InvalidInput {
            message: format!("plan analysis options JSON: {message}"),
        };
        let trimmed = json.trim();
        if trimmed.is_empty() {
            return Ok(Options::default());
        }
        // serde would also take a struct from an array, by position.
        if !trimmed.starts_with('{') {
            return Err(invalid("expected an object at the top level".to_owned()));
        }
        let options: Options =
            serde_json::from_str(trimmed).map_err(|err| invalid(err.to_string()))?;
        options.validate()?;
        Ok(options)
    }

    fn validate(&self) -> Result<(), Error> {
        if !(self.misestimate_factor.is_finite() && self.misestimate_factor >= 1.0) {
            return Err(Error::InvalidInput {
                message: format!(
                    "plan analysis options: misestimate_factor must be a number of at least 1, \
                     not {}",
                    self.misestimate_factor
                ),
            });
        }
        Ok(())
    }
}

/// What the analysis found in one plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanReport {
    /// The root node's `Total Cost`, in the planner's cost units.
    pub total_cost: f64,
    /// The root node's `Startup Cost`.
    pub startup_cost: f64,
    /// The root node's `Plan Rows`: the rows the planner expected the query to return.
    pub plan_rows: u64,
    /// The plan came from `EXPLAIN ANALYZE` (its root has `Actual Loops`):
    /// the rules that need actual rows ran.
    pub analyzed: bool,
    /// `Execution Time`, in milliseconds (ANALYZE only).
    pub execution_ms: Option<f64>,
    /// `Planning Time`, in milliseconds (ANALYZE, or `SUMMARY` on).
    pub planning_ms: Option<f64>,
    /// The rows the query returned (ANALYZE only).
    pub actual_rows: Option<u64>,
    /// The `Index Name` of every Index Scan, Index Only Scan and Bitmap
    /// Index Scan, without repeats, in plan order (depth first, parents
    /// before children, children in the order PostgreSQL lists them).
    pub indexes_used: Vec<String>,
    /// Every sequential scan (`Seq Scan` nodes, parallel or not), in plan order.
    pub seq_scans: Vec<SeqScan>,
    /// Plan nodes in all.
    pub nodes: u64,
    /// What to act on: `seq_scan_on_large_table` findings in plan order,
    /// then `row_estimate_miss` (worst first, at most
    /// [`MAX_ESTIMATE_MISSES`]), then `sort_spill` and `hash_spill` in plan
    /// order, then `nested_loop_many_loops` in plan order.
    pub findings: Vec<Finding>,
}

/// One sequential scan of the plan.
///
/// `filter` is normalized: literals are replaced by `?`. Callers should
/// still treat it like SQL text (the query's shape, no values), and must
/// never log the raw EXPLAIN text the report was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeqScan {
    /// `Relation Name`: the table scanned.
    pub relation: Option<String>,
    /// `Alias`: the name the query gives the table.
    pub alias: Option<String>,
    /// A parallel scan (`Parallel Aware`: each process reads part of the table).
    pub parallel: bool,
    /// `Workers Planned` of the Gather above a parallel scan.
    pub workers_planned: Option<u64>,
    /// The planner's estimate of the rows the scan returns per execution,
    /// after its filter. For a parallel scan, the total over all processes:
    /// `Plan Rows` (per process) times the parallel divisor (see the
    /// module documentation), rounded.
    pub plan_rows: u64,
    /// Rows returned in all, over all loops (`Actual Rows` x `Actual
    /// Loops`); ANALYZE only.
    pub actual_rows: Option<u64>,
    /// `Actual Loops`: executions (processes, for a parallel scan); ANALYZE only.
    pub loops: Option<u64>,
    /// The `Filter`, normalized (literals replaced by `?`), when it has one.
    pub filter: Option<String>,
    /// The columns the filter reads, first use first.
    pub filter_columns: Vec<String>,
    /// Rows the filter discarded in all, over all loops (`Rows Removed by
    /// Filter` x `Actual Loops`); ANALYZE with a filter only.
    pub rows_removed_by_filter: Option<u64>,
}

/// Where the row count of a `seq_scan_on_large_table` finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowsSource {
    /// [`Options::table_rows`].
    TableRows,
    /// ANALYZE: the rows the scan read, kept plus removed by the filter, per
    /// execution (over all processes for a parallel scan).
    Actual,
    /// The planner's estimate of the rows the scan returns after its filter:
    /// a lower bound of the table's size. Plain EXPLAIN without `table_rows`
    /// can only find the scans whose filter keeps many rows.
    Estimate,
}

/// Which way a row estimate missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// More rows than estimated: the usual cause of a bad join choice
    /// (nested loops over many rows, hashes that spill).
    Under,
    /// Fewer rows than estimated.
    Over,
}

/// One thing to act on, tagged by `kind` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// A Seq Scan with a `Filter` over a table of at least
    /// [`Options::large_table_rows`] rows: an index on the filtered columns
    /// would read only the rows kept. A Seq Scan without a filter reads the
    /// whole table on purpose and is not a finding. The table's size is
    /// [`Options::table_rows`] when it names the table, else (ANALYZE) the
    /// rows the scan read per execution, kept plus removed by the filter,
    /// else the planner's estimate of the rows kept (see [`RowsSource`]).
    SeqScanOnLargeTable {
        /// The table scanned.
        relation: Option<String>,
        /// The table's alias in the query.
        alias: Option<String>,
        /// The table's row count as judged (see `rows_source`).
        rows: u64,
        /// Where `rows` comes from.
        rows_source: RowsSource,
        /// The columns of the filter.
        columns: Vec<String>,
        /// What to do, in one sentence.
        detail: String,
    },
    /// ANALYZE only: a node whose actual rows per loop differ from its
    /// estimate (`Plan Rows`) by at least [`Options::misestimate_factor`],
    /// either way. Ignored: nodes never executed (`Actual Loops` 0), nodes
    /// where both counts are below 10, BitmapAnd/BitmapOr (which always
    /// report 0 rows) and ModifyTable nodes, a node that only passes its one
    /// child's rows on (a Hash, Sort or Materialize with the same counts as
    /// its child: the child is reported), and fewer rows than estimated
    /// below a node that stops reading early by design (a Limit; the inner
    /// side of a Nested Loop semi or anti join; the sides of a Merge Join; a
    /// SubPlan), unless a Sort, Hash or hashed or plain Aggregate in between
    /// reads all of its input. At most [`MAX_ESTIMATE_MISSES`], worst first.
    RowEstimateMiss {
        /// The node's `Node Type`.
        node: String,
        /// The table, for a scan node.
        relation: Option<String>,
        /// The estimate: `Plan Rows` (per loop, per process under a Gather).
        plan_rows: u64,
        /// `Actual Rows`: the average per loop.
        actual_rows: u64,
        /// The larger of the two over the smaller (each at least 1), to one decimal.
        factor: f64,
        /// Which way the estimate missed.
        direction: Direction,
        /// What to do, in one sentence.
        detail: String,
    },
    /// ANALYZE only: a Sort or Incremental Sort that spilled to disk
    /// (`Sort Space Type` `Disk` or a `Sort Method` with `external`, in the
    /// node or any of its `Workers`).
    SortSpill {
        /// `Sort` or `Incremental Sort`.
        node: String,
        /// `Sort Method`, e.g. `external merge`.
        method: Option<String>,
        /// Disk used, in kB (summed over the processes that report it).
        disk_kb: u64,
        /// The columns of the sort key.
        columns: Vec<String>,
        /// What to do, in one sentence.
        detail: String,
    },
    /// ANALYZE only: a Hash with `Hash Batches` above 1 (the hash table did
    /// not fit in `work_mem` x `hash_mem_multiplier` and was split into
    /// batches written to disk), or a hashed Aggregate with `HashAgg
    /// Batches` above 1 or any `Disk Usage` (PostgreSQL 13+), reported as
    /// node `HashAggregate`.
    HashSpill {
        /// `Hash` or `HashAggregate`.
        node: String,
        /// The table hashed, when the Hash reads a scan directly.
        relation: Option<String>,
        /// `Hash Batches` or `HashAgg Batches`.
        batches: u64,
        /// `Original Hash Batches`: what the planner planned for.
        original_batches: Option<u64>,
        /// `Peak Memory Usage` in kB.
        peak_memory_kb: Option<u64>,
        /// `Disk Usage` in kB (hashed Aggregate).
        disk_kb: Option<u64>,
        /// What to do, in one sentence.
        detail: String,
    },
    /// ANALYZE only: the inner side of a Nested Loop executed at least
    /// [`Options::many_loops`] times (`Actual Loops`), once per outer row. A
    /// Memoize or Materialize inner side is looked through: its child's
    /// loops are the executions that did work (cache misses, or the one
    /// materializing run).
    NestedLoopManyLoops {
        /// The inner node's `Node Type`.
        node: String,
        /// The inner node's table, when it is a scan.
        relation: Option<String>,
        /// The inner node's index, when it is an index scan.
        index: Option<String>,
        /// `Actual Loops` of the inner node.
        loops: u64,
        /// The inner table's columns in the join and filter conditions.
        columns: Vec<String>,
        /// What to do, in one sentence.
        detail: String,
    },
}

impl Finding {
    /// The `kind` as in JSON: `seq_scan_on_large_table`, `row_estimate_miss`,
    /// `sort_spill`, `hash_spill` or `nested_loop_many_loops`.
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::SeqScanOnLargeTable { .. } => "seq_scan_on_large_table",
            Finding::RowEstimateMiss { .. } => "row_estimate_miss",
            Finding::SortSpill { .. } => "sort_spill",
            Finding::HashSpill { .. } => "hash_spill",
            Finding::NestedLoopManyLoops { .. } => "nested_loop_many_loops",
        }
    }

    /// The one-sentence advice.
    pub fn detail(&self) -> &str {
        match self {
            Finding::SeqScanOnLargeTable { detail, .. }
            | Finding::RowEstimateMiss { detail, .. }
            | Finding::SortSpill { detail, .. }
            | Finding::HashSpill { detail, .. }
            | Finding::NestedLoopManyLoops { detail, .. } => detail,
        }
    }
}

/// Two plans of one query compared, as [`compare`] makes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The first plan's total cost.
    pub cost_before: f64,
    /// The second plan's total cost.
    pub cost_after: f64,
    /// `(cost_before - cost_after) / cost_before`: the fraction of the cost
    /// saved (0.9 is 90% cheaper), negative when the second plan costs
    /// more, 0 when the first costs nothing.
    pub improvement: f64,
    /// Indexes the second plan uses and the first does not, in the second
    /// plan's order.
    pub uses: Vec<String>,
    /// The first plan's `Execution Time` (ANALYZE only).
    pub execution_ms_before: Option<f64>,
    /// The second plan's `Execution Time` (ANALYZE only).
    pub execution_ms_after: Option<f64>,
}

/// Analyzes one plan: `json` is the output of `EXPLAIN (FORMAT JSON)` (see
/// the module documentation). [`Error::InvalidInput`] when it is not EXPLAIN
/// JSON or exceeds the limits.
pub fn analyze(json: &str, options: &Options) -> Result<PlanReport, Error> {
    options.validate()?;
    let nesting = parse::precheck(json)?;
    if nesting <= INLINE_JSON_DEPTH {
        return decode_and_run(json, options);
    }
    // Decoding takes a few kB of stack per level (more in debug builds): a
    // deep plan is analyzed on a thread of its own with a stack for the
    // deepest one accepted, whatever the caller's (Ruby threads have 1 MiB).
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("vto-plan".to_owned())
            .stack_size(DEEP_PLAN_STACK_BYTES)
            .spawn_scoped(scope, || decode_and_run(json, options));
        match worker {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(Error::InvalidInput {
                    message: "EXPLAIN JSON: the plan analysis failed unexpectedly".to_owned(),
                })
            }),
            Err(err) => Err(Error::InvalidInput {
                message: format!(
                    "EXPLAIN JSON: the plan nests {nesting} arrays and objects deep, and the \
                     thread to analyze it could not be started: {err}"
                ),
            }),
        }
    })
}

/// JSON nesting up to which a plan is analyzed on the caller's thread
/// (about 23 plan levels, a few hundred kB of stack at most).
const INLINE_JSON_DEPTH: usize = 48;

/// The stack of the thread that analyzes deeper plans.
const DEEP_PLAN_STACK_BYTES: usize = 32 << 20;

fn decode_and_run(json: &str, options: &Options) -> Result<PlanReport, Error> {
    let statement = parse::decode(json)?;
    rules::run(&statement, options)
}

/// [`analyze`] from JSON text to JSON text: what the Ruby binding calls.
/// `options_json` is an [`Options`] object (`"{}"` or empty for the
/// defaults); the result is a [`PlanReport`] as compact JSON.
pub fn analyze_json(plan_json: &str, options_json: &str) -> Result<String, Error> {
    let options = Options::from_json(options_json)?;
    to_json(&analyze(plan_json, &options)?)
}

/// Compares two reports of one query's plans: the cost saved and the
/// indexes the second uses that the first does not. A pure function.
pub fn compare(before: &PlanReport, after: &PlanReport) -> Comparison {
    let improvement = if before.total_cost > 0.0 {
        (before.total_cost - after.total_cost) / before.total_cost
    } else {
        0.0
    };
    let uses = after
        .indexes_used
        .iter()
        .filter(|name| !before.indexes_used.contains(name))
        .cloned()
        .collect();
    Comparison {
        cost_before: before.total_cost,
        cost_after: after.total_cost,
        improvement,
        uses,
        execution_ms_before: before.execution_ms,
        execution_ms_after: after.execution_ms,
    }
}

/// [`compare`] from two EXPLAIN JSON texts (analyzed with the default
/// [`Options`]) to a [`Comparison`] as compact JSON: what the Ruby binding
/// calls. The error says which of the two plans is invalid.
pub fn compare_json(before_json: &str, after_json: &str) -> Result<String, Error> {
    let which = |side: &str, err: Error| match err {
        Error::InvalidInput { message } => Error::InvalidInput {
            message: format!("{side} plan: {message}"),
        },
        other => other,
    };
    let options = Options::default();
    let before = analyze(before_json, &options).map_err(|err| which("before", err))?;
    let after = analyze(after_json, &options).map_err(|err| which("after", err))?;
    to_json(&compare(&before, &after))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|err| Error::InvalidInput {
        message: format!("plan report could not be written as JSON: {err}"),
    })
}
