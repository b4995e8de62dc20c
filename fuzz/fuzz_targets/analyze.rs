//! Fuzzes the parser path: `analyze_uncached` and the caching `Analyzer`.
//!
//! Input layout: the first byte picks the dialect (`byte % 3`: 0 = Postgres,
//! 1 = MySQL, 2 = SQLite); the rest is the SQL text, any bytes at all.
//!
//! Any `Err` is an acceptable answer; only panics, hangs, stack overflows and
//! runaway memory are bugs (libFuzzer reports those).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vto_core::sql::{analyze_uncached, Analyzer, Limits};

#[path = "input.rs"]
mod input;

fuzz_target!(|data: &[u8]| {
    let Some((_, dialect, sql)) = input::split(data) else {
        return;
    };

    let _ = analyze_uncached(sql, dialect, Limits::default());

    // First call misses the cache and parses; the second is served from it.
    let analyzer = Analyzer::new(16);
    let _ = analyzer.analyze(sql, dialect, Limits::default());
    let _ = analyzer.analyze(sql, dialect, Limits::default());
});
