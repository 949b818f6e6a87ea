//! Stage 1 of the pipeline: which files to merge, and their text.
//!
//! Files are found under the paths given (a directory's `lockdep-*.json` files, its
//! subdirectories too), sorted so that a merge is reproducible, and read a batch at a time, so
//! that the memory held is bounded whatever the number of files.

use std::path::{Path, PathBuf};

/// Files read at a time: enough to keep the parsing threads busy, few enough to bound the
/// memory held.
const BATCH: usize = 64;

/// A file's text, or why it could not be read.
pub(crate) struct Read {
    pub(crate) path: PathBuf,
    pub(crate) text: std::io::Result<String>,
}

/// The report files named by `args`: a file as given, a directory's `lockdep-*.json` files
/// (its subdirectories too, so that `target/lockdep` finds every run under it), sorted by
/// path.
///
/// # Errors
///
/// A message for an argument that does not exist or a directory that cannot be listed.
pub(crate) fn find(args: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for arg in args {
        let meta = std::fs::metadata(arg).map_err(|e| format!("{}: {e}", arg.display()))?;
        if meta.is_dir() {
            walk(arg, &mut found).map_err(|e| format!("{}: {e}", arg.display()))?;
        } else {
            found.push(arg.clone());
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, found)?;
        } else if is_report_name(&entry.file_name().to_string_lossy()) {
            found.push(path);
        }
    }
    Ok(())
}

/// `lockdep-*.json`: a whole report file (never the hidden `.lockdep-*.json.tmp` being
/// written).
fn is_report_name(name: &str) -> bool {
    name.starts_with("lockdep-") && name.ends_with(".json")
}

/// The files at `paths`, read a batch at a time, in order.
pub(crate) fn batches(paths: &[PathBuf]) -> impl Iterator<Item = Vec<Read>> + '_ {
    paths.chunks(BATCH).map(|batch| {
        batch
            .iter()
            .map(|path| Read {
                path: path.clone(),
                text: std::fs::read_to_string(path),
            })
            .collect()
    })
}
