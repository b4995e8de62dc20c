//! Canonical form of a SQL statement, built in one pass over the tokens.
//!
//! Rules, in the order a reader meets them:
//! - every literal (string, number, boolean, `NULL` outside `IS [NOT] NULL`) and
//!   every bind (`$1`, `?`, `:name`) becomes `?`; a sign before a number is part of it;
//! - `IN (...)`, `ARRAY[...]` and MySQL `FIELD(col, ...)` lists made only of
//!   literals collapse to one `?`;
//! - rows after the first of a multi-row `VALUES` are dropped;
//! - comments are removed, keywords are upper-cased, identifiers are kept as written;
//! - tokens are separated by one space, except after `(`, `[`, `.`, `::`, before
//!   `)`, `]`, `,`, `.`, `;`, `::`, and between a function or table name and its `(`.

use super::keywords::{self, Keyword, Kw};
use super::token::{TokenKind, Tokenizer};
use crate::Dialect;

/// What the previously emitted token was, for spacing and context rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    Start,
    Open,
    Dot,
    Cast,
    /// A literal, quoted identifier or closing bracket.
    Value,
    /// An identifier or function-like keyword: `(` follows without a space.
    Name,
    Clause,
    Operator,
    Comma,
    Other,
}

/// An `IN (`, `ARRAY[` or MySQL `FIELD(col,` list that collapses to `?` when it
/// holds only literals.
struct ListFrame {
    depth: usize,
    /// Output offset where the collapsible items begin; `None` until the first
    /// comma for `FIELD(col, ...)`, whose first argument is not part of the list.
    start: Option<usize>,
    literal_only: bool,
    has_items: bool,
    /// Output offset of a comma that follows literal items only: if a literal
    /// comes next, the comma and the literal are dropped at once, so a list
    /// past the input cap is still `?` and the output stays small.
    pending_comma: Option<usize>,
}

/// A `VALUES` clause: rows after the first are dropped.
struct ValuesClause {
    depth: usize,
    first_row_end: Option<usize>,
}

/// Buffers `normalize_into` reuses across calls, so the hot path allocates nothing.
#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) out: Vec<u8>,
    lists: Vec<ListFrame>,
}

impl Scratch {
    /// Drops buffers that one huge statement grew, so a thread keeps little.
    pub(crate) fn shrink(&mut self) {
        if self.out.capacity() > 64 * 1024 || self.lists.capacity() > 1024 {
            *self = Scratch::default();
        }
    }
}

struct Writer<'o> {
    out: &'o mut Vec<u8>,
    prev: Prev,
    prev_keyword: Option<Kw>,
    after_is: bool,
    depth: usize,
    lists: &'o mut Vec<ListFrame>,
    values: Option<ValuesClause>,
}

impl Writer<'_> {
    fn emit(&mut self, bytes: &[u8], kind: TokenKind, class: Prev) {
        use TokenKind::*;
        let space = match (self.prev, kind) {
            (Prev::Start, _) => false,
            (_, RParen | RBracket | Comma | Dot | Semicolon) => false,
            (Prev::Open | Prev::Dot | Prev::Cast, _) => false,
            (_, Operator) if bytes == b"::" => false,
            (Prev::Name, LParen) => false,
            (_, LBracket) => false,
            _ => true,
        };
        if space {
            self.out.push(b' ');
        }
        self.out.extend_from_slice(bytes);
        self.prev = class;
        // Keyword context lasts one token; `word` sets it again after a keyword.
        self.after_is = false;
        self.prev_keyword = None;
    }

    /// Tracks list collapsing and VALUES rows for a token about to be emitted at the
    /// current depth (before any depth change it causes).
    fn observe(&mut self, kind: TokenKind, is_literal: bool) {
        let out_len = self.out.len();
        if let Some(top) = self.lists.last_mut() {
            if self.depth == top.depth + 1 && top.start.is_none() {
                if kind == TokenKind::Comma {
                    top.start = Some(out_len + 1);
                }
            } else if self.depth == top.depth + 1 {
                if is_literal {
                    top.has_items = true;
                } else if kind == TokenKind::Comma {
                    if top.literal_only && top.has_items {
                        top.pending_comma = Some(out_len);
                    }
                } else {
                    top.literal_only = false;
                    top.pending_comma = None;
                }
            }
        }
        if let Some(values) = &self.values {
            if self.depth == values.depth {
                let continues = match kind {
                    TokenKind::LParen => true,
                    TokenKind::Comma => values.first_row_end.is_some(),
                    _ => false,
                };
                if !continues {
                    self.values = None;
                }
            }
        }
    }

    fn literal(&mut self) {
        let depth = self.depth;
        if let Some(top) = self.lists.last_mut() {
            if depth == top.depth + 1 && top.literal_only {
                if let Some(at) = top.pending_comma.take() {
                    // `?, ?` collapses as it arrives: drop the comma, skip the literal.
                    // The comma reset the keyword context already.
                    self.out.truncate(at);
                    self.prev = Prev::Value;
                    return;
                }
            }
        }
        self.observe(TokenKind::String, true);
        self.emit(b"?", TokenKind::String, Prev::Value);
    }

    fn open(&mut self, bytes: &[u8], kind: TokenKind) {
        self.observe(kind, false);
        let list = match (kind, self.prev_keyword) {
            (TokenKind::LParen, Some(Kw::IN)) | (TokenKind::LBracket, Some(Kw::ARRAY)) => {
                Some(true)
            }
            (TokenKind::LParen, Some(Kw::FIELD)) => Some(false),
            _ => None,
        };
        self.emit(bytes, kind, Prev::Open);
        if let Some(from_open) = list {
            self.lists.push(ListFrame {
                depth: self.depth,
                start: from_open.then_some(self.out.len()),
                literal_only: true,
                has_items: false,
                pending_comma: None,
            });
        }
        self.depth += 1;
    }

    fn close(&mut self, bytes: &[u8], kind: TokenKind) {
        self.depth = self.depth.saturating_sub(1);
        if self.lists.last().is_some_and(|f| f.depth >= self.depth) {
            if let Some(frame) = self.lists.pop() {
                if let Some(start) = frame.start {
                    if frame.literal_only && frame.has_items && frame.depth == self.depth {
                        self.out.truncate(start);
                        if self.out.last() == Some(&b',') {
                            self.out.push(b' ');
                        }
                        self.out.push(b'?');
                    }
                }
            }
        }
        if let Some(values) = &self.values {
            if self.depth < values.depth {
                self.values = None;
            }
        }
        self.emit(bytes, kind, Prev::Value);
        if let Some(values) = &mut self.values {
            if self.depth == values.depth {
                match values.first_row_end {
                    None => values.first_row_end = Some(self.out.len()),
                    Some(end) => self.out.truncate(end),
                }
            }
        }
    }

    fn word(&mut self, sql: &[u8], start: usize, end: usize) {
        let bytes = &sql[start..end];
        let Some(kw) = keywords::lookup_in(sql, start, end) else {
            self.observe(TokenKind::Word, false);
            self.emit(bytes, TokenKind::Word, Prev::Name);
            return;
        };
        let is_literal = match kw {
            Kw::TRUE | Kw::FALSE => true,
            Kw::NULL => !self.after_is,
            _ => false,
        };
        if is_literal {
            self.literal();
            return;
        }
        self.observe(TokenKind::Word, false);
        let prev = match kw.class() {
            Keyword::Clause if Kw::ENDS_OPERAND.contains(&kw) => Prev::Value,
            Keyword::Clause => Prev::Clause,
            Keyword::Function => Prev::Name,
        };
        let after_is = self.after_is;
        self.emit(kw.name().as_bytes(), TokenKind::Word, prev);
        self.after_is = kw == Kw::IS || (kw == Kw::NOT && after_is);
        self.prev_keyword = Some(kw);
        if kw == Kw::VALUES {
            self.values = Some(ValuesClause {
                depth: self.depth,
                first_row_end: None,
            });
        }
    }

    fn other(&mut self, bytes: &[u8], kind: TokenKind, class: Prev) {
        self.observe(kind, false);
        self.emit(bytes, kind, class);
    }
}

/// Writes the normalized form of `sql` into `scratch.out` (cleared first).
pub(crate) fn normalize_into(sql: &[u8], dialect: Dialect, scratch: &mut Scratch) {
    let Scratch { out, lists } = scratch;
    out.clear();
    lists.clear();
    // Spaces around operators can make the output longer than the input.
    out.reserve(sql.len() + sql.len() / 2 + 16);
    let mut w = Writer {
        out,
        prev: Prev::Start,
        prev_keyword: None,
        after_is: false,
        depth: 0,
        lists,
        values: None,
    };
    let mut tokens = Tokenizer::new(sql, dialect);
    // One token of lookahead, taken only after a `-` or `+` (is it a sign?).
    let mut lookahead = None;
    while let Some(tok) = lookahead.take().or_else(|| tokens.next()) {
        let bytes = &sql[tok.start..tok.end];
        match tok.kind {
            TokenKind::Comment => {}
            TokenKind::String | TokenKind::Number | TokenKind::Placeholder => w.literal(),
            TokenKind::Word => w.word(sql, tok.start, tok.end),
            TokenKind::LParen | TokenKind::LBracket => w.open(bytes, tok.kind),
            TokenKind::RParen | TokenKind::RBracket => w.close(bytes, tok.kind),
            TokenKind::Operator => {
                let unary_sign = matches!(bytes, b"-" | b"+")
                    && !matches!(w.prev, Prev::Value | Prev::Name)
                    && {
                        lookahead = tokens.next();
                        lookahead.is_some_and(|t| t.kind == TokenKind::Number)
                    };
                if !unary_sign {
                    let class = if bytes == b"::" {
                        Prev::Cast
                    } else {
                        Prev::Operator
                    };
                    w.other(bytes, tok.kind, class);
                }
            }
            TokenKind::QuotedIdent => w.other(bytes, tok.kind, Prev::Value),
            TokenKind::Comma => w.other(bytes, tok.kind, Prev::Comma),
            TokenKind::Dot => w.other(bytes, tok.kind, Prev::Dot),
            TokenKind::Semicolon => w.other(bytes, tok.kind, Prev::Comma),
            TokenKind::Other => w.other(bytes, tok.kind, Prev::Other),
        }
    }
}
