//! A byte-level SQL tokenizer for the hot path.
//!
//! It never fails and never allocates: any byte sequence yields tokens, an
//! unterminated string or comment simply runs to the end of the input. It knows
//! just enough of each dialect's lexical rules to tell literals, identifiers,
//! placeholders and comments apart; it builds no syntax tree.

use crate::Dialect;

/// What a token is, as far as normalization cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bare word: keyword, identifier or function name.
    Word,
    /// A quoted identifier: `"x"`, `` `x` `` or (SQLite) `[x]`.
    QuotedIdent,
    /// A string literal of any style: `'x'`, `E'x'`, `N'x'`, `X'ff'`, `$$x$$`, MySQL `"x"`.
    String,
    /// A numeric literal.
    Number,
    /// A bind placeholder: `$1`, `?`, `:name`.
    Placeholder,
    /// An operator: `=`, `<>`, `::`, `->>`, `@>`, ...
    Operator,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `;`
    Semicolon,
    /// A `--`, `#` (MySQL) or `/* */` comment.
    Comment,
    /// Any other byte.
    Other,
}

/// One token: its kind and its byte range in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// The token's kind.
    pub kind: TokenKind,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

/// Iterator over the tokens of a SQL byte string; whitespace is skipped.
pub struct Tokenizer<'a> {
    src: &'a [u8],
    pos: usize,
    dialect: Dialect,
}

const WORD_START: u8 = 1;
const WORD: u8 = 2;

/// Byte classes, looked up once per byte on the hot path.
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            table[b] = WORD_START | WORD;
        } else if c.is_ascii_digit() || c == b'$' {
            table[b] = WORD;
        }
        b += 1;
    }
    table
};

fn is_word_start(b: u8) -> bool {
    CLASS[b as usize] & WORD_START != 0
}

fn is_word_byte(b: u8) -> bool {
    CLASS[b as usize] & WORD != 0
}

fn is_operator_byte(b: u8, dialect: Dialect) -> bool {
    match b {
        b'+' | b'-' | b'*' | b'/' | b'<' | b'>' | b'=' | b'~' | b'!' | b'@' | b'%' | b'^'
        | b'&' | b'|' => true,
        // `#` is a comment in MySQL, an operator (`#>`, `#-`) in PostgreSQL.
        b'#' => dialect != Dialect::Mysql,
        // `?` is a placeholder except in PostgreSQL, where it is a jsonb operator.
        b'?' => dialect == Dialect::Postgres,
        _ => false,
    }
}

impl<'a> Tokenizer<'a> {
    /// Tokenizes `src` with the lexical rules of `dialect`.
    pub fn new(src: &'a [u8], dialect: Dialect) -> Self {
        Tokenizer {
            src,
            pos: 0,
            dialect,
        }
    }

    fn peek(&self, offset: usize) -> Option<u8> {
        self.src.get(self.pos + offset).copied()
    }

    fn token(&mut self, kind: TokenKind, start: usize, end: usize) -> Token {
        self.pos = end.min(self.src.len());
        Token {
            kind,
            start,
            end: self.pos,
        }
    }

    /// End of a quoted run opened at `start` (the byte at `start` is the quote).
    /// A doubled quote is an escaped quote; with `backslash`, `\` escapes the next byte.
    fn quoted_end(&self, start: usize, quote: u8, backslash: bool) -> usize {
        let mut i = start + 1;
        while i < self.src.len() {
            let b = self.src[i];
            if backslash && b == b'\\' {
                i += 2;
            } else if b == quote {
                if self.src.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i += 1;
            }
        }
        self.src.len()
    }

    fn block_comment_end(&self, start: usize) -> usize {
        // PostgreSQL nests block comments; MySQL and SQLite do not.
        let nests = self.dialect == Dialect::Postgres;
        let mut depth = 1usize;
        let mut i = start + 2;
        while i + 1 < self.src.len() {
            match (self.src[i], self.src[i + 1]) {
                (b'*', b'/') => {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        return i;
                    }
                }
                (b'/', b'*') if nests => {
                    depth += 1;
                    i += 2;
                }
                _ => i += 1,
            }
        }
        self.src.len()
    }

    fn line_end(&self, start: usize) -> usize {
        self.src[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(self.src.len(), |p| start + p)
    }

    /// `$tag$ ... $tag$` (PostgreSQL). Returns the end, or `None` when `start` does not open one.
    fn dollar_quoted_end(&self, start: usize) -> Option<usize> {
        let rest = &self.src[start + 1..];
        let tag_len = rest.iter().position(|&b| b == b'$').filter(|&n| {
            rest[..n]
                .iter()
                .enumerate()
                .all(|(i, &b)| is_word_start(b) || (i > 0 && b.is_ascii_digit()))
        })?;
        let delim = &self.src[start..start + tag_len + 2];
        let body = start + delim.len();
        let end = self.src[body..]
            .windows(delim.len())
            .position(|w| w == delim)
            .map_or(self.src.len(), |p| body + p + delim.len());
        Some(end)
    }

    fn number_end(&self, start: usize) -> usize {
        let src = self.src;
        let mut i = start;
        if src.get(i) == Some(&b'0') && matches!(src.get(i + 1), Some(b'x' | b'X')) {
            i += 2;
            while i < src.len() && src[i].is_ascii_hexdigit() {
                i += 1;
            }
            return i;
        }
        while i < src.len() && (src[i].is_ascii_digit() || src[i] == b'_') {
            i += 1;
        }
        if src.get(i) == Some(&b'.') && src.get(i + 1) != Some(&b'.') {
            i += 1;
            while i < src.len() && src[i].is_ascii_digit() {
                i += 1;
            }
        }
        if matches!(src.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(src.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if src.get(j).is_some_and(u8::is_ascii_digit) {
                i = j;
                while i < src.len() && src[i].is_ascii_digit() {
                    i += 1;
                }
            }
        }
        i
    }

    fn operator_end(&self, start: usize) -> usize {
        let src = self.src;
        let mut i = start;
        while i < src.len() && is_operator_byte(src[i], self.dialect) {
            // A comment starts inside an operator run: the operator ends there.
            if i > start
                && ((src[i] == b'-' && src.get(i + 1) == Some(&b'-'))
                    || (src[i] == b'/' && src.get(i + 1) == Some(&b'*')))
            {
                break;
            }
            i += 1;
        }
        // `=-1`: a trailing sign before a digit belongs to the number, not the operator.
        if i - start > 1
            && matches!(src[i - 1], b'-' | b'+')
            && src.get(i).is_some_and(u8::is_ascii_digit)
        {
            i -= 1;
        }
        i
    }
}

impl Iterator for Tokenizer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        use TokenKind::*;
        while self.pos < self.src.len() && self.src[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        let b = *self.src.get(start)?;
        let next = self.peek(1);
        let dialect = self.dialect;
        let tok = match b {
            b'-' if next == Some(b'-') => self.token(Comment, start, self.line_end(start)),
            b'#' if dialect == Dialect::Mysql => self.token(Comment, start, self.line_end(start)),
            b'/' if next == Some(b'*') => self.token(Comment, start, self.block_comment_end(start)),
            b'\'' => {
                let end = self.quoted_end(start, b'\'', dialect == Dialect::Mysql);
                self.token(String, start, end)
            }
            b'"' if dialect == Dialect::Mysql => {
                self.token(String, start, self.quoted_end(start, b'"', true))
            }
            b'"' => self.token(QuotedIdent, start, self.quoted_end(start, b'"', false)),
            b'`' => self.token(QuotedIdent, start, self.quoted_end(start, b'`', false)),
            b'[' if dialect == Dialect::Sqlite => {
                let end = self.src[start..]
                    .iter()
                    .position(|&c| c == b']')
                    .map_or(self.src.len(), |p| start + p + 1);
                self.token(QuotedIdent, start, end)
            }
            b'$' if next.is_some_and(|c| c.is_ascii_digit()) => {
                let mut end = start + 1;
                while self.src.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                self.token(Placeholder, start, end)
            }
            b'$' if dialect == Dialect::Postgres => match self.dollar_quoted_end(start) {
                Some(end) => self.token(String, start, end),
                None => self.token(Other, start, start + 1),
            },
            b'?' if dialect != Dialect::Postgres => self.token(Placeholder, start, start + 1),
            b':' if next == Some(b':') => self.token(Operator, start, start + 2),
            b':' if next.is_some_and(is_word_start) => {
                let mut end = start + 1;
                while self.src.get(end).is_some_and(|&c| is_word_byte(c)) {
                    end += 1;
                }
                self.token(Placeholder, start, end)
            }
            b'0'..=b'9' => self.token(Number, start, self.number_end(start)),
            b'.' if next.is_some_and(|c| c.is_ascii_digit()) => {
                self.token(Number, start, self.number_end(start))
            }
            b'(' => self.token(LParen, start, start + 1),
            b')' => self.token(RParen, start, start + 1),
            b'[' => self.token(LBracket, start, start + 1),
            b']' => self.token(RBracket, start, start + 1),
            b',' => self.token(Comma, start, start + 1),
            b'.' => self.token(Dot, start, start + 1),
            b';' => self.token(Semicolon, start, start + 1),
            c if is_word_start(c) => {
                let mut end = start + 1;
                while self.src.get(end).is_some_and(|&c| is_word_byte(c)) {
                    end += 1;
                }
                if self.src.get(end) == Some(&b'\'') && is_string_prefix(&self.src[start..end]) {
                    // E'..', N'..', X'..', B'..', _utf8mb4'..': a prefixed string literal.
                    let backslash = dialect == Dialect::Mysql
                        || self.src[start..end].eq_ignore_ascii_case(b"e");
                    let close = self.quoted_end(end, b'\'', backslash);
                    self.token(String, start, close)
                } else if self.src[start..end].eq_ignore_ascii_case(b"u")
                    && self.src.get(end) == Some(&b'&')
                    && self.src.get(end + 1) == Some(&b'\'')
                {
                    let close = self.quoted_end(end + 1, b'\'', false);
                    self.token(String, start, close)
                } else {
                    self.token(Word, start, end)
                }
            }
            c if is_operator_byte(c, dialect) => {
                self.token(Operator, start, self.operator_end(start))
            }
            _ => self.token(Other, start, start + 1),
        };
        Some(tok)
    }
}

fn is_string_prefix(word: &[u8]) -> bool {
    match word {
        [c] => matches!(c.to_ascii_lowercase(), b'e' | b'n' | b'x' | b'b'),
        // MySQL character-set introducers: _utf8mb4'..', _binary'..'
        [b'_', rest @ ..] => !rest.is_empty() && rest.iter().all(|c| c.is_ascii_alphanumeric()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str, dialect: Dialect) -> Vec<(TokenKind, String)> {
        Tokenizer::new(sql.as_bytes(), dialect)
            .map(|t| (t.kind, sql[t.start..t.end].to_string()))
            .collect()
    }

    #[test]
    fn strings_with_every_escape_style() {
        use TokenKind::*;
        let toks = kinds(r"'it''s' E'a\'b' $$x'y$$ $q$ $$ $q$", Dialect::Postgres);
        assert_eq!(
            toks,
            vec![
                (String, "'it''s'".into()),
                (String, r"E'a\'b'".into()),
                (String, "$$x'y$$".into()),
                (String, "$q$ $$ $q$".into()),
            ]
        );
        let toks = kinds(r#"'a\'b' "c\"d" _utf8mb4'x'"#, Dialect::Mysql);
        assert!(toks.iter().all(|(k, _)| *k == String), "{toks:?}");
    }

    #[test]
    fn identifiers_placeholders_and_casts() {
        use TokenKind::*;
        let toks = kinds(r#""users"."id" = $1::int AND [x] = :name"#, Dialect::Sqlite);
        let k: Vec<_> = toks.iter().map(|t| t.0).collect();
        assert_eq!(
            k,
            vec![
                QuotedIdent,
                Dot,
                QuotedIdent,
                Operator,
                Placeholder,
                Operator,
                Word,
                Word,
                QuotedIdent,
                Operator,
                Placeholder
            ]
        );
    }

    #[test]
    fn comments_end_where_they_should() {
        use TokenKind::*;
        let toks = kinds("a /* x /* y */ z */ b -- c\nd", Dialect::Postgres);
        assert_eq!(toks.iter().filter(|t| t.0 == Word).count(), 3);
        let toks = kinds("a /* x /* y */ z */ b", Dialect::Mysql);
        assert!(toks.iter().any(|t| t.1 == "z"));
        let toks = kinds("a # c\nb", Dialect::Mysql);
        assert_eq!(toks.iter().filter(|t| t.0 == Comment).count(), 1);
    }

    #[test]
    fn unterminated_runs_to_end() {
        for sql in ["'abc", "\"abc", "/* abc", "$$abc", "E'\\", "`x"] {
            let toks: Vec<_> = Tokenizer::new(sql.as_bytes(), Dialect::Postgres).collect();
            assert_eq!(toks.last().map(|t| t.end), Some(sql.len()), "{sql}");
        }
    }
}
