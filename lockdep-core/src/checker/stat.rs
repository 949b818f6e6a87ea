//! lock_stat's counts (`LOCKDEP_STAT=1`, book/src/lock_stat.md): per class and access,
//! acquisitions, contentions, wait and hold times, the sites that waited and the holders'
//! sites that made them wait. Each thread counts into a buffer of its own (its lock is taken
//! by the thread alone, but at exit), folded into one [`LockStat`] at process exit.
//!
//! Only acquisitions made while lock_stat is on get here (the lock hooks' out-of-line path);
//! the caller has entered the checker, so that the buffers' allocations are not checked.

use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
#[cfg(not(unix))]
use std::{sync::OnceLock, time::Instant};

use lockdep_report::{Access, LockStat, StatCounts, StatRow, StatSite};

use super::fast_hash::FastHash;
use super::registry;
use super::types::ClassId;

type Site = &'static Location<'static>;

/// A row's key: the class, and whether it was held exclusively.
type Key = (ClassId, bool);

/// Waits per site: how many, and their total time.
type Sites = HashMap<(Key, Site), (u64, u64)>;

/// One thread's counts.
#[derive(Default)]
struct Buf {
    counts: HashMap<Key, StatCounts, FastHash>,
    waited_at: Sites,
    held_by: Sites,
    /// This thread's holds that began while counting, by instance, latest last.
    open: Vec<Open>,
}

/// A hold being timed.
struct Open {
    instance: usize,
    key: Key,
    since: u64,
}

/// A thread that took more holds without releasing them here (guards sent elsewhere) stops
/// timing its oldest: its open list stays short.
const MAX_OPEN: usize = 256;

/// Every thread's buffer, also of threads that ended: folded at exit.
static BUFS: Mutex<Vec<Arc<Mutex<Buf>>>> = Mutex::new(Vec::new());

std::thread_local! {
    static MINE: Arc<Mutex<Buf>> = {
        let buf = Arc::<Mutex<Buf>>::default();
        BUFS.lock().unwrap_or_else(|e| e.into_inner()).push(buf.clone());
        buf
    };
}

/// Runs `f` on this thread's buffer (nothing once the thread's locals are gone).
fn with_buf(f: impl FnOnce(&mut Buf)) {
    let _ = MINE.try_with(|buf| f(&mut buf.lock().unwrap_or_else(|e| e.into_inner())));
}

/// The monotonic clock, in nanoseconds: `clock_gettime` itself (through the vDSO), a third
/// of the instructions of `Instant::now` and `elapsed` (measured with callgrind).
#[cfg(unix)]
fn now() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a `timespec` to write into; the monotonic clock always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// Nanoseconds since lock_stat's first reading.
#[cfg(not(unix))]
fn now() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

fn key(class: ClassId, access: Access) -> Key {
    (class, access == Access::Write)
}

/// The site where each lock was last acquired, by lock (its instance), direct-mapped: a
/// waiter reads its holder's site here (the kernel's `lock->ip`, its contending point). A
/// slot two locks share names the latest; the instance beside it tells a stale one.
const HOLDERS: usize = 4096;
static HOLDER_INSTANCE: [AtomicUsize; HOLDERS] = [const { AtomicUsize::new(0) }; HOLDERS];
static HOLDER_SITE: [AtomicPtr<Location<'static>>; HOLDERS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; HOLDERS];

fn holder_slot(instance: usize) -> usize {
    (instance.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % HOLDERS
}

/// The lock at `instance`, of class `class`, was taken as `access` at `site`: one acquisition,
/// and (with `timed`) its hold timed from now, until [`released`] on this thread.
pub(crate) fn acquired(class: ClassId, access: Access, instance: usize, site: Site, timed: bool) {
    let slot = holder_slot(instance);
    HOLDER_SITE[slot].store(site as *const Location<'static> as *mut _, Relaxed);
    HOLDER_INSTANCE[slot].store(instance, Relaxed);
    let since = now();
    with_buf(|buf| {
        buf.counts
            .entry(key(class, access))
            .or_default()
            .acquisitions += 1;
        if !timed {
            return;
        }
        if buf.open.len() == MAX_OPEN {
            buf.open.remove(0);
        }
        buf.open.push(Open {
            instance,
            key: key(class, access),
            since,
        });
    });
}

/// The lock at `instance` was released: its hold, if this thread timed it, ends now.
pub(crate) fn released(instance: usize) {
    let end = now();
    with_buf(|buf| {
        if let Some(i) = buf.open.iter().rposition(|o| o.instance == instance) {
            let open = buf.open.remove(i);
            let held = end.saturating_sub(open.since);
            let counts = buf.counts.entry(open.key).or_default();
            counts.hold_total_ns += held;
            counts.hold_max_ns = counts.hold_max_ns.max(held);
        }
    });
}

/// A contended acquisition, being timed until [`end`](Contention::end).
pub(crate) struct Contention {
    key: Key,
    site: Site,
    holder: Option<Site>,
    since: u64,
}

/// The lock at `instance`, of class `class`, wanted as `access` at `site`, has to wait.
pub(crate) fn contended(class: ClassId, access: Access, instance: usize, site: Site) -> Contention {
    let slot = holder_slot(instance);
    let holder = HOLDER_SITE[slot].load(Relaxed);
    let holder = (HOLDER_INSTANCE[slot].load(Relaxed) == instance && !holder.is_null())
        // SAFETY: only `&'static Location`s are stored in `HOLDER_SITE`.
        .then(|| unsafe { &*holder });
    Contention {
        key: key(class, access),
        site,
        holder,
        since: now(),
    }
}

impl Contention {
    /// The wait is over (whether or not it took the lock).
    pub(crate) fn end(self) {
        let waited = now().saturating_sub(self.since);
        with_buf(|buf| {
            let counts = buf.counts.entry(self.key).or_default();
            counts.contentions += 1;
            counts.wait_total_ns += waited;
            counts.wait_max_ns = counts.wait_max_ns.max(waited);
            let add = |sites: &mut Sites, site| {
                let entry = sites.entry((self.key, site)).or_default();
                entry.0 += 1;
                entry.1 += waited;
            };
            add(&mut buf.waited_at, self.site);
            if let Some(holder) = self.holder {
                add(&mut buf.held_by, holder);
            }
        });
    }
}

/// Every thread's counts, folded: the process's statistics (empty when nothing was counted).
pub(crate) fn snapshot() -> LockStat {
    let mut counts: HashMap<Key, StatCounts, FastHash> = HashMap::default();
    let mut waited_at = Sites::new();
    let mut held_by = Sites::new();
    let bufs = BUFS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for buf in bufs {
        let buf = buf.lock().unwrap_or_else(|e| e.into_inner());
        for (key, c) in &buf.counts {
            counts.entry(*key).or_default().add(c);
        }
        for (mine, theirs) in [
            (&mut waited_at, &buf.waited_at),
            (&mut held_by, &buf.held_by),
        ] {
            for (key, (n, ns)) in theirs {
                let entry = mine.entry(*key).or_default();
                entry.0 += n;
                entry.1 += ns;
            }
        }
    }
    let sites = |of: &Sites, row: Key| -> Vec<StatSite> {
        of.iter()
            .filter(|((key, _), _)| *key == row)
            .map(|((_, site), &(count, wait_ns))| StatSite {
                site: registry::source_site(site).to_string(),
                count,
                wait_ns,
            })
            .collect()
    };
    let rows: Vec<StatRow> = counts
        .into_iter()
        .map(|(row, counts)| StatRow {
            class: registry::info(row.0).display.to_owned(),
            access: if row.1 { Access::Write } else { Access::Read },
            counts,
            waited_at: sites(&waited_at, row),
            held_by: sites(&held_by, row),
        })
        .collect();
    if rows.is_empty() {
        return LockStat::default();
    }
    LockStat::of_process(rows)
}
