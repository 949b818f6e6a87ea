//! Feature `serde` (parking_lot's): the locks serialize as their data, taken under the lock,
//! and deserialize into a new lock, checked like any other (its class: the impl's site and the
//! data's type). This crate's test builds turn the feature on (a dev-dependency).

use lockdep::{FairMutex, Mutex, RecursiveRwLock, ReentrantMutex, RwLock};

fn round_trip<T>(value: &T) -> T
where
    T: serde::Serialize + for<'de> serde::Deserialize<'de>,
{
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

#[test]
fn the_parking_lot_shaped_locks_round_trip_as_their_data() {
    assert_eq!(
        serde_json::to_string(&Mutex::new(vec![1, 2])).unwrap(),
        "[1,2]"
    );
    assert_eq!(round_trip(&Mutex::new(vec![1u8, 2])).into_inner(), [1, 2]);
    assert_eq!(round_trip(&FairMutex::new(3u32)).into_inner(), 3);
    assert_eq!(round_trip(&RwLock::new("rw".to_owned())).into_inner(), "rw");
    assert_eq!(*round_trip(&RecursiveRwLock::new(4i64)).read(), 4);
    assert_eq!(*round_trip(&ReentrantMutex::new(5u16)).lock(), 5);
}

#[test]
fn the_std_shaped_locks_round_trip_as_serde_s_std_impls_do() {
    let m = lockdep::sync::Mutex::new(vec![7u8]);
    assert_eq!(serde_json::to_string(&m).unwrap(), "[7]");
    let back: lockdep::sync::Mutex<Vec<u8>> = round_trip(&m);
    assert_eq!(back.into_inner().unwrap(), [7]);
    let l: lockdep::sync::RwLock<u8> = round_trip(&lockdep::sync::RwLock::new(8));
    assert_eq!(*l.read().unwrap(), 8);
}

/// A poisoned std-shaped lock does not serialize, as serde's impl for std's says.
#[cfg(feature = "enabled")]
#[test]
fn a_poisoned_sync_mutex_is_an_error() {
    let m = std::sync::Arc::new(lockdep::sync::Mutex::new(1));
    let other = std::sync::Arc::clone(&m);
    let _ = std::thread::spawn(move || {
        let _guard = other.lock().unwrap();
        panic!("poisons the mutex");
    })
    .join();
    let error = serde_json::to_string(&*m).unwrap_err();
    assert!(error
        .to_string()
        .contains("lock poison error while serializing"));
}

/// A deserialized lock is checked: it has a class (else it would be `INIT`'s, unchecked), so
/// taking it in both orders with another lock is reported.
#[cfg(feature = "enabled")]
#[test]
fn a_deserialized_mutex_is_checked() {
    static OTHER: lockdep::LockClass = lockdep::LockClass::new("serde-test-other");
    lockdep::set_mode(lockdep::Mode::Collect);
    let deserialized: Mutex<u32> = serde_json::from_str("9").unwrap();
    let other = Mutex::with_class((), &OTHER);
    drop((other.lock(), deserialized.lock()));
    drop((deserialized.lock(), other.lock()));
    let mine: Vec<_> = lockdep::take_violations()
        .into_iter()
        .filter(|v| v.involves("serde-test-other"))
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].kind(), lockdep::ViolationKind::CircularDependency);
    assert_eq!(*deserialized.lock(), 9);
}
