//! Adopting lockdep with `cargo install cargo-lockdep` alone: `cargo lockdep test` on a
//! workspace that uses parking_lot from the registry and knows nothing of lockdep
//! (`tests/fixtures/parking-lot-suite`: its `bank` member takes two parking_lot locks in
//! opposite orders, from two test files; its Cargo.lock pins parking_lot 0.12.3, older than
//! the patch's 0.12.5). The run replaces parking_lot with lockdep's patch, leaves every file
//! of the workspace as it was, and finds the cycle across the two test binaries; suppressions
//! and a baseline make it pass; the arguments are cargo test's.
//!
//! The runs share the fixture's Cargo.lock, so they take turns ([`SUITE`]); they build into
//! `<target>/lockdep-fixtures`, kept between runs.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{cargo_lockdep_in, Output};

/// One run in the fixture at a time: each saves and restores its Cargo.lock.
static SUITE: Mutex<()> = Mutex::new(());

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parking-lot-suite")
}

/// Every file under `dir` and its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                found.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

/// `cargo lockdep ARGS` in the fixture, checking that it leaves every file as it was.
fn run_in_suite(args: &[&str], env: &[(&str, &str)]) -> Output {
    let _turn = SUITE.lock().unwrap_or_else(|e| e.into_inner());
    let before = files(&suite());
    let out = cargo_lockdep_in(&suite(), args, env);
    let after = files(&suite());
    assert!(
        before == after,
        "the run changed the workspace's files: {:?}\n{}",
        after
            .iter()
            .filter(|(p, c)| before.get(*p) != Some(c))
            .map(|(p, _)| p)
            .collect::<Vec<_>>(),
        out.stderr
    );
    out
}

const PATCHED: &str = "cargo-lockdep: parking_lot 0.12.3 → lockdep's parking_lot 0.12.5 patch\n";

#[test]
fn a_workspace_that_knows_nothing_of_lockdep_gets_its_parking_lot_locks_checked() {
    let out = run_in_suite(&["test"], &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(PATCHED), "{}", out.stderr);
    assert!(out.stdout.contains("test a_transfer_moves_money ... ok"));
    assert!(out
        .stdout
        .contains("test an_audit_reads_the_journal_and_the_ledger ... ok"));
    // Found by the merge of the two test binaries, printed once.
    assert_eq!(
        out.stdout
            .matches("WARNING: possible circular locking dependency detected")
            .count(),
        1,
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("WARNING"), "{}", out.stderr);
    assert!(
        out.stdout.contains("bank/src/lib.rs:25:21 Mutex<Ledger>")
            && out.stdout.contains("bank/src/lib.rs:26:22 Mutex<Journal>"),
        "classes are named by site and data type:\n{}",
        out.stdout
    );
    assert!(out.stdout.contains("bank::Bank::audit (bank/src/lib.rs:"));
    assert!(out.stdout.contains("1 violation(s): 1 circular dependency"));
    // cargo's configuration is taken without a word.
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn a_locked_run_checks_the_workspace_s_lock_file_and_still_patches() {
    let out = run_in_suite(&["test", "--locked", "--test", "transfer"], &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(PATCHED), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cargo-lockdep: --locked: Cargo.lock is up to date;"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("test a_transfer_moves_money ... ok"));
}

#[test]
fn what_follows_the_double_dash_reaches_the_test_binaries() {
    let out = run_in_suite(
        &[
            "test",
            "--test",
            "audit",
            "--",
            "--test-threads=1",
            "--nocapture",
        ],
        &[],
    );
    // One binary: no cycle, and cargo ran only it.
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("audit args: [\"--test-threads=1\", \"--nocapture\"]"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("a_transfer_moves_money"));
}

/// A suppression file for one test.
fn suppression_file(name: &str, text: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_suppression_entry_makes_the_run_pass_and_an_unused_one_is_listed() {
    let file = suppression_file(
        "adopt-suppressions.toml",
        "[[suppress]]\n\
         reason = \"the audit takes the journal first, known\"\n\
         classes = [\"bank/src/lib.rs:* Mutex<Ledger>\", \"*<Journal>\"]\n\
         \n\
         [[suppress]]\n\
         reason = \"an old one\"\n\
         classes = [\"src/gone.rs:*\"]\n",
    );
    let out = run_in_suite(
        &["test"],
        &[("LOCKDEP_SUPPRESSIONS", file.to_str().unwrap())],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("WARNING"), "{}", out.stdout);
    let summary = format!(
        "cargo-lockdep: 1 report(s) suppressed by {f}:\n\
         cargo-lockdep:   line 1: 1 report(s): the audit takes the journal first, known\n\
         cargo-lockdep: 1 unused suppression(s) in {f} (no report matched them: remove them \
         once they are stale):\n\
         cargo-lockdep:   line 5: an old one (classes \"src/gone.rs:*\")\n",
        f = file.display()
    );
    assert!(out.stdout.contains(&summary), "{}", out.stdout);
    assert!(
        out.stdout.contains("no violation; 1 suppressed"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_bad_suppression_file_stops_the_run_before_cargo_with_its_line() {
    let file = suppression_file(
        "adopt-bad-suppressions.toml",
        "[[suppress]]\nreason = \"x\"\nclasses = \"bank/*\"\n",
    );
    let out = run_in_suite(
        &["test"],
        &[("LOCKDEP_SUPPRESSIONS", file.to_str().unwrap())],
    );
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "cargo-lockdep: bad suppression file: {}:3: `classes` must be an array of \
             patterns: classes = [\"bank/*\"]\n",
            file.display()
        )
    );
}

#[test]
fn a_baseline_adopts_the_reports_and_the_next_run_passes() {
    // The baseline goes to the file LOCKDEP_SUPPRESSIONS names (the workspace's lockdep.toml
    // otherwise: tests/baseline.rs), here one that is not there yet.
    let dir = common::fresh_dir("adopt-baseline");
    let file = dir.join("lockdep.toml");
    let env = [("LOCKDEP_SUPPRESSIONS", file.to_str().unwrap())];
    let out = run_in_suite(&["baseline"], &env);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(PATCHED), "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "cargo-lockdep: 1 entry appended to {} (baseline 20",
            file.display()
        )),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("[[suppress]]\nreason = \"baseline 20"),
        "{text}"
    );
    assert!(
        text.contains(
            "classes = [\"bank/src/lib.rs:25:21 Mutex<Ledger>\", \"bank/src/lib.rs:26:22 Mutex<Journal>\"]"
        ) || text.contains(
            "classes = [\"bank/src/lib.rs:26:22 Mutex<Journal>\", \"bank/src/lib.rs:25:21 Mutex<Ledger>\"]"
        ),
        "{text}"
    );
    let again = run_in_suite(&["test"], &env);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("1 report(s) suppressed by"),
        "{}",
        again.stdout
    );
    // Nothing new to adopt: the file stays as it is.
    let nothing = run_in_suite(&["baseline"], &env);
    assert_eq!(nothing.code, 0, "{}\n{}", nothing.stdout, nothing.stderr);
    assert!(
        nothing.stdout.contains("0 entries appended"),
        "{}",
        nothing.stdout
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn without_the_patch_parking_lot_is_left_alone() {
    let out = run_in_suite(&["test", "--no-patch"], &[]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        !out.stderr.contains("lockdep's parking_lot"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("test a_transfer_moves_money ... ok"));
    assert!(
        out.stderr
            .contains("cargo-lockdep: no lockdep report file (lockdep-*.json) in "),
        "{}",
        out.stderr
    );
}

#[test]
fn cargo_s_own_failure_is_reported_as_cargo_s() {
    let out = run_in_suite(&["test", "--no-such-flag"], &[]);
    // cargo's status and message, and nothing of ours after it.
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("error: unexpected argument '--no-such-flag' found"),
        "{}",
        out.stderr
    );
    let ours: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("cargo-lockdep:"))
        .collect();
    assert!(
        ours.iter()
            .all(|l| l.contains("→ lockdep's") || l.contains("report files go to")),
        "{}",
        out.stderr
    );
}

#[test]
fn a_killed_run_leaves_the_lock_file_as_it_was() {
    let _turn = SUITE.lock().unwrap_or_else(|e| e.into_inner());
    let lock = suite().join("Cargo.lock");
    let original = std::fs::read(&lock).unwrap();
    // The audit test waits a little, so that the run is killed in the middle.
    let mut child = common::cargo_lockdep_command(
        &suite(),
        &["test", "--test", "audit"],
        &[("SUITE_SLEEP_MS", "3000")],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    // The run's cargo resolves with the patch, which changes the lock file.
    let deadline = Instant::now() + Duration::from_secs(600);
    while std::fs::read(&lock).unwrap() == original {
        assert!(Instant::now() < deadline, "the lock file never changed");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Killed outright, as by Ctrl-C or a CI timeout: nothing of cargo-lockdep runs after.
    // (Its cargo, left running, finishes the tests and exits.)
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
    // The guardian, and the cargo left running, hold the run's stderr until they are done.
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "cargo-lockdep: the run was interrupted; {} is restored",
            lock.display()
        )),
        "{stderr}"
    );
    assert!(std::fs::read(&lock).unwrap() == original, "{stderr}");
}

#[test]
fn the_version_is_cargo_lockdep_s() {
    let out = common::cargo_lockdep(["--version"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        format!("cargo-lockdep {}\n", env!("CARGO_PKG_VERSION"))
    );
}
