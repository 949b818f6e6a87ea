//! clippy's `await_holding_lock` fires for a guard held across `.await` for std's and
//! lock_api's guards, by path. `lockdep`'s parking_lot-shaped guards are lock_api's, so it
//! fires for them; `lockdep::sync`'s guards are lockdep's own types, and `book/src/clippy.toml`
//! (`await-holding-invalid-types`) makes `await_holding_invalid_type` fire for them. This runs
//! `cargo clippy` on a small crate (`tests/fixtures/clippy_await.rs`) with and without that
//! file; without clippy installed it says so and checks nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository (the workspace): this package is `lockdep-suite/` in it.
fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// This package, whose `tests/fixtures` hold the fixture sources.
fn suite() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn clippy_available() -> bool {
    cargo()
        .args(["clippy", "--version"])
        .output()
        .is_ok_and(|out| out.status.success())
}

/// The fixture crate in `target/clippy-await/<name>` (its own workspace and target
/// directory, shared by both runs), with `book/src/clippy.toml` if `with_config`.
fn fixture(name: &str, with_config: bool) -> PathBuf {
    let dir = repo().join("target").join("clippy-await").join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        r#"[package]
name = "clippy-await-{name}"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
lockdep = {{ path = "{repo}" }}
"#,
        repo = repo().display()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(
        suite().join("tests/fixtures/clippy_await.rs"),
        dir.join("src/lib.rs"),
    )
    .unwrap();
    std::fs::copy(repo().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let config = dir.join("clippy.toml");
    if with_config {
        std::fs::copy(repo().join("book/src/clippy.toml"), &config).unwrap();
    } else if config.exists() {
        std::fs::remove_file(&config).unwrap();
    }
    dir
}

/// clippy's warnings on the fixture, one `lint function` pair each (the function whose body
/// the warning points into).
fn lint(name: &str, with_config: bool) -> Vec<(String, String)> {
    let dir = fixture(name, with_config);
    let target = repo().join("target").join("clippy-await").join("target");
    let out = cargo()
        .args(["clippy", "--offline", "--message-format=short"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CLIPPY_CONF_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let source = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    let lines: Vec<&str> = source.lines().collect();
    stderr
        .lines()
        .filter_map(|line| {
            // `src/lib.rs:LINE:COL: warning: message`
            let rest = line.strip_prefix("src/lib.rs:")?;
            let number: usize = rest.split(':').next()?.parse().ok()?;
            let function = lines[..number]
                .iter()
                .rev()
                .find_map(|l| l.strip_prefix("pub async fn "))?
                .split('(')
                .next()?
                .to_owned();
            let lint = if line.contains("disallowed type across an await point") {
                "await_holding_invalid_type"
            } else if line.contains("is held across an await point") {
                "await_holding_lock"
            } else {
                return None;
            };
            Some((lint.to_owned(), function))
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(l, f)| (l.to_string(), f.to_string()))
        .collect()
}

#[test]
fn a_guard_held_across_await_is_linted_with_docs_clippy_toml() {
    if !clippy_available() {
        eprintln!("cargo clippy is not installed: the lint is not checked");
        return;
    }
    let mut with = lint("with-config", true);
    with.sort();
    // The fixture's lockdep has its default features (the checker on), whatever this test
    // binary was built with.
    let expected = pairs(&[
        ("await_holding_invalid_type", "held_sync_mutex_guard"),
        ("await_holding_invalid_type", "held_sync_rwlock_read_guard"),
        ("await_holding_invalid_type", "held_sync_rwlock_write_guard"),
        ("await_holding_lock", "held_lockdep_mutex_guard"),
        ("await_holding_lock", "held_lockdep_rwlock_write_guard"),
    ]);
    assert_eq!(with, expected);
}

/// Why the file is needed: without it, `lockdep::sync`'s guards go unlinted.
#[test]
fn without_it_only_the_lock_api_guards_are_linted() {
    if !clippy_available() {
        eprintln!("cargo clippy is not installed: the lint is not checked");
        return;
    }
    let mut without = lint("without-config", false);
    without.sort();
    assert_eq!(
        without,
        pairs(&[
            ("await_holding_lock", "held_lockdep_mutex_guard"),
            ("await_holding_lock", "held_lockdep_rwlock_write_guard"),
        ])
    );
}
