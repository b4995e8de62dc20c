//! `over_indexed_table`: tables whose index count makes writes expensive
//! given the recorded workload's write share.
//!
//! # Counting
//!
//! Every parsed statement of the workload counts with its call count:
//!
//! - a **write** of a table: an `INSERT`, `UPDATE` or `DELETE` (the shape
//!   kind the analyzer gives) whose target, the statement's first table, is
//!   that table;
//! - a **read** of a table: a `SELECT` that reads it (each schema table it
//!   names, in joins and subqueries too).
//!
//! Write share = writes / (reads + writes). A table is flagged when all of:
//!
//! - it has at least `over_index_min` indexes besides the primary key
//!   ([`DEFAULT_OVER_INDEX_MIN`]; unique and constraint indexes count: every
//!   write maintains them too);
//! - its write share is at least `write_share_min` ([`DEFAULT_WRITE_SHARE_MIN`]);
//! - at least `min_writes` write calls were recorded ([`DEFAULT_MIN_WRITES`]).
//!
//! Priority: high with at least [`HIGH_WRITES`] write calls or
//! [`LARGE_TABLE_ROWS`] rows; medium from [`MEDIUM_WRITES`]; else low.
//!
//! # Which indexes it lists for removal
//!
//! An index is listed only when no recorded statement could use it.
//! "Recorded reads" here are the `SELECT`s, the `WHERE` / `JOIN` of
//! `UPDATE` and `DELETE` (they find their rows through an index), and the
//! `SELECT` of an `INSERT ... SELECT`. Never listed:
//!
//! - the primary key, unique indexes and indexes backing a constraint;
//! - an index that leads with the columns of a foreign key (declared, from
//!   an association, or by convention): deleting a parent row looks the
//!   child rows up through it, and the workload does not show that;
//! - an index already suggested as `redundant_index` or `unused_index`
//!   (its own migration drops it; the reason names it);
//! - every index, when a statement of the workload that could not be
//!   parsed names the table: what it reads is unknown.
//!
//! Otherwise a btree or hash index whose first key is a plain column is
//! used when a recorded read on the table has a predicate of any kind on
//! that column (`=`, `IN`, ranges, `LIKE`, `IS [NOT] NULL`, `<>`, a function
//! around it), joins on it, sorts or groups by it, or, for a statement with
//! `MIN` / `MAX` or `DISTINCT`, names it anywhere (an index serves `MAX(col)`
//! and some `DISTINCT`s without a filter). A column of an unqualified
//! reference counts for every table of the statement that has it. A partial
//! index is also used when a recorded read filters on a column of its
//! predicate. Other indexes (GIN, GiST, BRIN, SP-GiST, full-text, spatial,
//! and a btree that leads with an expression) serve operators the query
//! shapes do not show (`@>`, `?`, `@@`, `%`, `&&`, functions): such an index
//! is used when any recorded read on the table names one of its columns
//! anywhere in its text (for an `UPDATE`, from its `WHERE` on: the `SET`
//! list is written, not read), and an expression that names no column of
//! the table is always used.
//!
//! The listed indexes are removed by one migration (`remove_index ...,
//! algorithm: :concurrently` on PostgreSQL); when none is listed the
//! migration and SQL are empty and the reason says to review the write
//! path instead.

use std::collections::HashSet;

use serde::Serialize;

use super::workload::{Tables, LARGE_TABLE_ROWS};
use super::{describe, render, table_stats, Context, Options, Suggestion, SuggestionKind, View};
use crate::detect::Priority;
use crate::schema::{Index, Schema, Table};
use crate::sql::shape::{Shape, StatementKind};
use crate::sql::token::{TokenKind, Tokenizer};
use crate::Dialect;

/// Indexes besides the primary key from which a table can be flagged
/// (`over_index_min` when the options give none).
pub const DEFAULT_OVER_INDEX_MIN: usize = 6;
/// Write share from which a table can be flagged (`write_share_min`).
pub const DEFAULT_WRITE_SHARE_MIN: f64 = 0.5;
/// Write calls from which a table can be flagged (`min_writes`).
pub const DEFAULT_MIN_WRITES: u64 = 100;
/// Write calls from which the suggestion is high priority.
pub const HIGH_WRITES: u64 = 10_000;
/// Write calls from which it is medium priority.
pub const MEDIUM_WRITES: u64 = 1_000;
/// Write statements named in the reason.
const QUOTED_WRITES: usize = 3;

/// The recorded write and read load of a flagged table.
///
/// As JSON: `{"indexes": 8, "inserts": 9000, "updates": 2500, "deletes":
/// 500, "writes": 12000, "reads": 3000, "write_share": 0.8}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteLoad {
    /// Indexes of the table besides the primary key.
    pub indexes: usize,
    /// `INSERT` calls into it.
    pub inserts: u64,
    /// `UPDATE` calls of it.
    pub updates: u64,
    /// `DELETE` calls from it.
    pub deletes: u64,
    /// All three.
    pub writes: u64,
    /// `SELECT` calls that read it.
    pub reads: u64,
    /// writes / (reads + writes).
    pub write_share: f64,
}

/// What the workload does to one table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Traffic {
    inserts: u64,
    updates: u64,
    deletes: u64,
    reads: u64,
    /// Columns (lower case) the recorded reads filter, join, sort or group on.
    used: HashSet<String>,
    /// Positions of the statements that read the table (everything but
    /// being an INSERT's target), and whether it is an UPDATE (whose SET
    /// list names columns it writes, not reads).
    statements: Vec<(usize, bool)>,
    /// Positions of the write statements into it.
    writes: Vec<usize>,
    /// Unparseable statements that name the table.
    opaque: usize,
}

impl Traffic {
    /// Notes a column a read uses.
    fn mark(&mut self, column: &str) {
        if column.bytes().any(|b| b.is_ascii_uppercase()) {
            self.used.insert(column.to_ascii_lowercase());
        } else if !self.used.contains(column) {
            self.used.insert(column.to_owned());
        }
    }
}

/// Records one parsed statement (at `position` in the deduplicated
/// workload, run `count` times) into the tables' traffic.
pub(crate) fn record(
    traffic: &mut [Traffic],
    tables: &Tables<'_>,
    schema: &Schema,
    shape: &Shape,
    sql: &str,
    position: usize,
    count: u64,
) {
    let (table_list, dialect) = (&schema.tables, schema.dialect);
    let kind = shape.kind;
    if !matches!(
        kind,
        StatementKind::Select
            | StatementKind::Insert
            | StatementKind::Update
            | StatementKind::Delete
    ) {
        return;
    }
    let mut statement: Vec<usize> = Vec::new();
    for t in &shape.tables {
        if let Some(i) = tables.find(&t.name) {
            if !statement.contains(&i) {
                statement.push(i);
            }
        }
    }
    let Some(&first) = statement.first() else {
        return;
    };
    if let Some(t) = traffic.get_mut(first) {
        match kind {
            StatementKind::Insert => t.inserts = t.inserts.saturating_add(count),
            StatementKind::Update => t.updates = t.updates.saturating_add(count),
            StatementKind::Delete => t.deletes = t.deletes.saturating_add(count),
            _ => {}
        }
        if kind != StatementKind::Select {
            t.writes.push(position);
        }
    }
    // The tables this statement reads.
    let read: Vec<usize> = statement
        .iter()
        .copied()
        .filter(|&i| !(kind == StatementKind::Insert && i == first))
        .collect();
    for &i in &read {
        if let Some(t) = traffic.get_mut(i) {
            if kind == StatementKind::Select {
                t.reads = t.reads.saturating_add(count);
            }
            t.statements.push((position, kind == StatementKind::Update));
        }
    }
    // A table of a statement that has the column (or whose columns are unknown).
    let has = |i: usize, column: &str| {
        table_list
            .get(i)
            .is_some_and(|t| t.columns.is_empty() || has_column(t, column))
    };
    // Where a column reference goes: its table when it names a schema table
    // of the statement, else every table of the statement with that column.
    let targets = |table: Option<&str>, column: &str| -> Vec<usize> {
        if let Some(i) = table.and_then(|name| tables.find(name)) {
            if statement.contains(&i) {
                return vec![i];
            }
        }
        statement
            .iter()
            .copied()
            .filter(|&i| has(i, column))
            .collect()
    };
    let mut mark = |table: Option<&str>, column: &str| {
        for i in targets(table, column) {
            if let Some(t) = traffic.get_mut(i) {
                t.mark(column);
            }
        }
    };
    for p in &shape.predicates {
        mark(p.table.as_deref(), &p.column);
    }
    for j in &shape.joins {
        mark(j.left.table.as_deref(), &j.left.column);
        mark(j.right.table.as_deref(), &j.right.column);
    }
    for g in &shape.group_by {
        mark(g.table.as_deref(), &g.column);
    }
    let mut words_of: Vec<String> = Vec::new();
    for o in &shape.order_by {
        match (&o.column, &o.expression) {
            (Some(column), _) => mark(o.table.as_deref(), column),
            (None, Some(expression)) => words_of.extend(words(expression, dialect)),
            (None, None) => {}
        }
    }
    let min_max = shape
        .aggregates
        .iter()
        .any(|a| a.eq_ignore_ascii_case("min") || a.eq_ignore_ascii_case("max"));
    if min_max || shape.distinct {
        words_of.extend(words(sql, dialect));
    }
    for word in words_of {
        for &i in &statement {
            if has(i, &word) {
                if let Some(t) = traffic.get_mut(i) {
                    t.mark(&word);
                }
            }
        }
    }
}

/// Records a statement that did not parse: every schema table it names
/// loses its removal list.
pub(crate) fn record_unparseable(
    traffic: &mut [Traffic],
    tables: &Tables<'_>,
    sql: &str,
    dialect: Dialect,
) {
    let mut seen: Vec<usize> = Vec::new();
    let found = words(sql, dialect);
    // `schema.table` as well as bare names.
    let mut pairs: Vec<String> = found
        .windows(2)
        .map(|w| {
            format!(
                "{}.{}",
                w.first().map_or("", String::as_str),
                w.get(1).map_or("", String::as_str)
            )
        })
        .collect();
    pairs.extend(found);
    for word in pairs {
        if let Some(i) = tables.find(&word) {
            if !seen.contains(&i) {
                seen.push(i);
                if let Some(t) = traffic.get_mut(i) {
                    t.opaque += 1;
                }
            }
        }
    }
}

/// The identifiers of a SQL text, lower case, unquoted.
fn words(sql: &str, dialect: Dialect) -> Vec<String> {
    let bytes = sql.as_bytes();
    Tokenizer::new(bytes, dialect)
        .filter_map(|t| {
            let raw = bytes.get(t.start..t.end)?;
            match t.kind {
                TokenKind::Word => Some(String::from_utf8_lossy(raw).to_ascii_lowercase()),
                TokenKind::QuotedIdent => {
                    let inner = raw.get(1..raw.len().saturating_sub(1))?;
                    Some(String::from_utf8_lossy(inner).to_ascii_lowercase())
                }
                _ => None,
            }
        })
        .collect()
}

fn has_column(table: &Table, column: &str) -> bool {
    table
        .columns
        .iter()
        .any(|c| c.name.eq_ignore_ascii_case(column))
}

/// Why an index stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    Enforces,
    ForeignKey,
    Separately,
    Read,
}

/// Everything the rule needs about one table besides its traffic.
pub(crate) struct TableFacts<'a> {
    /// Positions in the views of indexes that lead with a foreign key.
    pub fk_covers: &'a HashSet<usize>,
    /// Indexes suggested for removal by another rule, with that rule.
    pub separately: &'a [(String, SuggestionKind)],
}

/// The suggestion for one table, when it is over-indexed for its writes.
pub(crate) fn suggestion(
    ctx: &Context<'_>,
    options: &Options,
    table: &Table,
    views: &[View<'_>],
    traffic: &Traffic,
    facts: &TableFacts<'_>,
    queries: &[super::WorkloadQuery],
) -> Option<Suggestion> {
    let indexes = table.indexes.iter().filter(|i| !i.primary).count();
    let writes = traffic
        .inserts
        .saturating_add(traffic.updates)
        .saturating_add(traffic.deletes);
    let total = writes.saturating_add(traffic.reads);
    if indexes < options.over_index_min || writes < options.min_writes || writes == 0 || total == 0
    {
        return None;
    }
    let share = writes as f64 / total as f64;
    if share < options.write_share_min {
        return None;
    }

    // Lazily: every identifier the table's reads name.
    let mut mentioned: Option<HashSet<String>> = None;
    let mut mentions = |column: &str| -> bool {
        let set = mentioned.get_or_insert_with(|| {
            let mut set = HashSet::new();
            for &(q, update) in &traffic.statements {
                let Some(q) = queries.get(q) else { continue };
                let all = words(&q.sql, ctx.dialect);
                // An UPDATE reads through its WHERE; its SET list is written.
                let from = if update {
                    all.iter().position(|w| w == "where").unwrap_or(all.len())
                } else {
                    0
                };
                set.extend(all.into_iter().skip(from));
            }
            set
        });
        set.contains(&column.to_ascii_lowercase())
    };
    let used = |column: &str| traffic.used.contains(&column.to_ascii_lowercase());
    let mut droppable: Vec<(&Index, bool)> = Vec::new(); // (index, judged by its leading column)
    let mut kept: Vec<(&Index, Kept)> = Vec::new();
    for (position, view) in views.iter().enumerate() {
        let index = view.index.as_ref();
        if view.synthetic || index.primary {
            continue;
        }
        if index.enforces() {
            kept.push((index, Kept::Enforces));
            continue;
        }
        if facts.fk_covers.contains(&position) {
            kept.push((index, Kept::ForeignKey));
            continue;
        }
        if facts.separately.iter().any(|(n, _)| n == &index.name) {
            kept.push((index, Kept::Separately));
            continue;
        }
        let plain_lead = index
            .keys
            .first()
            .and_then(|k| k.column.as_deref())
            .filter(|_| index.is_btree() || index.method.eq_ignore_ascii_case("hash"));
        let predicate_used = index.predicate.as_deref().is_some_and(|p| {
            words(p, ctx.dialect)
                .iter()
                .any(|w| has_column(table, w) && used(w))
        });
        let is_used = match plain_lead {
            Some(lead) => used(lead) || predicate_used,
            None => {
                // Columns the keys (and expressions) name.
                let mut columns: Vec<String> = Vec::new();
                for key in &index.keys {
                    match (&key.column, &key.expression) {
                        (Some(c), _) => columns.push(c.to_ascii_lowercase()),
                        (None, Some(e)) => columns.extend(
                            words(e, ctx.dialect)
                                .into_iter()
                                .filter(|w| has_column(table, w)),
                        ),
                        (None, None) => {}
                    }
                }
                columns.is_empty()
                    || predicate_used
                    || columns.iter().any(|c| used(c) || mentions(c))
            }
        };
        if is_used {
            kept.push((index, Kept::Read));
        } else {
            droppable.push((index, plain_lead.is_some()));
        }
    }
    if traffic.opaque > 0 {
        droppable.clear();
    }
    droppable.sort_by(|a, b| a.0.name.cmp(&b.0.name));

    let load = WriteLoad {
        indexes,
        inserts: traffic.inserts,
        updates: traffic.updates,
        deletes: traffic.deletes,
        writes,
        reads: traffic.reads,
        write_share: share,
    };
    let names: Vec<String> = droppable.iter().map(|(i, _)| i.name.clone()).collect();
    let dropped: Vec<&Index> = droppable.iter().map(|(i, _)| *i).collect();
    let reason = reason(table, &load, &droppable, &kept, traffic, facts, queries);
    let large = table.rows.is_some_and(|r| r >= LARGE_TABLE_ROWS);
    let priority = if writes >= HIGH_WRITES || large {
        Priority::High
    } else if writes >= MEDIUM_WRITES {
        Priority::Medium
    } else {
        Priority::Low
    };
    let size_bytes = if dropped.is_empty() {
        None
    } else {
        dropped
            .iter()
            .try_fold(0u64, |acc, i| i.size_bytes.map(|s| acc.saturating_add(s)))
    };
    let sql: Vec<String> = dropped
        .iter()
        .map(|i| render::drop_index_sql(ctx.dialect, &table.name, &i.name))
        .collect();
    Some(Suggestion {
        kind: SuggestionKind::OverIndexedTable,
        table: table.name.clone(),
        columns: Vec::new(),
        index_name: String::new(),
        covered_by: None,
        via: None,
        references: None,
        on_delete: None,
        migration: render::remove_indexes_migration(
            ctx.dialect,
            ctx.version,
            &table.name,
            &dropped,
        ),
        sql: sql.join("\n"),
        reason,
        priority,
        size_bytes,
        trade_offs: trade_offs(ctx.dialect, !dropped.is_empty()),
        descending: Vec::new(),
        queries: Vec::new(),
        time_ms: None,
        droppable: names,
        write_load: Some(load),
    })
}

fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p >= 99.95 || p.fract() < 0.05 || p.fract() >= 0.95 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

fn calls(n: u64) -> String {
    if n == 1 {
        "1 call".to_owned()
    } else {
        format!("{} calls", render::count(n))
    }
}

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn reason(
    table: &Table,
    load: &WriteLoad,
    droppable: &[(&Index, bool)],
    kept: &[(&Index, Kept)],
    traffic: &Traffic,
    facts: &TableFacts<'_>,
    queries: &[super::WorkloadQuery],
) -> String {
    let mut kinds: Vec<String> = Vec::new();
    for (n, what) in [
        (load.inserts, "INSERT"),
        (load.updates, "UPDATE"),
        (load.deletes, "DELETE"),
    ] {
        if n > 0 {
            kinds.push(format!("{} {what}", render::count(n)));
        }
    }
    let mut out = format!(
        "{} has {} indexes besides the primary key, and every INSERT and DELETE (and every \
         UPDATE of an indexed column) writes each of them. The recorded workload wrote to it \
         in {} ({}) and read it in {}: {} of its calls are writes.",
        table_stats(table),
        load.indexes,
        calls(load.writes),
        list(&kinds),
        calls(load.reads),
        percent(load.write_share),
    );
    // The heaviest write statements.
    let mut writes: Vec<&super::WorkloadQuery> = traffic
        .writes
        .iter()
        .filter_map(|&q| queries.get(q))
        .collect();
    writes.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    let quoted: Vec<String> = writes
        .iter()
        .take(QUOTED_WRITES)
        .map(|q| {
            let sql = match q.sql.char_indices().nth(120) {
                Some((cut, _)) => format!("{}…", q.sql.get(..cut).unwrap_or(&q.sql)),
                None => q.sql.clone(),
            };
            let at = q
                .locations
                .first()
                .map(|l| format!(", at {l}"))
                .unwrap_or_default();
            format!("`{sql}` ({}{at})", calls(q.count))
        })
        .collect();
    if !quoted.is_empty() {
        out.push_str(&format!(" Heaviest writes: {}.", quoted.join("; ")));
    }
    let by_lead: Vec<String> = droppable
        .iter()
        .filter(|(_, lead)| *lead)
        .map(|(i, _)| describe(i))
        .collect();
    let by_name: Vec<String> = droppable
        .iter()
        .filter(|(_, lead)| !*lead)
        .map(|(i, _)| describe(i))
        .collect();
    if !by_lead.is_empty() {
        out.push_str(&format!(
            " No recorded read filters or sorts on the leading column of {}.",
            list(&by_lead)
        ));
    }
    if !by_name.is_empty() {
        out.push_str(&format!(
            " No recorded read names a column of {}.",
            list(&by_name)
        ));
    }
    if !droppable.is_empty() {
        out.push_str(&format!(
            " Dropping {} takes {} index write{} off every INSERT and DELETE.",
            if droppable.len() == 1 { "it" } else { "them" },
            droppable.len(),
            if droppable.len() == 1 { "" } else { "s" },
        ));
    }
    let count = |k: Kept| kept.iter().filter(|(_, why)| *why == k).count();
    let mut stays: Vec<String> = Vec::new();
    for (k, one, many) in [
        (
            Kept::Enforces,
            "enforces a constraint",
            "enforce a constraint",
        ),
        (
            Kept::ForeignKey,
            "covers a foreign key",
            "cover a foreign key",
        ),
        (
            Kept::Read,
            "can serve recorded reads",
            "can serve recorded reads",
        ),
    ] {
        let n = count(k);
        if n > 0 {
            stays.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    }
    if !stays.is_empty() {
        out.push_str(&format!(" Of the others, {}.", list(&stays)));
    }
    let separately: Vec<String> = facts
        .separately
        .iter()
        .map(|(name, kind)| format!("{name} ({})", kind.as_str()))
        .collect();
    if !separately.is_empty() {
        out.push_str(&format!(
            " Suggested for removal separately: {}.",
            list(&separately)
        ));
    }
    if traffic.opaque > 0 {
        out.push_str(&format!(
            " {} recorded statement{} naming {} could not be parsed, so no index is listed \
             for removal: what they read is unknown.",
            traffic.opaque,
            if traffic.opaque == 1 { "" } else { "s" },
            table.name
        ));
    }
    if droppable.is_empty() {
        out.push_str(
            " No index can be dropped on this evidence: review the write path instead — \
             batch inserts (insert_all / upsert_all), update only the columns that changed, \
             move frequently updated counters or timestamps to their own table, and archive \
             old rows.",
        );
    }
    out
}

fn trade_offs(dialect: Dialect, drops: bool) -> String {
    let hot = if dialect == Dialect::Postgres {
        " On PostgreSQL an UPDATE that changes no indexed column can be a HOT update, which \
         writes no index at all: fewer indexed columns make more updates HOT."
    } else {
        ""
    };
    if !drops {
        return format!(
            "Changes to the write path are application changes: batching needs callbacks and \
             validations reviewed (insert_all skips them), and archiving needs a retention \
             policy.{hot}"
        );
    }
    let drop = match dialect {
        Dialect::Postgres => {
            " DROP INDEX CONCURRENTLY does not block queries but cannot run inside a \
             transaction (hence disable_ddl_transaction!)."
        }
        Dialect::Mysql => " InnoDB drops a secondary index in place, without copying the table.",
        Dialect::Sqlite => "",
    };
    format!(
        "Dropping an index takes its maintenance (and its WAL and disk space) off every \
         write, but a query that needed it falls back to another index or a scan. The \
         workload shows only what was recorded: check the replicas, rarely run jobs \
         (reports, backfills, admin pages) and the index statistics before dropping; \
         bringing an index back is a full build.{hot}{drop}"
    )
}
