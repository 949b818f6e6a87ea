//! Waits for events and their notifiers, in the graph of lock dependencies: the rule of the
//! kernel's DEPT (`Documentation/dependency/dept.txt`) for condition variables and for any
//! class a primitive marks with `LockMap::wait`/`LockMap::notify`.
//!
//! An event `E` is a class that is never held. A thread that waits for `E` while holding `X`
//! records `X → E`, validated like an acquisition of `E` (the condition variable's own mutex is
//! off the held stack for the wait). A thread that notifies `E` records `E → X` for every `X`
//! on its way to the notify: held then (taken blocking), or acquired blocking since it last
//! waited for any event (see `notify_path`). So `X → E → X` closes when one thread may wait for
//! `E` holding `X` while the notifier needs `X` to get to the notify, whichever half is seen
//! first.

use std::panic::Location;

use super::chain_key;
use super::chains;
use super::held::{Cached, Context};
use super::store;
use super::types::{Access, ClassId, Instance};
use super::validate::{check_dependency, sync_held, validate_unnoted, Acquisition};
use super::violation::LockDesc;

/// This thread waits for `event` at `site` with its held stack as it is (a condition
/// variable's mutex already taken off): `held → event`. What it acquired before the wait is
/// no longer on its way to a later notify.
#[inline]
pub(crate) fn wait(t: &Context, event: ClassId, site: &'static Location<'static>) {
    if t.reentry.get() {
        return;
    }
    might_wait(t, event, site);
    t.notify_path.restart();
}

/// This thread may wait for `event` at `site` (a send on a channel that may be full):
/// `held → event`, validated now. Not on the way to a notify: an event is not taken. The
/// caller has checked that the checker is not running on this thread.
#[inline]
pub(crate) fn might_wait(t: &Context, event: ClassId, site: &'static Location<'static>) {
    validate_unnoted(
        t,
        &Acquisition::blocking(event, Access::Write, site, Instance::class(event)),
    );
}

/// This thread notifies `event` at `site`: `event → X` for every blocking acquisition on its
/// way here. Each dependency is looked up in the chain caches first (as the two-entry chain
/// `event, X`, which no held stack has: an event is never held), so a notify that repeats a
/// path costs a few hashes.
#[inline]
pub(crate) fn notify(t: &Context, event: ClassId, site: &'static Location<'static>) {
    if t.reentry.get() {
        return;
    }
    sync_held(t);
    let base = chain_key::extend(0, chain_key::acquisition(event, Access::Write));
    for i in 0..t.depth() {
        let h = t.get(i);
        // A try-acquisition cannot keep the notifier from the notify.
        if h.linked_below {
            depend(t, base, event, site, h.class, h.access, h.site());
        }
    }
    for (class, access, taken_at) in t.notify_path.entries() {
        depend(t, base, event, site, class, access, taken_at);
    }
}

/// `event → class` (acquired as `access` at `taken_at`), unless already known.
#[inline]
fn depend(
    t: &Context,
    base: u64,
    event: ClassId,
    site: &'static Location<'static>,
    class: ClassId,
    access: Access,
    taken_at: &'static Location<'static>,
) {
    if class == event {
        return;
    }
    let key = chain_key::extend(base, chain_key::acquisition(class, access));
    if t.chain_cached(key) == Cached::No {
        depend_slow(t, key, event, site, class, access, taken_at);
    }
}

#[cold]
#[inline(never)]
fn depend_slow(
    t: &Context,
    key: u64,
    event: ClassId,
    site: &'static Location<'static>,
    class: ClassId,
    access: Access,
    taken_at: &'static Location<'static>,
) {
    let Some(_in_checker) = t.enter() else {
        return;
    };
    if !chains::is_validated(key) {
        // The notifier as if it held the event since `site`, acquiring `class`.
        let acq = Acquisition::blocking(class, access, taken_at, Instance::class(class));
        let mut found = check_dependency(event, site, &acq);
        if !found.is_empty() {
            // The report shows what the notifier really holds, not the event.
            let held: Vec<LockDesc> = t.snapshot().iter().map(LockDesc::from).collect();
            for v in &mut found {
                v.held.clone_from(&held);
            }
        }
        chains::mark_validated(key);
        store::record_all(found);
    }
    t.cache_chain(key, false);
}
