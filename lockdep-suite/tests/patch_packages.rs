//! The `parking_lot` patch packages (`patches/parking_lot-0.12`, `patches/parking_lot-0.13`)
//! are not workspace members, so this builds them here: one consumer crate, written against
//! both parking_lot APIs (`tests/fixtures/patch_consumer.rs`), with the patches in their
//! place, built once in its own target directory and run; and, as that crate's tests,
//! parking_lot 0.12.5's and 0.13.0's own test suites (`tests/fixtures/parking_lot_0_12`,
//! `tests/fixtures/parking_lot_0_13`), so that the patches stay exact drop-ins. And lockdep's
//! own normal dependency graph holds no `parking_lot` (else a user's patch would replace
//! lockdep's own locks).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository (the workspace): this package is `lockdep-suite/` in it.
fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// This package, whose `tests/fixtures` hold the fixture sources.
fn suite() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The consumer crate, in `target/patch-consumer` (its own workspace and target directory:
/// the outer `cargo test` holds the lock of the workspace's).
fn consumer_dir() -> PathBuf {
    // Written once per process: the tests below run at the same time, and a cargo of one of
    // them must not read a manifest that another is rewriting.
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(write_consumer).clone()
}

fn write_consumer() -> PathBuf {
    let dir = repo().join("target").join("patch-consumer");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        r#"[package]
name = "patch-consumer"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
pl12 = {{ package = "parking_lot", path = "{repo}/patches/parking_lot-0.12", features = ["arc_lock", "serde"] }}
pl13 = {{ package = "parking_lot", path = "{repo}/patches/parking_lot-0.13", features = ["arc_lock", "serde"] }}
lockdep = {{ path = "{repo}" }}

[dev-dependencies]
serde_json = "1"

# The ported suites' `#[cfg(feature = …)]` tests: on, as the patches' features are.
[features]
default = ["arc_lock", "serde"]
arc_lock = []
serde = []

[[test]]
name = "parking_lot_0_12"
path = "{suite}/tests/fixtures/parking_lot_0_12/main.rs"

[[test]]
name = "parking_lot_0_13"
path = "{suite}/tests/fixtures/parking_lot_0_13/main.rs"
edition = "2024" # parking_lot 0.13's

# As lockdep's own workspace: dependencies (lockdep among them) optimised in test builds.
[profile.dev.package."*"]
opt-level = 2
"#,
        repo = repo().display(),
        suite = suite().display()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(
        suite().join("tests/fixtures/patch_consumer.rs"),
        dir.join("src/main.rs"),
    )
    .unwrap();
    // The workspace's lock file: the same versions, and no registry access needed.
    std::fs::copy(repo().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    dir
}

#[test]
fn a_crate_written_for_parking_lot_builds_and_runs_on_the_patches() {
    let dir = consumer_dir();
    let out = cargo()
        .args(["run", "--quiet", "--offline"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("LOCKDEP_MODE")
        .env_remove("LOCKDEP_REPORT_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // GLOBAL, the raw mutex, the timed-out wait, the 0.13 mutex, two recursive reads, and
    // the checker on (the patches turn on lockdep's `enabled`).
    assert_eq!(stdout.trim(), "1 1 true 2 6 true");
}

#[test]
fn lockdeps_normal_dependency_graph_holds_no_parking_lot() {
    let out = cargo()
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "-p",
            "lockdep",
            "--prefix",
            "none",
        ])
        .args(["--all-features", "--format", "{p}"])
        .current_dir(repo())
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tree.contains("lock_api"), "{tree}");
    let parking_lot: Vec<_> = tree
        .lines()
        .filter(|l| l.starts_with("parking_lot ") || l.starts_with("parking_lot v"))
        .collect();
    assert!(parking_lot.is_empty(), "{parking_lot:?}");
}

/// Runs one of the ported suites in the consumer crate; its `cargo test` output.
fn run_suite(name: &str) -> String {
    let dir = consumer_dir();
    let out = cargo()
        .args([
            "test",
            "--offline",
            "--test",
            name,
            "--",
            "--test-threads=1",
        ])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("LOCKDEP_MODE")
        .env_remove("LOCKDEP_REPORT_DIR")
        // Fails the run if a violation is left untaken (this repository sets 0 for its own).
        .env("LOCKDEP_EXIT_CODE", "66")
        .output()
        .unwrap();
    let output = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{output}");
    output
}

/// The count of passed tests in a `cargo test` run's result line.
fn passed(output: &str) -> usize {
    let line = output
        .lines()
        .find(|l| l.starts_with("test result: ok."))
        .unwrap_or_else(|| panic!("no result line in:\n{output}"));
    line["test result: ok. ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {line:?}"))
}

#[test]
fn parking_lot_0_12_5s_own_tests_pass_on_the_0_12_patch() {
    let output = run_suite("parking_lot_0_12");
    // Every test of parking_lot 0.12.5's `src/` and `tests/` but the five of
    // `src/deadlock.rs` (see `tests/fixtures/parking_lot_0_12/main.rs`).
    assert_eq!(passed(&output), EXPECTED_0_12, "{output}");
}

#[test]
fn parking_lot_0_13_0s_own_tests_pass_on_the_0_13_patch() {
    let output = run_suite("parking_lot_0_13");
    // Every test of parking_lot 0.13.0's `src/` and `tests/` but the eight of
    // `src/deadlock.rs` and `test_send_guards` (see `tests/fixtures/parking_lot_0_13/main.rs`).
    assert_eq!(passed(&output), EXPECTED_0_13, "{output}");
}

/// The tests of each ported suite (a test that disappears from a port fails the count).
const EXPECTED_0_12: usize = 96;
const EXPECTED_0_13: usize = 105;

/// The patches' own documentation examples (the packages are not workspace members, so
/// `cargo test --doc` in this workspace does not reach them).
#[test]
fn the_patches_doc_examples_pass() {
    let dir = consumer_dir();
    let out = cargo()
        .args(["test", "--offline", "--doc"])
        .args(["-p", "parking_lot@0.12.5", "-p", "parking_lot@0.13.0"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("LOCKDEP_MODE")
        .env_remove("LOCKDEP_REPORT_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passed: usize = stdout
        .lines()
        .filter(|l| l.starts_with("test result: ok."))
        .map(passed)
        .sum();
    assert!(passed >= 15, "{stdout}");
}
