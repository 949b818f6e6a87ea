//! The checker compiled out (no `enabled` feature): the same names, doing nothing, so that the
//! lock types are `#[repr(transparent)]` newtypes over parking_lot with identical size.

use std::fmt;
use std::panic::Location;

use crate::{LockClass, ViolationKind};

/// How a lock is taken (unused without the checker).
#[derive(Clone, Copy)]
pub(crate) enum Access {
    Write,
    Read,
    RecursiveRead,
}

/// A lock's class: nothing, without the checker.
pub(crate) struct LockMap;

impl LockMap {
    #[inline(always)]
    pub(crate) const fn at_site(_site: &'static Location<'static>) -> Self {
        LockMap
    }
    #[inline(always)]
    pub(crate) const fn with_class(_class: &'static LockClass) -> Self {
        LockMap
    }
    #[inline(always)]
    pub(crate) fn prepare(
        &self,
        _sub: u32,
        _read: Access,
        _site: &'static Location<'static>,
    ) -> Pending {
        let _ = (Access::Read, Access::RecursiveRead, Access::Write);
        Pending
    }
    #[inline(always)]
    pub(crate) fn prepare_try(
        &self,
        _sub: u32,
        _read: Access,
        _site: &'static Location<'static>,
    ) -> Pending {
        Pending
    }
    #[inline(always)]
    pub(crate) fn assert_held(&self, _instance: usize) {}
    #[inline(always)]
    pub(crate) fn assert_not_held(&self, _instance: usize) {}
}

pub(crate) struct Pending;

impl Pending {
    #[inline(always)]
    pub(crate) fn commit(self, _instance: usize) -> HeldToken {
        HeldToken
    }
}

pub(crate) struct HeldToken;

impl HeldToken {
    #[inline(always)]
    pub(crate) fn release(&mut self, _instance: usize) {}
    #[inline(always)]
    pub(crate) fn suspend(&mut self, _instance: usize) -> Suspended {
        Suspended
    }
}

pub(crate) struct Suspended;

impl Suspended {
    #[inline(always)]
    pub(crate) fn resume(self, _instance: usize) -> HeldToken {
        HeldToken
    }
}

/// A violation: never produced without the checker.
#[derive(Clone)]
pub struct Violation {
    kind: ViolationKind,
}

impl Violation {
    /// What kind of problem this is.
    pub fn kind(&self) -> ViolationKind {
        self.kind
    }
    /// True when a class of this name is on the reported chain.
    pub fn involves(&self, _name: &str) -> bool {
        false
    }
    /// Names of the classes involved.
    pub fn classes(&self) -> Vec<&'static str> {
        Vec::new()
    }
    /// The reporting thread.
    pub fn thread(&self) -> &str {
        ""
    }
    /// The first line of the report.
    pub fn headline(&self) -> &'static str {
        ""
    }
    /// The violation as JSON.
    pub fn to_json(&self) -> String {
        String::from("{}")
    }
    /// The violation's cycle as DOT.
    pub fn to_dot(&self) -> String {
        String::from("digraph violation {\n}\n")
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_str())
    }
}

impl fmt::Debug for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Violation")
            .field("kind", &self.kind)
            .finish()
    }
}

/// Always empty without the checker.
pub fn violations() -> Vec<Violation> {
    Vec::new()
}
/// Always empty without the checker.
pub fn take_violations() -> Vec<Violation> {
    Vec::new()
}
/// Never panics without the checker.
pub fn assert_no_violations() {}
/// Always empty without the checker.
pub fn report() -> String {
    String::new()
}
/// An empty graph without the checker.
pub fn graph_json() -> String {
    String::from("{\"classes\":[],\"edges\":[]}")
}
/// An empty graph without the checker.
pub fn graph_dot() -> String {
    String::from("digraph lockdep {\n}\n")
}
/// Does nothing without the checker.
#[inline(always)]
pub fn might_alloc() {}
/// Runs `f` without the checker.
#[inline(always)]
pub fn reclaim_scope<R>(f: impl FnOnce() -> R) -> R {
    f()
}
/// Runs `f` without the checker.
#[inline(always)]
pub fn noreclaim_scope<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Without the checker: `System`, unchanged.
#[derive(Clone, Copy, Debug, Default)]
pub struct TrackingAllocator;

// SAFETY: forwards every call to `System` unchanged.
unsafe impl std::alloc::GlobalAlloc for TrackingAllocator {
    #[inline(always)]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { std::alloc::System.alloc(layout) }
    }
    #[inline(always)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: forwarded contract.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    #[inline(always)]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    #[inline(always)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

/// Pool hooks without the checker.
pub mod pool {
    use std::panic::Location;

    /// The class of a mempool: nothing without the checker.
    #[derive(Clone, Copy, Debug)]
    pub struct PoolClass;

    impl PoolClass {
        /// Nothing to register.
        #[inline(always)]
        pub fn register(
            _name: Option<&str>,
            _site: &'static Location<'static>,
            _reclaim_path: bool,
        ) -> PoolClass {
            PoolClass
        }
        /// No name.
        pub fn name(&self) -> &'static str {
            ""
        }
        /// Nothing to validate.
        #[inline(always)]
        pub fn before_alloc(&self, _site: &'static Location<'static>) {}
        /// Nothing held.
        #[inline(always)]
        pub fn hold(&self, _trylock: bool, _site: &'static Location<'static>) -> ElementHold {
            ElementHold
        }
        /// Nothing reported.
        #[inline(always)]
        pub fn report_outstanding(&self, _outstanding: usize, _site: &'static Location<'static>) {}
    }

    /// An element hold: nothing without the checker.
    #[derive(Debug)]
    pub struct ElementHold;

    impl ElementHold {
        /// Nothing held.
        pub fn untracked() -> ElementHold {
            ElementHold
        }
        /// Nothing to release.
        #[inline(always)]
        pub fn release(&self) {}
    }
}
