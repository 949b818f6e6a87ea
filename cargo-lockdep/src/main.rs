//! `cargo lockdep`: merges the report files that lockdep writes at each process's exit
//! (`LOCKDEP_REPORT_DIR`) into one dependency graph and reports every cycle across processes,
//! by the same rules as in-process; `cargo lockdep test` / `nextest` run a test suite so and
//! merge its files; `cargo lockdep baseline` adopts the reports of a run as suppressions. See
//! the user guide's chapter `book/src/cargo-lockdep.md`.
//!
//! Exit status: 0 clean; 1 a violation (or a failed test run); 2 bad input (a file skipped,
//! no report file, a bad command line or suppression file). A violation wins over bad input:
//! both are printed, the status is 1. When cargo fails before any test process wrote a
//! report file (a build error, an argument cargo does not take), the status is cargo's, and
//! the message cargo's own.
//!
//! A merge is a pipeline, each stage a module with a typed input and output: [`read`] (the
//! files and their text, a batch at a time) → [`parse`] (report files, checked) → [`merge`]
//! (one graph, judged by the checker's rules) → [`suppress`] (the suppression file's entries
//! applied) → [`resolve`] (the stack traces reports show) → [`report`] (lockdep's report
//! model, rendered as the checker renders its own) → the outputs: [`text`], [`json`],
//! [`dot`], [`html`] (with [`svg`] pictures).
//!
//! [`run`] runs a test suite to make the files, as [`cli`] splits the command line (ours, and
//! cargo's as given), with the `parking_lot` patches ([`patch`], built from the sources
//! [`embedded`] in this binary) and the workspace's `Cargo.lock` kept as it was
//! ([`lockfile`]).
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![forbid(unsafe_code)]

mod cli;
mod dot;
mod embedded;
mod html;
mod json;
mod lockfile;
mod merge;
mod parse;
mod patch;
mod read;
mod report;
mod resolve;
mod run;
mod suppress;
mod svg;
mod text;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cli::{Outputs, RunArgs};
use lockdep_report::Suppressions;
use merge::Merged;
use resolve::Shown;

const USAGE: &str = "\
usage: cargo lockdep test [OPTIONS] [cargo test args...] [-- test binary args...]
       cargo lockdep nextest [OPTIONS] [cargo nextest run args...] [-- test binary args...]
       cargo lockdep baseline [OPTIONS] [--from DIR] [cargo test args...] [-- ...]
       cargo lockdep check [OUTPUTS] DIR_OR_FILE...
       cargo lockdep --version

Merges lockdep's report files (lockdep-*.json, as written with LOCKDEP_REPORT_DIR) into one
dependency graph and reports every possible deadlock (wait/notify deadlocks included) or
mempool livelock across processes.
`test` and `nextest` run the test suite with a fresh report directory under
<target>/lockdep/<time>/, then merge it. Every parking_lot 0.12/0.13 of the workspace's
graph is replaced by lockdep's checked one for the run (no manifest edited, Cargo.lock kept
as it was). Arguments are cargo test's: ours may stand anywhere before the first `--`, the
rest goes to cargo as given (and what follows `--` to the test binaries).
`baseline` runs the tests as `test` does (or merges DIR, with --from) and appends an entry
per report to the workspace's suppression file (lockdep.toml), so that only new reports fail.

OUTPUTS:
  --json FILE       the merged graph and the violations as JSON (book/src/merge.md)
  --dot FILE        the merged graph as Graphviz DOT, cycles in red
  --html FILE       a self-contained page: each report with a picture of its cycle, and the graph
  --summary-only    only the summary line (and warnings); check also takes -q, --quiet
OPTIONS (test, nextest, baseline): the OUTPUTS, and
  --no-patch        leave parking_lot as it is

Suppressions: lockdep.toml at the workspace's root, or the file LOCKDEP_SUPPRESSIONS names
(book/src/suppressions.md).
Exit status: 0 clean, 1 violation found or tests failed, 2 bad input (1 wins over 2); when
cargo itself fails before any test ran, cargo's status.";

/// Exit status: nothing found.
const CLEAN: u8 = 0;
/// Exit status: a violation, or a failed test run.
const VIOLATION: u8 = 1;
/// Exit status: bad input or usage.
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // Run as `cargo lockdep …`, cargo passes the subcommand's name first.
    if args.first().map(String::as_str) == Some("lockdep") {
        args.remove(0);
    }
    ExitCode::from(match dispatch(args) {
        Ok(status) => status,
        Err(message) => {
            eprintln!("cargo-lockdep: {message}");
            BAD_INPUT
        }
    })
}

fn dispatch(mut args: Vec<String>) -> Result<u8, String> {
    if args.is_empty() {
        return Err(format!("no command\n\n{USAGE}"));
    }
    let command = args.remove(0);
    match command.as_str() {
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(CLEAN)
        }
        "-V" | "--version" | "version" => {
            println!("cargo-lockdep {}", env!("CARGO_PKG_VERSION"));
            Ok(CLEAN)
        }
        lockfile::GUARD_COMMAND => match args.as_slice() {
            [lock, backup] => {
                lockfile::guard(Path::new(lock), Path::new(backup))?;
                Ok(CLEAN)
            }
            _ => Err(format!("{command} LOCK SAVED")),
        },
        "check" => {
            let (outputs, paths) = cli::check_args(args)?;
            if paths.is_empty() {
                return Err(format!("check needs a directory or file\n\n{USAGE}"));
            }
            let cwd = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
            let suppressions = read_suppressions(Suppressions::file_in(&cwd).as_deref())?;
            let merged = merge(&paths)?;
            present(merged, &outputs, suppressions)
        }
        "test" | "nextest" => {
            let args = cli::run_args(args, false)?;
            let file = run::workspace_suppressions(&args.cargo)?;
            // A bad suppression file is said before the tests run, not after.
            let suppressions = read_suppressions(file.as_deref())?;
            let run = run::run_tests(command == "nextest", &args, file.as_deref())?;
            let Some(merged) = merge_run(&run)? else {
                return Ok(cargo_status(run.code));
            };
            let status = present(merged, &args.outputs, suppressions);
            if run.passed {
                return status;
            }
            // Failed tests are the more important news than a merge that found nothing.
            if let Err(message) = status {
                eprintln!("cargo-lockdep: {message}");
            }
            eprintln!("cargo-lockdep: the test run failed");
            Ok(VIOLATION)
        }
        "baseline" => baseline(cli::run_args(args, true)?),
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    }
}

/// Cargo's exit status as ours (a status past 255 cannot be one: 1).
fn cargo_status(code: i32) -> u8 {
    u8::try_from(code).unwrap_or(VIOLATION)
}

/// The suppression file at `path`, if any, read.
///
/// # Errors
///
/// `PATH:LINE: what is wrong with it`, or why it cannot be read.
fn read_suppressions(path: Option<&Path>) -> Result<Option<(PathBuf, Suppressions)>, String> {
    path.map(suppress::read)
        .transpose()
        .map_err(|e| format!("bad suppression file: {e}"))
}

/// The merge of a test run's report files; `None` when cargo failed before any test process
/// wrote one (a build error, a bad argument: cargo's failure, which cargo has said).
fn merge_run(run: &run::TestRun) -> Result<Option<Merged>, String> {
    let files = read::find(std::slice::from_ref(&run.dir))?;
    if files.is_empty() && !run.passed {
        return Ok(None);
    }
    merge(std::slice::from_ref(&run.dir)).map(Some)
}

/// The merge of the report files under `paths`.
///
/// # Errors
///
/// A path that cannot be read, or no report file at all.
fn merge(paths: &[PathBuf]) -> Result<Merged, String> {
    let files = read::find(paths)?;
    if files.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "no lockdep report file (lockdep-*.json) in {}: no process took a lock that lockdep \
             checks (lockdep's own with its `enabled` feature, or parking_lot's under `cargo \
             lockdep test`), or none was run with LOCKDEP_REPORT_DIR set",
            names.join(", ")
        ));
    }
    let mut merged = Merged::default();
    for batch in read::batches(&files) {
        let parsed = parse::all(&batch);
        merged.add(batch.iter().map(|r| r.path.clone()).zip(parsed).collect());
    }
    let merged = merged.finish();
    for (path, why) in &merged.bad {
        eprintln!("cargo-lockdep: skipped {}: {why}", path.display());
    }
    Ok(merged)
}

/// Suppresses what the suppression file says, prints the reports left and writes the outputs.
fn present(
    mut merged: Merged,
    outputs: &Outputs,
    suppressions: Option<(PathBuf, Suppressions)>,
) -> Result<u8, String> {
    let applied = suppressions.map(|(path, entries)| suppress::apply(&mut merged, path, entries));
    let shown = Shown::of(&merged);
    let reports = report::all(&merged, &shown);
    if !outputs.summary_only {
        for report in &reports {
            println!("{}", report.text);
        }
    }
    if let Some(applied) = &applied {
        print!("{}", applied.summary());
    }
    println!("{}", text::summary(&merged));
    let write = |path: &Option<PathBuf>, render: &dyn Fn() -> String| match path {
        Some(path) => std::fs::write(path, render())
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => Ok(()),
    };
    write(&outputs.json, &|| json::document(&merged, &shown, &reports))?;
    write(&outputs.dot, &|| dot::document(&merged))?;
    write(&outputs.html, &|| html::document(&merged, &shown, &reports))?;
    Ok(if merged.violation_count() > 0 {
        VIOLATION
    } else if !merged.bad.is_empty() {
        BAD_INPUT
    } else {
        CLEAN
    })
}

/// `cargo lockdep baseline`: an entry per report of a run (or of `--from DIR`) appended to the
/// workspace's suppression file.
fn baseline(args: RunArgs) -> Result<u8, String> {
    let file = match run::workspace_suppressions(&args.cargo)? {
        Some(file) => file,
        None => run::workspace_root(&args.cargo)?.join(Suppressions::FILE_NAME),
    };
    let suppressions = read_suppressions(Some(&file).filter(|f| f.exists()).map(PathBuf::as_path))?;
    let (merged, passed) = match &args.from {
        Some(dir) => (merge(std::slice::from_ref(dir))?, true),
        None => {
            let run = run::run_tests(
                false,
                &args,
                suppressions.as_ref().map(|(p, _)| p.as_path()),
            )?;
            match merge_run(&run)? {
                Some(merged) => (merged, run.passed),
                None => return Ok(cargo_status(run.code)),
            }
        }
    };
    let mut merged = merged;
    if let Some((path, entries)) = suppressions {
        suppress::apply(&mut merged, path, entries);
    }
    let reports = suppress::reports(&merged);
    let faults = merged.violation_count() - reports.len();
    if faults > 0 {
        eprintln!(
            "cargo-lockdep: {faults} report(s) name no class (a bookkeeping fault): no entry can \
             suppress them"
        );
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stamp = run::timestamp(secs);
    let reason = format!("baseline {}-{}-{}", &stamp[..4], &stamp[4..6], &stamp[6..8]);
    if !reports.is_empty() {
        suppress::append(&file, &reports, &reason)?;
    }
    println!(
        "cargo-lockdep: {} entr{} appended to {} ({reason}), {} already suppressed",
        reports.len(),
        if reports.len() == 1 { "y" } else { "ies" },
        file.display(),
        merged.suppressed.len()
    );
    if !passed {
        eprintln!("cargo-lockdep: the test run failed");
        return Ok(VIOLATION);
    }
    Ok(if faults > 0 { VIOLATION } else { CLEAN })
}
