//! Plan analysis (`vto_core::plan`) on real PostgreSQL 15 plans: the fixtures
//! under `tests/fixtures/plans/` are `EXPLAIN (FORMAT JSON)` and `EXPLAIN
//! (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON)` output of the queries in
//! `generate.sh` (200 000 completed workouts), which regenerates them. Then
//! hostile input: every malformed or oversized plan is an error, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::collections::BTreeMap;

use serde_json::{json, Value};
use vto_core::plan::{
    analyze, analyze_json, compare, compare_json, Direction, Finding, Options, PlanReport,
    RowsSource, MAX_DEPTH, MAX_NODES, MAX_PLAN_BYTES,
};
use vto_core::Error;

const FIXTURES: [&str; 9] = [
    "seq_scan_filter",
    "user_lookup_without_index",
    "index_scan",
    "bitmap_heap_scan",
    "sort_spill",
    "hash_join_batches",
    "nested_loop_many_loops",
    "misestimated_join",
    "parallel_seq_scan",
];

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/plans/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// A number from a fixture, by JSON pointer (estimates change whenever
/// generate.sh runs again: ANALYZE samples).
fn number(name: &str, pointer: &str) -> f64 {
    let value: Value = serde_json::from_str(&fixture(name)).unwrap();
    value
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{name}: no number at {pointer}"))
}

fn report_with(name: &str, options: &Options) -> PlanReport {
    analyze(&fixture(name), options).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn report(name: &str) -> PlanReport {
    report_with(name, &Options::default())
}

fn kinds(report: &PlanReport) -> Vec<&'static str> {
    report.findings.iter().map(Finding::kind).collect()
}

fn invalid_input(result: Result<PlanReport, Error>) -> String {
    match result {
        Err(Error::InvalidInput { message }) => message,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

// ------------------------------------------------------------ real plans

#[test]
fn seq_scan_with_a_filter_on_a_large_table() {
    let r = report("seq_scan_filter.analyze");
    assert!(r.analyzed);
    assert!(r.execution_ms.is_some_and(|ms| ms > 0.0));
    assert!(r.planning_ms.is_some());
    let estimate = number("seq_scan_filter.analyze", "/0/Plan/Plan Rows") as u64;
    assert!((1000..5000).contains(&estimate), "{estimate}");
    assert_eq!(
        (r.nodes, r.plan_rows, r.actual_rows),
        (1, estimate, Some(2500))
    );
    assert_eq!(
        r.total_cost,
        number("seq_scan_filter.analyze", "/0/Plan/Total Cost")
    );
    assert!(r.indexes_used.is_empty());

    let scan = &r.seq_scans[0];
    assert_eq!(scan.relation.as_deref(), Some("completed_workouts"));
    assert_eq!(scan.alias.as_deref(), Some("completed_workouts"));
    assert_eq!(
        (scan.plan_rows, scan.actual_rows, scan.loops),
        (estimate, Some(2500), Some(1))
    );
    assert_eq!(scan.rows_removed_by_filter, Some(197_500));
    assert!(!scan.parallel);
    // Normalized: the literals 37 and 'done' never leave the analysis.
    assert_eq!(
        scan.filter.as_deref(),
        Some("((duration = ?) AND (status = ?::text))")
    );
    assert_eq!(scan.filter_columns, ["duration", "status"]);

    assert_eq!(kinds(&r), ["seq_scan_on_large_table"]);
    match &r.findings[0] {
        Finding::SeqScanOnLargeTable {
            relation,
            rows,
            rows_source,
            columns,
            detail,
            ..
        } => {
            assert_eq!(relation.as_deref(), Some("completed_workouts"));
            assert_eq!((*rows, *rows_source), (200_000, RowsSource::Actual));
            assert_eq!(columns, &["duration", "status"]);
            assert_eq!(
                detail,
                "Seq Scan on completed_workouts reads about 200000 rows to keep 2500: add an \
                 index on completed_workouts (duration, status) for its filter."
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn without_analyze_the_table_size_comes_from_options() {
    // The estimate after the filter (about 2500 rows) says nothing about the table.
    let plain = report("seq_scan_filter");
    let estimate = plain.seq_scans[0].plan_rows;
    assert_eq!(
        estimate,
        number("seq_scan_filter", "/0/Plan/Plan Rows") as u64
    );
    assert!(!plain.analyzed);
    assert_eq!((plain.execution_ms, plain.actual_rows), (None, None));
    assert_eq!(plain.seq_scans[0].actual_rows, None);
    assert_eq!(plain.seq_scans[0].rows_removed_by_filter, None);
    assert!(plain.findings.is_empty());

    let options = Options {
        table_rows: BTreeMap::from([("completed_workouts".to_owned(), 200_000)]),
        ..Options::default()
    };
    let sized = report_with("seq_scan_filter", &options);
    match sized.findings.as_slice() {
        [Finding::SeqScanOnLargeTable {
            rows,
            rows_source,
            detail,
            ..
        }] => {
            assert_eq!((*rows, *rows_source), (200_000, RowsSource::TableRows));
            assert!(
                detail.contains(&format!("to keep an estimated {estimate}:")),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }

    // table_rows wins over what ANALYZE saw: a small table is not large.
    let options = Options {
        table_rows: BTreeMap::from([("completed_workouts".to_owned(), 500)]),
        ..Options::default()
    };
    assert!(report_with("seq_scan_filter.analyze", &options)
        .findings
        .is_empty());

    let low = Options {
        large_table_rows: 1_000,
        ..Options::default()
    };
    match report_with("seq_scan_filter", &low).findings.as_slice() {
        [Finding::SeqScanOnLargeTable {
            rows, rows_source, ..
        }] => assert_eq!((*rows, *rows_source), (estimate, RowsSource::Estimate)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_seq_scan_without_a_filter_is_not_a_finding() {
    // misestimated_join reads all 200 000 completed workouts, on purpose.
    let r = report("misestimated_join.analyze");
    assert_eq!(r.seq_scans.len(), 2);
    assert_eq!(r.seq_scans[0].actual_rows, Some(200_000));
    assert_eq!(r.seq_scans[0].filter, None);
    assert!(!kinds(&r).contains(&"seq_scan_on_large_table"));
}

#[test]
fn index_scan() {
    for name in ["index_scan", "index_scan.analyze"] {
        let r = report(name);
        assert_eq!(r.indexes_used, ["completed_workouts_pkey"], "{name}");
        assert!(r.seq_scans.is_empty());
        assert!(r.findings.is_empty());
        assert_eq!((r.nodes, r.plan_rows), (1, 1));
    }
    assert_eq!(report("index_scan.analyze").actual_rows, Some(1));
}

#[test]
fn bitmap_heap_scan() {
    for name in ["bitmap_heap_scan", "bitmap_heap_scan.analyze"] {
        let r = report(name);
        assert_eq!(
            r.indexes_used,
            ["index_completed_workouts_on_user_id"],
            "{name}"
        );
        assert_eq!(r.nodes, 2);
        assert!(r.seq_scans.is_empty());
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }
}

#[test]
fn sort_spilling_to_disk() {
    let r = report("sort_spill.analyze");
    assert_eq!(kinds(&r), ["sort_spill"]);
    match &r.findings[0] {
        Finding::SortSpill {
            node,
            method,
            disk_kb,
            columns,
            detail,
        } => {
            assert_eq!(node, "Sort");
            assert_eq!(method.as_deref(), Some("external merge"));
            assert!(*disk_kb > 1000, "{disk_kb}");
            assert_eq!(columns, &["calories", "id"]);
            assert!(detail.contains("work_mem"), "{detail}");
            assert!(detail.contains("(calories, id)"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    // Plain EXPLAIN does not know the sort will spill.
    assert!(report("sort_spill").findings.is_empty());
}

#[test]
fn hash_join_in_batches() {
    let r = report("hash_join_batches.analyze");
    assert_eq!(kinds(&r), ["seq_scan_on_large_table", "hash_spill"]);
    match &r.findings[1] {
        Finding::HashSpill {
            node,
            relation,
            batches,
            original_batches,
            peak_memory_kb,
            disk_kb,
            detail,
        } => {
            assert_eq!(node, "Hash");
            assert_eq!(relation.as_deref(), Some("workouts"));
            assert!(*batches > 1);
            assert_eq!(*original_batches, Some(*batches));
            assert!(peak_memory_kb.is_some());
            assert_eq!(*disk_kb, None);
            assert!(detail.contains("hash_mem_multiplier"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    match &r.findings[0] {
        Finding::SeqScanOnLargeTable { alias, columns, .. } => {
            assert_eq!(alias.as_deref(), Some("cw"));
            assert_eq!(columns, &["duration"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.seq_scans[0].filter.as_deref(), Some("(duration < ?)"));
}

#[test]
fn nested_loop_with_many_loops() {
    let r = report("nested_loop_many_loops.analyze");
    assert_eq!(r.indexes_used, ["index_exercises_on_workout_id"]);
    let loops: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.kind() == "nested_loop_many_loops")
        .collect();
    match loops.as_slice() {
        [Finding::NestedLoopManyLoops {
            node,
            relation,
            index,
            loops,
            columns,
            detail,
        }] => {
            assert_eq!(node, "Index Scan");
            assert_eq!(relation.as_deref(), Some("exercises"));
            assert_eq!(index.as_deref(), Some("index_exercises_on_workout_id"));
            assert_eq!(*loops, 4000);
            // `(workout_id = w.id)`: the outer side's w.id is not exercises'.
            assert_eq!(columns, &["workout_id"]);
            assert!(detail.contains("hash join"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    // The outer Seq Scan on workouts (20 000 rows, filter on level) is one too.
    assert_eq!(kinds(&r)[0], "seq_scan_on_large_table");

    let fewer = Options {
        many_loops: 4001,
        ..Options::default()
    };
    assert!(
        !kinds(&report_with("nested_loop_many_loops.analyze", &fewer))
            .contains(&"nested_loop_many_loops")
    );
    assert!(!kinds(&report("nested_loop_many_loops")).contains(&"nested_loop_many_loops"));
}

#[test]
fn misestimated_join_on_correlated_columns() {
    let r = report("misestimated_join.analyze");
    assert_eq!(kinds(&r), ["row_estimate_miss"]);
    match &r.findings[0] {
        Finding::RowEstimateMiss {
            node,
            relation,
            plan_rows,
            actual_rows,
            factor,
            direction,
            detail,
        } => {
            assert_eq!(node, "Hash Join");
            assert_eq!(*relation, None);
            let estimate = number("misestimated_join.analyze", "/0/Plan/Plan Rows");
            assert_eq!((*plan_rows, *actual_rows), (estimate as u64, 200_000));
            assert_eq!(*factor, (200_000.0 / estimate * 10.0).round() / 10.0);
            assert!(*factor > 100.0);
            assert_eq!(*direction, Direction::Under);
            assert!(detail.contains("ANALYZE"), "{detail}");
            assert!(detail.contains("CREATE STATISTICS"), "{detail}");
            assert!(detail.contains("completed_workouts and users"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    // Plain EXPLAIN has no actual rows to compare.
    assert!(report("misestimated_join").findings.is_empty());
    // A factor above the miss is no finding.
    let lenient = Options {
        misestimate_factor: 2000.0,
        ..Options::default()
    };
    assert!(report_with("misestimated_join.analyze", &lenient)
        .findings
        .is_empty());
}

#[test]
fn parallel_seq_scan_rows() {
    // Gather (2 workers planned) over a parallel Seq Scan whose Plan Rows
    // (83) is per process: the total is 83 x 2.4 (the planner's parallel
    // divisor), the Gather's 199 -- not 83 x 3.
    let plain = report("parallel_seq_scan");
    let per_process = number("parallel_seq_scan", "/0/Plan/Plans/0/Plan Rows");
    let scan = &plain.seq_scans[0];
    assert!(scan.parallel);
    assert_eq!(scan.workers_planned, Some(2));
    assert_eq!(scan.plan_rows, (per_process * 2.4).round() as u64);
    assert!(scan.plan_rows.abs_diff(plain.plan_rows) <= 1);

    let r = report("parallel_seq_scan.analyze");
    let scan = &r.seq_scans[0];
    assert_eq!(scan.loops, Some(3));
    // Actual Rows is the per-process average (rounded by PostgreSQL).
    let actual = scan.actual_rows.unwrap();
    assert!((198..=202).contains(&actual), "{actual}");
    assert_eq!(scan.rows_removed_by_filter, Some(199_800));
    match r.findings.as_slice() {
        [Finding::SeqScanOnLargeTable {
            rows,
            rows_source,
            columns,
            ..
        }] => {
            assert!((199_900..=200_100).contains(rows), "{rows}");
            assert_eq!(*rows_source, RowsSource::Actual);
            assert_eq!(columns, &["calories"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn parallel_rows_without_leader_participation() {
    let mut plan: Value = serde_json::from_str(&fixture("parallel_seq_scan")).unwrap();
    plan[0]["Settings"] = json!({"parallel_leader_participation": "off"});
    let r = analyze(&plan.to_string(), &Options::default()).unwrap();
    let per_process = number("parallel_seq_scan", "/0/Plan/Plans/0/Plan Rows");
    assert_eq!(r.seq_scans[0].plan_rows, (per_process * 2.0) as u64); // 2 workers, no leader
}

#[test]
fn comparison_before_and_after_an_index() {
    let before = report("user_lookup_without_index.analyze");
    let after = report("bitmap_heap_scan.analyze");
    let c = compare(&before, &after);
    assert_eq!(
        c.cost_before,
        number("user_lookup_without_index.analyze", "/0/Plan/Total Cost")
    );
    assert_eq!(c.cost_after, after.total_cost);
    assert!(c.improvement > 0.9, "{}", c.improvement);
    assert_eq!(c.uses, ["index_completed_workouts_on_user_id"]);
    assert!(c.execution_ms_before.is_some() && c.execution_ms_after.is_some());

    // Backwards: worse, and no new index.
    let back = compare(&after, &before);
    assert!(back.improvement < -10.0);
    assert!(back.uses.is_empty());

    let json: Value = serde_json::from_str(
        &compare_json(
            &fixture("user_lookup_without_index"),
            &fixture("bitmap_heap_scan"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(json["uses"], json!(["index_completed_workouts_on_user_id"]));
    assert_eq!(
        json["cost_before"],
        json!(number("user_lookup_without_index", "/0/Plan/Total Cost"))
    );
    assert_eq!(json["execution_ms_before"], Value::Null);

    match compare_json(&fixture("index_scan"), "[]") {
        Err(Error::InvalidInput { message }) => {
            assert!(message.starts_with("after plan: "), "{message}")
        }
        other => panic!("{other:?}"),
    }
    match compare_json("nope", &fixture("index_scan")) {
        Err(Error::InvalidInput { message }) => {
            assert!(message.starts_with("before plan: "), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_fixture_round_trips_and_keeps_literals_out() {
    // The literals of generate.sh's queries, as the plans print them.
    let literals = ["37", "'done'", "4242", "= 42", "= 7", "< 20", "= 2)"];
    for name in FIXTURES {
        for name in [name.to_owned(), format!("{name}.analyze")] {
            let json = fixture(&name);
            let out = analyze_json(&json, "{}").unwrap();
            let back: PlanReport = serde_json::from_str(&out).unwrap();
            assert_eq!(back, report(&name), "{name}");

            // The single object, without the array, reads the same.
            let value: Value = serde_json::from_str(&json).unwrap();
            let single = analyze(&value[0].to_string(), &Options::default()).unwrap();
            assert_eq!(single, back, "{name}");

            for finding in &back.findings {
                let detail = finding.detail();
                assert!(detail.ends_with('.') && !detail.contains('\n'), "{detail}");
                assert!(!detail.contains('\''), "{name}: {detail}");
            }
            let visible = serde_json::to_string(&(
                &back.findings,
                back.seq_scans.iter().map(|s| &s.filter).collect::<Vec<_>>(),
            ))
            .unwrap();
            for literal in literals {
                assert!(!visible.contains(literal), "{name}: {literal} in {visible}");
            }
        }
    }
}

#[test]
fn the_json_shape() {
    let out: Value =
        serde_json::from_str(&analyze_json(&fixture("misestimated_join.analyze"), "").unwrap())
            .unwrap();
    for key in [
        "total_cost",
        "startup_cost",
        "plan_rows",
        "analyzed",
        "execution_ms",
        "planning_ms",
        "actual_rows",
        "indexes_used",
        "seq_scans",
        "nodes",
        "findings",
    ] {
        assert!(out.get(key).is_some(), "{key} missing from {out}");
    }
    let miss = &out["findings"][0];
    assert_eq!(miss["kind"], "row_estimate_miss");
    assert_eq!(miss["node"], "Hash Join");
    assert_eq!(miss["relation"], Value::Null);
    assert_eq!(
        miss["plan_rows"],
        number("misestimated_join.analyze", "/0/Plan/Plan Rows") as u64
    );
    assert_eq!(miss["actual_rows"], 200_000);
    assert!(miss["factor"].as_f64().unwrap() > 100.0);
    assert_eq!(miss["direction"], "under");
    let scan = &out["seq_scans"][0];
    for key in [
        "relation",
        "alias",
        "plan_rows",
        "actual_rows",
        "loops",
        "filter",
        "filter_columns",
        "rows_removed_by_filter",
        "parallel",
        "workers_planned",
    ] {
        assert!(scan.get(key).is_some(), "{key} missing from {scan}");
    }
}

// ------------------------------------------------------------ synthetic plans

fn node(node_type: &str, extra: Value, plans: Vec<Value>) -> Value {
    let mut n = json!({"Node Type": node_type});
    if let (Some(map), Value::Object(extra)) = (n.as_object_mut(), extra) {
        map.extend(extra);
    }
    if !plans.is_empty() {
        n["Plans"] = Value::Array(plans);
    }
    n
}

fn analyzed(plan_rows: f64, actual_rows: f64, loops: f64) -> Value {
    json!({"Plan Rows": plan_rows, "Actual Rows": actual_rows, "Actual Loops": loops,
           "Total Cost": 1.0})
}

fn run(root: Value) -> PlanReport {
    analyze(&json!([{"Plan": root}]).to_string(), &Options::default()).unwrap()
}

#[test]
fn estimate_misses_are_the_worst_five_worst_first() {
    let mut children = Vec::new();
    for (i, actual) in [20.0, 5000.0, 300.0, 100_000.0, 40.0, 2000.0, 15.0, 7000.0]
        .into_iter()
        .enumerate()
    {
        let mut extra = analyzed(10.0, actual, 1.0);
        extra["Relation Name"] = json!(format!("t{i}"));
        children.push(node("Seq Scan", extra, vec![]));
    }
    let r = run(node("Append", analyzed(0.0, 0.0, 1.0), children));
    let misses: Vec<(String, f64)> = r
        .findings
        .iter()
        .map(|f| match f {
            Finding::RowEstimateMiss {
                relation, factor, ..
            } => (relation.clone().unwrap(), *factor),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        misses,
        [
            ("t3".to_owned(), 10_000.0),
            ("t7".to_owned(), 700.0),
            ("t1".to_owned(), 500.0),
            ("t5".to_owned(), 200.0),
            ("t2".to_owned(), 30.0),
        ]
    );
}

#[test]
fn estimate_misses_that_are_not() {
    // Both below 10 rows; never executed; a pass-through Hash over a missed
    // scan (the scan is reported, once); fewer rows than estimated below a
    // Limit; BitmapOr's always-zero count.
    let scan = node(
        "Seq Scan",
        json!({"Relation Name": "users", "Plan Rows": 10, "Actual Rows": 5000,
               "Actual Loops": 1, "Filter": "(id > 5)"}),
        vec![],
    );
    let hash = node(
        "Hash",
        json!({"Plan Rows": 10, "Actual Rows": 5000, "Actual Loops": 1}),
        vec![scan],
    );
    let tiny = node("Seq Scan", analyzed(1.0, 9.0, 1.0), vec![]);
    let never = node("Seq Scan", analyzed(1.0, 0.0, 0.0), vec![]);
    let limited = node(
        "Limit",
        analyzed(10.0, 10.0, 1.0),
        vec![node("Seq Scan", analyzed(100_000.0, 10.0, 1.0), vec![])],
    );
    let bitmap_or = node(
        "BitmapOr",
        analyzed(5000.0, 0.0, 1.0),
        vec![node(
            "Bitmap Index Scan",
            json!({"Index Name": "a_idx", "Plan Rows": 5000, "Actual Rows": 5000, "Actual Loops": 1}),
            vec![],
        )],
    );
    let r = run(node(
        "Append",
        analyzed(5000.0, 5000.0, 1.0),
        vec![hash, tiny, never, limited, bitmap_or],
    ));
    match r.findings.as_slice() {
        [Finding::RowEstimateMiss {
            node,
            relation,
            direction,
            detail,
            ..
        }] => {
            assert_eq!(node, "Seq Scan");
            assert_eq!(relation.as_deref(), Some("users"));
            assert_eq!(*direction, Direction::Under);
            assert!(detail.contains("run ANALYZE users"), "{detail}");
            assert!(detail.contains("statistics target of id"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.indexes_used, ["a_idx"]);

    // Below a Sort under the Limit, the scan is read in full: an overestimate counts.
    let sorted = node(
        "Limit",
        analyzed(10.0, 10.0, 1.0),
        vec![node(
            "Sort",
            analyzed(100_000.0, 10.0, 1.0),
            vec![node("Seq Scan", analyzed(100_000.0, 50.0, 1.0), vec![])],
        )],
    );
    let r = run(sorted);
    let over: Vec<&str> = r
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::RowEstimateMiss {
                node,
                direction: Direction::Over,
                ..
            } => Some(node.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(over, ["Seq Scan"]);
}

#[test]
fn nested_loop_looks_through_memoize_and_names_a_seq_scan_inner() {
    let inner_scan = node(
        "Seq Scan",
        json!({"Relation Name": "exercises", "Alias": "e", "Plan Rows": 3, "Actual Rows": 3,
               "Actual Loops": 2500, "Filter": "(e.workout_id = w.id)"}),
        vec![],
    );
    let outer = node(
        "Seq Scan",
        json!({"Relation Name": "workouts", "Alias": "w", "Plan Rows": 5000,
               "Actual Rows": 5000, "Actual Loops": 1}),
        vec![],
    );
    let memo = node(
        "Memoize",
        json!({"Parent Relationship": "Inner", "Plan Rows": 3, "Actual Rows": 3,
               "Actual Loops": 5000}),
        vec![inner_scan],
    );
    let r = run(node(
        "Nested Loop",
        json!({"Plan Rows": 15000, "Actual Rows": 15000, "Actual Loops": 1}),
        vec![outer, memo],
    ));
    match r.findings.as_slice() {
        [Finding::NestedLoopManyLoops {
            node,
            relation,
            loops,
            columns,
            detail,
            ..
        }] => {
            assert_eq!(node, "Seq Scan");
            assert_eq!(relation.as_deref(), Some("exercises"));
            assert_eq!(*loops, 2500); // the cache misses, not the 5000 lookups
            assert_eq!(columns, &["workout_id"]);
            assert!(
                detail.contains("add an index on exercises (workout_id)"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }

    // A Materialize inner side runs its child once: no finding.
    let mat = node(
        "Materialize",
        json!({"Parent Relationship": "Inner", "Plan Rows": 3, "Actual Rows": 3,
               "Actual Loops": 5000}),
        vec![node("Seq Scan", analyzed(3.0, 3.0, 1.0), vec![])],
    );
    let r = run(node(
        "Nested Loop",
        analyzed(15000.0, 15000.0, 1.0),
        vec![node("Seq Scan", analyzed(5000.0, 5000.0, 1.0), vec![]), mat],
    ));
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[test]
fn hashed_aggregate_and_worker_sorts_spill() {
    let agg = node(
        "Aggregate",
        json!({"Strategy": "Hashed", "HashAgg Batches": 5, "Disk Usage": 1024,
               "Peak Memory Usage": 4145, "Plan Rows": 1, "Actual Rows": 1, "Actual Loops": 1}),
        vec![],
    );
    let sort = node(
        "Sort",
        json!({"Sort Key": ["cw.calories DESC"], "Sort Method": "quicksort",
               "Sort Space Used": 25, "Sort Space Type": "Memory",
               "Workers": [
                   {"Worker Number": 0, "Sort Method": "external merge", "Sort Space Used": 3000, "Sort Space Type": "Disk"},
                   {"Worker Number": 1, "Sort Method": "external merge", "Sort Space Used": 2000, "Sort Space Type": "Disk"}],
               "Plan Rows": 1, "Actual Rows": 1, "Actual Loops": 3}),
        vec![],
    );
    let incremental = node(
        "Incremental Sort",
        json!({"Sort Key": ["a", "b"], "Presorted Key": ["a"],
               "Full-sort Groups": {"Group Count": 3, "Sort Methods Used": ["quicksort", "external merge"],
                                    "Sort Space Memory": {"Average Sort Space Used": 30, "Peak Sort Space Used": 30},
                                    "Sort Space Disk": {"Average Sort Space Used": 700, "Peak Sort Space Used": 900}},
               "Plan Rows": 1, "Actual Rows": 1, "Actual Loops": 1}),
        vec![],
    );
    let r = run(node(
        "Append",
        analyzed(3.0, 3.0, 1.0),
        vec![agg, sort, incremental],
    ));
    match r.findings.as_slice() {
        [Finding::HashSpill {
            node: agg,
            batches,
            disk_kb: agg_disk,
            ..
        }, Finding::SortSpill {
            disk_kb: sort_disk,
            method,
            columns,
            ..
        }, Finding::SortSpill {
            node: inc,
            disk_kb: inc_disk,
            ..
        }] => {
            assert_eq!(
                (agg.as_str(), *batches, *agg_disk),
                ("HashAggregate", 5, Some(1024))
            );
            assert_eq!(*sort_disk, 5000);
            assert_eq!(method.as_deref(), Some("external merge"));
            assert_eq!(columns, &["cw.calories"]);
            assert_eq!((inc.as_str(), *inc_disk), ("Incremental Sort", 900));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn schema_qualified_table_rows() {
    let scan = node(
        "Seq Scan",
        json!({"Relation Name": "users", "Schema": "app", "Alias": "users",
               "Plan Rows": 5, "Filter": "(users.email = 'a@b.c'::text)"}),
        vec![],
    );
    let options = Options {
        table_rows: BTreeMap::from([("app.users".to_owned(), 50_000), ("users".to_owned(), 10)]),
        ..Options::default()
    };
    let r = analyze(&json!({"Plan": scan}).to_string(), &options).unwrap();
    match r.findings.as_slice() {
        [Finding::SeqScanOnLargeTable {
            rows,
            columns,
            detail,
            ..
        }] => {
            assert_eq!(*rows, 50_000);
            assert_eq!(columns, &["email"]);
            assert!(!detail.contains("a@b.c"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        r.seq_scans[0].filter.as_deref(),
        Some("(users.email = ?::text)")
    );
}

// ------------------------------------------------------------ hostile input

fn chain(depth: usize) -> String {
    // A plan `depth` levels deep, built as text (serde_json's own Value
    // would hit its recursion limit writing it).
    let mut s = String::from("[{\"Plan\": ");
    for _ in 1..depth {
        s.push_str("{\"Node Type\": \"Limit\", \"Plan Rows\": 1, \"Plans\": [");
    }
    s.push_str("{\"Node Type\": \"Result\", \"Plan Rows\": 1}");
    for _ in 1..depth {
        s.push_str("]}");
    }
    s.push_str("}]");
    s
}

#[test]
fn depth_cap() {
    // Up to MAX_DEPTH levels are fine, from a thread with a Ruby-sized
    // (1 MiB) stack even in a debug build: shallow plans are analyzed on the
    // caller's stack, deep ones on a thread of their own.
    let depths = [1, 10, 23, 24, 25, 100, MAX_DEPTH];
    let nodes = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            depths
                .iter()
                .map(|&d| analyze(&chain(d), &Options::default()).map(|r| r.nodes))
                .collect::<Vec<_>>()
        })
        .unwrap()
        .join()
        .unwrap();
    let expected: Vec<Result<u64, Error>> = depths.iter().map(|&d| Ok(d as u64)).collect();
    assert_eq!(nodes, expected);

    let message = invalid_input(analyze(&chain(MAX_DEPTH + 1), &Options::default()));
    assert!(message.contains("deeper than 200 levels"), "{message}");
    // Far deeper: refused before decoding, by the nesting scan.
    let message = invalid_input(analyze(&chain(100_000), &Options::default()));
    assert!(message.contains("nested deeper"), "{message}");
    // Deep nesting in an unknown field is refused too.
    let junk = format!(
        "{{\"Plan\": {{\"Node Type\": \"Result\", \"Junk\": {}1{}}}}}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    invalid_input(analyze(&junk, &Options::default()));
    invalid_input(analyze(&"[".repeat(1_000_000), &Options::default()));
}

#[test]
fn size_caps() {
    let leaf = r#"{"Node Type": "Result"}"#;
    let mut wide = String::from(r#"{"Plan": {"Node Type": "Append", "Plans": ["#);
    for i in 0..=MAX_NODES {
        if i > 0 {
            wide.push(',');
        }
        wide.push_str(leaf);
    }
    wide.push_str("]}}");
    let message = invalid_input(analyze(&wide, &Options::default()));
    assert!(message.contains("more than 100000 nodes"), "{message}");

    let keys = vec!["\"x\""; 500_000].join(",");
    let sort = format!(r#"{{"Plan": {{"Node Type": "Sort", "Sort Key": [{keys}]}}}}"#);
    let message = invalid_input(analyze(&sort, &Options::default()));
    assert!(message.contains("sort-key entries"), "{message}");

    let big = format!(
        r#"{{"Plan": {{"Node Type": "Result", "Output": "{}"}}}}"#,
        "x".repeat(MAX_PLAN_BYTES)
    );
    let message = invalid_input(analyze(&big, &Options::default()));
    assert!(message.contains("exceed the limit"), "{message}");

    // Many statements: only the first is read, the rest skipped.
    let many = format!(
        "[{}]",
        vec![r#"{"Plan": {"Node Type": "Result"}}"#; 10_000].join(",")
    );
    assert_eq!(analyze(&many, &Options::default()).unwrap().nodes, 1);
}

#[test]
fn malformed_plans_are_invalid_input() {
    let cases = [
        "",
        "   ",
        "nope",
        "{",
        "[",
        "[]",
        "null",
        "42",
        "\"Plan\"",
        "{}",
        r#"{"Plan": 1}"#,
        r#"{"Plan": null}"#,
        r#"{"Plan": {}}"#,
        r#"{"Plan": {"Node Type": 5}}"#,
        r#"{"Plan": {"Node Type": "Seq Scan", "Plan Rows": "10"}}"#,
        r#"{"Plan": {"Node Type": "Seq Scan", "Plan Rows": 1e999}}"#,
        r#"{"Plan": {"Node Type": "Seq Scan", "Parallel Aware": "yes"}}"#,
        r#"{"Plan": {"Node Type": "Seq Scan", "Filter": ["a"]}}"#,
        r#"{"Plan": {"Node Type": "Append", "Plans": {}}}"#,
        r#"{"Plan": {"Node Type": "Append", "Plans": [1]}}"#,
        r#"{"Plan": {"Node Type": "Append", "Plans": [{}]}}"#,
        r#"{"Plan": {"Node Type": "Sort", "Sort Key": "a"}}"#,
        r#"{"Plan": {"Node Type": "Sort", "Workers": [1]}}"#,
        r#"{"Plan": {"Node Type": "Result"}, "Execution Time": "fast"}"#,
        r#"{"Plan": {"Node Type": "Result", "Node Type": "Result"}}"#,
        r#"{"Plan": {"Node Type": "\ud800"}}"#,
        r#"[{"Plan": {"Node Type": "Result"}}] trailing"#,
        r#"[1, {"Plan": {"Node Type": "Result"}}]"#,
        r#"[{"Plan": {"Node Type": "Result"}}"#,
    ];
    for case in cases {
        let message = invalid_input(analyze(case, &Options::default()));
        assert!(message.starts_with("EXPLAIN JSON: "), "{case}: {message}");
    }
}

#[test]
fn odd_but_valid_values_do_not_panic() {
    let r = run(node(
        "Seq Scan",
        json!({"Plan Rows": -5, "Actual Rows": 1e300, "Actual Loops": 1e300,
               "Rows Removed by Filter": -1, "Filter": "(((((", "Total Cost": -1.5,
               "Relation Name": "", "Unknown": {"a": [1, 2, {"b": null}]}}),
        vec![node("Hash", json!({"Hash Batches": 1e20}), vec![])],
    ));
    assert_eq!(r.seq_scans[0].plan_rows, 0);
    assert_eq!(r.seq_scans[0].actual_rows, Some(u64::MAX));
    assert_eq!(r.total_cost, -1.5);
    let out = serde_json::to_string(&r).unwrap();
    assert!(out.contains("hash_spill"));
}

#[test]
fn options() {
    assert_eq!(Options::from_json("").unwrap(), Options::default());
    assert_eq!(Options::from_json("{}").unwrap(), Options::default());
    let o = Options::from_json(
        r#"{"large_table_rows": 5, "misestimate_factor": 2.5, "many_loops": 3,
            "table_rows": {"completed_workouts": 50000}}"#,
    )
    .unwrap();
    assert_eq!(
        (o.large_table_rows, o.misestimate_factor, o.many_loops),
        (5, 2.5, 3)
    );
    assert_eq!(o.table_rows.get("completed_workouts"), Some(&50_000));
    for bad in [
        "[]",
        "nope",
        r#"{"large_table_row": 5}"#,
        r#"{"large_table_rows": -1}"#,
        r#"{"misestimate_factor": 0.5}"#,
        r#"{"many_loops": "many"}"#,
        r#"{"table_rows": {"t": "big"}}"#,
    ] {
        assert!(
            matches!(Options::from_json(bad), Err(Error::InvalidInput { .. })),
            "{bad}"
        );
        assert!(analyze_json(&fixture("index_scan"), bad).is_err(), "{bad}");
    }
    let negative = Options {
        misestimate_factor: -1.0,
        ..Options::default()
    };
    invalid_input(analyze(&fixture("index_scan"), &negative));
}
