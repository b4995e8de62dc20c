//! The input layout both targets share: the first byte picks the dialect
//! (`byte % 3`: 0 = PostgreSQL, 1 = MySQL, 2 = SQLite), the rest is the SQL.

use vto_core::Dialect;

/// Splits a fuzzer input into its dialect and SQL bytes; `None` when empty.
pub fn split(data: &[u8]) -> Option<(u8, Dialect, &[u8])> {
    let (&first, sql) = data.split_first()?;
    let dialect = match first % 3 {
        0 => Dialect::Postgres,
        1 => Dialect::Mysql,
        _ => Dialect::Sqlite,
    };
    Some((first, dialect, sql))
}
