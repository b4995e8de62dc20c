//! SARIF 2.1.0: a rule per kind, a result per offender, for code-scanning uploads.

use super::*;

/// The SARIF log, pretty printed.
pub(super) fn render(summary: &Summary) -> String {
    pretty(&sarif_report(summary))
}

#[derive(Serialize)]
struct SarifLog<'a> {
    #[serde(rename = "$schema")]
    schema: &'a str,
    version: &'a str,
    runs: [SarifRun<'a>; 1],
}

#[derive(Serialize)]
struct SarifRun<'a> {
    tool: SarifTool<'a>,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct SarifTool<'a> {
    driver: SarifDriver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifDriver<'a> {
    name: &'a str,
    version: &'a str,
    information_uri: &'a str,
    rules: Vec<SarifRule>,
}

#[derive(Serialize)]
struct SarifText {
    text: String,
}

fn sarif_text(text: impl Into<String>) -> SarifText {
    SarifText { text: text.into() }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRule {
    id: String,
    name: String,
    short_description: SarifText,
    full_description: SarifText,
    help: SarifText,
    default_configuration: SarifConfiguration,
}

#[derive(Serialize)]
struct SarifConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: SarifText,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<SarifLocation<'a>>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    baseline_state: &'static str,
    properties: SarifProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation<'a> {
    physical_location: SarifPhysical<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifPhysical<'a> {
    artifact_location: SarifArtifact<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<SarifRegion>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifArtifact<'a> {
    uri: &'a str,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    start_line: u32,
}

#[derive(Serialize)]
struct SarifProperties {
    occurrences: u64,
    queries: u64,
    total_ms: f64,
    priority: Priority,
    baselined: bool,
}

/// `some_kind` -> `SomeKind`.
fn camel_case(kind: &str) -> String {
    kind.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

fn sarif_rule(kind: &str) -> SarifRule {
    match known(kind) {
        Some((_, info)) => SarifRule {
            id: kind.to_owned(),
            name: info.rule_name.to_owned(),
            short_description: sarif_text(info.short),
            full_description: sarif_text(info.full),
            help: sarif_text(info.help),
            default_configuration: SarifConfiguration { level: info.level },
        },
        None => SarifRule {
            id: kind.to_owned(),
            name: camel_case(kind),
            short_description: sarif_text(format!("{kind} finding")),
            full_description: sarif_text(format!(
                "A finding of kind {kind} reported by {TOOL_NAME}."
            )),
            help: sarif_text("See the finding's message and its suggested fix."),
            default_configuration: SarifConfiguration { level: "warning" },
        },
    }
}

fn sarif_level(o: &Offender) -> &'static str {
    if o.baselined {
        return "note";
    }
    match o.priority {
        Priority::Critical | Priority::High => "error",
        Priority::Medium => "warning",
        Priority::Low => "note",
    }
}

/// `kind:fingerprint:path`, `-` for what is unknown; no line, so it survives
/// edits above the call site.
fn stable_fingerprint(o: &Offender) -> String {
    format!(
        "{}:{}:{}",
        o.kind,
        o.fingerprint.as_deref().unwrap_or("-"),
        o.path.as_deref().unwrap_or("-")
    )
}

fn sarif_report(summary: &Summary) -> SarifLog<'_> {
    let rule_ids: Vec<&str> = summary.totals.iter().map(|t| t.kind.as_str()).collect();
    let rules = rule_ids.iter().map(|kind| sarif_rule(kind)).collect();
    let results = summary
        .offenders
        .iter()
        .map(|o| {
            let locations = match &o.path {
                Some(path) => vec![SarifLocation {
                    physical_location: SarifPhysical {
                        artifact_location: SarifArtifact {
                            uri: path,
                            uri_base_id: "%SRCROOT%",
                        },
                        region: o
                            .line
                            .filter(|&line| line >= 1)
                            .map(|start_line| SarifRegion { start_line }),
                    },
                }],
                None => Vec::new(),
            };
            SarifResult {
                rule_id: &o.kind,
                rule_index: rule_ids.iter().position(|k| *k == o.kind).unwrap_or(0),
                level: sarif_level(o),
                message: sarif_text(full_message(o, false)),
                locations,
                partial_fingerprints: BTreeMap::from([(
                    SARIF_FINGERPRINT_KEY,
                    stable_fingerprint(o),
                )]),
                baseline_state: if o.baselined { "unchanged" } else { "new" },
                properties: SarifProperties {
                    occurrences: o.occurrences,
                    queries: o.queries,
                    total_ms: round3(o.total_ms),
                    priority: o.priority,
                    baselined: o.baselined,
                },
            }
        })
        .collect();
    SarifLog {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: [SarifRun {
            tool: SarifTool {
                driver: SarifDriver {
                    name: TOOL_NAME,
                    version: &summary.tool_version,
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            results,
        }],
    }
}
