//! SQL text: normalization and fingerprints (the per-query hot path, no syntax
//! tree), and [`Analyzer`], which parses once per distinct fingerprint into a [`Shape`].
//!
//! # Fingerprint definition
//!
//! A fingerprint is the XXH3-64 hash (seed 0) of the UTF-8 bytes of
//! [`normalize`]'s output, written as 16 lowercase hex digits (big-endian).
//! XXH3 is a published, platform-independent algorithm, so a fingerprint is the
//! same on every process, machine and architecture. It changes only if the
//! normalization rules change, which happens only in a new major version.

mod analyze;
pub(crate) mod ast;
mod cache;
mod keywords;
mod lint;
mod normalize;
pub mod shape;
mod statement;
pub mod token;

pub(crate) use analyze::redact_parser_message;
pub use analyze::{
    analyze_uncached, Analyzer, Limits, DEFAULT_CACHE_CAPACITY, DEFAULT_MAX_NESTING_DEPTH,
    DEFAULT_MAX_TERMS,
};
pub use cache::CacheStats;
pub use lint::LARGE_OFFSET;
pub use shape::Shape;
pub use statement::{classify, StatementClass};

use std::cell::RefCell;
use std::fmt;

use crate::Dialect;

/// The default cap on input size for the hot path: 1 MiB. Longer input is
/// normalized up to the cap only.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 1 << 20;

/// A stable 64-bit fingerprint of a query's shape. Displays as 16 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// The 16 lowercase hex digits, without going through `fmt` (hot path).
    pub fn to_hex(self) -> [u8; 16] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, byte) in self.0.to_be_bytes().iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(byte >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
        }
        out
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hex digits are ASCII, so this never fails.
        f.write_str(std::str::from_utf8(&self.to_hex()).map_err(|_| fmt::Error)?)
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Normalizes and fingerprints SQL of one dialect, with an input-size cap.
///
/// ```
/// use vto_core::{sql::Normalizer, Dialect};
///
/// let n = Normalizer::new(Dialect::Mysql);
/// assert_eq!(
///     n.normalize(b"SELECT `users`.* FROM `users` WHERE `users`.`id` IN (1, 2, 3)"),
///     "SELECT `users`.* FROM `users` WHERE `users`.`id` IN (?)"
/// );
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Normalizer {
    dialect: Dialect,
    max_input_bytes: usize,
}

thread_local! {
    static SCRATCH: RefCell<normalize::Scratch> = RefCell::new(normalize::Scratch::default());
}

impl Normalizer {
    /// A normalizer for `dialect` with the default input cap.
    pub fn new(dialect: Dialect) -> Self {
        Normalizer {
            dialect,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }

    /// Sets the input cap: bytes past it are ignored.
    pub fn max_input_bytes(mut self, limit: usize) -> Self {
        self.max_input_bytes = limit;
        self
    }

    /// The dialect this normalizer reads.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn capped<'a>(&self, sql: &'a [u8]) -> &'a [u8] {
        &sql[..sql.len().min(self.max_input_bytes)]
    }

    /// The normalized form of `sql`. Never fails: any bytes are accepted, and
    /// invalid UTF-8 in identifiers is replaced by U+FFFD in the output.
    pub fn normalize(&self, sql: &[u8]) -> String {
        let mut scratch = normalize::Scratch::default();
        normalize::normalize_into(self.capped(sql), self.dialect, &mut scratch);
        match String::from_utf8(scratch.out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    /// The fingerprint of `sql`: the XXH3-64 of its normalized form.
    pub fn fingerprint(&self, sql: &[u8]) -> Fingerprint {
        let sql = self.capped(sql);
        // Output bytes come from the input or are ASCII: ASCII input needs no
        // UTF-8 check of the output.
        let ascii = sql.is_ascii();
        let hash_of = |buf: &Vec<u8>| match ascii || std::str::from_utf8(buf).is_ok() {
            true => xxhash_rust::xxh3::xxh3_64(buf),
            false => xxhash_rust::xxh3::xxh3_64(String::from_utf8_lossy(buf).as_bytes()),
        };
        // A reused per-thread buffer keeps the hot path free of allocations; a
        // re-entrant call (impossible today) falls back to a fresh buffer.
        let hash = SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                normalize::normalize_into(sql, self.dialect, &mut scratch);
                let hash = hash_of(&scratch.out);
                scratch.shrink();
                hash
            }
            Err(_) => {
                let mut scratch = normalize::Scratch::default();
                normalize::normalize_into(sql, self.dialect, &mut scratch);
                hash_of(&scratch.out)
            }
        });
        Fingerprint(hash)
    }
}

/// Normalizes `sql` with the default cap. See [`Normalizer::normalize`].
///
/// ```
/// use vto_core::{sql, Dialect};
/// assert_eq!(
///     sql::normalize(b"select * from \"users\" where \"id\" = 42 -- note", Dialect::Postgres),
///     "SELECT * FROM \"users\" WHERE \"id\" = ?"
/// );
/// ```
pub fn normalize(sql: &[u8], dialect: Dialect) -> String {
    Normalizer::new(dialect).normalize(sql)
}

/// Fingerprints `sql` with the default cap. See [`Normalizer::fingerprint`].
pub fn fingerprint(sql: &[u8], dialect: Dialect) -> Fingerprint {
    Normalizer::new(dialect).fingerprint(sql)
}
