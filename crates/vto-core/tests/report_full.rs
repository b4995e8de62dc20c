//! The full report through its public API, from the JSON the Ruby side
//! sends for the Virtual Trainer app: the assessment's figures, every
//! optimization and governance rule, the roadmap's order, malformed and
//! empty input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use serde_json::{json, Value};
use vto_core::report::full::{build, build_json, render_json, Input};
use vto_core::Error;

const COMPLETED: &str = "Api::V1::CompletedWorkoutsController#index";
const TEAM_STATS: &str = "Api::V1::TeamStatisticsController#show";
const DASHBOARD: &str = "Api::V1::DashboardsController#show";
const EXERCISES: &str = "Api::V1::ExercisesController#index";
const SESSIONS: &str = "Api::V1::WorkoutSessionsController#create";
const HEALTH_JOB: &str = "CustomHealthProgramJob";

const FP_WORKOUT: &str = "ab12cd34ef56ab78";
const FP_MEMBER_COUNT: &str = "1c2d3e4f5a6b7c8d";
const FP_BY_USER: &str = "65480462680d0787";
const FP_EXERCISES: &str = "9f86d081884c7d65";
const FP_CATEGORIES: &str = "0a1b2c3d4e5f6a7b";

const INCLUDES: &str =
    "CompletedWorkout.includes(:workout) (or preload) where the completed workouts are loaded";
const COUNTER_CACHE: &str =
    "counter cache: `belongs_to :team, counter_cache: true` in TeamMembership with \
    `add_column :teams, :team_memberships_count, :integer, default: 0, null: false`, then \
    `team_memberships.size`; or Team.includes(:team_memberships) and `.size`";
const FK_MIGRATION: &str =
    "class AddIndexCompletedWorkoutsOnUserId < ActiveRecord::Migration[7.1]\n  \
    disable_ddl_transaction!\n\n  def change\n    add_index :completed_workouts, :user_id, \
    algorithm: :concurrently\n  end\nend\n";
const DROP_MIGRATION: &str = "class RemoveIndexTeamMembershipsOnTeamId < ActiveRecord::Migration[7.1]\n  \
    def change\n    remove_index :team_memberships, name: \"index_team_memberships_on_team_id\"\n  end\nend\n";

fn unit(kind: &str, name: &str, count: u64, elapsed: f64, extra: Value) -> Value {
    let mut u = json!({"kind": kind, "name": name, "count": count, "elapsed_ms": elapsed});
    for (k, v) in extra.as_object().unwrap() {
        u[k] = v.clone();
    }
    u
}

fn fp(
    id: &str,
    sql: &str,
    statement: &str,
    tables: &[&str],
    units: &[(&str, u64)],
    total_ms: f64,
) -> Value {
    let calls: u64 = units.iter().map(|(_, c)| c).sum();
    let units: Vec<Value> = units
        .iter()
        .map(|(name, c)| {
            json!({"kind": "request", "name": name, "calls": c,
                                "total_ms": total_ms * *c as f64 / calls.max(1) as f64})
        })
        .collect();
    json!({"fingerprint": id, "sql": sql, "calls": calls, "total_ms": total_ms, "statement": statement,
           "tables": tables, "units": units, "call_sites": ["app/controllers/api/v1/base_controller.rb:7"]})
}

/// A ten-minute recording of the Virtual Trainer API, with what the
/// detectors, the index advisor and the retention check found in it.
fn virtual_trainer() -> Value {
    json!({
      "app": "Virtual Trainer",
      "generated_at": "2026-11-26T12:00:00Z",
      "dialect": "postgresql",
      "workload": {
        "source": "jsonl",
        "window_seconds": 600.0,
        "units": [
          unit("request", COMPLETED, 40, 2400.0, json!({"queries": 1240, "db_ms": 800.0, "max_elapsed_ms": 150.0,
                                                        "view_ms": 900.0, "method": "GET"})),
          unit("request", TEAM_STATS, 20, 2000.0, json!({"queries": 520, "db_ms": 1400.0, "max_elapsed_ms": 260.0,
                                                         "view_ms": 100.0, "method": "GET"})),
          unit("request", DASHBOARD, 30, 3000.0, json!({"queries": 300, "db_ms": 300.0, "max_elapsed_ms": 180.0,
                                                        "view_ms": 2100.0, "method": "GET"})),
          unit("request", EXERCISES, 50, 1500.0, json!({"queries": 100, "db_ms": 150.0, "max_elapsed_ms": 60.0,
                                                        "view_ms": 600.0, "method": "GET"})),
          unit("request", SESSIONS, 10, 9000.0, json!({"queries": 400, "db_ms": 2500.0, "max_elapsed_ms": 2000.0,
                                                       "view_ms": 50.0, "method": "POST"})),
          unit("job", HEALTH_JOB, 2, 24000.0, json!({"queries": 400, "db_ms": 6000.0, "max_elapsed_ms": 15000.0,
                                                     "queue": "default"})),
          unit("job", "SendReminderJob", 100, 3000.0, json!({"queries": 200, "db_ms": 900.0, "max_elapsed_ms": 90.0,
                                                             "queue": "default"}))
        ],
        "fingerprints": [
          fp(FP_WORKOUT, "SELECT \"workouts\".* FROM \"workouts\" WHERE \"workouts\".\"id\" = ? LIMIT ?",
             "select", &["workouts"], &[(COMPLETED, 1200)], 340.0),
          fp(FP_MEMBER_COUNT, "SELECT COUNT(*) FROM \"team_memberships\" WHERE \"team_memberships\".\"team_id\" = ?",
             "select", &["team_memberships"], &[(TEAM_STATS, 500)], 900.0),
          fp(FP_BY_USER, "SELECT \"completed_workouts\".* FROM \"completed_workouts\" WHERE \"completed_workouts\".\"user_id\" = ? ORDER BY \"completed_workouts\".\"created_at\" DESC LIMIT ?",
             "select", &["completed_workouts"], &[(DASHBOARD, 30), (COMPLETED, 10)], 1600.0),
          fp(FP_EXERCISES, "SELECT \"exercises\".* FROM \"exercises\" ORDER BY \"exercises\".\"name\" ASC",
             "select", &["exercises"], &[(EXERCISES, 50), (DASHBOARD, 30)], 160.0),
          fp(FP_CATEGORIES, "SELECT \"exercise_categories\".* FROM \"exercise_categories\"",
             "select", &["exercise_categories"], &[(EXERCISES, 20)], 20.0),
          fp("aaaaaaaaaaaaaaa1", "SELECT \"teams\".* FROM \"teams\" WHERE \"teams\".\"id\" = ? LIMIT ?",
             "select", &["teams"], &[(TEAM_STATS, 20)], 10.0),
          fp("aaaaaaaaaaaaaaa2", "INSERT INTO \"api_request_logs\" (\"path\", \"user_id\", \"created_at\") VALUES (?, ?, ?)",
             "insert", &["api_request_logs"], &[(COMPLETED, 300), (DASHBOARD, 300)], 120.0),
          fp("aaaaaaaaaaaaaaa3", "UPDATE \"exercises\" SET \"name\" = ?, \"updated_at\" = ? WHERE \"exercises\".\"id\" = ?",
             "update", &["exercises"], &[("Admin::ExercisesController#update", 2)], 3.0),
          fp("aaaaaaaaaaaaaaa4", "INSERT INTO \"completed_workouts\" (\"user_id\", \"workout_id\", \"created_at\") VALUES (?, ?, ?)",
             "insert", &["completed_workouts"], &[(SESSIONS, 40)], 60.0)
        ]
      },
      "findings": [
        {"kind": "n_plus_one", "fingerprint": FP_WORKOUT, "count": 30, "occurrences": 40,
         "location": "app/controllers/api/v1/completed_workouts_controller.rb:12", "suggestion": INCLUDES,
         "priority": "critical", "total_ms": 8.5, "max_ms": 0.9, "scope_kind": "request", "scope_name": COMPLETED,
         "table": "workouts", "column": "id"},
        {"kind": "n_plus_one", "fingerprint": FP_MEMBER_COUNT, "count": 25, "occurrences": 20,
         "location": "app/controllers/api/v1/team_statistics_controller.rb:18", "suggestion": COUNTER_CACHE,
         "priority": "high", "total_ms": 45.0, "max_ms": 3.1, "scope_kind": "request", "scope_name": TEAM_STATS,
         "table": "team_memberships", "column": "team_id"},
        {"kind": "slow_query", "fingerprint": FP_BY_USER, "count": 1, "occurrences": 3,
         "location": "app/controllers/api/v1/dashboards_controller.rb:20",
         "suggestion": "120.0 ms: check its plan with EXPLAIN ANALYZE; completed_workouts.user_id has no index: add_index :completed_workouts, :user_id",
         "priority": "critical", "total_ms": 120.0, "max_ms": 120.0, "scope_kind": "request", "scope_name": DASHBOARD,
         "table": null, "column": null},
        {"kind": "duplicate_query", "fingerprint": FP_WORKOUT, "count": 3, "occurrences": 10,
         "location": "app/controllers/api/v1/dashboards_controller.rb:9", "suggestion": null,
         "priority": "low", "total_ms": 0.9, "scope_kind": "request", "scope_name": DASHBOARD, "table": "workouts"}
      ],
      "schema": {"tables": [
        {"name": "users", "rows": 5000, "size_bytes": 1200000},
        {"name": "workouts", "rows": 1200, "size_bytes": 81920},
        {"name": "completed_workouts", "rows": 250000, "size_bytes": 41943040},
        {"name": "api_request_logs", "rows": 3000000, "size_bytes": 734003200},
        {"name": "exercises", "rows": 300, "size_bytes": 65536},
        {"name": "exercise_categories", "rows": 12, "size_bytes": 8192},
        {"name": "team_memberships", "rows": 5000, "size_bytes": 409600},
        {"name": "teams", "rows": 200, "size_bytes": 16384},
        {"name": "injuries", "rows": 800, "size_bytes": 131072}
      ]},
      "indexes": [
        {"kind": "missing_foreign_key_index", "table": "completed_workouts", "columns": ["user_id"],
         "index_name": "index_completed_workouts_on_user_id", "migration": FK_MIGRATION,
         "reason": "completed_workouts.user_id references users (declared foreign key) and no index leads with it.",
         "priority": "high", "queries": [{"fingerprint": FP_BY_USER, "sql": "SELECT ...", "count": 40, "total_ms": 1600.0}],
         "size_bytes": 5611520},
        {"kind": "redundant_index", "table": "team_memberships", "columns": ["team_id"],
         "index_name": "index_team_memberships_on_team_id",
         "covered_by": "index_team_memberships_on_team_id_and_user_id", "migration": DROP_MIGRATION,
         "reason": "index_team_memberships_on_team_id is a left prefix of index_team_memberships_on_team_id_and_user_id.",
         "priority": "low", "queries": [], "size_bytes": 245760}
      ],
      "governance": [
        {"kind": "no_policy", "table": "api_request_logs", "column": null, "path": null, "category": "logs",
         "suggestion": "retain :api_request_logs, for: 90.days", "reason": "api_request_logs grows without a retention policy.",
         "priority": "high"},
        {"kind": "special_category_column", "table": "injuries", "column": "description", "path": null,
         "category": "health:injury", "suggestion": "encrypts :description",
         "reason": "injuries.description (health:injury) is health data. It is stored in clear text.", "priority": "high"},
        {"kind": "special_category_column", "table": "injuries", "column": "severity", "path": null,
         "category": "health:injury", "suggestion": "encrypts :severity",
         "reason": "injuries.severity (health:injury) is health data. It is stored in clear text.", "priority": "high"},
        {"kind": "erasure_gap", "table": "injuries", "column": null, "path": ["users", "injuries"], "category": "health:injury",
         "suggestion": "has_many :injuries, dependent: :destroy  # in the User model",
         "reason": "injuries references users (injuries.user_id) with no erasure strategy.", "priority": "high"},
        {"kind": "pii_column", "table": "users", "column": "email", "path": null, "category": "pii:email",
         "suggestion": "encrypts :email, deterministic: true",
         "reason": "users.email (pii:email) is personal data under GDPR. It is stored in clear text.", "priority": "medium"},
        {"kind": "soft_delete_without_purge", "table": "workouts", "column": "deleted_at", "path": null, "category": null,
         "suggestion": "retain :workouts, for: 30.days, timestamp_column: :deleted_at, where: \"deleted_at IS NOT NULL\"",
         "reason": "workouts is soft-deleted (deleted_at) and nothing purges the deleted rows.", "priority": "low"}
      ],
      "infrastructure": {
        "web": {"dynos": 2, "workers": 2, "threads": 5, "dyno_type": "standard-1x"},
        "worker": {"dynos": 1, "concurrency": 10, "dyno_type": "standard-1x"},
        "one_off_dynos": 1,
        "database": {"max_connections": 120, "max_connections_source": "server", "plan": "standard-0",
                     "pool_sizes": [{"process": "web", "pool": 5}, {"process": "worker", "pool": 5}],
                     "pgbouncer": false,
                     "settings": {"shared_buffers": "128MB", "work_mem": "4MB", "random_page_cost": "4",
                                  "effective_cache_size": "4GB", "statement_timeout": "0",
                                  "idle_in_transaction_session_timeout": "0", "log_min_duration_statement": "-1"}},
        "prices": {"as_of": "2026-11-01", "currency": "USD",
                   "dynos": {"basic": 7.0, "standard-1x": 25.0, "standard-2x": 50.0, "performance-m": 250.0},
                   "databases": {"essential-0": 5.0, "standard-0": 50.0}},
        "plan_limits": {"essential-0": 20, "standard-0": 120}
      },
      "options": {"top": 10, "slow_request_ms": 500.0, "slow_job_ms": 5000.0}
    })
}

fn report(input: &Value) -> Value {
    serde_json::from_str(&build_json(&input.to_string()).unwrap()).unwrap()
}

fn recs<'a>(report: &'a Value, category: &str) -> Vec<&'a Value> {
    report["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["category"] == category)
        .collect()
}

fn one<'a>(report: &'a Value, category: &str, title_part: &str) -> &'a Value {
    let found: Vec<&Value> = recs(report, category)
        .into_iter()
        .filter(|r| r["title"].as_str().unwrap().contains(title_part))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {category} recommendation about {title_part}: {found:#?}"
    );
    found[0]
}

fn close(value: &Value, expected: f64) -> bool {
    (value.as_f64().unwrap() - expected).abs() < 0.01
}

fn step_of(report: &Value, id: &str) -> u64 {
    report["roadmap"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("{id} in the roadmap"))["step"]
        .as_u64()
        .unwrap()
}

// ------------------------------------------------------------------ assessment

#[test]
fn assessment_totals_come_from_the_units() {
    let r = report(&virtual_trainer());
    let w = &r["assessment"]["workload"];
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["app"], "Virtual Trainer");
    assert_eq!(w["source"], "jsonl");
    assert_eq!(w["requests"], 150);
    assert_eq!(w["jobs"], 102);
    assert_eq!(w["queries"], 3160);
    assert!(close(&w["requests_per_second"], 0.25));
    // (1240 + 520 + 300 + 100 + 400) / 150 requests.
    assert!(close(&w["queries_per_request"], 17.07));
    assert!(close(&w["mean_request_ms"], 119.33));
}

#[test]
fn top_fingerprints_by_time_with_their_share() {
    let r = report(&virtual_trainer());
    let top = r["assessment"]["top_fingerprints"].as_array().unwrap();
    assert_eq!(top[0]["fingerprint"], FP_BY_USER);
    assert_eq!(top[1]["fingerprint"], FP_MEMBER_COUNT);
    // 1,600 of 3,243 ms.
    assert!(close(&top[0]["share"], 1600.0 / 3243.0));
    assert!(close(&top[0]["mean_ms"], 40.0));
    assert_eq!(top[0]["units"], json!([DASHBOARD, COMPLETED]));

    let mut input = virtual_trainer();
    input["options"]["top"] = json!(3);
    assert_eq!(
        report(&input)["assessment"]["top_fingerprints"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn endpoints_and_jobs_with_shares_and_slow_ones() {
    let r = report(&virtual_trainer());
    let a = &r["assessment"];
    let completed = a["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == COMPLETED)
        .unwrap();
    assert_eq!(completed["method"], "GET");
    assert!(close(&completed["mean_ms"], 60.0));
    assert!(close(&completed["db_share"], 0.3333));
    assert!(close(&completed["view_share"], 0.375));
    assert!(close(&completed["queries_per_unit"], 31.0));

    let slow: Vec<&str> = a["slow_endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(slow, [SESSIONS]); // mean 900 ms >= 500
    let slow_jobs = a["slow_jobs"].as_array().unwrap();
    assert_eq!(slow_jobs.len(), 1);
    assert_eq!(slow_jobs[0]["name"], HEALTH_JOB);
    assert_eq!(slow_jobs[0]["queue"], "default");
    assert!(close(&slow_jobs[0]["mean_ms"], 12000.0));
    assert_eq!(a["jobs"].as_array().unwrap().len(), 2);

    // A max of twice the threshold is slow even with a fast mean.
    let mut input = virtual_trainer();
    input["options"]["slow_request_ms"] = json!(100);
    let slow = report(&input)["assessment"]["slow_endpoints"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(slow, 3); // sessions, dashboard (mean 100), team statistics (max 260)
}

#[test]
fn n_plus_ones_slow_queries_schema_and_growth() {
    let r = report(&virtual_trainer());
    let a = &r["assessment"];
    let n = &a["n_plus_ones"][0];
    assert_eq!(n["unit"], COMPLETED);
    assert_eq!(n["queries_per_unit"], 30);
    assert_eq!(n["priority"], "critical");
    // The SQL comes from the workload when the finding has none.
    assert!(n["sql"]
        .as_str()
        .unwrap()
        .starts_with("SELECT \"workouts\".*"));
    assert_eq!(a["slow_queries"][0]["max_ms"], 120.0);

    assert_eq!(a["schema"]["tables"], 9);
    assert_eq!(a["schema"]["largest"][0]["name"], "api_request_logs");

    let growth = a["table_growth"].as_array().unwrap();
    assert_eq!(growth[0]["table"], "api_request_logs");
    assert_eq!(growth[0]["inserts"], 600);
    assert_eq!(growth[0]["rows"], 3_000_000);
    // 600 inserts in 600 s: 86,400 a day.
    assert!(close(&growth[0]["inserts_per_day"], 86_400.0));
    let exercises = growth.iter().find(|g| g["table"] == "exercises").unwrap();
    assert_eq!(exercises["inserts"], 0);
    assert!(close(&exercises["writes_per_day"], 288.0));
}

// ------------------------------------------------------------------ optimization

#[test]
fn n_plus_one_saves_count_minus_one_queries() {
    let r = report(&virtual_trainer());
    let rec = one(&r, "n_plus_one", COMPLETED);
    assert_eq!(rec["priority"], "critical");
    assert_eq!(rec["effort"], "minutes");
    assert_eq!(rec["solution"], INCLUDES);
    assert_eq!(
        rec["location"],
        "app/controllers/api/v1/completed_workouts_controller.rb:12"
    );
    let impact = &rec["impact"];
    // One preload query replaces 30: 29 saved, not 28.
    assert_eq!(impact["queries_saved_per_request"], 29.0);
    assert!(close(&impact["ms_saved_per_request"], 8.5 * 29.0 / 30.0));
    assert!(close(&impact["ms_saved_total"], 8.5 * 29.0 / 30.0 * 40.0));
    assert_eq!(impact["rows_scanned"], Value::Null);
    assert!(rec["metric"]
        .as_str()
        .unwrap()
        .starts_with(&format!("queries per request of {COMPLETED}")));
    assert!(rec["metric"].as_str().unwrap().contains("now 31"));
    assert!(rec["trade_offs"]
        .as_str()
        .unwrap()
        .contains("preload loads all the associated workouts rows"));
    assert!(rec["issue"]
        .as_str()
        .unwrap()
        .contains("30 times per request"));
    assert_eq!(
        rec["evidence"],
        json!([
            format!("finding:n_plus_one:{FP_WORKOUT}"),
            format!("unit:{COMPLETED}")
        ])
    );
}

#[test]
fn count_in_a_loop_is_a_counter_cache_that_takes_hours() {
    let r = report(&virtual_trainer());
    let rec = one(&r, "n_plus_one", TEAM_STATS);
    assert_eq!(rec["effort"], "hours");
    assert_eq!(rec["solution"], COUNTER_CACHE);
    assert_eq!(rec["impact"]["queries_saved_per_request"], 24.0);
    assert!(close(
        &rec["impact"]["ms_saved_total"],
        45.0 * 24.0 / 25.0 * 20.0
    ));
    let trade_offs = rec["trade_offs"].as_str().unwrap();
    assert!(
        trade_offs.contains("counter cache adds a write"),
        "{trade_offs}"
    );
}

#[test]
fn missing_foreign_key_index_is_the_migration_with_the_time_it_serves() {
    let r = report(&virtual_trainer());
    let rec = one(&r, "missing_index", "completed_workouts");
    assert_eq!(rec["solution"], FK_MIGRATION);
    assert_eq!(rec["priority"], "high");
    assert_eq!(rec["effort"], "minutes");
    assert_eq!(rec["impact"]["rows_scanned"], 250_000);
    assert_eq!(rec["impact"]["ms_saved_total"], 1600.0);
    let trade_offs = rec["trade_offs"].as_str().unwrap();
    assert!(trade_offs.contains("5.4 MB"), "{trade_offs}");
    assert!(
        trade_offs.contains("40 writes to completed_workouts"),
        "{trade_offs}"
    );
    assert!(rec["evidence"]
        .as_array()
        .unwrap()
        .contains(&json!("index:missing_foreign_key_index:completed_workouts")));
}

#[test]
fn redundant_index_frees_its_size_and_a_write_per_insert() {
    let r = report(&virtual_trainer());
    let rec = one(&r, "redundant_index", "index_team_memberships_on_team_id");
    assert_eq!(rec["solution"], DROP_MIGRATION);
    let summary = rec["impact"]["summary"].as_str().unwrap();
    assert!(summary.contains("240 KB"), "{summary}");
    assert!(summary.contains("one index write per INSERT"), "{summary}");
    assert!(rec["trade_offs"]
        .as_str()
        .unwrap()
        .contains("index_team_memberships_on_team_id_and_user_id"));
    assert_eq!(rec["impact"]["ms_saved_total"], Value::Null);
}

#[test]
fn slow_query_waits_for_the_index_on_its_table() {
    let r = report(&virtual_trainer());
    let index = one(&r, "missing_index", "completed_workouts");
    let slow = one(&r, "slow_query", "completed_workouts");
    assert_eq!(slow["depends_on"], json!([index["id"]]));
    assert_eq!(slow["priority"], "critical");
    // The saving of a rewrite is not measured: null, and words that say so.
    assert_eq!(slow["impact"]["ms_saved_total"], Value::Null);
    assert!(slow["impact"]["summary"]
        .as_str()
        .unwrap()
        .contains("not measured"));
    assert_eq!(slow["impact"]["rows_scanned"], 250_000);
    assert!(slow["issue"]
        .as_str()
        .unwrap()
        .contains("The index suggested for completed_workouts comes first"));

    let (index_id, slow_id) = (index["id"].as_str().unwrap(), slow["id"].as_str().unwrap());
    assert!(step_of(&r, index_id) < step_of(&r, slow_id));
    // The high index moves up with the critical query that needs it: only
    // critical work comes before it.
    let roadmap = r["roadmap"].as_array().unwrap();
    let before = &roadmap[..step_of(&r, index_id) as usize - 1];
    assert!(
        before.iter().all(|s| s["priority"] == "critical"),
        "{before:#?}"
    );
    let step = r["roadmap"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == slow_id)
        .unwrap();
    assert_eq!(step["after"], json!([index_id]));
}

#[test]
fn duplicate_query_is_memoized_in_the_request() {
    let r = report(&virtual_trainer());
    let rec = one(&r, "duplicate_query", DASHBOARD);
    assert_eq!(rec["impact"]["queries_saved_per_request"], 2.0);
    let solution = rec["solution"].as_str().unwrap();
    assert!(solution.contains("@workout ||= Workout.find"), "{solution}");
}

#[test]
fn view_bound_endpoint_gets_russian_doll_caching() {
    let r = report(&virtual_trainer());
    let frag = recs(&r, "fragment_caching");
    // Only the dashboard renders for more than half of its time.
    assert_eq!(frag.len(), 1);
    let rec = frag[0];
    assert!(rec["title"].as_str().unwrap().contains(DASHBOARD));
    assert!(close(&rec["impact"]["ms_saved_per_request"], 70.0));
    assert!(close(&rec["impact"]["ms_saved_total"], 2100.0));
    let solution = rec["solution"].as_str().unwrap();
    assert!(
        solution.contains("app/views/api/v1/dashboards/show.html.erb"),
        "{solution}"
    );
    assert!(solution.contains("cached: true"), "{solution}");
    assert!(solution.contains("touch: true"), "{solution}");
    assert!(rec["issue"].as_str().unwrap().contains("70%"));
}

#[test]
fn identical_reads_get_a_ttl_from_the_write_rate() {
    let r = report(&virtual_trainer());
    let low = recs(&r, "low_level_caching");
    assert_eq!(low.len(), 2, "{low:#?}");

    // 2 updates of exercises in 600 s: one every 5 minutes.
    let exercises = one(&r, "low_level_caching", "exercises for");
    let solution = exercises["solution"].as_str().unwrap();
    assert!(
        solution.contains(&format!(
            "Rails.cache.fetch(\"exercises/{FP_EXERCISES}\", expires_in: 5.minutes)"
        )),
        "{solution}"
    );
    let trade_offs = exercises["trade_offs"].as_str().unwrap();
    assert!(
        trade_offs.contains("2 writes") && trade_offs.contains("one every 5 minutes"),
        "{trade_offs}"
    );
    // 2 misses (600 s / 300 s) of 80 calls.
    assert!(close(
        &exercises["impact"]["ms_saved_total"],
        160.0 * 78.0 / 80.0
    ));

    // No write to exercise_categories: 1 hour, and the report says why.
    let categories = one(&r, "low_level_caching", "exercise_categories");
    assert!(categories["solution"]
        .as_str()
        .unwrap()
        .contains("expires_in: 1.hour"));
    assert!(categories["trade_offs"]
        .as_str()
        .unwrap()
        .contains("No write to exercise_categories was seen"));

    // Reads with values of their own are not identical: no cache of them.
    assert!(!low
        .iter()
        .any(|r| r["title"].as_str().unwrap().contains("workouts")));
}

#[test]
fn ttl_is_clamped_to_a_minute() {
    let mut input = virtual_trainer();
    // 600 updates of exercises in 600 s: one a second, raised to a minute.
    input["workload"]["fingerprints"][7]["calls"] = json!(600);
    let r = report(&input);
    let rec = one(&r, "low_level_caching", "exercises for");
    assert!(rec["solution"]
        .as_str()
        .unwrap()
        .contains("expires_in: 1.minute)"));
    assert!(rec["trade_offs"]
        .as_str()
        .unwrap()
        .contains("raised to the 1 minute minimum"));
    // And exercises is no longer rarely written: no HTTP caching of its index.
    assert!(!recs(&r, "http_caching")
        .iter()
        .any(|r| r["title"].as_str().unwrap().contains(EXERCISES)));
}

#[test]
fn get_on_rarely_written_tables_gets_http_caching() {
    let r = report(&virtual_trainer());
    let rec = one(&r, "http_caching", EXERCISES);
    let solution = rec["solution"].as_str().unwrap();
    assert!(
        solution.contains("fresh_when etag: @exercises"),
        "{solution}"
    );
    assert!(solution.contains("expires_in 5.minutes"), "{solution}");
    assert!(close(&rec["impact"]["ms_saved_per_request"], 12.0));
    let issue = rec["issue"].as_str().unwrap();
    assert!(
        issue.contains("exercises and exercise_categories")
            || issue.contains("exercise_categories and exercises"),
        "{issue}"
    );
    // The dashboard reads completed_workouts (4 writes a minute); the POST is no GET.
    let titles: Vec<&str> = recs(&r, "http_caching")
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert!(
        !titles
            .iter()
            .any(|t| t.contains(DASHBOARD) || t.contains(SESSIONS) || t.contains(COMPLETED)),
        "{titles:?}"
    );
}

#[test]
fn slow_job_moves_to_its_own_queue() {
    // The infrastructure section's queue layout moves the job: one
    // recommendation, there, not a second one among the optimizations.
    let r = report(&virtual_trainer());
    assert!(recs(&r, "slow_job").is_empty());
    let layout = r["infrastructure"]["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["category"] == "sidekiq_queues")
        .expect("a queue layout");
    assert!(layout["title"].as_str().unwrap().contains(HEALTH_JOB));

    // A job slow by the report's threshold that the layout leaves on its
    // queue (30 ms on average, under the layout's 1 s) gets its own.
    let mut input = virtual_trainer();
    input["options"]["slow_job_ms"] = json!(10.0);
    let r = report(&input);
    assert!(recs(&r, "slow_job")
        .iter()
        .all(|rec| !rec["title"].as_str().unwrap().contains(HEALTH_JOB)));
    let rec = one(&r, "slow_job", "SendReminderJob");
    assert_eq!(rec["priority"], "high"); // mean 30 ms, over twice 10 ms
    assert!(rec["solution"].as_str().unwrap().contains("queue_as :"));
    assert_eq!(rec["impact"]["ms_saved_total"], Value::Null);
}

#[test]
fn optimization_ids_follow_priority_then_time_saved() {
    let r = report(&virtual_trainer());
    let all = r["recommendations"].as_array().unwrap();
    let rank = |p: &Value| {
        ["critical", "high", "medium", "low"]
            .iter()
            .position(|x| p == x)
            .unwrap()
    };
    for (i, pair) in all.windows(2).enumerate() {
        assert_eq!(pair[0]["id"], format!("R{}", i + 1));
        let (a, b) = (rank(&pair[0]["priority"]), rank(&pair[1]["priority"]));
        assert!(a <= b, "{} before {}", pair[0]["id"], pair[1]["id"]);
        if a == b {
            let saved = |v: &Value| v["impact"]["ms_saved_total"].as_f64().unwrap_or(-1.0);
            assert!(saved(&pair[0]) >= saved(&pair[1]));
        }
    }
    // The critical N+1 saves more than the critical slow query (unmeasured).
    assert_eq!(all[0]["category"], "n_plus_one");
}

// ------------------------------------------------------------------ governance

#[test]
fn governance_recommendations() {
    let r = report(&virtual_trainer());
    let g = &r["governance"];
    assert_eq!(g["summary"]["special_category_column"], 2);
    assert_eq!(g["summary"]["erasure_gap"], 1);
    let findings = g["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 6);
    // Priority, then table.
    assert_eq!(findings[0]["table"], "api_request_logs");
    assert_eq!(findings[1]["table"], "injuries");
    assert_eq!(findings[5]["kind"], "soft_delete_without_purge");

    let recs = g["recommendations"].as_array().unwrap();
    // The erasure gap on a health table is critical, and first.
    let erasure = &recs[0];
    assert_eq!(erasure["id"], "G1");
    assert_eq!(erasure["category"], "erasure");
    assert_eq!(erasure["priority"], "critical");
    assert_eq!(
        erasure["solution"],
        "has_many :injuries, dependent: :destroy  # in the User model"
    );
    let issue = erasure["issue"].as_str().unwrap();
    assert!(
        issue.contains("users -> injuries") && issue.contains("description (health:injury)"),
        "{issue}"
    );

    let health = recs
        .iter()
        .find(|r| r["title"] == "Protect the special-category data in injuries")
        .unwrap();
    let solution = health["solution"].as_str().unwrap();
    assert!(
        solution.contains("# Injury\nencrypts :description\nencrypts :severity"),
        "{solution}"
    );
    assert!(
        solution.contains("filter_parameters += [:description, :severity]"),
        "{solution}"
    );
    assert!(solution.contains("Restrict reads"), "{solution}");
    assert_eq!(health["effort"], "hours");

    let pii = recs
        .iter()
        .find(|r| r["title"] == "Protect the personal data in users")
        .unwrap();
    assert!(pii["solution"]
        .as_str()
        .unwrap()
        .contains("encrypts :email, deterministic: true"));
    assert_eq!(pii["priority"], "medium");

    let policy = recs
        .iter()
        .find(|r| r["title"] == "Set a retention policy for api_request_logs")
        .unwrap();
    assert_eq!(policy["solution"], "retain :api_request_logs, for: 90.days");
    let summary = policy["impact"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("3,000,000 rows") && summary.contains("86,400 rows a day"),
        "{summary}"
    );

    let purge = recs
        .iter()
        .find(|r| r["category"] == "soft_delete")
        .unwrap();
    assert_eq!(purge["priority"], "low");
    assert_eq!(recs.len(), 5);
    for (i, rec) in recs.iter().enumerate() {
        assert_eq!(rec["id"], format!("G{}", i + 1));
    }
}

// ------------------------------------------------------------------ roadmap

#[test]
fn roadmap_holds_every_recommendation_once_in_dependency_order() {
    let r = report(&virtual_trainer());
    let mut ids: Vec<String> = Vec::new();
    for section in [
        &r["recommendations"],
        &r["infrastructure"]["recommendations"],
        &r["governance"]["recommendations"],
    ] {
        ids.extend(
            section
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_str().unwrap().to_owned()),
        );
    }
    let roadmap = r["roadmap"].as_array().unwrap();
    let mut listed: Vec<String> = roadmap
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed.len(), ids.len());
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);

    for (i, step) in roadmap.iter().enumerate() {
        assert_eq!(step["step"], i as u64 + 1);
        let section = match &step["id"].as_str().unwrap()[..1] {
            "R" => "optimization",
            "I" => "infrastructure",
            _ => "governance",
        };
        assert_eq!(step["section"], section);
        for dep in step["after"].as_array().unwrap() {
            assert!(step_of(&r, dep.as_str().unwrap()) < step["step"].as_u64().unwrap());
        }
    }
    // Without dependencies, critical work comes before the rest.
    assert_eq!(roadmap.last().unwrap()["priority"], "low");
}

// ------------------------------------------------------------------ input handling

#[test]
fn malformed_input_is_an_error() {
    for bad in [
        "{",
        "[]",
        "null",
        "{\"workload\": 5}",
        "{\"findings\": [{\"count\": \"many\"}]}",
        "",
    ] {
        match build_json(bad) {
            Err(Error::InvalidInput { message }) => {
                assert!(message.starts_with("full report input JSON"), "{message}")
            }
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
    assert!(Input::from_json("{\"options\": {\"top\": \"ten\"}}").is_err());
}

#[test]
fn empty_input_gives_an_empty_but_complete_report() {
    let r: Value = serde_json::from_str(&build_json("{}").unwrap()).unwrap();
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["app"], Value::Null);
    for list in ["recommendations", "roadmap"] {
        assert_eq!(r[list], json!([]), "{list}");
    }
    let a = &r["assessment"];
    for list in [
        "top_fingerprints",
        "n_plus_ones",
        "slow_queries",
        "endpoints",
        "slow_endpoints",
        "jobs",
        "slow_jobs",
        "table_growth",
    ] {
        assert_eq!(a[list], json!([]), "{list}");
    }
    let w = &a["workload"];
    assert_eq!(
        (w["requests"].clone(), w["jobs"].clone()),
        (json!(0), json!(0))
    );
    for unknown in [
        "window_seconds",
        "queries",
        "db_ms",
        "requests_per_second",
        "queries_per_request",
        "mean_request_ms",
    ] {
        assert_eq!(w[unknown], Value::Null, "{unknown}");
    }
    assert_eq!(
        a["schema"],
        json!({"tables": 0, "rows": null, "size_bytes": null, "largest": []})
    );
    assert_eq!(
        r["governance"],
        json!({"summary": {}, "findings": [], "recommendations": []})
    );
    assert!(r["infrastructure"].is_object());
    assert!(r["infrastructure"]["recommendations"].is_array());
}

#[test]
fn nulls_floats_and_unknown_fields_are_tolerated() {
    let input = json!({
      "app": null, "dialect": null, "future_section": {"x": 1},
      "workload": {"window_seconds": null, "fingerprints": null, "units": [
        {"kind": "request", "name": COMPLETED, "count": 40.0, "queries": null, "db_ms": null,
         "elapsed_ms": 2400, "max_elapsed_ms": null, "view_ms": null, "method": null, "queue": null, "extra": true}]},
      "findings": [{"kind": "n_plus_one", "fingerprint": null, "count": 30.0, "occurrences": null,
                    "priority": null, "total_ms": null, "scope_name": null}],
      "schema": null, "indexes": null, "governance": null, "infrastructure": null, "options": null
    });
    let r = report(&input);
    let e = &r["assessment"]["endpoints"][0];
    assert_eq!(e["count"], 40);
    assert!(close(&e["mean_ms"], 60.0));
    assert_eq!(e["db_share"], Value::Null);
    assert_eq!(e["queries_per_unit"], Value::Null);
    assert_eq!(
        r["assessment"]["workload"]["requests_per_second"],
        Value::Null
    );
    let rec = &r["recommendations"][0];
    assert_eq!(rec["impact"]["queries_saved_per_request"], 29.0);
    assert_eq!(rec["impact"]["ms_saved_total"], 0.0);
    assert!(rec["solution"]
        .as_str()
        .unwrap()
        .contains("no fix hint was recorded"));
    assert_eq!(
        r["roadmap"].as_array().unwrap().len(),
        r["recommendations"].as_array().unwrap().len()
            + r["infrastructure"]["recommendations"]
                .as_array()
                .unwrap()
                .len()
    );
}

#[test]
fn hostile_figures_do_not_panic() {
    let input = json!({
      "workload": {"window_seconds": -5, "units": [
          {"kind": "request", "name": "X#y", "count": 0, "elapsed_ms": 1e308, "view_ms": 1e308, "method": "GET"},
          {"kind": "job", "name": "", "count": 18446744073709551615u64, "elapsed_ms": -1}],
        "fingerprints": [{"fingerprint": "", "sql": "", "calls": 0, "statement": "insert", "tables": []},
                         {"fingerprint": "f", "sql": "SELECT * FROM t", "calls": 1e30, "total_ms": 1e308,
                          "statement": "select", "tables": ["t"], "units": [{"name": "X#y", "calls": 5}]}]},
      "findings": [{"kind": "n_plus_one", "count": 0}, {"kind": "duplicate_query", "count": 1e300},
                   {"kind": "slow_query"}, {"kind": "bulk_write"}, {"kind": "unheard_of"}],
      "indexes": [{"kind": "workload_index"}, {"kind": "unused_index"}, {"kind": "over_indexed_table"}, {"kind": "?"}],
      "governance": [{"kind": "erasure_gap"}, {"kind": "special_category_column"}, {"kind": "pii_column"},
                     {"kind": "no_policy"}, {"kind": "partition_candidate"}],
      "options": {"top": 1e20, "slow_request_ms": -1, "slow_job_ms": 0}
    });
    let r = report(&input);
    assert!(r["roadmap"].is_array());
    let text = build_json(&input.to_string()).unwrap();
    assert!(!text.contains("NaN"));
    // Sentences start with a capital even when the unit has no name.
    let dup = r["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "duplicate_query")
        .unwrap();
    assert!(dup["issue"]
        .as_str()
        .unwrap()
        .starts_with("An unnamed unit of work runs a query"));
}

#[test]
fn build_matches_build_json_and_render_json() {
    let text = virtual_trainer().to_string();
    let input = Input::from_json(&text).unwrap();
    let report = build(&input);
    assert_eq!(report.schema_version, 1);
    assert_eq!(
        report.roadmap.len(),
        report.recommendations.len()
            + report.infrastructure.recommendations.len()
            + report.governance.recommendations.len()
    );
    assert_eq!(
        serde_json::to_string_pretty(&report).unwrap(),
        build_json(&text).unwrap()
    );
    assert_eq!(
        render_json(&text, "json").unwrap(),
        build_json(&text).unwrap()
    );
    for format in ["text", "markdown", "html"] {
        let out = render_json(&text, format).unwrap();
        assert!(out.contains("Virtual Trainer"), "{format}");
    }
    assert!(render_json(&text, "pdf").is_err());
    assert!(render_json("{", "markdown").is_err());
}
