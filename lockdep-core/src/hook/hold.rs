//! Holds taken through a [`LockdepMap`](crate::LockdepMap): a lock of the user's own, or a
//! unit of a counted class (a mempool element, a semaphore permit), held by one thread at a
//! time and ended on any thread.
//!
//! The hold belongs to the thread that took it, or the one that last adopted it
//! ([`Hold::adopt`]). Only that thread may touch its held stack: a release on another thread
//! is posted to the holder's inbox, which the holder drains before its next validation. The
//! units of one counted class that a thread holds collapse into one held entry with a count.
//!
//! Written once for both builds: without the `enabled` feature a `Hold` is empty and every
//! call does nothing.

#[cfg(feature = "enabled")]
use crate::checker::entry::{self, Acquisition, ClassId, Holder, Instance};
#[cfg(feature = "enabled")]
use std::sync::atomic::{AtomicU32, Ordering};

/// A hold on a class of a [`LockdepMap`](crate::LockdepMap), from the acquisition that made
/// it to its release: dropping it (or [`release`](Hold::release)) ends it, on whichever
/// thread. `Send` and `Sync`, so that what it stands for (a permit, a pool element) can travel.
///
/// # Examples
///
/// ```
/// use lockdep::{ClassKind, LockdepMap};
///
/// let permits = LockdepMap::new(ClassKind::Pool);
/// let hold = permits.try_acquired();
/// std::thread::spawn(move || drop(hold)).join().unwrap(); // released on another thread
/// ```
#[derive(Debug)]
pub struct Hold {
    /// 0 once released (or never tracked): swapped to 0 by whoever releases first, so that a
    /// release through `&self` happens once.
    #[cfg(feature = "enabled")]
    class: AtomicU32,
    #[cfg(feature = "enabled")]
    instance: Instance,
    /// Who holds it; changed only through `&mut self` (adoption), when no other thread can
    /// see the hold.
    #[cfg(feature = "enabled")]
    holder: Option<Holder>,
}

impl Hold {
    /// A hold that tracks nothing (checker off, or a class it could not register).
    pub(crate) const fn untracked() -> Hold {
        Hold {
            #[cfg(feature = "enabled")]
            class: AtomicU32::new(0),
            #[cfg(feature = "enabled")]
            instance: Instance::NONE,
            #[cfg(feature = "enabled")]
            holder: None,
        }
    }

    /// Ends the hold now, on whichever thread: what it stands for was handed to a thread
    /// that will not be its holder (a queue, a pool of its own). Idempotent: dropping it
    /// later does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = lockdep::LockdepMap::new(lockdep::ClassKind::Pool);
    /// let hold = map.try_acquired();
    /// hold.release();
    /// hold.release(); // nothing more
    /// ```
    #[inline]
    pub fn release(&self) {
        #[cfg(feature = "enabled")]
        self.release_class(self.class.swap(0, Ordering::AcqRel));
    }
}

#[cfg(feature = "enabled")]
impl Hold {
    /// Puts `acq` on this thread's held stack (a unit of a counted class joins the entry the
    /// thread has for its class) and returns the hold that ends it.
    pub(crate) fn begin(acq: &Acquisition, counted: bool) -> Hold {
        Hold::of(acq, entry::begin_hold(acq, counted))
    }

    /// Validates the blocking acquisition `acq` and holds it at once (it was taken without
    /// waiting): see `entry::validate_and_hold`.
    ///
    /// Inlined, as [`release_class`](Hold::release_class): an async lock's acquisition is one
    /// call into the checker, and the hold is made from what it returns in registers.
    #[cfg(feature = "tokio")] // used by the tokio drop-in only
    #[inline]
    pub(crate) fn validate_and_begin(acq: &Acquisition, counted: bool) -> Hold {
        Hold::of(acq, entry::validate_and_hold(acq, counted))
    }

    /// The hold of `acq` by `holder` (none: untracked).
    #[inline]
    fn of(acq: &Acquisition, holder: Option<Holder>) -> Hold {
        match holder {
            Some(holder) => Hold {
                class: AtomicU32::new(acq.class),
                instance: acq.instance,
                holder: Some(holder),
            },
            None => Hold::untracked(),
        }
    }

    /// True when the hold is live and belongs to this thread. Adopting is then a no-op:
    /// releasing and taking the hold again would keep the count right but move the thread's
    /// entry to the top of its stack as a try-acquisition, changing which held locks get the
    /// dependencies of later acquisitions.
    #[inline]
    pub(crate) fn held_here(&self) -> bool {
        self.class.load(Ordering::Relaxed) != 0 && self.holder.is_some_and(Holder::is_this_thread)
    }

    /// Ends the hold now (when live), leaving it untracked: its holder is about to change.
    pub(crate) fn end(&mut self) {
        let class = std::mem::take(self.class.get_mut());
        self.release_class(class);
    }

    /// Ends the hold if `class` (its class, taken from it) is not 0. Inlined into the guard's
    /// or permit's drop: the release is one call into the checker, [`Holder::end`].
    #[inline]
    fn release_class(&self, class: ClassId) {
        if let (Some(holder), true) = (self.holder, class != 0) {
            holder.end(self.instance);
        }
    }
}

impl Drop for Hold {
    /// Ends the hold unless released before. No atomic operation: nothing else can see the
    /// hold any more.
    #[inline]
    fn drop(&mut self) {
        #[cfg(feature = "enabled")]
        {
            let class = std::mem::take(self.class.get_mut());
            self.release_class(class);
        }
    }
}
