//! The text summary: totals per kind, then the top offenders.

use super::*;

/// The summary for people, at the end of a run.
pub(super) fn text(summary: &Summary) -> String {
    if summary.offenders.is_empty() {
        return format!("{TOOL_NAME}: no findings\n");
    }
    let places = summary.offenders.len() as u64;
    let fresh = summary.new_offenders();
    let mut out = format!(
        "{TOOL_NAME}: {} at {} ({} new, {} baselined)\n",
        plural(summary.findings, "finding", "findings"),
        plural(places, "place", "places"),
        fresh,
        summary.offenders.len() - fresh,
    );

    let rows: Vec<[String; 5]> = summary
        .totals
        .iter()
        .map(|t| {
            [
                one_line(plural_kind(&t.kind)),
                plural(t.places, "place ", "places"),
                plural(t.occurrences, "occurrence ", "occurrences"),
                plural(t.queries, "query  ", "queries"),
                ms(t.total_ms),
            ]
        })
        .collect();
    let width = |col: usize| {
        rows.iter()
            .map(|r| r[col].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2), width(3), width(4)];
    for r in &rows {
        let _ = writeln!(
            out,
            "  {:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {:>w4$}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
        );
    }

    let shown = summary.offenders.len().min(summary.top);
    if shown > 0 {
        out.push_str("Top offenders:\n");
    }
    for (i, o) in summary.offenders.iter().take(shown).enumerate() {
        let _ = writeln!(
            out,
            "  {}. [{}] {}{} - {}",
            i + 1,
            o.priority.as_str(),
            headline(o),
            if o.baselined { " (baselined)" } else { "" },
            describe(o),
        );
        if let Some(sql) = &o.sql {
            let _ = writeln!(out, "     {}", truncate_sql(&one_line(sql)));
        }
        if let Some(fix) = &o.suggestion {
            let _ = writeln!(out, "     fix: {}", one_line(fix));
        }
    }
    let rest = summary.offenders.len() - shown;
    if rest > 0 {
        let _ = writeln!(
            out,
            "  ... and {rest} more {} (the json and sarif formats list all)",
            if rest == 1 { "offender" } else { "offenders" }
        );
    }
    out
}
