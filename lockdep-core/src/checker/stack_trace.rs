//! Stack traces saved with each new dependency, captured unresolved (instruction pointers
//! only) and resolved to symbols only when a report is printed.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::unwind;
use crate::frames;

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
        frames::shown(self.lookup_addresses(), symbols::resolved, |f| {
            (&f.name, f.file())
        })
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
    pub(crate) fn user_site(&self) -> Option<SourceSite> {
        self.frames()
            .into_iter()
            .find(|f| frames::is_user(&f.name, f.file()))
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

impl Frame {
    fn file(&self) -> Option<&str> {
        self.location.as_ref().map(|l| &*l.file)
    }
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

    use super::{Frame, SourceSite};
    use crate::checker::fast_hash::FastHash;
    use crate::checker::types::lock;
    use crate::frames;

    /// The frames of each address resolved, by address.
    type Resolved = HashMap<usize, Arc<[Frame]>, FastHash>;

    static RESOLVED: Lazy<Mutex<Resolved>> = Lazy::new(Default::default);

    /// The frames of the code at `addr`: the function, and the functions inlined into it at
    /// that point, innermost first (a frame without a name is named by its address).
    pub(super) fn resolved(addr: usize) -> Arc<[Frame]> {
        if let Some(frames) = lock(&RESOLVED).get(&addr) {
            return frames.clone();
        }
        // Resolved without the table's lock held: it takes `backtrace`'s own, and long.
        let mut frames = Vec::new();
        backtrace::resolve(addr as *mut c_void, |symbol| {
            let name = symbol
                .name()
                .map(|n| format!("{n:#}"))
                .unwrap_or_else(|| format!("{addr:#x}"));
            let location = match (symbol.filename(), symbol.lineno()) {
                (Some(file), Some(line)) => Some(SourceSite {
                    file: Cow::Owned(frames::short_path(
                        file,
                        std::env::current_dir().ok().as_deref(),
                    )),
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
