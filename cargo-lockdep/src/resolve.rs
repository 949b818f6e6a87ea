//! Stage 4 of the pipeline: the stack traces that reports show, resolved.
//!
//! A process writes its traces either resolved (frames) or as addresses in its test binary
//! (`LOCKDEP_REPORT_SYMBOLS=merge`, as `cargo lockdep test` and `nextest` run them); the
//! latter are resolved here by the rules the processes resolve by ([`shown`],
//! [`short_path`]): each binary's debug information is read once, and only for the
//! dependencies on a reported cycle, so that a test process does not spend tens of
//! milliseconds at its exit resolving traces no one reads, nor the merge a minute on a graph
//! of a million dependencies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use addr2line::Loader;
use lockdep_report::{is_user, short_path, shown, source_root, Frame, Site};

use crate::merge::{Merged, Trace};
use crate::parse::{self, Image};

/// The resolved traces of the dependencies on the merge's cycles.
pub(crate) struct Shown {
    /// By edge index: its frames and its site (an allocation's, which only its trace tells,
    /// found in them).
    traces: HashMap<usize, (Vec<Frame>, Option<Site>)>,
}

impl Shown {
    /// Resolves the traces of every dependency on a cycle of `merged`.
    pub(crate) fn of(merged: &Merged) -> Shown {
        let mut resolver = Resolver::new();
        let mut traces = HashMap::new();
        for cycle in &merged.cycles {
            for &e in &cycle.ring {
                traces.entry(e).or_insert_with(|| {
                    let edge = &merged.edges[e];
                    let frames = resolver.frames(&edge.trace);
                    let site = edge.site.clone().or_else(|| match edge.trace {
                        // A process that resolved its traces wrote an allocation's site too.
                        Trace::Frames(_) => None,
                        Trace::Addresses { .. } => frames
                            .iter()
                            .find(|f| is_user(&f.function, f.file()))
                            .and_then(|f| f.site.clone()),
                    });
                    (frames, site)
                });
            }
        }
        Shown { traces }
    }

    /// Whether dependency `edge`'s trace was resolved (it is on a reported cycle).
    pub(crate) fn has(&self, edge: usize) -> bool {
        self.traces.contains_key(&edge)
    }

    /// The frames of dependency `edge`, innermost first (none unless it is on a cycle).
    pub(crate) fn frames(&self, edge: usize) -> &[Frame] {
        self.traces.get(&edge).map_or(&[], |(frames, _)| frames)
    }

    /// Where dependency `edge` was acquired: its site, or for an allocation the first frame
    /// of the user's code in its trace (`None` when it has none, or is on no cycle).
    pub(crate) fn site(&self, edge: usize) -> Option<&Site> {
        self.traces.get(&edge).and_then(|(_, site)| site.as_ref())
    }
}

/// A binary's debug information and the addresses resolved in it so far.
struct Binary {
    /// The debug information, or why it cannot be read.
    loader: Result<Loader, String>,
    resolved: HashMap<u64, Rc<[Frame]>>,
}

/// Every binary asked about, by path.
struct Resolver {
    binaries: HashMap<PathBuf, Binary>,
    /// Where source paths are named from (`source_root` of the working directory), found
    /// once for the whole merge.
    root: Option<PathBuf>,
}

impl Resolver {
    fn new() -> Resolver {
        Resolver {
            binaries: HashMap::new(),
            root: std::env::current_dir()
                .ok()
                .map(|cwd| source_root(&cwd).to_path_buf()),
        }
    }

    /// The frames a report shows of `trace`.
    fn frames(&mut self, trace: &Trace) -> Vec<Frame> {
        match trace {
            Trace::Frames(raw) => serde_json::from_str::<Vec<parse::Frame<'_>>>(raw.get())
                .map(|frames| frames.iter().map(parse::Frame::to_model).collect())
                .unwrap_or_default(),
            Trace::Addresses {
                image: Some(image),
                addresses: Some(addresses),
            } => self.resolve(
                image,
                &serde_json::from_str::<Vec<u64>>(addresses.get()).unwrap_or_default(),
            ),
            Trace::Addresses { .. } => Vec::new(),
        }
    }

    /// The frames a report shows of the trace `addresses` in `image`: innermost first, from
    /// the user's code down to the runtime's start, as in-process traces are. A trace that
    /// cannot be resolved (the binary was deleted or rebuilt since the run) is one frame
    /// saying why; the first such failure of a binary is also printed.
    fn resolve(&mut self, image: &Image, addresses: &[u64]) -> Vec<Frame> {
        let binary = self
            .binaries
            .entry(PathBuf::from(&image.path))
            .or_insert_with(|| Binary::open(image));
        let loader = match &binary.loader {
            Ok(loader) => loader,
            Err(why) => {
                return vec![Frame {
                    function: format!("(stack trace not resolved: {why})"),
                    site: None,
                }]
            }
        };
        let root = self.root.as_deref();
        shown(addresses, |&address| {
            binary
                .resolved
                .entry(address)
                .or_insert_with(|| frames_at(loader, address, root))
                .clone()
        })
    }
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
fn frames_at(loader: &Loader, address: u64, root: Option<&Path>) -> Rc<[Frame]> {
    let mut frames = Vec::new();
    if let Ok(mut iter) = loader.find_frames(address) {
        while let Ok(Some(frame)) = iter.next() {
            let function = frame
                .function
                .as_ref()
                .and_then(|name| name.demangle().ok())
                .map(|name| name.into_owned());
            let site = frame.location.as_ref().and_then(|loc| {
                Some(Site::new(
                    short_path(Path::new(loc.file?), root),
                    loc.line?,
                    loc.column,
                ))
            });
            frames.push((function, site));
        }
    }
    if frames.is_empty() {
        frames.push((None, None));
    }
    let symbol = || {
        loader.find_symbol(address).map(|name| {
            addr2line::demangle_auto(std::borrow::Cow::Borrowed(name), None).into_owned()
        })
    };
    frames
        .into_iter()
        .map(|(function, site)| Frame {
            function: function
                .or_else(symbol)
                .unwrap_or_else(|| format!("{address:#x}")),
            site,
        })
        .collect()
}
