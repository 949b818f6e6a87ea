//! `--html`'s lock_stat section: the most contended classes as a bar chart (SVG drawn by
//! hand, as `svg`'s pictures), the merged table under it.

use std::fmt::Write as _;

use lockdep_report::{duration_text, LockStat};

use crate::svg::{escape, shorten};

/// How many classes the chart shows.
pub(crate) const BARS: usize = 15;

const ROW: f64 = 22.0;
const LABEL_WIDTH: f64 = 380.0;
const BAR_WIDTH: f64 = 420.0;
const LABEL_CHARS: usize = 52;

/// The section, or nothing when no process counted.
pub(crate) fn section(out: &mut String, stat: &LockStat) {
    if stat.is_empty() {
        return;
    }
    let top = stat.most_contended(BARS);
    out.push_str("<section><h2>lock_stat: the most contended classes</h2>");
    match chart(&top) {
        Some(svg) => {
            let _ = write!(
                out,
                "<div class=\"figure\">{svg}</div><p class=\"caption\">total time spent waiting for each class's locks (both accesses), with the number of waits; merged over {} process(es)</p>",
                stat.processes
            );
        }
        None => out.push_str("<p>No acquisition waited.</p>"),
    }
    let _ = write!(out, "<pre>{}</pre></section>", escape(&stat.to_string()));
}

/// One bar per class, longest wait first, scaled to the longest; `None` for no bar.
fn chart(top: &[(&str, u64, u64)]) -> Option<String> {
    let longest = top.first()?.1.max(1) as f64;
    let height = ROW * top.len() as f64 + 8.0;
    let width = LABEL_WIDTH + BAR_WIDTH + 160.0;
    let mut svg = format!(
        "<svg class=\"bars\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
    );
    for (i, (class, wait_ns, waits)) in top.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let length = (BAR_WIDTH * *wait_ns as f64 / longest).max(1.0);
        let _ = write!(
            svg,
            "<g><title>{}: {} waits, {} in total</title><text class=\"n\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{LABEL_WIDTH}\" y=\"{}\" width=\"{length:.1}\" height=\"{}\" fill=\"#c62828\" fill-opacity=\"0.75\" rx=\"2\"/><text class=\"l\" x=\"{:.1}\" y=\"{}\">{} · {} waits</text></g>",
            escape(class),
            waits,
            duration_text(*wait_ns),
            LABEL_WIDTH - 8.0,
            y + 15.0,
            escape(&shorten(class, LABEL_CHARS)),
            y + 3.0,
            ROW - 6.0,
            LABEL_WIDTH + length + 6.0,
            y + 15.0,
            duration_text(*wait_ns),
            waits,
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_wait_gets_the_full_bar() {
        let svg = chart(&[("a <T>", 2_000, 4), ("b", 1_000, 1)]).unwrap();
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(&format!("width=\"{BAR_WIDTH:.1}\"")), "{svg}");
        assert!(
            svg.contains(&format!("width=\"{:.1}\"", BAR_WIDTH / 2.0)),
            "{svg}"
        );
        assert!(svg.contains("a &lt;T&gt;"));
        assert!(chart(&[]).is_none());
    }
}
