//! `VirtualTrainerOptimizer::Native.external_analyze(input_json)` and
//! `Native.prompt_fingerprint(body)`: outbound HTTP calls (OpenAI and other
//! APIs) analysed for request time, loops, repeats, errors, timeouts and
//! cost (`vto_core::external`). JSON in, JSON out; everything else happens
//! in the core.

use magnus::{function, Error, RModule, Ruby};

use crate::errors::{guard, to_ruby};

pub fn init(native: RModule) -> Result<(), Error> {
    native.define_module_function("external_analyze", function!(external_analyze, 1))?;
    native.define_module_function("prompt_fingerprint", function!(prompt_fingerprint, 1))?;
    Ok(())
}

/// `external_analyze(input_json) -> String`: `{"calls": [...], "findings":
/// [...], "costs": {...}}` for `{"scopes": [...], "prices": {...},
/// "options": {...}}`. `ArgumentError` (with the decoder's message) for
/// malformed input JSON, `InputTooLarge` over the core's cap.
fn external_analyze(ruby: &Ruby, input: String) -> Result<String, Error> {
    guard(ruby, || {
        vto_core::external::analyze_json(&input).map_err(|err| to_ruby(ruby, err))
    })
}

/// `prompt_fingerprint(body) -> String or nil`: 16 hex digits of the model
/// and prompt of an OpenAI-compatible request body; `nil` when the body has
/// no prompt or is not JSON. Only the hash leaves; the text is not kept.
/// `InputTooLarge` over the core's body cap.
fn prompt_fingerprint(ruby: &Ruby, body: String) -> Result<Option<String>, Error> {
    guard(ruby, || {
        vto_core::external::prompt_fingerprint(&body).map_err(|err| to_ruby(ruby, err))
    })
}
