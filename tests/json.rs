//! The JSON shapes of `docs/json.md`: a violation and the graph. Every document is parsed
//! (strictly), not searched for substrings.
#![cfg(feature = "enabled")]

use lockdep::mempool::Mempool;
use lockdep::{Mode, Mutex, RwLock, Violation, ViolationKind};
use std::sync::Arc;

mod common;
use common::class;
use common::json::{parse_json, Json};

fn find(name: &str, kind: ViolationKind) -> Violation {
    lockdep::violations()
        .into_iter()
        .find(|v| v.kind() == kind && v.involves(name))
        .unwrap_or_else(|| panic!("no {kind} about {name}: {}", lockdep::report()))
}

/// Every value of `json`, depth first, with the name of the field it is in ("" in arrays
/// and at the top).
fn walk<'a>(json: &'a Json, field: &'a str, visit: &mut impl FnMut(&'a str, &'a Json)) {
    visit(field, json);
    match json {
        Json::Obj(fields) => fields.iter().for_each(|(k, v)| walk(v, k, visit)),
        Json::Arr(items) => items.iter().for_each(|v| walk(v, "", visit)),
        _ => {}
    }
}

/// A site is `null` or exactly `{"file": string, "line": number, "column": number|null}`.
fn assert_site(site: &Json) {
    if site.is_null() {
        return;
    }
    assert_eq!(site.keys(), ["file", "line", "column"], "{site:?}");
    assert!(!site.get("file").str().is_empty(), "{site:?}");
    assert!(site.get("line").num() > 0, "{site:?}");
    let column = site.get("column");
    assert!(column.is_null() || column.num() > 0, "{site:?}");
}

/// A class is exactly `{"id", "name", "kind", "site"}`, of a known kind.
fn assert_class(class: &Json) {
    assert_eq!(class.keys(), ["id", "name", "kind", "site"], "{class:?}");
    assert!(class.get("id").num() > 0);
    assert!(
        ["lock", "pool", "alloc"].contains(&class.get("kind").str()),
        "{class:?}"
    );
    assert_site(class.get("site"));
}

/// The rules every document obeys wherever in it: sites are site objects, access states are
/// names, classes are class objects, frames are `{"function","site"}`; no numeric `read`.
fn assert_shapes(json: &Json) {
    walk(json, "", &mut |field, v| match field {
        "site" => assert_site(v),
        "access" => assert!(
            ["write", "read", "recursive_read"].contains(&v.str()),
            "{v:?}"
        ),
        "class" | "from" | "to" if matches!(v, Json::Obj(_)) => assert_class(v),
        "classes" => v.arr().iter().for_each(assert_class),
        "backtrace" => {
            for frame in v.arr() {
                assert_eq!(frame.keys(), ["function", "site"], "{frame:?}");
                assert!(!frame.get("function").str().is_empty());
            }
        }
        "read" => panic!("a numeric read state: {v:?}"),
        _ => {}
    });
}

fn this_file_site(site: &Json, line: u32) {
    assert_eq!(site.get("file").str(), file!(), "{site:?}");
    assert_eq!(site.get("line").num(), u64::from(line), "{site:?}");
    assert!(site.get("column").num() > 0, "{site:?}");
}

#[test]
fn the_json_parser_of_these_tests_is_strict() {
    assert_eq!(
        parse_json(r#"{"a":[1,-2.5e3,"x\"\n\u0041",true,null]}"#),
        Json::Obj(vec![(
            "a".into(),
            Json::Arr(vec![
                Json::Num("1".into()),
                Json::Num("-2.5e3".into()),
                Json::Str("x\"\nA".into()),
                Json::Bool(true),
                Json::Null,
            ])
        )])
    );
    for bad in [
        "{\"a\":1,}",
        "[1 2]",
        "{\"a\" 1}",
        "\"\\q\"",
        "\"a\nb\"",
        "[01]",
        "{}x",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_json(bad)).is_err(),
            "accepted {bad:?}"
        );
    }
}

#[test]
fn access_states_are_named() {
    lockdep::set_mode(Mode::Collect);
    // Recursive locking: X held for write, X taken again as a recursive read.
    let x = class("json-access-X");
    let (x1, x2) = (RwLock::with_class((), x), RwLock::with_class((), x));
    {
        let _w = x1.write();
        let _r = x2.read_recursive();
    }
    let json = parse_json(&find("json-access-X", ViolationKind::RecursiveLock).to_json());
    assert_shapes(&json);
    assert_eq!(json.get("holding").get("access").str(), "write");
    assert_eq!(json.get("trying").get("access").str(), "recursive_read");
    assert_eq!(json.get("held").arr()[0].get("access").str(), "write");

    // A cycle closed by a read: R read, then M; M, then R read.
    let (r, m) = (
        RwLock::with_class((), class("json-access-R")),
        Mutex::with_class((), class("json-access-M")),
    );
    {
        let _r = r.read();
        let _m = m.lock();
    }
    {
        let _m = m.lock();
        let _r = r.read();
    }
    let json = parse_json(&find("json-access-R", ViolationKind::CircularDependency).to_json());
    assert_shapes(&json);
    assert_eq!(json.get("trying").get("access").str(), "read");
    assert_eq!(json.get("holding").get("access").str(), "write");
}

#[test]
fn sites_are_objects_everywhere() {
    lockdep::set_mode(Mode::Collect);
    // Creation-site classes: their class objects carry the creation site.
    let a = Mutex::new(());
    let line_a = line!() - 1;
    let b = Mutex::new(());
    let line_b = line!() - 1;
    drop((a.lock(), b.lock()));
    let (_b, line_lock_b) = (b.lock(), line!());
    let (_a, line_lock_a) = (a.lock(), line!());
    drop((_a, _b));
    let name_a = format!("{}:{line_a}:13", file!());
    let v = find(&name_a, ViolationKind::CircularDependency);
    let json = parse_json(&v.to_json());
    assert_shapes(&json);

    let trying = json.get("trying");
    this_file_site(trying.get("site"), line_lock_a);
    this_file_site(trying.get("class").get("site"), line_a);
    this_file_site(json.get("holding").get("site"), line_lock_b);
    this_file_site(json.get("holding").get("class").get("site"), line_b);
    for class in json.get("classes").arr() {
        assert_eq!(class.get("site").get("file").str(), file!());
    }
    let chain = json.get("chain").arr();
    assert_eq!(chain.len(), 2, "{chain:?}");
    // The new dependency B → A, at this thread's acquisition of A; then A → B, recorded
    // first, with the backtrace of its acquisition, which reaches this test.
    this_file_site(chain[0].get("site"), line_lock_a);
    assert!(chain[1].get("site").get("line").num() > 0);
    let frames = chain[1].get("backtrace").arr();
    assert!(
        frames.iter().any(|f| {
            f.get("function")
                .str()
                .contains("sites_are_objects_everywhere")
                && f.get("site").get("file").str() == file!()
        }),
        "{frames:?}"
    );

    // A pool dropped with an element out: the site is the pool's creation site.
    let pool = Mempool::named("json-site-pool", 1, || Some(0u8));
    let line_pool = line!() - 1;
    let e = pool.alloc();
    drop(pool);
    drop(e);
    let json =
        parse_json(&find("json-site-pool", ViolationKind::PoolDroppedWithOutstanding).to_json());
    assert_shapes(&json);
    this_file_site(json.get("site"), line_pool);
    assert_eq!(json.get("outstanding").num(), 1);
}

#[test]
fn classes_have_their_kind() {
    lockdep::set_mode(Mode::Collect);
    let pool = Arc::new(Mempool::named("json-kind-pool", 1, || Some(0u8)));
    let b = Arc::new(Mutex::with_class((), class("json-kind-b")));
    let (p, l) = (Arc::clone(&pool), Arc::clone(&b));
    std::thread::spawn(move || drop((p.alloc(), l.lock())))
        .join()
        .unwrap();
    {
        let _b = b.lock();
        lockdep::might_alloc();
    }
    let json = parse_json(&find("json-kind-pool", ViolationKind::MempoolLivelock).to_json());
    assert_shapes(&json);
    let mut kinds: Vec<(&str, &str)> = json
        .get("classes")
        .arr()
        .iter()
        .map(|c| (c.get("name").str(), c.get("kind").str()))
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            ("ALLOC", "alloc"),
            ("json-kind-b", "lock"),
            ("json-kind-pool", "pool")
        ]
    );
    for link in json.get("chain").arr() {
        assert!(!link.get("from").get("kind").str().is_empty());
    }

    let graph = parse_json(&lockdep::graph_json());
    assert_shapes(&graph);
    let kind_of = |name: &str| {
        graph
            .get("classes")
            .arr()
            .iter()
            .find(|c| c.get("name").str() == name)
            .unwrap_or_else(|| panic!("{name} not in the graph"))
            .get("kind")
            .str()
            .to_owned()
    };
    assert_eq!(kind_of("json-kind-pool"), "pool");
    assert_eq!(kind_of("json-kind-b"), "lock");
    assert_eq!(kind_of("ALLOC"), "alloc");
}

#[test]
fn graph_edges_have_site_and_backtrace() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        RwLock::with_class((), class("json-graph-A")),
        Mutex::with_class((), class("json-graph-B")),
    );
    // A held shared, B taken non-recursively: an SN dependency.
    let (_a, _b, line) = (a.read(), b.lock(), line!());
    drop((_b, _a));
    let graph = parse_json(&lockdep::graph_json());
    assert_shapes(&graph);
    assert_eq!(graph.keys(), ["classes", "edges"]);
    let edge = edge(&graph, "json-graph-A", "json-graph-B");
    assert_eq!(edge.keys(), ["from", "to", "deps", "site", "backtrace"]);
    assert_eq!(edge.get("deps").arr(), [Json::Str("SN".into())].as_slice());
    this_file_site(edge.get("site"), line);
    assert!(
        edge.get("backtrace").arr().iter().any(|f| f
            .get("function")
            .str()
            .contains("graph_edges_have_site_and_backtrace")),
        "{edge:?}"
    );
}

/// The edge `from → to` of a graph document, by class names.
fn edge<'a>(graph: &'a Json, from: &str, to: &str) -> &'a Json {
    let id = |name: &str| {
        graph
            .get("classes")
            .arr()
            .iter()
            .find(|c| c.get("name").str() == name)
            .unwrap_or_else(|| panic!("{name} not in the graph"))
            .get("id")
            .num()
    };
    let (from, to) = (id(from), id(to));
    graph
        .get("edges")
        .arr()
        .iter()
        .find(|e| e.get("from").num() == from && e.get("to").num() == to)
        .expect("the edge in the graph")
}
