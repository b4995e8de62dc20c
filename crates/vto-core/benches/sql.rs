//! `cargo bench`: throughput of the SQL hot path and the cost of `analyze`.
//!
//! Corpus: every statement in `tests/vectors/*.json` (Rails-generated SQL for
//! PostgreSQL, MySQL and SQLite plus tokenizer edge cases). Single-threaded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a bench fails loudly

use std::hint::black_box;
use std::time::{Duration, Instant};

use vto_core::detect::{Config, QueryEvent, Scope};
use vto_core::sql::{analyze_uncached, Analyzer, Limits, Normalizer};
use vto_core::Dialect;

fn corpus() -> Vec<(Dialect, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let vectors: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for v in vectors {
            let dialect = Dialect::from_name(v["dialect"].as_str().unwrap()).unwrap();
            out.push((dialect, v["sql"].as_str().unwrap().as_bytes().to_vec()));
        }
    }
    out
}

/// Runs `f` over the corpus until `budget` has passed; returns ns per query.
fn measure(
    corpus: &[(Dialect, Vec<u8>)],
    budget: Duration,
    mut f: impl FnMut(Dialect, &[u8]),
) -> f64 {
    for (d, sql) in corpus {
        f(*d, sql); // warm-up
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for (d, sql) in corpus {
            f(*d, sql);
        }
        n += corpus.len() as u64;
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let corpus = corpus();
    let bytes: usize = corpus.iter().map(|(_, s)| s.len()).sum();
    let budget = Duration::from_secs(2);
    println!(
        "corpus: {} statements, mean {} bytes",
        corpus.len(),
        bytes / corpus.len().max(1)
    );

    let ns = measure(&corpus, budget, |d, sql| {
        black_box(Normalizer::new(d).fingerprint(black_box(sql)));
    });
    println!(
        "fingerprint (normalize + XXH3):  {ns:8.0} ns/query  {:6.2} M queries/s",
        1e3 / ns
    );

    let ns = measure(&corpus, budget, |d, sql| {
        black_box(Normalizer::new(d).normalize(black_box(sql)));
    });
    println!(
        "normalize (to a String):         {ns:8.0} ns/query  {:6.2} M queries/s",
        1e3 / ns
    );

    let parsable: Vec<_> = corpus
        .iter()
        .filter(|(d, s)| analyze_uncached(s, *d, Limits::default()).is_ok())
        .cloned()
        .collect();
    let ns = measure(&parsable, budget, |d, sql| {
        black_box(analyze_uncached(black_box(sql), d, Limits::default()).ok());
    });
    println!(
        "analyze, cache miss (parse):     {ns:8.0} ns/query  ({} statements)",
        parsable.len()
    );

    let analyzer = Analyzer::new(100_000);
    let ns = measure(&parsable, budget, |d, sql| {
        black_box(analyzer.analyze(black_box(sql), d, Limits::default()).ok());
    });
    let stats = analyzer.stats();
    println!(
        "analyze, cache hit:              {ns:8.0} ns/query  (hits {}, misses {})",
        stats.hits, stats.misses
    );

    // A request-sized scope: 40 queries, an N+1 among them, then its findings.
    let events: Vec<QueryEvent> = corpus
        .iter()
        .take(40)
        .enumerate()
        .map(|(i, (d, sql))| QueryEvent {
            fingerprint: Normalizer::new(*d).fingerprint(sql),
            call_site: (i % 4) as u64,
            exact: i as u64,
            duration_us: 250,
            write: false,
            batch: false,
        })
        .collect();
    let start = Instant::now();
    let mut scopes = 0u64;
    while start.elapsed() < budget {
        let mut scope = Scope::new(Config::default());
        for e in &events {
            scope.record(*e);
        }
        black_box(scope.finish(12.0));
        scopes += 1;
    }
    let ns = start.elapsed().as_nanos() as f64 / (scopes * events.len() as u64) as f64;
    println!(
        "detect, record + finish:         {ns:8.0} ns/query  (scopes of {} queries)",
        events.len()
    );
}
