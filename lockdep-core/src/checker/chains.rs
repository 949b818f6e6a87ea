//! The process-wide table of validated chains (the kernel's `lock_chains` hash): a chain key
//! in it has had its dependencies added and checked, so no thread needs to validate it again.
//!
//! Concurrent (a `DashSet`): a thread whose thread-local chain cache misses looks here before
//! taking the graph's lock.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use dashmap::DashSet;
use once_cell::sync::Lazy;

use super::fast_hash::FastHash;

/// Chains kept before the table is emptied (the kernel's `MAX_LOCKDEP_CHAINS`, but not a
/// limit): a forgotten chain is validated again on its next slow path, which finds its
/// dependencies already in the graph and reports nothing new. So a program whose threads
/// take random subsets of many classes costs more slow paths, never a checker turned off.
pub(crate) const MAX_CHAINS: usize = 1 << 22;

static VALIDATED: Lazy<DashSet<u64, FastHash>> = Lazy::new(DashSet::default);
/// The table's size, kept beside it: `DashSet::len` locks every shard in turn.
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// True when some thread has validated this chain.
pub(crate) fn is_validated(key: u64) -> bool {
    VALIDATED.contains(&key)
}

/// Marks a chain validated, emptying the table first when it is full.
pub(crate) fn mark_validated(key: u64) {
    if COUNT.load(Relaxed) >= MAX_CHAINS {
        // Racing insertions may be counted and then cleared, or two threads may both clear:
        // the count only decides when the table is emptied, and a little early is harmless.
        COUNT.store(0, Relaxed);
        VALIDATED.clear();
    }
    if VALIDATED.insert(key) {
        COUNT.fetch_add(1, Relaxed);
    }
}

/// Number of validated chains.
pub(crate) fn count() -> usize {
    COUNT.load(Relaxed)
}
