//! Column names in the expressions PostgreSQL prints in a plan (`Filter`,
//! `Index Cond`, `Hash Cond`, `Sort Key`, ...), read with the core's
//! tokenizer: identifiers only, never a literal.
//!
//! A word is a column unless it is a keyword, a function name (followed by
//! `(`), a type (after `::`, including multi-word types such as `timestamp
//! without time zone`), a collation, or a field of a non-name (`(x).f`).
//! `alias.column` keeps its qualifier, so the caller can tell a scan's own
//! columns from the outer side's in a join condition.

use crate::sql::token::{Token, TokenKind, Tokenizer};
use crate::Dialect;

/// One column reference: `name`, or `qualifier.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnRef {
    pub qualifier: Option<String>,
    pub name: String,
}

impl ColumnRef {
    /// `qualifier.name` or `name`.
    pub fn qualified(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{q}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Words that are never column names in PostgreSQL's deparsed expressions.
const KEYWORDS: &[&str] = &[
    "all",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "at",
    "between",
    "case",
    "collate",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "desc",
    "distinct",
    "else",
    "end",
    "escape",
    "exists",
    "false",
    "first",
    "from",
    "hashed",
    "ilike",
    "in",
    "initplan",
    "is",
    "isnull",
    "last",
    "like",
    "localtime",
    "localtimestamp",
    "not",
    "notnull",
    "null",
    "nulls",
    "operator",
    "or",
    "overlaps",
    "returns",
    "row",
    "session_user",
    "similar",
    "some",
    "subplan",
    "symmetric",
    "then",
    "time",
    "to",
    "true",
    "unknown",
    "using",
    "when",
    "zone",
];

/// Words that continue a type name after `::` (`timestamp without time zone`,
/// `character varying`, `double precision`).
const TYPE_CONTINUATIONS: &[&str] = &["precision", "time", "varying", "with", "without", "zone"];

fn is_one_of(word: &str, list: &[&str]) -> bool {
    list.iter().any(|k| k.eq_ignore_ascii_case(word))
}

fn is_name(kind: TokenKind) -> bool {
    matches!(kind, TokenKind::Word | TokenKind::QuotedIdent)
}

/// The column references of `expr`, first occurrence first, without repeats.
pub(crate) fn column_refs(expr: &str) -> Vec<ColumnRef> {
    let tokens: Vec<Token> = Tokenizer::new(expr.as_bytes(), Dialect::Postgres)
        .filter(|t| t.kind != TokenKind::Comment)
        .collect();
    let text = |t: Option<&Token>| t.and_then(|t| expr.get(t.start..t.end)).unwrap_or("");
    let kind = |i: usize| tokens.get(i).map(|t| t.kind);

    let mut out: Vec<ColumnRef> = Vec::new();
    let mut push = |r: ColumnRef| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    let mut in_type = false;
    let mut i = 0usize;
    while let Some(token) = tokens.get(i) {
        let at = i;
        i += 1;
        if !is_name(token.kind) {
            in_type = false;
            continue;
        }
        let word = text(Some(token));
        let prev = at.checked_sub(1).and_then(|p| tokens.get(p));
        let prev_text = text(prev);
        if prev.is_some_and(|p| p.kind == TokenKind::Operator) && prev_text == "::" {
            in_type = true;
            continue;
        }
        if in_type && is_one_of(word, TYPE_CONTINUATIONS) {
            continue;
        }
        in_type = false;
        // A field of something that is not a name: `(InitPlan 1).col1`, `(rec).f`.
        if prev.is_some_and(|p| p.kind == TokenKind::Dot)
            && !at
                .checked_sub(2)
                .is_some_and(|b| kind(b).is_some_and(is_name))
        {
            continue;
        }
        // A collation name.
        if prev.is_some_and(|p| is_name(p.kind)) && prev_text.eq_ignore_ascii_case("collate") {
            continue;
        }
        match kind(at + 1) {
            // A function call, or a keyword such as ANY (...).
            Some(TokenKind::LParen) => continue,
            Some(TokenKind::Dot) => {
                let name = tokens.get(at + 2);
                if !name.is_some_and(|t| is_name(t.kind)) {
                    // `x.*` or an operator name: nothing to keep.
                    i = at + 2;
                    continue;
                }
                match kind(at + 3) {
                    // schema.table.column: continue from the table.
                    Some(TokenKind::Dot) => i = at + 2,
                    // schema.function(...): not a column.
                    Some(TokenKind::LParen) => i = at + 3,
                    _ => {
                        push(ColumnRef {
                            qualifier: Some(word.to_owned()),
                            name: text(name).to_owned(),
                        });
                        i = at + 3;
                    }
                }
                continue;
            }
            _ => {}
        }
        if token.kind == TokenKind::Word && is_one_of(word, KEYWORDS) {
            continue;
        }
        push(ColumnRef {
            qualifier: None,
            name: word.to_owned(),
        });
    }
    out
}

/// The columns of `exprs` that belong to a scan of `relation` as `alias`:
/// unqualified ones, and those qualified by the alias or the relation name.
pub(crate) fn own_columns<'a>(
    exprs: impl IntoIterator<Item = &'a str>,
    relation: Option<&str>,
    alias: Option<&str>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for expr in exprs {
        for r in column_refs(expr) {
            let own = match r.qualifier.as_deref() {
                None => true,
                Some(q) => Some(q) == alias || Some(q) == relation,
            };
            if own && !out.contains(&r.name) {
                out.push(r.name);
            }
        }
    }
    out
}

/// Every column of `exprs`, qualified as written.
pub(crate) fn all_columns<'a>(exprs: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for expr in exprs {
        for r in column_refs(expr) {
            let name = r.qualified();
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        all_columns([expr])
    }

    #[test]
    fn literals_types_and_keywords_are_not_columns() {
        assert_eq!(
            names("((duration = 37) AND (status = 'done'::text))"),
            ["duration", "status"]
        );
        assert_eq!(
            names("((completed_at >= '2024-01-01 00:00:00'::timestamp without time zone) AND (kind)::text = ANY ('{a,b}'::character varying[]))"),
            ["completed_at", "kind"]
        );
        assert_eq!(
            names("((lower((email)::text) ~~ 'a%'::text) OR (deleted_at IS NOT NULL))"),
            ["email", "deleted_at"]
        );
        assert_eq!(names("(NOT (hashed SubPlan 1))"), Vec::<String>::new());
        assert_eq!(names("(id = (InitPlan 1).col1)"), ["id"]);
        assert_eq!(names("(\"Name\" = $1 COLLATE \"C\")"), ["\"Name\""]);
    }

    #[test]
    fn qualified_columns_keep_their_qualifier() {
        assert_eq!(
            names("((cw.user_id = u.id) AND (cw.team_id = u.team_id))"),
            ["cw.user_id", "u.id", "cw.team_id", "u.team_id"]
        );
        assert_eq!(
            own_columns(["(workout_id = w.id)"], Some("exercises"), Some("e")),
            ["workout_id"]
        );
        assert_eq!(
            own_columns(["(e.workout_id = w.id)"], Some("exercises"), Some("e")),
            ["workout_id"]
        );
        assert_eq!(
            names("(public.users.id = pg_catalog.abs(x))"),
            ["users.id", "x"]
        );
    }

    #[test]
    fn sort_keys() {
        assert_eq!(
            all_columns(["calories DESC NULLS LAST", "id", "lower(name)"]),
            ["calories", "id", "name"]
        );
    }
}
