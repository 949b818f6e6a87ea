//! The public class API (`LockdepMap`): primitives of one's own in the graph. The three
//! examples (a bounded channel, a semaphore, an object pool) are compiled in and their stories
//! checked; each test has its own classes.
#![cfg(feature = "enabled")]

use std::sync::Arc;
use std::thread;

use lockdep::{ClassKind, LockClass, LockdepMap, Mode, Mutex, ViolationKind};

mod common;
use common::class;

#[path = "../../examples/bounded_channel.rs"]
mod bounded_channel;
#[path = "../../examples/object_pool.rs"]
mod object_pool;
#[path = "../../examples/semaphore.rs"]
mod semaphore;

fn setup() {
    lockdep::set_mode(Mode::Collect);
}

fn reports(name: &str) -> Vec<lockdep::Violation> {
    lockdep::violations()
        .into_iter()
        .filter(|v| v.involves(name))
        .collect()
}

fn kinds(found: &[lockdep::Violation]) -> Vec<ViolationKind> {
    found.iter().map(|v| v.kind()).collect()
}

#[test]
fn a_send_holding_what_the_receiver_needs_is_a_wait_deadlock() {
    setup();
    let found = bounded_channel::sender_holds_what_the_receiver_needs("lm-chan-state");
    assert_eq!(kinds(&found), [ViolationKind::WaitDeadlock], "{found:?}");
}

#[test]
fn a_channel_between_threads_holding_nothing_is_not_reported() {
    setup();
    let channel = Arc::new(bounded_channel::Channel::new(2));
    let counter = Arc::new(Mutex::with_class(0u32, class("lm-chan-counter")));
    let (tx, c) = (Arc::clone(&channel), Arc::clone(&counter));
    let producer = thread::spawn(move || {
        for i in 0..100 {
            *c.lock() += 1; // taken and released on the way to each send
            tx.send(i);
        }
    });
    let mut sum = 0;
    for _ in 0..100 {
        sum += channel.recv(); // the receiver holds nothing
        *counter.lock() += 1;
    }
    producer.join().unwrap();
    assert_eq!(sum, 99 * 100 / 2);
    assert!(reports("lm-chan-counter").is_empty());
}

#[test]
fn a_permit_holder_that_takes_what_the_waiter_holds_is_reported() {
    setup();
    let found = semaphore::permit_holder_waits_for_the_reloader("lm-sem-config");
    assert_eq!(
        kinds(&found),
        [ViolationKind::CircularDependency],
        "{found:?}"
    );
}

#[test]
fn permits_are_ordered_with_locks_whether_blocking_or_tried() {
    setup();
    let config = Mutex::with_class((), class("lm-sem-ordered"));
    let sem = semaphore::Semaphore::new(1);
    for _ in 0..3 {
        let _config = config.lock();
        let _permit = sem.acquire(); // always config, then a permit
    }
    {
        let _permit = sem.acquire();
        assert!(config.try_lock().is_some()); // a try under a permit cannot wait
    }
    {
        let _config = config.lock();
        let _permit = sem.try_acquire().expect("a free permit"); // a try records nothing
    }
    assert!(reports("lm-sem-ordered").is_empty());
    {
        // A tried permit is held all the same: config under it is the inverted order.
        let _permit = sem.try_acquire().expect("a free permit");
        let _config = config.lock();
    }
    assert_eq!(
        kinds(&reports("lm-sem-ordered")),
        [ViolationKind::CircularDependency]
    );
}

#[test]
fn a_second_object_while_holding_one_is_pool_recursion() {
    setup();
    let found = object_pool::nested_query_takes_a_second_connection("lm-pool-nested");
    assert_eq!(kinds(&found), [ViolationKind::PoolRecursion], "{found:?}");
}

#[test]
fn objects_returned_on_other_threads_leave_no_hold_behind() {
    setup();
    let pool = object_pool::ObjectPool::new("lm-pool-travel", vec![1, 2]);
    thread::scope(|s| {
        let first = pool.get();
        // Returned by another thread: this thread's hold ends (posted to its inbox).
        s.spawn(move || drop(first)).join().unwrap();
        let again = pool.get(); // not a second object while holding one
        drop(again);
    });
    assert!(reports("lm-pool-travel").is_empty());
}

#[test]
fn a_lock_of_ones_own_takes_part_in_lock_order() {
    setup();
    static SPIN: LockClass = LockClass::new("lm-spin");
    let spin = LockdepMap::with_class(&SPIN);
    let m = Mutex::with_class((), class("lm-spin-m"));
    {
        let _spin = spin.acquire().acquired();
        let _m = m.lock();
    }
    {
        let _m = m.lock();
        let _spin = spin.acquire().acquired();
    }
    assert_eq!(
        kinds(&reports("lm-spin")),
        [ViolationKind::CircularDependency]
    );
}

#[test]
fn a_shared_hold_of_ones_own_lock_is_a_read() {
    setup();
    let rw = LockdepMap::named("lm-rw", ClassKind::Lock);
    let m = Mutex::with_class((), class("lm-rw-m"));
    {
        let _r = rw.acquire_shared().acquired();
        let _m = m.lock();
    }
    {
        let _m = m.lock();
        // A try never waits: no dependency, no report.
        let _r = rw.try_acquired();
    }
    assert!(reports("lm-rw").is_empty());
    {
        let _m = m.lock();
        rw.might_acquire(); // a blocking acquisition may come: m → rw
    }
    assert_eq!(
        kinds(&reports("lm-rw")),
        [ViolationKind::CircularDependency]
    );
}

#[test]
fn an_event_of_ones_own_is_waited_for_and_notified() {
    setup();
    let done = Arc::new(LockdepMap::named("lm-done", ClassKind::Event));
    let l = Arc::new(Mutex::with_class((), class("lm-done-L")));
    let (d, l2) = (Arc::clone(&done), Arc::clone(&l));
    thread::spawn(move || {
        let _l = l2.lock();
        d.notify(); // the notifier holds L
    })
    .join()
    .unwrap();
    assert!(reports("lm-done").is_empty(), "one half only");
    {
        let _l = l.lock();
        done.wait(|| ()); // a wait holding L
    }
    assert_eq!(kinds(&reports("lm-done")), [ViolationKind::WaitDeadlock]);
}

#[test]
fn an_acquisition_that_gave_up_holds_nothing() {
    setup();
    let pool = LockdepMap::named("lm-gave-up", ClassKind::Pool);
    drop(pool.acquire()); // a timeout: never acquired
    let _second = pool.acquire().acquired(); // not a second while holding one
    assert!(reports("lm-gave-up").is_empty());
}

#[test]
fn a_map_dropped_with_holds_out_can_say_so() {
    setup();
    let pool = LockdepMap::named("lm-outstanding", ClassKind::Pool);
    let _out = pool.try_acquired();
    pool.report_outstanding(1);
    assert_eq!(
        kinds(&reports("lm-outstanding")),
        [ViolationKind::PoolDroppedWithOutstanding]
    );
}
