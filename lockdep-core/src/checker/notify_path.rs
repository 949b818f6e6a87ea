//! The notifier's path: the classes a thread has acquired (blocking) since it last waited for
//! an event, so that its next notify can depend on them (see `checker::event`).
//!
//! A direct-mapped set of [`SLOTS`] entries indexed by class, each tagged with the thread's
//! wait generation: noting an acquisition is at most two stores, and a wait forgets the whole set by
//! bumping the generation. Classes that share a home slot probe onward; past [`SLOTS`]
//! classes since one wait, the set forgets the later ones (it may forget an acquisition,
//! never invent one, so a full set can only hide a report).

use std::cell::Cell;
use std::panic::Location;

// The bits of a slot word below the generation are its acquisition
// (`chain_key::acquisition`): the class (fewer than 2^30, see `registry::MAX_CLASSES`) and
// the access above it.
use super::chain_key;
use super::types::{Access, ClassId};

/// Entries of the set. A notifier's path rarely takes more than a handful of classes.
pub(crate) const SLOTS: usize = 32;
const _: () = assert!(SLOTS.is_power_of_two());

/// One slot: the class word and where the class was taken (one cache line holds four).
struct Slot {
    /// `(generation + 1) << 32 | access << 30 | class`; a slot of another generation is empty.
    word: Cell<u64>,
    /// `None` only while the slot has never been written.
    site: Cell<Option<&'static Location<'static>>>,
}

/// The classes acquired since the last wait, with the site of an acquisition of each.
pub(crate) struct NotifyPath {
    slots: [Slot; SLOTS],
    /// Bumped by every wait. A slot word carries `generation + 1`, so that the zeroed slots
    /// (the initial state is all zeros: see `Context`) are empty.
    generation: Cell<u32>,
}

impl NotifyPath {
    pub(crate) const fn new() -> Self {
        NotifyPath {
            slots: [const {
                Slot {
                    word: Cell::new(0),
                    site: Cell::new(None),
                }
            }; SLOTS],
            generation: Cell::new(0),
        }
    }

    /// Notes a blocking acquisition of `class` as `access` at `site`. A class already noted
    /// the same way since the last wait is left as it is (its first site kept): a loop that
    /// takes the same locks costs a load and a compare, no store.
    #[inline(always)]
    pub(crate) fn note(&self, class: ClassId, access: Access, site: &'static Location<'static>) {
        let word = self.word(class, access);
        // A mask for `% SLOTS`: no check in a debug build.
        let home = class as usize & (SLOTS - 1);
        if crate::thin::get(&self.slots[home].word) != word {
            self.note_from(home, word, site);
        }
    }

    /// Whether a blocking acquisition `acq` (a `chain_key::acquisition` word, the low 32
    /// bits of a slot word) is noted in its home slot since the last wait: then
    /// [`note`](NotifyPath::note) would leave the path as it is.
    #[inline(always)]
    pub(crate) fn noted_acquisition(&self, acq: u64) -> bool {
        let word = self.generation_bits() | acq;
        crate::thin::get(&self.slots[chain_key::class_of(acq) as usize & (SLOTS - 1)].word) == word
    }

    /// The slot word of `class` taken as `access` in the current generation.
    #[inline(always)]
    fn word(&self, class: ClassId, access: Access) -> u64 {
        self.generation_bits() | chain_key::acquisition(class, access)
    }

    /// A slot word's generation bits for the current generation (wrapping: no overflow check
    /// in a debug build, and none overflows).
    #[inline(always)]
    fn generation_bits(&self) -> u64 {
        (crate::thin::get(&self.generation) as u64).wrapping_add(1) << 32
    }

    /// Stores `word` in the first slot from `home` on (wrapping) that is free in this
    /// generation or holds the same class: linear probing, so that classes that share a home
    /// slot are all kept. Nothing is ever removed within a generation, so a probe never stops
    /// short of where a class was put. With every slot taken by other classes, the class is
    /// not noted (the path may forget, never invent).
    #[inline(never)]
    fn note_from(&self, home: usize, word: u64, site: &'static Location<'static>) {
        let generation = word >> 32;
        for i in 0..SLOTS {
            let slot = &self.slots[(home + i) % SLOTS];
            let held = slot.word.get();
            if held == word {
                return;
            }
            if held >> 32 != generation || chain_key::class_of(held) == chain_key::class_of(word) {
                slot.word.set(word);
                slot.site.set(Some(site));
                return;
            }
        }
    }

    /// Forgets the path: the thread waits now, and what it took before the wait is not on its
    /// way to any later notify.
    #[inline]
    pub(crate) fn restart(&self) {
        // Past 2^32 waits a stale slot could look current again: it would only be a class this
        // thread did take, long ago.
        self.generation.set(self.generation.get().wrapping_add(1));
    }

    /// The classes on the path, with how and where each was last acquired.
    pub(crate) fn entries(
        &self,
    ) -> impl Iterator<Item = (ClassId, Access, &'static Location<'static>)> + '_ {
        let generation = self.generation.get() as u64 + 1;
        self.slots.iter().filter_map(move |slot| {
            let word = slot.word.get();
            if word >> 32 != generation {
                return None;
            }
            let (class, access) = chain_key::split(word);
            let site = slot.site.get().unwrap_or(Location::caller());
            Some((class, access, site))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::checker::notify_path::{NotifyPath, SLOTS};
    use crate::checker::types::Access;
    use std::panic::Location;

    fn classes(path: &NotifyPath) -> Vec<u32> {
        let mut c: Vec<u32> = path.entries().map(|(class, _, _)| class).collect();
        c.sort_unstable();
        c
    }

    #[test]
    fn a_wait_forgets_the_path() {
        let path = NotifyPath::new();
        assert!(classes(&path).is_empty(), "a new path is empty");
        let acq = crate::checker::chain_key::acquisition;
        assert!(!path.noted_acquisition(acq(3, Access::Write)));
        path.note(3, Access::Write, Location::caller());
        path.note(5, Access::Read, Location::caller());
        assert_eq!(classes(&path), [3, 5]);
        assert!(path.noted_acquisition(acq(3, Access::Write)));
        assert!(path.noted_acquisition(acq(5, Access::Read)));
        assert!(!path.noted_acquisition(acq(5, Access::Write)));
        let read = path.entries().find(|e| e.0 == 5).unwrap();
        assert_eq!(read.1, Access::Read);
        path.restart();
        assert!(classes(&path).is_empty());
        assert!(!path.noted_acquisition(acq(3, Access::Write)));
        path.note(7, Access::RecursiveRead, Location::caller());
        assert_eq!(classes(&path), [7]);
    }

    #[test]
    fn classes_that_share_a_slot_are_all_kept() {
        let path = NotifyPath::new();
        let shared = [SLOTS as u32 - 1, 2 * SLOTS as u32 - 1, 3 * SLOTS as u32 - 1];
        for class in shared {
            path.note(class, Access::Write, Location::caller());
        }
        path.note(0, Access::Read, Location::caller()); // its home slot taken by a probe
        assert_eq!(classes(&path), [0, shared[0], shared[1], shared[2]]);
        // Noted again, a class keeps its one slot; another access replaces it there.
        path.note(shared[1], Access::Write, Location::caller());
        path.note(shared[2], Access::Read, Location::caller());
        assert_eq!(classes(&path), [0, shared[0], shared[1], shared[2]]);
        let read = path.entries().find(|e| e.0 == shared[2]).unwrap();
        assert_eq!(read.1, Access::Read);
        path.restart();
        path.note(2 * SLOTS as u32 - 1, Access::Write, Location::caller());
        assert_eq!(
            classes(&path),
            [2 * SLOTS as u32 - 1],
            "a wait frees every slot"
        );
    }

    #[test]
    fn a_full_path_forgets_the_later_classes() {
        let path = NotifyPath::new();
        for class in 0..SLOTS as u32 + 3 {
            path.note(class * 7, Access::Write, Location::caller());
        }
        let kept: Vec<u32> = (0..SLOTS as u32).map(|c| c * 7).collect();
        assert_eq!(classes(&path), kept);
    }
}
