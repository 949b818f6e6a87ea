//! Stage 6 of the pipeline, as `--dot`: the whole merged graph as Graphviz DOT, drawn by
//! lockdep's own DOT renderer, the classes and dependencies of reported cycles red.

use lockdep_report::dot;

use crate::merge::Merged;

/// The DOT digraph.
pub(crate) fn document(merged: &Merged) -> String {
    let on_cycle = merged.on_cycle();
    let edge_on_cycle = merged.edge_on_cycle();
    let nodes = merged.classes.iter().enumerate().map(|(id, c)| dot::Node {
        id: id as u32,
        name: &c.name,
        kind: c.kind,
        hot: on_cycle[id],
    });
    let mut edges: Vec<usize> = (0..merged.edges.len()).collect();
    edges.sort_unstable_by_key(|&e| (merged.edges[e].from, merged.edges[e].to));
    let edges = edges.into_iter().map(|e| {
        let edge = &merged.edges[e];
        dot::Edge {
            from: edge.from,
            to: edge.to,
            deps: edge.deps,
            hot: edge_on_cycle[e],
        }
    });
    dot::digraph("lockdep", nodes, edges)
}
