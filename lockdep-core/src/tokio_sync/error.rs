//! tokio's own error values where its field is private: our types return tokio's
//! [`TryLockError`], so that code matching on it compiles unchanged.

use std::sync::Once;

use ::tokio::sync::TryLockError;

/// The [`TryLockError`] of a try on a locked mutex or reader-writer lock. tokio makes it only
/// itself: this is the error of a try on a tokio mutex that is locked for good (its guard
/// leaked once), which costs one load after the first call.
pub(super) fn would_block() -> TryLockError {
    static LOCKED: ::tokio::sync::Mutex<()> = ::tokio::sync::Mutex::const_new(());
    static LOCK_FOR_GOOD: Once = Once::new();
    LOCK_FOR_GOOD.call_once(|| std::mem::forget(LOCKED.try_lock()));
    match LOCKED.try_lock() {
        Err(locked) => locked,
        Ok(_) => unreachable!("the mutex is locked for good"),
    }
}
