//! Helpers shared by the end-to-end tests. Every test binary shares one graph among its
//! tests, so each test makes classes of its own and looks only at violations about them.
#![allow(dead_code)] // each test binary uses some of these

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub mod json;

use lockdep::{
    LockClass, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, Violation,
    ViolationKind,
};

/// A class of its own for one test (the name must be unique in the test binary).
pub fn class(name: &str) -> &'static LockClass {
    LockClass::leak(name.to_owned())
}

/// `prefix` made unique in this process (`prefix#N`): for tests that make classes in a loop,
/// or cases of a generated test, which must not share classes with one another.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}#{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A class with a [`unique_name`], and that name.
pub fn unique_class(prefix: &str) -> (&'static LockClass, String) {
    let name = unique_name(prefix);
    (LockClass::leak(name.clone()), name)
}

/// A `Mutex` or an `RwLock`, for tests that mix them.
pub enum AnyLock {
    M(Mutex<()>),
    R(RwLock<()>),
}

/// A guard of an [`AnyLock`]: held until dropped.
pub enum AnyGuard<'a> {
    M(#[allow(dead_code)] MutexGuard<'a, ()>),
    R(#[allow(dead_code)] RwLockReadGuard<'a, ()>),
    W(#[allow(dead_code)] RwLockWriteGuard<'a, ()>),
}

impl AnyLock {
    /// A `Mutex` (`mutex`) or an `RwLock` of `class`.
    pub fn with_class(mutex: bool, class: &'static LockClass) -> AnyLock {
        if mutex {
            AnyLock::M(Mutex::with_class((), class))
        } else {
            AnyLock::R(RwLock::with_class((), class))
        }
    }
}

/// Kinds of the recorded violations that involve `name`, in recording order.
pub fn kinds(name: &str) -> Vec<ViolationKind> {
    lockdep::violations()
        .iter()
        .filter(|v| v.involves(name))
        .map(|v| v.kind())
        .collect()
}

/// The first recorded violation that involves `name`.
pub fn find(name: &str) -> Violation {
    lockdep::violations()
        .into_iter()
        .find(|v| v.involves(name))
        .unwrap_or_else(|| panic!("no violation involving {name}"))
}

/// xorshift64*: a deterministic generator for stress tests, no dependency.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, zero included).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The test `test` of this test binary, to run as a child process on one test thread with its
/// output captured and the checker's environment (`LOCKDEP_MODE`, `LOCKDEP_REPORT_DIR`, and
/// `LOCKDEP_EXIT_REPORT`, which `.cargo/config.toml` sets for the suite itself) unset:
/// the caller sets what the case needs (the variable that makes the child test act, above all).
/// Children plant violations on purpose, so they keep their own exit status
/// (`LOCKDEP_EXIT_CODE=0`); a case about that status sets or removes it.
pub fn child(test: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env_remove("LOCKDEP_MODE")
        .env_remove("LOCKDEP_REPORT_DIR")
        .env_remove("LOCKDEP_EXIT_REPORT")
        .env("LOCKDEP_EXIT_CODE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}
