//! `--json`: the merged graph, the processes and every violation as one JSON document (the
//! schema is `docs/merge.md`).

use serde_json::{json, Value};

use crate::merge::{Edge, Merged};
use crate::text;
use lockdep_core::__merge::dep;

/// Version of the merged document's schema, raised on any incompatible change.
pub const MERGE_VERSION: u32 = 1;

fn class(merged: &Merged, id: u32) -> Value {
    let c = &merged.classes[id as usize];
    json!({"id": id, "name": c.name, "kind": c.kind, "site": c.site})
}

fn edge(edge: &Edge) -> Value {
    json!({
        "from": edge.from,
        "to": edge.to,
        "deps": dep::names(edge.deps),
        "site": edge.site,
        "backtrace": edge.backtrace,
        "processes": edge.processes,
    })
}

/// The whole document, ending with a newline.
pub fn document(merged: &Merged) -> String {
    let files: Vec<Value> = merged
        .processes
        .iter()
        .map(|p| {
            json!({"path": p.path, "binary": p.binary, "test": p.test, "pid": p.pid, "time": p.time})
        })
        .collect();
    let skipped: Vec<Value> = merged
        .bad
        .iter()
        .map(|(path, why)| json!({"path": path, "error": why.to_string()}))
        .collect();
    let classes: Vec<Value> = (0..merged.classes.len() as u32)
        .map(|c| class(merged, c))
        .collect();
    let mut edges: Vec<&Edge> = merged.edges.iter().collect();
    edges.sort_unstable_by_key(|e| (e.from, e.to));
    let mut violations: Vec<Value> = merged
        .cycles
        .iter()
        .map(|cycle| {
            json!({
                "kind": cycle.kind,
                "headline": text::headline(cycle.kind),
                "source": "merge",
                "classes": cycle.classes(merged).map(|c| class(merged, c)).collect::<Vec<_>>(),
                "chain": cycle.ring.iter().map(|&e| edge(&merged.edges[e])).collect::<Vec<_>>(),
                "processes": cycle.in_process,
                "report": text::cycle_report(merged, cycle),
            })
        })
        .collect();
    violations.extend(merged.recorded.iter().map(|r| {
        let classes: Vec<Value> = r
            .violation
            .classes
            .iter()
            .map(|c| match merged.class_id(&c.name, &c.kind) {
                Some(id) => class(merged, id),
                None => json!({"id": null, "name": c.name, "kind": c.kind, "site": null}),
            })
            .collect();
        json!({
            "kind": r.violation.kind,
            "headline": r.violation.headline,
            "source": "process",
            "classes": classes,
            "processes": r.processes,
            "violation": r.raw,
            "report": text::recorded_report(merged, r),
        })
    }));
    let doc = json!({
        "version": MERGE_VERSION,
        "files": files,
        "skipped": skipped,
        "graph": {"classes": classes, "edges": edges.into_iter().map(edge).collect::<Vec<_>>()},
        "violations": violations,
    });
    let mut out = doc.to_string();
    out.push('\n');
    out
}
