//! The merge's time budget: 1,000 report files of 1,000 dependencies each in at most 5 s.
//! Ignored (it writes ~0.5 GB and wants a release build):
//!
//! ```sh
//! cargo test -p cargo-lockdep --release --test perf -- --ignored --nocapture
//! ```

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

const FILES: usize = 1000;
const EDGES: usize = 1000;
const CLASSES: u64 = 3000;

/// A report file of `EDGES` dependencies among `CLASSES` named classes, mostly in one global
/// order (as a real suite's), with a few inversions; four-frame backtraces.
fn generate(dir: &Path, file: usize, seed: &mut u64) {
    let mut rand = |n: u64| {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed % n
    };
    let mut ids: Vec<u64> = Vec::new();
    let mut edges = String::new();
    let mut seen = std::collections::HashSet::new();
    while seen.len() < EDGES {
        let (a, b) = (rand(CLASSES), rand(CLASSES));
        if a == b {
            continue;
        }
        // One dependency in a thousand goes against the order.
        let (from, to) = if (a < b) != (rand(1000) == 0) {
            (a, b)
        } else {
            (b, a)
        };
        if !seen.insert((from, to)) {
            continue;
        }
        for c in [from, to] {
            if !ids.contains(&c) {
                ids.push(c);
            }
        }
        let id = |c: u64| ids.iter().position(|&x| x == c).unwrap() + 1;
        if !edges.is_empty() {
            edges.push(',');
        }
        let _ = write!(
            edges,
            r#"{{"from":{},"to":{},"deps":["EN"],"site":{{"file":"src/module_{}.rs","line":{},"column":17}},"backtrace":["#,
            id(from),
            id(to),
            to % 97,
            from % 500 + 1
        );
        for f in 0..4 {
            let _ = write!(
                edges,
                r#"{}{{"function":"suite::module_{}::function_{}","site":{{"file":"src/module_{}.rs","line":{},"column":9}}}}"#,
                if f == 0 { "" } else { "," },
                (from + f) % 97,
                to + f,
                (from + f) % 97,
                f * 10 + 3
            );
        }
        edges.push_str("]}");
    }
    let classes: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                r#"{{"id":{},"name":"class-{c}","kind":"lock","site":null}}"#,
                i + 1
            )
        })
        .collect();
    let text = format!(
        r#"{{"version":1,"binary":"/ci/target/debug/deps/suite-0123456789abcdef","test":"test_{file}","pid":{file},"time":1767225600,"graph":{{"classes":[{}],"edges":[{edges}]}},"violations":[]}}
"#,
        classes.join(",")
    );
    std::fs::write(dir.join(format!("lockdep-{file:04}-1.json")), text).unwrap();
}

#[test]
#[ignore = "writes ~0.5 GB; run with --release --ignored to measure the merge"]
fn merging_a_thousand_files_of_a_thousand_dependencies_takes_at_most_five_seconds() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cargo-lockdep-perf");
    if std::fs::read_dir(&dir).map_or(0, |d| d.count()) != FILES {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for file in 0..FILES {
            generate(&dir, file, &mut seed);
        }
    }
    let start = Instant::now();
    let out = common::cargo_lockdep(["check".as_ref(), "--quiet".as_ref(), dir.as_os_str()]);
    let elapsed = start.elapsed();
    println!("{}merged in {elapsed:.2?}", out.stdout);
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    assert!(out
        .stdout
        .contains(&format!("merged {FILES} report file(s)")));
    if cfg!(debug_assertions) {
        println!("(a debug build: the budget applies to --release)");
    } else {
        assert!(elapsed.as_secs_f64() <= 5.0, "{elapsed:?}");
    }
}
