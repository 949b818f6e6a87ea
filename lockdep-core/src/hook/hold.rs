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
use crate::checker::{
    held::{with_thread, ThreadState},
    inbox::Inbox,
    types::{ClassId, Instance},
    validate::{commit, Acquisition},
};
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
    /// The holder's inbox and its generation; they change only through `&mut self`
    /// (adoption), when no other thread can see the hold.
    #[cfg(feature = "enabled")]
    owner: Option<&'static Inbox>,
    #[cfg(feature = "enabled")]
    generation: u64,
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
            owner: None,
            #[cfg(feature = "enabled")]
            generation: 0,
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
    pub(crate) fn begin(t: &ThreadState, acq: &Acquisition, counted: bool) -> Hold {
        if t.reentry.get() {
            return Hold::untracked();
        }
        t.sync_epoch();
        if !(counted && t.add_pool_hold(acq.class)) {
            if !commit(t, acq) {
                return Hold::untracked();
            }
            t.hold_entries.set(t.hold_entries.get() + 1);
        }
        let (owner, generation) = match t.inbox.get() {
            Some(inbox) => (inbox, t.inbox_generation.get()),
            None => {
                let _in_checker = t.enter();
                let (inbox, generation) = Inbox::open();
                t.inbox.set(Some(inbox));
                t.inbox_generation.set(generation);
                (inbox, generation)
            }
        };
        Hold {
            class: AtomicU32::new(acq.class),
            instance: acq.instance,
            owner: Some(owner),
            generation,
        }
    }

    /// True when the hold is live and belongs to this thread (its inbox, in the generation
    /// this thread owns). Adopting is then a no-op: releasing and taking the hold again would
    /// keep the count right but move the thread's entry to the top of its stack as a
    /// try-acquisition, changing which held locks get the dependencies of later acquisitions.
    #[inline]
    pub(crate) fn held_here(&self) -> bool {
        let Some(owner) = self.owner else {
            return false;
        };
        if self.class.load(Ordering::Relaxed) == 0 {
            return false;
        }
        with_thread(|t| {
            t.inbox
                .get()
                .is_some_and(|inbox| std::ptr::eq(inbox, owner))
                && t.inbox_generation.get() == self.generation
        })
    }

    /// Ends the hold now (when live), leaving it untracked: its holder is about to change.
    pub(crate) fn end(&mut self) {
        let class = std::mem::take(self.class.get_mut());
        self.release_class(class);
    }

    fn release_class(&self, class: ClassId) {
        let Some(owner) = self.owner else {
            return;
        };
        if class == 0 {
            return;
        }
        with_thread(|t| {
            let own = t
                .inbox
                .get()
                .is_some_and(|inbox| std::ptr::eq(inbox, owner));
            if own && t.inbox_generation.get() == self.generation {
                t.release_hold(self.instance);
            } else {
                // Posting allocates: as the checker's own work, or a `TrackingAllocator`
                // would validate (and drain this thread's inbox) under the owner's inbox lock.
                let _in_checker = t.enter();
                owner.post(self.generation, self.instance);
            }
        });
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
