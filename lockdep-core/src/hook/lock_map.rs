//! The per-lock handle on the checker (the kernel's `struct lockdep_map`): which class a lock
//! belongs to, with the class id cached in the lock after first use.

use std::panic::Location;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use super::held::Access;
use super::registry::{self, ClassId, NodeKindKey};
use super::validator::{holds_instance, Acquire, Pending};
use crate::LockClass;

#[derive(Clone, Copy)]
enum MapKey {
    Site(&'static Location<'static>),
    Static(&'static LockClass),
}

/// A lock's class and cached class id.
pub(crate) struct LockMap {
    key: MapKey,
    class: AtomicU32,
}

impl LockMap {
    /// The class of all locks created at `site`.
    pub(crate) const fn at_site(site: &'static Location<'static>) -> Self {
        LockMap {
            key: MapKey::Site(site),
            class: AtomicU32::new(0),
        }
    }

    /// A named class.
    pub(crate) const fn with_class(class: &'static LockClass) -> Self {
        LockMap {
            key: MapKey::Static(class),
            class: AtomicU32::new(0),
        }
    }

    #[inline]
    fn class(&self, subclass: u32) -> Option<ClassId> {
        let mut base = self.class.load(Relaxed);
        if base == 0 {
            base = self.register()?;
        }
        if subclass == 0 {
            Some(base)
        } else {
            registry::subclass(base, subclass)
        }
    }

    #[cold]
    fn register(&self) -> Option<ClassId> {
        let id = match self.key {
            MapKey::Site(site) => registry::site_class(site, NodeKindKey::Lock),
            MapKey::Static(class) => registry::static_class(class),
        };
        match id {
            Some(id) => {
                self.class.store(id, Relaxed);
                Some(id)
            }
            None => {
                super::store::class_table_full();
                None
            }
        }
    }

    #[inline]
    fn acquisition(
        &self,
        subclass: u32,
        read: Access,
        site: &'static Location<'static>,
    ) -> Option<Acquire> {
        if !crate::mode::checking() {
            return None;
        }
        Some(Acquire::blocking(self.class(subclass)?, read, site))
    }

    /// Validates a blocking acquisition before blocking.
    #[inline]
    pub(crate) fn prepare(
        &self,
        subclass: u32,
        read: Access,
        site: &'static Location<'static>,
    ) -> Pending {
        match self.acquisition(subclass, read, site) {
            Some(acq) => Pending::blocking(acq),
            None => Pending::UNTRACKED,
        }
    }

    /// A successful try-acquisition.
    #[inline]
    pub(crate) fn prepare_try(
        &self,
        subclass: u32,
        read: Access,
        site: &'static Location<'static>,
    ) -> Pending {
        match self.acquisition(subclass, read, site) {
            Some(acq) => Pending::tried(acq),
            None => Pending::UNTRACKED,
        }
    }

    /// Panics unless this thread holds `instance` (when checking).
    #[track_caller]
    pub(crate) fn assert_held(&self, instance: usize) {
        if holds_instance(instance) == Some(false) {
            panic!("lockdep: lock {} is not held by this thread", self.name());
        }
    }

    /// Panics if this thread holds `instance` (when checking).
    #[track_caller]
    pub(crate) fn assert_not_held(&self, instance: usize) {
        if holds_instance(instance) == Some(true) {
            panic!("lockdep: lock {} is held by this thread", self.name());
        }
    }

    /// The class's printed name.
    fn name(&self) -> String {
        match self.key {
            MapKey::Site(site) => registry::site_name(site),
            MapKey::Static(class) => class.name().to_owned(),
        }
    }
}
