//! The class of one tokio-shaped lock or semaphore, and the checker calls its operations
//! make: a blocking acquisition is validated when its future is first polled (or before a
//! blocking wait) and held once it succeeds, through a [`Hold`] that ends on whichever task or
//! thread drops the guard; a try is held without a dependency of its own.

use std::panic::Location;

use ::tokio::sync::SemaphorePermit;

use crate::checker::entry::{Acquisition, StatWait};
use crate::hook::hold::Hold;
use crate::hook::lock_map::LockMap;
use crate::ClassKind;
use lockdep_report::Access;

/// The class of a tokio-shaped primitive, kept in it: a lock's is its creation site and data
/// type (each lock an instance, its address on the held stack); a semaphore's is a counted
/// class (`ClassKind::Pool`, as a mempool's) of its creation site, the permits a context holds
/// collapsing into one held entry.
#[derive(Debug)]
pub(crate) struct AsyncClass {
    map: LockMap,
}

/// A hold of a tokio-shaped primitive by a guard or permit: none when the checker was off at
/// the acquisition (so that a guard made then costs nothing more to drop than tokio's).
#[derive(Debug, Default)]
pub(crate) struct Held(Option<Hold>);

impl Held {
    /// Nothing held.
    pub(crate) const NONE: Held = Held(None);

    /// Ends the hold now (on whichever task or thread): nothing is held after.
    #[inline]
    pub(crate) fn end(&mut self) {
        drop(self.0.take());
    }

    /// The hold, leaving nothing held here (it moves to another guard or permit).
    #[inline]
    pub(crate) fn take(&mut self) -> Held {
        Held(self.0.take())
    }
}

/// A blocking acquisition, validated and not yet held: the primitive waits, then makes it a
/// hold with [`AsyncClass::acquired`]. Dropped instead (a future cancelled while it waited),
/// nothing is held. `None` while the checker is off. With lock_stat, a wait after a failed
/// try at the first poll is timed until the acquisition (or the cancellation).
pub(crate) struct Validated(Option<Acquisition>, Option<StatWait>);

impl AsyncClass {
    /// The class of every lock made at `site` for data of type `T`.
    #[inline]
    pub(crate) const fn lock<T: ?Sized>(site: &'static Location<'static>) -> AsyncClass {
        AsyncClass {
            map: LockMap::at_site::<T>(site),
        }
    }

    /// The counted class of every semaphore made at `site`.
    #[inline]
    pub(crate) const fn semaphore(site: &'static Location<'static>) -> AsyncClass {
        AsyncClass {
            map: LockMap::untyped_at_site(ClassKind::Pool, site),
        }
    }

    /// Validates a blocking acquisition as `access` at `site`, before the primitive waits:
    /// `held → class` for what this context holds, and a class it holds already is reported
    /// (the same lock twice, or a permit of a semaphore it holds one of: pool recursion).
    #[inline]
    pub(crate) fn validate(&self, access: Access, site: &'static Location<'static>) -> Validated {
        let acq = self.map.own_acquisition(access, false, site);
        if let Some(acq) = &acq {
            self.map.validate_own(acq);
        }
        Validated(acq, None)
    }

    /// A blocking acquisition as `access` at `site`, at its future's first poll, given what
    /// a try of the primitive did: a permit it took is validated and held at once, in one
    /// look at the context (`Ok`, then kept for good); else the acquisition is validated, for
    /// the primitive to wait and then hold it with [`acquired`](AsyncClass::acquired).
    ///
    /// The permit is forgotten only after the validation, so that a validation that panics
    /// (mode `panic`) gives it back as it unwinds instead of leaving the primitive taken by
    /// nobody.
    ///
    /// Callers take the `Validated` out in a statement of its own and wait after it: a match
    /// whose arm awaits keeps the whole `Result` in the future beside what the arm bound (80
    /// bytes more in a `lock` future, which its caller moves whole when it awaits it).
    #[inline]
    pub(crate) fn at_first_poll<E>(
        &self,
        tried: Result<SemaphorePermit<'_>, E>,
        access: Access,
        site: &'static Location<'static>,
    ) -> Result<Held, Validated> {
        match tried {
            Ok(permit) => {
                let held = Held(self.map.acquired_at_once(access, site));
                permit.forget();
                if held.0.is_some() && crate::mode::stat_on() {
                    self.stat_acquired(access, site);
                }
                Ok(held)
            }
            Err(_) => {
                let Validated(acq, _) = self.validate(access, site);
                // The try failed: the future waits (its polls until it has the permit).
                let wait = acq.as_ref().and_then(|acq| self.map.stat_wait(acq));
                Err(Validated(acq, wait))
            }
        }
    }

    /// The validated acquisition succeeded: held by this context from now on, until the
    /// returned hold ends.
    #[inline]
    pub(crate) fn acquired(&self, validated: Validated) -> Held {
        let Validated(acq, wait) = validated;
        drop(wait);
        Held(acq.map(|acq| {
            self.map.stat_acquired(&acq);
            self.map.begin_hold(&acq)
        }))
    }

    /// lock_stat: an acquisition as `access` at `site` that did not wait.
    #[cold]
    fn stat_acquired(&self, access: Access, site: &'static Location<'static>) {
        if let Some(acq) = self.map.own_acquisition(access, false, site) {
            self.map.stat_acquired(&acq);
        }
    }

    /// The validated acquisition of an owned guard or permit succeeded: held by nobody. Owned
    /// guards and permits are made to be moved, into a spawned task above all (tokio's own
    /// example hands each `acquire_owned` permit to the task it spawns), and a move is not
    /// seen: held by the acquirer, the next acquisition would be reported as the same lock
    /// taken twice, or pool recursion, while another task has the first. The acquisition was
    /// validated (what the acquirer holds → the class); what the owner takes while it has the
    /// guard records no dependency on it.
    #[inline]
    pub(crate) fn handed_over(&self, validated: Validated) -> Held {
        let Validated(acq, wait) = validated;
        drop(wait);
        if let Some(acq) = &acq {
            self.map.stat_acquired(acq);
        }
        Held::NONE
    }

    /// A try that succeeded, as `access` at `site`: held, with no dependency of its own (a
    /// try never waits).
    #[inline]
    pub(crate) fn tried(&self, access: Access, site: &'static Location<'static>) -> Held {
        Held(
            self.map
                .own_acquisition(access, true, site)
                .map(|acq| self.map.begin_hold(&acq)),
        )
    }

    /// This context's exclusive hold of the lock becomes shared (a downgrade: weaker, so
    /// nothing to validate). A downgrade in another context than the holder's leaves the hold
    /// exclusive.
    #[inline]
    pub(crate) fn downgrade(&self) {
        self.map.change_access(self.instance(), Access::Read);
    }

    /// The lock's identity on the held stack: its map's address (`LockMap::own_acquisition`).
    #[inline]
    fn instance(&self) -> usize {
        &self.map as *const LockMap as usize
    }
}

/// A lock that is gone leaves the order among the locks of its class: its address may next
/// hold an unrelated lock.
impl Drop for AsyncClass {
    #[inline]
    fn drop(&mut self) {
        self.map.forget(self.instance());
    }
}
