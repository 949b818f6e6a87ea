//! Chain keys: a 64-bit hash of the sequence of held classes (the kernel's `chain_key`).
//!
//! A chain key identifies one "locking scenario": the ordered list of (class, read state) on a
//! thread's held stack. Each scenario is validated once per process; afterwards taking the same
//! chain costs a hash step and a cache lookup. The read state is part of the key so that a
//! chain validated as a recursive read never hides the same chain taken for write (the
//! kernel's `rlock_chaincache_ABBA1` selftest).

use super::held::Access;
use super::registry::ClassId;
use dashmap::DashSet;
use once_cell::sync::Lazy;

/// The kernel's `MAX_LOCKDEP_CHAINS` analogue.
pub(crate) const MAX_CHAINS: usize = 1 << 22;

/// The key of `prev` extended by one acquisition.
#[inline(always)]
pub(crate) fn extend(prev: u64, class: ClassId, read: Access) -> u64 {
    let id = class as u64 | ((read as u64) << 32);
    // splitmix64's finaliser over an order-dependent combination.
    let mut h = prev.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ id;
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 31;
    // 0 marks an empty slot of the thread-local cache.
    h | 1
}

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
