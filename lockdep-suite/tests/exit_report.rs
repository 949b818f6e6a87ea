//! What CI sees from a whole process: the report at exit, `LOCKDEP_REPORT_DIR`, `LOCKDEP_MODE`.
//! Each case re-runs this test binary as a child that provokes one ABBA (the `child_abba`
//! test, which does nothing unless `TEST_LOCKDEP_TEST_CHILD` is set).
#![cfg(feature = "enabled")]

use lockdep::{LockClass, Mutex};
use std::process::Output;

mod common;

const CHILD: &str = "TEST_LOCKDEP_TEST_CHILD";

static A: LockClass = LockClass::new("exit-A");
static B: LockClass = LockClass::new("exit-B");

#[test]
fn child_abba() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let (a, b) = (Mutex::with_class((), &A), Mutex::with_class((), &B));
    drop((a.lock(), b.lock()));
    let _b = b.lock();
    let _a = a.lock();
}

/// Takes two locks in one order only: nothing to report.
#[test]
fn child_quiet() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let (a, b) = (Mutex::with_class((), &QA), Mutex::with_class((), &QB));
    drop((a.lock(), b.lock()));
}

/// Provokes an ABBA and takes the violation, as a test that expects it does.
#[test]
fn child_abba_taken() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let (a, b) = (Mutex::with_class((), &TA), Mutex::with_class((), &TB));
    drop((a.lock(), b.lock()));
    drop((b.lock(), a.lock()));
    let taken = lockdep::take_violations();
    assert!(taken.iter().any(|v| v.involves("exit-taken-A")));
}

static TA: LockClass = LockClass::new("exit-taken-A");
static TB: LockClass = LockClass::new("exit-taken-B");

static QA: LockClass = LockClass::new("exit-quiet-A");
static QB: LockClass = LockClass::new("exit-quiet-B");

/// Runs the test `child` of this binary as a child process; its pid and output.
fn run(child: &str, envs: &[(&str, &str)]) -> (u32, Output) {
    let process = common::child(child)
        .env(CHILD, "1")
        .envs(envs.iter().copied())
        .spawn()
        .expect("run the child");
    let pid = process.id();
    (pid, process.wait_with_output().expect("child output"))
}

fn run_child(envs: &[(&str, &str)]) -> Output {
    run("child_abba", envs).1
}

/// A fresh directory for one test's reports.
fn report_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lockdep-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The report file of process `pid` in `dir`: `lockdep-<pid>-<unique>.json`, the only one.
fn report_file(dir: &std::path::Path, pid: u32) -> std::path::PathBuf {
    let prefix = format!("lockdep-{pid}-");
    let mut files = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with(&prefix) && name.ends_with(".json")
        });
    let file = files.next().expect("a report file");
    assert!(files.next().is_none(), "one report file per process");
    file
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn violations_left_at_exit_are_printed() {
    let out = run_child(&[("LOCKDEP_MODE", "collect")]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(err.contains("lockdep: 1 violation(s) recorded"), "{err}");
    assert!(
        err.contains("WARNING: possible circular locking dependency detected"),
        "{err}"
    );
}

/// `LOCKDEP_EXIT_REPORT=summary` (this repository's own test runs, `.cargo/config.toml`):
/// one line in place of the report, saying where the report went.
#[test]
fn exit_report_summary_says_where_the_report_went_in_one_line() {
    let out = run_child(&[
        ("LOCKDEP_MODE", "collect"),
        ("LOCKDEP_EXIT_REPORT", "summary"),
    ]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(!err.contains("WARNING:"), "{err}");
    let said: Vec<&str> = err.lines().filter(|l| l.starts_with("lockdep:")).collect();
    assert_eq!(said.len(), 1, "{err}");
    assert!(
        said[0].starts_with("lockdep: 1 violation recorded and not taken, not printed")
            && said[0].contains("LOCKDEP_EXIT_REPORT=stderr prints them"),
        "{err}"
    );

    let dir = report_dir("summary");
    let (pid, out) = run(
        "child_abba",
        &[
            ("LOCKDEP_MODE", "collect"),
            ("LOCKDEP_EXIT_REPORT", "summary"),
            ("LOCKDEP_REPORT_DIR", dir.to_str().unwrap()),
        ],
    );
    assert!(out.status.success());
    let err = stderr(&out);
    let file = report_file(&dir, pid);
    assert!(
        err.contains(&format!("the report is in {}", file.display())),
        "{err}"
    );
    assert!(!err.contains("WARNING:"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn report_dir_gets_one_json_file_per_process() {
    let dir = report_dir("exit-test");
    let (pid, out) = run(
        "child_abba",
        &[
            ("LOCKDEP_MODE", "collect"),
            ("LOCKDEP_REPORT_DIR", dir.to_str().unwrap()),
        ],
    );
    assert!(out.status.success());
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0], report_file(&dir, pid));
    let json = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        json.contains("\"violations\":[{\"kind\":\"circular_dependency\""),
        "{json}"
    );
    assert!(json.contains("\"graph\":{\"classes\":["), "{json}");
    assert!(json.contains("\"name\":\"exit-A\""), "{json}");
    assert!(json.starts_with("{\"version\":2,"), "{json}");
    assert!(json.contains(&format!(",\"pid\":{pid},")), "{json}");
    // Resolved by the process, by default.
    assert!(json.contains("\"image\":null"), "{json}");
    assert!(
        json.contains("\"backtrace\":[{\"function\":\"exit_report::child_abba\""),
        "{json}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `child_abba`'s report file written with `LOCKDEP_REPORT_SYMBOLS=symbols`, and its stderr.
fn report_with_symbols(symbols: &str) -> (String, String) {
    let dir = report_dir(&format!("exit-symbols-{symbols}"));
    let (pid, out) = run(
        "child_abba",
        &[
            ("LOCKDEP_MODE", "collect"),
            ("LOCKDEP_REPORT_DIR", dir.to_str().unwrap()),
            ("LOCKDEP_REPORT_SYMBOLS", symbols),
        ],
    );
    assert!(out.status.success());
    let json = std::fs::read_to_string(report_file(&dir, pid)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    (json, stderr(&out))
}

#[test]
fn report_symbols_merge_leaves_the_graphs_traces_as_addresses_in_the_binary() {
    let (json, _) = report_with_symbols("merge");
    let exe = std::env::current_exe().unwrap();
    let image = format!(
        "\"image\":{{\"path\":\"{}\",\"size\":{},",
        exe.display(),
        std::fs::metadata(&exe).unwrap().len()
    );
    assert!(json.contains(&image), "{image} in {json}");
    let (graph, violations) = json.split_once("\"violations\":").unwrap();
    // Both edges: their addresses, no frames; their sites are known without resolving.
    assert_eq!(graph.matches("\"addresses\":[").count(), 2, "{graph}");
    assert!(!graph.contains("\"backtrace\""), "{graph}");
    for (i, _) in graph.match_indices("\"addresses\":[") {
        let first = graph.as_bytes()[i + "\"addresses\":[".len()];
        assert!(first.is_ascii_digit(), "{graph}");
    }
    assert!(
        graph.contains(&format!("\"site\":{{\"file\":\"{}\"", file!())),
        "{graph}"
    );
    // A violation's traces are resolved all the same: its report was printed already.
    assert!(
        violations.contains("\"backtrace\":[{\"function\":\"exit_report::child_abba\""),
        "{violations}"
    );
}

#[test]
fn an_unknown_report_symbols_value_is_a_warning_and_resolves_in_the_process() {
    let (json, stderr) = report_with_symbols("later");
    assert!(
        stderr.contains(
            "lockdep: LOCKDEP_REPORT_SYMBOLS=\"later\" is not a value it takes (expected \
             process or merge): using process\n"
        ),
        "{stderr}"
    );
    assert!(json.contains("\"image\":null"), "{json}");
}

#[test]
fn unwritable_report_dir_is_a_warning() {
    let out = run_child(&[
        ("LOCKDEP_MODE", "collect"),
        ("LOCKDEP_REPORT_DIR", "/proc/lockdep-cannot-be-here"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let warnings: Vec<_> = err
        .lines()
        .filter(|l| l.starts_with("lockdep: cannot write the report to LOCKDEP_REPORT_DIR"))
        .collect();
    assert_eq!(warnings.len(), 1, "{err}");
    // The text report is printed all the same.
    assert!(err.contains("lockdep: 1 violation(s) recorded"), "{err}");
}

#[test]
fn unknown_mode_is_a_warning_and_means_warn() {
    let out = run_child(&[("LOCKDEP_MODE", "loud")]);
    assert!(out.status.success());
    let err = stderr(&out);
    let warnings: Vec<_> = err
        .lines()
        .filter(|l| {
            l.starts_with("lockdep: LOCKDEP_MODE=\"loud\" is not a value it takes (expected panic, warn, collect or off)")
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{err}");
    // Warn prints at the acquisition, and the exit report again.
    assert_eq!(
        err.matches("WARNING: possible circular locking dependency detected")
            .count(),
        2,
        "{err}"
    );
}

#[test]
fn unknown_variables_and_values_are_said_past_the_harness_s_capture() {
    // Without `--nocapture`: what the test thread prints with `eprintln!` stays in the
    // harness, the warnings do not.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_quiet", "--test-threads=1"])
        .env(CHILD, "1")
        .env_remove("LOCKDEP_REPORT_DIR")
        .env_remove("LOCKDEP_EXIT_REPORT")
        .env("LOCKDEP_MODE", "bogus")
        .env("LOCKDEP_MDOE", "panic")
        .env("LOCKDEP_EXIT_CODE", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let said = |needle: &str| err.lines().filter(|l| l.starts_with(needle)).count();
    assert_eq!(
        said("lockdep: LOCKDEP_MODE=\"bogus\" is not a value it takes"),
        1,
        "{err}"
    );
    assert_eq!(
        said("lockdep: unknown variable LOCKDEP_MDOE (ignored; lockdep reads LOCKDEP_MODE, "),
        1,
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("lockdep: ")).count(),
        2,
        "{err}"
    );
}

#[test]
fn panic_mode_fails_the_run() {
    let out = run_child(&[("LOCKDEP_MODE", "panic")]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("lockdep: possible circular locking dependency detected"),
        "{err}"
    );
}

#[test]
fn off_mode_records_nothing() {
    let out = run_child(&[("LOCKDEP_MODE", "off")]);
    assert!(out.status.success());
    assert!(!stderr(&out).contains("WARNING"), "{}", stderr(&out));
}

#[test]
fn the_default_mode_is_warn() {
    let out = run_child(&[]);
    assert!(out.status.success());
    let err = stderr(&out);
    // Printed at the acquisition, and again at exit.
    assert_eq!(
        err.matches("WARNING: possible circular locking dependency detected")
            .count(),
        2,
        "{err}"
    );
    assert!(!err.contains("LOCKDEP_MODE"), "{err}");
}

#[test]
fn a_clean_run_prints_nothing_but_still_writes_its_json() {
    let dir = report_dir("exit-quiet");
    let (pid, out) = run(
        "child_quiet",
        &[("LOCKDEP_REPORT_DIR", dir.to_str().unwrap())],
    );
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(!err.contains("lockdep"), "{err}");
    let json = std::fs::read_to_string(report_file(&dir, pid)).unwrap();
    assert!(json.contains(&format!(",\"pid\":{pid},")), "{json}");
    assert!(json.ends_with(",\"violations\":[]}\n"), "{json}");
    assert!(json.contains("\"name\":\"exit-quiet-B\""), "{json}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The exit status of `child` with `LOCKDEP_EXIT_CODE` as given (`None`: unset, the default).
fn exit_status(child: &str, exit_code: Option<&str>) -> (Option<i32>, String) {
    let mut command = common::child(child);
    command.env(CHILD, "1").env("LOCKDEP_MODE", "collect");
    match exit_code {
        Some(code) => command.env("LOCKDEP_EXIT_CODE", code),
        None => command.env_remove("LOCKDEP_EXIT_CODE"),
    };
    let out = command.output().expect("run the child");
    (out.status.code(), stderr(&out))
}

#[test]
fn violations_left_at_exit_fail_the_process_with_66_by_default() {
    let (code, err) = exit_status("child_abba", None);
    assert_eq!(code, Some(66), "{err}");
    assert!(
        err.contains("possible circular locking dependency"),
        "{err}"
    );
    assert!(
        err.contains("lockdep: 1 violation recorded and not taken: exit status 66"),
        "{err}"
    );
}

#[test]
fn lockdep_exit_code_sets_the_status_and_zero_keeps_the_programs_own() {
    let (code, err) = exit_status("child_abba", Some("3"));
    assert_eq!(code, Some(3), "{err}");
    let (code, err) = exit_status("child_abba", Some("0"));
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("not taken"), "{err}");
    // Not a number: the default.
    let (code, err) = exit_status("child_abba", Some("yes"));
    assert_eq!(code, Some(66), "{err}");
}

#[test]
fn taken_violations_and_clean_runs_keep_a_zero_status() {
    let (code, err) = exit_status("child_abba_taken", None);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = exit_status("child_quiet", None);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_failing_test_with_violations_still_fails() {
    // The harness's own failure status (101) becomes 66: non-zero either way.
    let mut command = common::child("child_abba_then_fail");
    command.env(CHILD, "1").env_remove("LOCKDEP_EXIT_CODE");
    let out = command.output().expect("run the child");
    assert_eq!(out.status.code(), Some(66), "{}", stderr(&out));
    // With the opt-out the harness's own status stands.
    let mut command = common::child("child_abba_then_fail");
    command.env(CHILD, "1").env("LOCKDEP_EXIT_CODE", "0");
    let out = command.output().expect("run the child");
    assert_eq!(out.status.code(), Some(101), "{}", stderr(&out));
}

#[test]
fn child_abba_then_fail() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let (a, b) = (Mutex::with_class((), &FA), Mutex::with_class((), &FB));
    drop((a.lock(), b.lock()));
    drop((b.lock(), a.lock()));
    panic!("the test itself fails");
}

static FA: LockClass = LockClass::new("exit-fail-A");
static FB: LockClass = LockClass::new("exit-fail-B");
