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

use Keyword::{Clause as C, Function as F};

/// Sorted by name for binary search.
static KEYWORDS: &[(&str, Keyword)] = &[
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
    ("CURRENT_TIMESTAMP", F),
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

/// The longest keyword, so longer words skip the lookup.
const MAX_LEN: usize = 17;

/// Looks `word` up case-insensitively; returns its upper-case spelling and class.
pub(crate) fn lookup(word: &[u8]) -> Option<(&'static str, Keyword)> {
    if word.len() > MAX_LEN || word.len() < 2 {
        return None;
    }
    let mut buf = [0u8; MAX_LEN];
    let upper = &mut buf[..word.len()];
    upper.copy_from_slice(word);
    upper.make_ascii_uppercase();
    KEYWORDS
        .binary_search_by(|(name, _)| name.as_bytes().cmp(upper))
        .ok()
        .map(|i| KEYWORDS[i])
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
        assert!(KEYWORDS
            .iter()
            .all(|(k, _)| k.len() <= MAX_LEN && k.len() >= 2));
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(lookup(b"select"), Some(("SELECT", Keyword::Clause)));
        assert_eq!(lookup(b"Count"), Some(("COUNT", Keyword::Function)));
        assert_eq!(lookup(b"users"), None);
    }
}
