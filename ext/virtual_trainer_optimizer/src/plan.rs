//! `VirtualTrainerOptimizer::Native.plan_analyze(plan_json, options_json)`
//! and `Native.plan_compare(before_json, after_json)`: PostgreSQL plan
//! analysis (`vto_core::plan`) of `EXPLAIN (FORMAT JSON)` output. The Ruby
//! side runs EXPLAIN; everything else happens in the core.

use magnus::{function, Error, RModule, Ruby};

use crate::errors::{guard, to_ruby};

pub fn init(native: RModule) -> Result<(), Error> {
    native.define_module_function("plan_analyze", function!(plan_analyze, 2))?;
    native.define_module_function("plan_compare", function!(plan_compare, 2))?;
    Ok(())
}

/// `plan_analyze(plan_json, options_json) -> String` (a JSON plan report);
/// `ArgumentError` for malformed or oversized input.
fn plan_analyze(ruby: &Ruby, plan: String, options: String) -> Result<String, Error> {
    guard(ruby, || {
        vto_core::plan::analyze_json(&plan, &options).map_err(|err| to_ruby(ruby, err))
    })
}

/// `plan_compare(before_json, after_json) -> String` (a JSON comparison of
/// two EXPLAIN outputs of one query); `ArgumentError` for malformed input.
fn plan_compare(ruby: &Ruby, before: String, after: String) -> Result<String, Error> {
    guard(ruby, || {
        vto_core::plan::compare_json(&before, &after).map_err(|err| to_ruby(ruby, err))
    })
}
