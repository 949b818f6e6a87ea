//! The standard library's own tests of `std::sync` (Rust 1.63.0's
//! `library/std/src/sync/*/tests.rs`: mutex, rwlock, condvar, once, once_lock, lazy_lock,
//! barrier), run through `lockdep::sync`, so that the std drop-in stays exact. Each module
//! names its origin; changes are marked `lockdep port:`.
//!
//! Not ported: what the tests reach of std's private or unstable API (named in each module).
//! Built without `enabled`, `lockdep::sync` is `std::sync`, and the suite is std's.
//!
//! With the checker, every lock is checked: a test that does on purpose what lockdep
//! reports takes the violation and asserts it.

// std's code as it is, written before these lints.
#![allow(
    clippy::needless_borrowed_reference,
    clippy::vec_init_then_push,
    clippy::assertions_on_constants
)]

#[path = "../fixtures/parking_lot_port.rs"]
mod port;

mod barrier;
mod condvar;
mod lazy_lock;
mod mutex;
mod once;
mod once_lock;
mod rwlock;

/// The suite again, in a child process of its own, one test at a time, failing if any
/// violation is left untaken at exit (this repository's `.cargo/config.toml` turns that off
/// for its test binaries, which plant violations on purpose): so std's own tests are free of
/// what lockdep reports, but for the ones they take and assert.
#[cfg(feature = "enabled")]
#[test]
fn the_suite_leaves_no_violation_untaken() {
    if std::env::var_os("STD_SYNC_SUITE_CHILD").is_some() {
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--test-threads=1"])
        .env("STD_SYNC_SUITE_CHILD", "1")
        .env("LOCKDEP_EXIT_CODE", "66")
        .env_remove("LOCKDEP_MODE")
        .env_remove("LOCKDEP_REPORT_DIR")
        .env_remove("LOCKDEP_EXIT_REPORT")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Rust 1.63.0's 65 tests but the two not ported, and this one.
    assert!(stdout.contains("test result: ok. 64 passed"), "{stdout}");
}
