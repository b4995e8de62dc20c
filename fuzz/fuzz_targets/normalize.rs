//! Fuzzes the hot path: `Normalizer::normalize` and `Normalizer::fingerprint`.
//!
//! Input layout: the first byte picks the dialect (`byte % 3`: 0 = Postgres,
//! 1 = MySQL, 2 = SQLite); the rest is the SQL text, any bytes at all.
//!
//! Only documented properties are asserted:
//! - neither call panics, hangs or overflows the stack (libFuzzer catches those);
//! - a fingerprint displays as 16 lowercase hex digits;
//! - the fingerprint is the XXH3-64 of `normalize`'s output (documented in
//!   `vto_core::sql`), so it must equal the fingerprint of the same input
//!   computed twice (determinism) -- the hash itself is not recomputed here,
//!   to avoid depending on xxhash-rust directly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vto_core::sql::Normalizer;

#[path = "input.rs"]
mod input;

fuzz_target!(|data: &[u8]| {
    let Some((first, dialect, sql)) = input::split(data) else {
        return;
    };
    let normalizer = Normalizer::new(dialect);

    let normalized = normalizer.normalize(sql);
    // Calling it a second time on the same input must be just as safe.
    let again = normalizer.normalize(sql);
    assert_eq!(normalized, again, "normalize is not deterministic");

    let fingerprint = normalizer.fingerprint(sql);
    let hex = fingerprint.to_string();
    assert_eq!(hex.len(), 16, "fingerprint {hex:?} is not 16 chars");
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "fingerprint {hex:?} is not lowercase hex"
    );
    assert_eq!(
        fingerprint,
        normalizer.fingerprint(sql),
        "fingerprint is not deterministic"
    );

    // Normalizing already-normalized text must not panic either (no claim
    // is made about its result).
    let _ = normalizer.normalize(normalized.as_bytes());

    // A small input cap exercises the truncation path (cuts mid-token,
    // mid-UTF-8 sequence, mid-comment...).
    let capped = Normalizer::new(dialect).max_input_bytes(usize::from(first));
    let _ = capped.normalize(sql);
    let _ = capped.fingerprint(sql);
});
