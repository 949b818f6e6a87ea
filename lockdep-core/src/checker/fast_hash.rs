//! The hasher of the checker's tables, whose keys are class ids, chain keys and code
//! addresses: small integers that no user chooses, so the standard library's SipHash, keyed
//! against flooding, is a cost with nothing to defend. One multiply a word, after rustc's
//! `FxHasher`.

use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for integer keys (see the module's docs).
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

/// Builds [`FastHasher`]s: the `S` of the checker's `HashMap`s and `DashSet`s.
pub(crate) type FastHash = BuildHasherDefault<FastHasher>;

/// An odd constant with well-mixed bits (2^64 / φ).
const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // hashbrown takes its control byte from the top bits and its bucket from the low
        // ones: fold the well-mixed high half down so that both vary.
        self.0 ^ (self.0 >> 32)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(n as u64);
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(n as u64);
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use crate::checker::fast_hash::*;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    #[test]
    fn pairs_of_small_ids_spread_over_buckets() {
        // 100 x 100 class pairs: distinct hashes, and the low 10 bits (a table's bucket
        // index) take most of their 1024 values.
        let h = FastHash::default();
        let hashes: Vec<u64> = (0..100u32)
            .flat_map(|a| (0..100u32).map(move |b| (a, b)))
            .map(|pair| h.hash_one(pair))
            .collect();
        let distinct: HashSet<u64> = hashes.iter().copied().collect();
        assert_eq!(distinct.len(), hashes.len());
        let buckets: HashSet<u64> = hashes.iter().map(|x| x & 1023).collect();
        assert!(buckets.len() > 900, "{} buckets used", buckets.len());
        let tops: HashSet<u64> = hashes.iter().map(|x| x >> 57).collect();
        assert_eq!(tops.len(), 128, "the control byte takes every value");
    }

    #[test]
    fn byte_keys_depend_on_every_byte() {
        let h = FastHash::default();
        assert_ne!(h.hash_one("abcdefgh1"), h.hash_one("abcdefgh2"));
        assert_ne!(h.hash_one([1u8, 0]), h.hash_one([0u8, 1]));
    }
}
