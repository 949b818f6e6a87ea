//! The mempool livelock (taskA takes the last element, taskB allocates under a lock taskA
//! then waits for, taskC is reclaim waiting for the element), on three real threads.
//!
//! A block layer keeps a mempool of I/O requests (`bio_pool`) so that writeback can always make
//! progress, even when memory is short: memory reclaim writes dirty pages out, and needs a
//! `bio` for that.
//!
//! - taskA (writeback) takes a bio from the pool, then locks the journal to log the write.
//! - taskB (a transaction commit) holds the journal and allocates memory.
//! - taskC (memory reclaim) needs a bio to write pages out and free memory.
//!
//! If the pool is down to its last element when taskA takes it, taskA waits for the journal,
//! taskB waits for memory, reclaim waits for taskA's bio: nobody moves.
//!
//! `cargo run --example seed_livelock` runs the three tasks one after the other, so nothing can
//! hang, and lockdep reports the livelock from what it saw: `bio_pool → journal → ALLOC →
//! bio_pool`.
//!
//! `cargo run --example seed_livelock -- --real` turns the checker off and runs the tasks
//! concurrently with a tiny memory budget, to show that the report is no false alarm: all
//! three stall, and give up after their timeouts (about 2.5 s). Then it runs them again with
//! the fix (taskA takes the journal before the bio), and they finish at once.

use lockdep::mempool::Mempool;
use lockdep::{LockClass, Mode, Mutex};
use parking_lot::{Condvar as PlainCondvar, Mutex as PlainMutex};
use std::sync::Arc;
use std::time::{Duration, Instant};

static JOURNAL: LockClass = LockClass::new("journal");

/// A request for the block layer.
struct Bio {
    _sector: u64,
}

fn main() {
    if std::env::args().any(|a| a == "--real") {
        real_livelock();
    } else {
        observe_and_report();
    }
}

/// The three tasks, sequenced: each half is seen once, the livelock never happens.
fn observe_and_report() {
    lockdep::set_mode(Mode::Collect);
    let bio_pool = Arc::new(Mempool::named("bio_pool", 1, || Some(Bio { _sector: 0 })));
    let journal = Arc::new(Mutex::with_class(Vec::<u64>::new(), &JOURNAL));

    // taskA: writeback takes a bio, then logs the write in the journal.
    let (pool, j) = (Arc::clone(&bio_pool), Arc::clone(&journal));
    std::thread::Builder::new()
        .name("taskA".into())
        .spawn(move || {
            let bio = pool.alloc();
            j.lock().push(1); // bio_pool → journal
            drop(bio);
        })
        .unwrap()
        .join()
        .unwrap();

    // taskB: a commit holds the journal and allocates memory for the next transaction.
    let j = Arc::clone(&journal);
    std::thread::Builder::new()
        .name("taskB".into())
        .spawn(move || {
            let mut log = j.lock();
            lockdep::might_alloc(); // journal → ALLOC: closes bio_pool → journal → ALLOC → bio_pool
            log.reserve(4096);
        })
        .unwrap()
        .join()
        .unwrap();

    // taskC: memory reclaim writes a page out, and so needs a bio.
    let pool = Arc::clone(&bio_pool);
    std::thread::Builder::new()
        .name("taskC".into())
        .spawn(move || lockdep::reclaim_scope(|| drop(pool.alloc())))
        .unwrap()
        .join()
        .unwrap();

    let found = lockdep::take_violations();
    for v in &found {
        println!("{v}");
    }
    println!(
        "{} violation(s); run with `-- --real` to watch this livelock happen.",
        found.len()
    );
}

/// A tiny page allocator: `free` pages, and a way to wait for some to be freed.
struct Memory {
    free: PlainMutex<usize>,
    freed: PlainCondvar,
}

impl Memory {
    fn try_take(&self, pages: usize) -> bool {
        let mut free = self.free.lock();
        if *free >= pages {
            *free -= pages;
            true
        } else {
            false
        }
    }

    /// Waits (up to `timeout`) for `pages` to be freed by reclaim.
    fn take(&self, pages: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut free = self.free.lock();
        while *free < pages {
            if self.freed.wait_until(&mut free, deadline).timed_out() {
                return false;
            }
        }
        *free -= pages;
        true
    }

    fn give(&self, pages: usize) {
        *self.free.lock() += pages;
        self.freed.notify_all();
    }
}

/// One step of the choreography: each task waits until the others have done their part.
#[derive(Default)]
struct Steps {
    done: PlainMutex<u32>,
    changed: PlainCondvar,
}

impl Steps {
    fn wait_for(&self, n: u32) {
        let mut done = self.done.lock();
        while *done < n {
            self.changed.wait(&mut done);
        }
    }

    fn next(&self) {
        *self.done.lock() += 1;
        self.changed.notify_all();
    }
}

/// The same three tasks, concurrently, with the checker off and memory exhausted: first in
/// the order lockdep reports (they stall), then with taskA taking the journal before the bio
/// (they finish).
fn real_livelock() {
    lockdep::set_mode(Mode::Off);
    println!("== taskA takes a bio, then the journal (what lockdep reported) ==");
    let stalled = run_tasks(false);
    println!(
        "All three tasks stalled and gave up after {:.1} s: the livelock lockdep reports without \
         needing this interleaving.\n",
        stalled.as_secs_f64()
    );
    println!("== the fix: taskA takes the journal before the bio ==");
    let fixed = run_tasks(true);
    println!("All three tasks finished in {} ms.", fixed.as_millis());
}

/// Runs taskA, taskB and taskC concurrently in the interleaving of the scenario; returns how
/// long they took.
fn run_tasks(lock_before_element: bool) -> Duration {
    const PATIENCE: Duration = Duration::from_secs(2);
    let memory = Arc::new(Memory {
        free: PlainMutex::new(1),
        freed: PlainCondvar::new(),
    });
    let m = Arc::clone(&memory);
    // The pool's reserve takes the last free page; after that, bios come from the reserve only.
    let bio_pool = Arc::new(Mempool::named("bio_pool", 1, move || {
        m.try_take(1).then_some(Bio { _sector: 0 })
    }));
    let journal = Arc::new(Mutex::with_class(Vec::<u64>::new(), &JOURNAL));
    let steps = Arc::new(Steps::default());
    let start = Instant::now();
    let say = move |task: &str, what: &str| {
        println!("[{:>5} ms] {task}: {what}", start.elapsed().as_millis());
    };

    let (pool, j, st) = (
        Arc::clone(&bio_pool),
        Arc::clone(&journal),
        Arc::clone(&steps),
    );
    let task_a = std::thread::spawn(move || {
        let mut bio = None;
        if !lock_before_element {
            bio = Some(pool.alloc());
            say("taskA", "took the last bio of bio_pool");
        }
        st.next(); // 1
        st.wait_for(2);
        say("taskA", "waiting for the journal…");
        match j.try_lock_for(PATIENCE) {
            Some(mut log) => {
                say("taskA", "got the journal");
                let bio = bio.unwrap_or_else(|| pool.alloc());
                say("taskA", "took a bio, logged the write");
                log.push(1);
                drop(bio);
            }
            None => say("taskA", "STALLED: journal held by taskB"),
        }
    });
    let (mem, j, st) = (
        Arc::clone(&memory),
        Arc::clone(&journal),
        Arc::clone(&steps),
    );
    let task_b = std::thread::spawn(move || {
        st.wait_for(1);
        let _log = j.lock();
        say("taskB", "holds the journal, allocating memory…");
        st.next(); // 2
        if mem.take(1, PATIENCE + Duration::from_millis(500)) {
            say("taskB", "got memory, commit done");
        } else {
            say("taskB", "STALLED: no memory, reclaim makes no progress");
        }
    });
    let (mem, pool, st) = (
        Arc::clone(&memory),
        Arc::clone(&bio_pool),
        Arc::clone(&steps),
    );
    let task_c = std::thread::spawn(move || {
        st.wait_for(2);
        // Memory is short (taskB is waiting for it): reclaim writes a dirty page out. It gives
        // up a little before the others, so that nothing it waits for is freed by a timeout.
        std::thread::sleep(Duration::from_millis(50));
        say("taskC", "reclaim: writing a dirty page out needs a bio…");
        match pool.alloc_timeout(PATIENCE - Duration::from_millis(500)) {
            Some(bio) => {
                drop(bio);
                mem.give(1);
                say("taskC", "page written, memory freed");
            }
            None => say(
                "taskC",
                "STALLED: bio_pool empty, its last bio is held by taskA",
            ),
        }
    });
    for t in [task_a, task_b, task_c] {
        t.join().unwrap();
    }
    start.elapsed()
}
