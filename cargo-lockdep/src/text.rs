//! Kernel-style text reports of a merge: each cycle laid out as lockdep reports one in-process
//! (the dependency chain, each dependency with its classes, acquisition site and shortened
//! backtrace), plus the test and process that recorded every dependency; then a summary line.

use std::fmt::Write as _;
use std::path::Path;

use crate::input::Frame;
use crate::merge::{Cycle, Edge, Merged, Process, Recorded};
use lockdep_core::__merge::dep;

/// Frames of a dependency's backtrace shown in a report.
const FRAMES_SHOWN: usize = 8;
/// Processes named per dependency before "and N more".
const PROCESSES_SHOWN: usize = 3;
const RULE_WIDTH: usize = 54;

/// The title of a violation kind, as lockdep prints it.
pub fn headline(kind: &str) -> &'static str {
    match kind {
        "mempool_livelock" => "possible mempool livelock detected",
        "wait_deadlock" => "possible wait/notify deadlock detected",
        _ => "possible circular locking dependency detected",
    }
}

fn header(out: &mut String, title: &str) {
    let title = format!("WARNING: {title}");
    let width = RULE_WIDTH.max(title.len());
    let _ = writeln!(out, "{}\n{title}\n{}", "=".repeat(width), "-".repeat(width));
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

/// The frame of the test function's closure that the test harness calls
/// (`path::test::{{closure}}` under `FnOnce::call_once`), if the frames have one.
fn harness_closure(frames: &[Frame<'_>]) -> Option<usize> {
    frames.windows(2).position(|w| {
        w[0].function.ends_with("::{{closure}}")
            && w[1]
                .function
                .starts_with("core::ops::function::FnOnce::call_once")
    })
}

/// How many of `frames` belong to the program: up to the test's closure, or all.
fn own_frames(frames: &[Frame<'_>]) -> usize {
    harness_closure(frames).map_or(frames.len(), |i| i + 1)
}

/// The test function a dependency was recorded in, read from its backtrace, as the test
/// harness names it (its path without the crate). For processes that ran several tests
/// (`cargo test`), whose report file cannot name one.
pub fn test_of(edge: &Edge) -> Option<String> {
    let frames = edge.frames();
    let function = frames[harness_closure(&frames)?].function.as_ref();
    let path = function.trim_end_matches("::{{closure}}");
    Some(
        path.split_once("::")
            .map_or(path, |(_crate, test)| test)
            .to_owned(),
    )
}

/// `test NAME (BINARY, pid N)`; a process that ran several tests by its test binary, with the
/// test `edge` was recorded in when its backtrace says.
pub fn process_name(p: &Process, edge: Option<&Edge>) -> String {
    let (file, target) = binary_names(p.binary.as_deref());
    match (&p.test, edge.and_then(test_of)) {
        (Some(test), _) => format!("test {test} ({file}, pid {})", p.pid),
        (None, Some(test)) => format!("test {test} (test binary {target}: {file}, pid {})", p.pid),
        (None, None) => format!("test binary {target} ({file}, pid {})", p.pid),
    }
}

/// The processes as a list: the first few, then how many more. The first one is the process
/// whose backtrace `edge` has.
pub fn processes_line(merged: &Merged, processes: &[u32], edge: Option<&Edge>) -> String {
    let mut names: Vec<String> = processes
        .iter()
        .take(PROCESSES_SHOWN)
        .enumerate()
        .map(|(i, &p)| process_name(&merged.processes[p as usize], edge.filter(|_| i == 0)))
        .collect();
    if processes.len() > PROCESSES_SHOWN {
        names.push(format!(
            "and {} more process(es)",
            processes.len() - PROCESSES_SHOWN
        ));
    }
    names.join("; ")
}

/// The site of a dependency, or why there is none.
pub fn site_text(edge: &Edge) -> String {
    edge.site().map_or_else(
        || "(an allocation through TrackingAllocator)".to_owned(),
        |s| s.to_string(),
    )
}

fn render_backtrace(out: &mut String, edge: &Edge) {
    let frames = edge.frames();
    let own = own_frames(&frames);
    for f in frames.iter().take(own.min(FRAMES_SHOWN)) {
        match &f.site {
            Some(site) => {
                let _ = writeln!(out, "       {} ({site})", f.function);
            }
            None => {
                let _ = writeln!(out, "       {}", f.function);
            }
        }
    }
    if frames.len() > FRAMES_SHOWN {
        let _ = writeln!(
            out,
            "       ... ({} more frames)",
            frames.len() - FRAMES_SHOWN
        );
    }
}

/// Whether `class` is an event (never held: waited for and notified).
fn is_event(merged: &Merged, class: u32) -> bool {
    merged.classes[class as usize].kind == "event"
}

/// `lock(X)`, `rlock(X)` (taken shared), `alloc(P)`, an allocation or `wait(E)`, as in
/// lockdep's scenario tables.
fn op(merged: &Merged, class: u32, shared: bool) -> String {
    let c = &merged.classes[class as usize];
    match c.kind.as_str() {
        "pool" => format!("alloc({})", c.name),
        "alloc" => "allocate memory (may wait for reclaim)".to_owned(),
        "event" => format!("wait({})", c.name),
        _ if shared => format!("rlock({})", c.name),
        _ => format!("lock({})", c.name),
    }
}

/// What a thread of a scenario table holds: [`op`], but a thread "holding" an event is on its
/// way to notifying it (an event is never held).
fn held_op(merged: &Merged, class: u32, shared: bool) -> String {
    if is_event(merged, class) {
        format!(
            "(on its way to notify({}))",
            merged.classes[class as usize].name
        )
    } else {
        op(merged, class, shared)
    }
}

/// The row after what a thread "holding" `class` wants next, if `class` is an event: the
/// notify it was on its way to, which never comes.
fn never_reached(merged: &Merged, class: u32) -> Option<String> {
    is_event(merged, class).then(|| {
        format!(
            "notify({}) (never reached)",
            merged.classes[class as usize].name
        )
    })
}

/// The text report of a cycle the merge found.
pub fn cycle_report(merged: &Merged, cycle: &Cycle) -> String {
    let mut out = String::new();
    header(&mut out, headline(cycle.kind));
    let edges: Vec<&Edge> = cycle.ring.iter().map(|&e| &merged.edges[e]).collect();
    let name = |c: u32| merged.classes[c as usize].name.as_str();
    let mut contributors: Vec<u32> = edges.iter().flat_map(|e| e.processes.clone()).collect();
    contributors.sort_unstable();
    contributors.dedup();
    let _ = writeln!(
        out,
        "found by merging report files: the dependencies below were recorded by {} process(es).\n",
        contributors.len()
    );
    let closing = edges[0];
    let _ = writeln!(
        out,
        "the new dependency ({}) --> ({}) closes the cycle, at: {}",
        name(closing.from),
        name(closing.to),
        site_text(closing)
    );
    // A notify closed the cycle: its event is not held, a waiter for it may hold the lock.
    if is_event(merged, closing.from) {
        out.push_str("and a waiter for the event may hold that lock.\n\n\n");
    } else {
        out.push_str("which lock already depends on the new lock.\n\n\n");
    }
    out.push_str("the existing dependency chain (in reverse order) is:\n");
    for (i, edge) in edges.iter().enumerate().rev() {
        let _ = writeln!(out, "\n-> #{i} ({}):", name(edge.to));
        // Worded as the in-process report's links; an event is not held, so it is named
        // as the one notified.
        let (how, from) = if is_event(merged, edge.to) {
            ("waited for", " while holding")
        } else if is_event(merged, edge.from) {
            ("acquired on the way to notifying it", ", the event")
        } else {
            ("acquired", " while holding")
        };
        let _ = writeln!(
            out,
            "       {how} at {}{from} ({}) [{}]",
            site_text(edge),
            name(edge.from),
            dep::names(edge.deps).join(",")
        );
        let _ = writeln!(
            out,
            "       recorded by {}",
            processes_line(merged, &edge.processes, Some(edge))
        );
        render_backtrace(&mut out, edge);
    }
    out.push_str("\nother info that might help us debug this:\n\n");
    let classes: Vec<u32> = edges.iter().map(|e| e.to).collect();
    if classes.len() > 2 || cycle.kind == "mempool_livelock" {
        let chain: Vec<&str> = classes.iter().map(|&c| name(c)).collect();
        let _ = writeln!(
            out,
            " Chain exists of:\n   {} --> {}\n",
            chain.join(" --> "),
            chain[0]
        );
    }
    if cycle.kind == "mempool_livelock" {
        livelock_scenario(&mut out, merged, &classes);
    } else {
        scenario(&mut out, merged, &edges);
    }
    if !cycle.in_process.is_empty() {
        let _ = writeln!(
            out,
            "\n(also recorded in-process by {})",
            processes_line(merged, &cycle.in_process, None)
        );
    }
    out
}

/// A scenario table: one column per thread titled `titles[t]`, then `rows` of (thread, text),
/// laid out as the kernel's.
fn table(out: &mut String, titles: &[String], rows: &[(usize, String)]) {
    let column = |t: usize| 2 + 29 * t;
    // CPU0's title over its rows' middle, the others' over their rows.
    let title = |t: usize| if t == 0 { 7 } else { column(t) };
    let (mut head, mut rule) = (String::new(), String::new());
    for (t, name) in titles.iter().enumerate() {
        let pad = title(t).saturating_sub(head.len()).max(1);
        let _ = write!(head, "{:pad$}{name}", "");
        let pad = title(t).saturating_sub(rule.len()).max(1);
        let _ = write!(rule, "{:pad$}{}", "", "-".repeat(name.len()));
    }
    let _ = writeln!(out, "{head}\n{rule}");
    for (t, text) in rows {
        let _ = writeln!(out, "{:pad$}{text};", "", pad = column(*t));
    }
}

/// The CPU table: thread 0 holds the closing dependency's held class and wants its acquired
/// class; thread `t ≥ 1` holds the class of dependency `t`'s start and wants its end.
///
/// A thread "holding" an event is on its way to notifying it: its notify comes after what it
/// wants next, and is never reached (as in the in-process report).
fn scenario(out: &mut String, merged: &Merged, edges: &[&Edge]) {
    out.push_str(" Possible unsafe locking scenario:\n\n");
    // Held shared only if the dependency was only ever seen from a shared hold.
    let held_shared = |e: &Edge| e.deps & (dep::EN | dep::ER) == 0;
    let wanted_shared = |e: &Edge| e.deps & (dep::EN | dep::SN) == 0;
    let mut rows: Vec<(usize, String)> = Vec::new();
    for (t, e) in edges.iter().enumerate() {
        rows.push((t, held_op(merged, e.from, held_shared(e))));
    }
    let mut want = |t: usize| {
        let e = edges[t];
        rows.push((t, op(merged, e.to, wanted_shared(e))));
        rows.extend(never_reached(merged, e.from).map(|row| (t, row)));
    };
    for t in (1..edges.len()).rev() {
        want(t);
    }
    want(0);
    let titles: Vec<String> = (0..edges.len()).map(|t| format!("CPU{t}")).collect();
    table(out, &titles, &rows);
    out.push_str("\n *** DEADLOCK ***\n");
    if edges.iter().any(|e| is_event(merged, e.to)) {
        out.push_str(
            "\n A thread must not wait for an event while holding a lock that the event's\n \
             notifier takes on its way to the notify: release the lock before waiting (a\n \
             condition variable releases only its own mutex), or notify without taking it.\n",
        );
    }
}

/// The livelock table, read from the pool that memory reclaim waits for: the cycle is
/// `P → l1 → … → lb → ALLOC → r1 → … → P`. taskA takes the last element and then `l1`;
/// taskB holds `lb` (or, an event, is on its way to notifying it) and allocates; taskC, memory
/// reclaim, takes `r1 …` and waits on the pool.
fn livelock_scenario(out: &mut String, merged: &Merged, classes: &[u32]) {
    let kind = |c: u32| merged.classes[c as usize].kind.as_str();
    let n = classes.len();
    let Some(alloc) = classes.iter().position(|&c| kind(c) == "alloc") else {
        return;
    };
    let Some(pool) = (1..=n)
        .map(|i| (alloc + i) % n)
        .find(|&i| kind(classes[i]) == "pool")
    else {
        return;
    };
    let cycle: Vec<u32> = (0..n).map(|i| classes[(pool + i) % n]).collect();
    let a = cycle.iter().position(|&c| kind(c) == "alloc").unwrap_or(n);
    let (p, holder, reclaim) = (cycle[0], &cycle[1..a], cycle.get(a + 1..).unwrap_or(&[]));
    let mut rows = vec![(
        0,
        format!("{} (takes the last element)", op(merged, p, false)),
    )];
    // taskB may be on its way to notifying an event that taskA waits for.
    let mut on_its_way = None;
    if let (Some(&first), Some(&last)) = (holder.first(), holder.last()) {
        rows.push((1, held_op(merged, last, false)));
        rows.push((0, format!("{} (waits for taskB)", op(merged, first, false))));
        on_its_way = never_reached(merged, last);
    }
    rows.push((
        1,
        "allocate memory (stalls: reclaim needs pool elements)".to_owned(),
    ));
    rows.extend(on_its_way.map(|row| (1, row)));
    for &r in reclaim {
        rows.push((2, op(merged, r, false)));
    }
    rows.push((
        2,
        format!("{} (waits for taskA: livelock)", op(merged, p, false)),
    ));
    out.push_str(" Possible unsafe scenario:\n\n");
    let titles = ["taskA", "taskB", "taskC (memory reclaim)"].map(String::from);
    table(out, &titles, &rows);
    out.push_str("\n *** LIVELOCK ***\n");
}

/// The report of a violation a process recorded itself: its own text, and who recorded it.
pub fn recorded_report(merged: &Merged, r: &Recorded) -> String {
    let mut out = r.violation.report.clone();
    if out.is_empty() {
        header(&mut out, &r.violation.headline);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n(recorded in-process by {})",
        processes_line(merged, &r.processes, None)
    );
    out
}

/// Every report, in order: the merge's cycles, then what only processes recorded.
pub fn reports(merged: &Merged) -> Vec<String> {
    merged
        .cycles
        .iter()
        .map(|c| cycle_report(merged, c))
        .chain(merged.recorded.iter().map(|r| recorded_report(merged, r)))
        .collect()
}

/// The one-line summary.
pub fn summary(merged: &Merged) -> String {
    let mut line = format!(
        "cargo-lockdep: merged {} report file(s) ({} classes, {} dependencies): ",
        merged.processes.len(),
        merged.classes.len(),
        merged.edges.len()
    );
    let count = |kind: &str| merged.cycles.iter().filter(|c| c.kind == kind).count();
    match merged.violation_count() {
        0 => line.push_str("no violation"),
        n => {
            let _ = write!(
                line,
                "{n} violation(s): {} circular dependency, {} mempool livelock, {} wait deadlock \
                 found across processes, {} recorded in-process",
                count("circular_dependency"),
                count("mempool_livelock"),
                count("wait_deadlock"),
                merged.recorded.len()
            );
        }
    }
    if !merged.bad.is_empty() {
        let _ = write!(line, "; {} bad file(s) skipped", merged.bad.len());
    }
    line
}
