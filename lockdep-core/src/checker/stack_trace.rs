//! Stack traces saved with each new dependency, captured unresolved (instruction pointers
//! only) and resolved to symbols only when a report is printed.

use std::sync::Arc;

use lockdep_report::{Frame, Site};

use super::unwind;

/// Frames kept per trace: the checker's own frames, an allocator's and the standard library's
/// come first and can be twenty or more, and the user's caller's caller must still be there.
const MAX_FRAMES: usize = 64;

/// An unresolved stack trace, shared by every edge recorded at one acquisition.
#[derive(Clone, Default)]
pub(crate) struct StackTrace(Option<Arc<[usize]>>);

impl StackTrace {
    /// Captures the current stack (instruction pointers only).
    ///
    /// Walked by [`unwind::trace`], which remembers each return address's unwind rule, or by
    /// the system unwinder when that walker does not take a frame: the same frames either way.
    pub(crate) fn capture() -> StackTrace {
        let mut ips = Vec::with_capacity(MAX_FRAMES);
        if !unwind::trace(&mut ips, MAX_FRAMES) {
            ips.clear();
            backtrace::trace(|frame| {
                ips.push(frame.ip() as usize);
                ips.len() < MAX_FRAMES
            });
        }
        StackTrace(Some(ips.into()))
    }

    /// Whether this thread is running its thread-local destructors, where a panic aborts the
    /// process. Nothing but the stack tells; walked and resolved in full, so only for the rare
    /// decision to panic.
    pub(crate) fn in_thread_local_destructor() -> bool {
        let mut found = false;
        backtrace::trace(|frame| {
            backtrace::resolve_frame(frame, |symbol| {
                if let Some(name) = symbol.name() {
                    found |= is_thread_local_destructor(&format!("{name:#}"));
                }
            });
            !found
        });
        found
    }

    /// Bytes of heap this trace holds (for the memory benchmark).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, |ips| ips.len() * std::mem::size_of::<usize>() + 16)
    }

    /// The captured return addresses, innermost first (none for the empty trace): equal for
    /// two captures of one call path.
    pub(crate) fn ips(&self) -> &[usize] {
        self.0.as_deref().unwrap_or(&[])
    }

    /// Resolved frames, with the checker's own frames and the runtime's start-up frames cut.
    pub(crate) fn frames(&self) -> Vec<Frame> {
        lockdep_report::shown(self.lookup_addresses(), symbols::resolved)
    }

    /// The addresses to resolve, innermost first: a return address points after its call, so
    /// every frame but the innermost is looked up one byte back, inside the call.
    pub(crate) fn lookup_addresses(&self) -> impl Iterator<Item = usize> + '_ {
        self.ips()
            .iter()
            .enumerate()
            .map(|(i, &ip)| if i == 0 { ip } else { ip.saturating_sub(1) })
    }

    /// Where the first frame of the user's code is (outside the checker, the standard
    /// library, `lock_api`, `parking_lot_core` and the allocator), if the trace has one.
    pub(crate) fn user_site(&self) -> Option<Site> {
        self.frames()
            .into_iter()
            .find(|f| lockdep_report::is_user(&f.function, f.file()))
            .and_then(|f| f.site)
    }
}

/// A frame of the runtime's thread-local destructor machinery: glibc's `__call_tls_dtors`,
/// the standard library's destructor list and key guards (`std::sys::thread_local::…`),
/// and macOS's `_tlv_exit`.
fn is_thread_local_destructor(name: &str) -> bool {
    name.contains("__call_tls_dtors")
        || name.contains("_tlv_exit")
        || (name.contains("thread_local")
            && (name.contains("destructors") || name.contains("destroy") || name.contains("guard")))
}

/// Symbols of the addresses resolved so far, kept for the process: the traces of a report
/// file (every dependency's) go through the same few code paths, and resolving an address
/// (the debug information's line tables and inlined calls) is the slow part of writing one.
mod symbols {
    use std::borrow::Cow;
    use std::collections::HashMap;
    use std::ffi::c_void;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    use once_cell::sync::Lazy;

    use lockdep_report::{Frame, Site};

    use crate::checker::fast_hash::FastHash;
    use crate::checker::types::lock;

    /// The frames of each address resolved, by address.
    type Resolved = HashMap<usize, Arc<[Frame]>, FastHash>;

    static RESOLVED: Lazy<Mutex<Resolved>> = Lazy::new(Default::default);

    /// Where the process names its sources from (`lockdep_report::source_root` of the
    /// directory it started in), found once: the same for every frame.
    fn source_root() -> Option<&'static Path> {
        static ROOT: Lazy<Option<PathBuf>> = Lazy::new(|| {
            let cwd = std::env::current_dir().ok()?;
            Some(lockdep_report::source_root(&cwd).to_path_buf())
        });
        ROOT.as_deref()
    }

    /// The frames of the code at `addr`: the function, and the functions inlined into it at
    /// that point, innermost first (a frame without a name is named by its address).
    pub(super) fn resolved(addr: usize) -> Arc<[Frame]> {
        if let Some(frames) = lock(&RESOLVED).get(&addr) {
            return frames.clone();
        }
        // Resolved without the table's lock held: it takes `backtrace`'s own, and long.
        let mut frames = Vec::new();
        backtrace::resolve(addr as *mut c_void, |symbol| {
            let function = symbol
                .name()
                .map(|n| format!("{n:#}"))
                .unwrap_or_else(|| format!("{addr:#x}"));
            let site = match (symbol.filename(), symbol.lineno()) {
                (Some(file), Some(line)) => Some(Site {
                    file: Cow::Owned(lockdep_report::short_path(file, source_root())),
                    line,
                    column: symbol.colno(),
                }),
                _ => None,
            };
            frames.push(Frame { function, site });
        });
        let frames: Arc<[Frame]> = frames.into();
        lock(&RESOLVED).insert(addr, frames.clone());
        frames
    }
}
