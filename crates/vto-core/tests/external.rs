//! The external-calls module: every finding kind on Virtual Trainer's own
//! OpenAI traffic, the cost arithmetic, cache candidates, the monthly
//! projection, the prompt fingerprint, and hostile input. The inputs are
//! JSON, as the Ruby side builds them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use serde_json::{json, Value};
use vto_core::external::{
    analyze_json, prompt_fingerprint, Input, MAX_BODY_BYTES, MAX_INPUT_BYTES,
};
use vto_core::Error;

const CHAT: &str = "/v1/chat/completions";
const OPENAI: &str = "api.openai.com";

fn prices() -> Value {
    json!({"as_of": "2026-11-01", "currency": "USD", "models": {
        "gpt-4o-mini": {"input_per_million": 0.15, "output_per_million": 0.60},
        "gpt-4o": {"input_per_million": 2.50, "output_per_million": 10.00},
        "text-embedding-3-small": {"input_per_million": 0.02}}})
}

/// A successful gpt-4o-mini chat call.
fn chat(ms: f64, prompt: u64, completion: u64, fingerprint: &str, location: &str) -> Value {
    json!({"host": OPENAI, "method": "POST", "path": CHAT, "status": 200,
           "duration_ms": ms, "request_bytes": 2100, "response_bytes": 5300, "retries": 0,
           "timeout_s": 60.0, "model": "gpt-4o-mini", "prompt_tokens": prompt,
           "completion_tokens": completion, "total_tokens": prompt + completion,
           "prompt_fingerprint": fingerprint, "error": null, "location": location})
}

/// `value` with the fields of `extra` set.
fn with(mut value: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        value[k] = v.clone();
    }
    value
}

fn scope(kind: &str, name: &str, elapsed: f64, calls: Vec<Value>) -> Value {
    json!({"kind": kind, "name": name, "elapsed_ms": elapsed, "calls": calls})
}

fn run(scopes: Vec<Value>, options: Value) -> Value {
    let input = json!({"scopes": scopes, "prices": prices(), "options": options});
    serde_json::from_str(&analyze_json(&input.to_string()).unwrap()).unwrap()
}

fn of(report: &Value, kind: &str) -> Vec<Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .cloned()
        .collect()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

const JOB_RB: &str = "app/jobs/custom_health_program_job.rb:12";

/// CustomHealthProgramJob: one week, one chat call per training phase, in a loop.
fn program_job() -> Value {
    scope(
        "job",
        "CustomHealthProgramJob",
        6000.0,
        vec![
            chat(1800.0, 850, 400, "1111111111111111", JOB_RB),
            chat(1800.0, 850, 400, "2222222222222222", JOB_RB),
            chat(1800.0, 850, 400, "3333333333333333", JOB_RB),
        ],
    )
}

#[test]
fn call_costs_follow_usage_and_prices() {
    let report = run(vec![program_job()], json!({}));
    let calls = report["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 3);
    // 850 × 0.15 / 10⁶ + 400 × 0.60 / 10⁶ = 0.0001275 + 0.00024
    for call in calls {
        assert_eq!(call["cost_usd"], 0.0003675);
        assert_eq!(call["path"], CHAT);
        assert_eq!(call["scope_name"], "CustomHealthProgramJob");
        assert_eq!(call["scope_kind"], "job");
        assert_eq!(call["prompt_tokens"], 850);
        assert_eq!(call["location"], JOB_RB);
    }
    let costs = &report["costs"];
    assert_eq!(costs["prices_as_of"], "2026-11-01");
    assert_eq!(costs["currency"], "USD");
    assert_eq!(costs["total_cost_usd"], 0.0011025);
    assert_eq!(costs["total_cost_usd_per_month"], 0.033075);
    let model = &costs["by_model"][0];
    assert_eq!(model["model"], "gpt-4o-mini");
    assert_eq!(model["calls"], 3);
    assert_eq!(model["prompt_tokens"], 2550);
    assert_eq!(model["completion_tokens"], 1200);
    assert_eq!(model["cost_usd"], 0.0011025);
    let scope = &costs["by_scope"][0];
    assert_eq!(scope["kind"], "job");
    assert_eq!(scope["name"], "CustomHealthProgramJob");
    assert_eq!(scope["runs"], 1);
    assert_eq!(scope["calls"], 3);
    assert_eq!(scope["cost_usd"], 0.0011025);
    assert!(costs["cache_candidates"].as_array().unwrap().is_empty());
}

#[test]
fn monthly_projection_scales_observed_runs() {
    // Two observed runs of the job, monthly_scale 1,000 (the job runs 1,000
    // times as often in a month as in the observed window).
    let report = run(
        vec![program_job(), program_job()],
        json!({"monthly_scale": 1000}),
    );
    let projection = &report["costs"]["monthly_projection"];
    assert_eq!(projection.as_array().unwrap().len(), 1);
    let p = &projection[0];
    assert_eq!(p["model"], "gpt-4o-mini");
    assert_eq!(p["scope"], "CustomHealthProgramJob");
    assert_eq!(p["scope_kind"], "job");
    assert_eq!(p["runs"], 2);
    assert_eq!(p["calls"], 6);
    // 6 × 0.0003675 = 0.002205; × 1,000
    assert_eq!(p["cost_usd_per_month"], 2.205);
    let reasoning = s(&p["reasoning"]);
    assert!(
        reasoning.contains("6 gpt-4o-mini calls in 2 observed runs"),
        "{reasoning}"
    );
    assert!(reasoning.contains("$0.002205"), "{reasoning}");
    assert!(reasoning.contains("$0.0011025 per run"), "{reasoning}");
    assert!(reasoning.contains("× 1000"), "{reasoning}");
    assert!(reasoning.contains("$2.21/month"), "{reasoning}");
}

#[test]
fn job_calling_chat_in_a_loop_is_batched() {
    let report = run(vec![program_job()], json!({}));
    let found = of(&report, "external_call_in_loop");
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f["host"], OPENAI);
    assert_eq!(f["method"], "POST");
    assert_eq!(f["path"], CHAT);
    assert_eq!(f["scope_kind"], "job");
    assert_eq!(f["scope_name"], "CustomHealthProgramJob");
    assert_eq!(f["count"], 3);
    assert_eq!(f["runs"], 1);
    assert_eq!(f["total_ms"], 5400.0);
    assert_eq!(f["location"], JOB_RB);
    assert_eq!(f["cost_usd"], 0.0011025);
    // 5,400 ms per job run: medium (≥ 2,000 ms in the background)
    assert_eq!(f["priority"], "medium");
    let reason = s(&f["reason"]);
    assert!(reason.contains("up to 3 times per run"), "{reason}");
    assert!(reason.contains("5,400 ms"), "{reason}");
    let suggestion = s(&f["suggestion"]);
    assert!(suggestion.contains("response_format"), "{suggestion}");
    assert!(suggestion.contains("Batch API"), "{suggestion}");

    // Two calls are below the threshold of 3; a threshold of 2 catches them.
    let two = scope(
        "job",
        "CustomHealthProgramJob",
        4000.0,
        vec![
            chat(1800.0, 850, 400, "1", JOB_RB),
            chat(1800.0, 850, 400, "2", JOB_RB),
        ],
    );
    assert!(of(&run(vec![two.clone()], json!({})), "external_call_in_loop").is_empty());
    assert_eq!(
        of(
            &run(vec![two], json!({"loop_threshold": 2})),
            "external_call_in_loop"
        )
        .len(),
        1
    );
}

#[test]
fn embeddings_loop_suggests_an_input_array() {
    let embed = |i: u64| {
        json!({"host": OPENAI, "method": "POST", "path": "/v1/embeddings", "status": 200,
               "duration_ms": 120.0, "timeout_s": 10.0, "model": "text-embedding-3-small",
               "prompt_tokens": 200 + i, "total_tokens": 200 + i,
               "location": "app/models/exercise.rb:40"})
    };
    let report = run(
        vec![scope(
            "job",
            "ExerciseEmbeddingJob",
            900.0,
            (0..5).map(embed).collect(),
        )],
        json!({}),
    );
    let f = &of(&report, "external_call_in_loop")[0];
    assert_eq!(f["count"], 5);
    let suggestion = s(&f["suggestion"]);
    assert!(suggestion.contains("input: texts"), "{suggestion}");
    assert!(
        suggestion.contains("text-embedding-3-small"),
        "{suggestion}"
    );
    // Embeddings: no completion tokens; 1,010 prompt tokens × $0.02 / 10⁶
    assert_eq!(report["calls"][0]["cost_usd"], 0.000004);
    assert_eq!(report["costs"]["by_model"][0]["prompt_tokens"], 1010);
    assert_eq!(report["costs"]["by_model"][0]["completion_tokens"], 0);
    assert_eq!(report["costs"]["by_model"][0]["cost_usd"], 0.0000202);
}

#[test]
fn job_dominated_by_external_time_gets_a_rate_limited_queue() {
    let report = run(vec![program_job()], json!({}));
    let found = of(&report, "external_dominated_job");
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f["scope_name"], "CustomHealthProgramJob");
    assert_eq!(f["host"], OPENAI);
    assert_eq!(f["total_ms"], 5400.0);
    assert_eq!(f["max_ms"], 1800.0);
    assert_eq!(f["count"], 3);
    assert_eq!(f["cost_usd"], 0.0011025);
    let reason = s(&f["reason"]);
    // 5,400 of 6,000 ms; 3 calls × 60,000 / 6,000 ms = 30 requests/min;
    // 3,750 tokens × 60,000 / 6,000 = 37,500 tokens/min;
    // floor(min(200,000 / 37,500, 500 / 30)) = floor(5.33) = 5
    assert!(reason.contains("5,400 ms of 6,000 ms (90%)"), "{reason}");
    assert!(reason.contains("30 requests/min"), "{reason}");
    assert!(reason.contains("37,500 tokens/min"), "{reason}");
    assert!(reason.contains("3,750 tokens per run"), "{reason}");
    assert!(reason.contains("= 5"), "{reason}");
    let suggestion = s(&f["suggestion"]);
    assert!(suggestion.contains("queue_as :openai"), "{suggestion}");
    assert!(
        suggestion.contains("config.capsule(\"openai\")"),
        "{suggestion}"
    );
    assert!(suggestion.contains("cap.concurrency = 5"), "{suggestion}");

    // 40% external: not dominated.
    let mostly_db = scope(
        "job",
        "WeeklyReportJob",
        10_000.0,
        vec![chat(
            4000.0,
            100,
            100,
            "x",
            "app/jobs/weekly_report_job.rb:5",
        )],
    );
    assert!(of(&run(vec![mostly_db], json!({})), "external_dominated_job").is_empty());
}

#[test]
fn request_calling_openai_synchronously_is_moved_to_a_job() {
    let location = "app/controllers/api/v1/programs_controller.rb:14";
    let report = run(
        vec![scope(
            "request",
            "Api::V1::ProgramsController#create",
            2400.0,
            vec![chat(1800.0, 850, 400, "abcdabcdabcdabcd", location)],
        )],
        json!({"request_budget_ms": 500.0}),
    );
    let found = of(&report, "external_call_in_request");
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f["scope_kind"], "request");
    assert_eq!(f["scope_name"], "Api::V1::ProgramsController#create");
    assert_eq!(f["count"], 1);
    assert_eq!(f["total_ms"], 1800.0);
    assert_eq!(f["location"], location);
    // 1,800 ms of request time: high (≥ 500 ms, < 2,000 ms)
    assert_eq!(f["priority"], "high");
    let reason = s(&f["reason"]);
    assert!(reason.contains("1,800 ms"), "{reason}");
    assert!(reason.contains("of 2,400 ms elapsed"), "{reason}");
    assert!(reason.contains("500 ms request budget"), "{reason}");
    let suggestion = s(&f["suggestion"]);
    assert!(
        suggestion.contains("class ProgramsCreateJob < ApplicationJob"),
        "{suggestion}"
    );
    assert!(
        suggestion.contains("ProgramsCreateJob.perform_later(result.id)"),
        "{suggestion}"
    );
    assert!(suggestion.contains("status: :accepted"), "{suggestion}");
    assert!(suggestion.contains("Turbo::StreamsChannel"), "{suggestion}");

    // Several fast calls whose sum exceeds the budget are reported too; a
    // fast call within the budget is not.
    let fast = |fp: &str| chat(300.0, 100, 50, fp, location);
    let sum = run(
        vec![scope(
            "request",
            "Api::V1::ProgramsController#show",
            700.0,
            vec![fast("a"), fast("b")],
        )],
        json!({}),
    );
    let f = &of(&sum, "external_call_in_request")[0];
    assert_eq!(f["count"], 2);
    assert_eq!(f["total_ms"], 600.0);
    assert_eq!(f["priority"], "high"); // 600 ms ≥ 500 ms
    let within = run(
        vec![scope(
            "request",
            "Api::V1::ProgramsController#show",
            700.0,
            vec![fast("a")],
        )],
        json!({}),
    );
    assert!(of(&within, "external_call_in_request").is_empty());
    // The same call in a job is not a request finding.
    let job = run(
        vec![scope(
            "job",
            "ProgramJob",
            2400.0,
            vec![chat(1800.0, 850, 400, "a", location)],
        )],
        json!({}),
    );
    assert!(of(&job, "external_call_in_request").is_empty());
}

#[test]
fn repeated_identical_prompts_are_cache_candidates() {
    // ExerciseSuggestionsJob asks the same question for 4 users; a request
    // asks it once more with another fingerprint.
    let fp = "ab12cd34ef56ab78";
    let location = "app/jobs/exercise_suggestions_job.rb:20";
    let runs: Vec<Value> = (0..4)
        .map(|_| {
            scope(
                "job",
                "ExerciseSuggestionsJob",
                2000.0,
                vec![chat(1500.0, 500, 200, fp, location)],
            )
        })
        .collect();
    let report = run(runs, json!({"monthly_scale": 30}));
    let candidates = report["costs"]["cache_candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1);
    let c = &candidates[0];
    assert_eq!(c["prompt_fingerprint"], fp);
    assert_eq!(c["model"], "gpt-4o-mini");
    assert_eq!(c["calls"], 4);
    assert_eq!(c["repeats"], 3);
    assert_eq!(c["hit_rate"], 0.75);
    // each 500 × 0.15 / 10⁶ + 200 × 0.60 / 10⁶ = 0.000195; 4 × 0.000195 × 3/4
    assert_eq!(c["cost_saved_usd"], 0.000585);
    assert_eq!(c["time_saved_ms"], 4500.0);

    let found = of(&report, "duplicate_external_call");
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f["prompt_fingerprint"], fp);
    assert_eq!(f["count"], 4);
    assert_eq!(f["hit_rate"], 0.75);
    assert_eq!(f["cost_usd"], 0.000585);
    assert_eq!(f["cost_usd_per_month"], 0.01755);
    assert_eq!(f["scope_name"], "ExerciseSuggestionsJob");
    assert_eq!(f["runs"], 4);
    assert_eq!(f["total_ms"], 6000.0);
    assert_eq!(f["max_ms"], 1500.0);
    assert_eq!(f["location"], location);
    // 4,500 ms saved in the background: medium
    assert_eq!(f["priority"], "medium");
    let reason = s(&f["reason"]);
    assert!(reason.contains("sent 4 times"), "{reason}");
    assert!(reason.contains("hit rate 75%"), "{reason}");
    assert!(reason.contains("$0.000585 of $0.00078"), "{reason}");
    let suggestion = s(&f["suggestion"]);
    assert!(
        suggestion.contains("Rails.cache.fetch([\"openai\", fingerprint], expires_in: 12.hours)"),
        "{suggestion}"
    );
    assert!(
        suggestion.contains("client.chat(parameters: parameters)"),
        "{suggestion}"
    );
    assert!(suggestion.contains(fp), "{suggestion}");
}

#[test]
fn duplicates_across_scopes_and_with_unknown_costs() {
    let fp = "00000000deadbeef";
    let priced = chat(1000.0, 1000, 1000, fp, "app/a.rb:1");
    // Usage unknown (a streamed answer): the mean of the known cost counts.
    let unpriced = with(
        chat(1000.0, 0, 0, fp, "app/b.rb:2"),
        json!({"prompt_tokens": null, "completion_tokens": null, "total_tokens": null}),
    );
    let report = run(
        vec![
            scope("job", "A", 2000.0, vec![priced]),
            scope("request", "B#show", 1200.0, vec![unpriced]),
        ],
        json!({}),
    );
    assert_eq!(report["calls"][1]["cost_usd"], Value::Null);
    let f = &of(&report, "duplicate_external_call")[0];
    assert_eq!(f["scope_name"], Value::Null);
    assert_eq!(f["runs"], 2);
    assert_eq!(f["hit_rate"], 0.5);
    // known: 1,000 × 0.15 / 10⁶ + 1,000 × 0.60 / 10⁶ = 0.00075; 2 calls at it, × 1/2
    assert_eq!(f["cost_usd"], 0.00075);
    // 1,000 ms saved, one of the calls in a request: high
    assert_eq!(f["priority"], "high");
    assert!(s(&f["reason"]).contains("across 2 scope classes"));
}

#[test]
fn rate_limit_bursts_are_external_errors() {
    let location = "app/jobs/meal_plan_job.rb:31";
    let mut calls = Vec::new();
    for i in 0..10 {
        let status = match i {
            2..=4 => 429,
            5 => 503,
            _ => 200,
        };
        calls.push(with(
            chat(300.0, 100, 100, &format!("{i:016x}"), location),
            json!({"status": status, "retries": if status == 429 { 2 } else { 0 }}),
        ));
    }
    let report = run(
        vec![scope("job", "MealPlanJob", 9000.0, calls)],
        json!({"loop_threshold": 20}),
    );
    let found = of(&report, "external_errors");
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f["host"], OPENAI);
    assert_eq!(f["path"], CHAT);
    assert_eq!(f["count"], 4);
    assert_eq!(f["runs"], 1);
    assert_eq!(f["scope_name"], "MealPlanJob");
    assert_eq!(f["hit_rate"], 0.4); // the failed share
    assert_eq!(f["total_ms"], 1200.0);
    assert_eq!(f["location"], location);
    // 40% (< 50%): the medium floor
    assert_eq!(f["priority"], "medium");
    let reason = s(&f["reason"]);
    assert!(reason.contains("4 of 10 calls failed (40%"), "{reason}");
    assert!(reason.contains("3 × 429, 1 × 5xx"), "{reason}");
    assert!(reason.contains("6 retries"), "{reason}");
    let suggestion = s(&f["suggestion"]);
    assert!(
        suggestion.contains("VirtualTrainerOptimizer::CircuitBreaker"),
        "{suggestion}"
    );
    assert!(suggestion.contains("retry-after"), "{suggestion}");
    assert!(suggestion.contains("rand"), "{suggestion}");
    assert!(suggestion.contains("retry_on"), "{suggestion}");

    // One failure in 100 is under the 5% rate; a timeout without a response counts.
    let mut calls: Vec<Value> = (0..99)
        .map(|i| chat(100.0, 10, 10, &format!("{i}"), location))
        .collect();
    calls.push(with(
        chat(30_000.0, 10, 10, "z", location),
        json!({"status": null, "error": "Net::ReadTimeout"}),
    ));
    let low = run(
        vec![scope("job", "MealPlanJob", 60_000.0, calls.clone())],
        json!({"loop_threshold": 1000}),
    );
    assert!(of(&low, "external_errors").is_empty());
    let strict = run(
        vec![scope("job", "MealPlanJob", 60_000.0, calls)],
        json!({"loop_threshold": 1000, "error_rate": 0.01}),
    );
    let f = &of(&strict, "external_errors")[0];
    assert!(s(&f["reason"]).contains("1 without a response"));
    // 30,000 ms in failed calls in the background: high
    assert_eq!(f["priority"], "high");
}

#[test]
fn calls_without_timeouts_or_with_long_ones() {
    let location = "app/controllers/api/v1/coach_controller.rb:8";
    let no_timeout = with(
        chat(350.0, 100, 100, "a", location),
        json!({"timeout_s": null}),
    );
    let report = run(
        vec![scope(
            "request",
            "Api::V1::CoachController#ask",
            450.0,
            vec![no_timeout],
        )],
        json!({}),
    );
    let found = of(&report, "external_timeout");
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f["scope_kind"], "request");
    assert_eq!(f["priority"], "high");
    let reason = s(&f["reason"]);
    assert!(reason.contains("without a timeout"), "{reason}");
    assert!(reason.contains("so 1 s: twice it"), "{reason}");
    let suggestion = s(&f["suggestion"]);
    assert!(
        suggestion.contains("OpenAI::Client.new(request_timeout: 1)"),
        "{suggestion}"
    );
    assert!(
        suggestion.contains("timeout: 1, open_timeout: 1"),
        "{suggestion}"
    );

    // A timeout of 0 is none too.
    let zero = with(chat(350.0, 1, 1, "a", location), json!({"timeout_s": 0}));
    let report = run(vec![scope("job", "CoachJob", 450.0, vec![zero])], json!({}));
    assert_eq!(of(&report, "external_timeout")[0]["priority"], "medium");

    // 60 s timeouts in a job expected to run 30 s: suggest 2 × 1,800 ms → 4 s.
    let report = run(vec![program_job()], json!({"expected_job_ms": 30000}));
    let f = &of(&report, "external_timeout")[0];
    assert_eq!(f["count"], 3);
    assert_eq!(f["priority"], "low");
    let reason = s(&f["reason"]);
    assert!(reason.contains("60,000 ms timeout"), "{reason}");
    assert!(reason.contains("longer than the 30,000 ms"), "{reason}");
    assert!(s(&f["suggestion"]).contains("request_timeout: 4"));
    // Expected 90 s: the 60 s timeout fits.
    let report = run(vec![program_job()], json!({"expected_job_ms": 90000}));
    assert!(of(&report, "external_timeout").is_empty());
    // Unknown expected run: no limit to compare with (the job's own 6 s
    // says nothing about how long it may run).
    let report = run(vec![program_job()], json!({}));
    assert!(of(&report, "external_timeout").is_empty());
    // A request with a 60 s timeout: Heroku's router cuts it at 30 s. Twice
    // 1,800 ms is 3,600 ms, rounded up: 4 s (medium in a request).
    let request = |options: Value| {
        run(
            vec![scope(
                "request",
                "Api::V1::ProgramsController#create",
                2400.0,
                vec![chat(1800.0, 1, 1, "a", location)],
            )],
            options,
        )
    };
    let report = request(json!({}));
    let f = &of(&report, "external_timeout")[0];
    assert_eq!(f["priority"], "medium");
    assert!(s(&f["reason"]).contains("30,000 ms"), "{}", s(&f["reason"]));
    assert!(s(&f["suggestion"]).contains("request_timeout: 4)"));
    // A platform that allows requests 120 s: the 60 s timeout fits.
    assert!(of(
        &request(json!({"request_timeout_ms": 120000})),
        "external_timeout"
    )
    .is_empty());
}

#[test]
fn slow_calls_get_streaming_and_a_token_cap() {
    let slow = chat(
        12_000.0,
        2000,
        1180,
        "s",
        "app/controllers/api/v1/programs_controller.rb:14",
    );
    let report = run(
        vec![scope("job", "ProgramJob", 13_000.0, vec![slow])],
        json!({}),
    );
    let f = &of(&report, "slow_external_call")[0];
    assert_eq!(f["max_ms"], 12000.0);
    // 12,000 ms in a job: high (≥ 10,000 ms)
    assert_eq!(f["priority"], "high");
    let reason = s(&f["reason"]);
    // 1,180 tokens / 12 s
    assert!(reason.contains("about 98 tokens/s"), "{reason}");
    let suggestion = s(&f["suggestion"]);
    assert!(suggestion.contains("stream: proc"), "{suggestion}");
    assert!(
        suggestion.contains("parameters[:max_tokens] = 1200"),
        "{suggestion}"
    );
    assert!(suggestion.contains("queue_as :openai_slow"), "{suggestion}");
    // Under the threshold: nothing.
    let report = run(
        vec![scope(
            "job",
            "ProgramJob",
            13_000.0,
            vec![chat(4000.0, 1, 1, "s", "x")],
        )],
        json!({}),
    );
    assert!(of(&report, "slow_external_call").is_empty());
}

#[test]
fn money_raises_priority() {
    // gpt-4o, 20,000 prompt + 2,000 completion tokens: 0.05 + 0.02 = $0.07 a
    // call; 3 calls a run, × 1,000 runs a month = $210: critical, though
    // 3 × 900 ms of background time alone is low.
    let call = |fp: &str| {
        with(
            chat(900.0, 20_000, 2_000, fp, "app/jobs/plan_job.rb:3"),
            json!({"model": "gpt-4o"}),
        )
    };
    let report = run(
        vec![scope(
            "job",
            "PlanJob",
            10_000.0,
            vec![call("a"), call("b"), call("c")],
        )],
        json!({"monthly_scale": 1000}),
    );
    assert_eq!(report["calls"][0]["cost_usd"], 0.07);
    let f = &of(&report, "external_call_in_loop")[0];
    assert_eq!(f["cost_usd"], 0.21);
    assert_eq!(f["cost_usd_per_month"], 210.0);
    assert_eq!(f["priority"], "critical");
    // Findings come critical first.
    assert_eq!(report["findings"][0]["priority"], "critical");
}

#[test]
fn unknown_models_usage_and_dated_snapshots() {
    let dated = with(
        chat(100.0, 1000, 0, "a", "x"),
        json!({"model": "gpt-4o-mini-2024-07-18"}),
    );
    let unknown = with(chat(100.0, 1000, 0, "b", "x"), json!({"model": "llama-3"}));
    let no_model = with(chat(100.0, 1000, 0, "c", "x"), json!({"model": null}));
    // Only the total: the completion count is derived from it.
    let total_only = with(
        chat(100.0, 0, 0, "d", "x"),
        json!({"prompt_tokens": 1000, "completion_tokens": null, "total_tokens": 1500}),
    );
    let report = run(
        vec![scope(
            "scan",
            "rake ai:backfill",
            1000.0,
            vec![dated, unknown, no_model, total_only],
        )],
        json!({}),
    );
    let calls = &report["calls"];
    assert_eq!(calls[0]["cost_usd"], 0.00015); // priced as gpt-4o-mini
    assert_eq!(calls[1]["cost_usd"], Value::Null);
    assert_eq!(calls[2]["cost_usd"], Value::Null);
    assert_eq!(calls[3]["cost_usd"], 0.00045); // 0.00015 + 500 × 0.60 / 10⁶
    let by_model = report["costs"]["by_model"].as_array().unwrap();
    let llama = by_model.iter().find(|m| m["model"] == "llama-3").unwrap();
    assert_eq!(llama["cost_usd"], Value::Null);
    assert_eq!(llama["calls"], 1);
    assert_eq!(by_model.len(), 3); // the call without a model is left out

    // No prices at all: every cost unknown, no projection.
    let input = json!({"scopes": [program_job()]});
    let report: Value = serde_json::from_str(&analyze_json(&input.to_string()).unwrap()).unwrap();
    assert_eq!(report["calls"][0]["cost_usd"], Value::Null);
    assert_eq!(report["costs"]["total_cost_usd"], Value::Null);
    assert_eq!(report["costs"]["prices_as_of"], Value::Null);
    assert!(report["costs"]["monthly_projection"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn empty_and_default_input() {
    let report: Value = serde_json::from_str(&analyze_json("{}").unwrap()).unwrap();
    assert!(report["calls"].as_array().unwrap().is_empty());
    assert!(report["findings"].as_array().unwrap().is_empty());
    let input =
        Input::from_json(r#"{"options": {"loop_threshold": 0, "error_rate": null}}"#).unwrap();
    assert_eq!(input.options.loop_threshold, 2);
    assert_eq!(input.options.error_rate, 0.05);
    assert_eq!(input.options.request_budget_ms, 500.0);
    assert_eq!(input.options.slow_call_ms, 5000.0);
    assert_eq!(input.options.monthly_scale, 30.0);
    assert_eq!(input.options.expected_job_ms, None);
}

#[test]
fn malformed_input_is_an_invalid_input_error() {
    for bad in [
        "",
        "null",
        "[]",
        "not json",
        "{",
        r#"{"scopes": [{"kind": "cron", "calls": []}]}"#,
        r#"{"scopes": [{"calls": [{"host": 42}]}]}"#,
        r#"{"scopes": [{"calls": [{"duration_ms": "slow"}]}]}"#,
        r#"{"scopes": "all"}"#,
    ] {
        assert!(
            matches!(analyze_json(bad), Err(Error::InvalidInput { .. })),
            "{bad:?}"
        );
    }
    let huge = format!("{{\"x\": \"{}\"}}", "a".repeat(MAX_INPUT_BYTES));
    assert!(matches!(
        analyze_json(&huge),
        Err(Error::InputTooLarge { .. })
    ));
}

#[test]
fn hostile_input_never_panics() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!(
        "{{\"scopes\": [{{\"calls\": [{{\"x\": {}1{}}}]}}]}}",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let odd = json!({"scopes": [
        {"kind": "request", "name": "", "elapsed_ms": -5, "calls": [
            {"host": "", "method": "", "path": "", "status": -1, "duration_ms": -100,
             "prompt_tokens": -3, "completion_tokens": 1e300, "total_tokens": 18446744073709551615u64,
             "timeout_s": -1, "model": "gpt-4o-mini", "prompt_fingerprint": "", "retries": 1e20},
            {"host": "ÄPI.例え.jp", "method": "post", "path": "/v1/%00\u{0}", "status": 999,
             "duration_ms": 1e308, "model": "gpt-4o-mini-", "prompt_fingerprint": "x"},
            {"prompt_fingerprint": "x", "status": 0}
        ]},
        {"kind": "job", "name": "\u{202e}Job", "elapsed_ms": 0, "calls": [{}, {}, {}]},
        {"kind": "job", "calls": null}, {}],
     "prices": {"models": {"gpt-4o-mini": {"input_per_million": -1, "output_per_million": 1e308},
                           "": {"input_per_million": 1}}},
     "options": {"request_budget_ms": -1, "slow_call_ms": 0, "loop_threshold": 1e30,
                 "error_rate": -2, "expected_job_ms": 0, "monthly_scale": 1e308,
                 "dominated_share": 0}});
    let odd = odd.to_string();
    for input in [
        deep.as_str(),
        deep_object.as_str(),
        odd.as_str(),
        "{\"scopes\": [null]}",
    ] {
        let _ = analyze_json(input);
        let _ = prompt_fingerprint(input);
    }
    let report: Value = serde_json::from_str(&analyze_json(&odd).unwrap()).unwrap();
    assert_eq!(report["calls"].as_array().unwrap().len(), 6);
    for f in report["findings"].as_array().unwrap() {
        assert!(!s(&f["reason"]).is_empty());
        assert!(!s(&f["suggestion"]).is_empty());
    }
}

// ---------------------------------------------------------------------------
// Prompt fingerprint

fn fp(body: Value) -> String {
    prompt_fingerprint(&body.to_string()).unwrap().unwrap()
}

fn messages(model: &str, messages: Value) -> Value {
    json!({"model": model, "messages": messages})
}

#[test]
fn fingerprint_is_stable_and_whitespace_insensitive() {
    let a = fp(messages(
        "gpt-4o-mini",
        json!([{"role": "system", "content": "You are a strength coach."},
               {"role": "user", "content": "Build a 4-week program for a beginner."}]),
    ));
    assert_eq!(a.len(), 16);
    assert!(a
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    // Pinned: the fingerprint is a cache key and must not change between versions.
    assert_eq!(a, "2af9c15d96ed8300");
    let b = fp(json!({"messages": [
        {"content": "  You are a\tstrength   coach. ", "role": "system"},
        {"role": "user", "content": "Build a 4-week\n\nprogram for a beginner.\n"}],
        "temperature": 0.7, "max_tokens": 500, "user": "user-42", "stream": true,
        "model": "gpt-4o-mini"}));
    assert_eq!(a, b);
    // Case is kept.
    let c = fp(messages(
        "gpt-4o-mini",
        json!([{"role": "system", "content": "You are a strength coach."},
               {"role": "user", "content": "build a 4-week program for a beginner."}]),
    ));
    assert_ne!(a, c);
}

#[test]
fn fingerprint_depends_on_model_role_and_order() {
    let msgs = json!([{"role": "user", "content": "Suggest a warm-up."}]);
    let mini = fp(messages("gpt-4o-mini", msgs.clone()));
    assert_ne!(mini, fp(messages("gpt-4o", msgs)));
    assert_ne!(
        mini,
        fp(messages(
            "gpt-4o-mini",
            json!([{"role": "system", "content": "Suggest a warm-up."}])
        ))
    );
    let ab = fp(messages(
        "gpt-4o-mini",
        json!([{"role": "user", "content": "A"}, {"role": "user", "content": "B"}]),
    ));
    let ba = fp(messages(
        "gpt-4o-mini",
        json!([{"role": "user", "content": "B"}, {"role": "user", "content": "A"}]),
    ));
    assert_ne!(ab, ba);
    // Two messages are not one message with both texts.
    let joined = fp(messages(
        "gpt-4o-mini",
        json!([{"role": "user", "content": "A B"}]),
    ));
    assert_ne!(ab, joined);
    // Settings that change the answer's form count.
    let json_mode = fp(
        json!({"model": "gpt-4o-mini", "response_format": {"type": "json_object"},
                              "messages": [{"role": "user", "content": "Suggest a warm-up."}]}),
    );
    assert_ne!(mini, json_mode);
}

#[test]
fn fingerprint_reads_content_parts() {
    let text = fp(messages(
        "gpt-4o-mini",
        json!([{"role": "user", "content": "Rate my squat form please"}]),
    ));
    let parts = fp(messages(
        "gpt-4o-mini",
        json!([{"role": "user", "content": [
            {"type": "text", "text": "Rate my squat"}, {"type": "text", "text": " form please "}]}]),
    ));
    assert_eq!(text, parts);
    let image = |url: &str| {
        fp(messages(
            "gpt-4o-mini",
            json!([{"role": "user", "content": [
                {"type": "text", "text": "Rate my squat form please"},
                {"type": "image_url", "image_url": {"url": url}}]}]),
        ))
    };
    // Images count: different images never share a fingerprint.
    assert_ne!(
        image("https://cdn.example/a.jpg"),
        image("https://cdn.example/b.jpg")
    );
    assert_eq!(
        image("https://cdn.example/a.jpg"),
        image("https://cdn.example/a.jpg")
    );
    assert_ne!(text, image("https://cdn.example/a.jpg"));
}

#[test]
fn fingerprint_reads_input_and_prompt() {
    let embed = fp(json!({"model": "text-embedding-3-small", "input": "Barbell back squat"}));
    assert_eq!(
        embed,
        fp(json!({"model": "text-embedding-3-small", "input": "  Barbell  back squat"}))
    );
    assert_ne!(
        embed,
        fp(json!({"model": "text-embedding-3-small", "input": ["Barbell back squat", "Deadlift"]}))
    );
    let legacy = fp(json!({"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi"}));
    assert_eq!(
        legacy,
        fp(json!({"model": "gpt-3.5-turbo-instruct", "prompt": ["Say hi"]}))
    );
    // The Responses API: instructions and input messages.
    let responses = fp(json!({"model": "gpt-4o-mini", "instructions": "Be brief.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Plan a deload week"}]}]}));
    assert_ne!(
        responses,
        fp(
            json!({"model": "gpt-4o-mini", "instructions": "Be thorough.",
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "Plan a deload week"}]}]})
        )
    );
    assert_eq!(
        responses,
        fp(json!({"model": "gpt-4o-mini", "instructions": "Be  brief.",
            "input": [{"role": "user", "content": "Plan a deload week"}]}))
    );
}

#[test]
fn fingerprint_none_without_a_prompt_or_json() {
    for body in [
        "",
        "not json",
        "grant_type=client_credentials&scope=read",
        "{\"model\": \"gpt-4o-mini\"",
        "[1, 2, 3]",
        "\"a string\"",
        "{\"model\": \"gpt-4o-mini\"}",
        "{\"model\": \"gpt-4o-mini\", \"input\": null}",
        "{\"file\": \"abc\", \"purpose\": \"batch\"}",
    ] {
        assert_eq!(prompt_fingerprint(body).unwrap(), None, "{body:?}");
    }
    // An empty message list is no prompt either.
    assert_eq!(
        prompt_fingerprint(r#"{"model": "gpt-4o-mini", "messages": []}"#).unwrap(),
        None
    );
}

#[test]
fn fingerprint_hostile_bodies() {
    let big = format!("{{\"input\": \"{}\"}}", "a".repeat(MAX_BODY_BYTES));
    assert!(matches!(
        prompt_fingerprint(&big),
        Err(Error::InputTooLarge { .. })
    ));
    let deep = format!(
        "{{\"messages\": {}{}}}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    assert_eq!(prompt_fingerprint(&deep).unwrap(), None);
    for body in [
        r#"{"messages": [1, "x", null, true, {"role": 5, "content": {"a": 1}}]}"#,
        r#"{"messages": "hello", "model": 4}"#,
        r#"{"input": [[1, 2, 3], {"x": 1}, null]}"#,
        r#"{"messages": [{"role": "user", "content": "\u0000\u001e\u001f"}]}"#,
    ] {
        let first = prompt_fingerprint(body).unwrap();
        assert_eq!(first, prompt_fingerprint(body).unwrap());
    }
}
