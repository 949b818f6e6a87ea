//! The notifier's path: the classes a thread has acquired (blocking) since it last waited for
//! an event, so that its next notify can depend on them (see `checker::event`).
//!
//! A direct-mapped set of [`SLOTS`] entries indexed by class, each tagged with the thread's
//! wait generation: noting an acquisition is at most two stores, and a wait forgets the whole set by
//! bumping the generation. Two classes that share a slot keep only the later one: the set may
//! forget an acquisition, never invent one, so a collision can only hide a report.

use std::cell::Cell;
use std::panic::Location;

use super::types::{Access, ClassId};

/// Entries of the set. A notifier's path rarely takes more than a handful of classes.
pub(crate) const SLOTS: usize = 32;

/// Bits of a slot word below the generation: the class (fewer than 2^30, see
/// `registry::MAX_CLASSES`) and the access above it.
const CLASS_BITS: u32 = 30;
const CLASS_MASK: u64 = (1 << CLASS_BITS) - 1;

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
        let slot = &self.slots[class as usize % SLOTS];
        let word = (self.generation.get() as u64 + 1) << 32
            | (access as u64) << CLASS_BITS
            | (class as u64 & CLASS_MASK);
        if slot.word.get() != word {
            slot.word.set(word);
            slot.site.set(Some(site));
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
            let access = match (word >> CLASS_BITS) & 3 {
                0 => Access::Write,
                1 => Access::Read,
                _ => Access::RecursiveRead,
            };
            let site = slot.site.get().unwrap_or(Location::caller());
            Some(((word & CLASS_MASK) as ClassId, access, site))
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
        path.note(3, Access::Write, Location::caller());
        path.note(5, Access::Read, Location::caller());
        assert_eq!(classes(&path), [3, 5]);
        let read = path.entries().find(|e| e.0 == 5).unwrap();
        assert_eq!(read.1, Access::Read);
        path.restart();
        assert!(classes(&path).is_empty());
        path.note(7, Access::RecursiveRead, Location::caller());
        assert_eq!(classes(&path), [7]);
    }

    #[test]
    fn a_collision_keeps_the_later_class_only() {
        let path = NotifyPath::new();
        path.note(1, Access::Write, Location::caller());
        path.note(1 + SLOTS as u32, Access::Write, Location::caller());
        assert_eq!(classes(&path), [1 + SLOTS as u32]);
    }
}
