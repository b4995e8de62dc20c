//! `VirtualTrainerOptimizer::Native.report(input_json, format)`: the full
//! report (`vto_core::report::full`), built and rendered in the core. JSON in,
//! text out.

use magnus::{function, Error, RModule, Ruby};

use crate::errors::{guard, to_ruby};

pub fn init(native: RModule) -> Result<(), Error> {
    native.define_module_function("report", function!(report, 2))?;
    Ok(())
}

/// `report(input_json, format) -> String`: the report for the workload,
/// schema, index, governance and infrastructure evidence of `input_json`,
/// as `json`, `text`, `text_color`, `markdown` or `html`. `ArgumentError`
/// for malformed input or an unknown format.
fn report(ruby: &Ruby, input: String, format: String) -> Result<String, Error> {
    guard(ruby, || {
        vto_core::report::full::render_json(&input, &format).map_err(|err| to_ruby(ruby, err))
    })
}
