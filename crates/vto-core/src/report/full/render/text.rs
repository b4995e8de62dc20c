//! Plain text for terminals, logs and e-mail: fixed-width, headings
//! underlined, prose wrapped at [`WIDTH`] columns, tables aligned when they
//! fit and shown as records when they do not. With colour on, ANSI codes mark
//! headings, priorities and verdicts; the text is otherwise the same (strip
//! the codes and you get the plain output).

use super::document::{Block, Code, Document, Field, Heading, Inline, Table, Tone};
use super::{one_line, Priority};

/// Prose wraps at this many columns; code is never wrapped.
const WIDTH: usize = 100;
/// Body text sits under its heading, indented.
const INDENT: &str = "  ";
/// Field labels pad to at least this width, so consecutive field blocks
/// (a recommendation's) line up.
const LABEL_WIDTH: usize = 17;
/// `Name: value` pieces up to this long may share a line in a record.
const SHORT_PIECE: usize = 40;

/// Writes the document as text, with ANSI colours when `color`.
pub(super) fn render(doc: &Document, color: bool) -> String {
    let mut w = Writer {
        out: String::new(),
        color,
    };
    w.title(doc);
    for block in &doc.blocks {
        w.block(block);
    }
    let mut out = w.out.trim_end().to_owned();
    out.push('\n');
    out
}

struct Writer {
    out: String,
    color: bool,
}

impl Writer {
    /// `text` wrapped in an ANSI style when colour is on.
    fn paint(&self, style: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{style}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn line(&mut self, line: &str) {
        self.out.push_str(line.trim_end());
        self.out.push('\n');
    }

    fn blank(&mut self) {
        self.out.push('\n');
    }

    fn title(&mut self, doc: &Document) {
        let rule = "=".repeat(doc.title.chars().count().min(WIDTH));
        let title = self.paint("1;34", &doc.title);
        self.line(&title);
        self.line(&rule);
        for meta in &doc.meta {
            for line in wrap(meta, WIDTH) {
                self.line(&line);
            }
        }
        self.blank();
    }

    fn block(&mut self, block: &Block) {
        match block {
            Block::Heading(h) => self.heading(h),
            Block::Para(text) => self.wrapped(text, INDENT, INDENT),
            Block::Empty(text) => self.wrapped(text, INDENT, INDENT),
            Block::Fields(fields) => self.fields(fields),
            Block::Table(table) => self.table(table),
            Block::Code(code) => self.code(code),
            Block::List(items) => {
                for item in items {
                    self.wrapped(item, "  - ", "    ");
                }
            }
            // The chart's figures are in the table before it.
            Block::Chart(_) => return,
        }
        self.blank();
    }

    fn heading(&mut self, h: &Heading) {
        let (rule, style) = match h.level {
            1 => ('=', "1;34"),
            2 => ('-', "1"),
            _ => ('~', "1"),
        };
        if h.level == 1 {
            self.blank();
        }
        let mut plain = one_line(&h.text);
        let mut shown = self.paint(style, &plain);
        if let Some(p) = h.priority {
            let badge = format!("[{}]", p.as_str().to_ascii_uppercase());
            shown = format!("{} {shown}", self.paint(priority_style(p), &badge));
            plain = format!("{badge} {plain}");
        }
        self.line(&shown);
        self.line(&rule.to_string().repeat(plain.chars().count().min(WIDTH)));
    }

    /// Wrapped prose with a first-line prefix and a continuation indent.
    fn wrapped(&mut self, text: &str, first: &str, rest: &str) {
        let width = WIDTH.saturating_sub(first.chars().count()).max(20);
        for (i, line) in wrap(text, width).iter().enumerate() {
            let prefix = if i == 0 { first } else { rest };
            self.line(&format!("{prefix}{line}"));
        }
    }

    /// `Label:  value` lines, labels padded to one width, values wrapped.
    fn fields(&mut self, fields: &[Field]) {
        let label_width = fields
            .iter()
            .map(|f| f.label.chars().count() + 1)
            .fold(LABEL_WIDTH, usize::max);
        let hang = " ".repeat(INDENT.len() + label_width + 2);
        let width = WIDTH.saturating_sub(hang.len()).max(20);
        for field in fields {
            let label = format!("{}:", field.label);
            let pad = " ".repeat(label_width + 2 - label.chars().count());
            let lines = wrap(field.value.plain(), width);
            for (i, line) in lines.iter().enumerate() {
                let styled = self.inline(&field.value, line);
                if i == 0 {
                    self.line(&format!("{INDENT}{label}{pad}{styled}"));
                } else {
                    self.line(&format!("{hang}{styled}"));
                }
            }
        }
    }

    /// `text` (part of `value`) styled as the value's kind asks.
    fn inline(&self, value: &Inline, text: &str) -> String {
        match value {
            Inline::Priority(p) => self.paint(priority_style(*p), text),
            Inline::Status { tone, .. } => match tone {
                Tone::Good => self.paint("32", text),
                Tone::Warn => self.paint("33", text),
                Tone::Bad => self.paint("1;31", text),
                Tone::Neutral => text.to_owned(),
            },
            _ => text.to_owned(),
        }
    }

    fn code(&mut self, code: &Code) {
        self.line(&format!("{INDENT}{}:", code.caption));
        for line in code.body.lines() {
            self.line(&format!("{INDENT}    {line}"));
        }
    }

    fn table(&mut self, table: &Table) {
        let cells: Vec<Vec<String>> = table
            .rows
            .iter()
            .map(|row| row.iter().map(|c| one_line(c.plain())).collect())
            .collect();
        let mut widths = column_widths(table, &cells);
        if table_width(&widths) <= WIDTH {
            self.aligned(table, &cells, &widths);
        } else if let Some(room) = last_column_room(table, &widths) {
            // Only the last (prose) column is too long: wrap it in place.
            if let Some(last) = widths.last_mut() {
                *last = room;
            }
            self.aligned(table, &cells, &widths);
        } else {
            self.records(table, &cells);
        }
    }

    /// An aligned table; a last cell wider than its column wraps onto
    /// continuation lines under that column.
    fn aligned(&mut self, table: &Table, cells: &[Vec<String>], widths: &[usize]) {
        let header: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
        let header_line = self.row_line(table, &header, None, widths);
        let header_line = self.paint("1", header_line.trim_end());
        self.line(&format!("{INDENT}{header_line}"));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        self.line(&format!("{INDENT}{}", rule.join("  ")));
        let last = widths.len().saturating_sub(1);
        let hang = " ".repeat(table_width(widths) - widths.last().copied().unwrap_or(0));
        for (row, plain) in table.rows.iter().zip(cells) {
            let last_text = plain.get(last).map_or("", String::as_str);
            let mut parts = wrap(last_text, widths.get(last).copied().unwrap_or(0)).into_iter();
            let mut first = plain.clone();
            if let (Some(cell), Some(part)) = (first.get_mut(last), parts.next()) {
                *cell = part;
            }
            let line = self.row_line(table, &first, Some(row), widths);
            self.line(&format!("{INDENT}{line}"));
            for part in parts {
                let styled = row
                    .get(last)
                    .map_or(part.clone(), |v| self.inline(v, &part));
                self.line(&format!("{hang}{styled}"));
            }
        }
    }

    /// One aligned row: numeric columns right-aligned, padding kept outside
    /// the colour codes so stripping them gives the plain text.
    fn row_line(
        &self,
        table: &Table,
        plain: &[String],
        row: Option<&Vec<Inline>>,
        widths: &[usize],
    ) -> String {
        let mut parts = Vec::with_capacity(widths.len());
        for (i, (column, width)) in table.columns.iter().zip(widths).enumerate() {
            let text = plain.get(i).map_or("", String::as_str);
            let pad = " ".repeat(width.saturating_sub(text.chars().count()));
            let styled = match row.and_then(|r| r.get(i)) {
                Some(value) => self.inline(value, text),
                None => text.to_owned(),
            };
            parts.push(if column.numeric {
                format!("{pad}{styled}")
            } else {
                format!("{styled}{pad}")
            });
        }
        parts.join("  ")
    }

    /// Rows as records: the lead cells on one line, then `Name: value`
    /// pieces, short ones sharing a line.
    fn records(&mut self, table: &Table, cells: &[Vec<String>]) {
        let numbered = table.columns.first().is_some_and(|c| c.numeric);
        let lead = table.lead.max(1);
        for (r, (row, plain)) in table.rows.iter().zip(cells).enumerate() {
            if r > 0 {
                self.blank();
            }
            let head: Vec<&str> = plain.iter().take(lead).map(String::as_str).collect();
            let (first, rest) = match head.split_first() {
                Some((n, rest)) if numbered => (format!("{n}. "), rest.join(" ")),
                _ => ("- ".to_owned(), head.join(" ")),
            };
            let hang = " ".repeat(INDENT.len() + first.chars().count());
            self.wrapped(&rest, &format!("{INDENT}{first}"), &hang);
            self.record_pieces(table, row, plain, lead, &hang);
        }
    }

    /// The cells after the lead as `Name: value`, known ones only.
    fn record_pieces(
        &mut self,
        table: &Table,
        row: &[Inline],
        plain: &[String],
        lead: usize,
        hang: &str,
    ) {
        let pieces = table
            .columns
            .iter()
            .zip(row.iter().zip(plain))
            .skip(lead)
            .filter(|(_, (value, text))| !matches!(value, Inline::Missing) && !text.is_empty());
        let mut line = String::new();
        let mut visible = 0;
        for (column, (value, text)) in pieces {
            let len = column.name.chars().count() + 2 + text.chars().count();
            if len > SHORT_PIECE {
                self.flush(hang, &mut line, &mut visible);
                self.record_piece(hang, &column.name, value, text);
                continue;
            }
            if visible > 0 && hang.len() + visible + 3 + len > WIDTH {
                self.flush(hang, &mut line, &mut visible);
            }
            if visible > 0 {
                line.push_str("   ");
                visible += 3;
            }
            line.push_str(&format!("{}: {}", column.name, self.inline(value, text)));
            visible += len;
        }
        self.flush(hang, &mut line, &mut visible);
    }

    fn flush(&mut self, hang: &str, line: &mut String, visible: &mut usize) {
        if !line.is_empty() {
            self.line(&format!("{hang}{line}"));
            line.clear();
        }
        *visible = 0;
    }

    /// A long `Name: value` piece on its own lines, the value wrapped.
    fn record_piece(&mut self, hang: &str, name: &str, value: &Inline, text: &str) {
        let inner = format!("{hang}{}", " ".repeat(name.chars().count() + 2));
        let width = WIDTH.saturating_sub(inner.len()).max(20);
        for (i, part) in wrap(text, width).iter().enumerate() {
            let styled = self.inline(value, part);
            if i == 0 {
                self.line(&format!("{hang}{name}: {styled}"));
            } else {
                self.line(&format!("{inner}{styled}"));
            }
        }
    }
}

fn priority_style(priority: Priority) -> &'static str {
    match priority {
        Priority::Critical => "1;31",
        Priority::High => "33",
        Priority::Medium => "36",
        Priority::Low => "2",
    }
}

/// The columns' width with the indent and the gaps between them.
fn table_width(widths: &[usize]) -> usize {
    INDENT.len() + widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)
}

/// The room left for the last column when every other one fits, if that is
/// enough for prose (a numeric last column is never wrapped).
fn last_column_room(table: &Table, widths: &[usize]) -> Option<usize> {
    const MIN_PROSE: usize = 40;
    let (_, others) = widths.split_last()?;
    if table.columns.last().is_none_or(|c| c.numeric) || others.is_empty() {
        return None;
    }
    let room = WIDTH.checked_sub(table_width(others) + 2)?;
    (room >= MIN_PROSE).then_some(room)
}

/// Each column as wide as its widest cell or header.
fn column_widths(table: &Table, cells: &[Vec<String>]) -> Vec<usize> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            cells
                .iter()
                .filter_map(|row| row.get(i))
                .map(|c| c.chars().count())
                .chain(std::iter::once(column.name.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// Greedy word wrap; explicit newlines are kept, words longer than the
/// width stay whole on their own line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("a\n\nb", 10), ["a", "", "b"]);
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["averyveryverylongword", "x"]
        );
    }
}
