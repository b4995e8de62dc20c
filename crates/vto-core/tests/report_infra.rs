//! The INFRASTRUCTURE section of the full report: connection budget, pool
//! mismatches, PgBouncer, capacity, Sidekiq queues, PostgreSQL settings and
//! their recommendations, on realistic Heroku deployments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use serde_json::{json, Value};
use vto_core::report::full::infra::{analyze, InfraInput, Infrastructure, UnitLoad};
use vto_core::report::full::model::{Effort, Priority, Recommendation};

const WINDOW: f64 = 60.0;

fn prices() -> Value {
    json!({"as_of": "2026-11-01", "currency": "USD",
           "dynos": {"basic": 7.0, "standard-1x": 25.0, "standard-2x": 50.0,
                     "performance-m": 250.0},
           "databases": {"essential-0": 5.0, "standard-0": 50.0}})
}

fn plan_limits() -> Value {
    json!({"essential-0": 20, "essential-1": 20, "standard-0": 120, "premium-0": 120})
}

fn pg_settings() -> Value {
    json!({"shared_buffers": "128MB", "work_mem": "4MB", "random_page_cost": "4",
           "effective_cache_size": "4GB", "statement_timeout": "0",
           "idle_in_transaction_session_timeout": "0", "log_min_duration_statement": "-1"})
}

/// 2 standard-1x web dynos x 2 Puma workers x 5 threads; 1 worker dyno with
/// concurrency 10 but a pool of 5; 1 one-off dyno; standard-0 (120, read
/// from the server).
fn standard() -> Value {
    json!({
        "web": {"dynos": 2, "workers": 2, "threads": 5, "dyno_type": "standard-1x"},
        "worker": {"dynos": 1, "concurrency": 10, "dyno_type": "standard-1x"},
        "one_off_dynos": 1,
        "database": {"max_connections": 120, "max_connections_source": "server",
                     "plan": "standard-0",
                     "pool_sizes": [{"process": "web", "pool": 5},
                                    {"process": "worker", "pool": 5}],
                     "pgbouncer": false, "settings": pg_settings()},
        "prices": prices(),
        "plan_limits": plan_limits()
    })
}

/// The same dynos on an essential-0 database (20 connections, from the plan).
fn essential() -> Value {
    let mut infra = standard();
    infra["database"] = json!({"max_connections": null, "plan": "essential-0",
        "pool_sizes": [{"process": "web", "pool": 5}, {"process": "worker", "pool": 5}],
        "pgbouncer": false, "settings": {}});
    infra
}

fn infra(value: Value) -> InfraInput {
    serde_json::from_value(value).unwrap()
}

fn unit(
    kind: &str,
    name: &str,
    count: u64,
    elapsed_ms: f64,
    max_ms: f64,
    queue: Option<&str>,
) -> UnitLoad {
    UnitLoad {
        kind: kind.to_string(),
        name: name.to_string(),
        count,
        elapsed_ms,
        max_elapsed_ms: max_ms,
        queue: queue.map(str::to_string),
    }
}

/// 120 requests, 7,440 ms in all (62 ms mean) over 60 s: 2 req/s.
fn requests() -> Vec<UnitLoad> {
    vec![
        unit(
            "request",
            "Api::V1::CompletedWorkoutsController#index",
            40,
            2400.0,
            150.0,
            None,
        ),
        unit(
            "request",
            "Api::V1::WorkoutsController#show",
            80,
            5040.0,
            300.0,
            None,
        ),
    ]
}

/// An AI job averaging 12 s among fast jobs.
fn jobs() -> Vec<UnitLoad> {
    vec![
        unit(
            "job",
            "CustomHealthProgramJob",
            4,
            48_000.0,
            15_000.0,
            Some("default"),
        ),
        unit(
            "job",
            "WorkoutReminderJob",
            30,
            1500.0,
            90.0,
            Some("critical"),
        ),
        unit("job", "AnalyticsJob", 10, 2000.0, 400.0, Some("default")),
        unit("job", "ReportJob", 2, 6000.0, 3500.0, Some("low")),
    ]
}

fn workload() -> Vec<UnitLoad> {
    requests().into_iter().chain(jobs()).collect()
}

fn run(value: Value, units: &[UnitLoad], window: f64) -> Infrastructure {
    analyze(&infra(value), units, window, "postgresql")
}

fn rec<'a>(out: &'a Infrastructure, category: &str) -> &'a Recommendation {
    out.recommendations
        .iter()
        .find(|r| r.category == category)
        .unwrap_or_else(|| panic!("no {category} recommendation in {:#?}", out.recommendations))
}

fn categories(out: &Infrastructure) -> Vec<&str> {
    out.recommendations
        .iter()
        .map(|r| r.category.as_str())
        .collect()
}

// --- connection budget -----------------------------------------------------

#[test]
fn budget_counts_every_process_pool_and_reserved_slots() {
    let out = run(standard(), &workload(), WINDOW);
    let budget = &out.connection_budget;
    let rows: Vec<(&str, u64, u64, u64)> = budget
        .rows
        .iter()
        .map(|r| (r.source.as_str(), r.processes, r.per_process, r.connections))
        .collect();
    assert_eq!(
        rows,
        [
            ("web", 4, 5, 20),
            ("worker", 1, 5, 5),
            ("one_off", 1, 5, 5),
            ("reserved", 1, 3, 3)
        ]
    );
    assert_eq!(budget.total, 33);
    assert_eq!(budget.max_connections, Some(120));
    assert_eq!(budget.max_connections_source.as_deref(), Some("server"));
    assert_eq!(budget.headroom, Some(87));
    assert_eq!(budget.verdict, "ok");
    assert_eq!(
        budget.rows[0].detail,
        "2 dynos x 2 Puma workers (cluster mode) = 4 processes, pool of 5 (5 threads) each = 20 \
         connections"
    );
    assert_eq!(
        budget.rows[1].detail,
        "1 dyno x 1 Sidekiq process = 1 process, pool of 5 (concurrency 10) each = 5 connections"
    );
    assert!(budget.rows[3]
        .detail
        .contains("so the app can open at most 117"));
}

#[test]
fn essential_plan_budget_is_over() {
    let out = run(essential(), &requests(), WINDOW);
    let budget = &out.connection_budget;
    // No reserved row: the plan's published limit is already the app's.
    assert_eq!(budget.rows.len(), 3);
    assert_eq!(budget.total, 30);
    assert_eq!(budget.max_connections, Some(20));
    assert_eq!(budget.max_connections_source.as_deref(), Some("plan"));
    assert_eq!(budget.headroom, Some(-10));
    assert_eq!(budget.verdict, "over");

    let r = rec(&out, "connection_budget");
    assert_eq!(r.id, "I1");
    assert_eq!(r.title, "Connection budget over: 30 of 20 connections");
    assert_eq!(r.priority, Priority::Critical);
    assert!(r.issue.contains(
        "Total 30 connections at full load, 150% of max_connections 20 (the essential-0 plan's \
         limit)"
    ));
    assert!(r.issue.contains("10 more than the database accepts"));
    assert!(r
        .solution
        .contains("move to the standard-0 plan (120 connections, $50.00/month): 30 / 120 = 25%"));
    assert_eq!(r.evidence, ["infrastructure:connection_budget"]);
    assert!(r.metric.contains("stay at or below 16"));
}

#[test]
fn tight_verdict_between_80_and_100_percent() {
    let mut value = standard();
    value["database"]["max_connections"] = json!(35); // 33 of 35 = 94%
    let out = run(value, &[], WINDOW);
    assert_eq!(out.connection_budget.verdict, "tight");
    assert_eq!(out.connection_budget.headroom, Some(2));
    let r = rec(&out, "connection_budget");
    assert_eq!(r.priority, Priority::High);
    assert!(r.issue.contains("only 2 spare"));
}

#[test]
fn unknown_max_connections_gives_unknown_verdict() {
    let mut value = standard();
    value["database"] = json!({"plan": "private-9", "pool_sizes": null, "settings": null});
    let out = run(value, &[], WINDOW);
    let budget = &out.connection_budget;
    assert_eq!(budget.max_connections, None);
    assert_eq!(budget.max_connections_source, None);
    assert_eq!(budget.headroom, None);
    assert_eq!(budget.verdict, "unknown");
    // Pools follow the threads when no pool_sizes are given: 4 x 5 + 1 x 10 + 1 x 5.
    assert_eq!(budget.total, 35);
    assert!(!out.pgbouncer.needed);
    assert!(out.pgbouncer.reason.contains("max_connections is unknown"));
    assert!(out.pgbouncer.reason.contains("private-9"));
    assert!(!categories(&out).contains(&"connection_budget"));
}

#[test]
fn single_mode_puma_and_missing_figures_use_named_defaults() {
    let value = json!({
        "web": {"dynos": 3, "workers": 0, "threads": 3},
        "worker": {"concurrency": null},
        "one_off_dynos": 2
    });
    let out = run(value, &[], WINDOW);
    let rows: Vec<(&str, u64, u64, u64)> = out
        .connection_budget
        .rows
        .iter()
        .map(|r| (r.source.as_str(), r.processes, r.per_process, r.connections))
        .collect();
    // Single mode: 1 process per dyno, pool = threads; the worker gets Rails' 5;
    // one-off dynos use the web's pool.
    assert_eq!(
        rows,
        [("web", 3, 3, 9), ("worker", 1, 5, 5), ("one_off", 2, 3, 6)]
    );
    let web = &out.connection_budget.rows[0].detail;
    assert!(
        web.contains("1 Puma process (single mode, workers 0)"),
        "{web}"
    );
    let worker = &out.connection_budget.rows[1].detail;
    assert!(
        worker.contains("1 dyno (dynos not given, 1 assumed)"),
        "{worker}"
    );
    assert!(
        worker.contains("Rails' default RAILS_MAX_THREADS of 5"),
        "{worker}"
    );
    assert_eq!(out.connection_budget.verdict, "unknown");
}

// --- pool mismatches -------------------------------------------------------

#[test]
fn worker_pool_below_concurrency_is_a_mismatch() {
    let out = run(standard(), &workload(), WINDOW);
    assert_eq!(out.pool_mismatches.len(), 1);
    let m = &out.pool_mismatches[0];
    assert_eq!((m.process.as_str(), m.pool, m.needed), ("worker", 5, 10));
    assert!(m
        .message
        .starts_with("worker pool 5 < Sidekiq concurrency 10: at full load 5 of the 10 threads"));
    assert!(m.message.contains("ActiveRecord::ConnectionTimeoutError"));

    let r = rec(&out, "connection_budget");
    assert_eq!(r.id, "I1");
    assert_eq!(
        r.title,
        "Raise the worker pool from 5 to 10 (Sidekiq concurrency 10)"
    );
    assert_eq!(r.priority, Priority::High);
    assert_eq!(r.effort, Effort::Minutes);
    assert!(r
        .solution
        .contains("worker: RAILS_MAX_THREADS=10 bundle exec sidekiq -C config/sidekiq.yml"));
    assert!(r
        .impact
        .summary
        .contains("the budget grows by 5 connections"));
    assert_eq!(r.evidence, ["infrastructure:pool_mismatches:worker"]);
}

#[test]
fn web_pool_far_above_threads_is_a_mismatch() {
    let mut value = standard();
    value["database"]["pool_sizes"] =
        json!([{"process": "web", "pool": 20}, {"process": "worker", "pool": 10}]);
    let out = run(value, &[], WINDOW);
    assert_eq!(out.pool_mismatches.len(), 1);
    let m = &out.pool_mismatches[0];
    assert_eq!((m.process.as_str(), m.pool, m.needed), ("web", 20, 5));
    assert!(
        m.message
            .contains("15 slots per process x 4 processes = 60 connections"),
        "{}",
        m.message
    );
    // 4 x 20 + 10 + 1 x 20 (one-off uses the web pool) + 3 reserved.
    assert_eq!(out.connection_budget.total, 113);
    let r = out
        .recommendations
        .iter()
        .find(|r| r.title.starts_with("Shrink"))
        .unwrap();
    assert_eq!(r.title, "Shrink the web pool from 20 to 5 (Puma threads 5)");
    assert_eq!(
        r.impact.summary,
        "Frees 15 x 4 = 60 connections of the budget."
    );
    assert_eq!(r.priority, Priority::Low);
}

// --- PgBouncer -------------------------------------------------------------

#[test]
fn pgbouncer_not_needed_states_the_figures() {
    let out = run(standard(), &workload(), WINDOW);
    assert!(!out.pgbouncer.needed);
    assert_eq!(out.pgbouncer.config, None);
    assert_eq!(
        out.pgbouncer.reason,
        "Not needed yet: 33 of 120 connections (27.5%, ok), and one more web dyno adds 10 \
         connections, 43 of 120, still within the limit."
    );
    assert!(!categories(&out).contains(&"pgbouncer"));
}

#[test]
fn pgbouncer_config_is_computed_from_the_budget() {
    let out = run(essential(), &requests(), WINDOW);
    let bouncer = &out.pgbouncer;
    assert!(bouncer.needed);
    // (20 - 5 one-off) x 80% = 12 server connections over 3 dynos + 1 = 3 each;
    // the busiest dyno has 2 Puma workers x pool 5 = 10 clients.
    assert!(bouncer
        .reason
        .contains("(20 - 5 direct one-off/reserved) x 80% = 12 server connections"));
    assert!(bouncer.reason.contains("PGBOUNCER_DEFAULT_POOL_SIZE 3"));
    assert!(bouncer.reason.contains("3 x 3 + 5 direct = 14 of 20"));
    let config = bouncer.config.as_deref().unwrap();
    for needle in [
        "heroku buildpacks:add --index 1 heroku/pgbouncer",
        "web: bin/start-pgbouncer bundle exec puma -C config/puma.rb",
        "worker: bin/start-pgbouncer bundle exec sidekiq -C config/sidekiq.yml",
        "PGBOUNCER_DEFAULT_POOL_SIZE=3",
        "PGBOUNCER_MAX_CLIENT_CONN=10",
        "prepared_statements: false",
        "advisory_locks: false",
        "LISTEN/NOTIFY",
        "SET LOCAL",
    ] {
        assert!(config.contains(needle), "{needle} missing from\n{config}");
    }

    // I1 budget, I2 worker pool, I3 PgBouncer (after the pool fix).
    assert_eq!(
        categories(&out),
        ["connection_budget", "connection_budget", "pgbouncer"]
    );
    let r = rec(&out, "pgbouncer");
    assert_eq!(r.id, "I3");
    assert_eq!(r.depends_on, ["I2"]);
    assert_eq!(r.priority, Priority::High);
    assert_eq!(
        r.impact.summary,
        "The database sees at most 14 of 20 connections instead of 30; one more dyno adds 3: 17."
    );
    assert_eq!(r.solution, config);
}

#[test]
fn pgbouncer_needed_when_one_more_web_dyno_would_pass_the_limit() {
    let value = json!({
        "web": {"dynos": 2, "workers": 3, "threads": 10, "dyno_type": "standard-2x"},
        "worker": {"dynos": 2, "concurrency": 10, "dyno_type": "standard-1x"},
        "database": {"plan": "custom-100"},
        "plan_limits": {"custom-100": 100}
    });
    let out = run(value, &[], WINDOW);
    // 2 x 3 x 10 + 2 x 10 = 80 of 100: ok, but a third web dyno adds 30.
    assert_eq!(out.connection_budget.total, 80);
    assert_eq!(out.connection_budget.verdict, "ok");
    assert!(out.pgbouncer.needed);
    assert!(out.pgbouncer.reason.starts_with(
        "80 of 100 connections (80%, ok), but one more web dyno adds 30 connections, 110 of 100: \
         past the limit."
    ));
    assert_eq!(rec(&out, "pgbouncer").priority, Priority::Medium);
    assert!(!categories(&out).contains(&"connection_budget"));
}

#[test]
fn pgbouncer_already_in_use_is_not_recommended_again() {
    let mut value = essential();
    value["database"]["pgbouncer"] = json!(true);
    let out = run(value, &[], WINDOW);
    assert!(!out.pgbouncer.needed);
    assert!(out
        .pgbouncer
        .reason
        .starts_with("PgBouncer is already in front of the database"));
    assert_eq!(out.connection_budget.verdict, "over");
    let cats = categories(&out);
    assert!(!cats.contains(&"pgbouncer"));
    assert_eq!(cats, ["connection_budget"]); // only the worker pool mismatch
}

// --- capacity --------------------------------------------------------------

#[test]
fn capacity_from_littles_law() {
    let out = run(standard(), &workload(), WINDOW);
    let c = &out.capacity;
    assert_eq!(c.requests_per_second, Some(2.0));
    assert_eq!(c.mean_latency_ms, Some(62.0));
    assert_eq!(c.busy_threads, Some(0.124));
    assert_eq!(c.threads_available, Some(20));
    assert_eq!(c.utilization, Some(0.0062));
    // ceil(0.124 / (2 x 5 x 0.5)) = 1
    assert_eq!(c.dynos_needed, Some(1));
    assert_eq!(c.dynos_configured, Some(2));
    assert_eq!(c.dyno_type.as_deref(), Some("standard-1x"));
    // 1 x 25 (web) + 1 x 25 (worker) + 50 (standard-0)
    assert_eq!(c.monthly_cost_usd, Some(100.0));
    assert_eq!(c.prices_as_of.as_deref(), Some("2026-11-01"));
    assert!(c.reasoning.starts_with(
        "120 requests over 60 s = 2 req/s; mean latency 7,440 ms / 120 = 62 ms. Little's law: \
         busy threads = 2 req/s x 0.062 s = 0.124."
    ));
    assert!(c
        .reasoning
        .contains("so dynos needed = ceil(0.124 / 5) = 1 (at least 1)"));
    assert!(c
        .reasoning
        .contains("As configured: 2 web dynos x standard-1x $25.00"));
    assert!(c.reasoning.contains("= $125.00/month"));
    // One dyno of difference is not worth a recommendation.
    assert!(!categories(&out).contains(&"capacity"));
}

#[test]
fn over_provisioned_web_reports_the_monthly_saving() {
    let mut value = standard();
    value["web"]["dynos"] = json!(6);
    let out = run(value, &requests(), WINDOW);
    assert_eq!(out.capacity.dynos_needed, Some(1));
    assert_eq!(out.capacity.dynos_configured, Some(6));
    let r = rec(&out, "capacity");
    assert_eq!(r.title, "Scale web from 6 to 1 dynos");
    assert_eq!(r.solution, "heroku ps:scale web=1");
    assert_eq!(r.impact.summary, "Saves 5 x $25.00 = $125.00/month.");
    assert_eq!(r.priority, Priority::Medium);
    assert_eq!(r.evidence, ["infrastructure:capacity"]);
}

#[test]
fn under_provisioned_web_reports_the_extra_cost() {
    let mut value = standard();
    value["web"]["dynos"] = json!(1);
    // 3,000 requests of 400 ms over 60 s: 50 req/s x 0.4 s = 20 busy threads.
    let units = [unit(
        "request",
        "Api::V1::WorkoutsController#index",
        3000,
        1_200_000.0,
        900.0,
        None,
    )];
    let out = run(value, &units, WINDOW);
    let c = &out.capacity;
    assert_eq!(c.busy_threads, Some(20.0));
    assert_eq!(c.utilization, Some(2.0));
    assert_eq!(c.dynos_needed, Some(4)); // ceil(20 / 5)
                                         // 4 x 25 + 25 + 50
    assert_eq!(c.monthly_cost_usd, Some(175.0));
    let r = rec(&out, "capacity");
    assert_eq!(r.title, "Scale web from 1 to 4 dynos");
    assert_eq!(r.priority, Priority::High);
    assert!(r
        .impact
        .summary
        .contains("costs 3 x $25.00 = $75.00/month more"));
}

#[test]
fn zero_window_keeps_the_configured_dynos() {
    let out = run(standard(), &workload(), 0.0);
    let c = &out.capacity;
    assert_eq!(c.requests_per_second, None);
    assert_eq!(c.busy_threads, None);
    assert_eq!(c.utilization, None);
    assert_eq!(c.dynos_needed, Some(2));
    assert_eq!(c.monthly_cost_usd, Some(125.0));
    assert!(c.reasoning.starts_with(
        "No measured load: the workload window is 0 s, so 120 requests give no rate."
    ));
    assert!(c
        .reasoning
        .contains("without measured load the configured 2 dynos are kept"));
    assert!(!categories(&out).contains(&"capacity"));
}

#[test]
fn no_requests_is_no_measured_load() {
    let out = run(standard(), &jobs(), WINDOW);
    let c = &out.capacity;
    assert_eq!(c.requests_per_second, Some(0.0));
    assert_eq!(c.mean_latency_ms, None);
    assert_eq!(c.busy_threads, None);
    assert_eq!(c.dynos_needed, Some(2));
    assert!(c
        .reasoning
        .starts_with("No measured load: the workload has no requests."));
}

#[test]
fn missing_prices_give_a_null_cost() {
    let mut value = standard();
    value["prices"] = Value::Null;
    let out = run(value, &workload(), WINDOW);
    assert_eq!(out.capacity.monthly_cost_usd, None);
    assert_eq!(out.capacity.prices_as_of, None);
    assert!(out
        .capacity
        .reasoning
        .contains("Monthly cost not computed: no prices given."));

    let mut value = standard();
    value["web"]["dyno_type"] = json!("performance-l");
    let out = run(value, &workload(), WINDOW);
    assert_eq!(out.capacity.monthly_cost_usd, None);
    assert!(out
        .capacity
        .reasoning
        .contains("Monthly cost not computed: no price for performance-l dynos."));
}

// --- Sidekiq ---------------------------------------------------------------

#[test]
fn slow_ai_job_gets_a_long_running_queue() {
    let out = run(standard(), &workload(), WINDOW);
    let queues: Vec<(&str, Vec<&str>, u64, u64)> = out
        .sidekiq
        .queues
        .iter()
        .map(|q| {
            (
                q.name.as_str(),
                q.jobs.iter().map(String::as_str).collect(),
                q.concurrency,
                q.weight,
            )
        })
        .collect();
    assert_eq!(
        queues,
        [
            ("critical", vec!["WorkoutReminderJob"], 9, 3),
            ("default", vec!["AnalyticsJob", "ReportJob"], 9, 1),
            ("long_running", vec!["CustomHealthProgramJob"], 1, 1),
        ]
    );
    // 4 x 12 s / 60 s = 0.8 busy threads -> 1, under the cap of 10 / 2 = 5.
    let long = &out.sidekiq.queues[2];
    assert!(
        long.reason
            .contains("CustomHealthProgramJob 0.067/s x 12 s = 0.8 busy threads"),
        "{}",
        long.reason
    );
    assert!(long.reason.contains("capped at half of 10 = 5: 1"));
    assert_eq!(
        out.sidekiq.config.as_deref().unwrap(),
        "# config/sidekiq.yml (the worker dyno)\n:concurrency: 9\n:queues:\n  - [critical, \
         3]\n  - [default, 1]\n\n# config/sidekiq_long_running.yml (its own dyno)\n:concurrency: \
         1\n:queues:\n  - long_running\n\n# Procfile (database.yml pool: <%= \
         ENV.fetch(\"RAILS_MAX_THREADS\", 5) %> matches each process)\nworker: \
         RAILS_MAX_THREADS=9 bundle exec sidekiq -C config/sidekiq.yml\nlong_worker: \
         RAILS_MAX_THREADS=1 bundle exec sidekiq -C config/sidekiq_long_running.yml"
    );
    assert!(out
        .sidekiq
        .reasoning
        .contains("A separate Sidekiq process (dyno) for long_running keeps slow jobs"));
    assert!(out
        .sidekiq
        .reasoning
        .contains("Threads split 10 -> 9 (critical/default) + 1 (long_running)"));

    let r = rec(&out, "sidekiq_queues");
    assert_eq!(r.id, "I2");
    assert_eq!(
        r.title,
        "Move CustomHealthProgramJob to a long_running queue with its own Sidekiq process"
    );
    assert_eq!(
        r.evidence,
        ["unit:CustomHealthProgramJob", "infrastructure:sidekiq"]
    );
    assert!(r.solution.contains("queue_as :long_running"));
    assert!(r
        .trade_offs
        .starts_with("A second worker dyno costs $25.00/month"));
    assert_eq!(r.location.as_deref(), Some("config/sidekiq.yml"));
}

#[test]
fn long_running_concurrency_is_capped_at_half_the_threads() {
    // 60 runs x 10 s over 60 s = 10 busy threads; the cap is 10 / 2 = 5.
    let units = [
        unit(
            "job",
            "MealPlanGenerationJob",
            60,
            600_000.0,
            14_000.0,
            Some("default"),
        ),
        unit("job", "PushNotificationJob", 100, 2000.0, 60.0, None),
    ];
    let out = run(standard(), &units, WINDOW);
    let names: Vec<(&str, u64)> = out
        .sidekiq
        .queues
        .iter()
        .map(|q| (q.name.as_str(), q.concurrency))
        .collect();
    assert_eq!(names, [("default", 5), ("long_running", 5)]);
    let long = &out.sidekiq.queues[1];
    assert!(long
        .reason
        .contains("= 10 busy threads, max(1, ceil) = 10, capped at half of 10 = 5: 5"));
}

#[test]
fn long_job_without_a_window_gets_one_thread() {
    let out = run(standard(), &jobs(), 0.0);
    let long = out
        .sidekiq
        .queues
        .iter()
        .find(|q| q.name == "long_running")
        .unwrap();
    assert_eq!(long.concurrency, 1);
    assert!(long
        .reason
        .contains("no window to measure arrival rates, so 1 thread"));
}

#[test]
fn fast_jobs_only_need_no_recommendation() {
    let units = [unit(
        "job",
        "WorkoutReminderJob",
        30,
        1500.0,
        90.0,
        Some("critical"),
    )];
    let mut value = standard();
    value["worker"]["concurrency"] = Value::Null;
    let out = run(value, &units, WINDOW);
    assert_eq!(out.sidekiq.queues.len(), 1);
    assert_eq!(out.sidekiq.queues[0].concurrency, 5); // Sidekiq's default, named
    assert!(out
        .sidekiq
        .reasoning
        .contains("Sidekiq's default of 5 assumed"));
    assert!(out
        .sidekiq
        .reasoning
        .contains("No job averages 5,000 ms or more"));
    assert!(!categories(&out).contains(&"sidekiq_queues"));
}

#[test]
fn no_jobs_no_queues() {
    let out = run(standard(), &requests(), WINDOW);
    assert!(out.sidekiq.queues.is_empty());
    assert_eq!(out.sidekiq.config, None);
    assert_eq!(
        out.sidekiq.reasoning,
        "No job units in the workload: no Sidekiq queue layout to suggest."
    );
}

// --- PostgreSQL settings ---------------------------------------------------

#[test]
fn postgres_settings_with_reasons() {
    let out = run(standard(), &workload(), WINDOW);
    let settings: Vec<(&str, &str, &str)> = out
        .postgres_settings
        .iter()
        .map(|s| (s.name.as_str(), s.current.as_str(), s.suggested.as_str()))
        .collect();
    assert_eq!(
        settings,
        [
            ("statement_timeout", "0", "30s"),
            ("idle_in_transaction_session_timeout", "0", "60s"),
            ("log_min_duration_statement", "-1", "500ms"),
            ("random_page_cost", "4", "1.1"),
        ]
    );
    let timeout = &out.postgres_settings[0].reason;
    assert!(
        timeout.contains("took 300 ms end to end, so 30 s leaves it 100x room"),
        "{timeout}"
    );
    assert!(timeout.contains("variables: { statement_timeout: 30000 }"));
    assert!(out.postgres_settings[1]
        .reason
        .contains("CustomHealthProgramJob averages 12,000 ms"));
    assert!(out.postgres_settings[3].reason.contains("SSD"));

    // I1 pool, I2 Sidekiq, I3..I6 the settings.
    let ids: Vec<(&str, &str)> = out
        .recommendations
        .iter()
        .map(|r| (r.id.as_str(), r.category.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("I1", "connection_budget"),
            ("I2", "sidekiq_queues"),
            ("I3", "postgres_setting"),
            ("I4", "postgres_setting"),
            ("I5", "postgres_setting"),
            ("I6", "postgres_setting"),
        ]
    );
    let r = &out.recommendations[2];
    assert_eq!(r.title, "Set statement_timeout to 30s (now 0)");
    assert!(r
        .solution
        .contains("statement_timeout: <%= ENV.fetch(\"DB_STATEMENT_TIMEOUT\", 30000) %>"));
    assert_eq!(
        r.evidence,
        ["infrastructure:postgres_settings:statement_timeout"]
    );
    assert!(out.recommendations[4]
        .solution
        .starts_with("heroku pg:settings:log-min-duration-statement 500"));
}

#[test]
fn settings_only_for_postgresql_and_only_when_off() {
    let out = analyze(&infra(standard()), &workload(), WINDOW, "mysql");
    assert!(out.postgres_settings.is_empty());
    // The reserved slots are PostgreSQL's.
    assert!(out
        .connection_budget
        .rows
        .iter()
        .all(|r| r.source != "reserved"));

    let mut value = standard();
    value["database"]["settings"] = json!({"statement_timeout": "30s",
        "idle_in_transaction_session_timeout": "1min",
        "log_min_duration_statement": "250ms", "random_page_cost": "1.1"});
    assert!(run(value, &workload(), WINDOW).postgres_settings.is_empty());
}

#[test]
fn settings_behind_pgbouncer_use_role_defaults() {
    let mut value = essential();
    value["database"]["settings"] = json!({"statement_timeout": "0"});
    let out = run(value, &[], WINDOW);
    let r = rec(&out, "postgres_setting");
    assert!(
        r.solution
            .contains("ALTER ROLE CURRENT_USER SET statement_timeout = '30s';"),
        "{}",
        r.solution
    );
}

// --- the whole section -----------------------------------------------------

#[test]
fn every_recommendation_is_filled_in() {
    let mut value = essential();
    value["database"]["settings"] = pg_settings();
    value["web"]["dynos"] = json!(6);
    let out = run(value, &workload(), WINDOW);
    assert_eq!(
        categories(&out),
        [
            "connection_budget",
            "connection_budget",
            "pgbouncer",
            "capacity",
            "sidekiq_queues",
            "postgres_setting",
            "postgres_setting",
            "postgres_setting",
            "postgres_setting",
        ]
    );
    for (i, r) in out.recommendations.iter().enumerate() {
        assert_eq!(r.id, format!("I{}", i + 1));
        for (field, text) in [
            ("title", &r.title),
            ("issue", &r.issue),
            ("impact", &r.impact.summary),
            ("solution", &r.solution),
            ("trade_offs", &r.trade_offs),
            ("metric", &r.metric),
        ] {
            assert!(!text.trim().is_empty(), "{} has an empty {field}", r.id);
        }
        assert!(r.location.is_some(), "{}", r.id);
        assert!(!r.evidence.is_empty(), "{}", r.id);
    }
}

#[test]
fn serializes_to_the_contract_shape() {
    let out = run(standard(), &workload(), WINDOW);
    let value = serde_json::to_value(&out).unwrap();
    for key in [
        "connection_budget",
        "pool_mismatches",
        "pgbouncer",
        "capacity",
        "sidekiq",
        "postgres_settings",
        "recommendations",
    ] {
        assert!(value.get(key).is_some(), "missing {key}");
    }
    assert_eq!(value["connection_budget"]["rows"][0]["source"], "web");
    assert_eq!(value["connection_budget"]["headroom"], 87);
    assert_eq!(value["pgbouncer"]["config"], Value::Null);
    assert_eq!(value["capacity"]["monthly_cost_usd"], 100.0);
    assert_eq!(value["sidekiq"]["queues"][2]["name"], "long_running");
    assert_eq!(value["recommendations"][0]["priority"], "high");
    assert_eq!(value["recommendations"][0]["effort"], "minutes");
    assert_eq!(
        value["recommendations"][0]["impact"]["ms_saved_total"],
        Value::Null
    );
}

#[test]
fn empty_input_gives_an_empty_section() {
    let out = analyze(&InfraInput::default(), &[], 0.0, "");
    assert!(out.connection_budget.rows.is_empty());
    assert_eq!(out.connection_budget.total, 0);
    assert_eq!(out.connection_budget.verdict, "unknown");
    assert!(!out.pgbouncer.needed);
    assert_eq!(out.capacity.dynos_needed, None);
    assert_eq!(out.capacity.monthly_cost_usd, None);
    assert!(out
        .capacity
        .reasoning
        .contains("No web process in the input"));
    assert!(out.sidekiq.queues.is_empty());
    assert!(out.postgres_settings.is_empty());
    assert!(out.recommendations.is_empty());
}

#[test]
fn wrong_typed_values_count_as_unknown() {
    let value = json!({
        "web": {"dynos": 2.0, "workers": "2", "threads": null, "dyno_type": 7, "extra": true},
        "worker": "sidekiq",
        "one_off_dynos": -1,
        "database": {"max_connections": "120", "pool_sizes": [{"process": "web", "pool": "x"}, 3],
                     "pgbouncer": "false", "settings": {"statement_timeout": 0, "work_mem": null}},
        "prices": {"dynos": null, "databases": {"standard-0": "fifty"}},
        "plan_limits": {"essential-0": 20, "broken": "abc"},
        "unknown_section": [1, 2, 3]
    });
    let parsed = infra(value);
    let web = parsed.web.as_ref().unwrap();
    assert_eq!(
        (web.dynos, web.workers, web.threads),
        (Some(2), Some(2), None)
    );
    assert_eq!(web.dyno_type.as_deref(), Some("7"));
    assert!(parsed.worker.is_none());
    assert_eq!(parsed.one_off_dynos, None);
    let db = parsed.database.as_ref().unwrap();
    assert_eq!(db.max_connections, Some(120));
    assert_eq!(db.pool_sizes.len(), 1);
    assert_eq!(db.pool_sizes[0].pool, None);
    assert_eq!(db.pgbouncer, Some(false));
    assert_eq!(
        db.settings.get("statement_timeout").map(String::as_str),
        Some("0")
    );
    assert!(!db.settings.contains_key("work_mem"));
    assert!(parsed.prices.as_ref().unwrap().databases.is_empty());
    assert_eq!(parsed.plan_limits.len(), 1);

    let out = analyze(&parsed, &[], WINDOW, "postgresql");
    // 2 dynos x 2 workers x Rails' pool of 5; no reserved row, the limit's source is not "server".
    assert_eq!(out.connection_budget.total, 20);
    assert_eq!(out.postgres_settings.len(), 1);
}

#[test]
fn null_infrastructure_parts_deserialize() {
    let parsed: InfraInput = serde_json::from_str(
        r#"{"web": null, "worker": null, "one_off_dynos": null, "database": null,
            "prices": null, "plan_limits": null}"#,
    )
    .unwrap();
    assert!(parsed.web.is_none() && parsed.database.is_none() && parsed.plan_limits.is_empty());
}

#[test]
fn hostile_figures_stay_finite() {
    let units = [
        unit("request", "X#y", u64::MAX, 1e308, f64::NAN, None),
        unit("request", "X#z", u64::MAX, 1e308, f64::INFINITY, None),
        unit("job", "HugeJob", u64::MAX, 1e308, 1e308, Some("critical")),
        unit("job", "OtherHugeJob", 1, 1e308, -1.0, None),
        unit("job", "", 0, f64::NAN, 0.0, None),
    ];
    let mut value = standard();
    value["web"]["dynos"] = json!(u64::MAX);
    value["web"]["threads"] = json!(u64::MAX);
    value["one_off_dynos"] = json!(1e300);
    for window in [f64::NAN, -5.0, 1e-300, f64::INFINITY, 60.0] {
        let out = run(value.clone(), &units, window);
        let text = serde_json::to_string(&out).unwrap();
        let words: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        assert!(
            !words.contains(&"NaN") && !words.contains(&"inf"),
            "window {window}: {text}"
        );
        // A figure the window cannot give is null, never a non-finite number.
        let rps = out.capacity.requests_per_second;
        assert!(rps.is_none_or(f64::is_finite), "window {window}: {rps:?}");
        assert_eq!(rps.is_some(), window.is_finite() && window > 0.0);
    }
}
