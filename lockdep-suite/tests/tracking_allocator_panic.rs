//! In panic mode, a violation found by an allocation through `TrackingAllocator` is reported
//! without unwinding out of the global allocator (undefined behaviour); an acquisition that
//! closes a cycle still panics. One test: the mode is process-wide.
#![cfg(feature = "enabled")]

use lockdep::{LockClass, Mode, Mutex, ViolationKind};

#[global_allocator]
static ALLOCATOR: lockdep::TrackingAllocator = lockdep::TrackingAllocator;

static LRU: LockClass = LockClass::new("tap-lru");
static A: LockClass = LockClass::new("tap-a");
static B: LockClass = LockClass::new("tap-b");

#[test]
fn allocator_paths_warn_and_lock_paths_panic() {
    lockdep::set_mode(Mode::Panic);
    let lru = Mutex::with_class(Vec::<u64>::new(), &LRU);
    lockdep::reclaim_scope(|| drop(lru.lock()));
    let grew = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lru.lock().extend(0..100)));
    assert!(grew.is_ok(), "no unwinding out of the allocator");
    assert!(lockdep::violations()
        .iter()
        .any(|v| v.involves("tap-lru") && v.kind() == ViolationKind::CircularDependency));

    let (a, b) = (Mutex::with_class((), &A), Mutex::with_class((), &B));
    drop((a.lock(), b.lock()));
    let closed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _b = b.lock();
        let _a = a.lock();
    }));
    let message = closed.expect_err("the acquisition that closes the cycle panics");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        text.contains("possible circular locking dependency detected"),
        "{text}"
    );
    lockdep::set_mode(Mode::Collect);
    lockdep::take_violations();
}
