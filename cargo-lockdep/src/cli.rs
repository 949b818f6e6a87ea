//! The command line: cargo-lockdep's own flags, and the rest as cargo is to see it.
//!
//! For `test`, `nextest` and `baseline` the arguments follow `cargo test`'s: our flags may
//! stand anywhere before the first `--`, every other argument goes to cargo as given and in
//! its order, and the first `--` and what follows it reach cargo too (so the test binaries
//! get them, exactly as with `cargo test`). None of our flags is a flag of `cargo test`
//! (`-q`/`--quiet` are cargo's: the merge's `--summary-only` is ours). For `check`, the flags
//! may stand anywhere among the paths.

use std::path::PathBuf;

/// Where to write the optional outputs of a merge, and how much to print.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Outputs {
    pub(crate) json: Option<PathBuf>,
    pub(crate) dot: Option<PathBuf>,
    pub(crate) html: Option<PathBuf>,
    /// Only the summary line (and warnings).
    pub(crate) summary_only: bool,
}

/// `cargo lockdep test|nextest|baseline`'s arguments.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct RunArgs {
    pub(crate) outputs: Outputs,
    /// `--no-patch`: leave `parking_lot` as it is.
    pub(crate) no_patch: bool,
    /// `--from DIR` (`baseline`): the report files of a run, rather than a new run.
    pub(crate) from: Option<PathBuf>,
    /// Everything else, for cargo, in order (the first `--` and what follows included).
    pub(crate) cargo: Vec<String>,
}

/// `cargo test`'s options that take a value (always), whose value is never ours even when
/// it looks like one of our flags. Options with an optional value (`--test [NAME]`) are
/// followed by a value only when it does not start with `-`, so ours are never one.
const CARGO_WITH_VALUE: &[&str] = &[
    "--manifest-path",
    "--target-dir",
    "--profile",
    "--jobs",
    "-j",
    "--features",
    "-F",
    "--exclude",
    "--color",
    "--config",
    "-Z",
    "--message-format",
    "--lockfile-path",
];

/// A flag of ours that takes a file, as `--flag FILE` or `--flag=FILE`: the flag's slot.
fn file_flag<'a>(outputs: &'a mut Outputs, arg: &str) -> Option<(&'a mut Option<PathBuf>, String)> {
    let (name, inline) = match arg.split_once('=') {
        Some((name, value)) => (name, Some(value.to_owned())),
        None => (arg, None),
    };
    let slot = match name {
        "--json" => &mut outputs.json,
        "--dot" => &mut outputs.dot,
        "--html" => &mut outputs.html,
        _ => return None,
    };
    Some((slot, inline.unwrap_or_default()))
}

/// Splits `test`/`nextest`/`baseline` arguments into ours and cargo's.
///
/// # Errors
///
/// A flag of ours without its file, or `--stat` (not in this version).
pub(crate) fn run_args(args: Vec<String>, baseline: bool) -> Result<RunArgs, String> {
    let mut parsed = RunArgs::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            parsed.cargo.push(arg);
            parsed.cargo.extend(args.by_ref());
            break;
        }
        if let Some((slot, inline)) = file_flag(&mut parsed.outputs, &arg) {
            let file = if inline.is_empty() {
                args.next().ok_or_else(|| format!("{arg} needs a file"))?
            } else {
                inline
            };
            *slot = Some(PathBuf::from(file));
            continue;
        }
        match arg.as_str() {
            "--no-patch" => parsed.no_patch = true,
            "--summary-only" => parsed.outputs.summary_only = true,
            "--from" if baseline => {
                let dir = args
                    .next()
                    .ok_or("--from needs a directory of report files")?;
                parsed.from = Some(PathBuf::from(dir));
            }
            "--stat" => {
                return Err(
                    "--stat: contention statistics (LOCKDEP_STAT) are not in this \
                            version of lockdep"
                        .to_owned(),
                )
            }
            flag if CARGO_WITH_VALUE.contains(&flag) => {
                parsed.cargo.push(arg);
                parsed.cargo.extend(args.next());
            }
            _ => parsed.cargo.push(arg),
        }
    }
    Ok(parsed)
}

/// Splits `check`'s arguments into the outputs and the paths.
///
/// # Errors
///
/// A flag without its file.
pub(crate) fn check_args(args: Vec<String>) -> Result<(Outputs, Vec<PathBuf>), String> {
    let mut outputs = Outputs::default();
    let mut paths = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if let Some((slot, inline)) = file_flag(&mut outputs, &arg) {
            let file = if inline.is_empty() {
                args.next().ok_or_else(|| format!("{arg} needs a file"))?
            } else {
                inline
            };
            *slot = Some(PathBuf::from(file));
            continue;
        }
        match arg.as_str() {
            "-q" | "--quiet" | "--summary-only" => outputs.summary_only = true,
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    Ok((outputs, paths))
}

/// Whether cargo's arguments (before the first `--`) ask for a release build: `--release`,
/// `-r`, or a profile other than `dev` and `test`.
pub(crate) fn is_release(cargo: &[String]) -> bool {
    let mut args = cargo.iter().take_while(|a| *a != "--");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--release" | "-r" => return true,
            "--profile" => {
                if args.next().is_some_and(|p| p != "dev" && p != "test") {
                    return true;
                }
            }
            other => {
                if let Some(p) = other.strip_prefix("--profile=") {
                    if p != "dev" && p != "test" {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// Cargo's arguments without `--locked` (and `--frozen`, which is `--locked --offline`: it
/// becomes `--offline`), for a build that resolves with the patches, which cannot leave the
/// lock file as it is; and whether they asked for it.
pub(crate) fn without_locked(cargo: &[String]) -> (Vec<String>, bool) {
    let mut out = Vec::with_capacity(cargo.len());
    let mut locked = false;
    let mut args = cargo.iter();
    for arg in args.by_ref() {
        match arg.as_str() {
            "--" => {
                out.push(arg.clone());
                break;
            }
            "--locked" => locked = true,
            "--frozen" => {
                locked = true;
                out.push("--offline".to_owned());
            }
            _ => out.push(arg.clone()),
        }
    }
    out.extend(args.cloned());
    (out, locked)
}

/// Whether cargo's arguments (before the first `--`) keep it off the network.
pub(crate) fn is_offline(cargo: &[String]) -> bool {
    cargo
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--offline" || a == "--frozen")
}

/// The value of cargo's `--manifest-path` among `cargo` (before the first `--`), as
/// arguments to ask cargo about the same package.
pub(crate) fn manifest_path(cargo: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut args = cargo.iter().take_while(|a| *a != "--");
    while let Some(arg) = args.next() {
        if arg == "--manifest-path" {
            if let Some(path) = args.next() {
                found = vec![arg.clone(), path.clone()];
            }
        } else if arg.starts_with("--manifest-path=") {
            found = vec![arg.clone()];
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use crate::cli::{
        check_args, is_offline, is_release, manifest_path, run_args, without_locked, Outputs,
        RunArgs,
    };
    use std::path::PathBuf;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    fn run(args: &[&str]) -> RunArgs {
        run_args(strings(args), false).unwrap()
    }

    #[test]
    fn what_follows_the_first_double_dash_goes_through_as_given() {
        let parsed = run(&["--", "--nocapture", "--json", "x", "--", "y"]);
        assert_eq!(parsed.outputs, Outputs::default());
        assert_eq!(
            parsed.cargo,
            strings(&["--", "--nocapture", "--json", "x", "--", "y"])
        );
    }

    #[test]
    fn our_flags_stand_anywhere_before_it() {
        let parsed = run(&[
            "--test",
            "a",
            "--json",
            "m.json",
            "-p",
            "x",
            "--no-patch",
            "--html=r.html",
            "filter",
            "--summary-only",
            "--dot",
            "g.dot",
            "--",
            "--test-threads=1",
        ]);
        assert_eq!(
            parsed.outputs,
            Outputs {
                json: Some(PathBuf::from("m.json")),
                dot: Some(PathBuf::from("g.dot")),
                html: Some(PathBuf::from("r.html")),
                summary_only: true,
            }
        );
        assert!(parsed.no_patch);
        assert_eq!(
            parsed.cargo,
            strings(&["--test", "a", "-p", "x", "filter", "--", "--test-threads=1"])
        );
    }

    #[test]
    fn cargo_s_own_flags_and_values_are_cargo_s() {
        // `-q` is cargo test's `--quiet`; a value of cargo's is never ours.
        let parsed = run(&["-q", "--quiet", "--features", "--json", "--config", "x=1"]);
        assert_eq!(parsed.outputs, Outputs::default());
        assert_eq!(
            parsed.cargo,
            strings(&["-q", "--quiet", "--features", "--json", "--config", "x=1"])
        );
    }

    #[test]
    fn a_flag_without_its_file_or_not_in_this_version_is_an_error() {
        assert_eq!(
            run_args(strings(&["--json"]), false).unwrap_err(),
            "--json needs a file"
        );
        assert!(run_args(strings(&["--stat"]), false)
            .unwrap_err()
            .contains("not in this version"));
        // `--from` is baseline's.
        assert_eq!(run(&["--from", "d"]).cargo, strings(&["--from", "d"]));
        let baseline = run_args(strings(&["--from", "d", "--no-patch"]), true).unwrap();
        assert_eq!(baseline.from, Some(PathBuf::from("d")));
    }

    #[test]
    fn check_takes_its_flags_anywhere() {
        let (outputs, paths) = check_args(strings(&["a", "-q", "--json", "j", "b"])).unwrap();
        assert!(outputs.summary_only);
        assert_eq!(outputs.json, Some(PathBuf::from("j")));
        assert_eq!(paths, [PathBuf::from("a"), PathBuf::from("b")]);
    }

    #[test]
    fn release_builds_are_told_apart() {
        assert!(is_release(&strings(&["--release"])));
        assert!(is_release(&strings(&["-r", "--", "x"])));
        assert!(is_release(&strings(&["--profile", "bench"])));
        assert!(is_release(&strings(&["--profile=release"])));
        assert!(!is_release(&strings(&["--profile", "dev"])));
        assert!(!is_release(&strings(&["--", "--release"])));
        assert!(!is_release(&strings(&[])));
    }

    #[test]
    fn locked_is_taken_out_and_frozen_is_offline() {
        let (args, locked) = without_locked(&strings(&["--locked", "-p", "a", "--", "--locked"]));
        assert!(locked);
        assert_eq!(args, strings(&["-p", "a", "--", "--locked"]));
        let (args, locked) = without_locked(&strings(&["--frozen"]));
        assert!(locked);
        assert_eq!(args, strings(&["--offline"]));
        assert!(is_offline(&args));
        let (args, locked) = without_locked(&strings(&["--", "--frozen"]));
        assert!(!locked);
        assert_eq!(args, strings(&["--", "--frozen"]));
        assert!(!is_offline(&args));
    }

    #[test]
    fn the_manifest_path_is_found_before_the_double_dash() {
        assert_eq!(
            manifest_path(&strings(&[
                "--manifest-path",
                "a/Cargo.toml",
                "--",
                "--manifest-path",
                "b"
            ])),
            strings(&["--manifest-path", "a/Cargo.toml"])
        );
        assert_eq!(
            manifest_path(&strings(&["--manifest-path=c/Cargo.toml"])),
            strings(&["--manifest-path=c/Cargo.toml"])
        );
        assert!(manifest_path(&strings(&["--", "--manifest-path", "x"])).is_empty());
    }
}
