//! The checker's modules form layers that only look down, as the table in ARCHITECTURE.md
//! ("Layers of `lockdep-core`") defines them: this test reads that table, so that the document
//! and the code agree by construction. Every path a module names into another module of this
//! crate (`crate::…`, `super::…`, `self::…`, and the items of `use` groups) must lead to a
//! module of the same layer or a lower one, and the module graph must have no cycle. A new
//! module must be given its layer in the table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The module list of a table cell: its backticked names, `a::{b, c}` standing for `a::b`
/// and `a::c`, `lib` for the crate root.
fn modules_of(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .flat_map(|name| match name.split_once("::{") {
            Some((parent, group)) => group
                .trim_end_matches('}')
                .split(',')
                .map(|m| format!("{parent}::{}", m.trim()))
                .collect(),
            None if name == "lib" => vec![String::new()],
            None => vec![name.to_owned()],
        })
        .collect()
}

/// Every module of `lockdep-core/src` with its layer (0: declarations only), and the facade's
/// layer (the highest), as ARCHITECTURE.md's layer table gives them.
fn layers() -> (BTreeMap<String, u32>, u32) {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md"))
            .unwrap();
    let section = doc
        .split("## Layers of `lockdep-core`")
        .nth(1)
        .expect("ARCHITECTURE.md has a section \"Layers of `lockdep-core`\"");
    let section = section.split("\n## ").next().unwrap();
    let mut layers = BTreeMap::new();
    let mut facade = 0;
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if let [_, first, modules, ..] = cells[..] {
            let Some((number, _)) = first.split_once(". ") else {
                continue;
            };
            let Ok(layer) = number.parse::<u32>() else {
                continue;
            };
            for m in modules_of(modules) {
                facade = facade.max(layer);
                assert!(
                    layers.insert(m.clone(), layer).is_none(),
                    "`{m}` is listed twice"
                );
            }
        } else if let Some(rest) = line.strip_prefix("Modules that only declare others:") {
            for m in modules_of(rest) {
                layers.insert(m, 0);
            }
        }
    }
    assert_eq!(
        layers.get(""),
        Some(&facade),
        "the facade (`lib`) is the highest layer"
    );
    (layers, facade)
}

#[test]
fn the_table_reads_as_layers() {
    let (layers, facade) = layers();
    assert_eq!(layers["checker::types"], 1);
    assert_eq!(layers["std_sync::once_lock"], layers["std_sync::mutex"]);
    assert_eq!(layers["checker"], 0);
    assert!(layers["checker::entry"] > layers["checker::validate"]);
    assert!(layers["hook::lock_map"] > layers["checker::entry"]);
    assert!(facade > layers["std_sync::mutex"]);
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Module path of a source file (`checker/held.rs` → `checker::held`, `lib.rs` → ``).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src_dir()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments and string literals (so that paths in docs do not count).
fn code_only(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            c => out.push(c),
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path starting with `crate`, `super` or `self`, as segments; a `use` group
/// `a::{b, c::d}` gives `a::b` and `a::c`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let bytes: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !is_ident(bytes[i - 1]);
        let rest: String = bytes[i..bytes.len().min(i + 8)].iter().collect();
        let root = ["crate::", "super::", "self::"]
            .into_iter()
            .any(|r| rest.starts_with(r));
        match root {
            true if starts_word && (i < 2 || bytes[i - 2..i] != [':', ':']) => {
                let (segments, end) = read_path(&bytes, i);
                if bytes.get(end) == Some(&'{') {
                    for item in group_items(&bytes, end) {
                        let mut p = segments.clone();
                        p.push(item);
                        found.push(p);
                    }
                } else {
                    found.push(segments);
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    found
}

/// Reads `a::b::c` from `i`; returns the segments and the index after the last `::` or
/// segment.
fn read_path(bytes: &[char], mut i: usize) -> (Vec<String>, usize) {
    let mut segments = Vec::new();
    loop {
        let start = i;
        while i < bytes.len() && is_ident(bytes[i]) {
            i += 1;
        }
        if i == start {
            break;
        }
        segments.push(bytes[start..i].iter().collect());
        if bytes.get(i) == Some(&':') && bytes.get(i + 1) == Some(&':') {
            i += 2;
        } else {
            break;
        }
    }
    (segments, i)
}

/// First segments of the items of the `{…}` group opening at `open`.
fn group_items(bytes: &[char], open: usize) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut expecting = true;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            '{' => {
                depth += 1;
                expecting = depth == 1;
                i += 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
                i += 1;
            }
            ',' if depth == 1 => {
                expecting = true;
                i += 1;
            }
            c if is_ident(c) && expecting && depth == 1 => {
                let (segments, end) = read_path(bytes, i);
                items.extend(segments.into_iter().next());
                expecting = false;
                i = end;
            }
            _ => i += 1,
        }
    }
    items
}

/// Names the crate root re-exports, and from which module (`pub use a::b::{X, Y};`).
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for stmt in lib.split(';') {
        let stmt = stmt.trim();
        let Some(body) = stmt.strip_prefix("pub use ") else {
            continue;
        };
        let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let (module, items) = match body.split_once("::{") {
            Some((m, items)) => (m.to_owned(), items.trim_end_matches('}').to_owned()),
            None => match body.rsplit_once("::") {
                Some((m, item)) => (m.to_owned(), item.to_owned()),
                None => continue,
            },
        };
        // `crate::a::b` and `a::b` are one module; another crate's items are not ours.
        let module = module.strip_prefix("crate::").unwrap_or(&module).to_owned();
        if module.starts_with("lockdep_") || module.starts_with("std::") {
            continue;
        }
        for item in items.split(',') {
            let name = item.split(" as ").next().unwrap_or(item);
            map.insert(name.to_owned(), module.clone());
        }
    }
    map
}

/// The module a path leads to, resolved from `current`.
fn resolve(
    current: &str,
    path: &[String],
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> Option<String> {
    let mut base: Vec<&str> = if current.is_empty() {
        Vec::new()
    } else {
        current.split("::").collect()
    };
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => base.clear(),
        Some("super" | "self") => {}
        _ => return None,
    }
    if rest[0] == "crate" {
        rest = &rest[1..];
    }
    while let Some(first) = rest.first().map(String::as_str) {
        match first {
            "super" => {
                base.pop();
            }
            "self" => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    let mut best = base.join("::");
    let mut cand = base.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for seg in rest {
        cand.push(seg.clone());
        let joined = cand.join("::");
        if modules.contains(&joined) {
            best = joined;
        } else {
            if best.is_empty() {
                if let Some(module) = reexports.get(seg) {
                    return Some(module.clone());
                }
            }
            break;
        }
    }
    Some(best)
}

#[test]
fn modules_import_only_their_own_layer_or_lower_and_form_no_cycle() {
    let (layers, facade) = layers();
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    for m in &modules {
        assert!(
            layers.contains_key(m.as_str()),
            "module `{m}` has no layer: add it to the layer table of ARCHITECTURE.md"
        );
    }
    for m in layers.keys() {
        assert!(
            modules.contains(m),
            "ARCHITECTURE.md's layer table lists `{m}`, which is no module of lockdep-core"
        );
    }
    let lib = std::fs::read_to_string(src_dir().join("lib.rs")).unwrap();
    let reexports = root_reexports(&code_only(&lib));

    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut upward = Vec::new();
    for file in &files {
        let from = module_of(file);
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        for path in paths(&code) {
            let Some(to) = resolve(&from, &path, &modules, &reexports) else {
                continue;
            };
            if to == from || from.starts_with(&format!("{to}::")) && layers[to.as_str()] == 0 {
                continue;
            }
            if to.starts_with(&format!("{from}::")) || layers[from.as_str()] == facade {
                // A parent naming its children (declarations, re-exports).
                edges.entry(from.clone()).or_default().insert(to);
                continue;
            }
            let (lf, lt) = (layers[from.as_str()], layers[to.as_str()]);
            if lt > lf || lt == 0 {
                upward.push(format!(
                    "`{from}` (layer {lf}) uses `{}` -> `{to}` (layer {lt})",
                    path.join("::")
                ));
            }
            edges.entry(from.clone()).or_default().insert(to);
        }
    }
    upward.sort();
    upward.dedup();
    assert!(
        upward.is_empty(),
        "imports from a higher layer:\n{}",
        upward.join("\n")
    );

    // No cycle among the modules (the facade and declaration modules aside).
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(m) {
            Some(2) => return None,
            Some(1) => {
                let at = stack.iter().position(|s| s == m).unwrap();
                return Some(stack[at..].to_vec());
            }
            _ => {}
        }
        state.insert(m.to_owned(), 1);
        stack.push(m.to_owned());
        for next in edges.get(m).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, state, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(m.to_owned(), 2);
        None
    }
    let checked: BTreeMap<String, BTreeSet<String>> = edges
        .into_iter()
        .filter(|(m, _)| layers[m.as_str()] != facade)
        .collect();
    let mut state = BTreeMap::new();
    for m in checked.keys() {
        if let Some(cycle) = visit(m, &checked, &mut state, &mut Vec::new()) {
            panic!(
                "modules import each other in a cycle: {}",
                cycle.join(" -> ")
            );
        }
    }
}

#[test]
fn the_scanner_sees_paths_and_use_groups() {
    let code = code_only(
        "use super::types::{lock, ClassId};\nuse crate::checker::{registry, validate::{self, X}};\n// crate::not_this\nlet s = \"crate::nor_this\";\nsuper::store::record(x);",
    );
    let found: Vec<String> = paths(&code).iter().map(|p| p.join("::")).collect();
    for want in [
        "super::types::lock",
        "super::types::ClassId",
        "crate::checker::registry",
        "crate::checker::validate",
        "super::store::record",
    ] {
        assert!(found.iter().any(|f| f == want), "{want} not in {found:?}");
    }
    assert!(!found
        .iter()
        .any(|f| f.contains("not_this") || f.contains("nor_this")));
}
