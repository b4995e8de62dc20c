//! The JSON summary (`schema_version` 1): totals and every offender.

use super::*;

/// The JSON summary, pretty printed.
pub(super) fn render(summary: &Summary) -> String {
    pretty(&json_report(summary))
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    tool: JsonTool<'a>,
    totals: Vec<JsonTotal<'a>>,
    offenders: Vec<JsonOffender<'a>>,
}

#[derive(Serialize)]
struct JsonTool<'a> {
    name: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct JsonTotal<'a> {
    kind: &'a str,
    places: u64,
    occurrences: u64,
    queries: u64,
    total_ms: f64,
}

#[derive(Serialize)]
struct JsonOffender<'a> {
    kind: &'a str,
    fingerprint: Option<&'a str>,
    location: Option<&'a str>,
    path: Option<&'a str>,
    line: Option<u32>,
    sql: Option<&'a str>,
    suggestion: Option<&'a str>,
    priority: Priority,
    occurrences: u64,
    queries: u64,
    max_count: u64,
    total_ms: f64,
    scopes: &'a [String],
    scope_count: u64,
    baselined: bool,
}

fn json_report(summary: &Summary) -> JsonReport<'_> {
    JsonReport {
        schema_version: JSON_SCHEMA_VERSION,
        tool: JsonTool {
            name: TOOL_NAME,
            version: &summary.tool_version,
        },
        totals: summary
            .totals
            .iter()
            .map(|t| JsonTotal {
                kind: &t.kind,
                places: t.places,
                occurrences: t.occurrences,
                queries: t.queries,
                total_ms: round3(t.total_ms),
            })
            .collect(),
        offenders: summary
            .offenders
            .iter()
            .map(|o| JsonOffender {
                kind: &o.kind,
                fingerprint: o.fingerprint.as_deref(),
                location: o.location.as_deref(),
                path: o.path.as_deref(),
                line: o.line,
                sql: o.sql.as_deref(),
                suggestion: o.suggestion.as_deref(),
                priority: o.priority,
                occurrences: o.occurrences,
                queries: o.queries,
                max_count: o.max_count,
                total_ms: round3(o.total_ms),
                scopes: &o.scopes,
                scope_count: o.scope_count,
                baselined: o.baselined,
            })
            .collect(),
    }
}
