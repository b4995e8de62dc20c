//! One self-contained HTML page, to open from disk or attach to a ticket:
//! inline CSS, inline SVG charts, no scripts, fonts, images or links to
//! fetch (a Content-Security-Policy says so too, so even a missed escape
//! could not run anything). The layout prints readably.

use std::fmt::Write as _;

use super::chart;
use super::document::{anchor, Block, Code, Document, Field, Heading, Inline, Table};
use super::{escape_html as esc, one_line};

/// Writes the document as an HTML page.
pub(super) fn render(doc: &Document) -> String {
    let mut out = String::with_capacity(64 * 1024);
    head(&mut out, doc);
    out.push_str("<body>\n<header class=\"report-header\">\n");
    let _ = writeln!(out, "<h1>{}</h1>", esc(&doc.title));
    for meta in &doc.meta {
        let _ = writeln!(out, "<p class=\"meta\">{}</p>", esc(meta));
    }
    out.push_str("</header>\n");
    toc(&mut out, doc);
    out.push_str("<main>\n");
    Body::default().write(&mut out, &doc.blocks);
    out.push_str(
        "</main>\n<footer><p>Written by virtual_trainer_optimizer. This page is self-contained: \
         it loads no script, font or image.</p></footer>\n</body>\n</html>\n",
    );
    out
}

fn head(out: &mut String, doc: &Document) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n",
        esc(&doc.title)
    );
}

/// The contents: sections and their subsections, linked to their anchors.
fn toc(out: &mut String, doc: &Document) {
    out.push_str("<nav class=\"toc\" aria-label=\"Contents\">\n<h2>Contents</h2>\n<ul>\n");
    let mut open_sub = false;
    let mut open_item = false;
    for h in doc.blocks.iter().filter_map(|b| match b {
        Block::Heading(h) if h.level <= 2 => Some(h),
        _ => None,
    }) {
        let link = format!("<a href=\"#{}\">{}</a>", esc(&h.id), esc(&h.text));
        if h.level == 1 {
            close_toc_item(out, &mut open_sub, &mut open_item);
            let _ = write!(out, "<li>{link}");
            open_item = true;
        } else {
            if !open_sub {
                out.push_str("\n<ul>\n");
                open_sub = true;
            }
            let _ = writeln!(out, "<li>{link}</li>");
        }
    }
    close_toc_item(out, &mut open_sub, &mut open_item);
    out.push_str("</ul>\n</nav>\n");
}

fn close_toc_item(out: &mut String, open_sub: &mut bool, open_item: &mut bool) {
    if *open_sub {
        out.push_str("</ul>\n");
        *open_sub = false;
    }
    if *open_item {
        out.push_str("</li>\n");
        *open_item = false;
    }
}

/// Writes the blocks, opening a `<section>` per numbered section and an
/// `<article>` per recommendation, closing them when the next one starts.
#[derive(Default)]
struct Body {
    section: bool,
    article: bool,
}

impl Body {
    fn write(mut self, out: &mut String, blocks: &[Block]) {
        for block in blocks {
            match block {
                Block::Heading(h) => self.heading(out, h),
                other => block_html(out, other),
            }
        }
        self.close_article(out);
        self.close_section(out);
    }

    fn heading(&mut self, out: &mut String, h: &Heading) {
        self.close_article(out);
        let id = esc(&h.id);
        let text = esc(&h.text);
        match h.level {
            1 => {
                self.close_section(out);
                let _ = writeln!(out, "<section id=\"{id}\">\n<h2>{text}</h2>");
                self.section = true;
            }
            2 => {
                let _ = writeln!(out, "<h3 id=\"{id}\">{text}</h3>");
            }
            _ => {
                let class = h.priority.map_or("rec", |p| match p.as_str() {
                    "critical" => "rec rec-critical",
                    "high" => "rec rec-high",
                    "medium" => "rec rec-medium",
                    _ => "rec rec-low",
                });
                let badge = h
                    .priority
                    .map(|p| inline(&Inline::Priority(p)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "<article class=\"{class}\" id=\"{id}\">\n<h4>{text} {badge}</h4>"
                );
                self.article = true;
            }
        }
    }

    fn close_article(&mut self, out: &mut String) {
        if self.article {
            out.push_str("</article>\n");
            self.article = false;
        }
    }

    fn close_section(&mut self, out: &mut String) {
        if self.section {
            out.push_str("</section>\n");
            self.section = false;
        }
    }
}

fn block_html(out: &mut String, block: &Block) {
    match block {
        Block::Heading(_) => {}
        Block::Para(text) => {
            let _ = writeln!(out, "<p>{}</p>", multiline(text));
        }
        Block::Empty(text) => {
            let _ = writeln!(out, "<p class=\"empty\">{}</p>", esc(text));
        }
        Block::Fields(fields) => fields_html(out, fields),
        Block::Table(table) => table_html(out, table),
        Block::Code(code) => code_html(out, code),
        Block::List(items) => {
            out.push_str("<ul class=\"items\">\n");
            for item in items {
                let _ = writeln!(out, "<li>{}</li>", esc(&one_line(item)));
            }
            out.push_str("</ul>\n");
        }
        Block::Chart(c) => {
            let _ = write!(out, "<figure class=\"chart-figure\">\n{}\n", chart::svg(c));
            if let Some(note) = chart::note(c) {
                let _ = writeln!(out, "<figcaption>{}</figcaption>", esc(&note));
            }
            out.push_str("</figure>\n");
        }
    }
}

fn fields_html(out: &mut String, fields: &[Field]) {
    out.push_str("<dl class=\"fields\">\n");
    for f in fields {
        let value = match &f.value {
            Inline::Text(s) => multiline(s),
            other => inline(other),
        };
        let _ = writeln!(out, "<dt>{}</dt><dd>{value}</dd>", esc(f.label));
    }
    out.push_str("</dl>\n");
}

fn table_html(out: &mut String, table: &Table) {
    out.push_str("<div class=\"table-wrap\"><table class=\"data\">\n<thead><tr>");
    for c in &table.columns {
        let class = if c.numeric { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th scope=\"col\"{class}>{}</th>", esc(&c.name));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (i, c) in table.columns.iter().enumerate() {
            let class = if c.numeric { " class=\"num\"" } else { "" };
            let cell = row.get(i).map_or_else(|| inline(&Inline::Missing), inline);
            let _ = write!(out, "<td{class}>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
}

fn code_html(out: &mut String, code: &Code) {
    let lang = match code.lang.name() {
        "" => String::new(),
        name => format!(" class=\"language-{name}\""),
    };
    let _ = writeln!(
        out,
        "<div class=\"code-block\"><p class=\"code-caption\">{}</p><pre><code{lang}>{}</code></pre></div>",
        esc(&code.caption),
        esc(code.body.trim_end())
    );
}

/// An inline value as HTML; every text escaped.
fn inline(value: &Inline) -> String {
    match value {
        Inline::Text(s) => esc(s),
        Inline::Code(s) => format!("<code>{}</code>", esc(s)),
        Inline::Priority(p) => format!(
            "<span class=\"badge badge-{0}\">{0}</span>",
            esc(p.as_str())
        ),
        Inline::Status { text, tone } => format!(
            "<span class=\"status status-{}\">{}</span>",
            tone.name(),
            esc(text)
        ),
        Inline::Ref(id) => format!("<a href=\"#{}\">{}</a>", esc(&anchor("rec-", id)), esc(id)),
        Inline::Missing => "<span class=\"missing\">-</span>".to_owned(),
    }
}

/// Escaped text with its line breaks kept.
fn multiline(text: &str) -> String {
    esc(text).replace('\n', "<br>\n")
}

/// The page's only style sheet. Colours are chosen to stay readable in
/// black-and-white print: badges carry a border and a word, not only a hue.
const CSS: &str = r#"
:root { --ink: #1f2328; --muted: #59636e; --line: #d0d7de; --head: #eef1f4; --code: #f6f8fa; --accent: #3b6ea5; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; color: var(--ink); background: #fff;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 40px 0 12px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); }
h3 { font-size: 17px; margin: 28px 0 8px; }
h4 { font-size: 15px; margin: 0 0 8px; }
.meta, .empty, figcaption, footer { color: var(--muted); }
.empty { font-style: italic; }
nav.toc { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: 8px 20px; margin: 16px 0; }
nav.toc h2 { font-size: 16px; margin: 8px 0; border: 0; }
nav.toc ul { list-style: none; padding-left: 16px; margin: 0; }
nav.toc > ul { padding-left: 0; }
a { color: var(--accent); }
.table-wrap { overflow-x: auto; margin: 8px 0 16px; }
table.data { border-collapse: collapse; width: 100%; font-size: 13px; }
table.data th, table.data td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
/* Long paths and SQL may break anywhere, so no column's unbreakable text
   squeezes the others: widths follow the content's length instead. */
table.data td { overflow-wrap: anywhere; }
table.data th { background: var(--head); }
table.data .num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
pre { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; margin: 0; }
.code-block { margin: 8px 0 12px; }
.code-caption { margin: 0 0 4px; font-weight: 600; }
dl.fields { display: grid; grid-template-columns: minmax(10em, max-content) 1fr; gap: 4px 16px; margin: 8px 0; }
dl.fields dt { font-weight: 600; }
dl.fields dd { margin: 0; }
article.rec { border: 1px solid var(--line); border-left: 6px solid #999; border-radius: 6px; padding: 12px 16px; margin: 16px 0; break-inside: avoid; }
article.rec-critical { border-left-color: #c62828; }
article.rec-high { border-left-color: #e69500; }
article.rec-medium { border-left-color: #1b8aa6; }
.badge { white-space: nowrap; overflow-wrap: normal; display: inline-block; border: 1px solid; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; text-transform: uppercase; }
.badge-critical { color: #8b1a1a; background: #fde8e8; border-color: #c62828; }
.badge-high { color: #6b4100; background: #fff4e0; border-color: #e69500; }
.badge-medium { color: #0b5567; background: #e6f4f8; border-color: #1b8aa6; }
.badge-low { color: #4a4a4a; background: #f2f2f2; border-color: #999; }
.status { font-weight: 600; }
.status-good { color: #1a7f37; }
.status-warn { color: #8a5a00; }
.status-bad { color: #b42318; }
.missing { color: var(--muted); }
figure.chart-figure { margin: 12px 0 20px; max-width: 760px; }
svg.chart { display: block; width: 100%; height: auto; }
footer { margin-top: 40px; border-top: 1px solid var(--line); font-size: 13px; }
@media print {
  body { max-width: none; padding: 0; font-size: 12px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section { break-before: page; }
  pre { white-space: pre-wrap; word-break: break-word; }
  .table-wrap { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
"#;
