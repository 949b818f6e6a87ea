//! The report shapes: kernel-style text, JSON and DOT.
#![cfg(feature = "enabled")]

use lockdep::{Mode, Mutex, ViolationKind};

mod common;
use common::{class, find};

/// A minimal JSON well-formedness check: balanced brackets outside strings, valid escapes.
fn assert_json(s: &str) {
    let mut depth = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => loop {
                match chars.next().expect("unterminated string") {
                    '\\' => {
                        let e = chars.next().expect("escape");
                        assert!("\"\\/bfnrtu".contains(e), "bad escape \\{e}");
                    }
                    '"' => break,
                    c => assert!(c as u32 >= 0x20, "control character in string"),
                }
            },
            '{' | '[' => depth.push(c),
            '}' => assert_eq!(depth.pop(), Some('{')),
            ']' => assert_eq!(depth.pop(), Some('[')),
            _ => {}
        }
    }
    assert!(depth.is_empty(), "unbalanced JSON");
}

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
    for needle in [
        "WARNING: possible circular locking dependency detected",
        "is trying to acquire lock:\n  (rep-abba-A), at: tests/reports.rs:",
        "but thread is already holding lock:\n  (rep-abba-B), at: tests/reports.rs:",
        "the existing dependency chain (in reverse order) is:",
        "-> #1 (rep-abba-B):",
        "-> #0 (rep-abba-A):",
        " Possible unsafe locking scenario:",
        "       CPU0                    CPU1",
        "  lock(rep-abba-B);\n                               lock(rep-abba-A);\n                               lock(rep-abba-B);\n  lock(rep-abba-A);",
        " *** DEADLOCK ***",
        "1 lock held by ",
        " #0: (rep-abba-B), at: tests/reports.rs:",
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
fn recursive_locking_report() {
    lockdep::set_mode(Mode::Collect);
    let x = class("rep-aa-X");
    let (x1, x2) = (Mutex::with_class((), x), Mutex::with_class((), x));
    {
        let _a = x1.lock();
        let _b = x2.lock();
    }
    let v = find("rep-aa-X");
    assert_eq!(v.kind(), ViolationKind::RecursiveLock);
    let text = v.to_string();
    assert!(
        text.contains("WARNING: possible recursive locking detected"),
        "{text}"
    );
    assert!(
        text.contains("May be due to missing lock nesting notation"),
        "{text}"
    );
    assert!(
        text.contains("  lock(rep-aa-X);\n  lock(rep-aa-X);"),
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
    assert_json(&json);
    assert!(
        json.starts_with("{\"kind\":\"circular_dependency\""),
        "{json}"
    );
    assert!(
        json.contains("\"classes\":[\"rep-json-\\\"A\\\"\",\"rep-json-B\"]"),
        "{json}"
    );
    assert!(json.contains("\"chain\":[{\"from\":"), "{json}");
    assert!(json.contains("\"report\":\"===="), "{json}");
    let graph = lockdep::graph_json();
    assert_json(&graph);
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
    let name = format!("tests/reports.rs:{line_a}:13");
    let v = find(&name);
    assert_eq!(v.kind(), ViolationKind::CircularDependency);
}
