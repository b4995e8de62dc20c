//! `workload_index`: composite indexes derived from the recorded workload.
//!
//! Each distinct statement (by fingerprint) is parsed once into a
//! [`Shape`]. Only reads count: `SELECT`, and the `WHERE`
//! of `UPDATE` and `DELETE`; a statement that does not parse (or exceeds the
//! analyzer's limits) is skipped and counted, and so is one with an `OR`
//! across different columns (which columns are ANDed is unknown, and a
//! composite index would be wrong for it).
//!
//! # One candidate per (query, table)
//!
//! Every table of the statement that is in the schema is considered on its
//! own, with the predicates (`WHERE` and `JOIN ... ON` value comparisons) on
//! its columns. A table named twice in one statement (a self-join, or two
//! aliases) is skipped: its predicates cannot be told apart (a subquery on
//! the same table under the same name cannot be told apart either: its
//! filters count with the outer ones). Unqualified columns of a multi-table
//! statement go to the one table that has the column (not with subqueries). A table with a known row
//! count under `min_rows` is skipped: a sequential scan of it is fine.
//!
//! 1. **Equality keys**: `=`, `IN`, `IS NULL`, and the join column of the
//!    inner table of a join (the table named later in the statement: it is
//!    looked up once per row of the other side). A join column is dropped
//!    when an index already leads with it (the lookup is served). Order:
//!    columns with a known `distinct` estimate above 2, most distinct first;
//!    then columns without an estimate, in the query's order (value filters
//!    before join columns); last the low-cardinality ones (boolean type or
//!    `distinct` <= 2) and `IS NULL` columns (`distinct` says nothing about
//!    how many rows are NULL). Ties keep the query's order.
//! 2. **Then one tail**: ONE range column (`<`, `<=`, `>`, `>=`, `BETWEEN`;
//!    on MySQL also `LIKE 'prefix%'`), preferring the first `ORDER BY`
//!    column, then the highest `distinct`, then the query's order; or, with
//!    no range, the `ORDER BY` columns in order. The sort counts only when
//!    every item is a plain column of this table and this table is the
//!    statement's first one (rows come out of it in index order); sort
//!    items fixed by `=` / `IS NULL` are dropped from it; directions are
//!    kept only when mixed (a btree is read backwards for a uniform
//!    `DESC`). A sort with no equality key needs a `LIMIT` (a full sorted
//!    read of a table is not faster through an index).
//! 3. At most [`MAX_INDEX_COLUMNS`] keys (equality keys first).
//!
//! Not used: `<>`, `NOT IN`, `IS NOT NULL`, `LIKE '%x'`, function-wrapped
//! columns (`LOWER(email) = ?` needs an expression index; the analyzer's
//! lint reports it) and `LIKE 'prefix%'` on PostgreSQL and SQLite (a plain
//! btree serves it only under the C collation or with `text_pattern_ops`,
//! and the shape does not tell `LIKE` from `ILIKE`). A candidate of
//! low-cardinality equality keys only, with no tail, is not suggested.
//!
//! # What "served" means
//!
//! A candidate is already served, and dropped, when the table has:
//!
//! - a btree index (not partial) whose first keys are the candidate's
//!   equality keys in any order, followed by its range column, or by its
//!   sort columns in order with all directions equal to the sort's or all
//!   reversed; longer indexes serve too (the candidate is a prefix). On
//!   MySQL a secondary index's keys are followed by the primary key (InnoDB
//!   stores it there);
//! - a partial btree index whose predicate is `<column> IS NULL` when the
//!   query has that `IS NULL`, by the same rule without that column; other
//!   partial indexes never serve (their predicate cannot be matched);
//! - a hash index on the single `=` column of a one-column candidate;
//! - a unique index or the primary key (not partial) whose columns all have
//!   `=` or `IN` in the query: at most one row per value.
//!
//! An index on only some of the equality columns does not serve: the
//! planner would use the wider one (the statistics' averages cannot show
//! skew, and the recorded time says the query is slow), and the trade-offs
//! name the existing index that becomes its left prefix.
//!
//! # Merging, ranking, floors
//!
//! Identical candidates of several queries are one. Then, widest first, a
//! candidate that another kept candidate serves (the same rule, with that
//! candidate as the index) is merged into it (into the one with the most
//! time when several serve it): one composite index serves several queries.
//! Suggestions are never partial indexes, so no merge crosses a predicate.
//! A merged candidate whose queries took less than `min_total_ms` in total
//! is dropped.
//!
//! Priority from the time served and the table's rows: critical when both
//! at least [`CRITICAL_MS`] and [`LARGE_TABLE_ROWS`]; high when at least
//! [`HIGH_MS`] or that many rows; medium from [`MEDIUM_MS`]; else low.
//!
//! # Foreign keys
//!
//! A candidate whose first keys are exactly the columns of a foreign key
//! that no index leads with (the `missing_foreign_key_index` rule):
//!
//! - with the same columns: no `workload_index`; its queries are attached
//!   to the `missing_foreign_key_index` suggestion (`queries`, `time_ms`,
//!   the reason, and its priority raised to the workload's when higher);
//! - with more columns: the `workload_index` suggestion carries the foreign
//!   key (`via`, `references`, `on_delete`, its priority when higher) and
//!   says it covers it, and the `missing_foreign_key_index` suggestion is
//!   left out (one index, not two);
//! - when `workload_index` is not asked for, the queries are attached to
//!   the `missing_foreign_key_index` suggestion in both cases; when that
//!   kind is not asked for, the `workload_index` suggestion carries the
//!   foreign key in both cases.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Deserializer, Serialize};

use super::foreign_keys::{build_note, Candidate as ForeignKey};
use super::write_cost::{self, Traffic};
use super::{render, size, table_stats, Context, Options, Suggestion, SuggestionKind, View};
use crate::detect::Priority;
use crate::schema::{self, Schema, Table};
use crate::sql::shape::{Clause, Direction, PredicateOp, Shape, StatementKind};
use crate::sql::token::{TokenKind, Tokenizer};
use crate::sql::{analyze_uncached, Limits, Normalizer};
use crate::Dialect;

/// The widest index suggested.
pub const MAX_INDEX_COLUMNS: usize = 4;
/// Time served (ms) from which a workload index is high priority.
pub const HIGH_MS: f64 = 1_000.0;
/// Time served (ms) from which it is medium priority.
pub const MEDIUM_MS: f64 = 100.0;
/// Time served (ms) that, on a table of [`LARGE_TABLE_ROWS`], makes it critical.
pub const CRITICAL_MS: f64 = 10_000.0;
/// Rows from which a workload index is at least high priority.
pub const LARGE_TABLE_ROWS: u64 = 1_000_000;
/// Queries quoted in a reason (all of them are in `queries`).
const QUOTED_QUERIES: usize = 3;
/// N+1s named in a reason.
const QUOTED_N_PLUS_ONES: usize = 3;
/// Characters of SQL quoted in a reason.
const QUOTED_SQL_CHARS: usize = 160;
/// Unparseable fingerprints listed in the summary.
const LISTED_UNPARSEABLE: usize = 20;

/// One recorded query shape: the input of the workload analysis, and, in a
/// suggestion's `queries`, one query the index serves.
///
/// As JSON: `{"fingerprint": "65480462680d0787", "sql": "SELECT ...",
/// "count": 1200, "total_ms": 5400.5, "locations": ["app/...:14"],
/// "sources": ["Api::StatsController#index"], "n_plus_one": false}`. Only
/// `sql` is required; a missing fingerprint is computed from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadQuery {
    /// The statement's fingerprint (16 hex digits).
    #[serde(default, deserialize_with = "schema::nullable")]
    pub fingerprint: String,
    /// The statement, normalized (literals as `?`). It is normalized again,
    /// so no literal value reaches a suggestion.
    pub sql: String,
    /// How many times it ran.
    #[serde(default, deserialize_with = "lenient_count")]
    pub count: u64,
    /// Total time of those runs, in milliseconds.
    #[serde(default, deserialize_with = "lenient_ms")]
    pub total_ms: f64,
    /// Call sites in the app (`path/to/file.rb:LINE`).
    #[serde(default, deserialize_with = "schema::nullable")]
    pub locations: Vec<String>,
    /// Units it ran in: controller actions, jobs.
    #[serde(default, deserialize_with = "schema::nullable")]
    pub sources: Vec<String>,
    /// It was part of an N+1.
    #[serde(default, deserialize_with = "schema::nullable")]
    pub n_plus_one: bool,
}

fn lenient_count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(schema::count(d)?.unwrap_or(0))
}

/// A time in ms: a number, `null` (0); negative or not finite reads as 0.
pub(crate) fn lenient_ms<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let value = Option::<serde_json::Number>::deserialize(d)?;
    Ok(value
        .and_then(|n| n.as_f64())
        .filter(|f| f.is_finite() && *f > 0.0)
        .unwrap_or(0.0))
}

/// What the workload analysis did with its input.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct WorkloadSummary {
    /// Distinct fingerprints in the workload.
    pub queries: usize,
    /// Skipped: the statement could not be parsed (or exceeded the
    /// analyzer's size and nesting limits).
    pub unparseable: usize,
    /// The first fingerprints of those, sorted.
    pub unparseable_fingerprints: Vec<String>,
    /// Skipped: not a read (`INSERT`, DDL, transaction control, ...).
    pub not_reads: usize,
    /// Skipped: an `OR` across different columns.
    pub or_across_columns: usize,
    /// Skipped: reads of no table in the schema.
    pub unknown_tables: usize,
    /// (query, table) pairs skipped because the table has fewer than
    /// `min_rows` rows.
    pub small_tables: usize,
    /// (query, table) pairs with an index candidate.
    pub candidates: usize,
    /// Of those, served by an existing index.
    pub already_served: usize,
    /// Merged candidates dropped because their queries took less than
    /// `min_total_ms`.
    pub below_min_total_ms: usize,
    /// Merged candidates that became a `workload_index` suggestion or were
    /// attached to a `missing_foreign_key_index` one.
    pub suggested: usize,
}

/// What a key column does for one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Role {
    Eq,
    In,
    IsNull,
    Join,
    Range,
    /// A range on the only ORDER BY column: one key serves both.
    RangeSort,
    Sort,
}

impl Role {
    fn phrase(self) -> &'static str {
        match self {
            Role::Eq => "equality",
            Role::In => "IN list",
            Role::IsNull => "IS NULL",
            Role::Join => "join key",
            Role::Range => "range",
            Role::RangeSort => "range and ORDER BY",
            Role::Sort => "ORDER BY",
        }
    }

    fn is_equality(self) -> bool {
        matches!(self, Role::Eq | Role::In | Role::IsNull | Role::Join)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    column: String,
    role: Role,
    desc: bool,
}

/// One query's index candidate on one table: keys in index order, the first
/// `eq` of them equality keys (any order of those serves).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Need {
    keys: Vec<Key>,
    eq: usize,
    /// The tail is an ORDER BY (directions matter), else a range column.
    sorted: bool,
}

/// One key of an existing (or proposed) index as the serving rule reads it.
#[derive(Debug, Clone, Copy)]
struct IxKey<'a> {
    /// `None` for an expression key.
    column: Option<&'a str>,
    desc: bool,
}

/// Whether an index with `index` keys serves `need`, with the `implied`
/// column (fixed by a partial index's `IS NULL` predicate) left out of the
/// equality keys. See the module docs.
fn serves(index: &[IxKey<'_>], need: &Need, implied: Option<&str>) -> bool {
    let (eq_keys, tail) = need.keys.split_at(need.eq.min(need.keys.len()));
    let mut want: Vec<&str> = eq_keys
        .iter()
        .map(|k| k.column.as_str())
        .filter(|c| Some(*c) != implied)
        .collect();
    let e = want.len();
    if e + tail.len() == 0 {
        return true;
    }
    let (Some(lead), Some(rest)) = (index.get(..e), index.get(e..e + tail.len())) else {
        return false;
    };
    let Some(mut have) = lead.iter().map(|k| k.column).collect::<Option<Vec<&str>>>() else {
        return false;
    };
    have.sort_unstable();
    want.sort_unstable();
    if have != want {
        return false;
    }
    if rest
        .iter()
        .zip(tail)
        .any(|(i, k)| i.column != Some(k.column.as_str()))
    {
        return false;
    }
    if !need.sorted {
        return true;
    }
    let same = rest.iter().zip(tail).all(|(i, k)| i.desc == k.desc);
    let flipped = rest.iter().zip(tail).all(|(i, k)| i.desc != k.desc);
    same || flipped
}

/// An existing index as the serving rule uses it.
struct Existing<'a> {
    keys: Vec<IxKey<'a>>,
    /// How many of `keys` the index declares (MySQL appends the primary key).
    declared: usize,
    unique: bool,
    hash: bool,
    /// A partial index on `<column> IS NULL`: that column.
    implied: Option<String>,
}

/// The existing indexes of a table that can serve a lookup: btree (plain,
/// or partial on `col IS NULL`) and hash.
fn existing<'a>(table: &'a Table, views: &'a [View<'a>], dialect: Dialect) -> Vec<Existing<'a>> {
    let mut out = Vec::new();
    for view in views {
        let btree = view.index.is_btree();
        let hash = view.index.method.eq_ignore_ascii_case("hash");
        if !btree && !hash {
            continue;
        }
        let implied = match &view.predicate {
            None => None,
            Some(p) => match is_null_predicate(p, &table.name) {
                Some(column) if btree => Some(column),
                _ => continue,
            },
        };
        let mut keys: Vec<IxKey<'a>> = view
            .keys
            .iter()
            .map(|k| IxKey {
                column: (!k.expression).then_some(k.text.as_str()),
                desc: k.desc,
            })
            .collect();
        let declared = keys.len();
        // InnoDB appends the primary key to every secondary index.
        if dialect == Dialect::Mysql && btree && !view.index.primary {
            for pk in &table.primary_key {
                if !keys.iter().any(|k| k.column == Some(pk.as_str())) {
                    keys.push(IxKey {
                        column: Some(pk.as_str()),
                        desc: false,
                    });
                }
            }
        }
        out.push(Existing {
            keys,
            declared,
            unique: (view.index.unique || view.index.primary) && btree,
            hash,
            implied,
        });
    }
    out
}

/// `deleted_at is null` or `table . deleted_at is null` (normalized text):
/// the column.
fn is_null_predicate(predicate: &str, table: &str) -> Option<String> {
    let words: Vec<&str> = predicate.split(' ').collect();
    match words.as_slice() {
        [column, "is", "null"] => Some((*column).to_owned()),
        [t, ".", column, "is", "null"] if *t == render::bare(table) => Some((*column).to_owned()),
        _ => None,
    }
}

/// Whether an existing index serves the need (see the module docs).
/// `value_eq`: every `=` / `IN` column of the query on this table (also
/// those past the width cap).
fn served(indexes: &[Existing<'_>], need: &Need, value_eq: &[String]) -> bool {
    let unique = indexes.iter().any(|ix| {
        ix.unique
            && ix.implied.is_none()
            && ix.declared > 0
            && ix
                .keys
                .iter()
                .take(ix.declared)
                .all(|k| k.column.is_some_and(|c| value_eq.iter().any(|v| v == c)))
    });
    if unique {
        return true;
    }
    let by_keys = indexes.iter().any(|ix| {
        if ix.hash {
            return matches!(need.keys.as_slice(), [only] if only.role == Role::Eq)
                && matches!(ix.keys.as_slice(), [k] if k.column.is_some_and(|c| need.keys.first().is_some_and(|n| n.column == c)));
        }
        match &ix.implied {
            None => serves(&ix.keys, need, None),
            Some(column) => {
                let has = need
                    .keys
                    .get(..need.eq)
                    .is_some_and(|eq| eq.iter().any(|k| &k.column == column && k.role == Role::IsNull));
                has && serves(&ix.keys, need, Some(column))
            }
        }
    });
    by_keys
}

/// Schema tables by the names statements use.
pub(crate) struct Tables<'a> {
    exact: HashMap<&'a str, usize>,
    lower: HashMap<String, usize>,
}

impl<'a> Tables<'a> {
    pub(crate) fn new(schema: &'a Schema) -> Self {
        let mut exact = HashMap::new();
        let mut lower = HashMap::new();
        // The first table of a name wins.
        for (i, t) in schema.tables.iter().enumerate().rev() {
            exact.insert(t.name.as_str(), i);
            lower.insert(t.name.to_lowercase(), i);
        }
        Tables { exact, lower }
    }

    /// Exact, without the default schema (`public.`, `main.`), then
    /// case-insensitively (unquoted names fold to lower case).
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        let stripped = name
            .strip_prefix("public.")
            .or_else(|| name.strip_prefix("main."))
            .unwrap_or(name);
        self.exact
            .get(name)
            .or_else(|| self.exact.get(stripped))
            .or_else(|| self.lower.get(&name.to_lowercase()))
            .or_else(|| self.lower.get(&stripped.to_lowercase()))
            .copied()
    }
}

fn is_boolean(sql_type: &str) -> bool {
    let lower = sql_type.trim().to_ascii_lowercase();
    matches!(lower.as_str(), "boolean" | "bool" | "tinyint(1)" | "bit(1)")
}

/// Fewer distinct values than this, or a boolean type: a column that never leads.
fn low_cardinality(table: &Table, column: &str) -> bool {
    table
        .column(column)
        .is_some_and(|c| is_boolean(&c.sql_type) || c.distinct.is_some_and(|d| d <= 2))
}

/// Orders equality keys (stable: ties keep the query's order).
fn order_equalities(keys: &mut [Key], table: &Table) {
    keys.sort_by_key(|k| {
        let distinct = table.column(&k.column).and_then(|c| c.distinct);
        let bucket = if k.role == Role::IsNull || low_cardinality(table, &k.column) {
            2u8
        } else if distinct.is_some() {
            0
        } else {
            1
        };
        let join_last = bucket == 1 && k.role == Role::Join;
        let by_distinct = if bucket == 0 {
            distinct.unwrap_or(0)
        } else {
            0
        };
        (bucket, join_last, Reverse(by_distinct))
    });
}

/// A proposed index and the queries it serves.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// Key columns and whether each is descending.
    pub keys: Vec<(String, bool)>,
    /// The (query, need) pairs it serves.
    needs: Vec<(usize, Need)>,
    /// Positions in [`Analysis::queries`], sorted, unique.
    pub queries: Vec<usize>,
    /// Total time of the queries, ms.
    pub time_ms: f64,
    /// Total runs of the queries.
    pub count: u64,
}

impl Group {
    fn totals(&mut self, queries: &[WorkloadQuery]) {
        self.queries.sort_unstable();
        self.queries.dedup();
        self.time_ms = self
            .queries
            .iter()
            .filter_map(|&q| queries.get(q))
            .map(|q| q.total_ms)
            .sum();
        self.count = self
            .queries
            .iter()
            .filter_map(|&q| queries.get(q))
            .fold(0u64, |acc, q| acc.saturating_add(q.count));
    }

    fn as_index(&self) -> Vec<IxKey<'_>> {
        self.keys
            .iter()
            .map(|(c, desc)| IxKey {
                column: Some(c.as_str()),
                desc: *desc,
            })
            .collect()
    }

    /// Whether the index's first keys are exactly `columns`, in any order.
    pub fn leads_with(&self, columns: &[String]) -> bool {
        let Some(lead) = self.keys.get(..columns.len()) else {
            return false;
        };
        let mut have: Vec<&str> = lead.iter().map(|(c, _)| c.as_str()).collect();
        let mut want: Vec<&str> = columns.iter().map(String::as_str).collect();
        have.sort_unstable();
        want.sort_unstable();
        !want.is_empty() && have == want
    }

    /// Takes over another group's queries.
    pub fn absorb(&mut self, other: Group, queries: &[WorkloadQuery]) {
        self.needs.extend(other.needs);
        self.queries.extend(other.queries);
        self.totals(queries);
    }
}

/// The workload analysis: the queries (deduplicated by fingerprint, sorted
/// by it) and, per table, the proposed indexes.
pub(crate) struct Analysis {
    pub queries: Vec<WorkloadQuery>,
    pub by_table: Vec<Vec<Group>>,
    pub summary: WorkloadSummary,
    /// Per table, what the workload writes and reads (only when
    /// `over_indexed_table` is asked for).
    pub traffic: Vec<Traffic>,
}

/// Deduplicates by fingerprint (counts and times added up, call sites and
/// sources joined), with SQL normalized and missing fingerprints computed;
/// sorted by fingerprint, so nothing depends on the input order.
fn dedupe(workload: &[WorkloadQuery], dialect: Dialect) -> Vec<WorkloadQuery> {
    let normalizer = Normalizer::new(dialect);
    let mut items: Vec<WorkloadQuery> = workload
        .iter()
        .map(|q| {
            let sql = normalizer.normalize(q.sql.as_bytes());
            let fingerprint = match q.fingerprint.trim() {
                "" => normalizer.fingerprint(sql.as_bytes()).to_string(),
                given => given.to_owned(),
            };
            WorkloadQuery {
                fingerprint,
                sql,
                ..q.clone()
            }
        })
        .collect();
    items.sort_by(|a, b| {
        (&a.fingerprint, &a.sql, &a.locations, &a.sources, a.count)
            .cmp(&(&b.fingerprint, &b.sql, &b.locations, &b.sources, b.count))
            .then(a.total_ms.total_cmp(&b.total_ms))
            .then(a.n_plus_one.cmp(&b.n_plus_one))
    });
    let mut out: Vec<WorkloadQuery> = Vec::with_capacity(items.len());
    for q in items {
        match out.last_mut() {
            Some(last) if last.fingerprint == q.fingerprint => {
                last.count = last.count.saturating_add(q.count);
                last.total_ms += q.total_ms;
                last.n_plus_one |= q.n_plus_one;
                for l in q.locations {
                    if !last.locations.contains(&l) {
                        last.locations.push(l);
                    }
                }
                for s in q.sources {
                    if !last.sources.contains(&s) {
                        last.sources.push(s);
                    }
                }
            }
            _ => out.push(q),
        }
    }
    out
}

/// Words after which a value comes: a `?` there is a placeholder.
const BEFORE_VALUE: [&str; 32] = [
    "all",
    "and",
    "any",
    "between",
    "by",
    "case",
    "distinct",
    "else",
    "escape",
    "fetch",
    "first",
    "having",
    "ilike",
    "in",
    "interval",
    "is",
    "like",
    "limit",
    "next",
    "not",
    "offset",
    "on",
    "or",
    "returning",
    "select",
    "set",
    "similar",
    "some",
    "then",
    "to",
    "values",
    "when",
];

/// The text to parse: for PostgreSQL, the normalizer's `?` placeholders
/// become `$1` (its parser reads `?` as the jsonb operator). A `?` is a
/// placeholder where a value is expected: first, or after an operator, `(`,
/// `[`, `,` or a keyword such as `LIMIT` or `AND`; after an operand it stays
/// the operator (`data ? ?` is `data ? $1`).
fn parseable(sql: &str, dialect: Dialect) -> Cow<'_, str> {
    if dialect != Dialect::Postgres || !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut copied = 0;
    let mut after_value = false;
    for token in Tokenizer::new(bytes, dialect) {
        let text = bytes.get(token.start..token.end).unwrap_or_default();
        after_value = match token.kind {
            TokenKind::Comment => continue,
            TokenKind::Operator if text == b"?" => {
                if after_value {
                    false
                } else {
                    out.push_str(sql.get(copied..token.start).unwrap_or_default());
                    out.push_str("$1");
                    copied = token.end;
                    true
                }
            }
            TokenKind::Word => !BEFORE_VALUE
                .iter()
                .any(|w| w.as_bytes().eq_ignore_ascii_case(text)),
            TokenKind::QuotedIdent
            | TokenKind::String
            | TokenKind::Number
            | TokenKind::Placeholder
            | TokenKind::RParen
            | TokenKind::RBracket => true,
            _ => false,
        };
    }
    if copied == 0 {
        return Cow::Borrowed(sql);
    }
    out.push_str(sql.get(copied..).unwrap_or_default());
    Cow::Owned(out)
}

/// Everything one statement's candidates need from the advisor.
struct Build<'a> {
    schema: &'a Schema,
    tables: &'a Tables<'a>,
    existing: &'a [Vec<Existing<'a>>],
    min_rows: u64,
}

/// Runs the workload analysis of `options.workload`.
pub(crate) fn analyze(schema: &Schema, options: &Options, views: &[Vec<View<'_>>]) -> Analysis {
    let mut summary = WorkloadSummary::default();
    let queries = dedupe(&options.workload, schema.dialect);
    summary.queries = queries.len();
    let mut by_table: Vec<Vec<Group>> = vec![Vec::new(); schema.tables.len()];
    let mut traffic: Vec<Traffic> = vec![Traffic::default(); schema.tables.len()];
    if queries.is_empty() {
        return Analysis {
            queries,
            by_table,
            summary,
            traffic,
        };
    }
    let wants_traffic = options.wants(SuggestionKind::OverIndexedTable);
    let tables = Tables::new(schema);
    let existing: Vec<Vec<Existing<'_>>> = schema
        .tables
        .iter()
        .zip(views)
        .map(|(t, v)| existing(t, v, schema.dialect))
        .collect();
    let build = Build {
        schema,
        tables: &tables,
        existing: &existing,
        min_rows: options.min_rows,
    };
    // Identical candidates of a table are one group: keyed by their keys.
    let mut grouped: Vec<BTreeMap<Vec<(String, bool)>, Group>> =
        vec![BTreeMap::new(); schema.tables.len()];
    for (position, query) in queries.iter().enumerate() {
        let text = parseable(&query.sql, schema.dialect);
        let shape = match analyze_uncached(text.as_bytes(), schema.dialect, Limits::default()) {
            Ok(shape) => shape,
            Err(_) => {
                if wants_traffic {
                    write_cost::record_unparseable(
                        &mut traffic,
                        &tables,
                        &query.sql,
                        schema.dialect,
                    );
                }
                summary.unparseable += 1;
                if summary.unparseable_fingerprints.len() < LISTED_UNPARSEABLE {
                    summary
                        .unparseable_fingerprints
                        .push(query.fingerprint.clone());
                }
                continue;
            }
        };
        if wants_traffic {
            write_cost::record(
                &mut traffic,
                &tables,
                schema,
                &shape,
                &query.sql,
                position,
                query.count,
            );
        }
        for (table, need) in needs(&shape, &build, &mut summary) {
            let keys: Vec<(String, bool)> = need
                .keys
                .iter()
                .map(|k| (k.column.clone(), k.desc))
                .collect();
            let Some(map) = grouped.get_mut(table) else {
                continue;
            };
            let group = map.entry(keys.clone()).or_insert_with(|| Group {
                keys,
                needs: Vec::new(),
                queries: Vec::new(),
                time_ms: 0.0,
                count: 0,
            });
            group.needs.push((position, need));
            group.queries.push(position);
        }
    }
    for (table_index, map) in grouped.into_iter().enumerate() {
        let mut groups: Vec<Group> = map.into_values().collect();
        for g in &mut groups {
            g.totals(&queries);
        }
        let merged = merge(groups, &queries);
        let (kept, dropped): (Vec<Group>, Vec<Group>) = merged
            .into_iter()
            .partition(|g| g.time_ms >= options.min_total_ms);
        summary.below_min_total_ms += dropped.len();
        if let Some(slot) = by_table.get_mut(table_index) {
            *slot = kept;
        }
    }
    Analysis {
        queries,
        by_table,
        summary,
        traffic,
    }
}

/// Widest first, each candidate that a kept one serves goes into it.
fn merge(mut groups: Vec<Group>, queries: &[WorkloadQuery]) -> Vec<Group> {
    groups.sort_by(|a, b| {
        b.keys
            .len()
            .cmp(&a.keys.len())
            .then(b.time_ms.total_cmp(&a.time_ms))
            .then(b.count.cmp(&a.count))
            .then(a.keys.cmp(&b.keys))
    });
    let mut kept: Vec<Group> = Vec::new();
    // Kept groups by their first key: a server's first key is one of the
    // served candidate's equality keys (or its first key when it has none).
    let mut by_first: HashMap<String, Vec<usize>> = HashMap::new();
    for group in groups {
        let mut firsts: Vec<&str> = Vec::new();
        for (_, need) in &group.needs {
            let lead = need.keys.get(..need.eq.max(1)).unwrap_or_default();
            for k in lead {
                if !firsts.contains(&k.column.as_str()) {
                    firsts.push(k.column.as_str());
                }
            }
        }
        let mut servers: Vec<usize> = firsts
            .iter()
            .filter_map(|c| by_first.get(*c))
            .flatten()
            .copied()
            .filter(|&i| {
                kept.get(i).is_some_and(|server| {
                    let index = server.as_index();
                    group
                        .needs
                        .iter()
                        .all(|(_, need)| serves(&index, need, None))
                })
            })
            .collect();
        servers.sort_unstable();
        servers.dedup();
        let best = servers.into_iter().max_by(|&a, &b| {
            match (kept.get(a), kept.get(b)) {
                (Some(x), Some(y)) => x
                    .time_ms
                    .total_cmp(&y.time_ms)
                    .then(x.count.cmp(&y.count))
                    // Equal: the earlier kept one.
                    .then(b.cmp(&a)),
                _ => a.cmp(&b),
            }
        });
        match best.and_then(|i| kept.get_mut(i)) {
            Some(server) => server.absorb(group, queries),
            None => {
                if let Some((first, _)) = group.keys.first() {
                    by_first.entry(first.clone()).or_default().push(kept.len());
                }
                kept.push(group);
            }
        }
    }
    kept
}

/// The filters of one table in one statement.
#[derive(Default)]
struct Filters {
    /// Equality keys in query order (value filters, then join columns).
    eq: Vec<Key>,
    /// Range columns in query order.
    ranges: Vec<String>,
}

/// The candidates of one statement: (table, need) pairs not served yet.
fn needs(shape: &Shape, b: &Build<'_>, summary: &mut WorkloadSummary) -> Vec<(usize, Need)> {
    let mut out = Vec::new();
    if !matches!(
        shape.kind,
        StatementKind::Select | StatementKind::Update | StatementKind::Delete
    ) {
        summary.not_reads += 1;
        return out;
    }
    if shape.or_across_columns {
        summary.or_across_columns += 1;
        return out;
    }
    // The statement's schema tables in order of appearance; one named twice is ambiguous.
    let mut statement: Vec<usize> = Vec::new();
    let mut twice: Vec<usize> = Vec::new();
    for t in &shape.tables {
        if let Some(i) = b.tables.find(&t.name) {
            if statement.contains(&i) {
                twice.push(i);
            } else {
                statement.push(i);
            }
        }
    }
    if statement.is_empty() {
        summary.unknown_tables += 1;
        return out;
    }
    let table_of = |i: usize| b.schema.tables.get(i);
    let has_column = |i: usize, column: &str| {
        table_of(i).is_some_and(|t| t.columns.is_empty() || t.column(column).is_some())
    };
    // (position in `statement`) of a column's table.
    let resolve = |table: Option<&str>, column: &str| -> Option<usize> {
        let position = match table {
            Some(name) => {
                let i = b.tables.find(name)?;
                statement.iter().position(|&s| s == i)?
            }
            // Unqualified in a multi-table scope: the one table that has the
            // column (not with derived tables or CTEs, whose columns are unknown).
            None if shape.subqueries == 0 => {
                let mut found = statement.iter().enumerate().filter(|(_, &i)| {
                    table_of(i).is_some_and(|t| t.column(column).is_some() || t.columns.is_empty())
                });
                let (position, _) = found.next()?;
                if found.next().is_some() {
                    return None;
                }
                position
            }
            None => return None,
        };
        let i = *statement.get(position)?;
        has_column(i, column).then_some(position)
    };
    let mut filters: Vec<Filters> = statement.iter().map(|_| Filters::default()).collect();
    for p in &shape.predicates {
        if p.clause == Clause::Having {
            continue;
        }
        let role = match p.op {
            PredicateOp::Eq => Role::Eq,
            PredicateOp::In => Role::In,
            PredicateOp::IsNull => Role::IsNull,
            PredicateOp::Range => Role::Range,
            PredicateOp::LikePrefix if b.schema.dialect == Dialect::Mysql => Role::Range,
            _ => continue,
        };
        let Some(f) = resolve(p.table.as_deref(), &p.column).and_then(|i| filters.get_mut(i))
        else {
            continue;
        };
        if role == Role::Range {
            if !f.ranges.contains(&p.column) {
                f.ranges.push(p.column.clone());
            }
        } else {
            match f.eq.iter_mut().find(|k| k.column == p.column) {
                // `=` beats IN beats IS NULL for one column.
                Some(k) => k.role = k.role.min(role),
                None => f.eq.push(Key {
                    column: p.column.clone(),
                    role,
                    desc: false,
                }),
            }
        }
    }
    for join in &shape.joins {
        let left = resolve(join.left.table.as_deref(), &join.left.column);
        let right = resolve(join.right.table.as_deref(), &join.right.column);
        let (Some(l), Some(r)) = (left, right) else {
            continue;
        };
        if l == r {
            continue;
        }
        // The inner side: the table named later.
        let (inner, column) = if l > r {
            (l, &join.left.column)
        } else {
            (r, &join.right.column)
        };
        if let Some(f) = filters.get_mut(inner) {
            if !f.eq.iter().any(|k| &k.column == column) {
                f.eq.push(Key {
                    column: column.clone(),
                    role: Role::Join,
                    desc: false,
                });
            }
        }
    }
    // ORDER BY: plain columns of the first table only.
    let sort: Option<Vec<(String, bool)>> = (!shape.order_by.is_empty())
        .then(|| {
            shape
                .order_by
                .iter()
                .map(|item| {
                    let column = item.column.as_ref()?;
                    (resolve(item.table.as_deref(), column)? == 0)
                        .then(|| (column.clone(), item.direction == Direction::Desc))
                })
                .collect::<Option<Vec<_>>>()
        })
        .flatten();

    for (position, (f, &table_index)) in filters.into_iter().zip(&statement).enumerate() {
        if twice.contains(&table_index) {
            continue;
        }
        let (Some(table), Some(indexes)) = (table_of(table_index), b.existing.get(table_index))
        else {
            continue;
        };
        if f.eq.is_empty() && f.ranges.is_empty() && (position != 0 || sort.is_none()) {
            continue;
        }
        if table.rows.is_some_and(|r| r < b.min_rows) {
            summary.small_tables += 1;
            continue;
        }
        let mut eq = f.eq;
        // A join column an index already leads with: that lookup is served.
        eq.retain(|k| {
            k.role != Role::Join
                || !indexes.iter().any(|ix| {
                    ix.implied.is_none()
                        && ix
                            .keys
                            .first()
                            .is_some_and(|f| f.column == Some(k.column.as_str()))
                })
        });
        let value_eq: Vec<String> = eq
            .iter()
            .filter(|k| matches!(k.role, Role::Eq | Role::In))
            .map(|k| k.column.clone())
            .collect();
        let ranges: Vec<&String> = f
            .ranges
            .iter()
            .filter(|r| !eq.iter().any(|k| &k.column == *r))
            .collect();
        // Sort items fixed by `=` / IS NULL drop out; one on another equality key ends the sort.
        let sort_items: Vec<(String, bool)> = match (&sort, position) {
            (Some(items), 0) => {
                let mut rest = Vec::new();
                let mut usable = true;
                for (column, desc) in items {
                    match eq.iter().find(|k| &k.column == column) {
                        Some(k) if matches!(k.role, Role::Eq | Role::IsNull) => {}
                        Some(_) => usable = false,
                        None => rest.push((column.clone(), *desc)),
                    }
                }
                if usable {
                    rest
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        };
        order_equalities(&mut eq, table);
        let mut tail: Vec<Key> = Vec::new();
        let mut sorted = false;
        if !ranges.is_empty() {
            let first_sort = sort_items.first().map(|(c, _)| c);
            let pick = ranges
                .iter()
                .find(|r| Some(**r) == first_sort)
                .or_else(|| {
                    ranges
                        .iter()
                        .filter(|r| table.column(r).and_then(|c| c.distinct).is_some())
                        .max_by_key(|r| {
                            (
                                table.column(r).and_then(|c| c.distinct),
                                Reverse(ranges.iter().position(|x| x == *r)),
                            )
                        })
                })
                .or_else(|| ranges.first());
            if let Some(column) = pick {
                let sorts = matches!(sort_items.as_slice(), [(c, _)] if c == *column);
                tail.push(Key {
                    column: (*column).clone(),
                    role: if sorts { Role::RangeSort } else { Role::Range },
                    desc: false,
                });
            }
        } else if !sort_items.is_empty() && (!eq.is_empty() || shape.limit.is_some()) {
            let mixed = sort_items.iter().any(|(_, d)| *d) && sort_items.iter().any(|(_, d)| !*d);
            sorted = true;
            tail = sort_items
                .into_iter()
                .map(|(column, desc)| Key {
                    column,
                    role: Role::Sort,
                    desc: mixed && desc,
                })
                .collect();
        }
        if eq.is_empty() && tail.is_empty() {
            continue;
        }
        if tail.is_empty()
            && eq
                .iter()
                .all(|k| k.role == Role::IsNull || low_cardinality(table, &k.column))
        {
            continue;
        }
        eq.truncate(MAX_INDEX_COLUMNS);
        tail.truncate(MAX_INDEX_COLUMNS - eq.len());
        let need = Need {
            eq: eq.len(),
            keys: eq.into_iter().chain(tail).collect(),
            sorted,
        };
        summary.candidates += 1;
        if served(indexes, &need, &value_eq) {
            summary.already_served += 1;
            continue;
        }
        out.push((table_index, need));
    }
    out
}

/// Urgency of an index that serves `time_ms` of queries on a table of `rows`.
pub(crate) fn priority(time_ms: f64, rows: Option<u64>) -> Priority {
    let large = rows.is_some_and(|r| r >= LARGE_TABLE_ROWS);
    if time_ms >= CRITICAL_MS && large {
        Priority::Critical
    } else if time_ms >= HIGH_MS || large {
        Priority::High
    } else if time_ms >= MEDIUM_MS {
        Priority::Medium
    } else {
        Priority::Low
    }
}

/// `5,400 ms`, `3.2 ms`
fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.1} ms")
    } else {
        // `as` saturates; a real total is far below u64::MAX.
        format!("{} ms", render::count(v.round() as u64))
    }
}

fn calls(n: u64) -> String {
    if n == 1 {
        "1 call".to_owned()
    } else {
        format!("{} calls", render::count(n))
    }
}

fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn short_sql(sql: &str) -> String {
    match sql.char_indices().nth(QUOTED_SQL_CHARS) {
        Some((cut, _)) => format!("{}…", sql.get(..cut).unwrap_or(sql)),
        None => sql.to_owned(),
    }
}

/// `at app/...:14 in Api::StatsController#index`, or the fingerprint.
fn origin(q: &WorkloadQuery) -> String {
    match (q.locations.first(), q.sources.first()) {
        (Some(l), Some(s)) => format!("at {l} in {s}"),
        (Some(l), None) => format!("at {l}"),
        (None, Some(s)) => format!("in {s}"),
        (None, None) => format!("fingerprint {}", q.fingerprint),
    }
}

/// The queries heaviest first.
fn heaviest<'q>(positions: &[usize], queries: &'q [WorkloadQuery]) -> Vec<&'q WorkloadQuery> {
    let mut out: Vec<&WorkloadQuery> = positions.iter().filter_map(|&q| queries.get(q)).collect();
    out.sort_by(|a, b| {
        b.total_ms
            .total_cmp(&a.total_ms)
            .then(b.count.cmp(&a.count))
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    out
}

/// "`SELECT ...` (1,200 calls, 5,400 ms, at app/...:14); ..."
fn quoted(list: &[&WorkloadQuery]) -> String {
    let mut parts: Vec<String> = list
        .iter()
        .take(QUOTED_QUERIES)
        .map(|q| {
            format!(
                "`{}` ({}, {}, {})",
                short_sql(&q.sql),
                calls(q.count),
                ms(q.total_ms),
                origin(q)
            )
        })
        .collect();
    if list.len() > QUOTED_QUERIES {
        parts.push(format!("{} more in `queries`", list.len() - QUOTED_QUERIES));
    }
    parts.join("; ")
}

/// "The N+1 at app/...:14 (1,200 calls) filters on user_id with no index."
fn n_plus_ones(
    needs: &[(usize, Need)],
    queries: &[WorkloadQuery],
    no_index: &dyn Fn(&Need) -> bool,
) -> String {
    let mut seen: Vec<usize> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    let mut list: Vec<&(usize, Need)> = needs.iter().collect();
    list.sort_by(|a, b| {
        let (x, y) = (queries.get(a.0), queries.get(b.0));
        let time = |q: Option<&WorkloadQuery>| q.map_or(0.0, |q| q.total_ms);
        time(y).total_cmp(&time(x)).then(a.0.cmp(&b.0))
    });
    for (position, need) in list {
        let Some(q) = queries.get(*position).filter(|q| q.n_plus_one) else {
            continue;
        };
        if seen.contains(position) || out.len() >= QUOTED_N_PLUS_ONES {
            continue;
        }
        seen.push(*position);
        let columns: Vec<String> = need
            .keys
            .iter()
            .filter(|k| k.role != Role::Sort)
            .map(|k| k.column.clone())
            .collect();
        let what = if columns.is_empty() {
            "sorts".to_owned()
        } else {
            format!("filters on {}", and_list(&columns))
        };
        let index = if no_index(need) {
            "with no index: each call scans the table"
        } else {
            "with no index that serves it fully"
        };
        let at = match (q.locations.first(), q.sources.first()) {
            (Some(l), _) => format!("at {l}"),
            (None, Some(s)) => format!("in {s}"),
            (None, None) => format!("(fingerprint {})", q.fingerprint),
        };
        out.push(format!("The N+1 {at} ({}) {what} {index}.", calls(q.count)));
    }
    out.join(" ")
}

/// How each key column is used, in index order.
fn key_roles(group: &Group, table: &Table) -> String {
    let total = {
        let mut q: Vec<usize> = group.needs.iter().map(|(q, _)| *q).collect();
        q.sort_unstable();
        q.dedup();
        q.len()
    };
    let parts: Vec<String> = group
        .keys
        .iter()
        .map(|(column, desc)| {
            let mut roles: BTreeMap<Role, usize> = BTreeMap::new();
            for (_, need) in &group.needs {
                if let Some(k) = need.keys.iter().find(|k| &k.column == column) {
                    *roles.entry(k.role).or_default() += 1;
                }
            }
            let uses: Vec<String> = roles
                .iter()
                .map(|(role, n)| {
                    if total > 1 {
                        format!("{} in {n} of {total} queries", role.phrase())
                    } else {
                        role.phrase().to_owned()
                    }
                })
                .collect();
            let mut notes = uses.join(", ");
            if let Some(c) = table.column(column) {
                if let Some(d) = c.distinct {
                    notes.push_str(&format!("; ~{} distinct values", render::count(d)));
                } else if is_boolean(&c.sql_type) {
                    notes.push_str("; boolean");
                }
            }
            if *desc {
                notes.push_str("; DESC");
            }
            format!("{column} ({notes})")
        })
        .collect();
    parts.join(", ")
}

/// Why the keys come in this order, from the roles they play.
fn rationale(group: &Group) -> &'static str {
    let has = |role: Role| {
        group
            .needs
            .iter()
            .any(|(_, n)| n.keys.iter().any(|k| k.role == role))
    };
    let eq = group
        .needs
        .iter()
        .any(|(_, n)| n.keys.iter().any(|k| k.role.is_equality()));
    match (
        eq,
        has(Role::Range) || has(Role::RangeSort),
        has(Role::Sort),
    ) {
        (true, true, _) => {
            "Equality keys come first (a btree seeks on them in any order; the more distinct \
             values, the earlier, so the index also serves lookups by its first column), then \
             the one range column: a btree can use a range only on the key right after the \
             equalities."
        }
        (true, false, true) => {
            "Equality keys come first (the more distinct values, the earlier), then the ORDER BY \
             columns: the matching rows come out of the index already sorted, so there is no \
             sort and a LIMIT stops early."
        }
        (true, false, false) => {
            "Equality keys only: the more distinct values, the earlier, so the index also serves \
             lookups by its first column; low-cardinality and IS NULL columns go last."
        }
        (false, true, _) => "A range scan on the column instead of reading the whole table.",
        (false, false, _) => {
            "The ORDER BY columns: the rows come out of the index already sorted, so a LIMIT \
             reads only the first few."
        }
    }
}

/// A `workload_index` suggestion for a group; `fk` is the unindexed foreign
/// key it also covers.
pub(crate) fn suggestion(
    ctx: &Context<'_>,
    table: &Table,
    views: &[View<'_>],
    group: &Group,
    queries: &[WorkloadQuery],
    fk: Option<(&ForeignKey, Priority)>,
) -> Suggestion {
    let columns: Vec<String> = group.keys.iter().map(|(c, _)| c.clone()).collect();
    let descending: Vec<String> = group
        .keys
        .iter()
        .filter(|(_, d)| *d)
        .map(|(c, _)| c.clone())
        .collect();
    let name = render::rails_index_name(render::bare(&table.name), &columns);
    let served = heaviest(&group.queries, queries);
    let n = served.len();
    let leads = |column: &str| {
        views.iter().any(|v| {
            v.predicate.is_none()
                && v.keys
                    .first()
                    .is_some_and(|k| !k.expression && k.text == column)
        })
    };
    let no_index = |need: &Need| need.keys.iter().all(|k| !leads(&k.column));
    let mut reason = format!(
        "{} {} on {} took {} in {} and no index serves {}: {}. Key order: {}. {}",
        n,
        if n == 1 { "query" } else { "queries" },
        table_stats(table),
        ms(group.time_ms),
        calls(group.count),
        if n == 1 { "it" } else { "them" },
        quoted(&served),
        key_roles(group, table),
        rationale(group),
    );
    let partial: Vec<String> = views
        .iter()
        .filter(|v| {
            v.predicate.is_none()
                && v.index.is_btree()
                && !v.keys.is_empty()
                && v.keys.len() < group.keys.len()
                && v.keys
                    .iter()
                    .zip(&group.keys)
                    .all(|(k, (c, _))| !k.expression && &k.text == c)
        })
        .map(|v| super::describe(&v.index))
        .collect();
    if !partial.is_empty() {
        reason.push_str(&format!(
            " Today {} {} only the leading part: the other conditions are checked (and the \
             rows sorted) row by row.",
            and_list(&partial),
            if partial.len() == 1 {
                "serves"
            } else {
                "serve"
            },
        ));
    }
    let n1 = n_plus_ones(&group.needs, queries, &no_index);
    if !n1.is_empty() {
        reason.push(' ');
        reason.push_str(&n1);
    }
    let estimate = size::estimate(table, &columns, ctx.dialect);
    if let Some(e) = &estimate {
        reason.push_str(&format!(" The index would take {}.", e.phrase()));
    }
    let mut priority = priority(group.time_ms, table.rows);
    if let Some((fk, fk_priority)) = fk {
        let target = fk.to_table.as_deref().unwrap_or("its parent table");
        let action = fk
            .on_delete
            .map(|a| format!(", ON DELETE {}", a.sql()))
            .unwrap_or_default();
        reason.push_str(&format!(
            " It also covers the foreign key {} (to {target}{action}), which no index leads \
             with: add this one instead of an index on {} alone.",
            fk.columns.join(", "),
            fk.columns.join(", ")
        ));
        priority = priority.min(fk_priority);
    }
    Suggestion {
        kind: SuggestionKind::WorkloadIndex,
        table: table.name.clone(),
        columns: columns.clone(),
        index_name: name.clone(),
        covered_by: None,
        via: fk.map(|(fk, _)| fk.via),
        references: fk.and_then(|(fk, _)| fk.to_table.clone()),
        on_delete: fk.and_then(|(fk, _)| fk.on_delete),
        migration: render::add_index_migration(
            ctx.dialect,
            ctx.version,
            &table.name,
            &columns,
            &descending,
            &name,
        ),
        sql: render::create_index_sql(ctx.dialect, &table.name, &name, &columns, &descending),
        reason,
        priority,
        size_bytes: estimate.map(|e| e.bytes),
        trade_offs: trade_offs(ctx.dialect, table, views, group, estimate.as_ref()),
        descending,
        queries: served.into_iter().cloned().collect(),
        time_ms: Some(group.time_ms),
        droppable: Vec::new(),
        write_load: None,
    }
}

fn trade_offs(
    dialect: Dialect,
    table: &Table,
    views: &[View<'_>],
    group: &Group,
    estimate: Option<&size::Estimate>,
) -> String {
    let existing = views.len();
    let columns: Vec<String> = group.keys.iter().map(|(c, _)| c.clone()).collect();
    let space = estimate.map_or_else(String::new, |e| format!(" ({}, estimated)", e.short()));
    let mut out = format!(
        "{} already has {} index{}; this one makes {}, and every INSERT and DELETE, and \
         every UPDATE of {}, writes it too; it also takes disk space{space}.",
        table.name,
        existing,
        if existing == 1 { "" } else { "es" },
        existing + 1,
        and_list(&columns),
    );
    // Existing plain indexes that become a left prefix of the new one.
    let prefixes: Vec<&str> = views
        .iter()
        .filter(|v| {
            !v.synthetic
                && !v.index.enforces()
                && v.index.is_btree()
                && v.predicate.is_none()
                && v.include.is_empty()
                && !v.keys.is_empty()
                && v.keys.len() < group.keys.len()
                && v.keys
                    .iter()
                    .zip(&group.keys)
                    .all(|(k, (c, d))| !k.expression && &k.text == c && k.desc == *d)
        })
        .map(|v| v.index.name.as_str())
        .collect();
    if !prefixes.is_empty() {
        out.push_str(&format!(
            " Once it is built, {} {} a left prefix of it, so dropping {} gets that write \
             cost back.",
            and_list(&prefixes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()),
            if prefixes.len() == 1 { "is" } else { "are" },
            if prefixes.len() == 1 {
                "that one"
            } else {
                "those"
            },
        ));
    }
    if dialect == Dialect::Postgres && columns.iter().any(|c| c == "updated_at") {
        out.push_str(
            " updated_at changes on every update, so indexing it ends PostgreSQL's HOT \
             (heap-only) updates for this table.",
        );
    }
    out.push(' ');
    out.push_str(build_note(dialect));
    out
}

/// Attaches groups' queries to a `missing_foreign_key_index` suggestion.
pub(crate) fn attach(
    s: &mut Suggestion,
    table: &Table,
    groups: &[&Group],
    queries: &[WorkloadQuery],
) {
    let mut positions: Vec<usize> = groups
        .iter()
        .flat_map(|g| g.queries.iter().copied())
        .collect();
    positions.sort_unstable();
    positions.dedup();
    if positions.is_empty() {
        return;
    }
    let served = heaviest(&positions, queries);
    let time: f64 = positions
        .iter()
        .filter_map(|&q| queries.get(q))
        .map(|q| q.total_ms)
        .sum();
    let count = positions
        .iter()
        .filter_map(|&q| queries.get(q))
        .fold(0u64, |acc, q| acc.saturating_add(q.count));
    let n = served.len();
    s.reason.push_str(&format!(
        " The recorded workload looks rows up by {} here: {} {}, {}, {} in total — {}.",
        s.columns.join(", "),
        n,
        if n == 1 { "query" } else { "queries" },
        calls(count),
        ms(time),
        quoted(&served),
    ));
    let needs: Vec<(usize, Need)> = groups
        .iter()
        .flat_map(|g| g.needs.iter().cloned())
        .collect();
    let n1 = n_plus_ones(&needs, queries, &|_| true);
    if !n1.is_empty() {
        s.reason.push(' ');
        s.reason.push_str(&n1);
    }
    s.priority = s.priority.min(priority(time, table.rows));
    s.queries = served.into_iter().cloned().collect();
    s.time_ms = Some(time);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_marks_become_binds_where_a_value_goes() {
        let pg = |s: &str| parseable(s, Dialect::Postgres).into_owned();
        assert_eq!(
            pg(r#"SELECT "t".* FROM "t" WHERE "t"."a" = ? AND "t"."b" IN (?) LIMIT ? OFFSET ?"#),
            r#"SELECT "t".* FROM "t" WHERE "t"."a" = $1 AND "t"."b" IN ($1) LIMIT $1 OFFSET $1"#
        );
        assert_eq!(
            pg("SELECT * FROM t WHERE data ? ? AND x BETWEEN ? AND ?"),
            "SELECT * FROM t WHERE data ? $1 AND x BETWEEN $1 AND $1"
        );
        assert_eq!(pg("SELECT 1"), "SELECT 1");
        assert_eq!(parseable("a = ?", Dialect::Mysql), "a = ?");
    }
}
