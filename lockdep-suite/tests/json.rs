//! The JSON shapes of `book/src/json.md`: a violation, the graph, and the report file a process
//! writes into `LOCKDEP_REPORT_DIR` at exit. Every document is parsed (strictly), not
//! searched for substrings. The report-file cases re-run this test binary as a child that
//! runs one `child_*` test (which does nothing unless `TEST_LOCKDEP_TEST_CHILD` is set).
#![cfg(feature = "enabled")]

use lockdep::mempool::Mempool;
use lockdep::{LockClass, Mode, Mutex, RwLock, Violation, ViolationKind};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

mod common;
use common::class;
use common::json::{parse_json, Json, JsonExt};

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
        Json::Object(fields) => fields.iter().for_each(|(k, v)| walk(v, k, visit)),
        Json::Array(items) => items.iter().for_each(|v| walk(v, "", visit)),
        _ => {}
    }
}

/// A site is `null` or exactly `{"file": string, "line": number, "column": number|null}`.
fn assert_site(site: &Json) {
    if site.is_null() {
        return;
    }
    assert_eq!(site.keys(), ["file", "line", "column"], "{site:?}");
    assert!(!site.at("file").str().is_empty(), "{site:?}");
    assert!(site.at("line").num() > 0, "{site:?}");
    let column = site.at("column");
    assert!(column.is_null() || column.num() > 0, "{site:?}");
}

/// A class is exactly `{"id", "name", "kind", "site", "type"}`, of a known kind; only a
/// creation-site lock class has a data type.
fn assert_class(class: &Json) {
    assert_eq!(
        class.keys(),
        ["id", "name", "kind", "site", "type"],
        "{class:?}"
    );
    assert!(class.at("id").num() > 0);
    assert!(
        ["lock", "pool", "alloc"].contains(&class.at("kind").str()),
        "{class:?}"
    );
    assert_site(class.at("site"));
    let data_type = class.at("type");
    if !data_type.is_null() {
        assert!(!data_type.str().is_empty(), "{class:?}");
        assert_eq!(class.at("kind").str(), "lock", "{class:?}");
        assert!(!class.at("site").is_null(), "{class:?}");
    }
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
        "class" | "from" | "to" if v.is_object() => assert_class(v),
        "classes" => v.arr().iter().for_each(assert_class),
        "backtrace" => {
            for frame in v.arr() {
                assert_eq!(frame.keys(), ["function", "site"], "{frame:?}");
                assert!(!frame.at("function").str().is_empty());
            }
        }
        "read" => panic!("a numeric read state: {v:?}"),
        _ => {}
    });
}

fn this_file_site(site: &Json, line: u32) {
    assert_eq!(site.at("file").str(), file!(), "{site:?}");
    assert_eq!(site.at("line").num(), u64::from(line), "{site:?}");
    assert!(site.at("column").num() > 0, "{site:?}");
}

#[test]
fn access_states_are_named() {
    lockdep::set_mode(Mode::Collect);
    // Two locks of class X, each held for write while the other is taken as a recursive
    // read.
    let x = class("json-access-X");
    let (x1, x2) = (RwLock::with_class((), x), RwLock::with_class((), x));
    {
        let _w = x1.write();
        let _r = x2.read_recursive();
    }
    {
        let _w = x2.write();
        let _r = x1.read_recursive();
    }
    let json = parse_json(&find("json-access-X", ViolationKind::CircularDependency).to_json());
    assert_shapes(&json);
    assert_eq!(json.at("holding").at("access").str(), "write");
    assert_eq!(json.at("trying").at("access").str(), "recursive_read");
    assert_eq!(json.at("held").arr()[0].at("access").str(), "write");

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
    assert_eq!(json.at("trying").at("access").str(), "read");
    assert_eq!(json.at("holding").at("access").str(), "write");
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

    let trying = json.at("trying");
    this_file_site(trying.at("site"), line_lock_a);
    this_file_site(trying.at("class").at("site"), line_a);
    this_file_site(json.at("holding").at("site"), line_lock_b);
    this_file_site(json.at("holding").at("class").at("site"), line_b);
    for class in json.at("classes").arr() {
        assert_eq!(class.at("site").at("file").str(), file!());
    }
    let chain = json.at("chain").arr();
    assert_eq!(chain.len(), 2, "{chain:?}");
    // The new dependency B → A, at this thread's acquisition of A; then A → B, recorded
    // first, with the backtrace of its acquisition, which reaches this test.
    this_file_site(chain[0].at("site"), line_lock_a);
    assert!(chain[1].at("site").at("line").num() > 0);
    let frames = chain[1].at("backtrace").arr();
    assert!(
        frames.iter().any(|f| {
            f.at("function")
                .str()
                .contains("sites_are_objects_everywhere")
                && f.at("site").at("file").str() == file!()
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
    this_file_site(json.at("site"), line_pool);
    assert_eq!(json.at("outstanding").num(), 1);
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
        .at("classes")
        .arr()
        .iter()
        .map(|c| (c.at("name").str(), c.at("kind").str()))
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
    for link in json.at("chain").arr() {
        assert!(!link.at("from").at("kind").str().is_empty());
    }

    let graph = parse_json(&lockdep::graph_json());
    assert_shapes(&graph);
    let kind_of = |name: &str| graph_class(&graph, name).at("kind").str().to_owned();
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
    assert_eq!(
        edge.at("deps").arr(),
        [Json::String("SN".into())].as_slice()
    );
    this_file_site(edge.at("site"), line);
    assert!(
        edge.at("backtrace").arr().iter().any(|f| f
            .at("function")
            .str()
            .contains("graph_edges_have_site_and_backtrace")),
        "{edge:?}"
    );
}

/// The class named `name` of a graph document.
fn graph_class<'a>(graph: &'a Json, name: &str) -> &'a Json {
    graph
        .at("classes")
        .arr()
        .iter()
        .find(|c| c.at("name").str() == name)
        .unwrap_or_else(|| panic!("{name} not in the graph"))
}

/// The edge `from → to` of a graph document, by class names.
fn edge<'a>(graph: &'a Json, from: &str, to: &str) -> &'a Json {
    let id = |name: &str| graph_class(graph, name).at("id").num();
    let (from, to) = (id(from), id(to));
    graph
        .at("edges")
        .arr()
        .iter()
        .find(|e| e.at("from").num() == from && e.at("to").num() == to)
        .expect("the edge in the graph")
}

// ---------------------------------------------------------------------------------------------
// The report file, written by child processes.

const CHILD: &str = "TEST_LOCKDEP_TEST_CHILD";

static CHILD_A: LockClass = LockClass::new("json-child-A");
static CHILD_B: LockClass = LockClass::new("json-child-B");

/// Takes A then B (A → B), and, if asked, B then A (a cycle).
fn child(abba: bool) {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let (a, b) = (
        Mutex::with_class((), &CHILD_A),
        Mutex::with_class((), &CHILD_B),
    );
    drop((a.lock(), b.lock()));
    if abba {
        drop((b.lock(), a.lock()));
    }
}

#[test]
fn child_clean() {
    child(false);
}

#[test]
fn child_abba() {
    child(true);
}

/// Takes no lock at all.
#[test]
fn child_idle() {}

/// Runs the test `test` of this binary as a child process writing its report into `dir`;
/// its pid and output.
fn run(test: &str, dir: &Path, envs: &[(&str, &str)]) -> (u32, Output) {
    let process = common::child(test)
        .env(CHILD, "1")
        .env("LOCKDEP_MODE", "collect")
        .env("LOCKDEP_REPORT_DIR", dir)
        .env_remove("NEXTEST_TEST_NAME")
        .envs(envs.iter().copied())
        .spawn()
        .expect("run the child");
    let pid = process.id();
    let out = process.wait_with_output().expect("the child's output");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (pid, out)
}

/// A fresh directory for one test's reports.
fn report_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockdep-json-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Names of the entries of `dir` (none when it does not exist), sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The one report file of `pid` in `dir`, checked for its name; parsed.
fn report_of(dir: &Path, pid: u32) -> Json {
    let prefix = format!("lockdep-{pid}-");
    let files: Vec<String> = entries(dir)
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .collect();
    assert_eq!(files.len(), 1, "{:?}", entries(dir));
    let unique = files[0]
        .strip_prefix(&prefix)
        .and_then(|n| n.strip_suffix(".json"))
        .expect("lockdep-<pid>-<n>.json");
    assert!(
        !unique.is_empty() && unique.bytes().all(|b| b.is_ascii_digit()),
        "{files:?}"
    );
    let text = std::fs::read_to_string(dir.join(&files[0])).unwrap();
    assert!(text.ends_with("}\n"), "a whole file: {text}");
    parse_json(&text)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn the_report_file_says_who_wrote_it_and_holds_graph_and_violations() {
    let dir = report_dir("abba");
    let before = now();
    let (pid, _) = run("child_abba", &dir, &[]);
    let after = now();
    // Only the file: the temporary file it was written to was renamed.
    assert_eq!(entries(&dir).len(), 1, "{:?}", entries(&dir));
    let report = report_of(&dir, pid);
    assert_shapes(&report);
    assert_eq!(
        report.keys(),
        [
            "version",
            "binary",
            "test",
            "pid",
            "time",
            "image",
            "graph",
            "violations"
        ]
    );
    assert_eq!(report.at("version").num(), 2);
    assert_eq!(
        Path::new(report.at("binary").str()),
        std::env::current_exe().unwrap()
    );
    assert_eq!(report.at("test").str(), "child_abba");
    assert_eq!(report.at("pid").num(), u64::from(pid));
    let time = report.at("time").num();
    assert!(
        before <= time && time <= after,
        "{time} in {before}..={after}"
    );

    let graph = report.at("graph");
    assert_eq!(graph.keys(), ["classes", "edges"]);
    let ab = edge(graph, "json-child-A", "json-child-B");
    assert_eq!(ab.at("deps").arr(), [Json::String("EN".into())].as_slice());
    assert_eq!(ab.at("site").at("file").str(), file!());
    assert!(
        ab.at("backtrace")
            .arr()
            .iter()
            .any(|f| f.at("function").str().contains("json::child")),
        "{ab:?}"
    );

    let violations = report.at("violations").arr();
    assert_eq!(violations.len(), 1, "{violations:?}");
    let v = &violations[0];
    assert_eq!(v.at("kind").str(), "circular_dependency");
    let mut names: Vec<&str> = v
        .at("classes")
        .arr()
        .iter()
        .map(|c| c.at("name").str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["json-child-A", "json-child-B"]);
    // The violation's class ids are those of the graph beside it.
    for c in v.at("classes").arr() {
        assert!(graph.at("classes").arr().contains(c), "{c:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_report_file_left_to_the_merge_names_its_image_and_gives_addresses() {
    let dir = report_dir("symbols-merge");
    let (pid, _) = run("child_abba", &dir, &[("LOCKDEP_REPORT_SYMBOLS", "merge")]);
    let report = report_of(&dir, pid);
    assert_shapes(&report);
    let image = report.at("image");
    assert_eq!(image.keys(), ["path", "size", "modified"]);
    assert_eq!(
        Path::new(image.at("path").str()),
        std::env::current_exe().unwrap()
    );
    let ab = edge(report.at("graph"), "json-child-A", "json-child-B");
    assert_eq!(ab.keys(), ["from", "to", "deps", "site", "addresses"]);
    assert!(!ab.at("addresses").arr().is_empty(), "{ab:?}");
    assert_eq!(ab.at("site").at("file").str(), file!());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_clean_process_with_a_graph_writes_its_file() {
    let dir = report_dir("clean");
    let (pid, out) = run("child_clean", &dir, &[]);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("lockdep"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = report_of(&dir, pid);
    assert_shapes(&report);
    assert!(report.at("violations").arr().is_empty());
    let ab = edge(report.at("graph"), "json-child-A", "json-child-B");
    assert_eq!(ab.at("deps").arr(), [Json::String("EN".into())].as_slice());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_process_that_took_no_lock_writes_nothing() {
    let dir = report_dir("idle");
    run("child_idle", &dir, &[]);
    assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn runs_of_one_test_never_overwrite_each_other() {
    let dir = report_dir("twice");
    let (first, _) = run("child_clean", &dir, &[]);
    let (second, _) = run("child_clean", &dir, &[]);
    assert_eq!(entries(&dir).len(), 2, "{:?}", entries(&dir));
    // Even with the same pid the names differ; distinct pids are what this run can show.
    if first != second {
        report_of(&dir, first);
        report_of(&dir, second);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nextest_names_the_test() {
    let dir = report_dir("nextest");
    let (pid, _) = run(
        "child_clean",
        &dir,
        &[("NEXTEST_TEST_NAME", "json::nextest-named")],
    );
    assert_eq!(report_of(&dir, pid).at("test").str(), "json::nextest-named");
    std::fs::remove_dir_all(&dir).unwrap();
}
