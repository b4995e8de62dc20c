//! What a statement does, from its leading keyword: enough to tell a read from
//! a write or from transaction control without parsing.

use serde::Serialize;

use super::token::{TokenKind, Tokenizer};
use crate::Dialect;

/// The broad class of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementClass {
    /// SELECT, WITH, VALUES, TABLE, SHOW.
    Read,
    /// INSERT, UPDATE, DELETE, REPLACE, MERGE, UPSERT.
    Write,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, START TRANSACTION, END.
    Transaction,
    /// EXPLAIN, DESCRIBE.
    Explain,
    /// DDL and settings: CREATE, ALTER, DROP, TRUNCATE, PRAGMA, SET, ...
    Schema,
    /// Anything else, or no keyword at all.
    Other,
}

impl StatementClass {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementClass::Read => "read",
            StatementClass::Write => "write",
            StatementClass::Transaction => "transaction",
            StatementClass::Explain => "explain",
            StatementClass::Schema => "schema",
            StatementClass::Other => "other",
        }
    }
}

/// Classifies `sql` by its first keyword, skipping comments and opening
/// parentheses. Reads only the first few tokens.
///
/// ```
/// use vto_core::sql::{classify, StatementClass};
/// use vto_core::Dialect;
///
/// let sql = b"/* app:web */ (SELECT 1) UNION (SELECT 2)";
/// assert_eq!(classify(sql, Dialect::Postgres), StatementClass::Read);
/// assert_eq!(classify(b"RELEASE SAVEPOINT active_record_1", Dialect::Postgres), StatementClass::Transaction);
/// ```
pub fn classify(sql: &[u8], dialect: Dialect) -> StatementClass {
    let word = Tokenizer::new(sql, dialect)
        .take(32)
        .find(|t| !matches!(t.kind, TokenKind::Comment | TokenKind::LParen))
        .filter(|t| t.kind == TokenKind::Word)
        .and_then(|t| sql.get(t.start..t.end));
    let Some(word) = word else {
        return StatementClass::Other;
    };
    let mut upper = [0u8; 12];
    if word.len() > upper.len() {
        return StatementClass::Other;
    }
    for (dst, src) in upper.iter_mut().zip(word) {
        *dst = src.to_ascii_uppercase();
    }
    match &upper[..word.len()] {
        b"SELECT" | b"WITH" | b"VALUES" | b"TABLE" | b"SHOW" => StatementClass::Read,
        b"INSERT" | b"UPDATE" | b"DELETE" | b"REPLACE" | b"MERGE" | b"UPSERT" => {
            StatementClass::Write
        }
        b"BEGIN" | b"COMMIT" | b"ROLLBACK" | b"SAVEPOINT" | b"RELEASE" | b"START" | b"END"
        | b"ABORT" => StatementClass::Transaction,
        b"EXPLAIN" | b"DESCRIBE" | b"DESC" => StatementClass::Explain,
        b"CREATE" | b"ALTER" | b"DROP" | b"TRUNCATE" | b"PRAGMA" | b"SET" | b"RESET"
        | b"COMMENT" | b"GRANT" | b"REVOKE" | b"VACUUM" | b"ANALYZE" | b"REINDEX" | b"CLUSTER"
        | b"LOCK" | b"UNLOCK" => StatementClass::Schema,
        _ => StatementClass::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let cases: &[(&str, StatementClass)] = &[
            ("select 1", StatementClass::Read),
            (
                "  -- c\n WITH x AS (SELECT 1) SELECT * FROM x",
                StatementClass::Read,
            ),
            ("INSERT INTO t VALUES (1)", StatementClass::Write),
            ("update t set a = 1", StatementClass::Write),
            ("DELETE FROM t", StatementClass::Write),
            ("BEGIN", StatementClass::Transaction),
            ("SAVEPOINT active_record_1", StatementClass::Transaction),
            ("EXPLAIN SELECT 1", StatementClass::Explain),
            ("PRAGMA table_info(t)", StatementClass::Schema),
            ("CREATE INDEX i ON t (a)", StatementClass::Schema),
            ("", StatementClass::Other),
            ("'x'", StatementClass::Other),
            ("supercalifragilistic", StatementClass::Other),
        ];
        for (sql, want) in cases {
            assert_eq!(classify(sql.as_bytes(), Dialect::Postgres), *want, "{sql}");
        }
    }
}
