//! Chain keys: a 64-bit hash of the sequence of held classes (the kernel's `chain_key`).
//!
//! A chain key identifies one "locking scenario": the ordered list of (class, read state) on a
//! thread's held stack. Each scenario is validated once per process; afterwards taking the same
//! chain costs a hash step and a cache lookup. The read state is part of the key so that a
//! chain validated as a recursive read never hides the same chain taken for write (the
//! kernel's `rlock_chaincache_ABBA1` selftest).

use super::types::{Access, ClassId};

/// Bits of an [`acquisition`] word below its access: the class (the registry's ids fit, see
/// `registry::MAX_CLASSES`).
pub(crate) const CLASS_BITS: u32 = 30;
/// The class bits of an [`acquisition`] word.
pub(crate) const CLASS_MASK: u64 = (1 << CLASS_BITS) - 1;
/// The access bits of an [`acquisition`] word.
pub(crate) const ACCESS_MASK: u64 = 3 << CLASS_BITS;

/// One acquisition (class and read state) as a word: `class | access << 30`, 32 bits, which
/// the notify path's slot words and the held stack's heads carry as they are.
#[inline(always)]
pub(crate) fn acquisition(class: ClassId, access: Access) -> u64 {
    // Not `access_bits`: an always-inlined call still copies its argument in an unoptimised
    // build.
    class as u64 | (access as u64) << CLASS_BITS
}

/// The access bits of an [`acquisition`] word of `access` (`const`: a constant where asked
/// for one, not computed at run time in an unoptimised build).
#[inline(always)]
pub(crate) const fn access_bits(access: Access) -> u64 {
    (access as u64) << CLASS_BITS
}

/// Whether two [`acquisition`] words, or words that carry one in their low 32 bits, are of
/// one class.
#[inline(always)]
pub(crate) fn same_class(a: u64, b: u64) -> bool {
    (a ^ b) & CLASS_MASK == 0
}

/// The class of an [`acquisition`] word, or of a word that carries one in its low 32 bits.
#[inline(always)]
pub(crate) fn class_of(word: u64) -> ClassId {
    (word & CLASS_MASK) as ClassId
}

/// The access of an [`acquisition`] word, or of a word that carries one in its low 32 bits.
#[inline(always)]
pub(crate) fn access_of(word: u64) -> Access {
    match (word >> CLASS_BITS) & 3 {
        0 => Access::Write,
        1 => Access::Read,
        _ => Access::RecursiveRead,
    }
}

/// The class and access of an [`acquisition`] word.
#[inline(always)]
pub(crate) fn split(acq: u64) -> (ClassId, Access) {
    (class_of(acq), access_of(acq))
}

/// The key of `prev` extended by one acquisition (an [`acquisition`] word).
///
/// Order-dependent and, for each acquisition, a bijection of `prev` up to the lowest bit (odd
/// multiply, xor-shift), so two chains that differ only below their last acquisition collide
/// only if their keys differ in nothing but bit 0; elsewhere keys behave as random 64-bit
/// values. One multiply: it runs on every acquisition. The xor-shift brings the
/// high bits down into the bits the thread-local cache is indexed by.
#[inline(always)]
pub(crate) fn extend(prev: u64, acq: u64) -> u64 {
    // `prev.rotate_left(29)`, written out: the same instruction when optimised, and no call
    // in an unoptimised build.
    #[allow(clippy::manual_rotate)]
    let rotated = prev << 29 | prev >> 35;
    let h = (rotated ^ acq).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // 0 marks an empty slot of the thread-local cache.
    (h ^ (h >> 29)) | 1
}

#[cfg(test)]
mod tests {
    use crate::checker::chain_key::*;

    #[test]
    fn extension_depends_on_order_and_access() {
        let (a, b) = (acquisition(1, Access::Write), acquisition(2, Access::Write));
        assert_ne!(extend(extend(0, a), b), extend(extend(0, b), a));
        assert_ne!(extend(0, a), extend(0, acquisition(1, Access::Read)));
        assert_ne!(
            extend(0, acquisition(1, Access::Read)),
            extend(0, acquisition(1, Access::RecursiveRead))
        );
    }

    #[test]
    fn an_acquisition_word_splits_into_its_class_and_access() {
        for access in [Access::Write, Access::Read, Access::RecursiveRead] {
            assert_eq!(split(acquisition(77, access)), (77, access));
        }
    }

    #[test]
    fn keys_are_never_zero_and_deterministic() {
        let mut key = 0;
        for class in 0..10_000 {
            key = extend(key, acquisition(class, Access::Write));
            assert_ne!(key, 0, "0 marks an empty cache slot");
        }
        let again = (0..10_000).fold(0, |k, c| extend(k, acquisition(c, Access::Write)));
        assert_eq!(key, again);
    }

    #[test]
    fn one_step_is_injective_on_the_previous_key() {
        // Distinct stacks below the same acquisition keep distinct keys (up to bit 0).
        let acq = acquisition(7, Access::Write);
        let keys: std::collections::HashSet<u64> =
            (0..4096u64).map(|p| extend(p << 1, acq) >> 1).collect();
        assert_eq!(keys.len(), 4096);
    }
}
