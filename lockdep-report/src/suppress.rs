//! Suppressions: the reports a team has decided not to fail on, in a `lockdep.toml` at the
//! workspace root (or the file `LOCKDEP_SUPPRESSIONS` names), read by the checker in every
//! process and by `cargo lockdep` for the merge, by this one implementation:
//!
//! ```toml
//! [[suppress]]
//! reason = "order inside a dependency, reported upstream"
//! classes = ["somecrate-1.*/src/*", "src/cache.rs:*"]
//! ```
//!
//! A report is suppressed by an entry when every pattern of the entry ([`Glob`]) matches at
//! least one class of the report (by any of the names the class answers to: its printed
//! name, with its data type, and its name without it). The first entry that suppresses a
//! report is the one credited with it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::glob::Glob;
use crate::toml_subset::{self, Value};

/// The entries of a suppression file, in file order.
///
/// # Examples
///
/// ```
/// use lockdep_report::Suppressions;
///
/// let file = Suppressions::parse(
///     "[[suppress]]\n\
///      reason = \"reported upstream\"\n\
///      classes = [\"somecrate-1.*/src/*\", \"src/cache.rs:*\"]\n",
/// )
/// .unwrap();
/// let report = ["src/cache.rs:10:5 Mutex<Vec<u8>>", "somecrate-1.2.0/src/pool.rs:3:9 Mutex<()>"];
/// assert_eq!(file.suppressing(&report), Some(0));
/// // Each pattern must match a class of the report.
/// assert_eq!(file.suppressing(&["src/cache.rs:10:5 Mutex<Vec<u8>>", "src/db.rs:1:1"]), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Suppressions {
    entries: Vec<Suppression>,
}

/// One `[[suppress]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Suppression {
    reason: String,
    classes: Vec<Glob>,
    line: usize,
}

/// What is wrong with a suppression file, and on which line (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuppressionError {
    /// The line.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

impl std::fmt::Display for SuppressionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for SuppressionError {}

impl Suppression {
    /// Why the reports it matches are accepted.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Its patterns, each to match a class of a report.
    pub fn classes(&self) -> &[Glob] {
        &self.classes
    }

    /// The line of its `[[suppress]]` header.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Whether it suppresses a report whose classes answer to `names`: every pattern matches
    /// one of them.
    pub fn suppresses<S: AsRef<str>>(&self, names: &[S]) -> bool {
        self.classes
            .iter()
            .all(|glob| names.iter().any(|name| glob.matches(name.as_ref())))
    }
}

impl Suppressions {
    /// The name of the suppression file at the workspace root.
    pub const FILE_NAME: &'static str = "lockdep.toml";

    /// The environment variable that names the suppression file in place of the workspace's
    /// `lockdep.toml` (empty: none).
    pub const ENV_VAR: &'static str = "LOCKDEP_SUPPRESSIONS";

    /// Parses a suppression file's text: `[[suppress]]` entries, each with a `reason` (a
    /// string) and `classes` (a non-empty array of patterns).
    ///
    /// # Errors
    ///
    /// The first line that is wrong, and what is wrong with it: text that is not of the
    /// subset of TOML the file is written in (strings and arrays of strings), another table
    /// than `[[suppress]]`, an unknown key, a missing `reason` or `classes`, an empty
    /// `classes`, a pattern ending with a lone `\`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep_report::Suppressions;
    ///
    /// let e = Suppressions::parse("[[suppress]]\nreason = \"x\"\nclasess = [\"a\"]\n").unwrap_err();
    /// assert_eq!(e.line, 3);
    /// assert_eq!(e.to_string(), "line 3: unknown key `clasess` in a [[suppress]] entry (its keys are `reason` and `classes`)");
    /// ```
    pub fn parse(text: &str) -> Result<Suppressions, SuppressionError> {
        let doc = toml_subset::parse(text).map_err(|e| SuppressionError {
            line: e.line,
            message: e.message,
        })?;
        let mut entries = Vec::new();
        for table in doc.tables {
            let fail = |line: usize, message: String| Err(SuppressionError { line, message });
            if table.name.is_empty() {
                let key = &table.entries[0];
                return fail(
                    key.line,
                    format!(
                        "`{}` is outside a [[suppress]] entry (every key belongs to one)",
                        key.key
                    ),
                );
            }
            if table.name != "suppress" || !table.array {
                let header = if table.array {
                    format!("[[{}]]", table.name)
                } else {
                    format!("[{}]", table.name)
                };
                return fail(
                    table.line,
                    format!("unknown table {header}: this file holds [[suppress]] entries only"),
                );
            }
            let (mut reason, mut classes) = (None, None);
            for entry in table.entries {
                match (entry.key.as_str(), entry.value) {
                    ("reason", Value::String(s)) => reason = Some(s),
                    ("classes", Value::Array(items)) => classes = Some((items, entry.line)),
                    ("reason", Value::Array(_)) => {
                        return fail(entry.line, "`reason` must be a string".to_owned())
                    }
                    ("classes", Value::String(s)) => {
                        return fail(
                            entry.line,
                            format!(
                                "`classes` must be an array of patterns: classes = [{}]",
                                toml_subset::quote(&s)
                            ),
                        )
                    }
                    (key, _) => {
                        return fail(
                            entry.line,
                            format!(
                                "unknown key `{key}` in a [[suppress]] entry (its keys are \
                                 `reason` and `classes`)"
                            ),
                        )
                    }
                }
            }
            let Some(reason) = reason else {
                return fail(
                    table.line,
                    "this [[suppress]] entry has no `reason` (say why its reports are accepted)"
                        .to_owned(),
                );
            };
            let Some((patterns, classes_line)) = classes else {
                return fail(
                    table.line,
                    "this [[suppress]] entry has no `classes` (the patterns of the classes it \
                     suppresses)"
                        .to_owned(),
                );
            };
            if patterns.is_empty() {
                return fail(
                    classes_line,
                    "`classes` is empty: an entry must name at least one class pattern".to_owned(),
                );
            }
            let classes = patterns
                .into_iter()
                .map(|(p, line)| {
                    Glob::new(&p).map_err(|message| SuppressionError { line, message })
                })
                .collect::<Result<_, _>>()?;
            entries.push(Suppression {
                reason,
                classes,
                line: table.line,
            });
        }
        Ok(Suppressions { entries })
    }

    /// Reads and parses the file at `path`.
    ///
    /// # Errors
    ///
    /// `PATH: cannot read it: …`, or `PATH:LINE: what is wrong`.
    pub fn read(path: &Path) -> Result<Suppressions, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read it: {e}", path.display()))?;
        Suppressions::parse(&text)
            .map_err(|e| format!("{}:{}: {}", path.display(), e.line, e.message))
    }

    /// The suppression file that applies in `dir`: the nearest `lockdep.toml` in `dir` or a
    /// directory above it, up to the workspace's root (the first directory with a
    /// `Cargo.lock`); `None` when there is none.
    pub fn locate(dir: &Path) -> Option<PathBuf> {
        for dir in dir.ancestors() {
            let file = dir.join(Suppressions::FILE_NAME);
            if file.is_file() {
                return Some(file);
            }
            if dir.join("Cargo.lock").is_file() {
                return None;
            }
        }
        None
    }

    /// The suppression file a process in `dir` uses: the one `LOCKDEP_SUPPRESSIONS` names
    /// (empty: none), else the one [`locate`](Suppressions::locate) finds from `dir`.
    pub fn file_in(dir: &Path) -> Option<PathBuf> {
        Suppressions::file_for(std::env::var_os(Suppressions::ENV_VAR), dir)
    }

    /// [`file_in`](Suppressions::file_in), `var` being the value of `LOCKDEP_SUPPRESSIONS`.
    pub fn file_for(var: Option<std::ffi::OsString>, dir: &Path) -> Option<PathBuf> {
        match var {
            Some(path) if path.is_empty() => None,
            Some(path) => Some(PathBuf::from(path)),
            None => Suppressions::locate(dir),
        }
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[Suppression] {
        &self.entries
    }

    /// Whether the file has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry that suppresses a report whose classes answer to `names` (every name
    /// of every class: the printed one and the one without the data type), by its index.
    pub fn suppressing<S: AsRef<str>>(&self, names: &[S]) -> Option<usize> {
        self.entries.iter().position(|e| e.suppresses(names))
    }

    /// The text of an entry that suppresses a report of exactly the classes `names` (their
    /// patterns escaped), as `cargo lockdep baseline` appends it.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep_report::Suppressions;
    ///
    /// let text = Suppressions::entry_text("baseline 2026-05-01", &["index", "src/a.rs:1:9 <*mut u8>"]);
    /// assert_eq!(
    ///     text,
    ///     "[[suppress]]\nreason = \"baseline 2026-05-01\"\nclasses = [\"index\", \"src/a.rs:1:9 <\\\\*mut u8>\"]\n"
    /// );
    /// let file = Suppressions::parse(&text).unwrap();
    /// assert_eq!(file.suppressing(&["index", "src/a.rs:1:9 <*mut u8>"]), Some(0));
    /// assert_eq!(file.suppressing(&["index", "src/a.rs:1:9 <XXmut u8>"]), None);
    /// ```
    pub fn entry_text<S: AsRef<str>>(reason: &str, names: &[S]) -> String {
        let classes: Vec<String> = names
            .iter()
            .map(|n| toml_subset::quote(&Glob::escape(n.as_ref())))
            .collect();
        format!(
            "[[suppress]]\nreason = {}\nclasses = [{}]\n",
            toml_subset::quote(reason),
            classes.join(", ")
        )
    }

    /// What the entries did, for the end of a run: each entry that suppressed something and
    /// how many reports (`hits[i]` for entry `i`), then the unused entries. Each line starts
    /// with `prefix`; empty when the file has no entry.
    pub fn summary(&self, prefix: &str, file: &Path, hits: &[usize]) -> String {
        let mut out = String::new();
        let hit = |i: usize| hits.get(i).copied().unwrap_or(0);
        let total: usize = (0..self.entries.len()).map(hit).sum();
        if total > 0 {
            let _ = writeln!(
                out,
                "{prefix}{total} report(s) suppressed by {}:",
                file.display()
            );
            for (i, e) in self.entries.iter().enumerate().filter(|&(i, _)| hit(i) > 0) {
                let _ = writeln!(
                    out,
                    "{prefix}  line {}: {} report(s): {}",
                    e.line,
                    hit(i),
                    e.reason
                );
            }
        }
        let unused: Vec<&Suppression> = (0..self.entries.len())
            .filter(|&i| hit(i) == 0)
            .map(|i| &self.entries[i])
            .collect();
        if !unused.is_empty() {
            let _ = writeln!(
                out,
                "{prefix}{} unused suppression(s) in {} (no report matched them: remove them \
                 once they are stale):",
                unused.len(),
                file.display()
            );
            for e in unused {
                let patterns: Vec<String> = e
                    .classes
                    .iter()
                    .map(|g| toml_subset::quote(g.as_str()))
                    .collect();
                let _ = writeln!(
                    out,
                    "{prefix}  line {}: {} (classes {})",
                    e.line,
                    e.reason,
                    patterns.join(", ")
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Suppressions;

    const FILE: &str = "\
# Known reports.
[[suppress]]
reason = \"order inside a dependency, reported upstream\"
classes = [\"somecrate-1.*/src/*\", \"src/cache.rs:*\"]

[[suppress]]
reason = 'the ledger is only ever taken under the index'
classes = [
    \"index\",  # by name
    \"ledger\",
]
";

    #[test]
    fn every_pattern_must_match_a_class_of_the_report() {
        let file = Suppressions::parse(FILE).unwrap();
        assert_eq!(file.entries().len(), 2);
        assert_eq!(file.entries()[1].line(), 6);
        assert_eq!(file.suppressing(&["ledger", "index"]), Some(1));
        assert_eq!(file.suppressing(&["ledger", "index", "other"]), Some(1));
        assert_eq!(file.suppressing(&["ledger", "indexes"]), None);
        assert_eq!(file.suppressing(&["index"]), None);
        assert_eq!(
            file.suppressing(&[
                "src/cache.rs:4:10 Mutex<Cache>",
                "src/cache.rs:4:10",
                "somecrate-1.0.2/src/lib.rs:9:1"
            ]),
            Some(0)
        );
        // One class may answer for two patterns.
        let one = Suppressions::parse("[[suppress]]\nreason='x'\nclasses=['a*','*b']\n").unwrap();
        assert_eq!(one.suppressing(&["ab"]), Some(0));
        assert_eq!(one.suppressing::<&str>(&[]), None);
        assert!(Suppressions::parse("").unwrap().is_empty());
    }

    #[test]
    fn bad_files_say_which_line_and_what_is_wrong() {
        let error = |text: &str| Suppressions::parse(text).unwrap_err();
        let e = error("[suppress]\nreason = 'x'\nclasses = ['a']\n");
        assert_eq!(e.line, 1);
        assert!(e.message.contains("unknown table [suppress]"), "{e}");
        let e = error("reason = 'x'\n");
        assert!(e.message.contains("outside a [[suppress]] entry"), "{e}");
        let e = error("[[suppress]]\nclasses = ['a']\n");
        assert_eq!(
            (e.line, e.message.contains("no `reason`")),
            (1, true),
            "{e}"
        );
        let e = error("[[suppress]]\nreason = 'x'\n\n[[suppress]]\nreason = 'y'\n");
        assert_eq!(
            (e.line, e.message.contains("no `classes`")),
            (1, true),
            "{e}"
        );
        let e = error("[[suppress]]\nreason = 'x'\nclasses = []\n");
        assert_eq!((e.line, e.message.contains("is empty")), (3, true), "{e}");
        let e = error("[[suppress]]\nreason = 'x'\nclasses = 'a'\n");
        assert!(e.message.contains("must be an array"), "{e}");
        let e = error("[[suppress]]\nreason = ['x']\nclasses = ['a']\n");
        assert!(e.message.contains("`reason` must be a string"), "{e}");
        let e = error("[[suppress]]\nreason = 'x'\nclasses = [\n  'a',\n  'b\\',\n]\n");
        assert_eq!(e.line, 5);
        assert!(e.message.contains("escapes nothing"), "{e}");
        let e = error("[[suppress]]\nreason = \"x\n");
        assert_eq!((e.line, e.message.contains("not closed")), (2, true), "{e}");
    }

    #[test]
    fn a_baseline_entry_suppresses_exactly_its_report() {
        let names = [
            "src/a.rs:1:2 Mutex<Vec<*const u8>>",
            "we?rd \"name\" \\ here",
            "index",
        ];
        let mut text = FILE.to_owned();
        text.push('\n');
        text.push_str(&Suppressions::entry_text("baseline 2026-05-01", &names));
        let file = Suppressions::parse(&text).unwrap();
        assert_eq!(file.entries().len(), 3);
        assert_eq!(file.entries()[2].reason(), "baseline 2026-05-01");
        assert_eq!(file.suppressing(&names), Some(2));
        assert_eq!(
            file.suppressing(&["src/a.rs:1:2 Mutex<Vec<XXconst u8>>", names[1], names[2]]),
            None
        );
        assert_eq!(
            file.suppressing(&["weird \"name\" \\ here", names[0], names[2]]),
            None
        );
    }

    #[test]
    fn the_summary_counts_hits_and_lists_unused_entries() {
        let file = Suppressions::parse(FILE).unwrap();
        let text = file.summary("lockdep: ", Path::new("/w/lockdep.toml"), &[2, 0]);
        assert_eq!(
            text,
            "lockdep: 2 report(s) suppressed by /w/lockdep.toml:\n\
             lockdep:   line 2: 2 report(s): order inside a dependency, reported upstream\n\
             lockdep: 1 unused suppression(s) in /w/lockdep.toml (no report matched them: \
             remove them once they are stale):\n\
             lockdep:   line 6: the ledger is only ever taken under the index (classes \
             \"index\", \"ledger\")\n"
        );
        let none = file.summary("", Path::new("lockdep.toml"), &[]);
        assert!(none.starts_with("2 unused suppression(s)"), "{none}");
        assert_eq!(Suppressions::default().summary("", Path::new("x"), &[]), "");
    }

    #[test]
    fn a_file_is_found_up_to_the_workspace_root() {
        let root = std::env::temp_dir().join(format!("lockdep-suppress-{}", std::process::id()));
        let member = root.join("crates/member");
        std::fs::create_dir_all(&member).unwrap();
        std::fs::write(root.join("Cargo.lock"), "").unwrap();
        assert_eq!(Suppressions::locate(&member), None);
        std::fs::write(root.join("lockdep.toml"), "").unwrap();
        assert_eq!(
            Suppressions::locate(&member),
            Some(root.join("lockdep.toml"))
        );
        // Not above the workspace's root.
        let inner = root.join("crates");
        std::fs::write(inner.join("Cargo.lock"), "").unwrap();
        assert_eq!(Suppressions::locate(&member), None);
        std::fs::remove_dir_all(&root).unwrap();
        // The variable wins; empty, it means none.
        let named = Suppressions::file_for(Some("/x/supp.toml".into()), &member);
        assert_eq!(named.as_deref(), Some(Path::new("/x/supp.toml")));
        assert_eq!(Suppressions::file_for(Some("".into()), &member), None);
    }
}
