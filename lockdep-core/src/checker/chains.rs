//! The process-wide table of validated chains (the kernel's `lock_chains` hash): a chain key
//! in it has had its dependencies added and checked, so no thread needs to validate it again.
//!
//! Concurrent (a `DashSet`): a thread whose thread-local chain cache misses looks here before
//! taking the graph's lock.

use dashmap::DashSet;
use once_cell::sync::Lazy;

/// The kernel's `MAX_LOCKDEP_CHAINS` analogue.
pub(crate) const MAX_CHAINS: usize = 1 << 22;

static VALIDATED: Lazy<DashSet<u64>> = Lazy::new(DashSet::new);

/// True when some thread has validated this chain.
pub(crate) fn is_validated(key: u64) -> bool {
    VALIDATED.contains(&key)
}

/// Marks a chain validated; false when the table is full.
pub(crate) fn mark_validated(key: u64) -> bool {
    if VALIDATED.len() >= MAX_CHAINS {
        return false;
    }
    VALIDATED.insert(key);
    true
}

/// Number of validated chains.
pub(crate) fn count() -> usize {
    VALIDATED.len()
}
