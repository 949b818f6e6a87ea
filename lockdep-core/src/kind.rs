//! The kinds of problems the checker reports.

use std::fmt;

/// What a [`Violation`](crate::Violation) is about.
///
/// # Examples
///
/// ```
/// use lockdep::ViolationKind;
/// assert_eq!(ViolationKind::MempoolLivelock.as_str(), "mempool_livelock");
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
    /// [`LockdepMap::wait`](crate::LockdepMap::wait)): a thread waits for the event while holding a
    /// lock that the event's notifier takes on its way to notifying it.
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
}

impl ViolationKind {
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
        }
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
