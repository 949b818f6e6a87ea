//! `lockdep::sync`, the std-shaped drop-in: the same std programs compile against
//! `std::sync` and `lockdep::sync` (each program below is instantiated twice, once per
//! import, and both must give the same observations), poisoning is std's, and, with the
//! `enabled` feature, the locks are checked and `Once`/`OnceLock`/`LazyLock` are classes.

/// Instantiates a program, written once against `$sync` (`std::sync` or `lockdep::sync`),
/// as module `$name`.
macro_rules! std_program {
    ($name:ident, $($sync:ident)::+) => {
        mod $name {
            use $($sync)::+::{
                mpsc, Arc, Condvar, LazyLock, Mutex, Once, OnceLock, PoisonError, RwLock,
                TryLockError,
            };
            use std::time::Duration;

            static GREETING: LazyLock<String> = LazyLock::new(|| "hello".to_owned());
            static INIT: Once = Once::new();
            static BASE: OnceLock<u32> = OnceLock::new();

            /// A realistic std program: workers add to a counter under a mutex, the main
            /// thread waits on a condition variable, a writer panics and poisons a lock.
            pub fn workers() -> Vec<String> {
                let shared = Arc::new((Mutex::new(0u32), Condvar::new()));
                let (tx, rx) = mpsc::channel();
                let workers: Vec<_> = (0..4)
                    .map(|i| {
                        let (shared, tx) = (Arc::clone(&shared), tx.clone());
                        std::thread::spawn(move || {
                            INIT.call_once(|| {});
                            let (lock, cvar) = &*shared;
                            *lock.lock().unwrap() += *BASE.get_or_init(|| 10) + i;
                            cvar.notify_all();
                            tx.send(GREETING.len()).unwrap();
                        })
                    })
                    .collect();
                drop(tx);
                let (lock, cvar) = &*shared;
                let total = cvar.wait_while(lock.lock().unwrap(), |n| *n < 46).unwrap();
                let busy = matches!(lock.try_lock(), Err(TryLockError::WouldBlock));
                let (total, _spurious) = cvar.wait_timeout(total, Duration::from_millis(1)).unwrap();
                let sum = *total;
                drop(total);
                workers.into_iter().for_each(|w| w.join().unwrap());

                let table = Arc::new(RwLock::new(vec![1]));
                let writer = Arc::clone(&table);
                let _ = std::thread::spawn(move || {
                    writer.write().unwrap().push(2);
                    let _w = writer.write().unwrap();
                    panic!("the writer dies holding the lock");
                })
                .join();
                let len = table.read().unwrap_or_else(PoisonError::into_inner).len();
                vec![
                    format!("sum={sum} busy={busy} sent={}", rx.iter().sum::<usize>()),
                    format!("{lock:?} {BASE:?} {:?} {}", *GREETING, INIT.is_completed()),
                    format!("len={len} poisoned={}", table.is_poisoned()),
                ]
            }

            /// Poisoning, step by step, as observations.
            pub fn poisoning() -> Vec<String> {
                let mut seen = Vec::new();
                let mutex = Arc::new(Mutex::new(1));
                let m = Arc::clone(&mutex);
                let _ = std::thread::spawn(move || {
                    let mut g = m.lock().unwrap();
                    *g = 2;
                    panic!("poisons the mutex");
                })
                .join();
                seen.push(format!("{} {mutex:?}", mutex.is_poisoned()));
                let err = mutex.lock().unwrap_err();
                seen.push(format!("{err} {err:?} value={}", **err.get_ref()));
                let mut guard = err.into_inner();
                *guard = 3;
                drop(guard);
                seen.push(format!("try={:?}", mutex.try_lock().map(|g| *g).map_err(|e| e.to_string())));
                let cvar = Condvar::new();
                let waited = cvar.wait_timeout(mutex.lock().unwrap_or_else(PoisonError::into_inner), Duration::ZERO);
                seen.push(format!("wait is_err={}", waited.is_err()));
                drop(waited);
                mutex.clear_poison();
                seen.push(format!("{} {:?}", mutex.is_poisoned(), *mutex.lock().unwrap()));

                // A read guard dropped in a panic does not poison; a write guard does.
                let rw = RwLock::new(5);
                let _ = std::panic::catch_unwind(|| {
                    let _r = rw.read().unwrap();
                    panic!("a reader dies");
                });
                seen.push(format!("after reader: {}", rw.is_poisoned()));
                let _ = std::panic::catch_unwind(|| {
                    let _w = rw.write().unwrap();
                    panic!("a writer dies");
                });
                seen.push(format!("after writer: {} {rw:?}", rw.is_poisoned()));
                seen.push(format!("{:?}", rw.try_write().map(|g| *g).map_err(|e| e.to_string())));
                let mut rw = rw;
                seen.push(format!("{:?}", rw.get_mut().map(|v| *v).map_err(|e| **e.get_ref())));
                seen.push(format!("{:?}", rw.into_inner().map_err(PoisonError::into_inner)));
                let mut m = Mutex::new(7);
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let _g = m.lock().unwrap();
                    panic!("poisons m");
                }));
                seen.push(format!("{:?}", m.get_mut().map(|v| *v).map_err(|e| **e.get_ref())));
                seen.push(format!("{:?}", m.into_inner().map_err(PoisonError::into_inner)));

                // A guard taken while already panicking does not poison when dropped.
                let calm = Mutex::new(0);
                let _ = std::panic::catch_unwind(|| {
                    struct LockOnUnwind<'a>(&'a Mutex<i32>);
                    impl Drop for LockOnUnwind<'_> {
                        fn drop(&mut self) {
                            *self.0.lock().unwrap() += 1;
                        }
                    }
                    let _on_unwind = LockOnUnwind(&calm);
                    panic!("unwinding takes the lock");
                });
                seen.push(format!("taken while panicking: {calm:?}"));

                // Once, OnceLock, LazyLock after a panicking initializer.
                let once = Once::new();
                let _ = std::panic::catch_unwind(|| once.call_once(|| panic!("poisons once")));
                let again = std::panic::catch_unwind(|| once.call_once(|| {})).is_err();
                let mut forced = false;
                once.call_once_force(|state| forced = state.is_poisoned());
                seen.push(format!("once: again_panics={again} forced={forced} {}", once.is_completed()));
                let cell = OnceLock::new();
                let _ = std::panic::catch_unwind(|| cell.get_or_init(|| -> u8 { panic!("no value") }));
                let empty = format!("{cell:?}");
                seen.push(format!("cell: {empty} {:?} {:?} {cell:?}", cell.set(1), cell.set(2)));
                let lazy = LazyLock::new(|| -> u8 { panic!("no value") });
                let first = std::panic::catch_unwind(|| *lazy).is_err();
                let second = std::panic::catch_unwind(|| *lazy)
                    .map_err(|e| e.downcast_ref::<&str>().map(|s| s.to_string()));
                seen.push(format!("lazy: {first} {second:?}"));
                seen
            }
        }
    };
}

std_program!(with_std, std::sync);
std_program!(with_lockdep, lockdep::sync);

#[test]
fn a_std_program_compiles_and_behaves_the_same_with_the_import_swapped() {
    let (std, ours) = (with_std::workers(), with_lockdep::workers());
    assert_eq!(ours, std);
    assert_eq!(ours[0], "sum=46 busy=true sent=20");
    assert_eq!(
        ours[1],
        "Mutex { data: 46, poisoned: false, .. } OnceLock(10) \"hello\" true"
    );
    assert_eq!(ours[2], "len=2 poisoned=true");
}

#[test]
fn a_named_lock_builds_and_works_in_either_build() {
    use lockdep::sync::{Mutex, Named, RwLock};
    let m = Mutex::named("sync-std named", 1);
    *m.lock().unwrap() += 1;
    assert_eq!(m.into_inner().unwrap(), 2);
    let l = RwLock::named("sync-std named rwlock", "a");
    assert_eq!(*l.read().unwrap(), "a");
}

#[test]
fn poisoning_is_std_s() {
    let (std, ours) = (with_std::poisoning(), with_lockdep::poisoning());
    assert_eq!(ours, std);
    // The reference is std; a few of its observations spelled out, so that a change of both
    // is seen too.
    assert_eq!(ours[0], "true Mutex { data: 2, poisoned: true, .. }");
    assert!(ours[1].starts_with("poisoned lock: another task failed inside"));
    assert!(ours[2].starts_with("try=Err(\"poisoned lock"));
    assert_eq!(ours[3], "wait is_err=true");
    assert_eq!(ours[4], "false 3");
    assert_eq!(ours[5], "after reader: false");
    assert_eq!(
        ours[6],
        "after writer: true RwLock { data: 5, poisoned: true, .. }"
    );
    assert_eq!(ours[8], "Err(5)");
    assert_eq!(ours[9], "Err(5)");
    assert_eq!(ours[10], "Err(7)");
    assert_eq!(
        ours[12],
        "taken while panicking: Mutex { data: 1, poisoned: false, .. }"
    );
    assert_eq!(ours[13], "once: again_panics=true forced=true true");
    assert_eq!(
        ours[14],
        "cell: OnceLock(<uninit>) Ok(()) Err(2) OnceLock(1)"
    );
    assert_eq!(
        ours[15],
        "lazy: true Err(Some(\"LazyLock instance has previously been poisoned\"))"
    );
}

#[test]
fn the_types_are_as_send_sync_and_unwind_safe_as_std_s() {
    use lockdep::sync::*;
    use std::panic::{RefUnwindSafe, UnwindSafe};
    fn all<T: Send + Sync + UnwindSafe + RefUnwindSafe>() {}
    fn sync_unwind<T: Sync + UnwindSafe + RefUnwindSafe>() {}
    all::<Mutex<Vec<u8>>>();
    all::<RwLock<Vec<u8>>>();
    all::<Condvar>();
    all::<Once>();
    all::<OnceLock<Vec<u8>>>();
    all::<LazyLock<Vec<u8>>>();
    sync_unwind::<MutexGuard<'static, Vec<u8>>>();
    sync_unwind::<RwLockReadGuard<'static, Vec<u8>>>();
    sync_unwind::<RwLockWriteGuard<'static, Vec<u8>>>();
    // Unsized data, as std allows.
    let slice: Arc<Mutex<[u8]>> = Arc::new(Mutex::new([1, 2, 3]));
    assert_eq!(slice.lock().unwrap().len(), 3);
}

/// Variance as std's: a read guard is covariant in `T` (these functions compile only if it
/// is, for both imports); `MutexGuard` and `RwLockWriteGuard` give `&mut T` and are invariant
/// in both, as are the locks themselves (data in an `UnsafeCell`).
#[test]
fn the_read_guard_is_covariant_in_its_data_as_std_s() {
    fn shorten_std<'a, 'g>(
        guard: std::sync::RwLockReadGuard<'g, &'static str>,
    ) -> std::sync::RwLockReadGuard<'g, &'a str> {
        guard
    }
    fn shorten<'a, 'g>(
        guard: lockdep::sync::RwLockReadGuard<'g, &'static str>,
    ) -> lockdep::sync::RwLockReadGuard<'g, &'a str> {
        guard
    }
    let (ours, theirs) = (
        lockdep::sync::RwLock::new("static"),
        std::sync::RwLock::new("static"),
    );
    let local = String::from("local");
    let mut seen: Vec<&str> = Vec::new();
    {
        let (a, b) = (
            shorten(ours.read().unwrap()),
            shorten_std(theirs.read().unwrap()),
        );
        seen.extend([*a, *b, local.as_str()]);
        // The shortened guard still holds the lock, and releases it when dropped.
        assert!(ours.try_write().is_err());
    }
    assert!(ours.try_write().is_ok());
    assert_eq!(seen, ["static", "static", "local"]);
}

/// With the checker: classes, dependencies and reports.
#[cfg(feature = "enabled")]
mod checked {
    use lockdep::sync::{Condvar, LazyLock, Mutex, Once, OnceLock, RwLock};
    use lockdep::{Mode, ViolationKind};
    use std::panic::Location;

    /// The name of the creation-site class of an object made by the caller.
    #[track_caller]
    fn here() -> String {
        let at = Location::caller();
        format!("{}:{}:{}", at.file(), at.line(), at.column())
    }

    /// A mutex of a class of its own (this call's site), and its name.
    #[track_caller]
    fn mutex() -> (Mutex<u32>, String) {
        (Mutex::new(0), here())
    }

    /// A reader-writer lock of a class of its own, and its name.
    #[track_caller]
    fn rwlock() -> (RwLock<u32>, String) {
        (RwLock::new(0), here())
    }

    /// A `Once` of a class of its own, and its name.
    #[track_caller]
    fn once() -> (Once, String) {
        (Once::new(), here())
    }

    /// A `LazyLock` of a class of its own, and its name.
    #[track_caller]
    fn lazy<F: FnOnce() -> u32>(f: F) -> (LazyLock<u32, F>, String) {
        (LazyLock::new(f), here())
    }

    /// A cell of a class of its own, and its name.
    #[track_caller]
    fn cell() -> (OnceLock<u32>, String) {
        (OnceLock::new(), here())
    }

    /// Kinds of the recorded violations that involve all of `names`.
    fn kinds(names: &[&str]) -> Vec<ViolationKind> {
        lockdep::violations()
            .iter()
            .filter(|v| names.iter().all(|n| v.involves(n)))
            .map(|v| v.kind())
            .collect()
    }

    #[test]
    fn abba_between_two_std_mutexes_is_reported() {
        lockdep::set_mode(Mode::Collect);
        let ((a, an), (b, bn)) = (mutex(), mutex());
        drop((a.lock().unwrap(), b.lock().unwrap()));
        assert!(kinds(&[&an, &bn]).is_empty());
        {
            let _b = b.lock().unwrap();
            let _a = a.try_lock().unwrap(); // a try-lock records nothing
        }
        assert!(kinds(&[&an, &bn]).is_empty());
        {
            let _b = b.lock().unwrap();
            let _a = a.lock().unwrap();
        }
        assert_eq!(kinds(&[&an, &bn]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn a_class_is_a_creation_site() {
        lockdep::set_mode(Mode::Collect);
        let make = || Mutex::new(0); // one site: one class
        let (first, second) = (make(), make());
        let name = format!("{}:{}:23", file!(), line!() - 2);
        drop((first.lock().unwrap(), second.lock().unwrap()));
        assert!(kinds(&[&name]).is_empty()); // two locks of the class, in one order
        drop((second.lock().unwrap(), first.lock().unwrap()));
        assert_eq!(kinds(&[&name]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn a_class_is_printed_with_its_data_type_and_matched_by_its_site() {
        lockdep::set_mode(Mode::Collect);
        struct Ledger(u32);
        let (a, b) = (Mutex::new(Ledger(1)), Mutex::new(Ledger(2)));
        let line = line!() - 1;
        let name = format!("{}:{line}:23", file!());
        let take = |x: &Mutex<Ledger>, y: &Mutex<Ledger>| {
            let (x, y) = (x.lock().unwrap(), y.lock().unwrap());
            x.0 + y.0
        };
        take(&a, &b);
        take(&b, &a);
        let found: Vec<_> = lockdep::violations()
            .into_iter()
            .filter(|v| v.involves(&name))
            .collect();
        assert_eq!(found.len(), 1);
        let printed = format!("{name} Mutex<Ledger>");
        let second = format!("{}:{line}:46 Mutex<Ledger>", file!());
        let mut classes = found[0].classes();
        classes.sort_unstable();
        assert_eq!(classes, [printed.as_str(), second.as_str()]);
        assert!(found[0].involves(&printed));
        assert!(found[0].to_string().contains(&printed), "{}", found[0]);
    }

    #[test]
    fn a_named_lock_s_class_is_its_name() {
        use lockdep::sync::Named;
        lockdep::set_mode(Mode::Collect);
        let ledger = Mutex::named("sync-std ledger", 0_u64);
        let accounts = RwLock::named("sync-std accounts", Vec::<u64>::new());
        // Another lock of the same name, made elsewhere, is of the same class.
        let other_ledger = Mutex::named("sync-std ledger", 1_u64);
        drop((ledger.lock().unwrap(), accounts.write().unwrap()));
        assert!(kinds(&["sync-std ledger"]).is_empty());
        drop((accounts.read().unwrap(), other_ledger.lock().unwrap()));
        assert_eq!(
            kinds(&["sync-std ledger", "sync-std accounts"]),
            [ViolationKind::CircularDependency]
        );
        let v = lockdep::violations()
            .into_iter()
            .find(|v| v.involves("sync-std ledger"))
            .unwrap();
        let mut classes = v.classes();
        classes.sort_unstable();
        assert_eq!(classes, ["sync-std accounts", "sync-std ledger"]);
    }

    #[test]
    fn a_read_is_the_kernel_s_non_recursive_read() {
        lockdep::set_mode(Mode::Collect);
        let (lock, name) = rwlock();
        let _a = lock.read().unwrap();
        let _b = lock.read().unwrap(); // may queue behind a writer: reported
        assert_eq!(kinds(&[&name]), [ViolationKind::SameLockTwice]);
    }

    #[test]
    fn a_condvar_wait_re_holds_the_mutex() {
        lockdep::set_mode(Mode::Collect);
        let ((a, an), (b, bn)) = (mutex(), mutex());
        let cvar = Condvar::new();
        let guard = a.lock().unwrap();
        let (guard, _) = cvar
            .wait_timeout(guard, std::time::Duration::from_millis(1))
            .unwrap();
        drop((guard, b.lock().unwrap())); // a → b: a is held again after the wait
        {
            let _b = b.lock().unwrap();
            let _a = a.lock().unwrap();
        }
        assert_eq!(kinds(&[&an, &bn]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn once_lock_cycle_init_first() {
        lockdep::set_mode(Mode::Collect);
        let ((l, ln), (o, on)) = (mutex(), cell());
        o.get_or_init(|| *l.lock().unwrap()); // O → L
        assert!(kinds(&[&ln, &on]).is_empty());
        let _l = l.lock().unwrap();
        o.get_or_init(|| unreachable!()); // L → O, though complete: reported
        assert_eq!(kinds(&[&ln, &on]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn once_lock_cycle_holder_first() {
        lockdep::set_mode(Mode::Collect);
        let (l, ln) = mutex();
        let make = || OnceLock::new(); // two cells of one class
        let on = format!("{}:{}:23", file!(), line!() - 1);
        let (first, second) = (make(), make());
        {
            let _l = l.lock().unwrap();
            first.set(1).unwrap(); // L → O (set may wait for an initializer)
        }
        assert!(kinds(&[&ln, &on]).is_empty());
        second.get_or_init(|| *l.lock().unwrap()); // O → L
        assert_eq!(kinds(&[&ln, &on]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn lazy_lock_cycle_init_first() {
        lockdep::set_mode(Mode::Collect);
        let (l, ln) = mutex();
        let (lazy, on) = lazy(|| *l.lock().unwrap());
        let _ = *lazy; // O → L
        assert!(kinds(&[&ln, &on]).is_empty());
        let _l = l.lock().unwrap();
        let _ = LazyLock::force(&lazy); // L → O, though complete: reported
        assert_eq!(kinds(&[&ln, &on]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn lazy_lock_cycle_holder_first() {
        lockdep::set_mode(Mode::Collect);
        let (l, ln) = mutex();
        let l = &l;
        // Two lazies of one class (this site); the second takes L in its initializer.
        let make = |takes: bool| LazyLock::new(move || if takes { *l.lock().unwrap() } else { 0 });
        let on = format!("{}:{}:34", file!(), line!() - 1);
        let (plain, taker) = (make(false), make(true));
        {
            let _l = l.lock().unwrap();
            let _ = *plain; // L → O
        }
        assert!(kinds(&[&ln, &on]).is_empty());
        let _ = *taker; // O → L
        assert_eq!(kinds(&[&ln, &on]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn once_cycle_across_threads() {
        lockdep::set_mode(Mode::Collect);
        let (l, ln) = mutex();
        let (once, on) = once();
        std::thread::scope(|s| {
            s.spawn(|| once.call_once(|| drop(l.lock().unwrap()))); // O → L
        });
        std::thread::scope(|s| {
            s.spawn(|| {
                let _l = l.lock().unwrap();
                once.wait(); // L → O
            });
        });
        assert_eq!(kinds(&[&ln, &on]), [ViolationKind::CircularDependency]);
    }

    #[test]
    fn ordinary_use_is_not_reported() {
        lockdep::set_mode(Mode::Collect);
        let (l, ln) = mutex();
        let (lazy, lazy_name) = lazy(|| 5);
        let (o, on) = cell();
        let (inner, inner_name) = mutex();
        o.get_or_init(|| *inner.lock().unwrap()); // O → inner
        for _ in 0..2 {
            let _l = l.lock().unwrap();
            assert_eq!(*lazy, 5); // L → lazy, whose initializer takes nothing
            assert_eq!(o.get(), Some(&0)); // never blocks: nothing recorded
            let _i = inner.lock().unwrap(); // L → inner
        }
        for name in [&ln, &lazy_name, &on, &inner_name] {
            assert!(kinds(&[name]).is_empty(), "{name}");
        }
    }

    #[test]
    fn a_recursive_initialization_is_reported_and_panics_instead_of_hanging() {
        lockdep::set_mode(Mode::Collect);
        let (o, on) = cell();
        let outcome = std::panic::catch_unwind(|| o.get_or_init(|| *o.get_or_init(|| 1) + 1));
        let message = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("recursive initialization of"), "{message}");
        assert_eq!(o.get(), None);
        assert_eq!(kinds(&[&on]), [ViolationKind::SameLockTwice]);

        let (once, once_name) = once();
        let outcome = std::panic::catch_unwind(|| once.call_once(|| once.call_once(|| {})));
        assert!(outcome.is_err());
        assert_eq!(kinds(&[&once_name]), [ViolationKind::SameLockTwice]);
    }
}
