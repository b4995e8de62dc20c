//! The OPTIMIZATION recommendations (`R1..`): one per N+1, index
//! suggestion, slow, duplicate and looped-write finding, plus caching
//! opportunities read from the workload and slow jobs. Each states the
//! issue with its figures, the exact change, what it is worth, what it
//! costs, and the metric to watch.

use std::collections::{BTreeMap, BTreeSet};

use super::assessment::{self, Writes};
use super::model::blank;
use super::{
    and_list, fmt_count, fmt_duration, fmt_ms, fmt_num, fmt_pct, infra, model_name, plural,
    priority_of_ms, ratio, round2, sql_excerpt, words, Assessment, Effort, Finding, Fingerprint,
    Impact, IndexSuggestion, Input, Job, Priority, Recommendation, Unit,
};

/// A request is worth caching from this mean time, in milliseconds.
const CACHE_MIN_MEAN_MS: f64 = 20.0;

/// Fragment caching pays off when rendering is at least this share of a
/// request's time.
const VIEW_SHARE_MIN: f64 = 0.5;

/// An identical read is a cache candidate when this many units run it...
const CACHE_MIN_UNITS: usize = 2;

/// ... or it runs this often in the window.
const CACHE_MIN_CALLS: u64 = 10;

/// Bounds of a cache TTL derived from a write rate, in seconds.
const TTL_MIN_S: f64 = 60.0;
const TTL_MAX_S: f64 = 86_400.0;

/// The TTL when no write was recorded (or the window is unknown).
const TTL_DEFAULT_S: f64 = 3_600.0;

/// A table written at most this often per minute of the window is
/// "rarely written" for HTTP caching.
const RARE_WRITES_PER_MINUTE: f64 = 1.0;

/// Tables whose reads are the framework's, not the app's.
const FRAMEWORK_TABLES: [&str; 2] = ["schema_migrations", "ar_internal_metadata"];

/// What the infrastructure section says that slow-job advice refers to.
#[derive(Debug, Clone, Default)]
pub(super) struct InfraHints {
    /// The id of the infrastructure recommendation with the Sidekiq queue layout.
    sidekiq_id: Option<String>,
    /// Job class -> the queue the layout (or an `external_queue`
    /// recommendation) gives it.
    queue_of: BTreeMap<String, String>,
    /// Job class -> the id of the infrastructure recommendation that moves it.
    mover: BTreeMap<String, String>,
}

impl InfraHints {
    /// Whether an infrastructure recommendation puts the job on another queue.
    fn moves(&self, job: &Job) -> bool {
        self.mover.contains_key(&job.unit.name)
            && self
                .queue_of
                .get(&job.unit.name)
                .is_some_and(|q| Some(q.as_str()) != job.queue.as_deref())
    }

    /// The id of the infrastructure recommendation that gives `job` a queue
    /// of its own, and that queue.
    pub fn mover_of(&self, job: &str) -> Option<(&str, &str)> {
        let id = self.mover.get(job)?;
        let queue = self.queue_of.get(job)?;
        Some((id.as_str(), queue.as_str()))
    }

    /// Records that recommendation `id` moves `job` to `queue` (an
    /// `external_queue` capsule), so no other advice moves it again.
    pub fn add_move(&mut self, job: &str, queue: &str, id: &str) {
        self.queue_of.insert(job.to_owned(), queue.to_owned());
        self.mover.insert(job.to_owned(), id.to_owned());
    }

    /// Reads the Sidekiq layout from the section's JSON (`sidekiq.queues`:
    /// `{"name", "jobs"}`) and its `sidekiq_queues` recommendation.
    pub fn from_infrastructure(infra: &infra::Infrastructure) -> InfraHints {
        let sidekiq_id = infra
            .recommendations
            .iter()
            .find(|r| r.category == "sidekiq_queues")
            .map(|r| r.id.clone());
        let mut queue_of = BTreeMap::new();
        let value = serde_json::to_value(infra).unwrap_or_default();
        let queues = value
            .pointer("/sidekiq/queues")
            .and_then(|q| q.as_array())
            .map(Vec::as_slice)
            .unwrap_or_default();
        for queue in queues {
            let Some(name) = queue.get("name").and_then(|n| n.as_str()) else {
                continue;
            };
            let jobs = queue.get("jobs").and_then(|j| j.as_array());
            for job in jobs.into_iter().flatten().filter_map(|j| j.as_str()) {
                queue_of.insert(job.to_owned(), name.to_owned());
            }
        }
        let mover = sidekiq_id
            .iter()
            .flat_map(|id| queue_of.keys().map(move |job| (job.clone(), id.clone())))
            .collect();
        InfraHints {
            sidekiq_id,
            queue_of,
            mover,
        }
    }
}

/// A recommendation before it has its id.
pub(super) struct Draft {
    pub rec: Recommendation,
    /// Tables whose index recommendations must come first.
    needs_index_on: Vec<String>,
    /// For an index recommendation: its table.
    indexes: Option<String>,
    /// Ids in other sections to do first.
    pub after: Vec<String>,
    /// A name other drafts of this section can depend on (`timeout:<host>`).
    pub key: Option<String>,
    /// Keys of drafts of this section to do first.
    pub needs: Vec<String>,
}

impl Draft {
    pub fn new(rec: Recommendation) -> Draft {
        Draft {
            rec,
            needs_index_on: Vec::new(),
            indexes: None,
            after: Vec::new(),
            key: None,
            needs: Vec::new(),
        }
    }
}

/// What every rule looks things up in.
struct Ctx<'a> {
    input: &'a Input,
    window: Option<f64>,
    writes: BTreeMap<String, Writes>,
}

impl Ctx<'_> {
    fn unit(&self, name: &str) -> Option<&Unit> {
        self.input.workload.units.iter().find(|u| u.name == name)
    }

    fn rows(&self, table: &str) -> Option<u64> {
        assessment::table_rows(self.input, table)
    }

    fn writes(&self, table: &str) -> Writes {
        self.writes.get(table).copied().unwrap_or_default()
    }

    /// `the 10 minutes recorded`, or words that say the length is unknown.
    fn window_text(&self) -> String {
        self.window.map_or_else(
            || "the recording (its length is unknown)".to_owned(),
            |w| format!("the {} of the recording", fmt_duration(w)),
        )
    }

    /// The tables the unit's SELECTs read, its main record's table first,
    /// and whether the unit also writes.
    fn tables_read_by(&self, unit: &str) -> (Vec<String>, bool) {
        let mut calls: BTreeMap<&str, u64> = BTreeMap::new();
        let mut writes = false;
        for fp in &self.input.workload.fingerprints {
            let Some(u) = fp.units.iter().find(|u| u.name == unit) else {
                continue;
            };
            writes |= fp.is_write();
            if !fp.is("select") {
                continue;
            }
            for t in &fp.tables {
                let c = calls.entry(t.as_str()).or_default();
                *c = c.saturating_add(u.calls);
            }
        }
        let mut tables: Vec<(&str, u64)> = calls.into_iter().collect();
        // The controller's own resource (ExercisesController: exercises),
        // then the most read table, is the page's main record.
        let resource = resource_of(unit);
        tables.sort_by(|a, b| {
            let own = |t: &str| resource.as_deref() != Some(words::bare(t));
            own(a.0)
                .cmp(&own(b.0))
                .then(b.1.cmp(&a.1))
                .then(a.0.cmp(b.0))
        });
        (
            tables.into_iter().map(|(t, _)| t.to_owned()).collect(),
            writes,
        )
    }
}

/// Every optimization recommendation, ordered and numbered.
pub(super) fn recommend(
    input: &Input,
    assessment: &Assessment,
    hints: &InfraHints,
    external: Vec<Draft>,
) -> Vec<Recommendation> {
    let ctx = Ctx {
        input,
        window: input.window_seconds(),
        writes: assessment::table_writes(input),
    };
    let mut drafts: Vec<Draft> = Vec::new();
    for f in &input.findings {
        let draft = match f.kind.as_str() {
            "n_plus_one" => Some(n_plus_one(&ctx, f)),
            "slow_query" => Some(slow_query(&ctx, f)),
            "duplicate_query" => Some(duplicate_query(&ctx, f)),
            "bulk_write" => Some(bulk_write(&ctx, f)),
            _ => None,
        };
        drafts.extend(draft);
    }
    drafts.extend(input.indexes.iter().filter_map(|s| index(&ctx, s)));
    drafts.extend(
        input
            .workload
            .units
            .iter()
            .filter_map(|u| fragment_caching(&ctx, u)),
    );
    drafts.extend(
        input
            .workload
            .fingerprints
            .iter()
            .filter_map(|fp| low_level_caching(&ctx, fp)),
    );
    drafts.extend(
        input
            .workload
            .units
            .iter()
            .filter_map(|u| http_caching(&ctx, u)),
    );
    // A job the infrastructure section's queue layout already moves is its
    // recommendation, not a second one here.
    drafts.extend(
        assessment
            .slow_jobs
            .iter()
            .filter(|j| !hints.moves(j))
            .map(|j| slow_job(&ctx, j, hints)),
    );
    drafts.extend(external);
    number(drafts)
}

/// Orders by priority, then the time saved (unknown last), then category
/// and title; assigns `R1..` and resolves the dependencies to ids.
fn number(mut drafts: Vec<Draft>) -> Vec<Recommendation> {
    drafts.sort_by(|a, b| {
        let (a, b) = (&a.rec, &b.rec);
        a.priority
            .cmp(&b.priority)
            .then_with(|| {
                let saved = |r: &Recommendation| r.impact.ms_saved_total.unwrap_or(-1.0);
                saved(b).total_cmp(&saved(a))
            })
            .then_with(|| a.category.cmp(&b.category))
            .then_with(|| a.title.cmp(&b.title))
    });
    let mut index_ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut key_ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, d) in drafts.iter_mut().enumerate() {
        d.rec.id = format!("R{}", i + 1);
        if let Some(key) = &d.key {
            key_ids
                .entry(key.clone())
                .or_default()
                .push(d.rec.id.clone());
        }
        if let Some(table) = &d.indexes {
            index_ids
                .entry(table.clone())
                .or_default()
                .push(d.rec.id.clone());
        }
    }
    drafts
        .into_iter()
        .map(|mut d| {
            let mut deps: Vec<String> = d
                .needs_index_on
                .iter()
                .filter_map(|t| index_ids.get(t))
                .chain(d.needs.iter().filter_map(|k| key_ids.get(k)))
                .flatten()
                .cloned()
                .collect();
            deps.append(&mut d.after);
            let mut seen = BTreeSet::new();
            deps.retain(|id| *id != d.rec.id && seen.insert(id.clone()));
            d.rec.depends_on = deps;
            d.rec
        })
        .collect()
}

// ------------------------------------------------------------- findings

/// `request`, `job`, or `unit of work` when the finding does not say.
fn per_word(f: &Finding) -> &'static str {
    per_words(f).0
}

/// The singular and plural of [`per_word`].
fn per_words(f: &Finding) -> (&'static str, &'static str) {
    match f
        .scope_kind
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("request") => ("request", "requests"),
        Some("job") => ("job", "jobs"),
        _ => ("unit of work", "units of work"),
    }
}

/// `3 requests`, `1 job`.
fn times_in(f: &Finding, n: u64) -> String {
    let (one, many) = per_words(f);
    plural(n, one, many)
}

/// The first letter upper case: the unit's name may start a sentence.
fn sentence(s: String) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => s,
    }
}

/// The unit's name, or words that say it was not recorded.
fn unit_name(f: &Finding) -> String {
    f.scope_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "an unnamed unit of work".to_owned())
}

/// The finding's table: its own, or the first of its fingerprint's.
fn finding_tables(ctx: &Ctx<'_>, f: &Finding) -> Vec<String> {
    if let Some(t) = f.table.clone().filter(|t| !t.is_empty()) {
        return vec![t];
    }
    f.fingerprint
        .as_deref()
        .and_then(|id| assessment::fingerprint(ctx.input, id))
        .map(|fp| fp.tables.clone())
        .unwrap_or_default()
}

fn at(f: &Finding) -> String {
    f.location
        .as_deref()
        .map_or_else(String::new, |l| format!(" from {l}"))
}

fn sql_text(ctx: &Ctx<'_>, f: &Finding) -> String {
    assessment::finding_sql(ctx.input, f).map_or_else(
        || "a query (its SQL was not recorded)".to_owned(),
        |s| format!("`{}`", sql_excerpt(&s)),
    )
}

fn finding_evidence(f: &Finding) -> Vec<String> {
    let mut out = vec![format!(
        "finding:{}:{}",
        f.kind,
        f.fingerprint.as_deref().unwrap_or_default()
    )];
    out.extend(f.scope_name.as_ref().map(|n| format!("unit:{n}")));
    out
}

/// A finding's recommendation, with the finding's priority, location and
/// evidence; the words still to fill in.
fn finding_rec(f: &Finding, category: &str, title: String, effort: Effort) -> Recommendation {
    let mut rec = blank(category, title, f.priority, effort);
    rec.location = f.location.clone();
    rec.evidence = finding_evidence(f);
    rec
}

/// `30 times`: the finding's queries per unit, or `unknown` when not recorded.
fn times_text(f: &Finding, unknown: &str) -> String {
    f.count
        .map_or_else(|| unknown.to_owned(), |c| format!("{} times", fmt_count(c)))
}

/// Text the input gives, unless it is blank.
fn given(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty()).map(str::to_owned)
}

/// The saving of doing `count` repeated statements as one: `count - 1`
/// queries and that share of their time, per unit and over the window.
fn repeat_saving(f: &Finding) -> Option<(u64, f64, f64)> {
    let count = f.count.filter(|c| *c > 0)?;
    let saved = count - 1;
    let per_unit = f.total_ms * saved as f64 / count as f64;
    Some((
        saved,
        per_unit,
        per_unit * assessment::occurrences(f) as f64,
    ))
}

fn repeat_impact(f: &Finding, what: &str) -> Impact {
    let per = per_word(f);
    let unit = unit_name(f);
    let occ = assessment::occurrences(f);
    match repeat_saving(f) {
        Some((saved, per_unit, total)) => Impact {
            summary: format!(
                "Saves {} and about {} per {per} of {unit} ({what}); {} and {} over the {} \
                 recorded.",
                plural(saved, "query", "queries"),
                fmt_ms(per_unit),
                plural(saved.saturating_mul(occ), "query", "queries"),
                fmt_ms(total),
                times_in(f, occ),
            ),
            queries_saved_per_request: Some(saved as f64),
            ms_saved_per_request: Some(round2(per_unit)),
            ms_saved_total: Some(round2(total)),
            rows_scanned: None,
            usd_saved_per_month: None,
        },
        None => Impact {
            summary: format!(
                "The saving was not measured: the finding does not say how many queries one \
                 {per} runs."
            ),
            ..Impact::default()
        },
    }
}

/// A counter cache or a grouped query is a change with a migration or a
/// lookup table, not a one-word preload.
fn is_structural_fix(suggestion: &str) -> bool {
    let s = suggestion.to_ascii_lowercase();
    s.contains("counter cache") || s.contains("counter_cache") || s.contains(".group(")
}

fn n_plus_one(ctx: &Ctx<'_>, f: &Finding) -> Draft {
    let per = per_word(f);
    let unit = unit_name(f);
    let tables = finding_tables(ctx, f);
    let table = tables.first().map(String::as_str);
    let rows = table.map_or_else(|| "rows".to_owned(), |t| format!("{t} rows"));
    let suggestion = given(f.suggestion.as_deref());
    let structural = suggestion.as_deref().is_some_and(is_structural_fix);
    let mut rec = finding_rec(
        f,
        "n_plus_one",
        format!(
            "Remove the N+1{} in {unit}",
            table.map_or_else(String::new, |t| format!(" on {t}"))
        ),
        if structural {
            Effort::Hours
        } else {
            Effort::Minutes
        },
    );
    let count = times_text(f, "repeatedly");
    rec.issue = sentence(format!(
        "{unit} runs {} {count} per {per}{}, once per record of a loop: {} per {per}, seen in {}.",
        sql_text(ctx, f),
        at(f),
        fmt_ms(f.total_ms),
        times_in(f, assessment::occurrences(f)),
    ));
    rec.impact = repeat_impact(
        f,
        "at most one query, a preload or a grouped one, replaces the loop's",
    );
    rec.solution = suggestion.clone().unwrap_or_else(|| {
        format!(
            "Load the {rows} once before the loop{}: includes / preload on the query that loads \
             the records (no fix hint was recorded).",
            at(f)
        )
    });
    rec.trade_offs = if structural {
        "A counter cache adds a write to the parent row for every child created or destroyed \
         (contention on a busy parent) and needs a backfill of existing rows \
         (reset_counters); a grouped query returns a Hash to look up in the loop, more code \
         than an association call."
            .to_owned()
    } else {
        format!(
            "A preload loads all the associated {rows} of the loaded records, even ones the \
             {per} does not use, and holds them in memory; with a large association, select \
             the needed columns or paginate the parent records."
        )
    };
    rec.metric = queries_metric(ctx, f);
    Draft::new(rec)
}

/// `queries per request of X (now 31 on average)`.
fn queries_metric(ctx: &Ctx<'_>, f: &Finding) -> String {
    let unit = unit_name(f);
    let now = ctx
        .unit(&unit)
        .and_then(|u| ratio(u.queries? as f64, u.count as f64))
        .map_or_else(String::new, |q| format!(" (now {} on average)", fmt_num(q)));
    format!("queries per {} of {unit}{now}", per_word(f))
}

fn slow_query(ctx: &Ctx<'_>, f: &Finding) -> Draft {
    let per = per_word(f);
    let unit = unit_name(f);
    let tables = finding_tables(ctx, f);
    let table = tables.first().map_or("an unknown table", String::as_str);
    let mut rec = finding_rec(
        f,
        "slow_query",
        format!("Speed up the slow query on {table} in {unit}"),
        Effort::Hours,
    );
    let max = f
        .max_ms
        .map_or_else(|| "an unrecorded maximum".to_owned(), fmt_ms);
    let indexed: Vec<&str> = tables
        .iter()
        .filter(|t| has_new_index(ctx, t))
        .map(String::as_str)
        .collect();
    let first = if indexed.is_empty() {
        String::new()
    } else {
        format!(
            " The index suggested for {} comes first: the plan may change with it.",
            and_list(&indexed)
        )
    };
    let occ = assessment::occurrences(f);
    rec.issue = sentence(format!(
        "{} took up to {max}{} in {unit} ({} per {per}, {}).{first}",
        sql_text(ctx, f),
        at(f),
        fmt_ms(f.total_ms),
        times_in(f, occ),
    ));
    let rows = tables.first().and_then(|t| ctx.rows(t));
    rec.impact = Impact {
        summary: format!(
            "It cost {} over the window; the saving depends on the new plan and was not \
             measured{}.",
            fmt_ms(f.total_ms * occ as f64),
            rows.map_or_else(String::new, |r| format!(
                " ({table} has {})",
                plural(r, "row", "rows")
            )),
        ),
        rows_scanned: rows,
        ..Impact::default()
    };
    rec.solution = given(f.suggestion.as_deref()).unwrap_or_else(|| {
        format!(
            "EXPLAIN (ANALYZE, BUFFERS) the query with representative values; index the \
             filtered and sorted columns of {table}, select fewer columns, or paginate."
        )
    });
    rec.trade_offs = "A rewrite that reads fewer rows or columns changes what the caller gets: \
                      check the callers; an index for it costs disk and a write per insert \
                      (see its own recommendation)."
        .to_owned();
    rec.metric = format!(
        "max and mean time of {} (now max {max})",
        f.fingerprint
            .as_deref()
            .map_or_else(|| "the query".to_owned(), |fp| format!("fingerprint {fp}")),
    );
    let mut draft = Draft::new(rec);
    draft.needs_index_on = tables;
    draft
}

/// An index advisor suggestion adds an index to this table.
fn has_new_index(ctx: &Ctx<'_>, table: &str) -> bool {
    ctx.input
        .indexes
        .iter()
        .any(|s| s.table == table && adds_index(s))
}

fn adds_index(s: &IndexSuggestion) -> bool {
    matches!(
        s.kind.as_str(),
        "missing_foreign_key_index" | "workload_index"
    )
}

fn duplicate_query(ctx: &Ctx<'_>, f: &Finding) -> Draft {
    let per = per_word(f);
    let unit = unit_name(f);
    let tables = finding_tables(ctx, f);
    let known = tables.first().map(String::as_str);
    let table = known.unwrap_or("the same rows");
    let mut rec = finding_rec(
        f,
        "duplicate_query",
        format!("Read {table} once per {per} in {unit}"),
        Effort::Minutes,
    );
    let count = times_text(f, "more than once");
    rec.issue = sentence(format!(
        "{unit} runs {} with the same values {count} per {per}{}: every run after the first \
         returns what it already has ({} per {per}).",
        sql_text(ctx, f),
        at(f),
        fmt_ms(f.total_ms),
    ));
    rec.impact = repeat_impact(f, "the first read is kept");
    rec.solution = given(f.suggestion.as_deref()).unwrap_or_else(|| memo_snippet(known));
    rec.trade_offs = format!(
        "The memoized value lives as long as the object that holds it (the {per}); if the {per} \
         changes the row after the first read, reload it or reset the memo."
    );
    rec.metric = queries_metric(ctx, f);
    Draft::new(rec)
}

/// `def workout = @workout ||= Workout.find(...)`-style memoization.
fn memo_snippet(table: Option<&str>) -> String {
    let model = table
        .and_then(model_name)
        .unwrap_or_else(|| "Model".to_owned());
    let var = table.map_or_else(|| "record".to_owned(), singular_var);
    format!("def {var}\n  @{var} ||= {model}.find(id) # the repeated read, once per instance\nend")
}

/// `completed_workout` from `completed_workouts` (or the table name).
fn singular_var(table: &str) -> String {
    model_name(table).map_or_else(|| words::bare(table).to_owned(), |m| underscore(&m))
}

fn bulk_write(ctx: &Ctx<'_>, f: &Finding) -> Draft {
    let per = per_word(f);
    let unit = unit_name(f);
    let tables = finding_tables(ctx, f);
    let table = tables.first().map_or("the table", String::as_str);
    let mut rec = finding_rec(
        f,
        "bulk_write",
        format!("Write {table} in bulk in {unit}"),
        Effort::Hours,
    );
    let count = times_text(f, "repeatedly");
    rec.issue = sentence(format!(
        "{unit} runs {} {count} per {per}{}, one round trip per record ({} per {per}).",
        sql_text(ctx, f),
        at(f),
        fmt_ms(f.total_ms),
    ));
    rec.impact = repeat_impact(
        f,
        "one statement writes every row; it takes longer than one row",
    );
    rec.solution = given(f.suggestion.as_deref()).unwrap_or_else(|| bulk_snippet(ctx, f, table));
    rec.trade_offs = "insert_all / upsert_all / update_all skip validations and callbacks \
                      (after_create hooks, counter caches, touch): move what they did next to \
                      the call; one statement with thousands of rows holds its locks until it \
                      ends, so write large sets in batches of about 1,000."
        .to_owned();
    rec.metric = queries_metric(ctx, f);
    Draft::new(rec)
}

fn bulk_snippet(ctx: &Ctx<'_>, f: &Finding, table: &str) -> String {
    let model = model_name(table).unwrap_or_else(|| "Model".to_owned());
    let sql = assessment::finding_sql(ctx.input, f)
        .unwrap_or_default()
        .trim_start()
        .to_ascii_uppercase();
    if sql.starts_with("UPDATE") {
        format!("{model}.where(id: ids).update_all(...) # one UPDATE for the whole set")
    } else if sql.starts_with("DELETE") {
        format!("{model}.where(id: ids).delete_all # one DELETE for the whole set")
    } else {
        format!("{model}.insert_all(rows) # rows: an Array of attribute Hashes, one INSERT")
    }
}

// ------------------------------------------------------------- indexes

fn index(ctx: &Ctx<'_>, s: &IndexSuggestion) -> Option<Draft> {
    // A suggestion about no table cannot be acted on.
    if s.table.trim().is_empty() {
        return None;
    }
    match s.kind.as_str() {
        "missing_foreign_key_index" | "workload_index" => Some(missing_index(ctx, s)),
        "redundant_index" | "unused_index" => Some(drop_index(ctx, s)),
        "over_indexed_table" => Some(over_indexed(ctx, s)),
        _ => None,
    }
}

/// `:user_id` or `[:user_id, :created_at]`.
fn ruby_columns(columns: &[String]) -> String {
    match columns {
        [one] => words::ruby_symbol(one),
        many => format!(
            "[{}]",
            many.iter()
                .map(|c| words::ruby_symbol(c))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn migration(s: &IndexSuggestion, fallback: impl FnOnce() -> String) -> String {
    given(s.migration.as_deref()).unwrap_or_else(fallback)
}

/// The recorded statements the suggestion serves: (calls, time).
fn served(ctx: &Ctx<'_>, s: &IndexSuggestion) -> Option<(u64, f64)> {
    let found: Vec<&Fingerprint> = s
        .queries
        .iter()
        .filter_map(|id| assessment::fingerprint(ctx.input, id))
        .collect();
    if found.is_empty() {
        return None;
    }
    Some(found.iter().fold((0u64, 0.0), |(c, t), fp| {
        (c.saturating_add(fp.calls), t + fp.total_ms)
    }))
}

/// `{n} writes in the 1 minute window` (or none recorded).
fn write_text(ctx: &Ctx<'_>, table: &str) -> String {
    let w = ctx.writes(table).total();
    if w == 0 {
        format!("no write to {table} was seen in {}", ctx.window_text())
    } else {
        format!(
            "{} to {table} in {}",
            plural(w, "write", "writes"),
            ctx.window_text()
        )
    }
}

fn missing_index(ctx: &Ctx<'_>, s: &IndexSuggestion) -> Draft {
    let table = s.table.as_str();
    let cols = and_list(&s.columns);
    let mut rec = blank(
        "missing_index",
        format!("Add an index on {table} ({cols})"),
        s.priority,
        Effort::Minutes,
    );
    let rows = ctx.rows(table);
    let served = served(ctx, s);
    rec.issue = given(s.reason.as_deref())
        .unwrap_or_else(|| format!("No index of {table} leads with {cols}."));
    if let Some((calls, ms)) = served {
        rec.issue.push_str(&format!(
            " The recorded queries it serves ran {} ({} in all).",
            plural(calls, "time", "times"),
            fmt_ms(ms)
        ));
    }
    let total = served.map(|(_, ms)| ms).or(s.time_ms);
    let scanned = rows.map_or_else(
        || format!("{table}'s rows (row count unknown)"),
        |r| plural(r, "row", "rows"),
    );
    rec.impact = Impact {
        summary: match total {
            Some(ms) => format!(
                "Up to {} over the window: the time of the queries it serves, which would read \
                 by index instead of scanning {scanned}.",
                fmt_ms(ms)
            ),
            None => format!(
                "No recorded query was timed against it, so the time saved was not measured; \
                 lookups by {cols} (joins, deleting a parent) stop scanning {scanned}."
            ),
        },
        ms_saved_total: total.map(round2),
        rows_scanned: rows,
        ..Impact::default()
    };
    rec.solution = migration(s, || {
        format!(
            "add_index {}, {}",
            words::ruby_symbol(table),
            ruby_columns(&s.columns)
        )
    });
    rec.trade_offs = given(s.trade_offs.as_deref()).unwrap_or_else(|| index_cost(ctx, s));
    rec.metric = match total {
        Some(ms) => format!(
            "total time of the queries on {table} by {cols} (now {} over the window)",
            fmt_ms(ms)
        ),
        None => format!("time of queries and deletes on {table} that filter by {cols}"),
    };
    rec.evidence = index_evidence(s);
    let mut draft = Draft::new(rec);
    draft.indexes = Some(table.to_owned());
    draft
}

/// What a new index costs: its size and the writes that maintain it.
fn index_cost(ctx: &Ctx<'_>, s: &IndexSuggestion) -> String {
    let size = s.size_bytes.map_or_else(
        || "Its size was not estimated (the row count is unknown)".to_owned(),
        |b| format!("It takes about {} on disk and in memory", words::bytes(b)),
    );
    format!(
        "{size}; every INSERT into {} and every UPDATE of {} also writes it ({}). A large \
         table's index takes a while to build (concurrently on PostgreSQL, without blocking \
         writes).",
        s.table,
        and_list(&s.columns),
        write_text(ctx, &s.table)
    )
}

fn index_evidence(s: &IndexSuggestion) -> Vec<String> {
    let mut out = vec![format!("index:{}:{}", s.kind, s.table)];
    out.extend(s.queries.iter().map(|q| format!("fingerprint:{q}")));
    out
}

fn drop_index(ctx: &Ctx<'_>, s: &IndexSuggestion) -> Draft {
    let table = s.table.as_str();
    let known = s.index_name.clone().filter(|n| !n.is_empty());
    let name = known
        .clone()
        .unwrap_or_else(|| format!("on {table} ({})", and_list(&s.columns)));
    let redundant = s.kind == "redundant_index";
    let mut rec = blank(
        &s.kind,
        format!(
            "Drop the {} index {name}",
            if redundant { "redundant" } else { "unused" }
        ),
        s.priority,
        Effort::Minutes,
    );
    rec.issue = given(s.reason.as_deref()).unwrap_or_else(|| match (&s.covered_by, redundant) {
        (Some(by), true) => format!("The index {name} is covered by {by}."),
        _ => format!("The index {name} was never scanned."),
    });
    let size = s
        .size_bytes
        .map_or_else(|| "its size (not measured)".to_owned(), words::bytes);
    rec.impact = Impact {
        summary: format!(
            "Frees {size} and one index write per INSERT into {table} ({}).",
            write_text(ctx, table)
        ),
        ..Impact::default()
    };
    rec.solution = migration(s, || match &known {
        Some(n) => format!(
            "remove_index {}, name: {}",
            words::ruby_symbol(table),
            words::ruby_string(n)
        ),
        None => format!(
            "remove_index {}, column: {}",
            words::ruby_symbol(table),
            ruby_columns(&s.columns)
        ),
    });
    rec.trade_offs =
        given(s.trade_offs.as_deref()).unwrap_or_else(|| match (&s.covered_by, redundant) {
            (Some(by), true) => format!(
                "Queries that used {name} use {by} instead, which starts with the same columns \
                 (a larger index, slightly slower to scan)."
            ),
            _ => "Usage statistics count since their last reset and on this server only: a \
                  rare report or a replica's queries may still need it; check every replica \
                  first."
                .to_owned(),
        });
    rec.metric = format!("size of the indexes of {table} and the time of INSERTs into it");
    rec.evidence = index_evidence(s);
    Draft::new(rec)
}

fn over_indexed(ctx: &Ctx<'_>, s: &IndexSuggestion) -> Draft {
    let table = s.table.as_str();
    let mut rec = blank(
        "over_indexed_table",
        format!("Trim the indexes of the write-heavy table {table}"),
        s.priority,
        Effort::Hours,
    );
    rec.issue = given(s.reason.as_deref())
        .unwrap_or_else(|| format!("{table} has many indexes and the workload mostly writes it."));
    let dropped = if s.droppable.is_empty() {
        "No index is unused by the recorded reads".to_owned()
    } else {
        format!(
            "Dropping {} ({}) spares {} index writes per INSERT",
            and_list(&s.droppable),
            s.size_bytes
                .map_or_else(|| "size not measured".to_owned(), words::bytes),
            fmt_count(s.droppable.len() as u64)
        )
    };
    rec.impact = Impact {
        summary: format!("{dropped}; {}.", write_text(ctx, table)),
        ..Impact::default()
    };
    rec.solution = migration(s, || {
        format!(
            "Review the write path into {table}: batch the writes (insert_all) or move them to \
             a job; keep only the indexes the reads use."
        )
    });
    rec.trade_offs = given(s.trade_offs.as_deref()).unwrap_or_else(|| {
        "A query the recording did not see (a monthly report, a console session) may have \
         used a dropped index."
            .to_owned()
    });
    rec.metric = format!("time of INSERTs and UPDATEs into {table}");
    rec.evidence = index_evidence(s);
    Draft::new(rec)
}

// ------------------------------------------------------------- caching

/// `app/views/api/v1/completed_workouts/index` from
/// `Api::V1::CompletedWorkoutsController#index` (Rails' conventions).
fn view_path(unit: &str) -> Option<String> {
    let (controller, action) = unit.split_once('#')?;
    let base = controller.strip_suffix("Controller")?;
    let path: Vec<String> = base.split("::").map(underscore).collect();
    Some(format!("app/views/{}/{action}", path.join("/")))
}

/// `exercises` from `Api::V1::ExercisesController#index`.
fn resource_of(unit: &str) -> Option<String> {
    let controller = unit.split_once('#')?.0;
    let base = controller.strip_suffix("Controller")?;
    base.rsplit("::").next().map(underscore)
}

/// `completed_workouts` from `CompletedWorkouts`, `v1` from `V1`.
fn underscore(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    let mut prev_lower = false;
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

fn fragment_caching(ctx: &Ctx<'_>, u: &Unit) -> Option<Draft> {
    let (elapsed, view) = (u.elapsed_ms?, u.view_ms?);
    let mean = u.mean_ms()?;
    let share = ratio(view, elapsed)?;
    if !u.is_request() || share < VIEW_SHARE_MIN || mean < CACHE_MIN_MEAN_MS {
        return None;
    }
    let view_per = view / u.count as f64;
    let (tables, _) = ctx.tables_read_by(&u.name);
    let mut rec = blank(
        "fragment_caching",
        format!("Cache the rendered fragments of {}", u.name),
        priority_of_ms(view_per),
        Effort::Hours,
    );
    rec.issue = format!(
        "{} takes {} per request on average, {} of it rendering views ({} per request, {}).",
        u.name,
        fmt_ms(mean),
        fmt_pct(share),
        fmt_ms(view_per),
        plural(u.count, "request", "requests"),
    );
    rec.impact = Impact {
        summary: format!(
            "Up to {} per request, {} over the window, on cache hits (a miss still renders and \
             writes the fragment); the hit rate was not measured.",
            fmt_ms(view_per),
            fmt_ms(view)
        ),
        ms_saved_per_request: Some(round2(view_per)),
        ms_saved_total: Some(round2(view)),
        ..Impact::default()
    };
    rec.solution = fragment_snippet(&u.name, &tables);
    rec.trade_offs = fragment_costs(ctx, &tables);
    rec.metric = format!(
        "view time per request of {} (now {}) and the fragment cache hit rate",
        u.name,
        fmt_ms(view_per)
    );
    rec.evidence = vec![format!("unit:{}", u.name)];
    Some(Draft::new(rec))
}

/// Russian-doll caching of the unit's main records, in ERB and Jbuilder.
fn fragment_snippet(unit: &str, tables: &[String]) -> String {
    let main = tables.first().map_or("records", String::as_str);
    let collection = words::bare(main);
    let one = singular_var(main);
    let partial = format!("{collection}/{one}");
    let view = view_path(unit).map_or_else(
        || "the action's view".to_owned(),
        |p| format!("{p}.html.erb"),
    );
    let mut out = format!(
        "<%# {view}: the list keyed by its records, each record's fragment reused %>\n\
         <% cache @{collection} do %>\n  \
         <%= render partial: \"{partial}\", collection: @{collection}, cached: true %>\n\
         <% end %>\n\n\
         # Jbuilder: json.array! @{collection}, partial: \"{partial}\", as: :{one}, cached: true\n"
    );
    if tables.len() > 1 {
        let nested: Vec<String> = tables
            .iter()
            .skip(1)
            .map(|t| model_name(t).unwrap_or_else(|| t.clone()))
            .collect();
        out.push_str(&format!(
            "# Records shown inside a {one} fragment (this page also reads {}) expire it\n\
             # when their model has: belongs_to :{one}, touch: true\n",
            and_list(&nested)
        ));
    }
    out
}

fn fragment_costs(ctx: &Ctx<'_>, tables: &[String]) -> String {
    let writes: u64 = tables.iter().map(|t| ctx.writes(t).total()).sum();
    format!(
        "Keys come from updated_at: every write to a cached record expires its fragment, and \
         touch: true turns each write to a nested record into an UPDATE of its parent too \
         ({} to {} in {}). A fragment that depends on the current user or locale needs them \
         in its key. The cache store holds one fragment per record.",
        plural(writes, "write", "writes"),
        if tables.is_empty() {
            "the tables it reads".to_owned()
        } else {
            and_list(tables)
        },
        ctx.window_text()
    )
}

/// No `?` other than a LIMIT or OFFSET: every call reads the same rows.
fn identical_read(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    let rest = upper
        .replace("LIMIT ?, ?", "")
        .replace("LIMIT ?", "")
        .replace("OFFSET ?", "");
    !rest.contains('?')
}

fn app_table(table: &str) -> bool {
    let bare = words::bare(table);
    !bare.starts_with("pg_")
        && !table.starts_with("information_schema")
        && !FRAMEWORK_TABLES.contains(&bare)
}

/// A TTL from the tables' write rate, and the sentence that says why.
struct Ttl {
    seconds: f64,
    /// `5.minutes`
    ruby: String,
    /// `5 minutes`
    human: String,
    reasoning: String,
}

/// The mean time between writes to `tables` over the window, within
/// [1 minute, 1 day]; 1 hour when no write (or no window) was recorded.
fn ttl(ctx: &Ctx<'_>, tables: &[String]) -> Ttl {
    let writes: u64 = tables.iter().map(|t| ctx.writes(t).total()).sum();
    let names = and_list(tables);
    let (seconds, reasoning) = match ctx.window {
        Some(w) if writes > 0 => {
            let interval = w / writes as f64;
            let seconds = interval.clamp(TTL_MIN_S, TTL_MAX_S);
            let clamp = if seconds > interval {
                " (raised to the 1 minute minimum)"
            } else if seconds < interval {
                " (capped at 1 day)"
            } else {
                ""
            };
            (
                seconds,
                format!(
                    "{names} had {} in {}: one every {} on average, so the TTL is that \
                     interval{clamp}, rounded down",
                    plural(writes, "write", "writes"),
                    ctx.window_text(),
                    fmt_duration(interval)
                ),
            )
        }
        Some(_) => (
            TTL_DEFAULT_S,
            format!(
                "No write to {names} was seen in {}, so the write rate gives no TTL: 1 hour \
                 is a default; shorten it if the rows change outside the recording (admin \
                 edits, imports)",
                ctx.window_text()
            ),
        ),
        None => (
            TTL_DEFAULT_S,
            format!(
                "The recording window's length is unknown, so the write rate of {names} gives \
                 no TTL: 1 hour is a default"
            ),
        ),
    };
    let (ruby, seconds) = ruby_duration(seconds);
    Ttl {
        seconds,
        human: ruby.replace('.', " "),
        ruby,
        reasoning,
    }
}

/// `15.minutes`, `2.hours`, `1.day`, rounded down so the TTL stays within
/// the write interval; with the rounded seconds.
fn ruby_duration(seconds: f64) -> (String, f64) {
    let unit = |n: f64, one: &str, many: &str, size: f64| {
        let n = n.max(1.0);
        let name = if n == 1.0 { one } else { many };
        (format!("{}.{name}", n as u64), n * size)
    };
    if seconds >= TTL_MAX_S {
        unit(1.0, "day", "days", 86_400.0)
    } else if seconds >= 3_600.0 {
        unit((seconds / 3_600.0).floor(), "hour", "hours", 3_600.0)
    } else {
        unit((seconds / 60.0).floor(), "minute", "minutes", 60.0)
    }
}

fn low_level_caching(ctx: &Ctx<'_>, fp: &Fingerprint) -> Option<Draft> {
    let tables: Vec<String> = fp.tables.clone();
    let candidate = fp.is("select")
        && !tables.is_empty()
        && tables.iter().all(|t| app_table(t))
        && identical_read(&fp.sql)
        && (fp.units.len() >= CACHE_MIN_UNITS || fp.calls >= CACHE_MIN_CALLS);
    if !candidate || fp.calls == 0 {
        return None;
    }
    let ttl = ttl(ctx, &tables);
    let names: Vec<&str> = fp.units.iter().map(|u| u.name.as_str()).collect();
    let mut rec = blank(
        "low_level_caching",
        format!(
            "Cache the identical read of {} for {}",
            and_list(&tables),
            ttl.human
        ),
        Priority::Low,
        Effort::Hours,
    );
    rec.issue = format!(
        "`{}` takes no values (every call reads the same rows) and ran {} ({} in all){}.",
        sql_excerpt(&fp.sql),
        plural(fp.calls, "time", "times"),
        fmt_ms(fp.total_ms),
        if names.is_empty() {
            String::new()
        } else {
            format!(
                " from {}: {}",
                plural(names.len() as u64, "unit", "units"),
                and_list(&names)
            )
        },
    );
    rec.impact = cache_impact(ctx, fp, &ttl);
    rec.priority = priority_of_ms(rec.impact.ms_saved_per_request.unwrap_or(0.0));
    rec.solution = cache_snippet(fp, &tables, &ttl);
    rec.trade_offs = format!(
        "{}. Readers see a change up to {} late; to see it at once, delete the key after a \
         write (after_commit {{ Rails.cache.delete(key) }} in the model). With a per-process \
         store (:memory_store) every process misses once per TTL; a shared one (Redis, \
         Memcached) adds a network round trip per read.",
        ttl.reasoning, ttl.human
    );
    rec.metric = format!(
        "calls of fingerprint {} (now {}{}) and the cache hit rate",
        fp.fingerprint,
        fmt_count(fp.calls),
        ctx.window
            .map_or_else(String::new, |w| format!(" in {}", fmt_duration(w)))
    );
    rec.location = fp.call_sites.first().cloned();
    rec.evidence = std::iter::once(format!("fingerprint:{}", fp.fingerprint))
        .chain(names.iter().map(|n| format!("unit:{n}")))
        .collect();
    Some(Draft::new(rec))
}

/// With a shared store, one miss per TTL over the window; the other calls
/// are saved.
fn cache_impact(ctx: &Ctx<'_>, fp: &Fingerprint, ttl: &Ttl) -> Impact {
    let Some(window) = ctx.window else {
        return Impact {
            summary: format!(
                "Most of its {} would be served from the cache; the saving was not measured \
                 (the window's length is unknown).",
                plural(fp.calls, "call", "calls")
            ),
            ..Impact::default()
        };
    };
    let misses = (window / ttl.seconds).ceil().max(1.0) as u64;
    let saved = fp.calls.saturating_sub(misses);
    let ms_total = fp.total_ms * saved as f64 / fp.calls as f64;
    let runs: u64 = fp
        .units
        .iter()
        .filter_map(|u| ctx.unit(&u.name).map(|unit| unit.count))
        .sum();
    let per_run = |v: f64| ratio(v, runs as f64).map(round2);
    Impact {
        summary: format!(
            "About {} of {} and {} over the window come from the cache instead (one miss per \
             TTL, {}, with a shared store).",
            plural(saved, "call", "calls"),
            fmt_count(fp.calls),
            fmt_ms(ms_total),
            ttl.human
        ),
        queries_saved_per_request: per_run(saved as f64),
        ms_saved_per_request: per_run(ms_total),
        ms_saved_total: Some(round2(ms_total)),
        rows_scanned: None,
        usd_saved_per_month: None,
    }
}

fn cache_snippet(fp: &Fingerprint, tables: &[String], ttl: &Ttl) -> String {
    let main = tables.first().map_or("rows", String::as_str);
    let key = words::ruby_string(&format!("{}/{}", words::bare(main), fp.fingerprint));
    let site = fp
        .call_sites
        .first()
        .map_or_else(|| "the call site".to_owned(), |s| s.clone());
    format!(
        "Rails.cache.fetch({key}, expires_in: {}) do\n  \
         # the query issued at {site}, loaded with .to_a (or .pluck)\n  \
         # so the cache holds rows, not a lazy relation\nend",
        ttl.ruby
    )
}

/// GET requests of some weight whose reads only touch rarely written
/// tables: their responses can be reused.
fn http_caching(ctx: &Ctx<'_>, u: &Unit) -> Option<Draft> {
    let get = u
        .method
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case("GET"));
    let mean = u.mean_ms()?;
    if !u.is_request() || !get || mean < CACHE_MIN_MEAN_MS {
        return None;
    }
    let (tables, writes_itself) = ctx.tables_read_by(&u.name);
    if tables.is_empty() || writes_itself || !tables.iter().all(|t| rarely_written(ctx, t)) {
        return None;
    }
    let ttl = ttl(ctx, &tables);
    let view_per = u.view_ms.and_then(|v| ratio(v, u.count as f64));
    let mut rec = blank(
        "http_caching",
        format!("Let clients reuse the response of {}", u.name),
        priority_of_ms(view_per.unwrap_or(0.0)),
        Effort::Hours,
    );
    let writes: u64 = tables.iter().map(|t| ctx.writes(t).total()).sum();
    rec.issue = format!(
        "{} is a GET of {} per request on average ({}) that reads only {}, which had {} in {} \
         (at most one write a minute counts as rarely written); every request recomputes the \
         same response.",
        u.name,
        fmt_ms(mean),
        plural(u.count, "request", "requests"),
        and_list(&tables),
        if writes == 0 {
            "no writes".to_owned()
        } else {
            plural(writes, "write", "writes")
        },
        ctx.window_text(),
    );
    rec.impact = http_impact(u, mean, view_per);
    rec.solution = http_snippet(&u.name, &tables, &ttl);
    rec.trade_offs = format!(
        "The ETag is computed from the records, so their queries still run: a 304 saves \
         rendering and transfer, not the reads. Keep public: false (the default) for \
         per-user responses so shared caches do not store them. With expires_in, clients \
         see a change up to {} late. {}.",
        ttl.human, ttl.reasoning
    );
    rec.metric = format!(
        "share of 304 responses of {} and its mean time (now {})",
        u.name,
        fmt_ms(mean)
    );
    rec.evidence = vec![format!("unit:{}", u.name)];
    Some(Draft::new(rec))
}

fn rarely_written(ctx: &Ctx<'_>, table: &str) -> bool {
    let writes = ctx.writes(table).total() as f64;
    match ctx.window {
        Some(w) => writes <= RARE_WRITES_PER_MINUTE * w / 60.0,
        None => writes == 0.0,
    }
}

fn http_impact(u: &Unit, mean: f64, view_per: Option<f64>) -> Impact {
    match view_per {
        Some(v) => Impact {
            summary: format!(
                "A repeated request answered 304 skips rendering: up to {} per request ({} \
                 over the window); with expires_in a client's repeat within the period never \
                 reaches the app (up to {} each). How many requests repeat was not measured.",
                fmt_ms(v),
                fmt_ms(v * u.count as f64),
                fmt_ms(mean)
            ),
            ms_saved_per_request: Some(round2(v)),
            ms_saved_total: Some(round2(v * u.count as f64)),
            ..Impact::default()
        },
        None => Impact {
            summary: format!(
                "A 304 skips rendering, whose time was not recorded; with expires_in a \
                 client's repeat never reaches the app (up to {} each). How many requests \
                 repeat was not measured.",
                fmt_ms(mean)
            ),
            ..Impact::default()
        },
    }
}

fn http_snippet(unit: &str, tables: &[String], ttl: &Ttl) -> String {
    let main = tables.first().map_or("records", String::as_str);
    let action = unit.split_once('#').map_or("index", |(_, a)| a);
    let model = model_name(main).unwrap_or_else(|| "Model".to_owned());
    let body = if action == "show" {
        let one = singular_var(main);
        format!(
            "  @{one} = {model}.find(params[:id])\n  \
             fresh_when @{one} # ETag and Last-Modified from the record"
        )
    } else {
        let many = words::bare(main);
        format!(
            "  @{many} = {model}.all # the action's query, as now\n  \
             fresh_when etag: @{many}, last_modified: @{many}.maximum(:updated_at)"
        )
    };
    format!(
        "# {unit}\ndef {action}\n{body}\n  \
         # or, when any client may reuse it for a while: expires_in {}, public: true\nend\n\
         # With an explicit render: `render json: ... if stale?(etag: ..., last_modified: ...)`",
        ttl.ruby
    )
}

// ------------------------------------------------------------- jobs

fn slow_job(ctx: &Ctx<'_>, job: &Job, hints: &InfraHints) -> Draft {
    let e = &job.unit;
    let threshold = ctx.input.options.slow_job_ms;
    let mean = e.mean_ms.unwrap_or(0.0);
    let priority = if mean >= 2.0 * threshold {
        Priority::High
    } else {
        Priority::Medium
    };
    let queue = hints
        .queue_of
        .get(&e.name)
        .cloned()
        .unwrap_or_else(|| underscore(e.name.strip_suffix("Job").unwrap_or(&e.name)));
    let mut rec = blank(
        "slow_job",
        format!("Move {} to its own queue", e.name),
        priority,
        Effort::Minutes,
    );
    rec.issue = format!(
        "{} takes {} on average and up to {} ({}{}) on the {} queue; while it runs it holds a \
         worker thread that short jobs on the same queue wait for.",
        e.name,
        e.mean_ms
            .map_or_else(|| "an unrecorded time".to_owned(), fmt_ms),
        e.max_ms
            .map_or_else(|| "an unrecorded maximum".to_owned(), fmt_ms),
        plural(e.count, "run", "runs"),
        e.queries_per_unit
            .map_or_else(String::new, |q| format!(", {} queries each", fmt_num(q))),
        job.queue.as_deref().unwrap_or("unrecorded"),
    );
    rec.impact = Impact {
        summary: job_share(ctx, e.name.as_str()),
        ..Impact::default()
    };
    let layout = hints.sidekiq_id.as_deref().map_or_else(
        || "the queue layout of the infrastructure section".to_owned(),
        |id| format!("the queue layout of {id}"),
    );
    rec.solution = format!(
        "class {} < ApplicationJob\n  queue_as :{queue}\nend\n\
         # a Sidekiq::Job: sidekiq_options queue: \"{queue}\"\n\
         # and give the queue its threads in config/sidekiq.yml ({layout})",
        e.name
    );
    rec.trade_offs = "A dedicated queue needs threads of its own, or its jobs wait behind the \
                      others; the threads it gets are taken from the remaining queues."
        .to_owned();
    rec.metric = format!(
        "latency of the other queues (Sidekiq::Queue#latency) and the mean of {} (now {})",
        e.name,
        e.mean_ms.map_or_else(|| "not recorded".to_owned(), fmt_ms)
    );
    rec.evidence = vec![format!("unit:{}", e.name)];
    let mut draft = Draft::new(rec);
    draft.after.extend(hints.sidekiq_id.clone());
    draft
}

/// The job's part of all recorded job time.
fn job_share(ctx: &Ctx<'_>, name: &str) -> String {
    let of = |u: &Unit| u.elapsed_ms.unwrap_or(0.0);
    let all: f64 = ctx
        .input
        .workload
        .units
        .iter()
        .filter(|u| u.is_job())
        .map(of)
        .sum();
    let mine = ctx.unit(name).map_or(0.0, of);
    let share = ratio(mine, all).map_or_else(String::new, |s| {
        format!(" ({} of all job time)", fmt_pct(s))
    });
    format!(
        "Takes {} of worker time{share} off the shared queue's threads; the job itself is not \
         faster (the saving in queue latency was not measured).",
        fmt_ms(mine)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_reads() {
        assert!(identical_read(
            "SELECT \"plans\".* FROM \"plans\" ORDER BY name LIMIT ?"
        ));
        assert!(identical_read("SELECT * FROM plans LIMIT ? OFFSET ?"));
        assert!(!identical_read("SELECT * FROM plans WHERE id = ? LIMIT ?"));
    }

    #[test]
    fn durations_round_down() {
        assert_eq!(ruby_duration(60.0).0, "1.minute");
        assert_eq!(ruby_duration(900.0).0, "15.minutes");
        assert_eq!(ruby_duration(5_400.0).0, "1.hour");
        assert_eq!(ruby_duration(86_400.0).0, "1.day");
    }

    #[test]
    fn names_from_constants() {
        assert_eq!(underscore("CompletedWorkouts"), "completed_workouts");
        assert_eq!(underscore("V1"), "v1");
        assert_eq!(
            view_path("Api::V1::CompletedWorkoutsController#index").as_deref(),
            Some("app/views/api/v1/completed_workouts/index")
        );
        assert_eq!(view_path("HealthCheckJob"), None);
    }
}
