//! The retention module: every finding kind with positive and negative
//! cases, the plan, classification, erasure coverage and the JSON API. The
//! inputs are JSON, as the Ruby side builds them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use serde_json::{json, Value};
use vto_core::retention::{check, check_json, Input};
use vto_core::Error;

const TS: &str = "timestamp(6) without time zone";

/// A table with an `id bigint` primary key and the given columns.
fn t(name: &str, columns: &[(&str, &str)]) -> Value {
    let mut cols = vec![json!({"name": "id", "type": "bigint", "null": false})];
    cols.extend(columns.iter().map(|(n, ty)| json!({"name": n, "type": ty})));
    json!({"name": name, "primary_key": ["id"], "columns": cols})
}

/// `value` with the fields of `extra` set.
fn with(mut value: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        value[k] = v.clone();
    }
    value
}

fn fk(column: &str, to: &str, on_delete: Option<&str>) -> Value {
    json!({"name": format!("fk_{column}"), "columns": [column], "to_table": to,
           "to_columns": ["id"], "on_delete": on_delete})
}

fn ix(name: &str, columns: &[&str]) -> Value {
    let keys: Vec<Value> = columns.iter().map(|c| json!({"column": c})).collect();
    json!({"name": name, "keys": keys})
}

fn users() -> Value {
    t(
        "users",
        &[("email", "character varying"), ("created_at", TS)],
    )
}

fn input(tables: Vec<Value>, policies: Vec<Value>, dependents: Vec<Value>) -> Value {
    json!({"schema": {"dialect": "postgresql", "tables": tables},
           "subject": "users", "policies": policies, "dependents": dependents})
}

fn run(value: Value) -> Value {
    serde_json::from_str(&check_json(&value.to_string()).unwrap()).unwrap()
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

fn on(report: &Value, kind: &str, table: &str) -> Vec<Value> {
    of(report, kind)
        .into_iter()
        .filter(|f| f["table"] == table)
        .collect()
}

fn one(report: &Value, kind: &str, table: &str) -> Value {
    let found = on(report, kind, table);
    assert_eq!(found.len(), 1, "{kind} on {table}: {found:#?}");
    found.into_iter().next().unwrap()
}

fn none(report: &Value, kind: &str, table: &str) {
    let found = on(report, kind, table);
    assert!(
        found.is_empty(),
        "no {kind} on {table} expected: {found:#?}"
    );
}

fn policy(table: &str, keep_days: u64, action: &str) -> Value {
    json!({"table": table, "keep_seconds": keep_days * 86_400, "action": action})
}

fn classified<'a>(report: &'a Value, table: &str, column: &str) -> Option<&'a Value> {
    report["classification"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["table"] == table && c["column"] == column)
}

// ---- the brief's example, end to end -----------------------------------------

fn virtual_trainer() -> Value {
    json!({
      "schema": {"dialect": "postgresql", "tables": [
        with(t("users", &[("email", "character varying"), ("created_at", TS)]), json!({"rows": 50000})),
        with(t("api_request_logs", &[("user_id", "bigint"), ("path", "character varying"), ("created_at", TS)]),
             json!({"rows": 25_000_000, "size_bytes": 12_884_901_888u64,
                    "foreign_keys": [fk("user_id", "users", Some("cascade"))]})),
        with(t("completed_workouts", &[("user_id", "bigint"), ("status", "character varying"), ("created_at", TS)]),
             json!({"rows": 400_000, "indexes": [ix("index_completed_workouts_on_created_at", &["created_at"])],
                    "foreign_keys": [fk("user_id", "users", Some("cascade"))]})),
        json!({"name": "completed_workouts_archive", "columns": [
          {"name": "id", "type": "bigint"}, {"name": "user_id", "type": "bigint"},
          {"name": "status", "type": "character varying"}, {"name": "created_at", "type": TS}]}),
        with(t("body_measurements", &[("user_id", "bigint"), ("weight_kg", "numeric"), ("body_fat_pct", "numeric"), ("created_at", TS)]),
             json!({"indexes": [ix("index_body_measurements_on_created_at", &["created_at"])],
                    "foreign_keys": [fk("user_id", "users", Some("cascade"))]})),
        t("audit_events", &[("user_id", "bigint"), ("action", "character varying"), ("created_at", TS)]),
        with(t("workouts", &[("user_id", "bigint"), ("created_at", TS)]),
             json!({"foreign_keys": [fk("user_id", "users", None)]}))
      ]},
      "subject": "users",
      "policies": [
        {"table": "api_request_logs", "keep_seconds": 7_776_000, "timestamp_column": "created_at", "where": null,
         "action": "delete", "columns": [], "archive_table": null, "batch_size": 1000, "legal_basis": null},
        {"table": "completed_workouts", "keep_seconds": 63_072_000, "timestamp_column": "created_at",
         "where": "status = 'completed'", "action": "archive", "columns": [],
         "archive_table": "completed_workouts_archive", "batch_size": 1000, "legal_basis": null},
        {"table": "body_measurements", "keep_seconds": 31_536_000, "action": "anonymize",
         "columns": ["weight_kg", "body_fat_pct"]},
        {"table": "audit_events", "keep_seconds": null, "action": "keep",
         "legal_basis": "legal obligation: accounting (7 years)"}],
      "dependents": [
        {"parent_table": "users", "child_table": "workouts", "foreign_key": "user_id",
         "dependent": "destroy", "polymorphic_type": null}],
      "options": {"large_table_rows": 10_000_000, "large_table_bytes": 10_737_418_240u64}
    })
}

#[test]
fn the_brief_example_end_to_end() {
    let report = run(virtual_trainer());
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["classification", "findings", "plan"]);
    for f in report["findings"].as_array().unwrap() {
        let mut fields: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "category",
                "column",
                "kind",
                "path",
                "priority",
                "reason",
                "suggestion",
                "table"
            ]
        );
    }
    // api_request_logs: unindexed created_at and a partitioning candidate.
    let f = one(&report, "unindexed_policy_column", "api_request_logs");
    assert_eq!(f["column"], "created_at");
    assert_eq!(f["priority"], "high");
    assert_eq!(
        f["suggestion"],
        "add_index :api_request_logs, :created_at, algorithm: :concurrently"
    );
    let p = one(&report, "partition_candidate", "api_request_logs");
    assert!(p["suggestion"]
        .as_str()
        .unwrap()
        .contains("PARTITION BY RANGE (created_at)"));
    assert!(p["suggestion"]
        .as_str()
        .unwrap()
        .contains("DETACH PARTITION"));
    // completed_workouts: created_at indexed, status not.
    let f = one(&report, "unindexed_policy_column", "completed_workouts");
    assert_eq!(f["column"], "status");
    assert_eq!(
        f["suggestion"],
        "add_index :completed_workouts, [:status, :created_at], algorithm: :concurrently"
    );
    assert!(
        !f["reason"].as_str().unwrap().contains("completed'"),
        "no literal"
    );
    none(&report, "partition_candidate", "completed_workouts");
    // The keep policy has its basis; nothing is invalid.
    assert!(of(&report, "keep_without_legal_basis").is_empty());
    assert!(
        of(&report, "invalid_policy").is_empty(),
        "{:#?}",
        of(&report, "invalid_policy")
    );
    // Erasure: everything covered (cascade, destroy, anonymize, keep), but the
    // archive table, which references users by convention.
    let gaps = of(&report, "erasure_gap");
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert_eq!(gaps[0]["table"], "completed_workouts_archive");
    assert!(gaps[0]["suggestion"]
        .as_str()
        .unwrap()
        .starts_with("add_foreign_key :completed_workouts_archive, :users"));
    // Health data classified.
    let c = classified(&report, "body_measurements", "weight_kg").unwrap();
    assert_eq!(c["category"], "health:weight");
    assert_eq!(c["special_category"], true);
    assert_eq!(c["encrypted"], false);
    // The plan: every age-based policy, the keep one left out.
    let plan: Vec<&str> = report["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["table"].as_str().unwrap())
        .collect();
    assert_eq!(
        plan,
        [
            "api_request_logs",
            "body_measurements",
            "completed_workouts"
        ]
    );
    let archive = &report["plan"][2];
    assert_eq!(
        archive,
        &json!({"table": "completed_workouts", "action": "archive", "keep_seconds": 63_072_000,
                "timestamp_column": "created_at", "where": "status = 'completed'",
                "archive_table": "completed_workouts_archive", "create_archive_table": false,
                "batch_size": 1000, "columns": [], "hashed_columns": [], "key": ["id"], "depends_on": [], "runnable": true})
    );
    assert_eq!(
        report["plan"][1]["columns"],
        json!(["weight_kg", "body_fat_pct"])
    );
}

#[test]
fn findings_are_ordered_and_stable() {
    let a = check_json(&virtual_trainer().to_string()).unwrap();
    let b = check_json(&virtual_trainer().to_string()).unwrap();
    assert_eq!(a, b);
    let report: Value = serde_json::from_str(&a).unwrap();
    let rank = |p: &str| {
        ["critical", "high", "medium", "low"]
            .iter()
            .position(|x| *x == p)
            .unwrap()
    };
    let keys: Vec<(usize, String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                rank(f["priority"].as_str().unwrap()),
                f["table"].as_str().unwrap().to_owned(),
                f["column"].as_str().unwrap_or("").to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

// ---- no_policy -----------------------------------------------------------------

#[test]
fn no_policy_by_category_and_size() {
    let report = run(input(
        vec![
            users(),
            with(
                t(
                    "api_request_logs",
                    &[("user_id", "bigint"), ("created_at", TS)],
                ),
                json!({"rows": 2_000_000}),
            ),
            with(
                t(
                    "notifications",
                    &[("user_id", "bigint"), ("read_at", TS), ("created_at", TS)],
                ),
                json!({"rows": 150_000}),
            ),
            with(
                t(
                    "ai_workout_generations",
                    &[
                        ("user_id", "bigint"),
                        ("prompt", "text"),
                        ("created_at", TS),
                    ],
                ),
                json!({"rows": 10}),
            ),
            t(
                "oauth_access_tokens",
                &[
                    ("user_id", "bigint"),
                    ("expires_at", TS),
                    ("created_at", TS),
                ],
            ),
            with(
                t("workouts", &[("user_id", "bigint"), ("created_at", TS)]),
                json!({"size_bytes": 2_147_483_648u64}),
            ),
            with(
                t("gyms", &[("city", "character varying"), ("opened_at", TS)]),
                json!({"rows": 40}),
            ),
        ],
        vec![],
        vec![],
    ));
    let f = one(&report, "no_policy", "api_request_logs");
    assert_eq!(
        f["suggestion"],
        "table :api_request_logs, keep: 90.days, action: :delete"
    );
    assert_eq!(f["category"], "logs");
    assert_eq!(f["priority"], "high"); // 2M rows
    assert_eq!(f["column"], Value::Null);

    let f = one(&report, "no_policy", "notifications");
    assert_eq!(
        f["suggestion"],
        "table :notifications, keep: 180.days, where: \"read_at IS NOT NULL\", action: :delete"
    );
    assert_eq!(f["priority"], "medium"); // 150k rows

    let f = one(&report, "no_policy", "ai_workout_generations");
    assert_eq!(f["category"], "ai_generations");
    assert_eq!(
        f["suggestion"],
        "table :ai_workout_generations, keep: 30.days, action: :delete"
    );
    assert_eq!(f["priority"], "low");

    let f = one(&report, "no_policy", "oauth_access_tokens");
    assert_eq!(f["category"], "sessions_tokens");
    assert_eq!(
        f["suggestion"],
        "table :oauth_access_tokens, keep: 30.days, timestamp_column: :expires_at, action: :delete"
    );
    assert_eq!(f["priority"], "medium"); // size unknown

    let f = one(&report, "no_policy", "workouts");
    assert_eq!(f["category"], "user_content");
    assert_eq!(
        f["suggestion"],
        "table :workouts, keep: :account_lifetime, action: :delete"
    );
    assert_eq!(f["priority"], "high"); // 2 GB

    // Another *_at timestamp column when there is no created_at.
    let f = one(&report, "no_policy", "gyms");
    assert_eq!(f["category"], "undecided");
    assert!(f["suggestion"]
        .as_str()
        .unwrap()
        .starts_with("table :gyms, keep: 365.days, timestamp_column: :opened_at, action: :delete"));
    assert_eq!(f["priority"], "low");

    // The subject itself is kept for the account's lifetime by definition.
    none(&report, "no_policy", "users");
}

#[test]
fn no_policy_skips_covered_framework_archive_and_undated_tables() {
    let report = run(input(
        vec![
            users(),
            t("api_request_logs", &[("created_at", TS)]),
            t("schema_migrations", &[("version", "character varying")]),
            t("ar_internal_metadata", &[("created_at", TS)]),
            t("active_storage_blobs", &[("created_at", TS)]),
            t("vto_retention_runs", &[("created_at", TS)]),
            t("api_request_logs_archive", &[("created_at", TS)]),
            t(
                "countries",
                &[("name", "character varying"), ("updated_at", TS)],
            ),
        ],
        vec![policy("api_request_logs", 90, "delete")],
        vec![],
    ));
    assert!(
        of(&report, "no_policy").is_empty(),
        "{:#?}",
        of(&report, "no_policy")
    );
}

// ---- unindexed_policy_column ---------------------------------------------------

fn logs_with(indexes: Vec<Value>, condition: Option<&str>) -> Value {
    let mut p = policy("api_request_logs", 90, "delete");
    p["where"] = json!(condition);
    input(
        vec![
            users(),
            with(
                t(
                    "api_request_logs",
                    &[
                        ("status", "integer"),
                        ("kind", "character varying"),
                        ("created_at", TS),
                    ],
                ),
                json!({"rows": 50_000, "indexes": indexes}),
            ),
        ],
        vec![p],
        vec![],
    )
}

#[test]
fn timestamp_index_rules() {
    // No index: the finding, with the size-based priority.
    let r = run(logs_with(vec![], None));
    let f = one(&r, "unindexed_policy_column", "api_request_logs");
    assert_eq!(f["priority"], "low"); // 50k rows
    assert!(f["reason"]
        .as_str()
        .unwrap()
        .contains("disable_ddl_transaction!"));
    // A btree leading with created_at, a BRIN on it, or one for a composite key.
    for indexes in [
        vec![ix("index_logs_on_created_at", &["created_at"])],
        vec![with(
            ix("brin_logs_created_at", &["created_at"]),
            json!({"method": "brin"}),
        )],
        vec![ix(
            "index_logs_on_created_at_and_status",
            &["created_at", "status"],
        )],
    ] {
        let r = run(logs_with(indexes, None));
        none(&r, "unindexed_policy_column", "api_request_logs");
    }
    // An index with created_at second, a partial one on another condition, or
    // an expression: none serves.
    for indexes in [
        vec![ix(
            "index_logs_on_status_and_created_at",
            &["status", "created_at"],
        )],
        vec![with(
            ix("index_logs_on_created_at_errors", &["created_at"]),
            json!({"where": "status = 500"}),
        )],
        vec![json!({"name": "index_logs_on_date", "keys": [{"expression": "date(created_at)"}]})],
    ] {
        let r = run(logs_with(indexes, None));
        one(&r, "unindexed_policy_column", "api_request_logs");
    }
    // A partial index whose predicate is the policy's condition serves it.
    let r = run(logs_with(
        vec![with(
            ix("index_logs_on_created_at_errors", &["created_at"]),
            json!({"where": "(status = 500)"}),
        )],
        Some("status = 500"),
    ));
    none(&r, "unindexed_policy_column", "api_request_logs");
}

#[test]
fn condition_column_rules() {
    // Neither the condition nor the timestamp indexed: one composite suggestion.
    let r = run(logs_with(
        vec![],
        Some("kind = 'error' AND status IN (500, 502)"),
    ));
    let f = one(&r, "unindexed_policy_column", "api_request_logs");
    assert_eq!(f["column"], "created_at");
    assert_eq!(
        f["suggestion"],
        "add_index :api_request_logs, [:kind, :status, :created_at], algorithm: :concurrently"
    );
    let text = f.to_string();
    assert!(
        !text.contains("error'") && !text.contains("502"),
        "literals leak: {text}"
    );
    // The condition column leads an index: the timestamp alone is suggested.
    let r = run(logs_with(
        vec![ix("index_logs_on_kind", &["kind"])],
        Some("kind = 'error'"),
    ));
    let f = one(&r, "unindexed_policy_column", "api_request_logs");
    assert_eq!(
        f["suggestion"],
        "add_index :api_request_logs, :created_at, algorithm: :concurrently"
    );
    // (condition, timestamp) serves both.
    let r = run(logs_with(
        vec![ix(
            "index_logs_on_kind_and_created_at",
            &["kind", "created_at"],
        )],
        Some("kind = 'error'"),
    ));
    none(&r, "unindexed_policy_column", "api_request_logs");
    // Timestamp indexed, condition not: the condition column, one level lower.
    let r = run(logs_with(
        vec![ix("index_logs_on_created_at", &["created_at"])],
        Some("kind = 'error'"),
    ));
    let f = one(&r, "unindexed_policy_column", "api_request_logs");
    assert_eq!(f["column"], "kind");
    assert_eq!(f["priority"], "low");
    assert_eq!(
        f["suggestion"],
        "add_index :api_request_logs, [:kind, :created_at], algorithm: :concurrently"
    );
    // A range or inequality on another column does not ask for an index.
    let r = run(logs_with(
        vec![ix("index_logs_on_created_at", &["created_at"])],
        Some("status >= 500"),
    ));
    none(&r, "unindexed_policy_column", "api_request_logs");
}

// ---- partition_candidate -------------------------------------------------------

fn big_logs(dialect: &str, rows: u64, action: &str, options: Value) -> Value {
    let mut value = input(
        vec![
            users(),
            with(
                t(
                    "api_request_logs",
                    &[("user_id", "bigint"), ("created_at", TS)],
                ),
                json!({"rows": rows, "indexes": [ix("index_logs_on_created_at", &["created_at"])]}),
            ),
        ],
        vec![with(
            policy("api_request_logs", 90, action),
            json!({"columns": ["user_id"]}),
        )],
        vec![],
    );
    value["schema"]["dialect"] = json!(dialect);
    value["options"] = options;
    value
}

#[test]
fn partition_candidates() {
    let r = run(big_logs("postgresql", 12_000_000, "delete", Value::Null));
    let f = one(&r, "partition_candidate", "api_request_logs");
    assert_eq!(f["priority"], "medium");
    assert!(f["reason"].as_str().unwrap().contains("10,000,000 rows"));
    // Below the default threshold, but above a lower one from the options.
    let r = run(big_logs("postgresql", 2_000_000, "delete", Value::Null));
    none(&r, "partition_candidate", "api_request_logs");
    let r = run(big_logs(
        "postgresql",
        2_000_000,
        "archive",
        json!({"large_table_rows": 1_000_000}),
    ));
    let f = one(&r, "partition_candidate", "api_request_logs");
    assert!(f["suggestion"]
        .as_str()
        .unwrap()
        .contains("api_request_logs_archive"));
    // MySQL gets its own syntax; SQLite cannot partition; anonymize deletes nothing.
    let r = run(big_logs("mysql", 12_000_000, "delete", Value::Null));
    assert!(
        one(&r, "partition_candidate", "api_request_logs")["suggestion"]
            .as_str()
            .unwrap()
            .contains("DROP PARTITION")
    );
    let r = run(big_logs("sqlite", 12_000_000, "delete", Value::Null));
    none(&r, "partition_candidate", "api_request_logs");
    let r = run(big_logs("postgresql", 12_000_000, "anonymize", Value::Null));
    none(&r, "partition_candidate", "api_request_logs");
}

// ---- cleanup_order and the plan -------------------------------------------------

#[test]
fn cleanup_order_names_blocking_and_orphaned_children() {
    let report = run(input(
        vec![
            users(),
            t("workouts", &[("user_id", "bigint"), ("created_at", TS)]),
            with(
                t(
                    "completed_exercises",
                    &[("workout_id", "bigint"), ("created_at", TS)],
                ),
                json!({"foreign_keys": [fk("workout_id", "workouts", Some("restrict"))]}),
            ),
            t(
                "workout_comments",
                &[("workout_id", "bigint"), ("created_at", TS)],
            ),
            with(
                t(
                    "workout_photos",
                    &[("workout_id", "bigint"), ("created_at", TS)],
                ),
                json!({"foreign_keys": [fk("workout_id", "workouts", Some("cascade"))]}),
            ),
        ],
        vec![
            policy("workouts", 730, "delete"),
            policy("workout_comments", 730, "delete"),
        ],
        vec![],
    ));
    let f = one(&report, "cleanup_order", "workouts");
    assert_eq!(f["priority"], "high"); // a declared RESTRICT foreign key
    let reason = f["reason"].as_str().unwrap();
    assert!(
        reason.contains("completed_exercises, workout_comments"),
        "{reason}"
    );
    assert!(
        !reason.contains("workout_photos"),
        "cascades are fine: {reason}"
    );
    assert!(reason.contains("ON DELETE RESTRICT"));
    let suggestion = f["suggestion"].as_str().unwrap();
    assert!(suggestion.contains("remove_foreign_key :completed_exercises, column: :workout_id"));
    assert!(suggestion.contains(
        "add_foreign_key :workout_comments, :workouts, column: :workout_id, on_delete: :cascade, validate: false"
    ));
    // workout_comments is referenced by nothing.
    none(&report, "cleanup_order", "workout_comments");
    // The plan runs the child first.
    let plan = report["plan"].as_array().unwrap();
    assert_eq!(plan[0]["table"], "workout_comments");
    assert_eq!(plan[1]["table"], "workouts");
    assert_eq!(plan[1]["depends_on"], json!(["workout_comments"]));
}

#[test]
fn cleanup_order_orphans_only_is_medium_and_anonymize_is_exempt() {
    let tables = vec![
        users(),
        t(
            "workouts",
            &[("user_id", "bigint"), ("notes", "text"), ("created_at", TS)],
        ),
        t(
            "workout_comments",
            &[("workout_id", "bigint"), ("created_at", TS)],
        ),
    ];
    let report = run(input(
        tables.clone(),
        vec![policy("workouts", 730, "archive")],
        vec![],
    ));
    assert_eq!(
        one(&report, "cleanup_order", "workouts")["priority"],
        "medium"
    );
    let report = run(input(
        tables,
        vec![with(
            policy("workouts", 730, "anonymize"),
            json!({"columns": ["notes"]}),
        )],
        vec![],
    ));
    none(&report, "cleanup_order", "workouts");
}

#[test]
fn hashed_columns_need_text_long_enough_for_the_hash() {
    let report = run(input(
        vec![
            json!({"name": "contacts", "primary_key": ["id"], "columns": [
            {"name": "id", "type": "bigint", "null": false},
            {"name": "email", "type": "character varying", "null": false},
            {"name": "phone", "type": "varchar(20)"},
            {"name": "age", "type": "integer"},
            {"name": "notes", "type": "text"},
            {"name": "created_at", "type": TS}]}),
        ],
        vec![with(
            policy("contacts", 365, "anonymize"),
            json!({"columns": ["email", "phone", "age", "notes"],
                   "hashed_columns": ["email", "phone", "age", "nickname"]}),
        )],
        vec![],
    ));
    let bad: Vec<(String, String)> = on(&report, "invalid_policy", "contacts")
        .iter()
        .map(|f| {
            (
                f["column"].as_str().unwrap_or_default().to_owned(),
                f["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    // email: NOT NULL without a default is fine when hashed; text is long enough.
    assert!(
        bad.iter().all(|(c, _)| c != "email" && c != "notes"),
        "{bad:?}"
    );
    assert!(bad
        .iter()
        .any(|(c, r)| c == "phone" && r.contains("varchar(20) (shorter than the hash)")));
    assert!(bad
        .iter()
        .any(|(c, r)| c == "age" && r.contains("of type integer")));
    assert!(bad
        .iter()
        .any(|(c, r)| c == "nickname" && r.contains("not among the columns")));
    assert_eq!(
        report["plan"][0]["hashed_columns"],
        json!(["email", "phone", "age", "nickname"])
    );
    assert_eq!(report["plan"][0]["runnable"], false);
}

#[test]
fn missing_archive_table_is_created_by_the_executor() {
    let tables = vec![t("workouts", &[("notes", "text"), ("created_at", TS)])];
    let report = run(input(
        tables.clone(),
        vec![policy("workouts", 730, "archive")],
        vec![],
    ));
    none(&report, "invalid_policy", "workouts");
    assert_eq!(report["plan"][0]["archive_table"], "workouts_archive");
    assert_eq!(report["plan"][0]["create_archive_table"], true);
    assert_eq!(report["plan"][0]["runnable"], true);
    // An existing archive table lacking a column still blocks the step.
    let mut with_archive = tables;
    with_archive.push(t("workouts_archive", &[("created_at", TS)]));
    let report = run(input(
        with_archive,
        vec![policy("workouts", 730, "archive")],
        vec![],
    ));
    let f = one(&report, "invalid_policy", "workouts");
    assert_eq!(
        f["suggestion"],
        "add_column :workouts_archive, :notes, \"text\""
    );
    assert_eq!(report["plan"][0]["create_archive_table"], false);
    assert_eq!(report["plan"][0]["runnable"], false);
}

#[test]
fn plan_orders_children_first_across_levels() {
    let report = run(input(
        vec![
            users(),
            t("workouts", &[("user_id", "bigint"), ("created_at", TS)]),
            t(
                "exercise_groups",
                &[("workout_id", "bigint"), ("created_at", TS)],
            ),
            t(
                "exercise_entries",
                &[("exercise_group_id", "bigint"), ("created_at", TS)],
            ),
            t("api_request_logs", &[("created_at", TS)]),
        ],
        vec![
            policy("workouts", 730, "delete"),
            policy("api_request_logs", 90, "delete"),
            policy("exercise_groups", 730, "delete"),
            with(
                policy("exercise_entries", 730, "delete"),
                json!({"batch_size": 5000}),
            ),
        ],
        vec![],
    ));
    let plan: Vec<&str> = report["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["table"].as_str().unwrap())
        .collect();
    assert_eq!(
        plan,
        [
            "api_request_logs",
            "exercise_entries",
            "exercise_groups",
            "workouts"
        ]
    );
    assert_eq!(report["plan"][1]["batch_size"], 5000);
    assert_eq!(report["plan"][2]["depends_on"], json!(["exercise_entries"]));
    assert!(of(&report, "cleanup_order")
        .iter()
        .all(|f| !f["reason"].as_str().unwrap().contains("cycle")));
}

#[test]
fn plan_breaks_a_cycle_with_a_finding() {
    // memberships.team_id -> teams (declared), teams.captain_id -> memberships
    // (a belongs_to association): each table's rows reference the other's.
    let mut value = input(
        vec![
            users(),
            t("teams", &[("captain_id", "bigint"), ("created_at", TS)]),
            with(
                t("memberships", &[("team_id", "bigint"), ("created_at", TS)]),
                json!({"foreign_keys": [fk("team_id", "teams", Some("cascade"))]}),
            ),
        ],
        vec![
            policy("teams", 365, "delete"),
            policy("memberships", 365, "delete"),
        ],
        vec![],
    );
    value["schema"]["associations"] =
        json!([{"table": "teams", "foreign_key": "captain_id", "to_table": "memberships"}]);
    let report = run(value);
    let plan: Vec<&str> = report["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["table"].as_str().unwrap())
        .collect();
    assert_eq!(plan, ["memberships", "teams"]); // broken at the alphabetically first
    assert_eq!(report["plan"][0]["depends_on"], json!(["teams"]));
    assert_eq!(report["plan"][1]["depends_on"], json!(["memberships"]));
    let cycles: Vec<Value> = of(&report, "cleanup_order")
        .into_iter()
        .filter(|f| f["reason"].as_str().unwrap().contains("cycle"))
        .collect();
    assert_eq!(cycles.len(), 1, "{cycles:#?}");
    assert_eq!(cycles[0]["table"], "memberships");
    assert_eq!(cycles[0]["priority"], "high");
    assert!(cycles[0]["reason"]
        .as_str()
        .unwrap()
        .contains("memberships <- teams <- memberships"));
}

#[test]
fn a_convention_cycle_is_broken_the_same_way_every_time() {
    let value = input(
        vec![
            users(),
            t("b_items", &[("a_item_id", "bigint"), ("created_at", TS)]),
            t("a_items", &[("b_item_id", "bigint"), ("created_at", TS)]),
        ],
        vec![
            policy("b_items", 30, "delete"),
            policy("a_items", 30, "delete"),
        ],
        vec![],
    );
    let first = run(value.clone());
    assert_eq!(first, run(value));
    assert_eq!(first["plan"][0]["table"], "a_items");
    assert_eq!(first["plan"][1]["table"], "b_items");
    let cycles: Vec<Value> = of(&first, "cleanup_order")
        .into_iter()
        .filter(|f| f["reason"].as_str().unwrap().contains("cycle"))
        .collect();
    assert_eq!(cycles.len(), 1);
    // Both tables also get their cleanup_order finding (orphans, medium).
    assert_eq!(
        one(&first, "cleanup_order", "b_items")["priority"],
        "medium"
    );
}

// ---- classification --------------------------------------------------------------

fn classification_input() -> Value {
    json!({
      "schema": {"tables": [
        t("users", &[("email", "character varying"), ("first_name", "character varying"),
                     ("name", "character varying"), ("phone_number", "character varying"),
                     ("date_of_birth", "date"), ("current_sign_in_ip", "inet"),
                     ("email_verified", "boolean"), ("weight_unit", "character varying"),
                     ("weight_kg_ciphertext", "text"), ("email_bidx", "character varying"),
                     ("encrypted_phone", "character varying"), ("encrypted_phone_iv", "character varying"),
                     ("created_at", TS)]),
        t("foods", &[("name", "character varying"), ("calories", "integer"), ("created_at", TS)]),
        t("meals", &[("user_id", "bigint"), ("food_id", "bigint"), ("calories", "integer"),
                     ("weight_g", "integer"), ("created_at", TS)]),
        t("equipment", &[("name", "character varying"), ("condition", "character varying")]),
        t("injuries", &[("user_id", "bigint"), ("description", "text"), ("healed", "boolean"),
                        ("created_at", TS)]),
        t("workouts", &[("user_id", "bigint"), ("name", "character varying"), ("notes", "text"),
                        ("location", "character varying"), ("created_at", TS)]),
        t("workout_sets", &[("workout_id", "bigint"), ("weight", "numeric"), ("reps", "integer")]),
        t("medical_notes", &[("user_id", "bigint"), ("blood_type", "character varying")]),
        t("orphan_records", &[("blood_pressure", "integer"), ("heart_rate", "integer")])
      ]},
      "subject": "users",
      "encrypted_columns": [{"table": "injuries", "column": "description"}]
    })
}

#[test]
fn classification_by_name_and_type() {
    let r = run(classification_input());
    let cat = |table: &str, column: &str| {
        classified(&r, table, column).map(|c| c["category"].as_str().unwrap().to_owned())
    };
    assert_eq!(cat("users", "email").as_deref(), Some("pii:email"));
    assert_eq!(cat("users", "first_name").as_deref(), Some("pii:name"));
    assert_eq!(cat("users", "name").as_deref(), Some("pii:name")); // a people table
    assert_eq!(cat("users", "phone_number").as_deref(), Some("pii:phone"));
    assert_eq!(
        cat("users", "date_of_birth").as_deref(),
        Some("pii:birth_date")
    );
    assert_eq!(
        cat("users", "current_sign_in_ip").as_deref(),
        Some("pii:ip_address")
    );
    assert_eq!(cat("users", "email_verified"), None); // boolean metadata
    assert_eq!(cat("users", "weight_unit"), None);
    assert_eq!(cat("users", "encrypted_phone_iv"), None);
    assert_eq!(cat("workouts", "name"), None); // not a people table
    assert_eq!(cat("workouts", "notes").as_deref(), Some("pii:free_text"));
    assert_eq!(
        cat("workouts", "location").as_deref(),
        Some("pii:geolocation")
    );
    // A food catalogue's calories are not health data; a person's meal's are.
    assert_eq!(cat("foods", "calories"), None);
    assert_eq!(cat("foods", "name"), None);
    assert_eq!(cat("meals", "calories").as_deref(), Some("health:calories"));
    assert_eq!(cat("meals", "weight_g"), None); // a portion, not a body weight
                                                // `condition` of equipment (no person) is not health data.
    assert_eq!(cat("equipment", "condition"), None);
    // The load lifted is not a body weight.
    assert_eq!(cat("workout_sets", "weight"), None);
    // A health table: every data column, booleans included.
    assert_eq!(cat("injuries", "healed").as_deref(), Some("health:injury"));
    assert_eq!(cat("injuries", "user_id"), None);
    assert_eq!(cat("injuries", "created_at"), None);
    assert_eq!(
        cat("medical_notes", "blood_type").as_deref(),
        Some("health:blood")
    );
    // Unambiguous health names count without a person link; ambiguous ones not.
    assert_eq!(
        cat("orphan_records", "blood_pressure").as_deref(),
        Some("health:blood")
    );
    assert_eq!(cat("orphan_records", "heart_rate"), None);
    // Encrypted by lockbox / attr_encrypted naming, by the declaration, blind indexes.
    let c = classified(&r, "users", "weight_kg_ciphertext").unwrap();
    assert_eq!(c["category"], "health:weight");
    assert_eq!(c["encrypted"], true);
    assert_eq!(c["special_category"], true);
    assert_eq!(
        classified(&r, "users", "encrypted_phone").unwrap()["encrypted"],
        true
    );
    let bidx = classified(&r, "users", "email_bidx").unwrap();
    assert_eq!(bidx["category"], "pii:email");
    assert_eq!(bidx["encrypted"], true);
    let d = classified(&r, "injuries", "description").unwrap();
    assert_eq!(
        (d["category"].as_str(), d["encrypted"].as_bool()),
        (Some("health:injury"), Some(true))
    );
    // Sorted by table and column.
    let order: Vec<(String, String)> = r["classification"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["table"].as_str().unwrap().to_owned(),
                c["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[test]
fn classification_findings_and_priorities() {
    let r = run(classification_input());
    let finding = |table: &str, column: &str| {
        report_findings(&r)
            .into_iter()
            .filter(|f| {
                f["table"] == table
                    && f["column"] == column
                    && (f["kind"] == "pii_column" || f["kind"] == "special_category_column")
            })
            .collect::<Vec<_>>()
    };
    // Unencrypted special category: high.
    let f = finding("meals", "calories");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["kind"], "special_category_column");
    assert_eq!(f[0]["priority"], "high");
    assert_eq!(f[0]["suggestion"], "encrypts :calories");
    assert!(f[0]["reason"].as_str().unwrap().contains("Art. 9"));
    // Encrypted health column: still a finding, low, and it says encrypted.
    let f = finding("injuries", "description");
    assert_eq!(f[0]["kind"], "special_category_column");
    assert_eq!(f[0]["priority"], "low");
    assert!(f[0]["reason"].as_str().unwrap().contains("encrypted"));
    let f = finding("users", "weight_kg_ciphertext");
    assert_eq!(f[0]["priority"], "low");
    // Blind indexes are classified only.
    assert!(finding("users", "email_bidx").is_empty());
    // PII: email low with deterministic encryption, free text medium, IP with an anonymize policy.
    let f = finding("users", "email");
    assert_eq!(
        (f[0]["kind"].as_str(), f[0]["priority"].as_str()),
        (Some("pii_column"), Some("low"))
    );
    assert_eq!(f[0]["suggestion"], "encrypts :email, deterministic: true");
    assert_eq!(finding("workouts", "notes")[0]["priority"], "medium");
    assert_eq!(
        finding("users", "current_sign_in_ip")[0]["suggestion"],
        "table :users, keep: 90.days, action: :anonymize, columns: [:current_sign_in_ip]"
    );
    // Nothing for unclassified columns.
    assert!(finding("foods", "calories").is_empty());
}

fn report_findings(report: &Value) -> Vec<Value> {
    report["findings"].as_array().unwrap().clone()
}

// ---- erasure_gap -----------------------------------------------------------------

#[test]
fn erasure_path_three_levels_deep() {
    let report = run(input(
        vec![
            users(),
            with(
                t("workouts", &[("user_id", "bigint"), ("created_at", TS)]),
                json!({"foreign_keys": [fk("user_id", "users", None)]}),
            ),
            with(
                t(
                    "exercise_groups",
                    &[("workout_id", "bigint"), ("created_at", TS)],
                ),
                json!({"foreign_keys": [fk("workout_id", "workouts", Some("cascade"))]}),
            ),
            t(
                "exercise_entries",
                &[
                    ("exercise_group_id", "bigint"),
                    ("heart_rate", "integer"),
                    ("created_at", TS),
                ],
            ),
        ],
        vec![],
        vec![
            json!({"parent_table": "users", "child_table": "workouts", "foreign_key": "user_id",
                    "dependent": "destroy", "polymorphic_type": null}),
        ],
    ));
    let gaps = of(&report, "erasure_gap");
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    let g = &gaps[0];
    assert_eq!(g["table"], "exercise_entries");
    assert_eq!(g["column"], "exercise_group_id");
    assert_eq!(
        g["path"],
        json!(["users", "workouts", "exercise_groups", "exercise_entries"])
    );
    assert_eq!(g["priority"], "high"); // heart rate: special category
    assert_eq!(g["category"], "health:heart_rate");
    // exercise_groups go by ON DELETE CASCADE (no callbacks): only a foreign key reaches further.
    assert_eq!(
        g["suggestion"],
        "add_foreign_key :exercise_entries, :exercise_groups, column: :exercise_group_id, on_delete: :cascade, validate: false"
    );
}

#[test]
fn a_gap_is_reported_once_at_the_first_uncovered_edge() {
    let report = run(input(
        vec![
            users(),
            t("workouts", &[("user_id", "bigint"), ("created_at", TS)]),
            t(
                "exercise_groups",
                &[("workout_id", "bigint"), ("created_at", TS)],
            ),
        ],
        vec![],
        vec![],
    ));
    let gaps = of(&report, "erasure_gap");
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert_eq!(gaps[0]["table"], "workouts");
    assert_eq!(gaps[0]["path"], json!(["users", "workouts"]));
    assert_eq!(gaps[0]["priority"], "medium"); // no personal columns
    assert_eq!(
        gaps[0]["suggestion"],
        "has_many :workouts, dependent: :destroy  # in the User model"
    );
}

#[test]
fn erasure_strategies_cover_edges() {
    let tables = vec![
        users(),
        with(
            t("cascaded", &[("user_id", "bigint")]),
            json!({"foreign_keys": [fk("user_id", "users", Some("cascade"))]}),
        ),
        with(
            t("nullified", &[("user_id", "bigint")]),
            json!({"foreign_keys": [fk("user_id", "users", Some("set_null"))]}),
        ),
        with(
            t("restricted", &[("user_id", "bigint")]),
            json!({"foreign_keys": [fk("user_id", "users", Some("restrict"))]}),
        ),
        t("destroyed", &[("user_id", "bigint")]),
        t("async_destroyed", &[("user_id", "bigint")]),
        t("nullify_dependents", &[("user_id", "bigint")]),
        t("guarded", &[("user_id", "bigint")]),
        t("invoices", &[("user_id", "bigint"), ("created_at", TS)]),
        t("audit_trails", &[("user_id", "bigint"), ("created_at", TS)]),
        t("profiles_notes", &[("user_id", "bigint"), ("bio", "text")]),
        t(
            "check_ins",
            &[
                ("user_id", "bigint"),
                ("notes", "text"),
                ("latitude", "numeric"),
            ],
        ),
    ];
    let dep = |child: &str, option: &str| json!({"parent_table": "users", "child_table": child, "foreign_key": "user_id", "dependent": option});
    let report = run(input(
        tables,
        vec![
            json!({"table": "invoices", "action": "keep", "legal_basis": "legal obligation: accounting"}),
            json!({"table": "audit_trails", "action": "keep"}),
            json!({"table": "profiles_notes", "action": "anonymize", "columns": ["bio"]}),
            json!({"table": "check_ins", "keep_seconds": 86_400, "action": "anonymize", "columns": ["notes"]}),
        ],
        vec![
            dep("destroyed", "destroy"),
            dep("async_destroyed", "destroy_async"),
            dep("nullify_dependents", "nullify"),
            dep("guarded", "restrict_with_error"),
        ],
    ));
    for covered in [
        "cascaded",
        "nullified",
        "destroyed",
        "async_destroyed",
        "nullify_dependents",
        "invoices",
        "profiles_notes",
    ] {
        none(&report, "erasure_gap", covered);
    }
    let restricted = one(&report, "erasure_gap", "restricted");
    assert!(restricted["reason"]
        .as_str()
        .unwrap()
        .contains("ON DELETE RESTRICT"));
    let guarded = one(&report, "erasure_gap", "guarded");
    assert!(guarded["reason"]
        .as_str()
        .unwrap()
        .contains("restrict_with_error"));
    assert_eq!(
        guarded["suggestion"],
        "has_many :guarded, dependent: :destroy  # in the User model"
    );
    // An anonymize policy that leaves a personal column does not cover the table.
    let partial = one(&report, "erasure_gap", "check_ins");
    assert!(partial["reason"]
        .as_str()
        .unwrap()
        .contains("its anonymize policy leaves latitude"));
    // A keep policy without a legal basis covers nothing (and is its own finding).
    one(&report, "erasure_gap", "audit_trails");
    one(&report, "keep_without_legal_basis", "audit_trails");
    none(&report, "keep_without_legal_basis", "invoices");
}

#[test]
fn dependent_destroy_needs_callbacks_upstream() {
    // users -> workouts by ON DELETE CASCADE (no callbacks), then
    // Workout has_many :laps, dependent: :destroy: it never runs.
    let report = run(input(
        vec![
            users(),
            with(
                t("workouts", &[("user_id", "bigint")]),
                json!({"foreign_keys": [fk("user_id", "users", Some("cascade"))]}),
            ),
            t("laps", &[("workout_id", "bigint")]),
        ],
        vec![],
        vec![
            json!({"parent_table": "workouts", "child_table": "laps", "foreign_key": "workout_id", "dependent": "destroy"}),
        ],
    ));
    let g = one(&report, "erasure_gap", "laps");
    assert_eq!(g["path"], json!(["users", "workouts", "laps"]));
    assert!(g["reason"]
        .as_str()
        .unwrap()
        .contains("skips Rails callbacks"));
    // Through a destroy chain, the same association covers the edge.
    let report = run(input(
        vec![
            users(),
            t("workouts", &[("user_id", "bigint")]),
            t("laps", &[("workout_id", "bigint")]),
        ],
        vec![],
        vec![
            json!({"parent_table": "users", "child_table": "workouts", "foreign_key": "user_id", "dependent": "destroy"}),
            json!({"parent_table": "workouts", "child_table": "laps", "foreign_key": "workout_id", "dependent": "destroy"}),
        ],
    ));
    assert!(
        of(&report, "erasure_gap").is_empty(),
        "{:#?}",
        of(&report, "erasure_gap")
    );
}

#[test]
fn polymorphic_owners() {
    let mut value = input(
        vec![
            users(),
            t("workouts", &[("user_id", "bigint")]),
            t(
                "comments",
                &[
                    ("commentable_type", "character varying"),
                    ("commentable_id", "bigint"),
                    ("body", "text"),
                ],
            ),
            t(
                "likes",
                &[("owner_type", "character varying"), ("owner_id", "bigint")],
            ),
            t(
                "taggings",
                &[
                    ("taggable_type", "character varying"),
                    ("taggable_id", "bigint"),
                ],
            ),
        ],
        vec![],
        vec![
            json!({"parent_table": "users", "child_table": "workouts", "foreign_key": "user_id", "dependent": "destroy"}),
            json!({"parent_table": "workouts", "child_table": "comments", "foreign_key": "commentable_id",
                   "dependent": null, "polymorphic_type": "commentable_type"}),
        ],
    );
    value["schema"]["associations"] = json!([
        {"table": "comments", "foreign_key": "commentable_id", "foreign_type": "commentable_type", "polymorphic": true},
        {"table": "likes", "foreign_key": "owner_id", "foreign_type": "owner_type", "polymorphic": true}]);
    let report = run(value.clone());
    let g = one(&report, "erasure_gap", "comments");
    assert_eq!(g["path"], json!(["users", "workouts", "comments"]));
    assert_eq!(g["column"], "commentable_id");
    assert_eq!(
        g["suggestion"],
        "has_many :comments, as: :commentable, dependent: :destroy  # in the Workout model"
    );
    assert_eq!(g["priority"], "high"); // free text
                                       // An `owner` pair is taken to point at the subject.
    let g = one(&report, "erasure_gap", "likes");
    assert_eq!(g["path"], json!(["users", "likes"]));
    assert_eq!(
        g["suggestion"],
        "has_many :likes, as: :owner, dependent: :destroy  # in the User model"
    );
    // A pair nobody says points at a person is not followed.
    none(&report, "erasure_gap", "taggings");
    // The dependent covers the polymorphic edge.
    value["dependents"][1]["dependent"] = json!("destroy");
    let report = run(value);
    none(&report, "erasure_gap", "comments");
}

#[test]
fn missing_subject_is_reported() {
    let mut value = input(vec![t("workouts", &[("created_at", TS)])], vec![], vec![]);
    value["subject"] = json!("accounts");
    let report = run(value);
    let f = one(&report, "invalid_policy", "accounts");
    assert!(f["reason"].as_str().unwrap().contains("not in the schema"));
    assert!(of(&report, "erasure_gap").is_empty());
}

// ---- soft delete -----------------------------------------------------------------

#[test]
fn soft_delete_purge_and_partial_index() {
    let posts = |indexes: Vec<Value>| {
        with(
            t(
                "posts",
                &[
                    ("user_id", "bigint"),
                    ("body", "text"),
                    ("deleted_at", TS),
                    ("created_at", TS),
                ],
            ),
            json!({"rows": 2_000_000, "indexes": indexes}),
        )
    };
    let report = run(input(vec![users(), posts(vec![])], vec![], vec![]));
    let f = one(&report, "soft_delete_without_purge", "posts");
    assert_eq!(f["column"], "deleted_at");
    assert_eq!(
        f["suggestion"],
        "table :posts, keep: 30.days, timestamp_column: :deleted_at, where: \"deleted_at IS NOT NULL\", action: :delete"
    );
    assert_eq!(f["priority"], "high"); // holds personal data (body)
    let f = one(&report, "soft_delete_without_partial_index", "posts");
    assert_eq!(
        f["suggestion"],
        "add_index :posts, :user_id, name: \"index_posts_on_user_id_live\", where: \"deleted_at IS NULL\", algorithm: :concurrently"
    );
    assert_eq!(f["priority"], "medium"); // 2M rows, one level below
                                         // A purge policy and a partial index on the live rows.
    let report = run(input(
        vec![
            users(),
            posts(vec![with(
                ix("index_posts_on_user_id", &["user_id"]),
                json!({"where": "(\"deleted_at\" IS NULL)"}),
            )]),
        ],
        vec![
            json!({"table": "posts", "keep_seconds": 2_592_000, "timestamp_column": "deleted_at",
                    "where": "deleted_at IS NOT NULL", "action": "delete"}),
        ],
        vec![],
    ));
    none(&report, "soft_delete_without_purge", "posts");
    none(&report, "soft_delete_without_partial_index", "posts");
    // A policy that does not mention the column does not purge; a partial
    // index on the deleted rows is not one on the live rows.
    let report = run(input(
        vec![
            users(),
            posts(vec![with(
                ix("index_posts_on_deleted_at", &["deleted_at"]),
                json!({"where": "deleted_at IS NOT NULL"}),
            )]),
        ],
        vec![policy("posts", 730, "delete")],
        vec![],
    ));
    one(&report, "soft_delete_without_purge", "posts");
    one(&report, "soft_delete_without_partial_index", "posts");
    // discarded_at (discard gem) too; MySQL has no partial indexes.
    let mut value = input(
        vec![users(), t("notes", &[("discarded_at", TS)])],
        vec![],
        vec![],
    );
    value["schema"]["dialect"] = json!("mysql");
    let report = run(value);
    assert_eq!(
        one(&report, "soft_delete_without_purge", "notes")["priority"],
        "medium"
    );
    none(&report, "soft_delete_without_partial_index", "notes");
    // No soft-delete column, no finding.
    let report = run(input(
        vec![users(), t("notes", &[("created_at", TS)])],
        vec![],
        vec![],
    ));
    assert!(of(&report, "soft_delete_without_purge").is_empty());
}

// ---- invalid_policy --------------------------------------------------------------

#[test]
fn invalid_policies() {
    let report = run(input(
        vec![
            users(),
            t(
                "events",
                &[("happened_at", TS), ("kind", "character varying")],
            ),
            json!({"name": "measurements", "primary_key": ["id"], "columns": [
                {"name": "id", "type": "bigint", "null": false},
                {"name": "user_id", "type": "bigint"},
                {"name": "weight_kg", "type": "numeric", "null": false},
                {"name": "source", "type": "character varying", "null": false, "default": "app"},
                {"name": "created_at", "type": TS}]}),
            json!({"name": "taggings", "primary_key": ["tag_id", "post_id"], "columns": [
                {"name": "tag_id", "type": "bigint"}, {"name": "post_id", "type": "bigint"},
                {"name": "created_at", "type": TS}]}),
        ],
        vec![
            policy("nope", 30, "delete"),
            policy("events", 30, "delete"),
            with(
                policy("measurements", 365, "anonymize"),
                json!({"columns": ["weight_kg", "source", "height_cm", "id"]}),
            ),
            with(policy("taggings", 30, "delete"), json!({"batch_size": 0})),
        ],
        vec![],
    ));
    assert!(one(&report, "invalid_policy", "nope")["reason"]
        .as_str()
        .unwrap()
        .contains("not in the schema"));
    let f = one(&report, "invalid_policy", "events");
    assert_eq!(f["column"], "created_at");
    assert_eq!(f["suggestion"], "timestamp_column: :happened_at");
    let bad: Vec<(String, String)> = on(&report, "invalid_policy", "measurements")
        .iter()
        .map(|f| {
            (
                f["column"].as_str().unwrap().to_owned(),
                f["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(bad.len(), 3, "{bad:#?}"); // weight_kg, height_cm, id; source has a default
    assert!(bad
        .iter()
        .any(|(c, r)| c == "weight_kg" && r.contains("NOT NULL without a default")));
    assert!(bad
        .iter()
        .any(|(c, r)| c == "height_cm" && r.contains("not a column")));
    assert!(bad
        .iter()
        .any(|(c, r)| c == "id" && r.contains("primary key")));
    let taggings = on(&report, "invalid_policy", "taggings");
    assert_eq!(taggings.len(), 2, "{taggings:#?}");
    assert!(taggings
        .iter()
        .any(|f| f["reason"].as_str().unwrap().contains("batch_size 0")));
    assert!(taggings.iter().any(|f| f["reason"]
        .as_str()
        .unwrap()
        .contains("composite primary key")));
    // Invalid steps stay in the plan, marked not runnable; the missing table is left out.
    let plan = report["plan"].as_array().unwrap();
    assert!(plan.iter().all(|s| s["table"] != "nope"));
    let taggings_step = plan.iter().find(|s| s["table"] == "taggings").unwrap();
    assert_eq!(taggings_step["runnable"], false);
    assert_eq!(taggings_step["batch_size"], 1000);
    assert_eq!(taggings_step["key"], json!(["tag_id", "post_id"]));
}

#[test]
fn unparseable_where_is_reported_without_its_literals() {
    let mut bad = policy("api_request_logs", 90, "delete");
    bad["where"] = json!("status = 'hunter2' AND (");
    let mut several = policy("api_request_logs", 30, "delete");
    several["where"] = json!("status = 'x'; DROP TABLE users");
    let mut unknown = policy("api_request_logs", 60, "delete");
    unknown["where"] = json!("secret_column = 'topsecret'");
    let report = run(input(
        vec![
            users(),
            t(
                "api_request_logs",
                &[("status", "character varying"), ("created_at", TS)],
            ),
        ],
        vec![bad, several, unknown],
        vec![],
    ));
    let found = on(&report, "invalid_policy", "api_request_logs");
    assert_eq!(found.len(), 3, "{found:#?}");
    let text = serde_json::to_string(&report["findings"]).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("topsecret") && !text.contains("'x'"),
        "{text}"
    );
    assert!(found
        .iter()
        .any(|f| f["reason"].as_str().unwrap().contains("does not parse")));
    assert!(found
        .iter()
        .any(|f| f["reason"].as_str().unwrap().contains("semicolon")));
    assert!(found.iter().any(|f| f["column"] == "secret_column"));
    assert!(report["plan"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["runnable"] == false));
}

#[test]
fn keep_policies_need_a_legal_basis() {
    let report = run(input(
        vec![
            users(),
            t("invoices", &[("created_at", TS)]),
            t("audits", &[("created_at", TS)]),
        ],
        vec![
            json!({"table": "invoices", "action": "keep", "legal_basis": "  "}),
            json!({"table": "audits", "action": "keep", "legal_basis": "legitimate interest: fraud (2 years)"}),
        ],
        vec![],
    ));
    let f = one(&report, "keep_without_legal_basis", "invoices");
    assert!(f["suggestion"]
        .as_str()
        .unwrap()
        .starts_with("table :invoices, action: :keep, legal_basis:"));
    none(&report, "keep_without_legal_basis", "audits");
    assert!(report["plan"].as_array().unwrap().is_empty());
}

// ---- the JSON API ----------------------------------------------------------------

#[test]
fn json_errors_and_odd_input() {
    for bad in ["", "[]", "{", "{\"policies\": [{\"table\": \"x\", \"action\": \"purge\"}]}",
                "{\"schema\": {\"tables\": [{\"name\": \"t\", \"indexes\": [{\"name\": \"i\", \"keys\": [{}]}]}]}}"] {
        assert!(matches!(check_json(bad), Err(Error::InvalidInput { .. })), "{bad}");
    }
    // Empty and null-filled input is fine.
    for odd in ["{}", "{\"schema\": null, \"subject\": null, \"policies\": null, \"dependents\": null, \"options\": null}"] {
        let report: Value = serde_json::from_str(&check_json(odd).unwrap()).unwrap();
        assert_eq!(report["plan"], json!([]));
    }
    // Odd shapes never panic: self references, unknown tables everywhere, duplicates.
    let value = json!({"schema": {"tables": [
        {"name": "users", "columns": [{"name": "user_id", "type": "bigint"}, {"name": "deleted_at"}],
         "foreign_keys": [{"columns": ["user_id"], "to_table": "users"}, {"columns": [], "to_table": "ghosts"}]},
        {"name": "users", "columns": []},
        {"name": "", "columns": [{"name": "", "type": ""}]}]},
      "policies": [{"table": "users", "keep_seconds": -1, "where": "", "action": "archive", "archive_table": "users"},
                   {"table": "users", "keep_seconds": 1.5e9, "timestamp_column": null, "action": "delete", "batch_size": 1e3}],
      "dependents": [{"parent_table": "ghosts", "child_table": "users", "foreign_key": "x", "dependent": "purge_later"}],
      "encrypted_columns": [{"table": "ghosts", "column": "x"}]});
    let report = run(value);
    assert!(report["findings"].is_array());
    let input = Input::from_json(&virtual_trainer().to_string()).unwrap();
    assert_eq!(check(&input).plan.len(), 3);
}

#[test]
fn periods_read_as_activesupport_durations() {
    let report = run(input(
        vec![
            users(),
            t("workouts", &[("user_id", "bigint"), ("created_at", TS)]),
            t("laps", &[("workout_id", "bigint"), ("created_at", TS)]),
        ],
        vec![json!({"table": "workouts", "keep_seconds": 63_113_904, "action": "delete"})],
        vec![],
    ));
    let f = one(&report, "cleanup_order", "workouts");
    assert!(
        f["reason"].as_str().unwrap().contains("(after 2 years)"),
        "{f}"
    );
    assert_eq!(report["plan"][0]["keep_seconds"], 63_113_904);
    // Input::default() checks against "users", which is not there.
    let empty = check(&Input::default());
    assert_eq!(empty.findings.len(), 1);
    assert!(empty.findings[0].reason.contains("users"));
}

#[test]
fn long_chains_and_dense_graphs_stay_well_behaved() {
    // users <- t0 <- t1 <- ... <- t299, every edge ON DELETE CASCADE but the
    // last, plus a back reference from every table to users.
    let mut tables = vec![users()];
    for i in 0..300 {
        let parent = if i == 0 {
            "users".to_owned()
        } else {
            format!("t{}", i - 1)
        };
        let on_delete = if i == 299 { None } else { Some("cascade") };
        tables.push(with(
            t(&format!("t{i}"), &[("parent_id", "bigint"), ("user_id", "bigint"), ("created_at", TS)]),
            json!({"foreign_keys": [fk("parent_id", &parent, on_delete), fk("user_id", "users", Some("cascade"))]}),
        ));
    }
    let policies: Vec<Value> = (0..300)
        .map(|i| policy(&format!("t{i}"), 30, "delete"))
        .collect();
    let report = run(input(tables, policies, vec![]));
    let g = one(&report, "erasure_gap", "t299");
    // The shortest path: through the direct reference to users.
    assert_eq!(g["path"], json!(["users", "t298", "t299"]));
    let plan = report["plan"].as_array().unwrap();
    assert_eq!(plan.len(), 300);
    assert_eq!(plan[0]["table"], "t299");
    assert_eq!(plan[299]["table"], "t0");
}

#[test]
fn a_deep_chain_reports_the_whole_path() {
    let mut tables = vec![users()];
    for i in 0..300 {
        let parent = if i == 0 {
            "users".to_owned()
        } else {
            format!("t{}", i - 1)
        };
        let on_delete = if i == 299 { None } else { Some("cascade") };
        tables.push(with(
            t(&format!("t{i}"), &[("parent_id", "bigint")]),
            json!({"foreign_keys": [fk("parent_id", &parent, on_delete)]}),
        ));
    }
    let report = run(input(tables, vec![], vec![]));
    let g = one(&report, "erasure_gap", "t299");
    let path = g["path"].as_array().unwrap();
    assert_eq!(path.len(), 301);
    assert_eq!(path[0], "users");
    assert_eq!(path[300], "t299");
}

#[test]
fn index_keys_without_column_or_expression_are_refused() {
    let input = json!({"schema": {"tables": [{"name": "logs", "columns": [], "indexes": [
        {"name": "index_logs_bad", "keys": [{"column": null, "expression": null}]}]}]}});
    let err = vto_core::retention::check_json(&input.to_string()).unwrap_err();
    assert!(
        err.to_string()
            .contains("key 0 of index \"index_logs_bad\" on table \"logs\" has neither"),
        "{err}"
    );
}
