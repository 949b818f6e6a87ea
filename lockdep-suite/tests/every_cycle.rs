//! Every cycle is reported, not only the first: a dependency that closes a cycle is kept in
//! the graph, so later, independent inversions, and cycles through the reported dependency,
//! are found too.
#![cfg(feature = "enabled")]

use lockdep::{LockClass, Mode, Mutex, Violation, ViolationKind};

fn class(name: &str) -> &'static LockClass {
    LockClass::leak(name.to_owned())
}

/// On a thread of its own, takes `locks` in this order, holding each until the end.
fn nest(locks: &[&Mutex<i32>]) {
    std::thread::scope(|s| {
        s.spawn(|| {
            let _guards: Vec<_> = locks.iter().map(|l| l.lock()).collect();
        });
    });
}

/// Cycles recorded so far that involve every one of `names`.
fn cycles_with(names: &[&str]) -> Vec<Violation> {
    lockdep::violations()
        .into_iter()
        .filter(|v| v.kind() == ViolationKind::CircularDependency)
        .filter(|v| names.iter().all(|n| v.involves(n)))
        .collect()
}

#[test]
fn an_independent_inversion_after_the_first_report_is_reported() {
    lockdep::set_mode(Mode::Collect);
    let a = Mutex::with_class(0, class("ec1-A"));
    let b = Mutex::with_class(0, class("ec1-B"));
    let x = Mutex::with_class(0, class("ec1-X"));
    // Thread 1: B then A.
    nest(&[&b, &a]);
    // Thread 2: X, A, B: the A/B inversion is reported.
    nest(&[&x, &a, &b]);
    assert_eq!(cycles_with(&["ec1-A", "ec1-B"]).len(), 1);
    assert!(cycles_with(&["ec1-X"]).is_empty());
    // Thread 3: B then X: X → B was seen (through A), so this inversion deadlocks with
    // thread 2 on its own.
    nest(&[&b, &x]);
    let found = cycles_with(&["ec1-X", "ec1-B"]);
    assert_eq!(found.len(), 1, "{}", lockdep::report());
}

#[test]
fn a_cycle_through_the_reported_dependency_is_reported() {
    lockdep::set_mode(Mode::Collect);
    let a = Mutex::with_class(0, class("ec2-A"));
    let b = Mutex::with_class(0, class("ec2-B"));
    let c = Mutex::with_class(0, class("ec2-C"));
    nest(&[&b, &a]);
    nest(&[&a, &b]); // reported: A/B
    assert_eq!(cycles_with(&["ec2-A", "ec2-B"]).len(), 1);
    nest(&[&c, &a]);
    nest(&[&b, &c]); // closes A → B → C → A, a three-thread deadlock
    let three = cycles_with(&["ec2-A", "ec2-B", "ec2-C"]);
    assert_eq!(three.len(), 1, "{}", lockdep::report());
    // The report is the three-thread one: its chain has three dependencies.
    assert_eq!(three[0].classes().len(), 3);
}

#[test]
fn the_same_cycle_is_reported_once() {
    lockdep::set_mode(Mode::Collect);
    let a = Mutex::with_class(0, class("ec3-A"));
    let b = Mutex::with_class(0, class("ec3-B"));
    for _ in 0..3 {
        nest(&[&a, &b]);
        nest(&[&b, &a]);
    }
    assert_eq!(cycles_with(&["ec3-A", "ec3-B"]).len(), 1);
}

#[test]
fn the_exported_graph_shows_the_closing_dependency() {
    lockdep::set_mode(Mode::Collect);
    let a = Mutex::with_class(0, class("ec4-A"));
    let b = Mutex::with_class(0, class("ec4-B"));
    nest(&[&a, &b]);
    nest(&[&b, &a]);
    let dot = lockdep::graph_dot();
    // Nodes are `cN [label="name", …]`, edges `cN -> cM [...]`.
    let id = |name: &str| {
        dot.lines()
            .find(|l| l.contains(&format!("label=\"{name}\"")))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no node {name} in {dot}"))
            .to_owned()
    };
    let (a, b) = (id("ec4-A"), id("ec4-B"));
    let edge = |from: &str, to: &str| {
        dot.lines()
            .any(|l| l.trim_start().starts_with(&format!("{from} -> {to} ")))
    };
    assert!(edge(&a, &b), "{dot}");
    assert!(edge(&b, &a), "the closing dependency is missing:\n{dot}");
}
