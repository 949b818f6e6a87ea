//! Machine-readable output: JSON of violations, of the graph and of a process's report file
//! (their schema is `book/src/json.md`), DOT of the graph or a cycle.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::panic::Location;
use std::sync::Arc;

use super::fast_hash::FastHash;
use super::graph::{self, dep};
use super::image::Image;
use super::registry;
use lockdep_report::{dot, Site};

use super::report::{self, own_site, source_site_of, Report};
use super::stack_trace::StackTrace;
use super::types::ClassId;
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

/// A source position: `{"file","line","column"}` (`column` null when the debug information
/// has none), or `null` when there is none (an allocation whose stack has no user frame).
fn site_json(out: &mut String, site: Option<&Site>) {
    match site {
        Some(site) => {
            out.push_str("{\"file\":");
            json_str(out, &site.file);
            let _ = write!(out, ",\"line\":{},\"column\":", site.line);
            match site.column {
                Some(column) => {
                    let _ = write!(out, "{column}");
                }
                None => out.push_str("null"),
            }
            out.push('}');
        }
        None => out.push_str("null"),
    }
}

/// Where an acquisition happened (see [`source_site_of`]).
fn acquisition_site_json(out: &mut String, site: &'static Location<'static>, trace: &StackTrace) {
    site_json(out, source_site_of(site, trace).as_ref());
}

/// A class: `{"id","name","kind","site","type"}`, `site` being where a creation-site class
/// was created and `type` the type of its locks' data (both null for a named class).
fn class_json(out: &mut String, class: ClassId) {
    let info = registry::info(class);
    let _ = write!(out, "{{\"id\":{class},\"name\":");
    json_str(out, info.name);
    out.push_str(",\"kind\":");
    json_str(out, info.kind.as_str());
    out.push_str(",\"site\":");
    site_json(out, info.site.map(registry::source_site).as_ref());
    out.push_str(",\"type\":");
    json_opt_str(out, info.data_type);
    out.push('}');
}

/// A held or wanted lock; `trace` names the user's frame for an allocation's site.
fn lock_json_at(out: &mut String, d: &LockDesc, trace: &StackTrace) {
    out.push_str("{\"class\":");
    class_json(out, d.class);
    out.push_str(",\"access\":");
    json_str(out, d.access.as_str());
    let _ = write!(out, ",\"count\":{},\"site\":", d.count);
    acquisition_site_json(out, d.site, trace);
    out.push('}');
}

fn lock_json(out: &mut String, d: &LockDesc) {
    lock_json_at(out, d, &StackTrace::default());
}

/// Resolved frames, innermost first: `[{"function","site"}]`.
fn frames_json(out: &mut String, trace: &StackTrace) {
    json_list(out, &trace.frames(), |out, f| {
        out.push_str("{\"function\":");
        json_str(out, &f.function);
        out.push_str(",\"site\":");
        site_json(out, f.site.as_ref());
        out.push('}');
    });
}

/// One violation as a JSON object (the schema is `book/src/json.md`).
pub(crate) fn violation_json(data: &ViolationData) -> String {
    let mut out = String::new();
    write_violation(&mut out, data);
    out
}

fn write_violation(out: &mut String, data: &ViolationData) {
    out.push_str("{\"kind\":");
    json_str(out, data.kind.as_str());
    out.push_str(",\"headline\":");
    json_str(out, data.kind.headline());
    out.push_str(",\"thread\":");
    json_str(out, &data.thread);
    out.push_str(",\"classes\":");
    json_list(out, &data.classes(), |out, &c| class_json(out, c));
    match &data.detail {
        Detail::Cycle {
            trying,
            holding,
            ring,
        } => {
            out.push_str(",\"trying\":");
            lock_json_at(out, trying, &data.trace);
            out.push_str(",\"holding\":");
            lock_json(out, holding);
            out.push_str(",\"chain\":");
            json_list(out, ring, |out, link| {
                out.push_str("{\"from\":");
                class_json(out, link.from);
                out.push_str(",\"to\":");
                class_json(out, link.to);
                out.push_str(",\"site\":");
                acquisition_site_json(out, link.site, &link.trace);
                out.push_str(",\"backtrace\":");
                frames_json(out, &link.trace);
                out.push('}');
            });
        }
        Detail::Recursive { trying, holding } => {
            out.push_str(",\"trying\":");
            lock_json_at(out, trying, &data.trace);
            out.push_str(",\"holding\":");
            lock_json(out, holding);
        }
        Detail::DeclaredOrder {
            trying,
            holding,
            trying_key,
            holding_key,
        } => {
            out.push_str(",\"trying\":");
            lock_json_at(out, trying, &data.trace);
            out.push_str(",\"holding\":");
            lock_json(out, holding);
            let _ = write!(
                out,
                ",\"trying_key\":{trying_key},\"holding_key\":{holding_key}"
            );
        }
        Detail::PoolOutstanding {
            outstanding, site, ..
        } => {
            let _ = write!(out, ",\"outstanding\":{outstanding},\"site\":");
            site_json(out, Some(&registry::source_site(site)));
        }
        Detail::Overflow { what, limit } => {
            out.push_str(",\"what\":");
            json_str(out, what);
            let _ = write!(out, ",\"limit\":{limit}");
        }
        Detail::HeldAtExit => {}
        Detail::Hang {
            timeout,
            waiters,
            cycle,
        } => {
            let _ = write!(out, ",\"timeout_ms\":{},\"waits\":", timeout.as_millis());
            json_list(out, waiters, |out, w| {
                out.push_str("{\"who\":");
                json_str(out, &w.who);
                out.push_str(",\"waiting_for\":");
                lock_json(out, &w.waiting_for);
                let _ = write!(out, ",\"waited_ms\":{},\"held\":", w.waited.as_millis());
                json_list(out, &w.held, lock_json);
                out.push('}');
            });
            out.push_str(",\"cycle\":");
            json_list(out, cycle, |out, i| {
                let _ = write!(out, "{i}");
            });
        }
        Detail::HeldAcrossAwait {
            task, site, next, ..
        } => {
            let _ = write!(out, ",\"task\":{task},\"next\":{next},\"site\":");
            site_json(out, own_site(site).as_ref());
        }
    }
    out.push_str(",\"held\":");
    json_list(out, &data.held, lock_json);
    out.push_str(",\"backtrace\":");
    frames_json(out, &data.trace);
    out.push_str(",\"report\":");
    json_str(out, &Report(data).to_string());
    out.push('}');
}

/// How a document writes its dependencies' stack traces.
#[derive(Clone, Copy)]
pub(crate) enum Symbols<'a> {
    /// Resolved in this process: `"backtrace"`, the frames.
    Resolved,
    /// As addresses in the executable's file (`"addresses"`), for `cargo lockdep` to resolve
    /// after the run; an allocation's site, which only its resolved trace tells, is left
    /// `null` for the same reason.
    Addresses(&'a Image),
}

/// The whole dependency graph as JSON: `{"classes":[…],"edges":[…]}` (the schema is
/// `book/src/json.md`). Resolves every dependency's stack trace: slow, for reports, not loops.
pub(crate) fn graph_json() -> String {
    let mut out = String::new();
    write_graph(&mut out, Symbols::Resolved);
    out
}

fn write_graph(out: &mut String, symbols: Symbols<'_>) {
    // ALLOC is always a node of the graph, even before anything allocated under a lock.
    registry::alloc_class();
    // Copied out (a trace is shared, not copied), so that resolving symbols, which is slow,
    // does not hold the graph's lock.
    let mut edges: Vec<(ClassId, ClassId, u8, &'static Location<'static>, StackTrace)> =
        graph::lock()
            .edges()
            .map(|(&(from, to), e)| (from, to, e.deps, e.site, e.trace.clone()))
            .collect();
    edges.sort_unstable_by_key(|e| (e.0, e.1));
    // Counted after the edges were copied: a class is registered before any dependency on
    // it, so every class an edge names is listed, however other threads race with this.
    let classes: Vec<ClassId> = (1..=registry::count()).collect();
    out.push_str("{\"classes\":");
    json_list(out, &classes, |out, &c| class_json(out, c));
    // Many dependencies share a trace (one acquisition's, or captures of one call path):
    // each distinct trace is written once.
    let mut traces: HashMap<&[usize], String, FastHash> = HashMap::default();
    for (.., trace) in &edges {
        traces
            .entry(trace.ips())
            .or_insert_with(|| trace_json(trace, symbols));
    }
    out.push_str(",\"edges\":");
    json_list(out, &edges, |out, (from, to, deps, site, trace)| {
        let _ = write!(out, "{{\"from\":{from},\"to\":{to},\"deps\":");
        json_list(out, &dep::names(*deps), |out, n| json_str(out, n));
        out.push_str(",\"site\":");
        match symbols {
            Symbols::Resolved => acquisition_site_json(out, site, trace),
            Symbols::Addresses(_) => site_json(out, own_site(site).as_ref()),
        }
        out.push(',');
        out.push_str(&traces[trace.ips()]);
        out.push('}');
    });
    out.push('}');
}

/// A dependency's trace as its edge carries it: `"backtrace":[frames]` or `"addresses":[…]`
/// (the frames of other objects than the executable, which reports never show, left out).
fn trace_json(trace: &StackTrace, symbols: Symbols<'_>) -> String {
    let mut out = String::new();
    match symbols {
        Symbols::Resolved => {
            out.push_str("\"backtrace\":");
            frames_json(&mut out, trace);
        }
        Symbols::Addresses(image) => {
            out.push_str("\"addresses\":");
            let addresses: Vec<u64> = trace
                .lookup_addresses()
                .filter_map(|a| image.file_address(a))
                .collect();
            json_list(&mut out, &addresses, |out, a| {
                let _ = write!(out, "{a}");
            });
        }
    }
    out
}

/// What a report file says about the process that wrote it.
pub(crate) struct Writer {
    pub(crate) binary: Option<String>,
    pub(crate) test: Option<String>,
    pub(crate) pid: u32,
    /// Seconds since the UNIX epoch.
    pub(crate) time: u64,
}

/// Version of the report file's schema, raised on any incompatible change.
pub(crate) const REPORT_VERSION: u32 = 2;

/// The report file of a process: who wrote it, the `image` its traces' addresses are in (with
/// [`Symbols::Addresses`]), its graph, its `violations` (the schema is `book/src/json.md`).
pub(crate) fn report_json(
    writer: &Writer,
    symbols: Symbols<'_>,
    violations: &[Arc<ViolationData>],
) -> String {
    let mut out = format!("{{\"version\":{REPORT_VERSION},\"binary\":");
    json_opt_str(&mut out, writer.binary.as_deref());
    out.push_str(",\"test\":");
    json_opt_str(&mut out, writer.test.as_deref());
    let _ = write!(
        out,
        ",\"pid\":{},\"time\":{},\"image\":",
        writer.pid, writer.time
    );
    match symbols {
        Symbols::Resolved => out.push_str("null"),
        Symbols::Addresses(image) => {
            out.push_str("{\"path\":");
            json_str(&mut out, &image.path);
            let _ = write!(
                out,
                ",\"size\":{},\"modified\":{}}}",
                image.size, image.modified
            );
        }
    }
    out.push_str(",\"graph\":");
    write_graph(&mut out, symbols);
    out.push_str(",\"violations\":");
    json_list(&mut out, violations, |out, v| write_violation(out, v));
    out.push_str("}\n");
    out
}

fn json_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => json_str(out, s),
        None => out.push_str("null"),
    }
}

/// The whole graph as Graphviz DOT, the classes and dependencies of the reported cycles red.
pub(crate) fn graph_dot() -> String {
    registry::alloc_class();
    let mut hot_classes = std::collections::HashSet::new();
    let mut hot_edges = std::collections::HashSet::new();
    for v in super::store::pending() {
        if let Detail::Cycle { ring, .. } = &v.detail {
            hot_classes.extend(ring.iter().map(|l| l.to));
            hot_edges.extend(ring.iter().map(|l| (l.from, l.to)));
        }
    }
    let names: Vec<String> = (1..=registry::count())
        .map(|c| registry::display_name(c).to_owned())
        .collect();
    let nodes = names.iter().zip(1..).map(|(name, id)| dot::Node {
        id,
        name,
        kind: registry::info(id).kind,
        hot: hot_classes.contains(&id),
    });
    let mut edges: Vec<_> = graph::lock().edges().map(|(k, e)| (*k, e.deps)).collect();
    edges.sort_unstable();
    let edges = edges.into_iter().map(|((from, to), deps)| dot::Edge {
        from,
        to,
        deps,
        hot: hot_edges.contains(&(from, to)),
    });
    dot::digraph("lockdep", nodes, edges)
}

/// The cycle of a violation as DOT, the closing dependency red.
pub(crate) fn violation_dot(data: &ViolationData) -> String {
    dot::cycle(&report::model_without_stacks(data))
}
