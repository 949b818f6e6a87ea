//! `lockdep::sync::Named`: a lock of `lockdep::sync` in a class the program names, for the
//! locks whose creation site does not tell them apart (made by a helper, one per shard) or
//! whose reports should say what they protect. lockdep-only: std's locks have no classes,
//! so built without the `enabled` feature, where `lockdep::sync` is `std::sync`, the name is
//! dropped and `named` is `new`.

/// Makes a lock of `lockdep::sync` in the class named `name`: every lock made with one name
/// is one class, as with a [`LockClass`](crate::LockClass) of that name, and reports print
/// the name in place of the creation site. This is lockdep's, not std's: import it beside the
/// lock (`use lockdep::sync::{Mutex, Named}`) and the code builds unchanged without the
/// `enabled` feature, where it is `new` and the name is dropped.
///
/// # Examples
///
/// ```
/// use lockdep::sync::{Mutex, Named, RwLock};
///
/// let ledger = Mutex::named("ledger", 0_u64);
/// let accounts = RwLock::named("accounts", Vec::<u64>::new());
/// *ledger.lock().unwrap() += 1;
/// accounts.write().unwrap().push(1);
/// assert_eq!(*ledger.lock().unwrap(), 1);
/// ```
pub trait Named<T>: Sized {
    /// A new unlocked lock protecting `value`, in the class named `name` (registered now).
    #[track_caller]
    fn named(name: &str, value: T) -> Self;
}

// With the checker, `lockdep::sync`'s locks implement it beside their other constructors
// (`std_sync::{mutex, rwlock}`).

#[cfg(not(feature = "enabled"))]
impl<T> Named<T> for std::sync::Mutex<T> {
    fn named(_name: &str, value: T) -> Self {
        std::sync::Mutex::new(value)
    }
}

#[cfg(not(feature = "enabled"))]
impl<T> Named<T> for std::sync::RwLock<T> {
    fn named(_name: &str, value: T) -> Self {
        std::sync::RwLock::new(value)
    }
}
