//! Between the merge and the reports: the workspace's suppression file (`lockdep.toml`, or
//! `LOCKDEP_SUPPRESSIONS`), applied to every violation of the merge, by the rules the
//! checker applies in each process ([`Suppressions`]). A suppressed violation is no report:
//! it is not printed, does not fail the run and is not in the outputs' reports (the JSON
//! document lists it under `suppressed`); each entry's hits are printed, and the entries that
//! suppressed nothing. `cargo lockdep baseline` writes an entry per report left.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use lockdep_report::{with_data_type, Suppressions, ViolationKind};

use crate::merge::{Merged, Suppressed};

/// A suppression file, as applied to a merge.
pub(crate) struct Applied {
    pub(crate) path: PathBuf,
    pub(crate) entries: Suppressions,
    /// Violations suppressed by each entry.
    pub(crate) hits: Vec<usize>,
}

impl Applied {
    /// What each entry suppressed, and the entries that suppressed nothing: lines starting
    /// with `cargo-lockdep: `.
    pub(crate) fn summary(&self) -> String {
        self.entries
            .summary("cargo-lockdep: ", &self.path, &self.hits)
    }
}

/// The suppression file at `path`, read.
///
/// # Errors
///
/// `PATH:LINE: what is wrong`, or why it cannot be read.
pub(crate) fn read(path: &Path) -> Result<(PathBuf, Suppressions), String> {
    Ok((path.to_owned(), Suppressions::read(path)?))
}

/// Every violation of `merged` as reports name its classes (each with the names it answers
/// to: printed, and without the data type), in report order: the merge's cycles, then those
/// only processes recorded.
fn violations(merged: &Merged) -> Vec<(ViolationKind, Vec<String>, Vec<String>)> {
    let cycles = merged.cycles.iter().map(|c| {
        let (mut shown, mut names) = (Vec::new(), Vec::new());
        for id in c.classes(merged) {
            let class = &merged.classes[id as usize];
            shown.push(class.name.clone());
            names.push(class.name.clone());
            names.push(class.written.clone());
        }
        (c.kind, shown, names)
    });
    let recorded = merged.recorded.iter().map(|r| {
        let (mut shown, mut names) = (Vec::new(), Vec::new());
        for class in &r.violation.classes {
            let printed = match class.data_type.as_deref().filter(|t| !t.is_empty()) {
                Some(t) => with_data_type(&class.name, t),
                None => class.name.clone(),
            };
            shown.push(printed.clone());
            names.push(printed);
            names.push(class.name.clone());
        }
        (r.violation.kind, shown, names)
    });
    cycles.chain(recorded).collect()
}

/// Removes from `merged` the violations `entries` suppress, into [`Merged::suppressed`];
/// returns the hits of each entry.
pub(crate) fn apply(merged: &mut Merged, path: PathBuf, entries: Suppressions) -> Applied {
    let mut hits = vec![0; entries.entries().len()];
    let verdicts: Vec<Option<usize>> = violations(merged)
        .into_iter()
        .map(|(kind, shown, names)| {
            let entry = entries.suppressing(&names)?;
            hits[entry] += 1;
            let e = &entries.entries()[entry];
            merged.suppressed.push(Suppressed {
                kind,
                classes: dedup(shown),
                line: e.line(),
                reason: e.reason().to_owned(),
            });
            Some(entry)
        })
        .collect();
    let cycles = merged.cycles.len();
    let mut keep = verdicts.iter().map(Option::is_none);
    let cycle_keep: Vec<bool> = keep.by_ref().take(cycles).collect();
    let recorded_keep: Vec<bool> = keep.collect();
    let mut i = 0;
    merged.cycles.retain(|_| {
        i += 1;
        cycle_keep[i - 1]
    });
    let mut i = 0;
    merged.recorded.retain(|_| {
        i += 1;
        recorded_keep[i - 1]
    });
    Applied {
        path,
        entries,
        hits,
    }
}

/// `names` without repeats, in order.
fn dedup(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The classes of each violation left in `merged`, as reports name them (for a baseline):
/// a violation without a class (a bookkeeping fault) cannot be suppressed and is left out.
pub(crate) fn reports(merged: &Merged) -> Vec<Vec<String>> {
    violations(merged)
        .into_iter()
        .map(|(_, shown, _)| dedup(shown))
        .filter(|classes| !classes.is_empty())
        .collect()
}

/// Appends one entry per report (its classes) to the suppression file at `path` (made if
/// there is none), each with the reason `reason`.
///
/// # Errors
///
/// When the file cannot be read or written, naming it.
pub(crate) fn append(path: &Path, reports: &[Vec<String>], reason: &str) -> Result<(), String> {
    let before = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut text = String::new();
    if !before.is_empty() && !before.ends_with('\n') {
        text.push('\n');
    }
    for classes in reports {
        if !before.is_empty() || !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&Suppressions::entry_text(reason, classes));
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use crate::suppress::append;
    use lockdep_report::Suppressions;

    #[test]
    fn a_baseline_appends_entries_that_suppress_its_reports() {
        let dir =
            std::env::temp_dir().join(format!("cargo-lockdep-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lockdep.toml");
        let reports = vec![
            vec!["index".to_owned(), "log".to_owned()],
            vec!["src/a.rs:1:9 <*const u8>".to_owned()],
        ];
        append(&path, &reports, "baseline 2026-05-01").unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(
            first.starts_with("[[suppress]]\nreason = \"baseline 2026-05-01\"\n"),
            "{first}"
        );
        // A file that does not end its last line keeps it.
        std::fs::write(&path, format!("{first}# mine")).unwrap();
        append(&path, &reports[..1], "baseline 2026-05-02").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("# mine\n\n[[suppress]]\nreason = \"baseline 2026-05-02\""),
            "{text}"
        );
        let file = Suppressions::parse(&text).unwrap();
        assert_eq!(file.entries().len(), 3);
        assert_eq!(file.suppressing(&["log", "index"]), Some(0));
        assert_eq!(file.suppressing(&["src/a.rs:1:9 <*const u8>"]), Some(1));
        assert_eq!(file.suppressing(&["src/a.rs:1:9 <XXconst u8>"]), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
