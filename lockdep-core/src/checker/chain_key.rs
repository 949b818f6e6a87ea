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

/// One acquisition (class and read state) as a word.
#[inline(always)]
pub(crate) fn acquisition(class: ClassId, read: Access) -> u64 {
    class as u64 | ((read as u64) << 32)
}

/// The key of `prev` extended by one acquisition (an [`acquisition`] word).
///
/// Order-dependent and, for each acquisition, a bijection of `prev` up to the lowest bit (odd
/// multiply, xor-shift), so two chains that differ only below their last acquisition collide
/// only if their keys differ in nothing but bit 0; elsewhere keys behave as random 64-bit
/// values. One multiply: it runs on every acquisition. The xor-shift brings the high bits down into the bits the
/// thread-local cache is indexed by.
#[inline(always)]
pub(crate) fn extend(prev: u64, acq: u64) -> u64 {
    let h = (prev.rotate_left(29) ^ acq).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // 0 marks an empty slot of the thread-local cache.
    (h ^ (h >> 29)) | 1
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
