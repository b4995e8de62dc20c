//! The DATA GOVERNANCE section: the retention check's findings, counted and
//! sorted, and the recommendations (`G1..`) built from them: erasure gaps,
//! protection of tables with personal or special-category data, and the
//! retention and soft-delete fixes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::assessment;
use super::model::blank;
use super::{
    and_list, fmt_count, fmt_num, model_name, plural, words, Effort, GovernanceFinding, Impact,
    Input, Priority, Recommendation,
};

/// The governance section of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Governance {
    /// Findings per kind.
    pub summary: BTreeMap<String, u64>,
    /// The input's findings, by priority then table.
    pub findings: Vec<GovernanceFinding>,
    /// Recommendations `G1..`, by priority then table.
    pub recommendations: Vec<Recommendation>,
}

/// Kinds that get one recommendation each, with the suggestion as the fix.
const ONE_EACH: [&str; 8] = [
    "no_policy",
    "unindexed_policy_column",
    "partition_candidate",
    "cleanup_order",
    "soft_delete_without_purge",
    "soft_delete_without_partial_index",
    "keep_without_legal_basis",
    "invalid_policy",
];

/// Builds the section.
pub(super) fn govern(input: &Input) -> Governance {
    let all = &input.governance;
    let mut summary: BTreeMap<String, u64> = BTreeMap::new();
    for f in all {
        *summary.entry(f.kind.clone()).or_default() += 1;
    }
    let mut findings = all.clone();
    findings.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then_with(|| a.table.cmp(&b.table))
    });

    let special = tables_with(all, "special_category_column");
    let mut drafts: Vec<(Recommendation, String)> = Vec::new();
    // A finding about no table is listed, but there is nothing to act on.
    let actionable = all.iter().filter(|f| !f.table.trim().is_empty());
    for f in actionable.clone().filter(|f| f.kind == "erasure_gap") {
        drafts.push((erasure(input, f, &special), f.table.clone()));
    }
    for table in &special {
        drafts.extend(protect(input, table, true).map(|r| (r, table.clone())));
    }
    for table in tables_with(all, "pii_column").difference(&special) {
        drafts.extend(protect(input, table, false).map(|r| (r, table.clone())));
    }
    for f in actionable.filter(|f| ONE_EACH.contains(&f.kind.as_str())) {
        drafts.push((retention(input, f), f.table.clone()));
    }
    drafts.sort_by(|(a, ta), (b, tb)| {
        a.priority
            .cmp(&b.priority)
            .then_with(|| ta.cmp(tb))
            .then_with(|| a.category.cmp(&b.category))
            .then_with(|| a.title.cmp(&b.title))
    });
    let recommendations = drafts
        .into_iter()
        .enumerate()
        .map(|(i, (mut r, _))| {
            r.id = format!("G{}", i + 1);
            r
        })
        .collect();
    Governance {
        summary,
        findings,
        recommendations,
    }
}

fn tables_with(findings: &[GovernanceFinding], kind: &str) -> BTreeSet<String> {
    findings
        .iter()
        .filter(|f| f.kind == kind && !f.table.trim().is_empty())
        .map(|f| f.table.clone())
        .collect()
}

/// A one-line fix takes minutes; a multi-line one (steps, a class) hours.
fn effort_of(suggestion: &str) -> Effort {
    if suggestion.trim().contains('\n') {
        Effort::Hours
    } else {
        Effort::Minutes
    }
}

/// `(2,500,000 rows)` when the schema knows the count.
fn rows_note(input: &Input, table: &str) -> String {
    assessment::table_rows(input, table)
        .map_or_else(String::new, |r| format!(" ({})", plural(r, "row", "rows")))
}

fn evidence(f: &GovernanceFinding) -> Vec<String> {
    vec![format!("governance:{}:{}", f.kind, f.table)]
}

// ------------------------------------------------------------- erasure

/// Classified columns of a table of one kind: `weight (health:weight)`.
fn classified(input: &Input, table: &str, kind: &str) -> Vec<String> {
    input
        .governance
        .iter()
        .filter(|f| f.kind == kind && f.table == table)
        .filter_map(|f| {
            let column = f.column.clone()?;
            Some(match &f.category {
                Some(c) => format!("{column} ({c})"),
                None => column,
            })
        })
        .collect()
}

fn erasure(input: &Input, f: &GovernanceFinding, special: &BTreeSet<String>) -> Recommendation {
    let table = f.table.as_str();
    let health = special.contains(table);
    let priority = if health {
        Priority::Critical
    } else {
        f.priority
    };
    let path = f.path.clone().unwrap_or_default();
    let subject = path.first().map_or("the account", String::as_str);
    let person = model_name(subject).map_or_else(
        || "an account".to_owned(),
        |m| format!("a {}", m.to_ascii_lowercase()),
    );
    let mut rec = blank(
        "erasure",
        format!("Erase {table} when {person} is deleted"),
        priority,
        effort_of(&f.suggestion),
    );
    let route = if path.is_empty() {
        String::new()
    } else {
        format!(" Path: {}.", path.join(" -> "))
    };
    let columns = classified(input, table, "special_category_column");
    let data = if columns.is_empty() {
        String::new()
    } else {
        format!(
            " The table holds special-category data: {}.",
            and_list(&columns)
        )
    };
    let reason = match f.reason.trim() {
        "" => format!("Deleting {person} leaves its {table} rows behind."),
        given => given.to_owned(),
    };
    rec.issue = format!("{reason}{route}{data}");
    rec.impact = Impact {
        summary: format!(
            "Deleting an account erases its {table} rows{}: the right to erasure (GDPR Art. 17) \
             is honoured for this table.",
            rows_note(input, table)
        ),
        ..Impact::default()
    };
    rec.solution = f.suggestion.clone();
    rec.trade_offs = erasure_costs(&f.suggestion, table);
    rec.metric = format!("{table} rows left after deleting a test account (expect 0)");
    rec.evidence = evidence(f);
    rec
}

/// What the erasure strategy named in the suggestion costs.
fn erasure_costs(suggestion: &str, table: &str) -> String {
    let s = suggestion.to_ascii_lowercase();
    if s.contains("destroy_async") {
        format!(
            "destroy_async deletes the {table} rows in a background job: they outlive the \
             account for a while, and a failed job leaves them behind (monitor the queue)."
        )
    } else if s.contains("dependent: :destroy") {
        format!(
            "dependent: :destroy loads and destroys each {table} row with its callbacks: slow \
             for accounts with many rows (destroy_async or delete_all for those)."
        )
    } else if s.contains("delete_all") || s.contains("cascade") {
        format!(
            "delete_all and ON DELETE CASCADE skip the {table} model's callbacks (attachments, \
             counters, nested dependents are not handled)."
        )
    } else if s.contains("anonymize") || s.contains("nullify") {
        format!(
            "Anonymized or detached {table} rows stay for statistics; make sure nothing left \
             in them identifies the person."
        )
    } else {
        format!("Erasing {table} rows removes them from every feature that reads them.")
    }
}

// ------------------------------------------------------------- classification

/// The retention module's wording for a column it found encrypted.
fn already_encrypted(f: &GovernanceFinding) -> bool {
    f.reason.contains("encrypted by the application")
}

fn protect(input: &Input, table: &str, special: bool) -> Option<Recommendation> {
    let kind = if special {
        "special_category_column"
    } else {
        "pii_column"
    };
    let findings: Vec<&GovernanceFinding> = input
        .governance
        .iter()
        .filter(|f| f.table == table && (f.kind == kind || f.kind == "pii_column"))
        .collect();
    let priority = findings.iter().map(|f| f.priority).min()?;
    let clear: Vec<&&GovernanceFinding> =
        findings.iter().filter(|f| !already_encrypted(f)).collect();
    let columns: Vec<String> = clear.iter().filter_map(|f| f.column.clone()).collect();
    let what = if special {
        "special-category data (GDPR Art. 9)"
    } else {
        "personal data"
    };
    let mut rec = blank(
        "classification",
        format!(
            "Protect the {} in {table}",
            if special {
                "special-category data"
            } else {
                "personal data"
            }
        ),
        priority,
        Effort::Hours,
    );
    let listed: Vec<String> = findings
        .iter()
        .filter_map(|f| {
            let col = f.column.as_deref()?;
            let cat = f.category.as_deref().unwrap_or("unclassified");
            let state = if already_encrypted(f) {
                ", encrypted"
            } else {
                ""
            };
            Some(format!("{col} ({cat}{state})"))
        })
        .collect();
    if listed.is_empty() {
        // Column findings that name no column: nothing to encrypt or filter.
        return None;
    }
    rec.issue = format!(
        "{table}{} holds {what}: {}. {} in clear text.",
        rows_note(input, table),
        and_list(&listed),
        match columns.len() {
            0 => "None of them is".to_owned(),
            n => format!(
                "{} of them {}",
                fmt_count(n as u64),
                if n == 1 { "is" } else { "are" }
            ),
        }
    );
    rec.impact = Impact {
        summary: format!(
            "A database dump, a backup or read access to a replica no longer exposes {}; \
             logs no longer carry them.",
            if columns.is_empty() {
                format!("{table}'s columns")
            } else {
                and_list(&columns)
            }
        ),
        ..Impact::default()
    };
    rec.solution = protect_snippet(input, table, &clear, &columns, special);
    rec.trade_offs = "Encrypted columns cannot be filtered, sorted or searched in SQL \
                      (deterministic: true keeps equality lookups and unique indexes, with \
                      weaker secrecy); existing rows must be encrypted in a backfill \
                      (Model.find_each(&:encrypt)) and the column must fit the larger \
                      ciphertext; the keys live in the credentials and need rotating."
        .to_owned();
    rec.metric = format!(
        "clear-text classified columns of {table} (now {})",
        fmt_count(columns.len() as u64)
    );
    rec.evidence = vec![format!("governance:{kind}:{table}")];
    Some(rec)
}

/// The findings' own lines (`encrypts :weight`, an anonymize policy), the
/// log filter, and the access and retention steps.
fn protect_snippet(
    input: &Input,
    table: &str,
    clear: &[&&GovernanceFinding],
    columns: &[String],
    special: bool,
) -> String {
    let model = model_name(table).unwrap_or_else(|| format!("the model of {table}"));
    let mut lines: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for f in clear {
        let line = f.suggestion.trim();
        if !line.is_empty() && seen.insert(line.to_owned()) {
            lines.push(line.to_owned());
        }
    }
    let mut out = format!("# {model}\n{}\n", lines.join("\n"));
    if !columns.is_empty() {
        let symbols: Vec<String> = columns.iter().map(|c| words::ruby_symbol(c)).collect();
        out.push_str(&format!(
            "\n# config/initializers/filter_parameter_logging.rb\n\
             Rails.application.config.filter_parameters += [{}]\n",
            symbols.join(", ")
        ));
    }
    if special {
        out.push_str(
            "\n# Restrict reads to the features that need them (no admin listing or export \
             without a documented purpose) and log who reads them.\n",
        );
    }
    let policy = input
        .governance
        .iter()
        .find(|f| f.kind == "no_policy" && f.table == table)
        .map(|f| f.suggestion.trim().to_owned())
        .filter(|s| !s.is_empty());
    if let Some(policy) = policy {
        out.push_str(&format!("\n# Retention (no policy yet):\n{policy}\n"));
    }
    out.trim_end().to_owned()
}

// ------------------------------------------------------------- retention

fn retention(input: &Input, f: &GovernanceFinding) -> Recommendation {
    let table = f.table.as_str();
    let column = f
        .column
        .as_deref()
        .map_or_else(String::new, |c| format!(".{c}"));
    let (category, title) = match f.kind.as_str() {
        "no_policy" => ("retention", format!("Set a retention policy for {table}")),
        "unindexed_policy_column" => (
            "retention",
            format!("Index the retention column {table}{column}"),
        ),
        "partition_candidate" => ("retention", format!("Partition {table} by month")),
        "cleanup_order" => ("retention", format!("Fix the cleanup order of {table}")),
        "soft_delete_without_purge" => (
            "soft_delete",
            format!("Purge the soft-deleted rows of {table}"),
        ),
        "soft_delete_without_partial_index" => {
            ("soft_delete", format!("Index the live rows of {table}"))
        }
        "keep_without_legal_basis" => (
            "retention",
            format!("Record the legal basis for keeping {table}"),
        ),
        _ => ("retention", format!("Fix the retention policy of {table}")),
    };
    let effort = if f.kind == "partition_candidate" {
        Effort::Days
    } else {
        effort_of(&f.suggestion)
    };
    let mut rec = blank(category, title, f.priority, effort);
    rec.issue = if f.reason.trim().is_empty() {
        format!("{}: {table}{column}.", f.kind.replace('_', " "))
    } else {
        f.reason.clone()
    };
    let rows = assessment::table_rows(input, table);
    rec.impact = Impact {
        summary: retention_impact(input, f, table),
        rows_scanned: (f.kind == "unindexed_policy_column")
            .then_some(rows)
            .flatten(),
        ..Impact::default()
    };
    rec.solution = f.suggestion.clone();
    rec.trade_offs = retention_costs(&f.kind, table);
    rec.metric = retention_metric(&f.kind, table);
    rec.evidence = evidence(f);
    rec
}

fn retention_impact(input: &Input, f: &GovernanceFinding, table: &str) -> String {
    let rows = assessment::table_rows(input, table).map_or_else(
        || "rows (count unknown)".to_owned(),
        |r| plural(r, "row", "rows"),
    );
    match f.kind.as_str() {
        "no_policy" => {
            let growth = assessment::table_writes(input)
                .get(table)
                .and_then(|w| assessment::per_day(w.inserts, input.window_seconds()))
                .map_or_else(
                    || "its growth rate was not recorded".to_owned(),
                    |d| {
                        format!(
                            "it grows by about {} rows a day at the recorded rate",
                            fmt_num(d)
                        )
                    },
                );
            format!("Bounds {table}: {rows} now, and {growth}.")
        }
        "unindexed_policy_column" => {
            format!("The cleanup finds expired rows by index instead of scanning {rows}.")
        }
        "partition_candidate" => format!(
            "Expired months are dropped as whole partitions instead of deleting {rows} in \
             batches (no bloat, no long-running deletes)."
        ),
        "cleanup_order" => {
            format!("The cleanup of {table} stops failing on, or orphaning, the rows that reference it.")
        }
        "soft_delete_without_purge" => format!(
            "Soft-deleted {table} rows are erased after the period instead of kept for ever \
             ({rows} now)."
        ),
        "soft_delete_without_partial_index" => format!(
            "Queries on the live rows of {table} use an index that leaves the deleted ones out \
             ({rows} now)."
        ),
        "keep_without_legal_basis" => format!(
            "Keeping {table} is documented with its legal basis (GDPR Art. 5(2), accountability)."
        ),
        _ => format!("The retention policy of {table} runs as intended."),
    }
}

fn retention_costs(kind: &str, table: &str) -> String {
    match kind {
        "no_policy" => format!(
            "Rows older than the period are deleted, archived or anonymized: reports over older \
             {table} data need an archive or aggregates first."
        ),
        "unindexed_policy_column" | "soft_delete_without_partial_index" => {
            format!("The index costs disk and a write on every insert into {table}.")
        }
        "partition_candidate" => format!(
            "Converting {table} to a partitioned table is a migration that copies or swaps the \
             table, and its primary key and unique indexes must include the partition column."
        ),
        "cleanup_order" => format!(
            "Deleting the rows that reference {table} first (or ON DELETE CASCADE) removes data \
             the app may still show: check what references it."
        ),
        "soft_delete_without_purge" => {
            format!("Soft-deleted {table} rows cannot be restored after the purge.")
        }
        "keep_without_legal_basis" => format!(
            "None for the code: it documents a decision; without a legal basis the {table} rows \
             must get a period instead."
        ),
        _ => "None: until it is fixed the policy does not run as written.".to_owned(),
    }
}

fn retention_metric(kind: &str, table: &str) -> String {
    match kind {
        "no_policy" => format!("{table} rows older than the period (expect 0 after the first run)"),
        "unindexed_policy_column" => format!("duration of the {table} cleanup"),
        "partition_candidate" => format!("duration of the {table} cleanup and the table's size"),
        "cleanup_order" => format!("failed or orphaning cleanup runs of {table} (expect 0)"),
        "soft_delete_without_purge" => {
            format!("soft-deleted {table} rows older than the period (expect 0)")
        }
        "soft_delete_without_partial_index" => format!("time of queries on live {table} rows"),
        "keep_without_legal_basis" => "keep policies without a legal basis (expect 0)".to_owned(),
        _ => "invalid_policy findings (expect 0)".to_owned(),
    }
}
