//! One report model for the checker and the merge: the same three violations (a circular
//! dependency of three classes, a mempool livelock, a wait/notify deadlock), found by one
//! process and by `cargo lockdep check` over several processes that each made one dependency
//! of them, read the same from the dependency chain to the advice. Only who found it (a
//! thread, or the merge), which processes recorded each dependency, and the reporting thread's
//! held locks and stack differ. The program is the fixture suite's `tests/same_report.rs`.

mod common;

use common::{cargo_lockdep_in_suite_with, fresh_dir};

/// The part of a report that both finders print alike: from the dependency chain to the end
/// of the advice, without the lines naming the processes that recorded a dependency.
fn shared_part(report: &str) -> String {
    let start = report
        .find("the existing dependency chain (in reverse order) is:")
        .unwrap_or_else(|| panic!("no dependency chain in\n{report}"));
    // In-process, the reporting thread's held locks follow the advice; a merged report may
    // end with who had recorded it in-process.
    let tail = |line: &str| {
        line.starts_with("(also recorded")
            || (line.contains(" held by ")
                && (line.starts_with("no locks") || line.starts_with(|c: char| c.is_ascii_digit())))
    };
    let shared: Vec<&str> = report[start..]
        .lines()
        .take_while(|line| !tail(line))
        .filter(|line| !line.trim_start().starts_with("recorded by "))
        .collect();
    shared.join("\n").trim_end().to_owned()
}

/// The reports that `cargo lockdep` printed, each starting at its rule above `WARNING:`.
fn reports(stdout: &str) -> Vec<String> {
    let text = &stdout[..stdout.find("cargo-lockdep: merged").unwrap_or(stdout.len())];
    let mut starts: Vec<usize> = text
        .match_indices("=====\nWARNING: ")
        .map(|(i, _)| text[..i].rfind('\n').map_or(0, |n| n + 1))
        .collect();
    starts.push(text.len());
    starts
        .windows(2)
        .map(|w| text[w[0]..w[1]].to_owned())
        .collect()
}

#[test]
fn a_process_and_the_merge_print_the_same_report() {
    let split = fresh_dir("same-report-split");
    let run = cargo_lockdep_in_suite_with(
        &["test", "--test", "same_report"],
        &[("SAME_REPORT_DIR", split.to_str().unwrap())],
    );
    // The program's own process recorded the cycles (and took them); the merge of its report
    // file finds them again.
    let in_process: Vec<String> = run
        .stdout
        .split("--- report ---\n")
        .skip(1)
        .map(|r| r[..r.find("--- end ---").unwrap()].to_owned())
        .collect();
    assert_eq!(in_process.len(), 3, "{}\n{}", run.stdout, run.stderr);

    // Merged where the processes ran, as `cargo lockdep test` merges: frames' files are
    // written relative to the current directory.
    let merged = cargo_lockdep_in_suite_with(&["check", split.to_str().unwrap()], &[]);
    assert_eq!(merged.code, 1, "{}\n{}", merged.stdout, merged.stderr);
    assert!(
        merged
            .stdout
            .contains("3 violation(s): 1 circular dependency, 1 mempool livelock, 1 wait deadlock"),
        "{}",
        merged.stdout
    );
    let merged = reports(&merged.stdout);
    assert_eq!(merged.len(), 3, "{merged:?}");
    for (process, merge) in in_process.iter().zip(&merged) {
        let headline = |r: &str| r.lines().nth(1).unwrap_or_default().to_owned();
        assert_eq!(headline(process), headline(merge));
        assert!(merge.contains("found by merging report files"), "{merge}");
        assert_eq!(
            shared_part(process),
            shared_part(merge),
            "in-process:\n{process}\nmerged:\n{merge}"
        );
    }
    // Each report has its table and its advice, once.
    let livelock = &merged[1];
    assert!(livelock.contains("       taskA                   taskB                   taskC\n"));
    assert!(livelock.contains(" An element holder must not block on a lock"));
    assert!(livelock.contains("allocation under that lock at: tests/same_report.rs:"));
    // The pool's own reclaim dependency is nobody's acquisition: no test is credited.
    let reclaim = livelock
        .find("memory reclaim may wait for this pool's elements")
        .expect("the pool's reclaim dependency");
    let next_dependency = livelock[reclaim..].find("\n-> #").unwrap_or(livelock.len());
    assert!(!livelock[reclaim..reclaim + next_dependency].contains("recorded by"));
    assert!(merged[2].contains(" A thread must not wait for an event while holding a lock"));
}
