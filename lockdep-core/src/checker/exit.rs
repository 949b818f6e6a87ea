//! What happens when threads and the process exit: locks held at thread exit are reported;
//! at process exit the recorded violations are printed and, with `LOCKDEP_REPORT_DIR`,
//! written as JSON.

use std::sync::Once;

use super::export;
use super::held::{with_thread, ThreadState};
use super::registry;
use super::report;
use super::stack_trace::StackTrace;
use super::store;
use super::types::{current_thread_name, NodeKind};
use super::violation::{Detail, LockDesc, ViolationData};
use crate::ViolationKind;

/// Runs when a thread that has held something exits.
struct ThreadExitHook {
    thread: String,
}

thread_local! {
    static EXIT_HOOK: ThreadExitHook = ThreadExitHook { thread: current_thread_name() };
}

/// Registers this thread's exit hook (once per thread), and the process's exit report: the
/// first hold of a thread is where a report may start to have something to say.
#[cold]
pub(crate) fn register_thread_exit_hook(t: &ThreadState) {
    let _in_checker = t.enter();
    t.exit_hook.set(true);
    register_process_exit_report();
    // Fails only during TLS teardown, when there is nothing left to report anyway.
    let _ = EXIT_HOOK.try_with(|_| ());
}

impl Drop for ThreadExitHook {
    fn drop(&mut self) {
        with_thread(|t| {
            let _in_checker = t.enter();
            let leaked: Vec<LockDesc> = t
                .snapshot()
                .iter()
                .filter(|h| registry::info(h.class).kind == NodeKind::Lock)
                .map(LockDesc::from)
                .collect();
            // Pool elements still held were moved elsewhere: that is normal, not a leak.
            t.clear();
            t.pool_entries.set(0);
            if let Some(inbox) = t.inbox.take() {
                inbox.close();
            }
            if !leaked.is_empty() && crate::mode::is_checking() {
                store::record(ViolationData::on_thread(
                    std::mem::take(&mut self.thread),
                    ViolationKind::LockHeldAtExit,
                    Detail::HeldAtExit,
                    leaked,
                    StackTrace::default(),
                ));
            }
        });
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
    let _ = std::panic::catch_unwind(|| {
        with_thread(|t| {
            let _in_checker = t.enter();
            process_exit_report();
        })
    });
}

fn process_exit_report() {
    let pending = store::pending();
    if !pending.is_empty() {
        eprintln!("{}", report::full(&pending));
    }
    if let Some(dir) = std::env::var_os("LOCKDEP_REPORT_DIR") {
        write_json_report(std::path::Path::new(&dir), &pending);
    }
}

/// Writes `lockdep-<pid>.json` (violations and graph) into `dir`; warns, never fails.
fn write_json_report(dir: &std::path::Path, pending: &[std::sync::Arc<ViolationData>]) {
    let mut json = format!("{{\"pid\":{},\"violations\":[", std::process::id());
    for (i, v) in pending.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&export::violation_json(v));
    }
    json.push_str("],\"graph\":");
    json.push_str(&export::graph_json());
    json.push_str("}\n");
    let path = dir.join(format!("lockdep-{}.json", std::process::id()));
    let result = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, json));
    if let Err(e) = result {
        eprintln!(
            "lockdep: cannot write the report to LOCKDEP_REPORT_DIR ({}): {e}",
            path.display()
        );
    }
}
