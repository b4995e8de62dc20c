//! `VirtualTrainerOptimizer::SQL`'s native half. The Ruby half (keyword
//! arguments, defaults) is `lib/virtual_trainer_optimizer/sql.rb`.

use std::sync::OnceLock;

use magnus::{function, prelude::*, Error, RHash, RModule, RString, Ruby, Symbol, Value};
use vto_core::sql::{Analyzer, Limits, Normalizer, DEFAULT_CACHE_CAPACITY, DEFAULT_MAX_TERMS};
use vto_core::Dialect;

use crate::errors::{guard, to_ruby};
use crate::shape::to_hash;

/// The process-wide shape cache (bounded; see `SQL.cache_stats`).
fn analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| Analyzer::new(DEFAULT_CACHE_CAPACITY))
}

pub fn init(ruby: &Ruby, root: RModule) -> Result<(), Error> {
    let sql = root.define_module("SQL")?;
    sql.define_module_function("native_normalize", function!(normalize, 3))?;
    sql.define_module_function("native_fingerprint", function!(fingerprint, 3))?;
    sql.define_module_function("native_analyze", function!(analyze, 4))?;
    sql.define_module_function("native_cache_stats", function!(cache_stats, 0))?;
    sql.define_module_function("native_clear_cache", function!(clear_cache, 0))?;
    let _ = ruby;
    Ok(())
}

/// Accepts a Symbol or String dialect name (`:postgresql`, `"mysql2"`, ...).
fn dialect(ruby: &Ruby, value: Value) -> Result<Dialect, Error> {
    let name = if let Some(sym) = Symbol::from_value(value) {
        sym.name()?.into_owned()
    } else if let Some(s) = RString::from_value(value) {
        s.to_string()?
    } else {
        return Err(Error::new(
            ruby.exception_type_error(),
            format!("dialect must be a Symbol or String, got {}", unsafe {
                value.classname()
            }),
        ));
    };
    Dialect::from_name(&name).map_err(|e| to_ruby(ruby, e))
}

fn normalizer(
    ruby: &Ruby,
    dialect_name: Value,
    max_input_bytes: usize,
) -> Result<Normalizer, Error> {
    Ok(Normalizer::new(dialect(ruby, dialect_name)?).max_input_bytes(max_input_bytes))
}

fn normalize(
    ruby: &Ruby,
    sql: RString,
    dialect_name: Value,
    max_input_bytes: usize,
) -> Result<RString, Error> {
    let normalizer = normalizer(ruby, dialect_name, max_input_bytes)?;
    // SAFETY: the slice is read before any Ruby allocation can move or free it.
    let out = guard(ruby, || Ok(normalizer.normalize(unsafe { sql.as_slice() })))?;
    Ok(ruby.str_new(&out))
}

fn fingerprint(
    ruby: &Ruby,
    sql: RString,
    dialect_name: Value,
    max_input_bytes: usize,
) -> Result<RString, Error> {
    let normalizer = normalizer(ruby, dialect_name, max_input_bytes)?;
    // SAFETY: as above, no Ruby call happens while the slice is borrowed.
    let fp = guard(ruby, || {
        Ok(normalizer.fingerprint(unsafe { sql.as_slice() }))
    })?;
    Ok(ruby.str_new(&fp.to_string()))
}

fn analyze(
    ruby: &Ruby,
    sql: RString,
    dialect_name: Value,
    max_input_bytes: usize,
    max_nesting_depth: usize,
) -> Result<RHash, Error> {
    let dialect = dialect(ruby, dialect_name)?;
    let limits = Limits {
        max_input_bytes,
        max_nesting_depth,
        max_terms: DEFAULT_MAX_TERMS,
    };
    // SAFETY: as above, no Ruby call happens while the slice is borrowed.
    let shape = guard(ruby, || {
        analyzer()
            .analyze(unsafe { sql.as_slice() }, dialect, limits)
            .map_err(|e| to_ruby(ruby, e))
    })?;
    to_hash(ruby, &shape)
}

fn cache_stats(ruby: &Ruby) -> Result<RHash, Error> {
    let stats = analyzer().stats();
    let h = ruby.hash_new();
    h.aset("hits", stats.hits)?;
    h.aset("misses", stats.misses)?;
    h.aset("entries", stats.entries)?;
    h.aset("capacity", stats.capacity)?;
    Ok(h)
}

fn clear_cache() {
    analyzer().clear();
}
