//! Reports: findings -> report model -> renderers.
//!
//! Findings come in as plain data (what the detectors reported, one entry per
//! finding per unit of work), are grouped into a report model, and renderers
//! turn the model into text for people or machine formats for tools.
//!
//! - [`ci`]: the summary at the end of a test run or CI job, as text, JSON,
//!   SARIF 2.1.0 (code scanning) or GitHub Actions workflow commands
//!   (annotations).
//! - [`full`]: the full performance report: an assessment of the recorded
//!   workload, quantified optimization, infrastructure and data-governance
//!   recommendations and a roadmap, as JSON, text, Markdown or HTML.
//!
//! Nothing here adds a literal value: the SQL a finding carries is already
//! normalized, and renderers only repeat what the findings say.

pub mod ci;
pub mod full;
