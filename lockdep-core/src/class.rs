//! Named classes, and the kinds of class.

/// What a class stands for: how its holds count, and how a cycle through it is reported.
///
/// # Examples
///
/// ```
/// use lockdep::{ClassKind, LockClass};
///
/// static PERMITS: LockClass = LockClass::with_kind("db permits", ClassKind::Pool);
/// assert_eq!(PERMITS.kind(), ClassKind::Pool);
/// assert_eq!(LockClass::new("plain").kind(), ClassKind::Lock);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClassKind {
    /// A lock: each instance is held on its own, by the thread that took it; two locks of
    /// one class are ordered by instance.
    Lock,
    /// A counted resource (mempool elements, semaphore permits): held from taking a unit to
    /// giving it back, on any thread; the units one thread holds count as one hold. Taking
    /// one blocking while holding one of the same class is
    /// [`PoolRecursion`](crate::ViolationKind::PoolRecursion), and a cycle through it and
    /// memory allocation is a [`MempoolLivelock`](crate::ViolationKind::MempoolLivelock).
    Pool,
    /// An event: waited for and notified, never held (a condition variable, a channel's free
    /// space). A cycle through it is a [`WaitDeadlock`](crate::ViolationKind::WaitDeadlock).
    Event,
}

/// A named lock class: every lock created with it shares one node in the dependency graph, so
/// what is learned from one instance applies to all (the kernel's `lock_class_key`).
///
/// Without a `LockClass`, a lock's class is its creation site (`file.rs:LINE:COL`).
///
/// # Examples
///
/// ```
/// use lockdep::{LockClass, Mutex};
///
/// static INODE_LOCK: LockClass = LockClass::new("inode->i_lock");
///
/// let a = Mutex::with_class(1, &INODE_LOCK);
/// let b = Mutex::with_class(2, &INODE_LOCK);
/// assert_eq!(INODE_LOCK.name(), "inode->i_lock");
/// # drop((a, b));
/// ```
pub struct LockClass {
    name: &'static str,
    kind: ClassKind,
    #[cfg(feature = "enabled")]
    pub(crate) id: std::sync::atomic::AtomicU32,
}

impl LockClass {
    /// A lock class with this name. Usable in a `static`.
    pub const fn new(name: &'static str) -> Self {
        LockClass::with_kind(name, ClassKind::Lock)
    }

    /// A class of `kind` with this name, for a [`LockdepMap`](crate::LockdepMap). Usable in
    /// a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{ClassKind, LockClass, LockdepMap};
    ///
    /// static JOB_DONE: LockClass = LockClass::with_kind("job done", ClassKind::Event);
    /// static DONE: LockdepMap = LockdepMap::with_class(&JOB_DONE);
    /// DONE.notify();
    /// ```
    pub const fn with_kind(name: &'static str, kind: ClassKind) -> Self {
        LockClass {
            name,
            kind,
            #[cfg(feature = "enabled")]
            id: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// The class's name, as printed in reports.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// What the class stands for.
    pub const fn kind(&self) -> ClassKind {
        self.kind
    }

    /// A class whose name is only known at run time (for generated code and benchmarks). The
    /// class lives for the rest of the process, like every class.
    ///
    /// # Examples
    ///
    /// ```
    /// let class = lockdep::LockClass::leak(format!("shard-{}", 3));
    /// assert_eq!(class.name(), "shard-3");
    /// ```
    pub fn leak(name: String) -> &'static LockClass {
        Box::leak(Box::new(LockClass::new(Box::leak(name.into_boxed_str()))))
    }
}

impl std::fmt::Debug for LockClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockClass")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish()
    }
}
