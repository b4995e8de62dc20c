//! [`from_ddl`]: the schema model from SQL DDL (`db/structure.sql`,
//! `pg_dump --schema-only`, MySQL `SHOW CREATE TABLE`, SQLite `.schema`).
//!
//! The input is split into statements with the byte-level tokenizer (quotes,
//! dollar quotes, comments and `BEGIN ATOMIC ... END` bodies keep their
//! semicolons; psql meta-commands such as `\restrict` are skipped), each
//! statement is classified by its leading keywords, and only `CREATE TABLE`,
//! `CREATE INDEX` and `ALTER TABLE ... ADD ...` are parsed, one at a time,
//! under the size and nesting [`Limits`]. Everything else in a dump (`SET`,
//! `CREATE FUNCTION`, `COMMENT`, sequences, views, triggers, `INSERT INTO
//! schema_migrations`) is skipped silently. A statement that should have
//! been read but could not be becomes a [`Warning`]; nothing here fails.

use std::collections::HashMap;

use serde::Serialize;

use super::{Index, Schema, Table};
use crate::sql::ast::ddl::{parse_ddl, DdlItem, TableChange};
use crate::sql::token::{Token, TokenKind, Tokenizer};
use crate::sql::{normalize, redact_parser_message, Limits};
use crate::{Dialect, Error};

/// Warnings kept per input; one more says how many were left out.
pub const MAX_WARNINGS: usize = 1_000;

/// Characters of a statement quoted in a warning (normalized: no literals).
const HEAD_CHARS: usize = 80;

/// PostgreSQL's identifier limit in bytes (NAMEDATALEN - 1).
const PG_MAX_IDENTIFIER: usize = 63;

/// A statement that [`from_ddl`] should have read but could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Position of the statement in the input, from 0, counting every
    /// statement (skipped ones too).
    pub statement_index: usize,
    /// Line of the input on which the statement starts, from 1.
    pub line: usize,
    /// What went wrong, with the start of the statement (normalized, so no
    /// literal value appears).
    pub message: String,
}

/// The schema and the warnings of one [`from_ddl`] call, as
/// [`from_ddl_json`] writes them: `{"schema": {...}, "warnings": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DdlResult {
    /// The schema read.
    pub schema: Schema,
    /// Statements that could not be read.
    pub warnings: Vec<Warning>,
}

/// Reads the schema that `sql` defines, with the default [`Limits`].
///
/// ```
/// use vto_core::schema::from_ddl;
/// use vto_core::Dialect;
///
/// let (schema, warnings) = from_ddl(
///     "SET statement_timeout = 0;
///      CREATE TABLE public.users (id bigint NOT NULL, email character varying NOT NULL);
///      CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;
///      ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
///      CREATE UNIQUE INDEX index_users_on_email ON public.users USING btree (email);",
///     Dialect::Postgres,
/// );
/// assert!(warnings.is_empty());
/// let users = schema.table("users").unwrap();
/// assert_eq!(users.primary_key, ["id"]);
/// let names: Vec<_> = users.indexes.iter().map(|i| i.name.as_str()).collect();
/// assert_eq!(names, ["users_pkey", "index_users_on_email"]);
/// ```
pub fn from_ddl(sql: &str, dialect: Dialect) -> (Schema, Vec<Warning>) {
    from_ddl_with_limits(sql, dialect, Limits::default())
}

/// [`from_ddl`] with explicit limits: a statement larger than
/// `max_input_bytes`, nesting parentheses deeper than `max_nesting_depth` or
/// chaining more than `max_terms` operators becomes a warning unparsed.
pub fn from_ddl_with_limits(sql: &str, dialect: Dialect, limits: Limits) -> (Schema, Vec<Warning>) {
    let mut builder = Builder::new(dialect);
    let mut warnings = Vec::new();
    let mut dropped = 0usize;
    let mut index = 0usize;
    split(sql, dialect, |stmt| {
        let statement_index = index;
        index += 1;
        let Some(text) = sql.get(stmt.start..stmt.end) else {
            return;
        };
        let Some(classified) = classify(text, dialect) else {
            return;
        };
        match read(text, &classified, dialect, limits) {
            Ok(items) => items.into_iter().for_each(|item| builder.apply(item)),
            Err(message) if warnings.len() < MAX_WARNINGS => warnings.push(Warning {
                statement_index,
                line: stmt.line,
                message: format!(
                    "{} not read ({}): {message}",
                    classified.class.what(),
                    head(text, dialect)
                ),
            }),
            Err(_) => dropped += 1,
        }
    });
    if dropped > 0 {
        warnings.push(Warning {
            statement_index: warnings.last().map_or(0, |w| w.statement_index),
            line: warnings.last().map_or(1, |w| w.line),
            message: format!(
                "{dropped} more statements could not be read (warnings stop at {MAX_WARNINGS})"
            ),
        });
    }
    (builder.finish(), warnings)
}

/// [`from_ddl`] from and to text, for bindings: `dialect` is a dialect or
/// Rails adapter name; the result is [`DdlResult`] as JSON. Fails only on an
/// unknown dialect.
pub fn from_ddl_json(sql: &str, dialect: &str) -> Result<String, Error> {
    let dialect = Dialect::from_name(dialect)?;
    let (schema, warnings) = from_ddl(sql, dialect);
    serde_json::to_string(&DdlResult { schema, warnings }).map_err(|e| Error::InvalidInput {
        message: format!("schema JSON: {e}"),
    })
}

/// One statement of the input: its byte range (without the `;`) and line.
struct Span {
    start: usize,
    end: usize,
    line: usize,
}

/// Splits `src` at top-level semicolons. Comments, quotes and dollar quotes
/// are single tokens, so their semicolons never split; neither do those of a
/// `BEGIN ATOMIC ... END` function body. A psql meta-command (`\restrict
/// key`) or MySQL `DELIMITER` line at the start of a statement is skipped.
fn split(src: &str, dialect: Dialect, mut each: impl FnMut(Span)) {
    let bytes = src.as_bytes();
    // Lines: newlines counted incrementally between statement starts.
    let (mut line, mut counted) = (1usize, 0usize);
    let mut emit = |start: usize, end: usize| {
        line += memchr::memchr_iter(b'\n', bytes.get(counted..start).unwrap_or_default()).count();
        counted = start.max(counted);
        each(Span { start, end, line });
    };
    let mut offset = 0usize;
    let mut current: Option<usize> = None;
    let mut last_end = 0usize;
    // Inside `BEGIN ATOMIC`: depth of BEGIN/CASE ... END.
    let mut atomic = 0usize;
    let mut previous_begin = false;
    'restart: while offset < bytes.len() {
        let rest = bytes.get(offset..).unwrap_or_default();
        for tok in Tokenizer::new(rest, dialect) {
            let (start, end) = (offset + tok.start, offset + tok.end);
            if tok.kind == TokenKind::Comment {
                continue;
            }
            let word = bytes.get(start..end).unwrap_or_default();
            if current.is_none() {
                let meta = bytes.get(start) == Some(&b'\\')
                    || (dialect == Dialect::Mysql
                        && tok.kind == TokenKind::Word
                        && word.eq_ignore_ascii_case(b"delimiter"));
                if meta {
                    offset = memchr::memchr(b'\n', bytes.get(start..).unwrap_or_default())
                        .map_or(bytes.len(), |p| start + p + 1);
                    continue 'restart;
                }
                if tok.kind == TokenKind::Semicolon {
                    continue;
                }
                current = Some(start);
                atomic = 0;
                previous_begin = false;
            }
            match tok.kind {
                TokenKind::Semicolon if atomic == 0 => {
                    if let Some(begin) = current.take() {
                        emit(begin, start);
                    }
                }
                TokenKind::Word => {
                    let opens = if atomic == 0 {
                        previous_begin && word.eq_ignore_ascii_case(b"atomic")
                    } else {
                        word.eq_ignore_ascii_case(b"case") || word.eq_ignore_ascii_case(b"begin")
                    };
                    if opens {
                        atomic += 1;
                    } else if atomic > 0 && word.eq_ignore_ascii_case(b"end") {
                        atomic -= 1;
                    }
                    previous_begin = word.eq_ignore_ascii_case(b"begin");
                }
                _ => previous_begin = false,
            }
            last_end = end;
        }
        break;
    }
    if let Some(begin) = current {
        emit(begin, last_end.max(begin));
    }
}

/// The statements worth parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    CreateTable,
    CreateIndex,
    AlterTable,
}

impl Class {
    fn what(self) -> &'static str {
        match self {
            Class::CreateTable => "CREATE TABLE",
            Class::CreateIndex => "CREATE INDEX",
            Class::AlterTable => "ALTER TABLE",
        }
    }
}

/// A statement to parse: its class, and byte ranges to blank out first
/// because the parser does not accept them and they do not matter here (a
/// `CREATE INDEX`'s `ON ONLY`, which pg_dump writes for partitioned tables,
/// and its `TABLESPACE name`).
struct Classified {
    class: Class,
    blanks: Vec<(usize, usize)>,
}

/// `None` for statements that say nothing about tables and indexes. Reads
/// the tokens once, keeping only the first few (any statement size is fine).
fn classify(text: &str, dialect: Dialect) -> Option<Classified> {
    const HEAD_TOKENS: usize = 24;
    let bytes = text.as_bytes();
    let mut rest = Tokenizer::new(bytes, dialect).filter(|t| t.kind != TokenKind::Comment);
    let head: Vec<Token> = rest.by_ref().take(HEAD_TOKENS).collect();
    let text_of = |t: &Token| bytes.get(t.start..t.end).unwrap_or_default();
    let word_is = |t: &Token, w: &str| {
        t.kind == TokenKind::Word && text_of(t).eq_ignore_ascii_case(w.as_bytes())
    };
    let is = |i: usize, w: &str| head.get(i).is_some_and(|t| word_is(t, w));
    let kind = |i: usize| head.get(i).map(|t| t.kind);
    let plain = |class| {
        Some(Classified {
            class,
            blanks: Vec::new(),
        })
    };
    if is(0, "create") {
        const MODIFIERS: [&str; 10] = [
            "or",
            "replace",
            "global",
            "local",
            "temp",
            "temporary",
            "unlogged",
            "unique",
            "fulltext",
            "spatial",
        ];
        let mut i = 1;
        while MODIFIERS.iter().any(|m| is(i, m)) {
            i += 1;
        }
        if is(i, "table") {
            return plain(Class::CreateTable);
        }
        if !is(i, "index") {
            return None;
        }
        let mut blanks = Vec::new();
        let mut depth = 0usize;
        let mut previous: Option<Token> = None;
        // Every token from `i` on: the head's, then the rest of the statement's.
        for t in head
            .get(i..)
            .unwrap_or_default()
            .iter()
            .copied()
            .chain(rest.by_ref())
        {
            match t.kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => depth = depth.saturating_sub(1),
                _ if depth > 0 => {}
                _ => match previous {
                    Some(p) if word_is(&p, "on") && word_is(&t, "only") => {
                        blanks.push((t.start, t.end))
                    }
                    Some(p) if word_is(&p, "tablespace") => blanks.push((p.start, t.end)),
                    _ => {}
                },
            }
            previous = Some(t);
        }
        return Some(Classified {
            class: Class::CreateIndex,
            blanks,
        });
    }
    if is(0, "alter") && is(1, "table") {
        // An operation starts right after the table name or after a comma:
        // `ALTER COLUMN id ADD GENERATED ... AS IDENTITY` is not an `ADD`.
        let mut i = 2;
        while is(i, "if") || is(i, "exists") || is(i, "only") {
            i += 1;
        }
        while matches!(kind(i), Some(TokenKind::Word | TokenKind::QuotedIdent))
            && kind(i + 1) == Some(TokenKind::Dot)
        {
            i += 2;
        }
        if is(i + 1, "add") {
            return plain(Class::AlterTable);
        }
        let mut depth = 0usize;
        let mut after_comma = false;
        for t in head.iter().copied().chain(rest.by_ref()) {
            match t.kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => depth = depth.saturating_sub(1),
                _ if depth == 0 && after_comma && word_is(&t, "add") => {
                    return plain(Class::AlterTable);
                }
                _ => {}
            }
            after_comma = depth == 0 && t.kind == TokenKind::Comma;
        }
    }
    None
}

/// Checks the limits, then parses one statement.
fn read(
    text: &str,
    classified: &Classified,
    dialect: Dialect,
    limits: Limits,
) -> Result<Vec<DdlItem>, String> {
    let class = classified.class;
    if text.len() > limits.max_input_bytes {
        return Err(format!(
            "the statement's {} bytes exceed the limit of {} bytes",
            text.len(),
            limits.max_input_bytes
        ));
    }
    check_complexity(text, dialect, limits)?;
    let mut owned;
    let mut text = text;
    if !classified.blanks.is_empty() {
        // Spaces of the same length: positions in messages still hold.
        let mut bytes = text.as_bytes().to_vec();
        for &(start, end) in &classified.blanks {
            for b in bytes.get_mut(start..end).into_iter().flatten() {
                *b = b' ';
            }
        }
        owned = String::from_utf8_lossy(&bytes).into_owned();
        text = &owned;
    }
    let recursion_limit = limits.max_nesting_depth.saturating_mul(4).max(16);
    match parse_ddl(text, dialect, recursion_limit) {
        Ok(items) => Ok(items),
        Err(first) => {
            // `CREATE TABLE (...) PARTITION BY ... / INHERITS / WITH (...) /
            // TABLESPACE ...`: what follows the column list does not matter
            // here, and the parser does not know all of it.
            if class == Class::CreateTable {
                if let Some(end) = column_list_end(text, dialect) {
                    if end < text.trim_end().len() {
                        owned = text.get(..end).unwrap_or_default().to_owned();
                        if let Ok(items) = parse_ddl(&owned, dialect, recursion_limit) {
                            return Ok(items);
                        }
                    }
                }
            }
            Err(redact_parser_message(&first, dialect))
        }
    }
}

/// End (exclusive) of the first top-level parenthesized group.
fn column_list_end(text: &str, dialect: Dialect) -> Option<usize> {
    let mut depth = 0usize;
    for tok in Tokenizer::new(text.as_bytes(), dialect) {
        match tok.kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(tok.end);
                }
            }
            _ => {}
        }
    }
    None
}

/// Refuses what could exhaust the parser's stack: parentheses nested deeper
/// than `max_nesting_depth`, or more than `max_terms` operators and AND/OR
/// terms in one chain. Commas separate independent subtrees (columns,
/// arguments, list items), so a wide table with a cast in every column's
/// default is fine; a chain is counted along its path of parentheses.
fn check_complexity(text: &str, dialect: Dialect, limits: Limits) -> Result<(), String> {
    let bytes = text.as_bytes();
    // Operators in the current comma-separated segment, one count per open parenthesis.
    let mut counts: Vec<usize> = vec![0];
    let mut path = 0usize;
    for tok in Tokenizer::new(bytes, dialect) {
        match tok.kind {
            TokenKind::LParen | TokenKind::LBracket => {
                counts.push(0);
                if counts.len() - 1 > limits.max_nesting_depth {
                    return Err(format!(
                        "parentheses nest deeper than the limit of {}",
                        limits.max_nesting_depth
                    ));
                }
            }
            TokenKind::RParen | TokenKind::RBracket if counts.len() > 1 => {
                path = path.saturating_sub(counts.pop().unwrap_or(0));
            }
            TokenKind::Comma => {
                if let Some(last) = counts.last_mut() {
                    path = path.saturating_sub(*last);
                    *last = 0;
                }
            }
            TokenKind::Operator | TokenKind::Word => {
                let term = tok.kind == TokenKind::Operator
                    || bytes.get(tok.start..tok.end).is_some_and(|w| {
                        w.eq_ignore_ascii_case(b"and") || w.eq_ignore_ascii_case(b"or")
                    });
                if term {
                    if let Some(last) = counts.last_mut() {
                        *last += 1;
                        path += 1;
                    }
                    if path > limits.max_terms {
                        return Err(format!(
                            "more than {} operators and AND/OR terms in one expression",
                            limits.max_terms
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The start of a statement for a message: normalized (literals become `?`),
/// cut at [`HEAD_CHARS`] characters.
fn head(text: &str, dialect: Dialect) -> String {
    let cut = text
        .char_indices()
        .nth(HEAD_CHARS * 4)
        .map_or(text.len(), |(i, _)| i);
    let mut head = normalize(text.get(..cut).unwrap_or_default().as_bytes(), dialect);
    if let Some((cut, _)) = head.char_indices().nth(HEAD_CHARS) {
        head.truncate(cut);
        head.push('…');
    }
    head
}

/// Merges the statements' items into a schema, in input order.
struct Builder {
    schema: Schema,
    by_name: HashMap<String, usize>,
}

impl Builder {
    fn new(dialect: Dialect) -> Builder {
        Builder {
            schema: Schema::new(dialect),
            by_name: HashMap::new(),
        }
    }

    fn table(&mut self, name: &str) -> &mut Table {
        let position = match self.by_name.get(name) {
            Some(&p) if p < self.schema.tables.len() => p,
            _ => {
                self.schema.tables.push(Table::new(name));
                let p = self.schema.tables.len() - 1;
                self.by_name.insert(name.to_owned(), p);
                p
            }
        };
        &mut self.schema.tables[position]
    }

    fn apply(&mut self, item: DdlItem) {
        let dialect = self.schema.dialect;
        match item {
            DdlItem::Table(change) => self.apply_table(change),
            DdlItem::Index { table, index } => {
                let t = self.table(&table);
                let index = named(index, t, dialect);
                add_index(t, index);
            }
            DdlItem::Other => {}
        }
    }

    fn apply_table(&mut self, change: TableChange) {
        let dialect = self.schema.dialect;
        let t = self.table(&change.table);
        if change.create {
            t.columns = change.columns;
        } else {
            for column in change.columns {
                match t.columns.iter_mut().find(|c| c.name == column.name) {
                    Some(existing) => *existing = column,
                    None => t.columns.push(column),
                }
            }
        }
        if let Some((name, columns)) = change.primary_key {
            for column in t.columns.iter_mut().filter(|c| columns.contains(&c.name)) {
                column.null = false;
            }
            t.primary_key = columns.clone();
            t.indexes.retain(|i| !i.primary);
            if dialect != Dialect::Sqlite {
                let name = name.unwrap_or_else(|| match dialect {
                    Dialect::Mysql => "PRIMARY".to_owned(),
                    _ => truncate_identifier(format!("{}_pkey", bare(&t.name))),
                });
                let mut index = Index::on_columns(name, &columns);
                index.unique = true;
                index.primary = true;
                add_index(t, index);
            }
        }
        for index in change.indexes {
            let index = named(index, t, dialect);
            add_index(t, index);
        }
        t.foreign_keys.extend(change.foreign_keys);
        for (name, primary) in change.promoted {
            if let Some(index) = t.indexes.iter_mut().find(|i| i.name == name) {
                index.unique |= primary;
                index.primary |= primary;
                index.constraint |= !primary;
                if primary {
                    t.primary_key = index.keys.iter().map(|k| k.text().to_owned()).collect();
                }
            }
        }
    }

    fn finish(mut self) -> Schema {
        let primary_keys: HashMap<String, Vec<String>> = self
            .schema
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.primary_key.clone()))
            .collect();
        let dialect = self.schema.dialect;
        for table in &mut self.schema.tables {
            for fk in &mut table.foreign_keys {
                if fk.to_columns.is_empty() {
                    if let Some(pk) = primary_keys.get(&fk.to_table) {
                        fk.to_columns = pk.clone();
                    }
                }
            }
            // InnoDB creates an index for a foreign key that no index leads with.
            if dialect == Dialect::Mysql {
                let missing: Vec<_> = table
                    .foreign_keys
                    .iter()
                    .filter(|fk| {
                        !table.indexes.iter().any(|i| {
                            i.keys.len() >= fk.columns.len()
                                && i.keys
                                    .iter()
                                    .zip(&fk.columns)
                                    .all(|(k, c)| k.column.as_deref() == Some(c.as_str()))
                        })
                    })
                    .map(|fk| {
                        let name = fk
                            .name
                            .clone()
                            .or_else(|| fk.columns.first().cloned())
                            .unwrap_or_default();
                        Index::on_columns(name, &fk.columns)
                    })
                    .collect();
                for index in missing {
                    add_index(table, index);
                }
            }
        }
        self.schema
    }
}

/// Adds or replaces (same name) an index.
fn add_index(table: &mut Table, index: Index) {
    match table.indexes.iter_mut().find(|i| i.name == index.name) {
        Some(existing) => *existing = index,
        None => table.indexes.push(index),
    }
}

/// Gives an unnamed constraint index the name the database would.
fn named(mut index: Index, table: &Table, dialect: Dialect) -> Index {
    if !index.name.is_empty() {
        return index;
    }
    let columns: Vec<&str> = index.keys.iter().map(|k| k.text()).collect();
    index.name = match dialect {
        Dialect::Postgres => {
            let suffix = if index.unique { "key" } else { "excl" };
            truncate_identifier(format!(
                "{}_{}_{suffix}",
                bare(&table.name),
                columns.join("_")
            ))
        }
        Dialect::Mysql => {
            let first = columns.first().copied().unwrap_or("index").to_owned();
            let mut name = first.clone();
            let mut n = 2;
            while table.indexes.iter().any(|i| i.name == name) {
                name = format!("{first}_{n}");
                n += 1;
            }
            name
        }
        Dialect::Sqlite => {
            let n = table
                .indexes
                .iter()
                .filter(|i| i.name.starts_with("sqlite_autoindex_"))
                .count()
                + 1;
            format!("sqlite_autoindex_{}_{n}", table.name)
        }
    };
    index
}

/// The table name without its schema.
fn bare(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

fn truncate_identifier(mut name: String) -> String {
    if name.len() > PG_MAX_IDENTIFIER {
        let mut cut = PG_MAX_IDENTIFIER;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    name
}
