//! Outbound API calls in the full report: the assessment's `external`, the
//! `R<n>` recommendations from the external findings, the infrastructure's
//! providers, projection and `external_queue` / `external_cost`
//! recommendations, the roadmap and the renderers.
//!
//! The fixture: two runs of a request calling gpt-4o-mini with one repeated
//! prompt, two runs of CustomHealthProgramJob (8 s each, 6 s of it in two
//! gpt-4o calls), every call 3,000 ms and 1,000 + 500 tokens,
//! `monthly_scale` 1,000 and a stated limit of 500 requests and 200,000
//! tokens a minute for api.openai.com.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use serde_json::{json, Value};
use vto_core::report::full::{build_json, render_json};

const FIXTURE: &str = include_str!("fixtures/report_external.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

fn report(input: &Value) -> Value {
    serde_json::from_str(&build_json(&input.to_string()).unwrap()).unwrap()
}

fn all_recs(r: &Value) -> Vec<&Value> {
    r["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .chain(r["infrastructure"]["recommendations"].as_array().unwrap())
        .collect()
}

fn rec<'a>(r: &'a Value, category: &str) -> &'a Value {
    all_recs(r)
        .into_iter()
        .find(|x| x["category"] == category)
        .unwrap_or_else(|| panic!("no {category} in {r:#}"))
}

fn count(r: &Value, category: &str) -> usize {
    all_recs(r)
        .into_iter()
        .filter(|x| x["category"] == category)
        .count()
}

/// The fixture without a workload (so no Sidekiq layout) on 2 worker dynos.
fn capsule_fixture() -> Value {
    let mut input = fixture();
    input["workload"] = Value::Null;
    input["infrastructure"] = json!({"worker": {"dynos": 2, "concurrency": 10}});
    input["external"]["options"]["slow_call_ms"] = json!(2000);
    input
}

#[test]
fn assessment_lists_endpoints_costs_models_and_scopes() {
    let r = report(&fixture());
    let e = &r["assessment"]["external"];
    assert_eq!(e["calls"], 6);
    assert_eq!(e["total_ms"], 18000.0);
    // 2 × (1,000 × 0.15 + 500 × 0.60) / 10⁶ + 4 × (1,000 × 2.50 + 500 × 10.00) / 10⁶
    assert_eq!(e["cost_usd"], 0.0309);
    assert_eq!(e["currency"], "USD");
    assert_eq!(e["prices_as_of"], "2026-11-01");
    assert_eq!(e["note"], Value::Null);
    assert_eq!(
        e["hosts"],
        json!([{"host": "api.openai.com", "method": "POST", "path": "/v1/chat/completions",
                "calls": 6, "total_ms": 18000.0, "mean_ms": 3000.0, "max_ms": 3000.0,
                "error_rate": 0.0, "prompt_tokens": 6000, "completion_tokens": 3000,
                "cost_usd": 0.0309,
                "scopes": ["Api::V1::ProgramsController#create", "CustomHealthProgramJob"]}])
    );
    assert_eq!(e["by_model"][0]["model"], "gpt-4o");
    assert_eq!(e["by_model"][0]["cost_usd"], 0.03);
    assert_eq!(e["by_model"][1]["cost_usd"], 0.0009);
    assert_eq!(e["by_scope"][0]["name"], "CustomHealthProgramJob");
    assert_eq!(e["by_scope"][0]["runs"], 2);
}

#[test]
fn endpoint_error_rate_and_unknown_cost() {
    let input = json!({"external": {"scopes": [{"kind": "scan", "name": "nightly", "calls": [
        {"host": "API.Example.com", "method": "get", "path": "/v2/items", "status": 503, "duration_ms": 100},
        {"host": "api.example.com", "method": "GET", "path": "/v2/items", "status": 200, "duration_ms": 300},
        {"host": "api.example.com", "method": "GET", "path": "/v2/items", "status": 200, "duration_ms": 200},
        {"host": "api.example.com", "method": "GET", "path": "/v2/items", "status": 200, "duration_ms": 200}]}]}});
    let r = report(&input);
    let h = &r["assessment"]["external"]["hosts"][0];
    assert_eq!(h["host"], "api.example.com");
    assert_eq!(h["method"], "GET");
    assert_eq!(h["calls"], 4);
    assert_eq!(h["mean_ms"], 200.0);
    assert_eq!(h["max_ms"], 300.0);
    assert_eq!(h["error_rate"], 0.25);
    assert_eq!(h["prompt_tokens"], Value::Null);
    assert_eq!(h["cost_usd"], Value::Null);
    assert_eq!(r["assessment"]["external"]["cost_usd"], Value::Null);
    // No cost known: no projection and no cost recommendation.
    assert_eq!(
        r["infrastructure"]["external"]["monthly_cost_usd"],
        Value::Null
    );
    assert_eq!(count(&r, "external_cost"), 0);
}

#[test]
fn optimization_recommendations_from_the_findings() {
    let r = report(&fixture());
    let request = rec(&r, "external_call_in_request");
    assert!(request["id"].as_str().unwrap().starts_with('R'));
    assert_eq!(request["priority"], "critical");
    assert_eq!(request["impact"]["ms_saved_per_request"], 3000.0);
    assert_eq!(request["impact"]["ms_saved_total"], 6000.0);
    assert_eq!(request["impact"]["usd_saved_per_month"], Value::Null);
    assert!(request["solution"]
        .as_str()
        .unwrap()
        .contains("ProgramsCreateJob.perform_later(result.id)"));
    assert!(request["solution"]
        .as_str()
        .unwrap()
        .contains("status: :accepted"));
    assert_eq!(
        request["location"],
        "app/controllers/api/v1/programs_controller.rb:14"
    );
    assert_eq!(
        request["evidence"][0],
        "external:external_call_in_request:Api::V1::ProgramsController#create:POST api.openai.com/v1/chat/completions"
    );

    let dup = rec(&r, "duplicate_external_call");
    // 3,000 ms × 2 calls × hit rate 1/2; $0.00045 saved × 1,000.
    assert_eq!(dup["impact"]["ms_saved_total"], 3000.0);
    assert_eq!(dup["impact"]["ms_saved_per_request"], 1500.0);
    assert_eq!(dup["impact"]["usd_saved_per_month"], 0.45);
    assert!(dup["solution"]
        .as_str()
        .unwrap()
        .contains("Rails.cache.fetch([\"openai\", fingerprint], expires_in: 12.hours)"));

    // The job's calls have no timeout; 2 × the slowest call = 6 s.
    let timeouts: Vec<&Value> = all_recs(&r)
        .into_iter()
        .filter(|x| x["category"] == "external_timeout")
        .collect();
    assert_eq!(timeouts.len(), 2);
    assert!(timeouts.iter().any(|t| {
        t["solution"].as_str().unwrap().contains(
        "Net::HTTP.start(\"api.openai.com\", 443, use_ssl: true, open_timeout: 5, read_timeout: 6)"
    )
    }));
    for category in [
        "external_timeout",
        "duplicate_external_call",
        "external_call_in_request",
    ] {
        let x = rec(&r, category);
        for key in ["title", "issue", "solution", "trade_offs", "metric"] {
            assert!(!x[key].as_str().unwrap().is_empty(), "{category} {key}");
        }
    }
}

#[test]
fn errors_come_after_the_timeout_of_their_host() {
    let call = |status: u64| {
        json!({"host": "api.example.com", "method": "POST", "path": "/v1/score",
               "status": status, "duration_ms": 400, "location": "app/models/score.rb:3"})
    };
    let input = json!({"external": {"scopes": [{"kind": "job", "name": "ScoreJob",
        "elapsed_ms": 5000, "calls": [call(503), call(503), call(200)]}]}});
    let r = report(&input);
    let errors = rec(&r, "external_errors");
    let timeout = rec(&r, "external_timeout");
    assert_eq!(errors["depends_on"], json!([timeout["id"]]));
    let solution = errors["solution"].as_str().unwrap();
    assert!(solution.contains("VirtualTrainerOptimizer::CircuitBreaker.for(\"api.example.com\""));
    assert!(solution.contains("VirtualTrainerOptimizer::Retry.call(attempts: 4"));
    let steps: Vec<&str> = r["roadmap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    let at = |id: &Value| steps.iter().position(|s| *s == id.as_str().unwrap());
    assert!(at(&timeout["id"]) < at(&errors["id"]));
}

#[test]
fn providers_concurrency_from_littles_law() {
    let r = report(&fixture());
    let p = &r["infrastructure"]["external"]["providers"][0];
    assert_eq!(p["host"], "api.openai.com");
    assert_eq!(p["calls"], 6);
    // 6 calls in the 60 s workload window.
    assert_eq!(p["requests_per_minute_observed"], 6.0);
    assert_eq!(p["mean_call_ms"], 3000.0);
    assert_eq!(p["tokens_per_call"], 1500.0);
    assert_eq!(
        p["rate_limit"],
        json!({"requests_per_minute": 500.0, "tokens_per_minute": 200000.0})
    );
    // Requests: 500 × 3 s / 60 = 25; tokens: 200,000 / 1,500 × 3 s / 60 = 6.67; floor(min) = 6.
    assert_eq!(p["max_concurrency"], 6);
    let reasoning = p["reasoning"].as_str().unwrap();
    assert!(reasoning.contains("500 requests/min × 3 s / 60 = 25 in flight"));
    assert!(reasoning.contains("133.33 calls/min × 3 s / 60 = 6.67 in flight"));

    // Only a requests limit: 500 × 3 / 60 = 25; none stated: null.
    let mut input = fixture();
    input["external"]["rate_limits"] = json!({"API.OpenAI.com": {"requests_per_minute": 500}});
    let r = report(&input);
    assert_eq!(
        r["infrastructure"]["external"]["providers"][0]["max_concurrency"],
        25
    );
    input["external"]["rate_limits"] = Value::Null;
    let r = report(&input);
    let p = &r["infrastructure"]["external"]["providers"][0];
    assert_eq!(p["max_concurrency"], Value::Null);
    assert_eq!(p["rate_limit"], Value::Null);
    // A slow provider still gets one call in flight.
    input["external"]["rate_limits"] = json!({"api.openai.com": {"requests_per_minute": 1}});
    let r = report(&input);
    assert_eq!(
        r["infrastructure"]["external"]["providers"][0]["max_concurrency"],
        1
    );
}

#[test]
fn monthly_projection_at_every_growth() {
    let r = report(&fixture());
    let e = &r["infrastructure"]["external"];
    assert_eq!(e["growth"], json!([1.0, 2.0, 5.0, 10.0]));
    assert_eq!(e["monthly_scale"], 1000.0);
    assert_eq!(e["monthly_cost_usd"], 30.9);
    let totals: Vec<f64> = e["monthly_cost_by_growth"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["cost_usd_per_month"].as_f64().unwrap())
        .collect();
    assert_eq!(totals, [30.9, 61.8, 154.5, 309.0]);
    let top = &e["monthly_projection"][0];
    assert_eq!(top["scope"], "CustomHealthProgramJob");
    assert_eq!(top["model"], "gpt-4o");
    assert_eq!(top["cost_usd_per_month"], 30.0);
    assert_eq!(
        top["by_growth"][3],
        json!({"growth": 10.0, "cost_usd_per_month": 300.0})
    );
    assert!(e["reasoning"]
        .as_str()
        .unwrap()
        .contains("Observed $0.0309 × 1000"));

    let mut input = fixture();
    input["external"]["growth"] = json!([1, 3, "x", -2]);
    let r = report(&input);
    let e = &r["infrastructure"]["external"];
    assert_eq!(e["growth"], json!([1.0, 3.0]));
    assert_eq!(e["monthly_cost_by_growth"][1]["cost_usd_per_month"], 92.7);
}

#[test]
fn cost_recommendation_from_ten_dollars_after_the_cache() {
    let r = report(&fixture());
    let cost = rec(&r, "external_cost");
    assert!(cost["id"].as_str().unwrap().starts_with('I'));
    // $30.90 a month: high ($10 to $100).
    assert_eq!(cost["priority"], "high");
    assert_eq!(cost["impact"]["usd_saved_per_month"], 0.45);
    let dup = rec(&r, "duplicate_external_call");
    assert_eq!(cost["depends_on"], json!([dup["id"]]));
    assert!(cost["title"]
        .as_str()
        .unwrap()
        .contains("gpt-4o in CustomHealthProgramJob"));
    let solution = cost["solution"].as_str().unwrap();
    assert!(solution.contains("parameters[:max_tokens] = 500"));
    assert!(solution.contains("ab12cd34ef56ab78: 2 calls, hit rate 50%, saves $0.45/month"));
    let steps: Vec<&Value> = r["roadmap"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["id"] == cost["id"] || s["id"] == dup["id"])
        .collect();
    assert_eq!(steps[0]["id"], dup["id"]);
    assert_eq!(steps[1]["after"], json!([dup["id"]]));

    // $9.99 a month at 1×: no cost recommendation.
    let mut input = fixture();
    input["external"]["options"]["monthly_scale"] = json!(323);
    let r = report(&input);
    assert!(
        r["infrastructure"]["external"]["monthly_cost_usd"]
            .as_f64()
            .unwrap()
            < 10.0
    );
    assert_eq!(count(&r, "external_cost"), 0);
}

#[test]
fn rate_limit_caps_the_long_running_layout_without_moving_the_job_twice() {
    let r = report(&fixture());
    let sidekiq = &r["infrastructure"]["sidekiq"];
    let long = sidekiq["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "long_running")
        .unwrap();
    assert_eq!(long["jobs"], json!(["CustomHealthProgramJob"]));
    // Little's law wants 60 × 8 s / 60 s = 8 threads; the rate limit allows 6.
    assert_eq!(long["concurrency"], 6);
    let config = sidekiq["config"].as_str().unwrap();
    assert!(config.contains("long_worker: RAILS_MAX_THREADS=6"));
    assert!(config.contains("worker: RAILS_MAX_THREADS=14"));

    let layout = rec(&r, "sidekiq_queues");
    let queue = rec(&r, "external_queue");
    assert_eq!(queue["depends_on"], json!([layout["id"]]));
    assert!(queue["title"]
        .as_str()
        .unwrap()
        .starts_with("Hold long_running to 6 threads"));
    let solution = queue["solution"].as_str().unwrap();
    assert!(solution.contains(":concurrency: 6"));
    assert!(!solution.contains("queue_as"));
    assert!(!solution.contains("capsule"));
    // Only the layout moves the job: no slow_job recommendation, one queue_as.
    assert_eq!(count(&r, "slow_job"), 0);
    let solutions: Vec<&str> = all_recs(&r)
        .into_iter()
        .map(|x| x["solution"].as_str().unwrap())
        .collect();
    let movers = solutions
        .iter()
        .filter(|s| s.contains("queue_as :long_running"))
        .count();
    assert_eq!(movers, 1);
    assert!(!solutions
        .iter()
        .any(|s| s.contains("class CustomHealthProgramJob")));

    // Without the limit, the layout keeps its 8 threads and the queue
    // recommendation asks for the limit with the figures it needs.
    let mut input = fixture();
    input["external"]["rate_limits"] = Value::Null;
    let r = report(&input);
    let queue = rec(&r, "external_queue");
    let solution = queue["solution"].as_str().unwrap();
    assert!(solution.contains(":concurrency: 8"));
    // 8 threads × 15 requests/min and × 22,500 tokens/min.
    assert!(solution.contains(
        "8 threads of CustomHealthProgramJob need at least 120 requests/min and 180,000 tokens/min"
    ));
    assert!(solution.contains("external:\n  rate_limits:\n    api.openai.com:"));
}

#[test]
fn capsule_when_no_layout_moves_the_job() {
    let r = report(&capsule_fixture());
    let queue = rec(&r, "external_queue");
    let solution = queue["solution"].as_str().unwrap();
    // 6 in flight over 2 worker dynos.
    assert!(solution.contains("config.capsule(\"openai\")"));
    assert!(solution.contains("cap.concurrency = 3 #"));
    assert!(solution.contains("queue_as :openai"));
    assert_eq!(queue["location"], "config/initializers/sidekiq.rb");
    // The slow call's advice refers to that queue instead of a second one.
    let slow: Vec<&Value> = all_recs(&r)
        .into_iter()
        .filter(|x| x["category"] == "slow_external_call")
        .collect();
    assert_eq!(slow.len(), 2);
    for s in slow {
        let text = s["solution"].as_str().unwrap();
        assert!(!text.contains("queue_as :openai_slow"), "{text}");
    }
    let job_slow = all_recs(&r)
        .into_iter()
        .find(|x| {
            x["category"] == "slow_external_call"
                && x["title"]
                    .as_str()
                    .unwrap()
                    .ends_with("CustomHealthProgramJob")
        })
        .unwrap();
    assert_eq!(job_slow["depends_on"], json!([queue["id"]]));
}

#[test]
fn external_findings_in_the_input_are_not_reported_twice() {
    let mut input = fixture();
    input["findings"] = json!([
        {"kind": "external_call_in_request", "scope_kind": "request",
         "scope_name": "Api::V1::ProgramsController#create", "priority": "critical",
         "suggestion": "perform_later", "total_ms": 3000},
        {"kind": "duplicate_external_call", "priority": "high", "total_ms": 3000},
        {"kind": "external_dominated_job", "scope_name": "CustomHealthProgramJob", "priority": "high"}
    ]);
    let with = report(&input);
    let without = report(&fixture());
    assert_eq!(count(&with, "external_call_in_request"), 1);
    assert_eq!(count(&with, "duplicate_external_call"), 1);
    assert_eq!(count(&with, "external_queue"), 1);
    assert_eq!(with, without);
}

#[test]
fn without_external_calls_nothing_changes() {
    let base = json!({"app": "Virtual Trainer", "workload": {"window_seconds": 60, "units": [
        {"kind": "job", "name": "ReportJob", "count": 2, "elapsed_ms": 20000}]},
        "infrastructure": {"worker": {"dynos": 1, "concurrency": 10}}});
    let r = report(&base);
    assert_eq!(r["assessment"]["external"], Value::Null);
    assert_eq!(r["infrastructure"]["external"], Value::Null);
    for x in all_recs(&r) {
        assert_eq!(x["impact"]["usd_saved_per_month"], Value::Null);
        assert!(!x["category"].as_str().unwrap().starts_with("external"));
    }
    let mut null = base.clone();
    null["external"] = Value::Null;
    assert_eq!(report(&null), r);
    let mut empty = base.clone();
    empty["external"] = json!({"scopes": [{"kind": "job", "name": "ReportJob", "calls": []}]});
    assert_eq!(report(&empty), r);
    let text = render_json(&base.to_string(), "text").unwrap();
    assert!(!text.contains("External API"));
    assert!(text.contains("3.7 Infrastructure recommendations"));
}

#[test]
fn unreadable_external_section_is_a_note_not_an_error() {
    for bad in [
        json!({"scopes": "nope"}),
        json!([1, 2]),
        json!({"scopes": [{"kind": "cron"}]}),
    ] {
        let mut input = fixture();
        input["external"] = bad.clone();
        let r = report(&input);
        let e = &r["assessment"]["external"];
        assert_eq!(e["calls"], 0, "{bad}");
        assert!(e["note"]
            .as_str()
            .unwrap()
            .starts_with("The external section could not be read"));
        assert_eq!(r["infrastructure"]["external"], Value::Null);
        assert_eq!(count(&r, "external_queue"), 0);
        // The rest of the report is still there.
        assert_eq!(count(&r, "sidekiq_queues"), 1);
        let text = render_json(&input.to_string(), "text").unwrap();
        assert!(text.contains("The external section could not be read"));
    }
}

#[test]
fn renderers_show_the_external_parts() {
    let input = fixture().to_string();
    let text = render_json(&input, "text").unwrap();
    for needle in [
        "1.9 External API calls",
        "POST api.openai.com/v1/chat/completions",
        "$0.0309 (prices as of 2026-11-01)",
        "3.7 External APIs",
        "Rate limit: 500 requests/min, 200,000 tokens/min",
        "Max concurrency: 6",
        "×10 per month: $309.00",
        "3.8 Infrastructure recommendations",
        "$0.45 saved per month",
    ] {
        assert!(text.contains(needle), "text lacks {needle:?}");
    }
    let color = render_json(&input, "text_color").unwrap();
    assert!(color.contains("External APIs"));
    let md = render_json(&input, "markdown").unwrap();
    assert!(md.contains("1.9 External API calls"));
    assert!(md.contains("| ×1 per month | ×2 per month | ×5 per month | ×10 per month |"));
    assert!(md.contains("$309.00"));
    let html = render_json(&input, "html").unwrap();
    assert!(html.contains(r#"<svg class="chart" id="chart-external-time""#));
    assert!(html.contains("External time by endpoint"));
    assert!(html.contains("3.7 External APIs"));
    assert!(!html.contains("<script"));
    assert!(html.contains("default-src 'none'; style-src 'unsafe-inline'"));
}
