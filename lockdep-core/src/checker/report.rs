//! Kernel-style text reports: [`Report`] renders a violation as the kernel prints it.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use super::registry;
use super::stack_trace::{SourceSite, StackTrace};
use super::types::{Access, ClassId, NodeKind, ALLOCATOR_SITE};
use super::violation::{Detail, Link, LockDesc, ViolationData};
use crate::ViolationKind;

/// A violation's kernel-style text. Rendering resolves stack traces, which is slow: the text
/// is kept in the violation once rendered, so `Display` writes it from there.
pub(crate) struct Report<'a>(pub &'a ViolationData);

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self
            .0
            .rendered
            .get_or_init(|| Rendering(self.0).to_string());
        f.write_str(text)
    }
}

/// The full text report of `violations`: a count, then each report (empty when there is
/// none).
pub(crate) fn full(violations: &[std::sync::Arc<ViolationData>]) -> String {
    if violations.is_empty() {
        return String::new();
    }
    let mut out = format!("lockdep: {} violation(s) recorded\n\n", violations.len());
    for v in violations {
        out.push_str(&Report(v).to_string());
        out.push('\n');
    }
    out
}

/// Renders a violation's report afresh.
struct Rendering<'a>(&'a ViolationData);

impl fmt::Display for Rendering<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render(f, self.0)
    }
}

/// The report's title line (after `WARNING: ` or `BUG: `).
pub(crate) fn headline(kind: ViolationKind) -> &'static str {
    match kind {
        ViolationKind::CircularDependency => "possible circular locking dependency detected",
        ViolationKind::RecursiveLock => "possible recursive locking detected",
        ViolationKind::SameLockTwice => "this thread already holds this very lock",
        ViolationKind::MempoolLivelock => "possible mempool livelock detected",
        ViolationKind::WaitDeadlock => "possible wait/notify deadlock detected",
        ViolationKind::PoolRecursion => "possible mempool recursion detected",
        ViolationKind::LockHeldAtExit => "lock held when thread exits!",
        ViolationKind::PoolDroppedWithOutstanding => "mempool dropped with elements outstanding!",
        ViolationKind::HeldDepthOverflow => "MAX_LOCK_DEPTH too low!",
        ViolationKind::TableOverflow => "lockdep table too small!",
    }
}

fn name(class: ClassId) -> Cow<'static, str> {
    registry::display_name(class)
}

/// Where an acquisition happened: its site, or, for an allocation seen by `TrackingAllocator`
/// (whose site is the allocator itself), the first frame of the user's code in `trace`;
/// `None` when the trace has no such frame.
pub(crate) fn source_site_of(
    site: &'static std::panic::Location<'static>,
    trace: &StackTrace,
) -> Option<SourceSite> {
    own_site(site).or_else(|| trace.user_site())
}

/// `site` as reports show it, unless it is the allocator's (an allocation seen by
/// `TrackingAllocator`, whose site only its trace tells).
pub(crate) fn own_site(site: &'static std::panic::Location<'static>) -> Option<SourceSite> {
    (*site != *ALLOCATOR_SITE).then(|| registry::source_site(site))
}

/// [`source_site_of`] as text.
pub(crate) fn site_of(site: &'static std::panic::Location<'static>, trace: &StackTrace) -> String {
    source_site_of(site, trace).map_or_else(
        || "(an allocation through TrackingAllocator)".to_owned(),
        |s| s.to_string(),
    )
}

/// `desc_at` of a held entry, whose site is never the allocator's.
fn desc(d: &LockDesc) -> String {
    desc_at(d, &StackTrace::default())
}

/// `(name)` plus how it is held: the kernel prints the class in parentheses.
fn desc_at(d: &LockDesc, trace: &StackTrace) -> String {
    let info = registry::info(d.class);
    let how = match info.kind {
        NodeKind::Pool if d.count > 1 => format!(" x{} elements", d.count),
        NodeKind::Pool => " element".to_owned(),
        NodeKind::Alloc | NodeKind::Event => String::new(),
        NodeKind::Lock => match d.access {
            Access::Write => String::new(),
            Access::Read => " read".to_owned(),
            Access::RecursiveRead => " recursive read".to_owned(),
        },
    };
    format!(
        "({}){how}, at: {}",
        registry::display_name(d.class),
        site_of(d.site, trace)
    )
}

/// `lock(X)`, `rlock(X)`, `alloc(P)` or `reclaim(ALLOC)` as in the scenario tables.
fn op(class: ClassId, access: Access) -> String {
    op_named(class, &name(class), access)
}

/// [`op`] of `class`, called `label`.
fn op_named(class: ClassId, label: &str, access: Access) -> String {
    match registry::info(class).kind {
        NodeKind::Pool => format!("alloc({label})"),
        NodeKind::Alloc => "allocate memory (may wait for reclaim)".to_owned(),
        NodeKind::Event => format!("wait({label})"),
        NodeKind::Lock if access.is_shared() => format!("rlock({label})"),
        NodeKind::Lock => format!("lock({label})"),
    }
}

/// Whether `class` is an event (never held: a thread "holding" it is on its way to
/// notifying it).
fn is_event(class: ClassId) -> bool {
    registry::info(class).kind == NodeKind::Event
}

/// The scenario-table rows of a notifier of the event `label`: where it stands while it takes
/// what it wants next, and the notify it never reaches.
fn on_way_to_notify(label: &str) -> String {
    format!("(on its way to notify({label}))")
}

fn notify_never_reached(label: &str) -> String {
    format!("notify({label}) (never reached)")
}

const RULE_WIDTH: usize = 54;

fn header(out: &mut fmt::Formatter<'_>, data: &ViolationData) -> fmt::Result {
    let kind = data.kind;
    let prefix = if kind.turns_checker_off() {
        "BUG"
    } else {
        "WARNING"
    };
    let title = format!("{prefix}: {}", headline(kind));
    let width = RULE_WIDTH.max(title.len());
    writeln!(out, "{}", "=".repeat(width))?;
    writeln!(out, "{title}")?;
    writeln!(out, "{}", "-".repeat(width))
}

/// The full text of a violation.
fn render(out: &mut fmt::Formatter<'_>, data: &ViolationData) -> fmt::Result {
    header(out, data)?;
    match &data.detail {
        Detail::Cycle {
            trying,
            holding,
            ring,
        } => render_cycle(out, data, trying, holding, ring)?,
        Detail::Recursive { trying, holding } => render_recursive(out, data, trying, holding)?,
        Detail::HeldAtExit => {
            writeln!(out, "{} is exiting with locks still held!", data.thread)?;
            out.write_str("\n(a guard was leaked, e.g. with mem::forget)\n\n")?;
        }
        Detail::PoolOutstanding {
            pool,
            outstanding,
            site,
        } => {
            writeln!(
                out,
                "{} dropped mempool ({}) with {outstanding} element(s) outstanding (pool created at {site})\n",
                data.thread,
                name(*pool)
            )?;
            out.write_str("Elements still in use will be freed when dropped; the pool's reserve\nno longer guarantees forward progress to their holders.\n\n")?;
        }
        Detail::Overflow { what, limit } => {
            writeln!(out, "{what}: the limit is {limit}.")?;
            out.write_str("turning off the locking correctness validator.\n\n")?;
        }
    }
    render_held(out, &data.thread, &data.held)?;
    if matches!(data.detail, Detail::Cycle { .. } | Detail::Recursive { .. }) {
        out.write_str("\nstack backtrace:\n")?;
        data.trace.render(out)?;
    }
    Ok(())
}

fn render_held(out: &mut fmt::Formatter<'_>, thread: &str, held: &[LockDesc]) -> fmt::Result {
    match held.len() {
        0 => {
            writeln!(out, "no locks held by {thread}.")?;
        }
        n => {
            let plural = if n == 1 { "lock" } else { "locks" };
            writeln!(out, "{n} {plural} held by {thread}:")?;
            for (i, h) in held.iter().enumerate() {
                writeln!(out, " #{i}: {}", desc(h))?;
            }
        }
    }
    Ok(())
}

fn render_cycle(
    out: &mut fmt::Formatter<'_>,
    data: &ViolationData,
    trying: &LockDesc,
    holding: &LockDesc,
    ring: &[Link],
) -> fmt::Result {
    trying_and_holding(out, data, trying, holding)?;
    if is_event(holding.class) {
        out.write_str("and a waiter for the event may hold that lock.\n\n\n")?;
    } else {
        out.write_str("which lock already depends on the new lock.\n\n\n")?;
    }
    out.write_str("the existing dependency chain (in reverse order) is:\n")?;
    // ring[0] is the new dependency; ring[i] (i ≥ 1) the i-th dependency of the existing path.
    for i in (0..ring.len()).rev() {
        let link = &ring[i];
        writeln!(out, "\n-> #{i} ({}):", name(link.to))?;
        if is_reclaim_path_dependency(link) {
            writeln!(
                out,
                "       memory reclaim may wait for this pool's elements (on the reclaim path \
                 since its creation at {})",
                link.site
            )?;
            continue;
        }
        let trace = if i == 0 { &data.trace } else { &link.trace };
        let how = if is_event(link.to) {
            "waited for"
        } else if is_event(link.from) {
            "acquired on the way to notifying it"
        } else {
            "acquired"
        };
        writeln!(out, "       {how} at {}", site_of(link.site, trace))?;
        trace.render(out)?;
    }
    out.write_str("\nother info that might help us debug this:\n\n")?;
    if data.kind == ViolationKind::MempoolLivelock {
        render_livelock_scenario(out, ring)
    } else {
        render_deadlock_scenario(out, trying, holding, ring)
    }
}

/// The CPU table: for a two-class cycle exactly the kernel's; for longer cycles one column per
/// thread, each holding one class of the cycle and wanting the next.
fn render_deadlock_scenario(
    out: &mut fmt::Formatter<'_>,
    trying: &LockDesc,
    holding: &LockDesc,
    ring: &[Link],
) -> fmt::Result {
    let classes: Vec<ClassId> = ring.iter().map(|l| l.to).collect(); // c0 = trying … ck = holding
                                                                     // A cycle among the locks of one class (see `instance_order`): the locks are told apart
                                                                     // by number, `#0` being the one this thread is trying to take.
    let one_class = ring
        .iter()
        .all(|l| l.from == classes[0] && l.to == classes[0]);
    let label = |i: usize| -> String {
        if one_class {
            format!("{} #{i}", name(classes[i]))
        } else {
            name(classes[i]).into_owned()
        }
    };
    if classes.len() > 2 {
        chain_exists(out, &(0..classes.len()).map(label).collect::<Vec<_>>())?;
    }
    if one_class {
        out.write_str(
            " These are distinct locks of one class, taken in opposite orders: take the\n \
             locks of a class in one order (by index, by address).\n\n",
        )?;
    }
    out.write_str(" Possible unsafe locking scenario:\n\n")?;
    // Thread 0 holds c_k and wants c_0; thread j ≥ 1 holds c_{j-1} and wants c_j.
    let k = classes.len() - 1;
    let threads = classes.len();
    let first = |t: usize| if t == 0 { k } else { t - 1 };
    let second = |t: usize| if t == 0 { 0 } else { t };
    let op_at = |i: usize, access: Access| op_named(classes[i], &label(i), access);
    // Thread t's second acquisition is the dependency ring[t]; whether it is a recursive read
    // is known. How the locks are taken is known exactly for the reporting thread only
    // (`rlock(X)` for a `read()` too, as the kernel prints a read acquisition).
    let wanted = |t: usize| {
        if t == 0 {
            trying.access
        } else if ring[t].recursive {
            Access::RecursiveRead
        } else {
            Access::Write
        }
    };
    // A thread "holding" an event is on its way to notifying it: its notify comes after
    // what it wants next, and never happens.
    let event_at = |i: usize| is_event(classes[i]);
    let held_op = |i: usize, access: Access| {
        if event_at(i) {
            on_way_to_notify(&label(i))
        } else {
            op_at(i, access)
        }
    };
    let names: Vec<String> = (0..threads).map(|t| format!("CPU{t}")).collect();
    let mut rows: Vec<(usize, String)> = Vec::new();
    rows.push((0, held_op(first(0), holding.access)));
    for t in 1..threads {
        rows.push((t, held_op(first(t), Access::Write)));
    }
    let mut want = |t: usize| {
        rows.push((t, op_at(second(t), wanted(t))));
        if event_at(first(t)) {
            rows.push((t, notify_never_reached(&label(first(t)))));
        }
    };
    for t in (1..threads).rev() {
        want(t);
    }
    want(0);
    table(out, &names, &rows)?;
    out.write_str("\n *** DEADLOCK ***\n\n")?;
    if classes.iter().any(|&c| is_event(c)) {
        out.write_str(
            " A thread must not wait for an event while holding a lock that the event's\n \
             notifier takes on its way to the notify: release the lock before waiting (a\n \
             condition variable releases only its own mutex), or notify without taking it.\n\n",
        )?;
    }
    Ok(())
}

/// The kernel's `Chain exists of:` line for a cycle, closed back to its first class.
fn chain_exists(out: &mut fmt::Formatter<'_>, cycle: &[String]) -> fmt::Result {
    writeln!(
        out,
        " Chain exists of:\n   {} --> {}\n",
        cycle.join(" --> "),
        cycle[0]
    )
}

/// The taskA/taskB/taskC livelock table (element holder, allocator under a lock, reclaim),
/// with the real names.
///
/// The cycle is read from the pool that memory reclaim waits for (the first pool after
/// `ALLOC`): `P → l1 → … → lb → ALLOC → r1 → … → P`. taskA takes the element and then `l1`;
/// taskB holds `lb` and allocates; taskC is reclaim, takes `r1 …` and waits on the pool.
fn render_livelock_scenario(out: &mut fmt::Formatter<'_>, ring: &[Link]) -> fmt::Result {
    let classes: Vec<ClassId> = ring.iter().map(|l| l.to).collect();
    let n = classes.len();
    let alloc = registry::alloc_class();
    let is_pool = |c: ClassId| registry::info(c).kind == NodeKind::Pool;
    let start_at = classes.iter().position(|&c| c == alloc).unwrap_or(0);
    let Some(p) = (1..=n)
        .map(|i| (start_at + i) % n)
        .find(|&i| is_pool(classes[i]))
    else {
        return Ok(());
    };
    let rotated: Vec<ClassId> = (0..n).map(|i| classes[(p + i) % n]).collect();
    let a = rotated.iter().position(|&c| c == alloc).unwrap_or(n);
    let pool = rotated[0];
    // Taken by the element holder, down to the one held while allocating.
    let holder_chain = &rotated[1..a.max(1)];
    // Taken by reclaim before it waits on the pool.
    let reclaim_chain = rotated.get(a + 1..).unwrap_or(&[]);
    let link = |from: ClassId, to: ClassId| ring.iter().find(|l| l.from == from && l.to == to);

    chain_exists(
        out,
        &rotated
            .iter()
            .map(|&c| name(c).into_owned())
            .collect::<Vec<_>>(),
    )?;
    out.write_str(" Possible unsafe locking scenario:\n\n")?;
    let stall = "allocate memory (stalls: reclaim needs pool elements)";
    let mut rows = vec![(
        0,
        format!("{} (takes the last element)", op(pool, Access::Write)),
    )];
    match (holder_chain.first(), holder_chain.last()) {
        (Some(&l1), Some(&lb)) => {
            // taskB "holding" an event is on its way to notifying it.
            let lb_event = is_event(lb);
            rows.push((
                1,
                if lb_event {
                    on_way_to_notify(&name(lb))
                } else {
                    op(lb, Access::Write)
                },
            ));
            let how = if l1 == lb {
                "(waits for taskB)"
            } else {
                "(waits, via the chain, for taskB)"
            };
            rows.push((0, format!("{} {how}", op(l1, Access::Write))));
            rows.push((1, stall.to_owned()));
            if lb_event {
                rows.push((1, notify_never_reached(&name(lb))));
            }
        }
        // The element holder allocates itself (taskB has no part).
        _ => rows.push((0, stall.to_owned())),
    }
    for &c in reclaim_chain {
        rows.push((2, format!("{} (reclaim)", op(c, Access::Write))));
    }
    rows.push((
        2,
        format!("{} (waits for taskA: livelock)", op(pool, Access::Write)),
    ));
    let names = ["taskA".to_owned(), "taskB".to_owned(), "taskC".to_owned()];
    table(out, &names, &rows)?;
    out.write_str("\n *** LIVELOCK ***\n\n")?;

    let pool_info = registry::info(pool);
    write!(out, " pool: {}", pool_info.name)?;
    if let Some(site) = pool_info.site {
        write!(out, " (created at {site})")?;
    }
    out.write_char('\n')?;
    match (holder_chain.first(), holder_chain.last()) {
        (Some(&l1), Some(&lb)) => {
            if let Some(l) = link(pool, l1) {
                let what = if is_event(l1) {
                    "event waited for"
                } else {
                    "lock taken"
                };
                writeln!(
                    out,
                    " {what} while holding an element: {} at: {}",
                    name(l1),
                    site_of(l.site, &l.trace)
                )?;
            }
            if is_event(lb) {
                writeln!(out, " event notified after allocating: {}", name(lb))?;
            } else {
                writeln!(out, " lock held while allocating: {}", name(lb))?;
            }
            if let Some(l) = link(lb, alloc) {
                let under = if is_event(lb) {
                    "on the way to the notify"
                } else {
                    "under that lock"
                };
                writeln!(out, " allocation {under} at: {}", site_of(l.site, &l.trace))?;
            }
        }
        _ => {
            if let Some(l) = link(pool, alloc) {
                writeln!(
                    out,
                    " allocation while holding an element at: {}",
                    site_of(l.site, &l.trace)
                )?;
            }
        }
    }
    if let Some(&r1) = reclaim_chain.first() {
        if let Some(l) = link(alloc, r1) {
            writeln!(
                out,
                " taken in memory reclaim: {} at: {}",
                name(r1),
                site_of(l.site, &l.trace)
            )?;
        }
    }
    if holder_chain.is_empty() {
        out.write_str(
            "\n An element holder must not allocate memory that may wait for reclaim:\n \
             allocate inside noreclaim_scope() (the kernel's GFP_NOIO), or return the element first.\n\n",
        )?;
    } else if holder_chain.last().is_some_and(|&lb| is_event(lb)) {
        out.write_str(
            "\n An element holder must not wait for an event whose notifier allocates memory on\n \
             its way to the notify: return the element before waiting, or allocate there inside\n \
             noreclaim_scope().\n\n",
        )?;
    } else {
        out.write_str(
            "\n An element holder must not block on a lock that is held while allocating memory:\n \
             allocate under that lock inside noreclaim_scope(), or take the lock before the element.\n\n",
        )?;
    }
    Ok(())
}

/// Prints rows of a scenario table, each operation in its thread's column.
fn table(out: &mut fmt::Formatter<'_>, names: &[String], rows: &[(usize, String)]) -> fmt::Result {
    const COL: usize = 24;
    let mut line = String::from("       ");
    let mut dashes = String::from("       ");
    for (i, n) in names.iter().enumerate() {
        let pad = if i + 1 == names.len() {
            0
        } else {
            COL - n.len()
        };
        line.push_str(n);
        line.push_str(&" ".repeat(pad));
        dashes.push_str(&"-".repeat(n.len()));
        dashes.push_str(&" ".repeat(pad));
    }
    writeln!(out, "{}\n{}", line.trim_end(), dashes.trim_end())?;
    for (col, text) in rows {
        // As the kernel: the first column's operations start left of its title, the others'
        // under theirs.
        let indent = if *col == 0 { 2 } else { 7 + col * COL };
        writeln!(out, "{}{text};", " ".repeat(indent))?;
    }
    Ok(())
}

/// `ALLOC → pool`, the dependency every reclaim-path pool has from its creation.
fn is_reclaim_path_dependency(link: &Link) -> bool {
    let to = registry::info(link.to);
    registry::info(link.from).kind == NodeKind::Alloc
        && to.kind == NodeKind::Pool
        && to.site.is_some_and(|site| *site == *link.site)
}

/// The "trying to acquire … but already holding …" lines, worded for locks, pools and memory.
fn trying_and_holding(
    out: &mut fmt::Formatter<'_>,
    data: &ViolationData,
    trying: &LockDesc,
    holding: &LockDesc,
) -> fmt::Result {
    let thread = &data.thread;
    if is_event(holding.class) {
        // A notify closed the cycle: the "held" event is the one being notified, and the
        // "acquisition" is what the thread took on its way to it.
        writeln!(out, "{thread} is notifying event:")?;
        writeln!(out, "  {}\n", desc_at(holding, &data.trace))?;
        writeln!(out, "after taking, since it last waited for an event:")?;
        return writeln!(out, "  {}\n", desc(trying));
    }
    let wants = match registry::info(trying.class).kind {
        NodeKind::Lock => "is trying to acquire lock",
        NodeKind::Pool => "is trying to allocate from pool",
        NodeKind::Alloc => "is trying to allocate memory",
        NodeKind::Event => "is trying to wait for event",
    };
    let has = match registry::info(holding.class).kind {
        NodeKind::Lock | NodeKind::Event => "but thread is already holding lock",
        NodeKind::Pool => "but thread is already holding an element of pool",
        NodeKind::Alloc => "but thread is already in memory reclaim",
    };
    writeln!(out, "{thread} {wants}:")?;
    writeln!(out, "  {}\n", desc_at(trying, &data.trace))?;
    writeln!(out, "{has}:")?;
    writeln!(out, "  {}\n", desc(holding))
}

fn render_recursive(
    out: &mut fmt::Formatter<'_>,
    data: &ViolationData,
    trying: &LockDesc,
    holding: &LockDesc,
) -> fmt::Result {
    trying_and_holding(out, data, trying, holding)?;
    out.write_str("other info that might help us debug this:\n")?;
    out.write_str(" Possible unsafe locking scenario:\n\n")?;
    let names = ["CPU0".to_owned()];
    let mut rows = vec![
        (0, op(holding.class, holding.access)),
        (0, op(trying.class, trying.access)),
    ];
    match registry::info(trying.class).kind {
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
            out.write_str(" Memory reclaim must not allocate memory that may enter reclaim:\n allocate inside noreclaim_scope() here.\n\n")
        }
        // Another lock of the class is ordered by instance (`instance_order`), never this;
        // an event is never held.
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
