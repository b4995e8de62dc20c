//! The SQL keywords whose case `normalize` folds to upper case.
//!
//! Only words that are keywords in all three dialects, or common function names,
//! are listed: an identifier that happens to be listed is still folded the same
//! way on every query, so fingerprints stay consistent.

/// How a keyword spaces an opening parenthesis after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    /// A clause keyword: `IN (`, `VALUES (`, `EXISTS (` keep a space.
    Clause,
    /// A function-like keyword: `COUNT(`, `LOWER(` take none.
    Function,
}

/// A keyword, as its index in the table: comparing two is one integer compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kw(u8);

impl Kw {
    pub(crate) const IN: Kw = Kw(index_of("IN"));
    pub(crate) const ARRAY: Kw = Kw(index_of("ARRAY"));
    pub(crate) const FIELD: Kw = Kw(index_of("FIELD"));
    pub(crate) const IS: Kw = Kw(index_of("IS"));
    pub(crate) const NOT: Kw = Kw(index_of("NOT"));
    pub(crate) const NULL: Kw = Kw(index_of("NULL"));
    pub(crate) const TRUE: Kw = Kw(index_of("TRUE"));
    pub(crate) const FALSE: Kw = Kw(index_of("FALSE"));
    pub(crate) const VALUES: Kw = Kw(index_of("VALUES"));
    /// Keywords that can end an operand (`CASE ... END - 1`) or stand for a
    /// column named like them (`key - 1`): a sign after them is an operator.
    pub(crate) const ENDS_OPERAND: [Kw; 7] = [
        Kw(index_of("END")),
        Kw(index_of("KEY")),
        Kw(index_of("FIRST")),
        Kw(index_of("LAST")),
        Kw(index_of("ROWS")),
        Kw(index_of("TABLE")),
        Kw(index_of("DEFAULT")),
    ];

    /// The upper-case spelling.
    pub(crate) fn name(self) -> &'static str {
        KEYWORDS[usize::from(self.0)].0
    }

    /// How it spaces a following `(`.
    pub(crate) fn class(self) -> Keyword {
        KEYWORDS[usize::from(self.0)].1
    }
}

/// The index of `name` in the table, or `EMPTY` (a test checks every use).
const fn index_of(name: &str) -> u8 {
    let mut i = 0;
    while i < KEYWORDS.len() {
        let k = KEYWORDS[i].0.as_bytes();
        let n = name.as_bytes();
        if k.len() == n.len() {
            let mut j = 0;
            while j < k.len() && k[j] == n[j] {
                j += 1;
            }
            if j == k.len() {
                return i as u8;
            }
        }
        i += 1;
    }
    EMPTY
}

use Keyword::{Clause as C, Function as F};

/// Sorted by name, for the reader (a test keeps it so).
const KEYWORDS: &[(&str, Keyword)] = &[
    ("ABS", F),
    ("ALL", C),
    ("ALTER", C),
    ("AND", C),
    ("ANY", C),
    ("ARRAY", F),
    ("AS", C),
    ("ASC", C),
    ("AVG", F),
    ("BEGIN", C),
    ("BETWEEN", C),
    ("BY", C),
    ("CASE", C),
    ("CAST", F),
    ("COALESCE", F),
    ("COMMIT", C),
    ("CONFLICT", C),
    ("COUNT", F),
    ("CREATE", C),
    ("CROSS", C),
    ("CURRENT_DATE", F),
    ("DATE_TRUNC", F),
    ("DEFAULT", C),
    ("DELETE", C),
    ("DESC", C),
    ("DISTINCT", C),
    ("DO", C),
    ("DROP", C),
    ("DUPLICATE", C),
    ("ELSE", C),
    ("END", C),
    ("ESCAPE", C),
    ("EXCEPT", C),
    ("EXISTS", C),
    ("EXPLAIN", C),
    ("EXTRACT", F),
    ("FALSE", C),
    ("FETCH", C),
    ("FIELD", F),
    ("FILTER", C),
    ("FIRST", C),
    ("FOR", C),
    ("FROM", C),
    ("FULL", C),
    ("GLOB", C),
    ("GREATEST", F),
    ("GROUP", C),
    ("HAVING", C),
    ("IFNULL", F),
    ("ILIKE", C),
    ("IN", C),
    ("INNER", C),
    ("INSERT", C),
    ("INTERSECT", C),
    ("INTERVAL", C),
    ("INTO", C),
    ("IS", C),
    ("JOIN", C),
    ("KEY", C),
    ("LAST", C),
    ("LATERAL", C),
    ("LEAST", F),
    ("LEFT", C),
    ("LENGTH", F),
    ("LIKE", C),
    ("LIMIT", C),
    ("LOCKED", C),
    ("LOWER", F),
    ("MAX", F),
    ("MIN", F),
    ("NATURAL", C),
    ("NOT", C),
    ("NOTHING", C),
    ("NOW", F),
    ("NOWAIT", C),
    ("NULL", C),
    ("NULLIF", F),
    ("NULLS", C),
    ("OFFSET", C),
    ("ON", C),
    ("ONLY", C),
    ("OR", C),
    ("ORDER", C),
    ("OUTER", C),
    ("OVER", C),
    ("PARTITION", C),
    ("RAND", F),
    ("RANDOM", F),
    ("RECURSIVE", C),
    ("REGEXP", C),
    ("RELEASE", C),
    ("REPLACE", C),
    ("RETURNING", C),
    ("RIGHT", C),
    ("RLIKE", C),
    ("ROLLBACK", C),
    ("ROUND", F),
    ("ROW", F),
    ("ROWS", C),
    ("SAVEPOINT", C),
    ("SELECT", C),
    ("SET", C),
    ("SHARE", C),
    ("SIMILAR", C),
    ("SKIP", C),
    ("SOME", C),
    ("SUM", F),
    ("TABLE", C),
    ("THEN", C),
    ("TO", C),
    ("TRANSACTION", C),
    ("TRIM", F),
    ("TRUE", C),
    ("UNION", C),
    ("UPDATE", C),
    ("UPPER", F),
    ("USING", C),
    ("VALUES", C),
    ("WHEN", C),
    ("WHERE", C),
    ("WINDOW", C),
    ("WITH", C),
];

/// The longest keyword: a word packs into one `u128`.
const MAX_LEN: usize = 16;

/// A word of up to 16 bytes as one big-endian integer, zero-padded: a lookup
/// compares integers instead of strings.
const fn pack(word: &[u8]) -> u128 {
    let mut key = 0u128;
    let mut i = 0;
    while i < MAX_LEN {
        key <<= 8;
        if i < word.len() {
            key |= word[i].to_ascii_uppercase() as u128;
        }
        i += 1;
    }
    key
}

static PACKED: [u128; KEYWORDS.len()] = {
    let mut keys = [0u128; KEYWORDS.len()];
    let mut i = 0;
    while i < KEYWORDS.len() {
        keys[i] = pack(KEYWORDS[i].0.as_bytes());
        i += 1;
    }
    keys
};

const TABLE_BITS: u32 = 10;
const EMPTY: u8 = u8::MAX;

const fn slot(key: u128, multiplier: u64) -> usize {
    let mixed = ((key >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (key as u64);
    (mixed.wrapping_mul(multiplier) >> (64 - TABLE_BITS)) as usize
}

/// A collision-free hash table over the packed keywords, its multiplier found
/// at compile time: a lookup is one multiply and one compare.
static HASHED: ([u8; 1 << TABLE_BITS], u64) = {
    let mut multiplier = 0x2545_F491_4F6C_DD1Du64;
    loop {
        let mut table = [EMPTY; 1 << TABLE_BITS];
        let mut i = 0;
        let mut ok = true;
        while i < PACKED.len() {
            let s = slot(PACKED[i], multiplier);
            if table[s] != EMPTY {
                ok = false;
                break;
            }
            table[s] = i as u8;
            i += 1;
        }
        if ok {
            break (table, multiplier);
        }
        multiplier = multiplier.wrapping_add(0x9E37_79B9_7F4A_7C16);
    }
};

const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// Upper-cases the ASCII letters of 8 packed bytes at once; `None` when a byte
/// is not ASCII (no keyword has one). Bytes below 0x80 never carry into the next.
fn upcase8(word: u64) -> Option<u64> {
    if word & HIGH_BITS != 0 {
        return None;
    }
    let at_least_a = word.wrapping_add(ONES * (0x80 - u64::from(b'a')));
    let past_z = word.wrapping_add(ONES * (0x80 - u64::from(b'z') - 1));
    Some(word ^ ((at_least_a & !past_z & HIGH_BITS) >> 2))
}

/// The first `len` (1..=8) bytes of `chunk`, big-endian, zero-padded.
fn prefix8(chunk: &[u8], len: usize) -> Option<u64> {
    let bytes: [u8; 8] = chunk.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes) & (u64::MAX << (8 * (8 - len))))
}

/// Looks up the word at `src[start..end]`. When the bytes can be read in whole
/// 8-byte words, the word is packed with a load, a mask and a SWAR upper-case
/// instead of a byte loop: this runs for every bare word of every query.
pub(crate) fn lookup_in(src: &[u8], start: usize, end: usize) -> Option<Kw> {
    let len = end.saturating_sub(start);
    if !(2..=MAX_LEN).contains(&len) {
        return None;
    }
    let rest = &src[start..];
    let packed = if len <= 8 {
        prefix8(rest, len).map(|hi| (hi, 0))
    } else {
        prefix8(rest, 8).zip(prefix8(&rest[8..], len - 8))
    };
    let Some((hi, lo)) = packed else {
        return lookup(&src[start..end]); // too close to the end of the input
    };
    let key = (u128::from(upcase8(hi)?) << 64) | u128::from(upcase8(lo)?);
    find(key)
}

fn find(key: u128) -> Option<Kw> {
    let (table, multiplier) = &HASHED;
    let index = table[slot(key, *multiplier)];
    if index != EMPTY && PACKED[usize::from(index)] == key {
        Some(Kw(index))
    } else {
        None
    }
}

/// Looks `word` up case-insensitively; returns its upper-case spelling and class.
pub(crate) fn lookup(word: &[u8]) -> Option<Kw> {
    if word.len() > MAX_LEN || word.len() < 2 {
        return None;
    }
    // The const `pack` is slow at run time; a copy and a 16-byte SIMD upper-case are not.
    let mut buf = [0u8; MAX_LEN];
    for (dst, src) in buf.iter_mut().zip(word) {
        *dst = *src;
    }
    buf.make_ascii_uppercase();
    find(u128::from_be_bytes(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_bounded() {
        assert!(
            KEYWORDS.windows(2).all(|w| w[0].0 < w[1].0),
            "KEYWORDS must stay sorted"
        );
        assert!(KEYWORDS.len() < EMPTY as usize);
        assert!(KEYWORDS
            .iter()
            .all(|(k, _)| k.len() <= MAX_LEN && k.len() >= 2));
    }

    #[test]
    fn lookup_is_case_insensitive() {
        let found = |w: &[u8]| lookup(w).map(|k| (k.name(), k.class()));
        assert_eq!(found(b"select"), Some(("SELECT", Keyword::Clause)));
        assert_eq!(found(b"Count"), Some(("COUNT", Keyword::Function)));
        assert_eq!(lookup(b"users"), None);
        assert_eq!(lookup(b"selects"), None);
        assert_eq!(lookup(b"sel"), None);
        for (name, class) in KEYWORDS {
            assert_eq!(
                found(name.to_ascii_lowercase().as_bytes()),
                Some((*name, *class))
            );
        }
        let specials = [
            Kw::IN,
            Kw::ARRAY,
            Kw::FIELD,
            Kw::IS,
            Kw::NOT,
            Kw::NULL,
            Kw::TRUE,
            Kw::FALSE,
            Kw::VALUES,
        ];
        for special in specials.into_iter().chain(Kw::ENDS_OPERAND) {
            assert_ne!(
                special.0, EMPTY,
                "a special keyword is missing from the table"
            );
            assert_eq!(lookup(special.name().as_bytes()), Some(special));
        }
    }

    #[test]
    fn the_packed_fast_path_agrees_with_the_byte_loop() {
        let padding = " x".repeat(20);
        let mut words: Vec<String> = KEYWORDS.iter().map(|(k, _)| k.to_string()).collect();
        words.extend(
            [
                "users",
                "Select",
                "sElEcT",
                "in_",
                "IN1",
                "zz",
                "@x",
                "`a`",
                "ÉTÉ",
                "a{",
                "a[",
                "current_date_x",
            ]
            .map(String::from),
        );
        for word in words {
            for form in [word.clone(), word.to_ascii_lowercase()] {
                // Far from the end (the fast path) and at the very end (the byte loop).
                let padded = format!("{form}{padding}");
                assert_eq!(
                    lookup_in(padded.as_bytes(), 0, form.len()),
                    lookup(form.as_bytes()),
                    "{form}"
                );
                assert_eq!(
                    lookup_in(form.as_bytes(), 0, form.len()),
                    lookup(form.as_bytes()),
                    "{form}"
                );
            }
        }
    }
}
