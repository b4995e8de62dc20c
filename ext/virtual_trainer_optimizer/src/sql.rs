//! `VirtualTrainerOptimizer::SQL`'s native half. The Ruby half (keyword
//! arguments, defaults) is `lib/virtual_trainer_optimizer/sql.rb`.

use magnus::{function, prelude::*, Error, RModule, RString, Ruby, Symbol, Value};
use vto_core::{sql::Normalizer, Dialect};

use crate::errors::{guard, to_ruby};

pub fn init(ruby: &Ruby, root: RModule) -> Result<(), Error> {
    let sql = root.define_module("SQL")?;
    sql.define_module_function("native_normalize", function!(normalize, 3))?;
    sql.define_module_function("native_fingerprint", function!(fingerprint, 3))?;
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
