//! Bench 5 of issue 5: the slow path at scale. Builds a graph of 10,000 classes and 100,000
//! dependencies (a random DAG from a fixed seed) by really taking lock pairs, then closes one
//! long cycle; prints the time taken and the checker's memory, counted by a counting global
//! allocator (bytes live after minus before, so the bench's own data is excluded).
//!
//! Output (one line, for `scripts/bench-summary`):
//! `SCALE classes=.. edges=.. build_s=.. checker_bytes=.. bytes_per_edge=.. ...`
//!
//! Run as a test (`cargo test --benches`, no `--bench` argument) it uses a small graph.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to `System` unchanged, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (classes, edges) = if full {
        (10_000, 100_000)
    } else {
        (300, 1_500)
    };
    lockdep::set_mode(lockdep::Mode::Collect);

    // The DAG: a random topological order, and distinct pairs (earlier, later) in it.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut order: Vec<usize> = (0..classes).collect();
    for i in (1..classes).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut seen = HashSet::with_capacity(edges);
    let mut pairs = Vec::with_capacity(edges);
    while pairs.len() < edges {
        let (i, j) = (rng.below(classes), rng.below(classes));
        if i == j {
            continue;
        }
        let (i, j) = (i.min(j), i.max(j));
        if seen.insert((i, j)) {
            pairs.push((order[i], order[j]));
        }
    }
    drop(seen);
    let locks: Vec<lockdep::Mutex<()>> = (0..classes)
        .map(|i| lockdep::Mutex::with_class((), lockdep::LockClass::leak(format!("scale-{i}"))))
        .collect();
    // A long path to close into a cycle: the farthest class (in hops) from pairs[0].0.
    let mut adj = vec![Vec::new(); classes];
    for &(a, b) in &pairs {
        adj[a].push(b);
    }
    let start = pairs[0].0;
    let mut hops = vec![usize::MAX; classes];
    hops[start] = 0;
    let mut queue = VecDeque::from([start]);
    let mut far = start;
    while let Some(n) = queue.pop_front() {
        if hops[n] > hops[far] {
            far = n;
        }
        for &m in &adj[n] {
            if hops[m] == usize::MAX {
                hops[m] = hops[n] + 1;
                queue.push_back(m);
            }
        }
    }
    drop((adj, queue));
    let path_len = hops[far];
    drop(hops);

    let before_stats = lockdep::__stats();
    let live_before = LIVE.load(Relaxed);
    let allocs_before = ALLOCS.load(Relaxed);
    let t = Instant::now();
    for &(a, b) in &pairs {
        let _a = locks[a].lock();
        let _b = locks[b].lock();
    }
    let build = t.elapsed();
    let checker_bytes = LIVE.load(Relaxed) - live_before;
    let allocs = ALLOCS.load(Relaxed) - allocs_before;
    let stats = lockdep::__stats();
    let new_edges = stats.edges - before_stats.edges;
    assert!(
        lockdep::violations().is_empty(),
        "a DAG must not report anything"
    );

    // Close the cycle far → … → start with start taken while far is held.
    let t = Instant::now();
    {
        let _far = locks[far].lock();
        let _start = locks[start].lock();
    }
    let cycle = t.elapsed();
    let found = lockdep::take_violations();
    let t = Instant::now();
    let text = found.first().map(|v| v.to_string()).unwrap_or_default();
    let render = t.elapsed();
    let ok = found.len() == 1
        && found[0].kind() == lockdep::ViolationKind::CircularDependency
        && found[0].involves(&format!("scale-{far}"))
        && found[0].involves(&format!("scale-{start}"));
    if full {
        eprintln!("{}", text.lines().take(12).collect::<Vec<_>>().join("\n"));
    }
    println!(
        "SCALE classes={} edges={} build_s={:.3} checker_bytes={} bytes_per_edge={:.0} \
         graph_bytes={} allocs={} chains={} cycle_path={} cycle_ms={:.3} report_ms={:.1} \
         report_lines={} cycle_found={}",
        stats.classes,
        new_edges,
        build.as_secs_f64(),
        checker_bytes,
        checker_bytes as f64 / new_edges.max(1) as f64,
        stats.graph_bytes,
        allocs,
        stats.chains,
        path_len,
        cycle.as_secs_f64() * 1e3,
        render.as_secs_f64() * 1e3,
        text.lines().count(),
        ok as u8,
    );
    assert!(ok, "the closing acquisition must be reported as a cycle");
}
