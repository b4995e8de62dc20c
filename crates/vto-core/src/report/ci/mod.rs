//! The CI summary: what the detectors found during a test run or CI job,
//! grouped by offending call site, for people (text) and tools (JSON, SARIF
//! 2.1.0 for code scanning, GitHub Actions workflow commands for annotations).
//!
//! The input is one [`Entry`] per finding per unit of work (a request, a job,
//! a test example). [`summarize`] groups the entries by kind, fingerprint and
//! location into [`Offender`]s, most urgent first, with [`KindTotal`]s per
//! kind; [`render`] writes a [`Summary`] in a [`Format`]. [`summarize_json`]
//! does all three from JSON text.
//!
//! ```
//! use vto_core::report::ci::{render, summarize, Format, Input};
//!
//! let input = Input::from_json(
//!     r#"{"findings": [
//!       {"kind": "n_plus_one", "fingerprint": "9f86d081884c7d65", "count": 12,
//!        "sql": "SELECT \"workouts\".* FROM \"workouts\" WHERE \"workouts\".\"user_id\" = ?",
//!        "location": "app/controllers/dashboards_controller.rb:14",
//!        "priority": "high", "total_ms": 3.25, "scope": "GET /dashboard"},
//!       {"kind": "n_plus_one", "fingerprint": "9f86d081884c7d65", "count": 7,
//!        "location": "app/controllers/dashboards_controller.rb:14",
//!        "priority": "medium", "total_ms": 1.5, "scope": "GET /teams/1"}
//!     ]}"#,
//! )?;
//! let summary = summarize(&input);
//! assert_eq!(summary.offenders.len(), 1);
//! let offender = &summary.offenders[0];
//! assert_eq!((offender.occurrences, offender.queries, offender.max_count), (2, 19, 12));
//! assert_eq!(offender.line, Some(14));
//! assert_eq!(offender.scopes, ["GET /dashboard", "GET /teams/1"]);
//!
//! let text = render(&summary, Format::Text);
//! assert!(text.starts_with("virtual_trainer_optimizer: 2 findings at 1 place (1 new, 0 baselined)"));
//! let github = render(&summary, "github".parse()?);
//! assert!(github.starts_with("::warning file=app/controllers/dashboards_controller.rb,line=14,"));
//! # Ok::<(), vto_core::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::detect::Priority;
use crate::Error;

mod github;
mod json;
mod sarif;
mod text;

/// The tool's name in every output.
pub const TOOL_NAME: &str = "virtual_trainer_optimizer";

/// The tool's home page, as SARIF's `informationUri`.
pub const INFORMATION_URI: &str = "https://github.com/virtual-trainer/virtual_trainer_optimizer";

/// Offenders the text output lists when the input does not say (`top`).
pub const DEFAULT_TOP: usize = 10;

/// The version of the JSON output's shape (`schema_version`).
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Scope names kept per offender (the count of distinct ones is kept too).
pub const MAX_SCOPES: usize = 5;

/// SQL longer than this many characters is cut, with `...`, in the text and
/// GitHub outputs.
pub const MAX_SQL_CHARS: usize = 300;

/// The summary's input, as JSON:
/// `{"tool_version": "0.1.0", "top": 10, "findings": [ ... ]}`.
///
/// Every field is optional: `tool_version` defaults to this crate's version,
/// `top` to [`DEFAULT_TOP`], `findings` to none. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// The version of the tool that produced the findings (the gem's version).
    #[serde(default)]
    pub tool_version: Option<String>,
    /// How many offenders the text output lists.
    #[serde(default = "default_top")]
    pub top: usize,
    /// One entry per finding per unit of work.
    #[serde(default)]
    pub findings: Vec<Entry>,
}

fn default_top() -> usize {
    DEFAULT_TOP
}

fn default_count() -> u64 {
    1
}

impl Default for Input {
    fn default() -> Self {
        Input {
            tool_version: None,
            top: DEFAULT_TOP,
            findings: Vec::new(),
        }
    }
}

impl Input {
    /// Decodes the input from JSON text; [`Error::InvalidInput`] when it is not
    /// JSON or not of this shape (the message says where).
    pub fn from_json(json: &str) -> Result<Input, Error> {
        let invalid = |message: String| Error::InvalidInput {
            message: format!("CI summary findings JSON: {message}"),
        };
        // serde would also take a struct from an array, by position.
        if !json.trim_start().starts_with('{') {
            return Err(invalid(
                "expected an object at the top level ({\"findings\": [...]})".to_owned(),
            ));
        }
        serde_json::from_str(json).map_err(|err| invalid(err.to_string()))
    }
}

/// One finding of one unit of work, as JSON:
/// `{"kind": "n_plus_one", "fingerprint": "9f86d081884c7d65", "count": 12,
/// "sql": "SELECT ...", "location": "app/models/user.rb:14", "suggestion":
/// "...", "priority": "high", "total_ms": 3.25, "scope": "GET /dashboard",
/// "baselined": false}`.
///
/// `kind` and `priority` are required; the others default (`count` to 1,
/// `total_ms` to 0, `baselined` to false, the rest to none). Unknown fields
/// are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// `n_plus_one`, `bulk_write`, `duplicate_query`, `slow_query`,
    /// `slow_request`, `slow_job`, `slow_scan`, or any other name (reported as is).
    pub kind: String,
    /// The query's fingerprint (hex), when the finding is about one query.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Queries the finding covers in its unit of work.
    #[serde(default = "default_count")]
    pub count: u64,
    /// The normalized SQL (no literal values).
    #[serde(default)]
    pub sql: Option<String>,
    /// `relative/path.rb:LINE` of the innermost application frame.
    #[serde(default)]
    pub location: Option<String>,
    /// The fix hint.
    #[serde(default)]
    pub suggestion: Option<String>,
    /// `critical`, `high`, `medium` or `low`.
    #[serde(deserialize_with = "priority_from_name")]
    pub priority: Priority,
    /// Time the finding's queries (or unit, for scope-wide kinds) took, in milliseconds.
    #[serde(default)]
    pub total_ms: f64,
    /// The unit of work's name (`GET /dashboard`, a job class, a test example).
    #[serde(default)]
    pub scope: Option<String>,
    /// The project has accepted this finding in its baseline file.
    #[serde(default)]
    pub baselined: bool,
}

fn priority_from_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Priority, D::Error> {
    let name = String::deserialize(deserializer)?;
    match name.as_str() {
        "critical" => Ok(Priority::Critical),
        "high" => Ok(Priority::High),
        "medium" => Ok(Priority::Medium),
        "low" => Ok(Priority::Low),
        other => Err(serde::de::Error::unknown_variant(
            other,
            &["critical", "high", "medium", "low"],
        )),
    }
}

/// One place that offends: the entries of one kind, fingerprint and location,
/// across every unit of work they came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offender {
    /// The finding kind (see [`Entry::kind`]).
    pub kind: String,
    /// The query's fingerprint, if any.
    pub fingerprint: Option<String>,
    /// The location as given (`path:line`), if any.
    pub location: Option<String>,
    /// The path part of the location.
    pub path: Option<String>,
    /// The line part of the location, when it has one.
    pub line: Option<u32>,
    /// The normalized SQL (the first entry that had one).
    pub sql: Option<String>,
    /// The fix hint (the first entry that had one).
    pub suggestion: Option<String>,
    /// The highest priority of its entries.
    pub priority: Priority,
    /// Entries (units of work in which it showed).
    pub occurrences: u64,
    /// Sum of the entries' `count`.
    pub queries: u64,
    /// The largest `count` of one entry.
    pub max_count: u64,
    /// Sum of the entries' `total_ms`.
    pub total_ms: f64,
    /// Up to [`MAX_SCOPES`] distinct unit-of-work names, first seen first.
    pub scopes: Vec<String>,
    /// Distinct unit-of-work names in all.
    pub scope_count: u64,
    /// Every one of its entries is baselined.
    pub baselined: bool,
}

/// Totals of one kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindTotal {
    /// The finding kind.
    pub kind: String,
    /// Offenders of this kind.
    pub places: u64,
    /// Entries of this kind.
    pub occurrences: u64,
    /// Sum of their `count`.
    pub queries: u64,
    /// Sum of their `total_ms`.
    pub total_ms: f64,
}

/// The report model: totals per kind and every offender, most urgent first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The version of the tool that produced the findings.
    pub tool_version: String,
    /// How many offenders the text output lists.
    pub top: usize,
    /// Entries in the input.
    pub findings: u64,
    /// One per kind present, in a fixed order: `n_plus_one`, `bulk_write`,
    /// `duplicate_query`, `slow_query`, `slow_request`, `slow_job`,
    /// `slow_scan`, then other kinds by name.
    pub totals: Vec<KindTotal>,
    /// All offenders: not baselined first, then by priority (critical first),
    /// queries, time (most first), then location, fingerprint and kind.
    pub offenders: Vec<Offender>,
}

impl Summary {
    /// Offenders not in the baseline.
    pub fn new_offenders(&self) -> usize {
        self.offenders.iter().filter(|o| !o.baselined).count()
    }
}

/// What is known about a kind: names and the SARIF rule text.
struct KindInfo {
    kind: &'static str,
    /// Singular, for one offender.
    human: &'static str,
    /// Plural, for the totals.
    plural: &'static str,
    /// SARIF `rule.name`.
    rule_name: &'static str,
    short: &'static str,
    full: &'static str,
    help: &'static str,
    level: &'static str,
    /// About a whole unit of work rather than queries from one call site.
    scope_wide: bool,
}

const KINDS: [KindInfo; 7] = [
    KindInfo {
        kind: "n_plus_one",
        human: "N+1 query",
        plural: "N+1 queries",
        rule_name: "NPlusOneQuery",
        short: "N+1 query: the same read repeated from one call site",
        full: "The same SELECT, differing only in its values, ran repeatedly from one call site \
               within one unit of work (a request, a job, a test example): typically an \
               association loaded once per record in a loop.",
        help: "Load the association up front with includes, preload or eager_load on the query \
               that fetches the records, or fetch all the rows in one query.",
        level: "warning",
        scope_wide: false,
    },
    KindInfo {
        kind: "bulk_write",
        human: "writes in a loop",
        plural: "writes in a loop",
        rule_name: "WritesInALoop",
        short: "Writes in a loop: the same INSERT, UPDATE or DELETE repeated from one call site",
        full: "The same write statement, differing only in its values, ran repeatedly from one \
               call site within one unit of work: one round trip per record.",
        help: "Write in bulk: insert_all or upsert_all for inserts, update_all or delete_all for \
               updates and deletes, in one transaction.",
        level: "warning",
        scope_wide: false,
    },
    KindInfo {
        kind: "duplicate_query",
        human: "duplicate query",
        plural: "duplicate queries",
        rule_name: "DuplicateQuery",
        short: "Duplicate query: the identical query run more than once in one unit of work",
        full: "The identical SQL with the same values ran more than once within one unit of \
               work; every run after the first returns what is already known.",
        help: "Reuse the first result: keep the record in a variable or memoize it, or load it \
               once where the unit of work starts.",
        level: "note",
        scope_wide: false,
    },
    KindInfo {
        kind: "slow_query",
        human: "slow query",
        plural: "slow queries",
        rule_name: "SlowQuery",
        short: "Slow query: one query over the slow-query threshold",
        full: "A single query took longer than the configured slow-query threshold.",
        help: "Look at its plan (EXPLAIN ANALYZE): index the filtered and sorted columns, read \
               fewer rows or columns, or paginate.",
        level: "warning",
        scope_wide: false,
    },
    KindInfo {
        kind: "slow_request",
        human: "slow request",
        plural: "slow requests",
        rule_name: "SlowRequest",
        short: "Slow request: a request over its time budget",
        full: "A request took longer than its configured time budget.",
        help: "Look at the request's queries first (N+1, duplicate and slow queries), then move \
               work to a background job or cache it.",
        level: "warning",
        scope_wide: true,
    },
    KindInfo {
        kind: "slow_job",
        human: "slow job",
        plural: "slow jobs",
        rule_name: "SlowJob",
        short: "Slow job: a background job over its time budget",
        full: "A background job took longer than its configured time budget.",
        help: "Look at the job's queries first (N+1, writes in a loop, slow queries), then \
               split the work into smaller jobs or batches.",
        level: "warning",
        scope_wide: true,
    },
    KindInfo {
        kind: "slow_scan",
        human: "slow scan",
        plural: "slow scans",
        rule_name: "SlowScan",
        short: "Slow scan: a scanned block over its time budget",
        full: "A block measured with VirtualTrainerOptimizer.scan took longer than its time \
               budget.",
        help: "Look at the block's queries first (N+1, duplicate and slow queries), then reduce \
               the work it does.",
        level: "warning",
        scope_wide: true,
    },
];

fn known(kind: &str) -> Option<(usize, &'static KindInfo)> {
    KINDS.iter().enumerate().find(|(_, info)| info.kind == kind)
}

/// The fixed kind order: known kinds by their place, others by name.
fn kind_order(kind: &str) -> (usize, &str) {
    match known(kind) {
        Some((rank, _)) => (rank, ""),
        None => (KINDS.len(), kind),
    }
}

fn human(kind: &str) -> &str {
    known(kind).map_or(kind, |(_, info)| info.human)
}

fn plural_kind(kind: &str) -> &str {
    known(kind).map_or(kind, |(_, info)| info.plural)
}

fn scope_wide(kind: &str) -> bool {
    known(kind).is_some_and(|(_, info)| info.scope_wide)
}

/// `path:LINE` split at the last `:`; a location whose tail is not a line
/// number is all path.
fn split_location(location: &str) -> (Option<String>, Option<u32>) {
    let (path, line) = match location.rsplit_once(':') {
        Some((path, line)) => match line.parse::<u32>() {
            Ok(line) => (path, Some(line)),
            Err(_) => (location, None),
        },
        None => (location, None),
    };
    let path = (!path.is_empty()).then(|| path.to_owned());
    (path, line)
}

struct Group {
    offender: Offender,
    all_scopes: BTreeSet<String>,
}

/// Groups the entries into offenders and totals; see [`Summary`] for the order.
pub fn summarize(input: &Input) -> Summary {
    type Key<'a> = (&'a str, Option<&'a str>, Option<&'a str>);
    let mut index: BTreeMap<Key<'_>, usize> = BTreeMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for entry in &input.findings {
        let key = (
            entry.kind.as_str(),
            entry.fingerprint.as_deref(),
            entry.location.as_deref(),
        );
        let at = *index.entry(key).or_insert_with(|| {
            let (path, line) = entry
                .location
                .as_deref()
                .map_or((None, None), split_location);
            groups.push(Group {
                offender: Offender {
                    kind: entry.kind.clone(),
                    fingerprint: entry.fingerprint.clone(),
                    location: entry.location.clone(),
                    path,
                    line,
                    sql: None,
                    suggestion: None,
                    priority: entry.priority,
                    occurrences: 0,
                    queries: 0,
                    max_count: 0,
                    total_ms: 0.0,
                    scopes: Vec::new(),
                    scope_count: 0,
                    baselined: true,
                },
                all_scopes: BTreeSet::new(),
            });
            groups.len() - 1
        });
        let Some(group) = groups.get_mut(at) else {
            continue;
        };
        let o = &mut group.offender;
        o.occurrences = o.occurrences.saturating_add(1);
        o.queries = o.queries.saturating_add(entry.count);
        o.max_count = o.max_count.max(entry.count);
        o.total_ms += entry.total_ms;
        o.priority = o.priority.min(entry.priority);
        o.baselined &= entry.baselined;
        if o.sql.is_none() {
            o.sql.clone_from(&entry.sql);
        }
        if o.suggestion.is_none() {
            o.suggestion.clone_from(&entry.suggestion);
        }
        if let Some(scope) = &entry.scope {
            if group.all_scopes.insert(scope.clone()) && o.scopes.len() < MAX_SCOPES {
                o.scopes.push(scope.clone());
            }
        }
    }

    let mut offenders: Vec<Offender> = groups
        .into_iter()
        .map(|mut g| {
            g.offender.scope_count = g.all_scopes.len() as u64;
            g.offender
        })
        .collect();
    offenders.sort_by(|a, b| {
        a.baselined
            .cmp(&b.baselined)
            .then(a.priority.cmp(&b.priority))
            .then(b.queries.cmp(&a.queries))
            .then(b.total_ms.total_cmp(&a.total_ms))
            .then_with(|| a.location.cmp(&b.location))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
            .then_with(|| kind_order(&a.kind).cmp(&kind_order(&b.kind)))
    });

    let mut totals: BTreeMap<(usize, &str), KindTotal> = BTreeMap::new();
    for o in &offenders {
        let t = totals
            .entry(kind_order(&o.kind))
            .or_insert_with(|| KindTotal {
                kind: o.kind.clone(),
                places: 0,
                occurrences: 0,
                queries: 0,
                total_ms: 0.0,
            });
        t.places += 1;
        t.occurrences = t.occurrences.saturating_add(o.occurrences);
        t.queries = t.queries.saturating_add(o.queries);
        t.total_ms += o.total_ms;
    }

    Summary {
        tool_version: input
            .tool_version
            .clone()
            .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
        top: input.top,
        findings: input.findings.len() as u64,
        totals: totals.into_values().collect(),
        offenders,
    }
}

/// An output format of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A plain-ASCII summary for the end of a test run.
    Text,
    /// Pretty JSON: totals and every offender (`schema_version` 1).
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, IDEs).
    Sarif,
    /// GitHub Actions workflow commands: one annotation per offender not in the baseline.
    Github,
}

impl Format {
    /// Every format, with its name.
    pub const NAMES: [(&'static str, Format); 4] = [
        ("text", Format::Text),
        ("json", Format::Json),
        ("sarif", Format::Sarif),
        ("github", Format::Github),
    ];

    /// The name, as [`FromStr`] accepts it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }
}

impl FromStr for Format {
    type Err = Error;

    /// `text`, `json`, `sarif` or `github` (any case); [`Error::UnknownFormat`] otherwise.
    fn from_str(name: &str) -> Result<Format, Error> {
        Format::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(_, f)| *f)
            .ok_or_else(|| Error::UnknownFormat {
                name: name.to_owned(),
            })
    }
}

/// Writes the summary in a format. The JSON and SARIF outputs are pretty
/// printed; every output ends with a newline unless empty (GitHub output with
/// nothing new to annotate).
pub fn render(summary: &Summary, format: Format) -> String {
    match format {
        Format::Text => text::text(summary),
        Format::Json => json::render(summary),
        Format::Sarif => sarif::render(summary),
        Format::Github => github::github(summary),
    }
}

/// Decodes the input JSON, summarizes and renders it: what the Ruby binding
/// calls. The format is checked first.
pub fn summarize_json(input: &str, format: &str) -> Result<String, Error> {
    let format: Format = format.parse()?;
    let input = Input::from_json(input)?;
    Ok(render(&summarize(&input), format))
}

fn pretty<T: Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // Unreachable for these types (string keys, plain values); still valid JSON.
        Err(err) => format!(
            "{{\"error\": {}}}\n",
            serde_json::Value::String(err.to_string())
        ),
    }
}

// ---------------------------------------------------------------- wording

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn ms(value: f64) -> String {
    format!("{value:.1} ms")
}

/// Control characters (newlines, tabs, escapes) become spaces: one line of text.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// At most [`MAX_SQL_CHARS`] characters, then `...`.
fn truncate_sql(sql: &str) -> String {
    match sql.char_indices().nth(MAX_SQL_CHARS) {
        Some((cut, _)) => format!("{}...", &sql[..cut]),
        None => sql.to_owned(),
    }
}

/// `5 occurrences, 36 queries (max 12 in one unit), 12.4 ms, in 3 units:
/// GET /a, GET /b, GET /c`: the counts of an offender, on one line.
fn describe(o: &Offender) -> String {
    let mut s = plural(o.occurrences, "occurrence", "occurrences");
    if scope_wide(&o.kind) {
        let _ = write!(s, ", {} in all", ms(o.total_ms));
    } else {
        let _ = write!(s, ", {}", plural(o.queries, "query", "queries"));
        if o.occurrences > 1 {
            let _ = write!(s, " (max {} in one unit)", o.max_count);
        }
        let _ = write!(s, ", {}", ms(o.total_ms));
    }
    if o.scope_count > 0 {
        let names: Vec<String> = o.scopes.iter().map(|n| one_line(n)).collect();
        let _ = write!(
            s,
            ", in {}: {}",
            plural(o.scope_count, "unit", "units"),
            names.join(", ")
        );
        let more = o.scope_count.saturating_sub(o.scopes.len() as u64);
        if more > 0 {
            let _ = write!(s, " (+{more} more)");
        }
    }
    s
}

/// `N+1 query at app/x.rb:3`, or the kind alone when there is no location.
fn headline(o: &Offender) -> String {
    match &o.location {
        Some(location) => format!("{} at {}", human(&o.kind), one_line(location)),
        None => human(&o.kind).to_owned(),
    }
}

/// The URI of the SARIF 2.1.0 schema.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The key of the offender's stable fingerprint in SARIF `partialFingerprints`.
pub const SARIF_FINGERPRINT_KEY: &str = "vtoFingerprint/v1";

/// The summary line, then the SQL, then the fix, one per line. The location
/// is not repeated: SARIF and GitHub carry it as structured data.
fn full_message(o: &Offender, max_sql: bool) -> String {
    let mut s = one_line(human(&o.kind));
    if o.baselined {
        s.push_str(" (baselined)");
    }
    s.push_str(": ");
    s.push_str(&describe(o));
    if let Some(sql) = &o.sql {
        let sql = one_line(sql);
        s.push('\n');
        s.push_str(&if max_sql { truncate_sql(&sql) } else { sql });
    }
    if let Some(fix) = &o.suggestion {
        s.push_str("\nfix: ");
        s.push_str(&one_line(fix));
    }
    s
}

/// Milliseconds rounded to 3 decimals, as the JSON and SARIF outputs carry them.
fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
