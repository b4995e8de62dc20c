//! Hand-checked shapes for the constructs Rails generates, and the limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use vto_core::sql::shape::{Bound, Direction, PredicateOp as Op, Shape, StatementKind};
use vto_core::sql::{analyze_uncached, Analyzer, Limits};
use vto_core::{Dialect, Error};

fn pg(sql: &str) -> Shape {
    analyze_uncached(sql.as_bytes(), Dialect::Postgres, Limits::default()).unwrap()
}

fn preds(shape: &Shape) -> Vec<(Option<&str>, &str, Op)> {
    shape
        .predicates
        .iter()
        .map(|p| (p.table.as_deref(), p.column.as_str(), p.op))
        .collect()
}

fn codes(shape: &Shape) -> Vec<&str> {
    shape.lints.iter().map(|l| l.code).collect()
}

#[test]
fn find_by_primary_key() {
    let s = pg(r#"SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2"#);
    assert_eq!(s.kind, StatementKind::Select);
    assert_eq!(s.tables[0].name, "users");
    assert_eq!(preds(&s), vec![(Some("users"), "id", Op::Eq)]);
    assert_eq!(s.limit, Some(Bound::Bind));
    assert!(s.select_star);
    assert!(s.lints.is_empty());
}

#[test]
fn aliases_joins_and_every_predicate_op() {
    let s = pg("SELECT DISTINCT u.id FROM users u \
        LEFT OUTER JOIN completed_workouts cw ON cw.user_id = u.id AND cw.status = 'done' \
        WHERE u.team_id IN (1, 2) AND u.age BETWEEN 18 AND 30 AND u.created_at >= '2024-01-01' \
        AND u.email LIKE 'abc%' AND u.name ILIKE '%bob%' AND u.deleted_at IS NULL \
        AND u.role <> 'admin' AND LOWER(u.email) = 'x' AND NOT u.banned \
        ORDER BY u.created_at DESC, u.id LIMIT 20 OFFSET 40");
    assert_eq!(
        preds(&s),
        vec![
            (Some("completed_workouts"), "status", Op::Eq),
            (Some("users"), "team_id", Op::In),
            (Some("users"), "age", Op::Range),
            (Some("users"), "created_at", Op::Range),
            (Some("users"), "email", Op::LikePrefix),
            (Some("users"), "name", Op::LikeContains),
            (Some("users"), "deleted_at", Op::IsNull),
            (Some("users"), "role", Op::NotEq),
            (Some("users"), "email", Op::FunctionWrapped),
            (Some("users"), "banned", Op::NotEq),
        ]
    );
    assert_eq!(s.joins.len(), 1);
    assert_eq!(s.joins[0].left.table.as_deref(), Some("completed_workouts"));
    assert_eq!(s.joins[0].right.column, "id");
    assert!(s.distinct);
    assert_eq!(s.order_by[0].direction, Direction::Desc);
    assert_eq!(s.order_by[1].column.as_deref(), Some("id"));
    assert_eq!(
        (s.limit, s.offset),
        (Some(Bound::Literal(20)), Some(Bound::Literal(40)))
    );
    assert_eq!(
        codes(&s),
        vec!["leading_wildcard_like", "function_wrapped_predicate"]
    );
}

#[test]
fn unqualified_columns_resolve_only_when_unambiguous() {
    let s = pg("SELECT * FROM workouts WHERE name = 'x'");
    assert_eq!(preds(&s), vec![(Some("workouts"), "name", Op::Eq)]);
    let s = pg("SELECT * FROM workouts, users WHERE name = 'x'");
    assert_eq!(preds(&s), vec![(None, "name", Op::Eq)]);
}

#[test]
fn subqueries_exists_ctes_and_not_in() {
    let s = pg(
        "WITH recent AS (SELECT user_id FROM completed_workouts WHERE created_at > NOW()) \
        SELECT * FROM users WHERE id IN (SELECT user_id FROM recent) \
        AND NOT EXISTS (SELECT 1 FROM bans b WHERE b.user_id = users.id) \
        AND team_id NOT IN (SELECT id FROM teams WHERE archived = true)",
    );
    assert_eq!(s.subqueries, 4);
    assert!(s.not_in_subquery);
    assert!(
        s.tables.iter().all(|t| t.name != "recent"),
        "a CTE is not a table"
    );
    assert!(preds(&s).contains(&(Some("completed_workouts"), "created_at", Op::Range)));
    assert!(preds(&s).contains(&(Some("teams"), "archived", Op::Eq)));
    assert_eq!(
        s.joins[0].right.table.as_deref(),
        Some("users"),
        "correlated column resolves outward"
    );
    assert!(codes(&s).contains(&"not_in_subquery"));
}

#[test]
fn aggregates_group_by_having() {
    let s = pg(
        r#"SELECT "completed_workouts"."user_id", COUNT(*), SUM(calories) FROM "completed_workouts"
        GROUP BY "completed_workouts"."user_id" HAVING COUNT(*) > 2"#,
    );
    assert_eq!(s.aggregates, vec!["COUNT", "SUM"]);
    assert_eq!(s.group_by[0].column, "user_id");
    assert!(!s.select_star);
}

#[test]
fn lints_for_random_order_offset_or_and_unbounded_star() {
    let s = pg("SELECT * FROM workouts ORDER BY RANDOM()");
    assert_eq!(codes(&s), vec!["order_by_random", "select_star_unbounded"]);
    let s = pg("SELECT id FROM workouts WHERE a = 1 OR b = 2 LIMIT 10 OFFSET 100000");
    assert_eq!(codes(&s), vec!["large_offset", "or_across_columns"]);
    let s = pg("SELECT id FROM workouts WHERE a = 1 OR a = 2");
    assert!(!s.or_across_columns, "OR on one column is an IN");
}

#[test]
fn writes_and_transactions() {
    let s = pg(r#"INSERT INTO "exercises" ("name") VALUES ($1) RETURNING "id""#);
    assert_eq!(
        (s.kind, s.tables[0].name.as_str()),
        (StatementKind::Insert, "exercises")
    );
    let s = pg(r#"UPDATE "users" SET "name" = $1 WHERE "users"."id" = $2"#);
    assert_eq!(s.kind, StatementKind::Update);
    assert_eq!(preds(&s), vec![(Some("users"), "id", Op::Eq)]);
    let s = pg(r#"DELETE FROM "diets" WHERE "diets"."user_id" = $1"#);
    assert_eq!(
        (s.kind, preds(&s)),
        (
            StatementKind::Delete,
            vec![(Some("diets"), "user_id", Op::Eq)]
        )
    );
    assert_eq!(pg("BEGIN").kind, StatementKind::Transaction);
    assert_eq!(
        pg("RELEASE SAVEPOINT active_record_1").kind,
        StatementKind::Transaction
    );
}

#[test]
fn mysql_and_sqlite_quoting() {
    let s = analyze_uncached(
        b"SELECT `users`.* FROM `users` WHERE `users`.`email` = 'a' LIMIT 10, 20",
        Dialect::Mysql,
        Limits::default(),
    )
    .unwrap();
    assert_eq!(preds(&s), vec![(Some("users"), "email", Op::Eq)]);
    assert_eq!(
        (s.offset, s.limit),
        (Some(Bound::Literal(10)), Some(Bound::Literal(20)))
    );
    let s = analyze_uncached(
        br#"SELECT "users".* FROM "users" WHERE "users"."id" = ? LIMIT ?"#,
        Dialect::Sqlite,
        Limits::default(),
    )
    .unwrap();
    assert_eq!(preds(&s), vec![(Some("users"), "id", Op::Eq)]);
}

#[test]
fn bad_input_is_an_error_never_a_panic() {
    let limits = Limits::default();
    let err = |sql: &[u8]| analyze_uncached(sql, Dialect::Postgres, limits).unwrap_err();
    assert!(matches!(err(b"SELECT FROM WHERE"), Error::Parse { .. }));
    assert!(matches!(err(b""), Error::Parse { .. }));
    assert!(matches!(err(b"SELECT '\xff'"), Error::Parse { .. }));
    assert!(matches!(err(b"SELECT 'unterminated"), Error::Parse { .. }));
    assert!(matches!(err(b"SELECT \0"), Error::Parse { .. }));
    let deep = format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(matches!(err(deep.as_bytes()), Error::TooComplex { .. }));
    let chain = format!("SELECT 1 WHERE {}", vec!["a = 1"; 6000].join(" AND "));
    assert!(matches!(err(chain.as_bytes()), Error::TooComplex { .. }));
    let big = vec![b' '; limits.max_input_bytes + 1];
    assert!(matches!(err(&big), Error::InputTooLarge { .. }));
}

#[test]
fn a_large_in_list_parses() {
    let list: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let sql = format!("SELECT * FROM t WHERE id IN ({})", list.join(", "));
    assert!(sql.len() > 500_000);
    assert_eq!(preds(&pg(&sql)), vec![(Some("t"), "id", Op::In)]);
}

#[test]
fn the_cache_parses_once_per_fingerprint() {
    let analyzer = Analyzer::new(100);
    let limits = Limits::default();
    for id in 0..50 {
        let sql = format!("SELECT * FROM users WHERE id = {id}");
        analyzer
            .analyze(sql.as_bytes(), Dialect::Postgres, limits)
            .unwrap();
    }
    let stats = analyzer.stats();
    assert_eq!((stats.misses, stats.hits, stats.entries), (1, 49, 1));
    // Failures are cached as failures.
    for _ in 0..3 {
        assert!(analyzer
            .analyze(b"SELECT FROM", Dialect::Postgres, limits)
            .is_err());
    }
    assert_eq!(analyzer.stats().misses, 2);
}

#[test]
fn cached_shapes_carry_each_statements_own_literal_bounds() {
    let analyzer = Analyzer::new(100);
    let limits = Limits::default();
    let page = |offset: u64| {
        let sql = format!("SELECT id FROM workouts ORDER BY id LIMIT 20 OFFSET {offset}");
        analyzer
            .analyze(sql.as_bytes(), Dialect::Postgres, limits)
            .unwrap()
    };
    assert_eq!(page(40).offset, Some(Bound::Literal(40)));
    assert!(page(40).lints.is_empty());
    let deep = page(50_000);
    assert_eq!(deep.offset, Some(Bound::Literal(50_000)));
    assert_eq!(codes(&deep), vec!["large_offset"]);
    let mysql = |sql: &str| {
        analyzer
            .analyze(sql.as_bytes(), Dialect::Mysql, limits)
            .unwrap()
    };
    mysql("SELECT id FROM w LIMIT 10, 20");
    let s = mysql("SELECT id FROM w LIMIT 3000, 5");
    assert_eq!(
        (s.offset, s.limit),
        (Some(Bound::Literal(3000)), Some(Bound::Literal(5)))
    );
    assert_eq!(analyzer.stats().misses, 2);
}

#[test]
fn shapes_that_depend_on_a_literal_are_not_shared_through_the_cache() {
    let analyzer = Analyzer::new(100);
    let limits = Limits::default();
    let like = |pattern: &str| {
        let sql = format!("SELECT id FROM users WHERE name LIKE '{pattern}'");
        analyzer
            .analyze(sql.as_bytes(), Dialect::Postgres, limits)
            .unwrap()
    };
    assert_eq!(like("abc%").predicates[0].op, Op::LikePrefix);
    let contains = like("%abc");
    assert_eq!(contains.predicates[0].op, Op::LikeContains);
    assert_eq!(codes(&contains), vec!["leading_wildcard_like"]);
    assert_eq!(like("abc%").predicates[0].op, Op::LikePrefix);
}

#[test]
fn no_limit_spelled_as_a_literal_and_fetch_first() {
    let analyzer = Analyzer::new(100);
    let limits = Limits::default();
    let lite = |sql: &str| {
        analyzer
            .analyze(sql.as_bytes(), Dialect::Sqlite, limits)
            .unwrap()
    };
    let paged = lite("SELECT * FROM users LIMIT 20 OFFSET 5000");
    assert_eq!(paged.limit, Some(Bound::Literal(20)));
    // SQLite reads a negative LIMIT as none (Arel writes `LIMIT -1 OFFSET n`).
    let unlimited = lite("SELECT * FROM users LIMIT -1 OFFSET 5");
    assert_eq!(
        (unlimited.limit, unlimited.offset),
        (None, Some(Bound::Literal(5)))
    );
    assert!(codes(&unlimited).contains(&"select_star_unbounded"));
    assert_eq!(pg("SELECT * FROM users LIMIT NULL").limit, None);
    let fetch = pg("SELECT * FROM users OFFSET 5 ROWS FETCH FIRST 10 ROWS ONLY");
    assert_eq!(
        (fetch.limit, fetch.offset),
        (Some(Bound::Literal(10)), Some(Bound::Literal(5)))
    );
    assert!(!codes(&fetch).contains(&"select_star_unbounded"));
}

#[test]
fn limit_errors_are_not_cached_and_parse_errors_carry_no_literal() {
    let analyzer = Analyzer::new(100);
    let sql = format!("SELECT {}1{}", "(".repeat(40), ")".repeat(40));
    assert!(matches!(
        analyzer.analyze(sql.as_bytes(), Dialect::Postgres, Limits::default()),
        Err(Error::TooComplex { .. })
    ));
    let raised = Limits {
        max_nesting_depth: 100,
        ..Limits::default()
    };
    assert!(analyzer
        .analyze(sql.as_bytes(), Dialect::Postgres, raised)
        .is_ok());

    let err = analyze_uncached(
        b"SELECT * FROM users WHERE email = 'alice@example.com' 'hunter2'",
        Dialect::Postgres,
        Limits::default(),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("found: ?") && !message.contains("hunter2"),
        "{message}"
    );
}

#[test]
fn order_by_expressions_carry_no_literal() {
    let s = analyze_uncached(
        br"SELECT * FROM t ORDER BY FIELD(status, 'x\\', 'secret'), CASE WHEN a = 'b\\' THEN 'c' END",
        Dialect::Mysql,
        Limits::default(),
    )
    .unwrap();
    let exprs: Vec<_> = s
        .order_by
        .iter()
        .filter_map(|o| o.expression.as_deref())
        .collect();
    assert_eq!(
        exprs,
        vec!["FIELD(status, ?)", "CASE WHEN a = ? THEN ? END"]
    );
}

#[test]
fn the_longest_allowed_chain_is_analyzed() {
    let chain = format!("SELECT 1 FROM t WHERE {}", vec!["a = 1"; 240].join(" AND "));
    assert_eq!(pg(&chain).predicates.len(), 1);
}
