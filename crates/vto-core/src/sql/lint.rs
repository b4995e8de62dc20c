//! Problems visible in a statement's shape alone, before any database is asked.

use super::shape::{Bound, Clause, Lint, PredicateOp, Shape, StatementKind};

/// An OFFSET at least this large makes the database read and discard that many rows.
pub const LARGE_OFFSET: u64 = 1000;

fn column_name(table: Option<&str>, column: &str) -> String {
    match table {
        Some(t) => format!("{t}.{column}"),
        None => column.to_owned(),
    }
}

/// The lints of `shape`, in a stable order.
pub(crate) fn lints(shape: &Shape) -> Vec<Lint> {
    let mut out = Vec::new();
    for p in &shape.predicates {
        let col = column_name(p.table.as_deref(), &p.column);
        match p.op {
            PredicateOp::LikeContains => out.push(Lint {
                code: "leading_wildcard_like",
                message: format!(
                    "{col} is matched with a LIKE pattern that starts with a wildcard"
                ),
                why: "a btree index cannot serve a pattern with a leading wildcard, so every row \
                      is scanned; use a trigram (pg_trgm GIN) index or full-text search",
            }),
            PredicateOp::FunctionWrapped => out.push(Lint {
                code: "function_wrapped_predicate",
                message: format!("{col} is filtered inside a function or operator"),
                why: "an index on the bare column cannot serve it; index the expression itself \
                      (e.g. an index on LOWER(email)) or store the value already transformed",
            }),
            _ => {}
        }
    }
    if let Some(Bound::Literal(n)) = shape.offset {
        if n >= LARGE_OFFSET {
            out.push(Lint {
                code: "large_offset",
                message: format!("OFFSET {n}"),
                why: "the database reads and throws away every skipped row, so each later page is \
                      slower; paginate by key (WHERE id > last_seen_id ORDER BY id LIMIT n)",
            });
        }
    }
    for item in &shape.order_by {
        let random = item.expression.as_deref().is_some_and(|e| {
            let upper = e.to_ascii_uppercase();
            upper.starts_with("RANDOM(") || upper.starts_with("RAND(")
        });
        if random {
            out.push(Lint {
                code: "order_by_random",
                message: "ORDER BY RANDOM()".to_owned(),
                why: "every matching row is read and sorted to return a few; pick random ids in \
                      the application or sample with TABLESAMPLE",
            });
        }
    }
    if shape.not_in_subquery {
        out.push(Lint {
            code: "not_in_subquery",
            message: "NOT IN (SELECT ...)".to_owned(),
            why: "one NULL in the subquery makes the whole condition unknown (no rows), and the \
                  planner often cannot use an anti-join; use NOT EXISTS or a LEFT JOIN ... IS NULL",
        });
    }
    let filtered = shape.predicates.iter().any(|p| p.clause == Clause::Where);
    if shape.kind == StatementKind::Select
        && shape.select_star
        && shape.limit.is_none()
        && !filtered
    {
        let table = shape
            .tables
            .first()
            .map_or("the table", |t| t.name.as_str());
        out.push(Lint {
            code: "select_star_unbounded",
            message: format!("SELECT * from {table} with no WHERE and no LIMIT"),
            why: "every row and every column is loaded into memory, and the cost grows with the \
                  table; select the columns needed and batch (find_each) or paginate",
        });
    }
    if shape.or_across_columns {
        out.push(Lint {
            code: "or_across_columns",
            message: "OR across different columns".to_owned(),
            why: "one index cannot serve both branches, so the planner may fall back to a scan; \
                  split into a UNION of two indexed queries or add an index per column",
        });
    }
    out
}
