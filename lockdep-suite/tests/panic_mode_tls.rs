//! Panic mode when a cycle closes inside a thread-local destructor: a panic there aborts the
//! process ("thread local panicked on drop"), losing the exit report and the test harness's
//! verdict, so the violation is printed and recorded instead, as while unwinding. The child
//! (`child_tls_abba`, which does nothing unless `TEST_LOCKDEP_TEST_CHILD` is set) closes an ABBA
//! in a thread-local's destructor under `LOCKDEP_MODE=panic`.
#![cfg(feature = "enabled")]

use lockdep::{LockClass, Mutex};

mod common;

const CHILD: &str = "TEST_LOCKDEP_TEST_CHILD";

static A: LockClass = LockClass::new("tls-A");
static B: LockClass = LockClass::new("tls-B");
static LOCK_A: Mutex<()> = Mutex::with_class((), &A);
static LOCK_B: Mutex<()> = Mutex::with_class((), &B);

/// Takes B then A when dropped: the second half of an ABBA.
struct TakesBThenA;

impl Drop for TakesBThenA {
    fn drop(&mut self) {
        let _b = LOCK_B.lock();
        let _a = LOCK_A.lock();
    }
}

thread_local! {
    static AT_EXIT: TakesBThenA = const { TakesBThenA };
}

#[test]
fn child_tls_abba() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    drop((LOCK_A.lock(), LOCK_B.lock()));
    std::thread::spawn(|| AT_EXIT.with(|_| ())).join().unwrap();
    // The process goes on: the violation was recorded, not a panic that aborts.
    let recorded = lockdep::violations();
    assert!(
        recorded
            .iter()
            .any(|v| v.involves("tls-A") && v.involves("tls-B")),
        "{recorded:?}"
    );
    println!("child survived");
}

#[test]
fn a_cycle_closed_in_a_thread_local_destructor_does_not_abort() {
    let out = common::child("child_tls_abba")
        .env(CHILD, "1")
        .env("LOCKDEP_MODE", "panic")
        .output()
        .expect("run the child");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stdout.contains("child survived"),
        "status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains("possible circular locking dependency detected"),
        "{stderr}"
    );
    assert!(!stderr.contains("fatal runtime error"), "{stderr}");
}
