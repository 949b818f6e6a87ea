//! The checker's front door: every call that locks, pools, condition variables, `LockdepMap`s,
//! the memory allocator and the facade make into the checker, and nothing else. The layers
//! above (`crate::hook` and up) name no other module of the checker, never touch a thread's
//! state and never build a violation: they describe what happens (an acquisition, a release,
//! a wait, a notify, an allocation, a hold) and the checker decides what it means.
//!
//! Kernel names where there are some: [`Pending::validated`] + [`Pending::commit`] is
//! `lock_acquire`, [`release`] `lock_release`, [`change_access`] `lock_downgrade`,
//! [`forget_lock`] `lockdep_free_key_range`.

use std::panic::Location;
use std::sync::Arc;

use lockdep_report::{Access, NodeKind, ViolationKind};

use super::inbox::Inbox;
use super::stack_trace::StackTrace;
use super::validate::with_context;
use super::violation::{Detail, LockDesc};
use super::{event, export, first_hold, graph, instance_order, registry, report, store, validate};
use crate::LockClass;

pub(crate) use super::types::{ClassId, Instance, ALLOCATOR_SITE};
pub(crate) use super::validate::{acquired, Acquired, Acquisition, OrderMemo, Pending};
pub(crate) use super::violation::ViolationData;

// ---- classes ----------------------------------------------------------------------------

/// Runs a registration, which allocates, as the checker's own work (a `TrackingAllocator`
/// must not come back into the registry); reports a full class table. `None` when the checker
/// is already running on this thread, or the table is full.
fn registering(register: impl FnOnce() -> Option<ClassId>) -> Option<ClassId> {
    with_context(|t| {
        let _in_checker = t.enter()?;
        let id = register();
        if id.is_none() {
            store::class_table_full();
        }
        id
    })
}

/// The class of everything of `kind` made at `site` for data of type `data_type` (`""`
/// for none), registered on first sight.
#[cold]
pub(crate) fn site_class(
    site: &'static Location<'static>,
    kind: NodeKind,
    data_type: &'static str,
) -> Option<ClassId> {
    registering(|| registry::site_class(site, kind, data_type))
}

/// The named class `class`, registered on first sight.
#[cold]
pub(crate) fn static_class(class: &'static LockClass) -> Option<ClassId> {
    registering(|| registry::static_class(class))
}

/// The class named `name` of `kind` (first made at `site`), registered on first sight.
pub(crate) fn named_class(
    name: &str,
    kind: NodeKind,
    site: &'static Location<'static>,
) -> Option<ClassId> {
    named_class_at(name, kind, Some(site))
}

fn named_class_at(
    name: &str,
    kind: NodeKind,
    site: Option<&'static Location<'static>>,
) -> Option<ClassId> {
    registering(|| {
        registry::register(
            registry::ClassKey::Named(name.to_owned(), kind),
            kind,
            site,
            || name.to_owned(),
        )
    })
}

/// The class of a primitive made without a site (`lock_api`'s `INIT`), found where it is
/// first used: named by the first frame of the user's code in this thread's stack (outside
/// `lock_api`, parking_lot and lockdep), registered on first sight. `None` when the stack has
/// no such frame. Captures and resolves a stack: once per such primitive.
#[cold]
pub(crate) fn class_of_first_use(kind: NodeKind) -> Option<ClassId> {
    let site = with_context(|t| {
        let _in_checker = t.enter()?;
        StackTrace::capture().user_site()
    })?;
    let name = site.to_string();
    named_class_at(&name, kind, None)
}

/// Nesting subclass `subclass` (≥ 1) of the class `base`; a subclass past the kernel's
/// `MAX_LOCKDEP_SUBCLASSES` is a fault.
pub(crate) fn subclass(base: ClassId, subclass: u32) -> Option<ClassId> {
    if subclass >= registry::MAX_SUBCLASSES {
        store::subclass_overflow();
        return None;
    }
    registering(|| registry::subclass(base, subclass))
}

/// The `ALLOC` class.
#[inline]
pub(crate) fn alloc_class() -> ClassId {
    registry::alloc_class()
}

/// A registered class's name, as reports print it.
pub(crate) fn class_name(class: ClassId) -> &'static str {
    registry::display_name(class)
}

/// Where a creation-site class (or a named pool) was made.
pub(crate) fn class_site(class: ClassId) -> Option<&'static Location<'static>> {
    registry::info(class).site
}

/// The name reports print for a class made at `site` for data of type `data_type` (`""`:
/// none).
pub(crate) fn site_name(site: &'static Location<'static>, data_type: &'static str) -> String {
    registry::site_display_name(site, data_type)
}

// ---- acquisitions and releases ----------------------------------------------------------

/// This context now holds the lock `instance`, of declared order key `key`.
#[cold]
pub(crate) fn hold_key(instance: Instance, key: u64) {
    with_context(|t| {
        if let Some(_in_checker) = t.enter() {
            t.note_key(instance, key);
        }
    });
}

/// This context released the keyed lock `instance`.
#[cold]
pub(crate) fn release_key(instance: Instance) {
    with_context(|t| t.forget_key(instance));
}

/// A nested acquisition (subclass > 0) of a lock this thread may already hold: reported
/// before blocking when it does.
#[inline]
pub(crate) fn check_same_lock(acq: &Acquisition) {
    validate::check_same_lock(acq);
}

/// A blocking upgradable read of `class` is about to be validated at `site`: it may wait for
/// another upgradable read, as a writer's may (see `validate::upgradable_read`).
#[inline]
pub(crate) fn upgradable_read(class: ClassId, site: &'static Location<'static>) {
    validate::upgradable_read(class, site);
}

/// `instance` was released: it leaves this context's held stack, from any position; false
/// when this context does not hold it (its guard was sent here from another thread).
/// (Re-exported rather than wrapped: in a test build a wrapper is a call of its own.)
pub(crate) use super::validate::release;

/// The lock `instance` was released by a context that does not hold it: its guard was sent
/// there (feature `send_guard`). The release is posted to `holder`, the context that took it,
/// which applies it before its next validation; if that thread has exited, its hold was no
/// leak.
#[cfg(feature = "send_guard")]
pub(crate) fn released_elsewhere(instance: Instance, holder: Option<Holder>) {
    with_context(|t| {
        let _in_checker = t.enter();
        if let Some(holder) = holder {
            holder.inbox.post_lock(holder.generation, instance);
        }
        super::exit::orphans::released(instance);
    });
}

/// The holder of what this context holds: its inbox (opened now if it has none) in the
/// generation it owns. `None` inside the checker.
#[cfg(feature = "send_guard")]
pub(crate) fn this_holder() -> Option<Holder> {
    with_context(|t| {
        if let Some(inbox) = t.inbox.get() {
            return Some(Holder {
                inbox,
                generation: t.inbox_generation.get(),
            });
        }
        let _in_checker = t.enter()?;
        let (inbox, generation) = Inbox::open();
        t.inbox.set(Some(inbox));
        t.inbox_generation.set(generation);
        Some(Holder { inbox, generation })
    })
}

/// Takes `instance` off the held stack for a wait that releases it (a condition variable),
/// returning how it was held, to be validated and held again after the wait.
#[inline]
pub(crate) fn suspend(instance: Instance) -> Option<(ClassId, Access)> {
    validate::suspend(instance)
}

/// Changes how `instance` is held, in place (a downgrade).
#[inline]
pub(crate) fn change_access(instance: Instance, access: Access) {
    validate::change_access(instance, access);
}

/// Whether `instance` is on this thread's held stack.
#[inline]
pub(crate) fn holds(instance: Instance) -> bool {
    validate::holds(instance)
}

/// Whether this thread holds anything (stale entries count: the caller then takes the full
/// path, which forgets them).
#[inline]
pub(crate) fn holds_any() -> bool {
    validate::holds_any()
}

/// The lock at `instance` is gone: the order among the locks of its class forgets it (its
/// address may next hold an unrelated lock).
#[inline]
pub(crate) fn forget_lock(instance: Instance) {
    instance_order::forget(instance);
}

pub(crate) use super::first_hold::FirstHold;

/// An acquisition of the lock at `instance` (blocking, or a try: `blocking`) as `access` at
/// `site`, before it is validated, while the lock's first hold, `state`, is not settled
/// (`book/src/rules.md`): true when this is its first acquisition, whose validation holds the
/// dependencies into it back until [`first_hold_end`]; false when the lock is settled now
/// (the dependencies held back count or not, and the cycles those that count close are
/// reported).
#[cold]
pub(crate) fn first_hold(
    instance: usize,
    state: &FirstHold,
    blocking: bool,
    access: Access,
    site: &'static Location<'static>,
) -> bool {
    validate::unsettled_acquisition(Instance::lock(instance), state, blocking, access, site)
}

/// The end of the first acquisition of the lock at `instance`: settled unless dependencies
/// into it are held back.
#[cold]
pub(crate) fn first_hold_end(instance: usize, state: &FirstHold) {
    first_hold::end(Instance::lock(instance), state);
}

/// The lock at `instance`, whose first hold held dependencies back, is gone: they go too.
#[cold]
pub(crate) fn forget_first_hold(instance: usize) {
    first_hold::forget(Instance::lock(instance));
}

/// The blocking acquisition `acq` may happen (it is not held after): validated now. Of an
/// event, a wait that may happen.
#[inline]
pub(crate) fn might_acquire(acq: &Acquisition, kind: NodeKind) {
    with_context(|t| {
        if t.reentry.get() {
            return;
        }
        if kind == NodeKind::Event {
            event::might_wait(t, acq.class, acq.site);
        } else {
            validate::validate(t, acq);
        }
    });
}

/// `ALLOC → class`, seen outside any held stack: memory reclaim may wait for the class (its
/// units are freed by reclaim), recorded at `site`. Checked like any new dependency.
pub(crate) fn add_reclaim_dependency(
    class: ClassId,
    site: &'static Location<'static>,
    instance: Instance,
) {
    validate::add_dependency(
        alloc_class(),
        Acquisition::blocking(class, Access::Write, site, instance),
    );
}

// ---- waits, for the watchdog ----------------------------------------------------------------

/// A wait of this context (a contended lock's slow path, a condition variable's or a pool's
/// wait) for the class `class` at `instance`, wanted at `site` as `access`: registered with the
/// watchdog (when `LOCKDEP_WATCHDOG` is set) until the value returned is dropped.
pub(crate) fn waiting(
    class: ClassId,
    instance: Instance,
    access: Access,
    site: &'static Location<'static>,
) -> super::watchdog::Waiting {
    with_context(|t| {
        // Inside the raw lock's slow path the checker is entered already (its parking is the
        // checker's own work): allocations here are not checked either way.
        let _in_checker = t.enter();
        super::watchdog::begin(t, class, instance, access, site)
    })
}

// ---- lock_stat ------------------------------------------------------------------------------

/// lock_stat (`LOCKDEP_STAT=1`): the lock at `instance`, of class `class`, was taken as
/// `access` at `site`; counted, and with `timed` its hold timed until [`stat_released`] on
/// this thread (not for a hold that ends wherever its guard is dropped).
#[cold]
pub(crate) fn stat_acquired(
    class: ClassId,
    access: Access,
    instance: usize,
    site: &'static Location<'static>,
    timed: bool,
) {
    as_checker(|| super::stat::acquired(class, access, instance, site, timed));
}

/// lock_stat: the lock at `instance` was released by this thread.
#[cold]
pub(crate) fn stat_released(instance: usize) {
    as_checker(|| super::stat::released(instance));
}

/// lock_stat: an acquisition of the lock at `instance`, of class `class`, as `access` at
/// `site` waits (a contended lock's slow path), timed until the value returned is dropped.
#[cold]
pub(crate) fn stat_contended(
    class: ClassId,
    access: Access,
    instance: usize,
    site: &'static Location<'static>,
) -> StatWait {
    StatWait(Some(as_checker(|| {
        super::stat::contended(class, access, instance, site)
    })))
}

/// A contended acquisition being timed for lock_stat (see [`stat_contended`]).
pub(crate) struct StatWait(Option<super::stat::Contention>);

impl Drop for StatWait {
    fn drop(&mut self) {
        if let Some(contention) = self.0.take() {
            as_checker(|| contention.end());
        }
    }
}

/// Runs `f` as the checker's own work (its allocations are not the user's), also when the
/// checker is running on this thread already.
fn as_checker<R>(f: impl FnOnce() -> R) -> R {
    with_context(|t| {
        let _in_checker = t.enter();
        f()
    })
}

// ---- tasks ------------------------------------------------------------------------------

/// A number for a new task that `lockdep::AsTask` gives a context of its own.
pub(crate) fn new_task() -> u64 {
    super::tasks::new_scoped_task()
}

/// The task `task` runs on this thread until [`leave_task`] with what this returns.
#[inline]
pub(crate) fn enter_task(task: u64) -> u64 {
    super::held::with_thread(|t| super::tasks::enter_scoped(t, task))
}

/// The end of [`enter_task`].
#[inline]
pub(crate) fn leave_task(previous: u64) {
    super::held::with_thread(|t| super::tasks::leave_scoped(t, previous));
}

// ---- events ------------------------------------------------------------------------------

/// This thread waits for `event` at `site`: `held → event`.
#[inline]
pub(crate) fn wait_event(event: ClassId, site: &'static Location<'static>) {
    with_context(|t| event::wait(t, event, site));
}

/// This thread notifies `event` at `site`: `event → X` for what it took on its way here.
#[inline]
pub(crate) fn notify_event(event: ClassId, site: &'static Location<'static>) {
    with_context(|t| event::notify(t, event, site));
}

// ---- holds that end on any thread -------------------------------------------------------

/// Who holds a hold made by [`begin_hold`]: a thread's inbox, in the generation that thread
/// owns. A release on another thread is posted there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Holder {
    inbox: &'static Inbox,
    generation: u64,
}

/// Puts `acq` on this thread's held stack as a hold that may end on any thread (a unit of a
/// counted class joins the entry the thread has for its class); its holder, or `None` when
/// nothing is tracked.
pub(crate) fn begin_hold(acq: &Acquisition, counted: bool) -> Option<Holder> {
    with_context(|t| {
        if t.reentry.get() {
            return None;
        }
        t.sync_epoch();
        hold_in(t, acq, counted)
    })
}

/// Validates the blocking acquisition `acq` and puts it on the held stack as a hold, at once:
/// [`begin_hold`] after the validation of [`might_acquire`], in one look at the context, for
/// a primitive that took what it wanted without waiting (an async lock's uncontended path).
///
/// A chain known here, the common case, is pushed at once (`validate::hold_known`): the
/// validation would find nothing to do.
#[cfg(feature = "tokio")] // used by the tokio drop-in only
pub(crate) fn validate_and_hold(acq: &Acquisition, counted: bool) -> Option<Holder> {
    with_context(|t| {
        if validate::hold_known(t, acq, counted) {
            hold_entry_pushed(t);
            return Some(holder(t));
        }
        if t.reentry.get() {
            return None;
        }
        validate::validate(t, acq);
        hold_in(t, acq, counted)
    })
}

/// [`begin_hold`] in the context `t`, its epoch synced.
#[inline]
fn hold_in(t: &super::held::Context, acq: &Acquisition, counted: bool) -> Option<Holder> {
    if !(counted && t.add_pool_hold(acq.class)) {
        if !validate::commit(t, acq) {
            return None;
        }
        hold_entry_pushed(t);
    }
    Some(holder(t))
}

/// `t` has one more entry made through a hold, which another thread may end: its inbox is
/// looked at before each validation, and so it is no longer quiet (the quiet path does not
/// look).
#[inline(always)]
fn hold_entry_pushed(t: &super::held::Context) {
    t.unquiet();
    t.hold_entries.set(t.hold_entries.get() + 1);
}

/// `t` as the holder of what it holds, its inbox opened now if it has none.
#[inline(always)]
fn holder(t: &super::held::Context) -> Holder {
    match t.inbox.get() {
        Some(inbox) => Holder {
            inbox,
            generation: t.inbox_generation.get(),
        },
        None => open_inbox(t),
    }
}

/// [`holder`] of a context without an inbox: its first hold.
#[cold]
#[inline(never)]
fn open_inbox(t: &super::held::Context) -> Holder {
    let _in_checker = t.enter();
    let (inbox, generation) = Inbox::open();
    t.inbox.set(Some(inbox));
    t.inbox_generation.set(generation);
    Holder { inbox, generation }
}

/// Who holds a lock exclusively, kept in the lock (feature `send_guard`: its guard may be
/// dropped on another thread, which then posts the release to the holder).
#[cfg(feature = "send_guard")]
#[derive(Debug)]
pub(crate) struct HolderCell {
    inbox: std::sync::atomic::AtomicPtr<Inbox>,
    generation: std::sync::atomic::AtomicU64,
}

#[cfg(feature = "send_guard")]
impl HolderCell {
    pub(crate) const fn new() -> HolderCell {
        HolderCell {
            inbox: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Records the holder (`None`: not known, e.g. one of several readers). Written by the
    /// lock's owner only, between taking the raw lock and releasing it.
    pub(crate) fn set(&self, holder: Option<Holder>) {
        use std::sync::atomic::Ordering::Relaxed;
        let (inbox, generation) = holder.map_or((std::ptr::null_mut(), 0), |h| {
            (h.inbox as *const Inbox as *mut Inbox, h.generation)
        });
        self.generation.store(generation, Relaxed);
        self.inbox.store(inbox, Relaxed);
    }

    /// The holder recorded, if any.
    pub(crate) fn get(&self) -> Option<Holder> {
        use std::sync::atomic::Ordering::Relaxed;
        let inbox = self.inbox.load(Relaxed);
        // SAFETY: a non-null pointer here came from an `&'static Inbox`.
        let inbox: &'static Inbox = unsafe { inbox.as_ref() }?;
        Some(Holder {
            inbox,
            generation: self.generation.load(Relaxed),
        })
    }
}

impl Holder {
    /// Whether this is the current thread.
    #[inline]
    pub(crate) fn is_this_thread(self) -> bool {
        with_context(|t| self.owns(t))
    }

    fn owns(self, t: &super::held::Context) -> bool {
        t.inbox
            .get()
            .is_some_and(|inbox| std::ptr::eq(inbox, self.inbox))
            && t.inbox_generation.get() == self.generation
    }

    /// Ends the hold of `instance`: here if this thread is its holder, else posted to the
    /// holder, which applies it before its next validation.
    pub(crate) fn end(self, instance: Instance) {
        with_context(|t| {
            if self.owns(t) {
                t.release_hold(instance);
                super::tasks::give_back_if_empty(t);
            } else {
                // Posting allocates: as the checker's own work, or a `TrackingAllocator`
                // would validate (and drain this thread's inbox) under the owner's inbox lock.
                let _in_checker = t.enter();
                self.inbox.post(self.generation, instance);
            }
        });
    }
}

// ---- memory ------------------------------------------------------------------------------

/// This thread may allocate memory at `site`, which may wait for reclaim: `held → ALLOC`.
/// Not `#[inline]`: compiled here the thread-local access is a plain TLS offset, while
/// inlined into the crate that installs a `TrackingAllocator` it would go through
/// `LocalKey`'s accessor.
pub(crate) fn might_alloc(site: &'static Location<'static>) {
    with_context(|t| validate::might_alloc(t, site));
}

/// Runs as memory reclaim from now (a `reclaim_scope`): holds `ALLOC`. False when nothing is
/// tracked (then [`leave_reclaim`] is not to be called).
pub(crate) fn enter_reclaim(site: &'static Location<'static>) -> bool {
    let class = alloc_class();
    let instance = Instance::class(class);
    Pending::validated(Acquisition::blocking(class, Access::Write, site, instance)).commit(instance)
}

/// The end of a reclaim scope that [`enter_reclaim`] tracked.
pub(crate) fn leave_reclaim() {
    release(Instance::class(alloc_class()));
}

/// Whether this thread runs as memory reclaim now.
pub(crate) fn in_reclaim() -> bool {
    holds(Instance::class(alloc_class()))
}

/// Allocations from now until [`leave_noreclaim`] cannot enter reclaim (`GFP_NOIO`).
#[inline]
pub(crate) fn enter_noreclaim() {
    with_context(|t| t.noreclaim.set(t.noreclaim.get() + 1));
}

/// The end of a [`enter_noreclaim`] scope.
#[inline]
pub(crate) fn leave_noreclaim() {
    with_context(|t| t.noreclaim.set(t.noreclaim.get() - 1));
}

/// Runs `f` as the checker's own work: nothing inside is validated or recorded (the kernel's
/// `lockdep_off()`).
#[inline]
pub(crate) fn untracked<R>(f: impl FnOnce() -> R) -> R {
    with_context(|t| {
        let _in_checker = t.enter();
        f()
    })
}

// ---- faults and violations ---------------------------------------------------------------

/// A pool (of class `pool`, made at `site`) was dropped with `outstanding` elements out.
pub(crate) fn report_outstanding(
    pool: ClassId,
    outstanding: usize,
    site: &'static Location<'static>,
) {
    let site = class_site(pool).unwrap_or(site);
    with_context(|t| {
        let Some(_in_checker) = t.enter() else {
            return;
        };
        let held = t.snapshot().iter().map(LockDesc::from).collect();
        store::record(ViolationData::new(
            ViolationKind::PoolDroppedWithOutstanding,
            Detail::PoolOutstanding {
                pool,
                outstanding,
                site,
            },
            held,
            StackTrace::default(),
        ));
    });
}

/// The violations recorded and not yet taken.
pub(crate) fn violations() -> Vec<Arc<ViolationData>> {
    store::pending()
}

/// The violations recorded, removing them.
pub(crate) fn take_violations() -> Vec<Arc<ViolationData>> {
    store::take()
}

/// The full text report of the violations recorded and not taken.
pub(crate) fn report_text() -> String {
    report::full(&store::pending())
}

/// A violation's kernel-style text.
pub(crate) fn violation_text(data: &ViolationData) -> report::Report<'_> {
    report::Report(data)
}

/// A violation as JSON.
pub(crate) fn violation_json(data: &ViolationData) -> String {
    export::violation_json(data)
}

/// A violation's cycle as DOT.
pub(crate) fn violation_dot(data: &ViolationData) -> String {
    export::violation_dot(data)
}

/// The whole graph as JSON.
pub(crate) fn graph_json() -> String {
    export::graph_json()
}

/// The whole graph as DOT.
pub(crate) fn graph_dot() -> String {
    export::graph_dot()
}

/// Sizes of the checker's tables: classes, dependencies, validated chains, graph bytes.
pub(crate) fn table_sizes() -> (usize, usize, usize, usize) {
    let graph = graph::lock();
    (
        registry::count() as usize,
        graph.edge_count(),
        super::chains::count(),
        graph.heap_bytes(),
    )
}
