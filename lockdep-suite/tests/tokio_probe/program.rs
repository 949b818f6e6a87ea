// The compile probe of `lockdep::tokio::sync` (issue 23): one program, included twice by
// `tests/tokio_sync.rs`, once with `ts` = `tokio::sync` and once with `ts` =
// `lockdep::tokio::sync`. It names every item of `tokio::sync` 1.54 and calls every method of
// the types lockdep mirrors, with the types of the results written out (as function pointers
// where they can be named), so that a signature that drifts from tokio's fails to compile;
// the observations it returns must be the same for both.
//
// Included, not a module: the sites of its locks are this file's lines (each lock a class of
// its own), and nothing here waits for a class it holds, so the program leaves no violation.

use std::future::Future;
use std::sync::Arc;

static STATIC_MUTEX: ts::Mutex<u32> = ts::Mutex::const_new(1);
static STATIC_RWLOCK: ts::RwLock<u32> = ts::RwLock::const_new(2);
static STATIC_RWLOCK_MAX: ts::RwLock<u32> = ts::RwLock::const_with_max_readers(3, 8);
static STATIC_SEMAPHORE: ts::Semaphore = ts::Semaphore::const_new(4);
const MAX_PERMITS: usize = ts::Semaphore::MAX_PERMITS;

/// Runs `f` on a current-thread runtime.
fn run<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The signatures that can be named, as function pointers (a drift is a type error).
#[allow(clippy::type_complexity)]
pub fn signatures() -> usize {
    type M = ts::Mutex<u8>;
    type R = ts::RwLock<u8>;
    type S = ts::Semaphore;
    let mutex: Vec<usize> = vec![
        (M::new as fn(u8) -> M) as usize,
        (M::try_lock as fn(&M) -> Result<ts::MutexGuard<'_, u8>, ts::TryLockError>) as usize,
        (M::blocking_lock as fn(&M) -> ts::MutexGuard<'_, u8>) as usize,
        (M::blocking_lock_owned as fn(Arc<M>) -> ts::OwnedMutexGuard<u8>) as usize,
        (M::try_lock_owned as fn(Arc<M>) -> Result<ts::OwnedMutexGuard<u8>, ts::TryLockError>)
            as usize,
        (M::get_mut as fn(&mut M) -> &mut u8) as usize,
        (M::into_inner as fn(M) -> u8) as usize,
        (<M as From<u8>>::from as fn(u8) -> M) as usize,
        (<M as Default>::default as fn() -> M) as usize,
        (ts::MutexGuard::mutex as fn(&ts::MutexGuard<'static, u8>) -> &'static M) as usize,
        (ts::OwnedMutexGuard::mutex as fn(&ts::OwnedMutexGuard<u8>) -> &Arc<M>) as usize,
    ];
    let rwlock: Vec<usize> = vec![
        (R::new as fn(u8) -> R) as usize,
        (R::with_max_readers as fn(u8, u32) -> R) as usize,
        (R::try_read as fn(&R) -> Result<ts::RwLockReadGuard<'_, u8>, ts::TryLockError>) as usize,
        (R::try_write as fn(&R) -> Result<ts::RwLockWriteGuard<'_, u8>, ts::TryLockError>)
            as usize,
        (R::try_read_owned
            as fn(Arc<R>) -> Result<ts::OwnedRwLockReadGuard<u8>, ts::TryLockError>)
            as usize,
        (R::try_write_owned
            as fn(Arc<R>) -> Result<ts::OwnedRwLockWriteGuard<u8>, ts::TryLockError>)
            as usize,
        (R::blocking_read as fn(&R) -> ts::RwLockReadGuard<'_, u8>) as usize,
        (R::blocking_write as fn(&R) -> ts::RwLockWriteGuard<'_, u8>) as usize,
        (R::get_mut as fn(&mut R) -> &mut u8) as usize,
        (R::into_inner as fn(R) -> u8) as usize,
        (<R as From<u8>>::from as fn(u8) -> R) as usize,
        (<R as Default>::default as fn() -> R) as usize,
        (ts::RwLockWriteGuard::downgrade
            as fn(ts::RwLockWriteGuard<'static, u8>) -> ts::RwLockReadGuard<'static, u8>)
            as usize,
        (ts::RwLockWriteGuard::into_mapped
            as fn(ts::RwLockWriteGuard<'static, u8>) -> ts::RwLockMappedWriteGuard<'static, u8>)
            as usize,
        (ts::OwnedRwLockWriteGuard::downgrade
            as fn(ts::OwnedRwLockWriteGuard<u8>) -> ts::OwnedRwLockReadGuard<u8>) as usize,
        (ts::OwnedRwLockWriteGuard::into_mapped
            as fn(ts::OwnedRwLockWriteGuard<u8>) -> ts::OwnedRwLockMappedWriteGuard<u8>)
            as usize,
        (ts::OwnedRwLockWriteGuard::rwlock as fn(&ts::OwnedRwLockWriteGuard<u8>) -> &Arc<R>)
            as usize,
        (ts::OwnedRwLockReadGuard::rwlock
            as fn(&ts::OwnedRwLockReadGuard<u8, u16>) -> &Arc<R>) as usize,
        (ts::OwnedRwLockMappedWriteGuard::rwlock
            as fn(&ts::OwnedRwLockMappedWriteGuard<u8, u16>) -> &Arc<R>) as usize,
    ];
    let semaphore: Vec<usize> = vec![
        (S::new as fn(usize) -> S) as usize,
        (S::available_permits as fn(&S) -> usize) as usize,
        (S::add_permits as fn(&S, usize)) as usize,
        (S::forget_permits as fn(&S, usize) -> usize) as usize,
        (S::try_acquire as fn(&S) -> Result<ts::SemaphorePermit<'_>, ts::TryAcquireError>)
            as usize,
        (S::try_acquire_many
            as fn(&S, u32) -> Result<ts::SemaphorePermit<'_>, ts::TryAcquireError>) as usize,
        (S::blocking_acquire as fn(&S) -> Result<ts::SemaphorePermit<'_>, ts::AcquireError>)
            as usize,
        (S::blocking_acquire_many
            as fn(&S, u32) -> Result<ts::SemaphorePermit<'_>, ts::AcquireError>) as usize,
        (S::try_acquire_owned
            as fn(Arc<S>) -> Result<ts::OwnedSemaphorePermit, ts::TryAcquireError>) as usize,
        (S::try_acquire_many_owned
            as fn(Arc<S>, u32) -> Result<ts::OwnedSemaphorePermit, ts::TryAcquireError>)
            as usize,
        (S::blocking_acquire_owned
            as fn(Arc<S>) -> Result<ts::OwnedSemaphorePermit, ts::AcquireError>) as usize,
        (S::blocking_acquire_many_owned
            as fn(Arc<S>, u32) -> Result<ts::OwnedSemaphorePermit, ts::AcquireError>)
            as usize,
        (S::close as fn(&S)) as usize,
        (S::is_closed as fn(&S) -> bool) as usize,
        (ts::SemaphorePermit::forget as fn(ts::SemaphorePermit<'static>)) as usize,
        (ts::SemaphorePermit::merge
            as fn(&mut ts::SemaphorePermit<'static>, ts::SemaphorePermit<'static>))
            as usize,
        (ts::SemaphorePermit::split
            as fn(&mut ts::SemaphorePermit<'static>, usize) -> Option<ts::SemaphorePermit<'static>>)
            as usize,
        (ts::SemaphorePermit::semaphore as for<'b> fn(&'b ts::SemaphorePermit<'static>) -> &'b S)
            as usize,
        (ts::SemaphorePermit::num_permits as fn(&ts::SemaphorePermit<'static>) -> usize)
            as usize,
        (ts::OwnedSemaphorePermit::forget as fn(ts::OwnedSemaphorePermit)) as usize,
        (ts::OwnedSemaphorePermit::merge
            as fn(&mut ts::OwnedSemaphorePermit, ts::OwnedSemaphorePermit)) as usize,
        (ts::OwnedSemaphorePermit::split
            as fn(&mut ts::OwnedSemaphorePermit, usize) -> Option<ts::OwnedSemaphorePermit>)
            as usize,
        (ts::OwnedSemaphorePermit::semaphore as fn(&ts::OwnedSemaphorePermit) -> &Arc<S>)
            as usize,
        (ts::OwnedSemaphorePermit::num_permits as fn(&ts::OwnedSemaphorePermit) -> usize)
            as usize,
    ];
    mutex.len() + rwlock.len() + semaphore.len() + MAX_PERMITS.count_ones() as usize
}

/// Every item of `tokio::sync` that lockdep re-exports, used as tokio's documentation uses
/// it; the observations.
pub fn the_rest() -> Vec<String> {
    run(async {
        let mut seen = Vec::new();
        let (tx, mut rx) = ts::mpsc::channel::<u8>(1);
        tx.send(1).await.unwrap();
        seen.push(format!("mpsc {:?}", rx.recv().await));
        let (tx, rx) = ts::oneshot::channel::<u8>();
        tx.send(2).unwrap();
        seen.push(format!("oneshot {:?}", rx.await));
        let (tx, mut rx) = ts::watch::channel(3u8);
        tx.send(4).unwrap();
        rx.changed().await.unwrap();
        seen.push(format!("watch {}", *rx.borrow()));
        let (tx, mut rx) = ts::broadcast::channel::<u8>(2);
        tx.send(5).unwrap();
        seen.push(format!("broadcast {:?}", rx.recv().await));
        let notify = Arc::new(ts::Notify::new());
        let notified: ts::futures::Notified<'_> = notify.notified();
        notify.notify_one();
        notified.await;
        let owned: ts::futures::OwnedNotified = notify.clone().notified_owned();
        notify.notify_waiters();
        drop(owned);
        let barrier = ts::Barrier::new(1);
        let waited: ts::BarrierWaitResult = barrier.wait().await;
        seen.push(format!("barrier leader={}", waited.is_leader()));
        let cell = ts::OnceCell::new();
        let set: Result<(), ts::SetError<u8>> = cell.set(6);
        seen.push(format!("once cell {:?} {:?} {:?}", set, cell.get(), cell.set(7)));
        let once = ts::SetOnce::new();
        let set: Result<(), ts::SetOnceError<u8>> = once.set(8);
        seen.push(format!("set once {:?} {:?} {}", set, once.get(), once.set(9).is_err()));
        let closed = ts::Semaphore::new(0);
        closed.close();
        let acquire: Result<_, ts::AcquireError> = closed.acquire().await;
        let try_acquire: Result<_, ts::TryAcquireError> = closed.try_acquire();
        seen.push(format!("errors {:?} {:?}", acquire.err(), try_acquire.err()));
        seen
    })
}

/// The mutex: every method, and its guards'.
pub fn mutex() -> Vec<String> {
    let mut seen = Vec::new();
    // From a plain thread, outside any runtime: the blocking calls.
    let blocking = Arc::new(ts::Mutex::new(10u8));
    *blocking.blocking_lock() += 1;
    let owned: ts::OwnedMutexGuard<u8> = blocking.clone().blocking_lock_owned();
    seen.push(format!("blocking {owned:?} {owned}"));
    drop(owned);
    seen.extend(run(async {
        let mut seen = Vec::new();
        let mutex = ts::Mutex::new(vec![b'd', b'a']);
        seen.push(format!("{mutex:?}"));
        let mut guard: ts::MutexGuard<'_, Vec<u8>> = mutex.lock().await;
        guard.push(b'!');
        seen.push(format!("{mutex:?} {guard:?}"));
        let busy: Result<_, ts::TryLockError> = mutex.try_lock();
        let err = busy.unwrap_err();
        seen.push(format!("{err} {err:?}"));
        assert!(std::ptr::eq(ts::MutexGuard::mutex(&guard), &mutex));
        let mapped: ts::MappedMutexGuard<'_, [u8]> = ts::MutexGuard::map(guard, |v| &mut v[..]);
        let mut mapped: ts::MappedMutexGuard<'_, u8> =
            ts::MappedMutexGuard::try_map(mapped, |s| s.first_mut()).ok().unwrap();
        *mapped = b'D';
        let mapped: ts::MappedMutexGuard<'_, u8> = ts::MappedMutexGuard::map(mapped, |b| b);
        seen.push(format!("mapped {mapped:?} {mapped}"));
        let back = ts::MappedMutexGuard::try_map(mapped, |_| None::<&mut u8>);
        drop(back.unwrap_err());
        let guard = mutex.try_lock().unwrap();
        let failed: Result<ts::MappedMutexGuard<'_, u8>, _> =
            ts::MutexGuard::try_map(guard, |_| None);
        seen.push(format!("try_map back {:?}", failed.unwrap_err()));
        let mut mutex = mutex;
        mutex.get_mut().push(b'?');
        seen.push(format!("{:?}", mutex.into_inner()));

        let arc = Arc::new(ts::Mutex::new((1u8, 2u16)));
        let owned: ts::OwnedMutexGuard<(u8, u16)> = arc.clone().lock_owned().await;
        assert!(Arc::ptr_eq(ts::OwnedMutexGuard::mutex(&owned), &arc));
        let mapped: ts::OwnedMappedMutexGuard<(u8, u16), u16> =
            ts::OwnedMutexGuard::map(owned, |p| &mut p.1);
        let mut mapped: ts::OwnedMappedMutexGuard<(u8, u16), u16> =
            ts::OwnedMappedMutexGuard::map(mapped, |v| v);
        *mapped += 1;
        let failed = ts::OwnedMappedMutexGuard::try_map(mapped, |_| None::<&mut u8>);
        let mapped = ts::OwnedMappedMutexGuard::try_map(failed.unwrap_err(), |v| Some(v)).unwrap();
        seen.push(format!("owned mapped {mapped:?} {mapped}"));
        drop(mapped);
        let owned = arc.clone().try_lock_owned().unwrap();
        let failed = ts::OwnedMutexGuard::try_map(owned, |_| None::<&mut u8>);
        let owned = failed.unwrap_err();
        seen.push(format!("owned {owned:?}"));
        let mapped = ts::OwnedMutexGuard::try_map(owned, |p| Some(&mut p.0)).unwrap();
        seen.push(format!("owned try_map {}", *mapped));
        drop(mapped);
        seen.push(format!("{:?}", arc.try_lock_owned().map(|g| *g)));
        seen.push(format!("{:?}", ts::Mutex::<u8>::default()));
        seen.push(format!("{:?}", ts::Mutex::from(7u8)));
        let display = ts::Mutex::new("shown");
        seen.push(format!("{}", display.lock().await));
        // Unsized data, as tokio allows.
        let slice: Arc<ts::Mutex<[u8]>> = Arc::new(ts::Mutex::new([1, 2, 3]));
        seen.push(format!("slice {:?}", &*slice.lock().await));
        // A guard moved to another task and dropped there.
        let moved = STATIC_MUTEX.lock().await;
        tokio::spawn(async move { drop(moved) }).await.unwrap();
        seen.push(format!("static {:?}", *STATIC_MUTEX.lock().await));
        seen
    }));
    seen
}

/// The reader-writer lock: every method, and its guards'.
pub fn rwlock() -> Vec<String> {
    let mut seen = Vec::new();
    let blocking = ts::RwLock::with_max_readers(1u8, 4);
    *blocking.blocking_write() += 1;
    seen.push(format!("blocking {}", *blocking.blocking_read()));
    seen.extend(run(async {
        let mut seen = Vec::new();
        let lock = ts::RwLock::new((1u8, 2u16));
        let read: ts::RwLockReadGuard<'_, (u8, u16)> = lock.read().await;
        let also = lock.try_read().unwrap();
        seen.push(format!("{lock:?} {read:?} {}", also.0));
        seen.push(format!("{:?}", lock.try_write().map(|_| ()).unwrap_err()));
        let second: ts::RwLockReadGuard<'_, u16> = ts::RwLockReadGuard::map(read, |p| &p.1);
        let back = ts::RwLockReadGuard::try_map(second, |_| None::<&u8>);
        let second = ts::RwLockReadGuard::try_map(back.unwrap_err(), |v| Some(v)).unwrap();
        seen.push(format!("read mapped {second} {second:?}"));
        drop((second, also));

        let mut write: ts::RwLockWriteGuard<'_, (u8, u16)> = lock.write().await;
        write.0 = 10;
        seen.push(format!("{lock:?} {write:?}"));
        let failed = ts::RwLockWriteGuard::try_map(write, |_| None::<&mut u8>);
        let write = failed.unwrap_err();
        let failed = ts::RwLockWriteGuard::try_downgrade_map(write, |_| None::<&u8>);
        let write = failed.unwrap_err();
        let first: ts::RwLockReadGuard<'_, u8> =
            ts::RwLockWriteGuard::downgrade_map(write, |p| &p.0);
        seen.push(format!("downgrade_map {first} {}", lock.try_read().unwrap().1));
        drop(first);
        let write = lock.try_write().unwrap();
        let first = ts::RwLockWriteGuard::try_downgrade_map(write, |p| Some(&p.0)).unwrap();
        seen.push(format!("try_downgrade_map {first}"));
        drop(first);
        let write = lock.write().await;
        let mapped: ts::RwLockMappedWriteGuard<'_, u16> =
            ts::RwLockWriteGuard::map(write, |p| &mut p.1);
        let mapped = ts::RwLockMappedWriteGuard::map(mapped, |v| v);
        let back = ts::RwLockMappedWriteGuard::try_map(mapped, |_| None::<&mut u8>);
        let mut mapped = ts::RwLockMappedWriteGuard::try_map(back.unwrap_err(), |v| Some(v)).unwrap();
        *mapped += 1;
        seen.push(format!("mapped {mapped} {mapped:?}"));
        drop(mapped);
        let write = lock.try_write().unwrap();
        let mapped = ts::RwLockWriteGuard::try_map(write, |p| Some(&mut p.0)).unwrap();
        drop(mapped);
        let write = lock.write().await;
        let whole = ts::RwLockWriteGuard::into_mapped(write);
        drop(whole);
        let read = lock.write().await.downgrade();
        seen.push(format!("downgraded {read:?} {:?}", lock.try_read().map(|r| r.0)));
        drop(read);
        let mut lock = lock;
        lock.get_mut().0 = 20;
        seen.push(format!("{:?}", lock.into_inner()));

        let arc = Arc::new(ts::RwLock::new((1u8, 2u16)));
        let read: ts::OwnedRwLockReadGuard<(u8, u16)> = arc.clone().read_owned().await;
        assert!(Arc::ptr_eq(ts::OwnedRwLockReadGuard::rwlock(&read), &arc));
        let second: ts::OwnedRwLockReadGuard<(u8, u16), u16> =
            ts::OwnedRwLockReadGuard::map(read, |p| &p.1);
        let back = ts::OwnedRwLockReadGuard::try_map(second, |_| None::<&u8>);
        let second = ts::OwnedRwLockReadGuard::try_map(back.unwrap_err(), |v| Some(v)).unwrap();
        seen.push(format!("owned read {second} {second:?}"));
        drop(second);
        let read = arc.clone().try_read_owned().unwrap();
        drop(read);
        let write: ts::OwnedRwLockWriteGuard<(u8, u16)> = arc.clone().write_owned().await;
        assert!(Arc::ptr_eq(ts::OwnedRwLockWriteGuard::rwlock(&write), &arc));
        let back = ts::OwnedRwLockWriteGuard::try_map(write, |_| None::<&mut u8>);
        let back = ts::OwnedRwLockWriteGuard::try_downgrade_map(back.unwrap_err(), |_| None::<&u8>);
        let mapped: ts::OwnedRwLockMappedWriteGuard<(u8, u16), u16> =
            ts::OwnedRwLockWriteGuard::map(back.unwrap_err(), |p| &mut p.1);
        assert!(Arc::ptr_eq(ts::OwnedRwLockMappedWriteGuard::rwlock(&mapped), &arc));
        let mapped = ts::OwnedRwLockMappedWriteGuard::map(mapped, |v| v);
        let back = ts::OwnedRwLockMappedWriteGuard::try_map(mapped, |_| None::<&mut u8>);
        let mut mapped = ts::OwnedRwLockMappedWriteGuard::try_map(back.unwrap_err(), |v| Some(v)).unwrap();
        *mapped = 30;
        seen.push(format!("owned mapped {mapped} {mapped:?}"));
        drop(mapped);
        let write = arc.clone().try_write_owned().unwrap();
        let first = ts::OwnedRwLockWriteGuard::downgrade_map(write, |p| &p.0);
        seen.push(format!("owned downgrade_map {first}"));
        drop(first);
        let write = arc.clone().write_owned().await;
        let first = ts::OwnedRwLockWriteGuard::try_downgrade_map(write, |p| Some(&p.0)).unwrap();
        drop(first);
        let write = arc.clone().write_owned().await;
        let mapped = ts::OwnedRwLockWriteGuard::try_map(write, |p| Some(&mut p.0)).unwrap();
        drop(mapped);
        let write = arc.clone().write_owned().await;
        let whole = ts::OwnedRwLockWriteGuard::into_mapped(write);
        drop(whole);
        let read = arc.clone().write_owned().await.downgrade();
        seen.push(format!("owned downgraded {read:?} {:?}", arc.try_write().is_err()));
        drop(read);
        seen.push(format!("{:?} {:?}", ts::RwLock::<u8>::default(), ts::RwLock::from(4u8)));
        let slice: Arc<ts::RwLock<[u8]>> = Arc::new(ts::RwLock::new([1, 2, 3]));
        seen.push(format!("slice {:?}", &*slice.read().await));
        let moved = STATIC_RWLOCK.write().await;
        tokio::spawn(async move { drop(moved) }).await.unwrap();
        let max = STATIC_RWLOCK_MAX.read().await;
        seen.push(format!("static {} {}", *STATIC_RWLOCK.read().await, *max));
        seen
    }));
    seen
}

/// The semaphore: every method, and its permits'.
pub fn semaphore() -> Vec<String> {
    let mut seen = Vec::new();
    let sem = Arc::new(ts::Semaphore::new(6));
    let one: ts::SemaphorePermit<'_> = sem.blocking_acquire().unwrap();
    let two = sem.blocking_acquire_many(2).unwrap();
    let three: ts::OwnedSemaphorePermit = sem.clone().blocking_acquire_owned().unwrap();
    let four = sem.clone().blocking_acquire_many_owned(2).unwrap();
    seen.push(format!("blocking {} {:?}", sem.available_permits(), (one, two, three, four)));
    seen.extend(run(async {
        let mut seen = Vec::new();
        let sem = ts::Semaphore::new(5);
        seen.push(format!("{sem:?}"));
        let mut one: ts::SemaphorePermit<'_> = sem.acquire().await.unwrap();
        assert!(std::ptr::eq(one.semaphore(), &sem));
        seen.push(format!("{one:?}"));
        drop(one);
        let many: ts::SemaphorePermit<'_> = sem.acquire_many(3).await.unwrap();
        let other = sem.try_acquire().unwrap();
        seen.push(format!("{:?} {}", sem.try_acquire_many(2).map(|_| ()), sem.available_permits()));
        one = many;
        one.merge(other);
        let mut split = one.split(2).unwrap();
        let none = split.split(3);
        let zero = split.split(0).unwrap();
        seen.push(format!("split {} {} {} {}", one.num_permits(), split.num_permits(), none.is_none(), zero.num_permits()));
        let all = split.split(2).unwrap();
        seen.push(format!("split all {} {}", split.num_permits(), all.num_permits()));
        drop((split, zero));
        all.forget();
        seen.push(format!("forgot {} {}", sem.available_permits(), sem.forget_permits(1)));
        sem.add_permits(3);
        let tried = sem.try_acquire_many(2).unwrap();
        seen.push(format!("{} {}", tried.num_permits(), sem.available_permits()));
        drop((one, tried));

        let sem = Arc::new(ts::Semaphore::new(4));
        let mut owned: ts::OwnedSemaphorePermit = sem.clone().acquire_owned().await.unwrap();
        assert!(Arc::ptr_eq(owned.semaphore(), &sem));
        let many = sem.clone().acquire_many_owned(2).await.unwrap();
        let tried = sem.clone().try_acquire_owned().unwrap();
        seen.push(format!("{owned:?} {:?}", sem.clone().try_acquire_many_owned(1).map(|_| ())));
        owned.merge(many);
        owned.merge(tried);
        let mut split = owned.split(3).unwrap();
        let all = split.split(3).unwrap();
        seen.push(format!("owned {} {} {}", owned.num_permits(), split.num_permits(), all.num_permits()));
        all.forget();
        drop((owned, split));
        seen.push(format!("{} {}", sem.available_permits(), sem.is_closed()));
        sem.close();
        seen.push(format!("closed {} {:?}", sem.is_closed(), sem.clone().acquire_owned().await.map(|_| ())));
        let permit = STATIC_SEMAPHORE.acquire().await.unwrap();
        tokio::spawn(async move { drop(permit) }).await.unwrap();
        seen.push(format!("static {}", STATIC_SEMAPHORE.available_permits()));
        seen
    }));
    seen
}

/// The auto traits of every type and future of the locks and the semaphore, for data types
/// that are and are not `Send`, `Sync`, `Unpin`, unwind-safe.
pub fn auto_traits() -> Vec<String> {
    use std::cell::Cell;
    use std::marker::PhantomPinned;
    use std::rc::Rc;
    /// `Sync` and not `Send`.
    type SyncOnly = std::sync::MutexGuard<'static, u8>;
    /// Neither unwind-safe nor `RefUnwindSafe`.
    type Unwinds = &'static mut u8;
    macro_rules! rows {
        ($($d:ty),*) => {{
            let mut rows = Vec::new();
            $(
                rows.push(format!(
                    "{}: Mutex {} MutexGuard {} OwnedMutexGuard {} MappedMutexGuard {} \
                     OwnedMappedMutexGuard<T, u8> {} OwnedMappedMutexGuard<u8, T> {}",
                    stringify!($d),
                    traits!(ts::Mutex<$d>),
                    traits!(ts::MutexGuard<'static, $d>),
                    traits!(ts::OwnedMutexGuard<$d>),
                    traits!(ts::MappedMutexGuard<'static, $d>),
                    traits!(ts::OwnedMappedMutexGuard<$d, u8>),
                    traits!(ts::OwnedMappedMutexGuard<u8, $d>),
                ));
                rows.push(format!(
                    "{}: RwLock {} RwLockReadGuard {} RwLockWriteGuard {} \
                     RwLockMappedWriteGuard {} OwnedRwLockReadGuard {} \
                     OwnedRwLockReadGuard<u8, T> {} OwnedRwLockWriteGuard {} \
                     OwnedRwLockMappedWriteGuard<T, u8> {} OwnedRwLockMappedWriteGuard<u8, T> {}",
                    stringify!($d),
                    traits!(ts::RwLock<$d>),
                    traits!(ts::RwLockReadGuard<'static, $d>),
                    traits!(ts::RwLockWriteGuard<'static, $d>),
                    traits!(ts::RwLockMappedWriteGuard<'static, $d>),
                    traits!(ts::OwnedRwLockReadGuard<$d>),
                    traits!(ts::OwnedRwLockReadGuard<u8, $d>),
                    traits!(ts::OwnedRwLockWriteGuard<$d>),
                    traits!(ts::OwnedRwLockMappedWriteGuard<$d, u8>),
                    traits!(ts::OwnedRwLockMappedWriteGuard<u8, $d>),
                ));
            )*
            rows
        }};
    }
    let mut rows = rows!(u8, Cell<u8>, Rc<u8>, SyncOnly, PhantomPinned, Unwinds, [u8]);
    rows.push(format!(
        "Semaphore {} SemaphorePermit {} OwnedSemaphorePermit {}",
        traits!(ts::Semaphore),
        traits!(ts::SemaphorePermit<'static>),
        traits!(ts::OwnedSemaphorePermit),
    ));
    macro_rules! futures {
        ($($d:expr),*) => {$(
            let (mutex, rwlock) = (Arc::new(ts::Mutex::new($d)), Arc::new(ts::RwLock::new($d)));
            rows.push(format!(
                "{}: lock {} lock_owned {} read {} write {} read_owned {} write_owned {}",
                stringify!($d),
                traits_of!(mutex.lock()),
                traits_of!(mutex.clone().lock_owned()),
                traits_of!(rwlock.read()),
                traits_of!(rwlock.write()),
                traits_of!(rwlock.clone().read_owned()),
                traits_of!(rwlock.clone().write_owned()),
            ));
        )*};
    }
    futures!(0u8, Cell::new(0u8), Rc::new(0u8));
    let sem = Arc::new(ts::Semaphore::new(1));
    rows.push(format!(
        "acquire {} acquire_many {} acquire_owned {} acquire_many_owned {}",
        traits_of!(sem.acquire()),
        traits_of!(sem.acquire_many(1)),
        traits_of!(sem.clone().acquire_owned()),
        traits_of!(sem.clone().acquire_many_owned(1)),
    ));
    rows
}
