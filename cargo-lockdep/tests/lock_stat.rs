//! `cargo lockdep test --stat`: lock_stat on for the run, the report files of two processes
//! that contend for one lock merged into one table and the HTML page's chart
//! (`tests/fixtures/abba-suite`, see `end_to_end.rs`).

mod common;

use std::path::Path;

use common::cargo_lockdep_in_suite;

/// The number in column `column` of the table row that starts with `class `.
fn column(stdout: &str, class: &str, column: usize) -> u64 {
    let row = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{class} ")))
        .unwrap_or_else(|| panic!("no row of {class}:\n{stdout}"));
    row.split_whitespace()
        .nth(column)
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

#[test]
fn cargo_lockdep_test_stat_merges_a_contended_lock_of_two_processes() {
    let html = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lock-stat.html");
    let out = cargo_lockdep_in_suite(&[
        "test",
        "--stat",
        "--test",
        "contended_a",
        "--html",
        html.to_str().unwrap(),
        "--test",
        "contended_b",
    ]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    // Each process: one hold of 20 ms that the other thread waits for, and 10,000 rounds per
    // thread.
    assert!(
        out.stdout
            .contains("lock_stat: 1 class, 40,002 acquisitions, 2 processes, sorted by total wait"),
        "{}",
        out.stdout
    );
    assert_eq!(column(&out.stdout, "hot", 1), 40_002);
    let contended = column(&out.stdout, "hot", 2);
    assert!((2..=40_002).contains(&contended), "{}", out.stdout);
    assert!(
        out.stdout.contains("  waited at  src/lib.rs:"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  held by    src/lib.rs:"),
        "{}",
        out.stdout
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("lock_stat: the most contended classes"));
    assert!(page.contains("<svg class=\"bars\""));
    assert!(page.contains("<title>hot: "), "{page}");
}

#[test]
fn without_stat_no_table_is_printed() {
    let out = cargo_lockdep_in_suite(&["test", "--test", "contended_a"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("lock_stat:"), "{}", out.stdout);
}
