//! `LOCKDEP_WATCHDOG=<seconds>`: a wait for a checked lock, condition variable or pool element
//! that lasts longer than that turns a real deadlock into a report instead of a CI timeout,
//! as the kernel's hung-task detector and `debug_show_all_locks()` do. The process prints who
//! waits for what and who holds what (the waiters' held locks, taken when each began to wait)
//! and the cycle of waits when there is one, writes its report file, and exits with status 68
//! (`LOCKDEP_WATCHDOG_EXIT_CODE`; `LOCKDEP_EXIT_CODE=0` does not silence it).
//!
//! Nothing on the fast path: only a wait that blocks (a contended lock's slow path, a
//! condition variable's wait, a pool's wait for an element) registers itself, and only when
//! the watchdog is on. The watchdog is a thread of its own, started by the first such wait.

use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicU8, Ordering::*};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::held::Context;
use super::stack_trace::StackTrace;
use super::types::{current_thread_name, lock, ClassId, Instance};
use super::violation::{Detail, LockDesc, ViolationData, Waiter};
use lockdep_report::{Access, ViolationKind};

/// Whether the watchdog is on: 0 not read yet, 1 off, 2 on.
static STATE: AtomicU8 = AtomicU8::new(0);
/// Its timeout, once read.
static TIMEOUT: Mutex<Option<Duration>> = Mutex::new(None);

/// The waits in progress, by number.
static WAITS: Mutex<Option<Waits>> = Mutex::new(None);

#[derive(Default)]
struct Waits {
    next: u64,
    by_number: HashMap<u64, Wait>,
    /// The last wait each waiter ended, for a wait made of several in a row (a pool that
    /// retries its allocator, a condition variable waited on with a timeout in a loop): the
    /// waiter, the class, when it began, when it ended.
    ended: HashMap<String, (ClassId, Instant, Instant)>,
}

/// One wait in progress.
struct Wait {
    who: String,
    what: LockDesc,
    instance: Instance,
    since: Instant,
    held: Vec<(Instance, LockDesc)>,
}

/// A wait registered with the watchdog, ended when dropped.
pub(crate) struct Waiting(Option<u64>);

/// Whether the watchdog is on (reading `LOCKDEP_WATCHDOG` the first time).
#[inline]
fn on() -> bool {
    match STATE.load(Relaxed) {
        0 => read_setting(),
        state => state == 2,
    }
}

#[cold]
fn read_setting() -> bool {
    let timeout = std::env::var("LOCKDEP_WATCHDOG").ok().and_then(|v| {
        let seconds: f64 = v.trim().parse().ok().filter(|s: &f64| *s > 0.0)?;
        Some(Duration::from_secs_f64(seconds))
    });
    *lock(&TIMEOUT) = timeout;
    STATE.store(if timeout.is_some() { 2 } else { 1 }, Relaxed);
    timeout.is_some()
}

/// Begins a wait of the context `t` for `what` (the lock or class at `instance`, wanted at
/// `site` as `access`), when the watchdog is on. The caller has entered the checker.
pub(crate) fn begin(
    t: &Context,
    class: ClassId,
    instance: Instance,
    access: Access,
    site: &'static Location<'static>,
) -> Waiting {
    if !on() {
        return Waiting(None);
    }
    let who = current_thread_name();
    let held = t
        .snapshot()
        .iter()
        .map(|h| (h.instance, LockDesc::from(h)))
        .collect();
    let now = Instant::now();
    let mut waits = lock(&WAITS);
    let waits = waits.get_or_insert_with(|| {
        std::thread::Builder::new()
            .name("lockdep-watchdog".into())
            .spawn(watch)
            .ok();
        Waits::default()
    });
    // A wait right after the waiter's last one for the same class goes on from its start.
    let since = match waits.ended.remove(&who) {
        Some((c, began, ended)) if c == class && now.duration_since(ended) < RESUMED => began,
        _ => now,
    };
    let number = waits.next;
    waits.next += 1;
    waits.by_number.insert(
        number,
        Wait {
            who,
            what: LockDesc {
                class,
                access,
                count: 1,
                site,
            },
            instance,
            since,
            held,
        },
    );
    Waiting(Some(number))
}

/// Two waits this close are one.
const RESUMED: Duration = Duration::from_millis(50);

impl Drop for Waiting {
    fn drop(&mut self) {
        let Some(number) = self.0 else {
            return;
        };
        let mut waits = lock(&WAITS);
        if let Some(waits) = waits.as_mut() {
            if let Some(w) = waits.by_number.remove(&number) {
                waits
                    .ended
                    .insert(w.who, (w.what.class, w.since, Instant::now()));
            }
        }
    }
}

/// The watchdog's thread: looks at the waits a few times per timeout.
fn watch() {
    let Some(timeout) = *lock(&TIMEOUT) else {
        return;
    };
    let tick = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        std::thread::sleep(tick);
        let hung = {
            let waits = lock(&WAITS);
            let Some(waits) = waits.as_ref() else {
                continue;
            };
            let now = Instant::now();
            if !waits
                .by_number
                .values()
                .any(|w| now.duration_since(w.since) >= timeout)
            {
                continue;
            }
            hang(waits, now, timeout)
        };
        super::store::hang(hung);
        super::exit::stop_for_hang();
    }
}

/// The hang as a violation: every wait in progress, longest first, with the cycle of waits
/// if there is one (each waiter waits for a lock another waiter holds).
fn hang(waits: &Waits, now: Instant, timeout: Duration) -> ViolationData {
    let mut all: Vec<&Wait> = waits.by_number.values().collect();
    all.sort_by_key(|w| w.since);
    let waiters: Vec<Waiter> = all
        .iter()
        .map(|w| Waiter {
            who: w.who.clone(),
            waiting_for: w.what.clone(),
            waited: now.duration_since(w.since),
            held: w.held.iter().map(|(_, d)| d.clone()).collect(),
        })
        .collect();
    let cycle = cycle_of_waits(&all);
    ViolationData::new(
        ViolationKind::Hang,
        Detail::Hang {
            timeout,
            waiters,
            cycle,
        },
        Vec::new(),
        StackTrace::default(),
    )
}

/// A cycle of waits among `waits`: each waits for a lock (or unit) that the next one holds,
/// the last one's held by the first; the waits by index, or none.
fn cycle_of_waits(waits: &[&Wait]) -> Vec<usize> {
    let holder_of = |instance: Instance| {
        waits
            .iter()
            .position(|w| w.held.iter().any(|(i, _)| *i == instance))
    };
    for start in 0..waits.len() {
        let mut path = vec![start];
        let mut at = start;
        while let Some(next) = holder_of(waits[at].instance) {
            if let Some(from) = path.iter().position(|&w| w == next) {
                return path.split_off(from);
            }
            path.push(next);
            at = next;
        }
    }
    Vec::new()
}
