//! Where violations go: deduplicated once per process, then suppressed (by the suppression
//! file, see [`Suppressions`]), or printed, recorded, traced or turned into a panic according
//! to the mode.
//!
//! A suppressed violation is not printed, does not panic, is not returned by `violations()`
//! or `take_violations()` (so `assert_no_violations()` passes) and does not count for the
//! exit status: a team that has accepted a report fails only on new ones. It is kept for the
//! report file (a merge applies its own suppressions to it) and counted for its entry; at
//! exit, a process that suppressed something says how much each entry suppressed and which
//! entries suppressed nothing.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lockdep_report::Suppressions;
use once_cell::sync::Lazy;

use super::registry;
use super::report::Report;
use super::stack_trace::StackTrace;
use super::types::{lock, ClassId};
use super::violation::{Detail, LockDesc, ViolationData};
use crate::Mode;
use lockdep_report::ViolationKind;

#[derive(Default)]
struct Store {
    /// Recorded and not yet taken.
    pending: Vec<Arc<ViolationData>>,
    /// Suppressed by an entry of the suppression file.
    suppressed: Vec<Arc<ViolationData>>,
    /// Violations suppressed by each entry of the suppression file.
    hits: Vec<usize>,
    /// Every violation ever reported (each is reported once per process).
    seen: HashSet<(ViolationKind, Vec<ClassId>)>,
}

static STORE: Lazy<Mutex<Store>> = Lazy::new(Default::default);

/// The process's suppression file and its entries.
struct SuppressionFile {
    path: PathBuf,
    entries: Suppressions,
}

/// The suppression file (`LOCKDEP_SUPPRESSIONS`, else the nearest `lockdep.toml` from the
/// current directory up to the workspace's root), read at the first violation: a file that
/// cannot be read or parsed is said once, with its line and what is wrong, and suppresses
/// nothing.
static SUPPRESSIONS: Lazy<Option<SuppressionFile>> = Lazy::new(|| {
    let dir = std::env::current_dir().ok()?;
    let path = Suppressions::file_in(&dir)?;
    match Suppressions::read(&path) {
        Ok(entries) => Some(SuppressionFile { path, entries }),
        Err(e) => {
            crate::env::warn(&format!("{e}: no report is suppressed"));
            None
        }
    }
});

/// The entry of the suppression file that suppresses `data`, by index: every pattern of the
/// entry matches a class of the violation, by one of the names the class answers to.
fn suppressing(data: &ViolationData) -> Option<usize> {
    let file = SUPPRESSIONS.as_ref()?;
    if file.entries.is_empty() {
        return None;
    }
    let names: Vec<&str> = data
        .classes()
        .into_iter()
        .flat_map(registry::names)
        .collect();
    file.entries.suppressing(&names)
}

/// Keeps a new violation (`None` if this problem was reported before, or is suppressed), and
/// traces it.
fn remember(data: ViolationData) -> Option<Arc<ViolationData>> {
    let signature = data.signature();
    let suppressed_by = suppressing(&data);
    let violation = Arc::new(data);
    {
        let mut store = lock(&STORE);
        if !store.seen.insert(signature) {
            return None;
        }
        if let Some(entry) = suppressed_by {
            store.suppressed.push(violation);
            if store.hits.len() <= entry {
                store.hits.resize(entry + 1, 0);
            }
            store.hits[entry] += 1;
            return None;
        }
        store.pending.push(Arc::clone(&violation));
    }
    tracing::error!(
        target: "lockdep",
        kind = violation.kind.as_str(),
        classes = ?violation.class_names(),
        thread = %violation.thread,
        "{}",
        violation.kind.headline()
    );
    Some(violation)
}

/// Reports a violation once per process, as the mode says.
pub(crate) fn record(data: ViolationData) {
    record_all(vec![data]);
}

/// Reports the violations one event showed, each once per process, as the mode says. In
/// panic mode all are recorded (and the others printed) before the panic, which carries the
/// first that may panic.
pub(crate) fn record_all(found: Vec<ViolationData>) {
    let mode = crate::mode::mode();
    if mode == Mode::Off || found.is_empty() {
        return;
    }
    let mut panic_with = None;
    for violation in found.into_iter().filter_map(remember) {
        match mode {
            Mode::Panic if panic_with.is_none() && may_panic(&violation) => {
                panic_with = Some(violation);
            }
            Mode::Panic | Mode::Warn => eprintln!("{}", Report(&violation)),
            Mode::Collect | Mode::Off => {}
        }
    }
    if let Some(violation) = panic_with {
        panic!(
            "lockdep: {}\n{}",
            violation.kind.headline(),
            Report(&violation)
        );
    }
}

/// Whether panic mode may panic for `violation`, here.
///
/// Panicking is for the acquisition that closes a cycle; thread exit and pool teardown only
/// warn (a panic there could abort the process), and so does an allocation through
/// `TrackingAllocator`: unwinding out of a global allocator is undefined behaviour. So does
/// an acquisition in a destructor run by unwinding, or by a thread's exit (a thread-local's):
/// a panic while panicking or out of a thread-local destructor aborts the process, exit
/// report and test harness included.
fn may_panic(violation: &ViolationData) -> bool {
    matches!(
        violation.kind,
        ViolationKind::CircularDependency
            | ViolationKind::RecursiveLock
            | ViolationKind::SameLockTwice
            | ViolationKind::MempoolLivelock
            | ViolationKind::PoolRecursion
            | ViolationKind::DeclaredOrder
    ) && !violation.is_from_global_allocator()
        && !std::thread::panicking()
        && !StackTrace::in_thread_local_destructor()
}

/// A bookkeeping fault: report it, then stop checking for good (kernel `debug_locks_off`).
/// Never panics: the checker's own limits must not fail the program.
pub(crate) fn fault(kind: ViolationKind, detail: Detail, held: Vec<LockDesc>) {
    if crate::mode::faulted() {
        return;
    }
    crate::mode::turn_off_after_fault();
    let data = ViolationData::new(kind, detail, held, StackTrace::default());
    // Printed in every mode, `Collect` included: from here on nothing is checked, and a test
    // suite that only filters violations by class would otherwise pass in silence.
    if let Some(violation) = remember(data) {
        eprintln!("{}", Report(&violation));
    }
}

/// A task suspended holding a blocking lock (see `checker::tasks`). The caller has entered
/// the checker.
pub(crate) fn held_across_await(left: super::tasks::Left) {
    record(ViolationData::new(
        ViolationKind::HeldAcrossAwait,
        Detail::HeldAcrossAwait {
            task: left.task,
            class: left.class,
            site: left.site,
            next: left.next,
        },
        Vec::new(),
        StackTrace::default(),
    ));
}

/// The watchdog fired: the hang is recorded, and printed whatever the mode (the process is
/// about to exit). The caller holds no checker lock.
pub(crate) fn hang(data: ViolationData) {
    if let Some(violation) = remember(data) {
        eprintln!("{}", Report(&violation));
    }
}

/// The class table is full.
#[cold]
pub(crate) fn class_table_full() {
    fault(
        ViolationKind::TableOverflow,
        Detail::Overflow {
            what: "lock classes (MAX_LOCKDEP_KEYS)",
            limit: registry::MAX_CLASSES,
        },
        Vec::new(),
    );
}

/// A nesting subclass past the kernel's `MAX_LOCKDEP_SUBCLASSES`: never tracked in silence.
#[cold]
pub(crate) fn subclass_overflow() {
    fault(
        ViolationKind::TableOverflow,
        Detail::Overflow {
            what: "nesting subclasses per class (MAX_LOCKDEP_SUBCLASSES)",
            limit: registry::MAX_SUBCLASSES as usize,
        },
        Vec::new(),
    );
}

/// Recorded violations not yet taken.
pub(crate) fn pending() -> Vec<Arc<ViolationData>> {
    lock(&STORE).pending.clone()
}

/// Recorded violations, removing them.
pub(crate) fn take() -> Vec<Arc<ViolationData>> {
    std::mem::take(&mut lock(&STORE).pending)
}

/// Violations the suppression file suppressed.
pub(crate) fn suppressed() -> Vec<Arc<ViolationData>> {
    lock(&STORE).suppressed.clone()
}

/// What each entry of the suppression file suppressed, and the entries that suppressed
/// nothing, as lines starting with `lockdep: `; `None` when nothing was suppressed.
pub(crate) fn suppression_summary() -> Option<String> {
    let file = SUPPRESSIONS.as_ref()?;
    let hits = lock(&STORE).hits.clone();
    (hits.iter().sum::<usize>() > 0).then(|| file.entries.summary("lockdep: ", &file.path, &hits))
}
