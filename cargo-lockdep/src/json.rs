//! Stage 6 of the pipeline, as `--json`: the merged graph, the processes and every violation
//! as one JSON document (the schema is `book/src/merge.md`). Serialized straight from the merge:
//! no document tree is built, so a graph of a million dependencies costs its text.
//! Backtraces are as the processes wrote them; a trace written as addresses is resolved only
//! for a dependency on a reported cycle, and copied as addresses otherwise.

use std::path::Path;

use lockdep_report::{dep, Frame, Site};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::merge::{Edge, Merged, Trace};
use crate::parse::Image;
use crate::report::Rendered;
use crate::resolve::Shown;

/// Version of the merged document's schema, raised on any incompatible change (2: a trace
/// left as addresses is copied as such, not resolved, unless a report shows it).
const MERGE_VERSION: u32 = 2;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    files: Vec<File<'a>>,
    skipped: Vec<Skipped<'a>>,
    graph: Graph<'a>,
    violations: Vec<Violation<'a>>,
    suppressed: Vec<SuppressedOut<'a>>,
}

/// A violation the suppression file suppressed.
#[derive(Serialize)]
struct SuppressedOut<'a> {
    kind: &'static str,
    classes: &'a [String],
    line: usize,
    reason: &'a str,
}

#[derive(Serialize)]
struct File<'a> {
    path: &'a Path,
    binary: Option<&'a str>,
    test: Option<&'a str>,
    pid: u64,
    time: Option<u64>,
    image: Option<&'a Image>,
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
    kind: &'static str,
    site: Option<SiteOut<'a>>,
    #[serde(rename = "type")]
    data_type: Option<&'a str>,
}

#[derive(Serialize)]
struct EdgeOut<'a> {
    from: u32,
    to: u32,
    deps: Vec<&'static str>,
    site: Option<SiteOut<'a>>,
    backtrace: Option<Backtrace<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    addresses: Option<&'a RawValue>,
    processes: &'a [u32],
}

/// A source position, as report files write one.
struct SiteOut<'a>(&'a Site);

impl Serialize for SiteOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("file", &self.0.file)?;
        map.serialize_entry("line", &self.0.line)?;
        map.serialize_entry("column", &self.0.column)?;
        map.end()
    }
}

/// A resolved frame, as report files write one.
struct FrameOut<'a>(&'a Frame);

impl Serialize for FrameOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("function", &self.0.function)?;
        map.serialize_entry("site", &self.0.site.as_ref().map(SiteOut))?;
        map.end()
    }
}

/// A dependency's frames: as its process wrote them, or resolved from its addresses here.
#[derive(Serialize)]
#[serde(untagged)]
enum Backtrace<'a> {
    AsWritten(&'a RawValue),
    Resolved(Vec<FrameOut<'a>>),
}

#[derive(Serialize)]
struct Violation<'a> {
    kind: &'static str,
    headline: &'static str,
    source: &'static str,
    classes: Vec<Class<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chain: Option<Vec<EdgeOut<'a>>>,
    processes: &'a [u32],
    #[serde(skip_serializing_if = "Option::is_none")]
    violation: Option<&'a RawValue>,
    report: &'a str,
}

fn class(merged: &Merged, id: u32) -> Class<'_> {
    let c = &merged.classes[id as usize];
    Class {
        id: Some(id),
        name: &c.name,
        kind: c.kind.as_str(),
        site: c.site.as_ref().map(SiteOut),
        data_type: c.data_type.as_deref(),
    }
}

fn edge<'a>(merged: &'a Merged, shown: &'a Shown, index: usize) -> EdgeOut<'a> {
    let edge: &Edge = &merged.edges[index];
    let (backtrace, addresses) = match &edge.trace {
        Trace::Frames(raw) => (Some(Backtrace::AsWritten(raw)), None),
        Trace::Addresses { .. } if shown.has(index) => (
            Some(Backtrace::Resolved(
                shown.frames(index).iter().map(FrameOut).collect(),
            )),
            None,
        ),
        Trace::Addresses { addresses, .. } => (None, addresses.as_deref()),
    };
    EdgeOut {
        from: edge.from,
        to: edge.to,
        deps: dep::names(edge.deps),
        site: shown.site(index).or(edge.site.as_ref()).map(SiteOut),
        backtrace,
        addresses,
        processes: &edge.processes,
    }
}

/// The whole document, ending with a newline; `reports` are the merge's reports, cycles first.
pub(crate) fn document(merged: &Merged, shown: &Shown, reports: &[Rendered]) -> String {
    let mut edges: Vec<usize> = (0..merged.edges.len()).collect();
    edges.sort_unstable_by_key(|&e| (merged.edges[e].from, merged.edges[e].to));
    let (cycle_reports, recorded_reports) = reports.split_at(merged.cycles.len());
    let mut violations: Vec<Violation<'_>> = merged
        .cycles
        .iter()
        .zip(cycle_reports)
        .map(|(cycle, report)| Violation {
            kind: cycle.kind.as_str(),
            headline: cycle.kind.headline(),
            source: "merge",
            classes: cycle.classes(merged).map(|c| class(merged, c)).collect(),
            chain: Some(cycle.ring.iter().map(|&e| edge(merged, shown, e)).collect()),
            processes: &cycle.in_process,
            violation: None,
            report: &report.text,
        })
        .collect();
    violations.extend(
        merged
            .recorded
            .iter()
            .zip(recorded_reports)
            .map(|(r, report)| Violation {
                kind: r.violation.kind.as_str(),
                headline: r.violation.kind.headline(),
                source: "process",
                classes: r
                    .violation
                    .classes
                    .iter()
                    .map(
                        |c| match merged.class_id(&c.name, c.kind, c.data_type.as_deref()) {
                            Some(id) => class(merged, id),
                            None => Class {
                                id: None,
                                name: &c.name,
                                kind: c.kind.as_str(),
                                site: None,
                                data_type: c.data_type.as_deref(),
                            },
                        },
                    )
                    .collect(),
                chain: None,
                processes: &r.processes,
                violation: Some(&r.raw),
                report: &report.text,
            }),
    );
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
                image: p.image.as_deref(),
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
            edges: edges.into_iter().map(|e| edge(merged, shown, e)).collect(),
        },
        violations,
        suppressed: merged
            .suppressed
            .iter()
            .map(|s| SuppressedOut {
                kind: s.kind.as_str(),
                classes: &s.classes,
                line: s.line,
                reason: &s.reason,
            })
            .collect(),
    };
    let mut out = serde_json::to_string(&doc).expect("the document serializes");
    out.push('\n');
    out
}
