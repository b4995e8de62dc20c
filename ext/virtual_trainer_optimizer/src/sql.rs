//! `VirtualTrainerOptimizer::SQL`'s public methods, defined natively: with no
//! Ruby frame in between, a fingerprint from Ruby costs little more than the
//! core's own work. The Ruby half (limits with validation, docs) is
//! `lib/virtual_trainer_optimizer/sql.rb`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use magnus::rb_sys::AsRawValue;
use magnus::value::{Lazy, StaticSymbol};
use magnus::{function, prelude::*, Error, RHash, RModule, RString, Ruby, Symbol, Value};
use vto_core::sql::{
    Analyzer, Limits, Normalizer, DEFAULT_CACHE_CAPACITY, DEFAULT_MAX_INPUT_BYTES,
    DEFAULT_MAX_NESTING_DEPTH, DEFAULT_MAX_TERMS,
};
use vto_core::Dialect;

use crate::errors::{guard, to_ruby};
use crate::shape::to_hash;

/// The process-wide shape cache (bounded; see `SQL.cache_stats`).
pub(crate) fn analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| Analyzer::new(DEFAULT_CACHE_CAPACITY))
}

static MAX_INPUT_BYTES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_INPUT_BYTES);
static MAX_NESTING_DEPTH: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_NESTING_DEPTH);
static DIALECT_KEYWORD: Lazy<StaticSymbol> = Lazy::new(|ruby| ruby.sym_new("dialect"));

pub(crate) fn limits() -> Limits {
    Limits {
        max_input_bytes: MAX_INPUT_BYTES.load(Ordering::Relaxed),
        max_nesting_depth: MAX_NESTING_DEPTH.load(Ordering::Relaxed),
        max_terms: DEFAULT_MAX_TERMS,
    }
}

pub fn init(ruby: &Ruby, root: RModule) -> Result<(), Error> {
    let _ = DIALECT_SYMBOLS.set(
        Dialect::NAMES
            .iter()
            .map(|(name, d)| (ruby.sym_new(*name).as_raw(), *d))
            .collect(),
    );
    let sql = root.define_module("SQL")?;
    sql.define_module_function("normalize", function!(normalize, -1))?;
    sql.define_module_function("fingerprint", function!(fingerprint, -1))?;
    sql.define_module_function("analyze", function!(analyze, -1))?;
    sql.define_module_function("native_set_limits", function!(set_limits, 2))?;
    sql.define_module_function("cache_stats", function!(cache_stats, 0))?;
    sql.define_module_function("clear_cache!", function!(clear_cache, 0))?;
    Ok(())
}

/// `(sql, dialect: :postgresql)`: the SQL string and the dialect.
fn arguments(ruby: &Ruby, args: &[Value]) -> Result<(RString, Dialect), Error> {
    let (sql, options) = match args {
        [sql] => (*sql, None),
        [sql, options] => (*sql, Some(*options)),
        _ => {
            return Err(Error::new(
                ruby.exception_arg_error(),
                format!(
                    "wrong number of arguments (given {}, expected 1)",
                    args.len()
                ),
            ))
        }
    };
    let sql = RString::try_convert(sql)?;
    let Some(options) = options else {
        return Ok((sql, Dialect::Postgres));
    };
    let Some(options) = RHash::from_value(options) else {
        return Err(Error::new(
            ruby.exception_arg_error(),
            "wrong number of arguments (given 2, expected 1; the dialect is a keyword: dialect: :mysql)",
        ));
    };
    let given = options.get(ruby.get_inner(&DIALECT_KEYWORD));
    if options.len() > usize::from(given.is_some()) {
        let all: magnus::RArray = options.funcall("keys", ())?;
        let keys: Vec<String> = all
            .into_iter()
            .filter(|k| !k.eql(ruby.get_inner(&DIALECT_KEYWORD)).unwrap_or(false))
            .map(|k| k.inspect())
            .collect();
        return Err(Error::new(
            ruby.exception_arg_error(),
            format!(
                "unknown keyword: {} (the only keyword is dialect:)",
                keys.join(", ")
            ),
        ));
    }
    match given {
        Some(d) => Ok((sql, dialect(ruby, d)?)),
        None => Ok((sql, Dialect::Postgres)),
    }
}

fn set_limits(ruby: &Ruby, max_input_bytes: usize, max_nesting_depth: usize) -> Result<(), Error> {
    if max_input_bytes == 0 || max_nesting_depth == 0 {
        return Err(Error::new(
            ruby.exception_arg_error(),
            "limits must be positive",
        ));
    }
    MAX_INPUT_BYTES.store(max_input_bytes, Ordering::Relaxed);
    MAX_NESTING_DEPTH.store(max_nesting_depth, Ordering::Relaxed);
    Ok(())
}

/// The raw VALUEs of the interned dialect symbols (`:postgresql`, `:mysql2`, ...).
/// Static symbols are never collected, so their VALUEs stay valid; comparing
/// them spares a symbol-to-string conversion on every call.
static DIALECT_SYMBOLS: OnceLock<Vec<(u64, Dialect)>> = OnceLock::new();

/// Accepts a Symbol or String dialect name (`:postgresql`, `"mysql2"`, ...).
pub(crate) fn dialect(ruby: &Ruby, value: Value) -> Result<Dialect, Error> {
    let raw = value.as_raw();
    if let Some((_, d)) = DIALECT_SYMBOLS
        .get()
        .and_then(|known| known.iter().find(|(sym, _)| *sym == raw))
    {
        return Ok(*d);
    }
    let name = if let Some(sym) = Symbol::from_value(value) {
        sym.name()?
    } else if let Some(s) = RString::from_value(value) {
        s.to_string()?.into()
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

pub(crate) fn normalizer(dialect: Dialect) -> Normalizer {
    Normalizer::new(dialect).max_input_bytes(MAX_INPUT_BYTES.load(Ordering::Relaxed))
}

fn normalize(ruby: &Ruby, args: &[Value]) -> Result<RString, Error> {
    let (sql, dialect) = arguments(ruby, args)?;
    let normalizer = normalizer(dialect);
    // SAFETY: the slice is read before any Ruby allocation can move or free it.
    let out = guard(ruby, || Ok(normalizer.normalize(unsafe { sql.as_slice() })))?;
    Ok(ruby.str_new(&out))
}

fn fingerprint(ruby: &Ruby, args: &[Value]) -> Result<RString, Error> {
    let (sql, dialect) = arguments(ruby, args)?;
    let normalizer = normalizer(dialect);
    // SAFETY: as above, no Ruby call happens while the slice is borrowed.
    let fp = guard(ruby, || {
        Ok(normalizer.fingerprint(unsafe { sql.as_slice() }))
    })?;
    Ok(ruby.enc_str_new(fp.to_hex(), ruby.utf8_encoding()))
}

fn analyze(ruby: &Ruby, args: &[Value]) -> Result<RHash, Error> {
    let (sql, dialect) = arguments(ruby, args)?;
    // SAFETY: as above, no Ruby call happens while the slice is borrowed.
    let shape = guard(ruby, || {
        analyzer()
            .analyze(unsafe { sql.as_slice() }, dialect, limits())
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
