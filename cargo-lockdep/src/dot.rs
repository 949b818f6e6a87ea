//! `--dot`: the whole merged graph as Graphviz DOT, the classes and dependencies of reported
//! cycles in red.

use std::fmt::Write as _;

use crate::merge::Merged;
use lockdep_core::__merge::dep;

/// A DOT string literal.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The DOT digraph.
pub fn document(merged: &Merged) -> String {
    let on_cycle = merged.on_cycle();
    let edge_on_cycle = merged.edge_on_cycle();
    let mut out = String::from("digraph lockdep {\n  node [fontname=\"monospace\"];\n");
    for (id, c) in merged.classes.iter().enumerate() {
        let shape = match c.kind.as_str() {
            "pool" => "cylinder",
            "alloc" => "diamond",
            // An event is never held: drawn apart from the locks, as the in-process export.
            "event" => "ellipse",
            _ => "box",
        };
        let style = if on_cycle[id] {
            ", color=red, fontcolor=red, penwidth=2"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  c{id} [label={}, shape={shape}{style}];",
            quoted(&c.name)
        );
    }
    let mut edges: Vec<usize> = (0..merged.edges.len()).collect();
    edges.sort_unstable_by_key(|&e| (merged.edges[e].from, merged.edges[e].to));
    for e in edges {
        let edge = &merged.edges[e];
        let style = if edge_on_cycle[e] {
            ", color=red, fontcolor=red, penwidth=2"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  c{} -> c{} [label={}{style}];",
            edge.from,
            edge.to,
            quoted(&dep::names(edge.deps).join(","))
        );
    }
    out.push_str("}\n");
    out
}
