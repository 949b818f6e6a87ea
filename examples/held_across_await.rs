//! A blocking lock held across an `.await` that really suspends: a handler takes a
//! `lockdep::Mutex` (a blocking lock, std's or parking_lot's shape) and awaits a reply while
//! its guard is alive. Every task that takes that lock meanwhile blocks its worker thread, and
//! one on the same worker deadlocks it. Its twin drops the guard before the await and is
//! clean. Clippy's `await_holding_lock` flags this function as written (allowed here: the bug
//! is the point), but not a guard that a helper in another function returns, nor one held
//! across an await that never suspends; lockdep reports the await that really suspends.
//!
//! Run: `cargo run --features tokio --example held_across_await`

use std::sync::Arc;
use std::time::Duration;

use lockdep::Mutex;

/// Updates the cache with a value fetched while the cache is locked: the guard is held while
/// the task sleeps.
#[allow(clippy::await_holding_lock)] // the bug this example shows
async fn refresh_holding(cache: &Mutex<Vec<u32>>) {
    let mut entries = cache.lock();
    let value = fetch().await; // suspends with `cache` locked
    entries.push(value);
}

/// The twin: fetches first, then takes the lock for the update alone.
async fn refresh(cache: &Mutex<Vec<u32>>) {
    let value = fetch().await;
    cache.lock().push(value);
}

/// A reply that takes a while: the task suspends here.
async fn fetch() -> u32 {
    tokio::time::sleep(Duration::from_millis(5)).await;
    7
}

fn main() {
    lockdep::set_mode(lockdep::Mode::Collect);
    // One worker: the tasks take turns on it, as they do on a busy multi-thread runtime.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let (clean, held) = (
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(Vec::new())),
    );
    let stats = Arc::new(Mutex::new(0u32));

    // `spawn_local`: the guard of a blocking lock is not `Send`, and neither is a future that
    // holds it across an await.
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let twin = tokio::spawn({
            let (clean, stats) = (Arc::clone(&clean), Arc::clone(&stats));
            async move {
                refresh(&clean).await;
                *stats.lock() += 1;
            }
        });
        twin.await.unwrap();
        assert!(lockdep::violations().is_empty(), "the twin is clean");

        let slow = tokio::task::spawn_local({
            let held = Arc::clone(&held);
            async move { refresh_holding(&held).await }
        });
        // Another request runs on the thread while the first one sleeps.
        let other = tokio::spawn({
            let stats = Arc::clone(&stats);
            async move { *stats.lock() += 1 }
        });
        other.await.unwrap();
        slow.await.unwrap();
    });

    let violations = lockdep::take_violations();
    for v in &violations {
        println!("{v}");
    }
    assert!(
        violations
            .iter()
            .any(|v| v.kind() == lockdep::ViolationKind::HeldAcrossAwait),
        "the guard held across the sleep is reported"
    );
}
