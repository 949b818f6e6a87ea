//! Stage 6 of the pipeline, as text: the reports as printed (each is lockdep's kernel-style
//! text, from [`report`](crate::report)), then one summary line.

use std::fmt::Write as _;

use lockdep_report::ViolationKind;

use crate::merge::Merged;

/// The one-line summary: what was merged, and how many violations of each kind.
pub(crate) fn summary(merged: &Merged) -> String {
    let mut line = format!(
        "cargo-lockdep: merged {} report file(s) ({} classes, {} dependencies): ",
        merged.processes.len(),
        merged.classes.len(),
        merged.edges.len()
    );
    let count = |kind: ViolationKind| merged.cycles.iter().filter(|c| c.kind == kind).count();
    match merged.violation_count() {
        0 => line.push_str("no violation"),
        n => {
            let _ = write!(
                line,
                "{n} violation(s): {} circular dependency, {} mempool livelock, {} wait deadlock \
                 found across processes, {} recorded in-process",
                count(ViolationKind::CircularDependency),
                count(ViolationKind::MempoolLivelock),
                count(ViolationKind::WaitDeadlock),
                merged.recorded.len()
            );
        }
    }
    if !merged.suppressed.is_empty() {
        let _ = write!(line, "; {} suppressed", merged.suppressed.len());
    }
    if !merged.bad.is_empty() {
        let _ = write!(line, "; {} bad file(s) skipped", merged.bad.len());
    }
    line
}
