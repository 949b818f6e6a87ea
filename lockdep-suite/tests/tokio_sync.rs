//! `lockdep::tokio::sync`, the tokio-shaped drop-in (issue 23): one tokio program, written
//! once (`tokio_probe/program.rs`), compiles against `tokio::sync` and against
//! `lockdep::tokio::sync` and observes the same things, auto traits included; with the
//! `enabled` feature the locks and semaphores are checked, in one graph with the blocking
//! locks; without it the types are tokio's own.

use std::marker::PhantomData;

#[cfg(feature = "enabled")]
mod common;

/// A type under test for the auto traits: `Probe::<T>::send()` is true when `T: Send` (an
/// inherent method, chosen over the trait's default when its bound holds).
pub struct Probe<T: ?Sized>(PhantomData<T>);

/// The answers for a type that lacks the trait.
pub trait Lacks {
    fn send(&self) -> bool {
        false
    }
    fn sync(&self) -> bool {
        false
    }
    fn unpin(&self) -> bool {
        false
    }
    fn unwind_safe(&self) -> bool {
        false
    }
    fn ref_unwind_safe(&self) -> bool {
        false
    }
}

impl<T: ?Sized> Lacks for Probe<T> {}

impl<T: ?Sized + Send> Probe<T> {
    pub fn send(&self) -> bool {
        true
    }
}
impl<T: ?Sized + Sync> Probe<T> {
    pub fn sync(&self) -> bool {
        true
    }
}
impl<T: ?Sized + Unpin> Probe<T> {
    pub fn unpin(&self) -> bool {
        true
    }
}
impl<T: ?Sized + std::panic::UnwindSafe> Probe<T> {
    pub fn unwind_safe(&self) -> bool {
        true
    }
}
impl<T: ?Sized + std::panic::RefUnwindSafe> Probe<T> {
    pub fn ref_unwind_safe(&self) -> bool {
        true
    }
}

/// The probe of `value`'s type.
pub fn probe<T>(_value: &T) -> Probe<T> {
    Probe(PhantomData)
}

/// The auto traits that the type probed by `$probe` has, as a list of names.
macro_rules! traits_of_probe {
    ($probe:expr) => {{
        #[allow(unused_imports)]
        use crate::Lacks as _;
        let p = $probe;
        let names = [
            (p.send(), "Send"),
            (p.sync(), "Sync"),
            (p.unpin(), "Unpin"),
            (p.unwind_safe(), "UnwindSafe"),
            (p.ref_unwind_safe(), "RefUnwindSafe"),
        ];
        let has: Vec<&str> = names
            .iter()
            .filter(|(has, _)| *has)
            .map(|(_, n)| *n)
            .collect();
        format!("[{}]", has.join(" "))
    }};
}

/// The auto traits of a type.
macro_rules! traits {
    ($ty:ty) => {
        traits_of_probe!(crate::Probe::<$ty>(PhantomData))
    };
}

/// The auto traits of a value's type (a future's).
macro_rules! traits_of {
    ($value:expr) => {{
        let value = $value;
        traits_of_probe!(crate::probe(&value))
    }};
}

/// The program against `tokio::sync`.
mod with_tokio {
    use std::marker::PhantomData;
    use tokio::sync as ts;
    include!("tokio_probe/program.rs");
}

/// The same program against `lockdep::tokio::sync`.
mod with_lockdep {
    use lockdep::tokio::sync as ts;
    use std::marker::PhantomData;
    include!("tokio_probe/program.rs");
}

#[test]
fn every_signature_is_tokio_s() {
    assert_eq!(with_lockdep::signatures(), with_tokio::signatures());
    assert!(with_lockdep::signatures() > 50);
}

#[test]
fn a_tokio_program_behaves_the_same_with_the_import_swapped() {
    let mutex = (with_tokio::mutex(), with_lockdep::mutex());
    assert_eq!(mutex.1, mutex.0);
    // The reference is tokio; some observations spelled out, so that a change of both is
    // seen too.
    assert_eq!(mutex.1[0], "blocking 11 11");
    assert_eq!(mutex.1[1], "Mutex { data: [100, 97] }");
    assert_eq!(mutex.1[2], "Mutex { data: <locked> } [100, 97, 33]");
    assert_eq!(mutex.1[3], "operation would block TryLockError(())");
    assert_eq!(mutex.1[4], "mapped 68 68");

    let rwlock = (with_tokio::rwlock(), with_lockdep::rwlock());
    assert_eq!(rwlock.1, rwlock.0);
    assert_eq!(rwlock.1[0], "blocking 2");
    assert_eq!(rwlock.1[1], "RwLock { data: (1, 2) } (1, 2) 1");

    let semaphore = (with_tokio::semaphore(), with_lockdep::semaphore());
    assert_eq!(semaphore.1, semaphore.0);
    assert_eq!(
        semaphore.1[1],
        "Semaphore { ll_sem: Semaphore { permits: 5 } }"
    );

    let rest = (with_tokio::the_rest(), with_lockdep::the_rest());
    assert_eq!(rest.1, rest.0);
    assert_eq!(rest.1[0], "mpsc Some(1)");
}

#[test]
fn auto_traits_are_tokio_s() {
    let (tokio, ours) = (with_tokio::auto_traits(), with_lockdep::auto_traits());
    for (tokio, ours) in tokio.iter().zip(&ours) {
        assert_eq!(ours, tokio);
    }
    assert_eq!(ours.len(), tokio.len());
    // Spelled out: what a guard held across an `.await` needs, and what tokio's are not.
    assert!(ours[0].starts_with("u8: Mutex [Send Sync Unpin] MutexGuard [Send Sync Unpin]"));
    let cell = "Cell::new(0u8): lock [Send Sync] lock_owned [Send Sync] read [] write []";
    assert!(ours.iter().any(|row| row.starts_with(cell)), "{ours:#?}");
}

/// The static assertions of the brief: a lock is `Send + Sync` when its data is `Send`, and
/// what a task holds across an `.await` (a guard, a permit, the future of an acquisition
/// that validated at its first poll) is `Send`.
#[test]
fn what_a_task_holds_across_an_await_is_send() {
    use lockdep::tokio::sync::*;
    use std::cell::Cell;
    use std::sync::Arc;
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    fn send_value<T: Send + Sync>(_: &T) {}
    send_sync::<Mutex<Cell<u8>>>();
    send_sync::<RwLock<u8>>();
    send_sync::<Semaphore>();
    send::<MutexGuard<'static, Cell<u8>>>();
    send::<OwnedMutexGuard<Cell<u8>>>();
    send_sync::<MappedMutexGuard<'static, u8>>();
    send_sync::<RwLockReadGuard<'static, u8>>();
    send_sync::<RwLockWriteGuard<'static, u8>>();
    send_sync::<OwnedRwLockWriteGuard<u8>>();
    send_sync::<SemaphorePermit<'static>>();
    send_sync::<OwnedSemaphorePermit>();
    let (mutex, rwlock) = (Arc::new(Mutex::new(0u8)), Arc::new(RwLock::new(0u8)));
    let semaphore = Arc::new(Semaphore::new(1));
    send_value(&mutex.lock());
    send_value(&mutex.clone().lock_owned());
    send_value(&rwlock.read());
    send_value(&rwlock.clone().write_owned());
    send_value(&semaphore.acquire());
    send_value(&semaphore.clone().acquire_many_owned(1));
    // A task that holds each across an await is spawnable on a multi-thread runtime.
    let task = async move {
        let guard = mutex.lock().await;
        let read = rwlock.read().await;
        let permit = semaphore.acquire().await.unwrap();
        tokio::task::yield_now().await;
        drop((guard, read, permit));
    };
    send_value(&task);
}

/// Without the checker, `lockdep::tokio::sync` is `tokio::sync`.
#[cfg(not(feature = "enabled"))]
#[test]
fn without_the_checker_the_types_are_tokio_s() {
    use std::any::TypeId;
    assert_eq!(
        TypeId::of::<lockdep::tokio::sync::Mutex<u8>>(),
        TypeId::of::<tokio::sync::Mutex<u8>>()
    );
    assert_eq!(
        TypeId::of::<lockdep::tokio::sync::OwnedRwLockWriteGuard<u8>>(),
        TypeId::of::<tokio::sync::OwnedRwLockWriteGuard<u8>>()
    );
    assert_eq!(
        TypeId::of::<lockdep::tokio::sync::SemaphorePermit<'static>>(),
        TypeId::of::<tokio::sync::SemaphorePermit<'static>>()
    );
    assert_eq!(
        TypeId::of::<lockdep::tokio::sync::mpsc::Sender<u8>>(),
        TypeId::of::<tokio::sync::mpsc::Sender<u8>>()
    );
}

/// With the checker: classes, dependencies and reports, across tasks and threads.
///
/// Until held sets are per task, they are per thread: every test here takes a task's locks
/// in one poll (uncontended), or runs its tasks on a current-thread runtime where no other
/// task runs between them, so that it means the same under either. The tests that only
/// per-task held sets make pass are `#[ignore]`d with that reason.
#[cfg(feature = "enabled")]
mod checked {
    use lockdep::tokio::sync::{Mutex, RwLock, Semaphore};
    use lockdep::{Mode, ViolationKind};
    use std::future::Future;
    use std::panic::Location;
    use std::sync::Arc;

    /// The name of the creation-site class of an object made by the caller.
    #[track_caller]
    fn here() -> String {
        let at = Location::caller();
        format!("{}:{}:{}", at.file(), at.line(), at.column())
    }

    /// A tokio-shaped mutex of a class of its own (this call's site), and its name.
    #[track_caller]
    fn mutex() -> (Arc<Mutex<u32>>, String) {
        (Arc::new(Mutex::new(0)), here())
    }

    /// A tokio-shaped reader-writer lock of a class of its own, and its name.
    #[track_caller]
    fn rwlock() -> (Arc<RwLock<u32>>, String) {
        (Arc::new(RwLock::new(0)), here())
    }

    /// A blocking (parking_lot-shaped) mutex of a class of its own, and its name.
    #[track_caller]
    fn blocking_mutex() -> (Arc<lockdep::Mutex<u32>>, String) {
        (Arc::new(lockdep::Mutex::new(0)), here())
    }

    /// A semaphore of a class of its own, and its name.
    #[track_caller]
    fn semaphore(permits: usize) -> (Arc<Semaphore>, String) {
        (Arc::new(Semaphore::new(permits)), here())
    }

    /// Kinds of the recorded violations that involve all of `names`.
    fn kinds(names: &[&str]) -> Vec<ViolationKind> {
        lockdep::violations()
            .iter()
            .filter(|v| names.iter().all(|n| v.involves(n)))
            .map(|v| v.kind())
            .collect()
    }

    /// Runs `f` on a current-thread runtime (tasks interleave only at awaits that wait).
    fn current_thread<F: Future>(f: F) -> F::Output {
        lockdep::set_mode(Mode::Collect);
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// Runs `f` on a multi-thread runtime of two workers.
    fn multi_thread<F: Future>(f: F) -> F::Output {
        lockdep::set_mode(Mode::Collect);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn abba_between_two_tasks_on_a_multi_thread_runtime_is_a_circular_dependency() {
        let ((a, an), (b, bn)) = (mutex(), mutex());
        multi_thread(async {
            let (a1, b1) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let _a = a1.lock().await;
                let _b = b1.lock().await; // a → b
            })
            .await
            .unwrap();
            assert!(kinds(&[&an, &bn]).is_empty());
            tokio::spawn(async move {
                let _b = b.lock().await;
                let _a = a.lock().await; // b → a: reported, without any deadlock
            })
            .await
            .unwrap();
        });
        assert_eq!(kinds(&[&an, &bn]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn abba_through_reads_is_reported() {
        let ((a, an), (b, bn)) = (rwlock(), rwlock());
        multi_thread(async {
            let (a1, b1) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let _a = a1.read().await;
                let _b = b1.write().await; // a (read) → b
            })
            .await
            .unwrap();
            assert!(kinds(&[&an, &bn]).is_empty());
            tokio::spawn(async move {
                let _b = b.read().await;
                let _a = a.write().await; // b (read) → a: a read waits for a writer
            })
            .await
            .unwrap();
        });
        assert_eq!(kinds(&[&an, &bn]), [ViolationKind::CircularDependency]);
    }

    /// Owned guards and permits are made to be moved (into a spawned task above all), which
    /// is not seen: they are validated, and held by nobody.
    #[test]
    fn owned_guards_are_validated_and_held_by_nobody() {
        let ((a, an), (b, bn)) = (rwlock(), rwlock());
        multi_thread(async {
            let (a1, b1) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let _a = a1.read_owned().await;
                let _b = b1.write_owned().await; // not a → b: `_a` may be anyone's by now
            })
            .await
            .unwrap();
            let (a2, b2) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let _b = b2.read().await;
                let _a = a2.write().await; // b → a: validated, no cycle
            })
            .await
            .unwrap();
            tokio::spawn(async move {
                let _a = a.write().await;
                let _b = b.clone().read_owned().await; // a → b validated: the cycle closes
            })
            .await
            .unwrap();
        });
        assert_eq!(kinds(&[&an, &bn]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn a_read_of_a_lock_the_task_reads_is_reported() {
        // tokio's lock is fair: a writer waiting between the two reads deadlocks them.
        let (lock, name) = rwlock();
        current_thread(async {
            let _first = lock.read().await;
            let _second = lock.read().await;
        });
        assert_eq!(kinds(&[&name]), [ViolationKind::SameLockTwice]);
    }

    #[test]
    fn a_permit_awaited_while_holding_one_is_pool_recursion() {
        let (sem, name) = semaphore(2);
        current_thread(async {
            let _first = sem.acquire().await.unwrap();
            let _second = sem.acquire().await.unwrap(); // free now; not when all are held so
        });
        assert_eq!(kinds(&[&name]), [ViolationKind::PoolRecursion]);
    }

    #[test]
    fn a_cycle_through_a_semaphore_and_a_lock_is_a_circular_dependency() {
        let ((sem, sn), (lock, ln)) = (semaphore(1), mutex());
        multi_thread(async {
            let (sem1, lock1) = (sem.clone(), lock.clone());
            tokio::spawn(async move {
                let _permit = sem1.acquire().await.unwrap();
                let _guard = lock1.lock().await; // sem → lock
            })
            .await
            .unwrap();
            tokio::spawn(async move {
                let _guard = lock.lock().await;
                let _permit = sem.acquire().await.unwrap(); // lock → sem
            })
            .await
            .unwrap();
        });
        assert_eq!(kinds(&[&sn, &ln]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn a_try_never_reports_and_what_it_takes_is_held() {
        let ((a, an), (b, bn), (c, cn)) = (mutex(), mutex(), mutex());
        let (sem, sn) = semaphore(2);
        let (rw, rn) = rwlock();
        current_thread(async {
            drop((a.lock().await, b.lock().await)); // a → b
            drop((rw.read().await, b.lock().await)); // rw → b
            {
                let _b = b.lock().await;
                let _a = a.try_lock().unwrap(); // b then a, but a try cannot wait
                let _rw = rw.try_write().unwrap();
                let _permit = sem.acquire().await.unwrap(); // b → sem
                let _again = sem.try_acquire().unwrap(); // a try: no pool recursion
                let _more = sem.clone().try_acquire_many_owned(0).unwrap();
            }
            assert!(kinds(&[&an]).is_empty() && kinds(&[&rn]).is_empty());
            assert!(kinds(&[&sn]).is_empty());
            {
                let _a = a.try_lock().unwrap();
                let _c = c.lock().await; // a (held by a try) → c
            }
        });
        assert!(kinds(&[&an, &bn]).is_empty());
        std::thread::scope(|s| {
            s.spawn(|| {
                let _c = c.blocking_lock();
                let _a = a.blocking_lock(); // c → a closes a → c
            });
        });
        assert_eq!(kinds(&[&an, &cn]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn a_task_and_a_thread_close_a_cycle_through_a_blocking_lock() {
        let ((a, an), (b, bn)) = (mutex(), blocking_mutex());
        multi_thread(async {
            let (a, b) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let _a = a.lock().await;
                let _b = b.lock(); // a task holding A takes the blocking B: a → b
            })
            .await
            .unwrap();
        });
        assert!(kinds(&[&an, &bn]).is_empty());
        std::thread::spawn(move || {
            let _b = b.lock();
            let _a = a.blocking_lock(); // a plain thread holding B: b → a
        })
        .join()
        .unwrap();
        assert_eq!(kinds(&[&an, &bn]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn guards_and_permits_end_their_holds_on_another_task_or_thread() {
        let ((a, an), (b, bn)) = (mutex(), mutex());
        let (sem, sn) = semaphore(1);
        current_thread(async {
            let guard = a.clone().lock_owned().await;
            let permit = sem.clone().acquire_owned().await.unwrap();
            std::thread::spawn(move || drop((guard, permit)))
                .join()
                .unwrap();
            tokio::spawn(async {}).await.unwrap();
            // Neither is held here any more: no a → b, no sem → b, and no pool recursion.
            let _b = b.lock().await;
            let _permit = sem.acquire().await.unwrap();
        });
        std::thread::scope(|s| {
            s.spawn(|| {
                let _b = b.blocking_lock();
                let _a = a.blocking_lock();
                let _permit = sem.blocking_acquire().unwrap();
            });
        });
        assert!(kinds(&[&an]).is_empty() && kinds(&[&bn]).is_empty());
        assert!(kinds(&[&sn]).is_empty());
    }

    #[test]
    fn merged_and_split_permits_keep_one_hold_per_group() {
        let (sem, name) = semaphore(4);
        current_thread(async {
            let mut group = sem.acquire_many(2).await.unwrap();
            let split = group.split(1).unwrap();
            group.merge(split);
            let all = group.split(2).unwrap(); // takes the group's hold
            drop(group); // no permits, no hold
            all.forget(); // ends the hold
            let _permit = sem.acquire().await.unwrap(); // nothing held: no recursion
        });
        assert!(kinds(&[&name]).is_empty());
        current_thread(async {
            let mut group = sem.try_acquire_many(2).unwrap();
            let split = group.split(1).unwrap();
            drop(group); // the split-off permit is still held
            let _permit = sem.acquire().await.unwrap();
            drop(split);
        });
        assert_eq!(kinds(&[&name]), [ViolationKind::PoolRecursion]);
    }

    #[test]
    fn a_downgraded_write_is_held_as_a_read() {
        let (lock, name) = rwlock();
        current_thread(async {
            let read = lock.write().await.downgrade();
            let _again = lock.read().await; // a read on a read hold (not on a write hold)
            drop(read);
        });
        let found: Vec<_> = lockdep::violations()
            .into_iter()
            .filter(|v| v.involves(&name))
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind(), ViolationKind::SameLockTwice);
        // Held (and reported) as a read: as a write, it would say `"access":"write"`.
        let json = found[0].to_json();
        assert!(json.contains("\"holding\":{"), "{json}");
        assert!(!json.contains("\"access\":\"write\""), "{json}");
    }

    #[test]
    fn a_cancelled_acquisition_was_validated_and_holds_nothing() {
        let ((a, an), (b, bn), (c, cn)) = (mutex(), mutex(), mutex());
        current_thread(async {
            // b is locked by a plain thread, so that the acquisition below waits.
            let (locked_tx, locked) = std::sync::mpsc::channel();
            let (release, release_rx) = std::sync::mpsc::channel::<()>();
            let b1 = b.clone();
            let holder = std::thread::spawn(move || {
                let _b = b1.blocking_lock();
                locked_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            });
            locked.recv().unwrap();
            let held = a.lock().await;
            let mut waiting = tokio_test::task::spawn(b.lock());
            assert!(waiting.poll().is_pending()); // validated (a → b), then waits
            drop(waiting); // cancelled
            release.send(()).unwrap();
            holder.join().unwrap();
            drop(held);
            let _c = c.lock().await; // b is not held here: no b → c
        });
        std::thread::scope(|s| {
            s.spawn(|| {
                let _c = c.blocking_lock();
                let _b = b.blocking_lock(); // c → b: no cycle
                drop(_b);
                let _b = b.blocking_lock();
                let _a = a.blocking_lock(); // b → a closes the validated a → b
            });
        });
        assert!(kinds(&[&bn, &cn]).is_empty());
        assert_eq!(kinds(&[&an, &bn]), [ViolationKind::CircularDependency]);
    }

    /// Held sets per task: a task holding a lock across an `.await` in which another task
    /// runs on the same thread lends that task nothing.
    #[test]
    fn tasks_interleaved_on_one_thread_lend_each_other_nothing() {
        let ((a, an), (b, bn)) = (mutex(), mutex());
        current_thread(async {
            let (to_y, at_y) = tokio::sync::oneshot::channel::<()>();
            let (to_x, at_x) = tokio::sync::oneshot::channel::<()>();
            let a1 = a.clone();
            let x = tokio::spawn(async move {
                let _a = a1.lock().await;
                to_y.send(()).unwrap();
                at_x.await.unwrap(); // Y runs while X holds a
            });
            let b1 = b.clone();
            let y = tokio::spawn(async move {
                at_y.await.unwrap();
                let _b = b1.lock().await; // Y holds nothing: no a → b
                to_x.send(()).unwrap();
            });
            x.await.unwrap();
            y.await.unwrap();
        });
        std::thread::scope(|s| {
            s.spawn(|| {
                let _b = b.blocking_lock();
                let _a = a.blocking_lock(); // b → a, with no a → b: nothing to report
            });
        });
        assert!(kinds(&[&an, &bn]).is_empty());
    }

    /// Held sets per task: a task's holds follow it to another worker.
    #[test]
    fn a_hold_follows_its_task_to_another_worker() {
        let ((a, an), (b, bn)) = (mutex(), mutex());
        multi_thread(async {
            let (a1, b1) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let _a = a1.lock().await;
                for _ in 0..16 {
                    tokio::task::yield_now().await; // may resume on the other worker
                }
                let _b = b1.lock().await; // a → b, wherever it runs now
            })
            .await
            .unwrap();
            tokio::spawn(async move {
                let _b = b.lock().await;
                let _a = a.lock().await;
            })
            .await
            .unwrap();
        });
        assert_eq!(kinds(&[&an, &bn]), [ViolationKind::CircularDependency]);
    }

    /// A permit handed to a task the acquirer spawns is the spawned task's (tokio's own
    /// example of `acquire_owned`): the acquirer awaiting the next one is no pool recursion.
    #[test]
    fn a_permit_handed_to_a_spawned_task_is_not_the_spawner_s() {
        let (sem, name) = semaphore(2);
        current_thread(async {
            let mut tasks = Vec::new();
            for _ in 0..4 {
                let permit = sem.clone().acquire_owned().await.unwrap();
                tasks.push(tokio::spawn(async move { drop(permit) }));
            }
            for task in tasks {
                task.await.unwrap();
            }
        });
        assert!(kinds(&[&name]).is_empty());
    }

    /// A thread that took a lock whose guard another thread dropped holds nothing when it
    /// exits, even if it never validated again after the drop.
    #[test]
    fn a_guard_released_elsewhere_is_not_held_at_the_taker_s_exit() {
        let (lock, name) = mutex();
        let (sent, received) = std::sync::mpsc::channel();
        let (dropped, wait_for_drop) = std::sync::mpsc::channel();
        let taker = std::thread::spawn({
            let lock = lock.clone();
            move || {
                sent.send(lock.blocking_lock_owned()).unwrap();
                wait_for_drop.recv().unwrap(); // exits after the drop, without validating
            }
        });
        drop(received.recv().unwrap());
        dropped.send(()).unwrap();
        taker.join().unwrap();
        assert!(kinds(&[&name]).is_empty());
    }

    /// Run as a child in mode `panic` by the test below (does nothing without
    /// `TEST_LOCKDEP_CHILD`): an uncontended acquisition whose validation panics gives back
    /// what it took, so that the lock is not left taken by nobody.
    #[test]
    fn child_a_validation_that_panics_gives_the_lock_back() {
        if std::env::var_os("TEST_LOCKDEP_CHILD").is_none() {
            return;
        }
        let ((a, _), (b, _), (r, _), (s, _)) = (mutex(), mutex(), rwlock(), semaphore(2));
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async {
                lockdep::set_mode(Mode::Panic);
                drop((a.lock().await, b.lock().await, r.write().await)); // a → b → r
                let (a1, b1, r1, s1) = (a.clone(), b.clone(), r.clone(), s.clone());
                let panics = [
                    tokio::spawn(async move { drop((b1.lock().await, a1.lock().await)) }),
                    tokio::spawn(async move { drop((r1.read().await, a.lock().await)) }),
                    tokio::spawn(async move { drop((s1.acquire().await, s1.acquire().await)) }),
                ];
                for task in panics {
                    assert!(task.await.unwrap_err().is_panic());
                }
                assert!(b.try_lock().is_ok() && r.try_write().is_ok());
                assert_eq!(s.available_permits(), 2);
            });
        println!("given back");
    }

    #[test]
    fn a_validation_that_panics_gives_the_lock_back() {
        let out =
            crate::common::child("checked::child_a_validation_that_panics_gives_the_lock_back")
                .env("TEST_LOCKDEP_CHILD", "1")
                .output()
                .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("given back"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
