//! `missing_foreign_key_index`: foreign keys (declared, from associations, by
//! Rails naming conventions) that no usable index leads with.

use std::collections::HashSet;

use super::{
    inflect, raise, render, size, table_stats, Context, Suggestion, SuggestionKind, Via, View,
};
use crate::detect::Priority;
use crate::schema::{OnDelete, Schema, Table};
use crate::Dialect;

/// Rows from which a missing foreign key index is high priority.
const HIGH_ROWS: u64 = 100_000;
/// Rows from which it is medium priority.
const MEDIUM_ROWS: u64 = 10_000;

/// One foreign key column set of one table.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub table_index: usize,
    /// In index order: `[type, id]` for a polymorphic pair.
    pub columns: Vec<String>,
    pub via: Via,
    pub to_table: Option<String>,
    pub on_delete: Option<OnDelete>,
    pub name: Option<String>,
    /// The `_id` column of a polymorphic pair.
    pub polymorphic_id: Option<String>,
}

/// Every foreign key candidate, one per table and column set: a declared
/// foreign key first, then an association, then the naming conventions.
pub(crate) fn candidates(schema: &Schema) -> Vec<Candidate> {
    let positions = schema.positions();
    let position = |name: &str| positions.get(name).copied();
    let mut out: Vec<Candidate> = Vec::new();
    let mut seen: HashSet<(usize, Vec<String>)> = HashSet::new();
    let mut push = |candidate: Candidate, out: &mut Vec<Candidate>| {
        let mut key = candidate.columns.clone();
        key.sort();
        if !key.is_empty() && seen.insert((candidate.table_index, key)) {
            out.push(candidate);
        }
    };

    for (table_index, table) in schema.tables.iter().enumerate() {
        for fk in &table.foreign_keys {
            push(
                Candidate {
                    table_index,
                    columns: fk.columns.clone(),
                    via: Via::Declared,
                    to_table: Some(fk.to_table.clone()),
                    on_delete: fk.on_delete,
                    name: fk.name.clone(),
                    polymorphic_id: None,
                },
                &mut out,
            );
        }
    }

    for association in &schema.associations {
        let Some(table_index) = position(&association.table) else {
            continue;
        };
        let Some(table) = schema.tables.get(table_index) else {
            continue;
        };
        // A model's stale reflection: the column is not in the table.
        let has = |c: &str| table.columns.is_empty() || table.column(c).is_some();
        let id = association.foreign_key.clone();
        let candidate = if association.polymorphic {
            let type_column = association
                .foreign_type
                .clone()
                .unwrap_or_else(|| format!("{}_type", id.strip_suffix("_id").unwrap_or(&id)));
            if !has(&id) || !has(&type_column) {
                continue;
            }
            Candidate {
                table_index,
                columns: vec![type_column, id.clone()],
                via: Via::Association,
                to_table: None,
                on_delete: None,
                name: None,
                polymorphic_id: Some(id),
            }
        } else {
            if !has(&id) {
                continue;
            }
            Candidate {
                table_index,
                columns: vec![id],
                via: Via::Association,
                to_table: association.to_table.clone(),
                on_delete: None,
                name: None,
                polymorphic_id: None,
            }
        };
        push(candidate, &mut out);
    }

    for (table_index, table) in schema.tables.iter().enumerate() {
        for column in &table.columns {
            let Some(prefix) = column.name.strip_suffix("_id").filter(|p| !p.is_empty()) else {
                continue;
            };
            let type_column = format!("{prefix}_type");
            if table
                .column(&type_column)
                .is_some_and(|c| is_string_type(&c.sql_type))
                && (is_key_type(&column.sql_type) || is_string_type(&column.sql_type))
            {
                push(
                    Candidate {
                        table_index,
                        columns: vec![type_column, column.name.clone()],
                        via: Via::Polymorphic,
                        to_table: None,
                        on_delete: None,
                        name: None,
                        polymorphic_id: Some(column.name.clone()),
                    },
                    &mut out,
                );
                continue;
            }
            if !is_key_type(&column.sql_type) {
                continue;
            }
            let plural = inflect::pluralize(prefix);
            let to_table = [plural.as_str(), prefix]
                .into_iter()
                .find(|name| position(name).is_some());
            if let Some(to_table) = to_table {
                push(
                    Candidate {
                        table_index,
                        columns: vec![column.name.clone()],
                        via: Via::Convention,
                        to_table: Some(to_table.to_owned()),
                        on_delete: None,
                        name: None,
                        polymorphic_id: None,
                    },
                    &mut out,
                );
            }
        }
    }

    // A polymorphic pair is looked up by both columns: its `_id` alone (from an
    // association or a naming coincidence) is not a second suggestion.
    let pairs: HashSet<(usize, String)> = out
        .iter()
        .filter_map(|c| c.polymorphic_id.clone().map(|id| (c.table_index, id)))
        .collect();
    out.retain(|c| {
        c.via == Via::Declared
            || c.polymorphic_id.is_some()
            || !matches!(c.columns.as_slice(), [one] if pairs.contains(&(c.table_index, one.clone())))
    });
    out
}

/// Integer and uuid types, as PostgreSQL, MySQL and SQLite spell them.
fn is_key_type(sql_type: &str) -> bool {
    let lower = sql_type.trim().to_ascii_lowercase();
    let base = lower.split(['(', ' ']).next().unwrap_or_default();
    matches!(
        base,
        "integer"
            | "int"
            | "int2"
            | "int4"
            | "int8"
            | "bigint"
            | "smallint"
            | "mediumint"
            | "serial"
            | "bigserial"
            | "uuid"
    )
}

fn is_string_type(sql_type: &str) -> bool {
    let lower = sql_type.trim().to_ascii_lowercase();
    let base = lower.split(['(', ' ']).next().unwrap_or_default();
    matches!(
        base,
        "character" | "varchar" | "text" | "string" | "char" | "citext" | "nvarchar" | "nchar"
    )
}

/// Positions (in `views`) of the indexes that cover the candidate: btree or
/// hash, not partial, leading with its columns (in any order for a
/// composite key); for a polymorphic pair also an index leading with its
/// `_id` column.
pub(crate) fn covering(views: &[View<'_>], candidate: &Candidate) -> Vec<usize> {
    let leading_column = |view: &View<'_>, n: usize| -> Option<Vec<String>> {
        let keys = view.keys.get(..n)?;
        keys.iter()
            .map(|k| (!k.expression).then(|| k.text.clone()))
            .collect()
    };
    let mut wanted = candidate.columns.clone();
    wanted.sort();
    views
        .iter()
        .enumerate()
        .filter(|(_, v)| {
            let usable = v.predicate.is_none()
                && (v.index.is_btree() || v.index.method.eq_ignore_ascii_case("hash"));
            if !usable {
                return false;
            }
            let leads_with_all = leading_column(v, wanted.len()).is_some_and(|mut cols| {
                cols.sort();
                cols == wanted
            });
            let leads_with_id = candidate.polymorphic_id.as_ref().is_some_and(|id| {
                leading_column(v, 1).is_some_and(|cols| cols.first() == Some(id))
            });
            leads_with_all || leads_with_id
        })
        .map(|(i, _)| i)
        .collect()
}

pub(crate) fn suggestion(ctx: &Context<'_>, table: &Table, candidate: &Candidate) -> Suggestion {
    let name = render::rails_index_name(render::bare(&table.name), &candidate.columns);
    let estimate = size::estimate(table, &candidate.columns, ctx.dialect);
    let mut reason = reason(table, candidate);
    if let Some(e) = &estimate {
        reason.push_str(&format!(" The index would take {}.", e.phrase()));
    }
    let base = match table.rows {
        None => Priority::Medium,
        Some(rows) if rows >= HIGH_ROWS => Priority::High,
        Some(rows) if rows >= MEDIUM_ROWS => Priority::Medium,
        Some(_) => Priority::Low,
    };
    let priority = match candidate.on_delete {
        Some(action) if action.writes_children() => raise(base),
        _ => base,
    };
    Suggestion {
        kind: SuggestionKind::MissingForeignKeyIndex,
        table: table.name.clone(),
        columns: candidate.columns.clone(),
        index_name: name.clone(),
        covered_by: None,
        via: Some(candidate.via),
        references: candidate.to_table.clone(),
        on_delete: candidate.on_delete,
        migration: render::add_index_migration(
            ctx.dialect,
            ctx.version,
            &table.name,
            &candidate.columns,
            &[],
            &name,
        ),
        sql: render::create_index_sql(ctx.dialect, &table.name, &name, &candidate.columns, &[]),
        reason,
        priority,
        size_bytes: estimate.map(|e| e.bytes),
        trade_offs: trade_offs(ctx.dialect, table, estimate.as_ref()),
        descending: Vec::new(),
        queries: Vec::new(),
        time_ms: None,
        droppable: Vec::new(),
        write_load: None,
    }
}

fn reason(table: &Table, candidate: &Candidate) -> String {
    let columns = candidate.columns.join(", ");
    let subject = if candidate.columns.len() == 1 {
        format!("{}.{columns}", table.name)
    } else {
        format!("{} ({columns})", table.name)
    };
    let stats = table_stats(table);
    let target = candidate.to_table.as_deref().unwrap_or("its parent table");
    match candidate.via {
        Via::Declared => {
            let constraint = match (&candidate.name, candidate.on_delete) {
                (Some(name), Some(action)) => {
                    format!(" (foreign key {name}, ON DELETE {})", action.sql())
                }
                (Some(name), None) => format!(" (foreign key {name})"),
                (None, Some(action)) => format!(" (ON DELETE {})", action.sql()),
                (None, None) => String::new(),
            };
            let effect = match candidate.on_delete {
                Some(OnDelete::Cascade) => "find the rows to delete with it".to_owned(),
                Some(OnDelete::SetNull) => format!("find the rows whose {columns} it sets to NULL"),
                Some(OnDelete::SetDefault) => {
                    format!("find the rows whose {columns} it resets to the default")
                }
                _ => "check that no row still references it".to_owned(),
            };
            format!(
                "{subject} references {target}{constraint} and no index starts with it. \
                 Every delete from {target} scans {stats} to {effect}, and every join or \
                 lookup by {columns} scans it too."
            )
        }
        Via::Association => match &candidate.polymorphic_id {
            Some(_) => format!(
                "{subject} is the key of a polymorphic belongs_to association and no index \
                 starts with it. Every lookup of the records that belong to one parent \
                 scans {stats}."
            ),
            None => format!(
                "{subject} is the foreign key of a belongs_to association to {target} and no \
                 index starts with it. Every has_many lookup, join or preload through it \
                 scans {stats}."
            ),
        },
        Via::Convention => format!(
            "{subject} names {target} by Rails convention (no foreign key is declared) and \
             no index starts with it. Every association lookup, join or preload through it \
             scans {stats}."
        ),
        Via::Polymorphic => format!(
            "{subject} is a polymorphic reference (a _type column beside the _id) and no \
             index starts with it. Every lookup of the records that belong to one parent \
             scans {stats}."
        ),
    }
}

fn trade_offs(dialect: Dialect, table: &Table, estimate: Option<&size::Estimate>) -> String {
    let space = estimate.map_or_else(String::new, |e| format!(" ({}, estimated)", e.short()));
    format!(
        "Every INSERT, and every UPDATE of the indexed columns, of {} also writes the \
         index, and it takes disk space{space}. {}",
        table.name,
        build_note(dialect)
    )
}

/// What building a new index costs while it runs, per dialect.
pub(crate) fn build_note(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "CREATE INDEX CONCURRENTLY does not block writes but takes longer, cannot run \
             inside a transaction (hence disable_ddl_transaction!), and leaves an INVALID \
             index to drop and retry if it fails."
        }
        Dialect::Mysql => {
            "InnoDB builds it online (reads and writes continue), with a brief metadata \
             lock at the start and the end."
        }
        Dialect::Sqlite => "SQLite holds the database's write lock while it builds the index.",
    }
}
