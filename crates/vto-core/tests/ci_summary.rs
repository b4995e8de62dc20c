//! The CI summary: grouping, ordering, totals and the four outputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use serde_json::{json, Value};
use vto_core::detect::Priority;
use vto_core::report::ci::{render, summarize, summarize_json, Format, Input, Summary};
use vto_core::Error;

const WORKOUTS_SQL: &str = r#"SELECT "workouts".* FROM "workouts" WHERE "workouts"."user_id" = ?"#;
const DASHBOARD: &str = "app/controllers/dashboards_controller.rb:14";

fn input(value: Value) -> Input {
    Input::from_json(&value.to_string()).unwrap()
}

fn summary(value: Value) -> Summary {
    summarize(&input(value))
}

fn n_plus_one(count: u64, priority: &str, total_ms: f64, scope: &str) -> Value {
    json!({"kind": "n_plus_one", "fingerprint": "9f86d081884c7d65", "count": count,
           "sql": WORKOUTS_SQL, "location": DASHBOARD,
           "suggestion": "includes(:workouts) on the User query at app/controllers/dashboards_controller.rb:12",
           "priority": priority, "total_ms": total_ms, "scope": scope, "baselined": false})
}

fn duplicate(baselined: bool) -> Value {
    json!({"kind": "duplicate_query", "fingerprint": "1b4f0e9851971998", "count": 2,
           "sql": r#"SELECT "plans".* FROM "plans" WHERE "plans"."id" = ? LIMIT ?"#,
           "location": "app/models/plan.rb:8", "suggestion": "memoize Plan.current",
           "priority": "low", "total_ms": 0.4, "scope": "GET /dashboard", "baselined": baselined})
}

fn two_offenders() -> Value {
    json!({"tool_version": "9.9.9", "findings": [
        n_plus_one(12, "high", 3.25, "GET /dashboard"),
        n_plus_one(7, "medium", 1.5, "GET /teams/1"),
        duplicate(true),
    ]})
}

fn parse(output: &str) -> Value {
    serde_json::from_str(output).unwrap()
}

#[test]
fn entries_group_by_kind_fingerprint_and_location() {
    let s = summary(json!({"findings": [
        n_plus_one(12, "medium", 3.25, "GET /dashboard"),
        n_plus_one(7, "high", 1.5, "GET /teams/1"),
        n_plus_one(3, "low", 0.25, "GET /dashboard"),
        {"kind": "n_plus_one", "fingerprint": "9f86d081884c7d65", "count": 2, "priority": "low",
         "location": "app/models/user.rb:3", "scope": "GET /"},
    ]}));
    assert_eq!(s.findings, 4);
    assert_eq!(s.offenders.len(), 2);
    let o = &s.offenders[0];
    assert_eq!(o.location.as_deref(), Some(DASHBOARD));
    assert_eq!(
        o.path.as_deref(),
        Some("app/controllers/dashboards_controller.rb")
    );
    assert_eq!(o.line, Some(14));
    assert_eq!((o.occurrences, o.queries, o.max_count), (3, 22, 12));
    assert_eq!(o.total_ms, 5.0);
    assert_eq!(o.priority, Priority::High, "the highest priority seen");
    assert_eq!(o.scopes, ["GET /dashboard", "GET /teams/1"]);
    assert_eq!(o.scope_count, 2);
    assert_eq!(o.sql.as_deref(), Some(WORKOUTS_SQL));
    assert!(!o.baselined);
}

#[test]
fn sql_and_suggestion_come_from_the_first_entry_that_has_them() {
    let s = summary(json!({"findings": [
        {"kind": "slow_query", "fingerprint": "aa", "priority": "low", "location": "a.rb:1"},
        {"kind": "slow_query", "fingerprint": "aa", "priority": "low", "location": "a.rb:1",
         "sql": "SELECT ?", "suggestion": null},
        {"kind": "slow_query", "fingerprint": "aa", "priority": "low", "location": "a.rb:1",
         "sql": "SELECT ? -- later", "suggestion": "add an index"},
    ]}));
    let o = &s.offenders[0];
    assert_eq!(o.sql.as_deref(), Some("SELECT ?"));
    assert_eq!(o.suggestion.as_deref(), Some("add an index"));
}

#[test]
fn scopes_keep_five_distinct_names_in_first_seen_order_and_count_all() {
    let names = ["G", "A", "G", "F", "B", "E", "C", "A", "D"];
    let findings: Vec<Value> = names.iter().map(|n| n_plus_one(2, "low", 0.1, n)).collect();
    let s = summary(json!({ "findings": findings }));
    let o = &s.offenders[0];
    assert_eq!(o.scopes, ["G", "A", "F", "B", "E"]);
    assert_eq!(o.scope_count, 7);
    assert_eq!(o.occurrences, 9);
}

#[test]
fn an_offender_is_baselined_only_when_every_occurrence_is() {
    let s = summary(json!({"findings": [duplicate(true), duplicate(false)]}));
    assert!(!s.offenders[0].baselined);
    let s = summary(json!({"findings": [duplicate(true), duplicate(true)]}));
    assert!(s.offenders[0].baselined);
}

#[test]
fn offenders_are_ordered_new_first_then_priority_queries_time_and_location() {
    let entry = |loc: &str, priority: &str, count: u64, ms: f64, baselined: bool| {
        json!({"kind": "n_plus_one", "fingerprint": "ff", "location": loc, "priority": priority,
               "count": count, "total_ms": ms, "baselined": baselined})
    };
    let s = summary(json!({"findings": [
        entry("z.rb:1", "critical", 99, 99.0, true),
        entry("b.rb:1", "low", 50, 1.0, false),
        entry("c.rb:1", "high", 5, 1.0, false),
        entry("d.rb:1", "high", 9, 1.0, false),
        entry("e.rb:1", "high", 9, 2.0, false),
        entry("a.rb:1", "high", 9, 2.0, false),
        entry("f.rb:1", "critical", 2, 0.1, false),
    ]}));
    let order: Vec<&str> = s
        .offenders
        .iter()
        .map(|o| o.location.as_deref().unwrap())
        .collect();
    assert_eq!(
        order,
        ["f.rb:1", "a.rb:1", "e.rb:1", "d.rb:1", "c.rb:1", "b.rb:1", "z.rb:1"]
    );
}

#[test]
fn the_summary_does_not_depend_on_hash_order() {
    let a = summary(two_offenders());
    for _ in 0..5 {
        let b = summary(two_offenders());
        assert_eq!(a, b);
        for format in [Format::Text, Format::Json, Format::Sarif, Format::Github] {
            assert_eq!(render(&a, format), render(&b, format));
        }
    }
}

#[test]
fn totals_follow_the_fixed_kind_order_then_other_kinds_by_name() {
    let f = |kind: &str, loc: &str| json!({"kind": kind, "priority": "low", "location": loc, "count": 2, "total_ms": 1.5});
    let s = summary(json!({"findings": [
        f("zeta_thing", "a.rb:1"), f("slow_scan", "a.rb:1"), f("alpha_thing", "a.rb:1"),
        f("slow_job", "a.rb:1"), f("slow_request", "a.rb:1"), f("slow_query", "a.rb:1"),
        f("duplicate_query", "a.rb:1"), f("bulk_write", "a.rb:1"), f("n_plus_one", "a.rb:1"),
        f("n_plus_one", "b.rb:2"), f("n_plus_one", "b.rb:2"),
    ]}));
    let kinds: Vec<&str> = s.totals.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "n_plus_one",
            "bulk_write",
            "duplicate_query",
            "slow_query",
            "slow_request",
            "slow_job",
            "slow_scan",
            "alpha_thing",
            "zeta_thing"
        ]
    );
    let n = &s.totals[0];
    assert_eq!(
        (n.places, n.occurrences, n.queries, n.total_ms),
        (2, 3, 6, 4.5)
    );
}

#[test]
fn missing_optional_fields_default() {
    let input = input(json!({"findings": [{"kind": "slow_request", "priority": "high"}]}));
    assert_eq!(input.top, 10);
    assert_eq!(input.tool_version, None);
    let e = &input.findings[0];
    assert_eq!((e.count, e.total_ms, e.baselined), (1, 0.0, false));
    assert_eq!(
        (&e.fingerprint, &e.sql, &e.location, &e.suggestion, &e.scope),
        (&None, &None, &None, &None, &None)
    );

    let s = summarize(&input);
    assert_eq!(s.tool_version, env!("CARGO_PKG_VERSION"));
    let o = &s.offenders[0];
    assert_eq!((o.path.as_deref(), o.line, o.scope_count), (None, None, 0));
    assert!(o.scopes.is_empty());

    // Every renderer copes with an offender that has nothing but a kind.
    assert!(render(&s, Format::Text).contains("1. [high] slow request - 1 occurrence"));
    let json = parse(&render(&s, Format::Json));
    assert_eq!(json["offenders"][0]["fingerprint"], Value::Null);
    assert_eq!(json["offenders"][0]["line"], Value::Null);
    let sarif = parse(&render(&s, Format::Sarif));
    let result = &sarif["runs"][0]["results"][0];
    assert!(result.get("locations").is_none());
    assert_eq!(
        result["partialFingerprints"]["vtoFingerprint/v1"],
        "slow_request:-:-"
    );
    assert_eq!(
        render(&s, Format::Github),
        "::warning title=virtual_trainer_optimizer%3A slow request (high)::slow request: 1 occurrence, 0.0 ms in all\n"
    );
}

#[test]
fn unknown_fields_are_ignored() {
    let s = summary(json!({"extra": [1, 2], "findings": [
        {"kind": "n_plus_one", "priority": "low", "context": ["a.rb:1 in x"], "max_ms": 3.0}
    ]}));
    assert_eq!(s.offenders.len(), 1);
    assert_eq!(summary(json!({})).offenders.len(), 0);
}

#[test]
fn a_location_without_a_line_is_all_path() {
    let f = |loc: &str| json!({"kind": "slow_query", "priority": "medium", "location": loc});
    let s =
        summary(json!({"findings": [f("lib/tasks/import.rake"), f("C:stuff"), f("app/x.rb:12a")]}));
    let mut parts: Vec<(Option<&str>, Option<u32>)> = s
        .offenders
        .iter()
        .map(|o| (o.path.as_deref(), o.line))
        .collect();
    parts.sort();
    assert_eq!(
        parts,
        [
            (Some("C:stuff"), None),
            (Some("app/x.rb:12a"), None),
            (Some("lib/tasks/import.rake"), None)
        ]
    );
    let sarif = parse(&render(&s, Format::Sarif));
    for result in sarif["runs"][0]["results"].as_array().unwrap() {
        let physical = &result["locations"][0]["physicalLocation"];
        assert!(physical["artifactLocation"]["uri"].is_string());
        assert!(physical.get("region").is_none());
    }
    let github = render(&s, Format::Github);
    assert!(github.contains("::warning file=lib/tasks/import.rake,title="));
    assert!(!github.contains("line="));
}

#[test]
fn text_summarizes_totals_and_top_offenders() {
    let text = render(&summary(two_offenders()), Format::Text);
    assert!(text.is_ascii());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "virtual_trainer_optimizer: 3 findings at 2 places (1 new, 1 baselined)"
    );
    assert!(lines[1].starts_with("  N+1 queries "));
    assert!(lines[1].contains("2 occurrences") && lines[1].contains("19 queries"));
    assert!(lines[2].starts_with("  duplicate queries "));
    assert_eq!(lines[1].len(), lines[2].len(), "columns line up");
    assert_eq!(lines[3], "Top offenders:");
    assert_eq!(
        lines[4],
        "  1. [high] N+1 query at app/controllers/dashboards_controller.rb:14 - 2 occurrences, \
         19 queries (max 12 in one unit), 4.8 ms, in 2 units: GET /dashboard, GET /teams/1"
    );
    assert_eq!(lines[5], format!("     {WORKOUTS_SQL}"));
    assert!(lines[6].starts_with("     fix: includes(:workouts)"));
    assert!(
        lines[7].starts_with("  2. [low] duplicate query at app/models/plan.rb:8 (baselined) - ")
    );
    assert_eq!(lines.len(), 10);
}

#[test]
fn text_shows_at_most_top_offenders_and_counts_the_rest() {
    let findings: Vec<Value> = (1..=4)
        .map(|i| json!({"kind": "slow_query", "priority": "low", "location": format!("a.rb:{i}")}))
        .collect();
    let text = render(
        &summary(json!({"top": 2, "findings": findings})),
        Format::Text,
    );
    assert!(text.contains("  2. [low]"));
    assert!(!text.contains("  3. [low]"));
    assert!(text.contains("... and 2 more offenders"));
    let text = render(
        &summary(json!({"top": 0, "findings": findings})),
        Format::Text,
    );
    assert!(!text.contains("Top offenders"));
    assert!(text.contains("... and 4 more offenders"));
}

#[test]
fn text_truncates_long_sql_and_keeps_one_line_per_field() {
    let long = format!("SELECT {} FROM t", "a, ".repeat(200));
    let s = summary(json!({"findings": [
        {"kind": "slow_query", "priority": "low", "sql": long, "location": "a.rb:1",
         "suggestion": "first\nsecond", "scope": "GET /\u{1b}[31m"}
    ]}));
    let text = render(&s, Format::Text);
    let sql_line = text.lines().find(|l| l.contains("SELECT")).unwrap();
    assert_eq!(sql_line.len(), 5 + 300 + 3);
    assert!(sql_line.ends_with("..."));
    assert!(text.contains("fix: first second"));
    assert!(!text.contains('\u{1b}'));
}

#[test]
fn json_lists_totals_and_every_offender() {
    let json = parse(&render(&summary(two_offenders()), Format::Json));
    assert_eq!(json["schema_version"], 1);
    assert_eq!(
        json["tool"],
        json!({"name": "virtual_trainer_optimizer", "version": "9.9.9"})
    );
    assert_eq!(
        json["totals"][0],
        json!({"kind": "n_plus_one", "places": 1, "occurrences": 2, "queries": 19, "total_ms": 4.75})
    );
    let offenders = json["offenders"].as_array().unwrap();
    assert_eq!(offenders.len(), 2);
    assert_eq!(
        offenders[0],
        json!({"kind": "n_plus_one", "fingerprint": "9f86d081884c7d65", "location": DASHBOARD,
               "path": "app/controllers/dashboards_controller.rb", "line": 14, "sql": WORKOUTS_SQL,
               "suggestion": "includes(:workouts) on the User query at app/controllers/dashboards_controller.rb:12",
               "priority": "high", "occurrences": 2, "queries": 19, "max_count": 12, "total_ms": 4.75,
               "scopes": ["GET /dashboard", "GET /teams/1"], "scope_count": 2, "baselined": false})
    );
    assert_eq!(offenders[1]["baselined"], true);
}

#[test]
fn json_rounds_times_to_three_decimals_and_lists_all_beyond_top() {
    let findings: Vec<Value> = (1..=15)
        .map(|i| json!({"kind": "slow_query", "priority": "low", "location": format!("a.rb:{i}"), "total_ms": 1.0 / 3.0}))
        .collect();
    let json = parse(&render(
        &summary(json!({"top": 3, "findings": findings})),
        Format::Json,
    ));
    assert_eq!(json["offenders"].as_array().unwrap().len(), 15);
    assert_eq!(json["offenders"][0]["total_ms"], 0.333);
    assert_eq!(json["totals"][0]["total_ms"], 5.0);
}

#[test]
fn sarif_has_one_rule_per_kind_and_one_result_per_offender() {
    let mut value = two_offenders();
    value["findings"].as_array_mut().unwrap().push(
        json!({"kind": "n_plus_one", "fingerprint": "abcd", "count": 60,
                     "location": "app/models/team.rb:3", "priority": "critical"}),
    );
    value["findings"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kind": "custom_rule", "priority": "low", "location": "lib/a.rb:1"}));
    let sarif = parse(&render(&summary(value), Format::Sarif));
    assert_eq!(
        sarif["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "virtual_trainer_optimizer");
    assert_eq!(driver["version"], "9.9.9");
    assert_eq!(
        driver["informationUri"],
        "https://github.com/virtual-trainer/virtual_trainer_optimizer"
    );
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["n_plus_one", "duplicate_query", "custom_rule"]);
    let names: Vec<&str> = rules.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["NPlusOneQuery", "DuplicateQuery", "CustomRule"]);
    for rule in rules {
        for key in ["shortDescription", "fullDescription", "help"] {
            assert!(!rule[key]["text"].as_str().unwrap().is_empty(), "{key}");
        }
        assert!(["error", "warning", "note"]
            .contains(&rule["defaultConfiguration"]["level"].as_str().unwrap()));
    }

    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "every offender, baselined too");
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(result["message"]["text"].is_string());
    }
    let levels: Vec<(&str, &str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap(),
                r["level"].as_str().unwrap(),
                r["baselineState"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        levels,
        [
            ("n_plus_one", "error", "new"),           // critical
            ("n_plus_one", "error", "new"),           // high
            ("custom_rule", "note", "new"),           // low
            ("duplicate_query", "note", "unchanged"), // baselined
        ]
    );

    let first = &results[1];
    assert_eq!(
        first["locations"],
        json!([{"physicalLocation": {
            "artifactLocation": {"uri": "app/controllers/dashboards_controller.rb", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 14}}}])
    );
    assert_eq!(
        first["partialFingerprints"],
        json!({"vtoFingerprint/v1": "n_plus_one:9f86d081884c7d65:app/controllers/dashboards_controller.rb"})
    );
    assert_eq!(
        first["properties"],
        json!({"occurrences": 2, "queries": 19, "total_ms": 4.75, "priority": "high", "baselined": false})
    );
    let message = first["message"]["text"].as_str().unwrap();
    let lines: Vec<&str> = message.lines().collect();
    assert!(lines[0].starts_with("N+1 query: 2 occurrences, 19 queries"));
    assert!(lines[0].contains("GET /dashboard, GET /teams/1"));
    assert_eq!(lines[1], WORKOUTS_SQL);
    assert!(lines[2].starts_with("fix: includes(:workouts)"));
    assert_eq!(
        results[2]["partialFingerprints"]["vtoFingerprint/v1"],
        "custom_rule:-:lib/a.rb"
    );
}

#[test]
fn sarif_fingerprints_survive_a_line_move() {
    let at = |loc: &str| {
        let s = summary(
            json!({"findings": [{"kind": "n_plus_one", "fingerprint": "ab", "priority": "low", "location": loc}]}),
        );
        parse(&render(&s, Format::Sarif))["runs"][0]["results"][0]["partialFingerprints"].clone()
    };
    assert_eq!(at("app/x.rb:10"), at("app/x.rb:42"));
    assert_ne!(at("app/x.rb:10"), at("app/y.rb:10"));
}

#[test]
fn sarif_levels_follow_priority() {
    for (priority, level) in [
        ("critical", "error"),
        ("high", "error"),
        ("medium", "warning"),
        ("low", "note"),
    ] {
        let s = summary(json!({"findings": [{"kind": "slow_query", "priority": priority}]}));
        let sarif = parse(&render(&s, Format::Sarif));
        assert_eq!(sarif["runs"][0]["results"][0]["level"], level, "{priority}");
    }
}

#[test]
fn github_annotates_new_offenders_only() {
    let mut value = two_offenders();
    value["findings"].as_array_mut().unwrap().push(
        json!({"kind": "bulk_write", "fingerprint": "cd", "count": 80,
                     "location": "app/jobs/import_job.rb:22", "priority": "critical"}),
    );
    let github = render(&summary(value), Format::Github);
    let lines: Vec<&str> = github.lines().collect();
    assert_eq!(lines.len(), 2, "the baselined duplicate is skipped");
    assert_eq!(
        lines[0],
        "::error file=app/jobs/import_job.rb,line=22,title=virtual_trainer_optimizer%3A writes in a loop (critical)::\
         writes in a loop: 1 occurrence, 80 queries, 0.0 ms"
    );
    assert_eq!(
        lines[1],
        format!(
            "::warning file=app/controllers/dashboards_controller.rb,line=14,\
             title=virtual_trainer_optimizer%3A N+1 query (high)::N+1 query: 2 occurrences, 19 queries \
             (max 12 in one unit), 4.8 ms, in 2 units: GET /dashboard, GET /teams/1%0A{WORKOUTS_SQL}\
             %0Afix: includes(:workouts) on the User query at app/controllers/dashboards_controller.rb:12"
        )
    );
}

#[test]
fn github_escapes_properties_and_data() {
    let s = summary(json!({"findings": [
        {"kind": "weird,kind:x", "priority": "medium", "location": "app/a,b:c%d.rb:7",
         "sql": "SELECT '100%'", "suggestion": "use a, b: c", "scope": "GET /x\r\ny"}
    ]}));
    let github = render(&s, Format::Github);
    assert_eq!(github.lines().count(), 1, "one line per offender");
    assert!(github.starts_with(
        "::warning file=app/a%2Cb%3Ac%25d.rb,line=7,title=virtual_trainer_optimizer%3A weird%2Ckind%3Ax (medium)::"
    ));
    let (_, message) = github.trim_end().split_once("::weird").unwrap();
    assert!(message.contains("SELECT '100%25'"));
    assert!(message.contains("%0Afix: use a, b: c"));
    assert!(!message.contains('\r') && !message.contains('\n'));
    // Property-only escapes stay out of the message.
    assert!(!message.contains("%2C") && !message.contains("%3A"));
}

#[test]
fn github_truncates_long_sql() {
    let long = format!("SELECT {} FROM t", "b, ".repeat(200));
    let s = summary(json!({"findings": [{"kind": "slow_query", "priority": "low", "sql": long}]}));
    let github = render(&s, Format::Github);
    let sql = github.trim_end().rsplit("%0A").next().unwrap();
    assert_eq!(sql.chars().count(), 303);
    assert!(sql.ends_with("..."));
}

#[test]
fn empty_input_renders_in_every_format() {
    let s = summary(json!({"findings": []}));
    assert!(s.offenders.is_empty() && s.totals.is_empty());
    assert_eq!(
        render(&s, Format::Text),
        "virtual_trainer_optimizer: no findings\n"
    );
    let json = parse(&render(&s, Format::Json));
    assert_eq!(json["offenders"], json!([]));
    assert_eq!(json["totals"], json!([]));
    let sarif = parse(&render(&s, Format::Sarif));
    assert_eq!(sarif["runs"][0]["results"], json!([]));
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"], json!([]));
    assert_eq!(render(&s, Format::Github), "");
}

#[test]
fn formats_parse_by_name() {
    for (name, format) in Format::NAMES {
        assert_eq!(name.parse::<Format>().unwrap(), format);
        assert_eq!(format.as_str(), name);
    }
    assert_eq!("SARIF".parse::<Format>().unwrap(), Format::Sarif);
    let err = "xml".parse::<Format>().unwrap_err();
    assert_eq!(err, Error::UnknownFormat { name: "xml".into() });
    assert!(err.to_string().contains("text, json, sarif or github"));
}

#[test]
fn summarize_json_renders_and_reports_errors() {
    let text = summarize_json(&two_offenders().to_string(), "text").unwrap();
    assert!(text.starts_with("virtual_trainer_optimizer: 3 findings"));

    assert!(matches!(
        summarize_json("{}", "markdown"),
        Err(Error::UnknownFormat { .. })
    ));
    for bad in [
        "{not json",
        "[]",
        r#"{"findings": [{"priority": "low"}]}"#,
        r#"{"findings": [{"kind": "n_plus_one", "priority": "urgent"}]}"#,
        r#"{"findings": [{"kind": "n_plus_one", "priority": "low", "count": -1}]}"#,
        r#"{"top": "ten"}"#,
    ] {
        match summarize_json(bad, "json") {
            Err(Error::InvalidInput { message }) => {
                assert!(
                    message.starts_with("CI summary findings JSON: "),
                    "{message}"
                )
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let err = summarize_json(
        r#"{"findings": [{"kind": "x", "priority": "urgent"}]}"#,
        "text",
    )
    .unwrap_err();
    assert!(err.to_string().contains("urgent"), "{err}");
}

#[test]
fn no_literal_is_added() {
    // The SQL comes out exactly as it went in, in every format.
    let s = summary(two_offenders());
    let json = parse(&render(&s, Format::Json));
    assert_eq!(json["offenders"][0]["sql"], WORKOUTS_SQL);
    assert!(render(&s, Format::Text).contains(WORKOUTS_SQL));
    assert!(render(&s, Format::Github).contains(WORKOUTS_SQL));
}
