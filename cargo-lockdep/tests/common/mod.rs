//! Report files written by hand, and the binary run on them.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One process's report file: its classes by name (`ALLOC` is `alloc`, names starting with
/// `pool:` are pools, `event:` events; `name|type` a creation-site class of data of that
/// type), its dependencies, its recorded violations.
pub struct Report {
    pub test: Option<String>,
    pub pid: u32,
    /// `(from, to, deps)`, e.g. `("index", "log", "EN")`.
    pub edges: Vec<(&'static str, &'static str, &'static str)>,
    /// Raw violation objects.
    pub violations: Vec<String>,
}

impl Report {
    pub fn new(test: &str, pid: u32) -> Report {
        Report {
            test: Some(test.to_owned()),
            pid,
            edges: Vec::new(),
            violations: Vec::new(),
        }
    }

    pub fn edge(mut self, from: &'static str, to: &'static str, deps: &'static str) -> Report {
        self.edges.push((from, to, deps));
        self
    }

    pub fn violation(mut self, kind: &str, classes: &[&str]) -> Report {
        let classes: Vec<String> = classes.iter().map(|c| class_json(0, c)).collect();
        self.violations.push(format!(
            r#"{{"kind":"{kind}","headline":"possible recursive locking detected","thread":"main/1","classes":[{}],"held":[],"backtrace":[],"report":"WARNING: {kind} in {}\n"}}"#,
            classes.join(","),
            self.test.as_deref().unwrap_or("?")
        ));
        self
    }

    /// The report file's text; class ids are numbered in order of appearance, from `ALLOC` = 1.
    pub fn json(&self) -> String {
        let mut names = vec!["ALLOC"];
        for &(from, to, _) in &self.edges {
            for name in [from, to] {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        let id = |name: &str| names.iter().position(|n| *n == name).unwrap() + 1;
        let classes: Vec<String> = names.iter().map(|n| class_json(id(n), n)).collect();
        let mut edges = Vec::new();
        for (line, &(from, to, deps)) in self.edges.iter().enumerate() {
            let deps: Vec<String> = deps.split(',').map(|d| format!("\"{d}\"")).collect();
            let mut e = String::new();
            let _ = write!(
                e,
                r#"{{"from":{},"to":{},"deps":[{}],"site":{{"file":"src/{}.rs","line":{},"column":9}},"backtrace":[{{"function":"suite::{}","site":null}}]}}"#,
                id(from),
                id(to),
                deps.join(","),
                self.test.as_deref().unwrap_or("main"),
                line + 10,
                self.test.as_deref().unwrap_or("main"),
            );
            edges.push(e);
        }
        let test = match &self.test {
            Some(t) => format!("\"{t}\""),
            None => "null".to_owned(),
        };
        format!(
            r#"{{"version":1,"binary":"/ci/target/debug/deps/suite-0123456789abcdef","test":{test},"pid":{},"time":1767225600,"graph":{{"classes":[{}],"edges":[{}]}},"violations":[{}]}}
"#,
            self.pid,
            classes.join(","),
            edges.join(","),
            self.violations.join(",")
        )
    }

    /// Writes the report into `dir` as `lockdep-<pid>-1.json`.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join(format!("lockdep-{}-1.json", self.pid));
        std::fs::write(&path, self.json()).unwrap();
        path
    }
}

fn class_json(id: usize, name: &str) -> String {
    let kind = if name == "ALLOC" {
        "alloc"
    } else if name.starts_with("pool:") {
        "pool"
    } else if name.starts_with("event:") {
        "event"
    } else {
        "lock"
    };
    // `name|type`: a creation-site class of data of that type.
    let (name, data_type) = match name.split_once('|') {
        Some((name, t)) => (name, format!("\"{t}\"")),
        None => (name, "null".to_owned()),
    };
    format!(r#"{{"id":{id},"name":"{name}","kind":"{kind}","site":null,"type":{data_type}}}"#)
}

/// A fresh, empty directory for one test.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cargo-lockdep")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What a run of `cargo-lockdep` said.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cargo-lockdep ARGS` as cargo would (`cargo-lockdep lockdep ARGS`).
pub fn cargo_lockdep<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-lockdep"))
        .arg("lockdep")
        .args(args)
        .output()
        .unwrap();
    Output {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// How many classes of `kind` ("lock", "pool", "alloc", "event") the merged graph of a
/// `--json` document has.
pub fn classes_of_kind(doc: &serde_json::Value, kind: &str) -> usize {
    doc["graph"]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == kind)
        .count()
}

/// The fixture suite (`tests/fixtures/abba-suite`), a workspace of its own depending on
/// lockdep by path. Tests build it into one target directory, `<target>/lockdep-fixtures`,
/// kept between runs: only the first run of a machine compiles lockdep and its dependencies.
pub fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/abba-suite")
}

/// `cargo-lockdep lockdep ARGS`, run in the suite as cargo would run it.
pub fn cargo_lockdep_in_suite(args: &[&str]) -> Output {
    cargo_lockdep_in_suite_with(args, &[])
}

/// [`cargo_lockdep_in_suite`] with these environment variables set.
pub fn cargo_lockdep_in_suite_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    cargo_lockdep_in(&suite(), args, env)
}

/// The target directory the fixture workspaces are built into, kept between runs.
pub fn fixtures_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("lockdep-fixtures")
}

/// `cargo-lockdep lockdep ARGS` as cargo would run it in `dir`, with these environment
/// variables set, building into [`fixtures_target`].
pub fn cargo_lockdep_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = cargo_lockdep_command(dir, args, env).output().unwrap();
    Output {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The command [`cargo_lockdep_in`] runs.
pub fn cargo_lockdep_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-lockdep"));
    command
        .arg("lockdep")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", fixtures_target());
    // What this test process was given for itself is not the suite's.
    for var in [
        "LOCKDEP_REPORT_DIR",
        "LOCKDEP_MODE",
        "LOCKDEP_REPORT_SYMBOLS",
        "RUSTFLAGS",
        "NEXTEST_TEST_NAME",
        "LOCKDEP_SUPPRESSIONS",
        "LOCKDEP_EXIT_REPORT",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    command
}
