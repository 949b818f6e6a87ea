//! Helpers shared by the raw locks' tests.

use std::thread;
use std::time::{Duration, Instant};

/// Polls `cond` until true; panics after 10 s so a bug shows as a failure, not a hang.
pub fn eventually(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}
