//! The index advisor's `workload_index` rule: candidates from recorded query
//! shapes (equality, then one range or the sort), what an existing index
//! serves, merging, floors, the foreign-key link, joins and determinism.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use serde_json::{json, Value};
use vto_core::detect::Priority;
use vto_core::index::{
    advise, advise_json, advise_json_report, advise_report, Options, Report, Suggestion,
    SuggestionKind, Via,
};
use vto_core::schema::Schema;
use vto_core::Error;

// ---- helpers -------------------------------------------------------------------

fn col(name: &str, ty: &str) -> Value {
    json!({"name": name, "type": ty})
}

fn col_d(name: &str, ty: &str, distinct: u64) -> Value {
    json!({"name": name, "type": ty, "distinct": distinct})
}

fn ix(name: &str, columns: &[&str]) -> Value {
    let keys: Vec<Value> = columns.iter().map(|c| json!({"column": c})).collect();
    json!({"name": name, "keys": keys})
}

/// `completed_workouts` (250,000 rows): user_id (5,000 distinct values),
/// workout_id, status (4), completed (boolean), created_at, deleted_at;
/// no `users` table, so no foreign key by convention.
fn workouts(indexes: Vec<Value>) -> Value {
    json!({"dialect": "postgresql", "tables": [
        {"name": "completed_workouts", "rows": 250_000, "size_bytes": 30_000_000,
         "primary_key": ["id"],
         "columns": [col("id", "bigint"), col_d("user_id", "bigint", 5000),
                     col("workout_id", "bigint"), col_d("status", "character varying", 4),
                     col("completed", "boolean"), col("created_at", "timestamp"),
                     col("deleted_at", "timestamp"), col("notes", "text")],
         "indexes": indexes}
    ]})
}

fn q(sql: &str, count: u64, total_ms: f64) -> Value {
    json!({"sql": sql, "count": count, "total_ms": total_ms})
}

fn options(kinds: Option<&[&str]>, workload: Vec<Value>) -> Options {
    let mut value = json!({"workload": workload});
    if let Some(kinds) = kinds {
        value["kinds"] = json!(kinds);
    }
    Options::from_json(&value.to_string()).unwrap()
}

fn report_of(schema: Value, kinds: Option<&[&str]>, workload: Vec<Value>) -> Report {
    advise_report(
        &Schema::from_json(&schema.to_string()).unwrap(),
        &options(kinds, workload),
    )
}

/// Only the workload_index suggestions.
fn run(schema: Value, workload: Vec<Value>) -> Vec<Suggestion> {
    report_of(schema, Some(&["workload_index"]), workload).suggestions
}

fn columns(s: &Suggestion) -> Vec<&str> {
    s.columns.iter().map(String::as_str).collect()
}

const CW: &str = r#"SELECT "completed_workouts".* FROM "completed_workouts""#;

fn cw(rest: &str) -> String {
    format!("{CW} {rest}")
}

// ---- candidates ----------------------------------------------------------------

#[test]
fn equality_then_range() {
    let sql = cw(
        r#"WHERE "completed_workouts"."user_id" = ? AND "completed_workouts"."created_at" >= ? ORDER BY "completed_workouts"."created_at" DESC LIMIT ?"#,
    );
    let mut query = q(&sql, 1200, 5400.5);
    query["fingerprint"] = json!("65480462680d0787");
    query["locations"] = json!(["app/controllers/api/stats_controller.rb:14"]);
    query["sources"] = json!(["Api::StatsController#index"]);
    let s = run(
        workouts(vec![ix(
            "index_completed_workouts_on_user_id",
            &["user_id"],
        )]),
        vec![query],
    );
    assert_eq!(s.len(), 1);
    let s = &s[0];
    assert_eq!(s.kind, SuggestionKind::WorkloadIndex);
    assert_eq!(s.table, "completed_workouts");
    assert_eq!(columns(s), ["user_id", "created_at"]);
    assert!(s.descending.is_empty());
    assert_eq!(
        s.index_name,
        "index_completed_workouts_on_user_id_and_created_at"
    );
    assert_eq!(
        s.migration,
        "class AddIndexOnUserIdAndCreatedAtToCompletedWorkouts < ActiveRecord::Migration[6.1]\n  disable_ddl_transaction!\n\n  def change\n    add_index :completed_workouts, [:user_id, :created_at], algorithm: :concurrently\n  end\nend\n"
    );
    assert_eq!(
        s.sql,
        "CREATE INDEX CONCURRENTLY index_completed_workouts_on_user_id_and_created_at ON completed_workouts (user_id, created_at);"
    );
    assert_eq!(s.time_ms, Some(5400.5));
    assert_eq!(s.priority, Priority::High); // >= 1 s served
    assert_eq!(s.queries.len(), 1);
    let served = &s.queries[0];
    assert_eq!(served.fingerprint, "65480462680d0787");
    assert_eq!(served.sql, sql);
    assert_eq!((served.count, served.total_ms), (1200, 5400.5));
    assert_eq!(
        served.locations,
        ["app/controllers/api/stats_controller.rb:14"]
    );
    for needle in [
        "1 query on completed_workouts (250,000 rows",
        "took 5,401 ms in 1,200 calls and no index serves it",
        "at app/controllers/api/stats_controller.rb:14 in Api::StatsController#index",
        "user_id (equality; ~5,000 distinct values)",
        "created_at (range and ORDER BY)",
        "Today index_completed_workouts_on_user_id (user_id) serves only the leading part",
    ] {
        assert!(s.reason.contains(needle), "{needle}: {}", s.reason);
    }
    // The existing single-column index becomes a left prefix of the new one.
    for needle in [
        "already has 2 indexes",
        "index_completed_workouts_on_user_id is a left prefix",
        "CONCURRENTLY",
    ] {
        assert!(s.trade_offs.contains(needle), "{needle}: {}", s.trade_offs);
    }
}

#[test]
fn equalities_by_selectivity() {
    // status has 4 distinct values, user_id 5,000: user_id leads.
    let sql =
        cw(r#"WHERE "completed_workouts"."status" = ? AND "completed_workouts"."user_id" = ?"#);
    let s = run(workouts(vec![]), vec![q(&sql, 10, 50.0)]);
    assert_eq!(columns(&s[0]), ["user_id", "status"]);
    assert!(s[0]
        .reason
        .contains("status (equality; ~4 distinct values)"));

    // Without estimates: the query's order...
    let sql =
        cw(r#"WHERE "completed_workouts"."notes" = ? AND "completed_workouts"."workout_id" = ?"#);
    let s = run(workouts(vec![]), vec![q(&sql, 10, 50.0)]);
    assert_eq!(columns(&s[0]), ["notes", "workout_id"]);
    // ...but a boolean never leads, and IS NULL goes last too.
    let sql = cw(
        r#"WHERE "completed_workouts"."completed" = ? AND "completed_workouts"."deleted_at" IS NULL AND "completed_workouts"."workout_id" IN (?)"#,
    );
    let s = run(workouts(vec![]), vec![q(&sql, 10, 50.0)]);
    assert_eq!(columns(&s[0]), ["workout_id", "completed", "deleted_at"]);
    // Low-cardinality equalities alone: no index.
    let sql = cw(r#"WHERE "completed_workouts"."completed" = ?"#);
    assert!(run(workouts(vec![]), vec![q(&sql, 10, 50.0)]).is_empty());
}

#[test]
fn equality_then_order_by() {
    let sql = cw(
        r#"WHERE "completed_workouts"."user_id" = ? ORDER BY "completed_workouts"."created_at" DESC LIMIT ?"#,
    );
    let s = run(workouts(vec![]), vec![q(&sql, 100, 300.0)]);
    assert_eq!(columns(&s[0]), ["user_id", "created_at"]);
    assert!(s[0].descending.is_empty()); // one direction: read backwards
    assert_eq!(s[0].priority, Priority::Medium);
    assert!(
        s[0].reason.contains("created_at (ORDER BY)"),
        "{}",
        s[0].reason
    );

    // Mixed directions are kept; a sort item fixed by `=` drops out.
    let sql = cw(
        r#"WHERE "completed_workouts"."user_id" = ? ORDER BY "completed_workouts"."user_id", "completed_workouts"."created_at" DESC, "completed_workouts"."id" ASC LIMIT ?"#,
    );
    let s = run(workouts(vec![]), vec![q(&sql, 100, 300.0)]);
    assert_eq!(columns(&s[0]), ["user_id", "created_at", "id"]);
    assert_eq!(s[0].descending, ["created_at"]);
    assert!(s[0]
        .migration
        .contains("add_index :completed_workouts, [:user_id, :created_at, :id], order: { created_at: :desc }, algorithm: :concurrently"));
    assert!(
        s[0].sql.ends_with("(user_id, created_at DESC, id);"),
        "{}",
        s[0].sql
    );

    // A sort with no filter needs a LIMIT.
    let sql = cw(r#"ORDER BY "completed_workouts"."created_at" DESC LIMIT ?"#);
    assert_eq!(
        columns(&run(workouts(vec![]), vec![q(&sql, 1, 1.0)])[0]),
        ["created_at"]
    );
    let sql = cw(r#"ORDER BY "completed_workouts"."created_at" DESC"#);
    assert!(run(workouts(vec![]), vec![q(&sql, 1, 1.0)]).is_empty());
}

#[test]
fn in_list_then_order_by() {
    let sql = cw(
        r#"WHERE "completed_workouts"."user_id" IN (?) ORDER BY "completed_workouts"."created_at" DESC LIMIT ?"#,
    );
    let s = run(workouts(vec![]), vec![q(&sql, 40, 120.0)]);
    assert_eq!(columns(&s[0]), ["user_id", "created_at"]);
    assert!(s[0].reason.contains("user_id (IN list"), "{}", s[0].reason);
}

#[test]
fn range_choice_and_width_cap() {
    // Two ranges: the one the query sorts by.
    let sql = cw(
        r#"WHERE "completed_workouts"."user_id" = ? AND "completed_workouts"."deleted_at" < ? AND "completed_workouts"."created_at" > ? ORDER BY "completed_workouts"."created_at""#,
    );
    let s = run(workouts(vec![]), vec![q(&sql, 1, 1.0)]);
    assert_eq!(columns(&s[0]), ["user_id", "created_at"]);
    // BETWEEN is a range; the range wins over the sort.
    let sql = cw(
        r#"WHERE "completed_workouts"."user_id" = ? AND "completed_workouts"."created_at" BETWEEN ? AND ? ORDER BY "completed_workouts"."id" DESC"#,
    );
    let s = run(workouts(vec![]), vec![q(&sql, 1, 1.0)]);
    assert_eq!(columns(&s[0]), ["user_id", "created_at"]);
    // At most four keys, equalities first.
    let sql = cw(
        r#"WHERE "completed_workouts"."user_id" = ? AND "completed_workouts"."workout_id" = ? AND "completed_workouts"."notes" = ? AND "completed_workouts"."status" = ? AND "completed_workouts"."id" > ?"#,
    );
    let s = run(workouts(vec![]), vec![q(&sql, 1, 1.0)]);
    assert_eq!(columns(&s[0]), ["user_id", "status", "workout_id", "notes"]);
}

#[test]
fn what_is_not_indexed() {
    for rest in [
        // The primary key alone, or with more equalities: one row.
        r#"WHERE "completed_workouts"."id" = ? LIMIT ?"#,
        r#"WHERE "completed_workouts"."id" = ? AND "completed_workouts"."user_id" = ?"#,
        r#"WHERE "completed_workouts"."id" IN (?)"#,
        // Not indexable by a btree.
        r#"WHERE "completed_workouts"."notes" LIKE ?"#,
        r#"WHERE "completed_workouts"."notes" LIKE '%run'"#,
        r#"WHERE "completed_workouts"."user_id" <> ?"#,
        r#"WHERE "completed_workouts"."deleted_at" IS NOT NULL"#,
        r#"WHERE LOWER("completed_workouts"."notes") = ?"#,
        // OR across columns: which columns are ANDed is unknown.
        r#"WHERE "completed_workouts"."user_id" = ? OR "completed_workouts"."workout_id" = ?"#,
        // Columns the table does not have.
        r#"WHERE "completed_workouts"."nope" = ?"#,
    ] {
        let s = run(workouts(vec![]), vec![q(&cw(rest), 1000, 10_000.0)]);
        assert!(s.is_empty(), "{rest}: {s:?}");
    }
    // Writes other than UPDATE / DELETE, and tables not in the schema.
    let r = report_of(
        workouts(vec![]),
        None,
        vec![
            q(
                "INSERT INTO completed_workouts (user_id) VALUES (?)",
                1,
                1.0,
            ),
            q(
                "SELECT * FROM elsewhere WHERE elsewhere.user_id = ?",
                1,
                1.0,
            ),
        ],
    );
    assert!(r.suggestions.is_empty());
    assert_eq!((r.workload.not_reads, r.workload.unknown_tables), (1, 1));
}

#[test]
fn update_and_delete_filters_count() {
    let s = run(
        workouts(vec![]),
        vec![
            q(
                r#"UPDATE "completed_workouts" SET "status" = ? WHERE "completed_workouts"."workout_id" = ?"#,
                10,
                200.0,
            ),
            q(
                r#"DELETE FROM "completed_workouts" WHERE "completed_workouts"."created_at" < ?"#,
                1,
                900.0,
            ),
        ],
    );
    let found: Vec<Vec<&str>> = s.iter().map(columns).collect();
    assert_eq!(found, [vec!["created_at"], vec!["workout_id"]]);
}

#[test]
fn like_prefix_is_a_range_on_mysql_only() {
    let sql = "SELECT `completed_workouts`.* FROM `completed_workouts` WHERE `completed_workouts`.`user_id` = ? AND `completed_workouts`.`notes` LIKE 'run%'";
    let mut schema = workouts(vec![]);
    schema["dialect"] = json!("mysql");
    let s = run(schema, vec![q(sql, 1, 1.0)]);
    assert_eq!(columns(&s[0]), ["user_id", "notes"]);
    assert!(!s[0].sql.contains("CONCURRENTLY"));
    let pg =
        cw(r#"WHERE "completed_workouts"."user_id" = ? AND "completed_workouts"."notes" LIKE ?"#);
    let s = run(workouts(vec![]), vec![q(&pg, 1, 1.0)]);
    assert_eq!(columns(&s[0]), ["user_id"]);
}

// ---- what an existing index serves ---------------------------------------------

#[test]
fn already_served_by_an_existing_composite() {
    let eq_range = cw(
        r#"WHERE "completed_workouts"."user_id" = ? AND "completed_workouts"."created_at" >= ? ORDER BY "completed_workouts"."created_at" DESC LIMIT ?"#,
    );
    let eq_eq =
        cw(r#"WHERE "completed_workouts"."status" = ? AND "completed_workouts"."user_id" = ?"#);
    let workload = || vec![q(&eq_range, 100, 900.0), q(&eq_eq, 100, 900.0)];
    let served = run(
        workouts(vec![
            json!({"name": "by_user_created", "keys": [{"column": "user_id"}, {"column": "created_at", "order": "desc"}]}),
            // Equality keys serve in any order.
            ix("by_status_user", &["status", "user_id"]),
        ]),
        workload(),
    );
    assert!(served.is_empty(), "{served:?}");
    // The range must follow the equalities: (created_at, user_id) does not serve it.
    let s = run(
        workouts(vec![
            ix("by_created_user", &["created_at", "user_id"]),
            ix("by_status_user", &["status", "user_id"]),
        ]),
        workload(),
    );
    assert_eq!(s.len(), 1);
    assert_eq!(columns(&s[0]), ["user_id", "created_at"]);
    // A GIN or expression index serves nothing here.
    let s = run(
        workouts(vec![
            json!({"name": "gin", "method": "gin", "keys": [{"column": "user_id"}, {"column": "created_at"}]}),
            json!({"name": "expr", "keys": [{"expression": "(user_id + 0)"}, {"column": "created_at"}]}),
        ]),
        vec![q(&eq_range, 100, 900.0)],
    );
    assert_eq!(s.len(), 1);
}

#[test]
fn served_by_a_prefix_and_by_a_leading_column() {
    let eq_range = cw(
        r#"WHERE "completed_workouts"."user_id" = ? AND "completed_workouts"."created_at" >= ?"#,
    );
    let s = run(
        workouts(vec![ix("wide", &["user_id", "created_at", "status"])]),
        vec![q(&eq_range, 100, 900.0)],
    );
    assert!(s.is_empty());
    // A single-column candidate on a column that leads an index.
    let eq = cw(r#"WHERE "completed_workouts"."workout_id" = ?"#);
    let s = run(
        workouts(vec![ix("wide", &["workout_id", "created_at"])]),
        vec![q(&eq, 100, 900.0)],
    );
    assert!(s.is_empty());
    // A sort is served only in the index's order (or fully reversed).
    let mixed = cw(
        r#"WHERE "completed_workouts"."workout_id" = ? ORDER BY "completed_workouts"."created_at" DESC, "completed_workouts"."id" ASC LIMIT ?"#,
    );
    let reversed = json!({"name": "rev", "keys": [{"column": "workout_id"}, {"column": "created_at"}, {"column": "id", "order": "desc"}]});
    assert!(run(workouts(vec![reversed]), vec![q(&mixed, 1, 1.0)]).is_empty());
    let wrong = ix("asc", &["workout_id", "created_at", "id"]);
    assert_eq!(run(workouts(vec![wrong]), vec![q(&mixed, 1, 1.0)]).len(), 1);
}

#[test]
fn a_partial_index_does_not_serve_unless_its_predicate_is_the_querys_is_null() {
    let eq = cw(r#"WHERE "completed_workouts"."workout_id" = ?"#);
    let partial = json!({"name": "partial", "keys": [{"column": "workout_id"}], "where": "(completed = true)"});
    let s = run(workouts(vec![partial]), vec![q(&eq, 100, 900.0)]);
    assert_eq!(columns(&s[0]), ["workout_id"]);

    let kept = cw(
        r#"WHERE "completed_workouts"."workout_id" = ? AND "completed_workouts"."deleted_at" IS NULL"#,
    );
    let soft = json!({"name": "kept", "keys": [{"column": "workout_id"}], "where": "(deleted_at IS NULL)"});
    assert!(run(workouts(vec![soft.clone()]), vec![q(&kept, 100, 900.0)]).is_empty());
    // The same partial index does not serve the query without the IS NULL.
    let s = run(workouts(vec![soft]), vec![q(&eq, 100, 900.0)]);
    assert_eq!(columns(&s[0]), ["workout_id"]);
}

// ---- merging, floors, priority ---------------------------------------------------

#[test]
fn candidates_merge_into_one_composite() {
    let a = cw(r#"WHERE "completed_workouts"."workout_id" = ?"#);
    let b = cw(
        r#"WHERE "completed_workouts"."workout_id" = ? AND "completed_workouts"."created_at" >= ?"#,
    );
    let c = cw(
        r#"WHERE "completed_workouts"."workout_id" = ? ORDER BY "completed_workouts"."created_at" LIMIT ?"#,
    );
    let d =
        cw(r#"WHERE "completed_workouts"."workout_id" = ? AND "completed_workouts"."status" = ?"#);
    let s = run(
        workouts(vec![]),
        vec![
            q(&a, 100, 100.0),
            q(&b, 10, 1000.0),
            q(&c, 5, 400.0),
            q(&d, 1, 50.0),
        ],
    );
    let found: Vec<(Vec<&str>, usize, Option<f64>)> = s
        .iter()
        .map(|s| (columns(s), s.queries.len(), s.time_ms))
        .collect();
    // (workout_id) and the two (workout_id, created_at) candidates are one;
    // (workout_id, status) is another: neither serves the other.
    assert_eq!(
        found,
        [
            (vec!["workout_id", "created_at"], 3, Some(1500.0)),
            (vec!["status", "workout_id"], 1, Some(50.0)),
        ]
    );
    // Heaviest first.
    let times: Vec<f64> = s[0].queries.iter().map(|q| q.total_ms).collect();
    assert_eq!(times, [1000.0, 400.0, 100.0]);
    assert!(s[0].reason.contains("3 queries"), "{}", s[0].reason);
    assert!(
        s[0].reason
            .contains("workout_id (equality in 3 of 3 queries"),
        "{}",
        s[0].reason
    );
    assert_eq!(s[0].priority, Priority::High);
}

#[test]
fn floors_small_tables_and_time() {
    let sql = cw(r#"WHERE "completed_workouts"."workout_id" = ?"#);
    let mut small = workouts(vec![]);
    small["tables"][0]["rows"] = json!(500);
    let r = report_of(small.clone(), None, vec![q(&sql, 100, 900.0)]);
    assert!(r.suggestions.is_empty());
    assert_eq!(r.workload.small_tables, 1);
    // min_rows changes the threshold; unknown rows never skip.
    let opts = Options::from_json(
        &json!({"min_rows": 100, "workload": [q(&sql, 100, 900.0)]}).to_string(),
    )
    .unwrap();
    let s = advise(&Schema::from_json(&small.to_string()).unwrap(), &opts);
    assert_eq!(s.len(), 1);
    let mut unknown = workouts(vec![]);
    unknown["tables"][0]["rows"] = Value::Null;
    assert_eq!(run(unknown, vec![q(&sql, 100, 900.0)]).len(), 1);
    // min_total_ms drops what serves too little time.
    let opts = Options::from_json(
        &json!({"min_total_ms": 1000, "workload": [q(&sql, 100, 900.0)]}).to_string(),
    )
    .unwrap();
    let r = advise_report(
        &Schema::from_json(&workouts(vec![]).to_string()).unwrap(),
        &opts,
    );
    assert!(r.suggestions.is_empty());
    assert_eq!(r.workload.below_min_total_ms, 1);
}

#[test]
fn priority_from_time_and_rows() {
    let sql = cw(r#"WHERE "completed_workouts"."workout_id" = ?"#);
    let cases = [
        (250_000, 50.0, Priority::Low),
        (250_000, 100.0, Priority::Medium),
        (250_000, 1_000.0, Priority::High),
        (250_000, 50_000.0, Priority::High),
        (2_000_000, 5.0, Priority::High),
        (2_000_000, 10_000.0, Priority::Critical),
    ];
    for (rows, ms, want) in cases {
        let mut schema = workouts(vec![]);
        schema["tables"][0]["rows"] = json!(rows);
        let s = run(schema, vec![q(&sql, 1, ms)]);
        assert_eq!(s[0].priority, want, "{rows} {ms}");
    }
}

#[test]
fn unparseable_statements_are_skipped_and_counted() {
    let good = cw(r#"WHERE "completed_workouts"."workout_id" = ?"#);
    let r = report_of(
        workouts(vec![]),
        None,
        vec![
            json!({"fingerprint": "00000000000000aa", "sql": "SELEC * FROM completed_workouts WHERE", "count": 5, "total_ms": 9999.0}),
            q(&good, 1, 1.0),
        ],
    );
    assert_eq!(r.suggestions.len(), 1);
    assert_eq!(r.workload.queries, 2);
    assert_eq!(r.workload.unparseable, 1);
    assert_eq!(r.workload.unparseable_fingerprints, ["00000000000000aa"]);
    assert_eq!(r.workload.candidates, 1);
    assert_eq!(r.workload.suggested, 1);
}

// ---- the foreign-key link ------------------------------------------------------

/// `users` and `completed_workouts` with a declared, unindexed foreign key user_id.
fn fk_schema() -> Value {
    json!({"dialect": "postgresql", "tables": [
        {"name": "users", "rows": 5000, "primary_key": ["id"], "columns": [col("id", "bigint")]},
        {"name": "completed_workouts", "rows": 250_000, "primary_key": ["id"],
         "columns": [col("id", "bigint"), col("user_id", "bigint"), col("created_at", "timestamp")],
         "foreign_keys": [{"name": "fk_rails_1", "columns": ["user_id"], "to_table": "users",
                           "on_delete": "cascade"}]}
    ]})
}

fn n_plus_one() -> Value {
    json!({"fingerprint": "1111111111111111", "count": 1200, "total_ms": 2400.0, "n_plus_one": true,
           "sql": cw(r#"WHERE "completed_workouts"."user_id" = ?"#),
           "locations": ["app/controllers/api/stats_controller.rb:14"],
           "sources": ["Api::StatsController#index"]})
}

#[test]
fn queries_on_an_unindexed_foreign_key_attach_to_its_suggestion() {
    let r = report_of(fk_schema(), None, vec![n_plus_one()]);
    assert_eq!(r.suggestions.len(), 1, "{:?}", r.suggestions);
    let s = &r.suggestions[0];
    assert_eq!(s.kind, SuggestionKind::MissingForeignKeyIndex);
    assert_eq!(columns(s), ["user_id"]);
    assert_eq!(s.time_ms, Some(2400.0));
    assert_eq!(s.queries.len(), 1);
    assert_eq!(s.queries[0].fingerprint, "1111111111111111");
    assert!(
        s.reason
            .contains("The N+1 at app/controllers/api/stats_controller.rb:14 (1,200 calls) filters on user_id with no index"),
        "{}",
        s.reason
    );
    assert!(s.reason.contains("fk_rails_1"));
    assert_eq!(s.priority, Priority::Critical); // 250k rows and CASCADE
    assert_eq!(r.workload.suggested, 1);

    // Only workload_index asked for: the workload index stands, and names the key.
    let s = run(fk_schema(), vec![n_plus_one()]);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].kind, SuggestionKind::WorkloadIndex);
    assert_eq!(s[0].via, Some(Via::Declared));
    assert_eq!(s[0].references.as_deref(), Some("users"));
    assert!(s[0]
        .reason
        .contains("It also covers the foreign key user_id"));
}

#[test]
fn a_wider_workload_index_replaces_the_foreign_key_index() {
    let range = q(
        &cw(
            r#"WHERE "completed_workouts"."user_id" = ? AND "completed_workouts"."created_at" >= ?"#,
        ),
        10,
        500.0,
    );
    let r = report_of(fk_schema(), None, vec![n_plus_one(), range.clone()]);
    assert_eq!(r.suggestions.len(), 1, "{:?}", r.suggestions);
    let s = &r.suggestions[0];
    assert_eq!(s.kind, SuggestionKind::WorkloadIndex);
    assert_eq!(columns(s), ["user_id", "created_at"]);
    assert_eq!(s.queries.len(), 2);
    assert_eq!(s.time_ms, Some(2900.0));
    assert_eq!(s.via, Some(Via::Declared));
    assert_eq!(s.on_delete.map(|a| a.as_str()), Some("cascade"));
    // The foreign key's priority when it is higher.
    assert_eq!(s.priority, Priority::Critical);
    assert!(
        s.reason
            .contains("It also covers the foreign key user_id (to users, ON DELETE CASCADE)"),
        "{}",
        s.reason
    );
    assert!(s
        .reason
        .contains("The N+1 at app/controllers/api/stats_controller.rb:14"));

    // Without workload_index: both queries attach to the foreign key index.
    let r = report_of(
        fk_schema(),
        Some(&["missing_foreign_key_index"]),
        vec![n_plus_one(), range],
    );
    assert_eq!(r.suggestions.len(), 1);
    assert_eq!(
        r.suggestions[0].kind,
        SuggestionKind::MissingForeignKeyIndex
    );
    assert_eq!(r.suggestions[0].queries.len(), 2);
}

// ---- joins and ORDER BY on another table ---------------------------------------

/// posts (100k rows) and comments (1M rows); comments.post_id is a
/// foreign key by convention.
fn blog() -> Value {
    json!({"dialect": "postgresql", "tables": [
        {"name": "posts", "rows": 100_000, "primary_key": ["id"],
         "columns": [col("id", "bigint"), col("author_id", "bigint"), col("created_at", "timestamp"),
                     col("title", "text")]},
        {"name": "comments", "rows": 1_000_000, "primary_key": ["id"],
         "columns": [col("id", "bigint"), col("post_id", "bigint"), col("approved", "boolean"),
                     col("created_at", "timestamp")]}
    ]})
}

#[test]
fn join_tables_are_considered_separately() {
    let sql = r#"SELECT "posts".* FROM "posts" INNER JOIN "comments" ON "comments"."post_id" = "posts"."id" WHERE "posts"."author_id" = ? AND "comments"."approved" = ?"#;
    let s = run(blog(), vec![q(sql, 50, 2000.0)]);
    let found: Vec<(&str, Vec<&str>)> = s.iter().map(|s| (s.table.as_str(), columns(s))).collect();
    // comments is the inner table: its join column is an equality key
    // (before the boolean); posts is filtered by author_id alone.
    assert_eq!(
        found,
        [
            ("comments", vec!["post_id", "approved"]),
            ("posts", vec!["author_id"]),
        ]
    );
    assert!(
        s[0].reason.contains("post_id (join key)"),
        "{}",
        s[0].reason
    );
    // comments.post_id is an unindexed foreign key by convention: the wider
    // workload index covers it.
    assert_eq!(s[0].via, Some(Via::Convention));

    // The inner table joined on its primary key: that lookup is served, so only its filter counts.
    let sql = r#"SELECT "comments".* FROM "comments" INNER JOIN "posts" ON "posts"."id" = "comments"."post_id" WHERE "posts"."author_id" = ?"#;
    let s = run(blog(), vec![q(sql, 50, 2000.0)]);
    let found: Vec<(&str, Vec<&str>)> = s.iter().map(|s| (s.table.as_str(), columns(s))).collect();
    assert_eq!(found, [("posts", vec!["author_id"])]);

    // With all kinds: the comments join looks rows up by post_id, so it attaches
    // to the missing foreign key index on comments.post_id.
    let sql = r#"SELECT "posts".* FROM "posts" INNER JOIN "comments" ON "comments"."post_id" = "posts"."id" WHERE "posts"."author_id" = ?"#;
    let r = report_of(blog(), None, vec![q(sql, 50, 2000.0)]);
    let found: Vec<(SuggestionKind, &str, Vec<&str>, usize)> = r
        .suggestions
        .iter()
        .map(|s| (s.kind, s.table.as_str(), columns(s), s.queries.len()))
        .collect();
    assert_eq!(
        found,
        [
            (
                SuggestionKind::MissingForeignKeyIndex,
                "comments",
                vec!["post_id"],
                1
            ),
            (SuggestionKind::WorkloadIndex, "posts", vec!["author_id"], 1),
        ]
    );
}

#[test]
fn order_by_on_another_table_is_ignored() {
    let sql = r#"SELECT "posts".* FROM "posts" INNER JOIN "comments" ON "comments"."post_id" = "posts"."id" WHERE "posts"."author_id" = ? ORDER BY "comments"."created_at" DESC LIMIT ?"#;
    let s = run(blog(), vec![q(sql, 50, 2000.0)]);
    let posts: Vec<&Suggestion> = s.iter().filter(|s| s.table == "posts").collect();
    assert_eq!(columns(posts[0]), ["author_id"]);
    let comments: Vec<&Suggestion> = s.iter().filter(|s| s.table == "comments").collect();
    assert_eq!(columns(comments[0]), ["post_id"]);
    // The first table's sort counts.
    let sql = r#"SELECT "posts".* FROM "posts" INNER JOIN "comments" ON "comments"."post_id" = "posts"."id" WHERE "posts"."author_id" = ? ORDER BY "posts"."created_at" DESC LIMIT ?"#;
    let s = run(blog(), vec![q(sql, 50, 2000.0)]);
    let posts: Vec<&Suggestion> = s.iter().filter(|s| s.table == "posts").collect();
    assert_eq!(columns(posts[0]), ["author_id", "created_at"]);
}

#[test]
fn self_joins_and_aliases() {
    // Aliases resolve; a table named twice is skipped (its filters cannot be told apart).
    let aliased = r#"SELECT p.* FROM posts p WHERE p.author_id = ? AND p.created_at > ?"#;
    let s = run(blog(), vec![q(aliased, 1, 1.0)]);
    assert_eq!(columns(&s[0]), ["author_id", "created_at"]);
    let self_join = r#"SELECT a.* FROM posts a INNER JOIN posts b ON b.author_id = a.author_id WHERE b.title = ?"#;
    assert!(run(blog(), vec![q(self_join, 1, 1.0)]).is_empty());
}

// ---- determinism and the JSON API ----------------------------------------------

#[test]
fn deterministic_order() {
    let workload = vec![
        q(
            &cw(r#"WHERE "completed_workouts"."workout_id" = ?"#),
            10,
            100.0,
        ),
        q(
            &cw(
                r#"WHERE "completed_workouts"."notes" = ? ORDER BY "completed_workouts"."created_at" LIMIT ?"#,
            ),
            10,
            3000.0,
        ),
        q(
            r#"SELECT "posts".* FROM "posts" WHERE "posts"."author_id" = ?"#,
            99,
            3000.0,
        ),
        q(
            r#"SELECT "posts".* FROM "posts" WHERE "posts"."title" = ?"#,
            5,
            3000.0,
        ),
        q(
            r#"SELECT "posts".* FROM "posts" WHERE "posts"."created_at" > ?"#,
            5,
            20.0,
        ),
    ];
    let mut schema = workouts(vec![]);
    let blog = blog();
    schema["tables"]
        .as_array_mut()
        .unwrap()
        .push(blog["tables"][0].clone());
    let s = run(schema.clone(), workload.clone());
    let order: Vec<(Priority, &str, Vec<&str>)> = s
        .iter()
        .map(|s| (s.priority, s.table.as_str(), columns(s)))
        .collect();
    assert_eq!(
        order,
        [
            // Same priority: most time, then most calls, then table.
            (Priority::High, "posts", vec!["author_id"]),
            (
                Priority::High,
                "completed_workouts",
                vec!["notes", "created_at"]
            ),
            (Priority::High, "posts", vec!["title"]),
            (Priority::Medium, "completed_workouts", vec!["workout_id"]),
            (Priority::Low, "posts", vec!["created_at"]),
        ]
    );
    let mut reversed = schema;
    reversed["tables"].as_array_mut().unwrap().reverse();
    let mut rev_workload = workload.clone();
    rev_workload.reverse();
    assert_eq!(run(reversed, rev_workload), s);
    // Entries of one fingerprint add up.
    let mut doubled = workload.clone();
    doubled.push(workload[0].clone());
    let s2 = run(workouts(vec![]), doubled);
    let w = s2.iter().find(|s| columns(s) == ["workout_id"]).unwrap();
    assert_eq!((w.queries[0].count, w.time_ms), (20, Some(200.0)));
}

#[test]
fn json_api_and_options() {
    let sql = cw(r#"WHERE "completed_workouts"."workout_id" = ?"#);
    let options = json!({"migration_version": "7.1", "kinds": ["workload_index"],
                         "workload": [{"sql": sql, "count": 3.0, "total_ms": 12.5, "locations": null,
                                       "n_plus_one": null}],
                         "min_total_ms": null, "min_rows": null});
    let out: Value = serde_json::from_str(
        &advise_json(&workouts(vec![]).to_string(), &options.to_string()).unwrap(),
    )
    .unwrap();
    let s = &out[0];
    assert_eq!(s["kind"], "workload_index");
    assert_eq!(s["columns"], json!(["workout_id"]));
    assert_eq!(s["descending"], json!([]));
    assert_eq!(s["time_ms"], 12.5);
    assert!(s["migration"].as_str().unwrap().contains("Migration[7.1]"));
    let served = &s["queries"][0];
    for key in [
        "fingerprint",
        "sql",
        "count",
        "total_ms",
        "locations",
        "sources",
        "n_plus_one",
    ] {
        assert!(served.get(key).is_some(), "{key}");
    }
    // A missing fingerprint is computed from the SQL.
    assert_eq!(served["fingerprint"].as_str().unwrap().len(), 16);
    assert_eq!(served["count"], 3);

    let report: Value = serde_json::from_str(
        &advise_json_report(&workouts(vec![]).to_string(), &options.to_string()).unwrap(),
    )
    .unwrap();
    assert_eq!(report["suggestions"], out);
    assert_eq!(report["workload"]["queries"], 1);
    assert_eq!(report["workload"]["suggested"], 1);

    // Other suggestions carry the new fields empty.
    let plain: Value =
        serde_json::from_str(&advise_json(&fk_schema().to_string(), "{}").unwrap()).unwrap();
    assert_eq!(plain[0]["queries"], json!([]));
    assert_eq!(plain[0]["time_ms"], Value::Null);

    for bad in [
        r#"{"workload": {"sql": "SELECT 1"}}"#,
        r#"{"workload": [{"count": 1}]}"#,
        r#"{"min_rows": "many"}"#,
    ] {
        assert!(
            matches!(Options::from_json(bad), Err(Error::InvalidInput { .. })),
            "{bad}"
        );
    }
    // Literals never come back: the SQL is normalized again.
    let raw = json!({"workload": [{"sql": "SELECT * FROM completed_workouts WHERE workout_id = 42", "count": 1, "total_ms": 1}]});
    let out = advise_json(&workouts(vec![]).to_string(), &raw.to_string()).unwrap();
    assert!(!out.contains("42"), "{out}");
}

#[test]
fn column_distinct_round_trips() {
    let schema = Schema::from_json(&workouts(vec![]).to_string()).unwrap();
    assert_eq!(schema.tables[0].columns[1].distinct, Some(5000));
    assert_eq!(schema.tables[0].columns[0].distinct, None);
    let again = Schema::from_json(&schema.to_json()).unwrap();
    assert_eq!(again, schema);
    // Negative (a fraction in pg_stats) or null: unknown.
    let s = Schema::from_json(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "distinct": -0.5}, {"name": "b", "distinct": null}, {"name": "c", "distinct": 12.0}]}]}"#,
    )
    .unwrap();
    let d: Vec<Option<u64>> = s.tables[0].columns.iter().map(|c| c.distinct).collect();
    assert_eq!(d, [None, None, Some(12)]);
}

#[test]
fn hostile_statements_never_panic() {
    let deep = format!(
        "SELECT * FROM completed_workouts WHERE {}1{}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let long_and = format!(
        "SELECT * FROM completed_workouts WHERE {}",
        vec!["user_id = ?"; 3000].join(" AND ")
    );
    let huge = format!(
        "SELECT * FROM completed_workouts WHERE notes = '{}'",
        "x".repeat(2 << 20)
    );
    let workload: Vec<Value> = [
        deep.as_str(),
        long_and.as_str(),
        huge.as_str(),
        "",
        ";;;",
        "\u{0}\u{ffff}",
        "SELECT * FROM completed_workouts WHERE data ? ? AND user_id = ?",
        "WITH x AS (SELECT * FROM completed_workouts) SELECT * FROM x WHERE x.user_id = ?",
    ]
    .iter()
    .map(|sql| q(sql, 1, 1.0))
    .collect();
    let r = report_of(workouts(vec![]), None, workload);
    assert_eq!(r.workload.queries, 8);
    assert!(r.workload.unparseable >= 4, "{:?}", r.workload);
}
