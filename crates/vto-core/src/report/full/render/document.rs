//! The report laid out once, format-neutral: the five sections as headings,
//! fields, tables, code and charts, with every figure already formatted.
//! Text, Markdown and HTML only decide how each block looks.

use serde_json::Value;

use super::chart::{Bar, Chart, Unit, LABEL_CHARS};
use super::{
    as_num, bool_at, bytes, count, get, list, money, money_fine, ms, num_at, number, one_line,
    percent, priority_at, short_sql, sort_by_priority, strings_at, text_at, trimmed, Lang,
    Priority,
};

/// The whole report: a title line, a few lines under it, then the blocks.
pub(super) struct Document {
    /// "Performance report for <app>, generated <time>".
    pub title: String,
    /// Lines under the title (dialect, schema version warnings).
    pub meta: Vec<String>,
    /// The five sections, in order.
    pub blocks: Vec<Block>,
}

/// One unit of layout.
pub(super) enum Block {
    /// Level 1: a numbered section; 2: a subsection; 3: a recommendation.
    Heading(Heading),
    /// Prose.
    Para(String),
    /// The one line an empty section shows.
    Empty(String),
    /// `Label: value` lines.
    Fields(Vec<Field>),
    /// Rows and columns.
    Table(Table),
    /// A code or configuration block.
    Code(Code),
    /// A bulleted list.
    List(Vec<String>),
    /// A bar chart (drawn by the HTML page only; the figures are in a table).
    Chart(Chart),
}

/// A section, subsection or recommendation heading.
pub(super) struct Heading {
    pub level: u8,
    /// A stable anchor (`assessment`, `n-plus-ones`, `rec-R1`).
    pub id: String,
    pub text: String,
    /// Shown as a badge next to a recommendation's title.
    pub priority: Option<Priority>,
}

/// One `Label: value` line.
pub(super) struct Field {
    pub label: &'static str,
    pub value: Inline,
}

/// A value inside a field or a table cell.
pub(super) enum Inline {
    Text(String),
    /// SQL, file locations, setting values: shown as code.
    Code(String),
    Priority(Priority),
    /// A yes/no or ok/tight/over verdict; the tone picks the colour.
    Status {
        text: String,
        tone: Tone,
    },
    /// A recommendation id, linked to its heading where the format can.
    Ref(String),
    /// Unknown: shown as `-`.
    Missing,
}

impl Inline {
    /// The text, without any styling.
    pub fn plain(&self) -> &str {
        match self {
            Inline::Text(s) | Inline::Code(s) | Inline::Ref(s) => s,
            Inline::Status { text, .. } => text,
            Inline::Priority(p) => p.as_str(),
            Inline::Missing => "-",
        }
    }
}

/// How a verdict reads: fine, worth a look, a problem, or just a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tone {
    Good,
    Warn,
    Bad,
    Neutral,
}

impl Tone {
    /// The class / style name.
    pub fn name(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Warn => "warn",
            Tone::Bad => "bad",
            Tone::Neutral => "neutral",
        }
    }
}

/// A table. `lead` columns make a record's first line when a format has to
/// show rows as records (text too wide for the terminal).
pub(super) struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Inline>>,
    pub lead: usize,
}

/// A column header; numeric columns are right-aligned.
pub(super) struct Column {
    /// Usually fixed; the projection's growth columns come from the report.
    pub name: String,
    pub numeric: bool,
}

/// A code block with its caption ("Solution", "config/sidekiq.yml").
pub(super) struct Code {
    pub caption: String,
    pub lang: Lang,
    pub body: String,
}

/// Lays the report out.
pub(super) fn build(report: &Value) -> Document {
    let mut doc = Document {
        title: title(report),
        meta: meta(report),
        blocks: Vec::new(),
    };
    doc.assessment(get(report, "assessment"));
    doc.recommendations_section(list(report, "recommendations"));
    doc.infrastructure(get(report, "infrastructure"));
    doc.governance(get(report, "governance"));
    doc.roadmap(list(report, "roadmap"));
    doc
}

fn title(report: &Value) -> String {
    let mut title = match text_at(report, "app") {
        Some(app) => format!("Performance report for {app}"),
        None => "Performance report".to_owned(),
    };
    if let Some(at) = text_at(report, "generated_at") {
        title.push_str(&format!(", generated {at}"));
    }
    one_line(&title)
}

fn meta(report: &Value) -> Vec<String> {
    let mut meta = Vec::new();
    if let Some(dialect) = text_at(report, "dialect") {
        meta.push(format!("Database: {dialect}"));
    }
    match num_at(report, "schema_version") {
        Some(v) if v != 1.0 => meta.push(format!(
            "Report schema_version {}; this renderer reads version 1, so some parts may be missing.",
            number(v)
        )),
        _ => {}
    }
    meta
}

// ---------------------------------------------------------------------------
// Small constructors.
// ---------------------------------------------------------------------------

fn field(label: &'static str, value: Option<String>) -> Option<Field> {
    value.map(|v| Field {
        label,
        value: Inline::Text(v),
    })
}

fn code_field(label: &'static str, value: Option<String>) -> Option<Field> {
    value.map(|v| Field {
        label,
        value: Inline::Code(v),
    })
}

fn text(value: Option<String>) -> Inline {
    value.map_or(Inline::Missing, Inline::Text)
}

fn code(value: Option<String>) -> Inline {
    value.map_or(Inline::Missing, Inline::Code)
}

fn fmt(value: Option<f64>, format: fn(f64) -> String) -> Inline {
    text(value.map(format))
}

fn col(name: &str) -> Column {
    Column {
        name: name.to_owned(),
        numeric: false,
    }
}

fn num_col(name: &str) -> Column {
    Column {
        name: name.to_owned(),
        numeric: true,
    }
}

/// The entries of a list that are objects (anything else cannot be read).
fn objects(items: &[Value]) -> impl Iterator<Item = &Value> {
    items.iter().filter(|v| v.is_object())
}

/// Objects sorted most urgent first.
fn by_priority(items: &[Value]) -> Vec<&Value> {
    let mut sorted: Vec<&Value> = objects(items).collect();
    sort_by_priority(&mut sorted);
    sorted
}

/// `a, b, c (+2 more)`; `None` for an empty list.
fn joined(items: Vec<String>, max: usize) -> Option<String> {
    let extra = items.len().saturating_sub(max);
    let shown: Vec<String> = items.into_iter().take(max).collect();
    if shown.is_empty() {
        return None;
    }
    let list = shown.join(", ");
    Some(if extra > 0 {
        format!("{list} (+{extra} more)")
    } else {
        list
    })
}

/// `snake_case` as words.
fn words(name: &str) -> String {
    name.replace('_', " ")
}

/// An anchor made of `[A-Za-z0-9_-]` only, so it is safe in any attribute.
pub(super) fn anchor(prefix: &str, name: &str) -> String {
    let tail: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{prefix}{tail}")
}

// ---------------------------------------------------------------------------
// Block builders.
// ---------------------------------------------------------------------------

impl Document {
    fn heading(&mut self, level: u8, id: &str, text: &str) {
        self.blocks.push(Block::Heading(Heading {
            level,
            id: id.to_owned(),
            text: text.to_owned(),
            priority: None,
        }));
    }

    fn para(&mut self, text: &str) {
        self.blocks.push(Block::Para(text.to_owned()));
    }

    /// Report text, when there is some.
    fn prose(&mut self, text: Option<String>) {
        if let Some(text) = text {
            self.blocks.push(Block::Para(text));
        }
    }

    fn empty(&mut self, line: &str) {
        self.blocks.push(Block::Empty(line.to_owned()));
    }

    /// Pushes the fields that are known; `false` when none is.
    fn fields(&mut self, fields: Vec<Option<Field>>) -> bool {
        let known: Vec<Field> = fields.into_iter().flatten().collect();
        if known.is_empty() {
            return false;
        }
        self.blocks.push(Block::Fields(known));
        true
    }

    fn fields_or_empty(&mut self, fields: Vec<Option<Field>>, empty: &str) {
        if !self.fields(fields) {
            self.empty(empty);
        }
    }

    fn table(&mut self, columns: Vec<Column>, rows: Vec<Vec<Inline>>, lead: usize) {
        self.blocks.push(Block::Table(Table {
            columns,
            rows,
            lead,
        }));
    }

    fn table_or_empty(&mut self, columns: Vec<Column>, rows: Vec<Vec<Inline>>, empty: &str) {
        if rows.is_empty() {
            self.empty(empty);
        } else {
            self.table(columns, rows, 1);
        }
    }

    fn code(&mut self, caption: &str, body: Option<String>, lang: Option<Lang>) {
        if let Some(body) = body {
            let lang = lang.unwrap_or_else(|| Lang::detect(&body));
            self.blocks.push(Block::Code(Code {
                caption: caption.to_owned(),
                lang,
                body,
            }));
        }
    }
}

// ---------------------------------------------------------------------------
// 1. CURRENT STATE ASSESSMENT
// ---------------------------------------------------------------------------

impl Document {
    fn assessment(&mut self, a: Option<&Value>) {
        self.heading(1, "assessment", "1. CURRENT STATE ASSESSMENT");
        self.workload(get(a, "workload"));
        self.top_fingerprints(list(a, "top_fingerprints"));
        self.n_plus_ones(list(a, "n_plus_ones"));
        self.slow_queries(list(a, "slow_queries"));
        self.endpoints(a);
        self.jobs(a);
        self.schema(get(a, "schema"));
        self.table_growth(list(a, "table_growth"));
        // Only reports with outbound calls get the subsection: the others
        // read exactly as before.
        if let Some(external) = get(a, "external").filter(|e| e.is_object()) {
            self.external_calls(external);
        }
    }

    fn workload(&mut self, w: Option<&Value>) {
        self.heading(2, "workload", "1.1 Workload");
        let requests = num_at(w, "requests").map(|n| match num_at(w, "requests_per_second") {
            Some(rate) => format!("{} ({} per second)", count(n), number(rate)),
            None => count(n),
        });
        let queries = num_at(w, "queries").map(|n| match num_at(w, "queries_per_request") {
            Some(per) => format!("{} ({} per request)", count(n), number(per)),
            None => count(n),
        });
        let db = num_at(w, "db_ms").map(|db| match num_at(w, "elapsed_ms") {
            Some(elapsed) if elapsed > 0.0 => format!(
                "{} ({} of {} elapsed)",
                ms(db),
                percent(db / elapsed),
                ms(elapsed)
            ),
            _ => ms(db),
        });
        self.fields_or_empty(
            vec![
                field("Source", text_at(w, "source")),
                field(
                    "Window",
                    num_at(w, "window_seconds").map(|s| format!("{} s", number(s))),
                ),
                field("Requests", requests),
                field("Jobs", num_at(w, "jobs").map(count)),
                field("Queries", queries),
                field("Database time", db),
                field("Mean request", num_at(w, "mean_request_ms").map(ms)),
            ],
            "No workload was recorded.",
        );
    }

    fn top_fingerprints(&mut self, items: &[Value]) {
        self.heading(2, "top-queries", "1.2 Top queries by total time");
        let rows: Vec<Vec<Inline>> = objects(items)
            .enumerate()
            .map(|(i, f)| {
                vec![
                    Inline::Text((i + 1).to_string()),
                    code(text_at(f, "sql").or_else(|| text_at(f, "fingerprint"))),
                    fmt(num_at(f, "calls"), count),
                    fmt(num_at(f, "total_ms"), ms),
                    fmt(num_at(f, "mean_ms"), ms),
                    fmt(num_at(f, "share"), percent),
                    text(joined(strings_at(f, "call_sites"), 3)),
                    text(joined(strings_at(f, "units"), 3)),
                ]
            })
            .collect();
        let columns = vec![
            num_col("#"),
            col("Query"),
            num_col("Calls"),
            num_col("Total"),
            num_col("Mean"),
            num_col("Share"),
            col("Call sites"),
            col("Run by"),
        ];
        if rows.is_empty() {
            self.empty("No queries were recorded in this workload.");
        } else {
            self.table(columns, rows, 2);
        }
        self.blocks.push(Block::Chart(query_time_chart(items)));
    }

    fn n_plus_ones(&mut self, items: &[Value]) {
        self.heading(2, "n-plus-ones", "1.3 N+1 queries");
        let rows = by_priority(items)
            .into_iter()
            .map(|f| {
                vec![
                    text(text_at(f, "unit")),
                    code(text_at(f, "location")),
                    code(text_at(f, "sql")),
                    fmt(num_at(f, "queries_per_unit"), count),
                    fmt(num_at(f, "occurrences"), count),
                    fmt(num_at(f, "ms_per_unit"), ms),
                    priority_at(f, "priority").map_or(Inline::Missing, Inline::Priority),
                    code(text_at(f, "suggestion")),
                ]
            })
            .collect();
        let columns = vec![
            col("Endpoint or job"),
            col("Location"),
            col("Query"),
            num_col("Queries per unit"),
            num_col("Seen in"),
            num_col("Time per unit"),
            col("Priority"),
            col("Suggested fix"),
        ];
        self.table_or_empty(columns, rows, "No N+1 queries were seen in this workload.");
    }

    fn slow_queries(&mut self, items: &[Value]) {
        self.heading(2, "slow-queries", "1.4 Slow queries");
        let rows = objects(items)
            .map(|f| {
                vec![
                    code(text_at(f, "sql").or_else(|| text_at(f, "fingerprint"))),
                    code(text_at(f, "location")),
                    text(text_at(f, "unit")),
                    fmt(num_at(f, "max_ms"), ms),
                    fmt(num_at(f, "ms_per_unit"), ms),
                    fmt(num_at(f, "occurrences"), count),
                    code(text_at(f, "suggestion")),
                ]
            })
            .collect();
        let columns = vec![
            col("Query"),
            col("Location"),
            col("Endpoint or job"),
            num_col("Max"),
            num_col("Time per unit"),
            num_col("Seen in"),
            col("Suggestion"),
        ];
        self.table_or_empty(columns, rows, "No slow queries were seen in this workload.");
    }

    fn endpoints(&mut self, a: Option<&Value>) {
        self.heading(2, "endpoints", "1.5 Endpoints");
        self.units(a, &ENDPOINTS);
        let chart = queries_per_request_chart(list(a, "endpoints"));
        self.blocks.push(Block::Chart(chart));
    }

    fn jobs(&mut self, a: Option<&Value>) {
        self.heading(2, "jobs", "1.6 Jobs");
        self.units(a, &JOBS);
    }

    /// The slow ones, then all of them, each as a table or one line.
    fn units(&mut self, a: Option<&Value>, kind: &UnitKind) {
        for (key, lead, none) in [
            (kind.slow_key, kind.slow_lead, kind.no_slow),
            (kind.all_key, kind.all_lead, kind.none),
        ] {
            let items = list(a, key);
            if objects(items).next().is_some() {
                self.para(lead);
                self.table(unit_columns(kind.name, kind.runs), unit_rows(items), 1);
            } else {
                self.empty(none);
            }
        }
    }

    fn schema(&mut self, s: Option<&Value>) {
        self.heading(2, "schema", "1.7 Schema");
        self.fields_or_empty(
            vec![
                field("Tables", num_at(s, "tables").map(count)),
                field("Rows", num_at(s, "rows").map(count)),
                field("Size", num_at(s, "size_bytes").map(bytes)),
            ],
            "The schema was not measured.",
        );
        let rows: Vec<Vec<Inline>> = objects(list(s, "largest"))
            .map(|t| {
                vec![
                    code(text_at(t, "name")),
                    fmt(num_at(t, "rows"), count),
                    fmt(num_at(t, "size_bytes"), bytes),
                ]
            })
            .collect();
        if !rows.is_empty() {
            self.para("Largest tables:");
            self.table(
                vec![col("Table"), num_col("Rows"), num_col("Size")],
                rows,
                1,
            );
        }
    }

    fn table_growth(&mut self, items: &[Value]) {
        self.heading(2, "table-growth", "1.8 Table growth");
        let rows = objects(items)
            .map(|t| {
                vec![
                    code(text_at(t, "table")),
                    fmt(num_at(t, "rows"), count),
                    fmt(num_at(t, "inserts"), count),
                    fmt(num_at(t, "inserts_per_day"), count),
                    fmt(num_at(t, "writes_per_day"), count),
                ]
            })
            .collect();
        let columns = vec![
            col("Table"),
            num_col("Rows"),
            num_col("Inserts (window)"),
            num_col("Inserts per day"),
            num_col("Writes per day"),
        ];
        self.table_or_empty(
            columns,
            rows,
            "No table growth was measured in this workload.",
        );
        self.blocks.push(Block::Chart(table_growth_chart(items)));
    }
}

/// What differs between the endpoints and the jobs subsections.
struct UnitKind {
    slow_key: &'static str,
    all_key: &'static str,
    name: &'static str,
    runs: &'static str,
    slow_lead: &'static str,
    no_slow: &'static str,
    all_lead: &'static str,
    none: &'static str,
}

const ENDPOINTS: UnitKind = UnitKind {
    slow_key: "slow_endpoints",
    all_key: "endpoints",
    name: "Endpoint",
    runs: "Requests",
    slow_lead: "Slow endpoints (over the slow-request threshold):",
    no_slow: "No endpoint was over the slow-request threshold.",
    all_lead: "All endpoints:",
    none: "No requests were recorded in this workload.",
};

const JOBS: UnitKind = UnitKind {
    slow_key: "slow_jobs",
    all_key: "jobs",
    name: "Job",
    runs: "Runs",
    slow_lead: "Slow jobs (over the slow-job threshold):",
    no_slow: "No job was over the slow-job threshold.",
    all_lead: "All jobs:",
    none: "No jobs were recorded in this workload.",
};

fn unit_columns(name: &'static str, runs: &'static str) -> Vec<Column> {
    vec![
        col(name),
        num_col(runs),
        num_col("Mean"),
        num_col("Max"),
        num_col("DB share"),
        num_col("View share"),
        num_col("Queries per unit"),
    ]
}

/// Endpoint or job rows; the HTTP method and the job queue go with the name.
fn unit_rows(items: &[Value]) -> Vec<Vec<Inline>> {
    objects(items)
        .map(|u| {
            let name =
                text_at(u, "name").map(|name| match (text_at(u, "method"), text_at(u, "queue")) {
                    (Some(method), _) => format!("{method} {name}"),
                    (None, Some(queue)) => format!("{name} (queue {queue})"),
                    (None, None) => name,
                });
            vec![
                text(name),
                fmt(num_at(u, "count"), count),
                fmt(num_at(u, "mean_ms"), ms),
                fmt(num_at(u, "max_ms"), ms),
                fmt(num_at(u, "db_share"), percent),
                fmt(num_at(u, "view_share"), percent),
                fmt(num_at(u, "queries_per_unit"), number),
            ]
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Charts.
// ---------------------------------------------------------------------------

fn query_time_chart(items: &[Value]) -> Chart {
    let bars = objects(items)
        .filter_map(|f| {
            let sql = text_at(f, "sql").or_else(|| text_at(f, "fingerprint"))?;
            Some(Bar {
                label: short_sql(&sql, LABEL_CHARS),
                detail: one_line(&sql),
                value: num_at(f, "total_ms")?,
            })
        })
        .collect();
    Chart {
        id: "chart-query-time",
        title: "Query time by fingerprint",
        x_label: "Total time over the workload (ms)",
        y_label: "Query",
        unit: Unit::Ms,
        bars,
    }
}

fn queries_per_request_chart(items: &[Value]) -> Chart {
    Chart {
        id: "chart-queries-per-request",
        title: "Queries per request",
        x_label: "Queries per request",
        y_label: "Endpoint",
        unit: Unit::Count,
        bars: named_bars(items, "name", "queries_per_unit"),
    }
}

fn table_growth_chart(items: &[Value]) -> Chart {
    Chart {
        id: "chart-table-growth",
        title: "Table growth",
        x_label: "Inserts per day",
        y_label: "Table",
        unit: Unit::PerDay,
        bars: named_bars(items, "table", "inserts_per_day"),
    }
}

fn named_bars(items: &[Value], name: &str, value: &str) -> Vec<Bar> {
    objects(items)
        .filter_map(|item| {
            let label = text_at(item, name)?;
            Some(Bar {
                label: super::truncate_start(&one_line(&label), LABEL_CHARS),
                detail: one_line(&label),
                value: num_at(item, value)?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Recommendations (sections 2, 3 and 4 share the layout).
// ---------------------------------------------------------------------------

impl Document {
    fn recommendations_section(&mut self, recs: &[Value]) {
        self.heading(1, "optimization", "2. OPTIMIZATION RECOMMENDATIONS");
        self.recommendations(
            recs,
            "No optimization recommendations: nothing in this workload needs changing.",
        );
    }

    fn recommendations(&mut self, recs: &[Value], empty: &str) {
        let mut any = false;
        for (i, rec) in objects(recs).enumerate() {
            self.recommendation(rec, i + 1);
            any = true;
        }
        if !any {
            self.empty(empty);
        }
    }

    fn recommendation(&mut self, rec: &Value, n: usize) {
        let id = text_at(rec, "id");
        let title = text_at(rec, "title").unwrap_or_else(|| "Untitled recommendation".into());
        let text = match &id {
            Some(id) => format!("{id} {}", one_line(&title)),
            None => one_line(&title),
        };
        self.blocks.push(Block::Heading(Heading {
            level: 3,
            id: anchor("rec-", &id.unwrap_or_else(|| n.to_string())),
            text,
            priority: priority_at(rec, "priority"),
        }));
        let impact = get(rec, "impact");
        self.fields(vec![
            field("Issue", text_at(rec, "issue")),
            field("Impact", text_at(impact, "summary")),
            field("Figures", figures(impact)),
        ]);
        self.code("Solution", text_at(rec, "solution"), None);
        self.fields(vec![
            field("Trade-offs", text_at(rec, "trade_offs")),
            priority_at(rec, "priority").map(|p| Field {
                label: "Priority",
                value: Inline::Priority(p),
            }),
            field("Effort", text_at(rec, "effort")),
            field("Metric to watch", text_at(rec, "metric")),
            code_field("Location", text_at(rec, "location")),
            field("Do after", joined(strings_at(rec, "depends_on"), 10)),
            field("Evidence", joined(strings_at(rec, "evidence"), 5)),
        ]);
    }
}

/// The impact's measured figures, `None` when none is known.
fn figures(impact: Option<&Value>) -> Option<String> {
    let parts: Vec<String> = [
        num_at(impact, "queries_saved_per_request")
            .map(|q| format!("{} queries saved per request", number(q))),
        num_at(impact, "ms_saved_per_request").map(|t| format!("{} saved per request", ms(t))),
        num_at(impact, "ms_saved_total").map(|t| format!("{} saved over the workload", ms(t))),
        num_at(impact, "rows_scanned").map(|r| format!("{} rows scanned", count(r))),
        num_at(impact, "usd_saved_per_month")
            .map(|usd| format!("{} saved per month", money_fine(usd, "USD"))),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

// ---------------------------------------------------------------------------
// 3. INFRASTRUCTURE RECOMMENDATIONS
// ---------------------------------------------------------------------------

impl Document {
    fn infrastructure(&mut self, infra: Option<&Value>) {
        self.heading(1, "infrastructure", "3. INFRASTRUCTURE RECOMMENDATIONS");
        if !infra.is_some_and(Value::is_object) {
            self.empty(
                "No infrastructure was described, so connections, capacity and queues were not assessed.",
            );
            return;
        }
        self.connection_budget(get(infra, "connection_budget"));
        self.pool_mismatches(list(infra, "pool_mismatches"));
        self.pgbouncer(get(infra, "pgbouncer"));
        self.capacity(get(infra, "capacity"));
        self.sidekiq(get(infra, "sidekiq"));
        self.postgres_settings(list(infra, "postgres_settings"));
        let external = get(infra, "external").filter(|e| e.is_object());
        if let Some(external) = external {
            self.external_apis(external);
        }
        self.heading(
            2,
            "infrastructure-recommendations",
            if external.is_some() {
                "3.8 Infrastructure recommendations"
            } else {
                "3.7 Infrastructure recommendations"
            },
        );
        self.recommendations(
            list(infra, "recommendations"),
            "No infrastructure recommendations.",
        );
    }

    fn connection_budget(&mut self, b: Option<&Value>) {
        self.heading(2, "connection-budget", "3.1 Connection budget");
        let mut rows: Vec<Vec<Inline>> = objects(list(b, "rows"))
            .map(|r| {
                vec![
                    text(text_at(r, "source")),
                    fmt(num_at(r, "processes"), count),
                    fmt(num_at(r, "per_process"), count),
                    fmt(num_at(r, "connections"), count),
                    text(text_at(r, "detail")),
                ]
            })
            .collect();
        let total = num_at(b, "total");
        let max = num_at(b, "max_connections");
        if rows.is_empty() && total.is_none() {
            self.empty("Connection budget not measured (the process layout is unknown).");
            return;
        }
        let limit_detail = match text_at(b, "max_connections_source") {
            Some(source) => format!("max_connections (from the {source})"),
            None => "max_connections".to_owned(),
        };
        let arithmetic = [
            ("Total", total, "connections the app can open at once"),
            ("Limit", max, limit_detail.as_str()),
            ("Headroom", num_at(b, "headroom"), "limit minus total"),
        ];
        for (name, value, detail) in arithmetic {
            rows.push(vec![
                Inline::Text(name.into()),
                Inline::Text(String::new()),
                Inline::Text(String::new()),
                fmt(value, count),
                Inline::Text(detail.into()),
            ]);
        }
        let columns = vec![
            col("Source"),
            num_col("Processes"),
            num_col("Per process"),
            num_col("Connections"),
            col("Detail"),
        ];
        self.table(columns, rows, 1);
        let verdict = text_at(b, "verdict").map(|v| Field {
            label: "Verdict",
            value: Inline::Status {
                tone: match v.to_ascii_lowercase().as_str() {
                    "ok" => Tone::Good,
                    "tight" => Tone::Warn,
                    "over" => Tone::Bad,
                    _ => Tone::Neutral,
                },
                text: words(&v),
            },
        });
        self.fields(vec![verdict]);
    }

    fn pool_mismatches(&mut self, items: &[Value]) {
        self.heading(2, "pools", "3.2 Connection pools");
        let lines: Vec<String> = objects(items)
            .map(|m| {
                text_at(m, "message").unwrap_or_else(|| {
                    format!(
                        "{}: pool {}, needs {}",
                        text_at(m, "process").unwrap_or_else(|| "a process".into()),
                        num_at(m, "pool").map_or("not measured".into(), count),
                        num_at(m, "needed").map_or("not measured".into(), count),
                    )
                })
            })
            .collect();
        if lines.is_empty() {
            self.empty("Every connection pool matches its process's threads.");
        } else {
            self.blocks.push(Block::List(lines));
        }
    }

    fn pgbouncer(&mut self, p: Option<&Value>) {
        self.heading(2, "pgbouncer", "3.3 PgBouncer");
        let needed = bool_at(p, "needed").map(|needed| Field {
            label: "Needed",
            value: Inline::Status {
                text: if needed { "yes" } else { "no" }.into(),
                tone: if needed { Tone::Warn } else { Tone::Good },
            },
        });
        let known = self.fields(vec![needed, field("Why", text_at(p, "reason"))]);
        if !known {
            self.empty("PgBouncer: not measured.");
        }
        self.code("Configuration", text_at(p, "config"), None);
    }

    fn capacity(&mut self, c: Option<&Value>) {
        self.heading(2, "capacity", "3.4 Capacity");
        let rate = num_at(c, "requests_per_second");
        let latency = num_at(c, "mean_latency_ms");
        let busy = num_at(c, "busy_threads").map(|busy| match (rate, latency) {
            // Little's law: threads busy on average = arrival rate x time in system.
            (Some(rate), Some(latency)) => format!(
                "{} requests/s x {} s = {} threads busy on average",
                trimmed(rate, 3),
                trimmed(latency / 1000.0, 3),
                trimmed(busy, 3)
            ),
            _ => number(busy),
        });
        let dynos = capacity_dynos(c);
        let cost = num_at(c, "monthly_cost_usd").map(|usd| match text_at(c, "prices_as_of") {
            Some(date) => format!("{} a month (prices as of {date})", money(usd, "USD")),
            None => format!("{} a month", money(usd, "USD")),
        });
        let known = self.fields(vec![
            field(
                "Throughput",
                rate.map(|r| format!("{} requests per second", number(r))),
            ),
            field("Mean latency", latency.map(ms)),
            field("Busy threads (Little's law)", busy),
            field(
                "Threads available",
                num_at(c, "threads_available").map(count),
            ),
            field("Utilization", num_at(c, "utilization").map(percent)),
            field("Dynos", dynos),
            field("Monthly cost", cost),
        ]);
        if !known {
            self.empty("Capacity not measured (no request rate or latency).");
        }
        self.prose(text_at(c, "reasoning"));
    }

    fn sidekiq(&mut self, s: Option<&Value>) {
        self.heading(2, "sidekiq", "3.5 Sidekiq queues");
        let rows: Vec<Vec<Inline>> = objects(list(s, "queues"))
            .map(|q| {
                vec![
                    code(text_at(q, "name")),
                    text(joined(strings_at(q, "jobs"), 5)),
                    fmt(num_at(q, "concurrency"), count),
                    fmt(num_at(q, "weight"), number),
                    text(text_at(q, "reason")),
                ]
            })
            .collect();
        let columns = vec![
            col("Queue"),
            col("Jobs"),
            num_col("Concurrency"),
            num_col("Weight"),
            col("Why"),
        ];
        self.table_or_empty(
            columns,
            rows,
            "No Sidekiq queue layout was suggested (no jobs were recorded).",
        );
        self.code("config/sidekiq.yml", text_at(s, "config"), Some(Lang::Yaml));
        self.prose(text_at(s, "reasoning"));
    }

    fn postgres_settings(&mut self, items: &[Value]) {
        self.heading(2, "postgres-settings", "3.6 PostgreSQL settings");
        let rows = objects(items)
            .map(|s| {
                vec![
                    code(text_at(s, "name")),
                    code(text_at(s, "current")),
                    code(text_at(s, "suggested")),
                    text(text_at(s, "reason")),
                ]
            })
            .collect();
        let columns = vec![col("Setting"), col("Current"), col("Suggested"), col("Why")];
        self.table_or_empty(
            columns,
            rows,
            "No PostgreSQL setting needs changing, or the settings were not read.",
        );
    }
}

/// `1 needed, 2 configured (standard-1x)`.
fn capacity_dynos(c: Option<&Value>) -> Option<String> {
    let parts: Vec<String> = [
        num_at(c, "dynos_needed").map(|n| format!("{} needed", count(n))),
        num_at(c, "dynos_configured").map(|n| format!("{} configured", count(n))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let kind = text_at(c, "dyno_type");
    match (parts.is_empty(), kind) {
        (true, None) => None,
        (true, Some(kind)) => Some(kind),
        (false, Some(kind)) => Some(format!("{} ({kind})", parts.join(", "))),
        (false, None) => Some(parts.join(", ")),
    }
}

// ---------------------------------------------------------------------------
// External API calls (assessment 1.9, infrastructure 3.7)
// ---------------------------------------------------------------------------

/// `POST api.openai.com/v1/chat/completions`.
fn endpoint_label(e: &Value) -> Option<String> {
    let host = text_at(e, "host")?;
    let path = text_at(e, "path").unwrap_or_default();
    Some(match text_at(e, "method") {
        Some(method) => format!("{method} {host}{path}"),
        None => format!("{host}{path}"),
    })
}

/// `850 + 400`: prompt + completion tokens.
fn tokens(e: &Value) -> Option<String> {
    match (num_at(e, "prompt_tokens"), num_at(e, "completion_tokens")) {
        (None, None) => None,
        (p, c) => Some(format!(
            "{} + {}",
            count(p.unwrap_or(0.0)),
            count(c.unwrap_or(0.0))
        )),
    }
}

impl Document {
    fn external_calls(&mut self, e: &Value) {
        self.heading(2, "external-calls", "1.9 External API calls");
        if let Some(note) = text_at(e, "note") {
            self.empty(&note);
            return;
        }
        let currency = text_at(e, "currency").unwrap_or_else(|| "USD".to_owned());
        let cost = num_at(e, "cost_usd").map(|c| match text_at(e, "prices_as_of") {
            Some(date) => format!("{} (prices as of {date})", money_fine(c, &currency)),
            None => money_fine(c, &currency),
        });
        self.fields(vec![
            field("Calls", num_at(e, "calls").map(count)),
            field("Time in calls", num_at(e, "total_ms").map(ms)),
            field(
                "Cost",
                Some(cost.unwrap_or_else(|| "not measured (no usage or no price)".to_owned())),
            ),
        ]);
        let hosts = list(e, "hosts");
        let rows = objects(hosts)
            .map(|h| {
                vec![
                    code(endpoint_label(h)),
                    fmt(num_at(h, "calls"), count),
                    fmt(num_at(h, "mean_ms"), ms),
                    fmt(num_at(h, "max_ms"), ms),
                    fmt(num_at(h, "error_rate"), percent),
                    text(tokens(h)),
                    text(num_at(h, "cost_usd").map(|c| money_fine(c, &currency))),
                    text(joined(strings_at(h, "scopes"), 3)),
                ]
            })
            .collect();
        let columns = vec![
            col("Endpoint"),
            num_col("Calls"),
            num_col("Mean"),
            num_col("Max"),
            num_col("Error rate"),
            num_col("Tokens (prompt + completion)"),
            num_col("Cost"),
            col("Called from"),
        ];
        self.table_or_empty(columns, rows, "No outbound calls were recorded.");
        self.blocks.push(Block::Chart(external_time_chart(hosts)));
        let models: Vec<Vec<Inline>> = objects(list(e, "by_model"))
            .map(|m| {
                vec![
                    code(text_at(m, "model")),
                    fmt(num_at(m, "calls"), count),
                    text(tokens(m)),
                    text(num_at(m, "cost_usd").map(|c| money_fine(c, &currency))),
                ]
            })
            .collect();
        if !models.is_empty() {
            self.para("By model:");
            let columns = vec![
                col("Model"),
                num_col("Calls"),
                num_col("Tokens (prompt + completion)"),
                num_col("Cost"),
            ];
            self.table(columns, models, 1);
        }
        let scopes: Vec<Vec<Inline>> = objects(list(e, "by_scope"))
            .map(|s| {
                vec![
                    text(text_at(s, "name")),
                    text(text_at(s, "kind")),
                    fmt(num_at(s, "runs"), count),
                    fmt(num_at(s, "calls"), count),
                    text(num_at(s, "cost_usd").map(|c| money_fine(c, &currency))),
                ]
            })
            .collect();
        if !scopes.is_empty() {
            self.para("By request, job or scan:");
            let columns = vec![
                col("Scope"),
                col("Kind"),
                num_col("Runs"),
                num_col("Calls"),
                num_col("Cost"),
            ];
            self.table(columns, scopes, 1);
        }
    }

    fn external_apis(&mut self, e: &Value) {
        self.heading(2, "external-apis", "3.7 External APIs");
        let rows = objects(list(e, "providers"))
            .map(|p| {
                vec![
                    code(text_at(p, "host")),
                    fmt(num_at(p, "calls"), count),
                    fmt(num_at(p, "requests_per_minute_observed"), number),
                    fmt(num_at(p, "mean_call_ms"), ms),
                    fmt(num_at(p, "tokens_per_call"), number),
                    text(rate_limit(get(p, "rate_limit"))),
                    fmt(num_at(p, "max_concurrency"), count),
                    text(text_at(p, "reasoning")),
                ]
            })
            .collect();
        let columns = vec![
            col("Provider"),
            num_col("Calls"),
            num_col("Requests/min observed"),
            num_col("Mean call"),
            num_col("Tokens per call"),
            col("Rate limit"),
            num_col("Max concurrency"),
            col("Why"),
        ];
        self.table_or_empty(columns, rows, "No outbound calls were recorded.");
        let currency = text_at(e, "currency").unwrap_or_else(|| "USD".to_owned());
        let growth: Vec<f64> = list(e, "growth").iter().filter_map(as_num).collect();
        let by_growth = |row: &Value, key: &str| -> Vec<Inline> {
            let costs: Vec<(f64, f64)> = objects(list(row, key))
                .filter_map(|g| Some((num_at(g, "growth")?, num_at(g, "cost_usd_per_month")?)))
                .collect();
            growth
                .iter()
                .map(|g| {
                    costs
                        .iter()
                        .find(|(x, _)| x == g)
                        .map_or(Inline::Missing, |(_, c)| {
                            Inline::Text(money_fine(*c, &currency))
                        })
                })
                .collect()
        };
        let mut rows: Vec<Vec<Inline>> = objects(list(e, "monthly_projection"))
            .map(|p| {
                let mut row = vec![
                    text(text_at(p, "scope")),
                    code(text_at(p, "model")),
                    fmt(num_at(p, "calls"), count),
                ];
                row.extend(by_growth(p, "by_growth"));
                row
            })
            .collect();
        if !rows.is_empty() {
            let mut total = vec![
                Inline::Text("Total".to_owned()),
                Inline::Text(String::new()),
                Inline::Text(String::new()),
            ];
            total.extend(by_growth(e, "monthly_cost_by_growth"));
            rows.push(total);
            let mut columns = vec![col("Scope"), col("Model"), num_col("Calls observed")];
            columns.extend(
                growth
                    .iter()
                    .map(|g| num_col(&format!("×{} per month", trimmed(*g, 2)))),
            );
            self.para("Monthly cost at today's usage and at growth:");
            self.table(columns, rows, 2);
        } else {
            self.empty("No monthly cost projected (no call's cost is known).");
        }
        self.prose(text_at(e, "reasoning"));
    }
}

/// `500 requests/min, 200,000 tokens/min`.
fn rate_limit(limit: Option<&Value>) -> Option<String> {
    let parts: Vec<String> = [
        num_at(limit, "requests_per_minute").map(|r| format!("{} requests/min", count(r))),
        num_at(limit, "tokens_per_minute").map(|t| format!("{} tokens/min", count(t))),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn external_time_chart(hosts: &[Value]) -> Chart {
    let bars = objects(hosts)
        .filter_map(|h| {
            let label = endpoint_label(h)?;
            Some(Bar {
                label: super::truncate_start(&one_line(&label), LABEL_CHARS),
                detail: one_line(&label),
                value: num_at(h, "total_ms")?,
            })
        })
        .collect();
    Chart {
        id: "chart-external-time",
        title: "External time by endpoint",
        x_label: "Total time of the calls (ms)",
        y_label: "Endpoint",
        unit: Unit::Ms,
        bars,
    }
}

// ---------------------------------------------------------------------------
// 4. DATA GOVERNANCE RECOMMENDATIONS
// ---------------------------------------------------------------------------

impl Document {
    fn governance(&mut self, g: Option<&Value>) {
        self.heading(1, "governance", "4. DATA GOVERNANCE RECOMMENDATIONS");
        self.heading(2, "governance-summary", "4.1 Summary");
        let counts: Vec<Vec<Inline>> = get(g, "summary")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(kind, n)| {
                let n = as_num(n)?;
                Some(vec![
                    Inline::Code(super::clean(kind)),
                    Inline::Text(count(n)),
                ])
            })
            .collect();
        self.table_or_empty(
            vec![col("Kind"), num_col("Findings")],
            counts,
            "No data governance findings.",
        );
        self.heading(
            2,
            "governance-recommendations",
            "4.2 Governance recommendations",
        );
        self.recommendations(list(g, "recommendations"), "No governance recommendations.");
        self.governance_findings(list(g, "findings"));
    }

    fn governance_findings(&mut self, items: &[Value]) {
        self.heading(2, "governance-findings", "4.3 Findings");
        let rows = by_priority(items)
            .into_iter()
            .map(|f| {
                vec![
                    code(finding_place(f)),
                    text(text_at(f, "kind").map(|k| words(&k))),
                    priority_at(f, "priority").map_or(Inline::Missing, Inline::Priority),
                    text(text_at(f, "reason")),
                    code(text_at(f, "suggestion")),
                ]
            })
            .collect();
        let columns = vec![
            col("Where"),
            col("Kind"),
            col("Priority"),
            col("Reason"),
            col("Suggestion"),
        ];
        self.table_or_empty(columns, rows, "No data governance findings.");
    }
}

/// `injuries.notes`, or the association path `users > injuries`.
fn finding_place(f: &Value) -> Option<String> {
    let path = strings_at(f, "path");
    let table = text_at(f, "table");
    let column = text_at(f, "column").or_else(|| text_at(f, "category"));
    let place = match (table, column) {
        (Some(t), Some(c)) => Some(format!("{t}.{c}")),
        (Some(t), None) => Some(t),
        (None, c) => c,
    };
    if path.len() > 1 {
        let path = path.join(" > ");
        return Some(match place {
            Some(place) if !path.ends_with(&place) => format!("{place} ({path})"),
            _ => path,
        });
    }
    place
}

// ---------------------------------------------------------------------------
// 5. IMPLEMENTATION ROADMAP
// ---------------------------------------------------------------------------

impl Document {
    fn roadmap(&mut self, steps: &[Value]) {
        self.heading(1, "roadmap", "5. IMPLEMENTATION ROADMAP");
        let rows: Vec<Vec<Inline>> = objects(steps)
            .enumerate()
            .map(|(i, s)| {
                let step = num_at(s, "step").map_or((i + 1).to_string(), count);
                vec![
                    Inline::Text(step),
                    text_at(s, "id").map_or(Inline::Missing, Inline::Ref),
                    text(text_at(s, "title").map(|t| one_line(&t))),
                    priority_at(s, "priority").map_or(Inline::Missing, Inline::Priority),
                    text(text_at(s, "effort")),
                    text(joined(strings_at(s, "after"), 10)),
                    text(text_at(s, "metric")),
                ]
            })
            .collect();
        let columns = vec![
            num_col("Step"),
            col("Id"),
            col("Title"),
            col("Priority"),
            col("Effort"),
            col("After"),
            col("Metric to watch"),
        ];
        if rows.is_empty() {
            self.empty("Nothing to schedule: the report has no recommendations.");
        } else {
            self.table(columns, rows, 3);
        }
    }
}
