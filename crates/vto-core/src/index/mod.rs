//! The index advisor: analyses of a [`Schema`] that produce [`Suggestion`]s,
//! each with a copy-pasteable Rails migration and the SQL it runs.
//!
//! - `missing_foreign_key_index`: a foreign key (declared, from a
//!   `belongs_to` association, or by Rails naming conventions) that no index
//!   leads with;
//! - `redundant_index`: an exact duplicate of another index, or a btree whose
//!   keys are a left prefix of another btree's (type-aware: a GIN, GiST,
//!   BRIN, hash, trigram or expression index is never covered by a btree on
//!   the plain column);
//! - `unused_index`: never scanned according to PostgreSQL's statistics;
//! - `workload_index`: composite indexes for the recorded workload's queries
//!   (equality columns, then one range or the sort), merged so one index
//!   serves several queries (the rules: [`workload`]);
//! - `over_indexed_table`: a table with many indexes that the recorded
//!   workload mostly writes to, with the indexes no recorded read could use
//!   (the rules: [`write_cost`]).
//!
//! New indexes (`missing_foreign_key_index`, `workload_index`) carry an
//! estimate of their size in `size_bytes` when the table's row count is
//! known (the formula: [`size`]).
//!
//! ```
//! use vto_core::index::{advise, Options, SuggestionKind};
//! use vto_core::schema::Schema;
//!
//! let schema = Schema::from_json(r#"{"dialect": "postgresql", "tables": [
//!   {"name": "users", "rows": 5000, "primary_key": ["id"],
//!    "columns": [{"name": "id", "type": "bigint"}]},
//!   {"name": "completed_workouts", "rows": 250000, "primary_key": ["id"],
//!    "columns": [{"name": "id", "type": "bigint"}, {"name": "user_id", "type": "bigint"}],
//!    "foreign_keys": [{"name": "fk_rails_1", "columns": ["user_id"], "to_table": "users",
//!                      "on_delete": "cascade"}]}
//! ]}"#)?;
//! let suggestions = advise(&schema, &Options::default());
//! assert_eq!(suggestions.len(), 1);
//! let s = &suggestions[0];
//! assert_eq!(s.kind, SuggestionKind::MissingForeignKeyIndex);
//! assert_eq!(s.index_name, "index_completed_workouts_on_user_id");
//! assert_eq!(s.priority.as_str(), "critical"); // 250k rows, and ON DELETE CASCADE
//! assert!(s.migration.contains("add_index :completed_workouts, :user_id, algorithm: :concurrently"));
//! assert_eq!(s.sql, "CREATE INDEX CONCURRENTLY index_completed_workouts_on_user_id ON completed_workouts (user_id);");
//! # Ok::<(), vto_core::Error>(())
//! ```
//!
//! # Workload indexes
//!
//! With a recorded workload in the options, the advisor also proposes the
//! indexes its queries need:
//!
//! ```
//! use vto_core::index::advise_json_report;
//!
//! let schema = r#"{"dialect": "postgresql", "tables": [
//!   {"name": "completed_workouts", "rows": 250000, "primary_key": ["id"],
//!    "columns": [{"name": "id", "type": "bigint"}, {"name": "user_id", "type": "bigint"},
//!                {"name": "created_at", "type": "timestamp"}],
//!    "indexes": [{"name": "index_completed_workouts_on_user_id", "keys": [{"column": "user_id"}]}]}
//! ]}"#;
//! let options = r#"{"kinds": ["workload_index"], "workload": [
//!   {"fingerprint": "65480462680d0787", "count": 1200, "total_ms": 5400.5,
//!    "sql": "SELECT * FROM completed_workouts WHERE user_id = ? AND created_at >= ? ORDER BY created_at DESC LIMIT ?"}]}"#;
//! let report: serde_json::Value = serde_json::from_str(&advise_json_report(schema, options)?).unwrap();
//! let s = &report["suggestions"][0];
//! assert_eq!(s["kind"], "workload_index");
//! assert_eq!(s["columns"], serde_json::json!(["user_id", "created_at"]));
//! assert_eq!(s["priority"], "high"); // 5.4 s of queries served
//! assert_eq!(s["time_ms"], 5400.5);
//! assert_eq!(s["queries"][0]["fingerprint"], "65480462680d0787");
//! assert_eq!(report["workload"]["queries"], 1);
//! # Ok::<(), vto_core::Error>(())
//! ```
//!
//! The rules, exactly, are in [`workload`]; the thresholds are its constants.

pub(crate) mod foreign_keys;
pub(crate) mod inflect;
mod redundant;
pub(crate) mod render;
pub mod size;
pub mod workload;
pub mod write_cost;

use std::borrow::Cow;
use std::collections::HashSet;

use serde::{Deserialize, Deserializer, Serialize};

use crate::detect::Priority;
use crate::schema::{Index, OnDelete, Order, Schema, Table};
use crate::sql::token::{TokenKind, Tokenizer};
use crate::{Dialect, Error};

pub use render::{rails_index_name, MAX_INDEX_NAME_BYTES};
pub use workload::{
    WorkloadQuery, WorkloadSummary, CRITICAL_MS, HIGH_MS, LARGE_TABLE_ROWS, MAX_INDEX_COLUMNS,
    MEDIUM_MS,
};
pub use write_cost::{
    WriteLoad, DEFAULT_MIN_WRITES, DEFAULT_OVER_INDEX_MIN, DEFAULT_WRITE_SHARE_MIN,
};

/// Tables with fewer rows than this (when known) get no workload index
/// unless the options say otherwise: a sequential scan of them is fine.
pub const DEFAULT_MIN_ROWS: u64 = 1000;

/// The ActiveRecord migration version written when the options give none.
pub const DEFAULT_MIGRATION_VERSION: &str = "6.1";

/// An index at least this large (100 MiB) raises a redundant or unused
/// index's priority one level.
pub const LARGE_INDEX_BYTES: u64 = 100 * 1024 * 1024;

/// What a suggestion is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    /// A foreign key no index leads with: add one.
    MissingForeignKeyIndex,
    /// An index another index makes unnecessary: drop it.
    RedundantIndex,
    /// An index never scanned: consider dropping it.
    UnusedIndex,
    /// An index the recorded workload's queries need: add it.
    WorkloadIndex,
    /// A table with many indexes that the workload mostly writes to: drop
    /// the indexes no recorded read could use, or review the write path.
    OverIndexedTable,
}

impl SuggestionKind {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionKind::MissingForeignKeyIndex => "missing_foreign_key_index",
            SuggestionKind::RedundantIndex => "redundant_index",
            SuggestionKind::UnusedIndex => "unused_index",
            SuggestionKind::WorkloadIndex => "workload_index",
            SuggestionKind::OverIndexedTable => "over_indexed_table",
        }
    }

    /// Every kind, in rule order.
    pub const ALL: [SuggestionKind; 5] = [
        SuggestionKind::MissingForeignKeyIndex,
        SuggestionKind::RedundantIndex,
        SuggestionKind::UnusedIndex,
        SuggestionKind::WorkloadIndex,
        SuggestionKind::OverIndexedTable,
    ];
}

/// Where a foreign key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// A `FOREIGN KEY` constraint in the database.
    Declared,
    /// A `belongs_to` association of a model.
    Association,
    /// Rails naming: a `<name>_id` integer or uuid column and a table named
    /// as the plural of `<name>`.
    Convention,
    /// A `<name>_id` column with a sibling `<name>_type` string column: a
    /// polymorphic `belongs_to`.
    Polymorphic,
}

impl Via {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Declared => "declared",
            Via::Association => "association",
            Via::Convention => "convention",
            Via::Polymorphic => "polymorphic",
        }
    }
}

/// Options of [`advise`], as JSON: `{"migration_version": "6.1", "kinds":
/// ["missing_foreign_key_index"], "workload": [{"fingerprint": "...", "sql":
/// "SELECT ...", "count": 1200, "total_ms": 5400.5, "locations": [...],
/// "sources": [...], "n_plus_one": false}], "min_total_ms": 0, "min_rows":
/// 1000, "over_index_min": 6, "write_share_min": 0.5, "min_writes": 100}`.
/// Every field is optional (`null` means the default); unknown fields are
/// ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// The `ActiveRecord::Migration[...]` version of generated migrations:
    /// `<major>.<minor>` ([`DEFAULT_MIGRATION_VERSION`] when missing).
    #[serde(default = "default_version", deserialize_with = "version")]
    pub migration_version: String,
    /// Only these kinds (all when `None`).
    #[serde(default)]
    pub kinds: Option<Vec<SuggestionKind>>,
    /// The recorded workload, one entry per query fingerprint (none: no
    /// `workload_index` suggestions).
    #[serde(default, deserialize_with = "crate::schema::nullable")]
    pub workload: Vec<WorkloadQuery>,
    /// A proposed index whose queries took less than this in total (ms) is
    /// not suggested (0 when missing).
    #[serde(default, deserialize_with = "workload::lenient_ms")]
    pub min_total_ms: f64,
    /// Tables with a known row count under this get no workload index
    /// ([`DEFAULT_MIN_ROWS`] when missing or `null`).
    #[serde(default = "default_min_rows", deserialize_with = "min_rows")]
    pub min_rows: u64,
    /// `over_indexed_table`: indexes besides the primary key from which a
    /// table can be flagged ([`DEFAULT_OVER_INDEX_MIN`]).
    #[serde(
        default = "default_over_index_min",
        deserialize_with = "over_index_min"
    )]
    pub over_index_min: usize,
    /// `over_indexed_table`: the least share of write calls, from 0 to 1
    /// ([`DEFAULT_WRITE_SHARE_MIN`]).
    #[serde(
        default = "default_write_share_min",
        deserialize_with = "write_share_min"
    )]
    pub write_share_min: f64,
    /// `over_indexed_table`: the least number of write calls recorded
    /// ([`DEFAULT_MIN_WRITES`]).
    #[serde(default = "default_min_writes", deserialize_with = "min_writes")]
    pub min_writes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            migration_version: default_version(),
            kinds: None,
            workload: Vec::new(),
            min_total_ms: 0.0,
            min_rows: DEFAULT_MIN_ROWS,
            over_index_min: DEFAULT_OVER_INDEX_MIN,
            write_share_min: DEFAULT_WRITE_SHARE_MIN,
            min_writes: DEFAULT_MIN_WRITES,
        }
    }
}

fn default_min_rows() -> u64 {
    DEFAULT_MIN_ROWS
}

fn min_rows<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(crate::schema::count(d)?.unwrap_or(DEFAULT_MIN_ROWS))
}

fn default_over_index_min() -> usize {
    DEFAULT_OVER_INDEX_MIN
}

fn over_index_min<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    Ok(
        crate::schema::count(d)?.map_or(DEFAULT_OVER_INDEX_MIN, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        }),
    )
}

fn default_write_share_min() -> f64 {
    DEFAULT_WRITE_SHARE_MIN
}

/// A fraction from 0 to 1; `null` is the default.
fn write_share_min<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(DEFAULT_WRITE_SHARE_MIN),
        Some(n) => match n.as_f64() {
            Some(f) if (0.0..=1.0).contains(&f) => Ok(f),
            _ => Err(serde::de::Error::custom(format!(
                "write_share_min must be a fraction from 0 to 1 (0.5 for half the calls), got {n}"
            ))),
        },
    }
}

fn default_min_writes() -> u64 {
    DEFAULT_MIN_WRITES
}

fn min_writes<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(crate::schema::count(d)?.unwrap_or(DEFAULT_MIN_WRITES))
}

impl Options {
    /// Decodes options from JSON text (an empty string means the defaults);
    /// [`Error::InvalidInput`] when malformed, when a kind is unknown, or
    /// when the migration version is not `<major>.<minor>`.
    pub fn from_json(json: &str) -> Result<Options, Error> {
        if json.trim().is_empty() {
            return Ok(Options::default());
        }
        let invalid = |message: String| Error::InvalidInput {
            message: format!("index advisor options JSON: {message}"),
        };
        if !json.trim_start().starts_with('{') {
            return Err(invalid(
                "expected an object ({\"migration_version\": \"6.1\", \"kinds\": [...]})"
                    .to_owned(),
            ));
        }
        serde_json::from_str(json).map_err(|e| invalid(e.to_string()))
    }

    fn wants(&self, kind: SuggestionKind) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|kinds| kinds.contains(&kind))
    }

    /// The migration version if it is `<major>.<minor>`, else the default
    /// (the version is written into Ruby code).
    fn version(&self) -> &str {
        if valid_version(&self.migration_version) {
            &self.migration_version
        } else {
            DEFAULT_MIGRATION_VERSION
        }
    }
}

fn default_version() -> String {
    DEFAULT_MIGRATION_VERSION.to_owned()
}

fn valid_version(v: &str) -> bool {
    let mut parts = v.split('.');
    let digits = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    digits(parts.next()) && digits(parts.next()) && parts.next().is_none()
}

fn version<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(default_version()),
        Some(serde_json::Value::String(s)) if valid_version(&s) => Ok(s),
        // `6.1` as a JSON number.
        Some(serde_json::Value::Number(n)) if valid_version(&n.to_string()) => Ok(n.to_string()),
        Some(other) => Err(serde::de::Error::custom(format!(
            "migration_version must look like \"7.1\", got {other}"
        ))),
    }
}

/// One suggestion.
///
/// As JSON: `{"kind": "missing_foreign_key_index", "table": "completed_workouts",
/// "columns": ["user_id"], "index_name": "index_completed_workouts_on_user_id",
/// "covered_by": null, "via": "declared", "references": "users",
/// "on_delete": "cascade", "migration": "class ...", "sql": "CREATE INDEX ...",
/// "reason": "...", "priority": "high", "size_bytes": 5611520, "trade_offs": "...",
/// "descending": [], "queries": [], "time_ms": null, "droppable": [],
/// "write_load": null}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// What it is about.
    pub kind: SuggestionKind,
    /// The table.
    pub table: String,
    /// Key columns in index order; an expression key as its SQL text;
    /// empty for an over-indexed table.
    pub columns: Vec<String>,
    /// The existing index (redundant, unused) or the proposed one, named as
    /// Rails would name it (missing foreign key index, workload index);
    /// empty for an over-indexed table (its indexes are in `droppable`).
    pub index_name: String,
    /// The index that makes this one redundant.
    pub covered_by: Option<String>,
    /// Where the foreign key came from (missing foreign key index).
    pub via: Option<Via>,
    /// The referenced table, when known (missing foreign key index).
    pub references: Option<String>,
    /// The foreign key's `ON DELETE` action, when known.
    pub on_delete: Option<OnDelete>,
    /// A complete Rails migration class that makes the change; empty for an
    /// over-indexed table with no index to drop.
    pub migration: String,
    /// The SQL that the migration runs (one statement a line).
    pub sql: String,
    /// Why, with the numbers that are known.
    pub reason: String,
    /// How urgent.
    pub priority: Priority,
    /// Size in bytes: of the existing index (redundant, unused) when known;
    /// the estimated size of the proposed index (missing foreign key index,
    /// workload index) when the table's row count is known ([`size`]); the
    /// total of the `droppable` indexes (over-indexed table) when all their
    /// sizes are known.
    pub size_bytes: Option<u64>,
    /// What the change costs or loses.
    pub trade_offs: String,
    /// Key columns of the proposed index that sort descending (a
    /// `workload_index` for a mixed-direction `ORDER BY`); empty otherwise.
    pub descending: Vec<String>,
    /// The workload queries the proposed index serves, heaviest first
    /// (`workload_index`, and `missing_foreign_key_index` when the workload
    /// looks rows up by the foreign key); empty otherwise.
    pub queries: Vec<WorkloadQuery>,
    /// Total time of `queries` in milliseconds; `null` without queries.
    pub time_ms: Option<f64>,
    /// `over_indexed_table`: the indexes no recorded read could use, which
    /// the migration removes, by name; empty otherwise.
    pub droppable: Vec<String>,
    /// `over_indexed_table`: the table's recorded writes and reads; `null`
    /// otherwise.
    pub write_load: Option<WriteLoad>,
}

/// [`advise_report`]'s result: the suggestions and what the workload
/// analysis did with its input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// As [`advise`] returns them.
    pub suggestions: Vec<Suggestion>,
    /// Counts of the workload analysis (all zero without a workload).
    pub workload: WorkloadSummary,
}

/// Runs every analysis the options ask for. The order is deterministic:
/// priority (critical first), then the workload time served (most first) and
/// its call count, then table, columns, kind and index name.
pub fn advise(schema: &Schema, options: &Options) -> Vec<Suggestion> {
    advise_report(schema, options).suggestions
}

/// [`advise`], with the counts of the workload analysis (statements that did
/// not parse, candidates already served, ...).
pub fn advise_report(schema: &Schema, options: &Options) -> Report {
    let ctx = Context {
        dialect: schema.dialect,
        version: options.version(),
    };
    let mut out = Vec::new();
    let mut candidates: Vec<Vec<foreign_keys::Candidate>> = vec![Vec::new(); schema.tables.len()];
    for candidate in foreign_keys::candidates(schema) {
        if let Some(list) = candidates.get_mut(candidate.table_index) {
            list.push(candidate);
        }
    }
    // Indexes that alone keep a foreign key covered: never suggested as unused.
    let mut sole_covers: HashSet<(&str, String)> = HashSet::new();
    let mut views_by_table = Vec::with_capacity(schema.tables.len());
    for table in &schema.tables {
        views_by_table.push(views(table, schema.dialect));
    }
    let mut analysis = workload::analyze(schema, options, &views_by_table);
    let wants_fk = options.wants(SuggestionKind::MissingForeignKeyIndex);
    let wants_workload = options.wants(SuggestionKind::WorkloadIndex);
    for (table_index, table) in schema.tables.iter().enumerate() {
        let Some(views) = views_by_table.get(table_index) else {
            continue;
        };
        let mut groups: Vec<Option<workload::Group>> = analysis
            .by_table
            .get_mut(table_index)
            .map(std::mem::take)
            .unwrap_or_default()
            .into_iter()
            .map(Some)
            .collect();
        // The unindexed foreign key each group leads with, if any.
        let mut group_fk: Vec<Option<(&foreign_keys::Candidate, Priority)>> =
            vec![None; groups.len()];
        // Indexes that lead with a foreign key's columns.
        let mut fk_covers: HashSet<usize> = HashSet::new();
        for candidate in candidates.get(table_index).into_iter().flatten() {
            let covering = foreign_keys::covering(views, candidate);
            fk_covers.extend(covering.iter().copied());
            match covering.as_slice() {
                [] => {
                    let mut fk = foreign_keys::suggestion(&ctx, table, candidate);
                    let leading: Vec<usize> = groups
                        .iter()
                        .enumerate()
                        .filter(|(i, g)| {
                            group_fk.get(*i).is_some_and(Option::is_none)
                                && g.as_ref().is_some_and(|g| g.leads_with(&candidate.columns))
                        })
                        .map(|(i, _)| i)
                        .collect();
                    let widths: Vec<usize> = groups
                        .iter()
                        .map(|g| g.as_ref().map_or(0, |g| g.keys.len()))
                        .collect();
                    let width = |i: &usize| widths.get(*i).copied().unwrap_or(0);
                    let wider: Vec<usize> = leading
                        .iter()
                        .copied()
                        .filter(|i| width(i) > candidate.columns.len())
                        .collect();
                    // Superseded when a wider workload index is suggested.
                    let superseded = wants_workload && !wider.is_empty();
                    if wants_fk && !superseded {
                        // The FK suggestion stands, with the queries on its
                        // columns (and the wider ones' when no workload index
                        // is asked for).
                        let attached: Vec<workload::Group> = leading
                            .iter()
                            .filter(|i| !wants_workload || width(i) == candidate.columns.len())
                            .filter_map(|&i| groups.get_mut(i).and_then(Option::take))
                            .collect();
                        analysis.summary.suggested += attached.len();
                        let refs: Vec<&workload::Group> = attached.iter().collect();
                        workload::attach(&mut fk, table, &refs, &analysis.queries);
                        out.push(fk);
                    } else {
                        // A workload index covers it: one index, not two.
                        for &i in &leading {
                            if let Some(slot) = group_fk.get_mut(i) {
                                *slot = Some((candidate, fk.priority));
                            }
                        }
                        if let Some(&heaviest) = wider.first() {
                            for &i in leading.iter().filter(|i| !wider.contains(i)) {
                                let taken = groups.get_mut(i).and_then(Option::take);
                                if let (Some(group), Some(Some(into))) =
                                    (taken, groups.get_mut(heaviest))
                                {
                                    into.absorb(group, &analysis.queries);
                                }
                            }
                        }
                    }
                }
                [only] => {
                    if let Some(view) = views.get(*only) {
                        sole_covers.insert((table.name.as_str(), view.index.name.clone()));
                    }
                }
                _ => {}
            }
        }
        if wants_workload {
            for (i, group) in groups.iter().enumerate() {
                if let Some(group) = group {
                    analysis.summary.suggested += 1;
                    out.push(workload::suggestion(
                        &ctx,
                        table,
                        views,
                        group,
                        &analysis.queries,
                        group_fk.get(i).copied().flatten(),
                    ));
                }
            }
        }
        let mut flagged: HashSet<&str> = HashSet::new();
        // Indexes another rule suggests removing, with that rule.
        let mut separately: Vec<(String, SuggestionKind)> = Vec::new();
        if options.wants(SuggestionKind::RedundantIndex) {
            for found in redundant::find(views) {
                let (Some(view), Some(cover)) =
                    (views.get(found.index), views.get(found.covered_by))
                else {
                    continue;
                };
                flagged.insert(view.index.name.as_str());
                separately.push((view.index.name.clone(), SuggestionKind::RedundantIndex));
                out.push(redundant::suggestion(
                    &ctx,
                    table,
                    view,
                    cover,
                    found.duplicate,
                ));
            }
        }
        if options.wants(SuggestionKind::UnusedIndex) && schema.dialect == Dialect::Postgres {
            for view in views.iter().filter(|v| {
                !v.synthetic
                    && v.index.scans == Some(0)
                    && !v.index.enforces()
                    && !flagged.contains(v.index.name.as_str())
                    && !sole_covers.contains(&(table.name.as_str(), v.index.name.clone()))
            }) {
                separately.push((view.index.name.clone(), SuggestionKind::UnusedIndex));
                out.push(unused_suggestion(&ctx, table, &view.index));
            }
        }
        if options.wants(SuggestionKind::OverIndexedTable) {
            separately.sort();
            separately.dedup();
            let facts = write_cost::TableFacts {
                fk_covers: &fk_covers,
                separately: &separately,
            };
            if let Some(suggestion) = analysis.traffic.get(table_index).and_then(|traffic| {
                write_cost::suggestion(
                    &ctx,
                    options,
                    table,
                    views,
                    traffic,
                    &facts,
                    &analysis.queries,
                )
            }) {
                out.push(suggestion);
            }
        }
    }
    out.sort_by(|a, b| {
        let time = |s: &Suggestion| s.time_ms.unwrap_or(0.0);
        let count = |s: &Suggestion| {
            s.queries
                .iter()
                .fold(0u64, |acc, q| acc.saturating_add(q.count))
        };
        a.priority
            .cmp(&b.priority)
            .then(time(b).total_cmp(&time(a)))
            .then(count(b).cmp(&count(a)))
            .then_with(|| {
                (&a.table, &a.columns, a.kind, &a.index_name).cmp(&(
                    &b.table,
                    &b.columns,
                    b.kind,
                    &b.index_name,
                ))
            })
    });
    Report {
        suggestions: out,
        workload: analysis.summary,
    }
}

/// [`advise`] from and to JSON text, for bindings: the schema as
/// [`Schema::from_json`] reads it, the options as [`Options::from_json`]
/// reads them; the result is a JSON array of [`Suggestion`]s.
pub fn advise_json(schema_json: &str, options_json: &str) -> Result<String, Error> {
    let schema = Schema::from_json(schema_json)?;
    let options = Options::from_json(options_json)?;
    serde_json::to_string(&advise(&schema, &options)).map_err(|e| Error::InvalidInput {
        message: format!("suggestions JSON: {e}"),
    })
}

/// [`advise_report`] from and to JSON text: `{"suggestions": [...],
/// "workload": {"queries": 1, "unparseable": 0, ...}}`.
pub fn advise_json_report(schema_json: &str, options_json: &str) -> Result<String, Error> {
    let schema = Schema::from_json(schema_json)?;
    let options = Options::from_json(options_json)?;
    serde_json::to_string(&advise_report(&schema, &options)).map_err(|e| Error::InvalidInput {
        message: format!("suggestions JSON: {e}"),
    })
}

/// What every suggestion's text needs.
pub(crate) struct Context<'a> {
    pub dialect: Dialect,
    pub version: &'a str,
}

/// An index as the rules compare it: keys, predicate and INCLUDE list
/// normalized, so formatting differences do not matter.
pub(crate) struct View<'a> {
    pub index: Cow<'a, Index>,
    pub keys: Vec<KeyId>,
    pub predicate: Option<String>,
    pub include: Vec<String>,
    /// Stands for a primary key that the source listed without its index.
    pub synthetic: bool,
}

/// One key as compared: a plain column or a normalized expression, with its
/// operator class and direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyId {
    pub expression: bool,
    pub text: String,
    pub opclass: Option<String>,
    pub desc: bool,
}

/// The views of a table's indexes, plus one for its primary key when no
/// listed index backs it.
pub(crate) fn views(table: &Table, dialect: Dialect) -> Vec<View<'_>> {
    let mut out: Vec<View<'_>> = table
        .indexes
        .iter()
        .map(|index| view(Cow::Borrowed(index), dialect, false))
        .collect();
    if !table.primary_key.is_empty() && !table.indexes.iter().any(|i| i.primary) {
        let name = match dialect {
            Dialect::Mysql => "PRIMARY".to_owned(),
            Dialect::Postgres | Dialect::Sqlite => format!("{}_pkey", render::bare(&table.name)),
        };
        let mut index = Index::on_columns(name, &table.primary_key);
        index.unique = true;
        index.primary = true;
        out.push(view(Cow::Owned(index), dialect, true));
    }
    out
}

fn view(index: Cow<'_, Index>, dialect: Dialect, synthetic: bool) -> View<'_> {
    let keys = index
        .keys
        .iter()
        .map(|k| match (&k.column, &k.expression) {
            (Some(column), _) => KeyId {
                expression: false,
                text: column.clone(),
                opclass: k.opclass.as_deref().map(opclass),
                desc: k.order == Order::Desc,
            },
            (None, expression) => KeyId {
                expression: true,
                text: normalize_text(expression.as_deref().unwrap_or_default(), dialect),
                opclass: k.opclass.as_deref().map(opclass),
                desc: k.order == Order::Desc,
            },
        })
        .collect();
    let predicate = index
        .predicate
        .as_deref()
        .map(|p| normalize_text(p, dialect))
        .filter(|p| !p.is_empty());
    let mut include: Vec<String> = index.include.clone();
    include.sort();
    include.dedup();
    View {
        keys,
        predicate,
        include,
        synthetic,
        index,
    }
}

/// `public.gin_trgm_ops` and `GIN_TRGM_OPS` compare as `gin_trgm_ops`.
fn opclass(name: &str) -> String {
    let name = name.trim().to_ascii_lowercase();
    match name.split_once('.') {
        Some(("public" | "pg_catalog", rest)) => rest.to_owned(),
        _ => name,
    }
}

/// SQL text for comparison: tokens separated by one space, unquoted words in
/// lower case, quotes removed from plain lower-case names, outer parentheses
/// that wrap the whole text removed.
pub(crate) fn normalize_text(text: &str, dialect: Dialect) -> String {
    let bytes = text.as_bytes();
    let mut tokens: Vec<(TokenKind, String)> = Tokenizer::new(bytes, dialect)
        .filter(|t| t.kind != TokenKind::Comment)
        .map(|t| {
            let raw = String::from_utf8_lossy(bytes.get(t.start..t.end).unwrap_or_default());
            let text = match t.kind {
                TokenKind::Word => raw.to_lowercase(),
                TokenKind::QuotedIdent => {
                    let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default();
                    let plain = !inner.is_empty()
                        && inner
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                    if plain {
                        inner.to_owned()
                    } else {
                        raw.into_owned()
                    }
                }
                _ => raw.into_owned(),
            };
            (t.kind, text)
        })
        .collect();
    // Strip parentheses that wrap everything: `(a IS NULL)` == `a IS NULL`.
    while tokens.len() >= 2
        && tokens.first().is_some_and(|t| t.0 == TokenKind::LParen)
        && tokens.last().is_some_and(|t| t.0 == TokenKind::RParen)
    {
        let mut depth = 0usize;
        let mut wraps = true;
        for (i, (kind, _)) in tokens.iter().enumerate() {
            match kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 && i + 1 < tokens.len() {
                        wraps = false;
                        break;
                    }
                }
                _ => {}
            }
        }
        if !wraps {
            break;
        }
        tokens.pop();
        tokens.remove(0);
    }
    let mut out = String::with_capacity(text.len());
    for (i, (_, t)) in tokens.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// `completed_workouts (1,200 rows, 80 KB)`
pub(crate) fn table_stats(table: &Table) -> String {
    let mut parts = Vec::new();
    if let Some(rows) = table.rows {
        parts.push(format!("{} rows", render::count(rows)));
    }
    if let Some(size) = table.size_bytes {
        parts.push(render::bytes(size));
    }
    if parts.is_empty() {
        table.name.clone()
    } else {
        format!("{} ({})", table.name, parts.join(", "))
    }
}

/// `index_x (user_id, created_at DESC)`, with `USING gin`, opclasses,
/// `INCLUDE (...)` and `WHERE ...` when present.
pub(crate) fn describe(index: &Index) -> String {
    let keys: Vec<String> = index.keys.iter().map(|k| k.definition()).collect();
    let mut out = index.name.clone();
    if !index.is_btree() {
        out = format!("{out} USING {}", index.method);
    }
    out = format!("{out} ({})", keys.join(", "));
    if !index.include.is_empty() {
        out = format!("{out} INCLUDE ({})", index.include.join(", "));
    }
    if let Some(predicate) = &index.predicate {
        out = format!("{out} WHERE {predicate}");
    }
    out
}

/// One level more urgent (at most critical).
pub(crate) fn raise(priority: Priority) -> Priority {
    match priority {
        Priority::Low => Priority::Medium,
        Priority::Medium => Priority::High,
        Priority::High | Priority::Critical => Priority::Critical,
    }
}

fn unused_suggestion(ctx: &Context<'_>, table: &Table, index: &Index) -> Suggestion {
    let size = index
        .size_bytes
        .map_or_else(String::new, |s| format!(" It takes {}.", render::bytes(s)));
    let large = index.size_bytes.is_some_and(|s| s >= LARGE_INDEX_BYTES);
    Suggestion {
        kind: SuggestionKind::UnusedIndex,
        table: table.name.clone(),
        columns: index.keys.iter().map(|k| k.text().to_owned()).collect(),
        index_name: index.name.clone(),
        covered_by: None,
        via: None,
        references: None,
        on_delete: None,
        migration: render::remove_index_migration(ctx.dialect, ctx.version, &table.name, index),
        sql: render::drop_index_sql(ctx.dialect, &table.name, &index.name),
        reason: format!(
            "{} has not been scanned once since the statistics were last reset, yet every \
             write to {} maintains it.{size}",
            describe(index),
            table_stats(table)
        ),
        priority: if large {
            Priority::Medium
        } else {
            Priority::Low
        },
        size_bytes: index.size_bytes,
        descending: Vec::new(),
        queries: Vec::new(),
        time_ms: None,
        droppable: Vec::new(),
        write_load: None,
        trade_offs: "Dropping it speeds up writes and frees its space. Scans are counted \
                     per server since the last statistics reset: check the replicas and \
                     rarely run jobs (monthly reports, backfills) first; bringing it back \
                     later means a full index build. DROP INDEX CONCURRENTLY does not block \
                     queries but cannot run inside a transaction."
            .to_owned(),
    }
}
