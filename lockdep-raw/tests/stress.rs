//! Bounded-time stress of every lock with 2, 4 and 8 threads. Each case runs for `CASE`
//! (override with `LOCKDEP_RAW_STRESS_MS`) under a watchdog: a case that has not finished
//! well after that fails with its name instead of hanging the test run.
#![cfg(not(loom))]

use lock_api::{RwLockReadGuard, RwLockUpgradableReadGuard as Up, RwLockWriteGuard};
use lockdep_raw::{Condvar, Mutex, RwLock};
use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

fn case_duration() -> Duration {
    let ms = std::env::var("LOCKDEP_RAW_STRESS_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    Duration::from_millis(ms)
}

/// Runs `body` on a coordinator thread and fails the test if it has not finished within
/// the case's duration plus 30 s. A worker's panic is propagated.
fn watchdog(name: &str, body: impl FnOnce() + Send + 'static) {
    watchdog_with_limit(name, case_duration() + Duration::from_secs(30), body);
}

fn watchdog_with_limit(name: &str, limit: Duration, body: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let coordinator = thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            body();
            let _ = done_tx.send(());
        })
        .unwrap();
    match done_rx.recv_timeout(limit) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
            if let Err(panic) = coordinator.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(RecvTimeoutError::Timeout) => panic!(
            "stress case `{name}` hung: not finished {limit:?} after its start \
             (deadlock or lost wake-up in the lock under test)"
        ),
    }
}

/// Runs `work(thread index, deadline)` on `threads` threads.
fn hammer<S: Sync>(state: &S, threads: usize, work: impl Fn(&S, usize, Instant) + Sync) {
    let deadline = Instant::now() + case_duration();
    thread::scope(|s| {
        for t in 0..threads {
            let work = &work;
            s.spawn(move || work(state, t, deadline));
        }
    });
}

/// xorshift64*: a tiny per-thread pseudo-random stream.
struct Rng(u64);

impl Rng {
    fn new(seed: usize) -> Self {
        Rng(0x9E37_79B9_7F4A_7C15 ^ (seed as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9))
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) % n
    }
}

fn short_timeout(rng: &mut Rng) -> Duration {
    Duration::from_micros(rng.below(200))
}

// ---------------------------------------------------------------------------------------
// Mutex: a plain counter must come out exact, and no two threads are ever inside.

struct MutexCase {
    counter: Mutex<u64>,
    inside: AtomicUsize,
    total: AtomicUsize,
}

fn mutex_case(threads: usize) {
    watchdog(&format!("mutex/{threads} threads"), move || {
        let state = MutexCase {
            counter: Mutex::new(0),
            inside: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
        };
        hammer(&state, threads, |st, t, deadline| {
            let mut rng = Rng::new(t);
            let mut mine = 0;
            while Instant::now() < deadline {
                let op = rng.below(8);
                let guard = match op {
                    0 => st.counter.try_lock(),
                    1 => st.counter.try_lock_for(short_timeout(&mut rng)),
                    2 => st
                        .counter
                        .try_lock_until(Instant::now() + short_timeout(&mut rng)),
                    _ => Some(st.counter.lock()),
                };
                let Some(mut guard) = guard else { continue };
                assert_eq!(
                    st.inside.fetch_add(1, SeqCst),
                    0,
                    "two threads in the mutex"
                );
                let v = black_box(*guard);
                *guard = v + 1;
                mine += 1;
                if op == 4 {
                    st.inside.fetch_sub(1, SeqCst);
                    lock_api::MutexGuard::bump(&mut guard);
                    assert_eq!(st.inside.fetch_add(1, SeqCst), 0, "two threads after bump");
                }
                st.inside.fetch_sub(1, SeqCst);
                if op == 5 {
                    lock_api::MutexGuard::unlock_fair(guard);
                } else {
                    drop(guard);
                }
            }
            st.total.fetch_add(mine, SeqCst);
        });
        let total = state.total.load(SeqCst);
        eprintln!("mutex/{threads} threads: {total} critical sections");
        assert_eq!(*state.counter.lock(), total as u64, "lost updates");
        assert!(!state.counter.is_locked());
    });
}

#[test]
fn mutex_2_threads() {
    mutex_case(2);
}
#[test]
fn mutex_4_threads() {
    mutex_case(4);
}
#[test]
fn mutex_8_threads() {
    mutex_case(8);
}

// ---------------------------------------------------------------------------------------
// RwLock: every acquisition flavour. Writers update `a`, spin, then `b`: a reader must never
// see them differ. `writers`/`upgradables`/`readers` count who is inside and are checked on
// every entry.

#[derive(Default)]
struct Pair {
    a: u64,
    b: u64,
}

#[derive(Default)]
struct RwCase {
    lock: RwLock<Pair>,
    readers: AtomicUsize,
    writers: AtomicUsize,
    upgradables: AtomicUsize,
    writes: AtomicUsize,
}

impl RwCase {
    fn enter_read(&self, p: &Pair) {
        self.readers.fetch_add(1, SeqCst);
        assert_eq!(self.writers.load(SeqCst), 0, "reader inside with a writer");
        assert_eq!(p.a, p.b, "reader saw a half-done write");
    }
    fn leave_read(&self) {
        self.readers.fetch_sub(1, SeqCst);
    }
    fn enter_upgradable(&self, p: &Pair) {
        assert_eq!(
            self.upgradables.fetch_add(1, SeqCst),
            0,
            "two upgradable readers"
        );
        assert_eq!(
            self.writers.load(SeqCst),
            0,
            "upgradable reader with a writer"
        );
        assert_eq!(p.a, p.b, "upgradable reader saw a half-done write");
    }
    fn leave_upgradable(&self) {
        self.upgradables.fetch_sub(1, SeqCst);
    }
    fn write(&self, p: &mut Pair) {
        assert_eq!(self.writers.fetch_add(1, SeqCst), 0, "two writers");
        assert_eq!(self.readers.load(SeqCst), 0, "writer with readers inside");
        assert_eq!(
            self.upgradables.load(SeqCst),
            0,
            "writer with an upgradable reader"
        );
        assert_eq!(p.a, p.b);
        p.a += 1;
        for _ in 0..black_box(8) {
            std::hint::spin_loop();
        }
        p.b = black_box(p.a);
        self.writes.fetch_add(1, SeqCst);
        self.writers.fetch_sub(1, SeqCst);
    }
}

fn rwlock_step(st: &RwCase, rng: &mut Rng) {
    let lock = &st.lock;
    match rng.below(14) {
        0 => {
            let r = lock.read();
            st.enter_read(&r);
            st.leave_read();
        }
        1 => {
            // A recursive read nested in a plain one must not deadlock, writers or not.
            let r = lock.read();
            st.enter_read(&r);
            let r2 = lock.read_recursive();
            st.enter_read(&r2);
            st.leave_read();
            st.leave_read();
            drop((r, r2));
        }
        2 => {
            let r = match rng.below(3) {
                0 => lock.try_read(),
                1 => lock.try_read_for(short_timeout(rng)),
                _ => lock.try_read_recursive_for(short_timeout(rng)),
            };
            if let Some(r) = r {
                st.enter_read(&r);
                st.leave_read();
                RwLockReadGuard::unlock_fair(r);
            }
        }
        3 | 4 => {
            let mut w = lock.write();
            st.write(&mut w);
        }
        5 => {
            let w = match rng.below(3) {
                0 => lock.try_write(),
                1 => lock.try_write_for(short_timeout(rng)),
                _ => lock.try_write_until(Instant::now() + short_timeout(rng)),
            };
            if let Some(mut w) = w {
                st.write(&mut w);
                RwLockWriteGuard::unlock_fair(w);
            }
        }
        6 => {
            let up = lock.upgradable_read();
            st.enter_upgradable(&up);
            st.leave_upgradable();
            let mut w = Up::upgrade(up);
            st.write(&mut w);
        }
        7 => {
            let Some(up) = lock.try_upgradable_read_for(short_timeout(rng)) else {
                return;
            };
            st.enter_upgradable(&up);
            st.leave_upgradable();
            match Up::try_upgrade_for(up, short_timeout(rng)) {
                Ok(mut w) => st.write(&mut w),
                Err(up) => {
                    st.enter_upgradable(&up);
                    st.leave_upgradable();
                    Up::unlock_fair(up);
                }
            }
        }
        8 => {
            let up = lock.upgradable_read();
            st.enter_upgradable(&up);
            st.leave_upgradable();
            match Up::try_upgrade(up) {
                Ok(mut w) => st.write(&mut w),
                Err(up) => {
                    let r = Up::downgrade(up);
                    st.enter_read(&r);
                    st.leave_read();
                }
            }
        }
        9 => {
            let mut w = lock.write();
            st.write(&mut w);
            let r = RwLockWriteGuard::downgrade(w);
            st.enter_read(&r);
            st.leave_read();
        }
        10 => {
            let mut w = lock.write();
            st.write(&mut w);
            let up = RwLockWriteGuard::downgrade_to_upgradable(w);
            st.enter_upgradable(&up);
            st.leave_upgradable();
            let mut w = Up::upgrade(up);
            st.write(&mut w);
        }
        11 => {
            let mut w = lock.write();
            st.write(&mut w);
            RwLockWriteGuard::bump(&mut w);
            st.write(&mut w);
        }
        12 => {
            let mut r = lock.read();
            st.enter_read(&r);
            st.leave_read();
            RwLockReadGuard::bump(&mut r);
            st.enter_read(&r);
            st.leave_read();
        }
        _ => {
            let mut up = lock.upgradable_read();
            st.enter_upgradable(&up);
            st.leave_upgradable();
            Up::bump(&mut up);
            st.enter_upgradable(&up);
            st.leave_upgradable();
        }
    }
}

fn rwlock_case(threads: usize) {
    watchdog(&format!("rwlock/{threads} threads"), move || {
        let state = RwCase::default();
        hammer(&state, threads, |st, t, deadline| {
            let mut rng = Rng::new(t);
            while Instant::now() < deadline {
                rwlock_step(st, &mut rng);
            }
        });
        let p = state.lock.read();
        eprintln!("rwlock/{threads} threads: {} writes", p.a);
        assert_eq!(p.a, p.b);
        assert_eq!(p.a, state.writes.load(SeqCst) as u64, "lost writes");
        drop(p);
        assert!(!state.lock.is_locked());
    });
}

#[test]
fn rwlock_2_threads() {
    rwlock_case(2);
}
#[test]
fn rwlock_4_threads() {
    rwlock_case(4);
}
#[test]
fn rwlock_8_threads() {
    rwlock_case(8);
}

// ---------------------------------------------------------------------------------------
// Condvar: bounded producer/consumer queue. Every produced item is consumed exactly once.

const CAPACITY: usize = 4;

#[derive(Default)]
struct Queue {
    items: VecDeque<u64>,
    producers_left: usize,
}

#[derive(Default)]
struct CondvarCase {
    queue: Mutex<Queue>,
    not_empty: Condvar,
    not_full: Condvar,
    produced: AtomicUsize,
    consumed: AtomicUsize,
    produced_sum: AtomicUsize,
    consumed_sum: AtomicUsize,
}

fn condvar_case(threads: usize) {
    watchdog(&format!("condvar/{threads} threads"), move || {
        let producers = threads / 2;
        let state = CondvarCase::default();
        state.queue.lock().producers_left = producers;
        hammer(&state, threads, move |st, t, deadline| {
            let mut rng = Rng::new(t);
            if t < producers {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let item = (t as u64) << 32 | n;
                    let mut q = st.queue.lock();
                    while q.items.len() >= CAPACITY {
                        if rng.below(4) == 0 {
                            st.not_full.wait_for(&mut q, short_timeout(&mut rng));
                        } else {
                            st.not_full.wait(&mut q);
                        }
                    }
                    q.items.push_back(item);
                    drop(q);
                    st.produced.fetch_add(1, SeqCst);
                    st.produced_sum.fetch_add(item as usize, SeqCst);
                    if rng.below(8) == 0 {
                        st.not_empty.notify_all();
                    } else {
                        st.not_empty.notify_one();
                    }
                }
                let mut q = st.queue.lock();
                q.producers_left -= 1;
                if q.producers_left == 0 {
                    st.not_empty.notify_all();
                }
            } else {
                loop {
                    let mut q = st.queue.lock();
                    while q.items.is_empty() && q.producers_left > 0 {
                        if rng.below(4) == 0 {
                            let until = Instant::now() + short_timeout(&mut rng);
                            st.not_empty.wait_until(&mut q, until);
                        } else {
                            st.not_empty.wait(&mut q);
                        }
                    }
                    let Some(item) = q.items.pop_front() else {
                        break;
                    };
                    // Notify with the lock held half of the time, after releasing it otherwise.
                    if rng.below(2) == 0 {
                        st.not_full.notify_one();
                        drop(q);
                    } else {
                        drop(q);
                        st.not_full.notify_one();
                    }
                    st.consumed.fetch_add(1, SeqCst);
                    st.consumed_sum.fetch_add(item as usize, SeqCst);
                }
            }
        });
        let produced = state.produced.load(SeqCst);
        eprintln!("condvar/{threads} threads: {produced} items");
        assert!(produced > 0);
        assert_eq!(
            produced,
            state.consumed.load(SeqCst),
            "items lost or duplicated"
        );
        assert_eq!(
            state.produced_sum.load(SeqCst),
            state.consumed_sum.load(SeqCst)
        );
        assert!(state.queue.lock().items.is_empty());
    });
}

#[test]
fn condvar_2_threads() {
    condvar_case(2);
}
#[test]
fn condvar_4_threads() {
    condvar_case(4);
}
#[test]
fn condvar_8_threads() {
    condvar_case(8);
}

/// The watchdog itself: a case that never finishes must fail, naming the case.
#[test]
#[should_panic(expected = "stress case `watchdog self-test` hung")]
fn watchdog_reports_a_hang() {
    watchdog_with_limit("watchdog self-test", Duration::from_millis(100), || {
        let m = Mutex::new(());
        let _a = m.lock();
        let _b = m.lock(); // self-deadlock
    });
}
