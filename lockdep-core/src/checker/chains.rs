//! The process-wide table of validated chains (the kernel's `lock_chains` hash): a chain key
//! in it has had its dependencies added and checked, so no thread needs to validate it again.
//!
//! Concurrent (a `DashSet`): a thread whose thread-local chain cache misses looks here before
//! taking the graph's lock.

use dashmap::DashSet;
use once_cell::sync::Lazy;

/// Chains kept before the table is emptied (the kernel's `MAX_LOCKDEP_CHAINS`, but not a
/// limit): a forgotten chain is validated again on its next slow path, which finds its
/// dependencies already in the graph and reports nothing new. So a program whose threads
/// take random subsets of many classes costs more slow paths, never a checker turned off.
pub(crate) const MAX_CHAINS: usize = 1 << 22;

static VALIDATED: Lazy<DashSet<u64>> = Lazy::new(DashSet::new);

/// True when some thread has validated this chain.
pub(crate) fn is_validated(key: u64) -> bool {
    VALIDATED.contains(&key)
}

/// Marks a chain validated, emptying the table first when it is full.
pub(crate) fn mark_validated(key: u64) {
    if VALIDATED.len() >= MAX_CHAINS {
        VALIDATED.clear();
    }
    VALIDATED.insert(key);
}

/// Number of validated chains.
pub(crate) fn count() -> usize {
    VALIDATED.len()
}
