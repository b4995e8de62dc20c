//! `VirtualTrainerOptimizer::Native.retention_check(input_json)`: retention
//! policies, the cleanup plan, PII / health-data classification and erasure
//! coverage (`vto_core::retention`). JSON in, JSON out; everything else
//! happens in the core.

use magnus::{function, Error, RModule, Ruby};

use crate::errors::{guard, to_ruby};

pub fn init(native: RModule) -> Result<(), Error> {
    native.define_module_function("retention_check", function!(retention_check, 1))?;
    Ok(())
}

/// `retention_check(input_json) -> String`: `{"findings": [...], "plan":
/// [...], "classification": [...]}` for `{"schema": {...}, "subject":
/// "users", "policies": [...], "dependents": [...], "encrypted_columns":
/// [...], "options": {...}}`. `ArgumentError` (with the decoder's message)
/// for malformed input JSON.
fn retention_check(ruby: &Ruby, input: String) -> Result<String, Error> {
    guard(ruby, || {
        vto_core::retention::check_json(&input).map_err(|err| to_ruby(ruby, err))
    })
}
