//! Inline SVG bar charts for the HTML page.
//!
//! Bars are horizontal because the labels are long (SQL, endpoint names),
//! scaled to the largest value, with a value label on each bar, a light grid
//! with tick labels and both axis labels. Colours and fonts are set as
//! attributes so a chart copied out of the page still reads, also in print;
//! nothing is fetched and every text is escaped.

use std::fmt::Write as _;

use super::{count, escape_html, ms, number, trimmed};

/// One chart: what it shows and its bars, in any order.
pub(super) struct Chart {
    /// The SVG element's id (`chart-query-time`), stable for tests and screenshots.
    pub id: &'static str,
    pub title: &'static str,
    /// Under the horizontal (value) axis.
    pub x_label: &'static str,
    /// Along the vertical (category) axis.
    pub y_label: &'static str,
    pub unit: Unit,
    pub bars: Vec<Bar>,
}

/// One bar: a short label, the full text for the tooltip, the value.
pub(super) struct Bar {
    pub label: String,
    pub detail: String,
    pub value: f64,
}

/// How values are labelled.
#[derive(Debug, Clone, Copy)]
pub(super) enum Unit {
    Ms,
    Count,
    PerDay,
}

impl Unit {
    fn label(self, value: f64) -> String {
        match self {
            Unit::Ms => ms(value),
            Unit::Count => number(value),
            Unit::PerDay => format!("{}/day", count(value)),
        }
    }
}

/// Bar labels are cut to this many characters to fit left of the bars.
pub(super) const LABEL_CHARS: usize = 34;

/// More bars than this are cut (the largest are kept); the tables list all.
pub(super) const MAX_BARS: usize = 20;

const WIDTH: f64 = 760.0;
/// Left edge of the bars; labels end just before it.
const PLOT_X: f64 = 310.0;
const PLOT_W: f64 = 330.0;
const TOP: f64 = 44.0;
const ROW: f64 = 24.0;
const BAR_H: f64 = 16.0;
const BOTTOM: f64 = 52.0;
const BAR_FILL: &str = "#3b6ea5";
const INK: &str = "#1f2328";
const GRID: &str = "#c8ccd0";

/// The chart as one `<svg class="chart">` element.
pub(super) fn svg(chart: &Chart) -> String {
    let bars = shown_bars(chart);
    let height = if bars.is_empty() {
        110.0
    } else {
        TOP + ROW * bars.len() as f64 + BOTTOM
    };
    let mut out = format!(
        r#"<svg class="chart" id="{id}" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="{id}-title" font-family="system-ui, sans-serif" font-size="12" fill="{INK}">"#,
        id = chart.id,
    );
    let _ = write!(
        out,
        r#"<title id="{}-title">{}</title><text class="chart-title" x="0" y="20" font-size="15" font-weight="600">{}</text>"#,
        chart.id,
        escape_html(chart.title),
        escape_html(chart.title)
    );
    if bars.is_empty() {
        let _ = write!(
            out,
            r#"<text class="no-data" x="{}" y="70" text-anchor="middle" font-style="italic">No data</text></svg>"#,
            WIDTH / 2.0
        );
        return out;
    }
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let plot_bottom = TOP + ROW * bars.len() as f64;
    grid(&mut out, max, plot_bottom);
    out.push_str(r#"<g class="bars">"#);
    for (i, bar) in bars.iter().enumerate() {
        bar_row(&mut out, chart.unit, bar, max, TOP + ROW * i as f64);
    }
    out.push_str("</g>");
    axes(&mut out, chart, plot_bottom);
    out.push_str("</svg>");
    out
}

/// A note for under the chart when bars were left out.
pub(super) fn note(chart: &Chart) -> Option<String> {
    let total = chart.bars.iter().filter(|b| b.value.is_finite()).count();
    (total > MAX_BARS).then(|| format!("The {MAX_BARS} largest of {total} are shown."))
}

/// Finite bars, largest first, at most [`MAX_BARS`].
fn shown_bars(chart: &Chart) -> Vec<&Bar> {
    let mut bars: Vec<&Bar> = chart.bars.iter().filter(|b| b.value.is_finite()).collect();
    bars.sort_by(|a, b| b.value.total_cmp(&a.value));
    bars.truncate(MAX_BARS);
    bars
}

/// Bar length; zero and negative values get no bar, and a zero maximum
/// scales nothing (no division by zero).
fn length(value: f64, max: f64) -> f64 {
    if max > 0.0 && value > 0.0 {
        PLOT_W * value / max
    } else {
        0.0
    }
}

/// Vertical grid lines at round values (steps of 1, 2 or 5 times a power
/// of ten) up to the maximum, with tick labels.
fn grid(out: &mut String, max: f64, plot_bottom: f64) {
    out.push_str(r#"<g class="grid">"#);
    for value in ticks(max) {
        let x = PLOT_X + length(value, max);
        let _ = write!(
            out,
            r#"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{plot_bottom:.1}" stroke="{GRID}" stroke-dasharray="3 3"/><text class="tick" x="{x:.1}" y="{ty:.1}" text-anchor="middle" font-size="11">{tick}</text>"#,
            top = TOP - 6.0,
            ty = plot_bottom + 16.0,
            tick = escape_html(&trimmed(value, 3)),
        );
    }
    out.push_str("</g>");
}

/// 0 and the multiples of a round step up to `max`: 3 to 6 ticks.
fn ticks(max: f64) -> Vec<f64> {
    let mut ticks = vec![0.0];
    if !(max > 0.0 && max.is_finite()) {
        return ticks;
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude);
    // Bounded: step >= max / 4, so at most 4 more ticks.
    for k in 1..=4 {
        let value = step * f64::from(k);
        if value > max * (1.0 + 1e-9) {
            break;
        }
        ticks.push(value);
    }
    ticks
}

fn bar_row(out: &mut String, unit: Unit, bar: &Bar, max: f64, y: f64) {
    let value = unit.label(bar.value);
    let width = length(bar.value, max);
    let _ = write!(
        out,
        r#"<g class="bar-row"><title>{detail}: {value}</title><text class="bar-label" x="{lx:.1}" y="{ty:.1}" text-anchor="end">{label}</text><rect class="bar" x="{PLOT_X:.1}" y="{by:.1}" width="{width:.1}" height="{BAR_H:.1}" fill="{BAR_FILL}"/><text class="bar-value" x="{vx:.1}" y="{ty:.1}">{value}</text></g>"#,
        detail = escape_html(&bar.detail),
        value = escape_html(&value),
        label = escape_html(&bar.label),
        lx = PLOT_X - 8.0,
        ty = y + BAR_H - 4.0,
        by = y,
        vx = PLOT_X + width + 6.0,
    );
}

/// The axis lines and the two axis labels.
fn axes(out: &mut String, chart: &Chart, plot_bottom: f64) {
    let mid_y = (TOP + plot_bottom) / 2.0;
    let _ = write!(
        out,
        r#"<line class="axis" x1="{PLOT_X:.1}" y1="{top:.1}" x2="{PLOT_X:.1}" y2="{plot_bottom:.1}" stroke="{INK}"/><line class="axis" x1="{PLOT_X:.1}" y1="{plot_bottom:.1}" x2="{right:.1}" y2="{plot_bottom:.1}" stroke="{INK}"/><text class="axis-label x-label" x="{cx:.1}" y="{xy:.1}" text-anchor="middle">{x_label}</text><text class="axis-label y-label" x="12" y="{mid_y:.1}" text-anchor="middle" transform="rotate(-90 12 {mid_y:.1})">{y_label}</text>"#,
        top = TOP - 6.0,
        right = PLOT_X + PLOT_W,
        cx = PLOT_X + PLOT_W / 2.0,
        xy = plot_bottom + 40.0,
        x_label = escape_html(chart.x_label),
        y_label = escape_html(chart.y_label),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(bars: Vec<Bar>) -> Chart {
        Chart {
            id: "chart-test",
            title: "Test <chart>",
            x_label: "x",
            y_label: "y",
            unit: Unit::Ms,
            bars,
        }
    }

    fn bar(label: &str, value: f64) -> Bar {
        Bar {
            label: label.into(),
            detail: label.into(),
            value,
        }
    }

    #[test]
    fn scales_to_the_largest_bar() {
        let svg = svg(&chart(vec![bar("a", 50.0), bar("b", 100.0)]));
        assert!(svg.contains(r#"width="330.0""#), "{svg}");
        assert!(svg.contains(r#"width="165.0""#), "{svg}");
        assert!(svg.contains("Test &lt;chart&gt;"));
        assert_eq!(svg.matches(r#"<rect class="bar""#).count(), 2);
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(340.0), [0.0, 100.0, 200.0, 300.0]);
        assert_eq!(ticks(31.0), [0.0, 10.0, 20.0, 30.0]);
        assert_eq!(ticks(172_800.0), [0.0, 50_000.0, 100_000.0, 150_000.0]);
        assert_eq!(ticks(4.0), [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(ticks(0.0), [0.0]);
        assert!(ticks(f64::MAX).len() <= 5);
        let small = ticks(0.3);
        assert_eq!(small.len(), 4);
    }

    #[test]
    fn zero_and_empty() {
        let zero = svg(&chart(vec![bar("a", 0.0), bar("b", -1.0)]));
        assert!(zero.contains(r#"width="0.0""#));
        assert!(!zero.contains("NaN"));
        let empty = svg(&chart(Vec::new()));
        assert!(empty.contains("No data"));
        assert!(!empty.contains("class=\"bar\""));
    }

    #[test]
    fn cuts_to_the_largest() {
        let many = chart((0..30).map(|i| bar("q", f64::from(i))).collect());
        assert_eq!(svg(&many).matches(r#"<rect class="bar""#).count(), MAX_BARS);
        assert_eq!(
            note(&many).as_deref(),
            Some("The 20 largest of 30 are shown.")
        );
    }
}
