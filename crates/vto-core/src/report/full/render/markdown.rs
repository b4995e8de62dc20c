//! GitHub-flavoured Markdown, for pull requests, issues and wikis: tables
//! for the listings, fenced code blocks tagged with their language, and
//! report text escaped so SQL or names cannot turn into markup (or break a
//! table with a `|`).

use std::fmt::Write as _;

use super::document::{Block, Code, Document, Field, Heading, Inline, Table};
use super::one_line;

/// Writes the document as Markdown.
pub(super) fn render(doc: &Document) -> String {
    let mut out = format!("# {}\n\n", escape(&doc.title));
    for meta in &doc.meta {
        let _ = writeln!(out, "{}  ", escape(meta));
    }
    if !doc.meta.is_empty() {
        out.push('\n');
    }
    for block in &doc.blocks {
        block_md(&mut out, block);
    }
    let mut out = out.trim_end().to_owned();
    out.push('\n');
    out
}

fn block_md(out: &mut String, block: &Block) {
    match block {
        Block::Heading(h) => heading(out, h),
        Block::Para(text) => out.push_str(&escape(text)),
        Block::Empty(text) => {
            let _ = write!(out, "_{}_", escape(text));
        }
        Block::Fields(fields) => fields_md(out, fields),
        Block::Table(table) => table_md(out, table),
        Block::Code(code) => code_md(out, code),
        Block::List(items) => {
            let lines: Vec<String> = items
                .iter()
                .map(|i| format!("- {}", escape(&one_line(i))))
                .collect();
            out.push_str(&lines.join("\n"));
        }
        // Charts are for the HTML page; the figures are in the table before.
        Block::Chart(_) => return,
    }
    out.push_str("\n\n");
}

fn heading(out: &mut String, h: &Heading) {
    let hashes = "#".repeat(usize::from(h.level.clamp(1, 5)) + 1);
    let _ = write!(out, "{hashes} {}", escape(&one_line(&h.text)));
    if let Some(p) = h.priority {
        let _ = write!(out, " ({})", p.as_str());
    }
}

fn fields_md(out: &mut String, fields: &[Field]) {
    let lines: Vec<String> = fields
        .iter()
        .map(|f| format!("- **{}:** {}", escape(f.label), inline(&f.value, false)))
        .collect();
    out.push_str(&lines.join("\n"));
}

fn table_md(out: &mut String, table: &Table) {
    let header: Vec<String> = table.columns.iter().map(|c| escape(&c.name)).collect();
    let align: Vec<&str> = table
        .columns
        .iter()
        .map(|c| if c.numeric { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = write!(out, "| {} |", align.join(" | "));
    for row in &table.rows {
        let cells: Vec<String> = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, _)| {
                row.get(i)
                    .map_or_else(|| "-".to_owned(), |c| inline(c, true))
            })
            .collect();
        let _ = write!(out, "\n| {} |", cells.join(" | "));
    }
}

fn code_md(out: &mut String, code: &Code) {
    let fence = "`".repeat(longest_backtick_run(&code.body).max(2) + 1);
    let _ = write!(
        out,
        "**{}:**\n\n{fence}{}\n{}\n{fence}",
        escape(&code.caption),
        code.lang.name(),
        code.body.trim_end()
    );
}

/// A value as Markdown; inside a table, on one line with `|` escaped.
fn inline(value: &Inline, in_table: bool) -> String {
    match value {
        Inline::Text(s) | Inline::Ref(s) => escape(&one_line(s)),
        Inline::Code(s) => code_span(&one_line(s), in_table),
        Inline::Priority(p) => format!("**{}**", p.as_str()),
        Inline::Status { text, .. } => format!("**{}**", escape(&one_line(text))),
        Inline::Missing => "-".to_owned(),
    }
}

/// A code span fenced with more backticks than the text holds. In a table
/// `|` is escaped even in code: GFM splits cells before parsing spans.
fn code_span(text: &str, in_table: bool) -> String {
    let fence = "`".repeat(longest_backtick_run(text) + 1);
    let body = if in_table {
        text.replace('|', "\\|")
    } else {
        text.to_owned()
    };
    // A space on each side when the text touches a backtick, so it does not
    // merge with the fence (CommonMark strips one space each side).
    let pad = if body.starts_with('`') || body.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Backslash-escapes the characters that would become markup. `_` is left
/// alone inside words (`completed_workouts`), where GFM ignores it, and `#`
/// and `&` where they cannot start a heading or an entity (`Controller#index`).
fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let inside_word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|n| n.is_alphanumeric())
        };
        let escape_it = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' => true,
            // Only where they could start a heading or an entity.
            '#' => i == 0,
            '&' => chars
                .get(i + 1)
                .is_some_and(|n| n.is_alphanumeric() || *n == '#'),
            '_' => !(inside_word(i.checked_sub(1)) && inside_word(i.checked_add(1))),
            _ => false,
        };
        if escape_it {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a|b <script> *x*"), r"a\|b \<script\> \*x\*");
        assert_eq!(
            escape("completed_workouts _x_"),
            r"completed_workouts \_x\_"
        );
        assert_eq!(escape("# C#index a & b &amp;"), r"\# C#index a & b \&amp;");
    }

    #[test]
    fn code_spans() {
        assert_eq!(code_span("a | b", true), r"`a \| b`");
        assert_eq!(code_span("a | b", false), "`a | b`");
        assert_eq!(code_span("x`y", false), "``x`y``");
        assert_eq!(code_span("`x", false), "`` `x ``");
    }
}
