//! The modes, in process: `Collect` records silently, `Panic` panics at the acquisition that
//! closes the cycle (before blocking, so even a real self-deadlock becomes a panic), `Off`
//! checks nothing. `set_mode` is process-global, so every test here takes `SERIAL` first and
//! this file is a test binary of its own.
#![cfg(feature = "enabled")]

use lockdep::{Mode, Mutex, RwLock, ViolationKind};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

mod common;
use common::{class, kinds};

/// Serializes the tests of this file (a plain std mutex: not checked).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` alone in this binary with the checker in `mode`, and back to `Collect` after.
fn in_mode<R>(mode: Mode, f: impl FnOnce() -> R) -> R {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    lockdep::set_mode(mode);
    assert_eq!(lockdep::mode(), mode);
    let result = catch_unwind(AssertUnwindSafe(f));
    lockdep::set_mode(Mode::Collect);
    result.unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// The message of a caught panic.
fn message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Runs `f` on its own thread and fails (instead of hanging) if it does not finish soon.
fn within_seconds<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("did not finish: a real deadlock?")
}

#[test]
fn collect_records_and_goes_on() {
    in_mode(Mode::Collect, || {
        let (a, b) = (
            Mutex::with_class(1, class("modes-collect-A")),
            Mutex::with_class(2, class("modes-collect-B")),
        );
        drop((a.lock(), b.lock()));
        let sum = {
            let b = b.lock();
            let a = a.lock(); // closes the cycle: recorded, and the lock is taken
            *a + *b
        };
        assert_eq!(sum, 3);
        assert_eq!(
            kinds("modes-collect-A"),
            vec![ViolationKind::CircularDependency]
        );
    });
}

#[test]
fn panic_mode_panics_at_the_acquisition_that_closes_the_cycle() {
    in_mode(Mode::Panic, || {
        let (a, b) = (
            Mutex::with_class((), class("modes-panic-A")),
            Mutex::with_class((), class("modes-panic-B")),
        );
        drop((a.lock(), b.lock())); // A → B: fine, no panic
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let _b = b.lock();
            let _a = a.lock(); // B → A
            unreachable!("the acquisition of A panics");
        }));
        let e = caught.expect_err("panic mode panics");
        let msg = message(&*e);
        assert!(
            msg.starts_with("lockdep: possible circular locking dependency detected"),
            "{msg}"
        );
        assert!(
            msg.contains("WARNING: possible circular locking dependency detected"),
            "{msg}"
        );
        // A was never taken, B was released by unwinding, and the held stack agrees.
        assert!(!a.is_locked() && !b.is_locked());
        a.assert_not_held();
        b.assert_not_held();
        // It is recorded too, once.
        assert_eq!(
            kinds("modes-panic-A"),
            vec![ViolationKind::CircularDependency]
        );
        // The same problem again is not reported again: no second panic.
        {
            let _b = b.lock();
            let _a = a.lock();
        }
        assert_eq!(kinds("modes-panic-A").len(), 1);
    });
}

#[test]
fn panic_mode_turns_a_real_self_deadlock_into_a_panic() {
    in_mode(Mode::Panic, || {
        within_seconds(|| {
            let m = Mutex::with_class(0, class("modes-self-deadlock"));
            let caught = catch_unwind(AssertUnwindSafe(|| {
                let _first = m.lock();
                let _second = m.lock(); // would block forever: panics before blocking
            }));
            let msg = message(&*caught.expect_err("AA panics"));
            assert!(
                msg.contains("this thread already holds this very lock"),
                "{msg}"
            );
            assert!(!m.is_locked());
            // The lock still works.
            *m.lock() += 1;
            assert_eq!(*m.lock(), 1);
        });
        assert_eq!(
            kinds("modes-self-deadlock"),
            vec![ViolationKind::SameLockTwice]
        );
    });
}

#[test]
fn panic_mode_turns_the_same_lock_through_another_subclass_into_a_panic() {
    in_mode(Mode::Panic, || {
        within_seconds(|| {
            let m = Mutex::with_class(0, class("modes-self-subclass"));
            let caught = catch_unwind(AssertUnwindSafe(|| {
                let _first = m.lock();
                // Another class (subclass 1), the same lock: would block forever.
                let _second = m.lock_nested(1);
            }));
            let msg = message(&*caught.expect_err("the nested relock panics"));
            assert!(
                msg.contains("this thread already holds this very lock"),
                "{msg}"
            );
            assert!(!m.is_locked());
            // Two locks of the class in parent/child order stay fine.
            let child = Mutex::with_class(0, class("modes-self-subclass"));
            let _p = m.lock();
            let _c = child.lock_nested(1);
        });
        assert_eq!(
            kinds("modes-self-subclass"),
            vec![ViolationKind::SameLockTwice]
        );
    });
}

#[test]
fn panic_mode_with_rwlock_reads() {
    in_mode(Mode::Panic, || {
        within_seconds(|| {
            let l = RwLock::with_class(0, class("modes-rw"));
            // Recursive reads nest: no panic.
            {
                let _r1 = l.read_recursive();
                let _r2 = l.read_recursive();
            }
            // A non-recursive read twice can deadlock behind a queued writer: panics.
            let caught = catch_unwind(AssertUnwindSafe(|| {
                let _r1 = l.read();
                let _r2 = l.read();
            }));
            assert!(caught.is_err());
            // Write under a read of the same lock would deadlock for real: panics first.
            let l2 = RwLock::with_class(0, class("modes-rw-upgrade"));
            let caught = catch_unwind(AssertUnwindSafe(|| {
                let _r = l2.read_recursive();
                let _w = l2.write();
            }));
            assert!(caught.is_err());
            *l2.write() += 1;
        });
        // The same lock both times: reported as such, not as two locks of one class.
        assert_eq!(kinds("modes-rw"), vec![ViolationKind::SameLockTwice]);
        assert_eq!(
            kinds("modes-rw-upgrade"),
            vec![ViolationKind::SameLockTwice]
        );
    });
}

#[test]
fn panic_mode_on_another_thread_fails_that_thread_only() {
    in_mode(Mode::Panic, || {
        let a = std::sync::Arc::new(Mutex::with_class((), class("modes-thread-A")));
        let b = std::sync::Arc::new(Mutex::with_class((), class("modes-thread-B")));
        drop((a.lock(), b.lock()));
        let (a2, b2) = (a.clone(), b.clone());
        let joined = std::thread::spawn(move || {
            let _b = b2.lock();
            let _a = a2.lock();
        })
        .join();
        assert!(joined.is_err(), "the thread that closed the cycle panicked");
        // Its guards were released by unwinding: this thread takes both in the good order.
        drop((a.lock(), b.lock()));
        assert_eq!(
            kinds("modes-thread-B"),
            vec![ViolationKind::CircularDependency]
        );
    });
}

#[test]
fn try_lock_never_panics() {
    in_mode(Mode::Panic, || {
        let (a, b) = (
            Mutex::with_class((), class("modes-try-A")),
            Mutex::with_class((), class("modes-try-B")),
        );
        drop((a.lock(), b.lock()));
        let _b = b.lock();
        let _a = a.try_lock().expect("free"); // B → A by a try-lock: not validated
        assert!(kinds("modes-try-A").is_empty());
    });
}

#[test]
fn off_checks_nothing_and_forgets_what_it_did_not_see() {
    let (a, b) = (
        Mutex::with_class((), class("modes-off-A")),
        Mutex::with_class((), class("modes-off-B")),
    );
    in_mode(Mode::Off, || {
        drop((a.lock(), b.lock()));
        {
            let _b = b.lock();
            let _a = a.lock();
        }
        // Annotations are no-ops.
        a.assert_held();
        let _a = a.lock();
        a.assert_not_held();
    });
    assert!(kinds("modes-off-A").is_empty());
    in_mode(Mode::Collect, || {
        // Nothing was recorded while off: B → A alone is no cycle.
        {
            let _b = b.lock();
            let _a = a.lock();
        }
        assert!(kinds("modes-off-A").is_empty());
        // A lock taken while off is not tracked even after the checker comes back on.
        let c = Mutex::with_class((), class("modes-off-C"));
        lockdep::set_mode(Mode::Off);
        let gc = c.lock();
        lockdep::set_mode(Mode::Collect);
        c.assert_not_held(); // untracked
        {
            let _a = a.lock(); // no C → A recorded
        }
        drop(gc); // releasing an untracked guard is fine
        {
            let _a = a.lock();
            let _c = c.lock(); // A → C
        }
        assert!(kinds("modes-off-C").is_empty());
    });
}

#[test]
fn mode_switched_off_while_held_releases_cleanly() {
    in_mode(Mode::Collect, || {
        let (a, b) = (
            Mutex::with_class((), class("modes-switch-A")),
            Mutex::with_class((), class("modes-switch-B")),
        );
        let ga = a.lock(); // tracked
        lockdep::set_mode(Mode::Off);
        drop(ga); // leaves the held stack although the checker is off
        lockdep::set_mode(Mode::Collect);
        a.assert_not_held();
        {
            let _b = b.lock(); // no stale A below: no A → B
        }
        {
            let _b = b.lock();
            let _a = a.lock(); // B → A
        }
        assert!(kinds("modes-switch-A").is_empty());
    });
}

#[test]
fn warn_records_too() {
    in_mode(Mode::Warn, || {
        let x = class("modes-warn-X");
        let (x1, x2) = (Mutex::with_class((), x), Mutex::with_class((), x));
        drop((x1.lock(), x2.lock()));
        {
            let _x2 = x2.lock();
            let _x1 = x1.lock(); // printed on stderr and recorded
        }
        assert_eq!(
            kinds("modes-warn-X"),
            vec![ViolationKind::CircularDependency]
        );
    });
}

/// Takes its two locks in the inverted order when dropped.
struct InvertsOnDrop<'a>(&'a Mutex<()>, &'a Mutex<()>);

impl Drop for InvertsOnDrop<'_> {
    fn drop(&mut self) {
        let _b = self.1.lock();
        let _a = self.0.lock();
    }
}

#[test]
fn panic_mode_never_panics_while_unwinding() {
    // A panic in a destructor run by unwinding would abort the whole process: the violation
    // is printed and recorded instead, and the first panic goes on.
    in_mode(Mode::Panic, || {
        let (a, b) = (
            Mutex::with_class((), class("modes-unwinding-A")),
            Mutex::with_class((), class("modes-unwinding-B")),
        );
        drop((a.lock(), b.lock()));
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let _inverts = InvertsOnDrop(&a, &b);
            panic!("the first panic");
        }));
        assert_eq!(message(&*caught.expect_err("unwound")), "the first panic");
        assert!(!a.is_locked() && !b.is_locked());
        assert_eq!(
            kinds("modes-unwinding-A"),
            vec![ViolationKind::CircularDependency]
        );
    });
}
