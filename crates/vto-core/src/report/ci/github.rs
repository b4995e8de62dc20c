//! GitHub Actions workflow commands: one annotation per offender not baselined.

use super::*;

/// Workflow-command data: `%`, CR and LF escaped.
fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// A workflow-command property value: as data, plus `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command per line.
pub(super) fn github(summary: &Summary) -> String {
    let mut out = String::new();
    for o in summary.offenders.iter().filter(|o| !o.baselined) {
        let command = if o.priority == Priority::Critical {
            "error"
        } else {
            "warning"
        };
        let mut properties = Vec::new();
        if let Some(path) = &o.path {
            properties.push(format!("file={}", escape_property(path)));
            if let Some(line) = o.line.filter(|&line| line >= 1) {
                properties.push(format!("line={line}"));
            }
        }
        let title = format!("{TOOL_NAME}: {} ({})", human(&o.kind), o.priority.as_str());
        properties.push(format!("title={}", escape_property(&title)));
        let _ = writeln!(
            out,
            "::{command} {}::{}",
            properties.join(","),
            escape_data(&full_message(o, true))
        );
    }
    out
}
