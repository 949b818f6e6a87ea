//! Held sets per tokio task (feature `tokio`): a task's holds are its own, follow it across
//! workers, end wherever its guards are dropped; a blocking lock held while a task is
//! suspended is reported. The async locks here are `LockdepMap` holds, which is what an async
//! lock's guard is made of (`lockdep::tokio::sync` builds on the same hooks).
#![cfg(all(feature = "enabled", feature = "tokio"))]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lockdep::{ClassKind, Hold, LockdepMap, Mode, Mutex, ViolationKind};

mod common;
use common::{class, kinds};

/// An async lock of its own class, as far as the checker sees one.
fn async_lock(name: &str) -> Arc<LockdepMap> {
    Arc::new(LockdepMap::named(name, ClassKind::Lock))
}

/// Takes `lock` in the current task (or thread), as awaiting an async lock does.
fn take(lock: &LockdepMap) -> Hold {
    lock.acquire().acquired()
}

fn multi_thread(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .build()
        .unwrap()
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// Waits until the task runs on another worker than the one it runs on now: its worker is
/// kept busy by a task that spins (spawned from here, it runs next on this worker), and the
/// task is woken from a thread outside the runtime, so that an idle worker picks it up.
/// Whether it moved.
async fn move_to_another_worker() -> bool {
    let before = std::thread::current().id();
    for _ in 0..20 {
        tokio::spawn(async {
            let until = Instant::now() + Duration::from_millis(30);
            while Instant::now() < until {
                std::hint::spin_loop();
            }
        });
        let (wake, woken) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            let _ = wake.send(());
        });
        woken.await.unwrap();
        if std::thread::current().id() != before {
            return true;
        }
    }
    false
}

#[test]
fn an_abba_between_two_tasks_is_reported_also_when_they_move_between_workers() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (async_lock("task-abba-A"), async_lock("task-abba-B"));
    let rt = multi_thread(2);
    let moved = rt.block_on(async {
        let (a1, b1) = (a.clone(), b.clone());
        let first = tokio::spawn(async move {
            let _a = take(&a1);
            let moved = move_to_another_worker().await;
            let _b = take(&b1); // A → B, on another worker than A was taken on
            moved
        });
        let moved = first.await.unwrap();
        let (a2, b2) = (a.clone(), b.clone());
        tokio::spawn(async move {
            let _b = take(&b2);
            move_to_another_worker().await;
            let _a = take(&a2); // B → A closes the cycle
        })
        .await
        .unwrap();
        moved
    });
    assert!(moved, "the task never moved to another worker");
    assert_eq!(
        kinds("task-abba-A"),
        [ViolationKind::CircularDependency],
        "{}",
        lockdep::report()
    );
    assert!(kinds("task-abba-B").contains(&ViolationKind::CircularDependency));
}

#[test]
fn tasks_taking_turns_on_one_thread_do_not_share_their_holds() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (async_lock("task-turns-A"), async_lock("task-turns-B"));
    let rt = current_thread();
    rt.block_on(async {
        let (a1, b2) = (a.clone(), b.clone());
        let (holding, held) = tokio::sync::oneshot::channel::<()>();
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        // Task 1 holds A across an await; task 2 takes B on the same thread meanwhile: a
        // thread's held set would record A → B.
        let first = tokio::spawn(async move {
            let _a = take(&a1);
            holding.send(()).unwrap();
            finished.await.unwrap();
        });
        let second = tokio::spawn(async move {
            held.await.unwrap();
            drop(take(&b2));
            done.send(()).unwrap();
        });
        first.await.unwrap();
        second.await.unwrap();
        // B → A, in a task of its own: a cycle only with the invented A → B.
        let (a3, b3) = (a.clone(), b.clone());
        tokio::spawn(async move {
            let _b = take(&b3);
            let _a = take(&a3);
        })
        .await
        .unwrap();
    });
    assert_eq!(kinds("task-turns-A"), [], "{}", lockdep::report());
}

#[test]
fn units_of_a_counted_class_held_by_two_tasks_on_one_thread_are_not_recursion() {
    lockdep::set_mode(Mode::Collect);
    let permits = Arc::new(LockdepMap::named("task-permits-turns", ClassKind::Pool));
    let own = Arc::new(LockdepMap::named("task-permits-own", ClassKind::Pool));
    let rt = current_thread();
    rt.block_on(async {
        let (p1, p2) = (permits.clone(), permits.clone());
        let (holding, held) = tokio::sync::oneshot::channel::<()>();
        let first = tokio::spawn(async move {
            let _permit = p1.acquire().acquired();
            holding.send(()).unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        });
        let second = tokio::spawn(async move {
            held.await.unwrap();
            let _permit = p2.acquire().acquired(); // another task's: no recursion
        });
        first.await.unwrap();
        second.await.unwrap();
        // One task taking a second unit while it holds one is.
        let p3 = own.clone();
        tokio::spawn(async move {
            let _one = p3.acquire().acquired();
            let _two = p3.acquire().acquired();
        })
        .await
        .unwrap();
    });
    assert_eq!(kinds("task-permits-turns"), [], "{}", lockdep::report());
    assert_eq!(
        kinds("task-permits-own"),
        [ViolationKind::PoolRecursion],
        "{}",
        lockdep::report()
    );
}

#[test]
fn a_guard_dropped_by_another_task_ends_its_owners_hold() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (async_lock("task-handoff-A"), async_lock("task-handoff-B"));
    let rt = multi_thread(2);
    rt.block_on(async {
        let (a1, b1) = (a.clone(), b.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<Hold>();
        let dropper = tokio::spawn(async move {
            drop(rx.await.unwrap()); // ends the first task's hold of A
        });
        tokio::spawn(async move {
            let held = take(&a1);
            tx.send(held)
                .unwrap_or_else(|_| panic!("the dropper is gone"));
            dropper.await.unwrap();
            drop(take(&b1)); // A is no longer held here: no A → B
        })
        .await
        .unwrap();
        let (a2, b2) = (a.clone(), b.clone());
        tokio::spawn(async move {
            let _b = take(&b2);
            let _a = take(&a2);
        })
        .await
        .unwrap();
    });
    assert_eq!(kinds("task-handoff-A"), [], "{}", lockdep::report());
}

#[test]
#[allow(clippy::await_holding_lock)] // what the checker must find at run time
fn a_blocking_lock_held_across_an_await_is_reported() {
    lockdep::set_mode(Mode::Collect);
    let m = Arc::new(Mutex::with_class((), class("task-await-held")));
    let other = Arc::new(Mutex::with_class((), class("task-await-other")));
    let rt = current_thread();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let m1 = m.clone();
        let first = tokio::task::spawn_local(async move {
            let _guard = m1.lock();
            tokio::task::yield_now().await; // suspends holding `m`
        });
        let other1 = other.clone();
        let second = tokio::task::spawn_local(async move {
            drop(other1.lock()); // runs while the first task is suspended
        });
        first.await.unwrap();
        second.await.unwrap();
    });
    let found: Vec<_> = lockdep::violations()
        .into_iter()
        .filter(|v| v.involves("task-await-held"))
        .collect();
    assert_eq!(found.len(), 1, "{}", lockdep::report());
    let v = &found[0];
    assert_eq!(v.kind(), ViolationKind::HeldAcrossAwait);
    assert!(!v.involves("task-await-other"));
    let text = v.to_string();
    assert!(
        text.contains("WARNING: blocking lock held across an await"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "suspended while holding a blocking lock:\n  (task-await-held), at: {}:",
            file!()
        )),
        "{text}"
    );
    assert!(v.to_json().contains("\"kind\":\"held_across_await\""));
}

#[test]
fn a_blocking_lock_released_before_the_await_is_not_reported() {
    lockdep::set_mode(Mode::Collect);
    let m = Arc::new(Mutex::with_class((), class("task-await-released")));
    let rt = current_thread();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let m1 = m.clone();
        let first = tokio::task::spawn_local(async move {
            drop(m1.lock());
            tokio::task::yield_now().await;
            drop(m1.lock());
        });
        let m2 = m.clone();
        let second = tokio::task::spawn_local(async move {
            drop(m2.lock());
        });
        first.await.unwrap();
        second.await.unwrap();
    });
    assert_eq!(kinds("task-await-released"), [], "{}", lockdep::report());
}

#[test]
fn an_async_lock_and_a_blocking_one_are_one_graph() {
    lockdep::set_mode(Mode::Collect);
    let a = async_lock("task-mixed-async");
    let b = Arc::new(Mutex::with_class((), class("task-mixed-blocking")));
    let rt = multi_thread(2);
    let (a1, b1) = (a.clone(), b.clone());
    rt.block_on(async move {
        tokio::spawn(async move {
            let _a = take(&a1);
            drop(b1.lock()); // async A → blocking B, in a task
        })
        .await
        .unwrap();
    });
    // A plain thread holding B waits for A: B → A.
    let _b = b.lock();
    drop(take(&a));
    assert_eq!(
        kinds("task-mixed-async"),
        [ViolationKind::CircularDependency],
        "{}",
        lockdep::report()
    );
}

#[test]
fn a_report_made_in_a_task_names_the_task() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (async_lock("task-named-A"), async_lock("task-named-B"));
    let rt = current_thread();
    let id = rt.block_on(async move {
        tokio::spawn(async move {
            drop((take(&a), take(&b)));
            let _b = take(&b);
            let _a = take(&a);
            tokio::task::id()
        })
        .await
        .unwrap()
    });
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("task-named-A"))
        .expect("reported");
    assert!(
        v.thread().starts_with(&format!("task {id} on ")),
        "{}",
        v.thread()
    );
    assert!(v.to_string().contains(&format!("task {id} on ")));
}

#[test]
fn thousands_of_tasks_holding_at_once_keep_their_holds_apart() {
    lockdep::set_mode(Mode::Collect);
    let locks: Vec<Arc<LockdepMap>> = (0..3)
        .map(|i| async_lock(&format!("task-many-{i}")))
        .collect();
    let rt = multi_thread(2);
    rt.block_on(async {
        let barrier = Arc::new(tokio::sync::Barrier::new(3000));
        let tasks: Vec<_> = (0..3000)
            .map(|n| {
                let (barrier, locks) = (barrier.clone(), locks.clone());
                tokio::spawn(async move {
                    // Every task holds one lock while all of them wait: more tasks hold
                    // something at once than the table of contexts has slots.
                    let _held = take(&locks[n % 3]);
                    barrier.wait().await;
                    // Then each takes the next lock: 0 → 1 and 1 → 2, no cycle. Held sets
                    // mixed up between tasks (per worker, or a context given to two tasks)
                    // would add 2 → 0 and the like.
                    if n % 3 < 2 {
                        drop(take(&locks[n % 3 + 1]));
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    for i in 0..3 {
        assert_eq!(
            kinds(&format!("task-many-{i}")),
            [],
            "{}",
            lockdep::report()
        );
    }
}
