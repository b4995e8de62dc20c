//! Estimated size of a new btree index, for the `size_bytes` of
//! `missing_foreign_key_index` and `workload_index` suggestions.
//!
//! # The formula (PostgreSQL's btree layout)
//!
//! One leaf entry per table row:
//!
//! ```text
//! entry     = MAXALIGN(8 + key bytes) + 4
//!             (8-byte IndexTuple header, the key columns' widths summed,
//!              padded to a multiple of 8, plus a 4-byte line pointer)
//! per page  = floor((8192 - 24) * 0.90 / entry)
//!             (8 KiB pages, a 24-byte page header, CREATE INDEX's 90% leaf fill factor)
//! leaf      = ceil(rows / per page)
//! pages     = leaf + ceil(leaf / 100) + 1
//!             (about 1% inner pages, and the metapage)
//! bytes     = pages * 8192
//! ```
//!
//! For example a `bigint` key on 1,000,000 rows: entry = 16 + 4 = 20 bytes,
//! 367 entries a page, 2,725 leaf pages, 28 inner pages and the metapage:
//! 2,754 pages, 22,560,768 bytes (PostgreSQL 15 built it in 22,487,040).
//!
//! **Key bytes** are the sum of the key columns' widths ([`column_width`]):
//! the column's `avg_width` (`pg_stats.avg_width`) when the schema gives it,
//! else a width from the type name ([`type_width`]). On MySQL every InnoDB
//! secondary index entry also holds the primary key: the widths of the
//! primary key columns that are not key columns already are added. The page
//! layout is PostgreSQL's; for InnoDB (16 KiB pages, smaller record headers)
//! and SQLite the result is a rough figure of the same order.
//!
//! # Deduplication (PostgreSQL 13 and later)
//!
//! A non-unique btree stores a repeated key once, followed by a posting list
//! of 6-byte row pointers. On PostgreSQL, when every key column has a
//! `distinct` estimate and the types are ones PostgreSQL deduplicates
//! (integers, booleans, dates and times, uuid, text and bytea; not numeric,
//! floating point or anything else), the key combinations are
//! `min(rows, product of the distinct counts)`; with at least 2 rows per
//! combination on average the leaf level is computed from posting-list
//! tuples instead: each holds at most `(808 - MAXALIGN(8 + key bytes)) / 6`
//! pointers (CREATE INDEX caps a posting-list tuple at 812 bytes), each
//! tuple is `MAXALIGN(MAXALIGN(8 + key bytes) + 6 * pointers)` plus its line
//! pointer, and the leaf pages are `ceil(total bytes / ((8192 - 24) * 0.90))`.
//! A `bigint` foreign key with 5,000 distinct values over 1,000,000 rows:
//! 6,995,968 bytes instead of 22,560,768 (PostgreSQL 15: 6,889,472). Before
//! PostgreSQL 13, or with `deduplicate_items = off`, such an index is the
//! plain formula's size.
//!
//! NULLs, TOAST-compressed keys, skew and later page splits make real
//! indexes differ; the figure is for planning disk space and build time.

use crate::schema::{Column, Table};
use crate::Dialect;

/// Bytes of a page.
pub const PAGE_BYTES: u64 = 8192;
/// Bytes of the page header.
pub const PAGE_HEADER_BYTES: u64 = 24;
/// Percent of a leaf page that `CREATE INDEX` fills (btree's default fill factor).
pub const LEAF_FILL_PERCENT: u64 = 90;
/// Bytes of an index tuple's header (heap pointer and flags).
pub const INDEX_TUPLE_HEADER_BYTES: u64 = 8;
/// Bytes of the line pointer of each tuple.
pub const LINE_POINTER_BYTES: u64 = 4;
/// Bytes of one heap row pointer in a posting list.
pub const HEAP_POINTER_BYTES: u64 = 6;
/// The largest posting-list tuple `CREATE INDEX` writes (812 bytes, rounded
/// down to the 8-byte alignment).
pub const MAX_POSTING_TUPLE_BYTES: u64 = 808;
/// The width assumed for a text column without `avg_width` (`text`,
/// `varchar`, `character varying`, Rails' `string`): a short value such as
/// an email, a status or a name. Pass `avg_width` for a real figure.
pub const GUESSED_TEXT_WIDTH: u64 = 32;
/// The width assumed for a type this module does not know.
pub const UNKNOWN_TYPE_WIDTH: u64 = 16;

/// An estimated index size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// The estimated size in bytes.
    pub bytes: u64,
    /// The table's rows it was computed for.
    pub rows: u64,
    /// The key bytes of one entry (with InnoDB's primary key columns).
    pub key_bytes: u64,
    /// PostgreSQL's deduplication of repeated keys was taken into account.
    pub deduplicated: bool,
}

/// The estimated size of a new btree index on `columns` (plain columns, in
/// key order) of `table`; `None` when the table's row count is unknown.
/// See the [module docs](self) for the formula.
pub fn estimate(table: &Table, columns: &[String], dialect: Dialect) -> Option<Estimate> {
    let rows = table.rows?;
    let width = |name: &str| {
        table
            .column(name)
            .map_or(UNKNOWN_TYPE_WIDTH, |c| column_width(c, dialect))
    };
    let mut key_bytes = columns
        .iter()
        .fold(0u64, |acc, c| acc.saturating_add(width(c)));
    if dialect == Dialect::Mysql {
        for pk in table.primary_key.iter().filter(|pk| !columns.contains(pk)) {
            key_bytes = key_bytes.saturating_add(width(pk));
        }
    }
    let groups = (dialect == Dialect::Postgres)
        .then(|| {
            columns.iter().try_fold(1u64, |acc, name| {
                let column = table.column(name)?;
                if !deduplicated_type(&column.sql_type) {
                    return None;
                }
                Some(acc.saturating_mul(column.distinct?.max(1)))
            })
        })
        .flatten()
        .filter(|_| !columns.is_empty())
        .map(|g| g.min(rows))
        .filter(|&g| g > 0 && rows / g >= 2);
    let (bytes, deduplicated) = match groups {
        Some(g) => (btree_bytes_deduplicated(rows, key_bytes, g), true),
        None => (btree_bytes(rows, key_bytes), false),
    };
    Some(Estimate {
        bytes,
        rows,
        key_bytes,
        deduplicated,
    })
}

impl Estimate {
    /// `about 1.1 MB for 50,000 rows (estimated)`, for a reason.
    pub(crate) fn phrase(&self) -> String {
        format!(
            "about {} for {} rows ({})",
            super::render::bytes(self.bytes),
            super::render::count(self.rows),
            if self.deduplicated {
                "estimated, with PostgreSQL 13+ storing each repeated key once"
            } else {
                "estimated"
            }
        )
    }

    /// `about 1.1 MB`, for the trade-offs.
    pub(crate) fn short(&self) -> String {
        format!("about {}", super::render::bytes(self.bytes))
    }
}

/// Rounds up to a multiple of 8 (PostgreSQL's MAXALIGN on 64-bit machines).
fn maxalign(n: u64) -> u64 {
    n.saturating_add(7) / 8 * 8
}

/// Usable bytes of a leaf page: (8192 - 24) * 0.90.
fn leaf_usable() -> f64 {
    (PAGE_BYTES - PAGE_HEADER_BYTES) as f64 * LEAF_FILL_PERCENT as f64 / 100.0
}

/// Leaf pages plus about 1% inner pages plus the metapage, in bytes.
fn total_bytes(leaf_pages: u64) -> u64 {
    let inner = leaf_pages.div_ceil(100);
    leaf_pages
        .saturating_add(inner)
        .saturating_add(1)
        .saturating_mul(PAGE_BYTES)
}

/// The plain formula: one entry of `MAXALIGN(8 + key_bytes) + 4` bytes per
/// row (see the [module docs](self)).
pub fn btree_bytes(rows: u64, key_bytes: u64) -> u64 {
    let entry = maxalign(INDEX_TUPLE_HEADER_BYTES.saturating_add(key_bytes))
        .saturating_add(LINE_POINTER_BYTES);
    // `as` truncates toward zero: floor; at least one entry a page.
    let per_page = ((leaf_usable() / entry as f64) as u64).max(1);
    total_bytes(rows.div_ceil(per_page))
}

/// The formula with PostgreSQL's deduplication: `rows` spread over
/// `groups` distinct keys, each stored as posting-list tuples (see the
/// [module docs](self)).
pub fn btree_bytes_deduplicated(rows: u64, key_bytes: u64, groups: u64) -> u64 {
    let groups = groups.clamp(1, rows.max(1));
    let key_tuple = maxalign(INDEX_TUPLE_HEADER_BYTES.saturating_add(key_bytes));
    let max_pointers =
        (MAX_POSTING_TUPLE_BYTES.saturating_sub(key_tuple) / HEAP_POINTER_BYTES).max(1);
    let tuple = |pointers: u64| {
        maxalign(key_tuple.saturating_add(pointers.saturating_mul(HEAP_POINTER_BYTES)))
            .saturating_add(LINE_POINTER_BYTES)
    };
    let per_group = rows as f64 / groups as f64;
    let full = (per_group / max_pointers as f64).floor();
    let rest = per_group - full * max_pointers as f64;
    let mut group_bytes = full * tuple(max_pointers) as f64;
    if rest > 0.0 {
        // `as` saturates; the value is at most `max_pointers`.
        group_bytes += tuple(rest.ceil() as u64) as f64;
    }
    // `as` saturates at u64::MAX; a real index is far below it.
    let leaf = (group_bytes * groups as f64 / leaf_usable()).ceil() as u64;
    total_bytes(leaf.max(u64::from(rows > 0)))
}

/// A column's width in bytes: its `avg_width` when known, else
/// [`type_width`] of its type.
pub fn column_width(column: &Column, dialect: Dialect) -> u64 {
    column
        .avg_width
        .unwrap_or_else(|| type_width(&column.sql_type, dialect))
}

/// The width of a value of `sql_type` as PostgreSQL, MySQL or SQLite spell
/// it: `smallint` 2; `integer` / `int` / `int4` / `serial` / `int(11)` /
/// SQLite `INTEGER` 4; `bigint` / `int8` / `bigserial` / `bigint(20)` 8;
/// `timestamp` / `timestamptz` / `datetime` / `time` 8 (`time with time
/// zone` 12); `date` 4; `boolean` / `tinyint(1)` 1; `uuid` 16; `numeric` /
/// `decimal` 12; `double precision` / `float8` 8; `real` / `float4` 4
/// (MySQL's `REAL` is a double, MySQL's `FLOAT` 4 bytes, SQLite's `REAL`
/// 8); a fixed-length `char(n)` n (plus PostgreSQL's 1-byte length header);
/// `text`, `varchar(255)`, `character varying`, `string` and the other text
/// types [`GUESSED_TEXT_WIDTH`] (a guess: a varchar stores its actual
/// length, not its limit); anything else [`UNKNOWN_TYPE_WIDTH`].
pub fn type_width(sql_type: &str, dialect: Dialect) -> u64 {
    let lower = sql_type.trim().to_ascii_lowercase();
    if lower.ends_with(']') {
        return UNKNOWN_TYPE_WIDTH; // an array
    }
    let (base, args) = match lower.split_once('(') {
        Some((base, rest)) => (base.trim(), rest.split(')').next().unwrap_or_default()),
        None => (lower.as_str(), ""),
    };
    let first: u64 = args
        .split(',')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let words: Vec<&str> = base.split_whitespace().collect();
    let with_zone = lower.contains("with time zone");
    match words.as_slice() {
        ["tinyint", ..] => 1,
        ["bit", ..] if first <= 1 => 1,
        ["boolean" | "bool", ..] => 1,
        ["smallint" | "int2" | "smallserial" | "serial2", ..] => 2,
        ["mediumint", ..] => 3,
        ["integer" | "int" | "int4" | "serial" | "serial4" | "oid", ..] => 4,
        ["bigint" | "int8" | "bigserial" | "serial8" | "money", ..] => 8,
        ["date", ..] => 4,
        ["timetz", ..] => 12,
        ["time", ..] if with_zone => 12,
        ["timestamp" | "timestamptz" | "datetime" | "time", ..] => 8,
        ["uuid", ..] => 16,
        ["numeric" | "decimal", ..] => 12,
        ["double" | "float8", ..] => 8,
        ["float4", ..] => 4,
        ["real", ..] => match dialect {
            Dialect::Postgres => 4,
            Dialect::Mysql | Dialect::Sqlite => 8,
        },
        // FLOAT(p): single precision up to p = 24; a bare FLOAT is single
        // precision on MySQL, double on PostgreSQL and SQLite.
        ["float", ..] => match (dialect, first) {
            (Dialect::Sqlite, _) => 8,
            (_, 1..=24) | (Dialect::Mysql, 0) => 4,
            _ => 8,
        },
        // Fixed length: blank-padded to n.
        ["char" | "character" | "bpchar" | "nchar"] => {
            let n = first.max(1);
            if dialect == Dialect::Postgres {
                n.saturating_add(1)
            } else {
                n
            }
        }
        ["text" | "varchar" | "character" | "char" | "string" | "citext" | "nvarchar"
        | "tinytext" | "mediumtext" | "longtext" | "clob" | "varchar2" | "bpchar", ..] => {
            GUESSED_TEXT_WIDTH
        }
        _ => UNKNOWN_TYPE_WIDTH,
    }
}

/// Types whose btree indexes PostgreSQL deduplicates (their equality is
/// bitwise): integers, booleans, dates and times, uuid, text (with the
/// default deterministic collations) and bytea.
fn deduplicated_type(sql_type: &str) -> bool {
    let lower = sql_type.trim().to_ascii_lowercase();
    let base = lower.split('(').next().unwrap_or_default().trim();
    let first = base.split_whitespace().next().unwrap_or_default();
    matches!(
        first,
        "smallint"
            | "int2"
            | "integer"
            | "int"
            | "int4"
            | "bigint"
            | "int8"
            | "serial"
            | "bigserial"
            | "smallserial"
            | "boolean"
            | "bool"
            | "date"
            | "time"
            | "timestamp"
            | "timestamptz"
            | "uuid"
            | "text"
            | "varchar"
            | "character"
            | "char"
            | "bpchar"
            | "bytea"
            | "oid"
    ) && !lower.ends_with(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_by_type_name() {
        let pg = |t: &str| type_width(t, Dialect::Postgres);
        let my = |t: &str| type_width(t, Dialect::Mysql);
        let lite = |t: &str| type_width(t, Dialect::Sqlite);
        assert_eq!(pg("smallint"), 2);
        assert_eq!(pg("integer"), 4);
        assert_eq!(pg("bigint"), 8);
        assert_eq!(pg("timestamp(6) without time zone"), 8);
        assert_eq!(pg("timestamp with time zone"), 8);
        assert_eq!(pg("time with time zone"), 12);
        assert_eq!(pg("date"), 4);
        assert_eq!(pg("boolean"), 1);
        assert_eq!(pg("uuid"), 16);
        assert_eq!(pg("numeric(10,2)"), 12);
        assert_eq!(pg("double precision"), 8);
        assert_eq!(pg("real"), 4);
        assert_eq!(pg("character varying"), GUESSED_TEXT_WIDTH);
        assert_eq!(pg("character varying(255)"), GUESSED_TEXT_WIDTH);
        assert_eq!(pg("character(36)"), 37);
        assert_eq!(pg("text"), GUESSED_TEXT_WIDTH);
        assert_eq!(pg("jsonb"), UNKNOWN_TYPE_WIDTH);
        assert_eq!(pg("integer[]"), UNKNOWN_TYPE_WIDTH);
        assert_eq!(my("int(11)"), 4);
        assert_eq!(my("bigint(20) unsigned"), 8);
        assert_eq!(my("tinyint(1)"), 1);
        assert_eq!(my("datetime(6)"), 8);
        assert_eq!(my("varchar(255)"), GUESSED_TEXT_WIDTH);
        assert_eq!(my("char(36)"), 36);
        assert_eq!(my("float"), 4);
        assert_eq!(my("double"), 8);
        assert_eq!(lite("INTEGER"), 4);
        assert_eq!(lite("TEXT"), GUESSED_TEXT_WIDTH);
        assert_eq!(lite("varchar"), GUESSED_TEXT_WIDTH);
        assert_eq!(lite("REAL"), 8);
        assert_eq!(lite("BLOB"), UNKNOWN_TYPE_WIDTH);
        assert_eq!(pg(""), UNKNOWN_TYPE_WIDTH);
    }

    #[test]
    fn extremes_do_not_overflow() {
        assert_eq!(btree_bytes(0, 8), PAGE_BYTES);
        assert!(btree_bytes(u64::MAX, u64::MAX) > 0);
        assert!(btree_bytes_deduplicated(u64::MAX, u64::MAX, 0) > 0);
        assert!(btree_bytes_deduplicated(0, 8, 0) > 0);
    }
}
