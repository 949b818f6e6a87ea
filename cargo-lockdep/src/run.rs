//! `cargo lockdep test` / `nextest`: runs the test suite with every process writing its report
//! file into a fresh directory, for the merge to judge.
//!
//! The run is made for a merge: `LOCKDEP_MODE=collect` (a violation is recorded, not a
//! panic, so that the run goes on and every test's dependencies reach the graph), and the
//! process-level exit codes for violations and faults off (`LOCKDEP_EXIT_CODE=0`,
//! `LOCKDEP_FAULT_EXIT_CODE=0`: both are in the report files, and the merge decides), so that
//! a failed test run means failed tests. The processes write their stack traces as addresses
//! in their test binary (`LOCKDEP_REPORT_SYMBOLS=merge`, unless it is set): the merge, where
//! the binaries are, resolves the few that reports show. lockdep's crates and the locks under
//! them are built optimised even in the dev and test profiles: the checker's slow path is in
//! them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;

/// The crates built with `opt-level=3` under `cargo lockdep`, when the test build has them:
/// the checker and the locks under it, and the crates that resolve the stack traces of the
/// report files (unoptimized, symbolizing a 50 MB test binary took 1.4 s a process, a tenth
/// of that optimized).
const OPTIMISED: &[&str] = &[
    "lockdep",
    "lockdep-core",
    "lockdep-raw",
    "lockdep-mempool",
    "parking_lot",
    "lock_api",
    "parking_lot_core",
    "backtrace",
    "addr2line",
    "gimli",
    "object",
    "miniz_oxide",
    "adler2",
    "rustc-demangle",
];

/// `LOCKDEP_WATCHDOG` for the test processes, unless set: a wait for a checked lock longer
/// than this (seconds) stops the process with a report of who waits for what.
const DEFAULT_WATCHDOG: &str = "120";

/// A finished test run.
pub(crate) struct TestRun {
    /// Where its report files are.
    pub(crate) dir: PathBuf,
    /// Whether cargo said the tests passed.
    pub(crate) passed: bool,
}

#[derive(Deserialize)]
struct Metadata {
    target_directory: PathBuf,
    packages: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The `--manifest-path` among `args`, to ask cargo about the same package.
fn manifest_path(args: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if arg == "--manifest-path" {
            if let Some(path) = args.get(i + 1) {
                found = vec![arg.clone(), path.clone()];
            }
        } else if arg.starts_with("--manifest-path=") {
            found = vec![arg.clone()];
        }
    }
    found
}

/// The build's target directory (honouring `CARGO_TARGET_DIR` and cargo's configuration, as
/// cargo reports it) and the names of every package in its dependency graph.
fn metadata(args: &[String]) -> Result<Metadata, String> {
    let output = Command::new(cargo())
        .args(["metadata", "--format-version", "1"])
        .args(manifest_path(args))
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata: {e}"))
}

/// `YYYYMMDD-HHMMSS` (UTC) of `secs` since the UNIX epoch.
fn timestamp(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil from days (Howard Hinnant's algorithm), for dates from 1970 on.
    let z = days as i64 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// A new directory `target/lockdep/<time>[-n]`.
fn fresh_dir(target: &Path) -> Result<PathBuf, String> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = target.join("lockdep");
    std::fs::create_dir_all(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    let stamp = timestamp(secs);
    for n in 0.. {
        let dir = match n {
            0 => base.join(&stamp),
            n => base.join(format!("{stamp}-{n}")),
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("{}: {e}", dir.display())),
        }
    }
    unreachable!("some directory name is free")
}

/// Runs `cargo test ARGS` (or `cargo nextest run ARGS`) writing report files into a fresh
/// directory.
///
/// # Errors
///
/// When cargo cannot be asked about the build or run, or the directory cannot be made.
pub(crate) fn run_tests(nextest: bool, args: &[String]) -> Result<TestRun, String> {
    let meta = metadata(args)?;
    let dir = fresh_dir(&meta.target_directory)?;
    let mut command = Command::new(cargo());
    if nextest {
        command.args(["nextest", "run"]);
    } else {
        command.arg("test");
    }
    for name in OPTIMISED {
        if meta.packages.iter().any(|p| p.name == *name) {
            command.arg("--config").arg(format!(
                "profile.dev.package.{}.opt-level=3",
                toml_key(name)
            ));
        }
    }
    command
        .args(args)
        .env("LOCKDEP_REPORT_DIR", &dir)
        .env("LOCKDEP_MODE", "collect")
        .env("LOCKDEP_EXIT_CODE", "0")
        .env("LOCKDEP_FAULT_EXIT_CODE", "0");
    // The binaries are here for the merge: the processes leave their traces to it.
    if std::env::var_os("LOCKDEP_REPORT_SYMBOLS").is_none() {
        command.env("LOCKDEP_REPORT_SYMBOLS", "merge");
    }
    // A real deadlock becomes a report (and a failed test run) instead of a CI timeout.
    if std::env::var_os("LOCKDEP_WATCHDOG").is_none() {
        command.env("LOCKDEP_WATCHDOG", DEFAULT_WATCHDOG);
    }
    eprintln!("cargo-lockdep: report files go to {}", dir.display());
    let status = command
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(TestRun {
        dir,
        passed: status.success(),
    })
}

/// A package name as a TOML key: quoted when it has a dash.
fn toml_key(name: &str) -> String {
    if name.contains('-') {
        format!("\"{name}\"")
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use crate::run::timestamp;

    #[test]
    fn timestamps_are_utc_calendar_times() {
        assert_eq!(timestamp(0), "19700101-000000");
        // 2026-11-25 16:29:04 UTC, and a leap day.
        assert_eq!(timestamp(1_795_624_144), "20261125-162904");
        assert_eq!(timestamp(951_782_400), "20000229-000000");
    }
}
