//! The INFRASTRUCTURE section of the full report, for a Heroku-style
//! deployment (Puma web dynos, Sidekiq worker dynos, one-off dynos, one
//! PostgreSQL database):
//!
//! - the connection budget: how many connections every process may open at
//!   full load, against `max_connections` or the plan's limit;
//! - pool mismatches between `database.yml` pools and Puma threads / Sidekiq
//!   concurrency;
//! - whether PgBouncer is needed, with its Heroku configuration computed from
//!   the budget;
//! - web capacity from the measured load (Little's law) and its monthly cost;
//! - a Sidekiq queue layout that keeps long jobs away from fast ones;
//! - PostgreSQL settings worth changing;
//! - one recommendation (`I1..`) per problem found.
//!
//! Every figure comes from the input, and every `detail`, `reason` and
//! `reasoning` string states the arithmetic behind it. A missing figure stays
//! `null`, except where a framework default decides the behaviour (Puma's
//! single mode, Rails' pool of `RAILS_MAX_THREADS` = 5, Sidekiq's concurrency
//! of 5, PostgreSQL's 3 superuser-reserved slots); the text then names the
//! default it assumed.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::model::{Effort, Impact, Priority, Recommendation};
use super::{round2, round4};

/// A budget at or under this share of the limit is "ok"; above it, "tight".
const OK_SHARE_PERCENT: u64 = 80;
/// Web dynos are sized so threads are busy half the time: room for bursts.
const TARGET_UTILIZATION: f64 = 0.5;
/// Jobs at least this slow (mean) get their own queue and process.
const LONG_JOB_MS: f64 = 5_000.0;
/// Jobs under this mean are "fast": they belong in `critical` or `default`.
const FAST_JOB_MS: f64 = 1_000.0;
/// Rails' generated database.yml: `pool: ENV.fetch("RAILS_MAX_THREADS") { 5 }`.
const RAILS_DEFAULT_POOL: u64 = 5;
/// Sidekiq 7's default concurrency (`RAILS_MAX_THREADS` or 5).
const SIDEKIQ_DEFAULT_CONCURRENCY: u64 = 5;
/// PostgreSQL's default `superuser_reserved_connections`.
const PG_DEFAULT_RESERVED: u64 = 3;
/// Sidekiq weights: a thread checks `critical` first this many times as
/// often as `default`.
const CRITICAL_WEIGHT: u64 = 3;
const DEFAULT_WEIGHT: u64 = 1;
const LONG_WEIGHT: u64 = 1;
/// Suggested values (see [`postgres_settings`] for the reasons).
const STATEMENT_TIMEOUT_MS: f64 = 30_000.0;
const IDLE_IN_TRANSACTION_MS: f64 = 60_000.0;
const LOG_MIN_DURATION_MS: f64 = 500.0;
const SSD_RANDOM_PAGE_COST: f64 = 1.1;

// ---------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------

/// The input's `infrastructure` object: how the app is deployed. Every field
/// may be missing or `null` (unknown); unknown fields are ignored, and a value
/// of the wrong type counts as unknown instead of failing the whole report.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InfraInput {
    /// The `web` process type (Puma).
    #[serde(deserialize_with = "lenient")]
    pub web: Option<WebInput>,
    /// The `worker` process type (Sidekiq).
    #[serde(deserialize_with = "lenient")]
    pub worker: Option<WorkerInput>,
    /// One-off and scheduler dynos running at the same time (`heroku run`,
    /// Heroku Scheduler); they use the web's database.yml pool.
    #[serde(deserialize_with = "count")]
    pub one_off_dynos: Option<u64>,
    /// The database: its limit, plan, pools and settings.
    #[serde(deserialize_with = "lenient")]
    pub database: Option<DatabaseInput>,
    /// Monthly list prices for dyno types and database plans.
    #[serde(deserialize_with = "lenient")]
    pub prices: Option<PricesInput>,
    /// Connection limit per database plan (`{"essential-0": 20}`).
    #[serde(deserialize_with = "count_map")]
    pub plan_limits: BTreeMap<String, u64>,
}

/// The `web` process type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WebInput {
    /// Web dynos running.
    #[serde(deserialize_with = "count")]
    pub dynos: Option<u64>,
    /// Puma workers (forked processes) per dyno; 0 is single mode.
    #[serde(deserialize_with = "count")]
    pub workers: Option<u64>,
    /// Puma threads per process (`RAILS_MAX_THREADS`).
    #[serde(deserialize_with = "count")]
    pub threads: Option<u64>,
    /// Heroku dyno type (`standard-1x`).
    #[serde(deserialize_with = "text")]
    pub dyno_type: Option<String>,
}

/// The `worker` process type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WorkerInput {
    /// Worker dynos running (one Sidekiq process each).
    #[serde(deserialize_with = "count")]
    pub dynos: Option<u64>,
    /// Sidekiq threads per process.
    #[serde(deserialize_with = "count")]
    pub concurrency: Option<u64>,
    /// Heroku dyno type.
    #[serde(deserialize_with = "text")]
    pub dyno_type: Option<String>,
}

/// The database.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DatabaseInput {
    /// `max_connections` as known.
    #[serde(deserialize_with = "count")]
    pub max_connections: Option<u64>,
    /// Where `max_connections` came from (`server` = read from the server's
    /// setting, which includes the superuser-reserved slots).
    #[serde(deserialize_with = "text")]
    pub max_connections_source: Option<String>,
    /// Heroku Postgres plan (`standard-0`).
    #[serde(deserialize_with = "text")]
    pub plan: Option<String>,
    /// database.yml pool per process type.
    #[serde(deserialize_with = "lenient_list")]
    pub pool_sizes: Vec<PoolSize>,
    /// Whether PgBouncer already sits between the app and the database.
    #[serde(deserialize_with = "flag")]
    pub pgbouncer: Option<bool>,
    /// Server settings as `SHOW` reports them (`"statement_timeout": "0"`).
    #[serde(deserialize_with = "setting_map")]
    pub settings: BTreeMap<String, String>,
}

/// The database.yml pool of one process type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PoolSize {
    /// `web` or `worker`.
    #[serde(deserialize_with = "text")]
    pub process: Option<String>,
    /// Connections the process's pool may open.
    #[serde(deserialize_with = "count")]
    pub pool: Option<u64>,
}

/// Monthly list prices.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PricesInput {
    /// The date the prices were read (echoed as `prices_as_of`).
    #[serde(deserialize_with = "text")]
    pub as_of: Option<String>,
    /// Currency code; USD when missing.
    #[serde(deserialize_with = "text")]
    pub currency: Option<String>,
    /// Price per dyno per month, by dyno type.
    #[serde(deserialize_with = "price_map")]
    pub dynos: BTreeMap<String, f64>,
    /// Price per month, by database plan.
    #[serde(deserialize_with = "price_map")]
    pub databases: BTreeMap<String, f64>,
}

/// The measured load of one unit of work over the workload window (the
/// input's `workload.units`, reduced to what this section needs).
#[derive(Debug, Clone)]
pub struct UnitLoad {
    /// `request` or `job`.
    pub kind: String,
    /// Controller#action or job class.
    pub name: String,
    /// Units run in the window.
    pub count: u64,
    /// Their summed wall time.
    pub elapsed_ms: f64,
    /// The slowest one.
    pub max_elapsed_ms: f64,
    /// The job's queue, when known.
    pub queue: Option<String>,
}

// Deserializers that turn a wrong-typed value into "unknown": the Ruby side
// reads these figures from config files and the environment, where a stray
// string or float must not cost the user the whole report.

fn lenient<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    let value = Value::deserialize(d)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

fn lenient_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let items = match Value::deserialize(d)? {
        Value::Array(items) => items,
        _ => Vec::new(),
    };
    Ok(items
        .into_iter()
        .filter_map(|item| serde_json::from_value(item).ok())
        .collect())
}

fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(count_of(&Value::deserialize(d)?))
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(text_of(&Value::deserialize(d)?))
}

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn count_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, u64>, D::Error> {
    map_of(d, count_of)
}

fn price_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
    map_of(d, |v| number_of(v).filter(|x| *x >= 0.0))
}

fn setting_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    map_of(d, text_of)
}

/// An object whose entries of the wrong type are dropped.
fn map_of<'de, D, T>(
    d: D,
    read: impl Fn(&Value) -> Option<T>,
) -> Result<BTreeMap<String, T>, D::Error>
where
    D: Deserializer<'de>,
{
    let Value::Object(entries) = Value::deserialize(d)? else {
        return Ok(BTreeMap::new());
    };
    Ok(entries
        .iter()
        .filter_map(|(key, value)| Some((key.clone(), read(value)?)))
        .collect())
}

fn number_of(value: &Value) -> Option<f64> {
    let x = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    x.is_finite().then_some(x)
}

fn count_of(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    number_of(value)
        .filter(|x| *x >= 0.0)
        .map(|x| x.round() as u64)
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

/// The report's `infrastructure` object.
#[derive(Debug, Clone, Serialize)]
pub struct Infrastructure {
    /// Connections every process may open at full load, against the limit.
    pub connection_budget: ConnectionBudget,
    /// database.yml pools that do not match the threads using them.
    pub pool_mismatches: Vec<PoolMismatch>,
    /// Whether PgBouncer is needed, and its configuration when it is.
    pub pgbouncer: PgBouncer,
    /// Web capacity from the measured load.
    pub capacity: Capacity,
    /// Sidekiq queue layout.
    pub sidekiq: Sidekiq,
    /// PostgreSQL settings worth changing.
    pub postgres_settings: Vec<PostgresSetting>,
    /// Outbound API providers and their monthly cost (`null` without
    /// external calls; filled by the full report, see
    /// [`super::infra_external`]).
    pub external: Option<super::infra_external::ExternalInfra>,
    /// One per problem found, ids `I1..`.
    pub recommendations: Vec<Recommendation>,
}

/// The connection budget.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionBudget {
    /// One row per source of connections.
    pub rows: Vec<BudgetRow>,
    /// Sum of the rows' connections.
    pub total: u64,
    /// The limit, when known.
    pub max_connections: Option<u64>,
    /// Where the limit came from (`server`, `plan`, ...).
    pub max_connections_source: Option<String>,
    /// `max_connections - total` (negative when over).
    pub headroom: Option<i64>,
    /// `ok` (<= 80%), `tight` (<= 100%), `over` or `unknown`.
    pub verdict: String,
}

/// One source of connections.
#[derive(Debug, Clone, Serialize)]
pub struct BudgetRow {
    /// `web`, `worker`, `one_off` or `reserved`.
    pub source: String,
    /// Processes opening connections.
    pub processes: u64,
    /// Connections each may open (its pool).
    pub per_process: u64,
    /// `processes * per_process`.
    pub connections: u64,
    /// The arithmetic, in words.
    pub detail: String,
}

/// A pool that does not match the threads using it.
#[derive(Debug, Clone, Serialize)]
pub struct PoolMismatch {
    /// `web` or `worker`.
    pub process: String,
    /// The configured pool.
    pub pool: u64,
    /// The pool the threads need (Puma threads, Sidekiq concurrency).
    pub needed: u64,
    /// What happens, with the figures.
    pub message: String,
}

/// Whether PgBouncer is needed.
#[derive(Debug, Clone, Serialize)]
pub struct PgBouncer {
    /// True when the budget is tight or over, or one more web dyno would pass
    /// the limit (and PgBouncer is not already in use).
    pub needed: bool,
    /// Why, with the figures.
    pub reason: String,
    /// The Heroku configuration (buildpack, Procfile, config vars,
    /// database.yml) when needed; `null` otherwise.
    pub config: Option<String>,
}

/// Web capacity from the measured load.
#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    /// Requests per second over the window (`null` without a window).
    pub requests_per_second: Option<f64>,
    /// Mean request latency (`null` without requests).
    pub mean_latency_ms: Option<f64>,
    /// Little's law: requests per second x mean latency in seconds.
    pub busy_threads: Option<f64>,
    /// Web dynos x processes x threads.
    pub threads_available: Option<u64>,
    /// `busy_threads / threads_available`.
    pub utilization: Option<f64>,
    /// Web dynos for 50% utilization (the configured count without load).
    pub dynos_needed: Option<u64>,
    /// Web dynos configured.
    pub dynos_configured: Option<u64>,
    /// Web dyno type.
    pub dyno_type: Option<String>,
    /// Web (at `dynos_needed`) + worker dynos + database per month; `null`
    /// when a price is missing.
    pub monthly_cost_usd: Option<f64>,
    /// The prices' date.
    pub prices_as_of: Option<String>,
    /// The arithmetic, in words.
    pub reasoning: String,
}

/// Sidekiq queue layout.
#[derive(Debug, Clone, Serialize)]
pub struct Sidekiq {
    /// Suggested queues (empty without jobs).
    pub queues: Vec<SidekiqQueue>,
    /// config/sidekiq.yml (and the long-running process's file and Procfile
    /// lines when there is a long job); `null` without jobs.
    pub config: Option<String>,
    /// The arithmetic, in words.
    pub reasoning: String,
}

/// One suggested Sidekiq queue.
#[derive(Debug, Clone, Serialize)]
pub struct SidekiqQueue {
    /// `critical`, `default` or `long_running`.
    pub name: String,
    /// Job classes that go there.
    pub jobs: Vec<String>,
    /// Threads of the process that serves it.
    pub concurrency: u64,
    /// Its weight in that process's `:queues:`.
    pub weight: u64,
    /// Why, with the figures.
    pub reason: String,
}

/// A PostgreSQL setting worth changing.
#[derive(Debug, Clone, Serialize)]
pub struct PostgresSetting {
    /// Setting name.
    pub name: String,
    /// Current value as reported.
    pub current: String,
    /// Suggested value.
    pub suggested: String,
    /// Why.
    pub reason: String,
}

// ---------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------

/// Builds the INFRASTRUCTURE section from the deployment description, the
/// measured units and the window they were measured over (seconds; 0 or less
/// means no measured rate). `dialect` is the report's (`postgresql`, ...):
/// PostgreSQL-specific rows and settings only apply to `postgresql`.
pub fn analyze(
    infra: &InfraInput,
    units: &[UnitLoad],
    window_seconds: f64,
    dialect: &str,
) -> Infrastructure {
    analyze_capped(infra, units, window_seconds, dialect, &BTreeMap::new())
}

/// The most threads a job's queue may run at once, and why (a provider's
/// rate limit).
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadCap {
    /// Threads.
    pub threads: u64,
    /// The arithmetic, in words.
    pub why: String,
}

/// [`analyze`], with `caps` by job class: a `long_running` queue holding a
/// capped job gets at most the smallest of its jobs' caps, so the layout and
/// a rate limit never ask for different thread counts.
pub fn analyze_capped(
    infra: &InfraInput,
    units: &[UnitLoad],
    window_seconds: f64,
    dialect: &str,
    caps: &BTreeMap<String, ThreadCap>,
) -> Infrastructure {
    let setup = Setup::from_input(infra, is_postgres(dialect));
    let pricing = Pricing::from_input(infra.prices.as_ref());
    let window = (window_seconds.is_finite() && window_seconds > 0.0).then_some(window_seconds);

    let connection_budget = connection_budget(&setup);
    let pool_mismatches = pool_mismatches(&setup);
    let (pgbouncer, bouncer_plan) = pgbouncer(&setup, &connection_budget);
    let capacity = capacity(&setup, &pricing, units, window);
    let sidekiq = sidekiq(&setup, units, window, caps);
    let postgres_settings = postgres_settings(&setup, units);

    let facts = Facts {
        setup: &setup,
        pricing: &pricing,
        budget: &connection_budget,
        mismatches: &pool_mismatches,
        pgbouncer: &pgbouncer,
        bouncer_plan,
        capacity: &capacity,
        sidekiq: &sidekiq,
        settings: &postgres_settings,
    };
    let recommendations = recommendations(&facts);

    Infrastructure {
        connection_budget,
        pool_mismatches,
        pgbouncer,
        capacity,
        sidekiq,
        postgres_settings,
        external: None,
        recommendations,
    }
}

fn is_postgres(dialect: &str) -> bool {
    matches!(
        dialect.trim().to_ascii_lowercase().as_str(),
        "postgresql" | "postgres"
    )
}

/// Where a process's pool size came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PoolFrom {
    /// A `pool_sizes` entry.
    Configured,
    /// No entry: database.yml's pool follows the threads (`RAILS_MAX_THREADS`).
    Threads,
    /// Neither given: Rails' default of 5.
    Default,
}

/// The two process types that hold pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Web,
    Worker,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Web => "web",
            Role::Worker => "worker",
        }
    }

    /// What its threads are called.
    fn threads_word(self) -> &'static str {
        match self {
            Role::Web => "Puma threads",
            Role::Worker => "Sidekiq concurrency",
        }
    }

    /// "5 threads" / "concurrency 10".
    fn threads(self, n: u64) -> String {
        match self {
            Role::Web => plural(n, "thread"),
            Role::Worker => format!("concurrency {n}"),
        }
    }
}

/// A process type resolved to figures, defaults applied and remembered.
#[derive(Debug, Clone)]
struct Process {
    role: Role,
    dynos: u64,
    dynos_given: bool,
    /// Processes per dyno: Puma workers (at least 1), 1 for Sidekiq.
    per_dyno: u64,
    /// Puma workers as given (web only).
    workers: Option<u64>,
    /// Puma threads or Sidekiq concurrency, as given.
    threads: Option<u64>,
    pool: u64,
    pool_from: PoolFrom,
    dyno_type: Option<String>,
}

impl Process {
    fn processes(&self) -> u64 {
        self.dynos.saturating_mul(self.per_dyno)
    }

    fn connections(&self) -> u64 {
        self.processes().saturating_mul(self.pool)
    }

    /// Connections one dyno may open once its pool covers its threads.
    fn clients_per_dyno(&self) -> u64 {
        self.per_dyno
            .saturating_mul(self.pool.max(self.threads.unwrap_or(0)))
    }

    fn dynos_text(&self) -> String {
        if self.dynos_given {
            plural(self.dynos, "dyno")
        } else {
            "1 dyno (dynos not given, 1 assumed)".to_string()
        }
    }
}

/// The deployment with defaults resolved once.
#[derive(Debug, Clone)]
struct Setup {
    web: Option<Process>,
    worker: Option<Process>,
    one_off: u64,
    db: DatabaseInput,
    plan_limits: BTreeMap<String, u64>,
    postgres: bool,
}

impl Setup {
    fn from_input(infra: &InfraInput, postgres: bool) -> Setup {
        let db = infra.database.clone().unwrap_or_default();
        let web = infra.web.as_ref().map(|web| web_process(web, &db));
        let worker = infra
            .worker
            .as_ref()
            .map(|worker| worker_process(worker, &db));
        Setup {
            web,
            worker,
            one_off: infra.one_off_dynos.unwrap_or(0),
            db,
            plan_limits: infra.plan_limits.clone(),
            postgres,
        }
    }

    /// The pool one-off dynos get: they boot the app with the web's database.yml.
    fn one_off_pool(&self) -> u64 {
        self.web.as_ref().map_or(RAILS_DEFAULT_POOL, |web| web.pool)
    }

    fn bouncer_active(&self) -> bool {
        self.db.pgbouncer == Some(true)
    }
}

fn configured_pool(db: &DatabaseInput, process: &str) -> Option<u64> {
    db.pool_sizes
        .iter()
        .find(|entry| {
            entry
                .process
                .as_deref()
                .is_some_and(|p| p.trim().eq_ignore_ascii_case(process))
        })
        .and_then(|entry| entry.pool)
}

fn resolve_pool(configured: Option<u64>, threads: Option<u64>) -> (u64, PoolFrom) {
    match (configured, threads) {
        (Some(pool), _) => (pool, PoolFrom::Configured),
        (None, Some(threads)) => (threads, PoolFrom::Threads),
        (None, None) => (RAILS_DEFAULT_POOL, PoolFrom::Default),
    }
}

fn web_process(web: &WebInput, db: &DatabaseInput) -> Process {
    let (pool, pool_from) = resolve_pool(configured_pool(db, "web"), web.threads);
    Process {
        role: Role::Web,
        dynos: web.dynos.unwrap_or(1),
        dynos_given: web.dynos.is_some(),
        // Puma without `workers` (or with 0) runs one process: single mode.
        per_dyno: web.workers.unwrap_or(0).max(1),
        workers: web.workers,
        threads: web.threads,
        pool,
        pool_from,
        dyno_type: web.dyno_type.clone(),
    }
}

fn worker_process(worker: &WorkerInput, db: &DatabaseInput) -> Process {
    let (pool, pool_from) = resolve_pool(configured_pool(db, "worker"), worker.concurrency);
    Process {
        role: Role::Worker,
        dynos: worker.dynos.unwrap_or(1),
        dynos_given: worker.dynos.is_some(),
        per_dyno: 1,
        workers: None,
        threads: worker.concurrency,
        pool,
        pool_from,
        dyno_type: worker.dyno_type.clone(),
    }
}

// --- connection budget -----------------------------------------------------

fn connection_budget(setup: &Setup) -> ConnectionBudget {
    let (max_connections, source) = max_connections(setup);
    let mut rows: Vec<BudgetRow> = Vec::new();
    rows.extend(setup.web.as_ref().map(web_row));
    rows.extend(setup.worker.as_ref().map(worker_row));
    if setup.one_off > 0 {
        rows.push(one_off_row(setup));
    }
    if let Some(max) =
        max_connections.filter(|_| setup.postgres && source.as_deref() == Some("server"))
    {
        rows.push(reserved_row(setup, max));
    }
    let total = rows
        .iter()
        .fold(0u64, |sum, row| sum.saturating_add(row.connections));
    ConnectionBudget {
        headroom: max_connections.map(|max| signed(max).saturating_sub(signed(total))),
        verdict: verdict(total, max_connections).to_string(),
        rows,
        total,
        max_connections,
        max_connections_source: source,
    }
}

fn max_connections(setup: &Setup) -> (Option<u64>, Option<String>) {
    if let Some(max) = setup.db.max_connections {
        let source = setup
            .db
            .max_connections_source
            .clone()
            .unwrap_or_else(|| "database".to_string());
        return (Some(max), Some(source));
    }
    let plan_limit = setup
        .db
        .plan
        .as_ref()
        .and_then(|plan| setup.plan_limits.get(plan));
    match plan_limit {
        Some(limit) => (Some(*limit), Some("plan".to_string())),
        None => (None, None),
    }
}

fn verdict(total: u64, max: Option<u64>) -> &'static str {
    let Some(max) = max else { return "unknown" };
    // Integer form of total / max <= 80%, so 96 of 120 is exactly "ok".
    if u128::from(total) * 100 <= u128::from(max) * u128::from(OK_SHARE_PERCENT) {
        "ok"
    } else if total <= max {
        "tight"
    } else {
        "over"
    }
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn web_row(web: &Process) -> BudgetRow {
    let mode = match web.workers {
        Some(workers) if workers > 0 => {
            format!("{} (cluster mode)", plural(workers, "Puma worker"))
        }
        Some(_) => "1 Puma process (single mode, workers 0)".to_string(),
        None => "1 Puma process (workers not given: single mode assumed)".to_string(),
    };
    let detail = format!(
        "{} x {} = {}, {} each = {} connections",
        web.dynos_text(),
        mode,
        plural(web.processes(), "process"),
        pool_text(web),
        int(web.connections())
    );
    row("web", web, detail)
}

fn worker_row(worker: &Process) -> BudgetRow {
    let detail = format!(
        "{} x 1 Sidekiq process = {}, {} each = {} connections",
        worker.dynos_text(),
        plural(worker.processes(), "process"),
        pool_text(worker),
        int(worker.connections())
    );
    row("worker", worker, detail)
}

fn row(source: &str, process: &Process, detail: String) -> BudgetRow {
    BudgetRow {
        source: source.to_string(),
        processes: process.processes(),
        per_process: process.pool,
        connections: process.connections(),
        detail,
    }
}

/// "pool of 5 (10 threads)", naming where the figure came from.
fn pool_text(process: &Process) -> String {
    let (pool, role) = (process.pool, process.role);
    match (process.pool_from, process.threads) {
        (PoolFrom::Configured, Some(threads)) => {
            format!("pool of {pool} ({})", role.threads(threads))
        }
        (PoolFrom::Configured, None) => {
            format!("pool of {pool} ({} not given)", role.threads_word())
        }
        (PoolFrom::Threads, _) => {
            format!(
                "pool of {pool} (no pool_sizes entry: database.yml's pool follows {})",
                role.threads(pool)
            )
        }
        (PoolFrom::Default, _) => format!(
            "pool of {pool} (neither pool nor {} given: Rails' default RAILS_MAX_THREADS of \
             {RAILS_DEFAULT_POOL})",
            role.threads_word()
        ),
    }
}

fn one_off_row(setup: &Setup) -> BudgetRow {
    let pool = setup.one_off_pool();
    let connections = setup.one_off.saturating_mul(pool);
    BudgetRow {
        source: "one_off".to_string(),
        processes: setup.one_off,
        per_process: pool,
        connections,
        detail: format!(
            "{} (heroku run, Heroku Scheduler) x the web's pool of {} = {} connections",
            plural(setup.one_off, "one-off/scheduler dyno"),
            pool,
            int(connections)
        ),
    }
}

/// PostgreSQL keeps `superuser_reserved_connections` of `max_connections`
/// for superusers; the app's role cannot use them. Only counted when the
/// limit is the server's own setting: a plan's published limit is already
/// what the app's role may open.
fn reserved_row(setup: &Setup, max: u64) -> BudgetRow {
    let given =
        setting(&setup.db, "superuser_reserved_connections").and_then(|v| leading_number(&v));
    let reserved = given
        .filter(|x| *x >= 0.0)
        .map_or(PG_DEFAULT_RESERVED, |x| x.round() as u64);
    let origin = if given.is_some() {
        "as set"
    } else {
        "PostgreSQL's default"
    };
    BudgetRow {
        source: "reserved".to_string(),
        processes: 1,
        per_process: reserved,
        connections: reserved,
        detail: format!(
            "superuser_reserved_connections = {reserved} ({origin}): max_connections {} is the \
             server setting, and these slots are kept for superusers, so the app can open at \
             most {}",
            int(max),
            int(max.saturating_sub(reserved))
        ),
    }
}

fn setting(db: &DatabaseInput, name: &str) -> Option<String> {
    db.settings
        .iter()
        .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.clone())
}

/// The number a setting starts with: "30s" -> 30, "-1" -> -1, "4" -> 4.
fn leading_number(value: &str) -> Option<f64> {
    let value = value.trim();
    let end = value
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+'))))
        .map_or(value.len(), |(i, _)| i);
    value.get(..end)?.parse().ok()
}

// --- pool mismatches -------------------------------------------------------

fn pool_mismatches(setup: &Setup) -> Vec<PoolMismatch> {
    [&setup.web, &setup.worker]
        .into_iter()
        .flatten()
        .filter_map(mismatch)
        .collect()
}

/// Only a configured pool can disagree with its threads; "much larger" is
/// at least twice the threads.
fn mismatch(proc_: &Process) -> Option<PoolMismatch> {
    let threads = proc_
        .threads
        .filter(|_| proc_.pool_from == PoolFrom::Configured)?;
    let message = if proc_.pool < threads {
        small_pool_message(proc_, threads)
    } else if threads > 0 && proc_.pool >= threads.saturating_mul(2) {
        large_pool_message(proc_, threads)
    } else {
        return None;
    };
    Some(PoolMismatch {
        process: proc_.role.name().to_string(),
        pool: proc_.pool,
        needed: threads,
        message,
    })
}

fn small_pool_message(proc_: &Process, threads: u64) -> String {
    let (process, threads_word) = (proc_.role.name(), proc_.role.threads_word());
    let missing = threads - proc_.pool;
    let added = missing.saturating_mul(proc_.processes());
    format!(
        "{process} pool {pool} < {threads_word} {threads}: at full load {missing} of the \
         {threads} threads in each process wait for a connection (checkout_timeout, 5 s by \
         default) and then raise ActiveRecord::ConnectionTimeoutError. A pool of {threads} adds \
         {missing} x {} = {} connections to the budget.",
        plural(proc_.processes(), "process"),
        int(added),
        pool = proc_.pool,
    )
}

fn large_pool_message(proc_: &Process, threads: u64) -> String {
    let (process, threads_word) = (proc_.role.name(), proc_.role.threads_word());
    let spare = proc_.pool - threads;
    format!(
        "{process} pool {pool} is {ratio}x the {threads_word} {threads}: {spare} slots per \
         process x {} = {} connections the budget must count although the threads can never hold \
         them at once (unless the app runs load_async or its own threads).",
        plural(proc_.processes(), "process"),
        int(spare.saturating_mul(proc_.processes())),
        pool = proc_.pool,
        ratio = num(ratio(proc_.pool, threads)),
    )
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

// --- PgBouncer -------------------------------------------------------------

/// How PgBouncer would be sized from the budget.
#[derive(Debug, Clone, Copy)]
struct BouncerPlan {
    max: u64,
    /// Connections that bypass PgBouncer: one-off dynos and reserved slots.
    direct: u64,
    /// Dynos that would run `bin/start-pgbouncer`.
    dynos: u64,
    /// 80% of what the direct connections leave.
    server_budget: u64,
    pool_size: u64,
    max_client_conn: u64,
}

impl BouncerPlan {
    fn new(setup: &Setup, budget: &ConnectionBudget, max: u64) -> BouncerPlan {
        let direct = budget
            .rows
            .iter()
            .filter(|row| row.source == "one_off" || row.source == "reserved")
            .fold(0u64, |sum, row| sum.saturating_add(row.connections));
        let dynos = [&setup.web, &setup.worker]
            .into_iter()
            .flatten()
            .fold(0u64, |sum, p| sum.saturating_add(p.dynos));
        let server_budget = max.saturating_sub(direct).saturating_mul(OK_SHARE_PERCENT) / 100;
        // Split over today's dynos plus one, so scaling up by one stays inside.
        let pool_size = (server_budget / dynos.saturating_add(1)).max(1);
        let max_client_conn = [&setup.web, &setup.worker]
            .into_iter()
            .flatten()
            .map(Process::clients_per_dyno)
            .max()
            .unwrap_or(RAILS_DEFAULT_POOL)
            .max(1);
        BouncerPlan {
            max,
            direct,
            dynos,
            server_budget,
            pool_size,
            max_client_conn,
        }
    }

    fn server_connections(&self) -> u64 {
        self.dynos
            .saturating_mul(self.pool_size)
            .saturating_add(self.direct)
    }
}

/// The PgBouncer verdict, and its sizing when needed.
fn pgbouncer(setup: &Setup, budget: &ConnectionBudget) -> (PgBouncer, Option<BouncerPlan>) {
    let not_needed = |reason: String| {
        let section = PgBouncer {
            needed: false,
            reason,
            config: None,
        };
        (section, None)
    };
    let total = budget.total;
    if setup.bouncer_active() {
        return not_needed(format!(
            "PgBouncer is already in front of the database: the {} connections of the budget are \
             client connections it shares out over its own server connections \
             (PGBOUNCER_DEFAULT_POOL_SIZE per dyno), so the limit applies to those, not to the \
             budget's total.",
            int(total)
        ));
    }
    let Some(max) = budget.max_connections else {
        return not_needed(format!(
            "Cannot tell: max_connections is unknown (no database.max_connections, and the plan \
             {} is not in plan_limits); the processes may open {} connections.",
            setup.db.plan.as_deref().unwrap_or("(not given)"),
            int(total)
        ));
    };
    let why = bouncer_trigger(setup, budget, max);
    if !why.needed {
        return not_needed(format!("Not needed yet: {}", why.text));
    }
    let plan = BouncerPlan::new(setup, budget, max);
    let section = PgBouncer {
        needed: true,
        reason: format!("{} {}", why.text, bouncer_arithmetic(setup, &plan)),
        config: Some(bouncer_config(setup, &plan)),
    };
    (section, Some(plan))
}

/// Whether the budget (or one more web dyno) reaches the limit, in words.
struct Trigger {
    needed: bool,
    text: String,
}

fn bouncer_trigger(setup: &Setup, budget: &ConnectionBudget, max: u64) -> Trigger {
    let total = budget.total;
    let next_dyno = setup
        .web
        .as_ref()
        .map_or(0, |web| web.per_dyno.saturating_mul(web.pool));
    let grown = total.saturating_add(next_dyno);
    let state = format!(
        "{} of {} connections ({}, {})",
        int(total),
        int(max),
        pct(ratio(total, max)),
        budget.verdict
    );
    let growth = format!(
        "one more web dyno adds {} connections, {} of {}",
        int(next_dyno),
        int(grown),
        int(max)
    );
    let (needed, text) = match (budget.verdict.as_str(), grown <= max) {
        ("ok", true) => (
            false,
            format!("{state}, and {growth}, still within the limit."),
        ),
        ("ok", false) => (true, format!("{state}, but {growth}: past the limit.")),
        _ => (true, format!("{state}; {growth}.")),
    };
    Trigger { needed, text }
}

fn bouncer_arithmetic(setup: &Setup, plan: &BouncerPlan) -> String {
    let clients: Vec<String> = [&setup.web, &setup.worker]
        .into_iter()
        .flatten()
        .map(|p| format!("{} {}", p.role.name(), client_text(p)))
        .collect();
    format!(
        "With PgBouncer in each of the {dynos}, ({max} - {direct} direct one-off/reserved) x \
         {share}% = {budget} server connections, split over {dynos} + 1 for scaling = \
         PGBOUNCER_DEFAULT_POOL_SIZE {pool}; the database then sees {dyno_count} x {pool} + \
         {direct} direct = {server} of {max}. PGBOUNCER_MAX_CLIENT_CONN {clients} covers the \
         busiest dyno's clients ({list}).",
        dynos = plural(plan.dynos, "dyno"),
        dyno_count = plan.dynos,
        max = int(plan.max),
        direct = int(plan.direct),
        share = OK_SHARE_PERCENT,
        budget = int(plan.server_budget),
        pool = plan.pool_size,
        server = int(plan.server_connections()),
        clients = plan.max_client_conn,
        list = clients.join("; "),
    )
}

fn client_text(process: &Process) -> String {
    let per_process = process.pool.max(process.threads.unwrap_or(0));
    if process.per_dyno > 1 {
        format!(
            "{} processes x {} = {}",
            process.per_dyno,
            per_process,
            process.clients_per_dyno()
        )
    } else {
        format!("{per_process}")
    }
}

fn bouncer_config(setup: &Setup, plan: &BouncerPlan) -> String {
    let mut lines = vec![
        "# 1. Buildpack: PgBouncer runs inside every dyno started through bin/start-pgbouncer"
            .to_string(),
        "heroku buildpacks:add --index 1 heroku/pgbouncer".to_string(),
        String::new(),
        "# 2. Procfile (one-off dynos and the release phase stay direct: migrations take session \
         advisory locks)"
            .to_string(),
    ];
    if setup.web.is_some() {
        lines.push("web: bin/start-pgbouncer bundle exec puma -C config/puma.rb".to_string());
    }
    if setup.worker.is_some() {
        lines.push(
            "worker: bin/start-pgbouncer bundle exec sidekiq -C config/sidekiq.yml".to_string(),
        );
    }
    lines.push("release: bundle exec rails db:migrate".to_string());
    lines.push(String::new());
    lines.push(
        "# 3. Config vars (reserve pool 0 so each dyno opens at most DEFAULT_POOL_SIZE)"
            .to_string(),
    );
    lines.push(format!(
        "heroku config:set PGBOUNCER_POOL_MODE=transaction PGBOUNCER_DEFAULT_POOL_SIZE={} \
         PGBOUNCER_RESERVE_POOL_SIZE=0 PGBOUNCER_MAX_CLIENT_CONN={}",
        plan.pool_size, plan.max_client_conn
    ));
    lines.push(String::new());
    lines.extend(
        [
            "# 4. config/database.yml: transaction pooling hands each transaction any server \
             connection",
            "production:",
            "  <<: *default",
            "  prepared_statements: false  # named prepared statements live in one server session",
            "  advisory_locks: false       # session advisory locks would be released by another \
             session",
            "# Also: no SET outside a transaction (use SET LOCAL inside one, or ALTER ROLE ... \
             SET),",
            "# no session advisory locks in app code, and no LISTEN/NOTIFY through PgBouncer",
            "# (Action Cable's postgresql adapter needs a direct connection).",
        ]
        .map(str::to_string),
    );
    lines.join("\n")
}

// --- capacity --------------------------------------------------------------

/// Monthly prices, with lookups that say what is missing.
#[derive(Debug, Clone, Default)]
struct Pricing {
    as_of: Option<String>,
    currency: String,
    dynos: BTreeMap<String, f64>,
    databases: BTreeMap<String, f64>,
    given: bool,
}

impl Pricing {
    fn from_input(prices: Option<&PricesInput>) -> Pricing {
        let Some(prices) = prices else {
            return Pricing {
                currency: "USD".to_string(),
                ..Pricing::default()
            };
        };
        Pricing {
            as_of: prices.as_of.clone(),
            currency: prices.currency.clone().unwrap_or_else(|| "USD".to_string()),
            dynos: prices.dynos.clone(),
            databases: prices.databases.clone(),
            given: true,
        }
    }

    fn dyno(&self, process: &Process, role: &str) -> Result<f64, String> {
        let Some(dyno_type) = process.dyno_type.as_deref() else {
            return Err(format!("the {role} dyno type is not given"));
        };
        self.dynos
            .get(dyno_type)
            .copied()
            .ok_or_else(|| self.missing(&format!("{dyno_type} dynos")))
    }

    fn database(&self, plan: Option<&str>) -> Result<f64, String> {
        let Some(plan) = plan else {
            return Err("the database plan is not given".to_string());
        };
        self.databases
            .get(plan)
            .copied()
            .ok_or_else(|| self.missing(&format!("the {plan} database plan")))
    }

    fn missing(&self, what: &str) -> String {
        if self.given {
            format!("no price for {what}")
        } else {
            "no prices given".to_string()
        }
    }

    fn money(&self, amount: f64) -> String {
        money(amount, &self.currency)
    }
}

/// A monthly cost, or why it cannot be computed.
fn monthly_cost(setup: &Setup, pricing: &Pricing, web_dynos: u64) -> Result<(f64, String), String> {
    let mut total = 0.0;
    let mut parts = Vec::new();
    for (role, dynos, process) in [
        ("web", Some(web_dynos), setup.web.as_ref()),
        (
            "worker",
            setup.worker.as_ref().map(|w| w.dynos),
            setup.worker.as_ref(),
        ),
    ] {
        let (Some(dynos), Some(process)) = (dynos, process) else {
            continue;
        };
        let price = pricing.dyno(process, role)?;
        total += dynos as f64 * price;
        parts.push(format!(
            "{} x {} {}",
            plural(dynos, &format!("{role} dyno")),
            process.dyno_type.as_deref().unwrap_or(""),
            pricing.money(price)
        ));
    }
    let price = pricing.database(setup.db.plan.as_deref())?;
    total += price;
    parts.push(format!(
        "{} database {}",
        setup.db.plan.as_deref().unwrap_or(""),
        pricing.money(price)
    ));
    Ok((
        total,
        format!("{} = {}/month", parts.join(" + "), pricing.money(total)),
    ))
}

/// Requests in the window and their summed wall time.
fn request_load(units: &[UnitLoad]) -> (u64, f64) {
    units
        .iter()
        .filter(|unit| unit.kind.trim().eq_ignore_ascii_case("request"))
        .fold((0u64, 0.0), |(n, ms), unit| {
            (
                n.saturating_add(unit.count),
                bounded(ms + non_negative(unit.elapsed_ms)),
            )
        })
}

/// Keeps hostile sums (1e308 + 1e308) finite, so no figure or text says "inf".
fn bounded(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        f64::MAX
    }
}

fn non_negative(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        0.0
    }
}

fn capacity(setup: &Setup, pricing: &Pricing, units: &[UnitLoad], window: Option<f64>) -> Capacity {
    let (requests, elapsed_ms) = request_load(units);
    let rps = window.map(|w| bounded(requests as f64 / w));
    let mean = (requests > 0).then(|| elapsed_ms / requests as f64);
    let busy = rps
        .zip(mean)
        .filter(|_| requests > 0)
        .map(|(r, m)| bounded(r * m / 1000.0));
    let web = setup.web.as_ref();
    let dyno_threads = web.and_then(|w| w.threads.map(|t| w.per_dyno.saturating_mul(t)));
    let threads_available = web
        .zip(dyno_threads)
        .map(|(w, t)| w.dynos.saturating_mul(t));
    let utilization = busy
        .zip(threads_available)
        .filter(|(_, a)| *a > 0)
        .map(|(b, a)| b / a as f64);
    let sized = busy.zip(dyno_threads.filter(|t| *t > 0)).map(|(b, t)| {
        let per_dyno = t as f64 * TARGET_UTILIZATION;
        ((b / per_dyno).ceil() as u64).max(1)
    });
    let dynos_needed = sized.or_else(|| web.map(|w| w.dynos));
    let cost = dynos_needed.map(|n| monthly_cost(setup, pricing, n));

    let mut reasoning = load_text(requests, elapsed_ms, window, rps, mean, busy);
    reasoning.push(' ');
    reasoning.push_str(&sizing_text(
        web,
        threads_available,
        utilization,
        busy,
        sized,
    ));
    reasoning.push(' ');
    reasoning.push_str(&cost_text(setup, pricing, &cost, dynos_needed));

    Capacity {
        requests_per_second: rps.map(round4),
        mean_latency_ms: mean.map(round4),
        busy_threads: busy.map(round4),
        threads_available,
        utilization: utilization.map(round4),
        dynos_needed,
        dynos_configured: web.map(|w| w.dynos),
        dyno_type: web.and_then(|w| w.dyno_type.clone()),
        monthly_cost_usd: cost.and_then(Result::ok).map(|(total, _)| round2(total)),
        prices_as_of: pricing.as_of.clone(),
        reasoning,
    }
}

fn load_text(
    requests: u64,
    elapsed_ms: f64,
    window: Option<f64>,
    rps: Option<f64>,
    mean: Option<f64>,
    busy: Option<f64>,
) -> String {
    match (window, rps, mean, busy) {
        (Some(w), Some(r), Some(m), Some(b)) => format!(
            "{} over {} s = {} req/s; mean latency {} ms / {} = {} ms. Little's law: busy threads \
             = {} req/s x {} s = {}.",
            plural(requests, "request"),
            num(w),
            num(r),
            num(elapsed_ms),
            int(requests),
            num(m),
            num(r),
            num3(m / 1000.0),
            num3(b)
        ),
        (None, ..) => format!(
            "No measured load: the workload window is 0 s, so {} give no rate.",
            plural(requests, "request")
        ),
        _ => "No measured load: the workload has no requests.".to_string(),
    }
}

fn sizing_text(
    web: Option<&Process>,
    threads_available: Option<u64>,
    utilization: Option<f64>,
    busy: Option<f64>,
    sized: Option<u64>,
) -> String {
    let Some(web) = web else {
        return "No web process in the input: web capacity not computed.".to_string();
    };
    let Some(threads) = web.threads else {
        return format!(
            "Web threads not given: utilization not computed; the configured {} are kept.",
            web.dynos_text()
        );
    };
    let configured = format!(
        "Configured: {} x {} x {} threads = {} threads",
        web.dynos_text(),
        plural(web.per_dyno, "process"),
        threads,
        int(threads_available.unwrap_or(0))
    );
    match (busy, sized, utilization) {
        (Some(b), Some(n), Some(u)) => {
            let per_dyno = web.per_dyno as f64 * threads as f64 * TARGET_UTILIZATION;
            format!(
                "{configured}, {} busy. At {}% target utilization one dyno carries {} x {} x {} = \
                 {} busy threads, so dynos needed = ceil({} / {}) = {} (at least 1). The load is \
                 the recorded window's: size for production's peak, and keep 2 or more web dynos \
                 if requests must survive a dyno restart.",
                pct(u),
                num(TARGET_UTILIZATION * 100.0),
                web.per_dyno,
                threads,
                num(TARGET_UTILIZATION),
                num(per_dyno),
                num3(b),
                num(per_dyno),
                n
            )
        }
        (Some(_), Some(n), None) => format!("{configured}; dynos needed {n}."),
        _ => format!(
            "{configured}; without measured load the configured {} are kept.",
            web.dynos_text()
        ),
    }
}

fn cost_text(
    setup: &Setup,
    pricing: &Pricing,
    cost: &Option<Result<(f64, String), String>>,
    dynos_needed: Option<u64>,
) -> String {
    let as_of = pricing
        .as_of
        .as_deref()
        .map_or(String::new(), |d| format!(" (prices as of {d})"));
    let needed = match cost {
        Some(Ok((_, text))) => format!("Monthly cost: {text}{as_of}."),
        Some(Err(why)) => format!("Monthly cost not computed: {why}."),
        None => "Monthly cost not computed: web dynos unknown.".to_string(),
    };
    let configured = setup
        .web
        .as_ref()
        .map(|w| w.dynos)
        .filter(|c| Some(*c) != dynos_needed);
    match (configured.map(|c| monthly_cost(setup, pricing, c)), cost) {
        (Some(Ok((_, text))), Some(Ok(_))) => format!("{needed} As configured: {text}."),
        _ => needed,
    }
}

// --- Sidekiq ---------------------------------------------------------------

/// One job class's measured load.
#[derive(Debug, Clone)]
struct JobStat {
    name: String,
    count: u64,
    elapsed_ms: f64,
    mean_ms: f64,
    queue: Option<String>,
}

fn job_stats(units: &[UnitLoad]) -> Vec<JobStat> {
    units
        .iter()
        .filter(|unit| unit.kind.trim().eq_ignore_ascii_case("job") && unit.count > 0)
        .map(|unit| {
            let elapsed_ms = non_negative(unit.elapsed_ms);
            JobStat {
                name: unit.name.clone(),
                count: unit.count,
                elapsed_ms,
                mean_ms: elapsed_ms / unit.count as f64,
                queue: unit.queue.clone(),
            }
        })
        .collect()
}

fn is_critical_queue(queue: Option<&str>) -> bool {
    queue.is_some_and(|q| {
        matches!(
            q.trim().to_ascii_lowercase().as_str(),
            "critical" | "high" | "urgent"
        )
    })
}

/// Jobs sorted into the three suggested queues.
#[derive(Debug, Clone, Default)]
struct Layout {
    critical: Vec<JobStat>,
    default: Vec<JobStat>,
    long: Vec<JobStat>,
}

impl Layout {
    fn new(jobs: Vec<JobStat>) -> Layout {
        let mut layout = Layout::default();
        for job in jobs {
            if job.mean_ms >= LONG_JOB_MS {
                layout.long.push(job);
            } else if job.mean_ms < FAST_JOB_MS && is_critical_queue(job.queue.as_deref()) {
                layout.critical.push(job);
            } else {
                layout.default.push(job);
            }
        }
        layout
    }
}

/// Threads for `long_running`: Little's law on the long jobs, at least 1,
/// at most half the total so fast jobs keep the other half.
fn long_concurrency(long: &[JobStat], total: u64, window: Option<f64>) -> (u64, String) {
    let cap = (total / 2).max(1);
    let Some(window) = window else {
        return (
            1,
            format!(
                "no window to measure arrival rates, so 1 thread (cap: half of {total} = {cap})"
            ),
        );
    };
    let busy: f64 = long
        .iter()
        .map(|job| job.elapsed_ms / 1000.0 / window)
        .fold(0.0, |sum, x| bounded(sum + x));
    let wanted = (busy.ceil() as u64).max(1);
    let threads = wanted.min(cap);
    let rates: Vec<String> = long
        .iter()
        .map(|job| {
            format!(
                "{} {}/s x {} s",
                job.name,
                num3(bounded(job.count as f64 / window)),
                num(job.mean_ms / 1000.0)
            )
        })
        .collect();
    let text = format!(
        "Little's law: {} = {} busy threads, max(1, ceil) = {wanted}, capped at half of {total} = \
         {cap}: {threads}",
        rates.join(" + "),
        num3(busy)
    );
    (threads, text)
}

/// `long_running`'s threads within the caps of its jobs, with the words.
fn cap_long(
    long: &[JobStat],
    (threads, text): (u64, String),
    caps: &BTreeMap<String, ThreadCap>,
) -> (u64, String) {
    let Some((job, cap)) = long
        .iter()
        .filter_map(|job| caps.get(&job.name).map(|cap| (&job.name, cap)))
        .min_by_key(|(_, cap)| cap.threads)
    else {
        return (threads, text);
    };
    let cap_threads = cap.threads.max(1);
    if threads > cap_threads {
        let text = format!(
            "{text}; capped at {} for {job} ({}): {cap_threads}",
            cap_threads, cap.why
        );
        (cap_threads, text)
    } else {
        let text = format!(
            "{text}; within the {cap_threads} allowed for {job} ({})",
            cap.why
        );
        (threads, text)
    }
}

fn sidekiq(
    setup: &Setup,
    units: &[UnitLoad],
    window: Option<f64>,
    caps: &BTreeMap<String, ThreadCap>,
) -> Sidekiq {
    let jobs = job_stats(units);
    if jobs.is_empty() {
        let reasoning =
            "No job units in the workload: no Sidekiq queue layout to suggest.".to_string();
        return Sidekiq {
            queues: Vec::new(),
            config: None,
            reasoning,
        };
    }
    let worker = setup.worker.as_ref();
    let given = worker.and_then(|w| w.threads);
    let total = given.unwrap_or(SIDEKIQ_DEFAULT_CONCURRENCY).max(1);
    let layout = Layout::new(jobs);
    let long = (!layout.long.is_empty()).then(|| {
        cap_long(
            &layout.long,
            long_concurrency(&layout.long, total, window),
            caps,
        )
    });
    let long_threads = long.as_ref().map_or(0, |(threads, _)| *threads);
    // Split the threads rather than add: the budget's connections stay the same.
    let main_threads = total.saturating_sub(long_threads).max(1);

    let mut queues = Vec::new();
    if !layout.critical.is_empty() {
        queues.push(queue(
            "critical",
            &layout.critical,
            main_threads,
            CRITICAL_WEIGHT,
            critical_reason(&layout),
        ));
    }
    if !layout.default.is_empty() {
        queues.push(queue(
            "default",
            &layout.default,
            main_threads,
            DEFAULT_WEIGHT,
            default_reason(&layout),
        ));
    }
    if let Some((threads, text)) = &long {
        queues.push(queue(
            "long_running",
            &layout.long,
            *threads,
            LONG_WEIGHT,
            long_reason(&layout, text),
        ));
    }
    let config = sidekiq_config(&layout, main_threads, long_threads);
    let reasoning = sidekiq_reasoning(&layout, total, given.is_some(), main_threads, long_threads);
    Sidekiq {
        queues,
        config: Some(config),
        reasoning,
    }
}

fn queue(
    name: &str,
    jobs: &[JobStat],
    concurrency: u64,
    weight: u64,
    reason: String,
) -> SidekiqQueue {
    SidekiqQueue {
        name: name.to_string(),
        jobs: jobs.iter().map(|job| job.name.clone()).collect(),
        concurrency,
        weight,
        reason,
    }
}

fn job_list(jobs: &[JobStat]) -> String {
    let items: Vec<String> = jobs
        .iter()
        .map(|job| {
            format!(
                "{} ({}, mean {} ms)",
                job.name,
                plural(job.count, "run"),
                num(job.mean_ms)
            )
        })
        .collect();
    items.join(", ")
}

fn critical_reason(layout: &Layout) -> String {
    let mut queues: Vec<&str> = layout
        .critical
        .iter()
        .filter_map(|job| job.queue.as_deref())
        .collect();
    queues.sort_unstable();
    queues.dedup();
    format!(
        "Under {} ms mean and already in a high-priority queue ({}): {}. Weight {CRITICAL_WEIGHT} \
         against default's {DEFAULT_WEIGHT}: a free thread checks critical first \
         {CRITICAL_WEIGHT} times as often.",
        num(FAST_JOB_MS),
        queues.join(", "),
        job_list(&layout.critical)
    )
}

fn default_reason(layout: &Layout) -> String {
    format!(
        "Under {} ms mean: {}. Weight {DEFAULT_WEIGHT}.",
        num(LONG_JOB_MS),
        job_list(&layout.default)
    )
}

fn long_reason(layout: &Layout, concurrency_text: &str) -> String {
    format!(
        "Mean of {} ms or more: {}. Its own Sidekiq process; {concurrency_text}.",
        num(LONG_JOB_MS),
        job_list(&layout.long)
    )
}

fn sidekiq_config(layout: &Layout, main_threads: u64, long_threads: u64) -> String {
    let mut lines = vec![
        "# config/sidekiq.yml (the worker dyno)".to_string(),
        format!(":concurrency: {main_threads}"),
        ":queues:".to_string(),
    ];
    if !layout.critical.is_empty() {
        lines.push(format!("  - [critical, {CRITICAL_WEIGHT}]"));
    }
    // Sidekiq needs one queue; `default` is where unlabelled jobs land.
    lines.push(format!("  - [default, {DEFAULT_WEIGHT}]"));
    if layout.long.is_empty() {
        return lines.join("\n");
    }
    lines.extend([
        String::new(),
        "# config/sidekiq_long_running.yml (its own dyno)".to_string(),
        format!(":concurrency: {long_threads}"),
        ":queues:".to_string(),
        "  - long_running".to_string(),
        String::new(),
        "# Procfile (database.yml pool: <%= ENV.fetch(\"RAILS_MAX_THREADS\", 5) %> matches each \
         process)"
            .to_string(),
        format!(
            "worker: RAILS_MAX_THREADS={main_threads} bundle exec sidekiq -C config/sidekiq.yml"
        ),
        format!(
            "long_worker: RAILS_MAX_THREADS={long_threads} bundle exec sidekiq -C \
             config/sidekiq_long_running.yml"
        ),
    ]);
    lines.join("\n")
}

fn sidekiq_reasoning(
    layout: &Layout,
    total: u64,
    given: bool,
    main_threads: u64,
    long_threads: u64,
) -> String {
    let origin = if given {
        format!("worker concurrency {total}")
    } else {
        format!("worker concurrency not given: Sidekiq's default of {total} assumed")
    };
    let count = layout.critical.len() + layout.default.len() + layout.long.len();
    let mut text = format!("{} measured; {origin}.", plural(count as u64, "job class"));
    let Some(slowest) = layout.long.iter().map(|job| job.mean_ms).reduce(f64::max) else {
        text.push_str(&format!(
            " No job averages {} ms or more, so one process with weighted queues serves them all.",
            num(LONG_JOB_MS)
        ));
        return text;
    };
    text.push_str(&format!(
        " Threads split {total} -> {main_threads} (critical/default) + {long_threads} \
         (long_running), so the workers still need {total} connections in all. A separate \
         Sidekiq process (dyno) for long_running keeps slow jobs from starving fast ones: \
         sharing {total} threads, {total} long jobs started together would hold every thread for \
         about {} ms (their slowest mean) while critical and default jobs wait.",
        num(slowest)
    ));
    text
}

// --- PostgreSQL settings ---------------------------------------------------

fn postgres_settings(setup: &Setup, units: &[UnitLoad]) -> Vec<PostgresSetting> {
    if !setup.postgres || setup.db.settings.is_empty() {
        return Vec::new();
    }
    let checks = [
        Check {
            name: "statement_timeout",
            flagged: |v| v == 0.0,
            suggested: "30s",
            reason: statement_timeout_reason,
        },
        Check {
            name: "idle_in_transaction_session_timeout",
            flagged: |v| v == 0.0,
            suggested: "60s",
            reason: idle_reason,
        },
        Check {
            name: "log_min_duration_statement",
            flagged: |v| v < 0.0,
            suggested: "500ms",
            reason: log_reason,
        },
        Check {
            name: "random_page_cost",
            flagged: |v| v >= 4.0,
            suggested: "1.1",
            reason: random_page_cost_reason,
        },
    ];
    let context = Context::new(units);
    checks
        .iter()
        .filter_map(|check| {
            let current = setting(&setup.db, check.name)?;
            (check.flagged)(leading_number(&current)?).then(|| PostgresSetting {
                name: check.name.to_string(),
                reason: (check.reason)(&context, &current),
                current,
                suggested: check.suggested.to_string(),
            })
        })
        .collect()
}

/// One setting rule: when its current value is a problem, and why.
struct Check {
    name: &'static str,
    flagged: fn(f64) -> bool,
    suggested: &'static str,
    reason: fn(&Context, &str) -> String,
}

/// Workload figures the settings' reasons quote.
struct Context {
    slowest_request: Option<(String, f64)>,
    slowest_job: Option<(String, f64)>,
}

impl Context {
    fn new(units: &[UnitLoad]) -> Context {
        let slowest = |kind: &str, value: fn(&UnitLoad) -> f64| {
            units
                .iter()
                .filter(|u| u.kind.trim().eq_ignore_ascii_case(kind) && u.count > 0)
                .map(|u| (u.name.clone(), non_negative(value(u))))
                .max_by(|a, b| a.1.total_cmp(&b.1))
        };
        Context {
            slowest_request: slowest("request", |u| u.max_elapsed_ms),
            slowest_job: slowest("job", |u| {
                non_negative(u.elapsed_ms) / u.count.max(1) as f64
            })
            .filter(|(_, mean)| *mean >= LONG_JOB_MS),
        }
    }
}

fn statement_timeout_reason(context: &Context, current: &str) -> String {
    let evidence = context
        .slowest_request
        .as_ref()
        .map_or(String::new(), |(name, ms)| {
            format!(
                " The slowest recorded request ({name}) took {} ms end to end, so {} s leaves it \
                 {}x room.",
                num(*ms),
                num(STATEMENT_TIMEOUT_MS / 1000.0),
                num(STATEMENT_TIMEOUT_MS / ms.max(1.0))
            )
        });
    format!(
        "{current} means no limit: a runaway query keeps its connection, one of the budget's, and \
         its locks until it finishes.{evidence} Set it for the web role (database.yml \
         `variables: {{ statement_timeout: {STATEMENT_TIMEOUT_MS} }}`) and give Sidekiq its own, \
         longer limit."
    )
}

fn idle_reason(context: &Context, current: &str) -> String {
    let evidence = context
        .slowest_job
        .as_ref()
        .map_or(String::new(), |(name, mean)| {
            format!(
                " {name} averages {} ms: if it calls an outside API inside a transaction, it \
                 holds that transaction open the whole time; make the call outside the \
                 transaction.",
                num(*mean)
            )
        });
    format!(
        "{current} means no limit: a transaction left open (an exception path, an HTTP call \
         inside `transaction do`) keeps its row locks and stops autovacuum from removing dead \
         rows until the connection closes. {} s ends such sessions.{evidence}",
        num(IDLE_IN_TRANSACTION_MS / 1000.0)
    )
}

fn log_reason(context: &Context, current: &str) -> String {
    let threshold = num(LOG_MIN_DURATION_MS);
    let evidence = match &context.slowest_request {
        Some((name, ms)) if *ms < LOG_MIN_DURATION_MS => format!(
            " No recorded request reached {threshold} ms (the slowest, {name}, took {} ms end to \
             end), so the log stays quiet until something regresses.",
            num(*ms)
        ),
        Some((name, ms)) => format!(
            " The slowest recorded request ({name}) took {} ms end to end: its statements over \
             {threshold} ms will show.",
            num(*ms)
        ),
        None => String::new(),
    };
    format!(
        "{current} turns slow-statement logging off: nothing in the production logs shows which \
         statements are slow. {threshold} ms logs every statement slower than that, with its \
         duration, and none of the fast majority.{evidence}"
    )
}

fn random_page_cost_reason(_: &Context, current: &str) -> String {
    format!(
        "{current} prices a random page read at {current}x a sequential one, PostgreSQL's default \
         tuned for spinning disks. Heroku Postgres (like most cloud databases) runs on \
         SSD-backed storage, where {} lets the planner choose the index scans it now rejects as \
         too expensive.",
        num(SSD_RANDOM_PAGE_COST)
    )
}

// ---------------------------------------------------------------------------
// Recommendations
// ---------------------------------------------------------------------------

/// Everything the recommendations are derived from.
struct Facts<'a> {
    setup: &'a Setup,
    pricing: &'a Pricing,
    budget: &'a ConnectionBudget,
    mismatches: &'a [PoolMismatch],
    pgbouncer: &'a PgBouncer,
    bouncer_plan: Option<BouncerPlan>,
    capacity: &'a Capacity,
    sidekiq: &'a Sidekiq,
    settings: &'a [PostgresSetting],
}

/// Numbers recommendations `I1..` in the order they are added.
#[derive(Default)]
struct Recs(Vec<Recommendation>);

impl Recs {
    fn add(&mut self, mut rec: Recommendation) -> String {
        rec.id = format!("I{}", self.0.len() + 1);
        let id = rec.id.clone();
        self.0.push(rec);
        id
    }
}

/// The fields every recommendation fills, before it gets its id.
struct Draft {
    category: &'static str,
    title: String,
    issue: String,
    impact: String,
    solution: String,
    trade_offs: String,
    priority: Priority,
    effort: Effort,
    metric: String,
    location: &'static str,
    evidence: Vec<String>,
    depends_on: Vec<String>,
}

impl Draft {
    fn build(self) -> Recommendation {
        Recommendation {
            id: String::new(),
            category: self.category.to_string(),
            title: self.title,
            issue: self.issue,
            impact: Impact {
                summary: self.impact,
                ..Impact::default()
            },
            solution: self.solution,
            trade_offs: self.trade_offs,
            priority: self.priority,
            effort: self.effort,
            metric: self.metric,
            location: Some(self.location.to_string()),
            evidence: self.evidence,
            depends_on: self.depends_on,
        }
    }
}

fn recommendations(facts: &Facts) -> Vec<Recommendation> {
    let mut recs = Recs::default();
    if let Some(draft) = budget_rec(facts) {
        recs.add(draft.build());
    }
    let mut pool_fixes = Vec::new();
    for mismatch in facts.mismatches {
        let id = recs.add(pool_rec(facts, mismatch).build());
        if mismatch.pool < mismatch.needed {
            pool_fixes.push(id);
        }
    }
    if let Some(draft) = pgbouncer_rec(facts, pool_fixes) {
        recs.add(draft.build());
    }
    if let Some(draft) = capacity_rec(facts) {
        recs.add(draft.build());
    }
    if let Some(draft) = sidekiq_rec(facts) {
        recs.add(draft.build());
    }
    for setting in facts.settings {
        recs.add(setting_rec(facts, setting).build());
    }
    recs.0
}

fn budget_arithmetic(budget: &ConnectionBudget) -> String {
    let rows: Vec<String> = budget
        .rows
        .iter()
        .map(|row| format!("{}: {}", row.source, row.detail))
        .collect();
    format!(
        "{}. Total {} connections at full load",
        rows.join("; "),
        int(budget.total)
    )
}

fn source_text(setup: &Setup, source: Option<&str>) -> String {
    match source {
        Some("server") => "read from the server".to_string(),
        Some("plan") => format!(
            "the {} plan's limit",
            setup.db.plan.as_deref().unwrap_or("database")
        ),
        Some(other) => other.to_string(),
        None => "as given".to_string(),
    }
}

/// The cheapest plan whose limit keeps the budget "ok" (<= 80%).
fn bigger_plan(facts: &Facts, total: u64) -> Option<String> {
    let needed = total.saturating_mul(100).div_ceil(OK_SHARE_PERCENT);
    let current = facts.setup.db.plan.as_deref();
    let price = |plan: &str| facts.pricing.databases.get(plan).copied();
    let (plan, limit) = facts
        .setup
        .plan_limits
        .iter()
        .filter(|(plan, limit)| **limit >= needed && Some(plan.as_str()) != current)
        .min_by(|a, b| {
            let cost = |p: &str| price(p).unwrap_or(f64::INFINITY);
            cost(a.0).total_cmp(&cost(b.0)).then(a.1.cmp(b.1))
        })?;
    let cost = price(plan).map_or(String::new(), |p| {
        format!(", {}/month", facts.pricing.money(p))
    });
    Some(format!(
        "move to the {plan} plan ({} connections{cost}): {} / {} = {}",
        int(*limit),
        int(total),
        int(*limit),
        pct(ratio(total, *limit))
    ))
}

fn budget_rec(facts: &Facts) -> Option<Draft> {
    let budget = facts.budget;
    let max = budget.max_connections?;
    let over = match budget.verdict.as_str() {
        "over" => true,
        "tight" => false,
        _ => return None,
    };
    if facts.setup.bouncer_active() {
        return None; // the limit applies to PgBouncer's server connections
    }
    let total = budget.total;
    let share = pct(ratio(total, max));
    let consequence = if over {
        format!(
            "{} more than the database accepts. When the pools fill, new connections fail with \
             `FATAL: too many connections` and Rails raises \
             ActiveRecord::ConnectionNotEstablished.",
            int(total - max)
        )
    } else {
        format!(
            "only {} spare, so one more dyno or a `heroku run rails console` session can push it \
             over the limit.",
            int(max - total)
        )
    };
    let mut options = Vec::new();
    if facts.pgbouncer.needed {
        options.push(
            "put PgBouncer in front of the database (see the pgbouncer recommendation)".to_string(),
        );
    }
    options.extend(bigger_plan(facts, total));
    for mismatch in facts.mismatches.iter().filter(|m| m.pool > m.needed) {
        options.push(format!(
            "shrink the {} pool from {} to {}",
            mismatch.process, mismatch.pool, mismatch.needed
        ));
    }
    options.push("or run fewer Puma workers per dyno with more threads each".to_string());
    let limit = max.saturating_mul(OK_SHARE_PERCENT) / 100;
    Some(Draft {
        category: "connection_budget",
        title: format!(
            "Connection budget {}: {} of {} connections",
            budget.verdict,
            int(total),
            int(max)
        ),
        issue: format!(
            "{}, {share} of max_connections {} ({}): {consequence}",
            budget_arithmetic(budget),
            int(max),
            source_text(facts.setup, budget.max_connections_source.as_deref()),
        ),
        impact: format!(
            "Brings peak connections from {} ({share}) to at most {} ({}% of {}), so a full load \
             cannot exhaust the database's connections.",
            int(total),
            int(limit),
            OK_SHARE_PERCENT,
            int(max)
        ),
        solution: format!("Any of: {}.", options.join("; ")),
        trade_offs: "PgBouncer's transaction pooling gives up session features (prepared \
                     statements, session advisory locks, LISTEN/NOTIFY); a bigger plan costs \
                     more each month; smaller pools make threads wait for a connection."
            .to_string(),
        priority: if over {
            Priority::Critical
        } else {
            Priority::High
        },
        effort: Effort::Hours,
        metric: format!(
            "Connections at peak (`heroku pg:info`, or SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database()) stay at or below {}.",
            int(limit)
        ),
        location: "config/database.yml",
        evidence: vec!["infrastructure:connection_budget".to_string()],
        depends_on: Vec::new(),
    })
}

fn pool_rec(facts: &Facts, mismatch: &PoolMismatch) -> Draft {
    let web = mismatch.process == "web";
    let process = if web {
        facts.setup.web.as_ref()
    } else {
        facts.setup.worker.as_ref()
    };
    let processes = process.map_or(0, Process::processes);
    let threads_word = process.map_or("threads", |p| p.role.threads_word());
    let (pool, needed) = (mismatch.pool, mismatch.needed);
    let procfile = if web {
        format!("web: RAILS_MAX_THREADS={needed} bundle exec puma -C config/puma.rb")
    } else {
        format!("worker: RAILS_MAX_THREADS={needed} bundle exec sidekiq -C config/sidekiq.yml")
    };
    let solution = format!(
        "Make the pool follow the threads, per process type:\n# \
         config/database.yml\nproduction:\n  <<: *default\n  pool: <%= \
         ENV.fetch(\"RAILS_MAX_THREADS\", 5) %>\n# Procfile (Sidekiq 7 also reads \
         RAILS_MAX_THREADS as its default concurrency)\n{procfile}"
    );
    let delta = needed.abs_diff(pool).saturating_mul(processes);
    let metric = format!(
        "Pool stats in the {} (ActiveRecord::Base.connection_pool.stat: size {needed}, waiting 0) \
         and no ActiveRecord::ConnectionTimeoutError in the logs.",
        if web { "web dyno" } else { "worker dyno" }
    );
    if pool < needed {
        Draft {
            category: "connection_budget",
            title: format!(
                "Raise the {} pool from {pool} to {needed} ({threads_word} {needed})",
                mismatch.process
            ),
            issue: mismatch.message.clone(),
            impact: format!(
                "All {needed} threads in each {} process ({processes} in all) can hold a \
                 connection at once: no ActiveRecord::ConnectionTimeoutError under load; the \
                 budget grows by {} connections.",
                mismatch.process,
                int(delta)
            ),
            solution,
            trade_offs: format!(
                "{} more connections count against max_connections; check the budget (or use \
                 PgBouncer) first.",
                int(delta)
            ),
            priority: Priority::High,
            effort: Effort::Minutes,
            metric,
            location: "config/database.yml",
            evidence: vec![format!(
                "infrastructure:pool_mismatches:{}",
                mismatch.process
            )],
            depends_on: Vec::new(),
        }
    } else {
        Draft {
            category: "connection_budget",
            title: format!(
                "Shrink the {} pool from {pool} to {needed} ({threads_word} {needed})",
                mismatch.process
            ),
            issue: mismatch.message.clone(),
            impact: format!(
                "Frees {} x {processes} = {} connections of the budget.",
                pool - needed,
                int(delta)
            ),
            solution,
            trade_offs: "If the app runs load_async or its own threads, add their count to the \
                         pool instead of removing it."
                .to_string(),
            priority: Priority::Low,
            effort: Effort::Minutes,
            metric,
            location: "config/database.yml",
            evidence: vec![format!(
                "infrastructure:pool_mismatches:{}",
                mismatch.process
            )],
            depends_on: Vec::new(),
        }
    }
}

fn pgbouncer_rec(facts: &Facts, pool_fixes: Vec<String>) -> Option<Draft> {
    let plan = facts.bouncer_plan?;
    let config = facts.pgbouncer.config.clone()?;
    let trigger = bouncer_trigger(facts.setup, facts.budget, plan.max);
    let server = plan.server_connections();
    Some(Draft {
        category: "pgbouncer",
        title: "Put PgBouncer (transaction pooling) in front of PostgreSQL".to_string(),
        issue: format!(
            "Every process keeps up to its pool's connections open, busy or idle: {}",
            trigger.text
        ),
        impact: format!(
            "The database sees at most {} of {} connections instead of {}; one more dyno adds {}: \
             {}.",
            int(server),
            int(plan.max),
            int(facts.budget.total),
            plan.pool_size,
            int(server.saturating_add(plan.pool_size))
        ),
        solution: config,
        trade_offs: "Transaction pooling drops session state between transactions: prepared \
                     statements off (a little more parse time per query), no session advisory \
                     locks or session SET, no LISTEN/NOTIFY through PgBouncer; migrations and \
                     consoles keep a direct connection."
            .to_string(),
        priority: if facts.budget.verdict == "over" {
            Priority::High
        } else {
            Priority::Medium
        },
        effort: Effort::Hours,
        metric: format!(
            "Server connections in `heroku pg:info` at peak stay at or below {}, and cl_waiting \
             in PgBouncer's SHOW POOLS stays near 0.",
            int(server)
        ),
        location: "Procfile",
        evidence: vec![
            "infrastructure:connection_budget".to_string(),
            "infrastructure:pgbouncer".to_string(),
        ],
        depends_on: pool_fixes,
    })
}

fn capacity_rec(facts: &Facts) -> Option<Draft> {
    let capacity = facts.capacity;
    capacity.busy_threads?;
    let (needed, configured) = (capacity.dynos_needed?, capacity.dynos_configured?);
    if needed.abs_diff(configured) <= 1 {
        return None;
    }
    let web = facts.setup.web.as_ref()?;
    let price = facts.pricing.dyno(web, "web");
    let diff = needed.abs_diff(configured);
    let money = match &price {
        Ok(p) => format!(
            "{} x {} = {}/month",
            diff,
            facts.pricing.money(*p),
            facts.pricing.money(diff as f64 * p)
        ),
        Err(why) => format!("cost not computed: {why}"),
    };
    let over = configured > needed;
    let (title, impact, trade_offs, priority) = if over {
        (
            format!("Scale web from {configured} to {needed} dynos"),
            format!("Saves {money}."),
            format!(
                "Sized on the recorded window's load: if production's peak is higher, scale for \
                 it. Fewer than 2 web dynos means no redundancy during restarts; {} leaves {} \
                 busy of {} threads.",
                plural(needed, "dyno"),
                num3(capacity.busy_threads.unwrap_or(0.0)),
                int(needed
                    .saturating_mul(web.per_dyno)
                    .saturating_mul(web.threads.unwrap_or(0)))
            ),
            Priority::Medium,
        )
    } else {
        (
            format!("Scale web from {configured} to {needed} dynos"),
            format!("Brings utilization down to the 50% target; costs {money} more."),
            "More dynos add connections to the budget: check it (and PgBouncer) before scaling."
                .to_string(),
            Priority::High,
        )
    };
    Some(Draft {
        category: "capacity",
        title,
        issue: capacity.reasoning.clone(),
        impact,
        solution: format!("heroku ps:scale web={needed}"),
        trade_offs,
        priority,
        effort: Effort::Minutes,
        metric: "Heroku Metrics: p95 response time and dyno load stay flat; request queue time \
                 (router `queue`) near 0."
            .to_string(),
        location: "Procfile",
        evidence: vec!["infrastructure:capacity".to_string()],
        depends_on: Vec::new(),
    })
}

fn sidekiq_rec(facts: &Facts) -> Option<Draft> {
    let sidekiq = facts.sidekiq;
    let long = sidekiq.queues.iter().find(|q| q.name == "long_running")?;
    let config = sidekiq.config.clone()?;
    let jobs = long.jobs.join(", ");
    let extra_dyno = facts
        .setup
        .worker
        .as_ref()
        .map(|w| facts.pricing.dyno(w, "worker"));
    let dyno_cost = match extra_dyno {
        Some(Ok(price)) => format!(
            "A second worker dyno costs {}/month",
            facts.pricing.money(price)
        ),
        _ => "A second worker dyno adds one dyno's price".to_string(),
    };
    let mut evidence: Vec<String> = long.jobs.iter().map(|job| format!("unit:{job}")).collect();
    evidence.push("infrastructure:sidekiq".to_string());
    Some(Draft {
        category: "sidekiq_queues",
        title: format!("Move {jobs} to a long_running queue with its own Sidekiq process"),
        issue: format!("{} {}", long.reason, sidekiq.reasoning),
        impact: format!(
            "Fast jobs keep their threads: at most {} for {jobs}, the others for critical and \
             default.",
            plural(long.concurrency, "thread")
        ),
        solution: format!(
            "In each long job: `queue_as :long_running` (Active Job) or `sidekiq_options queue: \
             :long_running` (Sidekiq::Job). Then:\n{config}"
        ),
        trade_offs: format!(
            "{dyno_cost}; Sidekiq 7 capsules (config.capsule(\"long_running\") with concurrency \
             {}) run the queue in the same process instead, without isolating memory.",
            long.concurrency
        ),
        priority: Priority::Medium,
        effort: Effort::Hours,
        metric: "Sidekiq::Queue.new(\"critical\").latency and \
                 Sidekiq::Queue.new(\"default\").latency stay under a second while long jobs run."
            .to_string(),
        location: "config/sidekiq.yml",
        evidence,
        depends_on: Vec::new(),
    })
}

/// How to change one setting, and what it is worth.
struct SettingFix {
    solution: String,
    impact: String,
    trade_offs: &'static str,
    metric: &'static str,
    priority: Priority,
}

fn setting_rec(facts: &Facts, setting: &PostgresSetting) -> Draft {
    let bouncer = facts.setup.bouncer_active() || facts.pgbouncer.needed;
    let fix = match setting.name.as_str() {
        "statement_timeout" => statement_timeout_fix(bouncer),
        "idle_in_transaction_session_timeout" => idle_fix(),
        "log_min_duration_statement" => log_fix(facts.setup.db.plan.as_deref()),
        _ => random_page_cost_fix(&setting.current),
    };
    Draft {
        category: "postgres_setting",
        title: format!(
            "Set {} to {} (now {})",
            setting.name, setting.suggested, setting.current
        ),
        issue: format!("{} = {}", setting.name, setting.reason),
        impact: fix.impact,
        solution: fix.solution,
        trade_offs: fix.trade_offs.to_string(),
        priority: fix.priority,
        effort: Effort::Minutes,
        metric: fix.metric.to_string(),
        location: if setting.name == "statement_timeout" {
            "config/database.yml"
        } else {
            "database"
        },
        evidence: vec![format!("infrastructure:postgres_settings:{}", setting.name)],
        depends_on: Vec::new(),
    }
}

fn statement_timeout_fix(bouncer: bool) -> SettingFix {
    let ms = STATEMENT_TIMEOUT_MS;
    let seconds = num(ms / 1000.0);
    let mut solution = format!(
        "# config/database.yml (the web's limit; the worker's comes from its Procfile \
         line)\nproduction:\n  <<: *default\n  variables:\n    statement_timeout: <%= \
         ENV.fetch(\"DB_STATEMENT_TIMEOUT\", {ms}) %>\n# Procfile: worker: \
         DB_STATEMENT_TIMEOUT=<the ms your slowest job's query needs> bundle exec sidekiq"
    );
    if bouncer {
        solution.push_str(&format!(
            "\n# Behind PgBouncer's transaction pooling a session SET reaches other clients: set \
             the role default instead\nALTER ROLE CURRENT_USER SET statement_timeout = \
             '{seconds}s';"
        ));
    }
    SettingFix {
        solution,
        impact: format!(
            "A runaway web query is cancelled after {seconds} s, freeing its connection and locks \
             instead of holding them until it finishes."
        ),
        trade_offs: "Queries slower than the limit fail with ActiveRecord::QueryCanceled: reports \
                     and data fixes need a longer limit (SET LOCAL statement_timeout inside \
                     their transaction).",
        metric: "ActiveRecord::QueryCanceled / `canceling statement due to statement timeout` in \
                 the logs: each one is a query to fix.",
        priority: Priority::Medium,
    }
}

fn idle_fix() -> SettingFix {
    let seconds = num(IDLE_IN_TRANSACTION_MS / 1000.0);
    SettingFix {
        solution: format!(
            "ALTER ROLE CURRENT_USER SET idle_in_transaction_session_timeout = '{seconds}s';\n-- \
             new connections pick it up: heroku ps:restart"
        ),
        impact: format!(
            "A transaction idle for more than {seconds} s is ended: its locks are released and \
             autovacuum can clean up behind it."
        ),
        trade_offs: "Code that waits inside a transaction longer than the limit loses its \
                     connection and fails: move the wait (an API call, a sleep) out of the \
                     transaction.",
        metric: "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' stays \
                 at 0.",
        priority: Priority::Medium,
    }
}

fn log_fix(plan: Option<&str>) -> SettingFix {
    let ms = num(LOG_MIN_DURATION_MS);
    let essential = plan.is_some_and(|p| p.to_ascii_lowercase().starts_with("essential"));
    let note = if essential {
        "\n# Essential plans do not offer pg:settings; on them, rely on this gem's slow-query \
         findings."
    } else {
        ""
    };
    SettingFix {
        solution: format!(
            "heroku pg:settings:log-min-duration-statement {ms}\n-- elsewhere, as a superuser: \
             ALTER DATABASE <name> SET log_min_duration_statement = '{ms}ms';{note}"
        ),
        impact: format!(
            "Every statement over {ms} ms appears in the production logs with its duration."
        ),
        trade_offs: "More log volume when many statements are slow; the logged SQL carries its \
                     values, so keep the logs as protected as the database.",
        metric: "`duration: ... ms statement:` lines in `heroku logs` (or the log drain) name the \
                 slow statements.",
        priority: Priority::Low,
    }
}

fn random_page_cost_fix(current: &str) -> SettingFix {
    let suggested = num(SSD_RANDOM_PAGE_COST);
    SettingFix {
        solution: format!(
            "ALTER ROLE CURRENT_USER SET random_page_cost = {suggested};\n-- new connections pick \
             it up: heroku ps:restart"
        ),
        impact: format!(
            "The planner prices a random read at {suggested} instead of {current} sequential \
             reads, so it picks index scans where they are faster on SSD."
        ),
        trade_offs: "Plans change: check EXPLAIN of the busiest queries before and after.",
        metric: "EXPLAIN of the slow queries shows Index Scan where it showed Seq Scan; their \
                 mean time in pg_stat_statements falls.",
        priority: Priority::Low,
    }
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

/// Beyond this, figures are shown in scientific notation, not 300 digits.
const PLAIN_LIMIT: f64 = 1e15;

/// Thousands separators on the integer part of a plain decimal string.
fn group(digits: &str) -> String {
    let (sign, digits) = digits
        .strip_prefix('-')
        .map_or(("", digits), |rest| ("-", rest));
    let (int_part, frac) = digits
        .split_once('.')
        .map_or((digits, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(frac) => format!("{sign}{grouped}.{frac}"),
        None => format!("{sign}{grouped}"),
    }
}

fn int(n: u64) -> String {
    group(&n.to_string())
}

/// At most `decimals` decimals, trailing zeros dropped, thousands grouped.
fn decimal(x: f64, decimals: usize) -> String {
    if x.abs() >= PLAIN_LIMIT {
        return format!("{x:.3e}");
    }
    let text = format!("{x:.decimals$}");
    let trimmed = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    match trimmed {
        "-0" => "0".to_string(),
        other => group(other),
    }
}

fn num(x: f64) -> String {
    decimal(x, 2)
}

/// Three decimals, for small figures like busy threads.
fn num3(x: f64) -> String {
    decimal(x, 3)
}

fn pct(share: f64) -> String {
    format!("{}%", num(share * 100.0))
}

fn money(amount: f64, currency: &str) -> String {
    let amount = if amount.abs() >= PLAIN_LIMIT {
        format!("{amount:.3e}")
    } else {
        group(&format!("{amount:.2}"))
    };
    if currency.eq_ignore_ascii_case("USD") {
        format!("${amount}")
    } else {
        format!("{amount} {currency}")
    }
}

/// `1 call`, `3 calls`, `2 processes`: a count with its word.
pub(super) fn plural(n: u64, word: &str) -> String {
    let suffix = if n == 1 {
        ""
    } else if word.ends_with('s') {
        "es"
    } else {
        "s"
    };
    format!("{} {word}{suffix}", int(n))
}
