//! The user's `Cargo.lock`: which packages it pins, and keeping it as it was.
//!
//! A test build with the `parking_lot` patches resolves another graph (the patches depend on
//! lockdep), and cargo writes every resolution into `Cargo.lock`; cargo has no stable way to
//! resolve into another file. So the lock file is saved before cargo first runs and put back,
//! byte for byte (or removed, if there was none), when the run ends: by [`Saved`]'s drop on
//! every way out of the run (an error, a panic), and, should cargo-lockdep itself be killed
//! (Ctrl-C reaches every process of the terminal's foreground group), by a guardian: a
//! child process of cargo-lockdep in a process group of its own, which Ctrl-C does not reach,
//! waiting for its parent to go. It restores the file unless told the run restored it.
//!
//! Runs of one target directory take turns (a file lock, `<target>/lockdep/saved.lock`):
//! two at once would each save the lock file the other had patched, and the last to end would
//! put back the other's.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The hidden command that runs the guardian: `cargo-lockdep __guard-lock LOCK SAVED`.
pub(crate) const GUARD_COMMAND: &str = "__guard-lock";

/// What the run tells the guardian when it has put the file back itself.
const RESTORED: &[u8] = b"restored\n";

/// A package of a lock file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Locked {
    pub(crate) name: String,
    pub(crate) version: String,
    /// `registry+…`, `git+…`; `None` for a path package.
    pub(crate) source: Option<String>,
}

impl Locked {
    /// Whether it comes from crates.io (what `[patch.crates-io]` replaces).
    pub(crate) fn is_from_crates_io(&self) -> bool {
        self.source.as_deref().is_some_and(|s| {
            s == "registry+https://github.com/rust-lang/crates.io-index"
                || s == "sparse+https://index.crates.io/"
        })
    }
}

/// The packages a `Cargo.lock` pins (its `[[package]]` tables' `name`, `version`, `source`).
pub(crate) fn packages(text: &str) -> Vec<Locked> {
    let mut found = Vec::new();
    let mut current: Option<Locked> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            found.extend(current.take());
            if line == "[[package]]" {
                current = Some(Locked {
                    name: String::new(),
                    version: String::new(),
                    source: None,
                });
            }
            continue;
        }
        let (Some(package), Some((key, value))) = (current.as_mut(), line.split_once('=')) else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_owned();
        match key.trim() {
            "name" => package.name = value,
            "version" => package.version = value,
            "source" => package.source = Some(value),
            _ => {}
        }
    }
    found.extend(current);
    found
}

/// A lock file as it was before the run, put back when this is dropped.
pub(crate) struct Saved {
    path: PathBuf,
    /// Its bytes, `None` when there was no lock file.
    original: Option<Vec<u8>>,
    /// The copy the guardian restores from.
    backup: PathBuf,
    guardian: Option<Child>,
    /// This run's turn: held (locked) until the file is put back.
    _turn: Option<std::fs::File>,
}

impl Saved {
    /// Saves the lock file at `path` (there may be none) into `dir`, and starts the guardian
    /// (`guardian`: this executable is cargo-lockdep, which runs it).
    ///
    /// # Errors
    ///
    /// When the file cannot be read or the copy written; a guardian that cannot be started
    /// is a warning (the file is still restored on every way out but a kill).
    pub(crate) fn new(path: &Path, dir: &Path, guardian: bool) -> Result<Saved, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let turn = wait_for_turn(&dir.with_extension("lock"));
        let original = match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let backup = dir.join(format!("Cargo.lock.{}.saved", std::process::id()));
        let contents = match &original {
            Some(bytes) => [b"lock\n".as_slice(), bytes].concat(),
            None => b"none\n".to_vec(),
        };
        std::fs::write(&backup, contents).map_err(|e| format!("{}: {e}", backup.display()))?;
        let guardian = guardian
            .then(|| start_guardian(path, &backup))
            .transpose()
            .map_err(|e| {
                eprintln!(
                    "cargo-lockdep: warning: cannot start the process that restores {} should \
                     this run be killed: {e}",
                    path.display()
                );
            })
            .ok()
            .flatten();
        Ok(Saved {
            path: path.to_owned(),
            original,
            backup,
            guardian,
            _turn: turn,
        })
    }

    /// Puts the lock file back as it was.
    ///
    /// # Errors
    ///
    /// When it cannot be written (or removed), naming it.
    pub(crate) fn restore(&mut self) -> Result<(), String> {
        restore(&self.path, self.original.as_deref())?;
        if let Some(mut guardian) = self.guardian.take() {
            if let Some(mut stdin) = guardian.stdin.take() {
                let _ = stdin.write_all(RESTORED);
            }
            let _ = guardian.wait();
        }
        let _ = std::fs::remove_file(&self.backup);
        Ok(())
    }
}

impl Drop for Saved {
    fn drop(&mut self) {
        if let Err(e) = self.restore() {
            eprintln!("cargo-lockdep: {e}");
        }
    }
}

/// Waits until no other run holds the file lock at `path`, and holds it (until the file is
/// dropped). Where files cannot be locked, a warning, and no turns.
fn wait_for_turn(path: &Path) -> Option<std::fs::File> {
    let warn = |e: &dyn std::fmt::Display| {
        eprintln!(
            "cargo-lockdep: warning: cannot lock {} ({e}): a run at the same time in this \
             target directory may leave Cargo.lock patched",
            path.display()
        );
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| warn(&e))
        .ok()?;
    match file.try_lock() {
        Ok(()) => return Some(file),
        Err(std::fs::TryLockError::WouldBlock) => eprintln!(
            "cargo-lockdep: waiting for another cargo lockdep run of this target directory to \
             end ({})",
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            warn(&e);
            return None;
        }
    }
    file.lock().map_err(|e| warn(&e)).ok()?;
    Some(file)
}

/// Writes `original` at `path` unless it is there already; removes the file when there was
/// none.
fn restore(path: &Path, original: Option<&[u8]>) -> Result<(), String> {
    match original {
        Some(bytes) => {
            if std::fs::read(path).ok().as_deref() != Some(bytes) {
                std::fs::write(path, bytes)
                    .map_err(|e| format!("cannot restore {}: {e}", path.display()))?;
            }
        }
        None => match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(format!(
                    "cannot remove {} (there was none): {e}",
                    path.display()
                ))
            }
        },
    }
    Ok(())
}

fn start_guardian(lock: &Path, backup: &Path) -> std::io::Result<Child> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .arg(GUARD_COMMAND)
        .arg(lock)
        .arg(backup)
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    // Out of the terminal's foreground process group: Ctrl-C interrupts the run, not this.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command.spawn()
}

/// The guardian: waits for its parent to close its stdin; unless the parent said it restored
/// the lock file, restores it from the backup, and removes the backup.
///
/// # Errors
///
/// A backup that cannot be read, or a lock file that cannot be restored.
pub(crate) fn guard(lock: &Path, backup: &Path) -> Result<(), String> {
    let mut said = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut said);
    if said == RESTORED {
        return Ok(());
    }
    let saved = std::fs::read(backup).map_err(|e| format!("{}: {e}", backup.display()))?;
    let original = match saved.strip_prefix(b"lock\n") {
        Some(bytes) => Some(bytes),
        None if saved == b"none\n" => None,
        None => return Err(format!("{}: not a saved lock file", backup.display())),
    };
    // The cargo that the interrupted run started may still be finishing a resolution.
    for _ in 0..2 {
        restore(lock, original)?;
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    restore(lock, original)?;
    let _ = std::fs::remove_file(backup);
    eprintln!(
        "cargo-lockdep: the run was interrupted; {} is restored",
        lock.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::lockfile::{packages, Locked, Saved};

    #[test]
    fn a_lock_file_s_packages_are_read() {
        let text = r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "lock_api"
version = "0.4.12"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "07af8b9cdd281b7915f413fa73f29ebd5d55d0d3f0155584dade1ff18cea1b17"
dependencies = [
 "scopeguard",
]

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "parking_lot",
]

[[package]]
name = "parking_lot"
version = "0.12.3"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        let found = packages(text);
        assert_eq!(found.len(), 3);
        assert_eq!(
            found[2],
            Locked {
                name: "parking_lot".into(),
                version: "0.12.3".into(),
                source: Some("registry+https://github.com/rust-lang/crates.io-index".into()),
            }
        );
        assert!(found[2].is_from_crates_io());
        assert_eq!(found[1].source, None);
        assert!(!found[1].is_from_crates_io());
    }

    #[test]
    fn a_saved_lock_file_is_put_back_byte_for_byte_or_removed() {
        let dir = std::env::temp_dir().join(format!("cargo-lockdep-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lock = dir.join("Cargo.lock");
        std::fs::write(&lock, b"version = 4\r\n\n").unwrap();
        {
            let _saved = Saved::new(&lock, &dir.join("saved"), false).unwrap();
            std::fs::write(&lock, b"changed").unwrap();
        }
        assert_eq!(std::fs::read(&lock).unwrap(), b"version = 4\r\n\n");
        std::fs::remove_file(&lock).unwrap();
        {
            let mut saved = Saved::new(&lock, &dir.join("saved"), false).unwrap();
            std::fs::write(&lock, b"made by the run").unwrap();
            saved.restore().unwrap();
            assert!(!lock.exists());
        }
        assert!(!lock.exists());
        // No backup is left behind.
        assert_eq!(std::fs::read_dir(dir.join("saved")).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Two runs at once: the second saves the lock file only once the first put it back, so
    /// the file ends as it was (not as the first run had patched it).
    #[test]
    fn runs_of_one_target_directory_take_turns() {
        let dir = std::env::temp_dir().join(format!("cargo-lockdep-turns-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lock = dir.join("Cargo.lock");
        std::fs::write(&lock, b"original").unwrap();
        let first = Saved::new(&lock, &dir.join("saved"), false).unwrap();
        std::fs::write(&lock, b"patched by the first run").unwrap();
        let second = std::thread::spawn({
            let (lock, saved) = (lock.clone(), dir.join("saved"));
            move || {
                let _second = Saved::new(&lock, &saved, false).unwrap();
                std::fs::write(&lock, b"patched by the second run").unwrap();
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(!second.is_finished(), "the second run waits for the first");
        drop(first);
        second.join().unwrap();
        assert_eq!(std::fs::read(&lock).unwrap(), b"original");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
