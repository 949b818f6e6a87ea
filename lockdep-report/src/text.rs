//! The kernel-style text of a [`Report`]: a headline between rules, who found it, the
//! dependency chain in reverse order with each dependency's site and stack, a scenario table
//! (`CPU0`/`CPU1` for a deadlock, `taskA`/`taskB`/`taskC` for the mempool livelock), what to
//! do about it, and the reporting thread's held locks and stack.
//!
//! The one definition of every part of a report: the checker prints its violations through
//! it, and `cargo lockdep` the cycles it finds across processes.

use std::fmt;

use crate::frames::test_closure;
use crate::model::{
    Body, Class, Dependency, FoundBy, Frame, Held, HeldBack, Lock, Report, Site, Wait,
};
use crate::{dep, Access, NodeKind, ViolationKind};

/// The rules above and below the headline are at least this wide.
const RULE_WIDTH: usize = 54;
/// Distance between the columns of a scenario table (the kernel's: `CPU1` 24 columns right
/// of `CPU0`).
const COLUMN: usize = 24;
/// Frames printed per stack.
const FRAMES_SHOWN: usize = 14;
/// An acquisition whose site no frame of the user's code tells.
const NO_SITE: &str = "(an allocation through TrackingAllocator)";

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        header(f, self.kind)?;
        match &self.body {
            Body::Cycle {
                found_by,
                ring,
                held_back,
            } => cycle(f, self.kind, found_by, ring, held_back.as_ref())?,
            Body::Recursive {
                thread,
                trying,
                holding,
            } => recursive(f, thread, trying, holding)?,
            Body::HeldAtExit { thread } => {
                writeln!(f, "{thread} is exiting with locks still held!")?;
                f.write_str("\n(a guard was leaked, e.g. with mem::forget)\n\n")?;
            }
            Body::PoolOutstanding {
                thread,
                pool,
                outstanding,
            } => {
                write!(
                    f,
                    "{thread} dropped mempool ({}) with {outstanding} element(s) outstanding",
                    pool.name
                )?;
                if let Some(site) = &pool.site {
                    write!(f, " (pool created at {site})")?;
                }
                f.write_str(
                    "\n\nElements still in use will be freed when dropped; the pool's reserve\n\
                     no longer guarantees forward progress to their holders.\n\n",
                )?;
            }
            Body::DeclaredOrder {
                thread,
                trying,
                holding,
                trying_key,
                holding_key,
            } => declared_order(f, thread, trying, holding, *trying_key, *holding_key)?,
            Body::HeldAcrossAwait {
                task,
                lock,
                next,
                thread,
            } => {
                writeln!(f, "{task} suspended while holding a blocking lock:")?;
                writeln!(f, "  {}\n", desc(lock))?;
                writeln!(f, "and {next} ran next on its thread ({thread}).\n")?;
                f.write_str(
                    " A task must not hold a blocking lock across an .await: while it is\n \
                     suspended, another task on its worker that takes the lock blocks the\n \
                     thread the first one needs to go on (a deadlock), and every other waiter\n \
                     waits for as long as the task sleeps. Release the guard before the\n \
                     .await, or use an async lock (lockdep::tokio::sync::Mutex).\n\n",
                )?;
            }
            Body::Hang {
                timeout_ms,
                waits,
                cycle,
            } => hang(f, *timeout_ms, waits, cycle)?,
            Body::Overflow { what, limit } => {
                writeln!(f, "{what}: the limit is {limit}.")?;
                f.write_str("turning off the locking correctness validator.\n\n")?;
            }
        }
        if let Some(held) = &self.held {
            held_locks(f, held)?;
        }
        if let Some(backtrace) = &self.backtrace {
            f.write_str("\nstack backtrace:\n")?;
            frames(f, backtrace)?;
        }
        for note in &self.notes {
            writeln!(f, "\n{note}")?;
        }
        Ok(())
    }
}

/// The first lines of a report of `kind`: its headline between rules.
///
/// # Examples
///
/// ```
/// use lockdep_report::{title, ViolationKind};
///
/// assert_eq!(
///     title(ViolationKind::TableOverflow),
///     "======================================================\n\
///      BUG: lockdep table too small!\n\
///      ------------------------------------------------------\n"
/// );
/// ```
pub fn title(kind: ViolationKind) -> String {
    let mut out = String::new();
    let _ = header(&mut out, kind);
    out
}

/// The headline between its rules: `WARNING: …`, or `BUG: …` for a fault that turned the
/// checker off.
fn header(out: &mut impl fmt::Write, kind: ViolationKind) -> fmt::Result {
    let prefix = if kind.is_bug() { "BUG" } else { "WARNING" };
    let title = format!("{prefix}: {}", kind.headline());
    let width = RULE_WIDTH.max(title.len());
    writeln!(out, "{}", "=".repeat(width))?;
    writeln!(out, "{title}")?;
    writeln!(out, "{}", "-".repeat(width))
}

/// `site` as a report prints it, or, when there is none, why: an allocation through
/// `TrackingAllocator` whose stack has no frame of the user's code.
///
/// # Examples
///
/// ```
/// use lockdep_report::{site_text, Site};
///
/// assert_eq!(site_text(Some(&Site::new("src/a.rs", 3, None))), "src/a.rs:3");
/// assert_eq!(site_text(None), "(an allocation through TrackingAllocator)");
/// ```
pub fn site_text(site: Option<&Site>) -> String {
    site.map_or_else(|| NO_SITE.to_owned(), Site::to_string)
}

/// `(name)` plus how it is held, and where: the kernel prints the class in parentheses.
fn desc(lock: &Lock) -> String {
    let how = match lock.class.kind {
        NodeKind::Pool if lock.count > 1 => format!(" x{} elements", lock.count),
        NodeKind::Pool => " element".to_owned(),
        NodeKind::Alloc | NodeKind::Event => String::new(),
        NodeKind::Lock => match lock.access {
            Access::Write => String::new(),
            Access::Read => " read".to_owned(),
            Access::RecursiveRead => " recursive read".to_owned(),
        },
    };
    format!(
        "({}){how}, at: {}",
        lock.class.name,
        site_text(lock.site.as_ref())
    )
}

/// `lock(X)`, `rlock(X)`, `alloc(P)`, `wait(E)` or an allocation, as in the scenario tables,
/// the class called `label`.
fn op(class: &Class, label: &str, access: Access) -> String {
    match class.kind {
        NodeKind::Pool => format!("alloc({label})"),
        NodeKind::Alloc => "allocate memory (may wait for reclaim)".to_owned(),
        NodeKind::Event => format!("wait({label})"),
        NodeKind::Lock if access.is_shared() => format!("rlock({label})"),
        NodeKind::Lock => format!("lock({label})"),
    }
}

/// What a thread of a scenario table holds: [`op`], but a thread "holding" an event is on
/// its way to notifying it (an event is never held).
fn held_op(class: &Class, label: &str, access: Access) -> String {
    if class.is_event() {
        format!("(on its way to notify({label}))")
    } else {
        op(class, label, access)
    }
}

/// The row after what a thread "holding" `class` wants next, if `class` is an event: the
/// notify it was on its way to, which never comes.
fn never_reached(class: &Class, label: &str) -> Option<String> {
    class
        .is_event()
        .then(|| format!("notify({label}) (never reached)"))
}

/// A stack, innermost first, down to the test's closure: one indented frame per line.
fn frames(out: &mut impl fmt::Write, frames: &[Frame]) -> fmt::Result {
    if frames.is_empty() {
        return out.write_str("       (no stack trace)\n");
    }
    let own = test_closure(frames).map_or(frames.len(), |i| i + 1);
    for frame in frames.iter().take(own.min(FRAMES_SHOWN)) {
        match &frame.site {
            Some(site) => writeln!(out, "       {} ({site})", frame.function)?,
            None => writeln!(out, "       {}", frame.function)?,
        }
    }
    if own > FRAMES_SHOWN {
        writeln!(out, "       ... ({} more frames)", own - FRAMES_SHOWN)?;
    }
    Ok(())
}

fn held_locks(out: &mut impl fmt::Write, held: &Held) -> fmt::Result {
    let thread = &held.thread;
    match held.locks.len() {
        0 => writeln!(out, "no locks held by {thread}."),
        n => {
            let plural = if n == 1 { "lock" } else { "locks" };
            writeln!(out, "{n} {plural} held by {thread}:")?;
            for (i, lock) in held.locks.iter().enumerate() {
                writeln!(out, " #{i}: {}", desc(lock))?;
            }
            Ok(())
        }
    }
}

/// The "trying to acquire … but already holding …" lines, worded for locks, pools, memory and
/// events.
fn trying_and_holding(
    out: &mut impl fmt::Write,
    thread: &str,
    trying: &Lock,
    holding: &Lock,
) -> fmt::Result {
    if holding.class.is_event() {
        // A notify closed the cycle: the "held" event is the one being notified, and the
        // "acquisition" is what the thread took on its way to it.
        writeln!(out, "{thread} is notifying event:")?;
        writeln!(out, "  {}\n", desc(holding))?;
        writeln!(out, "after taking, since it last waited for an event:")?;
        return writeln!(out, "  {}\n", desc(trying));
    }
    let wants = match trying.class.kind {
        NodeKind::Lock => "is trying to acquire lock",
        NodeKind::Pool => "is trying to allocate from pool",
        NodeKind::Alloc => "is trying to allocate memory",
        NodeKind::Event => "is trying to wait for event",
    };
    let has = match holding.class.kind {
        NodeKind::Lock | NodeKind::Event => "but thread is already holding lock",
        NodeKind::Pool => "but thread is already holding an element of pool",
        NodeKind::Alloc => "but thread is already in memory reclaim",
    };
    writeln!(out, "{thread} {wants}:")?;
    writeln!(out, "  {}\n", desc(trying))?;
    writeln!(out, "{has}:")?;
    writeln!(out, "  {}\n", desc(holding))
}

/// How a thread found a cycle whose closing dependency was held back until `held_back`
/// (made earlier, maybe by another thread, as `trying` while holding `holding`).
fn released_by(
    out: &mut impl fmt::Write,
    thread: &str,
    held_back: &HeldBack,
    trying: &Lock,
    holding: &Lock,
) -> fmt::Result {
    match held_back {
        HeldBack::FirstWrite { write } => {
            writeln!(out, "{thread} is the first to wait to write lock:")?;
            writeln!(out, "  {}\n", desc(write))?;
            writeln!(
                out,
                "so a read of it may now wait behind a writer, as this earlier one:"
            )?;
        }
        HeldBack::FirstHold { by: None, .. } => {
            writeln!(
                out,
                "{thread} closes a cycle through the first acquisition of a lock, made while \
                 holding a lock no other thread has taken (one thread cannot tell whether \
                 the lock was private then):"
            )?;
        }
        HeldBack::FirstHold {
            by: Some(by),
            by_holder,
        } => {
            writeln!(out, "{thread} takes lock:")?;
            writeln!(out, "  {}\n", desc(by))?;
            if *by_holder {
                writeln!(
                    out,
                    "again, having taken it first: it kept it, so its first acquisition counts:"
                )?;
            } else {
                writeln!(
                    out,
                    "without having taken ({}) before: it could be reached without it, so its first \
                     acquisition counts:",
                    holding.class.name
                )?;
            }
        }
    }
    writeln!(out, "  {}\n", desc(trying))?;
    writeln!(out, "made while holding:")?;
    writeln!(out, "  {}\n", desc(holding))
}

/// The line of a merge's report that says why its closing dependency counts only now.
fn released_in_merge(out: &mut impl fmt::Write, held_back: &HeldBack) -> fmt::Result {
    match held_back {
        HeldBack::FirstWrite { write } => writeln!(
            out,
            "it is a read, which may wait behind a writer: a writer waits for ({}) at: {}",
            write.class.name,
            site_text(write.site.as_ref())
        ),
        // A process writes a dependency held back in a first hold only once it counts.
        HeldBack::FirstHold { .. } => Ok(()),
    }
}

fn cycle(
    out: &mut fmt::Formatter<'_>,
    kind: ViolationKind,
    found_by: &FoundBy,
    ring: &[Dependency],
    held_back: Option<&HeldBack>,
) -> fmt::Result {
    let closing = &ring[0];
    match found_by {
        FoundBy::Thread {
            thread,
            trying,
            holding,
        } => match held_back {
            Some(held_back) => released_by(out, thread, held_back, trying, holding)?,
            None => trying_and_holding(out, thread, trying, holding)?,
        },
        FoundBy::Merge { processes } => {
            writeln!(
                out,
                "found by merging report files: the dependencies below were recorded by \
                 {processes} process(es).\n"
            )?;
            writeln!(
                out,
                "the new dependency ({}) --> ({}) closes the cycle, at: {}",
                closing.from.name,
                closing.to.name,
                site_text(closing.site.as_ref())
            )?;
            if let Some(held_back) = held_back {
                released_in_merge(out, held_back)?;
            }
        }
    }
    if closing.from.is_event() {
        out.write_str("and a waiter for the event may hold that lock.\n\n\n")?;
    } else {
        out.write_str("which lock already depends on the new lock.\n\n\n")?;
    }
    out.write_str("the existing dependency chain (in reverse order) is:\n")?;
    for (i, d) in ring.iter().enumerate().rev() {
        writeln!(out, "\n-> #{i} ({}):", d.to.name)?;
        if d.is_reclaim_path() {
            writeln!(
                out,
                "       memory reclaim may wait for this pool's elements (on the reclaim path \
                 since its creation at {})",
                site_text(d.site.as_ref())
            )?;
            continue;
        }
        // An event is not held: a dependency out of one was taken on the way to notifying it.
        let (how, held) = if d.to.is_event() {
            ("waited for", " while holding")
        } else if d.from.is_event() {
            ("acquired on the way to notifying it", ", the event")
        } else {
            ("acquired", " while holding")
        };
        writeln!(
            out,
            "       {how} at {}{held} ({}) [{}]",
            site_text(d.site.as_ref()),
            d.from.name,
            dep::names(d.deps).join(",")
        )?;
        if let Some(recorded_by) = &d.recorded_by {
            writeln!(out, "       recorded by {recorded_by}")?;
        }
        frames(out, &d.frames)?;
    }
    out.write_str("\nother info that might help us debug this:\n\n")?;
    if kind == ViolationKind::MempoolLivelock {
        livelock_scenario(out, ring)
    } else {
        deadlock_scenario(out, ring)
    }
}

/// The kernel's `Chain exists of:` line for a cycle, closed back to its first class.
fn chain_exists(out: &mut impl fmt::Write, cycle: &[String]) -> fmt::Result {
    writeln!(
        out,
        " Chain exists of:\n   {} --> {}\n",
        cycle.join(" --> "),
        cycle[0]
    )
}

/// The CPU table: for a two-class cycle exactly the kernel's; for longer cycles one column per
/// thread, each holding one class of the cycle and wanting the next. Thread 0 makes the
/// closing dependency; thread `t ≥ 1` holds the start of dependency `t` and wants its end.
fn deadlock_scenario(out: &mut impl fmt::Write, ring: &[Dependency]) -> fmt::Result {
    let first = &ring[0].to;
    // A cycle among the locks of one class (ordered by instance): the locks are told apart by
    // number, `#0` being the one the closing dependency acquires.
    let one_class = ring.iter().all(|d| d.from == *first && d.to == *first);
    let label = |i: usize| -> String {
        if one_class {
            format!("{} #{i}", first.name)
        } else {
            ring[i].to.name.clone()
        }
    };
    let n = ring.len();
    if n > 2 {
        chain_exists(out, &(0..n).map(label).collect::<Vec<_>>())?;
    }
    if one_class {
        out.write_str(
            " These are distinct locks of one class, taken in opposite orders: take the\n \
             locks of a class in one order (by index, by address).\n\n",
        )?;
    }
    out.write_str(" Possible unsafe locking scenario:\n\n")?;
    // Thread t holds class `held_index(t)` of the chain and wants class t.
    let held_index = |t: usize| if t == 0 { n - 1 } else { t - 1 };
    let mut rows: Vec<(usize, String)> = Vec::new();
    for (t, d) in ring.iter().enumerate() {
        rows.push((t, held_op(&d.from, &label(held_index(t)), d.held)));
    }
    let mut want = |t: usize| {
        let d = &ring[t];
        rows.push((t, op(&d.to, &label(t), d.wanted)));
        rows.extend(never_reached(&d.from, &label(held_index(t))).map(|row| (t, row)));
    };
    for t in (1..n).rev() {
        want(t);
    }
    want(0);
    let names: Vec<String> = (0..n).map(|t| format!("CPU{t}")).collect();
    table(out, &names, &rows)?;
    out.write_str("\n *** DEADLOCK ***\n\n")?;
    if ring.iter().any(|d| d.to.is_event()) {
        out.write_str(
            " A thread must not wait for an event while holding a lock that the event's\n \
             notifier takes on its way to the notify: release the lock before waiting (a\n \
             condition variable releases only its own mutex), or notify without taking it.\n\n",
        )?;
    }
    Ok(())
}

/// The taskA/taskB/taskC livelock table (element holder, allocator under a lock, reclaim),
/// with the real names, and what to do.
///
/// The cycle is read from the pool that memory reclaim waits for (the first pool after
/// `ALLOC`): `P → l1 → … → lb → ALLOC → r1 → … → P`. taskA takes the element and then `l1`;
/// taskB holds `lb` (or, an event, is on its way to notifying it) and allocates; taskC is
/// reclaim, takes `r1 …` and waits on the pool.
fn livelock_scenario(out: &mut impl fmt::Write, ring: &[Dependency]) -> fmt::Result {
    let classes: Vec<&Class> = ring.iter().map(|d| &d.to).collect();
    let n = classes.len();
    let is = |c: &Class, kind| c.kind == kind;
    let start_at = classes
        .iter()
        .position(|c| is(c, NodeKind::Alloc))
        .unwrap_or(0);
    let Some(p) = (1..=n)
        .map(|i| (start_at + i) % n)
        .find(|&i| is(classes[i], NodeKind::Pool))
    else {
        return Ok(());
    };
    let rotated: Vec<&Class> = (0..n).map(|i| classes[(p + i) % n]).collect();
    let a = rotated
        .iter()
        .position(|c| is(c, NodeKind::Alloc))
        .unwrap_or(n);
    let pool = rotated[0];
    let alloc = rotated.get(a).copied();
    // Taken by the element holder, down to the one held while allocating.
    let holder_chain = &rotated[1..a.max(1)];
    // Taken by reclaim before it waits on the pool.
    let reclaim_chain = rotated.get(a + 1..).unwrap_or(&[]);
    let link = |from: &Class, to: Option<&Class>| {
        ring.iter().find(|d| d.from == *from && Some(&d.to) == to)
    };
    let name = |c: &Class| c.name.clone();

    chain_exists(out, &rotated.iter().map(|c| name(c)).collect::<Vec<_>>())?;
    out.write_str(" Possible unsafe locking scenario:\n\n")?;
    let stall = "allocate memory (stalls: reclaim needs pool elements)";
    let mut rows = vec![(
        0,
        format!(
            "{} (takes the last element)",
            op(pool, &pool.name, Access::Write)
        ),
    )];
    match (holder_chain.first(), holder_chain.last()) {
        (Some(&l1), Some(&lb)) => {
            rows.push((1, held_op(lb, &lb.name, Access::Write)));
            let how = if l1 == lb {
                "(waits for taskB)"
            } else {
                "(waits, via the chain, for taskB)"
            };
            rows.push((0, format!("{} {how}", op(l1, &l1.name, Access::Write))));
            rows.push((1, stall.to_owned()));
            rows.extend(never_reached(lb, &lb.name).map(|row| (1, row)));
        }
        // The element holder allocates itself (taskB has no part).
        _ => rows.push((0, stall.to_owned())),
    }
    for &c in reclaim_chain {
        rows.push((2, format!("{} (reclaim)", op(c, &c.name, Access::Write))));
    }
    rows.push((
        2,
        format!(
            "{} (waits for taskA: livelock)",
            op(pool, &pool.name, Access::Write)
        ),
    ));
    let names = ["taskA".to_owned(), "taskB".to_owned(), "taskC".to_owned()];
    table(out, &names, &rows)?;
    out.write_str("\n *** LIVELOCK ***\n\n")?;

    write!(out, " pool: {}", pool.name)?;
    if let Some(site) = &pool.site {
        write!(out, " (created at {site})")?;
    }
    out.write_char('\n')?;
    match (holder_chain.first(), holder_chain.last()) {
        (Some(&l1), Some(&lb)) => {
            if let Some(d) = link(pool, Some(l1)) {
                let what = if l1.is_event() {
                    "event waited for"
                } else {
                    "lock taken"
                };
                writeln!(
                    out,
                    " {what} while holding an element: {} at: {}",
                    l1.name,
                    site_text(d.site.as_ref())
                )?;
            }
            if lb.is_event() {
                writeln!(out, " event notified after allocating: {}", lb.name)?;
            } else {
                writeln!(out, " lock held while allocating: {}", lb.name)?;
            }
            if let Some(d) = link(lb, alloc) {
                let under = if lb.is_event() {
                    "on the way to the notify"
                } else {
                    "under that lock"
                };
                writeln!(
                    out,
                    " allocation {under} at: {}",
                    site_text(d.site.as_ref())
                )?;
            }
        }
        _ => {
            if let Some(d) = link(pool, alloc) {
                writeln!(
                    out,
                    " allocation while holding an element at: {}",
                    site_text(d.site.as_ref())
                )?;
            }
        }
    }
    if let (Some(alloc), Some(&r1)) = (alloc, reclaim_chain.first()) {
        if let Some(d) = link(alloc, Some(r1)) {
            writeln!(
                out,
                " taken in memory reclaim: {} at: {}",
                r1.name,
                site_text(d.site.as_ref())
            )?;
        }
    }
    out.write_str(match holder_chain.last() {
        None => {
            "\n An element holder must not allocate memory that may wait for reclaim:\n \
             allocate inside noreclaim_scope() (the kernel's GFP_NOIO), or return the element first.\n\n"
        }
        Some(lb) if lb.is_event() => {
            "\n An element holder must not wait for an event whose notifier allocates memory on\n \
             its way to the notify: return the element before waiting, or allocate there inside\n \
             noreclaim_scope().\n\n"
        }
        Some(_) => {
            "\n An element holder must not block on a lock that is held while allocating memory:\n \
             allocate under that lock inside noreclaim_scope(), or take the lock before the element.\n\n"
        }
    })
}

/// A scenario table: one column per thread titled `names[t]`, then `rows` of (thread, text),
/// laid out as the kernel's (the first column's operations start left of its title, the
/// others' under theirs).
fn table(out: &mut impl fmt::Write, names: &[String], rows: &[(usize, String)]) -> fmt::Result {
    let mut line = String::from("       ");
    let mut dashes = String::from("       ");
    for (i, n) in names.iter().enumerate() {
        let pad = if i + 1 == names.len() {
            0
        } else {
            COLUMN.saturating_sub(n.len()).max(1)
        };
        line.push_str(n);
        line.push_str(&" ".repeat(pad));
        dashes.push_str(&"-".repeat(n.len()));
        dashes.push_str(&" ".repeat(pad));
    }
    writeln!(out, "{}\n{}", line.trim_end(), dashes.trim_end())?;
    for (column, text) in rows {
        let indent = if *column == 0 { 2 } else { 7 + column * COLUMN };
        writeln!(out, "{}{text};", " ".repeat(indent))?;
    }
    Ok(())
}

/// `ms` milliseconds as seconds with one decimal.
fn seconds(ms: u64) -> String {
    format!("{}.{} s", ms / 1000, ms % 1000 / 100)
}

fn hang(
    out: &mut impl fmt::Write,
    timeout_ms: u64,
    waits: &[Wait],
    cycle: &[usize],
) -> fmt::Result {
    writeln!(
        out,
        "The watchdog (LOCKDEP_WATCHDOG={}) stopped the process: {} wait(s) in progress.\n",
        seconds(timeout_ms).trim_end_matches(" s"),
        waits.len()
    )?;
    for w in waits {
        let what = match w.waiting_for.class.kind {
            NodeKind::Lock => "lock",
            NodeKind::Pool => "an element of pool",
            NodeKind::Event => "event",
            NodeKind::Alloc => "memory",
        };
        writeln!(
            out,
            "{} has waited {} for {what}:",
            w.who,
            seconds(w.waited_ms)
        )?;
        writeln!(out, "  {}", desc(&w.waiting_for))?;
        match w.held.len() {
            0 => out.write_str(" holding nothing\n\n")?,
            n => {
                writeln!(out, " while holding {n}:")?;
                for (i, lock) in w.held.iter().enumerate() {
                    writeln!(out, " #{i}: {}", desc(lock))?;
                }
                out.write_char('\n')?;
            }
        }
    }
    if cycle.is_empty() {
        return out.write_str(
            "No cycle among these waits: a lock they wait for is held by a thread that is not\n\
             waiting for a checked lock (it may be busy, or waiting for something else).\n\n",
        );
    }
    out.write_str("The waits form a cycle, a deadlock:\n")?;
    for (k, &i) in cycle.iter().enumerate() {
        let next = &waits[cycle[(k + 1) % cycle.len()]];
        writeln!(
            out,
            " {} waits for ({}), held by {}",
            waits[i].who, waits[i].waiting_for.class.name, next.who
        )?;
    }
    out.write_str("\n")?;
    // Each waiter holds what the one before it waits for.
    let names: Vec<String> = cycle.iter().map(|&i| waits[i].who.clone()).collect();
    let mut rows = Vec::new();
    for (k, _) in cycle.iter().enumerate() {
        let before = &waits[cycle[(k + cycle.len() - 1) % cycle.len()]].waiting_for;
        rows.push((k, op(&before.class, &before.class.name, before.access)));
    }
    for (k, &i) in cycle.iter().enumerate().rev() {
        let w = &waits[i].waiting_for;
        rows.push((k, op(&w.class, &w.class.name, w.access)));
    }
    table(out, &names, &rows)?;
    out.write_str("\n *** DEADLOCK ***\n\n")
}

fn declared_order(
    out: &mut impl fmt::Write,
    thread: &str,
    trying: &Lock,
    holding: &Lock,
    trying_key: u64,
    holding_key: u64,
) -> fmt::Result {
    writeln!(out, "{thread} is trying to acquire lock:")?;
    writeln!(out, "  {} key {trying_key}\n", desc(trying))?;
    writeln!(out, "but thread is already holding lock:")?;
    writeln!(out, "  {} key {holding_key}\n", desc(holding))?;
    writeln!(
        out,
        "and the locks of ({}) are declared to nest by increasing key.\n",
        trying.class.name
    )?;
    out.write_str("other info that might help us debug this:\n")?;
    out.write_str(" Possible unsafe locking scenario:\n\n")?;
    let name = &trying.class.name;
    let (held, wanted) = (
        format!("{name} key {holding_key}"),
        format!("{name} key {trying_key}"),
    );
    let rows = [
        (0, op(&holding.class, &held, holding.access)),
        (1, op(&trying.class, &wanted, trying.access)),
        (1, op(&holding.class, &held, holding.access)),
        (0, op(&trying.class, &wanted, trying.access)),
    ];
    table(out, &["CPU0".to_owned(), "CPU1".to_owned()], &rows)?;
    write!(
        out,
        "\n *** DEADLOCK ***\n\n Take the lock of key {trying_key} before the one of key \
         {holding_key}: by increasing key, as every other path that nests them does.\n\n"
    )
}

fn recursive(
    out: &mut impl fmt::Write,
    thread: &str,
    trying: &Lock,
    holding: &Lock,
) -> fmt::Result {
    trying_and_holding(out, thread, trying, holding)?;
    out.write_str("other info that might help us debug this:\n")?;
    out.write_str(" Possible unsafe locking scenario:\n\n")?;
    let names = ["CPU0".to_owned()];
    let mut rows = vec![
        (0, op(&holding.class, &holding.class.name, holding.access)),
        (0, op(&trying.class, &trying.class.name, trying.access)),
    ];
    match trying.class.kind {
        NodeKind::Pool => {
            rows[1]
                .1
                .push_str(" (waits for an element only this thread can return)");
            table(out, &names, &rows)?;
            out.write_str("\n *** DEADLOCK ***\n\n")?;
            out.write_str(
                " Allocate all elements at once, serialised by a lock, or use try_alloc().\n\n",
            )
        }
        NodeKind::Alloc => {
            rows[0].1 = "reclaim memory".to_owned();
            table(out, &names, &rows)?;
            out.write_str("\n *** DEADLOCK ***\n\n")?;
            out.write_str(
                " Memory reclaim must not allocate memory that may enter reclaim:\n \
                 allocate inside noreclaim_scope() here.\n\n",
            )
        }
        // Another lock of the class is ordered by instance, never this; an event is never
        // held.
        NodeKind::Lock | NodeKind::Event => {
            table(out, &names, &rows)?;
            let waits = if holding.access.is_shared() && trying.access.is_shared() {
                "waits for the first behind a writer queued between them"
            } else {
                "waits for the first"
            };
            write!(
                out,
                "\n *** DEADLOCK ***\n\n The same lock, not another lock of its class: the second \
                 acquisition\n {waits}, and no nesting annotation can change that.\n \
                 Release it before taking it again, or take it once.\n\n",
            )
        }
    }
}
