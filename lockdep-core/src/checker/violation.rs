//! A recorded violation: what was found, with everything needed to print it later.

use once_cell::sync::OnceCell;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

use super::held::{Access, HeldLock};
use super::registry::{self, ClassId};
use super::stack_trace::StackTrace;
use crate::ViolationKind;

/// A held or wanted lock, as shown in a report.
#[derive(Clone)]
pub(crate) struct LockDesc {
    pub class: ClassId,
    pub read: Access,
    pub count: u16,
    pub site: &'static Location<'static>,
}

impl From<&HeldLock> for LockDesc {
    fn from(h: &HeldLock) -> Self {
        LockDesc {
            class: h.class,
            read: h.read,
            count: h.count,
            site: h.site,
        }
    }
}

/// One dependency on a reported cycle.
#[derive(Clone)]
pub(crate) struct Link {
    pub from: ClassId,
    pub to: ClassId,
    /// `to` was acquired as a recursive read on this dependency.
    pub recursive: bool,
    pub site: &'static Location<'static>,
    pub trace: StackTrace,
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
}

pub(crate) struct ViolationData {
    pub kind: ViolationKind,
    pub thread: String,
    pub detail: Detail,
    /// Locks held by the reporting thread, bottom first.
    pub held: Vec<LockDesc>,
    /// Stack of the reporting thread.
    pub trace: StackTrace,
    rendered: OnceCell<String>,
}

/// One problem found by the checker.
///
/// `Display` prints the kernel-style report (stack traces are resolved then, once);
/// [`to_json`](Violation::to_json) gives the same for tools.
///
/// ```
/// use lockdep_core::{Mutex, LockClass, Mode, ViolationKind};
/// lockdep_core::set_mode(Mode::Collect);
///
/// static A: LockClass = LockClass::new("doc-violation-A");
/// static B: LockClass = LockClass::new("doc-violation-B");
/// let (a, b) = (Mutex::with_class((), &A), Mutex::with_class((), &B));
/// drop((a.lock(), b.lock()));
/// { let _b = b.lock(); let _a = a.lock(); }
///
/// # #[cfg(feature = "enabled")] {
/// let v = lockdep_core::take_violations()
///     .into_iter()
///     .find(|v| v.involves("doc-violation-A"))
///     .expect("reported");
/// assert_eq!(v.kind(), ViolationKind::CircularDependency);
/// assert!(v.involves("doc-violation-B"));
/// assert!(v.to_string().contains("WARNING: possible circular locking dependency detected"));
/// assert!(v.to_json().contains("\"kind\":\"circular_dependency\""));
/// # }
/// ```
#[derive(Clone)]
pub struct Violation(pub(crate) Arc<ViolationData>);

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
            Detail::Recursive { trying, .. } => vec![trying.class],
            Detail::HeldAtExit => self.held.iter().map(|h| h.class).collect(),
            Detail::PoolOutstanding { pool, .. } => vec![*pool],
            Detail::Overflow { .. } => Vec::new(),
        }
    }

    /// True when the acquisition that found it is an allocation through `TrackingAllocator`.
    pub(crate) fn is_from_global_allocator(&self) -> bool {
        match &self.detail {
            Detail::Cycle { trying, .. } | Detail::Recursive { trying, .. } => {
                super::alloc::is_tracking_allocator_site(trying.site)
            }
            _ => false,
        }
    }

    /// What makes two reports the same problem: kind and the set of classes.
    pub(crate) fn signature(&self) -> (ViolationKind, Vec<ClassId>) {
        let mut classes = self.classes();
        classes.sort_unstable();
        classes.dedup();
        (self.kind, classes)
    }
}

/// `name/tid`, as the kernel prints `comm/pid`.
pub(crate) fn current_thread_name() -> String {
    let name = std::thread::current()
        .name()
        .map(str::to_owned)
        .unwrap_or_else(|| "<unnamed>".to_owned());
    format!("{name}/{}", super::tid())
}

impl Violation {
    /// What kind of problem this is.
    pub fn kind(&self) -> ViolationKind {
        self.0.kind
    }

    /// True when a class of this name is on the reported chain. A subclass (printed `name/N`)
    /// matches its class's name; a creation-site class is named `path/file.rs:LINE:COL`.
    pub fn involves(&self, name: &str) -> bool {
        self.0.classes().into_iter().any(|c| {
            let info = registry::info(c);
            info.name == name || info.base_name == name
        })
    }

    /// Names of the classes the violation is about, in chain order.
    pub fn classes(&self) -> Vec<&'static str> {
        self.0
            .classes()
            .into_iter()
            .map(|c| registry::info(c).name)
            .collect()
    }

    /// The name of the thread that found the problem, as `name/tid`.
    pub fn thread(&self) -> &str {
        &self.0.thread
    }

    /// The first line of the report, e.g. `possible circular locking dependency detected`.
    pub fn headline(&self) -> &'static str {
        super::report::headline(self.0.kind)
    }

    /// The violation as one JSON object.
    pub fn to_json(&self) -> String {
        super::export::violation_json(self)
    }

    /// The cycle of this violation as a Graphviz DOT digraph (an empty graph for kinds that
    /// have no cycle).
    pub fn to_dot(&self) -> String {
        super::export::violation_dot(self)
    }

    pub(crate) fn data(&self) -> &ViolationData {
        &self.0
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.rendered.get_or_init(|| super::report::render(self)))
    }
}

impl fmt::Debug for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Violation")
            .field("kind", &self.kind())
            .field("classes", &self.classes())
            .field("thread", &self.thread())
            .finish()
    }
}
