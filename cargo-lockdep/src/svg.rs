//! Pictures for the HTML page, drawn as SVG by hand (no Graphviz): a cycle as its classes on a
//! circle with labelled arrows, and the merged graph in layers by topological order.

use std::fmt::Write as _;

use lockdep_report::{site_text, Body, NodeKind, Report};

use crate::merge::{Cycle, Merged};
use crate::report::test_of;
use crate::resolve::Shown;

/// Classes the layered overview draws at most; a larger graph is summarised as a table.
pub(crate) const OVERVIEW_LIMIT: usize = 200;

const CHAR_WIDTH: f64 = 7.2;
const NODE_HEIGHT: f64 = 26.0;

/// Escapes text for XML and HTML.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// `s`, cut to `max` characters with an ellipsis.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let tail: String = s
        .chars()
        .rev()
        .take(max - 1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

/// The fill of a class's box, by kind (the HTML legend shows the same colours).
pub(crate) fn fill(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Pool => "#fff1c2",
        NodeKind::Alloc => "#ffd9d6",
        NodeKind::Event => "#dcf2e0",
        NodeKind::Lock => "#e3ecfb",
    }
}

/// Whether a class of `kind` is drawn as an ellipse (an event: never held, waited for and
/// notified) rather than a box.
fn is_ellipse(kind: NodeKind) -> bool {
    kind == NodeKind::Event
}

const DEFS: &str = r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker><marker id="arrow-red" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker></defs>"##;

/// Half the width of the box of a class named `name`, its label cut to `max` characters.
fn half_width(name: &str, max: usize) -> f64 {
    (name.chars().count().min(max) as f64 * CHAR_WIDTH + 20.0) / 2.0
}

/// A class's box, centred at (`x`, `y`); returns its half width.
fn node(
    out: &mut String,
    merged: &Merged,
    class: u32,
    x: f64,
    y: f64,
    hot: bool,
    max: usize,
) -> f64 {
    let c = &merged.classes[class as usize];
    let label = shorten(&c.name, max);
    let half = half_width(&c.name, max);
    let stroke = if hot { "#c62828" } else { "#667" };
    let width = if hot { 2.0 } else { 1.0 };
    let shape = if is_ellipse(c.kind) {
        format!(
            r#"<ellipse cx="{x:.1}" cy="{y:.1}" rx="{half:.1}" ry="{:.1}""#,
            NODE_HEIGHT / 2.0
        )
    } else {
        let rx = if c.kind == NodeKind::Lock { 4 } else { 13 };
        format!(
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{NODE_HEIGHT}" rx="{rx}""#,
            x - half,
            y - NODE_HEIGHT / 2.0,
            2.0 * half
        )
    };
    let _ = write!(
        out,
        r#"<g><title>{} ({})</title>{shape} fill="{}" stroke="{stroke}" stroke-width="{width}"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" class="n">{}</text></g>"#,
        escape(&c.name),
        c.kind,
        fill(c.kind),
        y + 4.5,
        escape(&label)
    );
    half
}

/// The point where the segment from the centre of a box or ellipse (half width `hw`) towards
/// `(dx, dy)` leaves it (with a small gap), as a fraction of the segment.
fn exit(hw: f64, ellipse: bool, dx: f64, dy: f64) -> f64 {
    let hh = NODE_HEIGHT / 2.0 + 3.0;
    if ellipse {
        let (a, b) = (hw + 3.0, hh);
        let r = ((dx / a).powi(2) + (dy / b).powi(2)).sqrt();
        return if r > 1e-9 { 1.0 / r } else { f64::INFINITY };
    }
    let tx = if dx.abs() > 1e-9 {
        (hw + 3.0) / dx.abs()
    } else {
        f64::INFINITY
    };
    let ty = if dy.abs() > 1e-9 {
        hh / dy.abs()
    } else {
        f64::INFINITY
    };
    tx.min(ty)
}

/// The contributing test of dependency `e`, for a label: the first one, and how many more.
fn edge_test(merged: &Merged, shown: &Shown, e: usize) -> String {
    let edge = &merged.edges[e];
    let first = &merged.processes[edge.processes[0] as usize];
    let who = match first.test.clone().or_else(|| test_of(shown.frames(e))) {
        Some(test) => format!("test {test}"),
        None => format!("pid {}", first.pid),
    };
    match edge.processes.len() {
        1 => who,
        n => format!("{who} +{} more", n - 1),
    }
}

/// A cycle: its classes on a circle, each dependency an arrow bowed outwards and labelled with
/// where it was acquired and the test that recorded it; the closing dependency dashed.
pub(crate) fn cycle(merged: &Merged, shown: &Shown, cycle: &Cycle, report: &Report) -> String {
    let edges: Vec<_> = cycle.ring.iter().map(|&e| &merged.edges[e]).collect();
    let Body::Cycle { ring, .. } = &report.body else {
        return String::new();
    };
    let classes: Vec<u32> = edges.iter().map(|e| e.to).collect();
    let n = classes.len();
    let halves: Vec<f64> = classes
        .iter()
        .map(|&c| half_width(&merged.classes[c as usize].name, CYCLE_LABEL))
        .collect();
    let radius = cycle_radius(&halves);
    // Room for the labels: beside the circle, and above and below the outermost classes.
    let (margin_x, margin_y) = (300.0, 40.0);
    let (cx, cy) = (margin_x + radius, margin_y + radius);
    let at = |i: usize| {
        let (x, y) = on_circle(i, n, radius);
        (cx + x, cy + y)
    };
    // The picture spans the classes' rows (the bottom of a triangle is above the circle's).
    let lowest = (0..n).map(|i| at(i).1).fold(cy - radius, f64::max);
    let top = if n == 1 { cy - radius - 100.0 } else { 0.0 };
    // A triangle's (or any odd cycle's) bottom dependency is labelled below its bow.
    // Its label sits past half its bow (see below), two lines tall.
    let below = if n % 2 == 1 && n > 1 {
        let chord = 2.0 * radius * (std::f64::consts::PI / n as f64).sin();
        0.5 * bow(chord) + 40.0
    } else {
        0.0
    };
    let (width, height) = (2.0 * (margin_x + radius), lowest + margin_y + below - top);
    let index = |c: u32| classes.iter().position(|&x| x == c).unwrap_or(0);
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 {top:.0} {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" class="cycle">{DEFS}"#
    );
    let mut nodes = String::new();
    for (i, &c) in classes.iter().enumerate() {
        let (x, y) = at(i);
        node(&mut nodes, merged, c, x, y, true, CYCLE_LABEL);
    }
    for (k, ((edge, &e), d)) in edges.iter().zip(&cycle.ring).zip(ring).enumerate() {
        let (a, b) = (index(edge.from), index(edge.to));
        let site = shorten(&site_text(d.site.as_ref()), 44);
        let test = if d.is_reclaim_path() {
            "the pool's own: reclaim may need it".to_owned()
        } else {
            shorten(&edge_test(merged, shown, e), 44)
        };
        let dash = if k == 0 {
            r#" stroke-dasharray="7 4""#
        } else {
            ""
        };
        if a == b {
            // A class on itself: a loop above its box.
            let (x, y) = at(a);
            let top = y - NODE_HEIGHT / 2.0;
            let _ = write!(
                out,
                r##"<path d="M{:.1},{top:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{top:.1}" fill="none" stroke="#c62828" stroke-width="2"{dash} marker-end="url(#arrow-red)"/>"##,
                x - 20.0,
                x - 50.0,
                top - 60.0,
                x + 50.0,
                top - 60.0,
                x + 20.0
            );
            label(&mut out, x, top - 62.0, "middle", &site, &test);
            continue;
        }
        let ((x1, y1), (x2, y2)) = (at(a), at(b));
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt();
        let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
        // Bow outwards: the normal pointing away from the centre (either one for a chord
        // through it: the two dependencies of a pair then bow to opposite sides).
        let (mut nx, mut ny) = (dy / len, -dx / len);
        if nx * (mx - cx) + ny * (my - cy) < 0.0 {
            (nx, ny) = (-nx, -ny);
        }
        let bulge = bow(len);
        let (qx, qy) = (mx + nx * bulge, my + ny * bulge);
        // Start and end on the boxes' edges, along the curve's tangents.
        let ellipse = |i: usize| is_ellipse(merged.classes[classes[i] as usize].kind);
        let s = exit(halves[a], ellipse(a), qx - x1, qy - y1);
        let (sx, sy) = (x1 + (qx - x1) * s, y1 + (qy - y1) * s);
        let e = exit(halves[b], ellipse(b), qx - x2, qy - y2);
        let (ex, ey) = (x2 + (qx - x2) * e, y2 + (qy - y2) * e);
        let _ = write!(
            out,
            r##"<path d="M{sx:.1},{sy:.1} Q{qx:.1},{qy:.1} {ex:.1},{ey:.1}" fill="none" stroke="#c62828" stroke-width="2"{dash} marker-end="url(#arrow-red)"/>"##
        );
        // The label beside the curve's middle, on its outer side.
        let (lx, ly) = (
            0.25 * sx + 0.5 * qx + 0.25 * ex + nx * 12.0,
            0.25 * sy + 0.5 * qy + 0.25 * ey + ny * 12.0,
        );
        let anchor = if nx > 0.35 {
            "start"
        } else if nx < -0.35 {
            "end"
        } else {
            "middle"
        };
        let ly = if ny < -0.35 {
            ly - 12.0
        } else if ny > 0.35 {
            ly + 10.0
        } else {
            ly
        };
        label(&mut out, lx, ly, anchor, &site, &test);
    }
    out.push_str(&nodes);
    out.push_str("</svg>");
    out
}

/// Classes' labels in a cycle's picture are cut to this many characters.
const CYCLE_LABEL: usize = 34;

/// Class `i` of `n` on a circle of `radius` around the origin, the first at the top.
fn on_circle(i: usize, n: usize, radius: f64) -> (f64, f64) {
    let angle = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / n as f64;
    (radius * angle.cos(), radius * angle.sin())
}

/// The radius of a cycle's circle: wide enough for its classes (boxes of half widths
/// `halves`) to stand apart, with a gap; at least as the number of classes asks.
fn cycle_radius(halves: &[f64]) -> f64 {
    let n = halves.len();
    let mut radius = match n {
        1 => return 0.0,
        2 => 95.0,
        n => (60.0 * n as f64).clamp(130.0, 320.0),
    };
    let gap = 12.0;
    let apart = |radius: f64| {
        (0..n).all(|i| {
            (i + 1..n).all(|j| {
                let ((xi, yi), (xj, yj)) = (on_circle(i, n, radius), on_circle(j, n, radius));
                (xi - xj).abs() >= halves[i] + halves[j] + gap
                    || (yi - yj).abs() >= NODE_HEIGHT + gap
            })
        })
    };
    while !apart(radius) {
        radius *= 1.1;
    }
    radius
}

/// How far the arrow of a chord of `len` bows out of it.
fn bow(len: f64) -> f64 {
    0.22 * len + 20.0
}

/// Two lines of text: where, and who.
fn label(out: &mut String, x: f64, y: f64, anchor: &str, site: &str, test: &str) {
    let _ = write!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" class="l"><tspan x="{x:.1}">{}</tspan><tspan x="{x:.1}" dy="14" class="t">{}</tspan></text>"#,
        escape(site),
        escape(test)
    );
}

/// Each class's layer: the longest path to it in the graph without the dependencies that
/// close cycles: first those that closed a reported one (so that each cycle reads left to
/// right up to its closing dependency, drawn going back), then any found going back in a
/// depth-first search.
fn layers(merged: &Merged) -> Vec<usize> {
    let n = merged.classes.len();
    let mut closing = vec![false; merged.edges.len()];
    for cycle in &merged.cycles {
        closing[cycle.ring[0]] = true;
    }
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, e) in merged.edges.iter().enumerate() {
        if e.from != e.to && !closing[i] {
            out[e.from as usize].push(e.to);
        }
    }
    // Iterative DFS: a postorder without back edges is a reverse topological order.
    let mut state = vec![0u8; n];
    let mut post = Vec::with_capacity(n);
    let mut forward: Vec<Vec<u32>> = vec![Vec::new(); n];
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (v, ref mut i)) = stack.last_mut() {
            if let Some(&w) = out[v].get(*i) {
                *i += 1;
                match state[w as usize] {
                    0 => {
                        state[w as usize] = 1;
                        forward[v].push(w);
                        stack.push((w as usize, 0));
                    }
                    1 => {} // a back edge: closes a cycle
                    _ => forward[v].push(w),
                }
            } else {
                state[v] = 2;
                post.push(v);
                stack.pop();
            }
        }
    }
    let mut layer = vec![0usize; n];
    for &v in post.iter().rev() {
        for &w in &forward[v] {
            layer[w as usize] = layer[w as usize].max(layer[v] + 1);
        }
    }
    layer
}

/// Classes' labels in the overview are cut to this many characters.
const OVERVIEW_LABEL: usize = 24;

/// Where the overview draws each class (the centre of its box), and the picture's size.
struct Layout {
    centres: Vec<(f64, f64)>,
    width: f64,
    height: f64,
}

/// The merged graph in columns by topological layer; within a column, by the mean row of the
/// classes leading to it (one barycentre pass).
fn overview_layout(merged: &Merged) -> Layout {
    let n = merged.classes.len();
    let layer = layers(merged);
    let columns = layer.iter().max().map_or(0, |m| m + 1);
    let mut by_layer: Vec<Vec<u32>> = vec![Vec::new(); columns];
    for c in 0..n as u32 {
        by_layer[layer[c as usize]].push(c);
    }
    let mut row = vec![0.0f64; n];
    for (l, column) in by_layer.iter_mut().enumerate() {
        if l > 0 {
            let mean = |c: u32| {
                let rows: Vec<f64> = merged
                    .edges
                    .iter()
                    .filter(|e| e.to == c && layer[e.from as usize] < l)
                    .map(|e| row[e.from as usize])
                    .collect();
                if rows.is_empty() {
                    f64::MAX
                } else {
                    rows.iter().sum::<f64>() / rows.len() as f64
                }
            };
            let mut keyed: Vec<(f64, u32)> = column.iter().map(|&c| (mean(c), c)).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            *column = keyed.into_iter().map(|(_, c)| c).collect();
        }
        for (i, &c) in column.iter().enumerate() {
            row[c as usize] = i as f64;
        }
    }
    let column_width = OVERVIEW_LABEL as f64 * CHAR_WIDTH + 90.0;
    let row_height = 56.0;
    let rows = by_layer.iter().map(Vec::len).max().unwrap_or(1);
    let centres = (0..n)
        .map(|c| {
            let l = layer[c];
            let offset = (rows - by_layer[l].len()) as f64 * row_height / 2.0;
            (
                10.0 + (l as f64 + 0.5) * column_width,
                15.0 + offset + (row[c] + 0.5) * row_height,
            )
        })
        .collect();
    Layout {
        centres,
        width: columns as f64 * column_width + 20.0,
        height: rows as f64 * row_height + 50.0,
    }
}

/// The merged graph in columns by topological layer, cycles in red; `None` above
/// [`OVERVIEW_LIMIT`] classes.
pub(crate) fn overview(merged: &Merged) -> Option<String> {
    let n = merged.classes.len();
    if n > OVERVIEW_LIMIT || n == 0 {
        return None;
    }
    let Layout {
        centres,
        width,
        height,
    } = overview_layout(merged);
    let pos = |c: u32| centres[c as usize];
    let on_cycle = merged.on_cycle();
    let edge_on_cycle = merged.edge_on_cycle();
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" class="overview">{DEFS}"#
    );
    let mut nodes = String::new();
    let halves: Vec<f64> = (0..n as u32)
        .map(|c| {
            let (x, y) = pos(c);
            node(
                &mut nodes,
                merged,
                c,
                x,
                y,
                on_cycle[c as usize],
                OVERVIEW_LABEL,
            )
        })
        .collect();
    // Plain dependencies first, so that the cycles' are drawn over them.
    let mut order: Vec<usize> = (0..merged.edges.len()).collect();
    order.sort_by_key(|&e| edge_on_cycle[e]);
    for e in order {
        let edge = &merged.edges[e];
        let ((x1, y1), (x2, y2)) = (pos(edge.from), pos(edge.to));
        let (color, marker, width) = if edge_on_cycle[e] {
            ("#c62828", "arrow-red", 2.0)
        } else {
            ("#8a8f99", "arrow", 1.0)
        };
        let (d, dash) = if edge.from == edge.to {
            let top = y1 - NODE_HEIGHT / 2.0;
            let d = format!(
                "M{:.1},{top:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{top:.1}",
                x1 - 15.0,
                x1 - 35.0,
                top - 30.0,
                x1 + 35.0,
                top - 30.0,
                x1 + 15.0
            );
            (d, "")
        } else if x2 > x1 {
            // Forward, left to right: from the right side of one box to the left of the other.
            let (sx, ex) = (
                x1 + halves[edge.from as usize],
                x2 - halves[edge.to as usize] - 2.0,
            );
            let mid = (sx + ex) / 2.0;
            let d = format!("M{sx:.1},{y1:.1} C{mid:.1},{y1:.1} {mid:.1},{y2:.1} {ex:.1},{y2:.1}");
            (d, "")
        } else {
            // Backward (a cycle's closing dependency): a dashed arc just below the lower of
            // the two boxes, between the rows, right to left.
            let (sy, ey) = (y1 + NODE_HEIGHT / 2.0, y2 + NODE_HEIGHT / 2.0 + 2.0);
            let dip = sy.max(ey) + 16.0;
            let d = format!("M{x1:.1},{sy:.1} C{x1:.1},{dip:.1} {x2:.1},{dip:.1} {x2:.1},{ey:.1}");
            (d, r#" stroke-dasharray="6 4""#)
        };
        let _ = write!(
            out,
            r#"<path d="{d}" fill="none" stroke="{color}" stroke-width="{width}"{dash} marker-end="url(#{marker})"><title>{} → {}</title></path>"#,
            escape(&merged.classes[edge.from as usize].name),
            escape(&merged.classes[edge.to as usize].name)
        );
    }
    out.push_str(&nodes);
    out.push_str("</svg>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::merge::Merged;
    use crate::parse;
    use crate::read::Read;
    use crate::report;
    use crate::resolve::Shown;
    use crate::svg::{cycle, overview};

    /// A report file of one process with these dependencies between classes named so
    /// (`pool:…` a pool, `event:…` an event, `ALLOC` memory, any other a lock).
    fn file(pid: u32, edges: &[(&str, &str)]) -> String {
        let mut names: Vec<&str> = vec!["ALLOC"];
        for &(a, b) in edges {
            for n in [a, b] {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        let kind = |n: &str| match n {
            "ALLOC" => "alloc",
            n if n.starts_with("pool:") => "pool",
            n if n.starts_with("event:") => "event",
            _ => "lock",
        };
        let id = |n: &str| names.iter().position(|m| *m == n).unwrap() + 1;
        let classes: Vec<String> = names
            .iter()
            .map(|n| {
                format!(
                    r#"{{"id":{},"name":"{n}","kind":"{}","site":null,"type":null}}"#,
                    id(n),
                    kind(n)
                )
            })
            .collect();
        let edges: Vec<String> = edges
            .iter()
            .enumerate()
            .map(|(i, (a, b))| {
                format!(
                    r#"{{"from":{},"to":{},"deps":["EN"],"site":{{"file":"src/t.rs","line":{},"column":5}},"backtrace":[]}}"#,
                    id(a),
                    id(b),
                    i + 1
                )
            })
            .collect();
        format!(
            r#"{{"version":2,"binary":"/t/deps/t-0123456789abcdef","test":"t{pid}","pid":{pid},"time":0,"image":null,"graph":{{"classes":[{}],"edges":[{}]}},"violations":[]}}"#,
            classes.join(","),
            edges.join(",")
        )
    }

    fn merged(files: &[String]) -> Merged {
        let reads: Vec<Read> = files
            .iter()
            .enumerate()
            .map(|(i, text)| Read {
                path: PathBuf::from(format!("lockdep-{i}.json")),
                text: Ok(text.clone()),
            })
            .collect();
        let parsed = parse::all(&reads);
        assert!(parsed.iter().all(Result::is_ok));
        let mut merged = Merged::default();
        merged.add(reads.iter().map(|r| r.path.clone()).zip(parsed).collect());
        merged.finish()
    }

    /// The bounding boxes of the classes drawn: `(left, top, right, bottom)`.
    fn boxes(svg: &str) -> Vec<(f64, f64, f64, f64)> {
        let attr = |tag: &str, name: &str| -> f64 {
            let at = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            tag[at..at + tag[at..].find('"').unwrap()].parse().unwrap()
        };
        let mut out = Vec::new();
        for tag in svg.split('<').skip(1) {
            if tag.starts_with("rect ") {
                let (x, y) = (attr(tag, "x"), attr(tag, "y"));
                out.push((x, y, x + attr(tag, "width"), y + attr(tag, "height")));
            } else if tag.starts_with("ellipse ") {
                let (cx, cy, rx, ry) = (
                    attr(tag, "cx"),
                    attr(tag, "cy"),
                    attr(tag, "rx"),
                    attr(tag, "ry"),
                );
                out.push((cx - rx, cy - ry, cx + rx, cy + ry));
            }
        }
        out
    }

    fn assert_apart(boxes: &[(f64, f64, f64, f64)]) {
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let apart = a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
    }

    /// A graph of `n` classes with long and short names, fanning out and in, with two cycles
    /// that cross processes.
    fn graph(n: usize) -> Merged {
        let names: Vec<String> = (0..n)
            .map(|i| match i % 4 {
                0 => format!("pool:p{i}"),
                1 => format!("a-rather-long-lock-class-name-number-{i}"),
                2 => format!("event:e{i}"),
                _ => format!("l{i}"),
            })
            .collect();
        let mut edges: Vec<(&str, &str)> = Vec::new();
        for i in 0..n {
            for j in [i + 1, i + 3, i * 2 + 1] {
                if j < n {
                    edges.push((&names[i], &names[j]));
                }
            }
        }
        let back = [(names[n - 1].as_str(), names[0].as_str())];
        let back2 = [(names[n / 2].as_str(), names[1].as_str())];
        merged(&[file(1, &edges), file(2, &back), file(3, &back2)])
    }

    #[test]
    fn the_overview_is_reproducible_draws_every_dependency_and_no_class_over_another() {
        for n in [2, 5, 17, 60] {
            let merged = graph(n);
            assert!(!merged.cycles.is_empty());
            let svg = overview(&merged).unwrap();
            assert_eq!(svg, overview(&merged).unwrap());
            assert_eq!(
                svg.matches("fill=\"none\"").count(),
                merged.edges.len(),
                "n = {n}"
            );
            let boxes = boxes(&svg);
            assert_eq!(boxes.len(), merged.classes.len());
            assert_apart(&boxes);
        }
    }

    #[test]
    fn a_graph_too_large_is_not_drawn() {
        assert!(overview(&graph(crate::svg::OVERVIEW_LIMIT + 1)).is_none());
    }

    #[test]
    fn a_cycle_is_drawn_whole_with_its_classes_apart() {
        for n in 1..=9 {
            let names: Vec<String> = (0..n)
                .map(|i| format!("the-{i}-class-of-a-cycle-with-a-long-name"))
                .collect();
            let edges: Vec<(&str, &str)> = (0..n)
                .map(|i| (names[i].as_str(), names[(i + 1) % n].as_str()))
                .collect();
            let files: Vec<String> = edges
                .iter()
                .enumerate()
                .map(|(i, e)| file(i as u32 + 1, std::slice::from_ref(e)))
                .collect();
            let merged = merged(&files);
            assert_eq!(merged.cycles.len(), 1, "n = {n}");
            let shown = Shown::of(&merged);
            let model = report::cycle(&merged, &shown, &merged.cycles[0]);
            let svg = cycle(&merged, &shown, &merged.cycles[0], &model);
            assert_eq!(svg, cycle(&merged, &shown, &merged.cycles[0], &model));
            assert_eq!(svg.matches("fill=\"none\"").count(), n, "n = {n}");
            let boxes = boxes(&svg);
            assert_eq!(boxes.len(), n);
            assert_apart(&boxes);
        }
    }
}
