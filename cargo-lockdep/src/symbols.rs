//! Stack traces that processes wrote as addresses in their test binary
//! (`LOCKDEP_REPORT_SYMBOLS=merge`, as `cargo lockdep test` and `nextest` run them), resolved
//! here by the rules the processes resolve by ([`shown`], [`short_path`]): each binary's
//! debug information is read once, and only for the traces a report shows, so that a test
//! process does not spend tens of milliseconds at its exit resolving traces no one reads.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use addr2line::Loader;
use lockdep_core::__merge::{short_path, shown};

use crate::input::{Frame, Image, Site};

/// A binary's debug information and the addresses resolved in it so far.
struct Binary {
    /// The debug information, or why it cannot be read.
    loader: Result<Loader, String>,
    resolved: HashMap<u64, Rc<[Frame<'static>]>>,
}

thread_local! {
    /// Every binary asked about, by path: the merge reports from one thread.
    static BINARIES: RefCell<HashMap<PathBuf, Binary>> = RefCell::default();
}

/// The frames a report shows of the trace `addresses` in `image`: innermost first, from the
/// user's code down to the runtime's start, as in-process traces are. A trace that cannot be
/// resolved (the binary was deleted or rebuilt since the run) is one frame saying why; the
/// first such failure of a binary is also printed.
pub fn resolve(image: &Image, addresses: &[u64]) -> Vec<Frame<'static>> {
    BINARIES.with(|binaries| {
        let mut binaries = binaries.borrow_mut();
        let binary = binaries
            .entry(PathBuf::from(&image.path))
            .or_insert_with(|| Binary::open(image));
        let loader = match &binary.loader {
            Ok(loader) => loader,
            Err(why) => {
                return vec![Frame {
                    function: Cow::Owned(format!("(stack trace not resolved: {why})")),
                    site: None,
                }]
            }
        };
        let cwd = std::env::current_dir().ok();
        shown(
            addresses,
            |&address| {
                binary
                    .resolved
                    .entry(address)
                    .or_insert_with(|| frames_at(loader, address, cwd.as_deref()))
                    .clone()
            },
            |f| (&f.function, f.file()),
        )
    })
}

impl Binary {
    fn open(image: &Image) -> Binary {
        let loader = check_unchanged(image).and_then(|()| {
            Loader::new(&image.path).map_err(|e| format!("cannot read {}: {e}", image.path))
        });
        if let Err(why) = &loader {
            eprintln!(
                "cargo-lockdep: the stack traces of {} are not resolved: {why}",
                image.path
            );
        }
        Binary {
            loader,
            resolved: HashMap::new(),
        }
    }
}

/// Whether the file at `image.path` is still the one the process ran: the same size and
/// modification time.
fn check_unchanged(image: &Image) -> Result<(), String> {
    let meta =
        std::fs::metadata(&image.path).map_err(|e| format!("{} is gone ({e})", image.path))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    if meta.len() != image.size || modified != Some(image.modified) {
        return Err(format!(
            "{} was rebuilt since the tests ran (run them again, or with \
             LOCKDEP_REPORT_SYMBOLS=process to resolve traces in the processes)",
            image.path
        ));
    }
    Ok(())
}

/// The function at `address` and those inlined into it there, innermost first; named by the
/// symbol table, or by the address, where the debug information has no name.
fn frames_at(loader: &Loader, address: u64, cwd: Option<&Path>) -> Rc<[Frame<'static>]> {
    let mut frames = Vec::new();
    if let Ok(mut iter) = loader.find_frames(address) {
        while let Ok(Some(frame)) = iter.next() {
            let function = frame
                .function
                .as_ref()
                .and_then(|name| name.demangle().ok())
                .map(Cow::into_owned);
            let site = frame.location.as_ref().and_then(|loc| {
                Some(Site {
                    file: Cow::Owned(short_path(Path::new(loc.file?), cwd)),
                    line: u64::from(loc.line?),
                    column: loc.column.map(u64::from),
                })
            });
            frames.push((function, site));
        }
    }
    if frames.is_empty() {
        frames.push((None, None));
    }
    let symbol = || {
        loader
            .find_symbol(address)
            .map(|name| addr2line::demangle_auto(Cow::Borrowed(name), None).into_owned())
    };
    frames
        .into_iter()
        .map(|(function, site)| Frame {
            function: Cow::Owned(
                function
                    .or_else(symbol)
                    .unwrap_or_else(|| format!("{address:#x}")),
            ),
            site,
        })
        .collect()
}
