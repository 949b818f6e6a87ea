//! Helpers shared by the benches (included with `#[path]`/`mod common;`).
#![allow(dead_code)]

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::Duration;

/// Worker threads started once; each runs its own operation `iters` times per request, all
/// starting together, and reports its elapsed time.
pub struct Workers {
    jobs: Vec<Sender<Option<u64>>>,
    done: Receiver<Duration>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// `n` threads; `make(i)` is called on thread `i` and returns its operation (so that each
    /// thread creates its own lock instances).
    pub fn new<F, Op>(n: usize, make: F) -> Workers
    where
        F: Fn(usize) -> Op + Send + Sync + 'static,
        Op: FnMut() + 'static,
    {
        let make = Arc::new(make);
        let barrier = Arc::new(Barrier::new(n));
        let (done_tx, done) = channel();
        let mut jobs = Vec::new();
        let mut threads = Vec::new();
        for i in 0..n {
            let (tx, rx) = channel::<Option<u64>>();
            let make = make.clone();
            let barrier = barrier.clone();
            let done_tx = done_tx.clone();
            threads.push(std::thread::spawn(move || {
                let mut op = make(i);
                while let Ok(Some(iters)) = rx.recv() {
                    barrier.wait();
                    let start = std::time::Instant::now();
                    for _ in 0..iters {
                        op();
                    }
                    let elapsed = start.elapsed();
                    done_tx.send(elapsed).unwrap();
                }
            }));
            jobs.push(tx);
        }
        Workers {
            jobs,
            done,
            threads,
        }
    }

    /// Runs `iters` operations on every thread; the slowest thread's time (so per-op time is
    /// per thread, and serialization between threads shows as a larger figure).
    pub fn run(&self, iters: u64) -> Duration {
        for j in &self.jobs {
            j.send(Some(iters)).unwrap();
        }
        (0..self.jobs.len())
            .map(|_| self.done.recv().unwrap())
            .max()
            .unwrap()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for j in &self.jobs {
            let _ = j.send(None);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Runs `f` with the checker's mode set to `mode`, then back to collect.
pub fn with_mode<R>(mode: lockdep::Mode, f: impl FnOnce() -> R) -> R {
    lockdep::set_mode(mode);
    let r = f();
    lockdep::set_mode(lockdep::Mode::Collect);
    r
}
