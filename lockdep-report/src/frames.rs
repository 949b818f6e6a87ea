//! Which frames of a resolved stack trace a report shows, and how it writes their files: one
//! rule for the checker, which resolves its traces in the process, and for `cargo lockdep`,
//! which resolves the addresses that report files carry (`LOCKDEP_REPORT_SYMBOLS=merge`).
//!
//! Frames are innermost first and named by their demangled function, without its hash.

use std::path::Path;

use crate::model::Frame;

/// The frames a report shows of a trace: the frames of each of its `addresses` in turn, as
/// `frames_at` resolves them (innermost first), up to the runtime's start-up frames, and of
/// those the ones a report keeps (from the user's code down). An address after the runtime's
/// start is never resolved: what lies there (the thread's start in the C library) is never
/// shown, and resolving it can mean loading and decompressing the C library's separate debug
/// file.
///
/// # Examples
///
/// ```
/// use lockdep_report::{shown, Frame};
///
/// let names = ["lockdep_core::checker::validate", "app::insert", "app::main", "std::rt::lang_start", "main"];
/// let frames = shown(names, |f| vec![Frame { function: f.to_owned(), site: None }]);
/// let names: Vec<&str> = frames.iter().map(|f| f.function.as_str()).collect();
/// assert_eq!(names, ["app::insert", "app::main"]);
/// ```
pub fn shown<A, F: std::ops::Deref<Target = [Frame]>>(
    addresses: impl IntoIterator<Item = A>,
    mut frames_at: impl FnMut(A) -> F,
) -> Vec<Frame> {
    let mut frames = Vec::new();
    'resolve: for address in addresses {
        for frame in frames_at(address).iter() {
            if is_runtime_start(&frame.function) {
                break 'resolve;
            }
            frames.push(frame.clone());
        }
    }
    keep_shown(&mut frames);
    frames
}

/// Keeps the frames a report shows of `frames`, a thread's own (the runtime's start-up frames
/// cut): from the first frame of the user's code, less the standard library's frames at the
/// bottom (thread start, closure shims). Everything above the user's first frame is cut: the
/// checker's frames and those it runs through (thread-locals, closures, the allocator shim,
/// `lock_api`), and the standard library's on the way to them (`Vec::push` growing into the
/// allocator: up to fifteen `alloc::` frames that say only "memory was allocated"). Without a
/// user frame, the trace starts after the checker's last frame.
fn keep_shown(frames: &mut Vec<Frame>) {
    let start = match frames.iter().position(|f| is_user(&f.function, f.file())) {
        Some(start) => start,
        None => frames
            .iter()
            .rposition(|f| is_checker_frame(&f.function))
            .map_or(0, |i| i + 1),
    };
    frames.drain(..start);
    // By name only: the harness's shims below a test's closure (`<fn() as FnOnce>::call_once`)
    // stay, and with them the closure's caller, by which a merge names the test.
    while frames.len() > 1 && frames.last().is_some_and(|f| is_std(&f.function, None)) {
        frames.pop();
    }
}

/// A frame of the runtime's start-up code, where a thread's own frames end: below it are the
/// C library's thread start and `main`.
fn is_runtime_start(name: &str) -> bool {
    name.contains("__rust_begin_short_backtrace") || name.starts_with("std::rt::lang_start")
}

/// A frame of the program under test, by its function's name and file (as [`short_path`]
/// writes it): not the checker's, not the standard library's, and resolved (an unresolved
/// frame is named by its address, `0x…`).
pub fn is_user(name: &str, file: Option<&str>) -> bool {
    !is_checker_frame(name) && !is_std(name, file) && !name.starts_with("0x")
}

/// The frame of the test function's closure that the test harness calls (`path::test::{{closure}}`
/// right above `FnOnce::call_once`), if the frames have one: below it is the harness.
///
/// # Examples
///
/// ```
/// use lockdep_report::{test_closure, Frame};
///
/// let frame = |f: &str| Frame { function: f.to_owned(), site: None };
/// let trace = [
///     frame("app::insert"),
///     frame("tests::inserts::{{closure}}"),
///     frame("core::ops::function::FnOnce::call_once"),
///     frame("test::run_test"),
/// ];
/// assert_eq!(test_closure(&trace), Some(1));
/// ```
pub fn test_closure(frames: &[Frame]) -> Option<usize> {
    frames.windows(2).position(|w| {
        w[0].function.ends_with("::{{closure}}")
            && w[1]
                .function
                .starts_with("core::ops::function::FnOnce::call_once")
    })
}

/// A frame of the checker itself or of what it is built on.
fn is_checker_frame(name: &str) -> bool {
    let name = name.trim_start_matches('<');
    [
        "backtrace::",
        "lockdep_core::",
        "lockdep_report::",
        "lockdep_mempool::",
        "lockdep_raw::",
        "lock_api::",
        "lockdep::",
        // The patch packages of lockdep (a real parking_lot never runs under the checker).
        "parking_lot::",
        "parking_lot_core::",
        "__rustc::",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// A frame of the standard library: by its path, or by its file for the functions whose name
/// does not start with one (`<T as alloc::slice::hack::ConvertVec>::to_vec`, `<[T]>::sort`).
fn is_std(name: &str, file: Option<&str>) -> bool {
    [
        "core::", "std::", "<core::", "<std::", "alloc::", "<alloc::",
    ]
    .iter()
    .any(|p| name.starts_with(p))
        || file.is_some_and(|file| {
            ["library/core/", "library/std/", "library/alloc/"]
                .iter()
                .any(|p| file.starts_with(p))
        })
}

/// A source path as a person reads it: relative to `root` when under it (pass
/// [`source_root`]), the standard library's without its `/rustc/<hash>/` prefix, and a
/// dependency's as `short_file` has it.
pub fn short_path(path: &Path, root: Option<&Path>) -> String {
    if let Some(rel) = root.and_then(|root| path.strip_prefix(root).ok()) {
        return rel.display().to_string();
    }
    let s = path.display().to_string();
    match s.find("/library/") {
        Some(i) if s.starts_with("/rustc/") => s[i + 1..].to_owned(),
        _ => short_file(&s).to_owned(),
    }
}

/// The directory that a process in `cwd` names its sources from, as `Location::caller()` names
/// them: the workspace's root (the nearest directory at or above `cwd` with a `Cargo.lock`;
/// cargo compiles a workspace's members from there, so a member's file is
/// `member/src/lib.rs`, while its tests run in the member's directory), else `cwd`.
pub fn source_root(cwd: &Path) -> &Path {
    cwd.ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .unwrap_or(cwd)
}

/// A source path as a person reads it: a crate from a registry as `name-1.2.3/src/file.rs`
/// (not `~/.cargo/registry/src/index.crates.io-…/name-1.2.3/src/file.rs`), a git dependency as
/// `repo-hash/rev/src/file.rs`; the workspace's own relative paths as they are.
pub fn short_file(file: &str) -> &str {
    if let Some(i) = file.find("/registry/src/") {
        let index_and_rest = &file[i + "/registry/src/".len()..];
        if let Some(j) = index_and_rest.find('/') {
            return &index_and_rest[j + 1..];
        }
    }
    if let Some(i) = file.find("/git/checkouts/") {
        return &file[i + "/git/checkouts/".len()..];
    }
    file
}

#[cfg(test)]
mod tests {
    use crate::frames::{is_user, short_file, short_path, shown, source_root};
    use crate::{Frame, Site};
    use std::path::Path;

    fn frame(function: &str, file: Option<&'static str>) -> Frame {
        Frame {
            function: function.to_owned(),
            site: file.map(|file| Site::new(file, 1, None)),
        }
    }

    /// The frames shown of a trace whose every address is one frame, named so.
    fn shown_of(names: &[&'static str]) -> Vec<String> {
        shown(names, |name| vec![frame(name, None)])
            .into_iter()
            .map(|f| f.function)
            .collect()
    }

    #[test]
    fn a_trace_starts_at_the_users_code_and_ends_at_the_runtime() {
        assert_eq!(
            shown_of(&[
                "lockdep_core::checker::validate::validate",
                "<lock_api::mutex::Mutex<R,T>>::lock",
                "alloc::raw_vec::RawVec::grow",
                "app::db::insert",
                "app::main",
                "std::rt::lang_start::{{closure}}",
                "__libc_start_main",
            ]),
            ["app::db::insert", "app::main"]
        );
    }

    #[test]
    fn an_allocations_trace_starts_at_the_users_frame() {
        // `Vec::push` growing into the allocator: the standard library's frames between the
        // allocator shim and the user's code are not shown.
        let mut trace = vec!["__rustc::__rust_alloc", "lockdep_core::hook::alloc::alloc"];
        trace.extend(["alloc::raw_vec::finish_grow"; 15]);
        trace.extend([
            "alloc::vec::Vec<T,A>::push",
            "app::cache::fill",
            "app::main",
        ]);
        assert_eq!(shown_of(&trace), ["app::cache::fill", "app::main"]);
    }

    #[test]
    fn the_standard_librarys_frames_below_the_users_are_cut() {
        assert_eq!(
            shown_of(&[
                "app::worker",
                "std::thread::Builder::spawn::{{closure}}",
                "core::ops::function::FnOnce::call_once",
            ]),
            ["app::worker"]
        );
    }

    #[test]
    fn without_a_user_frame_a_trace_starts_after_the_checker() {
        assert_eq!(
            shown_of(&["lockdep_core::a", "0x1234", "std::x", "std::y"]),
            ["0x1234"]
        );
        assert!(!is_user("0x55d0c0ffee", None));
    }

    #[test]
    fn a_standard_library_function_is_known_by_its_file_too() {
        let name = "<T as alloc::slice::hack::ConvertVec>::to_vec";
        assert!(is_user(name, None));
        assert!(!is_user(name, Some("library/alloc/src/slice.rs")));
        // A program's impl of a standard trait is the program's.
        assert!(is_user(
            "<app::Row as core::fmt::Debug>::fmt",
            Some("src/row.rs")
        ));
        let trace = [
            ("lockdep_core::checker::x", None),
            (name, Some("library/alloc/src/slice.rs")),
            ("app::fill", Some("src/lib.rs")),
        ];
        let frames = shown(trace, |(name, file)| vec![frame(name, file)]);
        let names: Vec<&str> = frames.iter().map(|f| f.function.as_str()).collect();
        assert_eq!(names, ["app::fill"]);
    }

    #[test]
    fn a_members_sources_are_named_from_the_workspace_root() {
        let root = std::env::temp_dir().join(format!("lockdep-root-{}", std::process::id()));
        let member = root.join("member");
        std::fs::create_dir_all(&member).unwrap();
        assert_eq!(
            source_root(&member),
            member,
            "no Cargo.lock: the directory itself"
        );
        std::fs::write(root.join("Cargo.lock"), "").unwrap();
        assert_eq!(source_root(&member), root);
        assert_eq!(
            short_path(&member.join("tests/x.rs"), Some(source_root(&member))),
            "member/tests/x.rs",
            "as Location::caller() names it"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn paths_are_shortened_for_people() {
        let cwd = Path::new("/home/me/app");
        assert_eq!(
            short_path(Path::new("/home/me/app/src/db.rs"), Some(cwd)),
            "src/db.rs"
        );
        assert_eq!(
            short_path(
                Path::new("/rustc/0123abcd/library/std/src/thread/mod.rs"),
                Some(cwd)
            ),
            "library/std/src/thread/mod.rs"
        );
        assert_eq!(
            short_path(
                Path::new(
                    "/root/.cargo/registry/src/index.crates.io-1949cf8c/salsa-0.28.5/src/a.rs"
                ),
                None
            ),
            "salsa-0.28.5/src/a.rs"
        );
    }

    #[test]
    fn registry_and_git_paths_are_shortened_to_the_crate() {
        assert_eq!(
            short_file("/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/crossbeam-utils-0.8.23/src/cache_padded.rs"),
            "crossbeam-utils-0.8.23/src/cache_padded.rs"
        );
        assert_eq!(
            short_file("/home/u/.cargo/git/checkouts/salsa-1a2b3c/4d5e6f7/src/lib.rs"),
            "salsa-1a2b3c/4d5e6f7/src/lib.rs"
        );
        assert_eq!(short_file("src/main.rs"), "src/main.rs");
        assert_eq!(
            short_file("/abs/project/src/lib.rs"),
            "/abs/project/src/lib.rs"
        );
    }
}
