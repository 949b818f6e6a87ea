//! Classes that fit Rust: locks of one class nested in one consistent order are not reported;
//! the same locks taken in opposite orders are. (book/src/concepts.md, "Classes that fit Rust".)
#![cfg(feature = "enabled")]

use lockdep::{Mode, Mutex, RwLock, ViolationKind};
use std::sync::{Arc, Barrier};

mod common;
use common::{class, kinds};

/// Violations about the creation-site class at `line` of this file (any column).
fn at_line(line: u32) -> Vec<ViolationKind> {
    let site = format!("{}:{line}:", file!());
    lockdep::violations()
        .iter()
        .filter(|v| v.classes().iter().any(|c| c.starts_with(&site)))
        .map(|v| v.kind())
        .collect()
}

#[test]
fn two_fields_of_a_derived_default_struct_nested_in_one_order() {
    lockdep::set_mode(Mode::Collect);
    // Both fields get the derive's site as class: one class, two locks.
    #[derive(Default)]
    struct Inode {
        meta: Mutex<u64>,
        data: Mutex<Vec<u8>>,
    }
    let line = line!() - 5;
    let inode = Inode::default();
    for _ in 0..3 {
        let _m = inode.meta.lock();
        inode.data.lock().push(1);
    }
    assert!(at_line(line).is_empty(), "{:?}", lockdep::violations());
}

#[test]
fn every_shard_locked_in_index_order_on_several_threads() {
    lockdep::set_mode(Mode::Collect);
    let shards: Arc<Vec<Mutex<u64>>> = Arc::new((0..256).map(|_| Mutex::new(0)).collect());
    let line = line!() - 1;
    let start = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (shards, start) = (Arc::clone(&shards), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                for _ in 0..5 {
                    let all: Vec<_> = shards.iter().map(|s| s.lock()).collect();
                    drop(all);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Any subset in index order too.
    {
        let _a = shards[3].lock();
        let _b = shards[200].lock();
    }
    assert!(at_line(line).is_empty(), "{:?}", lockdep::violations());
}

#[test]
fn a_transfer_that_locks_from_then_to_is_reported() {
    lockdep::set_mode(Mode::Collect);
    let account = class("rules-account");
    let accounts: Vec<Mutex<i64>> = (0..3).map(|_| Mutex::with_class(100, account)).collect();
    let transfer = |from: usize, to: usize| {
        let mut f = accounts[from].lock();
        let mut t = accounts[to].lock();
        *f -= 1;
        *t += 1;
    };
    transfer(0, 1);
    transfer(1, 2);
    assert!(kinds("rules-account").is_empty());
    // 2 → 0 closes 0 → 1 → 2 → 0: three threads could each hold one and want the next.
    std::thread::scope(|s| {
        s.spawn(|| transfer(2, 0));
    });
    assert_eq!(
        kinds("rules-account"),
        vec![ViolationKind::CircularDependency]
    );
    let v = common::find("rules-account");
    assert_eq!(v.classes().len(), 3, "{v}");
    assert!(v.to_string().contains("lock(rules-account #2)"), "{v}");
}

#[test]
fn locks_in_address_order_are_fine() {
    lockdep::set_mode(Mode::Collect);
    let class = class("rules-address");
    let (a, b) = (Mutex::with_class(1, class), Mutex::with_class(2, class));
    let ordered = |x: &'static Mutex<i32>, y: &'static Mutex<i32>| {
        if (x as *const Mutex<i32>) < (y as *const Mutex<i32>) {
            (x, y)
        } else {
            (y, x)
        }
    };
    let (a, b): (&'static Mutex<i32>, &'static Mutex<i32>) =
        (Box::leak(a.into()), Box::leak(b.into()));
    for (x, y) in [(a, b), (b, a), (a, b)] {
        let (first, second) = ordered(x, y);
        let _f = first.lock();
        let _s = second.lock();
    }
    assert!(kinds("rules-address").is_empty());
}

#[test]
fn hand_over_hand_traversal_of_any_length_needs_no_annotation() {
    lockdep::set_mode(Mode::Collect);
    let class = class("rules-hoh");
    // A list as a table: node i's link is the index of the next node.
    let nodes: Vec<Mutex<Option<usize>>> = (0..2_000)
        .map(|i| Mutex::with_class((i + 1 < 2_000).then_some(i + 1), class))
        .collect();
    let walk = || {
        let mut guard = nodes[0].lock();
        let mut steps = 0;
        while let Some(next) = *guard {
            let next_guard = nodes[next].lock(); // taken before the previous is released
            guard = next_guard;
            steps += 1;
        }
        steps
    };
    std::thread::scope(|s| {
        let a = s.spawn(walk);
        let b = s.spawn(walk);
        assert_eq!(a.join().unwrap(), 1_999);
        assert_eq!(b.join().unwrap(), 1_999);
    });
    assert!(kinds("rules-hoh").is_empty(), "{:?}", lockdep::violations());
    // Walking it the other way round (a node, then its predecessor) is a deadlock against
    // the forward walk, and reported.
    {
        let _n = nodes[1].lock();
        let _p = nodes[0].lock();
    }
    assert_eq!(kinds("rules-hoh"), vec![ViolationKind::CircularDependency]);
}

#[test]
fn a_dropped_lock_leaves_the_order_of_its_class() {
    lockdep::set_mode(Mode::Collect);
    let class = class("rules-reused");
    // The same two addresses hold two pairs of locks, one after the other.
    let mut pair = [Mutex::with_class((), class), Mutex::with_class((), class)];
    drop((pair[0].lock(), pair[1].lock()));
    let before = [&pair[0] as *const _, &pair[1] as *const _];
    pair = [Mutex::with_class((), class), Mutex::with_class((), class)];
    assert_eq!(before, [&pair[0] as *const _, &pair[1] as *const _]);
    // New locks: no order between them yet.
    drop((pair[1].lock(), pair[0].lock()));
    assert!(
        kinds("rules-reused").is_empty(),
        "{:?}",
        lockdep::violations()
    );
}

#[test]
fn nesting_two_locks_of_a_class_records_no_dependency_of_the_class_on_itself() {
    lockdep::set_mode(Mode::Collect);
    let (dir, other) = (class("rules-self-dir"), class("rules-self-other"));
    let (d1, d2) = (RwLock::with_class((), dir), RwLock::with_class((), dir));
    let o = Mutex::with_class((), other);
    {
        let _d1 = d1.write();
        let _d2 = d2.write();
        let _o = o.lock();
    }
    let graph = lockdep::graph_dot();
    assert!(
        !graph.contains("\"rules-self-dir\" -> \"rules-self-dir\""),
        "{graph}"
    );
    assert!(kinds("rules-self-dir").is_empty());
}

#[test]
fn the_same_lock_twice_does_not_hide_two_locks_of_its_class() {
    lockdep::set_mode(Mode::Collect);
    let class = class("rules-same-then-two");
    let (a, b) = (RwLock::with_class((), class), RwLock::with_class((), class));
    // The same lock read twice: reported as such; the chain (class, class) is not cached...
    drop((a.read(), a.read()));
    assert_eq!(
        kinds("rules-same-then-two"),
        vec![ViolationKind::SameLockTwice]
    );
    // ...so two locks of the class on that chain are still ordered, and inverted, reported.
    drop((a.read(), b.read()));
    drop((b.read(), a.read()));
    assert_eq!(
        kinds("rules-same-then-two"),
        vec![
            ViolationKind::SameLockTwice,
            ViolationKind::CircularDependency
        ]
    );
}

/// A lock-making helper without `#[track_caller]`: every lock it makes has its site.
fn new_lock<T>(value: T) -> Mutex<T> {
    Mutex::new(value)
}

#[test]
fn a_helper_without_track_caller_makes_one_class_per_data_type() {
    lockdep::set_mode(Mode::Collect);
    let shards = new_lock(std::collections::HashMap::<u64, String>::new());
    let placeholder = new_lock(());
    let user = Mutex::with_class((), class("rules-helper-user"));
    // shards → user and user → placeholder: a cycle only if both were one class.
    drop((shards.lock(), user.lock()));
    drop((user.lock(), placeholder.lock()));
    assert!(
        kinds("rules-helper-user").is_empty(),
        "{:?}",
        lockdep::violations()
    );
    // Still deterministic classes, not one per lock: two locks of one type share one.
    let other_shards = new_lock(std::collections::HashMap::<u64, String>::new());
    drop((user.lock(), other_shards.lock()));
    let v = common::find("rules-helper-user");
    assert_eq!(v.kind(), ViolationKind::CircularDependency);
    // The report tells the two classes of the helper's site apart by their data type.
    let text = v.to_string();
    assert!(text.contains(" Mutex<HashMap<u64, String>>"), "{text}");
}

#[test]
fn locks_made_through_the_standard_library_are_classed_by_data_type() {
    lockdep::set_mode(Mode::Collect);
    // `.map(Mutex::new)`: the creation site is core's call shim, the same for every lock of
    // the program made this way.
    let accounts: Vec<Mutex<i64>> = vec![1i64, 2].into_iter().map(Mutex::new).collect();
    let names: Vec<Mutex<String>> = vec![String::new()].into_iter().map(Mutex::new).collect();
    let user = Mutex::with_class((), class("rules-std-user"));
    drop((accounts[0].lock(), user.lock()));
    drop((user.lock(), names[0].lock()));
    assert!(
        kinds("rules-std-user").is_empty(),
        "{:?}",
        lockdep::violations()
    );
    // Told apart by the data type as well as the site, which alone would say nothing: the
    // report file keys them by both, and reports print both.
    let graph = lockdep::graph_json();
    assert!(
        graph.contains(r#""type":"lockdep_core::shape::Mutex<i64>""#),
        "{graph}"
    );
    assert!(
        graph.contains(r#""type":"lockdep_core::shape::Mutex<alloc::string::String>""#),
        "{graph}"
    );
    let dot = lockdep::graph_dot();
    assert!(dot.contains(".rs:") && dot.contains(" Mutex<i64>"), "{dot}");
    assert!(dot.contains(" Mutex<String>"), "{dot}");
}

#[test]
fn two_fields_of_a_derived_default_struct_are_classed_by_data_type() {
    lockdep::set_mode(Mode::Collect);
    #[derive(Default)]
    struct Cache {
        index: Mutex<Vec<u32>>,
        log: Mutex<String>,
    }
    let cache = Cache::default();
    let user = Mutex::with_class((), class("rules-derive-user"));
    drop((cache.index.lock(), user.lock()));
    drop((user.lock(), cache.log.lock()));
    assert!(
        kinds("rules-derive-user").is_empty(),
        "{:?}",
        lockdep::violations()
    );
}
