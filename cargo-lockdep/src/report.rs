//! Stage 5 of the pipeline: the merge's findings as reports. A cycle of the merged graph
//! becomes lockdep's report model (`lockdep_report::Report`), printed by the renderer the
//! checker prints its own violations with; each dependency names the processes (and tests)
//! that recorded it. A violation only a process recorded keeps the text that process wrote.

use std::fmt::Write as _;
use std::path::Path;

use lockdep_report::{
    test_closure, title, Access, Body, Class, Dependency, FoundBy, HeldBack, Lock, Report,
};

use crate::merge::{Cycle, Merged, Process, Recorded};
use crate::resolve::Shown;

/// Processes named per dependency before "and N more".
const PROCESSES_SHOWN: usize = 3;

/// A report as printed, and its model when the merge found it.
pub(crate) struct Rendered {
    pub(crate) text: String,
    pub(crate) model: Option<Report>,
}

/// Every report, in order: the merge's cycles, then what only processes recorded.
pub(crate) fn all(merged: &Merged, shown: &Shown) -> Vec<Rendered> {
    merged
        .cycles
        .iter()
        .map(|c| {
            let model = cycle(merged, shown, c);
            Rendered {
                text: model.to_string(),
                model: Some(model),
            }
        })
        .chain(merged.recorded.iter().map(|r| Rendered {
            text: recorded(merged, r),
            model: None,
        }))
        .collect()
}

/// A class of the merged graph as a report names it.
fn class(merged: &Merged, id: u32) -> Class {
    let c = &merged.classes[id as usize];
    Class::new(c.name.clone(), c.kind, c.site.clone())
}

/// The report of a cycle the merge found.
pub(crate) fn cycle(merged: &Merged, shown: &Shown, cycle: &Cycle) -> Report {
    let mut ring: Vec<Dependency> = cycle
        .ring
        .iter()
        .map(|&e| {
            let edge = &merged.edges[e];
            let mut d = Dependency::new(
                class(merged, edge.from),
                class(merged, edge.to),
                edge.deps,
                shown.site(e).cloned(),
                shown.frames(e).to_vec(),
            );
            // A pool's own `ALLOC → pool` is nobody's acquisition: no process is credited.
            if !d.is_reclaim_path() {
                d.recorded_by = Some(processes_line(merged, &edge.processes, shown.frames(e)));
            }
            d
        })
        .collect();
    let mut contributors: Vec<u32> = cycle
        .ring
        .iter()
        .zip(&ring)
        .filter(|(_, d)| !d.is_reclaim_path())
        .flat_map(|(&e, _)| merged.edges[e].processes.iter().copied())
        .collect();
    contributors.sort_unstable();
    contributors.dedup();
    let found_by = FoundBy::Merge {
        processes: contributors.len(),
    };
    let held_back = cycle.written.map(|id| {
        // The closing dependency is a read of the class written.
        ring[0].wanted = Access::Read;
        HeldBack::FirstWrite {
            write: Lock {
                class: class(merged, id),
                access: Access::Write,
                count: 1,
                site: merged.classes[id as usize].first_write.clone().flatten(),
            },
        }
    });
    let body = Body::Cycle {
        found_by,
        ring,
        held_back,
    };
    let mut report = Report::new(cycle.kind, body);
    if !cycle.in_process.is_empty() {
        report.notes.push(format!(
            "(also recorded in-process by {})",
            processes_line(merged, &cycle.in_process, &[])
        ));
    }
    report
}

/// The report of a violation a process recorded itself: its own text, and who recorded it.
pub(crate) fn recorded(merged: &Merged, r: &Recorded) -> String {
    let mut out = r.violation.report.clone();
    if out.is_empty() {
        // A process that wrote no text: its report's headline, as the checker prints it.
        out = title(r.violation.kind);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n(recorded in-process by {})",
        processes_line(merged, &r.processes, &[])
    );
    out
}

/// A binary's file name, and the test target it was built from (`a-0123abcd` → `a`).
fn binary_names(binary: Option<&str>) -> (String, String) {
    let file = binary
        .map(|b| {
            Path::new(b)
                .file_name()
                .map_or(b.to_owned(), |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "?".to_owned());
    let target = match file.rsplit_once('-') {
        Some((target, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            target.to_owned()
        }
        _ => file.clone(),
    };
    (file, target)
}

/// The test function a stack was recorded in, read from its frames, as the test harness
/// names it (its path without the crate): for processes that ran several tests (`cargo
/// test`), whose report file cannot name one.
pub(crate) fn test_of(frames: &[lockdep_report::Frame]) -> Option<String> {
    let function = frames[test_closure(frames)?].function.as_str();
    let path = function.trim_end_matches("::{{closure}}");
    Some(
        path.split_once("::")
            .map_or(path, |(_crate, test)| test)
            .to_owned(),
    )
}

/// `test NAME (BINARY, pid N)`; a process that ran several tests by its test binary, with the
/// test that `frames` (a stack it recorded) were in, when they tell.
fn process_name(p: &Process, frames: &[lockdep_report::Frame]) -> String {
    let (file, target) = binary_names(p.binary.as_deref());
    match (&p.test, test_of(frames)) {
        (Some(test), _) => format!("test {test} ({file}, pid {})", p.pid),
        (None, Some(test)) => format!("test {test} (test binary {target}: {file}, pid {})", p.pid),
        (None, None) => format!("test binary {target} ({file}, pid {})", p.pid),
    }
}

/// The processes as a list: the first few, then how many more. The first one is the process
/// whose stack `frames` are.
fn processes_line(merged: &Merged, processes: &[u32], frames: &[lockdep_report::Frame]) -> String {
    let mut names: Vec<String> = processes
        .iter()
        .take(PROCESSES_SHOWN)
        .enumerate()
        .map(|(i, &p)| {
            let frames = if i == 0 { frames } else { &[] };
            process_name(&merged.processes[p as usize], frames)
        })
        .collect();
    if processes.len() > PROCESSES_SHOWN {
        names.push(format!(
            "and {} more process(es)",
            processes.len() - PROCESSES_SHOWN
        ));
    }
    names.join("; ")
}
