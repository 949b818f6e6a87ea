//! `--html`: one self-contained page (inline CSS and SVG, no script, nothing fetched): the
//! summary, each violation with a picture of its cycle and its text report, lock_stat's most
//! contended classes (when processes counted), and an overview of the merged graph.

use std::fmt::Write as _;

use lockdep_report::{NodeKind, ViolationKind};

use crate::bars;
use crate::merge::Merged;
use crate::report::Rendered;
use crate::resolve::Shown;
use crate::svg::{self, escape};
use crate::text;

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9d1e0}
main{padding:8px 32px 40px;max-width:1400px}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;margin:20px 0;padding:16px 20px}
section.bad{border-left:6px solid #c62828}
section.warn{border-left:6px solid #e0a800}
section.ok{border-left:6px solid #2e7d32}
h2{font-size:17px;margin:0 0 10px}
h2 .kind{color:#c62828}
.figure{overflow-x:auto;text-align:center}
.caption{color:#5b6372;font-size:12.5px;margin:2px 0 10px}
svg text.n{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;fill:#1d2330}
svg text.l{font:11.5px ui-monospace,SFMono-Regular,Menlo,monospace;fill:#333}
svg text .t{fill:#6a4fb3}
svg.overview{max-width:100%;height:auto}
pre{background:#f7f8fa;border:1px solid #e3e6eb;border-radius:6px;padding:10px 12px;overflow-x:auto;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
table{border-collapse:collapse;font-size:13px}
td,th{border-bottom:1px solid #e3e6eb;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f0f2f5}
.legend span{display:inline-block;margin-right:18px}
.swatch{display:inline-block;width:12px;height:12px;border:1px solid #667;border-radius:2px;vertical-align:-1px;margin-right:4px}
";

/// The page; `reports` are the merge's reports, cycles first.
pub(crate) fn document(merged: &Merged, shown: &Shown, reports: &[Rendered]) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lockdep: merged report</title><style>",
    );
    out.push_str(STYLE);
    out.push_str("</style></head><body>");
    let _ = write!(
        out,
        "<header><h1>lockdep: one graph for the whole test suite</h1><p>{}</p></header><main>",
        escape(&text::summary(merged))
    );
    if !merged.bad.is_empty() {
        out.push_str("<section class=\"warn\"><h2>Skipped report files</h2><ul>");
        for (path, why) in &merged.bad {
            let _ = write!(
                out,
                "<li><code>{}</code>: {}</li>",
                escape(&path.display().to_string()),
                escape(&why.to_string())
            );
        }
        out.push_str("</ul></section>");
    }
    if merged.violation_count() == 0 {
        out.push_str("<section class=\"ok\"><h2>No violation</h2><p>No possible deadlock, wait/notify deadlock or mempool livelock across the merged processes.</p></section>");
    }
    let mut number = 0;
    for (cycle, report) in merged.cycles.iter().zip(reports) {
        number += 1;
        let names: Vec<&str> = cycle
            .classes(merged)
            .map(|c| merged.classes[c as usize].name.as_str())
            .collect();
        // An event is never held: its arrows read differently.
        let events = if cycle.kind == ViolationKind::WaitDeadlock {
            "; into an event: waited for while holding; out of an event: acquired on the way to notifying it"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<section class=\"bad\"><h2>#{number} <span class=\"kind\">{}</span>: {} → {}</h2><div class=\"figure\">{}<p class=\"caption\">each arrow: held → acquired, labelled with where and by which test{events}; dashed: the dependency that closed the cycle</p></div><pre>{}</pre></section>",
            escape(cycle.kind.headline()),
            escape(&names.join(" → ")),
            escape(names[0]),
            report
                .model
                .as_ref()
                .map_or_else(String::new, |model| svg::cycle(merged, shown, cycle, model)),
            escape(&report.text)
        );
    }
    for (r, report) in merged.recorded.iter().zip(&reports[merged.cycles.len()..]) {
        number += 1;
        let _ = write!(
            out,
            "<section class=\"bad\"><h2>#{number} <span class=\"kind\">{}</span> (recorded in-process)</h2><pre>{}</pre></section>",
            escape(r.violation.kind.headline()),
            escape(&report.text)
        );
    }
    bars::section(&mut out, &merged.lock_stat);
    overview(&mut out, merged);
    processes(&mut out, merged);
    out.push_str("</main></body></html>\n");
    out
}

fn overview(out: &mut String, merged: &Merged) {
    let _ = write!(
        out,
        "<section><h2>The merged graph: {} classes, {} dependencies</h2>",
        merged.classes.len(),
        merged.edges.len()
    );
    match svg::overview(merged) {
        Some(picture) => {
            out.push_str("<p class=\"legend\">");
            for (kind, what) in [
                (NodeKind::Lock, "lock"),
                (NodeKind::Pool, "pool"),
                (NodeKind::Alloc, "ALLOC (memory)"),
                (NodeKind::Event, "event (waited for, notified)"),
            ] {
                let round = if kind == NodeKind::Event {
                    ";border-radius:6px"
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    "<span><i class=\"swatch\" style=\"background:{}{round}\"></i>{what}</span>",
                    svg::fill(kind)
                );
            }
            out.push_str("<span style=\"color:#c62828\">red: on a reported cycle</span><span>columns: topological order, left to right; dashed: a dependency going back, which closed a cycle</span></p>");
            let _ = write!(out, "<div class=\"figure\">{picture}</div>");
        }
        None => {
            let on_cycle = merged.on_cycle();
            let mut degree = vec![(0usize, 0usize); merged.classes.len()];
            for e in &merged.edges {
                degree[e.from as usize].1 += 1;
                degree[e.to as usize].0 += 1;
            }
            let _ = write!(
                out,
                "<p>Too large to draw (over {} classes): the classes on reported cycles.</p><table><tr><th>class</th><th>kind</th><th>held before it</th><th>taken under it</th></tr>",
                svg::OVERVIEW_LIMIT
            );
            for (id, c) in merged.classes.iter().enumerate() {
                if on_cycle[id] {
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(&c.name),
                        c.kind,
                        degree[id].0,
                        degree[id].1
                    );
                }
            }
            out.push_str("</table>");
        }
    }
    out.push_str("</section>");
}

fn processes(out: &mut String, merged: &Merged) {
    let _ = write!(
        out,
        "<section><details><summary><b>{} process(es) merged</b></summary><table><tr><th>test</th><th>binary</th><th>pid</th><th>report file</th></tr>",
        merged.processes.len()
    );
    for p in &merged.processes {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
            escape(p.test.as_deref().unwrap_or("-")),
            escape(p.binary.as_deref().unwrap_or("-")),
            p.pid,
            escape(&p.path.display().to_string())
        );
    }
    out.push_str("</table></details></section>");
}
