//! `analyze`: parse once per distinct fingerprint, extract the shape, lint it.

use std::sync::Arc;

use sqlparser::dialect::{
    Dialect as ParserDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect,
};
use sqlparser::parser::Parser;

use super::cache::{BoundedCache, CacheStats};
use super::shape::{Bound, Shape};
use super::token::{TokenKind, Tokenizer};
use super::{ast, lint, Fingerprint, Normalizer, DEFAULT_MAX_INPUT_BYTES};
use crate::{Dialect, Error};

/// Default cap on parenthesis nesting: Rails never nests this deep, and the
/// parser's recursion on deeper input could exhaust a small thread stack.
pub const DEFAULT_MAX_NESTING_DEPTH: usize = 32;
/// Default cap on operators and AND/OR terms. A chain of them is a tree as deep
/// as it is long, and walking it recurses: 500 keeps the walk within a Ruby
/// fiber's stack (a fiber overflowed at about 1,200 on x86-64).
pub const DEFAULT_MAX_TERMS: usize = 500;
/// Default number of shapes the cache holds.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// Limits that `analyze` enforces before the parser sees the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Larger input fails with [`Error::InputTooLarge`].
    pub max_input_bytes: usize,
    /// Deeper parenthesis nesting fails with [`Error::TooComplex`].
    pub max_nesting_depth: usize,
    /// More operators and AND/OR terms fail with [`Error::TooComplex`].
    pub max_terms: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            max_nesting_depth: DEFAULT_MAX_NESTING_DEPTH,
            max_terms: DEFAULT_MAX_TERMS,
        }
    }
}

type CachedShape = Result<Arc<Shape>, Error>;

/// Analyzes statements, caching the result per (dialect, fingerprint).
///
/// ```
/// use vto_core::sql::Analyzer;
/// use vto_core::Dialect;
///
/// let analyzer = Analyzer::new(1000);
/// let shape = analyzer
///     .analyze(b"SELECT * FROM users WHERE LOWER(email) = 'a@b.c'", Dialect::Postgres, Default::default())
///     .unwrap();
/// assert_eq!(shape.predicates[0].op.as_str(), "function_wrapped");
/// assert_eq!(shape.lints[0].code, "function_wrapped_predicate");
/// ```
pub struct Analyzer {
    cache: BoundedCache<(Dialect, Fingerprint), CachedShape>,
}

impl Analyzer {
    /// An analyzer whose cache holds up to `capacity` shapes.
    pub fn new(capacity: usize) -> Self {
        Analyzer {
            cache: BoundedCache::new(capacity),
        }
    }

    /// The shape of `sql`, from the cache when a statement with the same
    /// fingerprint was analyzed before (a hit costs one fingerprint, no parse).
    /// Parse errors are cached too, so bad SQL is not parsed again and again.
    pub fn analyze(
        &self,
        sql: &[u8],
        dialect: Dialect,
        limits: Limits,
    ) -> Result<Arc<Shape>, Error> {
        // Before the lookup: a fingerprint reads only the capped prefix, which
        // could match a cached shape.
        if sql.len() > limits.max_input_bytes {
            return Err(Error::InputTooLarge {
                size: sql.len(),
                limit: limits.max_input_bytes,
            });
        }
        let fingerprint = Normalizer::new(dialect)
            .max_input_bytes(limits.max_input_bytes)
            .fingerprint(sql);
        let shape = self.cache.get_or_insert_with((dialect, fingerprint), || {
            match analyze_statement(sql, dialect, limits) {
                Ok((shape, literal_dependent)) => (Ok(Arc::new(shape)), !literal_dependent),
                // Limits can change between calls: only parse errors are for good.
                Err(e) => {
                    let cacheable = matches!(e, Error::Parse { .. });
                    (Err(e), cacheable)
                }
            }
        })?;
        Ok(with_own_bounds(shape, sql, dialect))
    }

    /// Hits, misses and size of the cache.
    pub fn stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Empties the cache and resets its counters.
    pub fn clear(&self) {
        self.cache.clear();
    }
}

/// Statements that share a fingerprint differ only in literals and binds, so a
/// cached shape is right for all of them except LIMIT / OFFSET values: read
/// those from this statement's tokens, and re-lint when they differ.
fn with_own_bounds(shape: Arc<Shape>, sql: &[u8], dialect: Dialect) -> Arc<Shape> {
    if shape.limit.is_none() && shape.offset.is_none() {
        return shape;
    }
    let (limit, offset) = literal_bounds(sql, dialect);
    // Where the token scan cannot tell (an expression), keep the parser's answer.
    let pick = |cached: Option<Bound>, own: Option<Option<Bound>>| own.unwrap_or(cached);
    let (limit, offset) = (pick(shape.limit, limit), pick(shape.offset, offset));
    if (limit, offset) == (shape.limit, shape.offset) {
        return shape;
    }
    let mut own = (*shape).clone();
    own.limit = limit;
    own.offset = offset;
    own.lints = lint::lints(&own);
    Arc::new(own)
}

/// The LIMIT and OFFSET of the outermost query, read from tokens (`LIMIT n`,
/// `OFFSET $1`, MySQL's `LIMIT offset, n`, `FETCH FIRST n`): `Some(None)` for
/// "no limit" (`NULL`, `ALL`, a negative number), `None` where tokens cannot tell.
fn literal_bounds(sql: &[u8], dialect: Dialect) -> (Option<Option<Bound>>, Option<Option<Bound>>) {
    let tokens: Vec<_> = Tokenizer::new(sql, dialect)
        .filter(|t| t.kind != TokenKind::Comment)
        .collect();
    let text = |i: usize| tokens.get(i).map(|t| &sql[t.start..t.end]);
    let value = |i: usize| -> Option<Option<Bound>> {
        let t = tokens.get(i)?;
        let next_is_value = tokens
            .get(i + 1)
            .is_none_or(|n| !matches!(n.kind, TokenKind::Operator | TokenKind::LParen));
        match t.kind {
            TokenKind::Number if next_is_value => std::str::from_utf8(&sql[t.start..t.end])
                .ok()?
                .parse()
                .ok()
                .map(|n| Some(Bound::Literal(n))),
            TokenKind::Placeholder if next_is_value => Some(Some(Bound::Bind)),
            TokenKind::Operator
                if text(i) == Some(b"-")
                    && tokens
                        .get(i + 1)
                        .is_some_and(|n| n.kind == TokenKind::Number) =>
            {
                Some(None)
            }
            TokenKind::Word
                if text(i).is_some_and(|w| {
                    w.eq_ignore_ascii_case(b"null") || w.eq_ignore_ascii_case(b"all")
                }) =>
            {
                Some(None)
            }
            _ => None,
        }
    };
    let (mut depth, mut limit, mut offset) = (0usize, None, None);
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            TokenKind::LParen | TokenKind::LBracket => depth += 1,
            TokenKind::RParen | TokenKind::RBracket => depth = depth.saturating_sub(1),
            // The shape is the first statement's.
            TokenKind::Semicolon if depth == 0 => break,
            TokenKind::Word if depth == 0 => {
                let word = &sql[t.start..t.end];
                if word.eq_ignore_ascii_case(b"limit") {
                    let comma = tokens
                        .get(i + 2)
                        .is_some_and(|c| c.kind == TokenKind::Comma);
                    if comma {
                        offset = value(i + 1);
                        limit = value(i + 3);
                    } else {
                        limit = value(i + 1);
                    }
                } else if word.eq_ignore_ascii_case(b"offset") {
                    offset = value(i + 1);
                } else if word.eq_ignore_ascii_case(b"fetch") {
                    limit = value(i + 2);
                }
            }
            _ => {}
        }
    }
    (limit, offset)
}

fn check_complexity(sql: &[u8], dialect: Dialect, limits: Limits) -> Result<(), Error> {
    let (mut depth, mut max_depth, mut terms) = (0usize, 0usize, 0usize);
    for tok in Tokenizer::new(sql, dialect) {
        match tok.kind {
            TokenKind::LParen | TokenKind::LBracket => {
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            TokenKind::RParen | TokenKind::RBracket => depth = depth.saturating_sub(1),
            TokenKind::Operator => terms += 1,
            TokenKind::Word => {
                let w = &sql[tok.start..tok.end];
                if w.eq_ignore_ascii_case(b"and") || w.eq_ignore_ascii_case(b"or") {
                    terms += 1;
                }
            }
            _ => {}
        }
        if max_depth > limits.max_nesting_depth {
            return Err(Error::TooComplex {
                message: format!(
                    "parentheses nest deeper than the limit of {}",
                    limits.max_nesting_depth
                ),
            });
        }
        if terms > limits.max_terms {
            return Err(Error::TooComplex {
                message: format!("more than {} operators and AND/OR terms", limits.max_terms),
            });
        }
    }
    Ok(())
}

/// The parser quotes the token it stopped at ("found: 'hunter2' at Line: 1"):
/// normalize that token, so a literal value becomes `?` and never leaves the core.
pub(crate) fn redact_parser_message(message: &str, dialect: Dialect) -> String {
    const FOUND: &str = "found: ";
    let Some(at) = message.find(FOUND) else {
        return message.to_owned();
    };
    let token_start = at + FOUND.len();
    let token_end = message[token_start..]
        .rfind(" at Line: ")
        .map_or(message.len(), |end| token_start + end);
    format!(
        "{}{}{}",
        &message[..token_start],
        super::normalize(&message.as_bytes()[token_start..token_end], dialect),
        &message[token_end..]
    )
}

/// Parses and analyzes `sql` without any cache. The first statement is analyzed.
pub fn analyze_uncached(sql: &[u8], dialect: Dialect, limits: Limits) -> Result<Shape, Error> {
    analyze_statement(sql, dialect, limits).map(|(shape, _)| shape)
}

/// The shape, and whether it depends on a literal the fingerprint erases.
fn analyze_statement(sql: &[u8], dialect: Dialect, limits: Limits) -> Result<(Shape, bool), Error> {
    if sql.len() > limits.max_input_bytes {
        return Err(Error::InputTooLarge {
            size: sql.len(),
            limit: limits.max_input_bytes,
        });
    }
    check_complexity(sql, dialect, limits)?;
    let text = std::str::from_utf8(sql).map_err(|e| Error::Parse {
        message: format!("SQL is not valid UTF-8 ({e})"),
    })?;
    let parser_dialect: &dyn ParserDialect = match dialect {
        Dialect::Postgres => &PostgreSqlDialect {},
        Dialect::Mysql => &MySqlDialect {},
        Dialect::Sqlite => &SQLiteDialect {},
    };
    let statements = Parser::new(parser_dialect)
        .with_recursion_limit(limits.max_nesting_depth.saturating_mul(4).max(16))
        .try_with_sql(text)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| Error::Parse {
            message: redact_parser_message(&e.to_string(), dialect),
        })?;
    let first = statements.first().ok_or_else(|| Error::Parse {
        message: "no SQL statement found".to_owned(),
    })?;
    let (mut shape, literal_dependent) = ast::shape_of(first, dialect);
    shape.lints = lint::lints(&shape);
    Ok((shape, literal_dependent))
}
