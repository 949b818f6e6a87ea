//! Faults and abuse, beyond `tests/faults.rs`: leaked guards and elements at thread exit (and a
//! stale release reaching a reused inbox), panics while holding locks, elements and scopes
//! (also in `Mode::Panic`), locks taken in TLS destructors before and after the checker's
//! thread-exit hook and by threads torn down while others release their elements, locks taken
//! in `atexit` handlers, the checker's limits (held depth, the class table and the dependency
//! table: one report, then the checker turns itself off and the program keeps running), and bad
//! configuration. The checker must report each fault once, never crash, never report what did
//! not happen.
//!
//! What turns the checker off for the whole process, `Mode::Panic` and the environment
//! variables run in a child process: this test binary re-executed with `--exact <child test>`
//! and `TEST_LOCKDEP_ABUSE_CHILD` set (the `child_*` tests do nothing without it).
//!
//! `tests/faults_tracking_alloc.rs` compiles this same file with `TrackingAllocator` as the
//! global allocator, so every scenario also runs with every allocation checked. Pools here are
//! off the reclaim path so that allocating while holding an element is not a (true) livelock
//! report in that variant.
#![cfg(feature = "enabled")]

use lockdep::mempool::{Element, Mempool};
use lockdep::{LockClass, Mode, Mutex, RwLock, Violation, ViolationKind};
use std::cell::RefCell;
use std::process::Output;

mod common;
use std::sync::mpsc;
use std::thread;

const CHILD: &str = "TEST_LOCKDEP_ABUSE_CHILD";

/// A fresh class named `abuse-<name>` (names are unique per test, so parallel tests in this
/// process never see each other's violations).
fn class(name: &str) -> &'static LockClass {
    LockClass::leak(format!("abuse-{name}"))
}

fn mutex(name: &str) -> &'static Mutex<()> {
    Box::leak(Box::new(Mutex::with_class((), class(name))))
}

/// Violations recorded so far that involve `abuse-<name>`.
fn involving(name: &str) -> Vec<Violation> {
    let name = format!("abuse-{name}");
    lockdep::violations()
        .into_iter()
        .filter(|v| v.involves(&name))
        .collect()
}

fn kinds(name: &str) -> Vec<ViolationKind> {
    involving(name).iter().map(Violation::kind).collect()
}

/// A pool of this test's own, off the reclaim path.
fn pool(name: &str) -> Mempool<u64> {
    Mempool::builder(4, || Some(0u64))
        .name(format!("abuse-{name}"))
        .reclaim_path(false)
        .build()
        .unwrap()
}

/// Unwinds without running the panic hook (nothing printed, no allocation by the hook).
fn unwind() -> ! {
    std::panic::resume_unwind(Box::new("injected fault"))
}

// ---------------------------------------------------------------------------------------------
// Leaked guards and elements.

#[test]
#[cfg_attr(
    feature = "send_guard",
    ignore = "with send_guard the verdict waits for process exit: tests/guards_sent.rs"
)]
fn leaked_guards_are_reported_once_at_thread_exit() {
    lockdep::set_mode(Mode::Collect);
    let (class_a, class_r) = (class("leak-A"), class("leak-R"));
    let leak = move || {
        let a: &'static Mutex<()> = Box::leak(Box::new(Mutex::with_class((), class_a)));
        let r: &'static RwLock<()> = Box::leak(Box::new(RwLock::with_class((), class_r)));
        thread::spawn(move || {
            std::mem::forget(a.lock());
            std::mem::forget(r.read());
        })
        .join()
        .unwrap();
        a
    };
    let a = leak();
    assert_eq!(kinds("leak-A"), vec![ViolationKind::LockHeldAtExit]);
    let v = &involving("leak-A")[0];
    assert!(v.involves("abuse-leak-R"), "{v:?}");
    assert!(
        v.to_string().contains("is exiting with locks still held!"),
        "{v}"
    );

    // The same leak again on another thread: the problem is reported once per process.
    leak();
    assert_eq!(kinds("leak-A"), vec![ViolationKind::LockHeldAtExit]);

    // The rest keeps working: the leaked lock stays locked (try_lock fails, nothing reported),
    // another instance of its class is usable, and cycles are still found.
    assert!(a.try_lock().is_none());
    let b = mutex("leak-B");
    let other_a: &'static Mutex<()> = Box::leak(Box::new(Mutex::with_class((), class_a)));
    thread::spawn(move || {
        drop((other_a.lock(), b.lock())); // A → B
        let _b = b.lock();
        let _a = other_a.lock(); // B → A: reported
    })
    .join()
    .unwrap();
    assert_eq!(
        kinds("leak-B"),
        vec![ViolationKind::CircularDependency],
        "{:?}",
        involving("leak-B")
    );
}

#[test]
fn element_held_at_thread_exit_is_not_a_leak_and_a_stale_release_is_ignored() {
    lockdep::set_mode(Mode::Collect);
    let p = pool("exit-P");
    // An element taken on a thread that exits: moved out, that is normal.
    let moved = thread::scope(|s| s.spawn(|| p.alloc()).join().unwrap());
    assert!(involving("exit-P").is_empty());

    // A later thread (which may reuse the exited thread's inbox) holds an element; the moved
    // element is dropped meanwhile: that stale release must not end the later thread's hold.
    let (to_main, from_worker) = mpsc::channel();
    let (to_worker, from_main) = mpsc::channel::<()>();
    let p = &p;
    thread::scope(|s| {
        s.spawn(move || {
            let mine = p.alloc();
            to_main.send(()).unwrap();
            from_main.recv().unwrap();
            let again = p.alloc(); // still holding `mine`: pool recursion
            drop((mine, again));
        });
        from_worker.recv().unwrap();
        drop(moved);
        to_worker.send(()).unwrap();
    });
    assert_eq!(kinds("exit-P"), vec![ViolationKind::PoolRecursion]);
    assert_eq!(p.outstanding(), 0);
}

// ---------------------------------------------------------------------------------------------
// Panics.

#[test]
fn panic_while_holding_locks_unwinds_the_held_stack() {
    lockdep::set_mode(Mode::Collect);
    let (a, b, c) = (mutex("panic-A"), mutex("panic-B"), mutex("panic-C"));
    let rw: &'static RwLock<()> = Box::leak(Box::new(RwLock::with_class((), class("panic-RW"))));
    let p = pool("panic-P");
    thread::scope(|s| {
        s.spawn(|| {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _a = a.lock();
                let _e = p.alloc();
                let _r = rw.read();
                let _b = b.lock(); // A → P → RW → B recorded
                unwind();
            }));
            assert!(result.is_err());
            // The guards and the element were dropped by unwinding: taking them again is not
            // recursive locking, and nothing stale is on the stack.
            {
                let _c = c.lock();
                let _a = a.lock(); // C → A
                let _e = p.alloc();
                let _w = rw.write();
            }
            assert!(
                involving("panic-A").is_empty(),
                "{:?}",
                involving("panic-A")
            );
            assert!(
                involving("panic-P").is_empty(),
                "{:?}",
                involving("panic-P")
            );
            // Still validated on this thread: B then A inverts what was recorded before the
            // panic.
            let _b = b.lock();
            let _a = a.lock();
        });
    });
    let found = involving("panic-B");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind(), ViolationKind::CircularDependency);
    assert!(found[0].involves("abuse-panic-A"));
    assert!(!found[0].involves("abuse-panic-C"));
}

#[test]
fn panic_inside_scopes_restores_them() {
    lockdep::set_mode(Mode::Collect);
    let (l, m) = (mutex("scope-L"), mutex("scope-M"));
    thread::scope(|s| {
        s.spawn(|| {
            // Unwinding out of noreclaim_scope: the scope ends.
            let r = std::panic::catch_unwind(|| lockdep::noreclaim_scope(|| unwind()));
            assert!(r.is_err());
            // Unwinding out of reclaim_scope (through a noreclaim_scope, so that the unwinder's
            // own allocation is not reclaim recursion under TrackingAllocator): ALLOC is no
            // longer held.
            let r = std::panic::catch_unwind(|| {
                lockdep::reclaim_scope(|| lockdep::noreclaim_scope(|| unwind()))
            });
            assert!(r.is_err());
            {
                // Were ALLOC still held, this would record ALLOC → M and the might_alloc below
                // would be reclaim recursion.
                let _m = m.lock();
                lockdep::might_alloc();
            }
            assert!(
                involving("scope-M").is_empty(),
                "{:?}",
                involving("scope-M")
            );
            // Allocations enter reclaim again: L → ALLOC, then ALLOC → L closes a cycle.
            {
                let _l = l.lock();
                lockdep::might_alloc();
            }
            lockdep::reclaim_scope(|| drop(l.lock()));
        });
    });
    assert_eq!(kinds("scope-L"), vec![ViolationKind::CircularDependency]);
    assert!(!lockdep::violations()
        .iter()
        .any(|v| v.kind() == ViolationKind::RecursiveLock && v.classes() == ["ALLOC"]));
}

#[test]
fn child_panic_mode() {
    if std::env::var(CHILD).as_deref() != Ok("panic_mode") {
        return;
    }
    lockdep::set_mode(Mode::Panic);
    std::panic::set_hook(Box::new(|_| {})); // the child's own output stays readable
    let (a, b, c, d) = (mutex("pm-A"), mutex("pm-B"), mutex("pm-C"), mutex("pm-D"));
    drop((a.lock(), b.lock()));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _b = b.lock();
        let _a = a.lock(); // panics before taking A
    }));
    assert!(r.is_err());
    // Nothing stale: A and B are free and untracked, the same order as before is fine.
    drop((a.lock(), b.lock()));
    drop((c.lock(), d.lock()));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _d = d.lock();
        let _c = c.lock();
    }));
    assert!(r.is_err(), "the second inversion must also be caught");
    let v = lockdep::violations();
    println!(
        "CHILD-RESULT violations={} {:?}",
        v.len(),
        v.iter().map(|v| v.classes()).collect::<Vec<_>>()
    );
}

#[test]
fn panic_mode_unwinds_and_keeps_validating() {
    let out = run_child("panic_mode", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", report(&out));
    assert!(
        stdout.contains(
            r#"CHILD-RESULT violations=2 [["abuse-pm-A", "abuse-pm-B"], ["abuse-pm-C", "abuse-pm-D"]]"#
        ),
        "{}",
        report(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// Thread and process teardown.

/// Takes its locks (in the order A, B) and drops a pool element when dropped.
struct TakesLocksOnDrop {
    a: &'static Mutex<()>,
    b: &'static Mutex<()>,
    element: Option<Element<u64>>,
}

impl Drop for TakesLocksOnDrop {
    fn drop(&mut self) {
        let _a = self.a.lock();
        let _b = self.b.lock();
        drop(self.element.take());
    }
}

thread_local! {
    static LATE: RefCell<Option<TakesLocksOnDrop>> = const { RefCell::new(None) };
}

#[test]
fn locks_and_elements_in_tls_destructors_before_and_after_the_exit_hook() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (mutex("tls-A"), mutex("tls-B"));
    let p: &'static Mempool<u64> = Box::leak(Box::new(pool("tls-P")));
    let x = mutex("tls-X");
    let threads: Vec<_> = (0..16)
        .map(|i| {
            thread::spawn(move || {
                // Hands one element off first: the one in the thread-local is held until the
                // destructor drops it.
                p.alloc().hand_off();
                let set = || {
                    LATE.with(|late| {
                        *late.borrow_mut() = Some(TakesLocksOnDrop {
                            a,
                            b,
                            element: Some(p.alloc()),
                        })
                    })
                };
                if i % 2 == 0 {
                    // Registered before this thread's first lock: the destructor runs after
                    // the checker's thread-exit hook (destructors run last registered first).
                    set();
                    drop(x.lock());
                } else {
                    // Registered after: runs before the hook.
                    drop(x.lock());
                    set();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for name in ["tls-A", "tls-B", "tls-P", "tls-X"] {
        assert!(involving(name).is_empty(), "{name}: {:?}", involving(name));
    }
    assert_eq!(p.outstanding(), 0);
    // What the destructors did was recorded: B then A is an inversion.
    let _b = b.lock();
    let _a = a.lock();
    assert_eq!(kinds("tls-A"), vec![ViolationKind::CircularDependency]);
}

#[test]
fn threads_torn_down_while_others_release_their_elements() {
    lockdep::set_mode(Mode::Collect);
    let (a, b, c) = (
        mutex("teardown-A"),
        mutex("teardown-B"),
        mutex("teardown-C"),
    );
    let p: &'static Mempool<u64> = Box::leak(Box::new(pool("teardown-P")));
    // Elements allocated by short-lived threads, dropped by another after their owners exit.
    let (tx, rx) = mpsc::channel::<Element<u64>>();
    let dropper = thread::spawn(move || {
        for e in rx {
            let _c = c.lock();
            drop(e);
        }
    });
    for round in 0..20 {
        let workers: Vec<_> = (0..4)
            .map(|i| {
                let tx = tx.clone();
                thread::spawn(move || {
                    let _a = a.lock();
                    let e = p.alloc();
                    let _b = b.lock();
                    if (round + i) % 3 == 0 {
                        LATE.with(|late| {
                            *late.borrow_mut() = Some(TakesLocksOnDrop {
                                a,
                                b,
                                element: None,
                            })
                        });
                    }
                    if (round + i) % 2 == 0 {
                        // Moved to another thread: no longer this thread's hold. (Without the
                        // hand-off the hold lasts until the element is dropped over there, and
                        // the destructor's `A` after `P` would be a true report.)
                        e.hand_off();
                        tx.send(e).unwrap();
                    } else {
                        drop(e);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
    }
    drop(tx);
    dropper.join().unwrap();
    for name in ["teardown-A", "teardown-B", "teardown-C", "teardown-P"] {
        assert!(involving(name).is_empty(), "{name}: {:?}", involving(name));
    }
    assert_eq!(p.outstanding(), 0);
}

#[cfg(unix)]
extern "C" fn at_exit_takes_locks() {
    // Runs after main returned (and possibly after the checker's own exit report).
    let (a, b) = (mutex("atexit-A"), mutex("atexit-B"));
    drop((a.lock(), b.lock()));
    let p = pool("atexit-P");
    let e = p.alloc();
    drop(a.lock());
    drop(e);
    println!("ATEXIT-DONE violations={}", involving("atexit-A").len());
}

#[cfg(unix)]
#[test]
fn child_atexit() {
    if std::env::var(CHILD).as_deref() != Ok("atexit") {
        return;
    }
    extern "C" {
        fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
    }
    // SAFETY: registering a function that does not unwind (it takes and drops locks).
    assert_eq!(unsafe { atexit(at_exit_takes_locks) }, 0);
    let (a, b) = (mutex("atexit-A"), mutex("atexit-B"));
    drop((a.lock(), b.lock()));
    // A violation, so that the checker's exit report runs too.
    let (c, d) = (mutex("atexit-C"), mutex("atexit-D"));
    drop((c.lock(), d.lock()));
    drop((d.lock(), c.lock()));
}

#[cfg(unix)]
#[test]
fn locks_taken_at_process_exit() {
    let out = run_child("atexit", &[("LOCKDEP_MODE", "collect")]);
    assert!(out.status.success(), "{}", report(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("ATEXIT-DONE violations=0"),
        "{}",
        report(&out)
    );
    // Only the deliberate inversion is reported.
    assert_eq!(
        stderr
            .matches("WARNING: possible circular locking dependency detected")
            .count(),
        1,
        "{}",
        report(&out)
    );
    assert!(!stderr.contains("abuse-atexit-A"), "{}", report(&out));
}

// ---------------------------------------------------------------------------------------------
// The checker's limits: one report, then it turns itself off and the program keeps running.

#[test]
fn child_depth() {
    if std::env::var(CHILD).as_deref() != Ok("depth") {
        return;
    }
    let locks: Vec<&'static Mutex<()>> = (0..600).map(|i| mutex(&format!("depth-{i}"))).collect();
    let guards: Vec<_> = locks.iter().map(|l| l.lock()).collect();
    println!("CHILD-HELD {}", guards.len());
    // Released out of order, then taken again in another order: nothing more is reported.
    let (even, odd): (Vec<_>, Vec<_>) = guards
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    drop(odd);
    drop(even);
    let more: Vec<_> = locks.iter().rev().map(|l| l.lock()).collect();
    drop(more);
    // The checker is off for good: an inversion is not reported; locks still lock.
    let (a, b) = (mutex("depth-A"), mutex("depth-B"));
    drop((a.lock(), b.lock()));
    drop((b.lock(), a.lock()));
    thread::spawn(move || drop((b.lock(), a.lock())))
        .join()
        .unwrap();
    let v = lockdep::violations();
    println!(
        "CHILD-RESULT violations={} kinds={:?} off={}",
        v.len(),
        v.iter().map(|v| v.kind()).collect::<Vec<_>>(),
        v.iter().all(|v| v.kind().turns_checker_off())
    );
}

#[test]
fn held_depth_overflow_reports_once_then_turns_the_checker_off() {
    // Default mode (warn): the report is printed.
    let out = run_child("depth", &[]);
    // The fault turned checking off: the exit status and the exit report say so.
    assert_eq!(out.status.code(), Some(67), "{}", report(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("lockdep: checking was turned off by the fault reported above"),
        "{}",
        report(&out)
    );
    // `LOCKDEP_FAULT_EXIT_CODE=0` keeps the program's own status.
    let kept = run_child("depth", &[("LOCKDEP_FAULT_EXIT_CODE", "0")]);
    assert!(kept.status.success(), "{}", report(&kept));
    assert!(stdout.contains("CHILD-HELD 600"), "{}", report(&out));
    assert!(
        stdout.contains("CHILD-RESULT violations=1 kinds=[HeldDepthOverflow] off=true"),
        "{}",
        report(&out)
    );
    // Printed at the fault and once more in the exit report.
    assert_eq!(
        stderr.matches("MAX_LOCK_DEPTH too low!").count(),
        2,
        "{}",
        report(&out)
    );
    assert!(
        stderr.contains("turning off the locking correctness validator."),
        "{}",
        report(&out)
    );
    assert!(!stderr.contains("circular"), "{}", report(&out));
}

#[test]
fn child_subclass() {
    if std::env::var(CHILD).as_deref() != Ok("subclass") {
        return;
    }
    let (a, b) = (mutex("subclass-A"), mutex("subclass-B"));
    println!("CHILD-CHECKING-BEFORE {}", lockdep::is_checking());
    {
        let _a = a.lock();
        let _b = b.lock_nested(8); // past MAX_LOCKDEP_SUBCLASSES
    }
    let v = lockdep::violations();
    println!(
        "CHILD-RESULT violations={} kinds={:?} checking={}",
        v.len(),
        v.iter().map(|v| v.kind()).collect::<Vec<_>>(),
        lockdep::is_checking()
    );
    let asserted = std::panic::catch_unwind(lockdep::assert_no_violations).is_err();
    println!("CHILD-ASSERT-FAILS {asserted}");
}

#[test]
fn a_subclass_past_the_limit_is_a_visible_fault_not_silence() {
    let out = run_child("subclass", &[("LOCKDEP_MODE", "collect")]);
    // The fault turned checking off: the exit status says so.
    assert_eq!(out.status.code(), Some(67), "{}", report(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("CHILD-CHECKING-BEFORE true"),
        "{}",
        report(&out)
    );
    assert!(
        stdout.contains("CHILD-RESULT violations=1 kinds=[TableOverflow] checking=false"),
        "{}",
        report(&out)
    );
    assert!(
        stdout.contains("CHILD-ASSERT-FAILS true"),
        "{}",
        report(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("MAX_LOCKDEP_SUBCLASSES"),
        "{}",
        report(&out)
    );
}

#[test]
fn child_classes() {
    if std::env::var(CHILD).as_deref() != Ok("classes") {
        return;
    }
    lockdep::set_mode(Mode::Collect);
    let mut made = 0usize;
    while lockdep::violations().is_empty() && made < 400_000 {
        for _ in 0..4096 {
            let m = Mutex::with_class((), LockClass::leak(format!("abuse-cls-{made}")));
            drop(m.lock());
            made += 1;
        }
    }
    // Off for good: an inversion of fresh classes is not reported; locks still lock.
    let (a, b) = (mutex("cls-A"), mutex("cls-B"));
    drop((a.lock(), b.lock()));
    drop((b.lock(), a.lock()));
    let v = lockdep::violations();
    println!(
        "CHILD-RESULT made>{} violations={} kinds={:?}",
        made / 100_000 * 100_000,
        v.len(),
        v.iter().map(|v| v.kind()).collect::<Vec<_>>()
    );
}

#[test]
fn class_table_overflow_reports_once_then_turns_the_checker_off() {
    let out = run_child("classes", &[]);
    // The fault turned checking off: the exit status says so.
    assert_eq!(out.status.code(), Some(67), "{}", report(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // 262,144 classes fit (the kernel's MAX_LOCKDEP_KEYS analogue, 1 << 18).
    assert!(
        stdout.contains("made>200000 violations=1 kinds=[TableOverflow]"),
        "{}",
        report(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lock classes (MAX_LOCKDEP_KEYS)"),
        "{}",
        report(&out)
    );
}

#[test]
fn child_edges() {
    if std::env::var(CHILD).as_deref() != Ok("edges") {
        return;
    }
    lockdep::set_mode(Mode::Collect);
    // Every ordered pair of 1,500 classes: 1,124,250 dependencies, past the 1,048,576 the
    // graph takes.
    let locks: Vec<&'static Mutex<()>> = (0..1500).map(|i| mutex(&format!("edges-{i}"))).collect();
    let mut rows = 0;
    for (i, outer) in locks.iter().enumerate() {
        let _outer = outer.lock();
        for inner in &locks[i + 1..] {
            drop(inner.lock());
        }
        rows += 1;
        if !lockdep::violations().is_empty() {
            break;
        }
    }
    // Off for good; locks still lock.
    drop((locks[1].lock(), locks[0].lock()));
    let v = lockdep::violations();
    println!(
        "CHILD-RESULT rows>{} violations={} kinds={:?}",
        rows / 1000 * 1000,
        v.len(),
        v.iter().map(|v| v.kind()).collect::<Vec<_>>()
    );
}

#[test]
fn edge_table_overflow_reports_once_then_turns_the_checker_off() {
    if test_name("x") != "x" {
        // About 10 s in a debug build: run in `faults_abuse` only, not again in
        // `faults_tracking_alloc`.
        return;
    }
    let out = run_child("edges", &[]);
    // The fault turned checking off: the exit status says so.
    assert_eq!(out.status.code(), Some(67), "{}", report(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("rows>1000 violations=1 kinds=[TableOverflow]"),
        "{}",
        report(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lock dependencies (MAX_LOCKDEP_ENTRIES)"),
        "{}",
        report(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// Bad configuration: a one-line warning and a sane default.

#[test]
fn child_config() {
    if std::env::var(CHILD).as_deref() != Ok("config") {
        return;
    }
    let (a, b) = (mutex("config-A"), mutex("config-B"));
    drop((a.lock(), b.lock()));
    drop((b.lock(), a.lock()));
    println!("CHILD-MODE {:?}", lockdep::mode());
}

#[test]
fn unknown_mode_warns_once_and_means_warn() {
    let out = run_child("config", &[("LOCKDEP_MODE", "verbose")]);
    assert!(out.status.success(), "{}", report(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<_> = stderr
        .lines()
        .filter(|l| l.contains("LOCKDEP_MODE"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", report(&out));
    assert!(warnings[0].contains("using warn"), "{}", report(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CHILD-MODE Warn"));
    assert!(stderr.contains("abuse-config-A"), "{}", report(&out));
}

#[cfg(unix)]
#[test]
fn non_utf8_mode_warns_once_and_means_warn() {
    use std::os::unix::ffi::OsStrExt;
    let out = common::child(&test_name("child_config"))
        .env(CHILD, "config")
        .env("LOCKDEP_MODE", std::ffi::OsStr::from_bytes(b"w\xffrn"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", report(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("LOCKDEP_MODE"))
            .count(),
        1,
        "{}",
        report(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("CHILD-MODE Warn"));
}

#[test]
fn unwritable_report_dir_warns_once() {
    // A path under a regular file: no directory can be made there.
    let file = std::env::temp_dir().join(format!(
        "lockdep-abuse-{}-{}",
        std::process::id(),
        test_name("x").len()
    ));
    std::fs::write(&file, b"not a directory").unwrap();
    let dir = file.join("reports");
    let out = run_child(
        "config",
        &[
            ("LOCKDEP_MODE", "collect"),
            ("LOCKDEP_REPORT_DIR", dir.to_str().unwrap()),
        ],
    );
    std::fs::remove_file(&file).unwrap();
    assert!(out.status.success(), "{}", report(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("LOCKDEP_REPORT_DIR"))
            .count(),
        1,
        "{}",
        report(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("CHILD-MODE Collect"));
    // The report itself still reaches stderr.
    assert!(stderr.contains("abuse-config-A"), "{}", report(&out));
}

// ---------------------------------------------------------------------------------------------
// Child processes.

/// The exact libtest name of `test` in this binary (this file is also compiled as a module of
/// `faults_tracking_alloc`).
fn test_name(test: &str) -> String {
    match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::{test}"),
        None => test.to_owned(),
    }
}

fn run_child(which: &str, envs: &[(&str, &str)]) -> Output {
    common::child(&test_name(&format!("child_{which}")))
        .env(CHILD, which)
        .envs(envs.iter().copied())
        .output()
        .expect("run the child")
}

fn report(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
