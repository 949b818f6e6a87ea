//! `cargo lockdep test --stat`: lock_stat on for the run, the report files of two processes
//! that contend for one lock merged into one table and the HTML page's chart
//! (`tests/fixtures/abba-suite`, see `end_to_end.rs`).

mod common;

use std::path::Path;

use common::{cargo_lockdep, cargo_lockdep_in_suite, fresh_dir, Report};

/// A report file of process `pid` whose lock_stat has one row of class `hot`, written by hand.
fn file_with_stat(dir: &Path, pid: u32, contentions: u64, wait_max_ns: u64) {
    let row = format!(
        r#"{{"class":"hot","access":"write","acquisitions":100,"contentions":{contentions},"wait_total_ns":{},"wait_max_ns":{wait_max_ns},"hold_total_ns":5000,"hold_max_ns":900,"waited_at":[{{"site":"src/lib.rs:7:9","count":{contentions},"wait_ns":{}}}],"held_by":[{{"site":"src/lib.rs:3:5","count":{contentions},"wait_ns":{}}}]}}"#,
        contentions * 1000,
        contentions * 1000,
        contentions * 1000,
    );
    let json = Report::new("t", pid).edge("a", "b", "EN").json();
    let json =
        json.trim_end().strip_suffix('}').unwrap().to_owned() + ",\"lock_stat\":[" + &row + "]}\n";
    std::fs::write(dir.join(format!("lockdep-{pid}-1.json")), json).unwrap();
}

#[test]
fn check_stat_merges_the_rows_of_two_report_files() {
    let dir = fresh_dir("lock-stat-check");
    file_with_stat(&dir, 1, 3, 2_000);
    file_with_stat(&dir, 2, 5, 7_000);
    let html = dir.join("page.html");
    let out = cargo_lockdep([
        "check",
        "--stat",
        "--html",
        html.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("lock_stat: 1 class, 200 acquisitions, 2 processes, sorted by total wait"),
        "{}",
        out.stdout
    );
    // Totals add, maxima are the larger; sites add up.
    assert_eq!(column(&out.stdout, "hot", 3), 8);
    assert!(out.stdout.contains("8.00µs / 7.00µs"), "{}", out.stdout);
    assert!(
        out.stdout.contains("  waited at  src/lib.rs:7:9"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  held by    src/lib.rs:3:5"),
        "{}",
        out.stdout
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<title>hot: 8 waits, 8.00µs in total</title>"),
        "{page}"
    );
    let json = dir.join("merged.json");
    let out = cargo_lockdep([
        "check",
        "--json",
        json.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let row = &doc["lock_stat"][0];
    assert_eq!(
        (row["class"].as_str(), row["contentions"].as_u64()),
        (Some("hot"), Some(8))
    );
    assert_eq!(row["wait_max_ns"], 7_000);
    assert_eq!(row["waited_at"][0]["count"], 8);
    // Without --stat, files that have lock_stat print it too; files without it, nothing.
    let plain = cargo_lockdep(["check", dir.to_str().unwrap()]);
    assert!(
        plain.stdout.contains("lock_stat: 1 class"),
        "{}",
        plain.stdout
    );
}

/// The number in column `column` (from 0: the class, the access, acquired, contended, …) of
/// the table row that starts with `class `.
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
    assert_eq!(column(&out.stdout, "hot", 2), 40_002);
    let contended = column(&out.stdout, "hot", 3);
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
