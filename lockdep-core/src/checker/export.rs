//! Machine-readable output: JSON of violations and of the graph, DOT of the graph or a cycle.

use std::fmt::Write as _;

use super::graph::{self, dep};
use super::registry;
use super::report::{headline, site_of, Report};
use super::stack_trace::StackTrace;
use super::types::{ClassId, NodeKind};
use super::violation::{Detail, LockDesc, ViolationData};

/// A JSON string literal.
pub(crate) fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_list<T>(out: &mut String, items: &[T], mut item: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item(out, x);
    }
    out.push(']');
}

/// A held or wanted lock; `trace` names the user's frame for an allocation's site.
fn lock_json_at(out: &mut String, d: &LockDesc, trace: &StackTrace) {
    out.push_str("{\"class\":");
    json_str(out, registry::info(d.class).name);
    out.push_str(",\"site\":");
    json_str(out, &site_of(d.site, trace));
    let _ = write!(out, ",\"read\":{},\"count\":{}}}", d.access as u8, d.count);
}

fn lock_json(out: &mut String, d: &LockDesc) {
    lock_json_at(out, d, &StackTrace::default());
}

fn frames_json(out: &mut String, trace: &StackTrace) {
    let frames = trace.frames();
    json_list(out, &frames, |out, f| {
        let text = match &f.location {
            Some(loc) => format!("{} {loc}", f.name),
            None => f.name.clone(),
        };
        json_str(out, &text);
    });
}

/// One violation as a JSON object.
pub(crate) fn violation_json(data: &ViolationData) -> String {
    let mut out = String::from("{\"kind\":");
    json_str(&mut out, data.kind.as_str());
    out.push_str(",\"headline\":");
    json_str(&mut out, headline(data.kind));
    out.push_str(",\"thread\":");
    json_str(&mut out, &data.thread);
    out.push_str(",\"classes\":");
    json_list(&mut out, &data.class_names(), |out, c| json_str(out, c));
    match &data.detail {
        Detail::Cycle {
            trying,
            holding,
            ring,
        } => {
            out.push_str(",\"trying\":");
            lock_json_at(&mut out, trying, &data.trace);
            out.push_str(",\"holding\":");
            lock_json(&mut out, holding);
            out.push_str(",\"chain\":");
            json_list(&mut out, ring, |out, link| {
                out.push_str("{\"from\":");
                json_str(out, registry::info(link.from).name);
                out.push_str(",\"to\":");
                json_str(out, registry::info(link.to).name);
                out.push_str(",\"site\":");
                json_str(out, &site_of(link.site, &link.trace));
                out.push_str(",\"backtrace\":");
                frames_json(out, &link.trace);
                out.push('}');
            });
        }
        Detail::Recursive { trying, holding } => {
            out.push_str(",\"trying\":");
            lock_json_at(&mut out, trying, &data.trace);
            out.push_str(",\"holding\":");
            lock_json(&mut out, holding);
        }
        Detail::PoolOutstanding {
            outstanding, site, ..
        } => {
            let _ = write!(out, ",\"outstanding\":{outstanding},\"site\":");
            json_str(&mut out, &site.to_string());
        }
        Detail::Overflow { what, limit } => {
            out.push_str(",\"what\":");
            json_str(&mut out, what);
            let _ = write!(out, ",\"limit\":{limit}");
        }
        Detail::HeldAtExit => {}
    }
    out.push_str(",\"held\":");
    json_list(&mut out, &data.held, lock_json);
    out.push_str(",\"backtrace\":");
    frames_json(&mut out, &data.trace);
    out.push_str(",\"report\":");
    json_str(&mut out, &Report(data).to_string());
    out.push('}');
    out
}

/// The whole dependency graph as JSON: `{"classes":[…],"edges":[…]}`.
pub(crate) fn graph_json() -> String {
    // ALLOC is always a node of the graph, even before anything allocated under a lock.
    registry::alloc_class();
    let mut out = String::from("{\"classes\":[");
    for id in 1..=registry::count() {
        if id > 1 {
            out.push(',');
        }
        let info = registry::info(id);
        let _ = write!(out, "{{\"id\":{id},\"name\":");
        json_str(&mut out, info.name);
        out.push_str(",\"kind\":");
        json_str(&mut out, info.kind.as_str());
        if let Some(site) = info.site {
            out.push_str(",\"site\":");
            json_str(&mut out, &site.to_string());
        }
        out.push('}');
    }
    out.push_str("],\"edges\":[");
    let graph = graph::lock();
    let mut edges: Vec<_> = graph.edges().collect();
    edges.sort_unstable_by_key(|(k, _)| **k);
    for (i, ((from, to), edge)) in edges.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"from\":{from},\"to\":{to},\"deps\":");
        json_list(&mut out, &dep::names(edge.deps), |out, n| json_str(out, n));
        out.push_str(",\"site\":");
        json_str(&mut out, &edge.site.to_string());
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn dot_node(out: &mut String, class: ClassId) {
    let info = registry::info(class);
    let shape = match info.kind {
        NodeKind::Lock => "box",
        NodeKind::Pool => "cylinder",
        NodeKind::Alloc => "diamond",
    };
    let mut label = String::new();
    json_str(&mut label, info.name);
    let _ = writeln!(out, "  c{class} [label={label}, shape={shape}];");
}

/// The whole graph as Graphviz DOT.
pub(crate) fn graph_dot() -> String {
    registry::alloc_class();
    let mut out = String::from("digraph lockdep {\n");
    for id in 1..=registry::count() {
        dot_node(&mut out, id);
    }
    let graph = graph::lock();
    let mut edges: Vec<_> = graph.edges().map(|(k, e)| (*k, e.deps)).collect();
    edges.sort_unstable();
    for ((from, to), deps) in edges {
        let _ = writeln!(
            out,
            "  c{from} -> c{to} [label=\"{}\"];",
            dep::names(deps).join(",")
        );
    }
    out.push_str("}\n");
    out
}

/// The cycle of a violation as DOT, the closing dependency in red.
pub(crate) fn violation_dot(data: &ViolationData) -> String {
    let mut out = String::from("digraph violation {\n");
    if let Detail::Cycle { ring, .. } = &data.detail {
        for link in ring {
            dot_node(&mut out, link.to);
        }
        for (i, link) in ring.iter().enumerate() {
            let style = if i == 0 { " [color=red]" } else { "" };
            let _ = writeln!(out, "  c{} -> c{}{style};", link.from, link.to);
        }
    }
    out.push_str("}\n");
    out
}
