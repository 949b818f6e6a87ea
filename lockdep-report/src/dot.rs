//! Graphviz DOT of a dependency graph or of one report's cycle: a class's shape tells its kind
//! (a lock a box, a pool a cylinder, `ALLOC` a diamond, an event an ellipse), each dependency
//! is labelled with its types, and what is on a reported cycle is drawn red. The one
//! definition for the checker's graph and violations and for the merged graph.

use std::fmt::Write as _;

use crate::model::{Body, Report};
use crate::{dep, NodeKind};

/// A class of a drawn graph.
#[derive(Clone, Copy, Debug)]
pub struct Node<'a> {
    /// Its id in the graph (`c{id}` in the DOT).
    pub id: u32,
    /// Its name.
    pub name: &'a str,
    /// What it stands for: its shape.
    pub kind: NodeKind,
    /// Drawn red: on a reported cycle.
    pub hot: bool,
}

/// A dependency of a drawn graph.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    /// The class held.
    pub from: u32,
    /// The class acquired.
    pub to: u32,
    /// Its types ([`dep`] bits), its label.
    pub deps: u8,
    /// Drawn red: on a reported cycle.
    pub hot: bool,
}

/// A DOT string literal.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn shape(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Lock => "box",
        NodeKind::Pool => "cylinder",
        NodeKind::Alloc => "diamond",
        // An event is never held: drawn apart from the locks.
        NodeKind::Event => "ellipse",
    }
}

const HOT: &str = ", color=red, fontcolor=red, penwidth=2";

/// The digraph `name` of `nodes` and `edges`, in the order given.
///
/// # Examples
///
/// ```
/// use lockdep_report::dot::{digraph, Edge, Node};
/// use lockdep_report::{dep, NodeKind};
///
/// let nodes = [
///     Node { id: 1, name: "a", kind: NodeKind::Lock, hot: false },
///     Node { id: 2, name: "pool", kind: NodeKind::Pool, hot: true },
/// ];
/// let edges = [Edge { from: 1, to: 2, deps: dep::EN, hot: false }];
/// assert_eq!(
///     digraph("lockdep", nodes, edges),
///     "digraph lockdep {\n  c1 [label=\"a\", shape=box];\n  \
///      c2 [label=\"pool\", shape=cylinder, color=red, fontcolor=red, penwidth=2];\n  \
///      c1 -> c2 [label=\"EN\"];\n}\n"
/// );
/// ```
pub fn digraph<'a>(
    name: &str,
    nodes: impl IntoIterator<Item = Node<'a>>,
    edges: impl IntoIterator<Item = Edge>,
) -> String {
    let mut out = format!("digraph {name} {{\n");
    for n in nodes {
        let hot = if n.hot { HOT } else { "" };
        let _ = writeln!(
            out,
            "  c{} [label={}, shape={}{hot}];",
            n.id,
            quoted(n.name),
            shape(n.kind)
        );
    }
    for e in edges {
        let hot = if e.hot { HOT } else { "" };
        let _ = writeln!(
            out,
            "  c{} -> c{} [label={}{hot}];",
            e.from,
            e.to,
            quoted(&dep::names(e.deps).join(","))
        );
    }
    out.push_str("}\n");
    out
}

/// The cycle of `report` as the digraph `violation`, its classes numbered in chain order,
/// the dependency that closed it red (an empty graph for a report without a cycle).
///
/// # Examples
///
/// ```
/// use lockdep_report::{dep, dot, Body, Class, Dependency, FoundBy, NodeKind, Report, ViolationKind};
///
/// let (a, b) = (Class::new("a", NodeKind::Lock, None), Class::new("b", NodeKind::Lock, None));
/// let ring = vec![
///     Dependency::new(a.clone(), b.clone(), dep::EN, None, Vec::new()),
///     Dependency::new(b, a, dep::EN, None, Vec::new()),
/// ];
/// let found_by = FoundBy::Merge { processes: 2 };
/// let body = Body::Cycle { found_by, ring, held_back: None };
/// let report = Report::new(ViolationKind::CircularDependency, body);
/// let dot = dot::cycle(&report);
/// assert!(dot.contains("c1 -> c0 [label=\"EN\", color=red"));
/// assert!(dot.contains("c0 -> c1 [label=\"EN\"];"));
/// ```
pub fn cycle(report: &Report) -> String {
    let Body::Cycle { ring, .. } = &report.body else {
        return digraph("violation", [], []);
    };
    // Class i of the chain is ring[i].to; dependency i goes from class i - 1 (the last one
    // for the closing dependency) to class i.
    let n = ring.len() as u32;
    let nodes = ring.iter().enumerate().map(|(i, d)| Node {
        id: i as u32,
        name: &d.to.name,
        kind: d.to.kind,
        hot: false,
    });
    let edges = ring.iter().enumerate().map(|(i, d)| Edge {
        from: (i as u32 + n - 1) % n,
        to: i as u32,
        deps: d.deps,
        hot: i == 0,
    });
    digraph("violation", nodes, edges)
}
