//! The index advisor: every rule, every "must not", the Rails and SQL text,
//! the JSON API, and the pg_dump fixture end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use serde_json::{json, Value};
use vto_core::detect::Priority;
use vto_core::index::{
    advise, advise_json, rails_index_name, Options, Suggestion, SuggestionKind, Via,
};
use vto_core::schema::{from_ddl, Schema};
use vto_core::{Dialect, Error};

const PG_DUMP: &str = include_str!("fixtures/pg_dump_schema_only.sql");

fn schema(value: Value) -> Schema {
    Schema::from_json(&value.to_string()).unwrap()
}

fn run(value: Value) -> Vec<Suggestion> {
    advise(&schema(value), &Options::default())
}

fn of_kind(suggestions: &[Suggestion], kind: SuggestionKind) -> Vec<&Suggestion> {
    suggestions.iter().filter(|s| s.kind == kind).collect()
}

fn col(name: &str, ty: &str) -> Value {
    json!({"name": name, "type": ty})
}

fn ix(name: &str, columns: &[&str]) -> Value {
    let keys: Vec<Value> = columns.iter().map(|c| json!({"column": c})).collect();
    json!({"name": name, "keys": keys})
}

fn with(mut index: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        index[k] = v.clone();
    }
    index
}

/// `users` and a `child` table with a declared foreign key `user_id`.
fn fk_schema(rows: Option<u64>, on_delete: Option<&str>, indexes: Vec<Value>) -> Value {
    json!({"dialect": "postgresql", "tables": [
        {"name": "users", "primary_key": ["id"], "columns": [col("id", "bigint")]},
        {"name": "completed_workouts", "rows": rows, "size_bytes": 81920, "primary_key": ["id"],
         "columns": [col("id", "bigint"), col("user_id", "bigint"), col("created_at", "timestamp")],
         "indexes": indexes,
         "foreign_keys": [{"name": "fk_rails_1", "columns": ["user_id"], "to_table": "users",
                           "to_columns": ["id"], "on_delete": on_delete}]}
    ]})
}

// ---- missing_foreign_key_index ----------------------------------------------

#[test]
fn declared_foreign_key_without_index() {
    let s = run(fk_schema(Some(1200), Some("cascade"), vec![]));
    assert_eq!(s.len(), 1);
    let s = &s[0];
    assert_eq!(s.kind, SuggestionKind::MissingForeignKeyIndex);
    assert_eq!(
        (s.table.as_str(), s.columns.as_slice()),
        ("completed_workouts", &["user_id".to_owned()][..])
    );
    assert_eq!(s.index_name, "index_completed_workouts_on_user_id");
    assert_eq!(s.via, Some(Via::Declared));
    assert_eq!(s.references.as_deref(), Some("users"));
    assert_eq!(s.covered_by, None);
    assert_eq!(
        s.migration,
        "class AddIndexOnUserIdToCompletedWorkouts < ActiveRecord::Migration[6.1]\n  disable_ddl_transaction!\n\n  def change\n    add_index :completed_workouts, :user_id, algorithm: :concurrently\n  end\nend\n"
    );
    assert_eq!(
        s.sql,
        "CREATE INDEX CONCURRENTLY index_completed_workouts_on_user_id ON completed_workouts (user_id);"
    );
    for needle in [
        "fk_rails_1",
        "ON DELETE CASCADE",
        "1,200 rows",
        "80 KB",
        "users",
    ] {
        assert!(s.reason.contains(needle), "{needle}: {}", s.reason);
    }
    assert!(s.trade_offs.contains("CONCURRENTLY"));
    // 1,200 rows is low, one level up for ON DELETE CASCADE.
    assert_eq!(s.priority, Priority::Medium);
}

#[test]
fn missing_foreign_key_priority_by_rows_and_on_delete() {
    let cases = [
        (Some(150_000), None, Priority::High),
        (Some(150_000), Some("cascade"), Priority::Critical),
        (Some(20_000), None, Priority::Medium),
        (Some(20_000), Some("set_null"), Priority::High),
        (Some(500), None, Priority::Low),
        (Some(500), Some("set_default"), Priority::Medium),
        (Some(500), Some("restrict"), Priority::Low),
        (Some(500), Some("no_action"), Priority::Low),
        (None, None, Priority::Medium),
        (None, Some("cascade"), Priority::High),
    ];
    for (rows, on_delete, want) in cases {
        let s = run(fk_schema(rows, on_delete, vec![]));
        assert_eq!(s[0].priority, want, "{rows:?} {on_delete:?}");
    }
    // Rails' `nullify` is SET NULL.
    let s = run(fk_schema(Some(500), Some("nullify"), vec![]));
    assert_eq!(s[0].priority, Priority::Medium);
}

#[test]
fn what_covers_a_foreign_key() {
    let covered = [
        ix("index_completed_workouts_on_user_id", &["user_id"]),
        ix(
            "index_completed_workouts_on_user_id_and_created_at",
            &["user_id", "created_at"],
        ),
        with(
            ix("uniq", &["user_id", "created_at"]),
            json!({"unique": true}),
        ),
        with(ix("by_hash", &["user_id"]), json!({"method": "hash"})),
        with(
            ix("desc", &["user_id"]),
            json!({"keys": [{"column": "user_id", "order": "desc"}]}),
        ),
    ];
    for index in covered {
        let s = run(fk_schema(Some(10), None, vec![index.clone()]));
        assert!(
            of_kind(&s, SuggestionKind::MissingForeignKeyIndex).is_empty(),
            "{index}"
        );
    }
    let not_covered = [
        // Partial: only some rows.
        with(
            ix("partial", &["user_id"]),
            json!({"where": "(discarded_at IS NULL)"}),
        ),
        // Not the leading key.
        ix("second", &["created_at", "user_id"]),
        // Other methods and expressions.
        with(ix("gin", &["user_id"]), json!({"method": "gin"})),
        with(ix("brin", &["user_id"]), json!({"method": "brin"})),
        json!({"name": "expr", "keys": [{"expression": "(user_id + 0)"}]}),
    ];
    for index in not_covered {
        let s = run(fk_schema(Some(10), None, vec![index.clone()]));
        assert_eq!(
            of_kind(&s, SuggestionKind::MissingForeignKeyIndex).len(),
            1,
            "{index}"
        );
    }
}

#[test]
fn a_composite_primary_key_covers_its_leading_column_only() {
    let value = json!({"tables": [
        {"name": "users", "primary_key": ["id"], "columns": [col("id", "bigint")]},
        {"name": "teams", "primary_key": ["id"], "columns": [col("id", "bigint")]},
        {"name": "team_memberships", "rows": 50,
         "primary_key": ["team_id", "user_id"],
         "columns": [col("team_id", "bigint"), col("user_id", "bigint")],
         "foreign_keys": [
            {"columns": ["team_id"], "to_table": "teams", "on_delete": "cascade"},
            {"columns": ["user_id"], "to_table": "users", "on_delete": "cascade"}]}
    ]});
    // Without the primary key's index listed: the primary key itself counts.
    let s = run(value.clone());
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].columns, ["user_id"]);
    // With it listed, the same.
    let mut listed = value;
    listed["tables"][2]["indexes"] = json!([with(
        ix("team_memberships_pkey", &["team_id", "user_id"]),
        json!({"unique": true, "primary": true})
    )]);
    let s = run(listed);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].columns, ["user_id"]);
}

#[test]
fn composite_foreign_key_is_covered_in_any_order() {
    let value = |index: Value| {
        json!({"tables": [
            {"name": "parents", "primary_key": ["a", "b"], "columns": [col("a", "int"), col("b", "int")]},
            {"name": "children", "columns": [col("x", "int"), col("y", "int")], "indexes": [index],
             "foreign_keys": [{"columns": ["x", "y"], "to_table": "parents", "to_columns": ["a", "b"]}]}
        ]})
    };
    assert!(run(value(ix("i", &["y", "x", "id"]))).is_empty());
    let s = run(value(ix("i", &["x"])));
    assert_eq!(s[0].columns, ["x", "y"]);
    assert_eq!(s[0].index_name, "index_children_on_x_and_y");
}

#[test]
fn associations_and_polymorphic_pairs() {
    let value = |indexes: Value| {
        json!({"tables": [
           {"name": "workouts", "primary_key": ["id"], "columns": [col("id", "bigint")]},
           {"name": "comments", "rows": 20_000, "primary_key": ["id"],
            "columns": [col("id", "bigint"), col("commentable_type", "character varying"),
                        col("commentable_id", "bigint"), col("author_id", "bigint")],
            "indexes": indexes}
        ],
        "associations": [
           {"table": "comments", "foreign_key": "commentable_id", "foreign_type": "commentable_type",
            "polymorphic": true},
           {"table": "comments", "foreign_key": "author_id", "to_table": "users"},
           // Stale reflection (no such column) and a table the schema does not have.
           {"table": "comments", "foreign_key": "ghost_id"},
           {"table": "ghosts", "foreign_key": "user_id"}
        ]})
    };
    let s = run(value(json!([])));
    let fk = of_kind(&s, SuggestionKind::MissingForeignKeyIndex);
    let found: Vec<(&[String], Option<Via>)> =
        fk.iter().map(|s| (s.columns.as_slice(), s.via)).collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.contains(&(&["author_id".to_owned()][..], Some(Via::Association))));
    assert!(found.contains(&(
        &["commentable_type".to_owned(), "commentable_id".to_owned()][..],
        Some(Via::Association)
    )));
    let pair = fk.iter().find(|s| s.columns.len() == 2).unwrap();
    assert_eq!(
        pair.index_name,
        "index_comments_on_commentable_type_and_commentable_id"
    );
    assert!(pair.migration.contains(
        "add_index :comments, [:commentable_type, :commentable_id], algorithm: :concurrently"
    ));
    // The pair in either order, or an index leading with the _id column, covers it.
    for index in [
        ix("a", &["commentable_type", "commentable_id"]),
        ix("b", &["commentable_id", "commentable_type", "id"]),
        ix("c", &["commentable_id"]),
    ] {
        let s = run(value(json!([index.clone(), ix("author", &["author_id"])])));
        assert!(s.is_empty(), "{index}: {s:?}");
    }
    // Only the type column leading does not.
    let s = run(value(json!([
        ix("t", &["commentable_type"]),
        ix("author", &["author_id"])
    ])));
    assert_eq!(s.len(), 1);
}

#[test]
fn rails_conventions_with_inflection() {
    let value = json!({"tables": [
        {"name": "users", "columns": [col("id", "bigint")]},
        {"name": "categories", "columns": [col("id", "bigint")]},
        {"name": "boxes", "columns": [col("id", "bigint")]},
        {"name": "people", "columns": [col("id", "bigint")]},
        {"name": "children", "columns": [col("id", "bigint")]},
        {"name": "wellness_statuses", "columns": [col("id", "uuid")]},
        {"name": "things", "columns": [
            col("user_id", "bigint"), col("category_id", "integer"), col("box_id", "int8"),
            col("person_id", "bigint"), col("child_id", "bigint"), col("wellness_status_id", "uuid"),
            // No such table, or not a key type: no convention.
            col("coach_id", "bigint"), col("external_id", "bigint"), col("stripe_customer_id", "character varying"),
            // A sibling _type column: a polymorphic pair.
            col("owner_type", "character varying"), col("owner_id", "bigint")
        ]}
    ]});
    let s = run(value);
    let found: Vec<(String, Option<Via>, Option<&str>)> = s
        .iter()
        .map(|s| (s.columns.join(","), s.via, s.references.as_deref()))
        .collect();
    let want = [
        ("user_id", Via::Convention, Some("users")),
        ("category_id", Via::Convention, Some("categories")),
        ("box_id", Via::Convention, Some("boxes")),
        ("person_id", Via::Convention, Some("people")),
        ("child_id", Via::Convention, Some("children")),
        (
            "wellness_status_id",
            Via::Convention,
            Some("wellness_statuses"),
        ),
        ("owner_type,owner_id", Via::Polymorphic, None),
    ];
    assert_eq!(found.len(), want.len(), "{found:?}");
    for (columns, via, references) in want {
        assert!(
            found.contains(&(columns.to_owned(), Some(via), references)),
            "{columns}: {found:?}"
        );
    }
}

#[test]
fn one_suggestion_per_column_set() {
    let value = json!({"tables": [
       {"name": "users", "columns": [col("id", "bigint")]},
       {"name": "posts", "columns": [col("id", "bigint"), col("user_id", "bigint"),
                                    col("subject_type", "text"), col("subject_id", "bigint")],
        "foreign_keys": [{"columns": ["user_id"], "to_table": "users", "on_delete": "cascade"}]}
    ],
    "associations": [
       {"table": "posts", "foreign_key": "user_id", "to_table": "users"},
       {"table": "posts", "foreign_key": "subject_id", "foreign_type": "subject_type", "polymorphic": true},
       // The _id of a polymorphic pair on its own (a misread reflection).
       {"table": "posts", "foreign_key": "subject_id", "to_table": "subjects"}
    ]});
    let s = run(value);
    let found: Vec<(String, Option<Via>)> =
        s.iter().map(|s| (s.columns.join(","), s.via)).collect();
    assert_eq!(
        found,
        [
            // Declared wins over the association and the convention (and ON DELETE raises it).
            ("user_id".to_owned(), Some(Via::Declared)),
            ("subject_type,subject_id".to_owned(), Some(Via::Association)),
        ]
    );
}

// ---- redundant_index ---------------------------------------------------------

fn table_with(indexes: Vec<Value>) -> Value {
    json!({"dialect": "postgresql", "tables": [
        {"name": "users", "rows": 5000, "primary_key": ["id"],
         "columns": [col("id", "bigint"), col("name", "text"), col("email", "text"), col("team_id", "bigint")],
         "indexes": indexes}
    ]})
}

fn redundant(indexes: Vec<Value>) -> Vec<(String, String, SuggestionKind)> {
    let s = run(table_with(indexes));
    of_kind(&s, SuggestionKind::RedundantIndex)
        .into_iter()
        .map(|s| (s.index_name.clone(), s.covered_by.clone().unwrap(), s.kind))
        .collect()
}

fn names(found: &[(String, String, SuggestionKind)]) -> Vec<(&str, &str)> {
    found
        .iter()
        .map(|(a, b, _)| (a.as_str(), b.as_str()))
        .collect()
}

#[test]
fn exact_duplicates_flag_the_later_name_deterministically() {
    let a = ix("index_users_on_name", &["name"]);
    let b = ix("index_users_on_name_2", &["name"]);
    let first = redundant(vec![a.clone(), b.clone()]);
    let second = redundant(vec![b, a]);
    assert_eq!(
        names(&first),
        [("index_users_on_name_2", "index_users_on_name")]
    );
    assert_eq!(first, second);
    let s = run(table_with(vec![ix("x_a", &["name"]), ix("x_b", &["name"])]));
    assert_eq!(s[0].priority, Priority::Medium);
    assert!(s[0].reason.contains("duplicates x_a"), "{}", s[0].reason);
}

#[test]
fn a_duplicate_of_a_unique_or_primary_index_is_the_one_flagged() {
    let unique = with(ix("z_unique", &["email"]), json!({"unique": true}));
    let plain = ix("a_plain", &["email"]);
    assert_eq!(
        names(&redundant(vec![unique.clone(), plain])),
        [("a_plain", "z_unique")]
    );
    // Two identical unique indexes: the later name goes.
    let other = with(ix("y_unique", &["email"]), json!({"unique": true}));
    assert_eq!(
        names(&redundant(vec![unique, other])),
        [("z_unique", "y_unique")]
    );
    // A plain index on the primary key's column, with or without the pkey index listed.
    assert_eq!(
        names(&redundant(vec![ix("by_id", &["id"])])),
        [("by_id", "users_pkey")]
    );
    let pkey = with(
        ix("users_pkey", &["id"]),
        json!({"unique": true, "primary": true}),
    );
    let unique_id = with(ix("uniq_id", &["id"]), json!({"unique": true}));
    assert_eq!(
        names(&redundant(vec![pkey.clone(), unique_id])),
        [("uniq_id", "users_pkey")]
    );
    // Two constraints are never flagged (DROP INDEX cannot drop them).
    let c1 = with(
        ix("c1", &["email"]),
        json!({"unique": true, "constraint": true}),
    );
    let c2 = with(
        ix("c2", &["email"]),
        json!({"unique": true, "constraint": true}),
    );
    assert!(redundant(vec![c1, c2]).is_empty());
}

#[test]
fn duplicates_compare_predicates_normalized_and_everything_else_exactly() {
    let p1 = with(
        ix("p1", &["team_id"]),
        json!({"where": "(deleted_at IS NULL)"}),
    );
    let p2 = with(
        ix("p2", &["team_id"]),
        json!({"where": "deleted_at   is null"}),
    );
    assert_eq!(names(&redundant(vec![p1.clone(), p2])), [("p2", "p1")]);
    // Different predicates, or one partial: not duplicates, not prefixes.
    let p3 = with(
        ix("p3", &["team_id"]),
        json!({"where": "deleted_at IS NOT NULL"}),
    );
    assert!(redundant(vec![p1.clone(), p3]).is_empty());
    assert!(redundant(vec![p1, ix("full", &["team_id"])]).is_empty());
    // Different INCLUDE lists.
    let i1 = with(ix("i1", &["team_id"]), json!({"include": ["name"]}));
    let i2 = with(ix("i2", &["team_id"]), json!({"include": ["email"]}));
    assert!(redundant(vec![i1, i2]).is_empty());
    // Same INCLUDE in another order.
    let i3 = with(
        ix("i3", &["team_id"]),
        json!({"include": ["name", "email"]}),
    );
    let i4 = with(
        ix("i4", &["team_id"]),
        json!({"include": ["email", "name"]}),
    );
    assert_eq!(names(&redundant(vec![i3, i4])), [("i4", "i3")]);
    // Same expression, spelled differently.
    let e1 = json!({"name": "e1", "keys": [{"expression": "lower((email)::text)"}]});
    let e2 = json!({"name": "e2", "keys": [{"expression": "LOWER(( email )::TEXT)"}]});
    assert_eq!(names(&redundant(vec![e1, e2])), [("e2", "e1")]);
}

#[test]
fn left_prefixes_are_redundant() {
    let narrow = ix("index_users_on_team_id", &["team_id"]);
    let wide = ix("index_users_on_team_id_and_name", &["team_id", "name"]);
    let wider = ix(
        "index_users_on_team_id_and_name_and_email",
        &["team_id", "name", "email"],
    );
    let found = redundant(vec![narrow.clone(), wide.clone()]);
    assert_eq!(
        names(&found),
        [("index_users_on_team_id", "index_users_on_team_id_and_name")]
    );
    let s = run(table_with(vec![narrow.clone(), wide.clone()]));
    assert_eq!(s[0].priority, Priority::Low);
    assert!(
        s[0].reason
            .contains("covered by index_users_on_team_id_and_name"),
        "{}",
        s[0].reason
    );
    // A chain: both narrower ones go, each naming the index that stays.
    let found = redundant(vec![narrow, wide, wider]);
    assert_eq!(
        names(&found),
        [
            (
                "index_users_on_team_id",
                "index_users_on_team_id_and_name_and_email"
            ),
            (
                "index_users_on_team_id_and_name",
                "index_users_on_team_id_and_name_and_email"
            ),
        ]
    );
    // Same keys and more INCLUDE columns cover it too.
    let covering = with(ix("covering", &["team_id"]), json!({"include": ["name"]}));
    assert_eq!(
        names(&redundant(vec![ix("plain", &["team_id"]), covering])),
        [("plain", "covering")]
    );
    // The narrower one's INCLUDE columns must be in the wider one.
    let narrow_inc = with(
        ix("narrow_inc", &["team_id"]),
        json!({"include": ["email"]}),
    );
    assert!(redundant(vec![narrow_inc, ix("w", &["team_id", "name"])]).is_empty());
}

#[test]
fn never_redundant() {
    let plain = ix("index_users_on_name", &["name"]);
    let cases: Vec<(&str, Vec<Value>)> = vec![
        // A GIN trigram index and a btree on the same column serve different queries.
        (
            "gin trigram vs btree",
            vec![
                plain.clone(),
                json!({"name": "index_users_on_name_trgm", "method": "gin",
                       "keys": [{"column": "name", "opclass": "gin_trgm_ops"}]}),
            ],
        ),
        (
            "gist vs btree",
            vec![
                plain.clone(),
                with(ix("g", &["name"]), json!({"method": "gist"})),
            ],
        ),
        (
            "brin vs btree",
            vec![
                plain.clone(),
                with(ix("b", &["name"]), json!({"method": "brin"})),
            ],
        ),
        (
            "hash vs btree",
            vec![
                plain.clone(),
                with(ix("h", &["name"]), json!({"method": "hash"})),
            ],
        ),
        (
            "expression vs column",
            vec![
                plain.clone(),
                json!({"name": "lower", "keys": [{"expression": "lower(name)"}]}),
            ],
        ),
        (
            "opclass differs",
            vec![
                plain.clone(),
                json!({"name": "pattern", "keys": [{"column": "name", "opclass": "text_pattern_ops"}, {"column": "email"}]}),
            ],
        ),
        (
            "direction differs",
            vec![
                plain.clone(),
                json!({"name": "desc", "keys": [{"column": "name", "order": "desc"}, {"column": "email"}]}),
            ],
        ),
        (
            "unique narrower index",
            vec![
                with(ix("uniq_name", &["name"]), json!({"unique": true})),
                ix("name_email", &["name", "email"]),
            ],
        ),
        (
            "constraint narrower index",
            vec![
                with(ix("c", &["name"]), json!({"constraint": true})),
                ix("name_email", &["name", "email"]),
            ],
        ),
        (
            "not a prefix",
            vec![
                ix("email", &["email"]),
                ix("name_email", &["name", "email"]),
            ],
        ),
        (
            "a wider gin index",
            vec![
                plain.clone(),
                with(ix("gin2", &["name", "email"]), json!({"method": "gin"})),
            ],
        ),
    ];
    for (what, indexes) in cases {
        assert!(redundant(indexes).is_empty(), "{what}");
    }
}

#[test]
fn large_redundant_index_is_high_priority() {
    let big = with(
        ix("index_users_on_team_id", &["team_id"]),
        json!({"size_bytes": 200u64 * 1024 * 1024}),
    );
    let s = run(table_with(vec![big, ix("wide", &["team_id", "name"])]));
    assert_eq!(s[0].priority, Priority::High);
    assert_eq!(s[0].size_bytes, Some(200 * 1024 * 1024));
    assert!(s[0].reason.contains("200 MB"));
}

#[test]
fn remove_index_migration_is_reversible() {
    let index = json!({"name": "index_users_on_name_trgm", "method": "gin", "where": "(name IS NOT NULL)",
                       "include": ["email"],
                       "keys": [{"column": "name", "opclass": "gin_trgm_ops", "order": "desc"}]});
    let s = run(table_with(vec![
        index.clone(),
        with(index, json!({"name": "index_users_on_name_trgm_2"})),
    ]));
    assert_eq!(
        s[0].migration,
        "class RemoveIndexUsersOnNameTrgm2 < ActiveRecord::Migration[6.1]\n  disable_ddl_transaction!\n\n  def change\n    \
         remove_index :users, column: :name, name: \"index_users_on_name_trgm_2\", order: { name: :desc }, \
         opclass: { name: :gin_trgm_ops }, where: \"(name IS NOT NULL)\", include: [:email], using: :gin, \
         algorithm: :concurrently\n  end\nend\n"
    );
    assert_eq!(
        s[0].sql,
        "DROP INDEX CONCURRENTLY index_users_on_name_trgm_2;"
    );
    // Expressions: one SQL string.
    let e = json!({"name": "e1", "unique": true, "keys": [{"expression": "lower((email)::text)", "opclass": "text_pattern_ops"}]});
    let s = run(table_with(vec![e.clone(), with(e, json!({"name": "e2"}))]));
    assert!(
        s[0].migration.contains(
            "remove_index :users, column: \"lower((email)::text) text_pattern_ops\", name: \"e2\", unique: true, algorithm: :concurrently"
        ),
        "{}",
        s[0].migration
    );
}

// ---- unused_index --------------------------------------------------------------

#[test]
fn unused_indexes() {
    let value = |dialect: &str, indexes: Vec<Value>| {
        json!({"dialect": dialect, "tables": [
            {"name": "users", "rows": 10, "primary_key": ["id"],
             "columns": [col("id", "bigint"), col("name", "text"), col("team_id", "bigint")],
             "indexes": indexes,
             "foreign_keys": [{"columns": ["team_id"], "to_table": "teams"}]},
            {"name": "teams", "primary_key": ["id"], "columns": [col("id", "bigint")]}
        ]})
    };
    let unused = with(
        ix("index_users_on_name", &["name"]),
        json!({"scans": 0, "size_bytes": 16384}),
    );
    let s = run(value(
        "postgresql",
        vec![
            unused.clone(),
            with(ix("t", &["team_id"]), json!({"scans": 9})),
        ],
    ));
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].kind, s[0].index_name.as_str()),
        (SuggestionKind::UnusedIndex, "index_users_on_name")
    );
    assert_eq!(s[0].priority, Priority::Low);
    assert_eq!(s[0].size_bytes, Some(16384));
    assert!(s[0].reason.contains("16 KB"), "{}", s[0].reason);
    assert!(s[0].migration.contains("remove_index :users, column: :name, name: \"index_users_on_name\", algorithm: :concurrently"));
    // 100 MB or more: medium.
    let big = with(unused.clone(), json!({"size_bytes": 100u64 * 1024 * 1024}));
    assert_eq!(
        run(value("postgresql", vec![big, ix("t", &["team_id"])]))[0].priority,
        Priority::Medium
    );
    // Unknown scans, unique, primary or constraint indexes: never.
    for index in [
        ix("unknown", &["name"]),
        with(ix("u", &["name"]), json!({"scans": 0, "unique": true})),
        with(ix("c", &["name"]), json!({"scans": 0, "constraint": true})),
        with(
            ix("p", &["id"]),
            json!({"scans": 0, "primary": true, "unique": true}),
        ),
    ] {
        let s = run(value(
            "postgresql",
            vec![index.clone(), ix("t", &["team_id"])],
        ));
        assert!(s.is_empty(), "{index}: {s:?}");
    }
    // Only PostgreSQL statistics count.
    assert!(run(value("mysql", vec![unused, ix("t", &["team_id"])])).is_empty());
    // The only index covering a foreign key stays, whatever its scans.
    let s = run(value(
        "postgresql",
        vec![with(ix("t", &["team_id"]), json!({"scans": 0}))],
    ));
    assert!(s.is_empty(), "{s:?}");
    // A redundant index is reported once, as redundant.
    let dup = with(ix("t2", &["team_id"]), json!({"scans": 0}));
    let s = run(value("postgresql", vec![ix("t", &["team_id"]), dup]));
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].kind, SuggestionKind::RedundantIndex);
}

// ---- dialects, names, options, JSON ---------------------------------------------

#[test]
fn mysql_and_sqlite_forms() {
    for (dialect, create, drop) in [
        (
            "mysql",
            "CREATE INDEX index_completed_workouts_on_user_id ON completed_workouts (user_id);",
            "DROP INDEX index_users_on_name_2 ON users;",
        ),
        (
            "sqlite",
            "CREATE INDEX index_completed_workouts_on_user_id ON completed_workouts (user_id);",
            "DROP INDEX index_users_on_name_2;",
        ),
    ] {
        let mut value = fk_schema(Some(10), None, vec![]);
        value["dialect"] = json!(dialect);
        let s = run(value);
        assert_eq!(s[0].sql, create);
        assert_eq!(
            s[0].migration,
            "class AddIndexOnUserIdToCompletedWorkouts < ActiveRecord::Migration[6.1]\n  def change\n    add_index :completed_workouts, :user_id\n  end\nend\n"
        );
        let mut value = table_with(vec![
            ix("index_users_on_name", &["name"]),
            ix("index_users_on_name_2", &["name"]),
        ]);
        value["dialect"] = json!(dialect);
        let s = run(value);
        assert_eq!(s[0].sql, drop);
        assert!(s[0]
            .migration
            .contains("remove_index :users, column: :name, name: \"index_users_on_name_2\"\n"));
        assert!(!s[0].migration.contains("disable_ddl_transaction!"));
    }
}

#[test]
fn identifiers_are_quoted_only_when_needed() {
    let value = |dialect: &str| {
        json!({"dialect": dialect, "tables": [
            {"name": "users", "columns": [col("id", "bigint")]},
            {"name": "Order Items", "columns": [col("order", "bigint"), col("user_id", "bigint")],
             "foreign_keys": [{"columns": ["order"], "to_table": "orders"}, {"columns": ["user_id"], "to_table": "users"}]}
        ]})
    };
    let s = run(value("postgresql"));
    let sqls: Vec<&str> = s.iter().map(|s| s.sql.as_str()).collect();
    assert!(sqls.contains(&"CREATE INDEX CONCURRENTLY \"index_Order Items_on_order\" ON \"Order Items\" (\"order\");"), "{sqls:?}");
    assert!(sqls.contains(&"CREATE INDEX CONCURRENTLY \"index_Order Items_on_user_id\" ON \"Order Items\" (user_id);"), "{sqls:?}");
    assert!(
        s[0].migration.contains("add_index :\"Order Items\""),
        "{}",
        s[0].migration
    );
    let s = run(value("mysql"));
    assert!(s
        .iter()
        .any(|s| s.sql == "CREATE INDEX `index_Order Items_on_order` ON `Order Items` (`order`);"));
}

#[test]
fn long_index_names_are_shortened_like_rails() {
    let columns = [
        "completed_workout_exercise_id".to_owned(),
        "position".to_owned(),
    ];
    assert_eq!(
        rails_index_name("completed_workout_exercise_sets", &columns),
        "idx_on_completed_workout_exercise_id_position_369ff4416c"
    );
    let long = [
        "very_long_column_name_number_one".to_owned(),
        "very_long_column_name_number_two".to_owned(),
    ];
    let name = rails_index_name("workout_plans", &long);
    assert_eq!(
        name,
        "idx_on_very_long_column_name_number_one_very_long_c_f7bac40941"
    );
    assert_eq!(name.len(), 62);
    assert_eq!(
        rails_index_name("users", &["team_id".to_owned()]),
        "index_users_on_team_id"
    );
    // The migration passes the shortened name, which Rails 6.1 would not generate.
    let value = json!({"tables": [
        {"name": "completed_workout_exercises", "columns": [col("id", "bigint")]},
        {"name": "completed_workout_exercise_sets",
         "columns": [col("completed_workout_exercise_id", "bigint")]}
    ]});
    let s = run(value);
    assert!(s[0]
        .index_name
        .starts_with("idx_on_completed_workout_exercise_id_"));
    assert!(s[0].index_name.len() <= 62);
    assert!(s[0].migration.contains(&format!(
        ", name: \"{}\", algorithm: :concurrently",
        s[0].index_name
    )));
}

#[test]
fn options_version_and_kinds() {
    let schema = schema(table_with(vec![
        ix("a", &["name"]),
        ix("b", &["name"]),
        with(ix("c", &["email"]), json!({"scans": 0})),
    ]));
    let all = advise(&schema, &Options::default());
    assert_eq!(all.len(), 2);
    let options =
        Options::from_json(r#"{"migration_version": "7.1", "kinds": ["unused_index"]}"#).unwrap();
    let some = advise(&schema, &options);
    assert_eq!(some.len(), 1);
    assert_eq!(some[0].kind, SuggestionKind::UnusedIndex);
    assert!(some[0].migration.contains("ActiveRecord::Migration[7.1]"));
    // A number works as a version; anything that is not <major>.<minor> does not.
    assert_eq!(
        Options::from_json(r#"{"migration_version": 7.0}"#)
            .unwrap()
            .migration_version,
        "7.0"
    );
    for bad in [
        r#"{"migration_version": "7.1]; system('x')"}"#,
        r#"{"kinds": ["missing_index"]}"#,
        r#"["unused_index"]"#,
        "{",
    ] {
        assert!(
            matches!(Options::from_json(bad), Err(Error::InvalidInput { .. })),
            "{bad}"
        );
    }
    assert_eq!(Options::from_json("").unwrap(), Options::default());
    // A version set directly that is not valid falls back to the default.
    let options = Options {
        migration_version: "x".to_owned(),
        kinds: None,
        ..Options::default()
    };
    assert!(advise(&schema, &options)[0]
        .migration
        .contains("Migration[6.1]"));
}

#[test]
fn deterministic_order() {
    let value = json!({"tables": [
        {"name": "users", "columns": [col("id", "bigint")]},
        {"name": "b_table", "rows": 200_000, "columns": [col("user_id", "bigint")]},
        {"name": "a_table", "rows": 200_000, "columns": [col("user_id", "bigint")]},
        {"name": "c_table", "rows": 10, "columns": [col("user_id", "bigint"), col("id", "bigint")],
         "indexes": [ix("i1", &["id"]), ix("i2", &["id"])],
         "foreign_keys": [{"columns": ["user_id"], "to_table": "users", "on_delete": "cascade"}]}
    ]});
    let s = run(value.clone());
    let order: Vec<(Priority, &str, SuggestionKind)> = s
        .iter()
        .map(|s| (s.priority, s.table.as_str(), s.kind))
        .collect();
    assert_eq!(
        order,
        [
            (
                Priority::High,
                "a_table",
                SuggestionKind::MissingForeignKeyIndex
            ),
            (
                Priority::High,
                "b_table",
                SuggestionKind::MissingForeignKeyIndex
            ),
            (Priority::Medium, "c_table", SuggestionKind::RedundantIndex),
            (
                Priority::Medium,
                "c_table",
                SuggestionKind::MissingForeignKeyIndex
            ),
        ]
    );
    // Same result whatever the input order of tables and indexes.
    let mut reversed = value;
    reversed["tables"].as_array_mut().unwrap().reverse();
    reversed["tables"][0]["indexes"]
        .as_array_mut()
        .unwrap()
        .reverse();
    assert_eq!(run(reversed), s);
}

#[test]
fn json_api() {
    let json = advise_json(&fk_schema(Some(10), None, vec![]).to_string(), "{}").unwrap();
    let value: Value = serde_json::from_str(&json).unwrap();
    let s = &value[0];
    for key in [
        "kind",
        "table",
        "columns",
        "index_name",
        "covered_by",
        "via",
        "references",
        "on_delete",
        "migration",
        "sql",
        "reason",
        "priority",
        "size_bytes",
        "trade_offs",
    ] {
        assert!(s.get(key).is_some(), "{key}");
    }
    assert_eq!(s["kind"], "missing_foreign_key_index");
    assert_eq!(s["via"], "declared");
    assert_eq!(s["priority"], "low");
    assert_eq!(s["columns"], json!(["user_id"]));
    // Malformed input: InvalidInput with the decoder's message.
    for (schema_json, options) in [
        ("not json", "{}"),
        ("[]", "{}"),
        (r#"{"tables": [{"rows": 1}]}"#, "{}"),
        (
            r#"{"tables": [{"name": "t", "indexes": [{"name": "i", "keys": [{}]}]}]}"#,
            "{}",
        ),
        (r#"{"dialect": "oracle"}"#, "{}"),
        (
            r#"{"tables": [{"name": "t", "foreign_keys": [{"columns": ["a"], "to_table": "u", "on_delete": "explode"}]}]}"#,
            "{}",
        ),
        ("{}", r#"{"kinds": "unused_index"}"#),
    ] {
        let err = advise_json(schema_json, options).unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { .. }),
            "{schema_json}: {err}"
        );
    }
    let err = advise_json(r#"{"tables": [{"rows": 1}]}"#, "{}").unwrap_err();
    assert!(err.to_string().contains("missing field `name`"), "{err}");
}

#[test]
fn lenient_numbers_and_nulls() {
    // reltuples is a real (and -1 before the first ANALYZE); nulls mean defaults.
    let value = json!({"dialect": "pg", "tables": [
        {"name": "users", "rows": -1.0, "size_bytes": null, "columns": [col("id", "bigint")],
         "primary_key": null, "indexes": null, "foreign_keys": null},
        {"name": "posts", "rows": 12345.6, "columns": [
            {"name": "user_id", "type": "bigint", "null": null, "default": 0}],
         "indexes": [{"name": "i", "method": null, "unique": null, "keys": [{"column": "id", "order": "DESC"}], "include": null}]}
    ], "associations": null});
    let schema = schema(value);
    assert_eq!(schema.dialect, Dialect::Postgres);
    assert_eq!(schema.tables[0].rows, None);
    assert_eq!(schema.tables[1].rows, Some(12346));
    assert!(schema.tables[1].columns[0].null);
    assert_eq!(schema.tables[1].columns[0].default.as_deref(), Some("0"));
    assert_eq!(schema.tables[1].indexes[0].method, "btree");
    let s = advise(&schema, &Options::default());
    assert_eq!(s[0].priority, Priority::Medium);
}

// ---- the pg_dump fixture end to end ------------------------------------------

#[test]
fn pg_dump_fixture_suggestions() {
    let (schema, warnings) = from_ddl(PG_DUMP, Dialect::Postgres);
    assert_eq!(warnings, []);
    let s = advise(&schema, &Options::default());
    type Row<'a> = (
        SuggestionKind,
        &'a str,
        String,
        Option<Via>,
        Option<&'a str>,
    );
    let found: Vec<Row<'_>> = s
        .iter()
        .map(|s| {
            (
                s.kind,
                s.table.as_str(),
                s.columns.join(","),
                s.via,
                s.covered_by.as_deref(),
            )
        })
        .collect();
    use SuggestionKind::*;
    assert_eq!(
        found,
        [
            // ON DELETE CASCADE / SET NULL raise unknown-size (medium) tables to high.
            (
                MissingForeignKeyIndex,
                "completed_workouts",
                "workout_id".to_owned(),
                Some(Via::Declared),
                None
            ),
            (
                MissingForeignKeyIndex,
                "teams",
                "owner_id".to_owned(),
                Some(Via::Declared),
                None
            ),
            (
                MissingForeignKeyIndex,
                "Audit Log",
                "user_id".to_owned(),
                Some(Via::Convention),
                None
            ),
            (
                MissingForeignKeyIndex,
                "comments",
                "commentable_type,commentable_id".to_owned(),
                Some(Via::Polymorphic),
                None
            ),
            (
                MissingForeignKeyIndex,
                "comments",
                "user_id".to_owned(),
                Some(Via::Convention),
                None
            ),
            (
                MissingForeignKeyIndex,
                "users",
                "team_id".to_owned(),
                Some(Via::Declared),
                None
            ),
            (
                MissingForeignKeyIndex,
                "workouts",
                "category_id".to_owned(),
                Some(Via::Convention),
                None
            ),
            (
                RedundantIndex,
                "completed_workouts",
                "user_id".to_owned(),
                None,
                Some("index_completed_workouts_covering")
            ),
        ]
    );
    // Not suggested: the partial index does not cover workout_id (above, it is
    // missing), the hash index covers exercises.workout_id, the trigram GIN
    // and the btree on users.name are both kept, the composite primary key and
    // the unique constraint cover team_memberships' foreign keys.
    assert!(!s
        .iter()
        .any(|s| s.table == "exercises" || s.table == "team_memberships"));
    assert!(!s
        .iter()
        .any(|s| s.table == "users" && s.kind == RedundantIndex));
}
