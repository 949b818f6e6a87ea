//! Faults and abuse: leaked guards, locks in TLS destructors, the held-depth limit, all under
//! `TrackingAllocator` (so the allocator hook sees every one of these situations too).
#![cfg(feature = "enabled")]

use lockdep::{LockClass, Mode, Mutex, ViolationKind};

mod common;
use common::kinds;

#[global_allocator]
static ALLOCATOR: lockdep::TrackingAllocator = lockdep::TrackingAllocator;

static LEAKY: LockClass = LockClass::new("faults-leaky");
static AFTER_LEAK: LockClass = LockClass::new("faults-after-leak");

#[test]
#[cfg_attr(
    feature = "send_guard",
    ignore = "with send_guard the verdict waits for process exit: tests/guards_sent.rs"
)]
fn leaked_guard_is_reported_once_at_thread_exit() {
    lockdep::set_mode(Mode::Collect);
    let m: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::with_class(Vec::new(), &LEAKY)));
    for _ in 0..2 {
        std::thread::Builder::new()
            .name("faults-leaker".into())
            .spawn(move || {
                // Twice: the second thread finds the lock... held by the first forever, so
                // it uses try_lock; only the first leaks.
                if let Some(g) = m.try_lock() {
                    std::mem::forget(g);
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }
    assert_eq!(kinds("faults-leaky"), vec![ViolationKind::LockHeldAtExit]);
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("faults-leaky"))
        .unwrap();
    let text = v.to_string();
    assert!(text.contains("WARNING: lock held when thread exits!"));
    // Named by the exiting thread's name and number, as the kernel's `comm/pid`.
    assert!(text.contains("faults-leaker/"), "{text}");
    // The rest keeps working.
    let other = Mutex::with_class(vec![1u8], &AFTER_LEAK);
    other.lock().push(2);
    other.assert_not_held();
    assert!(kinds("faults-after-leak").is_empty());
}

static TLS_A: LockClass = LockClass::new("faults-tls-A");
static TLS_B: LockClass = LockClass::new("faults-tls-B");
static TLS_LOCK_A: Mutex<Vec<u8>> = Mutex::with_class(Vec::new(), &TLS_A);
static TLS_LOCK_B: Mutex<Vec<u8>> = Mutex::with_class(Vec::new(), &TLS_B);

struct TakesLocksOnDrop;

impl Drop for TakesLocksOnDrop {
    fn drop(&mut self) {
        // Runs during TLS teardown, maybe after the checker's own thread-exit hook.
        let mut a = TLS_LOCK_A.lock();
        let mut b = TLS_LOCK_B.lock();
        a.push(1); // allocates, through TrackingAllocator
        b.push(2);
    }
}

thread_local! {
    static ON_EXIT: TakesLocksOnDrop = const { TakesLocksOnDrop };
}

#[test]
fn locks_in_tls_destructors_do_not_crash_or_false_report() {
    lockdep::set_mode(Mode::Collect);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                ON_EXIT.with(|_| ());
                let _a = TLS_LOCK_A.lock(); // the exit hook gets registered before ON_EXIT's
                drop(_a);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(TLS_LOCK_A.lock().len(), 8);
    assert!(kinds("faults-tls-A").is_empty());
    assert!(kinds("faults-tls-B").is_empty());
}

const CHILD: &str = "TEST_LOCKDEP_FAULTS_CHILD";

/// The depth limit turns the whole checker off, so it runs in a child process.
#[test]
fn child_depth_overflow() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    lockdep::set_mode(Mode::Warn);
    let locks: Vec<Mutex<u8>> = (0..600)
        .map(|i| Mutex::with_class(0, LockClass::leak(format!("deep-{i}"))))
        .collect();
    let guards: Vec<_> = locks.iter().map(|l| l.lock()).collect();
    drop(guards);
    // The checker is off now: an inversion goes unreported, and nothing crashes.
    let (a, b) = (Mutex::new(()), Mutex::new(()));
    drop((a.lock(), b.lock()));
    let _b = b.lock();
    let _a = a.lock();
    println!("child finished");
}

#[test]
fn held_depth_overflow_reports_once_and_turns_the_checker_off() {
    let out = common::child("child_depth_overflow")
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The fault turned checking off: the exit status says so.
    assert_eq!(out.status.code(), Some(67), "{stderr}");
    assert!(stdout.contains("child finished"), "{stdout}");
    assert_eq!(
        stderr.matches("BUG: MAX_LOCK_DEPTH too low!").count(),
        2,
        "{stderr}"
    ); // once, and in the exit report
    assert!(
        stderr.contains("turning off the locking correctness validator."),
        "{stderr}"
    );
    assert!(!stderr.contains("circular locking dependency"), "{stderr}");
}
