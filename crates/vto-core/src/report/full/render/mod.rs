//! Renderers for the full report: the report JSON (schema_version 1, see
//! [`super`]) as pretty JSON, plain or coloured text, GitHub-flavoured
//! Markdown, or one self-contained HTML page with inline SVG charts.
//!
//! The renderers read the report as a [`serde_json::Value`], so they depend on
//! nothing but its documented shape and can render a report written by an
//! older or newer core. Every field may be missing, null or of an odd type (a
//! number sent as a string): what cannot be read is skipped or shown as "not
//! measured", never a panic.
//!
//! The content is laid out once, format-neutral, as a list of blocks
//! (headings, fields, tables, code, charts); each format then writes those
//! blocks, so the five sections come in the same order with the same figures
//! in every format.
//!
//! ```
//! use vto_core::report::full::render::render;
//!
//! let report = serde_json::json!({"schema_version": 1, "app": "Virtual Trainer",
//!                                 "generated_at": "2026-11-26T12:00:00Z"});
//! let text = render(&report, "text")?;
//! assert!(text.starts_with("Performance report for Virtual Trainer, generated 2026-11-26T12:00:00Z"));
//! assert!(text.contains("No N+1 queries were seen in this workload."));
//! let html = render(&report, "html")?;
//! assert!(html.contains(r#"<svg class="chart" id="chart-query-time""#));
//! # Ok::<(), vto_core::Error>(())
//! ```

use serde_json::Value;

use super::model::Priority;
use crate::Error;

mod chart;
mod document;
mod html;
mod markdown;
mod text;

/// The format names [`render`] accepts (any case).
pub const FORMATS: [&str; 5] = ["json", "text", "text_color", "markdown", "html"];

/// Renders the report (the output JSON of [`super`], schema_version 1) in a
/// format: `json` (pretty printed), `text` (plain, fixed-width), `text_color`
/// (the same text with ANSI colours), `markdown` (GitHub-flavoured) or `html`
/// (one self-contained page). Every output ends with a newline.
///
/// # Errors
///
/// [`Error::UnknownFormat`] for a format not in [`FORMATS`];
/// [`Error::InvalidInput`] when the report is not a JSON object.
pub fn render(report: &Value, format: &str) -> Result<String, Error> {
    let format = Format::parse(format)?;
    if !report.is_object() {
        return Err(Error::InvalidInput {
            message: format!(
                "the report must be a JSON object, not {}",
                type_name(report)
            ),
        });
    }
    match format {
        Format::Json => serde_json::to_string_pretty(report)
            .map(|json| json + "\n")
            .map_err(|e| Error::InvalidInput {
                message: e.to_string(),
            }),
        Format::Text => Ok(text::render(&document::build(report), false)),
        Format::TextColor => Ok(text::render(&document::build(report), true)),
        Format::Markdown => Ok(markdown::render(&document::build(report))),
        Format::Html => Ok(html::render(&document::build(report))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Text,
    TextColor,
    Markdown,
    Html,
}

impl Format {
    fn parse(name: &str) -> Result<Format, Error> {
        let all = [
            Format::Json,
            Format::Text,
            Format::TextColor,
            Format::Markdown,
            Format::Html,
        ];
        FORMATS
            .iter()
            .zip(all)
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(_, f)| f)
            .ok_or_else(|| Error::UnknownFormat {
                name: name.to_owned(),
            })
    }
}

/// "a string", "an array", ...: for messages about input of the wrong type.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------
// Reading the report: lenient accessors over `Value`.
// ---------------------------------------------------------------------------

/// The field `key` of `value`, if `value` is an object that has it non-null.
fn get<'a>(value: impl Into<Option<&'a Value>>, key: &str) -> Option<&'a Value> {
    value
        .into()
        .and_then(|v| v.get(key))
        .filter(|v| !v.is_null())
}

/// The array at `key` (empty when missing, null or not an array).
fn list<'a>(value: impl Into<Option<&'a Value>>, key: &str) -> &'a [Value] {
    get(value, key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A field as display text: strings (trimmed, non-empty), numbers and
/// booleans; control characters are neutralised so report data cannot drive
/// a terminal (ANSI escapes) or break HTML.
fn text_at<'a>(value: impl Into<Option<&'a Value>>, key: &str) -> Option<String> {
    get(value, key).and_then(as_text)
}

fn as_text(value: &Value) -> Option<String> {
    let raw = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    Some(clean(&raw)).filter(|s| !s.is_empty())
}

/// A field as a finite number; numeric strings count (some producers quote them).
fn num_at<'a>(value: impl Into<Option<&'a Value>>, key: &str) -> Option<f64> {
    get(value, key).and_then(as_num)
}

fn as_num(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|x| x.is_finite())
}

/// A field as a boolean; `"true"`/`"yes"` strings and non-zero numbers count.
fn bool_at<'a>(value: impl Into<Option<&'a Value>>, key: &str) -> Option<bool> {
    match get(value, key)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|x| x != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A list of strings at `key`; a lone string is a list of one.
fn strings_at<'a>(value: impl Into<Option<&'a Value>>, key: &str) -> Vec<String> {
    match get(value, key) {
        Some(Value::Array(items)) => items.iter().filter_map(as_text).collect(),
        Some(other) => as_text(other).into_iter().collect(),
        None => Vec::new(),
    }
}

/// The priority named at `key`, if any.
fn priority_at<'a>(value: impl Into<Option<&'a Value>>, key: &str) -> Option<Priority> {
    text_at(value, key).map(|name| Priority::from_name(&name))
}

/// Drops carriage returns and replaces other control characters (except
/// newline and tab) with U+FFFD.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|&c| c != '\r')
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Ordering.
// ---------------------------------------------------------------------------

/// Sorts entries most urgent first, keeping the report's order within a
/// priority (a stable sort, so an already ordered list is left as it is).
/// Entries without a priority go last.
fn sort_by_priority(items: &mut [&Value]) {
    items.sort_by_key(|item| priority_rank(priority_at(*item, "priority")));
}

fn priority_rank(priority: Option<Priority>) -> u8 {
    match priority {
        Some(Priority::Critical) => 0,
        Some(Priority::High) => 1,
        Some(Priority::Medium) => 2,
        Some(Priority::Low) => 3,
        None => 4,
    }
}

// ---------------------------------------------------------------------------
// Number formatting.
// ---------------------------------------------------------------------------

/// `x` with `decimals` decimals and thousands separators: `1,234.5`.
fn fixed(x: f64, decimals: usize) -> String {
    let digits = format!("{:.*}", decimals, x.abs());
    let (int, frac) = digits
        .split_once('.')
        .map_or((digits.as_str(), None), |(i, f)| (i, Some(f)));
    // No "-0.0": the sign only when a digit is not zero.
    let negative = x < 0.0 && digits.bytes().any(|b| (b'1'..=b'9').contains(&b));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if negative {
        out.push('-');
    }
    let len = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (len - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Up to `decimals` decimals, trailing zeros dropped: `0.062`, `2`.
fn trimmed(x: f64, decimals: usize) -> String {
    let s = fixed(x, decimals);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A count: `1,240`.
fn count(x: f64) -> String {
    fixed(x.round(), 0)
}

/// A figure with sensible precision: integers as integers, otherwise one
/// decimal from 10 up and two below (`31.5`, `0.12`).
fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        fixed(x, 0)
    } else if x.abs() >= 10.0 {
        fixed(x, 1)
    } else {
        fixed(x, 2)
    }
}

/// Milliseconds with one decimal (two below 1 ms, where one would round to 0).
fn ms(x: f64) -> String {
    if x == 0.0 || x.abs() >= 1.0 {
        format!("{} ms", fixed(x, 1))
    } else {
        format!("{} ms", fixed(x, 2))
    }
}

/// A share (0..1) as a percentage: `19.0%`.
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p != 0.0 && p.abs() < 0.1 {
        format!("{}%", fixed(p, 2))
    } else {
        format!("{}%", fixed(p, 1))
    }
}

/// Bytes in binary units: `80.0 KiB`.
fn bytes(x: f64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if x.abs() < 1024.0 {
        return format!("{} B", count(x));
    }
    let mut value = x / 1024.0;
    let mut unit = "KiB";
    for next in UNITS.iter().skip(1) {
        if value.abs() < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{} {unit}", fixed(value, 1))
}

/// Money with two decimals: `$50.00`, or `50.00 EUR` for other currencies.
fn money(x: f64, currency: &str) -> String {
    if currency.eq_ignore_ascii_case("usd") {
        format!("${}", fixed(x, 2))
    } else {
        format!("{} {currency}", fixed(x, 2))
    }
}

/// Money as [`money`], but small amounts (an API call costs fractions of a
/// cent) keep five significant digits: `$0.0003675`.
fn money_fine(x: f64, currency: &str) -> String {
    if x == 0.0 || x.abs() >= 1.0 {
        return money(x, currency);
    }
    let decimals = ((-x.abs().log10()).ceil() as usize + 4).min(12);
    let digits = trimmed(x, decimals);
    if currency.eq_ignore_ascii_case("usd") {
        format!("${digits}")
    } else {
        format!("{digits} {currency}")
    }
}

// ---------------------------------------------------------------------------
// Text helpers and escaping.
// ---------------------------------------------------------------------------

/// Collapses all whitespace (newlines included) to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, ending in `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// At most `max` characters, keeping the end (where names differ:
/// `…CompletedWorkoutsController#index`), starting with `…` when cut.
fn truncate_start(s: &str, max: usize) -> String {
    let len = s.chars().count();
    if len <= max {
        return s.to_owned();
    }
    let keep = max.saturating_sub(1);
    let mut out = String::from("…");
    out.extend(s.chars().skip(len - keep));
    out
}

/// SQL on one line, shortened for a label; identifier quotes are dropped
/// because normalized SQL carries no string literals, so they only add noise.
fn short_sql(sql: &str, max: usize) -> String {
    let bare: String = sql.chars().filter(|&c| c != '"' && c != '`').collect();
    truncate(&one_line(&bare), max)
}

/// Escapes text for HTML element content and attribute values.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The language of a code block, for fences and highlighting classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Ruby,
    Sql,
    Yaml,
    Ini,
    Shell,
    Plain,
}

impl Lang {
    /// The fence / `language-` name; empty for plain text.
    fn name(self) -> &'static str {
        match self {
            Lang::Ruby => "ruby",
            Lang::Sql => "sql",
            Lang::Yaml => "yaml",
            Lang::Ini => "ini",
            Lang::Shell => "sh",
            Lang::Plain => "",
        }
    }

    /// Guesses the language from the first line that is not a comment.
    fn detect(code: &str) -> Lang {
        let first = code
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
            .unwrap_or("");
        let word = first
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if first.starts_with("--") || SQL_STARTS.contains(&word.as_str()) {
            Lang::Sql
        } else if first.starts_with('[') && first.ends_with(']') {
            Lang::Ini
        } else if first.starts_with("$ ")
            || SHELL_STARTS.contains(&first.split_whitespace().next().unwrap_or(""))
        {
            Lang::Shell
        } else if looks_like_yaml(first) {
            Lang::Yaml
        } else if looks_like_ruby(code) {
            Lang::Ruby
        } else {
            Lang::Plain
        }
    }
}

const SQL_STARTS: [&str; 17] = [
    "SELECT", "CREATE", "ALTER", "DROP", "UPDATE", "DELETE", "INSERT", "WITH", "SET", "VACUUM",
    "ANALYZE", "REINDEX", "EXPLAIN", "BEGIN", "COMMIT", "TRUNCATE", "CLUSTER",
];

const SHELL_STARTS: [&str; 6] = ["heroku", "bundle", "bin", "rails", "rake", "psql"];

/// `key: value`, `:key: value` (Sidekiq), `- item` or a document marker.
fn looks_like_yaml(line: &str) -> bool {
    if line == "---" || line.starts_with("- ") {
        return true;
    }
    let key = line.strip_prefix(':').unwrap_or(line);
    match key.split_once(':') {
        Some((name, rest)) => {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
                && (rest.is_empty() || rest.starts_with(' '))
        }
        None => false,
    }
}

fn looks_like_ruby(code: &str) -> bool {
    const MARKERS: [&str; 17] = [
        "def ",
        "class ",
        "do |",
        "::",
        ".includes(",
        ".preload(",
        ".eager_load(",
        ".where(",
        ".find_each",
        ".in_batches",
        "add_index",
        "remove_index",
        "has_many",
        "belongs_to",
        "counter_cache",
        "Rails.",
        "<% ",
    ];
    MARKERS.iter().any(|m| code.contains(m))
        || code.lines().any(|l| {
            let l = l.trim();
            l == "end" || l.starts_with('@') || starts_with_constant_call(l)
        })
}

/// `Workout.where(...)`, `User.find(...)`: a constant receiving a call.
fn starts_with_constant_call(line: &str) -> bool {
    let name_len = line
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(line.len());
    line.starts_with(|c: char| c.is_ascii_uppercase())
        && line
            .get(name_len..)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|method| method.starts_with(|c: char| c.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(fixed(1234567.891, 2), "1,234,567.89");
        assert_eq!(fixed(-0.01, 1), "0.0");
        assert_eq!(fixed(-1234.0, 0), "-1,234");
        assert_eq!(count(999.6), "1,000");
        assert_eq!(trimmed(0.0620, 3), "0.062");
        assert_eq!(trimmed(2.0, 3), "2");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate_start("abcdef", 4), "…def");
        assert_eq!(truncate_start("abc", 4), "abc");
        assert_eq!(number(31.5), "31.5");
        assert_eq!(number(0.124), "0.12");
        assert_eq!(ms(0.28), "0.28 ms");
        assert_eq!(ms(1800.0), "1,800.0 ms");
        assert_eq!(percent(0.19), "19.0%");
        assert_eq!(percent(0.00062), "0.06%");
        assert_eq!(bytes(81920.0), "80.0 KiB");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(money(50.0, "USD"), "$50.00");
        assert_eq!(money_fine(0.0003675, "USD"), "$0.0003675");
        assert_eq!(money_fine(0.6615, "USD"), "$0.6615");
        assert_eq!(money_fine(12.5, "USD"), "$12.50");
    }

    #[test]
    fn detects_languages() {
        let cases = [
            ("add_index :a, :b", Lang::Ruby),
            ("-- fix\nCREATE INDEX CONCURRENTLY x ON y (z);", Lang::Sql),
            ("# config/sidekiq.yml\n:concurrency: 10", Lang::Yaml),
            ("[pgbouncer]\npool_mode = transaction", Lang::Ini),
            ("heroku pg:settings:statement-timeout 30s", Lang::Shell),
            ("has_many :injuries, dependent: :destroy", Lang::Ruby),
            ("CompletedWorkout.where(user: user).count", Lang::Ruby),
            ("just words", Lang::Plain),
            ("SELECTED. words", Lang::Plain),
        ];
        for (code, lang) in cases {
            assert_eq!(Lang::detect(code), lang, "{code:?}");
        }
    }

    #[test]
    fn reads_leniently() {
        let v = serde_json::json!({"a": "1,2", "b": " 12.5 ", "c": null, "d": ["x", 1, null], "e": "NaN"});
        assert_eq!(num_at(Some(&v), "a"), None);
        assert_eq!(num_at(Some(&v), "b"), Some(12.5));
        assert_eq!(num_at(Some(&v), "e"), None);
        assert_eq!(text_at(Some(&v), "c"), None);
        assert_eq!(strings_at(Some(&v), "d"), ["x", "1"]);
        assert_eq!(clean("a\u{1b}[31mb\r\n"), "a\u{fffd}[31mb\n");
    }
}
