//! `cargo lockdep`: merges the report files that lockdep writes at each process's exit
//! (`LOCKDEP_REPORT_DIR`) into one dependency graph and reports every cycle across processes,
//! by the same rules as in-process; `cargo lockdep test` / `nextest` run a test suite so and
//! merge its files. See the README's "CI: one graph for the whole test suite".
//!
//! Exit status: 0 clean; 1 a violation (or a failed test run); 2 bad input (a file skipped,
//! no report file, a bad command line). A violation wins over bad input: both are printed, the
//! status is 1.
//!
//! A merge is a pipeline, each stage a module with a typed input and output: [`read`] (the
//! files and their text, a batch at a time) → [`parse`] (report files, checked) → [`merge`]
//! (one graph, judged by the checker's rules) → [`resolve`] (the stack traces reports show)
//! → [`report`] (lockdep's report model, rendered as the checker renders its own) → the
//! outputs: [`text`], [`json`], [`dot`], [`html`] (with [`svg`] pictures). [`run`] runs a
//! test suite to make the files.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![forbid(unsafe_code)]

mod dot;
mod html;
mod json;
mod merge;
mod parse;
mod read;
mod report;
mod resolve;
mod run;
mod svg;
mod text;

use std::path::PathBuf;
use std::process::ExitCode;

use merge::Merged;
use resolve::Shown;

const USAGE: &str = "\
usage: cargo lockdep check [OUTPUTS] DIR_OR_FILE... [OUTPUTS]
       cargo lockdep test [OUTPUTS] [--] [cargo test args...]
       cargo lockdep nextest [OUTPUTS] [--] [cargo nextest run args...]

Merges lockdep's report files (lockdep-*.json, as written with LOCKDEP_REPORT_DIR) into one
dependency graph and reports every possible deadlock (wait/notify deadlocks included) or
mempool livelock across processes.
`test` and `nextest` run the test suite with a fresh report directory under
<target>/lockdep/<time>/, then merge it.

OUTPUTS (for test and nextest: before cargo's arguments):
  --json FILE   the merged graph and the violations as JSON (docs/merge.md)
  --dot FILE    the merged graph as Graphviz DOT, cycles in red
  --html FILE   a self-contained page: each report with a picture of its cycle, and the graph
  -q, --quiet   only the summary line (and warnings)

Exit status: 0 clean, 1 violation found or tests failed, 2 bad input (1 wins over 2).";

/// Exit status: nothing found.
const CLEAN: u8 = 0;
/// Exit status: a violation, or a failed test run.
const VIOLATION: u8 = 1;
/// Exit status: bad input or usage.
const BAD_INPUT: u8 = 2;

/// Where to write the optional outputs.
#[derive(Default)]
struct Outputs {
    json: Option<PathBuf>,
    dot: Option<PathBuf>,
    html: Option<PathBuf>,
    quiet: bool,
}

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
        "check" => {
            let (outputs, rest) = outputs(args, true)?;
            if rest.is_empty() {
                return Err(format!("check needs a directory or file\n\n{USAGE}"));
            }
            let paths: Vec<PathBuf> = rest.into_iter().map(PathBuf::from).collect();
            check(&paths, &outputs)
        }
        "test" | "nextest" => {
            let (outputs, mut rest) = outputs(args, false)?;
            if rest.first().map(String::as_str) == Some("--") {
                rest.remove(0);
            }
            let run = run::run_tests(command == "nextest", &rest)?;
            let status = check(std::slice::from_ref(&run.dir), &outputs);
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
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    }
}

/// Takes the output options from `args`: anywhere (`check`), or only before the first other
/// argument (`test`, `nextest`: the rest is cargo's).
fn outputs(args: Vec<String>, anywhere: bool) -> Result<(Outputs, Vec<String>), String> {
    let mut outputs = Outputs::default();
    let mut rest = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if !rest.is_empty() && !anywhere {
            rest.push(arg);
            continue;
        }
        let slot = match arg.as_str() {
            "--json" => &mut outputs.json,
            "--dot" => &mut outputs.dot,
            "--html" => &mut outputs.html,
            "-q" | "--quiet" => {
                outputs.quiet = true;
                continue;
            }
            _ => {
                rest.push(arg);
                continue;
            }
        };
        let file = args.next().ok_or_else(|| format!("{arg} needs a file"))?;
        *slot = Some(PathBuf::from(file));
    }
    Ok((outputs, rest))
}

/// Merges the report files under `paths`, prints the reports and writes the outputs.
fn check(paths: &[PathBuf], outputs: &Outputs) -> Result<u8, String> {
    let files = read::find(paths)?;
    if files.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "no lockdep report file (lockdep-*.json) in {}: were the tests built with lockdep's \
             `enabled` feature and run with LOCKDEP_REPORT_DIR set?",
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
    let shown = Shown::of(&merged);
    let reports = report::all(&merged, &shown);
    if !outputs.quiet {
        for report in &reports {
            println!("{}", report.text);
        }
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
