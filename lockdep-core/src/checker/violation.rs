//! A recorded violation as data: what was found, with everything needed to print it later.
//! How it is printed is the report's and the export's business, one layer up.

use once_cell::sync::OnceCell;
use std::panic::Location;

use super::held::HeldLock;
use super::registry;
use super::stack_trace::StackTrace;
use super::types::{current_thread_name, Access, ClassId, ALLOCATOR_SITE};
use lockdep_report::ViolationKind;

/// A held or wanted lock, as shown in a report.
#[derive(Clone)]
pub(crate) struct LockDesc {
    pub(crate) class: ClassId,
    pub(crate) access: Access,
    pub(crate) count: u16,
    pub(crate) site: &'static Location<'static>,
}

impl From<&HeldLock> for LockDesc {
    fn from(h: &HeldLock) -> Self {
        LockDesc {
            class: h.class,
            access: h.access,
            count: h.count,
            site: h.site(),
        }
    }
}

/// One dependency on a reported cycle.
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) from: ClassId,
    pub(crate) to: ClassId,
    /// The dependency's types (`dep` bits).
    pub(crate) deps: u8,
    pub(crate) site: &'static Location<'static>,
    pub(crate) trace: StackTrace,
}

/// A wait in progress when the watchdog fired.
#[derive(Clone)]
pub(crate) struct Waiter {
    pub(crate) who: String,
    pub(crate) waiting_for: LockDesc,
    pub(crate) waited: std::time::Duration,
    pub(crate) held: Vec<LockDesc>,
}

/// What a violation is about, per kind.
pub(crate) enum Detail {
    /// A cycle closed by acquiring `trying` while holding `holding`. `ring[0]` is the new
    /// dependency `holding → trying`; `ring[1..]` the existing path from `trying` back to
    /// `holding`.
    Cycle {
        trying: LockDesc,
        holding: LockDesc,
        ring: Vec<Link>,
    },
    /// `trying` is of a class already held as `holding`.
    Recursive { trying: LockDesc, holding: LockDesc },
    /// The thread exited holding these locks (in `held`).
    HeldAtExit,
    /// A pool was dropped with elements outstanding.
    PoolOutstanding {
        pool: ClassId,
        outstanding: usize,
        site: &'static Location<'static>,
    },
    /// A table of the checker overflowed.
    Overflow { what: &'static str, limit: usize },
    /// A wait lasted longer than the watchdog allows: every wait in progress, the cycle of
    /// waits among them (by index) if any.
    Hang {
        timeout: std::time::Duration,
        waiters: Vec<Waiter>,
        cycle: Vec<usize>,
    },
    /// `trying`, of declared order key `trying_key`, taken while `holding`, a lock of its
    /// class of key `holding_key` (not less).
    DeclaredOrder {
        trying: LockDesc,
        holding: LockDesc,
        trying_key: u64,
        holding_key: u64,
    },
    /// Task `task` suspended holding a blocking lock of `class` taken at `site`; `next` ran
    /// next on its thread (a task, or 0: the thread's own code).
    HeldAcrossAwait {
        task: u64,
        class: ClassId,
        site: &'static Location<'static>,
        next: u64,
    },
}

pub(crate) struct ViolationData {
    pub(crate) kind: ViolationKind,
    pub(crate) thread: String,
    pub(crate) detail: Detail,
    /// Locks held by the reporting thread, bottom first.
    pub(crate) held: Vec<LockDesc>,
    /// Stack of the reporting thread.
    pub(crate) trace: StackTrace,
    /// The text report, rendered once (resolving stack traces is slow) when first printed.
    pub(crate) rendered: OnceCell<String>,
}

impl ViolationData {
    /// A violation found by the current thread.
    pub(crate) fn new(
        kind: ViolationKind,
        detail: Detail,
        held: Vec<LockDesc>,
        trace: StackTrace,
    ) -> Self {
        Self::on_thread(current_thread_name(), kind, detail, held, trace)
    }

    /// A violation found on behalf of `thread` (named beforehand: at thread exit the current
    /// thread's handle may be gone).
    pub(crate) fn on_thread(
        thread: String,
        kind: ViolationKind,
        detail: Detail,
        held: Vec<LockDesc>,
        trace: StackTrace,
    ) -> Self {
        ViolationData {
            kind,
            thread,
            detail,
            held,
            trace,
            rendered: OnceCell::new(),
        }
    }

    /// The classes the violation is about: the cycle, the recursive class, the leaked locks.
    pub(crate) fn classes(&self) -> Vec<ClassId> {
        match &self.detail {
            Detail::Cycle { ring, .. } => ring.iter().map(|l| l.to).collect(),
            Detail::Recursive { trying, .. } | Detail::DeclaredOrder { trying, .. } => {
                vec![trying.class]
            }
            Detail::HeldAtExit => self.held.iter().map(|h| h.class).collect(),
            Detail::PoolOutstanding { pool, .. } => vec![*pool],
            Detail::Hang { waiters, .. } => waiters.iter().map(|w| w.waiting_for.class).collect(),
            Detail::HeldAcrossAwait { class, .. } => vec![*class],
            Detail::Overflow { .. } => Vec::new(),
        }
    }

    /// True when the acquisition that found it is an allocation through `TrackingAllocator`.
    pub(crate) fn is_from_global_allocator(&self) -> bool {
        match &self.detail {
            Detail::Cycle { trying, .. }
            | Detail::Recursive { trying, .. }
            | Detail::DeclaredOrder { trying, .. } => *trying.site == *ALLOCATOR_SITE,
            _ => false,
        }
    }

    /// True when a class named `name` is on the reported chain: by its name, its printed
    /// name (a creation-site lock class with its data type) or its site alone; a subclass
    /// (`name/N`) matches its base class's names.
    pub(crate) fn involves(&self, name: &str) -> bool {
        self.classes()
            .into_iter()
            .any(|c| registry::answers_to(c, name))
    }

    /// Names of the classes the violation is about, in chain order, as reports print them.
    pub(crate) fn class_names(&self) -> Vec<&'static str> {
        self.classes()
            .into_iter()
            .map(registry::display_name)
            .collect()
    }

    /// What makes two reports the same problem: kind and the set of classes.
    pub(crate) fn signature(&self) -> (ViolationKind, Vec<ClassId>) {
        let mut classes = self.classes();
        classes.sort_unstable();
        classes.dedup();
        (self.kind, classes)
    }
}
