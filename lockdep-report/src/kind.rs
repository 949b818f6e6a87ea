//! What a report is about ([`ViolationKind`]), what a node of the dependency graph stands for
//! ([`NodeKind`]), and the rule that tells a cycle's kind from its nodes ([`cycle_kind`]): one
//! definition for the checker and for the merge of many processes' report files.

use std::fmt;

/// What a violation is about.
///
/// # Examples
///
/// ```
/// use lockdep_report::ViolationKind;
///
/// assert_eq!(ViolationKind::MempoolLivelock.as_str(), "mempool_livelock");
/// assert_eq!(ViolationKind::from_name("mempool_livelock"), Some(ViolationKind::MempoolLivelock));
/// assert_eq!(ViolationKind::MempoolLivelock.headline(), "possible mempool livelock detected");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ViolationKind {
    /// A closed (strong) cycle of lock dependencies: ABBA, ABBCCA, …
    CircularDependency,
    /// A class taken again while held (AA) that no order between instances can make safe:
    /// memory reclaim recursing into `ALLOC`. (Two locks of one class are ordered by
    /// instance instead: taken in both orders they are a [`CircularDependency`].)
    ///
    /// [`CircularDependency`]: ViolationKind::CircularDependency
    RecursiveLock,
    /// The very lock this thread already holds, taken again (directly, or through another
    /// nesting subclass): a self-deadlock, certain when either hold is exclusive, and for two
    /// non-recursive reads as soon as a writer queues between them. No annotation fixes it.
    SameLockTwice,
    /// A cycle through the `ALLOC` node and a mempool: the mempool livelock.
    MempoolLivelock,
    /// A cycle through an event (a `Condvar`, or any class marked with
    /// `LockdepMap::wait`): a thread waits for the event while holding a lock that the event's
    /// notifier takes on its way to notifying it.
    WaitDeadlock,
    /// A blocking allocation from a pool whose element this thread already holds.
    PoolRecursion,
    /// A thread exited while holding a lock (a leaked guard).
    LockHeldAtExit,
    /// A mempool was dropped while some of its elements were still outstanding.
    PoolDroppedWithOutstanding,
    /// More locks held at once than the held-lock stack can track; the checker turned itself off.
    HeldDepthOverflow,
    /// A table of the checker (classes, edges, chains) is full; the checker turned itself off.
    TableOverflow,
    /// A tokio task suspended (at an `.await`) while holding a blocking lock: another task on
    /// its worker that takes the lock blocks the thread the first one needs, and the lock
    /// stays held for as long as the task sleeps.
    HeldAcrossAwait,
    /// Two locks of one class with declared order keys nested against their order (by
    /// increasing key): reported at first sight, without waiting for the other order.
    DeclaredOrder,
    /// A wait for a lock, condition variable or pool element lasted longer than the
    /// watchdog allows (`LOCKDEP_WATCHDOG`): the process is stopped with a report of who waits
    /// for what and who holds what, instead of hanging.
    Hang,
}

impl ViolationKind {
    /// Every kind, in declaration order.
    pub const ALL: [ViolationKind; 13] = [
        ViolationKind::CircularDependency,
        ViolationKind::RecursiveLock,
        ViolationKind::SameLockTwice,
        ViolationKind::MempoolLivelock,
        ViolationKind::WaitDeadlock,
        ViolationKind::PoolRecursion,
        ViolationKind::LockHeldAtExit,
        ViolationKind::PoolDroppedWithOutstanding,
        ViolationKind::HeldDepthOverflow,
        ViolationKind::TableOverflow,
        ViolationKind::HeldAcrossAwait,
        ViolationKind::DeclaredOrder,
        ViolationKind::Hang,
    ];

    /// A stable snake_case name, used in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            ViolationKind::CircularDependency => "circular_dependency",
            ViolationKind::RecursiveLock => "recursive_lock",
            ViolationKind::SameLockTwice => "same_lock_twice",
            ViolationKind::MempoolLivelock => "mempool_livelock",
            ViolationKind::WaitDeadlock => "wait_deadlock",
            ViolationKind::PoolRecursion => "pool_recursion",
            ViolationKind::LockHeldAtExit => "lock_held_at_exit",
            ViolationKind::PoolDroppedWithOutstanding => "pool_dropped_with_outstanding",
            ViolationKind::HeldDepthOverflow => "held_depth_overflow",
            ViolationKind::TableOverflow => "table_overflow",
            ViolationKind::HeldAcrossAwait => "held_across_await",
            ViolationKind::DeclaredOrder => "declared_order",
            ViolationKind::Hang => "hang",
        }
    }

    /// The kind named `name` by [`as_str`](ViolationKind::as_str); `None` for any other text.
    pub fn from_name(name: &str) -> Option<ViolationKind> {
        ViolationKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The report's title line (after `WARNING: ` or `BUG: `), as the kernel words it.
    pub const fn headline(self) -> &'static str {
        match self {
            ViolationKind::CircularDependency => "possible circular locking dependency detected",
            ViolationKind::RecursiveLock => "possible recursive locking detected",
            ViolationKind::SameLockTwice => "this thread already holds this very lock",
            ViolationKind::MempoolLivelock => "possible mempool livelock detected",
            ViolationKind::WaitDeadlock => "possible wait/notify deadlock detected",
            ViolationKind::PoolRecursion => "possible mempool recursion detected",
            ViolationKind::LockHeldAtExit => "lock held when thread exits!",
            ViolationKind::PoolDroppedWithOutstanding => {
                "mempool dropped with elements outstanding!"
            }
            ViolationKind::HeldDepthOverflow => "MAX_LOCK_DEPTH too low!",
            ViolationKind::TableOverflow => "lockdep table too small!",
            ViolationKind::HeldAcrossAwait => "blocking lock held across an await",
            ViolationKind::DeclaredOrder => "locks of one class taken against their declared order",
            ViolationKind::Hang => "hang: a wait lasted longer than the watchdog allows",
        }
    }

    /// True for the kinds whose report is a `BUG:`, not a `WARNING:`: the checker stopped
    /// checking (a fault), or the program stopped (a hang).
    pub const fn is_bug(self) -> bool {
        self.turns_checker_off() || matches!(self, ViolationKind::Hang)
    }

    /// True for the kinds that mean the checker stopped checking (bookkeeping faults).
    pub const fn turns_checker_off(self) -> bool {
        matches!(
            self,
            ViolationKind::HeldDepthOverflow | ViolationKind::TableOverflow
        )
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a class, a node of the dependency graph, stands for.
///
/// # Examples
///
/// ```
/// use lockdep_report::NodeKind;
///
/// assert_eq!(NodeKind::from_name("pool"), Some(NodeKind::Pool));
/// assert_eq!(NodeKind::Alloc.as_str(), "alloc");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A lock: `Mutex`, `RwLock`, or any user primitive with a lock map.
    Lock,
    /// A mempool (or another counted class): held from taking an element to returning it.
    Pool,
    /// The one `ALLOC` node: memory allocation and reclaim (the kernel's `fs_reclaim`).
    Alloc,
    /// An event that threads wait for and others notify (a `Condvar`, a channel's space):
    /// never held; `X → E` is a wait for it while holding `X`, `E → X` an acquisition of `X`
    /// on a notifier's way to notifying it.
    Event,
}

impl NodeKind {
    const ALL: [NodeKind; 4] = [
        NodeKind::Lock,
        NodeKind::Pool,
        NodeKind::Alloc,
        NodeKind::Event,
    ];

    /// A stable name, for JSON: `lock`, `pool`, `alloc` or `event`.
    pub const fn as_str(self) -> &'static str {
        match self {
            NodeKind::Lock => "lock",
            NodeKind::Pool => "pool",
            NodeKind::Alloc => "alloc",
            NodeKind::Event => "event",
        }
    }

    /// The kind named `name` by [`as_str`](NodeKind::as_str); `None` for any other text.
    pub fn from_name(name: &str) -> Option<NodeKind> {
        NodeKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of a cycle through nodes of `kinds`: through `ALLOC` and a pool, the mempool
/// livelock (which wins: its report has the remedy); else through an event, a wait that its
/// notifier cannot reach; any other, a circular dependency.
///
/// # Examples
///
/// ```
/// use lockdep_report::{cycle_kind, NodeKind, ViolationKind};
///
/// let livelock = [NodeKind::Pool, NodeKind::Lock, NodeKind::Alloc];
/// assert_eq!(cycle_kind(livelock), ViolationKind::MempoolLivelock);
/// assert_eq!(cycle_kind([NodeKind::Lock, NodeKind::Event]), ViolationKind::WaitDeadlock);
/// assert_eq!(cycle_kind([NodeKind::Lock; 2]), ViolationKind::CircularDependency);
/// ```
pub fn cycle_kind(kinds: impl IntoIterator<Item = NodeKind>) -> ViolationKind {
    let (mut alloc, mut pool, mut event) = (false, false, false);
    for kind in kinds {
        match kind {
            NodeKind::Alloc => alloc = true,
            NodeKind::Pool => pool = true,
            NodeKind::Event => event = true,
            NodeKind::Lock => {}
        }
    }
    if alloc && pool {
        ViolationKind::MempoolLivelock
    } else if event {
        ViolationKind::WaitDeadlock
    } else {
        ViolationKind::CircularDependency
    }
}

#[cfg(test)]
mod tests {
    use crate::kind::{NodeKind, ViolationKind};

    #[test]
    fn every_name_reads_back() {
        for kind in ViolationKind::ALL {
            assert_eq!(ViolationKind::from_name(kind.as_str()), Some(kind));
            assert!(!kind.headline().is_empty());
        }
        for kind in NodeKind::ALL {
            assert_eq!(NodeKind::from_name(kind.as_str()), Some(kind));
        }
        assert_eq!(ViolationKind::from_name("deadlock"), None);
        assert_eq!(NodeKind::from_name("Lock"), None);
    }
}
