//! Kernel-style text reports.

use std::fmt::Write as _;

use super::held::Access;
use super::registry::{self, ClassId, NodeKind};
use super::violation::{Detail, Link, LockDesc, Violation};
use crate::ViolationKind;

/// The report's title line (after `WARNING: ` or `BUG: `).
pub(crate) fn headline(kind: ViolationKind) -> &'static str {
    match kind {
        ViolationKind::CircularDependency => "possible circular locking dependency detected",
        ViolationKind::RecursiveLock => "possible recursive locking detected",
        ViolationKind::MempoolLivelock => "possible mempool livelock detected",
        ViolationKind::PoolRecursion => "possible mempool recursion detected",
        ViolationKind::LockHeldAtExit => "lock held when thread exits!",
        ViolationKind::PoolDroppedWithOutstanding => "mempool dropped with elements outstanding!",
        ViolationKind::HeldDepthOverflow => "MAX_LOCK_DEPTH too low!",
        ViolationKind::TableOverflow => "lockdep table too small!",
    }
}

fn name(class: ClassId) -> &'static str {
    registry::info(class).name
}

/// `(name)` plus how it is held: the kernel prints the class in parentheses.
fn desc(d: &LockDesc) -> String {
    let info = registry::info(d.class);
    let mut s = format!("({})", info.name);
    match info.kind {
        NodeKind::Pool if d.count > 1 => {
            let _ = write!(s, " x{} elements", d.count);
        }
        NodeKind::Pool => s.push_str(" element"),
        NodeKind::Alloc => {}
        NodeKind::Lock => match d.read {
            Access::Write => {}
            Access::Read => s.push_str(" read"),
            Access::RecursiveRead => s.push_str(" recursive read"),
        },
    }
    let _ = write!(s, ", at: {}", d.site);
    s
}

/// `lock(X)`, `rlock(X)`, `alloc(P)` or `reclaim(ALLOC)` as in the scenario tables.
fn op(class: ClassId, read: Access) -> String {
    match registry::info(class).kind {
        NodeKind::Pool => format!("alloc({})", name(class)),
        NodeKind::Alloc => "allocate memory (may wait for reclaim)".to_owned(),
        NodeKind::Lock if read.is_shared() => format!("rlock({})", name(class)),
        NodeKind::Lock => format!("lock({})", name(class)),
    }
}

const RULE_WIDTH: usize = 54;

fn header(out: &mut String, v: &Violation) {
    let kind = v.kind();
    let prefix = if kind.turns_checker_off() {
        "BUG"
    } else {
        "WARNING"
    };
    let title = format!("{prefix}: {}", headline(kind));
    let width = RULE_WIDTH.max(title.len());
    let _ = writeln!(out, "{}", "=".repeat(width));
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "{}", "-".repeat(width));
}

/// The full text of a violation.
pub(crate) fn render(v: &Violation) -> String {
    let data = v.data();
    let mut out = String::new();
    header(&mut out, v);
    match &data.detail {
        Detail::Cycle {
            trying,
            holding,
            ring,
        } => render_cycle(&mut out, v, trying, holding, ring),
        Detail::Recursive { trying, holding } => render_recursive(&mut out, v, trying, holding),
        Detail::HeldAtExit => {
            let _ = writeln!(out, "{} is exiting with locks still held!", data.thread);
            out.push_str("\n(a guard was leaked, e.g. with mem::forget)\n\n");
        }
        Detail::PoolOutstanding {
            pool,
            outstanding,
            site,
        } => {
            let _ = writeln!(
                out,
                "{} dropped mempool ({}) with {outstanding} element(s) outstanding (pool created at {site})\n",
                data.thread,
                name(*pool)
            );
            out.push_str("Elements still in use will be freed when dropped; the pool's reserve\nno longer guarantees forward progress to their holders.\n\n");
        }
        Detail::Overflow { what, limit } => {
            let _ = writeln!(out, "{what}: the limit is {limit}.");
            out.push_str("turning off the locking correctness validator.\n\n");
        }
    }
    render_held(&mut out, &data.thread, &data.held);
    if matches!(data.detail, Detail::Cycle { .. } | Detail::Recursive { .. }) {
        out.push_str("\nstack backtrace:\n");
        data.trace.render(&mut out);
    }
    out
}

fn render_held(out: &mut String, thread: &str, held: &[LockDesc]) {
    match held.len() {
        0 => {
            let _ = writeln!(out, "no locks held by {thread}.");
        }
        n => {
            let plural = if n == 1 { "lock" } else { "locks" };
            let _ = writeln!(out, "{n} {plural} held by {thread}:");
            for (i, h) in held.iter().enumerate() {
                let _ = writeln!(out, " #{i}: {}", desc(h));
            }
        }
    }
}

fn render_cycle(
    out: &mut String,
    v: &Violation,
    trying: &LockDesc,
    holding: &LockDesc,
    ring: &[Link],
) {
    let data = v.data();
    trying_and_holding(out, &data.thread, trying, holding);
    out.push_str("which lock already depends on the new lock.\n\n\n");
    out.push_str("the existing dependency chain (in reverse order) is:\n");
    // ring[0] is the new dependency; ring[i] (i ≥ 1) the i-th dependency of the existing path.
    for i in (0..ring.len()).rev() {
        let link = &ring[i];
        let _ = writeln!(out, "\n-> #{i} ({}):", name(link.to));
        if is_reclaim_path_dependency(link) {
            let _ = writeln!(
                out,
                "       memory reclaim may wait for this pool's elements (on the reclaim path \
                 since its creation at {})",
                link.site
            );
            continue;
        }
        let _ = writeln!(out, "       acquired at {}", link.site);
        if i == 0 {
            data.trace.render(out);
        } else {
            link.trace.render(out);
        }
    }
    out.push_str("\nother info that might help us debug this:\n\n");
    if v.kind() == ViolationKind::MempoolLivelock {
        render_livelock_scenario(out, ring);
    } else {
        render_deadlock_scenario(out, trying, holding, ring);
    }
}

/// The CPU table: for a two-class cycle exactly the kernel's; for longer cycles one column per
/// thread, each holding one class of the cycle and wanting the next.
fn render_deadlock_scenario(
    out: &mut String,
    trying: &LockDesc,
    holding: &LockDesc,
    ring: &[Link],
) {
    let classes: Vec<ClassId> = ring.iter().map(|l| l.to).collect(); // c0 = trying … ck = holding
    if classes.len() > 2 {
        chain_exists(out, &classes);
    }
    out.push_str(" Possible unsafe locking scenario:\n\n");
    // Thread 0 holds c_k and wants c_0; thread j ≥ 1 holds c_{j-1} and wants c_j.
    let k = classes.len() - 1;
    let threads = classes.len();
    let first = |t: usize| -> ClassId {
        if t == 0 {
            classes[k]
        } else {
            classes[t - 1]
        }
    };
    let second = |t: usize| -> ClassId {
        if t == 0 {
            classes[0]
        } else {
            classes[t]
        }
    };
    // Thread t's second acquisition is the dependency ring[t]; whether it is a recursive read
    // is known. How the locks are taken is known exactly for the reporting thread only
    // (`rlock(X)` for a `read()` too, as the kernel prints a read acquisition).
    let wanted = |t: usize| {
        if t == 0 {
            trying.read
        } else if ring[t].recursive {
            Access::RecursiveRead
        } else {
            Access::Write
        }
    };
    let names: Vec<String> = (0..threads).map(|t| format!("CPU{t}")).collect();
    let mut rows: Vec<(usize, String)> = Vec::new();
    rows.push((0, op(first(0), holding.read)));
    for t in 1..threads {
        rows.push((t, op(first(t), Access::Write)));
    }
    for t in (1..threads).rev() {
        rows.push((t, op(second(t), wanted(t))));
    }
    rows.push((0, op(second(0), wanted(0))));
    table(out, &names, &rows);
    out.push_str("\n *** DEADLOCK ***\n\n");
}

/// The kernel's `Chain exists of:` line for a cycle, closed back to its first class.
fn chain_exists(out: &mut String, cycle: &[ClassId]) {
    let chain: Vec<&str> = cycle.iter().map(|&c| name(c)).collect();
    let _ = writeln!(
        out,
        " Chain exists of:\n   {} --> {}\n",
        chain.join(" --> "),
        chain[0]
    );
}

/// The taskA/taskB/taskC table of DESIGN.md with the real names.
///
/// The cycle is read from the pool that memory reclaim waits for (the first pool after
/// `ALLOC`): `P → l1 → … → lb → ALLOC → r1 → … → P`. taskA takes the element and then `l1`;
/// taskB holds `lb` and allocates; taskC is reclaim, takes `r1 …` and waits on the pool.
fn render_livelock_scenario(out: &mut String, ring: &[Link]) {
    let classes: Vec<ClassId> = ring.iter().map(|l| l.to).collect();
    let n = classes.len();
    let alloc = registry::alloc_class();
    let is_pool = |c: ClassId| registry::info(c).kind == NodeKind::Pool;
    let start_at = classes.iter().position(|&c| c == alloc).unwrap_or(0);
    let Some(p) = (1..=n)
        .map(|i| (start_at + i) % n)
        .find(|&i| is_pool(classes[i]))
    else {
        return;
    };
    let rotated: Vec<ClassId> = (0..n).map(|i| classes[(p + i) % n]).collect();
    let a = rotated.iter().position(|&c| c == alloc).unwrap_or(n);
    let pool = rotated[0];
    // Taken by the element holder, down to the one held while allocating.
    let holder_chain = &rotated[1..a.max(1)];
    // Taken by reclaim before it waits on the pool.
    let reclaim_chain = rotated.get(a + 1..).unwrap_or(&[]);
    let link = |from: ClassId, to: ClassId| ring.iter().find(|l| l.from == from && l.to == to);

    chain_exists(out, &rotated);
    out.push_str(" Possible unsafe locking scenario:\n\n");
    let stall = "allocate memory (stalls: reclaim needs pool elements)";
    let mut rows = vec![(
        0,
        format!("{} (takes the last element)", op(pool, Access::Write)),
    )];
    match (holder_chain.first(), holder_chain.last()) {
        (Some(&l1), Some(&lb)) => {
            rows.push((1, op(lb, Access::Write)));
            let how = if l1 == lb {
                "(waits for taskB)"
            } else {
                "(waits, via the chain, for taskB)"
            };
            rows.push((0, format!("{} {how}", op(l1, Access::Write))));
            rows.push((1, stall.to_owned()));
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
    table(out, &names, &rows);
    out.push_str("\n *** LIVELOCK ***\n\n");

    let pool_info = registry::info(pool);
    let _ = write!(out, " pool: {}", pool_info.name);
    if let Some(site) = pool_info.site {
        let _ = write!(out, " (created at {site})");
    }
    out.push('\n');
    match (holder_chain.first(), holder_chain.last()) {
        (Some(&l1), Some(&lb)) => {
            if let Some(l) = link(pool, l1) {
                let _ = writeln!(
                    out,
                    " lock taken while holding an element: {} at: {}",
                    name(l1),
                    l.site
                );
            }
            let _ = writeln!(out, " lock held while allocating: {}", name(lb));
            if let Some(l) = link(lb, alloc) {
                let _ = writeln!(out, " allocation under that lock at: {}", l.site);
            }
        }
        _ => {
            if let Some(l) = link(pool, alloc) {
                let _ = writeln!(out, " allocation while holding an element at: {}", l.site);
            }
        }
    }
    if let Some(&r1) = reclaim_chain.first() {
        if let Some(l) = link(alloc, r1) {
            let _ = writeln!(out, " taken in memory reclaim: {} at: {}", name(r1), l.site);
        }
    }
    if holder_chain.is_empty() {
        out.push_str(
            "\n An element holder must not allocate memory that may wait for reclaim:\n \
             allocate inside noreclaim_scope() (the kernel's GFP_NOIO), or return the element first.\n\n",
        );
    } else {
        out.push_str(
            "\n An element holder must not block on a lock that is held while allocating memory:\n \
             allocate under that lock inside noreclaim_scope(), or take the lock before the element.\n\n",
        );
    }
}

/// Prints rows of a scenario table, each operation in its thread's column.
fn table(out: &mut String, names: &[String], rows: &[(usize, String)]) {
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
    let _ = writeln!(out, "{}\n{}", line.trim_end(), dashes.trim_end());
    for (col, text) in rows {
        // As the kernel: the first column's operations start left of its title, the others'
        // under theirs.
        let indent = if *col == 0 { 2 } else { 7 + col * COL };
        let _ = writeln!(out, "{}{text};", " ".repeat(indent));
    }
}

/// `ALLOC → pool`, the dependency every reclaim-path pool has from its creation.
fn is_reclaim_path_dependency(link: &Link) -> bool {
    let to = registry::info(link.to);
    registry::info(link.from).kind == NodeKind::Alloc
        && to.kind == NodeKind::Pool
        && to.site.is_some_and(|site| *site == *link.site)
}

/// The "trying to acquire … but already holding …" lines, worded for locks, pools and memory.
fn trying_and_holding(out: &mut String, thread: &str, trying: &LockDesc, holding: &LockDesc) {
    let wants = match registry::info(trying.class).kind {
        NodeKind::Lock => "is trying to acquire lock",
        NodeKind::Pool => "is trying to allocate from mempool",
        NodeKind::Alloc => "is trying to allocate memory",
    };
    let has = match registry::info(holding.class).kind {
        NodeKind::Lock => "but thread is already holding lock",
        NodeKind::Pool => "but thread is already holding an element of mempool",
        NodeKind::Alloc => "but thread is already in memory reclaim",
    };
    let _ = writeln!(out, "{thread} {wants}:");
    let _ = writeln!(out, "  {}\n", desc(trying));
    let _ = writeln!(out, "{has}:");
    let _ = writeln!(out, "  {}\n", desc(holding));
}

fn render_recursive(out: &mut String, v: &Violation, trying: &LockDesc, holding: &LockDesc) {
    let data = v.data();
    trying_and_holding(out, &data.thread, trying, holding);
    out.push_str("other info that might help us debug this:\n");
    out.push_str(" Possible unsafe locking scenario:\n\n");
    let names = ["CPU0".to_owned()];
    let mut rows = vec![
        (0, op(holding.class, holding.read)),
        (0, op(trying.class, trying.read)),
    ];
    match registry::info(trying.class).kind {
        NodeKind::Pool => {
            rows[1]
                .1
                .push_str(" (waits for an element only this thread can return)");
            table(out, &names, &rows);
            out.push_str("\n *** DEADLOCK ***\n\n");
            out.push_str(
                " Allocate all elements at once, serialised by a lock, or use try_alloc().\n\n",
            );
        }
        NodeKind::Alloc => {
            rows[0].1 = "reclaim memory".to_owned();
            table(out, &names, &rows);
            out.push_str("\n *** DEADLOCK ***\n\n");
            out.push_str(" Memory reclaim must not allocate memory that may enter reclaim:\n allocate inside noreclaim_scope() here.\n\n");
        }
        NodeKind::Lock => {
            table(out, &names, &rows);
            out.push_str("\n *** DEADLOCK ***\n\n May be due to missing lock nesting notation\n\n");
        }
    }
}
