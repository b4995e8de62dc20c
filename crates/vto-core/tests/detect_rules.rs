//! The detection rules, scope by scope.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use vto_core::detect::{Config, FindingKind, Priority, QueryEvent, Scope};
use vto_core::sql::Fingerprint;

fn read(fp: u64, site: u64, exact: u64, us: u64) -> QueryEvent {
    QueryEvent {
        fingerprint: Fingerprint(fp),
        call_site: site,
        exact,
        duration_us: us,
        write: false,
        batch: false,
    }
}

fn kinds(scope: Scope) -> Vec<(FindingKind, u32)> {
    scope
        .finish(1.0)
        .iter()
        .map(|f| (f.kind, f.count))
        .collect()
}

#[test]
fn a_read_repeated_from_one_call_site_is_an_n_plus_one() {
    let mut s = Scope::new(Config::default());
    for id in 0..5 {
        s.record(read(1, 7, id, 400));
    }
    let findings = s.finish(10.0);
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(
        (f.kind, f.count, f.call_site),
        (FindingKind::NPlusOne, 5, Some(7))
    );
    assert_eq!((f.total_ms, f.max_ms, f.db_ms), (2.0, 0.4, 2.0));
    assert_eq!(f.priority, Priority::Medium);
}

#[test]
fn the_threshold_decides() {
    let mut s = Scope::new(Config::default());
    s.record(read(1, 7, 1, 100));
    assert!(kinds(s).is_empty());
    let mut s = Scope::new(Config {
        n_plus_one_threshold: 3,
        ..Config::default()
    });
    s.record(read(1, 7, 1, 100));
    s.record(read(1, 7, 2, 100));
    assert!(kinds(s).is_empty());
}

#[test]
fn not_n_plus_one_two_call_sites_batches_and_identical_repeats() {
    let mut s = Scope::new(Config::default());
    s.record(read(1, 7, 1, 100));
    s.record(read(1, 8, 2, 100));
    assert!(kinds(s).is_empty(), "one query from each of two call sites");

    let mut s = Scope::new(Config::default());
    for id in 0..4 {
        s.record(QueryEvent {
            batch: true,
            ..read(1, 7, id, 100)
        });
    }
    assert!(kinds(s).is_empty(), "find_each batches");

    let mut s = Scope::new(Config::default());
    for _ in 0..3 {
        s.record(read(1, 7, 99, 100));
    }
    assert_eq!(kinds(s), vec![(FindingKind::DuplicateQuery, 3)]);
}

#[test]
fn writes_in_a_loop_are_a_bulk_write() {
    let mut s = Scope::new(Config::default());
    for id in 0..6 {
        s.record(QueryEvent {
            write: true,
            ..read(2, 7, id, 1_000)
        });
    }
    assert_eq!(kinds(s), vec![(FindingKind::BulkWrite, 6)]);
}

#[test]
fn slow_queries_and_slow_scopes() {
    let mut s = Scope::new(Config {
        budget_ms: Some(200.0),
        ..Config::default()
    });
    s.record(read(3, 7, 1, 99_999));
    s.record(read(4, 7, 2, 150_000));
    assert_eq!(s.db_ms(), 249.999);
    let findings = s.finish(250.0);
    let got: Vec<_> = findings.iter().map(|f| (f.kind, f.total_ms)).collect();
    assert_eq!(
        got,
        vec![
            (FindingKind::SlowQuery, 150.0),
            (FindingKind::SlowScope, 250.0)
        ]
    );
    assert_eq!(findings[1].db_ms, 249.999);
}

#[test]
fn memory_stays_within_the_caps() {
    let mut s = Scope::new(Config {
        max_keys: 10,
        max_slow_queries: 3,
        ..Config::default()
    });
    for i in 0..1_000 {
        s.record(read(i, 7, i, 200_000));
    }
    assert_eq!(s.queries(), 1_000);
    assert_eq!(s.dropped(), 990);
    assert_eq!(kinds(s).len(), 3, "three slow queries kept");
}

#[test]
fn most_urgent_first() {
    let mut s = Scope::new(Config::default());
    for id in 0..60 {
        s.record(read(1, 7, id, 10)); // 60 repeats: critical
    }
    for id in 0..3 {
        s.record(read(2, 8, 1_000 + id, 10)); // 3 repeats: low
    }
    let priorities: Vec<_> = s.finish(1.0).iter().map(|f| f.priority).collect();
    assert_eq!(priorities, vec![Priority::Critical, Priority::Low]);
}

#[test]
fn budgets_set_late_absorbed_totals_and_per_fingerprint_totals() {
    let mut scope = Scope::new(Config::default());
    scope.record(read(1, 1, 1, 2_000));
    scope.record(read(1, 2, 2, 3_000));
    scope.record(read(2, 1, 3, 1_000));
    scope.absorb(4, 10_000);
    assert_eq!(scope.queries(), 7);
    assert!((scope.db_ms() - 16.0).abs() < 1e-9);
    let totals = scope.totals();
    assert_eq!(totals.len(), 2);
    assert_eq!(totals[0].fingerprint, Fingerprint(1));
    assert_eq!(totals[0].count, 2);
    assert!((totals[0].total_ms - 5.0).abs() < 1e-9);
    scope.set_budget(Some(50.0));
    let findings = scope.finish(80.0);
    assert!(findings.iter().any(|f| f.kind == FindingKind::SlowScope));
}

#[test]
fn repeats_inside_an_n_plus_one_loop_are_not_also_duplicates() {
    let mut scope = Scope::new(Config::default());
    // A loop over six workouts of three users: each user loaded twice.
    for id in [1, 1, 2, 2, 3, 3] {
        scope.record(read(9, 16, id, 100));
    }
    assert_eq!(kinds(scope), vec![(FindingKind::NPlusOne, 6)]);

    // The same user also loaded by another call site is a real duplicate.
    let mut scope = Scope::new(Config::default());
    for id in [1, 1, 2, 2] {
        scope.record(read(9, 16, id, 100));
    }
    scope.record(read(9, 19, 1, 100));
    let mut found = kinds(scope);
    found.sort_by_key(|(k, _)| k.as_str());
    assert_eq!(
        found,
        vec![(FindingKind::DuplicateQuery, 3), (FindingKind::NPlusOne, 4)]
    );
}
