//! The report shapes: kernel-style text, JSON and DOT.
#![cfg(feature = "enabled")]

use lockdep::{Mode, Mutex, RwLock, ViolationKind};

mod common;
use common::json::{parse_json, JsonExt};
use common::{class, find, kinds};

#[test]
fn abba_report_has_the_kernel_shape() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        Mutex::with_class((), class("rep-abba-A")),
        Mutex::with_class((), class("rep-abba-B")),
    );
    drop((a.lock(), b.lock()));
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    let text = find("rep-abba-A").to_string();
    let acquiring = format!(
        "is trying to acquire lock:\n  (rep-abba-A), at: {}:",
        file!()
    );
    let holding = format!(
        "but thread is already holding lock:\n  (rep-abba-B), at: {}:",
        file!()
    );
    let held = format!(" #0: (rep-abba-B), at: {}:", file!());
    for needle in [
        "WARNING: possible circular locking dependency detected",
        &acquiring,
        &holding,
        "the existing dependency chain (in reverse order) is:",
        "-> #1 (rep-abba-B):",
        "-> #0 (rep-abba-A):",
        " Possible unsafe locking scenario:",
        "       CPU0                    CPU1",
        "  lock(rep-abba-B);\n                               lock(rep-abba-A);\n                               lock(rep-abba-B);\n  lock(rep-abba-A);",
        " *** DEADLOCK ***",
        "1 lock held by ",
        &held,
        "reports::abba_report_has_the_kernel_shape",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn longer_cycles_show_the_chain() {
    lockdep::set_mode(Mode::Collect);
    let l: Vec<Mutex<()>> = ["A", "B", "C"]
        .iter()
        .map(|n| Mutex::with_class((), class(&format!("rep-chain-{n}"))))
        .collect();
    drop((l[0].lock(), l[1].lock()));
    drop((l[1].lock(), l[2].lock()));
    {
        let _c = l[2].lock();
        let _a = l[0].lock();
    }
    let v = find("rep-chain-A");
    let text = v.to_string();
    assert!(
        text.contains(
            "Chain exists of:\n   rep-chain-A --> rep-chain-B --> rep-chain-C --> rep-chain-A"
        ),
        "{text}"
    );
    assert!(text.contains("CPU2"), "{text}");
    assert!(text.contains("-> #2 (rep-chain-C):"), "{text}");
    let dot = v.to_dot();
    assert!(dot.starts_with("digraph violation {"));
    assert_eq!(dot.matches("->").count(), 3, "{dot}");
}

#[test]
fn two_locks_of_one_class_in_both_orders_report() {
    lockdep::set_mode(Mode::Collect);
    let x = class("rep-aa-X");
    let (x1, x2) = (Mutex::with_class((), x), Mutex::with_class((), x));
    drop((x1.lock(), x2.lock())); // one order: fine
    assert!(kinds("rep-aa-X").is_empty());
    {
        let _b = x2.lock();
        let _a = x1.lock();
    }
    let v = find("rep-aa-X");
    assert_eq!(v.kind(), ViolationKind::CircularDependency);
    let text = v.to_string();
    assert!(
        text.contains("WARNING: possible circular locking dependency detected"),
        "{text}"
    );
    assert!(
        text.contains("These are distinct locks of one class, taken in opposite orders"),
        "{text}"
    );
    assert!(
        text.contains("  lock(rep-aa-X #1);\n") && text.contains("  lock(rep-aa-X #0);\n"),
        "{text}"
    );
}

#[test]
fn json_of_a_violation_and_of_the_graph() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        Mutex::with_class((), class("rep-json-\"A\"")),
        Mutex::with_class((), class("rep-json-B")),
    );
    drop((a.lock(), b.lock()));
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    let v = find("rep-json-B");
    let json = v.to_json();
    let parsed = parse_json(&json);
    assert_eq!(parsed.at("kind").str(), "circular_dependency");
    assert_eq!(parsed.at("classes").arr().len(), 2);
    assert_eq!(parsed.at("report").str(), v.to_string());
    for link in parsed.at("chain").arr() {
        for field in ["from", "to"] {
            assert!(!link.at(field).at("name").str().is_empty());
        }
        assert!(link.at("site").at("line").num() > 0);
        link.at("backtrace").arr();
    }
    assert!(
        json.starts_with("{\"kind\":\"circular_dependency\""),
        "{json}"
    );
    let names: Vec<&str> = parsed
        .at("classes")
        .arr()
        .iter()
        .map(|c| c.at("name").str())
        .collect();
    assert_eq!(names, ["rep-json-\"A\"", "rep-json-B"]);
    assert!(json.contains("\"name\":\"rep-json-\\\"A\\\"\""), "{json}");
    assert!(json.contains("\"chain\":[{\"from\":"), "{json}");
    assert!(json.contains("\"report\":\"===="), "{json}");
    let graph = lockdep::graph_json();
    parse_json(&graph);
    assert!(graph.contains("\"name\":\"rep-json-B\""));
    assert!(graph.contains("\"name\":\"ALLOC\""));
    assert!(lockdep::graph_dot().contains("label=\"rep-json-B\""));
}

#[test]
fn creation_site_classes_are_named_by_file_line_column() {
    lockdep::set_mode(Mode::Collect);
    let a = Mutex::new(()); // class: tests/reports.rs:LINE:COL
    let b = Mutex::new(());
    let line_a = line!() - 2;
    drop((a.lock(), b.lock()));
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    let name = format!("{}:{line_a}:13", file!());
    let v = find(&name);
    assert_eq!(v.kind(), ViolationKind::CircularDependency);
}

#[test]
fn graph_json_and_dot_describe_the_dependencies() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        Mutex::with_class((), class("rep-graph-A")),
        lockdep::RwLock::with_class((), class("rep-graph-B")),
    );
    {
        let _a = a.lock();
        let _b = b.read_recursive(); // A -(ER)-> B
    }
    {
        let _a = a.lock();
        let _b = b.write(); // A -(EN)-> B
    }
    let graph = parse_json(&lockdep::graph_json());
    let classes = graph.at("classes").arr();
    let id_of = |name: &str| {
        classes
            .iter()
            .find(|c| c.at("name").str() == name)
            .unwrap_or_else(|| panic!("{name} not in the graph"))
            .at("id")
            .num()
    };
    let (ia, ib) = (id_of("rep-graph-A"), id_of("rep-graph-B"));
    for c in classes {
        assert!(
            ["lock", "pool", "alloc"].contains(&c.at("kind").str()),
            "{c:?}"
        );
    }
    let ids: Vec<u64> = classes.iter().map(|c| c.at("id").num()).collect();
    let edges = graph.at("edges").arr();
    for e in edges {
        assert!(ids.contains(&e.at("from").num()) && ids.contains(&e.at("to").num()));
    }
    let ab = edges
        .iter()
        .find(|e| e.at("from").num() == ia && e.at("to").num() == ib)
        .expect("A → B in the graph");
    let deps: Vec<&str> = ab.at("deps").arr().iter().map(JsonExt::str).collect();
    assert_eq!(deps, ["EN", "ER"]);
    assert_eq!(ab.at("site").at("file").str(), file!(), "{ab:?}");
    let dot = lockdep::graph_dot();
    assert!(dot.starts_with("digraph lockdep {\n") && dot.ends_with("}\n"));
    assert!(dot.contains(&format!("  c{ia} [label=\"rep-graph-A\", shape=box];")));
    assert!(
        dot.contains(&format!("  c{ia} -> c{ib} [label=\"EN,ER\"];")),
        "{dot}"
    );
}

#[test]
fn read_acquisitions_show_as_rlock() {
    lockdep::set_mode(Mode::Collect);
    let (x, y) = (
        lockdep::RwLock::with_class((), class("rep-read-X")),
        Mutex::with_class((), class("rep-read-Y")),
    );
    {
        let _x = x.read();
        let _y = y.lock();
    }
    {
        let _y = y.lock();
        let _x = x.read();
    }
    let v = find("rep-read-X");
    let text = v.to_string();
    assert!(text.contains("  rlock(rep-read-X);"), "{text}");
    assert!(
        text.contains(&format!("(rep-read-X) read, at: {}:", file!())),
        "{text}"
    );
    // Two classes: no chain block.
    assert!(!text.contains("Chain exists of:"), "{text}");
    assert_eq!(
        parse_json(&v.to_json()).at("trying").at("access").str(),
        "read"
    );
}

#[test]
fn held_locks_are_listed_bottom_first() {
    lockdep::set_mode(Mode::Collect);
    let (o, a, b) = (
        Mutex::with_class((), class("rep-held-O")),
        Mutex::with_class((), class("rep-held-A")),
        Mutex::with_class((), class("rep-held-B")),
    );
    drop((a.lock(), b.lock()));
    {
        let _o = o.lock();
        let _b = b.lock();
        let _a = a.lock();
    }
    let v = find("rep-held-A");
    let text = v.to_string();
    let held = text
        .split_once(" locks held by ")
        .expect("a held-locks list")
        .1;
    let o_at = held.find(&format!(" #0: (rep-held-O), at: {}:", file!()));
    let b_at = held.find(&format!(" #1: (rep-held-B), at: {}:", file!()));
    assert!(o_at.is_some() && b_at.is_some() && o_at < b_at, "{text}");
    assert!(text.contains("2 locks held by "), "{text}");
    assert!(text.contains("stack backtrace:\n"), "{text}");
    // The held-lock list is in the JSON too, the cycle is not: the outer lock is no part of it.
    let json = parse_json(&v.to_json());
    let held: Vec<&str> = json
        .at("held")
        .arr()
        .iter()
        .map(|h| h.at("class").at("name").str())
        .collect();
    assert_eq!(held, ["rep-held-O", "rep-held-B"]);
    assert!(!v.involves("rep-held-O"));
}

#[test]
fn recursive_violation_json_and_dot() {
    lockdep::set_mode(Mode::Collect);
    // The same lock read twice (no writer queued between, so it does not hang here).
    let x = RwLock::with_class((), class("rep-aajson-X"));
    {
        let _a = x.read();
        let _b = x.read();
    }
    let v = find("rep-aajson-X");
    let json = parse_json(&v.to_json());
    assert_eq!(json.at("kind").str(), "same_lock_twice");
    assert_eq!(
        json.at("headline").str(),
        "this thread already holds this very lock"
    );
    assert_eq!(
        json.at("trying").at("class").at("name").str(),
        "rep-aajson-X"
    );
    assert_eq!(
        json.at("holding").at("class").at("name").str(),
        "rep-aajson-X"
    );
    assert!(!json.at("thread").str().is_empty());
    assert_eq!(v.to_dot(), "digraph violation {\n}\n");
    assert_eq!(v.classes(), ["rep-aajson-X"]);
}

#[test]
fn the_full_report_lists_every_violation() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        Mutex::with_class((), class("rep-full-A")),
        Mutex::with_class((), class("rep-full-B")),
    );
    drop((a.lock(), b.lock()));
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    let report = lockdep::report();
    assert!(report.starts_with("lockdep: "), "{report}");
    assert!(report.contains("violation(s) recorded"));
    assert!(report.contains(&find("rep-full-A").to_string()));
}
