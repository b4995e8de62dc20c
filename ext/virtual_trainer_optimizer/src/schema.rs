//! `VirtualTrainerOptimizer::Native.schema_from_ddl(sql, dialect)`,
//! `Native.index_advise(schema_json, options_json)` and
//! `Native.index_advise_report(schema_json, options_json)`: the schema model
//! read from SQL DDL (`vto_core::schema`) and the index advisor
//! (`vto_core::index`). JSON in, JSON out; everything else happens in the core.

use magnus::{function, prelude::*, Error, RModule, RString, Ruby, Symbol, Value};

use crate::errors::{guard, to_ruby};

pub fn init(native: RModule) -> Result<(), Error> {
    native.define_module_function("schema_from_ddl", function!(schema_from_ddl, 2))?;
    native.define_module_function("index_advise", function!(index_advise, 2))?;
    native.define_module_function("index_advise_report", function!(index_advise_report, 2))?;
    Ok(())
}

/// `schema_from_ddl(sql_string, dialect) -> String`: `{"schema": {...},
/// "warnings": [{"statement_index", "line", "message"}]}`. The dialect is a
/// String or Symbol (`"postgresql"`, `:mysql2`, ...); `ArgumentError` for an
/// unknown one. Bytes that are not UTF-8 are replaced (U+FFFD), never refused:
/// a statement they break becomes a warning.
fn schema_from_ddl(ruby: &Ruby, sql: RString, dialect: Value) -> Result<String, Error> {
    let dialect = match Symbol::from_value(dialect) {
        Some(symbol) => symbol.name()?.into_owned(),
        None => String::try_convert(dialect)?,
    };
    // SAFETY: the slice is copied before any Ruby call.
    let text = String::from_utf8_lossy(unsafe { sql.as_slice() }).into_owned();
    guard(ruby, || {
        vto_core::schema::from_ddl_json(&text, &dialect).map_err(|err| to_ruby(ruby, err))
    })
}

/// `index_advise(schema_json, options_json) -> String`: a JSON Array of
/// suggestions. `ArgumentError` (with the decoder's message) for malformed
/// schema or options JSON; `options_json` may be `""` or `"{}"` for the
/// defaults. The options carry the recorded workload (`"workload": [...]`,
/// `"min_total_ms"`, `"min_rows"`) for `workload_index` suggestions, and
/// `"over_index_min"`, `"write_share_min"`, `"min_writes"` for
/// `over_indexed_table` ones.
fn index_advise(ruby: &Ruby, schema: String, options: String) -> Result<String, Error> {
    guard(ruby, || {
        vto_core::index::advise_json(&schema, &options).map_err(|err| to_ruby(ruby, err))
    })
}

/// `index_advise_report(schema_json, options_json) -> String`: `{"suggestions":
/// [...], "workload": {"queries", "unparseable", "unparseable_fingerprints",
/// "not_reads", "or_across_columns", "unknown_tables", "small_tables",
/// "candidates", "already_served", "below_min_total_ms", "suggested"}}`; errors
/// as `index_advise`.
fn index_advise_report(ruby: &Ruby, schema: String, options: String) -> Result<String, Error> {
    guard(ruby, || {
        vto_core::index::advise_json_report(&schema, &options).map_err(|err| to_ruby(ruby, err))
    })
}
