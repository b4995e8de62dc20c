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

/// Bytes that continue a word: letters, digits, `_`, `$` and any non-ASCII byte.
static WORD_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
        b += 1;
    }
    table
};

fn is_word_start(b: u8) -> bool {
    LEAD[usize::from(b)] == Lead::Word
}

fn is_word_byte(b: u8) -> bool {
    WORD_BYTE[usize::from(b)]
}

fn is_operator_byte(b: u8, dialect: Dialect) -> bool {
    match LEAD[usize::from(b)] {
        Lead::Op | Lead::Dash | Lead::Slash => true,
        // `#` is a comment in MySQL, an operator (`#>`, `#-`) in PostgreSQL.
        Lead::Hash => dialect != Dialect::Mysql,
        // `?` is a placeholder except in PostgreSQL, where it is a jsonb operator.
        Lead::Question => dialect == Dialect::Postgres,
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
        let src = self.src;
        let mut i = start + 1;
        loop {
            // memchr jumps to the next quote (or backslash) in SIMD-sized steps.
            let found = match backslash {
                true => memchr::memchr2(quote, b'\\', &src[i.min(src.len())..]),
                false => memchr::memchr(quote, &src[i.min(src.len())..]),
            };
            let Some(offset) = found else {
                return src.len();
            };
            i += offset;
            if src[i] == quote && src.get(i + 1) != Some(&quote) {
                return i + 1;
            }
            // An escaped quote ('') or a backslash escape: skip two bytes.
            i += 2;
        }
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
        // Digits of one base, with the `_` separators PostgreSQL 16 and MySQL allow.
        let digits = |mut i: usize, is_digit: fn(&u8) -> bool| {
            while src.get(i).is_some_and(|c| is_digit(c) || *c == b'_') {
                i += 1;
            }
            i
        };
        if src.get(start) == Some(&b'0') {
            let prefixed: Option<fn(&u8) -> bool> = match src.get(start + 1) {
                Some(b'x' | b'X') => Some(u8::is_ascii_hexdigit),
                Some(b'b' | b'B') => Some(|c| matches!(c, b'0' | b'1')),
                Some(b'o' | b'O') => Some(|c| matches!(c, b'0'..=b'7')),
                _ => None,
            };
            if let Some(is_digit) = prefixed {
                return digits(start + 2, is_digit);
            }
        }
        let mut i = digits(start, u8::is_ascii_digit);
        if src.get(i) == Some(&b'.') && src.get(i + 1) != Some(&b'.') {
            i = digits(i + 1, u8::is_ascii_digit);
        }
        if matches!(src.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(src.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if src.get(j).is_some_and(u8::is_ascii_digit) {
                i = digits(j, u8::is_ascii_digit);
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

/// What the first byte of a token says about it; one table lookup dispatches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lead {
    Space,
    Word,
    Digit,
    Single,
    Double,
    Backtick,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Dot,
    Semicolon,
    Dollar,
    Question,
    Colon,
    Dash,
    Slash,
    Hash,
    Op,
    Other,
}

static LEAD: [Lead; 256] = {
    let mut table = [Lead::Other; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        table[b] = match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c => Lead::Space,
            b'0'..=b'9' => Lead::Digit,
            b'\'' => Lead::Single,
            b'"' => Lead::Double,
            b'`' => Lead::Backtick,
            b'[' => Lead::LBracket,
            b']' => Lead::RBracket,
            b'(' => Lead::LParen,
            b')' => Lead::RParen,
            b',' => Lead::Comma,
            b'.' => Lead::Dot,
            b';' => Lead::Semicolon,
            b'$' => Lead::Dollar,
            b'?' => Lead::Question,
            b':' => Lead::Colon,
            b'-' => Lead::Dash,
            b'/' => Lead::Slash,
            b'#' => Lead::Hash,
            b'+' | b'*' | b'<' | b'>' | b'=' | b'~' | b'!' | b'@' | b'%' | b'^' | b'&' | b'|' => {
                Lead::Op
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => Lead::Word,
            _ => Lead::Other,
        };
        b += 1;
    }
    table
};

impl Iterator for Tokenizer<'_> {
    type Item = Token;

    #[inline]
    fn next(&mut self) -> Option<Token> {
        use TokenKind::*;
        let src = self.src;
        let mut start = self.pos;
        while start < src.len() && LEAD[usize::from(src[start])] == Lead::Space {
            start += 1;
        }
        let b = *src.get(start)?;
        self.pos = start;
        let next = src.get(start + 1).copied();
        let dialect = self.dialect;
        let tok = match LEAD[usize::from(b)] {
            Lead::Double if dialect == Dialect::Mysql => {
                self.token(String, start, self.quoted_end(start, b'"', true))
            }
            Lead::Double => {
                let end = self.qualified_end(start, b'"');
                self.token(QuotedIdent, start, end)
            }
            Lead::Word => self.word(start),
            Lead::Dot if next.is_some_and(|c| c.is_ascii_digit()) => {
                self.token(Number, start, self.number_end(start))
            }
            Lead::Dot => self.token(Dot, start, start + 1),
            Lead::Digit => self.token(Number, start, self.number_end(start)),
            Lead::Single => {
                let end = self.quoted_end(start, b'\'', dialect == Dialect::Mysql);
                self.token(String, start, end)
            }
            Lead::Comma => self.token(Comma, start, start + 1),
            Lead::LParen => self.token(LParen, start, start + 1),
            Lead::RParen => self.token(RParen, start, start + 1),
            Lead::Backtick => {
                let end = self.qualified_end(start, b'`');
                self.token(QuotedIdent, start, end)
            }
            Lead::LBracket if dialect == Dialect::Sqlite => {
                let end = src[start..]
                    .iter()
                    .position(|&c| c == b']')
                    .map_or(src.len(), |p| start + p + 1);
                self.token(QuotedIdent, start, end)
            }
            Lead::LBracket => self.token(LBracket, start, start + 1),
            Lead::RBracket => self.token(RBracket, start, start + 1),
            Lead::Semicolon => self.token(Semicolon, start, start + 1),
            Lead::Dollar if next.is_some_and(|c| c.is_ascii_digit()) => {
                let mut end = start + 1;
                while src.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                self.token(Placeholder, start, end)
            }
            Lead::Dollar if dialect == Dialect::Postgres => match self.dollar_quoted_end(start) {
                Some(end) => self.token(String, start, end),
                None => self.token(Other, start, start + 1),
            },
            Lead::Question if dialect != Dialect::Postgres => {
                // SQLite numbers its binds: `?1`.
                let mut end = start + 1;
                while src.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                self.token(Placeholder, start, end)
            }
            Lead::Colon if next == Some(b':') => self.token(Operator, start, start + 2),
            Lead::Colon if next.is_some_and(is_word_start) => {
                let mut end = start + 1;
                while src.get(end).is_some_and(|&c| is_word_byte(c)) {
                    end += 1;
                }
                self.token(Placeholder, start, end)
            }
            // MySQL needs a space (or control byte) after `--`: `5--1` is 5 - (-1).
            Lead::Dash
                if next == Some(b'-')
                    && (dialect != Dialect::Mysql
                        || src.get(start + 2).is_none_or(|&c| c <= b' ')) =>
            {
                self.token(Comment, start, self.line_end(start))
            }
            Lead::Hash if dialect == Dialect::Mysql => {
                self.token(Comment, start, self.line_end(start))
            }
            Lead::Slash if next == Some(b'*') => {
                self.token(Comment, start, self.block_comment_end(start))
            }
            Lead::Dash | Lead::Slash | Lead::Hash | Lead::Question | Lead::Op => {
                self.token(Operator, start, self.operator_end(start))
            }
            Lead::Space | Lead::Dollar | Lead::Colon | Lead::Other => {
                self.token(Other, start, start + 1)
            }
        };
        Some(tok)
    }
}

impl Tokenizer<'_> {
    /// End of a quoted identifier and of any `."next"` / `.*` parts that follow
    /// it directly: Rails writes every column as `"table"."column"`, and one
    /// token for the whole name (normalized as written) halves the token count.
    fn qualified_end(&self, start: usize, quote: u8) -> usize {
        let src = self.src;
        let mut end = self.quoted_end(start, quote, false);
        while src.get(end) == Some(&b'.') {
            match src.get(end + 1) {
                Some(&c) if c == quote => end = self.quoted_end(end + 1, quote, false),
                Some(b'*') => return end + 2,
                _ => break,
            }
        }
        end
    }

    /// A bare word, or a prefixed string literal: `E'..'`, `N'..'`, `X'..'`,
    /// `B'..'`, `U&'..'`, MySQL `_utf8mb4'..'`.
    fn word(&mut self, start: usize) -> Token {
        let src = self.src;
        let mut end = start + 1;
        while end < src.len() && is_word_byte(src[end]) {
            end += 1;
        }
        let word = &src[start..end];
        if src.get(end) == Some(&b'\'') && is_string_prefix(word) {
            let backslash = self.dialect == Dialect::Mysql || word.eq_ignore_ascii_case(b"e");
            let close = self.quoted_end(end, b'\'', backslash);
            self.token(TokenKind::String, start, close)
        } else if word.eq_ignore_ascii_case(b"u")
            && src.get(end) == Some(&b'&')
            && src.get(end + 1) == Some(&b'\'')
        {
            let close = self.quoted_end(end + 1, b'\'', false);
            self.token(TokenKind::String, start, close)
        } else {
            self.token(TokenKind::Word, start, end)
        }
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
        // A qualified name is one token; `"a" . "b"` with spaces stays three.
        assert_eq!(toks[0].1, r#""users"."id""#);
        let spaced = kinds(r#""a" . "b".* "c".x"#, Dialect::Postgres);
        let k: Vec<_> = spaced.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(k, vec![r#""a""#, ".", r#""b".*"#, r#""c""#, ".", "x"]);
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
