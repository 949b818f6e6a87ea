//! With `TrackingAllocator`, only the user's allocations count: what the checker itself and
//! the raw locks allocate is never charged to the locks and elements a thread holds, and the
//! checker's bookkeeping never deadlocks with itself.
//!
//! - Threads that take batches of elements and hand them to each other (each release on a
//!   foreign thread posts to the holder's inbox, which allocates) run to the end under a
//!   watchdog: releasing a foreign element used to validate that allocation under the owner's
//!   inbox lock and deadlock two inboxes.
//! - The same ring with receivers that adopt what they receive (each adoption posts the
//!   sender's release, and opens an inbox on a thread's first hold), some of them under a
//!   lock: no hang, no false report.
//! - A lock held while dropping a foreign element gets no `→ ALLOC` from the inbox's growth.
//! - A thread that holds an element and parks on a contended lock gets no `→ ALLOC` from the
//!   parking lot's own allocations (its table, created by a process's first park or unpark
//!   and grown as threads park): checked in a fresh child process.
#![cfg(feature = "enabled")]

use lockdep::mempool::{Element, Mempool};
use lockdep::{Mode, Mutex, ViolationKind};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

mod common;
use common::unique_class;

#[global_allocator]
static ALLOCATOR: lockdep::TrackingAllocator = lockdep::TrackingAllocator;

const CHILD: &str = "TEST_LOCKDEP_MACHINERY_CHILD";

/// How long each exchange case runs (`TEST_LOCKDEP_STRESS_MS` overrides; CI keeps the default).
fn case_time() -> Duration {
    let ms = std::env::var("TEST_LOCKDEP_STRESS_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(700);
    Duration::from_millis(ms)
}

/// What a thread of the ring does with the elements it receives.
#[derive(Clone, Copy, PartialEq)]
enum Receive {
    /// Drops them: each release is posted to the sender's inbox.
    Drop,
    /// Adopts them (half before taking its lock, half under it), then drops them: each
    /// adoption posts the sender's release and opens a hold of its own, released at home.
    Adopt,
}

/// `threads` threads in a ring: each takes batches of elements, sends them to the next thread
/// and drops (or adopts, then drops) what it receives while holding a lock of a class that
/// memory reclaim takes.
fn exchange(threads: usize, receive: Receive) {
    lockdep::set_mode(Mode::Collect);
    let pool_name = common::unique_name("machinery-pool");
    // Off the reclaim path: its holders allocate (an element stays held by the thread that took
    // it until the receiver drops it), which is a true livelock for a reclaim-path pool.
    let pool = Arc::new(
        Mempool::builder(16, || Some(0u64))
            .name(pool_name.clone())
            .reclaim_path(false)
            .build()
            .unwrap(),
    );
    let (lock_class, lock_name) = unique_class("machinery-lock");
    // Reclaim takes locks of this class: a `lock → ALLOC` would close a cycle.
    lockdep::reclaim_scope(|| drop(Mutex::with_class((), lock_class).lock()));

    let (senders, receivers): (Vec<_>, Vec<_>) = (0..threads).map(|_| mpsc::channel()).unzip();
    let deadline = Instant::now() + case_time();
    let (done_tx, done_rx) = mpsc::channel();
    let start = Arc::new(Barrier::new(threads));
    for (i, rx) in receivers.into_iter().enumerate() {
        let tx: mpsc::Sender<Vec<_>> = senders[(i + 1) % threads].clone();
        let pool = Arc::clone(&pool);
        let (done_tx, start) = (done_tx.clone(), Arc::clone(&start));
        thread::spawn(move || {
            let mine = Mutex::with_class((), lock_class);
            start.wait();
            let mut rounds = 0u64;
            while Instant::now() < deadline {
                let batch: Vec<_> = (0..8).filter_map(|_| pool.try_alloc()).collect();
                // Still held by this thread until the receiver drops them (a post to this
                // thread's inbox).
                if tx.send(batch).is_err() {
                    break;
                }
                while let Ok(received) = rx.try_recv() {
                    take(received, &mine, receive);
                }
                rounds += 1;
            }
            drop(tx);
            // Keep draining until every sender is gone (the previous thread finished).
            while let Ok(received) = rx.recv_timeout(Duration::from_secs(5)) {
                take(received, &mine, receive);
            }
            let _ = done_tx.send(rounds);
        });
    }
    drop(senders);
    drop(done_tx);
    let mut rounds = 0;
    for _ in 0..threads {
        match done_rx.recv_timeout(case_time() + Duration::from_secs(30)) {
            Ok(r) => rounds += r,
            Err(_) => panic!("{threads}-thread element exchange hung (the checker deadlocked)"),
        }
    }
    assert!(rounds > 0);
    let about_us: Vec<_> = lockdep::violations()
        .into_iter()
        .filter(|v| v.involves(&pool_name) || v.involves(&lock_name))
        .collect();
    assert!(about_us.is_empty(), "false reports: {about_us:#?}");
}

/// One received batch, under `mine`. Adopting before the lock records `pool → lock` (the pool
/// is off the reclaim path: no cycle); adopting under it records nothing into the pool (a
/// try-acquisition), so a `lock → pool` here would be a false cycle.
fn take(mut received: Vec<Element<u64>>, mine: &Mutex<()>, receive: Receive) {
    let half = received.len() / 2;
    if receive == Receive::Adopt {
        received[..half].iter_mut().for_each(|e| e.adopt());
    }
    let _held = mine.lock();
    if receive == Receive::Adopt {
        received[half..].iter_mut().for_each(|e| e.adopt());
    }
    drop(received); // foreign elements: posted to their holders' inboxes; adopted ones: ours
}

#[test]
fn two_threads_exchange_elements_without_hanging_or_false_reports() {
    exchange(2, Receive::Drop);
}

#[test]
fn four_threads_exchange_elements_without_hanging_or_false_reports() {
    exchange(4, Receive::Drop);
}

#[test]
fn eight_threads_exchange_elements_without_hanging_or_false_reports() {
    exchange(8, Receive::Drop);
}

#[test]
fn two_threads_adopting_elements_run_without_hanging_or_false_reports() {
    exchange(2, Receive::Adopt);
}

#[test]
fn eight_threads_adopting_elements_run_without_hanging_or_false_reports() {
    exchange(8, Receive::Adopt);
}

#[test]
fn child_first_park() {
    if std::env::var(CHILD).as_deref() != Ok("first_park") {
        return;
    }
    lockdep::set_mode(Mode::Collect);
    let pool = Arc::new(Mempool::named("machinery-park-pool", 1, || Some(0u64)));
    let contended = Arc::new(Mutex::new(()));
    let ready = Arc::new(Barrier::new(2));
    let waiter = {
        let (contended, pool, ready) = (
            Arc::clone(&contended),
            Arc::clone(&pool),
            Arc::clone(&ready),
        );
        thread::spawn(move || {
            ready.wait();
            let element = pool.alloc();
            drop(contended.lock()); // parks: this thread's first park
            drop(element);
        })
    };
    // Nothing allocates while `contended` is held here (that would be a true `→ ALLOC`).
    let held = contended.lock();
    ready.wait();
    thread::sleep(Duration::from_millis(200));
    drop(held);
    waiter.join().unwrap();
    let kinds: Vec<ViolationKind> = lockdep::violations().iter().map(|v| v.kind()).collect();
    println!("CHILD-RESULT {kinds:?}");
}

#[test]
fn parking_on_a_contended_lock_is_not_an_allocation_of_the_user() {
    let out = common::child("child_first_park")
        .env(CHILD, "first_park")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("CHILD-RESULT []"),
        "status {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
