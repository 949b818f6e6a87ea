//! The mode is read from the environment on first use. A thread that finds another thread
//! reading it waits for the mode: seeing "not checking" meanwhile, a test starting beside
//! another would lose its first locks (no other test in this binary: the mode must be unread
//! when the test starts).
#![cfg(feature = "enabled")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lockdep::{LockClass, Mutex};

/// The system allocator, slowed down once on the thread that reads the mode: reading the
/// environment allocates the value.
struct SlowOnce;

static SLOW_NEXT: AtomicBool = AtomicBool::new(false);

thread_local! {
    static READER: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: every call goes to `System` with the caller's arguments.
unsafe impl GlobalAlloc for SlowOnce {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if READER.with(Cell::get) && SLOW_NEXT.swap(false, Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(300));
        }
        // SAFETY: as the caller promised.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as the caller promised.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: SlowOnce = SlowOnce;

static X: LockClass = LockClass::new("mode-start-x");
static Y: LockClass = LockClass::new("mode-start-y");

#[test]
fn a_thread_that_finds_the_mode_being_read_waits_for_it() {
    std::env::set_var("LOCKDEP_MODE", "collect");
    let (x, y) = (Mutex::with_class(0, &X), Mutex::with_class(0, &Y));
    let reader = std::thread::spawn(|| {
        READER.with(|r| r.set(true));
        SLOW_NEXT.store(true, Ordering::Relaxed);
        lockdep::is_checking()
    });
    // Well inside the reader's slow read.
    std::thread::sleep(Duration::from_millis(100));
    {
        let _x = x.lock();
        let _y = y.lock(); // x → y, recorded once the mode is known
    }
    assert!(reader.join().unwrap(), "the reader read `collect`");
    {
        let _y = y.lock();
        let _x = x.lock(); // y → x closes the cycle
    }
    let found = lockdep::take_violations();
    assert!(
        found
            .iter()
            .any(|v| v.involves("mode-start-x") && v.involves("mode-start-y")),
        "the first nest was checked: {found:?}"
    );
}
