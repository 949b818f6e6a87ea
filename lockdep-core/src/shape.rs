//! Stand-ins named as the locks are, so that a class's type name reads as its lock.
//!
//! A class made at a creation site keeps `core::any::type_name` of a type: given
//! `shape::Mutex<Ledger>` rather than `Ledger`, the name ends in `Mutex<Ledger>`, and reports
//! print `src/bank.rs:40:20 Mutex<Ledger>` (see `lockdep_report::with_data_type`). Two locks
//! of one site and different data types (or lock types) stay two classes, as before. The
//! stand-ins are never made: they are type names only, and cost nothing.

use core::marker::PhantomData;

macro_rules! shapes {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[allow(dead_code)] // never constructed: only its type name is used
        pub(crate) struct $name<T: ?Sized>(PhantomData<T>);
    )*};
}

shapes!(
    /// `lockdep::Mutex<T>` (and `lockdep::sync::Mutex<T>`, tokio's `Mutex<T>`).
    Mutex,
    /// `lockdep::RwLock<T>` (and `lockdep::sync::RwLock<T>`, tokio's `RwLock<T>`).
    RwLock,
    /// `lockdep::FairMutex<T>`.
    FairMutex,
    /// `lockdep::RecursiveRwLock<T>`.
    RecursiveRwLock,
    /// `lockdep::ReentrantMutex<T>`.
    ReentrantMutex,
    /// `lockdep::sync::OnceLock<T>` (and `LazyLock`'s).
    OnceLock,
);

/// `lockdep::Once` and `lockdep::sync::Once`, which have no data.
#[allow(dead_code)] // never constructed: only its type name is used
pub(crate) struct Once;
