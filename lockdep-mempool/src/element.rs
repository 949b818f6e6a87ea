//! An element taken from a pool.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use lockdep_core::Hold;

use crate::shared::Shared;

/// An object taken from a [`Mempool`](crate::Mempool). Dropping it, on any thread, returns it
/// to the pool (refilling the reserve first).
///
/// # Who holds the pool
///
/// For the checker an element is held by one thread at a time, and that thread holds the
/// pool's class: blocking on a lock meanwhile records `pool → lock`, allocating memory
/// records `pool → ALLOC`.
///
/// - [`Mempool::alloc`](crate::Mempool::alloc) (and the `try_` variants) makes the calling
///   thread the holder.
/// - [`hand_off`](Element::hand_off) ends the holder's hold: the element is in transit,
///   charged to nobody.
/// - [`adopt`](Element::adopt) makes the calling thread the holder, ending the previous
///   holder's hold if there is one: the thread that receives an element to work on it calls
///   it, so that the livelocks it could cause are checked on it and not on the sender.
/// - Dropping the element (or [`into_inner`](Element::into_inner)) ends the hold of its
///   holder, on whichever thread it happens.
///
/// The hold does not follow the element by itself: moving it to another thread changes
/// nothing until the receiver adopts it (`&mut` access from another thread, as a scoped
/// helper thread gets, is a borrow, not a change of holder). So a hand-over between threads
/// is `hand_off()` on the sender (or nothing) and `adopt()` on the receiver. Without the
/// `enabled` feature both are no-ops.
///
/// # Examples
///
/// ```
/// use lockdep::mempool::Mempool;
///
/// let pool = Mempool::new(1, || Some(vec![0u32; 4]));
/// let mut e = pool.alloc();
/// e[0] = 7;
/// let sum: u32 = e.iter().sum();
/// assert_eq!(sum, 7);
/// std::thread::spawn(move || drop(e)).join().unwrap(); // returned from another thread
/// assert_eq!(pool.free_count(), 1);
/// ```
pub struct Element<T> {
    value: ManuallyDrop<T>,
    pool: ManuallyDrop<Arc<Shared<T>>>,
    hold: Hold,
}

impl<T> Element<T> {
    pub(crate) fn new(value: T, pool: Arc<Shared<T>>, hold: Hold) -> Self {
        Element {
            value: ManuallyDrop::new(value),
            pool: ManuallyDrop::new(pool),
            hold,
        }
    }

    /// Ends the holder's hold on the pool without returning the element: for an element
    /// handed to something that completes later (a submitted request freed by its completion),
    /// so that what this thread does next is not attributed to the element. The element is then
    /// charged to nobody until a thread [adopts](Element::adopt) it. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::mempool::Mempool;
    /// let pool = Mempool::new(1, || Some(0u8));
    /// let request = pool.alloc();
    /// request.hand_off(); // the completion path owns it now
    /// let done = std::thread::spawn(move || drop(request));
    /// done.join().unwrap();
    /// ```
    pub fn hand_off(&self) {
        self.hold.release();
    }

    /// Makes the calling thread the element's holder: the thread that received the element to
    /// work on it says so. From now on, this thread blocking on a lock records `pool → lock`
    /// and allocating records `pool → ALLOC`, so a livelock it could cause while holding the
    /// element is reported; the previous holder, if any, is no longer charged (its hold ends as
    /// if the element had been dropped there).
    ///
    /// Receiving an element never waits for the pool, so adopting is a try-acquisition: it
    /// records no dependency into the pool from what this thread holds. Adopting an element
    /// this thread holds already does nothing; adopting after a
    /// [`hand_off`](Element::hand_off) takes the element out of transit.
    ///
    /// # Examples
    ///
    /// A worker thread receiving buffers over a channel adopts each one: the submitting
    /// thread is free of them, and the worker is checked while it holds them.
    ///
    /// ```
    /// use lockdep::mempool::{Element, Mempool};
    /// use std::sync::mpsc;
    ///
    /// let pool = Mempool::new(4, || Some(vec![0u8; 16]));
    /// let (tx, rx) = mpsc::channel::<Element<Vec<u8>>>();
    /// let worker = std::thread::spawn(move || {
    ///     let mut total = 0u32;
    ///     for mut buf in rx {
    ///         buf.adopt(); // this thread holds the pool now, not the submitter
    ///         buf[0] += 1;
    ///         total += u32::from(buf[0]);
    ///     } // dropped here: the worker's hold ends
    ///     total
    /// });
    /// for _ in 0..3 {
    ///     let buf = pool.alloc();
    ///     buf.hand_off(); // optional: the submitter stops being charged right away
    ///     tx.send(buf).unwrap();
    /// }
    /// drop(tx);
    /// assert_eq!(worker.join().unwrap(), 3);
    /// ```
    #[track_caller]
    #[inline]
    pub fn adopt(&mut self) {
        self.hold.adopt(&self.pool.class);
    }

    /// Takes the object out of the pool for good: it is not returned when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::mempool::Mempool::new(1, || Some(String::from("kept")));
    /// let s: String = pool.alloc().into_inner();
    /// assert_eq!(s, "kept");
    /// assert_eq!(pool.outstanding(), 0);
    /// ```
    pub fn into_inner(self) -> T {
        let mut this = ManuallyDrop::new(self);
        this.hold.release();
        // SAFETY: `this` is never dropped, so each field is dropped or taken exactly once,
        // here.
        unsafe {
            std::ptr::drop_in_place(&mut this.hold);
            ManuallyDrop::drop(&mut this.pool);
            ManuallyDrop::take(&mut this.value)
        }
    }
}

impl<T> Drop for Element<T> {
    fn drop(&mut self) {
        // The hold ends when its field is dropped, right after.
        // SAFETY: `drop` runs once; the fields are not used after being taken.
        let (value, pool) = unsafe {
            (
                ManuallyDrop::take(&mut self.value),
                ManuallyDrop::take(&mut self.pool),
            )
        };
        pool.give_back(value);
    }
}

impl<T> Deref for Element<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Element<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Element<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Element").field(&*self.value).finish()
    }
}
