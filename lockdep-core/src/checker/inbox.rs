//! Inboxes: releases of holds (pool elements, any `Hold` of a lockdep map) posted to the
//! thread that holds them by the threads that ended them.
//!
//! A hold may end on any thread, but only its holder's thread may touch its held stack. So a
//! foreign release posts the hold's instance to the holder's inbox, and the holder applies it
//! before its next validation.
//!
//! Inboxes live for the rest of the process and are reused by later threads, so that an
//! element refers to its thread's inbox by a plain `&'static` (no reference count to touch per
//! element). The generation, bumped when a thread exits, keeps a late release from reaching
//! the next thread that uses the inbox.
//!
//! Lock order: an inbox's lock is innermost; nothing that allocates through a
//! `TrackingAllocator` may validate while holding it, so a poster enters the checker first.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::types::{lock, Instance};

/// Releases posted to one thread.
pub(crate) struct Inbox {
    /// Set when `released` may be non-empty: the owner's check costs one load.
    pending: AtomicBool,
    state: Mutex<InboxState>,
}

struct InboxState {
    generation: u64,
    /// Holds ended elsewhere (units of counted classes, `LockdepMap` holds).
    released: Vec<Instance>,
    /// Locks released elsewhere: guards sent to and dropped on another thread (feature
    /// `send_guard`).
    released_locks: Vec<Instance>,
}

/// What was posted to an inbox since it was last looked at.
#[derive(Default)]
pub(crate) struct Posted {
    pub(crate) holds: Vec<Instance>,
    pub(crate) locks: Vec<Instance>,
}

/// Inboxes of exited threads, for reuse.
static FREE: Mutex<Vec<&'static Inbox>> = Mutex::new(Vec::new());

impl Inbox {
    /// An inbox for a new thread (reused from an exited thread, or created) and its
    /// generation. Allocates: the caller has entered the checker.
    pub(crate) fn open() -> (&'static Inbox, u64) {
        let inbox = lock(&FREE).pop().unwrap_or_else(|| {
            Box::leak(Box::new(Inbox {
                pending: AtomicBool::new(false),
                state: Mutex::new(InboxState {
                    generation: 0,
                    released: Vec::new(),
                    released_locks: Vec::new(),
                }),
            }))
        });
        let generation = lock(&inbox.state).generation;
        (inbox, generation)
    }

    /// Posts the release of one hold of `instance` to the owner of `generation`; dropped if
    /// that thread has exited (its holds went with it). Allocates: the caller has entered the
    /// checker.
    pub(crate) fn post(&self, generation: u64, instance: Instance) {
        let mut state = lock(&self.state);
        if state.generation == generation {
            state.released.push(instance);
            self.pending.store(true, Ordering::Release);
        }
    }

    /// Posts the release of the lock `instance`, which the owner of `generation` took and
    /// another thread released (its guard was sent there). Allocates: the caller has entered
    /// the checker.
    #[cfg(feature = "send_guard")]
    pub(crate) fn post_lock(&self, generation: u64, instance: Instance) {
        let mut state = lock(&self.state);
        if state.generation == generation {
            state.released_locks.push(instance);
            self.pending.store(true, Ordering::Release);
        }
    }

    /// Whether anything was posted since the last [`take`](Inbox::take).
    #[cfg(any(feature = "send_guard", feature = "tokio"))]
    #[inline]
    pub(crate) fn has_posts(&self) -> bool {
        self.pending.load(Ordering::Relaxed)
    }

    /// The releases posted since the last call (none without touching the lock when nothing
    /// was posted).
    #[inline]
    pub(crate) fn take(&self) -> Posted {
        if self.pending.swap(false, Ordering::Acquire) {
            let mut state = lock(&self.state);
            Posted {
                holds: std::mem::take(&mut state.released),
                locks: std::mem::take(&mut state.released_locks),
            }
        } else {
            Posted::default()
        }
    }

    /// Gives the inbox back for reuse when its thread exits: releases still in flight for
    /// that thread are dropped.
    pub(crate) fn close(&'static self) {
        {
            let mut state = lock(&self.state);
            state.generation += 1;
            state.released.clear();
            state.released_locks.clear();
        }
        self.pending.store(false, Ordering::Relaxed);
        lock(&FREE).push(self);
    }
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Inbox { .. }")
    }
}
