//! `cargo lockdep test` / `nextest`: runs the test suite with every process writing its report
//! file into a fresh directory, for the merge to judge, and every `parking_lot` of the
//! workspace's graph replaced by lockdep's patches (see [`patch`](crate::patch); the
//! workspace's `Cargo.lock` is kept as it was, see [`lockfile`](crate::lockfile)).
//!
//! The run is made for a merge: `LOCKDEP_MODE=collect` (a violation is recorded, not a
//! panic, so that the run goes on and every test's dependencies reach the graph), and the
//! process-level exit codes for violations and faults off (`LOCKDEP_EXIT_CODE=0`,
//! `LOCKDEP_FAULT_EXIT_CODE=0`: both are in the report files, and the merge decides), so that
//! a failed test run means failed tests; the processes print no report at exit
//! (`LOCKDEP_EXIT_REPORT=file`): the merge prints each violation of their files once; they
//! use the workspace's suppression file, as the merge does. The processes write their stack
//! traces as addresses in their test binary (`LOCKDEP_REPORT_SYMBOLS=merge`, unless it is
//! set): the merge, where the binaries are, resolves the few that reports show. lockdep's
//! crates and the locks under them are built optimised even in the dev and test profiles
//! (cargo configuration, given to cargo as one `--config` file): the checker's slow path is
//! in them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use lockdep_report::Suppressions;
use serde::Deserialize;

use crate::cli::{self, RunArgs};
use crate::{embedded, lockfile, patch};

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
    /// Cargo's exit status (1 when it had none: killed by a signal).
    pub(crate) code: i32,
}

#[derive(Deserialize)]
struct Metadata {
    target_directory: PathBuf,
    workspace_root: PathBuf,
    packages: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    source: Option<String>,
    manifest_path: PathBuf,
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// `cargo metadata` of the package the arguments name (`manifest_path`: `--manifest-path`
/// and its value, or nothing), with `extra` arguments: the build's target directory
/// (honouring `CARGO_TARGET_DIR` and cargo's configuration, as cargo reports it), the
/// workspace's root and its packages.
fn metadata(manifest_path: &[String], extra: &[&str]) -> Result<Metadata, String> {
    let output = Command::new(cargo())
        .args(["metadata", "--format-version", "1"])
        .args(extra)
        .args(manifest_path)
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

/// Writes the cargo configuration `text` of a run (the patches and the optimised crates)
/// under `dir`, in a file named after its contents.
fn write_config(dir: &Path, text: &str) -> Result<PathBuf, String> {
    let path = dir.join(format!(
        "config-{:016x}.toml",
        patch::fnv(&[text.as_bytes()])
    ));
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(path)
}

/// The `parking_lot` patches of a run.
struct Patched {
    /// Their `[patch.crates-io]` configuration (empty when nothing is replaced).
    config: String,
    /// The lock file as it was, put back when the run ends (when this is dropped).
    _saved: lockfile::Saved,
}

/// Replaces the `parking_lot` packages the workspace's lock file pins with lockdep's patches:
/// saves the lock file first (cargo metadata may write it), writes the patch packages under
/// `<target>/lockdep/`, and says what it replaced. `options` are for cargo metadata
/// (`--offline`; `--locked`, which checks the lock file as the user's cargo would have).
fn apply_patches(
    meta: &Metadata,
    manifest_path: &[String],
    options: &[&str],
) -> Result<Patched, String> {
    let lock = meta.workspace_root.join("Cargo.lock");
    let lockdep_dir = meta.target_directory.join("lockdep");
    let saved = lockfile::Saved::new(&lock, &lockdep_dir.join("saved"), true)?;
    // The whole graph, resolved (and the lock file written, if there was none).
    let full = metadata(manifest_path, options)?;
    let text = std::fs::read_to_string(&lock)
        .map_err(|e| format!("cannot read {}: {e}", lock.display()))?;
    let (replaced, notes) = patch::plan(&lockfile::packages(&text));
    for note in notes {
        eprintln!("cargo-lockdep: {note}");
    }
    if replaced.is_empty() {
        return Ok(Patched {
            config: String::new(),
            _saved: saved,
        });
    }
    // One checker per process: the workspace's lockdep if it has one.
    let lockdep = match full.packages.iter().find(|p| p.name == "lockdep") {
        Some(p) => patch::Lockdep::of_package(p.source.as_deref(), &p.version, &p.manifest_path)
            .ok_or_else(|| {
                format!(
                    "the workspace's lockdep comes from {}, which a patch cannot name",
                    p.source.as_deref().unwrap_or("?")
                )
            })?,
        None => patch::Lockdep::Path(embedded::copy_under(&lockdep_dir.join("src"))?),
    };
    let mut patches = Vec::new();
    for r in &replaced {
        patches.push((r, patch::write(&lockdep_dir.join("patch"), r, &lockdep)?));
    }
    for r in &replaced {
        eprintln!("cargo-lockdep: {}", r.describe());
    }
    Ok(Patched {
        config: patch::config(&patches, &[]),
        _saved: saved,
    })
}

/// Runs `cargo test ARGS` (or `cargo nextest run ARGS`) writing report files into a fresh
/// directory, with `parking_lot` replaced by lockdep's patches unless `--no-patch` (or a
/// release build). The test processes read the suppression file `suppressions` (`None`:
/// none) unless `LOCKDEP_SUPPRESSIONS` says otherwise.
///
/// # Errors
///
/// When cargo cannot be asked about the build or run, or the patches or the directory cannot
/// be written.
pub(crate) fn run_tests(
    nextest: bool,
    args: &RunArgs,
    suppressions: Option<&Path>,
) -> Result<TestRun, String> {
    let manifest_path = cli::manifest_path(&args.cargo);
    let offline: &[&str] = if cli::is_offline(&args.cargo) {
        &["--offline"]
    } else {
        &[]
    };
    let meta = metadata(&manifest_path, &[&["--no-deps"], offline].concat())?;
    let lockdep_dir = meta.target_directory.join("lockdep");
    let release = cli::is_release(&args.cargo);
    if release && !args.no_patch {
        eprintln!("cargo-lockdep: a release build: parking_lot is not replaced");
    }
    let patching = !args.no_patch && !release;
    // A patched build resolves another graph: `--locked` is checked on the workspace's own.
    let (cargo_args, locked) = if patching {
        cli::without_locked(&args.cargo)
    } else {
        (args.cargo.clone(), false)
    };
    let patched = if patching {
        let locked_flag: &[&str] = if locked { &["--locked"] } else { &[] };
        let options = [offline, locked_flag].concat();
        Some(apply_patches(&meta, &manifest_path, &options)?)
    } else {
        None
    };
    if locked {
        eprintln!(
            "cargo-lockdep: --locked: Cargo.lock is up to date; the test build resolves with the \
             patches, and Cargo.lock is put back after"
        );
    }
    let patch_config = patched.as_ref().map_or("", |p| p.config.as_str());
    // The packages of the graph cargo is about to build, the patches' included.
    let graph = if patch_config.is_empty() {
        metadata(&manifest_path, offline)?
    } else {
        let config = write_config(&lockdep_dir, patch_config)?
            .display()
            .to_string();
        metadata(
            &manifest_path,
            &[&["--config", config.as_str()], offline].concat(),
        )?
    };
    let optimised: Vec<&str> = OPTIMISED
        .iter()
        .copied()
        .filter(|name| graph.packages.iter().any(|p| p.name == *name))
        .collect();
    let config = write_config(
        &lockdep_dir,
        &(patch_config.to_owned() + &patch::config(&[], &optimised)),
    )?;
    let dir = fresh_dir(&meta.target_directory)?;
    let mut command = Command::new(cargo());
    if nextest {
        command.args(["nextest", "run"]);
    } else {
        command.arg("test");
    }
    command
        .arg("--config")
        .arg(&config)
        .args(&cargo_args)
        .env("LOCKDEP_REPORT_DIR", &dir)
        .env("LOCKDEP_MODE", "collect")
        .env("LOCKDEP_EXIT_CODE", "0")
        .env("LOCKDEP_FAULT_EXIT_CODE", "0")
        // The merge prints every violation of the report files, once.
        .env("LOCKDEP_EXIT_REPORT", "file");
    // The binaries are here for the merge: the processes leave their traces to it.
    if std::env::var_os("LOCKDEP_REPORT_SYMBOLS").is_none() {
        command.env("LOCKDEP_REPORT_SYMBOLS", "merge");
    }
    // A real deadlock becomes a report (and a failed test run) instead of a CI timeout.
    if std::env::var_os("LOCKDEP_WATCHDOG").is_none() {
        command.env("LOCKDEP_WATCHDOG", DEFAULT_WATCHDOG);
    }
    // The processes suppress what the merge suppresses.
    if std::env::var_os(Suppressions::ENV_VAR).is_none() {
        command.env(Suppressions::ENV_VAR, suppressions.unwrap_or(Path::new("")));
    }
    eprintln!("cargo-lockdep: report files go to {}", dir.display());
    let status = command
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    drop(patched);
    Ok(TestRun {
        dir,
        passed: status.success(),
        code: status.code().unwrap_or(1),
    })
}

/// The suppression file of the workspace whose manifest the arguments name: the one
/// `LOCKDEP_SUPPRESSIONS` names (empty: none), else `lockdep.toml` at the workspace's root if
/// there is one.
///
/// # Errors
///
/// When cargo cannot be asked where the workspace's root is.
pub(crate) fn workspace_suppressions(cargo_args: &[String]) -> Result<Option<PathBuf>, String> {
    if let Some(var) = std::env::var_os(Suppressions::ENV_VAR) {
        return Ok((!var.is_empty()).then(|| PathBuf::from(var)));
    }
    let file = workspace_root(cargo_args)?.join(Suppressions::FILE_NAME);
    Ok(file.is_file().then_some(file))
}

/// The root directory of the workspace whose manifest the arguments name.
///
/// # Errors
///
/// When cargo cannot be asked.
pub(crate) fn workspace_root(cargo_args: &[String]) -> Result<PathBuf, String> {
    Ok(metadata(&cli::manifest_path(cargo_args), &["--no-deps"])?.workspace_root)
}

/// `YYYYMMDD-HHMMSS` (UTC) of `secs` since the UNIX epoch.
pub(crate) fn timestamp(secs: u64) -> String {
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
