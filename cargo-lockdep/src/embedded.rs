//! The sources of lockdep's crates and of its `parking_lot` patches, embedded in the binary
//! when it was built (`build.rs`), and their copy on disk: `cargo lockdep test` builds the
//! patches from it, so that installing cargo-lockdep is all a user does.
//!
//! The copy is `<target>/lockdep/src/<hash>/`, the hash being the embedded files': written
//! once (into a temporary directory renamed into place, so that runs at the same time never
//! see half a copy) and never touched again, so that cargo's fingerprints of its files stay
//! valid from run to run and only a new cargo-lockdep makes a new copy. The copies an older
//! cargo-lockdep made there are removed (runs of one target directory take turns, see
//! [`lockfile`](crate::lockfile): none is in use).

use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The directories of the patch packages in the copy, by the `parking_lot` minor version
/// they stand for (`0.12`, `0.13`).
pub(crate) const PATCHES: &[(&str, &str)] = &[
    ("0.12", "patches/parking_lot-0.12"),
    ("0.13", "patches/parking_lot-0.13"),
];

/// An embedded file's contents.
pub(crate) fn file(path: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(p, _)| *p == path).map(|&(_, c)| c)
}

/// The copy of the embedded sources under `dir` (`<target>/lockdep/src`), written if it is
/// not there yet; its root is the `lockdep` package's.
///
/// # Errors
///
/// When a directory or file cannot be written, naming it.
pub(crate) fn copy_under(dir: &Path) -> Result<PathBuf, String> {
    let root = dir.join(HASH);
    write_once(
        &root,
        FILES
            .iter()
            .map(|&(path, contents)| (path.to_owned(), contents.to_vec())),
    )
    .map_err(|e| format!("cannot write lockdep's sources: {e}"))?;
    remove_older_copies(dir);
    Ok(root)
}

/// Removes the copies under `dir` that other builds of cargo-lockdep made (directories named
/// by another hash); what cannot be removed stays.
fn remove_older_copies(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let a_copy = name.len() == HASH.len() && name.bytes().all(|b| b.is_ascii_hexdigit());
        if a_copy && name != HASH && entry.path().join(".complete").is_file() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Writes `files` (paths relative to `root`) as the directory `root`, unless it is there:
/// into a temporary directory beside it, renamed into place, so that runs at the same time
/// never see half of it; once written it is never touched again.
///
/// # Errors
///
/// When a directory or file cannot be written, naming it.
pub(crate) fn write_once(
    root: &Path,
    files: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> Result<(), String> {
    if root.join(".complete").is_file() {
        return Ok(());
    }
    let name = root
        .file_name()
        .expect("a directory of its own")
        .to_string_lossy();
    let tmp = root.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| {
        let _ = std::fs::remove_dir_all(&tmp);
        for (path, contents) in files {
            let file = tmp.join(path);
            let parent = file.parent().expect("a file has a directory");
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            std::fs::write(&file, contents).map_err(|e| format!("{}: {e}", file.display()))?;
        }
        let marker = tmp.join(".complete");
        std::fs::write(&marker, "").map_err(|e| format!("{}: {e}", marker.display()))
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    match std::fs::rename(&tmp, root) {
        Ok(()) => Ok(()),
        // Another run put the same files there first.
        Err(_) if root.join(".complete").is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(format!("{}: {e}", root.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::embedded::{copy_under, file, FILES, PATCHES};

    #[test]
    fn the_crates_and_the_patches_are_embedded_with_build_manifests() {
        for manifest in [
            "Cargo.toml",
            "lockdep-core/Cargo.toml",
            "lockdep-raw/Cargo.toml",
            "lockdep-mempool/Cargo.toml",
            "lockdep-report/Cargo.toml",
        ] {
            let text = std::str::from_utf8(file(manifest).unwrap()).unwrap();
            assert!(!text.contains("[dev-dependencies]"), "{manifest}:\n{text}");
            assert!(!text.contains("[[bench]]"), "{manifest}:\n{text}");
            assert!(!text.contains("[profile"), "{manifest}:\n{text}");
            assert!(!text.contains("loom = "), "{manifest}:\n{text}");
        }
        let root = std::str::from_utf8(file("Cargo.toml").unwrap()).unwrap();
        assert!(root.contains("members = [\"lockdep-raw\", \"lockdep-report\", \"lockdep-core\", \"lockdep-mempool\"]"));
        assert!(!root.contains("cargo-lockdep"), "{root}");
        assert!(root.contains("[workspace.package]") && root.contains("[workspace.dependencies]"));
        for (_, dir) in PATCHES {
            assert!(file(&format!("{dir}/Cargo.toml")).is_some());
            assert!(file(&format!("{dir}/src/lib.rs")).is_some());
        }
        assert!(file("lockdep-core/src/checker/entry.rs").is_some());
        assert!(FILES
            .iter()
            .all(|(p, _)| !p.contains('\\') && !p.starts_with('/')));
    }

    #[test]
    fn the_copy_is_written_once() {
        let dir =
            std::env::temp_dir().join(format!("cargo-lockdep-embedded-{}", std::process::id()));
        // An older cargo-lockdep's copy, and a directory that is none.
        let older = dir.join("0123456789abcdef");
        std::fs::create_dir_all(&older).unwrap();
        std::fs::write(older.join(".complete"), "").unwrap();
        std::fs::create_dir_all(dir.join("mine")).unwrap();
        let root = copy_under(&dir).unwrap();
        assert!(!older.exists(), "an older copy is removed");
        std::fs::remove_dir(dir.join("mine")).unwrap();
        let lib = root.join("lockdep-core/src/lib.rs");
        assert_eq!(
            std::fs::read(&lib).unwrap(),
            file("lockdep-core/src/lib.rs").unwrap()
        );
        let written = std::fs::metadata(&lib).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(copy_under(&dir).unwrap(), root);
        assert_eq!(
            std::fs::metadata(&lib).unwrap().modified().unwrap(),
            written
        );
        // Nothing left beside it.
        let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(entries.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
