//! `VirtualTrainerOptimizer::Native.ci_summary(json, format)`: the CI summary
//! of detector findings (`vto_core::report::ci`), rendered as text, JSON,
//! SARIF or GitHub Actions workflow commands. The Ruby side builds the
//! findings JSON; everything else happens in the core.

use magnus::{function, Error, RModule, Ruby};

use crate::errors::{guard, to_ruby};

pub fn init(native: RModule) -> Result<(), Error> {
    native.define_module_function("ci_summary", function!(ci_summary, 2))?;
    Ok(())
}

/// `ci_summary(json_string, format_string) -> String`; `ArgumentError` for
/// malformed input or an unknown format.
fn ci_summary(ruby: &Ruby, input: String, format: String) -> Result<String, Error> {
    guard(ruby, || {
        vto_core::report::ci::summarize_json(&input, &format).map_err(|err| to_ruby(ruby, err))
    })
}
