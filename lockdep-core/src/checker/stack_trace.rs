//! Stack traces saved with each new dependency, captured unresolved (instruction pointers
//! only) and resolved to symbols only when a report is printed.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::unwind;

/// Frames kept per trace: the checker's own frames, an allocator's and the standard library's
/// come first and can be twenty or more, and the user's caller's caller must still be there.
const MAX_FRAMES: usize = 64;
/// Frames printed per trace.
const MAX_PRINTED: usize = 14;

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
        let Some(ips) = &self.0 else {
            return Vec::new();
        };
        let mut frames = Vec::new();
        // Resolved in order up to the runtime's start-up frames, which are cut: what lies
        // below them (the thread's start in the C library) is never shown, and resolving it
        // can mean loading and decompressing the C library's separate debug file.
        'resolve: for (i, &ip) in ips.iter().enumerate() {
            // A return address points after the call; step back into it.
            let addr = if i == 0 { ip } else { ip.saturating_sub(1) };
            for frame in symbols::resolved(addr, ip).iter() {
                if is_runtime_start(&frame.name) {
                    break 'resolve;
                }
                frames.push(frame.clone());
            }
        }
        let start = user_start(&frames);
        let mut frames: Vec<Frame> = frames.split_off(start.min(frames.len()));
        // The standard library's frames below the program's own (thread start, closure shims).
        while frames.len() > 1 && frames.last().is_some_and(|f| is_std(&f.name)) {
            frames.pop();
        }
        frames
    }

    /// Where the first frame of the user's code is (outside the checker, the standard
    /// library, `lock_api`, `parking_lot_core` and the allocator), if the trace has one.
    pub(crate) fn user_site(&self) -> Option<SourceSite> {
        self.frames()
            .into_iter()
            .find(|f| is_user(&f.name))
            .and_then(|f| f.location)
    }

    /// The trace as the kernel prints it: one indented frame per line.
    pub(crate) fn render(&self, out: &mut impl fmt::Write) -> fmt::Result {
        let frames = self.frames();
        if frames.is_empty() {
            return out.write_str("       (no stack trace)\n");
        }
        for frame in frames.iter().take(MAX_PRINTED) {
            match &frame.location {
                Some(loc) => writeln!(out, "       {} {}", frame.name, loc)?,
                None => writeln!(out, "       {}", frame.name)?,
            }
        }
        if frames.len() > MAX_PRINTED {
            writeln!(out, "       ...")?;
        }
        Ok(())
    }
}

/// One resolved frame.
#[derive(Clone)]
pub(crate) struct Frame {
    pub(crate) name: String,
    pub(crate) location: Option<SourceSite>,
}

/// A position in the source as reports show it: `file:line:column` (`file:line` when the
/// debug information has no column). Paths are shortened for people: workspace files
/// relative, registry crates as `name-1.2.3/src/file.rs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SourceSite {
    pub(crate) file: Cow<'static, str>,
    pub(crate) line: u32,
    pub(crate) column: Option<u32>,
}

impl fmt::Display for SourceSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        match self.column {
            Some(column) => write!(f, ":{column}"),
            None => Ok(()),
        }
    }
}

/// Where the printed trace starts: at the first frame of the user's code, with the standard
/// library's frames right above it (e.g. `Vec::push` growing into the allocator); the
/// checker's frames and those it runs through (thread-locals, closures, the allocator shim,
/// `lock_api`) above that are cut. Without a user frame, after the checker's last frame.
fn user_start(frames: &[Frame]) -> usize {
    match frames.iter().position(|f| is_user(&f.name)) {
        Some(mut start) => {
            while start > 0 && is_std(&frames[start - 1].name) {
                start -= 1;
            }
            start
        }
        None => frames
            .iter()
            .rposition(|f| is_checker_frame(&f.name))
            .map_or(0, |i| i + 1),
    }
}

/// A frame of the checker itself or of what it is built on.
fn is_checker_frame(name: &str) -> bool {
    let name = name.trim_start_matches('<');
    [
        "backtrace::",
        "lockdep_core::",
        "lockdep_mempool::",
        "lockdep_raw::",
        "lock_api::",
        "parking_lot_core::",
        "__rustc::",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// A frame of the program under test.
fn is_user(name: &str) -> bool {
    !is_checker_frame(name) && !is_std(name) && !name.starts_with("0x")
}

fn is_runtime_start(name: &str) -> bool {
    name.contains("__rust_begin_short_backtrace") || name.starts_with("std::rt::lang_start")
}

fn is_std(name: &str) -> bool {
    [
        "core::", "std::", "<core::", "<std::", "alloc::", "<alloc::",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// Paths relative to the working directory, and the standard library's without its
/// `/rustc/<hash>/` prefix.
fn short_path(path: &std::path::Path) -> String {
    if let Ok(cwd) = std::env::current_dir() {
        if let Ok(rel) = path.strip_prefix(&cwd) {
            return rel.display().to_string();
        }
    }
    let s = path.display().to_string();
    match s.find("/library/") {
        Some(i) if s.starts_with("/rustc/") => s[i + 1..].to_owned(),
        _ => s,
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
    use std::sync::{Arc, Mutex};

    use once_cell::sync::Lazy;

    use super::{short_path, Frame, SourceSite};
    use crate::checker::fast_hash::FastHash;
    use crate::checker::types::lock;

    /// The frames of each address resolved, by address.
    type Resolved = HashMap<usize, Arc<[Frame]>, FastHash>;

    static RESOLVED: Lazy<Mutex<Resolved>> = Lazy::new(Default::default);

    /// The frames of the code at `addr`: the function, and the functions inlined into it at
    /// that point, innermost first (a frame without a name is named by `ip`, the address as
    /// captured).
    pub(super) fn resolved(addr: usize, ip: usize) -> Arc<[Frame]> {
        if let Some(frames) = lock(&RESOLVED).get(&addr) {
            return frames.clone();
        }
        // Resolved without the table's lock held: it takes `backtrace`'s own, and long.
        let mut frames = Vec::new();
        backtrace::resolve(addr as *mut c_void, |symbol| {
            let name = symbol
                .name()
                .map(|n| format!("{n:#}"))
                .unwrap_or_else(|| format!("{ip:#x}"));
            let location = match (symbol.filename(), symbol.lineno()) {
                (Some(file), Some(line)) => Some(SourceSite {
                    file: Cow::Owned(short_path(file)),
                    line,
                    column: symbol.colno(),
                }),
                _ => None,
            };
            frames.push(Frame { name, location });
        });
        let frames: Arc<[Frame]> = frames.into();
        lock(&RESOLVED).insert(addr, frames.clone());
        frames
    }
}
