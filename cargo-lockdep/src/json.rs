//! `--json`: the merged graph, the processes and every violation as one JSON document (the
//! schema is `docs/merge.md`). Serialized straight from the merge, backtraces as the processes
//! wrote them (or resolved from their addresses): no document tree is built, so a graph of a
//! million dependencies costs its text.

use std::path::Path;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::input::{Frame, Site};
use crate::merge::{Edge, Merged, Trace};
use crate::text;
use lockdep_core::__merge::dep;

/// Version of the merged document's schema, raised on any incompatible change.
pub const MERGE_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    files: Vec<File<'a>>,
    skipped: Vec<Skipped<'a>>,
    graph: Graph<'a>,
    violations: Vec<Violation<'a>>,
}

#[derive(Serialize)]
struct File<'a> {
    path: &'a Path,
    binary: Option<&'a str>,
    test: Option<&'a str>,
    pid: u64,
    time: Option<u64>,
}

#[derive(Serialize)]
struct Skipped<'a> {
    path: &'a Path,
    error: String,
}

#[derive(Serialize)]
struct Graph<'a> {
    classes: Vec<Class<'a>>,
    edges: Vec<EdgeOut<'a>>,
}

#[derive(Serialize)]
struct Class<'a> {
    id: Option<u32>,
    name: &'a str,
    kind: &'a str,
    site: Option<&'a Site<'static>>,
    #[serde(rename = "type")]
    data_type: Option<&'a str>,
}

#[derive(Serialize)]
struct EdgeOut<'a> {
    from: u32,
    to: u32,
    deps: Vec<&'static str>,
    site: Option<Site<'a>>,
    backtrace: Backtrace<'a>,
    processes: &'a [u32],
}

/// A dependency's frames: as its process wrote them, or resolved from its addresses here.
#[derive(Serialize)]
#[serde(untagged)]
enum Backtrace<'a> {
    AsWritten(&'a RawValue),
    Resolved(Vec<Frame<'a>>),
}

#[derive(Serialize)]
struct Violation<'a> {
    kind: &'a str,
    headline: &'a str,
    source: &'static str,
    classes: Vec<Class<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chain: Option<Vec<EdgeOut<'a>>>,
    processes: &'a [u32],
    #[serde(skip_serializing_if = "Option::is_none")]
    violation: Option<&'a RawValue>,
    report: String,
}

fn class(merged: &Merged, id: u32) -> Class<'_> {
    let c = &merged.classes[id as usize];
    Class {
        id: Some(id),
        name: &c.name,
        kind: &c.kind,
        site: c.site.as_ref(),
        data_type: c.data_type.as_deref(),
    }
}

fn edge(edge: &Edge) -> EdgeOut<'_> {
    EdgeOut {
        from: edge.from,
        to: edge.to,
        deps: dep::names(edge.deps),
        site: edge.site(),
        backtrace: match &edge.trace {
            Trace::Frames(raw) => Backtrace::AsWritten(raw),
            Trace::Addresses { .. } => Backtrace::Resolved(edge.frames()),
        },
        processes: &edge.processes,
    }
}

/// The whole document, ending with a newline.
pub fn document(merged: &Merged) -> String {
    let mut edges: Vec<&Edge> = merged.edges.iter().collect();
    edges.sort_unstable_by_key(|e| (e.from, e.to));
    let mut violations: Vec<Violation<'_>> = merged
        .cycles
        .iter()
        .map(|cycle| Violation {
            kind: cycle.kind,
            headline: text::headline(cycle.kind),
            source: "merge",
            classes: cycle.classes(merged).map(|c| class(merged, c)).collect(),
            chain: Some(cycle.ring.iter().map(|&e| edge(&merged.edges[e])).collect()),
            processes: &cycle.in_process,
            violation: None,
            report: text::cycle_report(merged, cycle),
        })
        .collect();
    violations.extend(merged.recorded.iter().map(|r| {
        Violation {
            kind: &r.violation.kind,
            headline: &r.violation.headline,
            source: "process",
            classes: r
                .violation
                .classes
                .iter()
                .map(
                    |c| match merged.class_id(&c.name, &c.kind, c.data_type.as_deref()) {
                        Some(id) => class(merged, id),
                        None => Class {
                            id: None,
                            name: &c.name,
                            kind: &c.kind,
                            site: None,
                            data_type: c.data_type.as_deref(),
                        },
                    },
                )
                .collect(),
            chain: None,
            processes: &r.processes,
            violation: Some(&r.raw),
            report: text::recorded_report(merged, r),
        }
    }));
    let doc = Document {
        version: MERGE_VERSION,
        files: merged
            .processes
            .iter()
            .map(|p| File {
                path: &p.path,
                binary: p.binary.as_deref(),
                test: p.test.as_deref(),
                pid: p.pid,
                time: p.time,
            })
            .collect(),
        skipped: merged
            .bad
            .iter()
            .map(|(path, why)| Skipped {
                path,
                error: why.to_string(),
            })
            .collect(),
        graph: Graph {
            classes: (0..merged.classes.len() as u32)
                .map(|c| class(merged, c))
                .collect(),
            edges: edges.into_iter().map(edge).collect(),
        },
        violations,
    };
    let mut out = serde_json::to_string(&doc).expect("the document serializes");
    out.push('\n');
    out
}
