//! Suppressions in the merge and `cargo lockdep baseline --from DIR`, on report files written
//! by hand (no build): the baseline goes to the workspace's `lockdep.toml`, `check` finds it
//! from the current directory, and only a new report fails the next merge.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Report;

/// A workspace of one package that is never built, with the report files of two processes
/// whose dependencies make a cycle only together, and one that recorded a recursive lock.
fn workspace(name: &str) -> (PathBuf, PathBuf) {
    let dir = common::fresh_dir(name);
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), "").unwrap();
    let reports = dir.join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    Report::new("a", 1)
        .edge("index", "log", "EN")
        .write(&reports);
    Report::new("b", 2)
        .edge("log", "index", "EN")
        .write(&reports);
    Report::new("c", 3)
        .edge("cache", "ALLOC", "EN")
        .violation("recursive_lock", &["cache|alloc::vec::Vec<u8>"])
        .write(&reports);
    (dir, reports)
}

fn run(dir: &Path, args: &[&str]) -> common::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-lockdep"))
        .arg("lockdep")
        .args(args)
        .current_dir(dir)
        .env_remove("LOCKDEP_SUPPRESSIONS")
        .output()
        .unwrap();
    common::Output {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn a_baseline_goes_to_the_workspace_s_lockdep_toml_and_only_new_reports_fail() {
    let (dir, reports) = workspace("baseline-from");
    let before = run(&dir, &["check", "reports"]);
    assert_eq!(before.code, 1, "{}\n{}", before.stdout, before.stderr);
    assert!(
        before.stdout.contains("2 violation(s)"),
        "{}",
        before.stdout
    );

    let out = run(&dir, &["baseline", "--from", "reports"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let file = dir.join("lockdep.toml");
    assert!(
        out.stdout.contains(&format!(
            "cargo-lockdep: 2 entries appended to {} (baseline 20",
            file.display()
        )),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("classes = [\"index\", \"log\"]\n"), "{text}");
    // A recorded class with its data type, as reports name it.
    assert!(text.contains("classes = [\"cache Vec<u8>\"]\n"), "{text}");
    assert_eq!(text.matches("[[suppress]]").count(), 2, "{text}");

    let after = run(&dir, &["check", "reports"]);
    assert_eq!(after.code, 0, "{}\n{}", after.stdout, after.stderr);
    assert!(!after.stdout.contains("WARNING"), "{}", after.stdout);
    assert!(
        after.stdout.contains("no violation; 2 suppressed"),
        "{}",
        after.stdout
    );
    assert!(
        after.stdout.contains(&format!(
            "cargo-lockdep: 2 report(s) suppressed by {}:\n",
            file.display()
        )),
        "{}",
        after.stdout
    );

    // A new report fails, and its classes are not in the file yet.
    Report::new("d", 4)
        .edge("log", "queue", "EN")
        .write(&reports);
    Report::new("e", 5)
        .edge("queue", "log", "EN")
        .write(&reports);
    let json = dir.join("merged.json");
    let new = run(
        &dir,
        &["check", "reports", "--json", json.to_str().unwrap()],
    );
    assert_eq!(new.code, 1, "{}\n{}", new.stdout, new.stderr);
    assert_eq!(
        new.stdout
            .matches("WARNING: possible circular locking dependency detected")
            .count(),
        1,
        "{}",
        new.stdout
    );
    assert!(new.stdout.contains("(queue)"), "{}", new.stdout);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["violations"].as_array().unwrap().len(), 1);
    let suppressed = doc["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 2, "{doc}");
    assert_eq!(suppressed[0]["kind"], "circular_dependency");
    assert_eq!(suppressed[0]["line"], 1);
    assert!(suppressed[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("baseline 20"));
}

#[test]
fn a_bad_suppression_file_is_bad_input_with_its_line() {
    let (dir, _) = workspace("baseline-bad-file");
    std::fs::write(
        dir.join("lockdep.toml"),
        "# ours\n[[suppress]]\nreason = \"x\"\n[[suppres]]\n",
    )
    .unwrap();
    let out = run(&dir, &["check", "reports"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "cargo-lockdep: bad suppression file: {}:2: this [[suppress]] entry has no \
             `classes` (the patterns of the classes it suppresses)\n",
            dir.join("lockdep.toml").display()
        )
    );
}
