//! An element taken from a pool.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use lockdep_core::__pool::ElementHold;

use crate::pool::Shared;

/// An object taken from a [`Mempool`](crate::Mempool). Dropping it, on any thread, returns it
/// to the pool (refilling the reserve first).
///
/// The allocating thread holds the pool's class until the element is dropped or
/// [handed off](Element::hand_off): blocking on a lock meanwhile records `pool → lock`.
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
    hold: ElementHold,
}

impl<T> Element<T> {
    pub(crate) fn new(value: T, pool: Arc<Shared<T>>, hold: ElementHold) -> Self {
        Element {
            value: ManuallyDrop::new(value),
            pool: ManuallyDrop::new(pool),
            hold,
        }
    }

    /// Ends this thread's hold on the pool without returning the element: for an element
    /// handed to something that completes later (a submitted request freed by its completion),
    /// so that what this thread does next is not attributed to the element.
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
