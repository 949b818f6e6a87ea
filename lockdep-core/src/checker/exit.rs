//! What happens when threads and the process exit: locks held at thread exit are reported;
//! at process exit the recorded violations are printed (unless `LOCKDEP_EXIT_REPORT=file`; or
//! `summary`: one line saying where they went), with what the suppression file suppressed,
//! and, with `LOCKDEP_REPORT_DIR`, the graph and the violations are written as a JSON report
//! file (`book/src/json.md`); a process
//! with violations left, or whose checking a fault turned off, exits with a failing status.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Once};
use std::time::{SystemTime, UNIX_EPOCH};

use super::export::{self, Symbols};
use super::first_hold;
use super::graph;
use super::held::{with_thread, Context};
use super::image::Image;
use super::registry;
use super::report;
use super::stack_trace::StackTrace;
use super::store;
use super::types::{thread_name, tid, Instance, NodeKind};
use super::violation::{Detail, LockDesc, ViolationData};
use lockdep_report::{LockStat, ViolationKind};

/// Runs when a thread that has held something exits. Keeps the thread's handle and number,
/// not its printed name: threads are started by the hundred thousand in some test suites, and
/// the name is needed only for a leak.
struct ThreadExitHook {
    thread: std::thread::Thread,
    tid: u64,
}

thread_local! {
    static EXIT_HOOK: ThreadExitHook = ThreadExitHook {
        thread: std::thread::current(),
        tid: tid(),
    };
}

/// Registers this thread's exit hook (once per thread), and the process's exit report: the
/// first hold of a thread is where a report may start to have something to say.
#[cold]
pub(crate) fn register_thread_exit_hook(t: &Context) {
    let _in_checker = t.enter();
    t.exit_hook.set(true);
    register_process_exit_report();
    // Fails only during TLS teardown, when there is nothing left to report anyway.
    let _ = EXIT_HOOK.try_with(|_| ());
}

impl Drop for ThreadExitHook {
    fn drop(&mut self) {
        let thread = || thread_name(&self.thread, self.tid);
        with_thread(|t| {
            let _in_checker = t.enter();
            // Holds other threads ended and posted here were no leaks.
            t.apply_posted();
            // A guard kept in another thread-local is released by that thread-local's
            // destructor, which may run after this one: the verdict waits for it.
            if leaked_locks(t).is_empty() || !after_thread_locals(thread()) {
                finish_thread(t, thread);
            }
        });
    }
}

/// The locks `t` still holds (pool elements still held were moved elsewhere: that is normal,
/// not a leak).
fn leaked_locks(t: &Context) -> Vec<(Instance, LockDesc)> {
    t.snapshot()
        .iter()
        .filter(|h| registry::info(h.class).kind == NodeKind::Lock)
        .map(|h| (h.instance, LockDesc::from(h)))
        .collect()
}

/// The end of a thread for the checker: the locks it still holds are leaked guards, reported
/// (the thread named by `thread`); its held stack and its inbox are closed. The caller has
/// entered the checker.
fn finish_thread(t: &Context, thread: impl FnOnce() -> String) {
    // Holds other threads ended and posted here meanwhile were no leaks.
    t.apply_posted();
    let leaked = leaked_locks(t);
    t.clear();
    t.hold_entries.set(0);
    if let Some(inbox) = t.inbox.take() {
        inbox.close();
    }
    if !leaked.is_empty() && crate::mode::is_checking() {
        #[cfg(feature = "send_guard")]
        orphans::left(thread(), leaked);
        #[cfg(not(feature = "send_guard"))]
        store::record(held_at_exit(
            thread(),
            leaked.into_iter().map(|(_, d)| d).collect(),
        ));
    }
}

/// Runs [`finish_thread`] for this thread (named `thread`) once every thread-local
/// destructor of the thread has run, whenever they were registered; false when that cannot
/// be arranged (then the caller finishes now).
///
/// Thread-local destructors run in the reverse order of their registration, and this
/// thread's exit hook is registered with its first hold, often after the thread-local that
/// keeps a guard (its destructor registered when first used, before the guard was taken in
/// it): the hook's destructor runs first and would take that guard for a leaked one. glibc
/// runs the destructors of `pthread_key_create` keys after every thread-local destructor
/// (`__call_tls_dtors` before `__nptl_deallocate_tsd`), so the verdict is a key's.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn after_thread_locals(thread: String) -> bool {
    use std::os::raw::{c_int, c_uint, c_void};
    extern "C" {
        fn pthread_key_create(
            key: *mut c_uint,
            destructor: Option<unsafe extern "C" fn(*mut c_void)>,
        ) -> c_int;
        fn pthread_setspecific(key: c_uint, value: *const c_void) -> c_int;
    }
    /// Finishes the thread whose name the key's value is (a `Box<String>`).
    unsafe extern "C" fn finish(thread: *mut c_void) {
        // SAFETY: the key's only values are `Box<String>`s made below, each set once.
        let thread = unsafe { Box::from_raw(thread.cast::<String>()) };
        // Never unwind into C.
        let _ = std::panic::catch_unwind(move || {
            with_thread(|t| {
                let _in_checker = t.enter();
                finish_thread(t, || *thread);
            })
        });
    }
    static KEY: std::sync::OnceLock<Option<c_uint>> = std::sync::OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut key: c_uint = 0;
        // SAFETY: `key` is a valid place for the new key; `finish` never unwinds.
        (unsafe { pthread_key_create(&mut key, Some(finish)) } == 0).then_some(key)
    });
    let Some(key) = *key else {
        return false;
    };
    let value = Box::into_raw(Box::new(thread));
    // SAFETY: `key` was made by `pthread_key_create`; the value is freed by `finish`.
    if unsafe { pthread_setspecific(key, value.cast()) } == 0 {
        return true;
    }
    // SAFETY: not handed over: still ours.
    drop(unsafe { Box::from_raw(value) });
    false
}

/// Elsewhere the order of thread-local destructors and key destructors is not known: the
/// verdict is made at once (a guard kept in a thread-local may be reported as leaked).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn after_thread_locals(_thread: String) -> bool {
    false
}

/// The violation of a thread that exited holding `leaked`.
fn held_at_exit(thread: String, leaked: Vec<LockDesc>) -> ViolationData {
    ViolationData::on_thread(
        thread,
        ViolationKind::LockHeldAtExit,
        Detail::HeldAtExit,
        leaked,
        StackTrace::default(),
    )
}

/// Locks that threads held when they exited (feature `send_guard`). A guard may have been
/// sent to another thread that still has it: the verdict waits until process exit, and a lock
/// released meanwhile (from another thread) is no leak.
#[cfg(feature = "send_guard")]
pub(crate) mod orphans {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::sync::Mutex;

    use crate::checker::types::{lock, Instance};
    use crate::checker::violation::LockDesc;

    /// An exited thread's name, and the locks it held (each with its description).
    type Left = (String, Vec<(Instance, LockDesc)>);

    static LEFT: Mutex<Vec<Left>> = Mutex::new(Vec::new());
    static ANY: AtomicBool = AtomicBool::new(false);

    /// `thread` exited holding `locks`. The caller has entered the checker.
    pub(super) fn left(thread: String, locks: Vec<(Instance, LockDesc)>) {
        lock(&LEFT).push((thread, locks));
        ANY.store(true, Relaxed);
    }

    /// The lock `instance` was released on a thread that did not take it: if an exited
    /// thread had it, it was no leak. The caller has entered the checker.
    pub(crate) fn released(instance: Instance) {
        if ANY.load(Relaxed) {
            for (_, locks) in lock(&LEFT).iter_mut() {
                locks.retain(|(i, _)| *i != instance);
            }
        }
    }

    /// The locks still held by exited threads, by thread.
    pub(super) fn remaining() -> Vec<(String, Vec<LockDesc>)> {
        std::mem::take(&mut *lock(&LEFT))
            .into_iter()
            .filter(|(_, locks)| !locks.is_empty())
            .map(|(thread, locks)| (thread, locks.into_iter().map(|(_, d)| d).collect()))
            .collect()
    }
}

static PROCESS_EXIT: Once = Once::new();

/// Makes sure the exit report runs at process exit.
fn register_process_exit_report() {
    #[cfg(unix)]
    PROCESS_EXIT.call_once(|| {
        extern "C" {
            fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
        }
        // SAFETY: `atexit` is the C library's, called with a function that never unwinds.
        unsafe {
            atexit(at_process_exit);
        }
    });
}

extern "C" fn at_process_exit() {
    // Never unwind into C.
    let status = std::panic::catch_unwind(|| {
        with_thread(|t| {
            let _in_checker = t.enter();
            let unreported = process_exit_report();
            if STOPPED_FOR_HANG.load(Relaxed) {
                return watchdog_status();
            }
            checker_off_status().or_else(|| violation_status(unreported))
        })
    });
    #[cfg(unix)]
    if let Ok(Some(status)) = status {
        extern "C" {
            fn _exit(status: std::os::raw::c_int) -> !;
        }
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // SAFETY: `_exit` ends the process at once; the program's own exit work is done (the
        // runtime flushed its output before the C library ran the exit handlers), and the
        // handlers registered before this one are skipped, as a sanitizer's exit code does.
        unsafe { _exit(status) }
    }
    #[cfg(not(unix))]
    let _ = status;
}

/// The exit status of a process that ends with violations recorded and not taken, unless
/// `LOCKDEP_EXIT_CODE` says otherwise (`0`: keep the program's own status). ThreadSanitizer's
/// 66: a test run that found a possible deadlock fails without anyone writing an assert.
const VIOLATION_EXIT_CODE: i32 = 66;

/// The exit status of a process in which a bookkeeping fault turned checking off, unless
/// `LOCKDEP_FAULT_EXIT_CODE` says otherwise (`0`: keep the program's own status).
const FAULT_EXIT_CODE: i32 = 67;

/// `var`'s exit status: its value if it is set to an integer, else `default`; `None` for `0`.
fn exit_code(var: &str, default: i32) -> Option<i32> {
    let code = std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default);
    (code != 0).then_some(code)
}

/// The exit status that makes a run with `unreported` violations (recorded, not taken) fail.
fn violation_status(unreported: usize) -> Option<i32> {
    if unreported == 0 {
        return None;
    }
    let code = exit_code("LOCKDEP_EXIT_CODE", VIOLATION_EXIT_CODE)?;
    let s = if unreported == 1 { "" } else { "s" };
    eprintln!(
        "lockdep: {unreported} violation{s} recorded and not taken: exit status {code} \
         (LOCKDEP_EXIT_CODE=0 keeps the program's own)"
    );
    Some(code)
}

/// The watchdog's default exit status: sanitizers use 66 (violations) and 67 (faults) here.
const WATCHDOG_EXIT_CODE: i32 = 68;

/// Set once the watchdog has stopped the process: its exit status is the watchdog's.
static STOPPED_FOR_HANG: AtomicBool = AtomicBool::new(false);

/// Ends the process the watchdog found hung (its hang recorded): the exit report runs at
/// exit (prints, writes the report file) and makes the status the watchdog's.
pub(crate) fn stop_for_hang() -> ! {
    STOPPED_FOR_HANG.store(true, Relaxed);
    std::process::exit(exit_code("LOCKDEP_WATCHDOG_EXIT_CODE", WATCHDOG_EXIT_CODE).unwrap_or(0))
}

/// The exit status of a process the watchdog stopped: `LOCKDEP_WATCHDOG_EXIT_CODE`, else 68
/// (`LOCKDEP_EXIT_CODE` does not silence it: a hang is not a possible deadlock but a real one).
fn watchdog_status() -> Option<i32> {
    let code = exit_code("LOCKDEP_WATCHDOG_EXIT_CODE", WATCHDOG_EXIT_CODE)?;
    eprintln!("lockdep: the watchdog stopped the process: exit status {code}");
    Some(code)
}

/// Says so when a fault turned checking off, and the exit status that makes a CI run see
/// it: a run that was not checked must not pass as a checked one.
fn checker_off_status() -> Option<i32> {
    if !crate::mode::faulted() {
        return None;
    }
    eprintln!(
        "lockdep: checking was turned off by the fault reported above: the rest of this run \
         was not checked"
    );
    let code = exit_code("LOCKDEP_FAULT_EXIT_CODE", FAULT_EXIT_CODE)?;
    eprintln!("lockdep: exit status {code} (LOCKDEP_FAULT_EXIT_CODE=0 keeps the program's own)");
    Some(code)
}

/// Prints the recorded violations (and what the suppression file suppressed) and writes the
/// report file; returns how many violations were recorded and not taken.
fn process_exit_report() -> usize {
    count_one_thread_first_holds();
    #[cfg(feature = "send_guard")]
    for (thread, leaked) in orphans::remaining() {
        store::record(held_at_exit(thread, leaked));
    }
    let pending = store::pending();
    let stat = super::stat::snapshot();
    let exit_report = exit_report();
    if exit_report == ExitReport::Stderr && !pending.is_empty() {
        eprintln!("{}", report::full(&pending));
    }
    if exit_report != ExitReport::File {
        if !stat.is_empty() {
            eprint!("{stat}");
        }
        if let Some(summary) = store::suppression_summary() {
            eprint!("{summary}");
        }
    }
    let mut written = None;
    if let Some(dir) = std::env::var_os("LOCKDEP_REPORT_DIR") {
        // Suppressed violations too: a merge applies its own suppression file to them.
        let mut recorded = pending.clone();
        recorded.extend(store::suppressed());
        // A merger needs the graphs of clean processes too; a process that never took a
        // lock has nothing to add (the `ALLOC` node is in every graph).
        let anything = !recorded.is_empty()
            || (1..=registry::count()).any(|c| registry::info(c).kind != NodeKind::Alloc);
        if anything {
            written = write_json_report(std::path::Path::new(&dir), &recorded, &stat);
        }
    }
    if exit_report == ExitReport::Summary && !pending.is_empty() {
        say_where_the_report_went(pending.len(), written.as_deref());
    }
    pending.len()
}

/// The dependencies still held back in locks' first holds whose held class one thread alone
/// took count at exit (`book/src/rules.md`): the graph, and the report file a merge reads, are
/// then the kernel's for them. None closes a cycle: one that would have was counted when it
/// would have closed it (after every new dependency, `validate::one_thread_cycles`).
fn count_one_thread_first_holds() {
    let mut graph = graph::lock();
    for d in first_hold::alone_at_exit() {
        let _ = graph.add_held_back(&d);
    }
}

/// `LOCKDEP_EXIT_REPORT=summary`'s one line, in place of the report: how many violations, and
/// where to read them (a suite that plants violations on purpose, and checks each itself,
/// says so without printing every report at every test binary's exit).
fn say_where_the_report_went(pending: usize, file: Option<&Path>) {
    let s = if pending == 1 { "" } else { "s" };
    match file {
        Some(file) => eprintln!(
            "lockdep: {pending} violation{s} recorded and not taken, not printed \
             (LOCKDEP_EXIT_REPORT=summary): the report is in {}",
            file.display()
        ),
        None => eprintln!(
            "lockdep: {pending} violation{s} recorded and not taken, not printed \
             (LOCKDEP_EXIT_REPORT=summary; LOCKDEP_EXIT_REPORT=stderr prints them, \
             LOCKDEP_REPORT_DIR=<dir> writes them to a file)"
        ),
    }
}

/// What is printed at exit (`LOCKDEP_EXIT_REPORT`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExitReport {
    /// The report of every violation recorded and not taken (the default).
    Stderr,
    /// Nothing: the report file has it (`cargo lockdep`, whose merge prints every violation
    /// of the report files once).
    File,
    /// One line: how many, and where the report went (this repository's own tests, which
    /// plant violations by the hundred).
    Summary,
}

fn exit_report() -> ExitReport {
    match std::env::var("LOCKDEP_EXIT_REPORT").as_deref() {
        Ok("file") => ExitReport::File,
        Ok("summary") => ExitReport::Summary,
        _ => ExitReport::Stderr,
    }
}

/// Writes the report file (who wrote it, the graph, `pending`, lock_stat's `stat`) into `dir`,
/// atomically: a merger reading the directory sees whole files or none; its path. Warns,
/// never fails.
fn write_json_report(
    dir: &Path,
    pending: &[Arc<ViolationData>],
    stat: &LockStat,
) -> Option<PathBuf> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let pid = std::process::id();
    let writer = export::Writer {
        binary: std::env::current_exe()
            .ok()
            .map(|p| p.display().to_string())
            .or_else(|| std::env::args().next()),
        test: test_name(),
        pid,
        time: now.as_secs(),
    };
    let image = symbols_at_merge().then(Image::of_process).flatten();
    let symbols = image.as_ref().map_or(Symbols::Resolved, Symbols::Addresses);
    let json = export::report_json(&writer, symbols, pending, stat);
    // The nanoseconds keep a name unique when a later run reuses the pid.
    let name = format!("lockdep-{pid}-{}.json", now.as_nanos());
    match write_atomically(dir, &name, json.as_bytes()) {
        Ok(()) => Some(dir.join(name)),
        Err((path, e)) => {
            eprintln!(
                "lockdep: cannot write the report to LOCKDEP_REPORT_DIR ({}): {e}",
                path.display()
            );
            None
        }
    }
}

/// Whether `LOCKDEP_REPORT_SYMBOLS` says `merge`: the report file's traces are written as
/// addresses in the test binary, for `cargo lockdep` to resolve after the run, which is only
/// possible where the binary is (`cargo lockdep test` and `nextest` set it). `process`, the
/// default, resolves them here: a file that can be merged on another machine. Resolving costs
/// a process tens of milliseconds, reading the binary's debug information.
fn symbols_at_merge() -> bool {
    // Another value is `process` (`crate::env` said so when the checker started).
    std::env::var("LOCKDEP_REPORT_SYMBOLS").as_deref() == Ok("merge")
}

/// Writes `dir/name` by way of a hidden temporary file in `dir` (a rename is atomic only
/// within one file system), which is removed if anything fails. The error names the path
/// it is about.
fn write_atomically(
    dir: &Path,
    name: &str,
    contents: &[u8],
) -> Result<(), (PathBuf, std::io::Error)> {
    let path = dir.join(name);
    // Hidden, and not `*.json`: a merger globbing `lockdep-*.json` never reads it.
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::create_dir_all(dir).map_err(|e| (dir.to_owned(), e))?;
    // Not synced to disk: the rename alone makes readers see the whole file or none, and a
    // report need not outlive a crash of the machine. A sync cost 12 ms a process here, and
    // a suite of many test binaries writes a file per process.
    let written = (|| std::fs::File::create(&tmp)?.write_all(contents))();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err((tmp, e));
    }
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        (path, e)
    })
}

/// The test this process ran, when it can tell: `NEXTEST_TEST_NAME` (nextest runs each test
/// in a process of its own), else the one test a libtest harness was told to run exactly
/// (`--exact NAME`, as nextest and `cargo lockdep` do), else the current thread's name if it
/// is not `main` (libtest names a test's thread after the test).
fn test_name() -> Option<String> {
    if let Some(name) = std::env::var_os("NEXTEST_TEST_NAME") {
        return Some(name.to_string_lossy().into_owned());
    }
    if let Some(name) = exact_test(std::env::args().skip(1)) {
        return Some(name);
    }
    std::thread::current()
        .name()
        .filter(|&n| n != "main")
        .map(str::to_owned)
}

/// The filter of a libtest command line that runs exactly one test: `--exact` and one
/// filter argument.
fn exact_test(mut args: impl Iterator<Item = String>) -> Option<String> {
    // libtest's options that take their value as the next argument.
    const WITH_VALUE: [&str; 7] = [
        "--test-threads",
        "--skip",
        "--logfile",
        "--format",
        "--color",
        "--shuffle-seed",
        "-Z",
    ];
    let mut exact = false;
    let mut filters = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--exact" {
            exact = true;
        } else if arg == "--" {
            filters.extend(args.by_ref());
        } else if WITH_VALUE.contains(&arg.as_str()) {
            args.next();
        } else if !arg.starts_with('-') {
            filters.push(arg);
        }
    }
    match (exact, filters.as_slice()) {
        (true, [one]) => Some(one.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::checker::exit::exact_test;

    fn exact(args: &[&str]) -> Option<String> {
        exact_test(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn one_exact_filter_names_the_test() {
        assert_eq!(
            exact(&["--exact", "m::t", "--nocapture", "--test-threads=1"]),
            Some("m::t".to_owned())
        );
        assert_eq!(
            exact(&["--test-threads", "1", "m::t", "--exact"]),
            Some("m::t".to_owned())
        );
        assert_eq!(exact(&["--exact", "--", "t"]), Some("t".to_owned()));
    }

    #[test]
    fn anything_else_names_no_test() {
        assert_eq!(exact(&["m::t"]), None);
        assert_eq!(exact(&["--exact"]), None);
        assert_eq!(exact(&["--exact", "a", "b"]), None);
        assert_eq!(exact(&["--exact", "--skip", "a"]), None);
        assert_eq!(exact(&[]), None);
    }
}
