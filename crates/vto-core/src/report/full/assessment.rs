//! The assessment: where the recorded workload's time goes (totals, the
//! heaviest statements, N+1 and slow queries, endpoints and jobs), the
//! schema's size and how fast its tables grow.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Serialize;

use super::{ratio, round2, round4, Finding, Fingerprint, Input, Priority, Unit};

/// The assessment section of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// Totals of the workload.
    pub workload: WorkloadTotals,
    /// The `options.top` statements that took the most time.
    pub top_fingerprints: Vec<TopFingerprint>,
    /// The N+1 findings, most urgent first.
    pub n_plus_ones: Vec<NPlusOne>,
    /// The slow-query findings, slowest first.
    pub slow_queries: Vec<SlowQuery>,
    /// Every request kind, most total time first.
    pub endpoints: Vec<Endpoint>,
    /// Requests whose mean reaches `options.slow_request_ms` or whose max
    /// reaches twice it, slowest mean first.
    pub slow_endpoints: Vec<Endpoint>,
    /// Every job class, most total time first.
    pub jobs: Vec<Job>,
    /// Jobs over `options.slow_job_ms` (mean, or twice it for the max).
    pub slow_jobs: Vec<Job>,
    /// The schema's size.
    pub schema: SchemaTotals,
    /// Tables the workload writes to, most writes first.
    pub table_growth: Vec<TableGrowth>,
    /// Outbound API calls (`null` without an `external` input or calls).
    pub external: Option<super::external::ExternalAssessment>,
}

/// Totals of the workload; a figure no unit reported is `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadTotals {
    /// Where it was recorded from.
    pub source: Option<String>,
    /// The recording window, when known.
    pub window_seconds: Option<f64>,
    /// Requests.
    pub requests: u64,
    /// Jobs.
    pub jobs: u64,
    /// Queries of all units.
    pub queries: Option<u64>,
    /// Database time of all units.
    pub db_ms: Option<f64>,
    /// Total time of all units.
    pub elapsed_ms: Option<f64>,
    /// Requests per second over the window.
    pub requests_per_second: Option<f64>,
    /// Mean queries of one request.
    pub queries_per_request: Option<f64>,
    /// Mean time of one request.
    pub mean_request_ms: Option<f64>,
}

/// One of the heaviest statements.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopFingerprint {
    /// Its fingerprint.
    pub fingerprint: String,
    /// The normalized SQL.
    pub sql: String,
    /// Times it ran.
    pub calls: u64,
    /// Their total time.
    pub total_ms: f64,
    /// Mean time of one call.
    pub mean_ms: Option<f64>,
    /// Its part of all statements' time (0..1).
    pub share: Option<f64>,
    /// `select`, `insert`, ...
    pub statement: String,
    /// Tables it touches.
    pub tables: Vec<String>,
    /// Where it is issued.
    pub call_sites: Vec<String>,
    /// Names of the units that ran it.
    pub units: Vec<String>,
}

/// An N+1 finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NPlusOne {
    /// The repeated query's fingerprint.
    pub fingerprint: Option<String>,
    /// Its SQL.
    pub sql: Option<String>,
    /// The loop's call site.
    pub location: Option<String>,
    /// The unit it showed in.
    pub unit: Option<String>,
    /// Queries per unit (the loop size).
    pub queries_per_unit: Option<u64>,
    /// Units it showed in.
    pub occurrences: u64,
    /// Its time per unit.
    pub ms_per_unit: f64,
    /// The fix.
    pub suggestion: Option<String>,
    /// How urgent.
    pub priority: Priority,
}

/// A slow-query finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowQuery {
    /// The query's fingerprint.
    pub fingerprint: Option<String>,
    /// Its SQL.
    pub sql: Option<String>,
    /// Its call site.
    pub location: Option<String>,
    /// The unit it showed in.
    pub unit: Option<String>,
    /// Its slowest run.
    pub max_ms: Option<f64>,
    /// Its time per unit.
    pub ms_per_unit: f64,
    /// Units it showed in.
    pub occurrences: u64,
    /// The fix.
    pub suggestion: Option<String>,
}

/// One request kind (or, inside [`Job`], a job class).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    /// `request` or `job`.
    pub kind: String,
    /// Controller#action or job class.
    pub name: String,
    /// The HTTP method, when known.
    pub method: Option<String>,
    /// Units in the window.
    pub count: u64,
    /// Mean time of one.
    pub mean_ms: Option<f64>,
    /// The slowest one.
    pub max_ms: Option<f64>,
    /// Database time / total time.
    pub db_share: Option<f64>,
    /// View rendering time / total time.
    pub view_share: Option<f64>,
    /// Mean queries of one.
    pub queries_per_unit: Option<f64>,
}

/// One job class: an [`Endpoint`] with its queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// The figures.
    #[serde(flatten)]
    pub unit: Endpoint,
    /// Its queue, when known.
    pub queue: Option<String>,
}

/// The schema's size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaTotals {
    /// Tables.
    pub tables: u64,
    /// Rows of the tables whose count is known.
    pub rows: Option<u64>,
    /// Bytes of the tables whose size is known.
    pub size_bytes: Option<u64>,
    /// The `options.top` largest tables (by size, then rows).
    pub largest: Vec<LargeTable>,
}

/// A large table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LargeTable {
    /// Its name.
    pub name: String,
    /// Rows, when known.
    pub rows: Option<u64>,
    /// Bytes, when known.
    pub size_bytes: Option<u64>,
}

/// How fast a table grows under the recorded workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableGrowth {
    /// The table.
    pub table: String,
    /// Its rows now, when known.
    pub rows: Option<u64>,
    /// INSERT calls into it in the window.
    pub inserts: u64,
    /// Inserts extrapolated to a day (needs the window).
    pub inserts_per_day: Option<f64>,
    /// Inserts, updates and deletes extrapolated to a day.
    pub writes_per_day: Option<f64>,
}

/// The write calls into one table over the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Writes {
    pub inserts: u64,
    pub updates: u64,
    pub deletes: u64,
}

impl Writes {
    pub fn total(self) -> u64 {
        self.inserts
            .saturating_add(self.updates)
            .saturating_add(self.deletes)
    }
}

/// Write calls per table. A write's target is the first table it names
/// (`INSERT INTO t`, `UPDATE t`, `DELETE FROM t`); the others it only reads.
pub(super) fn table_writes(input: &Input) -> BTreeMap<String, Writes> {
    let mut out: BTreeMap<String, Writes> = BTreeMap::new();
    for fp in &input.workload.fingerprints {
        let Some(table) = fp.tables.first().filter(|_| fp.is_write()) else {
            continue;
        };
        let w = out.entry(table.clone()).or_default();
        let slot = if fp.is("insert") {
            &mut w.inserts
        } else if fp.is("update") {
            &mut w.updates
        } else {
            &mut w.deletes
        };
        *slot = slot.saturating_add(fp.calls);
    }
    out
}

/// Builds the assessment.
pub(super) fn assess(input: &Input) -> Assessment {
    let top = input.options.top;
    let (endpoints, jobs) = units(input);
    let slow_request = input.options.slow_request_ms;
    let slow_job = input.options.slow_job_ms;
    let mut slow_endpoints: Vec<Endpoint> = endpoints
        .iter()
        .filter(|e| is_slow(e, slow_request))
        .cloned()
        .collect();
    slow_endpoints.sort_by(by_mean);
    let mut slow_jobs: Vec<Job> = jobs
        .iter()
        .filter(|j| is_slow(&j.unit, slow_job))
        .cloned()
        .collect();
    slow_jobs.sort_by(|a, b| by_mean(&a.unit, &b.unit));
    Assessment {
        workload: totals(input),
        top_fingerprints: top_fingerprints(&input.workload.fingerprints, top),
        n_plus_ones: n_plus_ones(input),
        slow_queries: slow_queries(input),
        endpoints,
        slow_endpoints,
        jobs,
        slow_jobs,
        schema: schema(input, top),
        table_growth: growth(input),
        external: None,
    }
}

fn totals(input: &Input) -> WorkloadTotals {
    let units = &input.workload.units;
    let requests: Vec<&Unit> = units.iter().filter(|u| u.is_request()).collect();
    let request_count = sum_counts(requests.iter().copied());
    let window = input.window_seconds();
    WorkloadTotals {
        source: input.workload.source.clone(),
        window_seconds: window,
        requests: request_count,
        jobs: sum_counts(units.iter().filter(|u| u.is_job())),
        queries: sum_known(units.iter().map(|u| u.queries.map(|q| q as f64)))
            .map(|q| q.round() as u64),
        db_ms: sum_known(units.iter().map(|u| u.db_ms)).map(round2),
        elapsed_ms: sum_known(units.iter().map(|u| u.elapsed_ms)).map(round2),
        requests_per_second: window
            .and_then(|w| ratio(request_count as f64, w))
            .map(round4),
        queries_per_request: mean_of(&requests, |u| u.queries.map(|q| q as f64)).map(round2),
        mean_request_ms: mean_of(&requests, |u| u.elapsed_ms).map(round2),
    }
}

fn sum_counts<'a>(units: impl Iterator<Item = &'a Unit>) -> u64 {
    units.fold(0u64, |acc, u| acc.saturating_add(u.count))
}

/// The sum of the known values; `None` when none is known.
fn sum_known(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values
        .flatten()
        .fold(None, |acc, v| Some(acc.unwrap_or(0.0) + v))
}

/// Mean per unit of work of a figure, over the units that report it (a
/// unit without the figure would otherwise count as zero).
fn mean_of(units: &[&Unit], figure: impl Fn(&Unit) -> Option<f64>) -> Option<f64> {
    let (sum, count) = units
        .iter()
        .filter_map(|u| figure(u).map(|v| (v, u.count)))
        .fold((0.0, 0u64), |(s, c), (v, n)| (s + v, c.saturating_add(n)));
    ratio(sum, count as f64)
}

fn top_fingerprints(fingerprints: &[Fingerprint], top: usize) -> Vec<TopFingerprint> {
    let all_ms: f64 = fingerprints.iter().map(|f| f.total_ms).sum();
    let mut sorted: Vec<&Fingerprint> = fingerprints.iter().collect();
    sorted.sort_by(|a, b| {
        b.total_ms
            .total_cmp(&a.total_ms)
            .then(b.calls.cmp(&a.calls))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    sorted
        .into_iter()
        .take(top)
        .map(|f| TopFingerprint {
            fingerprint: f.fingerprint.clone(),
            sql: f.sql.clone(),
            calls: f.calls,
            total_ms: round2(f.total_ms),
            mean_ms: ratio(f.total_ms, f.calls as f64).map(round2),
            share: ratio(f.total_ms, all_ms).map(round4),
            statement: f.statement.clone(),
            tables: f.tables.clone(),
            call_sites: f.call_sites.clone(),
            units: f.units.iter().map(|u| u.name.clone()).collect(),
        })
        .collect()
}

/// The SQL of a finding, or of its fingerprint in the workload.
pub(super) fn finding_sql(input: &Input, f: &Finding) -> Option<String> {
    f.sql.clone().filter(|s| !s.is_empty()).or_else(|| {
        fingerprint(input, f.fingerprint.as_deref()?)
            .map(|fp| fp.sql.clone())
            .filter(|s| !s.is_empty())
    })
}

/// The workload's statement with this fingerprint.
pub(super) fn fingerprint<'a>(input: &'a Input, id: &str) -> Option<&'a Fingerprint> {
    input
        .workload
        .fingerprints
        .iter()
        .find(|f| f.fingerprint == id)
}

/// Units a finding showed in; at least the one that reported it.
pub(super) fn occurrences(f: &Finding) -> u64 {
    f.occurrences.unwrap_or(1).max(1)
}

fn of_kind<'a>(input: &'a Input, kind: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
    input.findings.iter().filter(move |f| f.kind == kind)
}

fn n_plus_ones(input: &Input) -> Vec<NPlusOne> {
    let mut out: Vec<NPlusOne> = of_kind(input, "n_plus_one")
        .map(|f| NPlusOne {
            fingerprint: f.fingerprint.clone(),
            sql: finding_sql(input, f),
            location: f.location.clone(),
            unit: f.scope_name.clone(),
            queries_per_unit: f.count,
            occurrences: occurrences(f),
            ms_per_unit: round2(f.total_ms),
            suggestion: f.suggestion.clone(),
            priority: f.priority,
        })
        .collect();
    out.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then(weight(b).total_cmp(&weight(a)))
            .then_with(|| a.location.cmp(&b.location))
    });
    out
}

/// The time an N+1 costs over the window.
fn weight(n: &NPlusOne) -> f64 {
    n.ms_per_unit * n.occurrences as f64
}

fn slow_queries(input: &Input) -> Vec<SlowQuery> {
    let mut out: Vec<SlowQuery> = of_kind(input, "slow_query")
        .map(|f| SlowQuery {
            fingerprint: f.fingerprint.clone(),
            sql: finding_sql(input, f),
            location: f.location.clone(),
            unit: f.scope_name.clone(),
            max_ms: f.max_ms.map(round2),
            ms_per_unit: round2(f.total_ms),
            occurrences: occurrences(f),
            suggestion: f.suggestion.clone(),
        })
        .collect();
    out.sort_by(|a, b| {
        desc_opt(a.max_ms, b.max_ms)
            .then(b.ms_per_unit.total_cmp(&a.ms_per_unit))
            .then_with(|| a.location.cmp(&b.location))
    });
    out
}

/// Larger first; unknown last.
fn desc_opt(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The endpoints and the jobs, each most total time first.
fn units(input: &Input) -> (Vec<Endpoint>, Vec<Job>) {
    let mut sorted: Vec<&Unit> = input.workload.units.iter().collect();
    sorted.sort_by(|a, b| desc_opt(a.elapsed_ms, b.elapsed_ms).then_with(|| a.name.cmp(&b.name)));
    let endpoints = sorted
        .iter()
        .filter(|u| u.is_request())
        .map(|u| endpoint(u))
        .collect();
    let jobs = sorted
        .iter()
        .filter(|u| u.is_job())
        .map(|u| Job {
            unit: endpoint(u),
            queue: u.queue.clone(),
        })
        .collect();
    (endpoints, jobs)
}

fn endpoint(u: &Unit) -> Endpoint {
    let share = |part: Option<f64>| {
        part.zip(u.elapsed_ms)
            .and_then(|(p, e)| ratio(p, e))
            .map(round4)
    };
    Endpoint {
        kind: u.kind.to_ascii_lowercase(),
        name: u.name.clone(),
        method: u.method.as_ref().map(|m| m.to_ascii_uppercase()),
        count: u.count,
        mean_ms: u.mean_ms().map(round2),
        max_ms: u.max_elapsed_ms.map(round2),
        db_share: share(u.db_ms),
        view_share: share(u.view_ms),
        queries_per_unit: u
            .queries
            .and_then(|q| ratio(q as f64, u.count as f64))
            .map(round2),
    }
}

/// The mean reaches the threshold, or the slowest one reaches twice it.
fn is_slow(e: &Endpoint, threshold: f64) -> bool {
    e.mean_ms.is_some_and(|m| m >= threshold) || e.max_ms.is_some_and(|m| m >= 2.0 * threshold)
}

fn by_mean(a: &Endpoint, b: &Endpoint) -> Ordering {
    desc_opt(a.mean_ms, b.mean_ms)
        .then(desc_opt(a.max_ms, b.max_ms))
        .then_with(|| a.name.cmp(&b.name))
}

fn schema(input: &Input, top: usize) -> SchemaTotals {
    let tables = &input.schema.tables;
    let mut largest: Vec<LargeTable> = tables
        .iter()
        .filter(|t| t.rows.is_some() || t.size_bytes.is_some())
        .map(|t| LargeTable {
            name: t.name.clone(),
            rows: t.rows,
            size_bytes: t.size_bytes,
        })
        .collect();
    largest.sort_by(|a, b| {
        b.size_bytes
            .cmp(&a.size_bytes)
            .then(b.rows.cmp(&a.rows))
            .then_with(|| a.name.cmp(&b.name))
    });
    largest.truncate(top);
    let sum = |values: Vec<Option<u64>>| {
        values
            .into_iter()
            .flatten()
            .fold(None, |acc: Option<u64>, v| {
                Some(acc.unwrap_or(0).saturating_add(v))
            })
    };
    SchemaTotals {
        tables: tables.len() as u64,
        rows: sum(tables.iter().map(|t| t.rows).collect()),
        size_bytes: sum(tables.iter().map(|t| t.size_bytes).collect()),
        largest,
    }
}

/// The rows of a table, per the schema.
pub(super) fn table_rows(input: &Input, table: &str) -> Option<u64> {
    input
        .schema
        .tables
        .iter()
        .find(|t| t.name == table)
        .and_then(|t| t.rows)
}

/// Calls per day at the rate seen in the window.
pub(super) fn per_day(calls: u64, window: Option<f64>) -> Option<f64> {
    window
        .and_then(|w| ratio(calls as f64 * 86_400.0, w))
        .map(round2)
}

fn growth(input: &Input) -> Vec<TableGrowth> {
    let window = input.window_seconds();
    let mut out: Vec<(u64, TableGrowth)> = table_writes(input)
        .into_iter()
        .map(|(table, w)| {
            let rows = table_rows(input, &table);
            let growth = TableGrowth {
                rows,
                inserts: w.inserts,
                inserts_per_day: per_day(w.inserts, window),
                writes_per_day: per_day(w.total(), window),
                table,
            };
            (w.total(), growth)
        })
        .collect();
    out.sort_by(|(a, ga), (b, gb)| b.cmp(a).then_with(|| ga.table.cmp(&gb.table)));
    out.into_iter().map(|(_, g)| g).collect()
}
