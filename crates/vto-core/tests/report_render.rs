//! The full report's renderers: every format through
//! `vto_core::report::full::render::render`, with a realistic report
//! (Virtual Trainer) and with empty, minimal and malformed ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use serde_json::{json, Value};
use vto_core::report::full::render::{render, FORMATS};
use vto_core::Error;

const INDEX: &str = "Api::V1::CompletedWorkoutsController#index";
const CONTROLLER: &str = "app/controllers/api/v1/completed_workouts_controller.rb:12";
const WORKOUT_SQL: &str =
    r#"SELECT "workouts".* FROM "workouts" WHERE "workouts"."id" = ? LIMIT ?"#;
/// SQL concatenation: the `||` must not split a Markdown table cell.
const NAME_SQL: &str = r#"SELECT "users"."first_name" || ? || "users"."last_name" AS "name" FROM "users" WHERE "users"."id" = ?"#;
/// Hostile text: must come out escaped in HTML.
const HOSTILE_SQL: &str = r#"SELECT "notes".* FROM "notes" WHERE "notes"."body" = '<script>alert("x")</script>' AND a < ? & b"#;
const COUNT_SQL: &str =
    r#"SELECT COUNT(*) FROM "completed_workouts" WHERE "completed_workouts"."user_id" = ?"#;

const SECTIONS: [&str; 5] = [
    "1. CURRENT STATE ASSESSMENT",
    "2. OPTIMIZATION RECOMMENDATIONS",
    "3. INFRASTRUCTURE RECOMMENDATIONS",
    "4. DATA GOVERNANCE RECOMMENDATIONS",
    "5. IMPLEMENTATION ROADMAP",
];

fn rec(
    id: &str,
    category: &str,
    title: &str,
    priority: &str,
    effort: &str,
    solution: &str,
) -> Value {
    json!({
        "id": id, "category": category, "title": title,
        "issue": format!("{title}: measured in the workload."),
        "impact": {"summary": format!("{id} saves time"), "queries_saved_per_request": null,
                   "ms_saved_per_request": null, "ms_saved_total": null, "rows_scanned": null},
        "solution": solution, "trade_offs": "One more thing to maintain.",
        "priority": priority, "effort": effort, "location": null,
        "metric": format!("{id} metric"), "evidence": [], "depends_on": []
    })
}

fn endpoint(name: &str, count: u64, mean: f64, max: f64, qpu: f64) -> Value {
    json!({"kind": "request", "name": name, "method": "GET", "count": count, "mean_ms": mean,
           "max_ms": max, "db_share": 0.33, "view_share": 0.37, "queries_per_unit": qpu})
}

fn ai_job() -> Value {
    json!({"kind": "job", "name": "CustomHealthProgramJob", "method": null, "queue": "ai",
           "count": 8, "mean_ms": 42000.0, "max_ms": 65000.0, "db_share": 0.02,
           "view_share": 0.0, "queries_per_unit": 12.0})
}

/// The Virtual Trainer report: an N+1, a missing FK index, a redundant
/// index, a connection budget over the Heroku limit with PgBouncer needed,
/// a long-running AI job queue and an erasure gap on injuries.
fn report() -> Value {
    let mut n_plus_one = rec(
        "R1", "n_plus_one",
        &format!("Preload workout in {INDEX}"), "critical", "minutes",
        "# app/controllers/api/v1/completed_workouts_controller.rb\n@completed_workouts = current_user.completed_workouts.includes(:workout)",
    );
    n_plus_one["location"] = json!(CONTROLLER);
    n_plus_one["impact"] = json!({
        "summary": format!("saves 30 queries and 8.5 ms per request to {INDEX}"),
        "queries_saved_per_request": 30.0, "ms_saved_per_request": 8.5,
        "ms_saved_total": 340.0, "rows_scanned": null});
    let fk = rec(
        "R2",
        "missing_index",
        "Index completed_workouts.user_id",
        "high",
        "minutes",
        "add_index :completed_workouts, :user_id, algorithm: :concurrently",
    );
    let redundant = rec(
        "R3",
        "redundant_index",
        "Drop the redundant index on workouts",
        "medium",
        "minutes",
        "DROP INDEX CONCURRENTLY index_workouts_on_user_id;",
    );
    let mut slow = rec(
        "R4",
        "slow_query",
        "Count completed workouts through the new index",
        "high",
        "hours",
        "CompletedWorkout.where(user: user).count",
    );
    slow["depends_on"] = json!(["R2"]);
    slow["impact"]["rows_scanned"] = json!(1_200_000);

    let mut bouncer = rec(
        "I1",
        "pgbouncer",
        "Put PgBouncer in front of the database",
        "critical",
        "hours",
        "heroku buildpacks:add --index 1 heroku/pgbouncer",
    );
    bouncer["location"] = json!("Procfile");
    let queues = rec(
        "I2",
        "sidekiq_queues",
        "Give the AI job its own queue",
        "high",
        "hours",
        ":concurrency: 10\n:queues:\n  - [critical, 5]\n  - [default, 3]",
    );
    let erasure = rec(
        "G1",
        "erasure",
        "Erase injuries with their user",
        "high",
        "minutes",
        "has_many :injuries, dependent: :destroy  # in the User model",
    );

    json!({
        "schema_version": 1,
        "app": "Virtual Trainer",
        "generated_at": "2026-11-26T12:00:00Z",
        "dialect": "postgresql",
        "assessment": {
            "workload": {"source": "jsonl", "window_seconds": 60.0, "requests": 120, "jobs": 8,
                         "queries": 4200, "db_ms": 1800.0, "elapsed_ms": 9000.0,
                         "requests_per_second": 2.0, "queries_per_request": 31.5, "mean_request_ms": 62.0},
            "top_fingerprints": [
                {"fingerprint": "ab12cd34ef56ab78", "sql": WORKOUT_SQL, "calls": 1200, "total_ms": 340.0,
                 "mean_ms": 0.28, "share": 0.19, "statement": "select", "tables": ["workouts"],
                 "call_sites": [CONTROLLER], "units": [INDEX]},
                {"fingerprint": "0f0f0f0f0f0f0f0f", "sql": NAME_SQL, "calls": 80, "total_ms": 24.0,
                 "mean_ms": 0.3, "share": 0.013, "statement": "select", "tables": ["users"],
                 "call_sites": [], "units": ["Api::V1::UsersController#show"]},
                {"fingerprint": "1234123412341234", "sql": HOSTILE_SQL, "calls": 3, "total_ms": 12.5,
                 "mean_ms": 4.17, "share": 0.007, "statement": "select", "tables": ["notes"],
                 "call_sites": ["app/models/note.rb:7"], "units": []}
            ],
            "n_plus_ones": [
                {"fingerprint": "ab12cd34ef56ab78", "sql": WORKOUT_SQL, "location": CONTROLLER, "unit": INDEX,
                 "queries_per_unit": 30, "occurrences": 40, "ms_per_unit": 8.5,
                 "suggestion": "CompletedWorkout.includes(:workout)", "priority": "critical"}
            ],
            "slow_queries": [
                {"fingerprint": "9999aaaa9999aaaa", "sql": COUNT_SQL, "location": "app/models/user.rb:40",
                 "unit": "Api::V1::ProgressReportsController#show", "max_ms": 120.0, "ms_per_unit": 120.0,
                 "occurrences": 3, "suggestion": "add_index :completed_workouts, :user_id"}
            ],
            "endpoints": [
                endpoint(INDEX, 40, 60.0, 150.0, 31.0),
                endpoint("Api::V1::UsersController#show", 80, 12.0, 40.0, 4.0),
                endpoint("Api::V1::ProgressReportsController#show", 3, 720.0, 900.0, 9.0)
            ],
            "slow_endpoints": [endpoint("Api::V1::ProgressReportsController#show", 3, 720.0, 900.0, 9.0)],
            "jobs": [ai_job()],
            "slow_jobs": [ai_job()],
            "schema": {"tables": 14, "rows": 52000, "size_bytes": 9_000_000,
                       "largest": [{"name": "api_request_logs", "rows": 30000, "size_bytes": 4_000_000},
                                   {"name": "completed_workouts", "rows": 12000, "size_bytes": 2_000_000}]},
            "table_growth": [
                {"table": "api_request_logs", "rows": 30000, "inserts": 120, "inserts_per_day": 172800.0,
                 "writes_per_day": 172800.0},
                {"table": "completed_workouts", "rows": 12000, "inserts": 2, "inserts_per_day": 2880.0,
                 "writes_per_day": 4320.0}
            ]
        },
        "recommendations": [n_plus_one, fk, slow, redundant],
        "infrastructure": {
            "connection_budget": {
                "rows": [
                    {"source": "web", "processes": 4, "per_process": 5, "connections": 20,
                     "detail": "2 dynos x 2 Puma workers, pool of 5 (5 threads)"},
                    {"source": "worker", "processes": 1, "per_process": 10, "connections": 10,
                     "detail": "1 dyno, Sidekiq concurrency 10"},
                    {"source": "one-off", "processes": 1, "per_process": 5, "connections": 5,
                     "detail": "heroku run rails console"}
                ],
                "total": 35, "max_connections": 20, "max_connections_source": "plan",
                "headroom": -15, "verdict": "over"},
            "pool_mismatches": [{"process": "worker", "pool": 5, "needed": 10,
                                 "message": "worker: pool 5 but Sidekiq concurrency 10; threads wait for a connection"}],
            "pgbouncer": {"needed": true,
                          "reason": "35 connections against a limit of 20: only pooling keeps the app under it.",
                          "config": "# 1. Buildpack\nheroku buildpacks:add --index 1 heroku/pgbouncer\nweb: bin/start-pgbouncer bundle exec puma -C config/puma.rb"},
            "capacity": {"requests_per_second": 2.0, "mean_latency_ms": 62.0, "busy_threads": 0.124,
                         "threads_available": 20, "utilization": 0.0062, "dynos_needed": 1,
                         "dynos_configured": 2, "dyno_type": "standard-1x", "monthly_cost_usd": 50.0,
                         "prices_as_of": "2026-11-01",
                         "reasoning": "0.124 threads busy on average of 20: one dyno would do."},
            "sidekiq": {"queues": [
                            {"name": "default", "jobs": ["WelcomeMailerJob"], "concurrency": 7, "weight": 3,
                             "reason": "Short jobs."},
                            {"name": "ai", "jobs": ["CustomHealthProgramJob"], "concurrency": 3, "weight": 1,
                             "reason": "Mean of 42 s: its own process so it cannot starve the rest."}],
                        "config": "# config/sidekiq.yml\n:concurrency: 7\n:queues:\n  - [default, 3]",
                        "reasoning": "The AI job runs for minutes."},
            "postgres_settings": [
                {"name": "statement_timeout", "current": "0", "suggested": "30s",
                 "reason": "A runaway query holds a connection forever."}],
            "recommendations": [bouncer, queues]
        },
        "governance": {
            "summary": {"erasure_gap": 1, "special_category_column": 2},
            "findings": [
                {"kind": "special_category_column", "table": "injuries", "column": "notes", "path": [],
                 "category": "health", "suggestion": null, "reason": "Health data (GDPR art. 9).",
                 "priority": "medium"},
                {"kind": "erasure_gap", "table": "injuries", "column": null, "path": ["users", "injuries"],
                 "category": null, "suggestion": "has_many :injuries, dependent: :destroy  # in the User model",
                 "reason": "Deleting a user leaves their injuries behind.", "priority": "high"}
            ],
            "recommendations": [erasure]
        },
        "roadmap": [
            {"step": 1, "id": "R1", "title": format!("Preload workout in {INDEX}"), "section": "optimization",
             "priority": "critical", "effort": "minutes", "metric": "queries per request", "after": []},
            {"step": 2, "id": "I1", "title": "Put PgBouncer in front of the database", "section": "infrastructure",
             "priority": "critical", "effort": "hours", "metric": "active connections", "after": []},
            {"step": 3, "id": "R2", "title": "Index completed_workouts.user_id", "section": "optimization",
             "priority": "high", "effort": "minutes", "metric": "seq scans", "after": []},
            {"step": 4, "id": "G1", "title": "Erase injuries with their user", "section": "governance",
             "priority": "high", "effort": "minutes", "metric": "orphaned injuries", "after": []},
            {"step": 5, "id": "R4", "title": "Count completed workouts through the new index",
             "section": "optimization", "priority": "high", "effort": "hours", "metric": "p95", "after": ["R2"]},
            {"step": 6, "id": "I2", "title": "Give the AI job its own queue", "section": "infrastructure",
             "priority": "high", "effort": "hours", "metric": "queue latency", "after": []},
            {"step": 7, "id": "R3", "title": "Drop the redundant index on workouts", "section": "optimization",
             "priority": "medium", "effort": "minutes", "metric": "write time", "after": []}
        ]
    })
}

fn out(report: &Value, format: &str) -> String {
    render(report, format).unwrap_or_else(|e| panic!("{format}: {e}"))
}

/// Byte offsets of the needles, which must all be present and in order.
fn assert_in_order(haystack: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        match haystack.get(from..).and_then(|rest| rest.find(needle)) {
            Some(at) => from += at + needle.len(),
            None => panic!("{needle:?} missing or out of order in:\n{haystack}"),
        }
    }
}

/// The SVG element with this id.
fn svg<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!(r#"<svg class="chart" id="{id}""#))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let len = html[start..].find("</svg>").unwrap() + "</svg>".len();
    &html[start..start + len]
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            assert_eq!(chars.next(), Some('['), "only CSI sequences");
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `|` not escaped with a backslash.
fn cell_pipes(line: &str) -> usize {
    let bytes = line.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'))
        .count()
}

// --- structure -------------------------------------------------------------

#[test]
fn every_format_has_the_title_and_the_five_sections_in_order() {
    let report = report();
    for format in ["text", "text_color", "markdown", "html"] {
        let text = strip_ansi(&out(&report, format));
        let mut needles =
            vec!["Performance report for Virtual Trainer, generated 2026-11-26T12:00:00Z"];
        needles.extend(SECTIONS);
        assert_in_order(&text, &needles);
    }
}

#[test]
fn text_headings_are_underlined_and_subsections_ordered() {
    let text = out(&report(), "text");
    assert!(text.starts_with(
        "Performance report for Virtual Trainer, generated 2026-11-26T12:00:00Z\n=================="
    ));
    for heading in SECTIONS {
        let underline = "=".repeat(heading.len());
        assert!(
            text.contains(&format!("\n{heading}\n{underline}\n")),
            "{heading}"
        );
    }
    assert!(text.contains("\n1.3 N+1 queries\n---------------\n"));
    assert_in_order(
        &text,
        &[
            "1.1 Workload",
            "1.2 Top queries by total time",
            "1.3 N+1 queries",
            "1.4 Slow queries",
            "1.5 Endpoints",
            "1.6 Jobs",
            "1.7 Schema",
            "1.8 Table growth",
            "2. OPTIMIZATION",
            "3.1 Connection budget",
            "3.2 Connection pools",
            "3.3 PgBouncer",
            "3.4 Capacity",
            "3.5 Sidekiq queues",
            "3.6 PostgreSQL settings",
            "3.7 Infrastructure recommendations",
            "4.1 Summary",
            "4.2 Governance recommendations",
            "4.3 Findings",
            "5. IMPLEMENTATION ROADMAP",
        ],
    );
}

#[test]
fn text_lines_fit_in_100_columns_except_code_and_long_words() {
    let text = out(&report(), "text");
    for line in text.lines() {
        let long_word = line.split_whitespace().any(|w| w.chars().count() > 30);
        let code = line.starts_with("      ");
        assert!(
            line.chars().count() <= 100 || long_word || code,
            "too wide: {line:?}"
        );
        assert_eq!(line, line.trim_end(), "trailing space: {line:?}");
    }
}

#[test]
fn figures_are_formatted() {
    let text = out(&report(), "text");
    for figure in [
        "4,200 (31.5 per request)",
        "120 (2 per second)",
        "1,800.0 ms (20.0% of 9,000.0 ms elapsed)",
        "62.0 ms",
        "340.0 ms",
        "0.28 ms",
        "19.0%",
        "1,200",
        "8.6 MiB",
        "3.8 MiB",
        "172,800",
        "42,000.0 ms",
        "$50.00 a month (prices as of 2026-11-01)",
        "2 requests/s x 0.062 s = 0.124 threads busy on average",
        "1 needed, 2 configured (standard-1x)",
        "0.6%",
        "30 queries saved per request; 8.5 ms saved per request; 340.0 ms saved over the",
        "1,200,000 rows scanned",
    ] {
        assert!(text.contains(figure), "{figure:?} not in:\n{text}");
    }
}

#[test]
fn empty_parts_say_so_in_one_line() {
    let report = json!({"schema_version": 1, "app": "Virtual Trainer", "generated_at": "2026-11-26T12:00:00Z"});
    for format in ["text", "markdown", "html"] {
        let text = out(&report, format);
        let mut needles = vec!["Performance report for Virtual Trainer"];
        needles.extend(SECTIONS);
        assert_in_order(&text, &needles);
        for line in [
            "No workload was recorded.",
            "No queries were recorded in this workload.",
            "No N+1 queries were seen in this workload.",
            "No slow queries were seen in this workload.",
            "No endpoint was over the slow-request threshold.",
            "No jobs were recorded in this workload.",
            "The schema was not measured.",
            "No table growth was measured in this workload.",
            "No optimization recommendations",
            "No infrastructure was described",
            "No data governance findings.",
            "No governance recommendations.",
            "Nothing to schedule: the report has no recommendations.",
        ] {
            assert!(text.contains(line), "{format}: {line:?} missing");
        }
    }
}

// --- recommendations, infrastructure, governance, roadmap ----------------

#[test]
fn a_recommendation_lists_its_parts_in_order() {
    let text = out(&report(), "text");
    assert_in_order(
        &text,
        &[
            "[CRITICAL] R1 Preload workout in Api::V1::CompletedWorkoutsController#index",
            "Issue:",
            "Impact:",
            "saves 30 queries and 8.5 ms per request",
            "Figures:",
            "Solution:",
            "current_user.completed_workouts.includes(:workout)",
            "Trade-offs:",
            "Priority:",
            "critical",
            "Effort:",
            "minutes",
            "Metric to watch:",
            "Location:",
            CONTROLLER,
            "[HIGH] R2 Index completed_workouts.user_id",
            "[HIGH] R4 Count completed workouts",
            "Do after:",
            "R2",
            "[MEDIUM] R3 Drop the redundant index",
        ],
    );
}

#[test]
fn infrastructure_shows_the_budget_arithmetic_and_pgbouncer() {
    let text = out(&report(), "text");
    assert_in_order(
        &text,
        &[
            "3.1 Connection budget",
            "web",
            "20",
            "worker",
            "10",
            "one-off",
            "5",
            "Total",
            "35",
            "Limit",
            "20",
            "max_connections (from the plan)",
            "Headroom",
            "-15",
            "Verdict:",
            "over",
            "3.2 Connection pools",
            "worker: pool 5 but Sidekiq concurrency 10",
            "3.3 PgBouncer",
            "Needed:",
            "yes",
            "35 connections against a limit of 20",
            "heroku buildpacks:add --index 1 heroku/pgbouncer",
            "3.4 Capacity",
            "Busy threads (Little's law):",
            "Monthly cost:",
            "3.5 Sidekiq queues",
            "ai",
            "CustomHealthProgramJob",
            "config/sidekiq.yml:",
            ":concurrency: 7",
            "3.6 PostgreSQL settings",
            "statement_timeout",
            "30s",
            "3.7 Infrastructure recommendations",
            "[CRITICAL] I1 Put PgBouncer",
            "[HIGH] I2 Give the AI job",
        ],
    );
}

#[test]
fn governance_lists_summary_recommendations_then_findings_by_priority() {
    let text = out(&report(), "text");
    assert_in_order(
        &text,
        &[
            "4.1 Summary",
            "erasure_gap",
            "1",
            "special_category_column",
            "2",
            "4.2 Governance recommendations",
            "[HIGH] G1 Erase injuries with their user",
            "has_many :injuries, dependent: :destroy",
            "4.3 Findings",
            "users > injuries",
            "erasure gap",
            "high",
            "injuries.notes",
            "special category column",
            "medium",
        ],
    );
}

#[test]
fn roadmap_is_numbered_in_the_report_order() {
    let text = out(&report(), "text");
    let roadmap = &text[text.find("5. IMPLEMENTATION ROADMAP").unwrap()..];
    assert_in_order(
        roadmap,
        &[
            "1. R1",
            "2. I1",
            "3. R2",
            "4. G1",
            "5. R4",
            "After: R2",
            "6. I2",
            "7. R3",
        ],
    );
    let md = out(&report(), "markdown");
    assert!(md.contains("| Step | Id | Title | Priority | Effort | After | Metric to watch |"));
    assert!(md.contains(
        "| 5 | R4 | Count completed workouts through the new index | **high** | hours | R2 | p95 |"
    ));
}

// --- markdown ----------------------------------------------------------------

#[test]
fn markdown_tables_escape_pipes_and_keep_their_columns() {
    let md = out(&report(), "markdown");
    let row = md.lines().find(|l| l.contains("first_name")).unwrap();
    assert!(
        row.contains(r#"`SELECT "users"."first_name" \|\| ? \|\| "users"."last_name""#),
        "{row}"
    );
    // Every row of a table has as many cell separators as its header.
    let mut header_pipes = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let pipes = cell_pipes(line);
            let expected = *header_pipes.get_or_insert(pipes);
            assert_eq!(pipes, expected, "{line}");
        } else {
            header_pipes = None;
        }
    }
    assert!(md.contains(
        "| Endpoint | Requests | Mean | Max | DB share | View share | Queries per unit |"
    ));
    assert!(md.contains("| --- | ---: | ---: |"));
}

#[test]
fn markdown_headings_and_fenced_code_by_language() {
    let md = out(&report(), "markdown");
    assert!(md
        .starts_with("# Performance report for Virtual Trainer, generated 2026-11-26T12:00:00Z\n"));
    assert!(md.contains("\n## 1. CURRENT STATE ASSESSMENT\n"));
    assert!(md.contains("\n### 1.3 N+1 queries\n"));
    assert!(md.contains(
        "\n#### R1 Preload workout in Api::V1::CompletedWorkoutsController#index (critical)\n"
    ));
    assert!(md.contains(
        "```ruby\n# app/controllers/api/v1/completed_workouts_controller.rb\n@completed_workouts"
    ));
    assert!(md.contains("```ruby\nadd_index :completed_workouts, :user_id"));
    assert!(md.contains("```sql\nDROP INDEX CONCURRENTLY index_workouts_on_user_id;\n```"));
    assert!(md.contains("```yaml\n# config/sidekiq.yml\n:concurrency: 7"));
    assert!(md.contains("```sh\n# 1. Buildpack\nheroku buildpacks:add"));
    assert!(md.contains("\nSlow jobs (over the slow-job threshold):\n"));
    // The hostile SQL only appears inside a code span, where it is literal.
    let row = md.lines().find(|l| l.contains("alert(")).unwrap();
    assert!(
        row.contains(r#"`SELECT "notes".* FROM "notes" WHERE "notes"."body" = '<script>"#),
        "{row}"
    );
}

// --- html --------------------------------------------------------------------

#[test]
fn html_is_one_self_contained_page() {
    let html = out(&report(), "html");
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.trim_end().ends_with("</html>"));
    for banned in [
        "<script", "http://", "https://", " src=", "@import", "url(", "<link", "<img", "<iframe",
    ] {
        assert!(!html.contains(banned), "{banned} in the page");
    }
    assert!(html.contains("<style>"));
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains(
        "<title>Performance report for Virtual Trainer, generated 2026-11-26T12:00:00Z</title>"
    ));
    // Contents, linked to every section.
    let toc = &html[html.find("<nav class=\"toc\"").unwrap()..html.find("</nav>").unwrap()];
    for id in [
        "assessment",
        "optimization",
        "infrastructure",
        "governance",
        "roadmap",
        "n-plus-ones",
    ] {
        assert!(toc.contains(&format!("href=\"#{id}\"")), "{id}");
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert_eq!(html.matches("<section").count(), 5);
    assert_eq!(html.matches("</section>").count(), 5);
    assert_eq!(
        html.matches("<article").count(),
        html.matches("</article>").count()
    );
    assert_eq!(html.matches("<article").count(), 7);
}

#[test]
fn html_escapes_sql_and_names() {
    let html = out(&report(), "html");
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(html.contains("a &lt; ? &amp; b"));
    assert!(html.contains("SELECT &quot;workouts&quot;.* FROM &quot;workouts&quot;"));
    assert!(!html.contains("alert(\"x\")"));
}

#[test]
fn html_has_badges_code_and_linked_roadmap() {
    let html = out(&report(), "html");
    assert!(html.contains(r#"<span class="badge badge-critical">critical</span>"#));
    assert!(html.contains(r#"<span class="badge badge-high">high</span>"#));
    assert!(html.contains(r#"<span class="badge badge-medium">medium</span>"#));
    assert!(html.contains(r#"<article class="rec rec-critical" id="rec-R1">"#));
    assert!(html.contains(r#"<code class="language-ruby">"#));
    assert!(html.contains(r#"<code class="language-sql">DROP INDEX"#));
    assert!(html.contains(r#"<code class="language-yaml">"#));
    assert!(html.contains(r##"<a href="#rec-R4">R4</a>"##));
    assert!(html.contains(r#"<span class="status status-bad">over</span>"#));
    assert!(html.contains(r#"<span class="status status-warn">yes</span>"#));
}

#[test]
fn html_draws_the_three_charts_with_a_bar_per_entry() {
    let html = out(&report(), "html");
    for (id, title, bars, x_label) in [
        (
            "chart-query-time",
            "Query time by fingerprint",
            3,
            "Total time over the workload (ms)",
        ),
        (
            "chart-queries-per-request",
            "Queries per request",
            3,
            "Queries per request",
        ),
        ("chart-table-growth", "Table growth", 2, "Inserts per day"),
    ] {
        let chart = svg(&html, id);
        assert!(
            chart.contains(&format!("<title id=\"{id}-title\">{title}</title>")),
            "{id}"
        );
        assert_eq!(chart.matches("<rect class=\"bar\"").count(), bars, "{id}");
        assert!(chart.contains(&format!(">{x_label}</text>")), "{id}");
        assert!(chart.contains("class=\"axis-label y-label\""), "{id}");
        assert!(!chart.contains("No data"), "{id}");
        assert!(!chart.contains("<script"), "{id}");
    }
    let query_time = svg(&html, "chart-query-time");
    // The largest bar spans the plot; labels carry the value and a short SQL.
    assert!(query_time.contains(r#"width="330.0""#));
    assert!(query_time.contains(">340.0 ms</text>"));
    assert!(
        query_time.contains(">SELECT workouts.* FROM workouts W…</text>"),
        "{query_time}"
    );
    // The full SQL, escaped, in the bar's tooltip.
    assert!(query_time.contains("&lt;script&gt;"));
    let growth = svg(&html, "chart-table-growth");
    assert!(growth.contains(">172,800/day</text>"));
    assert!(growth.contains(">api_request_logs</text>"));
    let qpr = svg(&html, "chart-queries-per-request");
    assert!(
        qpr.contains(">…CompletedWorkoutsController#index</text>"),
        "{qpr}"
    );
    assert!(qpr.contains(&format!("<title>{INDEX}: 31</title>")));
    assert!(qpr.contains(">31</text>"));
}

#[test]
fn html_charts_say_no_data_when_empty() {
    let html = out(
        &json!({"assessment": {"top_fingerprints": [], "endpoints": null}}),
        "html",
    );
    for id in [
        "chart-query-time",
        "chart-queries-per-request",
        "chart-table-growth",
    ] {
        let chart = svg(&html, id);
        assert!(chart.contains("class=\"no-data\""), "{id}");
        assert!(chart.contains("No data"), "{id}");
        assert!(!chart.contains("<rect class=\"bar\""), "{id}");
        assert!(chart.contains("<title"), "{id}");
    }
}

// --- colours, json, errors -----------------------------------------------------

#[test]
fn ansi_codes_only_in_text_color_which_is_otherwise_identical() {
    let report = report();
    for format in ["text", "markdown", "html", "json"] {
        assert!(!out(&report, format).contains('\x1b'), "{format}");
    }
    let color = out(&report, "text_color");
    assert!(
        color.contains("\x1b[1;31m[CRITICAL]\x1b[0m"),
        "critical is red"
    );
    assert!(color.contains("\x1b[33m[HIGH]\x1b[0m"), "high is yellow");
    assert!(color.contains("\x1b[36m[MEDIUM]\x1b[0m"), "medium is cyan");
    assert!(color.contains("\x1b[1;34m1. CURRENT STATE ASSESSMENT\x1b[0m"));
    assert_eq!(strip_ansi(&color), out(&report, "text"));
}

#[test]
fn report_text_cannot_inject_terminal_codes() {
    let report = json!({"app": "Evil\u{1b}[31m app", "recommendations": [
        {"id": "R1", "title": "x\u{1b}]0;pwned\u{7}", "priority": "low", "solution": "a\u{1b}[2Jb"}]});
    for format in ["text", "markdown", "html"] {
        assert!(!out(&report, format).contains('\x1b'), "{format}");
    }
    let color = out(&report, "text_color");
    assert!(color.contains("\x1b[2m[LOW]\x1b[0m"), "low is dim");
    assert!(!strip_ansi(&color).contains('\x1b'));
}

#[test]
fn json_is_the_report_pretty_printed() {
    let report = report();
    let json = out(&report, "json");
    assert!(json.starts_with("{\n  \""));
    assert!(json.ends_with("}\n"));
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), report);
}

#[test]
fn format_names_are_checked() {
    let report = report();
    for format in FORMATS {
        assert!(render(&report, format).is_ok(), "{format}");
    }
    assert!(render(&report, " HTML ").is_ok());
    assert_eq!(
        render(&report, "pdf"),
        Err(Error::UnknownFormat { name: "pdf".into() })
    );
    assert!(matches!(
        render(&report, ""),
        Err(Error::UnknownFormat { .. })
    ));
}

#[test]
fn a_report_that_is_not_an_object_is_invalid_input() {
    for value in [
        json!(null),
        json!([1, 2]),
        json!("report"),
        json!(1),
        json!(true),
    ] {
        for format in FORMATS {
            match render(&value, format) {
                Err(Error::InvalidInput { message }) => {
                    assert!(message.contains("JSON object"), "{message}")
                }
                other => panic!("{value} as {format}: {other:?}"),
            }
        }
    }
}

// --- odd input ---------------------------------------------------------------

/// Every field of the report replaced by `f(field)`, recursively.
fn map_leaves(value: &Value, f: &dyn Fn(&Value) -> Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), map_leaves(v, f)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_leaves(v, f)).collect()),
        leaf => f(leaf),
    }
}

#[test]
fn numbers_sent_as_strings_are_still_formatted() {
    let report = map_leaves(&report(), &|leaf| match leaf {
        Value::Number(n) => Value::String(n.to_string()),
        other => other.clone(),
    });
    let text = out(&report, "text");
    assert!(text.contains("1,800.0 ms (20.0% of 9,000.0 ms elapsed)"));
    assert!(text.contains("$50.00 a month"));
    let html = out(&report, "html");
    assert_eq!(
        svg(&html, "chart-query-time")
            .matches("<rect class=\"bar\"")
            .count(),
        3
    );
}

#[test]
fn nulls_and_wrong_types_everywhere_do_not_panic() {
    let full = report();
    let variants = [
        map_leaves(&full, &|_| Value::Null),
        map_leaves(&full, &|_| json!([])),
        map_leaves(&full, &|_| json!({})),
        map_leaves(&full, &|_| json!(true)),
        map_leaves(&full, &|_| json!(-1e300)),
        map_leaves(&full, &|_| json!("not a number")),
        json!({"assessment": [], "recommendations": {}, "infrastructure": "big",
               "governance": {"summary": [1], "findings": "x", "recommendations": [null, 1, "R1"]},
               "roadmap": [null, [], {"step": "two"}]}),
        json!({"assessment": {"workload": 5, "top_fingerprints": [1, "a", null, {"sql": null}],
                              "schema": {"largest": {"name": "x"}}},
               "infrastructure": {"connection_budget": {"rows": [{}]}, "capacity": {},
                                  "sidekiq": {"queues": null, "config": 3}, "pgbouncer": {"needed": "yes"}}}),
        json!({"schema_version": 2, "app": "", "generated_at": null}),
    ];
    for report in &variants {
        for format in FORMATS {
            let text = render(report, format).unwrap_or_else(|e| panic!("{format}: {e}"));
            if format != "json" {
                let mut needles = vec!["Performance report"];
                needles.extend(SECTIONS);
                assert_in_order(&strip_ansi(&text), &needles);
            }
        }
    }
}

#[test]
fn a_newer_schema_version_is_noted() {
    let text = out(&json!({"schema_version": 2}), "text");
    assert!(text.contains("Report schema_version 2; this renderer reads version 1"));
    assert!(!out(&json!({"schema_version": 1}), "text").contains("schema_version"));
}
